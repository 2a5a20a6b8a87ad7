// SPDX-License-Identifier: MIT
/*
 * Unit tests of csv: splitting a line (plain, quoted, doubled quotes, empty
 * fields, more fields than asked for, bad quoting) and the round-trip
 * doubles.
 */
#include <float.h>
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


/* One value: the fast conversion writes what the reference writes. */
static void same(double v)
{
	char a[40], b[40];

	csv_double(v, a, sizeof(a));
	csv_double_ref(v, b, sizeof(b));
	if (strcmp(a, b) != 0)
		fail_msg("%a: csv_double '%s', the reference '%s'", v, a, b);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * csv_double against csv_double_ref on 1.7 million values: random bit
 * patterns, values that came through float32 (the meters' registers),
 * decimals of 1 to 6 places (230.1, 0.95: the 15-digit ones), integers,
 * the neighbours of powers of two and ten (uneven rounding intervals, digit
 * carries), the ends of the fast path's exponents, subnormals, zero, both
 * signs.
 */
static void test_double_fast(void **state)
{
	static const double p10[7] = { 1, 10, 100, 1000, 1e4, 1e5, 1e6 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	double v;

	(void)state;
	for (int i = 0; i < 400000; i++) {
		uint64_t b = rnd(&seed);
		float f;
		uint32_t fb = (uint32_t)rnd(&seed);

		memcpy(&v, &b, sizeof(v));
		same(v);
		memcpy(&f, &fb, sizeof(f));
		same((double)f);
		same((double)(int64_t)(rnd(&seed) % 100000000000ULL) / p10[1 + rnd(&seed) % 6]);
		same((double)(float)(230.0 + (double)(rnd(&seed) % 2000000) / 1e4));
	}
	for (int e = -1074; e <= 1023; e++)
		for (int d = -3; d <= 3; d++) {
			v = ldexp(1.0, e);
			for (int k = 0; k < (d < 0 ? -d : d); k++)
				v = nextafter(v, d < 0 ? 0 : INFINITY);
			same(v);
			same(-v);
		}
	for (int e = -320; e <= 308; e++) {
		v = pow(10, e);
		same(v);
		same(nextafter(v, 0));
		same(nextafter(v, INFINITY));
		same(9.999999999999999 * v);
	}
	for (int64_t n = 0; n < 100000; n++)
		same((double)n * 0.001);
	same(0.0);
	same(-0.0);
	same(DBL_MAX);
	same(DBL_MIN);
	same(5e-324);
	same(0.1 + 0.2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_double),
		cmocka_unit_test(test_double_fast),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
