#!/bin/bash
# SPDX-License-Identifier: MIT
# SIGTERM in the middle of a fast MQTT stream loses nothing received: every
# message record accepted is in the buffer after it exits, and so is every
# Modbus poll it handled.
. "$(dirname "$0")/lib.sh"

t_mosquitto
t_sim --meters 2 --seed 3
db="$T/buffer.db"
cat >"$T/phasor.ini" <<EOC
[store]
path = $db
[mqtt]
uri = $MQTT_URI
qos = 1
[meter fast]
driver = mqtt
profile = shelly-pro3em
topic = fast/status/em:0
[meter mb1]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 1
poll_ms = 100
EOC
t_bg record "$PHASOR" record -c "$T/phasor.ini"
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/record.log" || t_fail "record never subscribed"

# 40000 messages of exactly 4 mapped fields each, as fast as mosquitto_pub goes.
awk 'BEGIN { for (i = 1; i <= 40000; i++)
	printf "{\"a_voltage\":%d.5,\"b_voltage\":231,\"c_voltage\":232,\"total_act_power\":%d}\n", 200 + i % 50, i }' \
	>"$T/stream.txt"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t fast/status/em:0 -l <"$T/stream.txt" &
PUB=$!
T_PIDS="$T_PIDS $PUB"
# Stop record while the stream is still flowing.
t_wait 20 sh -c "grep -c . '$T/record.log' >/dev/null && [ \$(sqlite3 '$db' 'SELECT count(*) FROM samples' 2>/dev/null || echo 0) -gt 20000 ]" ||
	t_fail "the stream never reached the buffer"
t_stop "$REC" TERM || t_fail "record exited $? on SIGTERM"
wait "$PUB" 2>/dev/null
t_no_sanitizer_errors "$T/record.log"

line=$(grep "link mqtt" "$T/record.log" | tail -1)
t_log "$line"
accepted=$(echo "$line" | grep -o 'accepted [0-9]*' | awk '{print $2}')
received=$(echo "$line" | grep -o 'received [0-9]*' | awk '{print $2}')
[ -n "$accepted" ] && [ "$accepted" -gt 0 ] || t_fail "nothing accepted"
t_eq "accepted = received" "$received" "$accepted"
[ "$received" -lt 40000 ] || t_log "note: the stream ended before SIGTERM"
mqtt_rows=$(t_sql "$db" "SELECT count(*) FROM samples s JOIN meters m ON m.id = s.meter_id WHERE m.name = 'fast'")
t_eq "samples stored for the MQTT meter" "$((accepted * 4))" "$mqtt_rows"

# Everything the hub handled was written: the summary's sample count is the table's.
total=$(grep "record: stopped" "$T/record.log" | grep -o ': [0-9]* samples' | grep -o '[0-9]*')
rows=$(t_sql "$db" "SELECT count(*) FROM samples")
t_eq "samples handled = samples stored" "$total" "$rows"
grep "record: stopped" "$T/record.log" | grep -q ' 0 dropped' || t_fail "samples were dropped"
# The session was closed.
t_eq "open sessions" 0 "$(t_sql "$db" "SELECT count(*) FROM sessions WHERE end_us IS NULL")"
