/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_RECLOCK_H
#define PHASOR_RECLOCK_H
/*
 * reclock: who acquires for a buffer. The process that polls the meters
 * and writes the buffer (`phasor record`, or a console running embedded)
 * holds an exclusive flock(2) on BUFFER-recorder.lock for its whole life.
 * The kernel drops the lock when the process ends, even by kill -9, so a
 * console can tell reliably whether a recorder runs: it attaches when the
 * lock is held and runs embedded (taking it) when it is free. The file's
 * text (pid, mode, host) is for messages only; the lock is the truth.
 */
#include <stdbool.h>
#include <stddef.h>

/* How long a recorder waits for a console's probe to let go. */
#define RECLOCK_WAIT_MS 2000

/* "BUFFER-recorder.lock" (new string). */
char *reclock_path(const char *buffer);

/*
 * Take the lock for mode ("record", "console"), waiting up to wait_ms
 * (a console's probe holds it for a moment). 1 taken (*fd keeps it: close
 * to release), 0 held by another process (who: its text, "pid 123 record on
 * host"), -1 with *cause when the file cannot be opened.
 */
int reclock_take(const char *buffer, const char *mode, int wait_ms, int *fd, char *who,
		 size_t whosz, char **cause);

/*
 * Is the lock held by another process? 1 held (who filled), 0 free, -1
 * with *cause. Takes and releases the lock at once when free.
 */
int reclock_probe(const char *buffer, char *who, size_t whosz, char **cause);

void reclock_release(int fd);

#endif
