/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_FCJOB_H
#define PHASOR_FCJOB_H
/*
 * fcjob: the load forecasts of a running phasor, in a thread of their own
 * (never the hub's or the UI's). One worker with its own read-only
 * connection to the buffer:
 *   - maker (the process that writes the buffer: phasor record, or the
 *     console embedded): at start, after each local midnight ([site]
 *     timezone, the process's TZ) and on request, forecasts the site and
 *     every meter with at least a day of history from now to the end of
 *     tomorrow (plant/forecast.c) and hands each forecast to the store
 *     writer (store_put_forecast); a request of an attached console is
 *     marked done once its forecasts are committed;
 *   - always: every FCJOB_REFRESH_MS and after each run, reads the actual
 *     series (incrementally after the first read) and the stored
 *     forecasts, and builds a trend set (trend.h) for view 4 and the
 *     "consumption nobody expected" alarm; an attached console thus
 *     follows the recorder's forecasts through the buffer.
 * The owner thread takes the newest set with fcjob_take.
 */
#include <stdbool.h>
#include <stdint.h>

#include "phasor/config.h"
#include "phasor/store.h"
#include "phasor/trend.h"

#define FCJOB_REFRESH_MS 30000

struct fcjob;

struct fcjob_opts {
	const char *path;        /* the buffer */
	struct store *store;     /* the writer: make forecasts; NULL: only follow them */
	int64_t refresh_ms;      /* 0: FCJOB_REFRESH_MS ($PHASOR_FCJOB_REFRESH_MS overrides) */
	/* a replay's: the trends at the instant fcjob_set_now gives (the
	 * series up to it, the forecast current then), never the clock's;
	 * makes no forecast (store ignored) */
	bool at_cursor;
};

/* A job for cfg (borrowed; outlives the job). */
struct fcjob *fcjob_new(const struct config *cfg, const struct fcjob_opts *o);
/* Start the worker. 0, or -1 with *cause. */
int fcjob_start(struct fcjob *j, char **cause);
/* at_cursor: the instant to show (a replay's cursor); the set is built
 * again when it moved back or a minute on. Any thread. */
void fcjob_set_now(struct fcjob *j, int64_t t_us);
/*
 * Regenerate now (maker); request is the alarm_requests id to mark done
 * once stored (0: none). Not a maker: the set says busy until a forecast
 * newer than now is seen (the recorder was asked). Any thread.
 */
void fcjob_request(struct fcjob *j, int64_t request);
/*
 * The newest trend set (NULL before the first): owned by the job, valid
 * until the second fcjob_take after this one, or fcjob_free. Owner thread.
 */
const struct trend_set *fcjob_take(struct fcjob *j);
/* Stop and join the worker (a run under way finishes first). */
void fcjob_stop(struct fcjob *j);
void fcjob_free(struct fcjob *j);

/*
 * One meter's series from the buffer: the mean power of each interval of
 * step_us on the UTC grid, by its e_imp counter's differences, else its
 * p_total samples (forecast_series_counter / _power), from the samples in
 * [from_us, to_us); the interval of the last sample counts when the data
 * reaches its last tenth. s->n 0 when there are fewer than two good
 * samples. 0, or -1 with *cause. Also phasor forecast --db.
 */
int fcjob_meter_series(struct store_reader *rd, const char *meter, int64_t step_us,
		       int64_t from_us, int64_t to_us, struct trend_series *s, char **cause);
/* The same for n meters at once (out[i] for meters[i], each freed by the
 * caller): one read of the buffer's counters for all, then one of p_total
 * for those without a counter. */
int fcjob_meters_series(struct store_reader *rd, const char *const *meters, size_t n,
			int64_t step_us, int64_t from_us, int64_t to_us, struct trend_series *out,
			char **cause);
/*
 * sum += m on the union of the two grids (same step): an interval missing
 * on either is missing on the sum. An empty sum takes m. m is freed.
 */
void fcjob_series_add(struct trend_series *sum, struct trend_series *m);

#endif
