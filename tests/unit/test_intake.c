// SPDX-License-Identifier: MIT
/* intake: the MQTT intake journal (records, replay, torn tails, redeliveries, rotation, slots). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasor/intake.h"

struct fixture {
	char dir[64];
	char buffer[128];
	uint64_t committed;
};

static uint64_t committed_of(void *ctx)
{
	return ((struct fixture *)ctx)->committed;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/phasor-intake.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->buffer, sizeof(f->buffer), "%s/b.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct intake *open_ok(struct fixture *f)
{
	char *cause = NULL;
	struct intake *in = intake_open(f->buffer, committed_of, f, &cause);

	assert_null(cause);
	assert_non_null(in);
	return in;
}

struct seen {
	size_t n;
	uint64_t seq[64];
	int64_t t[64];
	int msgid[64];
	unsigned flags[64], qos[64];
	char topic[64][32];
	char payload[64][64];
	size_t len[64];
};

static int collect(void *ctx, const struct intake_rec *r)
{
	struct seen *s = ctx;

	assert_true(s->n < 64);
	s->seq[s->n] = r->seq;
	s->t[s->n] = r->t_us;
	s->msgid[s->n] = r->msgid;
	s->flags[s->n] = r->flags;
	s->qos[s->n] = r->qos;
	assert_true(r->topic_len < 32 && r->len < 64);
	memcpy(s->topic[s->n], r->topic, r->topic_len);
	s->topic[s->n][r->topic_len] = '\0';
	memcpy(s->payload[s->n], r->payload, r->len);
	s->len[s->n] = r->len;
	s->n++;
	return 0;
}

static void test_append_and_replay(void **state)
{
	struct fixture *f = *state;
	struct intake *in = open_ok(f);
	struct intake_stats st;
	struct seen s = { 0 };
	static const char bin[] = { 'a', '\0', 'b' };

	assert_int_equal(intake_slot(in), 0);
	assert_int_equal(intake_append(in, 1000001, "t/1", 3, "{\"a\":1}", 7, 11, 1, 0), 1);
	assert_int_equal(intake_append(in, 1000002, "t/2", 3, bin, 3, 12, 1, INTAKE_DUP), 2);
	assert_int_equal(intake_append(in, 1000003, "t/3", 3, "", 0, 0, 0, INTAKE_RETAINED), 3);
	intake_close(in);

	/* A store that has record 1's samples: 2 and 3 come back, exactly. */
	f->committed = 1;
	in = open_ok(f);
	assert_int_equal(intake_replay(in, committed_of(f), collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.seq[0], 2);
	assert_int_equal(s.t[0], 1000002);
	assert_string_equal(s.topic[0], "t/2");
	assert_int_equal(s.len[0], 3);
	assert_memory_equal(s.payload[0], bin, 3);
	assert_int_equal(s.msgid[0], 12);
	assert_int_equal(s.qos[0], 1);
	assert_int_equal(s.flags[0], INTAKE_DUP);
	assert_int_equal(s.seq[1], 3);
	assert_int_equal(s.len[1], 0);
	assert_int_equal(s.flags[1], INTAKE_RETAINED);
	intake_get_stats(in, &st);
	assert_int_equal(st.replayed, 2);
	assert_int_equal(st.next_seq, 4);
	/* Numbering goes on after the newest record. */
	assert_int_equal(intake_append(in, 1000004, "t/4", 3, "4", 1, 13, 1, 0), 4);
	intake_close(in);
}

static void test_torn_tail(void **state)
{
	struct fixture *f = *state;
	struct intake *in = open_ok(f);
	struct intake_stats st;
	struct seen s = { 0 };
	char path[160];
	struct stat sb;

	assert_int_equal(intake_append(in, 1, "t", 1, "first", 5, 1, 1, 0), 1);
	assert_int_equal(intake_append(in, 2, "t", 1, "second", 6, 2, 1, 0), 2);
	intake_close(in);
	/* A kill -9 in the middle of the second write: 3 bytes short. */
	snprintf(path, sizeof(path), "%s-intake0.0", f->buffer);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(truncate(path, sb.st_size - 3), 0);

	in = open_ok(f);
	intake_get_stats(in, &st);
	assert_int_equal(st.torn, 1);
	assert_int_equal(st.next_seq, 2);
	assert_int_equal(intake_append(in, 3, "t", 1, "again", 5, 2, 1, INTAKE_DUP), 2);
	intake_close(in);
	in = open_ok(f);
	assert_int_equal(intake_replay(in, 0, collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_memory_equal(s.payload[0], "first", 5);
	assert_memory_equal(s.payload[1], "again", 5);
	intake_get_stats(in, &st);
	assert_int_equal(st.torn, 0);
	intake_close(in);

	/* A flipped byte is as good as torn: the CRC refuses it. */
	{
		int fd = open(path, O_RDWR);
		char c;

		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &c, 1, 8 + 32 + 1), 1);
		c ^= 0x20;
		assert_int_equal(pwrite(fd, &c, 1, 8 + 32 + 1), 1);
		close(fd);
	}
	in = open_ok(f);
	intake_get_stats(in, &st);
	assert_int_equal(st.torn, 1);
	intake_close(in);
}

static void test_duplicates(void **state)
{
	struct fixture *f = *state;
	struct intake *in = open_ok(f);
	struct intake_stats st;

	assert_true(intake_append(in, 1, "a/b", 3, "{\"v\":1}", 7, 7, 1, 0) > 0);
	assert_true(intake_duplicate(in, 7, "a/b", 3, "{\"v\":1}", 7));
	assert_false(intake_duplicate(in, 7, "a/b", 3, "{\"v\":2}", 7));
	assert_false(intake_duplicate(in, 7, "a/c", 3, "{\"v\":1}", 7));
	assert_false(intake_duplicate(in, 8, "a/b", 3, "{\"v\":1}", 7));
	assert_false(intake_duplicate(in, 0, "a/b", 3, "{\"v\":1}", 7));
	/* A packet id reused for another message: the newest counts. */
	assert_true(intake_append(in, 2, "a/b", 3, "{\"v\":3}", 7, 7, 1, 0) > 0);
	assert_false(intake_duplicate(in, 7, "a/b", 3, "{\"v\":1}", 7));
	assert_true(intake_duplicate(in, 7, "a/b", 3, "{\"v\":3}", 7));
	intake_get_stats(in, &st);
	assert_int_equal(st.duplicates, 2);
	intake_close(in);
	/* The next process knows what the journal holds. */
	in = open_ok(f);
	assert_true(intake_duplicate(in, 7, "a/b", 3, "{\"v\":3}", 7));
	assert_false(intake_duplicate(in, 7, "a/b", 3, "{\"v\":1}", 7));
	intake_close(in);
}

static off_t size_of(const struct fixture *f, int k)
{
	char path[160];
	struct stat sb;

	snprintf(path, sizeof(path), "%s-intake0.%d", f->buffer, k);
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

struct span {
	uint64_t first, last, n;
	bool ordered;
};

static int count_span(void *ctx, const struct intake_rec *r)
{
	struct span *sp = ctx;

	if (sp->n == 0)
		sp->first = r->seq;
	else if (r->seq != sp->last + 1)
		sp->ordered = false;
	sp->last = r->seq;
	sp->n++;
	return 0;
}

static void test_rotation(void **state)
{
	struct fixture *f = *state;
	static char payload[60000];
	struct intake *in = open_ok(f);
	struct span sp = { .ordered = true };
	off_t total;
	int i;

	memset(payload, 'x', sizeof(payload));
	/* Nothing committed: the files only grow, nothing is emptied. */
	for (i = 1; i <= 100; i++)
		assert_int_equal(intake_append(in, i, "t", 1, payload, sizeof(payload), 0, 0, 0), i);
	total = size_of(f, 0) + size_of(f, 1);
	assert_true(total >= (off_t)(100 * sizeof(payload)));
	/* Everything committed: once the current file is big, the other is emptied and reused. */
	f->committed = 100;
	for (i = 101; i <= 180; i++)
		assert_int_equal(intake_append(in, i, "t", 1, payload, sizeof(payload), 0, 0, 0), i);
	total = size_of(f, 0) + size_of(f, 1);
	assert_true(total < (off_t)(180 * sizeof(payload)));
	assert_true(total <= (off_t)(2 * INTAKE_ROTATE_BYTES + 2 * (32 + 1 + sizeof(payload))));
	intake_close(in);
	/* What is left is contiguous, ends with the newest, and holds every uncommitted record. */
	in = open_ok(f);
	assert_int_equal(intake_replay(in, 0, count_span, &sp), 0);
	assert_true(sp.ordered);
	assert_int_equal(sp.last, 180);
	assert_true(sp.first <= 101);
	assert_true(sp.first > 1);
	assert_int_equal(sp.n, 180 - sp.first + 1);
	intake_close(in);
}

static void test_slots_and_mark(void **state)
{
	struct fixture *f = *state;
	struct intake *a = open_ok(f), *b;
	struct intake_stats st;

	/* A second process (here a second open) on the same buffer takes slot 1. */
	b = open_ok(f);
	assert_int_equal(intake_slot(a), 0);
	assert_int_equal(intake_slot(b), 1);
	intake_close(b);
	intake_close(a);
	/* A store mark beyond every record (the journal was removed): numbering
	 * starts after it, so no new record counts as committed. */
	f->committed = 5000;
	a = open_ok(f);
	intake_get_stats(a, &st);
	assert_int_equal(st.next_seq, 5001);
	assert_int_equal(intake_append(a, 1, "t", 1, "v", 1, 0, 0, 0), 5001);
	intake_close(a);
}

static void test_not_a_journal(void **state)
{
	struct fixture *f = *state;
	char path[160], *cause = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "%s-intake0.0", f->buffer);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("something else entirely\n", fp);
	fclose(fp);
	assert_null(intake_open(f->buffer, committed_of, f, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "not a phasor intake journal"));
	free(cause);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_and_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_and_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_journal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
