#!/bin/sh
# SPDX-License-Identifier: MIT
# Run libFuzzer harnesses (built by `make fuzz-bins` into build/fuzz/bin):
#
#   sh tests/fuzz/run.sh SECONDS NAME...
#
# Each NAME runs for SECONDS over a working corpus build/fuzz/corpus/NAME
# (new inputs are kept there between runs) seeded from the committed
# tests/fuzz/corpus/NAME, which is only read. A crash, a leak, a timeout
# (10 s for one input) or an out-of-memory fails the harness: the input is
# kept as build/fuzz/crashes/NAME/crash-... and the report's head printed.
# Prints one line per harness with libFuzzer's figures (runs, cov: edges,
# ft: features, corpus size); the whole log is build/fuzz/logs/NAME.log.
# With COUNTS set, appends "PASSED FAILED" (harnesses) to that file. Exit 1
# when one failed.
cd "$(dirname "$0")/../.." || exit 2
secs=$1
shift
out=build/fuzz
here=$(pwd)
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fail=0
passed=0
failed=0
for name in "$@"; do
	bin=$out/bin/$name
	seeds=tests/fuzz/corpus/${name#fuzz_}
	work=$out/corpus/$name
	crashes=$out/crashes/$name
	log=$out/logs/$name.log
	mkdir -p "$work" "$crashes" "$out/logs"
	if [ ! -x "$bin" ]; then
		echo "fuzz  FAIL  $name (no $bin: make fuzz-bins)"
		fail=1
		failed=$((failed + 1))
		continue
	fi
	# stderr of the parsers (the commands' messages) goes to the log
	# with libFuzzer's own lines.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
		-print_final_stats=1 -artifact_prefix="$crashes/" "$work" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	ncorp=$(printf '%s\n' "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
	if [ "$rc" -eq 0 ]; then
		echo "fuzz  ok    $name (${secs} s, ${runs:-?} runs, cov ${cov:-?} ft ${ft:-?}, corpus ${ncorp:-?})"
		passed=$((passed + 1))
	else
		grep -E -m 1 -A 30 'ERROR: |runtime error|==[0-9]+==|Assertion|abort' "$log" | head -n 40
		echo "fuzz  FAIL  $name (exit $rc; input in $crashes/, log $log)"
		fail=1
		failed=$((failed + 1))
	fi
done
[ -n "${COUNTS:-}" ] && echo "$passed $failed" >>"$COUNTS"
exit $fail
