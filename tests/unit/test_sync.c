// SPDX-License-Identifier: MIT
/*
 * test_sync: the parts of the sync that need no server: bisection of a
 * refused batch (which rows are committed, which quarantined, in what
 * order, at what cost), partition names and ranges, the libpq parameters
 * built from the configuration, COPY text escaping and number forms, the
 * classification of SQLSTATEs, what a central high-water mark says about
 * the buffer, sizes.
 */
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "phasor/sync.h"
#include "phasor/util.h"

/* ---- bisection ---- */

#define NROWS 64

struct fake {
	bool bad[NROWS];          /* rows the server refuses */
	int fail_other_at;        /* try number that fails for another reason; -1 */
	int committed[NROWS];     /* times each row was committed */
	int quarantined[NROWS];
	size_t order[NROWS * 2];  /* committed or quarantined rows, in order */
	size_t norder;
	int tries;
};

static int fake_try(void *ctx, size_t off, size_t n, char *err, size_t errsz)
{
	struct fake *f = ctx;
	size_t i;

	if (f->tries++ == f->fail_other_at)
		return -1;
	for (i = off; i < off + n; i++)
		if (f->bad[i]) {
			snprintf(err, errsz, "row %zu refused", i);
			return 1;
		}
	for (i = off; i < off + n; i++) {
		f->committed[i]++;
		f->order[f->norder++] = i;
	}
	return 0;
}

static int fake_bad(void *ctx, size_t off, const char *err)
{
	struct fake *f = ctx;
	char want[32];

	snprintf(want, sizeof(want), "row %zu refused", off);
	assert_string_equal(err, want);
	f->quarantined[off]++;
	f->order[f->norder++] = off;
	return 0;
}

static void test_bisect(void **state)
{
	static const struct {
		size_t n;
		int bad[4];               /* -1 terminated */
		int max_tries;            /* bound: 1 + 2 * k * log2(n) */
	} cases[] = {
		{ 64, { -1 }, 1 },
		{ 64, { 0, -1 }, 13 },
		{ 64, { 63, -1 }, 13 },
		{ 64, { 17, 40, -1 }, 25 },
		{ 64, { 0, 1, 2, 3 }, 49 },
		{ 1, { 0, -1 }, 1 },
		{ 1, { -1 }, 1 },
		{ 37, { 36, -1 }, 13 },
	};
	size_t c, i;

	(void)state;
	for (c = 0; c < UTIL_ARRAY_LEN(cases); c++) {
		struct fake f = { .fail_other_at = -1 };
		size_t done = 99;
		int k;

		for (k = 0; k < 4 && cases[c].bad[k] >= 0; k++)
			f.bad[cases[c].bad[k]] = true;
		assert_int_equal(sync_bisect(cases[c].n, fake_try, fake_bad, &f, &done), 0);
		assert_int_equal(done, cases[c].n);
		/* Every row exactly once: committed, or quarantined if bad. */
		for (i = 0; i < cases[c].n; i++) {
			assert_int_equal(f.committed[i], f.bad[i] ? 0 : 1);
			assert_int_equal(f.quarantined[i], f.bad[i] ? 1 : 0);
		}
		/* In row order: what is handled is always a prefix (the
		 * watermark only moves forward). */
		assert_int_equal(f.norder, cases[c].n);
		for (i = 0; i < f.norder; i++)
			assert_int_equal(f.order[i], i);
		assert_true(f.tries <= cases[c].max_tries);
	}
}

/* Another failure (connection lost) stops at once; done says how far. */
static void test_bisect_other_failure(void **state)
{
	struct fake f = { .fail_other_at = 3 };
	size_t done = 99, i;

	(void)state;
	f.bad[40] = true;
	/* tries: [0,64) refused, [0,32) ok, [32,64) refused, [32,48) fails */
	assert_int_equal(sync_bisect(64, fake_try, fake_bad, &f, &done), -1);
	assert_int_equal(done, 32);
	for (i = 0; i < 64; i++)
		assert_int_equal(f.committed[i], i < 32 ? 1 : 0);
	for (i = 0; i < 64; i++)
		assert_int_equal(f.quarantined[i], 0);

	memset(&f, 0, sizeof(f));
	f.fail_other_at = 0;
	assert_int_equal(sync_bisect(10, fake_try, fake_bad, &f, &done), -1);
	assert_int_equal(done, 0);
	assert_int_equal(sync_bisect(0, fake_try, fake_bad, &f, &done), 0);
	assert_int_equal(done, 0);
}

/* ---- partitions ---- */

static void test_partitions(void **state)
{
	static const struct {
		int64_t t_us;
		const char *name;
		int64_t lo;
	} cases[] = {
		{ 1795356185123456LL, "samples_20261122", 1795305600000000LL },
		{ 1795305600000000LL, "samples_20261122", 1795305600000000LL }, /* midnight: this day */
		{ 1795305599999999LL, "samples_20261121", 1795219200000000LL }, /* 1 us before */
		{ 946684800000000LL, "samples_20000101", 946684800000000LL },
		{ 951782400000000LL, "samples_20000229", 951782400000000LL },   /* leap day */
		{ -1LL, "samples_19691231", -86400000000LL },                 /* before the epoch */
	};
	size_t i;
	char name[32];

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		int64_t lo, hi;

		sync_partition_name(cases[i].t_us, name, sizeof(name));
		assert_string_equal(name, cases[i].name);
		sync_partition_range(cases[i].t_us, &lo, &hi);
		assert_true(lo == cases[i].lo);
		assert_true(hi == lo + 86400000000LL);
		assert_true(lo <= cases[i].t_us && cases[i].t_us < hi);
	}
	{
		int64_t now = 1795356185123456LL; /* 2026-11-22 14:03 */

		assert_true(sync_partition_allowed(now, now));
		assert_true(sync_partition_allowed(946684800000000LL, now));
		assert_false(sync_partition_allowed(946684799999999LL, now));
		/* Up to the end of the day after tomorrow. */
		assert_true(sync_partition_allowed(1795305600000000LL + 3 * 86400000000LL - 1, now));
		assert_false(sync_partition_allowed(1795305600000000LL + 3 * 86400000000LL, now));
		assert_false(sync_partition_allowed(7258118400000000LL, now)); /* 2200 */
	}
}

/* ---- connection parameters ---- */

static const char *param(const char **k, const char **v, const char *key)
{
	const char *found = NULL;
	size_t i;

	for (i = 0; k[i] != NULL; i++)
		if (strcmp(k[i], key) == 0)
			found = v[i];
	return found;
}

static void test_conn_params(void **state)
{
	const char **k, **v;
	char *cause = NULL;

	(void)state;
	assert_int_equal(sync_conn_params("host=db.plant port=5432 dbname=energy user=phasor"
					  " sslmode=require",
					  "pw", NULL, &k, &v, &cause),
			 0);
	/* The conninfo is expanded by libpq from dbname (first), the password
	 * after it wins over one in the conninfo. */
	assert_string_equal(k[0], "dbname");
	assert_string_equal(v[0], "host=db.plant port=5432 dbname=energy user=phasor sslmode=require");
	assert_string_equal(param(k, v, "password"), "pw");
	assert_string_equal(param(k, v, "connect_timeout"), "10");
	assert_string_equal(param(k, v, "keepalives"), "1");
	assert_string_equal(param(k, v, "tcp_user_timeout"), "30000");
	assert_string_equal(param(k, v, "application_name"), "phasor-sync");
	assert_string_equal(param(k, v, "client_encoding"), "UTF8");
	assert_null(param(k, v, "sslmode")); /* from the conninfo, untouched */
	sync_params_free(k, v);

	/* What the conninfo sets is not overridden; no password: libpq's own
	 * (PGPASSWORD, ~/.pgpass). */
	assert_int_equal(sync_conn_params("postgresql://phasor@db:5433/energy?connect_timeout=3"
					  "&application_name=plant",
					  NULL, NULL, &k, &v, &cause),
			 0);
	assert_null(param(k, v, "password"));
	assert_null(param(k, v, "connect_timeout"));
	assert_null(param(k, v, "application_name"));
	assert_string_equal(param(k, v, "keepalives_idle"), "10");
	sync_params_free(k, v);

	assert_int_equal(sync_conn_params("host=db port", NULL, NULL, &k, &v, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "[sync] postgres: "));
	free(cause);
	cause = NULL;
	assert_int_equal(sync_conn_params("hots=db", NULL, NULL, &k, &v, &cause), -1);
	assert_non_null(strstr(cause, "hots"));
	free(cause);
	cause = NULL;

	/* [sync] ca_file: sslrootcert, and verify-full unless the conninfo
	 * chose a mode that still checks the server against it. */
	assert_int_equal(sync_conn_params("host=db.plant dbname=energy", NULL, "/etc/phasor/db-ca.pem",
					  &k, &v, &cause),
			 0);
	assert_string_equal(param(k, v, "sslrootcert"), "/etc/phasor/db-ca.pem");
	assert_string_equal(param(k, v, "sslmode"), "verify-full");
	sync_params_free(k, v);
	assert_int_equal(sync_conn_params("host=db.plant sslmode=require", NULL, "/ca.pem", &k, &v,
					  &cause),
			 0);
	assert_string_equal(param(k, v, "sslrootcert"), "/ca.pem");
	assert_null(param(k, v, "sslmode")); /* the conninfo's require (verify-ca) */
	sync_params_free(k, v);
	assert_int_equal(sync_conn_params("host=db sslmode=prefer", NULL, "/ca.pem", &k, &v, &cause),
			 -1);
	assert_string_equal(cause, "[sync] ca_file is set but postgres says sslmode=prefer, which "
				   "may not check the server against it; use verify-full");
	free(cause);
	cause = NULL;
	assert_int_equal(sync_conn_params("host=db sslrootcert=/a.pem", NULL, "/ca.pem", &k, &v,
					  &cause),
			 -1);
	assert_string_equal(cause, "[sync] ca_file and sslrootcert in [sync] postgres name two CA "
				   "files; keep one");
	free(cause);
}

/* ---- COPY text ---- */

static void test_copy_text(void **state)
{
	static const struct {
		const char *in, *out;
	} fields[] = {
		{ "tgbt-1", "tgbt-1" },
		{ "a\tb", "a\\tb" },
		{ "line\nnext\r", "line\\nnext\\r" },
		{ "back\\slash", "back\\\\slash" },
		{ "hall 2, \"north\"", "hall 2, \"north\"" },
		{ "\xc3\xa9t\xc3\xa9", "\xc3\xa9t\xc3\xa9" },
		{ "", "" },
		{ NULL, "\\N" },
	};
	static const struct {
		double v;
		const char *out;
	} nums[] = {
		{ 231.5, "231.5" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ -0.0, "-0" },
		{ 1e-300, "1e-300" },
		{ 4.9e-324, "4.94065645841247e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 1e15, "1e+15" },
	};
	struct sync_buf b = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(fields); i++) {
		b.len = 0;
		sync_buf_field(&b, fields[i].in);
		assert_string_equal(b.p, fields[i].out);
		assert_int_equal(b.len, strlen(fields[i].out));
	}
	for (i = 0; i < UTIL_ARRAY_LEN(nums); i++) {
		b.len = 0;
		sync_buf_double(&b, nums[i].v);
		assert_string_equal(b.p, nums[i].out);
		/* Reads back as the same double, bit for bit. */
		assert_memory_equal(&(double){ strtod(b.p, NULL) }, &nums[i].v, sizeof(double));
	}
	b.len = 0;
	sync_buf_double(&b, NAN);
	assert_string_equal(b.p, "\\N");
	b.len = 0;
	sync_buf_double(&b, INFINITY);
	assert_string_equal(b.p, "Infinity");
	b.len = 0;
	sync_buf_double(&b, -INFINITY);
	assert_string_equal(b.p, "-Infinity");
	/* Growth: many appends keep everything. */
	b.len = 0;
	for (i = 0; i < 10000; i++)
		sync_buf_str(&b, "0123456789");
	assert_int_equal(b.len, 100000);
	assert_int_equal(strlen(b.p), 100000);
	free(b.p);
}

/* ---- SQLSTATE classes, sizes, names ---- */

/* Under a decimal-comma LC_NUMERIC the COPY text keeps '.' (skipped where
 * no such locale is installed). The thread's locale (uselocale), not
 * setlocale: glibc keeps a little of a setlocale for good (LSan). */
static void test_copy_double_locale(void **state)
{
	static const char *const names[] = { "de_DE.UTF-8", "fr_FR.UTF-8", "de_DE.utf8",
					     "fr_FR.utf8" };
	struct sync_buf b = { 0 };
	locale_t loc = (locale_t)0, old;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && loc == (locale_t)0; i++)
		loc = newlocale(LC_NUMERIC_MASK, names[i], (locale_t)0);
	if (loc == (locale_t)0)
		skip();
	old = uselocale(loc);
	sync_buf_double(&b, 1.5);
	sync_buf_str(&b, " ");
	sync_buf_double(&b, -0.1);
	uselocale(old);
	freelocale(loc);
	assert_string_equal(b.p, "1.5 -0.1");
	free(b.p);
}

static void test_data_errors(void **state)
{
	static const struct {
		const char *state;
		bool data;
	} cases[] = {
		{ "23514", true },  /* no partition / check violation */
		{ "23502", true },  /* not null */
		{ "22021", true },  /* invalid byte sequence */
		{ "22003", true },  /* numeric out of range */
		{ "08006", false }, /* connection failure */
		{ "57P01", false }, /* admin shutdown */
		{ "57014", false }, /* statement timeout */
		{ "42501", false }, /* permission denied */
		{ "40001", false }, /* serialization */
		{ "53100", false }, /* disk full */
		{ "", false },
		{ "23", false },
		{ NULL, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++)
		assert_int_equal(sync_is_data_error(cases[i].state), cases[i].data);
	assert_string_equal(sync_state_name(SYNC_UP), "ok");
	assert_string_equal(sync_state_name(SYNC_DOWN), "down");
	assert_string_equal(sync_state_name(SYNC_CONNECTING), "connecting");
	assert_string_equal(sync_state_name(SYNC_IDLE), "idle");
}

/* A central high-water mark is never adopted; what it says about the buffer. */
static void test_central_check(void **state)
{
	static const struct {
		int64_t central, wm, last;
		enum sync_central want;
	} cases[] = {
		{ 0, 0, 0, SYNC_CENTRAL_OK },
		{ 100, 100, 200, SYNC_CENTRAL_OK },          /* in step */
		{ 50, 100, 200, SYNC_CENTRAL_BEHIND },       /* the server lost rows (failover) */
		{ 0, 100, 200, SYNC_CENTRAL_BEHIND },        /* ... all of them */
		{ 150, 100, 200, SYNC_CENTRAL_RESEND },      /* stop between the commits */
		{ 200, 100, 200, SYNC_CENTRAL_RESEND },
		{ 201, 100, 200, SYNC_CENTRAL_FOREIGN },     /* restored from a backup */
		{ 7236, 0, 3600, SYNC_CENTRAL_FOREIGN },     /* review D3 */
		{ 9000000000000000000LL, 3600, 7272, SYNC_CENTRAL_FOREIGN }, /* review D2 */
		{ -1, 0, 0, SYNC_CENTRAL_OK },               /* never read (--status) */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sync_central_check(cases[i].central, cases[i].wm, cases[i].last),
				 cases[i].want);
}

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint64_t v;
	} cases[] = {
		{ "2GB", 0, 2000000000ULL },   { "2 GB", 0, 2000000000ULL },
		{ "2gib", 0, 2147483648ULL },  { "500MB", 0, 500000000ULL },
		{ "1.5GiB", 0, 1610612736ULL }, { "4096", 0, 4096 },
		{ "10k", 0, 10000 },           { "1TB", 0, 1000000000000ULL },
		{ "", -1, 0 },                 { "GB", -1, 0 },
		{ "2 XB", -1, 0 },             { "-2GB", -1, 0 },
		{ "2GB x", -1, 0 },            { "1.2.3MB", -1, 0 },
		{ "99999999TB", -1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		uint64_t v = 12345;

		assert_int_equal(util_parse_size(cases[i].s, &v), cases[i].rc);
		if (cases[i].rc == 0)
			assert_true(v == cases[i].v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bisect),
		cmocka_unit_test(test_bisect_other_failure),
		cmocka_unit_test(test_partitions),
		cmocka_unit_test(test_conn_params),
		cmocka_unit_test(test_copy_text),
		cmocka_unit_test(test_copy_double_locale),
		cmocka_unit_test(test_data_errors),
		cmocka_unit_test(test_central_check),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
