// SPDX-License-Identifier: MIT
/*
 * Unit tests of listw.c, the list widget of the console's list views: a
 * table of selection moves (from a row, from none, at both ends, by pages),
 * the scrolling keys over the last draw's size, keeping a selection in
 * sight, the filter's text entry (what every key returns), UTF-8 entry and
 * matching, and the sort keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <string.h>

#include "phasor/keys.h"
#include "phasor/listw.h"
#include "phasor/ui.h"

static void test_move(void **state)
{
	static const struct {
		int ch;
		long pos;
		size_t n;
		int page;
		long want;
	} rows[] = {
		{ KEY_DOWN, 0, 5, 3, 1 },  { 'j', 3, 5, 3, 4 },      { KEY_DOWN, 4, 5, 3, 4 },
		{ KEY_UP, 2, 5, 3, 1 },    { 'k', 0, 5, 3, 0 },      { KEY_UP, -1, 5, 3, 0 },
		{ KEY_DOWN, -1, 5, 3, 0 }, { KEY_NPAGE, 1, 10, 4, 5 }, { KEY_NPAGE, 8, 10, 4, 9 },
		{ KEY_PPAGE, 5, 10, 4, 1 }, { KEY_PPAGE, 2, 10, 4, 0 }, { KEY_NPAGE, -1, 10, 4, 4 },
		{ KEY_HOME, 7, 10, 4, 0 }, { KEY_END, 2, 10, 4, 9 },  { KEY_END, -1, 1, 4, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_true(listw_is_move(rows[i].ch));
		assert_int_equal(listw_move(rows[i].ch, rows[i].pos, rows[i].n, rows[i].page),
				 rows[i].want);
	}
	assert_false(listw_is_move('x'));
	assert_false(listw_is_move('\n'));
}

static void test_scroll(void **state)
{
	struct listw l;

	(void)state;
	listw_init(&l, 0);
	/* nothing drawn yet: nothing to scroll */
	assert_int_equal(listw_scroll_key(&l, KEY_DOWN), UI_HANDLED);
	assert_int_equal(l.scroll, 0);
	listw_clamp(&l, 30, 10);
	assert_int_equal(listw_scroll_key(&l, KEY_DOWN), UI_HANDLED | UI_REDRAW);
	assert_int_equal(l.scroll, 1);
	assert_int_equal(listw_scroll_key(&l, KEY_NPAGE), UI_HANDLED | UI_REDRAW);
	assert_int_equal(l.scroll, 11);
	assert_int_equal(listw_scroll_key(&l, KEY_END), UI_HANDLED | UI_REDRAW);
	assert_int_equal(l.scroll, 20);
	assert_int_equal(listw_scroll_key(&l, 'j'), UI_HANDLED);  /* at the end */
	assert_int_equal(listw_scroll_key(&l, KEY_PPAGE), UI_HANDLED | UI_REDRAW);
	assert_int_equal(l.scroll, 10);
	assert_int_equal(listw_scroll_key(&l, KEY_HOME), UI_HANDLED | UI_REDRAW);
	assert_int_equal(l.scroll, 0);
	assert_int_equal(listw_scroll_key(&l, 'x'), UI_IGNORED);
	/* the list shrank below a page: back to the top */
	l.scroll = 15;
	listw_clamp(&l, 4, 10);
	assert_int_equal(l.scroll, 0);
	/* a selection kept in sight */
	listw_clamp(&l, 30, 10);
	listw_follow(&l, 12, 10);
	assert_int_equal(l.scroll, 3);
	listw_follow(&l, 5, 10);
	assert_int_equal(l.scroll, 3);
	listw_follow(&l, 1, 10);
	assert_int_equal(l.scroll, 1);
	listw_top(&l);
	assert_int_equal(l.scroll, 0);
}

static void test_filter(void **state)
{
	struct listw l;
	char big[LISTW_FILTER + 8];
	size_t i;

	(void)state;
	listw_init(&l, 0);
	assert_false(listw_filtering(&l));
	assert_true(listw_matches(&l, "anything"));
	assert_true(listw_matches(&l, NULL));
	l.filter_editing = true;
	l.scroll = 7;
	assert_int_equal(listw_filter_key(&l, 'P'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(l.scroll, 0);
	listw_filter_key(&l, 'r');
	assert_string_equal(l.filter, "Pr");
	assert_true(listw_filtering(&l));
	assert_true(listw_matches(&l, "press-3"));
	assert_false(listw_matches(&l, "furnace"));
	assert_false(listw_matches(&l, NULL));
	/* keys that change nothing are still the filter's */
	assert_int_equal(listw_filter_key(&l, KEY_F(5)), UI_HANDLED);
	assert_int_equal(listw_filter_key(&l, KEY_BACKSPACE), UI_HANDLED | UI_REDRAW);
	assert_int_equal(listw_filter_key(&l, 127), UI_HANDLED | UI_REDRAW);
	assert_string_equal(l.filter, "");
	assert_int_equal(listw_filter_key(&l, 8), UI_HANDLED);
	/* Enter keeps it, Esc clears it; both end the entry */
	listw_filter_key(&l, 'x');
	assert_int_equal(listw_filter_key(&l, '\r'), UI_HANDLED | UI_REDRAW);
	assert_false(l.filter_editing);
	assert_string_equal(l.filter, "x");
	l.filter_editing = true;
	assert_int_equal(listw_filter_key(&l, 27), UI_HANDLED | UI_REDRAW);
	assert_false(l.filter_editing);
	assert_string_equal(l.filter, "");
	/* never longer than its buffer */
	l.filter_editing = true;
	for (i = 0; i < sizeof(big); i++)
		listw_filter_key(&l, 'a');
	assert_int_equal(strlen(l.filter), LISTW_FILTER - 1);
	assert_int_equal(listw_filter_key(&l, 'a'), UI_HANDLED);
	memset(big, 0, sizeof(big));
	assert_int_equal(listw_edit(big, 4, 'a'), 2);
	assert_int_equal(listw_edit(big, 4, '\n'), 1);
	assert_int_equal(listw_edit(big, 4, KEY_ENTER), 1);
	assert_int_equal(listw_edit(big, 4, 27), -1);
	assert_int_equal(listw_edit(big, 4, 1), 0);
	assert_string_equal(big, "a");
}

/*
 * Entry fields take UTF-8 text: kept byte for byte, Backspace erases a
 * whole character, a character that does not fit is refused whole (never
 * cut, never half a sequence), controls never enter. The field shows the
 * end of its text that fits, measured in display columns.
 */
static void test_utf8_entry(void **state)
{
	static const int note[] = {
		'T', 'e', 'm', 'p', KEYS_CHAR | 0xe9, 'r', 'a', 't', 'u', 'r', 'e',
		' ', KEYS_CHAR | 0xe9, 'l', 'e', 'v', KEYS_CHAR | 0xe9, 'e', ' ',
		KEYS_CHAR | 0x2014, ' ', 'o', 'k',
	};
	char buf[64] = "", small[4] = "";
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(note) / sizeof(note[0]); i++)
		assert_int_equal(listw_edit(buf, sizeof(buf), note[i]), LISTW_EDIT_CHANGED);
	assert_string_equal(buf, "Température élevée — ok");
	/* controls: C0, DEL (Backspace aside), C1, a bidi override, Esc is cancel */
	assert_int_equal(listw_edit(buf, sizeof(buf), 1), LISTW_EDIT_NONE);
	assert_int_equal(listw_edit(buf, sizeof(buf), '\t'), LISTW_EDIT_NONE);
	assert_int_equal(listw_edit(buf, sizeof(buf), KEYS_CHAR | 0x9b), LISTW_EDIT_NONE);
	assert_int_equal(listw_edit(buf, sizeof(buf), KEYS_CHAR | 0x202e), LISTW_EDIT_NONE);
	assert_int_equal(listw_edit(buf, sizeof(buf), KEY_LEFT), LISTW_EDIT_NONE);
	assert_int_equal(listw_edit(buf, sizeof(buf), KEYS_ESC), LISTW_EDIT_CANCEL);
	/* Backspace: k, o, space, then the three bytes of the dash at once */
	for (i = 0; i < 3; i++)
		listw_edit(buf, sizeof(buf), KEY_BACKSPACE);
	assert_int_equal(listw_edit(buf, sizeof(buf), 127), LISTW_EDIT_CHANGED);
	assert_string_equal(buf, "Température élevée ");
	/* full: 3 bytes of room; "é" (2) fits after "a", nothing more; the
	 * refused character leaves no byte behind */
	assert_int_equal(listw_edit(small, sizeof(small), 'a'), LISTW_EDIT_CHANGED);
	assert_int_equal(listw_edit(small, sizeof(small), KEYS_CHAR | 0x2014), LISTW_EDIT_FULL);
	assert_string_equal(small, "a");
	assert_int_equal(listw_edit(small, sizeof(small), KEYS_CHAR | 0xe9), LISTW_EDIT_CHANGED);
	assert_int_equal(listw_edit(small, sizeof(small), 'b'), LISTW_EDIT_FULL);
	assert_string_equal(small, "a\xc3\xa9");
	/* the tail that fits: columns, not bytes; a wide character is 2 */
	assert_string_equal(listw_edit_tail("abc\xc3\xa9", 4), "abc\xc3\xa9");
	assert_string_equal(listw_edit_tail("abc\xc3\xa9", 2), "c\xc3\xa9");
	assert_string_equal(listw_edit_tail("a\xe6\xb0\xb4\xe6\xb0\xb4", 4), "\xe6\xb0\xb4\xe6\xb0\xb4");
	assert_string_equal(listw_edit_tail("a\xe6\xb0\xb4\xe6\xb0\xb4", 3), "\xe6\xb0\xb4");
	assert_string_equal(listw_edit_tail("abc", 0), "");
}

/* The filter, case-insensitive beyond ASCII. */
static void test_filter_utf8(void **state)
{
	struct listw l;
	static const int etuve[] = { KEYS_CHAR | 0xe9, 't', 'u', 'v', 'e' };
	size_t i;

	(void)state;
	listw_init(&l, 0);
	l.filter_editing = true;
	for (i = 0; i < sizeof(etuve) / sizeof(etuve[0]); i++)
		assert_int_equal(listw_filter_key(&l, etuve[i]), UI_HANDLED | UI_REDRAW);
	assert_string_equal(l.filter, "\xc3\xa9tuve");
	assert_true(listw_matches(&l, "\xc3\xa9tuve 2"));
	assert_true(listw_matches(&l, "Grande ÉTUVE de séchage"));
	assert_false(listw_matches(&l, "etuve"));
	assert_false(listw_matches(&l, "\xc3\xa9tuv"));
	/* an invalid byte in the text is a byte, not a crash */
	assert_false(listw_matches(&l, "\xc3"));
	assert_true(listw_matches(&l, "\xff\xc3\xa9tuve"));
	listw_filter_key(&l, KEY_BACKSPACE);
	listw_filter_key(&l, KEY_BACKSPACE);
	listw_filter_key(&l, KEY_BACKSPACE);
	listw_filter_key(&l, KEY_BACKSPACE);
	assert_string_equal(l.filter, "\xc3\xa9");
	listw_filter_key(&l, KEY_BACKSPACE);
	assert_string_equal(l.filter, "");
	/* ASCII folds the same in every locale */
	listw_filter_key(&l, 'I');
	assert_true(listw_matches(&l, "oil"));
}

static void test_sort(void **state)
{
	struct listw l;

	(void)state;
	listw_init(&l, 3);
	assert_int_equal(listw_sort_key(&l, '>'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(l.sort, 1);
	listw_sort_key(&l, '>');
	listw_sort_key(&l, '>');
	assert_int_equal(l.sort, 0);               /* wraps */
	listw_sort_key(&l, '<');
	assert_int_equal(l.sort, 2);
	assert_false(l.sort_desc);
	assert_int_equal(listw_sort_key(&l, 'r'), UI_HANDLED | UI_REDRAW);
	assert_true(l.sort_desc);
	assert_int_equal(listw_sort_key(&l, 'x'), UI_IGNORED);
	/* a list in a fixed order has no sort keys */
	listw_init(&l, 0);
	assert_int_equal(listw_sort_key(&l, '>'), UI_IGNORED);
	assert_int_equal(listw_sort_key(&l, 'r'), UI_IGNORED);
	assert_int_equal(l.sort, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_scroll),
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_utf8_entry),
		cmocka_unit_test(test_filter_utf8),
		cmocka_unit_test(test_sort),
	};

	/* the console's locale (main: setlocale(LC_ALL, "")) */
	setlocale(LC_ALL, "C.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
