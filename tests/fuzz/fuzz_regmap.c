// SPDX-License-Identifier: MIT
/*
 * fuzz_regmap: Modbus response decoding (src/model/regmap.c). Each input
 * goes three ways:
 * - as a reply: its first 6 bytes are the request (transaction id, unit,
 *   function, register count), the rest the ADU that came back, checked by
 *   regmap_check_reply(); the registers of an OK reply are then decoded as
 *   every type in every word order;
 * - as registers: the first 8 bytes as words, decoded as every type in
 *   every word order with a scale, a quantity and sentinels from the input;
 *   every integer type and every non-NaN float re-encodes to the same words;
 * - as a register map: up to 32 values (function, address, type) and the
 *   device's limits, planned with regmap_plan(); every value is in exactly
 *   one read of its function, no read is wider than the limit, and
 *   splitting any read keeps that true.
 */
#include <math.h>

#include "phasor/profile.h"
#include "phasor/qty.h"
#include "phasor/regmap.h"
#include "fuzz.h"

static const enum reg_type types[] = { REG_INT16, REG_UINT16, REG_INT32, REG_UINT32,
				       REG_INT64, REG_UINT64, REG_FLOAT32, REG_FLOAT64 };
static const enum word_order orders[] = { WO_ABCD, WO_CDAB, WO_BADC, WO_DCBA };

static size_t take(const uint8_t **data, size_t *size, void *out, size_t n)
{
	size_t k = *size < n ? *size : n;

	memset(out, 0, n);
	memcpy(out, *data, k);
	*data += k;
	*size -= k;
	return k;
}

static void decode_all(const uint16_t *words, const struct profile_reg *base)
{
	size_t t, o;

	for (t = 0; t < UTIL_ARRAY_LEN(types); t++)
		for (o = 0; o < UTIL_ARRAY_LEN(orders); o++) {
			struct profile_reg r = *base;
			uint16_t again[4];
			uint64_t raw;
			double v, rv;
			int n = profile_type_words(types[t]);
			enum quality q;

			r.type = types[t];
			r.order = orders[o];
			q = regmap_decode(&r, words, &v);
			if (q != QUALITY_GOOD && q != QUALITY_BAD)
				abort();
			raw = regmap_raw(words, r.type, r.order);
			if (n < 4 && raw >> (16 * n) != 0)
				abort(); /* right-aligned */
			rv = regmap_raw_value(raw, r.type);
			if (isnan(rv) || r.type == REG_INT64 || r.type == REG_UINT64)
				continue; /* NaN payloads and 64-bit integers need not round-trip */
			regmap_encode(rv, r.type, r.order, again);
			if (memcmp(again, words, (size_t)n * sizeof(*words)) != 0) {
				fprintf(stderr, "%s %s: %.17g did not re-encode to its words\n",
					profile_type_name(r.type), profile_order_name(r.order), rv);
				abort();
			}
		}
}

static void as_reply(const uint8_t *data, size_t size)
{
	uint8_t req[6];
	uint16_t tid, count, regs[125];
	int exception = -1;
	char why[160];
	enum regmap_reply rep;
	struct profile_reg base = { .qty = QTY_P_TOTAL, .scale = 1 };
	uint8_t *adu;

	take(&data, &size, req, sizeof(req));
	tid = (uint16_t)(req[0] << 8 | req[1]);
	count = (uint16_t)((req[4] << 8 | req[5]) % 125 + 1);
	/* The ADU in a buffer of its own size: reading past it is a bug. */
	adu = malloc(size > 0 ? size : 1);
	if (adu == NULL)
		abort();
	memcpy(adu, data, size);
	memset(why, 0, sizeof(why));
	rep = regmap_check_reply(adu, size, tid, req[2], req[3] & 1 ? 4 : 3, count, regs,
				 &exception, why, sizeof(why));
	free(adu);
	if (rep == REGMAP_REPLY_OK) {
		size_t i;

		for (i = 0; i + 4 <= count; i++)
			decode_all(regs + i, &base);
	} else if (rep == REGMAP_REPLY_EXCEPTION) {
		if (exception < 0 || exception > 255)
			abort();
	} else if (rep != REGMAP_REPLY_BAD || why[0] == '\0') {
		abort();
	}
}

static void as_registers(const uint8_t *data, size_t size)
{
	uint8_t b[8], qty, ns;
	uint16_t words[4];
	struct profile_reg r = { 0 };
	unsigned i;

	take(&data, &size, b, sizeof(b));
	for (i = 0; i < 4; i++)
		words[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
	take(&data, &size, &qty, 1);
	r.qty = qty % QTY__COUNT;
	r.scale = 1;
	if (size >= sizeof(double))
		take(&data, &size, &r.scale, sizeof(r.scale));
	take(&data, &size, &ns, 1);
	r.nsentinels = ns % (PROFILE_MAX_SENTINELS + 1);
	for (i = 0; i < r.nsentinels; i++)
		take(&data, &size, &r.sentinel[i], sizeof(r.sentinel[i]));
	decode_all(words, &r);
}

static void check_plan(const struct regmap_plan *pl, const struct profile_reg *regs, size_t n,
		       int max_regs)
{
	size_t i, k, seen[32] = { 0 };

	if (pl->norder != n)
		abort();
	for (i = 0; i < pl->nreads; i++) {
		const struct regmap_read *rd = &pl->reads[i];

		if (rd->count == 0 || rd->count > max_regs || rd->nvalues == 0 ||
		    rd->first + rd->nvalues > n)
			abort();
		for (k = rd->first; k < rd->first + rd->nvalues; k++) {
			const struct profile_reg *r = &regs[pl->order[k]];
			long a = r->address, e = a + profile_type_words(r->type);

			if (r->function != rd->function || a < rd->address ||
			    e > (long)rd->address + rd->count)
				abort();
			seen[pl->order[k]]++;
		}
	}
	for (i = 0; i < n; i++)
		if (seen[i] != 1)
			abort();
}

static void as_map(const uint8_t *data, size_t size)
{
	struct profile_reg regs[32];
	struct regmap_plan pl;
	uint8_t lim[2];
	size_t n = 0, i;
	int max_regs, max_gap;

	take(&data, &size, lim, sizeof(lim));
	max_regs = lim[0] % 125 + 1;
	max_gap = lim[1] % 64;
	while (size >= 4 && n < UTIL_ARRAY_LEN(regs)) {
		uint8_t b[4];

		take(&data, &size, b, sizeof(b));
		memset(&regs[n], 0, sizeof(regs[n]));
		regs[n].function = b[0] & 1 ? 4 : 3;
		regs[n].type = types[(b[0] >> 1) % UTIL_ARRAY_LEN(types)];
		regs[n].order = orders[(b[0] >> 4) % UTIL_ARRAY_LEN(orders)];
		regs[n].address = (uint16_t)(b[1] << 8 | b[2]);
		/* Keep the value inside the 16-bit address space. */
		if (regs[n].address > 65536 - 4)
			regs[n].address = 65536 - 4;
		regs[n].scale = 1;
		n++;
	}
	if (regmap_plan(regs, n, max_regs, max_gap, &pl) != 0) {
		for (i = 0; i < n; i++)
			if (profile_type_words(regs[i].type) > max_regs)
				return;
		abort(); /* refused without a value wider than the limit */
	}
	check_plan(&pl, regs, n, max_regs);
	for (i = 0; i < pl.nreads; i++)
		if (regmap_plan_split(&pl, i) == 0)
			check_plan(&pl, regs, n, max_regs);
	regmap_plan_free(&pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_reply(data, size);
	as_registers(data, size);
	as_map(data, size);
	return 0;
}
