/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_LIVE_H
#define PHASOR_LIVE_H
/*
 * live: the live state of the plant, owned by the hub thread (the console's
 * UI thread). Per meter: the latest value of every quantity with its time
 * and quality, the communication state reported by its source, and one
 * hour of history of a few quantities for sparklines and trends (per
 * second for the newest 15 minutes, per 10 s before). Also detects energy counter resets and joins each counter
 * across them (live_counter()).
 *
 * Not thread-safe: only the owning thread calls these.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/analysis.h"
#include "phasor/config.h"
#include "phasor/qty.h"
#include "phasor/comm.h"

#define LIVE_HISTORY_S 3600

/* Quantities with history. P is the active power, or the flow (m3/h) of a
 * utility meter (utility = gas, water, air, heat) that has no p_total. */
enum live_hist { LIVE_HIST_P, LIVE_HIST_Q, LIVE_HIST_PF, LIVE_HIST_I, LIVE_HIST__COUNT };

struct live_value {
	double value;
	int64_t t_us;      /* 0: never received */
	uint8_t quality;   /* enum quality */
};

/*
 * The newest LIVE_FINE_S seconds of a history are kept per second; the
 * older part of the hour in LIVE_COARSE_STEP_S buckets (aligned on UTC
 * seconds), with which of their seconds had data, and the smallest and
 * largest per-second mean folded in. 900 s: the overview's sparkline; 10 s:
 * about a braille dot of the meter view's hour on a 200-column terminal.
 */
#define LIVE_FINE_S 900
#define LIVE_COARSE_STEP_S 10
/* Buckets for the older 2,700 s, partial at both ends. */
#define LIVE_COARSE_N ((LIVE_HISTORY_S - LIVE_FINE_S) / LIVE_COARSE_STEP_S + 1)
#define LIVE_COARSE_S (LIVE_COARSE_N * LIVE_COARSE_STEP_S)

/*
 * A history ring (about 14 KB; one per second for the hour was 36 KB).
 * Fine slots: sum and count of the samples of each second. When a second
 * with data leaves the fine window, its mean is folded into its bucket
 * (csum, ccount: the sum and number of the means folded; clo, chi) and its
 * bit in seen set. A late sample for an older second is folded as a
 * second of its own. The oldest bucket may still hold up to 9 s from just
 * before the hour.
 */
struct live_ring {
	double sum[LIVE_FINE_S];
	uint16_t count[LIVE_FINE_S];
	double csum[LIVE_COARSE_N];
	float clo[LIVE_COARSE_N], chi[LIVE_COARSE_N];
	uint16_t ccount[LIVE_COARSE_N];
	uint8_t seen[(LIVE_COARSE_S + 7) / 8]; /* seconds of the buckets with data */
	int64_t last_s;    /* the second (UTC) of the newest slot; 0: empty */
};

struct live_meter {
	const struct config_meter *cfg;   /* borrowed */
	size_t index;
	struct live_value v[QTY__COUNT];
	struct meter_comm comm;
	uint64_t samples;                 /* received */
	uint64_t bad_samples;             /* of which quality bad */
	int64_t last_sample_us;           /* 0: never */
	uint64_t counter_resets;
	uint64_t counter_wraps;           /* wraps of a register's range, counted exactly */
	struct live_ring hist[LIVE_HIST__COUNT];
};

/*
 * A counter that goes down by more than this share of its value was reset
 * (a meter restart winds it back to its last saved value, a rollover or a
 * manual reset to 0). Smaller decreases are rounding: about 8 steps of a
 * float32 register. The tolerance must stay small: a meter restart that
 * loses 39 kWh on a 909 MWh counter is 0.004 %.
 */
#define LIVE_RESET_TOLERANCE 1e-6

/*
 * Does a counter going from before to after (consecutive good values) mean
 * a reset? after_gap: the two are further apart than continuous polling
 * gives (live_counter_gap_us: the meter was stale or down, or nothing was
 * recording): a meter that restarted meanwhile may have wound its counter
 * back by any amount (a few kWh on a GWh counter is far below the
 * tolerance), so then any decrease is a reset. A false reset costs the
 * decrease (rounding: Wh); a missed one the whole segment before it.
 */
bool live_counter_reset(double before, double after, bool after_gap);
/* Beyond this between two values of a meter's counter, after_gap: three periods. */
int64_t live_counter_gap_us(const struct config_meter *cm);

/* Called when a counter goes backwards: a reset (span 0), or a wrap of its
 * register's range of span (config_counter_span; counted exactly). */
typedef void (*live_reset_fn)(void *ctx, size_t meter, unsigned qty, double before,
			      double after, double span, int64_t t_us);

struct live;

/* Live state for the meters of cfg (borrowed; must outlive it). */
struct live *live_new(const struct config *cfg, live_reset_fn on_reset, void *ctx);
void live_free(struct live *l);

size_t live_count(const struct live *l);
struct live_meter *live_meter(struct live *l, size_t i);
const struct live_meter *live_meter_const(const struct live *l, size_t i);

/* Apply samples (any meter order). Samples for unknown meters are ignored. */
void live_apply(struct live *l, const struct sample *s, size_t n);
/*
 * Samples of the past (read from the buffer at start) into the history
 * rings only: the latest values, counters and sample counts stay as the
 * live samples make them.
 */
void live_history_add(struct live *l, const struct sample *s, size_t n);
/* Replace a meter's comm state. */
void live_set_comm(struct live *l, size_t meter, const struct meter_comm *c);

/* Expected period of a meter in microseconds (its poll_ms). */
int64_t live_period_us(const struct live_meter *m);
/* A value is stale when older than three expected periods (or never seen),
 * plus the meter's comm.stale_grace_ms (a shared Modbus endpoint). */
bool live_value_stale(const struct live_meter *m, unsigned qty, int64_t now_us);
/* The meter's newest sample is older than three expected periods. */
bool live_meter_stale(const struct live_meter *m, int64_t now_us);

/*
 * A counter quantity's good samples as live has seen them (in time order;
 * late ones are left out), joined across resets: joined is the newest good
 * value plus, for every reset, what it took away (before - after). So
 * joined - first is the sum over the counter's segments (last - first of
 * each) since the first good sample, and the difference of two joined
 * values is the energy between them, resets bridged.
 */
struct live_counter {
	double value;        /* the newest good value, as read */
	int64_t t_us;        /* its time */
	double first;        /* the first good value seen, and its time */
	int64_t first_t_us;
	double joined;       /* value + what the resets took away */
	uint64_t resets;     /* resets seen (live_counter_reset()) */
};

/* False when qty is no counter or the meter has sent no good value of it. */
bool live_counter(const struct live *l, size_t meter, unsigned qty, struct live_counter *out);

/*
 * Fill in with the meter's current good, non-stale values (NaN otherwise)
 * and par with its thresholds (nominal voltage, max power, site target PF).
 */
void live_analysis_input(const struct live_meter *m, int64_t now_us, struct analysis_input *in);
void live_analysis_params(const struct live_meter *m, const struct config *cfg,
			  struct analysis_params *par);

/*
 * The last n seconds (ending at now) of a history, oldest first, NaN where
 * nothing arrived. Returns n (clamped to LIVE_HISTORY_S). The newest
 * LIVE_FINE_S seconds are per-second means; an older second with data
 * gives the mean of its bucket's per-second means (so a mean over whole
 * buckets is the same as from the seconds).
 */
size_t live_history(const struct live_meter *m, enum live_hist h, int64_t now_us, double *out,
		    size_t n);
/*
 * The smallest and largest per-second mean of the last n seconds (ending
 * at now; n clamped to LIVE_HISTORY_S): older than LIVE_FINE_S, those of
 * the buckets with data in the range (a late sample counts as a second).
 * False, *lo and *hi NaN, when there is none.
 */
bool live_history_range(const struct live_meter *m, enum live_hist h, int64_t now_us, size_t n,
			double *lo, double *hi);

#endif
