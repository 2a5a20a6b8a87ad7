// SPDX-License-Identifier: MIT
/*
 * kpi: the site figures of the console header (site power now, today's
 * energy with its cost and CO2, data quality, top consumers), computed from
 * the live state by the UI thread at each refresh. kpi_update() only reads
 * memory and never waits.
 *
 * Today's energy is, per import counter, the sum over its segments since
 * local midnight: its good samples in time order, cut where the counter
 * goes down (live_counter_reset(): a meter restart winds it back, a reset
 * or rollover sets it to 0), each segment counting last - first. The day
 * before this start lives in the local buffer: kpi_new_day() starts one
 * worker thread that reads, through the kpi_day_ops it is given (the
 * store's reader, follow.c: this module knows no store), each meter's e_imp
 * samples (e_imp_l1..3 for meters without) from midnight to the start,
 * folds them into one struct seg per counter in an
 * array it alone touches, and then sets an atomic flag (release). The UI
 * thread reads the array only after seeing the flag (acquire), once. The
 * live counter, joined across the resets live sees (live_counter()),
 * continues the buffer's day from its first sample after the buffer's
 * last; the join between the two is one more step of the same rule. Until
 * the worker answers, or without a buffer, a meter's day starts at the
 * first good counter value live saw, and the figure says since when
 * (partial). At each local midnight the new day starts at the live value.
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
#include "phasor/util.h"
#include "phasor/utility.h"

#define US_PER_S INT64_C(1000000)
/* Data quality is shown once a meter has had this many periods. */
#define QUALITY_PERIODS 3
/* A buffered midnight value later than this many periods after midnight
 * leaves a gap: the figure is partial from that sample on. */
#define LATE_PERIODS 3

/* The counters the worker looks up: e_imp, then e_imp_l1..3; and the
 * grid connections' export counter (e_exp), apart. */
enum { SLOT_TOTAL, SLOT_L1, SLOT_L2, SLOT_L3, SLOT_EXP, SLOT__COUNT };

static const unsigned slot_qty[SLOT__COUNT] = { QTY_E_IMP, QTY_E_IMP_L1, QTY_E_IMP_L2,
						QTY_E_IMP_L3, QTY_E_EXP };

/*
 * One counter's day: its good samples in time order cut into segments
 * where the counter goes down (live_counter_reset()); the energy is the sum
 * over segments of last - first.
 */
struct seg {
	bool has;
	double first, last;          /* the first and the newest value */
	int64_t first_t, last_t;
	double done;                 /* energy of the closed segments */
	double open;                 /* first value of the open segment */
	unsigned resets;             /* segments - 1 */
	int64_t gap_us;              /* the meter's live_counter_gap_us */
	double span;                 /* its register's range (config_counter_span); 0: unknown */
};

/*
 * A counter slot of a meter (e_imp, or one of e_imp_l1..3). Its day is pre
 * (what came before base: the buffer's samples, joined to base as the next
 * sample) then the live counter from base on: energy = pre + (joined now -
 * joined at base). Without base (no live value yet), only pre.
 */
struct slot {
	struct seg pre;
	bool based;
	double base_v, base_j;       /* the live counter at base: value, joined */
	int64_t base_t;
	uint64_t base_r;             /* its resets then */
	bool has_now;
	struct live_counter now;     /* the live counter at the last update */
	bool from_mid;               /* based on the value at a midnight seen live */
};

struct kmeter {
	/* what the profile maps (both when unknown); the export counter of
	 * a grid connection (grid = true) */
	bool want_total, want_phases, want_exp;

	/* energy */
	bool total_seen;             /* e_imp ever received: phases are ignored */
	struct slot sl[SLOT__COUNT];
	int64_t late;                /* a first sample later than midnight + late: partial */

	/* power now, energy today and exported today (NaN unknown) */
	double p_w, today_wh, exp_wh;
	/* a parent's remainder (NaN: unknown or no children) */
	double rem_p, rem_wh;
	/* config_in_site, config_in_production, a top consumer candidate */
	bool site, prod, leaf;

	/* quality */
	uint64_t samples0, bad0;     /* the counters at start */
	unsigned per_poll;           /* samples one period should bring */
};

struct kpi {
	const struct config *cfg;
	size_t n;
	struct kmeter *m;
	int64_t mid;                 /* local midnight at the last update; 0: none yet */
	int64_t next_mid;            /* and the next one (kpi_update asks mktime only
				      * when a frame is outside [mid, next_mid)) */
	int64_t start_us;            /* first update; 0: none yet */
	struct kpi_site site;
	size_t *order;               /* scratch for the top consumers */

	/* the midnight lookup */
	const struct kpi_day_ops *day;
	bool has_worker, applied;
	pthread_t thread;
	char *path;
	int64_t w_mid;               /* the day it reads: [w_mid, w_end) */
	int64_t w_end;
	struct seg (*w)[SLOT__COUNT]; /* worker-only until ready */
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

/* ---- segments ---- */

/* The next good sample of the counter (older or equal times are ignored);
 * gap_us (live_counter_gap_us) is kept from the first. */
static void seg_feed(struct seg *g, double v, int64_t t, int64_t gap_us, double span)
{
	if (!g->has) {
		*g = (struct seg){ .has = true, .first = v, .last = v, .first_t = t, .last_t = t,
				   .open = v, .gap_us = gap_us, .span = span };
		return;
	}
	if (t <= g->last_t)
		return;
	if (utility_counter_wrapped(g->last, v, g->span)) {
		/* a wrap: the rise across it counts exactly */
		g->done += (g->last - g->open) + utility_counter_rise(g->last, v, g->span);
		g->open = v;
	} else if (live_counter_reset(g->last, v, t - g->last_t > g->gap_us)) {
		g->done += g->last - g->open;
		g->open = v;
		g->resets++;
	}
	g->last = v;
	g->last_t = t;
}

static double seg_energy(const struct seg *g)
{
	return g->has ? g->done + (g->last - g->open) : 0.0;
}

/* ---- the worker ---- */

#define KEY_CACHE 512

struct wctx {
	struct kpi *k;
	unsigned slot;
	const char *last_name;       /* the meter of the previous row, and its index */
	int last_index;
	/* meter_key -> config index + 2 (0: not looked up yet): rows come in
	 * time order, every meter in turn, so "the previous row's" rarely hits */
	int by_key[KEY_CACHE];
};

/* Does the worker look for meter i's counter in slot? */
static bool wanted(const struct kpi *k, size_t i, unsigned slot)
{
	const struct kmeter *km = &k->m[i];

	if (slot == SLOT_TOTAL)
		return km->want_total;
	if (slot == SLOT_EXP)
		return km->want_exp;
	/* phases only for meters without a total (found) */
	return km->want_phases && !k->w[i][SLOT_TOTAL].has;
}

static int on_row(void *ctx, const struct kpi_day_row *r)
{
	struct wctx *w = ctx;
	struct kpi *k = w->k;
	int i;

	if (atomic_load_explicit(&k->stop, memory_order_relaxed))
		return 1;
	if (r->quality != QUALITY_GOOD || !isfinite(r->value))
		return 0;
	if (r->meter_key >= 0 && r->meter_key < KEY_CACHE) {
		int *slot = &w->by_key[r->meter_key];

		if (*slot == 0)
			*slot = config_meter_index(k->cfg, r->meter) + 2;
		i = *slot - 2;
	} else {
		/* Rows of one meter often follow each other. */
		if (w->last_name == NULL || strcmp(r->meter, w->last_name) != 0) {
			i = config_meter_index(k->cfg, r->meter);
			w->last_name = i >= 0 ? k->cfg->meters[i].name : NULL;
			w->last_index = i;
		}
		i = w->last_index;
	}
	if (i < 0 || !wanted(k, (size_t)i, w->slot))
		return 0;
	seg_feed(&k->w[i][w->slot], r->value, r->t_us, live_counter_gap_us(&k->cfg->meters[i]),
		 config_counter_span(k->cfg, &k->cfg->meters[i], slot_qty[w->slot]));
	return 0;
}

/*
 * The day's good samples of each counter, [w_mid, w_end), one pass per
 * quantity over the buffer's t_us index (phases only for meters that have
 * no e_imp today).
 */
#define KPI_READ_WINDOW_US (3600 * 1000000LL)

static void worker_run(struct kpi *k)
{
	void *r;
	char *cause = NULL;
	unsigned slot;
	size_t i, found = 0;
	int64_t t0 = util_mono_us();
	const char *delay = getenv("PHASOR_KPI_DAY_DELAY_MS");
	long ms;

	/* For tests: a day that takes this long to read (a large buffer). */
	if (delay != NULL && util_parse_long(delay, 0, 60000, &ms) == 0)
		util_sleep_ms((int)ms);
	r = k->day->open(k->path, &cause);
	if (r == NULL) {
		log_info("kpi: no day's counters from the buffer: %s", cause);
		free(cause);
		return;
	}
	for (slot = 0; slot < SLOT__COUNT; slot++) {
		struct wctx w = { .k = k, .slot = slot, .last_index = -1 };
		int64_t from, to;
		size_t want = 0;

		if (atomic_load_explicit(&k->stop, memory_order_relaxed))
			break;
		for (i = 0; i < k->n; i++)
			want += wanted(k, i, slot);
		if (want == 0)
			continue;
		/* In windows of an hour, each its own read: a long day never holds
		 * one read transaction open (which would keep the writer's WAL
		 * from being checkpointed), and a quitting console waits at most
		 * one window (an hour of one counter is one column of each
		 * meter's twelve blocks: milliseconds). */
		for (from = k->w_mid; from < k->w_end; from = to) {
			to = k->w_end - from > KPI_READ_WINDOW_US ? from + KPI_READ_WINDOW_US
								  : k->w_end;
			if (atomic_load_explicit(&k->stop, memory_order_relaxed))
				break;
			if (k->day->rows(r, slot_qty[slot], from, to, on_row, &w, &cause) < 0)
				break;
		}
		if (cause != NULL) {
			log_warn("kpi: reading today's %s values: %s", qty_name(slot_qty[slot]),
				 cause);
			free(cause);
			cause = NULL;
			break;
		}
	}
	k->day->close(r);
	for (i = 0; i < k->n; i++) {
		const struct seg *g = k->w[i];

		found += g[SLOT_TOTAL].has || (g[SLOT_L1].has && g[SLOT_L2].has && g[SLOT_L3].has);
		if (g[SLOT_TOTAL].has)
			log_debug("kpi: %s today in the buffer: %.17g Wh since %lld, %u reset(s)",
				  k->cfg->meters[i].name, seg_energy(&g[SLOT_TOTAL]),
				  (long long)g[SLOT_TOTAL].first_t, g[SLOT_TOTAL].resets);
	}
	log_debug("kpi: today's counters of %zu of %zu meters read from %s in %lld ms", found,
		  k->n, k->path, (long long)((util_mono_us() - t0) / 1000));
}

static void *worker_main(void *arg)
{
	struct kpi *k = arg;

	util_thread_name("kpi-day");

	worker_run(k);
	atomic_store_explicit(&k->ready, true, memory_order_release);
	return NULL;
}

static void start_worker(struct kpi *k, const char *path, int64_t end_us)
{
	sigset_t all, old;
	struct stat sb;
	int err;

	if (path == NULL || stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return;
	k->path = util_strdup(path);
	k->w_end = end_us != 0 ? end_us : util_now_us();
	k->w_mid = kpi_local_midnight(k->w_end);
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
	return kpi_new_day(cfg, NULL);
}

struct kpi *kpi_new_day(const struct config *cfg, const struct kpi_day_ops *day)
{
	return kpi_new_day_at(cfg, day, cfg != NULL ? cfg->store.path : NULL, 0);
}

struct kpi *kpi_new_day_at(const struct config *cfg, const struct kpi_day_ops *day,
			   const char *path, int64_t start_us)
{
	struct kpi *k = util_calloc(1, sizeof(*k));
	size_t i;

	k->cfg = cfg;
	k->day = day;
	k->n = cfg != NULL ? cfg->nmeters : 0;
	k->m = util_calloc(k->n > 0 ? k->n : 1, sizeof(*k->m));
	k->order = util_calloc(k->n > 0 ? k->n : 1, sizeof(*k->order));
	atomic_init(&k->ready, false);
	atomic_init(&k->stop, false);
	for (i = 0; i < k->n; i++) {
		const struct config_meter *cm = &cfg->meters[i];
		struct kmeter *km = &k->m[i];

		km->p_w = km->today_wh = km->exp_wh = km->rem_p = km->rem_wh = NAN;
		km->site = config_in_site(cfg, i);
		km->want_exp = cm->grid && km->site;
		k->site.grid |= km->want_exp;
		km->prod = config_in_production(cfg, i);
		km->leaf = cm->role == METER_CONSUMPTION && !cm->aggregate && cm->nchildren == 0;
		k->site.nprod += km->prod;
		if (cm->profile != NULL) {
			/* A gas meter's energy is derived from its volume (hub);
			 * a heat meter's is what other meters' energy made. */
			km->want_total = (profile_maps(cm->profile, QTY_E_IMP) ||
					  config_derives_energy(cfg, cm)) &&
					 cm->utility != UTILITY_HEAT;
			km->want_phases = profile_maps(cm->profile, QTY_E_IMP_L1) &&
					  profile_maps(cm->profile, QTY_E_IMP_L2) &&
					  profile_maps(cm->profile, QTY_E_IMP_L3);
		} else {
			km->want_total = km->want_phases = true;
		}
	}
	k->site.p_w = NAN;
	k->site.prod_w = k->site.prod_today_wh = k->site.coverage = k->site.self_now = NAN;
	k->site.cons_today_wh = k->site.export_w = k->site.export_today_wh = NAN;
	k->site.self_today_wh = NAN;
	k->site.today_wh = NAN;
	k->site.cost = NAN;
	k->site.co2_kg = NAN;
	k->site.quality = NAN;
	if (cfg != NULL && day != NULL)
		start_worker(k, path, start_us);
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

/* Does the meter count its import with this slot? e_imp once it was
 * ever seen, else the phases. */
static bool slot_used(const struct kmeter *km, unsigned s)
{
	if (s == SLOT_EXP)
		return false;
	return km->total_seen ? s == SLOT_TOTAL : s != SLOT_TOTAL;
}

/*
 * Take the slot's base from the live counter once there is one: its first
 * sample when that comes after everything in pre (the usual case: the
 * buffer's day ends where this console started), else its newest when that
 * is newer (the buffer already holds the live samples up to pre's last: a
 * reset among those few is not seen), else later.
 */
static void slot_settle(struct slot *sl)
{
	const struct live_counter *c = &sl->now;

	if (sl->based || !sl->has_now)
		return;
	if (!sl->pre.has || c->first_t_us > sl->pre.last_t) {
		sl->base_v = c->first;
		sl->base_j = c->first; /* nothing bridged before the first */
		sl->base_t = c->first_t_us;
		sl->base_r = 0;
	} else if (c->t_us > sl->pre.last_t) {
		sl->base_v = c->value;
		sl->base_j = c->joined;
		sl->base_t = c->t_us;
		sl->base_r = c->resets;
	} else {
		return;
	}
	sl->based = true;
	if (sl->pre.has)
		/* the join: a reset, a wrap or neither */
		seg_feed(&sl->pre, sl->base_v, sl->base_t, sl->pre.gap_us, sl->pre.span);
}

/* The base is the live counter now (a new day). */
static void slot_restart(struct slot *sl)
{
	memset(&sl->pre, 0, sizeof(sl->pre));
	sl->based = sl->has_now;
	sl->from_mid = sl->has_now;
	if (sl->based) {
		sl->base_v = sl->now.value;
		sl->base_j = sl->now.joined;
		sl->base_t = sl->now.t_us;
		sl->base_r = sl->now.resets;
	}
}

static bool slot_known(const struct slot *sl)
{
	return sl->pre.has || sl->based;
}

static double slot_energy(const struct slot *sl)
{
	double e = seg_energy(&sl->pre);

	if (sl->based && sl->has_now)
		e += sl->now.joined - sl->base_j;
	return e;
}

static unsigned slot_resets(const struct slot *sl)
{
	uint64_t r = sl->pre.resets;

	if (sl->based && sl->has_now)
		r += sl->now.resets - sl->base_r;
	return (unsigned)r;
}

/* Since when the slot counts: midnight, unless its first sample of the day is late. */
static int64_t slot_since(const struct kpi *k, const struct slot *sl, int64_t late, bool *partial)
{
	int64_t t;

	if (sl->from_mid) {
		*partial = false;
		return k->mid;
	}
	if (sl->pre.has) {
		/* The day from the buffer: nothing recorded around midnight
		 * (the recorder was off) counts from that first sample. */
		t = sl->pre.first_t;
		*partial = t - k->mid > late;
		return *partial ? t : k->mid;
	}
	/* Only what this console has seen. */
	*partial = true;
	return sl->base_t > k->mid ? sl->base_t : k->mid;
}

bool kpi_day_ready(const struct kpi *k)
{
	return k != NULL && k->has_worker && !k->applied &&
	       atomic_load_explicit(&k->ready, memory_order_acquire);
}

bool kpi_day_pending(const struct kpi *k)
{
	return k != NULL && k->has_worker && !k->applied;
}

/* The buffer's day, once it is there. */
static void apply_worker(struct kpi *k)
{
	size_t i;
	unsigned s;

	if (!k->has_worker || k->applied || !atomic_load_explicit(&k->ready, memory_order_acquire))
		return;
	k->applied = true;
	if (k->w_mid != k->mid)
		return; /* read for a day that is over */
	for (i = 0; i < k->n; i++) {
		struct kmeter *km = &k->m[i];

		if (k->w[i][SLOT_TOTAL].has)
			km->total_seen = true;
		for (s = 0; s < SLOT__COUNT; s++) {
			struct slot *sl = &km->sl[s];
			const struct seg *g = &k->w[i][s];

			if (!g->has)
				continue;
			sl->pre = *g;
			if (sl->based && g->last_t >= sl->base_t)
				sl->based = false; /* overlap: base again on a newer value */
			else if (sl->based)
				seg_feed(&sl->pre, sl->base_v, sl->base_t, sl->pre.gap_us,
					 sl->pre.span);
			slot_settle(sl);
		}
	}
}

static void update_energy(struct kpi *k, const struct live *l, bool rollover)
{
	size_t i;
	unsigned s;

	for (i = 0; i < k->n; i++) {
		struct kmeter *km = &k->m[i];

		km->late = LATE_PERIODS * live_period_us(live_meter_const(l, i));
		if (live_meter_const(l, i)->v[QTY_E_IMP].t_us != 0)
			km->total_seen = true;
		for (s = 0; s < SLOT__COUNT; s++) {
			struct slot *sl = &km->sl[s];

			/* once e_imp is seen the phases are never used again
			 * (slot_used): their counters are not read */
			if (km->total_seen && s >= SLOT_L1 && s <= SLOT_L3)
				continue;
			if (s == SLOT_EXP && !km->want_exp)
				continue;
			sl->has_now = live_counter(l, i, slot_qty[s], &sl->now);
			if (rollover)
				slot_restart(sl);
			else
				slot_settle(sl);
		}
	}
}

/* A meter's figure: false when unknown. */
static bool meter_today(const struct kpi *k, size_t i, struct kpi_today *out)
{
	const struct kmeter *km = &k->m[i];
	unsigned s;

	*out = (struct kpi_today){ .wh = 0.0, .since_us = k->mid };
	for (s = 0; s < SLOT__COUNT; s++) {
		const struct slot *sl = &km->sl[s];
		bool partial;
		int64_t since;
		unsigned r;

		if (!slot_used(km, s))
			continue;
		if (!slot_known(sl))
			return false;
		out->wh += slot_energy(sl);
		since = slot_since(k, sl, km->late, &partial);
		if (since > out->since_us)
			out->since_us = since;
		out->partial |= partial;
		r = slot_resets(sl);
		/* a restart resets the three phase counters at once: one reset */
		if (r > out->resets)
			out->resets = r;
	}
	if (out->wh < 0.0)
		out->wh = 0.0; /* decreases within the reset tolerance */
	return true;
}

/* A grid connection's export today, Wh (NaN unknown: no value of its
 * e_exp yet). */
static double meter_export(const struct kpi *k, size_t i)
{
	const struct slot *sl = &k->m[i].sl[SLOT_EXP];
	double wh;

	if (!k->m[i].want_exp || !slot_known(sl))
		return NAN;
	wh = slot_energy(sl);
	return wh > 0.0 ? wh : 0.0;
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
			if (km->per_poll > 0 && config_derives_energy(k->cfg, lm->cfg))
				km->per_poll++; /* the hub's e_imp */
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

/*
 * The remainders: each parent's figures minus the sum of its children's
 * (unknown when one of them is), in one pass over the children.
 */
static void remainders(struct kpi *k)
{
	size_t i;

	for (i = 0; i < k->n; i++) {
		const struct kmeter *km = &k->m[i];
		bool parent = k->cfg->meters[i].nchildren > 0;

		k->m[i].rem_p = parent ? km->p_w : NAN;
		k->m[i].rem_wh = parent ? km->today_wh : NAN;
	}
	for (i = 0; i < k->n; i++) {
		int par = config_parent(&k->cfg->meters[i]);

		if (par < 0)
			continue;
		k->m[par].rem_p -= k->m[i].p_w;
		k->m[par].rem_wh -= k->m[i].today_wh;
	}
}

/* The power a top consumer candidate ranks by: a leaf's, or a parent's
 * remainder (the consumption no feeder meters); NaN: not a candidate. */
static double top_power(const struct kpi *k, size_t i, bool *rem)
{
	const struct config_meter *cm = &k->cfg->meters[i];

	*rem = cm->nchildren > 0;
	if (k->m[i].leaf)
		return k->m[i].p_w;
	if (*rem && cm->role == METER_CONSUMPTION)
		return k->m[i].rem_p;
	return NAN;
}

static void top_consumers(struct kpi *k)
{
	struct kpi_site *s = &k->site;
	double pw[KPI_TOP];
	bool rem[KPI_TOP];
	size_t i, j, n = 0;

	for (i = 0; i < k->n; i++) {
		bool r;
		double p = top_power(k, i, &r);

		if (!(p > 0.0))
			continue;
		/* the KPI_TOP highest kept by insertion, descending; ties keep
		 * the config order (a frame's cost at 1000 meters: not a sort) */
		if (n == KPI_TOP && !(pw[n - 1] < p))
			continue;
		j = n < KPI_TOP ? n++ : n - 1;
		for (; j > 0 && pw[j - 1] < p; j--) {
			k->order[j] = k->order[j - 1];
			pw[j] = pw[j - 1];
			rem[j] = rem[j - 1];
		}
		k->order[j] = i;
		pw[j] = p;
		rem[j] = r;
	}
	s->ntop = n;
	for (i = 0; i < s->ntop; i++) {
		s->top[i].meter = k->order[i];
		s->top[i].p_w = pw[i];
		s->top[i].remainder = rem[i];
		s->top[i].share = s->p_w > 0.0 ? s->top[i].p_w / s->p_w : NAN;
	}
}

double kpi_coverage(double prod, double cons)
{
	return isfinite(prod) && isfinite(cons) && cons > 0.0 ? prod / cons : NAN;
}

double kpi_self_rate(double prod, double cons)
{
	if (!isfinite(prod) || !isfinite(cons) || !(prod > 0.0))
		return NAN;
	return (cons < prod ? (cons > 0.0 ? cons : 0.0) : prod) / prod;
}

double kpi_self_export(double prod, double exported)
{
	double self = prod - exported;

	if (!isfinite(self))
		return NAN;
	return self > 0.0 ? self : 0.0;
}

double kpi_self_export_rate(double prod, double exported)
{
	double self = kpi_self_export(prod, exported);

	return prod > 0.0 && isfinite(self) ? self / prod : NAN;
}

double kpi_consumption(double grid_import, double prod, double exported)
{
	return grid_import + kpi_self_export(prod, exported);
}

/* The grid connections' export: power out now (a negative power is what
 * the site gives back) and the counters' rise today, NaN when one of
 * them is unknown. */
static void grid_export(struct kpi *k)
{
	struct kpi_site *s = &k->site;
	size_t i;

	s->export_w = s->export_today_wh = NAN;
	if (!s->grid)
		return;
	s->export_w = s->export_today_wh = 0.0;
	for (i = 0; i < k->n; i++) {
		if (!k->m[i].want_exp)
			continue;
		if (isnan(k->m[i].p_w))
			s->export_w = NAN;
		else if (k->m[i].p_w < 0.0)
			s->export_w -= k->m[i].p_w;
		s->export_today_wh += k->m[i].exp_wh;
	}
}

/* The production roots' power now and energy today, and the coverage of
 * elec_wh (the site's electricity today: a gas meter's energy is not what
 * PV or a CHP's power covers; with a grid connection, what it took from
 * the grid). */
static void production(struct kpi *k, double elec_wh)
{
	struct kpi_site *s = &k->site;
	size_t i;
	int np = 0, ne = 0;

	s->prod_w = 0.0;
	s->prod_today_wh = 0.0;
	for (i = 0; i < k->n; i++) {
		if (!k->m[i].prod)
			continue;
		if (isfinite(k->m[i].p_w)) {
			/* an inverter at night may read a few W drawn: not production */
			s->prod_w += k->m[i].p_w > 0.0 ? k->m[i].p_w : 0.0;
			np++;
		}
		if (isfinite(k->m[i].today_wh)) {
			s->prod_today_wh += k->m[i].today_wh;
			ne++;
		}
	}
	if (np == 0)
		s->prod_w = NAN;
	if (ne == 0)
		s->prod_today_wh = NAN;
	grid_export(k);
	if (s->grid) {
		s->self_today_wh = kpi_self_export(s->prod_today_wh, s->export_today_wh);
		s->cons_today_wh = kpi_consumption(elec_wh, s->prod_today_wh, s->export_today_wh);
		s->self_now = kpi_self_export_rate(s->prod_w, s->export_w);
	} else {
		s->self_today_wh = NAN;
		s->cons_today_wh = elec_wh;
		s->self_now = kpi_self_rate(s->prod_w, s->p_w);
	}
	s->coverage = kpi_coverage(s->prod_today_wh, s->cons_today_wh);
}

void kpi_update(struct kpi *k, struct live *l, int64_t now_us)
{
	struct kpi_site *s;
	int64_t mid;
	bool rollover;
	size_t i;
	int np = 0, ne = 0, nelec = 0;
	double co2, cost = 0.0, elec_wh = 0.0;

	if (k == NULL || l == NULL || live_count(l) < k->n)
		return;
	s = &k->site;
	if (k->mid != 0 && now_us >= k->mid && now_us < k->next_mid) {
		mid = k->mid;
	} else {
		/* a day lasts 23 to 25 hours: 26 hours on is within the next one */
		mid = kpi_local_midnight(now_us);
		k->next_mid = kpi_local_midnight(mid + 26 * 3600 * US_PER_S);
	}
	rollover = k->mid != 0 && mid != k->mid;
	k->mid = mid;
	if (k->start_us == 0) {
		k->start_us = now_us;
		for (i = 0; i < k->n; i++) {
			k->m[i].samples0 = live_meter_const(l, i)->samples;
			k->m[i].bad0 = live_meter_const(l, i)->bad_samples;
		}
	}
	update_energy(k, l, rollover);
	apply_worker(k); /* (a day that is over is dropped) */

	s->p_w = 0.0;
	s->today_wh = 0.0;
	s->today_since_us = mid;
	s->today_partial = false;
	s->today_resets = 0;
	for (i = 0; i < k->n; i++) {
		struct kmeter *km = &k->m[i];
		struct kpi_today e;

		km->p_w = meter_power(live_meter_const(l, i), now_us);
		km->today_wh = meter_today(k, i, &e) ? e.wh : NAN;
		km->exp_wh = meter_export(k, i);
		if (!km->site)
			continue;
		if (isfinite(km->p_w)) {
			s->p_w += km->p_w;
			np++;
		}
		if (isfinite(km->today_wh) && k->cfg->meters[i].utility == UTILITY_ELECTRICITY) {
			elec_wh += e.wh;
			nelec++;
		}
		if (isfinite(km->today_wh)) {
			/* each utility at its price (gas: per kWh of its energy) */
			cost += e.wh / 1000.0 * config_price(k->cfg, k->cfg->meters[i].utility);
			s->today_wh += e.wh;
			s->today_resets += e.resets;
			ne++;
			if (e.partial) {
				s->today_partial = true;
				if (e.since_us > s->today_since_us)
					s->today_since_us = e.since_us;
			}
		}
	}
	if (np == 0)
		s->p_w = NAN;
	if (ne == 0)
		s->today_wh = NAN;
	co2 = k->cfg->site.co2_per_kwh;
	s->cost = ne > 0 ? cost : NAN;
	s->co2_kg = s->today_wh / 1000.0 * co2;
	s->quality = quality(k, l, now_us);
	remainders(k);
	top_consumers(k);
	production(k, nelec > 0 ? elec_wh : NAN);
}

const struct kpi_site *kpi_site(const struct kpi *k)
{
	return &k->site;
}

bool kpi_meter_today(const struct kpi *k, size_t meter, struct kpi_today *out)
{
	struct kpi_today none = { .wh = NAN };

	if (k == NULL || meter >= k->n || k->mid == 0 || !meter_today(k, meter, out)) {
		*out = none;
		return false;
	}
	return true;
}

double kpi_meter_power(const struct kpi *k, size_t meter)
{
	return k != NULL && meter < k->n ? k->m[meter].p_w : NAN;
}

bool kpi_remainder(const struct kpi *k, size_t parent, struct kpi_remainder *out)
{
	const struct kmeter *km;

	*out = (struct kpi_remainder){ NAN, NAN, NAN };
	if (k == NULL || parent >= k->n || k->cfg->meters[parent].nchildren == 0)
		return false;
	km = &k->m[parent];
	out->p_w = km->rem_p;
	out->wh = km->rem_wh;
	out->share = km->p_w > 0.0 ? km->rem_p / km->p_w : NAN;
	return true;
}

double kpi_meter_today_wh(const struct kpi *k, size_t meter, bool *partial)
{
	struct kpi_today e;
	bool known = kpi_meter_today(k, meter, &e);

	if (partial != NULL)
		*partial = known && e.partial;
	return e.wh;
}
