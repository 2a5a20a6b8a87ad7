// SPDX-License-Identifier: MIT
/*
 * regmap: register decoding in every type and word order (float32 checked
 * against libmodbus' own converters, the others against register arrays
 * written by hand), decode quality (NaN, sentinels, range, scale), encode
 * rounding and saturation, read plans for the shipped profiles and edge
 * cases, and the check of a reply's bytes against its request.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <modbus.h>

#include "phasor/profile.h"
#include "phasor/qty.h"
#include "phasor/regmap.h"
#include "phasor/util.h"
#include "support.h"

static const enum word_order all_orders[] = { WO_ABCD, WO_CDAB, WO_BADC, WO_DCBA };

/* ---- the source tree, for the shipped profiles ---------------------------- */

static const char *srcdir(void)
{
	return test_srcdir();
}

static struct profile *load_shipped(const char *name)
{
	char *path = util_printf("%s/conf/profiles/%s.ini", srcdir(), name);
	struct diag d;
	struct profile *p;

	diag_init(&d);
	p = profile_load(path, name, &d);
	if (p == NULL) {
		diag_print(&d, stderr);
		fail_msg("%s does not load", path);
	}
	assert_int_equal(d.n, 0);
	diag_clear(&d);
	free(path);
	return p;
}

/* ---- float32 against libmodbus --------------------------------------------- */

typedef void (*mb_set)(float, uint16_t *);
typedef float (*mb_get)(const uint16_t *);

static const struct {
	enum word_order order;
	mb_set set;
	mb_get get;
} mb_conv[] = {
	{ WO_ABCD, modbus_set_float_abcd, modbus_get_float_abcd },
	{ WO_CDAB, modbus_set_float_cdab, modbus_get_float_cdab },
	{ WO_BADC, modbus_set_float_badc, modbus_get_float_badc },
	{ WO_DCBA, modbus_set_float_dcba, modbus_get_float_dcba },
};

/*
 * libmodbus' setters of Debian's 3.1.6 are broken on little-endian hosts
 * (its getters are right): modbus_set_float_abcd() writes the BADC layout,
 * _cdab DCBA, _badc ABCD and _dcba CDAB, so they do not even round-trip
 * through the matching getter. Never use them to make registers;
 * regmap_encode() is the reference here.
 */
static bool libmodbus_setters_ok(void)
{
	size_t k;

	for (k = 0; k < UTIL_ARRAY_LEN(mb_conv); k++) {
		uint16_t w[2];

		mb_conv[k].set(230.5f, w);
		if (mb_conv[k].get(w) != 230.5f)
			return false;
	}
	return true;
}

static enum word_order bytes_swapped(enum word_order o)
{
	switch (o) {
	case WO_ABCD: return WO_BADC;
	case WO_BADC: return WO_ABCD;
	case WO_CDAB: return WO_DCBA;
	case WO_DCBA: return WO_CDAB;
	}
	return o;
}

static void test_float32_vs_libmodbus(void **state)
{
	static const float values[] = { 230.5f, -1.25f, 0.0f, 49.98f, 1.0e-3f, 3.4e38f,
					-123456.789f, 0.9731f, 1.401298e-45f };
	bool setters_ok = libmodbus_setters_ok();
	size_t i, k;

	(void)state;
	if (!setters_ok)
		print_message("note: this libmodbus' modbus_set_float_* are broken "
			      "(3.1.6 on little-endian); checking the known defect\n");
	for (k = 0; k < UTIL_ARRAY_LEN(mb_conv); k++) {
		enum word_order o = mb_conv[k].order;

		for (i = 0; i < UTIL_ARRAY_LEN(values); i++) {
			uint16_t mb[2], ours[2];
			uint32_t want_bits, got_bits;
			float back;

			memcpy(&want_bits, &values[i], 4);

			/* we encode, libmodbus' getter decodes */
			regmap_encode(values[i], REG_FLOAT32, o, ours);
			back = mb_conv[k].get(ours);
			memcpy(&got_bits, &back, 4);
			assert_int_equal(got_bits, want_bits);

			/* libmodbus' getter and ours agree on any registers */
			{
				uint16_t any[2] = { (uint16_t)(0x1234 + 77 * i), (uint16_t)(0xBEEF - 13 * i) };
				float mbv = mb_conv[k].get(any);
				uint32_t mb_bits;

				memcpy(&mb_bits, &mbv, 4);
				assert_int_equal((uint32_t)regmap_raw(any, REG_FLOAT32, o), mb_bits);
			}

			/* libmodbus' setter encodes, we decode */
			mb_conv[k].set(values[i], mb);
			if (setters_ok) {
				got_bits = (uint32_t)regmap_raw(mb, REG_FLOAT32, o);
				assert_int_equal(got_bits, want_bits);
				assert_int_equal(ours[0], mb[0]);
				assert_int_equal(ours[1], mb[1]);
			} else {
				/* exactly the known defect: bytes swapped in each word */
				got_bits = (uint32_t)regmap_raw(mb, REG_FLOAT32, bytes_swapped(o));
				assert_int_equal(got_bits, want_bits);
				assert_int_equal(mb[0], (uint16_t)((ours[0] >> 8) | (ours[0] << 8)));
				assert_int_equal(mb[1], (uint16_t)((ours[1] >> 8) | (ours[1] << 8)));
			}
		}
	}
}

/* The four orders of float32 are four different register layouts. */
static void test_float32_orders_differ(void **state)
{
	uint16_t w[4][2];
	size_t i, j;

	(void)state;
	for (i = 0; i < 4; i++)
		regmap_encode(230.5, REG_FLOAT32, all_orders[i], w[i]);
	assert_int_equal(w[WO_ABCD][0], 0x4366);
	assert_int_equal(w[WO_ABCD][1], 0x8000);
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			assert_false(w[i][0] == w[j][0] && w[i][1] == w[j][1]);
}

/* ---- every type, every order, by hand ---------------------------------------- */

struct hand_case {
	enum reg_type type;
	enum word_order order;
	uint16_t words[4];
	uint64_t raw;
	double value;
};

#define U64(x) UINT64_C(x)

static const struct hand_case hand_cases[] = {
	/* int16 -2 = 0xFFFE; 16-bit: ABCD = CDAB, BADC = DCBA */
	{ REG_INT16, WO_ABCD, { 0xFFFE }, 0xFFFE, -2 },
	{ REG_INT16, WO_CDAB, { 0xFFFE }, 0xFFFE, -2 },
	{ REG_INT16, WO_BADC, { 0xFEFF }, 0xFFFE, -2 },
	{ REG_INT16, WO_DCBA, { 0xFEFF }, 0xFFFE, -2 },
	/* int16 -300 = 0xFED4 */
	{ REG_INT16, WO_ABCD, { 0xFED4 }, 0xFED4, -300 },
	{ REG_INT16, WO_CDAB, { 0xFED4 }, 0xFED4, -300 },
	{ REG_INT16, WO_BADC, { 0xD4FE }, 0xFED4, -300 },
	{ REG_INT16, WO_DCBA, { 0xD4FE }, 0xFED4, -300 },
	/* uint16 0xABCD = 43981 */
	{ REG_UINT16, WO_ABCD, { 0xABCD }, 0xABCD, 43981 },
	{ REG_UINT16, WO_CDAB, { 0xABCD }, 0xABCD, 43981 },
	{ REG_UINT16, WO_BADC, { 0xCDAB }, 0xABCD, 43981 },
	{ REG_UINT16, WO_DCBA, { 0xCDAB }, 0xABCD, 43981 },
	/* int32 -123456 = 0xFFFE1DC0 */
	{ REG_INT32, WO_ABCD, { 0xFFFE, 0x1DC0 }, 0xFFFE1DC0, -123456 },
	{ REG_INT32, WO_CDAB, { 0x1DC0, 0xFFFE }, 0xFFFE1DC0, -123456 },
	{ REG_INT32, WO_BADC, { 0xFEFF, 0xC01D }, 0xFFFE1DC0, -123456 },
	{ REG_INT32, WO_DCBA, { 0xC01D, 0xFEFF }, 0xFFFE1DC0, -123456 },
	/* uint32 0x12345678 = 305419896 */
	{ REG_UINT32, WO_ABCD, { 0x1234, 0x5678 }, 0x12345678, 305419896 },
	{ REG_UINT32, WO_CDAB, { 0x5678, 0x1234 }, 0x12345678, 305419896 },
	{ REG_UINT32, WO_BADC, { 0x3412, 0x7856 }, 0x12345678, 305419896 },
	{ REG_UINT32, WO_DCBA, { 0x7856, 0x3412 }, 0x12345678, 305419896 },
	/* uint32 0xFFFFFFFF stays positive */
	{ REG_UINT32, WO_ABCD, { 0xFFFF, 0xFFFF }, 0xFFFFFFFF, 4294967295.0 },
	/* int64 0x0000_0001_0000_0000 = 2^32 */
	{ REG_INT64, WO_ABCD, { 0x0000, 0x0001, 0x0000, 0x0000 }, U64(0x100000000), 4294967296.0 },
	{ REG_INT64, WO_CDAB, { 0x0000, 0x0000, 0x0001, 0x0000 }, U64(0x100000000), 4294967296.0 },
	{ REG_INT64, WO_BADC, { 0x0000, 0x0100, 0x0000, 0x0000 }, U64(0x100000000), 4294967296.0 },
	{ REG_INT64, WO_DCBA, { 0x0000, 0x0000, 0x0100, 0x0000 }, U64(0x100000000), 4294967296.0 },
	/* int64 -2 */
	{ REG_INT64, WO_ABCD, { 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE }, U64(0xFFFFFFFFFFFFFFFE), -2 },
	{ REG_INT64, WO_CDAB, { 0xFFFE, 0xFFFF, 0xFFFF, 0xFFFF }, U64(0xFFFFFFFFFFFFFFFE), -2 },
	{ REG_INT64, WO_BADC, { 0xFFFF, 0xFFFF, 0xFFFF, 0xFEFF }, U64(0xFFFFFFFFFFFFFFFE), -2 },
	{ REG_INT64, WO_DCBA, { 0xFEFF, 0xFFFF, 0xFFFF, 0xFFFF }, U64(0xFFFFFFFFFFFFFFFE), -2 },
	/* uint64 0x0102030405060700 (exact as a double) */
	{ REG_UINT64, WO_ABCD, { 0x0102, 0x0304, 0x0506, 0x0700 }, U64(0x0102030405060700),
	  72623859790382848.0 },
	{ REG_UINT64, WO_CDAB, { 0x0700, 0x0506, 0x0304, 0x0102 }, U64(0x0102030405060700),
	  72623859790382848.0 },
	{ REG_UINT64, WO_BADC, { 0x0201, 0x0403, 0x0605, 0x0007 }, U64(0x0102030405060700),
	  72623859790382848.0 },
	{ REG_UINT64, WO_DCBA, { 0x0007, 0x0605, 0x0403, 0x0201 }, U64(0x0102030405060700),
	  72623859790382848.0 },
	/* float32 230.5 = 0x43668000 */
	{ REG_FLOAT32, WO_ABCD, { 0x4366, 0x8000 }, 0x43668000, 230.5 },
	{ REG_FLOAT32, WO_CDAB, { 0x8000, 0x4366 }, 0x43668000, 230.5 },
	{ REG_FLOAT32, WO_BADC, { 0x6643, 0x0080 }, 0x43668000, 230.5 },
	{ REG_FLOAT32, WO_DCBA, { 0x0080, 0x6643 }, 0x43668000, 230.5 },
	/* float64 230.5 = 0x406CD000_00000000 */
	{ REG_FLOAT64, WO_ABCD, { 0x406C, 0xD000, 0x0000, 0x0000 }, U64(0x406CD00000000000), 230.5 },
	{ REG_FLOAT64, WO_CDAB, { 0x0000, 0x0000, 0xD000, 0x406C }, U64(0x406CD00000000000), 230.5 },
	{ REG_FLOAT64, WO_BADC, { 0x6C40, 0x00D0, 0x0000, 0x0000 }, U64(0x406CD00000000000), 230.5 },
	{ REG_FLOAT64, WO_DCBA, { 0x0000, 0x0000, 0x00D0, 0x6C40 }, U64(0x406CD00000000000), 230.5 },
	/* float64 -1.5e9 = 0xC1D65A0BC0000000 */
	{ REG_FLOAT64, WO_ABCD, { 0xC1D6, 0x5A0B, 0xC000, 0x0000 }, U64(0xC1D65A0BC0000000), -1.5e9 },
	{ REG_FLOAT64, WO_DCBA, { 0x0000, 0x00C0, 0x0B5A, 0xD6C1 }, U64(0xC1D65A0BC0000000), -1.5e9 },
};

static void test_hand_written_registers(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(hand_cases); i++) {
		const struct hand_case *c = &hand_cases[i];
		int n = profile_type_words(c->type), k;
		uint64_t raw = regmap_raw(c->words, c->type, c->order);
		uint16_t enc[4] = { 0xAAAA, 0xAAAA, 0xAAAA, 0xAAAA };

		if (raw != c->raw || regmap_raw_value(raw, c->type) != c->value)
			fail_msg("case %zu (%s %s): raw %016llx value %.17g, want %016llx %.17g", i,
				 profile_type_name(c->type), profile_order_name(c->order),
				 (unsigned long long)raw, regmap_raw_value(raw, c->type),
				 (unsigned long long)c->raw, c->value);
		regmap_encode(c->value, c->type, c->order, enc);
		for (k = 0; k < n; k++)
			if (enc[k] != c->words[k])
				fail_msg("case %zu: encode word %d = %04x, want %04x", i, k, enc[k],
					 c->words[k]);
		/* encode writes exactly the type's registers */
		for (k = n; k < 4; k++)
			assert_int_equal(enc[k], 0xAAAA);
	}
}

static void test_type_words(void **state)
{
	(void)state;
	assert_int_equal(profile_type_words(REG_INT16), 1);
	assert_int_equal(profile_type_words(REG_UINT16), 1);
	assert_int_equal(profile_type_words(REG_INT32), 2);
	assert_int_equal(profile_type_words(REG_UINT32), 2);
	assert_int_equal(profile_type_words(REG_FLOAT32), 2);
	assert_int_equal(profile_type_words(REG_INT64), 4);
	assert_int_equal(profile_type_words(REG_UINT64), 4);
	assert_int_equal(profile_type_words(REG_FLOAT64), 4);
}

/* ---- decode: scale and quality ---------------------------------------------- */

struct decode_case {
	int qty;
	enum reg_type type;
	enum word_order order;
	double scale;
	uint64_t sentinel[2];
	unsigned nsentinels;
	uint16_t words[4];
	double value;     /* NAN: expect NaN */
	enum quality quality;
};

static const struct decode_case decode_cases[] = {
	/* a good voltage */
	{ QTY_V_L1N, REG_FLOAT32, WO_ABCD, 1, { 0 }, 0, { 0x4366, 0x8000 }, 230.5, QUALITY_GOOD },
	/* NaN registers: bad, value stays NaN, with or without sentinels */
	{ QTY_V_L1N, REG_FLOAT32, WO_ABCD, 1, { 0 }, 0, { 0x7FC0, 0x0000 }, NAN, QUALITY_BAD },
	{ QTY_V_L1N, REG_FLOAT32, WO_ABCD, 1, { 0x7FC00000, 0xFFC00000 }, 2, { 0xFFC0, 0x0000 },
	  NAN, QUALITY_BAD },
	/* NaN in word-swapped order is still NaN */
	{ QTY_V_L1N, REG_FLOAT32, WO_CDAB, 1, { 0 }, 0, { 0x0000, 0x7FC0 }, NAN, QUALITY_BAD },
	/* infinity: bad, stays infinite */
	{ QTY_P_TOTAL, REG_FLOAT32, WO_ABCD, 1, { 0 }, 0, { 0x7F80, 0x0000 }, INFINITY, QUALITY_BAD },
	/* kWh scaled to Wh: 12.5 kWh */
	{ QTY_E_IMP, REG_FLOAT32, WO_ABCD, 1000, { 0 }, 0, { 0x4148, 0x0000 }, 12500, QUALITY_GOOD },
	/* kW to W, negative export power is plausible */
	{ QTY_P_TOTAL, REG_FLOAT32, WO_ABCD, 1000, { 0 }, 0, { 0xC148, 0x0000 }, -12500,
	  QUALITY_GOOD },
	/* int64 "not available" sentinel: bad, value kept as read x scale */
	{ QTY_E_IMP, REG_INT64, WO_ABCD, 1, { U64(0x8000000000000000) }, 1,
	  { 0x8000, 0x0000, 0x0000, 0x0000 }, -9223372036854775808.0, QUALITY_BAD },
	/* the same counter with a real value is good */
	{ QTY_E_IMP, REG_INT64, WO_ABCD, 1, { U64(0x8000000000000000) }, 1,
	  { 0x0000, 0x0000, 0x0001, 0x0000 }, 65536, QUALITY_GOOD },
	/* a uint16 sentinel 0xFFFF: bad, value 65535 x 0.1 */
	{ QTY_V_L1N, REG_UINT16, WO_ABCD, 0.1, { 0xFFFF }, 1, { 0xFFFF }, 6553.5, QUALITY_BAD },
	/* without the sentinel the same registers are a good value */
	{ QTY_V_L1N, REG_UINT16, WO_ABCD, 0.1, { 0 }, 0, { 0xFFFF }, 6553.5, QUALITY_GOOD },
	/* out of the quantity's range: a power factor of 5 */
	{ QTY_PF_L1, REG_FLOAT32, WO_ABCD, 1, { 0 }, 0, { 0x40A0, 0x0000 }, 5, QUALITY_BAD },
	/* a negative voltage is out of range */
	{ QTY_V_L1N, REG_INT16, WO_ABCD, 1, { 0 }, 0, { 0xFFFE }, -2, QUALITY_BAD },
	/* the sentinel is matched on the assembled raw bits, not the words */
	{ QTY_I_L1, REG_INT32, WO_CDAB, 0.0001, { 0x7FFFFFFF }, 1, { 0xFFFF, 0x7FFF },
	  214748.3647, QUALITY_BAD },
};

static void test_decode(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		struct profile_reg r;
		double v = 12345;
		enum quality q;

		memset(&r, 0, sizeof(r));
		r.qty = c->qty;
		r.function = 3;
		r.type = c->type;
		r.order = c->order;
		r.scale = c->scale;
		memcpy(r.sentinel, c->sentinel, sizeof(c->sentinel));
		r.nsentinels = c->nsentinels;
		q = regmap_decode(&r, c->words, &v);
		if (q != c->quality)
			fail_msg("case %zu: quality %s, want %s", i, qty_quality_name(q),
				 qty_quality_name(c->quality));
		if (isnan(c->value)) {
			if (!isnan(v))
				fail_msg("case %zu: value %g, want NaN", i, v);
		} else if (!(v == c->value || fabs(v - c->value) <= 1e-9 * fabs(c->value))) {
			fail_msg("case %zu: value %.17g, want %.17g", i, v, c->value);
		}
	}
}

/*
 * A float32 register is stored as its shortest decimal (what the meter
 * displays), not the binary noise of widening it: 0.8165658, 6005.742,
 * and with a scale the product's; the float32 read back is the same.
 */
static void test_float32_shortest(void **state)
{
	static const struct {
		float f;
		double scale;
		const char *want;
	} cases[] = {
		{ 0.8165658116340637f, 1, "0.8165658" },
		{ 6005.7421875f, 1, "6005.742" },
		{ 230.5f, 1, "230.5" },
		{ 49.99f, 1, "49.99" },
		{ 6.0057421875f, 1000, "6005.742" },
		{ 16777216.0f, 1, "16777216" },
		{ 1.17549435e-38f, 1, "1.1754944e-38" },
		{ -0.0f, 1, "-0" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		struct profile_reg r;
		uint16_t w[2];
		double v = 0, want = strtod(cases[i].want, NULL);
		char got[40];

		memset(&r, 0, sizeof(r));
		r.qty = QTY_PF_TOTAL;
		r.function = 3;
		r.type = REG_FLOAT32;
		r.order = WO_ABCD;
		r.scale = cases[i].scale;
		regmap_encode((double)cases[i].f, REG_FLOAT32, WO_ABCD, w);
		regmap_decode(&r, w, &v);
		snprintf(got, sizeof(got), "%.17g", v);
		if (memcmp(&v, &want, sizeof(v)) != 0)
			fail_msg("case %zu: %s, want %s", i, got, cases[i].want);
		if ((float)(v / cases[i].scale) != cases[i].f && cases[i].scale == 1)
			fail_msg("case %zu: %s reads back as another float32", i, got);
	}
	/* doubles keep every bit */
	assert_true(regmap_float32_value(NAN) != regmap_float32_value(NAN));
	assert_true(regmap_float32_value(INFINITY) == INFINITY);
}

/* The fast float32 decimal (no formatting) gives, bit for bit, the double
 * of the snprintf/strtod reference: every float of a stretch around 230 V
 * and 0.87 PF, a few ulps either side of every power of ten, random bit
 * patterns over the whole range (both signs, denormals, huge values the
 * fast path hands to the reference), and exact halfway digits. */
static uint64_t fast_vs_ref(uint32_t bits)
{
	float f;
	double a, b;

	memcpy(&f, &bits, sizeof(f));
	a = regmap_float32_value((double)f);
	b = regmap_float32_value_ref((double)f);
	if (isnan(a) && isnan(b))
		return 0;
	if (memcmp(&a, &b, sizeof(a)) != 0) {
		print_error("bits %08x (%.9g): fast %.17g, reference %.17g\n", (unsigned)bits,
			    (double)f, a, b);
		return 1;
	}
	return 0;
}

static void test_float32_fast(void **state)
{
	static const float from[] = { 229.5f, 0.87f, 49.95f, -1234.5f, 0.001f,
				      /* powers in W, counters in Wh: digits above the point */
				      99990.0f, 123456.7f, 2.6e6f, 8388000.0f, 16777000.0f,
				      319659744.0f, 999000000.0f, 1.5e9f, -4.2e12f, 9.99e17f };
	uint64_t bad = 0, x = 0x9E3779B97F4A7C15u;
	uint32_t bits, i;
	int e;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(from); i++) {
		memcpy(&bits, &from[i], sizeof(bits));
		for (uint32_t k = 0; k < 60000; k++)
			bad += fast_vs_ref(bits + k);
	}
	for (e = -13; e <= 10; e++) {
		float p = (float)pow(10.0, e);

		memcpy(&bits, &p, sizeof(bits));
		for (uint32_t k = 0; k < 400; k++)
			bad += fast_vs_ref(bits - 200 + k);
	}
	for (i = 0; i < 400000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bad += fast_vs_ref((uint32_t)(x >> 16));
	}
	/* halfway cases at 6 digits: 0.5 + n/2^20 with a 5 in the 7th digit */
	for (i = 0; i < 4096; i++) {
		float f = 0.5f + (float)i / 1048576.0f;

		memcpy(&bits, &f, sizeof(bits));
		bad += fast_vs_ref(bits);
	}
	assert_int_equal(bad, 0);
	assert_true(regmap_float32_value(230.1f) == 230.1);
	assert_true(regmap_float32_value(-0.8165658116340637) == -0.8165658);
}

/* ---- encode: rounding and saturation ------------------------------------------ */

struct encode_case {
	double in;
	enum reg_type type;
	uint64_t raw; /* expected raw bits */
};

static const struct encode_case encode_cases[] = {
	{ 1e12, REG_INT16, 0x7FFF },
	{ -1e12, REG_INT16, 0x8000 },
	{ -1, REG_UINT16, 0x0000 },
	{ 1e12, REG_UINT16, 0xFFFF },
	{ 2.5, REG_INT16, 3 },
	{ -2.5, REG_INT16, 0xFFFD },          /* -3 */
	{ 2.4999, REG_UINT16, 2 },
	{ 65535.4, REG_UINT16, 0xFFFF },
	{ 65535.6, REG_UINT16, 0xFFFF },       /* rounds to 65536, saturates */
	{ -32768.4, REG_INT16, 0x8000 },
	{ 1e30, REG_INT32, 0x7FFFFFFF },
	{ -1e30, REG_INT32, 0x80000000 },
	{ 4294967295.4, REG_UINT32, 0xFFFFFFFF },
	{ -0.4, REG_UINT32, 0 },
	{ 1e19, REG_INT64, U64(0x7FFFFFFFFFFFFFFF) },
	{ -1e19, REG_INT64, U64(0x8000000000000000) },
	{ 1e20, REG_UINT64, U64(0xFFFFFFFFFFFFFFFF) },
	{ 18446744073709551616.0, REG_UINT64, U64(0xFFFFFFFFFFFFFFFF) },
	{ NAN, REG_INT32, 0 },
	{ 1e40, REG_FLOAT32, 0x7F800000 },      /* +inf */
	{ -1e40, REG_FLOAT32, 0xFF800000 },     /* -inf */
	{ 230.5, REG_FLOAT32, 0x43668000 },
};

static void test_encode_round_saturate(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(encode_cases); i++) {
		const struct encode_case *c = &encode_cases[i];
		uint16_t w[4];
		uint64_t raw;

		regmap_encode(c->in, c->type, WO_ABCD, w);
		raw = regmap_raw(w, c->type, WO_ABCD);
		if (raw != c->raw)
			fail_msg("case %zu: %g as %s gave %llx, want %llx", i, c->in,
				 profile_type_name(c->type), (unsigned long long)raw,
				 (unsigned long long)c->raw);
	}
}

/* Encode then decode gives the value back in every type and order. */
static void test_round_trip_all(void **state)
{
	static const double vals[] = { 0, 1, -1, 100, -32768, 32767, 12345 };
	size_t t, o, i;

	(void)state;
	for (t = REG_INT16; t <= REG_FLOAT64; t++)
		for (o = 0; o < 4; o++)
			for (i = 0; i < UTIL_ARRAY_LEN(vals); i++) {
				uint16_t w[4];
				double want = vals[i];

				if ((t == REG_UINT16 || t == REG_UINT32 || t == REG_UINT64) && want < 0)
					want = 0;
				regmap_encode(vals[i], (enum reg_type)t, (enum word_order)o, w);
				assert_true(regmap_raw_value(regmap_raw(w, (enum reg_type)t,
									(enum word_order)o),
							     (enum reg_type)t) == want);
			}
}

/* ---- plans ------------------------------------------------------------------- */

struct want_read {
	uint8_t function;
	uint16_t address, count;
};

static void check_plan(const char *what, const struct regmap_plan *pl, const struct profile_reg *regs,
		       const struct want_read *want, size_t nwant)
{
	size_t i, j, covered = 0;

	if (pl->nreads != nwant) {
		for (i = 0; i < pl->nreads; i++)
			fprintf(stderr, "  read %zu: fc %u %u+%u (%zu values)\n", i,
				pl->reads[i].function, pl->reads[i].address, pl->reads[i].count,
				pl->reads[i].nvalues);
		fail_msg("%s: %zu reads, want %zu", what, pl->nreads, nwant);
	}
	for (i = 0; i < nwant; i++) {
		const struct regmap_read *r = &pl->reads[i];

		if (r->function != want[i].function || r->address != want[i].address ||
		    r->count != want[i].count)
			fail_msg("%s: read %zu is fc %u %u+%u, want fc %u %u+%u", what, i, r->function,
				 r->address, r->count, want[i].function, want[i].address,
				 want[i].count);
		/* every value of the read lies inside it, with its function */
		assert_int_equal(r->first, covered);
		for (j = r->first; j < r->first + r->nvalues; j++) {
			const struct profile_reg *v = &regs[pl->order[j]];

			assert_int_equal(v->function, r->function);
			assert_true(v->address >= r->address);
			assert_true(v->address + profile_type_words(v->type) <= r->address + r->count);
			assert_int_equal(pl->addr[j], v->address);
			assert_int_equal(pl->words[j], profile_type_words(v->type));
		}
		covered += r->nvalues;
	}
	assert_int_equal(covered, pl->norder);
}

static void plan_profile(const char *name, int max_regs, int max_gap, const struct want_read *want,
			 size_t nwant)
{
	struct profile *p = load_shipped(name);
	struct regmap_plan pl;
	char what[96];

	if (max_regs == 0)
		max_regs = p->max_registers;
	if (max_gap < 0)
		max_gap = p->max_gap;
	snprintf(what, sizeof(what), "%s max_registers %d max_gap %d", name, max_regs, max_gap);
	assert_int_equal(regmap_plan(p->regs, p->nregs, max_regs, max_gap, &pl), 0);
	assert_int_equal(pl.norder, p->nregs);
	check_plan(what, &pl, p->regs, want, nwant);
	regmap_plan_free(&pl);
	profile_free(p);
}

#define WANT(...) (const struct want_read[]){ __VA_ARGS__ }, \
	sizeof((const struct want_read[]){ __VA_ARGS__ }) / sizeof(struct want_read)

static void test_plan_shipped(void **state)
{
	(void)state;
	/* pac3200 as shipped (125, gap 6): 1..70 (across the averages
	 * 57..62), 801..828 (the last float64 at 825 ends at 828); with a gap
	 * of 4, three reads */
	plan_profile("pac3200", 0, -1, WANT({ 3, 1, 70 }, { 3, 801, 28 }));
	plan_profile("pac3200", 0, 4, WANT({ 3, 1, 56 }, { 3, 63, 8 }, { 3, 801, 28 }));
	/* sdm630, 50 registers, gap 0, by hand:
	 *   0x00..0x23 V I P S Q PF  -> 0+36
	 *   0x34 P total             -> 52+2
	 *   0x38 S total             -> 56+2
	 *   0x3C Q total, 0x3E PF    -> 60+4
	 *   0x46 f .. 0x4E eq_exp    -> 70+10
	 *   0xC8..0xCD V L-L         -> 200+6
	 *   0xE0 I N                 -> 224+2
	 *   0xEA..0xF5 THD-V, THD-I  -> 234+12 */
	plan_profile("sdm630", 50, 0,
		     WANT({ 4, 0, 36 }, { 4, 52, 2 }, { 4, 56, 2 }, { 4, 60, 4 }, { 4, 70, 10 },
			  { 4, 200, 6 }, { 4, 224, 2 }, { 4, 234, 12 }));
	/* gap 4 joins the totals (holes of 2) but not 64..69 (6) nor 226..233 (8) */
	plan_profile("sdm630", 50, 4,
		     WANT({ 4, 0, 36 }, { 4, 52, 12 }, { 4, 70, 10 }, { 4, 200, 6 }, { 4, 224, 2 },
			  { 4, 234, 12 }));
	/* the shipped settings are 50 / 0 */
	plan_profile("sdm630", 0, -1,
		     WANT({ 4, 0, 36 }, { 4, 52, 2 }, { 4, 56, 2 }, { 4, 60, 4 }, { 4, 70, 10 },
			  { 4, 200, 6 }, { 4, 224, 2 }, { 4, 234, 12 }));
	/* 30 registers cut the first block after 15 values */
	plan_profile("sdm630", 30, 0,
		     WANT({ 4, 0, 30 }, { 4, 30, 6 }, { 4, 52, 2 }, { 4, 56, 2 }, { 4, 60, 4 },
			  { 4, 70, 10 }, { 4, 200, 6 }, { 4, 224, 2 }, { 4, 234, 12 }));
	/* iem3000 (125, gap 0): the blocks of the manual */
	plan_profile("iem3000", 0, -1,
		     WANT({ 3, 2999, 6 }, { 3, 3019, 6 }, { 3, 3027, 6 }, { 3, 3053, 8 },
			  { 3, 3067, 2 }, { 3, 3075, 2 }, { 3, 3109, 2 }, { 3, 3203, 8 }));
	/* umg96rm (125, gap 2): the 2-register hole at 19018 is spanned */
	plan_profile("umg96rm", 0, -1,
		     WANT({ 3, 19000, 52 }, { 3, 19062, 8 }, { 3, 19110, 12 }));
	/* ... and not with gap 0 */
	plan_profile("umg96rm", 125, 0,
		     WANT({ 3, 19000, 18 }, { 3, 19020, 32 }, { 3, 19062, 8 }, { 3, 19110, 12 }));
}

static void test_plan_one_per_value(void **state)
{
	struct profile *p = load_shipped("sdm630");
	struct regmap_plan pl;
	size_t i;

	(void)state;
	assert_int_equal(regmap_plan(p->regs, p->nregs, 2, 0, &pl), 0);
	assert_int_equal(pl.nreads, p->nregs);
	for (i = 0; i < pl.nreads; i++) {
		assert_int_equal(pl.reads[i].count, 2);
		assert_int_equal(pl.reads[i].nvalues, 1);
		assert_int_equal(pl.reads[i].address, p->regs[pl.order[i]].address);
		if (i > 0)
			assert_true(pl.reads[i].address > pl.reads[i - 1].address);
	}
	regmap_plan_free(&pl);
	profile_free(p);
}

/* Hand-made register lists: qty is irrelevant to planning. */
struct plan_case {
	const char *what;
	int max_regs, max_gap;
	struct { uint8_t fc; uint16_t addr; enum reg_type t; } regs[8];
	size_t nregs;
	int ret;
	struct want_read want[8];
	size_t nwant;
};

static const struct plan_case plan_cases[] = {
	{ "mixed FC 3/4 never share a read", 125, 10,
	  { { 3, 0, REG_FLOAT32 }, { 4, 2, REG_FLOAT32 }, { 3, 2, REG_FLOAT32 }, { 4, 0, REG_FLOAT32 } },
	  4, 0, { { 3, 0, 4 }, { 4, 0, 4 } }, 2 },
	{ "a float64 is never split", 6, 0,
	  { { 3, 0, REG_FLOAT64 }, { 3, 4, REG_FLOAT64 }, { 3, 8, REG_UINT16 } },
	  3, 0, { { 3, 0, 4 }, { 3, 4, 5 } }, 2 },
	{ "a value wider than max_registers", 3, 0,
	  { { 3, 0, REG_UINT16 }, { 3, 10, REG_FLOAT64 } }, 2, -1, { { 0, 0, 0 } }, 0 },
	{ "gap equal to max_gap joins", 125, 2,
	  { { 3, 0, REG_FLOAT32 }, { 3, 4, REG_FLOAT32 } }, 2, 0, { { 3, 0, 6 } }, 1 },
	{ "gap above max_gap splits", 125, 2,
	  { { 3, 0, REG_FLOAT32 }, { 3, 5, REG_FLOAT32 } }, 2, 0, { { 3, 0, 2 }, { 3, 5, 2 } }, 2 },
	{ "overlapping values share a read", 125, 0,
	  { { 3, 10, REG_FLOAT32 }, { 3, 11, REG_UINT16 }, { 3, 8, REG_FLOAT64 } },
	  3, 0, { { 3, 8, 4 } }, 1 },
	{ "span limit counts the whole read", 4, 0,
	  { { 3, 0, REG_UINT16 }, { 3, 1, REG_UINT16 }, { 3, 2, REG_UINT16 }, { 3, 3, REG_UINT16 },
	    { 3, 4, REG_UINT16 } },
	  5, 0, { { 3, 0, 4 }, { 3, 4, 1 } }, 2 },
	{ "top of the address space", 125, 0,
	  { { 4, 65532, REG_FLOAT64 }, { 4, 65530, REG_FLOAT32 } }, 2, 0, { { 4, 65530, 6 } }, 1 },
	{ "empty map", 125, 0, { { 0, 0, REG_UINT16 } }, 0, 0, { { 0, 0, 0 } }, 0 },
};

static void test_plan_cases(void **state)
{
	size_t i, k;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(plan_cases); i++) {
		const struct plan_case *c = &plan_cases[i];
		struct profile_reg regs[8];
		struct regmap_plan pl;
		int ret;

		memset(regs, 0, sizeof(regs));
		for (k = 0; k < c->nregs; k++) {
			regs[k].qty = QTY_V_L1N;
			regs[k].function = c->regs[k].fc;
			regs[k].address = c->regs[k].addr;
			regs[k].type = c->regs[k].t;
			regs[k].scale = 1;
		}
		ret = regmap_plan(regs, c->nregs, c->max_regs, c->max_gap, &pl);
		if (ret != c->ret)
			fail_msg("%s: returned %d, want %d", c->what, ret, c->ret);
		if (ret == 0)
			check_plan(c->what, &pl, regs, c->want, c->nwant);
		regmap_plan_free(&pl);
	}
}

static void test_plan_split(void **state)
{
	/* three reads: A B C at 0/2/4, D at 100, E F at 200/202 */
	static const uint16_t addrs[] = { 202, 0, 100, 4, 200, 2 };
	struct profile_reg regs[6];
	struct regmap_plan pl;
	size_t k;

	(void)state;
	memset(regs, 0, sizeof(regs));
	for (k = 0; k < 6; k++) {
		regs[k].qty = QTY_P_L1;
		regs[k].function = 3;
		regs[k].address = addrs[k];
		regs[k].type = REG_FLOAT32;
		regs[k].scale = 1;
	}
	assert_int_equal(regmap_plan(regs, 6, 125, 0, &pl), 0);
	check_plan("before split", &pl, regs, WANT({ 3, 0, 6 }, { 3, 100, 2 }, { 3, 200, 4 }));
	/* order: A(1) B(5) C(3) D(2) E(4) F(0) */
	assert_int_equal(pl.order[0], 1);
	assert_int_equal(pl.order[1], 5);
	assert_int_equal(pl.order[2], 3);
	assert_int_equal(pl.order[5], 0);

	assert_int_equal(regmap_plan_split(&pl, 0), 0);
	check_plan("after split of read 0", &pl, regs,
		   WANT({ 3, 0, 2 }, { 3, 2, 2 }, { 3, 4, 2 }, { 3, 100, 2 }, { 3, 200, 4 }));
	assert_int_equal(pl.reads[4].nvalues, 2);
	/* a single-value read cannot be split; neither can a read that is not there */
	assert_int_equal(regmap_plan_split(&pl, 3), -1);
	assert_int_equal(regmap_plan_split(&pl, 5), -1);
	assert_int_equal(regmap_plan_split(&pl, 4), 0);
	check_plan("after split of read 4", &pl, regs,
		   WANT({ 3, 0, 2 }, { 3, 2, 2 }, { 3, 4, 2 }, { 3, 100, 2 }, { 3, 200, 2 },
			{ 3, 202, 2 }));
	assert_int_equal(pl.order[5], 0);
	regmap_plan_free(&pl);
	assert_int_equal(pl.nreads, 0);
	assert_null(pl.reads);
}

/* A split read with a gap inside: each value keeps its own width. */
static void test_plan_split_gap(void **state)
{
	struct profile_reg regs[3];
	struct regmap_plan pl;

	(void)state;
	memset(regs, 0, sizeof(regs));
	regs[0] = (struct profile_reg){ .qty = QTY_E_IMP, .function = 3, .address = 801,
					.type = REG_FLOAT64, .scale = 1 };
	regs[1] = (struct profile_reg){ .qty = QTY_E_EXP, .function = 3, .address = 809,
					.type = REG_FLOAT64, .scale = 1 };
	regs[2] = (struct profile_reg){ .qty = QTY_FREQ, .function = 3, .address = 813,
					.type = REG_UINT16, .scale = 1 };
	assert_int_equal(regmap_plan(regs, 3, 125, 4, &pl), 0);
	check_plan("gap 4", &pl, regs, WANT({ 3, 801, 13 }));
	assert_int_equal(regmap_plan_split(&pl, 0), 0);
	check_plan("split", &pl, regs, WANT({ 3, 801, 4 }, { 3, 809, 4 }, { 3, 813, 1 }));
	regmap_plan_free(&pl);
}

/* ---- replies ------------------------------------------------------------ */

/*
 * A read of 2 holding registers at unit 1, transaction id 0 (what
 * modbus_send_raw_request sends): the good reply carries 0x1234 0xABCD.
 */
static const struct {
	const char *name;
	uint8_t adu[16];
	size_t len;
	enum regmap_reply want;
	const char *why; /* BAD: the reason; EXCEPTION: the code as text */
} reply_cases[] = {
	{ "good", { 0, 0, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13, REGMAP_REPLY_OK, "" },
	{ "another unit (W1)", { 0, 0, 0, 0, 0, 7, 6, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  REGMAP_REPLY_BAD, "reply from unit 6, expected unit 1" },
	{ "MBAP length 50 too long (W1 truncated)",
	  { 0, 0, 0, 0, 0, 57, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13, REGMAP_REPLY_BAD,
	  "MBAP length 57 but 7 bytes (unit id and PDU) came" },
	{ "MBAP length too short", { 0, 0, 0, 0, 0, 3, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  REGMAP_REPLY_BAD, "MBAP length 3 but 7 bytes (unit id and PDU) came" },
	{ "protocol id", { 0, 0, 0, 1, 0, 7, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  REGMAP_REPLY_BAD, "protocol id 1 in the reply, not 0 (Modbus)" },
	{ "protocol id high byte", { 0, 0, 1, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  REGMAP_REPLY_BAD, "protocol id 256 in the reply, not 0 (Modbus)" },
	{ "transaction id", { 0, 9, 0, 0, 0, 7, 1, 3, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  REGMAP_REPLY_BAD, "reply with transaction id 9, expected 0" },
	{ "function code", { 0, 0, 0, 0, 0, 7, 1, 4, 4, 0x12, 0x34, 0xAB, 0xCD }, 13,
	  REGMAP_REPLY_BAD, "function code 4 in the reply to function 3" },
	{ "byte count", { 0, 0, 0, 0, 0, 5, 1, 3, 2, 0x12, 0x34 }, 11, REGMAP_REPLY_BAD,
	  "2 data bytes in the reply to a read of 2 registers" },
	{ "too short", { 0, 0, 0, 0, 0, 2, 1, 3 }, 8, REGMAP_REPLY_BAD,
	  "reply of 8 bytes is too short" },
	{ "exception", { 0, 0, 0, 0, 0, 3, 1, 0x83, 2 }, 9, REGMAP_REPLY_EXCEPTION, "2" },
	{ "exception from another unit", { 0, 0, 0, 0, 0, 3, 7, 0x83, 2 }, 9, REGMAP_REPLY_BAD,
	  "reply from unit 7, expected unit 1" },
	{ "exception to another function", { 0, 0, 0, 0, 0, 3, 1, 0x84, 2 }, 9,
	  REGMAP_REPLY_BAD, "function code 132 in the reply to function 3" },
};

static void test_check_reply(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(reply_cases); i++) {
		uint16_t regs[2] = { 0, 0 };
		char why[160] = "";
		int exc = -1;
		enum regmap_reply r;

		r = regmap_check_reply(reply_cases[i].adu, reply_cases[i].len, 0, 1, 3, 2, regs,
				       &exc, why, sizeof(why));
		if (r != reply_cases[i].want)
			fail_msg("%s: result %d, want %d (%s)", reply_cases[i].name, (int)r,
				 (int)reply_cases[i].want, why);
		if (r == REGMAP_REPLY_BAD) {
			assert_string_equal(why, reply_cases[i].why);
		} else if (r == REGMAP_REPLY_EXCEPTION) {
			assert_int_equal(exc, atoi(reply_cases[i].why));
		} else {
			assert_int_equal(regs[0], 0x1234);
			assert_int_equal(regs[1], 0xABCD);
			assert_int_equal(exc, 0);
		}
	}
	/* The transaction id asked for is compared; a full-size reply decodes. */
	{
		uint8_t adu[9 + 250];
		uint16_t regs[125];
		char why[160];
		int exc, k;

		memset(adu, 0, sizeof(adu));
		adu[0] = 0x12;
		adu[1] = 0x34;
		adu[4] = 0;
		adu[5] = 3 + 250;
		adu[6] = 247;
		adu[7] = 4;
		adu[8] = 250;
		for (k = 0; k < 125; k++) {
			adu[9 + 2 * k] = (uint8_t)(k >> 8 | 0x80);
			adu[10 + 2 * k] = (uint8_t)k;
		}
		assert_int_equal(regmap_check_reply(adu, sizeof(adu), 0x1234, 247, 4, 125, regs,
						    &exc, why, sizeof(why)),
				 REGMAP_REPLY_OK);
		for (k = 0; k < 125; k++)
			assert_int_equal(regs[k], 0x8000 | k);
		assert_int_equal(regmap_check_reply(adu, sizeof(adu), 0x1235, 247, 4, 125, regs,
						    &exc, why, sizeof(why)),
				 REGMAP_REPLY_BAD);
		assert_string_equal(why, "reply with transaction id 4660, expected 4661");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_float32_vs_libmodbus),
		cmocka_unit_test(test_float32_shortest),
		cmocka_unit_test(test_float32_fast),
		cmocka_unit_test(test_float32_orders_differ),
		cmocka_unit_test(test_hand_written_registers),
		cmocka_unit_test(test_type_words),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_encode_round_saturate),
		cmocka_unit_test(test_round_trip_all),
		cmocka_unit_test(test_plan_shipped),
		cmocka_unit_test(test_plan_one_per_value),
		cmocka_unit_test(test_plan_cases),
		cmocka_unit_test(test_plan_split),
		cmocka_unit_test(test_plan_split_gap),
		cmocka_unit_test(test_check_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
