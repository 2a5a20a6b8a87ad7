/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_SAMPLES_VTAB_H
#define PHASOR_SAMPLES_VTAB_H
/*
 * samples_vtab: the buffer's samples as one table again. Since schema 7
 * the samples are stored packed (docs/buffer.md, "Samples: polls and
 * blocks"): poll rows for the newest minutes and what the sync has not
 * forwarded, closed 5-minute blocks per meter for the rest, and, while an
 * older file is being converted, the rows of the old table samples_v6.
 * This SQLite module (eponymous, read and insert) shows all of them as
 *
 *   samples(seq, t_us, meter_id, qty_id, value, quality, session_id)
 *
 * one row per sample, value NULL for NaN as in the old table, in
 * (t_us, seq) or seq order when asked (the ORDER BY is consumed), with
 * seq, t_us, meter_id and qty_id constraints used to read only the
 * polls, blocks and columns concerned. So every SQL of the store, the sync
 * and the tests reads samples as before; INSERT adds one-sample polls
 * (test fixtures), UPDATE and DELETE are refused: the store's writer and
 * the sync's pruning work on the tables themselves.
 *
 * On a file older than schema 7 the real samples table shadows the module.
 * Built into phasor, and as a loadable extension for the sqlite3 shell
 * (build/phasor_samples.so: `.load build/phasor_samples`).
 */
#include <stddef.h>
#include <stdint.h>

struct sqlite3;

/* Register the module "samples" on db. SQLITE_OK or an SQLite error. */
int samples_vtab_register(struct sqlite3 *db);

/* Register it on every connection this process opens from now on (tests). */
int samples_vtab_auto(void);

/*
 * Without scanning: the highest sample seq in polls, blocks and samples_v6
 * (0: none); the lowest poll, block or old row starting above after (a
 * poll's or block's first seq; 0: none), which is where the next prune
 * unit starts; whether samples_v6 is still there (1, 0, -1 on error).
 * SQLITE_OK or an SQLite error.
 */
int samples_vtab_max_seq(struct sqlite3 *db, int64_t *out);
int samples_vtab_next_seq(struct sqlite3 *db, int64_t after, int64_t *out);
int samples_vtab_has_legacy(struct sqlite3 *db);

/*
 * The module's scan without SQL, for the readers that walk many rows: the
 * samples with from_us <= t_us <= to_us of one quantity id (qty < 0: all)
 * in (t_us, seq) order, value NaN bit for bit (no NULL). next gives 1 and
 * the row, 0 at the end, -1 with *err (free it); open NULL with *err.
 */
struct samples_row {
	int64_t seq, t_us, meter_id, qty_id, session_id;
	double value;
	int quality;
};
struct samples_scan;
struct samples_scan *samples_scan_open(struct sqlite3 *db, int64_t from_us, int64_t to_us,
				       int64_t qty, char **err);
/*
 * The same, of one meter id (meter < 0: all), with the blocks (the poll
 * rows and old rows always): all of them, only those without a rollup
 * (schema 8), or none, for a reader that takes the minutes of the others
 * from the rollups.
 */
enum { SAMPLES_BLOCKS_ALL, SAMPLES_BLOCKS_UNROLLED, SAMPLES_BLOCKS_NONE };
struct samples_scan *samples_scan_open_ex(struct sqlite3 *db, int64_t from_us, int64_t to_us,
					  int64_t qty, int64_t meter, int blocks, char **err);
/* The same, of the nq (at most 64) quantity ids qty[] (nq 0: all), in one pass:
 * each block's columns of those quantities decoded. */
struct samples_scan *samples_scan_open_set(struct sqlite3 *db, int64_t from_us, int64_t to_us,
					   const int64_t *qty, size_t nq, int64_t meter,
					   int blocks, char **err);
int samples_scan_next(struct samples_scan *sc, struct samples_row *row, char **err);
void samples_scan_close(struct samples_scan *sc);

/* A block holds polls of one window: w * WIN_US <= t_us < (w + 1) * WIN_US. */
#define SAMPLES_WIN_US 300000000LL
/* seq_hi - seq_lo of a block never exceeds this (the closer splits). */
#define SAMPLES_SPAN_MAX (1LL << 24)

#endif
