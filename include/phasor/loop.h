/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_LOOP_H
#define PHASOR_LOOP_H
#include <stdbool.h>
#include <stdint.h>
/*
 * loop: the event loop of the commands that own a hub or a worker
 * (`phasor record`, the console, `phasor sync`): poll(2) over registered
 * file descriptors, one-shot and periodic timers on CLOCK_MONOTONIC, and
 * the signals the command asked for, read from a signalfd (never in a
 * handler). One loop per thread, used by that thread only.
 *
 * Signals: loop_new blocks them in the calling thread; threads created
 * afterwards inherit the blocked mask, so only the loop sees them (create
 * the loop before any thread). loop_free restores the old mask.
 */

struct loop;

/* A ready fd: revents as poll(2) reported them (POLLHUP, POLLERR too). */
typedef void (*loop_fd_fn)(struct loop *l, int fd, short revents, void *ctx);
/* A due timer, by the id loop_add_timer returned. */
typedef void (*loop_timer_fn)(struct loop *l, int id, void *ctx);
/* One delivered signal (SIGINT, SIGTERM...). */
typedef void (*loop_signal_fn)(struct loop *l, int signo, void *ctx);

/*
 * A loop receiving the nsignals signals of signals[] (0 for none) through
 * a signalfd; on_signal is called once per delivered signal. NULL with
 * *cause set (free it) when the signalfd cannot be made.
 */
struct loop *loop_new(const int *signals, int nsignals, loop_signal_fn on_signal, void *ctx,
		      char **cause);
/* Closes the signalfd (not the registered fds) and restores the mask. */
void loop_free(struct loop *l);

/*
 * Watches fd for events (POLLIN, POLLOUT); fn is called whenever poll
 * reports anything on it. Returns 0, or -1 when fd is already watched or
 * the table is full. loop_fd_events changes the events; 0 stops polling
 * the fd without forgetting it. loop_del_fd forgets it (not closed).
 */
int loop_add_fd(struct loop *l, int fd, short events, loop_fd_fn fn, void *ctx);
void loop_fd_events(struct loop *l, int fd, short events);
void loop_del_fd(struct loop *l, int fd);

/*
 * A timer due after_ms from now; period_ms > 0 makes it periodic: once it
 * has fired it is due period_ms after the instant it fired (no burst of
 * catch-up calls after a stall). Timers due at the same time fire in the
 * order they fell due, ties in the order they were added; each fires at
 * most once per iteration. Returns the timer's id (>= 0), or -1 when the
 * table is full. loop_timer_reset makes it due after_ms from now (again,
 * also after a one-shot fired); loop_del_timer removes it.
 */
int loop_add_timer(struct loop *l, int64_t after_ms, int64_t period_ms, loop_timer_fn fn,
		   void *ctx);
void loop_timer_reset(struct loop *l, int id, int64_t after_ms);
void loop_del_timer(struct loop *l, int id);

/*
 * One iteration: waits until an fd is ready, a signal arrives, the next
 * timer is due, or at most timeout_ms (-1: no limit beyond the timers; 0:
 * do not wait), then calls the signals' callbacks, the fds' (in the order
 * added), then the due timers'. Returns how many callbacks ran, or -1
 * with errno when poll fails (EINTR is not a failure).
 */
int loop_run_once(struct loop *l, int timeout_ms);
/* Iterations until loop_stop. Returns 0, or -1 with errno (poll failed). */
int loop_run(struct loop *l);
/* Makes loop_run return after the current iteration. */
void loop_stop(struct loop *l);
bool loop_stopped(const struct loop *l);

#endif
