#!/bin/bash
# SPDX-License-Identifier: MIT
# Machines: a private mosquitto, a Tasmota-like meter feeding machine
# "press" and mosquitto_pub with a scripted state sequence (run with
# pieces, a state the machine does not map, stop while its meter still
# draws 3 kW, run again). phasor record stores exactly the state changes
# and the piece counts (samples of the machine: machine_state, pieces),
# counts the malformed message, raises consuming-while-stopped after its
# 2 s and clears it when the machine runs; phasor sync forwards the rows
# exactly once to a real PostgreSQL (phasor.samples, phasor.machine_states);
# the console shows the machine's state, occupancy and pieces (key 7).
# Then a machine read over Modbus (driver = modbus): phasor sim serving a
# PLC profile (state at 0, pieces at 2) whose units follow the simulated
# machines; the state codes and counts are stored as the machine's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_mosquitto
db="$T/buffer.db"
t_mqtt_ini "machines test" phasor-test-machines 100ms >"$T/phasor.ini"
printf '[sync]\npostgres = %s\ninterval = 1s\n' "$PG_CONNINFO" >>"$T/phasor.ini"
t_press_ini >>"$T/phasor.ini"
printf 'stopped_power = 1kW\nstopped_after = 2s\n' >>"$T/phasor.ini"
"$PHASOR" check-config -c "$T/phasor.ini" >"$T/check.txt" 2>&1 || t_fail "check-config refused: $(cat "$T/check.txt")"
grep -q "machine press" "$T/check.txt" || t_fail "check-config does not list the machine"

t_bg record "$PHASOR" record -c "$T/phasor.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/record.log" || t_fail "record never subscribed"

pub() { mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$1" -m "$2" || t_fail "mosquitto_pub $1"; }
meter() { pub tele/press-1/SENSOR "{\"ENERGY\":{\"Total\":$1,\"Power\":$2}}"; }
machine() { pub plant/press/state "$1"; }

meter 10.0 5000
machine '{"state":"run","count":100}'
sleep 0.3
machine '{"state":"run","count":105}'
machine '{"state":"fault","count":106}'
meter 10.5 5000
sleep 0.3
machine '{"state":"stop","count":105}'
meter 10.6 3000
sleep 3.5
meter 10.7 3000
sleep 0.5
machine '{"state":"run","count":106}'
sleep 1.5
t_stop "$REC" TERM || t_fail "record exited $? on SIGTERM"
t_no_sanitizer_errors "$T/record.log"

# Exactly the changes: the state when it changes, the count when it moves.
"$PHASOR" export --db "$db" --meter press | cut -d, -f2-6 >"$T/press.csv"
t_eq "stored machine rows" "meter,quantity,value,unit,quality
press,machine_state,0,,good
press,pieces,100,,good
press,pieces,105,,good
press,machine_state,2,,good
press,machine_state,0,,good
press,pieces,106,,good" "$(cat "$T/press.csv")"
t_ok "state changes and piece counts stored exactly"
grep -q "machine press: message rejected: malformed" "$T/record.log" ||
	t_fail "the unmapped state was not refused as malformed"

# consuming-while-stopped: raised while stopped at 3 kW, cleared on run.
"$PHASOR" alarms --db "$db" | cut -d, -f2-9 >"$T/alarms.csv"
grep -q "^consuming-while-stopped,press,p_total,medium,raise,unack,3000,1000$" "$T/alarms.csv" ||
	t_fail "no raise of consuming-while-stopped: $(cat "$T/alarms.csv")"
grep -q "^consuming-while-stopped,press,p_total,medium,clear,rtn_unack,0,1000$" "$T/alarms.csv" ||
	t_fail "consuming-while-stopped did not clear: $(cat "$T/alarms.csv")"
t_ok "consuming-while-stopped raised and cleared"

# Synced exactly once, the machine's rows among them.
"$PHASOR" sync -c "$T/phasor.ini" --once >"$T/sync.log" 2>&1 || t_fail "sync --once exited $?"
t_no_sanitizer_errors "$T/sync.log"
sync_check "$db" >/dev/null
console=$(sync_console_id "$db")
t_eq "central machine states" "run
stop
run" "$(t_psql "SELECT state FROM phasor.machine_states WHERE console = '$console' AND machine = 'press' ORDER BY time")"
t_eq "central pieces" "100,105,106" "$(t_psql "SELECT string_agg(value::text, ',' ORDER BY time) FROM phasor.samples WHERE console = '$console' AND meter = 'press' AND quantity = 'pieces'")"
"$PHASOR" sync -c "$T/phasor.ini" --once >"$T/sync2.log" 2>&1 || t_fail "second sync --once exited $?"
t_eq "still once" 3 "$(t_psql "SELECT count(*) FROM phasor.machine_states WHERE console = '$console'")"
t_ok "synced once"

# The console: retained state and pieces, shown under key 7, today going
# on from what the recorder stored (run, stop, 6 pieces).
mosquitto_pub -p "$MQTT_PORT" -q 1 -r -t plant/press/state -m '{"state":"wait","count":7}' || t_fail "pub retained"
t_tmux_start con 80 24 env LANG=C NO_COLOR=1 TERM=xterm "$PHASOR" -c "$T/phasor.ini"
t_tmux_wait con 15 "7 Machines|7 Mach|7" || t_fail "no machines tab"
t_machines_view con press wait
t_tmux_wait con 10 "press +[1-9][0-9]*\.[0-9] +[0-9.]+ +[1-9][0-9]*\.[0-9] +6 " ||
	t_fail "today is not the recorder's run and stop with its 6 pieces: $(t_tmux_capture con)"
pane=$(t_tmux_capture con)
if echo "$pane" | LC_ALL=C grep -q '[^[:print:][:space:]]'; then t_fail "non-ASCII output under LANG=C"; fi
t_ok "console shows the machine"
# Energy per piece: the counter's base is the retained 7 (a new session's
# first count); 500 Wh more in run and 3 pieces more: the recorder's
# 700 Wh (200 of them stopped) and 6 pieces with these, 1200 Wh for 9
# pieces, 133 Wh a piece, 200 Wh idle.
meter 11.0 3000
sleep 0.5
machine '{"state":"run","count":8}'
sleep 0.5
meter 11.5 3000
sleep 0.3
machine '{"state":"run","count":10}'
t_tmux_wait con 10 "press +[0-9.]+ +[0-9.]+ +[0-9.]+ +9 +1\.20 kWh +133 Wh +200 Wh" ||
	t_fail "pieces, energy and energy per piece: $(t_tmux_capture con)"
t_ok "console: 9 pieces, 1.2 kWh, 133 Wh a piece, 200 Wh idle"
t_tmux_quit con

# driver = modbus: the simulator's unit 1 as a PLC (machine 1's cycle:
# run for 6 minutes from the start, a piece every 20 s).
mkdir -p "$T/profiles"
cat >"$T/profiles/plc-machine.ini" <<EOP
[profile]
driver = modbus
vendor = test
model = machine PLC
max_registers = 125
max_gap = 0
function = 3
word_order = ABCD
scale = 1
[value machine_state]
address = 0
type = uint16
[value pieces]
address = 2
type = uint32
EOP
export PHASOR_PROFILES="$T/profiles"
t_sim --meters 1 --seed 3 --profile plc-machine --speed 30
cat >"$T/mb.ini" <<EOC
[site]
name = modbus machine
[store]
path = $T/mb.db
commit_interval = 100ms
[meter m1]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = 1
[machine plc]
driver = modbus
meters = m1
host = 127.0.0.1
port = $SIM_PORT
unit = 1
poll_ms = 200
state_register = 0
pieces_register = 2
; the simulator serves its machine_state codes
run = 0
wait = 1
stop = 2
EOC
"$PHASOR" check-config -c "$T/mb.ini" >"$T/check-mb.txt" 2>&1 || t_fail "check-config refused: $(cat "$T/check-mb.txt")"
grep -q "machine plc: meters m1; modbus 127.0.0.1:$SIM_PORT unit 1 every 200ms, state at 0, pieces at 2" "$T/check-mb.txt" ||
	t_fail "check-config: $(grep machine "$T/check-mb.txt")"
"$PHASOR" record -c "$T/mb.ini" --for 3 >"$T/record-mb.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record-mb.log"
"$PHASOR" export --db "$T/mb.db" --meter plc | cut -d, -f2-4 >"$T/plc.csv"
t_eq "the Modbus machine's first state" "plc,machine_state,0" "$(grep machine_state "$T/plc.csv" | head -1)"
n=$(grep -c "^plc,pieces," "$T/plc.csv")
[ "$n" -ge 2 ] || t_fail "pieces stored $n times: $(cat "$T/plc.csv")"
prev=-1
for v in $(grep "^plc,pieces," "$T/plc.csv" | cut -d, -f3); do
	[ "$v" -gt "$prev" ] || t_fail "pieces not stored only when they move: $(cat "$T/plc.csv")"
	prev=$v
done
t_ok "Modbus machine: run stored once, $n piece counts, each a move"
