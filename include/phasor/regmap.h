/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_REGMAP_H
#define PHASOR_REGMAP_H
/*
 * regmap: pure functions between Modbus registers and values.
 *
 * - decode/encode of every register type in every word order;
 * - the read plan: a profile's values coalesced into as few requests as the
 *   device's maximum registers per request allows, never splitting a value
 *   and never spanning more unmapped registers than the profile allows.
 *
 * No I/O here; source_modbus.c and the simulator use it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/profile.h"
#include "phasor/qty.h"

/*
 * Assemble the raw bits of a value of type t stored in words (1, 2 or 4
 * registers as libmodbus returns them: host-order uint16) in order o.
 * The result is the value's big-endian bit pattern, right-aligned: for
 * float32 the IEEE bits in the low 32 bits, for int16 the low 16 bits.
 */
uint64_t regmap_raw(const uint16_t *words, enum reg_type t, enum word_order o);

/* The numeric value of raw bits of type t (sign-extended, IEEE, ...). */
double regmap_raw_value(uint64_t raw, enum reg_type t);

/*
 * Decode a register value into a sample value: raw * scale. Quality is bad
 * when the raw bits equal one of the register's sentinels, when the value is
 * NaN or infinite, or when it is outside the quantity's plausible range. The
 * value is kept as read in every case (NaN stays NaN). Returns the quality.
 */
enum quality regmap_decode(const struct profile_reg *r, const uint16_t *words, double *value);

/*
 * Encode value (already in the register's units, i.e. divided by scale by
 * the caller) as type t in order o into words. Integers are rounded to
 * nearest and saturated. Used by the simulator and the tests.
 */
void regmap_encode(double raw_value, enum reg_type t, enum word_order o, uint16_t *words);

/* One request of a plan. */
struct regmap_read {
	uint8_t function;   /* 3 or 4 */
	uint16_t address;   /* first register */
	uint16_t count;     /* registers, <= max_registers */
	size_t first;       /* index into plan.order of its first value */
	size_t nvalues;     /* values it covers: order[first .. first+nvalues) */
};

struct regmap_plan {
	struct regmap_read *reads;  /* owned */
	size_t nreads;
	size_t *order;              /* owned: indices into the profile's regs, grouped by read */
	size_t norder;
	/* owned, parallel to order: each value's first register and width, so
	 * regmap_plan_split() works without the profile */
	uint16_t *addr;
	uint8_t *words;
};

/*
 * Plan the reads of regs[0..n) for a device accepting at most max_regs
 * registers per request and tolerating reads across at most max_gap
 * unmapped registers (0: only adjacent values share a read). Values of
 * different function codes never share a read. The greedy grouping over
 * values sorted by (function, address) gives the minimum number of reads.
 * 0 on success, -1 when a single value is wider than max_regs.
 * Free with regmap_plan_free().
 */
int regmap_plan(const struct profile_reg *regs, size_t n, int max_regs, int max_gap,
		struct regmap_plan *out);

/*
 * Split read i of the plan into one read per value (after the device
 * rejected a coalesced read with "illegal data address": the span crossed a
 * hole the device does not serve). Returns 0, or -1 when read i already
 * covers a single value.
 */
int regmap_plan_split(struct regmap_plan *plan, size_t i);

void regmap_plan_free(struct regmap_plan *plan);

#endif
