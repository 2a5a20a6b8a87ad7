// SPDX-License-Identifier: MIT
/*
 * Tests of simmodel: fault specs, determinism, counters, shifts, the
 * electrical identities and plausibility per load kind, and every fault
 * kind against the thresholds of the brief (before, during, after).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/qty.h"
#include "phasor/simmodel.h"
#include "phasor/utility.h"

/* Monday 2026-11-23 00:00:00 UTC (the tests run with TZ=UTC). */
#define MONDAY_US (1795392000LL * 1000000LL)
#define HOUR 3600.0
#define DAY 86400.0

static bool close_rel(double a, double b, double rel)
{
	return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-9;
}

/* NEMA unbalance: 100 x max |x - mean| / mean. */
static double nema(double a, double b, double c)
{
	double mean = (a + b + c) / 3.0;

	if (mean <= 0)
		return 0;
	return 100.0 * fmax(fabs(a - mean), fmax(fabs(b - mean), fabs(c - mean))) / mean;
}

/* ---- fault specs -------------------------------------------------------- */

static void test_parse_fault_ok(void **state)
{
	static const struct {
		const char *spec;
		enum sim_fault_kind kind;
		unsigned unit;
		double start, duration;
	} cases[] = {
		{ "undervoltage", SIM_FAULT_UNDERVOLTAGE, 0, 0, -1 },
		{ "overvoltage:3", SIM_FAULT_OVERVOLTAGE, 3, 0, -1 },
		{ "phase-loss@10", SIM_FAULT_PHASE_LOSS, 0, 10, -1 },
		{ "overload:247@2.5", SIM_FAULT_OVERLOAD, 247, 2.5, -1 },
		{ "low-pf:1@5+20", SIM_FAULT_LOW_PF, 1, 5, 20 },
		{ "unbalance@0+1", SIM_FAULT_UNBALANCE, 0, 0, 1 },
		{ "thd:2@1m+30s", SIM_FAULT_THD, 2, 60, 30 },
		{ "timeout:3@5+20", SIM_FAULT_TIMEOUT, 3, 5, 20 },
		{ "nan:4", SIM_FAULT_NAN, 4, 0, -1 },
		{ "wrong-unit:2@3+4", SIM_FAULT_WRONG_UNIT, 2, 3, 4 },
		{ "bad-length", SIM_FAULT_BAD_LENGTH, 0, 0, -1 },
		{ "late:1@2", SIM_FAULT_LATE, 1, 2, -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_fault f;
		char *cause = NULL;

		if (simmodel_parse_fault(cases[i].spec, &f, &cause) != 0)
			fail_msg("%s: %s", cases[i].spec, cause);
		assert_null(cause);
		assert_int_equal(f.kind, cases[i].kind);
		assert_int_equal(f.unit, cases[i].unit);
		assert_true(fabs(f.start_s - cases[i].start) < 1e-9);
		assert_true(fabs(f.duration_s - cases[i].duration) < 1e-9);
		assert_string_equal(simmodel_fault_name(f.kind),
				    strtok(strcpy((char[64]){ 0 }, cases[i].spec), ":@"));
	}
}

static void test_parse_fault_errors(void **state)
{
	static const struct {
		const char *spec, *message;
	} cases[] = {
		{ "", "empty" },
		{ "undervoltag", "did you mean 'undervoltage'" },
		{ "phaseloss:2", "did you mean 'phase-loss'" },
		{ "brownout", "unknown kind 'brownout'" },
		{ "thd:0", "unit 0 out of range 1..247" },
		{ "thd:248", "unit 248 out of range" },
		{ "thd:x", "bad unit" },
		{ "thd:", "bad unit" },
		{ "nan@-5", "negative start" },
		{ "nan@abc", "bad start" },
		{ "nan@5+-1", "negative duration" },
		{ "nan@5+0", "duration must be positive" },
		{ "nan@5+", "bad duration" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_fault f;
		char *cause = NULL;

		assert_int_equal(simmodel_parse_fault(cases[i].spec, &f, &cause), -1);
		assert_non_null(cause);
		if (strstr(cause, cases[i].message) == NULL)
			fail_msg("'%s': '%s' lacks '%s'", cases[i].spec, cause, cases[i].message);
		free(cause);
	}
}

/* ---- determinism ---------------------------------------------------------- */

static void advance_irregular(struct simmodel *m, double until)
{
	double t = 0;

	/* 1 s, 7 s, 60 s and fractional steps mixed. */
	while (t < until) {
		static const double steps[] = { 1, 7, 0.5, 60, 2.5, 13 };
		static size_t k;

		t = fmin(until, t + steps[k++ % 6]);
		simmodel_advance(m, t);
	}
}

static void test_determinism(void **state)
{
	struct simmodel *a = simmodel_new(10, 42, MONDAY_US + (int64_t)(8 * HOUR * 1e6));
	struct simmodel *b = simmodel_new(10, 42, MONDAY_US + (int64_t)(8 * HOUR * 1e6));
	struct simmodel *c = simmodel_new(10, 43, MONDAY_US + (int64_t)(8 * HOUR * 1e6));
	struct simmodel *three = simmodel_new(3, 42, MONDAY_US + (int64_t)(8 * HOUR * 1e6));
	size_t i, bytes = QTY__COUNT * sizeof(double);
	double t;

	(void)state;
	/* Same seed, same elapsed sequence: the same bits; the same sequence of
	 * whole seconds however it is cut into advance() calls. */
	for (t = 60; t <= 2 * HOUR; t += 60) {
		simmodel_advance(a, t);
		simmodel_advance(b, t);
		simmodel_advance(c, t);
		simmodel_advance(three, t);
		for (i = 0; i < 10; i++)
			assert_memory_equal(simmodel_values(a, i), simmodel_values(b, i), bytes);
		/* Meter 3 does not know how many meters the plant has. */
		assert_memory_equal(simmodel_values(a, 2), simmodel_values(three, 2), bytes);
		assert_memory_equal(simmodel_values(a, 1), simmodel_values(three, 1), bytes);
	}
	/* Another seed: other values on every meter. */
	for (i = 0; i < 10; i++)
		assert_true(simmodel_values(a, i)[QTY_V_L1N] != simmodel_values(c, i)[QTY_V_L1N]);
	assert_true(simmodel_values(a, 0)[QTY_E_IMP] != simmodel_values(c, 0)[QTY_E_IMP]);

	/* 1 s steps versus one jump to the same whole second. */
	{
		struct simmodel *d = simmodel_new(5, 42, MONDAY_US);
		struct simmodel *e = simmodel_new(5, 42, MONDAY_US);

		for (t = 1; t <= 600; t++)
			simmodel_advance(d, t);
		simmodel_advance(e, 600);
		for (i = 0; i < 5; i++)
			assert_memory_equal(simmodel_values(d, i), simmodel_values(e, i), bytes);
		/* Going back is a no-op. */
		simmodel_advance(e, 300);
		assert_memory_equal(simmodel_values(d, 0), simmodel_values(e, 0), bytes);
		simmodel_free(d);
		simmodel_free(e);
	}
	/* Irregular steps (fractions included) are reproducible too. */
	{
		struct simmodel *d = simmodel_new(6, 9, MONDAY_US);
		struct simmodel *e = simmodel_new(6, 9, MONDAY_US);

		advance_irregular(d, 1000);
		advance_irregular(e, 1000);
		for (i = 0; i < 6; i++)
			assert_memory_equal(simmodel_values(d, i), simmodel_values(e, i), bytes);
		simmodel_free(d);
		simmodel_free(e);
	}
	simmodel_free(a);
	simmodel_free(b);
	simmodel_free(c);
	simmodel_free(three);
}

/* ---- counters and shifts over a week -------------------------------------- */

static const int counters[] = {
	QTY_E_IMP, QTY_E_EXP, QTY_EQ_IMP, QTY_EQ_EXP, QTY_E_IMP_L1, QTY_E_IMP_L2,
	QTY_E_IMP_L3, QTY_E_EXP_L1, QTY_E_EXP_L2, QTY_E_EXP_L3,
};

static void test_week(void **state)
{
	enum { N = 6 };
	struct simmodel *m = simmodel_new(N, 7, MONDAY_US);
	double prev[N][QTY__COUNT], e0[N], integral[N] = { 0 };
	double hour_sum = 0, day = 0, night = 0, weekend = 0;
	double day_min = INFINITY, weekend_max = 0;
	int hour_n = 0, nday = 0, nnight = 0, nweekend = 0;
	size_t i, k;
	double t;

	(void)state;
	for (i = 0; i < N; i++) {
		memcpy(prev[i], simmodel_values(m, i), sizeof(prev[i]));
		e0[i] = prev[i][QTY_E_IMP];
		/* A plausible past, per phase adding up. */
		assert_true(e0[i] > 1e6);
		assert_true(close_rel(e0[i], prev[i][QTY_E_IMP_L1] + prev[i][QTY_E_IMP_L2] +
						     prev[i][QTY_E_IMP_L3], 1e-12));
	}
	for (t = 60; t <= 7 * DAY; t += 60) {
		simmodel_advance(m, t);
		for (i = 0; i < N; i++) {
			const double *v = simmodel_values(m, i);

			for (k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
				if (v[counters[k]] < prev[i][counters[k]])
					fail_msg("meter %zu: %s went down at %.0f s", i + 1,
						 qty_name((unsigned)counters[k]), t);
			/* Pure loads export nothing. */
			assert_true(v[QTY_E_EXP] == 0 && v[QTY_E_EXP_L1] == 0);
			integral[i] += v[QTY_P_TOTAL] * 60.0 / 3600.0;
			memcpy(prev[i], v, sizeof(prev[i]));
		}
		/* Hourly means of the main board. */
		hour_sum += simmodel_values(m, 0)[QTY_P_TOTAL];
		if (++hour_n == 60) {
			double mean = hour_sum / 60.0, h = fmod(t - 1, DAY) / HOUR;
			int d = (int)((t - 1) / DAY); /* 0 = Monday */

			if (d >= 5 && h >= 6.0) {
				weekend += mean, nweekend++;
				weekend_max = fmax(weekend_max, mean);
			} else if (d < 5 && h >= 6.0 && h < 14.0) {
				day += mean, nday++;
				day_min = fmin(day_min, mean);
			} else if (d >= 1 && d < 5 && (h >= 22.0 || h < 6.0)) {
				night += mean, nnight++; /* Mon-Fri nights (Sunday's is off) */
			}
			hour_sum = 0;
			hour_n = 0;
		}
	}
	for (i = 0; i < N; i++) {
		double grown = prev[i][QTY_E_IMP] - e0[i];

		if (!close_rel(grown, integral[i], 0.01))
			fail_msg("meter %zu: e_imp grew %.0f Wh, integral of P %.0f Wh", i + 1, grown,
				 integral[i]);
		assert_true(grown > 0);
	}
	day /= nday, night /= nnight, weekend /= nweekend;
	if (!(day > 1.15 * night && night > 1.5 * weekend && day_min > weekend_max))
		fail_msg("day %.0f night %.0f weekend %.0f (day min %.0f, weekend max %.0f)", day,
			 night, weekend, day_min, weekend_max);
	simmodel_free(m);
}

/* ---- identities and plausibility ------------------------------------------ */

static void check_identities(const double *v, size_t meter, double t)
{
	double p = 0, q = 0, s = 0;
	int k;

	for (k = 0; k < 3; k++) {
		double a = v[QTY_V_L1N + k], b = v[QTY_V_L1N + (k + 1) % 3];

		p += v[QTY_P_L1 + k];
		q += v[QTY_Q_L1 + k];
		s += v[QTY_S_L1 + k];
		if (!(v[QTY_S_L1 + k] >= fabs(v[QTY_P_L1 + k]) - 1e-9))
			fail_msg("meter %zu t %.0f: s_l%d < |p_l%d|", meter, t, k + 1, k + 1);
		assert_true(fabs(v[QTY_PF_L1 + k]) <= 1.0);
		/* S^2 = P^2 + Q^2 per phase, PF = P/S. */
		assert_true(close_rel(v[QTY_S_L1 + k] * v[QTY_S_L1 + k],
				      v[QTY_P_L1 + k] * v[QTY_P_L1 + k] +
					      v[QTY_Q_L1 + k] * v[QTY_Q_L1 + k], 1e-9));
		if (v[QTY_S_L1 + k] > 0)
			assert_true(close_rel(v[QTY_PF_L1 + k], v[QTY_P_L1 + k] / v[QTY_S_L1 + k],
					      1e-12));
		/* I = S / V. */
		if (v[QTY_V_L1N + k] > 1.0)
			assert_true(close_rel(v[QTY_I_L1 + k], v[QTY_S_L1 + k] / v[QTY_V_L1N + k],
					      1e-12));
		/* L-L: the vector difference of L-N magnitudes 120 degrees apart. */
		assert_true(close_rel(v[QTY_V_L12 + k], sqrt(a * a + b * b + a * b), 1e-12));
	}
	if (!close_rel(v[QTY_P_TOTAL], p, 1e-12) || !close_rel(v[QTY_Q_TOTAL], q, 1e-12) ||
	    !close_rel(v[QTY_S_TOTAL], s, 1e-12))
		fail_msg("meter %zu t %.0f: totals are not the sums of the phases", meter, t);
	assert_true(v[QTY_S_TOTAL] >= fabs(v[QTY_P_TOTAL]));
	assert_true(fabs(v[QTY_PF_TOTAL]) <= 1.0);
	if (v[QTY_S_TOTAL] > 0)
		assert_true(close_rel(v[QTY_PF_TOTAL], v[QTY_P_TOTAL] / v[QTY_S_TOTAL], 1e-12));
	/* The neutral never carries more than the phases together. */
	assert_true(v[QTY_I_N] <= v[QTY_I_L1] + v[QTY_I_L2] + v[QTY_I_L3] + 1e-9);
}

struct kind_range {
	double pf_min, pf_max;   /* pf_total while running (P > 15 % rated) */
	double thdi_min, thdi_max;
	double thdv_min, thdv_max;
};

static const struct kind_range ranges[SIM_LOAD__COUNT] = {
	[SIM_LOAD_MAIN_BOARD] = { 0.85, 0.99, 5, 30, 1, 4 },
	[SIM_LOAD_OVEN] = { 0.965, 1.0, 2, 35, 1, 3 },
	[SIM_LOAD_FURNACE] = { 0.9, 0.99, 15, 30, 3, 6 },
	[SIM_LOAD_COMPRESSOR] = { 0.78, 0.9, 0, 15, 1, 3 },
	[SIM_LOAD_PAINT_LINE] = { 0.85, 0.95, 18, 43, 1.5, 5 },
	[SIM_LOAD_MACHINE] = { 0.8, 0.95, 5, 30, 1, 3 },
};

static void test_plausible(void **state)
{
	enum { N = 10 };
	struct simmodel *m = simmodel_new(N, 3, MONDAY_US + (int64_t)(5 * HOUR * 1e6));
	static const int not_produced[] = { QTY_FLOW, QTY_VOLUME, QTY_TEMP, QTY_PRESSURE,
					    QTY_VIBRATION };
	double maxunb = 0, inrush = 0;
	size_t i, k;
	double t;

	(void)state;
	assert_int_equal(simmodel_load(m, 0), SIM_LOAD_MAIN_BOARD);
	assert_int_equal(simmodel_load(m, 1), SIM_LOAD_OVEN);
	assert_int_equal(simmodel_load(m, 2), SIM_LOAD_FURNACE);
	assert_int_equal(simmodel_load(m, 3), SIM_LOAD_COMPRESSOR);
	assert_int_equal(simmodel_load(m, 4), SIM_LOAD_PAINT_LINE);
	assert_int_equal(simmodel_load(m, 7), SIM_LOAD_MACHINE);
	assert_string_equal(simmodel_load_name(SIM_LOAD_FURNACE), "furnace");
	assert_true(simmodel_rated_power(m, 2) == 400e3);
	for (i = 5; i < N; i++)
		assert_true(simmodel_rated_power(m, i) >= 20e3 && simmodel_rated_power(m, i) <= 60e3);
	assert_true(simmodel_rated_power(m, 0) >= 800e3);

	/* Monday 05:00 to Tuesday 05:00 in 1 s steps: the morning start,
	 * three shifts, breaks. */
	for (t = 1; t <= DAY; t++) {
		bool starting;

		simmodel_advance(m, t);
		/* A motor start pulls the main board's PF down for seconds. */
		starting = simmodel_values(m, 3)[QTY_I_L1] > 1.2 * 75e3 / 0.87 / 3 / 230;
		for (i = 0; i < N; i++) {
			const double *v = simmodel_values(m, i);
			const struct kind_range *r = &ranges[simmodel_load(m, i)];
			double rated = simmodel_rated_power(m, i);

			check_identities(v, i + 1, t);
			for (k = 0; k < QTY__COUNT; k++) {
				bool np = false;
				size_t j;

				for (j = 0; j < sizeof(not_produced) / sizeof(not_produced[0]); j++)
					np |= (int)k == not_produced[j];
				if (np)
					assert_true(isnan(v[k]));
				else if (qty_quality((unsigned)k, v[k]) != QUALITY_GOOD)
					fail_msg("meter %zu t %.0f: %s = %g is not plausible", i + 1, t,
						 qty_name((unsigned)k), v[k]);
			}
			for (k = 0; k < 3; k++) {
				if (v[QTY_V_L1N + k] < 225.4 || v[QTY_V_L1N + k] > 234.6)
					fail_msg("meter %zu: v_l%zun %g", i + 1, k + 1, v[QTY_V_L1N + k]);
				if (v[QTY_THD_I_L1 + k] < r->thdi_min || v[QTY_THD_I_L1 + k] > r->thdi_max)
					fail_msg("meter %zu t %.0f: thd_i %g", i + 1, t, v[QTY_THD_I_L1 + k]);
				if (v[QTY_THD_V_L1 + k] < r->thdv_min || v[QTY_THD_V_L1 + k] > r->thdv_max)
					fail_msg("meter %zu t %.0f: thd_v %g", i + 1, t, v[QTY_THD_V_L1 + k]);
			}
			assert_true(fabs(v[QTY_FREQ] - 50.0) <= 0.05);
			/* Frequency is the plant's. */
			assert_true(v[QTY_FREQ] == simmodel_values(m, 0)[QTY_FREQ]);
			maxunb = fmax(maxunb, nema(v[QTY_I_L1], v[QTY_I_L2], v[QTY_I_L3]));
			if (simmodel_load(m, i) == SIM_LOAD_COMPRESSOR) {
				/* Starts draw about 6x the current at full load. */
				inrush = fmax(inrush, v[QTY_I_L1] / (75e3 / 0.87 / 3 / 230));
				if (v[QTY_P_TOTAL] > 0.2 * rated && v[QTY_P_TOTAL] < rated &&
				    (v[QTY_PF_TOTAL] < r->pf_min || v[QTY_PF_TOTAL] > r->pf_max) &&
				    v[QTY_I_L1] < 1.2 * 75e3 / 0.87 / 3 / 230)
					fail_msg("compressor t %.0f: pf %g", t, v[QTY_PF_TOTAL]);
				continue;
			}
			if (v[QTY_P_TOTAL] > rated)
				fail_msg("meter %zu t %.0f: p_total %g above rated %g", i + 1, t,
					 v[QTY_P_TOTAL], rated);
			if (v[QTY_P_TOTAL] > 0.15 * rated && !(i == 0 && starting) &&
			    (v[QTY_PF_TOTAL] < r->pf_min || v[QTY_PF_TOTAL] > r->pf_max))
				fail_msg("meter %zu t %.0f: pf %g", i + 1, t, v[QTY_PF_TOTAL]);
		}
	}
	/* Single-phase loads unbalance a little, never like a fault. */
	assert_true(maxunb > 3.0 && maxunb < 15.0);
	assert_true(inrush > 4.5 && inrush < 7.0);
	simmodel_free(m);
}

/* The main board carries its feeders: more than their sum, and it follows. */
static void test_main_board_sums(void **state)
{
	struct simmodel *m = simmodel_new(8, 11, MONDAY_US + (int64_t)(30 * HOUR * 1e6));
	double t;
	size_t i;
	int k;

	(void)state;
	for (t = 10; t <= 3600; t += 10) {
		simmodel_advance(m, t);
		for (k = 0; k < 3; k++) {
			double sum = 0;

			for (i = 1; i < 8; i++)
				sum += simmodel_values(m, i)[QTY_P_L1 + k];
			assert_true(simmodel_values(m, 0)[QTY_P_L1 + k] > sum);
			assert_true(simmodel_values(m, 0)[QTY_P_L1 + k] < sum + 160e3 / 3 * 1.2);
		}
	}
	simmodel_free(m);
}

/* ---- PV feeders -------------------------------------------------------------- */

/* 2026-06-22 and 2026-12-21 00:00 UTC (the tests run with TZ=UTC). */
#define JUNE22_S 1782086400.0
#define DEC21_S 1797811200.0

/* The clear sky: nothing at night, the sun's height at 13:00 (all of it
 * at midsummer, 30 % at midwinter), the day 16 and 8 hours long. */
static void test_pv_clear_sky(void **state)
{
	(void)state;
	assert_true(simmodel_pv_clear_sky(JUNE22_S + 2 * HOUR) == 0.0);
	assert_true(simmodel_pv_clear_sky(JUNE22_S + 13 * HOUR) > 0.99);
	assert_true(simmodel_pv_clear_sky(JUNE22_S + 5.5 * HOUR) > 0.0);
	assert_true(simmodel_pv_clear_sky(JUNE22_S + 20.5 * HOUR) > 0.0);
	assert_true(simmodel_pv_clear_sky(JUNE22_S + 21.1 * HOUR) == 0.0);
	assert_true(fabs(simmodel_pv_clear_sky(DEC21_S + 13 * HOUR) - 0.30) < 0.01);
	assert_true(simmodel_pv_clear_sky(DEC21_S + 8.9 * HOUR) == 0.0);
	assert_true(simmodel_pv_clear_sky(DEC21_S + 17.1 * HOUR) == 0.0);
	/* rising in the morning, falling in the afternoon */
	assert_true(simmodel_pv_clear_sky(JUNE22_S + 9 * HOUR) <
		    simmodel_pv_clear_sky(JUNE22_S + 11 * HOUR));
	assert_true(simmodel_pv_clear_sky(JUNE22_S + 15 * HOUR) >
		    simmodel_pv_clear_sky(JUNE22_S + 17 * HOUR));
}

/*
 * A PV feeder on unit 4: no power and no energy at night, power under its
 * peak and energy by day; the main board does not carry it (its power is
 * the same as in the plant without the PV unit: its own base and units 2
 * and 3, which draw from their own streams).
 */
static void test_pv_feeder(void **state)
{
	struct simmodel *a = simmodel_new(4, 21, (int64_t)(JUNE22_S * 1e6));
	struct simmodel *b = simmodel_new(3, 21, (int64_t)(JUNE22_S * 1e6));
	double e0, t, day_max = 0;
	int k;

	(void)state;
	simmodel_set_pv(a, 3, 200e3);
	assert_int_equal(simmodel_load(a, 3), SIM_LOAD_PV);
	simmodel_advance(a, 1 * HOUR);
	e0 = simmodel_values(a, 3)[QTY_E_IMP];
	for (t = 1 * HOUR + 60; t <= 3 * HOUR; t += 60) {
		simmodel_advance(a, t);
		assert_true(simmodel_values(a, 3)[QTY_P_TOTAL] == 0.0);
	}
	assert_true(simmodel_values(a, 3)[QTY_E_IMP] == e0);
	simmodel_advance(a, 12 * HOUR);
	e0 = simmodel_values(a, 3)[QTY_E_IMP];
	for (t = 12 * HOUR + 60; t <= 14 * HOUR; t += 60) {
		double p;

		simmodel_advance(a, t);
		p = simmodel_values(a, 3)[QTY_P_TOTAL];
		assert_true(p > 0.0 && p <= 200e3 * 1.01);
		if (p > day_max)
			day_max = p;
	}
	assert_true(day_max > 0.5 * 200e3);
	assert_true(simmodel_values(a, 3)[QTY_E_IMP] > e0 + 0.1 * 200e3 * 2);
	simmodel_free(a);

	a = simmodel_new(4, 21, (int64_t)(JUNE22_S * 1e6));
	simmodel_set_pv(a, 3, 200e3);
	for (t = 10; t <= 600; t += 10) {
		simmodel_advance(a, 12 * HOUR + t);
		simmodel_advance(b, 12 * HOUR + t);
		for (k = 0; k < 3; k++)
			assert_true(close_rel(simmodel_values(a, 0)[QTY_P_L1 + k],
					      simmodel_values(b, 0)[QTY_P_L1 + k], 1e-12));
	}
	simmodel_free(a);
	simmodel_free(b);
}

/*
 * --incomer: the main board carries the PV, per phase the plant's P less
 * the PV's (the plant without the PV unit is the reference, as above);
 * with a PV bigger than the plant it exports and its e_exp counts it
 * (about its power times the time), its e_imp stands still.
 */
static void test_pv_incomer(void **state)
{
	struct simmodel *a = simmodel_new(4, 21, (int64_t)(JUNE22_S * 1e6));
	struct simmodel *b = simmodel_new(3, 21, (int64_t)(JUNE22_S * 1e6));
	double x0, i0, out = 0, t;
	int k;

	(void)state;
	simmodel_set_pv(a, 3, 3000e3);
	simmodel_set_incomer(a, true);
	simmodel_advance(a, 12 * HOUR);
	simmodel_advance(b, 12 * HOUR);
	x0 = simmodel_values(a, 0)[QTY_E_EXP];
	i0 = simmodel_values(a, 0)[QTY_E_IMP];
	for (t = 10; t <= 600; t += 10) {
		const double *m, *pv;

		simmodel_advance(a, 12 * HOUR + t);
		simmodel_advance(b, 12 * HOUR + t);
		m = simmodel_values(a, 0);
		pv = simmodel_values(a, 3);
		for (k = 0; k < 3; k++)
			assert_true(close_rel(m[QTY_P_L1 + k] + pv[QTY_P_L1 + k],
					      simmodel_values(b, 0)[QTY_P_L1 + k], 1e-9));
		assert_true(m[QTY_P_TOTAL] < 0);
		out += -m[QTY_P_TOTAL] * 10 / 3600;
	}
	assert_true(close_rel(simmodel_values(a, 0)[QTY_E_EXP] - x0, out, 0.05));
	assert_true(simmodel_values(a, 0)[QTY_E_IMP] == i0);
	simmodel_free(a);
	simmodel_free(b);
}

/* ---- faults ----------------------------------------------------------------- */

typedef bool (*fault_pred)(const double *v, double rated);

static bool undervoltage(const double *v, double rated)
{
	(void)rated;
	return v[QTY_V_L1N] < 207 && v[QTY_V_L2N] < 207 && v[QTY_V_L3N] < 207 &&
	       v[QTY_V_L12] < 380 && v[QTY_V_L23] < 380 && v[QTY_V_L31] < 380;
}

static bool overvoltage(const double *v, double rated)
{
	(void)rated;
	return v[QTY_V_L1N] > 253 && v[QTY_V_L3N] > 253 && v[QTY_V_L12] > 420 &&
	       v[QTY_V_L31] > 420;
}

static bool phase_loss(const double *v, double rated)
{
	(void)rated;
	return v[QTY_V_L3N] < 5 && v[QTY_I_L3] == 0 && v[QTY_P_L3] == 0 && v[QTY_V_L23] < 380 &&
	       v[QTY_V_L1N] > 207;
}

static bool overload(const double *v, double rated)
{
	return v[QTY_P_TOTAL] > rated;
}

static bool low_pf(const double *v, double rated)
{
	(void)rated;
	return v[QTY_PF_TOTAL] < 0.85 && fabs(v[QTY_PF_TOTAL] - 0.7) < 0.02;
}

static bool unbalance(const double *v, double rated)
{
	(void)rated;
	return nema(v[QTY_I_L1], v[QTY_I_L2], v[QTY_I_L3]) > 20.0 &&
	       nema(v[QTY_V_L1N], v[QTY_V_L2N], v[QTY_V_L3N]) > 2.0;
}

static bool thd(const double *v, double rated)
{
	(void)rated;
	return v[QTY_THD_V_L1] > 8.0 && v[QTY_THD_V_L3] > 8.0 && v[QTY_THD_I_L2] > 40.0;
}

static bool nan_fault(const double *v, double rated)
{
	(void)rated;
	return isnan(v[QTY_V_L1N]) && isnan(v[QTY_P_TOTAL]);
}

static void check_fault(const char *spec, fault_pred pred, size_t meter, int64_t start_us)
{
	enum { N = 5 };
	struct simmodel *m = simmodel_new(N, 5, start_us);
	struct simmodel *ref = simmodel_new(N, 5, start_us);
	struct sim_fault f;
	char *cause = NULL;
	double frozen[QTY__COUNT], last_v = NAN;
	bool timeout;
	double t;

	if (simmodel_parse_fault(spec, &f, &cause) != 0)
		fail_msg("%s: %s", spec, cause);
	timeout = f.kind == SIM_FAULT_TIMEOUT;
	simmodel_add_fault(m, &f);
	for (t = 1; t <= 300; t++) {
		const double *v, *r;
		bool during = t >= 100 && t < 160, active;
		size_t i, k;

		simmodel_advance(m, t);
		simmodel_advance(ref, t);
		v = simmodel_values(m, meter);
		r = simmodel_values(ref, meter);
		active = simmodel_fault_active(m, meter, f.kind);
		if (active != during)
			fail_msg("%s t %.0f: active %d", spec, t, active);
		if (!timeout && !nan_fault(v, 0))
			check_identities(v, meter + 1, t);
		if (timeout) {
			if (t == 99)
				memcpy(frozen, v, sizeof(frozen));
			if (during)
				assert_memory_equal(v, frozen, sizeof(frozen));
			else if (v[QTY_V_L1N] == last_v)
				fail_msg("%s t %.0f: values stand still", spec, t);
			last_v = v[QTY_V_L1N];
		} else if (pred(v, simmodel_rated_power(m, meter)) != during) {
			fail_msg("%s t %.0f: fault condition %d (v_l1n %g v_l12 %g p %g pf %g "
				 "i %g/%g/%g thd_v %g)", spec, t, !during, v[QTY_V_L1N], v[QTY_V_L12],
				 v[QTY_P_TOTAL], v[QTY_PF_TOTAL], v[QTY_I_L1], v[QTY_I_L2], v[QTY_I_L3],
				 v[QTY_THD_V_L1]);
		}
		/* The other feeders never see it; outside the fault window the
		 * faulted meter is the unfaulted one (its counters aside). */
		for (i = 1; i < N && f.unit != 0; i++) {
			if (i == meter)
				continue;
			assert_memory_equal(simmodel_values(m, i), simmodel_values(ref, i),
					    QTY__COUNT * sizeof(double));
		}
		if (!during)
			for (k = 0; k < QTY_E_IMP; k++)
				if (memcmp(&v[k], &r[k], sizeof(double)) != 0)
					fail_msg("%s t %.0f: %s %g differs from the plant without "
						 "the fault (%g)", spec, t, qty_name((unsigned)k), v[k], r[k]);
	}
	simmodel_free(m);
	simmodel_free(ref);
}

static void test_faults(void **state)
{
	/* Tuesday 10:30 UTC: the furnace melts, the oven cycles. */
	int64_t tue = MONDAY_US + (int64_t)((DAY + 10.5 * HOUR) * 1e6);
	static const struct {
		const char *spec;
		fault_pred pred;
		size_t meter;
	} cases[] = {
		{ "undervoltage:3@100+60", undervoltage, 2 },
		{ "overvoltage:2@100+60", overvoltage, 1 },
		{ "phase-loss:3@100+60", phase_loss, 2 },
		{ "overload:3@100+60", overload, 2 },
		{ "overload:2@100+60", overload, 1 },
		{ "low-pf:2@100+60", low_pf, 1 },
		{ "unbalance:3@100+60", unbalance, 2 },
		{ "unbalance:1@100+60", unbalance, 0 },
		{ "thd:5@100+60", thd, 4 },
		{ "nan:4@100+60", nan_fault, 3 },
		{ "timeout:3@100+60", NULL, 2 },
		{ "undervoltage@100+1m", undervoltage, 4 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_fault(cases[i].spec, cases[i].pred, cases[i].meter, tue);
}

/* A fault due at once shows at once; one for all units hits all of them. */
static void test_fault_now_and_all(void **state)
{
	struct simmodel *m = simmodel_new(7, 1, MONDAY_US);
	struct sim_fault f;
	char *cause = NULL;
	size_t i;

	(void)state;
	assert_int_equal(simmodel_parse_fault("thd", &f, &cause), 0);
	for (i = 0; i < 7; i++)
		assert_false(thd(simmodel_values(m, i), 0));
	simmodel_add_fault(m, &f);
	for (i = 0; i < 7; i++) {
		assert_true(thd(simmodel_values(m, i), 0));
		assert_true(simmodel_fault_active(m, i, SIM_FAULT_THD));
		assert_false(simmodel_fault_active(m, i, SIM_FAULT_NAN));
	}
	simmodel_advance(m, 3600);
	for (i = 0; i < 7; i++)
		assert_true(thd(simmodel_values(m, i), 0));
	assert_false(simmodel_fault_active(m, 7, SIM_FAULT_THD)); /* no such meter */
	assert_null(simmodel_values(m, 7));
	simmodel_free(m);
}

/* ---- utility meters ------------------------------------------------------ */

/* Utility values ride on the electrical plant without changing it; each
 * kind's curve is plausible; a leak keeps a flow on a Sunday night. */
static void test_utility(void **state)
{
	/* Sunday 2026-11-29 03:00 UTC and Monday 10:00 */
	int64_t sunday = MONDAY_US + (int64_t)((6 * DAY + 3 * HOUR) * 1e6);
	int64_t monday = MONDAY_US + (int64_t)(10 * HOUR * 1e6);
	struct simmodel *plain = simmodel_new(3, 5, monday), *gas = simmodel_new(3, 5, monday);
	struct simmodel *air = simmodel_new(3, 5, sunday), *water = simmodel_new(2, 5, sunday);
	struct sim_fault leak = { .kind = SIM_FAULT_LEAK, .unit = 2, .duration_s = -1 };
	double vol0, pmin = 1e9, pmax = 0, t;
	size_t i;

	(void)state;
	simmodel_set_utility(gas, UTILITY_GAS);
	simmodel_set_utility(air, UTILITY_AIR);
	simmodel_set_utility(water, UTILITY_WATER);
	simmodel_add_fault(air, &leak);
	assert_true(isnan(simmodel_values(plain, 0)[QTY_FLOW]));
	vol0 = simmodel_values(gas, 0)[QTY_VOLUME];
	assert_true(vol0 > 0);
	for (t = 10; t <= 1800; t += 10) {
		simmodel_advance(plain, t);
		simmodel_advance(gas, t);
		simmodel_advance(air, t);
		simmodel_advance(water, t);
		for (i = 0; i < 3; i++) {
			const double *p = simmodel_values(plain, i), *g = simmodel_values(gas, i);

			/* the same electrical plant */
			assert_true(p[QTY_P_TOTAL] == g[QTY_P_TOTAL]);
			assert_true(p[QTY_E_IMP] == g[QTY_E_IMP]);
			/* gas on a Monday morning: flowing, about 21 mbar */
			assert_true(g[QTY_FLOW] > 0 && g[QTY_FLOW] < 3 * simmodel_rated_flow(gas, i));
			assert_true(g[QTY_PRESSURE] > 0.015 && g[QTY_PRESSURE] < 0.025);
			pmin = fmin(pmin, simmodel_values(air, i)[QTY_PRESSURE]);
			pmax = fmax(pmax, simmodel_values(air, i)[QTY_PRESSURE]);
		}
		/* Sunday night: nothing flows but the leak */
		assert_true(simmodel_values(air, 0)[QTY_FLOW] == 0);
		assert_true(simmodel_values(air, 1)[QTY_FLOW] > 0);
		assert_true(simmodel_values(water, 0)[QTY_FLOW] == 0);
	}
	/* the volume counts the flow; the leaking receiver cycles 6.5..7.5 bar */
	assert_true(simmodel_values(gas, 0)[QTY_VOLUME] > vol0);
	assert_true(pmin >= 6.2 && pmin < 6.7);
	assert_true(pmax > 7.3 && pmax <= 7.6);
	simmodel_preset_counter(air, 1, QTY_VOLUME, 1000.0);
	assert_true(simmodel_values(air, 1)[QTY_VOLUME] == 1000.0);
	simmodel_free(plain);
	simmodel_free(gas);
	simmodel_free(air);
	simmodel_free(water);
}

/* The simulated machines' cycles, with their pieces at hand-counted
 * instants (docs/simulator.md, "Machines"). */
static void test_machines(void **state)
{
	static const struct {
		size_t k;
		int64_t t;
		int st;
		uint64_t pieces;
	} cases[] = {
		{ 0, 0, 0, 0 },	    { 0, 19, 0, 0 },	 { 0, 20, 0, 1 },    { 0, 359, 0, 17 },
		{ 0, 360, 1, 18 },  { 0, 479, 1, 18 },	 { 0, 480, 2, 18 },  { 0, 599, 2, 18 },
		{ 0, 600, 0, 18 },  { 0, 620, 0, 19 },	 { 1, 0, 0, 0 },     { 1, 419, 0, 6 },
		{ 1, 420, 1, 7 },   { 1, 540, 2, 7 },	 { 1, 899, 2, 7 },   { 1, 900, 0, 7 },
		{ 1, 960, 0, 8 },
	};
	uint64_t pieces;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(simmodel_machine(cases[i].k, cases[i].t, &pieces), cases[i].st);
		assert_int_equal(pieces, cases[i].pieces);
	}
	assert_int_equal(simmodel_machine(2, 0, &pieces), -1);
	assert_string_equal(simmodel_machine_name(1), "cataphoresis-line");
	assert_null(simmodel_machine_name(2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fault_ok),
		cmocka_unit_test(test_parse_fault_errors),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_week),
		cmocka_unit_test(test_plausible),
		cmocka_unit_test(test_main_board_sums),
		cmocka_unit_test(test_pv_clear_sky),
		cmocka_unit_test(test_pv_feeder),
		cmocka_unit_test(test_pv_incomer),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_fault_now_and_all),
		cmocka_unit_test(test_utility),
		cmocka_unit_test(test_machines),
	};

	/* The shifts follow local time: pin it. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
