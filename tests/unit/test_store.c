// SPDX-License-Identifier: MIT
/*
 * Unit tests of the local buffer (store.c) and of `phasor export`
 * (cmd_export.c): schema and migrations, the writer's batching, flushing,
 * bounded queue and failure states (a locked file, a full database), the
 * readers and the CSV output. Every test works in its own files under a
 * mkdtemp directory; results are checked through a separate SQLite
 * connection or the reader, never only through the store's own counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <dirent.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/log.h"
#include "phasor/codec.h"
#include "phasor/store.h"
#include "phasor/util.h"
#include "support.h"
#include "support_db.h"

static char tmpdir[] = "/tmp/phasor-test-store-XXXXXX";

/* ---- helpers ---- */

static char *tpath(const char *name)
{
	return util_printf("%s/%s", tmpdir, name);
}

/* A configuration of three meters, built by hand. */
static char m0_name[] = "tgbt-1", m0_profile[] = "pac3200", m0_host[] = "10.0.0.21";
static char m1_name[] = "press-3", m1_profile[] = "shelly-pro3em",
	    m1_topic[] = "shellypro3em-press3/status/em:0";
static char m2_name[] = "we,ird \"x\"\nname", m2_profile[] = "sdm630", m2_host[] = "gw";
static char m2_desc[] = "a meter with a hostile name";
static char *m1_topics[] = { m1_topic };
static char cfg_path[] = "/etc/phasor/phasor.ini", cfg_text[] = "abc";

static struct config_meter meters[3];
static struct config cfg;

static void make_config(void)
{
	memset(meters, 0, sizeof(meters));
	meters[0].name = m0_name;
	meters[0].driver = DRIVER_MODBUS;
	meters[0].profile_name = m0_profile;
	meters[0].host = m0_host;
	meters[0].port = 502;
	meters[0].unit = 1;
	meters[1].name = m1_name;
	meters[1].driver = DRIVER_MQTT;
	meters[1].profile_name = m1_profile;
	meters[1].topics = m1_topics;
	meters[1].ntopics = 1;
	meters[2].name = m2_name;
	meters[2].driver = DRIVER_MODBUS;
	meters[2].profile_name = m2_profile;
	meters[2].host = m2_host;
	meters[2].port = 5020;
	meters[2].unit = 7;
	meters[2].description = m2_desc;
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = cfg_path;
	cfg.text = cfg_text;
	cfg.meters = meters;
	cfg.nmeters = 3;
}

/* Open, register the meters and begin a session; fails the test otherwise. */
static struct store *open_store(const char *path, size_t queue_max, int batch_rows, int commit_ms)
{
	char *cause = NULL;
	struct store *st;

	make_config();
	st = store_open(path, queue_max, batch_rows, commit_ms, &cause);
	if (st == NULL)
		fail_msg("store_open: %s", cause);
	if (store_register_meters(st, &cfg, &cause) < 0)
		fail_msg("store_register_meters: %s", cause);
	if (store_begin_session(st, &cfg, "record", &cause) < 0)
		fail_msg("store_begin_session: %s", cause);
	return st;
}

static struct sample mk(int64_t t_us, unsigned meter, unsigned qty, double v, int quality)
{
	struct sample s;

	memset(&s, 0, sizeof(s));
	s.t_us = t_us;
	s.meter = meter;
	s.qty = (uint16_t)qty;
	s.value = v;
	s.quality = (uint8_t)quality;
	return s;
}

/* n samples of meter 0, v_l1n, times t0, t0+1, ... */
static void put_series(struct store *st, int64_t t0, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct sample s = mk(t0 + (int64_t)i, 0, QTY_V_L1N, 230.0 + (double)i, 0);

		store_put_samples(st, &s, 1);
	}
}

/* The text a query returns (caller frees; "" for NULL). */
static char *db_text(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *v = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail_msg("open %s: %s", path, sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = util_strdup(sqlite3_column_text(s, 0) ? (const char *)sqlite3_column_text(s, 0)
							  : "");
	sqlite3_finalize(s);
	sqlite3_close(db);
	if (v == NULL)
		fail_msg("%s: no row", sql);
	return v;
}

static void db_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		fail_msg("open %s", path);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Poll the stats until the state is want; fails after timeout_ms. */
static void wait_state(struct store *st, enum store_state want, int timeout_ms)
{
	int64_t end = util_mono_us() + (int64_t)timeout_ms * 1000;
	struct store_stats s;

	for (;;) {
		store_get_stats(st, &s);
		if (s.state == want)
			return;
		if (util_mono_us() > end)
			fail_msg("state is '%s', expected '%s' (error '%s')", store_state_name(s.state),
				 store_state_name(want), s.error);
		util_sleep_ms(10);
	}
}

static struct store_stats stats(struct store *st)
{
	struct store_stats s;

	store_get_stats(st, &s);
	return s;
}

/* Readers' rows, copied. */
struct row {
	int64_t seq, t_us, session;
	char meter[64], quantity[32], unit[16];
	double value;
	int quality;
};

struct rows {
	struct row r[400];
	size_t n, stop_after;
};

static int collect(void *ctx, const struct store_row *r)
{
	struct rows *rs = ctx;
	struct row *o;

	if (rs->n >= UTIL_ARRAY_LEN(rs->r))
		return 1;
	o = &rs->r[rs->n++];
	o->seq = r->seq;
	o->t_us = r->t_us;
	o->session = r->session;
	util_strlcpy(o->meter, r->meter, sizeof(o->meter));
	util_strlcpy(o->quantity, r->quantity, sizeof(o->quantity));
	util_strlcpy(o->unit, r->unit, sizeof(o->unit));
	o->value = r->value;
	o->quality = r->quality;
	return rs->stop_after != 0 && rs->n >= rs->stop_after;
}

static void read_rows(const char *path, const struct store_filter *f, struct rows *rs)
{
	struct store_reader *r;
	char *cause = NULL;

	r = store_reader_open(path, &cause);
	if (r == NULL)
		fail_msg("store_reader_open: %s", cause);
	rs->n = 0;
	if (store_reader_samples(r, f, collect, rs, &cause) < 0)
		fail_msg("store_reader_samples: %s", cause);
	store_reader_close(r);
}

struct ev {
	int64_t t_us, session;
	char meter[64], source[16], what[24], text[400];
	bool has_meter;
};

struct evs {
	struct ev e[16];
	size_t n;
};

static int collect_ev(void *ctx, const struct store_event_row *r)
{
	struct evs *es = ctx;
	struct ev *o;

	if (es->n >= UTIL_ARRAY_LEN(es->e))
		return 1;
	o = &es->e[es->n++];
	o->t_us = r->t_us;
	o->session = r->session;
	o->has_meter = r->meter != NULL;
	util_strlcpy(o->meter, r->meter ? r->meter : "", sizeof(o->meter));
	util_strlcpy(o->source, r->source, sizeof(o->source));
	util_strlcpy(o->what, r->what, sizeof(o->what));
	util_strlcpy(o->text, r->text ? r->text : "", sizeof(o->text));
	return 0;
}

static void read_events(const char *path, const struct store_filter *f, struct evs *es)
{
	struct store_reader *r;
	char *cause = NULL;

	r = store_reader_open(path, &cause);
	if (r == NULL)
		fail_msg("store_reader_open: %s", cause);
	es->n = 0;
	if (store_reader_events(r, f, collect_ev, es, &cause) < 0)
		fail_msg("store_reader_events: %s", cause);
	store_reader_close(r);
}

static const struct ev *find_event(const struct evs *es, const char *what)
{
	size_t i;

	for (i = 0; i < es->n; i++)
		if (strcmp(es->e[i].what, what) == 0)
			return &es->e[i];
	return NULL;
}

/* The event, or the test fails. */
static const struct ev *must_event(const struct evs *es, const char *what)
{
	const struct ev *e = find_event(es, what);

	if (e == NULL) {
		fail_msg("no '%s' event", what);
		abort(); /* not reached: fail_msg leaves the test */
	}
	return e;
}

static int64_t reader_count(const char *path, const struct store_filter *f)
{
	struct store_reader *r;
	char *cause = NULL;
	int64_t n;

	r = store_reader_open(path, &cause);
	if (r == NULL)
		fail_msg("store_reader_open: %s", cause);
	n = store_reader_count(r, f, &cause);
	store_reader_close(r);
	return n;
}

static const struct store_filter all = { NULL, NULL, INT64_MIN, INT64_MAX };

/* ---- tests ---- */

static void test_state_names(void **state)
{
	static const struct {
		enum store_state s;
		const char *name;
	} cases[] = {
		{ STORE_OK, "ok" },
		{ STORE_FULL, "disk full" },
		{ STORE_LOCKED, "locked" },
		{ STORE_ERROR, "error" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++)
		assert_string_equal(store_state_name(cases[i].s), cases[i].name);
}

static void test_schema(void **state)
{
	static const struct {
		const char *table, *columns;
	} tables[] = {
		{ "meters", "id,name,driver,profile,host,port,unit,topics,description,"
			    "first_seen_us,last_seen_us" },
		{ "quantities", "id,name,unit" },
		{ "sessions", "id,start_us,end_us,host,pid,mode,config_path,config_digest,"
			      "config_text,version" },
		{ "samples", "seq,t_us,meter_id,qty_id,value,quality,session_id" },
		{ "events", "seq,t_us,session_id,meter_id,source,what,text" },
		{ "meta", "key,value" },
		{ "alarm_events", "seq,t_us,id,origin,session_id,alarm,meter,quantity,priority,"
				  "event,state,value,limit_value,operator,note,raised_us,until_us" },
		{ "identity", "key,value" },
		{ "sync_quarantine", "kind,seq,t_us,sqlstate,error,first_us,last_us,attempts" },
		{ "comm_changes", "seq,t_us,session_id,meter_id,status,error" },
		{ "alarm_requests", "id,t_us,console,operator,action,alarm,meter,note,dur_ms,done_us,"
				    "result,event_id" },
		{ "recorder_status", "key,t_us,value" },
		{ "forecasts", "seq,made_us,meter,method,t_us,step_s,forecast,lower80,upper80,"
			       "lower95,upper95,took_us" },
		{ "shapes", "id,qty" },
		{ "polls", "first_seq,t_us,meter_id,shape_id,session_id,n,data" },
		{ "blocks", "id,win,meter_id,shape_id,session_id,t0_us,t1_us,seq_lo,seq_hi,n,data" },
		{ "rollups", "id,meter_id,w0_us,data" },
		{ "hours", "meter_id,qty,h0_us,n,idsum,data" },
	};
	char *path = tpath("nested/dirs/schema.db"), sql[200], *got;
	struct store *st;
	char *cause = NULL;
	unsigned i;

	(void)state;
	st = store_open(path, 1000, 100, 100, &cause);
	assert_non_null(st);
	store_close(st);

	assert_int_equal(db_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(db_int(path, "PRAGMA application_id"), 0x50485352);
	got = db_text(path, "PRAGMA journal_mode");
	assert_string_equal(got, "wal");
	free(got);
	for (i = 0; i < UTIL_ARRAY_LEN(tables); i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT group_concat(name, ',') FROM pragma_table_info('%s')",
			 tables[i].table);
		got = db_text(path, sql);
		assert_string_equal(got, tables[i].columns);
		free(got);
	}
	/* Indexes besides the automatic ones: the journal by time and by
	 * (alarm, meter) for the restore, comm changes by (meter, time) for
	 * "the state at T", the requests not applied yet, the forecasts by
	 * (meter, made) for "the forecast at T" and by (meter, interval) for
	 * "what was expected of it", poll rows by time only (they hold the
	 * newest minutes: a meter's are found by scanning them), blocks by
	 * first time, (meter, first time) and both ends of their seqs,
	 * rollups by (meter, window). The old samples table (and its index)
	 * is gone on a new file. */
	got = db_text(path, "SELECT group_concat(name) FROM sqlite_master WHERE type = 'index'"
			    " AND sql IS NOT NULL");
	assert_string_equal(got, "alarm_events_t_us,alarm_events_key,"
				 "comm_changes_meter_t,alarm_requests_pending,forecasts_meter_made,"
				 "forecasts_meter_t,polls_t_us,blocks_t0,blocks_meter_t0,"
				 "blocks_seq_lo,blocks_seq_hi,rollups_meter_w0");
	assert_int_equal(db_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
				      " AND name IN ('blocks_rollup_gone', 'blocks_hours_gone')"),
			 2);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'samples%'"),
			 0);
	free(got);
	/* Every quantity of this binary, by enum id. */
	assert_int_equal(db_int(path, "SELECT count(*) FROM quantities"), QTY__COUNT);
	for (i = 0; i < QTY__COUNT; i++) {
		snprintf(sql, sizeof(sql), "SELECT name || ' ' || unit FROM quantities WHERE id = %u",
			 i);
		got = db_text(path, sql);
		snprintf(sql, sizeof(sql), "%s %s", qty_name(i), qty_unit(i));
		assert_string_equal(got, sql);
		free(got);
	}
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'samples.last_seq'"), 0);
	free(path);
}

static void test_reopen_no_duplicates(void **state)
{
	char *path = tpath("reopen.db"), *got;
	int64_t id0, id2, first, last;
	struct store *st;

	(void)state;
	st = open_store(path, 1000, 100, 100);
	store_close(st);
	id0 = db_int(path, "SELECT id FROM meters WHERE name = 'tgbt-1'");
	id2 = db_int(path, "SELECT id FROM meters WHERE description IS NOT NULL");
	first = db_int(path, "SELECT first_seen_us FROM meters WHERE name = 'tgbt-1'");
	assert_true(id0 > 0);

	util_sleep_ms(2);
	st = open_store(path, 1000, 100, 100);
	meters[0].host = m2_host; /* the meter moved */
	{
		char *cause = NULL;

		assert_int_equal(store_register_meters(st, &cfg, &cause), 0);
	}
	store_close(st);

	assert_int_equal(db_int(path, "SELECT count(*) FROM meters"), 3);
	assert_int_equal(db_int(path, "SELECT count(*) FROM quantities"), QTY__COUNT);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sessions"), 2);
	assert_int_equal(db_int(path, "SELECT id FROM meters WHERE name = 'tgbt-1'"), id0);
	assert_int_equal(db_int(path, "SELECT id FROM meters WHERE description IS NOT NULL"), id2);
	assert_int_equal(db_int(path, "SELECT first_seen_us FROM meters WHERE name = 'tgbt-1'"),
			 first);
	last = db_int(path, "SELECT last_seen_us FROM meters WHERE name = 'tgbt-1'");
	assert_true(last > first);
	got = db_text(path, "SELECT host FROM meters WHERE name = 'tgbt-1'");
	assert_string_equal(got, "gw");
	free(got);
	got = db_text(path, "SELECT driver || ' ' || profile || ' ' || topics ||"
			    " ' ' || (port IS NULL) || (unit IS NULL) || (host IS NULL)"
			    " FROM meters WHERE name = 'press-3'");
	assert_string_equal(got, "mqtt shelly-pro3em [\"shellypro3em-press3/status/em:0\"] 111");
	free(got);
	got = db_text(path, "SELECT driver || ' ' || port || ' ' || unit FROM meters"
			    " WHERE description = 'a meter with a hostile name'");
	assert_string_equal(got, "modbus 5020 7");
	free(got);
	free(path);
}

static void test_migrate_from_v0(void **state)
{
	char *empty = tpath("v0-empty.db"), *made = tpath("v0-made.db"),
	     *foreign = tpath("v0-foreign.db");
	struct store *st;
	char *cause = NULL;
	int fd;

	(void)state;
	/* A zero-byte file is an empty SQLite database of version 0. */
	fd = open(empty, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	close(fd);
	st = store_open(empty, 10, 10, 10, &cause);
	assert_non_null(st);
	store_close(st);
	assert_int_equal(db_int(empty, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(db_int(empty, "SELECT count(*) FROM quantities"), QTY__COUNT);

	/* A database made by hand at version 0, with no table left. */
	db_exec(made, "CREATE TABLE x(a); INSERT INTO x VALUES(1); DROP TABLE x;"
		      " PRAGMA user_version = 0;");
	st = store_open(made, 10, 10, 10, &cause);
	assert_non_null(st);
	store_close(st);
	assert_int_equal(db_int(made, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(db_int(made, "SELECT count(*) FROM sqlite_master WHERE name = 'polls'"),
			 1);

	/* Version 0 with someone else's tables: not ours to migrate. */
	db_exec(foreign, "CREATE TABLE readings(a); INSERT INTO readings VALUES(42);");
	st = store_open(foreign, 10, 10, 10, &cause);
	assert_null(st);
	assert_non_null(strstr(cause, "not a phasor buffer"));
	free(cause);
	assert_int_equal(db_int(foreign, "PRAGMA user_version"), 0);
	assert_int_equal(db_int(foreign, "SELECT a FROM readings"), 42);
	assert_int_equal(db_int(foreign, "SELECT count(*) FROM sqlite_master"), 1);
	free(empty);
	free(made);
	free(foreign);
}

static void test_refuse_newer(void **state)
{
	char *path = tpath("newer.db"), *cause = NULL, sql[64], newer[32], mine[32];
	struct store *st;

	(void)state;
	st = open_store(path, 10, 10, 10);
	store_close(st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION + 1);
	snprintf(newer, sizeof(newer), "version %d", STORE_SCHEMA_VERSION + 1);
	snprintf(mine, sizeof(mine), "(%d)", STORE_SCHEMA_VERSION);
	db_exec(path, sql);

	st = store_open(path, 10, 10, 10, &cause);
	assert_null(st);
	assert_non_null(strstr(cause, newer));
	assert_non_null(strstr(cause, mine));
	free(cause);
	cause = NULL;
	assert_null(store_reader_open(path, &cause));
	assert_non_null(strstr(cause, newer));
	free(cause);
	/* Nothing was changed. */
	assert_int_equal(db_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION + 1);
	free(path);
}

/* A version 1 buffer (before the alarm journal) keeps its rows. */
static void test_migrate_from_v1(void **state)
{
	char *path = tpath("v1.db"), *id1, *id2;
	struct store *st;
	struct store_reader *r;
	char *cause = NULL;

	(void)state;
	st = open_store(path, 10, 10, 10);
	store_close(st);
	/* Back to what version 1 had. */
	db_exec(path, "DROP TABLE alarm_events; DROP TABLE identity; DROP TABLE sync_quarantine;"
		      " DROP TABLE comm_changes; DROP TABLE alarm_requests;"
		      " DROP TABLE recorder_status; DROP TABLE forecasts;"
		      " DELETE FROM meta WHERE key LIKE 'sync.%';"
		      " DELETE FROM sqlite_sequence; PRAGMA user_version = 1;"
		      " DROP TABLE shapes; DROP TABLE polls; DROP TABLE blocks; DROP TABLE rollups; DROP TABLE hours;"
		      " CREATE TABLE samples(seq INTEGER PRIMARY KEY, t_us INTEGER NOT NULL,"
		      " meter_id INTEGER NOT NULL, qty_id INTEGER NOT NULL, value,"
		      " quality INTEGER NOT NULL, session_id INTEGER);"
		      " CREATE INDEX samples_t_us ON samples(t_us);"
		      " INSERT INTO samples(seq, t_us, meter_id, qty_id, value, quality)"
		      " VALUES(7, 1000, 1, 1, 230.5, 0);");
	r = store_reader_open(path, &cause);
	assert_non_null(r);
	assert_string_equal(store_reader_console_id(r), "");
	assert_int_equal(store_reader_alarm_latest(r, NULL, NULL, &cause), 0);
	store_reader_close(r);

	st = open_store(path, 10, 10, 10);
	id1 = util_strdup(store_console_id(st));
	store_close(st);
	assert_int_equal(db_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE seq = 7"), 1);
	/* Steps 2 -> 3 and 5 -> 6: the sync's watermarks start at 0, the
	 * quarantine empty. */
	assert_int_equal(db_int(path, "SELECT count(*) FROM meta WHERE key LIKE 'sync.%'"
				      " AND value = 0"), 4);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sync_quarantine"), 0);
	/* The identity is made once, then kept. */
	assert_true(strlen(id1) > 9);
	assert_int_equal(id1[strlen(id1) - 9], '-');
	st = open_store(path, 10, 10, 10);
	assert_string_equal(store_console_id(st), id1);
	store_close(st);
	r = store_reader_open(path, &cause);
	assert_non_null(r);
	id2 = util_strdup(store_reader_console_id(r));
	store_reader_close(r);
	assert_string_equal(id2, id1);
	free(id1);
	free(id2);
	free(path);
}

struct alarm_rows {
	int n;
	char text[2048];
	double value[8], limit[8];
};

static int collect_alarm(void *ctx, const struct store_alarm_event *e)
{
	struct alarm_rows *a = ctx;
	size_t len = strlen(a->text);

	if (a->n < 8) {
		a->value[a->n] = e->value;
		a->limit[a->n] = e->limit;
	}
	a->n++;
	snprintf(a->text + len, sizeof(a->text) - len,
		 "%" PRId64 " %s %s %s/%s %s %s %s %s [%s] [%s] %" PRId64 " %" PRId64 "\n", e->t_us,
		 e->id, e->alarm, e->meter, e->quantity, e->priority, e->event, e->state,
		 e->origin, e->operator_name, e->note, e->raised_us, e->until_us);
	return 0;
}

static void test_alarm_journal(void **state)
{
	char *path = tpath("alarms.db"), *cause = NULL;
	struct store *st;
	struct store_reader *r;
	struct store_stats stats;
	struct alarm_rows rows;
	struct store_alarm_event e = {
		.t_us = 1000, .id = "c1:1", .origin = "c1", .alarm = "low-pf", .meter = "oven",
		.quantity = "pf", .priority = "high", .event = "raise", .state = "unack",
		.value = 0.81, .limit = 0.85, .operator_name = "", .note = NULL,
		.raised_us = 1000, .until_us = 0,
	};

	(void)state;
	st = open_store(path, 100, 10, 10);
	assert_int_equal(store_start(st, &cause), 0);
	store_put_alarm_event(st, &e);
	/* The same id again (an event coming back from the broker): one row. */
	store_put_alarm_event(st, &e);
	e.t_us = 2000;
	e.id = "c2:5";
	e.origin = "c2";
	e.event = "ack";
	e.state = "ack";
	e.value = NAN;
	e.limit = NAN;
	e.operator_name = "marie";
	e.note = "capacitor bank 2 tripped";
	store_put_alarm_event(st, &e);
	e.t_us = 3000;
	e.id = "c1:2";
	e.origin = "c1";
	e.alarm = "overload";
	e.meter = "furnace";
	e.quantity = "overload";
	e.priority = "critical";
	e.event = "shelve";
	e.state = "shelved";
	e.operator_name = "paul";
	e.note = NULL;
	e.until_us = 9000;
	store_put_alarm_event(st, &e);
	assert_int_equal(store_flush(st, 5000), 0);
	store_get_stats(st, &stats);
	assert_int_equal(stats.alarms_written, 4); /* attempted; the duplicate was ignored */
	assert_int_equal(stats.alarms_queued, 0);
	assert_int_equal(stats.alarms_dropped, 0);
	store_stop(st, 1000);
	store_close(st);

	r = store_reader_open(path, &cause);
	assert_non_null(r);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_reader_alarm_events(r, INT64_MIN, INT64_MAX, collect_alarm, &rows,
						   &cause), 0);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.text,
			    "1000 c1:1 low-pf oven/pf high raise unack c1 [] [] 1000 0\n"
			    "2000 c2:5 low-pf oven/pf high ack ack c2 [marie] [capacitor bank 2"
			    " tripped] 1000 0\n"
			    "3000 c1:2 overload furnace/overload critical shelve shelved c1 [paul] []"
			    " 1000 9000\n");
	assert_float_equal(rows.value[0], 0.81, 0);
	assert_float_equal(rows.limit[0], 0.85, 0);
	assert_true(isnan(rows.value[1]) && isnan(rows.limit[1]));
	/* A time window. */
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_reader_alarm_events(r, 1500, 3000, collect_alarm, &rows, &cause),
			 0);
	assert_int_equal(rows.n, 1);
	assert_non_null(strstr(rows.text, "c2:5"));
	/* The newest row per (alarm, meter). */
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_reader_alarm_latest(r, collect_alarm, &rows, &cause), 0);
	assert_int_equal(rows.n, 2);
	assert_non_null(strstr(rows.text, "c2:5 low-pf"));
	assert_non_null(strstr(rows.text, "c1:2 overload"));
	assert_null(strstr(rows.text, "c1:1"));
	store_reader_close(r);
	free(path);
}

static void test_refuse_not_sqlite(void **state)
{
	static const char text[] = "time,meter,quantity,value,unit,quality\n"
				   "2026-11-22T14:03:05.123Z,tgbt-1,v_l1n,231.5,V,good\n";
	char *path = tpath("not-sqlite.csv"), *missing = tpath("missing.db"), *cause = NULL;
	char back[sizeof(text) + 16];
	FILE *f;
	size_t n;

	(void)state;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);

	assert_null(store_open(path, 10, 10, 10, &cause));
	assert_non_null(strstr(cause, "not an SQLite database"));
	free(cause);
	cause = NULL;
	assert_null(store_reader_open(path, &cause));
	assert_non_null(strstr(cause, "not an SQLite database"));
	free(cause);
	cause = NULL;
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(back, 1, sizeof(back), f);
	fclose(f);
	assert_int_equal(n, strlen(text));
	assert_memory_equal(back, text, n);

	assert_null(store_reader_open(missing, &cause));
	assert_non_null(strstr(cause, strerror(ENOENT)));
	free(cause);
	assert_int_equal(access(missing, F_OK), -1);
	free(path);
	free(missing);
}

static void test_roundtrip(void **state)
{
	/* Put out of time order: the reader returns (t_us, seq) order. */
	static const struct {
		int64_t t_us;
		unsigned meter, qty;
		double value;
		int quality;
	} in[] = {
		{ 5000, 0, QTY_V_L1N, 231.5, QUALITY_GOOD },
		{ 1000, 1, QTY_P_TOTAL, -0.0, QUALITY_GOOD },
		{ 3000, 0, QTY_I_L1, 1e-300, QUALITY_GOOD },
		{ 2000, 2, QTY_FREQ, NAN, QUALITY_BAD },
		{ 4000, 0, QTY_E_IMP, 123456789012.25, QUALITY_GOOD },
		{ 4000, 1, QTY_PF_TOTAL, 0.1 + 0.2, QUALITY_GOOD },
		{ 6000, 2, QTY_TEMP, INFINITY, QUALITY_BAD },
		{ 7000, 2, QTY_TEMP, -INFINITY, QUALITY_BAD },
		{ 8000, 0, QTY_V_L12, DBL_MAX, QUALITY_BAD },
		{ 9000, 0, QTY_V_L23, 4.9e-324, QUALITY_GOOD },
		{ -1000, 0, QTY_E_EXP_L3, -65536.0, QUALITY_BAD },
	};
	/* Expected order as indexes of in[]. */
	static const size_t order[] = { 10, 1, 3, 2, 4, 5, 0, 6, 7, 8, 9 };
	char *path = tpath("roundtrip.db"), *got, *want, host[256] = "", sql[200];
	struct rows *rs = util_calloc(1, sizeof(*rs));
	struct store *st;
	char *cause = NULL;
	size_t i;

	(void)state;
	st = open_store(path, 1000, 100, 50);
	assert_int_equal(store_start(st, &cause), 0);
	for (i = 0; i < UTIL_ARRAY_LEN(in); i++) {
		struct sample s = mk(in[i].t_us, in[i].meter, in[i].qty, in[i].value,
				     in[i].quality);

		store_put_samples(st, &s, 1);
	}
	assert_int_equal(store_flush(st, 5000), 0);
	assert_int_equal(stats(st).written, UTIL_ARRAY_LEN(in));
	read_rows(path, &all, rs);
	assert_int_equal(rs->n, UTIL_ARRAY_LEN(in));
	for (i = 0; i < rs->n; i++) {
		const struct row *r = &rs->r[i];
		size_t k = order[i];

		assert_int_equal(r->t_us, in[k].t_us);
		assert_string_equal(r->meter, meters[in[k].meter].name);
		assert_string_equal(r->quantity, qty_name(in[k].qty));
		assert_string_equal(r->unit, qty_unit(in[k].qty));
		assert_int_equal(r->quality, in[k].quality);
		assert_int_equal(r->session, store_session_id(st));
		if (isnan(in[k].value))
			assert_true(isnan(r->value));
		else
			assert_memory_equal(&r->value, &in[k].value, sizeof(double));
		if (i > 0 && r->t_us == rs->r[i - 1].t_us)
			assert_true(r->seq > rs->r[i - 1].seq);
	}
	/* NaN is stored as NULL, everything else as an 8-byte real. */
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE value IS NULL"), 1);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE typeof(value) = 'real'"),
			 UTIL_ARRAY_LEN(in) - 1);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'samples.last_seq'"),
			 db_int(path, "SELECT max(seq) FROM samples"));

	/* The session row. */
	assert_true(store_session_id(st) > 0);
	gethostname(host, sizeof(host) - 1);
	snprintf(sql, sizeof(sql),
		 "SELECT mode || '|' || config_path || '|' || config_digest || '|' ||"
		 " config_text || '|' || version || '|' || pid || '|' || host"
		 " FROM sessions WHERE id = %lld",
		 (long long)store_session_id(st));
	got = db_text(path, sql);
	want = util_printf("record|/etc/phasor/phasor.ini|"
			   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad|abc|"
			   "%s|%ld|%s",
			   PHASOR_VERSION, (long)getpid(), host);
	assert_string_equal(got, want);
	free(want);
	free(got);
	store_stop(st, 1000);
	store_close(st);
	free(rs);
	free(path);
}

static void test_same_time_two_rows(void **state)
{
	char *path = tpath("same-time.db"), *cause = NULL;
	struct rows *rs = util_calloc(1, sizeof(*rs));
	struct sample s[2];
	struct store *st;

	(void)state;
	st = open_store(path, 1000, 100, 50);
	s[0] = mk(1700000000000000, 0, QTY_P_TOTAL, 1500.0, 0);
	s[1] = s[0];
	store_put_samples(st, s, 2);
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);
	read_rows(path, &all, rs);
	assert_int_equal(rs->n, 2);
	assert_int_equal(rs->r[0].t_us, rs->r[1].t_us);
	assert_int_equal(rs->r[1].seq, rs->r[0].seq + 1);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 2);
	free(rs);
	free(path);
}

/* A seq is never reused, even once every row was deleted (pruned). */
static void test_seq_not_reused(void **state)
{
	char *path = tpath("seq.db"), *cause = NULL;
	struct store *st;

	(void)state;
	st = open_store(path, 1000, 100, 50);
	put_series(st, 0, 10);
	store_put_event(st, 0, -1, "test", "note", "one");
	store_stop(st, 1000);
	store_close(st);
	assert_int_equal(db_int(path, "SELECT max(seq) FROM samples"), 10);
	db_exec(path, "DELETE FROM polls; DELETE FROM blocks; DELETE FROM events;");

	st = open_store(path, 1000, 100, 50);
	assert_int_equal(store_start(st, &cause), 0);
	put_series(st, 100, 5);
	store_put_event(st, 100, -1, "test", "note", "two");
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);
	assert_int_equal(db_int(path, "SELECT min(seq) FROM samples"), 11);
	assert_int_equal(db_int(path, "SELECT max(seq) FROM samples"), 15);
	assert_int_equal(db_int(path, "SELECT min(seq) FROM events"), 2);
	free(path);
}

static void test_batching(void **state)
{
	static const struct {
		size_t rows;
		int batch_rows;
		uint64_t commits;
	} cases[] = {
		{ 1050, 100, 11 }, { 1000, 100, 10 }, { 1, 100, 1 }, { 5000, 5000, 1 }, { 10, 1, 10 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char name[40], *path, *cause = NULL;
		struct store *st;
		struct store_stats s;

		snprintf(name, sizeof(name), "batch-%zu.db", i);
		path = tpath(name);
		/* commit_ms far away: only batch_rows and the flush commit. */
		st = open_store(path, 100000, cases[i].batch_rows, 600000);
		put_series(st, 1000000, cases[i].rows);
		assert_int_equal(store_start(st, &cause), 0);
		assert_int_equal(store_flush(st, 10000), 0);
		s = stats(st);
		assert_int_equal(s.written, cases[i].rows);
		assert_int_equal(s.commits, cases[i].commits);
		assert_int_equal(s.queued, 0);
		assert_true(s.last_commit_us > 0);
		store_stop(st, 1000);
		store_close(st);
		assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), cases[i].rows);
		free(path);
	}
}

static void test_commit_ms(void **state)
{
	char *path = tpath("commit-ms.db"), *cause = NULL;
	int64_t start, end;
	struct store *st;

	(void)state;
	st = open_store(path, 1000, 1000, 300);
	assert_int_equal(store_start(st, &cause), 0);
	start = util_mono_us();
	put_series(st, 0, 10);
	/* Fewer than batch_rows rows wait for commit_ms... */
	assert_int_equal(stats(st).written, 0);
	assert_int_equal(stats(st).queued, 10);
	/* ...and are then committed without any flush. */
	end = start + 5000000;
	while (stats(st).written < 10 && util_mono_us() < end)
		util_sleep_ms(5);
	assert_int_equal(stats(st).written, 10);
	assert_int_equal(stats(st).commits, 1);
	assert_true(util_mono_us() - start >= 250000);
	store_stop(st, 1000);
	store_close(st);
	free(path);
}

static void test_stop_flushes(void **state)
{
	char *path = tpath("stop.db"), *cause = NULL;
	struct store *st;

	(void)state;
	st = open_store(path, 100000, 100000, 600000);
	assert_int_equal(store_start(st, &cause), 0);
	put_series(st, 0, 500);
	store_put_event(st, 1, -1, "test", "note", "before stop");
	store_stop(st, 5000);
	assert_int_equal(stats(st).written, 500);
	assert_int_equal(stats(st).queued, 0);
	assert_int_equal(stats(st).dropped, 0);
	store_close(st);
	assert_int_equal(reader_count(path, &all), 500);
	assert_int_equal(db_int(path, "SELECT count(*) FROM events WHERE what = 'note'"), 1);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sessions WHERE end_us >= start_us"), 1);

	/* Never started: store_stop drains in the caller. */
	st = open_store(path, 100000, 100000, 600000);
	put_series(st, 1000, 20);
	store_stop(st, 1000);
	assert_int_equal(stats(st).written, 20);
	store_close(st);
	assert_int_equal(reader_count(path, &all), 520);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sessions WHERE end_us IS NULL"), 0);
	free(path);
}

/* The disk never accepts: store_stop gives up after drain_ms and counts. */
static void test_stop_drain_gives_up(void **state)
{
	char *path = tpath("drain.db"), *cause = NULL;
	struct store_stats ss;
	int64_t t0, took;
	struct store *st;
	sqlite3 *other;

	(void)state;
	st = open_store(path, 1000, 100, 20);
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	sqlite3_busy_timeout(other, 5000); /* the writer's housekeeping may hold the lock */
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	put_series(st, 0, 30);
	store_put_event(st, 0, -1, "test", "note", "lost too");
	wait_state(st, STORE_LOCKED, 5000);
	t0 = util_mono_us();
	store_stop(st, 600);
	took = util_mono_us() - t0;
	ss = stats(st);
	assert_int_equal(ss.dropped, 30);
	assert_int_equal(ss.events_dropped, 1);
	assert_int_equal(ss.queued, 0);
	assert_int_equal(ss.written, 0);
	assert_in_range(took, 500000, 6000000);
	assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	store_close(st);
	assert_int_equal(reader_count(path, &all), 0);
	free(path);
}

static void test_queue_max(void **state)
{
	char *path = tpath("queue-max.db"), *cause = NULL, *got;
	struct sample s[40];
	struct store_stats ss;
	struct evs *es = util_calloc(1, sizeof(*es));
	const struct ev *e;
	struct store *st;
	size_t i, t = 0;

	(void)state;
	st = open_store(path, 100, 1000, 600000);
	/* 40 + 40 + 40 + 30 = 150 samples into a queue of 100. */
	while (t < 150) {
		size_t n = 150 - t < 40 ? 150 - t : 40;

		for (i = 0; i < n; i++, t++)
			s[i] = mk(1000000 * (int64_t)t, 1, QTY_P_L1, (double)t, 0);
		store_put_samples(st, s, n);
	}
	ss = stats(st);
	assert_int_equal(ss.dropped, 50);
	assert_int_equal(ss.queued, 100);
	assert_int_equal(ss.queue_max, 100);
	/* An invalid meter index is dropped and counted too. */
	s[0] = mk(0, 99, QTY_P_L1, 1.0, 0);
	store_put_samples(st, s, 1);
	assert_int_equal(stats(st).dropped, 51);

	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(store_flush(st, 5000), 0);
	ss = stats(st);
	assert_int_equal(ss.written, 100);
	assert_int_equal(ss.dropped, 51);
	store_stop(st, 1000);
	store_close(st);
	/* The oldest were kept. */
	assert_int_equal(db_int(path, "SELECT max(value) FROM samples"), 99);
	read_events(path, &all, es);
	e = must_event(es, "drop");
	assert_string_equal(e->source, "store");
	assert_false(e->has_meter);
	assert_non_null(strstr(e->text, "51 samples dropped"));
	/* Time range of the dropped samples: t = 0 (the invalid one) to 149 s. */
	assert_non_null(strstr(e->text, "1970-01-01T00:00:00.000Z to 1970-01-01T00:02:29.000Z"));
	got = db_text(path, "SELECT count(*) FROM events WHERE what = 'drop'");
	assert_string_equal(got, "1");
	free(got);
	free(es);
	free(path);
}

/* Intake record seq: two samples of meter 1 at one time (one MQTT message). */
static void put_record(struct store *st, uint64_t seq)
{
	struct sample s[2];

	s[0] = mk(1000000 * (int64_t)seq, 1, QTY_V_L1N, (double)seq, 0);
	s[1] = mk(1000000 * (int64_t)seq, 1, QTY_P_L1, (double)seq, 0);
	store_put_intake(st, seq, s, 2);
}

static void wait_commits(struct store *st, uint64_t n)
{
	int i;

	for (i = 0; i < 500 && stats(st).commits < n; i++)
		usleep(10000);
	assert_true(stats(st).commits >= n);
}

/*
 * What a kill -9 would leave: every committed state of the file holds the
 * samples of exactly the intake records up to the saved mark (two each),
 * or the next start decodes a record again whose samples are already in.
 */
static void assert_mark_covers(const char *path)
{
	int64_t mark = db_int(path, "SELECT coalesce((SELECT value FROM meta"
				    " WHERE key = 'intake.0'), 0)");

	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 2 * mark);
}

/* A store keeping the mark of intake slot 0; commits only full batches or flushes. */
static struct store *open_intake(const char *path, int batch_rows)
{
	char *cause = NULL;
	struct store *st = open_store(path, 1000, batch_rows, 600000);

	if (store_set_intake_slot(st, 0, &cause) < 0)
		fail_msg("store_set_intake_slot: %s", cause);
	return st;
}

static void test_intake_mark_with_samples(void **state)
{
	char *path = tpath("intake-mark.db"), *cause = NULL;
	struct store *st;

	(void)state;
	st = open_intake(path, 1000);
	assert_int_equal(store_start(st, &cause), 0);
	/* The writer commits as soon as the record is queued (a flush): its
	 * mark is in that transaction, not in a later one. */
	put_record(st, 1);
	assert_int_equal(store_flush(st, 5000), 0);
	assert_mark_covers(path);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'intake.0'"), 1);
	assert_int_equal(store_intake_committed(st), 1);
	store_stop(st, 1000);
	store_close(st);
	free(path);
}

static void test_intake_record_whole(void **state)
{
	char *path = tpath("intake-whole.db"), *cause = NULL;
	struct store *st;

	(void)state;
	/* Batches of 3 samples, records of 2: a batch never takes part of one. */
	st = open_intake(path, 3);
	put_record(st, 1);
	put_record(st, 2);
	assert_int_equal(store_start(st, &cause), 0);
	/* The first batch is due (4 queued >= 3); the rest waits commit_ms. */
	wait_commits(st, 1);
	assert_mark_covers(path);
	assert_int_equal(store_intake_committed(st), 1);
	assert_int_equal(store_flush(st, 5000), 0);
	assert_mark_covers(path);
	assert_int_equal(store_intake_committed(st), 2);
	store_stop(st, 1000);
	store_close(st);

	/* A record larger than a batch is a batch of its own. */
	st = open_intake(path, 1);
	put_record(st, 3);
	assert_int_equal(store_start(st, &cause), 0);
	wait_commits(st, 1);
	assert_int_equal(store_intake_committed(st), 3);
	assert_mark_covers(path);
	store_stop(st, 1000);
	store_close(st);
	free(path);
}

static void test_locked(void **state)
{
	char *path = tpath("locked.db"), *cause = NULL;
	struct evs *es = util_calloc(1, sizeof(*es));
	const struct ev *e;
	struct store_stats ss;
	struct store *st;
	sqlite3 *other;

	(void)state;
	st = open_store(path, 10000, 100, 20);
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	sqlite3_busy_timeout(other, 5000); /* the writer's housekeeping may hold the lock */
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

	put_series(st, 1000, 50);
	wait_state(st, STORE_LOCKED, 5000);
	ss = stats(st);
	assert_non_null(strstr(ss.error, "locked"));
	assert_true(ss.since_us > 0);
	assert_int_equal(ss.written, 0);
	assert_int_equal(ss.queued, 50);
	/* A flush cannot succeed while the file is locked. */
	assert_int_equal(store_flush(st, 300), -1);
	put_series(st, 2000, 50);
	ss = stats(st);
	assert_int_equal(ss.queued, 100);
	assert_int_equal(ss.dropped, 0);
	assert_int_equal(ss.state, STORE_LOCKED);

	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	wait_state(st, STORE_OK, 10000);
	assert_int_equal(store_flush(st, 10000), 0);
	ss = stats(st);
	assert_int_equal(ss.written, 100);
	assert_int_equal(ss.dropped, 0);
	assert_string_equal(ss.error, "");
	store_stop(st, 1000);
	store_close(st);

	assert_int_equal(reader_count(path, &all), 100);
	read_events(path, &all, es);
	e = must_event(es, "store-error");
	assert_string_equal(e->source, "store");
	assert_non_null(strstr(e->text, "locked"));
	assert_non_null(strstr(e->text, "nothing written for"));
	assert_null(find_event(es, "drop"));
	free(es);
	free(path);
}

static void test_full(void **state)
{
	char *path = tpath("full.db"), *cause = NULL;
	struct evs *es = util_calloc(1, sizeof(*es));
	const struct ev *e;
	struct store_stats ss;
	struct store *st;

	(void)state;
	/* As small as the file already is: the first batch of samples needs
	 * new pages and cannot have them. */
	setenv("PHASOR_STORE_MAX_PAGES", "1", 1);
	st = open_store(path, 1500, 1000, 20);
	unsetenv("PHASOR_STORE_MAX_PAGES");
	put_series(st, 1000000, 1000);
	assert_int_equal(store_start(st, &cause), 0);
	wait_state(st, STORE_FULL, 5000);
	ss = stats(st);
	assert_non_null(strstr(ss.error, "full"));
	assert_int_equal(ss.written, 0);
	assert_int_equal(ss.queued, 1000);

	/* Meanwhile the queue fills: 500 fit, 300 are dropped. */
	put_series(st, 2000000, 800);
	ss = stats(st);
	assert_int_equal(ss.queued, 1500);
	assert_int_equal(ss.dropped, 300);
	assert_int_equal(ss.state, STORE_FULL);

	store_debug_set_max_pages(st, 1000000);
	wait_state(st, STORE_OK, 10000);
	assert_int_equal(store_flush(st, 10000), 0);
	ss = stats(st);
	assert_int_equal(ss.written, 1500);
	assert_int_equal(ss.dropped, 300);
	assert_int_equal(ss.queued, 0);
	store_stop(st, 1000);
	store_close(st);

	assert_int_equal(reader_count(path, &all), 1500);
	/* The dropped ones were the newest: times 2000500..2000799. */
	assert_int_equal(db_int(path, "SELECT max(t_us) FROM samples"), 2000499);
	read_events(path, &all, es);
	e = must_event(es, "store-error");
	assert_non_null(strstr(e->text, "disk full"));
	e = must_event(es, "drop");
	assert_non_null(strstr(e->text, "300 samples dropped"));
	assert_int_equal(e->t_us, 2000500);
	free(es);
	free(path);
}

/* Puts 40 samples (times 3000000..3000039) from inside the writer's first
 * committing transaction, while the queue is full: they are dropped then. */
struct in_flight {
	struct store *st;
	int calls;
};

static int drop_in_flight(void *ctx)
{
	struct in_flight *f = ctx;

	if (f->calls++ == 0)
		put_series(f->st, 3000000, 40);
	return 0;
}

/* The text of the n-th drop event (0: first), in seq order. */
static char *drop_text(const char *path, int n)
{
	char *sql = util_printf("SELECT text FROM events WHERE what = 'drop' ORDER BY seq"
				" LIMIT 1 OFFSET %d", n);
	char *t = db_text(path, sql);

	free(sql);
	return t;
}

/*
 * Every drop event names its own samples: those dropped while the writer
 * commits the previous drop event, and a second disk-full episode later,
 * each get their count and their own time range (issue 15 item 7).
 */
static void test_drop_ranges(void **state)
{
	char *path = tpath("drop-ranges.db"), *cause = NULL, *t;
	struct in_flight f = { NULL, 0 };
	struct store_stats ss;
	struct store *st;

	(void)state;
	setenv("PHASOR_STORE_MAX_PAGES", "1", 1);
	st = open_store(path, 1500, 1000, 20);
	unsetenv("PHASOR_STORE_MAX_PAGES");
	f.st = st;
	store_debug_on_commit(st, drop_in_flight, &f);
	put_series(st, 1000000, 1000);
	assert_int_equal(store_start(st, &cause), 0);
	wait_state(st, STORE_FULL, 5000);
	/* Episode 1: 500 fit, 300 dropped (times 2000500..2000799). */
	put_series(st, 2000000, 800);
	assert_int_equal(stats(st).dropped, 300);
	store_debug_set_max_pages(st, 1000000);
	wait_state(st, STORE_OK, 10000);
	assert_int_equal(store_flush(st, 10000), 0);
	/* 40 more were dropped inside the transaction that ended the outage. */
	assert_true(f.calls > 0);
	ss = stats(st);
	assert_int_equal(ss.dropped, 340);
	assert_int_equal(ss.written, 1500);

	/* Episode 2: no growth again; 1500 queue, 200 dropped (4001500..4001699). */
	store_debug_on_commit(st, NULL, NULL);
	store_debug_set_max_pages(st, 1);
	put_series(st, 4000000, 1000);
	wait_state(st, STORE_FULL, 5000);
	put_series(st, 4001000, 700);
	assert_int_equal(stats(st).dropped, 540);
	store_debug_set_max_pages(st, 1000000);
	wait_state(st, STORE_OK, 10000);
	assert_int_equal(store_flush(st, 10000), 0);
	ss = stats(st);
	assert_int_equal(ss.written, 3000);
	assert_int_equal(ss.dropped, 540);
	store_stop(st, 1000);
	store_close(st);

	assert_int_equal(reader_count(path, &all), 3000);
	assert_int_equal(db_int(path, "SELECT count(*) FROM events WHERE what = 'drop'"), 3);
	t = drop_text(path, 0);
	assert_string_equal(t, "300 samples dropped (memory queue full at 1500 samples); sample"
			       " times 1970-01-01T00:00:02.000Z to 1970-01-01T00:00:02.000Z");
	free(t);
	assert_int_equal(db_int(path, "SELECT t_us FROM events WHERE what = 'drop' ORDER BY seq"
				      " LIMIT 1"), 2000500);
	t = drop_text(path, 1);
	assert_string_equal(t, "40 samples dropped (memory queue full at 1500 samples); sample"
			       " times 1970-01-01T00:00:03.000Z to 1970-01-01T00:00:03.000Z");
	free(t);
	assert_int_equal(db_int(path, "SELECT t_us FROM events WHERE what = 'drop' ORDER BY seq"
				      " LIMIT 1 OFFSET 1"), 3000000);
	assert_int_equal(db_int(path, "SELECT t_us FROM events WHERE what = 'drop' ORDER BY seq"
				      " LIMIT 1 OFFSET 2"), 4001500);
	t = drop_text(path, 2);
	assert_non_null(strstr(t, "200 samples dropped"));
	free(t);
	free(path);
}

/* ---- a damaged buffer ---- */

/* The whole file (caller frees), its size in *len; NULL when missing. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = util_malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

/* The file at path still holds exactly the n bytes of before. */
static void assert_unchanged(const char *path, const char *before, size_t n)
{
	size_t n2;
	char *after = slurp(path, &n2);

	assert_int_equal(n2, n);
	assert_memory_equal(after, before, n);
	free(after);
}

/* Overwrite pages first..first+n-1 (4096 bytes each) with garbage, as a bad disk would. */
static void damage_pages(const char *path, long first, int n)
{
	unsigned char page[4096];
	uint32_t x = 2463534242u;
	FILE *f = fopen(path, "r+b");
	int p;
	size_t i;

	assert_non_null(f);
	for (p = 0; p < n; p++) {
		for (i = 0; i < sizeof(page); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			page[i] = (unsigned char)x;
		}
		assert_int_equal(fseek(f, (first + p) * 4096L, SEEK_SET), 0);
		assert_int_equal(fwrite(page, 1, sizeof(page), f), sizeof(page));
	}
	fclose(f);
}

/*
 * A buffer of 20000 samples in two sessions, one alarm row, closed; then
 * pages in the middle damaged. Its console id into id; *last_seq the
 * samples counter. Returns the file's page count.
 */
static long damaged_buffer(const char *path, char *id, size_t idsz, int64_t *last_seq)
{
	struct store_alarm_event e = {
		.t_us = 1000, .id = "c1:1", .origin = "c1", .alarm = "low-pf", .meter = "oven",
		.quantity = "pf", .priority = "high", .event = "raise", .state = "unack",
		.value = 0.81, .limit = 0.85, .raised_us = 1000,
	};
	char *cause = NULL;
	struct store *st;
	long pages;
	int k;

	for (k = 0; k < 2; k++) {
		st = open_store(path, 100000, 5000, 10);
		assert_int_equal(store_start(st, &cause), 0);
		/* recent times: the rows stay poll rows (an old window would be
		 * closed into a block at once), so half the file's pages are theirs */
		put_series(st, util_now_us() + k * 100000, 10000);
		if (k == 1)
			store_put_alarm_event(st, &e);
		assert_int_equal(store_flush(st, 10000), 0);
		util_strlcpy(id, store_console_id(st), idsz);
		store_stop(st, 1000);
		store_close(st);
	}
	*last_seq = db_int(path, "SELECT value FROM meta WHERE key = 'samples.last_seq'");
	assert_int_equal(*last_seq, 20000);
	/* MQTT intake marks of two journal slots (src/acquisition/intake.c). */
	db_exec(path, "INSERT INTO meta(key, value) VALUES('intake.0', 1234), ('intake.3', 77)");
	pages = (long)db_int(path, "PRAGMA page_count");
	assert_true(pages > 40);
	damage_pages(path, pages / 2, 4);
	return pages;
}

/* The file that path was moved to (caller frees), NULL when none. */
static char *find_moved(const char *path)
{
	const char *base = strrchr(path, '/') + 1;
	char *prefix = util_printf("%s.corrupt-", base), *found = NULL;
	size_t plen = strlen(prefix);
	struct dirent *d;
	DIR *dir = opendir(tmpdir);

	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);

		if (strncmp(d->d_name, prefix, plen) != 0 ||
		    (len > 4 && (strcmp(d->d_name + len - 4, "-wal") == 0 ||
				 strcmp(d->d_name + len - 4, "-shm") == 0)))
			continue;
		assert_null(found);
		found = util_printf("%s/%s", tmpdir, d->d_name);
	}
	closedir(dir);
	free(prefix);
	return found;
}

static int count_row(void *ctx, const struct store_row *r)
{
	(void)r;
	(*(size_t *)ctx)++;
	return 0;
}

/*
 * A buffer with damaged pages is never written to: it is moved aside byte
 * for byte, and a new file goes on with its console id, seq counters and
 * session numbers; the event and the notice name the moved file (issue 15
 * item 7). A reader of the moved file says it is damaged.
 */
static void test_damaged_replaced(void **state)
{
	char *path = tpath("damaged.db"), *cause = NULL, *before, *after, *moved, *t;
	struct store_alarm_event e = {
		.t_us = 2000, .id = "c1:2", .origin = "c1", .alarm = "low-pf", .meter = "oven",
		.quantity = "pf", .priority = "high", .event = "clear", .state = "normal",
		.value = 0.9, .limit = 0.85, .raised_us = 1000,
	};
	static const char notice[] = "damaged buffer moved to ";
	struct store_reader *r;
	size_t rows = 0;
	char id[96];
	int64_t last;
	size_t n1, n2;
	struct store *st;

	(void)state;
	damaged_buffer(path, id, sizeof(id), &last);
	before = slurp(path, &n1);
	assert_non_null(before);
	st = open_store(path, 1000, 100, 10);
	moved = find_moved(path);
	assert_non_null(moved);
	assert_int_equal(strncmp(store_open_notice(st), notice, strlen(notice)), 0);
	assert_string_equal(store_open_notice(st) + strlen(notice), moved);
	after = slurp(moved, &n2);
	assert_non_null(after);
	assert_int_equal(n2, n1);
	assert_memory_equal(after, before, n1);
	free(after);
	assert_string_equal(store_console_id(st), id);
	assert_int_equal(store_session_id(st), 3);
	assert_int_equal(store_start(st, &cause), 0);
	put_series(st, 5000000, 10);
	store_put_alarm_event(st, &e);
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);

	t = db_text(path, "PRAGMA quick_check");
	assert_string_equal(t, "ok");
	free(t);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 10);
	assert_int_equal(db_int(path, "SELECT min(seq) FROM samples"), last + 1);
	assert_int_equal(db_int(path, "SELECT max(seq) FROM samples"), last + 10);
	assert_int_equal(db_int(path, "SELECT seq FROM alarm_events WHERE id = 'c1:2'"), 2);
	assert_int_equal(db_int(path, "SELECT count(*) FROM sessions WHERE id IN (2, 3)"), 2);
	/* The intake journal's records up to the marks are in the damaged file. */
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'intake.0'"), 1234);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'intake.3'"), 77);
	t = db_text(path, "SELECT value FROM identity WHERE key = 'console_id'");
	assert_string_equal(t, id);
	free(t);
	t = db_text(path, "SELECT text FROM events WHERE what = 'buffer-replaced'");
	assert_non_null(strstr(t, " is damaged ("));
	assert_non_null(strstr(t, moved));
	assert_non_null(strstr(t, "same console id and seq counters"));
	free(t);

	/* The moved file reads up to its damaged part, then says so. */
	r = store_reader_open(moved, &cause);
	assert_non_null(r);
	assert_int_equal(store_reader_samples(r, &all, count_row, &rows, &cause), -1);
	assert_true(rows > 0 && rows < 20000);
	assert_non_null(strstr(cause, " is damaged (database disk image is malformed)"));
	assert_non_null(strstr(cause, "\"A damaged buffer\" in docs/buffer.md"));
	free(cause);
	store_reader_close(r);
	assert_unchanged(moved, before, n1);
	free(before);
	free(moved);
	free(path);
}

/*
 * While another connection has the damaged file open it is not moved (that
 * process would go on writing into it): refused, untouched. Once it is
 * closed, the next open moves it.
 */
static void test_damaged_in_use(void **state)
{
	char *path = tpath("damaged-in-use.db"), *cause = NULL, *before, *moved;
	sqlite3 *other;
	struct store *st;
	char id[96];
	int64_t last;
	size_t n1;

	(void)state;
	damaged_buffer(path, id, sizeof(id), &last);
	before = slurp(path, &n1);
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	sqlite3_busy_timeout(other, 5000); /* the writer's housekeeping may hold the lock */
	assert_int_equal(sqlite3_exec(other, "SELECT count(*) FROM meta", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_null(store_open(path, 1000, 100, 10, &cause));
	assert_non_null(strstr(cause, " is damaged ("));
	assert_non_null(strstr(cause, "phasor does not write into a damaged buffer, and another"
				      " process has it open"));
	free(cause);
	cause = NULL;
	assert_null(find_moved(path));
	assert_unchanged(path, before, n1);
	sqlite3_close(other);

	st = store_open(path, 1000, 100, 10, &cause);
	assert_non_null(st);
	moved = find_moved(path);
	assert_non_null(moved);
	assert_string_equal(store_console_id(st), id);
	store_close(st);
	assert_unchanged(moved, before, n1);
	free(before);
	free(moved);
	free(path);
}

/*
 * A truncated buffer: SQLite cannot read even its header, nor lock it, so
 * it cannot be moved safely: refused and left as it is, readers say it is
 * damaged.
 */
static void test_damaged_truncated(void **state)
{
	char *path = tpath("truncated.db"), *cause = NULL, *before;
	char id[96];
	int64_t last;
	long pages;
	size_t n1;

	(void)state;
	pages = damaged_buffer(path, id, sizeof(id), &last);
	assert_int_equal(truncate(path, pages / 2 * 4096 + 100), 0);
	before = slurp(path, &n1);
	assert_null(store_open(path, 1000, 100, 10, &cause));
	assert_non_null(strstr(cause, "truncated.db is damaged (database disk image is malformed);"
				      " phasor does not write into a damaged buffer, and SQLite"
				      " cannot even lock it"));
	free(cause);
	cause = NULL;
	assert_null(find_moved(path));
	assert_unchanged(path, before, n1);
	assert_null(store_reader_open(path, &cause));
	assert_non_null(strstr(cause, "truncated.db is damaged (database disk image is malformed);"
				      " see \"A damaged buffer\" in docs/buffer.md"));
	free(cause);
	free(before);
	free(path);
}

/*
 * The check at open is bounded in time (PHASOR_STORE_CHECK_MS; 0 here: it is
 * skipped, where a watchdog at 0 ms would race the check on a loaded
 * machine): the file is then used as it is, the damaged first leaves of a
 * 500000-sample file unseen.
 */
static void test_check_limit(void **state)
{
	char *path = tpath("unchecked.db"), *cause = NULL, id[96];
	struct store *st;
	long pages;

	(void)state;
	st = open_store(path, 600000, 5000, 10);
	assert_int_equal(store_start(st, &cause), 0);
	put_series(st, 1000000, 500000);
	assert_int_equal(store_flush(st, 20000), 0);
	util_strlcpy(id, store_console_id(st), sizeof(id));
	store_stop(st, 1000);
	store_close(st);
	pages = (long)db_int(path, "PRAGMA page_count");
	assert_true(pages > 1000);
	/* The check walks each b-tree from its last page: damage its first leaves. */
	damage_pages(path, 40, 3);

	setenv("PHASOR_STORE_CHECK_MS", "0", 1);
	st = store_open(path, 1000, 100, 10, &cause);
	unsetenv("PHASOR_STORE_CHECK_MS");
	assert_non_null(st);
	assert_string_equal(store_open_notice(st), "");
	assert_string_equal(store_console_id(st), id);
	store_close(st);
	assert_null(find_moved(path));
	/* Without the limit the same file is found damaged. */
	st = store_open(path, 1000, 100, 10, &cause);
	assert_non_null(st);
	assert_non_null(strstr(store_open_notice(st), "damaged buffer moved to "));
	store_close(st);
	free(path);
}

static void test_reader_filters(void **state)
{
	/* 2 meters x 2 quantities x 10 times (t = 0..9 s). */
	static const struct {
		const char *meter, *quantity;
		int64_t from_s, to_s; /* -1: no bound */
		size_t count;
		int64_t first_s, last_s;
	} cases[] = {
		{ NULL, NULL, -1, -1, 40, 0, 9 },
		{ "tgbt-1", NULL, -1, -1, 20, 0, 9 },
		{ "press-3", "p_total", -1, -1, 10, 0, 9 },
		{ NULL, "v_l1n", 3, 5, 4, 3, 4 },
		{ "tgbt-1", "v_l1n", 9, -1, 1, 9, 9 },
		{ NULL, NULL, -1, 1, 4, 0, 0 },
		{ NULL, NULL, 5, 5, 0, 0, 0 },
		{ "nope", NULL, -1, -1, 0, 0, 0 },
		{ NULL, "v_l2n", -1, -1, 0, 0, 0 }, /* known quantity, no samples */
		{ NULL, "volts", -1, -1, 0, 0, 0 },
		{ "we,ird \"x\"\nname", NULL, -1, -1, 0, 0, 0 }, /* registered, no samples */
	};
	char *path = tpath("filters.db"), *cause = NULL;
	struct rows *rs = util_calloc(1, sizeof(*rs));
	struct store *st;
	size_t i;
	int k;

	(void)state;
	st = open_store(path, 1000, 1000, 50);
	for (k = 0; k < 10; k++) {
		struct sample s[4] = {
			mk(k * 1000000LL, 0, QTY_V_L1N, k, 0),
			mk(k * 1000000LL, 0, QTY_P_TOTAL, k, 0),
			mk(k * 1000000LL, 1, QTY_V_L1N, k, 0),
			mk(k * 1000000LL, 1, QTY_P_TOTAL, k, 0),
		};

		store_put_samples(st, s, 4);
	}
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);

	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		struct store_filter f = {
			cases[i].meter,
			cases[i].quantity,
			cases[i].from_s < 0 ? INT64_MIN : cases[i].from_s * 1000000,
			cases[i].to_s < 0 ? INT64_MAX : cases[i].to_s * 1000000,
		};
		size_t j;

		read_rows(path, &f, rs);
		assert_int_equal(rs->n, cases[i].count);
		assert_int_equal(reader_count(path, &f), (int64_t)cases[i].count);
		if (rs->n == 0)
			continue;
		assert_int_equal(rs->r[0].t_us, cases[i].first_s * 1000000);
		assert_int_equal(rs->r[rs->n - 1].t_us, cases[i].last_s * 1000000);
		for (j = 0; j < rs->n; j++) {
			if (cases[i].meter != NULL)
				assert_string_equal(rs->r[j].meter, cases[i].meter);
			if (cases[i].quantity != NULL)
				assert_string_equal(rs->r[j].quantity, cases[i].quantity);
			if (j > 0)
				assert_true(rs->r[j].t_us > rs->r[j - 1].t_us ||
					    (rs->r[j].t_us == rs->r[j - 1].t_us &&
					     rs->r[j].seq > rs->r[j - 1].seq));
		}
	}
	/* The callback stops the walk. */
	rs->stop_after = 3;
	read_rows(path, &all, rs);
	assert_int_equal(rs->n, 3);
	free(rs);
	free(path);
}

static void test_reader_first_good(void **state)
{
	/* Rows at t (s), in insertion (seq) order. Quality 1 is bad. */
	static const struct {
		int t;
		unsigned meter, qty;
		double v;
		int quality;
	} rows[] = {
		{ 1, 0, QTY_E_IMP, 50, 0 },
		{ 1, 1, QTY_E_IMP, 60, 0 },
		{ 2, 0, QTY_E_IMP, NAN, 1 },   /* bad, NULL in the file */
		{ 2, 1, QTY_V_L1N, 230, 0 },   /* another quantity */
		{ 2, 0, QTY_P_TOTAL, 1000, 0 },
		{ 3, 1, QTY_E_IMP, 1e9, 1 },   /* bad, a sentinel kept as read */
		{ 4, 1, QTY_E_IMP, 700, 0 },   /* same time: seq orders */
		{ 4, 0, QTY_E_IMP, 200, 0 },
		{ 5, 0, QTY_E_IMP, 210, 0 },   /* m0's second: not reported */
		{ 5, 2, QTY_E_IMP, 900, 0 },
		{ 6, 1, QTY_E_IMP, 710, 0 },
	};
	/* Expected callbacks: meter index and value, in order. */
	static const struct {
		const char *quantity;
		int from_s;                    /* -1: INT64_MIN */
		int64_t max_rows;
		size_t stop_after;             /* fn returns 1 after this many; 0 never */
		size_t n;
		unsigned meter[3];
		double v[3];
		int t[3];
	} cases[] = {
		{ "e_imp", 2, -1, 0, 3, { 1, 0, 2 }, { 700, 200, 900 }, { 4, 4, 5 } },
		{ "e_imp", -1, -1, 0, 3, { 0, 1, 2 }, { 50, 60, 900 }, { 1, 1, 5 } },
		{ "e_imp", 5, -1, 0, 3, { 0, 2, 1 }, { 210, 900, 710 }, { 5, 5, 6 } },
		{ "e_imp", 7, -1, 0, 0, { 0 }, { 0 }, { 0 } },
		/* max_rows counts every row walked, of any quantity and quality:
		 * from 2 s, rows 3..6 hold nothing good of e_imp, the 5th is m1's. */
		{ "e_imp", 2, 0, 0, 0, { 0 }, { 0 }, { 0 } },
		{ "e_imp", 2, 4, 0, 0, { 0 }, { 0 }, { 0 } },
		{ "e_imp", 2, 5, 0, 1, { 1 }, { 700 }, { 4 } },
		{ "e_imp", 2, 6, 0, 2, { 1, 0 }, { 700, 200 }, { 4, 4 } },
		{ "e_imp", 2, 7, 0, 2, { 1, 0 }, { 700, 200 }, { 4, 4 } },
		{ "e_imp", 2, 8, 0, 3, { 1, 0, 2 }, { 700, 200, 900 }, { 4, 4, 5 } },
		/* the callback stops the walk */
		{ "e_imp", 2, -1, 1, 1, { 1 }, { 700 }, { 4 } },
		{ "e_imp", -1, -1, 2, 2, { 0, 1 }, { 50, 60 }, { 1, 1 } },
		{ "p_total", -1, -1, 0, 1, { 0 }, { 1000 }, { 2 } },
		{ "v_l2n", -1, -1, 0, 0, { 0 }, { 0 }, { 0 } }, /* known, no rows */
		{ "volts", -1, -1, 0, 0, { 0 }, { 0 }, { 0 } }, /* unknown quantity */
	};
	char *path = tpath("first_good.db"), *cause = NULL;
	struct rows *rs = util_calloc(1, sizeof(*rs));
	struct store_reader *r;
	struct store *st;
	size_t i, j;

	(void)state;
	st = open_store(path, 1000, 1000, 50);
	for (i = 0; i < UTIL_ARRAY_LEN(rows); i++) {
		struct sample s = mk(rows[i].t * 1000000LL, rows[i].meter, rows[i].qty, rows[i].v,
				     rows[i].quality);

		store_put_samples(st, &s, 1);
	}
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);

	r = store_reader_open(path, &cause);
	if (r == NULL)
		fail_msg("store_reader_open: %s", cause);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		int64_t from = cases[i].from_s < 0 ? INT64_MIN : cases[i].from_s * 1000000LL;

		rs->n = 0;
		rs->stop_after = cases[i].stop_after;
		if (store_reader_first_good(r, cases[i].quantity, from, cases[i].max_rows, collect,
					    rs, &cause) < 0)
			fail_msg("case %zu: %s", i, cause);
		if (rs->n != cases[i].n)
			fail_msg("case %zu: %zu rows, expected %zu", i, rs->n, cases[i].n);
		for (j = 0; j < rs->n; j++) {
			const struct row *o = &rs->r[j];

			assert_string_equal(o->meter, meters[cases[i].meter[j]].name);
			assert_string_equal(o->quantity, cases[i].quantity);
			assert_string_equal(o->unit, strcmp(cases[i].quantity, "e_imp") == 0 ? "Wh"
												: "W");
			assert_true(o->value == cases[i].v[j]);
			assert_int_equal(o->t_us, cases[i].t[j] * 1000000LL);
			assert_int_equal(o->quality, 0);
			assert_true(o->seq > 0);
			assert_true(o->session > 0);
		}
	}
	store_reader_close(r);
	free(rs);
	free(path);
}

static void test_events(void **state)
{
	char *path = tpath("events.db"), *cause = NULL;
	struct evs *es = util_calloc(1, sizeof(*es));
	struct store_filter f = all;
	int64_t sid;
	struct store *st;

	(void)state;
	st = open_store(path, 1000, 1000, 50);
	sid = store_session_id(st);
	assert_int_equal(store_start(st, &cause), 0);
	store_put_event(st, 2000, 0, "modbus", "connect", "10.0.0.21:502 up");
	store_put_event(st, 1000, -1, "mqtt", "disconnect", NULL);
	store_put_event(st, 3000, 1, "mqtt", "error", "bad payload");
	store_put_event(st, 3000, 57, "mqtt", "error", "meter out of range");
	assert_int_equal(store_flush(st, 5000), 0);
	assert_int_equal(stats(st).events_written, 4);
	assert_int_equal(stats(st).events_dropped, 0);
	store_stop(st, 1000);
	store_close(st);

	read_events(path, &all, es);
	assert_int_equal(es->n, 4);
	assert_int_equal(es->e[0].t_us, 1000);
	assert_false(es->e[0].has_meter);
	assert_string_equal(es->e[0].source, "mqtt");
	assert_string_equal(es->e[0].what, "disconnect");
	assert_string_equal(es->e[0].text, "");
	assert_int_equal(es->e[0].session, sid);
	assert_int_equal(es->e[1].t_us, 2000);
	assert_string_equal(es->e[1].meter, "tgbt-1");
	assert_string_equal(es->e[1].text, "10.0.0.21:502 up");
	assert_int_equal(es->e[2].t_us, 3000);
	assert_string_equal(es->e[2].meter, "press-3");
	assert_string_equal(es->e[2].what, "error");
	/* An unknown meter index is kept as "no meter". */
	assert_false(es->e[3].has_meter);
	assert_string_equal(es->e[3].text, "meter out of range");
	assert_int_equal(db_int(path, "SELECT count(*) FROM events WHERE text IS NULL"), 1);

	f.meter = "press-3";
	read_events(path, &f, es);
	assert_int_equal(es->n, 1);
	assert_string_equal(es->e[0].text, "bad payload");
	f = all;
	f.from_us = 2000;
	f.to_us = 3000;
	read_events(path, &f, es);
	assert_int_equal(es->n, 1);
	assert_string_equal(es->e[0].what, "connect");
	free(es);
	free(path);
}

/* ---- comm changes (schema 4) ---- */

/* Comm rows as "METER STATUS ERROR @TIME|...", TIME "start", "end" or us after t0. */
struct comms {
	char text[2048];
	int n;
	int64_t t0, start, end;
};

static int collect_comm(void *ctx, const struct store_comm_row *c)
{
	struct comms *cs = ctx;
	size_t len = strlen(cs->text);
	int64_t dt = c->t_us - cs->t0;

	cs->n++;
	if (c->t_us == cs->start || c->t_us == cs->end)
		snprintf(cs->text + len, sizeof(cs->text) - len, "%s %d %s @%s|", c->meter,
			 c->status, c->error[0] ? c->error : "-",
			 c->t_us == cs->start ? "start" : "end");
	else
		snprintf(cs->text + len, sizeof(cs->text) - len, "%s %d %s @%" PRId64 "|", c->meter,
			 c->status, c->error[0] ? c->error : "-", dt);
	return 0;
}

/* The rows of f; start and end: session session's. */
static void read_comms(const char *path, const struct store_filter *f, int64_t t0, int session,
		       struct comms *cs)
{
	struct store_reader *r;
	char *cause = NULL, sql[96];

	memset(cs, 0, sizeof(*cs));
	cs->t0 = t0;
	snprintf(sql, sizeof(sql), "SELECT start_us FROM sessions WHERE id = %d", session);
	cs->start = db_int(path, sql);
	snprintf(sql, sizeof(sql), "SELECT coalesce(end_us, -1) FROM sessions WHERE id = %d",
		 session);
	cs->end = db_int(path, sql);
	r = store_reader_open(path, &cause);
	if (r == NULL)
		fail_msg("store_reader_open: %s", cause);
	if (store_reader_comm_changes(r, f, collect_comm, cs, &cause) < 0)
		fail_msg("store_reader_comm_changes: %s", cause);
	store_reader_close(r);
}

/* store_reader_comm_at on a fresh reader: its return value, *out filled. */
static int comm_at(const char *path, const char *meter, int64_t t_us,
		   struct store_comm_state *out)
{
	struct store_reader *r;
	char *cause = NULL;
	int rc;

	r = store_reader_open(path, &cause);
	if (r == NULL)
		fail_msg("store_reader_open: %s", cause);
	rc = store_reader_comm_at(r, meter, t_us, out, &cause);
	if (rc < 0)
		fail_msg("store_reader_comm_at: %s", cause);
	store_reader_close(r);
	return rc;
}

static void test_comm_changes(void **state)
{
	char *path = tpath("comm.db"), *cause = NULL;
	struct store_filter f = all;
	struct store_comm_state cs;
	struct comms rows;
	struct store *st;
	int64_t t0, sid, start, end;

	(void)state;
	st = open_store(path, 1000, 1000, 50);
	sid = store_session_id(st);
	start = db_int(path, "SELECT start_us FROM sessions ORDER BY id DESC LIMIT 1");
	t0 = start + 1;
	assert_int_equal(store_start(st, &cause), 0);
	store_put_comm_change(st, t0 + 10, 0, 1, "");
	store_put_comm_change(st, t0 + 15, 1, 1, NULL);
	store_put_comm_change(st, t0 + 20, 0, 3, "timeout after 300 ms reading 56 registers at 1");
	store_put_comm_change(st, t0 + 30, 0, 1, "");
	store_put_comm_change(st, t0 + 40, 7, 3, "meter index out of range: ignored");
	assert_int_equal(store_flush(st, 5000), 0);
	assert_int_equal(stats(st).comms_written, 4);
	assert_int_equal(stats(st).comms_dropped, 0);
	assert_int_equal(stats(st).comms_queued, 0);
	util_sleep_ms(2); /* so that the session ends after t0 + 40 */
	store_stop(st, 1000);
	store_close(st);
	end = db_int(path, "SELECT end_us FROM sessions ORDER BY id DESC LIMIT 1");
	assert_true(end > t0 + 40);

	/* The session opens with "unknown" for every meter and closes with it
	 * for the meters whose state was known; in (t_us, seq) order. */
	read_comms(path, &all, t0, 1, &rows);
	assert_string_equal(rows.text,
			    "tgbt-1 0 - @start|press-3 0 - @start|we,ird \"x\"\nname 0 - @start|"
			    "tgbt-1 1 - @10|press-3 1 - @15|"
			    "tgbt-1 3 timeout after 300 ms reading 56 registers at 1 @20|"
			    "tgbt-1 1 - @30|tgbt-1 0 - @end|press-3 0 - @end|");
	assert_int_equal(db_int(path, "SELECT count(*) FROM comm_changes WHERE session_id = 1"), 9);
	assert_int_equal(sid, 1);
	assert_int_equal(db_int(path, "SELECT count(*) FROM comm_changes WHERE error IS NULL"), 8);
	assert_int_equal(db_int(path, "SELECT count(DISTINCT t_us) FROM comm_changes"
				      " WHERE status = 0 AND t_us IN (SELECT start_us FROM sessions"
				      " UNION SELECT end_us FROM sessions)"), 2);

	/* Filters: a meter, a time range [from, to). */
	f.meter = "tgbt-1";
	f.from_us = t0 + 20;
	f.to_us = t0 + 30;
	read_comms(path, &f, t0, 1, &rows);
	assert_string_equal(rows.text,
			    "tgbt-1 3 timeout after 300 ms reading 56 registers at 1 @20|");
	f.meter = "no-such-meter";
	read_comms(path, &f, t0, 1, &rows);
	assert_int_equal(rows.n, 0);

	/* "Was tgbt-1 up at T": the latest change at or before T. */
	assert_int_equal(comm_at(path, "tgbt-1", start - 1, &cs), 0);
	assert_int_equal(cs.status, 0);
	assert_int_equal(cs.since_us, 0);
	assert_int_equal(comm_at(path, "tgbt-1", start, &cs), 1);
	assert_int_equal(cs.status, 0);
	assert_int_equal(cs.since_us, start);
	assert_int_equal(cs.session, sid);
	assert_int_equal(comm_at(path, "tgbt-1", t0 + 19, &cs), 1);
	assert_int_equal(cs.status, 1);
	assert_int_equal(cs.since_us, t0 + 10);
	assert_string_equal(cs.error, "");
	assert_int_equal(comm_at(path, "tgbt-1", t0 + 20, &cs), 1);
	assert_int_equal(cs.status, 3);
	assert_string_equal(cs.error, "timeout after 300 ms reading 56 registers at 1");
	assert_int_equal(comm_at(path, "tgbt-1", t0 + 29, &cs), 1);
	assert_int_equal(cs.status, 3);
	assert_int_equal(cs.since_us, t0 + 20);
	assert_int_equal(comm_at(path, "tgbt-1", t0 + 30, &cs), 1);
	assert_int_equal(cs.status, 1);
	/* After the session: nobody watched it, unknown. */
	assert_int_equal(comm_at(path, "tgbt-1", end + 3600000000LL, &cs), 1);
	assert_int_equal(cs.status, 0);
	assert_int_equal(cs.since_us, end);
	/* A meter that never answered stays unknown all session. */
	assert_int_equal(comm_at(path, m2_name, t0 + 30, &cs), 1);
	assert_int_equal(cs.status, 0);
	assert_int_equal(cs.since_us, start);
	assert_int_equal(comm_at(path, "no-such-meter", t0 + 30, &cs), 0);
	assert_int_equal(cs.status, 0);

	/* The next session starts from unknown again, whatever the last one
	 * said (here: a crash leaves no closing row). */
	db_exec(path, "DELETE FROM comm_changes WHERE t_us = (SELECT max(t_us) FROM comm_changes)");
	assert_int_equal(comm_at(path, "tgbt-1", end + 1, &cs), 1);
	assert_int_equal(cs.status, 1);
	st = open_store(path, 1000, 1000, 50);
	store_close(st);
	start = db_int(path, "SELECT start_us FROM sessions ORDER BY id DESC LIMIT 1");
	assert_int_equal(comm_at(path, "tgbt-1", start, &cs), 1);
	assert_int_equal(cs.status, 0);
	assert_int_equal(cs.session, 2);
	free(path);
}

/* Load a dumped buffer (tests/data/buffer-vN.sql) into a new file at path. */
static void load_fixture(const char *path, const char *file)
{
	size_t len;
	char *sql = util_read_file(test_path(file), 1 << 22, &len);
	sqlite3 *db;

	if (sql == NULL)
		fail_msg("cannot read %s", file);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("loading %s: %s", file, sqlite3_errmsg(db));
	sqlite3_close(db);
	free(sql);
}

/* The fixtures' two meters m1 and m2 (tests/data/make-buffer-v*.sh). */
static char fx_name1[] = "m1", fx_name2[] = "m2", fx_prof[] = "pac3200", fx_host[] = "127.0.0.1";
static struct config_meter fx_meters[2];
static struct config fx_cfg;

/* The fixture at path opened by the writer as phasor record does: its
 * console id kept, session 2 begun, the writer started. */
static struct store *open_fixture(const char *path, const char *console_id)
{
	char *cause = NULL;
	struct store *st;

	memset(fx_meters, 0, sizeof(fx_meters));
	fx_meters[0].name = fx_name1;
	fx_meters[1].name = fx_name2;
	for (int i = 0; i < 2; i++) {
		fx_meters[i].driver = DRIVER_MODBUS;
		fx_meters[i].profile_name = fx_prof;
		fx_meters[i].host = fx_host;
		fx_meters[i].port = 502;
		fx_meters[i].unit = i + 1;
	}
	memset(&fx_cfg, 0, sizeof(fx_cfg));
	fx_cfg.text = cfg_text;
	fx_cfg.meters = fx_meters;
	fx_cfg.nmeters = 2;
	st = store_open(path, 1000, 1000, 50, &cause);
	if (st == NULL)
		fail_msg("store_open: %s", cause);
	assert_string_equal(store_console_id(st), console_id);
	assert_int_equal(store_register_meters(st, &fx_cfg, &cause), 0);
	assert_int_equal(store_begin_session(st, &fx_cfg, "record", &cause), 0);
	assert_int_equal(store_session_id(st), 2);
	assert_int_equal(store_start(st, &cause), 0);
	return st;
}

/*
 * A real version-3 buffer (tests/data/buffer-v3.sql: recorded by the
 * phasor of commit de753ee, see tests/data/make-buffer-v3.sh) opened by
 * this store: migrated to 4 with every old row as it was, its comm history
 * made once from the "status" events, and new comm changes written.
 */
static void test_migrate_real_v3(void **state)
{
	/* The status events' times, after the session's start (1796279466715371). */
	static const char *const expect_backfill =
	    "m1 0 - @start|m2 0 - @start|m1 1 - @1705|m2 1 - @501316|"
	    "m2 2 timeout after 300 ms reading 56 registers at 1 @2801570|"
	    "m2 3 timeout after 300 ms reading 56 registers at 1 @4801501|m2 1 - @6501757|"
	    "m1 0 - @end|m2 0 - @end|";
	char *path = tpath("v3.db"), *cause = NULL, *got;
	struct store_filter f = all;
	struct store_comm_state cs;
	struct store_reader *r;
	struct comms rows;
	struct store *st;
	int64_t t_down, t_ok, start1, end1;

	(void)state;
	load_fixture(path, "tests/data/buffer-v3.sql");
	assert_int_equal(db_int(path, "PRAGMA user_version"), 3);

	/* Read as it is, a v3 file has no comm changes (readers never migrate). */
	r = store_reader_open(path, &cause);
	assert_non_null(r);
	assert_int_equal(store_reader_count(r, &all, &cause), 540);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_reader_comm_changes(r, &all, collect_comm, &rows, &cause), 0);
	assert_int_equal(rows.n, 0);
	assert_int_equal(store_reader_comm_at(r, "m2", INT64_MAX, &cs, &cause), 0);
	assert_int_equal(cs.status, 0);
	store_reader_close(r);

	/* Opened by the writer, as phasor record does, with the same meters. */
	st = open_fixture(path, "vm-f33010e0");
	t_down = util_now_us();
	t_ok = t_down + 1000;
	store_put_comm_change(st, t_down, 1, 3, "connect: Connection refused");
	store_put_comm_change(st, t_ok, 1, 1, "");
	{
		struct sample s = mk(t_ok, 0, QTY_V_L1N, 231.25, 0);

		store_put_samples(st, &s, 1);
	}
	assert_int_equal(store_flush(st, 5000), 0);
	util_sleep_ms(5); /* so that the session ends after t_ok */
	store_stop(st, 1000);
	store_close(st);

	/* Schema 6 (4 -> 5 and 5 -> 6 add tables only); every old row intact. */
	assert_int_equal(db_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(db_int(path, "PRAGMA application_id"), 0x50485352);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE session_id = 1"), 540);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE meter_id = 2"), 180);
	assert_int_equal(db_int(path, "SELECT count(*) FROM events WHERE session_id = 1"), 6);
	assert_int_equal(db_int(path, "SELECT count(*) FROM alarm_events"), 23);
	assert_int_equal(db_int(path, "SELECT count(*) FROM meters"), 2);
	assert_int_equal(db_int(path, "SELECT count(*) FROM quantities"), QTY__COUNT);
	assert_int_equal(db_int(path, "SELECT t_us FROM samples WHERE seq = 1"), 1796279466716930LL);
	assert_int_equal(db_int(path, "SELECT value = 230.8575439453125 AND qty_id = 0 AND"
				      " meter_id = 1 FROM samples WHERE seq = 1"), 1);
	assert_int_equal(db_int(path, "SELECT value = 0.0 AND qty_id = 36 FROM samples"
				      " WHERE seq = 540"), 1);
	got = db_text(path, "SELECT text FROM events WHERE seq = 5");
	assert_string_equal(got, "stale -> down: timeout after 300 ms reading 56 registers at 1");
	free(got);
	got = db_text(path, "SELECT id || ' ' || event || ' ' || state FROM alarm_events"
			    " WHERE seq = 1");
	assert_string_equal(got, "vm-f33010e0:661b4e7d43a19.1 raise unack");
	free(got);
	/* The seq counters go on from the old file's. */
	assert_int_equal(db_int(path, "SELECT seq FROM samples WHERE session_id = 2"), 541);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'samples.last_seq'"), 541);

	/* Session 1's comm history, made from its status events: same times. */
	start1 = db_int(path, "SELECT start_us FROM sessions WHERE id = 1");
	end1 = db_int(path, "SELECT end_us FROM sessions WHERE id = 1");
	assert_int_equal(start1, 1796279466715371LL);
	f.to_us = end1 + 1;
	read_comms(path, &f, start1, 1, &rows);
	assert_int_equal(rows.n, 9);
	assert_string_equal(rows.text, expect_backfill);
	assert_int_equal(db_int(path, "SELECT count(*) FROM comm_changes c JOIN events e"
				      " ON e.t_us = c.t_us AND e.meter_id = c.meter_id"
				      " WHERE e.what = 'status' AND c.session_id = 1"), 5);
	assert_int_equal(comm_at(path, "m2", db_int(path, "SELECT t_us FROM events WHERE seq = 5"),
				 &cs), 1);
	assert_int_equal(cs.status, 3);
	assert_string_equal(cs.error, "timeout after 300 ms reading 56 registers at 1");
	assert_int_equal(cs.session, 1);

	/* Session 2: its own rows, new ones through the writer. */
	f = all;
	f.meter = "m2";
	f.from_us = db_int(path, "SELECT start_us FROM sessions WHERE id = 2");
	read_comms(path, &f, t_down, 2, &rows);
	assert_string_equal(rows.text, "m2 0 - @start|m2 3 connect: Connection refused @0|"
				       "m2 1 - @1000|m2 0 - @end|");
	assert_int_equal(comm_at(path, "m2", t_down + 999, &cs), 1);
	assert_int_equal(cs.status, 3);
	assert_int_equal(cs.session, 2);
	assert_int_equal(comm_at(path, "m1", t_ok, &cs), 1);
	assert_int_equal(cs.status, 0);
	free(path);
}

/* A forecast of n intervals from t0 (step 15 min), values base + k. */
static void mk_forecast(struct store_forecast *f, int64_t made, const char *meter, int64_t t0,
			size_t n, double base)
{
	static int64_t t[8];
	static double v[5][8];

	assert_true(n <= 8);
	memset(f, 0, sizeof(*f));
	f->made_us = made;
	f->meter = (char *)meter;
	f->method = (char *)"dshw";
	f->step_us = 900 * INT64_C(1000000);
	f->took_us = 1234;
	f->n = n;
	for (size_t k = 0; k < n; k++) {
		t[k] = t0 + (int64_t)k * f->step_us;
		v[0][k] = base + (double)k;
		v[1][k] = base + (double)k - 10;
		v[2][k] = base + (double)k + 10;
		v[3][k] = k == 1 ? NAN : base + (double)k - 20;
		v[4][k] = k == 1 ? NAN : base + (double)k + 20;
	}
	f->t_us = t;
	f->point = v[0];
	f->lo80 = v[1];
	f->hi80 = v[2];
	f->lo95 = v[3];
	f->hi95 = v[4];
}

static struct store_forecast read_at(const char *path, const char *meter, int64_t t_us, int want)
{
	struct store_forecast f;
	char *cause = NULL;
	struct store_reader *r = store_reader_open(path, &cause);

	assert_non_null(r);
	assert_int_equal(store_reader_forecast_at(r, meter, t_us, &f, &cause), want);
	store_reader_close(r);
	return f;
}

/* Forecasts go through the writer, one row per interval, and are read
 * back as they were current at an instant, and per interval as expected. */
static void test_forecasts(void **state)
{
	const int64_t h = 3600 * INT64_C(1000000), q = h / 4;
	const int64_t day = INT64_C(1796256000000000); /* a midnight UTC */
	char *path = tpath("forecasts.db"), *cause = NULL, *got;
	struct store *st;
	struct store_forecast f;
	struct store_reader *r;
	struct store_seqs seqs;

	(void)state;
	st = open_store(path, 1000, 1000, 20);
	assert_int_equal(store_start(st, &cause), 0);
	mk_forecast(&f, day - h, "", day, 8, 1000);
	store_put_forecast(st, &f);
	mk_forecast(&f, day - h, "press-3", day, 4, 50);
	store_put_forecast(st, &f);
	/* a new run at 01:00, from 01:00 */
	mk_forecast(&f, day + h, "", day + h, 8, 2000);
	store_put_forecast(st, &f);
	assert_int_equal(store_flush(st, 5000), 0);
	assert_int_equal(stats(st).forecasts_written, 3);
	store_stop(st, 1000);
	store_close(st);

	assert_int_equal(db_int(path, "SELECT count(*) FROM forecasts"), 20);
	assert_int_equal(db_int(path, "SELECT count(*) FROM forecasts WHERE meter = ''"), 16);
	assert_int_equal(db_int(path, "SELECT count(*) FROM forecasts WHERE lower95 IS NULL"), 3);
	got = db_text(path, "SELECT made_us || ' ' || method || ' ' || t_us || ' ' || step_s || ' '"
			    " || forecast || ' ' || lower80 || ' ' || coalesce(upper95, '-') || ' ' || took_us"
			    " FROM forecasts WHERE meter = 'press-3' AND t_us = 1796256900000000");
	assert_string_equal(got, "1796252400000000 dshw 1796256900000000 900 51.0 41.0 - 1234");
	free(got);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'sync.forecasts_seq'"), 0);

	/* Before the first: none. At 00:59: the first run, all of it. */
	f = read_at(path, "", day - h - 1, 0);
	store_forecast_free(&f);
	f = read_at(path, "", day + h - 1, 1);
	assert_int_equal(f.made_us, day - h);
	assert_string_equal(f.method, "dshw");
	assert_string_equal(f.meter, "");
	assert_int_equal(f.n, 8);
	assert_int_equal(f.step_us, q);
	assert_int_equal(f.took_us, 1234);
	assert_int_equal(f.t_us[0], day);
	assert_int_equal(f.t_us[7], day + 7 * q);
	assert_true(f.point[7] == 1007 && f.lo80[7] == 997 && f.hi80[7] == 1017);
	assert_true(f.lo95[7] == 987 && f.hi95[7] == 1027);
	assert_true(isnan(f.lo95[1]) && isnan(f.hi95[1]));
	store_forecast_free(&f);
	/* From 01:00 on: the second. */
	f = read_at(path, "", day + h, 1);
	assert_int_equal(f.made_us, day + h);
	assert_true(f.point[0] == 2000);
	store_forecast_free(&f);
	f = read_at(path, "press-3", INT64_MAX, 1);
	assert_int_equal(f.n, 4);
	assert_true(f.point[3] == 53);
	store_forecast_free(&f);
	f = read_at(path, "nobody", INT64_MAX, 0);
	store_forecast_free(&f);

	/* What was expected of each interval: 00:00-00:45 from the first run
	 * (the second did not exist yet), 01:00 on from the second. */
	r = store_reader_open(path, &cause);
	assert_non_null(r);
	assert_int_equal(store_reader_forecast_past(r, "", day, day + 3 * h, &f, &cause), 0);
	assert_int_equal(f.n, 12);
	assert_int_equal(f.t_us[0], day);
	assert_true(f.point[0] == 1000 && f.point[3] == 1003);
	assert_int_equal(f.t_us[4], day + h);
	assert_true(f.point[4] == 2000 && f.point[11] == 2007);
	assert_int_equal(f.step_us, q);
	store_forecast_free(&f);
	assert_int_equal(store_reader_last_seqs(r, &seqs, &cause), 0);
	assert_int_equal(seqs.forecasts, 20);
	store_reader_close(r);
	free(path);
}

/*
 * A real version-5 buffer (tests/data/buffer-v5.sql: recorded by the
 * phasor of commit 1f058bf, see tests/data/make-buffer-v5.sh) opened by
 * this store: migrated to 6 with every old row as it was, and forecasts
 * written into the new table.
 */
static void test_migrate_real_v5(void **state)
{
	char *path = tpath("v5.db"), *cause = NULL, *got;
	struct store_forecast f;
	struct store_reader *r;
	struct store *st;
	int64_t now;

	(void)state;
	load_fixture(path, "tests/data/buffer-v5.sql");
	assert_int_equal(db_int(path, "PRAGMA user_version"), 5);
	/* Read as it is (readers never migrate): no forecasts, no error. */
	r = store_reader_open(path, &cause);
	assert_non_null(r);
	assert_int_equal(store_reader_count(r, &all, &cause), 540);
	assert_int_equal(store_reader_forecast_at(r, "", INT64_MAX, &f, &cause), 0);
	store_forecast_free(&f);
	assert_int_equal(store_reader_forecast_past(r, "", 0, INT64_MAX, &f, &cause), 0);
	assert_int_equal(f.n, 0);
	store_forecast_free(&f);
	store_reader_close(r);

	st = open_fixture(path, "vm-a6f93e80");
	now = util_now_us();
	mk_forecast(&f, now, "m1", now - now % (900 * INT64_C(1000000)), 8, 500);
	store_put_forecast(st, &f);
	assert_int_equal(store_flush(st, 5000), 0);
	store_stop(st, 1000);
	store_close(st);

	assert_int_equal(db_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	assert_int_equal(db_int(path, "PRAGMA application_id"), 0x50485352);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE session_id = 1"), 540);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE meter_id = 2"), 180);
	assert_int_equal(db_int(path, "SELECT count(*) FROM alarm_events"), 1);
	assert_int_equal(db_int(path, "SELECT count(*) FROM events WHERE session_id = 1"), 5);
	assert_int_equal(db_int(path, "SELECT count(*) FROM comm_changes WHERE session_id = 1"), 8);
	assert_int_equal(db_int(path, "SELECT count(*) FROM recorder_status"), 1);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'samples.last_seq'"), 540);
	assert_int_equal(db_int(path, "SELECT value FROM meta WHERE key = 'sync.forecasts_seq'"), 0);
	got = db_text(path, "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master"
			    " WHERE type = 'index' AND tbl_name = 'forecasts' ORDER BY name)");
	assert_string_equal(got, "forecasts_meter_made forecasts_meter_t");
	free(got);
	f = read_at(path, "m1", INT64_MAX, 1);
	assert_int_equal(f.n, 8);
	assert_true(f.point[2] == 502);
	store_forecast_free(&f);
	free(path);
}

/* ---- phasor export ---- */

/*
 * Run cmd_export with stdout and stderr sent to files (or out_fd for
 * stdout when >= 0); returns the exit status, *out and *err the texts.
 */
static int run_cmd(int (*cmd)(int, char **), char **argv, int argc, int out_fd, char **out,
		   char **err)
{
	char *opath = tpath("export.out"), *epath = tpath("export.err");
	int ofd, efd, save1, save2, status;
	size_t len;

	fflush(stdout);
	fflush(stderr);
	ofd = out_fd >= 0 ? out_fd : open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	efd = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	save1 = dup(1);
	save2 = dup(2);
	dup2(ofd, 1);
	dup2(efd, 2);
	status = cmd(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	clearerr(stdout);
	if (out_fd < 0)
		close(ofd);
	close(efd);
	*out = util_read_file(opath, 1 << 20, &len);
	*err = util_read_file(epath, 1 << 20, &len);
	if (*out == NULL || *err == NULL)
		fail_msg("reading the command's output");
	free(opath);
	free(epath);
	return status;
}

static int run_export(char **argv, int argc, int out_fd, char **out, char **err)
{
	return run_cmd(cmd_export, argv, argc, out_fd, out, err);
}

/* A buffer with values whose text forms are known. */
static char *make_export_db(void)
{
	char *path = tpath("export.db"), *cause = NULL;
	int64_t t0;
	struct store *st;

	if (access(path, F_OK) == 0)
		return path;
	assert_int_equal(util_parse_time("2026-11-22T14:03:05.123Z", 0, &t0), 0);
	st = open_store(path, 1000, 1000, 50);
	{
		struct sample s[] = {
			mk(t0, 0, QTY_V_L1N, 231.5, 0),
			mk(t0 + 1000, 0, QTY_V_L1N, 0.1, 0),
			mk(t0 + 2000, 0, QTY_V_L1N, 1.0 / 3.0, 0),
			mk(t0 + 3000, 0, QTY_V_L1N, 0.1 + 0.2, 0),
			mk(t0 + 4000, 0, QTY_V_L1N, NAN, 1),
			mk(t0 + 5000, 2, QTY_P_TOTAL, -0.0, 0),
			mk(t0 + 6000, 2, QTY_P_TOTAL, INFINITY, 1),
			mk(t0 + 7000, 2, QTY_P_TOTAL, -INFINITY, 1),
			mk(t0 + 8000, 1, QTY_E_IMP, 1e-300, 0),
			mk(t0 + 9000, 1, QTY_E_IMP, 123456789012345680.0, 1),
			mk(t0 + 3600000000LL, 1, QTY_FREQ, 50.0, 0),
		};

		store_put_samples(st, s, UTIL_ARRAY_LEN(s));
	}
	assert_int_equal(store_start(st, &cause), 0);
	store_stop(st, 5000);
	store_close(st);
	return path;
}

static void test_export_csv(void **state)
{
	static const char expect[] =
	    "time,meter,quantity,value,unit,quality\n"
	    "2026-11-22T14:03:05.123Z,tgbt-1,v_l1n,231.5,V,good\n"
	    "2026-11-22T14:03:05.124Z,tgbt-1,v_l1n,0.1,V,good\n"
	    "2026-11-22T14:03:05.125Z,tgbt-1,v_l1n,0.3333333333333333,V,good\n"
	    "2026-11-22T14:03:05.126Z,tgbt-1,v_l1n,0.30000000000000004,V,good\n"
	    "2026-11-22T14:03:05.127Z,tgbt-1,v_l1n,nan,V,bad\n"
	    "2026-11-22T14:03:05.128Z,\"we,ird \"\"x\"\"?name\",p_total,-0,W,good\n"
	    "2026-11-22T14:03:05.129Z,\"we,ird \"\"x\"\"?name\",p_total,inf,W,bad\n"
	    "2026-11-22T14:03:05.130Z,\"we,ird \"\"x\"\"?name\",p_total,-inf,W,bad\n"
	    "2026-11-22T14:03:05.131Z,press-3,e_imp,1e-300,Wh,good\n"
	    "2026-11-22T14:03:05.132Z,press-3,e_imp,1.2345678901234568e+17,Wh,bad\n"
	    "2026-11-22T15:03:05.123Z,press-3,freq,50,Hz,good\n";
	char *db = make_export_db(), *out, *err;
	char *argv[] = { (char *)"export", (char *)"--db", db, NULL };

	(void)state;
	assert_int_equal(run_export(argv, 3, -1, &out, &err), 0);
	assert_string_equal(out, expect);
	assert_string_equal(err, "");
	free(out);
	free(err);
	free(db);
}

static void test_export_options(void **state)
{
	static const struct {
		const char *args[8];
		int status;
		const char *out;  /* exact stdout, or NULL: not checked */
		const char *err;  /* substring of stderr ("@": the db path) */
		bool usage;       /* the usage text follows the error */
	} cases[] = {
		{ { "--db", "@", "--meter", "press-3", "--quantity", "freq" }, 0,
		  "time,meter,quantity,value,unit,quality\n"
		  "2026-11-22T15:03:05.123Z,press-3,freq,50,Hz,good\n", "", false },
		{ { "--db", "@", "--from", "2026-11-22T14:03:05.131Z", "--to",
		    "2026-11-22T15:00:00Z" }, 0,
		  "time,meter,quantity,value,unit,quality\n"
		  "2026-11-22T14:03:05.131Z,press-3,e_imp,1e-300,Wh,good\n"
		  "2026-11-22T14:03:05.132Z,press-3,e_imp,1.2345678901234568e+17,Wh,bad\n", "",
		  false },
		{ { "--db", "@", "--meter", "tgbt-1", "--quantity", "v_l1n", "--format", "jsonl" }, 0,
		  NULL, "", false },
		{ { "--db", "@", "--quantity", "v_l2n" }, 0,
		  "time,meter,quantity,value,unit,quality\n", "", false },
		{ { "--db", "@", "--meter", "tgbt-2" }, 2, "",
		  "no such meter in @: 'tgbt-2' (did you mean 'tgbt-1'?); meters: tgbt-1, press-3, "
		  "we,ird \"x\"?name\n", false },
		{ { "--db", "@", "--quantity", "v_l1" }, 2, "", "did you mean 'v_l1n'?", false },
		{ { "--db", "@", "--quantity", "v_l1" }, 2, "", "; quantities: v_l1n, v_l2n,", false },
		{ { "--db", "@", "--from", "tomorrow" }, 2, "", "--from: not a TIME", true },
		{ { "--db", "@", "--to", "2026-13-01" }, 2, "", "--to: not a TIME", true },
		{ { "--db", "@", "--from", "-1h", "--to", "-2h" }, 2, "", "--from is after --to",
		  false },
		{ { "--db", "@", "--format", "xml" }, 2, "", "unknown format 'xml'", true },
		{ { "--db", "@", "--bogus" }, 2, "", "unknown option '--bogus'", true },
		{ { "--db", "@", "stray" }, 2, "", "unexpected argument 'stray'", true },
		{ { "--db" }, 2, "", "option '--db' needs a value", true },
		{ { "--meter", "x" }, 2, "", "--db FILE is required", true },
		{ { "--db", "/nonexistent/buffer.db" }, 1, "", "No such file or directory", false },
		{ { "--db", "#" }, 1, "", "not an SQLite database", false },
		{ { "--help" }, 0, NULL, "", false },
	};
	char *db = make_export_db(), *notdb = tpath("export-not-db.txt"), *out, *err;
	FILE *f;
	size_t i;

	(void)state;
	f = fopen(notdb, "w");
	assert_non_null(f);
	fputs("hello\n", f);
	fclose(f);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char *argv[10], *want_err;
		int argc = 1, status;

		argv[0] = (char *)"export";
		while (argc - 1 < 8 && cases[i].args[argc - 1] != NULL) {
			const char *a = cases[i].args[argc - 1];

			argv[argc] = strcmp(a, "@") == 0 ? db : strcmp(a, "#") == 0 ? notdb : (char *)a;
			argc++;
		}
		argv[argc] = NULL;
		status = run_export(argv, argc, -1, &out, &err);
		if (status != cases[i].status)
			fail_msg("case %zu: status %d, expected %d; stderr: %s", i, status,
				 cases[i].status, err);
		if (cases[i].out != NULL)
			assert_string_equal(out, cases[i].out);
		want_err = util_printf("%s", cases[i].err);
		if (strstr(want_err, "@") != NULL) {
			char *p = strstr(want_err, "@"), *w;

			*p = '\0';
			w = util_printf("%s%s%s", want_err, db, p + 1);
			free(want_err);
			want_err = w;
		}
		if (strstr(err, want_err) == NULL)
			fail_msg("case %zu: stderr '%s' lacks '%s'", i, err, want_err);
		if ((strstr(err, "usage: phasor export") != NULL) != cases[i].usage)
			fail_msg("case %zu: usage %s expected in '%s'", i, cases[i].usage ? "" : "not",
				 err);
		if (i == 2) {
			/* jsonl: one object per line. */
			assert_non_null(strstr(out, "{\"time\":\"2026-11-22T14:03:05.123Z\","
						    "\"meter\":\"tgbt-1\",\"quantity\":\"v_l1n\","
						    "\"value\":231.5,\"unit\":\"V\",\"quality\":\"good\"}\n"));
			assert_non_null(strstr(out, "\"value\":null,\"unit\":\"V\",\"quality\":\"bad\"}\n"));
			assert_non_null(strstr(out, "\"value\":0.30000000000000004,"));
		}
		if (i == UTIL_ARRAY_LEN(cases) - 1)
			assert_non_null(strstr(out, "usage: phasor export"));
		free(want_err);
		free(out);
		free(err);
	}
	free(notdb);
	free(db);
}


/* `phasor alarms`: the contract's CSV, the time window, JSON lines, and every bad option. */
static void test_alarms_command(void **state)
{
	static const struct {
		const char *args[6];
		int status;
		const char *out;  /* exact stdout, or NULL: not checked */
		const char *err;  /* substring of stderr */
	} cases[] = {
		{ { "--db", "@" }, 0,
		  "time,alarm,meter,quantity,priority,event,state,value,limit,operator,note\n"
		  "2026-11-22T14:03:05.000Z,low-pf,oven,pf,high,raise,unack,0.81,0.85,,\n"
		  "2026-11-22T14:04:05.000Z,low-pf,oven,pf,high,ack,ack,,,\"Curie, Marie\","
		  "\"said \"\"ok\"\"\"\n", "" },
		{ { "--db", "@", "--from", "2026-11-22T14:04:00Z" }, 0,
		  "time,alarm,meter,quantity,priority,event,state,value,limit,operator,note\n"
		  "2026-11-22T14:04:05.000Z,low-pf,oven,pf,high,ack,ack,,,\"Curie, Marie\","
		  "\"said \"\"ok\"\"\"\n", "" },
		{ { "--db", "@", "--to", "2026-11-22T14:00:00Z" }, 0,
		  "time,alarm,meter,quantity,priority,event,state,value,limit,operator,note\n", "" },
		{ { "--db", "@", "--format", "jsonl", "--from", "2026-11-22T14:04:00Z" }, 0,
		  "{\"time\":\"2026-11-22T14:04:05.000Z\",\"alarm\":\"low-pf\",\"meter\":\"oven\","
		  "\"quantity\":\"pf\",\"priority\":\"high\",\"event\":\"ack\",\"state\":\"ack\","
		  "\"value\":null,\"limit\":null,\"operator\":\"Curie, Marie\",\"note\":"
		  "\"said \\\"ok\\\"\",\"id\":\"c2:1\",\"origin\":\"c2\"}\n", "" },
		{ { "--db", "@", "--format", "xml" }, 2, "", "phasor alarms: unknown format 'xml'" },
		{ { "--db", "@", "--meter", "oven" }, 2, "", "phasor alarms: unknown option '--meter'" },
		{ { "--db", "@", "--from", "soon" }, 2, "", "phasor alarms: --from: not a TIME: 'soon'" },
		{ { "--db", "@", "--from", "-1h", "--to", "-2h" }, 2, "", "--from is after --to" },
		{ { "--from", "-1h" }, 2, "", "phasor alarms: --db FILE is required" },
		{ { "--db", "@", "x" }, 2, "", "phasor alarms: unexpected argument 'x'" },
		{ { "--db", "/nonexistent/b.db" }, 1, "", "No such file or directory" },
	};
	char *db = tpath("alarms-cmd.db"), *cause = NULL, *out, *err;
	struct store *st = open_store(db, 100, 10, 10);
	struct store_alarm_event e = {
		.t_us = 1795356185000000LL, .id = "c1:1", .origin = "c1", .alarm = "low-pf",
		.meter = "oven", .quantity = "pf", .priority = "high", .event = "raise",
		.state = "unack", .value = 0.81, .limit = 0.85, .operator_name = "", .note = "",
		.raised_us = 1795356185000000LL,
	};
	size_t i;

	(void)state;
	assert_int_equal(store_start(st, &cause), 0);
	store_put_alarm_event(st, &e);
	e.t_us += 60000000;
	e.id = "c2:1";
	e.origin = "c2";
	e.event = "ack";
	e.state = "ack";
	e.value = NAN;
	e.limit = NAN;
	e.operator_name = "Curie, Marie";
	e.note = "said \"ok\"";
	store_put_alarm_event(st, &e);
	store_stop(st, 1000);
	store_close(st);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char *argv[8];
		int argc = 1, status;

		argv[0] = (char *)"alarms";
		while (argc - 1 < 6 && cases[i].args[argc - 1] != NULL) {
			const char *a = cases[i].args[argc - 1];

			argv[argc++] = strcmp(a, "@") == 0 ? db : (char *)a;
		}
		argv[argc] = NULL;
		status = run_cmd(cmd_alarms, argv, argc, -1, &out, &err);
		if (status != cases[i].status)
			fail_msg("case %zu: status %d, expected %d; stderr: %s", i, status,
				 cases[i].status, err);
		if (cases[i].out != NULL)
			assert_string_equal(out, cases[i].out);
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("case %zu: stderr '%s' lacks '%s'", i, err, cases[i].err);
		free(out);
		free(err);
	}
	free(db);
}

static void test_export_write_errors(void **state)
{
	char *db = make_export_db(), *out, *err;
	char *argv[] = { (char *)"export", (char *)"--db", db, NULL };
	int p[2], full;

	(void)state;
	/* A reader that went away (`phasor export | head`): normal use, so
	 * exit 0 without a word, not a death by SIGPIPE nor "Broken pipe". */
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(run_export(argv, 3, p[1], &out, &err), 0);
	close(p[1]);
	assert_string_equal(err, "");
	free(out);
	free(err);
	/* A full disk. */
	full = open("/dev/full", O_WRONLY);
	if (full >= 0) {
		assert_int_equal(run_export(argv, 3, full, &out, &err), 1);
		close(full);
		assert_non_null(strstr(err, strerror(ENOSPC)));
		free(out);
		free(err);
	}
	signal(SIGPIPE, SIG_DFL);
	free(db);
}

/* ---- main ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}


/* ---- one recorder, many consoles: requests, status, following ---- */

struct reqs {
	char text[1024];
	int n;
};

static int req_row(void *ctx, const struct store_request *q)
{
	struct reqs *r = ctx;
	size_t len = strlen(r->text);

	snprintf(r->text + len, sizeof(r->text) - len, "%lld %s %s %s %s/%s '%s' %lld %s %s|",
		 (long long)q->id, q->console, q->operator_name, q->action, q->alarm, q->meter,
		 q->note, (long long)q->dur_ms, q->result == NULL ? "pending" : q->result[0] ? q->result : "done",
		 q->event_id);
	r->n++;
	return 0;
}

static void read_reqs(const char *path, int64_t after, bool pending, struct reqs *out)
{
	char *cause = NULL;
	struct store_reader *r = store_reader_open(path, &cause);

	assert_non_null(r);
	memset(out, 0, sizeof(*out));
	assert_int_equal(store_reader_requests(r, after, pending, req_row, out, &cause), 0);
	store_reader_close(r);
}

static void test_requests(void **state)
{
	char *path = tpath("requests.db"), *cause = NULL;
	struct store_request q = { .t_us = 1000, .console = "host:12", .operator_name = "alice",
				   .action = "ack", .alarm = "pf-low", .meter = "tgbt-1",
				   .note = "capacitor bank off", .dur_ms = 0 };
	struct store_alarm_event ev = { .t_us = 2000, .id = "rec:1.1", .origin = "rec",
					.alarm = "pf-low", .meter = "tgbt-1", .quantity = "pf",
					.priority = "high", .event = "ack", .state = "ack",
					.value = 0.81, .limit = 0.85, .operator_name = "alice",
					.note = "capacitor bank off" };
	struct reqs rs;
	struct store *st;
	int64_t id1, id2, id3;

	(void)state;
	st = open_store(path, 1000, 1000, 20);
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(store_request_add(path, &q, &id1, &cause), 0);
	q.action = "shelve";
	q.dur_ms = 3600000;
	q.note = "";
	assert_int_equal(store_request_add(path, &q, &id2, &cause), 0);
	q.action = "unshelve";
	q.dur_ms = 0;
	q.meter = "";
	assert_int_equal(store_request_add(path, &q, &id3, &cause), 0);
	assert_int_equal(id1, 1);
	assert_int_equal(id2, 2);
	assert_int_equal(id3, 3);
	read_reqs(path, 0, true, &rs);
	assert_string_equal(rs.text,
			    "1 host:12 alice ack pf-low/tgbt-1 'capacitor bank off' 0 pending |"
			    "2 host:12 alice shelve pf-low/tgbt-1 '' 3600000 pending |"
			    "3 host:12 alice unshelve pf-low/ '' 0 pending |");

	/* The event answering a request marks it done in its transaction;
	 * a refusal carries its reason. */
	ev.request = id1;
	store_put_alarm_event(st, &ev);
	store_put_request_done(st, id3, "pf-low is not shelved");
	assert_int_equal(store_flush(st, 5000), 0);
	read_reqs(path, 0, true, &rs);
	assert_string_equal(rs.text, "2 host:12 alice shelve pf-low/tgbt-1 '' 3600000 pending |");
	read_reqs(path, 0, false, &rs);
	assert_int_equal(rs.n, 3);
	assert_non_null(strstr(rs.text, "1 host:12 alice ack pf-low/tgbt-1 'capacitor bank off' 0"
					" done rec:1.1|"));
	assert_non_null(strstr(rs.text, "3 host:12 alice unshelve pf-low/ '' 0 pf-low is not"
					" shelved |"));
	assert_int_equal(db_int(path, "SELECT done_us FROM alarm_requests WHERE id = 1"), 2000);
	assert_int_equal(db_int(path, "SELECT count(*) FROM alarm_events"), 1);
	/* Done once: a second answer to the same request changes nothing. */
	ev.id = "rec:1.2";
	ev.t_us = 3000;
	store_put_alarm_event(st, &ev);
	assert_int_equal(store_flush(st, 5000), 0);
	assert_int_equal(db_int(path, "SELECT done_us FROM alarm_requests WHERE id = 1"), 2000);
	read_reqs(path, 1, false, &rs);
	assert_int_equal(rs.n, 2);
	/* One reader asked again and again (the hub's: its statements kept
	 * prepared): each answer as of the newest commit. */
	{
		struct store_reader *kr = store_reader_open(path, &cause);

		assert_non_null(kr);
		memset(&rs, 0, sizeof(rs));
		assert_int_equal(store_reader_requests(kr, 0, true, req_row, &rs, &cause), 0);
		assert_int_equal(rs.n, 1);
		memset(&rs, 0, sizeof(rs));
		assert_int_equal(store_reader_requests(kr, 0, false, req_row, &rs, &cause), 0);
		assert_int_equal(rs.n, 3);
		store_put_request_done(st, id2, "refused for the test");
		assert_int_equal(store_flush(st, 5000), 0);
		memset(&rs, 0, sizeof(rs));
		assert_int_equal(store_reader_requests(kr, 0, true, req_row, &rs, &cause), 0);
		assert_int_equal(rs.n, 0);
		memset(&rs, 0, sizeof(rs));
		assert_int_equal(store_reader_requests(kr, 1, false, req_row, &rs, &cause), 0);
		assert_string_equal(rs.text, "2 host:12 alice shelve pf-low/tgbt-1 '' 3600000 refused for the test |"
					     "3 host:12 alice unshelve pf-low/ '' 0 pf-low is not shelved |");
		store_reader_close(kr);
	}

	/* The newest status wins. */
	store_put_status(st, "recorder", 10, "{\"v\":1,\"pid\":1}");
	store_put_status(st, "recorder", 20, "{\"v\":1,\"pid\":2}");
	assert_int_equal(store_flush(st, 5000), 0);
	{
		struct store_reader *r = store_reader_open(path, &cause);
		int64_t t = 0;
		char *text = NULL;

		assert_non_null(r);
		assert_int_equal(store_reader_status(r, "recorder", &t, &text, &cause), 1);
		assert_int_equal(t, 20);
		assert_string_equal(text, "{\"v\":1,\"pid\":2}");
		free(text);
		assert_int_equal(store_reader_status(r, "other", &t, &text, &cause), 0);
		assert_null(text);
		store_reader_close(r);
	}
	store_stop(st, 1000);
	store_close(st);
	/* A file before schema 5 takes no request, and says why. */
	db_exec(path, "PRAGMA user_version = 4");
	assert_int_equal(store_request_add(path, &q, &id1, &cause), -1);
	assert_non_null(strstr(cause, "schema 4"));
	free(cause);
	free(path);
}

struct follow_rows {
	char text[2048];
	int64_t last;
};

static int follow_sample(void *ctx, const struct store_raw_row *r)
{
	struct follow_rows *f = ctx;
	size_t len = strlen(f->text);

	snprintf(f->text + len, sizeof(f->text) - len, "%lld:%lld/%lld@%lld=%g q%d|",
		 (long long)r->seq, (long long)r->meter_id, (long long)r->qty_id,
		 (long long)r->t_us, r->value, r->quality);
	f->last = r->seq;
	return 0;
}

static int follow_id(void *ctx, int64_t id, const char *name)
{
	struct follow_rows *f = ctx;
	size_t len = strlen(f->text);

	snprintf(f->text + len, sizeof(f->text) - len, "%lld=%s|", (long long)id, name);
	return 0;
}

static int follow_comm(void *ctx, const struct store_comm_row *r)
{
	struct follow_rows *f = ctx;
	size_t len = strlen(f->text);

	snprintf(f->text + len, sizeof(f->text) - len, "%s %d '%s'|", r->meter, r->status, r->error);
	f->last = r->seq;
	return 0;
}

static int follow_alarm(void *ctx, const struct store_alarm_event *e)
{
	struct follow_rows *f = ctx;
	size_t len = strlen(f->text);

	snprintf(f->text + len, sizeof(f->text) - len, "%s %s %s|", e->alarm, e->meter, e->event);
	f->last = e->seq;
	return 0;
}

/* The good values of several meters in one pass: each meter its own rows,
 * oldest first; bad and NaN rows, other quantities and meters not asked
 * left out; an unknown meter gets nothing. */
static void test_good_values_many(void **state)
{
	char *path = tpath("many.db"), *cause = NULL;
	const char *const names[] = { "press-3", "nosuch", "tgbt-1" };
	struct store_values v[3];
	struct store_reader *r;
	struct store *st;
	struct sample s[7];

	(void)state;
	st = open_store(path, 1000, 1000, 20);
	assert_int_equal(store_start(st, &cause), 0);
	s[0] = mk(300, 0, QTY_E_IMP, 30.0, 0);
	s[1] = mk(100, 1, QTY_E_IMP, 1.0, 0);
	s[2] = mk(100, 0, QTY_E_IMP, 10.0, 0);
	s[3] = mk(200, 1, QTY_E_IMP, NAN, 1);    /* bad */
	s[4] = mk(200, 0, QTY_P_TOTAL, 5.0, 0);  /* another quantity */
	s[5] = mk(250, 2, QTY_E_IMP, 7.0, 0);    /* a meter not asked */
	s[6] = mk(300, 1, QTY_E_IMP, 3.0, 0);
	store_put_samples(st, s, 7);
	assert_int_equal(store_flush(st, 5000), 0);
	r = store_reader_open(path, &cause);
	assert_non_null(r);
	assert_int_equal(store_reader_good_values_many(r, names, 3, "e_imp", 0, 1000, v, &cause),
			 0);
	assert_int_equal(v[0].n, 2); /* press-3: meter 1 */
	assert_true(v[0].t_us[0] == 100 && v[0].value[0] == 1.0);
	assert_true(v[0].t_us[1] == 300 && v[0].value[1] == 3.0);
	assert_int_equal(v[1].n, 0);
	assert_int_equal(v[2].n, 2); /* tgbt-1: meter 0, in time order */
	assert_true(v[2].t_us[0] == 100 && v[2].value[0] == 10.0);
	assert_true(v[2].t_us[1] == 300 && v[2].value[1] == 30.0);
	store_values_free(&v[0]);
	store_values_free(&v[1]);
	store_values_free(&v[2]);
	/* the window bounds the rows */
	assert_int_equal(store_reader_good_values_many(r, names, 3, "e_imp", 101, 300, v, &cause),
			 0);
	assert_int_equal(v[0].n + v[1].n + v[2].n, 0);
	store_reader_close(r);
	store_close(st);
	free(path);
}

static void test_follow_readers(void **state)
{
	char *path = tpath("follow.db"), *cause = NULL;
	struct store_alarm_event ev = { .t_us = 500, .id = "rec:2.1", .origin = "rec",
					.alarm = "comm-loss", .meter = "press-3", .quantity = "comm",
					.priority = "high", .event = "raise", .state = "unack",
					.value = 1, .limit = NAN };
	struct store_seqs seqs;
	struct follow_rows fr;
	struct store_reader *r;
	struct store *st;
	int64_t seq, first = 0;
	struct sample s[4];

	(void)state;
	st = open_store(path, 1000, 1000, 20);
	assert_int_equal(store_start(st, &cause), 0);
	s[0] = mk(100, 0, QTY_P_TOTAL, 1.5, 0);
	s[1] = mk(100, 1, QTY_P_TOTAL, 2.5, 0);
	s[2] = mk(200, 0, QTY_P_TOTAL, 3.5, 0);
	s[3] = mk(300, 0, QTY_V_L1N, 230, 0);
	store_put_samples(st, s, 4);
	store_put_comm_change(st, 150, 1, 3, "timeout");
	store_put_alarm_event(st, &ev);
	assert_int_equal(store_flush(st, 5000), 0);

	r = store_reader_open(path, &cause);
	assert_non_null(r);
	assert_int_equal(store_reader_last_seqs(r, &seqs, &cause), 0);
	assert_int_equal(seqs.samples, 4);
	assert_int_equal(seqs.alarms, 1);
	assert_int_equal(seqs.requests, 0);
	/* the session's opening rows (unknown per meter) and ours */
	assert_int_equal(seqs.comm, db_int(path, "SELECT max(seq) FROM comm_changes"));
	assert_int_equal(store_reader_seq_since(r, 200, &seq, &cause), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(store_reader_seq_since(r, 301, &seq, &cause), 0);
	assert_int_equal(seq, 4); /* nothing that new: follow from the newest */
	assert_int_equal(store_reader_first_session(r, &first, &cause), 0);
	assert_true(first > 0);

	/* ids, not names: meters in registration order, quantities in
	 * the contract's (p_total and v_l1n are its ids P and V) */
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(store_reader_ids(r, false, follow_id, &fr, &cause), 0);
	assert_string_equal(fr.text, "1=tgbt-1|2=press-3|3=we,ird \"x\"\nname|");
	{
		char want[64];
		int64_t p = db_int(path, "SELECT id FROM quantities WHERE name = 'p_total'");
		int64_t v = db_int(path, "SELECT id FROM quantities WHERE name = 'v_l1n'");

		memset(&fr, 0, sizeof(fr));
		assert_int_equal(store_reader_ids(r, true, follow_id, &fr, &cause), 0);
		snprintf(want, sizeof(want), "|%lld=p_total|", (long long)p);
		assert_non_null(strstr(fr.text, want));
		memset(&fr, 0, sizeof(fr));
		assert_int_equal(store_reader_raw_after(r, 1, INT64_MAX, 2, NULL, 0, follow_sample,
							&fr, &cause),
				 0);
		snprintf(want, sizeof(want), "2:2/%lld@100=2.5 q0|3:1/%lld@200=3.5 q0|", (long long)p,
			 (long long)p);
		assert_string_equal(fr.text, want);
		/* up to a seq, of some quantities only */
		memset(&fr, 0, sizeof(fr));
		assert_int_equal(store_reader_raw_after(r, 0, 3, 100, &v, 1, follow_sample, &fr,
							&cause),
				 0);
		assert_string_equal(fr.text, "");
		memset(&fr, 0, sizeof(fr));
		assert_int_equal(store_reader_raw_after(r, 0, 4, 100, &v, 1, follow_sample, &fr,
							&cause),
				 0);
		snprintf(want, sizeof(want), "4:1/%lld@300=230 q0|", (long long)v);
		assert_string_equal(fr.text, want);
		/* a time window of one quantity: [100, 300) of p_total */
		memset(&fr, 0, sizeof(fr));
		assert_int_equal(store_reader_raw_window(r, 100, 300, p, follow_sample, &fr, &cause),
				 0);
		snprintf(want, sizeof(want), "1:1/%lld@100=1.5 q0|2:2/%lld@100=2.5 q0|3:1/%lld@200=3.5 q0|",
			 (long long)p, (long long)p, (long long)p);
		assert_string_equal(fr.text, want);
		memset(&fr, 0, sizeof(fr));
		assert_int_equal(store_reader_raw_window(r, 101, 201, p, follow_sample, &fr, &cause),
				 0);
		snprintf(want, sizeof(want), "3:1/%lld@200=3.5 q0|", (long long)p);
		assert_string_equal(fr.text, want);
		/* nothing in the window, a window past the end, another quantity */
		memset(&fr, 0, sizeof(fr));
		assert_int_equal(store_reader_raw_window(r, 201, 300, p, follow_sample, &fr, &cause),
				 0);
		assert_int_equal(store_reader_raw_window(r, 301, 900, p, follow_sample, &fr, &cause),
				 0);
		assert_string_equal(fr.text, "");
		assert_int_equal(store_reader_raw_window(r, 0, 900, v, follow_sample, &fr, &cause), 0);
		snprintf(want, sizeof(want), "4:1/%lld@300=230 q0|", (long long)v);
		assert_string_equal(fr.text, want);
	}
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(store_reader_comm_after(r, seqs.comm - 1, follow_comm, &fr, &cause), 0);
	assert_string_equal(fr.text, "press-3 3 'timeout'|");
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(store_reader_alarm_after(r, 0, follow_alarm, &fr, &cause), 0);
	assert_string_equal(fr.text, "comm-loss press-3 raise|");
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(store_reader_alarm_after(r, 1, follow_alarm, &fr, &cause), 0);
	assert_string_equal(fr.text, "");

	/* New rows after the reader opened are seen by the next query. */
	s[0] = mk(400, 2, QTY_P_TOTAL, -0.0, 0);
	store_put_samples(st, s, 1);
	assert_int_equal(store_flush(st, 5000), 0);
	memset(&fr, 0, sizeof(fr));
	assert_int_equal(store_reader_raw_after(r, 4, INT64_MAX, 100, NULL, 0, follow_sample, &fr,
						&cause),
			 0);
	assert_non_null(strstr(fr.text, "5:3/"));
	assert_non_null(strstr(fr.text, "@400=-0 q0|"));
	store_reader_close(r);
	store_stop(st, 1000);
	store_close(st);
	free(path);
}

/* One sample of the dense layout test: what was put, with its seq. */
struct dsample {
	int64_t seq, t_us;
	unsigned meter, qty;
	double v;
	int quality;
};

static int cmp_time_seq(const void *a, const void *b)
{
	const struct dsample *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static uint64_t dbits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

/*
 * The dense layout (issue 17): polls of old windows are closed into
 * blocks, the newest stay poll rows, one arrives late into a closed
 * window; the samples module gives back every sample with its seq, time,
 * value bit for bit (NaN as NULL, -0.0, infinities, denormals) and
 * quality, in (t_us, seq) order and in seq order, and cut to a meter, a
 * quantity, a time range and a seq range as the old table did.
 */
static void test_dense_layout(void **state)
{
	enum { POLLS = 900, NQ = 5 };
	static const unsigned qtys[NQ] = { QTY_V_L1N, QTY_V_L2N, QTY_I_L1, QTY_P_TOTAL, QTY_PF_TOTAL };
	char *path = tpath("dense.db"), *cause = NULL;
	struct dsample *ref = util_calloc(POLLS * NQ + 8, sizeof(*ref));
	int64_t now = util_now_us(), seq = 0, t_old = now - 3600 * INT64_C(1000000);
	struct store_stats ss;
	struct store *st;
	size_t nref = 0, i;
	sqlite3 *db;
	sqlite3_stmt *s;

	(void)state;
	st = open_store(path, 100000, 5000, 10);
	assert_int_equal(store_start(st, &cause), 0);
	for (i = 0; i < POLLS; i++) {
		/* two meters an hour ago, 1 s apart with jitter, then the last
		 * 60 polls now; a second poll of meter 0 at the same time */
		unsigned meter = (unsigned)(i % 2);
		int64_t t = i < POLLS - 60 ? t_old + (int64_t)(i / 2) * 1000000 + (int64_t)(i * 7919 % 5000)
					   : now - (int64_t)(POLLS - i) * 1000;
		struct sample p[NQ];

		if (i == 10)
			t = t_old + 4 * 1000000 + 4 * 7919 % 5000; /* the same time as poll 4 */
		for (unsigned k = 0; k < NQ; k++) {
			double v = 230.0 + (double)(i % 13) + k;

			if (i % 97 == 3 && k == 1)
				v = NAN;
			else if (i % 89 == 5 && k == 2)
				v = -0.0;
			else if (i % 83 == 7 && k == 3)
				v = -INFINITY;
			else if (i % 79 == 9 && k == 4)
				v = 4.9e-324;
			else if (i % 3 == 0)
				v = (double)(float)v;
			p[k] = mk(t, meter, qtys[k], v, (i + k) % 11 == 0 ? QUALITY_BAD : QUALITY_GOOD);
			ref[nref++] = (struct dsample){ ++seq, t, meter, qtys[k], v, p[k].quality };
		}
		store_put_samples(st, p, NQ);
	}
	assert_int_equal(store_flush(st, 10000), 0);
	/* the closer runs between batches: the old windows become blocks;
	 * store_settle waits for it */
	assert_int_equal(store_settle(st, 20000), 0);
	store_get_stats(st, &ss);
	assert_true(ss.blocks_written >= 2);
	assert_int_equal(ss.polls_closed, POLLS - 60);
	{
		/* late: into a window already closed (a journal replayed) */
		struct sample late = mk(t_old + 2500, 1, QTY_P_TOTAL, 1.5, QUALITY_GOOD);

		store_put_samples(st, &late, 1);
		ref[nref++] = (struct dsample){ ++seq, late.t_us, 1, QTY_P_TOTAL, 1.5, 0 };
	}
	assert_int_equal(store_flush(st, 10000), 0);
	store_stop(st, 1000);
	store_close(st);
	assert_true(db_int(path, "SELECT count(*) FROM blocks") >= 2);
	assert_int_equal(db_int(path, "SELECT count(*) FROM polls"), 60 + 1);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), (int64_t)nref);

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	for (int pass = 0; pass < 2; pass++) {
		size_t got = 0;

		if (pass == 1)
			qsort(ref, nref, sizeof(*ref), cmp_time_seq);
		assert_int_equal(sqlite3_prepare_v2(db,
						    pass == 0
							? "SELECT seq, t_us, meter_id, qty_id, value, quality"
							  " FROM samples ORDER BY seq"
							: "SELECT seq, t_us, meter_id, qty_id, value, quality"
							  " FROM samples ORDER BY t_us, seq",
						    -1, &s, NULL),
				 SQLITE_OK);
		while (sqlite3_step(s) == SQLITE_ROW) {
			const struct dsample *r = &ref[got++];

			assert_true(got <= nref);
			assert_int_equal(sqlite3_column_int64(s, 0), r->seq);
			assert_int_equal(sqlite3_column_int64(s, 1), r->t_us);
			assert_int_equal(sqlite3_column_int64(s, 2), r->meter + 1);
			assert_int_equal(sqlite3_column_int64(s, 3), r->qty);
			if (isnan(r->v))
				assert_int_equal(sqlite3_column_type(s, 4), SQLITE_NULL);
			else
				assert_int_equal(dbits(sqlite3_column_double(s, 4)), dbits(r->v));
			assert_int_equal(sqlite3_column_int(s, 5), r->quality);
		}
		sqlite3_finalize(s);
		assert_int_equal(got, nref);
	}
	sqlite3_close(db);
	/* the constraints against the reference */
	{
		int64_t t_lo = t_old + 100 * 1000000, t_hi = t_old + 300 * 1000000;
		size_t in_t = 0, in_seq = 0, m1_pf = 0;
		char sql[300];

		for (i = 0; i < nref; i++) {
			in_t += ref[i].t_us >= t_lo && ref[i].t_us < t_hi;
			in_seq += ref[i].seq > 1234 && ref[i].seq <= 2345;
			m1_pf += ref[i].meter == 1 && ref[i].qty == QTY_PF_TOTAL && ref[i].quality == 0;
		}
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM samples WHERE t_us >= %lld AND t_us < %lld",
			 (long long)t_lo, (long long)t_hi);
		assert_int_equal(db_int(path, sql), (int64_t)in_t);
		assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE seq > 1234 AND seq <= 2345"),
				 (int64_t)in_seq);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM samples WHERE meter_id = 2 AND qty_id = %u"
			 " AND quality = 0", (unsigned)QTY_PF_TOTAL);
		assert_int_equal(db_int(path, sql), (int64_t)m1_pf);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM samples WHERE meter_id = 2 AND qty_id IN"
			 " (%u, 250)", (unsigned)QTY_PF_TOTAL);
		{
			int64_t in = db_int(path, sql);

			snprintf(sql, sizeof(sql), "SELECT count(*) FROM samples WHERE meter_id = 2"
				 " AND qty_id + 0 = %u", (unsigned)QTY_PF_TOTAL);
			assert_int_equal(in, db_int(path, sql));
			assert_int_equal(in, POLLS / 2 + 0);
		}
		for (i = 0; i < nref && ref[i].seq != 17; i++)
			;
		assert_true(i < nref);
		assert_int_equal(db_int(path, "SELECT t_us FROM samples WHERE seq = 17"), ref[i].t_us);
		assert_int_equal(db_int(path, "SELECT count(*) FROM samples WHERE seq = 17"), 1);
	}
	free(ref);
	free(path);
}

/*
 * With the sync configured, only poll rows the sync has forwarded (at or
 * below sync.samples_seq) are closed into blocks: the sync's normal path
 * never decodes a block, and an outage's backlog stays as poll rows.
 */
static void test_hold_unsynced(void **state)
{
	char *path = tpath("hold.db"), *cause = NULL;
	int64_t t_old = util_now_us() - 3600 * INT64_C(1000000);
	struct store *st;
	size_t i;

	(void)state;
	st = open_store(path, 100000, 5000, 10);
	store_hold_unsynced(st, true);
	assert_int_equal(store_start(st, &cause), 0);
	for (i = 0; i < 600; i++) { /* 10 minutes of one meter, 3 quantities */
		struct sample p[3] = {
			mk(t_old + (int64_t)i * 1000000, 0, QTY_V_L1N, 230.0 + (double)i, 0),
			mk(t_old + (int64_t)i * 1000000, 0, QTY_V_L2N, 231.0, 0),
			mk(t_old + (int64_t)i * 1000000, 0, QTY_V_L3N, 232.0, 0),
		};

		store_put_samples(st, p, 3);
	}
	assert_int_equal(store_flush(st, 10000), 0);
	/* the sync has sent the first 300 polls and half of the next one */
	db_exec(path, "UPDATE meta SET value = 901 WHERE key = 'sync.samples_seq'");
	assert_int_equal(store_settle(st, 20000), 0);
	store_stop(st, 1000);
	store_close(st);
	assert_int_equal(db_int(path, "SELECT max(seq_hi) FROM blocks"), 900);
	assert_int_equal(db_int(path, "SELECT coalesce(sum(n), 0) FROM blocks"), 900);
	assert_int_equal(db_int(path, "SELECT min(first_seq) FROM polls"), 901);
	assert_int_equal(db_int(path, "SELECT count(*) FROM polls"), 300);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 1800);
	assert_int_equal(db_int(path, "SELECT count(DISTINCT seq) FROM samples"), 1800);
	free(path);
}


/*
 * A batch ends at a poll's end: with batches of 7 samples, polls of 5 given
 * three at a time (15 samples a call) stay polls of 5, never split into
 * two poll rows of other shapes; a poll longer than a batch is taken whole.
 */
static void test_batch_poll_whole(void **state)
{
	char *path = tpath("poll-whole.db"), *cause = NULL;
	int64_t t0 = util_now_us() - 60000000;
	struct store *st;

	(void)state;
	st = open_store(path, 100000, 7, 10);
	assert_int_equal(store_start(st, &cause), 0);
	for (int i = 0; i < 40; i++) {
		struct sample x[15];

		for (int k = 0; k < 15; k++)
			x[k] = mk(t0 + (int64_t)(i * 3 + k / 5) * 1000, (unsigned)(k / 5 % 2),
				  QTY_V_L1N + (unsigned)(k % 5), 230.0 + k, QUALITY_GOOD);
		store_put_samples(st, x, 15);
	}
	{
		struct sample big[12]; /* one poll of 12 > a batch of 7 */

		for (int k = 0; k < 12; k++)
			big[k] = mk(t0 + 999000, 2, QTY_V_L1N + (unsigned)k, 1.0 + k, QUALITY_GOOD);
		store_put_samples(st, big, 12);
	}
	assert_int_equal(store_flush(st, 10000), 0);
	store_stop(st, 1000);
	store_close(st);
	assert_int_equal(db_int(path, "SELECT count(*) FROM polls"), 40 * 3 + 1);
	assert_int_equal(db_int(path, "SELECT count(*) FROM polls WHERE n != 5"), 1);
	assert_int_equal(db_int(path, "SELECT n FROM polls WHERE meter_id = 3"), 12);
	assert_int_equal(db_int(path, "SELECT count(*) FROM samples"), 40 * 15 + 12);
	free(path);
}

/* Rows of the quantities qty[0..1] (a count, a checksum of their seqs, in order?). */
struct rawset {
	const int64_t *qty;
	size_t n;
	int64_t sum_seq, last_t, last_seq;
	bool ordered;
};

static int take_raw(void *ctx, const struct store_raw_row *r)
{
	struct rawset *x = ctx;

	if (r->qty_id != x->qty[0] && r->qty_id != x->qty[1])
		return 0;
	if (x->n == 0)
		x->ordered = true;
	else if (r->t_us < x->last_t || (r->t_us == x->last_t && r->seq <= x->last_seq))
		x->ordered = false;
	x->n++;
	x->sum_seq += r->seq * (r->qty_id + 1);
	x->last_t = r->t_us;
	x->last_seq = r->seq;
	return 0;
}

/* Minutes collected by store_reader_minutes. */
struct mins {
	int64_t t[4096];
	struct codec_minute m[4096];
	size_t n;
};

static int collect_minute(void *ctx, int64_t t_us, const struct codec_minute *m)
{
	struct mins *a = ctx;

	assert_true(a->n < 4096);
	assert_true(a->n == 0 || t_us > a->t[a->n - 1]); /* time order, one per minute */
	a->t[a->n] = t_us;
	a->m[a->n++] = *m;
	return 0;
}

static void minutes_of(const char *path, const char *meter, unsigned qty, int64_t from,
		       int64_t to, bool raw, struct mins *out)
{
	char *cause = NULL;
	struct store_reader *r = store_reader_open(path, &cause);

	assert_non_null(r);
	out->n = 0;
	if (store_reader_minutes(r, meter, qty, from, to, raw, collect_minute, out, &cause) < 0)
		fail_msg("store_reader_minutes: %s", cause);
	store_reader_close(r);
}

static bool near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b)) + 1e-12;
}

/*
 * The minutes of the rollups against the raw samples' and a reference;
 * the rises of a counter (those of other quantities mean nothing, and a
 * minute whose samples come from two sources that interleave in time, a
 * late poll, has its rise approximate).
 */
static void check_minutes(const struct mins *a, const struct mins *b, bool counter)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct codec_minute *x = &a->m[i], *y = &b->m[i];

		assert_int_equal(a->t[i], b->t[i]);
		assert_int_equal(x->n, y->n);
		assert_int_equal(x->good, y->good);
		if (x->good == 0)
			continue;
		assert_int_equal(dbits(x->min), dbits(y->min));
		assert_int_equal(dbits(x->max), dbits(y->max));
		assert_int_equal(dbits(x->first), dbits(y->first));
		assert_int_equal(dbits(x->last), dbits(y->last));
		assert_int_equal(x->first_us, y->first_us);
		assert_int_equal(x->last_us, y->last_us);
		assert_true(near(x->sum, y->sum));
		if (counter)
			assert_true(near(x->rise, y->rise));
	}
}

/*
 * Rollups (issue 12 item 5): the closer makes one per block; the minutes
 * read from them (merged with the poll rows' and a late poll's) equal
 * those computed from the raw samples and a reference computed here: the
 * counts, min, max, first and last exactly, the sums and counter rises
 * to rounding; a counter reset is not counted; a bad or NaN value is
 * counted in n only. A pruned block takes its rollup with it; a file of
 * schema 7 gets the rollups of its blocks in the background.
 */
#define POLLS50                                                                              \
	"SELECT count(*) FROM blocks b WHERE b.n / (SELECT length(qty) FROM shapes"          \
	" WHERE id = b.shape_id) >= 50"

/* A store of path opened (as the rollup tests want it) and started. */
static struct store *started_store(const char *path)
{
	struct store *st = open_store(path, 100000, 5000, 10);
	char *cause = NULL;

	assert_int_equal(store_start(st, &cause), 0);
	return st;
}

/*
 * Meter 0's poll i (every 2 s from t_old, jittered): p_total (bad every
 * 53rd, NaN every 61st), e_imp (*energy, rising, reset at poll reset_at),
 * v_l1n (float32 values). Its time.
 */
static int64_t put_poll0(struct store *st, int64_t t_old, size_t i, size_t reset_at,
			 double *energy)
{
	int64_t t = t_old + (int64_t)i * 2000000 + (int64_t)(i * 7919 % 3000);
	double p = 5000.0 + 100.0 * sin((double)i / 30.0) + (double)(i % 7) * 0.25;
	int q = i % 53 == 7 ? QUALITY_BAD : QUALITY_GOOD;
	struct sample x[3];

	*energy += i == reset_at ? -990.0 : 2.5 + (double)(i % 5) * 0.125;
	x[0] = mk(t, 0, QTY_P_TOTAL, i % 61 == 11 ? NAN : p, q);
	x[1] = mk(t, 0, QTY_E_IMP, *energy, QUALITY_GOOD);
	x[2] = mk(t, 0, QTY_V_L1N, (double)(float)(230.0 + (double)(i % 9)), QUALITY_GOOD);
	store_put_samples(st, x, 3);
	return t;
}

static void test_rollups(void **state)
{
	enum { POLLS = 1500 };
	char *path = tpath("rollups.db"), *cause = NULL;
	int64_t now = util_now_us(), t_old = (now / 60000000 - 70) * 60000000 + 123;
	struct mins *raw = util_calloc(1, sizeof(*raw)), *rol = util_calloc(1, sizeof(*rol));
	struct mins *ref = util_calloc(1, sizeof(*ref));
	double energy = 1000.0;
	struct store *st;
	size_t i;

	(void)state;
	st = started_store(path);
	for (i = 0; i < POLLS; i++) {
		/* meter 0 every 2 s from 70 minutes ago, meter 2 every 3 s */
		int q = i % 53 == 7 ? QUALITY_BAD : QUALITY_GOOD;
		int64_t t = put_poll0(st, t_old, i, 700, &energy);

		if (i % 4 == 0 || i >= 900) {
			/* sparse (every 8 s: no rollup), then every 2 s */
			struct sample y = mk(t + 500, 2, QTY_P_TOTAL, 40.0 + (double)(i % 11), q);

			store_put_samples(st, &y, 1);
		}
		/* the reference: meter 0's e_imp per minute */
		{
			int64_t mt = t / 60000000 * 60000000;
			struct codec_minute *m;

			if (ref->n == 0 || ref->t[ref->n - 1] != mt) {
				ref->t[ref->n] = mt;
				memset(&ref->m[ref->n], 0, sizeof(ref->m[0]));
				ref->n++;
			}
			m = &ref->m[ref->n - 1];
			if (m->good > 0) {
				double d = energy - m->last;

				m->rise += d < -1e-6 * fabs(m->last) ? 0 : d;
				m->min = energy < m->min ? energy : m->min;
				m->max = energy > m->max ? energy : m->max;
			} else {
				m->min = m->max = m->first = energy;
				m->first_us = t;
			}
			m->n++;
			m->good++;
			m->sum += energy;
			m->last = energy;
			m->last_us = t;
		}
	}
	assert_int_equal(store_flush(st, 10000), 0);
	assert_int_equal(store_settle(st, 20000), 0);
	{
		/* late: into a closed window, a second source for its minute */
		struct sample late = mk(t_old + 30000000 + 7, 0, QTY_P_TOTAL, 1.5, QUALITY_GOOD);

		store_put_samples(st, &late, 1);
	}
	assert_int_equal(store_flush(st, 10000), 0);
	store_stop(st, 1000);
	store_close(st);
	assert_true(db_int(path, "SELECT count(*) FROM blocks") >= 20);
	/* a rollup for every block of 50 polls or more, none for the others */
	assert_true(db_int(path, "SELECT count(*) FROM rollups") >= 10);
	assert_int_equal(db_int(path, "SELECT count(*) FROM rollups"), db_int(path, POLLS50));
	assert_true(db_int(path, "SELECT count(*) FROM blocks WHERE meter_id = 3") >
		    db_int(path, "SELECT count(*) FROM rollups WHERE meter_id = 3"));
	assert_true(db_int(path, "SELECT count(*) FROM rollups WHERE meter_id = 3") >= 3);
	assert_int_equal(db_int(path, "SELECT count(*) FROM rollups r JOIN blocks b ON b.id = r.id"
				      " AND b.meter_id = r.meter_id AND r.w0_us = b.win * 300000000"),
			 db_int(path, "SELECT count(*) FROM rollups"));

	for (unsigned q = 0; q < 3; q++) {
		static const unsigned qs[3] = { QTY_P_TOTAL, QTY_E_IMP, QTY_V_L1N };

		minutes_of(path, m0_name, qs[q], t_old - 3600000000LL, now + 60000000, true, raw);
		minutes_of(path, m0_name, qs[q], t_old - 3600000000LL, now + 60000000, false, rol);
		assert_true(raw->n >= 49);
		check_minutes(rol, raw, qs[q] == QTY_E_IMP);
		if (qs[q] == QTY_E_IMP)
			check_minutes(rol, ref, true);
		if (qs[q] == QTY_V_L1N) {
			/* a voltage's rises are not kept in rollups (a counter's are) */
			size_t dropped = 0;

			for (size_t j = 0; j < rol->n; j++)
				dropped += rol->m[j].rise == 0 && raw->m[j].rise != 0;
			assert_true(dropped >= 40);
		}
	}
	/* meter 2: blocks with and without rollups, and poll rows */
	minutes_of(path, m2_name, QTY_P_TOTAL, t_old, now + 60000000, true, raw);
	minutes_of(path, m2_name, QTY_P_TOTAL, t_old, now + 60000000, false, rol);
	assert_true(raw->n >= 49);
	check_minutes(rol, raw, false);
	/* meter 2, a range inside: whole minutes from a time within one */
	minutes_of(path, m2_name, QTY_P_TOTAL, t_old + 600000000 + 5, t_old + 1800000000, true, raw);
	minutes_of(path, m2_name, QTY_P_TOTAL, t_old + 600000000 + 5, t_old + 1800000000, false, rol);
	assert_int_equal(raw->n, 21);
	assert_int_equal(raw->t[0], (t_old + 600000000) / 60000000 * 60000000);
	check_minutes(rol, raw, false);
	/* the late poll: in its minute's counts */
	minutes_of(path, m0_name, QTY_P_TOTAL, t_old + 30000000, t_old + 30000001, false, rol);
	assert_int_equal(rol->n, 1);
	minutes_of(path, m0_name, QTY_P_TOTAL, t_old + 30000000, t_old + 30000001, true, raw);
	check_minutes(rol, raw, false);
	assert_true(rol->m[0].min == 1.5);
	/* unknown meter: nothing */
	minutes_of(path, "nope", QTY_P_TOTAL, t_old, now, false, rol);
	assert_int_equal(rol->n, 0);
	/* two quantities in one pass: the rows of both, as the whole scan has them */
	{
		static const int64_t two[2] = { QTY_P_TOTAL, QTY_V_L1N };
		struct rawset a = { .qty = two }, b = { .qty = two };
		struct store_reader *r = store_reader_open(path, &cause);

		assert_non_null(r);
		assert_int_equal(store_reader_raw_window_set(r, t_old, now + 1, two, 2, take_raw, &a,
							     &cause), 0);
		assert_int_equal(store_reader_raw_window(r, t_old, now + 1, -1, take_raw, &b, &cause),
				 0);
		store_reader_close(r);
		assert_true(a.n > 1000);
		assert_int_equal(a.n, b.n);
		assert_int_equal(a.sum_seq, b.sum_seq);
		assert_true(a.ordered && b.ordered);
	}

	/* pruning a block takes its rollup */
	db_exec(path, "DELETE FROM blocks WHERE id = (SELECT min(id) FROM rollups)");
	assert_int_equal(db_int(path, "SELECT count(*) FROM rollups"), db_int(path, POLLS50));

	/* back to schema 7: the rollups are made again, in the background */
	db_exec(path, "DROP TRIGGER blocks_rollup_gone; DROP TABLE rollups;"
		      " DROP TRIGGER blocks_hours_gone; DROP TABLE hours; PRAGMA user_version = 7;");
	st = open_store(path, 100000, 5000, 10);
	assert_int_equal(db_int(path, "SELECT count(*) FROM meta WHERE key = 'rollups.todo'"), 1);
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(store_settle(st, 20000), 0);
	store_stop(st, 1000);
	store_close(st);
	assert_int_equal(db_int(path, "SELECT count(*) FROM meta WHERE key LIKE 'rollups.%'"), 0);
	assert_int_equal(db_int(path, "SELECT count(*) FROM rollups"), db_int(path, POLLS50));
	for (unsigned q = 0; q < 2; q++) {
		unsigned qty = q == 0 ? QTY_E_IMP : QTY_P_TOTAL;

		minutes_of(path, m0_name, qty, t_old, now + 60000000, true, raw);
		minutes_of(path, m0_name, qty, t_old, now + 60000000, false, rol);
		check_minutes(rol, raw, qty == QTY_E_IMP);
	}
	free(raw);
	free(rol);
	free(ref);
	free(path);
}

static int collect_window(void *ctx, size_t k, int64_t t_us, const struct codec_minute *m)
{
	struct mins *out = ctx;

	assert_int_equal(k, 0);
	assert_true(out->n < UTIL_ARRAY_LEN(out->t));
	assert_int_equal(t_us % 300000000, 0);
	out->t[out->n] = t_us;
	out->m[out->n++] = *m;
	return 0;
}

static void windows_of(const char *path, const char *meter, unsigned qty, int64_t from,
		       int64_t to, bool raw, struct mins *out)
{
	char *cause = NULL;
	struct store_reader *r = store_reader_open(path, &cause);

	assert_non_null(r);
	out->n = 0;
	if (store_reader_windows_many(r, meter, &qty, 1, from, to, raw, collect_window, out,
				      &cause) < 0)
		fail_msg("store_reader_windows_many: %s", cause);
	store_reader_close(r);
}

/* Every quantity of both meters, the hours' windows against the samples'. */
static void check_windows(const char *path, int64_t from, int64_t to, struct mins *raw,
			  struct mins *hrs)
{
	static const unsigned qs[3] = { QTY_P_TOTAL, QTY_E_IMP, QTY_V_L1N };

	for (unsigned q = 0; q < 3; q++)
		for (int m = 0; m < 2; m++) {
			const char *name = m == 0 ? m0_name : m2_name;

			if (m == 1 && q > 0)
				continue;
			windows_of(path, name, qs[q], from, to, true, raw);
			windows_of(path, name, qs[q], from, to, false, hrs);
			assert_true(raw->n >= 2);
			check_minutes(hrs, raw, qs[q] == QTY_E_IMP);
		}
}

/*
 * Hours of windows (issue 13): the closer merges each block into its
 * hour's rows; the windows read from them (with the poll rows' and a late
 * poll's second block) equal those computed from the samples, for a fast
 * and a slow meter, across hours and for a range starting inside a
 * window; an hour whose block was pruned is read from the minutes; the
 * hours are used (the blocks damaged after, the windows unchanged); a
 * file of schema 8 gets them in the background.
 */
static void test_hours(void **state)
{
	enum { POLLS = 4000 };
	char *path = tpath("hours.db"), *cause = NULL;
	int64_t now = util_now_us(), t_old = (now / 60000000 - 140) * 60000000 + 123;
	struct mins *raw = util_calloc(1, sizeof(*raw)), *hrs = util_calloc(1, sizeof(*hrs));
	struct mins *keep = util_calloc(1, sizeof(*keep));
	double energy = 1000.0;
	struct store *st;
	size_t i;

	(void)state;
	st = started_store(path);
	for (i = 0; i < POLLS; i++) {
		/* meter 0 every 2 s from 140 minutes ago, meter 2 every 10 s */
		int q = i % 53 == 7 ? QUALITY_BAD : QUALITY_GOOD;
		int64_t t = put_poll0(st, t_old, i, 1700, &energy);

		if (i % 5 == 0) {
			struct sample y = mk(t + 500, 2, QTY_P_TOTAL, 40.0 + (double)(i % 11), q);

			store_put_samples(st, &y, 1);
		}
	}
	assert_int_equal(store_flush(st, 10000), 0);
	assert_int_equal(store_settle(st, 20000), 0);
	{
		/* late: into a closed window, a second block there */
		struct sample late = mk(t_old + 30000000 + 7, 0, QTY_P_TOTAL, 1.5, QUALITY_GOOD);

		store_put_samples(st, &late, 1);
	}
	assert_int_equal(store_flush(st, 10000), 0);
	assert_int_equal(store_settle(st, 20000), 0);
	store_stop(st, 1000);
	store_close(st);
	/* every hour of blocks has its count, and it is right */
	assert_true(db_int(path, "SELECT count(*) FROM hours WHERE qty = -1") >= 4);
	assert_int_equal(db_int(path, "SELECT count(*) FROM hours WHERE qty = -1"),
			 db_int(path, "SELECT count(*) FROM (SELECT DISTINCT meter_id, win / 12 FROM blocks)"));
	assert_int_equal(db_int(path, "SELECT count(*) FROM hours h WHERE qty = -1 AND n = (SELECT"
				      " count(*) FROM blocks b WHERE b.meter_id = h.meter_id AND"
				      " b.win / 12 * 3600000000 = h.h0_us) AND idsum = (SELECT sum(id)"
				      " FROM blocks b WHERE b.meter_id = h.meter_id AND"
				      " b.win / 12 * 3600000000 = h.h0_us)"),
			 db_int(path, "SELECT count(*) FROM hours WHERE qty = -1"));
	assert_true(db_int(path, "SELECT count(*) FROM (SELECT 1 FROM blocks"
				 " GROUP BY meter_id, win HAVING count(*) > 1)") >= 1); /* the late poll's */

	check_windows(path, t_old - 3600000000LL, now + 60000000, raw, hrs);
	/* a range from inside a window: whole windows */
	windows_of(path, m0_name, QTY_P_TOTAL, t_old + 1500000000 + 5, t_old + 4800000000, true, raw);
	windows_of(path, m0_name, QTY_P_TOTAL, t_old + 1500000000 + 5, t_old + 4800000000, false, hrs);
	assert_int_equal(raw->t[0], (t_old + 1500000000) / 300000000 * 300000000);
	assert_int_equal(raw->n, 12);
	check_minutes(hrs, raw, false);
	/* the late poll: in its window's counts */
	windows_of(path, m0_name, QTY_P_TOTAL, t_old + 30000000, t_old + 30000001, false, hrs);
	assert_int_equal(hrs->n, 1);
	assert_true(hrs->m[0].min == 1.5);
	/* unknown meter: nothing */
	windows_of(path, "nope", QTY_P_TOTAL, t_old, now, false, hrs);
	assert_int_equal(hrs->n, 0);

	/* a pruned block takes its hour's rows; that hour comes from the minutes */
	{
		int64_t m = db_int(path, "SELECT meter_id FROM blocks ORDER BY id LIMIT 1");
		int64_t h = db_int(path, "SELECT win / 12 * 3600000000 FROM blocks ORDER BY id LIMIT 1");
		char sql[160];

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM hours WHERE meter_id = %" PRId64
			 " AND h0_us = %" PRId64, m, h);
		assert_true(db_int(path, sql) >= 3);
		db_exec(path, "DELETE FROM blocks WHERE id = (SELECT min(id) FROM blocks)");
		assert_int_equal(db_int(path, sql), 0);
	}
	check_windows(path, t_old - 3600000000LL, now + 60000000, raw, hrs);

	/* back to schema 8: the hours are made again, in the background */
	db_exec(path, "DROP TRIGGER blocks_hours_gone; DROP TABLE hours; PRAGMA user_version = 8;");
	st = open_store(path, 100000, 5000, 10);
	assert_int_equal(db_int(path, "SELECT count(*) FROM meta WHERE key = 'hours.todo'"), 1);
	assert_int_equal(store_start(st, &cause), 0);
	assert_int_equal(store_settle(st, 20000), 0);
	store_stop(st, 1000);
	store_close(st);
	assert_int_equal(db_int(path, "SELECT count(*) FROM meta WHERE key LIKE 'hours.%'"), 0);
	assert_int_equal(db_int(path, "SELECT count(*) FROM hours WHERE qty = -1"),
			 db_int(path, "SELECT count(*) FROM (SELECT DISTINCT meter_id, win / 12 FROM blocks)"));
	check_windows(path, t_old - 3600000000LL, now + 60000000, raw, hrs);

	/* the hours are what is read: the blocks damaged, the windows of the
	 * hours of blocks only (not the newest, of poll rows) unchanged */
	{
		int64_t to = db_int(path, "SELECT max(win) / 12 * 3600000000 FROM blocks");

		windows_of(path, m0_name, QTY_E_IMP, t_old, to, false, keep);
		assert_true(keep->n >= 12);
		db_exec(path, "UPDATE blocks SET data = x'00'");
		windows_of(path, m0_name, QTY_E_IMP, t_old, to, false, hrs);
		check_minutes(hrs, keep, true);
	}
	free(raw);
	free(hrs);
	free(keep);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_reopen_no_duplicates),
		cmocka_unit_test(test_migrate_from_v0),
		cmocka_unit_test(test_refuse_newer),
		cmocka_unit_test(test_migrate_from_v1),
		cmocka_unit_test(test_alarm_journal),
		cmocka_unit_test(test_refuse_not_sqlite),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_same_time_two_rows),
		cmocka_unit_test(test_seq_not_reused),
		cmocka_unit_test(test_batching),
		cmocka_unit_test(test_commit_ms),
		cmocka_unit_test(test_stop_flushes),
		cmocka_unit_test(test_stop_drain_gives_up),
		cmocka_unit_test(test_queue_max),
		cmocka_unit_test(test_intake_mark_with_samples),
		cmocka_unit_test(test_intake_record_whole),
		cmocka_unit_test(test_locked),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_drop_ranges),
		cmocka_unit_test(test_damaged_replaced),
		cmocka_unit_test(test_damaged_in_use),
		cmocka_unit_test(test_damaged_truncated),
		cmocka_unit_test(test_check_limit),
		cmocka_unit_test(test_reader_filters),
		cmocka_unit_test(test_reader_first_good),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_comm_changes),
		cmocka_unit_test(test_migrate_real_v3),
		cmocka_unit_test(test_forecasts),
		cmocka_unit_test(test_migrate_real_v5),
		cmocka_unit_test(test_export_csv),
		cmocka_unit_test(test_export_options),
		cmocka_unit_test(test_alarms_command),
		cmocka_unit_test(test_export_write_errors),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_good_values_many),
		cmocka_unit_test(test_follow_readers),
		cmocka_unit_test(test_dense_layout),
		cmocka_unit_test(test_hold_unsynced),
		cmocka_unit_test(test_batch_poll_whole),
		cmocka_unit_test(test_rollups),
		cmocka_unit_test(test_hours),
	};
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	log_set_level(LOG_ERROR);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (rc == 0)
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "test files kept in %s\n", tmpdir);
	return rc;
}
