#!/bin/bash
# SPDX-License-Identifier: MIT
# Oversized MQTT payloads do not cost memory (issue 15, item 5). Three
# 100 MiB QoS 1 payloads are published on a meter's topic while `phasor
# record` runs. Over MQTT 5 (the default) phasor announces a maximum packet
# size of 64 KiB + 4 KiB, so the broker drops them instead of sending them:
# the recorder's peak resident memory (VmHWM) stays that of a quiet
# recorder, and the good messages around them are stored. (Before, paho
# read each one whole and copied it: 400 MiB peak, 200 MiB kept.)
# With protocol = 3.1.1 the limit cannot be announced: the messages are
# read and counted as too large, and the documented bound is the broker's
# message_size_limit (set here to 1 MiB), which the peak then respects.
. "$(dirname "$0")/lib.sh"

t_mosquitto
head -c $((100 << 20)) /dev/zero | tr '\0' 'x' >"$T/huge.json"
write_ini() { # FILE PROTOCOL
	cat >"$1" <<EOC
[site]
name = large payloads
[store]
path = $T/$2.db
commit_interval = 100ms
[mqtt]
uri = $MQTT_URI
client_id = phasor-large-$2
qos = 1
protocol = $2
[meter sh1]
driver = mqtt
profile = shelly-pro3em
topic = sh1/status/em:0
EOC
}
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
pub() { mosquitto_pub -p "$MQTT_PORT" -q 1 -t sh1/status/em:0 "$@" || t_fail "mosquitto_pub $*"; }

# --- MQTT 5 ---
write_ini "$T/v5.ini" 5
t_bg rec5 "$PHASOR" record -c "$T/v5.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/rec5.log" || t_fail "record never subscribed"
pub -m '{"a_voltage":231.5}'
before=$(hwm_kib "$REC")
for i in 1 2 3; do pub -f "$T/huge.json"; done
pub -m '{"a_voltage":232.5}'
sleep 1
peak=$(hwm_kib "$REC")
t_log "MQTT 5: VmHWM ${before} KiB before, ${peak} KiB after three 100 MiB payloads"
[ "$peak" -lt $((before + 16 * 1024)) ] || t_fail "peak memory grew from $before to $peak KiB"
t_stop "$REC" TERM || t_fail "record exited $?"
t_eq "MQTT 5 values stored" "231.5,232.5" "$(t_sql "$T/5.db" "SELECT group_concat(value, ',') FROM (SELECT value FROM samples ORDER BY seq)")"
line=$(grep "link mqtt" "$T/rec5.log" | tail -1)
t_eq "MQTT 5 messages received (the broker dropped the three)" "2" "$(echo "$line" | grep -o 'received [0-9]*' | awk '{print $2}')"
t_no_sanitizer_errors "$T/rec5.log"

# --- MQTT 3.1.1, broker limit 1 MiB ---
t_stop "$MQTT_PID" TERM
echo "message_size_limit 1048576" >>"$T/mosquitto.conf"
t_bg mosquitto2 mosquitto -c "$T/mosquitto.conf"
MQTT_PID=$T_LAST_PID
t_wait_port "$MQTT_PORT"
write_ini "$T/v3.ini" 3.1.1
t_bg rec3 "$PHASOR" record -c "$T/v3.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/rec3.log" || t_fail "record (3.1.1) never subscribed"
head -c 900000 /dev/zero | tr '\0' 'y' >"$T/900k.json"
pub -m '{"a_voltage":233.5}'
before=$(hwm_kib "$REC")
for i in 1 2 3; do pub -f "$T/900k.json"; done
pub -f "$T/huge.json" 2>/dev/null || true   # refused by the broker itself
pub -m '{"a_voltage":234.5}'
sleep 1
peak=$(hwm_kib "$REC")
t_log "MQTT 3.1.1: VmHWM ${before} KiB before, ${peak} KiB after 3 x 900 KB and one 100 MiB refused by the broker"
[ "$peak" -lt $((before + 16 * 1024)) ] || t_fail "3.1.1 peak memory grew from $before to $peak KiB"
t_stop "$REC" TERM || t_fail "record exited $?"
line=$(grep "link mqtt" "$T/rec3.log" | tail -1)
t_eq "3.1.1 too large counted" "3" "$(echo "$line" | grep -o 'too_large [0-9]*' | awk '{print $2}')"
t_eq "3.1.1 values stored" "233.5,234.5" "$(t_sql "$T/3.1.1.db" "SELECT group_concat(value, ',') FROM (SELECT value FROM samples ORDER BY seq)")"
grep -q "MQTT 3.1.1" <("$PHASOR" check-config -c "$T/v3.ini" 2>&1) || t_fail "check-config does not show the protocol"
t_no_sanitizer_errors "$T/rec3.log"
t_ok "oversized payloads bounded: MQTT 5 by the maximum packet size, 3.1.1 by the broker's limit"
