#!/bin/bash
# SPDX-License-Identifier: MIT
# Two consoles on one broker share acknowledgements: operator A acknowledges
# an alarm and console B shows it acknowledged (by A's operator) within a
# second or two; B's journal has that ack once, with A's console as origin.
# Then B shelves another alarm and A sees it shelved. A third console
# started afterwards catches up from the retained states (the ack and the
# shelving).
. "$(dirname "$0")/lib.sh"

t_mosquitto
# Both units under-voltage from the start: two alarms to act on.
t_sim --meters 2 --seed 6 --fault undervoltage
conf() { # conf NAME
	printf '[site]\nname = shared\n[store]\npath = %s/%s.db\n' "$T" "$1"
	printf '[mqtt]\nuri = %s\nclient_id = phasor-%s\n' "$MQTT_URI" "$1"
	printf '[operators]\n%s = operator-%s\n' "$(id -un)" "$1"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\n' "$SIM_PORT" "$u"
		printf 'max_power = 500kW\n'
	done
}
conf a >"$T/a.ini"
conf b >"$T/b.ini"
conf c >"$T/c.ini"
# Console C does not ring ([console] bell = no).
printf '[console]\nbell = no\n' >>"$T/c.ini"
# Everything the consoles publish, to check the topic tree.
t_bg sub mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -v -t 'phasor/alarms/#'

t_tmux_start a 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/a.ini"
tmux -S "$TMUX_SOCK" new-session -d -s b -x 120 -y 40 \
	"env LANG=C.UTF-8 TERM=xterm-256color $PHASOR -c $T/b.ini; echo \$? > $T/b.exit; sleep 600"
for s in a b; do
	t_tmux_keys $s 3
	t_tmux_wait $s 30 "UNACK +HIGH .*m1 " || t_fail "console $s: no alarm for m1"
	t_tmux_wait $s 10 "UNACK +HIGH .*m2 " || t_fail "console $s: no alarm for m2"
done
t_ok "both consoles raised both alarms"

# A acknowledges the first row (m1 or m2, whichever is selected).
start=$(date +%s%N)
t_tmux_keys a a
t_tmux_wait a 5 "acknowledged: " || t_fail "A: no feedback"
acked=$(t_tmux_capture a | sed -n 's/.*acknowledged: [a-z_-]* on \(m[12]\).*/\1/p' | head -1)
[ -n "$acked" ] || t_fail "cannot tell which alarm A acknowledged"
t_tmux_wait b 10 "ACKED +HIGH .*$acked " || t_fail "B never saw A's ack of $acked"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
t_log "B showed A's acknowledgement ${ms} ms after A's key (tmux polling every 100 ms)"
[ "$ms" -le 5000 ] || t_fail "B took ${ms} ms"
t_ok "B sees A's ack of $acked"

# B's details of that alarm name A's operator.
other=m1
[ "$acked" = m1 ] && other=m2
# B shelves the other one (select it: it is the only UNACK row, at the top).
t_tmux_keys b k k k
t_tmux_wait b 5 "▶◆UNACK" || t_fail "B: the unacknowledged row is not selected"
t_tmux_keys b s
t_tmux_wait b 5 "Shelve .* for:" || t_fail "B: s shows no shelve menu"
t_tmux_keys b 2
t_tmux_wait b 5 "Why shelve .* for 1 h" || t_fail "B: no reason prompt"
t_tmux_keys b -l "shared test"
t_tmux_keys b Enter
t_tmux_wait b 5 "shelved: " || t_fail "B: no feedback after shelving"
t_tmux_keys a c
t_tmux_wait a 10 "SHELVED +HIGH .*$other " || t_fail "A never saw B's shelving of $other"
t_ok "A sees B's shelving of $other"

sleep 1
"$PHASOR" alarms --db "$T/b.db" --format jsonl >"$T/b.jsonl"
n=$(jq -c "select(.event == \"ack\" and .meter == \"$acked\")" "$T/b.jsonl" | wc -l)
t_eq "acks of $acked in B's journal" 1 "$n"
# rows FILE FILTER: how many journal rows FILTER selects (jq 1.6's -e looks
# at the last input only).
rows() { jq -c "select($2)" "$1" | wc -l; }
t_eq "B's ack of $acked by operator-a" 1 "$(rows "$T/b.jsonl" ".event == \"ack\" and .meter == \"$acked\" and .operator == \"operator-a\"")"
aid=$(sqlite3 "$T/a.db" "SELECT value FROM identity WHERE key = 'console_id'")
bid=$(sqlite3 "$T/b.db" "SELECT value FROM identity WHERE key = 'console_id'")
[ "$aid" != "$bid" ] || t_fail "both consoles have the id $aid"
t_eq "B's ack of $acked from A's console" 1 "$(rows "$T/b.jsonl" ".event == \"ack\" and .meter == \"$acked\" and .origin == \"$aid\"")"
"$PHASOR" alarms --db "$T/a.db" --format jsonl >"$T/a.jsonl"
n=$(jq -c "select(.event == \"shelve\" and .meter == \"$other\" and .origin == \"$bid\")" \
	"$T/a.jsonl" | wc -l)
t_eq "B's shelve in A's journal" 1 "$n"
t_ok "journals: each remote event once, with its origin"

# A third console, started now, catches up from the retained states.
tmux -S "$TMUX_SOCK" new-session -d -s c -x 120 -y 40 \
	"env LANG=C.UTF-8 TERM=xterm-256color $PHASOR -c $T/c.ini; echo \$? > $T/c.exit; sleep 600"
t_tmux_keys c 3
t_tmux_keys c c
t_tmux_wait c 30 "SHELVED +HIGH .*$other " || t_fail "C did not catch up with the shelving"
# The acknowledged alarm is still on: C raises it after its on-delay, and
# the retained ack (of an occurrence that began before C started) covers it.
t_tmux_wait c 30 "ACKED +HIGH .*$acked " || t_fail "C did not catch up with the ack of $acked"
t_eq "bell of console C (bell = no) after its raises" 0 \
	"$(tmux -S "$TMUX_SOCK" display-message -p -t "=c:" '#{window_bell_flag}')"
t_eq "bell of console B (default) after its raises" 1 \
	"$(tmux -S "$TMUX_SOCK" display-message -p -t "=b:" '#{window_bell_flag}')"
t_ok "a late console catches up from retained states"

# The broker goes away: B adds a note meanwhile (journaled at once); when
# the broker is back B sends it, and A applies it, once.
t_stop "$MQTT_PID" TERM
t_tmux_wait b 20 "links 1/2 up" || t_fail "B did not notice the broker going away"
t_tmux_keys b n
for ch in f u s e s; do t_tmux_keys b "$ch"; done
t_tmux_keys b Enter
t_tmux_wait b 5 "note added: " || t_fail "B: no feedback after the note"
t_bg mosquitto2 mosquitto -c "$T/mosquitto.conf"
MQTT_PID=$T_LAST_PID
t_wait_port "$MQTT_PORT"
n=0
for _ in $(seq 1 150); do
	"$PHASOR" alarms --db "$T/a.db" --format jsonl >"$T/a2.jsonl"
	n=$(rows "$T/a2.jsonl" ".event == \"note\" and .note == \"fuses\" and .origin == \"$bid\"")
	[ "$n" -ge 1 ] && break
	sleep 0.2
done
t_eq "B's note made during the outage, in A's journal" 1 "$n"
t_ok "an action made while the broker was away reaches the others when it is back"

# The topic tree.
grep -q "^phasor/alarms/events/$aid {" "$T/sub.log" || t_fail "nothing on phasor/alarms/events/$aid"
grep -q "^phasor/alarms/events/$bid {" "$T/sub.log" || t_fail "nothing on phasor/alarms/events/$bid"
grep -q "^phasor/alarms/state/[a-z0-9-]*/$acked/[a-z_-]* {.*\"event\":\"ack\"" "$T/sub.log" ||
	t_fail "no retained state for the ack of $acked"
t_eq "events under another origin's topic than their own (of all)" "0 of more" \
	"$(awk '{ split($1, l, "/"); o = ""
		if (match($0, /"origin":"[^"]*"/)) o = substr($0, RSTART + 10, RLENGTH - 11)
		n++; bad += (o != l[4]) }
		END { print bad + 0, "of", (n > 3 ? "more" : n) }' "$T/sub.log")"
for s in a b c; do t_tmux_quit $s; done
for s in a b c; do
	t_tmux_wait_exit $s 20 >/dev/null || { t_tmux_capture $s; t_fail "console $s did not quit"; }
done
