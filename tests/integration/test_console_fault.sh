#!/bin/bash
# SPDX-License-Identifier: MIT
# A simulator unit stops answering: the console shows that meter down
# within three poll periods, the others stay ok; stale data never shows as
# live.
. "$(dirname "$0")/lib.sh"

t_sim --meters 3 --seed 8 --fault timeout:2@8
{
	printf '[store]\npath = %s/b.db\n' "$T"
	for u in 1 2 3; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 1000\ntimeout_ms = 300\n' "$SIM_PORT" "$u"
	done
} >"$T/c.ini"
start=$(date +%s%N)
t_tmux_start con 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait con 20 "m2 .*ok" || t_fail "m2 never ok"
# The fault starts 8 s after the simulator; wait for 'down' on m2's row.
t_tmux_wait con 30 "m2 .*down" || t_fail "m2 never shown down"
down=$(date +%s%N)
fault_at=$(( start / 1000000 + 8000 ))
ms=$(( down / 1000000 - fault_at ))
t_log "m2 shown down ${ms} ms after the fault began"
# Three poll periods (3 s) plus the timeout, the refresh and tmux's sampling.
[ "$ms" -le 6000 ] || t_fail "m2 took ${ms} ms to show down (three periods are 3000 ms)"
pane=$(t_tmux_capture con)
echo "$pane" | grep -Eq "m1 .*ok" || t_fail "m1 is not ok while m2 is down"
echo "$pane" | grep -Eq "m3 .*ok" || t_fail "m3 is not ok while m2 is down"
echo "$pane" | grep -E "m2 " | grep -Eq "ok" && t_fail "m2's row still says ok"
t_ok "m2 down, m1 and m3 ok"
t_tmux_quit con
t_tmux_wait_exit con 20 >/dev/null || t_fail "did not quit"
