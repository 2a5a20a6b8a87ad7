#!/bin/bash
# SPDX-License-Identifier: MIT
# Utility meters end to end: three simulators (a gas meter whose uint32
# counter wraps a few seconds in and which also publishes over MQTT, a
# compressed-air meter at 03:00 on a Sunday with a leak on unit 2, a pulse
# counter of 10 l pulses that wraps too), one `phasor record`, and the
# buffer read back: every value is one the simulator served (pulses x
# pulse_value), units are the contract's, the gas energy is volume x
# calorific value, each wrap is one counter wrap counted exactly (no reset,
# no huge delta), the leak
# keeps a flow at night while the sound meter reads 0, and raises the
# night_flow alarm on that meter only (its window the whole day, so that
# the test need not wait for the night), journaled with the lowest flow.
. "$(dirname "$0")/lib.sh"
export TZ=UTC

t_mosquitto
# A Wednesday morning: the gas and the water flow.
t_sim --meters 2 --seed 3 --profile gas-meter --start 2026-12-02T10:00:00Z \
	--fault wrap:1@4 --journal "$T/gas-journal.csv" --mqtt "$MQTT_URI" --mqtt-period 500ms
GAS_PORT=$SIM_PORT GAS_PID=$SIM_PID
# A Sunday night: no production, only the leak of unit 2 flows.
t_sim --meters 2 --seed 4 --profile air-flow --start 2026-12-06T03:00:00Z \
	--fault leak:2 --journal "$T/air-journal.csv"
AIR_PORT=$SIM_PORT AIR_PID=$SIM_PID
t_sim --meters 1 --seed 5 --profile pulse-counter --start 2026-12-02T10:00:00Z \
	--fault wrap:1@4 --journal "$T/pulse-journal.csv"
PULSE_PORT=$SIM_PORT PULSE_PID=$SIM_PID

db="$T/utility.db"
cfg="$T/utility.ini"
cat >"$cfg" <<EOC
[site]
name = utility integration
calorific_value = 10.5
[store]
path = $db
[mqtt]
uri = $MQTT_URI
client_id = utility-test-$$
EOC
modbus_meter() { # NAME PROFILE PORT UNIT
	printf '[meter %s]\ndriver = modbus\nprofile = %s\nhost = 127.0.0.1\n' "$1" "$2"
	printf 'port = %s\nunit = %s\npoll_ms = 500\n' "$3" "$4"
}
for u in 1 2; do
	modbus_meter "gas$u" gas-meter "$GAS_PORT" "$u" >>"$cfg"
	modbus_meter "air$u" air-flow "$AIR_PORT" "$u" >>"$cfg"
done
modbus_meter well pulse-counter "$PULSE_PORT" 1 >>"$cfg"
cat >>"$cfg" <<EOC
utility = water
pulse_value = 10 l
[meter gas-mqtt]
driver = mqtt
profile = utility-json
topic = utility-sim2/status/utility
utility = gas
calorific_value = 37.8 MJ/m3
poll_ms = 1000
[alarm leak]
meters = air*
quantity = night_flow
limit = 0.1
window = 00:00-24:00
on_delay = 3s
priority = high
EOC
"$PHASOR" check-config -c "$cfg" >"$T/check.log" 2>&1 || t_fail "check-config rejected $cfg"
grep -q "gas1 .* gas, energy from volume at 10.5 kWh/m3" "$T/check.log" ||
	t_fail "the summary does not say how gas1's energy is made"
grep -q "well .* water, 0.01 m3 per pulse" "$T/check.log" ||
	t_fail "the summary does not give the well's pulse value"
"$PHASOR" sim --utility gaz >"$T/bad-utility.out" 2>&1
t_eq "sim --utility gaz: exit status" 2 "$?"
grep -q "did you mean 'gas'" "$T/bad-utility.out" || t_fail "sim --utility gaz: $(cat "$T/bad-utility.out")"
"$PHASOR" record -c "$cfg" --for 10 >"$T/record.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"
t_stop "$GAS_PID"
t_stop "$AIR_PID"
t_stop "$PULSE_PID"

"$PHASOR" export --db "$db" >"$T/export.csv" || t_fail "export exited $?"
sqlite3 "$T/check.db" <<EOS || t_fail "sqlite import failed"
.mode csv
.import $T/export.csv export
.import $T/gas-journal.csv gas
.import $T/air-journal.csv air
.import $T/pulse-journal.csv pulse
EOS
q="sqlite3 -batch -noheader $T/check.db"

# Every quantity of every meter arrived.
for mq in gas1:volume gas1:flow gas1:pressure gas1:temp gas1:e_imp air1:flow air1:volume \
	air1:pressure air1:temp air2:flow well:volume gas-mqtt:flow gas-mqtt:volume \
	gas-mqtt:pressure gas-mqtt:temp gas-mqtt:e_imp; do
	n=$($q "SELECT count(*) FROM export WHERE meter = '${mq%%:*}' AND quantity = '${mq#*:}'")
	[ "$n" -gt 0 ] || t_fail "no $mq stored"
done
t_ok "every meter's quantities stored"
t_eq "quality bad rows" 0 "$($q "SELECT count(*) FROM export WHERE quality <> 'good'")"

# Units are the contract's.
t_eq "rows with a wrong unit" 0 "$($q "SELECT count(*) FROM export WHERE
	(quantity = 'flow' AND unit <> 'm3/h') OR (quantity = 'volume' AND unit <> 'm3') OR
	(quantity = 'pressure' AND unit <> 'bar') OR (quantity = 'temp' AND unit <> 'degC') OR
	(quantity = 'e_imp' AND unit <> 'Wh')")"

# Values exact: each stored value is one the simulator served (its
# journal holds what a reader decodes, in the profile's units), converted:
# mbar -> bar for the gas pressure, pulses x 0.01 m3 for the well.
served() { # METER_PREFIX JOURNAL CONVERSION
	$q "SELECT count(*) FROM export e WHERE e.meter LIKE '$1%' AND e.meter <> 'gas-mqtt'
		AND e.quantity <> 'e_imp' AND NOT EXISTS (
		SELECT 1 FROM $2 j WHERE '$1' || j.unit = e.meter
		  AND j.quantity = (CASE WHEN j.quantity = 'pulses' THEN 'volume' ELSE e.quantity END)
		  AND abs(CAST(e.value AS REAL) - $3) <= 1e-12 * abs(CAST(e.value AS REAL)))"
}
t_eq "gas values not served" 0 "$(served gas gas "CAST(j.value AS REAL)")"
t_eq "air values not served" 0 "$(served air air "CAST(j.value AS REAL)")"
t_eq "well values not pulses x 10 l" 0 \
	"$($q "SELECT count(*) FROM export e WHERE e.meter = 'well' AND NOT EXISTS (
		SELECT 1 FROM pulse j WHERE j.quantity = 'pulses'
		  AND abs(CAST(e.value AS REAL) - CAST(j.value AS REAL) * 0.01) <= 1e-9)")"
t_eq "well volume not on 0.01 m3 steps" 0 \
	"$($q "SELECT count(*) FROM export WHERE meter = 'well' AND
		abs(CAST(value AS REAL) * 100 - round(CAST(value AS REAL) * 100)) > 1e-6")"

# Gas energy = volume x calorific value, at the same time (10.5 from [site];
# 37.8 MJ/m3 = 10.5 kWh/m3 for the MQTT meter).
for m in gas1 gas2 gas-mqtt; do
	t_eq "$m: e_imp rows not volume x 10.5 kWh/m3" 0 "$($q "SELECT count(*) FROM export e
		WHERE e.meter = '$m' AND e.quantity = 'e_imp' AND NOT EXISTS (
		SELECT 1 FROM export v WHERE v.meter = e.meter AND v.quantity = 'volume'
		  AND v.time = e.time
		  AND abs(CAST(v.value AS REAL) * 10500 - CAST(e.value AS REAL)) <=
		      1e-9 * CAST(e.value AS REAL))")"
done
t_eq "air meters with e_imp" 0 "$($q "SELECT count(*) FROM export WHERE meter LIKE 'air%'
	AND quantity = 'e_imp'")"

# The wraps: gas1's uint32 in 0.01 m3 passed 42,949,672.95 m3, the well's
# pulse count 4,294,967,295 pulses; each is one counter wrap of its counter
# (and of the derived energy), no reset, and the volume starts again from 0.
wrapped() { # METER TOP
	$q "SELECT (SELECT max(CAST(value AS REAL)) FROM export WHERE meter = '$1'
		AND quantity = 'volume') > $2 * 0.99999 AND (SELECT CAST(value AS REAL) FROM export
		WHERE meter = '$1' AND quantity = 'volume' ORDER BY time DESC LIMIT 1) < 100"
}
t_eq "gas1 volume wrapped" 1 "$(wrapped gas1 42949672.96)"
t_eq "well volume wrapped" 1 "$(wrapped well 42949672.96)"
events() { # METER WHAT QUANTITY
	t_sql "$db" "SELECT count(*) FROM events e JOIN meters m ON m.id = e.meter_id
		WHERE m.name = '$1' AND e.what = '$2' AND e.text LIKE '$3 %'"
}
t_eq "gas1 volume counter wraps" 1 "$(events gas1 counter-wrap volume)"
t_eq "gas1 e_imp counter wraps" 1 "$(events gas1 counter-wrap e_imp)"
t_eq "well volume counter wraps" 1 "$(events well counter-wrap volume)"
t_eq "counter resets (a wrap is none)" 0 "$(t_sql "$db" "SELECT count(*) FROM events
	WHERE what = 'counter-reset'")"
# The rise across each wrap, exactly: after + 2^32 x 0.01 - before, which
# the event says, and the samples either side of it give.
t_sql "$db" "SELECT m.name, e.text FROM events e JOIN meters m ON m.id = e.meter_id
	WHERE e.what = 'counter-wrap' AND e.text LIKE 'volume %'" >"$T/wraps.txt"
while IFS='|' read -r meter text; do
	read -r span before after counted < <(sed -n \
		's/^volume wrapped at \([0-9.e+]*\) m3: from \([0-9.e+]*\) to \([0-9.e+]*\), \([0-9.e+]*\) counted$/\1 \2 \3 \4/p' \
		<<<"$text")
	[ -n "$counted" ] || t_fail "$meter: wrap event text: $text"
	t_eq "$meter wrap span" 42949672.96 "$span"
	t_eq "$meter rise across the wrap exact" 1 "$($q "SELECT abs($counted - ($after + $span - $before))
		< 1e-6 AND $counted > 0 AND $counted < 5")"
	t_eq "$meter wrap: consecutive samples" 1 "$($q "WITH v AS (SELECT CAST(value AS REAL) AS x,
		lag(CAST(value AS REAL)) OVER (ORDER BY time) AS px FROM export
		WHERE meter = '$meter' AND quantity = 'volume')
		SELECT count(*) FROM v WHERE abs(px - $before) < 1e-9 AND abs(x - $after) < 1e-9")"
done <"$T/wraps.txt"
t_eq "volume wrap events checked" 2 "$(wc -l <"$T/wraps.txt")"
t_eq "gas2 counter wraps (no wrap)" 0 "$(events gas2 counter-wrap volume)"
# No huge delta: the rises of the counter between consecutive samples,
# drops left out as counter resets do, add up to a few m3 in 10 s.
t_eq "gas1 rises beyond 5 m3 in 10 s" 1 "$($q "WITH v AS (SELECT time,
	CAST(value AS REAL) AS x, lag(CAST(value AS REAL)) OVER (ORDER BY time) AS px
	FROM export WHERE meter = 'gas1' AND quantity = 'volume')
	SELECT coalesce(sum(CASE WHEN x >= px THEN x - px ELSE 0 END), 0) < 5 FROM v")"

# The leak: on a Sunday at 03:00 the sound air meter reads 0, the leaking
# one a flow all along; the receiver's pressure stays around 7 bar.
t_eq "air1 (no leak) night flow is 0" 1 "$($q "SELECT max(CAST(value AS REAL)) = 0 FROM export
	WHERE meter = 'air1' AND quantity = 'flow'")"
t_eq "air2 (leak) night flow always above 0" 1 "$($q "SELECT min(CAST(value AS REAL)) > 0
	FROM export WHERE meter = 'air2' AND quantity = 'flow'")"
t_eq "air pressure within 6.2..7.6 bar" 1 "$($q "SELECT min(CAST(value AS REAL)) >= 6.2 AND
	max(CAST(value AS REAL)) <= 7.6 FROM export WHERE meter LIKE 'air%'
	AND quantity = 'pressure'")"
# The night-flow alarm: raised on air2 (its flow never below 0.1 m3/h for
# 3 s), never on air1 (which reads 0); the journal's value is the lowest
# flow since the recorder started, one air2 served, and the note says so.
"$PHASOR" alarms --db "$db" >"$T/alarms.csv" || t_fail "phasor alarms failed"
sqlite3 "$T/check.db" <<EOS || t_fail "sqlite import of the journal failed"
.mode csv
.import $T/alarms.csv journal
EOS
t_eq "night-flow raises (air2 only)" "air2" "$($q "SELECT group_concat(meter) FROM journal
	WHERE alarm = 'leak' AND event = 'raise'")"
t_eq "night-flow raise: quantity, priority, state, limit" "night_flow|high|unack|0.1" \
	"$($q "SELECT quantity, priority, state, \"limit\" FROM journal WHERE alarm = 'leak'
	AND event = 'raise'")"
t_eq "night-flow raise value is air2's lowest flow before it" 1 "$($q "SELECT
	abs(CAST(j.value AS REAL) - (SELECT min(CAST(e.value AS REAL)) FROM export e
	WHERE e.meter = 'air2' AND e.quantity = 'flow' AND e.time <= j.time)) < 1e-9
	AND CAST(j.value AS REAL) >= 0.5 FROM journal j WHERE j.alarm = 'leak' AND j.event = 'raise'")"
t_eq "night-flow note" 1 "$($q "SELECT count(*) FROM journal WHERE alarm = 'leak'
	AND event = 'raise' AND note LIKE 'lowest flow % m3/h since 00:00 (limit 0.1 m3/h)'")"
# A Wednesday morning: gas flows.
t_eq "gas1 flow above 0" 1 "$($q "SELECT min(CAST(value AS REAL)) > 0 FROM export
	WHERE meter = 'gas1' AND quantity = 'flow'")"
t_eq "gas pressure in bar (about 21 mbar)" 1 "$($q "SELECT min(CAST(value AS REAL)) > 0.015
	AND max(CAST(value AS REAL)) < 0.025 FROM export WHERE meter LIKE 'gas%'
	AND quantity = 'pressure'")"
