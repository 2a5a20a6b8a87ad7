#!/bin/bash
# SPDX-License-Identifier: MIT
# A simulator unit stops answering (fault timeout:2 from 3 s to 9 s): that
# meter goes down, the two others on the same endpoint keep their rate, and
# it comes back by itself when the fault ends.
. "$(dirname "$0")/lib.sh"

t0=$(( $(date +%s%N) / 1000 ))
t_sim --meters 3 --seed 5 --fault timeout:2@3+6
db="$T/buffer.db"
{
	printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db"
	for u in 1 2 3; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\n' "$SIM_PORT" "$u"
	done
} >"$T/phasor.ini"
"$PHASOR" record -c "$T/phasor.ini" --for 17 >"$T/record.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"

q() { t_sql "$db" "$1"; }
polls() { # METER FROM_S TO_S (relative to t0): distinct poll times
	q "SELECT count(DISTINCT s.t_us) FROM samples s JOIN meters m ON m.id = s.meter_id
	   WHERE m.name = '$1' AND s.t_us >= $t0 + $2 * 1000000 AND s.t_us < $t0 + $3 * 1000000"
}

# During the fault (with margins), m1 and m3 keep 2 polls per second.
for m in m1 m3; do
	n=$(polls "$m" 4 8.5)
	[ "$n" -ge 8 ] || t_fail "$m: only $n polls in 4.5 s during the fault"
	t_ok "$m: $n polls in 4.5 s while m2 times out"
done
n=$(polls m2 4 9)
t_eq "m2 polls answered during the fault" 0 "$n"
n=$(polls m2 0 3)
[ "$n" -ge 3 ] || t_fail "m2: only $n polls before the fault"

# The status events: m2 went down, then came back after the fault.
down=$(q "SELECT min(e.t_us) FROM events e JOIN meters m ON m.id = e.meter_id
	WHERE m.name = 'm2' AND e.what = 'status' AND e.text LIKE '%-> down%'")
[ -n "$down" ] || t_fail "no 'down' event for m2: $(q "SELECT what, text FROM events")"
last_good=$(q "SELECT max(s.t_us) FROM samples s JOIN meters m ON m.id = s.meter_id
	WHERE m.name = 'm2' AND s.t_us < $down")
gap_ms=$(( (down - last_good) / 1000 ))
# Down within three poll periods (plus the timeout and scheduling slack).
[ "$gap_ms" -le 3000 ] || t_fail "m2 declared down ${gap_ms} ms after its last good poll"
t_ok "m2 down ${gap_ms} ms after its last good poll"
text=$(q "SELECT e.text FROM events e JOIN meters m ON m.id = e.meter_id
	WHERE m.name = 'm2' AND e.what = 'status' AND e.t_us = $down")
echo "$text" | grep -q "timeout" || t_fail "down event does not say timeout: $text"
up=$(q "SELECT min(e.t_us) FROM events e JOIN meters m ON m.id = e.meter_id
	WHERE m.name = 'm2' AND e.what = 'status' AND e.text LIKE '%-> ok%' AND e.t_us > $down")
[ -n "$up" ] || t_fail "m2 never came back"
[ "$up" -ge $(( t0 + 9000000 )) ] || t_fail "m2 back before the fault ended"
t_ok "m2 back $(( (up - t0) / 1000 )) ms after start (fault ended at 9000 ms)"
n=$(polls m2 9 17)
[ "$n" -ge 2 ] || t_fail "m2: only $n polls after the fault"

# Per-meter counters: timeouts were counted on the endpoint.
grep "link modbus" "$T/record.log" | tail -1 | grep -q "timeouts [1-9]" ||
	t_fail "timeouts not counted: $(grep 'link modbus' "$T/record.log")"
t_ok "timeouts counted"
