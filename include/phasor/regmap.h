/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_REGMAP_H
#define PHASOR_REGMAP_H
/*
 * regmap: pure functions between Modbus registers and values.
 *
 * - decode/encode of every register type in every word order;
 * - the read plan: a profile's values coalesced into as few requests as the
 *   device's maximum registers per request allows, never splitting a value
 *   and never spanning more unmapped registers than the profile allows;
 * - the check of a reply's bytes against the request it answers.
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
 * v as a float32 register gives it: the double nearest the shortest
 * decimal (6 to 9 digits) that reads back as the same float32, so that
 * 0.8165658116340637 (a float widened to double) is stored, exported and
 * forwarded as 0.8165658. NaN, infinities and 0 unchanged.
 */
double regmap_float32_value(double v);
/* The same by snprintf and strtod (the tests compare the two). */
double regmap_float32_value_ref(double v);

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

/* What a Modbus TCP reply to a register read turned out to be. */
enum regmap_reply {
	REGMAP_REPLY_OK,         /* the registers asked for, now in regs */
	REGMAP_REPLY_EXCEPTION,  /* a well-formed exception response from the unit */
	REGMAP_REPLY_BAD         /* not the answer to this request: why says how */
};

/*
 * Check adu[0..len), a whole Modbus TCP reply (MBAP header included, as
 * libmodbus' modbus_receive_confirmation() returns it) against the read of
 * count registers with function fn sent to unit with transaction id tid:
 * the transaction and protocol ids, the MBAP length against the bytes that
 * came, the unit id, the function code and the byte count. libmodbus 3.1.6
 * frames the reply by its byte count and checks neither the unit id nor
 * the MBAP length. OK: the registers in regs (host order, count of them).
 * EXCEPTION: its code in *exception. BAD: a sanitized reason in why (e.g.
 * "reply from unit 6, expected unit 1", "MBAP length 57 but 7 bytes (unit
 * id and PDU) came").
 */
enum regmap_reply regmap_check_reply(const uint8_t *adu, size_t len, uint16_t tid, uint8_t unit,
				     uint8_t fn, uint16_t count, uint16_t *regs, int *exception,
				     char *why, size_t why_size);

#endif
