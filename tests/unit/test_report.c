// SPDX-License-Identifier: MIT
/*
 * Unit tests of report.c (the figures of `phasor report`), with values
 * computed by hand on two UTC days (Monday 2025-12-01 and Tuesday):
 * meter "inc" (aggregate, the site) counts 1000 Wh a minute with a 30
 * minute gap on day 1; consumers m1 (600 Wh a minute) and m2 (400):
 * energy per day and shift, shares, coverage and the gap named, the
 * 15 min peaks against a 50 kW contract, the load band, m1's power factor
 * and compensation, m2's voltage band, unbalance, THD and frequency, the
 * standby energy (nights 22-06 without shifts), the alarm figures
 * (counts by priority, rate, flood, standing, chattering, top list,
 * times to acknowledge) and a stored forecast's MAPE.
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

#include "phasor/forecast.h"
#include "phasor/report.h"
#include "phasor/report_tables.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define HOUR (3600 * S)
#define DAY (86400 * S)
#define T0 (INT64_C(1764547200) * S) /* 2025-12-01T00:00:00Z, a Monday */

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* A minute of one sample of v. */
static void one(struct history_series *s, int64_t t, double v)
{
	history_series_add(s, &(struct history_minute){ .t_us = t, .n = 1, .good = 1, .min = v,
			   .max = v, .sum = v, .first = v, .last = v });
}

/* A minute with a mean and a band. */
static void band(struct history_series *s, int64_t t, double mean, double lo, double hi)
{
	history_series_add(s, &(struct history_minute){ .t_us = t, .n = 1, .good = 1, .min = lo,
			   .max = hi, .sum = mean, .first = mean, .last = mean });
}

static struct report_meter_in meters[3];

/* The two days' minutes (and the hour before, for the counters). */
static void make_meters(void)
{
	double v[3] = { 5e6, 1e6, 2e6 }, per[3] = { 1000, 600, 400 };
	int64_t t;
	size_t i;

	memset(meters, 0, sizeof(meters));
	meters[0] = (struct report_meter_in){ .name = "inc", .aggregate = true, .nominal_v = 230 };
	meters[1] = (struct report_meter_in){ .name = "m1", .nominal_v = 230 };
	meters[2] = (struct report_meter_in){ .name = "m2", .nominal_v = 230 };
	for (t = T0 - HOUR; t < T0 + 2 * DAY; t += MIN) {
		int64_t k = (t - T0) / MIN;

		for (i = 0; i < 3; i++) {
			bool gap = i == 0 && t >= T0 + DAY + 10 * HOUR && t < T0 + DAY + 10 * HOUR + 30 * MIN;

			if (!gap)
				one(&meters[i].s[REPORT_E_IMP], t, v[i]);
			v[i] += per[i];
		}
		if (t < T0 || t >= T0 + DAY)
			continue;
		/* day 0: inc's power around 60 kW (a mean of 59.3 to 60.7 kW in
		 * every interval), m1's P and Q, PF, m2's voltages, THD, frequency */
		one(&meters[0].s[REPORT_P], t, 60000 + (double)(k % 15 - 7) * 100);
		one(&meters[1].s[REPORT_P], t, 36000);
		one(&meters[1].s[REPORT_Q], t, t >= T0 + 12 * HOUR && t < T0 + 12 * HOUR + 15 * MIN
				 ? 27000 : 18000);
		one(&meters[1].s[REPORT_PF], t, k < 100 ? 0.88 : k < 120 ? 0.84 : 0.95);
		band(&meters[2].s[REPORT_V1], t, 230, 230, 230);
		band(&meters[2].s[REPORT_V2], t, 230, 230, 230);
		if (k >= 600 && k < 610)
			band(&meters[2].s[REPORT_V3], t, 200, 199, 201);
		else
			band(&meters[2].s[REPORT_V3], t, 230, 230, 230);
		one(&meters[2].s[REPORT_THD1], t, 3);
		one(&meters[2].s[REPORT_THD2], t, k < 5 ? 9 : 3);
		one(&meters[2].s[REPORT_THD3], t, 3);
		band(&meters[2].s[REPORT_FREQ], t, 50, k == 700 ? 49.4 : 50, 50);
	}
}

static void free_meters(void)
{
	size_t i, k;

	for (i = 0; i < 3; i++)
		for (k = 0; k < REPORT_NSERIES; k++)
			history_series_free(&meters[i].s[k]);
}

static struct report_alarm_in journal[40];
static size_t njournal;

static void row(int64_t t, int64_t raised, const char *alarm, const char *meter,
		const char *prio, const char *event, const char *state, const char *op)
{
	journal[njournal++] = (struct report_alarm_in){ t, raised, alarm, meter, prio, event,
							state, op };
}

static void make_journal(void)
{
	int k;

	njournal = 0;
	row(T0 - HOUR, 0, "old", "m1", "high", "raise", "unack", ""); /* before the range */
	for (k = 0; k < 12; k++)
		row(T0 + HOUR + k * 30 * S, T0 + HOUR + k * 30 * S, "pf_low", "m1", "high", "raise",
		    "unack", "");
	row(T0 + HOUR + 400 * S, T0 + HOUR + 330 * S, "pf_low", "m1", "high", "clear", "normal", "");
	row(T0 + 2 * HOUR, T0 + 2 * HOUR, "thd", "m2", "low", "raise", "unack", "");
	row(T0 + 2 * HOUR + 90 * S, T0 + 2 * HOUR, "thd", "m2", "low", "ack", "ack", "ana");
	row(T0 + 2 * HOUR + 200 * S, T0 + 2 * HOUR, "thd", "m2", "low", "clear", "normal", "");
	row(T0 + 3 * HOUR, T0 + 3 * HOUR, "overload", "inc", "medium", "raise", "unack", "");
	row(T0 + 3 * HOUR + 30 * S, T0 + 3 * HOUR, "overload", "inc", "medium", "ack", "ack", "bob");
	for (k = 0; k < 5; k++)
		row(T0 + 5 * HOUR + k * 10 * S, T0 + 5 * HOUR + k * 10 * S, "v_low", "m2", "critical",
		    "raise", "unack", "");
	row(T0 + 5 * HOUR + 45 * S, T0 + 5 * HOUR + 40 * S, "v_low", "m2", "critical", "clear",
	    "rtn_unack", "");
}

static const int64_t fc_t[4] = { T0, T0 + 15 * MIN, T0 + 30 * MIN, T0 + 45 * MIN };
static const double fc_point[4] = { 60000, 54000, 66000, NAN };
static const struct report_forecast_in fc = { 4, 15 * MIN, fc_t, fc_point };

static struct report_in input(void)
{
	return (struct report_in){ .site = "test", .zone = "UTC", .db = "x.db", .from_us = T0,
				   .to_us = T0 + 2 * DAY, .before_us = T0 - HOUR,
				   .made_us = T0 + 10 * DAY, .price_per_kwh = 0.2,
				   .co2_per_kwh = 0.05, .contract_w = 50000, .nominal_f = 50,
				   .meters = meters, .nmeters = 3, .alarms = journal,
				   .nalarms = njournal, .forecast = &fc };
}

/* The report of the two days (shifts: [site] shifts 06-14-22 or none). */
static void build(struct report *r, bool with_shifts)
{
	static const int sh[3] = { 6 * 60, 14 * 60, 22 * 60 };
	struct report_in in;

	zone("UTC");
	make_meters();
	make_journal();
	in = input();
	if (with_shifts) {
		in.shift_min = sh;
		in.nshifts = 3;
	}
	report_build(&in, r);
}

static void energy_and_coverage(void **state)
{
	struct report r;

	(void)state;
	build(&r, false);

	/* coverage: inc misses 30 of 2880 minutes, m1 and m2 none */
	assert_int_equal(r.expected, 3 * 2880);
	assert_int_equal(r.present, 3 * 2880 - 30);
	assert_float_equal(r.coverage, 8610.0 / 8640.0, 1e-12);
	assert_int_equal(r.ngaps, 1);
	assert_int_equal(r.gaps[0].meter, 0);
	assert_true(r.gaps[0].from_us == T0 + DAY + 10 * HOUR);
	assert_true(r.gaps[0].to_us == T0 + DAY + 10 * HOUR + 30 * MIN);

	/* energy: the site is inc; the gap's energy counts within its day */
	assert_int_equal(r.days.n, 2);
	assert_float_equal(r.days.wh[0], 1440000, 1e-6);
	assert_float_equal(r.days.wh[1], 1440000, 1e-6);
	assert_float_equal(r.total_kwh, 2880, 1e-9);
	assert_int_equal(r.shifts.n, 0);
	assert_float_equal(r.m[1].kwh, 1728, 1e-9);
	assert_float_equal(r.m[2].kwh, 1152, 1e-9);
	assert_int_equal(r.nrank, 2);
	assert_int_equal(r.rank[0], 1);
	assert_int_equal(r.rank[1], 2);
	assert_float_equal(r.m[1].share, 0.6, 1e-12);
	assert_float_equal(r.m[2].share, 0.4, 1e-12);

	/* peaks: 60 kW in every interval with data but 10:30 of day 1 (14
	 * minutes' rises: 56 kW); two intervals without data; all over 50 kW */
	assert_int_equal(r.iv.n, 192);
	assert_float_equal(r.peak_w, 60000, 1e-6);
	assert_true(r.peak_at == T0);
	assert_int_equal(r.over_intervals, 190);
	assert_true(r.over_us == 190 * 15 * MIN);
	assert_false(r.iv.has[96 + 40]);
	assert_float_equal(r.iv.wh[96 + 42] * 4, 56000, 1e-6);
	assert_float_equal(r.m[1].peak_w, 36000, 1e-6);
	/* the band of the site's minute power */
	assert_float_equal(r.iv_min_w[0], 59300, 1e-9);
	assert_float_equal(r.iv_max_w[0], 60700, 1e-9);
	assert_true(isnan(r.iv_min_w[100]));

	/* standby: 00-06 and 22-24 of both days, 60 kW */
	assert_true(r.standby_us == 16 * HOUR);
	assert_float_equal(r.standby_kwh, 960, 1e-9);

	report_free(&r);
	free_meters();
}

/*
 * A meter tree and a PV feeder over one day, by hand: main (aggregate)
 * 1000 Wh a minute = 1440 kWh; its feeders a 500 (720 kWh, 50 %) and b 300
 * (432 kWh, 30 %); main's remainder 288 kWh (20 %). pv produces 2000 Wh a
 * minute from 10:00 to 14:00 (480 kWh: coverage 1/3) while the site uses
 * 1000: per 15 min interval 15 of its 30 kWh are used on site; a rise
 * belongs to the minute whose reading shows it, so the last 2 kWh (13:59
 * to 14:00) fall in the 14:00 interval, all used: 16 x 15 + 2 = 242 kWh.
 * The consumers are a and b only.
 */
static void tree_and_production(void **state)
{
	static const double per[4] = { 1000, 500, 300, 2000 };
	struct report_meter_in tm[4] = {
		{ .name = "main", .aggregate = true, .nominal_v = 230 },
		{ .name = "a", .parent_plus1 = 1, .nominal_v = 230 },
		{ .name = "b", .parent_plus1 = 1, .nominal_v = 230 },
		{ .name = "pv", .production = true, .nominal_v = 230 },
	};
	struct report_in in = { .site = "t", .zone = "UTC", .db = "x.db", .from_us = T0,
				.to_us = T0 + DAY, .before_us = T0 - HOUR, .made_us = T0 + 2 * DAY,
				.price_per_kwh = NAN, .co2_per_kwh = NAN, .contract_w = NAN,
				.nominal_f = 50, .meters = tm, .nmeters = 4 };
	double v[4] = { 1e6, 1e6, 1e6, 1e6 };
	struct report r;
	int64_t t;
	size_t i, k;

	(void)state;
	zone("UTC");
	for (t = T0 - HOUR; t < T0 + DAY; t += MIN)
		for (i = 0; i < 4; i++) {
			bool sun = t >= T0 + 10 * HOUR && t < T0 + 14 * HOUR;

			one(&tm[i].s[REPORT_E_IMP], t, v[i]);
			v[i] += i < 3 || sun ? per[i] : 0;
		}
	report_build(&in, &r);
	assert_float_equal(r.total_kwh, 1440, 1e-9);
	assert_int_equal(r.nrank, 2);
	assert_int_equal(r.rank[0], 1);
	assert_int_equal(r.rank[1], 2);
	assert_int_equal(r.m[0].nchildren, 2);
	assert_float_equal(r.m[0].rem_kwh, 288, 1e-9);
	assert_float_equal(r.m[1].parent_share, 0.5, 1e-12);
	assert_float_equal(r.m[2].parent_share, 0.3, 1e-12);
	assert_true(isnan(r.m[1].rem_kwh));
	assert_int_equal(r.m[1].depth, 1);
	assert_int_equal(r.nprod, 1);
	assert_float_equal(r.prod_kwh, 480, 1e-9);
	assert_float_equal(r.prod_coverage, 1.0 / 3.0, 1e-12);
	assert_float_equal(r.self_kwh, 242, 1e-9);
	assert_float_equal(r.self_day_wh[0], 242000, 1e-6);
	report_free(&r);
	for (i = 0; i < 4; i++)
		for (k = 0; k < REPORT_NSERIES; k++)
			history_series_free(&tm[i].s[k]);
}

/* The row of the table whose first cell is item, or SIZE_MAX. */
static size_t row_of(const struct report_table *t, const char *item)
{
	size_t i;

	for (i = 0; t != NULL && i < t->nrows; i++)
		if (strcmp(report_cell(t, i, 0), item) == 0)
			return i;
	return SIZE_MAX;
}

/* The cell of (item, column name) as text; "" when there is none. */
static const char *cell_of(const struct report_tables *ts, const char *id, const char *item,
			   const char *col)
{
	const struct report_table *t = report_tables_find(ts, id);
	size_t r = row_of(t, item), k;

	for (k = 0; r != SIZE_MAX && k < t->ncols; k++)
		if (strcmp(t->cols[k].name, col) == 0)
			return report_cell(t, r, k);
	return "";
}

/*
 * A grid incomer with an export counter and PV behind it, in Paris, from
 * Sunday 2026-03-29 (the clocks go forward: a 23 hour day) to Thursday
 * 2026-04-02, across the end of March. By hand: the incomer takes G = 100
 * Wh a minute from the grid; from 10:00 to 14:00 UTC (240 minutes a day)
 * the PV makes P = 50 Wh a minute and the incomer gives back X = 20. Per
 * day: G 138 kWh (1380 minutes), then 144; P 12, X 4.8, used on site
 * P - X = 7.2, consumption G + 7.2. March (29-31): G 426, P 36, X 14.4,
 * used 21.6, consumption 447.6; April (the 1st): G 144, P 12, X 4.8, used
 * 7.2, consumption 151.2; the range: G 570, P 48, X 19.2, used 28.8,
 * consumption 598.8, coverage 48 / 598.8. Without grid = true the same
 * counters keep the old meaning: consumption G, used per 15 min interval
 * min(P, G) = P (all of it).
 */
static void grid_months(void **state)
{
	/* 2026-03-29T00:00:00+01:00 and 2026-04-02T00:00:00+02:00 */
	const int64_t from = INT64_C(1774738800) * S, to = INT64_C(1775080800) * S;
	static const struct {
		bool grid;
		double self_march, cons_march, self_range, cons_range;
		const char *cov_range, *exported;
	} cases[] = {
		{ true, 21.6, 447.6, 28.8, 598.8, "8.02", "19.200" },
		{ false, 36, 426, 48, 570, "8.42", "" },
	};
	size_t c;

	(void)state;
	zone("Europe/Paris");
	for (c = 0; c < UTIL_ARRAY_LEN(cases); c++) {
		struct report_meter_in tm[2] = {
			{ .name = "inc", .grid = cases[c].grid, .nominal_v = 230 },
			{ .name = "pv", .production = true, .nominal_v = 230 },
		};
		struct report_in in = { .site = "t", .zone = "Europe/Paris", .db = "x.db",
					.from_us = from, .to_us = to, .before_us = from - HOUR,
					.made_us = to + DAY, .price_per_kwh = NAN,
					.co2_per_kwh = NAN, .contract_w = NAN, .nominal_f = 50,
					.meters = tm, .nmeters = 2 };
		const char *names[2] = { "inc", "pv" };
		struct report_doc doc = { .site = "t", .zone = "Europe/Paris", .db = "x.db",
					  .version = "t", .currency = "", .price_per_kwh = NAN,
					  .co2_per_kwh = NAN, .contract_w = NAN, .meters = names };
		struct report_tables ts;
		double g = 1e6, x = 2e6, p = 3e6;
		struct report r;
		int64_t t;
		size_t k;

		for (t = from - HOUR; t < to; t += MIN) {
			int64_t tod = ((t / S) % 86400) * S;
			bool sun = tod >= 10 * HOUR && tod < 14 * HOUR;

			one(&tm[0].s[REPORT_E_IMP], t, g);
			one(&tm[0].s[REPORT_E_EXP], t, x);
			one(&tm[1].s[REPORT_E_IMP], t, p);
			g += 100;
			x += sun ? 20 : 0;
			p += sun ? 50 : 0;
		}
		report_build(&in, &r);
		assert_int_equal(r.grid, cases[c].grid);
		assert_int_equal(r.days.n, 4);
		assert_true(r.days.b[1] - r.days.b[0] == 23 * HOUR);
		assert_int_equal(r.months.n, 2);
		assert_true(r.months.b[1] == INT64_C(1774994400) * S); /* 04-01 00:00 CEST */
		assert_float_equal(r.total_kwh, 570, 1e-9);
		assert_float_equal(r.prod_kwh, 48, 1e-9);
		assert_float_equal(r.pmonths.wh[0], 36000, 1e-6);
		assert_float_equal(r.pmonths.wh[1], 12000, 1e-6);
		assert_float_equal(r.months.wh[0], 426000, 1e-6);
		assert_float_equal(r.months.wh[1], 144000, 1e-6);
		assert_float_equal(r.self_month_wh[0], cases[c].self_march * 1000, 1e-6);
		assert_float_equal(r.cons_month_wh[0], cases[c].cons_march * 1000, 1e-6);
		assert_float_equal(r.self_kwh, cases[c].self_range, 1e-9);
		assert_float_equal(r.cons_kwh, cases[c].cons_range, 1e-9);
		assert_float_equal(r.prod_coverage, 48 / cases[c].cons_range, 1e-12);
		if (cases[c].grid) {
			assert_float_equal(r.export_kwh, 19.2, 1e-9);
			assert_float_equal(r.xmonths.wh[1], 4800, 1e-6);
			assert_float_equal(r.self_day_wh[0], 7200, 1e-6);
			assert_float_equal(r.cons_day_wh[0], 145200, 1e-6);
			assert_float_equal(r.self_month_wh[1], 7200, 1e-6);
			assert_float_equal(r.cons_month_wh[1], 151200, 1e-6);
		}
		/* the tables, as the PDF and the CSV print them */
		report_tables_make(&r, &doc, &ts);
		assert_string_equal(cell_of(&ts, "production_month", "2026-03", "produced"), "36.000");
		assert_string_equal(cell_of(&ts, "production_month", "2026-04", "produced"), "12.000");
		assert_string_equal(cell_of(&ts, "production", "range", "coverage"),
				    cases[c].cov_range);
		assert_string_equal(cell_of(&ts, "production", "range", "exported"),
				    cases[c].exported);
		report_tables_free(&ts);
		report_free(&r);
		for (k = 0; k < REPORT_NSERIES; k++) {
			history_series_free(&tm[0].s[k]);
			history_series_free(&tm[1].s[k]);
		}
	}
}

/*
 * Each utility at its price, by hand: on Monday 2025-12-01 (UTC) an
 * electricity root takes 100 Wh a minute (144 kWh) and a gas root 50
 * (72 kWh). At 0.2 a kWh of electricity and 0.05 of gas: 28.8 + 3.6 =
 * 32.4 for the day; outside production hours (22-06, 8 hours): 9.6 + 1.2
 * = 10.8. Without per-utility prices, all at price_per_kwh: 43.2 and 14.4.
 */
static void utility_prices(void **state)
{
	static const double prices[UTILITY__COUNT] = { [UTILITY_ELECTRICITY] = 0.2,
						       [UTILITY_GAS] = 0.05 };
	static const struct {
		const double *prices;
		double day, standby;
	} cases[] = { { prices, 32.4, 10.8 }, { NULL, 43.2, 14.4 } };
	size_t c;

	(void)state;
	zone("UTC");
	for (c = 0; c < UTIL_ARRAY_LEN(cases); c++) {
		struct report_meter_in tm[2] = {
			{ .name = "el", .nominal_v = 230 },
			{ .name = "gas", .utility = UTILITY_GAS },
		};
		struct report_in in = { .site = "t", .zone = "UTC", .db = "x.db", .from_us = T0,
					.to_us = T0 + DAY, .before_us = T0 - HOUR,
					.made_us = T0 + 2 * DAY, .price_per_kwh = 0.2,
					.prices = cases[c].prices, .co2_per_kwh = NAN,
					.contract_w = NAN, .nominal_f = 50, .meters = tm,
					.nmeters = 2 };
		double v[2] = { 1e6, 1e6 };
		struct report r;
		int64_t t;
		size_t i, k;

		for (t = T0 - HOUR; t < T0 + DAY; t += MIN)
			for (i = 0; i < 2; i++) {
				one(&tm[i].s[REPORT_E_IMP], t, v[i]);
				v[i] += i == 0 ? 100 : 50;
			}
		report_build(&in, &r);
		assert_float_equal(r.total_kwh, 216, 1e-9);
		assert_float_equal(r.cost, cases[c].day, 1e-9);
		assert_float_equal(r.day_cost[0], cases[c].day, 1e-9);
		assert_float_equal(r.standby_cost, cases[c].standby, 1e-9);
		report_free(&r);
		for (i = 0; i < 2; i++)
			for (k = 0; k < REPORT_NSERIES; k++)
				history_series_free(&tm[i].s[k]);
	}
}

static void shifts(void **state)
{
	struct report r;

	(void)state;
	build(&r, true);
	/* [00:00, 06:00) (the night shift, clipped), [06, 14), [14, 22), ... */
	assert_int_equal(r.shifts.n, 7);
	assert_float_equal(r.shifts.wh[0], 360000, 1e-6);
	assert_float_equal(r.shifts.wh[1], 480000, 1e-6);
	assert_float_equal(r.shifts.wh[6], 120000, 1e-6);
	/* with shifts, only weekends are outside production */
	assert_true(r.standby_us == 0);
	assert_float_equal(r.standby_kwh, 0, 0);
	report_free(&r);
	free_meters();
}

static void power_factor_and_quality(void **state)
{
	struct report r;
	double tan_phi = (1425.0 * 18000 + 15.0 * 27000) / (1440.0 * 36000);

	(void)state;
	build(&r, false);

	assert_int_equal(r.m[1].pf_minutes, 1440);
	assert_int_equal(r.m[1].below85, 20);
	assert_int_equal(r.m[1].below90, 120);
	assert_float_equal(r.m[1].tan_phi, tan_phi, 1e-12);
	assert_float_equal(r.m[1].pf, 1 / sqrt(1 + tan_phi * tan_phi), 1e-12);
	/* 27 kvar - 0.4 x 36 kW in 12:00-12:15 */
	assert_float_equal(r.m[1].kvar_needed, 12600, 1e-6);
	assert_true(r.m[1].kvar_at == T0 + 12 * HOUR);
	assert_int_equal(r.worst_pf, 1);
	assert_true(isnan(r.m[2].kvar_needed));
	assert_string_equal(report_pf_tier(r.m[1].pf), "acceptable (2 % penalty)"); /* 0.893 */
	assert_string_equal(report_pf_tier(0.93), "good");
	assert_string_equal(report_pf_tier(0.79), "critical");

	/* m2: 10 minutes of V3 at 200 V (199..201: under 207) */
	assert_int_equal(r.m[2].v_minutes, 1440);
	assert_int_equal(r.m[2].v_out, 10);
	assert_float_equal(r.m[2].v_min, 199, 0);
	assert_float_equal(r.m[2].v_max, 230, 0);
	assert_int_equal(r.m[2].unb_minutes, 1440);
	assert_int_equal(r.m[2].unb_over2, 10);
	assert_float_equal(r.m[2].unb_max, 100.0 * 20 / 220, 1e-9);
	assert_float_equal(r.m[2].unb_mean, 10 * (100.0 * 20 / 220) / 1440, 1e-9);
	assert_int_equal(r.m[2].thd_over8, 5);
	assert_float_equal(r.m[2].thd_max, 9, 0);
	assert_int_equal(r.m[2].f_minutes, 1440);
	assert_int_equal(r.m[2].f_out, 1);
	assert_float_equal(r.m[2].f_min, 49.4, 0);
	assert_float_equal(r.m[2].f_max, 50, 0);
	assert_int_equal(r.m[0].v_minutes, 0);
	assert_true(isnan(r.m[0].v_min));
	assert_float_equal(report_unbalance(230, 230, 200), 100.0 * 20 / 220, 1e-12);
	report_free(&r);
	free_meters();
}

/* s's minutes merged into 5-minute windows, as the store's hours give them. */
static void to_windows(struct history_series *s)
{
	struct history_series w = { 0 };
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct history_minute *m = &s->m[i];
		int64_t d = (m->t_us - T0) % (5 * MIN), t = m->t_us - (d < 0 ? d + 5 * MIN : d);
		struct history_minute *x = w.n > 0 ? &w.m[w.n - 1] : NULL;

		if (x == NULL || x->t_us != t) {
			struct history_minute y = *m;

			y.t_us = t;
			history_series_add(&w, &y);
			continue;
		}
		x->n += m->n;
		if (m->good == 0)
			continue;
		x->rise += m->rise + (x->good > 0 ? history_rise(x->last, m->first) : 0);
		if (x->good == 0) {
			x->min = m->min;
			x->max = m->max;
			x->first = m->first;
		}
		x->min = m->min < x->min ? m->min : x->min;
		x->max = m->max > x->max ? m->max : x->max;
		x->sum += m->sum;
		x->good += m->good;
		x->last = m->last;
	}
	history_series_free(s);
	*s = w;
}

/*
 * The same two days given as 5-minute windows (step_us, as cmd_report
 * reads them): energy, coverage, gaps, peaks, the power factor and power
 * quality durations (in minutes) as from the minutes, since every event
 * of the data fills whole windows; the band is of 5-minute means; the
 * frequency's one-minute dip counts its window's 5 minutes.
 */
static void in_windows(void **state)
{
	struct report r;
	struct report_in in;
	size_t i, k;

	(void)state;
	zone("UTC");
	make_meters();
	make_journal();
	for (i = 0; i < 3; i++)
		for (k = 0; k < REPORT_NSERIES; k++)
			to_windows(&meters[i].s[k]);
	assert_int_equal(meters[1].s[REPORT_PF].n, 288);
	in = input();
	in.step_us = 5 * MIN;
	report_build(&in, &r);
	assert_int_equal(r.expected, 3 * 2880);
	assert_int_equal(r.present, 3 * 2880 - 30);
	assert_int_equal(r.ngaps, 1);
	assert_true(r.gaps[0].from_us == T0 + DAY + 10 * HOUR);
	assert_true(r.gaps[0].to_us == T0 + DAY + 10 * HOUR + 30 * MIN);
	assert_float_equal(r.days.wh[0], 1440000, 1e-6);
	assert_float_equal(r.days.wh[1], 1440000, 1e-6);
	assert_float_equal(r.m[1].kwh, 1728, 1e-9);
	assert_float_equal(r.peak_w, 60000, 1e-6);
	assert_int_equal(r.over_intervals, 190);
	assert_float_equal(r.iv.wh[96 + 42] * 4, 56000, 1e-6);
	assert_float_equal(r.iv_min_w[0], 59500, 1e-9);
	assert_float_equal(r.iv_max_w[0], 60500, 1e-9);
	assert_true(r.standby_us == 16 * HOUR);
	assert_float_equal(r.standby_kwh, 960, 1e-9);
	assert_int_equal(r.m[1].pf_minutes, 1440);
	assert_int_equal(r.m[1].below85, 20);
	assert_int_equal(r.m[1].below90, 120);
	assert_float_equal(r.m[1].kvar_needed, 12600, 1e-6);
	assert_int_equal(r.m[2].v_minutes, 1440);
	assert_int_equal(r.m[2].v_out, 10);
	assert_int_equal(r.m[2].unb_over2, 10);
	assert_float_equal(r.m[2].unb_mean, 10 * (100.0 * 20 / 220) / 1440, 1e-9);
	assert_int_equal(r.m[2].thd_over8, 5);
	assert_int_equal(r.m[2].f_minutes, 1440);
	assert_int_equal(r.m[2].f_out, 5);
	assert_float_equal(r.m[2].f_min, 49.4, 0);
	/* 15-minute forecasts are whole windows: scored as from the minutes */
	assert_int_equal(r.fc_scored, 3);
	assert_float_equal(r.mape, 20.0 / 3, 1e-9);
	report_free(&r);
	/* 6-minute ones are not: no exact actual, not scored */
	{
		static const int64_t t6[4] = { T0, T0 + 6 * MIN, T0 + 12 * MIN, T0 + 18 * MIN };
		static const double p6[4] = { 60000, 60000, 60000, 60000 };
		static const struct report_forecast_in fc6 = { 4, 6 * MIN, t6, p6 };

		in.forecast = &fc6;
		report_build(&in, &r);
		assert_int_equal(r.fc_scored, 0);
		report_free(&r);
	}
	free_meters();
}

static void alarm_figures(void **state)
{
	struct report r;

	(void)state;
	build(&r, false);

	assert_int_equal(r.events, njournal - 1);
	assert_int_equal(r.raises, 19);
	assert_int_equal(r.by_prio[0], 5);
	assert_int_equal(r.by_prio[1], 12);
	assert_int_equal(r.by_prio[2], 1);
	assert_int_equal(r.by_prio[3], 1);
	assert_int_equal(r.by_prio[4], 0);
	assert_float_equal(r.avg10, 19.0 / 288, 1e-12);
	assert_int_equal(r.peak10, 12);
	assert_int_equal(r.floods, 1);
	assert_int_equal(r.standing, 1);   /* overload: acknowledged, active 45 h */
	assert_int_equal(r.chattering, 1); /* v_low: 5 raises in 40 s */
	assert_int_equal(r.ntop, 4);
	assert_string_equal(r.top[0].alarm, "pf_low");
	assert_int_equal(r.top[0].raises, 12);
	assert_string_equal(r.top[1].alarm, "v_low");
	assert_string_equal(r.top[1].priority, "critical");
	assert_string_equal(r.top[2].alarm, "overload");
	assert_string_equal(r.top[3].alarm, "thd");
	assert_int_equal(r.acks, 2);
	assert_float_equal(r.ack_mean_s, 60, 1e-12);
	assert_float_equal(r.ack_median_s, 60, 1e-12);
	assert_float_equal(r.ack_max_s, 90, 1e-12);

	/* the forecast: 60 kW actual; 0, 10 %, 10 % off, one without a point */
	assert_true(r.has_forecast);
	assert_int_equal(r.fc_scored, 3);
	assert_float_equal(r.mape, 20.0 / 3, 1e-9);
	assert_float_equal(r.fc_actual[3], 60000, 1e-6);
	report_free(&r);
	free_meters();
}

static void production_hours(void **state)
{
	(void)state;
	zone("Europe/Paris");
	/* 2025-12-06 is a Saturday; 2025-12-01T22:30Z is 23:30 in Paris */
	assert_true(report_outside_production(INT64_C(1764979200) * S + 12 * HOUR, 3, NULL, 0));
	assert_true(report_outside_production(T0 + 22 * HOUR + 30 * MIN, 0, NULL, 0));
	assert_false(report_outside_production(T0 + 22 * HOUR + 30 * MIN, 3, NULL, 0));
	assert_false(report_outside_production(T0 + 10 * HOUR, 0, NULL, 0));
	/* 05:30 in Paris is 04:30Z: a night; 06:30 Paris is not */
	assert_true(report_outside_production(T0 + 4 * HOUR + 30 * MIN, 0, NULL, 0));
	assert_false(report_outside_production(T0 + 5 * HOUR + 30 * MIN, 0, NULL, 0));
	/* a holiday (2025-12-02, a Tuesday: day 20424) is outside all day, in
	 * local time: 00:30 Paris on the 2nd is 23:30Z on the 1st */
	{
		static const int32_t hol[2] = { 20000, 20424 };

		assert_int_equal(forecast_day_number(2025, 12, 2), 20424);
		assert_true(report_outside_production(T0 + DAY + 10 * HOUR, 3, hol, 2));
		assert_false(report_outside_production(T0 + DAY + 10 * HOUR, 3, hol, 1));
		assert_true(report_outside_production(T0 + 23 * HOUR + 30 * MIN, 3, hol, 2));
		assert_false(report_outside_production(T0 + 22 * HOUR + 30 * MIN, 3, hol, 2));
		assert_false(report_outside_production(T0 + 2 * DAY + 10 * HOUR, 3, hol, 2));
	}
}

static void empty(void **state)
{
	struct report_in in = { .from_us = T0, .to_us = T0 + HOUR, .before_us = T0,
				.made_us = T0 + DAY, .contract_w = NAN, .price_per_kwh = NAN,
				.co2_per_kwh = NAN, .nominal_f = NAN };
	struct report r;

	(void)state;
	zone("UTC");
	report_build(&in, &r);
	assert_int_equal(r.expected, 0);
	assert_true(isnan(r.coverage));
	assert_false(r.has_energy);
	assert_true(isnan(r.peak_w));
	assert_int_equal(r.raises, 0);
	assert_true(isnan(r.ack_mean_s));
	assert_false(r.has_forecast);
	report_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(energy_and_coverage),
		cmocka_unit_test(shifts),
		cmocka_unit_test(tree_and_production),
		cmocka_unit_test(grid_months),
		cmocka_unit_test(utility_prices),
		cmocka_unit_test(power_factor_and_quality),
		cmocka_unit_test(in_windows),
		cmocka_unit_test(alarm_figures),
		cmocka_unit_test(production_hours),
		cmocka_unit_test(empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
