// SPDX-License-Identifier: MIT
/*
 * keys: the console's keyboard decoder (keys.h).
 *
 * ncurses (keypad on) turns the sequences of the terminfo entry into key
 * codes and hands over, byte by byte, what it does not know. Terminals and
 * multiplexers send more than their entry says: tmux sends ESC[1~ and
 * ESC[4~ for Home and End whatever TERM is inside (xterm-256color says
 * ESC O H and ESC O F), and ESC[21~ for F10 where vt100 says ESC O x. Read
 * byte by byte those would be the digits 1, 4, 2 and 1: views switched, or
 * a quit that nobody asked for. So every ESC is held here until its
 * sequence ends (ECMA-48: CSI parameter bytes 0x30-0x3f, intermediates
 * 0x20-0x2f, a final byte 0x40-0x7e; SS3: one byte), then either decoded
 * (the common forms of the arrows, Home, End, PgUp, PgDn, Insert, Delete,
 * F1-F12, Shift-Tab, whatever the modifiers) or dropped whole.
 *
 * An ESC followed by nothing (ncurses waited ESCDELAY) is the Esc key; an
 * ESC followed by another key (Alt-x, or Esc typed just before x) is Esc
 * then that key.
 */
#include "phasor/keys.h"

#include <curses.h>
#include <string.h>

#include "phasor/util.h"

enum { S_NONE, S_ESC, S_CSI, S_SS3, S_LINUX };

/* C1 controls as characters (an 8-bit terminal): CSI and SS3. */
#define C1_CSI 0x9b
#define C1_SS3 0x8f

void keys_init(struct keys *k)
{
	memset(k, 0, sizeof(*k));
}

int keys_from_wch(int rc, unsigned wc)
{
	if (rc == KEY_CODE_YES)
		return (int)wc;
	if (rc != OK || wc > 0x10ffff)
		return -1;
	return wc < 0x80 ? (int)wc : KEYS_CHAR | (int)wc;
}

/* The final letters CSI and SS3 share: the arrows, Home, End, F1-F4. */
static int letter_key(int final)
{
	switch (final) {
	case 'A': return KEY_UP;
	case 'B': return KEY_DOWN;
	case 'C': return KEY_RIGHT;
	case 'D': return KEY_LEFT;
	case 'H': return KEY_HOME;
	case 'F': return KEY_END;
	case 'P':
	case 'Q':
	case 'R':
	case 'S': return KEY_F(1 + final - 'P');
	default: return -1;
	}
}

int keys_csi(const char *params, int final)
{
	const char *p;
	int n = 0;

	/* Private parameters (ESC[?.., ESC[<.. mouse reports) mean nothing here. */
	for (p = params; *p != '\0'; p++)
		if (!((*p >= '0' && *p <= '9') || *p == ';'))
			return -1;
	for (p = params; *p >= '0' && *p <= '9' && n < 1000; p++)
		n = n * 10 + (*p - '0');
	if (final == 'Z')
		return KEY_BTAB;
	if (final != '~')
		return letter_key(final);
	switch (n) {
	case 1:
	case 7: return KEY_HOME;    /* VT220 Find; rxvt */
	case 2: return KEY_IC;
	case 3: return KEY_DC;
	case 4:
	case 8: return KEY_END;     /* VT220 Select; rxvt */
	case 5: return KEY_PPAGE;
	case 6: return KEY_NPAGE;
	default: break;
	}
	if (n >= 11 && n <= 15)
		return KEY_F(n - 10);
	if (n >= 17 && n <= 21)
		return KEY_F(n - 11);
	if (n == 23 || n == 24)
		return KEY_F(n - 12);
	return -1;
}

int keys_ss3(int final)
{
	if (final == 'M')
		return KEY_ENTER;    /* the keypad's Enter */
	return letter_key(final); /* the keypad's digits and the rest: -1 */
}

/* One key with nothing pending: an ESC (or a C1 CSI, SS3) opens a sequence. */
static int start(struct keys *k, int key, int64_t now_ms, int *out)
{
	k->nparam = 0;
	k->param[0] = '\0';
	k->last_ms = now_ms;
	if (key == KEYS_ESC) {
		k->state = S_ESC;
		return 0;
	}
	if (key == (KEYS_CHAR | C1_CSI)) {
		k->state = S_CSI;
		return 0;
	}
	if (key == (KEYS_CHAR | C1_SS3)) {
		k->state = S_SS3;
		return 0;
	}
	k->state = S_NONE;
	*out = key;
	return 1;
}

/* The end of a sequence: its key, if it has one. */
static int finish(struct keys *k, int key, int *out)
{
	k->state = S_NONE;
	if (key < 0)
		return 0;
	*out = key;
	return 1;
}

int keys_feed(struct keys *k, int key, int64_t now_ms, int out[2])
{
	int n = 0;

	if (key < 0)
		return 0;
	if (k->state != S_NONE && now_ms - k->last_ms > KEYS_SEQ_MS) {
		/* A pause inside a sequence: what was held is over. */
		if (k->state == S_ESC)
			out[n++] = KEYS_ESC;
		k->state = S_NONE;
	}
	switch (k->state) {
	case S_NONE:
		return n + start(k, key, now_ms, out + n);
	case S_ESC:
		if (key == '[') {
			k->state = S_CSI;
			k->last_ms = now_ms;
			return n;
		}
		if (key == 'O') {
			k->state = S_SS3;
			k->last_ms = now_ms;
			return n;
		}
		/* Esc, then a key of its own (Alt-x, or Esc typed just before x). */
		out[n++] = KEYS_ESC;
		return n + start(k, key, now_ms, out + n);
	case S_CSI:
		k->last_ms = now_ms;
		if (key == '[' && k->nparam == 0) {
			k->state = S_LINUX; /* the Linux console's F1-F5: ESC [ [ A..E */
			return n;
		}
		if (key >= 0x20 && key <= 0x3f) {
			/* parameters and intermediates; beyond the buffer still swallowed */
			if (k->nparam + 1 < sizeof(k->param)) {
				k->param[k->nparam++] = (char)key;
				k->param[k->nparam] = '\0';
			} else {
				k->param[0] = '?'; /* too long to be a key */
			}
			return n;
		}
		if (key >= 0x40 && key <= 0x7e)
			return n + finish(k, keys_csi(k->param, key), out + n);
		/* a control or a key code inside: the sequence is broken, the key is a key */
		return n + start(k, key, now_ms, out + n);
	case S_SS3:
		k->last_ms = now_ms;
		if ((key >= '0' && key <= '9') || key == ';')
			return n; /* old xterm's modifiers: ESC O 5 P */
		if (key >= 0x20 && key <= 0x7e)
			return n + finish(k, keys_ss3(key), out + n);
		return n + start(k, key, now_ms, out + n);
	case S_LINUX:
		if (key >= 0x20 && key <= 0x7e)
			return n + finish(k, key >= 'A' && key <= 'E' ? KEY_F(1 + key - 'A') : -1,
					  out + n);
		return n + start(k, key, now_ms, out + n);
	default:
		k->state = S_NONE;
		return n;
	}
}

int keys_idle(struct keys *k, int *out)
{
	if (k->state != S_ESC)
		return 0;
	k->state = S_NONE;
	*out = KEYS_ESC;
	return 1;
}

/* The UTF-8 form of code point cp (< 0x110000) into out; returns its length. */
static size_t encode(unsigned cp, char *out)
{
	size_t n;

	if (cp < 0x80) {
		out[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	out[n] = '\0';
	return n;
}

bool keys_is_text(int key)
{
	char u[5], clean[5];

	if (key >= 0x20 && key < 0x7f)
		return true;
	if ((key & ~0x1fffff) != KEYS_CHAR || (key & 0x1fffff) < 0x80 ||
	    (key & 0x1fffff) > 0x10ffff)
		return false;
	/* The same rules as every string shown: what util_sanitize keeps. */
	encode((unsigned)(key & 0x1fffff), u);
	util_sanitize(clean, sizeof(clean), u);
	return strcmp(u, clean) == 0;
}

size_t keys_utf8(int key, char *out)
{
	out[0] = '\0';
	if (!keys_is_text(key))
		return 0;
	return encode((unsigned)(key < 0x80 ? key : key & 0x1fffff), out);
}
