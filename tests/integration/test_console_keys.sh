#!/bin/bash
# SPDX-License-Identifier: MIT
# Keys as terminals send them, whatever TERM says (issue 10, item 4). Raw
# bytes (tmux send-keys -H) into the console under xterm-256color (what
# PuTTY users get inside tmux), vt100 and screen: Home and End in all
# their common forms (ESC[1~ ESC[4~ ESC[7~ ESC[8~ ESC[H ESC[F ESC O H
# ESC O F) move to the first and last meter and never switch views (their
# bytes are not the digits 1 and 4); a sequence nobody knows (ESC[33~,
# ESC[2;5~) is swallowed whole; F1 as ESC O P and ESC[11~ opens the help,
# and q or Esc closes it without quitting; F10 as ESC[21~ (vt100's entry
# says ESC O x) asks "Quit and stop recording? y/n" on this console, which
# polls and records itself: n keeps it, y quits. + shows the new refresh
# interval in the status bar. Last, an attached console quits at once.
. "$(dirname "$0")/lib.sh"

t_sim --meters 3 --seed 3
{
	printf '[site]\nname = keys\n[store]\npath = %s/b.db\n' "$T"
	for u in 1 2 3; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\nmax_power = 500kW\n' \
			"$SIM_PORT" "$u"
	done
} >"$T/c.ini"

# raw NAME HEX...: bytes into the pane, as a terminal would send them.
raw() {
	local n=$1
	shift
	tmux -S "$TMUX_SOCK" send-keys -t "=$n:" -H "$@"
}
# on NAME METER WHAT: the overview, its selection on METER.
on() {
	t_tmux_wait "$1" 5 "\[1 Overview\]" || t_fail "$3 ($TERM_NAME): left the overview"
	t_tmux_wait "$1" 5 "(▶|>) +◆?$2 " || t_fail "$3 ($TERM_NAME): the selection is not on $2"
	t_tmux_wait_gone "$1" 5 "Help:" || t_fail "$3 ($TERM_NAME): the help is open"
	[ -f "$T/$1.exit" ] && t_fail "$3 ($TERM_NAME): the console quit"
	return 0
}

n=0
for TERM_NAME in xterm-256color vt100 screen; do
	n=$((n + 1))
	s="k$n"
	t_tmux_start "$s" 100 30 env LANG=C.UTF-8 TERM="$TERM_NAME" "$PHASOR" -c "$T/c.ini"
	t_tmux_wait "$s" 20 "m3 .*ok" || t_fail "m3 never ok ($TERM_NAME)"
	on "$s" m1 "at start"

	raw "$s" 1b 5b 34 7e
	on "$s" m3 "End as ESC[4~"
	raw "$s" 1b 5b 31 7e
	on "$s" m1 "Home as ESC[1~"
	raw "$s" 1b 5b 38 7e
	on "$s" m3 "End as ESC[8~"
	raw "$s" 1b 5b 37 7e
	on "$s" m1 "Home as ESC[7~"
	raw "$s" 1b 5b 46
	on "$s" m3 "End as ESC[F"
	raw "$s" 1b 5b 48
	on "$s" m1 "Home as ESC[H"
	raw "$s" 1b 4f 46
	on "$s" m3 "End as ESC O F"
	raw "$s" 1b 4f 48
	on "$s" m1 "Home as ESC O H"
	t_ok "$TERM_NAME: Home and End in 8 forms move the selection, no view switch"

	# Unknown sequences: nothing at all (not view 3, not views 2 and 5).
	raw "$s" 1b 5b 33 33 7e
	raw "$s" 1b 5b 32 3b 35 7e
	raw "$s" 1b 4f 71
	sleep 0.5
	on "$s" m1 "unknown sequences"
	t_ok "$TERM_NAME: unknown sequences are swallowed whole"

	# F1 (two forms) opens the help; q and Esc close it, and only that.
	raw "$s" 1b 4f 50
	t_tmux_wait "$s" 5 "Help: Overview" || t_fail "F1 as ESC O P ($TERM_NAME): no help"
	t_tmux_keys "$s" q
	on "$s" m1 "q in the help"
	raw "$s" 1b 5b 31 31 7e
	t_tmux_wait "$s" 5 "Help: Overview" || t_fail "F1 as ESC[11~ ($TERM_NAME): no help"
	raw "$s" 1b
	on "$s" m1 "Esc in the help"
	t_ok "$TERM_NAME: F1 opens the help, q and Esc close it without quitting"

	# +: the new interval is shown.
	t_tmux_capture "$s" | grep -q "refresh " && t_fail "a refresh interval shown before any change"
	t_tmux_keys "$s" +
	t_tmux_wait "$s" 5 "refresh 2s .*q:quit" || t_fail "+ ($TERM_NAME): the interval is not shown"
	t_tmux_keys "$s" - -
	t_tmux_wait "$s" 5 "refresh 500ms .*q:quit" || t_fail "- ($TERM_NAME): the interval is not shown"
	t_ok "$TERM_NAME: + and - show the refresh interval"

	# F10 asks first: this console records. n keeps it; q asks too; y quits.
	raw "$s" 1b 5b 32 31 7e
	t_tmux_wait "$s" 5 "Quit and stop recording\? y/n" || t_fail "F10 ($TERM_NAME): no question"
	t_tmux_keys "$s" n
	t_tmux_wait "$s" 5 "\[1 Overview\]" || t_fail "n ($TERM_NAME)"
	sleep 0.5
	[ -f "$T/$s.exit" ] && t_fail "n ($TERM_NAME): the console quit"
	t_tmux_wait_gone "$s" 5 "Quit and stop" || t_fail "n ($TERM_NAME): the question stays"
	t_tmux_keys "$s" q
	t_tmux_wait "$s" 5 "Quit and stop recording\? y/n" || t_fail "q ($TERM_NAME): no question"
	t_tmux_keys "$s" y
	rc=$(t_tmux_wait_exit "$s" 20) || t_fail "y ($TERM_NAME) did not quit"
	t_eq "$TERM_NAME: exit status after F10, y" 0 "$rc"
done

# An attached console loses nothing by quitting: q quits at once.
t_bg rec "$PHASOR" record -c "$T/c.ini"
REC_PID=$T_LAST_PID
sleep 1
t_tmux_start att 100 30 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait att 20 "attached" || t_fail "the console did not attach to the recorder"
t_tmux_wait att 20 "m3 .*ok" || t_fail "m3 never ok (attached)"
raw att 1b 5b 32 31 7e
rc=$(t_tmux_wait_exit att 20) || t_fail "F10 did not quit the attached console"
t_eq "attached console: F10 quits without a question" 0 "$rc"
kill -0 "$REC_PID" || t_fail "the recorder went away with the console"
t_stop "$REC_PID"
