/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_HISTORY_H
#define PHASOR_HISTORY_H
/*
 * history: the figures of view 6 (History) from a quantity's minutes (the
 * store's per-minute rollups, copied into struct history_minute by the
 * worker that reads them, feed/histjob.c): min, mean and max per plotted
 * column with the samples and the coverage; energy per span (shift, day,
 * week, month, billing interval) from an energy counter's minutes; the
 * peak demand (mean power per billing interval) per day and month against
 * a contract power; the alarm raises by local hour of day; the local
 * calendar's spans (days of 23 and 25 hours at DST changes, shifts on the
 * wall clock, across midnight too).
 *
 * Pure: no I/O, no clock (times passed in); local times are the process's
 * zone (TZ), as kpi_local_midnight. Any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_MINUTE_US INT64_C(60000000)
/* Counter drops: utility_counter_rise()'s rule (a drop larger than
 * UTILITY_RESET_FRACTION of the value is a reset: bridged, nothing counted
 * across it), as the store's codec_rise. */

/* One minute of one quantity (as struct codec_minute, with its start). */
struct history_minute {
	int64_t t_us;              /* the minute's start */
	uint32_t n, good;          /* samples; good ones */
	double min, max, sum;      /* of the good values (sum / good: the mean) */
	double first, last;        /* the first and last good value */
	double rise;               /* counters: the rises between good values within it */
};

/* A growing array of minutes in time order (free with history_series_free). */
struct history_series {
	struct history_minute *m;
	size_t n, cap;
};
void history_series_add(struct history_series *s, const struct history_minute *m);
void history_series_free(struct history_series *s);

/* The rise of a counter from a to b: b - a, or 0 for a reset. */
double history_rise(double a, double b);

/*
 * The site's series of an additive quantity: minute by minute the sum of
 * the means of the n series that have good samples in it (min = max =
 * mean = that sum; n and good summed), into out (emptied first).
 */
void history_site_sum(const struct history_series *in, size_t n, struct history_series *out);

/* One plotted column: the minutes starting in [from_us, to_us). */
struct history_col {
	int64_t from_us, to_us;
	double min, mean, max;     /* NaN: no good sample */
	uint64_t samples, good;
	uint32_t minutes;          /* minutes with a good sample */
	uint32_t expected;         /* minutes of the span before now */
	double coverage;           /* minutes / expected, 0..1; NaN when expected is 0 */
};

/*
 * ncols columns splitting [from_us, to_us) evenly (column k from from_us +
 * k * span / ncols); m in time order. The mean is over the good samples
 * (sum / good). Minutes at or after now_us are not expected.
 */
void history_columns(const struct history_minute *m, size_t n, int64_t from_us, int64_t to_us,
		     int64_t now_us, struct history_col *cols, size_t ncols);

/*
 * Consecutive spans: b[0] < b[1] < ... < b[n], span i = [b[i], b[i+1]).
 * wh[i]: the energy a counter counted in span i, Wh; has[i]: it had a
 * good minute. peak (days and months of the peak table only, else NULL).
 */
struct history_peak {
	double max_w;              /* the highest mean power of an interval; NaN: none */
	int64_t at_us;             /* that interval's start */
	size_t over;               /* intervals over the contract power */
	size_t intervals;          /* intervals with data */
	int64_t over_us;           /* time over it (over x the interval) */
};
struct history_spans {
	size_t n;
	int64_t *b;                /* n + 1 bounds */
	double *wh;
	bool *has;
	struct history_peak *peak;
};
/* Room for n spans (bounds, energy, has; peak when with_peak), zeroed. */
void history_spans_alloc(struct history_spans *s, size_t n, bool with_peak);
void history_spans_free(struct history_spans *s);

/*
 * Bounds of the local days, Monday weeks, months, shifts or billing
 * intervals that meet [from_us, to_us): the first bound at or before
 * from_us, the last at or after to_us. Days start at local midnight
 * (kpi_local_midnight: 23 and 25 hour days), weeks at Monday's midnight,
 * months at the 1st's; shifts at each local day's wall-clock times
 * shift_min[] (minutes after midnight, ascending: the last shift runs to
 * the first's time the next day, across midnight); billing intervals
 * every every_us from local midnight, the day's last one ending at the
 * next midnight (as bucket.h). Into s (allocated; free with
 * history_spans_free); false when every_us does not divide a day, there
 * are no shifts, or the range is empty.
 */
bool history_days(int64_t from_us, int64_t to_us, struct history_spans *s, bool with_peak);
bool history_weeks(int64_t from_us, int64_t to_us, struct history_spans *s);
bool history_months(int64_t from_us, int64_t to_us, struct history_spans *s, bool with_peak);
bool history_shifts(int64_t from_us, int64_t to_us, const int *shift_min, size_t nshifts,
		    struct history_spans *s);
bool history_intervals(int64_t from_us, int64_t to_us, int64_t every_us, struct history_spans *s);

/*
 * Add a counter's energy over s's spans to s->wh (so that the site's is
 * the sum of its meters' calls), has set where it had a good minute. m in
 * time order; minutes before b[0] serve only as the value the first
 * span's energy counts from. Within a span: the rises inside each minute
 * and from one good minute to the next (codec_rise's reset rule); across
 * a bound, the rise from the span before counts only when that span (or,
 * for the first, [before_us, b[0])) had a good minute: a gap leaves its
 * energy uncounted rather than lump it on the next span (bucket.c's rule).
 */
void history_energy(const struct history_minute *m, size_t n, int64_t before_us,
		    struct history_spans *s);

/*
 * The peak demand of groups (days, months: g's spans) from billing
 * intervals iv (energy already in iv->wh): per group the highest mean
 * power (Wh / the interval's hours) of an interval starting in it, its
 * start, and the intervals over contract_w (NaN: none counted), into
 * g->peak.
 */
void history_peaks(const struct history_spans *iv, double contract_w, struct history_spans *g);

/*
 * Self-consumption per group (days, months: g's spans) from the billing
 * intervals of production (prod) and consumption (cons), both over the
 * same bounds with their energy: per interval that has both, the part of
 * the production the site used, min(production, consumption) (what is
 * above the consumption was exported); summed over the intervals starting
 * in each group into self_wh[g->n] (NaN for a group without any).
 */
void history_self(const struct history_spans *prod, const struct history_spans *cons,
		  const struct history_spans *g, double *self_wh);

/*
 * The same with a grid connection's export counter (exp: its energy over
 * the same spans as cons and prod): per span the production used on site
 * P - X (0 at least) into self_wh and the consumption G + P - X into
 * cons_wh, G the site's energy (cons); NaN where one of them has no data.
 */
void history_self_export(const struct history_spans *cons, const struct history_spans *prod,
			 const struct history_spans *exp, double *self_wh, double *cons_wh);
/* Each span's energy, NaN for a span without data, into wh[s->n]. */
void history_known_wh(const struct history_spans *s, double *wh);

/* The meters the site's figures sum: the consumption roots (meters
 * without a parent, role = consumption), only those with aggregate = true
 * when some have it (as the overview's Total), into out (room for
 * cfg->nmeters); the count. */
struct config;
size_t history_site_meters(const struct config *cfg, size_t *out);
/* The production roots (role = production, no parent), likewise. */
size_t history_production_meters(const struct config *cfg, size_t *out);
/* The quantities the site sums: p, q and s totals, and the counters. */
bool history_site_qty(unsigned qty);

/* The local hour of day (0..23) of t_us. */
int history_hour(int64_t t_us);

#endif
