#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor sim + phasor record (with [sync]) + phasor sync --once into a
# private PostgreSQL: every buffered row arrives exactly once with the same
# values (seq by seq, and the CSV export against psql COPY), the schema has
# the contract's relations, meters/sessions/consoles are filled, a second
# --once sends nothing twice; a second recorder (another buffer, another
# console id) shares the database without collision.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_sim --meters 3 --seed 5
db="$T/a.db"
sync_config "$T/a.ini" "$db"
"$PHASOR" check-config -c "$T/a.ini" >"$T/check.log" 2>&1 || t_fail "check-config rejected the config"
"$PHASOR" record -c "$T/a.ini" --for 4 >"$T/record-a.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record-a.log"
grep -q "sync: .*, forwarded [1-9]" "$T/record-a.log" || t_fail "the recorder's sync worker forwarded nothing"
"$PHASOR" sync -c "$T/a.ini" --once >"$T/sync-a.log" 2>&1 || t_fail "sync --once exited $?"
t_no_sanitizer_errors "$T/sync-a.log"
n=$(sync_check "$db")
[ "$n" -gt 500 ] || t_fail "only $n rows"
t_ok "$n rows, each once, identical"

# The contract's relations and columns.
cols=$(t_psql "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position)
	FROM information_schema.columns WHERE table_schema = 'phasor' AND table_name = 'samples'
	AND ordinal_position <= 6")
t_eq "phasor.samples columns" "time timestamp with time zone,console text,meter text,quantity text,value double precision,quality text" "$cols"
cols=$(t_psql "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position)
	FROM information_schema.columns WHERE table_schema = 'phasor' AND table_name = 'alarm_events'
	AND ordinal_position <= 12")
t_eq "phasor.alarm_events columns" "time timestamp with time zone,console text,alarm text,meter text,quantity text,priority text,event text,state text,value double precision,limit double precision,operator text,note text" "$cols"
t_eq "schema version" 4 "$(t_psql "SELECT max(version) FROM phasor.schema_version")"
console=$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")
t_eq "meters of the console" "m1,m2,m3" "$(t_psql "SELECT string_agg(name, ',' ORDER BY name) FROM phasor.meters WHERE console = '$console'")"
t_eq "sessions of the console" 1 "$(t_psql "SELECT count(*) FROM phasor.sessions WHERE console = '$console' AND end_time IS NOT NULL")"
t_eq "central high-water = local max seq" "$(t_sql "$db" "SELECT max(seq) FROM samples")" \
	"$(t_psql "SELECT samples_seq FROM phasor.consoles WHERE console = '$console'")"
t_eq "local watermark" "$(t_sql "$db" "SELECT max(seq) FROM samples")" \
	"$(t_sql "$db" "SELECT value FROM meta WHERE key = 'sync.samples_seq'")"
parts=$(t_psql "SELECT count(*) FROM pg_inherits WHERE inhparent = 'phasor.samples'::regclass")
[ "$parts" -ge 2 ] || t_fail "only $parts partitions (today and tomorrow at least)"
t_ok "$parts partitions"

# The CSV export against psql COPY of the same rows (millisecond times).
"$PHASOR" export --db "$db" | tail -n +2 | cut -d, -f1-4,6 | sort >"$T/export.csv"
t_psql "COPY (SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), meter,
	quantity, coalesce(value::text, 'nan'), quality FROM phasor.samples WHERE console = '$console')
	TO STDOUT WITH (FORMAT csv)" | sort >"$T/copy.csv"
t_eq "export rows = COPY rows" "$(wc -l <"$T/export.csv")" "$(wc -l <"$T/copy.csv")"
sqlite3 "$T/ex.db" <<EOS
CREATE TABLE e(t, m, q, v, k); CREATE TABLE p(t, m, q, v, k);
.mode csv
.import $T/export.csv e
.import $T/copy.csv p
EOS
d=$(sqlite3 "$T/ex.db" "SELECT count(*) FROM (SELECT t, m, q, CASE v WHEN 'nan' THEN 'nan' ELSE CAST(v AS REAL) END, k FROM e
	EXCEPT SELECT t, m, q, CASE v WHEN 'nan' THEN 'nan' ELSE CAST(v AS REAL) END, k FROM p)")
t_eq "export rows missing from COPY" 0 "$d"

# Again: nothing new, nothing doubled.
"$PHASOR" sync -c "$T/a.ini" --once >"$T/sync-a2.log" 2>&1 || t_fail "second sync --once exited $?"
grep -q "forwarded 0 samples" "$T/sync-a2.log" || t_fail "second --once forwarded rows: $(cat "$T/sync-a2.log")"
t_eq "rows after a second --once" "$n" "$(t_psql "SELECT count(*) FROM phasor.samples WHERE console = '$console'")"

# A second recorder: its own buffer and console id, the same database.
sync_config "$T/b.ini" "$T/b.db"
"$PHASOR" record -c "$T/a.ini" --for 3 >"$T/record-a2.log" 2>&1 &
pa=$!
"$PHASOR" record -c "$T/b.ini" --for 3 >"$T/record-b.log" 2>&1 || t_fail "record b exited $?"
wait $pa || t_fail "record a (2nd) exited $?"
"$PHASOR" sync -c "$T/a.ini" --once >"$T/sync-a3.log" 2>&1 || t_fail "sync a exited $?"
"$PHASOR" sync -c "$T/b.ini" --once >"$T/sync-b.log" 2>&1 || t_fail "sync b exited $?"
na=$(sync_check "$T/a.db")
nb=$(sync_check "$T/b.db")
t_eq "consoles in the database" 2 "$(t_psql "SELECT count(DISTINCT console) FROM phasor.samples")"
t_eq "all rows" "$((na + nb))" "$(t_psql "SELECT count(*) FROM phasor.samples")"
t_ok "two recorders: $na + $nb rows, no collision"

# Least privilege: a console role of docs/deployment.md, with exactly its
# grants, forwards a third buffer (no DDL right: partitions through
# phasor.ensure_partition) once the owner has mapped its console id to it.
sync_grants
sync_role phasor_c
sync_config "$T/c.ini" "$T/c.db"
sed -i "s/user=phasor /user=phasor_c /" "$T/c.ini"
grep -q "user=phasor_c" "$T/c.ini" || t_fail "no console role in the config"
"$PHASOR" record -c "$T/c.ini" --for 2 >"$T/record-c.log" 2>&1 || t_fail "record c exited $?"
t_sql "$T/c.db" "INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality)
	VALUES((SELECT value + 1 FROM meta WHERE key = 'samples.last_seq'), $(( ($(date +%s) - 86400) * 1000000 )), 1, 1, 1.5, 0);
	UPDATE meta SET value = value + 1 WHERE key = 'samples.last_seq'"
sync_map "$(sync_console_id "$T/c.db")" phasor_c
"$PHASOR" sync -c "$T/c.ini" --once >"$T/sync-c.log" 2>&1 || t_fail "sync as phasor_c exited $?: $(cat "$T/sync-c.log")"
nc=$(sync_check "$T/c.db")
t_ok "least-privilege role: $nc rows (yesterday's partition made through ensure_partition)"
t_psql "SELECT count(*) FROM phasor.samples" >/dev/null
t_eq "the console role cannot read samples" "permission denied" \
	"$(psql_as phasor_c "SELECT 1 FROM phasor.samples LIMIT 1" | grep -o "permission denied" | head -1)"
