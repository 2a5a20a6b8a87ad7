#!/bin/bash
# SPDX-License-Identifier: MIT
# The server goes away while a recorder with [sync] runs: the backlog grows
# (the recorder's stats lines say so), the recorder keeps recording, and
# once the server is back the worker drains what was buffered meanwhile;
# after a final --once every row is there exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_sim --meters 3 --seed 3
db="$T/o.db"
SYNC_INTERVAL=300ms sync_config "$T/o.ini" "$db"
"$PHASOR" record -c "$T/o.ini" --for 14 --stats 1 >"$T/record.log" 2>&1 &
rec=$!
sleep 3
t_pg_stop fast
t_log "server stopped"
sleep 4
t_pg_start
t_log "server started"
sleep 5
wait "$rec" || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"
# The backlog as the stats lines showed it while the server was away.
grep -o "sync down: backlog [0-9]*" "$T/record.log" | awk '{print $4}' >"$T/backlog.txt"
[ "$(wc -l <"$T/backlog.txt")" -ge 2 ] || t_fail "the stats never showed the sync down"
first=$(head -1 "$T/backlog.txt")
last=$(tail -1 "$T/backlog.txt")
[ "$last" -gt "$first" ] || t_fail "the backlog did not grow during the outage ($first -> $last)"
t_ok "backlog grew during the outage: $first -> $last"
grep -q "sync: .*will retry" "$T/record.log" || t_fail "no retry logged"
# Drained by the worker after the restart: the rows recorded during the
# outage are all central before the final --once.
console=$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")
hw=$(t_psql "SELECT samples_seq FROM phasor.consoles WHERE console = '$console'")
[ "$hw" -gt $(( $(t_sql "$db" "SELECT max(seq) FROM samples") - 1500 )) ] ||
	t_fail "the worker did not catch up after the outage (high-water $hw)"
t_ok "worker caught up to seq $hw after the outage"
"$PHASOR" sync -c "$T/o.ini" --once >"$T/sync.log" 2>&1 || t_fail "sync --once exited $?"
n=$(sync_check "$db")
t_ok "$n rows, each once"

# A server that does not answer at all (a black-hole port): a recorder
# still stops at once (the sync worker does not hold it up).
port=$(t_port)
sed -i "s/^postgres = .*/postgres = host=127.0.0.1 port=$port dbname=x user=x connect_timeout=30/" "$T/o.ini"
python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(5); c = []
while True:
    a, _ = s.accept(); c.append(a)
" &
bh=$!
T_PIDS="$T_PIDS $bh"
t_wait_port "$port"
t0=$(date +%s%N)
"$PHASOR" record -c "$T/o.ini" --for 2 >"$T/record-bh.log" 2>&1 || t_fail "record exited $?"
dt=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$dt" -lt 5000 ] || t_fail "record --for 2 took $dt ms with a silent server"
t_ok "record --for 2 with a silent server: $dt ms"
