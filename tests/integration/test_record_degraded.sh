#!/bin/bash
# SPDX-License-Identifier: MIT
# phasor record's summary line counts links as the console reads them: a
# simulator whose every unit stops answering keeps its TCP connection, and
# its link is "degraded", not "up" (issue 10, item 2).
. "$(dirname "$0")/lib.sh"

t_sim --meters 2 --seed 3 --fault timeout@3
{
	printf '[store]\npath = %s/b.db\n' "$T"
	for u in 1 2; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\n' "$SIM_PORT" "$u"
	done
} >"$T/r.ini"
"$PHASOR" record -c "$T/r.ini" --for 12 --stats 1 >"$T/record.log" 2>&1 || t_fail "record exited $?"
t_no_sanitizer_errors "$T/record.log"
grep -q 'samples, 1/1 links up, mqtt' "$T/record.log" ||
	t_fail "never 1/1 links up while the units answered: $(grep 'links up' "$T/record.log" | head -3)"
grep -q 'samples, 0/1 links up (1 degraded), mqtt' "$T/record.log" ||
	t_fail "no degraded link once no unit answers: $(grep 'links up' "$T/record.log" | tail -3)"
t_ok "summary: 1/1 links up, then 0/1 links up (1 degraded)"
