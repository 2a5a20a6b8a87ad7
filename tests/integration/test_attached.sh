#!/bin/bash
# SPDX-License-Identifier: MIT
# One recorder, many consoles (issue 9): `phasor record` on the simulator,
# two consoles in tmux on the same configuration.
# - The consoles attach (status bar "attached"): the simulator sees one
#   Modbus client, the buffer one session and no sample twice.
# - The buffer holds ten minutes recorded before the consoles started (rows
#   written as a recorder writes them, stamped in the past): view 2's chart
#   shows them, the alarm details count the earlier raise and list it, the
#   EEMUA panel counts it.
# - An acknowledgement on one console is applied by the recorder, journaled
#   once (its request marked done), and shows on the other within 2 s.
# - kill -9 of the recorder: both say RECORDER GONE within 3 s; a restarted
#   recorder is picked up again, its new samples shown.
. "$(dirname "$0")/lib.sh"

t_sim --meters 2 --seed 7 --fault undervoltage:1
db="$T/buffer.db"
{
	printf '[site]\nname = Attached test\n'
	printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$db"
	printf '[log]\npath = %s\nlevel = info\n' "$T/phasor.log"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\n' "$SIM_PORT" "$u"
		# m1, a main board over 50 kW, raises the critical overload alarm
		# the read-only console shows below (none without max_power)
		if [ "$u" = 1 ]; then printf 'max_power = 50kW\n'; fi
	done
} >"$T/phasor.ini"
q() { t_sql "$db" "$1"; }
# has_session N: the buffer holds samples of session N
has_session() { [ "$(q "SELECT count(*) FROM samples WHERE session_id = $1" 2>/dev/null)" -gt 0 ]; }

# A short first recording makes the schema and the meters' rows; then ten
# minutes of the past go in as that session's rows: m1's active power at
# 50 kW every second and a raise and clear of voltage-low on m1.
"$PHASOR" record -c "$T/phasor.ini" --for 1 >"$T/first.log" 2>&1 || t_fail "first record: $?"
now=$(($(date +%s) * 1000000))
past=$((now - 600 * 1000000))
q "UPDATE sessions SET start_us = $past - 1000000;
   WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 589)
   INSERT INTO samples(t_us, meter_id, qty_id, value, quality, session_id)
   SELECT $past + i * 1000000, (SELECT id FROM meters WHERE name = 'm1'),
          (SELECT id FROM quantities WHERE name = 'p_total'), 50000.0, 0, 1 FROM s;
   INSERT INTO alarm_events(t_us, id, origin, session_id, alarm, meter, quantity, priority,
          event, state, value, limit_value, raised_us)
   VALUES($past + 60000000, (SELECT value FROM identity WHERE key = 'console_id') || ':0.1',
          (SELECT value FROM identity WHERE key = 'console_id'), 1, 'voltage-low', 'm1',
          'voltage_ll', 'high', 'raise', 'unack', 350.5, 380, $past + 60000000),
         ($past + 120000000, (SELECT value FROM identity WHERE key = 'console_id') || ':0.2',
          (SELECT value FROM identity WHERE key = 'console_id'), 1, 'voltage-low', 'm1',
          'voltage_ll', 'high', 'clear', 'normal', 395, 380, $past + 60000000);"
t_eq "injected history" 590 "$(q "SELECT count(*) FROM samples WHERE value = 50000.0")"

t_bg recorder "$PHASOR" record -c "$T/phasor.ini"
REC_PID=$T_LAST_PID
t_wait 10 has_session 2 || t_fail "the recorder stores nothing"
clients_before=$(grep -c -E 'client [^ ]+ connected \(' "$T/sim.log")

t_tmux_start c1 100 30 "$PHASOR" -c "$T/phasor.ini"
t_tmux_start c2 80 24 "$PHASOR" -c "$T/phasor.ini"
t_tmux_wait c1 10 ' attached ' || t_fail "console 1 does not say it is attached"
t_tmux_wait c2 10 ' attached ' || t_fail "console 2 does not say it is attached"
t_tmux_wait c1 10 'm1 .*● ok' || t_fail "console 1 shows no live m1"
t_ok "both consoles attached, m1 live"

# No second poller, no second writer.
sleep 2
t_eq "simulator clients (the recorder's only)" "$clients_before" \
	"$(grep -c -E 'client [^ ]+ connected \(' "$T/sim.log")"
t_eq "sessions in the buffer (first record, recorder)" "1 record|2 record" \
	"$(q "SELECT group_concat(id || ' ' || mode, '|') FROM sessions")"
t_eq "samples stored twice" 0 "$(q "SELECT count(*) FROM (SELECT 1 FROM samples
	GROUP BY meter_id, qty_id, t_us HAVING count(*) > 1)")"

# History: view 2's chart reaches 10 minutes back (the 50 kW minimum).
t_tmux_keys c2 2
t_tmux_wait c2 10 'Active power, last hour +min 50\.0 kW' ||
	t_fail "view 2 does not show the ten recorded minutes"
t_tmux_wait c2 5 '^ *-60m .*now' || t_fail "no time axis on view 2"
t_ok "view 2: the last hour from the buffer (min 50.0 kW)"

# The alarm: raised again now (undervoltage from the start), so 2 raises.
t_tmux_keys c1 3
t_tmux_wait c1 15 'UNACK +HIGH .* m1 +Low voltage' || t_fail "console 1: no voltage-low on m1"
t_tmux_keys c1 / v o l t a g e Enter
t_tmux_wait c1 5 '▶.*UNACK +HIGH .* m1 +Low voltage' || t_fail "console 1: cannot select it"
t_tmux_keys c1 Enter
t_tmux_wait c1 5 'raised 2 times' || t_fail "details: the earlier raise is not counted"
t_tmux_wait c1 5 'clear +-> normal' || t_fail "details: the earlier clear is not in the history"
t_ok "details: raised 2 times, the recorded clear listed"
t_tmux_keys c1 Escape

# EEMUA: both raises of voltage-low, with the recording's 24 h.
t_tmux_keys c2 3 p
t_tmux_wait c2 5 '1\. +[0-9]+ +m1 +voltage-low' || t_fail "EEMUA panel: voltage-low not counted"
raises=$(t_tmux_capture c2 | sed -n 's/.*1\. *\([0-9]*\) *m1 *voltage-low.*/\1/p')
[ "${raises:-0}" -ge 2 ] || t_fail "EEMUA panel: voltage-low raised $raises times, expected >= 2"
t_ok "EEMUA panel: voltage-low $raises raises"
t_tmux_keys c2 p

# Acknowledge on console 1: the recorder applies it, once; console 2 sees it.
t_tmux_keys c1 a
t_tmux_wait c1 5 'sent to the recorder|done by the recorder' || t_fail "console 1: no answer to the ack"
t_tmux_wait c1 5 'done by the recorder' || t_fail "console 1: the recorder did not confirm"
t_tmux_keys c2 /  v o l t a g e Enter
t_tmux_wait c2 2 'ACKED +HIGH .* m1 ' || t_fail "console 2 does not show the ack within 2 s"
t_eq "ack rows in the journal" 1 "$(q "SELECT count(*) FROM alarm_events WHERE event = 'ack'
	AND alarm = 'voltage-low' AND meter = 'm1'")"
t_eq "requests done, refused, pending" "1 0 0" "$(q "SELECT
	(SELECT count(*) FROM alarm_requests WHERE result = '') || ' ' ||
	(SELECT count(*) FROM alarm_requests WHERE result != '') || ' ' ||
	(SELECT count(*) FROM alarm_requests WHERE done_us IS NULL)")"
t_eq "the request's event is the ack" "$(q "SELECT id FROM alarm_events WHERE event = 'ack'")" \
	"$(q "SELECT event_id FROM alarm_requests")"
op=$(q "SELECT operator FROM alarm_events WHERE event = 'ack'")
[ -n "$op" ] || t_fail "the ack has no operator"
t_ok "ack by $op: journaled once, shown on console 2"
# A second ack of the same alarm is refused on the console itself.
t_tmux_keys c2 a
t_tmux_wait c2 3 'nothing to acknowledge' || t_fail "console 2: a second ack was not refused"
t_ok "a second ack: refused on the console (nothing to acknowledge)"

# A read-only console attaches too and sends no request.
t_tmux_start c3 80 24 "$PHASOR" -c "$T/phasor.ini" --read-only
t_tmux_wait c3 30 ' attached ' || t_fail "the read-only console does not attach"
t_tmux_keys c3 3
t_tmux_wait c3 10 'UNACK +CRIT' || t_fail "the read-only console shows no unacknowledged alarm"
t_tmux_keys c3 a
t_tmux_wait c3 3 'read-only console' || t_fail "the read-only console did not refuse the ack"
sleep 0.5
t_eq "requests after the read-only console's ack" 1 "$(q "SELECT count(*) FROM alarm_requests")"
t_tmux_keys c3 q
t_eq "c3 exit status" 0 "$(t_tmux_wait_exit c3 10)"

# kill -9 of the recorder.
kill -9 "$REC_PID"
wait "$REC_PID" 2>/dev/null
t_tmux_wait c1 3 'RECORDER GONE' || t_fail "console 1 does not say the recorder is gone"
t_tmux_wait c2 3 'RECORDER GONE' || t_fail "console 2 does not say the recorder is gone"
t_ok "both consoles: RECORDER GONE"

t_bg recorder2 "$PHASOR" record -c "$T/phasor.ini"
t_tmux_wait c1 10 ' attached ' || t_fail "console 1 does not pick the new recorder up"
t_tmux_wait c2 10 ' attached ' || t_fail "console 2 does not pick the new recorder up"
newest=$(q "SELECT max(t_us) FROM samples")
t_wait 10 has_session 3 || t_fail "the new recorder stores nothing"
t_tmux_keys c1 Escape 1
t_tmux_wait c1 5 'm1 .*● ok' || t_fail "console 1: m1 not live after the restart"
t_ok "the restarted recorder is followed (newest sample $newest)"
t_eq "simulator clients: one more, the new recorder" $((clients_before + 1)) \
	"$(grep -c -E 'client [^ ]+ connected \(' "$T/sim.log")"

for c in c1 c2; do
	t_tmux_keys $c q
	t_eq "$c exit status" 0 "$(t_tmux_wait_exit $c 10)"
done
# The journal through a pipe closed early: no "Broken pipe", exit 0.
"$PHASOR" alarms --db "$db" 2>"$T/pipe.err" | head -n 1 >/dev/null
t_eq "alarms | head: exit status" 0 "${PIPESTATUS[0]}"
t_eq "alarms | head: stderr" "" "$(cat "$T/pipe.err")"
t_no_sanitizer_errors "$T/phasor.log"
t_ok "done"
