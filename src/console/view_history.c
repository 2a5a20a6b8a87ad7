// SPDX-License-Identifier: MIT
/*
 * view_history: view 6, History. A meter's quantity, or the site's sum of
 * an additive one, over a range (the last hour, the shift, today,
 * yesterday, 7 days, 30 days, or typed), in four pages (p): the chart
 * (min-max band and mean per column, a second meter's mean over it, a
 * cursor with its column's figures), the energy per shift, day, week and
 * month with cost and CO2, the peak demand per day and month against
 * [site] contract_power, and the alarm raises by hour of day. e writes
 * all of it to a CSV file. The figures come from the plant's history
 * worker (histjob.h), which reads the buffer's per-minute rollups off the
 * UI thread; this view asks for what it shows and draws what came.
 */
#include "phasor/ui.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phasor/csv.h"
#include "phasor/fmt.h"
#include "phasor/histjob.h"
#include "phasor/history.h"
#include "phasor/kpi.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "phasor/view.h"

#define US INT64_C(1000000)
#define MIN_US (60 * US)
#define HOUR_US (3600 * US)
#define DAY_US (86400 * US)
#define AXIS_W 9
#define MIN_SPAN_US (10 * MIN_US)
#define MAX_SPAN_US (400 * DAY_US)
#define REFRESH_US (15 * US) /* a range that reaches the present is read again this often */

enum range { R_HOUR, R_SHIFT, R_TODAY, R_YESTERDAY, R_7D, R_30D, R__PRESETS, R_CUSTOM = R__PRESETS };
static const char *const range_names[] = { "last hour", "shift", "today", "yesterday",
					   "7 days", "30 days", "custom" };
enum page { P_CHART, P_ENERGY, P_DEMAND, P_ALARMS, P__COUNT };
static const char *const page_names[] = { "Chart", "Energy", "Demand", "Alarms" };

static const struct config *cfg_of(const struct ui *ui)
{
	return ui->plant->cfg;
}

static int64_t ceil_minute(int64_t t)
{
	return (t + MIN_US - 1) / MIN_US * MIN_US;
}

/* The local midnight n days before the one of t. */
static int64_t days_back(int64_t t, int n)
{
	int64_t d = kpi_local_midnight(t);

	while (n-- > 0)
		d = kpi_local_midnight(d - US);
	return d;
}

static int64_t next_midnight(int64_t d)
{
	int64_t n = kpi_local_midnight(d + 26 * HOUR_US);

	return n > d ? n : d + DAY_US;
}

/* The shift now runs in: [*from, *to); false without [site] shifts. */
static bool current_shift(const struct config *cfg, int64_t now, int64_t *from, int64_t *to)
{
	struct history_spans s = { 0 };
	bool ok = cfg->site.nshifts > 0 &&
		  history_shifts(now, now + 1, cfg->site.shift_min, cfg->site.nshifts, &s);

	if (ok) {
		*from = s.b[0];
		*to = s.b[s.n];
	}
	history_spans_free(&s);
	return ok;
}

static void apply_preset(const struct ui *ui, struct view_history_state *st)
{
	int64_t now = ui->plant->now_us, mid = kpi_local_midnight(now);

	switch (st->range) {
	case R_HOUR:
		st->to_us = ceil_minute(now);
		st->from_us = st->to_us - HOUR_US;
		break;
	case R_SHIFT:
		if (!current_shift(cfg_of(ui), now, &st->from_us, &st->to_us)) {
			st->to_us = ceil_minute(now);
			st->from_us = st->to_us - 8 * HOUR_US;
		}
		break;
	case R_TODAY:
		st->from_us = mid;
		st->to_us = next_midnight(mid);
		break;
	case R_YESTERDAY:
		st->from_us = days_back(now, 1);
		st->to_us = mid;
		break;
	case R_7D:
	case R_30D:
		st->from_us = days_back(now, st->range == R_7D ? 6 : 29);
		st->to_us = next_midnight(mid);
		break;
	default:
		return;
	}
	st->anchored = true;
	st->cursor = LONG_MAX; /* the last column */
	st->scroll = 0;
}

/* ---- quantities ---- */

/* Does the series have qty (a value of it in the live state)? */
static bool has_qty(const struct ui *ui, long meter, unsigned q)
{
	const struct live *l = ui->plant->live;
	size_t ids[256], n, i;

	if (l == NULL)
		return false;
	if (meter >= 0) {
		const struct live_meter *m = live_meter_const(l, (size_t)meter);

		return m != NULL && m->v[q].t_us != 0;
	}
	if (!history_site_qty(q) || cfg_of(ui)->nmeters > 256)
		return q == QTY_P_TOTAL;
	n = history_site_meters(cfg_of(ui), ids);
	for (i = 0; i < n; i++) {
		const struct live_meter *m = live_meter_const(l, ids[i]);

		if (m != NULL && m->v[q].t_us != 0)
			return true;
	}
	return false;
}

/* The next quantity of the series in direction dir (+1, -1); p_total and
 * e_imp are offered when nothing is known of it. */
static unsigned next_qty(const struct ui *ui, long meter, unsigned from, int dir)
{
	unsigned i, q = from;
	bool any = false;

	for (i = 0; i < QTY__COUNT; i++)
		any |= has_qty(ui, meter, i);
	for (i = 0; i < QTY__COUNT; i++) {
		q = (unsigned)(((int)q + dir + QTY__COUNT) % QTY__COUNT);
		if (any ? has_qty(ui, meter, q)
			: q == QTY_P_TOTAL || q == QTY_E_IMP)
			return q;
	}
	return from;
}

/* A quantity the series has: the current one, else p_total, else the
 * first it has (p_total when nothing is known of it). */
static void fit_qty(const struct ui *ui, struct view_history_state *st)
{
	if (st->meter < 0 && !history_site_qty(st->qty))
		st->qty = QTY_P_TOTAL;
	if (has_qty(ui, st->meter, st->qty))
		return;
	if (has_qty(ui, st->meter, QTY_P_TOTAL))
		st->qty = QTY_P_TOTAL;
	else
		st->qty = next_qty(ui, st->meter, QTY__COUNT - 1, 1);
}

/* ---- names ---- */

/* Every format given is a literal of this file. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static char *local_fmt(int64_t t_us, const char *f, char *buf, size_t size)
{
	time_t t = (time_t)(t_us / US);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, f, &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}
#pragma GCC diagnostic pop

/* The series' name, sanitized by draw_text when drawn. */
static const char *series_name(const struct ui *ui, long meter)
{
	if (meter < 0)
		return "site";
	return cfg_of(ui)->meters[meter].name;
}

/* "Mon 07 Dec 06:00 - Tue 08 Dec 06:00 (24 h)" */
static char *range_text(int64_t from, int64_t to, char *buf, size_t size)
{
	char a[32], b[32], d[32];
	int64_t span = to - from;

	local_fmt(from, "%a %d %b %H:%M", a, sizeof(a));
	local_fmt(to, "%a %d %b %H:%M", b, sizeof(b));
	if (span % DAY_US == 0 && span >= 2 * DAY_US)
		snprintf(d, sizeof(d), "%lld days", (long long)(span / DAY_US));
	else if (span % HOUR_US == 0)
		snprintf(d, sizeof(d), "%lld h", (long long)(span / HOUR_US));
	else
		snprintf(d, sizeof(d), "%lld min", (long long)(span / MIN_US));
	snprintf(buf, size, "%s - %s (%s)", a, b, d);
	return buf;
}

/* A column's length: "10 min", "2 h", "90 s". */
static char *step_text(int64_t us, char *buf, size_t size)
{
	if (us >= HOUR_US && us % HOUR_US == 0)
		snprintf(buf, size, "%lld h", (long long)(us / HOUR_US));
	else if (us >= MIN_US)
		snprintf(buf, size, "%lld min", (long long)((us + MIN_US / 2) / MIN_US));
	else
		snprintf(buf, size, "%lld s", (long long)(us / US));
	return buf;
}

/* ---- the request ---- */

/* Columns of a round length (1, 2, 5 ... minutes, hours, days) as many as
 * fit in the chart's width. */
static long chart_cols(const struct view_history_state *st, int width)
{
	static const int64_t steps[] = { MIN_US,	  2 * MIN_US,  5 * MIN_US,  10 * MIN_US,
					 15 * MIN_US,	  20 * MIN_US, 30 * MIN_US, HOUR_US,
					 2 * HOUR_US,	  3 * HOUR_US, 4 * HOUR_US, 6 * HOUR_US,
					 8 * HOUR_US,	  12 * HOUR_US, DAY_US,	    2 * DAY_US,
					 3 * DAY_US,	  7 * DAY_US };
	int64_t span = st->to_us - st->from_us;
	long room = width - AXIS_W, n = 1;
	size_t i;

	if (room < 1)
		room = 1;
	if (room > HISTJOB_MAX_COLS)
		room = HISTJOB_MAX_COLS;
	for (i = 0; i < UTIL_ARRAY_LEN(steps); i++) {
		n = (long)((span + steps[i] - 1) / steps[i]);
		if (n <= room)
			break;
	}
	if (n > room)
		n = room;
	return n < 1 ? 1 : n;
}

/* Ask the worker for what is to be shown, when it is not what was asked
 * (or a range reaching the present is REFRESH_US older than now). */
static void ask(struct ui *ui, struct view_history_state *st, int width)
{
	struct histjob *job = ui->plant->history;
	int64_t now = ui->plant->now_us;
	bool same, stale;

	if (job == NULL)
		return;
	if (!st->anchored) {
		apply_preset(ui, st);
	} else if (st->range < R__PRESETS) {
		/* A preset follows the instant shown: the last hour rolls on
		 * (the cursor kept), today becomes the next day at midnight, a
		 * replay's seek takes it to the cursor's day (the cursor on
		 * the present again). */
		struct view_history_state t = *st;

		apply_preset(ui, &t);
		if (t.from_us != st->from_us || t.to_us != st->to_us) {
			bool roll = t.from_us > st->from_us && t.from_us < st->to_us;

			st->from_us = t.from_us;
			st->to_us = t.to_us;
			if (!roll) {
				st->cursor = LONG_MAX;
				st->scroll = 0;
			}
		}
	}
	st->ncols = chart_cols(st, width);
	same = st->asked != 0 && st->asked_from == st->from_us && st->asked_to == st->to_us &&
	       st->asked_meter == st->meter && st->asked_overlay == st->overlay &&
	       st->asked_qty == st->qty && st->asked_ncols == st->ncols;
	stale = st->asked_to > st->asked_now && (now - st->asked_now >= REFRESH_US ||
						 now < st->asked_now);
	if (same && (!stale || histjob_busy(job)))
		return;
	st->asked = histjob_request(job, &(struct histjob_req){ .meter = st->meter,
								.overlay = st->overlay,
								.qty = st->qty,
								.from_us = st->from_us,
								.to_us = st->to_us,
								.now_us = now,
								.ncols = (size_t)st->ncols });
	st->asked_from = st->from_us;
	st->asked_to = st->to_us;
	st->asked_meter = st->meter;
	st->asked_overlay = st->overlay;
	st->asked_qty = st->qty;
	st->asked_ncols = st->ncols;
	st->asked_now = now;
}

/* ---- drawing ---- */

static void draw_head(struct ui *ui, struct view_history_state *st,
		      const struct histjob_result *res, int width)
{
	WINDOW *w = ui->body;
	char line[400], r[160], pages[80];
	int i, x;

	snprintf(line, sizeof(line), "%s %s %s (%s)", draw_symbol(SYM_SELECT),
		 st->meter < 0 ? "Site total" : series_name(ui, st->meter), qty_name(st->qty),
		 qty_unit(st->qty)[0] ? qty_unit(st->qty) : "-");
	x = draw_text(w, 0, 0, width, ROLE_ACCENT, line);
	if (st->overlay >= 0) {
		snprintf(line, sizeof(line), "  vs %s", series_name(ui, st->overlay));
		x += draw_text(w, 0, x, width - x, ROLE_CHART, line);
	}
	pages[0] = '\0';
	for (i = 0; i < P__COUNT; i++) {
		size_t len = strlen(pages);

		snprintf(pages + len, sizeof(pages) - len, i == st->page ? "[%s]" : " %s ",
			 page_names[i]);
	}
	draw_text_right(w, 0, x, width - x, ROLE_MUTED, pages);
	snprintf(line, sizeof(line), "%s: %s", range_names[st->range],
		 range_text(st->from_us, st->to_us, r, sizeof(r)));
	x = draw_text(w, 1, 0, width, ROLE_NORMAL, line);
	if (histjob_busy(ui->plant->history))
		draw_text_right(w, 1, x, width - x, ROLE_ACCENT, "reading...");
	else if (res != NULL && !res->failed)
		draw_text_right(w, 1, x, width - x, ROLE_MUTED,
				(snprintf(line, sizeof(line), "read in %s ms",
					  view_fixed((double)res->took_us / 1000.0, 0, r,
						     sizeof(r))),
				 line));
}

/* The figures of a column: "min 1.2 kW  mean 1.5 kW  max 2.0 kW", then
 * "120 samples, coverage 100 %". */
static void col_values(unsigned qty, const struct history_col *c, char *buf, size_t size)
{
	char a[32], b[32], d[32];

	if (c->good == 0)
		snprintf(buf, size, "no data");
	else
		snprintf(buf, size, "min %s  mean %s  max %s", fmt_qty(qty, c->min, a, sizeof(a)),
			 fmt_qty(qty, c->mean, b, sizeof(b)), fmt_qty(qty, c->max, d, sizeof(d)));
}

static void col_count(const struct history_col *c, char *buf, size_t size)
{
	char cov[32];

	snprintf(buf, size, "%llu sample%s, coverage %s", (unsigned long long)c->samples,
		 c->samples == 1 ? "" : "s",
		 isfinite(c->coverage) ? fmt_pct(100 * c->coverage, cov, sizeof(cov)) : "-");
}

static void draw_chart_page(struct ui *ui, struct view_history_state *st,
			    const struct histjob_result *res, int y, int rows, int width)
{
	WINDOW *w = ui->body;
	size_t n = res->req.ncols, k;
	int cw = width - AXIS_W, h = rows - y - 5, c, lastx = -100;
	double vlo = INFINITY, vhi = -INFINITY;
	double *lo = util_calloc(n, sizeof(double)), *hi = util_calloc(n, sizeof(double));
	double *mid = util_calloc(n, sizeof(double)), *ov = util_calloc(n, sizeof(double));
	const struct history_col *cur;
	char a[64], b[64], line[400];
	int64_t span = res->req.to_us - res->req.from_us;
	bool short_labels = span <= 36 * HOUR_US;

	if (st->cursor == LONG_MAX && res->req.now_us >= res->req.from_us &&
	    res->req.now_us < res->req.to_us) /* at first on the present */
		st->cursor = (long)((res->req.now_us - res->req.from_us) * (int64_t)n / span);
	if (st->cursor >= (long)n)
		st->cursor = (long)n - 1;
	if (st->cursor < 0)
		st->cursor = 0;
	for (k = 0; k < n; k++) {
		const struct history_col *p = &res->cols[k];

		lo[k] = p->min;
		hi[k] = p->max;
		mid[k] = p->mean;
		ov[k] = res->ocols != NULL ? res->ocols[k].mean : NAN;
		if (isfinite(p->min) && p->min < vlo)
			vlo = p->min;
		if (isfinite(p->max) && p->max > vhi)
			vhi = p->max;
		if (isfinite(ov[k]) && ov[k] < vlo)
			vlo = ov[k];
		if (isfinite(ov[k]) && ov[k] > vhi)
			vhi = ov[k];
	}
	if (!(vlo <= vhi)) {
		vlo = 0;
		vhi = 1;
	}
	if (vhi - vlo < 1e-9) {
		vhi += fabs(vhi) > 1 ? fabs(vhi) * 0.05 : 1;
		vlo -= fabs(vlo) > 1 ? fabs(vlo) * 0.05 : 1;
	} else {
		double pad = (vhi - vlo) * 0.05;

		vhi += pad;
		vlo = vlo >= 0 && vlo - pad < 0 ? 0 : vlo - pad;
	}
	if (h >= 3 && cw >= 10) {
		draw_text_right(w, y, 0, AXIS_W - 1, ROLE_MUTED, fmt_qty(st->qty, vhi, a, sizeof(a)));
		draw_text_right(w, y + h - 1, 0, AXIS_W - 1, ROLE_MUTED,
				fmt_qty(st->qty, vlo, a, sizeof(a)));
		draw_band_chart(w, y, AXIS_W, h, cw,
				&(struct draw_band){ lo, hi, mid, res->ocols != NULL ? ov : NULL, n, vlo,
						     vhi, NAN });
		/* the cursor: '|' in the empty cells of its columns */
		for (c = 0; c < cw; c++) {
			int r;

			if ((long)((double)c * (double)n / (double)cw) != st->cursor)
				continue;
			for (r = 0; r < h; r++) {
				chtype ch = mvwinch(w, y + r, AXIS_W + c);

				if ((ch & A_CHARTEXT) == ' ')
					draw_text(w, y + r, AXIS_W + c, 1, ROLE_ACCENT, "|");
			}
		}
		/* time labels, one every 12 columns or so */
		for (c = 0; c < cw - 5; c += 12) {
			size_t kk = (size_t)((double)c * (double)n / (double)cw);

			if (c < lastx + 7)
				continue;
			local_fmt(res->cols[kk].from_us, short_labels ? "%H:%M" : "%d/%m", a, sizeof(a));
			draw_text(w, y + h, AXIS_W + c, 6, ROLE_MUTED, a);
			lastx = c;
		}
		y += h + 1;
	}
	cur = &res->cols[st->cursor];
	snprintf(line, sizeof(line), "%s %s - %s", draw_symbol(SYM_SELECT),
		 local_fmt(cur->from_us, short_labels ? "%H:%M" : "%a %d %b %H:%M", a, sizeof(a)),
		 local_fmt(cur->to_us, short_labels ? "%H:%M" : "%a %d %b %H:%M", b, sizeof(b)));
	c = draw_text(w, y, 0, width, ROLE_ACCENT, line);
	col_values(st->qty, cur, line, sizeof(line));
	draw_text(w, y++, c + 2, width - c - 2, cur->good > 0 ? ROLE_NORMAL : ROLE_MUTED, line);
	col_count(cur, line, sizeof(line));
	draw_text(w, y++, 2, width - 2, ROLE_NORMAL, line);
	if (res->ocols != NULL) {
		const struct history_col *oc = &res->ocols[st->cursor];
		char cnt[64];

		c = draw_text(w, y, 2, width - 2, ROLE_CHART, series_name(ui, res->req.overlay));
		col_values(st->qty, oc, line, sizeof(line));
		col_count(oc, cnt, sizeof(cnt));
		draw_textf(w, y, 2 + c, width - c - 2, ROLE_NORMAL, ": %s; %s", line, cnt);
	}
	y++;
	snprintf(line, sizeof(line), "%s min-max  %s mean%s%s%s  | cursor  %s a column",
		 draw_is_ascii() ? ":" : "\u2591", draw_is_ascii() ? "-" : "\u2500",
		 res->ocols != NULL ? "  " : "", res->ocols != NULL ? (draw_is_ascii() ? "*" : "\u25cf") : "",
		 res->ocols != NULL ? " overlay mean" : "",
		 step_text(span / (int64_t)n, a, sizeof(a)));
	draw_text(w, y, 0, width, ROLE_MUTED, line);
	free(lo);
	free(hi);
	free(mid);
	free(ov);
}

/* A span's label in a table: "Mon 07 Dec 06:00-14:00", "Mon 07 Dec", ... */
enum span_kind { K_SHIFT, K_DAY, K_WEEK, K_MONTH, K__COUNT };
static const char *const kind_names[] = { "shift", "day", "week", "month" };

static char *span_label(enum span_kind k, int64_t a, int64_t b, char *buf, size_t size)
{
	char x[24], y[24];

	switch (k) {
	case K_SHIFT:
		snprintf(buf, size, "%s-%s", local_fmt(a, "%a %d %b %H:%M", x, sizeof(x)),
			 local_fmt(b, "%H:%M", y, sizeof(y)));
		break;
	case K_DAY:
		local_fmt(a, "%a %d %b", buf, size);
		break;
	case K_WEEK:
		snprintf(buf, size, "%s - %s", local_fmt(a, "%d %b", x, sizeof(x)),
			 local_fmt(b - US, "%d %b", y, sizeof(y)));
		break;
	default:
		local_fmt(a, "%b %Y", buf, size);
		break;
	}
	return buf;
}

/* A span cut by the range, or still running at now. */
static bool span_partial(const struct history_spans *s, size_t i, enum span_kind k,
			 int64_t now)
{
	int64_t a = s->b[i], b = s->b[i + 1];

	if (b > now)
		return true;
	switch (k) {
	case K_DAY:
		return kpi_local_midnight(a) != a || next_midnight(a) != b;
	case K_SHIFT:
	case K_WEEK:
	case K_MONTH:
		/* the first and last may be cut by the range */
		return (i == 0 || i + 1 == s->n) &&
		       (k == K_WEEK ? b - a < 7 * DAY_US - 2 * HOUR_US : k == K_MONTH ? b - a < 28 * DAY_US - 2 * HOUR_US : false);
	default:
		return false;
	}
}

static const struct history_spans *spans_of(const struct histjob_result *res, enum span_kind k)
{
	return k == K_SHIFT ? &res->shifts : k == K_DAY ? &res->days : k == K_WEEK ? &res->weeks
										    : &res->months;
}

/* The cost of span i of kind k (each meter's energy at its utility's price). */
static double cost_of(const struct histjob_result *res, enum span_kind k, size_t i)
{
	const double *c = res->cost[k]; /* histjob's order is the kinds' */

	return c != NULL && spans_of(res, k)->has[i] ? c[i] : NAN;
}

static void money(const struct config *cfg, double cost, char *buf, size_t size)
{
	if (!isfinite(cost))
		snprintf(buf, size, "-");
	else
		fmt_money(cost, cfg->site.currency, buf, size);
}

static void co2(const struct config *cfg, double kwh, char *buf, size_t size)
{
	if (!isfinite(cfg->site.co2_per_kwh))
		snprintf(buf, size, "-");
	else
		view_fixed(kwh * cfg->site.co2_per_kwh, 1, buf, size);
}

/* A ratio as whole percents, "-" unknown. */
static const char *pct_text(double num, double den, char *buf, size_t size)
{
	double r = kpi_coverage(num, den);

	if (isnan(r))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.0f %%", round(r * 100.0));
	return buf;
}

/*
 * Consumption against production per day and month: the coverage rate
 * (production / consumption) and the self-consumption (the part of the
 * production used on site, per billing interval; with a grid connection
 * production - export; its rate of the production).
 */
static void production_lines(const struct histjob_result *res, struct view_lines *ls)
{
	struct view_line *l;
	char a[64], b[32], c[32], d[32], e[32], g[32];
	int k;
	size_t i;

	for (k = 0; k < 2; k++) {
		const struct history_spans *cs = k == 0 ? &res->days : &res->months;
		const struct history_spans *ps = k == 0 ? &res->pdays : &res->pmonths;
		const double *self = k == 0 ? res->self_days : res->self_months;
		const double *used = k == 0 ? res->cons_days : res->cons_months;

		view_lines_add(ls, 0);
		l = view_lines_add(ls, 0);
		view_seg(l, ROLE_HEADER, "%-24s%10s%10s%9s%10s%7s",
			 k == 0 ? "Production per day" : "Production per month", "used kWh", "made kWh",
			 "coverage", "self kWh", "self");
		for (i = 0; i < cs->n && i < ps->n; i++) {
			double cons = used[i], prod = ps->has[i] ? ps->wh[i] : NAN;

			l = view_lines_add(ls, 2);
			span_label(k == 0 ? K_DAY : K_MONTH, cs->b[i], cs->b[i + 1], a, sizeof(a));
			if (isnan(cons) && isnan(prod)) {
				view_seg(l, ROLE_MUTED, "%-22s%10s", a, "no data");
				continue;
			}
			view_seg(l, ROLE_NORMAL, "%-22s%10s%10s%9s%10s%7s", a,
				 isnan(cons) ? "-" : view_fixed(cons / 1000, 1, b, sizeof(b)),
				 isnan(prod) ? "-" : view_fixed(prod / 1000, 1, c, sizeof(c)),
				 pct_text(prod, cons, d, sizeof(d)),
				 isnan(self[i]) ? "-" : view_fixed(self[i] / 1000, 1, e, sizeof(e)),
				 pct_text(self[i], prod, g, sizeof(g)));
		}
	}
}

/* The prices the costs are at: the series' meter's utility, or the site's
 * (electricity, and gas or heat when it has its own). */
static void price_note(const struct config *cfg, const struct histjob_result *res,
		       struct view_line *l)
{
	char a[64];
	int u = res->req.meter >= 0 ? cfg->meters[res->req.meter].utility : UTILITY_ELECTRICITY;
	double price = config_price(cfg, u);

	if (isfinite(price))
		view_seg(l, ROLE_MUTED, "; %s/kWh", fmt_money(price, cfg->site.currency, a, sizeof(a)));
	else if (u == UTILITY_ELECTRICITY || u == UTILITY_GAS)
		view_seg(l, ROLE_MUTED, "; no [site] price_per_kwh");
	else
		view_seg(l, ROLE_MUTED, "; no [site] price_%s", utility_name((enum utility)u));
	if (res->req.meter < 0 && isfinite(cfg->site.price[UTILITY_GAS]))
		view_seg(l, ROLE_MUTED, ", gas %s/kWh",
			 fmt_money(cfg->site.price[UTILITY_GAS], cfg->site.currency, a, sizeof(a)));
}

static void energy_lines(struct ui *ui, const struct histjob_result *res, struct view_lines *ls)
{
	const struct config *cfg = cfg_of(ui);
	struct view_line *l;
	char a[64], b[64], c[64], d[64];
	int k;
	size_t i;
	bool any_partial = false;

	l = view_lines_add(ls, 0);
	if (res->counters == 0) {
		view_seg(l, ROLE_WARNING, "No energy: %s has no e_imp counter in the buffer over this range.",
			 res->req.meter < 0 ? "no meter of the site" : "this meter");
		return;
	}
	if (res->req.meter < 0)
		view_seg(l, ROLE_MUTED, "From the e_imp counters of %zu meter%s", res->counters,
			 res->counters == 1 ? "" : "s");
	else
		view_seg(l, ROLE_MUTED, "From the e_imp counter");
	price_note(cfg, res, l);
	if (isfinite(cfg->site.co2_per_kwh))
		view_seg(l, ROLE_MUTED, ", %s kg CO2/kWh",
			 view_fixed(cfg->site.co2_per_kwh, 3, b, sizeof(b)));
	else
		view_seg(l, ROLE_MUTED, ", no [site] co2_per_kwh");
	/* days first: the shifts' table is the longest */
	for (int o = 0; o < K__COUNT; o++) {
		static const enum span_kind order[] = { K_DAY, K_WEEK, K_MONTH, K_SHIFT };
		const struct history_spans *s;

		k = (int)order[o];
		s = spans_of(res, (enum span_kind)k);

		view_lines_add(ls, 0);
		l = view_lines_add(ls, 0);
		view_seg(l, ROLE_HEADER, "%-26s%12s%16s%10s", k == K_SHIFT ? "Per shift"
							      : k == K_DAY   ? "Per day"
							      : k == K_WEEK  ? "Per week"
									     : "Per month",
			 "kWh", "cost", "CO2 kg");
		if (k == K_SHIFT && !res->shifts_on) {
			l = view_lines_add(ls, 2);
			view_seg(l, ROLE_MUTED,
				 "no shifts configured: add [site] shifts = 06:00, 14:00, 22:00");
			continue;
		}
		for (i = 0; i < s->n; i++) {
			double kwh = s->wh[i] / 1000;
			bool part = span_partial(s, i, (enum span_kind)k, res->req.now_us);

			any_partial |= part;
			l = view_lines_add(ls, 2);
			span_label((enum span_kind)k, s->b[i], s->b[i + 1], a, sizeof(a));
			if (!s->has[i]) {
				view_seg(l, ROLE_MUTED, "%-24s%12s", a, "no data");
				continue;
			}
			money(cfg, cost_of(res, (enum span_kind)k, i), c, sizeof(c));
			co2(cfg, kwh, d, sizeof(d));
			view_seg(l, ROLE_NORMAL, "%-24s%12s%16s%10s", a, view_fixed(kwh, 1, b, sizeof(b)),
				 c, d);
			if (part)
				view_seg(l, ROLE_MUTED, " *");
		}
	}
	if (res->producers > 0)
		production_lines(res, ls);
	if (any_partial) {
		view_lines_add(ls, 0);
		l = view_lines_add(ls, 0);
		view_seg(l, ROLE_MUTED, "* part of it: cut by the range, or still running");
	}
}

static void demand_lines(struct ui *ui, const struct histjob_result *res, struct view_lines *ls)
{
	struct view_line *l;
	char a[64], b[64], c[64], d[64];
	int k;
	size_t i;

	(void)ui;
	l = view_lines_add(ls, 0);
	view_seg(l, ROLE_MUTED, "Peak demand: the mean power of each %s interval ([forecast] interval)",
		 step_text(res->interval_us, a, sizeof(a)));
	l = view_lines_add(ls, 0);
	if (res->counters == 0) {
		view_seg(l, ROLE_WARNING, "No demand: no e_imp counter in the buffer over this range.");
		return;
	}
	if (res->req.meter >= 0)
		view_seg(l, ROLE_MUTED, "contract_power is the site's: not compared for a meter");
	else if (!isfinite(res->contract_w))
		view_seg(l, ROLE_MUTED, "no [site] contract_power to compare with");
	else
		view_seg(l, ROLE_MUTED, "against the contract: %s kW",
			 view_kw(res->contract_w, a, sizeof(a)));
	for (k = 0; k < 2; k++) {
		const struct history_spans *s = k == 0 ? &res->days : &res->months;

		view_lines_add(ls, 0);
		l = view_lines_add(ls, 0);
		view_seg(l, ROLE_HEADER, "%-20s%10s  %-16s%10s%10s", k == 0 ? "Per day" : "Per month",
			 "peak kW", "at", "over", "time over");
		for (i = 0; i < s->n; i++) {
			const struct history_peak *p = &s->peak[i];

			l = view_lines_add(ls, 2);
			span_label(k == 0 ? K_DAY : K_MONTH, s->b[i], s->b[i + 1], a, sizeof(a));
			if (!isfinite(p->max_w)) {
				view_seg(l, ROLE_MUTED, "%-18s%10s", a, "no data");
				continue;
			}
			local_fmt(p->at_us, k == 0 ? "%H:%M" : "%a %d %H:%M", c, sizeof(c));
			if (isfinite(res->contract_w))
				snprintf(d, sizeof(d), "%zu", p->over);
			else
				snprintf(d, sizeof(d), "-");
			view_seg(l, p->over > 0 ? ROLE_WARNING : ROLE_NORMAL, "%-18s%10s  %-16s%10s",
				 a, view_kw(p->max_w, b, sizeof(b)), c, d);
			if (isfinite(res->contract_w))
				view_seg(l, p->over > 0 ? ROLE_WARNING : ROLE_NORMAL, "%8s h",
					 view_fixed((double)p->over_us / (double)HOUR_US, 2, b, sizeof(b)));
		}
	}
}

static void draw_lines_page(struct ui *ui, struct view_history_state *st,
			    const struct view_lines *ls, int y, int rows, int width)
{
	long i, room = rows - y;

	st->lines = (long)ls->n;
	if (st->scroll > st->lines - room)
		st->scroll = st->lines - room;
	if (st->scroll < 0)
		st->scroll = 0;
	for (i = st->scroll; i < (long)ls->n && y < rows; i++, y++)
		view_line_draw(ui->body, y, 0, width, &ls->v[i]);
	if (st->scroll > 0 || (long)ls->n > st->scroll + room)
		draw_text_right(ui->body, rows - 1, 0, width, ROLE_MUTED, "Up/Down more");
}

static void draw_alarms_page(struct ui *ui, const struct histjob_result *res, int y, int rows,
			     int width)
{
	WINDOW *w = ui->body;
	double v[24], max = 0;
	int bar_w = (width - AXIS_W) / 24 - 1, h = rows - y - 2, i;
	char a[32];

	for (i = 0; i < 24; i++) {
		v[i] = res->alarm_hours[i];
		if (v[i] > max)
			max = v[i];
	}
	draw_textf(w, y++, 0, width, ROLE_HEADER, "Alarm raises by hour of day over the range: %zu%s",
		   res->raises,
		   res->req.meter >= 0 ? " (this meter's)" : " (every meter)");
	if (bar_w < 1)
		bar_w = 1;
	if (bar_w > 6)
		bar_w = 6;
	if (h < 2)
		return;
	snprintf(a, sizeof(a), "%.0f", max);
	draw_text_right(w, y, 0, AXIS_W - 1, ROLE_MUTED, a);
	draw_text_right(w, y + h - 1, 0, AXIS_W - 1, ROLE_MUTED, "0");
	draw_bars(w, y, AXIS_W, h, bar_w, v, 24, max > 0 ? max : 1, ROLE_WARNING);
	for (i = 0; i < 24; i += bar_w >= 2 ? 2 : 3) {
		snprintf(a, sizeof(a), "%02d", i);
		draw_text(w, y + h, AXIS_W + i * (bar_w + 1), 2, ROLE_MUTED, a);
	}
}

static void history_draw(struct ui *ui, void *state)
{
	struct view_history_state *st = state;
	WINDOW *w = ui->body;
	int rows = getmaxy(w), width = getmaxx(w), last = rows - 1;
	const struct histjob_result *res;
	struct view_lines ls = { 0 };

	if (ui->plant->history == NULL) {
		view_paragraph(w, 0, 0, width, 3, ROLE_MUTED,
			       "No history: there is no buffer ([store] path) to read it from.");
		return;
	}
	fit_qty(ui, st);
	ask(ui, st, width);
	res = histjob_take(ui->plant->history);
	draw_head(ui, st, res, width);
	/* the bottom line: a prompt, the last key's feedback, or the keys */
	if (st->prompt != 0) {
		draw_textf(w, last, 0, width, ROLE_ACCENT, "%s: %s_",
			   st->prompt == 1 ? "From (today, yesterday, -2h, 2026-12-01 06:00)"
					   : "To (Enter: now)",
			   st->input);
	} else if (st->message[0] != '\0') {
		draw_text(w, last, 0, width, st->message_error ? ROLE_ALARM : ROLE_OK, st->message);
	} else {
		draw_text(w, last, 0, width, ROLE_MUTED,
			  "m series  w quantity  o overlay  r range  z x zoom  p page  e CSV  ? help");
	}
	if (res == NULL) {
		draw_text(w, 3, 0, width, ROLE_MUTED, "Reading the buffer...");
		return;
	}
	if (res->failed) {
		view_paragraph(w, 3, 0, width, 3, ROLE_ALARM, res->error);
		return;
	}
	switch (st->page) {
	case P_CHART:
		draw_chart_page(ui, st, res, 2, last, width);
		break;
	case P_ENERGY:
		energy_lines(ui, res, &ls);
		draw_lines_page(ui, st, &ls, 2, last, width);
		break;
	case P_DEMAND:
		demand_lines(ui, res, &ls);
		draw_lines_page(ui, st, &ls, 2, last, width);
		break;
	default:
		draw_alarms_page(ui, res, 2, last, width);
		break;
	}
	view_lines_free(&ls);
}

/* ---- the CSV file ---- */

static void csv_num(FILE *f, double v)
{
	char b[64];

	if (isfinite(v)) {
		csv_double(v, b, sizeof(b));
		fputs(b, f);
	}
	fputc(',', f);
}

static void csv_time(FILE *f, int64_t t)
{
	char b[64];

	local_fmt(t, "%Y-%m-%dT%H:%M:%S%z", b, sizeof(b));
	csv_field(f, b);
	fputc(',', f);
}

static void csv_head(FILE *f, const char *section, const char *meter, unsigned qty,
		     int64_t a, int64_t b)
{
	csv_field(f, section);
	fputc(',', f);
	csv_field(f, meter);
	fputc(',', f);
	csv_field(f, qty_name(qty));
	fputc(',', f);
	csv_field(f, qty_unit(qty));
	fputc(',', f);
	csv_time(f, a);
	csv_time(f, b);
}

static void write_cols(FILE *f, const char *section, const char *meter, const struct histjob_result *res,
		       const struct history_col *cols)
{
	size_t k;

	for (k = 0; k < res->req.ncols; k++) {
		const struct history_col *c = &cols[k];

		csv_head(f, section, meter, res->req.qty, c->from_us, c->to_us);
		csv_num(f, c->min);
		csv_num(f, c->mean);
		csv_num(f, c->max);
		fprintf(f, "%llu,", (unsigned long long)c->samples);
		csv_num(f, c->coverage);
		fputs(",,,,,,,\n", f);
	}
}

static void write_csv(const struct ui *ui, const struct histjob_result *res, FILE *f)
{
	const struct config *cfg = cfg_of(ui);
	const char *meter = series_name(ui, res->req.meter);
	int k;
	size_t i;

	fputs("section,meter,quantity,unit,from,to,min,mean,max,samples,coverage,kwh,cost,co2_kg,"
	      "peak_kw,peak_at,intervals_over,hours_over,raises\n", f);
	write_cols(f, "column", meter, res, res->cols);
	if (res->ocols != NULL)
		write_cols(f, "overlay", series_name(ui, res->req.overlay), res, res->ocols);
	for (k = 0; k < K__COUNT && res->counters > 0; k++) {
		const struct history_spans *s = spans_of(res, (enum span_kind)k);

		for (i = 0; i < s->n; i++) {
			double kwh = s->has[i] ? s->wh[i] / 1000 : NAN;

			csv_head(f, kind_names[k], meter, QTY_E_IMP, s->b[i], s->b[i + 1]);
			fputs(",,,,,", f);
			csv_num(f, kwh);
			csv_num(f, cost_of(res, (enum span_kind)k, i));
			csv_num(f, kwh * cfg->site.co2_per_kwh);
			fputs(",,,,\n", f);
		}
	}
	for (k = 0; k < 2 && res->counters > 0; k++) {
		const struct history_spans *s = k == 0 ? &res->days : &res->months;

		for (i = 0; i < s->n; i++) {
			const struct history_peak *p = &s->peak[i];

			csv_head(f, k == 0 ? "peak_day" : "peak_month", meter, QTY_P_TOTAL, s->b[i],
				 s->b[i + 1]);
			fputs(",,,,,,,,", f);
			csv_num(f, p->max_w / 1000);
			if (isfinite(p->max_w))
				csv_time(f, p->at_us);
			else
				fputc(',', f);
			if (isfinite(res->contract_w))
				fprintf(f, "%zu,", p->over);
			else
				fputc(',', f);
			csv_num(f, isfinite(res->contract_w) ? (double)p->over_us / (double)HOUR_US : NAN);
			fputs("\n", f);
		}
	}
	/* production rows: kwh produced, then the part used on site */
	for (k = 0; k < 2 && res->producers > 0; k++) {
		const struct history_spans *s = k == 0 ? &res->pdays : &res->pmonths;
		const double *self = k == 0 ? res->self_days : res->self_months;

		for (i = 0; i < s->n; i++) {
			csv_head(f, k == 0 ? "production_day" : "production_month", meter, QTY_E_IMP,
				 s->b[i], s->b[i + 1]);
			fputs(",,,,,", f);
			csv_num(f, s->has[i] ? s->wh[i] / 1000 : NAN);
			fputs(",,,,,,\n", f);
			csv_head(f, k == 0 ? "self_day" : "self_month", meter, QTY_E_IMP, s->b[i],
				 s->b[i + 1]);
			fputs(",,,,,", f);
			csv_num(f, self[i] / 1000);
			fputs(",,,,,,\n", f);
		}
	}
	/* with a grid connection: its export, and the consumption G + P - X */
	for (k = 0; k < 2 && res->producers > 0 && res->grid; k++) {
		const struct history_spans *x = k == 0 ? &res->xdays : &res->xmonths;
		const double *cons = k == 0 ? res->cons_days : res->cons_months;

		for (i = 0; i < x->n; i++) {
			csv_head(f, k == 0 ? "export_day" : "export_month", meter, QTY_E_EXP, x->b[i],
				 x->b[i + 1]);
			fputs(",,,,,", f);
			csv_num(f, x->has[i] ? x->wh[i] / 1000 : NAN);
			fputs(",,,,,,\n", f);
			csv_head(f, k == 0 ? "consumption_day" : "consumption_month", meter, QTY_E_IMP,
				 x->b[i], x->b[i + 1]);
			fputs(",,,,,", f);
			csv_num(f, cons[i] / 1000);
			fputs(",,,,,,\n", f);
		}
	}
	for (k = 0; k < 24; k++) {
		char h[16];

		snprintf(h, sizeof(h), "%02d:00", k);
		fputs("alarm_hour,", f);
		csv_field(f, meter);
		fputs(",,,", f);
		csv_field(f, h); /* from: the local hour */
		fprintf(f, ",,,,,,,,,,,,,,%u\n", res->alarm_hours[k]);
	}
}

/* A name safe in a file name: letters, digits, '.', '-', '_' (else '_'). */
static void file_part(const char *s, char *out, size_t size)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		out[i] = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
				 (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'
			 ? s[i]
			 : '_';
	out[i] = '\0';
	if (out[0] == '.')
		out[0] = '_';
}

static void export(struct ui *ui, struct view_history_state *st)
{
	const struct histjob_result *res = histjob_take(ui->plant->history);
	char m[80], a[32], b[32], base[200], path[256], cwd[512];
	int fd = -1, k;
	FILE *f;

	if (res == NULL || res->failed) {
		snprintf(st->message, sizeof(st->message), "nothing to write yet");
		st->message_error = true;
		return;
	}
	file_part(series_name(ui, res->req.meter), m, sizeof(m));
	local_fmt(res->req.from_us, "%Y%m%dT%H%M", a, sizeof(a));
	local_fmt(res->req.to_us, "%Y%m%dT%H%M", b, sizeof(b));
	snprintf(base, sizeof(base), "phasor-history-%s-%s-%s-%s", m, qty_name(res->req.qty), a, b);
	/* never over another file: -2, -3 ... */
	for (k = 1; k < 1000 && fd < 0; k++) {
		if (k == 1)
			snprintf(path, sizeof(path), "%s.csv", base);
		else
			snprintf(path, sizeof(path), "%s-%d.csv", base, k);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(st->message, sizeof(st->message), "cannot write %s: %s", path, strerror(errno));
		st->message_error = true;
		if (fd >= 0)
			close(fd);
		return;
	}
	write_csv(ui, res, f);
	if (fclose(f) != 0) {
		snprintf(st->message, sizeof(st->message), "cannot write %s: %s", path, strerror(errno));
		st->message_error = true;
		return;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		snprintf(cwd, sizeof(cwd), ".");
	/* the name first: it is what fits at 80 columns */
	snprintf(st->message, sizeof(st->message), "wrote %s in %s", path, cwd);
	st->message_error = false;
}

/* ---- keys ---- */

/* The column under the cursor's middle time, after a change of range. */
static void zoom(struct ui *ui, struct view_history_state *st, bool in)
{
	int64_t span = st->to_us - st->from_us, ns = in ? span / 2 : span * 2, mid;
	long n = st->ncols > 0 ? st->ncols : 1, cur = st->cursor < n ? st->cursor : n - 1;

	(void)ui;
	if (ns < MIN_SPAN_US)
		ns = MIN_SPAN_US;
	if (ns > MAX_SPAN_US)
		ns = MAX_SPAN_US;
	mid = st->from_us + span * (2 * cur + 1) / (2 * n);
	st->from_us = (mid - ns / 2) / MIN_US * MIN_US;
	st->to_us = st->from_us + ns;
	st->range = R_CUSTOM;
	/* the cursor stays on that time */
	st->cursor = (long)((mid - st->from_us) * n / ns);
}

static void pan(struct view_history_state *st, int64_t by)
{
	st->from_us += by;
	st->to_us += by;
	st->range = R_CUSTOM;
}

static int prompt_key(struct ui *ui, struct view_history_state *st, int ch)
{
	size_t len = strlen(st->input);
	int64_t t;

	if (ch == 27) {
		st->prompt = 0;
	} else if (view_is_backspace(ch)) {
		if (len > 0)
			st->input[len - 1] = '\0';
	} else if (view_is_enter(ch)) {
		const char *text = st->input[0] != '\0' || st->prompt == 1 ? st->input : "now";

		if (util_parse_time(text, ui->plant->now_us, &t) < 0) {
			snprintf(st->message, sizeof(st->message),
				 "not a time: '%s' (today, yesterday, -2h, 2026-12-01 06:00, ISO)",
				 st->input);
			st->message_error = true;
			st->prompt = 0;
		} else if (st->prompt == 1) {
			st->typed_from = t;
			st->prompt = 2;
			st->input[0] = '\0';
		} else if (t - st->typed_from < MIN_SPAN_US || t - st->typed_from > MAX_SPAN_US) {
			snprintf(st->message, sizeof(st->message),
				 "a range is 10 minutes to 400 days long, TO after FROM");
			st->message_error = true;
			st->prompt = 0;
		} else {
			st->from_us = st->typed_from;
			st->to_us = t;
			st->range = R_CUSTOM;
			st->anchored = true;
			st->cursor = LONG_MAX;
			st->prompt = 0;
		}
	} else if (ch >= 32 && ch < 127 && len + 1 < sizeof(st->input)) {
		st->input[len] = (char)ch;
		st->input[len + 1] = '\0';
	}
	return UI_HANDLED | UI_REDRAW;
}

/* The next series (site, then meters) or overlay (none, then meters). */
static long step_meter(const struct ui *ui, long cur, int dir, long skip)
{
	long n = (long)cfg_of(ui)->nmeters, i, v = cur;

	for (i = 0; i <= n; i++) {
		v += dir;
		if (v > n - 1)
			v = -1;
		if (v < -1)
			v = n - 1;
		if (v != skip || v == -1)
			return v;
	}
	return cur;
}

static int history_key(struct ui *ui, void *state, int ch)
{
	struct view_history_state *st = state;
	long n;

	if (st->prompt != 0)
		return prompt_key(ui, st, ch);
	/* keys may come before the first frame of the range: its columns as
	 * that frame will have them, the cursor on the present or the end */
	if (!st->anchored)
		apply_preset(ui, st);
	st->ncols = chart_cols(st, ui->body != NULL ? getmaxx(ui->body) : ui->cols);
	n = st->ncols;
	if (st->cursor == LONG_MAX) {
		int64_t now = ui->plant->now_us;

		st->cursor = now >= st->from_us && now < st->to_us
				     ? (long)((now - st->from_us) * n / (st->to_us - st->from_us))
				     : n - 1;
	}
	if (ch != KEY_RESIZE)
		st->message[0] = '\0';
	switch (ch) {
	case 'm':
	case 'M':
		st->meter = step_meter(ui, st->meter, ch == 'm' ? 1 : -1, -2);
		if (st->overlay == st->meter)
			st->overlay = -1;
		fit_qty(ui, st);
		break;
	case 'o':
	case 'O':
		st->overlay = step_meter(ui, st->overlay, ch == 'o' ? 1 : -1, st->meter);
		break;
	case 'w':
	case 'W':
		st->qty = next_qty(ui, st->meter, st->qty, ch == 'w' ? 1 : -1);
		break;
	case 'r':
	case 'R':
		st->range = st->range >= R__PRESETS ? (ch == 'r' ? 0 : R__PRESETS - 1)
						    : (st->range + (ch == 'r' ? 1 : R__PRESETS - 1)) %
							      R__PRESETS;
		apply_preset(ui, st);
		break;
	case 'c':
		st->prompt = 1;
		st->input[0] = '\0';
		break;
	case 'z':
	case 'x':
		zoom(ui, st, ch == 'z');
		break;
	case KEY_LEFT:
	case 'h':
		if (st->cursor > n - 1)
			st->cursor = n - 1;
		if (st->cursor > 0)
			st->cursor--;
		else
			pan(st, -(st->to_us - st->from_us) / n);
		break;
	case KEY_RIGHT:
	case 'l':
		if (st->cursor < n - 1)
			st->cursor++;
		else
			pan(st, (st->to_us - st->from_us) / n);
		break;
	case KEY_PPAGE:
	case KEY_NPAGE:
		pan(st, (ch == KEY_NPAGE ? 1 : -1) * ((st->to_us - st->from_us) / 2 / MIN_US * MIN_US));
		break;
	case 'p':
	case 'P':
		st->page = (st->page + (ch == 'p' ? 1 : P__COUNT - 1)) % P__COUNT;
		st->scroll = 0;
		break;
	case KEY_UP:
	case 'k':
		if (st->scroll > 0)
			st->scroll--;
		break;
	case KEY_DOWN:
	case 'j':
		st->scroll++;
		break;
	case 'e':
		export(ui, st);
		break;
	default:
		return UI_IGNORED;
	}
	return UI_HANDLED | UI_REDRAW;
}

static void *history_init(const struct plant *p)
{
	struct view_history_state *st = util_calloc(1, sizeof(*st));

	(void)p;
	st->meter = -1;
	st->overlay = -1;
	st->qty = QTY_P_TOTAL;
	st->range = R_TODAY;
	st->cursor = LONG_MAX;
	return st;
}

static void history_free(void *state)
{
	free(state);
}

static const char *const history_help[] = {
	"m M         series: site total, then each meter / back",
	"w W         quantity: next / previous of the series",
	"o O         overlay a second meter / back (none first)",
	"r R  c      range preset next / back; c types FROM, TO",
	"Left Right  cursor (h l); past an edge the range moves",
	"PgUp PgDn   pan half a range;  z x  zoom in / out",
	"p P         chart, energy, demand, alarms (Up Down)",
	"e           write what is shown to a CSV file",
	"chart       : min-max  - mean  * overlay  | cursor",
	NULL,
};

const struct view_ops view_history_ops = {
	.name = "History",
	.hotkey = '6',
	.init = history_init,
	.free = history_free,
	.draw = history_draw,
	.key = history_key,
	.help = history_help,
};
