// SPDX-License-Identifier: MIT
/*
 * Unit tests of the forecast engine on synthetic series whose answer is
 * known: a pure double seasonal signal (weekday and weekend shapes, local
 * wall clock) with 1 % noise is forecast to within the noise; a constant;
 * a step change; gaps (a missing day and scattered intervals); the
 * spring-forward and fall-back days of 2026 in Europe/Paris (a step at
 * 08:00 local must stay at 08:00 local); a holiday (forecast like a
 * Sunday); fitting is deterministic (bit-identical twice); under two weeks
 * the daily naive fallback with its message; under one day no forecast.
 * The calendar labels are made with localtime_r under TZ set once here.
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

#include "phasor/forecast.h"

#define STEP 900
#define SPD (86400 / STEP)

/* 2026-11-02T00:00:00Z, a Monday. */
#define T_MON_UTC INT64_C(1793577600)

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* The known load: a weekday shape with production 08:00-20:00, a weekend
 * with a small morning shift 08:00-12:00; a base that varies by hour. */
static double pattern(int daytype, int slot)
{
	double h = slot * (double)STEP / 3600.0;
	double base = 40000 + 5000 * cos(2 * M_PI * (h - 3) / 24);

	if (daytype < 5)
		return base + (h >= 8 && h < 20 ? 60000 + 10000 * sin(M_PI * (h - 8) / 12) : 0);
	if (daytype == 5)
		return base + (h >= 8 && h < 12 ? 20000 : 0);
	return base + (h >= 8 && h < 12 ? 10000 : 0);
}

/* Deterministic noise: uniform in [-1, 1) from a 64-bit LCG. */
static double noise(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return (double)(*state >> 11) / (double)(UINT64_C(1) << 52) - 1.0;
}

struct series {
	size_t n, horizon;
	int64_t t0;
	double *y;
	struct forecast_cal *cal;
	double *truth;               /* n + horizon: the noiseless pattern */
};

/*
 * n intervals from t0 (UTC seconds) plus horizon, labelled in the current
 * TZ with the holidays; y = pattern * scale(i) + noise_frac noise.
 */
static void make(struct series *s, int64_t t0, size_t n, size_t horizon, double noise_frac,
		 const int32_t *hol, size_t nhol)
{
	uint64_t st = 12345;
	size_t i;

	s->n = n;
	s->horizon = horizon;
	s->t0 = t0;
	s->y = calloc(n, sizeof(double));
	s->cal = calloc(n + horizon, sizeof(*s->cal));
	s->truth = calloc(n + horizon, sizeof(double));
	assert_non_null(s->y);
	for (i = 0; i < n + horizon; i++) {
		time_t t = (time_t)(t0 + (int64_t)i * STEP);
		struct tm tm;

		localtime_r(&t, &tm);
		s->cal[i] = forecast_cal_from_tm(&tm, STEP, hol, nhol);
		s->truth[i] = pattern(s->cal[i].daytype, s->cal[i].slot);
		if (i < n)
			s->y[i] = s->truth[i] * (1 + noise_frac * noise(&st));
	}
}

static void drop(struct series *s)
{
	free(s->y);
	free(s->cal);
	free(s->truth);
}

static enum forecast_status run(const struct series *s, int method, struct forecast_result *r)
{
	struct forecast_input in = { s->y, s->n, s->cal, s->horizon, SPD, 0, method };

	return forecast_run(&in, r);
}

/* Largest |forecast - truth| / truth over the horizon. */
static double worst_rel_error(const struct series *s, const struct forecast_result *r)
{
	double worst = 0;
	size_t i;

	for (i = 0; i < s->horizon; i++) {
		double e = fabs(r->point[i] - s->truth[s->n + i]) / s->truth[s->n + i];
		if (e > worst)
			worst = e;
	}
	return worst;
}

static void test_day_number(void **state)
{
	(void)state;
	assert_int_equal(forecast_day_number(1970, 1, 1), 0);
	assert_int_equal(forecast_day_number(2026, 11, 2), (int32_t)(T_MON_UTC / 86400));
	assert_int_equal(forecast_day_number(2000, 3, 1), 11017);
	assert_int_equal(forecast_day_number(1969, 12, 31), -1);
}

/* 8 weeks of the double seasonal signal with 1 % noise. */
static void test_double_seasonal(void **state)
{
	struct series s;
	struct forecast_result r;
	size_t i, inside = 0;
	int m;

	(void)state;
	set_tz("UTC");
	make(&s, T_MON_UTC, 56 * SPD, SPD, 0.01, NULL, 0);
	assert_int_equal(run(&s, -1, &r), FORECAST_OK);
	assert_string_equal(r.message, "");
	/* A weekly pattern: same time yesterday must lose. */
	assert_int_not_equal(r.method, FORECAST_NAIVE_DAY);
	for (m = 0; m < FORECAST_METHODS; m++) {
		assert_true(r.score[m].available);
		assert_int_equal(r.score[m].days, 28);
	}
	assert_true(r.score[FORECAST_DSHW].mape < 2.0);
	assert_true(r.score[FORECAST_NAIVE_DAY].mape > 3 * r.score[FORECAST_DSHW].mape);
	assert_true(r.score[r.method].mape <= r.score[FORECAST_DSHW].mape);
	/* Within the noise (1 %) plus a little. */
	assert_true(worst_rel_error(&s, &r) < 0.03);
	for (i = 0; i < s.horizon; i++) {
		assert_true(r.lo95[i] <= r.lo80[i] && r.lo80[i] <= r.point[i]);
		assert_true(r.point[i] <= r.hi80[i] && r.hi80[i] <= r.hi95[i]);
		/* noise is 1 %: a band far wider than 10 % is not empirical */
		assert_true(r.hi95[i] - r.lo95[i] < 0.1 * s.truth[s.n + i]);
		inside += s.truth[s.n + i] >= r.lo95[i] && s.truth[s.n + i] <= r.hi95[i];
	}
	assert_true(inside >= s.horizon * 9 / 10);
	assert_true(r.fit.alpha > 0 && r.fit.alpha < 1 && r.fit.phi > -1 && r.fit.phi < 1);
	forecast_result_free(&r);

	/* Forced methods give their own forecasts. */
	assert_int_equal(run(&s, FORECAST_DSHW, &r), FORECAST_OK);
	assert_int_equal(r.method, FORECAST_DSHW);
	assert_true(worst_rel_error(&s, &r) < 0.03);
	forecast_result_free(&r);
	drop(&s);
}

static void test_constant(void **state)
{
	struct series s;
	struct forecast_result r;
	size_t i;

	(void)state;
	set_tz("UTC");
	make(&s, T_MON_UTC, 21 * SPD, SPD, 0, NULL, 0);
	for (i = 0; i < s.n; i++)
		s.y[i] = 1234.5;
	assert_int_equal(run(&s, -1, &r), FORECAST_OK);
	for (i = 0; i < s.horizon; i++) {
		assert_true(fabs(r.point[i] - 1234.5) < 1e-6);
		assert_true(fabs(r.lo95[i] - 1234.5) < 1e-6 && fabs(r.hi95[i] - 1234.5) < 1e-6);
	}
	assert_true(r.score[r.method].mape < 1e-9);
	forecast_result_free(&r);
	assert_int_equal(run(&s, FORECAST_DSHW, &r), FORECAST_OK);
	for (i = 0; i < s.horizon; i++)
		assert_true(fabs(r.point[i] - 1234.5) < 1e-6);
	forecast_result_free(&r);
	drop(&s);
}

/* Three weeks, then the load rises by 50 kW for the last week. */
static void test_step_change(void **state)
{
	struct series s;
	struct forecast_result r;
	size_t i;
	int m;

	(void)state;
	set_tz("UTC");
	make(&s, T_MON_UTC, 28 * SPD, SPD, 0.005, NULL, 0);
	for (i = 21 * SPD; i < s.n; i++)
		s.y[i] += 50000;
	for (i = 0; i < s.horizon; i++)
		s.truth[s.n + i] += 50000;
	for (m = -1; m < FORECAST_METHODS; m++) {
		if (m == FORECAST_NAIVE_DAY)
			continue; /* a Monday from a Sunday: not at the level's question */
		assert_int_not_equal(run(&s, m, &r), FORECAST_BAD_INPUT);
		/* every method has seen a full week at the new level */
		assert_true(worst_rel_error(&s, &r) < 0.05);
		forecast_result_free(&r);
	}
	drop(&s);
}

/* A missing day and 5 % scattered gaps: no zero anywhere. */
static void test_gaps(void **state)
{
	struct series s;
	struct forecast_result r;
	uint64_t st = 99;
	size_t i;

	(void)state;
	set_tz("UTC");
	make(&s, T_MON_UTC, 42 * SPD, SPD, 0.01, NULL, 0);
	/* the whole last Tuesday but one, and the same weekday a week before */
	for (i = 29 * SPD; i < 30 * SPD; i++)
		s.y[i] = NAN;
	for (i = 36 * SPD; i < 37 * SPD; i++)
		s.y[i] = NAN;
	for (i = 0; i < s.n; i++)
		if (noise(&st) > 0.9)
			s.y[i] = NAN;
	/* the forecast day follows a day with a hole */
	for (i = 41 * SPD + 10; i < 41 * SPD + 30; i++)
		s.y[i] = NAN;
	assert_int_equal(run(&s, -1, &r), FORECAST_OK);
	assert_true(worst_rel_error(&s, &r) < 0.04);
	for (i = 0; i < s.horizon; i++)
		assert_true(r.point[i] > 30000 && isfinite(r.lo95[i]) && isfinite(r.hi95[i]));
	forecast_result_free(&r);
	assert_int_equal(run(&s, FORECAST_NAIVE_WEEK, &r), FORECAST_OK);
	assert_true(worst_rel_error(&s, &r) < 0.04);
	forecast_result_free(&r);
	drop(&s);
}

/*
 * Europe/Paris: the series ends at local midnight before the change; the
 * horizon is the 23- or 25-hour Sunday. The step at 08:00 local must
 * stay there: an hour's shift would miss by 10 kW on 40 kW (25 %).
 */
static void dst_case(int64_t t_end_utc, size_t horizon)
{
	struct series s;
	struct forecast_result r;
	size_t n = 42 * SPD, i;
	int m;

	set_tz("Europe/Paris");
	make(&s, t_end_utc - (int64_t)n * STEP, n, horizon, 0.005, NULL, 0);
	assert_int_equal(s.cal[n].slot, 0);
	assert_int_equal(s.cal[n].daytype, 6);
	assert_int_equal(s.cal[n + horizon - 1].slot, SPD - 1);
	for (m = -1; m < FORECAST_METHODS; m++) {
		if (m == FORECAST_NAIVE_DAY)
			continue; /* Saturday's shape, by definition */
		assert_int_equal(run(&s, m, &r), FORECAST_OK);
		assert_true(worst_rel_error(&s, &r) < 0.04);
		for (i = 0; i < horizon; i++)
			if (s.cal[n + i].slot == 8 * 4)
				assert_true(r.point[i] > 45000); /* 08:00: the shift has begun */
			else if (s.cal[n + i].slot == 8 * 4 - 1)
				assert_true(r.point[i] < 45000); /* 07:45: not yet */
		forecast_result_free(&r);
	}
	drop(&s);
	set_tz("UTC");
}

static void test_dst_spring_forward(void **state)
{
	(void)state;
	/* 2026-03-29 00:00 CET = 2026-03-28T23:00Z; the day has 23 h. */
	dst_case(INT64_C(1774738800), 23 * 4);
}

static void test_dst_fall_back(void **state)
{
	(void)state;
	/* 2026-10-25 00:00 CEST = 2026-10-24T22:00Z; the day has 25 h. */
	dst_case(INT64_C(1792879200), 25 * 4);
}

/* Wednesday 2026-12-23 is declared a holiday: forecast like a Sunday. */
static void test_holiday(void **state)
{
	int32_t hol[2] = { 0, 0 };
	struct series s;
	struct forecast_result r;
	/* 2026-12-23T00:00:00Z: 6 weeks of data before it */
	int64_t t_end = INT64_C(1797984000);
	size_t n = 42 * SPD, i;

	(void)state;
	set_tz("UTC");
	hol[0] = forecast_day_number(2026, 12, 23);
	hol[1] = forecast_day_number(2026, 12, 2); /* one in the history too */
	make(&s, t_end - (int64_t)n * STEP, n, SPD, 0.005, hol, 2);
	assert_int_equal(s.cal[n].dow, 2);
	assert_int_equal(s.cal[n].daytype, 6);
	assert_int_equal(run(&s, -1, &r), FORECAST_OK);
	assert_true(worst_rel_error(&s, &r) < 0.04);
	/* 12:00: the Sunday's base, not the weekday's production */
	for (i = 0; i < s.horizon; i++)
		if (s.cal[n + i].slot == 12 * 4)
			assert_true(r.point[i] < 60000);
	forecast_result_free(&r);
	drop(&s);

	/* the same days without the holidays: a weekday at 12:00 */
	make(&s, t_end - (int64_t)n * STEP, n, SPD, 0.005, NULL, 0);
	assert_int_equal(run(&s, -1, &r), FORECAST_OK);
	for (i = 0; i < s.horizon; i++)
		if (s.cal[n + i].slot == 12 * 4)
			assert_true(r.point[i] > 90000);
	forecast_result_free(&r);
	drop(&s);
}

static void test_deterministic(void **state)
{
	struct series s;
	struct forecast_result a, b;

	(void)state;
	set_tz("UTC");
	make(&s, T_MON_UTC, 35 * SPD, 2 * SPD, 0.03, NULL, 0);
	assert_int_equal(run(&s, FORECAST_DSHW, &a), FORECAST_OK);
	assert_int_equal(run(&s, FORECAST_DSHW, &b), FORECAST_OK);
	assert_memory_equal(a.point, b.point, s.horizon * sizeof(double));
	assert_memory_equal(a.lo95, b.lo95, s.horizon * sizeof(double));
	assert_memory_equal(a.hi95, b.hi95, s.horizon * sizeof(double));
	assert_memory_equal(&a.fit, &b.fit, sizeof(a.fit));
	assert_memory_equal(a.score, b.score, sizeof(a.score));
	assert_true(a.fit.iterations > 10);
	forecast_result_free(&a);
	forecast_result_free(&b);
	drop(&s);
}

static void test_short_history(void **state)
{
	struct series s;
	struct forecast_result r;
	size_t i;

	(void)state;
	set_tz("UTC");
	make(&s, T_MON_UTC, 10 * SPD, SPD, 0.01, NULL, 0);
	assert_int_equal(run(&s, -1, &r), FORECAST_SHORT);
	assert_int_equal(r.method, FORECAST_NAIVE_DAY);
	assert_non_null(strstr(r.message, "10.0 days of history"));
	/* same time yesterday: the last day's values */
	for (i = 0; i < s.horizon; i++)
		assert_true(r.point[i] == s.y[s.n - SPD + i]);
	assert_false(r.score[FORECAST_DSHW].available);
	assert_true(r.score[FORECAST_NAIVE_DAY].available);
	forecast_result_free(&r);
	assert_int_equal(run(&s, FORECAST_DSHW, &r), FORECAST_BAD_INPUT);
	forecast_result_free(&r);
	drop(&s);

	/* 1.5 days: a forecast but no errors to make a band of */
	make(&s, T_MON_UTC, SPD + SPD / 2, SPD, 0.01, NULL, 0);
	assert_int_equal(run(&s, -1, &r), FORECAST_SHORT);
	assert_true(isnan(r.lo95[0]) && isfinite(r.point[0]));
	assert_non_null(strstr(r.message, "prediction interval"));
	forecast_result_free(&r);
	drop(&s);

	make(&s, T_MON_UTC, SPD / 2, SPD, 0.01, NULL, 0);
	assert_int_equal(run(&s, -1, &r), FORECAST_TOO_SHORT);
	assert_null(r.point);
	assert_non_null(strstr(r.message, "too little history"));
	forecast_result_free(&r);
	drop(&s);
}

static void test_bad_input(void **state)
{
	struct series s;
	struct forecast_result r;
	struct forecast_input in;

	(void)state;
	set_tz("UTC");
	make(&s, T_MON_UTC, 2 * SPD, SPD, 0, NULL, 0);
	in = (struct forecast_input){ s.y, s.n, s.cal, s.horizon, 0, 0, -1 };
	assert_int_equal(forecast_run(&in, &r), FORECAST_BAD_INPUT);
	forecast_result_free(&r);
	in.slots_per_day = SPD;
	s.cal[5].day = s.cal[4].day - 1;
	assert_int_equal(forecast_run(&in, &r), FORECAST_BAD_INPUT);
	forecast_result_free(&r);
	drop(&s);
}

/* Counter differences: spread by time, a reset skipped, a gap marked. */
static void test_series_counter(void **state)
{
	/* 1 kW for 4 intervals of 15 min, a sample a minute; reset at 20 min;
	 * no sample between 35 and 50 min (a gap of more than an interval) */
	int64_t t[80];
	double wh[80], y[5];
	size_t n = 0;
	int m;
	double e = 1000;

	(void)state;
	for (m = 0; m <= 60; m++) {
		if (m == 20)
			e = 0;
		if (m > 35 && m < 52)
			continue;
		t[n] = (int64_t)m * 60 * 1000000;
		wh[n] = e + (m >= 52 ? (m - 35) * 1000.0 / 60 : 0);
		n++;
		e += 1000.0 / 60;
	}
	forecast_series_counter(t, wh, n, 0, 900 * INT64_C(1000000), 5, y);
	assert_true(fabs(y[0] - 1000) < 1e-6);  /* 0-15 min */
	assert_true(fabs(y[1] - 1000) < 1e-6);  /* 15-30: the reset minute is skipped */
	assert_true(isnan(y[2]));               /* 30-45: 35-52 uncovered */
	assert_true(isnan(y[3]));               /* 45-60: only 52-60 covered */
	assert_true(isnan(y[4]));               /* no data */

	/* power samples: the mean of those in each interval */
	{
		int64_t tp[4] = { 0, 60000000, 900000000, 2000000000 };
		double w[4] = { 10, 20, NAN, 40 };
		double yp[3];

		forecast_series_power(tp, w, 4, 0, 900 * INT64_C(1000000), 3, yp);
		assert_true(yp[0] == 15 && isnan(yp[1]) && yp[2] == 40);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_day_number),
		cmocka_unit_test(test_double_seasonal),
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_step_change),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_dst_spring_forward),
		cmocka_unit_test(test_dst_fall_back),
		cmocka_unit_test(test_holiday),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_short_history),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_series_counter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
