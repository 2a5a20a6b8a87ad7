#!/bin/bash
# SPDX-License-Identifier: MIT
# Modbus replies that are not the answer to the request (review W1). One
# simulator answers unit 2 with unit id 7 in the MBAP header (wrong-unit)
# and unit 3 with an MBAP length 50 bytes too large (bad-length), behind
# the same endpoint as a healthy unit 1. Another holds each reply of its
# unit 2 back until the next request on the connection (late), beside a
# healthy unit 1. Every fault lasts from 0 to 5 s. phasor record stores
# nothing for the faulty units while the faults last (libmodbus alone takes
# the first two replies as good data, and a late reply as the answer to the
# next request, a healthy unit's too), says why in the events, counts the
# errors, keeps the healthy units polling, and reads the faulty ones again
# once the faults have ended.
. "$(dirname "$0")/lib.sh"

t0=$(( $(date +%s%N) / 1000 ))
t_sim --meters 3 --seed 3 --fault wrong-unit:2@0+5 --fault bad-length:3@0+5
sim_a=$SIM_PID port_a=$SIM_PORT
SIM_PORT=$(t_port)
t_bg sim-b "$PHASOR" sim --modbus "127.0.0.1:$SIM_PORT" --meters 2 --seed 4 --fault late:2@0+5
sim_b=$T_LAST_PID port_b=$SIM_PORT
t_wait_port "$port_b"
db="$T/buffer.db"
meter() { # NAME PORT UNIT
	printf '[meter %s]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$1"
	printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 500\n' "$2" "$3"
}
{
	printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db"
	for u in 1 2 3; do meter "m$u" "$port_a" "$u"; done
	for u in 1 2; do meter "n$u" "$port_b" "$u"; done
} >"$T/phasor.ini"
"$PHASOR" record -c "$T/phasor.ini" --for 13 >"$T/record.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"
t_stop "$sim_a"
t_stop "$sim_b"
grep -q 'fault wrong-unit:2@0+5 ended' "$T/sim.log" || t_fail "simulator a never ended its faults"
grep -q 'fault late:2@0+5 ended' "$T/sim-b.log" || t_fail "simulator b never ended its fault"

q() { t_sql "$db" "$1"; }
samples() { # METER FROM_S TO_S (relative to t0)
	q "SELECT count(*) FROM samples s JOIN meters m ON m.id = s.meter_id
	   WHERE m.name = '$1' AND s.t_us >= $t0 + $2 * 1000000 AND s.t_us < $t0 + $3 * 1000000"
}
polls() { # METER FROM_S TO_S: distinct poll times
	q "SELECT count(DISTINCT s.t_us) FROM samples s JOIN meters m ON m.id = s.meter_id
	   WHERE m.name = '$1' AND s.t_us >= $t0 + $2 * 1000000 AND s.t_us < $t0 + $3 * 1000000"
}
status_events() { # METER: the meter's status changes, oldest first
	q "SELECT e.text FROM events e JOIN meters m ON m.id = e.meter_id
	   WHERE m.name = '$1' AND e.what = 'status' ORDER BY e.t_us"
}

# While the fault lasts (it ends 5 s after t0; the record starts later):
# nothing stored for the faulty units, unit 1 polled at its rate.
t_eq "m2 samples during the wrong-unit fault" 0 "$(samples m2 0 5)"
t_eq "m3 samples during the bad-length fault" 0 "$(samples m3 0 5)"
n=$(polls m1 1 4.5)
[ "$n" -ge 5 ] || t_fail "m1: only $n polls in 3.5 s beside the faulty units"
t_ok "m1: $n polls in 3.5 s beside the faulty units"

# Why, in the events: the first status change of each faulty meter.
first2=$(status_events m2 | head -1)
t_eq "m2 first status" "unknown -> down: reply from unit 7, expected unit 2" "$first2"
first3=$(status_events m3 | head -1)
case "$first3" in
"unknown -> down: MBAP length "*" but "*" bytes (unit id and PDU) came") ;;
*) t_fail "m3 first status: $first3" ;;
esac
claimed=$(echo "$first3" | sed -E 's/.*MBAP length ([0-9]+) but ([0-9]+) bytes.*/\1/')
came=$(echo "$first3" | sed -E 's/.*MBAP length ([0-9]+) but ([0-9]+) bytes.*/\2/')
t_eq "m3: MBAP length claimed minus bytes that came" 50 "$(( claimed - came ))"
t_ok "m3: $first3"

# The connection was closed after each bad reply and opened again.
n=$(q "SELECT count(*) FROM events WHERE what = 'disconnect'
	AND text LIKE 'closed after a bad reply to meter m2: reply from unit 7, expected unit 2'")
[ "$n" -ge 1 ] || t_fail "no disconnect event for m2: $(q "SELECT what, text FROM events")"
n=$(q "SELECT count(*) FROM events WHERE what = 'disconnect'
	AND text LIKE 'closed after a bad reply to meter m3: MBAP length %'")
[ "$n" -ge 1 ] || t_fail "no disconnect event for m3"
link=$(grep "link modbus 127.0.0.1:$port_a" "$T/record.log" | tail -1)
echo "$link" | grep -q "reconnects [1-9]" || t_fail "reconnects not counted: $link"
t_ok "reconnects counted: ${link#*: }"

# The late replies: n2 times out (the connection is then reopened, so its
# reply never reaches another request), n1 beside it is not disturbed.
t_eq "n2 samples during the late fault" 0 "$(samples n2 0 5)"
first=$(status_events n2 | head -1)
t_eq "n2 first status" "unknown -> down: timeout after 500 ms reading 70 registers at 1" "$first"
n=$(polls n1 1 4.5)
[ "$n" -ge 5 ] || t_fail "n1: only $n polls in 3.5 s beside the late unit: $(status_events n1 | tr '\n' '|')"
t_ok "n1: $n polls in 3.5 s beside the late unit"
t_eq "n1 status changes" "unknown -> ok" "$(status_events n1 | tr '\n' '|' | sed 's/|$//')"
t_eq "disconnects on the late unit's endpoint" 0 \
	"$(q "SELECT count(*) FROM events WHERE what = 'disconnect'
	      AND text NOT LIKE 'closed after a bad reply to meter m%'")"
link=$(grep "link modbus 127.0.0.1:$port_b" "$T/record.log" | tail -1)
echo "$link" | grep -q "timeouts [1-9][0-9]*, exceptions 0, reconnects [1-9]" ||
	t_fail "timeouts and reopenings not counted: $link"
t_ok "late unit's endpoint: ${link#*: }"

# After the faults: all come back and their samples are stored again. n2,
# demoted at its first timeout, is probed 1, 2 and 4 s apart (+-20 %): its
# third probe, after the fault, may come 9 s after t0; 13 s of recording
# leave it time for a few polls.
for m in m2 m3 n2; do
	last=$(status_events "$m" | tail -1)
	case "$last" in
	*"-> ok") ;;
	*) t_fail "$m did not come back: $(status_events "$m" | tr '\n' '|')" ;;
	esac
	n=$(polls "$m" 5 14)
	[ "$n" -ge 2 ] || t_fail "$m: only $n polls after the fault"
	t_ok "$m back after the fault: $n polls, $(samples "$m" 5 14) samples"
done

