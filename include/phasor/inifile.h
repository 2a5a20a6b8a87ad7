/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_INIFILE_H
#define PHASOR_INIFILE_H
/*
 * inifile: the INI reader shared by the configuration, the meter profiles
 * and the colour themes. It turns a text into a document (the sections in
 * file order, each with its key/value pairs, everything with its line) and
 * reports what is wrong with the text itself as "file:line: message". What
 * sections and keys mean, which are allowed and whether a key may repeat is
 * for each caller to check on the document.
 *
 * Syntax (users read it in docs/configuration.md and docs/profiles.md):
 * - "[kind arg]": kind is the first word inside the brackets, arg the rest
 *   (trimmed, "" when none). After ']' only white space or a comment.
 * - "key = value" or "key: value"; white space around both is removed, and
 *   a value may hold '=' ("a = b = c" has the value "b = c").
 * - ';' or '#' first on a line starts a comment line, of any length. Later
 *   in a line only ';' after white space starts a comment: '#' stays in the
 *   value (it is the MQTT multi-level wildcard).
 * - Leading white space is ignored (there are no continuation lines). A
 *   UTF-8 byte order mark and CRLF line ends are accepted.
 *
 * Lexical errors: a line longer than the limit (comment lines excepted), a
 * line that is neither a header nor "key = value", a key without a name, a
 * header without ']' or with text after it, a key before any section, a NUL
 * byte. The line is left out of the document; after a broken header its keys
 * are left out too (without more messages) until the next header. Keys
 * before the first section are reported and left out.
 *
 * inih (Debian's r55, runtime options) splits the key/value lines; the
 * options it reads from globals are set and restored around each parse,
 * under a lock, so callers never touch them.
 */
#include <stddef.h>
#include "phasor/diag.h"

struct inifile_kv {
	char *key;   /* never empty */
	char *value; /* may be "" */
	int line;
};

struct inifile_section {
	char *kind; /* "meter" for "[meter tgbt-1]"; may be "" for "[]" */
	char *arg;  /* "tgbt-1"; "" when the header has one word */
	int line;
	struct inifile_kv *kvs; /* in file order; a repeated key is kept twice */
	size_t nkvs;
};

/*
 * A document owns everything it points to; inifile_free() frees it all and
 * wipes every value first (values may be secrets). Callers may keep
 * pointers into it (or copies of its structs) only while it lives.
 */
struct inifile {
	struct inifile_section *sections; /* in file order; sections may be empty */
	size_t nsections;
};

#define INIFILE_DEFAULT_MAX_LINE 200
#define INIFILE_MAX_LINE_LIMIT 65536

struct inifile_opts {
	/*
	 * Longest line accepted, in bytes, without its line end (and without
	 * the byte order mark); comment lines may be longer. 0 gives
	 * INIFILE_DEFAULT_MAX_LINE; values above INIFILE_MAX_LINE_LIMIT are
	 * lowered to it.
	 */
	int max_line;
	/*
	 * Appended in parentheses to "key 'x' is outside any section", e.g.
	 * "add [site], [meter NAME], ..."; NULL for nothing.
	 */
	const char *section_hint;
	/*
	 * When set, every error goes here (line 0: about the whole file, e.g.
	 * it cannot be read; msg without "file:line: ", valid during the call)
	 * instead of to the diag, for callers that merge them with their own
	 * (config reports everything sorted by line).
	 */
	void (*on_error)(void *user, int line, const char *msg);
	void *user;
};

/*
 * Parse len bytes of text (NUL bytes inside are reported, not an end).
 * name is the file name used in messages. Errors go to d (or
 * opts->on_error; d may then be NULL); opts may be NULL for the defaults.
 * Returns the document, never NULL (errors leave lines out, they do not
 * stop the parse): free it with inifile_free(). Check d (or count the
 * errors) to know whether the text was clean.
 */
struct inifile *inifile_parse(const char *text, size_t len, const char *name,
			      const struct inifile_opts *opts, struct diag *d);

/*
 * Read path (at most max_bytes) with util_read_file() and parse it; path is
 * the name in messages. Returns NULL after "path: cannot read: REASON" (or
 * "cannot read: larger than N bytes") when the file cannot be read. When
 * text_out is not NULL it receives the file's text, NUL-terminated, which
 * the caller frees (NULL when the file could not be read).
 */
struct inifile *inifile_load(const char *path, size_t max_bytes, const struct inifile_opts *opts,
			     struct diag *d, char **text_out);

/* Wipe every value, free everything. NULL is fine. */
void inifile_free(struct inifile *doc);

/*
 * The first pair of s before kvs[k] with the same key, or NULL when
 * kvs[k] is the first of its key: for callers that refuse repeated keys
 * ("duplicate key 'x' (first at line N)").
 */
const struct inifile_kv *inifile_repeated(const struct inifile_section *s, size_t k);

#endif
