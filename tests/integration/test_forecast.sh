#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor forecast --csv: a weekly periodic series (no noise) in the export
# format (other columns ignored) is forecast to its own period within 1 %,
# the band holds the forecast, --backtest prints method,mape,days with the
# chosen (lowest MAPE) first, --at, --horizon, --interval and jsonl; under
# two weeks the daily naive fallback is said; every bad input (no time or
# value column, unparsable time, unsorted, duplicate times, several meters
# mixed, irregular step, a bad value, too short) exits 2 naming its line.
. "$(dirname "$0")/lib.sh"

T0=1788739200 # 2026-09-07T00:00:00Z, a Monday
STEP=900

# gen DAYS FORMAT [START]: FORMAT unix (time,value) or export (the export's
# columns, ISO times). The load: weekday 08-20 production, weekend low.
gen() {
	TZ=UTC awk -v days="$1" -v fmt="$2" -v t0="${3:-$T0}" -v step=$STEP '
	function load(t,   d, h) {
		d = int((t - 1788739200) / 86400) % 7   # 0 = Monday
		h = (t % 86400) / 3600
		v = 40000 + 5000 * cos(2 * 3.14159265358979 * (h - 3) / 24)
		if (d < 5 && h >= 8 && h < 20) v += 60000 + 10000 * sin(3.14159265358979 * (h - 8) / 12)
		if (d >= 5 && h >= 8 && h < 12) v += 15000
		return v
	}
	BEGIN {
		if (fmt == "unix") print "time,value"
		else print "time,meter,quantity,value,unit,quality"
		for (i = 0; i < days * 86400 / step; i++) {
			t = t0 + i * step
			if (fmt == "unix") printf "%d,%.3f\n", t, load(t)
			else printf "%s.000Z,tgbt-1,p_total,%.3f,W,good\n", strftime("%Y-%m-%dT%H:%M:%S", t), load(t)
		}
	}'
}

# truth: the load at each time of a forecast's output (csv on stdin):
# prints "time forecast lower upper truth" per row.
check_rows() {
	TZ=UTC awk -F, '
	NR == 1 { next }
	{
		n++
		split(substr($1, 1, 19), a, /[-T:]/)
		t = mktime(a[1] " " a[2] " " a[3] " " a[4] " " a[5] " " a[6])
		d = int((t - 1788739200) / 86400) % 7
		h = (t % 86400) / 3600
		v = 40000 + 5000 * cos(2 * 3.14159265358979 * (h - 3) / 24)
		if (d < 5 && h >= 8 && h < 20) v += 60000 + 10000 * sin(3.14159265358979 * (h - 8) / 12)
		if (d >= 5 && h >= 8 && h < 12) v += 15000
		e = ($2 - v) / v; if (e < 0) e = -e
		if (e > worst) worst = e
		if (!($3 <= $2 && $2 <= $4)) bad++
		if (prev != "" && t - prev != step) gaps++
		prev = t
	}
	END { printf "%d %.5f %d %d\n", n, worst, bad + 0, gaps + 0 }' step=$STEP
}

gen 35 export >"$T/week5.csv"
gen 35 unix >"$T/week5u.csv"

# ---- the forecast of a periodic series -----------------------------------
out=$("$PHASOR" forecast --csv "$T/week5.csv" 2>"$T/err") || t_fail "forecast: exit $?: $(cat "$T/err")"
t_eq "header" "time,forecast,lower,upper" "$(echo "$out" | head -1)"
t_eq "first time" "2026-10-12T00:00:00.000Z" "$(echo "$out" | sed -n 2p | cut -d, -f1)"
t_eq "last time" "2026-10-12T23:45:00.000Z" "$(echo "$out" | tail -1 | cut -d, -f1)"
read -r n worst bad gaps <<<"$(echo "$out" | check_rows)"
t_eq "rows" 96 "$n"
t_eq "rows outside their band" 0 "$bad"
t_eq "steps other than 15 min" 0 "$gaps"
awk -v w="$worst" 'BEGIN { exit !(w < 0.01) }' || t_fail "worst relative error $worst (>= 1 %)"
[ -s "$T/err" ] && t_fail "stderr not empty: $(cat "$T/err")"
t_ok "a weekly periodic series is forecast to its period (worst $worst)"

# The same from Unix seconds: the same figures.
out_u=$("$PHASOR" forecast --csv "$T/week5u.csv") || t_fail "unix seconds: exit $?"
t_eq "unix seconds give the same forecast" "$out" "$out_u"
# Deterministic: twice the same bytes.
t_eq "deterministic" "$out" "$("$PHASOR" forecast --csv "$T/week5.csv")"
t_ok "Unix seconds and ISO times agree; deterministic"

# ---- backtest ------------------------------------------------------------
bt=$("$PHASOR" forecast --csv "$T/week5.csv" --backtest 7) || t_fail "backtest: exit $?"
t_eq "backtest header" "method,mape,days" "$(echo "$bt" | head -1)"
t_eq "backtest methods" "combined dshw naive_day naive_week" \
	"$(echo "$bt" | tail -n +2 | cut -d, -f1 | sort | tr '\n' ' ' | sed 's/ $//')"
t_eq "backtest days" "7 7 7 7" "$(echo "$bt" | tail -n +2 | cut -d, -f3 | tr '\n' ' ' | sed 's/ $//')"
echo "$bt" | tail -n +2 | awk -F, 'NR == 1 { first = $2 } $2 < first { bad = 1 } END { exit bad }' ||
	t_fail "the first method is not the lowest MAPE: $bt"
t_eq "naive_week on a weekly period" "naive_week,0.00,7" "$(echo "$bt" | grep '^naive_week')"
awk -F, '$1 == "naive_day" && $2 > 10 { ok = 1 } END { exit !ok }' <<<"$bt" ||
	t_fail "naive_day should miss the weekends: $bt"
t_ok "backtest: method,mape,days, chosen first"

# ---- options -------------------------------------------------------------
out=$("$PHASOR" forecast --csv "$T/week5.csv" --at 2026-10-05T00:00:00Z --horizon 2d) ||
	t_fail "--at: exit $?"
t_eq "--at: first time" "2026-10-05T00:00:00.000Z" "$(echo "$out" | sed -n 2p | cut -d, -f1)"
read -r n worst bad gaps <<<"$(echo "$out" | check_rows)"
t_eq "--horizon 2d rows" 192 "$n"
awk -v w="$worst" 'BEGIN { exit !(w < 0.01) }' || t_fail "--at: worst relative error $worst"
out=$("$PHASOR" forecast --csv "$T/week5.csv" --interval 1h --horizon 6h) || t_fail "--interval: exit $?"
t_eq "--interval 1h rows" 7 "$(echo "$out" | wc -l)"
t_eq "--interval 1h second row" "2026-10-12T01:00:00.000Z" "$(echo "$out" | sed -n 3p | cut -d, -f1)"
out=$("$PHASOR" forecast --csv "$T/week5.csv" --format jsonl --horizon 1h) || t_fail "jsonl: exit $?"
t_eq "jsonl rows" 4 "$(echo "$out" | wc -l)"
t_eq "jsonl keys" '"2026-10-12T00:00:00.000Z" true' \
	"$(echo "$out" | head -1 | jq -c '.time, (.lower <= .forecast and .forecast <= .upper)' | tr '\n' ' ' | sed 's/ $//')"
t_ok "--at, --horizon, --interval, --format jsonl"

# ---- short history: said, daily naive -------------------------------------
gen 10 unix >"$T/short.csv"
out=$("$PHASOR" forecast --csv "$T/short.csv" --horizon 1h 2>"$T/err") || t_fail "short: exit $?"
grep -q "note: only 10.0 days of history" "$T/err" || t_fail "short: no note: $(cat "$T/err")"
# same time yesterday: 2026-09-16 00:00 is the value of 2026-09-16 - 1 day
want=$(awk -F, 'NR == 2 + 9 * 96 { printf "%.1f", $2 }' "$T/short.csv")
t_eq "short: same time yesterday" "$want" "$(echo "$out" | sed -n 2p | cut -d, -f2)"
t_ok "under two weeks: the note and the daily naive forecast"

# ---- bad input: exit 2 and the line --------------------------------------
bad_case() { # NAME EXPECTED-TEXT FILE [ARGS...]
	local name=$1 want=$2 file=$3 rc
	shift 3
	out=$("$PHASOR" forecast --csv "$file" "$@" 2>&1 >/dev/null)
	rc=$?
	t_eq "$name: exit status" 2 "$rc"
	echo "$out" | grep -qF -- "$want" || t_fail "$name: wanted '$want' in: $out"
}
head -20 "$T/week5u.csv" >"$T/head.csv"
sed '1s/time/when/' "$T/week5u.csv" >"$T/b1.csv"
bad_case "no time column" "b1.csv:1: no 'time' column" "$T/b1.csv"
sed '1s/value/power/' "$T/week5u.csv" >"$T/b2.csv"
bad_case "no value column" "b2.csv:1: no 'value' column" "$T/b2.csv"
sed '5s/^[0-9]*/yesterday/' "$T/head.csv" >"$T/b3.csv"
bad_case "unparsable time" "b3.csv:5: unparsable time 'yesterday'" "$T/b3.csv"
awk 'NR == 5 { l = $0; next } NR == 6 { print; print l; next } { print }' "$T/head.csv" >"$T/b4.csv"
bad_case "unsorted" "b4.csv:6: time 2026-09-07T00:45:00.000Z is before the previous row's (line 5)" "$T/b4.csv"
awk 'NR == 5 { print } { print }' "$T/head.csv" >"$T/b5.csv"
bad_case "duplicate" "b5.csv:6: duplicate time 2026-09-07T00:45:00.000Z (line 5 has it too" "$T/b5.csv"
awk -F, 'NR == 1 { print; next } { print; if (NR < 10) { $2 = "press-3"; print } }' OFS=, "$T/week5.csv" >"$T/b6.csv"
bad_case "two meters mixed" "b6.csv:3: duplicate time" "$T/b6.csv"
awk -F, 'NR == 5 { $1 = $1 + 300 } { print }' OFS=, "$T/head.csv" >"$T/b7.csv"
bad_case "irregular step" "b7.csv:5: irregular step: 20m after line 4" "$T/b7.csv"
sed '4s/,[0-9.]*$/,12kW/' "$T/head.csv" >"$T/b8.csv"
bad_case "bad value" "b8.csv:4: value '12kW' is not a number" "$T/b8.csv"
bad_case "too short" "too little history: 0.20 days (at least 1 day is needed)" "$T/head.csv"
head -1 "$T/head.csv" >"$T/b9.csv"
bad_case "header only" "b9.csv: too little history: 0 rows" "$T/b9.csv"
bad_case "bad zone" "--tz: Mars/Olympus is not a known time zone" "$T/week5.csv" --tz Mars/Olympus
bad_case "bad interval" "--interval: 7m does not divide a day" "$T/week5.csv" --interval 7m
out=$("$PHASOR" forecast 2>&1)
t_eq "no input: exit status" 2 "$?"
echo "$out" | grep -q "give either --csv FILE or --db FILE" || t_fail "no input: $out"
t_ok "bad input: exit 2 with the line"

# ---- from a buffer ---------------------------------------------------------
# fcbuf: meter a has only an e_imp counter (a minute apart, reset on day
# 20), meter b only p_total (half the load); the same weekly load.
export PHASOR_CONFIG=$T/none.ini HOME=$T XDG_CONFIG_HOME=$T
"$TOOLS/fcbuf" "$T/buf.db" 35 2>"$T/fcbuf.log" || t_fail "fcbuf: $(cat "$T/fcbuf.log")"
t_eq "buffer samples" 100800 "$(t_sql "$T/buf.db" "SELECT count(*) FROM samples")"
scale_rows() { # FACTOR: the rows with forecast/lower/upper divided by it
	awk -F, -v f="$1" 'NR == 1 { print; next } { printf "%s,%.6f,%.6f,%.6f\n", $1, $2 / f, $3 / f, $4 / f }'
}
for m in a b site; do
	case $m in a) args=(--meter a) f=1 ;; b) args=(--meter b) f=0.5 ;; site) args=() f=1.5 ;; esac
	out=$("$PHASOR" forecast --db "$T/buf.db" "${args[@]}" 2>"$T/err") ||
		t_fail "--db $m: exit $?: $(cat "$T/err")"
	t_eq "--db $m: first time" "2026-10-12T00:00:00.000Z" "$(echo "$out" | sed -n 2p | cut -d, -f1)"
	read -r n worst bad gaps <<<"$(echo "$out" | scale_rows $f | check_rows)"
	t_eq "--db $m: rows" 96 "$n"
	awk -v w="$worst" 'BEGIN { exit !(w < 0.01) }' || t_fail "--db $m: worst relative error $worst"
done
t_ok "--db: the counter's differences (across a reset), the power samples, the site's sum"

# --meter unknown; [forecast] holidays from -c: the Monday like a Sunday.
out=$("$PHASOR" forecast --db "$T/buf.db" --meter c 2>&1)
t_eq "--meter c: exit status" 2 "$?"
echo "$out" | grep -qF "no such meter in $T/buf.db: 'c'" || t_fail "--meter c: $out"
cat >"$T/site.ini" <<INI
[site]
timezone = UTC
[forecast]
interval = 30m
holidays = 2026-10-12
[meter a]
driver = modbus
profile = pac3200
host = 127.0.0.1
INI
out=$("$PHASOR" forecast -c "$T/site.ini" --db "$T/buf.db" --meter a --horizon 1d) ||
	t_fail "-c: exit $?"
t_eq "-c: 30 min intervals" 49 "$(echo "$out" | wc -l)"
noon=$(echo "$out" | grep '^2026-10-12T12:00' | cut -d, -f2)
awk -v v="$noon" 'BEGIN { exit !(v > 35000 && v < 50000) }' || t_fail "holiday noon: $noon W (a Sunday's is ~40 kW)"
t_ok "--db: unknown meter refused; [forecast] interval and holidays"

# The real `phasor export` output of one series, averaged into 15 min.
"$PHASOR" export --db "$T/buf.db" --meter b --quantity p_total >"$T/export.csv" || t_fail "export: exit $?"
out=$("$PHASOR" forecast --csv "$T/export.csv" --horizon 1h) || t_fail "export: exit $?"
t_eq "export's own 1-min step: rows of 1 h" 61 "$(echo "$out" | wc -l)"
out=$("$PHASOR" forecast --csv "$T/export.csv" --interval 15m) || t_fail "export --interval: exit $?"
read -r n worst bad gaps <<<"$(echo "$out" | scale_rows 0.5 | check_rows)"
t_eq "export as input: rows" 96 "$n"
awk -v w="$worst" 'BEGIN { exit !(w < 0.01) }' || t_fail "export as input: worst relative error $worst"
t_ok "phasor export output of one series works as input (--interval 15m)"
