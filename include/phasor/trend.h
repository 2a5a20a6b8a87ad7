/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_TREND_H
#define PHASOR_TREND_H
/*
 * trend: what view 4 (Trends and forecast) and the "consumption nobody
 * expected" alarm know of one series, the site's or a meter's (plant
 * layer: pure computation, every time and label passed in). From the
 * actual mean power per interval (the history), the values the stored
 * forecasts gave each interval (store_reader_forecast_past) and the
 * instant shown, trend_build fills:
 *   - today and tomorrow (local days): actual so far, forecast, 80 % and
 *     95 % bands;
 *   - the peak of the forecast from now on, and the intervals expected
 *     over [site] contract_power;
 *   - the MAPE over the last 7 days of what the stored forecasts expected;
 *   - the hours over contract_power by local hour of day, over the history;
 *   - whether the forecast is older than its data (made before today while
 *     the data reaches into today);
 *   - the run of completed intervals whose actual lies outside the 95 %
 *     band, with the expected and actual power and the energy in excess.
 * docs/forecast.md ("Stored forecasts and view 4") has the definitions.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TREND_MAPE_DAYS 7
#define TREND_NAME_LEN 64

/* A regular series: y[k] the mean W over [t0 + k step, + step); NaN a gap. */
struct trend_series {
	int64_t t0_us, step_us;
	double *y;
	size_t n;
};

struct trend {
	char name[TREND_NAME_LEN];   /* "" the site, else the meter */
	bool site;
	bool has_forecast;           /* a stored forecast covers now or later */
	char method[16];
	int64_t made_us;             /* of the current forecast; 0: none */
	int64_t took_us;             /* how long making it took */
	bool stale;                  /* made before today's midnight, the data reaching today */
	char message[160];           /* why there is none, or the engine's note; "" */
	/* today and tomorrow: n intervals from day0_us */
	int64_t day0_us, day2_us, step_us;
	size_t n;
	double *actual, *point, *lo80, *hi80, *lo95, *hi95;
	int64_t data_end_us;         /* the end of the newest interval with data; 0: none */
	/* from now on (to the end of tomorrow) */
	double peak_w;               /* NaN: no forecast */
	int64_t peak_us;
	size_t over_n;               /* intervals whose forecast is over contract_power */
	int64_t over_first_us;       /* the first of them; 0: none */
	/* the stored forecasts over the last 7 days */
	double mape;                 /* %, NaN: nothing to score */
	size_t mape_points;
	int mape_days;               /* days with at least one scored interval */
	/* hours over contract_power by local hour, over the history */
	double over_hours[24];
	double history_days;
	/* consumption nobody expected: the completed intervals up to now */
	int outside_run;             /* consecutive ones outside the 95 % band, newest last */
	double expected_w, actual_w; /* of the newest completed interval; NaN: none */
	double lo95_w, hi95_w;       /* its 95 % band */
	double excess_wh;            /* sum of (actual - forecast) x step over the run */
	int64_t run_since_us;        /* the run's first interval; 0: none */
};

struct trend_set {
	uint64_t gen;                /* moves on each new set */
	int64_t built_us;            /* the instant it describes */
	double contract_w;           /* [site] contract_power; NaN: not set */
	size_t n;                    /* [0] the site, then the meters */
	struct trend *t;
	/* the newest forecast run: when, how long, how many forecasts */
	int64_t run_made_us, run_took_us;
	size_t run_count;
	bool busy;                   /* a run is under way (or asked of the recorder) */
	bool maker;                  /* this process makes the forecasts (else the recorder does) */
	char note[160];              /* a failure to read the buffer, or "" */
};

/* What trend_build is given. */
struct trend_input {
	const char *name;            /* "" the site */
	int64_t now_us;
	int64_t day0_us, day2_us;    /* today's local midnight, the end of tomorrow (UTC us) */
	int (*local_hour)(int64_t t_us); /* 0..23, the site's local hour of an instant */
	const struct trend_series *actual; /* the history (NULL: none) */
	int64_t step_us;
	/* the values the stored forecasts gave each interval (t_us ascending) */
	const int64_t *fc_t;
	const double *fc_point, *fc_lo80, *fc_hi80, *fc_lo95, *fc_hi95;
	size_t fc_n;
	/* the forecast current at now_us */
	bool has_current;
	const char *method;
	int64_t made_us, took_us;
	double contract_w;           /* NaN: no comparison (a meter, or not set) */
	const char *message;         /* NULL or a note */
};

/* Fill *t (zeroed first; free its arrays with trend_clear). */
void trend_build(struct trend *t, const struct trend_input *in);
void trend_clear(struct trend *t);
/* Free a set and everything in it (NULL: nothing). */
void trend_set_free(struct trend_set *s);

/*
 * The mean absolute percentage error of forecast f against actual y over
 * the n pairs where both are known and |y| is at least floor_w; NaN when
 * none. *points: how many scored.
 */
double trend_mape(const double *y, const double *f, size_t n, double floor_w, size_t *points);

#endif
