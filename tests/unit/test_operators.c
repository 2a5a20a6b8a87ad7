// SPDX-License-Identifier: MIT
/*
 * Unit tests of operators ([auth] operators): a file of people with
 * SHA-512 and yescrypt hashes made here with crypt(3); the right PIN of
 * each, a wrong one, an unknown name, a name that differs by case; every
 * bad line named with its line number (no colon, empty or overlong name,
 * not a hash, twice the same name); a file readable by everyone or
 * writable by its group refused; an empty file refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <crypt.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "phasor/diag.h"
#include "phasor/operators.h"
#include "support.h"

static char dir[] = "/tmp/phasor-test-operators-XXXXXX";

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static char *hash(const char *pin, const char *prefix)
{
	struct crypt_data cd;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	memset(&cd, 0, sizeof(cd));
	assert_non_null(crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)));
	return strdup(crypt_r(pin, salt, &cd));
}

static bool diag_has(const struct diag *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++)
		if (strstr(d->lines[i], text) != NULL)
			return true;
	return false;
}

static void test_verify(void **state)
{
	char *h6 = hash("1234", "$6$"), *hy = hash("778899", "$y$"), text[1024];
	struct operators *o;
	struct diag d;

	(void)state;
	snprintf(text, sizeof(text),
		 "# the shift leaders\n\nJane Doe:%s\n  R. Smith (shift B) : %s \n", h6, hy);
	diag_init(&d);
	o = operators_load(write_file("ok", text, 0640), &d);
	if (o == NULL)
		diag_print(&d, stderr);
	assert_non_null(o);
	assert_int_equal(d.n, 0);
	assert_int_equal(operators_count(o), 2);
	assert_int_equal(operators_verify(o, "Jane Doe", "1234"), 0);
	assert_int_equal(operators_verify(o, "R. Smith (shift B)", "778899"), 0);
	assert_int_equal(operators_verify(o, "Jane Doe", "1235"), -1);
	assert_int_equal(operators_verify(o, "Jane Doe", ""), -1);
	assert_int_equal(operators_verify(o, "jane doe", "1234"), -1);
	assert_int_equal(operators_verify(o, "Mallory", "1234"), -1);
	assert_int_equal(operators_verify(o, "R. Smith (shift B)", "1234"), -1);
	assert_int_equal(operators_verify(NULL, "Jane Doe", "1234"), -1);
	operators_free(o);
	free(h6);
	free(hy);
}

static void test_bad_lines(void **state)
{
	char *h = hash("1", "$6$"), text[2048], longname[80];
	struct diag d;

	(void)state;
	memset(longname, 'x', 64);
	longname[64] = '\0';
	snprintf(text, sizeof(text),
		 "Jane:%s\n"          /* 1 good */
		 "no colon here\n"    /* 2 */
		 ":%s\n"              /* 3 empty name */
		 "%s:%s\n"            /* 4 a name of 64 bytes */
		 "Bob:1234\n"         /* 5 a PIN in clear, not a hash */
		 "Eve:$9$nonsense\n"  /* 6 an unknown method */
		 "Jane:%s\n",         /* 7 twice */
		 h, h, longname, h, h);
	diag_init(&d);
	assert_null(operators_load(write_file("bad", text, 0600), &d));
	assert_int_equal(d.n, 6);
	assert_true(diag_has(&d, "/bad:2: expected NAME:HASH"));
	assert_true(diag_has(&d, "/bad:3: the name must be 1 to 63 bytes"));
	assert_true(diag_has(&d, "/bad:4: the name must be 1 to 63 bytes"));
	assert_true(diag_has(&d, "/bad:5: Bob: not a crypt(3) hash"));
	assert_true(diag_has(&d, "/bad:6: Eve: not a crypt(3) hash"));
	assert_true(diag_has(&d, "/bad:7: Jane: given twice"));
	diag_clear(&d);
	free(h);
}

static void test_modes(void **state)
{
	char *h = hash("1", "$6$"), text[256];
	struct diag d;

	(void)state;
	snprintf(text, sizeof(text), "Jane:%s\n", h);
	diag_init(&d);
	assert_null(operators_load(write_file("world", text, 0644), &d));
	assert_true(diag_has(&d, "readable by everyone (mode 644)"));
	diag_clear(&d);
	assert_null(operators_load(write_file("group-w", text, 0660), &d));
	assert_true(diag_has(&d, "writable by others than its owner (mode 660)"));
	diag_clear(&d);
	assert_null(operators_load(write_file("empty", "# nobody yet\n", 0600), &d));
	assert_true(diag_has(&d, "nobody in the file"));
	diag_clear(&d);
	assert_null(operators_load("/nonexistent/operators", &d));
	assert_true(diag_has(&d, "/nonexistent/operators: [auth] operators: cannot open: No such"));
	diag_clear(&d);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_modes),
	};

	if (test_tmpdir_make(dir) < 0)
		return 1;
	return test_tmpdir_done(dir, cmocka_run_group_tests(tests, NULL, NULL));
}
