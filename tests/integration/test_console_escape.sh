#!/bin/bash
# SPDX-License-Identifier: MIT
# Strings that did not come from phasor never reach the terminal raw: a
# meter description with an escape sequence, a name with a bidi override.
. "$(dirname "$0")/lib.sh"

t_sim --meters 1 --seed 2
esc=$(printf '\033]0;pwned\007\033[31mRED')
rlo=$(printf '\342\200\256')
cat >"$T/c.ini" <<EOC
[store]
path = $T/b.db
[meter evil${rlo}name]
driver = modbus
profile = pac3200
host = 127.0.0.1
port = $SIM_PORT
unit = 1
description = hostile ${esc} text
EOC
if ! "$PHASOR" check-config -c "$T/c.ini" >"$T/check.log" 2>&1; then
	# Refusing control characters in the file is fine too: then the name
	# test still runs with the description removed.
	grep -v '^description' "$T/c.ini" >"$T/c2.ini" && mv "$T/c2.ini" "$T/c.ini"
	t_log "check-config refused the description: $(head -1 "$T/check.log")"
fi
t_tmux_start con 200 60 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait con 20 "evil.*ok" || t_fail "the meter never showed"
title=$(tmux -S "$TMUX_SOCK" display-message -p -t con '#{pane_title}')
case "$title" in *pwned*) t_fail "the description set the terminal title" ;; esac
t_tmux_capture con -e >"$T/pane.esc"
grep -q $'\x1b\\]' "$T/pane.esc" && t_fail "an OSC sequence reached the terminal"
t_tmux_capture con >"$T/pane.txt"
grep -q "$rlo" "$T/pane.txt" && t_fail "the bidi override reached the terminal"
t_tmux_keys con 2
t_tmux_wait con 5 "L1" || t_fail "no meter view"
grep -q "$rlo" <(t_tmux_capture con) && t_fail "the bidi override reached the meter view"
t_ok "escape sequences and bidi overrides are neutralised"
t_tmux_keys con q
t_tmux_wait_exit con 20 >/dev/null || t_fail "did not quit"
