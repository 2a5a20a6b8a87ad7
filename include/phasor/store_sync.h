/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_STORE_SYNC_H
#define PHASOR_STORE_SYNC_H
/*
 * store_sync: the sync's access to the local buffer. Part of the store
 * layer: the store owns every table of its file, and this is the only way
 * the sync (src/sync/sync.c) reads and writes them. A handle is one private
 * read-write SQLite connection on the buffer, beside the store's writer and
 * its readers (WAL): reads of samples, alarm journal rows and stored
 * forecasts past the watermarks, and short write transactions for the watermarks and counters
 * in meta, the sync's events, the quarantine and pruning.
 *
 * Write functions marked "in a transaction" run inside
 * store_sync_begin/commit; the caller decides what commits together. On
 * -1, store_sync_errmsg() says why (until the next call on the handle).
 * One thread at a time per handle.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the sync forwards; indexes its per-kind arrays (STORE_SYNC_KINDS of them). */
enum store_sync_kind { STORE_SYNC_SAMPLE, STORE_SYNC_ALARM, STORE_SYNC_FORECAST };
#define STORE_SYNC_KINDS 3

/* "sample", "alarm" or "forecast": the kind as the quarantine table spells it. */
const char *store_sync_kind_name(enum store_sync_kind k);

struct store_sync_db;

/* Asked while a transaction waits for the writer's lock: true gives up. */
typedef bool (*store_sync_stop_fn)(void *ctx);

/*
 * Open the buffer at path (it must exist at STORE_SCHEMA_VERSION, with a
 * console id). stop (may be NULL) with ctx is asked while store_sync_begin
 * waits. Returns the handle (free with store_sync_close), or NULL with
 * *cause (free it).
 */
struct store_sync_db *store_sync_open(const char *path, store_sync_stop_fn stop, void *ctx,
				      char **cause);
void store_sync_close(struct store_sync_db *db);
/* The SQLite message of the last failure on the handle. */
const char *store_sync_errmsg(struct store_sync_db *db);
/* The buffer's console id (identity table), read at open; owned by db. */
const char *store_sync_console_id(const struct store_sync_db *db);

/*
 * Transactions. begin takes the write lock (BEGIN IMMEDIATE), waiting
 * 200 ms per attempt for the store's writer and retrying for up to 20 s
 * or until stop says so; commit retries while busy for up to 20 s. Both
 * 0 or -1; after a failed commit the caller rolls back. rollback does
 * nothing outside a transaction.
 */
int store_sync_begin(struct store_sync_db *db);
int store_sync_commit(struct store_sync_db *db);
void store_sync_rollback(struct store_sync_db *db);

/* ---- meta: watermarks and counters ---- */

/* The local watermark of kind k (meta sync.samples_seq, sync.alarms_seq,
 * sync.forecasts_seq; 0 when none). 0 or -1. */
int store_sync_watermark(struct store_sync_db *db, enum store_sync_kind k, int64_t *out);
/* In a transaction: the watermark becomes max(itself, seq). 0 or -1. */
int store_sync_put_watermark(struct store_sync_db *db, enum store_sync_kind k, int64_t seq);
/* In a transaction: the watermark becomes seq, also backwards (the central
 * database lost rows it had acknowledged: they are sent again). 0 or -1. */
int store_sync_rewind_watermark(struct store_sync_db *db, enum store_sync_kind k, int64_t seq);
/* The central samples high-water mark last read (-1 when none). 0 or -1. */
int store_sync_central(struct store_sync_db *db, int64_t *out);
/* In a transaction: remember the central samples high-water mark. 0 or -1. */
int store_sync_put_central(struct store_sync_db *db, int64_t seq);
/* Rows found missing centrally below its mark (meta sync.restored_samples,
 * _alarms, _forecasts; 0 when none). 0 or -1. */
int store_sync_restored(struct store_sync_db *db, enum store_sync_kind k, int64_t *out);
/* In a transaction: add n to that count. 0 or -1. */
int store_sync_add_restored(struct store_sync_db *db, enum store_sync_kind k, int64_t n);
/* Unsynced samples deleted under [store] quota (0 when none). 0 or -1. */
int store_sync_quota_dropped(struct store_sync_db *db, int64_t *out);

/*
 * In a transaction: one row of the events journal, numbered from the
 * events.last_seq counter as the store's writer numbers its events (the
 * counter or max(seq), whichever is higher, plus one; the counter follows).
 * 0 or -1.
 */
int store_sync_put_event(struct store_sync_db *db, int64_t t_us, const char *source,
			 const char *what, const char *text);

/* ---- seqs ---- */

/* The newest seq of kind k this buffer ever had (survives pruning). */
int store_sync_last_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t *out);
/* The newest and the oldest seq of kind k present (0 when none). 0 or -1. */
int store_sync_max_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t *out);
int store_sync_min_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t *out);
/*
 * The lowest seq of kind k above after (0 when none); for samples, the
 * first seq of the next poll row or block (a prune unit). 0 or -1.
 */
int store_sync_next_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t after,
			int64_t *out);
/* Rows of kind k with seq > after. 0 or -1. */
int store_sync_backlog(struct store_sync_db *db, enum store_sync_kind k, int64_t after,
		       int64_t *out);
/* The time of the first sample with seq > after (0 when none). 0 or -1. */
int store_sync_oldest_unsynced(struct store_sync_db *db, int64_t after, int64_t *out);

/* ---- meters and sessions, for the central copy ---- */

/*
 * What changes when meters or sessions change: count and newest last_seen
 * of meters, count, newest id and closed count of sessions. 0 or -1.
 */
int store_sync_meta_signature(struct store_sync_db *db, int64_t sig[4]);
/* A row as text (NULL for NULL), n columns. A non-zero return stops. */
typedef int (*store_sync_text_fn)(void *ctx, const char *const *col, int n);
/*
 * Every meter, by id: name, driver, profile, host, port, unit, topics,
 * description, first_seen_us, last_seen_us. Every session, by id: id,
 * start_us, end_us, host, pid, mode, config_path, config_digest, version.
 * Returns fn's non-zero return, -1 when the rows cannot be read, else 0
 * (a read error ends the rows).
 */
int store_sync_meters(struct store_sync_db *db, store_sync_text_fn fn, void *ctx);
int store_sync_sessions(struct store_sync_db *db, store_sync_text_fn fn, void *ctx);

/* ---- batches ---- */

struct store_sync_sample {
	int64_t seq, t_us, meter_id, session; /* session 0: none */
	int qty, quality;
	double value;             /* NaN where NULL */
};

struct store_sync_alarm {
	int64_t seq, t_us, raised_us, until_us;
	double value, limit;      /* NaN where NULL */
	/* id origin alarm meter quantity priority event state operator note;
	 * NULL where NULL; the caller frees them */
	char *s[10];
};

/* One row of the forecasts table (one interval of one stored forecast). */
struct store_sync_forecast {
	int64_t seq, made_us, t_us, step_s, took_us; /* took_us -1 where NULL */
	/* forecast lower80 upper80 lower95 upper95 (W); NaN where NULL */
	double v[5];
	char *meter, *method;     /* meter "" the site; the caller frees them */
};

/*
 * Up to max rows with after < seq <= end, in seq order, into out (room for
 * max): past the watermark, or (quarantined) only the quarantined rows of
 * the kind. *n: rows read (also on error). 0, or -1 (read failure).
 */
int store_sync_load_samples(struct store_sync_db *db, bool quarantined, int64_t after,
			    int64_t end, size_t max, struct store_sync_sample *out, size_t *n);
int store_sync_load_alarms(struct store_sync_db *db, bool quarantined, int64_t after, int64_t end,
			   size_t max, struct store_sync_alarm *out, size_t *n);
int store_sync_load_forecasts(struct store_sync_db *db, bool quarantined, int64_t after,
			      int64_t end, size_t max, struct store_sync_forecast *out, size_t *n);
/*
 * The name of a meter id or quantity id of a sample, or NULL when the
 * buffer has none; an unknown id reloads the names once. Owned by db,
 * valid until the next call of the same function.
 */
const char *store_sync_meter_name(struct store_sync_db *db, int64_t id);
const char *store_sync_quantity_name(struct store_sync_db *db, int64_t id);

/* ---- quarantine (rows PostgreSQL refused) ---- */

/*
 * In a transaction: quarantine (kind, seq) with the refusal, or on a row
 * already there update its error and last time and count the attempt.
 * 0 or -1.
 */
int store_sync_quarantine_put(struct store_sync_db *db, enum store_sync_kind k, int64_t seq,
			      int64_t t_us, const char *sqlstate, const char *error,
			      int64_t now_us);
/* In a transaction: these n seqs of kind k leave the quarantine. 0 or -1. */
int store_sync_quarantine_delete(struct store_sync_db *db, enum store_sync_kind k,
				 const int64_t *seq, size_t n);
/* In a transaction: forget quarantined rows whose row is gone. 0 or -1. */
int store_sync_quarantine_forget_gone(struct store_sync_db *db);
/* Rows in the quarantine. 0 or -1. */
int store_sync_quarantine_count(struct store_sync_db *db, int64_t *out);
/* Quarantined rows of kind k with lo < seq <= hi. 0 or -1. */
int store_sync_quarantined_between(struct store_sync_db *db, enum store_sync_kind k, int64_t lo,
				   int64_t hi, int64_t *out);

struct store_sync_quarantine_row {
	const char *kind;           /* "sample", "alarm" or "forecast" */
	int64_t seq, t_us;
	/* sample: names; alarm: meter, alarm name in quantity; forecast: meter
	 * ("" the site), method in quantity, the forecast W in value */
	const char *meter, *quantity;
	double value;
	int quality;
	const char *sqlstate, *error;
	int64_t first_us, last_us;
	int attempts;
};
/* Valid during the call only. A non-zero return stops the listing. */
typedef int (*store_sync_quarantine_fn)(void *ctx, const struct store_sync_quarantine_row *r);
/* The quarantined rows, in (kind, seq) order: samples, forecasts, alarms. 0 or -1. */
int store_sync_quarantine_list(struct store_sync_db *db, store_sync_quarantine_fn fn, void *ctx);

/* ---- pruning ---- */

/*
 * In a transaction: delete the samples of the prune units (poll rows and
 * blocks, docs/buffer.md) that start at a seq in [lo, hi], end at or below
 * end_max, hold only samples with t_us < cutoff and no quarantined one. The
 * samples above the watermark wm (unsynced) are counted first into
 * *unsynced, their time range widening [*tmin, *tmax] (*tmin 0: empty), and
 * added to the quota_dropped count. Returns the samples deleted, -1 on
 * error. store_sync_next_seq gives where the next unit starts.
 */
int64_t store_sync_prune_window(struct store_sync_db *db, int64_t lo, int64_t hi,
				int64_t end_max, int64_t cutoff, int64_t wm, int64_t *unsynced,
				int64_t *tmin, int64_t *tmax);
/*
 * In a transaction: delete the stored forecasts with lo <= seq <= hi that
 * were made before cutoff (made_us < cutoff: whole runs go, a replay never
 * sees half a forecast) and are not quarantined. Retention only: the
 * caller keeps hi at or below the forecast watermark, so no unsynced
 * forecast is ever deleted. Returns the rows deleted, -1 on error.
 */
int64_t store_sync_prune_forecasts(struct store_sync_db *db, int64_t lo, int64_t hi,
				   int64_t cutoff);
/* Bytes of the file in use (pages not on the free list). */
int64_t store_sync_used_bytes(struct store_sync_db *db);

#endif
