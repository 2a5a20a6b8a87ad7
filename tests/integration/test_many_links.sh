#!/bin/bash
# SPDX-License-Identifier: MIT
# More links than any fixed array held (64): 70 `phasor sim` processes on
# 70 ports, one meter each, so 70 Modbus endpoints. `phasor record --for`
# counts every one of them in its summary (70/70 links up) and logs one
# `link modbus` line per endpoint; the console's status bar says
# `links 70/70 up`, the sources view counts 70 links up and lists the last
# endpoint too.
. "$(dirname "$0")/lib.sh"

N=70
# Each simulator on a port of its own choosing (port 0), read back from its
# "modbus listening on" line; --for bounds it should the cleanup miss it.
for i in $(seq 1 $N); do
	t_bg "sim$i" "$PHASOR" sim --modbus 127.0.0.1:0 --meters 1 --seed "$i" --for 120
done
ports=()
for i in $(seq 1 $N); do
	t_wait 20 grep -q "modbus listening on" "$T/sim$i.log" || t_fail "simulator $i never listened"
	p=$(sed -n 's/.*modbus listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$T/sim$i.log" | head -1)
	[ -n "$p" ] || t_fail "simulator $i: no port in its log"
	ports+=("$p")
done
t_eq "distinct simulator ports" $N "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)"

{
	printf '[site]\nname = many links\n[store]\npath = %s/b.db\ncommit_interval = 200ms\n' "$T"
	for i in $(seq 1 $N); do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$i"
		printf 'port = %d\nunit = 1\npoll_ms = 1000\ntimeout_ms = 1000\n' "${ports[$((i - 1))]}"
		# Unit 1 is a main board (about 150 kW): no overload alarm here.
		printf 'max_power = 500kW\n'
	done
} >"$T/c.ini"
"$PHASOR" check-config -c "$T/c.ini" >"$T/check.txt" 2>&1 || t_fail "check-config refused the config"

# The recorder: summary and one line per link, all of them.
"$PHASOR" record -c "$T/c.ini" --for 5 >"$T/record.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"
summary=$(grep -o 'record: stopped: .* links up' "$T/record.log" | grep -o '[0-9]*/[0-9]* links up')
t_eq "record's last summary" "$N/$N links up" "$summary"
t_eq "'link modbus' lines" $N "$(grep -c 'link modbus 127\.0\.0\.1:[0-9]*: up,' "$T/record.log")"
t_eq "endpoints named in them" $N \
	"$(grep -o 'link modbus 127\.0\.0\.1:[0-9]*' "$T/record.log" | sort -u | wc -l)"

# The console: the status bar and the sources view.
t_tmux_start con 120 40 env LANG=C.UTF-8 TERM=xterm-256color "$PHASOR" -c "$T/c.ini" \
	2>"$T/console.log"
t_tmux_wait con 30 "links $N/$N up" ||
	t_fail "the status bar never said 'links $N/$N up': $(t_tmux_capture con | grep -o 'links* [0-9]*/[0-9]* up')"
t_ok "status bar: links $N/$N up"
t_tmux_keys con 5
t_tmux_wait con 5 "\[5 Sources\]" || t_fail "5 did not open the sources view"
t_tmux_wait con 10 "Sources +$N of $N links up" ||
	t_fail "the sources view does not count $N links up: $(t_tmux_capture con | grep -o '[0-9]* of [0-9]* links up')"
t_ok "sources view: $N of $N links up"
# Every link is drawn, the last endpoint included (just above the buffer).
last=${ports[$((N - 1))]}
# Page down to the bottom (PgDn: tmux sends End as ESC [ 4 ~, which
# xterm-256color does not know); about 8 pages here, at most 40 presses.
for _ in $(seq 1 40); do
	t_tmux_capture con | grep -q "Hub queue" && break
	t_tmux_keys con NPage
	sleep 0.2
done
t_tmux_wait con 5 "Hub queue" || t_fail "PgDn never reached the bottom of the sources view"
t_tmux_capture con | grep -Eq "127\.0\.0\.1:$last( |\$)" ||
	t_fail "the last endpoint (port $last) is not in the sources view"
t_ok "sources view lists the last endpoint"
t_tmux_quit con
rc=$(t_tmux_wait_exit con 20) || t_fail "the console did not quit"
t_eq "console exit status" 0 "$rc"
t_no_sanitizer_errors "$T/console.log"
