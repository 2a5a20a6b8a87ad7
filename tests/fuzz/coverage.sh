#!/bin/sh
# SPDX-License-Identifier: MIT
# The coverage of the parsers by the fuzz corpora (make fuzz-cov): each
# harness of build/fuzz-cov/bin (clang's source-based coverage) replays
# its grown corpus build/fuzz/corpus/NAME and the committed seeds, once
# (-runs=0); llvm-cov then reports lines, branches and functions of the
# parser files. Needs llvm-profdata and llvm-cov (Debian: llvm).
#
#   sh tests/fuzz/coverage.sh NAME...
cd "$(dirname "$0")/../.." || exit 2
out=build/fuzz-cov
pick() { # the first of the commands given that exists
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && { echo "$c"; return 0; }
	done
	return 1
}
profdata=$(pick llvm-profdata llvm-profdata-14) || { echo "fuzz-cov: no llvm-profdata (apt install llvm)" >&2; exit 1; }
cov=$(pick llvm-cov llvm-cov-14) || { echo "fuzz-cov: no llvm-cov (apt install llvm)" >&2; exit 1; }
rm -rf "$out/prof"
mkdir -p "$out/prof"
objs=""
for name in "$@"; do
	bin=$out/bin/$name
	mkdir -p "build/fuzz/corpus/$name"
	LLVM_PROFILE_FILE="$out/prof/$name.profraw" "$bin" -runs=0 \
		"build/fuzz/corpus/$name" "tests/fuzz/corpus/${name#fuzz_}" \
		>"$out/prof/$name.log" 2>&1 || {
		echo "fuzz-cov: $name failed on its corpus (log $out/prof/$name.log)" >&2
		exit 1
	}
	echo "fuzz-cov: $name: $(ls "build/fuzz/corpus/$name" | wc -l) grown inputs + $(ls "tests/fuzz/corpus/${name#fuzz_}" | wc -l) seeds"
	if [ -z "$objs" ]; then objs="$bin"; else objs="$objs -object $bin"; fi
done
"$profdata" merge -sparse "$out"/prof/*.profraw -o "$out/fuzz.profdata" || exit 1
# shellcheck disable=SC2086
"$cov" report $objs -instr-profile="$out/fuzz.profdata" \
	src/model/payload.c src/plant/alarmshare.c src/model/regmap.c src/model/config.c \
	src/base/inifile.c src/model/profile.c src/console/theme.c src/base/util.c \
	src/base/csv.c src/cmd/cmd_forecast.c
