// SPDX-License-Identifier: MIT
/*
 * view_overview: the console's first screen (key 1). Two lines of site
 * figures (kpi_site) and a rule, then one row per meter in the order of
 * view_overview_order() (sorted, filtered): communication state, power, a
 * 15-minute sparkline, power factor with its tier, voltage and current
 * unbalance, the most loaded phase and the age of the data, so an operator
 * sees at a glance which meter is in trouble and why.
 *
 * Columns come from a table with minimum widths, priorities and the
 * terminal width from which they appear: at 80 columns the essential ones
 * fit (short sparkline, 4-letter PF tiers); from 120 THD-V and the risk
 * level are added, from 160 reactive power and the description; space left
 * over widens the name, the PF text and the sparkline. A meter whose data
 * is not live keeps its last figures in ROLE_STALE beside "stale"/"down";
 * a meter that is down judges nothing from them (tier and risk "-").
 *
 * Keys: moving the selection (ui->meter, kept visible through the list
 * widget's scroll), Enter for the meter view, '<' '>' 'r' for the sort,
 * '/' for the filter (while it is edited every key goes to it). The sort,
 * the filter and the scroll are this view's state (struct
 * view_overview_state); the meter view steps in the same order.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/alarm.h"
#include "phasor/fmt.h"
#include "phasor/util.h"
#include "phasor/utility.h"
#include "phasor/view.h"

#define SPARK_S 900             /* the sparkline's window: 15 minutes */
#define HEAD_ROWS 4             /* figures (2), rule, column headers */

enum col_id {
	C_SEL, C_NAME, C_COMM, C_KW, C_SHARE, C_KWH, C_Q, C_SPARK, C_PF, C_VUNB, C_IUNB, C_MAXPH,
	C_THD, C_RISK, C_AGE, C_DESC, C__COUNT
};

struct col_def {
	const char *hdr;        /* header at the minimum width */
	const char *hdr_long;   /* header when the column is at least as wide */
	int minw;
	int prio;               /* dropped first when space is short: highest */
	int from_cols;          /* shown from this body width */
	bool right;             /* numbers: right-aligned */
	int sort;               /* enum ui_sort shown with an arrow, or -1 */
};

static const struct col_def cols_def[C__COUNT] = {
	[C_SEL] = { "", "", 1, 0, 0, false, -1 },
	[C_NAME] = { "Meter", "Meter", 8, 0, 0, false, SORT_NAME },
	[C_COMM] = { "Comm", "Comm", 9, 1, 0, false, SORT_STATUS },
	[C_KW] = { "kW", "P kW", 6, 2, 0, true, SORT_POWER },
	/* the share of the parent's power (only with a meter tree; from 100
	 * columns: at 80 the indented names need the room) */
	[C_SHARE] = { "Shr%", "% par", 4, 7, 100, true, -1 },
	/* today's energy (kpi.h), from 120 columns: dropped before THD and
	 * the risk when they do not all fit */
	[C_KWH] = { "kWh", "kWh today", 7, 10, 120, true, -1 },
	[C_Q] = { "kvar", "Q kvar", 7, 12, 160, true, -1 },
	[C_SPARK] = { "P 15m", "P last 15 min", 5, 7, 0, false, -1 },
	[C_PF] = { "PF", "PF tier", 10, 3, 0, false, SORT_PF },
	[C_VUNB] = { "Vunb%", "V unb %", 7, 5, 0, true, SORT_UNBALANCE },
	[C_IUNB] = { "Iunb%", "I unb %", 7, 4, 0, true, SORT_UNBALANCE },
	[C_MAXPH] = { "Max", "Max ph", 3, 8, 0, false, -1 },
	[C_THD] = { "THDv%", "THD-V %", 6, 10, 120, true, -1 },
	[C_RISK] = { "Risk", "Risk", 8, 9, 120, false, -1 },
	[C_AGE] = { "Age", "Age", 5, 6, 0, true, SORT_AGE },
	[C_DESC] = { "Description", "Description", 10, 11, 160, false, -1 },
};

/* Widths a column may grow to from left-over space, in this order. */
static const struct {
	enum col_id c;
	int upto;               /* 0: the longest name / description */
	bool whole;             /* only when it can grow all the way */
} grow_order[] = {
	{ C_NAME, 0, false }, { C_SPARK, 16, false }, { C_PF, 17, true }, { C_KW, 8, true },
	{ C_VUNB, 9, true }, { C_IUNB, 9, true }, { C_MAXPH, 6, true }, { C_THD, 8, true },
	{ C_Q, 8, true }, { C_KWH, 9, true }, { C_SPARK, 32, false }, { C_DESC, 0, false }, { C_SPARK, 90, false },
};

struct layout {
	int x[C__COUNT], w[C__COUNT];   /* w 0: not shown */
};

#define UNMETERED "(unmetered)"

static int longest_name(const struct config *cfg, bool desc)
{
	int best = 0;
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nmeters; i++) {
		const struct config_meter *cm = &cfg->meters[i];
		const char *s = desc ? cm->description : cm->name;
		int wd = s != NULL ? draw_width(s) : 0;

		/* a feeder is indented two columns a level, and a parent's
		 * remainder row one level under it */
		if (!desc)
			wd += 2 * cm->depth;
		if (!desc && cm->nchildren > 0 && 2 * (cm->depth + 1) + (int)strlen(UNMETERED) > wd)
			wd = 2 * (cm->depth + 1) + (int)strlen(UNMETERED);
		if (wd > best)
			best = wd;
	}
	return best;
}

/* longest_name, measured once per configuration */
static int longest_name_kept(struct view_overview_state *st, const struct config *cfg, bool desc)
{
	if (st->names_cfg != cfg) {
		st->names_cfg = cfg;
		st->names_w[0] = st->names_w[1] = -1;
	}
	if (st->names_w[desc] < 0)
		st->names_w[desc] = longest_name(cfg, desc);
	return st->names_w[desc];
}

/* Which columns, how wide, for a body width. */
static void layout_columns(const struct ui *ui, struct view_overview_state *st, int width,
			   struct layout *lay)
{
	bool on[C__COUNT];
	int need, left, i, c;
	size_t g;

	for (c = 0; c < C__COUNT; c++) {
		on[c] = width >= cols_def[c].from_cols;
		lay->w[c] = 0;
	}
	on[C_SHARE] = on[C_SHARE] && config_has_tree(ui->plant->cfg);
	/* Drop the least essential until the minimum widths fit. */
	for (;;) {
		int worst = -1;

		need = -1;
		for (c = 0; c < C__COUNT; c++)
			if (on[c]) {
				need += cols_def[c].minw + 1;
				if (cols_def[c].prio > 0 &&
				    (worst < 0 || cols_def[c].prio > cols_def[worst].prio))
					worst = c;
			}
		if (need <= width || worst < 0)
			break;
		on[worst] = false;
	}
	for (c = 0; c < C__COUNT; c++)
		if (on[c])
			lay->w[c] = cols_def[c].minw;
	left = width - need;
	for (g = 0; g < UTIL_ARRAY_LEN(grow_order) && left > 0; g++) {
		enum col_id gc = grow_order[g].c;
		int upto = grow_order[g].upto;
		int add;

		if (!on[gc])
			continue;
		if (upto == 0)
			upto = longest_name_kept(st, ui->plant->cfg, gc == C_DESC);
		add = upto - lay->w[gc];
		if (add <= 0 || (grow_order[g].whole && add > left))
			continue;
		if (add > left)
			add = left;
		lay->w[gc] += add;
		left -= add;
	}
	for (i = 0, c = 0; c < C__COUNT; c++) {
		lay->x[c] = i;
		if (lay->w[c] > 0)
			i += lay->w[c] + 1;
	}
}

/* ---- the visible list ---- */

/* What sorting compares, computed once per meter per call. */
struct sort_row {
	size_t meter;
	double key;
	const char *name;
};

static double row_key(const struct ui *ui, int sort, size_t i)
{
	const struct plant *p = ui->plant;
	const struct live_meter *m = live_meter_const(p->live, i);
	struct analysis_input in;
	struct analysis_params par;
	struct analysis_result r;

	switch ((enum ui_sort)sort) {
	case SORT_STATUS: {
		/* worst first when descending: down, stale, unknown, ok */
		static const double rank[] = { [COMM_UNKNOWN] = 1, [COMM_OK] = 0,
					       [COMM_STALE] = 2, [COMM_DOWN] = 3 };
		return rank[view_meter_comm(ui, m)];
	}
	case SORT_AGE:
		return m->last_sample_us == 0 ? INFINITY : (double)(p->now_us - m->last_sample_us);
	case SORT_POWER:
	case SORT_PF:
	case SORT_UNBALANCE:
		live_analysis_input(m, p->now_us, &in);
		live_analysis_params(m, p->cfg, &par);
		analysis_compute_figures(&in, &par, &r);
		if (sort == SORT_POWER)
			return r.p_total;
		if (sort == SORT_PF)
			return fabs(r.pf_total);
		return fmax(isnan(r.v_unb_nema) ? -1 : r.v_unb_nema,
			    isnan(r.i_unb_nema) ? -1 : r.i_unb_nema);
	case SORT_CONFIG:
	case SORT_NAME:
	case SORT__COUNT:
		break;
	}
	return (double)i;
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct listw *l = arg;
	const struct sort_row *x = a, *y = b;
	int c = 0;

	if (l->sort == SORT_NAME) {
		c = util_strcasecmp(x->name, y->name);
	} else {
		/* Unknown (NaN) values always go last, whatever the direction. */
		bool xn = isnan(x->key), yn = isnan(y->key);

		if (xn || yn)
			return xn == yn ? (x->meter > y->meter) - (x->meter < y->meter) : xn ? 1 : -1;
		c = (x->key > y->key) - (x->key < y->key);
	}
	if (l->sort_desc)
		c = -c;
	if (c == 0)
		c = (x->meter > y->meter) - (x->meter < y->meter);
	return c;
}

static bool matches(const struct listw *l, const struct config_meter *cm)
{
	return listw_matches(l, cm->name) || listw_matches(l, cm->description) ||
	       listw_matches(l, cm->profile_name);
}

/*
 * The tree order: each meter followed by its feeders (in the sort's order)
 * and then, with rems, its remainder row (nmeters + the parent's index).
 * A meter whose parent is filtered out stands as a root.
 */
struct tree_walk {
	const struct config *cfg;
	const struct sort_row *rows;
	size_t k, n;
	const unsigned char *in;
	size_t *out, max, nout;
	bool rems;
};

static void tree_emit(struct tree_walk *t, size_t m)
{
	size_t r;

	if (t->nout < t->max)
		t->out[t->nout++] = m;
	if (t->cfg->meters[m].nchildren == 0)
		return;
	for (r = 0; r < t->k; r++)
		if (config_parent(&t->cfg->meters[t->rows[r].meter]) == (int)m)
			tree_emit(t, t->rows[r].meter);
	if (t->rems && t->nout < t->max)
		t->out[t->nout++] = t->n + m;
}

static size_t tree_order(const struct config *cfg, const struct sort_row *rows, size_t k,
			 size_t n, size_t *out, size_t max, bool rems)
{
	unsigned char *in = util_calloc(n, 1);
	struct tree_walk t = { cfg, rows, k, n, in, out, max, 0, rems };
	size_t r;

	for (r = 0; r < k; r++)
		in[rows[r].meter] = 1;
	for (r = 0; r < k; r++) {
		int par = config_parent(&cfg->meters[rows[r].meter]);

		if (par < 0 || !in[par])
			tree_emit(&t, rows[r].meter);
	}
	free(in);
	return t.nout;
}

/* Is a row of the list a parent's remainder (not a meter)? */
static bool rem_row(const struct ui *ui, size_t row)
{
	return row >= live_count(ui->plant->live);
}

/*
 * The rows of list l in its order (sort and filter applied): meter indices,
 * and with rems the remainder rows of a tree (rem_row); returns the count.
 */
static size_t order_rows(const struct ui *ui, const struct listw *l, size_t *out, size_t max,
			 bool rems)
{
	const struct live *lv = ui->plant->live;
	size_t n = live_count(lv), i, k = 0;
	struct sort_row *rows = util_calloc(n ? n : 1, sizeof(*rows));

	for (i = 0; i < n; i++) {
		const struct live_meter *m = live_meter_const(lv, i);

		if (!matches(l, m->cfg))
			continue;
		rows[k].meter = i;
		rows[k].name = m->cfg->name;
		rows[k].key = row_key(ui, l->sort, i);
		k++;
	}
	if (l->sort != SORT_CONFIG || l->sort_desc)
		qsort_r(rows, k, sizeof(*rows), cmp_rows, (void *)l);
	if (k > 0 && config_has_tree(ui->plant->cfg)) {
		k = tree_order(ui->plant->cfg, rows, k, n, out, max, rems);
		free(rows);
		return k;
	}
	for (i = 0; i < k && i < max; i++)
		out[i] = rows[i].meter;
	free(rows);
	return k < max ? k : max;
}

/* Meter indices in list l's order (sort and filter applied); returns the count. */
static size_t order(const struct ui *ui, const struct listw *l, size_t *out, size_t max)
{
	return order_rows(ui, l, out, max, false);
}

size_t view_overview_order(const struct ui *ui, size_t *out, size_t max)
{
	const struct view_overview_state *st = ui->view_state[VIEW_OVERVIEW];
	struct listw none;

	if (st != NULL)
		return order(ui, &st->list, out, max);
	listw_init(&none, SORT__COUNT);
	return order(ui, &none, out, max);
}

/* Visible rows, meters and remainders (caller frees *out); returns the count. */
static size_t visible(const struct ui *ui, const struct view_overview_state *st, size_t **out)
{
	size_t n = ui->plant->cfg != NULL ? ui->plant->cfg->nmeters : 0;

	/* at most one remainder row per meter */
	*out = util_calloc(n > 0 ? 2 * n : 1, sizeof(**out));
	return n > 0 ? order_rows(ui, &st->list, *out, 2 * n, true) : 0;
}

static size_t position(const size_t *vis, size_t n, size_t meter, bool *found)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (vis[i] == meter) {
			*found = true;
			return i;
		}
	*found = false;
	return 0;
}

static int body_rows(const struct ui *ui)
{
	return ui->body != NULL ? getmaxy(ui->body) : UI_MIN_ROWS - 3;
}

/* Rows available for meters. */
static int list_rows(const struct ui *ui, const struct view_overview_state *st)
{
	int rows = body_rows(ui) - HEAD_ROWS;

	if (listw_filtering(&st->list))
		rows--;
	return rows > 1 ? rows : 1;
}

/* ---- drawing ---- */

static void draw_figures(struct ui *ui, int width)
{
	WINDOW *w = ui->body;
	const struct config *cfg = ui->plant->cfg;
	const struct kpi_site *k = ui->plant->kpi != NULL ? kpi_site(ui->plant->kpi) : NULL;
	struct view_lines ls = { 0 };
	struct view_line *l;
	char a[48], b[48];
	size_t i;
	int used;

	l = view_lines_add(&ls, 0);
	if (k == NULL) {
		view_seg(l, ROLE_MUTED, "Site figures are not available.");
		view_line_draw(w, 0, 0, width, l);
		view_lines_free(&ls);
		return;
	}
	/* Labels carry the colour; the figures, which change every refresh,
	 * stay plain (no attribute changes around each digit). */
	view_seg(l, ROLE_ACCENT, "Total ");
	view_seg(l, ROLE_NORMAL, "%s", fmt_si(k->p_w, "W", a, sizeof(a)));
	view_seg(l, ROLE_MUTED, "  Today ");
	view_seg(l, ROLE_NORMAL, "%s", fmt_energy(k->today_wh, a, sizeof(a)));
	/* From when it counts, and the counter resets it bridged. */
	if (!isnan(k->today_wh)) {
		view_seg(l, ROLE_MUTED, " (since %s", view_hhmm(k->today_since_us, b, sizeof(b)));
		if (k->today_resets > 0)
			view_seg(l, ROLE_MUTED, ", %u reset%s", k->today_resets,
				 k->today_resets == 1 ? "" : "s");
		view_seg(l, ROLE_MUTED, ")");
	}
	if (isfinite(k->cost)) {
		view_seg(l, ROLE_MUTED, "  ");
		view_seg(l, ROLE_NORMAL, "%s",
			 fmt_money(k->cost, cfg != NULL ? cfg->site.currency : NULL, a,
				   sizeof(a)));
	}
	if (isfinite(k->co2_kg)) {
		view_seg(l, ROLE_MUTED, "  ");
		view_seg(l, ROLE_NORMAL, "%s", view_fixed(k->co2_kg, k->co2_kg < 10.0 ? 1 : 0, a, sizeof(a)));
		view_seg(l, ROLE_MUTED, " kg CO2");
	}
	view_seg(l, ROLE_MUTED, "  Data ");
	view_seg(l, ROLE_NORMAL, "%s", isfinite(k->quality) ? fmt_pct(k->quality * 100.0, a, sizeof(a))
							   : "-");
	view_line_draw(w, 0, 0, width, l);

	/* Production first when there is any: now, the coverage of the day
	 * (production / consumption) and the part consumed on site now. */
	used = 0;
	if (k->nprod > 0) {
		l = view_lines_add(&ls, 0);
		view_seg(l, ROLE_ACCENT, "Prod ");
		view_seg(l, ROLE_NORMAL, "%s", fmt_si(k->prod_w, "W", a, sizeof(a)));
		view_seg(l, ROLE_MUTED, " Cov ");
		view_seg(l, ROLE_NORMAL, "%s", isfinite(k->coverage)
						       ? fmt_pct(k->coverage * 100.0, a, sizeof(a))
						       : "-");
		view_seg(l, ROLE_MUTED, " Self ");
		view_seg(l, ROLE_NORMAL, "%s", isfinite(k->self_now)
						       ? fmt_pct(k->self_now * 100.0, a, sizeof(a))
						       : "-");
		if (k->grid) {
			/* what the grid connection's export counter says went out today */
			view_seg(l, ROLE_MUTED, " Exp ");
			view_seg(l, ROLE_NORMAL, "%s", fmt_energy(k->export_today_wh, a, sizeof(a)));
		}
		view_seg(l, ROLE_MUTED, "  ");
		used = view_line_draw(w, 1, 0, width, l);
	}
	/* Top consumers: as many whole entries as fit. */
	used += draw_text(w, 1, used, width - used, ROLE_MUTED, "Top: ");
	if (k->ntop == 0)
		draw_text(w, 1, used, width - used, ROLE_MUTED, "-");
	for (i = 0; i < k->ntop && i < KPI_TOP; i++) {
		const char *name = cfg != NULL && k->top[i].meter < cfg->nmeters
					   ? cfg->meters[k->top[i].meter].name
					   : "?";
		char entry[160];
		int ew;

		/* Whole percents: a share is read at a glance, and a tenth that
		 * changes every second is noise (and bytes on a slow link). */
		if (isfinite(k->top[i].share))
			snprintf(entry, sizeof(entry), "%s%s%s %.0f %%", i > 0 ? ", " : "", name,
				 k->top[i].remainder ? " unmetered" : "",
				 round(k->top[i].share * 100.0));
		else
			snprintf(entry, sizeof(entry), "%s%s%s -", i > 0 ? ", " : "", name,
				 k->top[i].remainder ? " unmetered" : "");
		ew = draw_width(entry);
		/* keep room for ", ..." unless this is the last */
		if (used + ew > width || (i + 1 < k->ntop && used + ew + 5 > width)) {
			draw_text(w, 1, used, width - used, ROLE_MUTED, i > 0 ? ", ..." : "...");
			break;
		}
		used += draw_text(w, 1, used, width - used, ROLE_NORMAL, entry);
	}
	view_lines_free(&ls);
}

static const char *sort_arrow(const struct listw *l)
{
	return draw_symbol(l->sort_desc ? SYM_DOWN_ARROW : SYM_UP);
}

static void draw_header_row(struct ui *ui, const struct listw *l, int y, const struct layout *lay)
{
	int c;

	for (c = 0; c < C__COUNT; c++) {
		const struct col_def *d = &cols_def[c];
		char buf[48];

		if (lay->w[c] == 0)
			continue;
		/* the long label when it fits with room for " ^", the sort arrow
		 * (a space before it: "kWv" would read as a unit) */
		snprintf(buf, sizeof(buf), "%s%s%s",
			 draw_width(d->hdr_long) + (d->sort >= 0 ? 2 : 0) <= lay->w[c] ? d->hdr_long
										: d->hdr,
			 d->sort >= 0 && l->sort == d->sort ? " " : "",
			 d->sort >= 0 && l->sort == d->sort ? sort_arrow(l) : "");
		if (d->right)
			draw_text_right(ui->body, y, lay->x[c], lay->w[c], ROLE_HEADER, buf);
		else
			draw_text(ui->body, y, lay->x[c], lay->w[c], ROLE_HEADER, buf);
	}
}

static double max3(const double v[3])
{
	double m = NAN;
	int k;

	for (k = 0; k < 3; k++)
		if (!isnan(v[k]) && (isnan(m) || v[k] > m))
			m = v[k];
	return m;
}

static enum theme_role unb_role(const struct view_snap *s, double pct, enum theme_role base)
{
	if (isnan(pct) || !s->res.judged)
		return base;
	if (pct > s->par.unbalance_max)
		return ROLE_CRITICAL;
	switch (analysis_unbalance_band(pct)) {
	case UNB_SEVERE: return ROLE_ALARM;
	case UNB_MODERATE: return ROLE_WARNING;
	default: return base;
	}
}

/* view_kw's text, its digits over max_power when P is (fmt_against). */
static char *kw_against(double w, double max_w, char *buf, size_t size)
{
	struct fmt_limit lim = { max_w / 1000.0, true };
	double kw = w / 1000.0;

	return fmt_against(kw, &lim, 1, fabs(kw) < 9.995 ? 2 : fabs(kw) < 999.95 ? 1 : 0, buf, size);
}

/* P over the meter's max_power (only a meter that has one). */
static bool overloaded(const struct view_snap *s)
{
	size_t i;

	for (i = 0; i < s->res.nrisks; i++)
		if (s->res.risks[i].kind == RISK_OVERLOAD)
			return true;
	return false;
}

static void cell(struct ui *ui, int y, const struct layout *lay, enum col_id c,
		 enum theme_role r, const char *s)
{
	if (lay->w[c] == 0)
		return;
	if (cols_def[c].right)
		draw_text_right(ui->body, y, lay->x[c], lay->w[c], r, s);
	else
		draw_text(ui->body, y, lay->x[c], lay->w[c], r, s);
}

/* A value cell: when the meter's data is not live, the stale symbol goes
 * before the value, so it reads as old without colour too. */
static void vcell(struct ui *ui, int y, const struct layout *lay, enum col_id c,
		  const struct view_snap *s, enum theme_role r, const char *text)
{
	char buf[96];

	if (!s->stale || strcmp(text, "-") == 0) {
		cell(ui, y, lay, c, view_role(s, r), text);
		return;
	}
	snprintf(buf, sizeof(buf), "%s%s", draw_symbol(SYM_STALE), text);
	cell(ui, y, lay, c, ROLE_STALE, buf);
}

/* Two columns a level, the last level's ending in the branch symbol:
 * "    └ " (ASCII "    ` "), "" for a root. */
static const char *indent(char *buf, size_t size, int depth)
{
	size_t len = 0;
	int d;

	buf[0] = '\0';
	for (d = 1; d < depth && len + 3 < size; d++)
		len += (size_t)snprintf(buf + len, size - len, "  ");
	if (depth > 0)
		snprintf(buf + len, size - len, "%s ", draw_symbol(SYM_BRANCH));
	return buf;
}

/* A part of the whole as whole percents, "-" unknown. */
static const char *share_text(double part, double whole, char *buf, size_t size)
{
	if (!isfinite(part) || !(whole > 0.0))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.0f", round(part / whole * 100.0));
	return buf;
}

/* A parent's power history minus its feeders', second by second (a gap of
 * a few seconds in one of them holds its last value). */
#define REM_HOLD_S 5

static void hold_gaps(double *h, size_t n)
{
	size_t i, since = REM_HOLD_S + 1;
	double last = NAN;

	for (i = 0; i < n; i++) {
		if (!isnan(h[i])) {
			last = h[i];
			since = 0;
		} else if (++since <= REM_HOLD_S) {
			h[i] = last;
		}
	}
}

static size_t rem_history(struct ui *ui, size_t parent, double *hist, double *tmp)
{
	const struct plant *p = ui->plant;
	size_t n = live_history(live_meter_const(p->live, parent), LIVE_HIST_P, p->now_us, hist,
				SPARK_S), i, j;

	hold_gaps(hist, n);
	for (i = 0; i < p->cfg->nmeters; i++) {
		if (config_parent(&p->cfg->meters[i]) != (int)parent)
			continue;
		if (live_history(live_meter_const(p->live, i), LIVE_HIST_P, p->now_us, tmp, n) != n)
			continue;
		hold_gaps(tmp, n);
		for (j = 0; j < n; j++)
			hist[j] -= tmp[j];
	}
	return n;
}

static void draw_sparkcell(struct ui *ui, int y, const struct layout *lay, const double *hist,
			   size_t n, enum theme_role r)
{
	double lo = 0.0, hi = NAN;
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(hist[i]))
			continue;
		if (hist[i] < lo)
			lo = hist[i];
		if (isnan(hi) || hist[i] > hi)
			hi = hist[i];
	}
	if (isnan(hi))
		cell(ui, y, lay, C_SPARK, ROLE_MUTED, "-");
	else
		draw_sparkline(ui->body, y, lay->x[C_SPARK], lay->w[C_SPARK], hist, n, lo,
			       hi > lo ? hi : lo + 1.0, r);
}

/* A remainder's kW or kWh (W, Wh: the same scaling); negative (the
 * feeders read more than their parent) with the warning symbol. */
static void rem_cell(struct ui *ui, int y, const struct layout *lay, enum col_id c, double v)
{
	char buf[64], num[32];

	if (v < 0.0) {
		snprintf(buf, sizeof(buf), "%s%s", draw_symbol(SYM_WARNING),
			 view_kw(v, num, sizeof(num)));
		cell(ui, y, lay, c, ROLE_WARNING, buf);
	} else {
		cell(ui, y, lay, c, ROLE_NORMAL, view_kw(v, buf, sizeof(buf)));
	}
}

/*
 * The remainder row of a parent: "(unmetered)" one level under it, the
 * parent's power minus its feeders' (negative: the feeders read more than
 * their parent, a metering error, shown with the warning symbol), its share
 * of the parent and its own sparkline; no electrical figures of its own.
 */
static void draw_rem_row(struct ui *ui, int y, const struct layout *lay, size_t parent,
			 double *hist, double *tmp)
{
	const struct config_meter *cm = &ui->plant->cfg->meters[parent];
	struct kpi_remainder r;
	char name[160], ind[96], buf[64];

	snprintf(name, sizeof(name), "%s%s", indent(ind, sizeof(ind), cm->depth + 1), UNMETERED);
	cell(ui, y, lay, C_NAME, ROLE_MUTED, name);
	kpi_remainder(ui->plant->kpi, parent, &r);
	rem_cell(ui, y, lay, C_KW, r.p_w);
	cell(ui, y, lay, C_SHARE, r.p_w < 0.0 ? ROLE_WARNING : ROLE_NORMAL,
	     share_text(r.p_w, kpi_meter_power(ui->plant->kpi, parent), buf, sizeof(buf)));
	/* today's: the parent's rise minus its feeders' */
	rem_cell(ui, y, lay, C_KWH, r.wh);
	if (lay->w[C_SPARK] > 0)
		draw_sparkcell(ui, y, lay, hist, rem_history(ui, parent, hist, tmp), ROLE_CHART);
}

static void draw_row(struct ui *ui, int y, int width, const struct layout *lay, size_t meter,
		     bool selected, double *hist)
{
	WINDOW *w = ui->body;
	const struct config_meter *cm = &ui->plant->cfg->meters[meter];
	/*
	 * The selection bar covers the marker and the name only: the row is
	 * found at a glance, and its numbers, which change every refresh, stay
	 * in their own roles. A coloured background under changing digits
	 * costs two attribute changes per digit on the wire.
	 */
	enum theme_role base = ROLE_NORMAL;
	struct view_snap s;
	struct fmt_limit lims[4];
	size_t nlims;
	int prio;
	char buf[64], num[32];
	double v;

	view_snap_figures(ui, meter, &s);
	/* Down: its last figures stay (marked old), its tiers and risk are unknown. */
	if (s.comm == COMM_DOWN)
		analysis_unjudge(&s.res);
	if (selected) {
		char blank[512];
		int n = lay->x[C_NAME] + lay->w[C_NAME];

		if (n > width)
			n = width;
		if (n > (int)sizeof(blank) - 1)
			n = (int)sizeof(blank) - 1;
		memset(blank, ' ', (size_t)n);
		blank[n] = '\0';
		draw_text(w, y, 0, n, ROLE_SELECTION, blank);
		cell(ui, y, lay, C_SEL, ROLE_SELECTION, draw_symbol(SYM_SELECT));
	}
	/* Meters with an active or unacknowledged alarm: its symbol in the
	 * priority's role (beside the name on the selected row). */
	prio = view_alarm_engine(ui) != NULL ? alarm_meter_priority(view_alarm_engine(ui), meter) : -1;
	if (prio >= 0 && !selected)
		cell(ui, y, lay, C_SEL, view_prio_role(prio), draw_symbol(SYM_ALARM));
	if (prio >= 0 && selected) {
		char marked[160], ind[96];

		snprintf(marked, sizeof(marked), "%s%s%s", indent(ind, sizeof(ind), cm->depth),
			 draw_symbol(SYM_ALARM), cm->name);
		cell(ui, y, lay, C_NAME, ROLE_SELECTION, marked);
	} else {
		char named[160], ind[96];

		snprintf(named, sizeof(named), "%s%s", indent(ind, sizeof(ind), cm->depth), cm->name);
		cell(ui, y, lay, C_NAME, selected ? ROLE_SELECTION : base, named);
	}
	if (lay->w[C_COMM] > 0)
		view_draw_comm(w, y, lay->x[C_COMM], lay->w[C_COMM], s.comm);
	if (overloaded(&s)) {
		/* Over the meter's max_power: marked as the meter view's gauge is. */
		char kw[32];

		snprintf(buf, sizeof(buf), "%s%s", draw_symbol(SYM_WARNING),
			 kw_against(s.res.p_total, s.par.max_power, kw, sizeof(kw)));
		vcell(ui, y, lay, C_KW, &s, ROLE_CRITICAL, buf);
	} else {
		vcell(ui, y, lay, C_KW, &s, base, view_kw(s.res.p_total, buf, sizeof(buf)));
	}
	vcell(ui, y, lay, C_Q, &s, base, view_kw(s.res.q_total, buf, sizeof(buf)));
	/* today's energy (Wh scale to kWh as W to kW) */
	vcell(ui, y, lay, C_KWH, &s, base,
	      view_kw(kpi_meter_today_wh(ui->plant->kpi, meter, NULL), buf, sizeof(buf)));
	if (config_parent(cm) >= 0 && lay->w[C_SHARE] > 0) {
		const struct kpi *k = ui->plant->kpi;

		cell(ui, y, lay, C_SHARE, view_role(&s, base),
		     share_text(kpi_meter_power(k, meter), kpi_meter_power(k, (size_t)config_parent(cm)), buf,
				sizeof(buf)));
	}

	if (lay->w[C_SPARK] > 0 && s.m != NULL)
		draw_sparkcell(ui, y, lay, hist,
			       live_history(s.m, LIVE_HIST_P, ui->plant->now_us, hist, SPARK_S),
			       view_role(&s, ROLE_CHART));

	if (lay->w[C_PF] > 0 && s.m != NULL && cm->utility != UTILITY_ELECTRICITY) {
		/* A utility meter has no PF: its flow, with its unit (the
		 * sparkline is the flow's too, live.h). */
		const struct live_value *fv = &s.m->v[QTY_FLOW];

		vcell(ui, y, lay, C_PF, &s, base,
		      fv->t_us == 0 ? "-" : fmt_qty(QTY_FLOW, fv->value, buf, sizeof(buf)));
	} else if (lay->w[C_PF] > 0) {
		bool full = lay->w[C_PF] >= 17;
		enum pf_tier t = s.res.tier_total;

		/* Three decimals when they fit (0.847 is "poor", 0.85 would not
		 * say why), two for an exported PF at 80 columns. */
		if (isnan(s.res.pf_total)) {
			snprintf(buf, sizeof(buf), "-");
		} else {
			snprintf(buf, sizeof(buf), "%s %s", analysis_pf_text(s.res.pf_total, 3, num, sizeof(num)),
				 full ? analysis_pf_tier_name(t) : view_tier_short(t));
			if (draw_width(buf) + (s.stale ? 1 : 0) > lay->w[C_PF])
				snprintf(buf, sizeof(buf), "%s %s",
					 analysis_pf_text(s.res.pf_total, 2, num, sizeof(num)),
					 view_tier_short(t));
		}
		vcell(ui, y, lay, C_PF, &s, t == PF_UNKNOWN ? base : view_role_tier(t), buf);
	}

	/* Numbers on the side of the limits their colours come from (fmt_against). */
	nlims = analysis_unbalance_limits(&s.par, lims);
	v = s.res.v_unb_nema;
	fmt_against(v, lims, nlims, 1, num, sizeof(num));
	vcell(ui, y, lay, C_VUNB, &s, unb_role(&s, v, base), num);
	v = s.res.i_unb_nema;
	fmt_against(v, lims, nlims, 1, num, sizeof(num));
	vcell(ui, y, lay, C_IUNB, &s, unb_role(&s, v, base), num);

	if (s.res.most_loaded >= 0)
		snprintf(num, sizeof(num), "L%d", s.res.most_loaded + 1);
	else
		snprintf(num, sizeof(num), "-");
	cell(ui, y, lay, C_MAXPH, view_role(&s, base), num);

	v = max3(s.in.thd_v);
	lims[0] = (struct fmt_limit){ s.par.thd_v_max, true };
	fmt_against(v, lims, 1, 1, num, sizeof(num));
	vcell(ui, y, lay, C_THD, &s,
	      s.res.judged && !isnan(v) && v > s.par.thd_v_max ? ROLE_ALARM : base, num);

	if (lay->w[C_RISK] > 0) {
		bool known = s.res.judged &&
			     (!isnan(s.res.p_total) || !isnan(s.in.v_ln[0]) || !isnan(s.in.v_ll[0]));

		cell(ui, y, lay, C_RISK, s.stale ? ROLE_STALE : known ? view_role_risk(s.res.risk) : base,
		     known ? analysis_risk_level_name(s.res.risk) : "-");
	}

	if (s.m != NULL && s.m->last_sample_us > 0) {
		/* never negative: a sample may be stamped a little ahead of the frame */
		int64_t now = ui->plant->now_us;
		int64_t age = now > s.m->last_sample_us ? now - s.m->last_sample_us : 0;
		int64_t fresh = 2 * live_period_us(s.m);

		/* Within two periods the data is as fresh as the meter gives it:
		 * say so ("<2s") rather than print an age that flickers every
		 * frame; exact ages once it is late. */
		if (age < fresh)
			snprintf(buf, sizeof(buf), "<%llds",
				 (long long)((fresh + 999999) / 1000000));
		else
			fmt_age(age, buf, sizeof(buf));
	} else {
		fmt_age(-1, buf, sizeof(buf));
	}
	cell(ui, y, lay, C_AGE, s.stale ? ROLE_STALE : selected ? base : ROLE_MUTED, buf);

	cell(ui, y, lay, C_DESC, selected ? base : ROLE_MUTED,
	     cm->description != NULL ? cm->description : "");
}

static void draw_filter_line(struct ui *ui, const struct listw *f, int y, int width, size_t nvis)
{
	struct view_lines ls = { 0 };
	struct view_line *l = view_lines_add(&ls, 0);
	size_t total = ui->plant->cfg != NULL ? ui->plant->cfg->nmeters : 0;

	view_seg(l, ROLE_ACCENT, "Filter: ");
	view_seg(l, ROLE_NORMAL, "%s%s", f->filter, f->filter_editing ? "_" : "");
	view_seg(l, ROLE_MUTED, "  %zu of %zu meters", nvis, total);
	if (f->filter_editing)
		view_seg(l, ROLE_MUTED, "  Enter keeps, Esc clears");
	else
		view_seg(l, ROLE_MUTED, "  / edits, Esc clears");
	view_line_draw(ui->body, y, 0, width, l);
	view_lines_free(&ls);
}

static void overview_draw(struct ui *ui, void *state)
{
	struct view_overview_state *st = state;
	struct listw *lw = &st->list;
	const struct config *cfg = ui->plant->cfg;
	WINDOW *w = ui->body;
	int rows = getmaxy(w), width = getmaxx(w);
	int nrows = list_rows(ui, st), i;
	struct layout lay;
	size_t *vis, n, pos;
	bool found;
	double *hist;

	draw_figures(ui, width);
	draw_rule(w, 2, 0, width, ROLE_MUTED);
	layout_columns(ui, st, width, &lay);
	draw_header_row(ui, lw, 3, &lay);

	n = visible(ui, st, &vis);
	if (listw_filtering(lw))
		draw_filter_line(ui, lw, rows - 1, width, n);
	if (n == 0) {
		if (cfg == NULL || cfg->nmeters == 0)
			draw_text(w, HEAD_ROWS, 0, width, ROLE_MUTED, "No meters are configured.");
		else
			draw_textf(w, HEAD_ROWS, 0, width, ROLE_WARNING,
				   "No meter matches the filter \"%s\".", lw->filter);
		free(vis);
		return;
	}

	/* The selection is a meter; keep it on a visible row. */
	pos = position(vis, n, ui->meter, &found);
	if (!found)
		ui->meter = vis[pos];
	listw_follow(lw, (int)pos, nrows);
	listw_clamp(lw, (int)n, nrows);

	hist = util_calloc(2 * SPARK_S, sizeof(*hist));
	for (i = 0; i < nrows && (size_t)(lw->scroll + i) < n; i++) {
		size_t row = (size_t)(lw->scroll + i);

		if (rem_row(ui, vis[row]))
			draw_rem_row(ui, HEAD_ROWS + i, &lay, vis[row] - cfg->nmeters, hist,
				     hist + SPARK_S);
		else
			draw_row(ui, HEAD_ROWS + i, width, &lay, vis[row], row == pos, hist);
	}
	/* More rows than fit: say so on the rule. */
	if (lw->scroll > 0 || (size_t)(lw->scroll + nrows) < n) {
		char more[64];

		snprintf(more, sizeof(more), " %d-%zu of %zu ", lw->scroll + 1,
			 (size_t)(lw->scroll + nrows) < n ? (size_t)(lw->scroll + nrows) : n, n);
		draw_text_right(w, 2, 0, width - 1, ROLE_MUTED, more);
	}
	free(hist);
	free(vis);
}

/* ---- keys ---- */

/* The row of a meter nearest to row r, looking down first when down
 * (remainder rows are not selected), else up. */
static size_t meter_near(const struct ui *ui, const size_t *vis, size_t n, size_t r, bool down)
{
	size_t j;

	for (j = r; j < n && down; j++)
		if (!rem_row(ui, vis[j]))
			return j;
	for (j = r + 1; j-- > 0;)
		if (!rem_row(ui, vis[j]))
			return j;
	for (j = r; j < n; j++)
		if (!rem_row(ui, vis[j]))
			return j;
	return 0;
}

static int move_selection(struct ui *ui, struct view_overview_state *st, int ch)
{
	size_t *vis, n, pos, to;
	bool found;

	n = visible(ui, st, &vis);
	if (n == 0) {
		free(vis);
		return UI_HANDLED;
	}
	pos = position(vis, n, ui->meter, &found);
	to = (size_t)listw_move(ch, found ? (long)pos : -1, n, list_rows(ui, st));
	ui->meter = vis[meter_near(ui, vis, n, to, !found || to >= pos)];
	free(vis);
	return UI_HANDLED | UI_REDRAW;
}

static int overview_key(struct ui *ui, void *state, int ch)
{
	struct view_overview_state *st = state;
	struct listw *lw = &st->list;
	int r;

	if (lw->filter_editing)
		return ch == KEY_RESIZE ? UI_IGNORED : listw_filter_key(lw, ch);
	if (listw_is_move(ch))
		return move_selection(ui, st, ch);
	r = listw_sort_key(lw, ch);
	if (r != UI_IGNORED)
		return r;
	switch (ch) {
	case '/':
		lw->filter_editing = true;
		return UI_HANDLED | UI_REDRAW;
	case 27:
		if (lw->filter[0] == '\0')
			return UI_IGNORED;
		lw->filter[0] = '\0';
		lw->scroll = 0;
		return UI_HANDLED | UI_REDRAW;
	default:
		if (view_is_enter(ch)) {
			size_t *vis, n = visible(ui, st, &vis);

			free(vis);
			if (n == 0)
				return UI_HANDLED;
			ui->view = VIEW_METER;
			return UI_HANDLED | UI_REDRAW;
		}
		return UI_IGNORED;
	}
}

static void *overview_init(const struct plant *p)
{
	struct view_overview_state *st = util_calloc(1, sizeof(*st));

	(void)p;
	listw_init(&st->list, SORT__COUNT);
	return st;
}

static void overview_free(void *state)
{
	free(state);
}

static void overview_enter(void *state)
{
	struct view_overview_state *st = state;

	listw_top(&st->list);
}

static const char *const overview_help[] = {
	"Up Down     select a meter (also k j)",
	"PgUp PgDn   a page up / down",
	"Home End    first / last meter",
	"Enter       open the selected meter",
	"< >         sort by the previous / next column",
	"r           reverse the sort",
	"/           filter: name, description, profile",
	"Esc         clear the filter",
	NULL,
};

const struct view_ops view_overview_ops = {
	.name = "Overview",
	.hotkey = '1',
	.init = overview_init,
	.free = overview_free,
	.enter = overview_enter,
	.draw = overview_draw,
	.key = overview_key,
	.help = overview_help,
};
