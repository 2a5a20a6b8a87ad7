/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_BUCKET_H
#define PHASOR_BUCKET_H
/*
 * bucket: samples in time order made into one row per interval, meter and
 * quantity (`phasor export --every`). Intervals divide the local day (the
 * process time zone, TZ): they start at local midnight and every `every`
 * after it; the last of a day ends at the next midnight (a 23 or 25 hour
 * day at a DST change keeps its intervals on the wall clock).
 *
 * A quantity's row is the mean of its good samples in the interval; an
 * energy or volume counter's (qty_info()->counter) is what it counted in
 * the interval: the sum of its rises from one good sample to the next,
 * starting from the last good sample of the interval before when that
 * one had any (a gap leaves its energy uncounted rather than lump it on
 * the next interval); a drop of more than a millionth of the value is a
 * reset or restart of the meter, bridged (nothing counted across it).
 * An interval with samples but no good one gives NaN, quality bad; one
 * with no sample gives no row. Pure: no I/O, no clock.
 */
#include <stdint.h>

struct bucket_out {
	int64_t t_us;             /* the interval's start */
	int64_t end_us;           /* its end (exclusive) */
	const char *meter;        /* valid during the callback */
	unsigned qty;             /* enum qty_id */
	double value;             /* mean, or the counter's rise; NaN: no good sample */
	int quality;              /* enum quality: good when any sample was good */
	uint64_t samples;         /* samples in the interval */
};
/* Nonzero stops: bucket_add and bucket_end then return it. */
typedef int (*bucket_fn)(void *ctx, const struct bucket_out *o);

struct bucket;

/*
 * every_us must divide a day (86,400 s) in whole microseconds: NULL
 * otherwise. Rows come out interval by interval, in each interval by meter
 * name (byte order), then quantity id.
 */
struct bucket *bucket_new(int64_t every_us, bucket_fn fn, void *ctx);
void bucket_free(struct bucket *b);

/* True when every_us is an interval bucket_new takes. */
int bucket_every_ok(int64_t every_us);

/* One sample, t_us never before the previous one's interval. 0 or fn's. */
int bucket_add(struct bucket *b, const char *meter, unsigned qty, int64_t t_us, double value,
	       int quality);
/* The last interval out. 0 or fn's. */
int bucket_end(struct bucket *b);

#endif
