// SPDX-License-Identifier: MIT
/*
 * history: view 6's figures from per-minute rollups (history.h). Every
 * function takes minutes in time order and walks them once; the local
 * calendar (days, weeks, months, shifts, billing intervals) is made with
 * localtime_r and mktime on the wall clock, so a DST day is 23 or 25
 * hours long and a 22:00 shift ends at 06:00 whatever happened between.
 * The energy rule is bucket.c's: rises within a span from one good value
 * to the next (a drop of more than a millionth is a reset, bridged), and
 * across a bound only from a span that had data.
 */
#include "phasor/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/config.h"
#include "phasor/kpi.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define US INT64_C(1000000)
#define US_PER_DAY (INT64_C(86400) * US)
#define US_PER_HOUR (INT64_C(3600) * US)

void history_series_add(struct history_series *s, const struct history_minute *m)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->m = util_reallocarray(s->m, s->cap, sizeof(*s->m));
	}
	s->m[s->n++] = *m;
}

void history_series_free(struct history_series *s)
{
	free(s->m);
	memset(s, 0, sizeof(*s));
}

double history_rise(double a, double b)
{
	return utility_counter_rise(a, b, 0);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void history_site_sum(const struct history_series *in, size_t n, struct history_series *out)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	struct history_minute *acc;
	bool *used;
	size_t i, k, len;

	out->n = 0;
	for (i = 0; i < n; i++) {
		if (in[i].n == 0)
			continue;
		if (in[i].m[0].t_us < lo)
			lo = in[i].m[0].t_us;
		if (in[i].m[in[i].n - 1].t_us > hi)
			hi = in[i].m[in[i].n - 1].t_us;
	}
	if (lo > hi)
		return;
	lo = floor_div(lo, HISTORY_MINUTE_US) * HISTORY_MINUTE_US;
	len = (size_t)((hi - lo) / HISTORY_MINUTE_US) + 1;
	acc = util_calloc(len, sizeof(*acc));
	used = util_calloc(len, sizeof(*used));
	/* one slot a minute of the whole span: every series added in one walk */
	for (i = 0; i < n; i++) {
		for (k = 0; k < in[i].n; k++) {
			const struct history_minute *m = &in[i].m[k];
			size_t at = (size_t)((m->t_us - lo) / HISTORY_MINUTE_US);
			struct history_minute *a = &acc[at];

			if (at >= len)
				continue;
			used[at] = true;
			a->n += m->n;
			if (m->good == 0)
				continue;
			a->good += m->good;
			a->min += m->sum / m->good;
		}
	}
	for (k = 0; k < len; k++) {
		struct history_minute *a = &acc[k];

		if (!used[k])
			continue;
		a->t_us = lo + (int64_t)k * HISTORY_MINUTE_US;
		if (a->good > 0) {
			a->max = a->first = a->last = a->min;
			a->sum = a->min * a->good;
		}
		history_series_add(out, a);
	}
	free(acc);
	free(used);
}

/* Minute starts (aligned on the epoch) in [a, b). */
static uint32_t minutes_in(int64_t a, int64_t b)
{
	int64_t first, end;

	if (b <= a)
		return 0;
	first = floor_div(a + HISTORY_MINUTE_US - 1, HISTORY_MINUTE_US);
	end = floor_div(b + HISTORY_MINUTE_US - 1, HISTORY_MINUTE_US);
	return end > first ? (uint32_t)(end - first) : 0;
}

void history_columns(const struct history_minute *m, size_t n, int64_t from_us, int64_t to_us,
		     int64_t now_us, struct history_col *cols, size_t ncols)
{
	int64_t span = to_us - from_us;
	size_t i, k;

	if (ncols == 0)
		return;
	for (k = 0; k < ncols; k++) {
		struct history_col *c = &cols[k];
		int64_t end;

		memset(c, 0, sizeof(*c));
		c->from_us = from_us + span * (int64_t)k / (int64_t)ncols;
		c->to_us = from_us + span * (int64_t)(k + 1) / (int64_t)ncols;
		c->min = c->max = c->mean = NAN;
		end = c->to_us < now_us ? c->to_us : now_us;
		c->expected = minutes_in(c->from_us, end);
	}
	if (span <= 0)
		return;
	for (i = 0, k = 0; i < n; i++) {
		const struct history_minute *mi = &m[i];
		struct history_col *c;

		if (mi->t_us < from_us)
			continue;
		if (mi->t_us >= to_us)
			break;
		while (k + 1 < ncols && mi->t_us >= cols[k].to_us)
			k++;
		c = &cols[k];
		c->samples += mi->n;
		if (mi->good == 0)
			continue;
		if (c->good == 0) {
			c->min = mi->min;
			c->max = mi->max;
			c->mean = 0;
		}
		if (mi->min < c->min)
			c->min = mi->min;
		if (mi->max > c->max)
			c->max = mi->max;
		c->mean += mi->sum; /* a sum until the end */
		c->good += mi->good;
		c->minutes++;
	}
	for (k = 0; k < ncols; k++) {
		struct history_col *c = &cols[k];

		if (c->good > 0)
			c->mean /= (double)c->good;
		c->coverage = c->expected > 0 ? (double)c->minutes / c->expected : NAN;
		if (c->coverage > 1)
			c->coverage = 1; /* a minute of samples after now (a clock step) */
	}
}

/* ---- spans ------------------------------------------------------------- */

void history_spans_alloc(struct history_spans *s, size_t n, bool with_peak)
{
	size_t i;

	s->n = n;
	s->b = util_calloc(n + 1, sizeof(*s->b));
	s->wh = util_calloc(n ? n : 1, sizeof(*s->wh));
	s->has = util_calloc(n ? n : 1, sizeof(*s->has));
	s->peak = with_peak ? util_calloc(n ? n : 1, sizeof(*s->peak)) : NULL;
	for (i = 0; with_peak && i < n; i++)
		s->peak[i].max_w = NAN;
}

void history_spans_free(struct history_spans *s)
{
	free(s->b);
	free(s->wh);
	free(s->has);
	free(s->peak);
	memset(s, 0, sizeof(*s));
}

/* A growing list of bounds. */
struct bounds {
	int64_t *v;
	size_t n, cap;
};

static void bounds_add(struct bounds *b, int64_t t)
{
	if (b->n > 0 && t <= b->v[b->n - 1])
		return; /* a wall-clock time that does not exist, or repeats */
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = util_reallocarray(b->v, b->cap, sizeof(*b->v));
	}
	b->v[b->n++] = t;
}

/*
 * Keep the bounds from the last one at or before from to the first at or
 * after to, into s; false (nothing allocated) when they do not cover
 * [from, to).
 */
static bool bounds_take(struct bounds *b, int64_t from, int64_t to, struct history_spans *s,
			bool with_peak)
{
	size_t first = 0, last, k;
	bool ok = false;

	if (to > from && b->n >= 2 && b->v[0] <= from) {
		while (first + 1 < b->n && b->v[first + 1] <= from)
			first++;
		for (last = first + 1; last < b->n && b->v[last] < to; last++)
			;
		if (last < b->n) {
			history_spans_alloc(s, last - first, with_peak);
			for (k = first; k <= last; k++)
				s->b[k - first] = b->v[k];
			ok = true;
		}
	}
	free(b->v);
	return ok;
}

/* The next local midnight after the midnight d. */
static int64_t next_midnight(int64_t d)
{
	int64_t n = kpi_local_midnight(d + 26 * US_PER_HOUR);

	return n > d ? n : d + US_PER_DAY; /* no zone data: plain days */
}

/* The local wall-clock time min minutes after the midnight of local day
 * day_us, days and months later. */
static int64_t local_at(int64_t day_us, int days, int months, int min)
{
	time_t t = (time_t)floor_div(day_us, US);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return day_us + (int64_t)days * US_PER_DAY + (int64_t)min * 60 * US;
	tm.tm_mday += days;
	tm.tm_mon += months;
	tm.tm_hour = min / 60;
	tm.tm_min = min % 60;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	return (int64_t)t * US;
}

bool history_days(int64_t from_us, int64_t to_us, struct history_spans *s, bool with_peak)
{
	struct bounds b = { 0 };
	int64_t d = kpi_local_midnight(from_us);

	for (;;) {
		bounds_add(&b, d);
		if (d >= to_us)
			break;
		d = next_midnight(d);
	}
	return bounds_take(&b, from_us, to_us, s, with_peak);
}

bool history_weeks(int64_t from_us, int64_t to_us, struct history_spans *s)
{
	struct bounds b = { 0 };
	int64_t d = kpi_local_midnight(from_us), w;
	time_t t = (time_t)floor_div(d, US);
	struct tm tm;
	int k;

	if (localtime_r(&t, &tm) == NULL)
		return false;
	w = local_at(d, -((tm.tm_wday + 6) % 7), 0, 0); /* back to Monday */
	for (k = 0;; k++) {
		int64_t x = local_at(w, 7 * k, 0, 0);

		bounds_add(&b, x);
		if (x >= to_us)
			break;
	}
	return bounds_take(&b, from_us, to_us, s, false);
}

bool history_months(int64_t from_us, int64_t to_us, struct history_spans *s, bool with_peak)
{
	struct bounds b = { 0 };
	int64_t d = kpi_local_midnight(from_us), m;
	time_t t = (time_t)floor_div(d, US);
	struct tm tm;
	int k;

	if (localtime_r(&t, &tm) == NULL)
		return false;
	m = local_at(d, 1 - tm.tm_mday, 0, 0);
	for (k = 0;; k++) {
		int64_t x = local_at(m, 0, k, 0);

		bounds_add(&b, x);
		if (x >= to_us)
			break;
	}
	return bounds_take(&b, from_us, to_us, s, with_peak);
}

bool history_shifts(int64_t from_us, int64_t to_us, const int *shift_min, size_t nshifts,
		    struct history_spans *s)
{
	struct bounds b = { 0 };
	int64_t d;
	size_t k;

	if (nshifts == 0)
		return false;
	/* from the day before: its last shift may run past midnight into from */
	d = kpi_local_midnight(kpi_local_midnight(from_us) - US);
	for (;;) {
		bool done = false;

		for (k = 0; k < nshifts && !done; k++) {
			int64_t x = local_at(d, 0, 0, shift_min[k]);

			bounds_add(&b, x);
			done = x >= to_us;
		}
		if (done)
			break;
		d = next_midnight(d);
	}
	return bounds_take(&b, from_us, to_us, s, false);
}

bool history_intervals(int64_t from_us, int64_t to_us, int64_t every_us, struct history_spans *s)
{
	struct bounds b = { 0 };
	int64_t d, e, x;

	if (every_us <= 0 || every_us > US_PER_DAY || US_PER_DAY % every_us != 0)
		return false;
	d = kpi_local_midnight(from_us);
	while (d < to_us) {
		e = next_midnight(d);
		/* the day's last interval ends at the next midnight (a 23 or 25
		 * hour day still divides into whole intervals) */
		for (x = d; x < e && x < to_us; x += every_us)
			if (x + every_us > from_us)
				bounds_add(&b, x);
		if (x < e) {
			bounds_add(&b, x);
			break;
		}
		d = e;
	}
	bounds_add(&b, d);
	return bounds_take(&b, from_us, to_us, s, false);
}

/* ---- energy, peaks ------------------------------------------------------ */

void history_energy(const struct history_minute *m, size_t n, int64_t before_us,
		    struct history_spans *s)
{
	long prev_span = -2, span; /* -2: no good minute yet; -1: the one before b[0] */
	double prev_last = 0;
	size_t i, j = 0;

	if (s->n == 0)
		return;
	for (i = 0; i < n; i++) {
		const struct history_minute *mi = &m[i];

		if (mi->good == 0 || mi->t_us < before_us)
			continue;
		if (mi->t_us < s->b[0]) {
			span = -1;
		} else {
			while (j < s->n && mi->t_us >= s->b[j + 1])
				j++;
			if (j == s->n)
				break;
			span = (long)j;
			s->has[j] = true;
			s->wh[j] += mi->rise;
			/* from the minute before: in this span, or in the one just
			 * before (which then had data) */
			if (prev_span == span || prev_span == span - 1)
				s->wh[j] += history_rise(prev_last, mi->first);
		}
		prev_span = span;
		prev_last = mi->last;
	}
}

/* Move *k on to the group of g that t (not before the earlier ones') is
 * before the end of; false when t is past the last. */
static bool group_of(const struct history_spans *g, int64_t t, size_t *k)
{
	while (*k < g->n && t >= g->b[*k + 1])
		(*k)++;
	return *k < g->n;
}

void history_peaks(const struct history_spans *iv, double contract_w, struct history_spans *g)
{
	size_t i, k = 0;

	if (g->peak == NULL || g->n == 0)
		return;
	for (i = 0; i < g->n; i++) {
		memset(&g->peak[i], 0, sizeof(g->peak[i]));
		g->peak[i].max_w = NAN;
	}
	for (i = 0; i < iv->n; i++) {
		int64_t len = iv->b[i + 1] - iv->b[i];
		struct history_peak *p;
		double w;

		if (!iv->has[i] || len <= 0)
			continue;
		if (!group_of(g, iv->b[i], &k))
			break;
		if (iv->b[i] < g->b[k])
			continue;
		p = &g->peak[k];
		w = iv->wh[i] / ((double)len / (double)US_PER_HOUR);
		p->intervals++;
		if (!(w <= p->max_w)) { /* NaN at first */
			p->max_w = w;
			p->at_us = iv->b[i];
		}
		if (isfinite(contract_w) && w > contract_w) {
			p->over++;
			p->over_us += len;
		}
	}
}

int history_hour(int64_t t_us)
{
	time_t t = (time_t)floor_div(t_us, US);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return tm.tm_hour;
}

void history_self(const struct history_spans *prod, const struct history_spans *cons,
		  const struct history_spans *g, double *self_wh)
{
	size_t i, k = 0;

	for (i = 0; i < g->n; i++)
		self_wh[i] = NAN;
	for (i = 0; i < prod->n && i < cons->n; i++) {
		double p = prod->wh[i], c = cons->wh[i];

		if (!prod->has[i] || !cons->has[i] || prod->b[i] != cons->b[i])
			continue;
		if (!group_of(g, prod->b[i], &k))
			break;
		if (prod->b[i] < g->b[k])
			continue;
		if (isnan(self_wh[k]))
			self_wh[k] = 0.0;
		self_wh[k] += p < c ? (p > 0.0 ? p : 0.0) : (c > 0.0 ? c : 0.0);
	}
}

void history_self_export(const struct history_spans *cons, const struct history_spans *prod,
			 const struct history_spans *exp, double *self_wh, double *cons_wh)
{
	size_t i;

	for (i = 0; i < cons->n; i++) {
		double p = i < prod->n && prod->has[i] ? prod->wh[i] : NAN;
		double x = i < exp->n && exp->has[i] ? exp->wh[i] : NAN;

		self_wh[i] = kpi_self_export(p, x);
		cons_wh[i] = cons->has[i] ? kpi_consumption(cons->wh[i], p, x) : NAN;
	}
}

void history_known_wh(const struct history_spans *s, double *wh)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		wh[i] = s->has[i] ? s->wh[i] : NAN;
}

/* A root of role role (no parent). */
static bool root_of(const struct config_meter *m, int role)
{
	return config_parent(m) < 0 && m->role == role;
}

size_t history_site_meters(const struct config *cfg, size_t *out)
{
	size_t i, n = 0;
	bool any = false;

	/* (the overview's Total also counts gas meters beside an aggregate;
	 * these tables keep to the rule they had) */
	for (i = 0; i < cfg->nmeters; i++)
		any |= cfg->meters[i].aggregate && root_of(&cfg->meters[i], METER_CONSUMPTION);
	for (i = 0; i < cfg->nmeters; i++)
		if (root_of(&cfg->meters[i], METER_CONSUMPTION) && (!any || cfg->meters[i].aggregate))
			out[n++] = i;
	return n;
}

size_t history_production_meters(const struct config *cfg, size_t *out)
{
	size_t i, n = 0;

	for (i = 0; i < cfg->nmeters; i++)
		if (root_of(&cfg->meters[i], METER_PRODUCTION))
			out[n++] = i;
	return n;
}

bool history_site_qty(unsigned qty)
{
	return qty == QTY_P_TOTAL || qty == QTY_Q_TOTAL || qty == QTY_S_TOTAL ||
	       (qty < QTY__COUNT && qty_info(qty)->counter);
}
