#!/bin/bash
# SPDX-License-Identifier: MIT
# `phasor report` (issue 13) on a buffer of known energy, peaks and alarms
# (tests/tools/repbuf: three UTC days, meters incomer = press + oven, a
# journal, a stored forecast): the PDF's text (pdftotext) holds each day's
# kWh equal to the incomer's counter difference computed here in SQL, the
# consumers' kWh, the alarm raises by priority equal to the journal's
# counts, the peak; pdfinfo's page count, A4 size, title and creator; the
# PNG pages (one per PDF page, 1240 x 1754 as `file` reads them); the CSV's
# day rows; two runs with the same SOURCE_DATE_EPOCH byte-identical, with
# another one differing only in the creation date; --meter; -c without
# shifts (nights and weekends: the standby energy equal to the counter's
# nights); a buffer without forecasts; and every bad input exits 2 with
# its message and leaves no file.
. "$(dirname "$0")/lib.sh"

export PHASOR_PROFILES="${PHASOR_PROFILES:-$(cd "$(dirname "$0")/../.." && pwd)/conf/profiles}"
export TZ=UTC
for tool in pdftotext pdfinfo file; do
	command -v $tool >/dev/null || t_fail "$tool is missing (poppler-utils, file: make deps)"
done
db="$T/b.db"
"$TOOLS/repbuf" "$db" >"$T/repbuf.log" 2>&1 || t_fail "repbuf: $(tail -3 "$T/repbuf.log")"
out="$T/out"
mkdir "$out"
FROM=2026-11-30T00:00:00Z
TO=2026-12-03T00:00:00Z
D0=1795996800 # 2026-11-30T00:00:00Z
export SOURCE_DATE_EPOCH=1796100000

q() { t_sql "$db" "$1"; }
E=$(q "SELECT id FROM quantities WHERE name = 'e_imp'")
mid() { q "SELECT id FROM meters WHERE name = '$1'"; }
# kwh METER FROM_S TO_S: the counter's last value before TO minus its last before FROM
kwh() {
	q "SELECT printf('%.3f', ((SELECT value FROM samples WHERE meter_id = $(mid "$1") AND qty_id = $E
		AND t_us < $3 * 1000000 ORDER BY t_us DESC LIMIT 1) -
		(SELECT value FROM samples WHERE meter_id = $(mid "$1") AND qty_id = $E
		AND t_us < $2 * 1000000 ORDER BY t_us DESC LIMIT 1)) / 1000.0)"
}

"$PHASOR" report --db "$db" --from $FROM --to $TO -o "$out/r.pdf" --csv "$out/r.csv" \
	>"$T/r.log" 2>&1 || t_fail "report failed: $(cat "$T/r.log")"
pdftotext -layout "$out/r.pdf" "$T/r.txt" || t_fail "pdftotext cannot read the PDF"
pdfinfo "$out/r.pdf" >"$T/info" || t_fail "pdfinfo cannot read the PDF"
pages=$(awk '/^Pages:/ { print $2 }' "$T/info")
[ "${pages:-0}" -ge 3 ] || t_fail "the PDF has ${pages:-no} pages"
grep -q '^Page size: *595 x 842 pts' "$T/info" || t_fail "not A4: $(grep 'Page size' "$T/info")"
grep -q '^Creator: *phasor ' "$T/info" || t_fail "creator: $(grep Creator "$T/info")"
grep -q '^Title: *Energy review Test plant' "$T/info" || t_fail "title: $(grep Title "$T/info")"
t_ok "PDF: $pages A4 pages (595 x 842 pt), title and creator set"

total=0
for d in 0 1 2; do
	a=$((D0 + d * 86400))
	day=$(date -u -d "@$a" +%F)
	want=$(kwh incomer $a $((a + 86400)))
	grep -q -E "^ *$day +$want " "$T/r.txt" ||
		t_fail "day $day: want $want kWh; the PDF has: $(grep -E "^ *$day " "$T/r.txt" | head -1)"
	grep -q "^day,$day,energy,$want,kWh" "$out/r.csv" || t_fail "the CSV lacks day $day's $want kWh"
	total=$(awk -v a="$total" -v b="$want" 'BEGIN { printf "%.3f", a + b }')
done
grep -q -E "^ *energy +$total kWh" "$T/r.txt" || t_fail "total: want $total kWh"
t_ok "energy per day equals the counter's difference in SQL (PDF and CSV), total $total kWh"

for m in oven press; do
	want=$(kwh $m $D0 $((D0 + 3 * 86400)))
	grep -q -E "^ *$m +$want " "$T/r.txt" || t_fail "consumer $m: want $want kWh"
done
grep -q -E 'Peak demand 104\.800 kW' "$T/r.txt" || t_fail "peak demand: $(grep 'Peak demand' "$T/r.txt")"
grep -q -E 'Contract power 70\.000 kW: 1 intervals over it, 0\.25 hours' "$T/r.txt" ||
	t_fail "contract: $(grep 'Contract power' "$T/r.txt")"
t_ok "consumers' kWh equal their counters'; the peak 104.8 kW, one interval over 70 kW"

for p in critical high medium low diagnostic; do
	want=$(q "SELECT count(*) FROM alarm_events WHERE event = 'raise' AND priority = '$p'")
	grep -q -E "^ *$p +$want +" "$T/r.txt" || t_fail "$p raises: want $want"
done
want=$(q "SELECT count(*) FROM alarm_events WHERE event = 'raise'")
grep -q -E "^ *total +$want +100\.0" "$T/r.txt" || t_fail "total raises: want $want"
grep -q -E '^ *floods \(10 min with 10 or more\) +1 ' "$T/r.txt" || t_fail "floods"
grep -q -E '^ *standing .* +1 ' "$T/r.txt" || t_fail "standing"
grep -q -E '^ *chattering .* +1 ' "$T/r.txt" || t_fail "chattering"
grep -q -E '^ *time to acknowledge: mean \(s\) +90\.0' "$T/r.txt" || t_fail "time to acknowledge"
grep -q -E '^ *1 overload +oven +high +12' "$T/r.txt" || t_fail "top alarm"
grep -q 'MAPE ' "$T/r.txt" || t_fail "the stored forecast is not reported"
t_ok "alarm raises by priority equal the journal's ($want), flood, standing, chattering, acks, top ten"

# PNG: one per PDF page at the documented size
"$PHASOR" report --db "$db" --from $FROM --to $TO -o "$out/p.png" >"$T/p.log" 2>&1 ||
	t_fail "PNG report failed: $(cat "$T/p.log")"
n=$(ls "$out"/p-*.png | wc -l)
[ "$n" -eq "$pages" ] || t_fail "$n PNG pages for $pages PDF pages"
for f in "$out"/p-*.png; do
	file "$f" | grep -q 'PNG image data, 1240 x 1754' || t_fail "$(file "$f")"
done
t_ok "PNG: $n pages of 1240 x 1754"

# a shorter report of the same name: the earlier one's later pages go
touch "$out/p-$((n + 1)).png" "$out/p-$((n + 2)).png" "$out/p-x.png"
"$PHASOR" report --db "$db" --from $FROM --to $TO -o "$out/p.png" >"$T/p.log" 2>&1 ||
	t_fail "PNG report again failed: $(cat "$T/p.log")"
[ "$(ls "$out"/p-[0-9]*.png | wc -l)" -eq "$n" ] ||
	t_fail "stale pages kept: $(ls "$out"/p-*.png | tr '\n' ' ')"
[ -f "$out/p-x.png" ] || t_fail "a file not of the report's pages was removed"
rm -f "$out/p-x.png"
t_ok "a report over an earlier, longer one of the same name leaves only its own $n pages"

# deterministic: the same again is byte-identical; another creation time only differs there
"$PHASOR" report --db "$db" --from $FROM --to $TO -o "$out/s.pdf" 2>/dev/null || t_fail "run 2"
cmp -s "$out/r.pdf" "$out/s.pdf" || t_fail "two runs with the same SOURCE_DATE_EPOCH differ"
"$PHASOR" report --db "$db" --from $FROM --to $TO -o "$out/p2.png" 2>/dev/null || t_fail "run 2 PNG"
cmp -s "$out/p-1.png" "$out/p2-1.png" || t_fail "two PNG runs differ"
SOURCE_DATE_EPOCH=1796200000 "$PHASOR" report --db "$db" --from $FROM --to $TO -o "$out/u.pdf" \
	2>/dev/null || t_fail "run 3"
pdftotext -layout "$out/u.pdf" "$T/u.txt"
diff "$T/r.txt" "$T/u.txt" | grep '^[<>]' | grep -v -E '^[<>] Made 2026-12-0[0-9] [0-9:]+ by phasor' &&
	t_fail "another creation time changes more than the 'Made' line"
pdfinfo "$out/u.pdf" | diff - "$T/info" | grep '^[<>]' | grep -v -E '^[<>] (CreationDate|File size):' &&
	t_fail "another creation time changes more than the creation date in pdfinfo"
t_ok "the same report twice is byte-identical (PDF, PNG); another creation time differs only there"

# --meter: the site is the chosen meters' sum
"$PHASOR" report --db "$db" --from $FROM --to $TO --meter press --meter oven -o "$out/m.pdf" \
	2>"$T/m.log" || t_fail "--meter: $(cat "$T/m.log")"
pdftotext -layout "$out/m.pdf" "$T/m.txt"
want=$(awk -v a="$(kwh press $D0 $((D0 + 3 * 86400)))" -v b="$(kwh oven $D0 $((D0 + 3 * 86400)))" \
	'BEGIN { printf "%.3f", a + b }')
grep -q -E "^ *energy +$want kWh" "$T/m.txt" || t_fail "--meter press --meter oven: want $want kWh"
grep -q 'Meters: 2;' "$T/m.txt" || t_fail "--meter: not 2 meters"
t_ok "--meter press --meter oven: the site is their sum ($want kWh)"

# -c without shifts: outside production hours are the nights 22-06 (no weekend here)
printf '[site]\nname = Night test\ntimezone = UTC\nprice_per_kwh = 0.1\n[meter incomer]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\naggregate = yes\n[meter press]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nunit = 2\n[meter oven]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nunit = 3\n' >"$T/n.ini"
"$PHASOR" report --db "$db" --from $FROM --to $TO -c "$T/n.ini" -o "$out/n.pdf" 2>"$T/n.log" ||
	t_fail "-c: $(cat "$T/n.log")"
pdftotext -layout "$out/n.pdf" "$T/n.txt"
want=0
for d in 0 1 2; do
	a=$((D0 + d * 86400))
	want=$(awk -v s="$want" -v x="$(kwh incomer $a $((a + 6 * 3600)))" \
		-v y="$(kwh incomer $((a + 22 * 3600)) $((a + 86400)))" 'BEGIN { printf "%.3f", s + x + y }')
done
grep -q -E "^ *outside production: energy +$want kWh" "$T/n.txt" ||
	t_fail "standby: want $want kWh; $(grep 'outside production: energy' "$T/n.txt")"
grep -q 'Night test' "$T/n.txt" || t_fail "-c's site name is not used"
t_ok "-c without shifts: the standby energy of the nights equals the counter's ($want kWh)"

"$TOOLS/repbuf" "$T/nf.db" noforecast >/dev/null 2>&1 || t_fail "repbuf noforecast"
"$PHASOR" report --db "$T/nf.db" --from $FROM --to $TO -o "$out/nf.pdf" 2>/dev/null || t_fail "nf"
pdftotext -layout "$out/nf.pdf" - | grep -q 'no forecast stored' || t_fail "no 'no forecast stored'"
t_ok "a buffer without forecasts: 'no forecast stored'"

# bad input: exit 2, the message, no file left
rm -rf "$out"
mkdir "$out"
bad() { # MESSAGE ARGS...: exit 2 with MESSAGE on stderr and nothing in $out
	local msg=$1 rc=0
	shift
	"$PHASOR" report "$@" >"$T/bad.log" 2>&1 || rc=$?
	[ $rc -eq 2 ] || t_fail "$* exits $rc, not 2: $(cat "$T/bad.log")"
	grep -q -- "$msg" "$T/bad.log" || t_fail "$*: no '$msg' in: $(cat "$T/bad.log")"
	[ -z "$(ls -A "$out")" ] || t_fail "$* left $(ls -A "$out")"
}
bad 'empty range' --db "$db" --from $FROM --to $FROM -o "$out/r.pdf"
bad 'empty range' --db "$db" --from $TO --to $FROM -o "$out/r.pdf"
bad 'outside the buffer' --db "$db" --from 2020-01-01T00:00:00Z --to 2020-01-02T00:00:00Z -o "$out/r.pdf"
bad "no such meter in $db: 'ovn' (did you mean 'oven'?)" --db "$db" --from $FROM --to $TO --meter ovn -o "$out/r.pdf"
bad 'cannot write /nonexistent/r.pdf' --db "$db" --from $FROM --to $TO -o /nonexistent/r.pdf
bad 'cannot write /nonexistent/r.csv' --db "$db" --from $FROM --to $TO -o "$out/r.pdf" --csv /nonexistent/r.csv
bad 'unknown output extension' --db "$db" --from $FROM --to $TO -o "$out/r.txt"
bad "'yesterdy' is not a time" --db "$db" --from yesterdy --to $TO -o "$out/r.pdf"
bad 'are required' --db "$db" --from $FROM --to $TO
if [ "$(id -u)" -ne 0 ]; then
	chmod 555 "$out"
	bad "cannot write $out/r.pdf" --db "$db" --from $FROM --to $TO -o "$out/r.pdf"
	chmod 755 "$out"
fi
t_ok "bad input (empty range, outside the buffer, unknown meter, unwritable, extension, time): exit 2, no file"
