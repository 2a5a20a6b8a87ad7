#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor check-config on a good and a bad file: exit codes 0 and 2, the
# summary of the good one (meters, profiles, topics), the exact file:line
# errors of the bad one, the default-path search and the usage errors.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export PHASOR_PROFILES="$ROOT/conf/profiles"
unset PHASOR_CONFIG

printf 's3cret\n' >"$T/mqtt.pass"
chmod 600 "$T/mqtt.pass"
printf 'leaky\n' >"$T/open.pass"
chmod 644 "$T/open.pass"

cat >"$T/good.ini" <<'EOF'
[site]
name = Le Mans plant
timezone = Europe/Paris

[store]
path = data/buffer.db                  ; relative: next to this file
retention = 30d

[mqtt]
uri = tcp://127.0.0.1:1883
client_id = phasor-console-1
username = phasor
password_file = mqtt.pass
qos = 1

[meter tgbt-1]
driver = modbus
profile = pac3200
host = 10.0.0.21
port = 502
unit = 1
poll_ms = 1000
nominal_voltage = 230
max_power = 50kW

[meter press-3]
driver = mqtt
profile = shelly-pro3em
topic = shellypro3em-press3/status/em:0
topic = shellypro3em-press3/status/emdata:0
EOF

"$PHASOR" check-config -c "$T/good.ini" >"$T/good.out" 2>"$T/good.err"
t_eq "good file exit status" 0 "$?"
t_eq "good file stderr" "" "$(cat "$T/good.err")"
for want in "meters (2):" "tgbt-1" "press-3" "10.0.0.21:502 unit 1" \
	"profiles (2):" "pac3200.ini" "shelly-pro3em.ini" \
	"topics subscribed (2):" \
	"shellypro3em-press3/status/em:0  -> press-3" \
	"shellypro3em-press3/status/emdata:0  -> press-3" \
	"store: $T/data/buffer.db" "site: Le Mans plant" \
	"mqtt: tcp://127.0.0.1:1883 client phasor-console-1 qos 1"; do
	grep -qF -- "$want" "$T/good.out" || { cat "$T/good.out"; t_fail "summary lacks '$want'"; }
done
grep -qF "s3cret" "$T/good.out" && t_fail "the summary shows the password"
t_ok "summary lists meters, profiles and topics"

# Five different errors on five lines, plus a refused secret.
cat >"$T/bad.ini" <<'EOF'
[mqtt]
uri = tcp://127.0.0.1:1883
password_file = open.pass
[metre x]
[meter a]
driver = modbus
profile = pac3200
host = 10.0.0.1
port = 70000
pol_ms = 100
[meter b]
driver = mqtt
profile = sdm630
topic = a/#/b
[meter c]
EOF
cat >"$T/bad.want" <<EOF
$T/bad.ini:3: password_file: $T/open.pass is readable by group or others (mode 0644); chmod 600 it
$T/bad.ini:4: unknown section [metre x]; did you mean [meter NAME]?
$T/bad.ini:9: port: 70000 is not a port (1..65535)
$T/bad.ini:10: unknown key 'pol_ms' in [meter a]; did you mean 'poll_ms'?
$T/bad.ini:13: profile sdm630 is a modbus profile but meter b uses driver mqtt
$T/bad.ini:14: topic: a/#/b is not a valid MQTT topic filter ('+' and '#' must be whole levels, '#' only last)
$T/bad.ini:15: missing key 'driver' in [meter c] (modbus, mqtt or sparkplug)
$T/bad.ini:15: missing key 'profile' in [meter c]
phasor: 8 errors in $T/bad.ini
EOF
"$PHASOR" check-config -c "$T/bad.ini" >"$T/bad.out" 2>"$T/bad.err"
t_eq "bad file exit status" 2 "$?"
t_eq "bad file stdout" "" "$(cat "$T/bad.out")"
diff -u "$T/bad.want" "$T/bad.err" >&2 || t_fail "bad file stderr differs"
t_ok "bad file: every error as file:line, in line order, and a count"

# The secret becomes acceptable once private.
chmod 600 "$T/open.pass"
"$PHASOR" check-config -c "$T/bad.ini" >/dev/null 2>"$T/bad2.err"
t_eq "bad file after chmod exit status" 2 "$?"
grep -q "open.pass" "$T/bad2.err" && t_fail "a 0600 secret is still refused"
t_eq "errors after chmod" "phasor: 7 errors in $T/bad.ini" "$(tail -n 1 "$T/bad2.err")"

# A missing file.
"$PHASOR" check-config -c "$T/nope.ini" >/dev/null 2>"$T/nope.err"
t_eq "missing file exit status" 2 "$?"
t_eq "missing file message" "$T/nope.ini: cannot read: No such file or directory" \
	"$(head -n 1 "$T/nope.err")"

# Without -c: $PHASOR_CONFIG, then $XDG_CONFIG_HOME/phasor/phasor.ini.
PHASOR_CONFIG="$T/good.ini" "$PHASOR" check-config >"$T/env.out" 2>&1
t_eq "PHASOR_CONFIG exit status" 0 "$?"
grep -qF "configuration: $T/good.ini" "$T/env.out" || t_fail "PHASOR_CONFIG not used"
mkdir -p "$T/xdg/phasor"
cp "$T/good.ini" "$T/xdg/phasor/phasor.ini"
cp "$T/mqtt.pass" "$T/xdg/phasor/mqtt.pass"
XDG_CONFIG_HOME="$T/xdg" "$PHASOR" check-config >"$T/xdg.out" 2>&1
t_eq "XDG_CONFIG_HOME exit status" 0 "$?"
grep -qF "configuration: $T/xdg/phasor/phasor.ini" "$T/xdg.out" || t_fail "XDG path not used"
if [ ! -e /etc/phasor/phasor.ini ]; then
	XDG_CONFIG_HOME="$T/none" HOME="$T/nohome" "$PHASOR" check-config >/dev/null 2>"$T/none.err"
	t_eq "no configuration exit status" 2 "$?"
	t_eq "no configuration message" \
		"phasor: no configuration file (tried $T/none/phasor/phasor.ini, /etc/phasor/phasor.ini); use -c FILE" \
		"$(cat "$T/none.err")"
fi

# Profiles found from the build tree without $PHASOR_PROFILES.
env -u PHASOR_PROFILES "$PHASOR" check-config -c "$T/good.ini" >"$T/tree.out" 2>&1
t_eq "profiles from the source tree exit status" 0 "$?"

# The complete example of docs/configuration.md is valid (secrets and the CA
# file moved into $T, the CA made by openssl now).
mkdir -p "$T/doc"
printf 'pw\n' >"$T/doc/mqtt.pass"
printf 'pw\n' >"$T/doc/pg.pass"
chmod 600 "$T/doc/mqtt.pass" "$T/doc/pg.pass"
# a real CA certificate: check-config reads the PEM (tlsfile.c)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/doc/ca.key" \
	-out "$T/doc/ca.pem" -days 2 -subj "/CN=doc test CA" >"$T/doc/openssl.out" 2>&1 ||
	t_fail "openssl: $(cat "$T/doc/openssl.out")"
sed -n '/^## A complete example/,$p' "$ROOT/docs/configuration.md" |
	sed -n '/^```ini$/,/^```$/p' | sed '1d;$d' |
	sed -e "s|/etc/phasor/mqtt.pass|mqtt.pass|; s|/etc/phasor/pg.pass|pg.pass|" \
	    -e "s|/etc/ssl/certs/plant-ca.pem|ca.pem|" >"$T/doc/phasor.ini"
grep -q '^\[meter ' "$T/doc/phasor.ini" || t_fail "no example found in docs/configuration.md"
"$PHASOR" check-config -c "$T/doc/phasor.ini" >"$T/doc.out" 2>"$T/doc.err"
t_eq "documented example exit status" 0 "$?"

# Usage.
"$PHASOR" check-config --help >"$T/help.out" 2>&1
t_eq "--help exit status" 0 "$?"
grep -q "usage: phasor check-config" "$T/help.out" || t_fail "--help prints no usage"
"$PHASOR" check-config --bogus >/dev/null 2>&1
t_eq "unknown option exit status" 2 "$?"
"$PHASOR" check-config -c "$T/good.ini" extra >/dev/null 2>&1
t_eq "extra argument exit status" 2 "$?"
# One option parser for every command (cmd_parse): the same messages.
"$PHASOR" check-config --bogus >/dev/null 2>"$T/opt1.err"
t_eq "check-config unknown option message" "phasor check-config: unknown option '--bogus'" \
	"$(head -n 1 "$T/opt1.err")"
"$PHASOR" record --bogus >/dev/null 2>"$T/opt2.err"
t_eq "record unknown option exit status" 2 "$?"
t_eq "record unknown option message" "phasor record: unknown option '--bogus'" \
	"$(head -n 1 "$T/opt2.err")"
grep -q "^usage: phasor record" "$T/opt2.err" || t_fail "record: no usage after the error"
"$PHASOR" sync --stauts >/dev/null 2>"$T/opt3.err"
t_eq "sync misspelt option message" \
	"phasor sync: unknown option '--stauts' (did you mean '--status'?)" "$(head -n 1 "$T/opt3.err")"
"$PHASOR" record -c "$T/good.ini" --for >/dev/null 2>"$T/opt4.err"
t_eq "record missing value message" "phasor record: option '--for' needs a value" \
	"$(head -n 1 "$T/opt4.err")"
"$PHASOR" --frames >/dev/null 2>"$T/opt5.err"
t_eq "console missing value exit status" 2 "$?"
t_eq "console missing value message" "phasor: option '--frames' needs a value" \
	"$(head -n 1 "$T/opt5.err")"
# The top-level usage comes from the command table.
"$PHASOR" --help >"$T/top.out" 2>&1
grep -q "^  phasor sync -c FILE \[--once\] *forward the local buffer to PostgreSQL$" "$T/top.out" ||
	t_fail "phasor --help: $(cat "$T/top.out")"

# The long-running commands refuse what they cannot start with.
"$PHASOR" record -c "$T/good.ini" --log "$T/good.ini/r.log" --for 0 >/dev/null 2>"$T/rlog.err"
t_eq "record with an unwritable log: exit status" 1 "$?"
grep -q "^phasor record: cannot open log $T/good.ini/r.log: Not a directory" \
	"$T/rlog.err" || t_fail "record: $(cat "$T/rlog.err")"
"$PHASOR" sync -c "$T/good.ini" --once >/dev/null 2>"$T/nosync.err"
t_eq "sync without [sync]: exit status" 2 "$?"
grep -q "has no \[sync\] section: nothing to forward to" "$T/nosync.err" ||
	t_fail "sync: $(cat "$T/nosync.err")"
"$PHASOR" sync -c "$T/good.ini" --log "$T/good.ini/s.log" --status >/dev/null 2>"$T/slog.err"
t_eq "sync with an unwritable log: exit status" 1 "$?"
grep -q "^phasor sync: cannot open log" "$T/slog.err" || t_fail "sync: $(cat "$T/slog.err")"

# The console refuses to run without a terminal (it would write escape
# sequences into a file), and refuses a bad option before the demo's
# plant starts.
"$PHASOR" -c "$T/good.ini" >"$T/notty.out" 2>"$T/notty.err" </dev/null
t_eq "console without a terminal: exit status" 2 "$?"
grep -q "the console needs a terminal (its output is not one)" "$T/notty.err" ||
	t_fail "console without a terminal: $(cat "$T/notty.err")"
t_eq "console without a terminal: bytes written" 0 "$(wc -c <"$T/notty.out")"
t_tmux_start badtheme 80 24 "$PHASOR" --demo --theme nosuch "2>$T/badtheme.err"
t_eq "--demo --theme nosuch: exit status" 2 "$(t_tmux_wait_exit badtheme 10)"
grep -q "nosuch" "$T/badtheme.err" || t_fail "--demo --theme nosuch: $(cat "$T/badtheme.err")"
grep -q "starting the simulated plant" "$T/badtheme.err" &&
	t_fail "--demo --theme nosuch started the plant first"
t_ok "console: no terminal and a bad theme refused before anything starts"

# A binary away from its profiles (copied, not installed): a shipped
# profile's name is not "unknown; did you mean" itself, the message says
# where it looked. (Only where nothing is installed under the prefix.)
mkdir -p "$T/away"
cp "$PHASOR" "$T/away/phasor"
prefix=$(sed -n 's/^PREFIX *?= *//p' "$(dirname "$0")/../../Makefile")
if [ ! -e "${prefix:-/usr/local}/share/phasor/profiles/pac3200.ini" ]; then
	printf '[meter a]\ndriver = modbus\nprofile = pac3200\nhost = h\n' >"$T/away.ini"
	env -u PHASOR_PROFILES "$T/away/phasor" check-config -c "$T/away.ini" >"$T/away.out" 2>&1
	t_eq "check-config away from the profiles: exit status" 2 "$?"
	grep -q "away.ini:3: profile: 'pac3200' is shipped with phasor but was not found (searched \$PHASOR_PROFILES, conf/profiles, .*): is phasor installed?" "$T/away.out" ||
		t_fail "away from the profiles: $(cat "$T/away.out")"
	env -u PHASOR_PROFILES "$T/away/phasor" sim --profile pac3200 --for 1 >"$T/away-sim.out" 2>&1
	t_eq "sim away from the profiles: exit status" 2 "$?"
	grep -q "^phasor sim: no profile 'pac3200' (searched .*): is phasor installed?" "$T/away-sim.out" ||
		t_fail "sim away from the profiles: $(cat "$T/away-sim.out")"
	t_ok "away from the profiles: $(cut -c1-90 "$T/away.out" | head -1)..."
fi

for f in "$T"/*.err "$T"/*.out; do
	t_no_sanitizer_errors "$f"
done
t_ok "check-config"
