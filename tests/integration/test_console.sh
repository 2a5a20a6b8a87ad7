#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor --demo in a real terminal (tmux, 120x40): the demo meters are
# listed, Enter opens the detail with L1/L2/L3 gauges and a PF tier, Tab and
# the number keys switch views, resizing to 80x24 and 60x20 behaves, q quits
# cleanly and leaves nothing running.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/run"
t_tmux_start demo 120 40 env XDG_STATE_HOME="$T/state" XDG_RUNTIME_DIR="$T/run" \
	LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" --demo
t_tmux_wait demo 30 "hvac-roof" || t_fail "the demo meters never showed up"
for m in tgbt-main oven-cataphoresis furnace-foundry compressor-air paint-line press-3 hvac-roof; do
	t_tmux_capture demo | grep -q "$m" || t_fail "$m is not listed"
done
t_tmux_wait demo 20 "(tgbt-main).*ok" || t_fail "the main board never showed ok"
t_ok "overview lists the 7 demo meters"
t_tmux_capture demo >"$T/overview.txt"

# Enter: the selected (first) meter's detail, with per-phase gauges and a PF tier.
t_tmux_keys demo Enter
t_tmux_wait demo 5 "\[2 Meter\]" || t_fail "Enter did not open the meter view"
t_tmux_wait demo 5 "L1" || t_fail "no L1"
pane=$(t_tmux_capture demo)
for p in L1 L2 L3; do echo "$pane" | grep -q "$p" || t_fail "no $p gauge"; done
echo "$pane" | grep -Eq "excellent|good|acceptable|poor|critical" || t_fail "no PF tier word"
echo "$pane" | grep -q "tgbt-main" || t_fail "the detail is not the selected meter's"
t_ok "meter detail: L1/L2/L3 and a PF tier"
echo "$pane" >"$T/meter.txt"

# Tab and the number keys switch views.
t_tmux_keys demo Tab
t_tmux_wait demo 5 "\[3 Alarms\]" || t_fail "Tab did not go to the alarms view"
t_tmux_keys demo BTab
t_tmux_wait demo 5 "\[2 Meter\]" || t_fail "Shift-Tab did not go back"
t_tmux_keys demo 5
t_tmux_wait demo 5 "\[5 Sources\]" || t_fail "5 did not open the sources view"
t_tmux_wait demo 5 "127\.0\.0\.1:[0-9]+" || t_fail "the sources view shows no endpoint"
t_tmux_wait demo 5 "journal slot [0-9] +written [0-9]+" ||
	t_fail "the sources view does not show the MQTT intake journal: $(t_tmux_capture demo | grep -A3 tcp://)"
t_tmux_keys demo 4
t_tmux_wait demo 5 "\[4 Trends\]" || t_fail "4 did not open trends"
t_tmux_keys demo 1
t_tmux_wait demo 5 "\[1 Overview\]" || t_fail "1 did not come back to the overview"
t_ok "Tab, Shift-Tab and 1..5 switch views"

# Help overlay.
t_tmux_keys demo '?'
t_tmux_wait demo 5 "Help" || t_fail "? shows no help"
t_tmux_keys demo x
t_tmux_wait demo 5 "hvac-roof" || t_fail "a key did not close the help"

# 80x24: still everything on screen; 60x20: a clear message; back again.
t_tmux_resize demo 80 24
sleep 1.5
t_tmux_wait demo 5 "hvac-roof" || t_fail "at 80x24 the meters do not fit"
t_tmux_capture demo >"$T/overview-80x24.txt"
[ "$(wc -l <"$T/overview-80x24.txt")" -le 24 ] || t_fail "more than 24 lines at 80x24"
[ "$(LC_ALL=C.UTF-8 wc -L <"$T/overview-80x24.txt")" -le 80 ] || t_fail "a line wider than 80 columns"
t_ok "80x24 fits"
t_tmux_resize demo 60 20
t_tmux_wait demo 5 "too small" || t_fail "no 'too small' screen at 60x20"
t_tmux_resize demo 120 40
t_tmux_wait demo 5 "hvac-roof" || t_fail "the overview did not come back after growing"
t_ok "resizing behaves"

t_tmux_quit demo
rc=$(t_tmux_wait_exit demo 20) || t_fail "q did not quit"
t_eq "exit status" 0 "$rc"
sleep 0.5
t_eq "runtime files left" "" "$(ls -A "$T/run")"
echo "---- overview at 120x40:"; cat "$T/overview.txt"
