#!/bin/bash
# SPDX-License-Identifier: MIT
# QoS 1 through kill -9 (issue 15, item 1): a publisher sends a numbered
# stream ({"a_voltage":N}, N = 1..COUNT) while `phasor record`, on a
# persistent session (clean_session = false), is killed with SIGKILL 20
# times at random moments. Every message the broker handed over is either
# in the buffer or redelivered, and stored once: at the end the buffer
# holds exactly COUNT samples with the COUNT distinct values 1..COUNT.
# It also checks that the journal was replayed and that redeliveries were
# recognised as such (the log says so), and that the journal does not grow
# without bound (it is rotated).
. "$(dirname "$0")/lib.sh"

COUNT=${KILL9_COUNT:-12000}
KILLS=${KILL9_KILLS:-20}
t_mosquitto
db="$T/k.db"
cat >"$T/k.ini" <<EOC
[site]
name = kill -9
[store]
path = $db
commit_interval = 200ms
[mqtt]
uri = $MQTT_URI
client_id = phasor-kill9
clean_session = false
qos = 1
[meter sh1]
driver = mqtt
profile = shelly-pro3em
topic = sh1/status/em:0
EOC

# The persistent session exists before the first message.
"$PHASOR" record -c "$T/k.ini" --for 2 >"$T/first.log" 2>&1 || t_fail "first record failed"

# A numbered stream at about 800 messages/s (bash builtins; one sleep per 40).
(
	for ((i = 1; i <= COUNT; i++)); do
		printf '{"a_voltage":%d}\n' "$i"
		((i % 40 == 0)) && sleep 0.05
	done
) | mosquitto_pub -p "$MQTT_PORT" -q 1 -t sh1/status/em:0 -l -i kill9-pub >"$T/pub.log" 2>&1 &
PUB=$!
T_PIDS="$T_PIDS $PUB"

RANDOM=42
for ((k = 1; k <= KILLS; k++)); do
	"$PHASOR" record -c "$T/k.ini" >>"$T/runs.log" 2>&1 &
	pid=$!
	# alive 0.4 .. 1.2 s, then SIGKILL, then down 0.1 .. 0.4 s
	sleep "0.$((4 + RANDOM % 8))"
	[ $k -eq 3 ] && sleep 0.4
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep "0.$((1 + RANDOM % 3))"
done
t_log "$KILLS kills done"

# The publisher finishes (it is bounded: COUNT lines), then a last run drains.
for _ in $(seq 1 600); do kill -0 "$PUB" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PUB" 2>/dev/null && t_fail "the publisher did not finish"
t_bg last "$PHASOR" record -c "$T/k.ini" -v
LAST=$T_LAST_PID
q="SELECT count(*) FROM samples s JOIN quantities q ON q.id = s.qty_id WHERE q.name = 'v_l1n'"
for _ in $(seq 1 300); do
	n=$(t_sql "$db" "$q" 2>/dev/null)
	[ "${n:-0}" -ge "$COUNT" ] && break
	sleep 0.1
done
sleep 1 # anything more (a duplicate) would arrive now
t_stop "$LAST" TERM

stored=$(t_sql "$db" "$q")
distinct=$(t_sql "$db" "SELECT count(DISTINCT s.value) FROM samples s JOIN quantities q ON q.id = s.qty_id WHERE q.name = 'v_l1n'")
range=$(t_sql "$db" "SELECT min(s.value) || '-' || max(s.value) FROM samples s JOIN quantities q ON q.id = s.qty_id WHERE q.name = 'v_l1n'")
missing=$(t_sql "$db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $COUNT)
  SELECT count(*) FROM n WHERE i NOT IN (SELECT CAST(s.value AS INTEGER) FROM samples s JOIN quantities q ON q.id = s.qty_id WHERE q.name = 'v_l1n')")
t_eq "messages missing from the buffer" 0 "$missing"
t_eq "samples stored" "$COUNT" "$stored"
t_eq "distinct values stored" "$COUNT" "$distinct"
t_eq "value range" "1.0-$COUNT.0" "$range"

# The journal did its work: some runs decoded records again at start.
grep -q "decoded again" "$T/runs.log" "$T/last.log" || t_fail "no run replayed the intake journal"
t_ok "$(cat "$T/runs.log" "$T/last.log" | grep -c 'decoded again') replays logged"
# Journal files are beside the buffer and bounded by the rotation.
ls "$db"-intake0.* >/dev/null 2>&1 || t_fail "no intake journal beside the buffer"
size=$(cat "$db"-intake0.* | wc -c)
[ "$size" -lt $((2 * 4 * 1024 * 1024 + 65536 * 4)) ] || t_fail "journal is $size bytes"
t_no_sanitizer_errors "$T/runs.log"
t_no_sanitizer_errors "$T/last.log"
t_ok "$COUNT of $COUNT QoS 1 messages stored once through $KILLS kill -9"
