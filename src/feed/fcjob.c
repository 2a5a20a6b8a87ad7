// SPDX-License-Identifier: MIT
/*
 * fcjob: the forecast worker of a running phasor (fcjob.h). One thread,
 * its own read-only buffer connection; the forecasts it makes go to the
 * store writer like any row, the trend sets it builds go to the owner
 * thread through a mutex-protected hand-over (the owner never waits for a
 * fit or a read).
 */
#include "phasor/fcjob.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/forecast.h"
#include "phasor/log.h"
#include "phasor/util.h"

#define US INT64_C(1000000)
#define DAY_US (INT64_C(86400) * US)
#define MAX_INTERVALS ((size_t)20 * 1000 * 1000)
#define MAX_REQUESTS 64
#define FCJOB_POLL_MS 2000       /* new forecasts in the buffer looked for */
#define AT_STEP_US 60000000LL    /* a replay's trends built again when the cursor moved a minute */

/* One series the job forecasts: the site (index 0) or a meter. */
struct target {
	char *name;               /* "" the site */
	int meter;                /* config index; -1 the site */
	struct trend_series s;    /* its history (a meter's; the site's is summed) */
	char note[160];           /* of the last run: the engine's note or why none */
};

struct fcjob {
	const struct config *cfg;
	char *path;
	struct store *store;
	int64_t refresh_us, step_us, history_us;
	struct target *t;
	size_t nt;
	const char *aggregate;    /* the configuration's aggregate meter, or NULL */
	struct store_reader *rd;  /* worker only */
	int64_t loaded_day0;      /* worker: the local day the series were read in full for */
	int64_t made_day0;        /* worker: the local day of the last run */
	int64_t last_fc_seq;
	bool at_mode;             /* fcjob_opts.at_cursor: now is at_us, not the clock */
	int64_t series_now;       /* worker: the instant the series were read up to */

	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	bool stopping, want_run;
	int64_t requests[MAX_REQUESTS];
	size_t nreq;
	int64_t expect_after_us;  /* not a maker: asked at; busy until a newer forecast */
	int64_t at_us, built_at_us; /* at_mode: the instant asked; the one built (0: none) */
	struct trend_set *pending;/* built, not taken yet */
	uint64_t gen;
	/* owner: the set handed out last, and the one before (a pointer taken
	 * before the last fcjob_take stays valid) */
	struct trend_set *current, *previous;
};

/* ---- series from the buffer ---- */

/* A meter's good values (a counter's or p_total's) on the grid of step_us. */
static void grid_series(const struct store_values *v, bool counter, int64_t step_us,
			struct trend_series *s)
{
	memset(s, 0, sizeof(*s));
	s->step_us = step_us;
	if (v->n < 2)
		return;
	s->t0_us = v->t_us[0] - ((v->t_us[0] % step_us) + step_us) % step_us;
	/* The interval holding the last sample counts when the data reaches
	 * into its last tenth: otherwise it is still running. */
	s->n = (size_t)((v->t_us[v->n - 1] - s->t0_us) / step_us);
	if ((v->t_us[v->n - 1] - s->t0_us) % step_us >= step_us * 9 / 10)
		s->n++;
	if (s->n > MAX_INTERVALS)
		s->n = 0;
	if (s->n > 0) {
		s->y = util_malloc(s->n * sizeof(double));
		if (counter)
			forecast_series_counter(v->t_us, v->value, v->n, s->t0_us, step_us, s->n, s->y);
		else
			forecast_series_power(v->t_us, v->value, v->n, s->t0_us, step_us, s->n, s->y);
	}
}

int fcjob_meters_series(struct store_reader *rd, const char *const *meters, size_t n,
			int64_t step_us, int64_t from_us, int64_t to_us, struct trend_series *out,
			char **cause)
{
	struct store_values *v = util_calloc(n > 0 ? n : 1, sizeof(*v));
	const char **power = util_calloc(n > 0 ? n : 1, sizeof(*power));
	size_t *which = util_calloc(n > 0 ? n : 1, sizeof(*which));
	size_t i, np = 0;
	int rc = -1;

	for (i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	/* every counter in one pass; the meters without one, p_total in a second */
	if (store_reader_good_values_many(rd, meters, n, "e_imp", from_us, to_us, v, cause) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (v[i].n >= 2) {
			grid_series(&v[i], true, step_us, &out[i]);
		} else {
			out[i].step_us = step_us;
			power[np] = meters[i];
			which[np++] = i;
		}
		store_values_free(&v[i]);
	}
	if (np > 0) {
		if (store_reader_good_values_many(rd, power, np, "p_total", from_us, to_us, v,
						  cause) < 0)
			goto out;
		for (i = 0; i < np; i++) {
			grid_series(&v[i], false, step_us, &out[which[i]]);
			store_values_free(&v[i]);
		}
	}
	rc = 0;
out:
	if (rc < 0)
		for (i = 0; i < n; i++) {
			free(out[i].y);
			memset(&out[i], 0, sizeof(out[i]));
		}
	free(v);
	free(power);
	free(which);
	return rc;
}

int fcjob_meter_series(struct store_reader *rd, const char *meter, int64_t step_us,
		       int64_t from_us, int64_t to_us, struct trend_series *s, char **cause)
{
	return fcjob_meters_series(rd, &meter, 1, step_us, from_us, to_us, s, cause);
}

void fcjob_series_add(struct trend_series *sum, struct trend_series *m)
{
	int64_t step = m->step_us, t0, e1, e2;
	size_t n, k;
	double *y;

	if (m->n == 0) {
		free(m->y);
		memset(m, 0, sizeof(*m));
		return;
	}
	if (sum->n == 0) {
		free(sum->y);
		*sum = *m;
		memset(m, 0, sizeof(*m));
		return;
	}
	t0 = m->t0_us < sum->t0_us ? m->t0_us : sum->t0_us;
	e1 = sum->t0_us + (int64_t)sum->n * step;
	e2 = m->t0_us + (int64_t)m->n * step;
	n = (size_t)(((e1 > e2 ? e1 : e2) - t0) / step);
	y = util_malloc(n * sizeof(double));
	for (k = 0; k < n; k++) {
		int64_t t = t0 + (int64_t)k * step;
		double a = NAN, b = NAN;

		if (t >= sum->t0_us && t < e1)
			a = sum->y[(t - sum->t0_us) / step];
		if (t >= m->t0_us && t < e2)
			b = m->y[(t - m->t0_us) / step];
		y[k] = a + b;
	}
	free(sum->y);
	free(m->y);
	memset(m, 0, sizeof(*m));
	sum->y = y;
	sum->n = n;
	sum->t0_us = t0;
}

/* ---- local time (the process's TZ: [site] timezone) ---- */

static int64_t local_midnight(int64_t t_us, int add_days)
{
	time_t t = (time_t)(t_us / US);
	struct tm tm;

	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_mday += add_days;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * US;
}

static int local_hour(int64_t t_us)
{
	time_t t = (time_t)(t_us / US);
	struct tm tm;

	localtime_r(&t, &tm);
	return tm.tm_hour;
}

/* ---- the job ---- */

struct fcjob *fcjob_new(const struct config *cfg, const struct fcjob_opts *o)
{
	struct fcjob *j = util_calloc(1, sizeof(*j));
	const char *env = getenv("PHASOR_FCJOB_REFRESH_MS");
	size_t i;

	j->cfg = cfg;
	j->path = util_strdup(o->path);
	j->store = o->at_cursor ? NULL : o->store;
	j->at_mode = o->at_cursor;
	j->refresh_us = (o->refresh_ms > 0 ? o->refresh_ms : FCJOB_REFRESH_MS) * 1000;
	if (env != NULL && atol(env) > 0)
		j->refresh_us = (int64_t)atol(env) * 1000;
	j->step_us = cfg->forecast.interval_ms * 1000;
	if (j->step_us <= 0)
		j->step_us = 900 * US;
	j->history_us = cfg->forecast.history_ms * 1000;
	if (j->history_us <= 0)
		j->history_us = 56 * DAY_US;
	j->nt = cfg->nmeters + 1;
	j->t = util_calloc(j->nt, sizeof(*j->t));
	j->t[0].name = util_strdup("");
	j->t[0].meter = -1;
	for (i = 0; i < cfg->nmeters; i++) {
		j->t[i + 1].name = util_strdup(cfg->meters[i].name);
		j->t[i + 1].meter = (int)i;
		j->t[i + 1].s.step_us = j->step_us;
		/* an aggregate root (a sub-board's aggregate is not the site) */
		if (cfg->meters[i].aggregate && config_in_site(cfg, i) && j->aggregate == NULL)
			j->aggregate = cfg->meters[i].name;
	}
	j->t[0].s.step_us = j->step_us;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->wake, NULL);
	return j;
}

/* Read the meters' series: in full from the history's start (full), else
 * the intervals from the last one known on, merged in. */
static int read_series(struct fcjob *j, int64_t now, bool full, char **cause)
{
	/* Two batches, each one pass of the buffer for every meter in it:
	 * the meters read in full, and those extended from their last
	 * intervals (from the earliest of their starts). */
	const char **names = util_calloc(j->nt, sizeof(*names));
	size_t *idx = util_calloc(j->nt, sizeof(*idx));
	struct trend_series *ms = util_calloc(j->nt, sizeof(*ms));
	int pass, rc = -1;
	size_t i, k, b;

	for (pass = 0; pass < 2; pass++) {
		int64_t from = INT64_MAX;
		size_t nb = 0;

		for (i = 1; i < j->nt; i++) {
			struct target *t = &j->t[i];
			bool whole = full || t->s.n == 0;
			int64_t f;

			if (whole != (pass == 0))
				continue;
			if (whole) {
				f = now - j->history_us - 2 * DAY_US;
			} else {
				/* the last known interval and the one before it again: a
				 * counter's first pair of a read is only complete from
				 * its second interval */
				f = t->s.t0_us + (int64_t)(t->s.n > 2 ? t->s.n - 2 : 0) * j->step_us -
				    j->step_us;
			}
			if (f < from)
				from = f;
			names[nb] = t->name;
			idx[nb++] = i;
		}
		if (nb == 0)
			continue;
		{
			int64_t t0 = util_mono_us();

			if (fcjob_meters_series(j->rd, names, nb, j->step_us, from,
						j->at_mode ? now + 1 : INT64_MAX, ms, cause) < 0)
				goto out;
			if (pass == 0)
				log_info("forecast: the series of %zu meters (%.0f days) read in %.0f ms",
					 nb, (double)(now - from) / (double)DAY_US,
					 (double)(util_mono_us() - t0) / 1000.0);
		}
		for (b = 0; b < nb; b++) {
			struct target *t = &j->t[idx[b]];
			struct trend_series *m = &ms[b];

			if (pass == 0) {
				free(t->s.y);
				t->s = *m;
				memset(m, 0, sizeof(*m));
				continue;
			}
			if (m->n > 0) {
				int64_t end = m->t0_us + (int64_t)m->n * j->step_us;
				size_t n = end > t->s.t0_us ? (size_t)((end - t->s.t0_us) / j->step_us) : 0;

				if (n > t->s.n) {
					t->s.y = util_reallocarray(t->s.y, n, sizeof(double));
					for (k = t->s.n; k < n; k++)
						t->s.y[k] = NAN;
					t->s.n = n;
				}
				for (k = 0; k < m->n; k++) {
					int64_t ts = m->t0_us + (int64_t)k * j->step_us;

					if (ts >= t->s.t0_us && isfinite(m->y[k]))
						t->s.y[(ts - t->s.t0_us) / j->step_us] = m->y[k];
				}
			}
			free(m->y);
			memset(m, 0, sizeof(*m));
			/* keep the history and two days more */
			if (t->s.n > (size_t)((j->history_us + 2 * DAY_US) / j->step_us)) {
				size_t drop = t->s.n - (size_t)((j->history_us + 2 * DAY_US) / j->step_us);

				memmove(t->s.y, t->s.y + drop, (t->s.n - drop) * sizeof(double));
				t->s.n -= drop;
				t->s.t0_us += (int64_t)drop * j->step_us;
			}
		}
	}
	rc = 0;
out:
	free(names);
	free(idx);
	free(ms);
	if (rc < 0)
		return -1;
	/* the site: the aggregate meter, else the sum of the consumption roots
	 * (every meter without a meter tree: config_in_site) */
	free(j->t[0].s.y);
	memset(&j->t[0].s, 0, sizeof(j->t[0].s));
	j->t[0].s.step_us = j->step_us;
	for (i = 1; i < j->nt; i++) {
		struct trend_series copy = j->t[i].s;

		if (j->aggregate != NULL ? strcmp(j->t[i].name, j->aggregate) != 0
					 : !config_in_site(j->cfg, (size_t)j->t[i].meter))
			continue;
		if (copy.n == 0)
			continue;
		copy.y = util_malloc(copy.n * sizeof(double));
		memcpy(copy.y, j->t[i].s.y, copy.n * sizeof(double));
		fcjob_series_add(&j->t[0].s, &copy);
	}
	return 0;
}

/* Forecast target t from origin (an interval start) to day2; store it. */
static void make_one(struct fcjob *j, struct target *t, int64_t made, int64_t origin,
		     int64_t day2)
{
	const struct trend_series *s = &t->s;
	size_t S = (size_t)(DAY_US / j->step_us), n, h, i, keep;
	int64_t t0, start = util_mono_us();
	struct forecast_cal *cal;
	struct forecast_input in;
	struct forecast_result res;
	double *y;

	t->note[0] = '\0';
	if (s->n == 0 || origin <= s->t0_us) {
		util_strlcpy(t->note, "no data in the buffer", sizeof(t->note));
		return;
	}
	if (S > FORECAST_MAX_SLOTS || DAY_US % j->step_us != 0) {
		util_strlcpy(t->note, "[forecast] interval does not divide a day", sizeof(t->note));
		return;
	}
	/* the history before origin: the data, then gaps up to origin */
	n = (size_t)((origin - s->t0_us) / j->step_us);
	keep = (size_t)(j->history_us / j->step_us);
	if (n > keep)
		n = keep;
	t0 = origin - (int64_t)n * j->step_us;
	h = (size_t)((day2 - origin + j->step_us - 1) / j->step_us);
	y = util_malloc(n * sizeof(double));
	for (i = 0; i < n; i++) {
		int64_t ts = t0 + (int64_t)i * j->step_us;
		size_t k = (size_t)((ts - s->t0_us) / j->step_us);

		y[i] = ts >= s->t0_us && k < s->n ? s->y[k] : NAN;
	}
	cal = util_malloc((n + h) * sizeof(*cal));
	for (i = 0; i < n + h; i++) {
		time_t tt = (time_t)((t0 + (int64_t)i * j->step_us) / US);
		struct tm tm;

		localtime_r(&tt, &tm);
		cal[i] = forecast_cal_from_tm(&tm, (int)(j->step_us / US), j->cfg->forecast.holidays,
					      j->cfg->forecast.nholidays);
	}
	in = (struct forecast_input){ y, n, cal, h, (int)S, 0, -1 };
	memset(&res, 0, sizeof(res));
	switch (forecast_run(&in, &res)) {
	case FORECAST_OK:
	case FORECAST_SHORT: {
		struct store_forecast f;
		int64_t *ts = util_malloc(h * sizeof(int64_t));

		for (i = 0; i < h; i++)
			ts[i] = origin + (int64_t)i * j->step_us;
		memset(&f, 0, sizeof(f));
		f.made_us = made;
		f.meter = t->name;
		f.method = (char *)forecast_method_name(res.method);
		f.step_us = j->step_us;
		f.took_us = util_mono_us() - start;
		f.n = h;
		f.t_us = ts;
		f.point = res.point;
		f.lo80 = res.lo80;
		f.hi80 = res.hi80;
		f.lo95 = res.lo95;
		f.hi95 = res.hi95;
		store_put_forecast(j->store, &f);
		free(ts);
		util_strlcpy(t->note, res.message, sizeof(t->note));
		break;
	}
	default:
		util_strlcpy(t->note, res.message, sizeof(t->note));
		break;
	}
	forecast_result_free(&res);
	free(cal);
	free(y);
}

/* A run: every target, then the requests it answers, once committed. */
static void make_all(struct fcjob *j, int64_t now, int64_t day2, const int64_t *req, size_t nreq)
{
	int64_t origin = now - ((now % j->step_us) + j->step_us) % j->step_us;
	int64_t start = util_mono_us();
	size_t i;

	for (i = 0; i < j->nt; i++)
		make_one(j, &j->t[i], now, origin, day2);
	if (store_flush(j->store, 30000) < 0)
		log_warn("forecast: the forecasts of %s are not written yet", j->path);
	for (i = 0; i < nreq; i++)
		store_put_request_applied(j->store, req[i]);
	log_info("forecast: %zu series forecast in %.0f ms", j->nt,
		 (double)(util_mono_us() - start) / 1000.0);
}

/* The trend of target t from the buffer's stored forecasts. */
static int build_one(struct fcjob *j, struct target *t, int64_t now, int64_t day0, int64_t day2,
		     struct trend *out, char **cause)
{
	struct store_forecast cur, past;
	struct trend_input in;
	int64_t from = now - TREND_MAPE_DAYS * DAY_US;
	int rc;

	rc = store_reader_forecast_at(j->rd, t->name, now, &cur, cause);
	if (rc < 0)
		return -1;
	if (store_reader_forecast_past(j->rd, t->name, from < day0 ? from : day0, day2, &past,
				       cause) < 0) {
		store_forecast_free(&cur);
		return -1;
	}
	memset(&in, 0, sizeof(in));
	in.name = t->name;
	in.now_us = now;
	in.day0_us = day0;
	in.day2_us = day2;
	in.local_hour = local_hour;
	in.actual = &t->s;
	in.step_us = j->step_us;
	in.fc_t = past.t_us;
	in.fc_point = past.point;
	in.fc_lo80 = past.lo80;
	in.fc_hi80 = past.hi80;
	in.fc_lo95 = past.lo95;
	in.fc_hi95 = past.hi95;
	in.fc_n = past.n;
	in.has_current = rc == 1 && cur.n > 0 && cur.t_us[cur.n - 1] >= now - j->step_us;
	in.method = cur.method;
	in.made_us = cur.made_us;
	in.took_us = cur.took_us;
	in.contract_w = t->meter < 0 ? j->cfg->site.contract_power : NAN;
	in.message = t->note[0] != '\0' ? t->note : NULL;
	if (!in.has_current && t->note[0] == '\0')
		in.message = t->s.n == 0 ? "no data in the buffer" : "no forecast stored yet";
	trend_build(out, &in);
	store_forecast_free(&cur);
	store_forecast_free(&past);
	return 0;
}

static void publish(struct fcjob *j, struct trend_set *set)
{
	pthread_mutex_lock(&j->lock);
	set->gen = ++j->gen;
	set->busy = j->want_run || (j->expect_after_us > 0 && set->run_made_us < j->expect_after_us);
	if (j->expect_after_us > 0 && set->run_made_us >= j->expect_after_us)
		j->expect_after_us = 0;
	trend_set_free(j->pending);
	j->pending = set;
	pthread_mutex_unlock(&j->lock);
}

static struct trend_set *build_all(struct fcjob *j, int64_t now, int64_t day0, int64_t day2,
				   const char *note)
{
	struct trend_set *set = util_calloc(1, sizeof(*set));
	char *cause = NULL;
	size_t i;

	set->built_us = now;
	set->contract_w = j->cfg->site.contract_power;
	set->maker = j->store != NULL;
	set->t = util_calloc(j->nt, sizeof(*set->t));
	set->n = j->nt;
	if (note != NULL)
		util_strlcpy(set->note, note, sizeof(set->note));
	for (i = 0; i < j->nt; i++) {
		struct trend *t = &set->t[i];

		if (j->rd == NULL || build_one(j, &j->t[i], now, day0, day2, t, &cause) < 0) {
			trend_build(t, &(struct trend_input){ .name = j->t[i].name, .now_us = now,
							      .step_us = j->step_us });
			if (cause != NULL && set->note[0] == '\0')
				util_strlcpy(set->note, cause, sizeof(set->note));
			free(cause);
			cause = NULL;
			continue;
		}
		if (t->made_us > set->run_made_us) {
			set->run_made_us = t->made_us;
			set->run_took_us = 0;
			set->run_count = 0;
		}
		if (t->made_us == set->run_made_us && t->made_us > 0) {
			set->run_took_us += t->took_us;
			set->run_count++;
		}
	}
	return set;
}

/* The newest forecast seq in the buffer (0: none or unreadable). */
static int64_t forecast_seq(struct fcjob *j)
{
	struct store_seqs seqs;
	char *cause = NULL;

	if (j->rd == NULL || store_reader_last_seqs(j->rd, &seqs, &cause) < 0) {
		free(cause);
		return 0;
	}
	return seqs.forecasts;
}

static void *job_main(void *arg)
{
	struct fcjob *j = arg;
	bool first = true;
	int64_t built_at = 0;

	util_thread_name("forecast");

	for (;;) {
		int64_t now = util_now_us(), day0, day2;
		int64_t req[MAX_REQUESTS];
		size_t nreq = 0;
		bool run = false, build, moved = false;
		char *cause = NULL, note[160] = "";

		pthread_mutex_lock(&j->lock);
		if (j->stopping) {
			pthread_mutex_unlock(&j->lock);
			break;
		}
		if (j->at_mode) {
			/* a replay: the instant its cursor is at, once set */
			now = j->at_us;
			moved = now > 0 && (j->built_at_us == 0 || now < j->built_at_us ||
					    now - j->built_at_us >= AT_STEP_US);
			if (now <= 0) {
				pthread_cond_wait(&j->wake, &j->lock);
				pthread_mutex_unlock(&j->lock);
				continue;
			}
		}
		day0 = local_midnight(now, 0);
		day2 = local_midnight(now, 2);
		if (j->store != NULL && (first || j->want_run || day0 != j->made_day0)) {
			run = true;
			nreq = j->nreq;
			memcpy(req, j->requests, nreq * sizeof(req[0]));
			j->nreq = 0;
		}
		pthread_mutex_unlock(&j->lock);

		if (j->rd == NULL) {
			j->rd = store_reader_open(j->path, &cause);
			if (j->rd == NULL) {
				snprintf(note, sizeof(note), "%s", cause);
				free(cause);
				cause = NULL;
			}
		}
		/* a new set: at the refresh period, after a run, when new forecasts
		 * appear in the buffer (the recorder's, when attached) */
		build = first || run || moved || util_mono_us() - built_at >= j->refresh_us ||
			day0 != j->loaded_day0 || forecast_seq(j) != j->last_fc_seq;
		if (build && j->rd != NULL) {
			/* backward (a replay's seek): read again up to the instant */
			bool full = day0 != j->loaded_day0 || (j->at_mode && now < j->series_now);

			if (read_series(j, now, full, &cause) < 0) {
				snprintf(note, sizeof(note), "%s", cause);
				free(cause);
				cause = NULL;
			} else {
				j->loaded_day0 = day0;
				j->series_now = now;
			}
		}
		if (run && j->rd != NULL) {
			make_all(j, now, day2, req, nreq);
			j->made_day0 = day0;
			pthread_mutex_lock(&j->lock);
			j->want_run = false;
			pthread_mutex_unlock(&j->lock);
		} else if (run) {
			/* no buffer to read: the requests are answered all the same */
			for (size_t i = 0; i < nreq; i++)
				store_put_request_done(j->store, req[i], note);
		}
		first = false;
		if (build) {
			j->last_fc_seq = forecast_seq(j);
			publish(j, build_all(j, j->at_mode ? now : util_now_us(), day0, day2,
					     note[0] ? note : NULL));
			built_at = util_mono_us();
			pthread_mutex_lock(&j->lock);
			j->built_at_us = now;
			pthread_mutex_unlock(&j->lock);
		}

		pthread_mutex_lock(&j->lock);
		if (!j->stopping && !j->want_run &&
		    !(j->at_mode && j->at_us > 0 &&
		      (j->at_us < j->built_at_us || j->at_us - j->built_at_us >= AT_STEP_US))) {
			int64_t until = util_mono_us() + FCJOB_POLL_MS * 1000;
			struct timespec ts;

			ts.tv_sec = (time_t)(until / US);
			ts.tv_nsec = (long)(until % US) * 1000;
			pthread_cond_timedwait(&j->wake, &j->lock, &ts);
		}
		pthread_mutex_unlock(&j->lock);
	}
	return NULL;
}

int fcjob_start(struct fcjob *j, char **cause)
{
	sigset_t all, old;
	pthread_condattr_t ca;
	int err;

	/* timed waits on the monotonic clock (util_mono_us) */
	pthread_cond_destroy(&j->wake);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->wake, &ca);
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&j->thread, NULL, job_main, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		*cause = util_printf("forecast: cannot start its thread: %s", strerror(err));
		return -1;
	}
	j->started = true;
	return 0;
}

void fcjob_set_now(struct fcjob *j, int64_t t_us)
{
	pthread_mutex_lock(&j->lock);
	j->at_us = t_us;
	if (j->built_at_us == 0 || t_us < j->built_at_us || t_us - j->built_at_us >= AT_STEP_US)
		pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
}

void fcjob_request(struct fcjob *j, int64_t request)
{
	pthread_mutex_lock(&j->lock);
	if (j->store != NULL) {
		j->want_run = true;
		if (request > 0 && j->nreq < MAX_REQUESTS)
			j->requests[j->nreq++] = request;
		else if (request > 0)
			store_put_request_done(j->store, request, "too many forecast requests");
	} else {
		j->expect_after_us = util_now_us();
	}
	if (j->pending != NULL)
		j->pending->busy = true;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
}

const struct trend_set *fcjob_take(struct fcjob *j)
{
	pthread_mutex_lock(&j->lock);
	if (j->pending != NULL) {
		trend_set_free(j->previous);
		j->previous = j->current;
		j->current = j->pending;
		j->pending = NULL;
	}
	if (j->current != NULL && (j->want_run || j->expect_after_us > 0))
		j->current->busy = true;
	pthread_mutex_unlock(&j->lock);
	return j->current;
}

void fcjob_stop(struct fcjob *j)
{
	if (j == NULL || !j->started)
		return;
	pthread_mutex_lock(&j->lock);
	j->stopping = true;
	pthread_cond_signal(&j->wake);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	j->started = false;
}

void fcjob_free(struct fcjob *j)
{
	size_t i;

	if (j == NULL)
		return;
	fcjob_stop(j);
	for (i = 0; i < j->nt; i++) {
		free(j->t[i].name);
		free(j->t[i].s.y);
	}
	free(j->t);
	if (j->rd != NULL)
		store_reader_close(j->rd);
	trend_set_free(j->pending);
	trend_set_free(j->current);
	trend_set_free(j->previous);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->wake);
	free(j->path);
	free(j);
}
