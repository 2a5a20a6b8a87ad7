/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_FORECAST_H
#define PHASOR_FORECAST_H
/*
 * forecast: the day-ahead load forecast engine (plant layer: pure
 * computation, no I/O, no clock, no time zone of its own). Input: a regular
 * series of mean power per interval, NaN for a gap, each interval labelled
 * with its local calendar (struct forecast_cal, computed by the caller from
 * localtime_r in the site's zone: the engine never touches TZ). Methods:
 * seasonal naive (same time yesterday; same time on the last day of the
 * same type), double seasonal Holt-Winters with an AR(1) adjustment of the
 * one-step errors (Taylor 2003) fitted with GSL's Nelder-Mead, and the mean
 * of the last two. The method is chosen by a rolling-origin day-ahead
 * backtest on the series' own last days; prediction intervals come from the
 * backtest's errors per lead time. docs/forecast.md has the formulas.
 *
 * Deterministic: the same input gives bit-identical output. Reentrant: no
 * global state, so several threads may forecast at once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Slots per day: 86400 / step; a step of one minute at the finest. */
#define FORECAST_MAX_SLOTS 1440

/* The local calendar of one interval (its start). */
struct forecast_cal {
	int32_t day;      /* local date: days since 1970-01-01 */
	uint16_t slot;    /* local seconds since local midnight / step */
	uint8_t dow;      /* local day of week: 0 Monday .. 6 Sunday */
	uint8_t daytype;  /* dow, or 6 (a Sunday) on a holiday */
};

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int32_t forecast_day_number(int year, int month, int mday);

/*
 * The label of an interval whose start is the local broken-down time *local
 * (from localtime_r in the site's zone), for a step of step_s seconds (a
 * divisor of 86400) and the holidays (sorted or not: nholidays day numbers).
 */
struct forecast_cal forecast_cal_from_tm(const struct tm *local, int step_s,
					 const int32_t *holidays, size_t nholidays);

enum forecast_method {
	FORECAST_NAIVE_DAY,   /* same local time yesterday */
	FORECAST_NAIVE_WEEK,  /* same local time on the last day of the same type */
	FORECAST_DSHW,        /* double seasonal Holt-Winters + AR(1) */
	FORECAST_COMBINED,    /* mean of dshw and naive_week */
	FORECAST_METHODS
};

/* "naive_day", "naive_week", "dshw", "combined". */
const char *forecast_method_name(enum forecast_method m);

enum forecast_status {
	FORECAST_OK,          /* every method was evaluated */
	FORECAST_SHORT,       /* under two weeks: daily naive (message says so) */
	FORECAST_TOO_SHORT,   /* under one day of data: no forecast */
	FORECAST_BAD_INPUT,   /* slots_per_day, n or horizon out of range */
};

struct forecast_input {
	const double *y;      /* n intervals, oldest first; NaN: a gap */
	size_t n;
	/* n + horizon labels: the data's then the horizon's intervals */
	const struct forecast_cal *cal;
	size_t horizon;       /* intervals to forecast after y[n-1] */
	int slots_per_day;    /* 86400 / step, 1..FORECAST_MAX_SLOTS */
	int backtest_days;    /* origins of the backtest; 0: the default (28) */
	int method;           /* -1: chosen by the backtest; else forced */
};

/* A method's day-ahead accuracy on the backtest's days. */
struct forecast_score {
	bool available;       /* evaluated (enough history, some forecasts) */
	double mape;          /* %, over the scored intervals */
	int days;             /* origins (local midnights) that scored */
	size_t points;        /* intervals scored */
};

/* The Holt-Winters parameters (of the last fit). */
struct forecast_params {
	double alpha, delta, omega, phi; /* level, daily, weekly, AR(1) */
	double rmse;          /* of the AR-adjusted one-step errors, W */
	int iterations;       /* Nelder-Mead iterations */
};

struct forecast_result {
	enum forecast_status status;
	enum forecast_method method;  /* the one used for point[] */
	/* horizon values each (W), owned, freed by forecast_result_free;
	 * NULL under FORECAST_TOO_SHORT. lo/hi are NaN when the backtest had
	 * no errors to take quantiles of (the message says so). */
	double *point, *lo80, *hi80, *lo95, *hi95;
	size_t horizon;
	struct forecast_score score[FORECAST_METHODS];
	struct forecast_params fit;   /* valid when score[FORECAST_DSHW].available */
	double history_days;          /* up to the last observed interval */
	int backtest_days;            /* the backtest window used, days */
	char message[256];            /* a note for the user ("" when none) */
};

/*
 * Forecasts in->horizon intervals after the data into *out (zeroed first).
 * Returns out->status; under FORECAST_TOO_SHORT and FORECAST_BAD_INPUT the
 * message says why and no array is allocated. The caller frees *out with
 * forecast_result_free (also after an error).
 */
enum forecast_status forecast_run(const struct forecast_input *in, struct forecast_result *out);
void forecast_result_free(struct forecast_result *r);

/*
 * Series from samples: the mean power (W) of each interval
 * [t0_us + k * step_us, + step_us), k < nint, into y[nint]; NaN where the
 * data does not cover the interval. Samples in time order.
 * - from an energy counter (Wh): the counter's differences between
 *   consecutive samples, spread over the intervals in proportion to time
 *   (no sampling bias); a pair more than one interval apart, or across a
 *   reset (live_counter_reset), counts for nothing; an interval needs 90 %
 *   of its time covered;
 * - from power samples (W): the mean of the samples in the interval.
 */
void forecast_series_counter(const int64_t *t_us, const double *wh, size_t n, int64_t t0_us,
			     int64_t step_us, size_t nint, double *y);
void forecast_series_power(const int64_t *t_us, const double *w, size_t n, int64_t t0_us,
			   int64_t step_us, size_t nint, double *y);

#endif
