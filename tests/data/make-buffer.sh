#!/bin/bash
# SPDX-License-Identifier: MIT
# How tests/data/buffer-vV.sql are made: a phasor that writes buffer schema V
# (V=3: commit de753ee, or anything up to fefeee0; V=5: commit 1f058bf) records
# 9 s of the simulator, 2 meters, unit 2 timing out from 2 s to 6 s (ok -> stale -> down -> ok),
# and the buffer is dumped as SQL. `sqlite3 .dump` keeps neither
# application_id nor user_version, so they are appended. test_store.c
# (test_migrate_real_vV) loads the dump and opens it with the current store.
#   V=3 OLD=/path/to/old/phasor TOOLS=build/tools bash tests/data/make-buffer.sh > tests/data/buffer-v3.sql
set -eu
: "${V:?V must name the schema version}"
: "${OLD:?OLD must name a phasor binary that writes schema $V}"
: "${TOOLS:?TOOLS must name build/tools}"
d=$(mktemp -d /tmp/phasor-v$V.XXXXXX)
trap 'kill $sim 2>/dev/null; rm -rf "$d"' EXIT
port=$("$TOOLS/freeport")
"$OLD" sim --modbus "127.0.0.1:$port" --meters 2 --seed 3 --fault timeout:2@2+4 >"$d/sim.log" 2>&1 &
sim=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
{
	printf '[site]\nname = v%s fixture\n[store]\npath = %s/buffer.db\ncommit_interval = 200ms\n' "$V" "$d"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 1000\ntimeout_ms = 300\n' "$port" "$u"
	done
} >"$d/phasor.ini"
"$OLD" record -c "$d/phasor.ini" --for 9 >"$d/record.log" 2>&1
[ "$(sqlite3 "$d/buffer.db" 'PRAGMA user_version')" = "$V" ] || { echo "not schema $V" >&2; exit 1; }
echo "-- A buffer of schema version $V, written by $("$OLD" --version) (tests/data/make-buffer.sh, V=$V)."
sqlite3 "$d/buffer.db" .dump
echo "PRAGMA application_id = 1346917202;"
echo "PRAGMA user_version = $V;"
