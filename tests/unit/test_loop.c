// SPDX-License-Identifier: MIT
/* Unit tests of loop.c: fds (events, hang-up, removal), timers (order, ties,
 * periodic, no catch-up burst, reset, removal), signals through the signalfd
 * and the inherited mask, stop. Every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phasor/loop.h"
#include "phasor/util.h"

/* What the callbacks saw. */
struct seen {
	int n;
	int ids[64];           /* timer ids, fds or signal numbers, in order */
	short revents[64];
	struct loop *l;
	int stop_after;        /* loop_stop at this count (0: never) */
	int del_fd;            /* an fd the first callback removes (-1: none) */
};

static void note(struct loop *l, struct seen *s, int id, short revents)
{
	if (s->n < 64) {
		s->ids[s->n] = id;
		s->revents[s->n] = revents;
	}
	s->n++;
	if (s->stop_after > 0 && s->n >= s->stop_after)
		loop_stop(l);
}

static void on_fd(struct loop *l, int fd, short revents, void *ctx)
{
	struct seen *s = ctx;
	char buf[16];

	if (revents & POLLIN)
		(void)!read(fd, buf, sizeof(buf));
	note(l, s, fd, revents);
	if (s->del_fd >= 0) {
		loop_del_fd(l, s->del_fd);
		s->del_fd = -1;
	}
}

static void on_timer(struct loop *l, int id, void *ctx)
{
	note(l, ctx, id, 0);
}

static void on_signal(struct loop *l, int signo, void *ctx)
{
	note(l, ctx, signo, 0);
}

/* Iterations until s->n reaches want or 5 s have passed. */
static void run_until(struct loop *l, struct seen *s, int want)
{
	int64_t end = util_mono_us() + 5000000;

	while (s->n < want && util_mono_us() < end)
		assert_true(loop_run_once(l, 100) >= 0);
}

static void test_fds(void **state)
{
	struct seen s = { .del_fd = -1 };
	struct loop *l = loop_new(NULL, 0, NULL, NULL, NULL);
	int a[2], b[2];

	(void)state;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(loop_add_fd(l, a[0], POLLIN, on_fd, &s), 0);
	assert_int_equal(loop_add_fd(l, a[0], POLLIN, on_fd, &s), -1); /* twice */
	/* Nothing ready, no timer: the timeout bounds the wait. */
	assert_int_equal(loop_run_once(l, 10), 0);
	assert_int_equal(s.n, 0);

	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], a[0]);
	assert_true(s.revents[0] & POLLIN);

	/* Events 0: still registered, not polled. */
	loop_fd_events(l, a[0], 0);
	assert_int_equal(write(a[1], "y", 1), 1);
	assert_int_equal(loop_run_once(l, 0), 0);
	loop_fd_events(l, a[0], POLLIN);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.n, 2);

	/* POLLOUT on a pipe's write end. */
	assert_int_equal(loop_add_fd(l, b[1], POLLOUT, on_fd, &s), 0);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.ids[2], b[1]);
	assert_true(s.revents[2] & POLLOUT);
	loop_del_fd(l, b[1]);

	/* Both readable: callbacks in the order added; the first removes the
	 * second, which is then not called in the same pass. */
	assert_int_equal(loop_add_fd(l, b[0], POLLIN, on_fd, &s), 0);
	assert_int_equal(write(a[1], "z", 1), 1);
	assert_int_equal(write(b[1], "z", 1), 1);
	s.del_fd = b[0];
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.ids[3], a[0]);
	assert_int_equal(loop_run_once(l, 0), 0); /* b[0] is forgotten */

	/* A hang-up reaches the callback as POLLHUP. */
	loop_fd_events(l, a[0], POLLIN);
	close(a[1]);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.ids[4], a[0]);
	assert_true(s.revents[4] & POLLHUP);

	loop_free(l);
	close(a[0]);
	close(b[0]);
	close(b[1]);
}

static void test_timer_order(void **state)
{
	struct seen s = { .del_fd = -1 };
	struct loop *l = loop_new(NULL, 0, NULL, NULL, NULL);
	int t30, t10, t20, z1, z2, gone;

	(void)state;
	t30 = loop_add_timer(l, 30, 0, on_timer, &s);
	t10 = loop_add_timer(l, 10, 0, on_timer, &s);
	gone = loop_add_timer(l, 15, 0, on_timer, &s);
	t20 = loop_add_timer(l, 20, 0, on_timer, &s);
	loop_del_timer(l, gone);
	run_until(l, &s, 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.ids[0], t10);
	assert_int_equal(s.ids[1], t20);
	assert_int_equal(s.ids[2], t30);
	/* One-shot: done. */
	assert_int_equal(loop_run_once(l, 50), 0);

	/* Due together: in the order added, in one iteration. */
	z1 = loop_add_timer(l, 0, 0, on_timer, &s);
	z2 = loop_add_timer(l, 0, 0, on_timer, &s);
	assert_int_equal(loop_run_once(l, 1000), 2);
	assert_int_equal(s.ids[3], z1);
	assert_int_equal(s.ids[4], z2);

	/* A fired one-shot re-armed. */
	loop_timer_reset(l, t10, 0);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.ids[5], t10);
	loop_free(l);
}

static void test_timer_periodic(void **state)
{
	struct seen s = { .del_fd = -1 };
	struct loop *l = loop_new(NULL, 0, NULL, NULL, NULL);
	int p, once, i;

	(void)state;
	p = loop_add_timer(l, 0, 5, on_timer, &s);
	once = loop_add_timer(l, 2, 0, on_timer, &s);
	run_until(l, &s, 5);
	assert_true(s.n >= 5);
	for (i = 0, s.n = s.n < 64 ? s.n : 64; i < s.n; i++)
		assert_true(s.ids[i] == p || s.ids[i] == once);
	/* The one-shot fired exactly once among them. */
	{
		int k = 0;

		for (i = 0; i < s.n; i++)
			k += s.ids[i] == once;
		assert_int_equal(k, 1);
	}
	/* After a stall of 20 periods: one call, not a burst of them. */
	util_sleep_ms(100);
	s.n = 0;
	assert_int_equal(loop_run_once(l, 0), 1);
	assert_int_equal(s.ids[0], p);
	/* Full table: -1. */
	for (i = 0; i < 64; i++)
		if (loop_add_timer(l, 1000, 0, on_timer, &s) < 0)
			break;
	assert_true(i < 64);
	loop_free(l);
}

static void *mask_of_thread(void *arg)
{
	sigset_t cur;

	(void)arg;
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	return (void *)(intptr_t)sigismember(&cur, SIGUSR1);
}

static void test_signals(void **state)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2 };
	struct seen s = { .del_fd = -1 };
	struct loop *l;
	sigset_t cur;
	pthread_t th;
	void *blocked;

	(void)state;
	l = loop_new(sigs, 2, on_signal, &s, NULL);
	assert_non_null(l);
	/* A thread started afterwards has them blocked too. */
	assert_int_equal(pthread_create(&th, NULL, mask_of_thread, NULL), 0);
	pthread_join(th, &blocked);
	assert_int_equal((intptr_t)blocked, 1);

	/* Pending while blocked: delivered through the signalfd, in a run. */
	kill(getpid(), SIGUSR2);
	run_until(l, &s, 1);
	kill(getpid(), SIGUSR1);
	run_until(l, &s, 2);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.ids[0], SIGUSR2);
	assert_int_equal(s.ids[1], SIGUSR1);
	loop_free(l);
	/* The old mask is back. */
	pthread_sigmask(SIG_BLOCK, NULL, &cur);
	assert_false(sigismember(&cur, SIGUSR1));
	assert_false(sigismember(&cur, SIGUSR2));
}

static void test_stop(void **state)
{
	static const int sigs[] = { SIGUSR1 };
	struct seen s = { .del_fd = -1, .stop_after = 3 };
	struct loop *l = loop_new(NULL, 0, NULL, NULL, NULL);

	(void)state;
	/* A periodic timer stops the loop at its third call. */
	loop_add_timer(l, 0, 1, on_timer, &s);
	assert_false(loop_stopped(l));
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(s.n, 3);
	assert_true(loop_stopped(l));
	/* Once stopped, loop_run returns at once. */
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(s.n, 3);
	loop_free(l);

	/* A signal stops it (as SIGTERM stops `phasor sync`). */
	memset(&s, 0, sizeof(s));
	s.del_fd = -1;
	s.stop_after = 1;
	l = loop_new(sigs, 1, on_signal, &s, NULL);
	kill(getpid(), SIGUSR1);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.ids[0], SIGUSR1);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_periodic),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
