/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_REPORT_H
#define PHASOR_REPORT_H
/*
 * report: the figures of `phasor report` (issue 13, docs/reports.md) from
 * the minutes of the chosen meters' quantities (the store's rollups, as
 * struct history_minute) and the alarm journal's rows, given in memory:
 * data coverage and gaps, energy per day and shift (the calendar and the
 * reset rule of history.h), the biggest consumers, the load curve and the
 * peak demand per billing interval against the contract power, the power
 * factor (time below 0.85 / 0.90, tan phi against 0.4, the compensation
 * needed), power quality (voltage band, unbalance, THD, frequency), the
 * alarm figures of EEMUA 191 (with alarm.h's thresholds), the energy
 * outside production hours, and the stored forecasts' accuracy.
 *
 * Pure: no I/O, no clock (made_us passed in); local times follow the
 * process's zone (TZ), as history.h. Any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/history.h"

/* The quantities a meter's minutes are given for (report_series_qty). */
enum report_series {
	REPORT_E_IMP, REPORT_P, REPORT_Q, REPORT_PF,
	REPORT_V1, REPORT_V2, REPORT_V3,
	REPORT_THD1, REPORT_THD2, REPORT_THD3,
	REPORT_FREQ,
	REPORT_E_EXP,               /* read for grid connections only */
	REPORT_NSERIES
};
/* The enum qty_id of series k. */
unsigned report_series_qty(unsigned k);

#define REPORT_INTERVAL_US (15 * INT64_C(60000000)) /* load curve and billing interval */
#define REPORT_GAP_MINUTES 5      /* missing minutes in a row named as a gap */
#define REPORT_GAPS_MAX 20        /* gaps kept (the longest) */
#define REPORT_TOP 10             /* alarms in the top list */
#define REPORT_TAN_PHI_LIMIT 0.4  /* the French grid's reactive limit */

struct report_meter_in {
	const char *name;
	bool aggregate;              /* measures the site (an incomer), not a consumer */
	size_t parent_plus1;         /* 1 + the index of its parent among the meters, 0: a
				      * root (the meter tree, parent =) */
	bool production;             /* role = production: not consumption */
	bool grid;                   /* grid = true: a consumption root whose e_exp
				      * counts what the site gave back to the grid */
	int utility;                 /* enum utility (0: electricity): its price */
	double nominal_v;            /* L-N volts */
	struct history_series s[REPORT_NSERIES]; /* minutes from before_us, in time order */
};

/* A journal row (struct store_alarm_event's fields the report uses). */
struct report_alarm_in {
	int64_t t_us, raised_us;
	const char *alarm, *meter, *priority, *event, *state, *operator_name;
};

/* What the stored forecasts of the site expected of each interval. */
struct report_forecast_in {
	size_t n;
	int64_t step_us;
	const int64_t *t_us;
	const double *point;         /* W, NaN: none */
};

struct report_in {
	const char *site, *zone, *db;
	int64_t from_us, to_us;      /* the range: [from, to) */
	int64_t before_us;           /* records from here on are given (the counters' start) */
	int64_t step_us;             /* the records' length: a minute (0) or a 5-minute window;
				      * durations are counted in minutes either way */
	int64_t made_us;             /* now: minutes after it are not expected */
	double price_per_kwh, co2_per_kwh, contract_w, nominal_f; /* NaN: not set */
	const double *prices;        /* per enum utility, per kWh of a meter's energy
				      * (config_price); NULL: price_per_kwh for all */
	const char *currency;        /* NULL: none */
	const int *shift_min;        /* [site] shifts, minutes after midnight */
	size_t nshifts;
	const int32_t *holidays;     /* [forecast] holidays: outside production all day */
	size_t nholidays;
	const struct report_meter_in *meters;
	size_t nmeters;
	const struct report_alarm_in *alarms; /* in journal order */
	size_t nalarms;
	const struct report_forecast_in *forecast; /* NULL: none stored */
};

struct report_gap {
	size_t meter;
	int64_t from_us, to_us;
};

struct report_meter_out {
	uint64_t present, expected;  /* minutes with a good sample; expected */
	bool has_energy;
	double kwh, share;           /* share of the consumers' sum, 0..1 */
	double peak_w;               /* highest 15 min mean power; NaN none */
	int64_t peak_at;
	/* the tree: a parent's energy minus its children's (NaN: no children,
	 * or no energy), and a child's share of its parent's energy (NaN) */
	double rem_kwh, parent_share;
	size_t nchildren, depth;
	/* power factor */
	uint32_t pf_minutes, below85, below90;
	double pf;                   /* over the range (from P and Q, else mean PF); NaN */
	double tan_phi;              /* sum Q / sum P; NaN */
	double kvar_needed;          /* max over intervals of P (tan phi - 0.4), var; NaN */
	int64_t kvar_at;
	/* power quality */
	uint32_t v_minutes, v_out;   /* minutes with a phase voltage; outside +-10 % */
	double v_min, v_max;
	uint32_t unb_minutes, unb_over2;
	double unb_max, unb_mean;    /* NEMA voltage unbalance, % */
	uint32_t thd_minutes, thd_over8;
	double thd_max;              /* highest minute mean of THD-V, % */
	uint32_t f_minutes, f_out;
	double f_min, f_max;
};

struct report_alarm_top {
	char alarm[64], meter[64], priority[16];
	unsigned raises;
};

enum { REPORT_PRIOS = 5 };       /* critical high medium low diagnostic */

struct report {
	int64_t from_us, to_us;
	uint64_t present, expected;
	double coverage;             /* present / expected; NaN when none expected */
	struct report_gap gaps[REPORT_GAPS_MAX];
	size_t ngaps, gaps_total;
	/* the site (the aggregate meters when any, else all) */
	struct history_spans days;   /* with peaks */
	struct history_spans shifts; /* n 0: no shifts configured */
	struct history_spans iv;     /* 15 min billing intervals */
	double *iv_min_w, *iv_max_w; /* band of the site's minute power per interval; NaN */
	double total_kwh;
	bool has_energy;
	/* the site's cost, each meter's energy at its utility's price (NaN:
	 * a price missing): over the range, per day and shift, outside
	 * production hours */
	double cost, *day_cost, *shift_cost, standby_cost;
	unsigned char *iv_out;       /* [iv.n]: the interval is outside production hours */
	size_t nsite;                /* site meters added */
	double peak_w;               /* NaN none */
	int64_t peak_at;
	size_t over_intervals;
	int64_t over_us;
	/* meters, in order; the consumers ranked by energy */
	size_t nmeters;
	struct report_meter_out *m;
	size_t *rank, nrank;
	size_t worst_pf;             /* the meter needing most kvar; SIZE_MAX none */
	/* production (role = production roots): per day (days' bounds) and
	 * in all, what the site used of it (per 15 min interval, history_self)
	 * and the coverage (production / the site's consumption) */
	size_t nprod;                /* production meters with energy */
	struct history_spans pdays, piv;
	double *self_day_wh;         /* [days.n], NaN: unknown */
	double prod_kwh, self_kwh, prod_coverage; /* NaN: unknown */
	/* per local calendar month likewise: the site's energy, production and
	 * the part used on site (clipped to the range) */
	struct history_spans months, pmonths;
	double *self_month_wh;       /* [months.n], NaN: unknown */
	/* with a grid connection (grid = true): the site's energy is what it
	 * took from the grid (G), the export counters' (X) per day, month and
	 * over the range; used on site P - X, consumption G + P - X */
	bool grid;
	struct history_spans xdays, xmonths;
	double export_kwh;           /* NaN: unknown */
	double *cons_day_wh, *cons_month_wh; /* consumption, NaN: unknown */
	double cons_kwh;             /* the consumption over the range; NaN */
	/* outside production hours */
	double standby_kwh;
	int64_t standby_us;
	/* alarms */
	unsigned events, raises, by_prio[REPORT_PRIOS], floods, peak10, standing, chattering;
	double avg10;                /* raises per 10 minutes */
	unsigned acks;
	double ack_mean_s, ack_median_s, ack_max_s; /* NaN when none */
	struct report_alarm_top top[REPORT_TOP];
	size_t ntop;
	/* forecast */
	bool has_forecast;
	size_t fc_n, fc_scored;
	int64_t fc_step;
	int64_t *fc_t;
	double *fc_point, *fc_actual; /* W */
	double mape;                 /* %, NaN when nothing scored */
	/* while building (report_add_meter) */
	bool agg;                    /* the range has aggregate meters */
	double consumers_kwh;
	int64_t site_first;          /* the site's power per record from here, */
	int64_t site_step;           /* a record this long, */
	size_t site_nmin;            /* this many records */
	double *site_p;
	unsigned char *site_has;
	struct history_spans fiv;    /* the site's energy per forecast interval */
};

/* The priority names in REPORT_PRIOS order. */
extern const char *const report_prio_names[REPORT_PRIOS];

void report_build(const struct report_in *in, struct report *out);
/*
 * The same one meter at a time, so that only one meter's minutes need be
 * in memory: report_begin, report_add_meter for each meter i with its
 * minutes in m (they may be freed after), report_end. in->meters must
 * still give every meter's name and aggregate flag (its series may be
 * empty). report_build is these three on in->meters.
 */
void report_begin(const struct report_in *in, struct report *r);
void report_add_meter(const struct report_in *in, size_t i, const struct report_meter_in *m,
		      struct report *r);
void report_end(const struct report_in *in, struct report *r);
void report_free(struct report *r);

/* The tier of a power factor (BRIEF: excellent >= 0.95, good >= 0.90,
 * acceptable >= 0.85 (2 % penalty), poor >= 0.80 (5 %), critical). */
const char *report_pf_tier(double pf);
/* NEMA unbalance of three values: 100 max |x - mean| / mean; NaN. */
double report_unbalance(double a, double b, double c);
/* Is t_us outside production hours: Saturday and Sunday, the holidays
 * (local dates as days since 1970-01-01: [forecast] holidays), and without
 * shifts also 22:00-06:00 on weekdays (local time). */
bool report_outside_production(int64_t t_us, size_t nshifts, const int32_t *holidays,
			       size_t nholidays);

#endif
