// SPDX-License-Identifier: MIT
/*
 * Unit tests of draw.c: the widgets are drawn into real ncurses windows of
 * a screen on /dev/null (newterm, no terminal needed) and read back cell by
 * cell with mvwin_wch(), as UTF-8 strings per row. Every test first fills
 * the window with a sentinel so a write outside the widget's rectangle
 * shows. UTF-8 cases run under C.UTF-8, ASCII cases under C.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "phasor/diag.h"
#include "phasor/draw.h"
#include "phasor/fmt.h"
#include "phasor/qty.h"
#include "phasor/theme.h"
#include "support.h"

#define ROWS 12
#define COLS 40
#define SENTINEL L'%'

static SCREEN *scr;
static FILE *scr_out, *scr_in;

/* ---- helpers -------------------------------------------------------- */

static int utf8_put(char *out, wchar_t wc)
{
	unsigned long c = (unsigned long)wc;

	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* The character(s) of a cell and its attributes. */
static int cell_at(WINDOW *w, int y, int x, wchar_t *wcs, attr_t *attrs)
{
	cchar_t cc;
	short pair;
	attr_t a;

	if (mvwin_wch(w, y, x, &cc) == ERR)
		return ERR;
	if (getcchar(&cc, wcs, attrs != NULL ? attrs : &a, &pair, NULL) == ERR)
		return ERR;
	return OK;
}

/*
 * Columns [x0, x1) of row y as UTF-8 (a static buffer, one of four). The
 * second column of a wide character is skipped, as a terminal shows it.
 */
static const char *row_text(WINDOW *w, int y, int x0, int x1)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t o = 0;
	int x;

	for (x = x0; x < x1; x++) {
		wchar_t wcs[CCHARW_MAX + 1] = { 0 };
		int i;

		assert_int_equal(cell_at(w, y, x, wcs, NULL), OK);
		for (i = 0; wcs[i] != L'\0'; i++)
			o += (size_t)utf8_put(b + o, wcs[i]);
		if (wcwidth(wcs[0]) == 2)
			x++;
	}
	b[o] = '\0';
	return b;
}

static const char *row_all(WINDOW *w, int y)
{
	return row_text(w, y, 0, getmaxx(w));
}

static void fill_sentinel(WINDOW *w)
{
	int y, x;

	for (y = 0; y < getmaxy(w); y++)
		for (x = 0; x < getmaxx(w); x++)
			mvwaddch(w, y, x, (chtype)SENTINEL); /* ERR in the last cell: written */
}

/* Every cell outside the rectangle still holds the plain sentinel. */
static void assert_outside_untouched(WINDOW *w, int y0, int x0, int h, int wd)
{
	int y, x;

	for (y = 0; y < getmaxy(w); y++) {
		for (x = 0; x < getmaxx(w); x++) {
			wchar_t wcs[CCHARW_MAX + 1] = { 0 };
			attr_t a;

			if (y >= y0 && y < y0 + h && x >= x0 && x < x0 + wd)
				continue;
			assert_int_equal(cell_at(w, y, x, wcs, &a), OK);
			if (wcs[0] != SENTINEL || wcs[1] != L'\0' || (a & A_ATTRIBUTES) != A_NORMAL)
				fail_msg("cell (%d,%d) outside (%d,%d %dx%d) changed to U+%04lX", y, x, y0,
					 x0, h, wd, (unsigned long)wcs[0]);
		}
	}
}

static WINDOW *win_utf8(void)
{
	WINDOW *w;

	assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	draw_setup(NULL, false, false);
	w = newwin(ROWS, COLS, 0, 0);
	assert_non_null(w);
	fill_sentinel(w);
	return w;
}

static WINDOW *win_ascii(void)
{
	WINDOW *w;

	assert_non_null(setlocale(LC_ALL, "C"));
	draw_setup(NULL, false, true);
	w = newwin(ROWS, COLS, 0, 0);
	assert_non_null(w);
	fill_sentinel(w);
	return w;
}

static void done(WINDOW *w)
{
	delwin(w);
	setlocale(LC_ALL, "C.UTF-8");
}

static int group_setup(void **state)
{
	(void)state;
	if (setlocale(LC_ALL, "C.UTF-8") == NULL) {
		fprintf(stderr, "test_draw: the C.UTF-8 locale is missing\n");
		return -1;
	}
	scr_out = fopen("/dev/null", "w");
	scr_in = fopen("/dev/null", "r");
	if (scr_out == NULL || scr_in == NULL)
		return -1;
	use_env(FALSE); /* the terminal's 80x24, not $LINES/$COLUMNS */
	scr = newterm("xterm-256color", scr_out, scr_in);
	if (scr == NULL) {
		fprintf(stderr, "test_draw: newterm(xterm-256color) failed (terminfo missing?)\n");
		return -1;
	}
	set_term(scr);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	endwin();
	delscreen(scr);
	fclose(scr_out);
	fclose(scr_in);
	return 0;
}

/* ---- text ----------------------------------------------------------- */

struct text_case {
	int width;
	const char *in;
	const char *want; /* the row from x = 2 for width + 2 columns (sentinels after) */
	int cols;
};

static void run_text_cases(WINDOW *w, const struct text_case *tc, size_t n, const char *mode)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *got;
		int cols;

		fill_sentinel(w);
		cols = draw_text(w, 3, 2, tc[i].width, ROLE_NORMAL, tc[i].in);
		got = row_text(w, 3, 2, 2 + tc[i].width + 2);
		if (strcmp(got, tc[i].want) != 0 || cols != tc[i].cols)
			fail_msg("%s case %zu: got '%s' (%d cols) want '%s' (%d cols)", mode, i, got,
				 cols, tc[i].want, tc[i].cols);
		assert_outside_untouched(w, 3, 2, 1, tc[i].width);
	}
}

static void test_text_utf8(void **state)
{
	static const struct text_case tc[] = {
		{ 10, "a very long meter name", "a very lo\u2026%%", 10 },
		{ 10, "exactly10!", "exactly10!%%", 10 },          /* exact width: not cut */
		{ 10, "abcdefghijk", "abcdefghi\u2026%%", 10 },
		{ 10, "short", "short%%%%%%%", 5 },
		{ 10, "caf\u00e9 L1\u2013L2", "caf\u00e9 L1\u2013L2%%", 10 },
		{ 10, "\u6f22\u5b57\u30c6\u30b9\u30c8", "\u6f22\u5b57\u30c6\u30b9\u30c8%%", 10 },
		{ 9, "\u6f22\u5b57\u30c6\u30b9\u30c8", "\u6f22\u5b57\u30c6\u30b9\u2026%%", 9 },
		/* A wide character that does not fit before the ellipsis is dropped whole. */
		{ 8, "\u6f22\u5b57\u30c6\u30b9\u30c8", "\u6f22\u5b57\u30c6\u2026%%%", 7 },
		{ 3, "a\u6f22", "a\u6f22%%", 3 },
		{ 3, "a\u6f22b", "a\u2026%%%", 2 },   /* the wide character does not fit with the ellipsis */
		{ 10, "a\x1b[31mb", "a?[31mb%%%%%", 7 },      /* ESC shown as '?' */
		{ 10, "bad\xff", "bad?%%%%%%%%", 4 },          /* invalid UTF-8 */
		{ 10, "e\u0301t\u00e9", "e\u0301t\u00e9%%%%%%%%%", 3 }, /* combining accent */
		{ 1, "abc", "\u2026%%", 1 },
		{ 1, "a", "a%%", 1 },
		{ 0, "abc", "%%", 0 },
		{ 5, "", "%%%%%%%", 0 },
		{ 5, NULL, "%%%%%%%", 0 },
	};
	WINDOW *w = win_utf8();

	(void)state;
	run_text_cases(w, tc, sizeof(tc) / sizeof(tc[0]), "utf8");
	assert_int_equal(draw_width("a very long meter name"), 22);
	assert_int_equal(draw_width("\u6f22\u5b57x"), 5);
	assert_int_equal(draw_width("e\u0301"), 1);
	assert_int_equal(draw_width("a\x1b[0m"), 5);

	/* Long strings (beyond the stack buffers), many combining marks on one base. */
	{
		char long_s[1200];
		size_t i;

		for (i = 0; i + 3 < sizeof(long_s); i += 3)
			memcpy(long_s + i, "\u6f22", 3); /* 399 wide characters */
		long_s[i] = '\0';
		assert_int_equal(draw_width(long_s), 798);
		fill_sentinel(w);
		assert_int_equal(draw_text(w, 0, 0, 6, ROLE_NORMAL, long_s), 5);
		assert_string_equal(row_text(w, 0, 0, 7), "\u6f22\u6f22\u2026%%");
		assert_int_equal(draw_width("a\u0301\u0302\u0303\u0304\u0305\u0306\u0307b"), 2);
		fill_sentinel(w);
		assert_int_equal(draw_text(w, 0, 0, 6, ROLE_NORMAL, "\u0301x"), 1); /* no base: dropped */
		assert_string_equal(row_text(w, 0, 0, 2), "x%");
	}
	done(w);
}

static void test_text_ascii(void **state)
{
	static const struct text_case tc[] = {
		{ 10, "a very long meter name", "a very ...%%", 10 },
		{ 10, "exactly10!", "exactly10!%%", 10 },
		{ 10, "caf\u00e9 L1\u2013L2", "caf? L1?L2%%", 10 },
		{ 10, "\u6f22\u5b57", "??%%%%%%%%%%", 2 },
		{ 10, "a\x1b[31mb", "a?[31mb%%%%%", 7 },
		{ 4, "abcdef", "a...%%", 4 },
		{ 3, "abcd", "...%%", 3 },
		{ 3, "abc", "abc%%", 3 },
		{ 2, "abc", "..%%", 2 },
	};
	WINDOW *w = win_ascii();

	(void)state;
	run_text_cases(w, tc, sizeof(tc) / sizeof(tc[0]), "ascii");
	assert_int_equal(draw_width("\u6f22\u5b57x"), 3);
	assert_int_equal(draw_width("caf\u00e9"), 4);
	done(w);
}

/* Clipped at the window's right edge and in the bottom-right cell, never wrapped. */
static void test_text_window_edge(void **state)
{
	WINDOW *w = win_utf8();

	(void)state;
	assert_int_equal(draw_text(w, 2, COLS - 4, 10, ROLE_NORMAL, "abcdefgh"), 4);
	assert_string_equal(row_text(w, 2, COLS - 6, COLS), "%%abc\u2026");
	assert_outside_untouched(w, 2, COLS - 4, 1, 4);

	fill_sentinel(w);
	assert_int_equal(draw_text(w, ROWS - 1, COLS - 3, 3, ROLE_NORMAL, "xyz"), 3);
	assert_string_equal(row_text(w, ROWS - 1, COLS - 4, COLS), "%xyz");
	assert_outside_untouched(w, ROWS - 1, COLS - 3, 1, 3);

	/* A wide character that would straddle the edge is not written. */
	fill_sentinel(w);
	assert_int_equal(draw_text(w, 1, COLS - 3, 8, ROLE_NORMAL, "\u6f22\u5b57\u6f22"), 3);
	assert_string_equal(row_text(w, 1, COLS - 3, COLS), "\u6f22\u2026");
	assert_outside_untouched(w, 1, COLS - 3, 1, 3);

	/* Outside the window: nothing. */
	fill_sentinel(w);
	assert_int_equal(draw_text(w, ROWS, 0, 5, ROLE_NORMAL, "x"), 0);
	assert_int_equal(draw_text(w, -1, 0, 5, ROLE_NORMAL, "x"), 0);
	assert_int_equal(draw_text(w, 0, COLS, 5, ROLE_NORMAL, "x"), 0);
	assert_int_equal(draw_text(w, 0, -1, 5, ROLE_NORMAL, "x"), 0);
	assert_int_equal(draw_text(NULL, 0, 0, 5, ROLE_NORMAL, "x"), 0);
	assert_outside_untouched(w, 0, 0, 0, 0);
	done(w);
}

/* Values from fmt, right-aligned in a cell layout: they end at the right column. */
static void test_text_right(void **state)
{
	WINDOW *w = win_utf8();
	char v[32];
	int n;

	(void)state;
	/* A 20-column cell at x = 5: label left, value right. */
	draw_text(w, 1, 5, 20, ROLE_MUTED, "L1-N");
	n = draw_text_right(w, 1, 5, 20, ROLE_NORMAL, fmt_qty(QTY_V_L1N, 230.14, v, sizeof(v)));
	assert_int_equal(n, 7);
	assert_string_equal(row_text(w, 1, 4, 26), "%L1-N%%%%%%%%%230.1 V%");
	n = draw_text_right(w, 2, 5, 20, ROLE_NORMAL, fmt_qty(QTY_P_TOTAL, 512300, v, sizeof(v)));
	assert_string_equal(row_text(w, 2, 4, 26), "%%%%%%%%%%%%%512.3 kW%");
	n = draw_text_right(w, 3, 5, 20, ROLE_NORMAL, fmt_qty(QTY_PF_TOTAL, -0.99, v, sizeof(v)));
	assert_string_equal(row_text(w, 3, 4, 26), "%%%%%%%%%%%%%%%-0.990%");
	assert_int_equal(n, 6);
	assert_outside_untouched(w, 1, 5, 3, 20);

	/* Cut with a wide character: still ends at the right column. */
	fill_sentinel(w);
	n = draw_text_right(w, 1, 5, 8, ROLE_NORMAL, "\u6f22\u5b57\u30c6\u30b9\u30c8");
	assert_int_equal(n, 7);
	assert_string_equal(row_text(w, 1, 5, 13), "%\u6f22\u5b57\u30c6\u2026");
	assert_outside_untouched(w, 1, 6, 1, 7);
	/* At the window edge: ends in the last column. */
	fill_sentinel(w);
	draw_text_right(w, 1, COLS - 6, 10, ROLE_NORMAL, "42");
	assert_string_equal(row_text(w, 1, COLS - 6, COLS), "%%%%42");
	done(w);
}

static void test_text_attrs(void **state)
{
	static const struct {
		enum theme_role r;
		attr_t a;
	} tc[] = {
		{ ROLE_NORMAL, A_NORMAL },   { ROLE_HEADER, A_BOLD },   { ROLE_ACCENT, A_BOLD },
		{ ROLE_SELECTION, A_REVERSE }, { ROLE_STATUS, A_REVERSE }, { ROLE_STALE, A_DIM },
		{ ROLE_MUTED, A_DIM },       { ROLE_ALARM, A_NORMAL },  { ROLE_GAUGE_FILL, A_NORMAL },
	};
	WINDOW *w = win_utf8();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		wchar_t wcs[CCHARW_MAX + 1] = { 0 };
		attr_t a;

		assert_int_equal(draw_attr(tc[i].r), tc[i].a);
		draw_text(w, 0, 0, 3, tc[i].r, "abc");
		assert_int_equal(cell_at(w, 0, 2, wcs, &a), OK);
		assert_int_equal(wcs[0], L'c');
		assert_int_equal(a & A_ATTRIBUTES, tc[i].a);
	}
	assert_int_equal(draw_attr((enum theme_role)99), A_NORMAL);
	done(w);
}

static void test_textf_rule(void **state)
{
	WINDOW *w = win_utf8();

	(void)state;
	assert_int_equal(draw_textf(w, 0, 1, 12, ROLE_NORMAL, "%s=%d", "unit", 17), 7);
	assert_string_equal(row_text(w, 0, 0, 10), "%unit=17%%");
	draw_rule(w, 1, 2, 5, ROLE_MUTED);
	assert_string_equal(row_text(w, 1, 0, 9), "%%\u2500\u2500\u2500\u2500\u2500%%");
	draw_rule(w, 2, COLS - 2, 5, ROLE_MUTED); /* clipped */
	assert_string_equal(row_text(w, 2, COLS - 3, COLS), "%\u2500\u2500");
	assert_string_equal(row_text(w, 3, 0, 3), "%%%");
	done(w);

	w = win_ascii();
	draw_rule(w, 1, 2, 5, ROLE_MUTED);
	assert_string_equal(row_text(w, 1, 0, 9), "%%-----%%");
	assert_outside_untouched(w, 1, 2, 1, 5);
	done(w);
}

/* ---- gauge ---------------------------------------------------------- */

static void test_gauge_col(void **state)
{
	static const struct {
		double v, min, max;
		int width, col;
	} tc[] = {
		{ 0, 0, 100, 10, 0 },     { 9.99, 0, 100, 10, 0 },   { 10, 0, 100, 10, 1 },
		{ 30, 0, 100, 10, 3 },    { 29.999, 0, 100, 10, 2 }, { 99.99, 0, 100, 10, 9 },
		{ 100, 0, 100, 10, 9 },   { 100.01, 0, 100, 10, -1 }, { -0.01, 0, 100, 10, -1 },
		{ NAN, 0, 100, 10, -1 },  { INFINITY, 0, 100, 10, -1 }, { 50, 0, 100, 0, -1 },
		{ 50, 100, 100, 10, -1 }, { 50, 100, 0, 10, -1 },    { 50, NAN, 100, 10, -1 },
		{ 1.0 / 3, 0, 1, 3, 1 },  { 2.0 / 3, 0, 1, 3, 2 },   { 0.3, 0, 1, 10, 3 },
		{ 0.7, 0, 1, 10, 7 },     { 207, 180, 280, 20, 5 },  { 253, 180, 280, 20, 14 },
		{ 230, 180, 280, 20, 10 }, { -5, -10, 10, 4, 1 },    { 0, -10, 10, 4, 2 },
		/* Boundaries whose position computes just below the integer in binary. */
		{ 15.0 / 22, 0, 1, 22, 15 }, { 3.0 * 5 / 11, 0, 3, 11, 5 },
		{ 0.15, 0.1, 0.7, 12, 1 },   { 0.35, 0.1, 0.7, 12, 5 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		int c = draw_gauge_col(tc[i].v, tc[i].min, tc[i].max, tc[i].width);

		if (c != tc[i].col)
			fail_msg("case %zu: v=%g on [%g,%g]/%d: col %d want %d", i, tc[i].v, tc[i].min,
				 tc[i].max, tc[i].width, c, tc[i].col);
	}
}

struct gauge_case {
	struct draw_gauge g;
	int width;
	const char *want_utf8, *want_ascii;
};

#define GNONE NAN, NAN, NAN, NAN
static const struct gauge_case gauge_cases[] = {
	/* [0, 100] on 10 cells: 10 per cell, no band, no limits. */
	{ { 0, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7", "----------" },
	{ { 100, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588", "##########" },
	{ { 50, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "\u2588\u2588\u2588\u2588\u2588\u00b7\u00b7\u00b7\u00b7\u00b7", "#####-----" },
	{ { 30, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10, /* exact boundary: no partial cell */
	  "\u2588\u2588\u2588\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7", "###-------" },
	{ { 31.25, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10, /* one eighth */
	  "\u2588\u2588\u2588\u258f\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7", "###-------" },
	{ { 55, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10, /* half: ASCII rounds up */
	  "\u2588\u2588\u2588\u2588\u2588\u258c\u00b7\u00b7\u00b7\u00b7", "######----" },
	{ { 54.9, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10, /* 3.92 eighths */
	  "\u2588\u2588\u2588\u2588\u2588\u258d\u00b7\u00b7\u00b7\u00b7", "#####-----" },
	{ { 99, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10, /* 7.2 eighths */
	  "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2589", "##########" },
	{ { 12.5 + 10 * 0.25, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10, /* 1 cell + 4 eighths */
	  "\u2588\u258c\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7", "##--------" },
	{ { 101, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588>", "#########>" },
	{ { INFINITY, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588\u2588>", "#########>" },
	{ { -1, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "<\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7", "<---------" },
	{ { -INFINITY, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "<\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7", "<---------" },
	{ { NAN, 0, 100, GNONE, ROLE_GAUGE_FILL }, 10,
	  "\u00b7\u00b7\u00b7\u00b7\u00b7?\u00b7\u00b7\u00b7\u00b7", "-----?----" },
	{ { 50, 100, 100, GNONE, ROLE_GAUGE_FILL }, 5, /* no scale */
	  "\u00b7\u00b7?\u00b7\u00b7", "--?--" },
	/* 1/3 on [0, 1] over 3 cells is exactly one cell, despite binary rounding. */
	{ { 1.0 / 3, 0, 1, GNONE, ROLE_GAUGE_FILL }, 3, "\u2588\u00b7\u00b7", "#--" },
	/* 0.35 on [0.1, 0.7] over 12 cells is 5 cells (4.999999999999999 in binary). */
	{ { 0.35, 0.1, 0.7, GNONE, ROLE_GAUGE_FILL }, 12,
	  "\u2588\u2588\u2588\u2588\u2588\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7\u00b7",
	  "#####-------" },
	/* Band [40, 70] (cells 4..7), limits 20 and 90 (cells 2 and 9). */
	{ { 0, 0, 100, 40, 70, 20, 90, ROLE_GAUGE_FILL }, 10,
	  "\u00b7\u00b7\u2502\u00b7\u2591\u2591\u2591\u2591\u00b7\u2502", "--|-....-|" },
	{ { 50, 0, 100, 40, 70, 20, 90, ROLE_GAUGE_FILL }, 10, /* the limit marker over the fill */
	  "\u2588\u2588\u2502\u2588\u2588\u2591\u2591\u2591\u00b7\u2502", "##|##...-|" },
	{ { 100, 0, 100, 40, 70, 20, 90, ROLE_GAUGE_FILL }, 10,
	  "\u2588\u2588\u2502\u2588\u2588\u2588\u2588\u2588\u2588\u2502", "##|######|" },
	{ { 120, 0, 100, 40, 70, 20, 100, ROLE_GAUGE_FILL }, 10, /* '>' over a limit in the last cell */
	  "\u2588\u2588\u2502\u2588\u2588\u2588\u2588\u2588\u2588>", "##|######>" },
	{ { NAN, 0, 100, 40, 70, 20, 90, ROLE_GAUGE_FILL }, 10,
	  "\u00b7\u00b7\u2502\u00b7\u2591?\u2591\u2591\u00b7\u2502", "--|-.?..-|" },
	/* Band reaching past the scale, limits outside it (not drawn). */
	{ { 25, 0, 100, -50, 150, -1, 101, ROLE_GAUGE_FILL }, 8,
	  "\u2588\u2588\u2591\u2591\u2591\u2591\u2591\u2591", "##......" },
	/* Band off the scale, band with a NaN bound, reversed band: not drawn. */
	{ { 0, 0, 100, 110, 150, NAN, NAN, ROLE_GAUGE_FILL }, 4,
	  "\u00b7\u00b7\u00b7\u00b7", "----" },
	{ { 0, 0, 100, NAN, 50, NAN, NAN, ROLE_GAUGE_FILL }, 4, "\u00b7\u00b7\u00b7\u00b7", "----" },
	{ { 0, 0, 100, 60, 40, NAN, NAN, ROLE_GAUGE_FILL }, 4, "\u00b7\u00b7\u00b7\u00b7", "----" },
	/* Voltage: [180, 280] on 20 cells (5 V each), band 207..253, limits 195/265. */
	{ { 230.1, 180, 280, 207, 253, 195, 265, ROLE_GAUGE_FILL }, 20,
	  "\u2588\u2588\u2588\u2502\u2588\u2588\u2588\u2588\u2588\u2588\u2591\u2591\u2591\u2591\u2591"
	  "\u00b7\u00b7\u2502\u00b7\u00b7",
	  "###|######.....--|--" },
};

static void run_gauges(WINDOW *w, bool ascii)
{
	size_t i;

	for (i = 0; i < sizeof(gauge_cases) / sizeof(gauge_cases[0]); i++) {
		const struct gauge_case *gc = &gauge_cases[i];
		const char *want = ascii ? gc->want_ascii : gc->want_utf8;
		const char *got;

		fill_sentinel(w);
		draw_gauge(w, 4, 3, gc->width, &gc->g);
		got = row_text(w, 4, 3, 3 + gc->width);
		if (strcmp(got, want) != 0)
			fail_msg("%s gauge case %zu (value %g): got '%s' want '%s'",
				 ascii ? "ascii" : "utf8", i, gc->g.value, got, want);
		assert_outside_untouched(w, 4, 3, 1, gc->width);
	}
}

static void test_gauge_utf8(void **state)
{
	WINDOW *w = win_utf8();

	(void)state;
	run_gauges(w, false);
	done(w);
}

static void test_gauge_ascii(void **state)
{
	WINDOW *w = win_ascii();

	(void)state;
	run_gauges(w, true);
	done(w);
}

/* Limit markers sit where draw_gauge_col says, for many geometries. */
static void test_gauge_limit_positions(void **state)
{
	static const double lims[] = { 0, 1, 7.5, 10, 33.3, 50, 66.6, 99.9, 100 };
	static const int widths[] = { 1, 3, 7, 10, 16, 33 };
	WINDOW *w = win_ascii();
	size_t li, wi;

	(void)state;
	for (wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
		for (li = 0; li < sizeof(lims) / sizeof(lims[0]); li++) {
			struct draw_gauge g = { 100, 0, 100, NAN, NAN, lims[li], NAN, ROLE_GAUGE_FILL };
			int width = widths[wi], col = draw_gauge_col(lims[li], 0, 100, width), x;
			const char *row;

			assert_true(col >= 0 && col < width);
			fill_sentinel(w);
			draw_gauge(w, 0, 0, width, &g);
			row = row_text(w, 0, 0, width);
			for (x = 0; x < width; x++) {
				char want = x == col ? '|' : '#';

				if (row[x] != want)
					fail_msg("limit %g width %d: '%s' col %d", lims[li], width, row,
						 col);
			}
		}
	}
	done(w);
}

static void test_gauge_clipped(void **state)
{
	struct draw_gauge g = { 50, 0, 100, NAN, NAN, 90, NAN, ROLE_GAUGE_FILL };
	WINDOW *w = win_utf8();

	(void)state;
	/* 10 cells asked, 4 visible: same scale, nothing wraps to the next row. */
	draw_gauge(w, 5, COLS - 4, 10, &g);
	assert_string_equal(row_text(w, 5, COLS - 4, COLS), "\u2588\u2588\u2588\u2588");
	assert_outside_untouched(w, 5, COLS - 4, 1, 4);
	fill_sentinel(w);
	draw_gauge(w, ROWS, 0, 10, &g);
	draw_gauge(w, 0, 0, 10, NULL);
	draw_gauge(w, 0, 0, 0, &g);
	assert_outside_untouched(w, 0, 0, 0, 0);
	done(w);
}

/* ---- sparkline ------------------------------------------------------ */

struct spark_case {
	double v[16];
	size_t n;
	int width;
	double lo, hi;
	const char *want_utf8, *want_ascii;
};

static const struct spark_case spark_cases[] = {
	/* A ramp over the given range: every level once. */
	{ { 0, 1, 2, 3, 4, 5, 6, 7 }, 8, 8, 0, 7,
	  "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588", " _.-=+*#" },
	/* The same ramp scaled to its own range. */
	{ { 10, 11, 12, 13, 14, 15, 16, 17 }, 8, 8, NAN, NAN,
	  "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588", " _.-=+*#" },
	/* Bucket means: pairs (k - 0.5, k + 0.5) average to k. */
	{ { -0.5, 0.5, 0.5, 1.5, 1.5, 2.5, 2.5, 3.5, 3.5, 4.5, 4.5, 5.5, 5.5, 6.5, 6.5, 7.5 }, 16, 8,
	  0, 7, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588", " _.-=+*#" },
	/* Uneven buckets: 5 values into 2 cells: {0, 0} and {8, 8, 2} -> 0 and 6. */
	{ { 0, 0, 8, 8, 2 }, 5, 2, 0, 8, "\u2581\u2587", " *" },
	/* NaN is a gap; the range is the finite values'. */
	{ { 1, NAN, 3 }, 3, 3, NAN, NAN, "\u2581 \u2588", "  #" },
	/* A bucket with a NaN and a value is the value. */
	{ { NAN, 7, 0, 0 }, 4, 2, 0, 7, "\u2588\u2581", "# " },
	/* Constant series: mid-height. */
	{ { 5, 5, 5, 5 }, 4, 4, NAN, NAN, "\u2584\u2584\u2584\u2584", "----" },
	/* Fewer values than cells: right-aligned, the newest at the right. */
	{ { 0, 7 }, 2, 4, 0, 7, "  \u2581\u2588", "   #" },
	/* Out of the given range: clamped. */
	{ { -100, 3.5, 100 }, 3, 3, 0, 7, "\u2581\u2585\u2588", " =#" },
	/* Nothing to draw. */
	{ { NAN, NAN }, 2, 3, NAN, NAN, "   ", "   " },
	{ { 0 }, 0, 3, 0, 1, "   ", "   " },
	{ { INFINITY, 1, 2 }, 3, 3, NAN, NAN, " \u2581\u2588", "  #" },
};

static void run_sparks(WINDOW *w, bool ascii)
{
	size_t i;

	for (i = 0; i < sizeof(spark_cases) / sizeof(spark_cases[0]); i++) {
		const struct spark_case *sc = &spark_cases[i];
		const char *want = ascii ? sc->want_ascii : sc->want_utf8;
		const char *got;

		fill_sentinel(w);
		draw_sparkline(w, 2, 5, sc->width, sc->v, sc->n, sc->lo, sc->hi, ROLE_CHART);
		got = row_text(w, 2, 5, 5 + sc->width);
		if (strcmp(got, want) != 0)
			fail_msg("%s sparkline case %zu: got '%s' want '%s'", ascii ? "ascii" : "utf8", i,
				 got, want);
		assert_outside_untouched(w, 2, 5, 1, sc->width);
	}
}

static void test_sparkline(void **state)
{
	WINDOW *w = win_utf8();

	(void)state;
	run_sparks(w, false);
	draw_sparkline(w, 0, 0, 5, NULL, 3, NAN, NAN, ROLE_CHART); /* no values: blank */
	assert_string_equal(row_text(w, 0, 0, 6), "     %");
	done(w);
	w = win_ascii();
	run_sparks(w, true);
	done(w);
}

/* ---- chart ---------------------------------------------------------- */

static wchar_t br(unsigned bits)
{
	return bits == 0 ? L' ' : (wchar_t)(0x2800 + bits);
}

/* The UTF-8 of braille cells given as bit masks. */
static const char *braille_row(const unsigned *bits, int n)
{
	static char bufs[4][256];
	static unsigned next;
	char *b = bufs[next++ % 4];
	size_t o = 0;
	int i;

	for (i = 0; i < n; i++)
		o += (size_t)utf8_put(b + o, br(bits[i]));
	b[o] = '\0';
	return b;
}

static void assert_chart_rows(WINDOW *w, int y, int x, int h, int width, const unsigned *bits)
{
	int r;

	for (r = 0; r < h; r++) {
		const char *got = row_text(w, y + r, x, x + width);
		const char *want = braille_row(bits + r * width, width);

		if (strcmp(got, want) != 0)
			fail_msg("chart row %d: got '%s' want '%s'", r, got, want);
	}
	assert_outside_untouched(w, y, x, h, width);
}

static void test_chart_utf8(void **state)
{
	/* Dot bits: left column 0x01 0x02 0x04 0x40, right column 0x08 0x10 0x20 0x80. */
	static const double ramp[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const unsigned diag[] = { 0, 0, 0x40 | 0x20, 0x02 | 0x08,
					 0x40 | 0x20, 0x02 | 0x08, 0, 0 };
	static const double steep[2] = { 0, 7 };
	static const unsigned steep_bits[] = { 0x08 | 0x10 | 0x20 | 0x80, 0x40 | 0x08 | 0x10 | 0x20 };
	static const double flat[4] = { 3, 3, 3, 3 };
	static const unsigned flat_bits[] = { 0, 0, 0x01 | 0x08, 0x01 | 0x08 };
	static const double gap[4] = { 0, NAN, 7, 7 };
	static const unsigned gap_bits[] = { 0x40, 0x01 | 0x08 };
	static const double down[4] = { 7, 0, 0, 7 };
	/* 7 -> 0 fills column 1 upward from the new point; 0 -> 7 fills column 3. */
	static const unsigned down_bits[] = { 0x01 | 0x10 | 0x20 | 0x80, 0x40 | 0x08 | 0x10 | 0x20 };
	WINDOW *w = win_utf8();

	(void)state;
	/* Diagonal: 8 points on 4x2 cells (8x8 dots), one dot per dot column. */
	draw_chart(w, 3, 6, 2, 4, ramp, 8, 0, 7, ROLE_CHART);
	assert_chart_rows(w, 3, 6, 2, 4, diag);
	/* The same with the data range (NaN bounds). */
	fill_sentinel(w);
	draw_chart(w, 3, 6, 2, 4, ramp, 8, NAN, NAN, ROLE_CHART);
	assert_chart_rows(w, 3, 6, 2, 4, diag);
	/* A vertical jump is joined in the second column: 1 cell wide, 2 high. */
	fill_sentinel(w);
	draw_chart(w, 0, 0, 2, 1, steep, 2, 0, 7, ROLE_CHART);
	{
		const unsigned rows[] = { steep_bits[0], steep_bits[1] };

		assert_chart_rows(w, 0, 0, 2, 1, rows);
	}
	/* Flat line: mid-height (dot row 4 of 8). */
	fill_sentinel(w);
	draw_chart(w, 1, 1, 2, 2, flat, 4, NAN, NAN, ROLE_CHART);
	assert_chart_rows(w, 1, 1, 2, 2, flat_bits);
	/* A NaN gap is left empty and not joined across. */
	fill_sentinel(w);
	draw_chart(w, 1, 1, 1, 2, gap, 4, 0, 7, ROLE_CHART);
	assert_chart_rows(w, 1, 1, 1, 2, gap_bits);
	/* Down then up on 2 cells, 1 row (4 dot rows): levels 3, 0, 0, 3. */
	fill_sentinel(w);
	draw_chart(w, 1, 1, 1, 2, down, 4, 0, 7, ROLE_CHART);
	assert_chart_rows(w, 1, 1, 1, 2, down_bits);
	/* Clipped at the window's edges: no wrap, no write below. */
	fill_sentinel(w);
	draw_chart(w, ROWS - 1, COLS - 1, 3, 4, ramp, 8, 0, 7, ROLE_CHART);
	assert_outside_untouched(w, ROWS - 1, COLS - 1, 1, 1);
	done(w);
}

static void test_chart_ascii(void **state)
{
	static const double ramp[4] = { 0, 1, 2, 3 };
	static const double steep[2] = { 0, 3 };
	static const double gap[4] = { 3, NAN, 0, 3 };
	static const double flat[3] = { 2, 2, 2 };
	WINDOW *w = win_ascii();

	(void)state;
	draw_chart(w, 2, 4, 4, 4, ramp, 4, 0, 3, ROLE_CHART);
	assert_string_equal(row_text(w, 2, 4, 8), "   *");
	assert_string_equal(row_text(w, 3, 4, 8), "  * ");
	assert_string_equal(row_text(w, 4, 4, 8), " *  ");
	assert_string_equal(row_text(w, 5, 4, 8), "*   ");
	assert_outside_untouched(w, 2, 4, 4, 4);

	fill_sentinel(w);
	draw_chart(w, 2, 4, 4, 2, steep, 2, 0, 3, ROLE_CHART);
	assert_string_equal(row_text(w, 2, 4, 6), " *");
	assert_string_equal(row_text(w, 3, 4, 6), " |");
	assert_string_equal(row_text(w, 4, 4, 6), " |");
	assert_string_equal(row_text(w, 5, 4, 6), "* ");
	assert_outside_untouched(w, 2, 4, 4, 2);

	/* The gap: column 1 empty, column 2 not joined to column 0; 2 -> 3 joined. */
	fill_sentinel(w);
	draw_chart(w, 0, 0, 4, 4, gap, 4, 0, 3, ROLE_CHART);
	assert_string_equal(row_text(w, 0, 0, 4), "*  *");
	assert_string_equal(row_text(w, 1, 0, 4), "   |");
	assert_string_equal(row_text(w, 2, 0, 4), "   |");
	assert_string_equal(row_text(w, 3, 0, 4), "  * ");
	assert_outside_untouched(w, 0, 0, 4, 4);

	/* Flat: mid-height, row (4 - 1) / 2 = 1 from the bottom. */
	fill_sentinel(w);
	draw_chart(w, 0, 0, 4, 3, flat, 3, NAN, NAN, ROLE_CHART);
	assert_string_equal(row_text(w, 0, 0, 3), "   ");
	assert_string_equal(row_text(w, 1, 0, 3), "   ");
	assert_string_equal(row_text(w, 2, 0, 3), "***");
	assert_string_equal(row_text(w, 3, 0, 3), "   ");
	done(w);
}

/* ---- symbols and the ASCII guarantee --------------------------------- */

static void test_symbols(void **state)
{
	static const char *const utf8[SYM__COUNT] = {
		"\u25cf", "\u25cc", "\u2716", "?", "\u25b2", "\u25c6", "\u25b6", "\u2191", "\u2193",
		"\u2514",
	};
	static const char *const ascii[SYM__COUNT] = { "o", "~", "X", "?", "!", "*", ">", "^", "v",
						       "`" };
	int s;

	(void)state;
	assert_non_null(setlocale(LC_ALL, "C.UTF-8"));
	draw_setup(NULL, false, false);
	assert_false(draw_is_ascii());
	for (s = 0; s < SYM__COUNT; s++) {
		assert_string_equal(draw_symbol((enum draw_symbol)s), utf8[s]);
		assert_int_equal(draw_width(draw_symbol((enum draw_symbol)s)), 1);
	}
	assert_string_equal(draw_symbol(SYM__COUNT), "?");
	draw_setup(NULL, false, true);
	assert_true(draw_is_ascii());
	for (s = 0; s < SYM__COUNT; s++)
		assert_string_equal(draw_symbol((enum draw_symbol)s), ascii[s]);
	draw_setup(NULL, false, false);
}

/* With ASCII on, every cell of every widget is a 7-bit character. */
static void test_ascii_everything(void **state)
{
	static const double series[12] = { 1, 5, NAN, 9, 2, 8, 3, 7, 4, 6, 5, 5 };
	struct draw_gauge g = { 62.5, 0, 100, 40, 70, 20, 90, ROLE_GAUGE_FILL };
	struct draw_gauge over = { 200, 0, 100, 40, 70, 20, 90, ROLE_ALARM };
	struct draw_gauge nan = { NAN, 0, 100, 40, 70, 20, 90, ROLE_GAUGE_FILL };
	WINDOW *w = win_ascii();
	int y, x, s;

	(void)state;
	draw_text(w, 0, 0, 12, ROLE_HEADER, "Z\u00e4hler \u6f22\u5b57 \u2013 \x1b[1m long name");
	draw_text_right(w, 0, 14, 10, ROLE_NORMAL, "\u2191 12.3 kW");
	draw_textf(w, 0, 26, 12, ROLE_NORMAL, "%s %s", "\u25cf", "caf\u00e9");
	draw_rule(w, 1, 0, COLS, ROLE_MUTED);
	draw_gauge(w, 2, 0, 17, &g);
	draw_gauge(w, 2, 20, 9, &over);
	draw_gauge(w, 2, 30, 9, &nan);
	draw_sparkline(w, 3, 0, 7, series, 12, NAN, NAN, ROLE_CHART);
	draw_sparkline(w, 3, 10, 20, series, 12, 0, 10, ROLE_CHART);
	draw_chart(w, 4, 0, 5, 30, series, 12, NAN, NAN, ROLE_CHART);
	for (s = 0; s < SYM__COUNT; s++)
		draw_text(w, 10, 2 * s, 1, ROLE_OK, draw_symbol((enum draw_symbol)s));
	for (y = 0; y < ROWS; y++) {
		for (x = 0; x < COLS; x++) {
			wchar_t wcs[CCHARW_MAX + 1] = { 0 };

			assert_int_equal(cell_at(w, y, x, wcs, NULL), OK);
			if (wcs[0] < 0x20 || wcs[0] > 0x7e || wcs[1] != L'\0')
				fail_msg("cell (%d,%d) is U+%04lX: %s", y, x, (unsigned long)wcs[0],
					 row_all(w, y));
		}
	}
	/* And the widgets really drew something there. */
	assert_string_equal(row_text(w, 0, 0, 12), "Z?hler ??...");
	assert_string_equal(row_text(w, 10, 0, 17), "o%~%X%?%!%*%>%^%v");
	done(w);
}

/* ---- with a theme ---------------------------------------------------- */

/* A cell's attributes with its colour pair, as theme_attr gives them. */
static unsigned long cell_attr(WINDOW *w, int y, int x)
{
	wchar_t wcs[CCHARW_MAX + 1] = { 0 };
	cchar_t cc;
	attr_t a;
	short pair;

	assert_int_equal(mvwin_wch(w, y, x, &cc), OK);
	assert_int_equal(getcchar(&cc, wcs, &a, &pair, NULL), OK);
	return (unsigned long)((a & ~A_COLOR) | COLOR_PAIR(pair));
}

/* Every cell gets its role's attributes from the theme, colour pair included. */
static void test_theme_roles(void **state)
{
	static const enum theme_role gauge_roles[10] = {
		ROLE_GAUGE_FILL, ROLE_GAUGE_FILL, ROLE_GAUGE_LIMIT, ROLE_GAUGE_FILL, ROLE_GAUGE_FILL,
		ROLE_GAUGE_BAND, ROLE_GAUGE_BAND, ROLE_GAUGE_BAND, ROLE_GAUGE_EMPTY, ROLE_GAUGE_LIMIT,
	};
	static const double series[4] = { 1, 2, 3, 4 };
	struct draw_gauge g = { 50, 0, 100, 40, 70, 20, 90, ROLE_GAUGE_FILL };
	struct diag d;
	struct theme *t;
	WINDOW *w;
	int i;

	(void)state;
	diag_init(&d);
	t = theme_load(test_path("themes/dark.ini"), &d);
	if (t == NULL) {
		diag_print(&d, stderr);
		fail_msg("themes/dark.ini did not load");
	}
	diag_clear(&d);
	assert_int_equal(theme_apply(t, true), 0);
	/* The roles of this test look different, or the test could not fail. */
	assert_true(theme_attr(ROLE_GAUGE_FILL) != theme_attr(ROLE_GAUGE_LIMIT));
	assert_true(theme_attr(ROLE_GAUGE_FILL) != theme_attr(ROLE_GAUGE_BAND));
	assert_true(theme_attr(ROLE_GAUGE_EMPTY) != theme_attr(ROLE_GAUGE_BAND));
	assert_true(theme_attr(ROLE_HEADER) != theme_attr(ROLE_NORMAL));
	assert_true(PAIR_NUMBER(theme_attr(ROLE_GAUGE_FILL)) != 0);

	w = win_utf8();
	draw_setup(t, true, false);
	assert_int_equal(draw_attr(ROLE_ALARM), (attr_t)theme_attr(ROLE_ALARM));
	draw_gauge(w, 0, 0, 10, &g);
	for (i = 0; i < 10; i++) {
		if (cell_attr(w, 0, i) != theme_attr(gauge_roles[i]))
			fail_msg("gauge cell %d: attributes %#lx, want %s %#lx", i, cell_attr(w, 0, i),
				 theme_role_name(gauge_roles[i]), theme_attr(gauge_roles[i]));
	}
	draw_text(w, 1, 0, 5, ROLE_HEADER, "Title");
	draw_sparkline(w, 2, 0, 4, series, 4, NAN, NAN, ROLE_CHART);
	draw_rule(w, 3, 0, 4, ROLE_MUTED);
	for (i = 0; i < 4; i++) {
		assert_int_equal(cell_attr(w, 1, i), theme_attr(ROLE_HEADER));
		assert_int_equal(cell_attr(w, 2, i), theme_attr(ROLE_CHART));
		assert_int_equal(cell_attr(w, 3, i), theme_attr(ROLE_MUTED));
	}
	draw_setup(NULL, false, false);
	done(w);
	theme_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_utf8),
		cmocka_unit_test(test_text_ascii),
		cmocka_unit_test(test_text_window_edge),
		cmocka_unit_test(test_text_right),
		cmocka_unit_test(test_text_attrs),
		cmocka_unit_test(test_textf_rule),
		cmocka_unit_test(test_gauge_col),
		cmocka_unit_test(test_gauge_utf8),
		cmocka_unit_test(test_gauge_ascii),
		cmocka_unit_test(test_gauge_limit_positions),
		cmocka_unit_test(test_gauge_clipped),
		cmocka_unit_test(test_sparkline),
		cmocka_unit_test(test_chart_utf8),
		cmocka_unit_test(test_chart_ascii),
		cmocka_unit_test(test_symbols),
		cmocka_unit_test(test_ascii_everything),
		cmocka_unit_test(test_theme_roles),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
