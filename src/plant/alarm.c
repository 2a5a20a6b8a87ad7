// SPDX-License-Identifier: MIT
/*
 * alarm: the ISA-18.2 / IEC 62682 engine.
 *
 * The engine makes one instance per (definition, matching meter), in
 * definition order, and keeps per meter the list of its instances so that
 * alarm_evaluate computes a meter's analysis once per call, not once per
 * instance (200 meters x 10 definitions at 4 Hz).
 *
 * Each instance has two layers. The condition (inst->active) follows the
 * measured value through the deadband and the on/off delays; it is
 * tracked in every state, silently while shelved, suppressed or out of
 * service, so that leaving those states knows where to go. The state is
 * the ISA-18.2 one the operator sees; every change of it is an event handed
 * to the callback. Condition raises are remembered in a small ring for
 * chattering, annunciated raises in per-10-minute buckets for the EEMUA 191
 * figures.
 *
 * Event ids are "<origin>:<stamp>.<n>": stamp is the time of the first
 * event this engine made, in hex microseconds, n counts from 1, so ids are
 * unique across restarts without the engine reading a clock. The ids of
 * events made, restored or applied are kept in a bounded set (FIFO
 * eviction) so that nothing coming back over MQTT applies twice.
 *
 * Not thread-safe: the hub thread owns the engine. The engine borrows cfg
 * (meter names, nominal values) and its definitions: cfg must outlive it.
 */
#include "phasor/alarm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/analysis.h"
#include "phasor/config.h"
#include "phasor/live.h"
#include "phasor/qty.h"
#include "phasor/alarmrow.h"
#include "phasor/comm.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define MS_US INT64_C(1000)
#define S_US INT64_C(1000000)
#define BUCKET_US (600 * S_US)
/* pf, tan_phi and the current unbalance mean nothing on an idle feeder:
 * below this share of max_power (below LIGHT_LOAD_W without one) they
 * count as back within their limit. */
#define LIGHT_LOAD_SHARE 0.01
#define LIGHT_LOAD_W 500.0
#define SEEN_MAX 65536
#define SEEN_HASH (SEEN_MAX * 2)
/* Room kept in an id for ":<16 hex>.<16 hex>". */
#define ORIGIN_MAX (ALARM_ID_LEN - 1 - 34)

/* ---- the engine's data ------------------------------------------------ */

/* Ids already seen: a FIFO ring of SEEN_MAX strings with a chained hash. */
struct seen {
	char **ids;
	uint64_t *hash;
	int32_t *next;
	int32_t *head; /* SEEN_HASH buckets, -1: empty */
	size_t pos, n;
};

struct bucket {
	int64_t index; /* absolute: t / 10 min; -1: never used */
	unsigned n;
};

struct alarm_engine {
	const struct config *cfg;
	struct alarm_def *own_defs; /* the built-in set when cfg has none */
	/* consuming-while-stopped, one per machine with stopped_power, whose
	 * instances come after the meters' (unit nmeters + k) */
	struct alarm_def *mach_defs;
	size_t nmach_defs;
	const struct alarm_def *defs;
	size_t ndefs;
	struct alarm_inst *inst;
	size_t n;
	/* per meter: inst indices mlist[mstart[m] .. mstart[m + 1]) */
	size_t nmeters;
	size_t *mstart, *mlist;

	char origin[ORIGIN_MAX + 1];
	alarm_event_fn fn;
	void *ctx;
	int64_t stamp;       /* time of the first event made; 0: none yet */
	uint64_t counter;

	struct seen seen;

	int64_t start_us;    /* first time seen; 0: none yet */
	int64_t perf_from_us;/* the EEMUA figures cover from here (alarm_perf_since); 0: start_us */
	/* acks of other consoles received in our first ALARM_JOIN_US for
	 * alarms not raised here yet (alarm_apply_remote) */
	struct pending_ack {
		size_t inst;
		struct alarm_event ev;
	} *pending;
	size_t npending;
	struct alarm_forecast_obs *fc_obs; /* per meter (alarm_forecast_obs); NULL: none yet */
	struct bucket per10[ALARM_PERF_BUCKETS];
	struct bucket per1[11];       /* per minute: the rolling "last 10 min" */
	unsigned by_prio[PRIO__COUNT];
	/* alarm_counts' figures, counted again only after a change: gen counts
	 * every change of an instance's state or raise time (set_state,
	 * cond_raise, alarm_restore), the banner asks every frame */
	uint64_t gen;
	struct counts_cache {
		uint64_t gen; /* of counts; 0: never counted (gen starts at 1) */
		struct alarm_counts counts;
	} *cache;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static bool seen_has(const struct seen *s, const char *id)
{
	uint64_t h;
	int32_t j;

	if (s->ids == NULL)
		return false;
	h = fnv1a(id);
	for (j = s->head[h & (SEEN_HASH - 1)]; j >= 0; j = s->next[j])
		if (s->hash[j] == h && strcmp(s->ids[j], id) == 0)
			return true;
	return false;
}

static void seen_add(struct seen *s, const char *id)
{
	uint64_t h;
	int32_t slot, *pp;
	size_t b, i;

	if (id == NULL || id[0] == '\0' || seen_has(s, id))
		return;
	if (s->ids == NULL) {
		s->ids = util_calloc(SEEN_MAX, sizeof(*s->ids));
		s->hash = util_calloc(SEEN_MAX, sizeof(*s->hash));
		s->next = util_calloc(SEEN_MAX, sizeof(*s->next));
		s->head = util_malloc(SEEN_HASH * sizeof(*s->head));
		for (i = 0; i < SEEN_HASH; i++)
			s->head[i] = -1;
	}
	slot = (int32_t)s->pos;
	if (s->n == SEEN_MAX) {
		/* evict the oldest, which lives in this slot */
		b = s->hash[slot] & (SEEN_HASH - 1);
		for (pp = &s->head[b]; *pp >= 0; pp = &s->next[*pp])
			if (*pp == slot) {
				*pp = s->next[slot];
				break;
			}
		free(s->ids[slot]);
	} else {
		s->n++;
	}
	h = fnv1a(id);
	b = h & (SEEN_HASH - 1);
	s->ids[slot] = util_strdup(id);
	s->hash[slot] = h;
	s->next[slot] = s->head[b];
	s->head[b] = slot;
	s->pos = (s->pos + 1) % SEEN_MAX;
}

static void seen_free(struct seen *s)
{
	size_t i;

	if (s->ids != NULL)
		for (i = 0; i < SEEN_MAX; i++)
			free(s->ids[i]);
	free(s->ids);
	free(s->hash);
	free(s->next);
	free(s->head);
}

static bool is_comm(const struct alarm_def *d)
{
	return d->measure == AM_COMM;
}

static bool is_flag(const struct alarm_def *d)
{
	return d->measure == AM_COMM || d->measure == AM_STALE;
}

/* The limit of d on meter m, in the measure's unit. */
static double effective_limit(const struct alarm_def *d, const struct config *cfg,
			      const struct config_meter *m)
{
	double nom_v = m != NULL && m->nominal_voltage > 0 ? m->nominal_voltage : 230.0;
	double nom_f = cfg != NULL && cfg->site.nominal_freq > 0 ? cfg->site.nominal_freq : 50.0;

	if (is_flag(d))
		return NAN;
	if (!d->limit_pct)
		return d->limit;
	switch (d->measure) {
	case AM_VOLTAGE:
		return nom_v * d->limit / 100.0;
	case AM_VOLTAGE_LL:
		return nom_v * sqrt(3.0) * d->limit / 100.0;
	case AM_FREQUENCY:
		return nom_f * d->limit / 100.0;
	default:
		return d->limit;
	}
}

/* A consuming-while-stopped instance per machine with stopped_power. */
static void machine_instances(struct alarm_engine *e, const struct config *cfg, size_t *cap)
{
	size_t k;

	if (cfg == NULL || cfg->nmachines == 0)
		return;
	e->mach_defs = util_calloc(cfg->nmachines, sizeof(*e->mach_defs));
	for (k = 0; k < cfg->nmachines; k++) {
		const struct config_machine *m = &cfg->machines[k];
		struct alarm_def *d;
		struct alarm_inst *in;

		if (isnan(m->stopped_power))
			continue;
		d = &e->mach_defs[e->nmach_defs++];
		alarm_def_machine(m, d);
		if (e->n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			e->inst = util_reallocarray(e->inst, *cap, sizeof(*e->inst));
		}
		in = &e->inst[e->n++];
		memset(in, 0, sizeof(*in));
		in->def = d;
		in->meter = cfg->nmeters + k;
		in->meter_name = m->name;
		in->state = ALARM_NORMAL;
		in->value = NAN;
		in->raise_value = NAN;
		in->limit = d->limit;
	}
}

struct alarm_engine *alarm_engine_new(const struct config *cfg, const char *origin,
				      alarm_event_fn fn, void *ctx)
{
	struct alarm_engine *e = util_calloc(1, sizeof(*e));
	size_t d, m, k, cap = 0, *count;

	e->cfg = cfg;
	if (cfg != NULL && cfg->nalarms > 0) {
		e->defs = cfg->alarms;
		e->ndefs = cfg->nalarms;
	} else {
		e->ndefs = alarm_defaults(&e->own_defs);
		e->defs = e->own_defs;
	}
	util_strlcpy(e->origin, origin != NULL ? origin : "", sizeof(e->origin));
	e->fn = fn;
	e->ctx = ctx;
	e->gen = 1;
	e->cache = util_calloc(1, sizeof(*e->cache));
	for (k = 0; k < ALARM_PERF_BUCKETS; k++)
		e->per10[k].index = -1;
	for (k = 0; k < UTIL_ARRAY_LEN(e->per1); k++)
		e->per1[k].index = -1;

	/* units: the meters, then the machines */
	e->nmeters = cfg != NULL ? cfg->nmeters + cfg->nmachines : 0;
	for (d = 0; d < e->ndefs; d++) {
		for (m = 0; m < cfg->nmeters; m++) {
			const struct config_meter *cm = &cfg->meters[m];
			struct alarm_inst *in;

			if (!alarm_def_matches(&e->defs[d], cm->name))
				continue;
			/* night_flow watches the flow of gas, water and air meters */
			if (e->defs[d].measure == AM_NIGHT_FLOW &&
			    !utility_counts_volume((enum utility)cm->utility))
				continue;
			if (e->n == cap) {
				cap = cap ? cap * 2 : 16;
				e->inst = util_reallocarray(e->inst, cap, sizeof(*e->inst));
			}
			in = &e->inst[e->n++];
			memset(in, 0, sizeof(*in));
			in->def = &e->defs[d];
			in->meter = m;
			in->meter_name = cm->name;
			in->state = e->defs[d].enabled ? ALARM_NORMAL : ALARM_OOS;
			in->value = NAN;
			in->raise_value = NAN;
			in->night_min = NAN;
			in->limit = effective_limit(&e->defs[d], cfg, cm);
		}
	}
	machine_instances(e, cfg, &cap);
	/* per-meter lists, in instance order */
	e->mstart = util_calloc(e->nmeters + 1, sizeof(*e->mstart));
	e->mlist = util_calloc(e->n + 1, sizeof(*e->mlist));
	count = util_calloc(e->nmeters + 1, sizeof(*count));
	for (k = 0; k < e->n; k++)
		count[e->inst[k].meter]++;
	for (m = 0; m < e->nmeters; m++)
		e->mstart[m + 1] = e->mstart[m] + count[m];
	memset(count, 0, (e->nmeters + 1) * sizeof(*count));
	for (k = 0; k < e->n; k++) {
		m = e->inst[k].meter;
		e->mlist[e->mstart[m] + count[m]++] = k;
	}
	free(count);
	return e;
}

void alarm_engine_free(struct alarm_engine *e)
{
	if (e == NULL)
		return;
	alarm_defs_free(e->own_defs, e->own_defs != NULL ? e->ndefs : 0);
	alarm_defs_free(e->mach_defs, e->nmach_defs);
	free(e->inst);
	free(e->mstart);
	free(e->mlist);
	seen_free(&e->seen);
	free(e->pending);
	free(e->fc_obs);
	free(e->cache);
	free(e);
}

size_t alarm_count(const struct alarm_engine *e)
{
	return e != NULL ? e->n : 0;
}

const struct alarm_inst *alarm_get(const struct alarm_engine *e, size_t i)
{
	return e != NULL && i < e->n ? &e->inst[i] : NULL;
}

long alarm_find(const struct alarm_engine *e, const char *alarm, const char *meter)
{
	size_t i;

	if (e == NULL || alarm == NULL)
		return -1;
	for (i = 0; i < e->n; i++)
		if (strcmp(e->inst[i].def->name, alarm) == 0 &&
		    strcmp(e->inst[i].meter_name, meter != NULL ? meter : "") == 0)
			return (long)i;
	return -1;
}

/* ---- events ----------------------------------------------------------- */

static void set_state(struct alarm_engine *e, struct alarm_inst *in, enum alarm_state s, int64_t now)
{
	if (in->state != s) {
		in->state = s;
		in->since_us = now;
		e->gen++;
	}
}

static void copy_text(char *dst, size_t size, const char *src)
{
	util_sanitize(dst, size, src != NULL ? src : "");
}

static void touch(struct alarm_engine *e, int64_t now)
{
	if (e->start_us == 0)
		e->start_us = now;
}

/* Make an event of instance i in its current state and hand it over. */
static void emit(struct alarm_engine *e, size_t i, enum alarm_event_kind kind, int64_t now,
		 const char *op, const char *note, int64_t until)
{
	struct alarm_inst *in = &e->inst[i];
	struct alarm_event ev;

	memset(&ev, 0, sizeof(ev));
	if (e->stamp == 0)
		e->stamp = now > 0 ? now : 1;
	e->counter++;
	ev.kind = kind;
	ev.t_us = now;
	snprintf(ev.id, sizeof(ev.id), "%s:%llx.%llx", e->origin, (unsigned long long)e->stamp,
		 (unsigned long long)e->counter);
	util_strlcpy(ev.origin, e->origin, sizeof(ev.origin));
	ev.remote = false;
	ev.inst = i;
	ev.alarm = in->def->name;
	ev.meter = in->meter_name;
	ev.quantity = in->def->quantity != NULL ? in->def->quantity : "";
	ev.priority = in->def->priority;
	ev.state = in->state;
	ev.value = in->value;
	ev.limit = in->limit;
	copy_text(ev.operator_name, sizeof(ev.operator_name), op);
	copy_text(ev.note, sizeof(ev.note), note);
	ev.raised_us = in->raised_us;
	ev.until_us = until;
	in->last_us = now;
	seen_add(&e->seen, ev.id);
	/* a finished occurrence */
	if (in->state == ALARM_NORMAL)
		in->raised_us = 0;
	if (e->fn != NULL)
		e->fn(e->ctx, &ev);
}

static void count_raise(struct alarm_engine *e, struct alarm_inst *in, int64_t now)
{
	int64_t b = now / BUCKET_US, m = now / 60000000LL;
	struct bucket *bk = &e->per10[(size_t)(b % ALARM_PERF_BUCKETS)];
	struct bucket *bm = &e->per1[(size_t)(m % 11)];

	if (bk->index != b) {
		bk->index = b;
		bk->n = 0;
	}
	bk->n++;
	if (bm->index != m) {
		bm->index = m;
		bm->n = 0;
	}
	bm->n++;
	e->by_prio[in->def->priority]++;
	in->count++;
	if (in->first_us == 0)
		in->first_us = now;
}

static void chatter_raise(struct alarm_inst *in, int64_t now)
{
	int64_t oldest;

	in->raises_recent[in->raises_head] = now;
	in->raises_head = (in->raises_head + 1) % ALARM_CHATTER_COUNT;
	oldest = in->raises_recent[in->raises_head];
	if (oldest != 0 && now - oldest <= ALARM_CHATTER_WINDOW_MS * MS_US)
		in->chattering = true;
}

static int64_t newest_raise(const struct alarm_inst *in)
{
	return in->raises_recent[(in->raises_head + ALARM_CHATTER_COUNT - 1) % ALARM_CHATTER_COUNT];
}

/* Chattering ends once a whole window passed without a raise. */
static void chatter_decay(struct alarm_inst *in, int64_t now)
{
	if (in->chattering && now - newest_raise(in) > ALARM_CHATTER_WINDOW_MS * MS_US)
		in->chattering = false;
}

#define PENDING_MAX 1024

static void pending_add(struct alarm_engine *e, size_t i, const struct alarm_event *ev)
{
	size_t k;

	for (k = 0; k < e->npending; k++)
		if (e->pending[k].inst == i)
			break;
	if (k == e->npending) {
		if (e->npending >= PENDING_MAX)
			return;
		if (e->pending == NULL)
			e->pending = util_calloc(PENDING_MAX, sizeof(*e->pending));
		e->npending++;
	}
	e->pending[k].inst = i;
	e->pending[k].ev = *ev;
	e->pending[k].ev.alarm = NULL; /* borrowed strings: emit_remote uses ours */
	e->pending[k].ev.meter = NULL;
	e->pending[k].ev.quantity = NULL;
}

static void emit_remote(struct alarm_engine *e, size_t i, const struct alarm_event *src,
			int64_t until);
static void remember(struct alarm_inst *in, const char *op, const char *note);

/*
 * A first raise in our first ALARM_JOIN_US that another console had
 * acknowledged before we started (its occurrence began earlier): the same
 * condition, acknowledged.
 */
static void pending_apply(struct alarm_engine *e, size_t i, int64_t now)
{
	struct alarm_inst *in = &e->inst[i];
	size_t k;

	for (k = 0; k < e->npending; k++) {
		if (e->pending[k].inst != i)
			continue;
		if (now - e->start_us <= ALARM_JOIN_US && in->count == 1 &&
		    e->pending[k].ev.raised_us <= in->raised_us) {
			struct alarm_event ev = e->pending[k].ev;

			set_state(e, in, ALARM_ACK, now);
			in->acked_us = now;
			remember(in, ev.operator_name, ev.note);
			emit_remote(e, i, &ev, 0);
		}
		e->pending[k] = e->pending[--e->npending];
		return;
	}
}

/* The condition became active (after the on-delay). */
static void cond_raise(struct alarm_engine *e, size_t i, double value, int64_t now)
{
	struct alarm_inst *in = &e->inst[i];

	in->active = true;
	in->raised_us = now;
	in->raise_value = value;
	e->gen++; /* the newest unacknowledged alarm may be this one now */
	chatter_raise(in, now);
	if (in->state == ALARM_NORMAL || in->state == ALARM_RTN_UNACK) {
		set_state(e, in, ALARM_UNACK, now);
		count_raise(e, in, now);
		emit(e, i, AEV_RAISE, now, "", in->detail, 0);
		if (e->npending > 0)
			pending_apply(e, i, now);
	}
	/* shelved, suppressed, out of service: silently */
}

/* The condition went back within (after the off-delay). */
static void cond_clear(struct alarm_engine *e, size_t i, int64_t now)
{
	struct alarm_inst *in = &e->inst[i];

	in->active = false;
	switch (in->state) {
	case ALARM_UNACK:
		set_state(e, in, ALARM_RTN_UNACK, now);
		emit(e, i, AEV_CLEAR, now, "", "", 0);
		break;
	case ALARM_ACK:
		set_state(e, in, ALARM_NORMAL, now);
		emit(e, i, AEV_CLEAR, now, "", "", 0);
		break;
	case ALARM_SHELVED:
		if (in->shelved_until_us == 0) { /* one-shot: over */
			set_state(e, in, ALARM_NORMAL, now);
			emit(e, i, AEV_UNSHELVE, now, "", "", 0);
		}
		in->raised_us = 0;
		break;
	default:
		in->raised_us = 0;
		break;
	}
}

static void do_unshelve(struct alarm_engine *e, size_t i, const char *op, int64_t now)
{
	struct alarm_inst *in = &e->inst[i];

	in->shelved_until_us = 0;
	set_state(e, in, in->active ? ALARM_UNACK : ALARM_NORMAL, now);
	emit(e, i, AEV_UNSHELVE, now, op, "", 0);
}

static bool beyond(const struct alarm_inst *in, double v)
{
	if (is_flag(in->def))
		return v > 0.5;
	if (in->def->measure == AM_FORECAST_EXCESS)
		return v >= in->limit; /* intervals in a row */
	return alarm_limit_is_high(in->def->type) ? v > in->limit : v < in->limit;
}

static bool within(const struct alarm_inst *in, double v)
{
	if (is_flag(in->def))
		return !(v > 0.5);
	if (in->def->measure == AM_FORECAST_EXCESS)
		return v < in->limit;
	return alarm_limit_is_high(in->def->type) ? v <= in->limit - in->def->deadband
						  : v >= in->limit + in->def->deadband;
}

/*
 * The core of alarm_feed. quiet: the measure means nothing now (an idle
 * feeder's PF): counts as within, shows no value.
 */
static void feed(struct alarm_engine *e, size_t i, double value, bool valid, bool quiet,
		 int64_t now)
{
	struct alarm_inst *in = &e->inst[i];
	const struct alarm_def *d = in->def;
	bool b, w;

	touch(e, now);
	if (in->state == ALARM_SHELVED && in->shelved_until_us != 0 && now >= in->shelved_until_us)
		do_unshelve(e, i, "", now);

	if (!valid || (!quiet && isnan(value))) {
		/* unknown: neither raises nor clears, and breaks the delays */
		in->value = NAN;
		in->beyond_since_us = 0;
		in->within_since_us = 0;
	} else {
		in->value = quiet ? NAN : value;
		b = !quiet && beyond(in, value);
		w = quiet || within(in, value);
		if (!in->active) {
			in->within_since_us = 0;
			if (b) {
				if (in->beyond_since_us == 0)
					in->beyond_since_us = now;
				if (now - in->beyond_since_us >= d->on_delay_ms * MS_US) {
					in->beyond_since_us = 0;
					cond_raise(e, i, value, now);
				}
			} else {
				in->beyond_since_us = 0;
			}
		} else {
			in->beyond_since_us = 0;
			if (w) {
				if (in->within_since_us == 0)
					in->within_since_us = now;
				if (now - in->within_since_us >= d->off_delay_ms * MS_US) {
					in->within_since_us = 0;
					cond_clear(e, i, now);
				}
			} else {
				in->within_since_us = 0;
			}
		}
	}

	chatter_decay(in, now);
	if (in->state == ALARM_ACK && in->active && d->realarm_ms > 0 &&
	    now - in->acked_us >= d->realarm_ms * MS_US) {
		set_state(e, in, ALARM_UNACK, now);
		count_raise(e, in, now);
		emit(e, i, AEV_RAISE, now, "", "", 0);
	}
}

void alarm_feed(struct alarm_engine *e, size_t i, double value, bool valid, int64_t now_us)
{
	if (e == NULL || i >= e->n)
		return;
	feed(e, i, value, valid, false, now_us);
}

void alarm_suppress(struct alarm_engine *e, size_t i, bool on, int64_t now_us)
{
	struct alarm_inst *in;

	if (e == NULL || i >= e->n)
		return;
	in = &e->inst[i];
	touch(e, now_us);
	if (in->state == ALARM_OOS)
		return;
	if (on && in->state != ALARM_SUPPRESSED) {
		in->shelved_until_us = 0;
		set_state(e, in, ALARM_SUPPRESSED, now_us);
		emit(e, i, AEV_SUPPRESS, now_us, "", "", 0);
	} else if (!on && in->state == ALARM_SUPPRESSED) {
		/* back to normal; evaluation raises it again, after its
		 * on-delay, if it is still beyond its limit */
		in->active = false;
		in->beyond_since_us = 0;
		in->within_since_us = 0;
		set_state(e, in, ALARM_NORMAL, now_us);
		emit(e, i, AEV_UNSUPPRESS, now_us, "", "", 0);
	}
}

/* ---- evaluation from the live state ----------------------------------- */

static double min3(const double x[3])
{
	double m = NAN;
	int k;

	for (k = 0; k < 3; k++)
		if (!isnan(x[k]) && (isnan(m) || x[k] < m))
			m = x[k];
	return m;
}

static double max3(const double x[3])
{
	double m = NAN;
	int k;

	for (k = 0; k < 3; k++)
		if (!isnan(x[k]) && (isnan(m) || x[k] > m))
			m = x[k];
	return m;
}

/* A meter's figures, computed once per evaluation and only when needed. */
struct meter_eval {
	const struct live_meter *lm;
	bool done;
	struct analysis_input in;
	struct analysis_params par;
	struct analysis_result res;
};

static void meter_compute(struct meter_eval *me, const struct config *cfg, int64_t now)
{
	if (me->done)
		return;
	live_analysis_input(me->lm, now, &me->in);
	live_analysis_params(me->lm, cfg, &me->par);
	analysis_compute_figures(&me->in, &me->par, &me->res);
	me->done = true;
}

static bool light_load(const struct meter_eval *me)
{
	double p = me->res.p_total;

	if (isnan(p))
		return false;
	return fabs(p) < (me->par.max_power > 0 ? LIGHT_LOAD_SHARE * me->par.max_power : LIGHT_LOAD_W);
}

/* The measured value of a value alarm; NaN unknown; *quiet for light load. */
static double measure(const struct alarm_inst *in, struct meter_eval *me, const struct config *cfg,
		      int64_t now, bool *quiet)
{
	const struct alarm_def *d = in->def;
	bool high = alarm_limit_is_high(d->type);
	const struct live_value *v;

	*quiet = false;
	if (d->measure == AM_QTY) {
		if (d->qty >= QTY__COUNT)
			return NAN;
		v = &me->lm->v[d->qty];
		if (v->quality != QUALITY_GOOD || !isfinite(v->value) ||
		    live_value_stale(me->lm, d->qty, now))
			return NAN;
		return v->value;
	}
	meter_compute(me, cfg, now);
	switch (d->measure) {
	case AM_PF:
		*quiet = light_load(me);
		return fabs(me->res.pf_total);
	case AM_TAN_PHI:
		*quiet = light_load(me);
		return me->res.tan_phi;
	case AM_I_UNBALANCE:
		*quiet = light_load(me);
		return me->res.i_unb_nema;
	case AM_V_UNBALANCE:
		return me->res.v_unb_nema;
	case AM_VOLTAGE:
		return high ? max3(me->in.v_ln) : min3(me->in.v_ln);
	case AM_VOLTAGE_LL:
		return high ? max3(me->res.v_ll) : min3(me->res.v_ll);
	case AM_THD_V:
		return max3(me->in.thd_v);
	case AM_THD_I:
		return max3(me->in.thd_i);
	case AM_FREQUENCY:
		return me->in.freq;
	case AM_OVERLOAD:
		if (isnan(me->res.p_total) || !(me->par.max_power > 0))
			return NAN;
		return 100.0 * me->res.p_total / me->par.max_power;
	default:
		return NAN;
	}
}

/*
 * The night_flow measure of instance in at now: inside its window (site
 * time: the process's TZ, which record and replay set from [site]
 * timezone), the lowest good, fresh flow since the window opened (or since
 * the engine started, within it), so that one dip below the limit clears
 * the alarm and keeps it from raising until the next night; its figures go
 * to in->detail for the raise's note. Outside the window the flow counts
 * only once it is back within the limit (the alarm clears when the flow
 * stops, by day too); otherwise unknown, which holds the state. NaN:
 * unknown.
 */
static double night_measure(struct alarm_inst *in, const struct live_meter *lm, int64_t now)
{
	const struct alarm_def *d = in->def;
	const struct live_value *v = &lm->v[QTY_FLOW];
	time_t secs = (time_t)(now / S_US);
	struct tm tm;
	int minute, into;
	int64_t open;
	double flow = NAN;
	char from[16];

	if (v->quality == QUALITY_GOOD && isfinite(v->value) && !live_value_stale(lm, QTY_FLOW, now))
		flow = v->value;
	if (localtime_r(&secs, &tm) == NULL)
		return NAN;
	minute = tm.tm_hour * 60 + tm.tm_min;
	into = (minute - d->window_start_min + 1440) % 1440;
	if (into >= alarm_window_minutes(d)) {
		in->night_open_us = 0;
		return flow <= in->limit - d->deadband ? flow : NAN;
	}
	open = now - ((int64_t)into * 60 + tm.tm_sec) * S_US - now % S_US;
	if (in->night_open_us == 0 || llabs(open - in->night_open_us) > 90 * S_US) {
		in->night_open_us = open; /* a new night */
		in->night_min = NAN;
	}
	if (isnan(flow))
		return NAN;
	if (isnan(in->night_min) || flow < in->night_min)
		in->night_min = flow;
	snprintf(from, sizeof(from), "%02d:%02d", d->window_start_min / 60, d->window_start_min % 60);
	snprintf(in->detail, sizeof(in->detail), "lowest flow %.3g m3/h since %s (limit %g m3/h)",
		 in->night_min, from, in->limit);
	return in->night_min;
}

void alarm_forecast_obs(struct alarm_engine *e, size_t meter, const struct alarm_forecast_obs *o)
{
	if (e == NULL || meter >= e->nmeters)
		return;
	if (e->fc_obs == NULL)
		e->fc_obs = util_calloc(e->nmeters, sizeof(*e->fc_obs));
	e->fc_obs[meter] = *o;
}

/* The forecast_excess measure of instance in on meter m: the run, or NaN;
 * its figures go to in->detail for the raise's note. */
static double forecast_measure(struct alarm_engine *e, struct alarm_inst *in, size_t m)
{
	const struct alarm_forecast_obs *o = e->fc_obs != NULL ? &e->fc_obs[m] : NULL;

	if (o == NULL || !o->valid)
		return NAN;
	snprintf(in->detail, sizeof(in->detail),
		 "actual %.1f kW, expected %.1f kW (95 %% band %.1f-%.1f kW); %.1f kWh %s than "
		 "expected over the last %d interval%s",
		 o->actual_w / 1000, o->expected_w / 1000, o->lo95_w / 1000, o->hi95_w / 1000,
		 fabs(o->excess_wh) / 1000, o->excess_wh >= 0 ? "more" : "less", o->run,
		 o->run == 1 ? "" : "s");
	return (double)o->run;
}

void alarm_evaluate(struct alarm_engine *e, struct live *live, const struct config *cfg,
		    int64_t now_us)
{
	size_t m, k, nm;

	if (e == NULL || live == NULL)
		return;
	if (cfg == NULL)
		cfg = e->cfg;
	touch(e, now_us);
	nm = live_count(live) < e->nmeters ? live_count(live) : e->nmeters;
	for (m = 0; m < nm; m++) {
		struct meter_eval me;
		enum comm_status cs;
		bool comm_active = false, has_comm = false, suppress, down, unknown;

		me.lm = live_meter_const(live, m);
		me.done = false;
		cs = me.lm->comm.status;
		down = cs == COMM_DOWN;
		unknown = cs == COMM_UNKNOWN;

		/* The root first: the comm alarm. Its on-delay keeps a meter
		 * that flaps at start (a recorder started before the device
		 * listens) from raising it; the value alarms are suppressed
		 * once it is active (or at once when the meter has no comm
		 * alarm), so a flapping meter makes no suppress rows either. */
		for (k = e->mstart[m]; k < e->mstart[m + 1]; k++) {
			size_t i = e->mlist[k];
			if (!is_comm(e->inst[i].def))
				continue;
			feed(e, i, down ? 1.0 : 0.0, !unknown, false, now_us);
			comm_active = comm_active || e->inst[i].active;
			has_comm = has_comm || e->inst[i].state != ALARM_OOS;
		}
		suppress = down && (comm_active || !has_comm);
		for (k = e->mstart[m]; k < e->mstart[m + 1]; k++) {
			size_t i = e->mlist[k];
			struct alarm_inst *in = &e->inst[i];
			double v;
			bool quiet = false, valid = true;

			if (is_comm(in->def))
				continue;
			if (in->def->measure == AM_STALE) {
				/* Unknown comm state: leave suppression as it is. */
				if (suppress || comm_active)
					alarm_suppress(e, i, true, now_us);
				else if (!unknown && !down)
					alarm_suppress(e, i, false, now_us);
				if ((me.lm->last_sample_us == 0 && cs != COMM_STALE) ||
				    (down && !suppress)) {
					/* never heard of, or down while the comm
					 * alarm's on-delay runs: the comm alarm's job */
					valid = false;
					v = NAN;
				} else {
					v = (cs == COMM_STALE || live_meter_stale(me.lm, now_us)) ? 1.0
												 : 0.0;
				}
				feed(e, i, v, valid, false, now_us);
				continue;
			}
			if (in->def->measure == AM_FORECAST_EXCESS) {
				/* of completed intervals: not suppressed by a down meter,
				 * whose missing data simply ends the run */
				v = forecast_measure(e, in, m);
				feed(e, i, v, !isnan(v), false, now_us);
				continue;
			}
			if (suppress)
				alarm_suppress(e, i, true, now_us);
			else if (!unknown && !down)
				alarm_suppress(e, i, false, now_us);
			v = in->def->measure == AM_NIGHT_FLOW ? night_measure(in, me.lm, now_us)
							       : measure(in, &me, cfg, now_us, &quiet);
			feed(e, i, v, !isnan(v) || quiet, quiet, now_us);
		}
	}
}

void alarm_measure_only(struct alarm_engine *e, struct live *live, const struct config *cfg,
			int64_t now_us)
{
	size_t m, k, nm;

	if (e == NULL || live == NULL)
		return;
	if (cfg == NULL)
		cfg = e->cfg;
	nm = live_count(live) < e->nmeters ? live_count(live) : e->nmeters;
	for (m = 0; m < nm; m++) {
		struct meter_eval me;

		me.lm = live_meter_const(live, m);
		me.done = false;
		for (k = e->mstart[m]; k < e->mstart[m + 1]; k++) {
			struct alarm_inst *in = &e->inst[e->mlist[k]];
			bool quiet = false;

			if (is_comm(in->def))
				in->value = me.lm->comm.status == COMM_DOWN ? 1.0 : 0.0;
			else if (in->def->measure == AM_STALE)
				in->value = live_meter_stale(me.lm, now_us) ? 1.0 : 0.0;
			else if (in->def->measure == AM_NIGHT_FLOW)
				in->value = night_measure(in, me.lm, now_us);
			else
				in->value = measure(in, &me, cfg, now_us, &quiet);
		}
	}
}

/* ---- operator actions ------------------------------------------------- */

static int refuse(char *err, size_t errsz, const char *msg)
{
	if (err != NULL && errsz > 0)
		util_strlcpy(err, msg, errsz);
	return -1;
}

/* The alarm an operator acts on: NULL with err set when there is no such
 * alarm or it is out of service (the engine's clock moves on either way). */
static struct alarm_inst *operable(struct alarm_engine *e, size_t i, int64_t now_us, char *err,
				   size_t errsz)
{
	struct alarm_inst *in;

	if (e == NULL || i >= e->n) {
		refuse(err, errsz, "no such alarm");
		return NULL;
	}
	in = &e->inst[i];
	touch(e, now_us);
	if (in->state == ALARM_OOS) {
		refuse(err, errsz, "out of service");
		return NULL;
	}
	return in;
}

static bool empty(const char *s)
{
	if (s == NULL)
		return true;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

static void remember(struct alarm_inst *in, const char *op, const char *note)
{
	copy_text(in->operator_name, sizeof(in->operator_name), op);
	if (!empty(note))
		copy_text(in->note, sizeof(in->note), note);
}

static void do_ack(struct alarm_engine *e, size_t i, const char *op, const char *note,
		   int64_t now)
{
	struct alarm_inst *in = &e->inst[i];

	if (in->state == ALARM_UNACK) {
		set_state(e, in, ALARM_ACK, now);
		in->acked_us = now;
	} else {
		set_state(e, in, ALARM_NORMAL, now);
	}
	remember(in, op, note);
	emit(e, i, AEV_ACK, now, op, note, 0);
}

int alarm_ack(struct alarm_engine *e, size_t i, const char *op, const char *note,
	      int64_t now_us, char *err, size_t errsz)
{
	struct alarm_inst *in;

	in = operable(e, i, now_us, err, errsz);
	if (in == NULL)
		return -1;
	if (in->state != ALARM_UNACK && in->state != ALARM_RTN_UNACK)
		return refuse(err, errsz, "nothing to acknowledge");
	if (in->def->ack_note && empty(note))
		return refuse(err, errsz, "a note is required");
	do_ack(e, i, op, note, now_us);
	return 0;
}

static void do_shelve(struct alarm_engine *e, size_t i, const char *op, const char *note,
		      int64_t until, int64_t now)
{
	struct alarm_inst *in = &e->inst[i];

	in->shelved_until_us = until;
	set_state(e, in, ALARM_SHELVED, now);
	remember(in, op, note);
	emit(e, i, AEV_SHELVE, now, op, note, until);
}

/*
 * The journal's note of a shelving: how long, until when (UTC), why:
 * "shelved 1 h until 14:05:00Z: maintenance", "shelved until it clears:
 * ...", "shelved 8 h (the most allowed) until ...". The journal's columns
 * are the contract's; the duration and the reason travel in the note.
 */
static void shelve_note(char *buf, size_t size, int64_t dur_ms, bool capped, int64_t until_us,
			const char *reason)
{
	long long min = (long long)(dur_ms / 60000), s = (long long)(dur_ms / 1000);
	char dur[48], at[16] = "";
	time_t t = (time_t)(until_us / MS_US / 1000);
	struct tm tm;
	int n;

	if (dur_ms % 3600000 == 0)
		snprintf(dur, sizeof(dur), "%lld h", min / 60);
	else if (min >= 60 && dur_ms % 60000 == 0)
		snprintf(dur, sizeof(dur), "%lld h %lld min", min / 60, min % 60);
	else if (dur_ms % 60000 == 0)
		snprintf(dur, sizeof(dur), "%lld min", min);
	else
		snprintf(dur, sizeof(dur), "%lld s", s);
	if (until_us > 0 && gmtime_r(&t, &tm) != NULL)
		strftime(at, sizeof(at), "%H:%M:%SZ", &tm);
	if (dur_ms == 0)
		n = snprintf(buf, size, "shelved until it clears");
	else
		n = snprintf(buf, size, "shelved %s%s until %s", dur,
			     capped ? " (the most allowed)" : "", at);
	if (!empty(reason) && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, ": %s", reason);
}

int alarm_shelve(struct alarm_engine *e, size_t i, const char *op, int64_t dur_ms,
		 const char *note, int64_t now_us, char *err, size_t errsz)
{
	struct alarm_inst *in;
	int64_t max, until;
	char text[ALARM_NOTE_LEN + 64];
	bool capped;

	in = operable(e, i, now_us, err, errsz);
	if (in == NULL)
		return -1;
	if (in->state == ALARM_SUPPRESSED)
		return refuse(err, errsz, "suppressed by design (its meter is down)");
	if (dur_ms < 0)
		return refuse(err, errsz, "the duration must not be negative");
	max = in->def->shelve_max_ms > 0 ? in->def->shelve_max_ms : ALARM_SHELVE_MAX_DEFAULT_MS;
	capped = dur_ms > max;
	if (capped)
		dur_ms = max;
	until = dur_ms == 0 ? 0 : now_us + dur_ms * MS_US;
	shelve_note(text, sizeof(text), dur_ms, capped, until, note);
	do_shelve(e, i, op, text, until, now_us);
	return 0;
}

int alarm_unshelve(struct alarm_engine *e, size_t i, const char *op, int64_t now_us, char *err,
		   size_t errsz)
{
	struct alarm_inst *in;

	in = operable(e, i, now_us, err, errsz);
	if (in == NULL)
		return -1;
	if (in->state != ALARM_SHELVED)
		return refuse(err, errsz, "not shelved");
	remember(in, op, NULL);
	do_unshelve(e, i, op, now_us);
	return 0;
}

int alarm_note(struct alarm_engine *e, size_t i, const char *op, const char *note,
	       int64_t now_us, char *err, size_t errsz)
{
	struct alarm_inst *in;

	in = operable(e, i, now_us, err, errsz);
	if (in == NULL)
		return -1;
	if (empty(note))
		return refuse(err, errsz, "a note is required");
	remember(in, op, note);
	emit(e, i, AEV_NOTE, now_us, op, note, 0);
	return 0;
}

/* ---- other consoles --------------------------------------------------- */

/* Like emit, for a remote event: its id, origin, time and texts. */
static void emit_remote(struct alarm_engine *e, size_t i, const struct alarm_event *src,
			int64_t until)
{
	struct alarm_inst *in = &e->inst[i];
	struct alarm_event ev = *src;

	ev.remote = true;
	ev.inst = i;
	ev.alarm = in->def->name;
	ev.meter = in->meter_name;
	ev.quantity = in->def->quantity != NULL ? in->def->quantity : "";
	ev.priority = in->def->priority;
	ev.state = in->state;
	ev.id[sizeof(ev.id) - 1] = '\0';
	ev.origin[sizeof(ev.origin) - 1] = '\0';
	copy_text(ev.operator_name, sizeof(ev.operator_name), src->operator_name);
	copy_text(ev.note, sizeof(ev.note), src->note);
	if (ev.raised_us == 0)
		ev.raised_us = in->raised_us;
	ev.until_us = until;
	in->last_us = src->t_us > in->last_us ? src->t_us : in->last_us;
	if (in->state == ALARM_NORMAL)
		in->raised_us = 0;
	if (e->fn != NULL)
		e->fn(e->ctx, &ev);
}

int alarm_apply_remote(struct alarm_engine *e, const struct alarm_event *ev, int64_t now_us)
{
	struct alarm_inst *in;
	char id[ALARM_ID_LEN];
	long li;
	size_t i;

	if (e == NULL || ev == NULL)
		return 0;
	util_strlcpy(id, ev->id, sizeof(id));
	if (id[0] == '\0' || seen_has(&e->seen, id))
		return 0;
	seen_add(&e->seen, id);
	if (strncmp(ev->origin, e->origin, sizeof(ev->origin)) == 0)
		return 0; /* our own, come back */
	li = alarm_find(e, ev->alarm, ev->meter);
	if (li < 0)
		return 0;
	i = (size_t)li;
	in = &e->inst[i];
	touch(e, now_us);
	if (in->state == ALARM_OOS)
		return 0;
	/* Another console's action gets the checks a local one gets: a time
	 * that is not in the future, a note where one is required, a
	 * shelving no longer than the definition's shelve_max. */
	if ((ev->kind == AEV_ACK || ev->kind == AEV_SHELVE || ev->kind == AEV_UNSHELVE ||
	     ev->kind == AEV_NOTE) &&
	    (ev->t_us <= 0 || ev->t_us > now_us + ALARM_REMOTE_FUTURE_US))
		return -1;
	if (ev->kind == AEV_ACK && in->def->ack_note && empty(ev->note))
		return -1;
	if (ev->kind == AEV_SHELVE) {
		int64_t max = in->def->shelve_max_ms > 0 ? in->def->shelve_max_ms
							 : ALARM_SHELVE_MAX_DEFAULT_MS;

		if (ev->until_us < 0 ||
		    (ev->until_us > 0 && (ev->until_us <= ev->t_us ||
					  ev->until_us - ev->t_us > max * MS_US + ALARM_REMOTE_GRACE_US)))
			return -1;
	}
	switch (ev->kind) {
	case AEV_ACK:
		if (in->state == ALARM_NORMAL && in->count == 0 && ev->raised_us > 0 &&
		    now_us - e->start_us <= ALARM_JOIN_US) {
			/* This console has just started (a retained state): the
			 * condition may still be on and raise here after its
			 * on-delay; the ack then covers that first raise. */
			pending_add(e, i, ev);
			return 0;
		}
		if (in->state != ALARM_UNACK && in->state != ALARM_RTN_UNACK)
			return 0;
		/* an occurrence raised here after their ack is a new one */
		if (in->raised_us >= ev->t_us + ALARM_REMOTE_GRACE_US)
			return 0;
		if (in->state == ALARM_UNACK) {
			set_state(e, in, ALARM_ACK, now_us);
			in->acked_us = now_us;
		} else {
			set_state(e, in, ALARM_NORMAL, now_us);
		}
		remember(in, ev->operator_name, ev->note);
		emit_remote(e, i, ev, 0);
		return 1;
	case AEV_SHELVE:
		if (in->state == ALARM_SUPPRESSED)
			return 0;
		in->shelved_until_us = ev->until_us > 0 ? ev->until_us : 0;
		set_state(e, in, ALARM_SHELVED, now_us);
		remember(in, ev->operator_name, ev->note);
		emit_remote(e, i, ev, in->shelved_until_us);
		return 1;
	case AEV_UNSHELVE:
		if (in->state != ALARM_SHELVED)
			return 0;
		in->shelved_until_us = 0;
		set_state(e, in, in->active ? ALARM_UNACK : ALARM_NORMAL, now_us);
		if (ev->operator_name[0] != '\0')
			remember(in, ev->operator_name, NULL);
		emit_remote(e, i, ev, 0);
		return 1;
	case AEV_NOTE:
		if (empty(ev->note))
			return 0;
		remember(in, ev->operator_name, ev->note);
		emit_remote(e, i, ev, 0);
		return 1;
	default:
		return 0; /* raise, clear, suppress: every console evaluates its own */
	}
}

void alarm_restore(struct alarm_engine *e, const struct store_alarm_event *row)
{
	struct alarm_inst *in;
	long li;
	int st;

	if (e == NULL || row == NULL || row->alarm == NULL)
		return;
	if (row->id != NULL)
		seen_add(&e->seen, row->id);
	li = alarm_find(e, row->alarm, row->meter != NULL ? row->meter : "");
	if (li < 0)
		return;
	in = &e->inst[li];
	st = alarm_state_parse(row->state);
	if (st < 0 || in->state == ALARM_OOS)
		return;
	if (st == ALARM_OOS)
		st = ALARM_NORMAL; /* back in service */
	in->state = (enum alarm_state)st;
	e->gen++;
	in->since_us = row->t_us;
	in->last_us = row->t_us;
	in->raised_us = st == ALARM_UNACK || st == ALARM_ACK || st == ALARM_RTN_UNACK
				? row->raised_us
				: 0;
	in->first_us = in->raised_us;
	/* active: the condition as the journal last knew it; the next
	 * evaluations clear it (after the off-delay) if it is gone */
	in->active = st == ALARM_UNACK || st == ALARM_ACK;
	in->raise_value = in->active ? row->value : NAN;
	in->acked_us = st == ALARM_ACK ? row->t_us : 0;
	in->shelved_until_us = st == ALARM_SHELVED ? row->until_us : 0;
	copy_text(in->operator_name, sizeof(in->operator_name), row->operator_name);
	copy_text(in->note, sizeof(in->note), row->note);
}

bool alarm_journal_row(struct alarm_engine *e, const struct store_alarm_event *row, bool mirror,
		       struct alarm_event *ev)
{
	struct alarm_inst *in;
	long li;
	int kind, st;

	if (e == NULL || row == NULL || row->alarm == NULL || row->event == NULL)
		return false;
	kind = alarm_event_parse(row->event);
	st = alarm_state_parse(row->state != NULL ? row->state : "");
	li = alarm_find(e, row->alarm, row->meter != NULL ? row->meter : "");
	if (li < 0 || kind < 0 || st < 0)
		return false;
	in = &e->inst[li];
	if (mirror) {
		alarm_restore(e, row);
		in->value = row->value;
	} else if (row->id != NULL) {
		seen_add(&e->seen, row->id);
	}
	if (kind == AEV_RAISE) {
		count_raise(e, in, row->t_us);
		chatter_raise(in, row->t_us);
	}
	if (kind == AEV_RAISE && row->t_us < in->first_us)
		in->first_us = row->t_us; /* history: an earlier raise than the restored one */
	if (row->t_us > in->last_us)
		in->last_us = row->t_us;
	memset(ev, 0, sizeof(*ev));
	ev->kind = (enum alarm_event_kind)kind;
	ev->t_us = row->t_us;
	util_strlcpy(ev->id, row->id != NULL ? row->id : "", sizeof(ev->id));
	util_strlcpy(ev->origin, row->origin != NULL ? row->origin : "", sizeof(ev->origin));
	/* made by this buffer's own engine (this one before a restart, or
	 * the recorder an attached console follows), or shared by another */
	ev->remote = strcmp(ev->origin, e->origin) != 0;
	ev->inst = (size_t)li;
	ev->alarm = in->def->name;
	ev->meter = in->meter_name;
	ev->quantity = in->def->quantity != NULL ? in->def->quantity : "";
	ev->priority = in->def->priority;
	ev->state = (enum alarm_state)st;
	ev->value = row->value;
	ev->limit = row->limit;
	copy_text(ev->operator_name, sizeof(ev->operator_name), row->operator_name);
	copy_text(ev->note, sizeof(ev->note), row->note);
	ev->raised_us = row->raised_us;
	ev->until_us = row->until_us;
	return true;
}

void alarm_perf_since(struct alarm_engine *e, int64_t t_us)
{
	if (e != NULL && t_us > 0 && (e->perf_from_us == 0 || t_us < e->perf_from_us))
		e->perf_from_us = t_us;
}

/* ---- figures ---------------------------------------------------------- */

static void count_all(const struct alarm_engine *e, struct alarm_counts *out)
{
	size_t i;
	const struct alarm_inst *best = NULL;

	memset(out, 0, sizeof(*out));
	out->newest = -1;
	for (i = 0; i < e->n; i++) {
		const struct alarm_inst *in = &e->inst[i];
		enum alarm_priority p = in->def->priority;

		switch (in->state) {
		case ALARM_UNACK:
		case ALARM_RTN_UNACK:
			out->unack[p]++;
			if (in->state == ALARM_UNACK)
				out->active[p]++;
			if (best == NULL || p < best->def->priority ||
			    (p == best->def->priority && in->raised_us > best->raised_us)) {
				best = in;
				out->newest = (long)i;
			}
			break;
		case ALARM_ACK:
			out->active[p]++;
			break;
		case ALARM_SHELVED:
			out->shelved++;
			break;
		case ALARM_SUPPRESSED:
			out->suppressed++;
			break;
		case ALARM_OOS:
			out->oos++;
			break;
		default:
			break;
		}
	}
}

void alarm_counts(const struct alarm_engine *e, struct alarm_counts *out)
{
	if (e == NULL) {
		memset(out, 0, sizeof(*out));
		out->newest = -1;
		return;
	}
	if (e->cache->gen != e->gen) {
		count_all(e, &e->cache->counts);
		e->cache->gen = e->gen;
	}
	*out = e->cache->counts;
}

void alarm_counts_fresh(const struct alarm_engine *e, struct alarm_counts *out)
{
	memset(out, 0, sizeof(*out));
	out->newest = -1;
	if (e != NULL)
		count_all(e, out);
}

int alarm_meter_priority(const struct alarm_engine *e, size_t meter)
{
	int best = -1;
	size_t k;

	if (e == NULL || meter >= e->nmeters)
		return -1;
	for (k = e->mstart[meter]; k < e->mstart[meter + 1]; k++) {
		const struct alarm_inst *in = &e->inst[e->mlist[k]];

		if (in->state != ALARM_UNACK && in->state != ALARM_ACK &&
		    in->state != ALARM_RTN_UNACK)
			continue;
		if (best < 0 || (int)in->def->priority < best)
			best = (int)in->def->priority;
	}
	return best;
}

void alarm_perf(const struct alarm_engine *e, int64_t now_us, struct alarm_perf *out)
{
	int64_t nowb, startb, b;
	unsigned sum = 0, nb = 0;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	if (e == NULL)
		return;
	nowb = now_us / BUCKET_US;
	startb = e->start_us != 0 ? e->start_us / BUCKET_US : nowb;
	if (e->perf_from_us != 0 && e->perf_from_us / BUCKET_US < startb)
		startb = e->perf_from_us / BUCKET_US;
	for (k = 0; k < ALARM_PERF_BUCKETS; k++) {
		const struct bucket *bk;

		b = nowb - (int64_t)(ALARM_PERF_BUCKETS - 1) + (int64_t)k;
		if (b < 0)
			continue;
		bk = &e->per10[(size_t)(b % ALARM_PERF_BUCKETS)];
		out->per10[k] = bk->index == b ? bk->n : 0;
		if (out->per10[k] > out->peak_per10)
			out->peak_per10 = out->per10[k];
		if (out->per10[k] >= ALARM_FLOOD_THRESHOLD)
			out->floods++;
		if (b >= startb) {
			sum += out->per10[k];
			nb++;
		}
	}
	out->avg_per10 = nb > 0 ? (double)sum / nb : 0.0;
	/* This minute and the ten before it (10 to 11 minutes), not the wall
	 * clock's current 10-minute bucket (nearly empty just after hh:m0). */
	for (k = 0; k < UTIL_ARRAY_LEN(e->per1); k++) {
		int64_t m = now_us / 60000000LL - (int64_t)k;

		if (m >= 0 && e->per1[(size_t)(m % 11)].index == m)
			out->last10 += e->per1[(size_t)(m % 11)].n;
	}
	out->flood_now = out->last10 >= ALARM_FLOOD_THRESHOLD;
	memcpy(out->by_priority, e->by_prio, sizeof(out->by_priority));

	for (i = 0; i < e->n; i++) {
		const struct alarm_inst *in = &e->inst[i];
		unsigned pos;

		if (in->state == ALARM_UNACK || in->state == ALARM_ACK) {
			out->active++;
			if (in->raised_us != 0 && now_us - in->raised_us > ALARM_STANDING_US)
				out->standing++;
		}
		if (in->chattering && now_us - newest_raise(in) <= ALARM_CHATTER_WINDOW_MS * MS_US)
			out->chattering++;
		if (in->count == 0)
			continue;
		/* top ten by count, most first; ties in instance order */
		pos = out->ntop;
		while (pos > 0 && e->inst[out->top[pos - 1]].count < in->count)
			pos--;
		if (pos >= UTIL_ARRAY_LEN(out->top))
			continue;
		if (out->ntop < UTIL_ARRAY_LEN(out->top))
			out->ntop++;
		memmove(&out->top[pos + 1], &out->top[pos],
			(out->ntop - 1 - pos) * sizeof(out->top[0]));
		out->top[pos] = i;
	}
}
