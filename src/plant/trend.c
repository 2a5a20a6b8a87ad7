// SPDX-License-Identifier: MIT
/*
 * trend: the figures of view 4 and of the "consumption nobody expected"
 * alarm for one series, from its actual history and what the stored
 * forecasts expected of each interval (trend.h). Pure computation: the
 * instant, the local days and the local hour are passed in.
 */
#include "phasor/trend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"

#define US INT64_C(1000000)
#define DAY_US (INT64_C(86400) * US)

double trend_mape(const double *y, const double *f, size_t n, double floor_w, size_t *points)
{
	double sum = 0;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (!isfinite(y[i]) || !isfinite(f[i]) || fabs(y[i]) < floor_w || y[i] == 0)
			continue;
		sum += fabs(y[i] - f[i]) / fabs(y[i]);
		k++;
	}
	if (points != NULL)
		*points = k;
	return k > 0 ? 100 * sum / (double)k : NAN;
}

/* The actual of the interval starting at t (NaN when unknown). */
static double actual_at(const struct trend_series *s, int64_t t)
{
	int64_t k;

	if (s == NULL || s->n == 0 || t < s->t0_us || (t - s->t0_us) % s->step_us != 0)
		return NAN;
	k = (t - s->t0_us) / s->step_us;
	return (size_t)k < s->n ? s->y[k] : NAN;
}

/* Index of the forecast row for the interval starting at t, or -1 (rows sorted). */
static long fc_index(const struct trend_input *in, int64_t t, size_t *hint)
{
	size_t i = *hint;

	while (i < in->fc_n && in->fc_t[i] < t)
		i++;
	*hint = i;
	return i < in->fc_n && in->fc_t[i] == t ? (long)i : -1;
}

/* Today and tomorrow: actual and what was (or is) expected of each interval. */
static void fill_days(struct trend *t, const struct trend_input *in)
{
	size_t k, hint = 0;

	t->n = (size_t)((in->day2_us - in->day0_us) / in->step_us);
	t->actual = util_malloc(t->n * sizeof(double));
	t->point = util_malloc(t->n * sizeof(double));
	t->lo80 = util_malloc(t->n * sizeof(double));
	t->hi80 = util_malloc(t->n * sizeof(double));
	t->lo95 = util_malloc(t->n * sizeof(double));
	t->hi95 = util_malloc(t->n * sizeof(double));
	for (k = 0; k < t->n; k++) {
		int64_t ts = in->day0_us + (int64_t)k * in->step_us;
		long j = fc_index(in, ts, &hint);

		/* only completed intervals count as actual */
		t->actual[k] = ts + in->step_us <= in->now_us ? actual_at(in->actual, ts) : NAN;
		t->point[k] = j >= 0 ? in->fc_point[j] : NAN;
		t->lo80[k] = j >= 0 ? in->fc_lo80[j] : NAN;
		t->hi80[k] = j >= 0 ? in->fc_hi80[j] : NAN;
		t->lo95[k] = j >= 0 ? in->fc_lo95[j] : NAN;
		t->hi95[k] = j >= 0 ? in->fc_hi95[j] : NAN;
	}
}

/* The peak from the current interval on, and the intervals over contract. */
static void fill_peak(struct trend *t, const struct trend_input *in)
{
	int64_t from = in->now_us - ((in->now_us % in->step_us) + in->step_us) % in->step_us;
	size_t k;

	t->peak_w = NAN;
	for (k = 0; k < t->n; k++) {
		int64_t ts = t->day0_us + (int64_t)k * t->step_us;

		if (ts < from || !isfinite(t->point[k]))
			continue;
		if (isnan(t->peak_w) || t->point[k] > t->peak_w) {
			t->peak_w = t->point[k];
			t->peak_us = ts;
		}
		if (isfinite(in->contract_w) && t->point[k] > in->contract_w) {
			if (t->over_n++ == 0)
				t->over_first_us = ts;
		}
	}
}

/* The stored forecasts' MAPE over the last TREND_MAPE_DAYS days. */
static void fill_mape(struct trend *t, const struct trend_input *in)
{
	int64_t from = in->now_us - TREND_MAPE_DAYS * DAY_US;
	double *y = util_malloc((in->fc_n + 1) * sizeof(double));
	double *f = util_malloc((in->fc_n + 1) * sizeof(double));
	int64_t *ts = util_malloc((in->fc_n + 1) * sizeof(int64_t));
	double mean = 0;
	bool day[TREND_MAPE_DAYS + 1] = { false };
	size_t i, m = 0;

	for (i = 0; i < in->fc_n; i++) {
		double a;

		if (in->fc_t[i] < from || in->fc_t[i] + in->step_us > in->now_us)
			continue;
		a = actual_at(in->actual, in->fc_t[i]);
		if (!isfinite(a) || !isfinite(in->fc_point[i]))
			continue;
		y[m] = a;
		f[m] = in->fc_point[i];
		ts[m++] = in->fc_t[i];
		mean += fabs(a);
	}
	mean = m > 0 ? mean / (double)m : 0;
	/* a stopped machine makes any percentage meaningless: under 1 % of
	 * the mean is left out, as in the backtest (docs/forecast.md) */
	t->mape = trend_mape(y, f, m, mean * 0.01, &t->mape_points);
	for (i = 0; i < m; i++)
		if (fabs(y[i]) >= mean * 0.01 && y[i] != 0)
			day[(ts[i] - from) / DAY_US] = true;
	for (i = 0; i <= TREND_MAPE_DAYS; i++)
		t->mape_days += day[i];
	free(y);
	free(f);
	free(ts);
}

/* Hours over contract_power by local hour of day, over the whole history. */
static void fill_over_hours(struct trend *t, const struct trend_input *in)
{
	const struct trend_series *s = in->actual;
	size_t k;

	if (s == NULL || s->n == 0)
		return;
	t->history_days = (double)s->n * (double)s->step_us / (double)DAY_US;
	if (!isfinite(in->contract_w) || in->local_hour == NULL)
		return;
	for (k = 0; k < s->n; k++) {
		int64_t ts = s->t0_us + (int64_t)k * s->step_us;
		int h;

		if (!isfinite(s->y[k]) || s->y[k] <= in->contract_w)
			continue;
		h = in->local_hour(ts);
		if (h >= 0 && h < 24)
			t->over_hours[h] += (double)s->step_us / (3600.0 * US);
	}
}

/* The run of completed intervals outside the 95 % band, newest last. */
static void fill_outside(struct trend *t, const struct trend_input *in)
{
	int64_t last = in->now_us - ((in->now_us % in->step_us) + in->step_us) % in->step_us -
		       in->step_us; /* the newest completed interval */
	size_t hint = 0;
	long j;
	int64_t ts;

	t->expected_w = t->actual_w = t->lo95_w = t->hi95_w = NAN;
	/* walk back from the newest completed interval while outside */
	for (ts = last; ts >= in->now_us - 2 * DAY_US; ts -= in->step_us) {
		double a = actual_at(in->actual, ts), lo, hi, p;

		hint = 0;
		j = fc_index(in, ts, &hint);
		if (j < 0 || !isfinite(a))
			break;
		lo = in->fc_lo95[j];
		hi = in->fc_hi95[j];
		p = in->fc_point[j];
		if (ts == last) {
			t->expected_w = p;
			t->actual_w = a;
			t->lo95_w = lo;
			t->hi95_w = hi;
		}
		if (!isfinite(lo) || !isfinite(hi) || (a >= lo && a <= hi))
			break;
		t->outside_run++;
		t->run_since_us = ts;
		if (isfinite(p))
			t->excess_wh += (a - p) * (double)in->step_us / (3600.0 * US);
	}
}

void trend_build(struct trend *t, const struct trend_input *in)
{
	memset(t, 0, sizeof(*t));
	util_strlcpy(t->name, in->name != NULL ? in->name : "", sizeof(t->name));
	t->site = t->name[0] == '\0';
	t->day0_us = in->day0_us;
	t->day2_us = in->day2_us;
	t->step_us = in->step_us;
	t->mape = NAN;
	if (in->message != NULL)
		util_strlcpy(t->message, in->message, sizeof(t->message));
	if (in->step_us <= 0 || in->day2_us <= in->day0_us)
		return;
	if (in->actual != NULL && in->actual->n > 0) {
		size_t k = in->actual->n;

		while (k > 0 && !isfinite(in->actual->y[k - 1]))
			k--;
		if (k > 0)
			t->data_end_us = in->actual->t0_us + (int64_t)k * in->actual->step_us;
	}
	t->has_forecast = in->has_current;
	if (in->has_current) {
		util_strlcpy(t->method, in->method != NULL ? in->method : "", sizeof(t->method));
		t->made_us = in->made_us;
		t->took_us = in->took_us;
		t->stale = in->made_us < in->day0_us && t->data_end_us > in->day0_us;
	}
	fill_days(t, in);
	fill_peak(t, in);
	fill_mape(t, in);
	fill_over_hours(t, in);
	fill_outside(t, in);
}

void trend_clear(struct trend *t)
{
	free(t->actual);
	free(t->point);
	free(t->lo80);
	free(t->hi80);
	free(t->lo95);
	free(t->hi95);
	memset(t, 0, sizeof(*t));
}

void trend_set_free(struct trend_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		trend_clear(&s->t[i]);
	free(s->t);
	free(s);
}
