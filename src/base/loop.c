// SPDX-License-Identifier: MIT
/*
 * loop: a small poll(2) event loop in the manner of redis' ae.c, for the
 * threads that own something (the hub in `phasor record` and the console,
 * the sync worker's controller in `phasor sync`): watched fds, timers on
 * the monotonic clock, and signals through a signalfd. Fixed tables (the
 * users need a handful of each), no allocation after loop_new.
 *
 * An iteration builds the pollfd array from the watched fds (plus the
 * signalfd), sleeps until the nearest timer at most, then dispatches. A
 * slot removed or reused by a callback during the dispatch is skipped (its
 * generation changed), and timers are marked due once, before any timer
 * callback runs, so a callback that adds or re-arms a timer cannot make
 * the iteration spin.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "phasor/loop.h"
#include "phasor/util.h"

#define LOOP_MAX_FDS 16
#define LOOP_MAX_TIMERS 16

struct loop_fd {
	bool used;
	int fd;
	short events;
	unsigned gen;            /* bumped on every add: a reused slot is new */
	loop_fd_fn fn;
	void *ctx;
};

struct loop_timer {
	bool used, armed, due_now;
	int64_t due_us, period_us;
	uint64_t order;          /* when it was armed, for ties */
	loop_timer_fn fn;
	void *ctx;
};

struct loop {
	int sfd;                 /* -1: no signals */
	sigset_t mask, oldmask;
	loop_signal_fn on_signal;
	void *signal_ctx;
	bool stopped;
	uint64_t next_order;
	struct loop_fd fds[LOOP_MAX_FDS];
	struct loop_timer timers[LOOP_MAX_TIMERS];
};

struct loop *loop_new(const int *signals, int nsignals, loop_signal_fn on_signal, void *ctx,
		      char **cause)
{
	struct loop *l = util_calloc(1, sizeof(*l));
	int i;

	l->sfd = -1;
	l->on_signal = on_signal;
	l->signal_ctx = ctx;
	if (nsignals <= 0)
		return l;
	sigemptyset(&l->mask);
	for (i = 0; i < nsignals; i++)
		sigaddset(&l->mask, signals[i]);
	pthread_sigmask(SIG_BLOCK, &l->mask, &l->oldmask);
	l->sfd = signalfd(-1, &l->mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (l->sfd < 0) {
		*cause = util_printf("signalfd: %s", strerror(errno));
		pthread_sigmask(SIG_SETMASK, &l->oldmask, NULL);
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	if (l->sfd >= 0) {
		close(l->sfd);
		pthread_sigmask(SIG_SETMASK, &l->oldmask, NULL);
	}
	free(l);
}

static struct loop_fd *find_fd(struct loop *l, int fd)
{
	size_t i;

	for (i = 0; i < LOOP_MAX_FDS; i++)
		if (l->fds[i].used && l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

int loop_add_fd(struct loop *l, int fd, short events, loop_fd_fn fn, void *ctx)
{
	size_t i;

	if (fd < 0 || find_fd(l, fd) != NULL)
		return -1;
	for (i = 0; i < LOOP_MAX_FDS; i++) {
		struct loop_fd *f = &l->fds[i];

		if (f->used)
			continue;
		f->used = true;
		f->fd = fd;
		f->events = events;
		f->gen++;
		f->fn = fn;
		f->ctx = ctx;
		return 0;
	}
	return -1;
}

void loop_fd_events(struct loop *l, int fd, short events)
{
	struct loop_fd *f = find_fd(l, fd);

	if (f != NULL)
		f->events = events;
}

void loop_del_fd(struct loop *l, int fd)
{
	struct loop_fd *f = find_fd(l, fd);

	if (f != NULL)
		f->used = false;
}

static void arm(struct loop *l, struct loop_timer *t, int64_t now_us, int64_t after_ms)
{
	t->armed = true;
	t->due_now = false;
	t->due_us = now_us + (after_ms > 0 ? after_ms * 1000 : 0);
	t->order = l->next_order++;
}

int loop_add_timer(struct loop *l, int64_t after_ms, int64_t period_ms, loop_timer_fn fn,
		   void *ctx)
{
	int i;

	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->timers[i];

		if (t->used)
			continue;
		memset(t, 0, sizeof(*t));
		t->used = true;
		t->period_us = period_ms > 0 ? period_ms * 1000 : 0;
		t->fn = fn;
		t->ctx = ctx;
		arm(l, t, util_mono_us(), after_ms);
		return i;
	}
	return -1;
}

void loop_timer_reset(struct loop *l, int id, int64_t after_ms)
{
	if (id >= 0 && id < LOOP_MAX_TIMERS && l->timers[id].used)
		arm(l, &l->timers[id], util_mono_us(), after_ms);
}

void loop_del_timer(struct loop *l, int id)
{
	if (id >= 0 && id < LOOP_MAX_TIMERS)
		l->timers[id].used = false;
}

/* Milliseconds until the nearest armed timer, rounded up; -1: none. */
static int next_timer_ms(const struct loop *l, int64_t now_us)
{
	int64_t best = -1;
	size_t i;

	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		const struct loop_timer *t = &l->timers[i];
		int64_t ms;

		if (!t->used || !t->armed)
			continue;
		ms = t->due_us <= now_us ? 0 : (t->due_us - now_us + 999) / 1000;
		if (best < 0 || ms < best)
			best = ms;
	}
	return best > 24 * 3600 * 1000 ? 24 * 3600 * 1000 : (int)best;
}

static int read_signals(struct loop *l)
{
	struct signalfd_siginfo si;
	int n = 0;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		n++;
		if (l->on_signal != NULL)
			l->on_signal(l, (int)si.ssi_signo, l->signal_ctx);
	}
	return n;
}

static int run_timers(struct loop *l)
{
	int64_t now = util_mono_us();
	int n = 0, i;

	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		struct loop_timer *t = &l->timers[i];

		t->due_now = t->used && t->armed && t->due_us <= now;
	}
	for (;;) {
		struct loop_timer *t = NULL;

		for (i = 0; i < LOOP_MAX_TIMERS; i++) {
			struct loop_timer *c = &l->timers[i];

			if (!c->used || !c->due_now)
				continue;
			if (t == NULL || c->due_us < t->due_us ||
			    (c->due_us == t->due_us && c->order < t->order))
				t = c;
		}
		if (t == NULL)
			return n;
		t->due_now = false;
		if (t->period_us > 0) {
			t->due_us = now + t->period_us;
			t->order = l->next_order++;
		} else {
			t->armed = false;
		}
		n++;
		t->fn(l, (int)(t - l->timers), t->ctx);
	}
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	struct pollfd pfd[LOOP_MAX_FDS + 1];
	size_t slot[LOOP_MAX_FDS];
	unsigned gen[LOOP_MAX_FDS];
	int np = 0, nf, n = 0, timeout, t, i;

	for (i = 0; i < LOOP_MAX_FDS; i++) {
		const struct loop_fd *f = &l->fds[i];

		if (!f->used || f->events == 0)
			continue;
		pfd[np] = (struct pollfd){ .fd = f->fd, .events = f->events };
		slot[np] = (size_t)i;
		gen[np] = f->gen;
		np++;
	}
	nf = np;
	if (l->sfd >= 0)
		pfd[np++] = (struct pollfd){ .fd = l->sfd, .events = POLLIN };

	timeout = next_timer_ms(l, util_mono_us());
	t = timeout_ms;
	if (t >= 0 && (timeout < 0 || t < timeout))
		timeout = t;
	if (poll(pfd, (nfds_t)np, timeout) < 0) {
		if (errno != EINTR)
			return -1;
		for (i = 0; i < np; i++)
			pfd[i].revents = 0;
	}
	/* Signals first: the console resizes before it reads the keys. */
	if (l->sfd >= 0 && (pfd[nf].revents & POLLIN))
		n += read_signals(l);
	for (i = 0; i < nf; i++) {
		struct loop_fd *f = &l->fds[slot[i]];

		/* Removed or replaced by an earlier callback of this pass. */
		if (pfd[i].revents == 0 || !f->used || f->gen != gen[i])
			continue;
		n++;
		f->fn(l, f->fd, pfd[i].revents, f->ctx);
	}
	return n + run_timers(l);
}

int loop_run(struct loop *l)
{
	while (!l->stopped)
		if (loop_run_once(l, -1) < 0)
			return -1;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stopped = true;
}

bool loop_stopped(const struct loop *l)
{
	return l->stopped;
}
