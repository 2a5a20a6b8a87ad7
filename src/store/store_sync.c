// SPDX-License-Identifier: MIT
/*
 * store_sync: the sync's access to the local buffer (design in
 * include/phasor/store_sync.h; the tables in docs/buffer.md).
 *
 * The store owns every table of its file: the sync (src/sync/sync.c) reads the
 * rows it forwards and writes its watermarks, counters, events, quarantine
 * and pruning only through these functions, on a private connection of its
 * own beside the store's writer. Short write transactions, each waiting at
 * most 200 ms per attempt for the write lock and retried, never held for
 * long: the writer is never held up by the sync for more than one of them.
 * Statements are prepared where they run, as the sync's own SQL was.
 */
#include "phasor/store_sync.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "phasor/codec.h"
#include "phasor/samples_vtab.h"
#include "phasor/store.h"
#include "phasor/util.h"

#define BUSY_MS 200
#define RETRY_MS 20000 /* how long a small write is retried */

static const char *const kind_names[STORE_SYNC_KINDS] = { "sample", "alarm", "forecast" };
static const char *const wm_keys[STORE_SYNC_KINDS] = { "sync.samples_seq", "sync.alarms_seq",
						       "sync.forecasts_seq" };
/* Each kind's table (the quarantine's joins, pruning). */
static const char *const tables[STORE_SYNC_KINDS] = { "samples", "alarm_events", "forecasts" };

struct names {
	char **v;                 /* by id; NULL where none */
	size_t n;
};

struct store_sync_db {
	sqlite3 *db;
	store_sync_stop_fn stop;
	void *stop_ctx;
	char console_id[96];
	struct names meters, qtys;
};

const char *store_sync_kind_name(enum store_sync_kind k)
{
	return kind_names[k];
}

/* ---- small queries ---- */

static int query_int(struct store_sync_db *db, const char *sql, int64_t arg, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	*out = 0;
	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* A statement with ?1, ?2, ?3 bound to a, b, c; NULL when it cannot be made. */
static sqlite3_stmt *prepare_3(struct store_sync_db *db, const char *sql, int64_t a, int64_t b,
			       int64_t c)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_int64(st, 3, c);
	return st;
}

/* meta[key], 0 when none. */
static int meta_get(struct store_sync_db *db, const char *key, int64_t *out)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT value FROM meta WHERE key = '%s'", key);
	return query_int(db, sql, 0, out);
}

enum meta_op { META_MAX, META_ADD, META_SET };

/* Inside a transaction: meta[key] = max(meta[key], v), += v, or = v. */
static int meta_put(struct store_sync_db *db, const char *key, int64_t v, enum meta_op op)
{
	static const char *const sql[] = {
		[META_MAX] = "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key)"
			     " DO UPDATE SET value = max(value, excluded.value)",
		[META_ADD] = "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key)"
			     " DO UPDATE SET value = value + excluded.value",
		[META_SET] = "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key)"
			     " DO UPDATE SET value = excluded.value",
	};
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db->db, sql[op], -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- open / close, transactions ---- */

struct store_sync_db *store_sync_open(const char *path, store_sync_stop_fn stop, void *ctx,
				      char **cause)
{
	struct store_sync_db *db = util_calloc(1, sizeof(*db));
	int64_t version = 0;
	sqlite3_stmt *st;
	int rc;

	*cause = NULL;
	db->stop = stop;
	db->stop_ctx = ctx;
	rc = sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		*cause = util_printf("cannot open %s: %s", path,
				     db->db ? sqlite3_errmsg(db->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->db, 1);
	sqlite3_busy_timeout(db->db, BUSY_MS);
	if (samples_vtab_register(db->db) != SQLITE_OK) {
		*cause = util_printf("cannot open %s: %s", path, sqlite3_errmsg(db->db));
		goto fail;
	}
	if (query_int(db, "PRAGMA user_version", 0, &version) < 0 ||
	    version != STORE_SCHEMA_VERSION) {
		*cause = util_printf("%s: not a phasor buffer of schema %d (version %" PRId64 ")",
				     path, STORE_SCHEMA_VERSION, version);
		goto fail;
	}
	rc = sqlite3_prepare_v2(db->db, "SELECT value FROM identity WHERE key = 'console_id'", -1,
				&st, NULL);
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
		util_strlcpy(db->console_id, (const char *)sqlite3_column_text(st, 0),
			     sizeof(db->console_id));
	sqlite3_finalize(st);
	if (db->console_id[0] == '\0') {
		*cause = util_printf("%s: the buffer has no console id", path);
		goto fail;
	}
	return db;
fail:
	store_sync_close(db);
	return NULL;
}

static void names_free(struct names *nm)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	nm->v = NULL;
	nm->n = 0;
}

void store_sync_close(struct store_sync_db *db)
{
	if (db == NULL)
		return;
	if (db->db != NULL)
		sqlite3_close_v2(db->db);
	names_free(&db->meters);
	names_free(&db->qtys);
	free(db);
}

const char *store_sync_errmsg(struct store_sync_db *db)
{
	return sqlite3_errmsg(db->db);
}

const char *store_sync_console_id(const struct store_sync_db *db)
{
	return db->console_id;
}

/*
 * BEGIN IMMEDIATE (begin) or COMMIT, retried while the writer holds the
 * lock for up to RETRY_MS; a begin also while a table is locked, and not
 * once stop says so. 0 or -1.
 */
static int exec_retried(struct store_sync_db *db, const char *sql, bool begin)
{
	int64_t until = util_mono_us() + (int64_t)RETRY_MS * 1000;
	int rc;

	for (;;) {
		rc = sqlite3_exec(db->db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (!begin || (rc & 0xff) != SQLITE_LOCKED))
			break;
		if (util_mono_us() > until ||
		    (begin && db->stop != NULL && db->stop(db->stop_ctx)))
			break;
		util_sleep_ms(10);
	}
	return -1;
}

int store_sync_begin(struct store_sync_db *db)
{
	return exec_retried(db, "BEGIN IMMEDIATE", true);
}

int store_sync_commit(struct store_sync_db *db)
{
	return exec_retried(db, "COMMIT", false);
}

void store_sync_rollback(struct store_sync_db *db)
{
	if (!sqlite3_get_autocommit(db->db))
		sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- meta ---- */

int store_sync_watermark(struct store_sync_db *db, enum store_sync_kind k, int64_t *out)
{
	return meta_get(db, wm_keys[k], out);
}

int store_sync_put_watermark(struct store_sync_db *db, enum store_sync_kind k, int64_t seq)
{
	return meta_put(db, wm_keys[k], seq, META_MAX);
}

int store_sync_rewind_watermark(struct store_sync_db *db, enum store_sync_kind k, int64_t seq)
{
	return meta_put(db, wm_keys[k], seq, META_SET);
}

int store_sync_central(struct store_sync_db *db, int64_t *out)
{
	if (query_int(db, "SELECT coalesce((SELECT value FROM meta WHERE key ="
		      " 'sync.central_samples_seq'), -1)", 0, out) < 0) {
		*out = -1;
		return -1;
	}
	return 0;
}

int store_sync_put_central(struct store_sync_db *db, int64_t seq)
{
	return meta_put(db, "sync.central_samples_seq", seq, META_SET);
}

static const char *const restored_keys[STORE_SYNC_KINDS] = {
	"sync.restored_samples", "sync.restored_alarms", "sync.restored_forecasts"
};

int store_sync_restored(struct store_sync_db *db, enum store_sync_kind k, int64_t *out)
{
	return meta_get(db, restored_keys[k], out);
}

int store_sync_add_restored(struct store_sync_db *db, enum store_sync_kind k, int64_t n)
{
	return meta_put(db, restored_keys[k], n, META_ADD);
}

int store_sync_quota_dropped(struct store_sync_db *db, int64_t *out)
{
	return meta_get(db, "sync.quota_dropped", out);
}

int store_sync_put_event(struct store_sync_db *db, int64_t t_us, const char *source,
			 const char *what, const char *text)
{
	sqlite3_stmt *st;
	int64_t seq;
	int rc;

	/* The store writer's rule (store.c, last_event_seq): one past the
	 * counter or max(seq), whichever is higher; the counter follows in the
	 * same transaction. */
	if (query_int(db,
		      "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'events.last_seq'), 0),"
		      " coalesce((SELECT max(seq) FROM events), 0))",
		      0, &seq) < 0)
		return -1;
	seq++;
	rc = sqlite3_prepare_v2(db->db,
				"INSERT INTO events(seq, t_us, source, what, text) VALUES(?1, ?2, ?3, ?4, ?5)",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, t_us);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	return meta_put(db, "events.last_seq", seq, META_MAX);
}

/* ---- seqs ---- */

int store_sync_last_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t *out)
{
	/* The counters survive pruning (alarm_events and forecasts:
	 * AUTOINCREMENT). */
	static const char *const sql[STORE_SYNC_KINDS] = {
		"SELECT coalesce((SELECT value FROM meta WHERE key = 'samples.last_seq'), 0)",
		"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'alarm_events'), 0),"
		" coalesce((SELECT max(seq) FROM alarm_events), 0))",
		"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'forecasts'), 0),"
		" coalesce((SELECT max(seq) FROM forecasts), 0))",
	};

	int64_t top;

	if (query_int(db, sql[k], 0, out) < 0)
		return -1;
	if (k == STORE_SYNC_SAMPLE) {
		if (samples_vtab_max_seq(db->db, &top) != SQLITE_OK)
			return -1;
		if (top > *out)
			*out = top;
	}
	return 0;
}

/* "SELECT what FROM the table of k rest", run with ?1 = arg. */
static int kind_int(struct store_sync_db *db, enum store_sync_kind k, const char *what,
		    const char *rest, int64_t arg, int64_t *out)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s%s", what, tables[k], rest);
	return query_int(db, sql, arg, out);
}

int store_sync_max_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t *out)
{
	if (k == STORE_SYNC_SAMPLE)
		return samples_vtab_max_seq(db->db, out) == SQLITE_OK ? 0 : -1;
	return kind_int(db, k, "coalesce(max(seq), 0)", "", 0, out);
}

int store_sync_next_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t after,
			int64_t *out)
{
	if (k == STORE_SYNC_SAMPLE)
		return samples_vtab_next_seq(db->db, after, out) == SQLITE_OK ? 0 : -1;
	return kind_int(db, k, "coalesce(min(seq), 0)", " WHERE seq > ?1", after, out);
}

int store_sync_min_seq(struct store_sync_db *db, enum store_sync_kind k, int64_t *out)
{
	return store_sync_next_seq(db, k, 0, out);
}

/*
 * The samples above wm in the blocks the statement s gives (columns
 * seq_hi, t0_us, t1_us, data): counted from each block's seq stream;
 * [*tmin, *tmax] widened by their blocks' times.
 */
static int blocks_above(struct store_sync_db *db, sqlite3_stmt *s, int64_t wm, int64_t *count,
			int64_t *tmin, int64_t *tmax)
{
	struct codec_block b;
	int rc;

	(void)db;
	memset(&b, 0, sizeof(b));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const uint8_t *data = sqlite3_column_blob(s, 3);
		int64_t t0 = sqlite3_column_int64(s, 1), t1 = sqlite3_column_int64(s, 2), n = 0;

		if (data == NULL ||
		    codec_block_decode(data, (size_t)sqlite3_column_bytes(s, 3), CODEC_POLL_MAX,
				       &b) < 0) {
			rc = SQLITE_CORRUPT;
			break;
		}
		for (size_t i = 0; i < b.n; i++)
			for (size_t c = 0; c < b.ncol; c++)
				n += b.seq[i] + (int64_t)c > wm;
		*count += n;
		if (n > 0 && tmin != NULL) {
			*tmin = *tmin == 0 || t0 < *tmin ? t0 : *tmin;
			*tmax = t1 > *tmax ? t1 : *tmax;
		}
	}
	codec_block_free(&b);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_sync_backlog(struct store_sync_db *db, enum store_sync_kind k, int64_t after,
		       int64_t *out)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	int legacy;

	if (k != STORE_SYNC_SAMPLE)
		return kind_int(db, k, "count(*)", " WHERE seq > ?1", after, out);
	/* poll rows (a poll holds at most CODEC_POLL_MAX samples), blocks,
	 * and the old table's rows while a migration runs */
	if (query_int(db, "SELECT coalesce(sum(first_seq + n - 1 - max(first_seq - 1, ?1)), 0)"
		      " FROM polls WHERE first_seq > ?1 - 64 AND first_seq + n - 1 > ?1",
		      after, out) < 0)
		return -1;
	s = prepare_3(db, "SELECT seq_hi, t0_us, t1_us, data FROM blocks WHERE seq_hi > ?1", after,
		      0, 0);
	if (s == NULL || blocks_above(db, s, after, &n, NULL, NULL) < 0)
		return -1;
	*out += n;
	legacy = samples_vtab_has_legacy(db->db);
	if (legacy < 0)
		return -1;
	if (legacy) {
		if (query_int(db, "SELECT count(*) FROM samples_v6 WHERE seq > ?1", after, &n) < 0)
			return -1;
		*out += n;
	}
	return 0;
}

int store_sync_oldest_unsynced(struct store_sync_db *db, int64_t after, int64_t *out)
{
	return query_int(db, "SELECT t_us FROM samples WHERE seq > ?1 ORDER BY seq LIMIT 1", after,
			 out);
}

/* ---- meters and sessions ---- */

int store_sync_meta_signature(struct store_sync_db *db, int64_t sig[4])
{
	if (query_int(db, "SELECT count(*) + coalesce(max(last_seen_us), 0) FROM meters", 0,
		      &sig[0]) < 0 ||
	    query_int(db, "SELECT count(*) FROM sessions", 0, &sig[1]) < 0 ||
	    query_int(db, "SELECT coalesce(max(id), 0) FROM sessions", 0, &sig[2]) < 0 ||
	    query_int(db, "SELECT count(end_us) FROM sessions", 0, &sig[3]) < 0)
		return -1;
	return 0;
}

static int text_rows(struct store_sync_db *db, const char *sql, int n, store_sync_text_fn fn,
		     void *ctx)
{
	const char *p[16];
	sqlite3_stmt *st;
	int rc = 0;

	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			p[i] = (const char *)sqlite3_column_text(st, i);
		rc = fn(ctx, p, n);
	}
	sqlite3_finalize(st);
	return rc;
}

int store_sync_meters(struct store_sync_db *db, store_sync_text_fn fn, void *ctx)
{
	return text_rows(db,
			 "SELECT name, driver, profile, host, port, unit, topics, description,"
			 " first_seen_us, last_seen_us FROM meters ORDER BY id",
			 10, fn, ctx);
}

int store_sync_sessions(struct store_sync_db *db, store_sync_text_fn fn, void *ctx)
{
	return text_rows(db,
			 "SELECT id, start_us, end_us, host, pid, mode, config_path,"
			 " config_digest, version FROM sessions ORDER BY id",
			 9, fn, ctx);
}

/* ---- batches ---- */

static double col_double(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static char *col_strdup(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);

	return t != NULL ? util_strdup(t) : NULL;
}

static void read_sample(sqlite3_stmt *st, struct store_sync_sample *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	r->t_us = sqlite3_column_int64(st, 1);
	r->meter_id = sqlite3_column_int64(st, 2);
	r->qty = sqlite3_column_int(st, 3);
	r->value = col_double(st, 4);
	r->quality = sqlite3_column_int(st, 5);
	r->session = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 6);
}

static void read_alarm(sqlite3_stmt *st, struct store_sync_alarm *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	r->t_us = sqlite3_column_int64(st, 1);
	for (int k = 0; k < 8; k++)
		r->s[k] = col_strdup(st, 2 + k);
	r->value = col_double(st, 10);
	r->limit = col_double(st, 11);
	r->s[8] = col_strdup(st, 12);
	r->s[9] = col_strdup(st, 13);
	r->raised_us = sqlite3_column_int64(st, 14);
	r->until_us = sqlite3_column_int64(st, 15);
}

static void read_forecast(sqlite3_stmt *st, struct store_sync_forecast *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	r->made_us = sqlite3_column_int64(st, 1);
	r->meter = col_strdup(st, 2);
	r->method = col_strdup(st, 3);
	r->t_us = sqlite3_column_int64(st, 4);
	r->step_s = sqlite3_column_int64(st, 5);
	for (int k = 0; k < 5; k++)
		r->v[k] = col_double(st, 6 + k);
	r->took_us = sqlite3_column_type(st, 11) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 11);
}

/* Rows of kind k into out (an array of that kind's rows). 0 or -1. */
static int load_rows(struct store_sync_db *db, enum store_sync_kind k, bool quarantined,
		     int64_t after, int64_t end, size_t max, void *out, size_t *n)
{
	static const char *const sql[STORE_SYNC_KINDS][2] = {
		{ "SELECT seq, t_us, meter_id, qty_id, value, quality, session_id FROM samples"
		  " WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
		  "SELECT s.seq, s.t_us, s.meter_id, s.qty_id, s.value, s.quality, s.session_id"
		  " FROM sync_quarantine q JOIN samples s ON s.seq = q.seq"
		  " WHERE q.kind = 'sample' AND q.seq > ?1 AND q.seq <= ?2 ORDER BY q.seq LIMIT ?3" },
		{ "SELECT seq, t_us, id, origin, alarm, meter, quantity, priority, event, state, value,"
		  " limit_value, operator, note, raised_us, until_us FROM alarm_events"
		  " WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
		  "SELECT a.seq, a.t_us, a.id, a.origin, a.alarm, a.meter, a.quantity, a.priority,"
		  " a.event, a.state, a.value, a.limit_value, a.operator, a.note, a.raised_us,"
		  " a.until_us FROM sync_quarantine q JOIN alarm_events a ON a.seq = q.seq"
		  " WHERE q.kind = 'alarm' AND q.seq > ?1 AND q.seq <= ?2 ORDER BY q.seq LIMIT ?3" },
		{ "SELECT seq, made_us, meter, method, t_us, step_s, forecast, lower80, upper80,"
		  " lower95, upper95, took_us FROM forecasts"
		  " WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
		  "SELECT f.seq, f.made_us, f.meter, f.method, f.t_us, f.step_s, f.forecast,"
		  " f.lower80, f.upper80, f.lower95, f.upper95, f.took_us"
		  " FROM sync_quarantine q JOIN forecasts f ON f.seq = q.seq"
		  " WHERE q.kind = 'forecast' AND q.seq > ?1 AND q.seq <= ?2 ORDER BY q.seq LIMIT ?3" },
	};
	sqlite3_stmt *st = prepare_3(db, sql[k][quarantined], after, end, (int64_t)max);
	int rc = SQLITE_DONE;

	*n = 0;
	if (st == NULL)
		return -1;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == STORE_SYNC_SAMPLE)
			read_sample(st, (struct store_sync_sample *)out + (*n)++);
		else if (k == STORE_SYNC_ALARM)
			read_alarm(st, (struct store_sync_alarm *)out + (*n)++);
		else
			read_forecast(st, (struct store_sync_forecast *)out + (*n)++);
	}
	sqlite3_finalize(st);
	return *n < max && rc != SQLITE_DONE ? -1 : 0;
}

int store_sync_load_samples(struct store_sync_db *db, bool quarantined, int64_t after,
			    int64_t end, size_t max, struct store_sync_sample *out, size_t *n)
{
	return load_rows(db, STORE_SYNC_SAMPLE, quarantined, after, end, max, out, n);
}

int store_sync_load_alarms(struct store_sync_db *db, bool quarantined, int64_t after, int64_t end,
			   size_t max, struct store_sync_alarm *out, size_t *n)
{
	return load_rows(db, STORE_SYNC_ALARM, quarantined, after, end, max, out, n);
}

int store_sync_load_forecasts(struct store_sync_db *db, bool quarantined, int64_t after,
			      int64_t end, size_t max, struct store_sync_forecast *out, size_t *n)
{
	return load_rows(db, STORE_SYNC_FORECAST, quarantined, after, end, max, out, n);
}

static int names_load(struct store_sync_db *db, struct names *nm, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	names_free(nm);
	if (sqlite3_prepare_v2(db->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (id < 0 || id > 10000000 || name == NULL)
			continue;
		if ((size_t)id >= nm->n) {
			size_t n = (size_t)id + 1;

			nm->v = util_reallocarray(nm->v, n, sizeof(*nm->v));
			memset(nm->v + nm->n, 0, (n - nm->n) * sizeof(*nm->v));
			nm->n = n;
		}
		free(nm->v[id]);
		nm->v[id] = util_strdup(name);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *name_of(struct store_sync_db *db, struct names *nm, int64_t id,
			   const char *sql)
{
	if (id < 0 || (size_t)id >= nm->n || nm->v[id] == NULL)
		names_load(db, nm, sql);
	if (id >= 0 && (size_t)id < nm->n && nm->v[id] != NULL)
		return nm->v[id];
	return NULL;
}

const char *store_sync_meter_name(struct store_sync_db *db, int64_t id)
{
	return name_of(db, &db->meters, id, "SELECT id, name FROM meters");
}

const char *store_sync_quantity_name(struct store_sync_db *db, int64_t id)
{
	return name_of(db, &db->qtys, id, "SELECT id, name FROM quantities");
}

/* ---- quarantine ---- */

int store_sync_quarantine_put(struct store_sync_db *db, enum store_sync_kind k, int64_t seq,
			      int64_t t_us, const char *sqlstate, const char *error,
			      int64_t now_us)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(
	    db->db,
	    "INSERT INTO sync_quarantine(kind, seq, t_us, sqlstate, error, first_us, last_us,"
	    " attempts) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6, 1) ON CONFLICT(kind, seq) DO UPDATE SET"
	    " sqlstate = excluded.sqlstate, error = excluded.error, last_us = excluded.last_us,"
	    " attempts = attempts + 1",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, kind_names[k], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, t_us);
	sqlite3_bind_text(st, 4, sqlstate, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_us);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_sync_quarantine_delete(struct store_sync_db *db, enum store_sync_kind k,
				 const int64_t *seq, size_t n)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db->db, "DELETE FROM sync_quarantine WHERE kind = ?1 AND seq = ?2",
				-1, &st, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
		sqlite3_bind_text(st, 1, kind_names[k], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, seq[i]);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? 0 : -1;
}

int store_sync_quarantine_forget_gone(struct store_sync_db *db)
{
	return sqlite3_exec(db->db,
			    "DELETE FROM sync_quarantine WHERE (kind = 'sample' AND NOT EXISTS"
			    " (SELECT 1 FROM samples s WHERE s.seq = sync_quarantine.seq)) OR"
			    " (kind = 'alarm' AND NOT EXISTS (SELECT 1 FROM alarm_events a"
			    " WHERE a.seq = sync_quarantine.seq)) OR"
			    " (kind = 'forecast' AND NOT EXISTS (SELECT 1 FROM forecasts f"
			    " WHERE f.seq = sync_quarantine.seq))",
			    NULL, NULL, NULL) == SQLITE_OK
		       ? 0
		       : -1;
}

int store_sync_quarantine_count(struct store_sync_db *db, int64_t *out)
{
	return query_int(db, "SELECT count(*) FROM sync_quarantine", 0, out);
}

int store_sync_quarantined_between(struct store_sync_db *db, enum store_sync_kind k, int64_t lo,
				   int64_t hi, int64_t *out)
{
	sqlite3_stmt *st = prepare_3(db,
				     "SELECT count(*) FROM sync_quarantine WHERE kind = (CASE ?1"
				     " WHEN 0 THEN 'sample' WHEN 1 THEN 'alarm' ELSE 'forecast' END)"
				     " AND seq > ?2 AND seq <= ?3",
				     (int64_t)k, lo, hi);
	int rc;

	*out = 0;
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int store_sync_quarantine_list(struct store_sync_db *db, store_sync_quarantine_fn fn, void *ctx)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(
	    db->db,
	    "SELECT q.kind, q.seq, q.t_us, coalesce(m.name, a.meter, f.meter),"
	    " coalesce(qq.name, a.alarm, f.method), coalesce(sm.value, a.value, f.forecast),"
	    " sm.quality, q.sqlstate, q.error, q.first_us, q.last_us, q.attempts"
	    " FROM sync_quarantine q"
	    " LEFT JOIN samples sm ON q.kind = 'sample' AND sm.seq = q.seq"
	    " LEFT JOIN meters m ON m.id = sm.meter_id"
	    " LEFT JOIN quantities qq ON qq.id = sm.qty_id"
	    " LEFT JOIN alarm_events a ON q.kind = 'alarm' AND a.seq = q.seq"
	    " LEFT JOIN forecasts f ON q.kind = 'forecast' AND f.seq = q.seq"
	    " ORDER BY q.kind DESC, q.seq",
	    -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_sync_quarantine_row r = {
			.kind = (const char *)sqlite3_column_text(st, 0),
			.seq = sqlite3_column_int64(st, 1),
			.t_us = sqlite3_column_int64(st, 2),
			.meter = (const char *)sqlite3_column_text(st, 3),
			.quantity = (const char *)sqlite3_column_text(st, 4),
			.value = col_double(st, 5),
			.quality = sqlite3_column_int(st, 6),
			.sqlstate = (const char *)sqlite3_column_text(st, 7),
			.error = (const char *)sqlite3_column_text(st, 8),
			.first_us = sqlite3_column_int64(st, 9),
			.last_us = sqlite3_column_int64(st, 10),
			.attempts = sqlite3_column_int(st, 11),
		};

		if (fn(ctx, &r) != 0)
			break;
	}
	sqlite3_finalize(st);
	return rc != SQLITE_ROW && rc != SQLITE_DONE ? -1 : 0;
}

/* ---- pruning ---- */

/* Which prune units of [lo, hi] go: the WHERE of polls (?1 lo, ?2 hi,
 * ?3 end_max, ?4 cutoff) and of blocks; a unit holding a quarantined seq
 * stays. */
#define PRUNE_POLLS                                                                         \
	" FROM polls p WHERE p.first_seq BETWEEN ?1 AND ?2 AND p.first_seq + p.n - 1 <= ?3" \
	" AND p.t_us < ?4 AND NOT EXISTS (SELECT 1 FROM sync_quarantine q"                   \
	" WHERE q.kind = 'sample' AND q.seq BETWEEN p.first_seq AND p.first_seq + p.n - 1)"
#define PRUNE_BLOCKS                                                                    \
	" FROM blocks b WHERE b.seq_lo BETWEEN ?1 AND ?2 AND b.seq_hi <= ?3"              \
	" AND b.t1_us < ?4 AND NOT EXISTS (SELECT 1 FROM sync_quarantine q"              \
	" WHERE q.kind = 'sample' AND q.seq BETWEEN b.seq_lo AND b.seq_hi)"

static sqlite3_stmt *prepare_4(struct store_sync_db *db, const char *sql, int64_t a, int64_t b,
			       int64_t c, int64_t d)
{
	sqlite3_stmt *st = prepare_3(db, sql, a, b, c);

	if (st != NULL)
		sqlite3_bind_int64(st, 4, d);
	return st;
}

int64_t store_sync_prune_window(struct store_sync_db *db, int64_t lo, int64_t hi,
				int64_t end_max, int64_t cutoff, int64_t wm, int64_t *unsynced,
				int64_t *tmin, int64_t *tmax)
{
	sqlite3_stmt *st;
	int64_t n = 0, x = 0;
	int rc = SQLITE_ERROR;

	*unsynced = 0;
	if (end_max > wm) {
		/* the samples above the watermark in the units that go */
		st = prepare_4(db,
			       "SELECT coalesce(sum(p.first_seq + p.n - 1 - max(p.first_seq - 1, ?5)),"
			       " 0), min(p.t_us), max(p.t_us)" PRUNE_POLLS
			       " AND p.first_seq + p.n - 1 > ?5",
			       lo, hi, end_max, cutoff);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 5, wm);
		if (sqlite3_step(st) == SQLITE_ROW) {
			*unsynced = sqlite3_column_int64(st, 0);
			if (*unsynced > 0) {
				int64_t a1 = sqlite3_column_int64(st, 1);
				int64_t a2 = sqlite3_column_int64(st, 2);

				*tmin = *tmin == 0 || a1 < *tmin ? a1 : *tmin;
				*tmax = a2 > *tmax ? a2 : *tmax;
			}
		}
		sqlite3_finalize(st);
		st = prepare_4(db, "SELECT b.seq_hi, b.t0_us, b.t1_us, b.data" PRUNE_BLOCKS
			       " AND b.seq_hi > ?5", lo, hi, end_max, cutoff);
		if (st == NULL)
			return -1;
		sqlite3_bind_int64(st, 5, wm);
		if (blocks_above(db, st, wm, unsynced, tmin, tmax) < 0)
			return -1;
	}
	/* the samples that go, then the units */
	st = prepare_4(db, "SELECT coalesce(sum(p.n), 0)" PRUNE_POLLS, lo, hi, end_max, cutoff);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		n += sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = prepare_4(db, "SELECT coalesce(sum(b.n), 0)" PRUNE_BLOCKS, lo, hi, end_max, cutoff);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		x = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	n += x;
	st = prepare_4(db,
		       "DELETE FROM polls WHERE first_seq IN (SELECT p.first_seq" PRUNE_POLLS ")",
		       lo, hi, end_max, cutoff);
	if (st != NULL) {
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_OK) {
		rc = SQLITE_ERROR;
		st = prepare_4(db, "DELETE FROM blocks WHERE id IN (SELECT b.id" PRUNE_BLOCKS ")",
			       lo, hi, end_max, cutoff);
		if (st != NULL) {
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
			sqlite3_finalize(st);
		}
	}
	if (rc == SQLITE_OK && *unsynced > 0 &&
	    meta_put(db, "sync.quota_dropped", *unsynced, META_ADD) < 0)
		rc = SQLITE_ERROR;
	return rc == SQLITE_OK ? n : -1;
}

int64_t store_sync_prune_forecasts(struct store_sync_db *db, int64_t lo, int64_t hi,
				   int64_t cutoff)
{
	sqlite3_stmt *st = prepare_3(db,
				     "DELETE FROM forecasts WHERE seq BETWEEN ?1 AND ?2 AND made_us < ?3"
				     " AND NOT EXISTS (SELECT 1 FROM sync_quarantine q"
				     " WHERE q.kind = 'forecast' AND q.seq = forecasts.seq)",
				     lo, hi, cutoff);
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? sqlite3_changes(db->db) : -1;
}

int64_t store_sync_used_bytes(struct store_sync_db *db)
{
	int64_t pages = 0, free_pages = 0, size = 0;

	query_int(db, "PRAGMA page_count", 0, &pages);
	query_int(db, "PRAGMA freelist_count", 0, &free_pages);
	query_int(db, "PRAGMA page_size", 0, &size);
	return (pages - free_pages) * size;
}
