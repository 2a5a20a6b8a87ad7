#!/bin/bash
# SPDX-License-Identifier: MIT
# Stored forecasts forwarded to PostgreSQL (issue 11 item 4): a recorder
# with [sync] on a prepared buffer of 21 days of a known load
# (tests/tools/fcbuf, ending now) forecasts the site and both meters and
# its sync worker forwards them; then phasor sync --once: every row of the
# buffer's forecasts table is in phasor.forecasts exactly once, every
# column equal (checksum); a second --once adds nothing; a local watermark
# behind the central mark (a stop between the two commits) sends rows again
# and the server keeps one copy; kill -9 of the sync in the middle of a
# large forecast backlog, 10 times, then a restart: still exactly once. A
# row the server refuses is quarantined and the rest goes on. Retention:
# old forecasts are pruned only once they are central. A buffer restored
# from a backup forwards its new forecasts under reused seqs, counted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
db="$T/fc.db"
"$TOOLS/fcbuf" "$db" 21 now 2>"$T/fcbuf.log" || t_fail "fcbuf: $(cat "$T/fcbuf.log")"
dead=$(t_port)
# fc_config FILE CONNINFO
fc_config() {
	{
		printf '[site]\nname = Forecast sync test\ntimezone = Europe/Paris\n'
		printf '[store]\npath = %s\ncommit_interval = 200ms\nretention = 30d\n' "$db"
		printf '[sync]\npostgres = %s\ninterval = 1s\n' "$2"
		t_fcbuf_meters "$dead"
	} >"$1"
}
fc_config "$T/fc.ini" "$PG_CONNINFO"
q() { t_sql "$db" "$1"; }
fc_max() { q "SELECT coalesce(max(seq), 0) FROM forecasts"; }
fc_wm() { q "SELECT value FROM meta WHERE key = 'sync.forecasts_seq'"; }
console=$(sync_console_id "$db")
central_n() { t_psql "SELECT count(*) FROM phasor.forecasts WHERE console = '$console'"; }

# The recorder forecasts at its start; its sync worker forwards them.
t_bg recorder "$PHASOR" record -c "$T/fc.ini"
REC_PID=$T_LAST_PID
made_all() { [ "$(q "SELECT count(DISTINCT meter) FROM forecasts")" = 3 ]; }
t_wait 60 made_all || t_fail "the recorder stores no forecast of the site and both meters"
synced() { [ "$(fc_wm)" -gt 0 ] && [ "$(fc_wm)" = "$(fc_max)" ]; }
t_wait 60 synced || t_fail "the recorder's sync worker did not forward the forecasts ($(fc_wm) of $(fc_max))"
t_stop "$REC_PID"
t_no_sanitizer_errors "$T/recorder.log"
grep -q "sync: [a-z]*, forwarded [0-9]* samples, [0-9]* alarm events and [1-9][0-9]* forecast rows" \
	"$T/recorder.log" || t_fail "no forecast rows in the recorder's final sync line: $(grep 'sync:' "$T/recorder.log" | tail -3)"
"$PHASOR" sync -c "$T/fc.ini" --once >"$T/sync-1.log" 2>&1 || t_fail "sync --once exited $?: $(cat "$T/sync-1.log")"
r=$(fc_check "$db") || exit 1; n=${r% *} sum=${r#* }
[ "$n" -ge 200 ] || t_fail "only $n forecast rows"
t_eq "forecast series central" "|a|b" "$(t_psql "SELECT string_agg(DISTINCT meter, '|' ORDER BY meter) FROM phasor.forecasts")"
t_ok "recorder and --once: $n forecast rows, each once, identical (checksum $sum)"

# The relation as docs/sync.md documents it.
cols=$(t_psql "SELECT string_agg(column_name || ' ' || data_type, ',' ORDER BY ordinal_position)
	FROM information_schema.columns WHERE table_schema = 'phasor' AND table_name = 'forecasts'")
t_eq "phasor.forecasts columns" "time timestamp with time zone,console text,meter text,made timestamp with time zone,method text,interval_s integer,forecast double precision,lower80 double precision,upper80 double precision,lower95 double precision,upper95 double precision,seq bigint,took_us bigint" "$cols"
t_eq "phasor.forecasts key" "console,seq,made" "$(t_psql "SELECT string_agg(a.attname, ',' ORDER BY k.i)
	FROM pg_index x CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(n, i)
	JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n
	WHERE x.indrelid = 'phasor.forecasts'::regclass AND x.indisprimary")"
t_eq "schema version" 4 "$(t_psql "SELECT max(version) FROM phasor.schema_version")"
t_eq "central forecast mark = local max seq" "$(fc_max)" \
	"$(t_psql "SELECT forecasts_seq FROM phasor.consoles WHERE console = '$console'")"
"$PHASOR" sync -c "$T/fc.ini" --status >"$T/status-1.log" 2>&1 || t_fail "--status exited $?"
grep -qx "forecast_backlog 0" "$T/status-1.log" || t_fail "--status: $(cat "$T/status-1.log")"

# Again: nothing new, nothing doubled.
"$PHASOR" sync -c "$T/fc.ini" --once >"$T/sync-2.log" 2>&1 || t_fail "second --once exited $?"
grep -q "and 0 forecast rows" "$T/sync-2.log" || t_fail "second --once forwarded forecasts: $(cat "$T/sync-2.log")"
t_eq "central rows after a second --once" "$n" "$(central_n)"

# add_runs N MADE_S: N runs of the site and both meters (192 intervals
# each), the first made at MADE_S (Unix s), one a minute, seqs from the
# AUTOINCREMENT counter as the store's writer gets them.
add_runs() {
	q "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < $1 * 576 - 1)
	INSERT INTO forecasts(made_us, meter, method, t_us, step_s, forecast, lower80, upper80,
			      lower95, upper95, took_us)
	SELECT ($2 + i / 576 * 60) * 1000000, CASE i / 192 % 3 WHEN 0 THEN '' WHEN 1 THEN 'a' ELSE 'b' END,
	       'dshw', (($2 + i / 576 * 60) / 900 + i % 192) * 900000000, 900,
	       CASE WHEN i % 991 = 0 THEN NULL ELSE 40000 + (i % 977) * 1.25 END,
	       36000 + (i % 977), 44000 + (i % 977) * 1.5, 30000 + (i % 977) * 0.1,
	       CASE WHEN i % 7 = 0 THEN NULL ELSE 50000 + (i % 977) / 3.0 END, 1000 + i % 13 FROM g" ||
		t_fail "cannot add forecast rows"
}

# A stop between the central commit and the local watermark: the local
# watermark behind the central mark. The rows between are sent again and
# the server keeps its copy.
add_runs 20 $(( $(date +%s) - 5 * 86400 ))
"$PHASOR" sync -c "$T/fc.ini" --once >"$T/sync-3.log" 2>&1 || t_fail "--once exited $?"
wm=$(fc_wm)
q "UPDATE meta SET value = value - 5000 WHERE key = 'sync.forecasts_seq'"
"$PHASOR" sync -c "$T/fc.ini" --once >"$T/sync-4.log" 2>&1 || t_fail "--once exited $?"
grep -q "forecast seqs $((wm - 4999)) to $wm sent again: the central database had them all" "$T/sync-4.log" ||
	t_fail "no resend said: $(cat "$T/sync-4.log")"
t_eq "local watermark after the resend" "$wm" "$(fc_wm)"
r=$(fc_check "$db") || exit 1; n=${r% *} sum=${r#* }
t_eq "restored forecasts counted" 0 "$(q "SELECT coalesce((SELECT value FROM meta WHERE key = 'sync.restored_forecasts'), 0)")"
t_ok "5000 rows sent again after a lost local watermark: $n rows, each once (checksum $sum)"

# kill -9 of phasor sync in a backlog of 57 600 new rows (6 batches), ten
# times: in odd rounds 20..500 ms after its start (before its first
# commit or in the middle, sometimes between the central commit and the
# local watermark), in even rounds as soon as its local watermark moves
# (mid-way: a batch committed, the others not yet).
interrupted=0
midway=0
moved() { [ "$(fc_wm)" -gt "$1" ]; }
for i in $(seq 1 10); do
	add_runs 100 $(( $(date +%s) - 4 * 86400 + i * 7200 ))
	wm0=$(fc_wm)
	"$PHASOR" sync -c "$T/fc.ini" >>"$T/sync-kill.log" 2>&1 &
	p=$!
	if [ $((i % 2)) = 1 ]; then
		sleep "0.$(( RANDOM % 5 ))$(( RANDOM % 8 + 2 ))"
	else
		t_wait 60 moved "$wm0" || t_fail "the sync forwards nothing"
	fi
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	wm=$(fc_wm)
	if [ "$wm" -lt "$(fc_max)" ]; then
		interrupted=$((interrupted + 1))
		# some batches of the round committed, not all: killed mid-way
		[ "$wm" -gt "$wm0" ] && midway=$((midway + 1))
	fi
done
[ "$interrupted" -ge 3 ] || t_fail "only $interrupted of 10 kills landed before the end of the backlog"
[ "$midway" -ge 1 ] || t_fail "no kill landed between two forecast batches"
t_eq "duplicates after the kills" 0 \
	"$(t_psql "SELECT count(*) - count(DISTINCT (console, seq)) FROM phasor.forecasts")"
"$PHASOR" sync -c "$T/fc.ini" --once >"$T/sync-5.log" 2>&1 || t_fail "--once after the kills exited $?"
t_no_sanitizer_errors "$T/sync-5.log"
r=$(fc_check "$db") || exit 1; n=${r% *} sum=${r#* }
[ "$n" -gt 500000 ] || t_fail "only $n rows after the kills"
t_ok "10 kills ($interrupted with forecast rows still to send, $midway between batches), restart: $n rows, each once (checksum $sum)"

# A row the server refuses (a made time before 4713 BC: SQLSTATE 22008)
# is quarantined; the rows after it go on.
before=$(central_n)
q "INSERT INTO forecasts(made_us, meter, method, t_us, step_s, forecast) VALUES
	(-9000000000000000000, 'a', 'dshw', $(( $(date +%s) * 1000000 )), 900, 1.5)"
bad=$(fc_max)
add_runs 1 $(( $(date +%s) - 3600 ))
"$PHASOR" sync -c "$T/fc.ini" --once >"$T/sync-6.log" 2>&1 || t_fail "--once with a bad row exited $?"
t_eq "rows central past the bad one" $((before + 576)) "$(central_n)"
t_eq "local watermark past the bad row" "$(fc_max)" "$(fc_wm)"
"$PHASOR" sync -c "$T/fc.ini" --quarantine >"$T/quarantine.csv" 2>&1 || t_fail "--quarantine exited $?"
t_eq "quarantined forecast" "forecast,$bad,a,dshw,1.5,,22008" \
	"$(grep '^forecast,' "$T/quarantine.csv" | cut -d, -f1,2,4-8)"
grep -q "forecast seq $bad quarantined: .*out of range" "$T/sync-6.log" || t_fail "no quarantine said: $(cat "$T/sync-6.log")"
q "DELETE FROM forecasts WHERE seq = $bad"
"$PHASOR" sync -c "$T/fc.ini" --retry >"$T/retry.log" 2>&1 || t_fail "--retry exited $?"
grep -q "quarantine: 0 rows taken by the server, 0 still refused" "$T/retry.log" || t_fail "--retry: $(cat "$T/retry.log")"
t_eq "quarantine after the row is gone" 0 "$(q "SELECT count(*) FROM sync_quarantine")"
r=$(fc_check "$db") || exit 1; n=${r% *} sum=${r#* }
t_ok "a refused row quarantined, the rest forwarded: $n rows (checksum $sum)"

# Retention (30 d), on a second buffer: 5 runs made 40 days ago, then 2
# of yesterday, none central yet. With the server down the housekeeping
# still runs and keeps them all; once they are central the old ones are
# pruned (whole runs), the newer ones stay.
db="$T/r.db"
"$TOOLS/fcbuf" "$db" 1 now 2>"$T/fcbuf.log" || t_fail "fcbuf: $(cat "$T/fcbuf.log")"
console=$(sync_console_id "$db")
fc_config "$T/r.ini" "$PG_CONNINFO"
fc_config "$T/down.ini" "host=127.0.0.1 port=$dead dbname=phasor user=phasor connect_timeout=3"
add_runs 5 $(( $(date +%s) - 40 * 86400 ))
add_runs 2 $(( $(date +%s) - 86400 ))
old="SELECT count(*) FROM forecasts WHERE made_us < ($(date +%s) - 30 * 86400) * 1000000"
t_eq "old forecasts stored" 2880 "$(q "$old")"
"$PHASOR" sync -c "$T/down.ini" --once >"$T/sync-down.log" 2>&1
t_eq "--once with the server down" 1 "$?"
t_eq "old unsynced forecasts after a pass with the server down" 2880 "$(q "$old")"
fc_rows "$db" >"$T/fc-before-prune.txt"
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync-7.log" 2>&1 || t_fail "--once exited $?"
t_no_sanitizer_errors "$T/sync-7.log"
t_eq "old forecasts once central" 0 "$(q "$old")"
t_eq "forecast rows kept (yesterday's)" 1152 "$(q "SELECT count(*) FROM forecasts")"
fc_central "$console" >"$T/fc-after-prune.txt"
t_eq "central rows = the buffer's before pruning" "$(md5sum <"$T/fc-before-prune.txt")" \
	"$(md5sum <"$T/fc-after-prune.txt")"
t_ok "retention: 2880 old rows kept while unsynced, pruned once central"

# A buffer restored from a backup: its next forecasts reuse seqs the server
# has, made later: new rows under (console, seq, made), forwarded and
# counted as restored, none dropped as a resend.
sqlite3 "$db" ".backup '$T/r-backup.db'" || t_fail "backup failed"
add_runs 1 $(( $(date +%s) - 7200 ))
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync-8.log" 2>&1 || t_fail "--once exited $?"
lo=$(( $(fc_max) - 575 ))
rm -f "$db" "$db-wal" "$db-shm"
cp "$T/r-backup.db" "$db"
made2=$(( $(date +%s) - 3600 ))
add_runs 1 $made2
t_eq "the restored buffer's new rows reuse the seqs" "$lo $((lo + 575))" "$(q "SELECT min(seq), max(seq) FROM forecasts WHERE seq >= $lo" | tr '|' ' ')"
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync-9.log" 2>&1 || t_fail "--once after the restore exited $?"
grep -q "576 forecast rows with seqs $lo to $((lo + 575)) (at or below the central high-water mark $((lo + 575))) were not in the central database" \
	"$T/sync-9.log" || t_fail "the restored rows not said: $(cat "$T/sync-9.log")"
t_eq "restored forecasts counted" 576 "$(q "SELECT value FROM meta WHERE key = 'sync.restored_forecasts'")"
t_eq "central rows of those seqs (both timelines)" "1152|2" \
	"$(t_psql "SELECT count(*), count(DISTINCT made) FROM phasor.forecasts WHERE console = '$console' AND seq >= $lo")"
# central less the lost timeline's run and the rows pruned locally (old)
fc_central "$console" | awk -F'|' -v lo="$lo" -v made2="${made2}000000" -v old="$(( $(date +%s) - 30 * 86400 ))000000" \
	'$2 >= old && ($1 < lo || $2 == made2)' >"$T/fc-restored.txt"
t_eq "the restored buffer's rows central, identical" "$(fc_rows "$db" | md5sum)" "$(md5sum <"$T/fc-restored.txt")"
t_ok "restored buffer: 576 new forecast rows under reused seqs forwarded and counted"
