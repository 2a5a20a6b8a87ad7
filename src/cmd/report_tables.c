// SPDX-License-Identifier: MIT
/*
 * report_tables: the report's tables as text (report_tables.h), the one
 * source of the numbers on the pages and in the CSV.
 */
#include "phasor/report_tables.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/csv.h"
#include "phasor/kpi.h"
#include "phasor/util.h"

#define US INT64_C(1000000)
#define MIN_US (60 * US)

char *report_local_time(int64_t t_us, char *buf, size_t size)
{
	time_t t = (time_t)(t_us >= 0 ? t_us / US : -((-t_us + US - 1) / US));
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%d %H:%M", &tm) == 0)
		util_strlcpy(buf, "?", size);
	return buf;
}

static struct report_table *add_table(struct report_tables *ts, const char *id, const char *title,
				      const struct report_col *cols, size_t ncols)
{
	struct report_table *t;

	ts->t = util_reallocarray(ts->t, ts->n + 1, sizeof(*ts->t));
	t = &ts->t[ts->n++];
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->title = title;
	t->cols = cols;
	t->ncols = ncols;
	return t;
}

/* A row of ncols cells, each a printf format with its arguments in turn. */
static void add_row(struct report_table *t, ...)
{
	va_list ap;
	size_t k;

	t->cells = util_reallocarray(t->cells, (t->nrows + 1) * t->ncols, sizeof(char *));
	va_start(ap, t);
	for (k = 0; k < t->ncols; k++)
		t->cells[t->nrows * t->ncols + k] = util_strdup(va_arg(ap, const char *));
	va_end(ap);
	t->nrows++;
}

/* Numbers as text: NaN as "-". A few rotating buffers per row. */
#define NBUF 16
static char nbuf[NBUF][64];
static int nnext;

static const char *num(int decimals, double v)
{
	char *b = nbuf[nnext++ % NBUF];

	if (!isfinite(v))
		return "-";
	snprintf(b, sizeof(nbuf[0]), "%.*f", decimals, v);
	return b;
}

static const char *unum(unsigned long long v)
{
	char *b = nbuf[nnext++ % NBUF];

	snprintf(b, sizeof(nbuf[0]), "%llu", v);
	return b;
}

static const char *when(int64_t t_us)
{
	return report_local_time(t_us, nbuf[nnext++ % NBUF], sizeof(nbuf[0]));
}

static double mul(double kwh, double by)
{
	return isfinite(by) ? kwh * by : NAN;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct report_col summary_cols[] = {
	{ "figure", "Figure", "", 0.45, 0 },
	{ "value", "Value", "", 0.40, 1 },
	{ "unit", "Unit", "", 0.15, 0 },
};

static void summary(const struct report *r, const struct report_doc *d, struct report_tables *ts)
{
	struct report_table *t = add_table(ts, "title", "Report", summary_cols, N(summary_cols));
	const char *cur = d->currency[0] ? d->currency : "(no currency)";
	double hours_out = (double)r->standby_us / 3.6e9;
	size_t i;

	add_row(t, "site", d->site, "");
	add_row(t, "from", when(r->from_us), "");
	add_row(t, "to", when(r->to_us), "");
	add_row(t, "time zone", d->zone, "");
	add_row(t, "made", when(d->made_us), "");
	add_row(t, "buffer", d->db, "");
	for (i = 0; i < r->nmeters; i++)
		add_row(t, "meter", d->meters[i], "");
	t = add_table(ts, "summary", "Summary", summary_cols, N(summary_cols));
	add_row(t, "energy", num(3, r->has_energy ? r->total_kwh : NAN), "kWh");
	add_row(t, "cost", num(2, r->cost), cur);
	add_row(t, "co2", num(1, mul(r->total_kwh, d->co2_per_kwh)), "kg");
	add_row(t, "peak demand (15 min mean)", num(3, r->peak_w / 1000), "kW");
	add_row(t, "peak at", isfinite(r->peak_w) ? when(r->peak_at) : "-", "");
	add_row(t, "contract power", num(3, d->contract_w / 1000), "kW");
	add_row(t, "intervals over contract", isfinite(d->contract_w) ? unum(r->over_intervals) : "-",
		"");
	add_row(t, "time over contract", isfinite(d->contract_w) ? num(2,
		(double)r->over_us / 3.6e9) : "-", "h");
	add_row(t, "outside production: energy", num(3, r->has_energy ? r->standby_kwh : NAN),
		"kWh");
	add_row(t, "outside production: cost", num(2, r->standby_cost), cur);
	add_row(t, "outside production: share",
		num(2, r->total_kwh > 0 ? 100 * r->standby_kwh / r->total_kwh : NAN), "%");
	add_row(t, "outside production: hours", num(2, hours_out), "h");
	add_row(t, "outside production: mean power",
		num(3, hours_out > 0 && r->has_energy ? r->standby_kwh / hours_out : NAN), "kW");
	add_row(t, "data coverage", num(2, 100 * r->coverage), "%");
	add_row(t, "minutes present", unum(r->present), "");
	add_row(t, "minutes expected", unum(r->expected), "");
	add_row(t, "gaps (5 min or more)", unum(r->gaps_total), "");
}

static const struct report_col gap_cols[] = {
	{ "meter", "Meter", "", 0.30, 0 },
	{ "from", "From", "", 0.28, 0 },
	{ "to", "To", "", 0.28, 0 },
	{ "minutes", "Minutes", "min", 0.14, 1 },
};

static const struct report_col day_cols[] = {
	{ "day", "Day", "", 0.18, 0 },
	{ "energy", "Energy", "kWh", 0.16, 1 },
	{ "cost", "Cost", "", 0.12, 1 },
	{ "co2", "CO2", "kg", 0.11, 1 },
	{ "peak", "Peak", "kW", 0.13, 1 },
	{ "peak_at", "Peak at", "", 0.18, 0 },
	{ "over", "Over contract", "intervals", 0.12, 1 },
};

static const struct report_col shift_cols[] = {
	{ "shift", "Shift start", "", 0.34, 0 },
	{ "energy", "Energy", "kWh", 0.22, 1 },
	{ "cost", "Cost", "", 0.22, 1 },
	{ "co2", "CO2", "kg", 0.22, 1 },
};

static const struct report_col shift_total_cols[] = {
	{ "shift", "Shift", "", 0.34, 0 },
	{ "energy", "Energy", "kWh", 0.22, 1 },
	{ "cost", "Cost", "", 0.22, 1 },
	{ "share", "Share", "%", 0.22, 1 },
};

static void energy(const struct report *r, const struct report_doc *d, struct report_tables *ts)
{
	struct report_table *t;
	size_t i, k;

	t = add_table(ts, "gap", "Gaps in the data (the longest)", gap_cols, N(gap_cols));
	for (i = 0; i < r->ngaps; i++)
		add_row(t, d->meters[r->gaps[i].meter], when(r->gaps[i].from_us),
			when(r->gaps[i].to_us),
			unum((unsigned long long)((r->gaps[i].to_us - r->gaps[i].from_us) / MIN_US)));

	t = add_table(ts, "day", "Energy per day", day_cols, N(day_cols));
	for (i = 0; i < r->days.n; i++) {
		char day[16];
		const struct history_peak *p = &r->days.peak[i];
		double kwh = r->days.has[i] ? r->days.wh[i] / 1000 : NAN;

		util_strlcpy(day, when(r->days.b[i]), 11);
		add_row(t, day, num(3, kwh), num(2, r->days.has[i] ? r->day_cost[i] : NAN),
			num(1, mul(kwh, d->co2_per_kwh)), num(3, p->max_w / 1000),
			isfinite(p->max_w) ? when(p->at_us) + 11 : "-",
			isfinite(d->contract_w) ? unum(p->over) : "-");
	}
	if (r->shifts.n == 0)
		return;
	t = add_table(ts, "shift", "Energy per shift", shift_cols, N(shift_cols));
	for (i = 0; i < r->shifts.n; i++) {
		double kwh = r->shifts.has[i] ? r->shifts.wh[i] / 1000 : NAN;

		add_row(t, when(r->shifts.b[i]), num(3, kwh),
			num(2, r->shifts.has[i] ? r->shift_cost[i] : NAN),
			num(1, mul(kwh, d->co2_per_kwh)));
	}
	t = add_table(ts, "shift_total", "Energy by shift over the range", shift_total_cols,
		      N(shift_total_cols));
	for (k = 0; k < d->nshifts; k++) {
		int a = d->shift_min[k], b = d->shift_min[(k + 1) % d->nshifts];
		char name[32];
		double wh = 0, cost = 0;
		struct tm tm;

		for (i = 0; i < r->shifts.n; i++) {
			time_t s = (time_t)(r->shifts.b[i] / US);

			/* a clipped first span belongs to the shift running at from */
			if (i == 0 && r->shifts.n > 1)
				s = (time_t)(r->shifts.b[1] / US) - 1;
			if (localtime_r(&s, &tm) == NULL)
				continue;
			{
				int m = tm.tm_hour * 60 + tm.tm_min;
				bool in = a < b ? (m >= a && m < b) : (m >= a || m < b);

				if (in) {
					wh += r->shifts.wh[i];
					cost += r->shift_cost[i];
				}
			}
		}
		snprintf(name, sizeof(name), "%02d:%02d-%02d:%02d", a / 60, a % 60, b / 60, b % 60);
		add_row(t, name, num(3, wh / 1000), num(2, cost),
			num(2, r->total_kwh > 0 ? 100 * wh / 1000 / r->total_kwh : NAN));
	}
}

static const struct report_col meter_cols[] = {
	{ "meter", "Meter (consumers, by energy)", "", 0.36, 0 },
	{ "energy", "Energy", "kWh", 0.16, 1 },
	{ "share", "Share", "%", 0.14, 1 },
	{ "peak", "Peak", "kW", 0.16, 1 },
	{ "coverage", "Coverage", "%", 0.18, 1 },
};

static const struct report_col tree_cols[] = {
	{ "meter", "Meter (the tree)", "", 0.40, 0 },
	{ "parent", "Parent", "", 0.24, 0 },
	{ "energy", "Energy", "kWh", 0.18, 1 },
	{ "share", "Of parent", "%", 0.18, 1 },
};

static const struct report_col prod_cols[] = {
	{ "day", "Day", "", 0.16, 0 },
	{ "consumed", "Consumed", "kWh", 0.14, 1 },
	{ "produced", "Produced", "kWh", 0.14, 1 },
	{ "coverage", "Coverage", "%", 0.12, 1 },
	{ "self", "Used on site", "kWh", 0.16, 1 },
	{ "self_rate", "Of production", "%", 0.14, 1 },
	/* with a grid connection only: its export counter */
	{ "exported", "Exported", "kWh", 0.14, 1 },
};

/* The same per month: prod_cols, the first column the month. */
static struct report_col prod_month_cols[N(prod_cols)];

static const struct report_col load_cols[] = {
	{ "interval", "Interval", "", 0.25, 0 },
	{ "mean", "Mean", "kW", 0.25, 1 },
	{ "min", "Min", "kW", 0.25, 1 },
	{ "max", "Max", "kW", 0.25, 1 },
	/* with production meters only: the production's mean per interval */
	{ "produced", "Produced", "kW", 0.25, 1 },
};

/* A meter and its feeders, depth first in the report's order, then its
 * remainder "NAME (unmetered)". */
static void tree_rows(const struct report *r, const struct report_doc *d,
		      const size_t *parent1, struct report_table *t, size_t i)
{
	const struct report_meter_out *m = &r->m[i];
	size_t k;
	char rem[160];

	add_row(t, d->meters[i], parent1[i] ? d->meters[parent1[i] - 1] : "",
		num(3, m->has_energy ? m->kwh : NAN), num(2, 100 * m->parent_share));
	if (m->nchildren == 0)
		return;
	for (k = 0; k < r->nmeters; k++)
		if (parent1[k] == i + 1)
			tree_rows(r, d, parent1, t, k);
	snprintf(rem, sizeof(rem), "%s (unmetered)", d->meters[i]);
	add_row(t, rem, d->meters[i], num(3, m->rem_kwh),
		num(2, m->has_energy && m->kwh > 0 ? 100 * m->rem_kwh / m->kwh : NAN));
}

/* The meter tree, when there is one: each meter's energy, its share of
 * its parent, and each parent's remainder. */
static void tree(const struct report *r, const struct report_doc *d, struct report_tables *ts)
{
	struct report_table *t;
	size_t i;

	if (d->parent1 == NULL)
		return;
	for (i = 0; i < r->nmeters && d->parent1[i] == 0; i++)
		;
	if (i == r->nmeters)
		return;
	t = add_table(ts, "tree", "Meter tree: feeders and what they do not meter", tree_cols,
		      N(tree_cols));
	for (i = 0; i < r->nmeters; i++)
		if (d->parent1[i] == 0)
			tree_rows(r, d, d->parent1, t, i);
}

/* One row of the production tables (kWh): consumed, produced, the
 * coverage, used on site and its rate, exported (add_row reads it only
 * when the table has the column). */
static void prod_row(struct report_table *t, const char *item, double c, double p, double u,
		     double x)
{
	add_row(t, item, num(3, c), num(3, p), num(2, 100 * kpi_coverage(p, c)), num(3, u),
		num(2, 100 * kpi_coverage(u, p)), num(3, x));
}

/* Consumption against production per day, over the range and per month. */
static void production(const struct report *r, struct report_tables *ts)
{
	struct report_table *t;
	size_t i, nc = N(prod_cols) - !r->grid;

	if (r->nprod == 0)
		return;
	t = add_table(ts, "production", "Production and coverage", prod_cols, nc);
	for (i = 0; i < r->days.n; i++) {
		char day[16];

		util_strlcpy(day, when(r->days.b[i]), 11);
		prod_row(t, day, r->cons_day_wh[i] / 1000,
			 r->pdays.has[i] ? r->pdays.wh[i] / 1000 : NAN, r->self_day_wh[i] / 1000,
			 r->grid && r->xdays.has[i] ? r->xdays.wh[i] / 1000 : NAN);
	}
	prod_row(t, "range", r->cons_kwh, r->prod_kwh, r->self_kwh, r->export_kwh);
	memcpy(prod_month_cols, prod_cols, sizeof(prod_cols));
	prod_month_cols[0] = (struct report_col){ "month", "Month", "", prod_cols[0].width, 0 };
	t = add_table(ts, "production_month", "Production and coverage per month", prod_month_cols,
		      nc);
	for (i = 0; i < r->months.n; i++) {
		char month[16];

		util_strlcpy(month, when(r->months.b[i]), 8);
		prod_row(t, month, r->cons_month_wh[i] / 1000,
			 r->pmonths.has[i] ? r->pmonths.wh[i] / 1000 : NAN,
			 r->self_month_wh[i] / 1000,
			 r->grid && r->xmonths.has[i] ? r->xmonths.wh[i] / 1000 : NAN);
	}
}

static void consumers(const struct report *r, const struct report_doc *d, struct report_tables *ts)
{
	struct report_table *t = add_table(ts, "meter", "Biggest consumers", meter_cols,
					   N(meter_cols));
	size_t i;

	for (i = 0; i < r->nrank; i++) {
		const struct report_meter_out *m = &r->m[r->rank[i]];

		add_row(t, d->meters[r->rank[i]], num(3, m->has_energy ? m->kwh : NAN),
			num(2, 100 * m->share), num(3, m->peak_w / 1000),
			num(2, m->expected ? 100.0 * (double)m->present / (double)m->expected
						: NAN));
	}
	/* consumption against production per interval: the production's
	 * column only when there is production (add_row takes ncols cells) */
	t = add_table(ts, "load", "Load curve (15 min)", load_cols,
		      N(load_cols) - (r->nprod == 0));
	t->csv_only = 1;
	for (i = 0; i < r->iv.n; i++) {
		double len_h = (double)(r->iv.b[i + 1] - r->iv.b[i]) / 3.6e9;

		add_row(t, when(r->iv.b[i]),
			num(3, r->iv.has[i] ? r->iv.wh[i] / len_h / 1000 : NAN),
			num(3, r->iv_min_w[i] / 1000), num(3, r->iv_max_w[i] / 1000),
			num(3, i < r->piv.n && r->piv.has[i] ? r->piv.wh[i] / len_h / 1000 : NAN));
	}
}

static const struct report_col pf_cols[] = {
	{ "meter", "Meter", "", 0.16, 0 },
	{ "pf", "PF", "", 0.07, 1 },
	{ "tier", "Tier", "", 0.21, 0 },
	{ "tan_phi", "tan phi", "", 0.09, 1 },
	{ "below_085", "< 0.85", "min", 0.09, 1 },
	{ "below_090", "< 0.90", "min", 0.09, 1 },
	{ "kvar", "Needed", "kvar", 0.10, 1 },
	{ "kvar_at", "in the interval of", "", 0.19, 0 },
};

static const struct report_col quality_cols[] = {
	{ "meter", "Meter", "", 0.14, 0 },
	{ "v_min", "V min", "V", 0.075, 1 },
	{ "v_max", "V max", "V", 0.075, 1 },
	{ "v_out", "out 10%", "min", 0.08, 1 },
	{ "unbalance_max", "unb max", "%", 0.08, 1 },
	{ "unbalance_mean", "unb mean", "%", 0.085, 1 },
	{ "unbalance_over_2", "> 2 %", "min", 0.08, 1 },
	{ "thd_v_max", "THD-V", "%", 0.08, 1 },
	{ "thd_v_over_8", "> 8 %", "min", 0.08, 1 },
	{ "f_min", "f min", "Hz", 0.07, 1 },
	{ "f_max", "f max", "Hz", 0.07, 1 },
	{ "f_out", "f out 1%", "min", 0.08, 1 },
};

static void electrical(const struct report *r, const struct report_doc *d, struct report_tables *ts)
{
	struct report_table *t = add_table(ts, "pf", "Power factor", pf_cols, N(pf_cols));
	size_t i;

	for (i = 0; i < r->nmeters; i++) {
		const struct report_meter_out *m = &r->m[i];

		if (m->pf_minutes == 0 && !isfinite(m->pf))
			continue;
		add_row(t, d->meters[i], num(3, m->pf), report_pf_tier(m->pf),
			num(3, m->tan_phi), unum(m->below85), unum(m->below90),
			num(1, m->kvar_needed / 1000),
			m->kvar_needed > 0 ? when(m->kvar_at) : "-");
	}
	t = add_table(ts, "quality", "Power quality", quality_cols, N(quality_cols));
	for (i = 0; i < r->nmeters; i++) {
		const struct report_meter_out *m = &r->m[i];

		if (m->v_minutes == 0 && m->thd_minutes == 0 && m->f_minutes == 0)
			continue;
		add_row(t, d->meters[i], num(1, m->v_min), num(1, m->v_max),
			m->v_minutes ? unum(m->v_out) : "-", num(2, m->unb_max),
			num(2, m->unb_mean), m->unb_minutes ? unum(m->unb_over2) : "-",
			num(2, m->thd_max), m->thd_minutes ? unum(m->thd_over8) : "-",
			num(3, m->f_min), num(3, m->f_max),
			m->f_minutes ? unum(m->f_out) : "-");
	}
}

static const struct report_col prio_cols[] = {
	{ "priority", "Priority", "", 0.40, 0 },
	{ "raises", "Raises", "", 0.30, 1 },
	{ "share", "Share", "%", 0.30, 1 },
};

static const struct report_col eemua_cols[] = {
	{ "figure", "Figure (EEMUA 191)", "", 0.50, 0 },
	{ "value", "Value", "", 0.20, 1 },
	{ "benchmark", "Benchmark", "", 0.30, 0 },
};

static const struct report_col top_cols[] = {
	{ "rank", "#", "", 0.08, 1 },
	{ "alarm", "Alarm", "", 0.37, 0 },
	{ "meter", "Meter", "", 0.25, 0 },
	{ "priority", "Priority", "", 0.15, 0 },
	{ "raises", "Raises", "", 0.15, 1 },
};

static const struct report_col forecast_cols[] = {
	{ "interval", "Interval", "", 0.25, 0 },
	{ "forecast", "Forecast", "kW", 0.25, 1 },
	{ "actual", "Actual", "kW", 0.25, 1 },
	{ "error", "Error", "%", 0.25, 1 },
};

static void alarms(const struct report *r, struct report_tables *ts)
{
	struct report_table *t = add_table(ts, "alarm_priority", "Alarm raises by priority",
					   prio_cols, N(prio_cols));
	size_t i;

	for (i = 0; i < REPORT_PRIOS; i++)
		add_row(t, report_prio_names[i], unum(r->by_prio[i]),
			num(1, r->raises ? 100.0 * r->by_prio[i] / r->raises : NAN));
	add_row(t, "total", unum(r->raises), num(1, r->raises ? 100.0 : NAN));

	t = add_table(ts, "alarm_eemua", "Alarm load", eemua_cols, N(eemua_cols));
	add_row(t, "journal events", unum(r->events), "");
	add_row(t, "average raises per 10 min", num(3, r->avg10), "about 1 manageable");
	add_row(t, "peak raises in 10 min", unum(r->peak10), "under 10");
	add_row(t, "floods (10 min with 10 or more)", unum(r->floods), "none");
	add_row(t, "standing (active over 24 h at the end)", unum(r->standing), "none");
	add_row(t, "chattering (5 raises within 60 s)", unum(r->chattering), "none");
	add_row(t, "acknowledgements", unum(r->acks), "");
	add_row(t, "time to acknowledge: mean (s)", num(1, r->ack_mean_s), "");
	add_row(t, "time to acknowledge: median (s)", num(1, r->ack_median_s), "");
	add_row(t, "time to acknowledge: longest (s)", num(1, r->ack_max_s), "");

	t = add_table(ts, "alarm_top", "The ten most frequent alarms", top_cols, N(top_cols));
	for (i = 0; i < r->ntop; i++)
		add_row(t, unum(i + 1), r->top[i].alarm, r->top[i].meter[0] ? r->top[i].meter : "-",
			r->top[i].priority, unum(r->top[i].raises));

	if (!r->has_forecast)
		return;
	t = add_table(ts, "forecast", "Forecast against actual", forecast_cols, N(forecast_cols));
	t->csv_only = 1;
	for (i = 0; i < r->fc_n; i++)
		add_row(t, when(r->fc_t[i]), num(3, r->fc_point[i] / 1000),
			num(3, r->fc_actual[i] / 1000),
			num(2, r->fc_actual[i] > 0 ? 100 * (r->fc_point[i] - r->fc_actual[i]) /
								  r->fc_actual[i]
							: NAN));
}

void report_tables_make(const struct report *r, const struct report_doc *d,
			struct report_tables *out)
{
	memset(out, 0, sizeof(*out));
	summary(r, d, out);
	energy(r, d, out);
	production(r, out);
	consumers(r, d, out);
	tree(r, d, out);
	electrical(r, d, out);
	alarms(r, out);
}

void report_tables_free(struct report_tables *ts)
{
	size_t i, k;

	for (i = 0; i < ts->n; i++) {
		for (k = 0; k < ts->t[i].nrows * ts->t[i].ncols; k++)
			free(ts->t[i].cells[k]);
		free(ts->t[i].cells);
	}
	free(ts->t);
	memset(ts, 0, sizeof(*ts));
}

const struct report_table *report_tables_find(const struct report_tables *ts, const char *id)
{
	size_t i;

	for (i = 0; i < ts->n; i++)
		if (strcmp(ts->t[i].id, id) == 0)
			return &ts->t[i];
	return NULL;
}

void report_tables_csv(const struct report_tables *ts, FILE *out)
{
	size_t i, row, k;

	fputs("table,item,column,value,unit\n", out);
	for (i = 0; i < ts->n; i++) {
		const struct report_table *t = &ts->t[i];

		for (row = 0; row < t->nrows; row++)
			for (k = 1; k < t->ncols; k++) {
				csv_field(out, t->id);
				putc(',', out);
				csv_field(out, report_cell(t, row, 0));
				putc(',', out);
				csv_field(out, t->cols[k].name);
				putc(',', out);
				csv_field(out, report_cell(t, row, k));
				putc(',', out);
				csv_field(out, t->cols[k].unit);
				putc('\n', out);
			}
	}
}
