// SPDX-License-Identifier: MIT
/*
 * bench_forecast: the forecast engine on the simulator's plant
 * (src/sim/simmodel.c; SIMULATED data, not real demand).
 *
 * 1. Accuracy: SIM_METERS meters simulated for HISTORY_DAYS + EVAL_DAYS
 *    days (the model's own 1-second steps), each meter's e_imp read at
 *    every 15-minute boundary and turned into mean power per interval
 *    (forecast_series_counter, as `phasor forecast --db` does). For each
 *    of the last EVAL_DAYS days, forecast_run sees only the HISTORY_DAYS
 *    before that day's midnight (its own backtest picks the method and
 *    the band) and forecasts the day; the baselines (same time yesterday,
 *    same time last week) forecast the same days. Day-ahead MAPE of each,
 *    pooled over meters and days, and the ratios phasor / baseline
 *    (below 1: phasor is better); the 95 % band's coverage.
 * 2. Speed: one forecast_run (two Nelder-Mead fits and a 28-day backtest)
 *    on 8 weeks of 15-min data, median of runs, one thread; then 200
 *    meters in a row (the simulated series reused, each with its own
 *    deterministic noise).
 *
 * Prints one markdown table row per figure (bench/run.sh collects them).
 *   bench_forecast [--quick]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/forecast.h"
#include "phasor/qty.h"
#include "phasor/simmodel.h"
#include "phasor/util.h"

#define STEP 900
#define SPD (86400 / STEP)
#define SIM_METERS 6
#define HISTORY_DAYS 56
#define FLEET 200
/* 2026-09-07T00:00:00Z, a Monday */
#define T0 INT64_C(1788739200)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void labels(struct forecast_cal *cal, size_t n, int64_t t0)
{
	size_t i;

	for (i = 0; i < n; i++) {
		time_t t = (time_t)(t0 + (int64_t)i * STEP);
		struct tm tm;

		gmtime_r(&t, &tm);
		cal[i] = forecast_cal_from_tm(&tm, STEP, NULL, 0);
	}
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	int eval_days = quick ? 4 : 14, runs = quick ? 5 : 21, fleet = quick ? 20 : FLEET;
	size_t days = HISTORY_DAYS + (size_t)eval_days, nint = days * SPD, m, i, d;
	struct simmodel *sim;
	double *y[SIM_METERS], *e[SIM_METERS], ape[3] = { 0 }, times[64], t, total;
	size_t pts = 0, inside = 0, banded = 0;
	struct forecast_cal *cal;
	int64_t *tu;

	setenv("TZ", "UTC", 1); /* the model's shifts follow its start's offset */
	tzset();
	sim = simmodel_new(SIM_METERS, 42, T0 * 1000000);
	for (m = 0; m < SIM_METERS; m++) {
		y[m] = util_malloc(nint * sizeof(double));
		e[m] = util_malloc((nint + 1) * sizeof(double));
	}
	tu = util_malloc((nint + 1) * sizeof(*tu));
	t = now_s();
	for (i = 0; i <= nint; i++) {
		simmodel_advance(sim, (double)i * STEP);
		tu[i] = (T0 + (int64_t)i * STEP) * 1000000;
		for (m = 0; m < SIM_METERS; m++)
			e[m][i] = simmodel_values(sim, m)[QTY_E_IMP];
	}
	fprintf(stderr, "bench_forecast: %zu days of %d meters simulated in %.1f s\n", days,
		SIM_METERS, now_s() - t);
	for (m = 0; m < SIM_METERS; m++) {
		/* A boundary sample a step apart: exactly one interval per pair. */
		forecast_series_counter(tu, e[m], nint + 1, T0 * 1000000, (int64_t)STEP * 1000000, nint,
					y[m]);
		free(e[m]);
	}
	free(tu);
	cal = util_malloc((nint + SPD) * sizeof(*cal));
	labels(cal, nint + SPD, T0);

	/* 1. Accuracy, out of sample. */
	for (m = 0; m < SIM_METERS; m++) {
		double mabs = 0, pm[3] = { 0 }, thr;
		size_t nm = 0, pn = 0;

		/* As the engine's MAPE: actuals under 1 % of the mean skipped. */
		for (i = 0; i < HISTORY_DAYS * SPD; i++)
			if (!isnan(y[m][i])) {
				mabs += fabs(y[m][i]);
				nm++;
			}
		thr = nm ? 0.01 * mabs / (double)nm : 1;
		for (d = 0; d < (size_t)eval_days; d++) {
			size_t start = d * SPD, o = (HISTORY_DAYS + d) * SPD;
			struct forecast_input in = { y[m] + start, o - start, cal + start, SPD, SPD, 0, -1 };
			struct forecast_result r;

			if (forecast_run(&in, &r) != FORECAST_OK) {
				fprintf(stderr, "bench_forecast: meter %zu day %zu: %s\n", m, d, r.message);
				return 1;
			}
			for (i = 0; i < SPD; i++) {
				double a = y[m][o + i], yd = y[m][o + i - SPD], yw = y[m][o + i - 7 * SPD];

				if (isnan(a) || fabs(a) < thr || isnan(yd) || isnan(yw))
					continue;
				pm[0] += fabs(a - r.point[i]) / fabs(a);
				pm[1] += fabs(a - yd) / fabs(a);
				pm[2] += fabs(a - yw) / fabs(a);
				pn++;
				if (isfinite(r.lo95[i])) {
					banded++;
					inside += a >= r.lo95[i] && a <= r.hi95[i];
				}
			}
			forecast_result_free(&r);
		}
		fprintf(stderr,
			"bench_forecast: meter %zu (%s): MAPE phasor %.2f %%, yesterday %.2f %%, "
			"last week %.2f %%\n",
			m + 1, simmodel_load_name(simmodel_load(sim, m)), 100 * pm[0] / (double)pn,
			100 * pm[1] / (double)pn, 100 * pm[2] / (double)pn);
		for (i = 0; i < 3; i++)
			ape[i] += pm[i];
		pts += pn;
	}
	printf("| Forecast accuracy, %d simulated meters x %d days, day-ahead from midnight "
	       "(SIMULATED plant, not real demand) | MAPE %.2f %% | same time yesterday %.2f %%, "
	       "same time last week %.2f %% | **%.2f** vs yesterday, **%.2f** vs last week "
	       "(lower is better) | 95 %% band holds %.1f %% of actuals |\n",
	       SIM_METERS, eval_days, 100 * ape[0] / (double)pts, 100 * ape[1] / (double)pts,
	       100 * ape[2] / (double)pts, ape[0] / ape[1], ape[0] / ape[2],
	       banded ? 100.0 * (double)inside / (double)banded : NAN);

	/* 2. Speed: 8 weeks of one meter (the main board), then a fleet. */
	{
		struct forecast_input in = { y[0], HISTORY_DAYS * SPD, cal, SPD, SPD, 0, -1 };
		struct forecast_result r;
		int k;

		for (k = 0; k < runs; k++) {
			t = now_s();
			forecast_run(&in, &r);
			times[k] = now_s() - t;
			forecast_result_free(&r);
		}
		qsort(times, (size_t)runs, sizeof(double), cmp_d);
		printf("| Forecast fit, 8 weeks of 15-min data (5376 intervals), one core | "
		       "%.1f ms per meter (median of %d; fit + refit + 28-day backtest) | "
		       "- | target < 100 ms | |\n",
		       times[runs / 2] * 1000, runs);
	}
	{
		double *buf = util_malloc(HISTORY_DAYS * SPD * sizeof(double));
		uint64_t st = 7;
		int k;

		total = 0;
		for (k = 0; k < fleet; k++) {
			const double *src = y[k % SIM_METERS];
			struct forecast_input in = { buf, HISTORY_DAYS * SPD, cal, SPD, SPD, 0, -1 };
			struct forecast_result r;

			for (i = 0; i < HISTORY_DAYS * SPD; i++) {
				st = st * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
				buf[i] = src[i] * (1 + 0.02 * ((double)(st >> 11) / 9007199254740992.0 - 0.5));
			}
			t = now_s();
			forecast_run(&in, &r);
			total += now_s() - t;
			forecast_result_free(&r);
		}
		free(buf);
		printf("| Forecast of %d meters in a row, 8 weeks each, one core | %.2f s | - | "
		       "target < 5 s%s | series: the simulated ones reused with 2 %% noise |\n",
		       fleet, total, fleet == FLEET ? "" : " for 200 (quick run)");
	}
	for (m = 0; m < SIM_METERS; m++)
		free(y[m]);
	free(cal);
	simmodel_free(sim);
	return 0;
}
