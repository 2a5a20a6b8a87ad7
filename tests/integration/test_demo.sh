#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor --demo needs no config and no service: it starts the simulator
# (and a private mosquitto), acquires through the real sources into a
# per-user buffer, and leaves nothing behind when it stops.
. "$(dirname "$0")/lib.sh"

export XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run"
mkdir -p "$XDG_RUNTIME_DIR"
"$PHASOR" --demo --for 8 >"$T/demo.out" 2>"$T/demo.err" || t_fail "--demo exited $?"
t_no_sanitizer_errors "$T/demo.err"
last=$(awk '/^meter /{ block = "" } { block = block $0 "\n" } END { printf "%s", block }' "$T/demo.out")
t_log "last table:"
printf '%s' "$last"
for m in tgbt-main oven-cataphoresis furnace-foundry compressor-air paint-line press-3 hvac-roof; do
	printf '%s' "$last" | grep -Eq "^$m +ok +[0-9]" || t_fail "$m is not ok with a power value"
done
t_ok "7 demo meters ok (5 Modbus, 2 MQTT)"
db="$XDG_STATE_HOME/phasor/demo.db"
[ -f "$db" ] || t_fail "no per-user buffer at $db"
n=$(t_sql "$db" "SELECT count(DISTINCT meter_id) FROM samples")
t_eq "meters with samples in the buffer" 7 "$n"
t_eq "session mode" demo "$(t_sql "$db" "SELECT mode FROM sessions")"
# Nothing left running or lying around.
sleep 0.5
left=$(ls -A "$XDG_RUNTIME_DIR")
t_eq "runtime files left" "" "$left"
port=$(grep -o 'simulator on 127.0.0.1:[0-9]*' "$T/demo.out" | grep -o '[0-9]*$')
[ -n "$port" ] || t_fail "the demo did not say where the simulator listens"
if pgrep -f "sim --modbus 127.0.0.1:$port" >/dev/null; then t_fail "simulator left running"; fi
if t_port_open "$port"; then t_fail "something still listens on the simulator's port $port"; fi
grep -q $'\x1b' "$T/demo.out" && t_fail "escape sequences in the text output"
t_ok "clean stop"
