#!/bin/bash
# SPDX-License-Identifier: MIT
# The buffer's disk fills up, and later the file is locked by another
# process: record shows it, keeps samples in memory (bounded, drops
# counted, never silent), and resumes by itself when the cause is gone.
# The full disk is a small tmpfs mounted in a private mount namespace, so
# nothing leaks to the machine.
if [ -z "${PHASOR_IN_NS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		exec env PHASOR_IN_NS=1 unshare --mount --propagation private bash "$0"
	fi
	exec env PHASOR_IN_NS=1 unshare --user --map-root-user --mount bash "$0"
fi
. "$(dirname "$0")/lib.sh"

t_sim --meters 3 --seed 9
disk="$T/disk"
mkdir -p "$disk"
mount -t tmpfs -o size=3m tmpfs "$disk" || t_fail "cannot mount a tmpfs"
T_CLEANUP_HOOK="umount -l '$disk' 2>/dev/null"
db="$disk/buffer.db"
cfg() {
	printf '[store]\npath = %s\ncommit_interval = 200ms\nqueue_max = %s\n' "$1" "$2"
	for u in 1 2 3; do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 100\n' "$SIM_PORT" "$u"
	done
}

# ---- 1. disk full ----
cfg "$db" 3000 >"$T/full.ini"
# Leave about 400 KB free: a few seconds of samples.
dd if=/dev/zero of="$disk/filler" bs=1k count=2600 status=none 2>/dev/null || true
t_bg record "$PHASOR" record -c "$T/full.ini" -v --stats 1
REC=$T_LAST_PID
t_wait 40 grep -qi "disk full\|SQLITE_FULL\|database or disk is full" "$T/record.log" ||
	t_fail "the full disk was never reported"
t_ok "full disk reported"
# Stay full long enough to overflow the 3000-sample memory queue.
sleep 4
rm -f "$disk/filler"
t_wait 30 grep -qi "resumed" "$T/record.log" || t_fail "never resumed after space was freed"
t_ok "resumed after space was freed"
sleep 2
t_stop "$REC" TERM || t_fail "record exited $? after the full disk"
t_no_sanitizer_errors "$T/record.log"

summary=$(grep "record: stopped" "$T/record.log" | tail -1)
t_log "$summary"
handled=$(echo "$summary" | grep -o ': [0-9]* samples' | grep -o '[0-9]*')
dropped=$(echo "$summary" | grep -o '[0-9]* dropped' | grep -o '[0-9]*')
rows=$(t_sql "$db" "SELECT count(*) FROM samples")
[ "$dropped" -gt 0 ] || t_fail "expected drops past queue_max while the disk was full"
t_eq "stored = handled - dropped" "$((handled - dropped))" "$rows"
ev=$(t_sql "$db" "SELECT text FROM events WHERE source = 'store' AND what = 'drop' ORDER BY seq")
t_log "drop events: $ev"
# Each drop event counts its own samples ("N samples dropped ..."), with
# its own time range: a range starts after the previous one ends.
t_eq "samples in the drop events" "$dropped" \
	"$(t_sql "$db" "SELECT sum(CAST(text AS INTEGER)) FROM events WHERE source = 'store' AND what = 'drop'")"
t_eq "drop events overlapping the previous one" 0 "$(t_sql "$db" "
	SELECT count(*) FROM (SELECT substr(text, instr(text, 'sample times ') + 13, 24) AS a,
	    lag(substr(text, instr(text, ' to ') + 4, 24)) OVER (ORDER BY seq) AS prev_b
	  FROM events WHERE source = 'store' AND what = 'drop') WHERE prev_b IS NOT NULL AND a <= prev_b")"
t_eq "integrity" ok "$(t_sql "$db" "PRAGMA integrity_check")"

# ---- 2. file locked by another process ----
db2="$T/locked.db"
cfg "$db2" 1000000 >"$T/lock.ini"
t_bg record2 "$PHASOR" record -c "$T/lock.ini" -v --stats 1
REC=$T_LAST_PID
t_wait 20 sh -c "[ \$(sqlite3 '$db2' 'SELECT count(*) FROM samples' 2>/dev/null || echo 0) -gt 100 ]" ||
	t_fail "nothing recorded before the lock"
# Hold an exclusive write lock for 4 s.
(printf 'PRAGMA busy_timeout = 5000;\nBEGIN EXCLUSIVE;\nSELECT count(*) FROM samples;\n'
 sleep 4
 printf 'COMMIT;\n') | sqlite3 "$db2" >"$T/locker.log" 2>&1
t_wait 20 grep -qi "resumed" "$T/record2.log" || t_fail "never resumed after the lock"
grep -qi "locked\|busy" "$T/record2.log" || t_fail "the lock was never reported"
t_ok "lock reported and resumed"
sleep 1
t_stop "$REC" TERM || t_fail "record exited $? after the lock"
t_no_sanitizer_errors "$T/record2.log"
summary=$(grep "record: stopped" "$T/record2.log" | tail -1)
handled=$(echo "$summary" | grep -o ': [0-9]* samples' | grep -o '[0-9]*')
rows=$(t_sql "$db2" "SELECT count(*) FROM samples")
t_eq "nothing lost across the lock" "$handled" "$rows"
t_eq "store-error events" 1 "$(t_sql "$db2" "SELECT count(*) >= 1 FROM events WHERE source = 'store' AND what = 'store-error'")"
