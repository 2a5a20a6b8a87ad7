#!/bin/bash
# SPDX-License-Identifier: MIT
# A central database that fails over (issue 16 item 4): a PostgreSQL
# primary and a hot standby made with pg_basebackup (streaming
# replication), [sync] postgres naming both hosts with
# target_session_attrs=read-write. While a recorder syncs, the standby is
# cut off from the primary (it falls behind: rows the primary acknowledged
# never reach it), then the primary is stopped (immediate) and the standby
# promoted: phasor reconnects to the new primary, sees that it lost rows it
# had acknowledged (its high-water mark is below the buffer's watermark),
# sends them again, and carries on; at the end every sample is in
# phasor.samples exactly once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
sync_standby
psql_on() { # HOST PORT SQL
	PGCONNECT_TIMEOUT=5 psql "host=$1 port=$2 dbname=phasor user=phasor" -X -qAt \
		-v ON_ERROR_STOP=1 -c "$3"
}
t_eq "the standby is in recovery" t "$(psql_on "$H2" "$P2" "SELECT pg_is_in_recovery()")"

t_sim --meters 3 --seed 3
db="$T/f.db"
PG_CONNINFO="host=127.0.0.1,127.0.0.1 port=$P1,$P2 dbname=phasor user=phasor connect_timeout=3 target_session_attrs=read-write"
SYNC_INTERVAL=300ms sync_config "$T/f.ini" "$db"
t_bg record "$PHASOR" record -c "$T/f.ini" --stats 1
REC=$T_LAST_PID
central() { psql_on "$1" "$2" "SELECT count(*) FROM phasor.samples" 2>/dev/null || echo 0; }
t_wait 30 sh -c "[ \"\$(PGCONNECT_TIMEOUT=5 psql 'host=$H1 port=$P1 dbname=phasor user=phasor' -X -qAt -c 'SELECT count(*) FROM phasor.samples' 2>/dev/null || echo 0)\" -gt 2000 ]" ||
	t_fail "no rows reached the primary"
# the standby has them too, then is cut off from the primary
n1=$(central "$H1" "$P1")
t_wait 20 sh -c "[ \"\$(PGCONNECT_TIMEOUT=5 psql 'host=$H2 port=$P2 dbname=phasor user=phasor' -X -qAt -c 'SELECT count(*) FROM phasor.samples' 2>/dev/null || echo 0)\" -ge $n1 ]" ||
	t_fail "the standby does not replicate"
t_pg_run psql -h "$H2" -p "$P2" -U postgres -X -qAt -c "ALTER SYSTEM SET primary_conninfo = ''" \
	-c "SELECT pg_reload_conf()" >/dev/null || t_fail "cannot cut the standby off"
t_wait 10 sh -c "[ -z \"\$(PGCONNECT_TIMEOUT=5 psql 'host=$H2 port=$P2 dbname=phasor user=phasor' -X -qAt -c 'SELECT pid FROM pg_stat_wal_receiver' 2>/dev/null)\" ]" ||
	t_fail "the standby's WAL receiver did not stop"
frozen=$(central "$H2" "$P2")
t_wait 30 sh -c "[ \"\$(PGCONNECT_TIMEOUT=5 psql 'host=$H1 port=$P1 dbname=phasor user=phasor' -X -qAt -c 'SELECT count(*) FROM phasor.samples' 2>/dev/null || echo 0)\" -gt $((frozen + 2000)) ]" ||
	t_fail "the primary got no new rows while the standby was cut off"
ahead=$(central "$H1" "$P1")
t_eq "the standby stayed behind" "$frozen" "$(central "$H2" "$P2")"
t_log "primary $ahead rows, standby $frozen: $((ahead - frozen)) acknowledged rows the standby lacks"

# failover
t_pg_run "$PG_BIN/pg_ctl" -D "$D1" -m immediate -w stop >/dev/null || t_fail "the primary did not stop"
t_pg_run "$PG_BIN/pg_ctl" -D "$D2" -w promote >/dev/null || t_fail "the standby was not promoted"
t_eq "the standby is the primary now" f "$(psql_on "$H2" "$P2" "SELECT pg_is_in_recovery()")"
t_wait 30 grep -q "the central database lost rows it had acknowledged" "$T/record.log" ||
	t_fail "the sync did not see the lost rows: $(grep sync: "$T/record.log" | tail -5)"
t_wait 30 sh -c "[ \"\$(PGCONNECT_TIMEOUT=5 psql 'host=$H2 port=$P2 dbname=phasor user=phasor' -X -qAt -c 'SELECT count(*) FROM phasor.samples' 2>/dev/null || echo 0)\" -gt $ahead ]" ||
	t_fail "the new primary did not get the rows back: $(central "$H2" "$P2") rows"
t_ok "after the failover: $(grep -o 'seqs [0-9]* to [0-9]* are sent again' "$T/record.log" | head -1)"
sleep 2
t_stop "$REC" TERM
t_no_sanitizer_errors "$T/record.log"
"$PHASOR" sync -c "$T/f.ini" --once >"$T/sync.log" 2>&1 || t_fail "sync --once: $(tail -3 "$T/sync.log")"
PG_HOST=$H2 PG_PORT=$P2
n=$(sync_check "$db")
t_ok "$n rows in the buffer, each once in the promoted standby"
t_log "ok"
