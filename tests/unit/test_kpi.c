// SPDX-License-Identifier: MIT
/*
 * Unit tests of kpi: local midnight across DST changes (Europe/Paris, and
 * zones whose clocks change at midnight), today's energy from a baseline
 * (first value, partial), midnight rollover with a fake clock, counter
 * resets, per-phase counters, site totals with and without aggregate
 * meters, site power and stale meters, top consumers and their shares,
 * cost and CO2, data quality after a known number of polls (Modbus and
 * learned MQTT), and the worker's midnight baseline from a real buffer
 * file written through the store API. Configurations are built by hand;
 * TZ is Europe/Paris.
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

#include "phasor/follow.h"
#include "phasor/kpi.h"
#include "phasor/live.h"
#include "phasor/log.h"
#include "phasor/store.h"
#include "phasor/util.h"
#include "phasor/utility.h"
#include "support.h"

#define S INT64_C(1000000)
#define H (3600 * S)
/* 2026-11-10T00:00:00+01:00, a Tuesday in Paris (CET): local midnight. */
#define D (INT64_C(1794265200) * S)

static char tmpdir[] = "/tmp/phasor-test-kpi-XXXXXX";

/* ---- fixture ---- */

struct mspec {
	const char *name;
	enum meter_driver driver;
	int poll_ms;
	bool aggregate;
	int profile;           /* 0: none, 1: modbus (4 regs), 2: per-phase energy */
};

#define MAXM 40

struct fixture {
	struct profile_reg regs[4];
	struct profile_field fields[3];
	struct profile modbus, phases;
	struct config_meter meters[MAXM];
	struct config cfg;
	struct live *live;
	struct kpi *kpi;
};

/* The meters most tests use: 0 is the main board. */
static const struct mspec plant[] = {
	{ "tgbt", DRIVER_MODBUS, 1000, true, 1 },
	{ "press-1", DRIVER_MODBUS, 1000, false, 1 },
	{ "press-2", DRIVER_MODBUS, 1000, false, 1 },
	{ "oven", DRIVER_MODBUS, 1000, false, 1 },
	{ "comp", DRIVER_MODBUS, 1000, false, 1 },
	{ "pump", DRIVER_MODBUS, 1000, false, 1 },
	{ "fan", DRIVER_MODBUS, 1000, false, 1 },
	{ "shelly", DRIVER_MQTT, 10000, false, 2 },
	{ "pv", DRIVER_MQTT, 10000, false, 0 },
};

/* Build the config (no store unless path), the live state and the kpi. */
static struct fixture *build(const struct mspec *spec, size_t n, const char *store_path)
{
	struct fixture *f = util_calloc(1, sizeof(*f));
	static const unsigned regq[4] = { QTY_P_TOTAL, QTY_E_IMP, QTY_V_L1N, QTY_I_L1 };
	size_t i;

	assert_true(n <= MAXM);
	for (i = 0; i < 4; i++)
		f->regs[i] = (struct profile_reg){ .qty = (int)regq[i], .function = 3 };
	f->modbus = (struct profile){ .name = (char *)"m4", .driver = PROFILE_MODBUS,
				      .regs = f->regs, .nregs = 4 };
	for (i = 0; i < 3; i++)
		f->fields[i] = (struct profile_field){ .qty = QTY_E_IMP_L1 + (int)i,
						       .phase_qty = { -1, -1, -1 } };
	f->phases = (struct profile){ .name = (char *)"ph", .driver = PROFILE_MQTT,
				      .fields = f->fields, .nfields = 3 };
	for (i = 0; i < n; i++) {
		f->meters[i] = (struct config_meter){
			.name = (char *)spec[i].name, .driver = spec[i].driver,
			.poll_ms = spec[i].poll_ms, .aggregate = spec[i].aggregate,
			.profile = spec[i].profile == 1 ? &f->modbus
				   : spec[i].profile == 2 ? &f->phases : NULL,
		};
	}
	f->cfg.meters = f->meters;
	f->cfg.nmeters = n;
	f->cfg.site.price_per_kwh = NAN;
	for (i = 0; i < UTILITY__COUNT; i++)
		f->cfg.site.price[i] = NAN;
	f->cfg.site.co2_per_kwh = NAN;
	f->cfg.store.path = (char *)store_path;
	f->live = live_new(&f->cfg, NULL, NULL);
	f->kpi = kpi_new_day(&f->cfg, &follow_kpi_day_ops);
	return f;
}

static void destroy(struct fixture *f)
{
	kpi_free(f->kpi);
	live_free(f->live);
	free(f);
}

static struct sample smp(uint32_t meter, unsigned qty, int64_t t_us, double v)
{
	struct sample s = { .t_us = t_us, .value = v, .meter = meter, .qty = (uint16_t)qty };

	s.quality = (uint8_t)qty_quality(qty, v);
	return s;
}

static void put(struct fixture *f, uint32_t meter, unsigned qty, int64_t t_us, double v)
{
	struct sample s = smp(meter, qty, t_us, v);

	live_apply(f->live, &s, 1);
}

static const struct kpi_site *update(struct fixture *f, int64_t now)
{
	kpi_update(f->kpi, f->live, now);
	return kpi_site(f->kpi);
}

static void assert_near(double got, double want)
{
	if (isnan(want) != isnan(got) || (!isnan(want) && fabs(got - want) > 1e-9 * (1 + fabs(want))))
		fail_msg("got %.12g, expected %.12g", got, want);
}

static void assert_today(struct fixture *f, size_t meter, double want, bool want_partial)
{
	bool partial = !want_partial;
	double got = kpi_meter_today_wh(f->kpi, meter, &partial);

	assert_near(got, want);
	if (partial != want_partial)
		fail_msg("meter %zu: partial %d, expected %d", meter, partial, want_partial);
}

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* ---- local midnight ---- */

static void test_local_midnight(void **state)
{
	/* UTC seconds, computed independently (Python zoneinfo, zdump). */
	static const struct {
		const char *tz;
		int64_t t;       /* s */
		int64_t t_frac;  /* us added to t */
		int64_t mid;     /* s */
	} cases[] = {
		/* Paris, 2026-03-29: 02:00 CET -> 03:00 CEST, a 23 h day */
		{ "Europe/Paris", 1774782000, 0, 1774738800 },      /* 12:00 CEST */
		{ "Europe/Paris", 1774745999, 0, 1774738800 },      /* 01:59:59 CET */
		{ "Europe/Paris", 1774746000, 0, 1774738800 },      /* 03:00:00 CEST */
		{ "Europe/Paris", 1774821599, 999999, 1774738800 }, /* 23:59:59.999999 CEST */
		{ "Europe/Paris", 1774821600, 0, 1774821600 },      /* 03-30 00:00 CEST */
		{ "Europe/Paris", 1774738800, 0, 1774738800 },      /* exactly midnight */
		{ "Europe/Paris", 1774738799, 999999, 1774652400 }, /* 1 us before */
		/* Paris, 2026-10-25: 03:00 CEST -> 02:00 CET, a 25 h day */
		{ "Europe/Paris", 1792926000, 0, 1792879200 },      /* 12:00 CET */
		{ "Europe/Paris", 1792888200, 0, 1792879200 },      /* 02:30 CEST */
		{ "Europe/Paris", 1792891800, 0, 1792879200 },      /* 02:30 CET */
		{ "Europe/Paris", 1792969199, 0, 1792879200 },      /* 23:59:59 CET */
		{ "Europe/Paris", 1792969200, 0, 1792969200 },      /* 10-26 00:00 CET */
		{ "Europe/Paris", 1792879199, 0, 1792792800 },      /* 10-24 23:59:59 CEST */
		/* Santiago: 2024-09-08 00:00 does not exist (-> 01:00 -03) */
		{ "America/Santiago", 1725768000 + 11 * 3600, 0, 1725768000 },
		{ "America/Santiago", 1725768000, 0, 1725768000 },
		{ "America/Santiago", 1725767999, 0, 1725681600 },
		/* Santiago: 2024-04-07, clocks back from 00:00 -03 to 23:00 -04 */
		{ "America/Santiago", 1712462400 + 12 * 3600, 0, 1712462400 },
		{ "America/Santiago", 1712458800 + 1800, 0, 1712372400 }, /* 04-06 23:30, again */
		/* Havana: 2024-11-03, 01:00 CDT -> 00:00 CST: midnight came twice */
		{ "America/Havana", 1730653200, 0, 1730606400 },    /* 12:00 CST */
		{ "America/Havana", 1730611800, 0, 1730606400 },    /* 00:30 CST, second pass */
		{ "America/Havana", 1730606400, 0, 1730606400 },
		/* Havana: 2024-03-10 starts at 01:00 CDT */
		{ "America/Havana", 1710086400, 0, 1710046800 },
		{ "UTC", 1794265200, 0, 1794268800 - 86400 },
		{ "UTC", -1, 0, -86400 },                           /* before the epoch */
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		int64_t got;

		set_tz(cases[i].tz);
		got = kpi_local_midnight(cases[i].t * S + cases[i].t_frac);
		if (got != cases[i].mid * S)
			fail_msg("case %zu (%s %lld): %lld, expected %lld", i, cases[i].tz,
				 (long long)cases[i].t, (long long)(got / S), (long long)cases[i].mid);
	}
	set_tz("Europe/Paris");
	/* day lengths across the changes: 23 h, 25 h */
	assert_int_equal(kpi_local_midnight(INT64_C(1774821600) * S + 1) -
				 kpi_local_midnight(INT64_C(1774738800) * S + 1),
			 23 * H);
	assert_int_equal(kpi_local_midnight(INT64_C(1792969200) * S + 1) -
				 kpi_local_midnight(INT64_C(1792879200) * S + 1),
			 25 * H);
	assert_int_equal(kpi_local_midnight(D + 13 * H), D);
}

/* ---- energy ---- */

static void test_energy_partial(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
		{ "b", DRIVER_MODBUS, 1000, false, 1 },
		{ "c", DRIVER_MODBUS, 1000, false, 1 },
	};
	struct fixture *f = build(spec, 3, NULL); /* no buffer: no worker */
	const struct kpi_site *s;
	int64_t t = D + 10 * H;

	(void)state;
	s = update(f, t);
	assert_true(isnan(s->today_wh));
	assert_false(s->today_partial);
	assert_int_equal(s->today_since_us, D);
	assert_true(isnan(s->cost));
	assert_today(f, 0, NAN, false);

	put(f, 0, QTY_E_IMP, t + 1 * S, 1000.0);
	s = update(f, t + 2 * S);
	assert_today(f, 0, 0.0, true);
	assert_near(s->today_wh, 0.0);
	assert_true(s->today_partial);
	assert_int_equal(s->today_since_us, t + 1 * S);

	put(f, 0, QTY_E_IMP, t + 61 * S, 1500.0);
	put(f, 1, QTY_E_IMP, t + 61 * S, 70000.0);
	s = update(f, t + 62 * S);
	assert_today(f, 0, 500.0, true);
	assert_today(f, 1, 0.0, true);
	assert_today(f, 2, NAN, false);
	assert_near(s->today_wh, 500.0);
	assert_int_equal(s->today_since_us, t + 61 * S); /* the latest start */

	/* a bad value later changes nothing; a newer good one counts */
	put(f, 0, QTY_E_IMP, t + 62 * S, NAN);
	s = update(f, t + 63 * S);
	assert_today(f, 0, 500.0, true);
	put(f, 0, QTY_E_IMP, t + 70 * S, 1600.0);
	put(f, 1, QTY_E_IMP, t + 70 * S, 70250.0);
	s = update(f, t + 71 * S);
	assert_today(f, 0, 600.0, true);
	assert_near(s->today_wh, 850.0);
	assert_true(isnan(kpi_meter_today_wh(f->kpi, 3, NULL))); /* no such meter */
	destroy(f);
}

static void test_per_phase_counters(void **state)
{
	static const struct mspec spec[] = {
		{ "shelly", DRIVER_MQTT, 10000, false, 2 },
	};
	struct fixture *f = build(spec, 1, NULL);
	int64_t t = D + 8 * H;

	(void)state;
	put(f, 0, QTY_E_IMP_L1, t, 100.0);
	put(f, 0, QTY_E_IMP_L2, t, 200.0);
	update(f, t + 1 * S);
	assert_today(f, 0, NAN, false); /* two phases of three */
	put(f, 0, QTY_E_IMP_L3, t + 2 * S, 300.0);
	update(f, t + 3 * S);
	assert_today(f, 0, 0.0, true);
	assert_int_equal(kpi_site(f->kpi)->today_since_us, t + 2 * S);
	put(f, 0, QTY_E_IMP_L1, t + 10 * S, 110.0);
	put(f, 0, QTY_E_IMP_L3, t + 11 * S, 330.0);
	update(f, t + 12 * S);
	assert_today(f, 0, 40.0, true);
	destroy(f);
}

static void test_rollover(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
		{ "b", DRIVER_MODBUS, 1000, false, 1 },
	};
	struct fixture *f = build(spec, 2, NULL);
	const int64_t next = D + 24 * H; /* 2026-11-11 00:00 CET */
	const struct kpi_site *s;

	(void)state;
	put(f, 0, QTY_E_IMP, next - 10 * S, 2000.0);
	s = update(f, next - 5 * S);
	assert_today(f, 0, 0.0, true);
	assert_int_equal(s->today_since_us, next - 10 * S);
	put(f, 0, QTY_E_IMP, next - 2 * S, 2005.0);
	update(f, next - 1 * S);
	assert_today(f, 0, 5.0, true);

	/* the first update of the new day takes the value now as baseline */
	put(f, 0, QTY_E_IMP, next + 1 * S, 2010.0);
	s = update(f, next + 2 * S);
	assert_today(f, 0, 0.0, false);
	assert_false(s->today_partial);
	assert_int_equal(s->today_since_us, next);
	assert_near(s->today_wh, 0.0);
	assert_today(f, 1, NAN, false);

	put(f, 0, QTY_E_IMP, next + 30 * S, 2030.0);
	put(f, 1, QTY_E_IMP, next + 30 * S, 9000.0); /* first value of b: after midnight */
	s = update(f, next + 31 * S);
	assert_today(f, 0, 20.0, false);
	assert_today(f, 1, 0.0, true);
	assert_true(s->today_partial);
	assert_int_equal(s->today_since_us, next + 30 * S);

	/* a meter silent over midnight: its last value is the baseline */
	put(f, 1, QTY_E_IMP, next + 60 * S, 9100.0);
	update(f, next + 61 * S);
	assert_today(f, 1, 100.0, true);
	update(f, next + 24 * H + 5 * S);
	assert_today(f, 0, 0.0, false);
	assert_today(f, 1, 0.0, false);
	put(f, 1, QTY_E_IMP, next + 24 * H + 6 * S, 9150.0);
	s = update(f, next + 24 * H + 7 * S);
	assert_today(f, 1, 50.0, false);
	assert_int_equal(s->today_since_us, next + 24 * H);
	assert_false(s->today_partial);
	destroy(f);
}

static void assert_resets(struct fixture *f, size_t meter, unsigned want)
{
	struct kpi_today td;

	assert_true(kpi_meter_today(f->kpi, meter, &td));
	assert_int_equal(td.resets, want);
}

static void test_counter_reset(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
	};
	struct fixture *f = build(spec, 1, NULL);
	int64_t t = D + 9 * H;
	const struct kpi_site *s;

	(void)state;
	put(f, 0, QTY_E_IMP, t, 1000.0);
	update(f, t + 1 * S);
	put(f, 0, QTY_E_IMP, t + 10 * S, 1200.0);
	update(f, t + 11 * S);
	assert_today(f, 0, 200.0, true);
	assert_resets(f, 0, 0);
	/* a reset: a new segment from the new value, the first one kept */
	put(f, 0, QTY_E_IMP, t + 30 * S, 5.0);
	s = update(f, t + 31 * S);
	assert_today(f, 0, 200.0, true);
	assert_resets(f, 0, 1);
	assert_int_equal(s->today_since_us, t); /* still from the first sample */
	assert_int_equal(s->today_resets, 1);
	put(f, 0, QTY_E_IMP, t + 40 * S, 25.0);
	update(f, t + 41 * S);
	assert_today(f, 0, 220.0, true);
	/* a reset to a value still above the first is a reset too; and
	 * samples the kpi never looked at between two updates count */
	put(f, 0, QTY_E_IMP, t + 50 * S, 30.0);
	put(f, 0, QTY_E_IMP, t + 51 * S, 3000.0);
	put(f, 0, QTY_E_IMP, t + 52 * S, 1000.0);
	put(f, 0, QTY_E_IMP, t + 53 * S, 1010.0);
	s = update(f, t + 61 * S);
	/* segments: 1000..1200, 5..3000, 1000..1010 */
	assert_today(f, 0, 200.0 + 2995.0 + 10.0, true);
	assert_resets(f, 0, 2);
	assert_int_equal(s->today_resets, 2);
	assert_int_equal(s->today_since_us, t);
	destroy(f);
}

/* A meter restart that winds a big counter back by a little (39 kWh of
 * 909 MWh: 0.004 %) is a reset; rounding (a millionth) is not. */
static void test_small_reset(void **state)
{
	static const struct mspec spec[] = {
		{ "tgbt", DRIVER_MODBUS, 1000, false, 1 },
	};
	struct fixture *f = build(spec, 1, NULL);
	int64_t t = D + 19 * H;
	double c = 909.4e6;

	(void)state;
	assert_true(live_counter_reset(c, c - 39e3, false));
	assert_false(live_counter_reset(c, c - 100.0, false)); /* 1.1e-7 */
	assert_false(live_counter_reset(c, c + 1.0, false));
	put(f, 0, QTY_E_IMP, t, c);
	update(f, t + 1 * S);
	put(f, 0, QTY_E_IMP, t + 60 * S, c + 50e3);
	update(f, t + 61 * S);
	put(f, 0, QTY_E_IMP, t + 70 * S, c + 11e3); /* restart: back 39 kWh */
	update(f, t + 71 * S);
	put(f, 0, QTY_E_IMP, t + 80 * S, c + 20e3);
	put(f, 0, QTY_E_IMP, t + 81 * S, c + 19.95e3); /* rounding while polled: no reset */
	update(f, t + 82 * S);
	assert_today(f, 0, 50e3 + 8.95e3, true);
	assert_resets(f, 0, 1);
	destroy(f);
}

/* After a gap (the meter down, nothing recording) a meter that restarted
 * may have wound its counter back by less than the tolerance: 3.5 kWh on
 * 5.7 GWh (the demo's simulator restarted after half an hour). Any
 * decrease after a gap is a reset, live and in the buffer's day. */
static void test_reset_after_gap(void **state)
{
	static const struct mspec spec[] = {
		{ "tgbt", DRIVER_MODBUS, 1000, false, 1 },
	};
	struct fixture *f = build(spec, 1, NULL);
	int64_t t = D + 13 * H;
	double c = 5709347309.0;
	int i;

	(void)state;
	assert_false(live_counter_reset(c + 3.5e3, c, false)); /* 6.1e-7 */
	assert_true(live_counter_reset(c + 3.5e3, c, true));
	assert_false(live_counter_reset(c, c + 1.0, true));
	assert_true(live_counter_gap_us(&f->cfg.meters[0]) == 3 * S);
	for (i = 0; i <= 35; i++) /* 35 s polled at 1 s: 3.5 kWh */
		put(f, 0, QTY_E_IMP, t + i * S, c + 100.0 * i);
	update(f, t + 36 * S);
	/* half an hour later, back at the start value, then 1 kWh on */
	put(f, 0, QTY_E_IMP, t + 1800 * S, c);
	put(f, 0, QTY_E_IMP, t + 1801 * S, c + 500.0);
	put(f, 0, QTY_E_IMP, t + 1802 * S, c + 1000.0);
	update(f, t + 1803 * S);
	assert_today(f, 0, 3.5e3 + 1e3, true);
	assert_resets(f, 0, 1);
	destroy(f);
}

/* ---- site totals, power, top consumers ---- */

static void test_site_totals(void **state)
{
	/* With an aggregate meter the site is that meter, which is never a
	 * consumer; without, the sum of all. */
	static const struct {
		bool aggregate;
		double p_w, today_wh;
		size_t ntop, top[3];
	} cases[] = {
		{ true, 20000.0, 600.0, 2, { 2, 1 } },
		{ false, 20000.0 + 3000.0 + 5000.0, 600.0 + 100.0 + 200.0, 3, { 0, 2, 1 } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		struct mspec spec[3] = {
			{ "tgbt", DRIVER_MODBUS, 1000, cases[i].aggregate, 1 },
			{ "a", DRIVER_MODBUS, 1000, false, 1 },
			{ "b", DRIVER_MODBUS, 1000, false, 1 },
		};
		static const double p[3] = { 20000.0, 3000.0, 5000.0 };
		static const double e0[3] = { 1e6, 5000.0, 7000.0 };
		static const double e1[3] = { 1e6 + 600.0, 5100.0, 7200.0 };
		struct fixture *f = build(spec, 3, NULL);
		int64_t t = D + 11 * H;
		const struct kpi_site *s;
		uint32_t m;

		for (m = 0; m < 3; m++) {
			put(f, m, QTY_E_IMP, t, e0[m]);
			put(f, m, QTY_P_TOTAL, t, p[m]);
		}
		update(f, t + 1 * S);
		for (m = 0; m < 3; m++) {
			put(f, m, QTY_E_IMP, t + 2 * S, e1[m]);
			put(f, m, QTY_P_TOTAL, t + 2 * S, p[m]);
		}
		s = update(f, t + 3 * S);
		assert_near(s->p_w, cases[i].p_w);
		assert_near(s->today_wh, cases[i].today_wh);
		assert_int_equal(s->ntop, cases[i].ntop);
		for (m = 0; m < cases[i].ntop; m++) {
			size_t mi = cases[i].top[m];

			assert_int_equal(s->top[m].meter, mi);
			assert_near(s->top[m].share, p[mi] / cases[i].p_w);
		}
		destroy(f);
	}
}

/* Gas meters count in the site's energy beside an electrical aggregate
 * (which does not measure gas); a heat meter's energy does not (it was
 * made from energy counted already); neither has a power to add. */
static void test_site_utilities(void **state)
{
	static const struct mspec spec[3] = {
		{ "tgbt", DRIVER_MODBUS, 1000, true, 1 },
		{ "gas", DRIVER_MODBUS, 1000, false, 1 },
		{ "heat", DRIVER_MODBUS, 1000, false, 1 },
	};
	static const double e0[3] = { 1e6, 5e6, 2e6 };
	static const double e1[3] = { 1e6 + 600.0, 5e6 + 300.0, 2e6 + 400.0 };
	struct fixture *f = build(spec, 3, NULL);
	int64_t t = D + 11 * H;
	const struct kpi_site *s;
	uint32_t m;

	(void)state;
	f->meters[1].utility = UTILITY_GAS;
	f->meters[2].utility = UTILITY_HEAT;
	kpi_free(f->kpi);
	f->kpi = kpi_new_day(&f->cfg, &follow_kpi_day_ops);
	for (m = 0; m < 3; m++)
		put(f, m, QTY_E_IMP, t, e0[m]);
	put(f, 0, QTY_P_TOTAL, t, 20000.0);
	update(f, t + 1 * S);
	for (m = 0; m < 3; m++)
		put(f, m, QTY_E_IMP, t + 2 * S, e1[m]);
	put(f, 0, QTY_P_TOTAL, t + 2 * S, 20000.0);
	s = update(f, t + 3 * S);
	assert_near(s->today_wh, 600.0 + 300.0);
	assert_near(s->p_w, 20000.0);
	destroy(f);
}

/*
 * Each utility at its price: 600 Wh of electricity, 300 Wh of gas, heat
 * not counted (its energy came from the others). Without price_gas the
 * gas is at price_per_kwh (as before the per-utility prices); a gas price
 * without an electricity price leaves the day's cost unknown.
 */
static void test_cost_per_utility(void **state)
{
	static const struct mspec spec[3] = {
		{ "tgbt", DRIVER_MODBUS, 1000, true, 1 },
		{ "gas", DRIVER_MODBUS, 1000, false, 1 },
		{ "heat", DRIVER_MODBUS, 1000, false, 1 },
	};
	static const struct {
		double elec, gas, heat, cost;
	} cases[] = {
		{ 0.2, 0.08, 0.5, 0.6 * 0.2 + 0.3 * 0.08 }, /* 0.144 */
		{ 0.2, NAN, NAN, 0.9 * 0.2 },               /* 0.18 */
		{ NAN, 0.08, NAN, NAN },
		{ 0.25, 0.0, NAN, 0.6 * 0.25 },              /* gas free: 0.15 */
	};
	size_t c;

	(void)state;
	for (c = 0; c < UTIL_ARRAY_LEN(cases); c++) {
		struct fixture *f = build(spec, 3, NULL);
		int64_t t = D + 11 * H;
		const struct kpi_site *s;
		uint32_t m;

		f->meters[1].utility = UTILITY_GAS;
		f->meters[2].utility = UTILITY_HEAT;
		f->cfg.site.price_per_kwh = cases[c].elec;
		f->cfg.site.price[UTILITY_GAS] = cases[c].gas;
		f->cfg.site.price[UTILITY_HEAT] = cases[c].heat;
		kpi_free(f->kpi);
		f->kpi = kpi_new(&f->cfg);
		for (m = 0; m < 3; m++)
			put(f, m, QTY_E_IMP, t, 1e6 * (m + 1));
		update(f, t + 1 * S);
		put(f, 0, QTY_E_IMP, t + 2 * S, 1e6 + 600.0);
		put(f, 1, QTY_E_IMP, t + 2 * S, 2e6 + 300.0);
		put(f, 2, QTY_E_IMP, t + 2 * S, 3e6 + 400.0);
		s = update(f, t + 3 * S);
		assert_near(s->today_wh, 900.0);
		assert_near(s->cost, cases[c].cost);
		destroy(f);
	}
}

/*
 * A grid incomer with an export counter and PV behind it (hand-computed):
 * the incomer took G = 4000 Wh from the grid and gave back X = 1500 Wh,
 * the PV made P = 6000 Wh. Used on site: P - X = 4500 Wh; consumption
 * G + P - X = 8500 Wh; coverage 6000 / 8500; self-consumption 4500 / 6000.
 * Now the incomer reads -2 kW (2 kW out) with the PV at 5 kW: 3 kW of it
 * used, 60 %. The site's Today and cost stay what the grid delivered
 * (4000 Wh at 0.2: 0.8). Without grid = true the same counters keep the
 * old meaning (coverage 6000 / 4000, min rule now: nothing used of
 * -2 kW). An export above the production (a production meter that
 * missed its data) uses nothing of it, never less.
 */
static void test_grid_export(void **state)
{
	static const struct {
		bool grid;
		double p_wh, x_wh;
		double self_wh, cons_wh, coverage, self_now, export_wh;
	} cases[] = {
		{ true, 6000.0, 1500.0, 4500.0, 8500.0, 6000.0 / 8500.0, 0.6, 1500.0 },
		{ true, 1000.0, 1500.0, 0.0, 4000.0, 1000.0 / 4000.0, 0.6, 1500.0 },
		{ false, 6000.0, 1500.0, NAN, 4000.0, 6000.0 / 4000.0, 0.0, NAN },
	};
	static const struct mspec spec[2] = {
		{ "incomer", DRIVER_MODBUS, 1000, false, 0 },
		{ "pv", DRIVER_MODBUS, 1000, false, 0 },
	};
	size_t c;

	(void)state;
	for (c = 0; c < UTIL_ARRAY_LEN(cases); c++) {
		struct fixture *f = build(spec, 2, NULL);
		int64_t t = D + 13 * H;
		const struct kpi_site *s;

		f->meters[0].grid = cases[c].grid;
		f->meters[1].role = METER_PRODUCTION;
		f->cfg.site.price_per_kwh = 0.2;
		kpi_free(f->kpi);
		f->kpi = kpi_new(&f->cfg);
		put(f, 0, QTY_E_IMP, t, 1e6);
		put(f, 0, QTY_E_EXP, t, 2e6);
		put(f, 1, QTY_E_IMP, t, 5e5);
		update(f, t + 1 * S);
		put(f, 0, QTY_E_IMP, t + 2 * S, 1e6 + 4000.0);
		put(f, 0, QTY_E_EXP, t + 2 * S, 2e6 + cases[c].x_wh);
		put(f, 1, QTY_E_IMP, t + 2 * S, 5e5 + cases[c].p_wh);
		put(f, 0, QTY_P_TOTAL, t + 2 * S, -2000.0);
		put(f, 1, QTY_P_TOTAL, t + 2 * S, 5000.0);
		s = update(f, t + 3 * S);
		assert_int_equal(s->grid, cases[c].grid);
		assert_near(s->today_wh, 4000.0);
		assert_near(s->cost, 0.8);
		assert_near(s->p_w, -2000.0);
		assert_near(s->prod_today_wh, cases[c].p_wh);
		assert_near(s->export_today_wh, cases[c].export_wh);
		assert_near(s->self_today_wh, cases[c].self_wh);
		assert_near(s->cons_today_wh, cases[c].cons_wh);
		assert_near(s->coverage, cases[c].coverage);
		assert_near(s->self_now, cases[c].self_now);
		assert_near(s->export_w, cases[c].grid ? 2000.0 : NAN);
		destroy(f);
	}
}

/* Of 40 consumers the KPI_TOP highest, in order, ties in the config's
 * order, whatever order the powers come in; zero and negative left out. */
static void test_top_many(void **state)
{
	enum { N = 40 };
	struct mspec spec[N];
	char names[N][8];
	double p[N];
	struct fixture *f;
	int64_t t = D + 11 * H;
	const struct kpi_site *s;
	size_t want[KPI_TOP], i, j, n = 0;

	(void)state;
	for (i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "m%zu", i);
		spec[i] = (struct mspec){ names[i], DRIVER_MODBUS, 1000, false, 1 };
		/* a permutation of powers with ties, a zero and a negative */
		p[i] = (double)((i * 17) % 23) * 100.0 - (i == 5 ? 5000.0 : 0.0);
	}
	f = build(spec, N, NULL);
	for (i = 0; i < N; i++)
		put(f, (uint32_t)i, QTY_P_TOTAL, t, p[i]);
	s = update(f, t + 1 * S);
	/* the reference: a full selection, stable */
	for (j = 0; j < KPI_TOP; j++) {
		size_t best = SIZE_MAX;

		for (i = 0; i < N; i++) {
			bool taken = false;

			for (size_t k = 0; k < n; k++)
				taken = taken || want[k] == i;
			if (!taken && p[i] > 0.0 && (best == SIZE_MAX || p[i] > p[best]))
				best = i;
		}
		want[n++] = best;
	}
	assert_int_equal(s->ntop, KPI_TOP);
	for (j = 0; j < KPI_TOP; j++) {
		assert_int_equal(s->top[j].meter, want[j]);
		assert_near(s->top[j].p_w, p[want[j]]);
	}
	assert_true(p[want[0]] == 2200.0 && p[want[1]] == 2200.0); /* a tie, in config order */
	assert_true(want[0] < want[1]);
	destroy(f);
}

static void test_power_stale(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
		{ "b", DRIVER_MODBUS, 1000, false, 1 },
		{ "c", DRIVER_MQTT, 10000, false, 0 },
	};
	struct fixture *f = build(spec, 3, NULL);
	int64_t t = D + 12 * H;
	const struct kpi_site *s;

	(void)state;
	s = update(f, t);
	assert_true(isnan(s->p_w));
	assert_int_equal(s->ntop, 0);
	put(f, 0, QTY_P_TOTAL, t, 1000.0);
	put(f, 1, QTY_P_L1, t, 100.0); /* phases only: summed */
	put(f, 1, QTY_P_L2, t, 200.0);
	put(f, 1, QTY_P_L3, t, 300.0);
	put(f, 2, QTY_P_TOTAL, t, 50.0);
	s = update(f, t + 3 * S); /* exactly three periods: still fresh */
	assert_near(s->p_w, 1650.0);
	s = update(f, t + 3 * S + 1); /* a and b stale, c (10 s) fresh */
	assert_near(s->p_w, 50.0);
	assert_int_equal(s->ntop, 1);
	assert_int_equal(s->top[0].meter, 2);
	assert_near(s->top[0].share, 1.0);
	/* a bad p_total does not fall back to an older good value */
	put(f, 2, QTY_P_TOTAL, t + 4 * S, NAN);
	s = update(f, t + 5 * S);
	assert_true(isnan(s->p_w));
	/* two of three phases are not a total */
	put(f, 1, QTY_P_L1, t + 6 * S, 100.0);
	put(f, 1, QTY_P_L2, t + 6 * S, 200.0);
	s = update(f, t + 7 * S);
	assert_true(isnan(s->p_w));
	destroy(f);
}

static void test_top_consumers(void **state)
{
	struct fixture *f = build(plant, UTIL_ARRAY_LEN(plant), NULL);
	int64_t t = D + 14 * H;
	const struct kpi_site *s;
	/* expected order: ties keep the config order; stale, exporting and
	 * idle meters are not consumers; at most KPI_TOP */
	static const struct {
		size_t meter;
		double p;
	} want[KPI_TOP] = {
		{ 2, 5000.0 }, { 3, 5000.0 }, { 1, 3000.0 }, { 7, 700.0 }, { 5, 100.0 },
	};
	size_t i;

	(void)state;
	put(f, 0, QTY_P_TOTAL, t, 20000.0);
	put(f, 1, QTY_P_TOTAL, t, 3000.0);
	put(f, 2, QTY_P_TOTAL, t, 5000.0);
	put(f, 3, QTY_P_L1, t, 1000.0);
	put(f, 3, QTY_P_L2, t, 2000.0);
	put(f, 3, QTY_P_L3, t, 2000.0);
	put(f, 4, QTY_P_TOTAL, t - 10 * S, 8000.0); /* stale */
	put(f, 5, QTY_P_TOTAL, t, 100.0);
	put(f, 6, QTY_P_TOTAL, t, 50.0);            /* sixth: left out */
	put(f, 7, QTY_P_TOTAL, t, 700.0);
	put(f, 8, QTY_P_TOTAL, t, -200.0);          /* exporting */
	s = update(f, t + 1 * S);
	assert_near(s->p_w, 20000.0);
	assert_int_equal(s->ntop, KPI_TOP);
	for (i = 0; i < KPI_TOP; i++) {
		assert_int_equal(s->top[i].meter, want[i].meter);
		assert_near(s->top[i].p_w, want[i].p);
		assert_near(s->top[i].share, want[i].p / 20000.0);
	}
	/* site power unknown: consumers still listed, shares unknown */
	put(f, 0, QTY_P_TOTAL, t + 1 * S, NAN);
	s = update(f, t + 2 * S);
	assert_true(isnan(s->p_w));
	assert_int_equal(s->ntop, KPI_TOP);
	for (i = 0; i < KPI_TOP; i++)
		assert_true(isnan(s->top[i].share));
	destroy(f);
}

/*
 * A meter tree (hand-computed): tgbt 100 kW feeds line-a 30 kW and line-b
 * 50 kW; line-b feeds cell-b1 20 kW and cell-b2 35 kW (5 kW more than
 * their parent: a metering error, kept negative); office 5 kW is another
 * root and pv 25 kW a production root. Energy of the day likewise: tgbt
 * 1000 Wh, line-a 300, line-b 500, cell-b1 150, cell-b2 400, office 50,
 * pv 250. Without aggregate the site is the consumption roots, tgbt +
 * office; with tgbt an aggregate, tgbt alone (the rule before the tree).
 * Either way nothing is counted twice: the leaves and the remainders add
 * up to the roots.
 */
static void test_tree_totals(void **state)
{
	enum { TGBT, LINE_A, LINE_B, CELL_B1, CELL_B2, OFFICE, PV, N };
	static const double p[N] = { 100e3, 30e3, 50e3, 20e3, 35e3, 5e3, 25e3 };
	static const double e[N] = { 1000.0, 300.0, 500.0, 150.0, 400.0, 50.0, 250.0 };
	static const int parent[N] = { -1, TGBT, TGBT, LINE_B, LINE_B, -1, -1 };
	static const struct {
		bool aggregate;
		double p_w, today_wh, coverage;
	} cases[] = {
		{ false, 105e3, 1050.0, 250.0 / 1050.0 },
		{ true, 100e3, 1000.0, 250.0 / 1000.0 },
	};
	/* ties keep the config order: tgbt's remainder before cell-b1 */
	static const struct {
		size_t meter;
		bool rem;
		double p;
	} top[KPI_TOP] = {
		{ CELL_B2, false, 35e3 }, { LINE_A, false, 30e3 }, { TGBT, true, 20e3 },
		{ CELL_B1, false, 20e3 }, { OFFICE, false, 5e3 },
	};
	size_t c;

	(void)state;
	for (c = 0; c < UTIL_ARRAY_LEN(cases); c++) {
		struct mspec spec[N] = {
			{ "tgbt", DRIVER_MODBUS, 1000, cases[c].aggregate, 1 },
			{ "line-a", DRIVER_MODBUS, 1000, false, 1 },
			{ "line-b", DRIVER_MODBUS, 1000, false, 1 },
			{ "cell-b1", DRIVER_MODBUS, 1000, false, 1 },
			{ "cell-b2", DRIVER_MODBUS, 1000, false, 1 },
			{ "office", DRIVER_MODBUS, 1000, false, 1 },
			{ "pv", DRIVER_MODBUS, 1000, false, 1 },
		};
		struct fixture *f;
		struct kpi_remainder r;
		const struct kpi_site *s;
		int64_t t = D + 11 * H;
		double sum = 0.0;
		uint32_t m;
		size_t i;

		f = build(spec, N, NULL);
		for (m = 0; m < N; m++)
			f->meters[m].parent_plus1 = parent[m] + 1;
		f->meters[PV].role = METER_PRODUCTION;
		config_tree_derive(&f->cfg);
		kpi_free(f->kpi);
		f->kpi = kpi_new(&f->cfg); /* the roles and the tree are read at the start */
		assert_int_equal(f->meters[CELL_B2].depth, 2);
		assert_int_equal(f->meters[LINE_B].nchildren, 2);
		for (m = 0; m < N; m++) {
			put(f, m, QTY_E_IMP, t, 1e6 * (m + 1));
			put(f, m, QTY_P_TOTAL, t, p[m]);
		}
		update(f, t + 1 * S);
		for (m = 0; m < N; m++) {
			put(f, m, QTY_E_IMP, t + 2 * S, 1e6 * (m + 1) + e[m]);
			put(f, m, QTY_P_TOTAL, t + 2 * S, p[m]);
		}
		s = update(f, t + 3 * S);
		assert_near(s->p_w, cases[c].p_w);
		assert_near(s->today_wh, cases[c].today_wh);

		assert_true(kpi_remainder(f->kpi, TGBT, &r));
		assert_near(r.p_w, 20e3);
		assert_near(r.wh, 200.0);
		assert_near(r.share, 0.2);
		assert_true(kpi_remainder(f->kpi, LINE_B, &r));
		assert_near(r.p_w, -5e3);
		assert_near(r.wh, -50.0);
		assert_near(r.share, -0.1);
		assert_false(kpi_remainder(f->kpi, CELL_B1, &r));
		assert_true(isnan(r.p_w));

		assert_int_equal(s->ntop, KPI_TOP);
		for (i = 0; i < KPI_TOP; i++) {
			assert_int_equal(s->top[i].meter, top[i].meter);
			assert_int_equal(s->top[i].remainder, top[i].rem);
			assert_near(s->top[i].p_w, top[i].p);
			assert_near(s->top[i].share, top[i].p / cases[c].p_w);
		}
		/* the leaves and the remainders (line-b's negative one too) are
		 * the consumption roots, once each */
		for (m = 0; m < N; m++) {
			if (m == PV)
				continue;
			if (f->meters[m].nchildren == 0)
				sum += kpi_meter_power(f->kpi, m);
			else if (kpi_remainder(f->kpi, m, &r))
				sum += r.p_w;
		}
		assert_near(sum, 105e3);

		assert_int_equal(s->nprod, 1);
		assert_near(s->prod_w, 25e3);
		assert_near(s->prod_today_wh, 250.0);
		assert_near(s->coverage, cases[c].coverage);
		assert_near(s->self_now, 1.0);
		destroy(f);
	}
}

/* Coverage and self-consumption of one interval, by hand. */
static void test_coverage_rates(void **state)
{
	static const struct {
		double prod, cons, coverage, self;
	} cases[] = {
		{ 30.0, 120.0, 0.25, 1.0 },       /* all of it used on site */
		{ 150.0, 100.0, 1.5, 100.0 / 150.0 }, /* a third exported */
		{ 0.0, 80.0, 0.0, NAN },          /* night: no self-consumption rate */
		{ 10.0, 0.0, NAN, 0.0 },          /* nothing consumed: all exported */
		{ NAN, 50.0, NAN, NAN },
		{ 20.0, -5.0, NAN, 0.0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		assert_near(kpi_coverage(cases[i].prod, cases[i].cons), cases[i].coverage);
		assert_near(kpi_self_rate(cases[i].prod, cases[i].cons), cases[i].self);
	}
}

static void test_cost_co2(void **state)
{
	static const struct {
		double price, co2;
		double cost, co2_kg;
	} cases[] = {
		{ 0.2, 0.05, 12.345 * 0.2, 12.345 * 0.05 },
		{ 0.1874, NAN, 12.345 * 0.1874, NAN },
		{ NAN, 0.056, NAN, 12.345 * 0.056 },
		{ NAN, NAN, NAN, NAN },
		{ 0.0, 0.0, 0.0, 0.0 },
	};
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		struct fixture *f = build(spec, 1, NULL);
		int64_t t = D + 15 * H;
		const struct kpi_site *s;

		f->cfg.site.price_per_kwh = cases[i].price;
		f->cfg.site.co2_per_kwh = cases[i].co2;
		s = update(f, t);
		assert_true(isnan(s->cost)); /* no energy yet */
		assert_true(isnan(s->co2_kg));
		put(f, 0, QTY_E_IMP, t + 1 * S, 100000.0);
		update(f, t + 2 * S);
		put(f, 0, QTY_E_IMP, t + 3 * S, 100000.0 + 12345.0);
		s = update(f, t + 4 * S);
		assert_near(s->today_wh, 12345.0);
		assert_near(s->cost, cases[i].cost);
		assert_near(s->co2_kg, cases[i].co2_kg);
		destroy(f);
	}
}

/* ---- data quality ---- */

/* One Modbus poll of the 4-register profile at t; bad: how many are NaN. */
static void poll4(struct fixture *f, uint32_t meter, int64_t t, int bad)
{
	static const unsigned q[4] = { QTY_P_TOTAL, QTY_E_IMP, QTY_V_L1N, QTY_I_L1 };
	struct sample s[4];
	int i;

	for (i = 0; i < 4; i++)
		s[i] = smp(meter, q[i], t, i < bad ? NAN : 100.0 + i);
	live_apply(f->live, s, 4);
}

static void test_quality_modbus(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
		{ "b", DRIVER_MODBUS, 1000, false, 1 },
		{ "c", DRIVER_MODBUS, 500, false, 1 },
	};
	struct fixture *f = build(spec, 3, NULL);
	int64_t t = D + 16 * H;
	const struct kpi_site *s;
	int ms;

	(void)state;
	/* before the start: not counted */
	poll4(f, 0, t - 2 * S, 4);
	poll4(f, 1, t - 1 * S, 0);
	s = update(f, t);
	assert_true(isnan(s->quality));
	/*
	 * 10 s in 100 ms steps: a polls every second (one poll with one bad
	 * value), b every other second (timeouts), c every 500 ms plus three
	 * extra polls, which must not hide b's losses.
	 */
	for (ms = 0; ms < 10000; ms += 100) {
		int64_t tm = t + ms * 1000;

		if (ms % 1000 == 300)
			poll4(f, 0, tm, ms == 4300 ? 1 : 0);
		if (ms % 2000 == 300)
			poll4(f, 1, tm, 0);
		if (ms % 500 == 100 || ms == 200 || ms == 700 || ms == 1200)
			poll4(f, 2, tm, 0);
		if (ms == 1400) {
			s = update(f, tm); /* under three periods of every meter */
			assert_true(isnan(s->quality));
		}
		if (ms == 2900) {
			/* only c has had three periods: 5 expected, 9 came */
			s = update(f, tm);
			assert_near(s->quality, 1.0);
		}
	}
	s = update(f, t + 10 * S);
	/* expected a 10 x 4, b 10 x 4, c 20 x 4; good a 39, b 20, c min(92, 80) */
	assert_near(s->quality, (39.0 + 20.0 + 80.0) / (40.0 + 40.0 + 80.0));
	/* half a period later, still 10 periods */
	s = update(f, t + 10 * S + 499999);
	assert_near(s->quality, (39.0 + 20.0 + 80.0) / (40.0 + 40.0 + 80.0));
	destroy(f);
}

static void test_quality_mqtt(void **state)
{
	static const struct mspec spec[] = {
		{ "m", DRIVER_MQTT, 10000, false, 0 },
		{ "n", DRIVER_MQTT, 10000, false, 0 },
	};
	static const unsigned q[6] = { QTY_P_TOTAL, QTY_E_IMP, QTY_V_L1N,
				       QTY_V_L2N,   QTY_V_L3N, QTY_FREQ };
	struct fixture *f = build(spec, 2, NULL);
	int64_t t = D + 17 * H;
	const struct kpi_site *s;
	int k, j;

	(void)state;
	update(f, t);
	/*
	 * m: a message with 6 values every 10 s; the third carries only 3 (a
	 * notification with what changed); the fifth is lost.
	 * n: two topics in turn, 3 values each, one every 10 s: 3 per period,
	 * although it has 6 quantities.
	 */
	for (k = 0; k < 6; k++) {
		int64_t tm = t + k * 10 * S + 1 * S;

		for (j = 0; j < 3; j++)
			put(f, 1, q[(k % 2) * 3 + j], tm, 230.0);
		if (k != 4) {
			for (j = 0; j < (k == 2 ? 3 : 6); j++)
				put(f, 0, q[j], tm, 230.0);
		}
		update(f, tm + 1 * S);
	}
	s = update(f, t + 29 * S);
	assert_true(isnan(s->quality)); /* under three periods */
	s = update(f, t + 60 * S);
	/* m: learned 6 per period, expected 6 x 6 = 36, good 6+6+3+6+6 = 27;
	 * n: learned 3, expected 18, good 18 */
	assert_near(s->quality, (27.0 + 18.0) / (36.0 + 18.0));
	destroy(f);
}

/* ---- the worker: midnight values from the buffer ---- */

static void write_buffer(struct fixture *f, const char *path, const struct sample *s, size_t n)
{
	char *cause = NULL;
	struct store *st = store_open(path, 10000, 100, 50, &cause);

	if (st == NULL)
		fail_msg("store_open: %s", cause);
	if (store_register_meters(st, &f->cfg, &cause) < 0 ||
	    store_begin_session(st, &f->cfg, "record", &cause) < 0 ||
	    store_start(st, &cause) < 0)
		fail_msg("store: %s", cause);
	store_put_samples(st, s, n);
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);
}

/* Now, not within a minute before or 20 s after midnight: the worker and
 * the test mean the same day, and live values are after midnight. */
static int64_t away_from_midnight(void)
{
	int64_t now = util_now_us();

	while (kpi_local_midnight(now + 60 * S) != kpi_local_midnight(now) ||
	       kpi_local_midnight(now - 20 * S) != kpi_local_midnight(now)) {
		util_sleep_ms(1000);
		now = util_now_us();
	}
	return now;
}

static void test_worker_baseline(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },   /* midnight value in the buffer */
		{ "b", DRIVER_MODBUS, 1000, false, 1 },   /* only yesterday's */
		{ "c", DRIVER_MQTT, 10000, false, 2 },    /* per-phase counters */
		{ "d", DRIVER_MODBUS, 1000, false, 1 },   /* recorder started late */
		{ "e", DRIVER_MQTT, 10000, false, 0 },    /* no profile, e_imp */
	};
	char *path = util_printf("%s/buffer.db", tmpdir);
	struct fixture *f;
	int64_t now, m, end;
	const struct kpi_site *s;

	(void)state;
	now = away_from_midnight();
	m = kpi_local_midnight(now);
	{
		/* written before the kpi exists: build without a worker first */
		struct fixture *w = build(spec, UTIL_ARRAY_LEN(spec), NULL);
		struct sample smps[] = {
			smp(0, QTY_E_IMP, m - 60 * S, 1000.0),
			smp(0, QTY_E_IMP, m - 1, 1100.0),
			smp(0, QTY_P_TOTAL, m, 5.0),
			smp(0, QTY_E_IMP, m + 1 * S, NAN),      /* bad: skipped */
			smp(0, QTY_E_IMP, m + 2 * S, 1200.0),   /* the baseline */
			smp(0, QTY_E_IMP, m + 5 * S, 1300.0),
			smp(1, QTY_E_IMP, m - 10 * S, 500.0),
			smp(2, QTY_E_IMP_L1, m + 3 * S, 100.0),
			smp(2, QTY_E_IMP_L2, m + 3 * S, 200.0),
			smp(2, QTY_E_IMP_L3, m + 4 * S, 300.0),
			smp(2, QTY_E_IMP_L1, m + 13 * S, 105.0),
			smp(3, QTY_E_IMP, m + 1000 * S, 5000.0), /* late: partial */
			smp(4, QTY_E_IMP, m + 7 * S, 40.0),
		};

		write_buffer(w, path, smps, UTIL_ARRAY_LEN(smps));
		destroy(w);
	}
	f = build(spec, UTIL_ARRAY_LEN(spec), path);
	put(f, 0, QTY_E_IMP, now - 1 * S, 1500.0);
	put(f, 1, QTY_E_IMP, now - 1 * S, 800.0);
	put(f, 2, QTY_E_IMP_L1, now - 1 * S, 110.0);
	put(f, 2, QTY_E_IMP_L2, now - 1 * S, 220.0);
	put(f, 2, QTY_E_IMP_L3, now - 1 * S, 330.0);
	put(f, 3, QTY_E_IMP, now - 1 * S, 5100.0);
	put(f, 4, QTY_E_IMP, now - 1 * S, 45.0);
	end = util_mono_us() + 10 * S;
	for (;;) {
		bool partial;

		s = update(f, util_now_us());
		kpi_meter_today_wh(f->kpi, 0, &partial);
		if (!partial)
			break;
		if (util_mono_us() > end)
			fail_msg("the worker gave no baseline within 10 s");
		util_sleep_ms(10);
	}
	assert_today(f, 0, 300.0, false);
	assert_today(f, 1, 0.0, true);
	assert_today(f, 2, 60.0, false);
	assert_today(f, 3, 100.0, true);
	assert_today(f, 4, 5.0, false);
	assert_near(s->today_wh, 300.0 + 0.0 + 60.0 + 100.0 + 5.0);
	assert_true(s->today_partial);
	assert_int_equal(s->today_since_us, m + 1000 * S > now - 1 * S ? m + 1000 * S
								      : now - 1 * S);
	/* further updates keep it */
	put(f, 0, QTY_E_IMP, now, 1550.0);
	update(f, util_now_us());
	assert_today(f, 0, 350.0, false);
	destroy(f);

	/* a counter reset since the buffer's last sample: the live value is
	 * under it; the buffer's day is kept and a new segment starts */
	f = build(spec, UTIL_ARRAY_LEN(spec), path);
	put(f, 0, QTY_E_IMP, now - 1 * S, 7.0);
	put(f, 2, QTY_E_IMP_L1, now - 1 * S, 110.0);
	put(f, 2, QTY_E_IMP_L2, now - 1 * S, 220.0);
	put(f, 2, QTY_E_IMP_L3, now - 1 * S, 330.0);
	end = util_mono_us() + 10 * S;
	for (;;) {
		bool partial;

		update(f, util_now_us());
		kpi_meter_today_wh(f->kpi, 2, &partial);
		if (!partial)
			break;
		if (util_mono_us() > end)
			fail_msg("the worker gave no baseline within 10 s");
		util_sleep_ms(10);
	}
	assert_today(f, 2, 60.0, false);
	assert_today(f, 0, 100.0, false);
	assert_resets(f, 0, 1);
	put(f, 0, QTY_E_IMP, now, 9.0);
	s = update(f, util_now_us());
	assert_today(f, 0, 102.0, false);
	destroy(f);

	/* freed at once, while the worker may still run */
	f = build(spec, UTIL_ARRAY_LEN(spec), path);
	destroy(f);
	free(path);
}

/* Wait until the worker's answer made meter i's figure whole. */
static void wait_worker(struct fixture *f, size_t i)
{
	int64_t end = util_mono_us() + 10 * S;

	for (;;) {
		bool partial;

		update(f, util_now_us());
		kpi_meter_today_wh(f->kpi, i, &partial);
		if (!partial)
			return;
		if (util_mono_us() > end)
			fail_msg("the worker gave no day within 10 s");
		util_sleep_ms(10);
	}
}

/*
 * After a restart of phasor, the day comes from the buffer with the resets
 * that happened while phasor ran before (and while it did not), and the
 * live counter continues it, bridging its own resets.
 */
static void test_worker_segments(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
		{ "b", DRIVER_MODBUS, 1000, false, 1 },
	};
	char *path = util_printf("%s/segments.db", tmpdir);
	struct fixture *f;
	int64_t now = util_now_us(), m;
	const struct kpi_site *s;
	struct kpi_today td;

	(void)state;
	now = away_from_midnight();
	m = kpi_local_midnight(now);
	{
		struct fixture *w = build(spec, UTIL_ARRAY_LEN(spec), NULL);
		struct sample smps[] = {
			smp(0, QTY_E_IMP, m - 5 * S, 900.0),  /* yesterday */
			smp(0, QTY_E_IMP, m + 1 * S, 1000.0),
			smp(0, QTY_E_IMP, m + 3 * S, 1500.0),
			smp(0, QTY_E_IMP, m + 5 * S, 3.0),    /* reset */
			smp(0, QTY_E_IMP, m + 6 * S, NAN),    /* bad */
			smp(0, QTY_E_IMP, m + 7 * S, 403.0),
			smp(0, QTY_E_IMP, m + 9 * S, 10.0),   /* reset */
			smp(0, QTY_E_IMP, m + 11 * S, 60.0),
			smp(1, QTY_E_IMP, m + 2 * S, 5e8),
			smp(1, QTY_E_IMP, m + 4 * S, 5e8 + 2e4), /* restart: back 4 kWh */
			smp(1, QTY_E_IMP, m + 8 * S, 5e8 + 1.6e4),
			smp(1, QTY_E_IMP, m + 10 * S, 5e8 + 1.7e4),
		};

		write_buffer(w, path, smps, UTIL_ARRAY_LEN(smps));
		destroy(w);
	}
	f = build(spec, UTIL_ARRAY_LEN(spec), path);
	put(f, 0, QTY_E_IMP, now - 2 * S, 80.0);
	put(f, 1, QTY_E_IMP, now - 2 * S, 4.0); /* reset while phasor was off */
	wait_worker(f, 0);
	wait_worker(f, 1);
	/* 1000..1500, 3..403, 10..60, then on to 80 */
	assert_today(f, 0, 500.0 + 400.0 + 50.0 + 20.0, false);
	assert_resets(f, 0, 2);
	/* 5e8..5e8+2e4, 5e8+1.6e4..5e8+1.7e4, 4 */
	assert_today(f, 1, 2e4 + 1e3 + 0.0, false);
	assert_resets(f, 1, 2);
	assert_true(kpi_meter_today(f->kpi, 0, &td));
	assert_int_equal(td.since_us, m);
	/* live resets are bridged too */
	put(f, 0, QTY_E_IMP, now - 1 * S, 5.0);
	put(f, 0, QTY_E_IMP, now, 15.0);
	put(f, 1, QTY_E_IMP, now, 14.0);
	s = update(f, util_now_us());
	assert_today(f, 0, 970.0 + 10.0, false);
	assert_resets(f, 0, 3);
	assert_today(f, 1, 2e4 + 1e3 + 10.0, false);
	assert_near(s->today_wh, 980.0 + 21010.0);
	assert_int_equal(s->today_resets, 3 + 2);
	assert_false(s->today_partial);
	assert_int_equal(s->today_since_us, m);
	destroy(f);
	free(path);
}

/*
 * The grid connection's export counter read from the buffer as the import
 * counters are: since midnight the incomer's e_imp 1000 -> 2000 (G = 1000
 * Wh), its e_exp 100 -> 700 (X = 600), the PV's e_imp 50 -> 1250 (P =
 * 1200), part of each in the buffer, the rest live. Used on site P - X =
 * 600, consumption G + P - X = 1600, coverage 1200 / 1600.
 */
static void test_worker_export(void **state)
{
	static const struct mspec spec[] = {
		{ "incomer", DRIVER_MODBUS, 1000, false, 0 },
		{ "pv", DRIVER_MODBUS, 1000, false, 0 },
	};
	char *path = util_printf("%s/export.db", tmpdir);
	int64_t now, m, end;
	const struct kpi_site *s;
	struct fixture *f;

	(void)state;
	now = away_from_midnight();
	m = kpi_local_midnight(now);
	{
		struct fixture *w = build(spec, UTIL_ARRAY_LEN(spec), NULL);
		struct sample smps[] = {
			smp(0, QTY_E_IMP, m + 2 * S, 1000.0), smp(0, QTY_E_EXP, m + 2 * S, 100.0),
			smp(1, QTY_E_IMP, m + 2 * S, 50.0),   smp(0, QTY_E_IMP, m + 5 * S, 1500.0),
			smp(0, QTY_E_EXP, m + 5 * S, 400.0),  smp(1, QTY_E_IMP, m + 5 * S, 650.0),
		};

		write_buffer(w, path, smps, UTIL_ARRAY_LEN(smps));
		destroy(w);
	}
	f = build(spec, UTIL_ARRAY_LEN(spec), path);
	f->meters[0].grid = true;
	f->meters[1].role = METER_PRODUCTION;
	kpi_free(f->kpi);
	f->kpi = kpi_new_day(&f->cfg, &follow_kpi_day_ops);
	put(f, 0, QTY_E_IMP, now - 1 * S, 2000.0);
	put(f, 0, QTY_E_EXP, now - 1 * S, 700.0);
	put(f, 1, QTY_E_IMP, now - 1 * S, 1250.0);
	end = util_mono_us() + 10 * S;
	while (kpi_day_pending(f->kpi)) {
		update(f, util_now_us());
		if (util_mono_us() > end)
			fail_msg("the worker gave no baseline within 10 s");
		util_sleep_ms(10);
	}
	s = update(f, util_now_us());
	assert_near(s->today_wh, 1000.0);
	assert_near(s->export_today_wh, 600.0);
	assert_near(s->prod_today_wh, 1200.0);
	assert_near(s->self_today_wh, 600.0);
	assert_near(s->cons_today_wh, 1600.0);
	assert_near(s->coverage, 1200.0 / 1600.0);
	destroy(f);
	free(path);
}

static void test_no_buffer(void **state)
{
	static const struct mspec spec[] = {
		{ "a", DRIVER_MODBUS, 1000, false, 1 },
	};
	char *path = util_printf("%s/missing.db", tmpdir);
	char *junk = util_printf("%s/junk.db", tmpdir);
	const char *paths[2] = { path, junk };
	FILE *fp = fopen(junk, "w");
	size_t i;
	int k;

	(void)state;
	assert_non_null(fp);
	fputs("not a database\n", fp);
	fclose(fp);
	for (i = 0; i < 2; i++) {
		struct fixture *f = build(spec, 1, paths[i]);
		int64_t now = util_now_us();

		put(f, 0, QTY_E_IMP, now - 1 * S, 900.0);
		for (k = 0; k < 20; k++) {
			update(f, util_now_us());
			util_sleep_ms(5);
		}
		assert_today(f, 0, 0.0, true);
		destroy(f);
	}
	free(path);
	free(junk);
}

/* ---- main ---- */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local_midnight),
		cmocka_unit_test(test_energy_partial),
		cmocka_unit_test(test_per_phase_counters),
		cmocka_unit_test(test_rollover),
		cmocka_unit_test(test_counter_reset),
		cmocka_unit_test(test_small_reset),
		cmocka_unit_test(test_reset_after_gap),
		cmocka_unit_test(test_site_totals),
		cmocka_unit_test(test_top_many),
		cmocka_unit_test(test_power_stale),
		cmocka_unit_test(test_top_consumers),
		cmocka_unit_test(test_tree_totals),
		cmocka_unit_test(test_coverage_rates),
		cmocka_unit_test(test_cost_co2),
		cmocka_unit_test(test_quality_modbus),
		cmocka_unit_test(test_quality_mqtt),
		cmocka_unit_test(test_worker_baseline),
		cmocka_unit_test(test_worker_segments),
		cmocka_unit_test(test_no_buffer),
		cmocka_unit_test(test_worker_export),
		cmocka_unit_test(test_site_utilities),
		cmocka_unit_test(test_cost_per_utility),
		cmocka_unit_test(test_grid_export),
	};

	set_tz("Europe/Paris");
	if (test_tmpdir_make(tmpdir) < 0)
		return 1;
	log_set_level(LOG_ERROR);
	return test_tmpdir_done(tmpdir, cmocka_run_group_tests(tests, NULL, NULL));
}
