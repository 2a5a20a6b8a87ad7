#!/bin/bash
# SPDX-License-Identifier: MIT
# View 6, History (issue 12, item 4): a buffer of 21 days of a known load
# (tests/tools/fcbuf, ending now: meter a's e_imp counter a sample a
# minute, reset to 0 twelve hours ago; meter b's p_total), a console on it
# in tmux (80x24, LANG=C, NO_COLOR): the energy of each of the last 7 days
# equals the counter's difference computed here in SQL (the reset
# bridged), yesterday alone the same; zoom halves and doubles the range;
# e writes a CSV whose days, peaks and columns are those of the buffer;
# then `phasor replay` (200x60, UTF-8) shows the same days.
. "$(dirname "$0")/lib.sh"

export TZ=Europe/Paris
db="$T/buffer.db"
"$TOOLS/fcbuf" "$db" 21 now 2>"$T/fcbuf.log" || t_fail "fcbuf: $(cat "$T/fcbuf.log")"
dead=$(t_port)
{
	printf '[site]\nname = History\ntimezone = Europe/Paris\ncontract_power = 100 kW\n'
	printf 'price_per_kwh = 0.15\ncurrency = EUR\nco2_per_kwh = 0.052\n'
	printf 'shifts = 06:00, 14:00, 22:00\n'
	printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db"
	printf '[log]\npath = %s\nlevel = info\n' "$T/phasor.log"
	t_fcbuf_meters "$dead"
} >"$T/phasor.ini"
q() { t_sql "$db" "$1"; }
A="(SELECT id FROM meters WHERE name = 'a')"
B="(SELECT id FROM meters WHERE name = 'b')"
EIMP="(SELECT id FROM quantities WHERE name = 'e_imp')"
PTOT="(SELECT id FROM quantities WHERE name = 'p_total')"

# The energy of each local day: the counter's rises from one sample to the
# next (the previous sample's day before it counts into this one), a drop
# (the reset) counting nothing; kWh with 1 decimal as the view prints them.
rises="WITH e AS (SELECT t_us, value, LAG(value) OVER (ORDER BY t_us) AS prev FROM samples
	WHERE meter_id = $A AND qty_id = $EIMP AND quality = 0),
	r AS (SELECT t_us, CASE WHEN prev IS NULL OR value - prev < -1e-6 * abs(prev) THEN 0
		ELSE value - prev END AS wh FROM e)"
days=$(q "$rises SELECT date(t_us / 1000000, 'unixepoch', 'localtime') d, sum(wh) FROM r
	  GROUP BY d ORDER BY d" | tail -7)
[ "$(echo "$days" | wc -l)" = 7 ] || t_fail "not 7 days in the buffer: $days"
t_eq "the counter was reset within the last 7 days" 1 \
	"$(q "$rises SELECT count(*) FROM r WHERE wh = 0 AND t_us > (SELECT max(t_us) FROM r) - 86400000000 * 2")"
label() { LANG=C date -d "$1" '+%a %d %b'; }
kwh1() { awk -v w="$1" 'BEGIN { printf "%.1f", w / 1000 }'; }

# stderr (a sanitizer's reports) to a file: never over the screen
t_tmux_start c1 80 24 "cd '$T' && env LANG=C NO_COLOR=1 '$PHASOR' -c '$T/phasor.ini' 2>'$T/c1.err'"
t_tmux_wait c1 10 'Overview' || t_fail "the console does not start"
t_tmux_keys c1 6
t_tmux_wait c1 10 '\[6 History\]' || t_fail "6 does not open the history view"
t_tmux_wait c1 10 '^> Site total p_total \(W\) .*\[Chart\]' || t_fail "view 6: not the site's p_total"
t_tmux_wait c1 10 "^today: $(LANG=C date '+%a %d %b') 00:00 - .* \(2[345] h\)" ||
	t_fail "view 6 does not start on today"
t_tmux_wait c1 10 'read in [0-9]+ ms' || t_fail "view 6: nothing read"
t_tmux_wait c1 5 ': min-max  - mean  \| cursor  [0-9]+ min a column' || t_fail "no legend under the chart"
t_ok "view 6 on today's chart (80x24 ASCII)"

# yesterday, then 7 days: the energy page
t_tmux_keys c1 r p
t_tmux_wait c1 10 '^yesterday: ' || t_fail "r does not go to yesterday"
t_tmux_wait c1 10 'From the e_imp counters of 1 meter; 0.15 EUR/kWh, 0.052 kg CO2/kWh' ||
	t_fail "energy page: not the site's one counter"
d=$(echo "$days" | tail -2 | head -1)
y_label=$(label "${d%%|*}")
y_kwh=$(kwh1 "${d#*|}")
t_tmux_wait c1 10 "^  $y_label +$y_kwh +[0-9.]+ EUR +[0-9.]+\$" ||
	t_fail "yesterday: not $y_kwh kWh"
t_ok "yesterday: $y_label $y_kwh kWh, the counter's difference"
t_tmux_keys c1 r
t_tmux_wait c1 10 '^7 days: .*\(7 days\)' || t_fail "r does not go to 7 days"
while IFS='|' read -r day wh; do
	l=$(label "$day")
	k=$(kwh1 "$wh")
	t_tmux_wait c1 10 "^  $l +$k +[0-9.]+ EUR +[0-9.]+( \*)?\$" || t_fail "7 days: $l is not $k kWh"
	t_log "  $l $k kWh"
done <<<"$days"
t_ok "7 days: each day's kWh is the counter's difference (the reset bridged)"
t_tmux_wait c1 5 '^Per week' || t_fail "no weeks"
t_tmux_keys c1 j j j j j j j j j j j j j j j j j j j j
t_tmux_wait c1 5 '^  [A-Z][a-z][a-z] [0-9][0-9] [A-Z][a-z][a-z] 22:00-06:00 +[0-9.]+ ' ||
	t_fail "no night shift across midnight"

# demand: the peaks against the contract
t_tmux_keys c1 p
t_tmux_wait c1 10 'Peak demand: the mean power of each 15 min interval' || t_fail "no demand page"
t_tmux_wait c1 5 'against the contract: 100.0 kW' || t_fail "no contract on the demand page"
t_tmux_keys c1 p
t_tmux_wait c1 10 'Alarm raises by hour of day over the range: 0 \(every meter\)' ||
	t_fail "no alarm page"
t_tmux_keys c1 p
t_tmux_wait c1 10 '\[Chart\]' || t_fail "p does not come back to the chart"

# zoom in and out around the cursor
t_tmux_keys c1 z
t_tmux_wait c1 10 '^custom: .*\(84 h\)' || t_fail "z does not halve 7 days"
t_tmux_keys c1 z
t_tmux_wait c1 10 '^custom: .*\(42 h\)' || t_fail "z does not halve 84 h"
t_tmux_keys c1 x x
t_tmux_wait c1 10 '^custom: .*\(7 days\)' || t_fail "x x does not come back to 7 days"
t_tmux_keys c1 Left PPage
t_tmux_wait c1 10 '^custom: .*\(7 days\)' || t_fail "pan changed the span"
t_ok "zoom: 7 days, 84 h, 42 h, back to 7 days; pan keeps the span"

# e: the CSV of what is shown (7 days again)
t_tmux_keys c1 r r r r r
t_tmux_wait c1 10 '^7 days: ' || t_fail "r does not cycle back to 7 days"
t_tmux_wait_gone c1 10 'reading\.\.\.' || t_fail "still reading"
t_tmux_keys c1 e
t_tmux_wait c1 10 "wrote phasor-history-site-p_total-[0-9T]+-[0-9T]+\.csv in " ||
	t_fail "e does not say where it wrote"
csv=$(ls "$T"/phasor-history-site-p_total-*.csv)
[ "$(echo "$csv" | wc -l)" = 1 ] || t_fail "not one CSV: $csv"
t_tmux_keys c1 e
t_tmux_wait c1 10 "wrote phasor-history-site-p_total-[0-9T]+-[0-9T]+-2\.csv in " ||
	t_fail "a second e does not write a -2 file"
t_eq "the second file is the same" "" "$(cmp "$csv" "${csv%.csv}-2.csv")"
head -1 "$csv" | grep -q '^section,meter,quantity,unit,from,to,min,mean,max,samples,coverage,kwh,cost,co2_kg,peak_kw,peak_at,intervals_over,hours_over,raises$' ||
	t_fail "CSV header: $(head -1 "$csv")"
# the days' kWh, to the Wh
days_csv=$(awk -F, '$1 == "day" { print substr($5, 1, 10) "|" $12 }' "$csv")
while IFS='|' read -r day wh; do
	got=$(echo "$days_csv" | awk -F'|' -v d="$day" '$1 == d { print $2 }')
	[ -n "$got" ] || t_fail "CSV: no row for $day"
	awk -v a="$got" -v b="$wh" 'BEGIN { exit !(a * 1000 - b < 0.001 && b - a * 1000 < 0.001) }' ||
		t_fail "CSV: $day is $got kWh, the counter says $wh Wh"
done <<<"$days"
t_eq "CSV: 7 day rows" 7 "$(echo "$days_csv" | wc -l)"
cost=$(awk -F, '$1 == "day" { print ($13 - $12 * 0.15 < 1e-9 && $12 * 0.15 - $13 < 1e-9) }' "$csv" | sort -u)
t_eq "CSV: cost = kWh x 0.15" 1 "$cost"
# the columns: 3 h each over 7 days, the site's mean is b's (a has no p_total)
t_eq "CSV: 56 columns" 56 "$(grep -c '^column,' "$csv")"
col=$(awk -F, '$1 == "column" && $8 != "" { print $5 "|" $6 "|" $8; exit }' "$csv")
f=$(date -d "$(echo "$col" | cut -d'|' -f1)" +%s)
e=$(date -d "$(echo "$col" | cut -d'|' -f2)" +%s)
t_eq "CSV: a column is 3 h" 10800 "$((e - f))"
want=$(q "SELECT avg(value) FROM samples WHERE meter_id = $B AND qty_id = $PTOT
	  AND t_us >= $f * 1000000 AND t_us < $e * 1000000")
awk -v a="$(echo "$col" | cut -d'|' -f3)" -v b="$want" \
	'BEGIN { exit !(a - b < 1e-6 * b && b - a < 1e-6 * b) }' ||
	t_fail "CSV: the first column's mean $(echo "$col" | cut -d'|' -f3) is not b's $want"
# the peak of each day: the highest energy of a 15 min interval x 4
peaks=$(q "$rises SELECT d, max(w) * 4 FROM (SELECT date(t_us / 1000000, 'unixepoch', 'localtime') d,
	   t_us / 900000000 i, sum(wh) w FROM r GROUP BY i) GROUP BY d ORDER BY d" | tail -7)
while IFS='|' read -r day w; do
	got=$(awk -F, -v d="$day" '$1 == "peak_day" && substr($5, 1, 10) == d { print $15 }' "$csv")
	awk -v a="$got" -v b="$w" 'BEGIN { exit !(a * 1000 - b < 0.001 && b - a * 1000 < 0.001) }' ||
		t_fail "CSV: the peak of $day is $got kW, the counter says $w W"
done <<<"$peaks"
t_eq "CSV: 24 hours of alarms, 19 fields each, none raised" "24 19 0" \
	"$(awk -F, '$1 == "alarm_hour" { n++; f = NF; r += $19 } END { print n, f, r }' "$csv")"
t_eq "CSV: 19 fields in every row" 19 "$(awk -F, '{ print NF }' "$csv" | sort -u)"
t_ok "e: $(basename "$csv"), its days, peaks and first column are the buffer's; -2 for the next"
t_tmux_quit c1

# the same days in a replay (200x60, UTF-8): the recording's own configuration
# (no shifts there: the table says how to configure them)
t_tmux_start rp 200 60 "cd '$T' && env LANG=C.UTF-8 TZ=Europe/Paris '$PHASOR' replay --db '$db' 2>'$T/rp.err'"
t_tmux_wait rp 10 'REPLAY' || t_fail "the replay does not start"
t_tmux_keys rp End
t_tmux_wait rp 10 ' 100 % ' || t_fail "replay: End does not reach the end"
t_tmux_keys rp 6 r r p
t_tmux_wait rp 10 '7 days: ' || t_fail "replay: no 7 days"
while IFS='|' read -r day wh; do
	t_tmux_wait rp 10 "^  $(label "$day") +$(kwh1 "$wh") " || t_fail "replay: $day"
done <<<"$days"
t_tmux_wait rp 5 'no shifts configured: add \[site\] shifts = 06:00, 14:00, 22:00' ||
	t_fail "replay: no hint for the shifts"
t_ok "replay (200x60 UTF-8): the same 7 days; no shifts in its configuration, said how"
t_tmux_keys rp q
t_no_sanitizer_errors "$T/phasor.log"
t_no_sanitizer_errors "$T/c1.err"
t_no_sanitizer_errors "$T/rp.err"
t_ok "history view"
