#!/bin/bash
# SPDX-License-Identifier: MIT
# A private mosquitto, phasor record subscribed for a Shelly Pro 3EM, a
# Shelly 3EM (Gen1, plain topics) and two Tasmota devices; mosquitto_pub
# sends real-looking payloads with malformed ones between them. Exact values
# are stored, every reject is counted by reason, nothing crashes.
. "$(dirname "$0")/lib.sh"

t_mosquitto
db="$T/buffer.db"
t_mqtt_ini "mqtt integration" phasor-test-record 100ms >"$T/phasor.ini"
cat >>"$T/phasor.ini" <<EOC
[meter pro3em]
driver = mqtt
profile = shelly-pro3em
topic = pro3em-1/status/+
[meter gen1]
driver = mqtt
profile = shelly-3em
topic = shellies/sh3em-1/emeter/+/+
[meter tas3]
driver = mqtt
profile = tasmota
topic = tele/tasmota-1/SENSOR
[meter tas1]
driver = mqtt
profile = tasmota
topic = tele/tasmota-2/SENSOR
EOC
t_bg record "$PHASOR" record -c "$T/phasor.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/record.log" || t_fail "record never subscribed"

pub() { mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$1" -m "$2" || t_fail "mosquitto_pub $1"; }

# 1. Shelly Pro 3EM full status (n_current null -> NaN, quality bad)
pub pro3em-1/status/em:0 '{"id":0,"a_current":4.029,"a_voltage":236.1,"a_act_power":951.2,"a_aprt_power":951.9,"a_pf":0.99,"a_freq":50.01,"b_current":4.027,"b_voltage":236.201,"b_act_power":-951.1,"b_aprt_power":951.8,"b_pf":-0.99,"b_freq":50.01,"c_current":3.03,"c_voltage":236.402,"c_act_power":715.4,"c_aprt_power":716.2,"c_pf":0.98,"c_freq":50.01,"n_current":null,"total_current":11.086,"total_act_power":715.503,"total_aprt_power":2619.903,"user_calibrated_phase":[]}'
# 2. malformed JSON
pub pro3em-1/status/em:0 '{"a_voltage": 236.1, "a_current":'
# 3. Shelly Pro 3EM energy counters
pub pro3em-1/status/emdata:0 '{"id":0,"a_total_act_energy":2776.21,"a_total_act_ret_energy":0,"b_total_act_energy":2580.5,"b_total_act_ret_energy":12.25,"c_total_act_energy":2283.56,"c_total_act_ret_energy":0,"total_act":7640.27,"total_act_ret":12.25}'
# 4. a non-numeric field: the whole message is skipped
pub pro3em-1/status/em:0 '{"a_voltage":"high","a_current":9.99}'
# 5. Gen1 plain numbers
pub shellies/sh3em-1/emeter/0/power '123.45'
pub shellies/sh3em-1/emeter/1/voltage '231.2'
pub shellies/sh3em-1/emeter/2/total '5123.4'
# 6. garbage on a plain topic
pub shellies/sh3em-1/emeter/0/power 'abc'
# 7. Tasmota three-phase arrays (kWh -> Wh)
pub tele/tasmota-1/SENSOR '{"Time":"2026-11-22T14:00:00","ENERGY":{"TotalStartTime":"2024-01-01T00:00:00","Total":[1.5,2.5,3.75],"Yesterday":1.1,"Today":0.5,"Power":[100,200,300],"ApparentPower":[110,210,310],"ReactivePower":[20,30,40],"Factor":[0.91,0.95,0.97],"Frequency":50,"Voltage":[230,231,232],"Current":[0.478,0.909,1.336]}}'
# 8. JSON that is not an object
pub tele/tasmota-1/SENSOR '[1,2,3]'
# 9. Tasmota single channel
pub tele/tasmota-2/SENSOR '{"Time":"2026-11-22T14:00:01","ENERGY":{"Total":12.5,"Power":45,"Voltage":229,"Current":0.2,"Factor":0.98}}'
# 10. a payload over 64 KiB that still fits the maximum packet size phasor
# announces (MQTT 5): delivered, counted as too large, not stored
head -c 66000 /dev/zero | tr '\0' ' ' >"$T/big.json"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t pro3em-1/status/em:0 -f "$T/big.json" || t_fail "pub big"
# 10b. one over the maximum packet size: the broker drops it, never sent to phasor
head -c 300000 /dev/zero | tr '\0' ' ' >"$T/huge.json"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t pro3em-1/status/em:0 -f "$T/huge.json" || t_fail "pub huge"
# 11. valid JSON with no field the profile maps
pub pro3em-1/status/sys '{"mac":"AABBCC","uptime":12}'
# 12. control characters in a payload: counted, never logged raw
pub pro3em-1/status/em:0 $'{"a_voltage":\x1b[2J}'

sleep 1.5
t_stop "$REC" TERM || t_fail "record exited $? on SIGTERM"
t_no_sanitizer_errors "$T/record.log"
if grep -q $'\x1b' "$T/record.log"; then t_fail "an escape character reached the log"; fi

"$PHASOR" export --db "$db" >"$T/out.csv" || t_fail "export failed"
val() { # METER QUANTITY -> value,unit,quality of its only row
	awk -F, -v m="$1" -v q="$2" '$2 == m && $3 == q { print $4 "," $5 "," $6; n++ }
		END { if (n != 1) print "rows=" n }' "$T/out.csv"
}
t_eq "pro3em v_l1n" "236.1,V,good" "$(val pro3em v_l1n)"
t_eq "pro3em v_l2n" "236.201,V,good" "$(val pro3em v_l2n)"
t_eq "pro3em p_l2 (export)" "-951.1,W,good" "$(val pro3em p_l2)"
t_eq "pro3em pf_l2" "-0.99,1,good" "$(val pro3em pf_l2)"
t_eq "pro3em i_n (null)" "nan,A,bad" "$(val pro3em i_n)"
t_eq "pro3em p_total" "715.503,W,good" "$(val pro3em p_total)"
t_eq "pro3em s_total" "2619.903,VA,good" "$(val pro3em s_total)"
t_eq "pro3em freq" "50.01,Hz,good" "$(val pro3em freq)"
t_eq "pro3em e_imp" "7640.27,Wh,good" "$(val pro3em e_imp)"
t_eq "pro3em e_exp" "12.25,Wh,good" "$(val pro3em e_exp)"
t_eq "pro3em e_exp_l2" "12.25,Wh,good" "$(val pro3em e_exp_l2)"
t_eq "gen1 p_l1" "123.45,W,good" "$(val gen1 p_l1)"
t_eq "gen1 v_l2n" "231.2,V,good" "$(val gen1 v_l2n)"
t_eq "gen1 e_imp_l3" "5123.4,Wh,good" "$(val gen1 e_imp_l3)"
t_eq "tas3 e_imp_l1" "1500,Wh,good" "$(val tas3 e_imp_l1)"
t_eq "tas3 e_imp_l3" "3750,Wh,good" "$(val tas3 e_imp_l3)"
t_eq "tas3 p_l2" "200,W,good" "$(val tas3 p_l2)"
t_eq "tas3 q_l3" "40,var,good" "$(val tas3 q_l3)"
t_eq "tas3 pf_l1" "0.91,1,good" "$(val tas3 pf_l1)"
t_eq "tas3 v_l3n" "232,V,good" "$(val tas3 v_l3n)"
t_eq "tas3 freq" "50,Hz,good" "$(val tas3 freq)"
t_eq "tas1 e_imp" "12500,Wh,good" "$(val tas1 e_imp)"
t_eq "tas1 p_total" "45,W,good" "$(val tas1 p_total)"
t_eq "tas1 v_l1n" "229,V,good" "$(val tas1 v_l1n)"
# Nothing of the skipped messages was stored: a_current 9.99 never appears.
t_eq "rows with the skipped message's a_current" "0" "$(grep -c ',9.99,' "$T/out.csv")"
t_eq "pro3em i_l1 rows" "4.029,A,good" "$(val pro3em i_l1)"

# The counters, from record's final per-link log line.
t_link_line "$T/record.log"
num() { t_link_num "$1"; }
t_eq "received" 14 "$(num received)"
t_eq "accepted" 7 "$(num accepted)"
t_eq "rejected malformed" 4 "$(num malformed)"
t_eq "rejected non_numeric" 1 "$(num non_numeric)"
t_eq "rejected too_large" 1 "$(num too_large)"
t_eq "rejected no_field" 1 "$(num no_field)"
