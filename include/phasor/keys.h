/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_KEYS_H
#define PHASOR_KEYS_H
/*
 * keys: what the operator typed, as the console's views get it. ncurses
 * decodes the escape sequences its terminfo entry knows; this module
 * decodes what is left (the sequences a terminal sends whatever TERM says:
 * tmux's ESC[1~ and ESC[4~ for Home and End under xterm-256color, ESC[21~
 * for F10 under vt100) and swallows every other sequence whole, so that
 * its bytes are never read as keys (ESC[4~ is not the digit 4). Characters
 * come from wget_wch: any UTF-8 text, not only ASCII.
 *
 * A key is an int: an ASCII character (0..127) as itself, an ncurses key
 * code (KEY_HOME, KEY_F(10), KEY_RESIZE...) as itself, and any other
 * character as KEYS_CHAR | its code point. UI thread only; no state but
 * the decoder's (a plain value, nothing to free).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_CHAR 0x1000000  /* a non-ASCII character: KEYS_CHAR | code point */
#define KEYS_ESC 27          /* the Esc key */
/* Longest pause inside an escape sequence: a byte later than that starts afresh. */
#define KEYS_SEQ_MS 500

struct keys {
	int state;             /* 0 none, else inside ESC, CSI, SS3, or ESC [ [ */
	char param[16];        /* a CSI sequence's parameter bytes so far */
	size_t nparam;
	int64_t last_ms;       /* when its last byte came */
};

/* A decoder with nothing pending. */
void keys_init(struct keys *k);

/*
 * The key of what wget_wch returned: rc KEY_CODE_YES (wc is a key code) or
 * OK (wc is a character); -1 for ERR.
 */
int keys_from_wch(int rc, unsigned wc);

/*
 * One key from wget_wch (keys_from_wch) at now_ms: the keys it completes,
 * in order, into out (0, 1 or 2 of them: ESC then x gives Esc and x);
 * returns how many. Inside a sequence nothing comes out until its final
 * byte; a sequence not decoded gives nothing at all.
 */
int keys_feed(struct keys *k, int key, int64_t now_ms, int out[2]);

/*
 * No more input for now (wget_wch said ERR; ncurses has already waited
 * ESCDELAY): an ESC alone is the Esc key (1, in *out). A sequence cut
 * short stays pending until its next byte or KEYS_SEQ_MS. Returns 0 or 1.
 */
int keys_idle(struct keys *k, int *out);

/*
 * The key of a CSI sequence, ESC [ params final (params: its parameter
 * bytes, e.g. "1;5"), or of an SS3 sequence ESC O final; -1 when it means
 * nothing to the console (then it is swallowed). The modifiers of
 * xterm's ESC[1;5H (Ctrl-Home) are ignored: Home is Home.
 */
int keys_csi(const char *params, int final);
int keys_ss3(int final);

/*
 * Whether key is text for an entry field (a note, a filter): a printable
 * ASCII character or a non-ASCII character that util_sanitize keeps (no
 * C0, DEL, C1 control, no bidi override, no surrogate).
 */
bool keys_is_text(int key);

/* The UTF-8 bytes of a text key into out (at least 5 bytes, terminated);
 * returns their count, 0 when key is not text. */
size_t keys_utf8(int key, char *out);

#endif
