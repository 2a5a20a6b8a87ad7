#!/bin/bash
# SPDX-License-Identifier: MIT
# The console's output modes: LANG=C gives pure ASCII, NO_COLOR (and
# --no-color) no colour escapes while colour is there by default, and
# --ascii does the same as LANG=C.
. "$(dirname "$0")/lib.sh"

t_sim --meters 3 --seed 6
{
	printf '[store]\npath = %s/b.db\n' "$T"
	for u in 1 2 3; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\n' "$SIM_PORT" "$u"
	done
} >"$T/c.ini"

run() { # NAME ENV... -- ARGS...: start a console, wait for data, capture plain and with escapes
	local name=$1
	shift
	t_tmux_start "$name" 120 40 env TERM=xterm-256color "$@" -c "$T/c.ini"
	t_tmux_wait "$name" 20 "m3 .*ok" || t_fail "$name: no data"
	sleep 1.2
	t_tmux_capture "$name" >"$T/$name.txt"
	t_tmux_capture "$name" -e >"$T/$name.esc"
	t_tmux_keys "$name" 2
	t_tmux_wait "$name" 5 "L1" || t_fail "$name: no meter view"
	t_tmux_capture "$name" >>"$T/$name.txt"
	t_tmux_capture "$name" -e >>"$T/$name.esc"
	t_tmux_quit "$name"
	t_tmux_wait_exit "$name" 20 >/dev/null || t_fail "$name: did not quit"
}
non_ascii() { LC_ALL=C grep -c '[^[:print:][:space:]]' "$1"; }
colours() { grep -Eo $'\x1b\\[[0-9;]*m' "$1" | grep -Ec '(^|[;[])(3[0-7]|4[0-7]|9[0-7]|10[0-7]|38|48)([;m])'; }

run utf8 LANG=C.UTF-8 "$PHASOR"
[ "$(non_ascii "$T/utf8.txt")" -gt 0 ] || t_fail "UTF-8 mode shows no UTF-8 at all (gauges, symbols)"
[ "$(colours "$T/utf8.esc")" -gt 0 ] || t_fail "no colour by default: the colour checks below could not fail"
t_ok "UTF-8 and colour by default"

run langc LANG=C LC_ALL=C "$PHASOR"
t_eq "non-ASCII characters with LANG=C" 0 "$(non_ascii "$T/langc.txt")"
run ascii LANG=C.UTF-8 "$PHASOR" --ascii
t_eq "non-ASCII characters with --ascii" 0 "$(non_ascii "$T/ascii.txt")"

run nocolor LANG=C.UTF-8 NO_COLOR=1 "$PHASOR"
t_eq "colour escapes with NO_COLOR" 0 "$(colours "$T/nocolor.esc")"
run nocolor2 LANG=C.UTF-8 "$PHASOR" --no-color
t_eq "colour escapes with --no-color" 0 "$(colours "$T/nocolor2.esc")"
# Without colour every state is still written: ok/stale/down words.
grep -Eq "ok|stale|down" "$T/nocolor.txt" || t_fail "no state words without colour"
for th in light high-contrast mono colorblind; do
	run "theme-$th" LANG=C.UTF-8 "$PHASOR" --theme "$th"
done
t_eq "colour escapes with the mono theme" 0 "$(colours "$T/theme-mono.esc")"
t_ok "themes run"
