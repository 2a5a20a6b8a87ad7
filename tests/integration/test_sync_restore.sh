#!/bin/bash
# SPDX-License-Identifier: MIT
# A buffer restored from a backup (issue 15 item 3, review D3): record,
# back the buffer up, record more, sync; restore the backup (same console
# id, its seqs start again below the central high-water mark), sync (it
# says the central mark is beyond anything it had), record more, sync.
# Every local row is then in phasor.samples exactly once ((seq, t_us)
# sets compared, values too), the rows of the lost timeline are still
# there, the sync output and --status say what happened, exit 0 only when
# nothing is left behind, and another --once sends nothing twice. Then the
# review's reproduction as it stands: the same backup restored again,
# record, sync straight away: the same guarantees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_sim --meters 3 --seed 13
db="$T/r.db"
sync_config "$T/r.ini" "$db"
# The same without [sync]: the recorder only records.
sed '/^\[sync\]/,/^interval/d' "$T/r.ini" >"$T/rr.ini"
grep -q "^\[sync\]" "$T/rr.ini" && t_fail "rr.ini still has [sync]"

"$PHASOR" record -c "$T/rr.ini" --for 2 >"$T/record1.log" 2>&1 || t_fail "record 1 exited $?"
sqlite3 "$db" ".backup '$T/r.bak'" || t_fail "backup failed"
bak_last=$(t_sql "$T/r.bak" "SELECT max(seq) FROM samples")
"$PHASOR" record -c "$T/rr.ini" --for 2 >"$T/record2.log" 2>&1 || t_fail "record 2 exited $?"
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync1.log" 2>&1 || t_fail "sync 1 exited $?"
n1=$(sync_check "$db")
console=$(sync_console_id "$db")
central_mark=$(t_psql "SELECT samples_seq FROM phasor.consoles WHERE console = '$console'")
[ "$central_mark" -gt "$bak_last" ] || t_fail "central mark $central_mark not above the backup's $bak_last"
t_ok "before the restore: $n1 rows, central mark $central_mark, backup up to seq $bak_last"
# The rows of the timeline that the restore loses (they stay central).
t_psql "COPY (SELECT seq, (extract(epoch FROM time) * 1000000)::bigint FROM phasor.samples
	WHERE console = '$console' ORDER BY seq) TO STDOUT WITH (FORMAT csv)" >"$T/lost.csv"

# Restore.
cp "$T/r.bak" "$db"
rm -f "$db-wal" "$db-shm"
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync2.log" 2>&1 || t_fail "sync 2 exited $?"
grep -q "central sample high-water mark $central_mark is above this buffer's newest sample seq $bak_last" "$T/sync2.log" ||
	t_fail "the sync did not say the central mark is beyond the restored buffer: $(cat "$T/sync2.log")"
"$PHASOR" sync -c "$T/r.ini" --status >"$T/status2.log" 2>&1 || t_fail "--status exited $?"
grep -q "^warning central high-water mark $central_mark is above this buffer's newest sample seq $bak_last" "$T/status2.log" ||
	t_fail "--status has no warning: $(cat "$T/status2.log")"

# Record into the restored buffer: its new seqs are ones the server has.
"$PHASOR" record -c "$T/rr.ini" --for 4 >"$T/record3.log" 2>&1 || t_fail "record 3 exited $?"
last=$(t_sql "$db" "SELECT max(seq) FROM samples")
reused=$(t_sql "$db" "SELECT count(*) FROM samples WHERE seq > $bak_last AND seq <= $central_mark")
[ "$reused" -gt 0 ] || t_fail "no reused seqs (last $last, central mark $central_mark)"
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync3.log" 2>&1
t_eq "exit status of the sync after the restore" 0 "$?"
t_no_sanitizer_errors "$T/sync3.log"
new=$(t_sql "$db" "SELECT count(*) FROM samples WHERE seq > $bak_last")
grep -q "sync: forwarded $new samples" "$T/sync3.log" || t_fail "not 'forwarded $new samples': $(cat "$T/sync3.log")"
grep -q "sync: $reused sample rows with seqs $((bak_last + 1)) to $central_mark (at or below the central high-water mark $central_mark) were not in the central database" "$T/sync3.log" ||
	t_fail "no warning about the $reused reused seqs: $(cat "$T/sync3.log")"

# restore_check: every local row exactly once centrally, by (seq, t_us),
# with its values; $T/c.csv: the central (seq, t_us) of the console.
restore_check() {
	t_sql "$db" "SELECT s.seq, s.t_us, m.name, q.name,
		CASE WHEN s.value IS NULL THEN 'nan' ELSE printf('%!.17g', s.value) END
		FROM samples s JOIN meters m ON m.id = s.meter_id JOIN quantities q ON q.id = s.qty_id" |
		tr '|' ',' >"$T/local.csv"
	t_psql "COPY (SELECT seq, (extract(epoch FROM time) * 1000000)::bigint, meter, quantity,
		coalesce(value::text, 'nan') FROM phasor.samples WHERE console = '$console')
		TO STDOUT WITH (FORMAT csv)" >"$T/central.csv"
	rm -f "$T/restore.db"
	sqlite3 "$T/restore.db" <<EOS || t_fail "sqlite import failed"
CREATE TABLE l(seq INTEGER, t INTEGER, meter TEXT, qty TEXT, value TEXT);
CREATE TABLE c(seq INTEGER, t INTEGER, meter TEXT, qty TEXT, value TEXT);
CREATE TABLE lost(seq INTEGER, t INTEGER);
.mode csv
.import $T/local.csv l
.import $T/central.csv c
.import $T/lost.csv lost
EOS
	t_eq "local rows missing centrally" 0 "$($q "SELECT count(*) FROM l WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.seq = l.seq AND c.t = l.t)")"
	t_eq "(seq, time) more than once centrally" 0 "$($q "SELECT count(*) FROM (SELECT seq, t FROM c GROUP BY seq, t HAVING count(*) > 1)")"
	t_eq "local rows whose central names differ" 0 "$($q "SELECT count(*) FROM l JOIN c USING (seq, t)
		WHERE l.meter != c.meter OR l.qty != c.qty")"
	# The values compared as numbers by awk (strtod, correctly rounded):
	# SQLite's CAST of a 17-digit text to REAL may be off by one unit in
	# the last place (0.82707870000000006 and 0.8270787 are one double).
	t_eq "local rows whose central values differ" 0 "$($q "SELECT l.value || ' ' || c.value
		FROM l JOIN c USING (seq, t)" | awk '{ ln = $1 == "nan"; cn = $2 == "nan"
		if (ln != cn || (!ln && $1 + 0 != $2 + 0)) n++ } END { print n + 0 }')"
	t_eq "rows of the lost timelines still central" "$($q "SELECT count(*) FROM lost")" \
		"$($q "SELECT count(*) FROM lost JOIN c USING (seq, t)")"
}
q="sqlite3 -batch -noheader $T/restore.db"
restore_check
t_eq "central rows" "$(( $($q "SELECT count(*) FROM lost") + new ))" "$($q "SELECT count(*) FROM c")"
t_eq "local watermark" "$last" "$(t_sql "$db" "SELECT value FROM meta WHERE key = 'sync.samples_seq'")"

"$PHASOR" sync -c "$T/r.ini" --status >"$T/status3.log" 2>&1 || t_fail "--status exited $?"
grep -q "^backlog 0$" "$T/status3.log" || t_fail "--status: $(cat "$T/status3.log")"
grep -q "^restored $reused$" "$T/status3.log" || t_fail "--status has no 'restored $reused': $(cat "$T/status3.log")"
grep -q "^warning $reused samples at or below the central high-water mark were not in the central database" "$T/status3.log" ||
	t_fail "--status has no warning: $(cat "$T/status3.log")"
t_eq "journal events about it" 1 "$(t_sql "$db" "SELECT count(*) FROM events WHERE source = 'sync' AND what = 'restored'")"

# Again: nothing doubled.
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync4.log" 2>&1 || t_fail "sync 4 exited $?"
grep -q "forwarded 0 samples" "$T/sync4.log" || t_fail "sync 4: $(cat "$T/sync4.log")"
t_eq "central rows after another --once" "$($q "SELECT count(*) FROM c")" \
	"$(t_psql "SELECT count(*) FROM phasor.samples WHERE console = '$console'")"
t_ok "restored buffer: $new new rows ($reused with reused seqs) forwarded once, nothing lost"

# The reproduction of the review as it stands: restore the same backup
# again (its watermark 0), record, sync straight away. The seqs below the
# backup's end are sent again (the server has them), the rest are new rows.
t_psql "COPY (SELECT seq, (extract(epoch FROM time) * 1000000)::bigint FROM phasor.samples
	WHERE console = '$console' ORDER BY seq) TO STDOUT WITH (FORMAT csv)" >"$T/lost.csv"
central2=$(wc -l <"$T/lost.csv")
cp "$T/r.bak" "$db"
rm -f "$db-wal" "$db-shm"
"$PHASOR" record -c "$T/rr.ini" --for 2 >"$T/record5.log" 2>&1 || t_fail "record 5 exited $?"
"$PHASOR" sync -c "$T/r.ini" --once >"$T/sync5.log" 2>&1
t_eq "exit status of the sync after the second restore" 0 "$?"
new5=$(t_sql "$db" "SELECT count(*) FROM samples WHERE seq > $bak_last")
grep -q "sync: $new5 sample rows with seqs 1 to" "$T/sync5.log" ||
	t_fail "no warning about the $new5 reused seqs: $(cat "$T/sync5.log")"
restore_check
t_eq "central rows after the second restore" "$((central2 + new5))" "$($q "SELECT count(*) FROM c")"
t_ok "second restore: $new5 new rows under reused seqs forwarded once"
