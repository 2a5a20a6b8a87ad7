// SPDX-License-Identifier: MIT
/*
 * report_draw: the report's pages with cairo (report_draw.h). A cursor
 * runs down the page; a block that does not fit starts the next one.
 * Everything is drawn in points on an A4 page; the PNG surface is the
 * same drawing scaled to 150 dpi.
 */
#include "phasor/report_draw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo-pdf.h>
#include <cairo.h>

#include "phasor/util.h"

#define PAGE_W 595.0
#define PAGE_H 842.0
#define LEFT 50.0
#define RIGHT 545.0
#define WIDTH (RIGHT - LEFT)
#define TOP 62.0
#define BOTTOM 790.0
#define FONT "DejaVu Sans"
#define US INT64_C(1000000)
#define HOUR_US (3600 * US)

struct pen {
	cairo_t *cr;
	cairo_surface_t *s;
	bool png;
	const char *(*path)(void *ctx, int page);
	void *ctx;
	int page;
	double y;
	const struct report *r;
	const struct report_doc *d;
	const struct report_tables *t;
	char *cause;
};

/* ---- text ---------------------------------------------------------------- */

static void font(struct pen *p, double size, bool bold)
{
	cairo_select_font_face(p->cr, FONT, CAIRO_FONT_SLANT_NORMAL,
			       bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(p->cr, size);
}

static double text_w(struct pen *p, const char *s)
{
	cairo_text_extents_t e;

	cairo_text_extents(p->cr, s, &e);
	return e.x_advance;
}

/* s with its baseline at y: align 0 left of x, 1 right of x, 0.5 centred. */
static void text_at(struct pen *p, double x, double y, double align, const char *s)
{
	cairo_move_to(p->cr, x - align * text_w(p, s), y);
	cairo_show_text(p->cr, s);
}

/* ---- pages ---------------------------------------------------------------- */

static void black(struct pen *p)
{
	cairo_set_source_rgb(p->cr, 0, 0, 0);
}

static int png_page_done(struct pen *p)
{
	cairo_status_t st;

	cairo_surface_flush(p->s);
	st = cairo_surface_write_to_png(p->s, p->path(p->ctx, p->page));
	if (st != CAIRO_STATUS_SUCCESS) {
		p->cause = util_printf("writing %s: %s", p->path(p->ctx, p->page),
				       cairo_status_to_string(st));
		return -1;
	}
	return 0;
}

static void png_surface(struct pen *p)
{
	double k = REPORT_PNG_DPI / 72.0;

	p->s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, REPORT_PNG_W, REPORT_PNG_H);
	p->cr = cairo_create(p->s);
	cairo_scale(p->cr, k, k);
}

static void page_furniture(struct pen *p)
{
	char head[512], a[40], b[40], n[32];

	if (p->png) {
		cairo_set_source_rgb(p->cr, 1, 1, 1);
		cairo_paint(p->cr);
	}
	black(p);
	font(p, 7.5, false);
	snprintf(head, sizeof(head), "%s - energy report %s to %s (%s)", p->d->site,
		 report_local_time(p->r->from_us, a, sizeof(a)),
		 report_local_time(p->r->to_us, b, sizeof(b)), p->d->zone);
	text_at(p, LEFT, 36, 0, head);
	cairo_set_line_width(p->cr, 0.5);
	cairo_move_to(p->cr, LEFT, 41);
	cairo_line_to(p->cr, RIGHT, 41);
	cairo_move_to(p->cr, LEFT, 806);
	cairo_line_to(p->cr, RIGHT, 806);
	cairo_stroke(p->cr);
	snprintf(n, sizeof(n), "page %d", p->page);
	snprintf(head, sizeof(head), "phasor %s", p->d->version);
	text_at(p, LEFT, 818, 0, head);
	text_at(p, RIGHT, 818, 1, n);
	p->y = TOP;
}

static int new_page(struct pen *p)
{
	if (p->page > 0) {
		if (p->png) {
			if (png_page_done(p) < 0)
				return -1;
			cairo_destroy(p->cr);
			cairo_surface_destroy(p->s);
			png_surface(p);
		} else {
			cairo_show_page(p->cr);
		}
	}
	p->page++;
	page_furniture(p);
	return 0;
}

/* Room for h points below the cursor, on a new page if need be. */
static int need(struct pen *p, double h)
{
	if (p->y + h <= BOTTOM)
		return 0;
	return new_page(p);
}

static int heading(struct pen *p, const char *s)
{
	if (need(p, 60) < 0)
		return -1;
	p->y += 10;
	black(p);
	font(p, 12.5, true);
	text_at(p, LEFT, p->y + 12, 0, s);
	p->y += 20;
	return 0;
}

static int para(struct pen *p, const char *s)
{
	if (need(p, 13) < 0)
		return -1;
	black(p);
	font(p, 8.5, false);
	text_at(p, LEFT, p->y + 9, 0, s);
	p->y += 12;
	return 0;
}

/* ---- tables --------------------------------------------------------------- */

static void table_head(struct pen *p, const struct report_table *t, double size)
{
	double x = LEFT;
	size_t k;
	bool units = false;

	font(p, size, true);
	for (k = 0; k < t->ncols; k++)
		units |= t->cols[k].unit[0] != '\0';
	for (k = 0; k < t->ncols; k++) {
		double w = t->cols[k].width * WIDTH;
		double ax = t->cols[k].right ? x + w - 3 : x + 2;

		text_at(p, ax, p->y + size, t->cols[k].right, t->cols[k].head);
		if (t->cols[k].unit[0] != '\0') {
			char u[40];

			snprintf(u, sizeof(u), "(%s)", t->cols[k].unit);
			font(p, size, false);
			text_at(p, ax, p->y + 2 * size + 2, t->cols[k].right, u);
			font(p, size, true);
		}
		x += w;
	}
	p->y += units ? 2 * size + 6 : size + 5;
	cairo_set_line_width(p->cr, 0.6);
	cairo_move_to(p->cr, LEFT, p->y);
	cairo_line_to(p->cr, RIGHT, p->y);
	cairo_stroke(p->cr);
	p->y += 2;
}

static int table(struct pen *p, const struct report_table *t, const char *empty)
{
	double size = t->ncols > 8 ? 7 : 8, row_h = size + 3.5;
	size_t row, k;

	if (t == NULL)
		return 0;
	if (need(p, 40 + 3 * row_h) < 0)
		return -1;
	black(p);
	font(p, 9.5, true);
	text_at(p, LEFT, p->y + 10, 0, t->title);
	p->y += 15;
	if (t->nrows == 0)
		return para(p, empty);
	table_head(p, t, size);
	for (row = 0; row < t->nrows; row++) {
		double x = LEFT;

		if (p->y + row_h > BOTTOM) {
			if (new_page(p) < 0)
				return -1;
			table_head(p, t, size);
		}
		font(p, size, false);
		black(p);
		for (k = 0; k < t->ncols; k++) {
			double w = t->cols[k].width * WIDTH;

			cairo_save(p->cr);
			cairo_rectangle(p->cr, x, p->y, w - 1, row_h);
			cairo_clip(p->cr);
			text_at(p, t->cols[k].right ? x + w - 3 : x + 2, p->y + size,
				t->cols[k].right, report_cell(t, row, k));
			cairo_restore(p->cr);
			x += w;
		}
		p->y += row_h;
	}
	cairo_set_line_width(p->cr, 0.3);
	cairo_move_to(p->cr, LEFT, p->y);
	cairo_line_to(p->cr, RIGHT, p->y);
	cairo_stroke(p->cr);
	p->y += 8;
	return 0;
}

/* ---- charts --------------------------------------------------------------- */

/* A step of 1, 2 or 5 x 10^k giving about n ticks up to max. */
static double nice_step(double max, int n)
{
	double raw = max / n, mag, f;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

struct axes {
	double x, y, w, h;        /* the plot area */
	double ymax, ystep;
};

/* The y axis from 0 to a nice value above max, with a grid and its label. */
static void y_axis(struct pen *p, struct axes *a, double max, const char *label)
{
	char s[32];
	double v;

	a->ystep = nice_step(max > 0 ? max : 1, 5);
	a->ymax = ceil((max > 0 ? max : 1) / a->ystep) * a->ystep;
	font(p, 7, false);
	black(p);
	for (v = 0; v <= a->ymax + a->ystep / 2; v += a->ystep) {
		double y = a->y + a->h - v / a->ymax * a->h;

		snprintf(s, sizeof(s), "%g", v);
		text_at(p, a->x - 4, y + 2.5, 1, s);
		cairo_set_source_rgb(p->cr, 0.8, 0.8, 0.8);
		cairo_set_line_width(p->cr, 0.3);
		cairo_move_to(p->cr, a->x, y);
		cairo_line_to(p->cr, a->x + a->w, y);
		cairo_stroke(p->cr);
		black(p);
	}
	cairo_save(p->cr);
	cairo_move_to(p->cr, a->x - 32, a->y + a->h / 2);
	cairo_rotate(p->cr, -M_PI / 2);
	font(p, 7.5, false);
	cairo_rel_move_to(p->cr, -text_w(p, label) / 2, 0);
	cairo_show_text(p->cr, label);
	cairo_restore(p->cr);
	cairo_set_line_width(p->cr, 0.8);
	cairo_move_to(p->cr, a->x, a->y);
	cairo_line_to(p->cr, a->x, a->y + a->h);
	cairo_line_to(p->cr, a->x + a->w, a->y + a->h);
	cairo_stroke(p->cr);
}

static double ypos(const struct axes *a, double v)
{
	return a->y + a->h - (v < 0 ? 0 : v) / a->ymax * a->h;
}

static double xtime(const struct axes *a, const struct report *r, int64_t t)
{
	return a->x + (double)(t - r->from_us) / (double)(r->to_us - r->from_us) * a->w;
}

/* Ticks at local midnights (every k-th, at most 8 labels), else every 3 h. */
static void time_axis(struct pen *p, const struct axes *a, const char *label)
{
	const struct report *r = p->r;
	char s[40];
	size_t i, every;

	font(p, 6.5, false);
	black(p);
	cairo_set_line_width(p->cr, 0.6);
	if (r->days.n >= 2) {
		every = (r->days.n + 7) / 8;
		for (i = 0; i <= r->days.n; i += every) {
			double x = xtime(a, r, r->days.b[i]);

			cairo_move_to(p->cr, x, a->y + a->h);
			cairo_line_to(p->cr, x, a->y + a->h + 3);
			cairo_stroke(p->cr);
			report_local_time(r->days.b[i], s, sizeof(s));
			s[10] = '\0';
			text_at(p, x, a->y + a->h + 11, 0.5, s + 5);
		}
	} else {
		int64_t t;

		for (t = r->from_us; t <= r->to_us; t += 3 * HOUR_US) {
			double x = xtime(a, r, t);

			cairo_move_to(p->cr, x, a->y + a->h);
			cairo_line_to(p->cr, x, a->y + a->h + 3);
			cairo_stroke(p->cr);
			report_local_time(t, s, sizeof(s));
			text_at(p, x, a->y + a->h + 11, 0.5, s + 11);
		}
	}
	font(p, 7.5, false);
	text_at(p, a->x + a->w / 2, a->y + a->h + 22, 0.5, label);
}

/* Diagonal hatching over the rectangle (black and white prints). */
static void hatch(struct pen *p, double x, double y, double w, double h, double step)
{
	double d;

	cairo_save(p->cr);
	cairo_rectangle(p->cr, x, y, w, h);
	cairo_clip(p->cr);
	cairo_set_line_width(p->cr, 0.4);
	black(p);
	for (d = -h; d < w; d += step) {
		cairo_move_to(p->cr, x + d, y + h);
		cairo_line_to(p->cr, x + d + h, y);
	}
	cairo_stroke(p->cr);
	cairo_restore(p->cr);
}

static void legend(struct pen *p, double x, double y, int kind, const char *s)
{
	cairo_save(p->cr);
	black(p);
	cairo_set_line_width(p->cr, kind == 2 ? 1.2 : 1);
	if (kind == 0) { /* band */
		cairo_set_source_rgb(p->cr, 0.85, 0.85, 0.85);
		cairo_rectangle(p->cr, x, y - 6, 16, 7);
		cairo_fill(p->cr);
	} else {
		if (kind == 2) {
			double dash[2] = { 4, 2 };

			cairo_set_dash(p->cr, dash, 2, 0);
		}
		cairo_move_to(p->cr, x, y - 2);
		cairo_line_to(p->cr, x + 16, y - 2);
		cairo_stroke(p->cr);
	}
	cairo_restore(p->cr);
	font(p, 7, false);
	black(p);
	text_at(p, x + 20, y, 0, s);
}

/* Room for h points and the block's title (NULL: none): 0 or -1. */
static int block(struct pen *p, double h, const char *title)
{
	if (need(p, h) < 0)
		return -1;
	if (title == NULL)
		return 0;
	font(p, 9.5, true);
	black(p);
	text_at(p, LEFT, p->y + 10, 0, title);
	p->y += 18;
	return 0;
}

static int chart_days(struct pen *p)
{
	const struct report *r = p->r;
	struct axes a = { LEFT + 40, 0, WIDTH - 50, 130, 0, 0 };
	double max = 0, bw;
	size_t i;

	if (r->days.n == 0 || !r->has_energy)
		return 0;
	if (block(p, a.h + 50, "Energy per day") < 0)
		return -1;
	a.y = p->y;
	for (i = 0; i < r->days.n; i++)
		max = fmax(max, r->days.wh[i] / 1000);
	y_axis(p, &a, max, "energy (kWh)");
	bw = a.w / (double)r->days.n;
	for (i = 0; i < r->days.n; i++) {
		double v = r->days.wh[i] / 1000, x = a.x + (double)i * bw + bw * 0.15;
		double y = ypos(&a, v);

		if (!r->days.has[i])
			continue;
		cairo_set_source_rgb(p->cr, 0.7, 0.7, 0.7);
		cairo_rectangle(p->cr, x, y, bw * 0.7, a.y + a.h - y);
		cairo_fill_preserve(p->cr);
		black(p);
		cairo_set_line_width(p->cr, 0.5);
		cairo_stroke(p->cr);
	}
	time_axis(p, &a, "day (local time)");
	p->y = a.y + a.h + 32;
	return 0;
}

static int chart_consumers(struct pen *p)
{
	const struct report *r = p->r;
	size_t n = r->nrank < 15 ? r->nrank : 15, i;
	double max = 0, bar = 13, label_w = 110, x0 = LEFT + label_w, w = WIDTH - label_w - 110;

	if (n == 0)
		return 0;
	if (block(p, (double)n * bar + 50,
		  "Biggest consumers: energy (kWh) and share of the consumers' sum") < 0)
		return -1;
	for (i = 0; i < n; i++)
		max = fmax(max, r->m[r->rank[i]].kwh);
	for (i = 0; i < n; i++) {
		const struct report_meter_out *m = &r->m[r->rank[i]];
		double bw = max > 0 ? m->kwh / max * w : 0, y = p->y + (double)i * bar;
		char s[80];

		font(p, 7.5, false);
		black(p);
		cairo_save(p->cr);
		cairo_rectangle(p->cr, LEFT, y, label_w - 4, bar);
		cairo_clip(p->cr);
		text_at(p, x0 - 6, y + 9, 1, p->d->meters[r->rank[i]]);
		cairo_restore(p->cr);
		cairo_set_source_rgb(p->cr, 0.88, 0.88, 0.88);
		cairo_rectangle(p->cr, x0, y + 2, bw, bar - 4);
		cairo_fill(p->cr);
		hatch(p, x0, y + 2, bw, bar - 4, 4);
		black(p);
		cairo_set_line_width(p->cr, 0.5);
		cairo_rectangle(p->cr, x0, y + 2, bw, bar - 4);
		cairo_stroke(p->cr);
		snprintf(s, sizeof(s), "%.1f kWh  %.1f %%", m->kwh, 100 * m->share);
		text_at(p, x0 + bw + 4, y + 9, 0, s);
	}
	cairo_set_line_width(p->cr, 0.8);
	cairo_move_to(p->cr, x0, p->y);
	cairo_line_to(p->cr, x0, p->y + (double)n * bar);
	cairo_stroke(p->cr);
	p->y += (double)n * bar + 12;
	return 0;
}

/* A path through the finite points (x[i], v[i]); gaps break it. */
static void polyline(struct pen *p, const struct axes *a, const int64_t *t, const double *v,
		     size_t n, int64_t half)
{
	bool down = false;
	size_t i;

	for (i = 0; i < n; i++) {
		double x, y;

		if (!isfinite(v[i])) {
			down = false;
			continue;
		}
		x = xtime(a, p->r, t[i] + half);
		y = ypos(a, v[i] / 1000);
		if (down)
			cairo_line_to(p->cr, x, y);
		else
			cairo_move_to(p->cr, x, y);
		down = true;
	}
	cairo_stroke(p->cr);
}

static int chart_load(struct pen *p)
{
	const struct report *r = p->r;
	struct axes a = { LEFT + 40, 0, WIDTH - 50, 170, 0, 0 };
	double max = 0, *mean;
	size_t i;

	if (r->iv.n == 0)
		return 0;
	if (block(p, a.h + 70, "Load curve: mean power per 15 min, minute min and max band") < 0)
		return -1;
	a.y = p->y + 2;
	mean = util_calloc(r->iv.n, sizeof(double));
	for (i = 0; i < r->iv.n; i++) {
		double len_h = (double)(r->iv.b[i + 1] - r->iv.b[i]) / 3.6e9;

		mean[i] = r->iv.has[i] && len_h > 0 ? r->iv.wh[i] / len_h : NAN;
		if (isfinite(mean[i]))
			max = fmax(max, mean[i] / 1000);
		if (isfinite(r->iv_max_w[i]))
			max = fmax(max, r->iv_max_w[i] / 1000);
	}
	if (isfinite(p->d->contract_w))
		max = fmax(max, p->d->contract_w / 1000);
	y_axis(p, &a, max, "power (kW)");
	/* the band: one grey hatched bar per interval */
	for (i = 0; i < r->iv.n; i++) {
		double x0, x1, y0, y1;

		if (!isfinite(r->iv_min_w[i]) || !isfinite(r->iv_max_w[i]))
			continue;
		x0 = xtime(&a, r, r->iv.b[i]);
		x1 = xtime(&a, r, r->iv.b[i + 1]);
		y0 = ypos(&a, r->iv_max_w[i] / 1000);
		y1 = ypos(&a, r->iv_min_w[i] / 1000);
		cairo_set_source_rgb(p->cr, 0.82, 0.82, 0.82);
		cairo_rectangle(p->cr, x0, y0, x1 - x0, fmax(y1 - y0, 0.3));
		cairo_fill(p->cr);
	}
	black(p);
	cairo_set_line_width(p->cr, 0.8);
	polyline(p, &a, r->iv.b, mean, r->iv.n, REPORT_INTERVAL_US / 2);
	free(mean);
	if (isfinite(p->d->contract_w)) {
		double dash[2] = { 4, 2 }, y = ypos(&a, p->d->contract_w / 1000);

		cairo_save(p->cr);
		cairo_set_dash(p->cr, dash, 2, 0);
		cairo_set_line_width(p->cr, 1.2);
		cairo_move_to(p->cr, a.x, y);
		cairo_line_to(p->cr, a.x + a.w, y);
		cairo_stroke(p->cr);
		cairo_restore(p->cr);
	}
	time_axis(p, &a, "time (local)");
	p->y = a.y + a.h + 30;
	legend(p, LEFT + 40, p->y + 6, 1, "mean power per 15 min");
	legend(p, LEFT + 190, p->y + 6, 0, "min .. max of the minutes");
	if (isfinite(p->d->contract_w))
		legend(p, LEFT + 340, p->y + 6, 2, "contract power");
	p->y += 16;
	return 0;
}

static int chart_forecast(struct pen *p)
{
	const struct report *r = p->r;
	struct axes a = { LEFT + 40, 0, WIDTH - 50, 140, 0, 0 };
	double max = 0;
	size_t i;

	if (!r->has_forecast || r->fc_n == 0)
		return 0;
	if (block(p, a.h + 70, NULL) < 0)
		return -1;
	a.y = p->y + 8;
	for (i = 0; i < r->fc_n; i++) {
		if (isfinite(r->fc_point[i]))
			max = fmax(max, r->fc_point[i] / 1000);
		if (isfinite(r->fc_actual[i]))
			max = fmax(max, r->fc_actual[i] / 1000);
	}
	y_axis(p, &a, max, "power (kW)");
	cairo_save(p->cr);
	cairo_rectangle(p->cr, a.x, a.y, a.w, a.h);
	cairo_clip(p->cr);
	black(p);
	cairo_set_line_width(p->cr, 0.8);
	polyline(p, &a, r->fc_t, r->fc_actual, r->fc_n, r->fc_step / 2);
	{
		double dash[2] = { 3, 2 };

		cairo_set_dash(p->cr, dash, 2, 0);
		cairo_set_line_width(p->cr, 1);
		polyline(p, &a, r->fc_t, r->fc_point, r->fc_n, r->fc_step / 2);
	}
	cairo_restore(p->cr);
	time_axis(p, &a, "time (local)");
	p->y = a.y + a.h + 30;
	legend(p, LEFT + 40, p->y + 6, 1, "actual (mean power per interval)");
	legend(p, LEFT + 220, p->y + 6, 2, "forecast stored before the interval");
	p->y += 16;
	return 0;
}

/* ---- the document ----------------------------------------------------------- */

static const struct report_table *tab(struct pen *p, const char *id)
{
	return report_tables_find(p->t, id);
}

static int title_block(struct pen *p)
{
	const struct report_table *t = tab(p, "title");
	char s[512], a[40], b[40];
	size_t i, nm = 0;

	black(p);
	font(p, 20, true);
	text_at(p, LEFT, p->y + 20, 0, "Energy review");
	p->y += 30;
	font(p, 13, false);
	text_at(p, LEFT, p->y + 13, 0, p->d->site);
	p->y += 24;
	font(p, 8.5, false);
	snprintf(s, sizeof(s), "Range: %s to %s, time zone %s",
		 report_local_time(p->r->from_us, a, sizeof(a)),
		 report_local_time(p->r->to_us, b, sizeof(b)), p->d->zone);
	if (para(p, s) < 0)
		return -1;
	snprintf(s, sizeof(s), "Made %s by phasor %s from the buffer %s",
		 report_local_time(p->d->made_us, a, sizeof(a)), p->d->version, p->d->db);
	if (para(p, s) < 0)
		return -1;
	for (i = 0; t != NULL && i < t->nrows; i++)
		nm += strcmp(report_cell(t, i, 0), "meter") == 0;
	snprintf(s, sizeof(s), "Meters: %zu; data coverage %.2f %% (%llu of %llu minutes present); %zu"
		 " gaps of 5 minutes or more", nm, 100 * p->r->coverage,
		 (unsigned long long)p->r->present, (unsigned long long)p->r->expected,
		 p->r->gaps_total);
	if (para(p, s) < 0)
		return -1;
	if (p->d->nshifts == 0)
		snprintf(s, sizeof(s), "No [site] shifts: outside production hours are nights"
				       " (22:00-06:00), weekends and [forecast] holidays.");
	else
		snprintf(s, sizeof(s), "Shifts from [site] shifts, Monday to Friday: outside production"
				       " hours are the weekends and [forecast] holidays.");
	if (para(p, s) < 0)
		return -1;
	p->y += 4;
	return table(p, tab(p, "gap"), "No gap of 5 minutes or more.");
}

static int pf_text(struct pen *p)
{
	const struct report *r = p->r;
	char s[512], a[40];

	if (r->worst_pf == SIZE_MAX)
		return para(p, "No meter has both active and reactive power: no compensation figure.");
	snprintf(s, sizeof(s),
		 "Worst meter: %s needs %.1f kvar of compensation to bring tan phi to 0.4"
		 " (interval of %s).",
		 p->d->meters[r->worst_pf], r->m[r->worst_pf].kvar_needed / 1000,
		 report_local_time(r->m[r->worst_pf].kvar_at, a, sizeof(a)));
	return para(p, s);
}

static int document(struct pen *p)
{
	const struct report *r = p->r;
	char s[512], a[40];

	if (new_page(p) < 0 || title_block(p) < 0)
		return -1;
	if (heading(p, "1  Energy") < 0 || table(p, tab(p, "summary"), "") < 0 ||
	    chart_days(p) < 0 || table(p, tab(p, "day"), "No day in the range.") < 0)
		return -1;
	if (r->shifts.n > 0 && (table(p, tab(p, "shift_total"), "") < 0 ||
				table(p, tab(p, "shift"), "") < 0))
		return -1;
	/* production: coverage = production / the site's consumption; used on
	 * site = per 15 min interval min(production, consumption), or with a
	 * grid connection production - export */
	if (tab(p, "production") != NULL &&
	    (table(p, tab(p, "production"), "") < 0 ||
	     table(p, tab(p, "production_month"), "") < 0 ||
	     para(p, r->grid ? "Coverage: production / consumption. With the grid connection's"
			       " export counter: used on site = production - export, consumption ="
			       " taken from the grid + used on site."
			     : "Coverage: production / consumption. Used on site: per 15 min interval"
			       " the production up to the consumption (the rest was exported).") < 0))
		return -1;
	if (heading(p, "2  Biggest consumers") < 0 || chart_consumers(p) < 0 ||
	    table(p, tab(p, "meter"), "No consumer with energy in the range.") < 0)
		return -1;
	/* the tree: each feeder's share of its parent and what none meters */
	if (tab(p, "tree") != NULL &&
	    (table(p, tab(p, "tree"), "") < 0 ||
	     para(p, "(unmetered): the parent's energy minus its feeders'; negative when the"
		     " feeders read more than their parent (a metering error).") < 0))
		return -1;
	if (heading(p, "3  Load curve and peak demand") < 0 || chart_load(p) < 0)
		return -1;
	if (isfinite(r->peak_w)) {
		snprintf(s, sizeof(s), "Peak demand %.3f kW (mean over 15 min) in the interval of %s.",
			 r->peak_w / 1000, report_local_time(r->peak_at, a, sizeof(a)));
		if (para(p, s) < 0)
			return -1;
	}
	if (isfinite(p->d->contract_w))
		snprintf(s, sizeof(s), "Contract power %.3f kW: %zu intervals over it, %.2f hours.",
			 p->d->contract_w / 1000, r->over_intervals, (double)r->over_us / 3.6e9);
	else
		snprintf(s, sizeof(s), "No contract_power in [site]: no overrun counted.");
	if (para(p, s) < 0)
		return -1;
	if (heading(p, "4  Forecast against actual") < 0)
		return -1;
	if (!r->has_forecast) {
		if (para(p, "no forecast stored") < 0)
			return -1;
	} else {
		snprintf(s, sizeof(s), "MAPE %.2f %% over %zu intervals of %lld min (forecasts stored"
			 " in the buffer, each the newest made before its interval's end).",
			 r->mape, r->fc_scored, (long long)(r->fc_step / 60000000));
		if (para(p, s) < 0 || chart_forecast(p) < 0)
			return -1;
	}
	if (heading(p, "5  Power factor") < 0 ||
	    table(p, tab(p, "pf"), "No power factor recorded.") < 0 || pf_text(p) < 0)
		return -1;
	if (heading(p, "6  Power quality") < 0 ||
	    table(p, tab(p, "quality"), "No voltage, THD or frequency recorded.") < 0 ||
	    para(p, "Voltage band +-10 % of nominal (EN 50160), frequency +-1 %, THD-V limit 8 %;") < 0 ||
	    para(p, "unbalance (NEMA): 100 max|V - mean| / mean of the three phase voltages,"
		    " EN 50160 reference 2 %.") < 0)
		return -1;
	if (heading(p, "7  Alarms") < 0 || table(p, tab(p, "alarm_priority"), "") < 0 ||
	    table(p, tab(p, "alarm_eemua"), "") < 0 ||
	    table(p, tab(p, "alarm_top"), "No alarm raised in the range.") < 0)
		return -1;
	return 0;
}

static int finish(struct pen *p, int rc, char **cause)
{
	cairo_status_t st;

	if (rc == 0 && p->png)
		rc = png_page_done(p);
	if (p->cr != NULL) {
		st = cairo_status(p->cr);
		if (rc == 0 && st != CAIRO_STATUS_SUCCESS) {
			p->cause = util_printf("drawing: %s", cairo_status_to_string(st));
			rc = -1;
		}
		cairo_destroy(p->cr);
	}
	if (p->s != NULL) {
		cairo_surface_finish(p->s);
		st = cairo_surface_status(p->s);
		if (rc == 0 && st != CAIRO_STATUS_SUCCESS) {
			p->cause = util_printf("writing: %s", cairo_status_to_string(st));
			rc = -1;
		}
		cairo_surface_destroy(p->s);
	}
	if (rc < 0) {
		*cause = p->cause != NULL ? p->cause : util_strdup("drawing failed");
		return -1;
	}
	free(p->cause);
	return p->page;
}

int report_draw_pdf(const char *path, const struct report *r, const struct report_doc *d,
		    const struct report_tables *t, char **cause)
{
	struct pen p = { .r = r, .d = d, .t = t };
	char title[512], creator[64], date[40];
	time_t now = (time_t)(d->made_us / US);
	struct tm tm;

	p.s = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
	p.cr = cairo_create(p.s);
	snprintf(title, sizeof(title), "Energy review %s", d->site);
	snprintf(creator, sizeof(creator), "phasor %s", d->version);
	if (gmtime_r(&now, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		util_strlcpy(date, "1970-01-01T00:00:00Z", sizeof(date));
	cairo_pdf_surface_set_metadata(p.s, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(p.s, CAIRO_PDF_METADATA_CREATOR, creator);
	cairo_pdf_surface_set_metadata(p.s, CAIRO_PDF_METADATA_CREATE_DATE, date);
	return finish(&p, document(&p), cause);
}

int report_draw_png(const char *(*path)(void *ctx, int page), void *ctx, const struct report *r,
		    const struct report_doc *d, const struct report_tables *t, char **cause)
{
	struct pen p = { .r = r, .d = d, .t = t, .png = true, .path = path, .ctx = ctx };

	png_surface(&p);
	return finish(&p, document(&p), cause);
}
