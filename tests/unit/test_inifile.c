// SPDX-License-Identifier: MIT
/*
 * Unit tests of inifile.c: a table of texts, each with the document it must
 * give (dumped one line per section and pair, with their lines) and the
 * exact "file:line: message" errors; then reading files, errors through a
 * callback, inih's globals left as they were, and repeated keys.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ini.h>

#include "phasor/diag.h"
#include "phasor/inifile.h"
#include "phasor/util.h"

/*
 * The document as text: "LINE [kind|arg]" for a section, "LINE key=<value>"
 * for a pair. Caller frees.
 */
static char *dump(const struct inifile *doc)
{
	char *out = util_strdup(""), *next;
	size_t i, j;

	for (i = 0; i < doc->nsections; i++) {
		const struct inifile_section *s = &doc->sections[i];

		next = util_printf("%s%d [%s|%s]\n", out, s->line, s->kind, s->arg);
		free(out);
		out = next;
		for (j = 0; j < s->nkvs; j++) {
			next = util_printf("%s%d %s=<%s>\n", out, s->kvs[j].line, s->kvs[j].key,
					   s->kvs[j].value);
			free(out);
			out = next;
		}
	}
	return out;
}

struct parse_case {
	const char *what;
	const char *text;
	size_t len;          /* 0: strlen(text) */
	int max_line;        /* 0: the default */
	const char *hint;    /* section_hint */
	const char *doc;     /* dump() of the result */
	const char *want[6]; /* errors, NULL-ended */
};

static const struct parse_case parse_cases[] = {
	{ "empty file", "", 0, 0, NULL, "", { NULL } },
	{ "only blanks and comments", "\n  \n; one\n# two\n\t; three\n", 0, 0, NULL, "", { NULL } },
	{ "sections with arguments",
	  "[site]\n[meter  tgbt-1  ]\n[ field ENERGY.Power  and more ]\n[]\n", 0, 0, NULL,
	  "1 [site|]\n2 [meter|tgbt-1]\n3 [field|ENERGY.Power  and more]\n4 [|]\n", { NULL } },
	{ "a long section name is kept whole (inih keeps 49 characters)",
	  "[meter 123456789012345678901234567890123456789012345678901234567890]\nk = v\n", 0, 0,
	  NULL,
	  "1 [meter|123456789012345678901234567890123456789012345678901234567890]\n2 k=<v>\n",
	  { NULL } },
	{ "pairs with their lines", "[a]\nx = 1\ny=2\n\n# c\nz = 3\n[b]\nx = 4\n", 0, 0, NULL,
	  "1 [a|]\n2 x=<1>\n3 y=<2>\n6 z=<3>\n7 [b|]\n8 x=<4>\n", { NULL } },
	{ "repeated keys and sections are kept, in order",
	  "[m]\ntopic = a\nhost = h\ntopic = b\n[m]\ntopic = c\n", 0, 0, NULL,
	  "1 [m|]\n2 topic=<a>\n3 host=<h>\n4 topic=<b>\n5 [m|]\n6 topic=<c>\n", { NULL } },
	{ "byte order mark", "\xEF\xBB\xBF[a]\nk = v\n", 0, 0, NULL, "1 [a|]\n2 k=<v>\n", { NULL } },
	{ "byte order mark before a comment", "\xEF\xBB\xBF# c\n[a]\n", 0, 0, NULL, "2 [a|]\n",
	  { NULL } },
	{ "CRLF", "[a]\r\nk = v\r\n\r\nj = w \r\n", 0, 0, NULL, "1 [a|]\n2 k=<v>\n4 j=<w>\n",
	  { NULL } },
	{ "indented keys are keys, not continuations", "[a]\nk = v\n  j = w\n\tl = x\n  [b]\n", 0,
	  0, NULL, "1 [a|]\n2 k=<v>\n3 j=<w>\n4 l=<x>\n5 [b|]\n", { NULL } },
	{ "inline comments: ';' after white space only; '#' stays",
	  "[a]\nk = v ; c\nj = v;not\nt = a/+/# x\nh = #x\nc = x\t; tab\ne = ; all comment\n", 0,
	  0, NULL,
	  "1 [a|]\n2 k=<v>\n3 j=<v;not>\n4 t=<a/+/# x>\n5 h=<#x>\n6 c=<x>\n7 e=<>\n", { NULL } },
	{ "comments after a header", "[a] ; c\n[b]# c\n[c] # c\n[d];c\n", 0, 0, NULL,
	  "1 [a|]\n2 [b|]\n3 [c|]\n4 [d|]\n", { NULL } },
	{ "values with '=' and ':' inside",
	  "[a]\nk = a = b\nurl = tcp://h:1883\nq = x?y=1\nc: v = w\n", 0, 0, NULL,
	  "1 [a|]\n2 k=<a = b>\n3 url=<tcp://h:1883>\n4 q=<x?y=1>\n5 c=<v = w>\n", { NULL } },
	{ "white space trimmed around keys and values",
	  "[a]\n  k   =   v  w   \nempty =\nnone=\n  sp  :  x  \n", 0, 0, NULL,
	  "1 [a|]\n2 k=<v  w>\n3 empty=<>\n4 none=<>\n5 sp=<x>\n", { NULL } },
	{ "last line without a newline", "[a]\nk = v", 0, 0, NULL, "1 [a|]\n2 k=<v>\n", { NULL } },
	{ "last header without a newline", "[a]\nk = v\n[b]", 0, 0, NULL,
	  "1 [a|]\n2 k=<v>\n3 [b|]\n", { NULL } },
	{ "empty sections are in the document with their lines",
	  "[a]\n[b]\nk = v\n\n[c]\n", 0, 0, NULL, "1 [a|]\n2 [b|]\n3 k=<v>\n5 [c|]\n", { NULL } },

	/* the line limit: 20 here */
	{ "a line exactly at the limit fits (indentation counts, CRLF does not)",
	  "[a]\nk = 0123456789abcdef\r\n  k2 = 0123456789abc\n", 0, 20, NULL,
	  "1 [a|]\n2 k=<0123456789abcdef>\n3 k2=<0123456789abc>\n", { NULL } },
	{ "one character more is an error, and the line is left out",
	  "[a]\nk = 0123456789abcdefg\nj = 1\n  k2 = 0123456789abcd\n", 0, 20, NULL,
	  "1 [a|]\n3 j=<1>\n",
	  { "t.ini:2: line is too long (21 characters, at most 20)",
	    "t.ini:4: line is too long (21 characters, at most 20)", NULL } },
	{ "comment lines may be longer than the limit",
	  "; 0123456789012345678901234567890123456789\n[a]\n"
	  "   # 0123456789012345678901234567890123456789\nk = v\n",
	  0, 20, NULL, "2 [a|]\n4 k=<v>\n", { NULL } },
	{ "an inline comment counts",
	  "[a]\nk = v      ; 0123456789\n", 0, 20, NULL, "1 [a|]\n",
	  { "t.ini:2: line is too long (23 characters, at most 20)", NULL } },
	{ "a header too long: its keys are dropped quietly",
	  "[a]\nk = 1\n[bbbbbbbbbbbbbbbbbbbbbbbbb]\nj = 2\n[c]\nl = 3\n", 0, 20, NULL,
	  "1 [a|]\n2 k=<1>\n5 [c|]\n6 l=<3>\n",
	  { "t.ini:3: line is too long (27 characters, at most 20)", NULL } },

	/* lexical errors */
	{ "header without ']': its keys are dropped quietly",
	  "[a\nk = v\n[b]\nj = w\n", 0, 0, NULL, "3 [b|]\n4 j=<w>\n",
	  { "t.ini:1: missing ']' in section header", NULL } },
	{ "a ']' after an inline comment does not close the header",
	  "[a ; b]\nk = v\n", 0, 0, NULL, "", { "t.ini:1: missing ']' in section header", NULL } },
	{ "text after ']': reported, the section is kept",
	  "[a] b c\nk = v\n", 0, 0, NULL, "1 [a|]\n2 k=<v>\n",
	  { "t.ini:1: unexpected text after ']': b c", NULL } },
	{ "a line without '=' or ':'",
	  "[a]\njust words   ; comment\nk = v\n", 0, 0, NULL, "1 [a|]\n3 k=<v>\n",
	  { "t.ini:2: expected 'key = value' or '[section]', found: just words", NULL } },
	{ "'=' only inside the inline comment does not count",
	  "[a]\nwords ; a = b\n", 0, 0, NULL, "1 [a|]\n",
	  { "t.ini:2: expected 'key = value' or '[section]', found: words", NULL } },
	{ "file text in messages is made harmless",
	  "[a]\nbad \x1b[31m\n[b] \x1b]0;x\x07\n", 0, 0, NULL, "1 [a|]\n3 [b|]\n",
	  { "t.ini:2: expected 'key = value' or '[section]', found: bad ?[31m",
	    "t.ini:3: unexpected text after ']': ?]0;x?", NULL } },
	{ "a key without a name", "[a]\n= v\n : w\nk = x\n", 0, 0, NULL, "1 [a|]\n4 k=<x>\n",
	  { "t.ini:2: missing key name before '='", "t.ini:3: missing key name before ':'",
	    NULL } },
	{ "keys before any section", "k = v\n  j: w\n[a]\nl = x\n", 0, 0, NULL, "3 [a|]\n4 l=<x>\n",
	  { "t.ini:1: key 'k' is outside any section", "t.ini:2: key 'j' is outside any section",
	    NULL } },
	{ "keys before any section, with the caller's hint", "k = v\n[a]\n", 0, 0,
	  "add [site], [meter NAME], ...", "2 [a|]\n",
	  { "t.ini:1: key 'k' is outside any section (add [site], [meter NAME], ...)", NULL } },
	{ "a NUL byte leaves its line out, the rest is read",
	  "[a]\nk = v\0w\nj = x\n[b\0]\nl = y\n", 29, 0, NULL, "1 [a|]\n3 j=<x>\n5 l=<y>\n",
	  { "t.ini:2: the line contains a NUL byte", "t.ini:4: the line contains a NUL byte",
	    NULL } },
	{ "all errors of a text, in line order",
	  "x = 1\n[a\ny = 2\n[b] z\nno equals\n= 3\n[c]\nok = 4\n", 0, 0, NULL,
	  "4 [b|]\n7 [c|]\n8 ok=<4>\n",
	  { "t.ini:1: key 'x' is outside any section", "t.ini:2: missing ']' in section header",
	    "t.ini:4: unexpected text after ']': z",
	    "t.ini:5: expected 'key = value' or '[section]', found: no equals",
	    "t.ini:6: missing key name before '='", NULL } },
};

static void test_parse_table(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(parse_cases); i++) {
		const struct parse_case *c = &parse_cases[i];
		struct inifile_opts opts = { .max_line = c->max_line, .section_hint = c->hint };
		size_t len = c->len != 0 ? c->len : strlen(c->text), nwant = 0;
		struct inifile *doc;
		struct diag d;
		char *got;
		bool same;

		diag_init(&d);
		doc = inifile_parse(c->text, len, "t.ini", &opts, &d);
		assert_non_null(doc);
		got = dump(doc);
		while (nwant < UTIL_ARRAY_LEN(c->want) && c->want[nwant] != NULL)
			nwant++;
		same = strcmp(got, c->doc) == 0 && d.n == nwant;
		for (k = 0; same && k < nwant; k++)
			same = strcmp(d.lines[k], c->want[k]) == 0;
		if (!same) {
			fprintf(stderr, "case: %s\n---- want document:\n%s---- got:\n%s", c->what,
				c->doc, got);
			fprintf(stderr, "---- want %zu errors:\n", nwant);
			for (k = 0; k < nwant; k++)
				fprintf(stderr, "  %s\n", c->want[k]);
			fprintf(stderr, "---- got %zu:\n", d.n);
			diag_print(&d, stderr);
		}
		assert_true(same);
		free(got);
		inifile_free(doc);
		diag_clear(&d);
	}
}

/* NULL options are the defaults: 200-character lines, no hint. */
static void test_null_options(void **state)
{
	char line[256];
	struct inifile *doc;
	struct diag d;

	(void)state;
	memset(line, 'x', sizeof(line));
	memcpy(line, "[a]\nk = ", 8);
	line[4 + 200] = '\n';
	line[4 + 200 + 1] = '\0';
	diag_init(&d);
	doc = inifile_parse(line, strlen(line), "n.ini", NULL, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(doc->nsections, 1);
	assert_int_equal(doc->sections[0].nkvs, 1);
	assert_int_equal(strlen(doc->sections[0].kvs[0].value), 200 - 4);
	inifile_free(doc);

	line[4 + 200] = 'x';
	line[4 + 201] = '\0';
	doc = inifile_parse(line, strlen(line), "n.ini", NULL, &d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], "n.ini:2: line is too long (201 characters, at most 200)");
	assert_int_equal(doc->sections[0].nkvs, 0);
	inifile_free(doc);
	diag_clear(&d);
}

/* A limit above INIFILE_MAX_LINE_LIMIT is lowered to it. */
static void test_limit_clamped(void **state)
{
	struct inifile_opts opts = { .max_line = 10 * INIFILE_MAX_LINE_LIMIT };
	size_t n = INIFILE_MAX_LINE_LIMIT + 1;
	char *text = util_calloc(n + 6, 1), *want;
	struct inifile *doc;
	struct diag d;

	(void)state;
	memcpy(text, "[a]\nk=", 6);
	memset(text + 6, 'v', n - 2);
	diag_init(&d);
	doc = inifile_parse(text, strlen(text), "big.ini", &opts, &d);
	want = util_printf("big.ini:2: line is too long (%zu characters, at most %d)", n,
			   INIFILE_MAX_LINE_LIMIT);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], want);
	inifile_free(doc);
	diag_clear(&d);

	/* one less fits */
	text[strlen(text) - 1] = '\0';
	doc = inifile_parse(text, strlen(text), "big.ini", &opts, &d);
	assert_int_equal(d.n, 0);
	assert_int_equal(strlen(doc->sections[0].kvs[0].value), n - 3);
	inifile_free(doc);
	free(want);
	free(text);
}

/* ---- files -------------------------------------------------------------- */

static void test_load(void **state)
{
	char dir[] = "/tmp/phasor-test-inifile-XXXXXX";
	char *path, *text = (char *)"unchanged", *want;
	struct inifile *doc;
	struct diag d;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = util_printf("%s/theme.ini", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[colour header]\nfg = white\nbg = blue\n", f);
	assert_int_equal(fclose(f), 0);

	diag_init(&d);
	doc = inifile_load(path, 4096, NULL, &d, &text);
	assert_non_null(doc);
	assert_int_equal(d.n, 0);
	assert_string_equal(text, "[colour header]\nfg = white\nbg = blue\n");
	assert_int_equal(doc->nsections, 1);
	assert_string_equal(doc->sections[0].kind, "colour");
	assert_string_equal(doc->sections[0].arg, "header");
	assert_int_equal(doc->sections[0].nkvs, 2);
	assert_string_equal(doc->sections[0].kvs[1].key, "bg");
	assert_int_equal(doc->sections[0].kvs[1].line, 3);
	inifile_free(doc);
	free(text);

	/* without text_out */
	doc = inifile_load(path, 4096, NULL, &d, NULL);
	assert_non_null(doc);
	inifile_free(doc);

	/* larger than allowed */
	text = (char *)"unchanged";
	doc = inifile_load(path, 10, NULL, &d, &text);
	assert_null(doc);
	assert_null(text);
	assert_int_equal(d.n, 1);
	want = util_printf("%s: cannot read: larger than 10 bytes", path);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);

	/* missing */
	assert_int_equal(unlink(path), 0);
	doc = inifile_load(path, 4096, NULL, &d, &text);
	assert_null(doc);
	assert_null(text);
	assert_int_equal(d.n, 1);
	want = util_printf("%s: cannot read: %s", path, strerror(ENOENT));
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);

	assert_int_equal(rmdir(dir), 0);
	free(path);
}

/* ---- errors through the callback ---------------------------------------- */

struct seen {
	int lines[8];
	char *msgs[8];
	size_t n;
};

static void on_error(void *user, int line, const char *msg)
{
	struct seen *s = user;

	assert_true(s->n < UTIL_ARRAY_LEN(s->lines));
	s->lines[s->n] = line;
	s->msgs[s->n++] = util_strdup(msg);
}

static void test_callback(void **state)
{
	struct seen seen = { { 0 }, { NULL }, 0 };
	struct inifile_opts opts = { .section_hint = "add [x]", .on_error = on_error,
				     .user = &seen };
	static const char text[] = "k = v\n[a\n[b]\nno equals\n";
	struct inifile *doc;
	struct diag d;
	size_t i;

	(void)state;
	diag_init(&d);
	doc = inifile_parse(text, strlen(text), "cb.ini", &opts, &d);
	assert_int_equal(d.n, 0); /* all went to the callback */
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.lines[0], 1);
	assert_string_equal(seen.msgs[0], "key 'k' is outside any section (add [x])");
	assert_int_equal(seen.lines[1], 2);
	assert_string_equal(seen.msgs[1], "missing ']' in section header");
	assert_int_equal(seen.lines[2], 4);
	assert_string_equal(seen.msgs[2], "expected 'key = value' or '[section]', found: no equals");
	assert_int_equal(doc->nsections, 1);
	inifile_free(doc);

	/* a read error is line 0; d may be NULL */
	doc = inifile_load("/nonexistent/x.ini", 4096, &opts, NULL, NULL);
	assert_null(doc);
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.lines[3], 0);
	assert_string_equal(seen.msgs[3], "cannot read: No such file or directory");
	for (i = 0; i < seen.n; i++)
		free(seen.msgs[i]);
}

/* ---- inih's globals ----------------------------------------------------- */

static void test_inih_globals_restored(void **state)
{
	static char inl[] = ";#", start[] = ";";
	static const char text[] = "[a]\nk = v # x ; y\n  j = w\n";
	struct inifile *doc;

	(void)state;
	ini_max_line = 77;
	ini_allow_multiline = true;
	ini_allow_no_value = true;
	ini_allow_bom = true;
	ini_allow_inline_comments = false;
	ini_stop_on_first_error = true;
	ini_inline_comment_prefixes = inl;
	ini_start_comment_prefixes = start;

	/* our rules whatever inih's globals said: '#' inline is no comment,
	 * indented lines are keys, a line without '=' is an error */
	doc = inifile_parse(text, strlen(text), "g.ini", NULL, NULL);
	assert_int_equal(doc->sections[0].nkvs, 2);
	assert_string_equal(doc->sections[0].kvs[0].value, "v # x");
	assert_string_equal(doc->sections[0].kvs[1].key, "j");
	inifile_free(doc);

	assert_int_equal(ini_max_line, 77);
	assert_true(ini_allow_multiline);
	assert_true(ini_allow_no_value);
	assert_true(ini_allow_bom);
	assert_false(ini_allow_inline_comments);
	assert_true(ini_stop_on_first_error);
	assert_ptr_equal(ini_inline_comment_prefixes, inl);
	assert_ptr_equal(ini_start_comment_prefixes, start);
}

/* ---- repeated keys ------------------------------------------------------ */

static void test_repeated(void **state)
{
	static const char text[] = "[m]\ntopic = a\nhost = h\ntopic = b\ntopic = c\n";
	struct inifile *doc;
	const struct inifile_section *s;

	(void)state;
	doc = inifile_parse(text, strlen(text), "r.ini", NULL, NULL);
	s = &doc->sections[0];
	assert_int_equal(s->nkvs, 4);
	assert_null(inifile_repeated(s, 0));
	assert_null(inifile_repeated(s, 1));
	assert_ptr_equal(inifile_repeated(s, 2), &s->kvs[0]);
	assert_ptr_equal(inifile_repeated(s, 3), &s->kvs[0]); /* the first, not the last */
	assert_null(inifile_repeated(s, 4));                  /* out of range */
	inifile_free(doc);
	inifile_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_null_options),
		cmocka_unit_test(test_limit_clamped),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_callback),
		cmocka_unit_test(test_inih_globals_restored),
		cmocka_unit_test(test_repeated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
