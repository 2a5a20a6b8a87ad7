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
	# Same values: compared as doubles by awk (strtod, correctly rounded;
	# SQLite's CAST of a 17-digit text to REAL may miss by one ulp, and the
	# two sides print the same double differently: 0.82707870000000006
	# here, 0.8270787 there).
	diff=$($q "SELECT count(*) FROM l LEFT JOIN c USING (seq) WHERE c.seq IS NULL
		OR l.t != c.t OR l.meter != c.meter OR l.qty != c.qty OR l.quality != c.quality")
	diff=$((diff + $($q "SELECT l.value || ' ' || c.value FROM l JOIN c USING (seq)" |
		awk '{ ln = $1 == "nan"; cn = $2 == "nan"
		if (ln != cn || (!ln && $1 + 0 != $2 + 0)) n++ } END { print n + 0 }')))
	[ "$diff" = 0 ] || {
		$q "SELECT l.*, '<>', c.* FROM l LEFT JOIN c USING (seq) WHERE c.seq IS NULL
			OR l.t != c.t OR l.meter != c.meter OR l.qty != c.qty LIMIT 5" >&2
		t_fail "$diff rows differ between the buffer and phasor.samples"
	}
	echo "$local_n"
}

# sync_grants: the least-privilege recipe of docs/deployment.md, run by the
# schema owner (the test's superuser) once the schema exists: a group role
# phasor_console holds the grants, one login role per console is a member
# (sync_role), and phasor.console_roles maps console ids to roles.
sync_grants() {
	t_psql "CREATE ROLE phasor_console NOLOGIN" >/dev/null || t_fail "CREATE ROLE phasor_console"
	t_psql "GRANT CONNECT, TEMPORARY ON DATABASE phasor TO phasor_console;
GRANT USAGE ON SCHEMA phasor TO phasor_console;
GRANT SELECT ON phasor.schema_version TO phasor_console;
GRANT SELECT, INSERT ON phasor.consoles, phasor.meters, phasor.sessions TO phasor_console;
GRANT UPDATE (host, version, last_sync, samples_seq, alarms_seq, forecasts_seq) ON phasor.consoles TO phasor_console;
GRANT UPDATE (driver, profile, host, port, unit, topics, description, last_seen) ON phasor.meters TO phasor_console;
GRANT UPDATE (end_time) ON phasor.sessions TO phasor_console;
GRANT INSERT ON phasor.samples, phasor.alarm_events, phasor.forecasts TO phasor_console;
GRANT EXECUTE ON FUNCTION phasor.ensure_partition(date) TO phasor_console;" >/dev/null ||
		t_fail "the grants of docs/deployment.md failed"
	t_psql "REVOKE CREATE ON SCHEMA public FROM PUBLIC" >/dev/null
}

# sync_role ROLE: a console's login role (no password: trust on loopback).
sync_role() {
	t_psql "CREATE ROLE $1 LOGIN IN ROLE phasor_console" >/dev/null || t_fail "CREATE ROLE $1"
}

# sync_map CONSOLE ROLE: the owner gives CONSOLE to ROLE.
sync_map() {
	t_psql "INSERT INTO phasor.console_roles(console, role) VALUES ('$1', '$2')" >/dev/null ||
		t_fail "cannot map $1 to $2"
}

# psql_as ROLE SQL: run SQL as ROLE; command tags, rows and errors on stdout.
psql_as() {
	PGCONNECT_TIMEOUT=5 psql "host=$PG_HOST port=$PG_PORT dbname=phasor user=$1" -X -At \
		-v ON_ERROR_STOP=1 -c "$2" 2>&1
}

# sync_console_id DB
sync_console_id() { t_sql "$1" "SELECT value FROM identity WHERE key = 'console_id'"; }

# fc_rows DB: the buffer's stored forecasts, one line per row in seq order:
# seq|made_us|meter|method|t_us|step_s|forecast|lower80|upper80|lower95|upper95|took_us
# (numbers as %.17g, NULL as nan, took_us NULL as empty).
fc_rows() {
	local v c=""
	for v in forecast lower80 upper80 lower95 upper95; do
		c="$c, CASE WHEN $v IS NULL THEN 'nan' ELSE printf('%!.17g', $v) END"
	done
	t_sql "$1" "SELECT seq, made_us, meter, method, t_us, step_s$c, coalesce(took_us, '')
		FROM forecasts ORDER BY seq" | fc_canon
}

# fc_central CONSOLE: the same lines from phasor.forecasts.
fc_central() {
	t_psql "COPY (SELECT seq, (extract(epoch FROM made) * 1000000)::bigint, meter, method,
		(extract(epoch FROM time) * 1000000)::bigint, interval_s,
		coalesce(forecast::text, 'nan'), coalesce(lower80::text, 'nan'),
		coalesce(upper80::text, 'nan'), coalesce(lower95::text, 'nan'),
		coalesce(upper95::text, 'nan'), coalesce(took_us::text, '')
		FROM phasor.forecasts WHERE console = '$1' ORDER BY seq)
		TO STDOUT WITH (FORMAT text, DELIMITER '|')" | fc_canon
}

# The two sides print the same double differently (0.82707870000000006
# and 0.8270787): the five values parsed and printed again, alike.
fc_canon() {
	awk -F'|' -v OFS='|' '{ for (i = 7; i <= 11; i++) if ($i != "nan") $i = sprintf("%.17g", $i + 0); print }'
}

# fc_check DB: every stored forecast of the buffer is in phasor.forecasts
# exactly once, every column the same (a checksum of all the rows, and a
# count of the seqs present more than once), nothing else of its console.
# Echoes "ROWS CHECKSUM".
fc_check() {
	local db=$1 console n sum dup
	console=$(sync_console_id "$db")
	fc_rows "$db" >"$T/fc-local.txt"
	fc_central "$console" >"$T/fc-central.txt" || t_fail "psql COPY of phasor.forecasts failed"
	dup=$(t_psql "SELECT count(*) - count(DISTINCT seq) FROM phasor.forecasts WHERE console = '$console'")
	[ "$dup" = 0 ] || t_fail "$dup forecast seqs more than once in phasor.forecasts"
	n=$(wc -l <"$T/fc-local.txt")
	[ "$n" = "$(wc -l <"$T/fc-central.txt")" ] ||
		t_fail "local $n forecast rows, central $(wc -l <"$T/fc-central.txt")"
	sum=$(md5sum <"$T/fc-local.txt" | cut -c1-12)
	[ "$sum" = "$(md5sum <"$T/fc-central.txt" | cut -c1-12)" ] || {
		diff "$T/fc-local.txt" "$T/fc-central.txt" | head -6 >&2
		t_fail "the forecast rows differ between the buffer and phasor.forecasts"
	}
	echo "$n $sum"
}

# sync_standby: after t_postgres, a hot standby of it made with
# pg_basebackup (streaming replication), started; sets P1 D1 H1 (the
# primary) and P2 D2 H2 (the standby: port, data directory, socket).
sync_standby() {
	P1=$PG_PORT D1=$PG_DATA H1=$PG_HOST
	P2=$(t_port) D2="$T/pg2/data" H2="$T/pg2/sock"
	mkdir -p "$T/pg2" "$H2"
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$T/pg2"
	t_pg_run "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$D2" -R -X stream \
		-c fast >"$T/basebackup.out" 2>&1 ||
		t_fail "pg_basebackup failed: $(cat "$T/basebackup.out")"
	printf "port = %d\nunix_socket_directories = '%s'\n" "$P2" "$H2" >>"$D2/postgresql.conf"
	T_CLEANUP_HOOK="${T_CLEANUP_HOOK:+$T_CLEANUP_HOOK; }t_pg_run '$PG_BIN/pg_ctl' -D '$D2' -m immediate stop >/dev/null 2>&1"
	t_pg_run "$PG_BIN/pg_ctl" -D "$D2" -l "$T/pg2/server.log" -w -t 30 start >/dev/null ||
		{ tail -20 "$T/pg2/server.log"; t_fail "the standby did not start"; }
}
