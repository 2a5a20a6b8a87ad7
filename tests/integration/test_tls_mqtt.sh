#!/bin/bash
# SPDX-License-Identifier: MIT
# MQTT over TLS with real certificates (issue 16, item 2): a private CA
# made with openssl, a mosquitto with TLS listeners, the simulator
# publishing over TLS (--mqtt ssl:// --mqtt-ca). phasor record
# - with the plant CA: connects, the samples stored are the values the
#   simulator published (its journal);
# - with another CA, or to a listener whose certificate names another
#   host: refused with the reason in the log (and view 5 of the console),
#   retried, nothing stored;
# - to a listener that requires client certificates: works with cert_file
#   and key_file, refused without, nothing stored;
# - check-config (and record) refuse a key file others can read, file:line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tls_lib.sh"

tls_ca plant
tls_ca other
tls_cert plant server localhost "DNS:localhost,IP:127.0.0.1" serverAuth
tls_cert plant wronghost wrong.example "DNS:wrong.example" serverAuth
tls_cert plant client phasor-console-1 "DNS:phasor-console-1" clientAuth
tls_mosquitto

t_sim --meters 1 --mqtt "ssl://localhost:$TLS_PORT" --mqtt-ca "$TLS/plant-ca.pem" \
	--mqtt-period 200ms --journal "$T/journal.csv"
t_wait 20 grep -q "mqtt: connected to ssl://localhost:$TLS_PORT" "$T/sim.log" ||
	t_fail "the simulator never connected over TLS"

# conf NAME URI [EXTRA [MQTT] lines]: $T/NAME.ini, buffer $T/NAME.db
conf() {
	cat >"$T/$1.ini" <<EOC
[store]
path = $T/$1.db
commit_interval = 100ms
[mqtt]
uri = $2
client_id = phasor-tls-$1
${3:-}
[meter s1]
driver = mqtt
profile = shelly-pro3em
topic = shellypro3em-sim1/status/em:0
poll_ms = 200
EOC
}
samples() { t_sql "$T/$1.db" "SELECT count(*) FROM samples"; }
have_samples() { [ "$(samples "$1")" -ge "$2" ]; }
failures() { grep -c "connect failed" "$T/$1.log"; }
retried() { [ "$(failures "$1")" -ge 3 ]; }

# refused NAME MESSAGE: record with NAME.ini fails to connect with MESSAGE,
# tries again (three attempts seen), stores nothing while the simulator
# publishes all along.
refused() {
	local name=$1 msg=$2 n
	t_bg "$name" "$PHASOR" record -c "$T/$name.ini" -v
	local pid=$T_LAST_PID
	t_wait 30 retried "$name" || t_fail "$name: not three connect attempts: $(failures "$name")"
	grep -qF "connect failed: $msg" "$T/$name.log" ||
		t_fail "$name: not refused with '$msg': $(grep 'connect failed' "$T/$name.log" | head -1)"
	t_stop "$pid" TERM || t_fail "$name: record exited $? on SIGTERM"
	t_no_sanitizer_errors "$T/$name.log"
	n=$(samples "$name")
	t_eq "$name: samples stored" 0 "$n"
	t_ok "$name refused: $msg"
}

# accepted NAME: record with NAME.ini stores samples; they are values the
# simulator published (compared as doubles with its journal).
accepted() {
	local name=$1 bad
	t_bg "$name" "$PHASOR" record -c "$T/$name.ini" -v
	local pid=$T_LAST_PID
	t_wait 30 have_samples "$name" 20 || t_fail "$name: no samples stored: $(grep -E 'connect|TLS' "$T/$name.log" | tail -3)"
	t_stop "$pid" TERM || t_fail "$name: record exited $? on SIGTERM"
	t_no_sanitizer_errors "$T/$name.log"
	grep -q "mqtt ssl://localhost:[0-9]*: connected" "$T/$name.log" || t_fail "$name: no 'connected'"
	"$PHASOR" export --db "$T/$name.db" --meter s1 --quantity v_l1n >"$T/$name.csv" ||
		t_fail "$name: export failed"
	bad=$(awk -F, 'FNR == 1 { f++ } f == 1 && $2 == "mqtt" && $3 == 1 && $4 == "v_l1n" {
			j[sprintf("%.17g", $5 + 0)] = 1 }
		f == 2 && FNR > 1 { n++; if (!(sprintf("%.17g", $4 + 0) in j)) bad++ }
		END { if (n == 0) print "none"; else print bad + 0 }' "$T/journal.csv" "$T/$name.csv")
	t_eq "$name: stored v_l1n values the simulator did not publish" 0 "$bad"
	t_ok "$name: $(samples "$name") samples over TLS"
}

# 1. The plant CA: connected, samples are the simulator's values.
conf good "ssl://localhost:$TLS_PORT" "ca_file = $TLS/plant-ca.pem"
"$PHASOR" check-config -c "$T/good.ini" >"$T/good.check" 2>&1 || t_fail "check-config good: $(cat "$T/good.check")"
grep -q "ca $TLS/plant-ca.pem" "$T/good.check" || t_fail "check-config does not show the CA"
accepted good

# 2. Another CA: the broker's certificate does not verify.
conf wrongca "ssl://localhost:$TLS_PORT" "ca_file = $TLS/other-ca.pem"
refused wrongca "TLS: certificate verify failed"

# 3. The plant CA, but the certificate is for wrong.example: by name and by address.
conf wronghost "ssl://localhost:$TLS_WRONG_PORT" "ca_file = $TLS/plant-ca.pem"
refused wronghost "TLS: certificate verify failed: hostname mismatch (the broker's certificate is not for localhost)"
conf wrongip "ssl://127.0.0.1:$TLS_WRONG_PORT" "ca_file = $TLS/plant-ca.pem"
refused wrongip "TLS: certificate verify failed: hostname mismatch (the broker's certificate is not for 127.0.0.1)"

# 4. A listener that requires client certificates: without one refused, with one fine.
conf nocert "ssl://localhost:$TLS_CERT_PORT" "ca_file = $TLS/plant-ca.pem"
refused nocert "TLS: the broker requires a client certificate ([mqtt] cert_file, key_file)"
conf withcert "ssl://localhost:$TLS_CERT_PORT" "ca_file = $TLS/plant-ca.pem
cert_file = $TLS/client.pem
key_file = $TLS/client.key"
"$PHASOR" check-config -c "$T/withcert.ini" >"$T/withcert.check" 2>&1 ||
	t_fail "check-config withcert: $(cat "$T/withcert.check")"
grep -q "cert $TLS/client.pem" "$T/withcert.check" || t_fail "check-config does not show the client certificate"
accepted withcert

# 5. The key readable by the group: check-config and record refuse it, file:line.
cp "$TLS/client.key" "$TLS/client-0640.key"
chmod 640 "$TLS/client-0640.key"
conf badkey "ssl://localhost:$TLS_CERT_PORT" "ca_file = $TLS/plant-ca.pem
cert_file = $TLS/client.pem
key_file = $TLS/client-0640.key"
want="$T/badkey.ini:9: key_file: $TLS/client-0640.key is readable by group or others (mode 0640); chmod 600 it"
"$PHASOR" check-config -c "$T/badkey.ini" >"$T/badkey.check" 2>&1
t_eq "check-config exit status, group-readable key" 2 "$?"
t_eq "check-config's error" "$want" "$(head -1 "$T/badkey.check")"
"$PHASOR" record -c "$T/badkey.ini" --for 1 >"$T/badkey.record" 2>&1
t_eq "record exit status, group-readable key" 2 "$?"
grep -qF "$want" "$T/badkey.record" || t_fail "record does not say why: $(cat "$T/badkey.record")"
[ -e "$T/badkey.db" ] && t_fail "record created a buffer with a refused configuration"

# 6. The console shows why in view 5 (sources) and the status line.
conf conwrong "ssl://localhost:$TLS_WRONG_PORT" "ca_file = $TLS/plant-ca.pem"
t_tmux_start con 200 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/conwrong.ini"
t_tmux_keys con 5
t_tmux_wait con 30 "hostname mismatch \(the broker's certificate is not for localhost\)" ||
	t_fail "view 5 does not show the hostname mismatch"
t_ok "view 5: $(t_tmux_capture con | grep -o "TLS: certificate verify failed[^│]*" | head -1)"
t_tmux_quit con
t_eq "console exit status" 0 "$(t_tmux_wait_exit con 10)"
t_eq "conwrong: samples stored" 0 "$(samples conwrong)"

# 7. The simulator checks the broker too, and its TLS options need ssl://.
"$PHASOR" sim --modbus 127.0.0.1:0 --meters 1 --mqtt "ssl://localhost:$TLS_PORT" \
	--mqtt-ca "$TLS/other-ca.pem" --for 3 >"$T/simbad.out" 2>&1
grep -q "TLS: .*certificate verify failed" "$T/simbad.out" ||
	t_fail "sim with the wrong CA: $(grep mqtt "$T/simbad.out" | head -2)"
grep -q "mqtt: connected" "$T/simbad.out" && t_fail "sim connected with the wrong CA"
"$PHASOR" sim --modbus 127.0.0.1:0 --mqtt "tcp://127.0.0.1:$TLS_PORT" \
	--mqtt-ca "$TLS/plant-ca.pem" --for 1 >"$T/simtcp.out" 2>&1
t_eq "sim --mqtt-ca with tcp:// exit status" 2 "$?"
grep -q "need --mqtt ssl://" "$T/simtcp.out" || t_fail "sim: $(cat "$T/simtcp.out")"
t_no_sanitizer_errors "$T/sim.log"
t_ok "TLS to MQTT: verified, refused when it must be, client certificates"
