// SPDX-License-Identifier: MIT
/*
 * view_trends: view 4, Trends and forecast. For the site and each meter
 * (Up/Down picks): today and tomorrow, the actual so far against the
 * forecast and its 95 % band; the peak forecast against [site]
 * contract_power and the intervals expected over it; the last 7 days'
 * MAPE of the stored forecasts; the hours over contract_power by hour of
 * day; r regenerates now and says how long it took; a forecast older than
 * its data says so. Everything comes from the plant's trend set (trend.h),
 * built off the UI thread by the feed's forecast worker.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/util.h"
#include "phasor/view.h"

#define US INT64_C(1000000)
#define AXIS_W 7

static const struct trend *selected(const struct ui *ui, struct view_trends_state *st)
{
	const struct trend_set *set = ui->plant->trends;

	if (set == NULL || set->n == 0)
		return NULL;
	if (st->sel >= set->n)
		st->sel = set->n - 1;
	return &set->t[st->sel];
}

/* "Thu 03 Dec" of a local instant. */
static char *day_name(int64_t t_us, char *buf, size_t size)
{
	time_t t = (time_t)(t_us / US);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL || strftime(buf, size, "%a %d %b", &tm) == 0)
		snprintf(buf, size, "-");
	return buf;
}

/* "14:48" today, "Wed 14:48" another day. */
static char *when(const struct ui *ui, int64_t t_us, char *buf, size_t size)
{
	time_t a = (time_t)(t_us / US), b = (time_t)(ui->plant->now_us / US);
	struct tm ta, tb;
	char hm[16];

	view_hhmm(t_us, hm, sizeof(hm));
	if (t_us <= 0 || localtime_r(&a, &ta) == NULL || localtime_r(&b, &tb) == NULL)
		snprintf(buf, size, "-");
	else if (ta.tm_yday == tb.tm_yday && ta.tm_year == tb.tm_year)
		snprintf(buf, size, "%s", hm);
	else if (ta.tm_yday == (tb.tm_yday + 1) % (tb.tm_year % 4 == 0 ? 366 : 365))
		snprintf(buf, size, "%s tomorrow", hm);
	else
		snprintf(buf, size, "%.3s %s", day_name(t_us, (char[16]){ 0 }, 16), hm);
	return buf;
}

static char *ms_text(int64_t us, char *buf, size_t size)
{
	char n[32];

	snprintf(buf, size, "%s ms", view_fixed((double)us / 1000.0, us < 10000 ? 1 : 0, n,
						  sizeof(n)));
	return buf;
}

/* The top lines: which series, its forecast, the feedback of r. */
static int draw_head(struct ui *ui, struct view_trends_state *st, const struct trend_set *set,
		     const struct trend *t, int width)
{
	WINDOW *w = ui->body;
	char a[64], b[64], c[64], line[400];
	int y = 0;

	snprintf(line, sizeof(line), "%s %s", draw_symbol(SYM_SELECT),
		 t->site ? "Site total" : t->name);
	draw_text(w, y, 0, width, ROLE_ACCENT, line);
	snprintf(line, sizeof(line), "%zu/%zu Up/Down", st->sel + 1, set->n);
	draw_text_right(w, y, 0, width, ROLE_MUTED, line);
	y++;
	if (t->has_forecast)
		snprintf(line, sizeof(line), "forecast %s, made %s (fit %s)", t->method,
			 when(ui, t->made_us, a, sizeof(a)), ms_text(t->took_us, b, sizeof(b)));
	else
		snprintf(line, sizeof(line), "no forecast: %s",
			 t->message[0] ? t->message : "none stored yet");
	draw_text(w, y, 0, width, t->has_forecast ? ROLE_NORMAL : ROLE_WARNING, line);
	y++;
	if (t->stale) {
		/* a replay shows what was: nothing to regenerate */
		snprintf(line, sizeof(line), "%s forecast made %s, older than its data (to %s)%s",
			 draw_symbol(SYM_WARNING), when(ui, t->made_us, a, sizeof(a)),
			 when(ui, t->data_end_us, b, sizeof(b)),
			 ui->plant->replay.on ? "" : ": r regenerates");
		draw_text(w, y++, 0, width, ROLE_WARNING, line);
	}
	if (set->busy) {
		draw_text(w, y++, 0, width, ROLE_ACCENT,
			  set->maker ? "regenerating the forecasts..."
				     : "regenerating: asked of the recorder...");
	} else if (st->asked_us > 0 && set->run_made_us >= st->asked_us - US) {
		snprintf(st->message, sizeof(st->message),
			 "regenerated at %s: %zu forecast%s, %s of fitting", view_hhmm(set->run_made_us, c, sizeof(c)),
			 set->run_count, set->run_count == 1 ? "" : "s",
			 ms_text(set->run_took_us, b, sizeof(b)));
		st->message_error = false;
		st->asked_us = 0;
	}
	if (!set->busy && st->message[0] != '\0')
		draw_text(w, y++, 0, width, st->message_error ? ROLE_ALARM : ROLE_OK, st->message);
	if (set->note[0] != '\0')
		draw_text(w, y++, 0, width, ROLE_WARNING, set->note);
	return y;
}

/* Today and tomorrow: the chart with its axes. */
static int draw_days(struct ui *ui, const struct trend *t, double contract, int y, int h,
		     int width)
{
	WINDOW *w = ui->body;
	int cw = width - AXIS_W, i, now_col;
	double vhi = 0, vlo = 0;
	char buf[64], lab[64];
	size_t k;

	if (cw < 24 || h < 3 || t->n == 0)
		return y;
	for (k = 0; k < t->n; k++) {
		const double v[] = { t->actual[k], t->point[k], t->hi95[k], t->lo95[k] };

		for (i = 0; i < 4; i++) {
			if (isfinite(v[i]) && v[i] > vhi)
				vhi = v[i];
			if (isfinite(v[i]) && v[i] < vlo)
				vlo = v[i];
		}
	}
	if (isfinite(contract) && contract > vhi)
		vhi = contract;
	vhi = vhi > vlo ? vhi * 1.05 : vlo + 1000;
	/* the days' names over their halves */
	draw_textf(w, y, AXIS_W, cw / 2, ROLE_HEADER, "today %s", day_name(t->day0_us, buf,
									   sizeof(buf)));
	draw_textf(w, y, AXIS_W + cw / 2, cw - cw / 2, ROLE_HEADER, "tomorrow %s",
		   day_name(t->day0_us + (t->day2_us - t->day0_us) / 2 + 3600 * US, buf,
			    sizeof(buf)));
	y++;
	draw_text_right(w, y, 0, AXIS_W - 1, ROLE_MUTED, view_kw(vhi, buf, sizeof(buf)));
	draw_text_right(w, y + h - 1, 0, AXIS_W - 1, ROLE_MUTED, view_kw(vlo, buf, sizeof(buf)));
	draw_text_right(w, y + h / 2, 0, AXIS_W - 1, ROLE_MUTED, "kW");
	draw_band_chart(w, y, AXIS_W, h, cw,
			&(struct draw_band){ t->lo95, t->hi95, t->point, t->actual, t->n, vlo, vhi,
					     contract });
	y += h;
	/* hours every 6 h (the wall clock's: a 23 or 25 h day shows it), and
	 * "^now" under the present: a label it would cover is left out, not
	 * half overwritten ("^now8") */
	now_col = (int)((double)(ui->plant->now_us - t->day0_us) /
			(double)(t->day2_us - t->day0_us) * cw);
	if (now_col < 0 || now_col >= cw - 3)
		now_col = -100;
	for (i = 0; i < 8; i++) {
		int64_t ts = t->day0_us + (int64_t)i * 6 * 3600 * US;
		int col = (int)((double)(ts - t->day0_us) / (double)(t->day2_us - t->day0_us) * cw);

		if (col + 2 >= now_col && col <= now_col + 4)
			continue;
		view_hhmm(ts, lab, sizeof(lab));
		lab[2] = '\0';
		draw_text(w, y, AXIS_W + col, 3, ROLE_MUTED, lab);
	}
	if (now_col >= 0)
		draw_text(w, y, AXIS_W + now_col, 4, ROLE_ACCENT, "^now");
	return y + 1;
}

static int draw_figures(struct ui *ui, const struct trend *t, double contract, int y, int width)
{
	WINDOW *w = ui->body;
	char a[64], b[64], c[64], line[400];

	snprintf(line, sizeof(line), "%s actual  %s forecast  %s 95 %% band%s%s%s",
		 draw_is_ascii() ? "*" : "\u25cf", draw_is_ascii() ? "-" : "\u2500",
		 draw_is_ascii() ? ":" : "\u2591", isfinite(contract) ? "  = contract " : "",
		 isfinite(contract) ? view_kw(contract, a, sizeof(a)) : "",
		 isfinite(contract) ? " kW" : "");
	draw_text(w, y++, 0, width, ROLE_MUTED, line);
	if (!isfinite(t->peak_w))
		snprintf(line, sizeof(line), "Peak forecast: -");
	else if (!t->site)
		snprintf(line, sizeof(line), "Peak forecast %s kW at %s (contract_power is the site's)",
			 view_kw(t->peak_w, a, sizeof(a)), when(ui, t->peak_us, b, sizeof(b)));
	else if (!isfinite(contract))
		snprintf(line, sizeof(line), "Peak forecast %s kW at %s (no [site] contract_power)",
			 view_kw(t->peak_w, a, sizeof(a)), when(ui, t->peak_us, b, sizeof(b)));
	else if (t->over_n == 0)
		snprintf(line, sizeof(line), "Peak forecast %s kW at %s, under the contract",
			 view_kw(t->peak_w, a, sizeof(a)), when(ui, t->peak_us, b, sizeof(b)));
	else
		snprintf(line, sizeof(line), "Peak forecast %s kW at %s: %zu interval%s over the "
			 "contract, from %s",
			 view_kw(t->peak_w, a, sizeof(a)), when(ui, t->peak_us, b, sizeof(b)),
			 t->over_n, t->over_n == 1 ? "" : "s", when(ui, t->over_first_us, c, sizeof(c)));
	draw_text(w, y++, 0, width,
		  t->site && t->over_n > 0 ? ROLE_WARNING : ROLE_NORMAL, line);
	if (isfinite(t->mape))
		snprintf(line, sizeof(line),
			 "Stored forecasts, last %d days: MAPE %s %% (%zu intervals, %d day%s)",
			 TREND_MAPE_DAYS, view_fixed(t->mape, 1, a, sizeof(a)), t->mape_points,
			 t->mape_days, t->mape_days == 1 ? "" : "s");
	else
		snprintf(line, sizeof(line),
			 "Stored forecasts, last %d days: no MAPE yet (nothing to score)",
			 TREND_MAPE_DAYS);
	draw_text(w, y++, 0, width, ROLE_NORMAL, line);
	return y;
}

/* The hours over contract by hour of day. */
static void draw_hours(struct ui *ui, const struct trend *t, double contract, int y, int rows,
		       int width)
{
	WINDOW *w = ui->body;
	int bar_w = (width - AXIS_W) / 24 - 1, h = rows - 2, i;
	double max = 0, total = 0;
	char a[64], b[64], line[300];

	if (rows < 3)
		return;
	if (bar_w < 1)
		bar_w = 1;
	if (bar_w > 6)
		bar_w = 6;
	for (i = 0; i < 24; i++) {
		total += t->over_hours[i];
		if (t->over_hours[i] > max)
			max = t->over_hours[i];
	}
	if (!t->site || !isfinite(contract)) {
		draw_text(w, y, 0, width, ROLE_MUTED,
			  !t->site ? "Hours over capacity: the site's (contract_power), on the site total"
				   : "Hours over capacity: set [site] contract_power to count them");
		return;
	}
	snprintf(line, sizeof(line), "Hours over the contract by hour of day, last %s days: %s h",
		 view_fixed(t->history_days, 1, a, sizeof(a)), view_fixed(total, 1, b, sizeof(b)));
	draw_text(w, y++, 0, width, ROLE_HEADER, line);
	draw_text_right(w, y, 0, AXIS_W - 1, ROLE_MUTED, view_fixed(max, 1, a, sizeof(a)));
	draw_text_right(w, y + h - 1, 0, AXIS_W - 1, ROLE_MUTED, "0 h");
	draw_bars(w, y, AXIS_W, h, bar_w, t->over_hours, 24, max > 0 ? max : 1, ROLE_WARNING);
	for (i = 0; i < 24; i += bar_w >= 2 ? 2 : 3) {
		snprintf(a, sizeof(a), "%02d", i);
		draw_text(w, y + h, AXIS_W + i * (bar_w + 1), 2, ROLE_MUTED, a);
	}
}

static void trends_draw(struct ui *ui, void *state)
{
	struct view_trends_state *st = state;
	const struct trend_set *set = ui->plant->trends;
	const struct trend *t = selected(ui, st);
	WINDOW *w = ui->body;
	int rows = getmaxy(w), width = getmaxx(w), y, chart_h, hist_rows;

	if (t == NULL) {
		view_paragraph(w, 0, 0, width, 3, ROLE_MUTED,
			       ui->plant->cfg != NULL && ui->plant->cfg->store.path == NULL
				   ? "No forecasts: there is no buffer ([store] path) to forecast from."
				   : "The forecasts are being read from the buffer...");
		return;
	}
	y = draw_head(ui, st, set, t, width);
	/* what is left: the chart (day names and hours around it), three lines of
	 * figures, the hours histogram (title, bars, hours) */
	hist_rows = rows >= 40 ? 10 : 5;
	chart_h = rows - y - 2 - 4 - hist_rows;
	if (chart_h > 24)
		chart_h = 24;
	if (chart_h < 3) {
		hist_rows += chart_h - 3;
		chart_h = 3;
	}
	y = draw_days(ui, t, t->site ? set->contract_w : NAN, y, chart_h, width);
	y = draw_figures(ui, t, t->site ? set->contract_w : NAN, y, width);
	if (rows - y >= 3)
		draw_hours(ui, t, set->contract_w, y, rows - y < hist_rows ? rows - y : hist_rows,
			   width);
}

static int trends_key(struct ui *ui, void *state, int ch)
{
	struct view_trends_state *st = state;
	const struct trend_set *set = ui->plant->trends;
	bool sent = false;
	char err[160];

	switch (ch) {
	case KEY_UP:
	case 'k':
		if (st->sel > 0)
			st->sel--;
		return UI_HANDLED | UI_REDRAW;
	case KEY_DOWN:
	case 'j':
		if (set != NULL && st->sel + 1 < set->n)
			st->sel++;
		return UI_HANDLED | UI_REDRAW;
	case KEY_HOME:
		st->sel = 0;
		return UI_HANDLED | UI_REDRAW;
	case 'r':
		if (ui->read_only) {
			snprintf(st->message, sizeof(st->message),
				 "read-only console: the forecasts are not regenerated");
			st->message_error = true;
			return UI_HANDLED | UI_REDRAW;
		}
		if (!ui_may_act(ui))
			return UI_HANDLED | UI_REDRAW;
		if (plant_forecast_now(ui->plant, ui->operator_name, &sent, err, sizeof(err)) < 0) {
			snprintf(st->message, sizeof(st->message), "not regenerated: %s", err);
			st->message_error = true;
		} else {
			st->asked_us = ui->plant->now_us;
			st->message[0] = '\0';
		}
		return UI_HANDLED | UI_REDRAW;
	}
	return UI_IGNORED;
}

static void *trends_init(const struct plant *p)
{
	(void)p;
	return util_calloc(1, sizeof(struct view_trends_state));
}

static void trends_free(void *state)
{
	free(state);
}

static const char *const trends_help[] = {
	"Up Down     the site total, then each meter (also k j)",
	"Home        the site total",
	"r           regenerate now (attached: by the recorder)",
	"chart       * actual - forecast : 95 % band = contract",
	NULL,
};

const struct view_ops view_trends_ops = {
	.name = "Trends",
	.hotkey = '4',
	.init = trends_init,
	.free = trends_free,
	.draw = trends_draw,
	.key = trends_key,
	.help = trends_help,
};
