#!/bin/bash
# SPDX-License-Identifier: MIT
# UTF-8 input in a real terminal (issue 10, item 5), and the alarm prompts
# (item 6). Under LANG=C.UTF-8: the overview's filter "étuve" finds the
# meter described "Étuve 2 (séchage)" and only it; the note "Température
# élevée — ok" typed on an alarm is in the journal byte for byte (sqlite3
# hex, and `phasor alarms`); control characters typed into a note (C0, a
# C1 as UTF-8) never reach it; a shelving without a reason is refused, and
# with one its journal row says how long, until when and why, its until_us
# 15 minutes after it. Under LANG=C the console still takes keys and quits.
. "$(dirname "$0")/lib.sh"

# Unit 1 under-voltage from the start: its L-L voltage alarm (high).
t_sim --meters 3 --seed 5 --fault undervoltage:1
{
	printf '[site]\nname = utf8\n[store]\npath = %s/b.db\n' "$T"
	for u in 1 2 3; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\nmax_power = 500kW\n' \
			"$SIM_PORT" "$u"
	done
} >"$T/c.ini"
# m2 dries the parts; m3 is the compressor.
sed -i '/^\[meter m2\]/a description = Étuve 2 (séchage)' "$T/c.ini"
sed -i '/^\[meter m3\]/a description = Compresseur' "$T/c.ini"
"$PHASOR" check-config -c "$T/c.ini" >"$T/check.txt" 2>&1 || t_fail "config: $(cat "$T/check.txt")"

# row EVENT [AFTER]: the newest journal row of m1's voltage alarm of that
# event (with a seq above AFTER), as "hex(note)|note|until_us - t_us|seq",
# once it is committed.
row() {
	local i out
	for i in $(seq 1 50); do
		out=$(t_sql "$T/b.db" "SELECT hex(note) || '|' || note || '|' ||
			COALESCE(until_us - t_us, '') || '|' || seq FROM alarm_events
			WHERE meter = 'm1' AND event = '$1' AND seq > ${2:-0} ORDER BY seq DESC LIMIT 1" 2>/dev/null)
		[ -n "$out" ] && { echo "$out"; return 0; }
		sleep 0.2
	done
	return 1
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr a-f A-F; }

t_tmux_start u 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait u 20 "m3 .*ok" || t_fail "m3 never ok"

# The filter, typed in UTF-8: é is one character, found in É.
t_tmux_keys u /
t_tmux_keys u -l "étuve"
t_tmux_wait u 5 "Filter: étuve_ +1 of 3 meters" || t_fail "the filter étuve does not find one meter"
pane=$(t_tmux_capture u)
echo "$pane" | grep -Eq "^. +◆?m2 " || t_fail "m2 (Étuve 2) is not listed"
echo "$pane" | grep -Eq "^. +◆?m[13] " && t_fail "m1 or m3 listed under the filter étuve"
t_tmux_keys u BSpace
t_tmux_wait u 5 "Filter: étuv_ " || t_fail "Backspace did not erase one character"
t_tmux_keys u Escape
t_tmux_wait_gone u 5 "Filter:" || t_fail "Esc did not clear the filter"
t_ok "the filter étuve finds 'Étuve 2 (séchage)', Backspace erases a character"

t_tmux_keys u 3
t_tmux_wait u 30 "UNACK +HIGH .*m1 " || t_fail "m1's voltage alarm is not listed"
t_tmux_keys u n
t_tmux_wait u 5 "Note on voltage-low/m1 \[0/255\]: _" || t_fail "n: no note prompt"
note="Température élevée — ok"
t_tmux_keys u -l "$note"
t_tmux_wait u 5 "\[28/255\]: Température élevée — ok_" || t_fail "the note is not shown as typed"
t_tmux_keys u Enter
r=$(row note) || t_fail "no note row in the journal"
t_eq "journal note, bytes" "$(hex "$note")" "${r%%|*}"
"$PHASOR" alarms --db "$T/b.db" >"$T/j.csv" || t_fail "phasor alarms failed"
grep -F ",m1,voltage_ll,high,note," "$T/j.csv" | grep -qF ",$note" ||
	t_fail "phasor alarms does not show the note as typed: $(grep ,note, "$T/j.csv")"
t_ok "the note '$note' is journaled byte for byte"

# Controls never enter a note: a, SOH, NEL (U+0085 as UTF-8), b.
t_tmux_keys u n
tmux -S "$TMUX_SOCK" send-keys -t "=u:" -H 61 01 c2 85 62
t_tmux_wait u 5 "\[2/255\]: ab_" || t_fail "control characters entered the note"
t_tmux_keys u Enter
t_tmux_wait u 5 "note added" || t_fail "no feedback for the note"
r=$(row note "${r##*|}") || t_fail "no second note row"
t_eq "journal note without the controls" "$(hex ab)" "${r%%|*}"

# s, 1 (15 min): a reason is asked for, required, journaled with the rest.
t_tmux_keys u s
t_tmux_wait u 5 "Shelve voltage-low/m1 for: 1\) 15 min" || t_fail "s: no duration menu"
t_tmux_keys u 1
t_tmux_wait u 5 "Why shelve voltage-low/m1 for 15 min \[0/192\]: _" || t_fail "no reason prompt"
t_tmux_keys u Enter
t_tmux_wait u 5 "a reason is required" || t_fail "an empty reason was not refused"
t_tmux_keys u -l "révision"
t_tmux_keys u Enter
t_tmux_wait u 5 "shelved: voltage-low on m1" || t_fail "no feedback for the shelving"
r=$(row shelve) || t_fail "no shelve row"
note=$(echo "$r" | cut -d'|' -f2)
echo "$note" | grep -Eq "^shelved 15 min until [0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z: révision$" ||
	t_fail "shelve note: $note"
t_eq "shelving: until_us - t_us" 900000000 "$(echo "$r" | cut -d'|' -f3)"
t_ok "shelving journaled: $note"

t_tmux_keys u q
t_tmux_wait u 5 "Quit and stop recording\? y/n" || t_fail "q: no question"
t_tmux_keys u y
rc=$(t_tmux_wait_exit u 20) || t_fail "did not quit"
t_eq "exit status (C.UTF-8)" 0 "$rc"

# LANG=C: ASCII output; a UTF-8 filter typed anyway changes nothing fatal.
t_tmux_start c 120 40 env LANG=C LC_ALL=C TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait c 20 "m3 .*ok" || t_fail "LANG=C: m3 never ok"
t_tmux_keys c /
t_tmux_keys c -l "étuve"
t_tmux_wait c 5 "Filter: " || t_fail "LANG=C: no filter line"
t_tmux_keys c Escape
t_tmux_wait_gone c 5 "Filter:" || t_fail "LANG=C: Esc did not clear the filter"
t_tmux_keys c 2
t_tmux_wait c 5 "\[2 Meter\]" || t_fail "LANG=C: 2 did not open the meter view"
t_tmux_keys c q
t_tmux_wait c 5 "Quit and stop recording\? y/n" || t_fail "LANG=C: q: no question"
t_tmux_keys c y
rc=$(t_tmux_wait_exit c 20) || t_fail "LANG=C: did not quit"
t_eq "exit status (LANG=C)" 0 "$rc"
