#!/bin/bash
# SPDX-License-Identifier: MIT
# Who may acknowledge (issue 16 item 3): the deployment of docs/deployment.md
# ("Shared acknowledgements: who may publish"): a broker with per-console
# credentials and an ACL that lets each console publish only under its own
# origin (phasor/alarms/events/ORIGIN, phasor/alarms/state/ORIGIN/#), every
# console reading all. Console A's acknowledgement reaches console B; a
# client without credentials cannot even connect; an authenticated client
# that forges A's acknowledgement under A's topic is stopped by the broker,
# and under its own topic by B (the origin is not the topic's), so the
# forged ack is never applied nor journaled.
. "$(dirname "$0")/lib.sh"

command -v mosquitto_passwd >/dev/null || t_fail "mosquitto_passwd is not installed"
t_sim --meters 2 --seed 6 --fault undervoltage
MQTT_PORT=$(t_port)
for u in console-a console-b intruder; do
	[ -f "$T/passwd" ] && c= || c=-c
	mosquitto_passwd $c -b "$T/passwd" "$u" "secret-$u" || t_fail "mosquitto_passwd $u"
done
printf 'secret-console-a\n' >"$T/a.pass"
printf 'secret-console-b\n' >"$T/b.pass"
chmod 600 "$T/a.pass" "$T/b.pass" "$T/passwd"
acl() { # the intruder's entries, then each console's: $1 $2 = A's and B's origins (or none)
	printf 'user intruder\ntopic read phasor/alarms/#\n'
	printf 'topic write phasor/alarms/events/intruder\ntopic write phasor/alarms/state/intruder/#\n'
	if [ -n "${1:-}" ]; then
		printf '\nuser console-a\ntopic read phasor/alarms/#\n'
		printf 'topic write phasor/alarms/events/%s\ntopic write phasor/alarms/state/%s/#\n' "$1" "$1"
		printf '\nuser console-b\ntopic read phasor/alarms/#\n'
		printf 'topic write phasor/alarms/events/%s\ntopic write phasor/alarms/state/%s/#\n' "$2" "$2"
	fi
}
acl >"$T/acl"
cat >"$T/mosquitto.conf" <<EOC
listener $MQTT_PORT 127.0.0.1
allow_anonymous false
password_file $T/passwd
acl_file $T/acl
persistence false
user $(id -un)
log_dest file $T/broker.log
log_type all
EOC
t_bg mosquitto mosquitto -c "$T/mosquitto.conf"
MQTT_PID=$T_LAST_PID
t_wait_port "$MQTT_PORT"

conf() { # conf NAME
	printf '[site]\nname = acl\n[store]\npath = %s/%s.db\n' "$T" "$1"
	printf '[log]\npath = %s/%s.log\nlevel = info\n' "$T" "$1"
	printf '[mqtt]\nuri = tcp://127.0.0.1:%d\nclient_id = phasor-%s\n' "$MQTT_PORT" "$1"
	printf 'username = console-%s\npassword_file = %s/%s.pass\n' "$1" "$T" "$1"
	printf '[operators]\n%s = operator-%s\n' "$(id -un)" "$1"
	t_sim_meters 2
}
conf a >"$T/a.ini"
conf b >"$T/b.ini"
for s in a b; do
	t_tmux_start $s 120 40 env LANG=C TERM=xterm-256color "$PHASOR" -c "$T/$s.ini"
done
for s in a b; do
	t_tmux_keys $s 3
	t_tmux_wait $s 30 "UNACK +HIGH .*m1 " || t_fail "console $s: no alarm for m1"
	t_tmux_wait $s 10 "UNACK +HIGH .*m2 " || t_fail "console $s: no alarm for m2"
	t_tmux_wait $s 10 "links 2/2 up" || t_fail "console $s is not connected to the broker"
done
aid=$(t_sql "$T/a.db" "SELECT value FROM identity WHERE key = 'console_id'")
bid=$(t_sql "$T/b.db" "SELECT value FROM identity WHERE key = 'console_id'")
[ -n "$aid" ] && [ -n "$bid" ] || t_fail "no console ids"
# Each console's own topics, now that their ids are known: the broker reads
# its ACL again on SIGHUP.
acl "$aid" "$bid" >"$T/acl"
kill -HUP "$MQTT_PID"
sleep 1
t_ok "broker with credentials and an ACL per console ($aid, $bid)"

# A acknowledges the selected row; B applies it.
t_tmux_keys a a
t_tmux_wait a 5 "acknowledged: " || t_fail "A: no feedback"
acked=$(t_tmux_capture a | sed -n 's/.*acknowledged: [a-z_-]* on \(m[12]\).*/\1/p' | head -1)
[ -n "$acked" ] || t_fail "cannot tell which alarm A acknowledged"
t_tmux_wait b 10 "ACKED +HIGH .*$acked " || t_fail "B never saw A's ack of $acked"
other=m1
[ "$acked" = m1 ] && other=m2
t_ok "A's acknowledgement of $acked reaches B through the ACL"

# No credentials, no connection.
if mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -q 1 -t "phasor/alarms/events/$aid" -m '{}' \
	2>"$T/anon.err"; then
	t_fail "an anonymous client could publish"
fi
t_ok "anonymous: refused ($(head -1 "$T/anon.err"))"

# The intruder forges A's acknowledgement of the other alarm.
alarm=$(t_sql "$T/b.db" "SELECT alarm FROM alarm_events WHERE meter = '$other' AND event = 'raise'
	ORDER BY seq LIMIT 1")
[ -n "$alarm" ] || t_fail "no raise of $other in B's journal"
forge() { # forge ID
	printf '{"id":"%s","origin":"%s","t_us":%s,"event":"ack","alarm":"%s","meter":"%s",' \
		"$1" "$aid" "$(($(date +%s%N) / 1000))" "$alarm" "$other"
	printf '"quantity":"v_l1n","priority":"high","state":"ack","value":300,"limit":380,'
	printf '"operator":"Mallory","note":"","raised_us":0,"until_us":0}'
}
pub() { # pub TOPIC PAYLOAD
	mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -u intruder -P secret-intruder -q 1 -t "$1" -m "$2" ||
		t_fail "the intruder could not publish on $1"
}
pub "phasor/alarms/events/$aid" "$(forge "$aid:forged.1")"
pub "phasor/alarms/state/$aid/$other/$alarm" "$(forge "$aid:forged.2")"
pub "phasor/alarms/events/intruder" "$(forge "$aid:forged.3")"
# (the consoles' own publishes before the reload were denied too: their
# client ids are phasor-a and phasor-b; mosquitto_pub's is random)
denied() { [ "$(grep "Denied PUBLISH from" "$T/broker.log" | grep -v "from phasor-" |
	grep -c "'phasor/alarms/[a-z]*/$aid")" -ge 2 ]; }
t_wait 10 denied || t_fail "the broker did not deny the intruder's publishes under A's topics"
t_wait 10 grep -q "claims another console" "$T/b.log" ||
	t_fail "B did not refuse the forged ack on the intruder's topic"
sleep 1
t_tmux_wait b 5 "UNACK +HIGH .*$other " || t_fail "B shows $other acknowledged by the forgery"
"$PHASOR" alarms --db "$T/b.db" --format jsonl >"$T/b.jsonl" || t_fail "phasor alarms failed"
t_eq "forged events in B's journal" 0 "$(grep -c 'forged' "$T/b.jsonl")"
t_eq "acks by Mallory in B's journal" 0 "$(grep -c 'Mallory' "$T/b.jsonl")"
t_eq "A's ack of $acked in B's journal, from A" 1 \
	"$(jq -c "select(.event == \"ack\" and .meter == \"$acked\" and .origin == \"$aid\")" "$T/b.jsonl" | wc -l)"
grep "claims another console" "$T/b.log" | head -1 | sed 's/^/    /' >&2
t_ok "forged under A's topic: stopped by the broker; under the intruder's: refused by B"

for s in a b; do t_tmux_quit $s; done
for s in a b; do
	t_eq "console $s exit status" 0 "$(t_tmux_wait_exit $s 20)"
done
t_stop "$MQTT_PID" TERM
t_stop "$SIM_PID"
for s in a b; do t_no_sanitizer_errors "$T/$s.log"; done
t_ok "done"
