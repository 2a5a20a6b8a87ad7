#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every cmocka unit test binary given; exit 1 when one fails. With
# COUNTS set, appends "PASSED FAILED" (test cases) to that file.
fail=0
passed=0
failed=0
here=$(cd "$(dirname "$0")" && pwd)
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/lsan.supp:print_suppressions=0}"
for t in "$@"; do
	name=$(basename "$t")
	if out=$("$t" 2>&1); then
		n=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
		echo "unit  ok    $name ($n tests)"
		passed=$((passed + n))
	else
		printf '%s\n' "$out"
		echo "unit  FAIL  $name"
		fail=1
		n=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
		k=$(printf '%s\n' "$out" | grep '^\[  FAILED  \] [a-z_]' | sort -u | wc -l)
		passed=$((passed + n))
		failed=$((failed + (k > 0 ? k : 1)))
	fi
done
[ -n "${COUNTS:-}" ] && echo "$passed $failed" >>"$COUNTS"
exit $fail
