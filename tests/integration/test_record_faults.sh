#!/bin/bash
# SPDX-License-Identifier: MIT
# Faults on the Modbus side, end to end:
# - a register holding NaN is stored as NaN with quality bad, never as 0;
# - a profile that reads across a hole the device refuses: the poller splits
#   the read for good and every value still arrives;
# - the simulator dies (the cable is pulled) and comes back on the same
#   port: its meters go down, then record reconnects by itself.
. "$(dirname "$0")/lib.sh"

# A device that refuses reads across its 6-register hole 57..62 (pac3200
# itself spans it: the real PAC3200 serves the averages there), and a
# profile that claims the device tolerates 10-register holes: its first
# read then spans 57..62, which the simulated device refuses.
mkdir -p "$T/profiles"
sed 's/^max_gap *=.*/max_gap = 4/' "$(dirname "$0")/../../conf/profiles/pac3200.ini" \
	>"$T/profiles/pac3200.ini"
sed 's/^max_gap *=.*/max_gap = 10/' "$(dirname "$0")/../../conf/profiles/pac3200.ini" \
	>"$T/profiles/pac3200-wide.ini"
grep -q '^max_gap = 4' "$T/profiles/pac3200.ini" || t_fail "could not make the narrow profile"
grep -q '^max_gap = 10' "$T/profiles/pac3200-wide.ini" || t_fail "could not make the wide profile"
export PHASOR_PROFILES="$T/profiles"

t_sim --meters 2 --seed 4 --fault nan:2
db="$T/buffer.db"
cat >"$T/phasor.ini" <<EOC
[store]
path = $db
commit_interval = 200ms
[meter wide]
driver = modbus
profile = pac3200-wide
host = 127.0.0.1
port = $SIM_PORT
unit = 1
poll_ms = 300
timeout_ms = 300
[meter nan]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 2
poll_ms = 300
timeout_ms = 300
EOC
t_bg record "$PHASOR" record -c "$T/phasor.ini" -v --stats 1
REC=$T_LAST_PID
t_wait 10 sh -c "[ \$(sqlite3 '$db' 'SELECT count(DISTINCT t_us) FROM samples' 2>/dev/null || echo 0) -gt 10 ]" ||
	t_fail "nothing recorded"

# ---- the cable is pulled: the simulator dies ----
t_stop "$SIM_PID" KILL
t_wait 10 sh -c "sqlite3 '$db' \"SELECT text FROM events e JOIN meters m ON m.id = e.meter_id
	WHERE m.name = 'wide' AND what = 'status' AND text LIKE '%-> down%'\" 2>/dev/null | grep -q down" ||
	t_fail "meter 'wide' never went down after the simulator died"
t_ok "meters down after the simulator died"
sleep 2
# ---- and plugged back in, same port ----
t_bg sim2 "$PHASOR" sim --modbus "127.0.0.1:$SIM_PORT" --meters 2 --seed 4 --fault nan:2
t_wait_port "$SIM_PORT"
back=$(( $(date +%s%N) / 1000 ))
t_wait 40 sh -c "[ \$(sqlite3 '$db' \"SELECT count(*) FROM samples s JOIN meters m ON m.id = s.meter_id
	WHERE m.name = 'wide' AND s.t_us > $back\" 2>/dev/null || echo 0) -gt 0 ]" ||
	t_fail "record never reconnected"
t_ok "reconnected after the simulator came back"
sleep 1
t_stop "$REC" TERM || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"

q() { t_sql "$db" "$1"; }
# NaN: stored as NULL (read back as nan) with quality bad; never 0.
t_eq "nan meter: v_l1n rows that are not NaN/bad" 0 "$(q "SELECT count(*) FROM samples s
	JOIN meters m ON m.id = s.meter_id JOIN quantities k ON k.id = s.qty_id
	WHERE m.name = 'nan' AND k.name = 'v_l1n' AND (s.value IS NOT NULL OR s.quality <> 1)")"
n=$(q "SELECT count(*) FROM samples s JOIN meters m ON m.id = s.meter_id
	JOIN quantities k ON k.id = s.qty_id WHERE m.name = 'nan' AND k.name = 'v_l1n'")
[ "$n" -gt 5 ] || t_fail "only $n v_l1n rows for the nan meter"
"$PHASOR" export --db "$db" --meter nan --quantity v_l1n | sed -n 2p | grep -q ',nan,V,bad$' ||
	t_fail "export does not show nan,V,bad"
t_ok "NaN kept as NaN with quality bad ($n rows)"
good=$(q "SELECT count(*) FROM samples s JOIN meters m ON m.id = s.meter_id
	JOIN quantities k ON k.id = s.qty_id WHERE m.name = 'nan' AND k.name = 'v_l2n' AND s.quality = 0")
[ "$good" -gt 5 ] || t_fail "the other values of the nan meter should stay good"

# The refused coalesced read was split and every value arrived.
grep -q "reading its values one by one" "$T/record.log" || t_fail "no split was logged"
missing=$(q "SELECT count(*) FROM quantities k WHERE k.name IN
	('v_l1n','v_l12','i_l3','p_total','pf_total','thd_i_l3','freq','e_imp','eq_exp')
	AND NOT EXISTS (SELECT 1 FROM samples s JOIN meters m ON m.id = s.meter_id
		WHERE m.name = 'wide' AND s.qty_id = k.id AND s.quality = 0)")
t_eq "quantities of the split meter never stored" 0 "$missing"
grep "link modbus" "$T/record.log" | tail -1 | grep -q "exceptions [1-9]" ||
	t_fail "the refused read was not counted as an exception"
# Connection events were recorded for the replay.
t_eq "disconnect and connect events" 1 "$(q "SELECT count(*) >= 1 FROM events WHERE what = 'connect'
	AND t_us > (SELECT min(t_us) FROM events WHERE what IN ('disconnect', 'error'))")"
