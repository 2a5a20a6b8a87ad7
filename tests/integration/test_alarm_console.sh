#!/bin/bash
# SPDX-License-Identifier: MIT
# The alarm workflow in a real terminal, with the built-in alarm set:
# `phasor sim --fault undervoltage` raises the L-L voltage alarm of that
# meter, unacknowledged (banner, overview mark, alarm view); `a`
# acknowledges it; the journal (`phasor alarms`) has the raise and the ack
# with the operator; when the fault ends the alarm clears to normal. Then a
# timeout fault raises one communication alarm and suppresses that meter's
# value alarms; the unacknowledged alarm survives a restart of the console
# without a second raise.
. "$(dirname "$0")/lib.sh"

me=$(id -un)
# Unit 1 under-voltage from 4 s to 16 s; unit 2 stops answering at 24 s.
t_sim --meters 2 --seed 5 --fault undervoltage:1@4+12 --fault timeout:2@24
{
	printf '[site]\nname = alarm test\n[store]\npath = %s/b.db\n' "$T"
	printf '[operators]\n%s = Marie Curie\n' "$me"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\n' "$SIM_PORT" "$u"
		# Unit 1 is a main board (about 60 kW): no overload alarm here.
		printf 'max_power = 500kW\n'
	done
} >"$T/c.ini"
"$PHASOR" check-config -c "$T/c.ini" >"$T/check.txt" || t_fail "check-config refused the config"
grep -q "built-in" "$T/check.txt" || t_fail "check-config does not say the built-in alarm set applies"

t_tmux_start con 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait con 20 "m1 .*ok" || t_fail "m1 never ok"
t_tmux_wait con 10 "no unacknowledged alarm" || t_fail "the banner does not say all is quiet"
bell() { tmux -S "$TMUX_SOCK" display-message -p -t "=$1:" '#{window_bell_flag}'; }
t_eq "terminal bell before any alarm" 0 "$(bell con)"

# The fault: the banner counts it, the overview marks m1.
t_tmux_wait con 20 "ALARMS .*1 high" || t_fail "no high alarm in the banner"
t_eq "terminal bell on the new high alarm" 1 "$(bell con)"
pane=$(t_tmux_capture con)
echo "$pane" | grep -Eq "m1: .*[Vv]oltage" || t_fail "the banner does not name m1's voltage alarm"
echo "$pane" | grep -Eq "◆ *m1 " || t_fail "the overview does not mark m1"
echo "$pane" | grep -Eq "◆ *m2 " && t_fail "the overview marks m2, which has no alarm"
t_ok "banner and overview show m1's alarm"

t_tmux_keys con 3
t_tmux_wait con 5 "\[3 Alarms\]" || t_fail "3 did not open the alarm view"
t_tmux_wait con 5 "UNACK +HIGH .*m1 " || t_fail "m1's alarm is not listed unacknowledged"
t_tmux_keys con a
t_tmux_wait con 5 "ACKED +HIGH .*m1 " || t_fail "a did not acknowledge"
t_tmux_wait con 5 "acknowledged: " || t_fail "no feedback after a"
t_tmux_wait con 5 "no unacknowledged alarm; 1 active" || t_fail "banner not updated after ack"
t_ok "a acknowledged it"

# The fault ends at 16 s: acknowledged + cleared = normal, gone from the list.
t_tmux_wait con 30 "no alarm needs attention" || t_fail "the alarm did not return to normal"
t_ok "back to normal when the fault ended"

# journal FILE PATTERN: `phasor alarms` into FILE until a row matches (the
# console commits its journal at least once a second).
journal() {
	local i
	for i in $(seq 1 50); do
		"$PHASOR" alarms --db "$T/b.db" >"$1" || t_fail "phasor alarms failed"
		grep -Eq -- "$2" "$1" && return 0
		sleep 0.2
	done
	return 1
}

# The journal, read while the console runs.
journal "$T/j1.csv" ",m1,voltage_ll,high,clear,normal," || t_fail "no clear row: $(cat "$T/j1.csv")"
head -1 "$T/j1.csv" | grep -qx "time,alarm,meter,quantity,priority,event,state,value,limit,operator,note" ||
	t_fail "journal header: $(head -1 "$T/j1.csv")"
grep -E ",m1,voltage_ll,high,raise,unack," "$T/j1.csv" >"$T/raise.csv" || t_fail "no raise row for m1"
grep -E ",m1,voltage_ll,high,ack,ack,.*,Marie Curie," "$T/j1.csv" >/dev/null ||
	t_fail "no ack row by Marie Curie: $(cat "$T/j1.csv")"
# The raise carries the value and the limit: L-L under 380 V.
awk -F, '{ if ($8 + 0 >= 380 || $8 + 0 < 300 || $9 != 380) exit 1 }' "$T/raise.csv" ||
	t_fail "raise value/limit: $(cat "$T/raise.csv")"
t_ok "journal: raise (value $(cut -d, -f8 "$T/raise.csv" | head -1) V, limit 380), ack by Marie Curie, clear"

# Unit 2 stops answering at 24 s: one communication alarm, its value
# alarms suppressed.
t_tmux_wait con 30 "UNACK +HIGH .*m2 .*" || t_fail "no communication alarm for m2"
t_tmux_keys con c
t_tmux_wait con 5 "SUPPR .*m2 " || t_fail "m2's value alarms are not shown suppressed"
t_tmux_keys con c
journal "$T/j2.csv" ",m2,[a-z_]*,[a-z]*,suppress,suppressed," || t_fail "no suppress row for m2"
n=$(grep -c ",m2,comm,high,raise," "$T/j2.csv")
t_eq "communication alarm raises for m2" 1 "$n"
grep -E ",m2," "$T/j2.csv" | grep -v ",comm," | grep -q ",raise," &&
	t_fail "a value alarm of m2 raised while m2 was down"
t_ok "timeout: one comm alarm, value alarms suppressed"

# Restart: the unacknowledged comm alarm is still there, not raised again.
t_tmux_quit con
t_tmux_wait_exit con 20 >/dev/null || t_fail "did not quit"
tmux -S "$TMUX_SOCK" kill-session -t con
rm -f "$T/con.exit"
t_tmux_start con2 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_wait con2 20 "ALARMS .*1 high" || t_fail "the restored alarm is not in the banner"
t_tmux_keys con2 3
t_tmux_wait con2 5 "UNACK +HIGH .*m2 " || t_fail "the comm alarm was not restored"
sleep 2
"$PHASOR" alarms --db "$T/b.db" >"$T/j3.csv"
n=$(grep -c ",m2,comm,high,raise," "$T/j3.csv")
t_eq "comm raises after the restart" 1 "$n"
t_tmux_quit con2
t_tmux_wait_exit con2 20 >/dev/null || t_fail "did not quit"
t_ok "states survive a restart"
