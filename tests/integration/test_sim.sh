#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor sim against real clients: mbpoll reads registers over Modbus TCP
# (values equal to the journal, exceptions for unknown units, holes and
# oversized reads, FC 3/4, the sdm630 map), timeout faults (always and in a
# window), SIGTERM, bad usage; then MQTT through a private mosquitto (JSON
# equal to the journal, reconnection after the broker restarts).
. "$(dirname "$0")/lib.sh"

command -v mbpoll >/dev/null || t_fail "mbpoll is not installed"

# start_sim NAME ARGS...: phasor sim on a port the kernel picks; sets SIM_PID,
# SIM_PORT, SIM_LOG and SIM_T0 (ns, when the listening line was seen).
start_sim() {
	local name=$1
	shift
	t_bg "$name" "$PHASOR" sim --modbus 127.0.0.1:0 "$@"
	SIM_PID=$T_LAST_PID
	SIM_LOG="$T/$name.log"
	t_wait 15 grep -q '^phasor sim: modbus listening on ' "$SIM_LOG" ||
		t_fail "$name: no listening line"
	SIM_T0=$(date +%s%N)
	SIM_PORT=$(sed -n 's/^phasor sim: modbus listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$SIM_LOG")
	[ -n "$SIM_PORT" ] && [ "$SIM_PORT" -gt 0 ] || t_fail "$name: no port in the listening line"
}

# stop_sim: SIGTERM, expect exit 0 and a clean sanitizer report.
stop_sim() {
	local rc
	t_stop "$SIM_PID" TERM
	rc=$?
	t_eq "exit status after SIGTERM" 0 "$rc"
	t_no_sanitizer_errors "$SIM_LOG"
}

# mb ARGS...: one mbpoll read (PDU addresses); output in $MB_OUT, errors in
# $MB_ERR; returns mbpoll's status.
mb() {
	mbpoll -m tcp -p "$SIM_PORT" -0 -1 -o "${MB_TIMEOUT:-2}" "$@" 127.0.0.1 >"$T/mb.out" 2>"$T/mb.err"
	local rc=$?
	MB_OUT=$(cat "$T/mb.out")
	MB_ERR=$(cat "$T/mb.err")
	return $rc
}

# mb_value REF: the value mbpoll printed for reference REF.
mb_value() { printf '%s\n' "$MB_OUT" | sed -n "s/^\[$1\]:[[:space:]]*\([^[:space:]]*\).*/\1/p"; }

# mb_refused WHAT EXPECTED-ERROR ARGS...
mb_refused() {
	local what=$1 err=$2
	shift 2
	if mb "$@"; then t_fail "$what: the read succeeded: $MB_OUT"; fi
	case "$MB_ERR" in
	*"$err"*) t_ok "$what: $err" ;;
	*) t_fail "$what: expected '$err', got '$MB_ERR'" ;;
	esac
}

# elapsed_ms: milliseconds since SIM_T0.
elapsed_ms() { echo $(( ($(date +%s%N) - SIM_T0) / 1000000 )); }
sleep_until_ms() {
	local left=$(( $1 - $(elapsed_ms) ))
	[ "$left" -gt 0 ] && sleep "$(awk -v ms="$left" 'BEGIN { printf "%.3f", ms / 1000 }')"
	return 0
}

# journal_has J SOURCE UNIT QTY VALUE FROM_US TO_US: a line of J with that
# source, unit and quantity, t_us in [FROM_US, TO_US] and a value within
# 1e-5 (relative) of VALUE (mbpoll prints 6 significant digits; the JSON 3
# decimals are compared to 1e-9).
journal_has() {
	awk -F, -v src="$2" -v unit="$3" -v q="$4" -v val="$5" -v from="$6" -v to="$7" -v rel="${8:-1e-5}" '
		function abs(x) { return x < 0 ? -x : x }
		$2 == src && $3 == unit && $4 == q && $1 >= from && $1 <= to {
			n++
			if (abs($5 - val) <= rel * abs(val) + 1e-12) { found = 1; exit }
		}
		END { exit found ? 0 : 1 }' "$1"
}

# ---- Modbus, pac3200 ----------------------------------------------------------

start_sim sim --meters 3 --seed 7 --journal "$T/j.csv"
t_log "pac3200 simulator on port $SIM_PORT"
t_wait 5 grep -q ',modbus,3,v_l1n,' "$T/j.csv" || t_fail "no journal lines"
t_eq "journal header" "t_us,source,unit,quantity,value" "$(head -n 1 "$T/j.csv")"

# v_l1n of unit 2, a float at PDU 1, equals what the journal says was served
# by a tick at that time; mbpoll's -t 4 is FC 3 (holding registers), -t 3 is
# FC 4 (input registers): the PAC3200 serves its map on both.
for fc in 4 3; do
	from=$(( $(date +%s%6N) - 1500000 ))
	mb -a 2 -r 1 -t "$fc:float" -B || t_fail "mbpoll -t $fc:float read of v_l1n: $MB_ERR"
	to=$(date +%s%6N)
	v=$(mb_value 1)
	[ -n "$v" ] || t_fail "no value in mbpoll output: $MB_OUT"
	journal_has "$T/j.csv" modbus 2 v_l1n "$v" "$from" "$to" ||
		t_fail "v_l1n $v read with mbpoll -t $fc:float is not in the journal between $from and $to"
	awk -v v="$v" 'BEGIN { exit !(v > 220 && v < 240) }' || t_fail "v_l1n $v is not about 230 V"
	t_ok "mbpoll -t $fc:float v_l1n of unit 2 = $v, as journaled"
done

# The total block (63..70) in one read; p_total is plausible and journaled.
from=$(( $(date +%s%6N) - 1500000 ))
mb -a 1 -r 63 -c 4 -t 4:float -B || t_fail "read of the totals: $MB_ERR"
to=$(date +%s%6N)
p=$(mb_value 65)
journal_has "$T/j.csv" modbus 1 p_total "$p" "$from" "$to" || t_fail "p_total $p not journaled"
t_ok "unit 1 p_total = $p W"

mb_refused "unit 9" "Target device failed to respond" -a 9 -r 1 -t 4:float -B
mb_refused "a read across the hole 71..800" "Illegal data address" -a 2 -r 69 -c 4 -t 4:float -B
mb_refused "register 0 (not a value)" "Illegal data address" -a 2 -r 0 -c 1 -t 4
mb_refused "a read starting inside a value" "Illegal data address" -a 2 -r 2 -c 1 -t 4:float -B
# 1..70 in one read is fine: the averages' hole 57..62 is of max_gap (6)
# registers, served as zeros, as the pac3200 read plan does.
mb -a 3 -r 1 -c 35 -t 4:float -B || t_fail "read of 1..70: $MB_ERR"
t_ok "read of 1..70 (35 floats) from unit 3"
# The energy counters in one read across the tariff-2 holes (of 4 registers),
# as the pac3200 read plan does.
mb -a 2 -r 801 -c 14 -t 4:float -B || t_fail "read of 801..828: $MB_ERR"
t_ok "read of 801..828 across holes of max_gap registers"
mb_refused "a read ending inside a value" "Illegal data address" -a 2 -r 801 -c 1 -t 4:float -B
# Writes are refused.
if mbpoll -m tcp -p "$SIM_PORT" -0 -1 -a 2 -r 1 -t 4 127.0.0.1 5 >"$T/mb.out" 2>&1; then
	t_fail "a write succeeded"
fi
grep -q "Illegal function" "$T/mb.out" || t_fail "write: $(cat "$T/mb.out")"
t_ok "write: Illegal function"

# Several clients at once: one holds its connection while others come and go.
exec 3<>"/dev/tcp/127.0.0.1/$SIM_PORT" || t_fail "cannot connect"
mb -a 1 -r 1 -t 3:float -B || t_fail "a read with another client connected: $MB_ERR"
exec 3>&-
t_ok "several clients"
grep -q 'modbus: client 127.0.0.1:[0-9]* connected' "$SIM_LOG" || t_fail "no client log line"

stop_sim
grep -q ',modbus,2,e_imp,' "$T/j.csv" || t_fail "no e_imp in the journal"

# ---- sdm630: input registers only, 50 registers at most ----------------------

start_sim sdm --profile sdm630 --meters 2 --seed 3 --journal "$T/sdm.csv"
from=$(( $(date +%s%6N) - 1500000 ))
mb -a 2 -r 0 -c 3 -t 3:float -B || t_fail "sdm630 FC 4 read: $MB_ERR"
to=$(date +%s%6N)
v=$(mb_value 2)
journal_has "$T/sdm.csv" modbus 2 v_l2n "$v" "$from" "$to" || t_fail "sdm630 v_l2n $v not journaled"
t_ok "sdm630 v_l2n of unit 2 = $v"
mb -a 1 -r 0x48 -t 3:float -B || t_fail "sdm630 energy: $MB_ERR"
e=$(mb_value 72)
awk -v e="$e" 'BEGIN { exit !(e > 1000) }' || t_fail "sdm630 import energy $e kWh"
t_ok "sdm630 import energy $e kWh"
mb_refused "sdm630 FC 3" "Illegal function" -a 1 -r 0 -t 4:float -B
mb_refused "sdm630 52 registers" "Illegal data value" -a 1 -r 0 -c 26 -t 3:float -B
mb_refused "sdm630 across 0x24..0x33" "Illegal data address" -a 1 -r 0x22 -c 2 -t 3:float -B
stop_sim

# ---- timeout faults ----------------------------------------------------------

start_sim to --meters 3 --fault timeout:2
# A request to unit 2 stays unanswered while another client reads unit 1.
mbpoll -m tcp -p "$SIM_PORT" -0 -1 -o 3 -a 2 -r 1 -t 4:float -B 127.0.0.1 >"$T/to2.out" 2>&1 &
to2=$!
sleep 0.3
t0=$(date +%s%N)
mb -a 1 -r 1 -t 4:float -B || t_fail "unit 1 beside a timed-out unit: $MB_ERR"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kill -0 "$to2" 2>/dev/null || t_fail "the request to unit 2 ended early: $(cat "$T/to2.out")"
t_ok "unit 1 answers in $ms ms while a request to unit 2 is pending"
if wait "$to2"; then t_fail "unit 2 answered: $(cat "$T/to2.out")"; fi
grep -q "timed out" "$T/to2.out" || t_fail "unit 2: $(cat "$T/to2.out")"
t_ok "unit 2 under timeout: timed out"
mb -a 3 -r 1 -t 4:float -B || t_fail "unit 3: $MB_ERR"
stop_sim
grep -q 'fault timeout:2 started' "$SIM_LOG" || t_fail "no fault log line"

start_sim tow --meters 2 --fault 'timeout:2@2+3'
MB_TIMEOUT=1 mb -a 2 -r 1 -t 4:float -B || t_fail "unit 2 before the fault (at $(elapsed_ms) ms): $MB_ERR"
t_ok "unit 2 answers before 2 s"
sleep_until_ms 3000
MB_TIMEOUT=1 mb_refused "unit 2 at $(elapsed_ms) ms" "timed out" -a 2 -r 1 -t 4:float -B
mb -a 1 -r 1 -t 4:float -B || t_fail "unit 1 during the fault: $MB_ERR"
sleep_until_ms 6000
mb -a 2 -r 1 -t 4:float -B || t_fail "unit 2 after the fault (at $(elapsed_ms) ms): $MB_ERR"
t_ok "unit 2 answers again after 5 s"
stop_sim
grep -q 'fault timeout:2@2+3 started' "$SIM_LOG" || t_fail "no start log line"
grep -q 'fault timeout:2@2+3 ended' "$SIM_LOG" || t_fail "no end log line"

# ---- --for and bad usage -----------------------------------------------------

t0=$(date +%s)
"$PHASOR" sim --modbus 127.0.0.1:0 --meters 1 --for 1 >"$T/for.log" 2>&1
t_eq "--for 1 exit status" 0 "$?"
t_no_sanitizer_errors "$T/for.log"

bad_usage() {
	"$PHASOR" sim "$@" >"$T/bad.out" 2>"$T/bad.err"
	local rc=$?
	[ "$rc" -eq 2 ] || t_fail "phasor sim $*: exit $rc, expected 2 ($(cat "$T/bad.err"))"
	[ -s "$T/bad.err" ] || t_fail "phasor sim $*: no message"
	t_ok "phasor sim $*: exit 2: $(head -n 1 "$T/bad.err")"
}
bad_usage --bogus
bad_usage --meters 0
bad_usage --meters 248
bad_usage --fault brownout
bad_usage --fault nan:0
bad_usage --fault timeout:9
bad_usage --fault thd@-5
bad_usage --profile nosuch
bad_usage --profile shelly-pro3em
bad_usage --modbus localhost
bad_usage --speed 0
bad_usage --seed x
bad_usage --mqtt nonsense://x
bad_usage extra
grep -q "did you mean 'undervoltage'" <("$PHASOR" sim --fault undervoltag 2>&1) ||
	t_fail "no suggestion for a misspelt fault"

# A port in use: exit 1.
start_sim busy --meters 1
"$PHASOR" sim --modbus "127.0.0.1:$SIM_PORT" --for 2 >"$T/busy2.log" 2>&1
t_eq "exit status on a busy port" 1 "$?"
stop_sim

"$PHASOR" sim --list --meters 7 >"$T/list.out" 2>&1 || t_fail "--list failed"
grep -q '^3 .*furnace .* 400 kW' "$T/list.out" || t_fail "--list: $(cat "$T/list.out")"
t_eq "--list lines" 8 "$(wc -l <"$T/list.out")"

# ---- MQTT --------------------------------------------------------------------

command -v mosquitto_sub >/dev/null || t_fail "mosquitto_sub is not installed"
t_mosquitto
start_sim mq --meters 2 --seed 5 --journal "$T/mq.csv" --mqtt "$MQTT_URI" --mqtt-period 500ms
t_wait 15 grep -q 'mqtt: connected' "$SIM_LOG" || t_fail "the simulator did not connect"
timeout 15 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -C 2 -v -t 'shellypro3em-sim1/status/#' \
	>"$T/sub.out" 2>"$T/sub.err" || t_fail "mosquitto_sub: $(cat "$T/sub.err")"
em=$(grep '^shellypro3em-sim1/status/em:0 ' "$T/sub.out" | head -n 1 | cut -d' ' -f2-)
[ -n "$em" ] || t_fail "no em:0 message: $(cat "$T/sub.out")"
command -v jq >/dev/null || t_fail "jq is missing (make deps installs it)"
av=$(printf '%s' "$em" | jq -e -r '.a_voltage') || t_fail "not JSON: $em"
printf '%s' "$em" | jq -e '.total_act_power and .n_current != null and .c_pf' >/dev/null ||
	t_fail "fields missing: $em"
printf '%s' "$em" | grep -Eq '"a_voltage":[0-9]+\.[0-9]{3}[,}]' || t_fail "a_voltage not printed with 3 decimals: $em"
sleep 0.6 # the journal is flushed after each round
journal_has "$T/mq.csv" mqtt 1 v_l1n "$av" 0 99999999999999999 1e-12 ||
	t_fail "a_voltage $av is not the journal's mqtt value"
t_ok "MQTT a_voltage $av = journal"
grep '^shellypro3em-sim1/status/emdata:0 ' "$T/sub.out" | grep -q '"total_act":' ||
	timeout 10 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -C 1 -t 'shellypro3em-sim1/status/emdata:0' |
	grep -q '"total_act":' || t_fail "no emdata:0 with total_act"
t_ok "emdata:0 has total_act"

# The broker goes away and comes back on the same port: the simulator keeps
# serving Modbus and reconnects.
t_stop "$MQTT_PID" TERM
t_wait 10 grep -q 'mqtt: connection to .* lost' "$SIM_LOG" || t_fail "the loss was not logged"
mb -a 1 -r 1 -t 4:float -B || t_fail "Modbus while the broker is down: $MB_ERR"
t_bg mosquitto2 mosquitto -c "$T/mosquitto.conf"
t_wait_port "$MQTT_PORT"
t_wait 20 sh -c "[ \$(grep -c 'mqtt: connected' '$SIM_LOG') -ge 2 ]" || t_fail "no reconnection"
timeout 10 mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -C 1 -t 'shellypro3em-sim2/status/em:0' >/dev/null ||
	t_fail "nothing published after the reconnection"
t_ok "reconnected after the broker restart"
stop_sim
grep -q 'mqtt: disconnected' "$SIM_LOG" || t_fail "no clean MQTT disconnect"

t_log "all passed"
