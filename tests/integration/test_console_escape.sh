#!/bin/bash
# SPDX-License-Identifier: MIT
# Strings that did not come from phasor's own code never reach the terminal
# raw. A meter name with a bidi override is refused by check-config (names
# end up in exports and topics); a description holding an escape sequence
# (OSC title change, colour) is accepted and shown neutralised.
. "$(dirname "$0")/lib.sh"

t_sim --meters 1 --seed 2
rlo=$(printf '\342\200\256')
printf '[store]\npath = %s/b.db\n[meter evil%sname]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = %d\n' \
	"$T" "$rlo" "$SIM_PORT" >"$T/bidi.ini"
if "$PHASOR" check-config -c "$T/bidi.ini" >"$T/bidi.log" 2>&1; then
	t_fail "a meter name with a bidi override was accepted"
fi
grep -q "bidi.ini:3: bad meter name .*bidirectional override" "$T/bidi.log" ||
	t_fail "unexpected message: $(cat "$T/bidi.log")"
t_ok "a bidi override in a meter name is refused with file:line"

esc=$(printf '\033]0;pwned\007\033[31mRED\033[0m')
printf '[store]\npath = %s/b.db\n[meter hostile]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = %d\ndescription = text %s end\n' \
	"$T" "$SIM_PORT" "$esc" >"$T/c.ini"
"$PHASOR" check-config -c "$T/c.ini" >"$T/check.log" 2>&1 || t_fail "description refused: $(cat "$T/check.log")"
grep -q $'\x1b' "$T/check.log" && t_fail "check-config printed the escape raw"
t_tmux_start con 200 60 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait con 20 "hostile.*ok" || t_fail "the meter never showed"
t_tmux_keys con 2
t_tmux_wait con 5 "L1" || t_fail "no meter view"
t_tmux_wait con 5 "text .*end" || t_fail "the meter view does not show the description"
t_tmux_capture con -e >"$T/pane.esc"
t_tmux_capture con >"$T/pane.txt"
title=$(tmux -S "$TMUX_SOCK" display-message -p -t con '#{pane_title}')
case "$title" in *pwned*) t_fail "the description set the terminal title" ;; esac
grep -q $'\x1b\\]' "$T/pane.esc" && t_fail "an OSC sequence reached the terminal"
grep -q "text .*RED" "$T/pane.txt" || t_fail "the description's text is not shown"
# The ESC bytes themselves became visible replacement characters.
grep -q "text ?" "$T/pane.txt" || t_fail "the escape was not replaced by a visible '?'"
t_ok "escape sequences in a description are neutralised"
t_tmux_quit con
t_tmux_wait_exit con 20 >/dev/null || t_fail "did not quit"
