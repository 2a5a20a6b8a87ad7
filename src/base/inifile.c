// SPDX-License-Identifier: MIT
/*
 * inifile: the one INI reader of phasor (configuration, profiles, themes).
 *
 * Debian's inih (r55) gives its handler no line number and cuts section
 * names at 49 characters, so inih only does what it does well: splitting
 * "key = value" lines, with inline comments. It reads through our line
 * reader, which counts lines (so the handler knows where it is), strips the
 * byte order mark, the CR of CRLF and the indentation, handles comment
 * lines and section headers itself, and reports every line inih would drop
 * or cut silently. inih is handed each key line, and an empty line for
 * everything else, always with its '\n' and always fitting its buffer, so
 * it never truncates and never has an error of its own to report.
 *
 * inih takes its options from globals: they are set for the parse and
 * restored after it under a mutex, so a profile loaded by another thread
 * cannot see them half-changed.
 */
#include "phasor/inifile.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"

/* Where the next key goes: a section index, or one of these. */
#define CUR_NONE (-1)   /* no header yet: keys are reported */
#define CUR_BROKEN (-2) /* after a broken header: keys are dropped */

struct parser {
	const char *name;
	const struct inifile_opts *opts;
	struct diag *d;
	const char *p, *end; /* the rest of the text */
	int line;            /* of the line handed to inih last */
	int max_line;
	long cur;
	struct inifile *doc;
	size_t cap;          /* of doc->sections */
	size_t kv_cap;       /* of the current section's kvs */
};

static pthread_mutex_t inih_lock = PTHREAD_MUTEX_INITIALIZER;

static void report(struct parser *ps, int line, const char *fmt, ...) UTIL_PRINTF(3, 4);

static void report(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = util_vprintf(fmt, ap);
	va_end(ap);
	if (ps->opts != NULL && ps->opts->on_error != NULL)
		ps->opts->on_error(ps->opts->user, line, msg);
	else if (ps->d != NULL)
		diag_add(ps->d, ps->name, line, "%s", msg);
	free(msg);
}

/* Text of the file for a message: control characters and bad UTF-8 made
 * harmless (never longer than the input). Caller frees. */
static char *shown(const char *s, size_t n)
{
	char *raw = util_strndup(s, n), *out = util_malloc(n + 1);

	util_sanitize(out, n + 1, raw);
	free(raw);
	return out;
}

static bool is_blank(char c)
{
	return isspace((unsigned char)c) != 0;
}

/*
 * inih's rule, so a line we check and the line inih splits agree: the first
 * of chars in [s, end), or else where an inline comment (';' after white
 * space) starts, or else end.
 */
static const char *find_or_comment(const char *s, const char *end, const char *chars)
{
	bool was_space = false;

	for (; s < end; s++) {
		if ((*s != '\0' && strchr(chars, *s) != NULL) || (was_space && *s == ';'))
			return s;
		was_space = is_blank(*s);
	}
	return end;
}

/* Did find_or_comment() find one of its chars (not ';')? */
static bool found(const char *r, const char *end)
{
	return r < end && *r != ';';
}

static void add_section(struct parser *ps, const char *s, const char *e, int line)
{
	struct inifile *doc = ps->doc;
	struct inifile_section *sec;
	const char *w;

	while (s < e && is_blank(*s))
		s++;
	while (e > s && is_blank(e[-1]))
		e--;
	for (w = s; w < e && !is_blank(*w); w++)
		;
	if (doc->nsections == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 8;
		doc->sections = util_reallocarray(doc->sections, ps->cap, sizeof(*doc->sections));
	}
	sec = &doc->sections[doc->nsections];
	memset(sec, 0, sizeof(*sec));
	sec->kind = util_strndup(s, (size_t)(w - s));
	while (w < e && is_blank(*w))
		w++;
	sec->arg = util_strndup(w, (size_t)(e - w));
	sec->line = line;
	ps->cur = (long)doc->nsections++;
	ps->kv_cap = 0;
}

/* A "[...]" line, s..e trimmed. */
static void header(struct parser *ps, const char *s, const char *e)
{
	const char *close = find_or_comment(s + 1, e, "]"), *after;

	if (!found(close, e)) {
		report(ps, ps->line, "missing ']' in section header");
		ps->cur = CUR_BROKEN;
		return;
	}
	for (after = close + 1; after < e && is_blank(*after); after++)
		;
	if (after < e && *after != ';' && *after != '#') {
		char *t = shown(after, (size_t)(e - after));

		report(ps, ps->line, "unexpected text after ']': %s", t);
		free(t);
	}
	add_section(ps, s + 1, close, ps->line);
}

/*
 * One line of the text, n bytes from s without the line end. Returns true
 * when it is a key line for inih to split, trimmed to *tsp..*tep; false
 * when it was handled (or reported) here.
 */
static bool check_line(struct parser *ps, const char *s, size_t n, const char **tsp,
		       const char **tep)
{
	const char *ts = s, *te = s + n, *sep;

	if (memchr(s, '\0', n) != NULL) {
		report(ps, ps->line, "the line contains a NUL byte");
		return false;
	}
	while (ts < te && is_blank(*ts))
		ts++;
	while (te > ts && is_blank(te[-1]))
		te--;
	if (ts == te || *ts == ';' || *ts == '#')
		return false; /* a comment stays a comment, however long */
	if (n > (size_t)ps->max_line) {
		report(ps, ps->line, "line is too long (%zu characters, at most %d)", n,
		       ps->max_line);
		if (*ts == '[')
			ps->cur = CUR_BROKEN;
		return false;
	}
	if (*ts == '[') {
		header(ps, ts, te);
		return false;
	}
	sep = find_or_comment(ts, te, "=:");
	if (!found(sep, te)) {
		const char *c = sep;
		char *t;

		while (c > ts && is_blank(c[-1]))
			c--;
		t = shown(ts, (size_t)(c - ts));
		report(ps, ps->line, "expected 'key = value' or '[section]', found: %s", t);
		free(t);
		return false;
	}
	if (sep == ts) {
		report(ps, ps->line, "missing key name before '%c'", *sep);
		return false;
	}
	if (ps->cur == CUR_NONE) {
		const char *k = sep;
		char *t;

		while (k > ts && is_blank(k[-1]))
			k--;
		t = shown(ts, (size_t)(k - ts));
		if (ps->opts != NULL && ps->opts->section_hint != NULL)
			report(ps, ps->line, "key '%s' is outside any section (%s)", t,
			       ps->opts->section_hint);
		else
			report(ps, ps->line, "key '%s' is outside any section", t);
		free(t);
		return false;
	}
	*tsp = ts;
	*tep = te;
	return ps->cur >= 0;
}

/* inih's line source: str holds num bytes, always enough (see ini_max_line). */
static char *reader(char *str, int num, void *stream)
{
	struct parser *ps = stream;
	const char *s = ps->p, *nl, *ts, *te;
	size_t n;

	if (s >= ps->end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(ps->end - s));
	n = (size_t)((nl != NULL ? nl : ps->end) - s);
	ps->p = nl != NULL ? nl + 1 : ps->end;
	ps->line++;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (ps->line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}

	/* a key line is at most max_line long: it fits with "\n\0" */
	if (check_line(ps, s, n, &ts, &te) && (size_t)(te - ts) + 2 <= (size_t)num) {
		memcpy(str, ts, (size_t)(te - ts));
		str[te - ts] = '\n';
		str[te - ts + 1] = '\0';
		return str;
	}
	util_strlcpy(str, "\n", (size_t)num);
	return str;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct parser *ps = user;
	struct inifile_section *sec;
	struct inifile_kv *kv;

	(void)section; /* ours is ps->cur, with its line and its whole name */
	if (ps->cur < 0 || key == NULL || value == NULL)
		return 1; /* cannot happen: the reader only passes key lines */
	sec = &ps->doc->sections[ps->cur];
	if (sec->nkvs == ps->kv_cap) {
		ps->kv_cap = ps->kv_cap ? ps->kv_cap * 2 : 8;
		sec->kvs = util_reallocarray(sec->kvs, ps->kv_cap, sizeof(*sec->kvs));
	}
	kv = &sec->kvs[sec->nkvs++];
	kv->key = util_strdup(key);
	kv->value = util_strdup(value);
	kv->line = ps->line;
	return 1;
}

struct inifile *inifile_parse(const char *text, size_t len, const char *name,
			      const struct inifile_opts *opts, struct diag *d)
{
	static char inline_prefixes[] = ";", start_prefixes[] = ";#";
	struct parser ps;
	int saved_max, rc;
	bool saved_multi, saved_noval, saved_bom, saved_inline, saved_stop;
	char *saved_inline_prefixes, *saved_start_prefixes;

	memset(&ps, 0, sizeof(ps));
	ps.name = name;
	ps.opts = opts;
	ps.d = d;
	ps.p = text;
	ps.end = text + len;
	ps.cur = CUR_NONE;
	ps.max_line = opts != NULL && opts->max_line > 0 ? opts->max_line
							 : INIFILE_DEFAULT_MAX_LINE;
	if (ps.max_line > INIFILE_MAX_LINE_LIMIT)
		ps.max_line = INIFILE_MAX_LINE_LIMIT;
	ps.doc = util_calloc(1, sizeof(*ps.doc));

	pthread_mutex_lock(&inih_lock);
	saved_max = ini_max_line;
	saved_multi = ini_allow_multiline;
	saved_noval = ini_allow_no_value;
	saved_bom = ini_allow_bom;
	saved_inline = ini_allow_inline_comments;
	saved_stop = ini_stop_on_first_error;
	saved_inline_prefixes = ini_inline_comment_prefixes;
	saved_start_prefixes = ini_start_comment_prefixes;
	/* A key line, its '\n' and the terminator fit inih's line buffer (on
	 * its stack). Indented lines are keys, never continuations. */
	ini_max_line = ps.max_line + 2;
	ini_allow_multiline = false;
	ini_allow_no_value = false;
	ini_allow_bom = false; /* stripped by the reader */
	ini_allow_inline_comments = true;
	ini_stop_on_first_error = false;
	ini_inline_comment_prefixes = inline_prefixes;
	ini_start_comment_prefixes = start_prefixes;
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	ini_max_line = saved_max;
	ini_allow_multiline = saved_multi;
	ini_allow_no_value = saved_noval;
	ini_allow_bom = saved_bom;
	ini_allow_inline_comments = saved_inline;
	ini_stop_on_first_error = saved_stop;
	ini_inline_comment_prefixes = saved_inline_prefixes;
	ini_start_comment_prefixes = saved_start_prefixes;
	pthread_mutex_unlock(&inih_lock);
	if (rc == -2)
		util_fail("out of memory (inih)");
	return ps.doc;
}

struct inifile *inifile_load(const char *path, size_t max_bytes, const struct inifile_opts *opts,
			     struct diag *d, char **text_out)
{
	struct parser ps;
	struct inifile *doc;
	size_t len = 0;
	char *text;

	if (text_out != NULL)
		*text_out = NULL;
	text = util_read_file(path, max_bytes, &len);
	if (text == NULL) {
		memset(&ps, 0, sizeof(ps));
		ps.name = path;
		ps.opts = opts;
		ps.d = d;
		if (errno == EFBIG)
			report(&ps, 0, "cannot read: larger than %zu bytes", max_bytes);
		else
			report(&ps, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	doc = inifile_parse(text, len, path, opts, d);
	if (text_out != NULL)
		*text_out = text;
	else
		free(text);
	return doc;
}

void inifile_free(struct inifile *doc)
{
	size_t i, j;

	if (doc == NULL)
		return;
	for (i = 0; i < doc->nsections; i++) {
		struct inifile_section *sec = &doc->sections[i];

		for (j = 0; j < sec->nkvs; j++) {
			explicit_bzero(sec->kvs[j].value, strlen(sec->kvs[j].value));
			free(sec->kvs[j].value);
			free(sec->kvs[j].key);
		}
		free(sec->kvs);
		free(sec->kind);
		free(sec->arg);
	}
	free(doc->sections);
	free(doc);
}

const struct inifile_kv *inifile_repeated(const struct inifile_section *s, size_t k)
{
	size_t j;

	if (k >= s->nkvs)
		return NULL;
	for (j = 0; j < k; j++)
		if (strcmp(s->kvs[j].key, s->kvs[k].key) == 0)
			return &s->kvs[j];
	return NULL;
}
