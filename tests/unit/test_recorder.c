// SPDX-License-Identifier: MIT
/*
 * Unit tests of what a recorder and its attached consoles share besides the
 * buffer: the recorder's lock (reclock.c: held by another process, free
 * again when it dies, even by SIGKILL) and its status row (status.c: every
 * figure through JSON and back, hostile strings sanitized, garbage refused).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "phasor/reclock.h"
#include "phasor/status.h"
#include "phasor/util.h"

static char tmpdir[] = "/tmp/phasor-test-recorder-XXXXXX";

/* A child that takes the lock, says so on a pipe, and waits to be killed. */
static pid_t holder(const char *buffer)
{
	int p[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;
		char who[160];

		close(p[0]);
		if (reclock_take(buffer, "record", 0, &fd, who, sizeof(who), NULL) != 1)
			_exit(3);
		if (write(p[1], "x", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void test_lock(void **state)
{
	char *buffer = util_printf("%s/sub/b.db", tmpdir), *cause = NULL, *path;
	char who[160] = "";
	int fd = -1, status;
	pid_t pid;

	(void)state;
	/* free: a probe says so; the directory is made */
	assert_int_equal(reclock_probe(buffer, who, sizeof(who), &cause), 0);
	path = reclock_path(buffer);
	assert_int_equal(access(path, F_OK), 0);
	free(path);

	pid = holder(buffer);
	assert_int_equal(reclock_probe(buffer, who, sizeof(who), &cause), 1);
	assert_non_null(strstr(who, "record on "));
	assert_true(strncmp(who, "pid ", 4) == 0);
	assert_int_equal(atol(who + 4), (long)pid);
	/* a second taker waits, then says who holds it */
	who[0] = '\0';
	assert_int_equal(reclock_take(buffer, "console", 60, &fd, who, sizeof(who), &cause), 0);
	assert_int_equal(fd, -1);
	assert_true(strncmp(who, "pid ", 4) == 0);

	/* kill -9: the kernel lets go */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(reclock_probe(buffer, who, sizeof(who), &cause), 0);
	assert_int_equal(reclock_take(buffer, "console", 0, &fd, who, sizeof(who), &cause), 1);
	assert_true(fd >= 0);
	reclock_release(fd);
	free(buffer);
}

static void test_status_roundtrip(void **state)
{
	struct source_link links[2];
	struct hub_status in, out;
	struct source_link *got = NULL;
	size_t cap = 0;
	char err[160], *json;

	(void)state;
	memset(links, 0, sizeof(links));
	memset(&in, 0, sizeof(in));
	util_strlcpy(links[0].name, "10.0.0.21:502", sizeof(links[0].name));
	links[0].driver = "modbus";
	links[0].state = LINK_UP;
	links[0].since_us = INT64_C(1796284607639073);
	links[0].nmeters = 3;
	links[0].requests = 123456789;
	links[0].timeouts = 7;
	links[0].latency_us = 2061;
	util_strlcpy(links[1].name, "tcp://broker:1883", sizeof(links[1].name));
	links[1].driver = "mqtt";
	links[1].state = LINK_DOWN;
	/* a hostile error text from the network */
	util_strlcpy(links[1].error, "refused\x1b[2J\x07 now", sizeof(links[1].error));
	links[1].received = 42;
	/* the counters add up on an attached console too: 42 = 30 + 5 + 2 + 4 + 1 */
	links[1].accepted = 30;
	links[1].rejected[1] = 3;
	links[1].rejected[7] = 2;
	links[1].alarm_msgs = 4;
	links[1].duplicates = 1;
	links[1].journal_slot = 1;
	in.links = links;
	in.nlinks = 2;
	in.has_store = true;
	in.store.state = STORE_FULL;
	util_strlcpy(in.store.error, "database or disk is full", sizeof(in.store.error));
	in.store.queued = 12000;
	in.store.dropped = 5;
	in.store.last_commit_us = INT64_C(1796284600000001);
	in.has_sync = true;
	in.sync.state = SYNC_DOWN;
	in.sync.connected = false;
	in.sync.backlog = 987654;
	in.sync.quarantined = 3;
	in.sync.rate = 1234.5;
	in.hub.messages = 99;
	in.hub.queue_high_water = 17;
	in.throttled = true;

	json = status_encode(&in, 4242);
	assert_non_null(strstr(json, "\"pid\":4242"));
	memset(&out, 0, sizeof(out));
	assert_int_equal(status_decode(json, &out, &got, &cap, err, sizeof(err)), 0);
	free(json);
	assert_int_equal(out.nlinks, 2);
	assert_ptr_equal(out.links, got);
	assert_string_equal(got[0].name, "10.0.0.21:502");
	assert_string_equal(got[0].driver, "modbus");
	assert_int_equal(got[0].state, LINK_UP);
	assert_int_equal(got[0].since_us, INT64_C(1796284607639073));
	assert_int_equal(got[0].nmeters, 3);
	assert_int_equal(got[0].requests, 123456789);
	assert_int_equal(got[0].timeouts, 7);
	assert_int_equal(got[0].latency_us, 2061);
	assert_string_equal(got[1].driver, "mqtt");
	assert_int_equal(got[1].state, LINK_DOWN);
	assert_string_equal(got[1].error, "refused?[2J? now");
	assert_int_equal(got[1].received, 42);
	assert_int_equal(got[1].accepted, 30);
	assert_int_equal(got[1].rejected[1], 3);
	assert_int_equal(got[1].rejected[7], 2);
	assert_int_equal(got[1].alarm_msgs, 4);
	assert_int_equal(got[1].duplicates, 1);
	assert_int_equal(got[1].journal_slot, 1);
	assert_true(out.has_store);
	assert_int_equal(out.store.state, STORE_FULL);
	assert_string_equal(out.store.error, "database or disk is full");
	assert_int_equal(out.store.queued, 12000);
	assert_int_equal(out.store.dropped, 5);
	assert_int_equal(out.store.last_commit_us, INT64_C(1796284600000001));
	assert_true(out.has_sync);
	assert_int_equal(out.sync.state, SYNC_DOWN);
	assert_false(out.sync.connected);
	assert_int_equal(out.sync.backlog, 987654);
	assert_int_equal(out.sync.quarantined, 3);
	assert_true(out.sync.rate == 1234.5);
	assert_int_equal(out.hub.messages, 99);
	assert_int_equal(out.hub.queue_high_water, 17);
	assert_true(out.throttled);

	/* without store and sync */
	in.has_store = in.has_sync = false;
	in.nlinks = 0;
	json = status_encode(&in, 1);
	assert_int_equal(status_decode(json, &out, &got, &cap, err, sizeof(err)), 0);
	free(json);
	assert_false(out.has_store);
	assert_false(out.has_sync);
	assert_int_equal(out.nlinks, 0);

	/* not a status row */
	assert_int_equal(status_decode("{\"pid\":1}", &out, &got, &cap, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a status row"));
	assert_int_equal(status_decode("[1,2", &out, &got, &cap, err, sizeof(err)), -1);
	/* unknown states read as down, odd numbers as bounds */
	assert_int_equal(status_decode("{\"v\":1,\"links\":[{\"name\":\"x\",\"state\":\"weird\"}],"
				       "\"store\":{\"state_n\":99}}",
				       &out, &got, &cap, err, sizeof(err)),
			 0);
	assert_int_equal(got[0].state, LINK_DOWN);
	assert_string_equal(got[0].driver, "?");
	assert_int_equal(out.store.state, STORE_ERROR);
	free(got);
}

static int rm_entry(const char *path)
{
	return remove(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_status_roundtrip),
	};
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	{
		char *a = util_printf("%s/sub/b.db-recorder.lock", tmpdir);
		char *b = util_printf("%s/sub", tmpdir);

		rm_entry(a);
		rm_entry(b);
		rm_entry(tmpdir);
		free(a);
		free(b);
	}
	return rc;
}
