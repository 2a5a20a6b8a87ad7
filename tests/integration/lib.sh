# SPDX-License-Identifier: MIT
# Shared helpers for the integration tests. Source it first:
#   . "$(dirname "$0")/lib.sh"
# It makes a private temporary directory $T, and every process started with
# t_bg is killed when the test exits, whatever happens.
set -u
: "${PHASOR:?PHASOR must name the phasor binary}"
: "${TOOLS:?TOOLS must name build/tools}"
T=$(mktemp -d "${TMPDIR:-/tmp}/phasor-test.XXXXXX")
chmod 755 "$T"
T_PIDS=""
T_NAME=$(basename "$0" .sh)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=86}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=87}"
export LANG=C.UTF-8

t_cleanup() {
	local p
	for p in $T_PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $T_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "${T_CLEANUP_HOOK:-}" ] && eval "$T_CLEANUP_HOOK"
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

t_log() { echo "[$T_NAME] $*"; }
t_fail() {
	echo "[$T_NAME] FAIL: $*" >&2
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 30 lines)" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}
t_ok() { echo "[$T_NAME] ok: $*"; }

# t_eq WHAT EXPECTED ACTUAL
t_eq() {
	[ "$2" = "$3" ] || t_fail "$1: expected '$2', got '$3'"
	t_ok "$1 = $3"
}

# t_port: a free loopback port
t_port() { "$TOOLS/freeport"; }

# t_bg NAME CMD...: start CMD in the background, output in $T/NAME.log;
# sets T_LAST_PID.
t_bg() {
	local name=$1
	shift
	"$@" >"$T/$name.log" 2>&1 &
	T_LAST_PID=$!
	T_PIDS="$T_PIDS $T_LAST_PID"
}

# t_wait SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
t_wait() {
	local limit=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge $((limit * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}

t_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# t_wait_port PORT [SECONDS]
t_wait_port() {
	t_wait "${2:-10}" t_port_open "$1" || t_fail "nothing listens on port $1"
}

# t_stop PID [SIGNAL]: signal and wait for exit; returns its exit status.
t_stop() {
	local pid=$1 sig=${2:-TERM}
	kill "-$sig" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# t_mosquitto: start a private broker on a free port; sets MQTT_PORT, MQTT_URI.
t_mosquitto() {
	command -v mosquitto >/dev/null || t_fail "mosquitto is not installed"
	MQTT_PORT=$(t_port)
	MQTT_URI="tcp://127.0.0.1:$MQTT_PORT"
	cat >"$T/mosquitto.conf" <<EOC
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
user $(id -un)
log_dest stdout
EOC
	t_bg mosquitto mosquitto -c "$T/mosquitto.conf"
	MQTT_PID=$T_LAST_PID
	t_wait_port "$MQTT_PORT"
}

# t_mqtt_ini SITE CLIENT_ID [COMMIT_INTERVAL]: the [site], [store] ($db)
# and [mqtt] (the private broker, QoS 1) sections of a test's configuration.
t_mqtt_ini() {
	printf '[site]\nname = %s\n[store]\npath = %s\n' "$1" "$db"
	[ -n "${3:-}" ] && printf 'commit_interval = %s\n' "$3"
	printf '[mqtt]\nuri = %s\nclient_id = %s\nqos = 1\n' "$MQTT_URI" "$2"
}

# t_press_ini: the machine tests' meter press-1 (Tasmota-like, on
# tele/press-1/SENSOR) and machine press it feeds (plant/press/state, its
# pieces in "count"); keys of the machine may follow.
t_press_ini() {
	printf '[meter press-1]\ndriver = mqtt\nprofile = tasmota\ntopic = tele/press-1/SENSOR\n'
	printf '[machine press]\nmeters = press-1\ntopic = plant/press/state\npieces_field = count\n'
}

# t_sim ARGS...: start `phasor sim` on a free port; sets SIM_PORT, SIM_PID.
t_sim() {
	SIM_PORT=$(t_port)
	t_bg sim "$PHASOR" sim --modbus "127.0.0.1:$SIM_PORT" "$@"
	SIM_PID=$T_LAST_PID
	t_wait_port "$SIM_PORT"
}

# t_sim_meters N: the sections of meters m1..mN on the simulator's units
# 1..N (t_sim), polled every 500 ms, 300 ms timeout, 500 kW rated.
t_sim_meters() {
	local u
	for u in $(seq 1 "$1"); do
		printf '[meter m%d]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 500\ntimeout_ms = 300\nmax_power = 500kW\n' \
			"$SIM_PORT" "$u"
	done
}

# t_fcbuf_meters PORT: the sections of fcbuf's meters a (unit 1) and b
# (unit 2) on PORT (the tests give a dead one: the buffer is all they need).
t_fcbuf_meters() {
	local u
	for u in a b; do
		printf '[meter %s]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n' "$u"
		printf 'port = %d\nunit = %d\npoll_ms = 1000\n' "$1" "$([ $u = a ] && echo 1 || echo 2)"
	done
}

# Every sqlite3 of the tests (sh -c ones too) loads the samples module
# (src/store/samples_vtab.c, built beside the binary): since schema 7
# "samples" is the packed poll rows and blocks shown as one row per sample,
# as the old table was. A wrapper first in PATH.
PHASOR_SQLITE_EXT=${PHASOR_SQLITE_EXT:-$(cd "$(dirname "$PHASOR")" && pwd)/phasor_samples}
if [ -z "${T_SQLITE3:-}" ]; then
	T_SQLITE3=$(command -v sqlite3 || echo sqlite3)
	export T_SQLITE3
fi
mkdir -p "$T/.bin"
printf '#!/bin/sh\nexec "%s" -cmd ".load %s" "$@"\n' "$T_SQLITE3" "$PHASOR_SQLITE_EXT" >"$T/.bin/sqlite3"
chmod 755 "$T/.bin" "$T/.bin/sqlite3"
export PATH="$T/.bin:$PATH"

# t_link_line LOG: the last per-link summary of the MQTT link in record's
# LOG, logged and kept in T_LINK (fails when there is none); t_link_num
# NAME: the counter NAME of it ("received", "malformed", ...).
t_link_line() {
	T_LINK=$(grep "link mqtt" "$1" | tail -1)
	[ -n "$T_LINK" ] || t_fail "no link summary in $1"
	t_log "$T_LINK"
}
t_link_num() { echo "$T_LINK" | grep -o "$1 [0-9]*" | head -1 | awk '{print $2}'; }

# t_sql DB SQL: run SQL on a SQLite file, one value per line.
t_sql() { sqlite3 -batch -noheader "$1" "$2"; }

# t_no_sanitizer_errors LOG: fail when a sanitizer report is in LOG.
t_no_sanitizer_errors() {
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; then
		t_fail "sanitizer report in $1"
	fi
}

# ---- tmux: the console driven like a person would ----
# t_tmux_start NAME COLS ROWS CMD...: a private tmux server (own socket) runs
# CMD in a detached session of that size. TMUX_SOCK names the socket.
t_tmux_start() {
	local name=$1 cols=$2 rows=$3
	shift 3
	command -v tmux >/dev/null || t_fail "tmux is not installed"
	TMUX_SOCK="$T/tmux.sock"
	# The command's exit status is kept in a file for t_tmux_wait_exit.
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s "$name" -x "$cols" -y "$rows" \
		"$* ; echo \$? > $T/$name.exit; sleep 600" ||
		t_fail "tmux new-session failed"
	tmux -S "$TMUX_SOCK" set-option -t "$name" remain-on-exit on >/dev/null
	T_CLEANUP_HOOK="${T_CLEANUP_HOOK:+$T_CLEANUP_HOOK; }tmux -S '$TMUX_SOCK' kill-server 2>/dev/null"
}
# t_tmux_capture NAME [-e]: the visible pane (with -e: with escape sequences).
# Targets are "=NAME:": exactly session NAME (a bare "b" may resolve to
# something else once several sessions exist).
t_tmux_capture() { tmux -S "$TMUX_SOCK" capture-pane -p -t "=$1:" ${2:-}; }
t_tmux_keys() { local n=$1; shift; tmux -S "$TMUX_SOCK" send-keys -t "=$n:" "$@"; }
# t_tmux_wait NAME SECONDS PATTERN: until the pane shows PATTERN (grep -E).
t_tmux_wait() {
	local n=$1 limit=$2 pat=$3 i=0
	while ! t_tmux_capture "$n" | grep -Eq -- "$pat"; do
		i=$((i + 1))
		if [ "$i" -ge $((limit * 10)) ]; then
			echo "---- pane $n:" >&2
			t_tmux_capture "$n" >&2
			return 1
		fi
		sleep 0.1
	done
	return 0
}
# t_machines_view NAME MACHINE STATE: in console NAME, key 7 opens the
# machines view (view 7), which shows MACHINE in STATE.
t_machines_view() {
	t_tmux_keys "$1" 7
	t_tmux_wait "$1" 10 "\[7 Machines\]" || t_fail "7 did not open the machines view"
	t_tmux_wait "$1" 10 "$2 +$3 " ||
		t_fail "$1: the state of $2 is not $3: $(t_tmux_capture "$1")"
}
# t_tmux_wait_gone NAME SECONDS PATTERN: until the pane no longer shows PATTERN.
t_tmux_wait_gone() {
	local n=$1 limit=$2 pat=$3 i=0
	while t_tmux_capture "$n" | grep -Eq -- "$pat"; do
		i=$((i + 1))
		[ "$i" -ge $((limit * 10)) ] && return 1
		sleep 0.1
	done
	return 0
}
# t_tmux_quit NAME: q, then y when the console asks first (it acquires
# itself: "Quit and stop recording? y/n", waited for up to 30 s: a sanitizer
# build with 70 links on a loaded machine is slow to draw it); an attached
# one quits at once.
t_tmux_quit() {
	local i
	t_tmux_keys "$1" q
	for i in $(seq 1 300); do
		[ -f "$T/$1.exit" ] && return 0
		if t_tmux_capture "$1" | grep -q "Quit and stop"; then
			t_tmux_keys "$1" y
			return 0
		fi
		sleep 0.1
	done
	return 0
}
t_tmux_resize() { tmux -S "$TMUX_SOCK" resize-window -t "=$1:" -x "$2" -y "$3"; }
# t_tmux_wait_exit NAME SECONDS: the command ended; echoes its exit status.
t_tmux_wait_exit() {
	local n=$1 limit=$2 i=0
	while [ ! -f "$T/$n.exit" ]; do
		i=$((i + 1))
		[ "$i" -ge $((limit * 10)) ] && return 1
		sleep 0.1
	done
	cat "$T/$n.exit"
}

# ---- PostgreSQL: a private server ----
# t_postgres: initdb in $T/pg, a server on a free loopback port with its
# socket in $T/pg-sock (fsync off: tests only), as the postgres system user
# when running as root. Sets PG_PORT, PG_HOST (the socket directory),
# PG_CONNINFO (database phasor, user phasor, trust on loopback) and
# PG_BIN. Stopped (immediate) when the test exits. t_pg_stop / t_pg_start
# stop and start the same server (outage tests).
t_pg_bindir() {
	local d
	d=$(pg_config --bindir 2>/dev/null)
	[ -x "$d/initdb" ] || d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -x "$d/initdb" ] || t_fail "PostgreSQL server binaries (initdb) not found"
	echo "$d"
}
t_pg_run() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}
t_postgres() {
	PG_BIN=$(t_pg_bindir)
	PG_PORT=$(t_port)
	PG_DATA="$T/pg/data"
	PG_HOST="$T/pg/sock"
	mkdir -p "$PG_DATA" "$PG_HOST"
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$T/pg"
	t_pg_run "$PG_BIN/initdb" -D "$PG_DATA" -A trust -U postgres --no-sync \
		>"$T/pg-initdb.out" 2>&1 || { cat "$T/pg-initdb.out"; t_fail "initdb failed"; }
	cat >>"$PG_DATA/postgresql.conf" <<EOC
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_HOST'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOC
	T_CLEANUP_HOOK="${T_CLEANUP_HOOK:+$T_CLEANUP_HOOK; }t_pg_run '$PG_BIN/pg_ctl' -D '$PG_DATA' -m immediate stop >/dev/null 2>&1"
	t_pg_start
	t_pg_run "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U postgres -qAt \
		-c "CREATE ROLE phasor LOGIN SUPERUSER" -c "CREATE DATABASE phasor OWNER phasor" \
		>/dev/null || t_fail "cannot create the test database"
	PG_CONNINFO="host=127.0.0.1 port=$PG_PORT dbname=phasor user=phasor connect_timeout=3"
}
t_pg_start() {
	t_pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$T/pg/server.log" -w -t 30 start \
		>/dev/null || { tail -20 "$T/pg/server.log"; t_fail "PostgreSQL did not start"; }
}
t_pg_stop() {
	t_pg_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -m "${1:-fast}" -w stop >/dev/null ||
		t_fail "PostgreSQL did not stop"
}
# t_psql SQL: one value per line, fields separated by |.
t_psql() {
	PGCONNECT_TIMEOUT=5 psql "host=$PG_HOST port=$PG_PORT dbname=phasor user=phasor" \
		-X -qAt -v ON_ERROR_STOP=1 -c "$1"
}
