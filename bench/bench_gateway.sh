#!/bin/bash
# SPDX-License-Identifier: MIT
# A dead unit behind a shared endpoint (issue 10, item 1): three units
# behind one `phasor sim` endpoint, poll_ms = 250, timeout_ms 1000 (the
# default); unit 2 stops answering 4 s after the simulator starts. In each
# round `phasor record` polls them for 16 s (10 s with BENCH_QUICK=1), and
# the rate of units 1 and 3 (samples of v_l1n per second, from the buffer)
# from 2 s after the fault to the end is divided by their rate before the
# fault (from 0.5 s after their first sample to 0.2 s before it); a rate is
# counted over the samples' own span (first to last in the window). Three
# rounds (GW_ROUNDS); prints the per-round ratios on stderr and one table
# row for bench/run.sh on stdout: the median and the lowest ratio.
# Alone: PHASOR=build/phasor TOOLS=build/tools bash bench/bench_gateway.sh
set -u
: "${PHASOR:?}" "${TOOLS:?}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/integration/lib.sh"
T_NAME=bench-gateway
rounds=${GW_ROUNDS:-3}
secs=16
[ -n "${BENCH_QUICK:-}" ] && secs=10

# DB METER FROM_US TO_US: samples of v_l1n per second in the window, over
# their own span (first to last), so the window's edges do not count
rate() {
	sqlite3 -batch -noheader "$1" "SELECT printf('%.3f', (count(*) - 1) * 1e6 /
		(max(s.t_us) - min(s.t_us))) FROM samples s
		JOIN meters m ON m.id = s.meter_id JOIN quantities k ON k.id = s.qty_id
		WHERE m.name = '$2' AND k.name = 'v_l1n' AND s.t_us >= $3 AND s.t_us < $4"
}

ratios=""
for r in $(seq 1 "$rounds"); do
	t0=$(( $(date +%s%N) / 1000 ))
	t_sim --meters 3 --seed "$r" --fault timeout:2@4
	db="$T/gw$r.db"
	{
		printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db"
		for u in 1 2 3; do
			printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
			printf 'port = %d\nunit = %d\npoll_ms = 250\n' "$SIM_PORT" "$u"
		done
	} >"$T/gw.ini"
	"$PHASOR" record -c "$T/gw.ini" --for "$secs" >"$T/record$r.log" 2>&1 ||
		t_fail "record exited $?"
	t_stop "$SIM_PID"
	fault=$(( t0 + 4000000 ))
	end=$(sqlite3 "$db" "SELECT max(t_us) FROM samples")
	line="round $r:"
	for m in m1 m3; do
		first=$(sqlite3 "$db" "SELECT min(s.t_us) FROM samples s JOIN meters m
			ON m.id = s.meter_id WHERE m.name = '$m'")
		from=$(( first + 500000 ))
		rb=$(rate "$db" "$m" "$from" $(( fault - 200000 )))
		ra=$(rate "$db" "$m" $(( fault + 2000000 )) $(( end + 1 )))
		ratio=$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
		line="$line $m $rb -> $ra samples/s (ratio $ratio);"
		ratios="$ratios $ratio"
	done
	echo "$line" >&2
done
read -r med low < <(echo "$ratios" | tr ' ' '\n' | grep . | sort -n |
	awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int((NR + 1) / 2)], v[1] }')
echo "| Gateway: 3 units behind one endpoint, poll_ms 250, unit 2 times out | neighbours' rate from 2 s after the fault | their rate before it | **$med** median, $low lowest (target >= 0.9) | $rounds rounds, units 1 and 3: $ratios |"
