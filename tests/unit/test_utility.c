// SPDX-License-Identifier: MIT
/*
 * Utility meters: the unit table, pulse and calorific values, every
 * utility profile's decode with exact values (registers made with
 * regmap_encode, JSON payloads), a uint32 counter across its wrap (a
 * counter reset: no huge delta), the gas energy derived from volume, and
 * the configuration's utility=, pulse_value= and calorific_value= with
 * their file:line errors.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "phasor/config.h"
#include "phasor/diag.h"
#include "phasor/history.h"
#include "phasor/live.h"
#include "phasor/payload.h"
#include "phasor/profile.h"
#include "phasor/qty.h"
#include "phasor/regmap.h"
#include "phasor/util.h"
#include "phasor/utility.h"
#include "support.h"
#include "support_config.h"

static struct profile *load(const char *name)
{
	char path[4096];
	struct diag d;
	struct profile *p;

	diag_init(&d);
	assert_int_equal(profile_find(name, path, sizeof(path)), 0);
	p = profile_load(path, name, &d);
	if (p == NULL)
		diag_print(&d, stderr);
	diag_clear(&d);
	assert_non_null(p);
	return p;
}

static const struct profile_reg *reg_of(const struct profile *p, int qty)
{
	size_t i;

	for (i = 0; i < p->nregs; i++)
		if (p->regs[i].qty == qty)
			return &p->regs[i];
	fail_msg("%s has no register for %d", p->name, qty);
	return NULL;
}

/* The value a reader decodes from the register image of raw (the
 * register's own units, before scale), and its quality. */
static double decode_raw(const struct profile *p, int qty, double raw, enum quality *q)
{
	const struct profile_reg *r = reg_of(p, qty);
	uint16_t words[4];
	double v;
	enum quality got;

	regmap_encode(raw, r->type, r->order, words);
	got = regmap_decode(r, words, &v);
	if (q != NULL)
		*q = got;
	return v;
}

static double decode(const struct profile *p, int qty, double raw)
{
	enum quality q;
	double v = decode_raw(p, qty, raw, &q);

	assert_int_equal(q, QUALITY_GOOD);
	return v;
}

/* ---- units, pulses, calorific values ------------------------------------------ */

static void test_units(void **state)
{
	static const struct {
		const char *unit;
		unsigned qty;
		int rc;
		double factor, offset;
	} rows[] = {
		{ "m3/h", QTY_FLOW, 0, 1, 0 },	     { "Nm3/h", QTY_FLOW, 0, 1, 0 },
		{ "l/min", QTY_FLOW, 0, 0.06, 0 },   { "l/s", QTY_FLOW, 0, 3.6, 0 },
		{ "m3/min", QTY_FLOW, 0, 60, 0 },    { "l", QTY_VOLUME, 0, 0.001, 0 },
		{ "Nm3", QTY_VOLUME, 0, 1, 0 },	     { "mbar", QTY_PRESSURE, 0, 0.001, 0 },
		{ "kPa", QTY_PRESSURE, 0, 0.01, 0 }, { "bar", QTY_PRESSURE, 0, 1, 0 },
		{ "K", QTY_TEMP, 0, 1, -273.15 },    { "kWh", QTY_E_IMP, 0, 1000, 0 },
		{ "kW", QTY_P_TOTAL, 0, 1000, 0 },   { "l", QTY_FLOW, -2, 0, 0 },
		{ "mbar", QTY_TEMP, -2, 0, 0 },	     { "furlong", QTY_VOLUME, -1, 0, 0 },
	};
	double f, o;
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		f = o = -99;
		assert_int_equal(utility_unit(rows[i].unit, rows[i].qty, &f, &o), rows[i].rc);
		if (rows[i].rc == 0) {
			assert_true(f == rows[i].factor);
			assert_true(o == rows[i].offset);
		}
	}
	/* degF: 212 F is 100 C, 32 F is 0 C */
	assert_int_equal(utility_unit("degF", QTY_TEMP, &f, &o), 0);
	assert_true(fabs(212 * f + o - 100) < 1e-12);
	assert_true(fabs(32 * f + o) < 1e-12);
	assert_string_equal(utility_units_for(QTY_PRESSURE), "bar, mbar, Pa, hPa, kPa, MPa, psi");
}

static void test_pulse_values(void **state)
{
	static const struct {
		const char *text;
		int rc;
		unsigned qty;
		double si;
	} rows[] = {
		{ "10 l", 0, QTY_VOLUME, 0.01 },   { "10l", 0, QTY_VOLUME, 0.01 },
		{ "0.01 m3", 0, QTY_VOLUME, 0.01 }, { "1 kWh", 0, QTY_E_IMP, 1000 },
		{ "500 Wh", 0, QTY_E_IMP, 500 },   { "1 Nm3", 0, QTY_VOLUME, 1 },
		{ "0.1 l", 0, QTY_VOLUME, 0.0001 }, { "10", -1, 0, 0 },
		{ "-1 l", -1, 0, 0 },		   { "0 l", -1, 0, 0 },
		{ "10 kg", -1, 0, 0 },		   { "l", -1, 0, 0 },
	};
	char why[160];
	unsigned q;
	double si, cv;
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		q = 0;
		si = 0;
		assert_int_equal(utility_parse_pulse(rows[i].text, &q, &si, why, sizeof(why)),
				 rows[i].rc);
		if (rows[i].rc == 0) {
			assert_int_equal(q, rows[i].qty);
			assert_true(si == rows[i].si);
		}
	}
	assert_int_equal(utility_parse_pulse("10 kg", &q, &si, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown unit 'kg' (a volume: l, hl, m3, Nm3, ft3; an energy: "
				 "Wh, kWh, MWh)");

	assert_int_equal(utility_parse_calorific("10.5", &cv, why, sizeof(why)), 0);
	assert_true(cv == 10.5);
	assert_int_equal(utility_parse_calorific("11.2 kWh/m3", &cv, why, sizeof(why)), 0);
	assert_true(cv == 11.2);
	assert_int_equal(utility_parse_calorific("36 MJ/m3", &cv, why, sizeof(why)), 0);
	assert_true(cv == 10);
	assert_int_equal(utility_parse_calorific("0", &cv, why, sizeof(why)), -1);
	assert_string_equal(why, "out of range 0.1..100 kWh/m3");
	assert_int_equal(utility_parse_calorific("10 kWh", &cv, why, sizeof(why)), -1);
	assert_string_equal(why, "unknown unit 'kWh' (kWh/m3 or MJ/m3)");
}

/* ---- Modbus profiles: values exact ---------------------------------------------- */

static void test_gas_meter(void **state)
{
	struct profile *p = load("gas-meter");

	(void)state;
	assert_int_equal(p->utility, UTILITY_GAS);
	assert_true(decode(p, QTY_VOLUME, 123456789) == 1234567.89);
	assert_true(decode(p, QTY_VOLUME, 4294967295.0) == 42949672.95);
	assert_true(decode(p, QTY_FLOW, 12.5) == 12.5);
	assert_true(decode(p, QTY_FLOW, 0) == 0);
	assert_true(decode(p, QTY_PRESSURE, 21.7) == 0.0217); /* mbar -> bar */
	assert_true(decode(p, QTY_TEMP, 18.25) == 18.25);
	profile_free(p);
}

static void test_water_meter(void **state)
{
	struct profile *p = load("water-meter");
	const struct profile_reg *r;
	uint16_t words[2];
	double v;

	(void)state;
	assert_int_equal(p->utility, UTILITY_WATER);
	assert_true(decode(p, QTY_FLOW, 2.5) == 9.0);	  /* l/s -> m3/h */
	assert_true(decode(p, QTY_FLOW, 0.125) == 0.45);
	assert_true(decode(p, QTY_VOLUME, 5321.75) == 5321.75);
	assert_true(decode(p, QTY_TEMP, 11.5) == 11.5);
	/* low word first on the wire: 5321.75 is 0x45A64E00 */
	r = reg_of(p, QTY_VOLUME);
	words[0] = 0x4E00;
	words[1] = 0x45A6;
	assert_int_equal(regmap_decode(r, words, &v), QUALITY_GOOD);
	assert_true(v == 5321.75);
	profile_free(p);
}

static void test_air_flow(void **state)
{
	struct profile *p = load("air-flow");

	(void)state;
	assert_int_equal(p->utility, UTILITY_AIR);
	assert_true(decode(p, QTY_FLOW, 350.5) == 350.5);
	assert_true(decode(p, QTY_VOLUME, 98765432) == 9876543.2);
	assert_true(decode(p, QTY_VOLUME, 4294967295.0) == 429496729.5); /* its last value */
	assert_true(decode(p, QTY_PRESSURE, 6.85) == 6.85);
	assert_true(decode(p, QTY_TEMP, 28.5) == 28.5);
	profile_free(p);
}

static void test_pulse_counter(void **state)
{
	struct profile *p = load("pulse-counter"), *vol, *en;

	(void)state;
	assert_true(p->pulses);
	assert_false(profile_maps(p, QTY_VOLUME));
	vol = profile_with_pulses(p, QTY_VOLUME, 0.01); /* pulse_value = 10 l */
	en = profile_with_pulses(p, QTY_E_IMP, 1000);   /* pulse_value = 1 kWh */
	assert_true(profile_maps(vol, QTY_VOLUME));
	assert_false(vol->pulses);
	assert_true(decode(vol, QTY_VOLUME, 123456) == 1234.56);
	assert_true(decode(vol, QTY_VOLUME, 4294967295.0) == 42949672.95);
	assert_true(decode(en, QTY_E_IMP, 5) == 5000);
	/* the original still counts pulses */
	assert_int_equal(p->regs[0].qty, PROFILE_PULSES);
	profile_free(vol);
	profile_free(en);
	profile_free(p);
}

/* ---- counters across a wrap ----------------------------------------------------- */

static struct sample smp(int64_t t_us, unsigned qty, double v)
{
	struct sample s = { .t_us = t_us, .value = v, .meter = 0, .qty = (uint16_t)qty };

	s.quality = (uint8_t)qty_quality(qty, v);
	return s;
}

/* A uint32 in 0.01 m3 passes 42,949,672.95 m3 and starts again at 0: one
 * wrap, not a reset, and the joined counter moves by the rises, the step
 * across the wrap counted exactly (0.3 + 42,949,672.96 - 42,949,672.9 =
 * 0.36 m3; never a 43 million m3 delta); its derived gas energy too. */
static void test_uint32_wrap(void **state)
{
	static const char text[] = "[meter gas]\ndriver = modbus\nprofile = gas-meter\n"
				   "host = 10.0.0.1\ncalorific_value = 10.5\n";
	struct profile *p = load("gas-meter");
	struct diag d;
	struct config *c;
	struct live *l;
	struct live_counter lc;
	int64_t t0 = util_now_us() - 10 * 1000000;
	double raw[] = { 4294967200.0, 4294967290.0, 30.0, 150.0 };
	struct sample s[4], e[4];
	double cv[1] = { 10.5 };
	size_t i;

	(void)state;
	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_true(config_derives_energy(c, &c->meters[0]));
	l = live_new(c, NULL, NULL);
	for (i = 0; i < 4; i++)
		s[i] = smp(t0 + (int64_t)i * 1000000, QTY_VOLUME, decode(p, QTY_VOLUME, raw[i]));
	assert_true(s[1].value == 42949672.9);
	assert_true(s[2].value == 0.3);
	live_apply(l, s, 4);
	assert_true(config_counter_span(c, &c->meters[0], QTY_VOLUME) == 42949672.96);
	assert_true(config_counter_span(c, &c->meters[0], QTY_E_IMP) ==
		    42949672.96 * 10.5 * 1000.0);
	assert_true(config_counter_span(c, &c->meters[0], QTY_FLOW) == 0); /* a float32 */
	assert_true(live_counter(l, 0, QTY_VOLUME, &lc));
	assert_int_equal(lc.resets, 0);
	assert_int_equal(live_meter_const(l, 0)->counter_wraps, 1);
	assert_true(fabs((lc.joined - lc.first) - (0.9 + 0.36 + 1.2)) < 1e-6);

	/* the derived gas energy wraps with it, and bridges the same way */
	assert_int_equal(utility_derive_energy(s, 4, cv, 1, e, 4), 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(e[i].qty, QTY_E_IMP);
		assert_true(e[i].value == s[i].value * 10.5 * 1000);
		assert_true(e[i].t_us == s[i].t_us);
	}
	live_apply(l, e, 4);
	assert_true(live_counter(l, 0, QTY_E_IMP, &lc));
	assert_int_equal(lc.resets, 0);
	assert_true(fabs((lc.joined - lc.first) - 2.46 * 10500) < 1e-3);
	/* a true reset after that (maintenance sets it to 0 from mid-range):
	 * bridged, nothing counted */
	s[0] = smp(t0 + 4 * 1000000, QTY_VOLUME, 1000.0);
	s[1] = smp(t0 + 5 * 1000000, QTY_VOLUME, 0.0);
	live_apply(l, s, 2);
	assert_true(live_counter(l, 0, QTY_VOLUME, &lc));
	assert_int_equal(lc.resets, 1);
	assert_int_equal(live_meter_const(l, 0)->counter_wraps, 2); /* volume and e_imp */
	/* no calorific value, or another quantity: nothing derived */
	cv[0] = NAN;
	assert_int_equal(utility_derive_energy(s, 4, cv, 1, e, 4), 0);
	live_free(l);
	config_free(c);
	profile_free(p);
}

/* The rule: a wrap from near the top of the span to near 0 counts exactly;
 * a drop that is not one is a reset (0); rounding is a (tiny) rise. */
static void test_counter_rise(void **state)
{
	const double span = 42949672.96;

	(void)state;
	assert_true(utility_counter_rise(42949672.9, 0.3, span) == 0.3 + span - 42949672.9);
	assert_true(fabs(utility_counter_rise(42949672.9, 0.3, span) - 0.36) < 1e-6);
	assert_true(utility_counter_wrapped(42949672.9, 0.3, span));
	/* the step across a wrap, at most 1 % of the span together */
	assert_true(utility_counter_wrapped(span * 0.996, span * 0.004, span));
	assert_false(utility_counter_wrapped(span * 0.99, span * 0.02, span));
	/* resets: from mid-range to 0, from the top to mid-range, unknown span */
	assert_true(utility_counter_rise(20000000.0, 0.0, span) == 0);
	assert_false(utility_counter_wrapped(20000000.0, 0.0, span));
	assert_true(utility_counter_rise(42949672.9, 10000000.0, span) == 0);
	assert_true(utility_counter_rise(42949672.9, 0.3, 0) == 0);
	/* a value beyond the span is not this register's */
	assert_false(utility_counter_wrapped(span + 1, 0.3, span));
	/* rises, and rounding under a millionth */
	assert_true(utility_counter_rise(100, 150, span) == 50);
	assert_true(utility_counter_rise(100, 99.99999, span) < 0);
	/* uint16 x 1 (65,536 pulses) */
	assert_true(utility_counter_rise(65530, 4, 65536) == 10);
}

/* ---- MQTT profiles ---------------------------------------------------------------- */

static size_t decode_json(const struct profile *p, const char *json, struct sample *out,
			  size_t cap)
{
	char err[160] = "";
	size_t n = 0;

	assert_int_equal(payload_decode(p, "t/SENSOR", json, strlen(json), 0, 1, out, cap, &n,
					err, sizeof(err)),
			 PAYLOAD_OK);
	return n;
}

static double value_of(const struct sample *s, size_t n, unsigned qty)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i].qty == qty) {
			assert_int_equal(s[i].quality, QUALITY_GOOD);
			return s[i].value;
		}
	fail_msg("no %s", qty_name(qty));
	return NAN;
}

static void test_mqtt_profiles(void **state)
{
	static const char text[] =
		"[mqtt]\nuri = tcp://127.0.0.1:1883\n"
		"[meter well]\ndriver = mqtt\nprofile = tasmota-counter\ntopic = tele/well/SENSOR\n"
		"utility = water\npulse_value = 10 l\n"
		"[meter hall]\ndriver = mqtt\nprofile = utility-json\ntopic = gw/hall\n"
		"utility = air\n";
	struct profile *p = load("utility-json");
	struct sample s[16];
	struct diag d;
	struct config *c;
	size_t n;

	(void)state;
	n = decode_json(p, "{\"flow\": 12.5, \"volume\": 1234.56, \"pressure\": 6.9, "
			   "\"temperature\": 21.5}", s, 16);
	assert_int_equal(n, 4);
	assert_true(value_of(s, n, QTY_FLOW) == 12.5);
	assert_true(value_of(s, n, QTY_VOLUME) == 1234.56);
	assert_true(value_of(s, n, QTY_PRESSURE) == 6.9);
	assert_true(value_of(s, n, QTY_TEMP) == 21.5);
	profile_free(p);

	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(c->meters[0].utility, UTILITY_WATER);
	assert_int_equal(c->meters[1].utility, UTILITY_AIR);
	assert_true(c->meters[0].pulse_si == 0.01);
	n = decode_json(c->meters[0].profile,
			"{\"Time\":\"2026-12-07T10:00:00\",\"COUNTER\":{\"C1\":123456},"
			"\"DS18B20\":{\"Id\":\"0316\",\"Temperature\":19.5},\"TempUnit\":\"C\"}",
			s, 16);
	assert_int_equal(n, 2);
	assert_true(value_of(s, n, QTY_VOLUME) == 1234.56);
	assert_true(value_of(s, n, QTY_TEMP) == 19.5);
	config_free(c);
}

/* ---- configuration --------------------------------------------------------------- */

/* want: NULL-ended */
#define expect expect_errors_v

#define MODBUS(name, profile) \
	"[meter " name "]\ndriver = modbus\nprofile = " profile "\nhost = 10.0.0.1\n"

static void test_config_keys(void **state)
{
	struct diag d;
	struct config *c;

	(void)state;
	/* defaults from the profiles; [site] calorific_value for gas meters */
	diag_init(&d);
	c = config_load_string("[site]\ncalorific_value = 11.1\n" MODBUS("g", "gas-meter")
			       "[meter w]\ndriver = modbus\nprofile = water-meter\n"
			       "host = 10.0.0.2\n"
			       "[meter e]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.3\n"
			       "[meter p]\ndriver = modbus\nprofile = pulse-counter\n"
			       "host = 10.0.0.4\nutility = heat\npulse_value = 1 kWh\n"
			       "[meter g2]\ndriver = modbus\nprofile = gas-meter\n"
			       "host = 10.0.0.5\ncalorific_value = 37.8 MJ/m3\n",
			       "t.ini", &d);
	diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(c->meters[0].utility, UTILITY_GAS);
	assert_true(config_calorific(c, &c->meters[0]) == 11.1);
	assert_int_equal(c->meters[1].utility, UTILITY_WATER);
	assert_true(isnan(config_calorific(c, &c->meters[1])));
	assert_false(config_derives_energy(c, &c->meters[1]));
	assert_int_equal(c->meters[2].utility, UTILITY_ELECTRICITY);
	assert_int_equal(c->meters[3].utility, UTILITY_HEAT);
	assert_true(profile_maps(c->meters[3].profile, QTY_E_IMP));
	assert_true(c->meters[3].profile->regs[0].scale == 1000);
	assert_true(fabs(config_calorific(c, &c->meters[4]) - 10.5) < 1e-12);
	config_free(c);

	expect(MODBUS("g", "gas-meter") "utility = gaz\n",
	       (const char *const[]){ "t.ini:5: utility: gaz is not a utility (electricity, gas, "
				      "water, air, heat); did you mean 'gas'?",
				      NULL });
	expect(MODBUS("w", "water-meter") "calorific_value = 10.5\n",
	       (const char *const[]){ "t.ini:5: calorific_value is for gas meters; meter w has "
				      "utility = water (its profile's: set utility = gas)",
				      NULL });
	expect(MODBUS("g", "gas-meter") "calorific_value = 500\n",
	       (const char *const[]){ "t.ini:5: calorific_value: 500: out of range 0.1..100 kWh/m3",
				      NULL });
	expect("[site]\ncalorific_value = x\n" MODBUS("g", "gas-meter"),
	       (const char *const[]){ "t.ini:2: calorific_value: x: a number in kWh/m3, e.g. "
				      "10.5 or 37.8 MJ/m3",
				      NULL });
	expect(MODBUS("p", "pulse-counter") "utility = water\n",
	       (const char *const[]){ "t.ini:1: meter p: profile pulse-counter counts pulses: add "
				      "pulse_value (what one pulse is, e.g. pulse_value = 10 l, "
				      "0.01 m3, 1 kWh)",
				      NULL });
	expect(MODBUS("p", "pulse-counter") "pulse_value = 10 l\n",
	       (const char *const[]){ "t.ini:5: pulse_value: a pulse of volume is a volume, but "
				      "meter p has utility = electricity (set utility = gas, "
				      "water or air)",
				      NULL });
	expect(MODBUS("p", "pulse-counter") "utility = gas\npulse_value = 2 kWh\n",
	       (const char *const[]){ "t.ini:6: pulse_value: a pulse of energy is an energy, but "
				      "meter p has utility = gas (set utility = electricity or "
				      "heat)",
				      NULL });
	expect(MODBUS("p", "pulse-counter") "utility = gas\npulse_value = 10 kg\n",
	       (const char *const[]){ "t.ini:6: pulse_value: 10 kg: unknown unit 'kg' (a volume: "
				      "l, hl, m3, Nm3, ft3; an energy: Wh, kWh, MWh)",
				      NULL });
	expect(MODBUS("g", "gas-meter") "pulse_value = 10 l\n",
	       (const char *const[]){ "t.ini:5: pulse_value: profile gas-meter counts no pulses "
				      "(its values are in units already)",
				      NULL });
	expect(MODBUS("g", "gas-meter") "pulse_vlaue = 10 l\n",
	       (const char *const[]){ "t.ini:5: unknown key 'pulse_vlaue' in [meter g]; did you "
				      "mean 'pulse_value'?",
				      NULL });
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_pulse_values),
		cmocka_unit_test(test_gas_meter),
		cmocka_unit_test(test_water_meter),
		cmocka_unit_test(test_air_flow),
		cmocka_unit_test(test_pulse_counter),
		cmocka_unit_test(test_uint32_wrap),
		cmocka_unit_test(test_counter_rise),
		cmocka_unit_test(test_mqtt_profiles),
		cmocka_unit_test(test_config_keys),
	};

	setenv("PHASOR_PROFILES", test_path("conf/profiles"), 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
