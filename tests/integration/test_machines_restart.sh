#!/bin/bash
# SPDX-License-Identifier: MIT
# Machines across a restart, attached and in a replay (issue 14): a
# private mosquitto, machine "press" fed by a Tasmota-like meter. A first
# phasor record sees it run (pieces 100 -> 105) and stop while its meter
# still draws; a second one, started after the first stopped, reads the
# day back from the buffer and goes on (run, 200 -> 203 -> 204: the first
# count of a run is its base), so its day ends with 9 pieces and the
# first run's stop time, where starting from zero would give 4 and no
# stop. A console attached to the second recorder shows the same day in
# view 7 (the state, the stop share, 8 then 9 pieces as they come); a
# replay shows no pieces at the recording's start and the 9 at its end.
. "$(dirname "$0")/lib.sh"

t_mosquitto
db="$T/buffer.db"
t_mqtt_ini "machines restart" phasor-test-machines-restart 100ms >"$T/phasor.ini"
t_press_ini >>"$T/phasor.ini"

pub() { mosquitto_pub -p "$MQTT_PORT" -q 1 -t "$1" -m "$2" || t_fail "mosquitto_pub $1"; }
meter() { pub tele/press-1/SENSOR "{\"ENERGY\":{\"Total\":$1,\"Power\":$2}}"; }
machine() { pub plant/press/state "$1"; }
# the day's figures a recorder logs at exit: STATE RUN% WAIT% STOP% PIECES WH IDLE_WH
today() {
	sed -n 's/.*machine press: \([a-z]*\); today: run \([0-9.]*\)%, wait \([0-9.]*\)%, stop \([0-9.]*\)% .* \([0-9]*\) pieces, \([0-9.]*\) Wh, idle \([0-9.]*\) Wh$/\1 \2 \3 \4 \5 \6 \7/p' "$1"
}

# ---- the first run: run, 5 pieces, stop ----
t_bg record1 "$PHASOR" record -c "$T/phasor.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/record1.log" || t_fail "record never subscribed"
meter 10.0 5000
machine '{"state":"run","count":100}'
sleep 1
meter 10.2 5000
machine '{"state":"run","count":105}'
sleep 1
machine '{"state":"stop","count":105}'
meter 10.3 3000
sleep 2
t_stop "$REC" TERM || t_fail "record exited $? on SIGTERM"
t_no_sanitizer_errors "$T/record1.log"
read -r st run wait stop pieces wh idle <<<"$(today "$T/record1.log")"
# 200 Wh while running, 100 Wh stopped
t_eq "first run: state, pieces, energy, idle" "stop 5 300.0 100.0" "$st $pieces $wh $idle"
awk -v r="$run" -v s="$stop" 'BEGIN { exit !(r > 20 && s > 20) }' ||
	t_fail "first run: run $run %, stop $stop %: $(grep 'machine press' "$T/record1.log")"
t_ok "first run: stopped, 5 pieces, run $run %, stop $stop %"

# ---- the second run: the day read back, then more of it ----
t_bg record2 "$PHASOR" record -c "$T/phasor.ini" -v
REC=$T_LAST_PID
t_wait 15 grep -q "subscribed" "$T/record2.log" || t_fail "the second record never subscribed"
grep -q "machines: today's figures read back" "$T/record2.log" ||
	t_fail "the second record did not read the day back: $(grep machines "$T/record2.log")"
meter 10.4 5000
machine '{"state":"run","count":200}'
sleep 0.5
machine '{"state":"run","count":203}'
sleep 0.5

# An attached console: view 7 from the buffer, seeded and following.
t_tmux_start con 100 30 env LANG=C NO_COLOR=1 TERM=xterm "$PHASOR" -c "$T/phasor.ini"
t_tmux_wait con 15 ' attached ' || t_fail "the console did not attach: $(t_tmux_capture con)"
t_machines_view con press run
# Today: run% wait% stop% pieces: the first run's stop is in it, 5 + 3 pieces
# and the first run's 300 Wh, 100 of them stopped
t_tmux_wait con 10 "press +[0-9.]+ +0\.0 +[1-9][0-9]*\.[0-9] +8 +300 Wh +38 Wh +100 Wh" ||
	t_fail "attached: today is not the two runs' (a stop share, 8 pieces, 300 Wh): $(t_tmux_capture con)"
t_ok "attached console: press run, today with the first run's stop, 8 pieces, 300 Wh"
machine '{"state":"run","count":204}'
t_tmux_wait con 10 "press +[0-9.]+ +0\.0 +[1-9][0-9]*\.[0-9] +9 " ||
	t_fail "attached: the new piece did not come: $(t_tmux_capture con)"
t_ok "attached console follows: 9 pieces"
t_tmux_quit con
t_tmux_wait_exit con 20 >/dev/null || t_fail "the attached console did not quit"
sleep 0.5
t_stop "$REC" TERM || t_fail "the second record exited $? on SIGTERM"
t_no_sanitizer_errors "$T/record2.log"
read -r st run wait stop pieces wh idle <<<"$(today "$T/record2.log")"
# the meter's first value after the restart is a base: the first run's energy
t_eq "second run: state, pieces, energy, idle (the day continued)" "run 9 300.0 100.0" \
	"$st $pieces $wh $idle"
awk -v s="$stop" 'BEGIN { exit !(s > 10) }' ||
	t_fail "second run: the first run's stop is not in today: $(grep 'machine press' "$T/record2.log")"
t_ok "restarted recorder: today goes on, 9 pieces, stop $stop %"

# ---- the replay: its cursor is the clock ----
t_tmux_start rp 100 30 env LANG=C NO_COLOR=1 TERM=xterm "$PHASOR" replay --db "$db"
t_tmux_wait rp 10 "REPLAY .* paused" || t_fail "no playback bar: $(t_tmux_capture rp)"
t_machines_view rp press unknown
t_tmux_wait rp 10 "press +- +- +- +0 " ||
	t_fail "replay at the recording's start: not empty: $(t_tmux_capture rp)"
t_tmux_keys rp End
t_tmux_wait rp 10 "press +[0-9.]+ +0\.0 +[1-9][0-9]*\.[0-9] +9 " ||
	t_fail "replay at the end: not the day's 9 pieces: $(t_tmux_capture rp)"
t_tmux_wait rp 5 "press +run " || t_fail "replay at the end: not running: $(t_tmux_capture rp)"
t_ok "replay: nothing at the start, run and 9 pieces at the end"
t_tmux_keys rp q
t_eq "the replay's exit status" 0 "$(t_tmux_wait_exit rp 20)"
