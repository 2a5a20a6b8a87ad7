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
 * all meters), and they are never "top consumers".
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
	struct { size_t meter; double p_w; double share; } top[KPI_TOP]; /* share of the site */
	size_t ntop;
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

/* Local midnight (TZ) at or before t_us. */
int64_t kpi_local_midnight(int64_t t_us);

#endif
