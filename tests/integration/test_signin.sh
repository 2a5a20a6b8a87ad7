#!/bin/bash
# SPDX-License-Identifier: MIT
# Operator identity on a shared terminal (issue 16 item 3): with [auth]
# operators, the first action asks for a name and PIN (crypt(3) hashes, made
# here with openssl passwd -6); a wrong PIN is refused, the right one signs
# the person in and the acknowledgement is journaled as that person, not as
# the login; after [auth] idle without a key the next action asks again;
# five wrong tries lock the sign-in for a minute; I signs in and out.
. "$(dirname "$0")/lib.sh"

t_sim --meters 2 --seed 6 --fault undervoltage
{
	printf 'Jane Doe:%s\n' "$(openssl passwd -6 -salt jdsalt 1234)"
	printf 'Bob:%s\n' "$(openssl passwd -6 -salt bobsalt 5678)"
} >"$T/operators"
chmod 640 "$T/operators"
{
	printf '[site]\nname = signin\n[store]\npath = %s/s.db\ncommit_interval = 200ms\n' "$T"
	printf '[log]\npath = %s/console.log\nlevel = info\n' "$T"
	printf '[auth]\noperators = %s\nidle = 4s\n' "$T/operators"
	t_sim_meters 2
} >"$T/c.ini"
"$PHASOR" check-config -c "$T/c.ini" >"$T/check.out" 2>&1 || t_fail "check-config: $(cat "$T/check.out")"
grep -q "auth: 2 people in $T/operators, signed in for 4s without a key" "$T/check.out" ||
	t_fail "check-config does not describe [auth]: $(cat "$T/check.out")"

type_text() { tmux -S "$TMUX_SOCK" send-keys -t "=c:" -l "$1"; }
t_tmux_start c 100 30 env LANG=C TERM=xterm-256color "$PHASOR" -c "$T/c.ini"
t_tmux_keys c 3
t_tmux_wait c 30 "UNACK +HIGH .*m1 " || t_fail "no alarm for m1"
t_tmux_wait c 10 "UNACK +HIGH .*m2 " || t_fail "no alarm for m2"
t_tmux_wait c 5 "I:sign in" || t_fail "the status bar does not offer to sign in"

# a: nobody signed in, the box opens; a wrong PIN is refused
t_tmux_keys c a
t_tmux_wait c 5 "Sign in to act" || t_fail "a did not ask to sign in"
type_text "Jane Doe"; t_tmux_keys c Enter
type_text "9999"; t_tmux_keys c Enter
t_tmux_wait c 5 "wrong name or PIN" || t_fail "a wrong PIN was not refused"
t_tmux_capture c | grep -q "acknowledged: " && t_fail "acknowledged without a sign-in"
type_text "Jane Doe"; t_tmux_keys c Enter
type_text "1234"
t_tmux_wait c 5 "PIN: +\*\*\*\*_" || t_fail "the PIN is not shown as stars"
t_tmux_capture c | grep -q "1234" && t_fail "the PIN is shown"
t_tmux_keys c Enter
t_tmux_wait c 5 "signed in as Jane Doe: press the key again" || t_fail "the right PIN did not sign in"
t_tmux_wait c 5 "op Jane Doe" || t_fail "the status bar does not show who is signed in"
t_tmux_keys c a
t_tmux_wait c 5 "acknowledged: " || t_fail "a did not acknowledge once signed in"
t_ok "a wrong PIN refused; signed in as Jane Doe; acknowledged"

# idle: 4 s without a key, the next action asks again
sleep 5
t_tmux_keys c n
t_tmux_wait c 5 "Sign in to act" || t_fail "after 4 s idle, n did not ask to sign in again"
t_tmux_wait c 5 "signed out after 4 s without a key" || t_fail "no word of the idle sign-out"
t_tmux_keys c Escape
t_tmux_wait c 5 "I:sign in" || t_fail "still signed in after the idle time"
t_ok "signed out after 4 s idle; the next action asks again"

# five wrong tries lock the sign-in; the right PIN is then refused too
t_tmux_keys c I
t_tmux_wait c 5 "Sign in to act" || t_fail "I did not open the sign-in"
for i in 1 2 3 4 5; do
	type_text "Bob"; t_tmux_keys c Enter
	type_text "0000"; t_tmux_keys c Enter
done
t_tmux_wait c 5 "5 wrong tries: no sign-in for 60 s" || t_fail "five wrong tries did not lock"
type_text "Bob"; t_tmux_keys c Enter
type_text "5678"; t_tmux_keys c Enter
t_tmux_wait c 5 "too many wrong tries: wait [0-9]+ s" || t_fail "the lock let the right PIN in"
t_tmux_keys c Escape
t_ok "five wrong tries lock the sign-in for a minute"

t_tmux_quit c
t_eq "the console's exit status" 0 "$(t_tmux_wait_exit c 20)"
"$PHASOR" alarms --db "$T/s.db" --format jsonl >"$T/j.jsonl" || t_fail "phasor alarms failed"
t_eq "acknowledgements journaled as Jane Doe" 1 \
	"$(jq -c 'select(.event == "ack" and .operator == "Jane Doe")' "$T/j.jsonl" | wc -l)"
t_eq "operator events by anyone else" 0 \
	"$(jq -c 'select((.event == "ack" or .event == "note" or .event == "shelve")
		and .operator != "Jane Doe")' "$T/j.jsonl" | wc -l)"
t_eq "refused sign-ins in the log" 7 "$(grep -c "sign-in as '[A-Za-z ]*' refused" "$T/console.log")"
grep -q "console: Jane Doe signed in" "$T/console.log" || t_fail "no sign-in in the log"
grep -q "console: Jane Doe signed out (idle)" "$T/console.log" || t_fail "no idle sign-out in the log"
grep -q "1234\|5678" "$T/console.log" && t_fail "a PIN is in the log"
t_stop "$SIM_PID"
t_no_sanitizer_errors "$T/console.log"
t_ok "done"
