// SPDX-License-Identifier: MIT
/*
 * view_placeholder: the alarms (key 3) and trends (key 4) views until the
 * alarm system and the forecast exist. Each says what will come, then shows
 * something useful from what exists today:
 *
 * - Alarms: the risks the analysis finds now on every meter (level, meter,
 *   risk, first action), worst first. These are not alarms yet: nothing
 *   is latched, acknowledged or journaled.
 * - Trends: active power over the last hour, one sparkline per meter.
 *
 * Both scroll with ui->scroll and draw a sensible line on an empty plant.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/fmt.h"
#include "phasor/util.h"
#include "phasor/view.h"

#define TREND_S 3600

static int alarms_total, alarms_page = 1;
static int trends_total, trends_page = 1;

static size_t nmeters(const struct ui *ui)
{
	return ui->cfg != NULL ? ui->cfg->nmeters : 0;
}

/* ---- alarms ---- */

struct risk_row {
	size_t meter;
	bool stale;
	enum comm_status comm;
	struct analysis_risk r;
};

static const char *not_live_word(enum comm_status c)
{
	return c == COMM_STALE || c == COMM_DOWN ? source_comm_name(c) : "not live";
}

static int cmp_risk(const void *a, const void *b)
{
	const struct risk_row *x = a, *y = b;

	/* worst first; live before stale; then meter order */
	if (x->r.level != y->r.level)
		return x->r.level > y->r.level ? -1 : 1;
	if (x->stale != y->stale)
		return x->stale ? 1 : -1;
	if (x->meter != y->meter)
		return x->meter < y->meter ? -1 : 1;
	return (int)x->r.kind - (int)y->r.kind;
}

static void alarms_draw(struct ui *ui)
{
	WINDOW *w = ui->body;
	int rows = getmaxy(w), width = getmaxx(w);
	size_t n = nmeters(ui), i, k, nr = 0;
	struct risk_row *rr = util_calloc(n * RISK__COUNT + 1, sizeof(*rr));
	int head, page, y, lw = 10, mw = 8, rw = 17, vw = 0, aw, x;

	head = view_paragraph(w, 0, 0, width, 2, ROLE_ACCENT,
			      "The alarm list (acknowledgement, shelving, journal) arrives with the "
			      "alarm system.");
	head += view_paragraph(w, head, 0, width, 2, ROLE_MUTED,
			       "Meanwhile, what the analysis finds now, worst first (nothing is "
			       "latched yet):");
	head++;
	for (i = 0; i < n; i++) {
		struct view_snap s;

		view_snap(ui, i, &s);
		if (s.never)
			continue;
		for (k = 0; k < s.res.nrisks; k++) {
			rr[nr].meter = i;
			rr[nr].stale = s.stale;
			rr[nr].comm = s.comm;
			rr[nr].r = s.res.risks[k];
			nr++;
		}
	}
	if (n == 0) {
		draw_text(w, head, 0, width, ROLE_MUTED, "No meters are configured.");
		alarms_total = 0;
		free(rr);
		return;
	}
	if (nr == 0) {
		draw_textf(w, head, 0, width, ROLE_OK, "%s No risk found on any of the %zu meters.",
			   draw_symbol(SYM_OK), n);
		alarms_total = 0;
		free(rr);
		return;
	}
	qsort(rr, nr, sizeof(*rr), cmp_risk);

	/* level, meter (and why it is not live), risk, value (>= 120 columns), first action */
	for (k = 0; k < nr; k++) {
		int wd = draw_width(ui->cfg->meters[rr[k].meter].name) +
			 (rr[k].stale ? 2 + draw_width(not_live_word(rr[k].comm)) + 1 : 0);

		if (wd > mw)
			mw = wd;
	}
	if (mw > 28)
		mw = 28;
	if (width >= 120)
		vw = 24;
	aw = width - lw - mw - rw - (vw > 0 ? vw + 1 : 0) - 3;
	if (aw < 12) {
		mw -= 12 - aw;
		aw = 12;
	}
	x = 0;
	draw_text(w, head, x, lw, ROLE_HEADER, "Level");
	draw_text(w, head, x += lw + 1, mw, ROLE_HEADER, "Meter");
	draw_text(w, head, x += mw + 1, rw, ROLE_HEADER, "Risk");
	if (vw > 0)
		draw_text(w, head, x += rw + 1, vw, ROLE_HEADER, "Value");
	draw_text(w, head, x += (vw > 0 ? vw : rw) + 1, aw, ROLE_HEADER, "First action");
	head++;

	page = rows - head;
	alarms_total = (int)nr;
	alarms_page = page;
	view_scroll_clamp(ui, alarms_total, page);
	for (y = 0; y < page && ui->scroll + y < (int)nr; y++) {
		const struct risk_row *r = &rr[ui->scroll + y];
		enum theme_role lr = r->stale ? ROLE_STALE : ui_role_risk(r->r.level);
		enum theme_role tr = r->stale ? ROLE_STALE : ROLE_NORMAL;
		char buf[128];
		int yy = head + y;

		x = 0;
		snprintf(buf, sizeof(buf), "%s %s", draw_symbol(view_risk_symbol(r->r.level)),
			 analysis_risk_level_name(r->r.level));
		draw_text(w, yy, x, lw, lr, buf);
		/* not live: say why ("stale", "down") */
		if (r->stale)
			snprintf(buf, sizeof(buf), "%s %s %s", ui->cfg->meters[r->meter].name,
				 draw_symbol(SYM_STALE), not_live_word(r->comm));
		else
			snprintf(buf, sizeof(buf), "%s", ui->cfg->meters[r->meter].name);
		draw_text(w, yy, x += lw + 1, mw, tr, buf);
		draw_text(w, yy, x += mw + 1, rw, tr, r->r.text);
		if (vw > 0)
			draw_text(w, yy, x += rw + 1, vw, tr, view_risk_numbers(&r->r, buf, sizeof(buf)));
		draw_text(w, yy, x += (vw > 0 ? vw : rw) + 1, aw, tr,
			  r->r.actions != NULL && r->r.actions[0] != NULL ? r->r.actions[0] : "-");
	}
	if (ui->scroll + page < (int)nr)
		draw_text_right(w, rows - 1, 0, width, ROLE_MUTED, " more below (Down, PgDn) ");
	free(rr);
}

static int alarms_key(struct ui *ui, int ch)
{
	return view_scroll_key(ui, ch, alarms_total, alarms_page);
}

static const char *const alarms_help[] = {
	"Up Down     scroll the risk list (also k j)",
	"PgUp PgDn   scroll a page",
	"Home End    top / bottom",
	NULL,
};

const struct view_ops view_alarms_ops = {
	.name = "Alarms",
	.hotkey = '3',
	.draw = alarms_draw,
	.key = alarms_key,
	.help = alarms_help,
};

/* ---- trends ---- */

static void trends_draw(struct ui *ui)
{
	WINDOW *w = ui->body;
	int rows = getmaxy(w), width = getmaxx(w);
	size_t n = nmeters(ui), i;
	int head, page, y, nw = 8, pw = 8, sx, sw, mx;
	double *v;

	head = view_paragraph(w, 0, 0, width, 2, ROLE_ACCENT,
			      "Trends and the load forecast arrive in a later release.");
	head += view_paragraph(w, head, 0, width, 2, ROLE_MUTED,
			       "Meanwhile: active power over the last hour, each meter on its own "
			       "scale.");
	head++;
	if (n == 0) {
		draw_text(w, head, 0, width, ROLE_MUTED, "No meters are configured.");
		trends_total = 0;
		return;
	}
	for (i = 0; i < n; i++)
		if ((int)strlen(ui->cfg->meters[i].name) > nw)
			nw = (int)strlen(ui->cfg->meters[i].name);
	if (nw > 24)
		nw = 24;
	/* comm symbol, name, now kW, sparkline, max kW */
	nw += 2;
	sx = nw + 1 + pw + 1;
	sw = width - sx - pw - 1;
	mx = sx + sw + 1;
	draw_text(w, head, 0, nw, ROLE_HEADER, "  Meter");
	draw_text_right(w, head, nw + 1, pw, ROLE_HEADER, "kW now");
	draw_text(w, head, sx, 5, ROLE_HEADER, "-60m");
	if (sw >= 30)
		draw_text(w, head, sx + sw / 2 - 2, 5, ROLE_HEADER, "-30m");
	draw_text_right(w, head, sx, sw, ROLE_HEADER, "now");
	draw_text_right(w, head, mx, pw, ROLE_HEADER, "kW max");
	head++;

	page = rows - head;
	trends_total = (int)n;
	trends_page = page;
	view_scroll_clamp(ui, trends_total, page);
	v = util_calloc(TREND_S, sizeof(*v));
	for (y = 0; y < page && ui->scroll + y < (int)n; y++) {
		size_t mi = (size_t)(ui->scroll + y), got, j;
		struct view_snap s;
		double hi = NAN, lo = 0.0;
		char buf[32];
		int yy = head + y;

		view_snap(ui, mi, &s);
		draw_text(w, yy, 0, 1, ui_role_comm(s.comm), draw_symbol(view_comm_symbol(s.comm)));
		draw_text(w, yy, 2, nw - 2, ROLE_NORMAL, ui->cfg->meters[mi].name);
		view_kw(s.res.p_total, buf, sizeof(buf));
		if (s.stale && strcmp(buf, "-") != 0) {
			char old[40];

			snprintf(old, sizeof(old), "%s%s", draw_symbol(SYM_STALE), buf);
			draw_text_right(w, yy, nw + 1, pw, ROLE_STALE, old);
		} else {
			draw_text_right(w, yy, nw + 1, pw, ROLE_NORMAL, buf);
		}
		if (s.m == NULL)
			continue;
		got = live_history(s.m, LIVE_HIST_P, ui->now_us, v, TREND_S);
		for (j = 0; j < got; j++) {
			if (isnan(v[j]))
				continue;
			if (v[j] < lo)
				lo = v[j];
			if (isnan(hi) || v[j] > hi)
				hi = v[j];
		}
		if (isnan(hi)) {
			draw_text(w, yy, sx, sw, ROLE_MUTED, "no data in the last hour");
		} else {
			draw_sparkline(w, yy, sx, sw, v, got, lo, hi > lo ? hi : lo + 1.0,
				       view_role(&s, ROLE_CHART));
			draw_text_right(w, yy, mx, pw, view_role(&s, ROLE_MUTED),
					view_kw(hi, buf, sizeof(buf)));
		}
	}
	if (ui->scroll + page < (int)n)
		draw_text_right(w, rows - 1, 0, width, ROLE_MUTED, " more below (Down, PgDn) ");
	free(v);
}

static int trends_key(struct ui *ui, int ch)
{
	return view_scroll_key(ui, ch, trends_total, trends_page);
}

static const char *const trends_help[] = {
	"Up Down     scroll the meters (also k j)",
	"PgUp PgDn   scroll a page",
	"Home End    top / bottom",
	NULL,
};

const struct view_ops view_trends_ops = {
	.name = "Trends",
	.hotkey = '4',
	.draw = trends_draw,
	.key = trends_key,
	.help = trends_help,
};
