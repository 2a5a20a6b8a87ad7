#!/bin/sh
# SPDX-License-Identifier: MIT
# Which layer may include what (docs/architecture.md, "Modules"). Reads the
# #include lines of src/*.c and include/phasor/*.h; prints every breach and
# exits 1 when there is one. With COUNTS set, appends "PASSED FAILED".
#
# - libpq (libpq-fe.h): only the sync.
# - SQLite (sqlite3.h): only the store (store.c, and store_sync.c, the
#   sync's access to the store's tables: the store owns every table of its
#   file).
# - libmodbus and paho: only their source and the simulator.
# - ncurses (curses.h, or draw.h which includes it): only the console.
# - no shared header includes any of these libraries;
# - the plant layer (live, analysis, alarm, kpi) includes no acquisition,
#   store, sync, hub, feed or console header: what it shares with them is
#   plain data in base headers (comm.h: the comm state; alarmrow.h: a
#   journal row), and the KPI reads the buffer through the kpi_day_ops it
#   is given;
# - the views and the frame read the plant (plant.h) only: no call or type
#   of the hub, the store or the sync, and no clock (a replay shows another
#   instant than the wall clock's).
cd "$(dirname "$0")/.." || exit 2
fail=0

breach() {
	echo "layers: $1"
	fail=1
}

# includers FILE-GLOB HEADER-REGEX: files that include a matching header
includers() {
	grep -l -E "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)[>\"]" $1 2>/dev/null | sort
}

only() { # HEADER-REGEX WHAT ALLOWED...
	re=$1
	what=$2
	shift 2
	for f in $(includers "src/*.c include/phasor/*.h" "$re"); do
		ok=0
		for a in "$@"; do
			case "$f" in $a) ok=1 ;; esac
		done
		[ $ok -eq 1 ] || breach "$f includes $what"
	done
}

only 'libpq-fe\.h' libpq src/sync.c
only 'sqlite3\.h' SQLite src/store.c src/store_sync.c
only 'modbus\.h|modbus/modbus\.h' libmodbus src/source_modbus.c src/cmd_sim.c
only 'MQTTAsync\.h|MQTTClient\.h' paho src/source_mqtt.c src/cmd_sim.c
CONSOLE="src/ui.c src/draw.c src/theme.c src/view_*.c src/frame.c src/listw.c src/keys.c src/cmd_console.c
src/demo.c include/phasor/draw.h include/phasor/ui.h include/phasor/view.h include/phasor/frame.h"
# shellcheck disable=SC2086
only 'n?curses\.h|ncursesw/curses\.h' ncurses $CONSOLE
# shellcheck disable=SC2086
only 'phasor/(draw|ui|view|frame)\.h' 'the console layer (ncurses)' $CONSOLE

# The views and the frame: what they show comes from the plant.
for f in src/view_*.c src/frame.c; do
	[ -f "$f" ] || continue
	for n in $(grep -n -E '\bhub_|\bstore_|\bsync_|util_now_us|time\(NULL\)|clock_gettime' "$f" |
		cut -d: -f1); do
		breach "$f:$n reads the hub, the store, the sync or the clock, not the plant"
	done
done

for f in src/live.c src/analysis.c src/alarm.c src/kpi.c include/phasor/live.h \
	include/phasor/analysis.h include/phasor/alarm.h include/phasor/kpi.h; do
	for h in $(grep -o -E '#include "phasor/(source|source_[a-z]+|store|store_[a-z]+|sync|hub|follow|reclock|status|ui|view|draw)\.h"' "$f" |
		sed 's/#include "//; s/"$//'); do
		breach "$f (plant layer) includes $h"
	done
done

if [ $fail -eq 0 ]; then
	echo "layers ok"
	[ -n "${COUNTS:-}" ] && echo "1 0" >>"$COUNTS"
else
	[ -n "${COUNTS:-}" ] && echo "0 1" >>"$COUNTS"
fi
exit $fail
