#!/bin/bash
# SPDX-License-Identifier: MIT
# The meter tree and production (issue 14 items 2 and 3) on the real
# simulator: the main board (unit 1, aggregate) feeds units 2 and 3
# (parent = main); unit 4 is a PV feeder (phasor sim --pv, role =
# production) on a simulated summer noon. check-config takes the tree and
# refuses a cycle and a role typo with file:line; the console (80x24,
# LANG=C, NO_COLOR) shows the feeders indented under their parent, the
# "(unmetered)" row whose kW is the parent's minus its feeders' on the
# same frame, production and coverage in the header, and the shares at
# 200x60; the recorder's buffer gives a report whose CSV tree rows add up
# (remainder = parent - feeders) and whose production table's coverage is
# produced / consumed. Then the grid connection (phasor sim --incomer: the
# main board carries the PV, which produces more than the plant draws, so
# the main board exports; grid = true): the header's Exp and Self, and the
# report's production row: used on site = produced - exported, consumed =
# taken from the grid + used on site, coverage = produced / consumed, and
# the month table.
. "$(dirname "$0")/lib.sh"

export PHASOR_PROFILES="${PHASOR_PROFILES:-$(cd "$(dirname "$0")/../.." && pwd)/conf/profiles}"
export TZ=UTC

# Noon of a Monday after midsummer in the simulator: the plant works, the
# PV feeder produces.
t_sim --meters 4 --seed 5 --pv 4:300kW --start 2026-06-22T12:00:00Z
cat >"$T/c.ini" <<EOF
[site]
name = Tree plant
timezone = UTC
[store]
path = $T/b.db
[log]
path = $T/phasor.log
[meter main]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 1
poll_ms = 500
aggregate = true
[meter oven]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 2
poll_ms = 500
parent = main
[meter furnace]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 3
poll_ms = 500
parent = main
[meter pv]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 4
poll_ms = 500
role = production
EOF

# ---- check-config ----
"$PHASOR" check-config -c "$T/c.ini" >"$T/check.out" 2>&1 || t_fail "check-config: $(cat "$T/check.out")"
grep -Eq '^  oven .* under main$' "$T/check.out" && grep -Eq '^  pv .* production$' "$T/check.out" ||
	t_fail "the summary does not show the tree and the role: $(grep -A6 '^meters' "$T/check.out")"
# main under its own feeder: main -> furnace -> main; and a role typo
sed -e 's/^aggregate = true$/aggregate = true\nparent = furnace/' -e 's/^role = production$/role = prodution/' \
	"$T/c.ini" >"$T/bad.ini"
rc=0
"$PHASOR" check-config -c "$T/bad.ini" >"$T/bad.out" 2>&1 || rc=$?
t_eq "check-config's exit status on a bad tree" 2 "$rc"
grep -q "bad.ini:[0-9]*: role: prodution is not a role (consumption, production); did you mean 'production'?" \
	"$T/bad.out" || t_fail "no role typo error: $(cat "$T/bad.out")"
grep -q "bad.ini:[0-9]*: parent: .*is its own ancestor" "$T/bad.out" ||
	t_fail "no cycle error: $(cat "$T/bad.out")"
t_ok "check-config: the tree is valid, a cycle and a role typo are errors with file:line"

# ---- the console at 80x24, LANG=C, NO_COLOR ----
t_tmux_start con 80 24 env LANG=C NO_COLOR=1 TERM=xterm "$PHASOR" -c "$T/c.ini" 2>"$T/console.err"
t_tmux_wait con 30 '\(unmetered\) +[0-9]' || t_fail "no remainder row with a value"
t_tmux_wait con 20 'Prod [0-9.]+ [kM]?W Cov [0-9.]+ %' || t_fail "no production and coverage in the header"
sleep 2
# one frame: the parent's kW, its feeders', its remainder
t_tmux_capture con >"$T/s80.txt"
LC_ALL=C grep -q '[^ -~]' "$T/s80.txt" && t_fail "non-ASCII on a LANG=C screen: $(LC_ALL=C grep -n '[^ -~]' "$T/s80.txt" | head -3)"
[ "$(wc -L <"$T/s80.txt")" -le 80 ] || t_fail "a line wider than 80 columns"
y_main=$(grep -n '^[ >*] main ' "$T/s80.txt" | cut -d: -f1)
y_oven=$(grep -n '^[ >*] ` oven ' "$T/s80.txt" | cut -d: -f1)
y_furn=$(grep -n '^[ >*] ` furnace ' "$T/s80.txt" | cut -d: -f1)
y_rem=$(grep -n '^[ >*] ` (unmetered) ' "$T/s80.txt" | cut -d: -f1)
y_pv=$(grep -n '^[ >*] pv ' "$T/s80.txt" | cut -d: -f1)
[ -n "$y_main" ] && [ -n "$y_oven" ] && [ -n "$y_furn" ] && [ -n "$y_rem" ] && [ -n "$y_pv" ] ||
	t_fail "the tree rows are not all there: $(cat "$T/s80.txt")"
[ "$y_oven" -eq $((y_main + 1)) ] && [ "$y_furn" -eq $((y_main + 2)) ] &&
	[ "$y_rem" -eq $((y_main + 3)) ] || t_fail "the feeders are not under their parent: $(cat "$T/s80.txt")"
# kW: the first number after the comm state ("o ok") on the row
kw() { sed -n "${1}p" "$T/s80.txt" | sed -E 's/^.{2}//' | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^-?[0-9]+\.[0-9]+$/) { print $i; exit } }'; }
m=$(kw "$y_main"); o=$(kw "$y_oven"); f=$(kw "$y_furn"); r=$(kw "$y_rem")
awk -v m="$m" -v o="$o" -v f="$f" -v r="$r" 'BEGIN { d = m - o - f - r; exit !(d < 0.25 && d > -0.25) }' ||
	t_fail "remainder $r kW is not main $m - oven $o - furnace $f"
t_ok "80x24 LANG=C: feeders indented under main, (unmetered) $r kW = $m - $o - $f"
top=$(grep 'Top:' "$T/s80.txt")
echo "$top" | grep -q 'Top: .*main unmetered' || t_fail "the remainder is not among the top consumers: $top"
echo "$top" | grep -q 'pv' && t_fail "the production meter is listed as a consumer: $top"
hdr=$(grep '^Total' "$T/s80.txt")
echo "$hdr" | grep -qE "^Total $m kW" || t_fail "the total is not the aggregate root's $m kW: $hdr"
t_ok "header: total = main ($m kW), production and coverage shown; top consumers: leaves and remainders"

# 200x60: the share of the parent
t_tmux_resize con 200 60
t_tmux_wait con 10 'Shr%|% par' || t_fail "no share column at 200 columns"
sleep 1.5
t_tmux_capture con >"$T/s200.txt"
grep -E '^[ >*] ` oven .* [0-9]+\.[0-9] +[0-9]+ ' "$T/s200.txt" >/dev/null ||
	t_fail "no share on the oven's row: $(grep oven "$T/s200.txt")"
t_ok "200x60: the feeders' shares of their parent"
t_tmux_quit con
rc=$(t_tmux_wait_exit con 20) || t_fail "the console did not quit"
t_eq "the console's exit status" 0 "$rc"
t_no_sanitizer_errors "$T/console.err"

# ---- the report of what the console recorded ----
# report_range DB: from and to around what DB recorded, on the bounds of
# the 5-minute windows the report counts
report_range() {
	local t0 t1
	t0=$(t_sql "$1" "SELECT min(t_us) / 1000000 FROM samples")
	t1=$(t_sql "$1" "SELECT max(t_us) / 1000000 + 1 FROM samples")
	[ -n "$t0" ] && [ -n "$t1" ] || t_fail "nothing recorded in $1"
	from=$(date -u -d "@$((t0 / 300 * 300))" +%FT%TZ)
	to=$(date -u -d "@$(( (t1 + 299) / 300 * 300 ))" +%FT%TZ)
}
report_range "$T/b.db"
"$PHASOR" report --db "$T/b.db" -c "$T/c.ini" --from "$from" --to "$to" -o "$T/r.pdf" \
	--csv "$T/r.csv" >"$T/r.log" 2>&1 || t_fail "report: $(cat "$T/r.log")"
cell() { awk -F, -v t="$1" -v i="$2" -v c="$3" '$1 == t && $2 == i && $3 == c { print $4; exit }' "$T/r.csv"; }
pm=$(cell tree main energy); po=$(cell tree oven energy); pf=$(cell tree furnace energy)
pr=$(cell tree "main (unmetered)" energy)
[ -n "$pm" ] && [ -n "$pr" ] || t_fail "no tree table in the CSV: $(grep '^tree' "$T/r.csv")"
awk -v m="$pm" -v o="$po" -v f="$pf" -v r="$pr" 'BEGIN { d = m - o - f - r; exit !(d < 0.002 && d > -0.002 && r > 0) }' ||
	t_fail "CSV remainder $pr kWh is not main $pm - oven $po - furnace $pf"
so=$(cell tree oven share)
# (the CSV's kWh have 3 decimals: the share from them is that close)
awk -v m="$pm" -v o="$po" -v s="$so" 'BEGIN { d = 100 * o / m - s; e = 100 * 0.0005 * (1 / m + o / m / m) + 0.006
	exit !(d < e && d > -e) }' ||
	t_fail "the oven's share $so % is not $po / $pm"
[ "$(cell tree oven parent)" = main ] || t_fail "the oven's parent is not main in the CSV"
t_ok "report CSV: main (unmetered) $pr kWh = $pm - $po - $pf, the oven's share $so %"
cons=$(cell production range consumed); prod=$(cell production range produced)
cov=$(cell production range coverage); self=$(cell production range self)
[ -n "$prod" ] || t_fail "no production table: $(grep '^production' "$T/r.csv")"
awk -v c="$cons" -v p="$prod" -v v="$cov" -v s="$self" 'BEGIN {
	d = 100 * p / c - v; e = 100 * 0.0005 * (1 / c + p / c / c) + 0.006
	exit !(p > 0 && d < e && d > -e && s <= p + 0.0005 && s <= c + 0.0005) }' ||
	t_fail "coverage $cov % is not produced $prod / consumed $cons (used on site $self)"
sum=0
for d in $(awk -F, '$1 == "day" && $3 == "energy" { print $4 }' "$T/r.csv"); do sum=$(awk -v a="$sum" -v b="$d" 'BEGIN { print a + b }'); done
awk -v a="$sum" -v c="$cons" 'BEGIN { d = a - c; exit !(d < 0.002 && d > -0.002) }' ||
	t_fail "consumed $cons kWh is not the days' energy $sum (main only: nothing counted twice)"
t_ok "report CSV: produced $prod kWh, coverage $cov % = produced / consumed ($cons kWh = main's), used on site $self kWh"
# consumption against production per 15 minutes (CSV only)
awk -F, '$1 == "load" && $3 == "produced" && $4 + 0 > 0 { n++ } END { exit !(n > 0) }' "$T/r.csv" ||
	t_fail "no production in the load table: $(grep '^load' "$T/r.csv" | head -5)"
pdftotext -layout "$T/r.pdf" "$T/r.txt" 2>/dev/null &&
	{ grep -q 'main (unmetered)' "$T/r.txt" && grep -q 'Production and coverage' "$T/r.txt"; } ||
	t_fail "the PDF lacks the tree or the production table"
t_ok "the PDF has the tree and the production tables"

# ---- a grid connection: the main board exports what the PV makes beyond the plant ----
kill "$SIM_PID" 2>/dev/null
t_sim --meters 4 --seed 5 --pv 4:1500kW --incomer --start 2026-06-22T12:00:00Z
sed -e "s/^port = .*/port = $SIM_PORT/" -e "s|$T/b.db|$T/g.db|" -e 's/^aggregate = true$/aggregate = true\ngrid = true/' \
	"$T/c.ini" >"$T/g.ini"
"$PHASOR" check-config -c "$T/g.ini" >"$T/gcheck.out" 2>&1 || t_fail "check-config: $(cat "$T/gcheck.out")"
grep -Eq '^  main .* grid connection$' "$T/gcheck.out" || t_fail "the summary does not show the grid connection: $(grep -A6 '^meters' "$T/gcheck.out")"
t_tmux_start gc 80 24 env LANG=C NO_COLOR=1 TERM=xterm "$PHASOR" -c "$T/g.ini" 2>"$T/gconsole.err"
t_tmux_wait gc 30 'Exp [0-9.]+ [kM]?Wh' || t_fail "no export in the header"
sleep 6
t_tmux_capture gc >"$T/g80.txt"
grep -Eq '^Total -[0-9.]+ [kM]?W' "$T/g80.txt" || t_fail "the grid connection does not export: $(head -4 "$T/g80.txt")"
grep -Eq 'Prod [0-9.]+ [kM]?W Cov [0-9.]+ % Self [0-9.]+ % Exp [0-9.]+ [kM]?Wh' "$T/g80.txt" ||
	t_fail "no production, coverage, self-consumption and export: $(sed -n 2p "$T/g80.txt")"
t_ok "grid connection: the main board exports ($(grep -Eo '^Total -[0-9.]+ [kM]?W' "$T/g80.txt")), $(grep -Eo 'Self [0-9.]+ % Exp [0-9.]+ [kM]?Wh' "$T/g80.txt")"
t_tmux_quit gc
rc=$(t_tmux_wait_exit gc 20) || t_fail "the console did not quit"
t_eq "the console's exit status" 0 "$rc"
t_no_sanitizer_errors "$T/gconsole.err"
report_range "$T/g.db"
"$PHASOR" report --db "$T/g.db" -c "$T/g.ini" --from "$from" --to "$to" -o "$T/g.pdf" \
	--csv "$T/r.csv" >"$T/g.log" 2>&1 || t_fail "report: $(cat "$T/g.log")"
cons=$(cell production range consumed); prod=$(cell production range produced)
cov=$(cell production range coverage); self=$(cell production range self)
exp=$(cell production range exported)
grid=0
for d in $(awk -F, '$1 == "day" && $3 == "energy" { print $4 }' "$T/r.csv"); do grid=$(awk -v a="$grid" -v b="$d" 'BEGIN { print a + b }'); done
[ -n "$exp" ] && [ -n "$prod" ] || t_fail "no exported column: $(grep '^production,range' "$T/r.csv")"
awk -v c="$cons" -v p="$prod" -v x="$exp" -v s="$self" -v g="$grid" -v v="$cov" 'BEGIN {
	u = p - x; if (u < 0) u = 0
	d1 = s - u; d2 = c - (g + s); d3 = 100 * p / c - v; e = 100 * 0.0005 * (1 / c + p / c / c) + 0.006
	exit !(x > 0 && d1 < 0.002 && d1 > -0.002 && d2 < 0.002 && d2 > -0.002 && d3 < e && d3 > -e) }' ||
	t_fail "used on site $self is not produced $prod - exported $exp, or consumed $cons is not grid $grid + it, or coverage $cov"
mp=$(awk -F, '$1 == "production_month" && $2 == "2026-06" && $3 == "produced" { print $4; exit }' "$T/r.csv")
# (the console runs on today's clock, the simulator in June: the month is the recording's)
mp=${mp:-$(awk -F, '$1 == "production_month" && $3 == "produced" { s += $4 } END { print s }' "$T/r.csv")}
awk -v a="$mp" -v p="$prod" 'BEGIN { d = a - p; exit !(d < 0.002 && d > -0.002) }' ||
	t_fail "the month table's production $mp is not the range's $prod"
t_ok "report with the grid connection: used on site $self = produced $prod - exported $exp kWh, consumed $cons = grid $grid + used, coverage $cov %, the month's production $mp"
