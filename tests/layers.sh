#!/bin/sh
# SPDX-License-Identifier: MIT
# Which layer may include what (docs/architecture.md, "Source tree").
# src/LAYER/*.c are the modules; include/phasor/NAME.h belongs to the layer
# of src/*/NAME.c (the few headers with no module are listed below). Prints
# every breach and exits 1 when there is one. With COUNTS set, appends
# "PASSED FAILED".
#
# Layers and what each may include besides itself:
#   base         -
#   model        base
#   plant        base model                 (pure: no I/O, time passed in)
#   sim          base model
#   acquisition  base model
#   store        base model
#   sync         base model store
#   feed         base model plant acquisition store sync
#   console      base model plant feed      (draws the plant, drives a feed)
#   cmd          everything
# Libraries:
# - libpq (libpq-fe.h): only the sync; SQLite (sqlite3.h): only the store;
# - libmodbus and paho: only their source and the simulator (cmd_sim.c);
# - ncurses: only the console; cairo: only the report's drawing (report_draw.c);
# - protobuf-c and the generated Sparkplug B code: only sparkplug.c;
# - the views and the frame read the plant (plant.h) only: no call or type
#   of the hub, the store or the sync, and no clock (a replay shows another
#   instant than the wall clock's).
cd "$(dirname "$0")/.." || exit 2
fail=0
LAYERS="base model plant sim acquisition store sync feed console cmd"

breach() {
	echo "layers: $1"
	fail=1
}

allowed() { # LAYER: the layers it may include
	case $1 in
	base) echo base ;;
	model) echo base model ;;
	plant) echo base model plant ;;
	sim) echo base model sim ;;
	acquisition) echo base model acquisition ;;
	store) echo base model store ;;
	sync) echo base model store sync ;;
	feed) echo base model plant acquisition store sync feed ;;
	console) echo base model plant feed console ;;
	cmd) echo "$LAYERS" ;;
	esac
}

# header_layer NAME: the layer of include/phasor/NAME.h
header_layer() {
	case $1 in
	alarmrow | comm) echo base ;; # plain data shared by several layers
	cmd) echo cmd ;;
	view) echo console ;;
	*)
		for l in $LAYERS; do
			[ -f "src/$l/$1.c" ] && echo "$l" && return
		done
		echo none
		;;
	esac
}

for f in src/*.c; do
	[ -f "$f" ] && breach "$f is in no layer (put it in src/LAYER/)"
done
for d in src/*/; do
	l=$(basename "$d")
	case " $LAYERS " in *" $l "*) ;; *) breach "src/$l is not a layer" ;; esac
done

# check FILE LAYER: its phasor includes are allowed for LAYER
check() {
	ok=" $(allowed "$2") "
	for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"phasor\/\([a-z_0-9]*\)\.h".*/\1/p' "$1"); do
		hl=$(header_layer "$h")
		case "$ok" in
		*" $hl "*) ;;
		*) breach "$1 ($2) includes phasor/$h.h ($hl)" ;;
		esac
	done
}
for l in $LAYERS; do
	for f in src/"$l"/*.c; do
		[ -f "$f" ] && check "$f" "$l"
	done
done
for f in include/phasor/*.h; do
	n=$(basename "$f" .h)
	hl=$(header_layer "$n")
	[ "$hl" = none ] && breach "$f belongs to no module (add it to header_layer)" && continue
	check "$f" "$hl"
done

# includers FILE-GLOB HEADER-REGEX: files that include a matching header
includers() {
	grep -l -E "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($2)[>\"]" $1 2>/dev/null | sort
}
only() { # HEADER-REGEX WHAT ALLOWED...
	re=$1
	what=$2
	shift 2
	for f in $(includers "src/*/*.c include/phasor/*.h" "$re"); do
		ok=0
		for a in "$@"; do
			case "$f" in $a) ok=1 ;; esac
		done
		[ $ok -eq 1 ] || breach "$f includes $what"
	done
}
only 'libpq-fe\.h' libpq 'src/sync/*'
only 'sqlite3\.h' SQLite 'src/store/*'
only 'modbus\.h|modbus/modbus\.h' libmodbus src/acquisition/source_modbus.c src/cmd/cmd_sim.c
only 'MQTTAsync\.h|MQTTClient\.h' paho src/acquisition/source_mqtt.c src/cmd/cmd_sim.c
only 'n?curses\.h|ncursesw/curses\.h' ncurses 'src/console/*' include/phasor/draw.h
only 'cairo(-pdf)?\.h|cairo/cairo(-pdf)?\.h' cairo src/cmd/report_draw.c
only 'protobuf-c/protobuf-c\.h|[a-z_]*\.pb-c\.h' protobuf-c src/acquisition/sparkplug.c

# The views and the frame: what they show comes from the plant.
for f in src/console/view_*.c src/console/frame.c; do
	[ -f "$f" ] || continue
	for n in $(grep -n -E '\bhub_|\bstore_|\bsync_|util_now_us|time\(NULL\)|clock_gettime' "$f" |
		cut -d: -f1); do
		breach "$f:$n reads the hub, the store, the sync or the clock, not the plant"
	done
done

if [ $fail -eq 0 ]; then
	echo "layers ok"
	[ -n "${COUNTS:-}" ] && echo "1 0" >>"$COUNTS"
else
	[ -n "${COUNTS:-}" ] && echo "0 1" >>"$COUNTS"
fi
exit $fail
