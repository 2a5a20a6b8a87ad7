/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_KPI_H
#define PHASOR_KPI_H
/*
 * kpi: the site figures of the console header: total power now, today's
 * energy, its cost and CO2, data quality, top consumers. Owned by the UI
 * thread; kpi_update() is cheap and never blocks. Today's energy is the sum
 * over each import counter's segments since local midnight (a counter that
 * goes down starts a new segment: a meter restart or reset is bridged, not
 * lost): a worker thread reads the day's samples before this start from the
 * local buffer once, and the live counter (live_counter()) continues them;
 * at each midnight the live value starts the new day. Until the worker
 * answers, or when the buffer has nothing since midnight, energy counts
 * from the first value seen and says since when.
 *
 * Meters with `aggregate = true` (a main board, an incomer) measure the sum
 * of others: the site total is theirs when there are any (else the sum of
 * all meters), and they are never "top consumers". In a meter tree
 * (`parent =`) the total is the sum of the consumption roots
 * (config_in_site), each parent has a remainder (its figure minus its
 * children's: what no feeder meters), and the top consumers are the leaves
 * and the remainders, so nothing is counted twice. Production meters
 * (`role = production`) are summed apart, with the coverage. With a grid
 * connection (`grid = true`, its export counter read as the import
 * counters are) the self-consumption is production - export.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/config.h"
#include "phasor/live.h"

#define KPI_TOP 5

struct kpi_site {
	double p_w;                /* site active power now, W (NaN unknown) */
	double today_wh;           /* site energy since midnight (or since today_since_us) */
	int64_t today_since_us;    /* local midnight, or later when partial */
	bool today_partial;        /* counts from a later time than midnight */
	unsigned today_resets;     /* counter resets bridged today (sum over meters) */
	double cost;               /* today_wh x price (NaN without a price) */
	double co2_kg;             /* today_wh x emission factor (NaN without one) */
	double quality;            /* good samples / expected since start, 0..1 (NaN early) */
	/* share of the site; remainder: the unmetered part of parent meter */
	struct { size_t meter; double p_w; double share; bool remainder; } top[KPI_TOP];
	size_t ntop;
	/* production (role = production roots); nprod 0: none configured */
	size_t nprod;
	double prod_w;             /* production now, W (NaN unknown) */
	double prod_today_wh;      /* production since midnight, Wh (NaN unknown) */
	double coverage;           /* prod_today_wh / cons_today_wh (NaN unknown) */
	double self_now;           /* the part of the production consumed on site now
				    * (NaN unknown): min(production, consumption) /
				    * production, with a grid connection (production -
				    * export) / production */
	double cons_today_wh;      /* the electricity consumed today: that of today_wh,
				    * with a grid connection G + P - X (NaN unknown) */
	/* a grid connection (grid = true): today_wh, p_w and cost are what the
	 * site takes from the grid (G), its export counter says what it gave
	 * back (X), and the production's self-consumption is P - X */
	bool grid;
	double export_w;           /* the grid meters' power out now, W (NaN unknown) */
	double export_today_wh;    /* X: their export counters' rise today (NaN unknown) */
	double self_today_wh;      /* P - X (0 at least), grid only (NaN unknown) */
};

struct kpi;

/* A counter's value of the day before this start, as the buffer has it. */
struct kpi_day_row {
	int64_t t_us;
	const char *meter;         /* its name (valid during the callback) */
	double value;
	int quality;               /* enum quality */
	int64_t meter_key;         /* the same for every row of one meter during a
				    * read (the file's meter id), -1: none */
};
typedef int (*kpi_day_fn)(void *ctx, const struct kpi_day_row *r);

/*
 * Where the day before this start comes from: the local buffer
 * (follow_kpi_day_ops in follow.c). Called from the KPI's worker thread.
 */
struct kpi_day_ops {
	void *(*open)(const char *path, char **cause);
	/* Rows of quantity qty with from_us <= t_us < to_us, in time order;
	 * fn returns nonzero to stop. 0, or -1 with *cause. */
	int (*rows)(void *h, unsigned qty, int64_t from_us, int64_t to_us, kpi_day_fn fn,
		    void *ctx, char **cause);
	void (*close)(void *h);
};

/*
 * For cfg's meters (cfg borrowed, must outlive). With day, starts the
 * lookup worker on cfg->store.path (no worker when the file does not exist
 * yet); kpi_new: none, the day starts at the first live value.
 */
struct kpi *kpi_new_day(const struct config *cfg, const struct kpi_day_ops *day);
/*
 * The same on the buffer at path, the day being the one of start_us (0:
 * now) read up to it: a replay's or a frozen view's figures at its cursor
 * (kpi_update's first instant is then start_us).
 */
struct kpi *kpi_new_day_at(const struct config *cfg, const struct kpi_day_ops *day,
			   const char *path, int64_t start_us);
struct kpi *kpi_new(const struct config *cfg);
void kpi_free(struct kpi *k);

/* Recompute from the live state (UI thread). */
void kpi_update(struct kpi *k, struct live *l, int64_t now_us);
const struct kpi_site *kpi_site(const struct kpi *k);
/* The worker has read the day before this start and the next kpi_update
 * will take it: worth a redraw now rather than at the next refresh. */
bool kpi_day_ready(const struct kpi *k);
/* The day before this start is still to be taken (read or not yet). */
bool kpi_day_pending(const struct kpi *k);

/* A meter's energy today. */
struct kpi_today {
	double wh;                 /* Wh (NaN unknown) */
	int64_t since_us;          /* counts from: local midnight, or later when partial */
	bool partial;
	unsigned resets;           /* counter resets bridged (segments - 1) */
};

/* False (and wh NaN) when unknown: no counter value yet, or no such meter. */
bool kpi_meter_today(const struct kpi *k, size_t meter, struct kpi_today *out);
/* The same: Wh (NaN unknown), and whether it is partial. */
double kpi_meter_today_wh(const struct kpi *k, size_t meter, bool *partial);

/* Meter i's active power at the last update, W (NaN unknown or stale). */
double kpi_meter_power(const struct kpi *k, size_t meter);

/* What a parent meter's feeders do not meter, at the last update. */
struct kpi_remainder {
	double p_w;                /* parent's power - the sum of its children's (NaN unknown) */
	double wh;                 /* the same for today's energy */
	double share;              /* p_w / the parent's power (NaN unknown) */
};
/* False (all NaN) for a meter without children. A negative remainder
 * (the children above their parent: a metering error) is kept as it is. */
bool kpi_remainder(const struct kpi *k, size_t parent, struct kpi_remainder *out);

/* Coverage (production / consumption) and self-consumption rate
 * (min(production, consumption) / production) of one interval, NaN when
 * unknown or the divisor is 0. */
double kpi_coverage(double prod, double cons);
double kpi_self_rate(double prod, double cons);
/* With a grid connection's export counter: the production used on site,
 * prod - exported (0 at least; NaN unknown); its rate of the production
 * (NaN when unknown or no production); and the site's consumption,
 * grid_import + that (NaN unknown). */
double kpi_self_export(double prod, double exported);
double kpi_self_export_rate(double prod, double exported);
double kpi_consumption(double grid_import, double prod, double exported);

/* Local midnight (TZ) at or before t_us. */
int64_t kpi_local_midnight(int64_t t_us);

#endif
