/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_ALARM_H
#define PHASOR_ALARM_H
/*
 * alarm: alarm definitions and the ISA-18.2 / IEC 62682 alarm engine.
 *
 * A definition ([alarm NAME] in the config, or the built-in set from the
 * seed thresholds when the config has none) names meters (names or globs),
 * a measure (a quantity or a derived one such as the power factor, the
 * unbalance or the communication state), a limit type and value, a
 * priority, a deadband and delays. The engine makes one instance per
 * (definition, matching meter) and runs the state machine of each:
 *
 *   normal --active--> unack --ack--> ack --clear--> normal
 *                       |clear            ^ re-alarm (still active after realarm)
 *                       v                 |
 *                  rtn_unack --ack--> normal;  rtn_unack --active--> unack
 *   any state --shelve--> shelved --unshelve / expiry / (one-shot) clear--> normal or unack
 *   value alarms of a meter whose communication is down: suppressed (one
 *   root alarm, the comm alarm, instead of twenty); back when it returns.
 *   enabled = no: out_of_service, always.
 *
 * Every change is an event (raise, clear, ack, shelve, unshelve, suppress,
 * unsuppress, note) handed to the event callback, which the hub writes to
 * the journal (store_put_alarm_event) and publishes over MQTT. Events of
 * other consoles (operator actions: ack, shelve, unshelve, note) are applied
 * with alarm_apply_remote; ids make every event apply once.
 *
 * Time is always passed in (now_us, UTC microseconds): the engine never
 * reads a clock, so tests drive it with a fake one. Not thread-safe: the
 * hub thread (the console's UI thread) owns it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/alarmdef.h"

struct config;
struct live;
struct store_alarm_event;

/* ---- the engine ---- */

#define ALARM_CHATTER_COUNT 5          /* raises ... */
#define ALARM_CHATTER_WINDOW_MS 60000  /* ... within this: chattering */
#define ALARM_REMOTE_GRACE_US 2000000  /* a remote ack covers occurrences raised up to 2 s after it */
#define ALARM_JOIN_US 60000000         /* ... or, for a console started later, raised in its first minute */

struct alarm_event {
	enum alarm_event_kind kind;
	int64_t t_us;
	char id[ALARM_ID_LEN];          /* "<origin>:<unique>"; never reused */
	char origin[ALARM_ID_LEN];      /* the console that made it */
	bool remote;                    /* applied from another console (do not publish again) */
	size_t inst;                    /* instance index in the engine */
	const char *alarm;              /* definition name (engine-owned) */
	const char *meter;              /* meter name (engine-owned) */
	const char *quantity;           /* measure name */
	enum alarm_priority priority;
	enum alarm_state state;         /* after the event */
	double value, limit;            /* NaN: none */
	char operator_name[ALARM_OPERATOR_LEN]; /* "" for the system */
	char note[ALARM_NOTE_LEN];
	int64_t raised_us;              /* start of the occurrence; 0 */
	int64_t until_us;               /* shelve end; 0: one-shot or none */
};

/* Every event the engine makes or applies, in order. */
typedef void (*alarm_event_fn)(void *ctx, const struct alarm_event *ev);

struct alarm_inst {
	const struct alarm_def *def;
	size_t meter;                   /* config meter index */
	const char *meter_name;
	enum alarm_state state;
	bool active;                    /* the condition, after delays and deadband */
	bool chattering;
	double value;                   /* latest measured; NaN unknown */
	double limit;                   /* effective limit (after limit_pct) */
	double raise_value;             /* value when the current occurrence raised */
	int64_t raised_us;              /* current occurrence start; 0 */
	int64_t first_us, last_us;      /* first raise (ever, since restore) and last event */
	int64_t since_us;               /* current state since */
	int64_t shelved_until_us;       /* 0: one-shot (until the alarm clears) */
	uint32_t count;                 /* raises */
	char operator_name[ALARM_OPERATOR_LEN]; /* last operator action */
	char note[ALARM_NOTE_LEN];      /* last note */
	/* forecast_excess: the figures of the newest observation (expected and
	 * actual kW, the energy in excess so far), the raise's note */
	char detail[ALARM_NOTE_LEN];
	/* engine internals */
	int64_t beyond_since_us;        /* on-delay timer; 0: not beyond */
	int64_t within_since_us;        /* off-delay timer; 0: not within */
	int64_t acked_us;
	double night_min;               /* night_flow: lowest flow since night_open_us; NaN none */
	int64_t night_open_us;          /* the opening of the window it covers; 0: none */
	int64_t raises_recent[ALARM_CHATTER_COUNT]; /* ring of recent raise times */
	unsigned raises_head;
};

struct alarm_engine;

/*
 * An engine for cfg's alarm definitions (cfg->alarms, or the built-in set
 * when it has none) on cfg's meters. origin is this console's id (event ids
 * start with it). fn gets every event. NULL never (allocation dies).
 */
struct alarm_engine *alarm_engine_new(const struct config *cfg, const char *origin,
				      alarm_event_fn fn, void *ctx);
void alarm_engine_free(struct alarm_engine *e);

size_t alarm_count(const struct alarm_engine *e);
const struct alarm_inst *alarm_get(const struct alarm_engine *e, size_t i);

/*
 * Feed one instance its measured value at now (valid false: unknown, which
 * neither raises nor clears). Applies deadband, on/off delays, re-alarm,
 * shelve expiry, chattering. Exposed for the tests; alarm_evaluate calls it.
 */
void alarm_feed(struct alarm_engine *e, size_t i, double value, bool valid, int64_t now_us);
/*
 * What the forecast said of a meter's newest completed intervals
 * (trend.h), for its forecast_excess instances: valid false (no forecast,
 * or under ALARM_FORECAST_MIN_DAYS of history) makes the measure unknown,
 * so it neither raises nor clears. The hub sets it from the forecast
 * worker's trend set before each alarm_evaluate.
 */
#define ALARM_FORECAST_MIN_DAYS 14.0
struct alarm_forecast_obs {
	bool valid;
	int run;                        /* completed intervals in a row outside the 95 % band */
	double expected_w, actual_w;    /* of the newest completed interval */
	double lo95_w, hi95_w;
	double excess_wh;               /* sum of (actual - forecast) x step over the run */
	int64_t since_us;               /* the run's first interval; 0: none */
};
void alarm_forecast_obs(struct alarm_engine *e, size_t meter, const struct alarm_forecast_obs *o);

/* Suppress (true) or release an instance by design. */
void alarm_suppress(struct alarm_engine *e, size_t i, bool on, int64_t now_us);

/*
 * Evaluate every instance from the live state (values, comm state,
 * staleness, analysis) at now: value alarms of a down meter are
 * suppressed. The hub calls it from hub_tick.
 */
void alarm_evaluate(struct alarm_engine *e, struct live *live, const struct config *cfg,
		    int64_t now_us);

/*
 * Only the measured values (alarm_inst.value) from the live state, no
 * state change: a console attached to the recorder, whose states come
 * from the recorder's journal (alarm_journal_row), shows values as live.
 */
void alarm_measure_only(struct alarm_engine *e, struct live *live, const struct config *cfg,
			int64_t now_us);

/*
 * Operator actions on instance i, by operator (login name or mapping),
 * with an optional note. 0 when done (an event was made), -1 with err set
 * when refused: nothing to acknowledge, a note required and missing, not
 * shelved, out of service. Shelving lasts dur_ms (0: one-shot, until the
 * alarm next clears), capped at the definition's shelve_max_ms; its event's
 * note says how long, until when (UTC) and why (the note given):
 * "shelved 1 h until 14:05:00Z: maintenance".
 */
int alarm_ack(struct alarm_engine *e, size_t i, const char *op, const char *note,
	      int64_t now_us, char *err, size_t errsz);
int alarm_shelve(struct alarm_engine *e, size_t i, const char *op, int64_t dur_ms,
		 const char *note, int64_t now_us, char *err, size_t errsz);
int alarm_unshelve(struct alarm_engine *e, size_t i, const char *op, int64_t now_us, char *err,
		   size_t errsz);
int alarm_note(struct alarm_engine *e, size_t i, const char *op, const char *note,
	       int64_t now_us, char *err, size_t errsz);

/* Index of the instance of definition alarm on meter ("" for none), or -1. */
long alarm_find(const struct alarm_engine *e, const char *alarm, const char *meter);

/*
 * Apply another console's event (ev->remote is set by the caller). Only
 * operator events (ack, shelve, unshelve, note) change state; an ack covers
 * the local occurrence only if it was raised before ev->t_us +
 * ALARM_REMOTE_GRACE_US, or if this console raised it in its first
 * ALARM_JOIN_US, as its first raise, and the acknowledged occurrence began
 * earlier (the console joined while the condition was on). An id already seen (own events coming back, a
 * retained message after a reconnect) is ignored. An operator event gets
 * the checks a local action gets: its time not more than
 * ALARM_REMOTE_FUTURE_US ahead of now, a note when the definition requires
 * one for an ack, a shelving that ends after it starts and within the
 * definition's shelve_max (-1: refused; the caller counts and logs it).
 * Returns 1 when applied (the callback got it, remote = true), 0 when
 * ignored, -1 when refused.
 */
#define ALARM_REMOTE_FUTURE_US 300000000LL /* 5 min: clocks of consoles differ */
int alarm_apply_remote(struct alarm_engine *e, const struct alarm_event *ev, int64_t now_us);

/*
 * Restore an instance from its newest journal row (store_reader_alarm_latest)
 * at start: state, occurrence time, operator, note, shelving. Rows of
 * unknown alarms or meters are ignored. No event is made.
 */
void alarm_restore(struct alarm_engine *e, const struct store_alarm_event *row);

/*
 * A journal row this engine did not make: one written before this start
 * (history: the last 24 h at start) or, for a console attached to the
 * recorder, one the recorder just wrote (mirror: the instance takes the
 * row's state, as alarm_restore, and its value). A raise counts as one of
 * this engine's (raise count, first raise, the EEMUA buckets, chattering).
 * *ev is the row as an event (names engine-owned; remote when its origin
 * is not this engine's, i.e. another console's shared action) for the
 * console's alarm history. false when the row names an alarm, meter, event
 * or state unknown here (nothing changed). No callback is made.
 */
bool alarm_journal_row(struct alarm_engine *e, const struct store_alarm_event *row, bool mirror,
		       struct alarm_event *ev);
/* The EEMUA figures (alarm_perf) cover from t_us on (the recording's start
 * within the last 24 h), not only from this engine's first evaluation. */
void alarm_perf_since(struct alarm_engine *e, int64_t t_us);

/* ---- figures for the banner, the overview and the EEMUA panel ---- */

struct alarm_counts {
	unsigned unack[PRIO__COUNT];    /* unack + rtn_unack, per priority */
	unsigned active[PRIO__COUNT];   /* unack + ack */
	unsigned shelved, suppressed, oos;
	long newest;                    /* the newest unacknowledged alarm of the highest priority, -1 */
};
/* Counted again only when an instance's state or raise time changed since
 * the last call (the banner asks every frame); alarm_counts_fresh always
 * counts (tests compare the two). */
void alarm_counts(const struct alarm_engine *e, struct alarm_counts *out);
void alarm_counts_fresh(const struct alarm_engine *e, struct alarm_counts *out);

/* The highest priority among a meter's active or unacknowledged alarms, -1 when none. */
int alarm_meter_priority(const struct alarm_engine *e, size_t meter);

#define ALARM_PERF_BUCKETS 144          /* 24 hours of 10 minutes */
#define ALARM_FLOOD_THRESHOLD 10        /* raises in 10 minutes: a flood (EEMUA 191) */
#define ALARM_STANDING_US (24LL * 3600 * 1000000) /* active longer: a standing alarm */
struct alarm_perf {
	unsigned per10[ALARM_PERF_BUCKETS]; /* raises per 10 minutes, oldest first, ending now */
	double avg_per10;               /* over the buckets since the engine started */
	unsigned peak_per10;
	unsigned floods;                /* buckets with >= ALARM_FLOOD_THRESHOLD raises */
	unsigned last10;                /* raises in the last 10 minutes (by whole minutes: 10 to 11) */
	bool flood_now;                 /* last10 >= ALARM_FLOOD_THRESHOLD */
	unsigned by_priority[PRIO__COUNT]; /* raises */
	unsigned active, standing;      /* active now; of which active > ALARM_STANDING_US */
	unsigned chattering;
	size_t top[10];                 /* instances by raise count, most first */
	unsigned ntop;
};
void alarm_perf(const struct alarm_engine *e, int64_t now_us, struct alarm_perf *out);

#endif
