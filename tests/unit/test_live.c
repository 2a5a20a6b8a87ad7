// SPDX-License-Identifier: MIT
/*
 * Unit tests of live: latest values and out-of-order samples, staleness at
 * exactly three periods, the history rings (per-second means, 10 s buckets
 * beyond 15 minutes, gaps, wrap after more than an hour, window and
 * far-future guards), p_total summed from the phases, counter reset
 * detection, and the analysis input built from good, fresh values only.
 * The configuration is built by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/live.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define S INT64_C(1000000)
/* 2023-11-14T22:13:20Z: in the past, so never "far in the future". */
#define T0 (INT64_C(1700000000) * S)

struct fixture {
	struct config_meter meters[3];
	struct profile prof;           /* a profile mapping p_total (meter 2) */
	struct profile_reg regs[2];
	struct config cfg;
	struct live *live;
	/* reset callbacks seen */
	int resets;
	size_t reset_meter;
	unsigned reset_qty;
	double reset_before, reset_after;
	int64_t reset_t;
};

static void on_reset(void *ctx, size_t meter, unsigned qty, double before, double after,
		     double span, int64_t t_us)
{
	(void)span;
	struct fixture *f = ctx;

	f->resets++;
	f->reset_meter = meter;
	f->reset_qty = qty;
	f->reset_before = before;
	f->reset_after = after;
	f->reset_t = t_us;
}

static int setup(void **state)
{
	struct fixture *f = util_calloc(1, sizeof(*f));

	f->meters[0] = (struct config_meter){ .name = (char *)"tgbt-1", .driver = DRIVER_MODBUS,
					      .poll_ms = 1000, .nominal_voltage = 127,
					      .max_power = 20000 };
	f->meters[1] = (struct config_meter){ .name = (char *)"press-3", .driver = DRIVER_MQTT,
					      .poll_ms = 10000, .nominal_voltage = 0,
					      .max_power = 0 };
	f->regs[0] = (struct profile_reg){ .qty = QTY_P_L1 };
	f->regs[1] = (struct profile_reg){ .qty = QTY_P_TOTAL };
	f->prof = (struct profile){ .name = (char *)"handmade", .driver = PROFILE_MODBUS,
				    .regs = f->regs, .nregs = 2 };
	f->meters[2] = (struct config_meter){ .name = (char *)"pac", .driver = DRIVER_MODBUS,
					      .profile = &f->prof, .poll_ms = 500 };
	f->cfg.meters = f->meters;
	f->cfg.nmeters = 3;
	f->cfg.site.target_pf = 0.9;
	f->cfg.site.nominal_freq = 60;
	f->live = live_new(&f->cfg, on_reset, f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	live_free(f->live);
	free(f);
	return 0;
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

static void assert_hist(const double *got, const double *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (isnan(want[i]) != isnan(got[i]) || (!isnan(want[i]) && fabs(got[i] - want[i]) > 1e-9))
			fail_msg("history[%zu] = %g, expected %g", i, got[i], want[i]);
	}
}

/* ---- tests ---- */

static void test_new(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m;
	size_t q;

	assert_int_equal(live_count(f->live), 3);
	m = live_meter(f->live, 1);
	assert_non_null(m);
	assert_ptr_equal(m->cfg, &f->meters[1]);
	assert_int_equal(m->index, 1);
	assert_ptr_equal(live_meter_const(f->live, 1), m);
	assert_null(live_meter(f->live, 3));
	assert_null(live_meter_const(f->live, 3));
	assert_int_equal(m->samples, 0);
	assert_int_equal(m->last_sample_us, 0);
	assert_int_equal(m->comm.status, COMM_UNKNOWN);
	for (q = 0; q < QTY__COUNT; q++)
		assert_int_equal(m->v[q].t_us, 0);
	assert_int_equal(live_period_us(live_meter(f->live, 0)), 1000 * 1000);
	assert_int_equal(live_period_us(m), 10000 * 1000);

	/* no meters at all */
	{
		struct config empty = { 0 };
		struct live *l = live_new(&empty, NULL, NULL);
		struct sample s = smp(0, QTY_P_TOTAL, T0, 1);

		assert_int_equal(live_count(l), 0);
		assert_null(live_meter(l, 0));
		live_apply(l, &s, 1);
		live_free(l);
	}
}

static void test_latest_values(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	struct sample batch[5] = {
		smp(0, QTY_V_L1N, T0 + 100, 231.5),
		smp(0, QTY_I_L2, T0 + 100, 12.25),
		smp(1, QTY_FREQ, T0 + 200, 50.01),
		smp(0, QTY_V_L2N, T0 + 100, NAN),       /* bad */
		smp(7, QTY_V_L1N, T0 + 100, 1.0),       /* unknown meter */
	};
	struct sample odd = smp(0, QTY_V_L1N, T0 + 300, 5.0);

	live_apply(f->live, batch, 5);
	assert_true(m->v[QTY_V_L1N].value == 231.5);
	assert_int_equal(m->v[QTY_V_L1N].t_us, T0 + 100);
	assert_int_equal(m->v[QTY_V_L1N].quality, QUALITY_GOOD);
	assert_true(m->v[QTY_I_L2].value == 12.25);
	assert_true(isnan(m->v[QTY_V_L2N].value));
	assert_int_equal(m->v[QTY_V_L2N].quality, QUALITY_BAD);
	assert_int_equal(m->v[QTY_V_L2N].t_us, T0 + 100);
	assert_int_equal(m->samples, 3);
	assert_int_equal(m->bad_samples, 1);
	assert_int_equal(m->last_sample_us, T0 + 100);
	assert_int_equal(live_meter(f->live, 1)->samples, 1);
	assert_true(live_meter(f->live, 1)->v[QTY_FREQ].value == 50.01);
	assert_int_equal(live_meter(f->live, 2)->samples, 0);

	/* an unknown quantity id is ignored */
	odd.qty = QTY__COUNT;
	live_apply(f->live, &odd, 1);
	assert_int_equal(m->samples, 3);
	assert_true(m->v[QTY_V_L1N].value == 231.5);

	/* a bad value (sentinel, kept as read) replaces the good one */
	put(f, 0, QTY_V_L1N, T0 + 400, -5.0);
	assert_true(m->v[QTY_V_L1N].value == -5.0);
	assert_int_equal(m->v[QTY_V_L1N].quality, QUALITY_BAD);
	assert_int_equal(m->bad_samples, 2);
	assert_int_equal(m->last_sample_us, T0 + 400);

	/* comm state */
	{
		struct meter_comm c = { .status = COMM_DOWN, .error = "timeout", .latency_us = 5 };

		live_set_comm(f->live, 0, &c);
		live_set_comm(f->live, 9, &c); /* ignored */
		assert_int_equal(m->comm.status, COMM_DOWN);
		assert_string_equal(m->comm.error, "timeout");
		assert_int_equal(live_meter(f->live, 1)->comm.status, COMM_UNKNOWN);
	}
}

static void test_out_of_order(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	double h[3];

	put(f, 0, QTY_P_TOTAL, T0 + 5 * S, 500);
	put(f, 0, QTY_P_TOTAL, T0 + 3 * S, 300); /* late */
	assert_true(m->v[QTY_P_TOTAL].value == 500);
	assert_int_equal(m->v[QTY_P_TOTAL].t_us, T0 + 5 * S);
	assert_int_equal(m->last_sample_us, T0 + 5 * S);
	assert_int_equal(m->samples, 2);
	/* a late bad sample does not spoil the good latest value either */
	put(f, 0, QTY_P_TOTAL, T0 + 4 * S, NAN);
	assert_true(m->v[QTY_P_TOTAL].value == 500);
	assert_int_equal(m->v[QTY_P_TOTAL].quality, QUALITY_GOOD);
	/* the same time replaces (a corrected value) */
	put(f, 0, QTY_P_TOTAL, T0 + 5 * S, 510);
	assert_true(m->v[QTY_P_TOTAL].value == 510);
	/* the late sample still lands in its second of history */
	assert_int_equal(live_history(m, LIVE_HIST_P, T0 + 5 * S, h, 3), 3);
	{
		const double want[3] = { 300, NAN, 505 };

		assert_hist(h, want, 3);
	}
}

static void test_staleness(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m0 = live_meter(f->live, 0); /* 1 s */
	struct live_meter *m1 = live_meter(f->live, 1); /* 10 s */

	/* never seen */
	assert_true(live_value_stale(m0, QTY_V_L1N, T0));
	assert_true(live_meter_stale(m0, T0));
	assert_true(live_value_stale(m0, QTY__COUNT, T0));

	put(f, 0, QTY_V_L1N, T0, 230);
	assert_false(live_value_stale(m0, QTY_V_L1N, T0));
	assert_false(live_value_stale(m0, QTY_V_L1N, T0 + 3 * S));     /* exactly 3 periods */
	assert_true(live_value_stale(m0, QTY_V_L1N, T0 + 3 * S + 1));  /* just older */
	assert_false(live_meter_stale(m0, T0 + 3 * S));
	assert_true(live_meter_stale(m0, T0 + 3 * S + 1));
	assert_true(live_value_stale(m0, QTY_V_L2N, T0));              /* other quantity */

	put(f, 1, QTY_P_TOTAL, T0, 1000);
	assert_false(live_value_stale(m1, QTY_P_TOTAL, T0 + 30 * S));
	assert_true(live_value_stale(m1, QTY_P_TOTAL, T0 + 30 * S + 1));

	/* a newer sample of another quantity keeps the meter fresh, not the value */
	put(f, 0, QTY_V_L2N, T0 + 2 * S, 230);
	assert_true(live_value_stale(m0, QTY_V_L1N, T0 + 4 * S));
	assert_false(live_meter_stale(m0, T0 + 4 * S));
}

/*
 * A Modbus meter behind a shared endpoint: its source gives the delay a
 * sibling's timeout can add (stale_grace_ms); within three periods plus
 * that, its data is not stale.
 */
static void test_staleness_grace(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m0 = live_meter(f->live, 0); /* 1 s */
	struct meter_comm c;

	memset(&c, 0, sizeof(c));
	c.status = COMM_OK;
	c.stale_grace_ms = 1500;
	live_set_comm(f->live, 0, &c);
	put(f, 0, QTY_V_L1N, T0, 230);
	assert_false(live_value_stale(m0, QTY_V_L1N, T0 + 3 * S + 1));
	assert_false(live_value_stale(m0, QTY_V_L1N, T0 + 4 * S + S / 2));
	assert_true(live_value_stale(m0, QTY_V_L1N, T0 + 4 * S + S / 2 + 1));
	assert_false(live_meter_stale(m0, T0 + 4 * S + S / 2));
	assert_true(live_meter_stale(m0, T0 + 4 * S + S / 2 + 1));
	/* no grace: three periods, as for any meter */
	c.stale_grace_ms = 0;
	live_set_comm(f->live, 0, &c);
	assert_true(live_value_stale(m0, QTY_V_L1N, T0 + 3 * S + 1));
}

static void test_history_means_and_gaps(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	double h[6];
	size_t i;

	/* empty history: all NaN */
	assert_int_equal(live_history(m, LIVE_HIST_Q, T0, h, 6), 6);
	for (i = 0; i < 6; i++)
		assert_true(isnan(h[i]));

	put(f, 0, QTY_Q_TOTAL, T0 + 10 * S + 100, 10);
	put(f, 0, QTY_Q_TOTAL, T0 + 10 * S + 900000, 20);     /* same second: mean 15 */
	put(f, 0, QTY_Q_TOTAL, T0 + 12 * S, 30);              /* T0+11 is a gap */
	put(f, 0, QTY_PF_TOTAL, T0 + 12 * S, 0.93);
	put(f, 0, QTY_Q_TOTAL, T0 + 12 * S + 1, NAN);         /* bad: not in the mean */

	/* now = T0+13.5: the last 5 s are T0+9 .. T0+13 */
	assert_int_equal(live_history(m, LIVE_HIST_Q, T0 + 13 * S + S / 2, h, 5), 5);
	{
		const double want[5] = { NAN, 15, NAN, 30, NAN };

		assert_hist(h, want, 5);
	}
	assert_int_equal(live_history(m, LIVE_HIST_PF, T0 + 12 * S, h, 2), 2);
	{
		const double want[2] = { NAN, 0.93 };

		assert_hist(h, want, 2);
	}
	/* P never received */
	assert_int_equal(live_history(m, LIVE_HIST_P, T0 + 12 * S, h, 2), 2);
	assert_true(isnan(h[0]) && isnan(h[1]));
	/* n is clamped to an hour */
	{
		double *big = util_calloc(LIVE_HISTORY_S + 100, sizeof(double));

		assert_int_equal(live_history(m, LIVE_HIST_Q, T0 + 12 * S, big, LIVE_HISTORY_S + 100),
				 LIVE_HISTORY_S);
		assert_true(big[LIVE_HISTORY_S - 1] == 30);
		assert_true(big[LIVE_HISTORY_S - 3] == 15);
		free(big);
	}
	assert_int_equal(live_history(m, LIVE_HIST_Q, T0, h, 0), 0);
}

/* The value of second k of test_two_resolutions' sequence: 0..9 by the
 * last digit, none at 3, two samples (100, 300) at 5, gaps at 60..79 and
 * 85..94, a spike at 150; NAN: no sample. */
static double seq_value(int64_t k)
{
	if ((k >= 60 && k < 80) || (k >= 85 && k < 95) || k % 10 == 3)
		return NAN;
	if (k == 150)
		return 5000;
	return (double)(k % 10);
}

/* Its per-second mean (what the ring held for every second before). */
static double seq_mean(int64_t k)
{
	return k % 10 == 5 && !isnan(seq_value(k)) ? 200 : seq_value(k);
}

/*
 * 20 minutes of a known sequence: the newest 15 minutes come back per
 * second; older seconds with data as their 10 s bucket's mean of
 * per-second means (a gap stays a gap, second by second), so the hour's
 * mean is the same; the extremes are those of the per-second means.
 */
static void test_two_resolutions(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	const int64_t total = 1200, now = T0 + (total - 1) * S;
	double h[1200], want[1200], later[1200], shifted[1200], lo, hi, sum = 0, wsum = 0;
	int64_t k;
	size_t cnt = 0, wcnt = 0;

	for (k = 0; k < total; k++) {
		if (isnan(seq_value(k)))
			continue;
		if (k % 10 == 5) {
			put(f, 0, QTY_P_TOTAL, T0 + k * S, 100);
			put(f, 0, QTY_P_TOTAL, T0 + k * S + S / 2, 300);
		} else {
			put(f, 0, QTY_P_TOTAL, T0 + k * S, seq_value(k));
		}
	}
	assert_int_equal(live_history(m, LIVE_HIST_P, now, h, (size_t)total), total);
	for (k = 0; k < total; k++)
		want[k] = seq_mean(k);
	/* a full bucket: means 0 1 2 4 200 6 7 8 9 (none at 3) */
	for (k = 0; k < total - LIVE_FINE_S; k++)
		if (!isnan(want[k]))
			want[k] = 237.0 / 9.0;
	for (k = 80; k < 85; k++)
		if (!isnan(want[k]))
			want[k] = 7.0 / 4.0;   /* 80 81 82 84: 0 1 2 4 */
	for (k = 95; k < 100; k++)
		want[k] = 230.0 / 5.0;         /* 95..99: 200 6 7 8 9 */
	for (k = 150; k < 160; k++)
		if (!isnan(want[k]))
			want[k] = 5237.0 / 9.0;
	assert_hist(h, want, (size_t)total);
	/* 100 s later with nothing new (the meter went quiet): the same
	 * seconds, shifted, and gaps after the newest */
	assert_int_equal(live_history(m, LIVE_HIST_P, now + 100 * S, later, (size_t)total), total);
	for (k = 0; k < total; k++)
		shifted[k] = k + 100 < total ? want[k + 100] : NAN;
	assert_hist(later, shifted, (size_t)total);
	/* the mean of the series is the mean of the per-second means */
	for (k = 0; k < total; k++) {
		if (!isnan(h[k])) {
			sum += h[k];
			cnt++;
		}
		if (!isnan(seq_mean(k))) {
			wsum += seq_mean(k);
			wcnt++;
		}
	}
	assert_int_equal(cnt, wcnt);
	assert_true(fabs(sum / (double)cnt - wsum / (double)wcnt) < 1e-9);
	/* extremes: the spike, and the mean of the two samples (not 300) */
	assert_true(live_history_range(m, LIVE_HIST_P, now, LIVE_HISTORY_S, &lo, &hi));
	assert_true(lo == 0 && hi == 5000);
	assert_true(live_history_range(m, LIVE_HIST_P, now, LIVE_FINE_S, &lo, &hi));
	assert_true(lo == 0 && hi == 200);
	assert_false(live_history_range(m, LIVE_HIST_Q, now, LIVE_HISTORY_S, &lo, &hi));
	assert_true(isnan(lo) && isnan(hi));

	/* a late sample: into an empty older second, and into a newer one */
	put(f, 0, QTY_P_TOTAL, T0 + 65 * S, 40);
	put(f, 0, QTY_P_TOTAL, T0 + 1000 * S, 10);
	live_history(m, LIVE_HIST_P, now, h, (size_t)total);
	assert_true(h[65] == 40);
	assert_true(isnan(h[64]) && isnan(h[66]));
	assert_true(h[1000] == 5);
}

/* A clock stepped 30 minutes ahead: the newest 15 minutes before the step
 * go into their buckets, the seconds stepped over are a gap. */
/* A utility meter's flow fills its P ring (the chart and sparkline of a
 * meter without power); an electrical meter's flow does not. */
static void test_history_flow(void **state)
{
	struct fixture *f = *state;
	struct config_meter cm = { .name = (char *)"gas", .driver = DRIVER_MODBUS, .poll_ms = 1000,
				   .utility = UTILITY_GAS };
	struct config cfg = { .meters = &cm, .nmeters = 1 };
	struct live *l = live_new(&cfg, NULL, NULL);
	struct sample s = { .t_us = T0 + 2 * S, .value = 12.5, .meter = 0, .qty = QTY_FLOW };
	const double want[2] = { NAN, 12.5 }, none[2] = { NAN, NAN };
	double h[2];

	live_apply(l, &s, 1);
	assert_int_equal(live_history(live_meter(l, 0), LIVE_HIST_P, T0 + 2 * S, h, 2), 2);
	assert_hist(h, want, 2);
	put(f, 0, QTY_FLOW, T0 + 2 * S, 12.5);
	assert_int_equal(live_history(live_meter(f->live, 0), LIVE_HIST_P, T0 + 2 * S, h, 2), 2);
	assert_hist(h, none, 2);
	live_free(l);
}

static void test_history_clock_step(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	const int64_t step_to = 1199 + 1800;
	double *h = util_calloc(LIVE_HISTORY_S, sizeof(double));
	int64_t k;
	size_t i;

	for (k = 0; k < 1200; k++)
		put(f, 0, QTY_Q_TOTAL, T0 + k * S, (double)k);
	put(f, 0, QTY_Q_TOTAL, T0 + step_to * S, 7);
	live_history(m, LIVE_HIST_Q, T0 + step_to * S, h, LIVE_HISTORY_S);
	/* h[i] is second step_to - 3599 + i = i - 600 */
	for (i = 0; i < LIVE_HISTORY_S; i++) {
		double want = NAN;

		k = (int64_t)i - 600;
		if (k >= 0 && k < 1200)
			want = (double)(k - k % 10) + 4.5;
		else if (k == step_to)
			want = 7;
		if (isnan(want) != isnan(h[i]) || (!isnan(want) && h[i] != want))
			fail_msg("after the step h[%zu] = %g, expected %g", i, h[i], want);
	}
	free(h);
}

static void test_ring_wrap(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	const int64_t total = LIVE_HISTORY_S + 600; /* 70 minutes */
	double *h = util_calloc(LIVE_HISTORY_S, sizeof(double)), lo, hi;
	int64_t k, last;
	size_t i;

	for (k = 0; k < total; k++)
		put(f, 0, QTY_P_TOTAL, T0 + k * S, (double)k);
	last = total - 1;
	assert_int_equal(m->hist[LIVE_HIST_P].last_s, T0 / S + last);
	assert_int_equal(live_history(m, LIVE_HIST_P, T0 + last * S, h, LIVE_HISTORY_S),
			 LIVE_HISTORY_S);
	/* oldest first: seconds 600 .. 4199, the older 45 minutes as the
	 * means of their 10 s buckets */
	for (i = 0; i < LIVE_HISTORY_S; i++) {
		k = 600 + (int64_t)i;
		if (h[i] != (i < LIVE_HISTORY_S - LIVE_FINE_S ? (double)(k - k % 10) + 4.5 : (double)k))
			fail_msg("wrap: h[%zu] = %g", i, h[i]);
	}
	assert_true(live_history_range(m, LIVE_HIST_P, T0 + last * S, LIVE_HISTORY_S, &lo, &hi));
	assert_true(lo == 600 && hi == (double)last);

	/* a sample exactly an hour older than the newest is outside the
	 * window and ignored */
	put(f, 0, QTY_P_TOTAL, T0 + (last - LIVE_HISTORY_S) * S, -1e6);
	live_history(m, LIVE_HIST_P, T0 + last * S, h, LIVE_HISTORY_S);
	assert_true(h[0] == 604.5 && h[LIVE_HISTORY_S - 1] == (double)last);
	/* but a late one inside the window is averaged into its bucket */
	put(f, 0, QTY_P_TOTAL, T0 + (last - LIVE_HISTORY_S + 1) * S, 0);
	live_history(m, LIVE_HIST_P, T0 + last * S, h, LIVE_HISTORY_S);
	assert_true(h[0] == 6045.0 / 11.0 && h[9] == h[0] && h[10] == 614.5);

	/* skip 100 s: the skipped slots held data from an hour ago, now
	 * cleared; the seconds they held went into their buckets */
	put(f, 0, QTY_P_TOTAL, T0 + (last + 101) * S, 7);
	live_history(m, LIVE_HIST_P, T0 + (last + 101) * S, h, 102);
	assert_true(h[0] == (double)last);
	for (i = 1; i < 101; i++)
		if (!isnan(h[i]))
			fail_msg("gap slot %zu = %g", i, h[i]);
	assert_true(h[101] == 7);
	live_history(m, LIVE_HIST_P, T0 + (last + 101) * S, h, LIVE_HISTORY_S);
	/* second 3400: the one of its bucket out of the newest 15 minutes */
	assert_true(h[LIVE_HISTORY_S - LIVE_FINE_S - 1] == 3400);
	assert_true(h[LIVE_HISTORY_S - LIVE_FINE_S - 2] == 3394.5);
	assert_true(h[LIVE_HISTORY_S - LIVE_FINE_S] == 3401);

	/* a clock stepped back by two hours: its samples are outside the window */
	put(f, 0, QTY_P_TOTAL, T0 + (last - 2 * LIVE_HISTORY_S) * S, -5);
	live_history(m, LIVE_HIST_P, T0 + (last + 101) * S, h, LIVE_HISTORY_S);
	assert_true(h[LIVE_HISTORY_S - 1] == 7);
	assert_true(live_history_range(m, LIVE_HIST_P, T0 + (last + 101) * S, LIVE_HISTORY_S, &lo,
				       &hi));
	assert_true(lo == 7 && hi == (double)last);

	/* a gap of more than an hour clears everything */
	put(f, 0, QTY_P_TOTAL, T0 + (last + 101 + 2 * LIVE_HISTORY_S) * S, 9);
	live_history(m, LIVE_HIST_P, T0 + (last + 101 + 2 * LIVE_HISTORY_S) * S, h, LIVE_HISTORY_S);
	for (i = 0; i + 1 < LIVE_HISTORY_S; i++)
		if (!isnan(h[i]))
			fail_msg("after long gap h[%zu] = %g", i, h[i]);
	assert_true(h[LIVE_HISTORY_S - 1] == 9);
	free(h);
}

static void test_far_future(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	int64_t now = util_now_us();
	int64_t future = now + 86400 * S;
	double h[2];

	put(f, 0, QTY_P_TOTAL, now, 100);
	put(f, 0, QTY_P_TOTAL, future, 999); /* clock set a day ahead */
	assert_true(m->v[QTY_P_TOTAL].value == 100);
	assert_int_equal(m->v[QTY_P_TOTAL].t_us, now);
	assert_int_equal(m->last_sample_us, now);
	assert_int_equal(m->samples, 2);
	/* the history was not advanced by a day (which would have wiped it) */
	assert_int_equal(m->hist[LIVE_HIST_P].last_s, now / S);
	live_history(m, LIVE_HIST_P, now, h, 2);
	assert_true(h[1] == 100);
	/* a sample a few seconds ahead (clock skew) is fine */
	put(f, 0, QTY_P_TOTAL, now + 2 * S, 200);
	assert_true(m->v[QTY_P_TOTAL].value == 200);
}

static void test_p_total_from_phases(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 1);     /* no profile: no p_total */
	struct live_meter *pac = live_meter(f->live, 2);   /* profile maps p_total */
	double h[4];

	/* T0+0: only two phases; T0+1: L3 arrives alone (another second) */
	put(f, 1, QTY_P_L1, T0, 1000);
	put(f, 1, QTY_P_L2, T0 + 1000, 2000);
	put(f, 1, QTY_P_L3, T0 + S, 3000);
	/* T0+2: the three, in any order, summed once */
	put(f, 1, QTY_P_L3, T0 + 2 * S, 3000);
	put(f, 1, QTY_P_L1, T0 + 2 * S, 1000);
	put(f, 1, QTY_P_L2, T0 + 2 * S + 5, 2500);
	/* T0+3: two complete sets in the same second: mean of the sums */
	put(f, 1, QTY_P_L1, T0 + 3 * S, 100);
	put(f, 1, QTY_P_L2, T0 + 3 * S, 100);
	put(f, 1, QTY_P_L3, T0 + 3 * S, 100);
	put(f, 1, QTY_P_L1, T0 + 3 * S + 500000, 200);
	put(f, 1, QTY_P_L2, T0 + 3 * S + 500000, 200);
	put(f, 1, QTY_P_L3, T0 + 3 * S + 500000, 200);
	live_history(m, LIVE_HIST_P, T0 + 3 * S, h, 4);
	{
		const double want[4] = { NAN, NAN, 6500, 450 };

		assert_hist(h, want, 4);
	}
	/* currents: mean of the three */
	put(f, 1, QTY_I_L1, T0 + 3 * S, 10);
	put(f, 1, QTY_I_L2, T0 + 3 * S, 20);
	put(f, 1, QTY_I_L3, T0 + 3 * S, 30);
	put(f, 1, QTY_I_L1, T0 + 4 * S, 10);
	put(f, 1, QTY_I_L2, T0 + 4 * S, NAN); /* bad: no mean that second */
	put(f, 1, QTY_I_L3, T0 + 4 * S, 30);
	live_history(m, LIVE_HIST_I, T0 + 4 * S, h, 2);
	{
		const double want[2] = { 20, NAN };

		assert_hist(h, want, 2);
	}

	/* once the meter sends p_total, the phases no longer feed P */
	put(f, 1, QTY_P_TOTAL, T0 + 5 * S, 7777);
	put(f, 1, QTY_P_L1, T0 + 5 * S, 1);
	put(f, 1, QTY_P_L2, T0 + 5 * S, 1);
	put(f, 1, QTY_P_L3, T0 + 5 * S, 1);
	live_history(m, LIVE_HIST_P, T0 + 5 * S, h, 1);
	assert_true(h[0] == 7777);

	/* a meter whose profile maps p_total never sums its phases */
	put(f, 2, QTY_P_L1, T0, 1);
	put(f, 2, QTY_P_L2, T0, 1);
	put(f, 2, QTY_P_L3, T0, 1);
	live_history(pac, LIVE_HIST_P, T0, h, 1);
	assert_true(isnan(h[0]));
}

static void test_counter_reset(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	float j;

	put(f, 0, QTY_E_IMP, T0, 1000000);
	put(f, 0, QTY_E_IMP, T0 + S, 1000100);
	assert_int_equal(f->resets, 0);
	/* float32 jitter: the next float below 1000100 */
	j = nextafterf(1000100.0f, 0.0f);
	put(f, 0, QTY_E_IMP, T0 + 2 * S, (double)j);
	assert_int_equal(f->resets, 0);
	/* a late sample lower than the newest is not a reset */
	put(f, 0, QTY_E_IMP, T0 + S / 2, 999000);
	assert_int_equal(f->resets, 0);
	/* a bad value is neither a reset nor the new reference */
	put(f, 0, QTY_E_IMP, T0 + 3 * S, NAN);
	assert_int_equal(f->resets, 0);
	/* the reset */
	put(f, 0, QTY_E_IMP, T0 + 4 * S, 5);
	assert_int_equal(f->resets, 1);
	assert_int_equal(m->counter_resets, 1);
	assert_int_equal(f->reset_meter, 0);
	assert_int_equal(f->reset_qty, QTY_E_IMP);
	assert_true(f->reset_before == (double)j);
	assert_true(f->reset_after == 5);
	assert_int_equal(f->reset_t, T0 + 4 * S);
	/* counting up again from there is fine */
	put(f, 0, QTY_E_IMP, T0 + 5 * S, 6);
	assert_int_equal(f->resets, 1);

	/* the tolerance, a millionth: 1e9 -> 1e9 - 999 is rounding,
	 * 999999001 -> 999998000 is a reset (more than 999.999 below) */
	put(f, 0, QTY_EQ_EXP, T0, 1e9);
	put(f, 0, QTY_EQ_EXP, T0 + S, 1e9 - 999);
	assert_int_equal(f->resets, 1);
	put(f, 0, QTY_EQ_EXP, T0 + 2 * S, 999998000);
	assert_int_equal(f->resets, 2);
	assert_int_equal(f->reset_qty, QTY_EQ_EXP);

	/* non-counters may go down freely */
	put(f, 0, QTY_P_TOTAL, T0, 1000);
	put(f, 0, QTY_P_TOTAL, T0 + S, 10);
	assert_int_equal(f->resets, 2);
	/* per-meter: meter 1's counter is independent, no callback needed */
	put(f, 1, QTY_E_EXP, T0, 10);
	put(f, 1, QTY_E_EXP, T0 + S, 20);
	assert_int_equal(f->resets, 2);
	assert_int_equal(m->counter_resets, 2);

	/* without a callback resets are still counted */
	{
		struct live *l = live_new(&f->cfg, NULL, NULL);
		struct sample a = smp(0, QTY_E_IMP, T0, 500), b = smp(0, QTY_E_IMP, T0 + S, 0);

		live_apply(l, &a, 1);
		live_apply(l, &b, 1);
		assert_int_equal(live_meter(l, 0)->counter_resets, 1);
		live_free(l);
	}
}

/* The joined counter: the sum over segments, resets bridged. */
static void test_counter_joined(void **state)
{
	struct fixture *f = *state;
	struct live_counter c;

	assert_false(live_counter(f->live, 0, QTY_E_IMP, &c));
	assert_false(live_counter(f->live, 0, QTY_P_TOTAL, &c)); /* no counter */
	put(f, 0, QTY_E_IMP, T0, 1000);
	put(f, 0, QTY_E_IMP, T0 + S, 1200);
	put(f, 0, QTY_E_IMP, T0 + 2 * S, 5);       /* reset */
	put(f, 0, QTY_E_IMP, T0 + 3 * S, 25);
	put(f, 0, QTY_E_IMP, T0 + 2 * S + S / 2, 1); /* late: left out */
	put(f, 0, QTY_E_IMP, T0 + 4 * S, NAN);     /* bad: left out */
	put(f, 0, QTY_E_IMP, T0 + 5 * S, 0);       /* reset to 0 */
	put(f, 0, QTY_E_IMP, T0 + 6 * S, 7);
	assert_true(live_counter(f->live, 0, QTY_E_IMP, &c));
	assert_true(c.value == 7);
	assert_int_equal(c.t_us, T0 + 6 * S);
	assert_true(c.first == 1000);
	assert_int_equal(c.first_t_us, T0);
	assert_int_equal(c.resets, 2);
	/* segments 1000..1200, 5..25, 0..7 */
	assert_true(c.joined - c.first == 200 + 20 + 7);
	assert_false(live_counter(f->live, 1, QTY_E_IMP, &c));
	assert_false(live_counter(f->live, 99, QTY_E_IMP, &c));
}

static void test_analysis_input(void **state)
{
	struct fixture *f = *state;
	struct live_meter *m = live_meter(f->live, 0);
	struct analysis_input in;
	struct analysis_params par;
	int64_t now = T0 + 10 * S;

	put(f, 0, QTY_V_L1N, now - S, 229);
	put(f, 0, QTY_V_L2N, now - S, 231);
	put(f, 0, QTY_V_L3N, now - 3 * S - 1, 230);           /* stale */
	put(f, 0, QTY_V_L23, now - S, 1e7);                   /* out of range: bad */
	put(f, 0, QTY_V_L12, now - 3 * S, 399);               /* exactly 3 periods: fresh */
	put(f, 0, QTY_I_L2, now - S, 12.5);
	put(f, 0, QTY_I_N, now - S, 0.5);
	put(f, 0, QTY_P_TOTAL, now - S, 15000);
	put(f, 0, QTY_Q_L3, now - S, -300);
	put(f, 0, QTY_S_TOTAL, now, 16000);
	put(f, 0, QTY_PF_L1, now, 0.93);
	put(f, 0, QTY_PF_TOTAL, now, NAN);                    /* bad */
	put(f, 0, QTY_THD_V_L3, now, 2.5);
	put(f, 0, QTY_THD_I_L1, now, 12);
	put(f, 0, QTY_FREQ, now, 59.98);
	put(f, 0, QTY_E_IMP, now, 123456);                    /* not an input */

	live_analysis_input(m, now, &in);
	assert_true(in.v_ln[0] == 229);
	assert_true(in.v_ln[1] == 231);
	assert_true(isnan(in.v_ln[2]));
	assert_true(in.v_ll[0] == 399);
	assert_true(isnan(in.v_ll[1]));
	assert_true(isnan(in.v_ll[2]));
	assert_true(isnan(in.i[0]));
	assert_true(in.i[1] == 12.5);
	assert_true(in.i_n == 0.5);
	assert_true(in.p_total == 15000);
	assert_true(isnan(in.p[0]));
	assert_true(in.q[2] == -300);
	assert_true(in.s_total == 16000);
	assert_true(in.pf[0] == 0.93);
	assert_true(isnan(in.pf_total));
	assert_true(in.thd_v[2] == 2.5);
	assert_true(in.thd_i[0] == 12);
	assert_true(in.freq == 59.98);
	/* a second later the 3-period-old value is stale too */
	live_analysis_input(m, now + 1, &in);
	assert_true(isnan(in.v_ll[0]));
	assert_true(in.v_ln[0] == 229);
	/* long after, everything is NaN */
	live_analysis_input(m, now + 60 * S, &in);
	assert_true(isnan(in.v_ln[0]) && isnan(in.p_total) && isnan(in.freq));
	live_analysis_input(NULL, now, &in);
	assert_true(isnan(in.v_ln[0]));

	/* thresholds: the meter's nominal and max power, the site's PF and Hz */
	live_analysis_params(m, &f->cfg, &par);
	assert_true(par.nominal_v == 127);
	assert_true(par.max_power == 20000);
	assert_true(par.target_pf == 0.9);
	assert_true(par.nominal_freq == 60);
	assert_true(par.thd_v_max == 8);
	/* unset (0) values keep the defaults */
	{
		struct config bare = { 0 };

		live_analysis_params(live_meter(f->live, 1), &bare, &par);
		assert_true(par.nominal_v == 230);
		assert_true(isnan(par.max_power));
		assert_true(par.target_pf == 0.95);
		assert_true(par.nominal_freq == 50);
	}

	/* and the analysis runs on it */
	{
		struct analysis_result r;

		live_analysis_input(m, now, &in);
		live_analysis_params(m, &f->cfg, &par);
		analysis_compute(&in, &par, &r);
		assert_true(fabs(r.pf_total - 15000.0 / 16000.0) < 1e-12);
		assert_true(r.pf_total_derived);
		assert_int_equal(r.freq_ok, 1); /* 59.98 within 60 +-0.6 */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latest_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staleness, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staleness_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_means_and_gaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_resolutions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_clock_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_far_future, setup, teardown),
		cmocka_unit_test_setup_teardown(test_p_total_from_phases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counter_joined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_analysis_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_flow, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
