/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_QUEUE_H
#define PHASOR_QUEUE_H
/*
 * queue: a bounded multi-producer, single-consumer queue of pointers with an
 * eventfd that is readable while the queue is not empty, so the consumer's
 * poll() loop wakes when a producer thread pushes (the way redis' bio wakes
 * its event loop). Items are opaque; whoever pops one owns it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct queue;

/* A new queue holding at most capacity items. Free with queue_free(). */
struct queue *queue_new(size_t capacity);

/*
 * Push item. When the queue is full, wait up to timeout_ms (0: not at all,
 * -1: until there is room or the queue is closed). Returns 0 when pushed,
 * -1 when it was full for the whole timeout or the queue is closed: the
 * caller still owns item (and counts the drop).
 */
int queue_push(struct queue *q, void *item, int timeout_ms);

/*
 * Push items[0..n) in order, under one lock and with at most one wake-up of
 * the consumer (a producer that batches its messages wakes it once per
 * batch). Waits for room as queue_push does, for at most timeout_ms while
 * nothing fits. Returns how many were pushed (the first ones); the caller
 * still owns the rest.
 */
size_t queue_push_many(struct queue *q, void *const *items, size_t n, int timeout_ms);

/*
 * Pop up to max items into items[] in FIFO order without blocking; returns
 * how many. Clears the eventfd when the queue becomes empty.
 */
size_t queue_pop(struct queue *q, void **items, size_t max);

/* The eventfd to poll for POLLIN. */
int queue_fd(const struct queue *q);

/* Items queued now. */
size_t queue_depth(struct queue *q);

/* Highest depth seen. */
size_t queue_high_water(struct queue *q);

/* Refuse further pushes and wake waiting producers. */
void queue_close(struct queue *q);

/*
 * Free the queue; items still inside are passed to free_item (may be NULL
 * when the queue is known to be empty).
 */
void queue_free(struct queue *q, void (*free_item)(void *));

#endif
