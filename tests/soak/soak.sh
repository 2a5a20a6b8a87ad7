#!/bin/bash
# SPDX-License-Identifier: MIT
# make soak (issue 16 item 5): hours of a plant's faults in SOAK_MINUTES
# (default 30). Never part of make check. A simulated plant (Modbus meters
# polled at 1 Hz, and the same plant published over MQTT as Shelly Pro 3EM
# meters every 100 ms: a flood beside the polls), `phasor record` on a
# buffer on a small tmpfs (a private mount namespace), `phasor sync` as its
# own process to a PostgreSQL primary with a hot standby, and faults on a
# schedule: broker restarts, a meter frozen (SIGSTOP) and killed, the
# database stopped, a failover to the standby, the buffer's disk filled,
# kill -9 of the recorder and of the sync (each restarted, as systemd
# would), clock steps of the recorder's host forward and back
# (libfaketime). Every 10 s the recorder's RSS and open files are sampled.
# At the end, faults over and the sync caught up: values served vs stored
# vs synced, duplicates, every missing value explained by a counted cause,
# RSS and fd growth, the alarm journal's consistency locally and centrally.
# Prints the figures (docs/testing.md keeps a run's) and `N passed, N failed`.
if [ -z "${PHASOR_IN_NS:-}" ]; then
	if [ "$(id -u)" = 0 ]; then
		exec env PHASOR_IN_NS=1 unshare --mount --propagation private bash "$0" "$@"
	fi
	exec env PHASOR_IN_NS=1 unshare --user --map-root-user --mount bash "$0" "$@"
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
. "$here/../integration/sync_lib.sh"
T_NAME=soak
GEN=${GEN:-$(dirname "$PHASOR")/bench/gen_buffer}

minutes=${SOAK_MINUTES:-30}
total=$((minutes * 60))
settle=$((total / 10 > 180 ? 180 : (total / 10 < 60 ? 60 : total / 10)))
warm=30
faults_end=$((total - settle))
METERS=${SOAK_METERS:-8}
passed=0
failed=0
check() { # check WHAT CONDITION-COMMAND...
	local what=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
		t_log "pass: $what"
	else
		failed=$((failed + 1))
		t_log "FAIL: $what"
	fi
}
fig() { t_log "figure: $*"; echo "| $1 | $2 |" >>"$T/figures.md"; }
faketime_lib=$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)
[ -n "$faketime_lib" ] || t_fail "libfaketime is not installed (make deps: faketime)"

# ---- the database: a primary and a hot standby ----
t_postgres
sync_standby
primary=1 # which one is the primary now

# ---- the broker, the plant ----
t_mosquitto
start_sim() {
	t_bg "sim$1" "$PHASOR" sim --modbus "127.0.0.1:$SIM_PORT" --meters "$METERS" --seed 11 \
		--mqtt "$MQTT_URI" --mqtt-period 100ms --journal "$T/served$1.csv"
	SIM_PID=$T_LAST_PID
	t_wait_port "$SIM_PORT"
}
SIM_PORT=$(t_port)
sims=1
start_sim 1

# ---- the buffer on a small disk of its own ----
disk="$T/disk"
mkdir -p "$disk"
mount -t tmpfs -o size=${SOAK_DISK_MB:-400}m tmpfs "$disk" || t_fail "cannot mount a tmpfs"
T_CLEANUP_HOOK="$T_CLEANUP_HOOK; umount -l '$disk' 2>/dev/null"
db="$disk/buffer.db"
{
	printf '[site]\nname = soak\n[store]\npath = %s\ncommit_interval = 500ms\n' "$db"
	printf 'queue_max = 2000000\n'
	printf '[log]\nlevel = info\n'
	printf '[mqtt]\nuri = %s\nclient_id = soak-recorder\nqos = 1\nclean_session = false\n' "$MQTT_URI"
	for u in $(seq 1 "$METERS"); do
		printf '[meter mb%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 1000\ntimeout_ms = 500\nmax_power = 500kW\n' \
			"$SIM_PORT" "$u"
		printf '[meter mq%d]\ndriver = mqtt\nprofile = shelly-pro3em\n' "$u"
		printf 'topic = shellypro3em-sim%d/#\n' "$u"
	done
} >"$T/record.ini"
PG_CONNINFO="host=127.0.0.1,127.0.0.1 port=$P1,$P2 dbname=phasor user=phasor connect_timeout=3 target_session_attrs=read-write"
SYNC_INTERVAL=1s sync_config "$T/sync.ini" "$db"
printf '+0\n' >"$T/clock" # the recorder's clock offset (libfaketime)
# An hour of history first (bench/gen_buffer, through the store API): every
# recorder run then starts with its rings full (it reads the last hour at
# start), so its memory is that of steady state from the first minute.
if [ -x "$GEN" ]; then
	"$GEN" "$T/record.ini" 1 1 >"$T/prefill.out" 2>"$T/prefill.err" ||
		t_fail "gen_buffer: $(tail -3 "$T/prefill.err")"
fi
rec_t0=0
start_rec() {
	rec_t0=$(($(date +%s) - ${t0:-$(date +%s)}))
	t_bg "rec$1" env LD_PRELOAD="$faketime_lib" FAKETIME_TIMESTAMP_FILE="$T/clock" \
		FAKETIME_CACHE_DURATION=1 DONT_FAKE_MONOTONIC=1 "$PHASOR" record -c "$T/record.ini"
	REC_PID=$T_LAST_PID
}
start_sync() {
	t_bg "sync$1" "$PHASOR" sync -c "$T/sync.ini"
	SYNC_PID=$T_LAST_PID
}
recs=1 syncs=1
soak_us=$(($(date +%s%N) / 1000)) # samples from here on are the soak's (before: the prefill)
start_rec 1
t_wait 20 test -s "$db" || t_fail "the recorder made no buffer"
start_sync 1
t_log "soak: $minutes min ($((faults_end - warm)) s of faults, then $settle s to settle)," \
	"$METERS Modbus meters at 1 Hz + $METERS MQTT meters every 100 ms"

# ---- sampling ----
echo "t_s,rss_kb,fds,buffer_bytes,recorder_pid,recorder_start_s" >"$T/usage.csv"
t0=$(date +%s)
sample() {
	local rss fds
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$REC_PID/status" 2>/dev/null)
	fds=$(ls "/proc/$REC_PID/fd" 2>/dev/null | wc -l)
	echo "$(($(date +%s) - t0)),${rss:-0},$fds,$(du -sb "$disk" | cut -f1),$REC_PID,$rec_t0" >>"$T/usage.csv"
}
declare -A fault_n
note() { # the fault log: when, what
	echo "$(($(date +%s) - t0)) $*" >>"$T/faults.log"
	t_log "$(($(date +%s) - t0)) s: $*"
	fault_n[$1]=$((${fault_n[$1]:-0} + 1))
}
hold() { # hold SECONDS: sleep, sampling
	local end=$(($(date +%s) + $1))
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 1
		[ $((($(date +%s) - t0) % 10)) -eq 0 ] && sample
	done
}
alive() { # restart what died of itself (it would be a finding: counted)
	if ! kill -0 "$REC_PID" 2>/dev/null; then
		note died-recorder "the recorder was not running: restarted"
		recs=$((recs + 1)); start_rec $recs
	fi
	if ! kill -0 "$SYNC_PID" 2>/dev/null; then
		note died-sync "the sync was not running: restarted"
		syncs=$((syncs + 1)); start_sync $syncs
	fi
}
pg_ctl_of() { [ "$primary" = 1 ] && echo "$D1" || echo "$D2"; }

f_broker() {
	note broker "broker stopped for 10 s"
	t_stop "$MQTT_PID" TERM
	hold 10
	t_bg "mosquitto$RANDOM" mosquitto -c "$T/mosquitto.conf"
	MQTT_PID=$T_LAST_PID
	t_wait_port "$MQTT_PORT"
}
f_freeze() {
	note freeze "the plant frozen (SIGSTOP) for 15 s: every Modbus meter times out"
	kill -STOP "$SIM_PID"
	hold 15
	kill -CONT "$SIM_PID"
}
f_meter_kill() {
	note meter-kill "the plant killed for 15 s (connection refused), then a new one"
	kill -KILL "$SIM_PID"
	hold 15
	sims=$((sims + 1))
	start_sim $sims
}
f_pg() {
	note pg "the database stopped for 20 s"
	t_pg_run "$PG_BIN/pg_ctl" -D "$(pg_ctl_of)" -m fast -w stop >/dev/null
	hold 20
	t_pg_run "$PG_BIN/pg_ctl" -D "$(pg_ctl_of)" -l "$(dirname "$(pg_ctl_of)")/restart.log" -w -t 30 start >/dev/null ||
		note pg-start-failed "the database did not start again"
}
f_failover() {
	[ "$primary" = 1 ] || { f_pg; return; }
	note failover "the primary stopped (immediate), the standby promoted"
	t_pg_run "$PG_BIN/pg_ctl" -D "$D1" -m immediate -w stop >/dev/null
	t_pg_run "$PG_BIN/pg_ctl" -D "$D2" -w promote >/dev/null
	primary=2
}
full_seen() { cat "$T"/rec*.log 2>/dev/null | grep -c "disk full: "; }
f_disk() {
	# until the writer needs a page it cannot have (the WAL's and the free
	# list's room carry it a while), at most 60 s, then 10 s more
	local before
	before=$(full_seen)
	note disk "the buffer's disk full until the recorder says so (60 s at most), then 10 s"
	dd if=/dev/zero of="$disk/filler" bs=1M 2>/dev/null
	for _ in $(seq 1 60); do
		[ "$(full_seen)" -gt "$before" ] && break
		hold 1
	done
	[ "$(full_seen)" -gt "$before" ] && fault_n[disk-seen]=$((${fault_n[disk-seen]:-0} + 1))
	hold 10
	rm -f "$disk/filler"
}
f_kill_rec() {
	note kill-recorder "kill -9 of the recorder, restarted after 2 s"
	kill -KILL "$REC_PID"
	hold 2
	recs=$((recs + 1))
	start_rec $recs
}
f_kill_sync() {
	note kill-sync "kill -9 of the sync, restarted after 2 s"
	kill -KILL "$SYNC_PID"
	hold 2
	syncs=$((syncs + 1))
	start_sync $syncs
}
f_clock() {
	note clock "the recorder's clock stepped 90 s forward, back 60 s later"
	printf '+90\n' >"$T/clock"
	hold 60
	note clock-back "the recorder's clock stepped back"
	printf '+0\n' >"$T/clock"
}
schedule=(f_broker f_freeze f_pg f_disk f_kill_rec f_kill_sync f_clock f_meter_kill)

hold $warm
sample
i=0
failover_at=$(((warm + faults_end) / 2))
while [ $(($(date +%s) - t0)) -lt "$faults_end" ]; do
	if [ "$primary" = 1 ] && [ $(($(date +%s) - t0)) -ge "$failover_at" ]; then
		f_failover
	else
		${schedule[$((i % ${#schedule[@]}))]}
		i=$((i + 1))
	fi
	alive
	hold 20
	alive
done
note end "faults over: settling"

# ---- settle: the sync catches up ----
for _ in $(seq 1 "$settle"); do
	sleep 1
	[ $((($(date +%s) - t0) % 10)) -eq 0 ] && sample
done
alive
t_stop "$SIM_PID"
sleep 3
kill -TERM "$REC_PID"
t_wait 60 sh -c "! kill -0 $REC_PID" || t_log "the recorder did not stop in 60 s"
backlog() { "$PHASOR" sync -c "$T/sync.ini" --status 2>/dev/null | awk '$1 == "backlog" { print $2 }'; }
t_wait 120 sh -c "[ \"\$($PHASOR sync -c $T/sync.ini --status 2>/dev/null | awk '\$1 == \"backlog\" { print \$2 }')\" = 0 ]" ||
	t_log "the sync's backlog is $(backlog) after 120 s"
kill -TERM "$SYNC_PID"
t_wait 30 sh -c "! kill -0 $SYNC_PID"

# ---- the figures ----
echo "| figure | value |" >"$T/figures.md"
echo "|---|---|" >>"$T/figures.md"
fig "run" "$minutes min, $METERS Modbus meters at 1 Hz + $METERS MQTT meters every 100 ms"
fig "faults" "$(for k in "${!fault_n[@]}"; do printf '%s %d, ' "$k" "${fault_n[$k]}"; done | sed 's/, $//')"
fig "recorder runs / sync runs" "$recs / $syncs"
served_mb=$(cat "$T"/served*.csv | awk -F, '$2 == "modbus"' | wc -l)
served_mq=$(cat "$T"/served*.csv | awk -F, '$2 == "mqtt"' | wc -l)
stored=$(t_sql "$db" "SELECT count(*) FROM samples WHERE t_us >= $soak_us")
stored_mb=$(t_sql "$db" "SELECT count(*) FROM samples s JOIN meters m ON m.id = s.meter_id
	WHERE m.name LIKE 'mb%' AND s.t_us >= $soak_us")
stored_mq=$((stored - stored_mb))
fig "values served by the plant (Modbus registers read / MQTT fields published)" "$served_mb / $served_mq"
fig "samples stored (Modbus / MQTT; the hour of prefill not counted)" "$stored_mb / $stored_mq"
# sync_check's psql goes to the primary of now
[ "$primary" = 2 ] && PG_HOST=$H2 PG_PORT=$P2
n=$(sync_check "$db" 2>"$T/sync_check.err") && synced_ok=1 || synced_ok=0
[ "$synced_ok" = 1 ] || sed 's/^/    /' "$T/sync_check.err" | tail -5
console=$(t_sql "$db" "SELECT value FROM identity WHERE key = 'console_id'")
central=$(PGCONNECT_TIMEOUT=5 psql "$PG_CONNINFO" -X -qAt -c \
	"SELECT count(*), count(*) - count(DISTINCT seq) FROM phasor.samples WHERE console = '$console'")
fig "samples in PostgreSQL (rows, duplicate seqs)" "${central/|/, }"
check "every stored sample is in PostgreSQL exactly once (sync_check)" [ "$synced_ok" = 1 ]
check "no duplicate in PostgreSQL" [ "${central#*|}" = 0 ]
dropped=$(t_sql "$db" "SELECT coalesce(sum(CAST(substr(text, 1, instr(text, ' ') - 1) AS INTEGER)), 0)
	FROM events WHERE source = 'store' AND what = 'drop'")
outages=$(t_sql "$db" "SELECT count(*) FROM events WHERE source = 'store' AND what = 'store-error'")
quota=$(t_sql "$db" "SELECT value FROM meta WHERE key = 'sync.quota_dropped'")
fig "samples dropped by the store (journalled 'drop' events) / store outages journalled / deleted under the quota" \
	"$dropped / $outages / ${quota:-0}"
fig "full disks the recorder saw (of those made) / store outages journalled" \
	"${fault_n[disk-seen]:-0} (${fault_n[disk]:-0}) / $outages"
check "every full disk the recorder saw is journalled as a store outage" \
	[ "$outages" -ge "${fault_n[disk-seen]:-0}" ]
check "the full disk bit at least once" [ "${fault_n[disk-seen]:-0}" -ge 1 ] || [ "${fault_n[disk]:-0}" = 0 ]
# Modbus, poll by poll: each second the plant answered (the seconds of its
# journal, between the recorder's first and last poll) should have a stored
# poll of each meter; missing ones must fit the counted causes: the
# recorder killed (restart and reconnection: up to 10 s of polls of every
# meter each time) and the boundaries of each fault (2 s of every meter).
# Counts, not times: during a clock step the polls carry the stepped time.
read -r first last < <(t_sql "$db" "SELECT min(t_us), max(t_us) FROM samples s JOIN meters m
	ON m.id = s.meter_id WHERE m.name LIKE 'mb%' AND s.t_us >= $soak_us" | tr '|' ' ')
served_polls=$(cat "$T"/served*.csv | awk -F, -v a="$first" -v b="$last" \
	'$2 == "modbus" && $1 >= a - 1000000 && $1 <= b { s[$3 " " int($1 / 1000000)] = 1 }
	END { print length(s) }')
stored_polls=$(t_sql "$db" "SELECT count(*) FROM (SELECT DISTINCT s.meter_id, s.t_us FROM samples s
	JOIN meters m ON m.id = s.meter_id WHERE m.name LIKE 'mb%' AND s.t_us >= $soak_us)")
kills=$((${fault_n[kill-recorder]:-0} + ${fault_n[died-recorder]:-0}))
nfaults=0
for k in "${!fault_n[@]}"; do nfaults=$((nfaults + ${fault_n[$k]})); done
budget=$((kills * 10 * METERS + nfaults * 2 * METERS))
fig "Modbus polls: seconds the plant answered x meters / polls stored / missing (allowed: kill -9 $kills x 10 s, $nfaults fault edges x 2 s)" \
	"$served_polls / $stored_polls / $((served_polls - stored_polls)) ($budget)"
check "Modbus: every poll not stored is explained (kill -9 windows, fault edges)" \
	[ $((served_polls - stored_polls)) -le "$budget" ]
check "Modbus: no poll stored that the plant did not answer" \
	[ "$stored_polls" -le $((served_polls + nfaults * METERS)) ]
# MQTT: a QoS 1 subscription kept by the broker (clean_session false) over
# the recorder's kills; what the plant publishes while the broker is down
# (no persistence) is lost: up to 14 s of its rate per broker restart
mq_missing=$((served_mq - stored_mq))
mq_budget=$(awk -v n="$served_mq" -v s="$((faults_end + settle))" -v b="${fault_n[broker]:-0}" \
	'BEGIN { printf "%d", n / s * 14 * b }')
fig "MQTT values published and not stored (allowed: $((${fault_n[broker]:-0})) broker restarts x 14 s of the plant's rate)" \
	"$mq_missing ($mq_budget)"
check "MQTT: every value not stored is explained (the broker's restarts)" \
	[ "$mq_missing" -le "$mq_budget" ]
# A message or poll stored twice: every quantity of a meter at one time
# there twice with one value. (Not the same sample time alone: a clock
# stepped back gives two polls the same times, with other values.)
dups_sql="WITH q AS (SELECT meter_id, t_us, qty_id, count(*) n, count(DISTINCT value) dv
	FROM samples GROUP BY meter_id, t_us, qty_id),
	p AS (SELECT meter_id, t_us, sum(n > 1 AND dv = 1) dupq, count(*) nq FROM q
	GROUP BY meter_id, t_us)"
dup_local=$(t_sql "$db" "$dups_sql SELECT count(*) FROM p WHERE dupq = nq AND nq > 1")
fig "polls or messages stored twice locally (every quantity at one time twice, one value)" "$dup_local"
[ "$dup_local" = 0 ] || t_sql "$db" "$dups_sql SELECT m.name, p.t_us, p.nq FROM p JOIN meters m
	ON m.id = p.meter_id WHERE dupq = nq AND nq > 1 LIMIT 20" | sed 's/^/    dup: /' | tee "$T/dups.txt"
check "no sample stored twice (the MQTT intake journal after each kill -9)" [ "$dup_local" = 0 ]

# RSS: each recorder run against the run before it at the same age (a run
# reads the buffer's last hour into its history at start, and its SQLite
# page caches fill: a younger buffer gives a smaller process, so runs are
# compared at equal ages, never the first against the last). fds: the last
# third of the samples against the first.
awk -F, 'NR > 1 && $2 > 0 { print $5, $1 - $6, $2 }' "$T/usage.csv" >"$T/rss-by-run.txt"
rss_pairs=$(awk '{ if (!($1 in start)) { order[++n] = $1; start[$1] = 1 }
		age[$1, ++k[$1]] = $2; rss[$1, k[$1]] = $3 }
	END { for (i = 2; i <= n; i++) { a = order[i - 1]; b = order[i]
		m = k[a] < k[b] ? k[a] : k[b]; if (m < 3) continue
		printf "%d@%ds:%d>%d ", i, age[b, m], rss[a, m], rss[b, m] } }' "$T/rss-by-run.txt")
worst=$(echo "$rss_pairs" | tr ' ' '\n' | awk -F'[:>]' 'NF == 3 && $2 > 0 { r = $3 / $2; if (r > w) w = r }
	END { printf "%.3f", w + 0 }')
fig "recorder RSS, each run against the one before at the same age (run@age:KiB>KiB)" "${rss_pairs:-none} (worst ratio $worst)"
check "RSS does not grow from run to run (at equal ages, within 10 %)" \
	awk -v w="$worst" 'BEGIN { exit !(w <= 1.10) }'
read -r fd1 fd3 fdmax < <(awk -F, -v w="$warm" 'NR > 1 && $1 > w && $3 > 0 { f[++n] = $3 }
	END { a = int(n / 3); if (a == 0) a = 1
		for (i = 1; i <= a; i++) f1 += f[i]
		for (i = n - a + 1; i <= n; i++) f3 += f[i]
		for (i = 1; i <= n; i++) if (f[i] > m) m = f[i]
		printf "%d %d %d\n", f1 / a, f3 / a, m }' "$T/usage.csv")
rss_end=$(awk -F, 'NR > 1 && $2 > 0 { r = $2 } END { print r + 0 }' "$T/usage.csv")
fig "recorder RSS at the end (KiB) / open files, first third / last third / max" "$rss_end / $fd1 / $fd3 / $fdmax"
check "open files do not grow (last third within 5 of the first)" [ "$fd3" -le $((fd1 + 5)) ]

# the alarm journal: every event once locally; every local one once centrally
a_local=$(t_sql "$db" "SELECT count(*) FROM alarm_events")
a_dup=$(t_sql "$db" "SELECT count(*) - count(DISTINCT id) FROM alarm_events")
a_central=$(PGCONNECT_TIMEOUT=5 psql "$PG_CONNINFO" -X -qAt -c \
	"SELECT count(*), count(*) - count(DISTINCT id) FROM phasor.alarm_events WHERE console = '$console'")
fig "alarm events: local (duplicate ids) / PostgreSQL (rows, duplicate ids)" "$a_local ($a_dup) / ${a_central/|/, }"
check "alarm journal: no event twice locally" [ "$a_dup" = 0 ]
check "alarm journal: every event once in PostgreSQL" [ "${a_central%|*}" = "$a_local" ] && [ "${a_central#*|}" = 0 ]
order=$(t_sql "$db" "SELECT count(*) FROM alarm_events a WHERE event IN ('ack', 'clear', 'rtn')
	AND NOT EXISTS (SELECT 1 FROM alarm_events r WHERE r.alarm = a.alarm AND r.meter = a.meter
	AND r.event = 'raise' AND r.seq < a.seq)")
fig "alarm events (ack, clear) with no raise before them" "$order"
check "alarm journal: nothing acknowledged or cleared before it was raised" [ "$order" = 0 ]
errs=$(cat "$T"/rec*.log "$T"/sync*.log | grep -c "runtime error\|AddressSanitizer\|assert")
check "no sanitizer report or assertion in the logs" [ "$errs" = 0 ]
cp "$T/figures.md" "$T/usage.csv" "$T/faults.log" "$T/rss-by-run.txt" "${SOAK_OUT:-$here/../../build}/" 2>/dev/null
[ -f "$T/dups.txt" ] && cp "$T/dups.txt" "${SOAK_OUT:-$here/../../build}/"
cat "$T/figures.md"
echo "soak: $passed passed, $failed failed"
[ "$failed" = 0 ]
