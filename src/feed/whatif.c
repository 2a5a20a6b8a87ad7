// SPDX-License-Identifier: MIT
/*
 * whatif: alarm definitions re-evaluated on a recording (whatif.h). The
 * samples are read ten minutes at a time through the samples module's scan
 * (store_reader_raw_window), the comm changes of the range at once (a few
 * rows a meter), and merged in time order into a live state; the engine is
 * evaluated at the recorded instants as the hub's tick would have. The
 * recorded journal's raises and clears and the engine's are counted by the
 * same rules (struct tally), one side after the other, each in time order.
 */
#include "phasor/whatif.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/alarm.h"
#include "phasor/fileids.h"
#include "phasor/live.h"
#include "phasor/store.h"
#include "phasor/util.h"

#define US_S 1000000LL
#define TICK_US (250 * 1000LL)          /* the hub's tick */
#define GAP_US (5 * US_S)               /* beyond this without data: a step a second */
#define GAP_STEP_US US_S
#define WINDOW_US (600 * US_S)          /* samples read at a time */
#define BUCKET_US (600 * US_S)          /* the EEMUA 10 minutes */

/* ---- counting, the same for both sides ---- */

struct inst {
	char alarm[64], meter[128];
	bool active, chattered;
	int64_t raised_us;
	int64_t recent[ALARM_CHATTER_COUNT]; /* the last raises, a ring */
	unsigned nrecent, head;
};

struct defbucket {
	int64_t bucket;               /* the current 10 minutes; INT64_MIN: none */
	unsigned count;
};

struct tally {
	struct whatif_result *r;
	int side;
	struct inst *insts;
	size_t ninsts;
	struct defbucket *db;         /* per def (r->defs), grown with it */
	size_t ndb;
	struct defbucket all;         /* every alarm, for peak and floods */
};

static size_t def_index(struct whatif_result *r, const char *alarm, const char *priority,
			bool from_new)
{
	size_t i;

	for (i = 0; i < r->ndefs; i++)
		if (strcmp(r->defs[i].alarm, alarm) == 0)
			break;
	if (i == r->ndefs) {
		r->defs = util_reallocarray(r->defs, r->ndefs + 1, sizeof(*r->defs));
		memset(&r->defs[i], 0, sizeof(r->defs[i]));
		util_strlcpy(r->defs[i].alarm, alarm, sizeof(r->defs[i].alarm));
		r->ndefs++;
	}
	if (priority != NULL && (from_new || r->defs[i].priority[0] == '\0'))
		util_strlcpy(r->defs[i].priority, priority, sizeof(r->defs[i].priority));
	return i;
}

static void bucket_count(struct defbucket *b, int64_t t, unsigned *peak, unsigned *floods)
{
	int64_t k = t / BUCKET_US;

	if (b->bucket != k) {
		b->bucket = k;
		b->count = 0;
	}
	b->count++;
	if (b->count > *peak)
		*peak = b->count;
	if (floods != NULL && b->count == ALARM_FLOOD_THRESHOLD)
		(*floods)++;
}

static struct inst *inst_of(struct tally *t, const char *alarm, const char *meter)
{
	size_t i;

	for (i = 0; i < t->ninsts; i++)
		if (strcmp(t->insts[i].alarm, alarm) == 0 && strcmp(t->insts[i].meter, meter) == 0)
			return &t->insts[i];
	t->insts = util_reallocarray(t->insts, t->ninsts + 1, sizeof(*t->insts));
	memset(&t->insts[t->ninsts], 0, sizeof(t->insts[0]));
	util_strlcpy(t->insts[t->ninsts].alarm, alarm, sizeof(t->insts[0].alarm));
	util_strlcpy(t->insts[t->ninsts].meter, meter, sizeof(t->insts[0].meter));
	return &t->insts[t->ninsts++];
}

static void tally_event(struct tally *t, enum alarm_event_kind kind, const char *alarm,
			const char *meter, const char *priority, int64_t at)
{
	struct whatif_result *r = t->r;
	size_t d;
	struct inst *in;

	if (kind != AEV_RAISE && kind != AEV_CLEAR)
		return;
	d = def_index(r, alarm, priority, t->side == WHATIF_NEW);
	if (t->ndb < r->ndefs) {
		t->db = util_reallocarray(t->db, r->ndefs, sizeof(*t->db));
		for (; t->ndb < r->ndefs; t->ndb++)
			t->db[t->ndb] = (struct defbucket){ INT64_MIN, 0 };
	}
	r->defs[d].defined[t->side] = true;
	in = inst_of(t, alarm, meter);
	if (kind == AEV_CLEAR) {
		in->active = false;
		return;
	}
	r->defs[d].raises[t->side]++;
	r->raises[t->side]++;
	bucket_count(&t->db[d], at, &r->defs[d].peak10[t->side], NULL);
	bucket_count(&t->all, at, &r->peak10[t->side], &r->floods[t->side]);
	in->active = true;
	in->raised_us = at;
	in->recent[in->head] = at;
	in->head = (in->head + 1) % ALARM_CHATTER_COUNT;
	if (in->nrecent < ALARM_CHATTER_COUNT)
		in->nrecent++;
	/* the oldest of the last five raises within the window: chattering */
	if (!in->chattered && in->nrecent == ALARM_CHATTER_COUNT &&
	    at - in->recent[in->head] <= ALARM_CHATTER_WINDOW_MS * 1000LL) {
		in->chattered = true;
		r->defs[d].chattering[t->side]++;
	}
}

static void tally_end(struct tally *t)
{
	struct whatif_result *r = t->r;
	double buckets = (double)(r->to_us - r->from_us) / (double)BUCKET_US;
	size_t i;

	for (i = 0; i < t->ninsts; i++) {
		const struct inst *in = &t->insts[i];

		if (in->active && r->to_us - in->raised_us > ALARM_STANDING_US) {
			size_t d = def_index(r, in->alarm, NULL, false);

			r->defs[d].standing[t->side]++;
		}
	}
	r->avg10[t->side] = buckets > 0 ? (double)r->raises[t->side] / (buckets < 1 ? 1 : buckets)
					: 0;
	free(t->insts);
	free(t->db);
}

/* ---- the recorded side ---- */

static int on_journal(void *ctx, const struct store_alarm_event *e)
{
	int kind = alarm_event_parse(e->event);

	if (kind >= 0)
		tally_event(ctx, (enum alarm_event_kind)kind, e->alarm, e->meter, e->priority,
			    e->t_us);
	return 0;
}

/* ---- the new side: the recording through an engine ---- */

struct comm_row {
	int64_t t_us;
	long meter;
	struct meter_comm c;
};

struct run {
	const struct config *cfg;
	struct store_reader *rd;
	struct fileids ids;
	struct live *live;
	struct alarm_engine *e;
	struct tally *t;
	struct comm_row *comms;
	size_t ncomms, ci;
	struct sample *batch;
	size_t nbatch, cap;
	int64_t (*sess)[2];           /* the sessions' [start, end]: an engine ran then */
	size_t nsess, si;
	int64_t next_eval;
	uint64_t samples, evaluations;
};

static int on_comm_row(void *ctx, const struct store_comm_row *r)
{
	struct run *x = ctx;
	long m = fileids_meter_named(&x->ids, r->meter);

	if (m < 0)
		return 0;
	x->comms = util_reallocarray(x->comms, x->ncomms + 1, sizeof(*x->comms));
	x->comms[x->ncomms].t_us = r->t_us;
	x->comms[x->ncomms].meter = m;
	fileids_comm(r, &x->comms[x->ncomms].c);
	x->ncomms++;
	return 0;
}

static void on_engine(void *ctx, const struct alarm_event *ev)
{
	struct run *x = ctx;

	tally_event(x->t, ev->kind, ev->alarm, ev->meter, alarm_priority_name(ev->priority),
		    ev->t_us);
}

static void flush(struct run *x)
{
	if (x->nbatch > 0)
		live_apply(x->live, x->batch, x->nbatch);
	x->samples += x->nbatch;
	x->nbatch = 0;
}

/* Everything recorded up to t applied, the engine evaluated at every tick before it. */
static void run_until(struct run *x, int64_t t)
{
	for (;;) {
		int64_t next = x->ci < x->ncomms && x->comms[x->ci].t_us < x->next_eval
				       ? x->comms[x->ci].t_us
				       : x->next_eval;

		if (next > t)
			break;
		flush(x);
		if (x->ci < x->ncomms && x->comms[x->ci].t_us == next && next < x->next_eval) {
			live_set_comm(x->live, (size_t)x->comms[x->ci].meter, &x->comms[x->ci].c);
			x->ci++;
			continue;
		}
		/* Between sessions no engine ran: none is evaluated there. */
		while (x->si < x->nsess && x->sess[x->si][1] < x->next_eval)
			x->si++;
		if (x->si < x->nsess && x->next_eval < x->sess[x->si][0]) {
			x->next_eval = x->sess[x->si][0];
			continue;
		}
		if (x->si == x->nsess) {
			x->next_eval = INT64_MAX;
			continue;
		}
		alarm_evaluate(x->e, x->live, x->cfg, x->next_eval);
		x->evaluations++;
		x->next_eval += t - x->next_eval > GAP_US ? GAP_STEP_US : TICK_US;
	}
}

static int on_sample(void *ctx, const struct store_raw_row *r)
{
	struct run *x = ctx;

	run_until(x, r->t_us - 1);
	if (x->nbatch == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 1024;
		x->batch = util_reallocarray(x->batch, x->cap, sizeof(*x->batch));
	}
	if (fileids_sample(&x->ids, r, &x->batch[x->nbatch]))
		x->nbatch++;
	return 0;
}

static int on_session(void *ctx, const struct store_session *s)
{
	struct run *x = ctx;

	x->sess = util_reallocarray(x->sess, x->nsess + 1, sizeof(*x->sess));
	x->sess[x->nsess][0] = s->start_us;
	x->sess[x->nsess][1] = s->end_us > 0 ? s->end_us : INT64_MAX;
	/* a session never closed (killed) ended when the next one began */
	if (x->nsess > 0 && x->sess[x->nsess - 1][1] > s->start_us)
		x->sess[x->nsess - 1][1] = s->start_us;
	x->nsess++;
	return 0;
}

static int run_new(struct run *x, struct whatif_result *r, char **cause)
{
	struct store_filter f = { NULL, NULL, r->from_us, r->to_us };
	int64_t w;
	size_t i;

	fileids_init(&x->ids, x->cfg);
	if (fileids_load(&x->ids, x->rd, cause) < 0)
		return -1;
	x->live = live_new(x->cfg, NULL, NULL);
	x->e = alarm_engine_new(x->cfg, "what-if", on_engine, x);
	alarm_perf_since(x->e, r->from_us);
	/* every definition of the new configuration is listed, raised or not */
	for (i = 0; i < alarm_count(x->e); i++) {
		const struct alarm_inst *in = alarm_get(x->e, i);
		size_t d = def_index(r, in->def->name, alarm_priority_name(in->def->priority), true);

		r->defs[d].defined[WHATIF_NEW] = true; /* (def_index may move r->defs) */
	}
	if (store_reader_comm_changes(x->rd, &f, on_comm_row, x, cause) < 0 ||
	    store_reader_sessions(x->rd, on_session, x, cause) < 0)
		return -1;
	x->next_eval = r->from_us;
	for (w = r->from_us; w < r->to_us; w += WINDOW_US) {
		int64_t end = r->to_us - w > WINDOW_US ? w + WINDOW_US : r->to_us;

		if (store_reader_raw_window(x->rd, w, end, -1, on_sample, x, cause) < 0)
			return -1;
	}
	flush(x);
	run_until(x, r->to_us);
	r->samples = x->samples;
	r->evaluations = x->evaluations;
	return 0;
}

int whatif_run(const char *db, const struct config *cfg, int64_t from_us, int64_t to_us,
	       struct whatif_result *out, char **cause)
{
	struct run x;
	struct tally t = { .r = out, .all = { INT64_MIN, 0 } };
	int64_t first, last;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&x, 0, sizeof(x));
	x.cfg = cfg;
	x.rd = store_reader_open(db, cause);
	if (x.rd == NULL)
		return -1;
	if (store_reader_time_bounds(x.rd, &first, &last, cause) < 0)
		goto out;
	if (last == 0) {
		*cause = util_printf("%s holds no samples: nothing to evaluate", db);
		goto out;
	}
	out->from_us = from_us > first ? from_us : first;
	out->to_us = to_us <= last ? to_us : last + 1;
	if (out->from_us >= out->to_us) {
		*cause = util_printf("no recording in that range");
		goto out;
	}
	t.side = WHATIF_RECORDED;
	rc = store_reader_alarm_events(x.rd, out->from_us, out->to_us, on_journal, &t, cause);
	tally_end(&t);
	if (rc < 0)
		goto out;
	rc = -1;
	t = (struct tally){ .r = out, .side = WHATIF_NEW, .all = { INT64_MIN, 0 } };
	x.t = &t;
	if (run_new(&x, out, cause) == 0)
		rc = 0;
	tally_end(&t);
out:
	alarm_engine_free(x.e);
	live_free(x.live);
	fileids_free(&x.ids);
	free(x.comms);
	free(x.batch);
	free(x.sess);
	store_reader_close(x.rd);
	return rc;
}

void whatif_free(struct whatif_result *r)
{
	free(r->defs);
	r->defs = NULL;
	r->ndefs = 0;
}
