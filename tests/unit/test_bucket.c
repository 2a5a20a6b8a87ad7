// SPDX-License-Identifier: MIT
/*
 * Unit tests of bucket.c (`phasor export --every`): means of good samples,
 * a counter's rises with the one from the interval before, a reset bridged,
 * a gap not lumped on the next interval, bad-only intervals, the order of
 * the rows, and local-day intervals across a DST change in Europe/Paris.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/bucket.h"
#include "phasor/qty.h"

#define S 1000000LL
#define MIN (60 * S)
#define T0 (1764547200LL * S) /* 2025-12-01T00:00:00Z, a UTC midnight */

struct got {
	char text[64][96];
	size_t n;
};

static int collect(void *ctx, const struct bucket_out *o)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	snprintf(g->text[g->n++], sizeof(g->text[0]), "%lld+%lld %s %s %.6g %s n=%llu",
		 (long long)((o->t_us - T0) / MIN), (long long)((o->end_us - o->t_us) / MIN),
		 o->meter, qty_name(o->qty), o->value, o->quality == QUALITY_GOOD ? "good" : "bad",
		 (unsigned long long)o->samples);
	return 0;
}

static void utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
}

static void every_ok(void **state)
{
	(void)state;
	assert_true(bucket_every_ok(15 * MIN));
	assert_true(bucket_every_ok(86400 * S));
	assert_true(bucket_every_ok(S));
	assert_false(bucket_every_ok(7 * MIN));
	assert_false(bucket_every_ok(2 * 86400 * S));
	assert_false(bucket_every_ok(0));
	assert_null(bucket_new(7 * MIN, collect, NULL));
}

static void means_and_order(void **state)
{
	struct got g = { .n = 0 };
	struct bucket *b;

	utc(state);
	b = bucket_new(15 * MIN, collect, &g);
	assert_non_null(b);
	/* interval 0: m2 before m1 in time, printed m1 first; a bad sample
	 * counted but not in the mean */
	assert_int_equal(bucket_add(b, "m2", QTY_P_TOTAL, T0 + 1 * MIN, 10, QUALITY_GOOD), 0);
	assert_int_equal(bucket_add(b, "m1", QTY_P_TOTAL, T0 + 2 * MIN, 100, QUALITY_GOOD), 0);
	assert_int_equal(bucket_add(b, "m1", QTY_V_L1N, T0 + 2 * MIN, 230, QUALITY_GOOD), 0);
	assert_int_equal(bucket_add(b, "m1", QTY_P_TOTAL, T0 + 14 * MIN, 200, QUALITY_GOOD), 0);
	assert_int_equal(bucket_add(b, "m1", QTY_P_TOTAL, T0 + 14 * MIN, 9999, QUALITY_BAD), 0);
	/* interval 2 (none in 1): only a bad sample */
	assert_int_equal(bucket_add(b, "m1", QTY_P_TOTAL, T0 + 31 * MIN, 5, QUALITY_BAD), 0);
	assert_int_equal(g.n, 3); /* interval 0 out when interval 2 began */
	assert_int_equal(bucket_end(b), 0);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.text[0], "0+15 m1 v_l1n 230 good n=1");
	assert_string_equal(g.text[1], "0+15 m1 p_total 150 good n=3");
	assert_string_equal(g.text[2], "0+15 m2 p_total 10 good n=1");
	assert_string_equal(g.text[3], "30+15 m1 p_total nan bad n=1");
	bucket_free(b);
}

static void counter(void **state)
{
	struct got g = { .n = 0 };
	struct bucket *b;

	utc(state);
	b = bucket_new(15 * MIN, collect, &g);
	/* interval 0: 1000 -> 1010 (10) */
	bucket_add(b, "m", QTY_E_IMP, T0 + 1 * MIN, 1000, QUALITY_GOOD);
	bucket_add(b, "m", QTY_E_IMP, T0 + 14 * MIN, 1010, QUALITY_GOOD);
	/* interval 1: from 1010 (the interval before): 1030 (20), a reset to 5
	 * (bridged), then 8 (3): 23 */
	bucket_add(b, "m", QTY_E_IMP, T0 + 16 * MIN, 1030, QUALITY_GOOD);
	bucket_add(b, "m", QTY_E_IMP, T0 + 20 * MIN, 5, QUALITY_GOOD);
	bucket_add(b, "m", QTY_E_IMP, T0 + 25 * MIN, 8, QUALITY_GOOD);
	/* a bad sample changes nothing */
	bucket_add(b, "m", QTY_E_IMP, T0 + 26 * MIN, 1e9, QUALITY_BAD);
	/* interval 3 after a gap (none in 2): 8 -> 50 is not counted, 50 -> 52 is */
	bucket_add(b, "m", QTY_E_IMP, T0 + 46 * MIN, 50, QUALITY_GOOD);
	bucket_add(b, "m", QTY_E_IMP, T0 + 50 * MIN, 52, QUALITY_GOOD);
	/* interval 4: a tiny drop (jitter under a millionth) is counted as is */
	bucket_add(b, "m", QTY_E_IMP, T0 + 61 * MIN, 52 - 1e-7, QUALITY_GOOD);
	bucket_end(b);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.text[0], "0+15 m e_imp 10 good n=2");
	assert_string_equal(g.text[1], "15+15 m e_imp 23 good n=4");
	assert_string_equal(g.text[2], "45+15 m e_imp 2 good n=2");
	assert_string_equal(g.text[3], "60+15 m e_imp -1e-07 good n=1");
	bucket_free(b);
}

static int stop_at_second(void *ctx, const struct bucket_out *o)
{
	int *n = ctx;

	(void)o;
	return ++*n == 2 ? 7 : 0;
}

static void stop(void **state)
{
	struct bucket *b;
	int n = 0;

	utc(state);
	b = bucket_new(MIN, stop_at_second, &n);
	assert_int_equal(bucket_add(b, "a", QTY_FREQ, T0, 50, QUALITY_GOOD), 0);
	assert_int_equal(bucket_add(b, "b", QTY_FREQ, T0, 50, QUALITY_GOOD), 0);
	assert_int_equal(bucket_add(b, "a", QTY_FREQ, T0 + MIN, 50, QUALITY_GOOD), 7);
	bucket_free(b);
}

/* 2026-03-29 in Europe/Paris: 23 hours; 1d intervals follow local midnight. */
static void dst_day(void **state)
{
	struct got g = { .n = 0 };
	struct bucket *b;
	int64_t mid = 1774738800LL * S; /* 2026-03-29T00:00 CET = 2026-03-28T23:00Z */
	int64_t next = mid + 23 * 3600 * S; /* 2026-03-30T00:00 CEST */

	(void)state;
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	b = bucket_new(86400 * S, collect, &g);
	bucket_add(b, "m", QTY_E_IMP, mid + MIN, 0, QUALITY_GOOD);
	bucket_add(b, "m", QTY_E_IMP, next - MIN, 23, QUALITY_GOOD);
	bucket_add(b, "m", QTY_E_IMP, next + MIN, 24, QUALITY_GOOD);
	bucket_end(b);
	assert_int_equal(g.n, 2);
	/* minutes from T0 are not the point here: the spans are */
	assert_non_null(strstr(g.text[0], "+1380 m e_imp 23 good n=2"));
	assert_non_null(strstr(g.text[1], "+1440 m e_imp 1 good n=1"));
	bucket_free(b);
	setenv("TZ", "UTC", 1);
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_ok),
		cmocka_unit_test(means_and_order),
		cmocka_unit_test(counter),
		cmocka_unit_test(stop),
		cmocka_unit_test(dst_day),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
