#!/bin/bash
# SPDX-License-Identifier: MIT
# `phasor export --every DUR` (issue 12 item 5) on a buffer with known
# samples: the mean of the good samples per interval, a counter's rise in
# each interval (from the interval before, a reset bridged), an interval of
# bad samples only, intervals on the local day (TZ), the contract's CSV and
# JSON lines, --meter/--quantity/--from with it, and a refused DUR. Then a
# recording of the simulator: the rises of e_imp per 15 min add up to the
# counter's rises between consecutive samples computed here from the plain
# export (no gap, no reset in it).
. "$(dirname "$0")/lib.sh"

export PHASOR_PROFILES="${PHASOR_PROFILES:-$(cd "$(dirname "$0")/../.." && pwd)/conf/profiles}"
export TZ=UTC
t_sim --meters 1 --seed 3
db="$T/e.db"
printf '[store]\npath = %s\ncommit_interval = 200ms\n[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = %d\nunit = 1\npoll_ms = 200\n' \
	"$db" "$SIM_PORT" >"$T/e.ini"
"$PHASOR" record -c "$T/e.ini" --for 4 >"$T/rec.log" 2>&1 || t_fail "record failed: $(tail -3 "$T/rec.log")"
t_stop "$SIM_PID"

# The recording: e_imp per 15 min against the rises computed from the rows.
"$PHASOR" export --db "$db" --meter m1 --quantity e_imp >"$T/raw.csv" || t_fail "export failed"
rows=$(($(wc -l <"$T/raw.csv") - 1))
[ "$rows" -ge 10 ] || t_fail "only $rows e_imp rows recorded"
want=$(awk -F, 'NR > 1 && $6 == "good" { v = $4 + 0; if (n++) s += v - last; last = v }
	END { printf "%.6f", s }' "$T/raw.csv")
"$PHASOR" export --db "$db" --meter m1 --quantity e_imp --every 15m >"$T/rec15.csv" ||
	t_fail "export --every failed"
got=$(awk -F, 'NR > 1 { s += $4 } END { printf "%.6f", s }' "$T/rec15.csv")
awk -v a="$want" -v b="$got" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d <= 1e-6 * a) }' ||
	t_fail "e_imp per 15 min adds up to $got Wh, the rises between samples to $want Wh"
t_ok "recording: e_imp per 15 min adds up to the rises between its $rows samples ($got Wh)"

# Known samples, after the recording's (its last seq goes on).
base=1764547200000000 # 2025-12-01T00:00:00Z
P=$(t_sql "$db" "SELECT id FROM quantities WHERE name = 'p_total'")
E=$(t_sql "$db" "SELECT id FROM quantities WHERE name = 'e_imp'")
[ -n "$P" ] && [ -n "$E" ] || t_fail "no p_total or e_imp in the quantities table"
t_sql "$db" "INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality, session_id)
	SELECT (SELECT max(seq) FROM samples) + n, $base + t * 60000000, 1, q, v, g, 1 FROM (
	SELECT 1 n, 1 t, $P q, 100.0 v, 0 g UNION ALL   -- p_total: 100 and 200, a bad one
	SELECT 2, 14, $P, 200.0, 0 UNION ALL
	SELECT 3, 14, $P, 9999.0, 1 UNION ALL
	SELECT 4, 1, $E, 1000.0, 0 UNION ALL           -- e_imp: 1000 -> 1010
	SELECT 5, 14, $E, 1010.0, 0 UNION ALL
	SELECT 6, 16, $E, 1030.0, 0 UNION ALL          -- 20, a reset to 5, 3
	SELECT 7, 20, $E, 5.0, 0 UNION ALL
	SELECT 8, 25, $E, 8.0, 0 UNION ALL
	SELECT 9, 31, $P, 7.0, 1);                      -- p_total: bad only
	UPDATE meta SET value = (SELECT max(seq) FROM samples) WHERE key = 'samples.last_seq';" ||
	t_fail "cannot add the known samples"
"$PHASOR" export --db "$db" --from 2025-12-01T00:00:00Z --to 2025-12-02T00:00:00Z --every 15m \
	>"$T/k.csv" 2>"$T/k.err"
t_eq "export --every 15m: exit" 0 "$?"
t_eq "export --every 15m" "time,meter,quantity,value,unit,quality
2025-12-01T00:00:00.000Z,m1,p_total,150,W,good
2025-12-01T00:00:00.000Z,m1,e_imp,10,Wh,good
2025-12-01T00:15:00.000Z,m1,e_imp,23,Wh,good
2025-12-01T00:30:00.000Z,m1,p_total,nan,W,bad" "$(cat "$T/k.csv")"
"$PHASOR" export --db "$db" --from 2025-12-01T00:00:00Z --to 2025-12-02T00:00:00Z --every 1d \
	--quantity e_imp --format jsonl >"$T/d.jsonl"
t_eq "export --every 1d --quantity e_imp --format jsonl" \
	'{"time":"2025-12-01T00:00:00.000Z","meter":"m1","quantity":"e_imp","value":33,"unit":"Wh","quality":"good"}' \
	"$(cat "$T/d.jsonl")"
# A time zone one hour east: the local day starts at 23:00Z the day before.
TZ=Etc/GMT-1 "$PHASOR" export --db "$db" --from 2025-12-01T00:00:00Z --to 2025-12-02T00:00:00Z \
	--every 1d --meter m1 --quantity p_total >"$T/tz.csv"
t_eq "export --every 1d in UTC+1" "time,meter,quantity,value,unit,quality
2025-11-30T23:00:00.000Z,m1,p_total,150,W,good" "$(cat "$T/tz.csv")"
t_ok "known samples: means, rises with a reset bridged, bad-only interval, local days"

"$PHASOR" export --db "$db" --every 7m >"$T/bad.out" 2>"$T/bad.err"
t_eq "--every 7m: exit" 2 "$?"
t_eq "--every 7m: message" "phasor export: --every 7m: not a duration that divides a day (1s to 1d: 1m, 15m, 1h, 1d, ...)" \
	"$(cat "$T/bad.err")"
t_eq "--every 7m: nothing printed" 0 "$(wc -c <"$T/bad.out")"
"$PHASOR" alarms --db "$db" --every 1h >/dev/null 2>"$T/al.err"
t_eq "alarms --every: exit" 2 "$?"
for f in "$T"/*.err "$T/rec.log"; do
	t_no_sanitizer_errors "$f"
done
t_log "ok"
