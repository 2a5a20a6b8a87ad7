#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench: phasor measured side by side with its peers in one run.
# Prints a summary and writes it to build/bench-results.md. Method and
# recorded figures: docs/performance.md. Never part of make check.
#
# BENCH_ONLY=mqtt|store|modbus|console|alarms|sync|gateway|forecast|attached|latency|
# startup|replay|fcload|layout|rollup|report|export|memory|frames runs one; BENCH_QUICK=1 shortens each. The last three (bench/bench_consoles.sh)
# are the recorder and its attached consoles.
set -u
: "${PHASOR:?}" "${TOOLS:?}" "${BENCH:?}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/integration/lib.sh"
T_NAME=bench
out="$here/../build/bench-results.md"
quick=${BENCH_QUICK:-}
only=${BENCH_ONLY:-}
results=""
add() { results="$results$1"$'\n'; echo "$1"; }

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)
now_s() { date +%s.%N; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b == 0 ? 0 : a / b) }'; }
# The machine's load before a round, from others: the share of 2 s, with
# no benchmark process running but the round's input (a simulator, a
# broker), in which a runnable task waited for a core ("some" total of
# /proc/pressure/cpu; its avg10 would still hold the previous round's own
# load). Logged beside every round; above HEAVY_PSI % the round is marked,
# its figures not comparable with a quiet round's.
HEAVY_PSI=10
psi_total() { awk '/^some/ { sub("total=", "", $5); print $5; exit }' /proc/pressure/cpu 2>/dev/null || echo 0; }
psi() {
	local a b
	a=$(psi_total)
	sleep 2
	b=$(psi_total)
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 2e4 }'
}
heavy() { awk -v p="$1" -v h="$HEAVY_PSI" 'BEGIN { if (p + 0 > h) printf " HEAVY PRESSURE" }'; }
# Before round R of sides A and B (round_start R A B): $order, A first in
# odd rounds, B in even ones; $p the pressure now, added to $ps (the
# caller's locals: bash's scoping).
round_start() {
	order="$2 $3"
	[ $(($1 % 2)) -eq 0 ] && order="$3 $2"
	p=$(psi)
	ps="$ps $p"
}
# the notes column of a row: the highest pressure of its rounds
psi_note() {
	printf '%s\n' "$@" | sort -g | tail -1 |
		awk -v h="$HEAVY_PSI" '{ printf "CPU pressure before the rounds: max %s %%%s", $1, ($1 > h ? " (HEAVY: a round was not quiet)" : "") }'
}

# ---- 1. MQTT ingest: phasor record vs mosquitto_sub on the same stream ----
# Alternately, never side by side (one consumer's CPU would slow the
# other): in each round mosquitto_sub alone, then phasor record alone (the
# order swapped every other round), subscribe to a private broker while
# mosquitto_pub publishes the same stream (one file, QoS 1, full speed).
# Each rate is on the consumer's own clock: mosquitto_sub from its first to
# its last message, phasor from its first arrival until every sample of
# every message is committed to the buffer (through the intake journal).
# The ratio is taken within each round; the median round is reported.
MQTT_TOPIC=bench/status/em:0
MQTT_FIELDS=19

# publish the stream; its input stays open until FLAG exists (mosquitto_pub
# -l drops what it still has queued when its input ends)
mqtt_publish() {
	(cat "$T/stream.txt"; while [ ! -f "$1" ]; do sleep 0.05; done) |
		mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$MQTT_TOPIC" -l &
	MQTT_PUB=$!
}

mqtt_sub_round() {
	local n=$1
	rm -f "$T/sub.done"
	mosquitto_sub -p "$MQTT_PORT" -q 1 -t "$MQTT_TOPIC" -C "$n" -F '%U' >"$T/sub.ts" 2>"$T/sub.err" &
	local sub=$!
	T_PIDS="$T_PIDS $sub"
	sleep 0.3
	mqtt_publish "$T/sub.done"
	wait "$sub"
	touch "$T/sub.done"
	wait "$MQTT_PUB" 2>/dev/null
	[ "$(wc -l <"$T/sub.ts")" -eq "$n" ] || t_fail "mosquitto_sub got $(wc -l <"$T/sub.ts") of $n"
	awk -v n="$n" -v a="$(head -1 "$T/sub.ts")" -v b="$(tail -1 "$T/sub.ts")" 'BEGIN { printf "%.0f", (n - 1) / (b - a) }'
}

mqtt_ph_round() {
	local n=$1 db="$T/mqtt.db" want=$(($1 * MQTT_FIELDS)) have=0 i=0
	rm -f "$db" "$db-wal" "$db-shm" "$db"-intake* "$T/stored"
	t_bg record "$PHASOR" record -c "$T/mqtt.ini" --stats 0
	local rec=$T_LAST_PID
	t_wait 15 grep -q "subscribed" "$T/record.log" || t_fail "record never subscribed"
	sleep 0.3
	local cpu0 t0
	cpu0=$(cpu_ticks "$rec")
	t0=$(now_s)
	mqtt_publish "$T/stored"
	while [ "$i" -lt 12000 ]; do
		have=$(sqlite3 "$db" "SELECT count(*) FROM samples" 2>/dev/null || echo 0)
		[ "$have" -ge "$want" ] && break
		sleep 0.01
		i=$((i + 1))
	done
	local t_done cpu1
	t_done=$(now_s)
	cpu1=$(cpu_ticks "$rec")
	touch "$T/stored"
	wait "$MQTT_PUB" 2>/dev/null
	[ "$have" -ge "$want" ] || t_fail "phasor stored $have of $want samples"
	t_stop "$rec" TERM
	grep -q " 0 dropped" "$T/record.log" || t_fail "phasor dropped samples: $(grep 'stopped' "$T/record.log")"
	local first ph_rate cpu
	first=$(sqlite3 "$db" "SELECT min(t_us) / 1e6 FROM samples")
	ph_rate=$(awk -v n="$n" -v a="$first" -v b="$t_done" 'BEGIN { printf "%.0f", n / (b - a) }')
	cpu=$(awk -v t="$((cpu1 - cpu0))" -v hz="$hz" -v a="$t0" -v b="$t_done" 'BEGIN { printf "%.0f", 100 * t / hz / (b - a) }')
	echo "$ph_rate $cpu"
}

mqtt_round() {
	local n=$1 r=$2 sub_rate ph_rate cpu
	if [ $((r % 2)) -eq 1 ]; then
		sub_rate=$(mqtt_sub_round "$n")
		read -r ph_rate cpu < <(mqtt_ph_round "$n")
	else
		read -r ph_rate cpu < <(mqtt_ph_round "$n")
		sub_rate=$(mqtt_sub_round "$n")
	fi
	echo "$sub_rate $ph_rate $cpu"
}

bench_mqtt() {
	local n=200000 sub_rate ph_rate cpu
	[ -n "$quick" ] && n=50000
	t_mosquitto
	cat >"$T/mqtt.ini" <<EOC
[store]
path = $T/mqtt.db
commit_interval = 100ms
[mqtt]
uri = $MQTT_URI
client_id = phasor-bench
qos = 1
[meter bench]
driver = mqtt
profile = shelly-pro3em
topic = $MQTT_TOPIC
EOC
	# A Shelly Pro 3EM em:0 status: 19 fields phasor maps, 2 it ignores.
	awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":0,\"a_current\":%.3f,\"a_voltage\":%.1f,\"a_act_power\":%.1f,\"a_aprt_power\":%.1f,\"a_pf\":0.97,\"a_freq\":50.0,\"b_current\":4.027,\"b_voltage\":236.2,\"b_act_power\":951.1,\"b_aprt_power\":981.8,\"b_pf\":0.97,\"c_current\":3.03,\"c_voltage\":236.4,\"c_act_power\":715.4,\"c_aprt_power\":736.2,\"c_pf\":0.97,\"n_current\":0.4,\"total_current\":11.086,\"total_act_power\":%d,\"total_aprt_power\":2699.9,\"user_calibrated_phase\":[]}\n",
			4 + (i % 100) / 1000, 230 + (i % 50) / 10, 900 + i % 100, 950 + i % 100, i }' >"$T/stream.txt"
	# The ratio is taken within each round (the same stream for both);
	# the median of the rounds is reported.
	local ratios="" rates="" r ratio median p ps=""
	for r in 1 2 3 4 5; do
		p=$(psi)
		ps="$ps $p"
		read -r sub_rate ph_rate cpu < <(mqtt_round "$n" "$r")
		ratio=$(fdiv "$ph_rate" "$sub_rate")
		echo "  round $r: mosquitto_sub $sub_rate msg/s, phasor record $ph_rate msg/s, ratio $ratio (record CPU $cpu%); cpu_pressure=$p$(heavy "$p")"
		ratios="$ratios $ratio"
		rates="$rates $ratio:$ph_rate:$sub_rate:$cpu"
	done
	median=$(printf '%s\n' $rates | sort -t: -k1,1n | sed -n 3p)
	IFS=: read -r ratio ph_rate sub_rate cpu <<<"$median"
	add "| MQTT ingest ($n msgs of $MQTT_FIELDS samples, QoS 1, alternately, median of 5 rounds) | phasor record stored $ph_rate msg/s ($((ph_rate * MQTT_FIELDS)) samples/s) | mosquitto_sub received $sub_rate msg/s | **$ratio** (target >= 0.9; rounds:$ratios) | record CPU ${cpu}% of a core; $(psi_note $ps) |"
	t_stop "$MQTT_PID" TERM
}

# ---- 2. Buffer: store API vs bare batched prepared-statement inserts ----
bench_store() {
	local n=2000000
	[ -n "$quick" ] && n=300000
	local line
	line=$("$BENCH/bench_store" "$n" 3 2>"$T/store.log") || t_fail "bench_store failed"
	grep '^round' "$T/store.log" >&2
	set -- $line
	add "| Buffer inserts ($n samples in polls of 30, 3 rounds alternately, order swapped each round; median) | store $1 samples/s | bare tuple, 16-row INSERTs, no index, same pragmas: $2 samples/s | **$4** (min $3, max $5; target >= 0.7) | CPU pressure per round in the log |"
}

# ---- 3. Modbus: 200 simulated PAC3200 meters polled at 1 Hz ----
# phasor record and bare_modbus (bench/bare_modbus.c: one libmodbus
# connection making the same two requests per poll, the polls spread over
# the second the same way, nothing else: the floor) alternately on the same
# simulator, three rounds, the order swapped every other round. Each side's
# CPU is the utime + stime delta of its process from /proc/PID/stat over the
# same window after a 5 s warm-up, divided by the polls made in it: CPU per
# poll, and the ratio within each round. phasor's first round also checks
# that every meter was polled and the longest gap between two polls (SQL
# over the samples).
modbus_window() { # PID SECS -> "ticks seconds"
	local c0 t0 c1 t1
	c0=$(cpu_ticks "$1"); t0=$(now_s)
	sleep "$2"
	c1=$(cpu_ticks "$1"); t1=$(now_s)
	echo "$((c1 - c0)) $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
}
bench_modbus() {
	local meters=200 secs=60 r side order ph bare ratios="" phs="" bares="" p rss=0 hwm=0
	local worst_gap="" polls_min="" nmeters="" from_us w us ps=""
	[ -n "$quick" ] && secs=15
	t_sim --meters "$meters" --seed 2
	local db="$T/modbus.db"
	{
		printf '[store]\npath = %s\n' "$db"
		for u in $(seq 1 "$meters"); do
			printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
			printf 'port = %d\nunit = %d\npoll_ms = 1000\ntimeout_ms = 1000\n' "$SIM_PORT" "$u"
		done
	} >"$T/modbus.ini"
	for r in 1 2 3; do
		round_start "$r" phasor bare
		for side in $order; do
			if [ "$side" = phasor ]; then
				rm -f "$db"*
				t_bg record "$PHASOR" record -c "$T/modbus.ini" --stats 0
				local rec=$T_LAST_PID
				sleep 5 # warm-up: connections made, schedule settled
				from_us=$(( $(date +%s%N) / 1000 ))
				w=$(modbus_window "$rec" "$secs")
				if [ "$r" -eq 1 ]; then
					rss=$(awk '/VmRSS/ { print $2 }' "/proc/$rec/status")
					hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$rec/status")
				fi
				t_stop "$rec" TERM
				# us of CPU per poll: ticks / hz / (meters x seconds)
				ph=$(awk -v t="${w% *}" -v s="${w#* }" -v hz="$hz" -v m="$meters" \
					'BEGIN { printf "%.1f", t / hz * 1e6 / (m * s) }')
				if [ "$r" -eq 1 ]; then
					worst_gap=$(sqlite3 "$db" "WITH p AS (SELECT DISTINCT meter_id, t_us FROM samples WHERE t_us >= $from_us),
						g AS (SELECT meter_id, t_us - LAG(t_us) OVER (PARTITION BY meter_id ORDER BY t_us) AS gap FROM p)
						SELECT printf('%.0f', max(gap) / 1000.0) FROM g")
					polls_min=$(sqlite3 "$db" "SELECT min(c) FROM (SELECT count(DISTINCT t_us) AS c FROM samples WHERE t_us >= $from_us GROUP BY meter_id)")
					nmeters=$(sqlite3 "$db" "SELECT count(DISTINCT meter_id) FROM samples WHERE t_us >= $from_us")
				fi
			else
				"$BENCH/bare_modbus" --port "$SIM_PORT" --units "$meters" \
					--seconds $((secs + 10)) --read 1:70 --read 801:28 >"$T/bare.out" &
				local bp=$!
				sleep 5
				w=$(modbus_window "$bp" "$secs")
				kill "$bp" 2>/dev/null
				wait "$bp" 2>/dev/null
				bare=$(awk -v t="${w% *}" -v s="${w#* }" -v hz="$hz" -v m="$meters" \
					'BEGIN { printf "%.1f", t / hz * 1e6 / (m * s) }')
			fi
		done
		ratios="$ratios $(fdiv "$ph" "$bare")"
		phs="$phs $ph"
		bares="$bares $bare"
		t_log "modbus round $r ($order): phasor $ph us/poll, bare libmodbus $bare us/poll, cpu_pressure=$p$(heavy "$p")"
	done
	add "| Modbus, $meters PAC3200 at 1 Hz, 3 x ${secs} s alternately | phasor record: CPU per poll (us, min/median/max) $(min_med_max $phs); $nmeters meters polled, fewest polls $polls_min, longest gap ${worst_gap} ms; RSS $((rss / 1024)) MiB (peak $((hwm / 1024)) MiB) | bare libmodbus, same requests: $(min_med_max $bares) us/poll | **$(min_med_max $ratios)** (target: phasor <= 100 us/poll) | $(psi_note $ps) |"
	t_stop "$SIM_PID" TERM
}

# ---- 4. Console: bytes to the terminal, CPU, render time ----
# phasor --demo (the demo plant, 1 s refresh) and htop -d 10 (1 s) each run
# alone in a 120x40 pseudo-terminal (tests/tools/ptyrec.c); after a warm-up,
# the bytes they write per second and their CPU share are measured the same
# way. Render time is phasor's own measure of each frame, from the first
# computation to the return of doupdate (PHASOR_STATS_FILE).
bench_console() {
	local warm=10 secs=60 r order side out p ps="" pb pc hb hc
	local ratios="" pbs="" pcs="" hbs="" hcs="" means="" maxs="" frames=0
	[ -n "$quick" ] && secs=15
	command -v htop >/dev/null || t_fail "htop is not installed (make deps)"
	mkdir -p "$T/run"
	for r in 1 2 3; do
		round_start "$r" phasor htop
		for side in $order; do
			if [ "$side" = phasor ]; then
				rm -f "$T/frames.txt"
				out=$(env XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run" LANG=C.UTF-8 \
					TERM=xterm-256color PHASOR_STATS_FILE="$T/frames.txt" "$TOOLS/ptyrec" \
					--cols 120 --rows 40 --warmup "$warm" --measure "$secs" -- "$PHASOR" --demo) ||
					t_fail "ptyrec phasor failed"
				sleep 1
				[ -s "$T/frames.txt" ] || t_fail "the demo wrote no frame figures"
				pb=${out#bytes_per_s=}; pb=${pb%% *}; pc=${out##*cpu_pct=}
				means="$means $(frames_field render_mean_us "$T/frames.txt")"
				maxs="$maxs $(frames_field render_max_us "$T/frames.txt")"
				frames=$((frames + $(frames_field frames "$T/frames.txt")))
			else
				out=$(env LANG=C.UTF-8 TERM=xterm-256color "$TOOLS/ptyrec" --cols 120 --rows 40 \
					--warmup "$warm" --measure "$secs" -- htop -d 10) || t_fail "ptyrec htop failed"
				sleep 1
				hb=${out#bytes_per_s=}; hb=${hb%% *}; hc=${out##*cpu_pct=}
			fi
		done
		ratios="$ratios $(fdiv "$pb" "$hb")"
		pbs="$pbs $pb" pcs="$pcs $pc" hbs="$hbs $hb" hcs="$hcs $hc"
		t_log "console round $r ($order): phasor $pb B/s, CPU $pc %; htop $hb B/s, CPU $hc %; cpu_pressure=$p$(heavy "$p")"
	done
	add "| Console, demo plant, 120x40, 1 s refresh, 3 x ${secs} s alternately (min/median/max) | phasor --demo: $(min_med_max $pbs) bytes/s, CPU $(min_med_max $pcs) % of a core; $frames frames, render mean $(min_med_max $means) us, max $(min_med_max $maxs) us | htop -d 10: $(min_med_max $hbs) bytes/s, CPU $(min_med_max $hcs) % | bytes **$(min_med_max $ratios)** (target <= 1; CPU <= 1 %; render < 2 ms) | $(psi_note $ps) |"
}

# ---- 4b. Frames at 200 and 1000 meters (issue 18 item 4) ----
# The console with its embedded recorder on 200 and on 1000 simulated
# PAC3200 (one `phasor sim` of 200 units per 200 meters, 1 s polls), in a
# 120x40 pseudo-terminal, three rounds of 30 s after a 10 s warm-up, a new
# buffer each round. Figures are the console's own (PHASOR_STATS_FILE): a
# frame from the first computation to doupdate's return, on the wall clock
# (what an operator waits) and in the UI thread's CPU time (what the
# drawing costs, without the time another process had the core). No peer:
# the targets are absolute (mean under 1 ms at 1000 meters, max under 2 ms
# at 200, none over 16 ms).
frames_field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" "$2"; }
# min/median/max of any number of values
min_med_max() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[1] "/" v[int((NR + 1) / 2)] "/" v[NR] }'
}
bench_frames() {
	local warm=10 secs=30 rounds=${BENCH_FRAMES_ROUNDS:-3} n r k u port ports pids means maxs cmeans cmaxs over p ps
	[ -n "$quick" ] && secs=10 rounds=1
	mkdir -p "$T/run"
	for n in 200 1000; do
		ports="" pids=""
		for k in $(seq 1 $((n / 200))); do
			t_sim --meters 200 --seed "$k"
			ports="$ports $SIM_PORT"
			pids="$pids $SIM_PID"
		done
		means="" maxs="" cmeans="" cmaxs="" over=0 ps=""
		for r in $(seq 1 "$rounds"); do
			rm -f "$T/frames-$n.db"*
			{
				printf '[site]\nname = frames\n[store]\npath = %s/frames-%s.db\n' "$T" "$n"
				printf '[log]\npath = %s/frames-%s.log\n' "$T" "$n"
				k=0
				for port in $ports; do
					for u in $(seq 1 200); do
						k=$((k + 1))
						printf '[meter m%04d]\ndriver = modbus\nprofile = pac3200\n' "$k"
						printf 'host = 127.0.0.1\nport = %d\nunit = %d\npoll_ms = 1000\n' \
							"$port" "$u"
					done
				done
			} >"$T/frames-$n.ini"
			p=$(psi)
			ps="$ps $p"
			rm -f "$T/frames.txt"
			env XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run" LANG=C.UTF-8 \
				TERM=xterm-256color PHASOR_STATS_FILE="$T/frames.txt" "$TOOLS/ptyrec" \
				--cols 120 --rows 40 --warmup "$warm" --measure "$secs" -- \
				"$PHASOR" -c "$T/frames-$n.ini" >/dev/null || t_fail "ptyrec phasor failed"
			sleep 1
			[ -s "$T/frames.txt" ] || t_fail "the console wrote no frame figures"
			means="$means $(frames_field render_mean_us "$T/frames.txt")"
			maxs="$maxs $(frames_field render_max_us "$T/frames.txt")"
			cmeans="$cmeans $(frames_field render_cpu_mean_us "$T/frames.txt")"
			cmaxs="$cmaxs $(frames_field render_cpu_max_us "$T/frames.txt")"
			over=$((over + $(frames_field render_over_2ms "$T/frames.txt")))
			t_log "frames $n meters round $r: $(cat "$T/frames.txt") cpu_pressure=$p$(heavy "$p")"
		done
		for k in $pids; do t_stop "$k"; done
		add "| Frames, $n meters, 120x40, ${rounds} x ${secs} s | render mean (us, min/median/max of rounds) $(min_med_max $means), max $(min_med_max $maxs); CPU mean $(min_med_max $cmeans), max $(min_med_max $cmaxs); frames over 2 ms: $over | no peer | (target: mean < 1000 us at 1000 meters, max < 2000 us at 200, none > 16 ms) | $(psi_note $ps) |"
	done
}

# ---- 5. Alarm flood: 10,000 alarm events in about a second ----
# 100 simulated meters and 100 low-voltage alarm definitions (limits 200.00
# .. 200.99 V L-N) on each: when the simulator's under-voltage fault starts
# (L-N about 195.5 V) every meter's next poll raises its 100 alarms, 10,000
# raises within about one poll period. Meanwhile the console, in tmux at
# 120x40, is sent a view key every 200 ms ('5' then '1' ...), and the time
# from the key to the pane showing that view is measured (tmux polled every
# few ms: the figure includes tmux's own delay). Afterwards the journal
# must hold all 10,000 raises and the store must have dropped none.
bench_alarms() {
	local meters=100 defs=100 fault_at=20 i u
	command -v tmux >/dev/null || t_fail "tmux is not installed (make deps)"
	t_sim --meters "$meters" --seed 3 --fault "undervoltage@$fault_at"
	{
		printf '[site]\nname = flood\n[store]\npath = %s/flood.db\n' "$T"
		printf '[log]\npath = %s/flood-console.log\n' "$T"
		for u in $(seq 1 "$meters"); do
			printf '[meter m%03d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
			printf 'port = %d\nunit = %d\npoll_ms = 1000\n' "$SIM_PORT" "$u"
		done
		for i in $(seq 0 $((defs - 1))); do
			printf '[alarm low-%02d]\nmeters = *\nquantity = voltage\ntype = low\n' "$i"
			printf 'limit = 200.%02d\npriority = low\n' "$i"
		done
	} >"$T/flood.ini"
	"$PHASOR" check-config -c "$T/flood.ini" >/dev/null || t_fail "flood config refused"
	t_tmux_start flood 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/flood.ini"
	t_tmux_wait flood 30 "m001 .*ok" || t_fail "flood: the meters never showed"
	# Keys from a few seconds before the fault to a few after.
	local lat="" key view ms start n=0 t_end
	sleep $((fault_at - 6))
	t_end=$(( $(date +%s) + 12 ))
	key=5
	while [ "$(date +%s)" -lt "$t_end" ]; do
		view="\\[5 Sources\\]"
		[ "$key" = 1 ] && view="\\[1 Overview\\]"
		start=$(date +%s%N)
		t_tmux_keys flood "$key"
		while ! t_tmux_capture flood | head -1 | grep -q "$view"; do :; done
		ms=$(( ($(date +%s%N) - start) / 1000000 ))
		lat="$lat $ms"
		n=$((n + 1))
		[ "$key" = 5 ] && key=1 || key=5
		sleep 0.2
	done
	local raised dropped first last p50 max
	for i in $(seq 1 100); do
		raised=$(sqlite3 "$T/flood.db" "SELECT count(*) FROM alarm_events WHERE event = 'raise'" 2>/dev/null || echo 0)
		[ "$raised" -ge $((meters * defs)) ] && break
		sleep 0.2
	done
	first=$(sqlite3 "$T/flood.db" "SELECT min(t_us) FROM alarm_events WHERE event = 'raise'")
	last=$(sqlite3 "$T/flood.db" "SELECT max(t_us) FROM alarm_events WHERE event = 'raise'")
	t_tmux_quit flood
	t_tmux_wait_exit flood 30 >/dev/null || t_fail "flood: the console did not quit"
	dropped=$(grep -c "alarm journal queue full\|alarm journal rows not written" "$T/flood-console.log")
	p50=$(echo $lat | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	max=$(echo $lat | tr ' ' '\n' | sort -n | tail -1)
	add "| Alarm flood: $((meters * defs)) raises in $(fdiv $((last - first)) 1000000) s, console at 120x40 | key to screen over $n keys: median $p50 ms, max $max ms; journal $raised raises, drops logged: $dropped | (target: key <= 100 ms, 0 dropped) | | latencies (ms):$lat |"
	t_stop "$SIM_PID" TERM
}

# ---- 6. Sync to PostgreSQL: phasor sync --once vs psql \copy ----
# A 15-minute backlog of 200 PAC3200 meters polled every second, 6.5 M rows
# (BENCH_QUICK: 5 minutes), written through the store (bench/gen_buffer.c), then drained
# into a private PostgreSQL (fsync off for both sides) by `phasor sync
# --once` and, the peer, by psql \copy of the same rows (a CSV made
# beforehand, not timed) into a table of the same kind (same columns,
# partitions, primary key and index) in the same server. Alternately, 3
# rounds, the order swapped every other round: phasor from a fresh copy
# of the buffer into a dropped and recreated phasor schema, psql into its
# truncated table, a CHECKPOINT before each; the ratio within each round.
bench_sync() {
	local secs=900 n db="$T/sync.db" console r order side p ps="" t0 t1 d
	local ph_s cp_s phs="" cps="" ratios="" rates="" cprates=""
	[ -n "$quick" ] && secs=300
	t_postgres
	local port
	port=$(t_port) # nothing listens: record only registers the meters
	meters_ini() {
		local m
		for m in $(seq 1 200); do
			printf '[meter m%03d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = %s\nunit = %d\n' "$m" "$port" "$m"
		done
	}
	# the buffer as written (gen_buffer, no [sync]); each round syncs a copy
	{ printf '[store]\npath = %s\n' "$db"; meters_ini; } >"$T/sync-rec.ini"
	{ printf '[store]\npath = %s\n[sync]\npostgres = %s\n' "$T/sync-r.db" "$PG_CONNINFO"; meters_ini; } >"$T/sync.ini"
	# the backlog: the store's own writer, polls of the PAC3200 map every
	# second ending now (an INSERT through the samples virtual table makes a
	# poll row of each sample, far too slow for this)
	"$BENCH/gen_buffer" "$T/sync-rec.ini" "$(awk -v s="$secs" 'BEGIN { print s / 3600 }')" 1 \
		>"$T/sync-gen.out" 2>"$T/sync-gen.log" || t_fail "gen_buffer: $(tail -3 "$T/sync-gen.log")"
	sqlite3 "$db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
	n=$(sqlite3 "$db" "SELECT count(*) FROM samples")
	console=$(sqlite3 "$db" "SELECT value FROM identity WHERE key = 'console_id'")
	# The peer's input: the same rows as CSV (not timed).
	sqlite3 -csv "$db" "SELECT printf('%s.%06d+00', datetime(s.t_us / 1000000, 'unixepoch'), s.t_us % 1000000),
		'$console', m.name, q.name, printf('%!.17g', s.value), 'good', s.seq, s.session_id
		FROM samples s JOIN meters m ON m.id = s.meter_id JOIN quantities q ON q.id = s.qty_id
		ORDER BY s.seq" >"$T/rows.csv"
	t_psql "CREATE SCHEMA bench;
		CREATE TABLE bench.samples (time timestamptz NOT NULL, console text NOT NULL, meter text NOT NULL,
			quantity text NOT NULL, value double precision, quality text NOT NULL CHECK (quality IN ('good', 'bad')), seq bigint NOT NULL,
			session bigint, PRIMARY KEY (console, seq, time)) PARTITION BY RANGE (time);
		CREATE INDEX ON bench.samples (meter, quantity, time);" >/dev/null
	for d in -1 0 1; do
		t_psql "CREATE TABLE bench.p$((d + 1)) PARTITION OF bench.samples FOR VALUES
			FROM (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '$d day')
			TO (date_trunc('day', now() AT TIME ZONE 'UTC') + interval '$((d + 1)) day')" >/dev/null
	done
	sync_side() { # phasor|copy: wall seconds
		local a b
		if [ "$1" = phasor ]; then
			t_psql "DROP SCHEMA IF EXISTS phasor CASCADE" >/dev/null 2>&1
			rm -f "$T"/sync-r.db*
			cp "$db" "$T/sync-r.db"
			t_psql "CHECKPOINT" >/dev/null
			a=$(now_s)
			"$PHASOR" sync -c "$T/sync.ini" --once >"$T/sync-bench.log" 2>&1 ||
				t_fail "sync --once failed: $(tail -3 "$T/sync-bench.log")"
			b=$(now_s)
			[ "$(t_psql "SELECT count(*) FROM phasor.samples")" = "$n" ] || t_fail "not every row arrived"
		else
			t_psql "TRUNCATE bench.samples" >/dev/null
			t_psql "CHECKPOINT" >/dev/null
			a=$(now_s)
			PGCONNECT_TIMEOUT=5 psql "host=$PG_HOST port=$PG_PORT dbname=phasor user=phasor" -X -q -v ON_ERROR_STOP=1 \
				-c "\\copy bench.samples(time, console, meter, quantity, value, quality, seq, session) FROM '$T/rows.csv' WITH (FORMAT csv)" ||
				t_fail "psql \\copy failed"
			b=$(now_s)
			[ "$(t_psql "SELECT count(*) FROM bench.samples")" = "$n" ] || t_fail "psql copied a different count"
		fi
		awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }'
	}
	for r in 1 2 3; do
		round_start "$r" phasor copy
		for side in $order; do
			if [ "$side" = phasor ]; then ph_s=$(sync_side phasor); else cp_s=$(sync_side copy); fi
		done
		phs="$phs $ph_s" cps="$cps $cp_s"
		rates="$rates $(awk -v n="$n" -v s="$ph_s" 'BEGIN { printf "%.0f", n / s }')"
		cprates="$cprates $(awk -v n="$n" -v s="$cp_s" 'BEGIN { printf "%.0f", n / s }')"
		ratios="$ratios $(fdiv "$cp_s" "$ph_s")"
		t_log "sync round $r ($order): phasor sync --once $ph_s s, psql \\copy $cp_s s ($n rows); cpu_pressure=$p$(heavy "$p")"
	done
	add "| Sync, $((secs / 60)) min backlog of 200 meters x 36 quantities at 1 Hz ($n rows), 3 rounds alternately (min/median/max) | phasor sync --once: $(min_med_max $rates) rows/s (drained in $(min_med_max $phs) s) | psql \\copy of the same rows into a table of the same kind: $(min_med_max $cprates) rows/s ($(min_med_max $cps) s) | **$(min_med_max $ratios)** (target >= 0.5) | $(psi_note $ps) |"
}

# ---- forecast: accuracy against the seasonal naive baselines, time per fit ----
# bench_forecast (C): the simulator's plant (SIMULATED, not real demand),
# day-ahead out of sample; one forecast_run on 8 weeks; 200 meters in a row.
bench_forecast() {
	local rows
	rows=$("$BENCH/bench_forecast" ${quick:+--quick} 2>"$T/forecast.err") ||
		t_fail "bench_forecast: $(cat "$T/forecast.err")"
	sed 's/^/    /' "$T/forecast.err" >&2
	while IFS= read -r line; do add "$line"; done <<<"$rows"
}

# ---- layout (issue 17): the store against the bare tuple on the same samples ----
# bench_layout (C): the store (a: the blocks, through the store API) and the
# bare tuple (t_us, meter, qty, value; no seq, no index), the demo plant and
# 200 simulated meters for an hour (BENCH_QUICK: 10 min), three rounds in
# alternating order; its own table (docs/performance.md "Buffer layout").
# The candidates issue 17 weighed (b, c, d, e) with BENCH_LAYOUT_ONLY=all
# (or a list: a,e,bare).
bench_layout() {
	local rows sel=${BENCH_LAYOUT_ONLY:-a,bare}
	[ "$sel" = all ] && sel=""
	rows=$(BENCH_LAYOUT_ONLY="$sel" PHASOR="$PHASOR" "$BENCH/bench_layout" ${quick:+--quick} 2>"$T/layout.err") ||
		t_fail "bench_layout: $(tail -3 "$T/layout.err")"
	grep -v "schema migrated" "$T/layout.err" | sed 's/^/    /' >&2
	add ""
	add "| layout | bytes on disk | insert | export, history | exactness, 30 days of this plant |"
	add "|---|---|---|---|---|"
	while IFS= read -r line; do add "$line"; done <<<"$rows"
}

# ---- replay (issue 12 item 7): seek, 3600x, what-if on a generated buffer ----
# gen_buffer writes DAYS (30; BENCH_QUICK: 7) of 50 PAC3200 meters every
# 10 s through the store API; bench_replay (C) seeks, plays and runs the
# what-if (method in its header and docs/performance.md).
bench_replay() {
	local days=30 u rows
	[ -n "$quick" ] && days=7
	{
		printf '[site]\nname = bench\n[store]\npath = %s\n' "$T/replay.db"
		for u in $(seq 1 50); do
			printf '[meter m%02d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
			printf 'port = 1502\nunit = %d\npoll_ms = 10000\n' "$u"
		done
	} >"$T/replay.ini"
	"$BENCH/gen_buffer" "$T/replay.ini" $((days * 24)) 10 >"$T/replay.gen" 2>"$T/replay.gen.err" ||
		t_fail "gen_buffer: $(tail -3 "$T/replay.gen.err")"
	echo "replay: buffer of $days days x 50 meters x 36 quantities every 10 s: $(cat "$T/replay.gen") (rows bytes seconds)" >&2
	rows=$("$BENCH/bench_replay" "$T/replay.db" 50 2>"$T/replay.err") ||
		t_fail "bench_replay: $(tail -3 "$T/replay.err")"
	sed 's/^/    /' "$T/replay.err" >&2
	while IFS= read -r line; do add "$line"; done <<<"$rows"
}

# ---- forecast load (issue 11 item 2): fitting while acquiring ----
# 50 PAC3200 meters at 1 Hz polled by `phasor record` on a buffer that holds
# DAYS (56; BENCH_QUICK: 14) of their history (gen_buffer, every 10 s). At
# start the recorder's forecast worker reads every meter's series and fits
# it: with [forecast] history = DAYS it reads all of them, with history = 1d
# (the peer: the same recorder, buffer and plant) next to nothing.
# Alternately, 3 rounds; per run, from 3 s after the start: the longest gap
# between two polls of any meter and the samples stored per second; the
# ratios within each round.
bench_fcload() {
	local days=56 secs=40 r side gap rate fit ratios="" rratios="" line p ps=""
	[ -n "$quick" ] && days=14 && secs=25
	t_sim --meters 50 --seed 8
	fc_ini() { # FILE HISTORY LOG
		local u
		{
			printf '[site]\nname = bench\n[store]\npath = %s\n' "$T/fc.db"
			printf '[log]\npath = %s\nlevel = info\n[forecast]\nhistory = %s\n' "$3" "$2"
			for u in $(seq 1 50); do
				printf '[meter m%02d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
				printf 'port = %d\nunit = %d\npoll_ms = 1000\ntimeout_ms = 1000\n' "$SIM_PORT" "$u"
			done
		} >"$1"
	}
	fc_ini "$T/fc-gen.ini" "${days}d" "$T/fc-gen.log"
	"$BENCH/gen_buffer" "$T/fc-gen.ini" $((days * 24)) 10 >"$T/fc.gen" 2>"$T/fc.gen.err" ||
		t_fail "gen_buffer: $(tail -3 "$T/fc.gen.err")"
	echo "fcload: buffer of $days days x 50 meters every 10 s: $(cat "$T/fc.gen") (rows bytes seconds)" >&2
	fc_run() { # SIDE ROUND -> "gap_ms samples_per_s fit"
		local hist=1d from_us log="$T/fc-$1-$2.log" rec g n f
		[ "$1" = full ] && hist="${days}d"
		fc_ini "$T/fc.ini" "$hist" "$log"
		from_us=$(( $(date +%s%N) / 1000 + 3000000 ))
		t_bg fcrec "$PHASOR" record -c "$T/fc.ini" --stats 0
		rec=$T_LAST_PID
		sleep "$secs"
		t_stop "$rec" TERM
		g=$(sqlite3 "$T/fc.db" "WITH p AS (SELECT DISTINCT meter_id, t_us FROM samples WHERE t_us >= $from_us AND t_us < $from_us + $(( (secs - 4) * 1000000 ))),
			g AS (SELECT t_us - LAG(t_us) OVER (PARTITION BY meter_id ORDER BY t_us) AS gap FROM p)
			SELECT printf('%.0f', max(gap) / 1000.0) FROM g")
		n=$(sqlite3 "$T/fc.db" "SELECT count(*) FROM samples WHERE t_us >= $from_us AND t_us < $from_us + $(( (secs - 4) * 1000000 ))")
		f=$(grep -o "forecast: the series of [0-9]* meters ([0-9]* days) read in [0-9]* ms\|forecast: [0-9]* series forecast in [0-9]* ms" "$log" | head -2 | sed 's/^forecast: //' | tr '\n' ';')
		echo "$g $(( n / (secs - 4) )) ${f:-no forecast}"
	}
	for r in 1 2 3; do
		local full none
		p=$(psi)
		ps="$ps $p"
		if [ $((r % 2)) -eq 1 ]; then
			full=$(fc_run full "$r"); none=$(fc_run none "$r")
		else
			none=$(fc_run none "$r"); full=$(fc_run full "$r")
		fi
		echo "fcload round $r: history ${days}d: $full; history 1d: $none; cpu_pressure=$p$(heavy "$p")" >&2
		ratios="$ratios $(fdiv "${full%% *}" "${none%% *}")"
		rratios="$rratios $(fdiv "$(echo "$full" | cut -d' ' -f2)" "$(echo "$none" | cut -d' ' -f2)")"
		line="$full / $none"
	done
	add "| Forecast while acquiring: 50 meters at 1 Hz, \`phasor record\` fitting ${days} days of each at start | longest gap between polls and samples/s: $line (last round) | the same recorder with [forecast] history = 1d | **gap $(printf '%s\n' $ratios | sort -g | sed -n 2p), samples/s $(printf '%s\n' $rratios | sort -g | sed -n 2p)** (medians of 3; rounds: gap$ratios, samples$rratios) | target: acquisition not slowed (ratios ~1); $(psi_note $ps) |"
	t_stop "$SIM_PID" TERM
}

# ---- rollups (issue 12 item 7): the history read, and their cost ----
# gen_buffer writes DAYS (30; BENCH_QUICK: 7) of 2 PAC3200 meters polled
# every second (the rate the rollups are made for: a block of fewer than 50
# polls has none) through the store API; bench_history reads one quantity
# of one meter over the whole range from the rollups and from the raw
# samples, alternately, 3 rounds, comparing the answers minute by minute.
# The cost: gen_buffer's time to write and close 1 day (BENCH_QUICK: 6 h)
# of 20 meters at 1 Hz with the rollups and without
# (PHASOR_STORE_ROLLUPS=0), alternately, 3 rounds, the order rotated, the
# ratio within each round; and the bytes.
bench_rollup() {
	local days=30 hours=24 u rows r a b ra rb ratios="" bratios="" p ps=""
	[ -n "$quick" ] && days=7 && hours=6
	printf '[site]\nname = bench\n[store]\npath = %s\n' "$T/hist.db" >"$T/hist.ini"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = 1502\nunit = %d\n' "$u" "$u" >>"$T/hist.ini"
	done
	"$BENCH/gen_buffer" "$T/hist.ini" $((days * 24)) 1 >"$T/hist.gen" 2>"$T/hist.gen.err" ||
		t_fail "gen_buffer: $(tail -3 "$T/hist.gen.err")"
	echo "rollup: buffer of $days days x 2 meters x 36 quantities every second: $(cat "$T/hist.gen") (rows bytes seconds);" \
		"rollups $(sqlite3 "$T/hist.db" 'SELECT count(*), sum(length(data)) FROM rollups') blocks $(sqlite3 "$T/hist.db" 'SELECT count(*), sum(length(data)) FROM blocks') (rows bytes)" >&2
	for q in p_total e_imp; do
		rows=$("$BENCH/bench_history" "$T/hist.db" m1 "$q" "$days" 2>"$T/hist.err") ||
			t_fail "bench_history: $(tail -3 "$T/hist.err")"
		sed 's/^/    /' "$T/hist.err" >&2
		add "$rows"
	done
	rm -f "$T"/hist.db*
	printf '[site]\nname = bench\n[store]\npath = %s\n' "$T/cost.db" >"$T/cost.ini"
	for u in $(seq 1 20); do
		printf '[meter m%02d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = 1502\nunit = %d\n' "$u" "$u" >>"$T/cost.ini"
	done
	cost_run() { # with|without: "seconds bytes-in-use"
		rm -f "$T"/cost.db*
		if [ "$1" = without ]; then
			PHASOR_STORE_ROLLUPS=0 "$BENCH/gen_buffer" "$T/cost.ini" "$hours" 1 >"$T/cost.gen" 2>/dev/null
		else
			"$BENCH/gen_buffer" "$T/cost.ini" "$hours" 1 >"$T/cost.gen" 2>/dev/null
		fi || t_fail "gen_buffer $1 rollups"
		echo "$(cut -d' ' -f3 "$T/cost.gen") $(sqlite3 "$T/cost.db" 'SELECT (SELECT page_count FROM pragma_page_count) - (SELECT freelist_count FROM pragma_freelist_count)') $(cut -d' ' -f1 "$T/cost.gen")"
	}
	for r in 1 2 3; do
		p=$(psi)
		ps="$ps $p"
		if [ $((r % 2)) -eq 1 ]; then
			a=$(cost_run with); b=$(cost_run without)
		else
			b=$(cost_run without); a=$(cost_run with)
		fi
		echo "rollup cost round $r: with $a, without $b (seconds pages-in-use samples); cpu_pressure=$p$(heavy "$p")" >&2
		ratios="$ratios $(fdiv "$(echo "$b" | cut -d' ' -f1)" "$(echo "$a" | cut -d' ' -f1)")"
		bratios="$bratios $(fdiv "$(echo "$a" | cut -d' ' -f2)" "$(echo "$b" | cut -d' ' -f2)")"
		ra=$a; rb=$b
	done
	add "| Insert rate with the rollups: 20 meters at 1 Hz, ${hours} h written and closed into blocks by the store (gen_buffer) | $(echo "$ra" | awk -v h="$hours" '{ printf "%.0f samples/s", $3 / $1 }') (last round) | the same store without rollups (PHASOR_STORE_ROLLUPS=0): $(echo "$rb" | awk '{ printf "%.0f samples/s", $3 / $1 }') | **$(printf '%s\n' $ratios | sort -g | sed -n 2p)** of the rate without (median of 3 alternated; rounds$ratios); bytes in use **$(printf '%s\n' $bratios | sort -g | sed -n 2p)** x | $(psi_note $ps) |"
	rm -f "$T"/cost.db*
}

# ---- report (issue 13): a 30-day report of 50 meters ----
# gen_buffer writes DAYS + 1 (30; BENCH_QUICK: 7) of 50 PAC3200 meters every
# 10 s through the store API (as bench_replay); bench_windows times the
# report's read (hours of windows against minutes); `phasor report` of the DAYS
# whole days before today to a PDF (and the CSV beside it), then to PNG pages, each timed
# with /usr/bin/time -v: wall time and peak memory (maximum resident set).
bench_report() {
	local days=30 u from to pdf png pages
	[ -n "$quick" ] && days=7
	{
		printf '[site]\nname = bench\ntimezone = UTC\nprice_per_kwh = 0.15\ncurrency = EUR\n'
		printf 'co2_per_kwh = 0.06\ncontract_power = 400kW\nshifts = 06:00, 14:00, 22:00\n'
		printf '[store]\npath = %s\n' "$T/report.db"
		for u in $(seq 1 50); do
			printf '[meter m%02d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
			printf 'port = 1502\nunit = %d\npoll_ms = 10000\n' "$u"
		done
	} >"$T/report.ini"
	"$BENCH/gen_buffer" "$T/report.ini" $(((days + 1) * 24)) 10 >"$T/report.gen" 2>"$T/report.gen.err" ||
		t_fail "gen_buffer: $(tail -3 "$T/report.gen.err")"
	echo "report: buffer of $((days + 1)) days x 50 meters x 36 quantities every 10 s: $(cat "$T/report.gen") (rows bytes seconds)" >&2
	# the report's read alone: hours of windows against the minutes (bench/bench_windows.c)
	"$BENCH/bench_windows" "$T/report.db" "$days" >"$T/windows.row" 2>"$T/windows.err" ||
		t_fail "bench_windows: $(tail -3 "$T/windows.err")"
	cat "$T/windows.err" >&2
	add "$(cat "$T/windows.row")"
	# the whole days of the buffer (it ends now)
	to=$(date -u +%Y-%m-%dT00:00:00Z)
	from=$(date -u -d "$to - $days days" +%Y-%m-%dT00:00:00Z)
	/usr/bin/time -v "$PHASOR" report --db "$T/report.db" --from "$from" --to "$to" \
		-o "$T/report.pdf" --csv "$T/report.csv" >"$T/report.out" 2>"$T/report.time" ||
		t_fail "phasor report: $(tail -5 "$T/report.time")"
	pdf="$(awk -F': ' '/Elapsed \(wall clock\)/ { w = $2 } /Maximum resident/ { m = $2 } END { printf "%s / %.1f MiB", w, m / 1024 }' "$T/report.time")"
	pages=$(grep -o '[0-9]* pages' "$T/report.time")
	/usr/bin/time -v "$PHASOR" report --db "$T/report.db" --from "$from" --to "$to" \
		-o "$T/report.png" >"$T/report.out" 2>"$T/report.time" ||
		t_fail "phasor report PNG: $(tail -5 "$T/report.time")"
	png="$(awk -F': ' '/Elapsed \(wall clock\)/ { w = $2 } /Maximum resident/ { m = $2 } END { printf "%s / %.1f MiB", w, m / 1024 }' "$T/report.time")"
	add "| Report of $days whole days of 50 meters (\`phasor report\`, $pages) | PDF + CSV: $pdf; PNG pages: $png (wall m:ss / peak RSS) | | | target: under 2 s |"
}

# ---- export (issue 18 item 7): phasor export against sqlite3 -csv of the same CSV ----
# gen_buffer writes 20 PAC3200 meters every second for HOURS (4; BENCH_QUICK:
# 1) through the store API; then, alternately (order swapped every round,
# three rounds), `phasor export --db` and sqlite3 producing the same CSV
# (the samples module loaded: `.load phasor_samples.so`, names joined, time
# formatted by strftime; values in sqlite3's own 15 digits, phasor's the
# shortest of 15-17 that reads back), both to a file; the lines of the two
# must be as many. Rate in rows/s on each side's wall time, the ratio
# within each round, the median round reported, CPU pressure beside it.
bench_export() {
	local hours=4 u r a b ra rb ratios="" rows so p ps=""
	[ -n "$quick" ] && hours=1
	so="$(dirname "$PHASOR")/phasor_samples.so"
	[ -f "$so" ] || t_fail "export: no $so"
	printf '[site]\nname = bench\n[store]\npath = %s\n' "$T/exp.db" >"$T/exp.ini"
	for u in $(seq 1 20); do
		printf '[meter m%02d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = 1502\nunit = %d\n' "$u" "$u" >>"$T/exp.ini"
	done
	"$BENCH/gen_buffer" "$T/exp.ini" "$hours" 1 >"$T/exp.gen" 2>"$T/exp.gen.err" ||
		t_fail "gen_buffer: $(tail -3 "$T/exp.gen.err")"
	rows=$(cut -d' ' -f1 "$T/exp.gen")
	cat >"$T/equiv.sql" <<EOS
.load $so
.headers on
.mode csv
SELECT strftime('%Y-%m-%dT%H:%M:%fZ', s.t_us / 1000000.0, 'unixepoch') AS time, m.name AS meter,
       q.name AS quantity, s.value AS value, q.unit AS unit,
       CASE s.quality WHEN 0 THEN 'good' ELSE 'bad' END AS quality
FROM samples s JOIN meters m ON m.id = s.meter_id JOIN quantities q ON q.id = s.qty_id
ORDER BY s.t_us, s.seq;
EOS
	exp_side() { # phasor|sqlite3: wall seconds
		local t0 t1
		t0=$(now_s)
		if [ "$1" = phasor ]; then
			"$PHASOR" export --db "$T/exp.db" >"$T/exp.out" || t_fail "phasor export"
		else
			sqlite3 "$T/exp.db" <"$T/equiv.sql" >"$T/exp.out" || t_fail "sqlite3 export"
		fi
		t1=$(now_s)
		[ "$(wc -l <"$T/exp.out")" -eq $((rows + 1)) ] || t_fail "export $1: $(wc -l <"$T/exp.out") lines for $rows rows"
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
	}
	for r in 1 2 3; do
		p=$(psi)
		ps="$ps $p"
		if [ $((r % 2)) -eq 1 ]; then
			a=$(exp_side phasor); b=$(exp_side sqlite3)
		else
			b=$(exp_side sqlite3); a=$(exp_side phasor)
		fi
		echo "export round $r: phasor $a s, sqlite3 $b s ($rows rows); cpu_pressure=$p$(heavy "$p")" >&2
		ratios="$ratios $(fdiv "$b" "$a"):$a:$b"
	done
	read -r ratio a b < <(echo "$ratios" | tr ' ' '\n' | grep . | sort -t: -k1 -n | sed -n 2p | tr ':' ' ')
	add "| Export: $rows samples (20 meters x 36 quantities every second, $hours h), CSV to a file | \`phasor export\` $(fdiv "$rows" "$a" | cut -d. -f1) rows/s ($a s) | sqlite3 of the same CSV through the samples module: $(fdiv "$rows" "$b" | cut -d. -f1) rows/s ($b s) | **$ratio** (median of 3 alternated:$(echo "$ratios" | sed 's/:[^ ]*//g')) | target >= 1.0; $(psi_note $ps) |"
	rm -f "$T"/exp.db* "$T/exp.out"
}

# ---- memory at steady state (issue 18 item 5) ----
# phasor record with 200 and then 1000 simulated PAC3200 meters (five
# simulators of 200 units, polled every second) and one hour of history in
# place: PHASOR_BENCH_HISTORY=1 (hub.c's benchmark hook) fills every
# meter's history rings with an hour of points at start, as an hour of
# running does. After SETTLE s (30; BENCH_QUICK: 10) of polling, VmRSS and
# VmHWM from /proc/PID/status. With PHASOR_BASE (a build of the commit
# before, with the hook), it and PHASOR alternately, 3 rounds, the order
# swapped every other round, the ratio within each round; without, PHASOR
# alone. /proc/pressure/cpu is logged beside each round.
bench_memory() {
	local settle=30 k n r a b ratios pm ports="" sims="" p ps=""
	[ -n "$quick" ] && settle=10
	for k in 1 2 3 4 5; do
		t_sim --meters 200 --seed "$k"
		ports="$ports $SIM_PORT"
		sims="$sims $SIM_PID"
	done
	mem_run() { # BIN N: "rss_kib hwm_kib"
		local u port
		{
			printf '[store]\npath = %s\n' "$T/mem.db"
			for u in $(seq 1 "$2"); do
				port=$(echo $ports | cut -d' ' -f$(((u - 1) / 200 + 1)))
				printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
				printf 'port = %d\nunit = %d\npoll_ms = 1000\ntimeout_ms = 1000\n' "$port" $(((u - 1) % 200 + 1))
			done
		} >"$T/mem.ini"
		rm -f "$T"/mem.db*
		t_bg memrec env PHASOR_BENCH_HISTORY=1 "$1" record -c "$T/mem.ini" --stats 0
		local rec=$T_LAST_PID
		sleep "$settle"
		echo "$(awk '/VmRSS/ { print $2 }' "/proc/$rec/status") $(awk '/VmHWM/ { print $2 }' "/proc/$rec/status")"
		t_stop "$rec" TERM
	}
	# min/median/max of 3; MiB of KiB
	mmm() { printf '%s\n' "$@" | sort -g | tr '\n' ' ' | awk '{ print $1 "/" $2 "/" $3 }'; }
	mib() { awk -v k="$1" 'BEGIN { printf "%.1f\n", k / 1024 }'; }
	local ra rb ha hb a200=0 b200=0 am bm base
	for n in 200 1000; do
		ratios="" ra="" rb="" ha="" hb=""
		for r in 1 2 3; do
			p=$(psi)
			ps="$ps $p"
			if [ -z "${PHASOR_BASE:-}" ]; then
				a=$(mem_run "$PHASOR" "$n") b="0 0"
			elif [ $((r % 2)) -eq 1 ]; then
				b=$(mem_run "$PHASOR_BASE" "$n"); a=$(mem_run "$PHASOR" "$n")
			else
				a=$(mem_run "$PHASOR" "$n"); b=$(mem_run "$PHASOR_BASE" "$n")
			fi
			echo "memory $n meters round $r: phasor $a, base $b (VmRSS VmHWM KiB); cpu_pressure=$p$(heavy "$p")" >&2
			ratios="$ratios $(fdiv "${a% *}" "${b% *}")"
			ra="$ra ${a% *}" rb="$rb ${b% *}" ha="$ha ${a#* }" hb="$hb ${b#* }"
		done
		am=$(printf '%s\n' $ra | sort -g | sed -n 2p)
		bm=$(printf '%s\n' $rb | sort -g | sed -n 2p)
		base="not run (no PHASOR_BASE)"
		[ -n "${PHASOR_BASE:-}" ] && base="RSS MiB min/median/max $(mmm $(for k in $rb; do mib "$k"; done)), $(fdiv "$bm" "$n") KiB a meter (median), peak $(mib "$(printf '%s\n' $hb | sort -g | tail -1)") MiB"
		add "| Memory at steady state: \`phasor record\`, $n PAC3200 meters at 1 Hz, an hour of history in place, after ${settle} s | RSS MiB min/median/max $(mmm $(for k in $ra; do mib "$k"; done)), $(fdiv "$am" "$n") KiB a meter (median), peak $(mib "$(printf '%s\n' $ha | sort -g | tail -1)") MiB | base: $base | $([ -n "${PHASOR_BASE:-}" ] && echo "RSS ratio min/median/max **$(mmm $ratios)** (rounds$ratios)" || echo "no ratio without a base") | $(psi_note $ps) |"
		if [ "$n" = 200 ]; then
			a200=$am b200=$bm
		else
			add "| Memory: each meter beyond 200 (median RSS at 1000 less at 200, / 800) | $(fdiv "$((am - a200))" 800) KiB | base: $([ -n "${PHASOR_BASE:-}" ] && echo "$(fdiv "$((bm - b200))" 800) KiB" || echo "not run") | | |"
		fi
	done
	for k in $sims; do t_stop "$k" TERM; done
}

add "| benchmark | phasor | peer | ratio | notes |"
add "|---|---|---|---|---|"
case "$only" in "" | mqtt) bench_mqtt ;; esac
case "$only" in "" | store) bench_store ;; esac
case "$only" in "" | modbus) bench_modbus ;; esac
case "$only" in "" | console) bench_console ;; esac
case "$only" in "" | frames) bench_frames ;; esac
case "$only" in "" | alarms) bench_alarms ;; esac
case "$only" in "" | sync) bench_sync ;; esac
case "$only" in "" | gateway) add "$(bash "$here/bench_gateway.sh")" ;; esac
case "$only" in "" | forecast) bench_forecast ;; esac
case "$only" in "" | attached) add "$(bash "$here/bench_consoles.sh" cost)" ;; esac
case "$only" in "" | latency) add "$(bash "$here/bench_consoles.sh" latency)" ;; esac
case "$only" in "" | startup) add "$(bash "$here/bench_consoles.sh" startup)" ;; esac
case "$only" in "" | replay) bench_replay ;; esac
case "$only" in "" | fcload) bench_fcload ;; esac
case "$only" in "" | layout) bench_layout ;; esac
case "$only" in "" | rollup) bench_rollup ;; esac
case "$only" in "" | report) bench_report ;; esac
case "$only" in "" | export) bench_export ;; esac
case "$only" in "" | memory) bench_memory ;; esac
{
	echo "# phasor bench $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) cores"
	echo
	printf '%s' "$results"
} >"$out"
echo "written to $out"
