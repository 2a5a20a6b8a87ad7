// SPDX-License-Identifier: MIT
/* Unit tests of util.c: sanitizing, parsing durations, powers and times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <locale.h>
#include <strings.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "phasor/util.h"

static void test_sanitize(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain name", "plain name" },
		{ "", "" },
		{ "\x1b[31mred\x1b[0m", "?[31mred?[0m" },
		{ "bell\a", "bell?" },
		{ "tab\tnl\ncr\r", "tab?nl?cr?" },
		{ "del\x7f", "del?" },
		{ "caf\xc3\xa9 L1\xe2\x80\x93L2", "caf\xc3\xa9 L1\xe2\x80\x93L2" }, /* é, en dash kept */
		{ "c1 \xc2\x9b""2J", "c1 ??2J" },   /* C1 CSI (U+009B) is two bytes: each '?' */
		{ "bad \xff utf8", "bad ? utf8" },
		{ "overlong \xc0\xaf", "overlong ??" },
		{ "truncated \xe2\x80", "truncated ??" },
		{ "bidi \xe2\x80\xae""x", "bidi ???x" }, /* U+202E right-to-left override */
		{ "surrogate \xed\xa0\x80", "surrogate ???" },
	};
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		util_sanitize(buf, sizeof(buf), cases[i].in);
		if (strcmp(buf, cases[i].out) != 0)
			fail_msg("case %zu: got '%s' want '%s'", i, buf, cases[i].out);
	}
	/* Truncation never cuts a UTF-8 character in half. */
	util_sanitize(buf, 5, "ab\xc3\xa9\xc3\xa9");
	assert_string_equal(buf, "ab\xc3\xa9");
	util_sanitize(buf, 4, "ab\xc3\xa9");
	assert_string_equal(buf, "ab");
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		int ok;
		int64_t ms;
	} cases[] = {
		{ "10", 1, 10000 },  { "10s", 1, 10000 }, { "250ms", 1, 250 },
		{ "5m", 1, 300000 }, { "2h", 1, 7200000 }, { "30d", 1, 2592000000LL },
		{ "1w", 1, 604800000 }, { "1.5s", 1, 1500 }, { "0", 1, 0 },
		{ " 3 s", 1, 3000 }, { "", 0, 0 }, { "s", 0, 0 }, { "10x", 0, 0 },
		{ "-5s", 0, 0 },     { "nan", 0, 0 }, { "1e400", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -1;
		int rc = util_parse_duration_ms(cases[i].in, &ms);
		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': rc %d", cases[i].in, rc);
		if (cases[i].ok && ms != cases[i].ms)
			fail_msg("'%s': %lld ms, want %lld", cases[i].in, (long long)ms,
				 (long long)cases[i].ms);
	}
}

static void test_power(void **state)
{
	static const struct {
		const char *in;
		int ok;
		double w;
	} cases[] = {
		{ "50kW", 1, 50000 }, { "50 kW", 1, 50000 }, { "1.2MW", 1, 1.2e6 },
		{ "800W", 1, 800 },   { "800", 1, 800 },     { "50kw", 1, 50000 },
		{ "50kVA", 0, 0 },    { "kW", 0, 0 },        { "", 0, 0 },
		{ "50 k", 0, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double w = -1;
		int rc = util_parse_power_w(cases[i].in, &w);
		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': rc %d", cases[i].in, rc);
		if (cases[i].ok && fabs(w - cases[i].w) > 1e-9)
			fail_msg("'%s': %g W, want %g", cases[i].in, w, cases[i].w);
	}
}

static void test_time(void **state)
{
	const int64_t now = 1795353600000000LL; /* 2026-11-22T13:20:00Z */
	const int64_t h14 = 1795356000000000LL; /* 2026-11-22T14:00:00Z */
	const struct {
		const char *in;
		int ok;
		int64_t us;
	} cases[] = {
		{ "2026-11-22T14:00:00Z", 1, h14 },
		{ "2026-11-22T14:00:00.123Z", 1, h14 + 123000 },
		{ "2026-11-22T15:00:00+01:00", 1, h14 },
		{ "2026-11-22T12:30:00-0130", 1, h14 },
		/* local time: the test runs with TZ=UTC */
		{ "2026-11-22 14:00", 1, h14 },
		{ "2026-11-22T14:00:00", 1, h14 },
		{ "2026-11-22", 1, 1795305600000000LL },
		{ "-2h", 1, now - 7200000000LL },
		{ "-30m", 1, now - 1800000000LL },
		{ "-7d", 1, now - 604800000000LL },
		{ "now", 1, now },
		{ "2026-13-01", 0, 0 },
		{ "2026-11-22T25:00", 0, 0 },
		{ "today", 1, 1795305600000000LL },     /* 2026-11-22T00:00:00Z */
		{ "yesterday", 1, 1795219200000000LL }, /* 2026-11-21T00:00:00Z */
		{ "Today", 0, 0 },
		{ "tomorrow", 0, 0 },
		{ "2026-11-22T14:00:00Zjunk", 0, 0 },
		{ "-2x", 0, 0 },
		/* fuzz_time (tests/fuzz): relative times past int64 microseconds
		 * were a signed overflow (undefined), now refused */
		{ "+777777777777774", 0, 0 },
		{ "-9000000000000000", 0, 0 },
		{ "+100000000w", 0, 0 },
		{ "+1000w", 1, now + 604800000000000LL },
	};
	size_t i;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t us = -1;
		int rc = util_parse_time(cases[i].in, now, &us);
		if ((rc == 0) != cases[i].ok)
			fail_msg("'%s': rc %d", cases[i].in, rc);
		if (cases[i].ok && us != cases[i].us)
			fail_msg("'%s': %lld, want %lld", cases[i].in, (long long)us,
				 (long long)cases[i].us);
	}
	/* In Paris, local 15:00 in November is 14:00Z. */
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	{
		int64_t us;
		assert_int_equal(util_parse_time("2026-11-22 15:00", now, &us), 0);
		assert_true(us == h14);
		/* local midnight: 2026-11-22 00:00 CET is 2026-11-21T23:00Z */
		assert_int_equal(util_parse_time("today", now, &us), 0);
		assert_true(us == 1795302000000000LL);
		/* the day after the spring change (2026-03-29, 23 h): today is
		 * 2026-03-30 00:00 CEST (22:00Z the day before), yesterday
		 * 2026-03-29 00:00 CET (23:00Z the day before that) */
		assert_int_equal(util_parse_time("today", 1774872000000000LL, &us), 0);
		assert_true(us == 1774821600000000LL);
		assert_int_equal(util_parse_time("yesterday", 1774872000000000LL, &us), 0);
		assert_true(us == 1774738800000000LL);
	}
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_format_time(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(util_format_time_ms(1795356185123456LL, buf, sizeof(buf)),
			    "2026-11-22T14:03:05.123Z");
	assert_string_equal(util_format_time_ms(0, buf, sizeof(buf)), "1970-01-01T00:00:00.000Z");
	/* Before the epoch the milliseconds still count forward. */
	assert_string_equal(util_format_time_ms(-1000, buf, sizeof(buf)),
			    "1969-12-31T23:59:59.999Z");
}

static void test_closest(void **state)
{
	static const char *const keys[] = { "poll_ms", "port", "profile", "host", "unit",
					    "timeout_ms", NULL };

	(void)state;
	assert_string_equal(util_closest("pol_ms", keys), "poll_ms");
	assert_string_equal(util_closest("prot", keys), "port");
	assert_string_equal(util_closest("PROFILE", keys), "profile");
	assert_string_equal(util_closest("timeout", keys), "timeout_ms");
	assert_null(util_closest("colour", keys));
	assert_null(util_closest("x", keys));
	assert_int_equal(util_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(util_edit_distance("", "abc"), 3);
}

static void test_numbers(void **state)
{
	long v;
	double d;

	(void)state;
	assert_int_equal(util_parse_long("502", 1, 65535, &v), 0);
	assert_int_equal(v, 502);
	assert_int_equal(util_parse_long("0x10", 0, 100, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(util_parse_long("70000", 1, 65535, &v), -1);
	assert_int_equal(util_parse_long("12abc", 0, 100, &v), -1);
	assert_int_equal(util_parse_long("", 0, 100, &v), -1);
	assert_int_equal(util_parse_long(" 5", 0, 100, &v), -1);
	assert_int_equal(util_parse_double("230.5", &d), 0);
	assert_true(d == 230.5);
	assert_int_equal(util_parse_double("1e999", &d), -1);
	assert_int_equal(util_parse_double("1.5V", &d), -1);
}

static void test_trim_strlcpy(void **state)
{
	char s[] = "  padded value \t";
	char small[4];

	(void)state;
	assert_string_equal(util_trim(s), "padded value");
	assert_int_equal(util_strlcpy(small, "abcdef", sizeof(small)), 6);
	assert_string_equal(small, "abc");
}

static void test_mkdir_parent(void **state)
{
	char dir[] = "/tmp/phasor-test-util.XXXXXX";
	char path[256], file[256];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/c/buffer.db", dir);
	assert_int_equal(util_mkdir_parent(path), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Never others' (0770 less the umask), whatever the umask. */
	{
		mode_t old = umask(0);

		snprintf(path, sizeof(path), "%s/open/d/buffer.db", dir);
		assert_int_equal(util_mkdir_parent(path), 0);
		umask(old);
		snprintf(path, sizeof(path), "%s/open/d", dir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0770);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/open", dir);
		rmdir(path);
	}
	/* Again: existing directories are fine. */
	snprintf(path, sizeof(path), "%s/a/b/c/buffer.db", dir);
	assert_int_equal(util_mkdir_parent(path), 0);
	/* A file in the way: fails with the error of that level. */
	snprintf(file, sizeof(file), "%s/plain", dir);
	f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/plain/x/y.db", dir);
	errno = 0;
	assert_int_equal(util_mkdir_parent(path), -1);
	assert_int_equal(errno, ENOTDIR);
	unlink(file);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	rmdir(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_ascii_case(void **state)
{
	char dir[] = "/tmp/phasor-loc.XXXXXX", cmd[256];
	const char *old;

	(void)state;
	assert_int_equal(util_strcasecmp("INFO", "info"), 0);
	assert_int_equal(util_strcasecmp("kW", "KW"), 0);
	assert_true(util_strcasecmp("a", "b") < 0);
	assert_true(util_strcasecmp("b", "A") > 0);
	assert_true(util_strcasecmp("ab", "AB1") < 0);
	assert_int_equal(util_strncasecmp("PRESS-1", "press-2", 6), 0);
	assert_true(util_strncasecmp("PRESS-1", "press-2", 7) < 0);
	assert_int_equal(util_tolower('I'), 'i');
	assert_int_equal(util_tolower(0xc4), 0xc4); /* not ASCII: left alone */
	/* Under a Turkish locale the C library folds 'I' otherwise; ours does not. */
	if (system("command -v localedef >/dev/null 2>&1") != 0 || mkdtemp(dir) == NULL)
		skip();
	snprintf(cmd, sizeof(cmd), "localedef -i tr_TR -f UTF-8 %s/tr_TR.UTF-8 >/dev/null 2>&1", dir);
	if (system(cmd) != 0)
		skip();
	old = getenv("LOCPATH");
	setenv("LOCPATH", dir, 1);
	if (setlocale(LC_CTYPE, "tr_TR.UTF-8") != NULL) {
		/* glibc's strcasecmp("INFO", "info") is not 0 here (ASan's
		 * interceptor folds ASCII itself, so it is not asserted). */
		assert_int_equal(util_strcasecmp("INFO", "info"), 0);
		assert_int_equal(util_strcasecmp("WHITE", "white"), 0);
		setlocale(LC_CTYPE, "C");
	}
	if (old != NULL)
		setenv("LOCPATH", old, 1);
	else
		unsetenv("LOCPATH");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize),    cmocka_unit_test(test_duration),
		cmocka_unit_test(test_power),       cmocka_unit_test(test_time),
		cmocka_unit_test(test_format_time), cmocka_unit_test(test_closest),
		cmocka_unit_test(test_numbers),     cmocka_unit_test(test_trim_strlcpy),
		cmocka_unit_test(test_mkdir_parent), cmocka_unit_test(test_ascii_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
