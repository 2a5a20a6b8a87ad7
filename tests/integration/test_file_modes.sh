#!/bin/bash
# SPDX-License-Identifier: MIT
# Least privilege on the host (docs/deployment.md): every file a recorder
# makes (the buffer, its -wal and -shm, the MQTT intake journals, the
# recorder lock, the log) and every directory it makes is the operators'
# group's at most, never others': files 0660 less the umask, directories
# 0770 less it. Checked under the usual umask 022 (0640 files), the
# UMask=0007 of the systemd unit (0660: the group reads and requests) and a
# permissive umask 000 (still 0660: nothing for others).
. "$(dirname "$0")/lib.sh"

t_mosquitto

# mode PATH: its permission bits in octal
mode() { stat -c %a "$1"; }
# rows DB N: the buffer holds N samples
rows() { [ "$(t_sql "$1" "SELECT count(*) FROM samples" 2>/dev/null)" = "$2" ]; }

for mask in 022 007 000; do
	base="$T/u$mask"
	mkdir "$base"
	db="$base/state/phasor/buffer.db"
	logf="$base/log/phasor/phasor.log"
	cat >"$base/phasor.ini" <<EOC
[store]
path = $db
commit_interval = 100ms
[log]
path = $logf
level = debug
[mqtt]
uri = $MQTT_URI
client_id = phasor-test-modes-$mask
qos = 1
[meter tas]
driver = mqtt
profile = tasmota
topic = tele/modes-$mask/SENSOR
EOC
	t_bg "record-$mask" bash -c "umask $mask && exec \"\$0\" record -c \"\$1\"" "$PHASOR" \
		"$base/phasor.ini"
	REC=$T_LAST_PID
	t_wait 15 grep -q "subscribed" "$logf" || t_fail "umask $mask: record never subscribed"
	mosquitto_pub -p "$MQTT_PORT" -q 1 -t "tele/modes-$mask/SENSOR" \
		-m '{"ENERGY":{"Power":45,"Voltage":229}}' || t_fail "mosquitto_pub"
	t_wait 15 rows "$db" 2 ||
		t_fail "umask $mask: the samples never reached the buffer"

	# While the recorder runs: the -wal and -shm exist.
	want_file=$(printf '%o' $((0660 & ~0$mask)))
	want_dir=$(printf '%o' $((0770 & ~0$mask)))
	for f in "$db" "$db-wal" "$db-shm" "$db-intake0.0" "$db-intake0.1" \
		"$db-recorder.lock" "$logf"; do
		[ -f "$f" ] || t_fail "umask $mask: no ${f#"$base"/}"
		t_eq "umask $mask: mode of ${f#"$base"/}" "$want_file" "$(mode "$f")"
	done
	for d in "$base/state" "$base/state/phasor" "$base/log" "$base/log/phasor"; do
		t_eq "umask $mask: mode of ${d#"$base"/}/" "$want_dir" "$(mode "$d")"
	done
	# Nothing at all under it that others may read, write or enter.
	open=$(find "$base/state" "$base/log" -perm /007 -printf '%m %P\n')
	t_eq "umask $mask: files and directories open to others" "" "$open"

	t_stop "$REC" TERM || t_fail "umask $mask: record exited $? on SIGTERM"
	t_no_sanitizer_errors "$T/record-$mask.log"
	t_no_sanitizer_errors "$logf"
	# Stopped, the recorder leaves the buffer as it made it.
	t_eq "umask $mask: buffer after the recorder" "$want_file" "$(mode "$db")"
done
