#!/bin/bash
# SPDX-License-Identifier: MIT
# Opening the buffer (issue 15 item 7):
# 1. a buffer or directory this user may not write: the messages give the
#    path and the system's reason ("Permission denied"), run as nobody;
# 2. a buffer with damaged pages (random bytes over 16 pages in the middle,
#    as a bad disk would leave them): `phasor record` says so, moves it
#    aside byte for byte and records into a new file that exports cleanly,
#    with the same console id and seq numbers after the old ones;
#    `phasor export` of the damaged file names it and says it is damaged.
. "$(dirname "$0")/lib.sh"

export PHASOR_PROFILES="${PHASOR_PROFILES:-$(cd "$(dirname "$0")/../.." && pwd)/conf/profiles}"
cfg() { # DB [PORT]
	printf '[store]\npath = %s\ncommit_interval = 200ms\n' "$1"
	printf '[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n'
	printf 'port = %d\nunit = 1\npoll_ms = 100\n' "${2:-1}"
}

# ---- 1. permissions ----
if [ "$(id -u)" = 0 ]; then
	command -v setpriv >/dev/null || t_fail "setpriv is needed to run as nobody"
	as_user() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	owner=nobody
else
	as_user() { "$@"; }
	owner=$(id -un)
fi
mkdir -p "$T/perm/ro"
cfg "$T/perm/p.db" >"$T/perm.ini"
"$PHASOR" record -c "$T/perm.ini" --for 1 >"$T/perm-make.log" 2>&1 ||
	t_fail "cannot make a buffer: $(tail -3 "$T/perm-make.log")"
chown -R "$owner" "$T/perm"
chmod 000 "$T/perm/p.db"
chmod 555 "$T/perm/ro"
chmod 644 "$T/perm.ini"
as_user "$PHASOR" record -c "$T/perm.ini" --for 1 >"$T/perm1.log" 2>&1
t_eq "record on a mode 000 buffer: exit" 1 "$?"
grep -q "cannot start: cannot open $T/perm/p.db for writing: Permission denied" "$T/perm1.log" ||
	t_fail "no 'Permission denied' with the path: $(tail -2 "$T/perm1.log")"
t_ok "record: $(grep -o 'cannot open.*' "$T/perm1.log")"
as_user "$PHASOR" export --db "$T/perm/p.db" >/dev/null 2>"$T/perm2.err"
t_eq "export of a mode 000 buffer: exit" 1 "$?"
t_eq "export message" "phasor export: cannot open $T/perm/p.db: Permission denied" \
	"$(cat "$T/perm2.err")"
cfg "$T/perm/ro/new.db" >"$T/perm-ro.ini"
chmod 644 "$T/perm-ro.ini"
as_user "$PHASOR" record -c "$T/perm-ro.ini" --for 1 >"$T/perm3.log" 2>&1
t_eq "record into a read-only directory: exit" 1 "$?"
grep -q "cannot create files in $T/perm/ro (the buffer $T/perm/ro/new.db and its -wal and -shm files): Permission denied" "$T/perm3.log" ||
	t_fail "no 'Permission denied' for the directory: $(tail -2 "$T/perm3.log")"
t_ok "read-only directory: $(grep -o 'cannot create.*' "$T/perm3.log")"
[ -e "$T/perm/ro/new.db" ] && t_fail "a buffer was created in the read-only directory"
chmod 644 "$T/perm/p.db"

# ---- 2. damaged pages ----
t_sim --meters 1 --seed 4
db="$T/buffer.db"
cfg "$db" "$SIM_PORT" >"$T/rec.ini"
"$PHASOR" record -c "$T/rec.ini" --for 1 >"$T/first.log" 2>&1 || t_fail "first record failed"
# Enough rows for a file of 1200 pages (100000 samples, the seq rule kept).
t_sql "$db" "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
	INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality, session_id)
	SELECT (SELECT value FROM meta WHERE key = 'samples.last_seq') + i,
	       1764700000000000 + i * 1000, 1, i % 20, i * 0.5, 0, 1 FROM c;
	UPDATE meta SET value = (SELECT max(seq) FROM samples) WHERE key = 'samples.last_seq';
	PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null || t_fail "cannot add rows"
last=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'samples.last_seq'")
id=$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")
pages=$(t_sql "$db" "PRAGMA page_count")
[ "$pages" -gt 1000 ] || t_fail "only $pages pages"
dd if=/dev/urandom of="$db" bs=4096 seek=$((pages / 2)) count=16 conv=notrunc status=none
cp "$db" "$T/damaged.copy"
[ "$(t_sql "$db" "PRAGMA quick_check" 2>&1 | head -1)" = ok ] && t_fail "the file is not damaged"

"$PHASOR" record -c "$T/rec.ini" --for 2 >"$T/record.log" 2>&1
t_eq "record on the damaged buffer: exit" 0 "$?"
t_no_sanitizer_errors "$T/record.log"
moved=$(ls "$T" | grep '^buffer\.db\.corrupt-[0-9]\{8\}T[0-9]\{6\}Z$')
[ -n "$moved" ] || t_fail "the damaged file was not moved aside: $(ls "$T")"
moved="$T/$moved"
grep -q "error: store: $db is damaged (.*); moved it to $moved (with its -wal and -shm), and a new $db takes its place (the console id and its seq counters go on)" "$T/record.log" ||
	t_fail "no error naming both files: $(grep store "$T/record.log" | head -3)"
t_ok "said: $(grep -o 'is damaged ([^;]*' "$T/record.log")"
grep -q "record: stopped: .* buffer ok (new file; damaged buffer moved to $moved): " "$T/record.log" ||
	t_fail "the summary does not say the file is new: $(grep stopped "$T/record.log")"
cmp -s "$T/damaged.copy" "$moved" || t_fail "the damaged file was changed"
t_ok "the damaged file is kept byte for byte"

t_eq "new file sound" ok "$(t_sql "$db" "PRAGMA quick_check")"
t_eq "console id kept" "$id" "$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")"
written=$(grep "record: stopped" "$T/record.log" | grep -o '[0-9]* written' | grep -o '[0-9]*')
[ "$written" -gt 0 ] || t_fail "nothing recorded into the new file"
t_eq "new samples' seqs follow the old ones" "$((last + 1)) $((last + written)) $written" \
	"$(t_sql "$db" "SELECT min(seq) || ' ' || max(seq) || ' ' || count(*) FROM samples")"
ev=$(t_sql "$db" "SELECT text FROM events WHERE source = 'store' AND what = 'buffer-replaced'")
echo "$ev" | grep -q "it was moved to $moved and this file continues it (same console id and seq counters)" ||
	t_fail "no buffer-replaced event: '$ev'"
"$PHASOR" export --db "$db" >"$T/new.csv" 2>"$T/new.err"
t_eq "export of the new file: exit" 0 "$?"
t_eq "exported rows" "$written" "$(($(wc -l <"$T/new.csv") - 1))"

"$PHASOR" export --db "$moved" >"$T/old.csv" 2>"$T/old.err"
t_eq "export of the damaged file: exit" 1 "$?"
grep -q "^phasor export: $moved is damaged (database disk image is malformed): only the rows before the damaged part can be read this way; see \"A damaged buffer\" in docs/buffer.md to save what is still readable$" "$T/old.err" ||
	t_fail "export message: $(cat "$T/old.err")"
t_ok "export of the damaged file: $(cut -c1-100 "$T/old.err")..."
cmp -s "$T/damaged.copy" "$moved" || t_fail "the damaged file was changed by export"
