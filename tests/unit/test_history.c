// SPDX-License-Identifier: MIT
/*
 * Unit tests of history.c (view 6's figures), with values computed by
 * hand: energy per day equal to the counter's difference across a reset,
 * a gap not lumped on the next day, 23 and 25 hour days (Europe/Paris),
 * shifts across midnight (and a 9 hour night shift at the DST end), the
 * peak demand of known intervals against a contract, columns' min, mean,
 * max and coverage, the site's sum, weeks and months, empty ranges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/history.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define HOUR (3600 * S)
#define DAY (86400 * S)
#define T0 (INT64_C(1764547200) * S) /* 2025-12-01T00:00:00Z, a Monday */
#define PARIS_OCT24 (INT64_C(1792792800) * S) /* 2026-10-24 00:00 Europe/Paris */

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* A counter minute: first at its start, last rise Wh later. */
static struct history_minute cmin(int64_t t, double first, double rise)
{
	return (struct history_minute){ .t_us = t, .n = 2, .good = 2, .min = first,
					 .max = first + rise, .sum = 2 * first + rise,
					 .first = first, .last = first + rise, .rise = rise };
}

/* Two samples a minute (at :00 and :30), 10 Wh apart, 10 Wh to the next
 * minute: 20 Wh a minute; reset to 0 at noon of day 1; nothing on day 2;
 * day 3 again. Day 0: 10 + 1439 x 20 = 28,790 Wh; day 1 the same (the
 * rise from day 0's last value, the 720 minutes to noon, the reset's
 * minute 10 Wh, 719 more); day 3 counts from its first value only. */
static void energy_per_day(void **state)
{
	struct history_series s = { 0 };
	struct history_spans d;
	double v = 1000;
	int64_t k;

	(void)state;
	zone("UTC");
	for (k = 0; k < 2 * 1440; k++) {
		if (k == 1440 + 720)
			v = 0;
		history_series_add(&s, &(struct history_minute){ .t_us = T0 + k * MIN, .n = 2,
				   .good = 2, .min = v, .max = v + 10, .sum = 2 * v + 10,
				   .first = v, .last = v + 10, .rise = 10 });
		v += 20;
	}
	for (k = 3 * 1440; k < 3 * 1440 + 60; k++) {
		history_series_add(&s, &(struct history_minute){ .t_us = T0 + k * MIN, .n = 1,
				   .good = 1, .min = v, .max = v, .sum = v, .first = v,
				   .last = v, .rise = 0 });
		v += 5;
	}
	assert_true(history_days(T0, T0 + 4 * DAY, &d, false));
	assert_int_equal(d.n, 4);
	assert_true(d.b[0] == T0 && d.b[4] == T0 + 4 * DAY);
	history_energy(s.m, s.n, T0 - DAY, &d);
	assert_true(d.wh[0] == 28790);
	assert_true(d.wh[1] == 28790);
	assert_true(d.wh[2] == 0 && !d.has[2]);
	assert_true(d.wh[3] == 59 * 5); /* no rise from day 1 across the empty day */
	assert_true(d.has[0] && d.has[1] && d.has[3]);
	history_spans_free(&d);
	/* a range starting at day 1's noon counts from the minute before it */
	assert_true(history_days(T0 + DAY + 12 * HOUR, T0 + 2 * DAY, &d, false));
	assert_int_equal(d.n, 1);
	assert_true(d.b[0] == T0 + DAY);
	history_energy(s.m, s.n, d.b[0] - DAY, &d);
	assert_true(d.wh[0] == 28790);
	history_spans_free(&d);
	history_series_free(&s);
}

/* 1 Wh a minute around the DST end and start in Paris: 1440, 1500, 1440. */
static void dst_days(void **state)
{
	struct history_series s = { 0 };
	struct history_spans d;
	int64_t t;
	double v = 0;

	(void)state;
	zone("Europe/Paris");
	for (t = PARIS_OCT24 - HOUR; t < PARIS_OCT24 + 4 * DAY; t += MIN, v += 1)
		history_series_add(&s, &(struct history_minute){ .t_us = t, .n = 1, .good = 1,
				   .min = v, .max = v, .sum = v, .first = v, .last = v });
	assert_true(history_days(PARIS_OCT24, PARIS_OCT24 + 3 * DAY + HOUR, &d, false));
	assert_int_equal(d.n, 3);
	assert_true(d.b[1] - d.b[0] == 24 * HOUR);
	assert_true(d.b[2] - d.b[1] == 25 * HOUR);
	assert_true(d.b[3] == INT64_C(1793055600) * S); /* Tue 27 00:00 CET */
	history_energy(s.m, s.n, d.b[0] - DAY, &d);
	assert_true(d.wh[0] == 1440 && d.wh[1] == 1500 && d.wh[2] == 1440);
	history_spans_free(&d);
	/* 2026-03-29: 23 hours */
	assert_true(history_days(INT64_C(1774738800) * S, INT64_C(1774738800) * S + HOUR, &d,
				 false));
	assert_int_equal(d.n, 1);
	assert_true(d.b[1] - d.b[0] == 23 * HOUR);
	history_spans_free(&d);
	history_series_free(&s);
}

/* Shifts 06-14-22: the night shift from 22:00 to 06:00 the next day, 9
 * hours at the DST end (Sat 24 22:00 CEST to Sun 25 06:00 CET). */
static void shifts_across_midnight(void **state)
{
	static const int sh[] = { 360, 840, 1320 };
	struct history_series s = { 0 };
	struct history_spans d;
	int64_t t;
	double v = 0;

	(void)state;
	zone("UTC");
	for (t = T0 - 4 * HOUR; t < T0 + DAY + 8 * HOUR; t += MIN, v += 1)
		history_series_add(&s, &(struct history_minute){ .t_us = t, .n = 1, .good = 1,
				   .min = v, .max = v, .sum = v, .first = v, .last = v });
	assert_true(history_shifts(T0, T0 + DAY, sh, 3, &d));
	assert_int_equal(d.n, 4);
	assert_true(d.b[0] == T0 - 2 * HOUR);     /* 22:00 the day before */
	assert_true(d.b[1] == T0 + 6 * HOUR);
	assert_true(d.b[3] == T0 + 22 * HOUR);
	assert_true(d.b[4] == T0 + DAY + 6 * HOUR);
	history_energy(s.m, s.n, d.b[0] - DAY, &d);
	assert_true(d.wh[0] == 480 && d.wh[1] == 480 && d.wh[2] == 480 && d.wh[3] == 480);
	history_spans_free(&d);
	history_series_free(&s);

	zone("Europe/Paris");
	assert_true(history_shifts(PARIS_OCT24 + 23 * HOUR, PARIS_OCT24 + 24 * HOUR, sh, 3, &d));
	assert_int_equal(d.n, 1);
	assert_true(d.b[0] == INT64_C(1792872000) * S); /* Sat 22:00 CEST */
	assert_true(d.b[1] == INT64_C(1792904400) * S); /* Sun 06:00 CET */
	assert_true(d.b[1] - d.b[0] == 9 * HOUR);
	history_spans_free(&d);
	assert_false(history_shifts(T0, T0 + DAY, sh, 0, &d));
}

/*
 * Self-consumption by hand: 100 kW consumed all the time; produced 150 kW
 * from 10:00 to 14:00 the first day (100 kW of it used: 400 kWh of 600),
 * 50 kW from 08:00 to 16:00 the second (all of it used: 400 kWh); the
 * month 800 kWh of 1000. An interval without consumption data counts
 * nothing; a day with no interval at all is NaN.
 */
static void self_consumption(void **state)
{
	struct history_spans cons, prod, days, months;
	double self_d[3], self_m[1];
	size_t i;

	(void)state;
	zone("UTC");
	assert_true(history_intervals(T0, T0 + 3 * DAY, 15 * MIN, &cons));
	assert_true(history_intervals(T0, T0 + 3 * DAY, 15 * MIN, &prod));
	for (i = 0; i < cons.n; i++) {
		int64_t m = (cons.b[i] - T0) % DAY, d = (cons.b[i] - T0) / DAY;
		double kw = d == 0 && m >= 10 * HOUR && m < 14 * HOUR  ? 150
			    : d == 1 && m >= 8 * HOUR && m < 16 * HOUR ? 50
								       : 0;

		cons.wh[i] = 100000.0 / 4;
		cons.has[i] = d < 2;
		prod.wh[i] = kw * 1000 / 4;
		prod.has[i] = true;
	}
	assert_true(history_days(T0, T0 + 3 * DAY, &days, false));
	assert_true(history_months(T0, T0 + 3 * DAY, &months, false));
	history_self(&prod, &cons, &days, self_d);
	history_self(&prod, &cons, &months, self_m);
	assert_true(fabs(self_d[0] - 400000) < 1e-6);
	assert_true(fabs(self_d[1] - 400000) < 1e-6);
	assert_true(isnan(self_d[2]));
	assert_true(fabs(self_m[0] - 800000) < 1e-6);
	history_spans_free(&cons);
	history_spans_free(&prod);
	history_spans_free(&days);
	history_spans_free(&months);
}

/*
 * With a grid connection's export counter, by hand, in Paris from
 * 2026-10-24 to 2026-11-03 (Sunday the 25th has 25 hours, the end of
 * October in between): the site takes G = 60 Wh a minute from the grid;
 * from 11:00 to 13:00 UTC the PV makes P = 30 Wh a minute (3.6 kWh a day)
 * and the grid meter exports X = 10 (1.2 kWh), on Sunday 1 November 40
 * (4.8 kWh: more than was made, a production meter that missed its data:
 * nothing used, never less). The 25th: G 90 kWh (1500 minutes), used
 * 2.4, consumption 92.4. October (24-31, 11580 minutes): G 694.8, P
 * 28.8, X 9.6, used 19.2, consumption 714. November (1-2): G 172.8, P
 * 7.2, X 6, used 1.2, consumption 174. A day without export data (the
 * 30th) is NaN; the month counts the counter's rise across it.
 */
static void self_with_export(void **state)
{
	const int64_t from = PARIS_OCT24, to = INT64_C(1793660400) * S; /* 11-03 00:00 CET */
	struct history_series g = { 0 }, p = { 0 }, x = { 0 };
	struct history_spans gd, pd, xd, gm, pm, xm;
	double self_d[10], cons_d[10], self_m[2], cons_m[2];
	double vg = 1e6, vp = 2e6, vx = 3e6;
	int64_t t;

	(void)state;
	zone("Europe/Paris");
	for (t = from - HOUR; t < to; t += MIN) {
		int64_t tod = ((t / S) % 86400) * S;
		bool sun = tod >= 11 * HOUR && tod < 13 * HOUR;
		bool nov1 = t >= INT64_C(1793487600) * S && t < INT64_C(1793574000) * S;
		double rx = !sun ? 0 : nov1 ? 40 : 10;
		struct history_minute mg = cmin(t, vg, 60), mp = cmin(t, vp, sun ? 30 : 0),
				      mx = cmin(t, vx, rx);

		history_series_add(&g, &mg);
		history_series_add(&p, &mp);
		/* the export counter says nothing on the 30th */
		if (t < INT64_C(1793314800) * S || t >= INT64_C(1793401200) * S)
			history_series_add(&x, &mx);
		vg += 60;
		vp += sun ? 30 : 0;
		vx += rx;
	}
	assert_true(history_days(from, to, &gd, false) && gd.n == 10);
	assert_true(history_days(from, to, &pd, false));
	assert_true(history_days(from, to, &xd, false));
	assert_true(history_months(from, to, &gm, false) && gm.n == 2);
	assert_true(history_months(from, to, &pm, false));
	assert_true(history_months(from, to, &xm, false));
	gm.b[0] = pm.b[0] = xm.b[0] = from; /* clipped to the range, as the callers do */
	gm.b[2] = pm.b[2] = xm.b[2] = to;
	history_energy(g.m, g.n, from - HOUR, &gd);
	history_energy(p.m, p.n, from - HOUR, &pd);
	history_energy(x.m, x.n, from - HOUR, &xd);
	history_energy(g.m, g.n, from - HOUR, &gm);
	history_energy(p.m, p.n, from - HOUR, &pm);
	history_energy(x.m, x.n, from - HOUR, &xm);
	history_self_export(&gd, &pd, &xd, self_d, cons_d);
	history_self_export(&gm, &pm, &xm, self_m, cons_m);
	assert_true(gd.b[2] - gd.b[1] == 25 * HOUR);
	assert_true(fabs(cons_d[1] - 92400) < 1e-6);
	assert_true(fabs(self_d[1] - 2400) < 1e-6);
	assert_true(isnan(self_d[6]) && isnan(cons_d[6])); /* the 30th */
	assert_true(fabs(self_d[8]) < 1e-6);                /* 1 November */
	assert_true(fabs(cons_d[8] - 86400) < 1e-6);
	assert_true(fabs(gm.wh[0] - 694800) < 1e-6);
	assert_true(fabs(pm.wh[0] - 28800) < 1e-6);
	/* within the month the counter's rise across the 30th counts */
	assert_true(fabs(xm.wh[0] - 9600) < 1e-6);
	assert_true(fabs(self_m[0] - 19200) < 1e-6);
	assert_true(fabs(cons_m[0] - 714000) < 1e-6);
	assert_true(fabs(self_m[1] - 1200) < 1e-6);
	assert_true(fabs(cons_m[1] - 174000) < 1e-6);
	history_known_wh(&xd, self_d);
	assert_true(isnan(self_d[6]) && fabs(self_d[8] - 4800) < 1e-6);
	history_spans_free(&gd);
	history_spans_free(&pd);
	history_spans_free(&xd);
	history_spans_free(&gm);
	history_spans_free(&pm);
	history_spans_free(&xm);
	history_series_free(&g);
	history_series_free(&p);
	history_series_free(&x);
}

/* 100 kW all day, 300 kW from 10:00 to 10:15, 250 kW from 15:00 to 15:30:
 * the 15 minute peak is 300 kW at 10:00, three intervals over 200 kW (45
 * minutes); the second day 100 kW only. The month: 300 kW, three over. */
static void peak_demand(void **state)
{
	struct history_series s = { 0 };
	struct history_spans iv, days, months;
	double e = 0;
	int64_t t;

	(void)state;
	zone("UTC");
	for (t = T0; t < T0 + 2 * DAY; t += MIN) {
		int64_t m = (t - T0) % DAY;
		double kw = m >= 10 * HOUR && m < 10 * HOUR + 15 * MIN	 ? 300
			    : m >= 15 * HOUR && m < 15 * HOUR + 30 * MIN ? 250
									 : 100;

		if (t >= T0 + DAY)
			kw = 100;
		history_series_add(&s, &(struct history_minute[]){ cmin(t, e, kw * 1000 / 60) }[0]);
		e += kw * 1000 / 60;
	}
	assert_true(history_intervals(T0, T0 + 2 * DAY, 15 * MIN, &iv));
	assert_int_equal(iv.n, 192);
	assert_true(iv.b[0] == T0 && iv.b[192] == T0 + 2 * DAY);
	history_energy(s.m, s.n, T0 - DAY, &iv);
	assert_true(history_days(T0, T0 + 2 * DAY, &days, true));
	history_peaks(&iv, 200000, &days);
	assert_true(fabs(days.peak[0].max_w - 300000) < 1e-6);
	assert_true(days.peak[0].at_us == T0 + 10 * HOUR);
	assert_int_equal(days.peak[0].over, 3);
	assert_true(days.peak[0].over_us == 45 * MIN);
	assert_int_equal(days.peak[0].intervals, 96);
	assert_true(fabs(days.peak[1].max_w - 100000) < 1e-6);
	assert_int_equal(days.peak[1].over, 0);
	assert_true(history_months(T0, T0 + 2 * DAY, &months, true));
	assert_int_equal(months.n, 1);
	history_peaks(&iv, 200000, &months);
	assert_true(fabs(months.peak[0].max_w - 300000) < 1e-6);
	assert_int_equal(months.peak[0].over, 3);
	assert_int_equal(months.peak[0].intervals, 192);
	/* no contract: nothing over */
	history_peaks(&iv, NAN, &days);
	assert_int_equal(days.peak[0].over, 0);
	history_spans_free(&iv);
	history_spans_free(&days);
	history_spans_free(&months);
	/* 10 and 30 minute intervals divide a day; 7 minutes does not */
	assert_true(history_intervals(T0, T0 + HOUR, 10 * MIN, &iv));
	assert_int_equal(iv.n, 6);
	history_spans_free(&iv);
	assert_false(history_intervals(T0, T0 + HOUR, 7 * MIN, &iv));
	/* a 25 hour day has 100 intervals of 15 minutes */
	zone("Europe/Paris");
	assert_true(history_intervals(PARIS_OCT24 + DAY, PARIS_OCT24 + DAY + 25 * HOUR, 15 * MIN,
				      &iv));
	assert_int_equal(iv.n, 100);
	history_spans_free(&iv);
	history_series_free(&s);
}

/* 60 minutes into 4 columns; now at minute 50. */
static void columns(void **state)
{
	struct history_minute m[60];
	struct history_col c[4];
	int k;

	(void)state;
	for (k = 0; k < 60; k++)
		m[k] = (struct history_minute){ .t_us = T0 + k * MIN, .n = 3, .good = 2,
						.min = k, .max = k + 10, .sum = 2 * k + 10 };
	/* column 1 lacks minutes 20..24; now at minute 50 */
	memmove(&m[20], &m[25], 35 * sizeof(m[0]));
	history_columns(m, 55, T0, T0 + HOUR, T0 + 50 * MIN, c, 4);
	assert_true(c[0].from_us == T0 && c[0].to_us == T0 + 15 * MIN);
	assert_true(c[0].min == 0 && c[0].max == 24);
	assert_true(c[0].mean == 12); /* (sum of 2k + 10, k 0..14) / 30 = (210 + 150) / 30 */
	assert_int_equal(c[0].samples, 45);
	assert_int_equal(c[0].good, 30);
	assert_int_equal(c[0].minutes, 15);
	assert_true(c[0].coverage == 1);
	assert_int_equal(c[1].minutes, 10);
	assert_true(c[1].min == 15 && c[1].max == 39);
	assert_true(fabs(c[1].coverage - 10.0 / 15) < 1e-12);
	assert_int_equal(c[3].expected, 5);
	assert_true(c[3].coverage == 1);
	/* nothing at all: NaN figures, no coverage; future columns not expected */
	history_columns(m, 0, T0, T0 + HOUR, T0 + 30 * MIN, c, 4);
	assert_true(isnan(c[0].min) && isnan(c[0].mean) && isnan(c[0].max));
	assert_int_equal(c[0].samples, 0);
	assert_true(c[0].coverage == 0);
	assert_int_equal(c[3].expected, 0);
	assert_true(isnan(c[3].coverage));
}

/* The site: minute by minute the sum of the meters' means. */
static void site_sum(void **state)
{
	struct history_series in[3] = { { 0 } }, out = { 0 };

	(void)state;
	history_series_add(&in[0], &(struct history_minute){ .t_us = T0, .n = 2, .good = 2,
			   .min = 5, .max = 15, .sum = 20 });
	history_series_add(&in[0], &(struct history_minute){ .t_us = T0 + MIN, .n = 1, .good = 1,
			   .min = 7, .max = 7, .sum = 7 });
	history_series_add(&in[1], &(struct history_minute){ .t_us = T0, .n = 1, .good = 1,
			   .min = 20, .max = 20, .sum = 20 });
	history_series_add(&in[1], &(struct history_minute){ .t_us = T0 + 3 * MIN, .n = 1,
			   .good = 0 });
	history_site_sum(in, 3, &out);
	assert_int_equal(out.n, 3);
	assert_true(out.m[0].t_us == T0 && out.m[0].min == 30 && out.m[0].max == 30);
	assert_int_equal(out.m[0].n, 3);
	assert_true(out.m[0].sum / out.m[0].good == 30);
	assert_true(out.m[1].t_us == T0 + MIN && out.m[1].min == 7);
	assert_true(out.m[2].t_us == T0 + 3 * MIN && out.m[2].good == 0 && out.m[2].n == 1);
	history_series_free(&in[0]);
	history_series_free(&in[1]);
	history_site_sum(in, 3, &out);
	assert_int_equal(out.n, 0);
	history_series_free(&out);
}

/* Weeks from Monday, months from the 1st; empty ranges make no spans. */
static void calendar(void **state)
{
	struct history_spans s;

	(void)state;
	zone("Europe/Paris");
	/* Wed 2026-12-09 12:00 to Tue 2026-12-15 */
	assert_true(history_weeks(INT64_C(1796598000) * S + 2 * DAY + 12 * HOUR,
				  INT64_C(1796598000) * S + 8 * DAY, &s));
	assert_int_equal(s.n, 2);
	assert_true(s.b[0] == INT64_C(1796598000) * S);      /* Mon 07 Dec 00:00 */
	assert_true(s.b[1] == INT64_C(1796598000) * S + 7 * DAY);
	history_spans_free(&s);
	/* 15 Dec to 15 Jan: December and January */
	assert_true(history_months(INT64_C(1796598000) * S + 8 * DAY,
				   INT64_C(1796598000) * S + 39 * DAY, &s, false));
	assert_int_equal(s.n, 2);
	assert_true(s.b[0] == INT64_C(1796598000) * S - 6 * DAY); /* Tue 01 Dec 00:00 */
	assert_true(s.b[1] == INT64_C(1796598000) * S + 25 * DAY); /* Fri 01 Jan 00:00 */
	assert_true(s.b[2] == INT64_C(1796598000) * S + 56 * DAY); /* Mon 01 Feb 00:00 */
	history_spans_free(&s);
	assert_false(history_days(T0, T0, &s, false));
	assert_false(history_months(T0 + DAY, T0, &s, false));
	/* empty minutes: no energy */
	assert_true(history_days(T0, T0 + DAY, &s, false));
	history_energy(NULL, 0, T0 - DAY, &s);
	assert_true(s.wh[0] == 0 && !s.has[0]);
	history_spans_free(&s);
	/* the hour of day of an alarm, on the wall clock */
	assert_int_equal(history_hour(PARIS_OCT24 + 3 * HOUR + 5 * MIN), 3);
	assert_int_equal(history_hour(PARIS_OCT24 + DAY + 3 * HOUR), 2); /* the 25 h day */
	assert_true(history_rise(100, 90) == 0);
	assert_true(history_rise(100, 99.99999) < 0); /* under a millionth: jitter, not a reset */
	assert_true(history_rise(100, 150) == 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(energy_per_day),
		cmocka_unit_test(self_consumption),
		cmocka_unit_test(self_with_export),
		cmocka_unit_test(dst_days),
		cmocka_unit_test(shifts_across_midnight),
		cmocka_unit_test(peak_demand),
		cmocka_unit_test(columns),
		cmocka_unit_test(site_sum),
		cmocka_unit_test(calendar),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
