// SPDX-License-Identifier: MIT
/* Unit tests of queue.c: FIFO order, bound, eventfd readiness, producers on threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>

#include "phasor/queue.h"
#include "phasor/util.h"

static int readable(struct queue *q)
{
	struct pollfd p = { .fd = queue_fd(q), .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_fifo_and_fd(void **state)
{
	struct queue *q = queue_new(4);
	void *out[8];
	intptr_t i;

	(void)state;
	assert_false(readable(q));
	for (i = 1; i <= 4; i++)
		assert_int_equal(queue_push(q, (void *)i, 0), 0);
	assert_true(readable(q));
	/* Full: refused at once with timeout 0, and after a short wait. */
	assert_int_equal(queue_push(q, (void *)5, 0), -1);
	assert_int_equal(queue_push(q, (void *)5, 20), -1);
	assert_int_equal(queue_depth(q), 4);
	assert_int_equal(queue_pop(q, out, 3), 3);
	assert_true((intptr_t)out[0] == 1 && (intptr_t)out[1] == 2 && (intptr_t)out[2] == 3);
	assert_true(readable(q)); /* one left */
	assert_int_equal(queue_push(q, (void *)6, 0), 0);
	assert_int_equal(queue_pop(q, out, 8), 2);
	assert_true((intptr_t)out[0] == 4 && (intptr_t)out[1] == 6);
	assert_false(readable(q));
	assert_int_equal(queue_high_water(q), 4);
	queue_close(q);
	assert_int_equal(queue_push(q, (void *)7, -1), -1);
	queue_free(q, NULL);
}

#define PRODUCERS 4
#define PER_PRODUCER 20000

static void *producer(void *arg)
{
	struct queue *q = arg;
	intptr_t i;

	for (i = 1; i <= PER_PRODUCER; i++) {
		intptr_t *v = util_malloc(sizeof(*v));
		*v = i;
		if (queue_push(q, v, -1) < 0)
			abort();
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct queue *q = queue_new(64); /* small: producers must wait */
	pthread_t th[PRODUCERS];
	void *out[32];
	int64_t sum = 0, count = 0, last_seen_max = 0;
	int i;

	(void)state;
	for (i = 0; i < PRODUCERS; i++)
		pthread_create(&th[i], NULL, producer, q);
	while (count < (int64_t)PRODUCERS * PER_PRODUCER) {
		struct pollfd p = { .fd = queue_fd(q), .events = POLLIN };
		size_t n, k;

		assert_true(poll(&p, 1, 5000) == 1); /* never a lost wake-up */
		n = queue_pop(q, out, 32);
		for (k = 0; k < n; k++) {
			intptr_t v = *(intptr_t *)out[k];
			sum += v;
			if (v > last_seen_max)
				last_seen_max = v;
			free(out[k]);
		}
		count += (int64_t)n;
	}
	for (i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	assert_true(sum == (int64_t)PRODUCERS * PER_PRODUCER * (PER_PRODUCER + 1) / 2);
	assert_int_equal(last_seen_max, PER_PRODUCER);
	assert_int_equal(queue_depth(q), 0);
	queue_free(q, NULL);
}

static void test_free_remaining(void **state)
{
	struct queue *q = queue_new(8);

	(void)state;
	queue_push(q, util_malloc(10), 0);
	queue_push(q, util_malloc(20), 0);
	queue_free(q, free); /* ASan would report a leak otherwise */
}

/* A batch: in order, one eventfd readiness, what does not fit left to the
 * caller; a batch larger than the queue goes through while a consumer
 * thread makes room. */
struct drain {
	struct queue *q;
	intptr_t got[64];
	size_t n, want;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;
	void *out[8];

	while (d->n < d->want) {
		size_t k = queue_pop(d->q, out, 8), i;

		for (i = 0; i < k; i++)
			d->got[d->n++] = (intptr_t)out[i];
		if (k == 0)
			util_sleep_ms(1);
	}
	return NULL;
}

static void test_push_many(void **state)
{
	struct queue *q = queue_new(4);
	void *in[40], *out[8];
	struct drain d = { 0 };
	pthread_t t;
	intptr_t i;

	(void)state;
	for (i = 0; i < 40; i++)
		in[i] = (void *)(i + 1);
	assert_int_equal(queue_push_many(q, in, 3, 0), 3);
	assert_true(readable(q));
	assert_int_equal(queue_push_many(q, in + 3, 3, 0), 1); /* room for one */
	assert_int_equal(queue_pop(q, out, 8), 4);
	for (i = 0; i < 4; i++)
		assert_true((intptr_t)out[i] == i + 1);
	assert_false(readable(q));
	assert_int_equal(queue_push_many(q, in, 0, 0), 0);
	assert_false(readable(q));

	d.q = q;
	d.want = 40;
	assert_int_equal(pthread_create(&t, NULL, drain_main, &d), 0);
	assert_int_equal(queue_push_many(q, in, 40, 5000), 40);
	pthread_join(t, NULL);
	for (i = 0; i < 40; i++)
		assert_true(d.got[i] == i + 1);
	queue_close(q);
	assert_int_equal(queue_push_many(q, in, 2, 0), 0);
	queue_free(q, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_fd),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_free_remaining),
		cmocka_unit_test(test_push_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
