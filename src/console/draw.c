// SPDX-License-Identifier: MIT
/*
 * draw: the console's widgets (text, gauges, sparklines, charts, rules,
 * symbols) written cell by cell into ncurses windows. Views lay out
 * rectangles; this module fills exactly the rectangle it is given and
 * nothing else: every write is clipped to the requested width and to the
 * window's edge, so a widget never wraps onto the next line.
 *
 * Every widget has a UTF-8 form (blocks, braille, box lines) and an ASCII
 * form (LANG=C, --ascii) that shows the same information with 7-bit
 * characters only; neither relies on colour. Attributes always come from
 * draw_attr(role): the theme's when one is set, plain attributes otherwise.
 *
 * Strings from devices and the network go through util_sanitize() before
 * anything else; their display width is measured with mbrtowc() and
 * wcwidth() in the console's locale (setlocale(LC_ALL, "")), so a wide
 * character is never split and never pushed past the width.
 *
 * Gauge geometry is exact: on a gauge of width cells over [min, max], cell
 * i covers [min + i*(max-min)/width, min + (i+1)*(max-min)/width); a value
 * within 1e-9 cell of a cell boundary is taken to be on it, so values that
 * are exactly on a boundary in decimal are not moved by binary rounding.
 * Only the thread that owns ncurses calls these functions (static state).
 */
#include "phasor/draw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static struct {
	const struct theme *theme;
	bool color;
	bool ascii;
} st;

void draw_setup(const struct theme *t, bool color, bool ascii)
{
	st.theme = t;
	st.color = color;
	st.ascii = ascii;
}

bool draw_is_ascii(void)
{
	return st.ascii;
}

attr_t draw_attr(enum theme_role r)
{
	if ((unsigned)r >= ROLE__COUNT)
		r = ROLE_NORMAL;
	if (st.theme != NULL)
		return (attr_t)theme_attr(r);
	switch (r) {
	case ROLE_HEADER:
	case ROLE_ACCENT:
		return A_BOLD;
	case ROLE_SELECTION:
	case ROLE_STATUS:
		return A_REVERSE;
	case ROLE_STALE:
	case ROLE_MUTED:
		return A_DIM;
	default:
		return A_NORMAL;
	}
}

/* ---- cells ---------------------------------------------------------- */

/* One cell: its character(s) (a spacing character, then combining ones). */
static void put_wcs(WINDOW *w, int y, int x, const wchar_t *wcs, enum theme_role r)
{
	attr_t a = draw_attr(r);
	cchar_t cc;

	/* setcchar takes the colour pair apart from the attributes. */
	if (setcchar(&cc, wcs, a & ~A_COLOR, (short)PAIR_NUMBER(a), NULL) == OK)
		(void)mvwadd_wch(w, y, x, &cc); /* ERR in the bottom-right cell: written anyway */
}

static void put_wc(WINDOW *w, int y, int x, wchar_t wc, enum theme_role r)
{
	wchar_t s[2] = { wc, L'\0' };

	put_wcs(w, y, x, s, r);
}

/* The columns available from (y, x) for width, within the window; 0 if none. */
static int clip(WINDOW *w, int y, int x, int width)
{
	int maxx;

	if (w == NULL || width <= 0 || y < 0 || x < 0 || y >= getmaxy(w))
		return 0;
	maxx = getmaxx(w);
	if (x >= maxx)
		return 0;
	return width < maxx - x ? width : maxx - x;
}

/* ---- text ----------------------------------------------------------- */

/* A character as shown: a spacing character and its combining marks. */
struct glyph {
	wchar_t wc[CCHARW_MAX + 1];
	int n;
	int cols;
};

struct text {
	struct glyph *g;
	size_t n;
	int cols;          /* of all glyphs */
	struct glyph stack[64];
	char sbuf[256];
};

static void glyph_set(struct glyph *g, wchar_t wc, int cols)
{
	g->wc[0] = wc;
	g->wc[1] = L'\0';
	g->n = 1;
	g->cols = cols;
}

/*
 * Sanitize s and split it into glyphs as they will be shown: in ASCII
 * mode every non-ASCII character becomes one '?' (util_sanitize leaves
 * valid UTF-8, so lead bytes count characters); otherwise characters are
 * decoded in the current locale and measured with wcwidth, unprintable
 * ones become '?', and zero-width ones join the preceding glyph.
 */
static void text_init(struct text *t, const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;
	char *clean = len < sizeof(t->sbuf) ? t->sbuf : util_malloc(len + 1);
	const char *p, *end;
	mbstate_t ps;

	util_sanitize(clean, len + 1, s != NULL ? s : "");
	len = strlen(clean);
	t->g = len <= UTIL_ARRAY_LEN(t->stack) ? t->stack : util_calloc(len, sizeof(*t->g));
	t->n = 0;
	t->cols = 0;
	p = clean;
	end = clean + len;
	memset(&ps, 0, sizeof(ps));
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		wchar_t wc;
		size_t k;
		int cw;

		if (st.ascii || c < 0x80) {
			p++;
			if (c >= 0x80 && (c & 0xc0) == 0x80)
				continue; /* a continuation byte: its character is one '?' */
			glyph_set(&t->g[t->n++], c < 0x80 ? (wchar_t)c : L'?', 1);
			t->cols++;
			continue;
		}
		k = mbrtowc(&wc, p, (size_t)(end - p), &ps);
		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			/* Not a character in this locale (a UTF-8 string under LANG=C). */
			memset(&ps, 0, sizeof(ps));
			glyph_set(&t->g[t->n++], L'?', 1);
			t->cols++;
			p++;
			continue;
		}
		p += k;
		cw = wcwidth(wc);
		if (cw == 0) {
			struct glyph *prev = t->n > 0 ? &t->g[t->n - 1] : NULL;

			if (prev != NULL && prev->n < CCHARW_MAX) {
				prev->wc[prev->n++] = wc;
				prev->wc[prev->n] = L'\0';
			}
			continue; /* a leading or excess zero-width character is dropped */
		}
		if (cw < 0 || cw > 2) {
			wc = L'?';
			cw = 1;
		}
		glyph_set(&t->g[t->n++], wc, cw);
		t->cols += cw;
	}
	if (clean != t->sbuf)
		free(clean);
}

static void text_free(struct text *t)
{
	if (t->g != t->stack)
		free(t->g);
}

/*
 * How much of t fits in width columns: *keep glyphs, then *dots columns of
 * ellipsis ("..." ASCII, one "…" UTF-8). Returns the columns used.
 */
static int text_fit(const struct text *t, int width, size_t *keep, int *dots)
{
	int ell = st.ascii ? 3 : 1;
	int used = 0;
	size_t i;

	*dots = 0;
	if (t->cols <= width) {
		*keep = t->n;
		return t->cols;
	}
	if (width <= ell) {
		/* No room for any text: as much of the ellipsis as fits. */
		*keep = 0;
		*dots = width;
		return width;
	}
	for (i = 0; i < t->n && used + t->g[i].cols <= width - ell; i++)
		used += t->g[i].cols;
	*keep = i;
	*dots = ell;
	return used + ell;
}

static int text_paint(WINDOW *w, int y, int x, const struct text *t, size_t keep, int dots,
		      enum theme_role r)
{
	int col = x;
	size_t i;
	int d;

	for (i = 0; i < keep; i++) {
		put_wcs(w, y, col, t->g[i].wc, r);
		col += t->g[i].cols;
	}
	for (d = 0; d < dots; d++)
		put_wc(w, y, col++, st.ascii ? L'.' : L'\u2026', r);
	return col - x;
}

int draw_text(WINDOW *w, int y, int x, int width, enum theme_role r, const char *s)
{
	struct text t;
	size_t keep;
	int dots, n;

	width = clip(w, y, x, width);
	if (width == 0)
		return 0;
	text_init(&t, s);
	text_fit(&t, width, &keep, &dots);
	n = text_paint(w, y, x, &t, keep, dots, r);
	text_free(&t);
	return n;
}

int draw_textf(WINDOW *w, int y, int x, int width, enum theme_role r, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	s = util_vprintf(fmt, ap);
	va_end(ap);
	n = draw_text(w, y, x, width, r, s);
	free(s);
	return n;
}

int draw_text_right(WINDOW *w, int y, int x, int width, enum theme_role r, const char *s)
{
	struct text t;
	size_t keep;
	int dots, used, n;

	width = clip(w, y, x, width);
	if (width == 0)
		return 0;
	text_init(&t, s);
	used = text_fit(&t, width, &keep, &dots);
	n = text_paint(w, y, x + width - used, &t, keep, dots, r);
	text_free(&t);
	return n;
}

int draw_width(const char *s)
{
	struct text t;
	int n;

	text_init(&t, s);
	n = t.cols;
	text_free(&t);
	return n;
}

void draw_rule(WINDOW *w, int y, int x, int width, enum theme_role r)
{
	int i;

	width = clip(w, y, x, width);
	for (i = 0; i < width; i++)
		put_wc(w, y, x + i, st.ascii ? L'-' : L'\u2500', r);
}

/* ---- gauge ---------------------------------------------------------- */

static bool range_ok(double min, double max)
{
	return isfinite(min) && isfinite(max) && max > min;
}

/* p, or the integer it is within 1e-9 of. */
static double snap(double p)
{
	double r = nearbyint(p);

	return fabs(p - r) < 1e-9 ? r : p;
}

/* The position of v in cells from the gauge's left edge. */
static double gauge_pos(double v, double min, double max, int width)
{
	return snap((v - min) * width / (max - min));
}

int draw_gauge_col(double v, double min, double max, int width)
{
	double p;

	if (width <= 0 || isnan(v) || !range_ok(min, max) || v < min || v > max)
		return -1;
	p = floor(gauge_pos(v, min, max, width));
	if (p >= width)
		return width - 1; /* max itself is in the last cell */
	return p < 0 ? 0 : (int)p;
}

struct gcell {
	wchar_t wc;
	enum theme_role r;
};

/* Eighth blocks, index = eighths filled (1..7). */
static const wchar_t eighths_utf8[8] = {
	L' ', L'\u258f', L'\u258e', L'\u258d', L'\u258c', L'\u258b', L'\u258a', L'\u2589',
};

void draw_gauge(WINDOW *w, int y, int x, int width, const struct draw_gauge *g)
{
	int vis = clip(w, y, x, width);
	bool ok, ascii = st.ascii;
	wchar_t full = ascii ? L'#' : L'\u2588';
	struct gcell *c;
	int i;

	if (vis == 0 || g == NULL)
		return;
	/* The geometry is on the requested width (a gauge cut by the window's
	 * edge keeps its scale); only the visible cells are written. */
	c = util_calloc((size_t)width, sizeof(*c));
	for (i = 0; i < width; i++)
		c[i] = (struct gcell){ ascii ? L'-' : L'\u00b7', ROLE_GAUGE_EMPTY };
	ok = range_ok(g->min, g->max);
	/* The nominal band: every cell whose interval meets [band_lo, band_hi]. */
	if (ok && !isnan(g->band_lo) && !isnan(g->band_hi) && g->band_lo <= g->band_hi &&
	    g->band_hi >= g->min && g->band_lo <= g->max) {
		int c0 = g->band_lo <= g->min ? 0 : draw_gauge_col(g->band_lo, g->min, g->max, width);
		int c1 = g->band_hi >= g->max ? width - 1
					      : draw_gauge_col(g->band_hi, g->min, g->max, width);

		for (i = c0; i <= c1; i++)
			c[i] = (struct gcell){ ascii ? L'.' : L'\u2591', ROLE_GAUGE_BAND };
	}
	/* The fill: whole cells, then eighths (ASCII: a cell at least half full). */
	if (ok && !isnan(g->value)) {
		int nfull = 0, part = 0;

		if (g->value > g->max) {
			nfull = width;
		} else if (g->value >= g->min) {
			double p = gauge_pos(g->value, g->min, g->max, width);

			nfull = (int)floor(p);
			part = (int)floor(snap((p - nfull) * 8));
			if (nfull >= width) {
				nfull = width;
				part = 0;
			}
		}
		for (i = 0; i < nfull; i++)
			c[i] = (struct gcell){ full, g->fill };
		if (part > 0 && ascii && part >= 4)
			c[nfull] = (struct gcell){ full, g->fill };
		else if (part > 0 && !ascii)
			c[nfull] = (struct gcell){ eighths_utf8[part], g->fill };
	}
	/* Limits over whatever is there, fill included. */
	if (ok) {
		double lim[2] = { g->limit_lo, g->limit_hi };

		for (i = 0; i < 2; i++) {
			int col = draw_gauge_col(lim[i], g->min, g->max, width);

			if (col >= 0)
				c[col] = (struct gcell){ ascii ? L'|' : L'\u2502', ROLE_GAUGE_LIMIT };
		}
	}
	/* A value off the scale says so, over a limit marker too. */
	if (ok && g->value > g->max)
		c[width - 1] = (struct gcell){ L'>', g->fill };
	else if (ok && g->value < g->min)
		c[0] = (struct gcell){ L'<', g->fill };
	else if (!ok || isnan(g->value))
		c[width / 2] = (struct gcell){ L'?', ROLE_NORMAL };
	for (i = 0; i < vis; i++)
		put_wc(w, y, x + i, c[i].wc, c[i].r);
	free(c);
}

/* ---- sparkline and chart -------------------------------------------- */

/*
 * The means of v[0..n) in nb buckets (NaN where a bucket has no finite
 * value). With n >= nb, bucket b covers v[b*n/nb .. (b+1)*n/nb); with
 * fewer values than buckets, the values fill the last n buckets one each,
 * so the newest value is always at the right edge.
 */
static void bucket_means(const double *v, size_t n, size_t nb, double *out)
{
	size_t b;

	for (b = 0; b < nb; b++) {
		size_t lo, hi, i, cnt = 0;
		double sum = 0;

		if (n < nb) {
			out[b] = b >= nb - n && isfinite(v[b - (nb - n)]) ? v[b - (nb - n)] : NAN;
			continue;
		}
		lo = b * n / nb;
		hi = (b + 1) * n / nb;
		for (i = lo; i < hi; i++) {
			if (isfinite(v[i])) {
				sum += v[i];
				cnt++;
			}
		}
		out[b] = cnt > 0 ? sum / (double)cnt : NAN;
	}
}

/*
 * Levels 0..nlev-1 of the means (-1 for a gap), on [lo, hi]; a NaN bound is
 * the data's own. Level k covers [lo + k*(hi-lo)/nlev, lo + (k+1)*(hi-lo)/nlev)
 * (hi itself is the top level); a flat range draws at mid-height.
 */
static void levels(const double *m, size_t nb, double lo, double hi, int nlev, int *out)
{
	double dmin = INFINITY, dmax = -INFINITY;
	size_t b;

	for (b = 0; b < nb; b++) {
		if (!isnan(m[b])) {
			dmin = fmin(dmin, m[b]);
			dmax = fmax(dmax, m[b]);
		}
	}
	if (!isfinite(lo))
		lo = dmin;
	if (!isfinite(hi))
		hi = dmax;
	for (b = 0; b < nb; b++) {
		double f;

		if (isnan(m[b])) {
			out[b] = -1;
			continue;
		}
		if (!(hi > lo)) {
			out[b] = (nlev - 1) / 2;
			continue;
		}
		f = floor(snap((m[b] - lo) * nlev / (hi - lo)));
		out[b] = f < 0 ? 0 : f >= nlev ? nlev - 1 : (int)f;
	}
}

static int *series_levels(const double *v, size_t n, size_t nb, double lo, double hi, int nlev)
{
	double *m = util_calloc(nb, sizeof(*m));
	int *lv = util_calloc(nb, sizeof(*lv));

	bucket_means(v, v != NULL ? n : 0, nb, m);
	levels(m, nb, lo, hi, nlev, lv);
	free(m);
	return lv;
}

void draw_sparkline(WINDOW *w, int y, int x, int width, const double *v, size_t n, double lo,
		    double hi, enum theme_role r)
{
	static const char ascii_lv[] = " _.-=+*#";
	int vis = clip(w, y, x, width);
	int *lv;
	int i;

	if (vis == 0)
		return;
	lv = series_levels(v, n, (size_t)width, lo, hi, 8);
	for (i = 0; i < vis; i++) {
		wchar_t wc = L' ';

		if (lv[i] >= 0)
			wc = st.ascii ? (wchar_t)ascii_lv[lv[i]] : (wchar_t)(L'\u2581' + lv[i]);
		put_wc(w, y, x + i, wc, r);
	}
	free(lv);
}

/* Braille dot bits: [dot column 0..1][dot row 0..3 from the top]. */
static const unsigned char braille_bit[2][4] = {
	{ 0x01, 0x02, 0x04, 0x40 },
	{ 0x08, 0x10, 0x20, 0x80 },
};

/* Mark dot (column i, level l from the bottom): a braille bit, or ch in ASCII. */
static void chart_dot(unsigned char *cell, int width, int sx, int sy, int dy, int i, int l,
		      char ch)
{
	int dot_row = dy - 1 - l;
	unsigned char *p = &cell[(dot_row / sy) * width + i / sx];

	if (ch != 0)
		*p = (unsigned char)ch;
	else
		*p |= braille_bit[i % sx][dot_row % sy];
}

void draw_chart(WINDOW *w, int y, int x, int h, int width, const double *v, size_t n, double lo,
		double hi, enum theme_role r)
{
	bool ascii = st.ascii;
	int sx = ascii ? 1 : 2, sy = ascii ? 1 : 4; /* dots per cell */
	int dx = width * sx, dy = h * sy;
	unsigned char *cell; /* braille bits, or ASCII characters */
	int *lv;
	int i, row, col;

	if (w == NULL || width <= 0 || h <= 0 || clip(w, y, x, width) == 0)
		return;
	cell = util_calloc((size_t)width * (size_t)h, 1);
	lv = series_levels(v, n, (size_t)dx, lo, hi, dy);
	for (i = 0; i < dx; i++) {
		int a = i > 0 ? lv[i - 1] : -1, b = lv[i], step, l;

		if (b < 0)
			continue;
		chart_dot(cell, width, sx, sy, dy, i, b, ascii ? '*' : 0);
		/* The dots strictly between the point and its left neighbour, in
		 * this column, so the line stays continuous. */
		if (a < 0 || a == b)
			continue;
		step = a > b ? 1 : -1;
		for (l = b + step; l != a; l += step)
			chart_dot(cell, width, sx, sy, dy, i, l, ascii ? '|' : 0);
	}
	for (row = 0; row < h; row++) {
		int vis = clip(w, y + row, x, width);

		for (col = 0; col < vis; col++) {
			unsigned char k = cell[row * width + col];
			wchar_t wc = L' ';

			if (k != 0)
				wc = ascii ? (wchar_t)k : (wchar_t)(0x2800 + k);
			put_wc(w, y + row, x + col, wc, r);
		}
	}
	free(lv);
	free(cell);
}

/* ---- forecast charts ------------------------------------------------ */

int draw_band_row(double v, double vlo, double vhi, int h)
{
	double f;
	int r;

	if (!isfinite(v) || !(vhi > vlo) || h <= 0)
		return -1;
	f = (v - vlo) / (vhi - vlo);
	r = (int)floor(f * h);
	if (r >= h)
		r = h - 1;
	if (r < 0)
		r = 0;
	return h - 1 - r;
}

void draw_band_chart(WINDOW *w, int y, int x, int h, int width, const struct draw_band *b)
{
	bool ascii = st.ascii;
	int lim = draw_band_row(b->limit, b->vlo, b->vhi, h), c, vis;

	if (w == NULL || width <= 0 || h <= 0 || b->n == 0 || (vis = clip(w, y, x, width)) == 0)
		return;
	for (c = 0; c < vis; c++) {
		size_t k = (size_t)((double)c * (double)b->n / (double)width);
		int top = -1, bot = -1, mid = -1, act = -1, r;

		if (k >= b->n)
			k = b->n - 1;
		if (b->lo != NULL && b->hi != NULL) {
			top = draw_band_row(b->hi[k], b->vlo, b->vhi, h);
			bot = draw_band_row(b->lo[k], b->vlo, b->vhi, h);
		}
		if (b->mid != NULL)
			mid = draw_band_row(b->mid[k], b->vlo, b->vhi, h);
		if (b->act != NULL)
			act = draw_band_row(b->act[k], b->vlo, b->vhi, h);
		for (r = 0; r < h; r++) {
			wchar_t wc = L' ';
			enum theme_role role = ROLE_NORMAL;

			if (r == act) {
				wc = ascii ? L'*' : L'\u25cf';
				role = ROLE_CHART;
			} else if (r == mid) {
				wc = ascii ? L'-' : L'\u2500';
				role = ROLE_MUTED;
			} else if (top >= 0 && bot >= 0 && r >= top && r <= bot) {
				wc = ascii ? L':' : L'\u2591';
				role = ROLE_GAUGE_BAND;
			} else if (r == lim) {
				wc = L'=';
				role = ROLE_GAUGE_LIMIT;
			}
			if (y + r < getmaxy(w))
				put_wc(w, y + r, x + c, wc, role);
		}
	}
}

void draw_bars(WINDOW *w, int y, int x, int h, int bar_w, const double *v, size_t n, double vmax,
	       enum theme_role r)
{
	bool ascii = st.ascii;
	size_t i;
	int row, k;

	if (w == NULL || h <= 0 || bar_w <= 0)
		return;
	for (i = 0; i < n; i++) {
		double cells = isfinite(v[i]) && vmax > 0 ? v[i] / vmax * h : 0;
		int full = (int)floor(cells + 1e-9);
		bool part = cells - full >= 1e-9 || (v[i] > 0 && full == 0);

		for (row = 0; row < h; row++) {
			int from_bottom = h - 1 - row;
			wchar_t wc = L' ';

			if (from_bottom < full)
				wc = ascii ? L'#' : L'\u2588';
			else if (from_bottom == full && part)
				wc = ascii ? L'.' : L'\u2584';
			for (k = 0; k < bar_w; k++) {
				int xx = x + (int)i * (bar_w + 1) + k;

				if (clip(w, y + row, xx, 1) == 1)
					put_wc(w, y + row, xx, wc, r);
			}
		}
	}
}

/* ---- symbols -------------------------------------------------------- */

const char *draw_symbol(enum draw_symbol s)
{
	static const char *const utf8[SYM__COUNT] = {
		[SYM_OK] = "\u25cf",      [SYM_STALE] = "\u25cc",      [SYM_DOWN] = "\u2716",
		[SYM_UNKNOWN] = "?",      [SYM_WARNING] = "\u25b2",    [SYM_ALARM] = "\u25c6",
		[SYM_SELECT] = "\u25b6",  [SYM_UP] = "\u2191",         [SYM_DOWN_ARROW] = "\u2193",
		[SYM_BRANCH] = "\u2514",
	};
	static const char *const ascii[SYM__COUNT] = {
		[SYM_OK] = "o",      [SYM_STALE] = "~",   [SYM_DOWN] = "X",
		[SYM_UNKNOWN] = "?", [SYM_WARNING] = "!", [SYM_ALARM] = "*",
		[SYM_SELECT] = ">",  [SYM_UP] = "^",      [SYM_DOWN_ARROW] = "v",
		[SYM_BRANCH] = "`",
	};

	if ((unsigned)s >= SYM__COUNT)
		return "?";
	return st.ascii ? ascii[s] : utf8[s];
}
