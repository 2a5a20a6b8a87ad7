#!/bin/bash
# SPDX-License-Identifier: MIT
# A link whose meters all stopped answering does not read "up" (issue 10,
# item 2). A Modbus simulator whose every unit stops answering keeps its
# TCP connection open, and a broker frozen with SIGSTOP keeps the MQTT
# session up until the keepalive (30 s) runs out: in both cases the status
# bar and the sources view (5) say "degraded" within a few poll periods,
# not "links 2/2 up"; the sources view shows no latency ("-") once nothing
# answers, and the meters' rows say down. Both come back to "up".
. "$(dirname "$0")/lib.sh"

t_mosquitto
# Modbus: both units stop answering 8 s after start, for 25 s.
t_sim --meters 2 --seed 3 --fault timeout@8+25
MB_PORT=$SIM_PORT
# MQTT: a second simulator publishing every second on the broker.
t_sim --meters 1 --seed 4 --mqtt "$MQTT_URI" --mqtt-period 1s
{
	printf '[store]\npath = %s/b.db\n' "$T"
	printf '[mqtt]\nuri = %s\nclient_id = phasor-truth\nkeepalive = 30s\n' "$MQTT_URI"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\n' "$MB_PORT" "$u"
	done
	printf '[meter q1]\ndriver = mqtt\nprofile = shelly-pro3em\n'
	printf 'topic = shellypro3em-sim1/status/em:0\npoll_ms = 1000\n'
} >"$T/c.ini"
t_tmux_start con 160 45 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait con 20 "links 2/2 up " || t_fail "never 'links 2/2 up': $(t_tmux_capture con | tail -1)"
t_tmux_keys con 5
t_tmux_wait con 10 "127\.0\.0\.1:$MB_PORT +modbus +up .*latency [0-9.]+ ?ms" ||
	t_fail "no latency while the simulator answers: $(t_tmux_capture con | grep modbus)"
t_ok "both links up, with a latency"

# The simulator freezes: the connection stays, no unit answers.
t_tmux_wait con 30 "links 1/2 up, 1 degraded " ||
	t_fail "a frozen Modbus server still reads up: $(t_tmux_capture con | tail -1)"
pane=$(t_tmux_capture con)
line=$(echo "$pane" | grep "127\.0\.0\.1:$MB_PORT ")
echo "$line" | grep -Eq "modbus +degraded for [0-9]+s +connected, no meter answers" ||
	t_fail "sources view: $line"
# Latency: "-" once the polls time out (at most one probe answered by now: none).
t_tmux_wait con 10 "127\.0\.0\.1:$MB_PORT +modbus +degraded .*latency -( |$)" ||
	t_fail "the latency of a link nothing answers: $(t_tmux_capture con | grep "$MB_PORT ")"
echo "$pane" | grep -Eq "1 of 2 links up, 1 degraded" || t_fail "view 5 header: $(echo "$pane" | head -1)"
for m in m1 m2; do
	t_tmux_wait con 10 " $m +down " || t_fail "$m not down: $(t_tmux_capture con | grep " $m ")"
done
t_ok "frozen Modbus server: degraded, latency -, its meters down"

# The simulator answers again (25 s after the fault began): up again.
t_tmux_wait con 60 "links 2/2 up " || t_fail "never up again: $(t_tmux_capture con | tail -1)"
t_ok "up again once the units answer"

# The broker freezes: paho keeps the session until the keepalive runs out
# (30 s, and more before it gives up); the meter's data goes stale, then down.
kill -STOP "$MQTT_PID"
t_tmux_wait con 25 "links 1/2 up, 1 degraded " ||
	t_fail "a frozen broker still reads up: $(t_tmux_capture con | tail -1)"
line=$(t_tmux_capture con | grep "tcp://127\.0\.0\.1:$MQTT_PORT ")
echo "$line" | grep -Eq "mqtt +degraded for " || t_fail "sources view: $line"
t_ok "frozen broker: degraded before the keepalive ran out"
kill -CONT "$MQTT_PID"
t_tmux_wait con 90 "links 2/2 up " || t_fail "never up again after the broker: $(t_tmux_capture con | tail -1)"
t_ok "broker back: links 2/2 up"
