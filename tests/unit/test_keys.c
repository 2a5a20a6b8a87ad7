// SPDX-License-Identifier: MIT
/*
 * Unit tests of keys.c, the console's keyboard decoder: a table of byte
 * sequences as terminals send them (the input left over after ncurses
 * decoded what its terminfo entry knows) and the keys they must give: the
 * common alternates of Home, End and the function keys under any TERM,
 * unknown sequences swallowed whole (never digits), Esc alone, Esc then a
 * key, a sequence split over two reads, a pause inside one. Then which
 * characters are text for an entry field and their UTF-8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curses.h>
#include <string.h>

#include "phasor/keys.h"

#define END -2 /* ends a list of keys */

/* Feed bytes (a C string, ESC as \033) at time t; the keys out, then what idle adds. */
static size_t run(struct keys *k, const char *bytes, int64_t t, int *out, size_t max)
{
	size_t n = 0;
	int got[2], i, c;

	for (; *bytes != '\0'; bytes++) {
		c = keys_feed(k, (unsigned char)*bytes, t, got);
		for (i = 0; i < c && n < max; i++)
			out[n++] = got[i];
	}
	if (keys_idle(k, got) == 1 && n < max)
		out[n++] = got[0];
	return n;
}

static void test_sequences(void **state)
{
	static const struct {
		const char *bytes;
		int want[4]; /* ends with END */
	} rows[] = {
		/* Home and End as tmux, rxvt, xterm and the VT220 send them */
		{ "\033[1~", { KEY_HOME, END } },
		{ "\033[4~", { KEY_END, END } },
		{ "\033[7~", { KEY_HOME, END } },
		{ "\033[8~", { KEY_END, END } },
		{ "\033[H", { KEY_HOME, END } },
		{ "\033[F", { KEY_END, END } },
		{ "\033OH", { KEY_HOME, END } },
		{ "\033OF", { KEY_END, END } },
		{ "\033[1;5H", { KEY_HOME, END } }, /* Ctrl-Home: Home */
		/* function keys */
		{ "\033OP", { KEY_F(1), END } },
		{ "\033OS", { KEY_F(4), END } },
		{ "\033[11~", { KEY_F(1), END } },
		{ "\033[15~", { KEY_F(5), END } },
		{ "\033[17~", { KEY_F(6), END } },
		{ "\033[21~", { KEY_F(10), END } },
		{ "\033[24~", { KEY_F(12), END } },
		{ "\033[1;2P", { KEY_F(1), END } },
		{ "\033[[A", { KEY_F(1), END } },   /* the Linux console */
		{ "\033[[E", { KEY_F(5), END } },
		/* the rest of the editing keys and the arrows */
		{ "\033[5~", { KEY_PPAGE, END } },
		{ "\033[6~", { KEY_NPAGE, END } },
		{ "\033[2~", { KEY_IC, END } },
		{ "\033[3~", { KEY_DC, END } },
		{ "\033[A", { KEY_UP, END } },
		{ "\033OB", { KEY_DOWN, END } },
		{ "\033[Z", { KEY_BTAB, END } },
		{ "\033OM", { KEY_ENTER, END } },
		/* unknown: swallowed whole, never read as the digits in them */
		{ "\033[33~", { END } },
		{ "\033[200~", { END } },
		{ "\033[25;5~", { END } },
		{ "\033[?1;2c", { END } },
		{ "\033[<0;12;4M", { END } },
		{ "\033[12345678901234567890~", { END } },
		{ "\033O5P", { KEY_F(1), END } }, /* old xterm's Ctrl-F1: F1 */
		{ "\033Oq", { END } },  /* the keypad's 1 in application mode */
		{ "\033[[Z", { END } },
		/* Esc: alone, twice, before a key; keys after a sequence are keys */
		{ "\033", { KEYS_ESC, END } },
		{ "\033\033", { KEYS_ESC, KEYS_ESC, END } },
		{ "\033q", { KEYS_ESC, 'q', END } },
		{ "\033[4~3", { KEY_END, '3', END } },
		{ "\033[33~1", { '1', END } },
		{ "q", { 'q', END } },
		{ "12", { '1', '2', END } },
		/* a control inside a sequence breaks it: the control is a key */
		{ "\033[2\r", { '\r', END } },
	};
	size_t i, j, n;
	int out[8];

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct keys k;

		keys_init(&k);
		n = run(&k, rows[i].bytes, 1000, out, 8);
		for (j = 0; rows[i].want[j] != END; j++) {
			if (j >= n || out[j] != rows[i].want[j])
				fail_msg("row %zu (\\033%s): key %zu is %d, want %d", i,
					 rows[i].bytes + 1, j, j < n ? out[j] : -1, rows[i].want[j]);
		}
		if (n != j)
			fail_msg("row %zu (\\033%s): %zu keys, want %zu", i, rows[i].bytes + 1, n, j);
		assert_int_equal(k.state, 0);
	}
}

static void test_split_and_pause(void **state)
{
	struct keys k;
	int out[8];

	(void)state;
	/* ESC [ 2 in one read, "1~" in the next: F10, nothing in between */
	keys_init(&k);
	assert_int_equal(run(&k, "\033[2", 1000, out, 8), 0);
	assert_int_equal(run(&k, "1~", 1100, out, 8), 1);
	assert_int_equal(out[0], KEY_F(10));
	/* a sequence cut short and never finished: swallowed; a key long
	 * after it is a key */
	keys_init(&k);
	assert_int_equal(run(&k, "\033[2", 1000, out, 8), 0);
	assert_int_equal(run(&k, "3", 1000 + KEYS_SEQ_MS + 1, out, 8), 1);
	assert_int_equal(out[0], '3');
	/* ncurses' own codes and characters pass through untouched */
	keys_init(&k);
	assert_int_equal(keys_feed(&k, KEY_HOME, 5, out), 1);
	assert_int_equal(out[0], KEY_HOME);
	assert_int_equal(keys_feed(&k, KEYS_CHAR | 0xe9, 5, out), 1);
	assert_int_equal(out[0], KEYS_CHAR | 0xe9);
	/* an 8-bit CSI (U+009B) opens a sequence too */
	assert_int_equal(keys_feed(&k, KEYS_CHAR | 0x9b, 5, out), 0);
	assert_int_equal(keys_feed(&k, '4', 5, out), 0);
	assert_int_equal(keys_feed(&k, '~', 5, out), 1);
	assert_int_equal(out[0], KEY_END);
	/* an Esc held across a pause comes out before the next key */
	keys_init(&k);
	assert_int_equal(keys_feed(&k, KEYS_ESC, 0, out), 0);
	assert_int_equal(keys_feed(&k, 'x', KEYS_SEQ_MS + 1, out), 2);
	assert_int_equal(out[0], KEYS_ESC);
	assert_int_equal(out[1], 'x');
}

static void test_from_wch(void **state)
{
	(void)state;
	assert_int_equal(keys_from_wch(OK, 'a'), 'a');
	assert_int_equal(keys_from_wch(OK, 27), KEYS_ESC);
	assert_int_equal(keys_from_wch(OK, 0xe9), KEYS_CHAR | 0xe9);
	/* a code point that collides with a key code stays a character */
	assert_int_equal(keys_from_wch(OK, KEY_HOME), KEYS_CHAR | KEY_HOME);
	assert_int_equal(keys_from_wch(KEY_CODE_YES, KEY_HOME), KEY_HOME);
	assert_int_equal(keys_from_wch(ERR, 0), -1);
	assert_int_equal(keys_from_wch(OK, 0x110000), -1);
}

static void test_text(void **state)
{
	static const struct {
		int key;
		const char *utf8; /* NULL: not text */
	} rows[] = {
		{ 'a', "a" },
		{ ' ', " " },
		{ '~', "~" },
		{ KEYS_CHAR | 0xe9, "\xc3\xa9" },             /* é */
		{ KEYS_CHAR | 0xc9, "\xc3\x89" },             /* É */
		{ KEYS_CHAR | 0x2014, "\xe2\x80\x94" },       /* em dash */
		{ KEYS_CHAR | 0x6c34, "\xe6\xb0\xb4" },       /* a wide character */
		{ KEYS_CHAR | 0x1f50c, "\xf0\x9f\x94\x8c" },  /* outside the BMP */
		{ KEYS_CHAR | 0x301, "\xcc\x81" },            /* a combining accent */
		{ 0, NULL },
		{ 9, NULL },
		{ 27, NULL },
		{ 127, NULL },
		{ KEYS_CHAR | 0x85, NULL },                   /* C1 NEL */
		{ KEYS_CHAR | 0x9b, NULL },                   /* C1 CSI */
		{ KEYS_CHAR | 0x202e, NULL },                 /* bidi override */
		{ KEYS_CHAR | 0x2066, NULL },                 /* bidi isolate */
		{ KEYS_CHAR | 0xd800, NULL },                 /* a surrogate */
		{ KEY_HOME, NULL },
		{ KEY_F(10), NULL },
		{ KEY_RESIZE, NULL },
	};
	size_t i;
	char u[8];

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n = keys_utf8(rows[i].key, u);

		if (rows[i].utf8 == NULL) {
			if (keys_is_text(rows[i].key) || n != 0)
				fail_msg("row %zu: key %#x is not text", i, (unsigned)rows[i].key);
			continue;
		}
		if (!keys_is_text(rows[i].key))
			fail_msg("row %zu: key %#x is text", i, (unsigned)rows[i].key);
		assert_int_equal(n, strlen(rows[i].utf8));
		assert_string_equal(u, rows[i].utf8);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_split_and_pause),
		cmocka_unit_test(test_from_wch),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
