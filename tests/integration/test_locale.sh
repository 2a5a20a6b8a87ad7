#!/bin/bash
# SPDX-License-Identifier: MIT
# Numbers for machines never follow the locale. Under LANG=C.UTF-8, and
# under generated fr_FR.UTF-8 and de_DE.UTF-8 locales (decimal comma), the
# same plant is checked (phasor check-config), recorded (phasor record: a simulated Modbus meter with a
# low-PF alarm, a Shelly Pro 3EM and a Tasmota fed numeric strings such as
# "230.5" by mosquitto_pub), exported, synced (phasor sync --once) and then
# run in the console (tmux) with [sync] while more messages arrive. Each
# locale must give the same MQTT values as C, CSV lines of 6 fields, every
# buffered sample and alarm event in PostgreSQL with the buffer's values,
# and nothing quarantined. Last, rows the server refuses show in the status
# bar: "db ok 0, 1 quarantined", or "q1" when the bar is short of room.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

command -v localedef >/dev/null || t_fail "localedef is not installed (Debian: libc-bin, locales)"
LOC="$T/locale"
mkdir -p "$LOC"
# LOCPATH replaces the default search path: keep the system's (C.UTF-8).
for l in fr_FR de_DE; do
	localedef -i "$l" -f UTF-8 "$LOC/$l.UTF-8" >"$T/localedef.out" 2>&1 ||
		t_fail "localedef $l: $(tail -3 "$T/localedef.out")"
done
# The locales are in force: printf(1) writes a decimal comma under them.
for l in fr_FR.UTF-8 de_DE.UTF-8; do
	t_eq "printf %.1f under $l" "1,5" "$(env LOCPATH="$LOC:/usr/lib/locale" LC_ALL="$l" /usr/bin/printf '%.1f' 1.5)"
done

t_postgres
t_mosquitto
t_sim --meters 1 --seed 9 --fault low-pf:1

# cfg NAME: the plant, buffer $T/NAME.db, log $T/NAME-phasor.log.
cfg() {
	cat >"$T/$1.ini" <<EOC
[site]
name = locale $1
[store]
path = $T/$1.db
commit_interval = 200ms
[log]
path = $T/$1-phasor.log
level = info
[mqtt]
uri = $MQTT_URI
client_id = phasor-locale-$1
[sync]
postgres = $PG_CONNINFO
interval = 500ms
[meter m1]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 1
poll_ms = 250
timeout_ms = 500
[meter sh]
driver = mqtt
profile = shelly-pro3em
topic = loc-$1/status/em:0
[meter tas]
driver = mqtt
profile = tasmota
topic = tele/loc-$1/SENSOR
[alarm low-pf]
meters = m1
quantity = pf
type = low
limit = 0.85
priority = high
[alarm sh-pf]
meters = sh
quantity = pf_l1
type = low
limit = 0.985
priority = medium
EOC
}

# pub NAME ROUND: one Shelly and one Tasmota message, 10 samples. Round 2
# (the console's) raises the Shelly's PF alarm.
pub() {
	local v=$((229 + $2)) pf=0.99
	[ "$2" = 2 ] && pf=0.97
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "loc-$1/status/em:0" \
		-m "{\"a_voltage\":\"$v.5\",\"b_voltage\":\"231.25\",\"a_current\":\" 4.125 \",\"a_pf\":\"$pf\",\"total_act_power\":\"1.2345e3\"}" ||
		t_fail "mosquitto_pub"
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "tele/loc-$1/SENSOR" \
		-m "{\"ENERGY\":{\"Total\":1.00$2,\"Power\":\"150.5\",\"Voltage\":[230.1,231.2,232.3]}}" ||
		t_fail "mosquitto_pub"
}
# at_least N SQL DB: the SQL's count reaches N (for t_wait).
at_least() { [ "$(t_sql "$3" "$2")" -ge "$1" ]; }
MQTT_SQL="SELECT count(*) FROM samples s JOIN meters m ON m.id = s.meter_id WHERE m.name IN ('sh', 'tas')"
RAISE_SQL="SELECT count(*) FROM alarm_events WHERE event = 'raise'"
# subscribed NAME N: more than N "subscribed" lines in NAME's log.
subscribed() { [ "$(grep -c "subscribed" "$T/$1-phasor.log" 2>/dev/null)" -gt "$2" ]; }

run() {
	local name=$1 loc=$2 db="$T/$1.db" n0 rc pane console
	local -a E=(env LOCPATH="$LOC:/usr/lib/locale" LANG="$loc" LC_ALL="$loc")
	cfg "$name"

	# 0. phasor check-config: its summary, with the names made alike
	"${E[@]}" "$PHASOR" check-config -c "$T/$name.ini" 2>&1 |
		sed "s/locale $name/locale X/; s/loc-$name/loc-X/g; s/$name\.db/X.db/; s/$name\.ini/X.ini/; s/$name-phasor/X-phasor/; s/phasor-locale-$name/phasor-locale-X/" \
		>"$T/$name-check.txt"
	grep -q "0.985" "$T/$name-check.txt" || t_fail "$loc: check-config: $(cat "$T/$name-check.txt")"

	# 1. phasor record
	t_bg "$name-record" "${E[@]}" "$PHASOR" record -c "$T/$name.ini"
	local rec=$T_LAST_PID
	t_wait 15 subscribed "$name" 0 || t_fail "$loc: record never subscribed"
	pub "$name" 1
	t_wait 10 at_least 10 "$MQTT_SQL" "$db" ||
		t_fail "$loc: record stored $(t_sql "$db" "$MQTT_SQL") of 10 MQTT samples"
	t_wait 10 at_least 1 "$RAISE_SQL" "$db" || t_fail "$loc: the low-PF alarm of m1 never raised"
	t_stop "$rec" TERM || t_fail "$loc: record exited $?"
	t_no_sanitizer_errors "$T/$name-record.log"

	# 2. phasor sync --once
	"${E[@]}" "$PHASOR" sync -c "$T/$name.ini" --once >"$T/$name-sync1.log" 2>&1 ||
		t_fail "$loc: sync --once exited $?"

	# 3. the console with [sync], more messages meanwhile
	n0=$(grep -c "subscribed" "$T/$name-phasor.log")
	t_tmux_start "$name" 100 40 "${E[@]}" TERM=xterm-256color "$PHASOR" -c "$T/$name.ini"
	t_tmux_wait "$name" 20 " db ok [0-9]+ " || t_fail "$loc: the console never showed 'db ok'"
	t_wait 15 subscribed "$name" "$n0" || t_fail "$loc: the console never subscribed"
	pub "$name" 2
	t_wait 10 at_least 20 "$MQTT_SQL" "$db" ||
		t_fail "$loc: the console stored $(( $(t_sql "$db" "$MQTT_SQL") - 10 )) of 10 MQTT samples"
	t_wait 10 at_least 2 "$RAISE_SQL" "$db" || t_fail "$loc: the console never raised the PF alarm of sh"
	t_tmux_keys "$name" 5
	t_tmux_wait "$name" 5 "forwarded [1-9]" || t_fail "$loc: the console forwarded nothing"
	sleep 1.5
	pane=$(t_tmux_capture "$name")
	echo "$pane" >"$T/$name-pane.txt"
	echo "$pane" | grep -Eq "quarantined +0( |$)" ||
		t_fail "$loc: the sources view shows rows quarantined: $(grep -o 'quarantined.*' "$T/$name-pane.txt")"
	echo "$pane" | tail -1 | grep -Eq " db ok [0-9]+ " || t_fail "$loc: status bar: $(echo "$pane" | tail -1)"
	if echo "$pane" | tail -1 | grep -Eq "quarantined| q[0-9]"; then
		t_fail "$loc: status bar: $(echo "$pane" | tail -1)"
	fi
	t_tmux_quit "$name"
	rc=$(t_tmux_wait_exit "$name" 15) || t_fail "$loc: the console did not quit"
	t_eq "$loc: console exit status" 0 "$rc"

	# 4. what is left forwarded; nothing quarantined; central = local
	"${E[@]}" "$PHASOR" sync -c "$T/$name.ini" --once >"$T/$name-sync2.log" 2>&1 ||
		t_fail "$loc: sync --once exited $?"
	"${E[@]}" "$PHASOR" sync -c "$T/$name.ini" --status >"$T/$name-status.txt" 2>&1 ||
		t_fail "$loc: sync --status exited $?"
	t_eq "$loc: quarantined" "quarantined 0" "$(grep '^quarantined ' "$T/$name-status.txt")"
	t_eq "$loc: local quarantine rows" 0 "$(t_sql "$db" "SELECT count(*) FROM sync_quarantine")"
	t_ok "$loc: $(sync_check "$db") samples in PostgreSQL as buffered"
	console=$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")
	t_eq "$loc: alarm events central" \
		"$(t_sql "$db" "SELECT count(*) FROM alarm_events")" \
		"$(t_psql "SELECT count(*) FROM phasor.alarm_events WHERE console = '$console'")"
	t_eq "$loc: raises central (m1 limit 0.85, sh limit 0.985 value 0.97)" "1|1" \
		"$(t_psql "SELECT count(*) FILTER (WHERE meter = 'm1' AND \"limit\" = 0.85 AND value < 0.85),
			count(*) FILTER (WHERE meter = 'sh' AND \"limit\" = 0.985 AND value = 0.97)
			FROM phasor.alarm_events WHERE console = '$console' AND event = 'raise'")"

	# 5. phasor export: MQTT values, without their times
	"${E[@]}" "$PHASOR" export --db "$db" >"$T/$name-export.csv" 2>"$T/$name-export.err" ||
		t_fail "$loc: export exited $?"
	t_eq "$loc: CSV lines not of 6 fields" 0 "$(awk -F, 'NF != 6' "$T/$name-export.csv" | wc -l)"
	awk -F, '$2 == "sh" || $2 == "tas" { print $2 "," $3 "," $4 "," $5 "," $6 }' \
		"$T/$name-export.csv" | sort >"$T/$name-mqtt.csv"
}

run c C.UTF-8
t_eq "C: the MQTT samples" 20 "$(wc -l <"$T/c-mqtt.csv")"
for want in "sh,v_l1n,230.5,V,good" "sh,v_l1n,231.5,V,good" "sh,i_l1,4.125,A,good" \
	"sh,p_total,1234.5,W,good" "tas,e_imp,1001,Wh,good" "tas,e_imp,1002,Wh,good" \
	"tas,p_total,150.5,W,good" "tas,v_l3n,232.3,V,good"; do
	grep -qx "$want" "$T/c-mqtt.csv" || t_fail "C: no $want in the export"
done
t_ok "C: exact MQTT values (numeric strings, Tasmota 1.001 kWh = 1001 Wh)"
for l in fr de; do
	run "$l" "${l}_$(echo "$l" | tr a-z A-Z).UTF-8"
	cmp -s "$T/c-mqtt.csv" "$T/$l-mqtt.csv" ||
		t_fail "$l: MQTT values differ from C: $(diff "$T/c-mqtt.csv" "$T/$l-mqtt.csv" | head -5)"
	t_ok "$l: the same MQTT values as C"
	cmp -s "$T/c-check.txt" "$T/$l-check.txt" ||
		t_fail "$l: check-config differs from C: $(diff "$T/c-check.txt" "$T/$l-check.txt" | head -5)"
	t_ok "$l: the same check-config summary as C"
done

# Rows the server refuses: the status bar says so. One sample in 2200
# (no partition) in the C buffer.
db="$T/c.db"
last=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'samples.last_seq'")
t_sql "$db" "INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality)
	VALUES($((last + 1)), 7258118400000000, 1, 3, 1.5, 0);
	UPDATE meta SET value = $((last + 1)) WHERE key = 'samples.last_seq';"
t_tmux_start cq 80 24 env LOCPATH="$LOC:/usr/lib/locale" LANG=fr_FR.UTF-8 LC_ALL=fr_FR.UTF-8 TERM=xterm-256color \
	"$PHASOR" -c "$T/c.ini" --read-only
t_tmux_wait cq 20 " db ok [0-9]+ q1 .*read-only" ||
	t_fail "no 'db ok N q1' in a full 80-column status bar"
[ "$(t_tmux_capture cq | LC_ALL=C.UTF-8 wc -L)" -le 80 ] || t_fail "a line wider than 80 columns"
t_tmux_resize cq 120 30
t_tmux_wait cq 10 " db ok [0-9]+, 1 quarantined " || t_fail "no 'db ok N, 1 quarantined' at 120 columns"
t_ok "status bar: 'db ok N q1' at 80 columns, 'db ok N, 1 quarantined' at 120"
t_tmux_quit cq
t_tmux_wait_exit cq 15 >/dev/null || t_fail "the console did not quit"
