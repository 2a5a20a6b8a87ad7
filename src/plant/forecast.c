// SPDX-License-Identifier: MIT
/*
 * forecast: the day-ahead load forecast engine. Pure computation on a
 * series the caller built (mean power per interval, NaN for a gap) with
 * each interval's local calendar (struct forecast_cal): the engine reads no
 * clock, no file and no time zone, so it runs in any thread.
 *
 * The wall clock, not the UTC grid, carries the cycles: every seasonal
 * lookup goes through the labels (local day, local slot of day, day type),
 * never through "i - 96" or "i - 672". A 23-hour spring-forward day simply
 * has no 02:00-02:59 slots (those indices are not updated that day), a
 * 25-hour fall-back day visits them twice; the slot after the change is
 * still the 08:00 slot, so nothing shifts by an hour. Holidays carry day
 * type 6 and are therefore Sundays for every method.
 *
 * Methods (formulas in docs/forecast.md):
 * - naive_day: the value at the same local slot on the previous day (the
 *   day before that when it is missing, up to a week back);
 * - naive_week: the same local slot on the last earlier day of the same
 *   day type (a Monday for a Monday, the last Sunday or holiday for a
 *   holiday), up to five such days back;
 * - dshw: additive double seasonal Holt-Winters (level, daily index by
 *   slot, weekly index by day type and slot) with an AR(1) adjustment of
 *   the one-step errors (Taylor 2003), the four parameters fitted by
 *   minimising the in-sample sum of squared AR-adjusted one-step errors
 *   with GSL's Nelder-Mead simplex (nmsimplex2) on a logistic transform
 *   that keeps them in their ranges; the initial indices are the means by
 *   slot and by (day type, slot) of the first (up to two) weeks;
 * - combined: the mean of dshw and naive_week.
 * Gaps: an interval with NaN updates nothing; the AR term decays through
 * it as the forecast would (phi^k); no gap is ever read as zero.
 *
 * Backtest: the last B complete local days (default 28) are each forecast
 * from their local midnight with only the data before it (parameters
 * fitted once, on the data before the first origin). Each method's MAPE is
 * taken over the same intervals; the lowest wins (ties: the simpler).
 * The prediction intervals are the empirical quantiles of the chosen
 * method's backtest errors at the same lead time (pooled over +-1 hour of
 * lead), added to the point forecast.
 */
#include "phasor/forecast.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_vector.h>

#include "phasor/live.h"
#include "phasor/util.h"

#define DEFAULT_BACKTEST_DAYS 28
#define MAX_BACKTEST_DAYS 366
#define SEASONAL_DAYS 14      /* history the seasonal methods need */
#define FIT_MIN_DAYS 7        /* data before the first backtest origin */
#define NAIVE_DAY_BACK 7      /* days naive_day looks back over gaps */
#define NAIVE_WEEK_BACK 35    /* days naive_week looks back */
#define MIN_QUANTILE_ERRORS 8
#define NM_MAX_ITER 400
#define NM_SIZE_TOL 1e-3
#define MAX_LEADS ((size_t)7 * FORECAST_MAX_SLOTS)
/* Bound on the backtest's stored forecasts (methods x origins x leads). */
#define MAX_BACKTEST_VALUES ((size_t)16 * 1024 * 1024)

static const char *const method_names[FORECAST_METHODS] = {
	[FORECAST_NAIVE_DAY] = "naive_day",
	[FORECAST_NAIVE_WEEK] = "naive_week",
	[FORECAST_DSHW] = "dshw",
	[FORECAST_COMBINED] = "combined",
};

const char *forecast_method_name(enum forecast_method m)
{
	return (unsigned)m < FORECAST_METHODS ? method_names[m] : "?";
}

int32_t forecast_day_number(int year, int month, int mday)
{
	/* Days from civil (Howard Hinnant's public-domain algorithm). */
	int y = year - (month <= 2);
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + mday - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (int32_t)(era * 146097 + doe - 719468);
}

struct forecast_cal forecast_cal_from_tm(const struct tm *local, int step_s,
					 const int32_t *holidays, size_t nholidays)
{
	struct forecast_cal c;
	int secs = local->tm_hour * 3600 + local->tm_min * 60 + local->tm_sec;
	size_t i;

	if (secs >= 86400)
		secs = 86399; /* a leap second */
	c.day = forecast_day_number(local->tm_year + 1900, local->tm_mon + 1, local->tm_mday);
	c.slot = (uint16_t)(step_s > 0 ? secs / step_s : 0);
	c.dow = (uint8_t)((local->tm_wday + 6) % 7);
	c.daytype = c.dow;
	for (i = 0; i < nholidays; i++)
		if (holidays[i] == c.day)
			c.daytype = 6;
	return c;
}

/* ---- the series' calendar ---------------------------------------------- */

struct series {
	const double *y;
	size_t n, total;          /* data, data + horizon */
	const struct forecast_cal *cal;
	int S;
	int32_t day0;
	size_t ndays;
	long *map;                /* [day * S + slot]: first interval, or -1 */
	long *day_start;          /* [day]: first interval of the day, or -1 */
	uint8_t *day_type;        /* [day]: 255 when no interval */
};

static int series_build(struct series *s, const struct forecast_input *in)
{
	size_t i, j;

	memset(s, 0, sizeof(*s));
	s->y = in->y;
	s->n = in->n;
	s->total = in->n + in->horizon;
	s->cal = in->cal;
	s->S = in->slots_per_day;
	s->day0 = in->cal[0].day;
	for (i = 1; i < s->total; i++)
		if (in->cal[i].day < in->cal[i - 1].day)
			return -1;
	for (i = 0; i < s->total; i++)
		if (in->cal[i].slot >= s->S || in->cal[i].daytype > 6)
			return -1;
	s->ndays = (size_t)(in->cal[s->total - 1].day - s->day0) + 1;
	if (s->ndays > s->total + 1)
		return -1; /* days skipped: not a regular series */
	s->map = util_malloc(s->ndays * (size_t)s->S * sizeof(*s->map));
	s->day_start = util_malloc(s->ndays * sizeof(*s->day_start));
	s->day_type = util_malloc(s->ndays);
	for (j = 0; j < s->ndays * (size_t)s->S; j++)
		s->map[j] = -1;
	for (j = 0; j < s->ndays; j++) {
		s->day_start[j] = -1;
		s->day_type[j] = 255;
	}
	for (i = 0; i < s->total; i++) {
		size_t d = (size_t)(in->cal[i].day - s->day0);
		size_t k = d * (size_t)s->S + in->cal[i].slot;

		if (s->map[k] < 0)
			s->map[k] = (long)i;
		if (s->day_start[d] < 0) {
			s->day_start[d] = (long)i;
			s->day_type[d] = in->cal[i].daytype;
		}
	}
	return 0;
}

static void series_free(struct series *s)
{
	free(s->map);
	free(s->day_start);
	free(s->day_type);
}

/* The observed value of interval (local day d, slot) if it lies before o. */
static double observed_at(const struct series *s, long d, unsigned slot, size_t o)
{
	long i;

	if (d < 0 || (size_t)d >= s->ndays)
		return NAN;
	i = s->map[(size_t)d * (size_t)s->S + slot];
	if (i < 0 || (size_t)i >= o || (size_t)i >= s->n)
		return NAN;
	return s->y[i];
}

/* ---- seasonal naive ----------------------------------------------------- */

static double naive_day(const struct series *s, size_t t, size_t o)
{
	long d = s->cal[t].day - s->day0, k;

	for (k = 1; k <= NAIVE_DAY_BACK; k++) {
		double v = observed_at(s, d - k, s->cal[t].slot, o);
		if (!isnan(v))
			return v;
	}
	return NAN;
}

static double naive_week(const struct series *s, size_t t, size_t o)
{
	long d = s->cal[t].day - s->day0, k;
	int seen = 0;

	for (k = 1; k <= NAIVE_WEEK_BACK && d - k >= 0 && seen < 5; k++) {
		double v;

		if (s->day_type[d - k] != s->cal[t].daytype)
			continue;
		seen++;
		v = observed_at(s, d - k, s->cal[t].slot, o);
		if (!isnan(v))
			return v;
	}
	return NAN;
}

/* ---- double seasonal Holt-Winters with AR(1) ---------------------------- */

struct hw_params {
	double alpha, delta, omega, phi;
};

struct hw {
	double level, err;        /* err: the last one-step Holt-Winters error */
	double *daily;            /* [slot] */
	double *weekly;           /* [daytype * S + slot] */
};

static void hw_alloc(struct hw *h, int S)
{
	h->daily = util_calloc((size_t)S, sizeof(double));
	h->weekly = util_calloc((size_t)S * 7, sizeof(double));
}

static void hw_free(struct hw *h)
{
	free(h->daily);
	free(h->weekly);
}

/*
 * Initial state from the first init_n intervals: the level is their mean,
 * the daily index the mean by slot less the level, the weekly index the
 * mean by (day type, slot) less both. A cell without data starts at 0.
 */
static void hw_init(struct hw *h, const struct series *s, size_t init_n, double *sum_d,
		    int *cnt_d, double *sum_w, int *cnt_w)
{
	size_t i, S = (size_t)s->S;
	double sum = 0;
	size_t cnt = 0;

	memset(sum_d, 0, S * sizeof(*sum_d));
	memset(cnt_d, 0, S * sizeof(*cnt_d));
	memset(sum_w, 0, 7 * S * sizeof(*sum_w));
	memset(cnt_w, 0, 7 * S * sizeof(*cnt_w));
	for (i = 0; i < init_n; i++) {
		const struct forecast_cal *c = &s->cal[i];
		size_t w = (size_t)c->daytype * S + c->slot;

		if (isnan(s->y[i]))
			continue;
		sum += s->y[i];
		cnt++;
		sum_d[c->slot] += s->y[i];
		cnt_d[c->slot]++;
		sum_w[w] += s->y[i];
		cnt_w[w]++;
	}
	h->level = cnt ? sum / (double)cnt : 0;
	h->err = 0;
	for (i = 0; i < S; i++)
		h->daily[i] = cnt_d[i] ? sum_d[i] / cnt_d[i] - h->level : 0;
	for (i = 0; i < 7 * S; i++)
		h->weekly[i] = cnt_w[i] ? sum_w[i] / cnt_w[i] - h->level - h->daily[i % S] : 0;
}

/* The Holt-Winters part of the forecast for interval t (no AR term). */
static inline double hw_base(const struct hw *h, const struct series *s, size_t t)
{
	const struct forecast_cal *c = &s->cal[t];

	return h->level + h->daily[c->slot] + h->weekly[(size_t)c->daytype * (size_t)s->S + c->slot];
}

/*
 * One interval: returns the AR-adjusted one-step error (NaN for a gap) and
 * updates the state in error-correction form.
 */
static inline double hw_step(struct hw *h, const struct hw_params *p, const struct series *s,
			     size_t t)
{
	const struct forecast_cal *c = &s->cal[t];
	size_t w = (size_t)c->daytype * (size_t)s->S + c->slot;
	double y = s->y[t], base, e, adj;

	if (isnan(y)) {
		h->err *= p->phi; /* what the forecast assumed; never a zero */
		return NAN;
	}
	base = h->level + h->daily[c->slot] + h->weekly[w];
	e = y - base;
	adj = e - p->phi * h->err;
	h->level += p->alpha * e;
	h->daily[c->slot] += p->delta * e;
	h->weekly[w] += p->omega * e;
	h->err = e;
	return adj;
}

/* The forecast lead steps ahead (lead 1: the next interval) of interval t. */
static inline double hw_forecast(const struct hw *h, const struct hw_params *p,
				 const struct series *s, size_t t, size_t lead)
{
	return hw_base(h, s, t) + pow(p->phi, (double)lead) * h->err;
}

static double logistic(double x)
{
	if (x > 30)
		x = 30;
	if (x < -30)
		x = -30;
	return 1.0 / (1.0 + exp(-x));
}

static double logit(double p)
{
	return log(p / (1 - p));
}

static struct hw_params params_of(const gsl_vector *x)
{
	struct hw_params p;

	p.alpha = logistic(gsl_vector_get(x, 0));
	p.delta = logistic(gsl_vector_get(x, 1));
	p.omega = logistic(gsl_vector_get(x, 2));
	p.phi = 2 * logistic(gsl_vector_get(x, 3)) - 1;
	return p;
}

struct fit {
	const struct series *s;
	size_t end;               /* fit on [0, end) */
	size_t init_n;
	double scale;             /* 1 / (variance * count): a well-scaled objective */
	struct hw h;
	double *sum_d, *sum_w;
	int *cnt_d, *cnt_w;
	struct hw init;           /* the initial state, copied at each evaluation */
};

/*
 * The in-sample sum of squared AR-adjusted one-step errors over [S, end):
 * hw_step's recursion with the level and the AR term in locals (through
 * the struct the compiler must assume the index writes alias them).
 */
static double fit_sse(struct fit *f, const struct hw_params *p, size_t *count)
{
	const struct series *s = f->s;
	size_t S = (size_t)s->S, t, cnt = 0;
	double sse = 0, level = f->init.level, err = 0;
	const double alpha = p->alpha, delta = p->delta, omega = p->omega, phi = p->phi;
	double *restrict daily = f->h.daily, *restrict weekly = f->h.weekly;

	memcpy(daily, f->init.daily, S * sizeof(double));
	memcpy(weekly, f->init.weekly, 7 * S * sizeof(double));
	for (t = 0; t < f->end; t++) {
		const struct forecast_cal *c = &s->cal[t];
		size_t w = (size_t)c->daytype * S + c->slot;
		double y = s->y[t], e, a;

		if (isnan(y)) {
			err *= phi;
			continue;
		}
		e = y - (level + daily[c->slot] + weekly[w]);
		a = e - phi * err;
		level += alpha * e;
		daily[c->slot] += delta * e;
		weekly[w] += omega * e;
		err = e;
		/* The first day only settles the level and the AR term. */
		if (t >= S) {
			sse += a * a;
			cnt++;
		}
	}
	f->h.level = level;
	f->h.err = err;
	*count = cnt;
	return sse;
}

static double objective(const gsl_vector *x, void *ctx)
{
	struct fit *f = ctx;
	struct hw_params p = params_of(x);
	size_t count;
	double v = fit_sse(f, &p, &count) * f->scale;

	/* nmsimplex2 refuses non-finite values (and GSL aborts by default). */
	return isfinite(v) ? v : 1e300;
}

static void fit_prepare(struct fit *f, const struct series *s, size_t end)
{
	size_t S = (size_t)s->S, t, cnt = 0, weeks;
	double sum = 0, sq = 0, var;

	memset(f, 0, sizeof(*f));
	f->s = s;
	f->end = end;
	weeks = end / (7 * S);
	f->init_n = (weeks >= 2 ? 2 : 1) * 7 * S;
	if (f->init_n > end)
		f->init_n = end;
	hw_alloc(&f->h, s->S);
	hw_alloc(&f->init, s->S);
	f->sum_d = util_malloc(S * sizeof(double));
	f->cnt_d = util_malloc(S * sizeof(int));
	f->sum_w = util_malloc(7 * S * sizeof(double));
	f->cnt_w = util_malloc(7 * S * sizeof(int));
	hw_init(&f->init, s, f->init_n, f->sum_d, f->cnt_d, f->sum_w, f->cnt_w);
	for (t = 0; t < end; t++)
		if (!isnan(s->y[t])) {
			sum += s->y[t];
			sq += s->y[t] * s->y[t];
			cnt++;
		}
	var = cnt ? sq / (double)cnt - (sum / (double)cnt) * (sum / (double)cnt) : 0;
	if (!(var > 1e-12 * (1 + fabs(sum / (double)(cnt ? cnt : 1)))))
		var = 1;
	f->scale = 1.0 / (var * (double)(cnt ? cnt : 1));
}

static void fit_free(struct fit *f)
{
	hw_free(&f->h);
	hw_free(&f->init);
	free(f->sum_d);
	free(f->cnt_d);
	free(f->sum_w);
	free(f->cnt_w);
}

/*
 * Fits the parameters on [0, f->end), starting from *start (NULL: 0.1, 0.1,
 * 0.1 and phi 0.5), with a first simplex step of step (transformed units),
 * in rounds: each restarts from the best point with a quarter of the step
 * (Nelder-Mead can stall on a ridge). The final refit, warm-started from
 * the backtest's parameters, takes one round.
 */
static struct hw_params fit_run(struct fit *f, const struct hw_params *start, double step,
				int rounds, struct forecast_params *info)
{
	const gsl_multimin_fminimizer_type *T = gsl_multimin_fminimizer_nmsimplex2;
	gsl_multimin_fminimizer *m = gsl_multimin_fminimizer_alloc(T, 4);
	gsl_vector *x = gsl_vector_alloc(4), *ss = gsl_vector_alloc(4);
	gsl_multimin_function fn = { objective, 4, f };
	struct hw_params p = { 0.1, 0.1, 0.1, 0.5 };
	double clampv = 0.999;
	int iter = 0, round;
	size_t count;

	if (m == NULL || x == NULL || ss == NULL)
		util_fail("out of memory");
	if (start != NULL)
		p = *start;
	gsl_vector_set(x, 0, logit(fmin(fmax(p.alpha, 1 - clampv), clampv)));
	gsl_vector_set(x, 1, logit(fmin(fmax(p.delta, 1 - clampv), clampv)));
	gsl_vector_set(x, 2, logit(fmin(fmax(p.omega, 1 - clampv), clampv)));
	gsl_vector_set(x, 3, logit(fmin(fmax((p.phi + 1) / 2, 1 - clampv), clampv)));
	for (round = 0; round < rounds; round++) {
		int status, it = 0;

		gsl_vector_set_all(ss, round == 0 ? step : step / 4);
		gsl_multimin_fminimizer_set(m, &fn, x, ss);
		do {
			it++;
			status = gsl_multimin_fminimizer_iterate(m);
			if (status != GSL_SUCCESS)
				break;
			status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(m),
							NM_SIZE_TOL);
		} while (status == GSL_CONTINUE && it < NM_MAX_ITER);
		iter += it;
		gsl_vector_memcpy(x, gsl_multimin_fminimizer_x(m));
	}
	p = params_of(x);
	if (info != NULL) {
		double sse = fit_sse(f, &p, &count);

		info->alpha = p.alpha;
		info->delta = p.delta;
		info->omega = p.omega;
		info->phi = p.phi;
		info->rmse = count ? sqrt(sse / (double)count) : NAN;
		info->iterations = iter;
	}
	gsl_multimin_fminimizer_free(m);
	gsl_vector_free(x);
	gsl_vector_free(ss);
	return p;
}

/* ---- backtest, selection, intervals ------------------------------------- */

struct backtest {
	size_t norigins, leads;
	size_t *origin;           /* interval index of each origin (local midnight) */
	size_t *day_len;          /* intervals of each target day */
	double *fc[FORECAST_METHODS]; /* [origin * leads + lead - 1], NaN: none */
	bool avail[FORECAST_METHODS];
};

static double cmp_key(const void *p)
{
	return *(const double *)p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = cmp_key(a), y = cmp_key(b);

	return (x > y) - (x < y);
}

/* Quantile q (0..1) of the sorted v[0..n), linear between order statistics. */
static double quantile(const double *v, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	double frac = pos - (double)i;

	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + frac * (v[i + 1] - v[i]);
}

/* Point forecast of method m for interval t from origin o (data before o). */
static double method_forecast(enum forecast_method m, const struct series *s, const struct hw *h,
			      const struct hw_params *p, size_t t, size_t o)
{
	switch (m) {
	case FORECAST_NAIVE_DAY:
		return naive_day(s, t, o);
	case FORECAST_NAIVE_WEEK:
		return naive_week(s, t, o);
	case FORECAST_DSHW:
		return hw_forecast(h, p, s, t, t - o + 1);
	case FORECAST_COMBINED:
		return 0.5 * (hw_forecast(h, p, s, t, t - o + 1) + naive_week(s, t, o));
	default:
		return NAN;
	}
}

static void result_message(struct forecast_result *r, const char *fmt, ...) UTIL_PRINTF(2, 3);

static void result_message(struct forecast_result *r, const char *fmt, ...)
{
	va_list ap;
	size_t len = strlen(r->message);

	if (len >= sizeof(r->message) - 1)
		return;
	if (len > 0) {
		util_strlcpy(r->message + len, "; ", sizeof(r->message) - len);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(r->message + len, sizeof(r->message) - len, fmt, ap);
	va_end(ap);
}

enum forecast_status forecast_run(const struct forecast_input *in, struct forecast_result *out)
{
	struct series s;
	struct backtest bt;
	struct fit f;
	struct hw hstate;
	struct hw_params theta = { 0.1, 0.1, 0.1, 0.5 };
	bool seasonal, have_fit = false, fit_made = false;
	size_t S, i, j, last_obs = 0, ncand = 0, first_cand, leads, m, t, nobs = 0;
	size_t *cand = NULL;
	double abs_sum = 0, thr, mae[FORECAST_METHODS], ape[FORECAST_METHODS];
	size_t pts[FORECAST_METHODS];
	int want_days, best;
	double *pool = NULL;

	memset(out, 0, sizeof(*out));
	memset(&bt, 0, sizeof(bt));
	out->method = FORECAST_NAIVE_DAY;
	if (in == NULL || in->y == NULL || in->cal == NULL || in->n == 0 || in->horizon == 0 ||
	    in->slots_per_day < 1 || in->slots_per_day > FORECAST_MAX_SLOTS ||
	    in->horizon > MAX_LEADS || in->method >= FORECAST_METHODS) {
		util_strlcpy(out->message, "bad forecast input", sizeof(out->message));
		return out->status = FORECAST_BAD_INPUT;
	}
	S = (size_t)in->slots_per_day;
	if (series_build(&s, in) < 0) {
		series_free(&s);
		util_strlcpy(out->message, "the calendar labels are not in order",
			     sizeof(out->message));
		return out->status = FORECAST_BAD_INPUT;
	}
	for (i = 0; i < s.n; i++)
		if (!isnan(s.y[i])) {
			last_obs = i;
			abs_sum += fabs(s.y[i]);
			nobs++;
		}
	out->history_days = nobs ? (double)(last_obs + 1) / (double)S : 0;
	if (out->history_days < 1) {
		snprintf(out->message, sizeof(out->message),
			 "too little history: %.2f days (at least 1 day is needed)",
			 out->history_days);
		series_free(&s);
		return out->status = FORECAST_TOO_SHORT;
	}
	seasonal = out->history_days >= SEASONAL_DAYS;
	/* MAPE skips actuals near zero (a stopped machine): under 1 % of
	 * the mean absolute value. */
	thr = 0.01 * abs_sum / (double)nobs;

	/* Origins: the local midnights of complete days with a day before. */
	cand = util_malloc(s.ndays * sizeof(*cand));
	for (j = 1; j < s.ndays; j++) {
		long st = s.day_start[j];
		long next = j + 1 < s.ndays ? s.day_start[j + 1] : -1;
		size_t k;
		bool any = false;

		if (st < 0 || next < 0 || (size_t)next > s.n)
			continue;
		if ((size_t)st < (seasonal ? FIT_MIN_DAYS : 1) * S)
			continue;
		for (k = (size_t)st; k < (size_t)next && !any; k++)
			any = !isnan(s.y[k]);
		if (any)
			cand[ncand++] = j;
	}
	want_days = in->backtest_days > 0 ? in->backtest_days : DEFAULT_BACKTEST_DAYS;
	if (want_days > MAX_BACKTEST_DAYS)
		want_days = MAX_BACKTEST_DAYS;
	leads = in->horizon > S ? in->horizon : S;
	while ((size_t)want_days * leads * FORECAST_METHODS > MAX_BACKTEST_VALUES && want_days > 1)
		want_days--;
	first_cand = ncand > (size_t)want_days ? ncand - (size_t)want_days : 0;
	bt.norigins = ncand - first_cand;
	bt.leads = leads;
	bt.origin = util_malloc((bt.norigins + 1) * sizeof(size_t));
	bt.day_len = util_malloc((bt.norigins + 1) * sizeof(size_t));
	for (j = 0; j < bt.norigins; j++) {
		size_t d = cand[first_cand + j];

		bt.origin[j] = (size_t)s.day_start[d];
		bt.day_len[j] = (size_t)(s.day_start[d + 1] - s.day_start[d]);
	}
	out->backtest_days = (int)bt.norigins;
	bt.avail[FORECAST_NAIVE_DAY] = true;
	bt.avail[FORECAST_NAIVE_WEEK] = out->history_days >= 7;
	bt.avail[FORECAST_DSHW] = bt.avail[FORECAST_COMBINED] = seasonal && bt.norigins > 0;
	for (m = 0; m < FORECAST_METHODS; m++) {
		bt.fc[m] = util_malloc((bt.norigins * leads + 1) * sizeof(double));
		for (i = 0; i < bt.norigins * leads; i++)
			bt.fc[m][i] = NAN;
	}

	hw_alloc(&hstate, s.S);
	if (bt.avail[FORECAST_DSHW]) {
		/* Parameters from the data before the first origin only; the
		 * state then runs through the window, each origin seeing
		 * only the data before it. */
		fit_prepare(&f, &s, bt.origin[0]);
		fit_made = true;
		theta = fit_run(&f, NULL, 1.0, 2, &out->fit);
		have_fit = true;
		hstate.level = f.init.level;
		hstate.err = 0;
		memcpy(hstate.daily, f.init.daily, S * sizeof(double));
		memcpy(hstate.weekly, f.init.weekly, 7 * S * sizeof(double));
	}
	t = 0;
	for (j = 0; j < bt.norigins; j++) {
		size_t o = bt.origin[j], lead;

		if (have_fit)
			for (; t < o; t++)
				hw_step(&hstate, &theta, &s, t);
		for (lead = 1; lead <= leads && o + lead - 1 < s.n; lead++) {
			size_t tt = o + lead - 1;

			if (isnan(s.y[tt]))
				continue;
			for (m = 0; m < FORECAST_METHODS; m++)
				if (bt.avail[m])
					bt.fc[m][j * leads + lead - 1] =
						method_forecast((enum forecast_method)m, &s, &hstate,
								&theta, tt, o);
		}
	}

	/* Day-ahead scores on the intervals every method forecast. */
	for (m = 0; m < FORECAST_METHODS; m++) {
		mae[m] = ape[m] = 0;
		pts[m] = 0;
		out->score[m].days = 0;
	}
	for (j = 0; j < bt.norigins; j++) {
		size_t lead, scored = 0;

		for (lead = 1; lead <= bt.day_len[j] && lead <= leads; lead++) {
			size_t k = j * leads + lead - 1;
			double y = s.y[bt.origin[j] + lead - 1];
			bool all = !isnan(y);

			for (m = 0; m < FORECAST_METHODS && all; m++)
				if (bt.avail[m] && isnan(bt.fc[m][k]))
					all = false;
			if (!all)
				continue;
			for (m = 0; m < FORECAST_METHODS; m++) {
				double e;

				if (!bt.avail[m])
					continue;
				e = fabs(y - bt.fc[m][k]);
				mae[m] += e;
				if (fabs(y) >= thr && fabs(y) > 0) {
					ape[m] += e / fabs(y);
					pts[m]++;
				}
			}
			scored++;
		}
		if (scored > 0)
			for (m = 0; m < FORECAST_METHODS; m++)
				out->score[m].days++;
	}
	for (m = 0; m < FORECAST_METHODS; m++) {
		/* naive_week with no forecast on the common days (under a week
		 * of history) drops out rather than removing every day. */
		out->score[m].available = bt.avail[m] && out->score[m].days > 0;
		out->score[m].points = pts[m];
		out->score[m].mape = pts[m] ? 100.0 * ape[m] / (double)pts[m] : NAN;
		if (!out->score[m].available)
			out->score[m].days = 0;
	}

	/* Selection. */
	if (in->method >= 0) {
		best = in->method;
		if ((best == FORECAST_NAIVE_WEEK && out->history_days < 7) ||
		    ((best == FORECAST_DSHW || best == FORECAST_COMBINED) && !seasonal)) {
			snprintf(out->message, sizeof(out->message),
				 "%s needs at least %d days of history (%.1f days)",
				 forecast_method_name((enum forecast_method)best),
				 best == FORECAST_NAIVE_WEEK ? 7 : SEASONAL_DAYS, out->history_days);
			out->status = FORECAST_BAD_INPUT;
			goto out;
		}
	} else if (!seasonal) {
		best = FORECAST_NAIVE_DAY;
		out->status = FORECAST_SHORT;
		snprintf(out->message, sizeof(out->message),
			 "only %.1f days of history (the seasonal methods need %d): "
			 "same time yesterday",
			 out->history_days, SEASONAL_DAYS);
	} else {
		best = -1;
		for (m = 0; m < FORECAST_METHODS; m++) {
			double a, b;

			if (!out->score[m].available)
				continue;
			if (best < 0) {
				best = (int)m;
				continue;
			}
			/* MAPE when defined, else the mean absolute error */
			a = pts[m] ? out->score[m].mape : mae[m];
			b = pts[best] ? out->score[best].mape : mae[best];
			if (a < b * (1 - 1e-9))
				best = (int)m;
		}
		if (best < 0)
			best = FORECAST_NAIVE_DAY;
	}
	out->method = (enum forecast_method)best;

	/* The forecast itself, from the end of the data. */
	out->horizon = in->horizon;
	out->point = util_malloc(in->horizon * sizeof(double));
	out->lo80 = util_malloc(in->horizon * sizeof(double));
	out->hi80 = util_malloc(in->horizon * sizeof(double));
	out->lo95 = util_malloc(in->horizon * sizeof(double));
	out->hi95 = util_malloc(in->horizon * sizeof(double));
	if (best == FORECAST_DSHW || best == FORECAST_COMBINED) {
		/* Refit on all the data, from the backtest's parameters. */
		if (fit_made)
			fit_free(&f);
		fit_prepare(&f, &s, s.n);
		fit_made = true;
		theta = fit_run(&f, have_fit ? &theta : NULL, have_fit ? 0.5 : 1.0, have_fit ? 1 : 2,
				&out->fit);
		have_fit = true;
		hstate.level = f.init.level;
		hstate.err = 0;
		memcpy(hstate.daily, f.init.daily, S * sizeof(double));
		memcpy(hstate.weekly, f.init.weekly, 7 * S * sizeof(double));
		for (t = 0; t < s.n; t++)
			hw_step(&hstate, &theta, &s, t);
	}
	for (i = 0; i < in->horizon; i++)
		out->point[i] =
			method_forecast(out->method, &s, &hstate, &theta, s.n + i, s.n);

	/* Intervals: quantiles of the backtest errors around the same lead. */
	{
		size_t r = S / 24, cap = (2 * r + 1) * bt.norigins + 1, all_n = 0;
		double *all = util_malloc((bt.norigins * leads + 1) * sizeof(double));
		bool any_band = false;

		pool = util_malloc(cap * sizeof(double));
		for (j = 0; j < bt.norigins * leads; j++) {
			size_t tt = bt.origin[j / leads] + j % leads;

			if (tt < s.n && !isnan(bt.fc[best][j]) && !isnan(s.y[tt]))
				all[all_n++] = s.y[tt] - bt.fc[best][j];
		}
		qsort(all, all_n, sizeof(double), cmp_double);
		for (i = 0; i < in->horizon; i++) {
			size_t lead = i + 1, lo = lead > r ? lead - r : 1, hi = lead + r, np = 0, L;
			const double *v;
			size_t nv;
			double pt = out->point[i];

			if (hi > leads)
				hi = leads;
			for (j = 0; j < bt.norigins; j++)
				for (L = lo; L <= hi; L++) {
					size_t o = bt.origin[j], k = j * leads + L - 1;

					if (o + L - 1 >= s.n || isnan(bt.fc[best][k]) ||
					    isnan(s.y[o + L - 1]))
						continue;
					pool[np++] = s.y[o + L - 1] - bt.fc[best][k];
				}
			if (np >= MIN_QUANTILE_ERRORS) {
				qsort(pool, np, sizeof(double), cmp_double);
				v = pool;
				nv = np;
			} else {
				v = all;
				nv = all_n;
			}
			if (nv < MIN_QUANTILE_ERRORS || isnan(pt)) {
				out->lo80[i] = out->hi80[i] = out->lo95[i] = out->hi95[i] = NAN;
				continue;
			}
			any_band = true;
			/* The band always holds the point forecast. */
			out->lo95[i] = fmin(pt, pt + quantile(v, nv, 0.025));
			out->hi95[i] = fmax(pt, pt + quantile(v, nv, 0.975));
			out->lo80[i] = fmin(pt, pt + quantile(v, nv, 0.10));
			out->hi80[i] = fmax(pt, pt + quantile(v, nv, 0.90));
		}
		if (!any_band)
			result_message(out, "no backtest errors to base the prediction interval on "
					    "(%d backtest days)",
				       out->backtest_days);
		free(all);
	}
out:
	free(pool);
	free(cand);
	hw_free(&hstate);
	if (fit_made)
		fit_free(&f);
	for (m = 0; m < FORECAST_METHODS; m++)
		free(bt.fc[m]);
	free(bt.origin);
	free(bt.day_len);
	series_free(&s);
	return out->status;
}

void forecast_result_free(struct forecast_result *r)
{
	if (r == NULL)
		return;
	free(r->point);
	free(r->lo80);
	free(r->hi80);
	free(r->lo95);
	free(r->hi95);
	r->point = r->lo80 = r->hi80 = r->lo95 = r->hi95 = NULL;
}

/* ---- series from samples ------------------------------------------------ */

void forecast_series_counter(const int64_t *t_us, const double *wh, size_t n, int64_t t0_us,
			     int64_t step_us, size_t nint, double *y)
{
	double *cover = util_calloc(nint + 1, sizeof(double));
	size_t i, k;

	for (k = 0; k < nint; k++)
		y[k] = 0;
	for (i = 1; i < n; i++) {
		int64_t a = t_us[i - 1], b = t_us[i], dt = b - a, first, last;
		double de = wh[i] - wh[i - 1];

		if (dt <= 0 || dt > step_us || live_counter_reset(wh[i - 1], wh[i], false) ||
		    !isfinite(de) || b <= t0_us || a >= t0_us + (int64_t)nint * step_us)
			continue;
		first = a >= t0_us ? (a - t0_us) / step_us : 0;
		last = (b - 1 - t0_us) / step_us;
		if (last >= (int64_t)nint)
			last = (int64_t)nint - 1;
		for (; first <= last; first++) {
			int64_t s0 = t0_us + first * step_us, s1 = s0 + step_us;
			int64_t ov = (b < s1 ? b : s1) - (a > s0 ? a : s0);

			if (ov <= 0)
				continue;
			y[first] += de * (double)ov / (double)dt;
			cover[first] += (double)ov;
		}
	}
	for (k = 0; k < nint; k++)
		y[k] = cover[k] >= 0.9 * (double)step_us ? y[k] * 3600e6 / cover[k] : NAN;
	free(cover);
}

void forecast_series_power(const int64_t *t_us, const double *w, size_t n, int64_t t0_us,
			   int64_t step_us, size_t nint, double *y)
{
	size_t *cnt = util_calloc(nint + 1, sizeof(size_t));
	size_t i, k;

	for (k = 0; k < nint; k++)
		y[k] = 0;
	for (i = 0; i < n; i++) {
		int64_t d = t_us[i] - t0_us;

		if (d < 0 || !isfinite(w[i]) || d / step_us >= (int64_t)nint)
			continue;
		y[d / step_us] += w[i];
		cnt[d / step_us]++;
	}
	for (k = 0; k < nint; k++)
		y[k] = cnt[k] ? y[k] / (double)cnt[k] : NAN;
	free(cnt);
}
