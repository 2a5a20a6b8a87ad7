#!/bin/bash
# SPDX-License-Identifier: MIT
# Rows the server refuses for a data reason (here: times with no partition,
# year 2200 and 1990) are quarantined with the error and do not block the
# others; --quarantine lists (exports) them, --retry sends them again once
# the cause is fixed. Alarm journal rows are forwarded once per event id.
# Retention prunes synced rows only; the quota prunes oldest first,
# unsynced ones last, counted in meta and the events journal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_sim --meters 3 --seed 4
db="$T/q.db"
sync_config "$T/q.ini" "$db"
"$PHASOR" record -c "$T/q.ini" --for 2 >"$T/record.log" 2>&1 || t_fail "record exited $?"
last=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'samples.last_seq'")
wm0=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'sync.samples_seq'")
# Two bad rows in the middle of 3000 good ones (not yet synced).
t_sql "$db" "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 3000)
	INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality)
	SELECT $last + i, CASE i WHEN 1000 THEN 7258118400000000 WHEN 2000 THEN 631152000000000
	ELSE $(( $(date +%s) * 1000000 )) - i END, 1, 3, i, 0 FROM g;
	UPDATE meta SET value = $last + 3000 WHERE key = 'samples.last_seq';"
# Alarm journal rows; the same event id twice (from another console) is one row.
t_sql "$db" "INSERT INTO alarm_events(t_us, id, origin, alarm, meter, quantity, priority, event, state, value, limit_value, operator, note)
	VALUES($(( $(date +%s) * 1000000 )), 'c1:1', 'c1', 'overvoltage', 'm1', 'v_l1n', 'high', 'raise', 'unack', 253.5, 250, NULL, NULL),
	      ($(( $(date +%s) * 1000000 + 5 )), 'c1:2', 'c1', 'overvoltage', 'm1', 'v_l1n', 'high', 'ack', 'ack', NULL, NULL, 'alice', 'checked, \"ok\"')"
"$PHASOR" sync -c "$T/q.ini" --once >"$T/sync.log" 2>&1 || t_fail "sync --once exited $?"
grep -q "quarantined" "$T/sync.log" || t_fail "no quarantine logged"
console=$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")
t_eq "good rows central" "$(( $(t_sql "$db" "SELECT count(*) FROM samples") - 2 ))" \
	"$(t_psql "SELECT count(*) FROM phasor.samples WHERE console = '$console'")"
t_eq "watermark past the bad rows" "$((last + 3000))" "$(t_sql "$db" "SELECT value FROM meta WHERE key = 'sync.samples_seq'")"
"$PHASOR" sync -c "$T/q.ini" --quarantine >"$T/quarantine.csv" || t_fail "--quarantine exited $?"
head -1 "$T/quarantine.csv" | grep -q '^kind,seq,time,meter,quantity,value,quality,sqlstate,error' || t_fail "bad header"
t_eq "quarantined rows" 2 "$(tail -n +2 "$T/quarantine.csv" | wc -l)"
t_eq "quarantined seqs" "$((last + 1000)) $((last + 2000))" "$(tail -n +2 "$T/quarantine.csv" | cut -d, -f2 | xargs)"
grep -q "^sample,$((last + 1000)),2200-01-01T00:00:00.000Z,m1,.*,23514,.*no partition" "$T/quarantine.csv" ||
	t_fail "quarantine row: $(cat "$T/quarantine.csv")"
t_eq "quarantine events" 2 "$(t_sql "$db" "SELECT count(*) FROM events WHERE source = 'sync' AND what = 'quarantine'")"
# The alarm journal.
t_eq "alarm events central" "2" "$(t_psql "SELECT count(*) FROM phasor.alarm_events")"
t_eq "alarm event fields" "c1|overvoltage|m1|v_l1n|high|ack|ack||||alice|checked, \"ok\"" \
	"$(t_psql "SELECT console, alarm, meter, quantity, priority, event, state, value, \"limit\", raised, operator, note FROM phasor.alarm_events WHERE id = 'c1:2'")"
t_eq "alarm value and limit" "253.5|250" "$(t_psql "SELECT value, \"limit\" FROM phasor.alarm_events WHERE id = 'c1:1'")"

# Retry: still refused, then fixed for one of them.
"$PHASOR" sync -c "$T/q.ini" --retry >"$T/retry1.log" 2>&1 || t_fail "--retry exited $?"
grep -q "0 rows taken by the server, 2 still refused" "$T/retry1.log" || t_fail "retry 1: $(cat "$T/retry1.log")"
t_psql "CREATE TABLE phasor.samples_22000101 PARTITION OF phasor.samples FOR VALUES FROM ('2200-01-01 00:00:00+00') TO ('2200-01-02 00:00:00+00')"
"$PHASOR" sync -c "$T/q.ini" --retry >"$T/retry2.log" 2>&1 || t_fail "--retry exited $?"
grep -q "1 rows taken by the server, 1 still refused" "$T/retry2.log" || t_fail "retry 2: $(cat "$T/retry2.log")"
t_eq "row of 2200 central" 1 "$(t_psql "SELECT count(*) FROM phasor.samples WHERE time = '2200-01-01 00:00:00+00' AND seq = $((last + 1000))")"
t_eq "attempts of the row still refused" 3 "$(t_sql "$db" "SELECT attempts FROM sync_quarantine")"

# Retention: synced rows older than 1h go, unsynced and quarantined ones stay.
sed -i 's/^commit_interval = 200ms$/commit_interval = 200ms\nretention = 1h/' "$T/q.ini"
old=$(( ($(date +%s) - 7200) * 1000000 ))
last=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'samples.last_seq'")
t_sql "$db" "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 20000)
	INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality) SELECT $last + i, $old + i, 2, 4, i, 0 FROM g;
	UPDATE meta SET value = $last + 20000 WHERE key = 'samples.last_seq';"
before=$(t_sql "$db" "SELECT count(*) FROM samples")
t_pg_stop fast
"$PHASOR" sync -c "$T/q.ini" --once >"$T/sync-down.log" 2>&1 && t_fail "--once succeeded with the server down"
t_eq "unsynced old rows kept (server down)" "$before" "$(t_sql "$db" "SELECT count(*) FROM samples")"
t_pg_start
"$PHASOR" sync -c "$T/q.ini" --once >"$T/sync-ret.log" 2>&1 || t_fail "sync --once exited $?"
t_eq "old synced rows pruned" 20000 "$((before - $(t_sql "$db" "SELECT count(*) FROM samples")))"
t_eq "quarantined row kept" 1 "$(t_sql "$db" "SELECT count(*) FROM samples WHERE seq = (SELECT seq FROM sync_quarantine)")"
t_eq "the pruned rows are central" 20000 "$(t_psql "SELECT count(*) FROM phasor.samples WHERE meter = 'm2' AND quantity = (SELECT quantity FROM phasor.samples WHERE seq = $((last + 1)))  AND time < now() - interval '1 hour'")"

# Quota: 400 000 unsynced rows with the server down, quota 4MB.
sed -i 's/^retention = 1h$/retention = 30d\nquota = 4MB/' "$T/q.ini"
t_pg_stop fast
last=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'samples.last_seq'")
now_us=$(( $(date +%s) * 1000000 ))
t_sql "$db" "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < 400000)
	INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality) SELECT $last + i, $now_us - 400000 + i, 3, 5, i * 1.5, 0 FROM g;
	UPDATE meta SET value = $last + 400000 WHERE key = 'samples.last_seq';"
"$PHASOR" sync -c "$T/q.ini" --once >"$T/sync-quota.log" 2>&1 && t_fail "--once succeeded with the server down"
used=$(t_sql "$db" "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count, pragma_freelist_count, pragma_page_size")
[ "$used" -le 4000000 ] || t_fail "buffer uses $used bytes, over the 4MB quota"
dropped=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'sync.quota_dropped'")
[ "$dropped" -gt 0 ] || t_fail "nothing counted as dropped under the quota"
left=$(t_sql "$db" "SELECT count(*) FROM samples WHERE seq > $last")
t_eq "dropped + kept = added" 400000 "$((dropped + left))"
t_eq "the oldest went first" "$((last + dropped + 1))" "$(t_sql "$db" "SELECT min(seq) FROM samples WHERE seq > $last")"
t_sql "$db" "SELECT text FROM events WHERE source = 'store' AND what = 'quota'" | grep -q "^$dropped unsynced samples deleted under \[store\] quota" ||
	t_fail "no quota event with the count: $(t_sql "$db" "SELECT text FROM events WHERE what = 'quota'")"
t_ok "quota: $dropped unsynced rows dropped oldest first, $left kept, $used bytes used"
"$PHASOR" sync -c "$T/q.ini" --status >"$T/status.txt" || t_fail "--status exited $?"
grep -qx "quota_dropped $dropped" "$T/status.txt" || t_fail "status: $(cat "$T/status.txt")"
t_pg_start
"$PHASOR" sync -c "$T/q.ini" --once >"$T/sync-after.log" 2>&1 || t_fail "sync --once exited $?"
t_eq "kept rows central" "$left" "$(t_psql "SELECT count(*) FROM phasor.samples WHERE seq > $last")"
