#!/bin/bash
# SPDX-License-Identifier: MIT
# kill -9 of `phasor sync` at random moments, 20 times, while a backlog of
# 60 000 new rows per round is sent (batches in flight, watermarks being
# written), then of a
# recorder with its inline sync worker 5 times; after a final --once:
# every local row is in PostgreSQL exactly once (count per seq = 1, total =
# local total, same values).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_sim --meters 3 --seed 9
db="$T/k.db"
SYNC_INTERVAL=100ms sync_config "$T/k.ini" "$db"
"$PHASOR" record -c "$T/k.ini" --for 1 >"$T/record0.log" 2>&1 || t_fail "record exited $?"
# add N: N more samples of the last hour, seqs from the counter (as the
# store's writer does).
add() {
	local now_us=$(( $(date +%s) * 1000000 ))
	t_sql "$db" "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < $1)
	INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality, session_id)
	SELECT (SELECT value FROM meta WHERE key = 'samples.last_seq') + i,
	       $now_us - 3600000000 + i * 10000, 1 + i % 3, i % 20,
	       CASE WHEN i % 997 = 0 THEN NULL ELSE i * 0.25 - 1000 END,
	       CASE WHEN i % 997 = 0 THEN 1 ELSE 0 END, 1 FROM g;
	UPDATE meta SET value = (SELECT max(seq) FROM samples) WHERE key = 'samples.last_seq';" ||
		t_fail "cannot add rows"
}

# Each round adds 60 000 rows and kills the sync 20..500 ms later: mostly
# in the middle of a batch, sometimes between the central commit and the
# local watermark.
interrupted=0
for i in $(seq 1 20); do
	add 60000
	"$PHASOR" sync -c "$T/k.ini" >>"$T/sync-kill.log" 2>&1 &
	p=$!
	sleep "0.$(( RANDOM % 5 ))$(( RANDOM % 8 + 2 ))"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	wm=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'sync.samples_seq'")
	last=$(t_sql "$db" "SELECT max(seq) FROM samples")
	[ "$wm" -lt "$last" ] && interrupted=$((interrupted + 1))
done
total=$(t_sql "$db" "SELECT count(*) FROM samples")
central=$(t_psql "SELECT count(*) FROM phasor.samples")
[ "$interrupted" -ge 5 ] || t_fail "only $interrupted of 20 kills landed before the end of the backlog"
t_ok "20 kills of phasor sync ($interrupted with rows still to send): $central of $total rows central"
dup=$(t_psql "SELECT count(*) FROM (SELECT console, seq FROM phasor.samples GROUP BY 1, 2 HAVING count(*) > 1) d")
t_eq "duplicates after the kills" 0 "$dup"

# A recorder with its sync worker, killed 5 times.
for i in 1 2 3 4 5; do
	"$PHASOR" record -c "$T/k.ini" >>"$T/record-kill.log" 2>&1 &
	p=$!
	sleep "0.$(( RANDOM % 9 + 1 ))"
	sleep "$(( RANDOM % 2 ))"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
done
"$PHASOR" sync -c "$T/k.ini" --once >"$T/sync-final.log" 2>&1 || t_fail "final --once exited $?"
t_no_sanitizer_errors "$T/sync-final.log"
n=$(sync_check "$db")
[ "$n" -gt "$total" ] || t_fail "the recorders added nothing ($n rows, $total before)"
t_ok "$n rows: none lost, none doubled"
