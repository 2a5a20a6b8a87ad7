#!/bin/bash
# SPDX-License-Identifier: MIT
# One role per console (docs/deployment.md, issue 15 item 4, review D2):
# two console roles with exactly the documented grants. An unmapped
# console is refused with the exact SQL that maps it (run as printed).
# Role A then tries, on console B's rows: move B's high-water mark, rename
# and edit B's meters, insert a sample under B's id (INSERT, COPY, and
# straight into a partition), an alarm event synced as B, register a
# console of its own making, read B's sessions, make a partition for
# 2000-01-01: each refused, B's rows unchanged; a reader sees everything. B sets its own central mark to 9e18: its buffer still
# forwards everything (the mark is never adopted) and says so. Both syncs
# stay complete, row by row. Stored forecasts (schema 3): each role
# forwards its own, A cannot write B's (INSERT, COPY) nor move B's
# forecast mark; a schema 2 with the old grants, migrated to 3 by the
# owner, lets the console roles forward forecasts without a new grant.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_sim --meters 3 --seed 21
# The owner (the test's superuser) creates the schema, then the roles.
sync_config "$T/o.ini" "$T/o.db"
"$PHASOR" record -c "$T/o.ini" --for 1 >"$T/record-o.log" 2>&1 || t_fail "record o exited $?"
"$PHASOR" sync -c "$T/o.ini" --once >"$T/sync-o.log" 2>&1 || t_fail "owner sync exited $?"
sync_grants
sync_role line_a
sync_role line_b
for c in a b; do
	sync_config "$T/$c.ini" "$T/$c.db"
	sed -i "s/user=phasor /user=line_$c /" "$T/$c.ini"
	"$PHASOR" record -c "$T/$c.ini" --for 2 >"$T/record-$c.log" 2>&1 || t_fail "record $c exited $?"
done
A=$(sync_console_id "$T/a.db")
B=$(sync_console_id "$T/b.db")
# fc_add DB MEAN: a run of 6 stored forecasts (intervals of 900 s) of meter m1.
fc_add() {
	t_sql "$1" "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < 5)
	INSERT INTO forecasts(made_us, meter, method, t_us, step_s, forecast, lower80, upper80,
			      lower95, upper95, took_us)
	SELECT $(date +%s)000000, 'm1', 'naive_day', ($(date +%s) / 900 + i) * 900000000, 900,
	       $2 + i, $2 - 1, $2 + 1, $2 - 2, NULL, 50 FROM g" || t_fail "cannot add forecasts"
}
fc_add "$T/a.db" 1000
fc_add "$T/b.db" 2000

# Not mapped yet: refused, with the statement that resolves it.
"$PHASOR" sync -c "$T/a.ini" --once >"$T/sync-a0.log" 2>&1
t_eq "exit status of an unmapped console" 1 "$?"
grep -q "console $A is not registered for role line_a" "$T/sync-a0.log" ||
	t_fail "no refusal naming the console and the role: $(cat "$T/sync-a0.log")"
fix=$(grep -o "INSERT INTO phasor.console_roles[^;]*;" "$T/sync-a0.log" | head -1)
t_eq "the statement printed" "INSERT INTO phasor.console_roles(console, role) VALUES ('$A', 'line_a');" "$fix"
t_eq "rows of the unmapped console" 0 "$(t_psql "SELECT count(*) FROM phasor.samples WHERE console = '$A'")"
t_psql "$fix" >/dev/null || t_fail "the printed statement failed"
sync_map "$B" line_b
for c in a b; do
	"$PHASOR" sync -c "$T/$c.ini" --once >"$T/sync-$c.log" 2>&1 ||
		t_fail "sync $c exited $?: $(cat "$T/sync-$c.log")"
done
na=$(sync_check "$T/a.db")
nb=$(sync_check "$T/b.db")
t_ok "mapped: $na rows of A, $nb rows of B, complete"
fa=$(fc_check "$T/a.db") || exit 1
fb=$(fc_check "$T/b.db") || exit 1
t_eq "forecast rows of A and B (count, checksum)" "6 6" "${fa% *} ${fb% *}"

# A's attempts on B. Snapshots of B's central rows before and after.
snap_b() {
	t_psql "SELECT (SELECT samples_seq || '/' || alarms_seq FROM phasor.consoles WHERE console = '$B'),
		(SELECT string_agg(name || ':' || coalesce(description, '') || ':' || coalesce(host, ''), ',' ORDER BY name)
		 FROM phasor.meters WHERE console = '$B'),
		(SELECT count(*) || '/' || coalesce(max(value), 0) FROM phasor.samples WHERE console = '$B'),
		(SELECT count(*) FROM phasor.alarm_events WHERE synced_by = '$B'),
		(SELECT count(*) FROM phasor.sessions WHERE console = '$B'),
		(SELECT forecasts_seq FROM phasor.consoles WHERE console = '$B'),
		(SELECT count(*) || '/' || max(forecast) FROM phasor.forecasts WHERE console = '$B')"
}
before=$(snap_b)
out=$(psql_as line_a "UPDATE phasor.consoles SET samples_seq = 9000000000000000000,
	alarms_seq = 9000000000000000000 WHERE console = '$B'")
t_eq "A moves B's high-water marks" "UPDATE 0" "$out"
out=$(psql_as line_a "UPDATE phasor.meters SET name = name || '-x' WHERE console = '$B'")
case "$out" in *"permission denied for table meters"*) t_ok "A renames B's meters: refused" ;;
	*) t_fail "A renamed B's meters: $out" ;; esac
out=$(psql_as line_a "UPDATE phasor.meters SET description = 'forged', host = '6.6.6.6' WHERE console = '$B'")
t_eq "A edits B's meters" "UPDATE 0" "$out"
out=$(psql_as line_a "INSERT INTO phasor.meters(console, name) VALUES ('$B', 'forged')
	ON CONFLICT (console, name) DO UPDATE SET description = 'forged'")
case "$out" in *"row-level security"*) t_ok "A adds a meter to B: refused" ;;
	*) t_fail "A added a meter to B: $out" ;; esac
out=$(psql_as line_a "INSERT INTO phasor.samples(time, console, meter, quantity, value, quality, seq, session)
	VALUES (now(), '$B', 'm1', 'p_total', 1e9, 'good', 999999, 1)")
case "$out" in *"may not write samples of console $B"*) t_ok "A INSERTs a sample as B: refused" ;;
	*) t_fail "A inserted a sample as B: $out" ;; esac
printf '%s\t%s\tm1\tp_total\t1e9\tgood\t999998\t1\n' "$(date -u '+%F %T')+00" "$B" >"$T/forged.txt"
out=$(psql_as line_a "\\copy phasor.samples(time, console, meter, quantity, value, quality, seq, session) FROM '$T/forged.txt'")
case "$out" in *"may not write samples of console $B"*) t_ok "A COPYs a sample as B: refused" ;;
	*) t_fail "A copied a sample as B: $out" ;; esac
part=samples_$(date -u +%Y%m%d)
out=$(psql_as line_a "INSERT INTO phasor.$part(time, console, meter, quantity, value, quality, seq)
	VALUES (now(), '$B', 'm1', 'p_total', 1e9, 'good', 999997)")
case "$out" in *"permission denied for table $part"*) t_ok "A inserts into partition $part directly: refused" ;;
	*) t_fail "A inserted into a partition: $out" ;; esac
out=$(psql_as line_a "INSERT INTO phasor.alarm_events(time, console, alarm, id, synced_by)
	VALUES (now(), '$B', 'forged', 'forged:1.1', '$B')")
case "$out" in *"may not write alarm events synced by console $B"*) t_ok "A inserts an alarm event as B: refused" ;;
	*) t_fail "A inserted an alarm event as B: $out" ;; esac
out=$(psql_as line_a "INSERT INTO phasor.forecasts(time, console, meter, made, method, interval_s,
	forecast, seq) VALUES (now(), '$B', 'm1', now(), 'dshw', 900, 1e9, 999999)")
case "$out" in *"may not write forecasts of console $B"*) t_ok "A INSERTs a forecast as B: refused" ;;
	*) t_fail "A inserted a forecast as B: $out" ;; esac
printf '%s\t%s\tm1\t%s\tdshw\t900\t1e9\t999998\n' "$(date -u '+%F %T')+00" "$B" "$(date -u '+%F %T')+00" >"$T/forged-fc.txt"
out=$(psql_as line_a "\\copy phasor.forecasts(time, console, meter, made, method, interval_s, forecast, seq) FROM '$T/forged-fc.txt'")
case "$out" in *"may not write forecasts of console $B"*) t_ok "A COPYs a forecast as B: refused" ;;
	*) t_fail "A copied a forecast as B: $out" ;; esac
out=$(psql_as line_a "UPDATE phasor.consoles SET forecasts_seq = 9000000000000000000 WHERE console = '$B'")
t_eq "A moves B's forecast mark" "UPDATE 0" "$out"
t_eq "forecasts seen by A" "permission denied" \
	"$(psql_as line_a "SELECT count(*) FROM phasor.forecasts" | grep -o "permission denied" | head -1)"
out=$(psql_as line_a "INSERT INTO phasor.consoles(console) VALUES ('forged-00000000')")
case "$out" in *"row-level security"*) t_ok "A registers a console of its own making: refused" ;;
	*) t_fail "A registered a console: $out" ;; esac
t_eq "B's sessions seen by A" 0 "$(psql_as line_a "SELECT count(*) FROM phasor.sessions WHERE console = '$B'")"
t_eq "sessions seen by A (its own)" "$(t_psql "SELECT count(*) FROM phasor.sessions WHERE console = '$A'")" \
	"$(psql_as line_a "SELECT count(*) FROM phasor.sessions")"
t_eq "consoles seen by A" "$A" "$(psql_as line_a "SELECT string_agg(console, ',') FROM phasor.consoles")"
out=$(psql_as line_a "SELECT phasor.ensure_partition('2000-01-01')")
case "$out" in *"out of range for role line_a"*) t_ok "A makes a partition for 2000-01-01: refused" ;;
	*) t_fail "A made a partition for 2000-01-01: $out" ;; esac
t_eq "partition samples_20000101" "" "$(t_psql "SELECT to_regclass('phasor.samples_20000101')")"
t_eq "B's central rows after A's attempts" "$before" "$(snap_b)"
# A reader (SELECT only, as in docs/deployment.md) sees every console.
t_psql "CREATE ROLE reader LOGIN; GRANT CONNECT ON DATABASE phasor TO reader;
	GRANT USAGE ON SCHEMA phasor TO reader; GRANT SELECT ON ALL TABLES IN SCHEMA phasor TO reader;
	REVOKE SELECT ON phasor.console_roles FROM reader" >/dev/null || t_fail "reader role"
t_eq "consoles seen by a reader" 3 "$(psql_as reader "SELECT count(*) FROM phasor.consoles")"
t_eq "sessions seen by a reader" "$(t_psql "SELECT count(*) FROM phasor.sessions")" \
	"$(psql_as reader "SELECT count(*) FROM phasor.sessions")"

# B's own mark to 9e18 (its own row: allowed). It is never adopted: B's
# new rows are all forwarded, the local watermark stays B's own, and the
# sync says why.
t_eq "B moves its own mark" "UPDATE 1" "$(psql_as line_b "UPDATE phasor.consoles
	SET samples_seq = 9000000000000000000 WHERE console = '$B'")"
for c in a b; do
	"$PHASOR" record -c "$T/$c.ini" --for 2 >"$T/record-$c-2.log" 2>&1 || t_fail "record $c exited $?"
	"$PHASOR" sync -c "$T/$c.ini" --once >"$T/sync-$c-2.log" 2>&1 ||
		t_fail "sync $c exited $?: $(cat "$T/sync-$c-2.log")"
done
na2=$(sync_check "$T/a.db")
nb2=$(sync_check "$T/b.db")
for f in "$T"/sync-*.log; do t_no_sanitizer_errors "$f"; done
[ "$na2" -gt "$na" ] && [ "$nb2" -gt "$nb" ] || t_fail "nothing new recorded ($na2, $nb2)"
t_eq "B's local watermark" "$(t_sql "$T/b.db" "SELECT max(seq) FROM samples")" \
	"$(t_sql "$T/b.db" "SELECT value FROM meta WHERE key = 'sync.samples_seq'")"
grep -q "central sample high-water mark 9000000000000000000 is above this buffer's newest" "$T/sync-b-2.log" ||
	t_fail "B's sync did not say the central mark is beyond its buffer: $(cat "$T/sync-b-2.log")"
"$PHASOR" sync -c "$T/b.ini" --status >"$T/status-b.log" 2>&1 || t_fail "--status exited $?"
grep -q "^central_watermark 9000000000000000000$" "$T/status-b.log" || t_fail "--status: $(cat "$T/status-b.log")"
grep -q "^warning central high-water mark 9000000000000000000 is above" "$T/status-b.log" ||
	t_fail "--status has no warning: $(cat "$T/status-b.log")"
t_ok "after B's mark at 9e18: A $na2 rows, B $nb2 rows, complete"

# A mark that stays above: one journal event per connection, not per pass
# (the recorder's worker runs a pass a second on one connection).
ev0=$(t_sql "$T/b.db" "SELECT count(*) FROM events WHERE source = 'sync' AND what = 'restored'")
r0=$(t_sql "$T/b.db" "SELECT value FROM meta WHERE key = 'sync.restored_samples'")
"$PHASOR" record -c "$T/b.ini" --for 4 >"$T/record-b-3.log" 2>&1 || t_fail "record b exited $?"
passes=$(grep -c "sample rows with seqs" "$T/record-b-3.log")
[ "$passes" -ge 2 ] || t_fail "only $passes passes found restored rows: $(grep sync "$T/record-b-3.log")"
t_eq "journal events of $passes passes on one connection" $((ev0 + 1)) \
	"$(t_sql "$T/b.db" "SELECT count(*) FROM events WHERE source = 'sync' AND what = 'restored'")"
r1=$(t_sql "$T/b.db" "SELECT value FROM meta WHERE key = 'sync.restored_samples'")
[ "$r1" -gt "$r0" ] || t_fail "the restored count did not grow ($r0, $r1)"
"$PHASOR" sync -c "$T/b.ini" --once >"$T/sync-b-3.log" 2>&1 || t_fail "sync b exited $?"
nb3=$(sync_check "$T/b.db")
t_ok "B: $nb3 rows, complete; the count grew from $r0 to $r1"

# An upgrade: the schema back to version 2 with the old grants (no
# forecasts table, no forecast mark, nothing granted on them), as an
# earlier phasor left it. The owner's sync migrates it to 3 (and 4); the console
# roles then forward forecasts with the grants carried over.
t_psql "REVOKE INSERT ON phasor.forecasts FROM phasor_console;
	REVOKE UPDATE (forecasts_seq) ON phasor.consoles FROM phasor_console;
	DROP TABLE phasor.forecasts; DROP FUNCTION phasor.check_console_rows();
	ALTER TABLE phasor.consoles DROP COLUMN forecasts_seq; DROP VIEW phasor.machine_states;
	DELETE FROM phasor.schema_version WHERE version >= 3" >/dev/null || t_fail "cannot go back to schema 2"
for c in a b; do
	t_sql "$T/$c.db" "UPDATE meta SET value = 0 WHERE key = 'sync.forecasts_seq'"
	fc_add "$T/$c.db" 3000
done
"$PHASOR" sync -c "$T/a.ini" --once >"$T/sync-a-old.log" 2>&1
t_eq "a console role on schema 2 (it may not migrate)" 1 "$?"
grep -q "creating or migrating the central schema phasor" "$T/sync-a-old.log" ||
	t_fail "not said: $(cat "$T/sync-a-old.log")"
"$PHASOR" sync -c "$T/o.ini" --once >"$T/sync-o-3.log" 2>&1 || t_fail "owner sync exited $?"
grep -q "central schema phasor migrated to version 3" "$T/sync-o-3.log" || t_fail "no migration: $(cat "$T/sync-o-3.log")"
for c in a b; do
	"$PHASOR" sync -c "$T/$c.ini" --once >"$T/sync-$c-4.log" 2>&1 ||
		t_fail "sync $c after the upgrade exited $?: $(cat "$T/sync-$c-4.log")"
done
fa=$(fc_check "$T/a.db") || exit 1
fb=$(fc_check "$T/b.db") || exit 1
t_eq "forecast rows of A and B after the upgrade" "12 12" "${fa% *} ${fb% *}"
out=$(psql_as line_a "INSERT INTO phasor.forecasts(time, console, meter, made, method, interval_s,
	forecast, seq) VALUES (now(), '$B', 'm1', now(), 'dshw', 900, 1e9, 999999)")
case "$out" in *"may not write forecasts of console $B"*) t_ok "after the upgrade, A INSERTs a forecast as B: refused" ;;
	*) t_fail "after the upgrade, A inserted a forecast as B: $out" ;; esac
t_ok "upgrade from schema 2: console roles forward their forecasts, grants carried over"
