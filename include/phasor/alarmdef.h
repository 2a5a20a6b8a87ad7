/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_ALARMDEF_H
#define PHASOR_ALARMDEF_H
/*
 * alarmdef: the vocabulary of alarms and their definitions, as the
 * configuration states them (model layer): states, priorities, limit
 * types, event kinds and measures with their contract names, the
 * [alarm NAME] definition and the built-in set. The engine that runs them
 * is alarm.h (plant layer).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes of the texts an alarm event carries (with the NUL). */
#define ALARM_ID_LEN 96
#define ALARM_NOTE_LEN 256
/* The longest reason for a shelving (bytes): its note, "shelved 1 h until
 * 14:05:00Z: " then the reason, still fits in ALARM_NOTE_LEN. */
#define ALARM_SHELVE_REASON_LEN 192
#define ALARM_OPERATOR_LEN 64
/* The longest shelving when a definition sets none: 8 h. */
#define ALARM_SHELVE_MAX_DEFAULT_MS (8 * 3600 * INT64_C(1000))

enum alarm_state {
	ALARM_NORMAL,
	ALARM_UNACK,       /* active, not acknowledged */
	ALARM_ACK,         /* active, acknowledged */
	ALARM_RTN_UNACK,   /* returned to normal, not acknowledged: stays listed */
	ALARM_SHELVED,
	ALARM_SUPPRESSED,  /* by design (its meter is down) */
	ALARM_OOS,         /* out of service (enabled = no) */
	ALARM_STATE__COUNT
};
/* "normal" "unack" "ack" "rtn_unack" "shelved" "suppressed" "out_of_service" */
const char *alarm_state_name(enum alarm_state s);
int alarm_state_parse(const char *name); /* -1 when unknown */

enum alarm_priority { PRIO_CRITICAL, PRIO_HIGH, PRIO_MEDIUM, PRIO_LOW, PRIO_DIAGNOSTIC, PRIO__COUNT };
/* "critical" "high" "medium" "low" "diagnostic" */
const char *alarm_priority_name(enum alarm_priority p);
int alarm_priority_parse(const char *name);

enum alarm_limit { LIMIT_HIGH, LIMIT_HIGH_HIGH, LIMIT_LOW, LIMIT_LOW_LOW };
/* "high" "high-high" "low" "low-low" */
const char *alarm_limit_name(enum alarm_limit l);
int alarm_limit_parse(const char *name);
bool alarm_limit_is_high(enum alarm_limit l);

enum alarm_event_kind {
	AEV_RAISE, AEV_CLEAR, AEV_ACK, AEV_SHELVE, AEV_UNSHELVE, AEV_SUPPRESS, AEV_UNSUPPRESS,
	AEV_NOTE, AEV__COUNT
};
/* "raise" "clear" "ack" "shelve" "unshelve" "suppress" "unsuppress" "note" */
const char *alarm_event_name(enum alarm_event_kind k);
int alarm_event_parse(const char *name);

/* What a definition watches. The config's `quantity =` names one of these. */
enum alarm_measure {
	AM_QTY,          /* a stored quantity by its contract name (v_l1n, p_total, ...) */
	AM_PF,           /* "pf": |PF total| (from a register or P and S) */
	AM_TAN_PHI,      /* "tan_phi" */
	AM_V_UNBALANCE,  /* "v_unbalance", % (NEMA) */
	AM_I_UNBALANCE,  /* "i_unbalance", % (NEMA) */
	AM_VOLTAGE,      /* "voltage": the L-N phases, the lowest for low limits, the highest for high */
	AM_VOLTAGE_LL,   /* "voltage_ll": the L-L phases (read or derived), same rule */
	AM_THD_V,        /* "thd_v": the worst phase, % */
	AM_THD_I,        /* "thd_i" */
	AM_FREQUENCY,    /* "frequency", Hz */
	AM_OVERLOAD,     /* "overload": p_total as % of the meter's max_power */
	AM_COMM,         /* "comm": active while the meter is down (value 1) */
	AM_STALE,        /* "stale": active while its data is older than three periods */
	AM_FORECAST_EXCESS, /* "forecast_excess": completed intervals in a row outside the
			     * forecast's 95 % band; limit = how many raise it */
	AM_NIGHT_FLOW,   /* "night_flow": a utility meter's lowest flow since its quiet window
			  * opened (site time), m3/h; raises above limit */
	AM__COUNT
};
/* The config name of a derived measure ("pf", ...); for AM_QTY the quantity's name. */
const char *alarm_measure_name(enum alarm_measure m);
/* Parse a measure name: a derived name, or a quantity (*qty set). -1 when unknown. */
int alarm_measure_parse(const char *name, unsigned *qty);
/* Unit of a measure for display ("", "%", "V", "Hz", ...). */
const char *alarm_measure_unit(enum alarm_measure m, unsigned qty);

struct alarm_def {
	char *name;                /* [alarm NAME] */
	char **meters;             /* names or fnmatch globs; NULL-terminated */
	enum alarm_measure measure;
	unsigned qty;              /* AM_QTY only */
	char *quantity;            /* as written ("pf", "v_l1n", "comm") */
	enum alarm_limit type;
	double limit;              /* in the measure's unit; unused for comm / stale */
	bool limit_pct;            /* "90%": percent of the meter's nominal (voltage: nominal_voltage,
				    * voltage_ll: nominal x sqrt 3, frequency: site nominal) */
	enum alarm_priority priority;
	double deadband;           /* same unit as the limit; clear only beyond limit -/+ deadband */
	int64_t on_delay_ms;       /* must stay beyond the limit this long before it raises */
	int64_t off_delay_ms;      /* must stay back within this long before it clears */
	int64_t realarm_ms;        /* 0: never; re-announce an acknowledged alarm still active */
	int64_t shelve_max_ms;     /* longest shelving (default 8 h) */
	char *message;             /* what happened, for the operator */
	char *action;              /* what to do */
	bool ack_note;             /* an acknowledgement needs a note */
	bool enabled;              /* false: out of service */
	int window_start_min;      /* night_flow: the quiet window, minutes after local */
	int window_end_min;        /* midnight, [start, end); end < start: across midnight */
	bool builtin;              /* from the default set */
	int line;                  /* of the section header; 0 for built-ins */
};

/*
 * The built-in set (BRIEF.md seed thresholds), as new definitions: overload
 * (critical), phase loss (critical), current unbalance > 15 % (critical),
 * PF < 0.85 (high), L-L voltage outside 380..420 V scaled to nominal (high),
 * voltage THD > 8 % (medium), frequency outside +-1 % (medium), voltage
 * unbalance > 2 % (low), communication loss (high), stale data (low).
 * Returns the count; *out is a new array (free with alarm_defs_free).
 */
size_t alarm_defaults(struct alarm_def **out);
void alarm_def_clear(struct alarm_def *d);
/*
 * The "consuming-while-stopped" definition of machine m (its
 * stopped_power set): high on the feeding meters' summed p_total, limit
 * stopped_power, on-delay stopped_after, priority medium. The hub feeds
 * its instance (alarm_feed) while the machine is stopped. New strings in
 * *d (alarm_def_clear).
 */
#define ALARM_MACHINE_STOPPED "consuming-while-stopped"
struct config_machine;
void alarm_def_machine(const struct config_machine *m, struct alarm_def *d);
void alarm_defs_free(struct alarm_def *defs, size_t n);
/* night_flow's defaults: the window 01:00-05:00, the flow must stay above
 * the limit (0 m3/h) for 1 h of it. */
#define ALARM_NIGHT_START_MIN 60
#define ALARM_NIGHT_END_MIN 300
#define ALARM_NIGHT_ON_DELAY_MS (3600 * INT64_C(1000))
/* The length of a night_flow window in minutes (1..1440). */
int alarm_window_minutes(const struct alarm_def *d);
/* Its window as written, "01:00-05:00", "00:00-24:00", in buf; returns buf. */
char *alarm_window_text(const struct alarm_def *d, char *buf, size_t size);
/* Does meter name match one of d's patterns? */
bool alarm_def_matches(const struct alarm_def *d, const char *meter);

#endif
