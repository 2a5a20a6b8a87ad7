#!/bin/bash
# SPDX-License-Identifier: MIT
# What no real broker sends (issue 15, items 5 and 6), from a fake broker
# (tests/tools/mqttfake.c):
# - a PUBLISH whose topic holds a NUL byte ("sh1/status/em:0\0evil"): refused
#   and counted as malformed, never routed to the meter of the cut topic;
#   the good message after it is stored;
# - a broker that knows only MQTT 3.1.1: the MQTT 5 CONNECT is refused and
#   the link says what to set; with protocol = 3.1.1 the same broker works.
. "$(dirname "$0")/lib.sh"

TOPIC=sh1/status/em:0
ini() { # NAME PORT PROTOCOL
	cat >"$T/$1.ini" <<EOC
[site]
name = hostile broker
[store]
path = $T/$1.db
commit_interval = 100ms
[mqtt]
uri = tcp://127.0.0.1:$2
client_id = phasor-hostile
protocol = $3
[meter sh1]
driver = mqtt
profile = shelly-pro3em
topic = $TOPIC
EOC
}
values() { t_sql "$1" "SELECT group_concat(value, ',') FROM (SELECT value FROM samples ORDER BY seq)"; }

# 1. a topic with a NUL byte
port=$(t_port)
t_bg fake1 "$TOOLS/mqttfake" "$port" nul-topic "$TOPIC"
t_wait_port "$port"
ini nul "$port" 5
"$PHASOR" record -c "$T/nul.ini" --for 3 -v >"$T/nul.log" 2>&1 || t_fail "record exited $?"
t_eq "values stored (the NUL-topic message is not)" "222.5" "$(values "$T/nul.db")"
grep -q "topic with a NUL byte refused" "$T/nul.log" || t_fail "the refusal is not logged"
line=$(grep "link mqtt" "$T/nul.log" | tail -1)
t_eq "received" 2 "$(echo "$line" | grep -o 'received [0-9]*' | awk '{print $2}')"
t_eq "malformed" 1 "$(echo "$line" | grep -o 'malformed [0-9]*' | awk '{print $2}')"
t_eq "accepted" 1 "$(echo "$line" | grep -o 'accepted [0-9]*' | awk '{print $2}')"
if grep -q "evil" "$T/nul.log"; then t_fail "bytes after the NUL reached the log"; fi
t_no_sanitizer_errors "$T/nul.log"

# 2. a 3.1.1-only broker
port=$(t_port)
t_bg fake2 "$TOOLS/mqttfake" "$port" v3-only "$TOPIC"
t_wait_port "$port"
ini v5 "$port" 5
"$PHASOR" record -c "$T/v5.ini" --for 2 -v >"$T/v5.log" 2>&1 || t_fail "record exited $?"
grep -q "broker refuses MQTT 5; set \[mqtt\] protocol = 3.1.1" "$T/v5.log" ||
	t_fail "the MQTT 5 refusal does not name the fix: $(grep -i 'connect' "$T/v5.log" | tail -2)"
t_eq "nothing stored over a refused connection" "" "$(values "$T/v5.db")"
ini v3 "$port" 3.1.1
"$PHASOR" record -c "$T/v3.ini" --for 3 -v >"$T/v3.log" 2>&1 || t_fail "record (3.1.1) exited $?"
t_eq "3.1.1 values stored" "222.5" "$(values "$T/v3.db")"
t_no_sanitizer_errors "$T/v5.log"
t_no_sanitizer_errors "$T/v3.log"
t_ok "hostile broker: NUL topic refused, MQTT 5 refusal explained"
