/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_UTILITY_H
#define PHASOR_UTILITY_H
/*
 * utility: what a meter measures (electricity, gas, water, compressed air,
 * heat), the units profiles may read values in and their conversion to the
 * contract's (m3, m3/h, bar, degC, Wh, W ...), pulse values ("10 l") and
 * calorific values ("10.5 kWh/m3"), and the gas energy derived from a gas
 * meter's volume counter. Pure functions; docs/profiles.md ("Units") and
 * docs/configuration.md ("Utility meters") describe the rules.
 */
#include <stdbool.h>
#include <stddef.h>
#include "phasor/qty.h"

enum utility {
	UTILITY_ELECTRICITY, UTILITY_GAS, UTILITY_WATER, UTILITY_AIR, UTILITY_HEAT,
	UTILITY__COUNT
};

/* "electricity", "gas", ...; "?" out of range. */
const char *utility_name(enum utility u);
/* The enum of a name, or -1. */
int utility_parse(const char *s);
/* The names, NULL-ended (for did-you-mean). */
const char *const *utility_names(void);
/* Volume utilities (gas, water, air) count m3; the others energy. */
bool utility_counts_volume(enum utility u);

/*
 * A unit a device reports quantity qty in: the contract value is
 * device value x *factor + *offset. 0; -1 when the unit is unknown; -2 when
 * it is known but not one for qty (its contract unit differs).
 */
int utility_unit(const char *unit, unsigned qty, double *factor, double *offset);
/* The units accepted for qty, "l/min, m3/h, ..." (static), "" when none
 * but its own. */
const char *utility_units_for(unsigned qty);

/*
 * A pulse value as configured: a positive number and a unit, "10 l",
 * "0.01 m3", "1 kWh", "500 Wh" (a blank between them is optional). Sets *qty
 * (QTY_VOLUME or QTY_E_IMP) and *si the contract units per pulse (m3 or
 * Wh). 0, or -1 with a message in why.
 */
int utility_parse_pulse(const char *s, unsigned *qty, double *si, char *why, size_t why_size);

/*
 * A calorific value: a number in kWh/m3 ("10.5", "10.5 kWh/m3") or MJ/m3
 * ("37.8 MJ/m3"), 0.1 .. 100 kWh/m3. 0 with *kwh_per_m3, or -1 with why.
 */
int utility_parse_calorific(const char *s, double *kwh_per_m3, char *why, size_t why_size);

/*
 * Gas energy: for each volume sample of in[0..n) whose meter has a
 * calorific value (cv_kwh[meter] > 0, NaN or 0: none; meters beyond
 * nmeters: none), an e_imp sample (Wh = m3 x kWh/m3 x 1000) with the same
 * time and quality is written to out (at most max). Returns how many.
 */
size_t utility_derive_energy(const struct sample *in, size_t n, const double *cv_kwh,
			     size_t nmeters, struct sample *out, size_t max);

/*
 * Counter wraps. An unsigned integer register of B bits read with scale s
 * holds a counter of span = 2^B x s (uint32 x 0.01 m3: 42,949,672.96 m3);
 * past its last value it starts again from 0. A drop from a near the top
 * of the span to b near 0, the two within UTILITY_WRAP_FRACTION of the span
 * together ((span - a) + b), is a wrap: the counter rose by b + span - a.
 * Any other drop of more than UTILITY_RESET_FRACTION of a is a reset (a
 * counter set back by maintenance, a meter replaced or restarted): nothing
 * is counted across it. Smaller drops are rounding.
 */
#define UTILITY_WRAP_FRACTION 0.01
#define UTILITY_RESET_FRACTION 1e-6
/* Is a -> b a wrap of a counter of span (> 0; 0: unknown, never)? */
bool utility_counter_wrapped(double a, double b, double span);
/* The rise of a counter from a to b: b - a; across a wrap b + span - a; 0
 * across a reset. span 0: unknown (no wraps). */
double utility_counter_rise(double a, double b, double span);

#endif
