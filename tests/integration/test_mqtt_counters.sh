#!/bin/bash
# SPDX-License-Identifier: MIT
# View 5's MQTT counters add up (issue 10, item 9): a real broker, the
# console subscribed to a Shelly Pro 3EM and to the alarm-sharing prefix;
# mosquitto_pub sends good messages, malformed ones, non-numeric ones and
# messages under phasor/alarms/ (another console's alarm sharing, here
# junk). The sources view shows received = accepted + rejected + alarm
# sharing, each figure as sent.
. "$(dirname "$0")/lib.sh"

t_mosquitto
cat >"$T/c.ini" <<EOC
[store]
path = $T/b.db
[mqtt]
uri = $MQTT_URI
client_id = phasor-counters
qos = 1
[meter pro3em]
driver = mqtt
profile = shelly-pro3em
topic = pro3em-1/status/em:0
; publishes rarely: no comm alarm (and no alarm event of ours) during the test
poll_ms = 600000
EOC
t_tmux_start con 160 45 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_keys con 5
t_tmux_wait con 20 "tcp://127\.0\.0\.1:$MQTT_PORT +mqtt +up" ||
	t_fail "never connected: $(t_tmux_capture con | grep mqtt)"
t_tmux_wait con 10 "received 0 .*alarm sharing 0" ||
	t_fail "no alarm sharing counter: $(t_tmux_capture con | grep received)"
sleep 1 # the subscriptions complete after the connection

pub() { mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$1" -m "$2" || t_fail "mosquitto_pub $1"; }
good='{"id":0,"a_current":4.029,"a_voltage":236.1,"a_act_power":951.2,"a_aprt_power":951.9,"a_pf":0.99,"a_freq":50.01,"b_current":4.027,"b_voltage":236.2,"b_act_power":951.1,"b_aprt_power":951.8,"b_pf":0.99,"b_freq":50.01,"c_current":3.03,"c_voltage":236.4,"c_act_power":715.4,"c_aprt_power":716.2,"c_pf":0.98,"c_freq":50.01,"n_current":null,"total_current":11.086,"total_act_power":2617.7,"total_aprt_power":2619.9}'
for i in 1 2 3 4 5; do pub pro3em-1/status/em:0 "$good"; done
for i in 1 2 3; do pub pro3em-1/status/em:0 '{"a_voltage": 236.1, "a_current":'; done
for i in 1 2; do pub pro3em-1/status/em:0 '{"a_voltage":"high","a_current":9.99}'; done
for i in 1 2 3 4; do pub phasor/alarms/events '{"not":"an alarm event"}'; done

t_tmux_wait con 20 "received 14 " || t_fail "not 14 received: $(t_tmux_capture con | grep received)"
sleep 1 # the last ones decoded
line=$(t_tmux_capture con | grep -E "received [0-9]+ ")
t_log "$line"
num() { echo "$line" | sed -n "s/.* $1 \([0-9]*\).*/\1/p"; }
received=$(num received)
accepted=$(num accepted)
rejected=$(num rejected)
alarms=$(num "alarm sharing")
t_eq "accepted" 5 "$accepted"
t_eq "rejected" 5 "$rejected"
t_eq "alarm sharing" 4 "$alarms"
t_eq "received = accepted + rejected + alarm sharing" "$received" $((accepted + rejected + alarms))
echo "$line" | grep -q "queued" && t_fail "messages still queued: $line"
reasons=$(t_tmux_capture con | grep -E "rejected: ")
echo "$reasons" | grep -Eq "rejected: malformed 3, non_numeric 2" || t_fail "reasons: $reasons"
t_ok "received $received = accepted $accepted + rejected $rejected + alarm sharing $alarms"
