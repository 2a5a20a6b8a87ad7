/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_LISTW_H
#define PHASOR_LISTW_H
/*
 * listw: the console's list widget, one per list view (the overview's
 * meters, the alarm list, the sources' lines, the trends' meters): the
 * first row shown (scroll) and its keys, the filter text and its entry,
 * the sort key and direction, and moving a selection through the rows.
 * A plain value a view keeps in its state; nothing to free. The rows
 * themselves stay the view's: it says how many there are and which one is
 * selected, the widget keeps that selection in sight. UI thread only.
 */
#include <stdbool.h>
#include <stddef.h>

#define LISTW_FILTER 64

struct listw {
	int scroll;                 /* first visible row */
	int total, page;            /* rows and page height of the last draw (for the keys) */
	char filter[LISTW_FILTER];  /* "" none: a case-insensitive substring */
	bool filter_editing;        /* '/' typed: keys go to the filter */
	int sort, nsort;            /* sort key 0..nsort-1 (the view's enum); nsort 0: fixed */
	bool sort_desc;
};

/* An empty list with nsort sort keys (0: its order is fixed). */
void listw_init(struct listw *l, int nsort);

/* Back to the first row (the operator came to the view). */
void listw_top(struct listw *l);

/* scroll clamped to [0, total - page]; total and page are kept for listw_scroll_key. */
void listw_clamp(struct listw *l, int total, int page);

/* scroll moved so that row pos is among the page rows shown. */
void listw_follow(struct listw *l, int pos, int page);

/*
 * Scrolling keys (Up Down k j PgUp PgDn Home End) over the last clamp's
 * total and page: UI_HANDLED | UI_REDRAW when scroll moved, UI_HANDLED when
 * it could not, UI_IGNORED for any other key.
 */
int listw_scroll_key(struct listw *l, int ch);

/* Whether ch moves a selection (the keys of listw_scroll_key). */
bool listw_is_move(int ch);

/*
 * The row a selection moves to on ch (listw_is_move) from row pos of n
 * (pos < 0: none selected; Up and Down then go to the first row), a page
 * being page rows: always in [0, n - 1]; n must be > 0.
 */
long listw_move(int ch, long pos, size_t n, int page);

/* What listw_edit made of a key. */
enum {
	LISTW_EDIT_CANCEL = -1,   /* Esc */
	LISTW_EDIT_NONE = 0,      /* nothing changed (not text, or nothing to erase) */
	LISTW_EDIT_DONE = 1,      /* Enter */
	LISTW_EDIT_CHANGED = 2,   /* a character typed or erased */
	LISTW_EDIT_FULL = 3       /* a character refused: it does not fit */
};

/*
 * Text entry into buf (size bytes, UTF-8, always terminated) of key ch
 * (keys.h): text characters (keys_is_text: no control character ever) are
 * appended whole or refused whole (LISTW_EDIT_FULL: never cut, never half
 * a character); Backspace erases the last character. Returns LISTW_EDIT_*.
 */
int listw_edit(char *buf, size_t size, int ch);

/*
 * The end of buf that fits in width display columns (wcwidth, as drawn):
 * what an entry field shows so that the cursor after it stays in sight.
 */
const char *listw_edit_tail(const char *buf, int width);

/*
 * A key while the filter is edited: Esc clears it and ends the entry,
 * Enter keeps it and ends it, others edit it (a character that does not
 * fit rings the bell). Every key is the filter's:
 * UI_HANDLED | UI_REDRAW (scroll back to the top) when something changed,
 * UI_HANDLED when not.
 */
int listw_filter_key(struct listw *l, int ch);

/* The filter is set or being edited (the view shows its line). */
bool listw_filtering(const struct listw *l);

/* s holds the filter, case-insensitively (ASCII, and beyond it by the
 * locale's towlower); always true without a filter; s may be NULL. */
bool listw_matches(const struct listw *l, const char *s);

/*
 * The sort keys: '<' previous key, '>' next key, 'r' the other direction:
 * UI_HANDLED | UI_REDRAW; UI_IGNORED for any other key or a fixed order.
 */
int listw_sort_key(struct listw *l, int ch);

#endif
