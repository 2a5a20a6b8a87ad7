// SPDX-License-Identifier: MIT
/*
 * machines: the hub's machines (include/phasor/machines.h). The figures
 * themselves are machine.c's; this module maps the configuration onto
 * them: topics to machines, the live state's counters and powers to each
 * machine's feeding meters, the clock to local days and [site] shifts,
 * and a message to the samples that record it.
 */
#include "phasor/machines.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/codec.h"
#include "phasor/csv.h"
#include "phasor/history.h"
#include "phasor/kpi.h"
#include "phasor/util.h"

#define US_PER_MS INT64_C(1000)
#define STALE_PERIODS 3
#define DAY_US (INT64_C(86400) * 1000000)

struct machines {
	const struct config *cfg;
	size_t n;
	struct machine_track *t;
	double *stored_state;  /* the state last stored per machine; -1: none */
	double *stored_pieces; /* the count last stored; -1: none */
	bool stored_only;      /* fed by the buffer (machines_follow_store) */
};

/* The start of the [site] shift holding now_us; 0 without shifts. */
static int64_t shift_start(const struct config *cfg, int64_t now_us)
{
	struct history_spans sp;
	int64_t from = 0;
	size_t i;

	if (cfg->site.nshifts == 0 ||
	    !history_shifts(now_us - 2 * DAY_US, now_us + 1, cfg->site.shift_min,
			    cfg->site.nshifts, &sp))
		return 0;
	for (i = 0; i < sp.n; i++)
		if (sp.b[i] <= now_us)
			from = sp.b[i];
	history_spans_free(&sp);
	return from;
}

struct machines *machines_new(const struct config *cfg, int64_t now_us)
{
	struct machines *ms;
	int64_t day = kpi_local_midnight(now_us), shift = shift_start(cfg, now_us);
	size_t k;

	if (cfg->nmachines == 0)
		return NULL;
	ms = util_calloc(1, sizeof(*ms));
	ms->cfg = cfg;
	ms->n = cfg->nmachines;
	ms->t = util_calloc(ms->n, sizeof(*ms->t));
	ms->stored_state = util_calloc(ms->n, sizeof(*ms->stored_state));
	ms->stored_pieces = util_calloc(ms->n, sizeof(*ms->stored_pieces));
	for (k = 0; k < ms->n; k++) {
		machine_track_init(&ms->t[k], now_us, day, shift);
		ms->stored_state[k] = -1;
		ms->stored_pieces[k] = -1;
	}
	return ms;
}

void machines_free(struct machines *ms)
{
	if (ms == NULL)
		return;
	free(ms->t);
	free(ms->stored_state);
	free(ms->stored_pieces);
	free(ms);
}

size_t machines_count(const struct machines *ms)
{
	return ms != NULL ? ms->n : 0;
}

const struct machine_track *machines_track(const struct machines *ms, size_t k)
{
	return ms != NULL && k < ms->n ? &ms->t[k] : NULL;
}

long machines_find_topic(const struct machines *ms, const char *topic)
{
	size_t k;

	for (k = 0; ms != NULL && k < ms->n; k++)
		if (ms->cfg->machines[k].topic != NULL &&
		    strcmp(ms->cfg->machines[k].topic, topic) == 0)
			return (long)k;
	return -1;
}

static void put(struct sample *out, size_t *n, size_t unit, unsigned qty, double v, int64_t t_us)
{
	struct sample *s = &out[(*n)++];

	memset(s, 0, sizeof(*s));
	s->t_us = t_us;
	s->value = v;
	s->meter = (uint32_t)unit;
	s->qty = (uint16_t)qty;
	s->quality = QUALITY_GOOD;
}

/* What machine k reported at t_us, fed to its track; the samples to
 * store in out. */
static void apply(struct machines *ms, size_t k, const struct payload_machine *pm, int64_t t_us,
		  struct sample *out, size_t *n)
{
	const struct config_machine *m = &ms->cfg->machines[k];
	struct machine_track *t = &ms->t[k];
	size_t unit = ms->cfg->nmeters + k;

	if (pm->state != MACHINE_UNKNOWN) {
		machine_track_state(t, pm->state, t_us);
		if (ms->stored_state[k] != pm->state) {
			ms->stored_state[k] = pm->state;
			put(out, n, unit, QTY_MACHINE_STATE, pm->state, t_us);
		}
	}
	if (pm->has_pieces) {
		double count;

		machine_track_pieces(t, pm->pieces, m->pieces_increment, t_us);
		/* a counter as the machine sent it; increments as their sum */
		count = m->pieces_increment ? t->total : pm->pieces;
		if (ms->stored_pieces[k] != count) {
			ms->stored_pieces[k] = count;
			put(out, n, unit, QTY_PIECES, count, t_us);
		}
	}
}

enum payload_status machines_message(struct machines *ms, size_t k, const char *payload,
				     size_t len, int64_t t_us, struct sample *out, size_t *n,
				     char *err, size_t errlen)
{
	struct payload_machine pm;
	enum payload_status st;

	*n = 0;
	if (ms == NULL || k >= ms->n)
		return PAYLOAD_UNKNOWN_TOPIC;
	st = payload_decode_machine(&ms->cfg->machines[k], payload, len, &pm, err, errlen);
	if (st != PAYLOAD_OK) {
		machine_track_malformed(&ms->t[k]);
		return st;
	}
	apply(ms, k, &pm, t_us, out, n);
	return PAYLOAD_OK;
}

size_t machines_polled(struct machines *ms, const struct sample *in, size_t nin,
		       struct sample *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; ms != NULL && i < nin && n + 2 <= cap; i++) {
		const struct sample *s = &in[i];
		struct payload_machine pm = { .state = MACHINE_UNKNOWN };
		size_t k = s->meter - ms->cfg->nmeters, got = 0;
		char text[32];

		if (s->meter < ms->cfg->nmeters || k >= ms->n)
			continue;
		if (!isfinite(s->value) || s->value < 0) {
			machine_track_malformed(&ms->t[k]);
			continue;
		}
		if (s->qty == QTY_MACHINE_STATE) {
			csv_double(s->value, text, sizeof(text));
			pm.state = payload_machine_state(&ms->cfg->machines[k], text);
			if (pm.state == MACHINE__COUNT) {
				machine_track_malformed(&ms->t[k]);
				continue;
			}
		} else if (s->qty == QTY_PIECES) {
			pm.has_pieces = true;
			pm.pieces = s->value;
		} else {
			continue;
		}
		apply(ms, k, &pm, s->t_us, out + n, &got);
		n += got;
	}
	return n;
}

void machines_tick(struct machines *ms, const struct live *live, int64_t now_us)
{
	int64_t day, shift;
	size_t k, j;

	if (ms == NULL)
		return;
	day = kpi_local_midnight(now_us);
	shift = shift_start(ms->cfg, now_us);
	for (k = 0; k < ms->n; k++) {
		const struct config_machine *m = &ms->cfg->machines[k];
		struct machine_track *t = &ms->t[k];
		double power = 0;
		bool power_known = m->nmeters > 0;

		machine_track_tick(t, now_us, day, shift,
				   ms->stored_only ? 0 : STALE_PERIODS * m->period_ms * US_PER_MS);
		for (j = 0; j < m->nmeters; j++) {
			struct live_counter c;
			const struct live_meter *lm;

			if (live == NULL || m->meters[j] >= live_count(live)) {
				power_known = false;
				continue;
			}
			if (live_counter(live, m->meters[j], QTY_E_IMP, &c))
				machine_track_energy(t, j, c.joined);
			lm = live_meter_const(live, m->meters[j]);
			if (lm->v[QTY_P_TOTAL].t_us == 0 || lm->v[QTY_P_TOTAL].quality != QUALITY_GOOD ||
			    live_value_stale(lm, QTY_P_TOTAL, now_us))
				power_known = false;
			else
				power += lm->v[QTY_P_TOTAL].value;
		}
		machine_track_power(t, power_known ? power : NAN, m->stopped_power, now_us);
	}
}

bool machines_consuming_stopped(const struct machines *ms, size_t k, int64_t now_us)
{
	if (ms == NULL || k >= ms->n || isnan(ms->cfg->machines[k].stopped_power))
		return false;
	return machine_consuming_stopped(&ms->t[k], ms->cfg->machines[k].stopped_after_ms *
							US_PER_MS,
					 now_us);
}

/* ---- what was stored: an attached console, a replay, a restart ---- */

void machines_follow_store(struct machines *ms)
{
	if (ms != NULL)
		ms->stored_only = true;
}

/* Machine k's stored point p (a state or a count) on its track. */
static void stored_one(struct machines *ms, size_t k, int kind, double v, int64_t t_us)
{
	struct machine_track *t = &ms->t[k];

	if (!isfinite(v) || v < 0)
		return;
	if (kind == MACHINES_STATE) {
		if (v == MACHINE_RUN || v == MACHINE_WAIT || v == MACHINE_STOP)
			machine_track_state(t, (int)v, t_us);
	} else {
		/* the stored count is a counter whatever the machine sends */
		machine_track_pieces(t, v, false, t_us);
	}
}

void machines_stored(struct machines *ms, const struct sample *s, size_t n)
{
	size_t i;

	for (i = 0; ms != NULL && i < n; i++) {
		size_t k = s[i].meter - ms->cfg->nmeters;

		if (s[i].meter < ms->cfg->nmeters || k >= ms->n || s[i].quality != QUALITY_GOOD)
			continue;
		if (s[i].qty == QTY_MACHINE_STATE)
			stored_one(ms, k, MACHINES_STATE, s[i].value, s[i].t_us);
		else if (s[i].qty == QTY_PIECES)
			stored_one(ms, k, MACHINES_PIECES, s[i].value, s[i].t_us);
	}
}

/* The local day's and shift's starts holding t_us, for a walk forward in
 * time (machines_seed): each looked up again only when t_us passes the
 * next boundary. */
struct spans_walk {
	const struct config *cfg;
	int64_t day, next_day;
	struct history_spans sh;   /* the shifts' bounds over the walk */
	bool have_sh;
	size_t si;
};

static void walk_init(struct spans_walk *w, const struct config *cfg, int64_t from_us,
		      int64_t to_us)
{
	memset(w, 0, sizeof(*w));
	w->cfg = cfg;
	w->next_day = INT64_MIN;
	if (cfg->site.nshifts > 0)
		w->have_sh = history_shifts(from_us - 2 * DAY_US, to_us + 1, cfg->site.shift_min,
					    cfg->site.nshifts, &w->sh);
}

static void walk_at(struct spans_walk *w, int64_t t_us, int64_t *day, int64_t *shift)
{
	if (t_us >= w->next_day || t_us < w->day) {
		w->day = kpi_local_midnight(t_us);
		/* the next midnight: a day is 23 to 25 hours long */
		w->next_day = kpi_local_midnight(w->day + 25 * 3600 * INT64_C(1000000));
		if (w->next_day <= w->day)
			w->next_day = w->day + DAY_US;
	}
	*day = w->day;
	*shift = 0;
	if (!w->have_sh)
		return;
	while (w->si + 1 < w->sh.n && w->sh.b[w->si + 1] <= t_us)
		w->si++;
	if (w->sh.n > 0 && w->sh.b[w->si] <= t_us)
		*shift = w->sh.b[w->si];
	else
		*shift = shift_start(w->cfg, t_us);
}

static void walk_free(struct spans_walk *w)
{
	if (w->have_sh)
		history_spans_free(&w->sh);
}

/* Time and spans of machine k up to t_us (no staleness, no meters). */
static void walk_tick(struct machines *ms, struct spans_walk *w, size_t k, int64_t t_us)
{
	int64_t day, shift;

	walk_at(w, t_us, &day, &shift);
	machine_track_tick(&ms->t[k], t_us, day, shift, 0);
}

static void edge(struct machines *ms, size_t k, int64_t t_us, bool start)
{
	machine_track_unknown(&ms->t[k], t_us);
	if (start)
		machine_track_rebase(&ms->t[k], ms->cfg->machines[k].pieces_increment);
}

void machines_edge(struct machines *ms, int64_t t_us, bool start)
{
	struct spans_walk w;
	size_t k;

	if (ms == NULL)
		return;
	walk_init(&w, ms->cfg, t_us, t_us);
	for (k = 0; k < ms->n; k++) {
		walk_tick(ms, &w, k, t_us);
		edge(ms, k, t_us, start);
	}
	walk_free(&w);
}

static int point_cmp(const void *a, const void *b)
{
	const struct machines_point *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void machines_seed(struct machines *ms, struct machines_point *p, size_t n, int64_t now_us)
{
	struct spans_walk w;
	int64_t t0 = now_us, day, shift;
	size_t i, k;

	if (ms == NULL || n == 0)
		return;
	qsort(p, n, sizeof(*p), point_cmp);
	if (p[0].t_us < t0)
		t0 = p[0].t_us;
	walk_init(&w, ms->cfg, t0, now_us);
	walk_at(&w, t0, &day, &shift);
	for (k = 0; k < ms->n; k++)
		machine_track_init(&ms->t[k], t0, day, shift);
	for (i = 0; i < n && p[i].t_us <= now_us; i++) {
		const struct machines_point *x = &p[i];

		if (x->kind == MACHINES_END || x->kind == MACHINES_START) {
			for (k = 0; k < ms->n; k++) {
				walk_tick(ms, &w, k, x->t_us);
				edge(ms, k, x->t_us, x->kind == MACHINES_START);
			}
			continue;
		}
		if (x->machine >= ms->n)
			continue;
		walk_tick(ms, &w, x->machine, x->t_us);
		if (x->kind == MACHINES_ENERGY)
			machine_track_energy(&ms->t[x->machine], x->meter, x->value);
		else
			stored_one(ms, x->machine, x->kind, x->value, x->t_us);
	}
	for (k = 0; k < ms->n; k++) {
		walk_tick(ms, &w, k, now_us);
		/* the live counters are on another scale than the sums here */
		machine_track_energy_rebase(&ms->t[k]);
	}
	walk_free(&w);
}

/* The points machines_load gathers. */
struct load {
	struct machines *ms;
	struct machines_point *p;
	size_t n, cap;
	size_t machine, meter;
	int64_t max_seq;
	/* the machine's stored state changes, in time order */
	int64_t *chg;
	size_t nchg, chg_cap;
	/* a feeding meter's minutes of e_imp, and the running sum over them */
	struct load_minute {
		int64_t t_us;
		struct codec_minute m;
	} *min;
	size_t nmin, min_cap;
	double sum, last;
	bool have_last;
};

static void add_point(struct load *l, int64_t t_us, int kind, double v)
{
	struct machines_point *x;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->p = util_reallocarray(l->p, l->cap, sizeof(*l->p));
	}
	x = &l->p[l->n];
	x->t_us = t_us;
	x->kind = kind;
	x->machine = l->machine;
	x->meter = l->meter;
	x->value = v;
	x->order = l->n++;
}

static int load_sample(void *ctx, const struct store_row *r)
{
	struct load *l = ctx;

	if (r->seq > l->max_seq || r->quality != QUALITY_GOOD || r->quantity == NULL)
		return 0;
	if (strcmp(r->quantity, qty_name(QTY_MACHINE_STATE)) == 0) {
		add_point(l, r->t_us, MACHINES_STATE, r->value);
		if (l->nchg == l->chg_cap) {
			l->chg_cap = l->chg_cap ? 2 * l->chg_cap : 64;
			l->chg = util_reallocarray(l->chg, l->chg_cap, sizeof(*l->chg));
		}
		l->chg[l->nchg++] = r->t_us;
	}
	else if (strcmp(r->quantity, qty_name(QTY_PIECES)) == 0)
		add_point(l, r->t_us, MACHINES_PIECES, r->value);
	return 0;
}

static int load_minute(void *ctx, int64_t t_us, const struct codec_minute *m)
{
	struct load *l = ctx;

	if (m->good == 0)
		return 0;
	if (l->nmin == l->min_cap) {
		l->min_cap = l->min_cap ? 2 * l->min_cap : 256;
		l->min = util_reallocarray(l->min, l->min_cap, sizeof(*l->min));
	}
	l->min[l->nmin].t_us = t_us;
	l->min[l->nmin++].m = *m;
	return 0;
}

/* The running sum at a good value v of the counter at t_us (a counter
 * reset adds nothing: codec_rise). */
static void energy_at(struct load *l, int64_t t_us, double v)
{
	if (l->have_last)
		l->sum += codec_rise(l->last, v);
	l->last = v;
	l->have_last = true;
	add_point(l, t_us, MACHINES_ENERGY, l->sum);
}

/*
 * Feeding meter j's energy since from_us as points: a minute's first and
 * last good values (its rise between them), but in a minute where the
 * machine's state changed every good sample of it, so that the energy
 * before the change goes to the state before it, as it did live.
 */
static int load_energy(struct load *l, struct store_reader *r, const char *meter, int64_t from_us,
		       int64_t to_us, char **cause)
{
	size_t i, c = 0, v;

	l->nmin = 0;
	l->sum = 0;
	l->have_last = false;
	if (store_reader_minutes(r, meter, QTY_E_IMP, from_us, to_us, false, load_minute, l,
				 cause) < 0)
		return -1;
	for (i = 0; i < l->nmin; i++) {
		const struct load_minute *x = &l->min[i];
		int64_t end = x->t_us + 60 * INT64_C(1000000);
		struct store_values vals = { 0 };

		while (c < l->nchg && l->chg[c] < x->t_us)
			c++;
		if (c == l->nchg || l->chg[c] >= end) {
			energy_at(l, x->m.first_us, x->m.first);
			/* the minute's rise, resets inside it left out */
			l->sum += x->m.rise;
			add_point(l, x->m.last_us, MACHINES_ENERGY, l->sum);
			l->last = x->m.last;
			continue;
		}
		if (store_reader_good_values(r, meter, qty_name(QTY_E_IMP), x->t_us, end, &vals,
					     cause) < 0)
			return -1;
		for (v = 0; v < vals.n; v++)
			energy_at(l, vals.t_us[v], vals.value[v]);
		store_values_free(&vals);
	}
	return 0;
}

/* A session's start and end (0: never closed). */
struct load_sess {
	int64_t start_us, end_us;
};

struct load_sessions {
	struct load_sess *s;
	size_t n;
};

static int load_session(void *ctx, const struct store_session *s)
{
	struct load_sessions *ls = ctx;

	ls->s = util_reallocarray(ls->s, ls->n + 1, sizeof(*ls->s));
	ls->s[ls->n].start_us = s->start_us;
	ls->s[ls->n++].end_us = s->end_us;
	return 0;
}

int machines_load(struct machines *ms, struct store_reader *r, int64_t now_us, int64_t max_seq,
		  char **cause)
{
	struct load l = { .ms = ms, .max_seq = max_seq };
	struct load_sessions ls = { NULL, 0 };
	int64_t day, shift, span, from;
	size_t i, k, j;
	int rc = -1;

	if (ms == NULL)
		return 0;
	day = kpi_local_midnight(now_us);
	shift = shift_start(ms->cfg, now_us);
	span = shift > 0 && shift < day ? shift : day;
	from = span - DAY_US; /* the state and the piece counter at the span's start */
	if (store_reader_sessions(r, load_session, &ls, cause) < 0)
		goto out;
	/* the sessions' ends and starts within [from, now]; one never closed
	 * (killed) ended where the next began */
	for (i = 0; i < ls.n; i++) {
		int64_t end = ls.s[i].end_us;

		if (end == 0 && i + 1 < ls.n)
			end = ls.s[i + 1].start_us;
		if (ls.s[i].start_us >= from && ls.s[i].start_us <= now_us)
			add_point(&l, ls.s[i].start_us, MACHINES_START, 0);
		if (end > from && end <= now_us)
			add_point(&l, end, MACHINES_END, 0);
	}
	for (k = 0; k < ms->n; k++) {
		const struct config_machine *m = &ms->cfg->machines[k];
		struct store_filter f = { m->name, NULL, from, now_us + 1 };

		l.machine = k;
		l.meter = 0;
		l.nchg = 0;
		if (store_reader_samples(r, &f, load_sample, &l, cause) < 0)
			goto out;
		for (j = 0; j < m->nmeters && j < CONFIG_MACHINE_METERS_MAX; j++) {
			l.meter = j;
			if (load_energy(&l, r, ms->cfg->meters[m->meters[j]].name, span, now_us + 1,
					cause) < 0)
				goto out;
		}
	}
	machines_seed(ms, l.p, l.n, now_us);
	rc = 0;
out:
	free(l.chg);
	free(l.min);
	free(ls.s);
	free(l.p);
	return rc;
}
