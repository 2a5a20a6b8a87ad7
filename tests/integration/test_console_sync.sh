#!/bin/bash
# SPDX-License-Identifier: MIT
# The console shows the sync: the sources view's "Central database" section
# (connected, backlog, rate, last error) and the status bar segment
# ("db ok 0" / "db down N"), at 80x24 in ASCII; the server stops: both say
# down and the backlog grows; it comes back: connected again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

t_postgres
t_sim --meters 3 --seed 6
SYNC_INTERVAL=500ms POLL_MS=500 sync_config "$T/c.ini" "$T/c.db"
t_tmux_start con 100 50 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini" --ascii
t_tmux_wait con 20 "m3" || t_fail "the console never showed the meters"
t_tmux_keys con 5
t_tmux_wait con 5 "\[5 Sources\]" || t_fail "5 did not open the sources view"
t_tmux_wait con 15 "Central database .*connected" || t_fail "the sources view never showed the database connected"
t_tmux_wait con 10 "forwarded [1-9]" || t_fail "nothing forwarded shown"
pane=$(t_tmux_capture con)
echo "$pane" | grep -Eq "backlog [0-9]+ rows" || t_fail "no backlog in the sources view"
echo "$pane" | grep -Eq "rate [0-9]+ rows/s" || t_fail "no rate in the sources view"
echo "$pane" | grep -Eq " db ok [0-9]+ " || t_fail "no 'db ok' in the status bar"
t_ok "sources view and status bar: connected"

t_pg_stop fast
t_tmux_wait con 15 "Central database +.*down" || t_fail "the sources view never showed the database down"
t_tmux_wait con 10 "last error" || t_fail "no last error shown"
t_tmux_wait con 10 " db down [1-9][0-9]* " || t_fail "no 'db down N' in the status bar"
t_tmux_resize con 80 24
sleep 1
t_tmux_capture con >"$T/80x24.txt"
grep -Eq " db down [0-9]+" "$T/80x24.txt" || t_fail "the status bar segment does not fit at 80x24: $(tail -1 "$T/80x24.txt")"
[ "$(LC_ALL=C.UTF-8 wc -L <"$T/80x24.txt")" -le 80 ] || t_fail "a line wider than 80 columns"
t_ok "server down: shown in the view and the status bar (80x24)"
t_tmux_resize con 100 50
t_pg_start
t_tmux_wait con 15 "Central database .*connected" || t_fail "never connected again"
t_tmux_quit con
t_tmux_wait_exit con 15 >/dev/null || t_fail "the console did not quit"
t_ok "connected again after the restart; q quits"
