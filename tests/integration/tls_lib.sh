# SPDX-License-Identifier: MIT
# Helpers shared by the TLS tests (sourced after lib.sh): a private CA and
# certificates made with the openssl command line in $T/tls at test time
# (never kept), and a mosquitto with TLS listeners.
command -v openssl >/dev/null || t_fail "openssl is not installed (scripts/deps.sh)"
TLS="$T/tls"
mkdir -p "$TLS"

# tls_ca NAME: $TLS/NAME-ca.pem and its key, a self-signed CA (P-256).
tls_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$TLS/$1-ca.key" -out "$TLS/$1-ca.pem" -days 2 -subj "/CN=$1 test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" >>"$TLS/openssl.log" 2>&1 ||
		t_fail "openssl: cannot make the CA $1"
	chmod 600 "$TLS/$1-ca.key"
}

# tls_cert CA NAME CN SAN USAGE: $TLS/NAME.pem signed by CA's key, $TLS/NAME.key
# (mode 0600); SAN like DNS:localhost,IP:127.0.0.1; USAGE serverAuth or clientAuth.
tls_cert() {
	local ca=$1 name=$2 cn=$3 san=$4 usage=$5
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$TLS/$name.key" -out "$TLS/$name.csr" -subj "/CN=$cn" \
		>>"$TLS/openssl.log" 2>&1 || t_fail "openssl: cannot make the key of $name"
	chmod 600 "$TLS/$name.key"
	printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' \
		"$san" "$usage" >"$TLS/$name.ext"
	openssl x509 -req -in "$TLS/$name.csr" -CA "$TLS/$ca-ca.pem" -CAkey "$TLS/$ca-ca.key" \
		-CAcreateserial -out "$TLS/$name.pem" -days 2 -extfile "$TLS/$name.ext" \
		>>"$TLS/openssl.log" 2>&1 || t_fail "openssl: cannot sign $name"
}

# tls_mosquitto: a private broker, CA "plant", with three TLS listeners on
# free loopback ports (one broker: a message published on one reaches the
# subscribers of all):
#   TLS_PORT        certificate "server" (localhost, 127.0.0.1)
#   TLS_WRONG_PORT  certificate "wronghost" (wrong.example only)
#   TLS_CERT_PORT   "server", and require_certificate: clients need one of the plant CA
# Needs tls_ca plant, tls_cert for server and wronghost first.
tls_mosquitto() {
	command -v mosquitto >/dev/null || t_fail "mosquitto is not installed"
	read -r TLS_PORT TLS_WRONG_PORT TLS_CERT_PORT <<<"$("$TOOLS/freeport" 3 | tr '\n' ' ')"
	cat >"$T/mosquitto.conf" <<EOC
per_listener_settings false
allow_anonymous true
persistence false
user $(id -un)
log_dest stdout
listener $TLS_PORT 127.0.0.1
cafile $TLS/plant-ca.pem
certfile $TLS/server.pem
keyfile $TLS/server.key
listener $TLS_WRONG_PORT 127.0.0.1
cafile $TLS/plant-ca.pem
certfile $TLS/wronghost.pem
keyfile $TLS/wronghost.key
listener $TLS_CERT_PORT 127.0.0.1
cafile $TLS/plant-ca.pem
certfile $TLS/server.pem
keyfile $TLS/server.key
require_certificate true
EOC
	t_bg mosquitto mosquitto -c "$T/mosquitto.conf"
	MQTT_PID=$T_LAST_PID
	t_wait_port "$TLS_PORT"
	t_wait_port "$TLS_WRONG_PORT"
	t_wait_port "$TLS_CERT_PORT"
}
