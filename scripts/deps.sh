#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages phasor needs to build, test and run the demo.
# Only what is missing is installed; with nothing missing this is a no-op
# that touches neither the network nor apt's lists.
#
#   scripts/deps.sh          install what is missing
#   scripts/deps.sh --list   print the package list
#   scripts/deps.sh --check  exit 1 when something is missing, install nothing
set -eu

# clang, libclang-rt-14-dev: the fuzz harnesses (libFuzzer's runtime is in
# the second, only recommended by clang; Debian 12's clang is 14).
# locales: the locale sources localedef compiles (test_locale generates
# fr_FR.UTF-8 and de_DE.UTF-8 in its own directory); openssl: the TLS tests
# make their CA and certificates with it at test time; libcrypt-dev:
# crypt(3) for the operators file ([auth] operators); faketime: make soak
# steps the recorder's clock with libfaketime. libcairo2-dev: `phasor
# report` draws its PDF and PNG pages with cairo, in DejaVu Sans
# (fonts-dejavu-core, found through fontconfig); poppler-utils: the report
# test reads the PDF back (pdftotext, pdfinfo). protobuf-c-compiler,
# libprotobuf-c-dev: the Sparkplug B payload (proto/sparkplug_b.proto) is
# compiled by protoc-c at build time and linked with libprotobuf-c.
PKGS="gcc make pkg-config libc6-dev libcrypt-dev clang libclang-rt-14-dev
libncurses-dev libmodbus-dev libpaho-mqtt-dev libinih-dev libcjson-dev
libsqlite3-dev libpq-dev libssl-dev openssl libcmocka-dev zlib1g-dev libgsl-dev
mosquitto mosquitto-clients mbpoll tmux sqlite3 jq postgresql valgrind htop
procps iproute2 util-linux locales faketime libcairo2-dev fonts-dejavu-core
poppler-utils file protobuf-c-compiler libprotobuf-c-dev"

case "${1:-}" in
--list) echo $PKGS; exit 0 ;;
esac

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

[ -z "$missing" ] && exit 0
if [ "${1:-}" = "--check" ]; then
	echo "missing Debian packages:$missing" >&2
	exit 1
fi

echo "deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: not root and no sudo; install as root:$missing" >&2
		exit 1
	}
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists: update only when the first
# attempt fails, so a machine that already has lists stays offline-friendly.
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y --no-install-recommends $missing; then
	$SUDO apt-get update
	$SUDO apt-get install -y --no-install-recommends $missing
fi
