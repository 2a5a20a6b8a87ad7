// SPDX-License-Identifier: MIT
/*
 * histjob: view 6's worker (histjob.h). The UI thread writes a request
 * under the mutex and signals; the worker takes the newest, reads the
 * minutes it needs through its own store reader (store_reader_minutes:
 * the rollups, about 43,200 rows for 30 days of one quantity of one
 * meter), hands them to history.c and publishes the result under the
 * mutex. A newer request makes the running one stop in its minute
 * callback (every 1024 minutes it looks) and its work is dropped, so
 * paging through ranges never queues reads. The KPI day worker's pattern
 * (kpi.c), with requests.
 */
#include "phasor/histjob.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/codec.h"
#include "phasor/log.h"
#include "phasor/qty.h"
#include "phasor/store.h"
#include "phasor/util.h"

#define US INT64_C(1000000)
#define DAY_US (INT64_C(86400) * US)

struct histjob {
	const struct config *cfg;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;                     /* under lock */
	struct histjob_req req;        /* the newest request (under lock) */
	uint64_t req_gen;              /* its number; 0: none */
	uint64_t run_gen;              /* being read (under lock) */
	uint64_t done_gen;             /* the newest result's (under lock) */
	atomic_uint_fast64_t latest;   /* req_gen, for the worker's callbacks */
	struct histjob_result *done;   /* finished, not taken (under lock) */
	atomic_bool ready;
	struct histjob_result *shown;  /* taken by the UI thread */
	struct store_reader *rd;       /* the worker's */
};

void histjob_result_free(struct histjob_result *res)
{
	if (res == NULL)
		return;
	free(res->cols);
	free(res->ocols);
	history_spans_free(&res->shifts);
	history_spans_free(&res->days);
	history_spans_free(&res->weeks);
	history_spans_free(&res->months);
	history_spans_free(&res->pdays);
	history_spans_free(&res->pmonths);
	free(res->self_days);
	free(res->self_months);
	free(res->cons_days);
	free(res->cons_months);
	history_spans_free(&res->xdays);
	history_spans_free(&res->xmonths);
	for (size_t k = 0; k < 4; k++)
		free(res->cost[k]);
	free(res);
}

/* ---- reading ---- */

struct reading {
	struct histjob *j;
	uint64_t gen;
	struct history_series *s;
	size_t calls;
	bool cancelled;
};

static int on_minute(void *ctx, int64_t t_us, const struct codec_minute *m)
{
	struct reading *rd = ctx;
	struct history_minute h = { .t_us = t_us, .n = m->n, .good = m->good, .min = m->min,
				    .max = m->max, .sum = m->sum, .first = m->first,
				    .last = m->last, .rise = m->rise };

	if (++rd->calls % 1024 == 0 &&
	    atomic_load_explicit(&rd->j->latest, memory_order_relaxed) != rd->gen) {
		rd->cancelled = true;
		return 1;
	}
	history_series_add(rd->s, &h);
	return 0;
}

/* One meter's minutes of qty in [from, to) into s (emptied first): 0, 1
 * when a newer request came, -1 with res->error. */
static int read_minutes(struct histjob *j, uint64_t gen, size_t meter, unsigned qty,
			int64_t from, int64_t to, struct history_series *s,
			struct histjob_result *res)
{
	struct reading rd = { .j = j, .gen = gen, .s = s };
	char *cause = NULL;

	s->n = 0;
	if (store_reader_minutes(j->rd, j->cfg->meters[meter].name, qty, from, to, false,
				 on_minute, &rd, &cause) < 0 && !rd.cancelled) {
		snprintf(res->error, sizeof(res->error), "cannot read the buffer: %s",
			 cause != NULL ? cause : "?");
		free(cause);
		return -1;
	}
	free(cause);
	return rd.cancelled ? 1 : 0;
}

/* The plotted series of a meter, or the site's sum, into cols. */
/* Reads end at the instant shown: a replay shows nothing after its cursor. */
static int64_t read_end(const struct histjob_req *q)
{
	return q->now_us + 1 < q->to_us ? q->now_us + 1 : q->to_us;
}

static int read_columns(struct histjob *j, uint64_t gen, long meter, const struct histjob_req *q,
			struct history_col *cols, struct histjob_result *res)
{
	struct history_series one = { 0 }, sum = { 0 }, *each = NULL;
	size_t *ids = util_calloc(j->cfg->nmeters ? j->cfg->nmeters : 1, sizeof(*ids));
	size_t n, i;
	int rc = 0;

	if (meter >= 0) {
		ids[0] = (size_t)meter;
		n = 1;
	} else {
		n = history_site_meters(j->cfg, ids);
	}
	if (meter >= 0) {
		rc = read_minutes(j, gen, (size_t)meter, q->qty, q->from_us, read_end(q), &one, res);
		if (rc == 0)
			history_columns(one.m, one.n, q->from_us, q->to_us, q->now_us, cols, q->ncols);
	} else {
		each = util_calloc(n ? n : 1, sizeof(*each));
		for (i = 0; i < n && rc == 0; i++)
			rc = read_minutes(j, gen, ids[i], q->qty, q->from_us, read_end(q), &each[i],
					 res);
		if (rc == 0) {
			history_site_sum(each, n, &sum);
			history_columns(sum.m, sum.n, q->from_us, q->to_us, q->now_us, cols, q->ncols);
		}
		for (i = 0; i < n; i++)
			history_series_free(&each[i]);
		free(each);
	}
	if (meter == q->meter)
		res->meters = n;
	history_series_free(&one);
	history_series_free(&sum);
	free(ids);
	return rc;
}

/* Spans bounded by the range: the first starts at from, the last ends at to. */
static void clip(struct history_spans *s, int64_t from, int64_t to)
{
	if (s->n == 0)
		return;
	if (s->b[0] < from)
		s->b[0] = from;
	if (s->b[s->n] > to)
		s->b[s->n] = to;
}

/* A meter's energy over spans s into the spans' sum and, at price, into
 * cost (NULL: none kept). */
static void add_spans(const struct history_series *e, int64_t before_us, struct history_spans *s,
		      double price, double *cost)
{
	struct history_spans one;
	size_t k;

	if (cost == NULL || s->n == 0) {
		history_energy(e->m, e->n, before_us, s);
		return;
	}
	history_spans_alloc(&one, s->n, false);
	memcpy(one.b, s->b, (s->n + 1) * sizeof(*s->b));
	history_energy(e->m, e->n, before_us, &one);
	for (k = 0; k < s->n; k++) {
		s->wh[k] += one.wh[k];
		s->has[k] |= one.has[k];
		cost[k] += one.wh[k] / 1000 * price;
	}
	history_spans_free(&one);
}

/*
 * The counters qty of meters ids[0..n) added to the calendar spans (from
 * the day before the range), with each meter's energy at its utility's
 * price into costs[k] (NULL: no cost), and to the billing intervals iv
 * (from the interval before; NULL: none); *found counts the meters that
 * had any. 0, or read_minutes' nonzero.
 */
static int add_counters(struct histjob *j, uint64_t gen, const struct histjob_req *q,
			unsigned qty, const size_t *ids, size_t n,
			struct history_spans *const *spans, double *const *costs, size_t nspans,
			struct history_spans *iv, size_t *found, struct histjob_result *res)
{
	struct history_series s = { 0 };
	size_t i, k;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		double price = config_price(j->cfg, j->cfg->meters[ids[i]].utility);

		rc = read_minutes(j, gen, ids[i], qty, q->from_us - DAY_US, read_end(q), &s, res);
		if (rc != 0 || s.n == 0)
			continue;
		(*found)++;
		for (k = 0; k < nspans; k++)
			add_spans(&s, q->from_us - DAY_US, spans[k], price,
				  costs != NULL ? costs[k] : NULL);
		if (iv != NULL)
			history_energy(s.m, s.n, q->from_us - res->interval_us, iv);
	}
	history_series_free(&s);
	return rc;
}

/*
 * With a grid connection: its export counters per day and month, and per
 * day and month the production used on site P - X and the consumption
 * G + P - X.
 */
static int read_export(struct histjob *j, uint64_t gen, const struct histjob_req *q,
		       struct histjob_result *res)
{
	const struct config *cfg = j->cfg;
	size_t *ids = util_calloc(cfg->nmeters ? cfg->nmeters : 1, sizeof(*ids));
	size_t n = history_site_meters(cfg, ids), i, m = 0, found = 0;
	struct history_spans *spans[] = { &res->xdays, &res->xmonths };
	int rc;

	for (i = 0; i < n; i++)
		if (cfg->meters[ids[i]].grid)
			ids[m++] = ids[i];
	res->grid = m > 0;
	history_days(q->from_us, q->to_us, &res->xdays, false);
	history_months(q->from_us, q->to_us, &res->xmonths, false);
	clip(&res->xdays, q->from_us, q->to_us);
	clip(&res->xmonths, q->from_us, q->to_us);
	rc = add_counters(j, gen, q, QTY_E_EXP, ids, m, spans, NULL, 2, NULL, &found, res);
	history_self_export(&res->days, &res->pdays, &res->xdays, res->self_days, res->cons_days);
	history_self_export(&res->months, &res->pmonths, &res->xmonths, res->self_months,
			    res->cons_months);
	free(ids);
	return rc;
}

/*
 * The site's production per day and month from the production roots'
 * e_imp, and what of it the site used per billing interval against the
 * consumption's intervals cons (history_self).
 */
static int read_production(struct histjob *j, uint64_t gen, const struct histjob_req *q,
			   const struct history_spans *cons, struct histjob_result *res)
{
	const struct config *cfg = j->cfg;
	struct history_spans piv = { 0 };
	size_t *ids = util_calloc(cfg->nmeters ? cfg->nmeters : 1, sizeof(*ids));
	size_t n = history_production_meters(cfg, ids);
	int rc = 0;

	if (n == 0)
		goto out;
	history_days(q->from_us, q->to_us, &res->pdays, false);
	history_months(q->from_us, q->to_us, &res->pmonths, false);
	history_intervals(q->from_us, q->to_us, res->interval_us, &piv);
	clip(&res->pdays, q->from_us, q->to_us);
	clip(&res->pmonths, q->from_us, q->to_us);
	clip(&piv, q->from_us, q->to_us);
	{
		struct history_spans *spans[] = { &res->pdays, &res->pmonths };

		rc = add_counters(j, gen, q, QTY_E_IMP, ids, n, spans, NULL, 2, &piv,
				  &res->producers, res);
	}
	res->self_days = util_calloc(res->days.n ? res->days.n : 1, sizeof(double));
	res->self_months = util_calloc(res->months.n ? res->months.n : 1, sizeof(double));
	res->cons_days = util_calloc(res->days.n ? res->days.n : 1, sizeof(double));
	res->cons_months = util_calloc(res->months.n ? res->months.n : 1, sizeof(double));
	if (rc == 0 && config_has_grid(cfg)) {
		rc = read_export(j, gen, q, res);
	} else {
		history_self(&piv, cons, &res->days, res->self_days);
		history_self(&piv, cons, &res->months, res->self_months);
		history_known_wh(&res->days, res->cons_days);
		history_known_wh(&res->months, res->cons_months);
	}
out:
	history_spans_free(&piv);
	free(ids);
	return rc;
}

/*
 * The energy tables and the peak demand from the import counters of the
 * series' meters. Days, weeks, months and shifts count from the last
 * value of the day before the range (the rise into the first span counts
 * when that day had data); billing intervals from the interval before.
 */
static int read_energy(struct histjob *j, uint64_t gen, const struct histjob_req *q,
		       struct histjob_result *res)
{
	const struct config *cfg = j->cfg;
	struct history_spans iv = { 0 };
	size_t *ids = util_calloc(cfg->nmeters ? cfg->nmeters : 1, sizeof(*ids));
	size_t n;
	int rc = 0;

	if (q->meter >= 0) {
		ids[0] = (size_t)q->meter;
		n = 1;
	} else {
		n = history_site_meters(cfg, ids);
	}
	res->interval_us = cfg->forecast.interval_ms > 0 ? cfg->forecast.interval_ms * 1000
							 : 15 * 60 * US;
	res->contract_w = q->meter < 0 ? cfg->site.contract_power : NAN;
	res->shifts_on = cfg->site.nshifts > 0 &&
			 history_shifts(q->from_us, q->to_us, cfg->site.shift_min, cfg->site.nshifts,
					&res->shifts);
	history_days(q->from_us, q->to_us, &res->days, true);
	history_weeks(q->from_us, q->to_us, &res->weeks);
	history_months(q->from_us, q->to_us, &res->months, true);
	history_intervals(q->from_us, q->to_us, res->interval_us, &iv);
	clip(&res->shifts, q->from_us, q->to_us);
	clip(&res->days, q->from_us, q->to_us);
	clip(&res->weeks, q->from_us, q->to_us);
	clip(&res->months, q->from_us, q->to_us);
	clip(&iv, q->from_us, q->to_us);
	{
		struct history_spans *spans[] = { &res->shifts, &res->days, &res->weeks,
						  &res->months };

		for (size_t k = 0; k < 4; k++)
			res->cost[k] = util_calloc(spans[k]->n ? spans[k]->n : 1, sizeof(double));
		rc = add_counters(j, gen, q, QTY_E_IMP, ids, n, spans, res->cost, 4, &iv,
				  &res->counters, res);
	}
	if (rc == 0) {
		history_peaks(&iv, res->contract_w, &res->days);
		history_peaks(&iv, res->contract_w, &res->months);
	}
	if (rc == 0 && q->meter < 0)
		rc = read_production(j, gen, q, &iv, res);
	history_spans_free(&iv);
	free(ids);
	return rc;
}

struct alarm_count {
	struct histjob_result *res;
	const char *meter;        /* NULL: every meter (the site) */
};

static int on_alarm(void *ctx, const struct store_alarm_event *e)
{
	struct alarm_count *a = ctx;

	if (e->event == NULL || strcmp(e->event, "raise") != 0)
		return 0;
	if (a->meter != NULL && (e->meter == NULL || strcmp(e->meter, a->meter) != 0))
		return 0;
	a->res->alarm_hours[history_hour(e->t_us)]++;
	a->res->raises++;
	return 0;
}

static void run(struct histjob *j, uint64_t gen, const struct histjob_req *q)
{
	struct histjob_result *res = util_calloc(1, sizeof(*res));
	struct alarm_count ac = { .res = res };
	int64_t t0 = util_mono_us();
	char *cause = NULL;
	int rc = 0;

	res->gen = gen;
	res->req = *q;
	res->cols = util_calloc(q->ncols, sizeof(*res->cols));
	if (q->overlay >= 0)
		res->ocols = util_calloc(q->ncols, sizeof(*res->ocols));
	if (j->cfg->store.path == NULL) {
		snprintf(res->error, sizeof(res->error), "no buffer ([store] path) to read");
		rc = -1;
	} else if (j->rd == NULL && (j->rd = store_reader_open(j->cfg->store.path, &cause)) == NULL) {
		snprintf(res->error, sizeof(res->error), "cannot open the buffer: %s",
			 cause != NULL ? cause : "?");
		rc = -1;
	}
	free(cause);
	cause = NULL;
	if (rc == 0)
		rc = read_columns(j, gen, q->meter, q, res->cols, res);
	if (rc == 0 && q->overlay >= 0)
		rc = read_columns(j, gen, q->overlay, q, res->ocols, res);
	if (rc == 0)
		rc = read_energy(j, gen, q, res);
	if (rc == 0) {
		ac.meter = q->meter >= 0 ? j->cfg->meters[q->meter].name : NULL;
		if (store_reader_alarm_events(j->rd, q->from_us, read_end(q), on_alarm, &ac, &cause) < 0) {
			snprintf(res->error, sizeof(res->error), "cannot read the alarm journal: %s",
				 cause != NULL ? cause : "?");
			rc = -1;
		}
		free(cause);
	}
	if (rc > 0) { /* a newer request: this one is not wanted any more */
		histjob_result_free(res);
		return;
	}
	res->failed = rc < 0;
	if (rc < 0) {
		log_warn("history: %s", res->error);
		/* the next request opens the file again (it may have been replaced) */
		store_reader_close(j->rd);
		j->rd = NULL;
	}
	res->took_us = util_mono_us() - t0;
	pthread_mutex_lock(&j->lock);
	histjob_result_free(j->done);
	j->done = res;
	j->done_gen = gen;
	atomic_store_explicit(&j->ready, true, memory_order_release);
	pthread_mutex_unlock(&j->lock);
}

static void *worker_main(void *arg)
{
	struct histjob *j = arg;

	util_thread_name("history");

	pthread_mutex_lock(&j->lock);
	while (!j->stop) {
		struct histjob_req q;
		uint64_t gen;

		if (j->req_gen == j->run_gen) {
			pthread_cond_wait(&j->cond, &j->lock);
			continue;
		}
		q = j->req;
		gen = j->run_gen = j->req_gen;
		pthread_mutex_unlock(&j->lock);
		run(j, gen, &q);
		pthread_mutex_lock(&j->lock);
	}
	pthread_mutex_unlock(&j->lock);
	store_reader_close(j->rd);
	j->rd = NULL;
	return NULL;
}

/* ---- the UI thread's side ---- */

struct histjob *histjob_new(const struct config *cfg)
{
	struct histjob *j = util_calloc(1, sizeof(*j));

	j->cfg = cfg;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	atomic_init(&j->latest, 0);
	atomic_init(&j->ready, false);
	return j;
}

void histjob_free(struct histjob *j)
{
	if (j == NULL)
		return;
	if (j->started) {
		pthread_mutex_lock(&j->lock);
		j->stop = true;
		/* the running read stops at its next check */
		atomic_store(&j->latest, UINT64_MAX);
		pthread_cond_signal(&j->cond);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->thread, NULL);
	}
	histjob_result_free(j->done);
	histjob_result_free(j->shown);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

uint64_t histjob_request(struct histjob *j, const struct histjob_req *r)
{
	uint64_t gen;

	if (!j->started) {
		sigset_t all, old;
		int err;

		/* signals are for the UI thread's signalfd */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		err = pthread_create(&j->thread, NULL, worker_main, j);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (err != 0)
			util_fail("history: cannot start its worker: %s", strerror(err));
		j->started = true;
	}
	pthread_mutex_lock(&j->lock);
	j->req = *r;
	if (j->req.ncols < 1)
		j->req.ncols = 1;
	if (j->req.ncols > HISTJOB_MAX_COLS)
		j->req.ncols = HISTJOB_MAX_COLS;
	gen = ++j->req_gen;
	atomic_store_explicit(&j->latest, gen, memory_order_relaxed);
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return gen;
}

bool histjob_ready(struct histjob *j)
{
	return j != NULL && atomic_load_explicit(&j->ready, memory_order_acquire);
}

bool histjob_busy(struct histjob *j)
{
	bool busy;

	if (j == NULL)
		return false;
	pthread_mutex_lock(&j->lock);
	busy = j->req_gen != j->done_gen;
	pthread_mutex_unlock(&j->lock);
	return busy;
}

const struct histjob_result *histjob_take(struct histjob *j)
{
	if (j == NULL)
		return NULL;
	if (atomic_load_explicit(&j->ready, memory_order_acquire)) {
		pthread_mutex_lock(&j->lock);
		if (j->done != NULL) {
			histjob_result_free(j->shown);
			j->shown = j->done;
			j->done = NULL;
		}
		atomic_store_explicit(&j->ready, false, memory_order_relaxed);
		pthread_mutex_unlock(&j->lock);
	}
	return j->shown;
}
