// SPDX-License-Identifier: MIT
/*
 * view_common: the pieces the console's views share. view_snap() decides
 * how a meter is shown: the comm state from view_meter_comm(), whether its
 * values are live, and the analysis of its latest values. A meter whose
 * data is old keeps its last known figures, analysed as of its newest
 * sample, and every view draws them in ROLE_STALE beside the word "stale"
 * or "down", so nothing old ever looks live.
 *
 * The line builder lets a view compose a line of segments in different
 * roles ("PF " muted, "0.75" normal, "poor" alarm...) and draw it cut to
 * whatever width the terminal gives; the meter and sources views lay out
 * their panels with it.
 */
#include "phasor/view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/alarm.h"
#include "phasor/fmt.h"
#include "phasor/util.h"

enum comm_status view_meter_comm(const struct ui *ui, const struct live_meter *m)
{
	/* An MQTT meter's source decides; a meter never heard from is unknown. */
	return plant_meter_comm(ui->plant, m);
}

enum theme_role view_role_tier(enum pf_tier t)
{
	switch (t) {
	case PF_EXCELLENT:
	case PF_GOOD:
		return ROLE_OK;
	case PF_ACCEPTABLE:
		return ROLE_WARNING;
	case PF_POOR:
		return ROLE_ALARM;
	case PF_CRITICAL:
		return ROLE_CRITICAL;
	case PF_UNKNOWN:
		break;
	}
	return ROLE_MUTED;
}

enum theme_role view_role_comm(enum comm_status s)
{
	switch (s) {
	case COMM_OK:
		return ROLE_OK;
	case COMM_STALE:
		return ROLE_STALE;
	case COMM_DOWN:
		return ROLE_CRITICAL;
	case COMM_UNKNOWN:
		break;
	}
	return ROLE_MUTED;
}

enum theme_role view_role_risk(enum risk_level l)
{
	switch (l) {
	case RISK_NORMAL:
		return ROLE_OK;
	case RISK_MINOR:
		return ROLE_WARNING;
	case RISK_MAJOR:
		return ROLE_ALARM;
	case RISK_CRITICAL:
		return ROLE_CRITICAL;
	}
	return ROLE_MUTED;
}

static bool snap(const struct ui *ui, size_t meter, struct view_snap *s, bool words)
{
	const struct plant *p = ui->plant;
	const struct live_meter *m = live_meter_const(p->live, meter);

	memset(s, 0, sizeof(*s));
	s->index = meter;
	analysis_input_clear(&s->in);
	analysis_defaults(&s->par);
	s->as_of_us = p->now_us;
	if (m == NULL) {
		s->comm = COMM_UNKNOWN;
		s->stale = true;
		s->never = true;
		analysis_compute(&s->in, &s->par, &s->res);
		return false;
	}
	s->m = m;
	s->comm = view_meter_comm(ui, m);
	s->never = m->last_sample_us == 0;
	s->stale = s->never || live_meter_stale(m, p->now_us) || s->comm == COMM_STALE ||
		   s->comm == COMM_DOWN;
	/* Old data: the figures as they were at the newest sample. */
	if (!s->never && live_meter_stale(m, p->now_us))
		s->as_of_us = m->last_sample_us;
	live_analysis_input(m, s->as_of_us, &s->in);
	live_analysis_params(m, p->cfg, &s->par);
	if (words)
		analysis_compute(&s->in, &s->par, &s->res);
	else
		analysis_compute_figures(&s->in, &s->par, &s->res);
	return true;
}

bool view_snap(const struct ui *ui, size_t meter, struct view_snap *s)
{
	return snap(ui, meter, s, true);
}

bool view_snap_figures(const struct ui *ui, size_t meter, struct view_snap *s)
{
	return snap(ui, meter, s, false);
}

enum theme_role view_role(const struct view_snap *s, enum theme_role role)
{
	return s->stale ? ROLE_STALE : role;
}

enum draw_symbol view_comm_symbol(enum comm_status c)
{
	switch (c) {
	case COMM_OK: return SYM_OK;
	case COMM_STALE: return SYM_STALE;
	case COMM_DOWN: return SYM_DOWN;
	case COMM_UNKNOWN: break;
	}
	return SYM_UNKNOWN;
}

enum draw_symbol view_risk_symbol(enum risk_level l)
{
	switch (l) {
	case RISK_CRITICAL: return SYM_ALARM;
	case RISK_MAJOR:
	case RISK_MINOR: return SYM_WARNING;
	case RISK_NORMAL: break;
	}
	return SYM_OK;
}

bool view_is_enter(int ch)
{
	return ch == '\n' || ch == '\r' || ch == KEY_ENTER;
}

bool view_is_backspace(int ch)
{
	return ch == KEY_BACKSPACE || ch == 127 || ch == 8;
}

struct alarm_engine *view_alarm_engine(const struct ui *ui)
{
	return ui->plant->alarms;
}

enum theme_role view_prio_role(int priority)
{
	switch (priority) {
	case PRIO_CRITICAL: return ROLE_CRITICAL;
	case PRIO_HIGH: return ROLE_ALARM;
	case PRIO_MEDIUM: return ROLE_WARNING;
	case PRIO_LOW: return ROLE_NORMAL;
	default: return ROLE_MUTED;
	}
}

const char *view_tier_short(enum pf_tier t)
{
	switch (t) {
	case PF_EXCELLENT: return "exc.";
	case PF_GOOD: return "good";
	case PF_ACCEPTABLE: return "acc.";
	case PF_POOR: return "poor";
	case PF_CRITICAL: return "crit";
	case PF_UNKNOWN: break;
	}
	return "-";
}

char *view_fixed(double v, int prec, char *buf, size_t size)
{
	static const double p10[] = { 1, 10, 100, 1000, 10000 };
	double x;
	long long n;

	if (prec < 0)
		prec = 0;
	if (prec > 4)
		prec = 4;
	if (isnan(v)) {
		snprintf(buf, size, "-");
		return buf;
	}
	x = fabs(v) * p10[prec];
	if (!isfinite(x) || x >= 9e15) {
		/* "%.0f" prints no radix character in any locale. */
		if (isinf(v))
			snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
		else
			snprintf(buf, size, "%.0f", v);
		return buf;
	}
	n = llround(x);
	if (prec == 0)
		snprintf(buf, size, "%s%lld", v < 0 && n > 0 ? "-" : "", n);
	else
		snprintf(buf, size, "%s%lld.%0*lld", v < 0 && n > 0 ? "-" : "",
			 n / (long long)p10[prec], prec, n % (long long)p10[prec]);
	return buf;
}

char *view_kw(double w, char *buf, size_t size)
{
	double kw = w / 1000.0;

	/* The precision is chosen on the rounded value: 9.996 kW is "10.0". */
	if (fabs(kw) < 9.995)
		return view_fixed(kw, 2, buf, size);
	if (fabs(kw) < 999.95)
		return view_fixed(kw, 1, buf, size);
	return view_fixed(kw, 0, buf, size);
}

char *view_ms(int32_t us, char *buf, size_t size)
{
	char n[32];

	if (us < 0)
		snprintf(buf, size, "-");
	else if (us < 100)
		snprintf(buf, size, "<0.1 ms");
	else
		snprintf(buf, size, "%s ms", view_fixed(us / 1000.0, us < 9950 ? 1 : 0, n, sizeof(n)));
	return buf;
}

char *view_hhmm(int64_t t_us, char *buf, size_t size)
{
	time_t t = (time_t)(t_us / 1000000);
	struct tm tm;

	if (t_us <= 0 || localtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%02d:%02d", tm.tm_hour, tm.tm_min);
	return buf;
}

char *view_risk_numbers(const struct analysis_risk *rk, char *buf, size_t size)
{
	/* A risk is a value beyond its limit: the value's digits stay beyond
	 * it (fmt_against), the limit is printed as it is. */
	const struct fmt_limit lim = { rk->limit, rk->value > rk->limit };
	unsigned qty;
	char a[32], b[32];

	switch (rk->kind) {
	case RISK_OVERLOAD:
		qty = QTY_P_TOTAL;
		break;
	case RISK_POOR_PF:
		fmt_against(rk->value, &lim, 1, 3, a, sizeof(a));
		view_fixed(rk->limit, 2, b, sizeof(b));
		snprintf(buf, size, "%s, limit %s", a, b);
		return buf;
	case RISK_UNBALANCE:
	case RISK_THD:
		qty = QTY_THD_V_L1; /* a percentage */
		break;
	case RISK_FREQUENCY:
		qty = QTY_FREQ;
		break;
	case RISK_LOW_VOLTAGE:
	case RISK_HIGH_VOLTAGE:
		qty = QTY_V_L12;
		break;
	default: /* phase loss: an L-N voltage */
		qty = QTY_V_L1N;
		break;
	}
	fmt_qty_against(qty, rk->value, &lim, 1, a, sizeof(a));
	fmt_qty(qty, rk->limit, b, sizeof(b));
	snprintf(buf, size, "%s, limit %s", a, b);
	return buf;
}

int view_paragraph(WINDOW *w, int y, int x, int width, int maxlines, enum theme_role r,
		   const char *text)
{
	const char *s = text;
	int lines = 0;

	if (width < 1)
		return 0;
	while (*s != '\0' && lines < maxlines) {
		int len = (int)strlen(s), cut = len;
		char buf[512];

		if (len > width && lines < maxlines - 1) {
			cut = width;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = width;
		}
		if (cut >= (int)sizeof(buf))
			cut = (int)sizeof(buf) - 1;
		memcpy(buf, s, (size_t)cut);
		buf[cut] = '\0';
		draw_text(w, y + lines, x, width, r, buf);
		s += cut;
		while (*s == ' ')
			s++;
		lines++;
	}
	return lines;
}

int view_draw_comm(WINDOW *w, int y, int x, int width, enum comm_status c)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s %s", draw_symbol(view_comm_symbol(c)),
		 source_comm_name(c));
	return draw_text(w, y, x, width, view_role_comm(c), buf);
}

/* ---- lines of segments ---- */

struct view_line *view_lines_add(struct view_lines *ls, int indent)
{
	struct view_line *l;

	if (ls->n == ls->cap) {
		ls->cap = ls->cap != 0 ? ls->cap * 2 : 32;
		ls->v = util_reallocarray(ls->v, ls->cap, sizeof(*ls->v));
	}
	l = &ls->v[ls->n++];
	l->n = 0;
	l->indent = indent;
	return l;
}

void view_lines_free(struct view_lines *ls)
{
	free(ls->v);
	ls->v = NULL;
	ls->n = ls->cap = 0;
}

void view_seg(struct view_line *l, enum theme_role r, const char *fmt, ...)
{
	va_list ap;

	if (l->n >= VIEW_SEGS)
		return;
	va_start(ap, fmt);
	vsnprintf(l->seg[l->n].text, VIEW_SEG_LEN, fmt, ap);
	va_end(ap);
	l->seg[l->n].role = r;
	l->n++;
}

int view_line_draw(WINDOW *w, int y, int x, int width, const struct view_line *l)
{
	int used = l->indent < width ? l->indent : width;
	int i;

	for (i = 0; i < l->n && used < width; i++)
		used += draw_text(w, y, x + used, width - used, l->seg[i].role, l->seg[i].text);
	return used;
}

int view_line_width(const struct view_line *l)
{
	int wd = l->indent, i;

	for (i = 0; i < l->n; i++)
		wd += draw_width(l->seg[i].text);
	return wd;
}

void view_lines_scrolled(WINDOW *w, struct listw *list, const struct view_lines *ls)
{
	int rows = getmaxy(w), width = getmaxx(w), y;

	listw_clamp(list, (int)ls->n, rows);
	for (y = 0; y < rows && (size_t)(list->scroll + y) < ls->n; y++)
		view_line_draw(w, y, 0, width, &ls->v[list->scroll + y]);
	if ((size_t)(list->scroll + rows) < ls->n)
		draw_text_right(w, rows - 1, 0, width, ROLE_MUTED, " more below (Down, PgDn) ");
}

const char *const view_scroll_help[] = {
	"Up Down     scroll a line (also k j)",
	"PgUp PgDn   scroll a page",
	"Home End    top / bottom",
	NULL,
};
