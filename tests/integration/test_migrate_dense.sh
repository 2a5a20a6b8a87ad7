#!/bin/bash
# SPDX-License-Identifier: MIT
# The dense layout's migration (issue 17, docs/buffer.md "Samples: polls and
# blocks"): a real version-5 buffer (tests/data/buffer-v5.sql, written by an
# earlier phasor) grown to 300,540 samples, converted in place by `phasor
# record` in small batches, killed with -9 in the middle, then started again:
# - in the middle, every sample is readable, once (count, max(seq), export);
# - at the end the old table is gone, the samples are poll rows and blocks,
#   and `phasor export` is byte for byte the export of the version-5 file;
# - new samples get seqs after the old ones.
. "$(dirname "$0")/lib.sh"

export PHASOR_PROFILES="${PHASOR_PROFILES:-$(cd "$(dirname "$0")/../.." && pwd)/conf/profiles}"
data="$(cd "$(dirname "$0")/../data" && pwd)"
db="$T/v5.db"

command sqlite3 "$db" <"$data/buffer-v5.sql" || t_fail "cannot load the version-5 fixture"
t_eq "fixture schema" 5 "$(command sqlite3 "$db" "PRAGMA user_version")"
base=$(command sqlite3 "$db" "SELECT max(seq) FROM samples")
t0=$(command sqlite3 "$db" "SELECT max(t_us) FROM samples")
# Ten quantities of one meter per second, meters alternating, as a recorder
# of that version wrote them; every 997th value NaN (NULL) and bad.
command sqlite3 "$db" "WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < 299999)
	INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality, session_id)
	SELECT $base + 1 + i, $t0 + 1000000 * (1 + i / 10), 1 + (i / 10) % 2, i % 10,
	       CASE WHEN i % 997 = 0 THEN NULL ELSE (i % 1000) * 0.37 END,
	       CASE WHEN i % 997 = 0 THEN 1 ELSE 0 END, 1 FROM g;
	UPDATE meta SET value = $base + 300000 WHERE key = 'samples.last_seq';" ||
	t_fail "cannot grow the fixture"
total=$((base + 300000))
t_eq "samples before" "$total" "$(command sqlite3 "$db" "SELECT count(*) FROM samples")"
"$PHASOR" export --db "$db" >"$T/before.csv" 2>"$T/before.err" ||
	t_fail "export of the version-5 file: $(cat "$T/before.err")"
t_eq "csv rows before" "$((total + 1))" "$(wc -l <"$T/before.csv")"

printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db" >"$T/p.ini"
printf '[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = 1\nunit = 1\n' >>"$T/p.ini"

# ---- killed in the middle ----
left() { command sqlite3 "$db" "SELECT count(*) FROM samples_v6" 2>/dev/null; }
in_middle() {
	local n
	n=$(left) || return 1
	[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt $((total - 20000)) ]
}
# What the recorder says of itself (recorder_status, read by attached
# consoles: status bar "buffer ok (converting N %)", view 5).
status_migrating() {
	command sqlite3 "$db" "SELECT value FROM recorder_status WHERE key = 'recorder'" 2>/dev/null |
		grep -q "\"migrating\":true,\"migrate_done\":[1-9][0-9]*,\"migrate_total\":$total"
}
PHASOR_STORE_MIGRATE_ROWS=100 t_bg rec1 "$PHASOR" record -c "$T/p.ini"
REC1=$T_LAST_PID
t_wait 10 test -f "$db-recorder.lock" || t_fail "the recorder does not start"
t_tmux_start c1 80 24 env LANG=C "$PHASOR" -c "$T/p.ini"
t_wait 60 in_middle || t_fail "the migration was not seen in the middle ($(left) old rows left): $(tail -3 "$T/rec1.log")"
t_wait 20 status_migrating || t_fail "recorder_status does not say it converts: $(command sqlite3 "$db" "SELECT value FROM recorder_status")"
t_ok "recorder_status: migrating, done > 0, total $total"
t_tmux_wait c1 20 ' buffer ok \(converting [0-9]+ %\) ' || t_fail "the attached console does not show the conversion"
t_ok "status bar: $(t_tmux_capture c1 | grep -o 'buffer ok (converting [0-9]* %)')"
in_middle || t_fail "the migration ended before the kill; make it slower"
T_LAST_PID=$REC1
t_stop "$T_LAST_PID" KILL
rest=$(left)
[ "$rest" -gt 0 ] || t_fail "no old rows left after the kill"
t_ok "old rows left after kill -9: $rest"
t_eq "schema after the kill" 9 "$(command sqlite3 "$db" "PRAGMA user_version")"
grep -q "converting about $total samples to the dense layout" "$T/rec1.log" ||
	t_fail "no migration notice: $(head -5 "$T/rec1.log")"
grep -q "converting the buffer to the dense layout: .* %" "$T/rec1.log" ||
	t_fail "no progress line: $(head -5 "$T/rec1.log")"
t_eq "samples in the middle (no loss, no double)" "$total" "$(t_sql "$db" "SELECT count(*) FROM samples")"
t_eq "distinct seqs in the middle" "$total" "$(t_sql "$db" "SELECT count(DISTINCT seq) FROM samples")"
"$PHASOR" export --db "$db" >"$T/middle.csv" 2>"$T/middle.err" || t_fail "export in the middle: $(cat "$T/middle.err")"
cmp -s "$T/before.csv" "$T/middle.csv" || t_fail "export in the middle differs: $(diff "$T/before.csv" "$T/middle.csv" | head -5)"
t_ok "export in the middle is the version-5 export"

# ---- started again: the rest ----
t_bg rec2 "$PHASOR" record -c "$T/p.ini"
t_wait 120 grep -q "the buffer is in the dense layout" "$T/rec2.log" ||
	t_fail "the migration did not end: $(tail -3 "$T/rec2.log")"
# The closer packs the old windows into blocks within a few seconds.
closed() { [ "$(command sqlite3 "$db" "SELECT count(*) FROM polls WHERE t_us < $t0 + 400000000000")" = 0 ]; }
t_wait 60 closed || t_fail "old poll rows not closed into blocks"
t_stop "$T_LAST_PID" TERM
t_eq "old table gone" 0 "$(command sqlite3 "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'samples_v6'")"
nb=$(command sqlite3 "$db" "SELECT count(*) FROM blocks")
[ "$nb" -gt 10 ] || t_fail "only $nb blocks"
t_ok "blocks made: $nb"
t_eq "samples after" "$total" "$(t_sql "$db" "SELECT count(*) FROM samples")"
t_eq "max(seq) after" "$total" "$(t_sql "$db" "SELECT max(seq) FROM samples")"
t_eq "NaN kept as bad" 301 "$(t_sql "$db" "SELECT count(*) FROM samples WHERE value IS NULL AND quality = 1")"
"$PHASOR" export --db "$db" >"$T/after.csv" 2>"$T/after.err" || t_fail "export after: $(cat "$T/after.err")"
cmp -s "$T/before.csv" "$T/after.csv" || t_fail "export after differs: $(diff "$T/before.csv" "$T/after.csv" | head -5)"
t_ok "export after the migration is the version-5 export, byte for byte"
"$PHASOR" export --db "$db" --format jsonl --meter m2 --quantity v_l2n >"$T/m2.jsonl" ||
	t_fail "filtered export"
t_eq "one meter and quantity" "$(grep -c ',m2,v_l2n,' "$T/before.csv")" "$(wc -l <"$T/m2.jsonl")"
