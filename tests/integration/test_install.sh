#!/bin/bash
# SPDX-License-Identifier: MIT
# make install PREFIX=...: the installed binary finds its profiles beside
# itself (not in the source tree), and docs and profiles are installed.
. "$(dirname "$0")/lib.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
make --no-print-directory -s -C "$root" install PREFIX="$T/prefix" SANITIZE="${SANITIZE:-}" \
	>"$T/install.log" 2>&1 || t_fail "make install failed: $(cat "$T/install.log")"
bin="$T/prefix/bin/phasor"
[ -x "$bin" ] || t_fail "no binary at $bin"
for p in pac3200 sdm630 iem3000 umg96rm shelly-pro3em shelly-3em tasmota; do
	[ -f "$T/prefix/share/phasor/profiles/$p.ini" ] || t_fail "profile $p not installed"
done
for th in dark light high-contrast mono colorblind; do
	[ -f "$T/prefix/share/phasor/themes/$th.ini" ] || t_fail "theme $th not installed"
done
[ -f "$T/prefix/share/doc/phasor/configuration.md" ] || t_fail "docs not installed"
[ -f "$T/prefix/share/doc/phasor/operator-guide.md" ] || t_fail "operator guide not installed"
printf '[store]\npath = %s/b.db\n[meter a]\ndriver = modbus\nprofile = iem3000\nhost = 127.0.0.1\n' "$T" >"$T/c.ini"
out=$(env -u PHASOR_PROFILES "$bin" check-config -c "$T/c.ini") || t_fail "installed check-config failed"
echo "$out" | grep -q "$T/prefix/share/phasor/profiles/iem3000.ini" ||
	t_fail "the installed binary did not use its installed profiles: $out"
t_ok "installed binary uses $T/prefix/share/phasor/profiles"
"$bin" --version | grep -q '^phasor [0-9]' || t_fail "--version"
