// SPDX-License-Identifier: MIT
/*
 * regmap: the pure part of Modbus acquisition. Registers as libmodbus
 * returns them (host-order uint16) become raw big-endian bit patterns and
 * then values, in every type and word order; the simulator and the tests
 * go the other way with regmap_encode(). The read plan coalesces a
 * profile's values into the fewest requests a device accepts.
 *
 * Word orders are one rule for every width: the value's big-endian bytes
 * "ABCD..." are put on the wire as they are (ABCD), with the register order
 * reversed (CDAB), with the two bytes of each register swapped (BADC), or
 * both (DCBA). For one register ABCD = CDAB and BADC = DCBA.
 */
#include "phasor/regmap.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/payload.h"
#include "phasor/util.h"

static bool order_reverses_words(enum word_order o)
{
	return o == WO_CDAB || o == WO_DCBA;
}

static bool order_swaps_bytes(enum word_order o)
{
	return o == WO_BADC || o == WO_DCBA;
}

static uint16_t swap16(uint16_t w)
{
	return (uint16_t)((w >> 8) | (w << 8));
}

uint64_t regmap_raw(const uint16_t *words, enum reg_type t, enum word_order o)
{
	int n = profile_type_words(t), i;
	uint64_t raw = 0;

	for (i = 0; i < n; i++) {
		/* i-th most significant register of the value */
		uint16_t w = words[order_reverses_words(o) ? n - 1 - i : i];

		if (order_swaps_bytes(o))
			w = swap16(w);
		raw = (raw << 16) | w;
	}
	return raw;
}

double regmap_raw_value(uint64_t raw, enum reg_type t)
{
	switch (t) {
	case REG_INT16:
		return (double)(int16_t)(uint16_t)raw;
	case REG_UINT16:
		return (double)(uint16_t)raw;
	case REG_INT32:
		return (double)(int32_t)(uint32_t)raw;
	case REG_UINT32:
		return (double)(uint32_t)raw;
	case REG_INT64:
		return (double)(int64_t)raw;
	case REG_UINT64:
		return (double)raw;
	case REG_FLOAT32: {
		uint32_t bits = (uint32_t)raw;
		float f;

		memcpy(&f, &bits, sizeof(f));
		return (double)f;
	}
	case REG_FLOAT64: {
		double v;

		memcpy(&v, &raw, sizeof(v));
		return v;
	}
	}
	return NAN;
}

double regmap_float32_value_ref(double v)
{
	float f = (float)v;

	if (!isfinite(v) || !isfinite(f) || f == 0.0f)
		return v;
	return util_f32_decimal_ref(f);
}

double regmap_float32_value(double v)
{
	float f = (float)v;

	if (!isfinite(v) || !isfinite(f) || f == 0.0f)
		return v;
	return util_f32_decimal(f);
}

enum quality regmap_decode(const struct profile_reg *r, const uint16_t *words, double *value)
{
	uint64_t raw = regmap_raw(words, r->type, r->order);
	enum quality q = QUALITY_GOOD;
	unsigned i;

	/* An integer with a power-of-ten scale is the decimal it means (a
	 * counter of 0.01 m3 steps: 1234567.89, not 1234567.8900000001). */
	if (r->type == REG_FLOAT32 || r->type == REG_FLOAT64)
		*value = regmap_raw_value(raw, r->type) * r->scale;
	else
		*value = payload_scale(regmap_raw_value(raw, r->type), r->scale);
	if (r->offset != 0) /* degF, K; never 0 + -0 */
		*value += r->offset;
	/* A float32 register holds 7 digits: keep those, not the binary
	 * noise of widening it (0.8165658, not 0.8165658116340637). */
	if (r->type == REG_FLOAT32)
		*value = regmap_float32_value(*value);
	for (i = 0; i < r->nsentinels && i < PROFILE_MAX_SENTINELS; i++)
		if (raw == r->sentinel[i])
			q = QUALITY_BAD;
	if (qty_quality((unsigned)r->qty, *value) == QUALITY_BAD)
		q = QUALITY_BAD;
	return q;
}

/* Round to nearest and saturate into [lo, hi]; NaN gives 0. The bounds are
 * exact doubles (powers of two or small), compared before converting so the
 * conversion is always defined. */
static int64_t sat_signed(double v, double lo, double hi_excl, int64_t min, int64_t max)
{
	if (isnan(v))
		return 0;
	v = round(v);
	if (v < lo)
		return min;
	if (v >= hi_excl)
		return max;
	return (int64_t)v;
}

static uint64_t sat_unsigned(double v, double hi_excl, uint64_t max)
{
	if (isnan(v) || v <= 0)
		return 0;
	v = round(v);
	if (v >= hi_excl)
		return max;
	return (uint64_t)v;
}

void regmap_encode(double raw_value, enum reg_type t, enum word_order o, uint16_t *words)
{
	int n = profile_type_words(t), i;
	uint64_t raw = 0;

	switch (t) {
	case REG_INT16:
		raw = (uint16_t)sat_signed(raw_value, -32768.0, 32768.0, INT16_MIN, INT16_MAX);
		break;
	case REG_UINT16:
		raw = sat_unsigned(raw_value, 65536.0, UINT16_MAX);
		break;
	case REG_INT32:
		raw = (uint32_t)sat_signed(raw_value, -2147483648.0, 2147483648.0,
					   INT32_MIN, INT32_MAX);
		break;
	case REG_UINT32:
		raw = sat_unsigned(raw_value, 4294967296.0, UINT32_MAX);
		break;
	case REG_INT64:
		raw = (uint64_t)sat_signed(raw_value, -9223372036854775808.0,
					   9223372036854775808.0, INT64_MIN, INT64_MAX);
		break;
	case REG_UINT64:
		raw = sat_unsigned(raw_value, 18446744073709551616.0, UINT64_MAX);
		break;
	case REG_FLOAT32: {
		float f;
		uint32_t bits;

		/* Out of float range is infinity, as IEEE rounding would give,
		 * without the undefined conversion. */
		if (isfinite(raw_value) && fabs(raw_value) > FLT_MAX)
			f = raw_value > 0 ? HUGE_VALF : -HUGE_VALF;
		else
			f = (float)raw_value;
		memcpy(&bits, &f, sizeof(bits));
		raw = bits;
		break;
	}
	case REG_FLOAT64:
		memcpy(&raw, &raw_value, sizeof(raw));
		break;
	}

	/* The inverse of regmap_raw(): both transforms are involutions. */
	for (i = 0; i < n; i++) {
		uint16_t w = (uint16_t)(raw >> (16 * (n - 1 - i)));

		if (order_swaps_bytes(o))
			w = swap16(w);
		words[order_reverses_words(o) ? n - 1 - i : i] = w;
	}
}

/* qsort has no context argument: sort an array of (index, key) pairs. */
struct plan_item {
	size_t idx;
	uint8_t function;
	uint16_t address;
	uint8_t words;
};

static int item_cmp(const void *a, const void *b)
{
	const struct plan_item *x = a, *y = b;

	if (x->function != y->function)
		return x->function < y->function ? -1 : 1;
	if (x->address != y->address)
		return x->address < y->address ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

int regmap_plan(const struct profile_reg *regs, size_t n, int max_regs, int max_gap,
		struct regmap_plan *out)
{
	struct plan_item *items;
	size_t i;
	long start = 0, end = 0; /* current read: registers [start, end) */

	memset(out, 0, sizeof(*out));
	if (max_gap < 0)
		max_gap = 0;
	for (i = 0; i < n; i++)
		if (profile_type_words(regs[i].type) > max_regs)
			return -1;
	if (n == 0)
		return 0;

	items = util_calloc(n, sizeof(*items));
	for (i = 0; i < n; i++) {
		items[i].idx = i;
		items[i].function = regs[i].function;
		items[i].address = regs[i].address;
		items[i].words = (uint8_t)profile_type_words(regs[i].type);
	}
	qsort(items, n, sizeof(*items), item_cmp);

	out->order = util_calloc(n, sizeof(*out->order));
	out->addr = util_calloc(n, sizeof(*out->addr));
	out->words = util_calloc(n, sizeof(*out->words));
	out->reads = util_calloc(n, sizeof(*out->reads));
	out->norder = n;
	for (i = 0; i < n; i++) {
		long vs = items[i].address, ve = vs + items[i].words;
		struct regmap_read *cur = out->nreads ? &out->reads[out->nreads - 1] : NULL;

		out->order[i] = items[i].idx;
		out->addr[i] = items[i].address;
		out->words[i] = items[i].words;
		if (cur != NULL && cur->function == items[i].function &&
		    vs - end <= max_gap && (ve > end ? ve : end) - start <= max_regs) {
			if (ve > end)
				end = ve;
			cur->count = (uint16_t)(end - start);
			cur->nvalues++;
			continue;
		}
		start = vs;
		end = ve;
		cur = &out->reads[out->nreads++];
		cur->function = items[i].function;
		cur->address = items[i].address;
		cur->count = items[i].words;
		cur->first = i;
		cur->nvalues = 1;
	}
	free(items);
	return 0;
}

int regmap_plan_split(struct regmap_plan *plan, size_t i)
{
	struct regmap_read old;
	size_t k, extra;

	if (i >= plan->nreads || plan->reads[i].nvalues < 2)
		return -1;
	old = plan->reads[i];
	extra = old.nvalues - 1;
	plan->reads = util_reallocarray(plan->reads, plan->nreads + extra, sizeof(*plan->reads));
	memmove(&plan->reads[i + 1 + extra], &plan->reads[i + 1],
		(plan->nreads - i - 1) * sizeof(*plan->reads));
	plan->nreads += extra;
	/* The values of a read are contiguous in order: one read each. */
	for (k = 0; k < old.nvalues; k++) {
		struct regmap_read *r = &plan->reads[i + k];
		size_t v = old.first + k;

		r->function = old.function;
		r->address = plan->addr[v];
		r->count = plan->words[v];
		r->first = v;
		r->nvalues = 1;
	}
	return 0;
}

void regmap_plan_free(struct regmap_plan *plan)
{
	free(plan->reads);
	free(plan->order);
	free(plan->addr);
	free(plan->words);
	memset(plan, 0, sizeof(*plan));
}

/* MBAP header: transaction id, protocol id, length (of what follows it:
 * the unit id and the PDU), unit id; then the PDU. */
#define MBAP_BYTES 7

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

enum regmap_reply regmap_check_reply(const uint8_t *adu, size_t len, uint16_t tid, uint8_t unit,
				     uint8_t fn, uint16_t count, uint16_t *regs, int *exception,
				     char *why, size_t why_size)
{
	size_t i;

	*exception = 0;
	if (len < MBAP_BYTES + 2) {
		snprintf(why, why_size, "reply of %zu bytes is too short", len);
		return REGMAP_REPLY_BAD;
	}
	if (be16(adu + 2) != 0) {
		snprintf(why, why_size, "protocol id %u in the reply, not 0 (Modbus)",
			 be16(adu + 2));
		return REGMAP_REPLY_BAD;
	}
	/* A longer length than came means bytes still on their way, or a
	 * garbled header: either way the stream cannot be trusted. */
	if (be16(adu + 4) != len - 6) {
		snprintf(why, why_size, "MBAP length %u but %zu bytes (unit id and PDU) came",
			 be16(adu + 4), len - 6);
		return REGMAP_REPLY_BAD;
	}
	if (be16(adu) != tid) {
		snprintf(why, why_size, "reply with transaction id %u, expected %u", be16(adu),
			 (unsigned)tid);
		return REGMAP_REPLY_BAD;
	}
	if (adu[6] != unit) {
		snprintf(why, why_size, "reply from unit %u, expected unit %u", adu[6],
			 (unsigned)unit);
		return REGMAP_REPLY_BAD;
	}
	if (adu[7] == (fn | 0x80) && len == MBAP_BYTES + 2) {
		*exception = adu[8];
		return REGMAP_REPLY_EXCEPTION;
	}
	if (adu[7] != fn) {
		snprintf(why, why_size, "function code %u in the reply to function %u", adu[7],
			 (unsigned)fn);
		return REGMAP_REPLY_BAD;
	}
	if (adu[8] != 2 * (size_t)count || len != MBAP_BYTES + 2 + 2 * (size_t)count) {
		snprintf(why, why_size, "%u data bytes in the reply to a read of %u registers",
			 adu[8], (unsigned)count);
		return REGMAP_REPLY_BAD;
	}
	for (i = 0; i < count; i++)
		regs[i] = (uint16_t)be16(adu + MBAP_BYTES + 2 + 2 * i);
	return REGMAP_REPLY_OK;
}
