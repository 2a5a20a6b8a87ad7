/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_MACHINE_H
#define PHASOR_MACHINE_H
/*
 * machine: the figures of one [machine NAME] (docs/machines.md) from its
 * state reports, its piece counts and the energy counters of the meters
 * that feed it: the state now and since when, occupancy (time in run,
 * wait and stop) and energy per state for the current shift and day,
 * pieces, energy per piece, and whether it is consuming while stopped.
 * Pure: no I/O, no clock; every call gets its time. The hub owns one
 * struct machine_track per machine and feeds it in its thread.
 */
#include <stdbool.h>
#include <stdint.h>
#include "phasor/config.h"

/* One span (a shift, a day) of a machine's figures. */
struct machine_span {
	int64_t from_us;                   /* its start (0: not started) */
	int64_t time_us[MACHINE__COUNT];   /* time spent in each state (unknown too) */
	double energy_wh[MACHINE__COUNT];  /* energy its meters took in each state */
	double pieces;                     /* pieces made */
};

struct machine_track {
	int state;                /* enum machine_state now */
	int64_t since_us;         /* in it since (the report that set it; the
				   * start for unknown) */
	int64_t at_us;            /* time accounted up to */
	int64_t last_report_us;   /* the last report; 0: none yet */
	/* pieces */
	bool have_counter;
	double counter;           /* the last counter value (pieces = counter) */
	double total;             /* pieces since the start (the stored count) */
	uint64_t counter_resets;  /* the counter went down */
	/* energy: each feeding meter's last e_imp (Wh) */
	bool e_have[CONFIG_MACHINE_METERS_MAX];
	double e_last[CONFIG_MACHINE_METERS_MAX];
	double power_w;           /* sum of the feeding meters' p_total; NaN unknown */
	int64_t over_since_us;    /* stopped with power over the limit since; 0: not */
	uint64_t malformed;       /* reports refused */
	struct machine_span shift, day;
};

/* A machine in state unknown since now_us, its spans starting at
 * day_from_us and shift_from_us (0: no shifts). */
void machine_track_init(struct machine_track *t, int64_t now_us, int64_t day_from_us,
			int64_t shift_from_us);

/*
 * Account time up to now_us. When day_from_us (or shift_from_us) is past
 * the current day's (shift's) start, the time up to that boundary goes to
 * the old span and a new one starts there. After stale_us without a
 * report (0: never) the state becomes unknown, from the last report plus
 * stale_us on.
 */
void machine_track_tick(struct machine_track *t, int64_t now_us, int64_t day_from_us,
			int64_t shift_from_us, int64_t stale_us);

/* A reported state at t_us (times before at_us count at at_us). Returns
 * true when it changed. */
bool machine_track_state(struct machine_track *t, int state, int64_t t_us);

/*
 * Reported pieces at t_us: a counter (increment false), whose first value
 * only sets the base and which, when it goes down, was reset (the new
 * value counts from 0); or pieces made since the last report (increment
 * true). Returns the pieces added (>= 0).
 */
double machine_track_pieces(struct machine_track *t, double value, bool increment, int64_t t_us);

/*
 * For what was stored rather than heard (a restart's seed, an attached
 * console, a replay): the state is unknown from t_us on (a session of the
 * recorder ended or began there: nobody listened in between).
 */
void machine_track_unknown(struct machine_track *t, int64_t t_us);

/*
 * A new session begins: the piece counter's base and the feeding meters'
 * bases are taken again from the next values, as at a start, and the
 * pieces since the start (total) count from 0. from_zero: the next count
 * is pieces since this start (pieces = increment, stored as their sum),
 * else its first value only sets the base.
 */
void machine_track_rebase(struct machine_track *t, bool from_zero);

/* Forget the feeding meters' last counters: the next value of each only
 * sets its base (counters read from another scale follow). */
void machine_track_energy_rebase(struct machine_track *t);

/* A report that could not be used (counted). */
void machine_track_malformed(struct machine_track *t);

/*
 * Feeding meter k's energy import counter e_wh: the increase since its
 * last value goes to the current state (a first value or a counter that
 * went down only sets the base). Returns the Wh added.
 */
double machine_track_energy(struct machine_track *t, size_t k, double e_wh);

/*
 * The feeding meters' summed power at t_us (NaN: unknown). With the state
 * stop and power above limit_w it starts (or keeps) the time the machine
 * has been consuming while stopped.
 */
void machine_track_power(struct machine_track *t, double power_w, double limit_w, int64_t t_us);

/* Has it been stopped with power above the limit for at least after_us? */
bool machine_consuming_stopped(const struct machine_track *t, int64_t after_us, int64_t now_us);

/* Share (0..1) of the known time (run + wait + stop) in state s; NaN when
 * no known time. */
double machine_span_share(const struct machine_span *sp, int s);
/* All the energy of the span (Wh). */
double machine_span_energy(const struct machine_span *sp);
/* Energy while not producing (wait + stop), Wh. */
double machine_span_idle_energy(const struct machine_span *sp);
/* All the span's energy over its pieces (Wh per piece); NaN without pieces. */
double machine_span_energy_per_piece(const struct machine_span *sp);

#endif
