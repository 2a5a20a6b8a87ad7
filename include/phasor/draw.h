/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_DRAW_H
#define PHASOR_DRAW_H
/*
 * draw: the console's widgets, drawn into ncurses windows: text that is
 * sanitized and truncated to a width, gauges with a nominal band and
 * limits, sparklines, trend charts, rules and state symbols. Every widget
 * has an ASCII form (LANG=C, --ascii) and never relies on colour alone.
 * Only the thread that owns ncurses calls these.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#include "phasor/theme.h"
#include "phasor/util.h"

/*
 * Set once after ncurses starts (and again when the theme changes): the
 * theme (may be NULL: no attributes), whether colour is on, whether output
 * must be pure ASCII.
 */
void draw_setup(const struct theme *t, bool color, bool ascii);
bool draw_is_ascii(void);

/* The attributes of a role (theme_attr, or plain attributes without a theme). */
attr_t draw_attr(enum theme_role r);

/*
 * Text at (y, x) in at most width columns: control characters replaced
 * (util_sanitize), non-ASCII replaced by '?' in ASCII mode, cut with "..."
 * ASCII or a single ellipsis in UTF-8 when too long, wide characters
 * counted by their display width. Returns the columns written.
 */
int draw_text(WINDOW *w, int y, int x, int width, enum theme_role r, const char *s);
int draw_textf(WINDOW *w, int y, int x, int width, enum theme_role r, const char *fmt, ...)
    UTIL_PRINTF(6, 7);
/* Right-aligned in [x, x + width). */
int draw_text_right(WINDOW *w, int y, int x, int width, enum theme_role r, const char *s);
/* Display width of s as draw_text would print it (for layout). */
int draw_width(const char *s);

/* A horizontal rule of width columns ("-" or a box line). */
void draw_rule(WINDOW *w, int y, int x, int width, enum theme_role r);

/*
 * A horizontal gauge of width columns for value on [min, max]:
 * the filled part (min..value) in fill role, the nominal band [band_lo,
 * band_hi] shown on the empty part in ROLE_GAUGE_BAND, limit_lo/limit_hi
 * drawn as markers in ROLE_GAUGE_LIMIT, a value beyond max shown with '>'
 * in the last cell, below min with '<' in the first. NaN bounds are not
 * drawn; a NaN value draws an empty gauge with '?' in the middle.
 * UTF-8: full and eighth blocks; ASCII: '#' fill (a cell at least half
 * full counts), '.' band, '-' empty, '|' limits. A '>' or '<' takes the
 * place of a limit marker in its cell.
 */
struct draw_gauge {
	double value, min, max;
	double band_lo, band_hi;
	double limit_lo, limit_hi;
	enum theme_role fill;
};
void draw_gauge(WINDOW *w, int y, int x, int width, const struct draw_gauge *g);

/*
 * The column of a value on a gauge of width cells (0..width-1), -1 when
 * outside [min, max] or NaN. draw_gauge uses it; tests check positions.
 */
int draw_gauge_col(double v, double min, double max, int width);

/*
 * A one-line sparkline of width cells from n values (oldest first; NaN is a
 * gap), averaged into width buckets, scaled to [lo, hi] (NaN: the data's
 * own range). UTF-8: eight block heights; ASCII: " _.-=+*#". Fewer values
 * than cells are drawn one per cell, right-aligned (the newest at the right
 * edge); a flat series is drawn at mid-height.
 */
void draw_sparkline(WINDOW *w, int y, int x, int width, const double *v, size_t n, double lo,
		    double hi, enum theme_role r);

/*
 * A trend chart h rows by width columns (plus nothing else: the caller
 * labels the axes): UTF-8 braille, 2x4 dots per cell; ASCII: '*' per cell.
 * Values as for draw_sparkline.
 */
void draw_chart(WINDOW *w, int y, int x, int h, int width, const double *v, size_t n, double lo,
		double hi, enum theme_role r);

/*
 * A forecast chart h rows by width columns: n intervals, column c showing
 * interval c * n / width. For each: the band [lo, hi] as a column of
 * ROLE_GAUGE_BAND cells (':' / light shade), the forecast mid as '-' /
 * a line in ROLE_MUTED, the actual as '*' / a full dot in ROLE_CHART (the
 * actual over the forecast over the band), and limit (NaN: none) as a
 * row of '=' in ROLE_GAUGE_LIMIT where nothing else is. Values scaled to
 * [vlo, vhi]; NaN draws nothing. Arrays may be NULL.
 */
struct draw_band {
	const double *lo, *hi, *mid, *act;
	size_t n;
	double vlo, vhi, limit;
};
void draw_band_chart(WINDOW *w, int y, int x, int h, int width, const struct draw_band *b);
/* The row (0 top .. h-1) of v on a chart of h rows over [vlo, vhi]; -1 when NaN. */
int draw_band_row(double v, double vlo, double vhi, int h);

/*
 * Vertical bars h rows high, one per value, each bar_w columns wide with
 * a gap of one, scaled to [0, vmax]: '#' / a full block in r, the top
 * cell of a bar under half a cell shown as '.' / a lower block so that a
 * small non-zero value is never invisible.
 */
void draw_bars(WINDOW *w, int y, int x, int h, int bar_w, const double *v, size_t n, double vmax,
	       enum theme_role r);

enum draw_symbol {
	SYM_OK,       /* "●" / "o" */
	SYM_STALE,    /* "◌" / "~" */
	SYM_DOWN,     /* "✖" / "X" */
	SYM_UNKNOWN,  /* "?" */
	SYM_WARNING,  /* "▲" / "!" */
	SYM_ALARM,    /* "◆" / "*" */
	SYM_SELECT,   /* "▶" / ">" */
	SYM_UP,       /* "↑" / "^" */
	SYM_DOWN_ARROW, /* "↓" / "v" */
	SYM_BRANCH,   /* "└" / "`": a feeder under its parent */
	SYM__COUNT
};
const char *draw_symbol(enum draw_symbol s);

#endif
