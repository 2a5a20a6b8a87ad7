#!/bin/bash
# SPDX-License-Identifier: MIT
# Modbus replies that are not the answer to the request (review W1): the
# simulator answers unit 2 with unit id 7 in the MBAP header (wrong-unit)
# and unit 3 with an MBAP length 50 bytes too large (bad-length), both
# from 0 to 5 s, behind the same endpoint as a healthy unit 1. phasor
# record stores nothing for units 2 and 3 while the fault lasts (libmodbus
# alone takes both replies as good data), says why in the events, counts
# the errors, keeps unit 1 polling, and reads units 2 and 3 again once the
# fault has ended.
. "$(dirname "$0")/lib.sh"

t0=$(( $(date +%s%N) / 1000 ))
t_sim --meters 3 --seed 3 --fault wrong-unit:2@0+5 --fault bad-length:3@0+5
db="$T/buffer.db"
{
	printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db"
	for u in 1 2 3; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 500\n' "$SIM_PORT" "$u"
	done
} >"$T/phasor.ini"
"$PHASOR" record -c "$T/phasor.ini" --for 11 >"$T/record.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"
t_stop "$SIM_PID"
grep -q 'fault wrong-unit:2@0+5 ended' "$T/sim.log" || t_fail "the simulator never ended the fault"

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
link=$(grep "link modbus 127.0.0.1:$SIM_PORT" "$T/record.log" | tail -1)
echo "$link" | grep -q "reconnects [1-9]" || t_fail "reconnects not counted: $link"
t_ok "reconnects counted: ${link#*: }"

# After the fault: both come back and their samples are stored again.
for m in m2 m3; do
	last=$(status_events "$m" | tail -1)
	case "$last" in
	*"-> ok") ;;
	*) t_fail "$m did not come back: $(status_events "$m" | tr '\n' '|')" ;;
	esac
	n=$(polls "$m" 5 12)
	[ "$n" -ge 2 ] || t_fail "$m: only $n polls after the fault"
	t_ok "$m back after the fault: $n polls, $(samples "$m" 5 12) samples"
done

