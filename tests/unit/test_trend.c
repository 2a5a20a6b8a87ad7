// SPDX-License-Identifier: MIT
/*
 * Unit tests of trend_build (plant/trend.c), the figures of view 4 and of
 * the forecast_excess alarm, on series whose answer is known: today and
 * tomorrow from what the stored forecasts expected, the peak and the
 * intervals over the contract from the current interval on, the MAPE of
 * the last 7 days (a stopped machine left out), the hours over the
 * contract by local hour, a forecast older than its data, and the run of
 * completed intervals outside the 95 % band with the energy in excess.
 * Days are UTC here (the local hour passed in is the UTC hour).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/trend.h"

#define S INT64_C(1000000)
#define STEP (900 * S)
#define DAY (86400 * S)
#define DAY0 (INT64_C(1796256000) * S) /* a midnight UTC */
#define NOW (DAY0 + 10 * 3600 * S + 300 * S) /* 10:05 */
#define HIST (3 * 96)

static int utc_hour(int64_t t_us)
{
	return (int)(((t_us / S) % 86400) / 3600);
}

struct fx {
	double y[HIST];
	struct trend_series act;
	int64_t ft[8 * 96 + 200];
	double fp[8 * 96 + 200], flo[8 * 96 + 200], fhi[8 * 96 + 200];
	size_t fn;
	struct trend_input in;
};

/* Three days of 40 kW up to 10:00 today, the last three intervals at
 * 62 kW; expected 40 kW (band 35..45) of every interval from 7 days back
 * to the end of tomorrow, the current forecast made at 23:00 yesterday. */
static void fx_make(struct fx *f)
{
	size_t k;

	memset(f, 0, sizeof(*f));
	f->act.step_us = STEP;
	f->act.t0_us = DAY0 + 40 * STEP - HIST * STEP; /* ends at 10:00 */
	f->act.n = HIST;
	f->act.y = f->y;
	for (k = 0; k < HIST; k++)
		f->y[k] = k >= HIST - 3 ? 62000 : 40000;
	for (int64_t t = NOW - NOW % STEP - 7 * DAY; t < DAY0 + 2 * DAY; t += STEP, f->fn++) {
		f->ft[f->fn] = t;
		f->fp[f->fn] = 40000;
		f->flo[f->fn] = 35000;
		f->fhi[f->fn] = 45000;
	}
	f->in = (struct trend_input){ .name = "m1", .now_us = NOW, .day0_us = DAY0,
				      .day2_us = DAY0 + 2 * DAY, .local_hour = utc_hour,
				      .actual = &f->act, .step_us = STEP, .fc_t = f->ft,
				      .fc_point = f->fp, .fc_lo80 = f->flo, .fc_hi80 = f->fhi,
				      .fc_lo95 = f->flo, .fc_hi95 = f->fhi, .fc_n = f->fn,
				      .has_current = true, .method = "dshw",
				      .made_us = DAY0 - 3600 * S, .took_us = 7, .contract_w = 39000 };
}

static void test_days_and_peak(void **state)
{
	static struct fx f;
	struct trend t;

	(void)state;
	fx_make(&f);
	trend_build(&t, &f.in);
	assert_string_equal(t.name, "m1");
	assert_false(t.site);
	assert_string_equal(t.method, "dshw");
	assert_int_equal(t.n, 192);
	/* completed intervals only: 00:00 .. 09:45 */
	assert_true(t.actual[0] == 40000 && t.actual[39] == 62000);
	assert_true(isnan(t.actual[40]) && isnan(t.actual[191]));
	assert_true(t.point[0] == 40000 && t.point[191] == 40000 && t.lo95[5] == 35000);
	assert_int_equal(t.data_end_us, DAY0 + 40 * STEP);
	/* made before today's midnight, data reaching into today */
	assert_true(t.stale);
	/* from the current interval (10:00) on: 152 intervals, all over 39 kW */
	assert_true(t.peak_w == 40000);
	assert_int_equal(t.peak_us, DAY0 + 40 * STEP);
	assert_int_equal(t.over_n, 192 - 40);
	assert_int_equal(t.over_first_us, DAY0 + 40 * STEP);
	trend_clear(&t);
	/* made today: not stale; no contract: nothing over */
	f.in.made_us = DAY0 + 60 * S;
	f.in.contract_w = NAN;
	trend_build(&t, &f.in);
	assert_false(t.stale);
	assert_int_equal(t.over_n, 0);
	trend_clear(&t);
}

static void test_mape_and_hours(void **state)
{
	static struct fx f;
	struct trend t;
	size_t pts;

	(void)state;
	fx_make(&f);
	trend_build(&t, &f.in);
	/* scored: the intervals of the history within the last 7 days (all
	 * 3 days: 288), 3 of them off by 22/62 */
	assert_int_equal(t.mape_points, HIST);
	assert_true(fabs(t.mape - 100.0 * 3 * (22.0 / 62.0) / HIST) < 1e-9);
	assert_int_equal(t.mape_days, 4); /* 3 days back from 10:05 touch 4 day buckets */
	/* hours over 39 kW: every interval, by UTC hour */
	assert_true(fabs(t.history_days - 3.0) < 1e-12);
	assert_true(t.over_hours[10] == 3.0 && t.over_hours[9] == 3.0 && t.over_hours[0] == 3.0);
	trend_clear(&t);
	/* a stopped machine (under 1 % of the mean) is left out */
	{
		const double y[] = { 100, 0.1, 200, NAN };
		const double p[] = { 110, 50, 150, 10 };

		assert_true(fabs(trend_mape(y, p, 4, 1, &pts) - 100.0 * (0.1 + 0.25) / 2) < 1e-12);
		assert_int_equal(pts, 2);
		assert_true(isnan(trend_mape(y, p, 0, 1, &pts)));
	}
}

static void test_outside_run(void **state)
{
	static struct fx f;
	struct trend t;

	(void)state;
	fx_make(&f);
	trend_build(&t, &f.in);
	/* 09:15, 09:30, 09:45 at 62 kW against 40 (band 35..45) */
	assert_int_equal(t.outside_run, 3);
	assert_int_equal(t.run_since_us, DAY0 + 37 * STEP);
	assert_true(t.actual_w == 62000 && t.expected_w == 40000);
	assert_true(t.lo95_w == 35000 && t.hi95_w == 45000);
	assert_true(fabs(t.excess_wh - 3 * 22000 * 0.25) < 1e-9);
	trend_clear(&t);
	/* back within: no run, the figures of the newest interval */
	f.y[HIST - 1] = 44000;
	trend_build(&t, &f.in);
	assert_int_equal(t.outside_run, 0);
	assert_true(t.actual_w == 44000);
	assert_true(t.excess_wh == 0);
	trend_clear(&t);
	/* a band missing: the run stops there */
	f.y[HIST - 1] = 62000;
	f.flo[(DAY0 + 38 * STEP - f.ft[0]) / STEP] = NAN; /* 09:30 */
	trend_build(&t, &f.in);
	assert_int_equal(t.outside_run, 1);
	assert_int_equal(t.run_since_us, DAY0 + 39 * STEP);
	trend_clear(&t);
}

static void test_nothing(void **state)
{
	struct trend t;

	(void)state;
	trend_build(&t, &(struct trend_input){ .name = "", .now_us = NOW, .step_us = STEP,
					       .message = "no data in the buffer" });
	assert_true(t.site);
	assert_false(t.has_forecast);
	assert_string_equal(t.message, "no data in the buffer");
	assert_int_equal(t.n, 0);
	assert_true(isnan(t.mape));
	trend_clear(&t);
	trend_set_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_days_and_peak),
		cmocka_unit_test(test_mape_and_hours),
		cmocka_unit_test(test_outside_run),
		cmocka_unit_test(test_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
