// SPDX-License-Identifier: MIT
/*
 * view_placeholder: the trends view (key 4) until the forecast exists. It
 * says what will come, then shows active power over the last hour, one
 * sparkline per meter. It scrolls with its list widget and draws a sensible line
 * on an empty plant.
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

static size_t nmeters(const struct ui *ui)
{
	return ui->plant->cfg != NULL ? ui->plant->cfg->nmeters : 0;
}


/* ---- trends ---- */

static void trends_draw(struct ui *ui, void *state)
{
	struct listw *lw = &((struct view_trends_state *)state)->list;
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
		listw_clamp(lw, 0, lw->page);
		return;
	}
	for (i = 0; i < n; i++)
		if ((int)strlen(ui->plant->cfg->meters[i].name) > nw)
			nw = (int)strlen(ui->plant->cfg->meters[i].name);
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
	listw_clamp(lw, (int)n, page);
	v = util_calloc(TREND_S, sizeof(*v));
	for (y = 0; y < page && lw->scroll + y < (int)n; y++) {
		size_t mi = (size_t)(lw->scroll + y), got, j;
		struct view_snap s;
		double hi = NAN, lo = 0.0;
		char buf[32];
		int yy = head + y;

		view_snap(ui, mi, &s);
		draw_text(w, yy, 0, 1, view_role_comm(s.comm), draw_symbol(view_comm_symbol(s.comm)));
		draw_text(w, yy, 2, nw - 2, ROLE_NORMAL, ui->plant->cfg->meters[mi].name);
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
		got = live_history(s.m, LIVE_HIST_P, ui->plant->now_us, v, TREND_S);
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
	if (lw->scroll + page < (int)n)
		draw_text_right(w, rows - 1, 0, width, ROLE_MUTED, " more below (Down, PgDn) ");
	free(v);
}

static int trends_key(struct ui *ui, void *state, int ch)
{
	(void)ui;
	return listw_scroll_key(&((struct view_trends_state *)state)->list, ch);
}

static void *trends_init(const struct plant *p)
{
	struct view_trends_state *st = util_calloc(1, sizeof(*st));

	(void)p;
	listw_init(&st->list, 0);
	return st;
}

static void trends_free(void *state)
{
	free(state);
}

static void trends_enter(void *state)
{
	listw_top(&((struct view_trends_state *)state)->list);
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
	.init = trends_init,
	.free = trends_free,
	.enter = trends_enter,
	.draw = trends_draw,
	.key = trends_key,
	.help = trends_help,
};
