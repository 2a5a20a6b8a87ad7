// SPDX-License-Identifier: MIT
/*
 * live: the live state of the plant, owned by the hub thread. For each
 * configured meter it keeps the latest value of every quantity (with time
 * and quality), the comm state its source reports, sample counters, and
 * an hour's history rings of total P, Q, PF and mean current for the
 * sparklines and the meter view's chart (the newest 15 minutes per second,
 * the older part per 10 s bucket: live.h); it also notices energy counters
 * going backwards and keeps each counter joined across those resets
 * (live_counter()).
 *
 * Samples may arrive late or out of order (a slow poller, a retained MQTT
 * message): an older sample never replaces a newer latest value, and goes
 * into the history only while inside the ring's one-hour window. A sample
 * stamped far in the future (a wall clock that was set ahead) is counted
 * and otherwise ignored, so it cannot freeze the latest values or wipe the
 * history. Not thread-safe: only the owning thread calls in.
 */
#include "phasor/live.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"
#include "phasor/utility.h"

#define US_PER_S INT64_C(1000000)
/* Samples later than the wall clock by more than this are not believed. */
#define FUTURE_US (300 * US_PER_S)
#define STALE_PERIODS 3
#define DEFAULT_PERIOD_MS 1000

/* Three per-phase values completed within one second (P, I). */
struct triple {
	int64_t sec;                     /* the second being assembled; 0: none */
	unsigned mask;                   /* phases arrived in it */
	double v[3];
};

/* What the hub does not need to see. */
struct live_priv {
	bool has_p_total;                /* the meter reports p_total itself */
	bool flow_rate;                  /* a utility meter: its flow is the P ring's */
	struct triple p, i;
	/* per counter quantity, together (the KPI reads them every frame) */
	struct counter {
		double last_good;        /* the previous good value */
		int64_t last_good_t;     /* and its time; 0: none */
		double first_good;       /* the first good value seen */
		int64_t first_good_t;
		double bridged;          /* sum of (before - after) over its resets, of the
					  * span over its wraps */
		uint64_t resets;
	} c[QTY__COUNT];
};

struct live {
	const struct config *cfg;
	live_reset_fn on_reset;
	void *ctx;
	size_t n;
	struct live_meter *meters;
	struct live_priv *priv;
};

/* Does the meter's profile map p_total (so phases need not be summed)? */
static bool profile_has_p_total(const struct profile *p)
{
	return p != NULL && profile_maps(p, QTY_P_TOTAL);
}

struct live *live_new(const struct config *cfg, live_reset_fn on_reset, void *ctx)
{
	struct live *l = util_calloc(1, sizeof(*l));
	size_t i;

	l->cfg = cfg;
	l->on_reset = on_reset;
	l->ctx = ctx;
	l->n = cfg != NULL ? cfg->nmeters : 0;
	l->meters = util_calloc(l->n > 0 ? l->n : 1, sizeof(*l->meters));
	l->priv = util_calloc(l->n > 0 ? l->n : 1, sizeof(*l->priv));
	for (i = 0; i < l->n; i++) {
		struct live_meter *m = &l->meters[i];

		m->cfg = &cfg->meters[i];
		m->index = i;
		m->comm.status = COMM_UNKNOWN;
		m->comm.latency_us = -1;
		l->priv[i].has_p_total = profile_has_p_total(m->cfg->profile);
		l->priv[i].flow_rate = m->cfg->utility != UTILITY_ELECTRICITY &&
				       !l->priv[i].has_p_total;
	}
	return l;
}

void live_free(struct live *l)
{
	if (l == NULL)
		return;
	free(l->meters);
	free(l->priv);
	free(l);
}

size_t live_count(const struct live *l)
{
	return l != NULL ? l->n : 0;
}

struct live_meter *live_meter(struct live *l, size_t i)
{
	return l != NULL && i < l->n ? &l->meters[i] : NULL;
}

const struct live_meter *live_meter_const(const struct live *l, size_t i)
{
	return l != NULL && i < l->n ? &l->meters[i] : NULL;
}

void live_set_comm(struct live *l, size_t meter, const struct meter_comm *c)
{
	if (l == NULL || c == NULL || meter >= l->n)
		return;
	l->meters[meter].comm = *c;
}

/* ---- history rings ---- */

static int64_t sec_of(int64_t t_us)
{
	int64_t s = t_us / US_PER_S;

	return (t_us % US_PER_S < 0) ? s - 1 : s;
}

/* x mod m, in [0, m). */
static size_t mod_of(int64_t x, int64_t m)
{
	int64_t r = x % m;

	return (size_t)(r < 0 ? r + m : r);
}

/* The bucket of second sec (floor division: seconds before 1970 too). */
static size_t bucket_of(int64_t sec)
{
	int64_t b = sec / LIVE_COARSE_STEP_S;

	if (sec % LIVE_COARSE_STEP_S < 0)
		b--;
	return mod_of(b, LIVE_COARSE_N);
}

static bool seen_get(const struct live_ring *r, int64_t sec)
{
	size_t i = mod_of(sec, LIVE_COARSE_S);

	return (r->seen[i / 8] >> (i % 8)) & 1u;
}

static void seen_put(struct live_ring *r, int64_t sec, bool on)
{
	size_t i = mod_of(sec, LIVE_COARSE_S);
	uint8_t bit = (uint8_t)(1u << (i % 8));

	r->seen[i / 8] = on ? (uint8_t)(r->seen[i / 8] | bit) : (uint8_t)(r->seen[i / 8] & ~bit);
}

/* One second's mean v into its bucket. */
static void coarse_add(struct live_ring *r, int64_t sec, double v)
{
	size_t b = bucket_of(sec);

	if (r->ccount[b] == UINT16_MAX)
		return;
	if (r->ccount[b] == 0 || v < r->clo[b])
		r->clo[b] = (float)v;
	if (r->ccount[b] == 0 || v > r->chi[b])
		r->chi[b] = (float)v;
	r->csum[b] += v;
	r->ccount[b]++;
	seen_put(r, sec, true);
}

/*
 * Second x leaves the fine window: its mean into its bucket (emptied first
 * when x opens it: it held seconds from before the hour), its slot emptied.
 */
static void fold(struct live_ring *r, int64_t x)
{
	size_t slot = mod_of(x, LIVE_FINE_S);

	if (mod_of(x, LIVE_COARSE_STEP_S) == 0) {
		size_t b = bucket_of(x);

		r->csum[b] = 0.0;
		r->ccount[b] = 0;
	}
	seen_put(r, x, false);
	if (r->count[slot] > 0)
		coarse_add(r, x, r->sum[slot] / r->count[slot]);
	r->sum[slot] = 0.0;
	r->count[slot] = 0;
}

static void ring_add(struct live_ring *r, int64_t sec, double v)
{
	size_t slot;

	if (sec <= 0 || !isfinite(v))
		return;
	if (r->last_s == 0) {
		r->last_s = sec;
	} else if (sec > r->last_s) {
		/* Advance: the seconds skipped over held data an hour old. */
		if (sec - r->last_s >= LIVE_HISTORY_S) {
			memset(r, 0, sizeof(*r));
		} else {
			int64_t s;

			/* the seconds from last_s + 1 on take the slots of those
			 * LIVE_FINE_S before */
			for (s = r->last_s + 1; s <= sec; s++)
				fold(r, s - LIVE_FINE_S);
		}
		r->last_s = sec;
	} else if (sec <= r->last_s - LIVE_HISTORY_S) {
		return; /* older than the window */
	} else if (sec <= r->last_s - LIVE_FINE_S) {
		coarse_add(r, sec, v); /* late, for an older second */
		return;
	}
	slot = mod_of(sec, LIVE_FINE_S);
	if (r->count[slot] == UINT16_MAX)
		return;
	r->sum[slot] += v;
	r->count[slot]++;
}

/* Adds phase k's value; true with *out the sum when the three are complete. */
static bool triple_add(struct triple *t, int k, int64_t sec, double v, double *out)
{
	if (sec > t->sec) {
		t->sec = sec;
		t->mask = 0;
	} else if (sec < t->sec) {
		return false;
	}
	t->v[k] = v;
	t->mask |= 1u << k;
	if (t->mask != 7u)
		return false;
	t->mask = 0;
	*out = t->v[0] + t->v[1] + t->v[2];
	return true;
}

static void feed_history(struct live_meter *m, struct live_priv *p, unsigned qty, int64_t t_us,
			 double v)
{
	int64_t sec = sec_of(t_us);
	double sum;

	switch (qty) {
	case QTY_P_TOTAL:
		p->has_p_total = true;
		ring_add(&m->hist[LIVE_HIST_P], sec, v);
		break;
	case QTY_P_L1:
	case QTY_P_L2:
	case QTY_P_L3:
		if (!p->has_p_total && triple_add(&p->p, (int)(qty - QTY_P_L1), sec, v, &sum))
			ring_add(&m->hist[LIVE_HIST_P], sec, sum);
		break;
	case QTY_FLOW:
		if (p->flow_rate)
			ring_add(&m->hist[LIVE_HIST_P], sec, v);
		break;
	case QTY_Q_TOTAL:
		ring_add(&m->hist[LIVE_HIST_Q], sec, v);
		break;
	case QTY_PF_TOTAL:
		ring_add(&m->hist[LIVE_HIST_PF], sec, v);
		break;
	case QTY_I_L1:
	case QTY_I_L2:
	case QTY_I_L3:
		if (triple_add(&p->i, (int)(qty - QTY_I_L1), sec, v, &sum))
			ring_add(&m->hist[LIVE_HIST_I], sec, sum / 3.0);
		break;
	default:
		break;
	}
}

/* ---- samples ---- */

static void check_counter(struct live *l, struct live_meter *m, struct live_priv *p,
			  const struct sample *s)
{
	unsigned q = s->qty;
	double before = p->c[q].last_good, span;

	if (s->t_us <= p->c[q].last_good_t)
		return; /* late: the newer value already moved on */
	if (p->c[q].last_good_t == 0) {
		p->c[q].first_good = s->value;
		p->c[q].first_good_t = s->t_us;
	} else if (s->value < before &&
		   utility_counter_wrapped(before, s->value,
					   (span = config_counter_span(l->cfg, m->cfg, q)))) {
		/* A wrap of the register: the joined counter rises by
		 * value + span - before, exactly. */
		p->c[q].bridged += span;
		m->counter_wraps++;
		if (l->on_reset != NULL)
			l->on_reset(l->ctx, m->index, q, before, s->value, span, s->t_us);
	} else if (live_counter_reset(before, s->value,
				      s->t_us - p->c[q].last_good_t > live_counter_gap_us(m->cfg))) {
		/* The joined counter stays where it was: the new segment
		 * adds from the value after the reset. */
		p->c[q].bridged += before - s->value;
		p->c[q].resets++;
		m->counter_resets++;
		if (l->on_reset != NULL)
			l->on_reset(l->ctx, m->index, q, before, s->value, 0, s->t_us);
	}
	p->c[q].last_good = s->value;
	p->c[q].last_good_t = s->t_us;
}

static void apply_one(struct live *l, const struct sample *s, int64_t now_us)
{
	struct live_meter *m;
	struct live_priv *p;
	struct live_value *v;
	bool good;

	if (s->meter >= l->n || s->qty >= QTY__COUNT)
		return;
	m = &l->meters[s->meter];
	p = &l->priv[s->meter];
	m->samples++;
	good = s->quality == QUALITY_GOOD && isfinite(s->value);
	if (!good)
		m->bad_samples++;
	if (s->t_us <= 0 || s->t_us > now_us + FUTURE_US)
		return;

	v = &m->v[s->qty];
	if (v->t_us == 0 || s->t_us >= v->t_us) {
		v->value = s->value;
		v->t_us = s->t_us;
		v->quality = good ? QUALITY_GOOD : QUALITY_BAD;
	}
	if (s->t_us > m->last_sample_us)
		m->last_sample_us = s->t_us;
	if (!good)
		return;
	if (qty_info(s->qty)->counter)
		check_counter(l, m, p, s);
	feed_history(m, p, s->qty, s->t_us, s->value);
}

void live_apply(struct live *l, const struct sample *s, size_t n)
{
	int64_t now_us;
	size_t i;

	if (l == NULL || s == NULL || n == 0)
		return;
	now_us = util_now_us();
	for (i = 0; i < n; i++)
		apply_one(l, &s[i], now_us);
}

void live_history_add(struct live *l, const struct sample *s, size_t n)
{
	int64_t now_us = util_now_us();
	size_t i;

	if (l == NULL || s == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct sample *x = &s[i];

		if (x->meter >= l->n || x->qty >= QTY__COUNT || x->quality != QUALITY_GOOD ||
		    !isfinite(x->value) || x->t_us <= 0 || x->t_us > now_us + FUTURE_US)
			continue;
		feed_history(&l->meters[x->meter], &l->priv[x->meter], x->qty, x->t_us, x->value);
	}
}

bool live_counter_reset(double before, double after, bool after_gap)
{
	if (after_gap)
		return after < before;
	return before - after > LIVE_RESET_TOLERANCE * fabs(before);
}

int64_t live_counter_gap_us(const struct config_meter *cm)
{
	int ms = cm != NULL && cm->poll_ms > 0 ? cm->poll_ms : DEFAULT_PERIOD_MS;

	return STALE_PERIODS * (int64_t)ms * 1000;
}

bool live_counter(const struct live *l, size_t meter, unsigned qty, struct live_counter *out)
{
	const struct live_priv *p;

	if (l == NULL || meter >= l->n || qty >= QTY__COUNT || !qty_info(qty)->counter)
		return false;
	p = &l->priv[meter];
	if (p->c[qty].last_good_t == 0)
		return false;
	*out = (struct live_counter){
		.value = p->c[qty].last_good,
		.t_us = p->c[qty].last_good_t,
		.first = p->c[qty].first_good,
		.first_t_us = p->c[qty].first_good_t,
		.joined = p->c[qty].last_good + p->c[qty].bridged,
		.resets = p->c[qty].resets,
	};
	return true;
}

/* ---- staleness ---- */

int64_t live_period_us(const struct live_meter *m)
{
	int ms = m != NULL && m->cfg != NULL && m->cfg->poll_ms > 0 ? m->cfg->poll_ms
								      : DEFAULT_PERIOD_MS;

	return (int64_t)ms * 1000;
}

static bool too_old(const struct live_meter *m, int64_t t_us, int64_t now_us)
{
	int64_t grace_us = m->comm.stale_grace_ms > 0 ? (int64_t)m->comm.stale_grace_ms * 1000 : 0;

	return t_us == 0 || now_us - t_us > STALE_PERIODS * live_period_us(m) + grace_us;
}

bool live_value_stale(const struct live_meter *m, unsigned qty, int64_t now_us)
{
	if (m == NULL || qty >= QTY__COUNT)
		return true;
	return too_old(m, m->v[qty].t_us, now_us);
}

bool live_meter_stale(const struct live_meter *m, int64_t now_us)
{
	if (m == NULL)
		return true;
	return too_old(m, m->last_sample_us, now_us);
}

/* ---- analysis ---- */

static const struct {
	unsigned short qty;
	unsigned short off;
} input_map[] = {
	{ QTY_V_L1N, offsetof(struct analysis_input, v_ln[0]) },
	{ QTY_V_L2N, offsetof(struct analysis_input, v_ln[1]) },
	{ QTY_V_L3N, offsetof(struct analysis_input, v_ln[2]) },
	{ QTY_V_L12, offsetof(struct analysis_input, v_ll[0]) },
	{ QTY_V_L23, offsetof(struct analysis_input, v_ll[1]) },
	{ QTY_V_L31, offsetof(struct analysis_input, v_ll[2]) },
	{ QTY_I_L1, offsetof(struct analysis_input, i[0]) },
	{ QTY_I_L2, offsetof(struct analysis_input, i[1]) },
	{ QTY_I_L3, offsetof(struct analysis_input, i[2]) },
	{ QTY_I_N, offsetof(struct analysis_input, i_n) },
	{ QTY_P_L1, offsetof(struct analysis_input, p[0]) },
	{ QTY_P_L2, offsetof(struct analysis_input, p[1]) },
	{ QTY_P_L3, offsetof(struct analysis_input, p[2]) },
	{ QTY_P_TOTAL, offsetof(struct analysis_input, p_total) },
	{ QTY_Q_L1, offsetof(struct analysis_input, q[0]) },
	{ QTY_Q_L2, offsetof(struct analysis_input, q[1]) },
	{ QTY_Q_L3, offsetof(struct analysis_input, q[2]) },
	{ QTY_Q_TOTAL, offsetof(struct analysis_input, q_total) },
	{ QTY_S_L1, offsetof(struct analysis_input, s[0]) },
	{ QTY_S_L2, offsetof(struct analysis_input, s[1]) },
	{ QTY_S_L3, offsetof(struct analysis_input, s[2]) },
	{ QTY_S_TOTAL, offsetof(struct analysis_input, s_total) },
	{ QTY_PF_L1, offsetof(struct analysis_input, pf[0]) },
	{ QTY_PF_L2, offsetof(struct analysis_input, pf[1]) },
	{ QTY_PF_L3, offsetof(struct analysis_input, pf[2]) },
	{ QTY_PF_TOTAL, offsetof(struct analysis_input, pf_total) },
	{ QTY_THD_V_L1, offsetof(struct analysis_input, thd_v[0]) },
	{ QTY_THD_V_L2, offsetof(struct analysis_input, thd_v[1]) },
	{ QTY_THD_V_L3, offsetof(struct analysis_input, thd_v[2]) },
	{ QTY_THD_I_L1, offsetof(struct analysis_input, thd_i[0]) },
	{ QTY_THD_I_L2, offsetof(struct analysis_input, thd_i[1]) },
	{ QTY_THD_I_L3, offsetof(struct analysis_input, thd_i[2]) },
	{ QTY_FREQ, offsetof(struct analysis_input, freq) },
};

void live_analysis_input(const struct live_meter *m, int64_t now_us, struct analysis_input *in)
{
	size_t i;

	analysis_input_clear(in);
	if (m == NULL)
		return;
	for (i = 0; i < UTIL_ARRAY_LEN(input_map); i++) {
		const struct live_value *v = &m->v[input_map[i].qty];
		double *dst = (double *)(void *)((char *)in + input_map[i].off);

		if (v->quality != QUALITY_GOOD || !isfinite(v->value) ||
		    live_value_stale(m, input_map[i].qty, now_us))
			continue;
		*dst = v->value;
	}
}

void live_analysis_params(const struct live_meter *m, const struct config *cfg,
			  struct analysis_params *par)
{
	analysis_defaults(par);
	if (m != NULL && m->cfg != NULL) {
		if (m->cfg->nominal_voltage > 0.0)
			par->nominal_v = m->cfg->nominal_voltage;
		if (m->cfg->max_power > 0.0)
			par->max_power = m->cfg->max_power;
	}
	if (cfg != NULL) {
		if (cfg->site.target_pf > 0.0 && cfg->site.target_pf <= 1.0)
			par->target_pf = cfg->site.target_pf;
		if (cfg->site.nominal_freq > 0.0)
			par->nominal_freq = cfg->site.nominal_freq;
	}
}

/* ---- history ---- */

/* The ring of history h of m; NULL when there is none. */
static const struct live_ring *ring_of(const struct live_meter *m, enum live_hist h)
{
	return m != NULL && (unsigned)h < LIVE_HIST__COUNT ? &m->hist[h] : NULL;
}

/*
 * Second sec of r: false when it had no data or is outside the window;
 * else *mean what live_history gives for it, *lo and *hi the extremes of
 * the per-second means it stands for (its own, or its bucket's).
 */
static bool second_get(const struct live_ring *r, int64_t sec, double *mean, double *lo,
		       double *hi)
{
	size_t k;

	if (r == NULL || r->last_s == 0 || sec > r->last_s || sec <= r->last_s - LIVE_HISTORY_S)
		return false;
	if (sec > r->last_s - LIVE_FINE_S) {
		k = mod_of(sec, LIVE_FINE_S);
		if (r->count[k] == 0)
			return false;
		*mean = *lo = *hi = r->sum[k] / r->count[k];
		return true;
	}
	k = bucket_of(sec);
	if (!seen_get(r, sec) || r->ccount[k] == 0)
		return false;
	*mean = r->csum[k] / r->ccount[k];
	*lo = r->clo[k];
	*hi = r->chi[k];
	return true;
}

size_t live_history(const struct live_meter *m, enum live_hist h, int64_t now_us, double *out,
		    size_t n)
{
	const struct live_ring *r = ring_of(m, h);
	int64_t now_s = sec_of(now_us);
	double lo, hi;
	size_t i;

	int64_t first, sec;
	size_t k;

	if (out == NULL || n == 0)
		return 0;
	if (n > LIVE_HISTORY_S)
		n = LIVE_HISTORY_S;
	first = now_s - (int64_t)(n - 1);
	/* Up to the fine part: second by second through the buckets. */
	for (i = 0, sec = first; i < n && (r == NULL || sec <= r->last_s - LIVE_FINE_S); i++, sec++)
		if (!second_get(r, sec, &out[i], &lo, &hi))
			out[i] = NAN;
	if (i == n)
		return n;
	/* The fine part (a sparkline's whole window, every frame): its slots
	 * in a row, without a division per second. */
	k = mod_of(sec, LIVE_FINE_S);
	for (; i < n; i++, sec++) {
		out[i] = sec <= r->last_s && r->last_s != 0 && r->count[k] != 0
				 ? r->sum[k] / r->count[k]
				 : NAN;
		if (++k == LIVE_FINE_S)
			k = 0;
	}
	return n;
}

bool live_history_range(const struct live_meter *m, enum live_hist h, int64_t now_us, size_t n,
			double *lo, double *hi)
{
	const struct live_ring *r = ring_of(m, h);
	int64_t now_s = sec_of(now_us);
	double mean, a, b;
	size_t i;

	*lo = *hi = NAN;
	if (n > LIVE_HISTORY_S)
		n = LIVE_HISTORY_S;
	for (i = 0; i < n; i++) {
		if (!second_get(r, now_s - (int64_t)i, &mean, &a, &b))
			continue;
		if (isnan(*lo) || a < *lo)
			*lo = a;
		if (isnan(*hi) || b > *hi)
			*hi = b;
	}
	return !isnan(*lo);
}
