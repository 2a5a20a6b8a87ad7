#!/bin/bash
# SPDX-License-Identifier: MIT
# `phasor report` (issue 13) whose disk fills up half way through its
# pages, PDF and PNG, and through the CSV beside them: exit 1 with the
# cause, and nothing left behind (no page, no NAME.tmp-PID), an earlier
# report of the same name untouched. The disk is a small tmpfs in a
# private mount namespace, as in test_record_store_faults.
if [ -z "${PHASOR_IN_NS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		exec env PHASOR_IN_NS=1 unshare --mount --propagation private bash "$0"
	fi
	exec env PHASOR_IN_NS=1 unshare --user --map-root-user --mount bash "$0"
fi
. "$(dirname "$0")/lib.sh"

export PHASOR_PROFILES="${PHASOR_PROFILES:-$(cd "$(dirname "$0")/../.." && pwd)/conf/profiles}"
export TZ=UTC SOURCE_DATE_EPOCH=1796100000
db="$T/b.db"
"$TOOLS/repbuf" "$db" >"$T/repbuf.log" 2>&1 || t_fail "repbuf: $(tail -3 "$T/repbuf.log")"
FROM=2026-11-30T00:00:00Z
TO=2026-12-03T00:00:00Z
# the sizes of a whole report, written where there is room
"$PHASOR" report --db "$db" --from $FROM --to $TO -o "$T/ok.png" 2>"$T/ok.log" ||
	t_fail "report: $(cat "$T/ok.log")"
first=$(stat -c %s "$T/ok-1.png")
pages=$(ls "$T"/ok-*.png | wc -l)
[ "$pages" -ge 3 ] || t_fail "$pages PNG pages"
"$PHASOR" report --db "$db" --from $FROM --to $TO -o "$T/ok.pdf" --csv "$T/ok.csv" 2>"$T/ok.log" ||
	t_fail "report PDF: $(cat "$T/ok.log")"

disk="$T/disk"
mkdir -p "$disk"
# room for the first page and a half: the second or third fails
kib=$(((first * 3 / 2) / 1024 + 8))
mount -t tmpfs -o size=${kib}k tmpfs "$disk" || t_fail "cannot mount a tmpfs"
T_CLEANUP_HOOK="umount -l '$disk' 2>/dev/null"

full() { # WHAT ARGS...: exit 1, a message naming the cause, $disk as it was before
	local what=$1 rc=0 before
	shift
	before=$(ls -A "$disk" | tr '\n' ' ')
	"$PHASOR" report --db "$db" --from $FROM --to $TO "$@" >"$T/full.log" 2>&1 || rc=$?
	[ $rc -eq 1 ] || t_fail "$what: exit $rc, not 1: $(cat "$T/full.log")"
	grep -q -i "no space left\|cannot\|writing" "$T/full.log" || t_fail "$what: no cause in: $(cat "$T/full.log")"
	[ "$(ls -A "$disk" | tr '\n' ' ')" = "$before" ] ||
		t_fail "$what left: $(ls -A "$disk" | tr '\n' ' ') (before: $before)"
}
full "PNG pages" -o "$disk/r.png"
t_ok "a disk full at a PNG page ($((first / 1024)) KiB each, ${kib} KiB of room): exit 1, no page nor temporary file left"

# an earlier report of the same name stays whole
head -c 1000 /dev/urandom >"$disk/old.pdf"
sum=$(md5sum <"$disk/old.pdf")
pdf=$(stat -c %s "$T/ok.pdf")
if [ "$pdf" -gt $((kib * 1024 - 2000)) ]; then
	full "PDF" -o "$disk/old.pdf"
	[ "$(md5sum <"$disk/old.pdf")" = "$sum" ] || t_fail "the earlier old.pdf was changed"
	t_ok "a disk full while writing the PDF ($((pdf / 1024)) KiB): exit 1, the earlier file of that name unchanged"
else
	t_ok "the PDF ($((pdf / 1024)) KiB) fits this disk: its case is the CSV's below"
fi
rm -f "$disk/old.pdf"
# fill the disk but for a few KiB: the PDF may fit, the CSV beside it not
csv=$(stat -c %s "$T/ok.csv")
avail=$(($(df -k --output=avail "$disk" | tail -1) * 1024))
fill=$((avail - pdf - csv / 2))
[ "$fill" -gt 0 ] && head -c "$fill" /dev/zero >"$disk/filler"
full "PDF + CSV" -o "$disk/r.pdf" --csv "$disk/r.csv"
t_ok "a disk full at the CSV beside the PDF: exit 1, neither file left"
