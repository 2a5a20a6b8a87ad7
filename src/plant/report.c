// SPDX-License-Identifier: MIT
/*
 * report: the figures of `phasor report` from minutes and journal rows in
 * memory (report.h; how each is computed: docs/reports.md). The calendar,
 * the energy per span with the counters' reset rule and the peak demand
 * are history.h's; this module adds coverage, consumers, power factor,
 * power quality, the alarm figures, standby energy and forecast accuracy.
 */
#include "phasor/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/alarm.h"
#include "phasor/forecast.h"
#include "phasor/kpi.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define US INT64_C(1000000)
#define MIN_US HISTORY_MINUTE_US
#define HOUR_US (INT64_C(3600) * US)
#define TEN_MIN_US (600 * US)

const char *const report_prio_names[REPORT_PRIOS] = { "critical", "high", "medium", "low",
						      "diagnostic" };

unsigned report_series_qty(unsigned k)
{
	static const unsigned q[REPORT_NSERIES] = {
		[REPORT_E_IMP] = QTY_E_IMP, [REPORT_P] = QTY_P_TOTAL,  [REPORT_Q] = QTY_Q_TOTAL,
		[REPORT_PF] = QTY_PF_TOTAL, [REPORT_V1] = QTY_V_L1N,   [REPORT_V2] = QTY_V_L2N,
		[REPORT_V3] = QTY_V_L3N,    [REPORT_THD1] = QTY_THD_V_L1, [REPORT_THD2] = QTY_THD_V_L2,
		[REPORT_THD3] = QTY_THD_V_L3, [REPORT_FREQ] = QTY_FREQ,    [REPORT_E_EXP] = QTY_E_EXP,
	};
	return k < REPORT_NSERIES ? q[k] : QTY_P_TOTAL;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The records' length: 5-minute windows from cmd_report, minutes by
 * default (step_us 0); in whole minutes, the weight of one record in the
 * figures counted in minutes. */
static int64_t step_of(const struct report_in *in)
{
	return in->step_us > 0 ? in->step_us : MIN_US;
}

static uint32_t weight(const struct report_in *in)
{
	return (uint32_t)(step_of(in) / MIN_US);
}

static double mean_of(const struct history_minute *m)
{
	return m->good > 0 ? m->sum / m->good : NAN;
}

const char *report_pf_tier(double pf)
{
	if (!isfinite(pf))
		return "-";
	pf = fabs(pf);
	if (pf >= 0.95)
		return "excellent";
	if (pf >= 0.90)
		return "good";
	if (pf >= 0.85)
		return "acceptable (2 % penalty)";
	if (pf >= 0.80)
		return "poor (5 % penalty)";
	return "critical";
}

double report_unbalance(double a, double b, double c)
{
	double mean = (a + b + c) / 3, d;

	if (!isfinite(mean) || mean <= 0)
		return NAN;
	d = fmax(fabs(a - mean), fmax(fabs(b - mean), fabs(c - mean)));
	return 100 * d / mean;
}

bool report_outside_production(int64_t t_us, size_t nshifts, const int32_t *holidays,
			       size_t nholidays)
{
	time_t t = (time_t)floor_div(t_us, US);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return false;
	if (tm.tm_wday == 0 || tm.tm_wday == 6)
		return true;
	if (nholidays > 0) {
		int32_t day = forecast_day_number(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);

		for (size_t i = 0; i < nholidays; i++)
			if (holidays[i] == day)
				return true;
	}
	return nshifts == 0 && (tm.tm_hour >= 22 || tm.tm_hour < 6);
}

/* ---- coverage ------------------------------------------------------------ */

static void mark(unsigned char *seen, size_t n, int64_t first_us, int64_t step,
		 const struct history_series *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		int64_t k;

		if (s->m[i].good == 0 || s->m[i].t_us < first_us)
			continue;
		k = (s->m[i].t_us - first_us) / step;
		if (k >= 0 && (size_t)k < n)
			seen[k] = 1;
	}
}

static void add_gap(struct report *r, size_t meter, int64_t from_us, int64_t to_us)
{
	size_t i, at;
	int64_t len = to_us - from_us;

	r->gaps_total++;
	/* kept: the longest, in order of length (then time) */
	for (at = 0; at < r->ngaps; at++) {
		int64_t l = r->gaps[at].to_us - r->gaps[at].from_us;

		if (len > l || (len == l && from_us < r->gaps[at].from_us))
			break;
	}
	if (at == REPORT_GAPS_MAX)
		return;
	if (r->ngaps < REPORT_GAPS_MAX)
		r->ngaps++;
	for (i = r->ngaps - 1; i > at; i--)
		r->gaps[i] = r->gaps[i - 1];
	r->gaps[at] = (struct report_gap){ meter, from_us, to_us };
}

/* The whole records (minutes, windows) of the range before the wall clock: the first, how many. */
static int64_t expected_minutes(const struct report_in *in, size_t *n)
{
	int64_t st = step_of(in), first = floor_div(in->from_us + st - 1, st) * st;
	int64_t end = in->to_us < in->made_us ? in->to_us : in->made_us;

	*n = end > first ? (size_t)((end - first + st - 1) / st) : 0;
	return first;
}

static void coverage(const struct report_in *in, size_t i, const struct report_meter_in *mi,
		     struct report *r)
{
	size_t n, k, run = 0;
	int64_t first = expected_minutes(in, &n);
	int64_t end = in->to_us < in->made_us ? in->to_us : in->made_us;
	unsigned char *seen = util_calloc(n ? n : 1, 1);
	struct report_meter_out *o = &r->m[i];

	int64_t st = step_of(in);
	uint32_t w = weight(in);

	mark(seen, n, first, st, &mi->s[REPORT_E_IMP]);
	mark(seen, n, first, st, &mi->s[REPORT_P]);
	o->expected = (uint64_t)n * w;
	for (k = 0; k <= n; k++) {
		if (k < n && !seen[k]) {
			run++;
			continue;
		}
		if (run * w >= REPORT_GAP_MINUTES) {
			int64_t a = first + (int64_t)(k - run) * st;
			int64_t b = first + (int64_t)k * st;

			add_gap(r, i, a, b < end ? b : end);
		}
		run = 0;
		if (k < n)
			o->present += w;
	}
	r->present += o->present;
	r->expected += o->expected;
	free(seen);
}

/* ---- energy, peaks, load ------------------------------------------------- */

/* Spans clipped to the range: the first starts at from, the last ends at to. */
static void clip(struct history_spans *s, int64_t from_us, int64_t to_us)
{
	if (s->n == 0)
		return;
	s->b[0] = from_us;
	s->b[s->n] = to_us;
}

static void copy_bounds(struct history_spans *dst, const struct history_spans *src)
{
	memset(dst, 0, sizeof(*dst));
	if (src->n == 0)
		return;
	history_spans_alloc(dst, src->n, false);
	memcpy(dst->b, src->b, (src->n + 1) * sizeof(*src->b));
}

/* A root of the tree that is consumption (its feeders are in it). */
static bool consumption_root(const struct report_in *in, size_t i)
{
	return in->meters[i].parent_plus1 == 0 && !in->meters[i].production;
}

static bool any_aggregate(const struct report_in *in)
{
	size_t i;

	for (i = 0; i < in->nmeters; i++)
		if (in->meters[i].aggregate && consumption_root(in, i))
			return true;
	return false;
}

static bool has_children(const struct report_in *in, size_t i)
{
	size_t k;

	for (k = 0; k < in->nmeters; k++)
		if (in->meters[k].parent_plus1 == i + 1)
			return true;
	return false;
}

/* The site: the consumption roots, only the aggregate ones when any (so
 * that nothing is counted twice). A consumer: the consumption meters that
 * feed nothing and are no aggregate (all those without children when every
 * meter is an aggregate). */
static bool is_site(const struct report_in *in, size_t i, bool agg)
{
	return consumption_root(in, i) && (!agg || in->meters[i].aggregate);
}

static bool is_consumer(const struct report_in *in, size_t i, bool agg)
{
	size_t k;

	if (in->meters[i].production || has_children(in, i))
		return false;
	if (!in->meters[i].aggregate)
		return true;
	for (k = 0; k < in->nmeters; k++)
		if (!in->meters[k].aggregate)
			return false;
	(void)agg;
	return true;
}

/* A grid connection of the site: its export counter is read. */
static bool is_grid(const struct report_in *in, size_t i, bool agg)
{
	return in->meters[i].grid && is_site(in, i, agg);
}

/* The price of meter i's kWh (its utility's). */
static double price_of(const struct report_in *in, size_t i)
{
	int u = in->meters[i].utility;

	if (in->prices == NULL)
		return in->price_per_kwh;
	return u >= 0 && u < UTILITY__COUNT ? in->prices[u] : NAN;
}

/* cost[k] += the energy of s's span k at price (NaN price: NaN). */
static void add_cost(const struct history_spans *s, double price, double *cost)
{
	size_t k;

	for (k = 0; k < s->n; k++)
		cost[k] += s->wh[k] / 1000 * price;
}

static double sum_kwh(const struct history_spans *s, bool *has)
{
	double wh = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		wh += s->wh[i];
		if (s->has[i] && has != NULL)
			*has = true;
	}
	return wh / 1000;
}

/* The site's minute power: the sum of the site meters' minute means. */
static void band_add(const struct report_in *in, const struct history_series *p, struct report *r)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		int64_t k;

		if (p->m[i].good == 0 || p->m[i].t_us < r->site_first)
			continue;
		k = (p->m[i].t_us - r->site_first) / step_of(in);
		if (k < 0 || (size_t)k >= r->site_nmin)
			continue;
		r->site_p[k] = (r->site_has[k] ? r->site_p[k] : 0) + mean_of(&p->m[i]);
		r->site_has[k] = 1;
	}
}

static void band_end(struct report *r)
{
	size_t i, j = 0;

	for (i = 0; i < r->site_nmin; i++) {
		int64_t t = r->site_first + (int64_t)i * r->site_step;
		double v = r->site_p[i];

		if (!r->site_has[i] || t < r->iv.b[0])
			continue;
		while (j < r->iv.n && t >= r->iv.b[j + 1])
			j++;
		if (j == r->iv.n)
			break;
		if (!(v >= r->iv_min_w[j]))
			r->iv_min_w[j] = v;
		if (!(v <= r->iv_max_w[j]))
			r->iv_max_w[j] = v;
	}
}

static void energy_begin(const struct report_in *in, struct report *r)
{
	int64_t st = step_of(in), first = floor_div(in->from_us, st) * st;
	size_t i;

	if (history_days(in->from_us, in->to_us, &r->days, true))
		clip(&r->days, in->from_us, in->to_us);
	if (in->nshifts > 0 &&
	    history_shifts(in->from_us, in->to_us, in->shift_min, in->nshifts, &r->shifts))
		clip(&r->shifts, in->from_us, in->to_us);
	if (history_intervals(in->from_us, in->to_us, REPORT_INTERVAL_US, &r->iv))
		clip(&r->iv, in->from_us, in->to_us);
	r->iv_min_w = util_calloc(r->iv.n ? r->iv.n : 1, sizeof(double));
	r->iv_max_w = util_calloc(r->iv.n ? r->iv.n : 1, sizeof(double));
	for (i = 0; i < r->iv.n; i++) {
		r->iv_min_w[i] = NAN;
		r->iv_max_w[i] = NAN;
	}
	r->site_first = first;
	r->site_step = st;
	r->site_nmin = in->to_us > first ? (size_t)((in->to_us - first + st - 1) / st) : 0;
	r->site_p = util_calloc(r->site_nmin ? r->site_nmin : 1, sizeof(double));
	r->site_has = util_calloc(r->site_nmin ? r->site_nmin : 1, 1);
	r->rank = util_calloc(in->nmeters ? in->nmeters : 1, sizeof(size_t));
	r->agg = any_aggregate(in);
	if (history_months(in->from_us, in->to_us, &r->months, false))
		clip(&r->months, in->from_us, in->to_us);
	copy_bounds(&r->pdays, &r->days);
	copy_bounds(&r->pmonths, &r->months);
	copy_bounds(&r->piv, &r->iv);
	r->self_day_wh = util_calloc(r->days.n ? r->days.n : 1, sizeof(double));
	r->self_month_wh = util_calloc(r->months.n ? r->months.n : 1, sizeof(double));
	r->cons_day_wh = util_calloc(r->days.n ? r->days.n : 1, sizeof(double));
	r->cons_month_wh = util_calloc(r->months.n ? r->months.n : 1, sizeof(double));
	r->day_cost = util_calloc(r->days.n ? r->days.n : 1, sizeof(double));
	r->shift_cost = util_calloc(r->shifts.n ? r->shifts.n : 1, sizeof(double));
	r->iv_out = util_calloc(r->iv.n ? r->iv.n : 1, 1);
	for (i = 0; i < r->iv.n; i++)
		r->iv_out[i] = report_outside_production(r->iv.b[i], in->nshifts, in->holidays,
							 in->nholidays);
	for (i = 0; i < in->nmeters; i++)
		r->grid |= is_grid(in, i, r->agg);
	if (r->grid) {
		copy_bounds(&r->xdays, &r->days);
		copy_bounds(&r->xmonths, &r->months);
	}
}

static void energy_add(const struct report_in *in, size_t i, const struct report_meter_in *m,
		       struct report *r)
{
	const struct history_series *e = &m->s[REPORT_E_IMP];
	struct report_meter_out *o = &r->m[i];
	struct history_spans md = { 0 }, mi = { 0 }, ms = { 0 };
	double price = price_of(in, i);
	size_t k;

	copy_bounds(&md, &r->days);
	copy_bounds(&mi, &r->iv);
	history_energy(e->m, e->n, in->before_us, &md);
	history_energy(e->m, e->n, in->before_us, &mi);
	o->kwh = sum_kwh(&md, &o->has_energy);
	o->peak_w = NAN;
	for (k = 0; k < mi.n; k++) {
		double w = mi.wh[k] / ((double)(mi.b[k + 1] - mi.b[k]) / (double)HOUR_US);

		if (mi.has[k] && mi.b[k + 1] > mi.b[k] && !(w <= o->peak_w)) {
			o->peak_w = w;
			o->peak_at = mi.b[k];
		}
	}
	if (is_site(in, i, r->agg)) {
		history_energy(e->m, e->n, in->before_us, &r->days);
		history_energy(e->m, e->n, in->before_us, &r->months);
		history_energy(e->m, e->n, in->before_us, &r->iv);
		if (r->shifts.n > 0) {
			history_energy(e->m, e->n, in->before_us, &r->shifts);
			copy_bounds(&ms, &r->shifts);
			history_energy(e->m, e->n, in->before_us, &ms);
			add_cost(&ms, price, r->shift_cost);
		}
		/* each meter at its utility's price */
		r->nsite++;
		add_cost(&md, price, r->day_cost);
		r->cost += o->kwh * price;
		for (k = 0; k < mi.n; k++)
			if (r->iv_out[k])
				r->standby_cost += mi.wh[k] / 1000 * price;
		if (r->fiv.n > 0)
			history_energy(e->m, e->n, in->before_us, &r->fiv);
		band_add(in, &m->s[REPORT_P], r);
	}
	if (is_grid(in, i, r->agg)) {
		const struct history_series *x = &m->s[REPORT_E_EXP];

		history_energy(x->m, x->n, in->before_us, &r->xdays);
		history_energy(x->m, x->n, in->before_us, &r->xmonths);
	}
	if (in->meters[i].production && in->meters[i].parent_plus1 == 0) {
		history_energy(e->m, e->n, in->before_us, &r->pdays);
		history_energy(e->m, e->n, in->before_us, &r->pmonths);
		history_energy(e->m, e->n, in->before_us, &r->piv);
		r->nprod += o->has_energy;
	}
	if (is_consumer(in, i, r->agg)) {
		r->consumers_kwh += o->kwh;
		for (k = r->nrank; k > 0 && r->m[r->rank[k - 1]].kwh < o->kwh; k--)
			r->rank[k] = r->rank[k - 1];
		r->rank[k] = i;
		r->nrank++;
	}
	history_spans_free(&md);
	history_spans_free(&mi);
	history_spans_free(&ms);
}

/* The remainders (a parent's energy minus its children's: negative when
 * they read more, kept so) and each child's share of its parent. */
static void tree_end(const struct report_in *in, struct report *r)
{
	size_t i;

	for (i = 0; i < in->nmeters; i++) {
		r->m[i].rem_kwh = NAN;
		r->m[i].parent_share = NAN;
	}
	for (i = 0; i < in->nmeters; i++) {
		size_t p = in->meters[i].parent_plus1, k;

		if (p == 0 || p > in->nmeters)
			continue;
		r->m[p - 1].nchildren++;
		if (isnan(r->m[p - 1].rem_kwh))
			r->m[p - 1].rem_kwh = r->m[p - 1].has_energy ? r->m[p - 1].kwh : NAN;
		r->m[p - 1].rem_kwh -= r->m[i].has_energy ? r->m[i].kwh : NAN;
		if (r->m[p - 1].has_energy && r->m[p - 1].kwh > 0 && r->m[i].has_energy)
			r->m[i].parent_share = r->m[i].kwh / r->m[p - 1].kwh;
		for (k = p; k != 0 && r->m[i].depth < in->nmeters; k = in->meters[k - 1].parent_plus1)
			r->m[i].depth++;
	}
}

/* Production, self-consumption and coverage per day, month and over the
 * range: without a grid connection the part used on site is per billing
 * interval min(production, consumption); with one, production - export. */
static void production_end(struct report *r)
{
	size_t i;
	bool has = false, any_self = false, xhas = false;

	r->prod_kwh = r->self_kwh = r->prod_coverage = r->export_kwh = NAN;
	r->cons_kwh = r->has_energy ? r->total_kwh : NAN;
	/* without a grid connection the consumption is the site's energy */
	history_known_wh(&r->days, r->cons_day_wh);
	history_known_wh(&r->months, r->cons_month_wh);
	for (i = 0; i < r->days.n; i++)
		r->self_day_wh[i] = NAN;
	for (i = 0; i < r->months.n; i++)
		r->self_month_wh[i] = NAN;
	if (r->nprod == 0)
		return;
	r->prod_kwh = sum_kwh(&r->pdays, &has);
	if (!has)
		r->prod_kwh = NAN;
	if (r->grid) {
		history_self_export(&r->days, &r->pdays, &r->xdays, r->self_day_wh,
				    r->cons_day_wh);
		history_self_export(&r->months, &r->pmonths, &r->xmonths, r->self_month_wh,
				    r->cons_month_wh);
		r->export_kwh = sum_kwh(&r->xdays, &xhas);
		if (!xhas)
			r->export_kwh = NAN;
		r->self_kwh = kpi_self_export(r->prod_kwh, r->export_kwh);
		r->cons_kwh = r->has_energy ? kpi_consumption(r->total_kwh, r->prod_kwh,
							      r->export_kwh)
					    : NAN;
		r->prod_coverage = kpi_coverage(r->prod_kwh, r->cons_kwh);
		return;
	}
	history_self(&r->piv, &r->iv, &r->days, r->self_day_wh);
	history_self(&r->piv, &r->iv, &r->months, r->self_month_wh);
	r->self_kwh = 0;
	for (i = 0; i < r->days.n; i++)
		if (isfinite(r->self_day_wh[i])) {
			r->self_kwh += r->self_day_wh[i] / 1000;
			any_self = true;
		}
	if (!any_self)
		r->self_kwh = NAN;
	r->prod_coverage = r->total_kwh > 0 && isfinite(r->prod_kwh) ? r->prod_kwh / r->total_kwh : NAN;
}

static void energy_end(const struct report_in *in, struct report *r)
{
	size_t i;

	r->total_kwh = sum_kwh(&r->days, &r->has_energy);
	if (r->nsite == 0)
		r->cost = r->standby_cost = NAN; /* no meter of the site: nothing priced */
	for (i = 0; i < r->nrank; i++)
		r->m[r->rank[i]].share =
			r->consumers_kwh > 0 ? r->m[r->rank[i]].kwh / r->consumers_kwh : NAN;

	tree_end(in, r);
	production_end(r);

	/* peak demand per day against the contract */
	history_peaks(&r->iv, in->contract_w, &r->days);
	r->peak_w = NAN;
	for (i = 0; i < r->days.n; i++) {
		const struct history_peak *p = &r->days.peak[i];

		if (isfinite(p->max_w) && !(p->max_w <= r->peak_w)) {
			r->peak_w = p->max_w;
			r->peak_at = p->at_us;
		}
		r->over_intervals += p->over;
		r->over_us += p->over_us;
	}
	band_end(r);

	/* outside production hours */
	for (i = 0; i < r->iv.n; i++) {
		if (!r->iv_out[i])
			continue;
		r->standby_kwh += r->iv.wh[i] / 1000;
		r->standby_us += r->iv.b[i + 1] - r->iv.b[i];
	}
}

/* ---- power factor, quality ------------------------------------------------ */

/* The minute of s at t_us from *j on (s in time order), or NULL. */
static const struct history_minute *at(const struct history_series *s, size_t *j, int64_t t_us)
{
	while (*j < s->n && s->m[*j].t_us < t_us)
		(*j)++;
	if (*j < s->n && s->m[*j].t_us == t_us && s->m[*j].good > 0)
		return &s->m[*j];
	return NULL;
}

static void power_factor(const struct report_in *in, const struct report_meter_in *m,
			 const struct history_spans *iv, struct report_meter_out *o)
{
	const struct history_series *p = &m->s[REPORT_P], *q = &m->s[REPORT_Q],
				    *pf = &m->s[REPORT_PF];
	double sp = 0, sq = 0, ip = 0, iq = 0, pfsum = 0;
	size_t i, jq = 0, k = 0, in_iv = 0;
	uint32_t npq = 0, w = weight(in);

	o->pf = o->tan_phi = o->kvar_needed = NAN;
	for (i = 0; i < pf->n; i++) {
		double v = fabs(mean_of(&pf->m[i]));

		if (pf->m[i].good == 0 || pf->m[i].t_us < in->from_us || pf->m[i].t_us >= in->to_us)
			continue;
		o->pf_minutes += w;
		pfsum += v * w;
		o->below85 += (v < 0.85) * w;
		o->below90 += (v < 0.90) * w;
	}
	for (i = 0; i <= p->n; i++) {
		const struct history_minute *pm = i < p->n ? &p->m[i] : NULL, *qm;
		double pv, qv;

		if (pm != NULL && (pm->good == 0 || pm->t_us < in->from_us || pm->t_us >= in->to_us))
			continue;
		/* the interval the minute is in ends: its compensation */
		while (iv->n > 0 && k < iv->n && (pm == NULL || pm->t_us >= iv->b[k + 1])) {
			if (in_iv > 0 && ip > 0) {
				double need = iq / in_iv - REPORT_TAN_PHI_LIMIT * ip / in_iv;

				if (!(need <= o->kvar_needed)) {
					o->kvar_needed = need;
					o->kvar_at = iv->b[k];
				}
			}
			ip = iq = 0;
			in_iv = 0;
			k++;
		}
		if (pm == NULL)
			break;
		qm = at(q, &jq, pm->t_us);
		if (qm == NULL)
			continue;
		pv = mean_of(pm);
		qv = mean_of(qm);
		sp += pv;
		sq += qv;
		ip += pv;
		iq += qv;
		in_iv++;
		npq++;
		if (pf->n == 0) {
			double v = pv / hypot(pv, qv);

			if (isfinite(v)) {
				v = fabs(v);
				o->pf_minutes += w;
				pfsum += v * w;
				o->below85 += (v < 0.85) * w;
				o->below90 += (v < 0.90) * w;
			}
		}
	}
	if (npq > 0 && sp > 0) {
		o->tan_phi = sq / sp;
		o->pf = sp / hypot(sp, sq);
	} else if (o->pf_minutes > 0) {
		o->pf = pfsum / o->pf_minutes;
		o->tan_phi = sqrt(1 / (o->pf * o->pf) - 1);
	}
	if (isfinite(o->kvar_needed) && o->kvar_needed < 0)
		o->kvar_needed = 0;
}

static void quality(const struct report_in *in, const struct report_meter_in *m,
		    struct report_meter_out *o)
{
	const struct history_series *v1 = &m->s[REPORT_V1], *t1 = &m->s[REPORT_THD1],
				    *f = &m->s[REPORT_FREQ];
	double nom = m->nominal_v > 0 ? m->nominal_v : 230, usum = 0;
	double fnom = isfinite(in->nominal_f) && in->nominal_f > 0 ? in->nominal_f : 50;
	size_t i, j2 = 0, j3 = 0, k2 = 0, k3 = 0;
	uint32_t w = weight(in);

	o->v_min = o->v_max = o->unb_max = o->unb_mean = o->thd_max = o->f_min = o->f_max = NAN;
	for (i = 0; i < v1->n; i++) {
		const struct history_minute *a = &v1->m[i], *b, *c;
		const struct history_minute *ph[3];
		bool out = false;
		size_t k;

		if (a->good == 0 || a->t_us < in->from_us || a->t_us >= in->to_us)
			continue;
		b = at(&m->s[REPORT_V2], &j2, a->t_us);
		c = at(&m->s[REPORT_V3], &j3, a->t_us);
		ph[0] = a;
		ph[1] = b;
		ph[2] = c;
		o->v_minutes += w;
		for (k = 0; k < 3; k++) {
			if (ph[k] == NULL)
				continue;
			if (!(ph[k]->min >= o->v_min))
				o->v_min = ph[k]->min;
			if (!(ph[k]->max <= o->v_max))
				o->v_max = ph[k]->max;
			out |= ph[k]->min < 0.9 * nom || ph[k]->max > 1.1 * nom;
		}
		o->v_out += out * w;
		if (b != NULL && c != NULL) {
			double u = report_unbalance(mean_of(a), mean_of(b), mean_of(c));

			if (isfinite(u)) {
				o->unb_minutes += w;
				usum += u * w;
				o->unb_over2 += (u > 2) * w;
				if (!(u <= o->unb_max))
					o->unb_max = u;
			}
		}
	}
	if (o->unb_minutes > 0)
		o->unb_mean = usum / o->unb_minutes;
	for (i = 0; i < t1->n; i++) {
		const struct history_minute *ph[3];
		bool over = false;
		size_t k;

		if (t1->m[i].good == 0 || t1->m[i].t_us < in->from_us || t1->m[i].t_us >= in->to_us)
			continue;
		ph[0] = &t1->m[i];
		ph[1] = at(&m->s[REPORT_THD2], &k2, t1->m[i].t_us);
		ph[2] = at(&m->s[REPORT_THD3], &k3, t1->m[i].t_us);
		o->thd_minutes += w;
		for (k = 0; k < 3; k++) {
			double v;

			if (ph[k] == NULL)
				continue;
			v = mean_of(ph[k]);
			if (!(v <= o->thd_max))
				o->thd_max = v;
			over |= v > 8;
		}
		o->thd_over8 += over * w;
	}
	for (i = 0; i < f->n; i++) {
		const struct history_minute *x = &f->m[i];

		if (x->good == 0 || x->t_us < in->from_us || x->t_us >= in->to_us)
			continue;
		o->f_minutes += w;
		if (!(x->min >= o->f_min))
			o->f_min = x->min;
		if (!(x->max <= o->f_max))
			o->f_max = x->max;
		o->f_out += (x->min < 0.99 * fnom || x->max > 1.01 * fnom) * w;
	}
}

/* ---- alarms ----------------------------------------------------------------- */

struct inst {
	const char *alarm, *meter, *priority, *state;
	int64_t raised_us;
	int64_t *raises;
	size_t n;
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_inst(const void *a, const void *b)
{
	const struct inst *x = a, *y = b;
	int c;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	c = strcmp(x->alarm, y->alarm);
	return c != 0 ? c : strcmp(x->meter, y->meter);
}

static const char *str(const char *s)
{
	return s != NULL ? s : "";
}

static void alarms(const struct report_in *in, struct report *r)
{
	struct inst *insts = NULL;
	size_t ninsts = 0, i, k, nraise = 0, nack = 0;
	int64_t *raise_t = util_calloc(in->nalarms ? in->nalarms : 1, sizeof(int64_t));
	double *ack_s = util_calloc(in->nalarms ? in->nalarms : 1, sizeof(double));
	double ack_sum = 0;
	unsigned run = 0;

	for (i = 0; i < in->nalarms; i++) {
		const struct report_alarm_in *a = &in->alarms[i];
		struct inst *x = NULL;

		if (a->t_us < in->from_us || a->t_us >= in->to_us)
			continue;
		r->events++;
		for (k = 0; k < ninsts; k++)
			if (strcmp(insts[k].alarm, str(a->alarm)) == 0 &&
			    strcmp(insts[k].meter, str(a->meter)) == 0) {
				x = &insts[k];
				break;
			}
		if (x == NULL) {
			insts = util_reallocarray(insts, ninsts + 1, sizeof(*insts));
			x = &insts[ninsts++];
			memset(x, 0, sizeof(*x));
			x->alarm = str(a->alarm);
			x->meter = str(a->meter);
			x->priority = str(a->priority);
		}
		x->state = str(a->state);
		if (strcmp(str(a->event), "raise") == 0) {
			r->raises++;
			for (k = 0; k < REPORT_PRIOS; k++)
				if (strcmp(str(a->priority), report_prio_names[k]) == 0)
					r->by_prio[k]++;
			raise_t[nraise++] = a->t_us;
			x->raises = util_reallocarray(x->raises, x->n + 1, sizeof(int64_t));
			x->raises[x->n++] = a->t_us;
			x->raised_us = a->t_us;
			x->priority = str(a->priority);
		} else if (strcmp(str(a->event), "ack") == 0) {
			r->acks++;
			if (a->raised_us > 0 && a->t_us >= a->raised_us) {
				ack_s[nack] = (double)(a->t_us - a->raised_us) / US;
				ack_sum += ack_s[nack++];
			}
		}
		if (a->raised_us > 0)
			x->raised_us = a->raised_us;
	}

	/* rates per fixed 10 minutes (aligned on the epoch, as whatif.c) */
	qsort(raise_t, nraise, sizeof(*raise_t), cmp_i64);
	for (i = 0; i < nraise; i++) {
		if (i == 0 || raise_t[i] / TEN_MIN_US != raise_t[i - 1] / TEN_MIN_US)
			run = 0;
		run++;
		if (run > r->peak10)
			r->peak10 = run;
		if (run == ALARM_FLOOD_THRESHOLD)
			r->floods++;
	}
	if (in->to_us > in->from_us)
		r->avg10 = (double)r->raises * (double)TEN_MIN_US / (double)(in->to_us - in->from_us);

	for (i = 0; i < ninsts; i++) {
		struct inst *x = &insts[i];
		bool active = strcmp(x->state, "unack") == 0 || strcmp(x->state, "ack") == 0;

		if (active && x->raised_us > 0 && in->to_us - x->raised_us > ALARM_STANDING_US)
			r->standing++;
		if (x->n > 1)
			qsort(x->raises, x->n, sizeof(int64_t), cmp_i64);
		for (k = 0; k + ALARM_CHATTER_COUNT <= x->n; k++)
			if (x->raises[k + ALARM_CHATTER_COUNT - 1] - x->raises[k] <=
			    ALARM_CHATTER_WINDOW_MS * INT64_C(1000)) {
				r->chattering++;
				break;
			}
	}
	if (ninsts > 1)
		qsort(insts, ninsts, sizeof(*insts), cmp_inst);
	for (i = 0; i < ninsts && r->ntop < REPORT_TOP; i++) {
		struct report_alarm_top *t = &r->top[r->ntop];

		if (insts[i].n == 0)
			break;
		util_strlcpy(t->alarm, insts[i].alarm, sizeof(t->alarm));
		util_strlcpy(t->meter, insts[i].meter, sizeof(t->meter));
		util_strlcpy(t->priority, insts[i].priority, sizeof(t->priority));
		t->raises = (unsigned)insts[i].n;
		r->ntop++;
	}

	r->ack_mean_s = r->ack_median_s = r->ack_max_s = NAN;
	if (nack > 0) {
		qsort(ack_s, nack, sizeof(*ack_s), cmp_double);
		r->ack_mean_s = ack_sum / (double)nack;
		r->ack_median_s = nack % 2 ? ack_s[nack / 2] : (ack_s[nack / 2 - 1] + ack_s[nack / 2]) / 2;
		r->ack_max_s = ack_s[nack - 1];
	}
	for (i = 0; i < ninsts; i++)
		free(insts[i].raises);
	free(insts);
	free(raise_t);
	free(ack_s);
}

/* ---- forecast -------------------------------------------------------------- */

static void forecast_begin(const struct report_in *in, struct report *r)
{
	const struct report_forecast_in *f = in->forecast;

	r->mape = NAN;
	if (f == NULL || f->n == 0 || f->step_us <= 0)
		return;
	r->has_forecast = true;
	r->fc_n = f->n;
	r->fc_step = f->step_us;
	r->fc_t = util_calloc(f->n, sizeof(int64_t));
	r->fc_point = util_calloc(f->n, sizeof(double));
	r->fc_actual = util_calloc(f->n, sizeof(double));
	memcpy(r->fc_t, f->t_us, f->n * sizeof(int64_t));
	memcpy(r->fc_point, f->point, f->n * sizeof(double));
	if (!history_intervals(in->from_us, in->to_us, f->step_us, &r->fiv))
		memset(&r->fiv, 0, sizeof(r->fiv));
}

static void forecast_end(const struct report_in *in, struct report *r)
{
	double err = 0;
	size_t i, j = 0;

	for (i = 0; i < r->fc_n; i++) {
		double a;

		r->fc_actual[i] = NAN;
		while (j < r->fiv.n && r->fiv.b[j] < r->fc_t[i])
			j++;
		if (j == r->fiv.n || r->fiv.b[j] != r->fc_t[i] || !r->fiv.has[j] ||
		    r->fiv.b[j] < in->from_us || r->fiv.b[j + 1] > in->to_us)
			continue;
		/* an interval not made of whole records has no exact actual */
		if (r->site_step > 0 &&
		    (r->fiv.b[j] % r->site_step != 0 || r->fiv.b[j + 1] % r->site_step != 0))
			continue;
		a = r->fiv.wh[j] / ((double)(r->fiv.b[j + 1] - r->fiv.b[j]) / (double)HOUR_US);
		r->fc_actual[i] = a;
		if (a > 0 && isfinite(r->fc_point[i])) {
			err += fabs(a - r->fc_point[i]) / a;
			r->fc_scored++;
		}
	}
	if (r->fc_scored > 0)
		r->mape = 100 * err / (double)r->fc_scored;
}

/* ---- the whole ------------------------------------------------------------- */

void report_begin(const struct report_in *in, struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->from_us = in->from_us;
	r->to_us = in->to_us;
	r->nmeters = in->nmeters;
	r->m = util_calloc(in->nmeters ? in->nmeters : 1, sizeof(*r->m));
	r->worst_pf = SIZE_MAX;
	forecast_begin(in, r);
	energy_begin(in, r);
}

void report_add_meter(const struct report_in *in, size_t i, const struct report_meter_in *m,
		      struct report *r)
{
	coverage(in, i, m, r);
	energy_add(in, i, m, r);
	power_factor(in, m, &r->iv, &r->m[i]);
	quality(in, m, &r->m[i]);
	if (isfinite(r->m[i].kvar_needed) &&
	    (r->worst_pf == SIZE_MAX || r->m[i].kvar_needed > r->m[r->worst_pf].kvar_needed))
		r->worst_pf = i;
}

void report_end(const struct report_in *in, struct report *r)
{
	r->coverage = r->expected > 0 ? (double)r->present / (double)r->expected : NAN;
	energy_end(in, r);
	alarms(in, r);
	forecast_end(in, r);
}

void report_build(const struct report_in *in, struct report *r)
{
	size_t i;

	report_begin(in, r);
	for (i = 0; i < in->nmeters; i++)
		report_add_meter(in, i, &in->meters[i], r);
	report_end(in, r);
}

void report_free(struct report *r)
{
	history_spans_free(&r->days);
	history_spans_free(&r->shifts);
	history_spans_free(&r->iv);
	free(r->iv_min_w);
	free(r->iv_max_w);
	free(r->m);
	free(r->rank);
	free(r->fc_t);
	free(r->fc_point);
	free(r->fc_actual);
	free(r->site_p);
	free(r->site_has);
	history_spans_free(&r->fiv);
	history_spans_free(&r->pdays);
	history_spans_free(&r->piv);
	free(r->self_day_wh);
	history_spans_free(&r->months);
	history_spans_free(&r->pmonths);
	history_spans_free(&r->xdays);
	history_spans_free(&r->xmonths);
	free(r->self_month_wh);
	free(r->cons_day_wh);
	free(r->cons_month_wh);
	free(r->day_cost);
	free(r->shift_cost);
	free(r->iv_out);
	memset(r, 0, sizeof(*r));
}
