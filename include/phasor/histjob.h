/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_HISTJOB_H
#define PHASOR_HISTJOB_H
/*
 * histjob: view 6's worker. One thread with its own read-only store
 * reader on the buffer (cfg->store.path) turns a request (a meter or the
 * site, a quantity, a range, a number of columns, a second meter) into a
 * result: the plotted columns of both series, the energy per shift, day,
 * week and month from the import counters (e_imp), the peak demand per
 * day and month over the billing interval ([forecast] interval), and the
 * alarm raises by hour of day (history.h does the arithmetic). The UI
 * thread asks (histjob_request: a newer request replaces one not yet
 * started and stops the one running at its next thousand minutes) and
 * takes the result when the job says it is ready (histjob_ready: a redraw
 * then). It never waits on the buffer: the worker hands results over under
 * a mutex. The thread starts at the first request.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/config.h"
#include "phasor/history.h"

struct histjob_req {
	long meter;               /* configuration index; -1: the site */
	long overlay;             /* a second meter drawn over it; -1: none */
	unsigned qty;             /* enum qty_id */
	int64_t from_us, to_us;   /* the range [from, to) */
	int64_t now_us;           /* the instant shown: later minutes are not expected */
	size_t ncols;             /* columns to plot (1..HISTJOB_MAX_COLS) */
};
#define HISTJOB_MAX_COLS 1024

struct histjob_result {
	uint64_t gen;             /* histjob_request's number */
	struct histjob_req req;
	bool failed;
	char error[200];          /* why (the buffer cannot be read) */
	struct history_col *cols; /* req.ncols */
	struct history_col *ocols;/* the overlay's; NULL without one */
	size_t meters;            /* meters summed (the site), 1 for a meter */
	/* energy from the import counters, spans clipped to the range */
	size_t counters;          /* meters with an e_imp counter in the range */
	bool shifts_on;           /* [site] shifts configured */
	struct history_spans shifts, days, weeks, months; /* days, months with peaks */
	/* their cost, each meter's energy at its utility's price (config_price;
	 * NaN: a price missing): [0] shifts, [1] days, [2] weeks, [3] months */
	double *cost[4];
	int64_t interval_us;      /* the billing interval */
	double contract_w;        /* [site] contract_power for the site; NaN: none compared */
	/* the site's production (its role = production roots' e_imp), when
	 * the site is asked: per day and month the energy produced and the
	 * part the site used (history_self over the billing intervals: NaN
	 * where unknown); producers 0: none configured or none in the range */
	size_t producers;
	struct history_spans pdays, pmonths; /* the same bounds as days, months */
	double *self_days, *self_months;     /* Wh, [days.n], [months.n] */
	/* the consumption per day and month (Wh, NaN unknown): the site's
	 * energy, or with a grid connection (grid = true: days and months are
	 * then what the site took from the grid, G) G + P - X, X the grid
	 * meters' export counters (xdays, xmonths), self-consumption P - X */
	double *cons_days, *cons_months;
	bool grid;
	struct history_spans xdays, xmonths;
	unsigned alarm_hours[24]; /* raises by local hour of day */
	size_t raises;
	int64_t took_us;
};

struct histjob;

/* For cfg (borrowed, must outlive the job). NULL path: every result fails
 * with "no buffer". */
struct histjob *histjob_new(const struct config *cfg);
/* Stops the worker (a run stops at once) and frees everything. */
void histjob_free(struct histjob *j);

/* Ask for r (copied); its number (results carry it). UI thread. */
uint64_t histjob_request(struct histjob *j, const struct histjob_req *r);
/* A result the UI has not taken yet is there: worth a redraw. */
bool histjob_ready(struct histjob *j);
/* A request is pending or running. */
bool histjob_busy(struct histjob *j);
/*
 * The newest result (taking a new one when ready), NULL before the first;
 * valid until the next call. UI thread.
 */
const struct histjob_result *histjob_take(struct histjob *j);
void histjob_result_free(struct histjob_result *res);

#endif
