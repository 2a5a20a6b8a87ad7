// SPDX-License-Identifier: MIT
/*
 * bucket: samples into interval rows (bucket.h). The input is in time
 * order, so one interval is open at a time: every (meter, quantity) that
 * had samples in it is written out when a sample of a later interval
 * comes, or at the end. A counter keeps its last good value across
 * intervals, to count the rise from the interval before.
 */
#include "phasor/bucket.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/kpi.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define US_PER_DAY (86400LL * 1000000LL)

struct group {
	bool used;                /* samples in the open interval */
	uint64_t n, good;
	double sum;               /* mean: of the good values; counter: the rises */
	bool has_last;            /* counter: a good value seen ... */
	double last;
	int64_t last_lo, last_hi; /* ... in this interval */
};

struct bucket {
	int64_t every;
	bucket_fn fn;
	void *ctx;
	char **meters;            /* by index, as first seen */
	size_t nmeters, cap;
	size_t *order;            /* meter indices by name */
	size_t last_meter;        /* the last one looked up */
	struct group *g;          /* [meter * QTY__COUNT + qty] */
	bool open;                /* an interval has samples */
	int64_t lo, hi;           /* the open interval [lo, hi) */
	int64_t day_lo, day_hi;   /* the local day it is in */
};

int bucket_every_ok(int64_t every_us)
{
	return every_us > 0 && every_us <= US_PER_DAY && US_PER_DAY % every_us == 0;
}

struct bucket *bucket_new(int64_t every_us, bucket_fn fn, void *ctx)
{
	struct bucket *b;

	if (!bucket_every_ok(every_us))
		return NULL;
	b = util_calloc(1, sizeof(*b));
	b->every = every_us;
	b->fn = fn;
	b->ctx = ctx;
	b->day_lo = b->day_hi = INT64_MIN;
	return b;
}

void bucket_free(struct bucket *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nmeters; i++)
		free(b->meters[i]);
	free(b->meters);
	free(b->order);
	free(b->g);
	free(b);
}

static size_t meter_index(struct bucket *b, const char *name)
{
	size_t i, at;

	if (b->nmeters > 0 && strcmp(b->meters[b->last_meter], name) == 0)
		return b->last_meter;
	for (i = 0; i < b->nmeters; i++)
		if (strcmp(b->meters[i], name) == 0)
			return b->last_meter = i;
	if (b->nmeters == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->meters = util_reallocarray(b->meters, b->cap, sizeof(*b->meters));
		b->order = util_reallocarray(b->order, b->cap, sizeof(*b->order));
		b->g = util_reallocarray(b->g, b->cap * QTY__COUNT, sizeof(*b->g));
	}
	i = b->nmeters++;
	b->meters[i] = util_strdup(name);
	memset(&b->g[i * QTY__COUNT], 0, QTY__COUNT * sizeof(*b->g));
	/* insertion into the name order */
	for (at = i; at > 0 && strcmp(b->meters[b->order[at - 1]], name) > 0; at--)
		b->order[at] = b->order[at - 1];
	b->order[at] = i;
	return b->last_meter = i;
}

/* The interval t_us is in, into lo..hi (the day's bounds cached). */
static void interval_of(struct bucket *b, int64_t t_us, int64_t *lo, int64_t *hi)
{
	int64_t k;

	if (t_us < b->day_lo || t_us >= b->day_hi) {
		b->day_lo = kpi_local_midnight(t_us);
		/* days are 23 to 25 hours: 26 h on is inside the next one */
		b->day_hi = kpi_local_midnight(b->day_lo + 26 * 3600 * 1000000LL);
		if (b->day_hi <= t_us) /* no time zone data: plain days */
			b->day_hi = b->day_lo + US_PER_DAY;
	}
	k = (t_us - b->day_lo) / b->every;
	*lo = b->day_lo + k * b->every;
	*hi = *lo + b->every < b->day_hi ? *lo + b->every : b->day_hi;
}

static int close_interval(struct bucket *b)
{
	size_t i;
	unsigned q;
	int rc = 0;

	if (!b->open)
		return 0;
	for (i = 0; i < b->nmeters && rc == 0; i++) {
		size_t m = b->order[i];

		for (q = 0; q < QTY__COUNT && rc == 0; q++) {
			struct group *g = &b->g[m * QTY__COUNT + q];
			struct bucket_out o = { .t_us = b->lo, .end_us = b->hi,
						.meter = b->meters[m], .qty = q };

			if (!g->used)
				continue;
			o.samples = g->n;
			o.quality = g->good > 0 ? QUALITY_GOOD : QUALITY_BAD;
			o.value = g->good == 0		     ? NAN
				  : qty_info(q)->counter ? g->sum
							 : g->sum / (double)g->good;
			rc = b->fn(b->ctx, &o);
			g->used = false;
			g->n = g->good = 0;
			g->sum = 0;
		}
	}
	b->open = false;
	return rc;
}

int bucket_add(struct bucket *b, const char *meter, unsigned qty, int64_t t_us, double value,
	       int quality)
{
	struct group *g;
	size_t m;
	int rc;

	if (qty >= QTY__COUNT)
		return 0;
	if (!b->open || t_us >= b->hi) {
		int64_t lo, hi;

		rc = close_interval(b);
		if (rc != 0)
			return rc;
		interval_of(b, t_us, &lo, &hi);
		b->lo = lo;
		b->hi = hi;
		b->open = true;
	}
	m = meter_index(b, meter);
	g = &b->g[m * QTY__COUNT + qty];
	g->used = true;
	g->n++;
	if (quality != QUALITY_GOOD || !isfinite(value))
		return 0;
	g->good++;
	if (!qty_info(qty)->counter) {
		g->sum += value;
		return 0;
	}
	/* The rise from the last good value: of this interval, or of the one
	 * just before (not across a gap). */
	if (g->has_last && (g->last_lo == b->lo || g->last_hi == b->lo)) {
		g->sum += utility_counter_rise(g->last, value, 0);
	}
	g->has_last = true;
	g->last = value;
	g->last_lo = b->lo;
	g->last_hi = b->hi;
	return 0;
}

int bucket_end(struct bucket *b)
{
	return close_interval(b);
}
