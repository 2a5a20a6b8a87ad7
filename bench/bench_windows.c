// SPDX-License-Identifier: MIT
/*
 * bench_windows: the read of `phasor report` (issue 13) through the hours
 * of windows against the same read through the per-minute rollups.
 * Prints a markdown table row.
 *
 *   bench_windows DB DAYS
 *
 * For every meter of the buffer, the report's 11 quantities over the last
 * DAYS days: store_reader_windows_many (5-minute windows from the hours)
 * and store_reader_minutes_many (the minutes, as the report read them
 * before), alternately, three rounds with the order rotated, the ratio
 * taken within each round. The two answers are compared (per quantity:
 * samples, good samples, min and max over the range) so that a fast wrong
 * answer cannot pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/codec.h"
#include "phasor/report.h"
#include "phasor/store.h"
#include "phasor/util.h"

struct tally {
	uint64_t n[REPORT_NSERIES], good[REPORT_NSERIES], records;
	double min[REPORT_NSERIES], max[REPORT_NSERIES];
};

static int take(void *ctx, size_t k, int64_t t_us, const struct codec_minute *m)
{
	struct tally *a = ctx;

	(void)t_us;
	a->records++;
	a->n[k] += m->n;
	a->good[k] += m->good;
	if (m->good > 0) {
		a->min[k] = fmin(a->min[k], m->min);
		a->max[k] = fmax(a->max[k], m->max);
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	unsigned qty[REPORT_NSERIES];
	struct tally a[2];
	struct store_reader *r;
	char *cause = NULL, **names;
	int64_t first, last, from, took[2] = { 0, 0 }, ratio[3];
	size_t nm = 0;
	long days;

	if (argc != 3 || util_parse_long(argv[2], 1, 3650, &days) < 0) {
		fprintf(stderr, "usage: bench_windows DB DAYS\n");
		return 2;
	}
	for (unsigned k = 0; k < REPORT_NSERIES; k++)
		qty[k] = report_series_qty(k);
	r = store_reader_open(argv[1], &cause);
	if (r == NULL || store_reader_time_bounds(r, &first, &last, &cause) < 0 ||
	    (names = store_reader_meter_names(r, &cause)) == NULL) {
		fprintf(stderr, "bench_windows: %s\n", cause);
		return 1;
	}
	while (names[nm] != NULL)
		nm++;
	from = last - days * 86400000000LL > first ? last - days * 86400000000LL : first;
	from = from / 3600000000LL * 3600000000LL;
	for (int round = 0; round < 3; round++) {
		for (int side = 0; side < 2; side++) {
			int mins = (side == 0) == (round % 2 == 1);
			int64_t t0 = util_mono_us();

			memset(&a[mins], 0, sizeof(a[mins]));
			for (unsigned k = 0; k < REPORT_NSERIES; k++) {
				a[mins].min[k] = INFINITY;
				a[mins].max[k] = -INFINITY;
			}
			for (size_t i = 0; i < nm; i++) {
				int rc = mins ? store_reader_minutes_many(r, names[i], qty, REPORT_NSERIES,
									  from, last + 1, false, take,
									  &a[1], &cause)
					      : store_reader_windows_many(r, names[i], qty, REPORT_NSERIES,
									  from, last + 1, false, take,
									  &a[0], &cause);
				if (rc < 0) {
					fprintf(stderr, "bench_windows: %s\n", cause);
					return 1;
				}
			}
			took[mins] = util_mono_us() - t0;
		}
		for (unsigned k = 0; k < REPORT_NSERIES; k++)
			if (a[0].n[k] != a[1].n[k] || a[0].good[k] != a[1].good[k] ||
			    a[0].min[k] != a[1].min[k] || a[0].max[k] != a[1].max[k] ||
			    a[0].n[k] == 0) {
				fprintf(stderr, "bench_windows: quantity %u differs: %llu/%llu samples\n",
					k, (unsigned long long)a[0].n[k], (unsigned long long)a[1].n[k]);
				return 1;
			}
		ratio[round] = took[1] * 1000 / (took[0] > 0 ? took[0] : 1);
		fprintf(stderr, "windows round %d: hours %.1f ms (%llu windows), minutes %.1f ms (%llu"
				" minutes); minutes / hours %.1f\n",
			round + 1, (double)took[0] / 1000, (unsigned long long)a[0].records,
			(double)took[1] / 1000, (unsigned long long)a[1].records,
			(double)ratio[round] / 1000);
	}
	qsort(ratio, 3, sizeof(ratio[0]), cmp_i64);
	printf("| The report's read: %d quantities of %zu meters over %.1f days (e_imp alone: %llu samples) | "
	       "5-minute windows from the hours: %.0f ms (last round) | the minutes from the "
	       "rollups: %.0f ms | **%.1f x faster** (median of 3 alternated; %.1f to %.1f) | |\n",
	       REPORT_NSERIES, nm, (double)(last + 1 - from) / 86400e6,
	       (unsigned long long)a[0].n[0], (double)took[0] / 1000, (double)took[1] / 1000,
	       (double)ratio[1] / 1000, (double)ratio[0] / 1000, (double)ratio[2] / 1000);
	store_names_free(names);
	store_reader_close(r);
	return 0;
}
