#!/bin/bash
# SPDX-License-Identifier: MIT
# The terminal goes away under the console (the SSH connection drops, the
# tmux server dies): the console stops by itself, closes its session in the
# buffer, and takes the demo's simulator with it. It must never keep
# running (let alone spinning) without a terminal.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/run"
t_tmux_start hup 100 30 env XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run" LANG=C.UTF-8 \
	TERM=xterm-256color "$PHASOR" --demo
t_tmux_wait hup 30 "hvac-roof|paint-line" || t_fail "the console never drew"
pid=$(pgrep -f "$PHASOR --demo" | head -1)
[ -n "$pid" ] || t_fail "no console process"
port=$(pgrep -af "sim --modbus 127.0.0.1:" | grep -o '127.0.0.1:[0-9]*' | head -1)
tmux -S "$TMUX_SOCK" kill-server
for _ in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
	ps -o pid,stat,pcpu,cmd -p "$pid" >&2
	kill -9 "$pid"
	t_fail "the console kept running after its terminal went away"
fi
t_ok "the console stopped when its terminal went away"
sleep 1
if [ -n "$port" ] && pgrep -f "sim --modbus $port" >/dev/null; then
	pkill -f "sim --modbus $port"
	t_fail "the demo's simulator outlived the console"
fi
t_eq "open sessions left in the buffer" 0 \
	"$(t_sql "$T/state/phasor/demo.db" "SELECT count(*) FROM sessions WHERE end_us IS NULL")"
