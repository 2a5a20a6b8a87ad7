#!/bin/bash
# SPDX-License-Identifier: MIT
# The recorder and its attached consoles (issue 9, item 6), measured the
# way issue 18 asks: the two sides alternately (never side by side unless
# sharing is what is measured), ROUNDS rounds (default 3) with the order
# swapped every other round, the ratio taken within each round, the median
# round reported. Per-round lines go to stderr, one table row per part to
# stdout (for bench/run.sh). /proc/pressure/cpu (avg10 of "some") is
# logged beside each round; a round above 40 % is marked "(loaded)".
#
#   bench_consoles.sh cost | latency | startup
#
# Every process of a part shares the machine's cores with the others
# (simulator, recorder, consoles, tmux).
# cost:    50 simulated PAC3200 meters, 1 s polls. An embedded console
#          (it polls and writes itself) against an attached one (with
#          `phasor record` doing that), each in a 120x40 pty (ptyrec):
#          console CPU and peak RSS (VmHWM); then the recorder's CPU with
#          0, 1 and 3 attached consoles.
# latency: the same plant plus one MQTT meter (Shelly Pro 3EM, first in the
#          overview); a new, recognisable total power is published every
#          ~2.3 s; the time from its arrival in the acquiring process (the
#          sample's t_us in the buffer) to the pane showing it (tmux polled
#          every 10 ms), embedded against attached.
# startup: a 24 h buffer of the 50 meters (bench/gen_buffer.c; 5 s polls,
#          BENCH_QUICK: 10 s), the site's time zone chosen so that "today"
#          covers the last 23.5 h; a console started in tmux until the
#          first frame that shows the history (the first meter's 15 min
#          sparkline drawn: 12 cells or more, the gap between the buffer's
#          end and the start counting), today's energy from midnight ("since 00:00":
#          the buffer's day is in) and, attached, no "(loading)".
# Alone: PHASOR=build/phasor TOOLS=build/tools BENCH=build/bench bash bench/bench_consoles.sh cost
set -u
: "${PHASOR:?}" "${TOOLS:?}" "${BENCH:?}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/integration/lib.sh"
T_NAME=bench-consoles
rounds=${ROUNDS:-3}
quick=${BENCH_QUICK:-}
hz=$(getconf CLK_TCK)
METERS=50

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# the share of 2 s (nothing of the benchmark's running) in which a task
# waited for a core, as bench/run.sh's psi()
pressure() {
	local a b
	a=$(awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu 2>/dev/null || echo 0)
	sleep 2
	b=$(awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu 2>/dev/null || echo 0)
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 2e4 }'
}
loaded() { awk -v p="$1" 'BEGIN { if (p + 0 > 10) printf " HEAVY PRESSURE" }'; } # as bench/run.sh's heavy()
# median of the numbers given
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
fdiv() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b == 0 ? 0 : a / b) }'; }
# field NAME LINE: the value of NAME=... in a ptyrec line
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

env_console() { env XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run" LANG=C.UTF-8 TERM=xterm-256color "$@"; }
mkdir -p "$T/run" "$T/state"

# plant_ini FILE DB [MQTT]: 50 Modbus meters on the simulator (and the
# MQTT meter a0 first when asked)
plant_ini() {
	{
		printf '[site]\nname = bench\n'
		[ -n "${TZ_SITE:-}" ] && printf 'timezone = %s\n' "$TZ_SITE"
		printf '[store]\npath = %s\n' "$2"
		printf '[log]\npath = %s.log\nlevel = info\n' "$1"
		if [ -n "${3:-}" ]; then
			printf '[mqtt]\nuri = %s\nclient_id = bench-%s\n' "$MQTT_URI" "$(basename "$1" .ini)"
			printf '[meter a0]\ndriver = mqtt\nprofile = shelly-pro3em\ntopic = bench/status/em:0\npoll_ms = 5000\n'
		fi
		for u in $(seq 1 "$METERS"); do
			printf '[meter m%02d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
			printf 'port = %d\nunit = %d\npoll_ms = 1000\n' "$SIM_PORT" "$u"
		done
	} >"$1"
}


# console_end SESSION RECORDER_PID SIDE LOG: quit the console in tmux, stop
# the recorder; an attached side must have attached
console_end() {
	t_tmux_keys "$1" q
	t_tmux_wait_exit "$1" 30 >/dev/null
	tmux -S "$TMUX_SOCK" kill-session -t "=$1" 2>/dev/null
	[ -n "$2" ] && t_stop "$2" TERM
	if [ "$3" = attached ]; then
		grep -q "attached to" "$4" || t_fail "$1: the console did not attach"
	fi
}

# ---- cost ----
cost_console() { # SIDE(embedded|attached) WARM SECS -> "cpu hwm_kib rec_cpu"
	local side=$1 warm=$2 secs=$3 db="$T/cost-$1.db" rec="" line rc0 rc1 t0 t1 rcpu=0
	rm -f "$db" "$db"-* "$T/cost-$side.ini.log"
	plant_ini "$T/cost-$side.ini" "$db"
	if [ "$side" = attached ]; then
		t_bg "rec-$side" "$PHASOR" record -c "$T/cost-$side.ini" --stats 0
		rec=$T_LAST_PID
		sleep 5
	fi
	env_console "$TOOLS/ptyrec" --cols 120 --rows 40 --warmup "$warm" --measure "$secs" --mem \
		-- "$PHASOR" -c "$T/cost-$side.ini" >"$T/ptyrec-$side.out" 2>&1 &
	local pr=$!
	sleep "$warm"
	if [ -n "$rec" ]; then
		rc0=$(cpu_ticks "$rec")
		t0=$(date +%s.%N)
	fi
	wait "$pr" || t_fail "ptyrec ($side) failed: $(cat "$T/ptyrec-$side.out")"
	if [ -n "$rec" ]; then
		rc1=$(cpu_ticks "$rec")
		t1=$(date +%s.%N)
		rcpu=$(awk -v t="$((rc1 - rc0))" -v hz="$hz" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", 100 * t / hz / (b - a) }')
		t_stop "$rec" TERM
	fi
	line=$(cat "$T/ptyrec-$side.out")
	grep -q "attached to" "$T/cost-$side.ini.log" && [ "$side" = embedded ] && t_fail "the embedded console attached"
	[ "$side" = attached ] && ! grep -q "attached to" "$T/cost-$side.ini.log" && t_fail "the console did not attach"
	echo "$(field cpu_pct "$line") $(field hwm_kib "$line") $rcpu"
}

# recorder CPU with N attached consoles over SECS, after WARM
cost_recorder() { # N WARM SECS -> cpu%
	local n=$1 warm=$2 secs=$3 db="$T/rec$1.db" i pids="" c0 c1 t0 t1
	rm -f "$db" "$db"-* "$T/rec$n.ini.log"
	plant_ini "$T/rec$n.ini" "$db"
	t_bg "rec$n" "$PHASOR" record -c "$T/rec$n.ini" --stats 0
	local rec=$T_LAST_PID
	sleep 5
	for i in $(seq 1 "$n"); do
		env_console "$TOOLS/ptyrec" --cols 120 --rows 40 --warmup "$((warm + secs + 2))" --measure 1 \
			-- "$PHASOR" -c "$T/rec$n.ini" >"$T/ptyrec-rec$n-$i.out" 2>&1 &
		pids="$pids $!"
	done
	sleep "$warm"
	c0=$(cpu_ticks "$rec")
	t0=$(date +%s.%N)
	sleep "$secs"
	c1=$(cpu_ticks "$rec")
	t1=$(date +%s.%N)
	for i in $pids; do wait "$i"; done
	[ "$n" -eq 0 ] || [ "$(grep -c "attached to" "$T/rec$n.ini.log")" -eq "$n" ] ||
		t_fail "not $n consoles attached"
	t_stop "$rec" TERM
	awk -v t="$((c1 - c0))" -v hz="$hz" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", 100 * t / hz / (b - a) }'
}

bench_cost() {
	local warm=10 secs=30 r p ec eh ac ah rc ratios_cpu="" ratios_mem="" rows="" r1s="" r3s="" c0 c1 c3
	[ -n "$quick" ] && secs=15
	t_sim --meters "$METERS" --seed 4
	for r in $(seq 1 "$rounds"); do
		p=$(pressure)
		if [ $((r % 2)) -eq 1 ]; then
			read -r ec eh _ < <(cost_console embedded "$warm" "$secs")
			read -r ac ah rc < <(cost_console attached "$warm" "$secs")
		else
			read -r ac ah rc < <(cost_console attached "$warm" "$secs")
			read -r ec eh _ < <(cost_console embedded "$warm" "$secs")
		fi
		echo "cost round $r: embedded console CPU $ec % peak $((eh / 1024)) MiB; attached console CPU $ac % peak $((ah / 1024)) MiB (its recorder $rc %); cpu ratio $(fdiv "$ac" "$ec"), memory ratio $(fdiv "$ah" "$eh"); pressure $p$(loaded "$p")" >&2
		ratios_cpu="$ratios_cpu $(fdiv "$ac" "$ec")"
		ratios_mem="$ratios_mem $(fdiv "$ah" "$eh")"
		rows="$rows $ec:$eh:$ac:$ah"
	done
	local mc mm
	mc=$(median $ratios_cpu)
	mm=$(median $ratios_mem)
	echo "| Attached console against an embedded one, $METERS PAC3200 meters at 1 s, 120x40 pty, ${secs} s after ${warm} s, alternately | attached console: CPU and peak RSS per round (embedded:attached %, KiB):$rows | the embedded console (polls and writes itself) | **CPU $mc, memory $mm** (median of $rounds; CPU rounds:$ratios_cpu; memory rounds:$ratios_mem) | |"
	rows=""
	for r in $(seq 1 "$rounds"); do
		p=$(pressure)
		if [ $((r % 2)) -eq 1 ]; then
			c0=$(cost_recorder 0 "$warm" "$secs"); c1=$(cost_recorder 1 "$warm" "$secs"); c3=$(cost_recorder 3 "$warm" "$secs")
		else
			c3=$(cost_recorder 3 "$warm" "$secs"); c1=$(cost_recorder 1 "$warm" "$secs"); c0=$(cost_recorder 0 "$warm" "$secs")
		fi
		echo "recorder round $r: CPU with 0 consoles $c0 %, 1: $c1 %, 3: $c3 %; pressure $p$(loaded "$p")" >&2
		r1s="$r1s $(fdiv "$c1" "$c0")"
		r3s="$r3s $(fdiv "$c3" "$c0")"
		rows="$rows $c0/$c1/$c3"
	done
	echo "| The recorder with 1 and 3 attached consoles, same plant, ${secs} s | recorder CPU with 1 and 3 consoles | the recorder alone | **1 console: $(median $r1s), 3 consoles: $(median $r3s)** (median of $rounds; rounds 1:$r1s, 3:$r3s) | recorder CPU % (0/1/3) per round:$rows |"
	t_stop "$SIM_PID" TERM
}

# ---- latency ----
# lat_side SIDE N -> the latencies in ms, one per line
lat_side() {
	local side=$1 n=$2 db="$T/lat-$1.db" rec="" k v shown t_show t_arr i
	rm -f "$db" "$db"-* "$T/lat-$side.ini.log"
	plant_ini "$T/lat-$side.ini" "$db" mqtt
	if [ "$side" = attached ]; then
		t_bg "lrec-$side" "$PHASOR" record -c "$T/lat-$side.ini" --stats 0
		rec=$T_LAST_PID
		sleep 4
	fi
	rm -f "$T/lat-$side.exit"
	t_tmux_start "lat-$side" 120 40 env XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run" \
		LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/lat-$side.ini"
	t_tmux_wait "lat-$side" 30 "m01 .*ok" >/dev/null || t_fail "latency ($side): the meters never showed"
	sleep 3
	for k in $(seq 1 "$n"); do
		LAT_MARK=$((LAT_MARK + 1))
		v=$((LAT_MARK * 1000 + 100000)) # W: shown as "1NN.0" kW
		shown=$(awk -v v="$v" 'BEGIN { printf "%.1f", v / 1000 }')
		# a random phase against the console's refresh
		sleep "$(awk -v s="$RANDOM" 'BEGIN { printf "%.2f", 1.3 + (s % 100) / 100 }')"
		mosquitto_pub -p "$MQTT_PORT" -q 1 -t bench/status/em:0 -m \
			"{\"id\":0,\"a_current\":4.0,\"a_voltage\":230.0,\"a_act_power\":900.0,\"a_aprt_power\":950.0,\"a_pf\":0.97,\"a_freq\":50.0,\"b_current\":4.0,\"b_voltage\":230.0,\"b_act_power\":900.0,\"b_aprt_power\":950.0,\"b_pf\":0.97,\"c_current\":4.0,\"c_voltage\":230.0,\"c_act_power\":900.0,\"c_aprt_power\":950.0,\"c_pf\":0.97,\"n_current\":0.4,\"total_current\":12.0,\"total_act_power\":$v,\"total_aprt_power\":2850.0}"
		t_show=""
		for i in $(seq 1 500); do
			if t_tmux_capture "lat-$side" | grep -q "a0 .* $shown "; then
				t_show=$(date +%s%N)
				break
			fi
			sleep 0.01
		done
		[ -n "$t_show" ] || t_fail "latency ($side): $shown never showed"
		t_arr=""
		for i in $(seq 1 300); do
			t_arr=$(sqlite3 "$db" "SELECT s.t_us FROM samples s JOIN quantities q ON q.id = s.qty_id
				WHERE q.name = 'p_total' AND s.value = $v LIMIT 1" 2>/dev/null)
			[ -n "$t_arr" ] && break
			sleep 0.05
		done
		[ -n "$t_arr" ] || t_fail "latency ($side): $v never stored"
		echo $(( (t_show / 1000 - t_arr) / 1000 ))
	done
	console_end "lat-$side" "$rec" "$side" "$T/lat-$side.ini.log"
}

bench_latency() {
	local n=12 r p e a me ma ratios="" all_e="" all_a=""
	[ -n "$quick" ] && n=5
	command -v mosquitto_pub >/dev/null || t_fail "mosquitto_pub is not installed"
	t_mosquitto
	t_sim --meters "$METERS" --seed 5
	LAT_MARK=0
	for r in $(seq 1 "$rounds"); do
		p=$(pressure)
		if [ $((r % 2)) -eq 1 ]; then
			e=$(lat_side embedded "$n"); a=$(lat_side attached "$n")
		else
			a=$(lat_side attached "$n"); e=$(lat_side embedded "$n")
		fi
		me=$(median $e)
		ma=$(median $a)
		echo "latency round $r: embedded median $me ms ($(echo $e)), attached median $ma ms ($(echo $a)); ratio $(fdiv "$ma" "$me"); pressure $p$(loaded "$p")" >&2
		ratios="$ratios $(fdiv "$ma" "$me")"
		all_e="$all_e $e"
		all_a="$all_a $a"
	done
	local mx
	mx=$(printf '%s\n' $all_a | sort -n | tail -1)
	echo "| Latency, arrival in the acquiring process to the screen, 1 s refresh, $METERS meters + 1 MQTT meter, $n values a side a round, alternately | attached console (recorder commit 1 s, follow 200 ms): median $(median $all_a) ms, max $mx ms | embedded console: median $(median $all_e) ms | **$(median $ratios)** (median of $rounds; rounds:$ratios) | target: attached median < 1000 ms |"
	t_stop "$SIM_PID" TERM
	t_stop "$MQTT_PID" TERM
}

# ---- startup ----
# startup_side SIDE -> seconds to the first complete frame
startup_side() {
	local side=$1 rec="" t0 t1 i ok=""
	if [ "$side" = attached ]; then
		t_bg "srec" "$PHASOR" record -c "$T/start.ini" --stats 0
		rec=$T_LAST_PID
		t_wait 30 grep -q "recording\|link" "$T/srec.log"
		sleep 3
	fi
	: >"$T/start.ini.log"
	t0=$(date +%s%N)
	rm -f "$T/start-$side.exit"
	t_tmux_start "start-$side" 120 40 env XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run" \
		LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/start.ini"
	for i in $(seq 1 3000); do
		t_tmux_capture "start-$side" >"$T/start.cap"
		if grep -Eq "Today [0-9.]+ [kMG]?Wh \(since 00:00" "$T/start.cap" &&
			grep -Eq "m01 .*ok +[0-9.]+ +[0-9.]+ [▁▂▃▄▅▆▇█][▁▂▃▄▅▆▇█ ]{11}" "$T/start.cap" &&
			! grep -q "(loading)" "$T/start.cap"; then
			ok=1
			break
		fi
		sleep 0.01
	done
	t1=$(date +%s%N)
	if [ -z "$ok" ]; then
		# this runs in $(...): t_fail ends only the subshell, so the
		# console and the recorder are stopped here, not left running
		tmux -S "$TMUX_SOCK" kill-session -t "=start-$side" 2>/dev/null
		[ -n "$rec" ] && t_stop "$rec" TERM
		t_fail "startup ($side): no complete frame in 30 s: $(cat "$T/start.cap")"
	fi
	cp "$T/start.cap" "$T/start-$side.cap"
	cp "$T/start.ini.log" "$T/start-$side.log"
	console_end "start-$side" "$rec" "$side" "$T/start.ini.log"
	grep -E "follow: .* read|kpi: today's counters" "$T/start.ini.log" | sed 's/^[^ ]* [a-z]*: /    /' >&2
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'
}

bench_startup() {
	local poll=5 r p e a ratios="" all_e="" all_a="" gen rows bytes gsecs
	[ -n "$quick" ] && poll=10
	t_sim --meters "$METERS" --seed 6
	# "today" = the last 23.5 h: local time now 23:30 (a POSIX TZ string)
	local off
	off=$(awk -v now="$(date -u +%s)" 'BEGIN { m = (23 * 60 + 30) - int((now % 86400) / 60);
		if (m < -12 * 60) m += 1440; if (m > 14 * 60) m -= 1440;
		s = m < 0 ? "+" : "-"; if (m < 0) m = -m; printf "BNC%s%d:%02d", s, int(m / 60), m % 60 }')
	TZ_SITE=$off
	plant_ini "$T/start.ini" "$T/start.db"
	sed -i 's/^level = info/level = debug/' "$T/start.ini"
	gen=$("$BENCH/gen_buffer" "$T/start.ini" 24 "$poll" 2>"$T/gen.log") || t_fail "gen_buffer: $(tail -3 "$T/gen.log")"
	read -r rows bytes gsecs <<<"$gen"
	echo "startup: buffer of 24 h x $METERS meters x 36 quantities every $poll s: $rows rows, $((bytes / 1048576)) MiB, made in $gsecs s; site time zone $off (local now $(TZ=$off date +%H:%M))" >&2
	for r in $(seq 1 "$rounds"); do
		p=$(pressure)
		if [ $((r % 2)) -eq 1 ]; then
			e=$(startup_side embedded); a=$(startup_side attached)
		else
			a=$(startup_side attached); e=$(startup_side embedded)
		fi
		echo "startup round $r: embedded $e s, attached $a s; ratio $(fdiv "$a" "$e"); pressure $p$(loaded "$p")" >&2
		ratios="$ratios $(fdiv "$a" "$e")"
		all_e="$all_e $e"
		all_a="$all_a $a"
	done
	echo "| Start-up on a 24 h buffer of $METERS meters ($rows rows, $((bytes / 1048576)) MiB, 36 quantities every $poll s; today = 23.5 h), to the first frame with the history, today's energy and no \"loading\" | attached: median $(median $all_a) s (rounds:$all_a) | embedded: median $(median $all_e) s (rounds:$all_e) | **$(median $ratios)** (median of $rounds; rounds:$ratios) | target < 1 s |"
	t_stop "$SIM_PID" TERM
}

case "${1:-}" in
cost) bench_cost ;;
latency) bench_latency ;;
startup) bench_startup ;;
*) echo "usage: bench_consoles.sh cost|latency|startup" >&2; exit 2 ;;
esac
