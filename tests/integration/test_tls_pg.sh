#!/bin/bash
# SPDX-License-Identifier: MIT
# The sync over TLS with real certificates (issue 16, item 2): a private CA
# made with openssl, PostgreSQL with ssl = on and a pg_hba.conf that refuses
# TCP without TLS. phasor sync with sslmode=verify-full
# - through [sync] ca_file (sslrootcert and verify-full added): every
#   buffered row arrives exactly once (compared with the buffer);
# - through sslrootcert and sslmode in the conninfo itself: the same;
# - to a host name the certificate does not name, or with another CA:
#   refused with libpq's message, nothing forwarded, the backlog kept.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/tls_lib.sh"

tls_ca plant
tls_ca other
# The server's certificate names localhost only (not 127.0.0.1).
tls_cert plant pgserver localhost "DNS:localhost" serverAuth

t_postgres
# The key must belong to the server's user and be 0600 (postgres refuses it otherwise).
cp "$TLS/pgserver.pem" "$PG_DATA/server.crt"
cp "$TLS/pgserver.key" "$PG_DATA/server.key"
chmod 600 "$PG_DATA/server.key"
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DATA/server.crt" "$PG_DATA/server.key"
cat >>"$PG_DATA/postgresql.conf" <<EOC
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOC
{ echo "hostnossl all all 0.0.0.0/0 reject"; cat "$PG_DATA/pg_hba.conf"; } >"$T/hba"
cat "$T/hba" >"$PG_DATA/pg_hba.conf"
t_pg_stop fast
t_pg_start
# TCP without TLS is refused: whatever phasor syncs below went over TLS.
PGCONNECT_TIMEOUT=5 psql "host=127.0.0.1 port=$PG_PORT dbname=phasor user=phasor sslmode=disable" \
	-X -qAt -c "SELECT 1" >"$T/plain.out" 2>&1 && t_fail "a plain TCP connection was accepted"
grep -q "no encryption" "$T/plain.out" || t_fail "plain TCP: $(cat "$T/plain.out")"
t_eq "ssl on the server" on "$(t_psql "SHOW ssl")"

t_sim --meters 3 --seed 7
base="host=localhost port=$PG_PORT dbname=phasor user=phasor connect_timeout=5"

# 1. The wrong host name first (127.0.0.1 is not in the certificate): the
# recorder's sync and sync --once refuse the server, nothing is forwarded.
db="$T/a.db"
PG_CONNINFO="host=127.0.0.1 port=$PG_PORT dbname=phasor user=phasor connect_timeout=5"
sync_config "$T/wrong.ini" "$db"
sed -i "/^postgres = /a ca_file = $TLS/plant-ca.pem" "$T/wrong.ini"
"$PHASOR" check-config -c "$T/wrong.ini" >"$T/check.log" 2>&1 || t_fail "check-config: $(cat "$T/check.log")"
grep -q "sync: .* ca $TLS/plant-ca.pem" "$T/check.log" || t_fail "check-config does not show the sync CA"
"$PHASOR" record -c "$T/wrong.ini" --for 4 >"$T/record-wrong.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record-wrong.log"
# libpq's words (the CN and the SAN count as two names)
want='server certificate for "localhost" (and 1 other name) does not match host name "127.0.0.1"'
grep -qF "$want" "$T/record-wrong.log" ||
	t_fail "the recorder's sync did not say why: $(grep 'sync' "$T/record-wrong.log" | tail -2)"
"$PHASOR" sync -c "$T/wrong.ini" --once >"$T/sync-wrong.log" 2>&1
t_eq "sync --once exit status, wrong host name" 1 "$?"
grep -qF "$want" "$T/sync-wrong.log" || t_fail "sync --once: $(cat "$T/sync-wrong.log")"
# Not even the schema: the refused connections never reached SQL.
t_eq "tables in schema phasor after the refusals" 0 \
	"$(t_psql "SELECT count(*) FROM pg_tables WHERE schemaname = 'phasor'")"
local_n=$(t_sql "$db" "SELECT count(*) FROM samples")
[ "$local_n" -gt 100 ] || t_fail "only $local_n samples buffered"
"$PHASOR" sync -c "$T/wrong.ini" --status >"$T/status-wrong.txt" 2>&1 || t_fail "sync --status exited $?"
t_eq "backlog after the refusals" "$local_n" "$(awk '$1 == "backlog" { print $2 }' "$T/status-wrong.txt")"
t_eq "watermark after the refusals" 0 "$(awk '$1 == "watermark" { print $2 }' "$T/status-wrong.txt")"

# 2. Another CA: the chain does not verify.
sed "s#ca_file = .*#ca_file = $TLS/other-ca.pem#; s#host=127.0.0.1#host=localhost#" "$T/wrong.ini" >"$T/otherca.ini"
"$PHASOR" sync -c "$T/otherca.ini" --once >"$T/sync-otherca.log" 2>&1
t_eq "sync --once exit status, other CA" 1 "$?"
grep -q "phasor sync: .*certificate verify failed" "$T/sync-otherca.log" ||
	t_fail "sync --once with the other CA: $(cat "$T/sync-otherca.log")"

# 3. The right name and [sync] ca_file: verify-full, every row once.
sed "s#ca_file = .*#ca_file = $TLS/plant-ca.pem#; s#host=127.0.0.1#host=localhost#" "$T/wrong.ini" >"$T/good.ini"
"$PHASOR" sync -c "$T/good.ini" --once >"$T/sync-good.log" 2>&1 || t_fail "sync --once: $(cat "$T/sync-good.log")"
t_no_sanitizer_errors "$T/sync-good.log"
n=$(sync_check "$db")
t_eq "rows synced over verify-full ([sync] ca_file)" "$local_n" "$n"

# The session was TLS, verify-full: seen from the server while a sync runs.
"$PHASOR" record -c "$T/good.ini" --for 3 >"$T/record-good.log" 2>&1 &
rec=$!
ssl_seen() {
	[ "$(t_psql "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid)
		WHERE application_name = 'phasor-sync' AND ssl")" -ge 1 ]
}
t_wait 20 ssl_seen || t_fail "no TLS session of phasor-sync seen on the server"
wait "$rec" || t_fail "record (good) exited $?"
t_no_sanitizer_errors "$T/record-good.log"
grep -q "does not match\|certificate verify failed" "$T/record-good.log" && t_fail "the good config was refused"

# 4. sslmode and sslrootcert in the conninfo itself (no ca_file): the same.
sed -i "/^ca_file = /d; s#^postgres = .*#postgres = $base sslmode=verify-full sslrootcert=$TLS/plant-ca.pem#" "$T/good.ini"
"$PHASOR" record -c "$T/good.ini" --for 3 >"$T/record-conninfo.log" 2>&1 || t_fail "record exited $?"
"$PHASOR" sync -c "$T/good.ini" --once >"$T/sync-conninfo.log" 2>&1 || t_fail "sync --once: $(cat "$T/sync-conninfo.log")"
local_n=$(t_sql "$db" "SELECT count(*) FROM samples")
n=$(sync_check "$db")
t_eq "rows synced over verify-full (conninfo)" "$local_n" "$n"
"$PHASOR" sync -c "$T/good.ini" --status >"$T/status-good.txt" 2>&1 || t_fail "sync --status exited $?"
t_eq "backlog after the sync" 0 "$(awk '$1 == "backlog" { print $2 }' "$T/status-good.txt")"
t_ok "verify-full sync: $n rows, each once; wrong host name and CA refused"
