# SPDX-License-Identifier: MIT
# Helpers shared by the sync tests (sourced after lib.sh).

# sync_config FILE DB [EXTRA_STORE_LINES]: a config with $SIM_PORT meters
# m1..m3 (poll 200 ms), the buffer DB and [sync] to $PG_CONNINFO.
sync_config() {
	local cfg=$1 db=$2 extra=${3:-}
	cat >"$cfg" <<EOC
[site]
name = sync test
[store]
path = $db
commit_interval = 200ms
$extra
[sync]
postgres = $PG_CONNINFO
interval = ${SYNC_INTERVAL:-1s}
EOC
	for u in 1 2 3; do
		cat >>"$cfg" <<EOC
[meter m$u]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = $u
poll_ms = ${POLL_MS:-200}
timeout_ms = 500
EOC
	done
}

# sync_check DB: every local sample is in phasor.samples exactly once with
# the same time (us), meter, quantity, value and quality, and nothing else
# of this console is there. Echoes the row count.
sync_check() {
	local db=$1 console local_n central_n dup diff
	console=$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")
	t_sql "$db" "SELECT s.seq, s.t_us, m.name, q.name,
		CASE WHEN s.value IS NULL THEN 'nan' ELSE printf('%!.17g', s.value) END,
		CASE s.quality WHEN 0 THEN 'good' ELSE 'bad' END
		FROM samples s JOIN meters m ON m.id = s.meter_id JOIN quantities q ON q.id = s.qty_id
		ORDER BY s.seq" | tr '|' ',' >"$T/local.csv"
	t_psql "COPY (SELECT seq, (extract(epoch FROM time) * 1000000)::bigint, meter, quantity,
		coalesce(value::text, 'nan'), quality FROM phasor.samples
		WHERE console = '$console' ORDER BY seq) TO STDOUT WITH (FORMAT csv)" >"$T/central.csv" ||
		t_fail "psql COPY failed"
	rm -f "$T/cmp.db"
	sqlite3 "$T/cmp.db" <<EOS || t_fail "sqlite import failed"
CREATE TABLE l(seq INTEGER, t INTEGER, meter TEXT, qty TEXT, value TEXT, quality TEXT);
CREATE TABLE c(seq INTEGER, t INTEGER, meter TEXT, qty TEXT, value TEXT, quality TEXT);
.mode csv
.import $T/local.csv l
.import $T/central.csv c
EOS
	local q="sqlite3 -batch -noheader $T/cmp.db"
	local_n=$($q "SELECT count(*) FROM l")
	central_n=$($q "SELECT count(*) FROM c")
	dup=$($q "SELECT count(*) FROM (SELECT seq FROM c GROUP BY seq HAVING count(*) > 1)")
	[ "$dup" = 0 ] || t_fail "$dup seqs more than once in phasor.samples"
	[ "$local_n" = "$central_n" ] || t_fail "local $local_n rows, central $central_n rows"
	# Same values: compared as doubles (both sides print round-trip digits).
	diff=$($q "SELECT count(*) FROM l LEFT JOIN c USING (seq) WHERE c.seq IS NULL
		OR l.t != c.t OR l.meter != c.meter OR l.qty != c.qty OR l.quality != c.quality
		OR (l.value = 'nan') != (c.value = 'nan')
		OR (l.value != 'nan' AND CAST(l.value AS REAL) != CAST(c.value AS REAL))")
	[ "$diff" = 0 ] || {
		$q "SELECT l.*, '<>', c.* FROM l LEFT JOIN c USING (seq) WHERE c.seq IS NULL
			OR l.t != c.t OR l.meter != c.meter OR l.qty != c.qty LIMIT 5" >&2
		t_fail "$diff rows differ between the buffer and phasor.samples"
	}
	echo "$local_n"
}
