#!/bin/bash
# SPDX-License-Identifier: MIT
# `phasor replay` (issue 12, items 1, 2 and 6): a recording with known
# faults at known times, made by an embedded console in tmux whose operator
# acknowledges the alarm, then replayed in tmux: at the start no alarm; `n`
# lands on the raise (the alarm unacknowledged, the bar at the journal's
# raise time); `n` again on the acknowledgement (acknowledged, by the
# operator's name); `N` and Home go back and the alarm is gone again; a
# replay from the time the second meter was down shows it down; two
# replays from one instant draw the same frame; an operator action is
# refused; g and S; the replay wrote nothing to the buffer. Then
# `phasor alarms --what-if` (item 3): the recorded definitions give the
# journal's raises, other limits what they would have raised.
. "$(dirname "$0")/lib.sh"

export TZ=UTC
me=$(id -un)
# Unit 1 under-voltage from 6 s to 16 s; unit 2 does not answer from 10 s to 26 s
# (down long enough for its comm alarm, on-delay 10 s).
t_sim --meters 2 --seed 5 --fault undervoltage:1@6+10 --fault timeout:2@10+16
{
	printf '[site]\nname = replay test\n[store]\npath = %s/r.db\ncommit_interval = 200ms\n' "$T"
	printf '[operators]\n%s = Marie Curie\n' "$me"
	t_sim_meters 2
} >"$T/c.ini"

# ---- the recording ----
t_tmux_start rec 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini" 2>"$T/rec.err"
t_tmux_wait rec 20 "m1 .*ok" || t_fail "m1 never ok"
t_tmux_keys rec 3
t_tmux_wait rec 20 "UNACK +HIGH .*m1 " || t_fail "no under-voltage alarm on m1"
sleep 1.5 # the ack a second or more after the raise: n tells them apart
t_tmux_keys rec a
t_tmux_wait rec 5 "ACKED +HIGH .*m1 " || t_fail "a did not acknowledge"
t_tmux_keys rec 1
t_tmux_wait rec 20 "m2 .*down" || t_fail "m2 never down"
# Z freezes the live console (it goes on recording): the bar, a minute back
# is before the faults, L is live again
t_tmux_keys rec Z
t_tmux_wait rec 5 "FROZEN .* paused 1x" || t_fail "Z did not freeze the console"
t_tmux_keys rec Home
t_tmux_wait rec 5 "no unacknowledged alarm, none active" || t_fail "frozen, Home: not before the faults"
t_tmux_keys rec L
t_tmux_wait rec 5 " recording " || t_fail "L did not return to live"
t_ok "Z froze the live console, Home went back before the faults, L returned"
# back once the fault ends and the poller's probe of the timed-out unit (its back-off:
# up to 30 periods) finds it: allow for a loaded machine
t_tmux_wait rec 60 "m2 .*ok" || t_fail "m2 never back"
t_tmux_quit rec
t_eq "the recording console's exit status" 0 "$(t_tmux_wait_exit rec 20)"
t_stop "$SIM_PID"

"$PHASOR" alarms --db "$T/r.db" >"$T/journal.csv" || t_fail "phasor alarms failed"
raise=$(awk -F, '$2 == "voltage-low" && $3 == "m1" && $6 == "raise" { print $1; exit }' "$T/journal.csv")
ack=$(awk -F, '$2 == "voltage-low" && $3 == "m1" && $6 == "ack" { print $1; exit }' "$T/journal.csv")
[ -n "$raise" ] && [ -n "$ack" ] || t_fail "no raise and ack of voltage-low on m1 in: $(cat "$T/journal.csv")"
grep -q ",ack,.*,Marie Curie," "$T/journal.csv" || t_fail "the ack is not by Marie Curie"
# Every journal row of the recording, to land on with n: the first is the raise.
first=$(awk -F, 'NR == 2 { print $1 }' "$T/journal.csv")
t_eq "the journal's first row is m1's raise" "$raise" "$first"
second=$(awk -F, 'NR == 3 { print $1 }' "$T/journal.csv")
t_eq "the journal's second row is the ack" "$ack" "$second"
down=$(t_sql "$T/r.db" "SELECT c.t_us FROM comm_changes c JOIN meters m ON m.id = c.meter_id
	WHERE m.name = 'm2' AND c.status = 3 ORDER BY c.t_us LIMIT 1")
[ -n "$down" ] || t_fail "no comm change to down for m2"
sum_before=$(sha256sum "$T/r.db" | cut -d' ' -f1)
hms() { date -u -d "$1" +%H:%M:%S; }

# ---- the replay ----
t_tmux_start rp 100 30 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" replay --db "$T/r.db" \
	2>"$T/rp.err"
t_tmux_wait rp 10 "REPLAY .* paused 1x" || t_fail "no playback bar"
t_tmux_wait rp 5 "no unacknowledged alarm, none active" || t_fail "an alarm at the recording's start"
t_tmux_keys rp 3
t_tmux_wait rp 5 "\[3 Alarms\]" || t_fail "3 did not open the alarm view"
t_tmux_keys rp n
t_tmux_wait rp 5 "REPLAY .* $(hms "$raise") paused" || t_fail "n did not land on the raise at $(hms "$raise")"
t_tmux_wait rp 5 "UNACK +HIGH .*m1 " || t_fail "at the raise the alarm is not unacknowledged"
t_ok "n: the raise at $(hms "$raise"), unacknowledged"
t_tmux_keys rp n
t_tmux_wait rp 5 "REPLAY .* $(hms "$ack") paused" || t_fail "n did not land on the ack at $(hms "$ack")"
t_tmux_wait rp 5 "ACKED +HIGH .*m1 " || t_fail "at the ack the alarm is not acknowledged"
t_tmux_keys rp Enter
t_tmux_wait rp 5 "Marie Curie" || t_fail "the alarm's details do not name the operator who acknowledged"
t_tmux_keys rp Escape
t_ok "n: the ack at $(hms "$ack") by Marie Curie"
t_tmux_keys rp N
t_tmux_wait rp 5 "REPLAY .* $(hms "$raise") paused" || t_fail "N did not go back to the raise"
t_tmux_wait rp 5 "UNACK +HIGH .*m1 " || t_fail "back at the raise the alarm is not unacknowledged again"
t_tmux_keys rp a
t_tmux_wait rp 5 "a replay changes nothing" || t_fail "an ack in a replay is not refused"
t_tmux_keys rp Home
t_tmux_wait rp 5 "no unacknowledged alarm, none active" || t_fail "Home: the alarm did not go"
t_ok "N back to the raise, Home before it: the alarm gone again; ack refused"
# g: a typed time (the ack's, to the second); a bad one is refused, Esc leaves
t_tmux_keys rp g
tmux -S "$TMUX_SOCK" send-keys -t "=rp:" -l "$(date -u -d "$ack" '+%Y-%m-%d %H:%M:%S')"
t_tmux_keys rp Enter
t_tmux_wait rp 5 "REPLAY .* $(hms "$ack") paused" || t_fail "g did not go to $(hms "$ack")"
# Today at the cursor: from the recording's first counter value of the
# day up to the cursor, both meters (read from the recording by a worker,
# as a console does at its start), not from the instant the replay went to
at=$(date -u -d "$ack" '+%Y-%m-%dT%H:%M:%SZ')
"$PHASOR" export --db "$T/r.db" --quantity e_imp --to "$at" >"$T/e.csv" || t_fail "export failed"
read -r want since < <(awk -F, 'NR > 1 && $6 == "good" {
	v = $4 + 0
	if (!($2 in first)) { first[$2] = v; if (t0 == "") t0 = $1 }
	last[$2] = v
} END { for (m in first) w += last[m] - first[m]; printf "%.3f %s\n", w, t0 }' "$T/e.csv")
since=$(date -u -d "$since" +%H:%M)
t_tmux_keys rp 1
t_tmux_wait rp 10 "Today [0-9.]+ [kM]?Wh \(since $since\)" ||
	t_fail "replay at the ack: Today is not counted since $since"
line=$(t_tmux_capture rp | grep -E 'Today ')
read -r num prefix < <(printf '%s\n' "$line" | sed -nE 's/.*Today ([0-9.]+) ([kM]?)Wh.*/\1 \2/p')
case $prefix in k) mul=1e3 ;; M) mul=1e6 ;; *) mul=1 ;; esac
awk -v s="$num" -v m="$mul" -v w="$want" 'BEGIN {
	d = s * m - w; if (d < 0) d = -d; exit !(w > 0 && d <= 0.005 * w + 0.5) }' ||
	t_fail "replay at the ack: Today $num ${prefix}Wh, the counters say $want Wh ($line)"
t_ok "replay at the ack: Today $num ${prefix}Wh since $since = the counters' $want Wh"
t_tmux_keys rp 3
t_tmux_keys rp g
tmux -S "$TMUX_SOCK" send-keys -t "=rp:" -l "soon"
t_tmux_keys rp Enter
t_tmux_wait rp 5 "go to: soon_ +not a time" || t_fail "g soon: not refused"
t_tmux_keys rp Escape
t_tmux_wait rp 5 "REPLAY .* $(hms "$ack") paused .* %" || t_fail "Esc did not close g"
# S: the sessions, Enter to the first one's start
t_tmux_keys rp S
t_tmux_wait rp 5 "Sessions: Enter goes" || t_fail "S shows no session list"
t_tmux_wait rp 5 " 1  $(date -u -d "@$(t_sql "$T/r.db" "SELECT start_us / 1000000 FROM sessions WHERE id = 1")" '+%Y-%m-%d %H:%M:%S') " ||
	t_fail "the list does not show session 1's start"
t_tmux_keys rp Enter
t_tmux_wait rp 5 "no unacknowledged alarm, none active" || t_fail "S Enter: not at the session's start"
t_ok "g to a typed time, a bad one refused; S lists the session and goes to its start"
# play at 10x from the start: the cursor moves (about 10 s per second)
t_tmux_keys rp '>' '>' ' '
t_tmux_wait rp 5 "REPLAY .* playing 10x" || t_fail "Space did not play at 10x"
t_tmux_wait rp 10 "REPLAY .* paused 10x +end of the recording" ||
	t_fail "playing did not reach the end"
t_tmux_quit rp
t_eq "the replay's exit status" 0 "$(t_tmux_wait_exit rp 20)"

# From the time m2 was down: it is down there.
at=$(date -u -d "@$(((down + 1500000) / 1000000))" +%Y-%m-%dT%H:%M:%SZ)
for i in 1 2; do
	t_tmux_start "dn$i" 100 30 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" replay \
		--db "$T/r.db" --from "$at" 2>"$T/dn$i.err"
	t_tmux_wait "dn$i" 10 "REPLAY .* paused" || t_fail "replay --from $at: no bar"
	t_tmux_wait "dn$i" 5 "m2 .*down" || t_fail "at $at m2 is not down"
	sleep 1.5
	t_tmux_capture "dn$i" >"$T/dn$i.cap"
	t_tmux_quit "dn$i"
	t_eq "replay --from: exit status" 0 "$(t_tmux_wait_exit "dn$i" 20)"
done
cmp -s "$T/dn1.cap" "$T/dn2.cap" || t_fail "two replays from $at drew different frames:
$(diff "$T/dn1.cap" "$T/dn2.cap")"
t_ok "from $at: m2 down; two replays draw the same frame"

# What-if (item 3): the recorded definitions on the recorded values give the
# journal's raises exactly; a lower limit raises nothing, a tighter one with
# no delay raises; a definition only in the journal has no what-if figure.
"$PHASOR" alarms --what-if -c "$T/c.ini" --db "$T/r.db" >"$T/wi.csv" 2>"$T/wi.err" ||
	t_fail "what-if failed: $(cat "$T/wi.err")"
head -1 "$T/wi.csv" | grep -q "^alarm,priority,recorded_raises,what_if_raises,recorded_standing," ||
	t_fail "what-if header: $(head -1 "$T/wi.csv")"
for a in voltage-low comm; do
	want=$(awk -F, -v a="$a" '$2 == a && $6 == "raise"' "$T/journal.csv" | wc -l)
	[ "$want" -ge 1 ] || t_fail "the journal has no raise of $a"
	t_eq "what-if $a: recorded,what-if raises" "$want,$want" \
		"$(awk -F, -v a="$a" '$1 == a { print $3 "," $4 }' "$T/wi.csv")"
done
t_eq "what-if: every raise of the journal, on both sides" \
	"$(awk -F, '$6 == "raise"' "$T/journal.csv" | wc -l | tr -d ' '),$(awk -F, '$6 == "raise"' "$T/journal.csv" | wc -l | tr -d ' ')" \
	"$(awk -F, '$1 == "(all)" { print $3 "," $4 }' "$T/wi.csv")"
grep -q "^  recorded: [0-9]* raises, [0-9.]* per 10 min on average (EEMUA 191: <= 1), peak [0-9]*, 0 flood(s)$" "$T/wi.err" ||
	t_fail "what-if EEMUA summary: $(cat "$T/wi.err")"
sed '/^\[meter m1\]/,$!d' "$T/c.ini" >"$T/meters.ini"
{
	printf '[site]\nname = replay test\n'
	cat "$T/meters.ini"
	printf '[alarm uv-300]\nmeters = m1\nquantity = voltage_ll\ntype = low\nlimit = 300\n'
	printf '[alarm uv-395]\nmeters = m1\nquantity = voltage_ll\ntype = low\nlimit = 395\n'
} >"$T/new.ini"
"$PHASOR" alarms --what-if -c "$T/new.ini" --db "$T/r.db" >"$T/wi2.csv" 2>"$T/wi2.err" ||
	t_fail "what-if new.ini failed: $(cat "$T/wi2.err")"
t_eq "what-if uv-300 (below the fault's 338 V)" "0,0" "$(awk -F, '$1 == "uv-300" { print $3 "," $4 }' "$T/wi2.csv")"
t_eq "what-if uv-395 (above it, no delay)" "0,1" "$(awk -F, '$1 == "uv-395" { print $3 "," $4 }' "$T/wi2.csv")"
t_eq "what-if voltage-low: recorded only" "1," "$(awk -F, '$1 == "voltage-low" { print $3 "," $4 }' "$T/wi2.csv")"
t_ok "what-if: the recorded definitions reproduce the journal; new limits give what they would have"
"$PHASOR" alarms --what-if --db "$T/r.db" >/dev/null 2>"$T/wi3.err"
t_eq "what-if without -c: exit" 2 "$?"

t_eq "the buffer is unchanged by the replays" "$sum_before" "$(sha256sum "$T/r.db" | cut -d' ' -f1)"
"$PHASOR" replay --db "$T/r.db" --speed 7 >/dev/null 2>"$T/speed.err" </dev/null
t_eq "--speed 7: exit" 2 "$?"
grep -q "is not one of 1, 2, 10, 60, 600, 3600" "$T/speed.err" || t_fail "--speed 7: $(cat "$T/speed.err")"
"$PHASOR" replay --db "$T/nothing.db" >/dev/null 2>"$T/none.err" </dev/null
t_eq "replay of a missing file: exit" 1 "$?"
grep -q "^phasor replay: cannot open $T/nothing.db: No such file or directory" "$T/none.err" ||
	t_fail "replay of a missing file: $(cat "$T/none.err")"
for f in "$T"/*.err; do
	t_no_sanitizer_errors "$f"
done
t_log "ok"
