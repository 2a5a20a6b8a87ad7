// SPDX-License-Identifier: MIT
/*
 * bench_history: a history query through the rollups against the same
 * query from the raw samples (issue 12 item 7). Prints markdown table rows.
 *
 *   bench_history DB METER QTY DAYS
 *
 * The minutes of one quantity of one meter over the last DAYS days of the
 * buffer (store_reader_minutes: rollups merged with the poll rows', and
 * raw, every sample of the range scanned and aggregated), alternately,
 * three rounds with the order rotated, the ratio taken within each round;
 * the two answers are compared minute by minute (counts, min, max, last)
 * so a fast wrong answer cannot pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/codec.h"
#include "phasor/qty.h"
#include "phasor/store.h"
#include "phasor/util.h"

struct acc {
	size_t n, cap;
	int64_t *t;
	struct codec_minute *m;
};

static int take(void *ctx, int64_t t_us, const struct codec_minute *m)
{
	struct acc *a = ctx;

	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 65536;
		a->t = util_reallocarray(a->t, a->cap, sizeof(*a->t));
		a->m = util_reallocarray(a->m, a->cap, sizeof(*a->m));
	}
	a->t[a->n] = t_us;
	a->m[a->n++] = *m;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct acc a[2];
	struct store_reader *r;
	char *cause = NULL;
	int64_t first, last, from, took[2] = { 0, 0 }, ratio[3];
	uint64_t samples = 0;
	long days;
	int qty, round;

	if (argc != 5 || util_parse_long(argv[4], 1, 3650, &days) < 0 ||
	    (qty = qty_lookup(argv[3])) < 0) {
		fprintf(stderr, "usage: bench_history DB METER QTY DAYS\n");
		return 2;
	}
	r = store_reader_open(argv[1], &cause);
	if (r == NULL || store_reader_time_bounds(r, &first, &last, &cause) < 0) {
		fprintf(stderr, "bench_history: %s\n", cause);
		return 1;
	}
	from = last - days * 86400000000LL > first ? last - days * 86400000000LL : first;
	memset(a, 0, sizeof(a));
	for (round = 0; round < 3; round++) {
		for (int side = 0; side < 2; side++) {
			int raw = (side == 0) == (round % 2 == 1);
			int64_t t0 = util_mono_us();

			a[raw].n = 0;
			if (store_reader_minutes(r, argv[2], (unsigned)qty, from, last + 1, raw, take,
						 &a[raw], &cause) < 0) {
				fprintf(stderr, "bench_history: %s\n", cause);
				return 1;
			}
			took[raw] = util_mono_us() - t0;
		}
		if (a[0].n != a[1].n || a[0].n == 0) {
			fprintf(stderr, "bench_history: %zu minutes from the rollups, %zu raw\n", a[0].n,
				a[1].n);
			return 1;
		}
		samples = 0;
		for (size_t i = 0; i < a[0].n; i++) {
			const struct codec_minute *x = &a[0].m[i], *y = &a[1].m[i];

			if (a[0].t[i] != a[1].t[i] || x->n != y->n || x->good != y->good ||
			    (x->good > 0 && (x->min != y->min || x->max != y->max || x->last != y->last ||
					     fabs(x->sum - y->sum) > 1e-9 * fabs(y->sum)))) {
				fprintf(stderr, "bench_history: minute %zu differs\n", i);
				return 1;
			}
			samples += y->n;
		}
		ratio[round] = took[1] * 1000 / (took[0] > 0 ? took[0] : 1);
		fprintf(stderr, "history round %d: rollups %.1f ms, raw %.1f ms (%zu minutes, %llu"
				" samples); raw / rollups %.1f\n",
			round + 1, (double)took[0] / 1000, (double)took[1] / 1000, a[0].n,
			(unsigned long long)samples, (double)ratio[round] / 1000);
	}
	qsort(ratio, 3, sizeof(ratio[0]), cmp_i64);
	printf("| History of one quantity (%s) of one meter over %.0f days: its %zu minutes (%llu "
	       "samples) | from the rollups: %.1f ms (last round) | from the raw samples: %.1f ms | "
	       "**%.1f x faster** (median of 3 alternated; %.1f to %.1f) | |\n",
	       argv[3], (double)(last + 1 - from) / 86400e6, a[0].n, (unsigned long long)samples,
	       (double)took[0] / 1000, (double)took[1] / 1000, (double)ratio[1] / 1000,
	       (double)ratio[0] / 1000, (double)ratio[2] / 1000);
	store_reader_close(r);
	free(a[0].t);
	free(a[0].m);
	free(a[1].t);
	free(a[1].m);
	return 0;
}
