// SPDX-License-Identifier: MIT
/*
 * kpi: the site figures of the console header (site power now, today's
 * energy with its cost and CO2, data quality, top consumers), computed from
 * the live state by the UI thread at each refresh. kpi_update() only reads
 * memory and never waits.
 *
 * Today's energy is a meter's import counter now minus its value at local
 * midnight (the baseline). The midnight value lives in the local buffer:
 * kpi_new() starts one worker thread that opens its own read-only reader,
 * looks up each meter's first good e_imp sample at or after midnight
 * (store_reader_first_good(), bounded to SCAN_ROWS rows per quantity so it
 * ends quickly even when a meter has nothing), writes the results into an
 * array it alone touches, and then sets an atomic flag (release). The UI
 * thread reads the array only after seeing the flag (acquire), once. Until
 * then, or without a buffer, a meter's baseline is the first good counter
 * value the kpi sees, and the figure says since when (partial). At each
 * local midnight the baseline becomes the live value (no buffer needed).
 *
 * Data quality counts the samples each meter delivered against what its
 * poll period promises (Modbus: the profile's registers per poll; MQTT: the
 * most quantities seen within one period, learned), since the first update.
 * Details and limits of every figure: docs/analysis.md, "Site figures".
 */
#include "phasor/kpi.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "phasor/log.h"
#include "phasor/store.h"
#include "phasor/util.h"

#define US_PER_S INT64_C(1000000)
/* A counter going down by more than this share was reset (as live.c). */
#define RESET_TOLERANCE 0.001
/* Data quality is shown once a meter has had this many periods. */
#define QUALITY_PERIODS 3
/* A buffered midnight value later than this many periods after midnight
 * leaves a gap: the figure is partial from that sample on. */
#define LATE_PERIODS 3
/* Rows the worker examines per quantity at most (about 0.2 s warm). */
#define SCAN_ROWS INT64_C(2000000)

/* The counters the worker looks up: e_imp, then e_imp_l1..3. */
enum { SLOT_TOTAL, SLOT_L1, SLOT_L2, SLOT_L3, SLOT__COUNT };

static const unsigned slot_qty[SLOT__COUNT] = { QTY_E_IMP, QTY_E_IMP_L1, QTY_E_IMP_L2,
						QTY_E_IMP_L3 };

struct kmeter {
	/* what the profile maps (both when unknown) */
	bool want_total, want_phases;

	/* energy */
	bool total_seen;             /* e_imp ever received: phases are ignored */
	double ph[3];                /* per-phase counters' latest good values */
	int64_t ph_t[3];             /* their times; 0: none */
	bool has_last;
	double last;                 /* latest good counter (e_imp or the phase sum) */
	int64_t last_t;
	bool has_base;
	double base;                 /* the counter at since */
	int64_t since;
	bool partial;

	/* power now (NaN unknown) */
	double p_w;

	/* quality */
	uint64_t samples0, bad0;     /* the counters at start */
	unsigned per_poll;           /* samples one period should bring */
};

struct wfound {
	bool found;
	double value;
	int64_t t_us;
};

struct kpi {
	const struct config *cfg;
	size_t n;
	struct kmeter *m;
	bool any_aggregate;
	int64_t mid;                 /* local midnight at the last update; 0: none yet */
	int64_t start_us;            /* first update; 0: none yet */
	struct kpi_site site;
	size_t *order;               /* scratch for the top consumers */

	/* the midnight lookup */
	bool has_worker, applied;
	pthread_t thread;
	char *path;
	int64_t w_mid;               /* the midnight it looks up */
	struct wfound (*w)[SLOT__COUNT]; /* worker-only until ready */
	atomic_bool ready;
	atomic_bool stop;
};

/* ---- local time ---- */

static int64_t floor_s(int64_t t_us)
{
	return t_us / US_PER_S - (t_us % US_PER_S < 0);
}

/* The local date of t as one comparable number; -1 when unknown. */
static long local_date(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	return ((long)tm.tm_year * 12 + tm.tm_mon) * 32 + tm.tm_mday;
}

/* The first second in [lo, hi] whose local date is >= day (hi's is). */
static time_t first_of_day(time_t lo, time_t hi, long day)
{
	while (lo < hi) {
		time_t mid = lo + (hi - lo) / 2;

		if (local_date(mid) >= day)
			hi = mid;
		else
			lo = mid + 1;
	}
	return hi;
}

int64_t kpi_local_midnight(int64_t t_us)
{
	time_t t = (time_t)floor_s(t_us), mid;
	struct tm tm;
	long day;

	if (localtime_r(&t, &tm) == NULL)
		return t_us;
	day = ((long)tm.tm_year * 12 + tm.tm_mon) * 32 + tm.tm_mday;
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1; /* whatever offset applies at that 00:00 */
	mid = mktime(&tm);
	if (mid == (time_t)-1 || mid > t || local_date(mid) != day) {
		/* No 00:00 that day (clocks skipped it) or mktime picked an
		 * instant outside it: the day starts at the first second of
		 * that date. Days are never longer than 26 hours. */
		time_t lo = mid != (time_t)-1 && mid < t ? mid : t - 26 * 3600;

		mid = first_of_day(lo, t, day);
	} else if (local_date(mid - 1) == day) {
		/* 00:00 came twice (clocks went back over midnight): the first. */
		mid = first_of_day(mid - 26 * 3600, mid, day);
	}
	return (int64_t)mid * US_PER_S;
}

/* ---- the worker ---- */

static bool profile_maps(const struct profile *p, unsigned qty)
{
	size_t i;
	int k;

	for (i = 0; i < p->nregs; i++)
		if (p->regs[i].qty == (int)qty)
			return true;
	for (i = 0; i < p->nfields; i++) {
		if (p->fields[i].qty == (int)qty)
			return true;
		for (k = 0; k < 3; k++)
			if (p->fields[i].phase_qty[k] == (int)qty)
				return true;
	}
	return false;
}

struct wctx {
	struct kpi *k;
	unsigned slot;
	size_t remaining;
};

/* Does the worker look for meter i's counter in slot? */
static bool wanted(const struct kpi *k, size_t i, unsigned slot)
{
	const struct kmeter *km = &k->m[i];

	if (slot == SLOT_TOTAL)
		return km->want_total;
	/* phases only for meters without a total (found) */
	return km->want_phases && !k->w[i][SLOT_TOTAL].found;
}

static int on_first(void *ctx, const struct store_row *r)
{
	struct wctx *w = ctx;
	struct kpi *k = w->k;
	int i;

	if (atomic_load_explicit(&k->stop, memory_order_relaxed))
		return 1;
	i = config_meter_index(k->cfg, r->meter);
	if (i < 0 || !wanted(k, (size_t)i, w->slot) || k->w[i][w->slot].found)
		return 0;
	k->w[i][w->slot] = (struct wfound){ .found = true, .value = r->value, .t_us = r->t_us };
	w->remaining--;
	return w->remaining == 0;
}

static void worker_run(struct kpi *k)
{
	struct store_reader *r;
	char *cause = NULL;
	unsigned slot;
	size_t i, found = 0;

	r = store_reader_open(k->path, &cause);
	if (r == NULL) {
		log_info("kpi: no midnight values from the buffer: %s", cause);
		free(cause);
		return;
	}
	for (slot = 0; slot < SLOT__COUNT; slot++) {
		struct wctx w = { .k = k, .slot = slot, .remaining = 0 };

		if (atomic_load_explicit(&k->stop, memory_order_relaxed))
			break;
		for (i = 0; i < k->n; i++)
			w.remaining += wanted(k, i, slot);
		if (w.remaining == 0)
			continue;
		if (store_reader_first_good(r, qty_name(slot_qty[slot]), k->w_mid, SCAN_ROWS,
					    on_first, &w, &cause) < 0) {
			log_warn("kpi: looking up today's first %s values: %s",
				 qty_name(slot_qty[slot]), cause);
			free(cause);
			cause = NULL;
			break;
		}
	}
	store_reader_close(r);
	for (i = 0; i < k->n; i++)
		found += k->w[i][SLOT_TOTAL].found ||
			 (k->w[i][SLOT_L1].found && k->w[i][SLOT_L2].found && k->w[i][SLOT_L3].found);
	log_debug("kpi: midnight values of %zu of %zu meters found in %s", found, k->n, k->path);
}

static void *worker_main(void *arg)
{
	struct kpi *k = arg;

	worker_run(k);
	atomic_store_explicit(&k->ready, true, memory_order_release);
	return NULL;
}

static void start_worker(struct kpi *k, const char *path)
{
	sigset_t all, old;
	struct stat sb;
	int err;

	if (path == NULL || stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return;
	k->path = util_strdup(path);
	k->w_mid = kpi_local_midnight(util_now_us());
	k->w = util_calloc(k->n > 0 ? k->n : 1, sizeof(*k->w));
	/* Signals are for the UI thread's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&k->thread, NULL, worker_main, k);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		log_warn("kpi: cannot start the midnight lookup: %s", strerror(err));
		return;
	}
	k->has_worker = true;
}

/* ---- new / free ---- */

struct kpi *kpi_new(const struct config *cfg)
{
	struct kpi *k = util_calloc(1, sizeof(*k));
	size_t i;

	k->cfg = cfg;
	k->n = cfg != NULL ? cfg->nmeters : 0;
	k->m = util_calloc(k->n > 0 ? k->n : 1, sizeof(*k->m));
	k->order = util_calloc(k->n > 0 ? k->n : 1, sizeof(*k->order));
	atomic_init(&k->ready, false);
	atomic_init(&k->stop, false);
	for (i = 0; i < k->n; i++) {
		const struct config_meter *cm = &cfg->meters[i];
		struct kmeter *km = &k->m[i];

		k->any_aggregate |= cm->aggregate;
		km->p_w = NAN;
		if (cm->profile != NULL) {
			km->want_total = profile_maps(cm->profile, QTY_E_IMP);
			km->want_phases = profile_maps(cm->profile, QTY_E_IMP_L1) &&
					  profile_maps(cm->profile, QTY_E_IMP_L2) &&
					  profile_maps(cm->profile, QTY_E_IMP_L3);
		} else {
			km->want_total = km->want_phases = true;
		}
	}
	k->site.p_w = NAN;
	k->site.today_wh = NAN;
	k->site.cost = NAN;
	k->site.co2_kg = NAN;
	k->site.quality = NAN;
	if (cfg != NULL)
		start_worker(k, cfg->store.path);
	return k;
}

void kpi_free(struct kpi *k)
{
	if (k == NULL)
		return;
	if (k->has_worker) {
		atomic_store_explicit(&k->stop, true, memory_order_relaxed);
		pthread_join(k->thread, NULL);
	}
	free(k->w);
	free(k->path);
	free(k->order);
	free(k->m);
	free(k);
}

/* ---- energy ---- */

static bool good(const struct live_value *v)
{
	return v->t_us != 0 && v->quality == QUALITY_GOOD && isfinite(v->value);
}

/*
 * The meter's newest good import counter: e_imp when the meter ever sent
 * it, else the sum of e_imp_l1..3 once all three are known. False when
 * there is none.
 */
static bool read_counter(struct kmeter *km, const struct live_meter *lm, double *v, int64_t *t)
{
	const struct live_value *e = &lm->v[QTY_E_IMP];
	int k;

	if (e->t_us != 0)
		km->total_seen = true;
	if (km->total_seen) {
		if (!good(e))
			return false;
		*v = e->value;
		*t = e->t_us;
		return true;
	}
	for (k = 0; k < 3; k++) {
		const struct live_value *p = &lm->v[QTY_E_IMP_L1 + k];

		if (good(p) && p->t_us > km->ph_t[k]) {
			km->ph[k] = p->value;
			km->ph_t[k] = p->t_us;
		}
	}
	if (km->ph_t[0] == 0 || km->ph_t[1] == 0 || km->ph_t[2] == 0)
		return false;
	*v = km->ph[0] + km->ph[1] + km->ph[2];
	*t = km->ph_t[0];
	for (k = 1; k < 3; k++)
		if (km->ph_t[k] > *t)
			*t = km->ph_t[k];
	return true;
}

static bool went_down(double ref, double v)
{
	return ref - v > RESET_TOLERANCE * fabs(ref);
}

/* A new counter value at t. */
static void feed_counter(struct kmeter *km, double v, int64_t t, int64_t mid)
{
	if (!km->has_base) {
		/* The first value seen, not midnight's. */
		km->has_base = true;
		km->base = v;
		km->since = t > mid ? t : mid;
		km->partial = true;
	} else if (went_down(km->has_last ? km->last : km->base, v)) {
		/* Counter reset: what came before it today is unknown. */
		km->base = v;
		km->since = t;
		km->partial = true;
	}
	km->has_last = true;
	km->last = v;
	km->last_t = t;
}

/* The baseline from the buffer, once it is there. */
static void apply_worker(struct kpi *k, const struct live *l)
{
	size_t i;

	if (!k->has_worker || k->applied || !atomic_load_explicit(&k->ready, memory_order_acquire))
		return;
	k->applied = true;
	if (k->w_mid != k->mid)
		return; /* looked up for a day that is over */
	for (i = 0; i < k->n; i++) {
		const struct wfound *w = k->w[i];
		struct kmeter *km = &k->m[i];
		const struct live_meter *lm = live_meter_const(l, i);
		int64_t late = LATE_PERIODS * live_period_us(lm);
		double v;
		int64_t t;

		if (w[SLOT_TOTAL].found) {
			v = w[SLOT_TOTAL].value;
			t = w[SLOT_TOTAL].t_us;
		} else if (w[SLOT_L1].found && w[SLOT_L2].found && w[SLOT_L3].found) {
			v = w[SLOT_L1].value + w[SLOT_L2].value + w[SLOT_L3].value;
			t = w[SLOT_L1].t_us;
			if (w[SLOT_L2].t_us > t)
				t = w[SLOT_L2].t_us;
			if (w[SLOT_L3].t_us > t)
				t = w[SLOT_L3].t_us;
		} else {
			continue;
		}
		km->has_base = true;
		km->base = v;
		/* Nothing recorded around midnight (the recorder was off):
		 * the figure counts from that first sample. */
		km->partial = t - k->mid > late;
		km->since = km->partial ? t : k->mid;
		if (km->has_last && went_down(v, km->last)) {
			km->base = km->last;
			km->since = km->last_t;
			km->partial = true;
		}
	}
}

static void update_energy(struct kpi *k, const struct live *l, bool rollover)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		struct kmeter *km = &k->m[i];
		const struct live_meter *lm = live_meter_const(l, i);
		double v;
		int64_t t;
		bool fresh = read_counter(km, lm, &v, &t) && (!km->has_last || t != km->last_t);

		if (rollover) {
			/* The day starts at the value now. */
			if (fresh) {
				km->last = v;
				km->last_t = t;
				km->has_last = true;
			}
			km->has_base = km->has_last;
			km->base = km->last;
			km->since = k->mid;
			km->partial = false;
		} else if (fresh) {
			feed_counter(km, v, t, k->mid);
		}
	}
}

static double meter_today(const struct kmeter *km)
{
	double d;

	if (!km->has_base || !km->has_last)
		return NAN;
	d = km->last - km->base;
	return d > 0.0 ? d : 0.0; /* a decrease within the jitter tolerance */
}

/* ---- power ---- */

static bool fresh_good(const struct live_meter *lm, unsigned q, int64_t now)
{
	return good(&lm->v[q]) && !live_value_stale(lm, q, now);
}

static double meter_power(const struct live_meter *lm, int64_t now)
{
	if (fresh_good(lm, QTY_P_TOTAL, now))
		return lm->v[QTY_P_TOTAL].value;
	if (fresh_good(lm, QTY_P_L1, now) && fresh_good(lm, QTY_P_L2, now) &&
	    fresh_good(lm, QTY_P_L3, now))
		return lm->v[QTY_P_L1].value + lm->v[QTY_P_L2].value + lm->v[QTY_P_L3].value;
	return NAN;
}

/* ---- quality ---- */

/* Quantities of an MQTT meter updated within the last period. */
static unsigned updated_within(const struct live_meter *lm, int64_t period, int64_t now)
{
	unsigned q, n = 0;

	for (q = 0; q < QTY__COUNT; q++) {
		int64_t t = lm->v[q].t_us;

		n += t != 0 && t <= now && now - t < period;
	}
	return n;
}

static double quality(struct kpi *k, const struct live *l, int64_t now)
{
	double sum_good = 0.0, sum_exp = 0.0;
	size_t i;

	for (i = 0; i < k->n; i++) {
		struct kmeter *km = &k->m[i];
		const struct live_meter *lm = live_meter_const(l, i);
		int64_t period = live_period_us(lm), elapsed = now - k->start_us;
		double expected, got;

		if (lm->cfg->driver == DRIVER_MODBUS) {
			km->per_poll = lm->cfg->profile != NULL ? (unsigned)lm->cfg->profile->nregs : 0;
		} else {
			unsigned n = updated_within(lm, period, now);

			if (n > km->per_poll)
				km->per_poll = n;
		}
		if (elapsed < QUALITY_PERIODS * period || km->per_poll == 0)
			continue;
		expected = (double)(elapsed / period) * km->per_poll;
		got = (double)(lm->samples - km->samples0) - (double)(lm->bad_samples - km->bad0);
		/* More than promised (a faster device) must not hide another
		 * meter's losses. */
		sum_good += got < expected ? got : expected;
		sum_exp += expected;
	}
	return sum_exp > 0.0 ? sum_good / sum_exp : NAN;
}

/* ---- the site ---- */

static bool in_site(const struct kpi *k, size_t i)
{
	return !k->any_aggregate || k->cfg->meters[i].aggregate;
}

static void top_consumers(struct kpi *k)
{
	struct kpi_site *s = &k->site;
	size_t i, j, n = 0;

	for (i = 0; i < k->n; i++) {
		double p = k->m[i].p_w;

		if (k->cfg->meters[i].aggregate || !(p > 0.0))
			continue;
		/* insertion sort, descending; ties keep the config order */
		for (j = n; j > 0 && k->m[k->order[j - 1]].p_w < p; j--)
			k->order[j] = k->order[j - 1];
		k->order[j] = i;
		n++;
	}
	s->ntop = n < KPI_TOP ? n : KPI_TOP;
	for (i = 0; i < s->ntop; i++) {
		s->top[i].meter = k->order[i];
		s->top[i].p_w = k->m[k->order[i]].p_w;
		s->top[i].share = s->p_w > 0.0 ? s->top[i].p_w / s->p_w : NAN;
	}
}

void kpi_update(struct kpi *k, struct live *l, int64_t now_us)
{
	struct kpi_site *s;
	int64_t mid;
	bool rollover;
	size_t i;
	int np = 0, ne = 0;
	double price, co2;

	if (k == NULL || l == NULL || live_count(l) < k->n)
		return;
	s = &k->site;
	mid = kpi_local_midnight(now_us);
	rollover = k->mid != 0 && mid != k->mid;
	k->mid = mid;
	if (k->start_us == 0) {
		k->start_us = now_us;
		for (i = 0; i < k->n; i++) {
			k->m[i].samples0 = live_meter_const(l, i)->samples;
			k->m[i].bad0 = live_meter_const(l, i)->bad_samples;
		}
	}
	apply_worker(k, l); /* (a lookup for a day that is over is dropped) */
	update_energy(k, l, rollover);

	s->p_w = 0.0;
	s->today_wh = 0.0;
	s->today_since_us = mid;
	s->today_partial = false;
	for (i = 0; i < k->n; i++) {
		struct kmeter *km = &k->m[i];
		double e;

		km->p_w = meter_power(live_meter_const(l, i), now_us);
		if (!in_site(k, i))
			continue;
		if (isfinite(km->p_w)) {
			s->p_w += km->p_w;
			np++;
		}
		e = meter_today(km);
		if (!isnan(e)) {
			s->today_wh += e;
			ne++;
			if (km->partial) {
				s->today_partial = true;
				if (km->since > s->today_since_us)
					s->today_since_us = km->since;
			}
		}
	}
	if (np == 0)
		s->p_w = NAN;
	if (ne == 0)
		s->today_wh = NAN;
	price = k->cfg->site.price_per_kwh;
	co2 = k->cfg->site.co2_per_kwh;
	s->cost = s->today_wh / 1000.0 * price;
	s->co2_kg = s->today_wh / 1000.0 * co2;
	s->quality = quality(k, l, now_us);
	top_consumers(k);
}

const struct kpi_site *kpi_site(const struct kpi *k)
{
	return &k->site;
}

double kpi_meter_today_wh(const struct kpi *k, size_t meter, bool *partial)
{
	double e;

	if (partial != NULL)
		*partial = false;
	if (k == NULL || meter >= k->n)
		return NAN;
	e = meter_today(&k->m[meter]);
	if (partial != NULL && !isnan(e))
		*partial = k->m[meter].partial;
	return e;
}
