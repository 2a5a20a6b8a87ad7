#!/bin/bash
# SPDX-License-Identifier: MIT
# Every option a command accepts is in its --help, and its --help lists no
# option it refuses. The candidates are every long option any command
# knows (from the option tables in src/cmd and the common ones); for each
# command, "accepted" means the parser does not call it unknown. Run as
# `phasor CMD extra --opt`: an option with a value then lacks it, one
# without meets the stray operand, so nothing ever starts.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export PHASOR_CONFIG=$T/none.ini HOME=$T XDG_CONFIG_HOME=$T

cands=$(grep -ho '{ "[a-z][a-z-]*", \(true\|false\)' "$ROOT"/src/cmd/*.c |
	sed 's/{ "\([a-z-]*\)".*/\1/' | sort -u)
cands="$cands config db log verbose quiet"
[ "$(echo "$cands" | wc -w)" -gt 25 ] || t_fail "too few candidate options: $cands"

# console: argv[1] must be an option, so lead with one it knows
check() { # NAME HELP-CMD... -- RUN-PREFIX...
	local name=$1 help_out run
	shift
	help_out=$("$@" --help 2>&1)
	# phasor --help: the console's options, then the commands' overview
	[ "$name" = console ] && help_out=$(echo "$help_out" | sed '/^Commands:/,$d')
	[ -n "$help_out" ] || t_fail "$name --help printed nothing"
	case $name in console) run=("$PHASOR" --read-only) ;; *) run=("$@") ;; esac
	local acc=0 o out
	for o in $cands; do
		out=$(timeout 10 "${run[@]}" extra "--$o" </dev/null 2>&1)
		if echo "$out" | grep -q "unknown option"; then
			echo "$help_out" | grep -qE -- "--$o([^a-z-]|$)" &&
				t_fail "$name --help lists --$o, which it refuses"
		else
			acc=$((acc + 1))
			echo "$help_out" | grep -qE -- "--$o([^a-z-]|$)" ||
				t_fail "$name accepts --$o but its --help does not list it"
		fi
	done
	[ $acc -ge 1 ] || t_fail "$name accepts only $acc options: the probe is broken"
	t_ok "$name: $acc options, all in its --help"
}

check console "$PHASOR"
for c in record sync export alarms sim check-config forecast; do
	check "$c" "$PHASOR" "$c"
done

# A prefix of an option is not the option: "--for" is not "--format".
out=$("$PHASOR" export --db "$T/x.db" --for csv 2>&1)
t_eq "export --for: exit status" 2 "$?"
echo "$out" | grep -qF "unknown option '--for' (did you mean '--format'?)" ||
	t_fail "export --for: $out"
out=$("$PHASOR" record --fo 10 2>&1)
echo "$out" | grep -qF "unknown option '--fo' (did you mean '--for'?)" || t_fail "record --fo: $out"
t_ok "abbreviated options refused"

# The overview lists every command and the reader formats.
top=$("$PHASOR" --help)
for c in record sync export alarms sim check-config forecast; do
	echo "$top" | grep -q "phasor $c" || t_fail "phasor --help lacks $c"
done
[ "$(echo "$top" | grep -c 'csv|jsonl')" -ge 2 ] || t_fail "phasor --help: --format csv|jsonl not shown for export and alarms"
t_ok "phasor --help lists every command"
