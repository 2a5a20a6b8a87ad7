// SPDX-License-Identifier: MIT
/*
 * Unit tests of the sync's access to the buffer (store_sync.c), on real
 * buffers made by store_open and written by the store's writer: open
 * checks, watermarks and counters, batches with their names, the events
 * journal numbered with the writer's, the quarantine and pruning. Results
 * are checked through a separate SQLite connection, not only through
 * store_sync itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "phasor/config.h"
#include "phasor/log.h"
#include "phasor/store.h"
#include "phasor/store_sync.h"
#include "phasor/util.h"
#include "support.h"
#include "support_db.h"

static char tmpdir[] = "/tmp/phasor-test-store-sync-XXXXXX";

/* ---- helpers ---- */

static char *tpath(const char *name)
{
	return util_printf("%s/%s", tmpdir, name);
}

/* Two Modbus meters: name, profile, host, port, unit. */
static const struct {
	const char *name, *profile, *host;
	int port, unit;
} meter_defs[2] = {
	{ "tgbt-1", "pac3200", "10.0.0.21", 502, 1 },
	{ "press-3", "sdm630", "gw", 5020, 7 },
};
static char cfg_path[] = "/etc/phasor/phasor.ini", cfg_text[] = "abc";
static struct config_meter meters[2];
static struct config cfg;

/* A buffer with two meters and a session, writer started; fails the test otherwise. */
static struct store *open_store(const char *path)
{
	char *cause = NULL;
	struct store *st;

	memset(meters, 0, sizeof(meters));
	for (size_t i = 0; i < 2; i++) {
		/* The configuration's strings are not const; these are only read. */
		meters[i].name = (char *)meter_defs[i].name;
		meters[i].profile_name = (char *)meter_defs[i].profile;
		meters[i].host = (char *)meter_defs[i].host;
		meters[i].driver = DRIVER_MODBUS;
		meters[i].port = meter_defs[i].port;
		meters[i].unit = meter_defs[i].unit;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = cfg_path;
	cfg.text = cfg_text;
	cfg.meters = meters;
	cfg.nmeters = 2;
	st = store_open(path, 10000, 100, 20, &cause);
	if (st == NULL)
		fail_msg("store_open: %s", cause);
	if (store_register_meters(st, &cfg, &cause) < 0)
		fail_msg("store_register_meters: %s", cause);
	if (store_begin_session(st, &cfg, "record", &cause) < 0)
		fail_msg("store_begin_session: %s", cause);
	if (store_start(st, &cause) < 0)
		fail_msg("store_start: %s", cause);
	return st;
}

static void close_store(struct store *st)
{
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);
}

/*
 * n samples, seqs from the first free one: meter i % 2, quantity v_l1n
 * for meter 0 and p_total for meter 1, time t0 + i, value i.
 */
static void put_samples(struct store *st, int64_t t0, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sample s;

		memset(&s, 0, sizeof(s));
		s.t_us = t0 + (int64_t)i;
		s.meter = (unsigned)(i % 2);
		s.qty = (uint16_t)(i % 2 == 0 ? QTY_V_L1N : QTY_P_TOTAL);
		s.value = (double)i;
		s.quality = i == 3 ? QUALITY_BAD : QUALITY_GOOD;
		store_put_samples(st, &s, 1);
	}
}

/* A buffer holding n samples (store writer closed). */
static char *make_buffer(const char *name, size_t n)
{
	char *path = tpath(name);
	struct store *st = open_store(path);

	put_samples(st, 1000000, n);
	close_store(st);
	return path;
}

static struct store_sync_db *open_sync(const char *path)
{
	char *cause = NULL;
	struct store_sync_db *db = store_sync_open(path, NULL, NULL, &cause);

	if (db == NULL)
		fail_msg("store_sync_open: %s", cause);
	return db;
}

static int64_t get(int (*fn)(struct store_sync_db *, int64_t *), struct store_sync_db *db)
{
	int64_t v = -2;

	assert_int_equal(fn(db, &v), 0);
	return v;
}

static int64_t get_k(int (*fn)(struct store_sync_db *, enum store_sync_kind, int64_t *),
		     struct store_sync_db *db, enum store_sync_kind k)
{
	int64_t v = -2;

	assert_int_equal(fn(db, k, &v), 0);
	return v;
}

static int64_t backlog(struct store_sync_db *db, enum store_sync_kind k, int64_t after)
{
	int64_t v = -2;

	assert_int_equal(store_sync_backlog(db, k, after, &v), 0);
	return v;
}

/* ---- tests ---- */

static void test_open_refuses(void **state)
{
	char *missing = tpath("missing.db"), *other = tpath("other.db"), *cause = NULL;
	sqlite3 *db;

	(void)state;
	assert_null(store_sync_open(missing, NULL, NULL, &cause));
	assert_non_null(strstr(cause, "cannot open"));
	free(cause);
	assert_int_equal(sqlite3_open(other, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_sync_open(other, NULL, NULL, &cause));
	assert_non_null(strstr(cause, "not a phasor buffer of schema"));
	free(cause);
	free(missing);
	free(other);
}

static void test_watermarks_and_counters(void **state)
{
	char *path = make_buffer("wm.db", 4), *id;
	struct store_sync_db *db = open_sync(path);
	sqlite3 *raw;
	sqlite3_stmt *s;

	(void)state;
	/* The console id is the store's. */
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(raw, "SELECT value FROM identity WHERE key ="
					    " 'console_id'", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	id = util_strdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(raw);
	assert_string_equal(store_sync_console_id(db), id);
	free(id);

	assert_int_equal(get_k(store_sync_watermark, db, STORE_SYNC_SAMPLE), 0);
	assert_int_equal(get_k(store_sync_watermark, db, STORE_SYNC_ALARM), 0);
	assert_int_equal(get(store_sync_central, db), -1);
	assert_int_equal(get_k(store_sync_restored, db, STORE_SYNC_SAMPLE), 0);
	assert_int_equal(get(store_sync_quota_dropped, db), 0);

	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_SAMPLE, 3), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_ALARM, 7), 0);
	assert_int_equal(store_sync_put_central(db, 42), 0);
	assert_int_equal(store_sync_add_restored(db, STORE_SYNC_SAMPLE, 2), 0);
	assert_int_equal(store_sync_add_restored(db, STORE_SYNC_SAMPLE, 5), 0);
	assert_int_equal(store_sync_add_restored(db, STORE_SYNC_ALARM, 1), 0);
	assert_int_equal(store_sync_commit(db), 0);
	/* Never backwards; the central mark is set as read. */
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_SAMPLE, 2), 0);
	assert_int_equal(store_sync_put_central(db, 40), 0);
	assert_int_equal(store_sync_commit(db), 0);
	/* Rolled back: nothing. */
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_SAMPLE, 9), 0);
	store_sync_rollback(db);
	store_sync_rollback(db); /* outside a transaction: nothing */
	store_sync_close(db);

	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'sync.samples_seq'"), 3);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'sync.alarms_seq'"), 7);
	db = open_sync(path);
	assert_int_equal(get_k(store_sync_watermark, db, STORE_SYNC_SAMPLE), 3);
	assert_int_equal(get_k(store_sync_watermark, db, STORE_SYNC_ALARM), 7);
	assert_int_equal(get(store_sync_central, db), 40);
	assert_int_equal(get_k(store_sync_restored, db, STORE_SYNC_SAMPLE), 7);
	assert_int_equal(get_k(store_sync_restored, db, STORE_SYNC_ALARM), 1);
	assert_int_equal(backlog(db, STORE_SYNC_SAMPLE, 0), 4);
	assert_int_equal(backlog(db, STORE_SYNC_SAMPLE, 3), 1);
	store_sync_close(db);
	free(path);
}

/* Counts the calls; always says stop. */
static bool stop_asked(void *ctx)
{
	(*(int *)ctx)++;
	return true;
}

/* A begin waiting for another writer gives up when asked to stop. */
static void test_begin_stops(void **state)
{
	char *path = make_buffer("stop.db", 1), *cause = NULL;
	struct store_sync_db *db;
	sqlite3 *other;
	int asked = 0;

	(void)state;
	db = store_sync_open(path, stop_asked, &asked, &cause);
	assert_non_null(db);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(store_sync_begin(db), -1);
	assert_int_equal(asked, 1);
	assert_non_null(strstr(store_sync_errmsg(db), "locked"));
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_commit(db), 0);
	store_sync_close(db);
	free(path);
}

static void test_seqs(void **state)
{
	char *path = make_buffer("seqs.db", 10);
	struct store_sync_db *db = open_sync(path);
	int64_t v = -2;
	sqlite3 *raw;

	(void)state;
	assert_int_equal(get_k(store_sync_min_seq, db, STORE_SYNC_SAMPLE), 1);
	assert_int_equal(get_k(store_sync_max_seq, db, STORE_SYNC_SAMPLE), 10);
	assert_int_equal(get_k(store_sync_last_seq, db, STORE_SYNC_SAMPLE), 10);
	assert_int_equal(get_k(store_sync_max_seq, db, STORE_SYNC_ALARM), 0);
	assert_int_equal(get_k(store_sync_last_seq, db, STORE_SYNC_ALARM), 0);
	/* The counter survives the rows. */
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "DELETE FROM polls WHERE first_seq > 6", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(get_k(store_sync_max_seq, db, STORE_SYNC_SAMPLE), 6);
	assert_int_equal(get_k(store_sync_last_seq, db, STORE_SYNC_SAMPLE), 10);
	assert_int_equal(backlog(db, STORE_SYNC_SAMPLE, 4), 2);
	assert_int_equal(store_sync_oldest_unsynced(db, 4, &v), 0);
	assert_int_equal(v, 1000000 + 4); /* seq 5 */
	assert_int_equal(store_sync_oldest_unsynced(db, 6, &v), 0);
	assert_int_equal(v, 0);
	assert_true(store_sync_used_bytes(db) > 0);
	store_sync_close(db);
	free(path);
}

static void test_load_samples_with_names(void **state)
{
	char *path = make_buffer("batch.db", 12);
	struct store_sync_db *db = open_sync(path);
	struct store_sync_sample rows[20];
	size_t n = 99;

	(void)state;
	assert_int_equal(store_sync_load_samples(db, false, 3, 100, 20, rows, &n), 0);
	assert_int_equal(n, 9);
	for (size_t i = 0; i < n; i++) {
		const struct store_sync_sample *r = &rows[i];
		int64_t k = (int64_t)i + 3; /* the value and time offset put_samples gave */

		assert_int_equal(r->seq, k + 1);
		assert_int_equal(r->t_us, 1000000 + k);
		assert_true(r->value == (double)k);
		assert_int_equal(r->quality, k == 3 ? QUALITY_BAD : QUALITY_GOOD);
		assert_true(r->session > 0);
		assert_string_equal(store_sync_meter_name(db, r->meter_id),
				    k % 2 == 0 ? "tgbt-1" : "press-3");
		assert_string_equal(store_sync_quantity_name(db, r->qty),
				    k % 2 == 0 ? "v_l1n" : "p_total");
	}
	assert_null(store_sync_meter_name(db, 999));
	assert_null(store_sync_quantity_name(db, -1));
	/* Bounded by end and by max. */
	assert_int_equal(store_sync_load_samples(db, false, 0, 5, 20, rows, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(rows[4].seq, 5);
	assert_int_equal(store_sync_load_samples(db, false, 0, 100, 4, rows, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(rows[3].seq, 4);
	assert_int_equal(store_sync_load_samples(db, false, 12, 100, 4, rows, &n), 0);
	assert_int_equal(n, 0);
	store_sync_close(db);
	free(path);
}

static void test_load_alarms(void **state)
{
	char *path = tpath("alarms.db");
	struct store *st = open_store(path);
	struct store_sync_alarm rows[4];
	struct store_sync_db *db;
	struct store_alarm_event e = {
		.t_us = 1000, .id = "c1:1", .origin = "c1", .alarm = "low-pf", .meter = "oven",
		.quantity = "pf", .priority = "high", .event = "raise", .state = "unack",
		.value = 0.81, .limit = 0.85, .operator_name = "", .note = NULL,
		.raised_us = 1000, .until_us = 0,
	};
	size_t n = 0;

	(void)state;
	store_put_alarm_event(st, &e);
	e.t_us = 2000;
	e.id = "c1:2";
	e.event = "ack";
	e.state = "ack";
	e.value = NAN;
	e.operator_name = "marie";
	e.note = "bank 2";
	e.until_us = 5000;
	store_put_alarm_event(st, &e);
	close_store(st);
	db = open_sync(path);
	assert_int_equal(get_k(store_sync_max_seq, db, STORE_SYNC_ALARM), 2);
	assert_int_equal(get_k(store_sync_last_seq, db, STORE_SYNC_ALARM), 2);
	assert_int_equal(backlog(db, STORE_SYNC_ALARM, 0), 2);
	assert_int_equal(store_sync_load_alarms(db, false, 0, 100, 4, rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].seq, 1);
	assert_int_equal(rows[0].t_us, 1000);
	assert_string_equal(rows[0].s[0], "c1:1");
	assert_string_equal(rows[0].s[1], "c1");
	assert_string_equal(rows[0].s[2], "low-pf");
	assert_string_equal(rows[0].s[3], "oven");
	assert_string_equal(rows[0].s[6], "raise");
	assert_null(rows[0].s[9]);
	assert_true(fabs(rows[0].value - 0.81) < 1e-12);
	assert_int_equal(rows[0].raised_us, 1000);
	assert_int_equal(rows[0].until_us, 0);
	assert_int_equal(rows[1].seq, 2);
	assert_true(isnan(rows[1].value));
	assert_string_equal(rows[1].s[8], "marie");
	assert_string_equal(rows[1].s[9], "bank 2");
	assert_int_equal(rows[1].until_us, 5000);
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 10; k++)
			free(rows[i].s[k]);
	assert_int_equal(store_sync_load_alarms(db, false, 1, 100, 4, rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].seq, 2);
	for (int k = 0; k < 10; k++)
		free(rows[0].s[k]);
	store_sync_close(db);
	free(path);
}

/*
 * Events written by the store's writer, then by store_sync, then by the
 * writer again: one numbering, no seq twice, in the order they were made.
 */
static void test_event_numbering(void **state)
{
	char *path = tpath("events.db");
	struct store *st = open_store(path);
	struct store_sync_db *db;
	int64_t before, after_sync, n;

	(void)state;
	store_put_event(st, 10, -1, "test", "note", "writer 1");
	store_put_event(st, 11, -1, "test", "note", "writer 2");
	assert_int_equal(store_flush(st, 5000), 0);
	before = db_int(path, "SELECT max(seq) FROM events");
	assert_true(before >= 2);

	/* The sync writes while the writer runs. */
	db = open_sync(path);
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_put_event(db, 20, "sync", "quarantine", "sync 1"), 0);
	assert_int_equal(store_sync_put_event(db, 21, "sync", "restored", "sync 2"), 0);
	assert_int_equal(store_sync_commit(db), 0);
	after_sync = db_int(path, "SELECT max(seq) FROM events");
	assert_int_equal(after_sync, before + 2);
	assert_int_equal(db_int(path, "SELECT seq FROM events WHERE text = 'sync 1'"), before + 1);
	assert_int_equal(db_int(path, "SELECT seq FROM events WHERE text = 'sync 2'"), before + 2);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'events.last_seq'"),
			 before + 2);

	/* The writer numbers on after the sync's rows. */
	store_put_event(st, 30, -1, "test", "note", "writer 3");
	assert_int_equal(store_flush(st, 5000), 0);
	assert_int_equal(db_int(path, "SELECT seq FROM events WHERE text = 'writer 3'"),
			 before + 3);

	/* After pruning every event row, the counter still rules both. */
	{
		sqlite3 *raw;

		assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
		sqlite3_busy_timeout(raw, 5000);
		assert_int_equal(sqlite3_exec(raw, "DELETE FROM events", NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(raw);
	}
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_put_event(db, 40, "store", "quota", "sync 3"), 0);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(db_int(path, "SELECT seq FROM events WHERE text = 'sync 3'"), before + 4);
	store_put_event(st, 50, -1, "test", "note", "writer 4");
	close_store(st);
	store_sync_close(db);

	assert_int_equal(db_int(path, "SELECT seq FROM events WHERE text = 'writer 4'"),
			 before + 5);
	/* Unique and in the order made: seq order is time order here. */
	n = db_int(path, "SELECT count(*) FROM events e1 JOIN events e2 ON e1.seq < e2.seq"
			 " AND e1.t_us > e2.t_us");
	assert_int_equal(n, 0);
	assert_int_equal(db_int(path, "SELECT count(*) - count(DISTINCT seq) FROM events"), 0);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'events.last_seq'"),
			 db_int(path, "SELECT max(seq) FROM events"));
	free(path);
}

struct qrows {
	int n;
	char text[8][160];
};

static int collect_q(void *ctx, const struct store_sync_quarantine_row *r)
{
	struct qrows *q = ctx;

	if (q->n < 8)
		snprintf(q->text[q->n++], sizeof(q->text[0]), "%s %lld %lld %s %s %g %d %s %s %d",
			 r->kind, (long long)r->seq, (long long)r->t_us,
			 r->meter ? r->meter : "-", r->quantity ? r->quantity : "-", r->value,
			 r->quality, r->sqlstate, r->error, r->attempts);
	return 0;
}

static void test_quarantine(void **state)
{
	char *path = make_buffer("quarantine.db", 6);
	struct store_sync_db *db = open_sync(path);
	struct store_sync_sample rows[8];
	struct qrows q;
	int64_t seqs[2] = { 3, 999 };
	size_t n = 0;

	(void)state;
	assert_int_equal(get(store_sync_quarantine_count, db), 0);
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_SAMPLE, 3, 1000002, "22P02",
						   "bad value", 100), 0);
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_SAMPLE, 5, 1000004, "23514",
						   "check", 100), 0);
	/* Again: the new error, one more attempt. */
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_SAMPLE, 3, 1000002, "22003",
						   "out of range", 200), 0);
	/* A row that is gone (pruned meanwhile). */
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_ALARM, 77, 5, "22P02", "gone",
						   100), 0);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(get(store_sync_quarantine_count, db), 3);
	assert_int_equal(db_int(path, "SELECT first_us FROM sync_quarantine WHERE seq = 3"), 100);
	assert_int_equal(db_int(path, "SELECT last_us FROM sync_quarantine WHERE seq = 3"), 200);

	memset(&q, 0, sizeof(q));
	assert_int_equal(store_sync_quarantine_list(db, collect_q, &q), 0);
	assert_int_equal(q.n, 3);
	assert_string_equal(q.text[0], "sample 3 1000002 tgbt-1 v_l1n 2 0 22003 out of range 2");
	assert_string_equal(q.text[1], "sample 5 1000004 tgbt-1 v_l1n 4 0 23514 check 1");
	assert_string_equal(q.text[2], "alarm 77 5 - - nan 0 22P02 gone 1");

	/* Only the quarantined rows of the kind, in seq order. */
	assert_int_equal(store_sync_load_samples(db, true, 0, INT64_MAX, 8, rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].seq, 3);
	assert_int_equal(rows[1].seq, 5);
	assert_int_equal(store_sync_load_samples(db, true, 3, INT64_MAX, 8, rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].seq, 5);

	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_quarantine_forget_gone(db), 0);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(get(store_sync_quarantine_count, db), 2);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sync_quarantine WHERE kind = 'alarm'"),
			 0);

	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_quarantine_delete(db, STORE_SYNC_SAMPLE, seqs, 2), 0);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(get(store_sync_quarantine_count, db), 1);
	assert_int_equal(db_int(path, "SELECT seq FROM sync_quarantine"), 5);
	/* The sample rows stay. */
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 6);
	store_sync_close(db);
	free(path);
}

/*
 * Retention prunes up to the watermark only: the unsynced rows and the
 * quarantined ones stay. Past the watermark (quota), unsynced rows are
 * counted in quota_dropped with their time range.
 */
static void test_prune_window(void **state)
{
	char *path = make_buffer("prune.db", 20);
	struct store_sync_db *db = open_sync(path);
	int64_t unsynced = -1, t0 = 0, t1 = 0, n;

	(void)state;
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_SAMPLE, 10), 0);
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_SAMPLE, 4, 1000003, "22P02", "x",
						   1), 0);
	assert_int_equal(store_sync_commit(db), 0);

	/* Retention: seqs 1..10 (the watermark), older than seq 9's time. */
	assert_int_equal(store_sync_begin(db), 0);
	n = store_sync_prune_window(db, 1, 10, 10, 1000008, 10, &unsynced, &t0, &t1);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(n, 7); /* 1..8 less the quarantined 4 */
	assert_int_equal(unsynced, 0);
	assert_int_equal(t0, 0);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 13);
	assert_int_equal(db_int(path, "SELECT min(seq) FROM samples WHERE seq <> 4"), 9);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE seq > 10"), 10);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE seq = 4"), 1);
	assert_int_equal(get(store_sync_quota_dropped, db), 0);

	/* Quota: past the watermark, every time. */
	assert_int_equal(store_sync_begin(db), 0);
	n = store_sync_prune_window(db, 9, 14, INT64_MAX, INT64_MAX, 10, &unsynced, &t0, &t1);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(n, 6);
	assert_int_equal(unsynced, 4);        /* 11..14 */
	assert_int_equal(t0, 1000000 + 10);   /* seq 11 */
	assert_int_equal(t1, 1000000 + 13);   /* seq 14 */
	assert_int_equal(get(store_sync_quota_dropped, db), 4);
	assert_int_equal(db_int(path, "SELECT min(seq) FROM samples WHERE seq <> 4"), 15);

	/* Rolled back: nothing deleted, nothing counted. */
	assert_int_equal(store_sync_begin(db), 0);
	n = store_sync_prune_window(db, 15, 20, INT64_MAX, INT64_MAX, 10, &unsynced, &t0, &t1);
	assert_int_equal(n, 6);
	store_sync_rollback(db);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 7);
	assert_int_equal(get(store_sync_quota_dropped, db), 4);
	store_sync_close(db);
	free(path);
}

/*
 * A run of stored forecasts for meter ("" the site), made at made_us: n
 * intervals of 900 s from t0_us, the forecast 1000 * (i + 1) W, the bands
 * at -20, -10, +10, +20 %; the last interval's bands NaN (stored NULL).
 */
static void put_forecast(struct store *st, const char *meter, int64_t made_us, int64_t t0_us,
			 size_t n)
{
	int64_t t[8];
	double v[5][8];
	static const double f[5] = { 1.0, 0.8, 1.2, 0.9, 1.1 };
	struct store_forecast fc = {
		.made_us = made_us, .meter = (char *)meter, .method = (char *)"dshw",
		.step_us = 900000000, .took_us = 1234, .n = n, .t_us = t,
		.point = v[0], .lo80 = v[3], .hi80 = v[4], .lo95 = v[1], .hi95 = v[2],
	};

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		t[i] = t0_us + (int64_t)i * 900000000;
		for (int k = 0; k < 5; k++)
			v[k][i] = k > 0 && i == n - 1 ? NAN : 1000.0 * (double)(i + 1) * f[k];
	}
	store_put_forecast(st, &fc);
}

static void free_forecasts(struct store_sync_forecast *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].meter);
		free(rows[i].method);
	}
}

/*
 * Stored forecasts as the sync reads them: seqs and their counters, every
 * column of a row (NULL bands as NaN), bounded batches, the watermark and
 * backlog of the kind, apart from the samples'.
 */
static void test_load_forecasts(void **state)
{
	char *path = tpath("forecasts.db");
	struct store *st = open_store(path);
	struct store_sync_forecast rows[8];
	struct store_sync_db *db;
	sqlite3 *raw;
	size_t n = 99;

	(void)state;
	put_samples(st, 1000000, 3);
	put_forecast(st, "", 5000000, 3600000000, 3);
	put_forecast(st, "tgbt-1", 5000000, 3600000000, 2);
	close_store(st);
	db = open_sync(path);
	assert_int_equal(get_k(store_sync_min_seq, db, STORE_SYNC_FORECAST), 1);
	assert_int_equal(get_k(store_sync_max_seq, db, STORE_SYNC_FORECAST), 5);
	assert_int_equal(get_k(store_sync_last_seq, db, STORE_SYNC_FORECAST), 5);
	assert_int_equal(get_k(store_sync_max_seq, db, STORE_SYNC_SAMPLE), 3);
	assert_int_equal(backlog(db, STORE_SYNC_FORECAST, 0), 5);
	assert_int_equal(backlog(db, STORE_SYNC_FORECAST, 3), 2);
	assert_string_equal(store_sync_kind_name(STORE_SYNC_FORECAST), "forecast");

	assert_int_equal(store_sync_load_forecasts(db, false, 0, 100, 8, rows, &n), 0);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		size_t j = i < 3 ? i : i - 3; /* the interval within its run */
		bool last = j == (i < 3 ? 2u : 1u);

		assert_int_equal(rows[i].seq, (int64_t)i + 1);
		assert_int_equal(rows[i].made_us, 5000000);
		assert_string_equal(rows[i].meter, i < 3 ? "" : "tgbt-1");
		assert_string_equal(rows[i].method, "dshw");
		assert_int_equal(rows[i].t_us, 3600000000 + (int64_t)j * 900000000);
		assert_int_equal(rows[i].step_s, 900);
		assert_int_equal(rows[i].took_us, 1234);
		assert_true(rows[i].v[0] == 1000.0 * (double)(j + 1));
		if (last) {
			for (int k = 1; k < 5; k++)
				assert_true(isnan(rows[i].v[k]));
		} else {
			/* forecast lower80 upper80 lower95 upper95 */
			assert_true(fabs(rows[i].v[1] - 900.0 * (double)(j + 1)) < 1e-9);
			assert_true(fabs(rows[i].v[2] - 1100.0 * (double)(j + 1)) < 1e-9);
			assert_true(fabs(rows[i].v[3] - 800.0 * (double)(j + 1)) < 1e-9);
			assert_true(fabs(rows[i].v[4] - 1200.0 * (double)(j + 1)) < 1e-9);
		}
	}
	free_forecasts(rows, n);
	/* Bounded by after, end and max. */
	assert_int_equal(store_sync_load_forecasts(db, false, 1, 4, 8, rows, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].seq, 2);
	assert_int_equal(rows[2].seq, 4);
	free_forecasts(rows, n);
	assert_int_equal(store_sync_load_forecasts(db, false, 0, 100, 2, rows, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[1].seq, 2);
	free_forecasts(rows, n);

	/* A hand-made row without took_us reads as -1. */
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "INSERT INTO forecasts(made_us, meter, method, t_us,"
					   " step_s) VALUES(7, 'x', 'naive_day', 8, 900)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(store_sync_load_forecasts(db, false, 5, 100, 8, rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].seq, 6);
	assert_int_equal(rows[0].took_us, -1);
	assert_true(isnan(rows[0].v[0]));
	free_forecasts(rows, n);

	/* The watermark and restored count of the kind, apart from the others'. */
	assert_int_equal(get_k(store_sync_watermark, db, STORE_SYNC_FORECAST), 0);
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_FORECAST, 4), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_FORECAST, 2), 0);
	assert_int_equal(store_sync_add_restored(db, STORE_SYNC_FORECAST, 3), 0);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(get_k(store_sync_watermark, db, STORE_SYNC_FORECAST), 4);
	assert_int_equal(get_k(store_sync_watermark, db, STORE_SYNC_SAMPLE), 0);
	assert_int_equal(get_k(store_sync_restored, db, STORE_SYNC_FORECAST), 3);
	assert_int_equal(get_k(store_sync_restored, db, STORE_SYNC_SAMPLE), 0);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'sync.forecasts_seq'"), 4);
	assert_int_equal(backlog(db, STORE_SYNC_FORECAST, 4), 2);

	/* The counter survives the rows (AUTOINCREMENT). */
	assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "DELETE FROM forecasts WHERE seq > 4", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(get_k(store_sync_max_seq, db, STORE_SYNC_FORECAST), 4);
	assert_int_equal(get_k(store_sync_last_seq, db, STORE_SYNC_FORECAST), 6);
	store_sync_close(db);
	free(path);
}

/*
 * Quarantined forecasts: listed with their meter, method and forecast,
 * loaded alone for a retry, forgotten once gone; pruning by when they were
 * made up to the watermark only, never a quarantined one.
 */
static void test_forecast_quarantine_and_prune(void **state)
{
	char *path = tpath("fcprune.db");
	struct store *st = open_store(path);
	struct store_sync_forecast rows[8];
	struct store_sync_db *db;
	int64_t seq = 2;
	struct qrows q;
	size_t n = 0;

	(void)state;
	put_samples(st, 1000000, 2);
	/* Runs made at 10, 20, 30 s: seqs 1-3, 4-6, 7-9. */
	for (int r = 0; r < 3; r++)
		put_forecast(st, r == 1 ? "press-3" : "", (r + 1) * 10000000LL,
			     (r + 1) * 900000000LL, 3);
	close_store(st);
	db = open_sync(path);
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_FORECAST, 2, 1800000000, "22008",
						   "timestamp out of range", 100), 0);
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_SAMPLE, 1, 1000000, "22P02", "x",
						   100), 0);
	assert_int_equal(store_sync_quarantine_put(db, STORE_SYNC_FORECAST, 99, 5, "22008", "gone",
						   100), 0);
	assert_int_equal(store_sync_put_watermark(db, STORE_SYNC_FORECAST, 6), 0);
	assert_int_equal(store_sync_commit(db), 0);

	memset(&q, 0, sizeof(q));
	assert_int_equal(store_sync_quarantine_list(db, collect_q, &q), 0);
	assert_int_equal(q.n, 3);
	assert_string_equal(q.text[0], "sample 1 1000000 tgbt-1 v_l1n 0 0 22P02 x 1");
	assert_string_equal(q.text[1],
			    "forecast 2 1800000000  dshw 2000 0 22008 timestamp out of range 1");
	assert_string_equal(q.text[2], "forecast 99 5 - - nan 0 22008 gone 1");
	assert_int_equal(store_sync_load_forecasts(db, true, 0, INT64_MAX, 8, rows, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].seq, 2);
	assert_string_equal(rows[0].meter, "");
	free_forecasts(rows, n);
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_quarantine_forget_gone(db), 0);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(get(store_sync_quarantine_count, db), 2);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sync_quarantine WHERE seq = 99"), 0);

	/* Made before 25 s, seqs up to the watermark 6: runs 1 and 2 less the
	 * quarantined seq 2; run 3 is newer. */
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_prune_forecasts(db, 1, 6, 25000000), 5);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(db_int(path, "SELECT count(*) FROM forecasts"), 4);
	assert_int_equal(db_int(path, "SELECT min(seq) FROM forecasts WHERE seq <> 2"), 7);
	assert_int_equal(db_int(path, "SELECT count(*) FROM forecasts WHERE seq = 2"), 1);
	/* Nothing older in the window: nothing; rolled back: nothing. */
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_prune_forecasts(db, 7, 9, 25000000), 0);
	assert_int_equal(store_sync_prune_forecasts(db, 7, 9, 35000000), 3);
	store_sync_rollback(db);
	assert_int_equal(db_int(path, "SELECT count(*) FROM forecasts"), 4);
	/* Leaving the quarantine makes it prunable. */
	assert_int_equal(store_sync_begin(db), 0);
	assert_int_equal(store_sync_quarantine_delete(db, STORE_SYNC_FORECAST, &seq, 1), 0);
	assert_int_equal(store_sync_prune_forecasts(db, 1, 6, 25000000), 1);
	assert_int_equal(store_sync_commit(db), 0);
	assert_int_equal(db_int(path, "SELECT count(*) FROM forecasts"), 3);
	/* The samples are untouched. */
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 2);
	store_sync_close(db);
	free(path);
}

struct texts {
	int rows, cols;
	char first[2][64];
};

static int collect_text(void *ctx, const char *const *col, int n)
{
	struct texts *t = ctx;

	if (t->rows < 2)
		snprintf(t->first[t->rows], sizeof(t->first[0]), "%s %s", col[0] ? col[0] : "-",
			 col[1] ? col[1] : "-");
	t->rows++;
	t->cols = n;
	return 0;
}

static int stop_at_first(void *ctx, const char *const *col, int n)
{
	(void)col;
	(void)n;
	(*(int *)ctx)++;
	return 7;
}

static void test_meters_and_sessions(void **state)
{
	char *path = make_buffer("meta.db", 2);
	struct store_sync_db *db = open_sync(path);
	int64_t sig[4], sig2[4];
	struct texts t;
	int calls = 0;
	struct store *st;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_sync_meters(db, collect_text, &t), 0);
	assert_int_equal(t.rows, 2);
	assert_int_equal(t.cols, 10);
	assert_string_equal(t.first[0], "tgbt-1 modbus");
	assert_string_equal(t.first[1], "press-3 modbus");
	memset(&t, 0, sizeof(t));
	assert_int_equal(store_sync_sessions(db, collect_text, &t), 0);
	assert_int_equal(t.rows, 1);
	assert_int_equal(t.cols, 9);
	assert_int_equal(store_sync_meters(db, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);

	assert_int_equal(store_sync_meta_signature(db, sig), 0);
	assert_int_equal(sig[1], 1); /* one session */
	assert_int_equal(sig[3], 1); /* closed */
	/* A second session changes it. */
	st = open_store(path);
	assert_int_equal(store_sync_meta_signature(db, sig2), 0);
	assert_int_equal(sig2[1], 2);
	assert_int_equal(sig2[3], 1);
	assert_true(memcmp(sig, sig2, sizeof(sig)) != 0);
	close_store(st);
	store_sync_close(db);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_refuses),
		cmocka_unit_test(test_watermarks_and_counters),
		cmocka_unit_test(test_begin_stops),
		cmocka_unit_test(test_seqs),
		cmocka_unit_test(test_load_samples_with_names),
		cmocka_unit_test(test_load_alarms),
		cmocka_unit_test(test_event_numbering),
		cmocka_unit_test(test_quarantine),
		cmocka_unit_test(test_prune_window),
		cmocka_unit_test(test_load_forecasts),
		cmocka_unit_test(test_forecast_quarantine_and_prune),
		cmocka_unit_test(test_meters_and_sessions),
	};

	if (test_tmpdir_make(tmpdir) < 0)
		return 1;
	log_set_level(LOG_ERROR);
	return test_tmpdir_done(tmpdir, cmocka_run_group_tests(tests, NULL, NULL));
}
