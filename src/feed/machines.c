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

		machine_track_tick(t, now_us, day, shift, STALE_PERIODS * m->period_ms * US_PER_MS);
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
