// SPDX-License-Identifier: MIT
/*
 * listw: the list widget every list view of the console shares (listw.h):
 * scroll and its keys, the selection's moves, the filter's text entry and
 * the sort keys. One place for what the overview, the alarm list and the
 * sources once each wrote for themselves, so the same key does the same
 * in every list. Text entry takes any UTF-8 text (keys.h) and keeps it
 * byte for byte; the filter matches case-insensitively beyond ASCII.
 */
#include "phasor/listw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "phasor/keys.h"
#include "phasor/ui.h"
#include "phasor/util.h"
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
	size_t len = strlen(buf), n;
	char u[8];

	if (ch == KEYS_ESC)
		return LISTW_EDIT_CANCEL;
	if (view_is_enter(ch))
		return LISTW_EDIT_DONE;
	if (view_is_backspace(ch)) {
		if (len == 0)
			return LISTW_EDIT_NONE;
		/* one character: its continuation bytes, then its lead byte */
		while (len > 1 && ((unsigned char)buf[len - 1] & 0xc0) == 0x80)
			len--;
		buf[len - 1] = '\0';
		return LISTW_EDIT_CHANGED;
	}
	n = keys_utf8(ch, u);
	if (n == 0)
		return LISTW_EDIT_NONE; /* controls, function keys: not text */
	if (len + n + 1 > size)
		return LISTW_EDIT_FULL; /* never cut, never half a character */
	memcpy(buf + len, u, n + 1);
	return LISTW_EDIT_CHANGED;
}

const char *listw_edit_tail(const char *buf, int width)
{
	const char *p = buf;

	if (width < 1)
		return buf + strlen(buf);
	/* from the front, one character at a time, until the rest fits */
	while (*p != '\0' && draw_width(p) > width) {
		p++;
		while (((unsigned char)*p & 0xc0) == 0x80)
			p++;
	}
	return p;
}

int listw_filter_key(struct listw *l, int ch)
{
	int r = listw_edit(l->filter, sizeof(l->filter), ch);

	if (r == LISTW_EDIT_FULL) {
		beep();                 /* refused, not cut: the filter is full */
		return UI_HANDLED;
	}
	if (r == LISTW_EDIT_NONE)
		return UI_HANDLED;      /* every key belongs to the filter */
	if (r == LISTW_EDIT_CANCEL)
		l->filter[0] = '\0';
	if (r != LISTW_EDIT_CHANGED)
		l->filter_editing = false;
	l->scroll = 0;
	return UI_HANDLED | UI_REDRAW;
}

bool listw_filtering(const struct listw *l)
{
	return l->filter_editing || l->filter[0] != '\0';
}

/*
 * The next character of UTF-8 text s, case-folded (ASCII as in every
 * locale, the rest by towlower in the console's); a byte that starts no
 * valid character is itself.
 */
static uint32_t next_folded(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	size_t n = 1, i;

	if (c >= 0xc2 && c <= 0xf4) {
		n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		c &= n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07;
		for (i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			c = (c << 6) | (p[i] & 0x3f);
		}
		if (i < n) {
			c = p[0];
			n = 1;
		}
	}
	*s += n;
	if (c < 0x80)
		return (uint32_t)util_tolower((int)c);
	return (uint32_t)towlower((wint_t)c);
}

/* Text s case-folded into a new array of characters (caller frees); *n its length. */
static uint32_t *fold(const char *s, size_t *n)
{
	uint32_t *v = util_calloc(strlen(s) + 1, sizeof(*v));
	size_t k = 0;

	while (*s != '\0')
		v[k++] = next_folded(&s);
	*n = k;
	return v;
}

bool listw_matches(const struct listw *l, const char *s)
{
	uint32_t *hay, *needle;
	size_t nh, nn, i;
	bool found = false;

	if (l->filter[0] == '\0')
		return true;
	if (s == NULL)
		return false;
	/* Case-insensitive beyond ASCII: "étuve" finds "Étuve". */
	hay = fold(s, &nh);
	needle = fold(l->filter, &nn);
	for (i = 0; !found && i + nn <= nh; i++)
		found = memcmp(hay + i, needle, nn * sizeof(*needle)) == 0;
	free(hay);
	free(needle);
	return found;
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
