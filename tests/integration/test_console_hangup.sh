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
# This test's processes only (other tests and sessions may run demos too):
# the console is the child of the pane's shell, the simulator its child.
shell=$(tmux -S "$TMUX_SOCK" display-message -p -t "=hup:" '#{pane_pid}')
pid=$(pgrep -P "$shell" -f "phasor --demo" | head -1)
[ -n "$pid" ] || t_fail "no console process"
sim=$(pgrep -P "$pid" -f "sim --modbus" | head -1)
[ -n "$sim" ] || t_fail "no simulator under the console"
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
if kill -0 "$sim" 2>/dev/null; then
	kill "$sim"
	t_fail "the demo's simulator outlived the console"
fi
t_eq "open sessions left in the buffer" 0 \
	"$(t_sql "$T/state/phasor/demo.db" "SELECT count(*) FROM sessions WHERE end_us IS NULL")"
