// SPDX-License-Identifier: MIT
/*
 * theme: the shipped themes load cleanly and keep their promises (dark is
 * the built-in default, light has no yellow text, colorblind never uses red
 * or green for states, mono has no colour); a partial theme inherits the
 * defaults; the value grammar, table-driven; a bad file gives every error
 * as exact file:line lines; the search path. Then theme_apply inside real
 * ncurses sessions on /dev/null (256, 88/16 and 8-colour terminals, a
 * monochrome one, colour off), checked through pair_content(), and the
 * bytes ncurses writes with colour off hold no colour escape.
 */
#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#include "phasor/diag.h"
#include "phasor/theme.h"
#include "phasor/util.h"
#include "support.h"


const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

enum { B = THEME_BOLD, D = THEME_DIM, U = THEME_UNDERLINE, R = THEME_REVERSE, I = THEME_ITALIC };

/* ---- helpers ------------------------------------------------------------------ */

static char tmpdir[64];

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/phasor-test-theme-XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	/* the shipped themes, wherever the test binary runs from */
	return setenv("PHASOR_THEMES", test_path("themes"), 1);
}

static int teardown_tmp(void **state)
{
	DIR *dir = opendir(tmpdir);
	struct dirent *e;

	(void)state;
	if (dir != NULL) {
		while ((e = readdir(dir)) != NULL) {
			char *p;

			if (e->d_name[0] == '.')
				continue;
			p = util_printf("%s/%s", tmpdir, e->d_name);
			unlink(p);
			free(p);
		}
		closedir(dir);
	}
	rmdir(tmpdir);
	return 0;
}

/* Write text to tmpdir/name; returns the path (caller frees). */
static char *write_tmp(const char *name, const char *text)
{
	char *path = util_printf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Load and demand zero diagnostics. */
static struct theme *load_clean(const char *name_or_path)
{
	struct diag d;
	struct theme *t;

	diag_init(&d);
	t = theme_load(name_or_path, &d);
	if (t == NULL || d.n != 0) {
		diag_print(&d, stderr);
		fail_msg("%s: %zu diagnostics", name_or_path, d.n);
	}
	diag_clear(&d);
	return t;
}

static void assert_style(const struct theme_style *s, int fg, int bg, unsigned attrs)
{
	if (s->fg != fg || s->bg != bg || s->attrs != attrs)
		fail_msg("style %d/%d/%u, want %d/%d/%u", s->fg, s->bg, s->attrs, fg, bg, attrs);
}

/* The style a 256-colour terminal gets for a role. */
static const struct theme_style *style256(const struct theme *t, int r)
{
	return t->has256[r] ? &t->color256[r] : &t->color[r];
}

/* ---- names -------------------------------------------------------------------- */

/* Must run first: nothing applied yet. */
static void test_attr_before_apply(void **state)
{
	int r;

	(void)state;
	for (r = 0; r < ROLE__COUNT; r++)
		assert_int_equal(theme_attr(r), 0);
}

static void test_names(void **state)
{
	static const char *const roles[ROLE__COUNT] = {
		"normal", "muted", "accent",  "header", "status", "selection",
		"ok",	  "warning", "alarm", "critical", "stale", "gauge-fill",
		"gauge-empty", "gauge-band", "gauge-limit", "chart",
	};
	static const char *const themes[] = { "dark", "light", "high-contrast", "mono",
					      "colorblind" };
	const char *const *names = theme_names();
	size_t i;

	(void)state;
	for (i = 0; i < ROLE__COUNT; i++)
		assert_string_equal(theme_role_name(i), roles[i]);
	assert_string_equal(theme_role_name(ROLE__COUNT), "?");
	assert_string_equal(theme_role_name((enum theme_role)-1), "?");
	for (i = 0; names[i] != NULL; i++) {
		assert_true(i < UTIL_ARRAY_LEN(themes));
		assert_string_equal(names[i], themes[i]);
	}
	assert_int_equal(i, UTIL_ARRAY_LEN(themes));
}

/* ---- shipped themes ------------------------------------------------------------- */

static void test_shipped_load_clean(void **state)
{
	const char *const *names = theme_names();
	size_t i, files = 0;
	DIR *dir;
	struct dirent *e;

	(void)state;
	for (i = 0; names[i] != NULL; i++) {
		struct theme *t = load_clean(names[i]);
		char *path = util_printf("%s/%s.ini", test_path("themes"), names[i]);
		struct theme *by_path = load_clean(path);

		assert_string_equal(t->name, names[i]);
		assert_true(strlen(t->description) > 10);
		assert_memory_equal(t->color, by_path->color, sizeof(t->color));
		theme_free(by_path);
		free(path);
		theme_free(t);
	}
	/* every file in themes/ is a shipped theme */
	dir = opendir(test_path("themes"));
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		size_t n = strlen(e->d_name), k;
		bool known = false;

		if (e->d_name[0] == '.')
			continue;
		assert_true(n > 4 && strcmp(e->d_name + n - 4, ".ini") == 0);
		for (k = 0; names[k] != NULL; k++)
			if (strlen(names[k]) == n - 4 && strncmp(names[k], e->d_name, n - 4) == 0)
				known = true;
		if (!known)
			fail_msg("themes/%s is not in theme_names()", e->d_name);
		files++;
	}
	closedir(dir);
	assert_int_equal(files, i);
}

/* themes/dark.ini is exactly the built-in default. */
static void test_dark_is_builtin(void **state)
{
	char *path = write_tmp("minimal.ini", "[theme]\nname = minimal\n");
	struct theme *dark = load_clean("dark"), *min = load_clean(path);
	int r;

	(void)state;
	assert_string_equal(min->name, "minimal");
	assert_string_equal(min->description, "");
	for (r = 0; r < ROLE__COUNT; r++) {
		const char *n = theme_role_name(r);

		if (memcmp(&dark->color[r], &min->color[r], sizeof(dark->color[r])) != 0)
			fail_msg("[colors] %s differs from the built-in default", n);
		if (dark->has256[r] != min->has256[r])
			fail_msg("[colors-256] %s given in one only", n);
		if (dark->has256[r] &&
		    memcmp(&dark->color256[r], &min->color256[r], sizeof(dark->color256[r])) != 0)
			fail_msg("[colors-256] %s differs from the built-in default", n);
		if (dark->mono[r].attrs != min->mono[r].attrs)
			fail_msg("[mono] %s differs from the built-in default", n);
	}
	theme_free(dark);
	theme_free(min);
	free(path);
}

/* The values the brief asks for, typed independently of the files. */
static void test_shipped_values(void **state)
{
	struct theme *dark = load_clean("dark"), *cb = load_clean("colorblind");
	struct theme *light = load_clean("light"), *hc = load_clean("high-contrast");
	struct theme *mono = load_clean("mono");
	int r;

	(void)state;
	assert_style(&dark->color[ROLE_OK], 2, -1, 0);
	assert_style(&dark->color[ROLE_WARNING], 3, -1, B);
	assert_style(&dark->color[ROLE_ALARM], 1, -1, B);
	assert_style(&dark->color[ROLE_CRITICAL], 15, 1, B);
	assert_style(&dark->color[ROLE_SELECTION], 0, 6, 0);
	assert_style(&dark->color[ROLE_STALE], 8, -1, D);
	assert_style(&dark->color256[ROLE_OK], 71, -1, 0);
	assert_style(&dark->color256[ROLE_CRITICAL], 231, 160, B);
	assert_false(dark->has256[ROLE_NORMAL]);
	assert_int_equal(dark->mono[ROLE_SELECTION].attrs, R);
	assert_int_equal(dark->mono[ROLE_CRITICAL].attrs, R | B);
	assert_int_equal(dark->mono[ROLE_STALE].attrs, D);

	/* colorblind: Okabe-Ito on 256 colours */
	assert_style(&cb->color256[ROLE_OK], 32, -1, 0);
	assert_style(&cb->color256[ROLE_WARNING], 214, -1, B);
	assert_style(&cb->color256[ROLE_ALARM], 166, -1, B);
	assert_style(&cb->color256[ROLE_CRITICAL], 166, -1, R | B);
	for (r = ROLE_OK; r <= ROLE_CRITICAL; r++) {
		const struct theme_style *s16 = &cb->color[r];

		/* no red or green, base or bright, in the state roles */
		assert_true(s16->fg != 1 && s16->fg != 2 && s16->fg != 9 && s16->fg != 10);
		assert_true(s16->bg != 1 && s16->bg != 2 && s16->bg != 9 && s16->bg != 10);
		assert_true(cb->has256[r]);
	}

	/* light: no yellow or white text on the terminal's (white) background */
	for (r = 0; r < ROLE__COUNT; r++) {
		static const short pale256[] = { 3, 7, 11, 15, 184, 190, 220, 226, 227, 229, 230,
						 231, 255 };
		const struct theme_style *s = &light->color[r], *s2 = style256(light, r);
		size_t k;

		if (s->bg == -1 && !(s->attrs & R))
			assert_true(s->fg != 3 && s->fg != 11 && s->fg != 7 && s->fg != 15);
		if (s2->bg == -1 && !(s2->attrs & R))
			for (k = 0; k < UTIL_ARRAY_LEN(pale256); k++)
				if (s2->fg == pale256[k])
					fail_msg("light: %s is pale (%d)", theme_role_name(r), s2->fg);
	}

	/* high-contrast: alarm, critical and selection are solid blocks */
	{
		static const int solid[] = { ROLE_ALARM, ROLE_CRITICAL, ROLE_SELECTION };
		size_t k;

		for (k = 0; k < UTIL_ARRAY_LEN(solid); k++) {
			int s = solid[k];

			assert_true((hc->color[s].attrs & R) || hc->color[s].bg != -1);
			assert_true((style256(hc, s)->attrs & R) || style256(hc, s)->bg != -1);
			assert_true(hc->mono[s].attrs & R);
		}
		for (r = ROLE_OK; r <= ROLE_CRITICAL; r++)
			assert_true(hc->color[r].attrs & B);
	}

	/* mono: no colour anywhere, and the same look with colour on or off */
	for (r = 0; r < ROLE__COUNT; r++) {
		assert_style(&mono->color[r], -1, -1, mono->mono[r].attrs);
		assert_style(style256(mono, r), -1, -1, mono->mono[r].attrs);
	}

	/* every theme: the states differ from each other in [mono] too */
	{
		struct theme *all[] = { dark, cb, light, hc, mono };
		size_t k;

		for (k = 0; k < UTIL_ARRAY_LEN(all); k++) {
			const struct theme_style *m = all[k]->mono;

			assert_true(m[ROLE_OK].attrs != m[ROLE_ALARM].attrs);
			assert_true(m[ROLE_WARNING].attrs != m[ROLE_ALARM].attrs);
			assert_true(m[ROLE_ALARM].attrs != m[ROLE_CRITICAL].attrs);
			assert_true(m[ROLE_SELECTION].attrs != 0);
			assert_true(m[ROLE_STALE].attrs & D);
		}
	}
	theme_free(dark);
	theme_free(cb);
	theme_free(light);
	theme_free(hc);
	theme_free(mono);
}

/* ---- partial themes ---------------------------------------------------------------- */

static void test_partial_inherits(void **state)
{
	char *path = write_tmp("partial.ini", "; only three changes\n"
					      "[theme]\n"
					      "name = partial\n"
					      "description = ok in blue\n"
					      "[mono]\n"
					      "stale = underline\n"
					      "[colors]\n"
					      "ok = blue bold\n"
					      "[colors-256]\n"
					      "alarm = 196\n");
	struct theme *t = load_clean(path), *dark = load_clean("dark");
	int r;

	(void)state;
	assert_string_equal(t->name, "partial");
	assert_string_equal(t->description, "ok in blue");
	/* what the file says */
	assert_style(&t->color[ROLE_OK], 4, -1, B);
	assert_false(t->has256[ROLE_OK]); /* its [colors] style on 256 colours too */
	assert_true(t->has256[ROLE_ALARM]);
	assert_style(&t->color256[ROLE_ALARM], 196, -1, 0);
	assert_style(&t->color[ROLE_ALARM], 1, -1, B); /* default [colors] kept */
	assert_int_equal(t->mono[ROLE_STALE].attrs, U);
	/* everything else is the default */
	for (r = 0; r < ROLE__COUNT; r++) {
		if (r != ROLE_OK)
			assert_memory_equal(&t->color[r], &dark->color[r], sizeof(t->color[r]));
		if (r != ROLE_OK && r != ROLE_ALARM) {
			assert_int_equal(t->has256[r], dark->has256[r]);
			assert_memory_equal(style256(t, r), style256(dark, r), sizeof(t->color[r]));
		}
		if (r != ROLE_STALE)
			assert_int_equal(t->mono[r].attrs, dark->mono[r].attrs);
	}
	theme_free(t);
	theme_free(dark);
	free(path);
}

/* ---- the value grammar ----------------------------------------------------------- */

struct grammar_case {
	const char *section;
	const char *value;
	const char *error; /* NULL: loads, with fg/bg/attrs */
	int fg, bg;
	unsigned attrs;
};

static const struct grammar_case grammar[] = {
	{ "colors", "default", NULL, -1, -1, 0 },
	{ "colors", "green", NULL, 2, -1, 0 },
	{ "colors", "GREEN Bold", NULL, 2, -1, B },
	{ "colors", "grey", NULL, 8, -1, 0 },
	{ "colors", "gray", NULL, 8, -1, 0 },
	{ "colors", "bright-black", NULL, 8, -1, 0 },
	{ "colors", "bright-white on red bold underline", NULL, 15, 1, B | U },
	{ "colors", "on blue", NULL, -1, 4, 0 },
	{ "colors", "bold", NULL, -1, -1, B },
	{ "colors", "reverse italic dim", NULL, -1, -1, R | I | D },
	{ "colors", "normal", NULL, -1, -1, 0 },
	{ "colors", "15", NULL, 15, -1, 0 },
	{ "colors", "0 on 7", NULL, 0, 7, 0 },
	{ "colors", "default on default", NULL, -1, -1, 0 },
	{ "colors", "yellow\tbold", NULL, 3, -1, B },
	{ "colors", "16", "ok: colour 16 out of range 0..15 in [colors] (16..255 go in [colors-256])", 0, 0, 0 },
	{ "colors", "-1", "ok: colour -1 out of range 0..15 in [colors] (16..255 go in [colors-256])", 0, 0, 0 },
	{ "colors", "red bold on blue", "ok: 'on' after the attributes (write FG [on BG] [ATTR]...)", 0, 0, 0 },
	{ "colors", "red on blue on green", "ok: 'on' twice", 0, 0, 0 },
	{ "colors", "on", "ok: 'on' without a colour", 0, 0, 0 },
	{ "colors", "red on", "ok: 'on' without a colour", 0, 0, 0 },
	{ "colors", "red on bold", "ok: 'on' without a colour", 0, 0, 0 },
	{ "colors", "red on grene", "ok: unknown colour 'grene' (did you mean 'green'?)", 0, 0, 0 },
	{ "colors", "red on 99", "ok: colour 99 out of range 0..15 in [colors] (16..255 go in [colors-256])", 0, 0, 0 },
	{ "colors", "bold red", "ok: colour 'red' out of place (write FG [on BG] [ATTR]...)", 0, 0, 0 },
	{ "colors", "red blue", "ok: a second colour 'blue' needs 'on' (FG on BG)", 0, 0, 0 },
	{ "colors", "on blue red", "ok: colour 'red' out of place (write FG [on BG] [ATTR]...)", 0, 0, 0 },
	{ "colors", "red on grey bold", NULL, 1, 8, B },
	{ "colors", "bolt", "ok: unknown colour or attribute 'bolt' (did you mean 'bold'?)", 0, 0, 0 },
	{ "colors", "purple", "ok: unknown colour or attribute 'purple'", 0, 0, 0 },
	{ "colors", "red bolt", "ok: unknown attribute 'bolt' (did you mean 'bold'?)", 0, 0, 0 },
	{ "colors", "red blink", "ok: unknown attribute 'blink'", 0, 0, 0 },
	{ "colors", "", "ok: no value (write FG [on BG] [ATTR]...)", 0, 0, 0 },
	{ "colors-256", "231 on 160 bold", NULL, 231, 160, B },
	{ "colors-256", "255", NULL, 255, -1, 0 },
	{ "colors-256", "0", NULL, 0, -1, 0 },
	{ "colors-256", "red", NULL, 1, -1, 0 },
	{ "colors-256", "256", "ok: colour 256 out of range 0..255", 0, 0, 0 },
	{ "colors-256", "12 on 1000", "ok: colour 1000 out of range 0..255", 0, 0, 0 },
	{ "colors-256", "0x10", "ok: unknown colour or attribute '0x10'", 0, 0, 0 },
	{ "colors-256", "010", NULL, 10, -1, 0 },
	{ "colors-256", "99999999999999999999", "ok: colour 99999999999999999999 out of range 0..255", 0, 0, 0 },
	{ "mono", "reverse bold", NULL, -1, -1, R | B },
	{ "mono", "normal", NULL, -1, -1, 0 },
	{ "mono", "underline italic", NULL, -1, -1, U | I },
	{ "mono", "red",
	  "ok: 'red' is a colour word; [mono] takes attributes only (bold, dim, underline, "
	  "reverse, italic, normal)", 0, 0, 0 },
	{ "mono", "bold 5",
	  "ok: '5' is a colour word; [mono] takes attributes only (bold, dim, underline, "
	  "reverse, italic, normal)", 0, 0, 0 },
	{ "mono", "on red",
	  "ok: 'on' is a colour word; [mono] takes attributes only (bold, dim, underline, "
	  "reverse, italic, normal)", 0, 0, 0 },
	{ "mono", "", "ok: no value (attributes, or 'normal' for none)", 0, 0, 0 },
	{ "mono", "bolt", "ok: unknown attribute 'bolt' (did you mean 'bold'?)", 0, 0, 0 },
};

static void test_grammar(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(grammar); i++) {
		const struct grammar_case *g = &grammar[i];
		char *text = util_printf("[theme]\nname = g\n[%s]\nok = %s\n", g->section, g->value);
		char *path = write_tmp("grammar.ini", text);
		struct diag d;
		struct theme *t;

		diag_init(&d);
		t = theme_load(path, &d);
		if (g->error == NULL) {
			const struct theme_style *s;

			if (t == NULL || d.n != 0) {
				diag_print(&d, stderr);
				fail_msg("[%s] ok = %s: refused", g->section, g->value);
			}
			s = strcmp(g->section, "colors") == 0	   ? &t->color[ROLE_OK]
			    : strcmp(g->section, "colors-256") == 0 ? &t->color256[ROLE_OK]
								    : &t->mono[ROLE_OK];
			if (s->fg != g->fg || s->bg != g->bg || s->attrs != g->attrs)
				fail_msg("[%s] ok = %s: %d/%d/%u", g->section, g->value, s->fg, s->bg,
					 s->attrs);
			theme_free(t);
		} else {
			char *want = util_printf("%s:4: %s", path, g->error);

			if (t != NULL || d.n != 1 || strcmp(d.lines[0], want) != 0) {
				diag_print(&d, stderr);
				fail_msg("[%s] ok = %s: want \"%s\"", g->section, g->value, want);
			}
			free(want);
		}
		diag_clear(&d);
		free(path);
		free(text);
	}
}

/* ---- a file full of mistakes ------------------------------------------------------ */

static void test_bad_file(void **state)
{
	static const char text[] =
	    "; a theme with many mistakes\n"	     /* 1 */
	    "[theme]\n"				     /* 2 */
	    "nme = broken\n"			     /* 3 */
	    "description = several errors\n"	     /* 4 */
	    "description = twice\n"		     /* 5 */
	    "[colours]\n"			     /* 6 */
	    "ok = green\n"			     /* 7 */
	    "[colors extra]\n"			     /* 8 */
	    "warn = yellow\n"			     /* 9 */
	    "ok = gren\n"			     /* 10 */
	    "alarm = red blink\n"		     /* 11 */
	    "critical = white on\n"		     /* 12 */
	    "ok = blue\n"			     /* 13 */
	    "selection = black cyan\n"		     /* 14 */
	    "chart = 42\n"			     /* 15 */
	    "this line has no equals sign\n"	     /* 16 */
	    "[colors-256]\n"			     /* 17 */
	    "ok = 256\n"			     /* 18 */
	    "stale = bold 244\n"		     /* 19 */
	    "[mono]\n"				     /* 20 */
	    "selection = black on cyan\n"	     /* 21 */
	    "stale =\n"				     /* 22 */
	    "[colors]\n"			     /* 23 */
	    "chart = cyan\n"			     /* 24 */
	    "gauge-fil = cyan\n";		     /* 25 */
	static const char *const want[] = {
		"2: [theme] has no name (add name = ...)",
		"3: unknown key 'nme' in [theme] (did you mean 'name'?)",
		"5: duplicate key 'description' (first at line 4)",
		"6: unknown section [colours] (did you mean [colors]?)",
		"8: section [colors] takes no name ('extra')",
		"9: unknown role 'warn' (did you mean 'warning'?)",
		"10: ok: unknown colour or attribute 'gren' (did you mean 'green'?)",
		"11: alarm: unknown attribute 'blink'",
		"12: critical: 'on' without a colour",
		"13: duplicate role 'ok' in [colors] (first at line 10)",
		"14: selection: a second colour 'cyan' needs 'on' (FG on BG)",
		"15: chart: colour 42 out of range 0..15 in [colors] (16..255 go in [colors-256])",
		"16: expected 'key = value' or '[section]', found: this line has no equals sign",
		"18: ok: colour 256 out of range 0..255",
		"19: stale: colour '244' out of place (write FG [on BG] [ATTR]...)",
		"21: selection: 'black' is a colour word; [mono] takes attributes only (bold, dim, "
		"underline, reverse, italic, normal)",
		"22: stale: no value (attributes, or 'normal' for none)",
		"23: section [colors] repeated (first at line 8)",
		"24: duplicate role 'chart' in [colors] (first at line 15)",
		"25: unknown role 'gauge-fil' (did you mean 'gauge-fill'?)",
	};
	char *path = write_tmp("bad.ini", text);
	struct diag d;
	size_t i;

	(void)state;
	diag_init(&d);
	assert_null(theme_load(path, &d));
	for (i = 0; i < d.n && i < UTIL_ARRAY_LEN(want); i++) {
		char *w = util_printf("%s:%s", path, want[i]);

		if (strcmp(d.lines[i], w) != 0) {
			diag_print(&d, stderr);
			fail_msg("line %zu: got \"%s\", want \"%s\"", i, d.lines[i], w);
		}
		free(w);
	}
	if (d.n != UTIL_ARRAY_LEN(want)) {
		diag_print(&d, stderr);
		fail_msg("%zu diagnostics, want %zu", d.n, UTIL_ARRAY_LEN(want));
	}
	diag_clear(&d);
	free(path);
}

static void test_whole_file_errors(void **state)
{
	char *no_theme = write_tmp("no-theme.ini", "[colors]\nok = blue\n");
	char *empty_name = write_tmp("empty-name.ini", "[theme]\nname =\n");
	char *missing = util_printf("%s/does-not-exist.ini", tmpdir);
	char *want;
	struct diag d;

	(void)state;
	diag_init(&d);
	assert_null(theme_load(no_theme, &d));
	assert_int_equal(d.n, 1);
	want = util_printf("%s: no [theme] section (it gives the theme's name = ...)", no_theme);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);

	assert_null(theme_load(empty_name, &d));
	assert_int_equal(d.n, 1);
	want = util_printf("%s:2: name: no value", empty_name);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);

	assert_null(theme_load(missing, &d));
	assert_int_equal(d.n, 1);
	want = util_printf("%s: cannot read: No such file or directory", missing);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);
	free(no_theme);
	free(empty_name);
	free(missing);
}

/* ---- finding themes -------------------------------------------------------------- */

static void test_find(void **state)
{
	static const struct {
		const char *name, *want;
	} unknown[] = {
		{ "drak", "theme: unknown theme 'drak' (did you mean 'dark'?); shipped: dark, light, "
			  "high-contrast, mono, colorblind" },
		{ "high-contast", "theme: unknown theme 'high-contast' (did you mean "
				  "'high-contrast'?); shipped: dark, light, high-contrast, mono, "
				  "colorblind" },
		{ "mine.ini", "theme: unknown theme 'mine.ini'; to load a file give its path "
			      "(./mine.ini); shipped: dark, light, high-contrast, mono, colorblind" },
		{ "", "theme: no theme name given" },
		{ ".hidden", NULL },
		{ "solarized", NULL },
	};
	char *mine = write_tmp("mine.ini", "[theme]\nname = mine\n[colors]\nok = magenta\n");
	char *env;
	struct diag d;
	struct theme *t;
	size_t i;

	(void)state;
	diag_init(&d);
	for (i = 0; i < UTIL_ARRAY_LEN(unknown); i++) {
		assert_null(theme_load(unknown[i].name, &d));
		assert_int_equal(d.n, 1);
		if (unknown[i].want != NULL) {
			assert_string_equal(d.lines[0], unknown[i].want);
		} else {
			char *w = util_printf("theme: unknown theme '%s' (searched $PHASOR_THEMES, "
					      "themes/, %s/share/phasor/themes); shipped: dark, "
					      "light, high-contrast, mono, colorblind",
					      unknown[i].name, PHASOR_PREFIX);

			assert_string_equal(d.lines[0], w);
			free(w);
		}
		diag_clear(&d);
	}

	/* a directory list: empty entries and missing directories are skipped */
	env = util_printf("::/nonexistent:%s:%s", tmpdir, test_path("themes"));
	assert_int_equal(setenv("PHASOR_THEMES", env, 1), 0);
	t = load_clean("mine");
	assert_string_equal(t->name, "mine");
	assert_style(&t->color[ROLE_OK], 5, -1, 0);
	theme_free(t);
	t = load_clean("light");
	assert_string_equal(t->name, "light");
	theme_free(t);

	/* without $PHASOR_THEMES the source tree is found from the binary
	 * (build/tests/ inside it, unless the tree was moved) */
	assert_int_equal(unsetenv("PHASOR_THEMES"), 0);
	if (getenv("PHASOR_SRCDIR") == NULL) {
		t = load_clean("colorblind");
		assert_string_equal(t->name, "colorblind");
		theme_free(t);
	}
	assert_null(theme_load("mine", &d));
	diag_clear(&d);

	/* a path is loaded as it is */
	t = load_clean(mine);
	assert_string_equal(t->name, "mine");
	theme_free(t);
	assert_int_equal(setenv("PHASOR_THEMES", test_path("themes"), 1), 0);
	free(env);
	free(mine);
}

/* ---- theme_apply in real ncurses sessions --------------------------------------------- */

static SCREEN *open_term(const char *type, FILE **out, FILE **in, const char *out_path)
{
	SCREEN *s;

	*out = fopen(out_path != NULL ? out_path : "/dev/null", "w");
	*in = fopen("/dev/null", "r");
	assert_non_null(*out);
	assert_non_null(*in);
	s = newterm(type, *out, *in);
	if (s == NULL) {
		fclose(*out);
		fclose(*in);
		return NULL;
	}
	set_term(s);
	return s;
}

static void close_term(SCREEN *s, FILE *out, FILE *in)
{
	endwin();
	delscreen(s);
	fclose(out);
	fclose(in);
}

/* A role's expected pair (fg/bg) and attributes; NOPAIR: no colour pair. */
#define NOPAIR (-9)
struct want_role {
	int fg, bg;
	attr_t attrs;
};

static void check_roles(const char *term, const struct want_role *want)
{
	int r;

	for (r = 0; r < ROLE__COUNT; r++) {
		unsigned long a = theme_attr(r);
		attr_t plain = (attr_t)(a & ~A_COLOR);

		if (plain != want[r].attrs)
			fail_msg("%s %s: attrs %#lx, want %#lx", term, theme_role_name(r),
				 (unsigned long)plain, (unsigned long)want[r].attrs);
		if (want[r].fg == NOPAIR) {
			if (PAIR_NUMBER(a) != 0)
				fail_msg("%s %s: pair %d, want none", term, theme_role_name(r),
					 (int)PAIR_NUMBER(a));
		} else {
			short fg = -5, bg = -5;

			if (PAIR_NUMBER(a) != r + 1)
				fail_msg("%s %s: pair %d, want %d", term, theme_role_name(r),
					 (int)PAIR_NUMBER(a), r + 1);
			assert_int_equal(pair_content((short)(r + 1), &fg, &bg), OK);
			if (fg != want[r].fg || bg != want[r].bg)
				fail_msg("%s %s: pair %d/%d, want %d/%d", term, theme_role_name(r), fg,
					 bg, want[r].fg, want[r].bg);
		}
	}
}

/* The dark theme on xterm-256color: the [colors-256] values. */
static void test_apply_256(void **state)
{
	static const struct want_role want[ROLE__COUNT] = {
		[ROLE_NORMAL] = { NOPAIR, 0, A_NORMAL },
		[ROLE_MUTED] = { 245, -1, A_NORMAL },
		[ROLE_ACCENT] = { 80, -1, A_BOLD },
		[ROLE_HEADER] = { 255, 24, A_BOLD },
		[ROLE_STATUS] = { NOPAIR, 0, A_REVERSE },
		[ROLE_SELECTION] = { 16, 117, A_NORMAL },
		[ROLE_OK] = { 71, -1, A_NORMAL },
		[ROLE_WARNING] = { 220, -1, A_BOLD },
		[ROLE_ALARM] = { 203, -1, A_BOLD },
		[ROLE_CRITICAL] = { 231, 160, A_BOLD },
		[ROLE_STALE] = { 241, -1, A_NORMAL },
		[ROLE_GAUGE_FILL] = { 74, -1, A_NORMAL },
		[ROLE_GAUGE_EMPTY] = { 238, -1, A_NORMAL },
		[ROLE_GAUGE_BAND] = { 71, -1, A_NORMAL },
		[ROLE_GAUGE_LIMIT] = { 203, -1, A_BOLD },
		[ROLE_CHART] = { 80, -1, A_NORMAL },
	};
	struct theme *t = load_clean("dark"), *cb = load_clean("colorblind");
	FILE *out, *in;
	SCREEN *s = open_term("xterm-256color", &out, &in, NULL);
	int r;

	(void)state;
	assert_non_null(s);
	assert_int_equal(theme_apply(t, true), 0);
	assert_true(COLORS >= 256);
	check_roles("xterm-256color dark", want);

	/* switching themes re-uses the pairs; each role has its own */
	assert_int_equal(theme_apply(cb, true), 0);
	for (r = 0; r < ROLE__COUNT; r++) {
		const struct theme_style *st = style256(cb, r);
		short fg, bg;

		if (st->fg == -1 && st->bg == -1) {
			assert_int_equal(PAIR_NUMBER(theme_attr(r)), 0);
			continue;
		}
		assert_int_equal(PAIR_NUMBER(theme_attr(r)), r + 1);
		assert_int_equal(pair_content((short)(r + 1), &fg, &bg), OK);
		assert_int_equal(fg, st->fg);
		assert_int_equal(bg, st->bg);
	}
	assert_int_equal(theme_attr(ROLE_CRITICAL) & ~A_COLOR, A_REVERSE | A_BOLD);
	close_term(s, out, in);
	theme_free(t);
	theme_free(cb);
}

/* A test theme with bright colours, for the 8 and 16-colour mapping. */
static const char bright_theme[] = "[theme]\nname = bright\n[colors]\n"
				   "ok = bright-green\n"
				   "warning = bright-yellow on bright-blue\n"
				   "alarm = red on bright-yellow underline\n"
				   "muted = grey\n"
				   "stale = bright-black on blue\n"
				   "chart = bright-white bold\n"
				   "[colors-256]\nok = 28\n";

/* xterm: 8 colours; bright foregrounds become bold base colours. */
static void test_apply_8(void **state)
{
	static const struct want_role want_dark[ROLE__COUNT] = {
		[ROLE_NORMAL] = { NOPAIR, 0, A_NORMAL },
		[ROLE_MUTED] = { NOPAIR, 0, A_DIM }, /* grey: default colour, dim */
		[ROLE_ACCENT] = { 6, -1, A_BOLD },
		[ROLE_HEADER] = { 7, 4, A_BOLD },
		[ROLE_STATUS] = { NOPAIR, 0, A_REVERSE },
		[ROLE_SELECTION] = { 0, 6, A_NORMAL },
		[ROLE_OK] = { 2, -1, A_NORMAL },
		[ROLE_WARNING] = { 3, -1, A_BOLD },
		[ROLE_ALARM] = { 1, -1, A_BOLD },
		[ROLE_CRITICAL] = { 7, 1, A_BOLD },
		[ROLE_STALE] = { NOPAIR, 0, A_DIM },
		[ROLE_GAUGE_FILL] = { 6, -1, A_NORMAL },
		[ROLE_GAUGE_EMPTY] = { NOPAIR, 0, A_DIM },
		[ROLE_GAUGE_BAND] = { 2, -1, A_NORMAL },
		[ROLE_GAUGE_LIMIT] = { 1, -1, A_BOLD },
		[ROLE_CHART] = { 6, -1, A_NORMAL },
	};
	struct theme *t = load_clean("dark");
	char *path = write_tmp("bright.ini", bright_theme);
	struct theme *b = load_clean(path);
	struct want_role want_b[ROLE__COUNT];
	FILE *out, *in;
	SCREEN *s = open_term("xterm", &out, &in, NULL);

	(void)state;
	assert_non_null(s);
	assert_int_equal(theme_apply(t, true), 0);
	assert_int_equal(COLORS, 8);
	check_roles("xterm dark", want_dark);

	memcpy(want_b, want_dark, sizeof(want_b));
	want_b[ROLE_OK] = (struct want_role){ 2, -1, A_BOLD };	    /* [colors], not 28 */
	want_b[ROLE_WARNING] = (struct want_role){ 3, 4, A_BOLD };   /* bright bg: base only */
	want_b[ROLE_ALARM] = (struct want_role){ 1, 3, A_UNDERLINE };
	want_b[ROLE_MUTED] = (struct want_role){ NOPAIR, 0, A_DIM };
	want_b[ROLE_STALE] = (struct want_role){ -1, 4, A_DIM };
	want_b[ROLE_CHART] = (struct want_role){ 7, -1, A_BOLD };
	assert_int_equal(theme_apply(b, true), 0);
	check_roles("xterm bright", want_b);
	close_term(s, out, in);
	theme_free(t);
	theme_free(b);
	free(path);
}

/* 16 colours or more but fewer than 256: [colors] as written. */
static void test_apply_16(void **state)
{
	char *path = write_tmp("bright.ini", bright_theme);
	struct theme *b = load_clean(path), *dark = load_clean("dark");
	struct want_role want[ROLE__COUNT] = {
		[ROLE_NORMAL] = { NOPAIR, 0, A_NORMAL },
		[ROLE_MUTED] = { 8, -1, A_NORMAL },
		[ROLE_ACCENT] = { 6, -1, A_BOLD },
		[ROLE_HEADER] = { 15, 4, A_BOLD },
		[ROLE_STATUS] = { NOPAIR, 0, A_REVERSE },
		[ROLE_SELECTION] = { 0, 6, A_NORMAL },
		[ROLE_OK] = { 10, -1, A_NORMAL },
		[ROLE_WARNING] = { 11, 12, A_NORMAL },
		[ROLE_ALARM] = { 1, 11, A_UNDERLINE },
		[ROLE_CRITICAL] = { 15, 1, A_BOLD },
		[ROLE_STALE] = { 8, 4, A_NORMAL },
		[ROLE_GAUGE_FILL] = { 6, -1, A_NORMAL },
		[ROLE_GAUGE_EMPTY] = { 8, -1, A_NORMAL },
		[ROLE_GAUGE_BAND] = { 2, -1, A_NORMAL },
		[ROLE_GAUGE_LIMIT] = { 1, -1, A_BOLD },
		[ROLE_CHART] = { 15, -1, A_BOLD },
	};
	const char *term = "xterm-16color";
	FILE *out, *in;
	SCREEN *s = open_term(term, &out, &in, NULL);

	(void)state;
	if (s == NULL) { /* not in ncurses-base; rxvt-unicode has 88 colours */
		term = "rxvt-unicode";
		s = open_term(term, &out, &in, NULL);
	}
	if (s == NULL) {
		theme_free(b);
		theme_free(dark);
		free(path);
		skip();
	}
	assert_int_equal(theme_apply(b, true), 0);
	assert_true(COLORS >= 16 && COLORS < 256);
	check_roles(term, want);
	/* the dark theme's stale keeps its dim with a real grey */
	assert_int_equal(theme_apply(dark, true), 0);
	assert_int_equal(theme_attr(ROLE_STALE) & ~A_COLOR, A_DIM);
	close_term(s, out, in);
	theme_free(b);
	theme_free(dark);
	free(path);
}

static bool pairs_started(void)
{
	short fg = 0, bg = 0;

	/* without start_color() pair_content fails (or reports 0/0) */
	return pair_content(1, &fg, &bg) == OK && (fg != 0 || bg != 0);
}

/* Colour off: no pairs, the [mono] attributes. */
static void test_apply_no_color(void **state)
{
	static const char *const themes[] = { "dark", "high-contrast", "light" };
	size_t k;

	(void)state;
	for (k = 0; k < UTIL_ARRAY_LEN(themes); k++) {
		struct theme *t = load_clean(themes[k]);
		FILE *out, *in;
		SCREEN *s = open_term("xterm-256color", &out, &in, NULL);
		int r;

		assert_non_null(s);
		assert_int_equal(theme_apply(t, false), 0);
		assert_false(pairs_started());
		for (r = 0; r < ROLE__COUNT; r++) {
			unsigned long a = theme_attr(r);
			unsigned m = t->mono[r].attrs;

			assert_int_equal(a & A_COLOR, 0);
			assert_int_equal(!!(a & A_BOLD), !!(m & B));
			assert_int_equal(!!(a & A_DIM), !!(m & D));
			assert_int_equal(!!(a & A_UNDERLINE), !!(m & U));
			assert_int_equal(!!(a & A_REVERSE), !!(m & R));
			assert_int_equal(!!(a & A_ITALIC), !!(m & I));
		}
		close_term(s, out, in);
		theme_free(t);
	}
}

/* The mono theme with colour on: no pairs either. */
static void test_apply_mono_theme(void **state)
{
	static const char *const terms[] = { "xterm-256color", "xterm" };
	struct theme *t = load_clean("mono");
	size_t k;

	(void)state;
	for (k = 0; k < UTIL_ARRAY_LEN(terms); k++) {
		FILE *out, *in;
		SCREEN *s = open_term(terms[k], &out, &in, NULL);
		int r;

		assert_non_null(s);
		assert_int_equal(theme_apply(t, true), 0);
		assert_false(pairs_started());
		for (r = 0; r < ROLE__COUNT; r++)
			assert_int_equal(PAIR_NUMBER(theme_attr(r)), 0);
		assert_int_equal(theme_attr(ROLE_SELECTION), A_REVERSE);
		assert_int_equal(theme_attr(ROLE_CRITICAL), A_REVERSE | A_BOLD);
		assert_int_equal(theme_attr(ROLE_STALE), A_DIM);
		close_term(s, out, in);
	}
	theme_free(t);
}

/* A terminal without colours: -1 and the [mono] attributes. */
static void test_apply_monochrome_terminal(void **state)
{
	struct theme *t = load_clean("dark");
	FILE *out, *in;
	SCREEN *s = open_term("xterm-mono", &out, &in, NULL);

	(void)state;
	if (s == NULL)
		s = open_term("vt100", &out, &in, NULL);
	assert_non_null(s);
	assert_false(has_colors());
	assert_int_equal(theme_apply(t, true), -1);
	assert_int_equal(theme_attr(ROLE_SELECTION), A_REVERSE);
	assert_int_equal(theme_attr(ROLE_ALARM), A_BOLD | A_UNDERLINE);
	assert_int_equal(theme_attr(ROLE_OK), A_NORMAL);
	close_term(s, out, in);
	/* NULL is the built-in default */
	s = open_term("xterm-256color", &out, &in, NULL);
	assert_non_null(s);
	assert_int_equal(theme_apply(NULL, true), 0);
	assert_int_equal(PAIR_NUMBER(theme_attr(ROLE_OK)), ROLE_OK + 1);
	assert_int_equal(theme_attr(ROLE_CRITICAL) & ~A_COLOR, A_BOLD);
	close_term(s, out, in);
	theme_free(t);
}

/* Whether the bytes hold an SGR sequence setting a colour (30-49, 90-107,
 * 38/48 extended). Other sequences (cursor moves "\e[3;1H") do not count. */
static bool has_colour_sgr(const char *buf, size_t n, bool *has_bold)
{
	size_t i;
	bool colour = false;

	for (i = 0; i + 2 < n; i++) {
		size_t j;

		if (buf[i] != '\033' || buf[i + 1] != '[')
			continue;
		for (j = i + 2; j < n && ((buf[j] >= '0' && buf[j] <= '9') || buf[j] == ';' ||
					  buf[j] == ':');
		     j++)
			;
		if (j < n && buf[j] == 'm') {
			size_t p = i + 2;

			while (p < j) {
				long v = 0;
				bool digits = false;

				while (p < j && buf[p] >= '0' && buf[p] <= '9') {
					v = v * 10 + (buf[p] - '0');
					digits = true;
					p++;
				}
				if (digits && ((v >= 30 && v <= 49) || (v >= 90 && v <= 107)))
					colour = true;
				if (digits && v == 1)
					*has_bold = true;
				p++; /* ';' or ':' */
			}
		}
		i = j;
	}
	return colour;
}

/* Draw an alarm, return what ncurses wrote to the terminal. */
static char *draw_alarm(const char *term, const struct theme *t, bool color, size_t *len)
{
	char *path = util_printf("%s/escapes.out", tmpdir);
	FILE *out, *in;
	SCREEN *s = open_term(term, &out, &in, path);
	char *text;

	assert_non_null(s);
	theme_apply(t, color);
	attrset((attr_t)theme_attr(ROLE_ALARM));
	mvaddstr(2, 3, "PF 0.62 ALARM");
	attrset(A_NORMAL);
	refresh();
	close_term(s, out, in);
	text = util_read_file(path, 1 << 20, len);
	assert_non_null(text);
	unlink(path);
	free(path);
	return text;
}

static void test_no_colour_escapes(void **state)
{
	static const char *const terms[] = { "xterm-256color", "xterm" };
	struct theme *t = load_clean("dark"), *mono = load_clean("mono");
	size_t k;

	(void)state;
	for (k = 0; k < UTIL_ARRAY_LEN(terms); k++) {
		size_t len;
		bool bold = false;
		char *text = draw_alarm(terms[k], t, false, &len);

		assert_non_null(memmem(text, len, "PF 0.62 ALARM", 13));
		if (has_colour_sgr(text, len, &bold))
			fail_msg("%s: colour escape with colour off", terms[k]);
		assert_true(bold); /* [mono] alarm = bold underline */
		free(text);

		/* the detector is not blind: with colour on the alarm is red */
		bold = false;
		text = draw_alarm(terms[k], t, true, &len);
		assert_non_null(memmem(text, len, "PF 0.62 ALARM", 13));
		assert_true(has_colour_sgr(text, len, &bold));
		assert_true(bold);
		free(text);

		/* the mono theme sends none even with colour on */
		bold = false;
		text = draw_alarm(terms[k], mono, true, &len);
		assert_non_null(memmem(text, len, "PF 0.62 ALARM", 13));
		if (has_colour_sgr(text, len, &bold))
			fail_msg("%s: colour escape from the mono theme", terms[k]);
		assert_true(bold);
		free(text);
	}
	theme_free(t);
	theme_free(mono);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attr_before_apply),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_shipped_load_clean),
		cmocka_unit_test(test_dark_is_builtin),
		cmocka_unit_test(test_shipped_values),
		cmocka_unit_test(test_partial_inherits),
		cmocka_unit_test(test_grammar),
		cmocka_unit_test(test_bad_file),
		cmocka_unit_test(test_whole_file_errors),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_apply_256),
		cmocka_unit_test(test_apply_8),
		cmocka_unit_test(test_apply_16),
		cmocka_unit_test(test_apply_no_color),
		cmocka_unit_test(test_apply_mono_theme),
		cmocka_unit_test(test_apply_monochrome_terminal),
		cmocka_unit_test(test_no_colour_escapes),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
