#!/bin/bash
# SPDX-License-Identifier: MIT
# Comm state as data (buffer schema 4): phasor record against the simulator,
# unit 2 timing out from 2 s to 6 s (probed 1, 2, 4 s after its first timeout,
# +-20 %: back by about 10 s; recorded for 16). The buffer's comm_changes rows give m2
# unknown -> ok -> (stale ->) down -> ok -> unknown (the session's end) with
# the source's error in its own column, each change at the time of the
# operator's "status" event, and m1 unknown -> ok -> unknown.
. "$(dirname "$0")/lib.sh"

t_sim --meters 2 --seed 5 --fault timeout:2@2+4
db="$T/buffer.db"
{
	printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\n' "$SIM_PORT" "$u"
	done
} >"$T/phasor.ini"
"$PHASOR" record -c "$T/phasor.ini" --for 16 >"$T/record.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"

q() { t_sql "$db" "$1"; }
t_eq "schema version" 9 "$(q 'PRAGMA user_version')"
statuses() { # METER: its statuses in (t_us, seq) order, space separated
	q "SELECT group_concat(status, ' ') FROM (SELECT c.status FROM comm_changes c
	   JOIN meters m ON m.id = c.meter_id WHERE m.name = '$1' ORDER BY c.t_us, c.seq)"
}
s2=$(statuses m2)
[[ "$s2" =~ ^0\ 1\ (2\ )?3\ 1\ 0$ ]] ||
	t_fail "m2: statuses '$s2', expected unknown ok [stale] down ok unknown (0 1 [2] 3 1 0)"
t_ok "m2: statuses $s2"
t_eq "m1: statuses" "0 1 0" "$(statuses m1)"

# The session's first and last rows are at its start and end.
start=$(q "SELECT start_us FROM sessions")
end=$(q "SELECT end_us FROM sessions")
t_eq "rows at the session's start" 2 \
	"$(q "SELECT count(*) FROM comm_changes WHERE status = 0 AND t_us = $start")"
t_eq "rows at the session's end" 2 \
	"$(q "SELECT count(*) FROM comm_changes WHERE status = 0 AND t_us = $end")"

# The error is a column: a timeout on the down row, none on ok rows.
err=$(q "SELECT c.error FROM comm_changes c JOIN meters m ON m.id = c.meter_id
	WHERE m.name = 'm2' AND c.status = 3")
[[ "$err" == timeout* ]] || t_fail "m2 down row: error '$err', expected a timeout"
t_ok "m2 down: error '$err'"
t_eq "errors on ok/unknown rows" 0 \
	"$(q "SELECT count(*) FROM comm_changes WHERE status IN (0, 1) AND error IS NOT NULL")"

# Every change is the operator's "status" event, same meter and time, and
# the event says the same in words.
t_eq "changes without their event" 0 "$(q "SELECT count(*) FROM comm_changes c
	WHERE c.t_us NOT IN ($start, $end) AND NOT EXISTS (SELECT 1 FROM events e
	WHERE e.what = 'status' AND e.meter_id = c.meter_id AND e.t_us = c.t_us
	AND e.text LIKE '% -> ' || CASE c.status WHEN 0 THEN 'unknown' WHEN 1 THEN 'ok'
	WHEN 2 THEN 'stale' ELSE 'down' END || coalesce(': ' || c.error, ''))")"
t_eq "status events without their row" 0 "$(q "SELECT count(*) FROM events e
	WHERE e.what = 'status' AND NOT EXISTS (SELECT 1 FROM comm_changes c
	WHERE c.meter_id = e.meter_id AND c.t_us = e.t_us)")"

# Down only once the fault had started, back only after it ended.
sim0=$(( $(q "SELECT min(t_us) FROM samples") ))
down=$(q "SELECT c.t_us FROM comm_changes c JOIN meters m ON m.id = c.meter_id
	WHERE m.name = 'm2' AND c.status = 3")
up=$(q "SELECT min(c.t_us) FROM comm_changes c JOIN meters m ON m.id = c.meter_id
	WHERE m.name = 'm2' AND c.status = 1 AND c.t_us > $down")
[ "$down" -gt "$sim0" ] || t_fail "m2 down before the first sample"
[ -n "$up" ] && [ "$up" -gt "$down" ] || t_fail "m2 never came back after $down"
t_ok "m2 down $(( (down - sim0) / 1000 )) ms, back $(( (up - sim0) / 1000 )) ms after the first sample"
