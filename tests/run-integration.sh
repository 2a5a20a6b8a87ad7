#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the integration tests (tests/integration/test_*.sh), one at a time,
# each under a time limit. ONLY=pattern runs the matching ones.
# Needs PHASOR (the binary) and TOOLS (build/tools) in the environment.
# With COUNTS set, appends "PASSED FAILED" (scripts) to that file.
set -u
passed=0
nfailed=0
here=$(cd "$(dirname "$0")" && pwd)
fail=0
failed=""
start=$(date +%s)
for t in "$here"/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	case "$name" in *${ONLY:-}*) ;; *) continue ;; esac
	t0=$(date +%s)
	log=$(mktemp)
	if timeout -k 10 "${TEST_TIMEOUT:-300}" bash "$t" >"$log" 2>&1; then
		echo "integ ok    $name ($(( $(date +%s) - t0 ))s)"
		passed=$((passed + 1))
		[ -n "${VERBOSE:-}" ] && cat "$log"
	else
		rc=$?
		cat "$log"
		echo "integ FAIL  $name (exit $rc, $(( $(date +%s) - t0 ))s)"
		fail=1
		nfailed=$((nfailed + 1))
		failed="$failed $name"
	fi
	rm -f "$log"
done
echo "integration: $(( $(date +%s) - start ))s${failed:+, failed:$failed}"
[ -n "${COUNTS:-}" ] && echo "$passed $nfailed" >>"$COUNTS"
exit $fail
