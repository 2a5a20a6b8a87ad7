// SPDX-License-Identifier: MIT
/*
 * view_meter: one meter in detail (key 2; ui->meter is the subject), laid
 * out so that a phase problem can be diagnosed from a laptop at 80x24.
 *
 *   title: name, description, profile, endpoint, comm, data age, latency, error
 *   left:  per-phase gauges (V L-N, V L-L when the meter gives it, I, P)
 *   right: panels (power factor, unbalance, power quality, energy, risk)
 *   below: active power over the last hour with its axes
 *
 * Two layouts from the same parts: compact (the panels' labels in a narrow
 * left margin, no blank lines, a 4-6 row chart) and expanded when the body
 * has room (a 120x50 terminal or larger: titled panels, every action of
 * every risk, wider gauges with their band word, a 15+ row chart). Unknown
 * values are "-", never 0; a value that is not live is drawn in ROLE_STALE,
 * and the title says why. A meter that is down keeps its last values but
 * judges nothing from them (analysis_unjudge): no tier, band, "over" or
 * risk. Without max_power the current and power gauges are scaled from
 * what the meter was seen to draw, with no limit drawn.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/fmt.h"
#include "phasor/util.h"
#include "phasor/utility.h"
#include "phasor/view.h"

#define SQRT3 1.7320508075688772
#define SEED_NOMINAL_V 230.0
#define CHART_S 3600
#define COMPACT_LABEL 5         /* the panels' label margin in compact mode */
#define MIN_CHART_ROWS 4
#define WIDE_CHART_ROWS 15

struct ctx {
	struct ui *ui;
	struct view_snap s;
	bool expanded;
};

/* ---- gauges ---- */

struct gauge_row {
	const char *group;          /* group label on the first row, or NULL */
	const char *title;          /* expanded: the group's title line */
	char phase[16];
	unsigned qty;
	double value;
	bool stale;
	bool alarm;                 /* outside the band or beyond a limit */
	const char *word;           /* "low", "high", "over" or NULL */
	struct fmt_limit lims[2];   /* what word judges it against: its digits agree */
	size_t nlims;
	struct draw_gauge g;
};

static bool value_stale(const struct ctx *c, unsigned qty)
{
	return c->s.stale || live_value_stale(c->s.m, qty, c->ui->plant->now_us);
}

/* The smallest round figure (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^n) at or above x (x > 0). */
static double nice_ceil(double x)
{
	static const double steps[] = { 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0 };
	double p10 = pow(10.0, floor(log10(x)));
	size_t k;

	for (k = 0; k < UTIL_ARRAY_LEN(steps); k++)
		if (steps[k] * p10 >= x * (1.0 - 1e-12))
			return steps[k] * p10;
	return 10.0 * p10;
}

/*
 * The full scale of the current and power gauges of a meter without
 * max_power: a round figure above the highest per-phase power seen (now,
 * or a third of the total's peak in the last hour), so the bars mean
 * something and no limit is drawn; *p_full per phase in W, *i_full in A.
 */
static void observed_scale(const struct ctx *c, double vn, double *p_full, double *i_full)
{
	const struct analysis_input *in = &c->s.in;
	double peak = 0.0, ipeak = 0.0, lo, hi;
	int k;

	if (live_history_range(c->s.m, LIVE_HIST_P, c->ui->plant->now_us, LIVE_HISTORY_S, &lo, &hi))
		peak = fmax(fabs(lo), fabs(hi)) / 3.0;
	for (k = 0; k < 3; k++) {
		if (!isnan(in->p[k]) && fabs(in->p[k]) > peak)
			peak = fabs(in->p[k]);
		if (!isnan(in->i[k]) && in->i[k] > ipeak)
			ipeak = in->i[k];
	}
	if (vn > 0.0 && peak / vn > ipeak)
		ipeak = peak / vn;
	*p_full = nice_ceil(peak > 100.0 ? peak * 1.1 : 100.0);
	*i_full = nice_ceil(ipeak > 1.0 ? ipeak * 1.1 : 1.0);
}

static size_t build_gauges(const struct ctx *c, struct gauge_row *rows)
{
	const struct analysis_params *par = &c->s.par;
	const struct analysis_input *in = &c->s.in;
	double vn = par->nominal_v, vscale = vn / SEED_NOMINAL_V;
	bool rated = par->max_power > 0.0;
	/* With max_power: 0 .. 120 % of the rated figure, the rating marked.
	 * Without: the observed scale, no limit (nothing says what is too much). */
	double i_rated = rated ? par->max_power / (3.0 * vn) : NAN;
	double p_phase = rated ? par->max_power / 3.0 : NAN;
	double i_full, p_full;
	bool has_ll = c->s.m->v[QTY_V_L12].t_us != 0 || c->s.m->v[QTY_V_L23].t_us != 0;
	static const char *const ll_names[3] = { "L12", "L23", "L31" };
	size_t n = 0;
	int k, g;

	if (rated) {
		i_full = 1.2 * i_rated;
		p_full = 1.2 * p_phase;
	} else {
		observed_scale(c, vn, &p_full, &i_full);
	}
	for (g = 0; g < 4; g++) {
		if (g == 1 && !has_ll)
			continue;
		for (k = 0; k < 3; k++) {
			struct gauge_row *r = &rows[n++];
			double lo = NAN, hi = NAN;

			memset(r, 0, sizeof(*r));
			r->g.band_lo = r->g.band_hi = r->g.limit_lo = r->g.limit_hi = NAN;
			snprintf(r->phase, sizeof(r->phase), "L%d", k + 1);
			switch (g) {
			case 0:
				r->group = "V";
				r->title = "Voltage L-N";
				r->qty = QTY_V_L1N + (unsigned)k;
				r->value = in->v_ln[k];
				r->g.min = vn * 0.8;
				r->g.max = vn * 1.2;
				r->g.band_lo = vn * (1.0 - par->vband_pct / 100.0);
				r->g.band_hi = vn * (1.0 + par->vband_pct / 100.0);
				r->g.limit_lo = par->v_ll_min / SQRT3 * vscale;
				r->g.limit_hi = par->v_ll_max / SQRT3 * vscale;
				lo = r->g.band_lo;
				hi = r->g.band_hi;
				break;
			case 1:
				r->group = "V";
				r->title = "Voltage L-L";
				snprintf(r->phase, sizeof(r->phase), "%s", ll_names[k]);
				r->qty = QTY_V_L12 + (unsigned)k;
				r->value = in->v_ll[k];
				r->g.min = vn * 0.8 * SQRT3;
				r->g.max = vn * 1.2 * SQRT3;
				r->g.band_lo = vn * (1.0 - par->vband_pct / 100.0) * SQRT3;
				r->g.band_hi = vn * (1.0 + par->vband_pct / 100.0) * SQRT3;
				r->g.limit_lo = par->v_ll_min * vscale;
				r->g.limit_hi = par->v_ll_max * vscale;
				lo = r->g.limit_lo;
				hi = r->g.limit_hi;
				break;
			case 2:
				r->group = "I";
				r->title = "Current";
				r->qty = QTY_I_L1 + (unsigned)k;
				r->value = in->i[k];
				r->g.min = 0.0;
				r->g.max = i_full;
				r->g.limit_hi = i_rated;
				hi = i_rated;
				break;
			default:
				r->group = "P";
				r->title = "Active power";
				r->qty = QTY_P_L1 + (unsigned)k;
				r->value = in->p[k];
				r->g.min = 0.0;
				r->g.max = p_full;
				r->g.limit_hi = p_phase;
				hi = p_phase;
				break;
			}
			if (k != 0)
				r->group = r->title = NULL;
			if (!isnan(lo))
				r->lims[r->nlims++] = (struct fmt_limit){ lo, false };
			if (!isnan(hi))
				r->lims[r->nlims++] = (struct fmt_limit){ hi, true };
			r->g.value = r->value;
			r->stale = value_stale(c, r->qty);
			if (!c->s.res.judged) {
				/* a meter that is down: no "low" or "over" from old values */
			} else if (!isnan(r->value) && !isnan(lo) && r->value < lo) {
				r->alarm = true;
				r->word = "low";
			} else if (!isnan(r->value) && !isnan(hi) && r->value > hi) {
				r->alarm = true;
				r->word = g >= 2 ? "over" : "high";
			}
			r->g.fill = r->stale ? ROLE_STALE : r->alarm ? ROLE_ALARM : ROLE_GAUGE_FILL;
		}
	}
	return n;
}

/* Rows a set of gauges takes. */
static int gauge_height(const struct ctx *c, const struct gauge_row *rows, size_t n)
{
	int h = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (c->expanded && rows[i].title != NULL)
			h += i > 0 ? 2 : 1;     /* a blank line, the title */
		h++;
	}
	return h;
}

static void draw_gauges(const struct ctx *c, int y0, int x0, int width, int height,
			const struct gauge_row *rows, size_t n)
{
	WINDOW *w = c->ui->body;
	int label = c->expanded ? 0 : 2, y = y0;
	int valw = 8, wordw = c->expanded ? 5 : 0;
	size_t i;

	for (i = 0; i < n && y < y0 + height; i++) {
		const struct gauge_row *r = &rows[i];
		enum theme_role vr = r->stale ? ROLE_STALE : r->alarm ? ROLE_ALARM : ROLE_NORMAL;
		char val[32];
		int x = x0, gw;

		if (c->expanded && r->title != NULL) {
			char t[128], a[24], b[24];

			if (i > 0)
				y++;
			if (y >= y0 + height)
				break;
			if ((r->qty == QTY_I_L1 || r->qty == QTY_P_L1) && isnan(r->g.limit_hi)) {
				snprintf(t, sizeof(t), "%s  (scale 0 .. %s per phase, no max_power)",
					 r->title, fmt_qty(r->qty, r->g.max, a, sizeof(a)));
			} else if (r->qty == QTY_I_L1 || r->qty == QTY_P_L1) {
				snprintf(t, sizeof(t), "%s  (rated %s per phase)", r->title,
					 fmt_qty(r->qty, r->g.limit_hi, a, sizeof(a)));
			} else {
				char d[24], e[24];

				snprintf(t, sizeof(t), "%s  (band %s .. %s, limits %s / %s)", r->title,
					 fmt_qty(r->qty, r->g.band_lo, a, sizeof(a)),
					 fmt_qty(r->qty, r->g.band_hi, b, sizeof(b)),
					 fmt_qty(r->qty, r->g.limit_lo, d, sizeof(d)),
					 fmt_qty(r->qty, r->g.limit_hi, e, sizeof(e)));
			}
			draw_text(w, y++, x0, width, ROLE_ACCENT, t);
			if (y >= y0 + height)
				break;
		}
		if (label > 0 && r->group != NULL)
			draw_text(w, y, x, label - 1, ROLE_MUTED, r->group);
		x += label;
		draw_text(w, y, x, 3, ROLE_MUTED, r->phase);
		x += 4;
		/* one cell says what colour would: not live, out of band */
		if (r->stale && !isnan(r->value))
			draw_text(w, y, x, 1, ROLE_STALE, draw_symbol(SYM_STALE));
		else if (r->alarm)
			draw_text(w, y, x, 1, ROLE_ALARM, draw_symbol(SYM_WARNING));
		x += 1;
		draw_text_right(w, y, x, valw, vr,
				fmt_qty_against(r->qty, r->value, r->lims, r->nlims, val, sizeof(val)));
		x += valw + 1;
		gw = x0 + width - x - (wordw > 0 ? wordw + 1 : 0);
		if (gw >= 4)
			draw_gauge(w, y, x, gw, &r->g);
		if (wordw > 0 && r->word != NULL)
			draw_text(w, y, x + gw + 1, wordw, vr, r->word);
		y++;
	}
}

/* ---- panels ---- */

struct panel {
	const char *title;          /* expanded */
	const char *label;          /* compact margin */
	struct view_lines lines;
};

static struct view_line *pl(struct panel *p)
{
	return view_lines_add(&p->lines, 0);
}

static enum theme_role vrole(const struct ctx *c, enum theme_role r)
{
	return view_role(&c->s, r);
}

static const char *nature_word(const struct ctx *c, enum pf_nature n)
{
	if (n == PF_NATURE_UNKNOWN)
		return "";
	if (c->expanded)
		return analysis_pf_nature_name(n);
	return n == PF_INDUCTIVE ? "ind" : "cap";
}

/* The stale symbol before a value that is not live, as the gauges do. */
static const char *mark(const struct ctx *c)
{
	return c->s.stale ? draw_symbol(SYM_STALE) : "";
}

static void panel_pf(const struct ctx *c, struct panel *p)
{
	const struct analysis_result *r = &c->s.res;
	struct fmt_limit tl;
	struct view_line *l;
	char a[32], b[32];
	int k;

	p->title = "Power factor";
	p->label = "PF";
	l = pl(p);
	if (c->expanded)
		view_seg(l, ROLE_MUTED, "Total ");
	view_seg(l, vrole(c, ROLE_NORMAL), "%s%s", isnan(r->pf_total) ? "" : mark(c),
		 analysis_pf_text(r->pf_total, 3, a, sizeof(a)));
	if (r->nature_total != PF_NATURE_UNKNOWN)
		view_seg(l, vrole(c, ROLE_MUTED), " %s", nature_word(c, r->nature_total));
	if (r->tier_total != PF_UNKNOWN) {
		view_seg(l, ROLE_NORMAL, " ");
		view_seg(l, vrole(c, view_role_tier(r->tier_total)), "%s",
			 analysis_pf_tier_name(r->tier_total));
		if (r->penalty_total > 0.0)
			view_seg(l, vrole(c, ROLE_NORMAL), "  penalty %s",
				 fmt_pct(r->penalty_total * 100.0, a, sizeof(a)));
		else if (c->expanded)
			view_seg(l, ROLE_MUTED, "  no penalty");
	}

	l = pl(p);
	for (k = 0; k < 3; k++) {
		view_seg(l, ROLE_MUTED, "%sL%d ", k > 0 ? "  " : "", k + 1);
		view_seg(l, vrole(c, r->tier[k] == PF_UNKNOWN ? ROLE_NORMAL : view_role_tier(r->tier[k])),
			 "%s%s", isnan(r->pf[k]) ? "" : mark(c), analysis_pf_text(r->pf[k], 3, a, sizeof(a)));
		if (c->expanded && r->nature[k] != PF_NATURE_UNKNOWN)
			view_seg(l, vrole(c, ROLE_MUTED), " %s",
				 r->nature[k] == PF_INDUCTIVE ? "ind" : "cap");
	}

	l = pl(p);
	view_seg(l, ROLE_MUTED, "tan phi ");
	tl = analysis_tan_phi_limit(&c->s.par);
	view_seg(l, vrole(c, ROLE_NORMAL), "%s%s", isnan(r->tan_phi) ? "" : mark(c),
		 fmt_against(r->tan_phi, &tl, 1, 2, a, sizeof(a)));
	if (!isnan(r->tan_phi) && r->judged) {
		view_seg(l, vrole(c, r->tan_phi_ok ? ROLE_OK : ROLE_ALARM), " %s",
			 r->tan_phi_ok ? "ok" : "over");
		view_seg(l, ROLE_MUTED, " (max %s)", view_fixed(c->s.par.tan_phi_max, 2, a, sizeof(a)));
	}

	l = pl(p);
	if (isnan(r->q_comp)) {
		view_seg(l, ROLE_MUTED, c->expanded ? "Qc to reach %s: " : "Qc to %s: ",
			 view_fixed(c->s.par.target_pf, 2, a, sizeof(a)));
		view_seg(l, ROLE_NORMAL, "-");
	} else if (r->q_comp <= 0.0 && r->judged) {
		view_seg(l, vrole(c, ROLE_OK), "target PF %s reached",
			 view_fixed(c->s.par.target_pf, 2, a, sizeof(a)));
	} else if (!r->judged) {
		view_seg(l, ROLE_MUTED, c->expanded ? "Qc to reach %s: " : "Qc to %s: ",
			 view_fixed(c->s.par.target_pf, 2, a, sizeof(a)));
		view_seg(l, ROLE_NORMAL, "-");
	} else {
		view_seg(l, ROLE_MUTED, c->expanded ? "Qc to reach %s: " : "Qc to %s: ",
			 view_fixed(c->s.par.target_pf, 2, a, sizeof(a)));
		view_seg(l, vrole(c, ROLE_NORMAL), "%s%s", mark(c),
			 fmt_si(r->q_comp, "var", a, sizeof(a)));
		/* banks come in round sizes: "120 kvar" */
		if (r->q_bank >= 10000.0) {
			view_fixed(r->q_bank / 1000.0, 0, b, sizeof(b));
			view_seg(l, ROLE_MUTED, " (bank %s kvar)", b);
		} else if (!isnan(r->q_bank)) {
			view_seg(l, ROLE_MUTED, " (bank %s)", fmt_si(r->q_bank, "var", b, sizeof(b)));
		}
	}
}

static enum theme_role unb_role(const struct ctx *c, double pct)
{
	if (isnan(pct) || !c->s.res.judged)
		return ROLE_NORMAL;
	if (pct > c->s.par.unbalance_max)
		return ROLE_CRITICAL;
	switch (analysis_unbalance_band(pct)) {
	case UNB_SEVERE: return ROLE_ALARM;
	case UNB_MODERATE: return ROLE_WARNING;
	default: return ROLE_NORMAL;
	}
}

/*
 * Word-wrap text (ASCII: the analysis' own) into at most max lines of the
 * panel; the last line keeps the rest, which drawing cuts with an ellipsis.
 */
static void wrap(struct panel *p, int width, int max, enum theme_role r, const char *text)
{
	const char *s = text;
	int lines = 0;

	while (*s != '\0' && lines < max) {
		int len = (int)strlen(s), cut = len;

		if (len > width && lines < max - 1) {
			cut = width;
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = width;    /* one word longer than the line */
		}
		view_seg(pl(p), r, "%.*s", cut, s);
		s += cut;
		while (*s == ' ')
			s++;
		lines++;
	}
}

/* fmt_pct's text ("2.4 %"), its digits on the side of lims (fmt_against). */
static char *pct_against(double pct, const struct fmt_limit *lims, size_t n, char *buf, size_t size)
{
	/* any quantity in % has fmt_pct's precision */
	return fmt_qty_against(QTY_THD_V_L1, pct, lims, n, buf, size);
}

static void panel_unbalance(const struct ctx *c, struct panel *p, int width)
{
	const struct analysis_result *r = &c->s.res;
	struct fmt_limit lims[4];
	size_t nlims;
	struct view_line *l;
	char a[32];

	p->title = "Unbalance";
	p->label = "Unb";
	nlims = analysis_unbalance_limits(&c->s.par, lims);
	l = pl(p);
	view_seg(l, ROLE_MUTED, "V ");
	view_seg(l, vrole(c, unb_role(c, r->v_unb_nema)), "%s", pct_against(r->v_unb_nema, lims, nlims, a, sizeof(a)));
	view_seg(l, ROLE_MUTED, " NEMA %s", r->v_unb_from_ll ? "L-L" : "L-N");
	if (!isnan(r->v_unb_iec)) {
		view_seg(l, ROLE_MUTED, "  IEC u2 ");
		view_seg(l, vrole(c, ROLE_NORMAL), "%s", fmt_pct(r->v_unb_iec, a, sizeof(a)));
	}
	if (c->expanded)
		view_seg(l, ROLE_MUTED, "  (EN 50160: 2 %%)");

	l = pl(p);
	view_seg(l, ROLE_MUTED, "I ");
	view_seg(l, vrole(c, unb_role(c, r->i_unb_nema)), "%s", pct_against(r->i_unb_nema, lims, nlims, a, sizeof(a)));
	view_seg(l, ROLE_MUTED, " NEMA");
	view_seg(l, ROLE_MUTED, c->expanded ? "  most loaded " : "  max ");
	if (r->most_loaded >= 0)
		view_seg(l, vrole(c, ROLE_NORMAL), "L%d", r->most_loaded + 1);
	else
		view_seg(l, ROLE_NORMAL, "-");
	if (r->band != UNB_UNKNOWN) {
		view_seg(l, ROLE_NORMAL, "  ");
		view_seg(l, vrole(c, r->band >= UNB_SEVERE	? ROLE_ALARM
				     : r->band >= UNB_MODERATE ? ROLE_WARNING
							       : ROLE_OK),
			 "%s", analysis_unbalance_band_name(r->band));
	}
	if (r->recommendation[0] != '\0') {
		const char *advice = strstr(r->recommendation, "): ");

		/* compact: the band and figures are on the lines above; the advice only */
		if (c->expanded || advice == NULL)
			wrap(p, width, c->expanded ? 3 : 1, vrole(c, ROLE_NORMAL), r->recommendation);
		else
			wrap(p, width, 1, vrole(c, ROLE_NORMAL), advice + 3);
	}
}

static void thd_line(const struct ctx *c, struct panel *p, const char *what, const double *v,
		     double limit)
{
	struct view_line *l = pl(p);
	struct fmt_limit lim = { limit, true };
	char a[32];
	bool any = false, over = false;
	int k;

	view_seg(l, ROLE_MUTED, "%s", what);
	for (k = 0; k < 3; k++) {
		bool bad = c->s.res.judged && !isnan(v[k]) && !isnan(limit) && v[k] > limit;

		any |= !isnan(v[k]);
		over |= bad;
		if (c->expanded)
			view_seg(l, ROLE_MUTED, " L%d ", k + 1);
		else
			view_seg(l, ROLE_NORMAL, " ");
		view_seg(l, vrole(c, bad ? ROLE_ALARM : ROLE_NORMAL), "%s",
			 fmt_against(v[k], &lim, isnan(limit) ? 0 : 1, 1, a, sizeof(a)));
	}
	view_seg(l, ROLE_MUTED, " %%");
	if (!isnan(limit)) {
		view_seg(l, ROLE_MUTED, " (max %s)", view_fixed(limit, 0, a, sizeof(a)));
		if (any && c->s.res.judged)
			view_seg(l, vrole(c, over ? ROLE_ALARM : ROLE_OK), " %s", over ? "over" : "ok");
	}
}

static void panel_quality(const struct ctx *c, struct panel *p)
{
	const struct analysis_input *in = &c->s.in;
	struct fmt_limit flims[2];
	struct view_line *l;
	char a[32], b[32];
	double fdev;

	p->title = "Power quality";
	p->label = "THD";
	thd_line(c, p, c->expanded ? "THD-V" : "V", in->thd_v, c->s.par.thd_v_max);
	thd_line(c, p, c->expanded ? "THD-I" : "I", in->thd_i, NAN);
	if (c->expanded) {
		l = pl(p);
		view_seg(l, ROLE_MUTED, "frequency ");
	} else {
		l = &p->lines.v[p->lines.n - 1];
		view_seg(l, ROLE_MUTED, "  f ");
	}
	fdev = c->s.par.nominal_freq * c->s.par.freq_pct / 100.0;
	flims[0] = (struct fmt_limit){ c->s.par.nominal_freq - fdev, false };
	flims[1] = (struct fmt_limit){ c->s.par.nominal_freq + fdev, true };
	view_seg(l, vrole(c, c->s.res.freq_ok == 0 ? ROLE_ALARM : ROLE_NORMAL), "%s",
		 fmt_qty_against(QTY_FREQ, in->freq, flims, 2, a, sizeof(a)));
	if (c->expanded)
		view_seg(l, ROLE_MUTED, " (%s +-%s %%)",
			 fmt_qty(QTY_FREQ, c->s.par.nominal_freq, b, sizeof(b)),
			 view_fixed(c->s.par.freq_pct, 0, a, sizeof(a)));
	if (c->s.res.freq_ok >= 0)
		view_seg(l, vrole(c, c->s.res.freq_ok ? ROLE_OK : ROLE_ALARM), " %s",
			 c->s.res.freq_ok ? "ok" : "out of band");
}

/* A counter as read, or NaN when never received or bad. */
static double counter(const struct ctx *c, unsigned qty)
{
	const struct live_value *v = &c->s.m->v[qty];

	return v->t_us != 0 && v->quality == QUALITY_GOOD ? v->value : NAN;
}

static void panel_energy(const struct ctx *c, struct panel *p)
{
	struct view_line *l;
	char a[32], b[16];
	struct kpi_today td = { .wh = NAN };

	p->title = "Energy";
	p->label = "kWh";
	l = pl(p);
	view_seg(l, ROLE_MUTED, "import ");
	view_seg(l, vrole(c, value_stale(c, QTY_E_IMP) ? ROLE_STALE : ROLE_NORMAL), "%s",
		 fmt_energy(counter(c, QTY_E_IMP), a, sizeof(a)));
	view_seg(l, ROLE_MUTED, "  export ");
	view_seg(l, vrole(c, value_stale(c, QTY_E_EXP) ? ROLE_STALE : ROLE_NORMAL), "%s",
		 fmt_energy(counter(c, QTY_E_EXP), a, sizeof(a)));
	if (c->expanded) {
		l = pl(p);
		view_seg(l, ROLE_MUTED, "reactive import ");
		view_seg(l, vrole(c, value_stale(c, QTY_EQ_IMP) ? ROLE_STALE : ROLE_NORMAL), "%s",
			 fmt_si(counter(c, QTY_EQ_IMP), "varh", a, sizeof(a)));
		view_seg(l, ROLE_MUTED, "  export ");
		view_seg(l, vrole(c, value_stale(c, QTY_EQ_EXP) ? ROLE_STALE : ROLE_NORMAL), "%s",
			 fmt_si(counter(c, QTY_EQ_EXP), "varh", a, sizeof(a)));
	}
	l = pl(p);
	if (c->ui->plant->kpi != NULL)
		kpi_meter_today(c->ui->plant->kpi, c->s.index, &td);
	view_seg(l, ROLE_MUTED, "today ");
	view_seg(l, ROLE_NORMAL, "%s", fmt_energy(td.wh, a, sizeof(a)));
	if (!isnan(td.wh)) {
		/* From when it counts, and the counter resets it bridged. */
		if (td.partial)
			view_seg(l, ROLE_WARNING, ", partial since %s",
				 view_hhmm(td.since_us, b, sizeof(b)));
		else
			view_seg(l, ROLE_MUTED, " since %s", view_hhmm(td.since_us, b, sizeof(b)));
		if (td.resets > 0)
			view_seg(l, ROLE_MUTED, ", %u reset%s", td.resets, td.resets == 1 ? "" : "s");
	}
	if (!c->expanded) {
		/* last: the first line to go when rows are short */
		l = pl(p);
		view_seg(l, ROLE_MUTED, "reactive ");
		view_seg(l, vrole(c, value_stale(c, QTY_EQ_IMP) ? ROLE_STALE : ROLE_NORMAL), "%s",
			 fmt_si(counter(c, QTY_EQ_IMP), "varh", a, sizeof(a)));
		view_seg(l, ROLE_MUTED, "  export ");
		view_seg(l, vrole(c, value_stale(c, QTY_EQ_EXP) ? ROLE_STALE : ROLE_NORMAL), "%s",
			 fmt_si(counter(c, QTY_EQ_EXP), "varh", a, sizeof(a)));
	}
}

/* A gas, water, air or heat meter: flow, volume, pressure, temperature. */
static bool utility_meter(const struct ctx *c)
{
	return c->s.m->cfg->utility != UTILITY_ELECTRICITY;
}

static void panel_utility(const struct ctx *c, struct panel *p)
{
	static const struct {
		unsigned qty;
		const char *name;
	} rows[] = {
		{ QTY_FLOW, "flow" }, { QTY_VOLUME, "volume" }, { QTY_PRESSURE, "pressure" },
		{ QTY_TEMP, "temp" },
	};
	static char label[16];
	const struct profile *prof = c->s.m->cfg->profile;
	const char *kind = utility_name((enum utility)c->s.m->cfg->utility);
	struct view_line *l;
	char a[32];
	size_t i;

	/* "Gas", "Water", "Air", "Heat" */
	snprintf(label, sizeof(label), "%c%s", kind[0] - 'a' + 'A', kind + 1);
	p->title = label;
	p->label = label;
	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		const struct live_value *v = &c->s.m->v[rows[i].qty];

		if (prof != NULL && !profile_maps(prof, (int)rows[i].qty))
			continue;
		l = pl(p);
		view_seg(l, ROLE_MUTED, "%-9s", rows[i].name);
		if (v->t_us == 0)
			snprintf(a, sizeof(a), "-");
		else if (rows[i].qty == QTY_PRESSURE && fabs(v->value) < 1.0)
			snprintf(a, sizeof(a), "%.1f mbar", v->value * 1000.0); /* a gas network's */
		else
			fmt_qty(rows[i].qty, v->value, a, sizeof(a));
		view_seg(l, vrole(c, value_stale(c, rows[i].qty) ? ROLE_STALE : ROLE_NORMAL), "%s%s",
			 v->t_us != 0 && value_stale(c, rows[i].qty) ? mark(c) : "", a);
		if (v->t_us != 0 && v->quality != QUALITY_GOOD)
			view_seg(l, ROLE_WARNING, " (bad)");
	}
	if (c->s.m->counter_resets > 0) {
		l = pl(p);
		view_seg(l, ROLE_MUTED, "counter reset %llu time%s",
			 (unsigned long long)c->s.m->counter_resets,
			 c->s.m->counter_resets == 1 ? "" : "s");
	}
	if (c->s.m->counter_wraps > 0) {
		l = pl(p);
		view_seg(l, ROLE_MUTED, "counter wrapped %llu time%s (counted exactly)",
			 (unsigned long long)c->s.m->counter_wraps,
			 c->s.m->counter_wraps == 1 ? "" : "s");
	}
}

static bool has_data(const struct ctx *c)
{
	const struct analysis_input *in = &c->s.in;

	return !isnan(c->s.res.p_total) || !isnan(in->v_ln[0]) || !isnan(in->v_ll[0]) ||
	       !isnan(in->i[0]);
}

static void panel_risk(const struct ctx *c, struct panel *p)
{
	const struct analysis_result *r = &c->s.res;
	struct view_line *l;
	size_t i;

	p->title = "Risk";
	p->label = "Risk";
	l = pl(p);
	if (!has_data(c)) {
		view_seg(l, ROLE_NORMAL, "-");
		view_seg(l, ROLE_MUTED, " (no values to assess)");
		return;
	}
	if (!r->judged) {
		view_seg(l, ROLE_STALE, "- unknown");
		view_seg(l, ROLE_MUTED, c->expanded ? " (the meter is down: its last values are not assessed)"
						   : ": the meter is down");
		return;
	}
	if (c->expanded)
		view_seg(l, ROLE_MUTED, "global level ");
	view_seg(l, vrole(c, view_role_risk(r->risk)), "%s %s", draw_symbol(view_risk_symbol(r->risk)),
		 analysis_risk_level_name(r->risk));
	if (r->nrisks == 0)
		view_seg(l, ROLE_MUTED, "  no risk found");
	else if (c->expanded)
		view_seg(l, ROLE_MUTED, ", %zu risk%s", r->nrisks, r->nrisks == 1 ? "" : "s");
	for (i = 0; i < r->nrisks; i++) {
		const struct analysis_risk *rk = &r->risks[i];
		char nums[96];
		size_t a;

		view_risk_numbers(rk, nums, sizeof(nums));
		if (!c->expanded) {
			/* the worst on the level's line, its first action below; then
			 * one line each: what, and the first thing to do */
			const char *act = rk->actions != NULL ? rk->actions[0] : NULL;

			if (i == 0) {
				view_seg(l, ROLE_NORMAL, "  ");
				view_seg(l, vrole(c, view_role_risk(rk->level)), "%s", rk->text);
				if (act != NULL) {
					l = view_lines_add(&p->lines, 2);
					view_seg(l, vrole(c, ROLE_NORMAL), "%s", act);
				}
				continue;
			}
			l = pl(p);
			view_seg(l, vrole(c, view_role_risk(rk->level)), "%s", rk->text);
			if (act != NULL)
				view_seg(l, vrole(c, ROLE_NORMAL), ": %s", act);
			continue;
		}
		l = pl(p);
		view_seg(l, vrole(c, view_role_risk(rk->level)), "%s %s",
			 draw_symbol(view_risk_symbol(rk->level)), analysis_risk_level_name(rk->level));
		view_seg(l, vrole(c, ROLE_NORMAL), "  %s", rk->text);
		view_seg(l, ROLE_MUTED, " (%s)", nums);
		for (a = 0; rk->actions != NULL && rk->actions[a] != NULL; a++) {
			l = view_lines_add(&p->lines, 4);
			view_seg(l, vrole(c, a == 0 ? ROLE_NORMAL : ROLE_MUTED), "- %s", rk->actions[a]);
		}
	}
}

static int panels_height(const struct ctx *c, struct panel *ps, int np)
{
	int h = 0, i;

	for (i = 0; i < np; i++)
		h += (int)ps[i].lines.n + (c->expanded ? (i > 0 ? 2 : 1) : 0);
	return h;
}

static void draw_panels(const struct ctx *c, int y0, int x0, int width, int height,
			struct panel *ps, int np)
{
	WINDOW *w = c->ui->body;
	int y = y0, i;
	size_t k;

	for (i = 0; i < np && y < y0 + height; i++) {
		struct panel *p = &ps[i];

		if (c->expanded) {
			if (i > 0)
				y++;
			if (y >= y0 + height)
				break;
			draw_text(w, y++, x0, width, ROLE_ACCENT, p->title);
		}
		for (k = 0; k < p->lines.n && y < y0 + height; k++, y++) {
			int x = x0;

			if (!c->expanded) {
				if (k == 0)
					draw_text(w, y, x0, COMPACT_LABEL - 1, ROLE_ACCENT, p->label);
				x += COMPACT_LABEL;
			}
			view_line_draw(w, y, x, x0 + width - x, &p->lines.v[k]);
		}
	}
}

/* ---- title and chart ---- */

static void draw_title(const struct ctx *c, int width)
{
	const struct config_meter *cm = c->s.m->cfg;
	const struct meter_comm *mc = &c->s.m->comm;
	struct view_lines ls = { 0 };
	struct view_line *l;
	char a[64];

	/* The description goes last: at 80 columns it is the one to be cut. */
	l = view_lines_add(&ls, 0);
	view_seg(l, ROLE_ACCENT, "%s", cm->name);
	view_seg(l, ROLE_MUTED, "  %s", cm->profile_name != NULL ? cm->profile_name : "-");
	if (cm->driver == DRIVER_MODBUS) {
		view_seg(l, ROLE_MUTED, "  %s:%d unit %d", cm->host != NULL ? cm->host : "-", cm->port,
			 cm->unit);
	} else if (cm->driver == DRIVER_SPARKPLUG) {
		view_seg(l, ROLE_MUTED, "  sparkplug %s/%s%s%s", cm->sp_group, cm->sp_node,
			 cm->sp_device != NULL ? "/" : "", cm->sp_device != NULL ? cm->sp_device : "");
	} else {
		view_seg(l, ROLE_MUTED, "  mqtt %s", cm->ntopics > 0 ? cm->topics[0] : "-");
		if (cm->ntopics > 1)
			view_seg(l, ROLE_MUTED, " +%zu", cm->ntopics - 1);
	}
	/* where it stands in the meter tree, and a production meter */
	if (config_parent(cm) >= 0)
		view_seg(l, ROLE_MUTED, "  under %s",
			 c->ui->plant->cfg->meters[config_parent(cm)].name);
	if (cm->role == METER_PRODUCTION)
		view_seg(l, ROLE_MUTED, "  production");
	if (cm->description != NULL && cm->description[0] != '\0')
		view_seg(l, ROLE_NORMAL, "  %s", cm->description);
	view_line_draw(c->ui->body, 0, 0, width, l);

	/* Line 2: is it live, and if not why; the error before the latency,
	 * which means little when polls time out. */
	l = view_lines_add(&ls, 0);
	view_seg(l, view_role_comm(c->s.comm), "%s %s", draw_symbol(view_comm_symbol(c->s.comm)),
		 source_comm_name(c->s.comm));
	view_seg(l, ROLE_MUTED, "  data ");
	if (c->s.never) {
		view_seg(l, ROLE_STALE, "none yet");
	} else {
		fmt_age(c->ui->plant->now_us > c->s.m->last_sample_us
				? c->ui->plant->now_us - c->s.m->last_sample_us
				: 0,
			a, sizeof(a));
		view_seg(l, c->s.stale ? ROLE_STALE : ROLE_NORMAL, "%s ago", a);
		if (c->s.stale)
			view_seg(l, ROLE_STALE, " %s not live", draw_symbol(SYM_STALE));
	}
	if (mc->error[0] != '\0') {
		view_seg(l, ROLE_MUTED, "  error ");
		view_seg(l, c->s.comm == COMM_OK ? ROLE_MUTED : ROLE_ALARM, "%s", mc->error);
	}
	/* "-": the last poll got no reply (a timeout is no round trip) */
	if (mc->latency_us >= 0 || (cm->driver == DRIVER_MODBUS && mc->polls > 0)) {
		view_seg(l, ROLE_MUTED, "  poll ");
		view_seg(l, ROLE_NORMAL, "%s", view_ms(mc->latency_us, a, sizeof(a)));
	}
	view_line_draw(c->ui->body, 1, 0, width, l);
	view_lines_free(&ls);
}

/* A value of the trend: W, or the flow of a utility meter (bare on the
 * axis, where "m3/h" does not fit: the title says it). */
static char *trend_fmt(bool flow, double v, char *buf, size_t size)
{
	return flow ? fmt_qty(QTY_FLOW, v, buf, size) : fmt_si(v, "W", buf, size);
}

static char *axis_fmt(bool flow, double v, char *buf, size_t size)
{
	return flow ? fmt_qty_bare(QTY_FLOW, v, buf, size) : fmt_si(v, "W", buf, size);
}

static void draw_trend(const struct ctx *c, int y0, int height, int width)
{
	WINDOW *w = c->ui->body;
	double *v = util_calloc(CHART_S, sizeof(*v));
	size_t n = live_history(c->s.m, LIVE_HIST_P, c->ui->plant->now_us, v, CHART_S), i, cnt = 0;
	double lo = 0.0, hi = NAN, mn = NAN, sum = 0.0;
	/* a utility meter's ring holds its flow (live.h) */
	bool flow = utility_meter(c);
	char a[32], b[32], d[32];
	int ylw = 9, ch = height - 2, cx, cw;
	enum theme_role role = c->s.stale ? ROLE_STALE : ROLE_CHART;

	for (i = 0; i < n; i++) {
		if (isnan(v[i]))
			continue;
		sum += v[i];
		cnt++;
	}
	/* The extremes of the per-second means: beyond the ring's newest
	 * minutes the series has bucket means only. */
	if (live_history_range(c->s.m, LIVE_HIST_P, c->ui->plant->now_us, CHART_S, &mn, &hi) &&
	    mn < lo)
		lo = mn;
	/* title line */
	{
		struct view_lines ls = { 0 };
		struct view_line *l = view_lines_add(&ls, 0);

		view_seg(l, ROLE_ACCENT, flow ? "Flow, last hour" : "Active power, last hour");
		if (cnt > 0) {
			view_seg(l, ROLE_MUTED, "  min ");
			view_seg(l, role, "%s", trend_fmt(flow, mn, a, sizeof(a)));
			view_seg(l, ROLE_MUTED, "  mean ");
			view_seg(l, role, "%s", trend_fmt(flow, sum / (double)cnt, b, sizeof(b)));
			view_seg(l, ROLE_MUTED, "  max ");
			view_seg(l, role, "%s", trend_fmt(flow, hi, d, sizeof(d)));
		}
		view_line_draw(w, y0, 0, width, l);
		view_lines_free(&ls);
	}
	if (ch < 1) {
		free(v);
		return;
	}
	cx = ylw + 1;
	cw = width - cx;
	if (cnt == 0) {
		draw_text(w, y0 + 1 + ch / 2, cx, cw, ROLE_MUTED, "no data in the last hour");
	} else {
		if (!(hi > lo))
			hi = lo + 1.0;
		draw_text_right(w, y0 + 1, 0, ylw, ROLE_MUTED, axis_fmt(flow, hi, a, sizeof(a)));
		if (ch > 1)
			draw_text_right(w, y0 + ch, 0, ylw, ROLE_MUTED, axis_fmt(flow, lo, a, sizeof(a)));
		draw_chart(w, y0 + 1, cx, ch, cw, v, n, lo, hi, role);
	}
	/* time axis: -60m at the left, now at the right, quarters between */
	{
		int y = y0 + 1 + ch, q;

		draw_text(w, y, cx, 5, ROLE_MUTED, "-60m");
		for (q = 1; q < 4 && cw >= 40; q++) {
			char t[8];
			int x = cx + cw * q / 4 - 2;

			snprintf(t, sizeof(t), "-%dm", 60 - 15 * q);
			draw_text(w, y, x, 5, ROLE_MUTED, t);
		}
		draw_text_right(w, y, cx, cw, ROLE_MUTED, "now");
	}
	free(v);
}

/* ---- the view ---- */

static void meter_draw(struct ui *ui, void *state)
{
	WINDOW *w = ui->body;
	int rows = getmaxy(w), width = getmaxx(w);
	struct ctx c = { .ui = ui };
	struct gauge_row gauges[12];
	struct panel ps[5];
	size_t ng;
	int leftw, rx, rw, top, gh, ph, mid, chart_rows, i, np;

	(void)state;
	if (!view_snap(ui, ui->meter, &c.s)) {
		draw_text(w, 0, 0, width, ROLE_MUTED,
			  ui->plant->cfg == NULL || ui->plant->cfg->nmeters == 0
				  ? "No meters are configured."
				  : "No meter selected.");
		return;
	}
	/* from a 120x50 terminal (a 48-row body): below, titled panels would
	 * be cut or squeeze the chart */
	c.expanded = width >= 120 && rows >= 48;
	/* Down: the last figures stay (marked old); no tier, band or risk from them. */
	if (c.s.comm == COMM_DOWN)
		analysis_unjudge(&c.s.res);
	draw_title(&c, width);
	top = c.expanded ? 3 : 2;

	leftw = c.expanded ? width * 11 / 20 : width * 9 / 20 - 1;
	rx = leftw + 2;
	rw = width - rx;

	memset(ps, 0, sizeof(ps));
	if (utility_meter(&c)) {
		/* No phases to gauge: the utility's values on the left, its
		 * energy (gas, heat) on the right. */
		ng = 0;
		panel_utility(&c, &ps[0]);
		np = 1;
		if (profile_maps(c.s.m->cfg->profile, QTY_E_IMP) ||
		    config_derives_energy(ui->plant->cfg, c.s.m->cfg))
			panel_energy(&c, &ps[np++]);
		gh = panels_height(&c, ps, 1);
		ph = panels_height(&c, ps + 1, np - 1);
	} else {
		ng = build_gauges(&c, gauges);
		panel_pf(&c, &ps[0]);
		panel_unbalance(&c, &ps[1], c.expanded ? rw : rw - COMPACT_LABEL);
		panel_quality(&c, &ps[2]);
		panel_risk(&c, &ps[3]);
		panel_energy(&c, &ps[4]);
		np = 5;
		gh = gauge_height(&c, gauges, ng);
		ph = panels_height(&c, ps, np);
	}
	mid = gh > ph ? gh : ph;
	/*
	 * Rows: the gauges first, then the chart's minimum (15 rows on a big
	 * screen, less when the gauges need the room, never under 4); the
	 * panels give way (the energy panel, last, goes first). The chart
	 * takes whatever is left.
	 */
	{
		int avail = rows - top - 2 - (c.expanded ? 1 : 0); /* title and axis lines, a gap */
		int minc = MIN_CHART_ROWS;

		if (c.expanded) {
			minc = avail - gh;
			if (minc > WIDE_CHART_ROWS)
				minc = WIDE_CHART_ROWS;
			if (minc < MIN_CHART_ROWS)
				minc = MIN_CHART_ROWS;
		}

		if (avail - mid < minc)
			mid = avail - minc;
		if (mid < 0)
			mid = 0;
		if (c.expanded)
			mid++;
		chart_rows = rows - top - mid;
	}
	/* expanded: a blank line before the chart */
	if (ng > 0) {
		draw_gauges(&c, top, 0, leftw, c.expanded ? mid - 1 : mid, gauges, ng);
		draw_panels(&c, top, rx, rw, c.expanded ? mid - 1 : mid, ps, np);
	} else {
		draw_panels(&c, top, 0, leftw, c.expanded ? mid - 1 : mid, ps, 1);
		draw_panels(&c, top, rx, rw, c.expanded ? mid - 1 : mid, ps + 1, np - 1);
	}
	draw_trend(&c, top + mid, chart_rows, width);
	for (i = 0; i < 5; i++)
		view_lines_free(&ps[i].lines);
}

static int step_meter(struct ui *ui, int dir)
{
	size_t n = ui->plant->cfg != NULL ? ui->plant->cfg->nmeters : 0, *vis, k, i;
	bool found = false;

	if (n == 0)
		return UI_HANDLED;
	vis = util_calloc(n, sizeof(*vis));
	k = view_overview_order(ui, vis, n);
	if (k == 0) {
		free(vis);
		return UI_HANDLED;
	}
	for (i = 0; i < k; i++)
		if (vis[i] == ui->meter) {
			found = true;
			break;
		}
	if (!found)
		i = 0;
	else
		i = dir > 0 ? (i + 1) % k : (i + k - 1) % k;
	ui->meter = vis[i];
	free(vis);
	return UI_HANDLED | UI_REDRAW;
}

static int meter_key(struct ui *ui, void *state, int ch)
{
	(void)state;
	switch (ch) {
	case KEY_UP:
	case '[':
	case 'k':
		return step_meter(ui, -1);
	case KEY_DOWN:
	case ']':
	case 'j':
		return step_meter(ui, 1);
	case 27:
	case KEY_BACKSPACE:
	case 127:
	case 8:
		ui->view = VIEW_OVERVIEW;
		return UI_HANDLED | UI_REDRAW;
	default:
		return UI_IGNORED;
	}
}

static const char *const meter_help[] = {
	"Up [ k      previous meter (in overview order)",
	"Down ] j    next meter",
	"Esc Bksp    back to the overview",
	NULL,
};

const struct view_ops view_meter_ops = {
	.name = "Meter",
	.hotkey = '2',
	.draw = meter_draw,
	.key = meter_key,
	.help = meter_help,
};
