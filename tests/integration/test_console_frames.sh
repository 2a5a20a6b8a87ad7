#!/bin/bash
# SPDX-License-Identifier: MIT
# --frames N exits by itself after N redraws; under valgrind (normal build)
# or the sanitizers (SANITIZE=1 build) with no error and no leak.
. "$(dirname "$0")/lib.sh"

t_sim --meters 2 --seed 3
printf '[store]\npath = %s/b.db\n[meter a]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = %d\nunit = 1\n[meter b]\ndriver = modbus\nprofile = sdm630\nhost = 127.0.0.1\nport = %d\nunit = 2\n' \
	"$T" "$SIM_PORT" "$SIM_PORT" >"$T/c.ini"
if [ "${SANITIZE:-}" = 1 ]; then
	t_tmux_start con 100 30 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini" \
		--frames 6 2>"$T/asan.log"
	rc=$(t_tmux_wait_exit con 60) || t_fail "--frames 6 never exited"
	t_eq "exit status under the sanitizers" 0 "$rc"
	t_no_sanitizer_errors "$T/asan.log"
else
	command -v valgrind >/dev/null || t_fail "valgrind is not installed"
	t_tmux_start con 100 30 env LANG=C.UTF-8 TERM=xterm-256color valgrind --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite,indirect --log-file="$T/vg.log" \
		"$PHASOR" -c "$T/c.ini" --frames 6
	rc=$(t_tmux_wait_exit con 180) || t_fail "--frames 6 never exited under valgrind"
	t_eq "exit status under valgrind" 0 "$rc"
	grep -q "ERROR SUMMARY: 0 errors" "$T/vg.log" || t_fail "valgrind errors: $(grep 'ERROR SUMMARY' "$T/vg.log")"
	grep -q "definitely lost: 0 bytes" "$T/vg.log" || grep -q "All heap blocks were freed" "$T/vg.log" ||
		t_fail "valgrind leaks: $(grep -A3 'LEAK SUMMARY' "$T/vg.log")"
	t_ok "valgrind: no error, no leak"
fi
# And the frames really were drawn: the buffer has this session's samples.
n=$(t_sql "$T/b.db" "SELECT count(*) FROM sessions WHERE mode = 'console' AND end_us IS NOT NULL")
t_eq "closed console sessions" 1 "$n"
