// SPDX-License-Identifier: MIT
/*
 * queue: bounded MPSC ring of pointers. A mutex guards the ring; producers
 * that find it full wait on a condition variable for at most their timeout.
 * The eventfd is written on the empty -> non-empty transition and drained
 * when the consumer empties the ring, both under the mutex, so "readable"
 * always means "not empty" and no wake-up is lost.
 */
#include "phasor/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "phasor/util.h"

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full;
	void **ring;
	size_t cap, head, count, high;
	bool closed;
	int efd;
};

struct queue *queue_new(size_t capacity)
{
	struct queue *q = util_calloc(1, sizeof(*q));
	pthread_condattr_t ca;

	q->cap = capacity ? capacity : 1;
	q->ring = util_calloc(q->cap, sizeof(*q->ring));
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0)
		util_fail("eventfd: %s", strerror(errno));
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->not_full, &ca);
	pthread_condattr_destroy(&ca);
	return q;
}

static void wake(struct queue *q)
{
	uint64_t one = 1;

	/* Cannot fail short of a counter overflow we never approach. */
	if (write(q->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN only on overflow; the fd is readable anyway. */
	}
}

/* With q->lock held: wait for room (queue_push's timeout rule); false when
 * there is none (full for the whole timeout, or closed). */
static bool wait_room(struct queue *q, int timeout_ms)
{
	struct timespec deadline;

	if (q->count == q->cap && timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout_ms / 1000;
		deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	while (q->count == q->cap && !q->closed) {
		if (timeout_ms == 0)
			break;
		if (timeout_ms < 0) {
			pthread_cond_wait(&q->not_full, &q->lock);
		} else if (pthread_cond_timedwait(&q->not_full, &q->lock, &deadline) ==
			   ETIMEDOUT) {
			break;
		}
	}
	return !q->closed && q->count < q->cap;
}

size_t queue_push_many(struct queue *q, void *const *items, size_t n, int timeout_ms)
{
	size_t done = 0;
	bool was_empty;

	pthread_mutex_lock(&q->lock);
	was_empty = q->count == 0;
	while (done < n && wait_room(q, timeout_ms)) {
		/* the consumer may have emptied it while we waited for room */
		if (q->count == 0)
			was_empty = true;
		while (done < n && q->count < q->cap) {
			q->ring[(q->head + q->count) % q->cap] = items[done++];
			q->count++;
		}
		if (q->count > q->high)
			q->high = q->count;
		if (was_empty) {
			wake(q);
			was_empty = false;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return done;
}

int queue_push(struct queue *q, void *item, int timeout_ms)
{
	return queue_push_many(q, &item, 1, timeout_ms) == 1 ? 0 : -1;
}

size_t queue_pop(struct queue *q, void **items, size_t max)
{
	size_t n = 0;
	uint64_t v;

	pthread_mutex_lock(&q->lock);
	while (n < max && q->count > 0) {
		items[n++] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	if (q->count == 0) {
		if (read(q->efd, &v, sizeof(v)) < 0) {
			/* EAGAIN: already clear */
		}
	}
	if (n > 0)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return n;
}

int queue_fd(const struct queue *q)
{
	return q->efd;
}

size_t queue_depth(struct queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->count;
	pthread_mutex_unlock(&q->lock);
	return n;
}

size_t queue_high_water(struct queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->high;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
}

void queue_free(struct queue *q, void (*free_item)(void *))
{
	if (q == NULL)
		return;
	while (q->count > 0) {
		if (free_item != NULL)
			free_item(q->ring[q->head]);
		q->head = (q->head + 1) % q->cap;
		q->count--;
	}
	close(q->efd);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->lock);
	free(q->ring);
	free(q);
}
