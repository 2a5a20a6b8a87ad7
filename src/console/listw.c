// SPDX-License-Identifier: MIT
/*
 * listw: the list widget every list view of the console shares (listw.h):
 * scroll and its keys, the selection's moves, the filter's text entry and
 * the sort keys. One place for what the overview, the alarm list and the
 * sources once each wrote for themselves, so the same key does the same
 * in every list.
 */
#include "phasor/listw.h"

#include <string.h>

#include "phasor/ui.h"
#include "phasor/view.h"

void listw_init(struct listw *l, int nsort)
{
	memset(l, 0, sizeof(*l));
	l->page = 1;
	l->nsort = nsort;
}

void listw_top(struct listw *l)
{
	l->scroll = 0;
}

void listw_clamp(struct listw *l, int total, int page)
{
	l->total = total;
	l->page = page;
	if (l->scroll > total - page)
		l->scroll = total - page;
	if (l->scroll < 0)
		l->scroll = 0;
}

void listw_follow(struct listw *l, int pos, int page)
{
	if (l->scroll > pos)
		l->scroll = pos;
	if (pos >= l->scroll + page)
		l->scroll = pos - page + 1;
}

bool listw_is_move(int ch)
{
	switch (ch) {
	case KEY_UP:
	case KEY_DOWN:
	case 'k':
	case 'j':
	case KEY_PPAGE:
	case KEY_NPAGE:
	case KEY_HOME:
	case KEY_END:
		return true;
	default:
		return false;
	}
}

int listw_scroll_key(struct listw *l, int ch)
{
	int before = l->scroll, page = l->page < 1 ? 1 : l->page;

	switch (ch) {
	case KEY_UP:
	case 'k': l->scroll--; break;
	case KEY_DOWN:
	case 'j': l->scroll++; break;
	case KEY_PPAGE: l->scroll -= page; break;
	case KEY_NPAGE: l->scroll += page; break;
	case KEY_HOME: l->scroll = 0; break;
	case KEY_END: l->scroll = l->total; break;
	default: return UI_IGNORED;
	}
	listw_clamp(l, l->total, page);
	return l->scroll != before ? UI_HANDLED | UI_REDRAW : UI_HANDLED;
}

long listw_move(int ch, long pos, size_t n, int page)
{
	long target;

	switch (ch) {
	case KEY_UP:
	case 'k': target = pos >= 0 ? pos - 1 : 0; break;
	case KEY_DOWN:
	case 'j': target = pos >= 0 ? pos + 1 : 0; break;
	case KEY_PPAGE: target = (pos >= 0 ? pos : 0) - page; break;
	case KEY_NPAGE: target = (pos >= 0 ? pos : 0) + page; break;
	case KEY_HOME: target = 0; break;
	default: target = (long)n - 1; break;   /* KEY_END */
	}
	if (target < 0)
		target = 0;
	if (target >= (long)n)
		target = (long)n - 1;
	return target;
}

int listw_edit(char *buf, size_t size, int ch)
{
	size_t len = strlen(buf);

	if (ch == 27)
		return -1;
	if (view_is_enter(ch))
		return 1;
	if (view_is_backspace(ch)) {
		if (len == 0)
			return 0;
		buf[len - 1] = '\0';
		return 2;
	}
	if (ch >= 32 && ch < 127 && len + 1 < size) {
		buf[len] = (char)ch;
		buf[len + 1] = '\0';
		return 2;
	}
	return 0;
}

int listw_filter_key(struct listw *l, int ch)
{
	int r = listw_edit(l->filter, sizeof(l->filter), ch);

	if (r == 0)
		return UI_HANDLED;      /* every key belongs to the filter */
	if (r < 0)
		l->filter[0] = '\0';
	if (r != 2)
		l->filter_editing = false;
	l->scroll = 0;
	return UI_HANDLED | UI_REDRAW;
}

bool listw_filtering(const struct listw *l)
{
	return l->filter_editing || l->filter[0] != '\0';
}

bool listw_matches(const struct listw *l, const char *s)
{
	return l->filter[0] == '\0' || (s != NULL && strcasestr(s, l->filter) != NULL);
}

int listw_sort_key(struct listw *l, int ch)
{
	if (l->nsort <= 0)
		return UI_IGNORED;
	switch (ch) {
	case '<':
		l->sort = (l->sort + l->nsort - 1) % l->nsort;
		return UI_HANDLED | UI_REDRAW;
	case '>':
		l->sort = (l->sort + 1) % l->nsort;
		return UI_HANDLED | UI_REDRAW;
	case 'r':
		l->sort_desc = !l->sort_desc;
		return UI_HANDLED | UI_REDRAW;
	default:
		return UI_IGNORED;
	}
}
