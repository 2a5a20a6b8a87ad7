// SPDX-License-Identifier: MIT
/*
 * source_modbus: the probe schedule of a demoted unit (1 s doubling to
 * 30 s, +-20 % jitter), checked over many random states: the bounds of
 * every step, that the jitter spreads, and that it saturates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "phasor/source_modbus.h"

#define DRAWS 2000

/* The step before jitter after n failed probes: 1, 2, 4, 8, 16, 30, 30 ... s */
static int64_t step_ms(unsigned n)
{
	static const int64_t steps[] = { 1000, 2000, 4000, 8000, 16000 };

	return n < 5 ? steps[n] : 30000;
}

static void test_bounds(void **state)
{
	unsigned n, i, rng = 12345;

	(void)state;
	for (n = 0; n < 12; n++) {
		int64_t lo = step_ms(n) * 4 / 5, hi = step_ms(n) * 6 / 5;
		int64_t min = INT64_MAX, max = 0;

		for (i = 0; i < DRAWS; i++) {
			int64_t d = source_modbus_probe_delay_ms(n, &rng);

			assert_in_range(d, lo, hi);
			min = d < min ? d : min;
			max = d > max ? d : max;
		}
		/* spread over most of the +-20 % (2000 draws): no lockstep */
		assert_true(min < step_ms(n) * 17 / 20);
		assert_true(max > step_ms(n) * 23 / 20);
	}
}

static void test_saturates(void **state)
{
	unsigned rng = 7;

	(void)state;
	/* no overflow, no long loop, however many failures */
	assert_in_range(source_modbus_probe_delay_ms(31, &rng), 24000, 36000);
	assert_in_range(source_modbus_probe_delay_ms(64, &rng), 24000, 36000);
	assert_in_range(source_modbus_probe_delay_ms(UINT32_MAX, &rng), 24000, 36000);
}

static void test_state_advances(void **state)
{
	unsigned a = 99, b = 99, i, same = 0;

	(void)state;
	/* the same state gives the same draws; the state moves on */
	for (i = 0; i < 100; i++) {
		int64_t x = source_modbus_probe_delay_ms(0, &a);
		int64_t y = source_modbus_probe_delay_ms(0, &b);

		assert_int_equal(x, y);
		same += x == 1000;
	}
	assert_true(same < 100);
	assert_int_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_saturates),
		cmocka_unit_test(test_state_advances),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
