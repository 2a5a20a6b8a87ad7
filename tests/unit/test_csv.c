// SPDX-License-Identifier: MIT
/*
 * Unit tests of csv: splitting a line (plain, quoted, doubled quotes, empty
 * fields, more fields than asked for, bad quoting) and the round-trip
 * doubles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/csv.h"

static void test_split(void **state)
{
	char line[128], *f[4];

	(void)state;
	strcpy(line, "2026-11-22T14:03:05.123Z,tgbt-1,p_total,1234.5,W,good");
	assert_int_equal(csv_split(line, f, 4), 6);
	assert_string_equal(f[0], "2026-11-22T14:03:05.123Z");
	assert_string_equal(f[3], "1234.5");
	strcpy(line, "a,\"b, \"\"c\"\"\",,\"\"");
	assert_int_equal(csv_split(line, f, 4), 4);
	assert_string_equal(f[0], "a");
	assert_string_equal(f[1], "b, \"c\"");
	assert_string_equal(f[2], "");
	assert_string_equal(f[3], "");
	strcpy(line, "");
	assert_int_equal(csv_split(line, f, 4), 1);
	assert_string_equal(f[0], "");
	strcpy(line, "a,\"open");
	assert_int_equal(csv_split(line, f, 4), -1);
	strcpy(line, "\"x\"y,z");
	assert_int_equal(csv_split(line, f, 4), -1);
}

static void test_double(void **state)
{
	char buf[40];

	(void)state;
	csv_double(0.1 + 0.2, buf, sizeof(buf));
	assert_true(strtod(buf, NULL) == 0.1 + 0.2);
	csv_double(84213.5, buf, sizeof(buf));
	assert_string_equal(buf, "84213.5");
	csv_double(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "nan");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_double),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
