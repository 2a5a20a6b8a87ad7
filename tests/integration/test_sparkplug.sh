#!/bin/bash
# SPDX-License-Identifier: MIT
# Sparkplug B through a private mosquitto: phasor record reads two devices
# and the node metrics of edge node Plant/Edge1 and the node Plant/Edge2,
# published by tests/tools/sp_pub (protobuf-c). Births with aliases, data by
# alias with exact values and times, a sequence gap (an event, the rebirth
# NCMD seen by mosquitto_sub and by the node, which is born again and goes
# on), a node born before phasor listened (asked for a rebirth once phasor
# is subscribed), data before a birth (counted, a rebirth asked), a
# malformed payload (counted, skipped), a DDEATH (that meter down, the
# other stays up), the node's will and an NDEATH (every meter of the node
# down); check-config's errors for bad sparkplug keys. The host application
# STATE (Sparkplug 3.0): retained online at connect, offline at a clean
# stop with the connect's timestamp, and the will published by the broker
# when a recorder is killed with SIGKILL.
. "$(dirname "$0")/lib.sh"

t_mosquitto
db="$T/buffer.db"
mkdir -p "$T/profiles"
cat >"$T/profiles/sp-em.ini" <<EOC
[profile]
driver = sparkplug
vendor = test
[field Voltage L1]
quantity = v_l1n
[field Current/L1]
quantity = i_l1
; kW -> W
[field Power]
quantity = p_total
scale = 1000
[field Energy]
quantity = e_imp
[field Frequency]
quantity = freq
EOC
cat >"$T/profiles/sp-node.ini" <<EOC
[profile]
driver = sparkplug
[field Temperature]
quantity = temp
EOC
export PHASOR_PROFILES="$T/profiles"
t_mqtt_ini "sparkplug integration" phasor-test-sparkplug >"$T/phasor.ini"
cat >>"$T/phasor.ini" <<EOC
sparkplug_host_id = phasor-host
[meter em1]
driver = sparkplug
profile = sp-em
group = Plant
node = Edge1
device = EM1
[meter em2]
driver = sparkplug
profile = sp-em
group = Plant
node = Edge1
device = EM2
[meter edge1]
driver = sparkplug
profile = sp-node
group = Plant
node = Edge1
[meter edge2]
driver = sparkplug
profile = sp-node
group = Plant
node = Edge2
EOC
"$PHASOR" check-config -c "$T/phasor.ini" >"$T/check.out" 2>&1 || {
	cat "$T/check.out"
	t_fail "check-config refused the sparkplug meters"
}
grep -q "spBv1.0/Plant/+/Edge1/EM1" "$T/check.out" || t_fail "summary without the device"
grep -q "sparkplug-host phasor-host" "$T/check.out" || t_fail "summary without the host id"

# check-config: bad sparkplug keys and profiles, each at its file:line.
cat >"$T/profiles/sp-bad.ini" <<EOC
[profile]
driver = sparkplug
format = json
[field Power]
phases = p_l1, p_l2, p_l3
EOC
cat >"$T/bad.ini" <<EOC
[mqtt]
uri = $MQTT_URI
sparkplug_host_id = scada/1
[meter s1]
driver = sparkplug
profile = sp-em
group = Plant
device = EM/1
topic = a/b
host = 10.0.0.1
[meter s2]
driver = sparkplug
profile = tasmota
group = Plant
node = Edge1
[meter s3]
driver = mqtt
profile = tasmota
topic = x/y
node = Edge1
[meter s4]
driver = sparkplug
profile = sp-bad
group = Plant
node = Edge3
EOC
"$PHASOR" check-config -c "$T/bad.ini" >"$T/bad.out" 2>"$T/bad.err"
t_eq "check-config exit on bad sparkplug keys" 2 $?
cat >"$T/bad.want" <<EOC
$T/bad.ini:3: sparkplug_host_id: scada/1 must be one topic level (no '/', '+', '#', leading '\$')
$T/bad.ini:4: missing key 'node' in [meter s1] (required for sparkplug meters)
$T/bad.ini:8: device: EM/1 is not a Sparkplug id ('/', '+', '#' and control characters are not allowed)
$T/bad.ini:9: topic is not used by sparkplug meters
$T/bad.ini:10: host is not used by sparkplug meters
$T/bad.ini:13: profile tasmota is a mqtt profile but meter s2 uses driver sparkplug
$T/bad.ini:20: node is not used by mqtt meters
$T/bad.ini:23: profile sp-bad: $T/profiles/sp-bad.ini:3: 'format' is for MQTT profiles; this profile has driver = sparkplug
$T/bad.ini:23: profile sp-bad: $T/profiles/sp-bad.ini:5: phases is for JSON arrays; a Sparkplug metric is one value (use quantity)
EOC
grep "^$T/bad.ini:" "$T/bad.err" >"$T/bad.got"
diff "$T/bad.want" "$T/bad.got" || t_fail "check-config's sparkplug errors differ"
t_ok "check-config names every bad sparkplug key at its line"

# Times (ms): data a minute ago, exact in the buffer.
now=$(date +%s%3N)
T0=$((now - 60000)) T1=$((now - 50000)) T2=$((now - 40000))
T3=$((now - 30000)) T4=$((now - 20000)) T5=$((now - 10000))
iso() { date -u -d "@$(($1 / 1000))" +%Y-%m-%dT%H:%M:%S.$(printf %03d $(($1 % 1000)))Z; }

# Every NCMD phasor publishes, in hex.
t_bg ncmd mosquitto_sub -p "$MQTT_PORT" -t 'spBv1.0/Plant/NCMD/#' -F '%t %x'
# Every host STATE phasor publishes: retained flag, topic, payload.
t_bg state mosquitto_sub -p "$MQTT_PORT" -t 'spBv1.0/STATE/#' -F '%r %t %p'
# Edge2 is born before phasor listens: phasor asks it for a rebirth once
# subscribed. Later it dies, sends data before a new birth (not used, a
# rebirth asked), is born again and dies for good.
"$TOOLS/sp_pub" --broker "$MQTT_URI" --group Plant --node Edge2 >"$T/edge2.out" 2>&1 <<EOS &
NBIRTH ts=$T0 name=Temperature,alias=1,type=double,value=18
wait-rebirth 20000
NBIRTH ts=$T2 name=Temperature,alias=1,type=double,value=19.5
NDEATH
NDATA alias=1,type=double,value=5,ts=$T3
wait-rebirth 5000
NBIRTH ts=$T4 name=Temperature,alias=1,type=double,value=20.5
sleep 300
NDEATH
EOS
E2=$!
T_PIDS="$T_PIDS $E2"
t_wait 10 grep -q ready "$T/edge2.out" || t_fail "sp_pub Edge2 never got ready"
sleep 0.2
t_bg record "$PHASOR" record -c "$T/phasor.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/record.log" || t_fail "record never subscribed"
sleep 0.3
# The host's birth: retained (a subscriber that comes later gets it), QoS 1,
# stamped with the connect's time.
t_wait 5 grep -q '"online":true' "$T/state.log" || t_fail "no STATE online: $(cat "$T/state.log")"
mosquitto_sub -p "$MQTT_PORT" -t spBv1.0/STATE/phasor-host -q 1 -C 1 -W 5 -F '%r %q %p' \
	>"$T/state-retained.out" 2>&1 || t_fail "no retained STATE: $(cat "$T/state-retained.out")"
birth_ts=$(sed -n 's/^1 1 {"online":true,"timestamp":\([0-9]*\)}$/\1/p' "$T/state-retained.out")
[ -n "$birth_ts" ] || t_fail "retained STATE is not online at QoS 1: $(cat "$T/state-retained.out")"
[ $((birth_ts - now)) -ge 0 ] && [ $((birth_ts - now)) -lt 20000 ] ||
	t_fail "STATE timestamp $birth_ts is not the connect's (test start $now)"
t_ok "host STATE online, retained: $(cat "$T/state-retained.out")"

EM_BIRTH="name=Voltage%20L1,alias=10,type=double,value=230.5 \
name=Current/L1,alias=11,type=float,value=4.25 name=Power,alias=12,type=int32,value=-3 \
name=Energy,alias=13,type=uint64,value=123456789 name=Frequency,alias=14,type=double,null=1"
"$TOOLS/sp_pub" --broker "$MQTT_URI" --group Plant --node Edge1 --bdseq 1 >"$T/edge1.out" 2>&1 <<EOS &
NBIRTH ts=$T0 name=Temperature,alias=1,type=float,value=21.5
DBIRTH dev=EM1 ts=$T0 $EM_BIRTH
DBIRTH dev=EM2 ts=$T0 name=Voltage%20L1,alias=20,type=double,value=231
DDATA dev=EM1 alias=10,value=231.25,ts=$T1 alias=12,type=int32,value=-5,ts=$T1
DDATA dev=EM2 alias=20,type=double,value=229.5,ts=$T1
NDATA alias=1,type=float,value=22.75,ts=$T1
sleep 300
# a gap: seq 6 is expected
DDATA dev=EM1 seq=9 alias=10,type=double,value=232,ts=$T2
wait-rebirth 5000
NBIRTH ts=$T3 name=Temperature,alias=1,type=float,value=23
DBIRTH dev=EM1 ts=$T3 name=Voltage%20L1,alias=10,type=double,value=232.5
DBIRTH dev=EM2 ts=$T3 name=Voltage%20L1,alias=20,type=double,value=231.5
DDATA dev=EM1 alias=10,type=double,value=233.5,ts=$T4
RAW DDATA dev=EM1 ffff0102
DDEATH dev=EM2
sleep 300
DDATA dev=EM1 alias=10,type=double,value=234.5,ts=$T5
sleep 500
kill
EOS
E1=$!
T_PIDS="$T_PIDS $E1"

wait $E2
rc=$?
[ $rc -eq 0 ] || { cat "$T/edge2.out"; t_fail "sp_pub Edge2 exited $rc"; }
wait $E1
rc=$?
[ $rc -eq 0 ] || { cat "$T/edge1.out"; t_fail "sp_pub Edge1 exited $rc"; }
t_ok "both nodes were asked for a rebirth and were born again"
sleep 1
t_stop "$REC" TERM || t_fail "record exited $? on SIGTERM"
t_no_sanitizer_errors "$T/record.log"
# A clean stop: the death with the birth's timestamp, retained.
t_wait 5 grep -q '"online":false' "$T/state.log" || t_fail "no STATE offline at a clean stop"
t_eq "STATE messages (birth, clean death)" \
	"0 spBv1.0/STATE/phasor-host {\"online\":true,\"timestamp\":$birth_ts}
0 spBv1.0/STATE/phasor-host {\"online\":false,\"timestamp\":$birth_ts}" "$(cat "$T/state.log")"
t_eq "retained STATE after a clean stop" "1 {\"online\":false,\"timestamp\":$birth_ts}" \
	"$(mosquitto_sub -p "$MQTT_PORT" -t spBv1.0/STATE/phasor-host -C 1 -W 5 -F '%r %p')"

"$PHASOR" export --db "$db" >"$T/out.csv" || t_fail "export failed"
rows() { # METER QUANTITY -> time=value,quality;... oldest first
	awk -F, -v m="$1" -v q="$2" '$2 == m && $3 == q { printf "%s%s=%s,%s", n++ ? ";" : "", $1, $4, $6 }' \
		"$T/out.csv"
}
t_eq "em1 v_l1n" "$(iso $T0)=230.5,good;$(iso $T1)=231.25,good;$(iso $T2)=232,good;$(iso $T3)=232.5,good;$(iso $T4)=233.5,good;$(iso $T5)=234.5,good" \
	"$(rows em1 v_l1n)"
t_eq "em1 i_l1 (float)" "$(iso $T0)=4.25,good" "$(rows em1 i_l1)"
t_eq "em1 p_total (int32, kW -> W)" "$(iso $T0)=-3000,good;$(iso $T1)=-5000,good" "$(rows em1 p_total)"
t_eq "em1 e_imp (uint64)" "$(iso $T0)=123456789,good" "$(rows em1 e_imp)"
t_eq "em1 freq (is_null)" "$(iso $T0)=nan,bad" "$(rows em1 freq)"
t_eq "em2 v_l1n" "$(iso $T0)=231,good;$(iso $T1)=229.5,good;$(iso $T3)=231.5,good" "$(rows em2 v_l1n)"
t_eq "edge1 temp" "$(iso $T0)=21.5,good;$(iso $T1)=22.75,good;$(iso $T3)=23,good" "$(rows edge1 temp)"
t_eq "edge2 temp (nothing before a birth)" "$(iso $T2)=19.5,good;$(iso $T4)=20.5,good" \
	"$(rows edge2 temp)"

q() { t_sql "$db" "$1"; }
t_eq "seq gap event" "1" \
	"$(q "SELECT count(*) FROM events WHERE what = 'seq_gap' AND text LIKE '%Plant/Edge1%expected 6, got 9%'")"
t_eq "rebirth events (both online, Edge1's gap, Edge2's data before a birth)" "4" \
	"$(q "SELECT count(*) FROM events WHERE what = 'rebirth'")"
t_eq "rebirths asked when phasor came online" "2" \
	"$(q "SELECT count(*) FROM events WHERE what = 'rebirth' AND text LIKE '%since the host came online'")"
# The NCMDs on the wire: metric "Node Control/Rebirth", Boolean true.
rebirth_hex=$(printf 'Node Control/Rebirth' | od -An -tx1 | tr -d ' \n')
t_eq "NCMD to Edge1 (online, gap)" "2" \
	"$(grep -c "^spBv1.0/Plant/NCMD/Edge1 .*$rebirth_hex" "$T/ncmd.log")"
t_eq "NCMD to Edge2 (online, data before a birth)" "2" \
	"$(grep -c "^spBv1.0/Plant/NCMD/Edge2 .*$rebirth_hex" "$T/ncmd.log")"

# Comm states: the DDEATH takes em2 down and leaves em1 up; the will
# (NDEATH) takes all of Edge1 down; Edge2's own NDEATH takes it down.
states() { # METER -> status[:error] ... in order, without the session's unknowns
	q "SELECT group_concat(s, ' ') FROM (SELECT c.status || coalesce(':' || c.error, '') AS s
	   FROM comm_changes c JOIN meters m ON m.id = c.meter_id WHERE m.name = '$1'
	   AND c.status != 0 ORDER BY c.seq)"
}
t_eq "em2 states" "1 3:DDEATH" "$(states em2)"
t_eq "em1 states" "1 3:NDEATH" "$(states em1)"
t_eq "edge1 states" "1 3:NDEATH" "$(states edge1)"
t_eq "edge2 states" "1 3:NDEATH 1 3:NDEATH" "$(states edge2)"

t_link_line "$T/record.log"
t_eq "malformed" 1 "$(t_link_num malformed)"
t_eq "no_birth" 1 "$(t_link_num no_birth)"
if grep -q $'\x1b' "$T/record.log"; then t_fail "an escape character reached the log"; fi
t_ok "sparkplug"

# The will: a recorder killed with SIGKILL sends no death; the broker
# publishes the will registered at its connect (offline, that connect's
# timestamp), retained.
db="$T/will.db" t_mqtt_ini "sparkplug will" phasor-test-sparkplug-will >"$T/will.ini"
cat >>"$T/will.ini" <<EOC
sparkplug_host_id = phasor-host
[meter edge1]
driver = sparkplug
profile = sp-node
group = Plant
node = Edge1
EOC
t_bg state2 mosquitto_sub -p "$MQTT_PORT" -t 'spBv1.0/STATE/#' -F '%r %t %p'
t_wait 5 grep -q '^1 .*"online":false' "$T/state2.log" || t_fail "no retained STATE for a new subscriber"
t_bg record-will "$PHASOR" record -c "$T/will.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q '^0 .*"online":true' "$T/state2.log" || t_fail "the second recorder published no birth"
ts2=$(sed -n 's/^0 [^ ]* {"online":true,"timestamp":\([0-9]*\)}$/\1/p' "$T/state2.log")
[ -n "$ts2" ] && [ "$ts2" -gt "$birth_ts" ] || t_fail "second birth's timestamp: $(cat "$T/state2.log")"
t_stop "$REC" KILL
t_wait 10 grep -q '^0 .*"online":false' "$T/state2.log" || t_fail "the broker published no will"
t_eq "the will" "0 spBv1.0/STATE/phasor-host {\"online\":false,\"timestamp\":$ts2}" \
	"$(grep "^0 .*false" "$T/state2.log")"
t_eq "retained STATE after the kill" "1 {\"online\":false,\"timestamp\":$ts2}" \
	"$(mosquitto_sub -p "$MQTT_PORT" -t spBv1.0/STATE/phasor-host -C 1 -W 5 -F '%r %p')"
t_ok "host STATE will"
