/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_SOURCE_MODBUS_H
#define PHASOR_SOURCE_MODBUS_H
/*
 * source_modbus: the Modbus TCP source (source_modbus_ops, in source.h).
 * What is here is its pure scheduling decisions, public for the tests.
 */
#include <stdint.h>

/*
 * The delay before a demoted unit's next probe, in milliseconds, after
 * probes_failed failed probes in a row since it was demoted (0: the first
 * probe): 1 s doubled at each failure, at most 30 s, then +-20 % jitter
 * drawn from *rng (rand_r state, updated). Never fails.
 */
int64_t source_modbus_probe_delay_ms(unsigned probes_failed, unsigned *rng);

#endif
