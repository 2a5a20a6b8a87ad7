// SPDX-License-Identifier: MIT
/*
 * store: the local SQLite buffer (design in include/phasor/store.h, schema
 * and failure states in docs/buffer.md).
 *
 * One writer thread owns the write connection. Producers copy samples into
 * immutable chunks appended to a list under st->lock; the writer copies up
 * to batch_rows of them into its own buffer, writes them in one transaction
 * without holding the lock, and only then removes them from the list. So a
 * refused transaction loses nothing: the rows are still at the head of the
 * queue and the next attempt (after a backoff) takes them again. The queue
 * is bounded by queue_max samples; past it new samples are counted as
 * dropped, and the next successful transaction records a "drop" event.
 *
 * seq values are assigned by the writer from a counter kept in the meta
 * table, in the same transaction as the rows, so a seq is never reused even
 * after rows are pruned (cheaper than AUTOINCREMENT, see docs/buffer.md).
 *
 * Readers open their own read-only connection; WAL lets them read while the
 * writer commits.
 */
#include "phasor/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "phasor/codec.h"
#include "phasor/comm.h"
#include "phasor/log.h"
#include "phasor/samples_vtab.h"
#include "phasor/util.h"

/* PRAGMA application_id of a buffer: 0x50485352, "PHSR". */
#define STORE_APP_ID 1346917202
#define STR_(x) #x
#define STR(x) STR_(x)
#define BUSY_TIMEOUT_MS 200            /* the writer's wait for a lock per attempt */
#define OPEN_BUSY_TIMEOUT_MS 5000      /* before the writer runs (open, meters, session) */
#define READER_BUSY_TIMEOUT_MS 2000
#define BACKOFF_MIN_US 250000
#define BACKOFF_MAX_US 5000000
#define HK_IDLE_US 2000000             /* housekeeping when nothing is to do: every 2 s */
#define MIG_ROWS 50000                 /* old rows converted per transaction */
#define CLOSE_POLLS 20000              /* poll rows closed per transaction, at most */
#define HK_START_US 3000000            /* no housekeeping in the first 3 s: the first batches go first */
#define MIG_LOG_US 10000000            /* migration progress in the log */
#define ROLL_BLOCKS 500                /* old blocks given rollups per transaction */
#define ROLLUP_MIN_POLLS 50            /* a block of fewer polls (slower than one per 6 s) has no rollup */
#define EVENTS_MAX 100000              /* queued events; beyond, counted and dropped */
#define EVENTS_PER_BATCH 1000
#define ALARMS_PER_BATCH 4096
#define COMMS_PER_BATCH 1000
#define FORECASTS_PER_BATCH 64
#define DROP_LOG_INTERVAL_US 10000000
#define BATCH_ROWS_MAX 1000000
#define CHECK_MS 2000                  /* PRAGMA quick_check at open, at most */
#define LOCK_ASIDE_MS 1000             /* waiting for the lock to move a damaged file */

/* ---- schema ---- */

/*
 * Migration i takes a file from user_version i to i + 1, in one
 * transaction. Append steps; never edit a released one.
 *
 * samples.value has no declared type on purpose: with REAL affinity SQLite
 * stores integral doubles as integers and -0.0 comes back as +0.0. Without
 * affinity the bound double is kept as an 8-byte IEEE value, bit for bit.
 */
static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE meters(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT UNIQUE NOT NULL,\n"
	"  driver TEXT,\n"
	"  profile TEXT,\n"
	"  host TEXT,\n"
	"  port INTEGER,\n"
	"  unit INTEGER,\n"
	"  topics TEXT,\n"
	"  description TEXT,\n"
	"  first_seen_us INTEGER,\n"
	"  last_seen_us INTEGER);\n"
	"CREATE TABLE quantities(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT UNIQUE NOT NULL,\n"
	"  unit TEXT);\n"
	"CREATE TABLE sessions(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  start_us INTEGER NOT NULL,\n"
	"  end_us INTEGER,\n"
	"  host TEXT,\n"
	"  pid INTEGER,\n"
	"  mode TEXT,\n"
	"  config_path TEXT,\n"
	"  config_digest TEXT,\n"
	"  config_text TEXT,\n"
	"  version TEXT);\n"
	"CREATE TABLE samples(\n"
	"  seq INTEGER PRIMARY KEY,\n"
	"  t_us INTEGER NOT NULL,\n"
	"  meter_id INTEGER NOT NULL,\n"
	"  qty_id INTEGER NOT NULL,\n"
	"  value,          -- a double or NULL (NaN); no affinity: keeps -0.0\n"
	"  quality INTEGER NOT NULL,\n"
	"  session_id INTEGER);\n"
	"CREATE INDEX samples_t_us ON samples(t_us);\n"
	"CREATE TABLE events(\n"
	"  seq INTEGER PRIMARY KEY,\n"
	"  t_us INTEGER NOT NULL,\n"
	"  session_id INTEGER REFERENCES sessions(id),\n"
	"  meter_id INTEGER REFERENCES meters(id),\n"
	"  source TEXT NOT NULL,\n"
	"  what TEXT NOT NULL,\n"
	"  text TEXT);\n"
	"CREATE TABLE meta(\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value INTEGER NOT NULL) WITHOUT ROWID;\n"
	"INSERT INTO meta(key, value) VALUES('samples.last_seq', 0), ('events.last_seq', 0);\n"
	"PRAGMA application_id = " STR(STORE_APP_ID) ";\n",
	/* 1 -> 2: the alarm journal and the buffer's identity. AUTOINCREMENT:
	 * alarm events are few, and a seq must never come back after pruning
	 * (the sync watermark). */
	"CREATE TABLE alarm_events(\n"
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  t_us INTEGER NOT NULL,\n"
	"  id TEXT NOT NULL UNIQUE,\n"
	"  origin TEXT NOT NULL,\n"
	"  session_id INTEGER,\n"
	"  alarm TEXT NOT NULL,\n"
	"  meter TEXT NOT NULL DEFAULT '',\n"
	"  quantity TEXT,\n"
	"  priority TEXT NOT NULL,\n"
	"  event TEXT NOT NULL,\n"
	"  state TEXT NOT NULL,\n"
	"  value,\n"
	"  limit_value,\n"
	"  operator TEXT,\n"
	"  note TEXT,\n"
	"  raised_us INTEGER,\n"
	"  until_us INTEGER);\n"
	"CREATE INDEX alarm_events_t_us ON alarm_events(t_us);\n"
	"CREATE INDEX alarm_events_key ON alarm_events(alarm, meter, seq);\n"
	"CREATE TABLE identity(\n"
	"  key TEXT PRIMARY KEY,\n"
	"  value TEXT NOT NULL) WITHOUT ROWID;\n",
	/* 2 -> 3: the sync (src/sync/sync.c): its watermarks in meta and the rows
	 * the central database refused for a data reason. */
	"CREATE TABLE sync_quarantine(\n"
	"  kind TEXT NOT NULL,        -- 'sample' or 'alarm'\n"
	"  seq INTEGER NOT NULL,      -- samples.seq or alarm_events.seq\n"
	"  t_us INTEGER NOT NULL,\n"
	"  sqlstate TEXT,\n"
	"  error TEXT NOT NULL,\n"
	"  first_us INTEGER NOT NULL,\n"
	"  last_us INTEGER NOT NULL,\n"
	"  attempts INTEGER NOT NULL DEFAULT 1,\n"
	"  PRIMARY KEY (kind, seq)) WITHOUT ROWID;\n"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('sync.samples_seq', 0),\n"
	"  ('sync.alarms_seq', 0), ('sync.quota_dropped', 0);\n",
	/* 3 -> 4: comm state as data (docs/buffer.md, "comm_changes"). Rows
	 * of older sessions are made once from the "status" events, whose
	 * text has been "BEFORE -> AFTER[: ERROR]" since the first release:
	 * "unknown" at each session's start for every meter with such an
	 * event, the changes, and "unknown" at a session's end. */
	"CREATE TABLE comm_changes(\n"
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  t_us INTEGER NOT NULL,\n"
	"  session_id INTEGER REFERENCES sessions(id),\n"
	"  meter_id INTEGER NOT NULL REFERENCES meters(id),\n"
	"  status INTEGER NOT NULL,   -- enum comm_status: 0 unknown, 1 ok, 2 stale, 3 down\n"
	"  error TEXT);               -- the source's error; NULL when none\n"
	"CREATE INDEX comm_changes_meter_t ON comm_changes(meter_id, t_us);\n"
	"WITH st(seq, t_us, session_id, meter_id, rest) AS (\n"
	"  SELECT seq, t_us, session_id, meter_id, substr(text, instr(text, ' -> ') + 4)\n"
	"  FROM events WHERE what = 'status' AND meter_id IS NOT NULL\n"
	"  AND source IN ('modbus', 'mqtt') AND instr(text, ' -> ') > 0),\n"
	"ch(seq, t_us, session_id, meter_id, name, error) AS (\n"
	"  SELECT seq, t_us, session_id, meter_id,\n"
	"  CASE WHEN instr(rest, ': ') > 0 THEN substr(rest, 1, instr(rest, ': ') - 1) ELSE rest END,\n"
	"  CASE WHEN instr(rest, ': ') > 0 THEN substr(rest, instr(rest, ': ') + 2) END FROM st),\n"
	"ok(seq, t_us, session_id, meter_id, status, error) AS MATERIALIZED (\n"
	"  SELECT seq, t_us, session_id, meter_id, CASE name WHEN 'unknown' THEN 0 WHEN 'ok' THEN 1\n"
	"  WHEN 'stale' THEN 2 ELSE 3 END, error FROM ch\n"
	"  WHERE name IN ('unknown', 'ok', 'stale', 'down')),\n"
	"-- each (session, meter)'s last change: SQLite takes the bare column\n"
	"-- status from the row of max(seq)\n"
	"last(session_id, meter_id, status, seq) AS (\n"
	"  SELECT session_id, meter_id, status, max(seq) FROM ok GROUP BY session_id, meter_id),\n"
	"rows(t_us, k, seq, session_id, meter_id, status, error) AS (\n"
	"  SELECT s.start_us, 0, 0, l.session_id, l.meter_id, 0, NULL\n"
	"  FROM last l JOIN sessions s ON s.id = l.session_id\n"
	"  UNION ALL SELECT t_us, 1, seq, session_id, meter_id, status, error FROM ok\n"
	"  UNION ALL SELECT s.end_us, 2, 0, l.session_id, l.meter_id, 0, NULL\n"
	"  FROM last l JOIN sessions s ON s.id = l.session_id\n"
	"  WHERE s.end_us IS NOT NULL AND l.status != 0)\n"
	"INSERT INTO comm_changes(t_us, session_id, meter_id, status, error)\n"
	"  SELECT t_us, session_id, meter_id, status, error FROM rows\n"
	"  ORDER BY t_us, k, seq, meter_id;\n",
	/* 4 -> 5: one recorder, many consoles (docs/architecture.md). The
	 * operator actions attached consoles ask of the recorder, which
	 * applies each once and marks it done in the transaction that
	 * journals its event; and what the recorder says of itself. */
	"CREATE TABLE alarm_requests(\n"
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  t_us INTEGER NOT NULL,\n"
	"  console TEXT NOT NULL,     -- who asked: host:pid of the attached console\n"
	"  operator TEXT NOT NULL,\n"
	"  action TEXT NOT NULL,      -- ack shelve unshelve note\n"
	"  alarm TEXT NOT NULL,\n"
	"  meter TEXT NOT NULL DEFAULT '',\n"
	"  note TEXT,\n"
	"  dur_ms INTEGER,            -- shelve: 0 one-shot\n"
	"  done_us INTEGER,           -- NULL: not applied yet\n"
	"  result TEXT,               -- '' applied, else why it was refused\n"
	"  event_id TEXT);            -- the journal row it made\n"
	"CREATE INDEX alarm_requests_pending ON alarm_requests(id) WHERE done_us IS NULL;\n"
	"CREATE TABLE recorder_status(\n"
	"  key TEXT PRIMARY KEY,\n"
	"  t_us INTEGER NOT NULL,\n"
	"  value TEXT NOT NULL) WITHOUT ROWID;\n",
	/* 5 -> 6: every load forecast made (issue 11), one row per interval,
	 * so that its accuracy can be measured against what happened and a
	 * replay shows the forecast current at its instant (docs/buffer.md,
	 * "forecasts"). AUTOINCREMENT: the sync's watermark. */
	"CREATE TABLE forecasts(\n"
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"  made_us INTEGER NOT NULL,   -- when it was made; one run's forecasts share it\n"
	"  meter TEXT NOT NULL DEFAULT '', -- '' the site total\n"
	"  method TEXT NOT NULL,       -- naive_day naive_week dshw combined\n"
	"  t_us INTEGER NOT NULL,      -- the interval's start\n"
	"  step_s INTEGER NOT NULL,    -- the interval's length\n"
	"  forecast,                   -- W, mean power over the interval; NULL: none\n"
	"  lower80, upper80, lower95, upper95, -- W, the prediction intervals; NULL: none\n"
	"  took_us INTEGER);           -- how long making this forecast took\n"
	"CREATE INDEX forecasts_meter_made ON forecasts(meter, made_us);\n"
	"CREATE INDEX forecasts_meter_t ON forecasts(meter, t_us);\n"
	"INSERT OR IGNORE INTO meta(key, value) VALUES('sync.forecasts_seq', 0);\n",
	/* 6 -> 7: the dense sample layout (issue 17; docs/buffer.md, "Samples:
	 * polls and blocks"). Instant: the old rows stay in samples_v6 and the
	 * writer converts them in batches between its own transactions; the
	 * module samples (samples_vtab.c) shows all three tables as one. */
	"ALTER TABLE samples RENAME TO samples_v6;\n"
	"CREATE TABLE shapes(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  qty BLOB UNIQUE NOT NULL);  -- the poll's quantity ids, one byte each\n"
	"CREATE TABLE polls(\n"
	"  first_seq INTEGER PRIMARY KEY, -- seq of the poll's first sample\n"
	"  t_us INTEGER NOT NULL,\n"
	"  meter_id INTEGER NOT NULL,\n"
	"  shape_id INTEGER NOT NULL,\n"
	"  session_id INTEGER,\n"
	"  n INTEGER NOT NULL,             -- samples: the shape's length\n"
	"  data BLOB NOT NULL);            -- codec_poll_pack\n"
	"CREATE INDEX polls_t_us ON polls(t_us);\n"
	"CREATE TABLE blocks(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  win INTEGER NOT NULL,           -- t_us / 300 s\n"
	"  meter_id INTEGER NOT NULL,\n"
	"  shape_id INTEGER NOT NULL,\n"
	"  session_id INTEGER,\n"
	"  t0_us INTEGER NOT NULL,         -- first and last poll\n"
	"  t1_us INTEGER NOT NULL,\n"
	"  seq_lo INTEGER NOT NULL,        -- lowest and highest sample seq\n"
	"  seq_hi INTEGER NOT NULL,\n"
	"  n INTEGER NOT NULL,             -- samples\n"
	"  data BLOB NOT NULL);            -- codec_block_encode\n"
	"CREATE INDEX blocks_t0 ON blocks(t0_us);\n"
	"CREATE INDEX blocks_meter_t0 ON blocks(meter_id, t0_us);\n"
	"CREATE INDEX blocks_seq_lo ON blocks(seq_lo);\n"
	"CREATE INDEX blocks_seq_hi ON blocks(seq_hi);\n",
	/* 7 -> 8: per-minute rollups (issue 12; docs/buffer.md, "Rollups"),
	 * one row per block, made by the closer with the block; the blocks
	 * already there get theirs from the writer in the background (meta
	 * rollups.todo: the highest block id without one, rollups.done: how
	 * far it got). A block's rollup goes with it, whoever deletes it. */
	"CREATE TABLE rollups(\n"
	"  id INTEGER PRIMARY KEY,        -- blocks.id\n"
	"  meter_id INTEGER NOT NULL,\n"
	"  w0_us INTEGER NOT NULL,        -- the window's start: blocks.win * 300 s\n"
	"  data BLOB NOT NULL);           -- codec_rollup_encode\n"
	"CREATE INDEX rollups_meter_w0 ON rollups(meter_id, w0_us);\n"
	"CREATE TRIGGER blocks_rollup_gone AFTER DELETE ON blocks BEGIN\n"
	"  DELETE FROM rollups WHERE id = old.id; END;\n"
	"INSERT INTO meta(key, value) SELECT 'rollups.todo', (SELECT max(id) FROM blocks)\n"
	"  WHERE EXISTS (SELECT 1 FROM blocks);\n"
	"INSERT INTO meta(key, value) SELECT 'rollups.done', 0 WHERE EXISTS (SELECT 1 FROM blocks);\n",
	/* 8 -> 9: hours of 5-minute windows (issue 13; docs/buffer.md,
	 * "Windows"), a row per meter, quantity and hour, each block merged
	 * into them by the closer in the block's transaction; row qty -1
	 * counts the blocks merged (n) and sums their ids, so that a reader
	 * trusts an hour only when they are the blocks the hour has now.
	 * Deleting a block deletes its hour's rows (readers then take that
	 * hour from the minutes); the blocks already there are merged in the
	 * background (meta hours.todo / hours.done, as the rollups). */
	"CREATE TABLE hours(\n"
	"  meter_id INTEGER NOT NULL,\n"
	"  qty INTEGER NOT NULL,            -- enum qty_id; -1: the blocks merged\n"
	"  h0_us INTEGER NOT NULL,          -- the hour's start\n"
	"  n INTEGER NOT NULL,              -- row -1: blocks merged; else 0\n"
	"  idsum INTEGER NOT NULL,          -- row -1: the sum of their ids; else 0\n"
	"  data BLOB,                       -- codec_hour_encode; row -1: NULL\n"
	"  PRIMARY KEY(meter_id, qty, h0_us)) WITHOUT ROWID;\n"
	"CREATE TRIGGER blocks_hours_gone AFTER DELETE ON blocks BEGIN\n"
	"  DELETE FROM hours WHERE meter_id = old.meter_id AND h0_us = old.win / 12 * 3600000000\n"
	"    AND qty IN (-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63); END;\n"
	"INSERT INTO meta(key, value) SELECT 'hours.todo', (SELECT max(id) FROM blocks)\n"
	"  WHERE EXISTS (SELECT 1 FROM blocks);\n"
	"INSERT INTO meta(key, value) SELECT 'hours.done', 0 WHERE EXISTS (SELECT 1 FROM blocks);\n",
};
/* the trigger lists every quantity (a probe each: qty is not the key's prefix) */
_Static_assert(QTY__COUNT <= 64, "blocks_hours_gone");
_Static_assert(CODEC_WINDOW_US == SAMPLES_WIN_US && CODEC_HOUR_US == 12 * SAMPLES_WIN_US,
	       "hours of windows");

/* The numbers of enum comm_status are the file's: they never change. */
_Static_assert(COMM_UNKNOWN == 0 && COMM_OK == 1 && COMM_STALE == 2 && COMM_DOWN == 3,
	       "comm_changes.status");

_Static_assert(STORE_APP_ID == 0x50485352, "PHSR");

/* ---- the queue ---- */

/* Samples from one store_put_samples call; immutable once linked. */
struct chunk {
	struct chunk *next;
	int64_t arrived;          /* util_mono_us() */
	size_t n;                 /* samples in s */
	size_t off;               /* first not yet committed (writer only, under lock) */
	uint64_t mark;            /* MQTT intake seq covered once this chunk is committed; 0: none */
	struct sample s[];
};

/*
 * Events and alarm journal rows wait in FIFOs of nodes (the node first in
 * each record); the writer takes up to a batch of them, writes them, and
 * only then frees them (fifo_drop).
 */
struct qnode {
	struct qnode *next;
	int64_t arrived;          /* util_mono_us() */
};

struct qfifo {
	struct qnode *head, *tail;
	size_t n;
	uint64_t in, out;         /* pushed / committed, ever */
};

static void fifo_push(struct qfifo *f, struct qnode *x)
{
	x->next = NULL;
	if (f->tail != NULL)
		f->tail->next = x;
	else
		f->head = x;
	f->tail = x;
	f->n++;
	f->in++;
}

/* Up to max of the oldest nodes, in order, into out; returns the count. */
static size_t fifo_peek(const struct qfifo *f, struct qnode **out, size_t max)
{
	struct qnode *x;
	size_t n = 0;

	for (x = f->head; x != NULL && n < max; x = x->next)
		out[n++] = x;
	return n;
}

/* Free the n oldest nodes (committed: counted out; or abandoned). */
static void fifo_drop(struct qfifo *f, size_t n, bool committed)
{
	if (committed)
		f->out += n;
	while (n-- > 0 && f->head != NULL) {
		struct qnode *x = f->head;

		f->head = x->next;
		if (f->head == NULL)
			f->tail = NULL;
		f->n--;
		free(x);
	}
}

static int64_t fifo_oldest(const struct qfifo *f)
{
	return f->head != NULL ? f->head->arrived : INT64_MAX;
}

struct qevent {
	struct qnode node;
	int64_t t_us;
	int meter;                /* config index, -1: none */
	const char *source, *what, *text; /* into buf; text may be NULL */
	char buf[];
};

/* An alarm journal row; the strings point into buf. */
struct qalarm {
	struct qnode node;
	struct store_alarm_event e;
	char buf[];
};

/* A comm change (store_put_comm_change); error points into buf or is NULL. */
struct qcomm {
	struct qnode node;
	int64_t t_us;
	int meter;                /* config index */
	int status;               /* enum comm_status */
	const char *error;
	char buf[];
};

/* A forecast (store_put_forecast); the arrays and strings point into buf. */
struct qforecast {
	struct qnode node;
	struct store_forecast f;
	char buf[];
};

/* An event the writer itself adds to a transaction (drops, outages). */
struct wevent {
	int64_t t_us;
	const char *what;
	char *text;
};

/*
 * What a schema made per block (the rollups of schema 8, the hours of
 * schema 9) the blocks already there get in the background, in id order:
 * up to id todo, done to id done (meta KEY.todo, KEY.done).
 */
struct store;
struct backfill {
	const char *key;          /* the meta keys' prefix */
	const char *what;         /* for the log */
	int (*put)(struct store *st, int64_t id, int64_t meter, int64_t win, int64_t shape,
		   const struct codec_block *b);
	int64_t todo, done, t0, log_at, count, total;
};
static int put_rollup(struct store *st, int64_t id, int64_t meter, int64_t win, int64_t shape,
		      const struct codec_block *b);
static int put_hours(struct store *st, int64_t id, int64_t meter, int64_t win, int64_t shape,
		     const struct codec_block *b);

struct store {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *ins_poll, *ins_event, *last_sample_seq, *last_event_seq, *set_seq;
	struct wshape *shapes;    /* writer: shapes known to be in the file */
	size_t nshapes;
	sqlite3_stmt *ins_alarm;
	sqlite3_stmt *ins_comm;
	sqlite3_stmt *upd_request, *put_status;
	sqlite3_stmt *ins_forecast;
	sqlite3_stmt *hours_get, *hours_put, *hours_count; /* put_hours */
	char console_id[96];
	int batch_rows, commit_ms;
	int64_t *meter_ids;       /* config index -> meters.id; fixed before start */
	size_t nmeters;
	int64_t session_id;
	char *notice;             /* store_open_notice; NULL: none */

	pthread_t thread;
	bool started, stopped;
	struct sample *wbuf;      /* writer: the batch being written */
	size_t wcap;              /* samples wbuf holds: batch_rows, or a larger intake chunk */
	struct qnode **wev;       /* writer: the batch's events ... */
	struct qnode **wal;       /* ... and alarm journal rows */
	struct qnode **wcm;       /* ... and comm changes */
	size_t nwcm;              /* writer: how many in wcm */
	struct qnode **wfc;       /* ... and forecasts */
	size_t nwfc;

	pthread_mutex_t lock;
	pthread_cond_t wake;      /* the writer waits here */
	pthread_cond_t done;      /* store_flush waits here */
	/* everything below under lock */
	struct chunk *head, *tail;
	size_t queued, queue_max;
	struct qfifo events, alarms;
	uint64_t alarms_dropped;
	struct qfifo comms;       /* comm changes */
	uint64_t comms_dropped;
	struct qfifo forecasts;   /* store_put_forecast */
	uint64_t forecasts_dropped, forecasts_written;
	int *comm_last;           /* per meter: the status last queued (store_stop) */
	uint64_t in_samples, out_samples; /* accepted / committed, ever */
	bool running, stopping;
	int drain_ms;
	int flushers;
	uint64_t dropped, events_dropped;
	uint64_t drop_pending;    /* dropped and not yet recorded as an event */
	int64_t drop_first_us, drop_last_us; /* sample times of those */
	int64_t drop_log_at;      /* util_mono_us of the last warning; 0: never */
	long max_pages_pending;   /* -1: none */
	enum store_state state;
	char error[160];
	int64_t since_us;
	int64_t outage_since_us;  /* when the current outage began */
	uint64_t events_written, commits;
	int64_t last_commit_us;
	/* the MQTT intake mark (src/acquisition/intake.c): */
	char intake_key[24];      /* meta key "intake.SLOT"; "" when there is no intake */
	uint64_t mark_free;       /* a mark whose samples are all committed, not yet saved */
	int64_t mark_free_at;     /* util_mono_us() when mark_free was set */
	uint64_t mark_saved;      /* the mark in the file (writer, under lock) */
	_Atomic uint64_t intake_committed; /* = mark_saved, for any thread */
	/* store_put_status: the newest only, written with the next transaction */
	char *status_key, *status_text;
	int64_t status_t_us;
	int64_t status_at;        /* util_mono_us() when it came */
	bool status_pending;
	uint64_t status_in, status_out; /* given / committed, ever (store_flush) */
	/* the dense layout's housekeeping (writer thread; docs/buffer.md) */
	bool hold_unsynced;       /* [sync]: close only polls the sync has sent */
	int64_t hk_at;            /* util_mono_us of the next housekeeping step */
	bool migrating;           /* samples_v6 still holds rows */
	int64_t mig_total, mig_done, mig_t0, mig_log_at;
	long mig_rows;            /* rows per migration batch */
	uint64_t blocks_written, polls_closed;
	struct backfill roll, hours; /* old blocks getting rollups, hours */
	uint64_t rollups_written;
	bool no_rollups;          /* PHASOR_STORE_ROLLUPS=0: the benchmark's "without" */
	_Atomic int64_t close_cap; /* store_debug_close_before: 0 none */
	struct store_stats hk_pub; /* the five fields above for store_get_stats, under lock */
	bool hk_idle;             /* the last housekeeping step found nothing to do (under lock) */
	int (*dbg_fn)(void *ctx); /* store_debug_on_commit */
	void *dbg_ctx;
	bool in_batch;            /* writer: in transaction() */
};

/* A shape the writer has in the file: quantity ids of a poll. */
struct wshape {
	int64_t id;
	unsigned n;
	uint8_t qty[CODEC_POLL_MAX];
};

const char *store_state_name(enum store_state s)
{
	switch (s) {
	case STORE_OK:
		return "ok";
	case STORE_FULL:
		return "disk full";
	case STORE_LOCKED:
		return "locked";
	case STORE_ERROR:
		return "error";
	}
	return "?";
}

/* ---- small sqlite helpers ---- */

/*
 * SQLite keeps allocation statistics behind one global mutex taken on every
 * malloc and free; the writer then spends a fifth of its time on that lock
 * under load. Nobody reads those statistics here: turn them off once,
 * before SQLite initialises (if something initialised it already, the call
 * fails harmlessly and the statistics stay on).
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void set_cause(char **cause, const char *fmt, ...) UTIL_PRINTF(2, 3);

static void set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	*cause = util_vprintf(fmt, ap);
	va_end(ap);
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* The single integer a query returns (0 when it returns no row). */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	*out = 0;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(s, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

/* bf's marks from meta (none: nothing to do), and how many blocks are left. 0 or -1. */
static int backfill_open(struct store *st, struct backfill *bf, char **cause)
{
	char todo[96], done[96], left[256];

	snprintf(todo, sizeof(todo), "SELECT value FROM meta WHERE key = '%s.todo'", bf->key);
	snprintf(done, sizeof(done), "SELECT value FROM meta WHERE key = '%s.done'", bf->key);
	snprintf(left, sizeof(left),
		 "SELECT count(*) FROM blocks WHERE id > (SELECT value FROM meta WHERE key ="
		 " '%s.done') AND id <= (SELECT value FROM meta WHERE key = '%s.todo')",
		 bf->key, bf->key);
	if (query_int(st->db, todo, &bf->todo) != SQLITE_OK ||
	    query_int(st->db, done, &bf->done) != SQLITE_OK ||
	    (bf->todo > bf->done && query_int(st->db, left, &bf->total) != SQLITE_OK)) {
		set_cause(cause, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	bf->t0 = util_mono_us();
	if (st->no_rollups)
		bf->todo = bf->done = 0;
	if (bf->todo > bf->done)
		log_info("store: %s: making the %s of %" PRId64 " blocks, in the background",
			 st->path, bf->what, bf->total);
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	if (t != NULL)
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static char *format_time(int64_t t_us, char *buf, size_t size)
{
	return util_format_time_ms(t_us, buf, size);
}

/*
 * sqlite3_errmsg, and the operating system's reason when SQLite failed on a
 * system call ("unable to open database file: Permission denied"). Into buf.
 */
static const char *db_errmsg(sqlite3 *db, char *buf, size_t size)
{
	int ext = sqlite3_extended_errcode(db), code = ext & 0xff, sys = sqlite3_system_errno(db);

	if (ext == SQLITE_READONLY_DIRECTORY)
		snprintf(buf, size, "its -shm file is missing and its directory is not writable"
			 " (SQLite needs one or the other to read a WAL file)");
	else if (sys != 0 && (code == SQLITE_CANTOPEN || code == SQLITE_IOERR ||
			      code == SQLITE_READONLY))
		snprintf(buf, size, "%s: %s", sqlite3_errmsg(db), strerror(sys));
	else
		snprintf(buf, size, "%s", sqlite3_errmsg(db));
	return buf;
}

/*
 * Before SQLite opens the buffer for writing: the file and its -wal and
 * -shm must be readable and writable by this user, and their directory
 * writable when one of them is still to be created (SQLite would say
 * only "unable to open database file", or open the file read-only).
 * 0, or -1 with *cause naming the file and the system's reason.
 */
static int check_access(const char *path, char **cause)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	bool create = false;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(suffix); i++) {
		char *name = util_printf("%s%s", path, suffix[i]);
		int rc = access(name, F_OK);

		if (rc == 0) {
			rc = access(name, R_OK | W_OK);
		} else if (errno == ENOENT) {
			create = true;
			rc = 0;
		}
		if (rc < 0) {
			set_cause(cause, "cannot open %s for writing: %s", name, strerror(errno));
			free(name);
			return -1;
		}
		free(name);
	}
	if (create) {
		char *dir = util_strdup(path), *slash = strrchr(dir, '/');

		if (slash == dir)
			slash[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		if (access(slash != NULL ? dir : ".", W_OK | X_OK) < 0) {
			set_cause(cause, "cannot create files in %s (the buffer %s and its -wal and"
				  " -shm files): %s",
				  slash != NULL ? dir : ".", path, strerror(errno));
			free(dir);
			return -1;
		}
		free(dir);
	}
	return 0;
}

/*
 * Whether the file's first 100 bytes (the SQLite header) say it is a phasor
 * buffer: the magic string and application_id "PHSR" at offset 68. Read
 * directly, for a file too damaged for SQLite to read even its header.
 */
static bool buffer_header(const char *path)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char h[100];
	FILE *f = fopen(path, "rb");
	bool yes;

	if (f == NULL)
		return false;
	yes = fread(h, 1, sizeof(h), f) == sizeof(h) && memcmp(h, magic, sizeof(magic)) == 0 &&
	      ((uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71]) ==
		      (uint32_t)STORE_APP_ID;
	fclose(f);
	return yes;
}

/*
 * Check that the file is an SQLite database that this binary can use and
 * return its user_version. Nothing is written. -1 with *cause when it
 * cannot be used, -2 with *cause when it is a phasor buffer that SQLite
 * finds damaged (SQLITE_CORRUPT).
 */
static int check_file(sqlite3 *db, const char *path, int64_t *version, char **cause)
{
	int64_t app = 0, tables = 0;
	int rc;

	rc = query_int(db, "PRAGMA user_version", version);
	if ((rc & 0xff) == SQLITE_NOTADB) {
		set_cause(cause, "%s is not an SQLite database", path);
		return -1;
	}
	if (rc == SQLITE_OK)
		rc = query_int(db, "PRAGMA application_id", &app);
	if (rc == SQLITE_OK)
		rc = query_int(db, "SELECT count(*) FROM sqlite_master", &tables);
	if ((rc & 0xff) == SQLITE_CORRUPT && buffer_header(path)) {
		set_cause(cause, "%s is damaged (%s)", path, sqlite3_errmsg(db));
		return -2;
	}
	if (rc != SQLITE_OK) {
		char why[256];

		set_cause(cause, "cannot read %s: %s", path, db_errmsg(db, why, sizeof(why)));
		return -1;
	}
	if (*version > STORE_SCHEMA_VERSION) {
		set_cause(cause,
			  "%s has buffer schema version %" PRId64
			  ", newer than this phasor's (%d): use a newer phasor",
			  path, *version, STORE_SCHEMA_VERSION);
		return -1;
	}
	if ((*version == 0 && tables > 0) || (*version > 0 && app != STORE_APP_ID)) {
		set_cause(cause,
			  "%s is an SQLite database but not a phasor buffer (user_version %" PRId64
			  ", application_id %" PRId64 ", %" PRId64 " tables)",
			  path, *version, app, tables);
		return -1;
	}
	return 0;
}

/* Step each migration from version to STORE_SCHEMA_VERSION. */
static int migrate(sqlite3 *db, const char *path, int64_t version, char **cause)
{
	int64_t v = version, now;
	char sql[64];
	int rc;

	while (v < STORE_SCHEMA_VERSION) {
		rc = exec(db, "BEGIN IMMEDIATE");
		if (rc != SQLITE_OK)
			goto fail;
		/* Another process may have migrated meanwhile. */
		rc = query_int(db, "PRAGMA user_version", &now);
		if (rc != SQLITE_OK)
			goto fail;
		if (now != v) {
			exec(db, "ROLLBACK");
			if (now > STORE_SCHEMA_VERSION || now < v) {
				set_cause(cause, "%s: schema version changed to %" PRId64
					  " while migrating", path, now);
				return -1;
			}
			v = now;
			continue;
		}
		rc = exec(db, migrations[v]);
		if (rc != SQLITE_OK)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64, v + 1);
		rc = exec(db, sql);
		if (rc != SQLITE_OK)
			goto fail;
		rc = exec(db, "COMMIT");
		if (rc != SQLITE_OK)
			goto fail;
		v++;
		log_info("store: %s: schema migrated to version %" PRId64, path, v);
	}
	return 0;
fail:
	set_cause(cause, "%s: migrating the schema to version %" PRId64 ": %s", path, v + 1,
		  sqlite3_errmsg(db));
	if (!sqlite3_get_autocommit(db))
		exec(db, "ROLLBACK");
	return -1;
}

/*
 * Insert the quantities this binary knows and the file lacks (ids are enum
 * qty_id, append only), and refuse a file whose ids mean something else.
 */
static int sync_quantities(sqlite3 *db, const char *path, char **cause)
{
	sqlite3_stmt *ins = NULL, *get = NULL;
	unsigned i;
	int rc;

	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
					"INSERT INTO quantities(id, name, unit) VALUES(?1, ?2, ?3) "
					"ON CONFLICT(id) DO NOTHING",
					-1, &ins, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT name FROM quantities WHERE id = ?1", -1, &get,
					NULL);
	for (i = 0; rc == SQLITE_OK && i < QTY__COUNT; i++) {
		const char *name;

		sqlite3_bind_int(ins, 1, (int)i);
		sqlite3_bind_text(ins, 2, qty_name(i), -1, SQLITE_STATIC);
		sqlite3_bind_text(ins, 3, qty_unit(i), -1, SQLITE_STATIC);
		rc = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (rc != SQLITE_DONE)
			break;
		sqlite3_bind_int(get, 1, (int)i);
		rc = sqlite3_step(get);
		if (rc != SQLITE_ROW) {
			sqlite3_reset(get);
			break;
		}
		name = (const char *)sqlite3_column_text(get, 0);
		if (name == NULL || strcmp(name, qty_name(i)) != 0) {
			char safe[64];

			set_cause(cause, "%s: quantity %u is '%s' in the file but '%s' in this phasor",
				  path, i, util_sanitize(safe, sizeof(safe), name ? name : ""),
				  qty_name(i));
			sqlite3_reset(get);
			sqlite3_finalize(ins);
			sqlite3_finalize(get);
			exec(db, "ROLLBACK");
			return -1;
		}
		sqlite3_reset(get);
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_OK)
		rc = exec(db, "COMMIT");
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: recording the quantities: %s", path, sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			exec(db, "ROLLBACK");
	}
	sqlite3_finalize(ins);
	sqlite3_finalize(get);
	return rc == SQLITE_OK ? 0 : -1;
}

/* Read the buffer's console id, making it on first use. */
static int load_identity(struct store *st, char **cause)
{
	char host[64] = "phasor", made[96];
	unsigned char rnd[4] = { 0 };
	sqlite3_stmt *s = NULL;
	FILE *f;
	int rc;

	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		util_strlcpy(host, "phasor", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (char *h = host; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-')
			*h = '-';
	f = fopen("/dev/urandom", "rb");
	if (f == NULL || fread(rnd, 1, sizeof(rnd), f) != sizeof(rnd)) {
		uint64_t x = (uint64_t)util_now_us() ^ ((uint64_t)getpid() << 32);

		memcpy(rnd, &x, sizeof(rnd));
	}
	if (f != NULL)
		fclose(f);
	snprintf(made, sizeof(made), "%s-%02x%02x%02x%02x", host, rnd[0], rnd[1], rnd[2], rnd[3]);
	rc = sqlite3_prepare_v2(st->db,
				"INSERT OR IGNORE INTO identity(key, value) VALUES('console_id', ?1)",
				-1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, made, -1, SQLITE_STATIC);
		rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db,
					"SELECT value FROM identity WHERE key = 'console_id'", -1,
					&s, NULL);
	if (rc == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		util_strlcpy(st->console_id, (const char *)sqlite3_column_text(s, 0),
			     sizeof(st->console_id));
	else
		rc = SQLITE_ERROR;
	sqlite3_finalize(s);
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: console id: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	return 0;
}

static int set_max_pages(sqlite3 *db, long pages)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %ld", pages);
	return exec(db, sql);
}

/* ---- a damaged buffer (docs/buffer.md, "A damaged buffer") ---- */

/*
 * Stops a PRAGMA quick_check at its deadline: the b-tree part of the check
 * is one step of SQLite's program, which a progress handler cannot stop
 * but sqlite3_interrupt can. Interrupts again every 1 ms until done, in
 * case the statement had not started yet.
 */
struct watchdog {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	sqlite3 *db;
	int64_t deadline;         /* util_mono_us */
	bool done;
};

static void *watchdog_main(void *arg)
{
	struct watchdog *w = arg;

	util_thread_name("store-watch");

	pthread_mutex_lock(&w->lock);
	while (!w->done) {
		int64_t now = util_mono_us(), at = now < w->deadline ? w->deadline : now + 1000;
		struct timespec ts;

		if (now >= w->deadline)
			sqlite3_interrupt(w->db);
		ts.tv_sec = (time_t)(at / 1000000);
		ts.tv_nsec = (long)(at % 1000000) * 1000;
		pthread_cond_timedwait(&w->cond, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/*
 * PRAGMA quick_check on the whole file (pages, b-trees, WAL content
 * included), stopped after limit_ms: a huge file is then not checked fully,
 * which is logged, and the open goes on. 0 (sound or not fully checked),
 * -2 with *cause when damaged, -1 with *cause when the check itself failed.
 */
static int check_pages(sqlite3 *db, const char *path, long limit_ms, char **cause)
{
	struct watchdog w = { .db = db, .deadline = util_mono_us() + (int64_t)limit_ms * 1000 };
	pthread_condattr_t ca;
	pthread_t thread;
	sqlite3_stmt *s = NULL;
	char *first = NULL;
	bool watching;
	int rc;

	if (limit_ms == 0) {
		/* No time at all: not checked (deterministic, unlike a watchdog at 0 ms). */
		log_warn("store: %s: integrity check skipped (PHASOR_STORE_CHECK_MS = 0)", path);
		return 0;
	}
	pthread_mutex_init(&w.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cond, &ca);
	pthread_condattr_destroy(&ca);
	watching = pthread_create(&thread, NULL, watchdog_main, &w) == 0;
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *t = (const char *)sqlite3_column_text(s, 0);

			if (t != NULL && strncmp(t, "*** ", 4) == 0 && strchr(t, '\n') != NULL)
				t = strchr(t, '\n') + 1; /* "*** in database main ***\n" */
			if (t == NULL || strcmp(t, "ok") != 0)
				first = util_strdup(t != NULL ? t : "?");
			rc = SQLITE_OK;
		}
	}
	if ((rc & 0xff) == SQLITE_CORRUPT)
		first = util_strdup(sqlite3_errmsg(db));
	sqlite3_finalize(s);
	if (watching) {
		pthread_mutex_lock(&w.lock);
		w.done = true;
		pthread_cond_signal(&w.cond);
		pthread_mutex_unlock(&w.lock);
		pthread_join(thread, NULL);
	}
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	if (first != NULL) {
		char safe[160];

		util_sanitize(safe, sizeof(safe), first);
		set_cause(cause, "%s is damaged (%s)", path, safe);
		free(first);
		return -2;
	}
	if (rc == SQLITE_INTERRUPT) {
		log_warn("store: %s: integrity check stopped after %ld ms (a large file):"
			 " not checked fully", path, limit_ms);
		return 0;
	}
	if (rc != SQLITE_OK) {
		char why[256];

		set_cause(cause, "cannot check %s: %s", path, db_errmsg(db, why, sizeof(why)));
		return -1;
	}
	return 0;
}

/* What could be read from a damaged buffer before it was moved aside. */
struct salvage {
	char console_id[96];      /* "" when not kept */
	int64_t samples_seq, events_seq, alarms_seq;
	sqlite3_value *session[10]; /* its newest sessions row; [0] NULL when none */
	/* The MQTT intake marks (meta "intake.SLOT", src/acquisition/intake.c): the journal
	 * beside the buffer stays, and its records up to the mark are in the
	 * damaged file, so they must not be decoded again into the new one. */
	char intake_key[16][24];
	int64_t intake_mark[16];
	size_t nintake;
};

#define SESSION_COLUMNS "id, start_us, end_us, host, pid, mode, config_path, config_digest," \
			" config_text, version"

static void salvage_free(struct salvage *v)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(v->session); i++) {
		sqlite3_value_free(v->session[i]);
		v->session[i] = NULL;
	}
}

/* A query's single integer into *out; false when it cannot be read. */
static bool salvage_int(sqlite3 *db, const char *sql, int64_t *out)
{
	return query_int(db, sql, out) == SQLITE_OK;
}

/*
 * The console id and the seq counters of the damaged file, so that the new
 * file goes on where it stopped: the central database keys samples on
 * (console, seq, time) and skips seqs at or below its watermark. The id is
 * kept only when every counter (samples, alarm journal, sessions) was read;
 * otherwise the new file gets a new console id, safe from collisions.
 */
static void salvage_read(sqlite3 *db, struct salvage *v)
{
	int64_t n = 0;
	sqlite3_stmt *s = NULL;
	bool ok = true;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (sqlite3_prepare_v2(db, "SELECT value FROM identity WHERE key = 'console_id'", -1, &s,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
		util_strlcpy(v->console_id, (const char *)sqlite3_column_text(s, 0),
			     sizeof(v->console_id));
	sqlite3_finalize(s);
	s = NULL;
	/* The meta counter is the authority (max(seq) falls after pruning). */
	ok = salvage_int(db, "SELECT value FROM meta WHERE key = 'samples.last_seq'",
			 &v->samples_seq) && v->samples_seq > 0;
	if (salvage_int(db, "SELECT max(seq) FROM samples", &n) && n > v->samples_seq)
		v->samples_seq = n;
	if (salvage_int(db, "SELECT max(seq) FROM samples_v6", &n) && n > v->samples_seq)
		v->samples_seq = n;
	if (salvage_int(db, "SELECT max(first_seq + n - 1) FROM polls", &n) && n > v->samples_seq)
		v->samples_seq = n;
	if (salvage_int(db, "SELECT max(seq_hi) FROM blocks", &n) && n > v->samples_seq)
		v->samples_seq = n;
	if (!salvage_int(db, "SELECT value FROM meta WHERE key = 'events.last_seq'",
			 &v->events_seq))
		v->events_seq = 0;
	if (salvage_int(db, "SELECT max(seq) FROM events", &n) && n > v->events_seq)
		v->events_seq = n;
	ok = ok && salvage_int(db, "SELECT coalesce((SELECT seq FROM sqlite_sequence"
				   " WHERE name = 'alarm_events'), 0)", &v->alarms_seq);
	if (ok && sqlite3_prepare_v2(db, "SELECT " SESSION_COLUMNS " FROM sessions"
				     " ORDER BY id DESC LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
		int rc = sqlite3_step(s);

		for (i = 0; rc == SQLITE_ROW && i < UTIL_ARRAY_LEN(v->session); i++)
			v->session[i] = sqlite3_value_dup(sqlite3_column_value(s, (int)i));
		ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	} else {
		ok = false;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta WHERE key LIKE 'intake.%'", -1, &s,
			       NULL) == SQLITE_OK) {
		while (v->nintake < UTIL_ARRAY_LEN(v->intake_mark) && sqlite3_step(s) == SQLITE_ROW &&
		       sqlite3_column_text(s, 0) != NULL) {
			util_strlcpy(v->intake_key[v->nintake], (const char *)sqlite3_column_text(s, 0),
				     sizeof(v->intake_key[0]));
			v->intake_mark[v->nintake++] = sqlite3_column_int64(s, 1);
		}
	}
	sqlite3_finalize(s);
	if (!ok) {
		v->console_id[0] = '\0';
		salvage_free(v);
	}
}

/*
 * Move the damaged buffer and its -wal and -shm aside, as
 * PATH.corrupt-YYYYmmddTHHMMSSZ (-wal, -shm: the names SQLite pairs), under
 * an exclusive lock on the file. Refused when another process has the file
 * open: it would go on writing into the moved file and, when it closes,
 * delete the -wal of the new one by name. Nothing is deleted; the moved
 * file is left byte for byte as it was (no checkpoint on close). Closes
 * *db. 0 with *moved (caller frees), or -1 with *cause.
 */
static int move_aside(sqlite3 **db, const char *path, const struct stat *opened, char **moved,
		      char **cause)
{
	static const char *const suffix[] = { "-wal", "-shm", "" }; /* the file last */
	char stamp[32], *base = NULL;
	struct stat now;
	struct tm tm;
	time_t t = time(NULL);
	size_t i, done = 0;
	int rc, n;

	sqlite3_db_config(*db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_busy_timeout(*db, LOCK_ASIDE_MS);
	rc = exec(*db, "PRAGMA locking_mode = EXCLUSIVE");
	if (rc == SQLITE_OK)
		rc = exec(*db, "BEGIN EXCLUSIVE");
	if ((rc & 0xff) == SQLITE_BUSY) {
		set_cause(cause, "another process has it open (phasor record, sync or a console):"
			  " stop it and start again, so that the file can be moved aside");
		goto out;
	}
	if (rc != SQLITE_OK) {
		set_cause(cause, "SQLite cannot even lock it (%s): move it aside by hand (with"
			  " its -wal and -shm) while no phasor uses it, then start again",
			  sqlite3_errmsg(*db));
		goto out;
	}
	if (stat(path, &now) < 0 || now.st_dev != opened->st_dev || now.st_ino != opened->st_ino) {
		set_cause(cause, "the file was replaced while it was checked: start again");
		goto out;
	}
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (n = 1; n < 100; n++) {
		bool taken = false;

		free(base);
		base = n == 1 ? util_printf("%s.corrupt-%s", path, stamp)
			      : util_printf("%s.corrupt-%s-%d", path, stamp, n);
		for (i = 0; i < UTIL_ARRAY_LEN(suffix) && !taken; i++) {
			char *name = util_printf("%s%s", base, suffix[i]);

			taken = access(name, F_OK) == 0 || errno != ENOENT;
			free(name);
		}
		if (!taken)
			break;
	}
	for (i = 0; n < 100 && i < UTIL_ARRAY_LEN(suffix); i++) {
		char *from = util_printf("%s%s", path, suffix[i]);
		char *to = util_printf("%s%s", base, suffix[i]);

		rc = rename(from, to);
		if (rc < 0 && (errno != ENOENT || suffix[i][0] == '\0')) {
			set_cause(cause, "cannot rename it to %s: %s", to, strerror(errno));
			free(from);
			free(to);
			break;
		}
		done = i + 1;
		free(from);
		free(to);
	}
	if (n >= 100) {
		set_cause(cause, "no free name %s.corrupt-%s-N to move it to", path, stamp);
	} else if (done < UTIL_ARRAY_LEN(suffix)) {
		/* Put back what moved: the file and its -wal must stay together. */
		while (done-- > 0) {
			char *from = util_printf("%s%s", base, suffix[done]);
			char *to = util_printf("%s%s", path, suffix[done]);

			if (rename(from, to) < 0 && errno != ENOENT)
				log_error("store: cannot rename %s back to %s: %s", from, to,
					  strerror(errno));
			free(from);
			free(to);
		}
	} else {
		*moved = base;
		base = NULL;
	}
out:
	free(base);
	if (!sqlite3_get_autocommit(*db))
		exec(*db, "ROLLBACK");
	sqlite3_close_v2(*db);
	*db = NULL;
	return *moved != NULL ? 0 : -1;
}

/* One statement with ?1 = n and ?2 = text (when it has them), stepped once. */
static int run1(sqlite3 *db, const char *sql, int64_t n, const char *text)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK)
		return rc;
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, n);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
}

/*
 * In the new file (migrated, empty): the damaged one's console id and
 * counters (salvage_read), and an event saying what happened. 0, or -1
 * with *cause.
 */
static int seed_fresh(sqlite3 *db, const char *path, const struct salvage *v, const char *text,
		      char **cause)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc;

	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK && v->console_id[0] != '\0') {
		rc = run1(db, "INSERT INTO identity(key, value) VALUES('console_id', ?2)", 0,
			  v->console_id);
		if (rc == SQLITE_OK)
			rc = run1(db, "UPDATE meta SET value = ?1 WHERE key = 'samples.last_seq'",
				  v->samples_seq, NULL);
		if (rc == SQLITE_OK && v->alarms_seq > 0)
			rc = run1(db, "INSERT INTO sqlite_sequence(name, seq)"
				  " VALUES('alarm_events', ?1)", v->alarms_seq, NULL);
		/* Its newest session, so that new session ids follow it. */
		if (rc == SQLITE_OK && v->session[0] != NULL) {
			rc = sqlite3_prepare_v2(db, "INSERT INTO sessions(" SESSION_COLUMNS ")"
						" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
						-1, &s, NULL);
			for (i = 0; rc == SQLITE_OK && i < UTIL_ARRAY_LEN(v->session); i++)
				rc = sqlite3_bind_value(s, (int)i + 1, v->session[i]);
			if (rc == SQLITE_OK)
				rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
			sqlite3_finalize(s);
		}
	}
	for (i = 0; rc == SQLITE_OK && i < v->nintake; i++)
		rc = run1(db, "INSERT INTO meta(key, value) VALUES(?2, ?1)", v->intake_mark[i],
			  v->intake_key[i]);
	if (rc == SQLITE_OK)
		rc = run1(db, "UPDATE meta SET value = ?1 WHERE key = 'events.last_seq'",
			  v->events_seq + 1, NULL);
	if (rc == SQLITE_OK)
		rc = run1(db, "INSERT INTO events(seq, t_us, source, what, text)"
			  " VALUES((SELECT value FROM meta WHERE key = 'events.last_seq'), ?1,"
			  " 'store', 'buffer-replaced', ?2)", util_now_us(), text);
	if (rc == SQLITE_OK)
		rc = exec(db, "COMMIT");
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: starting the new buffer: %s", path, sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			exec(db, "ROLLBACK");
		return -1;
	}
	return 0;
}

/* ---- open / close ---- */

/* Whether old rows wait in samples_v6, and about how many (their seq range). */
static int migrate_setup(struct store *st, char **cause)
{
	int legacy = samples_vtab_has_legacy(st->db);
	const char *env = getenv("PHASOR_STORE_MIGRATE_ROWS");
	int64_t lo = 0, hi = 0;

	st->mig_rows = MIG_ROWS;
	if (env != NULL && *env != '\0' && util_parse_long(env, 1, 10000000, &st->mig_rows) < 0) {
		set_cause(cause, "PHASOR_STORE_MIGRATE_ROWS: not a row count: '%s'", env);
		return -1;
	}
	if (legacy < 0 ||
	    (legacy && (query_int(st->db, "SELECT min(seq) FROM samples_v6", &lo) != SQLITE_OK ||
			query_int(st->db, "SELECT max(seq) FROM samples_v6", &hi) != SQLITE_OK))) {
		set_cause(cause, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	if (legacy == 1 && hi == 0) {
		/* empty (a new file, or converted): nothing to convert */
		if (exec(st->db, "DROP TABLE samples_v6") != SQLITE_OK) {
			set_cause(cause, "%s: %s", st->path, sqlite3_errmsg(st->db));
			return -1;
		}
		legacy = 0;
	}
	env = getenv("PHASOR_STORE_ROLLUPS");
	st->no_rollups = env != NULL && strcmp(env, "0") == 0;
	st->roll = (struct backfill){ .key = "rollups", .what = "per-minute rollups",
				      .put = put_rollup };
	st->hours = (struct backfill){ .key = "hours", .what = "hours of windows",
				       .put = put_hours };
	if (backfill_open(st, &st->roll, cause) < 0 || backfill_open(st, &st->hours, cause) < 0)
		return -1;
	st->migrating = legacy == 1;
	st->mig_total = hi > 0 ? hi - lo + 1 : 0;
	st->hk_pub.migrating = st->migrating;
	st->hk_pub.migrate_total = st->mig_total;
	st->mig_t0 = util_mono_us();
	if (st->mig_total > 0)
		log_info("store: %s: converting about %" PRId64 " samples to the dense layout, in"
			 " the background", st->path, st->mig_total);
	return 0;
}

static int prepare(struct store *st, char **cause)
{
	static const struct {
		size_t off;
		const char *sql;
	} stmts[] = {
		{ offsetof(struct store, ins_poll),
		  "INSERT INTO polls(first_seq, t_us, meter_id, shape_id, session_id, n, data) "
		  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
		{ offsetof(struct store, ins_event),
		  "INSERT INTO events(seq, t_us, session_id, meter_id, source, what, text) "
		  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
		/* The counter, and the highest seq in case a writer ignored it
		 * (samples_vtab_max_seq, without samples_v6: its seqs are all
		 * below the counter, which the migration never lowers). */
		{ offsetof(struct store, last_sample_seq),
		  "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'samples.last_seq'), 0),"
		  " coalesce((SELECT first_seq + n - 1 FROM polls ORDER BY first_seq DESC LIMIT 1),"
		  " 0), coalesce((SELECT max(seq_hi) FROM blocks), 0))" },
		{ offsetof(struct store, last_event_seq),
		  "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'events.last_seq'), 0),"
		  " coalesce((SELECT max(seq) FROM events), 0))" },
		{ offsetof(struct store, set_seq),
		  "INSERT INTO meta(key, value) VALUES(?1, ?2) "
		  "ON CONFLICT(key) DO UPDATE SET value = excluded.value" },
		/* An event applied twice (a console's own event coming back from
		 * the broker, a retained state) is one row. */
		{ offsetof(struct store, ins_alarm),
		  "INSERT OR IGNORE INTO alarm_events(t_us, id, origin, session_id, alarm, meter,"
		  " quantity, priority, event, state, value, limit_value, operator, note, raised_us,"
		  " until_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		  " ?15, ?16)" },
		{ offsetof(struct store, ins_comm),
		  "INSERT INTO comm_changes(t_us, session_id, meter_id, status, error)"
		  " VALUES(?1, ?2, ?3, ?4, ?5)" },		{ offsetof(struct store, upd_request),
		  "UPDATE alarm_requests SET done_us = ?2, result = ?3, event_id = ?4"
		  " WHERE id = ?1 AND done_us IS NULL" },
		{ offsetof(struct store, put_status),
		  "INSERT INTO recorder_status(key, t_us, value) VALUES(?1, ?2, ?3)"
		  " ON CONFLICT(key) DO UPDATE SET t_us = excluded.t_us, value = excluded.value" },
		{ offsetof(struct store, ins_forecast),
		  "INSERT INTO forecasts(made_us, meter, method, t_us, step_s, forecast, lower80,"
		  " upper80, lower95, upper95, took_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
		  " ?10, ?11)" },
		{ offsetof(struct store, hours_get),
		  "SELECT data FROM hours WHERE meter_id = ?1 AND qty = ?2 AND h0_us = ?3" },
		{ offsetof(struct store, hours_put),
		  "INSERT OR REPLACE INTO hours(meter_id, qty, h0_us, n, idsum, data)"
		  " VALUES(?1, ?2, ?3, 0, 0, ?4)" },
		{ offsetof(struct store, hours_count),
		  "INSERT INTO hours(meter_id, qty, h0_us, n, idsum) VALUES(?1, -1, ?2, 1, ?3)"
		  " ON CONFLICT DO UPDATE SET n = n + 1, idsum = idsum + excluded.idsum" },
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(stmts); i++) {
		sqlite3_stmt **s = (sqlite3_stmt **)(void *)((char *)st + stmts[i].off);

		if (sqlite3_prepare_v3(st->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, s,
				       NULL) != SQLITE_OK) {
			set_cause(cause, "%s: %s", st->path, sqlite3_errmsg(st->db));
			return -1;
		}
	}
	return 0;
}

static void free_queues(struct store *st)
{
	while (st->head != NULL) {
		struct chunk *c = st->head;

		st->head = c->next;
		free(c);
	}
	st->tail = NULL;
	st->queued = 0;
	fifo_drop(&st->events, st->events.n, false);
	fifo_drop(&st->alarms, st->alarms.n, false);
	fifo_drop(&st->comms, st->comms.n, false);
	fifo_drop(&st->forecasts, st->forecasts.n, false);
}

static void destroy(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->ins_poll);
	free(st->shapes);
	sqlite3_finalize(st->ins_event);
	sqlite3_finalize(st->last_sample_seq);
	sqlite3_finalize(st->last_event_seq);
	sqlite3_finalize(st->set_seq);
	sqlite3_finalize(st->ins_alarm);
	sqlite3_finalize(st->ins_comm);
	sqlite3_finalize(st->upd_request);
	sqlite3_finalize(st->put_status);
	sqlite3_finalize(st->ins_forecast);
	sqlite3_finalize(st->hours_get);
	sqlite3_finalize(st->hours_put);
	sqlite3_finalize(st->hours_count);
	free(st->status_key);
	free(st->status_text);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK) {
		log_error("store: closing %s: %s", st->path, sqlite3_errmsg(st->db));
		sqlite3_close_v2(st->db);
	}
	free_queues(st);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->wake);
	pthread_cond_destroy(&st->done);
	free(st->meter_ids);
	free(st->wbuf);
	free(st->wev);
	free(st->wal);
	free(st->wcm);
	free(st->wfc);
	free(st->comm_last);
	free(st->path);
	free(st->notice);
	free(st);
}

/*
 * A new buffer is made here, not by SQLite, which creates it 0644 less the
 * umask: readable by anyone under the usual umask 022. open(2) with 0660
 * gives 0640 under 022, 0660 under the UMask=0007 of docs/deployment.md
 * (the operators' group reads and requests), and never more than 0660
 * whatever the umask: never anything for others. SQLite gives the -wal and
 * -shm files the database file's mode (it fchmods them). An existing file
 * keeps its mode; when this open fails SQLite's open says why.
 */
static void create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0660);

	if (fd >= 0)
		close(fd);
}

/* Open st->path for writing (creating it) into st->db. 0, or -1 with *cause. */
static int open_rw(struct store *st, char **cause)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	int rc;

	create_private(st->path);
	rc = sqlite3_open_v2(st->path, &st->db, flags, NULL);

	if (rc != SQLITE_OK) {
		char why[256];

		set_cause(cause, "cannot open %s: %s", st->path,
			  st->db ? db_errmsg(st->db, why, sizeof(why)) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, OPEN_BUSY_TIMEOUT_MS);
	return 0;
}

/* The time PRAGMA quick_check may take at open (PHASOR_STORE_CHECK_MS). */
static long check_limit_ms(void)
{
	const char *env = getenv("PHASOR_STORE_CHECK_MS");
	long ms;

	if (env == NULL || *env == '\0')
		return CHECK_MS;
	if (util_parse_long(env, 0, 86400000L, &ms) < 0) {
		log_warn("store: PHASOR_STORE_CHECK_MS: not a number of milliseconds: '%s'", env);
		return CHECK_MS;
	}
	return ms;
}

/*
 * st->db is a damaged buffer (why says how): read what can be kept from it
 * (salvage_read), move it aside (move_aside), say so, and open a new file
 * at st->path into st->db. The new file's first event is *text (caller
 * frees), seeded with *v by seed_fresh once migrated. 0, or -1 with
 * *cause (the damaged file is then left where it is).
 */
static int replace_damaged(struct store *st, const struct stat *opened, const char *why,
			   struct salvage *v, char **text, char **cause)
{
	char *moved = NULL, *because = NULL;
	bool kept;

	salvage_read(st->db, v);
	kept = v->console_id[0] != '\0';
	if (move_aside(&st->db, st->path, opened, &moved, &because) < 0) {
		set_cause(cause, "%s; phasor does not write into a damaged buffer, and %s", why,
			  because != NULL ? because : "?");
		free(because);
		return -1;
	}
	log_error("store: %s; moved it to %s (with its -wal and -shm), and a new %s takes its"
		  " place (%s). Nothing was deleted. What is still readable: phasor export --db %s"
		  " (it stops at the first damaged page), or sqlite3 .dump; see \"A damaged"
		  " buffer\" in docs/buffer.md",
		  why, moved, st->path,
		  kept ? "the console id and its seq counters go on"
		       : "with a new console id: the damaged file's counters cannot be read",
		  moved);
	*text = util_printf("%s; it was moved to %s and this file continues it (%s)", why, moved,
			    kept ? "same console id and seq counters" : "new console id");
	st->notice = util_printf("damaged buffer moved to %s", moved);
	free(moved);
	return open_rw(st, cause);
}

struct store *store_open(const char *path, size_t queue_max, int batch_rows, int commit_ms,
			 char **cause)
{
	struct store *st = util_calloc(1, sizeof(*st));
	pthread_condattr_t ca;
	int64_t version = 0;
	const char *env;
	char mode[16] = "", *why = NULL, *text = NULL;
	struct salvage salvage;
	struct stat opened;
	sqlite3_stmt *s;
	int rc, damaged;

	memset(&salvage, 0, sizeof(salvage));
	st->path = util_strdup(path);
	st->queue_max = queue_max;
	st->batch_rows = batch_rows < 1 ? 1 : batch_rows > BATCH_ROWS_MAX ? BATCH_ROWS_MAX
									    : batch_rows;
	st->commit_ms = commit_ms < 0 ? 0 : commit_ms;
	st->max_pages_pending = -1;
	st->state = STORE_OK;
	st->since_us = util_now_us();
	st->wcap = (size_t)st->batch_rows;
	st->wbuf = util_calloc(st->wcap, sizeof(*st->wbuf));
	st->wev = util_calloc(EVENTS_PER_BATCH, sizeof(*st->wev));
	st->wal = util_calloc(ALARMS_PER_BATCH, sizeof(*st->wal));
	st->wcm = util_calloc(COMMS_PER_BATCH, sizeof(*st->wcm));
	st->wfc = util_calloc(FORECASTS_PER_BATCH, sizeof(*st->wfc));
	pthread_mutex_init(&st->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->wake, &ca);
	pthread_cond_init(&st->done, &ca);
	pthread_condattr_destroy(&ca);

	if (path[0] == '\0') {
		/* SQLite would quietly open a temporary database. */
		set_cause(cause, "store: empty path");
		goto fail;
	}
	if (util_mkdir_parent(path) < 0) {
		set_cause(cause, "cannot create the directory of %s: %s", path, strerror(errno));
		goto fail;
	}
	if (check_access(path, cause) < 0)
		goto fail;
	pthread_once(&sqlite_once, sqlite_setup);
	if (stat(path, &opened) < 0)
		memset(&opened, 0, sizeof(opened));
	if (open_rw(st, cause) < 0)
		goto fail;
	damaged = check_file(st->db, path, &version, &why);
	if (damaged == 0 && version > 0)
		damaged = check_pages(st->db, path, check_limit_ms(), &why);
	if (damaged == -2) {
		if (replace_damaged(st, &opened, why, &salvage, &text, cause) < 0)
			goto fail;
		version = 0;
		if (check_file(st->db, path, &version, cause) < 0)
			goto fail;
	} else if (damaged < 0) {
		set_cause(cause, "%s", why);
		goto fail;
	}

	/* journal_mode answers with the mode now in force. */
	rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
			util_strlcpy(mode, (const char *)sqlite3_column_text(s, 0), sizeof(mode));
		sqlite3_finalize(s);
	}
	if (strcmp(mode, "wal") != 0) {
		set_cause(cause, "%s: cannot switch to WAL mode (%s)", path,
			  mode[0] ? mode : sqlite3_errmsg(st->db));
		goto fail;
	}
	if (exec(st->db, "PRAGMA synchronous = NORMAL") != SQLITE_OK ||
	    exec(st->db, "PRAGMA foreign_keys = ON") != SQLITE_OK) {
		set_cause(cause, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (migrate(st->db, path, version, cause) < 0)
		goto fail;
	if (sync_quantities(st->db, path, cause) < 0)
		goto fail;
	if (text != NULL && seed_fresh(st->db, path, &salvage, text, cause) < 0)
		goto fail;
	if (load_identity(st, cause) < 0)
		goto fail;
	env = getenv("PHASOR_STORE_MAX_PAGES");
	if (env != NULL && *env != '\0') {
		long pages;

		if (util_parse_long(env, 1, 0x7fffffffL, &pages) < 0) {
			set_cause(cause, "PHASOR_STORE_MAX_PAGES: not a page count: '%s'", env);
			goto fail;
		}
		set_max_pages(st->db, pages);
		log_warn("store: %s limited to %ld pages (PHASOR_STORE_MAX_PAGES)", path, pages);
	}
	if (samples_vtab_register(st->db) != SQLITE_OK) {
		set_cause(cause, "%s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (prepare(st, cause) < 0 || migrate_setup(st, cause) < 0)
		goto fail;
	salvage_free(&salvage);
	free(why);
	free(text);
	return st;
fail:
	salvage_free(&salvage);
	free(why);
	free(text);
	destroy(st);
	return NULL;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->started && !st->stopped)
		store_stop(st, 0);
	destroy(st);
}

const char *store_console_id(const struct store *st)
{
	return st->console_id;
}

const char *store_open_notice(const struct store *st)
{
	return st->notice != NULL ? st->notice : "";
}

int64_t store_session_id(const struct store *st)
{
	return st->session_id;
}

/* ---- meters and sessions ---- */

static char *topics_json(const struct config_meter *m)
{
	cJSON *a;
	char *out;
	size_t i;

	if (m->ntopics == 0)
		return NULL;
	a = cJSON_CreateArray();
	if (a == NULL)
		util_fail("out of memory");
	for (i = 0; i < m->ntopics; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(m->topics[i]));
	out = cJSON_PrintUnformatted(a);
	cJSON_Delete(a);
	if (out == NULL)
		util_fail("out of memory");
	return out;
}

/* One meters row (the statement of store_register_meters): SQLITE_OK and
 * its id, or an SQLite error. */
static int upsert_unit(sqlite3_stmt *s, const struct config_meter *m, const char *driver,
		       int64_t now, int64_t *id)
{
	bool modbus = m->driver == DRIVER_MODBUS;
	char *topics = topics_json(m);
	int rc;

	sqlite3_bind_text(s, 1, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, driver, -1, SQLITE_STATIC);
	bind_text_or_null(s, 3, m->profile_name);
	bind_text_or_null(s, 4, modbus ? m->host : NULL);
	if (modbus) {
		sqlite3_bind_int(s, 5, m->port);
		sqlite3_bind_int(s, 6, m->unit);
	} else {
		sqlite3_bind_null(s, 5);
		sqlite3_bind_null(s, 6);
	}
	bind_text_or_null(s, 7, topics);
	bind_text_or_null(s, 8, m->description);
	sqlite3_bind_int64(s, 9, now);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		rc = sqlite3_step(s);
	}
	sqlite3_reset(s);
	free(topics);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int store_register_meters(struct store *st, const struct config *cfg, char **cause)
{
	sqlite3_stmt *s = NULL;
	int64_t *ids, now = util_now_us();
	size_t i, nunits;
	int rc;

	if (st->started) {
		set_cause(cause, "store: meters must be registered before the writer starts");
		return -1;
	}
	nunits = cfg->nmeters + cfg->nmachines;
	ids = util_calloc(nunits ? nunits : 1, sizeof(*ids));
	rc = exec(st->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    st->db,
		    "INSERT INTO meters(name, driver, profile, host, port, unit, topics, description,"
		    " first_seen_us, last_seen_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) "
		    "ON CONFLICT(name) DO UPDATE SET driver = excluded.driver,"
		    " profile = excluded.profile, host = excluded.host, port = excluded.port,"
		    " unit = excluded.unit, topics = excluded.topics,"
		    " description = excluded.description, last_seen_us = excluded.last_seen_us "
		    "RETURNING id",
		    -1, &s, NULL);
	for (i = 0; rc == SQLITE_OK && i < cfg->nmeters; i++)
		rc = upsert_unit(s, &cfg->meters[i], config_driver_name(cfg->meters[i].driver), now,
				 &ids[i]);
	/* machines: units after the meters, their state and pieces samples */
	for (i = 0; rc == SQLITE_OK && i < cfg->nmachines; i++) {
		const struct config_machine *m = &cfg->machines[i];
		struct config_meter one = { .name = m->name,
					    .driver = DRIVER_MQTT,
					    .topics = (char *[]){ m->topic },
					    .ntopics = m->topic != NULL,
					    .description = m->description };

		if (m->poll != NULL) { /* modbus: its host, port and unit */
			one = *m->poll;
			one.description = m->description;
		}
		rc = upsert_unit(s, &one, "machine", now, &ids[cfg->nmeters + i]);
	}
	if (rc == SQLITE_OK)
		rc = exec(st->db, "COMMIT");
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: recording the meters: %s", st->path, sqlite3_errmsg(st->db));
		if (!sqlite3_get_autocommit(st->db))
			exec(st->db, "ROLLBACK");
		sqlite3_finalize(s);
		free(ids);
		return -1;
	}
	sqlite3_finalize(s);
	free(st->meter_ids);
	st->meter_ids = ids;
	st->nmeters = nunits;
	free(st->comm_last);
	st->comm_last = util_calloc(nunits ? nunits : 1, sizeof(*st->comm_last));
	return 0;
}

/* SHA-256 of len bytes as 64 hex digits. 0, or -1. */
static int sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static int insert_comm(struct store *st, int64_t t_us, int meter, int status, const char *error);

/*
 * An "unknown" comm_changes row at t_us for every registered meter (all,
 * or those whose last queued status was not unknown): a session's first
 * and last rows, so that a reader never carries a state across a time
 * nobody watched the meter. In the caller's transaction.
 */
static int comm_session_rows(struct store *st, int64_t t_us, bool all)
{
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; rc == SQLITE_OK && i < st->nmeters; i++)
		if (all || st->comm_last[i] != COMM_UNKNOWN)
			rc = insert_comm(st, t_us, (int)i, COMM_UNKNOWN, NULL);
	return rc;
}

int store_begin_session(struct store *st, const struct config *cfg, const char *mode,
			char **cause)
{
	sqlite3_stmt *s = NULL;
	char host[256] = "", digest[65];
	const char *text = cfg != NULL ? cfg->text : NULL;
	int64_t start = util_now_us();
	int rc;

	if (st->started) {
		set_cause(cause, "store: the session must begin before the writer starts");
		return -1;
	}
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	if (text != NULL && sha256_hex(text, strlen(text), digest) < 0) {
		set_cause(cause, "store: SHA-256 of the configuration failed");
		return -1;
	}
	/* The session and its meters' first comm rows, in one transaction. */
	rc = exec(st->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db,
					"INSERT INTO sessions(start_us, end_us, host, pid, mode,"
					" config_path, config_digest, config_text, version)"
					" VALUES(?1, NULL, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
					-1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, start);
		bind_text_or_null(s, 2, host[0] ? host : NULL);
		sqlite3_bind_int64(s, 3, (int64_t)getpid());
		bind_text_or_null(s, 4, mode);
		bind_text_or_null(s, 5, cfg != NULL ? cfg->path : NULL);
		bind_text_or_null(s, 6, text != NULL ? digest : NULL);
		bind_text_or_null(s, 7, text);
		sqlite3_bind_text(s, 8, PHASOR_VERSION, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK) {
		st->session_id = sqlite3_last_insert_rowid(st->db);
		rc = comm_session_rows(st, start, true);
	}
	if (rc == SQLITE_OK)
		rc = exec(st->db, "COMMIT");
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: recording the session: %s", st->path, sqlite3_errmsg(st->db));
		if (!sqlite3_get_autocommit(st->db))
			exec(st->db, "ROLLBACK");
		st->session_id = 0;
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

/* ---- producers ---- */

/*
 * n more dropped samples, with sample times lo..hi, for the next drop event
 * (under st->lock). The range starts afresh once the writer has taken the
 * pending drops for its transaction (write_batch).
 */
static void drop_note(struct store *st, uint64_t n, int64_t lo, int64_t hi)
{
	if (n == 0)
		return;
	if (st->drop_pending == 0) {
		st->drop_first_us = lo;
		st->drop_last_us = hi;
	} else {
		st->drop_first_us = lo < st->drop_first_us ? lo : st->drop_first_us;
		st->drop_last_us = hi > st->drop_last_us ? hi : st->drop_last_us;
	}
	st->drop_pending += n;
}

/* Under lock: intake records up to seq are covered once what is queued now is committed. */
static bool put_mark_locked(struct store *st, uint64_t seq)
{
	bool wake = false;

	if (st->tail != NULL) {
		/* Saved with (or after) the transaction that commits the tail. */
		if (seq > st->tail->mark)
			st->tail->mark = seq;
	} else if (seq > st->mark_free) {
		/* Every sample before it is committed already. */
		if (st->mark_free <= st->mark_saved) {
			st->mark_free_at = util_mono_us();
			wake = st->events.n == 0 && st->alarms.n == 0;
		}
		st->mark_free = seq;
	}
	return wake;
}

/*
 * Queue n samples; with mark > 0 they are the samples of intake record
 * mark, and the chunk carries the mark from the moment the writer can see
 * it (write_batch commits such a chunk whole, with its mark).
 */
static void put_samples(struct store *st, const struct sample *s, size_t n, uint64_t mark)
{
	struct chunk *c;
	size_t i, valid = 0, take, before;
	uint64_t dropped_total = 0, lost;
	bool wake = false, warn = false;
	int64_t now;

	if (n == 0) {
		if (mark > 0) {
			pthread_mutex_lock(&st->lock);
			wake = put_mark_locked(st, mark);
			if (wake)
				pthread_cond_signal(&st->wake);
			pthread_mutex_unlock(&st->lock);
		}
		return;
	}
	c = util_malloc(sizeof(*c) + n * sizeof(c->s[0]));
	/* Samples that cannot be stored (bad meter index or quantity) are
	 * counted as dropped like the others: never silently. */
	for (i = 0; i < n; i++)
		if (s[i].meter < st->nmeters && s[i].qty < QTY__COUNT)
			c->s[valid++] = s[i];
	now = util_mono_us();

	pthread_mutex_lock(&st->lock);
	before = st->queued;
	take = st->queue_max > st->queued ? st->queue_max - st->queued : 0;
	if (take > valid)
		take = valid;
	lost = n - take;
	if (lost > 0) {
		/* Keep the oldest: the queue is FIFO, the newest are dropped. */
		int64_t lo = INT64_MAX, hi = INT64_MIN;

		for (i = take; i < valid; i++) {
			lo = c->s[i].t_us < lo ? c->s[i].t_us : lo;
			hi = c->s[i].t_us > hi ? c->s[i].t_us : hi;
		}
		if (valid < n) {
			for (i = 0; i < n; i++)
				if (!(s[i].meter < st->nmeters && s[i].qty < QTY__COUNT)) {
					lo = s[i].t_us < lo ? s[i].t_us : lo;
					hi = s[i].t_us > hi ? s[i].t_us : hi;
				}
		}
		drop_note(st, lost, lo, hi);
		st->dropped += lost;
		dropped_total = st->dropped;
		if (st->drop_log_at == 0 || now - st->drop_log_at >= DROP_LOG_INTERVAL_US) {
			st->drop_log_at = now;
			warn = true;
		}
	}
	if (take > 0) {
		c->next = NULL;
		c->arrived = now;
		c->n = take;
		c->off = 0;
		c->mark = mark;
		if (st->tail != NULL)
			st->tail->next = c;
		else
			st->head = c;
		st->tail = c;
		st->queued += take;
		st->in_samples += take;
		c = NULL;
		wake = before == 0 || (before < (size_t)st->batch_rows &&
				       st->queued >= (size_t)st->batch_rows);
	} else if (mark > 0 && put_mark_locked(st, mark)) {
		/* all dropped (counted): the record is as done as it can be */
		wake = true;
	}
	if (wake || (lost > 0 && before == 0))
		pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	free(c);
	if (warn)
		log_warn("store: %s: %" PRIu64 " samples dropped so far (queue full at %zu samples%s)",
			 st->path, dropped_total, st->queue_max,
			 valid < n ? ", or invalid meter/quantity" : "");
}

void store_put_samples(struct store *st, const struct sample *s, size_t n)
{
	put_samples(st, s, n, 0);
}

int store_set_intake_slot(struct store *st, int slot, char **cause)
{
	sqlite3_stmt *s = NULL;
	uint64_t mark = 0;
	int rc;

	if (st->started) {
		set_cause(cause, "store: the intake slot must be set before the writer starts");
		return -1;
	}
	snprintf(st->intake_key, sizeof(st->intake_key), "intake.%d", slot);
	rc = sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, st->intake_key, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			mark = (uint64_t)sqlite3_column_int64(s, 0);
			rc = SQLITE_DONE;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		set_cause(cause, "%s: reading the intake mark: %s", st->path, sqlite3_errmsg(st->db));
		st->intake_key[0] = '\0';
		return -1;
	}
	st->mark_saved = mark;
	atomic_store(&st->intake_committed, mark);
	return 0;
}

uint64_t store_intake_committed(struct store *st)
{
	return atomic_load(&st->intake_committed);
}

void store_put_intake(struct store *st, uint64_t seq, const struct sample *s, size_t n)
{
	put_samples(st, s, n, st->intake_key[0] != '\0' ? seq : 0);
}

void store_put_event(struct store *st, int64_t t_us, int meter, const char *source,
		     const char *what, const char *text)
{
	size_t ls, lw, lt;
	struct qevent *e;
	bool wake, lost = false;
	uint64_t nlost = 0;
	char *p;

	source = source != NULL ? source : "";
	what = what != NULL ? what : "";
	ls = strlen(source) + 1;
	lw = strlen(what) + 1;
	lt = text != NULL ? strlen(text) + 1 : 0;
	e = util_malloc(sizeof(*e) + ls + lw + lt);
	e->node.arrived = util_mono_us();
	e->t_us = t_us;
	e->meter = meter >= 0 && (size_t)meter < st->nmeters ? meter : -1;
	p = e->buf;
	e->source = memcpy(p, source, ls);
	p += ls;
	e->what = memcpy(p, what, lw);
	p += lw;
	e->text = text != NULL ? memcpy(p, text, lt) : NULL;

	pthread_mutex_lock(&st->lock);
	if (st->events.n >= EVENTS_MAX) {
		nlost = ++st->events_dropped;
		lost = true;
	} else {
		wake = st->events.n == 0 && st->queued == 0;
		fifo_push(&st->events, &e->node);
		if (wake)
			pthread_cond_signal(&st->wake);
		e = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	free(e);
	/* Powers of two only: a log line per lost event would flood. */
	if (lost && (nlost & (nlost - 1)) == 0)
		log_warn("store: %s: event queue full, %" PRIu64 " events dropped", st->path, nlost);
}

static size_t slen(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

static const char *scopy(char **p, const char *s)
{
	size_t n = slen(s);
	const char *r = *p;

	if (n == 0)
		return NULL;
	memcpy(*p, s, n);
	*p += n;
	return r;
}

void store_put_alarm_event(struct store *st, const struct store_alarm_event *e)
{
	size_t len = slen(e->id) + slen(e->origin) + slen(e->alarm) + slen(e->meter) +
		     slen(e->quantity) + slen(e->priority) + slen(e->event) + slen(e->state) +
		     slen(e->operator_name) + slen(e->note);
	struct qalarm *a = util_malloc(sizeof(*a) + len);
	uint64_t nlost = 0;
	bool wake;
	char *p = a->buf;

	a->node.arrived = util_mono_us();
	a->e = *e;
	a->e.id = scopy(&p, e->id);
	a->e.origin = scopy(&p, e->origin);
	a->e.alarm = scopy(&p, e->alarm);
	a->e.meter = scopy(&p, e->meter);
	a->e.quantity = scopy(&p, e->quantity);
	a->e.priority = scopy(&p, e->priority);
	a->e.event = scopy(&p, e->event);
	a->e.state = scopy(&p, e->state);
	a->e.operator_name = scopy(&p, e->operator_name);
	a->e.note = scopy(&p, e->note);

	pthread_mutex_lock(&st->lock);
	if (st->alarms.n >= STORE_ALARMS_MAX) {
		nlost = ++st->alarms_dropped;
	} else {
		wake = st->alarms.n == 0;
		fifo_push(&st->alarms, &a->node);
		if (wake)
			pthread_cond_signal(&st->wake);
		a = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	free(a);
	if (nlost > 0 && (nlost & (nlost - 1)) == 0)
		log_warn("store: %s: alarm journal queue full, %" PRIu64 " rows dropped", st->path,
			 nlost);
}

void store_put_comm_change(struct store *st, int64_t t_us, int meter, int status,
			   const char *error)
{
	size_t le = error != NULL && error[0] != '\0' ? strlen(error) + 1 : 0;
	struct qcomm *c;
	uint64_t nlost = 0;
	bool wake;

	if (meter < 0 || (size_t)meter >= st->nmeters)
		return;
	c = util_malloc(sizeof(*c) + le);
	c->node.arrived = util_mono_us();
	c->t_us = t_us;
	c->meter = meter;
	c->status = status;
	c->error = le > 0 ? memcpy(c->buf, error, le) : NULL;

	pthread_mutex_lock(&st->lock);
	if (st->comms.n >= STORE_COMMS_MAX) {
		nlost = ++st->comms_dropped;
	} else {
		wake = st->comms.n == 0 && st->queued == 0;
		fifo_push(&st->comms, &c->node);
		st->comm_last[meter] = status;
		if (wake)
			pthread_cond_signal(&st->wake);
		c = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	free(c);
	if (nlost > 0 && (nlost & (nlost - 1)) == 0)
		log_warn("store: %s: comm change queue full, %" PRIu64 " rows dropped", st->path,
			 nlost);
}

void store_put_request_done(struct store *st, int64_t request, const char *why)
{
	struct store_alarm_event e;

	memset(&e, 0, sizeof(e));
	e.request = request;
	e.t_us = util_now_us();
	e.note = why != NULL && why[0] != '\0' ? why : "refused";
	e.value = e.limit = NAN;
	store_put_alarm_event(st, &e);
}

void store_put_request_applied(struct store *st, int64_t request)
{
	struct store_alarm_event e;

	memset(&e, 0, sizeof(e));
	e.request = request;
	e.t_us = util_now_us();
	e.note = ""; /* with no event: result '' (applied) */
	e.value = e.limit = NAN;
	store_put_alarm_event(st, &e);
}

void store_put_status(struct store *st, const char *key, int64_t t_us, const char *text)
{
	char *k = util_strdup(key), *v = util_strdup(text);

	pthread_mutex_lock(&st->lock);
	free(st->status_key);
	free(st->status_text);
	st->status_key = k;
	st->status_text = v;
	st->status_t_us = t_us;
	st->status_in++;
	if (!st->status_pending)
		st->status_at = util_mono_us();
	st->status_pending = true;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
}

void store_get_stats(struct store *st, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->lock);
	out->state = st->state;
	util_strlcpy(out->error, st->error, sizeof(out->error));
	out->since_us = st->since_us;
	out->written = st->out_samples;
	out->events_written = st->events_written;
	out->dropped = st->dropped;
	out->queued = st->queued;
	out->queue_max = st->queue_max;
	out->commits = st->commits;
	out->last_commit_us = st->last_commit_us;
	out->events_dropped = st->events_dropped;
	out->alarms_written = st->alarms.out;
	out->alarms_queued = st->alarms.n;
	out->alarms_dropped = st->alarms_dropped;
	out->comms_written = st->comms.out;
	out->comms_queued = st->comms.n;
	out->comms_dropped = st->comms_dropped;
	out->forecasts_written = st->forecasts_written;
	out->forecasts_dropped = st->forecasts_dropped;
	out->blocks_written = st->hk_pub.blocks_written;
	out->polls_closed = st->hk_pub.polls_closed;
	out->migrating = st->hk_pub.migrating;
	out->migrate_done = st->hk_pub.migrate_done;
	out->migrate_total = st->hk_pub.migrate_total;
	pthread_mutex_unlock(&st->lock);
}

bool store_congested(struct store *st)
{
	bool congested;
	size_t soft;

	pthread_mutex_lock(&st->lock);
	soft = st->queue_max / 2 < STORE_SOFT_BACKLOG ? st->queue_max / 2 : STORE_SOFT_BACKLOG;
	congested = st->state == STORE_OK && st->queued >= soft;
	pthread_mutex_unlock(&st->lock);
	return congested;
}

void store_debug_set_max_pages(struct store *st, long pages)
{
	pthread_mutex_lock(&st->lock);
	if (st->running) {
		st->max_pages_pending = pages;
		pthread_cond_signal(&st->wake);
	} else {
		set_max_pages(st->db, pages);
	}
	pthread_mutex_unlock(&st->lock);
}

void store_debug_close_before(struct store *st, int64_t t_us)
{
	atomic_store(&st->close_cap, t_us);
}

int store_settle(struct store *st, int timeout_ms)
{
	int64_t end = util_mono_us() + (int64_t)timeout_ms * 1000;
	int rc;

	if (store_flush(st, timeout_ms) < 0)
		return -1;
	pthread_mutex_lock(&st->lock);
	st->hk_idle = false;
	st->hk_at = 0; /* now, start delay or not */
	pthread_cond_signal(&st->wake);
	while (st->running && !st->hk_idle && util_mono_us() < end) {
		struct timespec ts;
		int64_t at = util_mono_us() + 100000;

		ts.tv_sec = (time_t)(at / 1000000);
		ts.tv_nsec = (long)(at % 1000000) * 1000;
		pthread_cond_timedwait(&st->done, &st->lock, &ts);
	}
	rc = st->hk_idle ? 0 : -1;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void store_hold_unsynced(struct store *st, bool hold)
{
	st->hold_unsynced = hold;
}

/* The test's hook, on the writer's batches only (not on housekeeping). */
static int debug_hook(void *arg)
{
	struct store *st = arg;

	return st->in_batch && st->dbg_fn != NULL ? st->dbg_fn(st->dbg_ctx) : 0;
}

void store_debug_on_commit(struct store *st, int (*fn)(void *ctx), void *ctx)
{
	st->dbg_fn = fn;
	st->dbg_ctx = ctx;
	sqlite3_commit_hook(st->db, fn != NULL ? debug_hook : NULL, st);
}

/* ---- the writer ---- */

static int last_seq(sqlite3_stmt *s, int64_t *out)
{
	int rc = sqlite3_step(s);

	*out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int save_seq(struct store *st, const char *key, int64_t seq)
{
	int rc;

	sqlite3_bind_text(st->set_seq, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st->set_seq, 2, seq);
	rc = sqlite3_step(st->set_seq);
	sqlite3_reset(st->set_seq);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int insert_event(struct store *st, int64_t seq, int64_t t_us, int meter,
			const char *source, const char *what, const char *text)
{
	sqlite3_stmt *s = st->ins_event;
	int rc;

	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, t_us);
	if (st->session_id > 0)
		sqlite3_bind_int64(s, 3, st->session_id);
	else
		sqlite3_bind_null(s, 3);
	if (meter >= 0)
		sqlite3_bind_int64(s, 4, st->meter_ids[meter]);
	else
		sqlite3_bind_null(s, 4);
	sqlite3_bind_text(s, 5, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 6, what, -1, SQLITE_STATIC);
	bind_text_or_null(s, 7, text);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * One transaction: events, then samples, then the seq counters. Returns
 * SQLITE_OK, or the failing code with its message in err (rolled back).
 */
static void bind_double_or_null(sqlite3_stmt *s, int i, double v)
{
	if (isnan(v))
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, v);
}

static void bind_int64_or_null(sqlite3_stmt *s, int i, int64_t v)
{
	if (v != 0)
		sqlite3_bind_int64(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

static int insert_alarm(struct store *st, const struct store_alarm_event *e)
{
	sqlite3_stmt *s = st->ins_alarm;
	int rc;

	sqlite3_bind_int64(s, 1, e->t_us);
	bind_text_or_null(s, 2, e->id);
	sqlite3_bind_text(s, 3, e->origin != NULL ? e->origin : st->console_id, -1,
			  SQLITE_STATIC);
	bind_int64_or_null(s, 4, st->session_id);
	bind_text_or_null(s, 5, e->alarm);
	sqlite3_bind_text(s, 6, e->meter != NULL ? e->meter : "", -1, SQLITE_STATIC);
	bind_text_or_null(s, 7, e->quantity);
	bind_text_or_null(s, 8, e->priority);
	bind_text_or_null(s, 9, e->event);
	bind_text_or_null(s, 10, e->state);
	bind_double_or_null(s, 11, e->value);
	bind_double_or_null(s, 12, e->limit);
	bind_text_or_null(s, 13, e->operator_name);
	bind_text_or_null(s, 14, e->note);
	bind_int64_or_null(s, 15, e->raised_us);
	bind_int64_or_null(s, 16, e->until_us);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int insert_comm(struct store *st, int64_t t_us, int meter, int status, const char *error)
{
	sqlite3_stmt *s = st->ins_comm;
	int rc;

	sqlite3_bind_int64(s, 1, t_us);
	bind_int64_or_null(s, 2, st->session_id);
	sqlite3_bind_int64(s, 3, st->meter_ids[meter]);
	sqlite3_bind_int(s, 4, status);
	bind_text_or_null(s, 5, error);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * The request an event answers is done in the transaction that journals
 * the event (applied exactly once, even across a crash); a refused one
 * (no event) carries its reason in note.
 */
static int mark_request(struct store *st, const struct store_alarm_event *e)
{
	sqlite3_stmt *s = st->upd_request;
	int rc;

	sqlite3_bind_int64(s, 1, e->request);
	sqlite3_bind_int64(s, 2, e->event != NULL ? e->t_us : util_now_us());
	sqlite3_bind_text(s, 3, e->event != NULL ? "" : e->note != NULL ? e->note : "refused",
			  -1, SQLITE_STATIC);
	bind_text_or_null(s, 4, e->event != NULL ? e->id : NULL);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* What store_put_status handed over, taken by write_batch. */
struct wstatus {
	char *key, *text;
	int64_t t_us;
};

static int write_status(struct store *st, const struct wstatus *w)
{
	sqlite3_stmt *s = st->put_status;
	int rc;

	sqlite3_bind_text(s, 1, w->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, w->t_us);
	sqlite3_bind_text(s, 3, w->text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int insert_forecast(struct store *st, const struct store_forecast *f);

/* ---- the dense layout: shapes, polls (docs/buffer.md) ---- */

/*
 * The id of the shape qty[0..n) in the file, added when new. Ids added in
 * a transaction that rolls back are forgotten (shapes_forget).
 */
static int shape_id(struct store *st, const uint8_t *qty, unsigned n, int64_t *id)
{
	sqlite3_stmt *s;
	int rc;

	for (size_t i = st->nshapes; i-- > 0;)
		if (st->shapes[i].n == n && memcmp(st->shapes[i].qty, qty, n) == 0) {
			*id = st->shapes[i].id;
			return SQLITE_OK;
		}
	rc = sqlite3_prepare_v2(st->db, "INSERT INTO shapes(qty) VALUES(?1)"
				" ON CONFLICT(qty) DO UPDATE SET qty = qty RETURNING id", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_blob(s, 1, qty, (int)n, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct wshape *w;

		*id = sqlite3_column_int64(s, 0);
		st->shapes = util_reallocarray(st->shapes, st->nshapes + 1, sizeof(*st->shapes));
		w = &st->shapes[st->nshapes++];
		w->id = *id;
		w->n = n;
		memcpy(w->qty, qty, n);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
}

static void shapes_forget(struct store *st)
{
	free(st->shapes);
	st->shapes = NULL;
	st->nshapes = 0;
}

/* One poll row (meter: the file's id; session 0: none). */
static int insert_poll_raw(struct store *st, int64_t seq, int64_t t_us, int64_t meter,
			   int64_t session, const uint8_t *qty, const double *v, const uint8_t *q,
			   unsigned n)
{
	uint8_t blob[CODEC_POLL_SIZE_MAX(CODEC_POLL_MAX)];
	sqlite3_stmt *s = st->ins_poll;
	int64_t shape = 0;
	size_t len;
	int rc;

	rc = shape_id(st, qty, n, &shape);
	if (rc != SQLITE_OK)
		return rc;
	len = codec_poll_pack(v, q, n, blob);
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_int64(s, 2, t_us);
	sqlite3_bind_int64(s, 3, meter);
	sqlite3_bind_int64(s, 4, shape);
	if (session > 0)
		sqlite3_bind_int64(s, 5, session);
	else
		sqlite3_bind_null(s, 5);
	sqlite3_bind_int(s, 6, (int)n);
	sqlite3_bind_blob(s, 7, blob, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One poll row: n samples of x[0]'s meter and time, from seq on. */
static int insert_poll(struct store *st, int64_t seq, const struct sample *x, unsigned n)
{
	uint8_t qty[CODEC_POLL_MAX], q[CODEC_POLL_MAX];
	double v[CODEC_POLL_MAX];

	for (unsigned k = 0; k < n; k++) {
		qty[k] = (uint8_t)x[k].qty; /* enum qty_id: QTY__COUNT < 255 */
		v[k] = x[k].value;
		q[k] = x[k].quality;
	}
	return insert_poll_raw(st, seq, x->t_us, st->meter_ids[x->meter], st->session_id, qty, v,
			       q, n);
}

static int transaction(struct store *st, size_t n, size_t ne, size_t na, const struct wevent *wev,
		       size_t nw, uint64_t mark, const struct wstatus *status, char *err,
		       size_t errsz)
{
	int64_t seq = 0, eseq = 0;
	size_t i;
	int rc;

	st->in_batch = true;
	rc = exec(st->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK && n > 0)
		rc = last_seq(st->last_sample_seq, &seq);
	if (rc == SQLITE_OK && ne + nw > 0)
		rc = last_seq(st->last_event_seq, &eseq);
	for (i = 0; rc == SQLITE_OK && i < nw; i++)
		rc = insert_event(st, ++eseq, wev[i].t_us, -1, "store", wev[i].what, wev[i].text);
	for (i = 0; rc == SQLITE_OK && i < ne; i++) {
		const struct qevent *e = (const struct qevent *)(void *)st->wev[i];

		rc = insert_event(st, ++eseq, e->t_us, e->meter, e->source, e->what, e->text);
	}
	for (i = 0; rc == SQLITE_OK && i < na; i++) {
		const struct store_alarm_event *ae = &((const struct qalarm *)(void *)st->wal[i])->e;

		if (ae->event != NULL)
			rc = insert_alarm(st, ae);
		if (rc == SQLITE_OK && ae->request > 0)
			rc = mark_request(st, ae);
	}
	if (rc == SQLITE_OK && status != NULL)
		rc = write_status(st, status);
	for (i = 0; rc == SQLITE_OK && i < st->nwcm; i++) {
		const struct qcomm *c = (const struct qcomm *)(void *)st->wcm[i];

		rc = insert_comm(st, c->t_us, c->meter, c->status, c->error);
	}
	for (i = 0; rc == SQLITE_OK && i < st->nwfc; i++)
		rc = insert_forecast(st, &((const struct qforecast *)(void *)st->wfc[i])->f);
	for (i = 0; rc == SQLITE_OK && i < n;) {
		/* One poll: the consecutive samples of one meter at one time
		 * (one Modbus read, one MQTT message), at most CODEC_POLL_MAX. */
		const struct sample *x = &st->wbuf[i];
		size_t m = 1;

		while (i + m < n && m < CODEC_POLL_MAX && st->wbuf[i + m].meter == x->meter &&
		       st->wbuf[i + m].t_us == x->t_us)
			m++;
		rc = insert_poll(st, seq + 1, x, (unsigned)m);
		seq += (int64_t)m;
		i += m;
	}
	if (rc == SQLITE_OK && n > 0)
		rc = save_seq(st, "samples.last_seq", seq);
	if (rc == SQLITE_OK && ne + nw > 0)
		rc = save_seq(st, "events.last_seq", eseq);
	/* The intake records before mark have their samples in this or an
	 * earlier transaction: they need not be decoded again. */
	if (rc == SQLITE_OK && mark > 0)
		rc = save_seq(st, st->intake_key, (int64_t)mark);
	if (rc == SQLITE_OK)
		rc = exec(st->db, "COMMIT");
	st->in_batch = false;
	if (rc == SQLITE_OK)
		return SQLITE_OK;
	snprintf(err, errsz, "%s", sqlite3_errmsg(st->db));
	if (!sqlite3_get_autocommit(st->db))
		exec(st->db, "ROLLBACK");
	shapes_forget(st);
	return rc;
}

static enum store_state classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return STORE_FULL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STORE_LOCKED;
	default:
		return STORE_ERROR;
	}
}

/*
 * Remove the n oldest samples and ne oldest events (just committed). A
 * chunk freed here whose mark the transaction did not save (a record
 * without samples marked the tail after write_batch looked) leaves it in
 * mark_free, for the next transaction.
 */
static void pop_committed(struct store *st, size_t n, size_t ne, size_t na, uint64_t saved)
{
	st->queued -= n;
	st->out_samples += n;
	while (n > 0) {
		struct chunk *c = st->head;
		size_t m = c->n - c->off;

		if (m > n)
			m = n;
		c->off += m;
		n -= m;
		if (c->off == c->n) {
			if (c->mark > saved && c->mark > st->mark_free) {
				if (st->mark_free <= saved)
					st->mark_free_at = util_mono_us();
				st->mark_free = c->mark;
			}
			st->head = c->next;
			if (st->head == NULL)
				st->tail = NULL;
			free(c);
		}
	}
	fifo_drop(&st->events, ne, true);
	fifo_drop(&st->alarms, na, true);
}

static bool same_poll(const struct sample *a, const struct sample *b)
{
	return a->meter == b->meter && a->t_us == b->t_us;
}

/*
 * How many of the avail samples s[0..) to take, at most max, ending at a
 * poll's end (a run of samples of one meter and time): a poll cut in two
 * would be two poll rows of other shapes, and two blocks for its window.
 * 0 when the first poll is longer than max.
 */
static size_t poll_cut(const struct sample *s, size_t avail, size_t max)
{
	size_t k = max;

	if (max >= avail)
		return avail;
	while (k > 0 && same_poll(&s[k], &s[k - 1]))
		k--;
	return k;
}

/* The length of the poll s[0] begins, of the avail samples. */
static size_t first_poll(const struct sample *s, size_t avail)
{
	size_t k = 1;

	while (k < avail && same_poll(&s[k], &s[k - 1]))
		k++;
	return k;
}

/*
 * Write one batch. Called and returns with st->lock held; the lock is
 * released during the transaction. 0 when committed, -1 when refused (the
 * rows stay queued).
 */
static int write_batch(struct store *st)
{
	size_t n = 0, ne = 0, na = 0, nw = 0, batch = (size_t)st->batch_rows;
	struct wevent wev[2];
	enum store_state was = st->state;
	uint64_t drops = st->drop_pending;
	int64_t drop_lo = st->drop_first_us, drop_hi = st->drop_last_us;
	int64_t outage_since = st->outage_since_us, now;
	long max_pages = st->max_pages_pending;
	char cause[sizeof(st->error)], err[sizeof(st->error)] = "", t1[32], t2[32];
	uint64_t mark = st->mark_free;
	struct wstatus ws = { NULL, NULL, 0 };
	uint64_t status_n = 0;
	struct chunk *c;
	int rc;

	for (c = st->head; c != NULL && n < batch; c = c->next) {
		size_t m = c->n - c->off;

		/*
		 * An intake record's samples are committed whole, in the
		 * transaction that saves its mark: a part committed without it
		 * would be stored again when a kill -9 makes the next start
		 * decode the record again. One alone larger than a batch is a
		 * batch of its own.
		 */
		if (m > batch - n && c->mark != 0 && n > 0)
			break;
		if (m > batch - n && c->mark == 0) {
			/* at a poll's end */
			m = poll_cut(c->s + c->off, c->n - c->off, batch - n);
			if (m == 0 && n > 0)
				break;
			if (m == 0)
				m = first_poll(c->s + c->off, c->n - c->off);
		}
		if (n + m > st->wcap) {
			st->wcap = n + m;
			st->wbuf = util_reallocarray(st->wbuf, st->wcap, sizeof(*st->wbuf));
		}
		memcpy(st->wbuf + n, c->s + c->off, m * sizeof(c->s[0]));
		n += m;
		if (m == c->n - c->off && c->mark > mark)
			mark = c->mark;
	}
	if (mark <= st->mark_saved)
		mark = 0;
	ne = fifo_peek(&st->events, st->wev, EVENTS_PER_BATCH);
	na = fifo_peek(&st->alarms, st->wal, ALARMS_PER_BATCH);
	st->nwcm = fifo_peek(&st->comms, st->wcm, COMMS_PER_BATCH);
	st->nwfc = fifo_peek(&st->forecasts, st->wfc, FORECASTS_PER_BATCH);
	if (st->status_pending) {
		ws.key = st->status_key;
		ws.text = st->status_text;
		ws.t_us = st->status_t_us;
		status_n = st->status_in;
		st->status_key = st->status_text = NULL;
		st->status_pending = false;
	}
	util_strlcpy(cause, st->error, sizeof(cause));
	st->max_pages_pending = -1;
	/* This transaction records those drops: samples dropped while it runs
	 * belong to the next drop event, with their own time range. */
	st->drop_pending = 0;
	pthread_mutex_unlock(&st->lock);

	if (max_pages >= 0)
		set_max_pages(st->db, max_pages);
	now = util_now_us();
	/* What an outage and the drops cost is recorded in the transaction
	 * that ends them, so it is written exactly when writing works. */
	if (was != STORE_OK) {
		wev[nw].t_us = outage_since;
		wev[nw].what = "store-error";
		wev[nw].text = util_printf("%s: %s; nothing written for %.1f s (%s to %s)",
					   store_state_name(was), cause,
					   (double)(now - outage_since) / 1e6,
					   format_time(outage_since, t1, sizeof(t1)),
					   format_time(now, t2, sizeof(t2)));
		nw++;
	}
	if (drops > 0) {
		wev[nw].t_us = drop_lo;
		wev[nw].what = "drop";
		wev[nw].text = util_printf("%" PRIu64 " samples dropped (memory queue full at %zu"
					   " samples); sample times %s to %s",
					   drops, st->queue_max, format_time(drop_lo, t1, sizeof(t1)),
					   format_time(drop_hi, t2, sizeof(t2)));
		nw++;
	}
	rc = transaction(st, n, ne, na, wev, nw, mark, ws.key != NULL ? &ws : NULL, err,
			 sizeof(err));
	while (nw > 0)
		free(wev[--nw].text);

	pthread_mutex_lock(&st->lock);
	if (rc != SQLITE_OK && ws.key != NULL && !st->status_pending) {
		/* not written: the next transaction tries again, unless newer came */
		st->status_key = ws.key;
		st->status_text = ws.text;
		st->status_t_us = ws.t_us;
		st->status_pending = true;
	} else {
		free(ws.key);
		free(ws.text);
	}
	if (rc == SQLITE_OK) {
		if (status_n > st->status_out)
			st->status_out = status_n;
		if (mark > 0) {
			st->mark_saved = mark;
			atomic_store(&st->intake_committed, mark);
		}
		if (st->mark_free <= st->mark_saved)
			st->mark_free = 0;
		pop_committed(st, n, ne, na, st->mark_saved);
		fifo_drop(&st->comms, st->nwcm, true);
		fifo_drop(&st->forecasts, st->nwfc, true);
		st->forecasts_written += st->nwfc;
		st->events_written += ne + (was != STORE_OK) + (drops > 0);
		st->commits++;
		st->last_commit_us = now;
		if (was != STORE_OK) {
			st->state = STORE_OK;
			st->since_us = now;
			st->error[0] = '\0';
			log_info("store: %s: writing resumed after %.1f s (%s)", st->path,
				 (double)(now - outage_since) / 1e6, cause);
		}
		pthread_cond_broadcast(&st->done);
		return 0;
	}
	drop_note(st, drops, drop_lo, drop_hi); /* not recorded: still pending */
	{
		enum store_state ns = classify(rc);

		if (ns != st->state || strcmp(err, st->error) != 0)
			log_error("store: %s: %s: %s; %zu samples kept in memory, retrying",
				  st->path, store_state_name(ns), err, st->queued);
		if (st->state == STORE_OK)
			st->outage_since_us = now;
		if (ns != st->state)
			st->since_us = now;
		st->state = ns;
		util_strlcpy(st->error, err, sizeof(st->error));
	}
	return -1;
}

static void wait_until(struct store *st, int64_t mono_us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(mono_us / 1000000);
	ts.tv_nsec = (long)(mono_us % 1000000) * 1000;
	pthread_cond_timedwait(&st->wake, &st->lock, &ts);
}

static int64_t oldest_arrival(const struct store *st)
{
	int64_t t = st->head != NULL ? st->head->arrived : INT64_MAX;

	if (fifo_oldest(&st->events) < t)
		t = fifo_oldest(&st->events);
	if (fifo_oldest(&st->alarms) < t)
		t = fifo_oldest(&st->alarms);
	if (fifo_oldest(&st->comms) < t)
		t = fifo_oldest(&st->comms);
	if (fifo_oldest(&st->forecasts) < t)
		t = fifo_oldest(&st->forecasts);
	if (st->mark_free > st->mark_saved && st->mark_free_at < t)
		t = st->mark_free_at;
	if (st->status_pending && st->status_at < t)
		t = st->status_at;
	return t == INT64_MAX ? 0 : t;
}

/* Whatever is still queued when the drain time is over is lost. */
static void abandon(struct store *st)
{
	size_t n = st->queued, ne = st->events.n, na = st->alarms.n, nc = st->comms.n;
	size_t nf = st->forecasts.n;

	if (n == 0 && ne == 0 && na == 0 && nc == 0 && nf == 0 && st->drop_pending == 0)
		return;
	st->forecasts_dropped += nf;
	if (nf > 0)
		log_error("store: %s: stopping with %zu forecasts not written; they are lost",
			  st->path, nf);
	st->dropped += n;
	st->events_dropped += ne;
	st->alarms_dropped += na;
	st->comms_dropped += nc;
	if (na > 0)
		log_error("store: %s: stopping with %zu alarm journal rows not written; they are lost",
			  st->path, na);
	if (nc > 0)
		log_error("store: %s: stopping with %zu comm changes not written; they are lost",
			  st->path, nc);
	log_error("store: %s: stopping with %zu samples and %zu events not written (%s: %s);"
		  " they are lost (%" PRIu64 " samples dropped in all)",
		  st->path, n, ne, store_state_name(st->state), st->error, st->dropped);
	free_queues(st);
}

/* ---- housekeeping: polls closed into blocks, old rows converted ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A block being built by the closer: one meter, shape and session. */
struct gblock {
	struct codec_block b;
	size_t cap;
	int64_t meter, shape, session, seq_lo, seq_hi, samples;
};

/* The quantity ids of shape id: the writer's cache, else the file. */
static int shape_by_id(struct store *st, int64_t id, const struct wshape **out)
{
	sqlite3_stmt *s;
	int rc;

	for (size_t i = 0; i < st->nshapes; i++)
		if (st->shapes[i].id == id) {
			*out = &st->shapes[i];
			return SQLITE_OK;
		}
	rc = sqlite3_prepare_v2(st->db, "SELECT qty FROM shapes WHERE id = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		int n = sqlite3_column_bytes(s, 0);
		const void *b = sqlite3_column_blob(s, 0);
		struct wshape *w;

		if (n < 1 || n > CODEC_POLL_MAX || b == NULL) {
			rc = SQLITE_CORRUPT;
		} else {
			st->shapes = util_reallocarray(st->shapes, st->nshapes + 1,
						       sizeof(*st->shapes));
			w = &st->shapes[st->nshapes++];
			w->id = id;
			w->n = (unsigned)n;
			memcpy(w->qty, b, (size_t)n);
			*out = w;
			rc = SQLITE_OK;
		}
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_CORRUPT; /* a block names a shape the file lacks */
	}
	sqlite3_finalize(s);
	return rc;
}

/*
 * The rollup of block id (its polls in b, of one shape, in the window
 * win): each minute of each quantity aggregated (codec_minute), one row
 * of rollups. Replaces one that is there.
 */
static int put_rollup(struct store *st, int64_t id, int64_t meter, int64_t win,
		      int64_t shape, const struct codec_block *b)
{
	struct codec_rollup_entry *acc;
	int64_t w0 = win * SAMPLES_WIN_US;
	const struct wshape *sh = NULL;
	size_t c, i, ne = 0;
	uint8_t *data = NULL;
	sqlite3_stmt *s;
	size_t len;
	int rc = shape_by_id(st, shape, &sh);

	if (rc != SQLITE_OK)
		return rc;
	if (sh->n != b->ncol)
		return SQLITE_CORRUPT;
	if (b->n < ROLLUP_MIN_POLLS)
		return SQLITE_OK; /* its samples are as small as a rollup: read them */
	acc = util_calloc(QTY__COUNT * 5, sizeof(*acc));
	for (c = 0; c < b->ncol; c++) {
		struct codec_minute tmp[5];
		unsigned qty = sh->qty[c];

		if (qty >= QTY__COUNT)
			continue;
		memset(tmp, 0, sizeof(tmp));
		for (i = 0; i < b->n; i++) {
			int64_t m = floor_div(b->t[i] - w0, CODEC_MINUTE_US);

			if (m < 0 || m > 4)
				continue; /* not of the window: never made so */
			codec_minute_add(&tmp[m], b->t[i], b->v[i * b->ncol + c],
					 b->q[i * b->ncol + c] == QUALITY_GOOD);
		}
		for (i = 0; i < 5; i++)
			if (tmp[i].n > 0)
				codec_minute_merge(&acc[qty * 5 + i].m, &tmp[i]);
	}
	for (i = 0; i < QTY__COUNT * 5; i++)
		if (acc[i].m.n > 0) {
			/* a rise means something of a counter only: not stored
			 * for the others (8 bytes a minute) */
			if (!qty_info((unsigned)(i / 5))->counter)
				acc[i].m.rise = 0;
			acc[ne] = acc[i];
			acc[ne].qty = (uint8_t)(i / 5);
			acc[ne].minute = (uint8_t)(i % 5);
			ne++;
		}
	if (ne == 0) {
		free(acc);
		return SQLITE_OK;
	}
	len = codec_rollup_encode(acc, ne, w0, &data);
	free(acc);
	rc = sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO rollups(id, meter_id, w0_us, data)"
				" VALUES(?1, ?2, ?3, ?4)", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, meter);
		sqlite3_bind_int64(s, 3, w0);
		sqlite3_bind_blob(s, 4, data, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(s);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_finalize(s);
	}
	free(data);
	st->rollups_written++;
	return rc;
}

/*
 * Block id (its polls in b, of one shape, in the window win) merged into
 * its hour's rows: each quantity's window aggregated (codec_minute) and
 * merged into the window's slot of the quantity's row, and row -1 counts
 * the block (docs/buffer.md, "Windows"). Once per block: in the block's
 * transaction, or in the backfill's with its mark.
 */
static int put_hours(struct store *st, int64_t id, int64_t meter, int64_t win, int64_t shape,
		     const struct codec_block *b)
{
	int64_t w0 = win * SAMPLES_WIN_US, h0 = floor_div(w0, CODEC_HOUR_US) * CODEC_HOUR_US;
	int slot = (int)((w0 - h0) / SAMPLES_WIN_US);
	sqlite3_stmt *get = st->hours_get, *put = st->hours_put;
	const struct wshape *sh = NULL;
	size_t c, i;
	int rc = shape_by_id(st, shape, &sh);

	if (rc != SQLITE_OK)
		return rc;
	if (sh->n != b->ncol)
		return SQLITE_CORRUPT;
	for (c = 0; c < b->ncol && rc == SQLITE_OK; c++) {
		struct codec_minute w[CODEC_HOUR_SLOTS], agg;
		unsigned qty = sh->qty[c];
		uint8_t *data = NULL;
		size_t len;

		if (qty >= QTY__COUNT)
			continue;
		memset(&agg, 0, sizeof(agg));
		for (i = 0; i < b->n; i++)
			codec_minute_add(&agg, b->t[i], b->v[i * b->ncol + c],
					 b->q[i * b->ncol + c] == QUALITY_GOOD);
		memset(w, 0, sizeof(w));
		sqlite3_bind_int64(get, 1, meter);
		sqlite3_bind_int64(get, 2, qty);
		sqlite3_bind_int64(get, 3, h0);
		rc = sqlite3_step(get);
		if (rc == SQLITE_ROW &&
		    codec_hour_decode(sqlite3_column_blob(get, 0),
				      (size_t)sqlite3_column_bytes(get, 0), h0, w) < 0)
			rc = SQLITE_CORRUPT;
		else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
			rc = SQLITE_OK;
		sqlite3_reset(get);
		if (rc != SQLITE_OK)
			break;
		codec_minute_merge(&w[slot], &agg);
		if (!qty_info(qty)->counter)
			w[slot].rise = 0; /* as in a rollup */
		len = codec_hour_encode(w, h0, &data);
		sqlite3_bind_int64(put, 1, meter);
		sqlite3_bind_int64(put, 2, qty);
		sqlite3_bind_int64(put, 3, h0);
		sqlite3_bind_blob(put, 4, data, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(put);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(put);
		sqlite3_clear_bindings(put);
		free(data);
	}
	if (rc == SQLITE_OK) {
		put = st->hours_count;
		sqlite3_bind_int64(put, 1, meter);
		sqlite3_bind_int64(put, 2, h0);
		sqlite3_bind_int64(put, 3, id);
		rc = sqlite3_step(put);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(put);
	}
	return rc;
}

static int flush_block(struct store *st, sqlite3_stmt *ins, int64_t win, struct gblock *g)
{
	const struct wshape *shape = NULL;
	uint8_t *data = NULL;
	size_t len;
	int rc;

	if (g->b.n == 0)
		return SQLITE_OK;
	/* the quantities let the codec use the relations between them */
	if (shape_by_id(st, g->shape, &shape) != SQLITE_OK || shape->n != g->b.ncol)
		shape = NULL;
	len = codec_block_encode_qty(&g->b, shape != NULL ? shape->qty : NULL, &data);
	sqlite3_bind_int64(ins, 1, win);
	sqlite3_bind_int64(ins, 2, g->meter);
	sqlite3_bind_int64(ins, 3, g->shape);
	if (g->session > 0)
		sqlite3_bind_int64(ins, 4, g->session);
	else
		sqlite3_bind_null(ins, 4);
	sqlite3_bind_int64(ins, 5, g->b.t[0]);
	sqlite3_bind_int64(ins, 6, g->b.t[g->b.n - 1]);
	sqlite3_bind_int64(ins, 7, g->seq_lo);
	sqlite3_bind_int64(ins, 8, g->seq_hi);
	sqlite3_bind_int64(ins, 9, g->samples);
	sqlite3_bind_blob(ins, 10, data, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(ins);
	sqlite3_reset(ins);
	free(data);
	if (rc == SQLITE_DONE && !st->no_rollups) {
		int64_t id = sqlite3_last_insert_rowid(st->db);

		rc = put_rollup(st, id, g->meter, win, g->shape, &g->b) == SQLITE_OK &&
			     put_hours(st, id, g->meter, win, g->shape, &g->b) == SQLITE_OK
			 ? SQLITE_DONE
			 : SQLITE_ERROR;
	}
	/* the widest block's seq span, for readers by seq (samples_vtab.c) */
	if (rc == SQLITE_DONE)
		rc = run1(st->db, "INSERT INTO meta(key, value) VALUES('blocks.span', ?1)"
			  " ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
			  g->seq_hi - g->seq_lo, NULL) == SQLITE_OK ? SQLITE_DONE : SQLITE_ERROR;
	st->blocks_written++;
	st->polls_closed += g->b.n;
	g->b.n = 0;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Close the oldest window that is over (its end at least one window ago)
 * into blocks: its polls, those at or below the sync's watermark when the
 * sync holds them, grouped by meter, shape and session in (t_us, seq)
 * order, encoded, inserted, and the polls deleted, in one transaction.
 * *more: another window may be ready. An SQLite code.
 */
static int close_window(struct store *st, bool *more)
{
	int64_t now = util_now_us(), cut = (floor_div(now, SAMPLES_WIN_US) - 1) * SAMPLES_WIN_US;
	int64_t cap = atomic_load(&st->close_cap);
	int64_t wm = INT64_MAX, t0 = 0, win, w0, closed = 0, *gone = NULL;
	size_t ngone = 0;
	sqlite3_stmt *sel = NULL, *ins = NULL, *del = NULL;
	struct gblock g;
	int rc;

	*more = false;
	if (cap != 0 && (floor_div(cap, SAMPLES_WIN_US) - 1) * SAMPLES_WIN_US < cut)
		cut = (floor_div(cap, SAMPLES_WIN_US) - 1) * SAMPLES_WIN_US;
	memset(&g, 0, sizeof(g));
	rc = exec(st->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK && st->hold_unsynced)
		rc = query_int(st->db, "SELECT value FROM meta WHERE key = 'sync.samples_seq'", &wm);
	if (rc == SQLITE_OK) {
		rc = sqlite3_prepare_v2(st->db,
					st->hold_unsynced
					    ? "SELECT min(t_us) FROM polls WHERE first_seq <= ?1"
					      " AND first_seq + n - 1 <= ?1 AND t_us < ?2"
					    : "SELECT min(t_us) FROM polls WHERE t_us < ?2",
					-1, &sel, NULL);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(sel, 1, wm);
		sqlite3_bind_int64(sel, 2, cut);
		rc = sqlite3_step(sel);
		if (rc == SQLITE_ROW && sqlite3_column_type(sel, 0) == SQLITE_NULL)
			rc = SQLITE_DONE; /* nothing to close */
		else if (rc == SQLITE_ROW)
			t0 = sqlite3_column_int64(sel, 0);
		sqlite3_finalize(sel);
		sel = NULL;
	}
	if (rc == SQLITE_DONE) {
		exec(st->db, "COMMIT");
		return SQLITE_OK;
	}
	if (rc != SQLITE_ROW)
		goto out;
	win = floor_div(t0, SAMPLES_WIN_US);
	w0 = win * SAMPLES_WIN_US;
	rc = sqlite3_prepare_v2(st->db,
				"SELECT first_seq, t_us, meter_id, shape_id, coalesce(session_id, 0), n,"
				" data FROM polls WHERE t_us >= ?1 AND t_us < ?2"
				" AND first_seq + n - 1 <= ?3"
				" ORDER BY meter_id, shape_id, session_id, t_us, first_seq LIMIT ?4",
				-1, &sel, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db,
					"INSERT INTO blocks(win, meter_id, shape_id, session_id, t0_us,"
					" t1_us, seq_lo, seq_hi, n, data)"
					" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
					-1, &ins, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db,
					"DELETE FROM polls WHERE first_seq = ?1", -1, &del, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(sel, 1, w0);
	sqlite3_bind_int64(sel, 2, w0 + SAMPLES_WIN_US);
	sqlite3_bind_int64(sel, 3, wm);
	sqlite3_bind_int64(sel, 4, CLOSE_POLLS);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(sel, 0), meter = sqlite3_column_int64(sel, 2);
		int64_t shape = sqlite3_column_int64(sel, 3), session = sqlite3_column_int64(sel, 4);
		int64_t n = sqlite3_column_int64(sel, 5);
		const uint8_t *data = sqlite3_column_blob(sel, 6);
		size_t i;

		if (g.b.n > 0 && (meter != g.meter || shape != g.shape || session != g.session ||
				  (size_t)n != g.b.ncol || seq - g.seq_lo > SAMPLES_SPAN_MAX ||
				  g.seq_hi - seq > SAMPLES_SPAN_MAX)) {
			rc = flush_block(st, ins, win, &g);
			if (rc != SQLITE_OK)
				goto out;
		}
		if (n < 1 || n > CODEC_POLL_MAX || data == NULL) {
			rc = SQLITE_CORRUPT;
			goto out;
		}
		if (g.b.n == 0) {
			g.meter = meter;
			g.shape = shape;
			g.session = session;
			g.b.ncol = (size_t)n;
			g.seq_lo = seq;
			g.seq_hi = seq + n - 1;
			g.samples = 0;
		}
		if (g.b.n == g.cap) {
			g.cap = g.cap ? g.cap * 2 : 512;
			g.b.t = util_reallocarray(g.b.t, g.cap, sizeof(*g.b.t));
			g.b.seq = util_reallocarray(g.b.seq, g.cap, sizeof(*g.b.seq));
			g.b.v = util_reallocarray(g.b.v, g.cap * CODEC_POLL_MAX, sizeof(*g.b.v));
			g.b.q = util_reallocarray(g.b.q, g.cap * CODEC_POLL_MAX, 1);
		}
		i = g.b.n;
		if (codec_poll_unpack(data, (size_t)sqlite3_column_bytes(sel, 6), (unsigned)n, -1,
				      g.b.v + i * g.b.ncol, g.b.q + i * g.b.ncol) < 0) {
			rc = SQLITE_CORRUPT;
			goto out;
		}
		g.b.t[i] = sqlite3_column_int64(sel, 1);
		g.b.seq[i] = seq;
		g.b.n++;
		if ((size_t)closed == ngone) {
			ngone = ngone ? ngone * 2 : 1024;
			gone = util_reallocarray(gone, ngone, sizeof(*gone));
		}
		gone[closed] = seq;
		g.seq_lo = seq < g.seq_lo ? seq : g.seq_lo;
		g.seq_hi = seq + n - 1 > g.seq_hi ? seq + n - 1 : g.seq_hi;
		g.samples += n;
		closed++;
	}
	if (rc != SQLITE_DONE)
		goto out;
	rc = flush_block(st, ins, win, &g);
	/* the closed poll rows, in seq order: the table's and the time
	 * index's pages in order, not in the (meter, time) order read */
	if (closed > 1)
		qsort(gone, (size_t)closed, sizeof(*gone), cmp_int64);
	for (int64_t k = 0; rc == SQLITE_OK && k < closed; k++) {
		sqlite3_bind_int64(del, 1, gone[k]);
		rc = sqlite3_step(del);
		sqlite3_reset(del);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK)
		rc = exec(st->db, "COMMIT");
	if (rc == SQLITE_OK)
		*more = closed > 0;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_finalize(del);
	free(gone);
	codec_block_free(&g.b);
	if (rc != SQLITE_OK) {
		if (!sqlite3_get_autocommit(st->db))
			exec(st->db, "ROLLBACK");
		shapes_forget(st);
	}
	return rc;
}

/*
 * A background job's progress in the log, every MIG_LOG_US at most
 * (*log_at: when next): "what: 41 % (N of M unit), about S s left".
 */
static void log_progress(const struct store *st, const char *what, int64_t done_n,
			 int64_t total, const char *of, const char *unit, int64_t t0,
			 int64_t *log_at)
{
	int64_t now = util_mono_us();
	double done = total > 0 ? (double)done_n / (double)total : 0;
	double took = (double)(now - t0) / 1e6;

	if (now < *log_at)
		return;
	done = done > 1 ? 1 : done;
	log_info("store: %s: %s: %.0f %% (%" PRId64 " %s %" PRId64 " %s), about %.0f s left",
		 st->path, what, done * 100, done_n, of, total, unit,
		 done > 0 ? took / done - took : 0);
	*log_at = now + MIG_LOG_US;
}

/*
 * Convert the next st->mig_rows rows of samples_v6 (a file of schema 6 or
 * older) into poll rows, in seq order, and delete them, in one
 * transaction: a kill -9 loses the transaction whole, so a seq is always
 * in exactly one of the two tables. Rows of one meter, time and session
 * with consecutive seqs make one poll; the batch ends at a poll's end.
 * The last batch drops the table. An SQLite code.
 */
static int migrate_batch(struct store *st, bool *more)
{
	struct mrow {
		int64_t seq, t, meter, session;
		double v;
		int qty, quality;
	} *row = NULL;
	sqlite3_stmt *sel = NULL, *del = NULL;
	size_t n = 0, i, end;
	int rc;

	*more = false;
	rc = exec(st->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db,
					"SELECT seq, t_us, meter_id, qty_id, value, quality,"
					" coalesce(session_id, 0) FROM samples_v6 ORDER BY seq LIMIT ?1",
					-1, &sel, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(sel, 1, st->mig_rows);
	row = util_reallocarray(NULL, (size_t)st->mig_rows, sizeof(*row));
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW && n < (size_t)st->mig_rows) {
		struct mrow *r = &row[n++];

		r->seq = sqlite3_column_int64(sel, 0);
		r->t = sqlite3_column_int64(sel, 1);
		r->meter = sqlite3_column_int64(sel, 2);
		r->qty = sqlite3_column_int(sel, 3);
		r->v = sqlite3_column_type(sel, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(sel, 4);
		r->quality = sqlite3_column_int(sel, 5);
		r->session = sqlite3_column_int64(sel, 6);
		if (r->qty < 0 || r->qty > 254 || r->quality < 0 || r->quality > 255) {
			rc = SQLITE_MISMATCH;
			break;
		}
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		goto out;
	sqlite3_finalize(sel);
	sel = NULL;
	if (n == 0) {
		rc = exec(st->db, "DROP TABLE samples_v6");
		if (rc == SQLITE_OK)
			rc = exec(st->db, "COMMIT");
		if (rc == SQLITE_OK) {
			st->migrating = false;
			if (st->mig_total > 0)
				log_info("store: %s: the buffer is in the dense layout (%" PRId64
					 " samples converted in %.1f s)",
					 st->path, st->mig_done,
					 (double)(util_mono_us() - st->mig_t0) / 1e6);
		}
		goto out;
	}
	end = n;
	if (n == (size_t)st->mig_rows) {
		/* the last poll may go on in the next batch: leave it for it */
		size_t j = n - 1;

		while (j > 0 && row[j].seq == row[j - 1].seq + 1 && row[j].t == row[j - 1].t &&
		       row[j].meter == row[j - 1].meter && row[j].session == row[j - 1].session)
			j--;
		if (j > 0)
			end = j;
	}
	for (i = 0; i < end;) {
		uint8_t qty[CODEC_POLL_MAX], q[CODEC_POLL_MAX];
		double v[CODEC_POLL_MAX];
		size_t m = 0;

		do {
			qty[m] = (uint8_t)row[i + m].qty;
			q[m] = (uint8_t)row[i + m].quality;
			v[m] = row[i + m].v;
			m++;
		} while (i + m < end && m < CODEC_POLL_MAX &&
			 row[i + m].seq == row[i + m - 1].seq + 1 && row[i + m].t == row[i].t &&
			 row[i + m].meter == row[i].meter && row[i + m].session == row[i].session);
		rc = insert_poll_raw(st, row[i].seq, row[i].t, row[i].meter, row[i].session, qty, v,
				     q, (unsigned)m);
		if (rc != SQLITE_OK)
			goto out;
		i += m;
	}
	rc = sqlite3_prepare_v2(st->db, "DELETE FROM samples_v6 WHERE seq <= ?1", -1, &del, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(del, 1, row[end - 1].seq);
		rc = sqlite3_step(del);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc == SQLITE_OK && sqlite3_changes(st->db) != (int)end)
		rc = SQLITE_INTERNAL;
	if (rc == SQLITE_OK)
		rc = exec(st->db, "COMMIT");
	if (rc == SQLITE_OK) {
		*more = true;
		st->mig_done += (int64_t)end;
		log_progress(st, "converting the buffer to the dense layout", st->mig_done,
			     st->mig_total, "of about", "samples", st->mig_t0, &st->mig_log_at);
	}
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(del);
	free(row);
	if (rc != SQLITE_OK) {
		if (!sqlite3_get_autocommit(st->db))
			exec(st->db, "ROLLBACK");
		shapes_forget(st);
	}
	return rc;
}

/*
 * bf's put for up to ROLL_BLOCKS of the blocks that were there before its
 * schema (ids up to bf->todo), in id order, with meta KEY.done in the
 * same transaction: a kill -9 loses the batch whole and the next start
 * goes on from the mark. The last batch deletes the two keys.
 */
static int backfill_batch(struct store *st, struct backfill *bf, bool *more)
{
	sqlite3_stmt *sel = NULL;
	struct codec_block b;
	int64_t last = bf->done;
	char sql[96];
	int rc, n = 0;

	*more = false;
	memset(&b, 0, sizeof(b));
	rc = exec(st->db, "BEGIN IMMEDIATE");
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(st->db,
					"SELECT id, win, meter_id, shape_id, data FROM blocks"
					" WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3",
					-1, &sel, NULL);
	if (rc != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(sel, 1, bf->done);
	sqlite3_bind_int64(sel, 2, bf->todo);
	sqlite3_bind_int(sel, 3, ROLL_BLOCKS);
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		const uint8_t *data = sqlite3_column_blob(sel, 4);
		int len = sqlite3_column_bytes(sel, 4);

		last = sqlite3_column_int64(sel, 0);
		if (data == NULL || codec_block_decode(data, (size_t)len, -1, &b) < 0) {
			log_warn("store: %s: block %" PRId64 " is damaged: not in the %s", st->path,
				 last, bf->what);
		} else {
			rc = bf->put(st, last, sqlite3_column_int64(sel, 2),
				     sqlite3_column_int64(sel, 1), sqlite3_column_int64(sel, 3), &b);
			if (rc != SQLITE_OK)
				goto out;
		}
		n++;
	}
	if (rc != SQLITE_DONE)
		goto out;
	if (n < ROLL_BLOCKS || last >= bf->todo) {
		snprintf(sql, sizeof(sql), "DELETE FROM meta WHERE key IN ('%s.todo', '%s.done')",
			 bf->key, bf->key);
		rc = exec(st->db, sql);
	} else {
		snprintf(sql, sizeof(sql), "UPDATE meta SET value = ?1 WHERE key = '%s.done'",
			 bf->key);
		rc = run1(st->db, sql, last, NULL);
	}
	if (rc == SQLITE_OK)
		rc = exec(st->db, "COMMIT");
	if (rc == SQLITE_OK) {
		int64_t now = util_mono_us();

		bf->count += n;
		if (n < ROLL_BLOCKS || last >= bf->todo) {
			bf->done = bf->todo = 0;
			log_info("store: %s: the %s are complete (%" PRId64 " blocks in %.1f s)",
				 st->path, bf->what, bf->count, (double)(now - bf->t0) / 1e6);
		} else {
			char what[96];

			bf->done = last;
			*more = true;
			snprintf(what, sizeof(what), "making the %s of the buffer", bf->what);
			log_progress(st, what, bf->count, bf->total, "of", "blocks", bf->t0,
				     &bf->log_at);
		}
	}
out:
	sqlite3_finalize(sel);
	codec_block_free(&b);
	if (rc != SQLITE_OK && rc != SQLITE_DONE) {
		if (!sqlite3_get_autocommit(st->db))
			exec(st->db, "ROLLBACK");
		shapes_forget(st);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* One step of housekeeping (writer thread, lock not held): true if more is to do. */
static bool housekeep(struct store *st)
{
	bool more = false;
	int rc;

	if (st->migrating) {
		rc = migrate_batch(st, &more);
		if (rc != SQLITE_OK)
			log_warn("store: %s: converting old rows: %s; tried again later", st->path,
				 sqlite3_errstr(rc));
		return rc == SQLITE_OK && (more || st->migrating == false);
	}
	rc = close_window(st, &more);
	if (rc != SQLITE_OK)
		log_warn("store: %s: closing poll rows into blocks: %s; tried again later",
			 st->path, sqlite3_errstr(rc));
	for (int k = 0; k < 2 && rc == SQLITE_OK; k++) {
		struct backfill *bf = k == 0 ? &st->roll : &st->hours;
		bool more2;

		if (bf->todo <= bf->done)
			continue;
		rc = backfill_batch(st, bf, &more2);
		if (rc != SQLITE_OK)
			log_warn("store: %s: making the %s of old blocks: %s; tried again later",
				 st->path, bf->what, sqlite3_errstr(rc));
		more = more || more2;
	}
	return rc == SQLITE_OK && more;
}

static void writer_run(struct store *st)
{
	int64_t backoff = 0, retry_at = 0, deadline = 0;
	bool hk_last = false; /* the last step was housekeeping: a due batch goes first */

	pthread_mutex_lock(&st->lock);
	for (;;) {
		int64_t now = util_mono_us(), due = INT64_MAX;
		bool pending = st->queued > 0 || st->events.n > 0 || st->alarms.n > 0 ||
			       st->comms.n > 0 || st->forecasts.n > 0 || st->drop_pending > 0 ||
			       st->mark_free > st->mark_saved || st->status_pending;

		if (st->stopping && deadline == 0)
			deadline = now + (int64_t)(st->drain_ms > 0 ? st->drain_ms : 0) * 1000;
		if (pending && st->state == STORE_OK) {
			if (st->stopping || st->flushers > 0 || st->queued >= (size_t)st->batch_rows ||
			    st->events.n >= EVENTS_PER_BATCH || st->alarms.n >= ALARMS_PER_BATCH ||
			    st->comms.n >= COMMS_PER_BATCH)
				due = now;
			else
				due = oldest_arrival(st) + (int64_t)st->commit_ms * 1000;
		}
		/* Housekeeping when nothing is pending, and one step (at most
		 * CLOSE_POLLS poll rows or MIG_ROWS old rows) after each batch. */
		if (st->state == STORE_OK && !st->stopping && now >= st->hk_at &&
		    (!pending || !hk_last)) {
			bool more;

			pthread_mutex_unlock(&st->lock);
			more = housekeep(st);
			pthread_mutex_lock(&st->lock);
			st->hk_pub.blocks_written = st->blocks_written;
			st->hk_pub.polls_closed = st->polls_closed;
			st->hk_pub.migrating = st->migrating;
			st->hk_pub.migrate_done = st->mig_done;
			st->hk_pub.migrate_total = st->mig_total;
			st->hk_idle = !more;
			pthread_cond_broadcast(&st->done);
			st->hk_at = util_mono_us() + (more ? 0 : HK_IDLE_US);
			hk_last = true;
			continue;
		}
		if (!pending) {
			if (st->stopping)
				break;
			if (st->state == STORE_OK)
				wait_until(st, st->hk_at);
			else
				pthread_cond_wait(&st->wake, &st->lock);
			continue;
		}
		if (st->state != STORE_OK) {
			if (st->stopping && now >= deadline)
				break;
			if (st->max_pages_pending >= 0)
				retry_at = now; /* a test changed the limit: try now */
			if (now < retry_at) {
				wait_until(st, st->stopping && deadline < retry_at ? deadline
										: retry_at);
				continue;
			}
		} else if (now < due) {
			wait_until(st, due < st->hk_at ? due : st->hk_at);
			continue;
		}
		hk_last = false;
		if (write_batch(st) == 0) {
			backoff = 0;
		} else {
			backoff = backoff == 0 ? BACKOFF_MIN_US
					       : backoff * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US
									      : backoff * 2;
			retry_at = util_mono_us() + backoff;
		}
	}
	abandon(st);
	st->running = false;
	pthread_cond_broadcast(&st->done);
	pthread_mutex_unlock(&st->lock);
}

static void *writer_main(void *arg)
{
	util_thread_name("store-writer");
	writer_run(arg);
	return NULL;
}

int store_start(struct store *st, char **cause)
{
	sigset_t all, old;
	int err;

	if (st->started || st->stopped) {
		set_cause(cause, "store: already started");
		return -1;
	}
	/* From now on a lock is waited for briefly and retried with backoff:
	 * the writer must not sit in SQLite while rows pile up. */
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* Signals are for the hub thread's signalfd, not for the writer. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_mutex_lock(&st->lock);
	st->running = true;
	st->hk_at = util_mono_us() + HK_START_US;
	pthread_mutex_unlock(&st->lock);
	err = pthread_create(&st->thread, NULL, writer_main, st);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		pthread_mutex_lock(&st->lock);
		st->running = false;
		pthread_mutex_unlock(&st->lock);
		set_cause(cause, "store: cannot start the writer thread: %s", strerror(err));
		return -1;
	}
	st->started = true;
	return 0;
}

int store_flush(struct store *st, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? util_mono_us() + (int64_t)timeout_ms * 1000 : 0;
	uint64_t want, want_ev, want_al, want_cm, want_st, want_fc;
	int rc;

	pthread_mutex_lock(&st->lock);
	want_st = st->status_in;
	want = st->in_samples;
	want_ev = st->events.in;
	want_al = st->alarms.in;
	want_cm = st->comms.in;
	want_fc = st->forecasts.in;
	st->flushers++;
	pthread_cond_signal(&st->wake);
	while ((st->out_samples < want || st->events.out < want_ev || st->alarms.out < want_al ||
		st->comms.out < want_cm || st->forecasts.out < want_fc ||
		st->status_out < want_st) &&
	       st->running) {
		if (timeout_ms < 0) {
			pthread_cond_wait(&st->done, &st->lock);
		} else {
			struct timespec ts;

			if (util_mono_us() >= deadline)
				break;
			ts.tv_sec = (time_t)(deadline / 1000000);
			ts.tv_nsec = (long)(deadline % 1000000) * 1000;
			pthread_cond_timedwait(&st->done, &st->lock, &ts);
		}
	}
	st->flushers--;
	rc = st->out_samples >= want && st->events.out >= want_ev && st->alarms.out >= want_al &&
		     st->comms.out >= want_cm && st->forecasts.out >= want_fc &&
		     st->status_out >= want_st
		     ? 0
		     : -1;
	pthread_mutex_unlock(&st->lock);
	return rc;
}

void store_stop(struct store *st, int drain_ms)
{
	sqlite3_stmt *s;

	if (st->stopped)
		return;
	pthread_mutex_lock(&st->lock);
	st->stopping = true;
	st->drain_ms = drain_ms;
	pthread_cond_signal(&st->wake);
	pthread_mutex_unlock(&st->lock);
	if (st->started) {
		pthread_join(st->thread, NULL);
	} else {
		/* Never started: drain in the caller's thread. */
		sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
		pthread_mutex_lock(&st->lock);
		st->running = true;
		pthread_mutex_unlock(&st->lock);
		writer_run(st);
	}
	st->stopped = true;
	if (st->session_id > 0 &&
	    sqlite3_prepare_v2(st->db, "UPDATE sessions SET end_us = ?1 WHERE id = ?2", -1, &s,
			       NULL) == SQLITE_OK) {
		int64_t end = util_now_us();
		int rc;

		/* The end time and the meters' closing comm rows together. */
		sqlite3_bind_int64(s, 1, end);
		sqlite3_bind_int64(s, 2, st->session_id);
		rc = exec(st->db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
		if (rc == SQLITE_OK)
			rc = comm_session_rows(st, end, false);
		if (rc == SQLITE_OK)
			rc = exec(st->db, "COMMIT");
		if (rc != SQLITE_OK) {
			log_error("store: %s: closing session %" PRId64 ": %s", st->path,
				  st->session_id, sqlite3_errmsg(st->db));
			if (!sqlite3_get_autocommit(st->db))
				exec(st->db, "ROLLBACK");
		}
		sqlite3_finalize(s);
	}
}

/* ---- readers ---- */

/* Statements a reader runs again and again (the hub's look for attached
 * consoles' requests, five times a second), kept prepared. */
#define READER_KEPT 4

struct store_reader {
	sqlite3 *db;
	char *path;
	int64_t version;
	char console_id[96];
	struct {
		const char *sql; /* a string literal: compared by address */
		sqlite3_stmt *s;
	} kept[READER_KEPT];
};

struct store_reader *store_reader_open(const char *path, char **cause)
{
	struct store_reader *r;
	struct stat sb;
	int64_t version = 0;
	int rc;

	if (stat(path, &sb) < 0) {
		set_cause(cause, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(sb.st_mode)) {
		set_cause(cause, "cannot open %s: not a regular file", path);
		return NULL;
	}
	if (access(path, R_OK) < 0) {
		set_cause(cause, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	r = util_calloc(1, sizeof(*r));
	r->path = util_strdup(path);
	pthread_once(&sqlite_once, sqlite_setup);
	rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		char why[256];

		set_cause(cause, "cannot open %s: %s", path,
			  r->db ? db_errmsg(r->db, why, sizeof(why)) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(r->db, READER_BUSY_TIMEOUT_MS);
	if (samples_vtab_register(r->db) != SQLITE_OK) {
		set_cause(cause, "cannot open %s: %s", path, sqlite3_errmsg(r->db));
		goto fail;
	}
	rc = check_file(r->db, path, &version, cause);
	if (rc == -2 && cause != NULL) {
		char *damaged = *cause;

		*cause = util_printf("%s; see \"A damaged buffer\" in docs/buffer.md", damaged);
		free(damaged);
	}
	if (rc < 0)
		goto fail;
	if (version == 0) {
		set_cause(cause, "%s is not a phasor buffer (no schema)", path);
		goto fail;
	}
	r->version = version;
	return r;
fail:
	store_reader_close(r);
	return NULL;
}

/*
 * *cause for a failed read: "FILE: message", and for a damaged file what
 * to do about it.
 */
static void reader_fail(struct store_reader *r, char **cause)
{
	if ((sqlite3_extended_errcode(r->db) & 0xff) == SQLITE_CORRUPT)
		set_cause(cause, "%s is damaged (%s): only the rows before the damaged part can be"
			  " read this way; see \"A damaged buffer\" in docs/buffer.md to save what"
			  " is still readable", r->path, sqlite3_errmsg(r->db));
	else
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
}

void store_reader_close(struct store_reader *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < READER_KEPT; i++)
		sqlite3_finalize(r->kept[i].s);
	sqlite3_close_v2(r->db);
	free(r->path);
	free(r);
}

/* The id of name in table; *found false when there is none. */
static int lookup_id(struct store_reader *r, const char *table, const char *name,
		     int64_t *id, bool *found, char **cause)
{
	char sql[80];
	sqlite3_stmt *s;
	int rc;

	*found = false;
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE name = ?1", table);
	rc = sqlite3_prepare_v2(r->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*id = sqlite3_column_int64(s, 0);
			*found = true;
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		reader_fail(r, cause);
	sqlite3_finalize(s);
	return rc == SQLITE_OK ? 0 : -1;
}

/*
 * Prepare sql (whose parameters are ?1 from, ?2 to, ?3 meter id and, when
 * it has a fourth, ?4 quantity id; a table without quantities ignores
 * f->quantity) for f. 1 with *out ready; 0 when a named meter or quantity
 * does not exist, so nothing can match (*out NULL); -1 with *cause.
 */
static int prepare_filtered(struct store_reader *r, const char *sql, const struct store_filter *f,
			    sqlite3_stmt **out, char **cause)
{
	int64_t from = INT64_MIN, to = INT64_MAX, id = 0;
	bool found, none = false;
	sqlite3_stmt *s;

	*out = NULL;
	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	if (f != NULL) {
		from = f->from_us;
		to = f->to_us;
	}
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	if (f != NULL && f->meter != NULL) {
		if (lookup_id(r, "meters", f->meter, &id, &found, cause) < 0)
			goto fail;
		none |= !found;
		sqlite3_bind_int64(s, 3, id);
	}
	if (f != NULL && f->quantity != NULL && sqlite3_bind_parameter_count(s) >= 4) {
		if (lookup_id(r, "quantities", f->quantity, &id, &found, cause) < 0)
			goto fail;
		none |= !found;
		sqlite3_bind_int64(s, 4, id);
	}
	if (none) {
		sqlite3_finalize(s);
		return 0;
	}
	*out = s;
	return 1;
fail:
	sqlite3_finalize(s);
	return -1;
}

/* The end of a row loop whose last sqlite3_step gave rc (SQLITE_DONE:
 * all rows, or the callback stopped): 0, or -1 with *cause. */
static int rows_end(struct store_reader *r, sqlite3_stmt *s, int rc, char **cause)
{
	if (rc != SQLITE_DONE)
		reader_fail(r, cause);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *col_text(sqlite3_stmt *s, int i, const char *dflt)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return t != NULL ? t : dflt;
}

static double col_double(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

/* Rows of (seq, t_us, meter, quantity, unit, value, quality, session) to fn. */
static int sample_rows(struct store_reader *r, sqlite3_stmt *s, store_row_fn fn, void *ctx,
		       char **cause)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_row row;

		row.seq = sqlite3_column_int64(s, 0);
		row.t_us = sqlite3_column_int64(s, 1);
		row.meter = col_text(s, 2, "");
		row.quantity = col_text(s, 3, "");
		row.unit = col_text(s, 4, "");
		row.value = col_double(s, 5);
		row.quality = sqlite3_column_int(s, 6);
		row.session = sqlite3_column_int64(s, 7);
		if (fn(ctx, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return rows_end(r, s, rc, cause);
}

/* Rows of (seq, t_us, session, meter, status, error) to fn. */
static int comm_rows(struct store_reader *r, sqlite3_stmt *s, store_comm_fn fn, void *ctx,
		     char **cause)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_comm_row row;

		row.seq = sqlite3_column_int64(s, 0);
		row.t_us = sqlite3_column_int64(s, 1);
		row.session = sqlite3_column_int64(s, 2);
		row.meter = col_text(s, 3, "");
		row.status = sqlite3_column_int(s, 4);
		row.error = col_text(s, 5, "");
		if (fn(ctx, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return rows_end(r, s, rc, cause);
}

/*
 * head " WHERE s.t_us >= ?1 AND s.t_us < ?2", the meter and quantity as
 * plain equalities when filtered (so that the samples module reads only
 * that meter's polls and blocks and decodes one column), then tail.
 */
static char *filtered_sql(const char *head, const struct store_filter *f, const char *tail)
{
	return util_printf("%s WHERE s.t_us >= ?1 AND s.t_us < ?2%s%s%s", head,
			   f != NULL && f->meter != NULL ? " AND s.meter_id = ?3" : "",
			   f != NULL && f->quantity != NULL ? " AND s.qty_id = ?4" : "", tail);
}

int store_reader_samples(struct store_reader *r, const struct store_filter *f, store_row_fn fn,
			 void *ctx, char **cause)
{
	/* (t_us, seq): the order of the index on t_us of the old table, and
	 * one the samples module gives without sorting. */
	char *sql = filtered_sql(
	    "SELECT s.seq, s.t_us, m.name, q.name, q.unit, s.value, s.quality, s.session_id"
	    " FROM samples s"
	    " LEFT JOIN meters m ON m.id = s.meter_id"
	    " LEFT JOIN quantities q ON q.id = s.qty_id",
	    f, " ORDER BY s.t_us, s.seq");
	sqlite3_stmt *s;
	int rc;

	rc = prepare_filtered(r, sql, f, &s, cause);
	free(sql);
	if (rc <= 0)
		return rc;
	return sample_rows(r, s, fn, ctx, cause);
}

int store_reader_events(struct store_reader *r, const struct store_filter *f, store_event_fn fn,
			void *ctx, char **cause)
{
	static const char sql[] =
	    "SELECT e.seq, e.t_us, e.session_id, m.name, e.source, e.what, e.text"
	    " FROM events e LEFT JOIN meters m ON m.id = e.meter_id"
	    " WHERE e.t_us >= ?1 AND e.t_us < ?2 AND (?3 IS NULL OR e.meter_id = ?3)"
	    " ORDER BY e.t_us, e.seq";
	sqlite3_stmt *s;
	int rc;

	rc = prepare_filtered(r, sql, f, &s, cause);
	if (rc <= 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_event_row row;

		row.seq = sqlite3_column_int64(s, 0);
		row.t_us = sqlite3_column_int64(s, 1);
		row.session = sqlite3_column_int64(s, 2);
		row.meter = (const char *)sqlite3_column_text(s, 3);
		row.source = col_text(s, 4, "");
		row.what = col_text(s, 5, "");
		row.text = col_text(s, 6, "");
		if (fn(ctx, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return rows_end(r, s, rc, cause);
}

int store_reader_comm_changes(struct store_reader *r, const struct store_filter *f,
			      store_comm_fn fn, void *ctx, char **cause)
{
	static const char sql[] =
	    "SELECT c.seq, c.t_us, c.session_id, m.name, c.status, c.error"
	    " FROM comm_changes c LEFT JOIN meters m ON m.id = c.meter_id"
	    " WHERE c.t_us >= ?1 AND c.t_us < ?2 AND (?3 IS NULL OR c.meter_id = ?3)"
	    " ORDER BY c.t_us, c.seq";
	sqlite3_stmt *s;
	int rc;

	if (r->version < 4)
		return 0; /* written before comm changes were data */
	rc = prepare_filtered(r, sql, f, &s, cause);
	if (rc <= 0)
		return rc;
	return comm_rows(r, s, fn, ctx, cause);
}

int store_reader_comm_at(struct store_reader *r, const char *meter, int64_t t_us,
			 struct store_comm_state *out, char **cause)
{
	/* One backward step on the (meter_id, t_us) index. */
	static const char sql[] =
	    "SELECT t_us, session_id, status, error FROM comm_changes"
	    " WHERE meter_id = ?1 AND t_us <= ?2 ORDER BY t_us DESC, seq DESC LIMIT 1";
	sqlite3_stmt *s;
	int64_t id = 0;
	bool found;
	int rc;

	memset(out, 0, sizeof(*out));
	out->status = COMM_UNKNOWN;
	if (r->version < 4)
		return 0;
	if (lookup_id(r, "meters", meter, &id, &found, cause) < 0)
		return -1;
	if (!found)
		return 0;
	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, t_us);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->since_us = sqlite3_column_int64(s, 0);
		out->session = sqlite3_column_int64(s, 1);
		out->status = sqlite3_column_int(s, 2);
		util_strlcpy(out->error, col_text(s, 3, ""), sizeof(out->error));
	} else if (rc != SQLITE_DONE) {
		reader_fail(r, cause);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int64_t store_reader_count(struct store_reader *r, const struct store_filter *f, char **cause)
{
	char *sql = filtered_sql("SELECT count(*) FROM samples s", f, "");
	sqlite3_stmt *s;
	int64_t n = -1;
	int rc;

	rc = prepare_filtered(r, sql, f, &s, cause);
	free(sql);
	if (rc <= 0)
		return rc;
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	else
		reader_fail(r, cause);
	sqlite3_finalize(s);
	return n;
}

/*
 * The good samples of one meter and quantity, for the forecast's series
 * (store_reader_good_values in store.h): no join, no strings per row, the
 * time index bounds the scan.
 */
int store_reader_good_values(struct store_reader *r, const char *meter, const char *quantity,
			     int64_t from_us, int64_t to_us, struct store_values *out, char **cause)
{
	static const char sql[] =
	    "SELECT s.t_us, s.value FROM samples s"
	    " WHERE s.t_us >= ?1 AND s.t_us < ?2 AND s.meter_id = ?3 AND s.qty_id = ?4"
	    " AND s.quality = 0 AND s.value IS NOT NULL"
	    " ORDER BY s.t_us, s.seq";
	struct store_filter f = { meter, quantity, from_us, to_us };
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = prepare_filtered(r, sql, &f, &s, cause);
	if (rc <= 0)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4096;
			out->t_us = util_reallocarray(out->t_us, cap, sizeof(*out->t_us));
			out->value = util_reallocarray(out->value, cap, sizeof(*out->value));
		}
		out->t_us[out->n] = sqlite3_column_int64(s, 0);
		out->value[out->n] = sqlite3_column_double(s, 1);
		out->n++;
	}
	rc = rows_end(r, s, rc, cause);
	if (rc < 0)
		store_values_free(out);
	return rc;
}

int store_reader_good_values_many(struct store_reader *r, const char *const *meters, size_t n,
				  const char *quantity, int64_t from_us, int64_t to_us,
				  struct store_values *out, char **cause)
{
	/* One walk of the time index for the quantity, each row handed to its
	 * meter: the site's series of 50 meters in one pass, not 50. */
	static const char sql[] =
	    "SELECT s.meter_id, s.t_us, s.value FROM samples s"
	    " WHERE s.t_us >= ?1 AND s.t_us < ?2 AND s.qty_id = ?3"
	    " AND s.quality = 0 AND s.value IS NOT NULL"
	    " ORDER BY s.t_us, s.seq";
	int64_t qid, maxid = -1, *ids = NULL;
	size_t *cap = NULL, *slot = NULL, i;
	bool found;
	sqlite3_stmt *s = NULL;
	int rc = -1;

	for (i = 0; i < n; i++)
		memset(&out[i], 0, sizeof(out[i]));
	if (n == 0)
		return 0;
	if (lookup_id(r, "quantities", quantity, &qid, &found, cause) < 0)
		return -1;
	if (!found)
		return 0;
	ids = util_calloc(n, sizeof(*ids));
	for (i = 0; i < n; i++) {
		if (lookup_id(r, "meters", meters[i], &ids[i], &found, cause) < 0)
			goto out;
		if (!found)
			ids[i] = -1;
		else if (ids[i] > maxid)
			maxid = ids[i];
	}
	if (maxid < 0) {
		rc = 0;
		goto out;
	}
	/* file id -> index in meters (SIZE_MAX: not asked) */
	slot = util_calloc((size_t)maxid + 1, sizeof(*slot));
	for (i = 0; i <= (size_t)maxid; i++)
		slot[i] = SIZE_MAX;
	for (i = 0; i < n; i++)
		if (ids[i] >= 0)
			slot[ids[i]] = i;
	cap = util_calloc(n, sizeof(*cap));
	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		goto out;
	}
	sqlite3_bind_int64(s, 1, from_us);
	sqlite3_bind_int64(s, 2, to_us);
	sqlite3_bind_int64(s, 3, qid);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		struct store_values *v;

		if (id < 0 || id > maxid || slot[id] == SIZE_MAX)
			continue;
		i = slot[id];
		v = &out[i];
		if (v->n == cap[i]) {
			cap[i] = cap[i] ? cap[i] * 2 : 4096;
			v->t_us = util_reallocarray(v->t_us, cap[i], sizeof(*v->t_us));
			v->value = util_reallocarray(v->value, cap[i], sizeof(*v->value));
		}
		v->t_us[v->n] = sqlite3_column_int64(s, 1);
		v->value[v->n] = sqlite3_column_double(s, 2);
		v->n++;
	}
	rc = rows_end(r, s, rc, cause);
	s = NULL;
out:
	if (s != NULL)
		sqlite3_finalize(s);
	if (rc < 0)
		for (i = 0; i < n; i++)
			store_values_free(&out[i]);
	free(ids);
	free(slot);
	free(cap);
	return rc;
}

void store_values_free(struct store_values *v)
{
	free(v->t_us);
	free(v->value);
	memset(v, 0, sizeof(*v));
}

/* The meters table, for store_reader_first_good: ids ascending. */
struct meter_map {
	int64_t *ids;
	char **names;
	bool *seen;
	size_t n, unseen;
};

static void meter_map_free(struct meter_map *mm)
{
	size_t i;

	for (i = 0; i < mm->n; i++)
		free(mm->names[i]);
	free(mm->ids);
	free(mm->names);
	free(mm->seen);
}

static int meter_map_load(struct store_reader *r, struct meter_map *mm, char **cause)
{
	sqlite3_stmt *s;
	size_t cap = 0;
	int rc;

	memset(mm, 0, sizeof(*mm));
	if (sqlite3_prepare_v2(r->db, "SELECT id, name FROM meters ORDER BY id", -1, &s, NULL) !=
	    SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (mm->n == cap) {
			cap = cap ? cap * 2 : 16;
			mm->ids = util_reallocarray(mm->ids, cap, sizeof(*mm->ids));
			mm->names = util_reallocarray(mm->names, cap, sizeof(*mm->names));
		}
		mm->ids[mm->n] = sqlite3_column_int64(s, 0);
		mm->names[mm->n] = util_strdup(col_text(s, 1, ""));
		mm->n++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		reader_fail(r, cause);
		meter_map_free(mm);
		return -1;
	}
	mm->seen = util_calloc(mm->n > 0 ? mm->n : 1, sizeof(*mm->seen));
	mm->unseen = mm->n;
	return 0;
}

/* Index of id in mm, or -1. */
static ssize_t meter_map_find(const struct meter_map *mm, int64_t id)
{
	size_t lo = 0, hi = mm->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mm->ids[mid] == id)
			return (ssize_t)mid;
		if (mm->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int store_reader_first_good(struct store_reader *r, const char *quantity, int64_t from_us,
			    int64_t max_rows, store_row_fn fn, void *ctx, char **cause)
{
	/*
	 * The quantity and quality are tested here rather than in SQL so that
	 * max_rows counts the rows the index walk really reads: the index is
	 * on t_us alone, so SQLite would read every row after from_us anyway
	 * to find a quantity that never comes.
	 */
	static const char sql[] =
	    "SELECT seq, t_us, meter_id, qty_id, value, quality, session_id FROM samples"
	    " WHERE t_us >= ?1 ORDER BY t_us, seq";
	struct meter_map mm;
	sqlite3_stmt *s = NULL, *q = NULL;
	int64_t qty_id = 0, examined = 0;
	char *unit = NULL, *name = NULL;
	int rc;

	if (sqlite3_prepare_v2(r->db, "SELECT id, name, unit FROM quantities WHERE name = ?1", -1,
			       &q, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	sqlite3_bind_text(q, 1, quantity, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		qty_id = sqlite3_column_int64(q, 0);
		name = util_strdup(col_text(q, 1, ""));
		unit = util_strdup(col_text(q, 2, ""));
	} else if (rc != SQLITE_DONE) {
		reader_fail(r, cause);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	if (meter_map_load(r, &mm, cause) < 0) {
		free(name);
		free(unit);
		return -1;
	}
	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		rc = SQLITE_ERROR;
		goto out;
	}
	sqlite3_bind_int64(s, 1, from_us);
	rc = SQLITE_DONE;
	while (mm.unseen > 0 && (max_rows < 0 || examined < max_rows)) {
		struct store_row row;
		ssize_t m;

		rc = sqlite3_step(s);
		if (rc != SQLITE_ROW)
			break;
		rc = SQLITE_DONE;
		examined++;
		if (sqlite3_column_int64(s, 3) != qty_id ||
		    sqlite3_column_int(s, 5) != QUALITY_GOOD ||
		    sqlite3_column_type(s, 4) == SQLITE_NULL)
			continue;
		m = meter_map_find(&mm, sqlite3_column_int64(s, 2));
		if (m < 0 || mm.seen[m])
			continue;
		mm.seen[m] = true;
		mm.unseen--;
		row.seq = sqlite3_column_int64(s, 0);
		row.t_us = sqlite3_column_int64(s, 1);
		row.meter = mm.names[m];
		row.quantity = name;
		row.unit = unit;
		row.value = sqlite3_column_double(s, 4);
		row.quality = QUALITY_GOOD;
		row.session = sqlite3_column_int64(s, 6);
		if (fn(ctx, &row) != 0)
			break;
	}
	if (rc != SQLITE_DONE)
		reader_fail(r, cause);
out:
	sqlite3_finalize(s);
	meter_map_free(&mm);
	free(name);
	free(unit);
	return rc == SQLITE_DONE ? 0 : -1;
}

static char **names(struct store_reader *r, const char *sql, char **cause)
{
	sqlite3_stmt *s;
	char **out = NULL;
	size_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return NULL;
	}
	out = util_calloc(1, sizeof(*out));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		out = util_reallocarray(out, n + 2, sizeof(*out));
		out[n++] = util_strdup(col_text(s, 0, ""));
		out[n] = NULL;
	}
	if (rc != SQLITE_DONE) {
		reader_fail(r, cause);
		store_names_free(out);
		out = NULL;
	}
	sqlite3_finalize(s);
	return out;
}

char **store_reader_meter_names(struct store_reader *r, char **cause)
{
	return names(r, "SELECT name FROM meters WHERE driver IS NOT 'machine' ORDER BY id", cause);
}

char **store_reader_unit_names(struct store_reader *r, char **cause)
{
	return names(r, "SELECT name FROM meters ORDER BY id", cause);
}

char **store_reader_quantity_names(struct store_reader *r, char **cause)
{
	return names(r, "SELECT name FROM quantities ORDER BY id", cause);
}

void store_names_free(char **list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/* ---- the alarm journal ---- */

#define ALARM_COLUMNS                                                                         \
	"seq, t_us, id, origin, alarm, meter, quantity, priority, event, state, value,"      \
	" limit_value, operator, note, raised_us, until_us"

static int alarm_rows(struct store_reader *r, sqlite3_stmt *s, store_alarm_fn fn, void *ctx,
		      char **cause)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_alarm_event e;

		e.seq = sqlite3_column_int64(s, 0);
		e.t_us = sqlite3_column_int64(s, 1);
		e.id = col_text(s, 2, "");
		e.origin = col_text(s, 3, "");
		e.alarm = col_text(s, 4, "");
		e.meter = col_text(s, 5, "");
		e.quantity = col_text(s, 6, "");
		e.priority = col_text(s, 7, "");
		e.event = col_text(s, 8, "");
		e.state = col_text(s, 9, "");
		e.value = col_double(s, 10);
		e.limit = col_double(s, 11);
		e.operator_name = col_text(s, 12, "");
		e.note = col_text(s, 13, "");
		e.raised_us = sqlite3_column_int64(s, 14);
		e.until_us = sqlite3_column_int64(s, 15);
		e.request = 0;
		if (fn(ctx, &e) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return rows_end(r, s, rc, cause);
}

int store_reader_alarm_events(struct store_reader *r, int64_t from_us, int64_t to_us,
			      store_alarm_fn fn, void *ctx, char **cause)
{
	sqlite3_stmt *s;

	if (r->version < 2)
		return 0; /* written before the journal existed */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT " ALARM_COLUMNS " FROM alarm_events"
			       " WHERE t_us >= ?1 AND t_us < ?2 ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	sqlite3_bind_int64(s, 1, from_us);
	sqlite3_bind_int64(s, 2, to_us);
	return alarm_rows(r, s, fn, ctx, cause);
}

int store_reader_alarm_latest(struct store_reader *r, store_alarm_fn fn, void *ctx, char **cause)
{
	sqlite3_stmt *s;

	if (r->version < 2)
		return 0;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT " ALARM_COLUMNS " FROM alarm_events WHERE seq IN"
			       " (SELECT max(seq) FROM alarm_events GROUP BY alarm, meter)"
			       " ORDER BY seq",
			       -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	return alarm_rows(r, s, fn, ctx, cause);
}

/* ---- following a buffer another process writes ---- */

/* One statement, one 64-bit integer column, or dflt when no row or NULL. */
static int reader_int(struct store_reader *r, const char *sql, int64_t bind, int64_t dflt,
		      int64_t *out, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	*out = dflt;
	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, bind);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*out = sqlite3_column_int64(s, 0);
	return rows_end(r, s, rc == SQLITE_ROW ? SQLITE_DONE : rc, cause);
}

/* sql prepared with ?1 bound to after; NULL with *cause. */
/* sql (a string literal) prepared once for r and kept, reset and its
 * bindings cleared; end its rows with kept_end. NULL: an error (*cause). */
static sqlite3_stmt *kept_prepare(struct store_reader *r, const char *sql, char **cause)
{
	size_t i;

	for (i = 0; i < READER_KEPT && r->kept[i].sql != NULL; i++)
		if (r->kept[i].sql == sql) {
			sqlite3_reset(r->kept[i].s);
			sqlite3_clear_bindings(r->kept[i].s);
			return r->kept[i].s;
		}
	if (i == READER_KEPT)
		util_fail("store reader: more than %d kept statements", READER_KEPT);
	if (sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &r->kept[i].s, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(r->kept[i].s);
		r->kept[i].s = NULL;
		reader_fail(r, cause);
		return NULL;
	}
	r->kept[i].sql = sql;
	return r->kept[i].s;
}

/* rows_end for a kept statement: reset (its read transaction ends), kept. */
static int kept_end(struct store_reader *r, sqlite3_stmt *s, int rc, char **cause)
{
	if (rc != SQLITE_DONE)
		reader_fail(r, cause);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static sqlite3_stmt *prepare_after(struct store_reader *r, const char *sql, int64_t after,
				   char **cause)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(r->db, sql, -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, after);
	return s;
}

/* The highest sample seq, by the layout of the file's schema. */
static int reader_max_sample_seq(struct store_reader *r, int64_t *out, char **cause)
{
	if (r->version < 7)
		return reader_int(r, "SELECT max(seq) FROM samples", 0, 0, out, cause);
	if (samples_vtab_max_seq(r->db, out) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	return 0;
}

int store_reader_last_seqs(struct store_reader *r, struct store_seqs *out, char **cause)
{
	memset(out, 0, sizeof(*out));
	if (reader_max_sample_seq(r, &out->samples, cause) < 0)
		return -1;
	if (r->version >= 2 &&
	    reader_int(r, "SELECT max(seq) FROM alarm_events", 0, 0, &out->alarms, cause) < 0)
		return -1;
	if (r->version >= 4 &&
	    reader_int(r, "SELECT max(seq) FROM comm_changes", 0, 0, &out->comm, cause) < 0)
		return -1;
	if (r->version >= 5 &&
	    reader_int(r, "SELECT max(id) FROM alarm_requests", 0, 0, &out->requests, cause) < 0)
		return -1;
	if (r->version >= 6 &&
	    reader_int(r, "SELECT max(seq) FROM forecasts", 0, 0, &out->forecasts, cause) < 0)
		return -1;
	return 0;
}

int store_reader_first_session(struct store_reader *r, int64_t *t_us, char **cause)
{
	return reader_int(r, "SELECT min(start_us) FROM sessions", 0, 0, t_us, cause);
}

int store_reader_sessions(struct store_reader *r, store_session_fn fn, void *ctx, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(r->db,
			       "SELECT id, start_us, coalesce(end_us, 0), host, mode, config_text"
			       " FROM sessions ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_session x = {
			.id = sqlite3_column_int64(s, 0),
			.start_us = sqlite3_column_int64(s, 1),
			.end_us = sqlite3_column_int64(s, 2),
			.host = col_text(s, 3, ""),
			.mode = col_text(s, 4, ""),
			.config_text = (const char *)sqlite3_column_text(s, 5),
		};

		if (fn(ctx, &x) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return rows_end(r, s, rc, cause);
}

int store_reader_time_bounds(struct store_reader *r, int64_t *first_us, int64_t *last_us,
			     char **cause)
{
	/* Each on an index (t_us of polls and old rows, t0 of blocks); a
	 * block's end has none, but the newest block starts at most one
	 * window before the newest end. */
	static const char *const lo_v7[] = {
		"SELECT min(t_us) FROM polls",
		"SELECT min(t0_us) FROM blocks",
		"SELECT min(t_us) FROM samples_v6",
	};
	static const char *const hi_v7[] = {
		"SELECT max(t_us) FROM polls",
		"SELECT max(t1_us) FROM blocks WHERE t0_us >= (SELECT max(t0_us) FROM blocks) - 300000000",
		"SELECT max(t_us) FROM samples_v6",
	};
	size_t i, n;
	int legacy;

	*first_us = *last_us = 0;
	if (r->version < 7) {
		if (reader_int(r, "SELECT min(t_us) FROM samples", 0, 0, first_us, cause) < 0)
			return -1;
		return reader_int(r, "SELECT max(t_us) FROM samples", 0, 0, last_us, cause);
	}
	legacy = samples_vtab_has_legacy(r->db);
	if (legacy < 0) {
		reader_fail(r, cause);
		return -1;
	}
	n = legacy ? 3 : 2;
	for (i = 0; i < n; i++) {
		int64_t lo, hi;

		if (reader_int(r, lo_v7[i], 0, 0, &lo, cause) < 0 ||
		    reader_int(r, hi_v7[i], 0, 0, &hi, cause) < 0)
			return -1;
		if (lo != 0 && (*first_us == 0 || lo < *first_us))
			*first_us = lo;
		if (hi > *last_us)
			*last_us = hi;
	}
	return 0;
}

int store_reader_seq_since(struct store_reader *r, int64_t t_us, int64_t *seq, char **cause)
{
	int64_t last;

	/* The t_us index holds the rowid: min(seq) over its entries from t_us
	 * on reads no row. Without INDEXED BY, SQLite answers min(seq) by
	 * walking the table in seq order from its first row until a row
	 * matches: the whole buffer before t_us (EXPLAIN QUERY PLAN: "SEARCH
	 * samples"), 0.6 s on a 24 h buffer of 50 meters at 10 s. */
	if (reader_max_sample_seq(r, &last, cause) < 0)
		return -1;
	if (r->version < 7)
		return reader_int(r, "SELECT min(seq) - 1 FROM samples INDEXED BY samples_t_us"
			       " WHERE t_us >= ?1", t_us, last, seq, cause);
	/* The dense layout: the first poll from t_us on, and the first seq of
	 * each block that reaches t_us (a block's polls before t_us then come
	 * too, at most one window of them: the caller gets a little more
	 * history, never less). */
	{
		static const char *const sql[] = {
			"SELECT min(first_seq) - 1 FROM polls WHERE t_us >= ?1",
			("SELECT min(seq_lo) - 1 FROM blocks WHERE t0_us >= ?1 - 300000000"
			 " AND t1_us >= ?1"),
			"SELECT min(seq) - 1 FROM samples_v6 INDEXED BY samples_t_us WHERE t_us >= ?1",
		};
		int legacy = samples_vtab_has_legacy(r->db);

		if (legacy < 0) {
			reader_fail(r, cause);
			return -1;
		}
		*seq = last;
		for (size_t i = 0; i < (legacy ? 3u : 2u); i++) {
			int64_t x;

			if (reader_int(r, sql[i], t_us, last, &x, cause) < 0)
				return -1;
			if (x < *seq)
				*seq = x;
		}
	}
	return 0;
}

int store_reader_ids(struct store_reader *r, bool quantities, store_id_fn fn, void *ctx,
		     char **cause)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(r->db,
			       quantities ? "SELECT id, name FROM quantities ORDER BY id"
					  : "SELECT id, name FROM meters ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(ctx, sqlite3_column_int64(s, 0), col_text(s, 1, "")) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	return rows_end(r, s, rc, cause);
}

/* Rows of (seq, t_us, meter_id, qty_id, value, quality) to fn. */
static int raw_rows(struct store_reader *r, sqlite3_stmt *s, store_raw_fn fn, void *ctx,
		    char **cause)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_raw_row row;

		row.seq = sqlite3_column_int64(s, 0);
		row.t_us = sqlite3_column_int64(s, 1);
		row.meter_id = sqlite3_column_int64(s, 2);
		row.qty_id = sqlite3_column_int64(s, 3);
		row.value = col_double(s, 4);
		row.quality = sqlite3_column_int(s, 5);
		if (fn(ctx, &row) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return rows_end(r, s, rc, cause);
}

int store_reader_raw_after(struct store_reader *r, int64_t after, int64_t to_seq, int64_t max,
			   const int64_t *qty_ids, size_t nqty, store_raw_fn fn, void *ctx,
			   char **cause)
{
	char *sql, *p;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	/* No join: the caller maps the ids (store_reader_ids); a rowid range
	 * and, for the plotted history, the few quantities wanted. */
	sql = p = util_malloc(200 + nqty * 24);
	p += sprintf(p, "SELECT seq, t_us, meter_id, qty_id, value, quality FROM samples"
			" WHERE seq > ?1 AND seq <= ?2");
	if (nqty > 0) {
		p += sprintf(p, " AND qty_id IN (");
		for (i = 0; i < nqty; i++)
			p += sprintf(p, "%s%lld", i ? "," : "", (long long)qty_ids[i]);
		p += sprintf(p, ")");
	}
	sprintf(p, " ORDER BY seq LIMIT ?3");
	rc = sqlite3_prepare_v2(r->db, sql, -1, &s, NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, to_seq);
	sqlite3_bind_int64(s, 3, max);
	return raw_rows(r, s, fn, ctx, cause);
}

/* Samples of the nq quantities qty[] (nq 0: all) through the samples
 * module's scan without SQL (schema 7 and later): SQLite's cost per row
 * was most of a long read (today's energy walks every counter sample of
 * the day). */
static int scan_rows(struct store_reader *r, int64_t from_us, int64_t to_us, const int64_t *qty,
		     size_t nq, store_raw_fn fn, void *ctx, char **cause)
{
	char *err = NULL;
	struct samples_scan *sc;
	struct samples_row x;
	int got = -1;

	sc = samples_scan_open_set(r->db, from_us, to_us - 1, qty, nq, -1, SAMPLES_BLOCKS_ALL,
				   &err);
	while (sc != NULL && (got = samples_scan_next(sc, &x, &err)) > 0) {
		struct store_raw_row row = { x.seq, x.t_us, x.meter_id, x.qty_id, x.value, x.quality };

		if (fn(ctx, &row) != 0) {
			got = 0;
			break;
		}
	}
	samples_scan_close(sc);
	if (got < 0)
		set_cause(cause, "%s: %s", r->path, err != NULL ? err : "?");
	free(err);
	return got < 0 ? -1 : 0;
}

int store_reader_raw_window_set(struct store_reader *r, int64_t from_us, int64_t to_us,
				const int64_t *qty_ids, size_t nqty, store_raw_fn fn, void *ctx,
				char **cause)
{
	if (from_us >= to_us || nqty == 0)
		return 0;
	if (r->version >= 7 && nqty <= 64)
		return scan_rows(r, from_us, to_us, qty_ids, nqty, fn, ctx, cause);
	for (size_t i = 0; i < nqty; i++) /* one quantity at a time */
		if (store_reader_raw_window(r, from_us, to_us, qty_ids[i], fn, ctx, cause) < 0)
			return -1;
	return 0;
}

int store_reader_raw_window(struct store_reader *r, int64_t from_us, int64_t to_us,
			    int64_t qty_id, store_raw_fn fn, void *ctx, char **cause)
{
	/* On the t_us index, every row of the window whatever the order it
	 * was written in (an MQTT journal replayed after a kill -9 writes
	 * minutes-old rows after newer ones; a clock steps back), with one
	 * row lookup each and no join. A range of seqs found from the window's
	 * times was twice as fast but missed such rows. */
	static const char sql_v6[] = "SELECT seq, t_us, meter_id, qty_id, value, quality"
				     " FROM samples INDEXED BY samples_t_us"
				     " WHERE t_us >= ?1 AND t_us < ?2 AND (?3 < 0 OR qty_id = ?3)"
				     " ORDER BY t_us, seq";
	sqlite3_stmt *s;

	if (from_us >= to_us)
		return 0;
	if (r->version >= 7)
		return scan_rows(r, from_us, to_us, &qty_id, qty_id >= 0 ? 1 : 0, fn, ctx, cause);
	s = prepare_after(r, sql_v6, from_us, cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 2, to_us);
	sqlite3_bind_int64(s, 3, qty_id);
	return raw_rows(r, s, fn, ctx, cause);
}

struct mrec {
	int64_t t;
	struct codec_minute m;
};

struct mvec {
	struct mrec *v;
	size_t n, cap;
};

static struct mrec *mvec_push(struct mvec *a, int64_t t)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 256;
		a->v = util_reallocarray(a->v, a->cap, sizeof(*a->v));
	}
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	a->v[a->n].t = t;
	return &a->v[a->n++];
}

static int cmp_mrec(const void *a, const void *b)
{
	const struct mrec *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->m.first_us < y->m.first_us ? -1 : x->m.first_us > y->m.first_us;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The rollups' minutes of meter in [from, to) (whole minutes) of the
 * quantities k (idx[qty] = k, -1: not wanted; one: the only one, decoded
 * alone, else -1: every quantity decoded) into out[k]; *all: every block
 * of those windows has its rollup (the blocks' ids from the index
 * blocks_meter_t0 alone, no row read), so the samples outside the rollups
 * are only in poll rows and old rows.
 */
static int rollup_minutes(struct store_reader *r, int64_t meter, const int *idx, int one,
			  int64_t from, int64_t to, struct mvec *out, bool *all, char **cause)
{
	struct codec_rollup_entry e[5 * CODEC_POLL_MAX];
	int64_t w0 = floor_div(from, SAMPLES_WIN_US) * SAMPLES_WIN_US, *ids = NULL;
	size_t nids = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	*all = true;
	rc = sqlite3_prepare_v2(r->db,
				"SELECT w0_us, data, id FROM rollups WHERE meter_id = ?1 AND w0_us >= ?2"
				" AND w0_us < ?3 ORDER BY w0_us",
				-1, &s, NULL);
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	sqlite3_bind_int64(s, 1, meter);
	sqlite3_bind_int64(s, 2, w0);
	sqlite3_bind_int64(s, 3, to);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t w = sqlite3_column_int64(s, 0);
		int k = codec_rollup_decode(sqlite3_column_blob(s, 1),
					    (size_t)sqlite3_column_bytes(s, 1), w, one, e,
					    sizeof(e) / sizeof(e[0]));

		if (k < 0) {
			set_cause(cause, "%s: a rollup of meter %" PRId64 " is damaged", r->path,
				  meter);
			sqlite3_finalize(s);
			free(ids);
			return -1;
		}
		if (nids == cap) {
			cap = cap ? cap * 2 : 1024;
			ids = util_reallocarray(ids, cap, sizeof(*ids));
		}
		ids[nids++] = sqlite3_column_int64(s, 2);
		for (int i = 0; i < k; i++) {
			int64_t t = w + (int64_t)e[i].minute * CODEC_MINUTE_US;

			if (idx[e[i].qty] >= 0 && t >= from && t < to)
				mvec_push(&out[idx[e[i].qty]], t)->m = e[i].m;
		}
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		rc = sqlite3_prepare_v2(r->db,
					"SELECT id FROM blocks INDEXED BY blocks_meter_t0"
					" WHERE meter_id = ?1 AND t0_us >= ?2 AND t0_us < ?3",
					-1, &s, NULL);
	if (rc == SQLITE_OK) {
		if (nids > 1)
			qsort(ids, nids, sizeof(*ids), cmp_id);
		sqlite3_bind_int64(s, 1, meter);
		sqlite3_bind_int64(s, 2, w0);
		sqlite3_bind_int64(s, 3, to);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW && *all) {
			int64_t id = sqlite3_column_int64(s, 0);

			*all = nids > 0 && bsearch(&id, ids, nids, sizeof(*ids), cmp_id) != NULL;
		}
		rc = rc == SQLITE_ROW ? SQLITE_DONE : rc;
		sqlite3_finalize(s);
	}
	free(ids);
	if (rc != SQLITE_DONE) {
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	return 0;
}

/* The minutes of ru (rollups, sorted here) and sa (samples) merged, to fn. */
static int minutes_merge(struct mvec *ru, struct mvec *sa, size_t k, store_minutes_fn fn,
			 void *ctx)
{
	size_t i, j;
	int rc = 0;

	/* blocks of one window with two shapes or sessions: two rollups
	 * (none: ru->v is NULL, which qsort may not be given) */
	if (ru->n > 1)
		qsort(ru->v, ru->n, sizeof(*ru->v), cmp_mrec);
	for (i = j = 0; (i < ru->n || j < sa->n) && rc == 0;) {
		struct mrec cur;

		if (j >= sa->n || (i < ru->n && ru->v[i].t <= sa->v[j].t))
			cur = ru->v[i++];
		else
			cur = sa->v[j++];
		for (;;) {
			if (i < ru->n && ru->v[i].t == cur.t)
				codec_minute_merge(&cur.m, &ru->v[i++].m);
			else if (j < sa->n && sa->v[j].t == cur.t)
				codec_minute_merge(&cur.m, &sa->v[j++].m);
			else
				break;
		}
		rc = fn(ctx, k, cur.t, &cur.m);
	}
	return rc;
}

/* idx[q]: the index in qty[] of quantity q's first mention, -1 none; the
 * quantities asked for, once each, into qset: how many. */
static size_t qty_index(const unsigned *qty, size_t nq, int *idx, int64_t *qset)
{
	size_t k, nset = 0;

	for (k = 0; k < QTY__COUNT; k++)
		idx[k] = -1;
	for (k = 0; k < nq; k++)
		if (qty[k] < QTY__COUNT && idx[qty[k]] < 0) {
			idx[qty[k]] = (int)k;
			qset[nset++] = qty[k];
		}
	return nset;
}

/* sc's samples aggregated per step (a minute, a window) into sa[idx[qty]],
 * those of an hour not ok[] (from h0; ok NULL: all) left out; sc closed.
 * 0 or -1 with *cause. */
static int scan_aggregate(struct store_reader *r, struct samples_scan *sc, const int *idx,
			  int64_t step, int64_t h0, const bool *ok, struct mvec *sa, char **cause)
{
	struct samples_row x;
	char *err = NULL;

	while (samples_scan_next(sc, &x, &err) > 0) {
		int64_t t = floor_div(x.t_us, step) * step;
		struct mvec *a;
		struct mrec *m;

		if (x.qty_id < 0 || x.qty_id >= QTY__COUNT || idx[x.qty_id] < 0 ||
		    (ok != NULL && !ok[(t - h0) / CODEC_HOUR_US]))
			continue;
		a = &sa[idx[x.qty_id]];
		m = a->n > 0 && a->v[a->n - 1].t == t ? &a->v[a->n - 1] : mvec_push(a, t);
		codec_minute_add(&m->m, x.t_us, x.value, x.quality == QUALITY_GOOD);
	}
	samples_scan_close(sc);
	if (err != NULL) {
		set_cause(cause, "%s: %s", r->path, err);
		free(err);
		return -1;
	}
	return 0;
}

/* ru[k] and sa[k] merged to fn quantity by quantity (when rc is 0), then freed: rc. */
static int merge_out(struct mvec *ru, struct mvec *sa, size_t nq, int rc, store_minutes_fn fn,
		     void *ctx)
{
	size_t k;

	for (k = 0; k < nq && rc == 0; k++)
		if (minutes_merge(&ru[k], &sa[k], k, fn, ctx) != 0)
			break;
	for (k = 0; k < nq; k++) {
		free(ru[k].v);
		free(sa[k].v);
	}
	free(ru);
	free(sa);
	return rc;
}

/* The id of meter: 1, 0 when there is none of that name, -1 with *cause. */
static int reader_meter_id(struct store_reader *r, const char *meter, int64_t *id, char **cause)
{
	sqlite3_stmt *s;
	int got;

	if (sqlite3_prepare_v2(r->db, "SELECT id FROM meters WHERE name = ?1", -1, &s, NULL) !=
	    SQLITE_OK) {
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	sqlite3_bind_text(s, 1, meter, -1, SQLITE_STATIC);
	got = sqlite3_step(s);
	if (got == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (got != SQLITE_ROW && got != SQLITE_DONE) {
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	return got == SQLITE_ROW;
}

int store_reader_minutes_many(struct store_reader *r, const char *meter, const unsigned *qty,
			      size_t nq, int64_t from_us, int64_t to_us, bool raw,
			      store_minutes_fn fn, void *ctx, char **cause)
{
	int64_t from = floor_div(from_us, CODEC_MINUTE_US) * CODEC_MINUTE_US;
	int64_t to = -floor_div(-to_us, CODEC_MINUTE_US) * CODEC_MINUTE_US, id = 0;
	bool rolled = !raw && r->version >= 8, all = false;
	int64_t qset[QTY__COUNT];
	struct samples_scan *sc = NULL;
	struct mvec *ru, *sa;
	int idx[QTY__COUNT];
	char *err = NULL;
	size_t nset;
	int rc = 0, got;

	nset = qty_index(qty, nq, idx, qset);
	if (from >= to || nset == 0)
		return 0;
	if ((got = reader_meter_id(r, meter, &id, cause)) <= 0)
		return got; /* an unknown meter: no minutes */
	if (r->version < 7) {
		set_cause(cause, "%s: schema %" PRId64 ": open it with phasor record once",
			  r->path, r->version);
		return -1;
	}
	ru = util_calloc(nq, sizeof(*ru));
	sa = util_calloc(nq, sizeof(*sa));
	if (rolled && rollup_minutes(r, id, idx, nset == 1 ? (int)qset[0] : -1, from, to, ru,
				     &all, cause) < 0)
		rc = -1;
	if (rc == 0)
		sc = samples_scan_open_set(r->db, from, to - 1, qset, nset, id,
					   !rolled ? SAMPLES_BLOCKS_ALL
					   : all   ? SAMPLES_BLOCKS_NONE
						   : SAMPLES_BLOCKS_UNROLLED,
					   &err);
	if (sc != NULL && scan_aggregate(r, sc, idx, CODEC_MINUTE_US, 0, NULL, sa, cause) < 0)
		rc = -1;
	else if (sc == NULL && err != NULL) {
		set_cause(cause, "%s: %s", r->path, err);
		free(err);
		rc = -1;
	}
	return merge_out(ru, sa, nq, rc, fn, ctx);
}

struct one_qty {
	store_minute_fn fn;
	void *ctx;
};

static int one_minute(void *ctx, size_t k, int64_t t_us, const struct codec_minute *m)
{
	struct one_qty *o = ctx;

	(void)k;
	return o->fn(o->ctx, t_us, m);
}

int store_reader_minutes(struct store_reader *r, const char *meter, unsigned qty, int64_t from_us,
			 int64_t to_us, bool raw, store_minute_fn fn, void *ctx, char **cause)
{
	struct one_qty o = { fn, ctx };

	if (qty >= QTY__COUNT)
		return 0;
	return store_reader_minutes_many(r, meter, &qty, 1, from_us, to_us, raw, one_minute, &o,
					 cause);
}

/* Minutes merged into windows: the open window of quantity k, to fn when the next begins. */
struct to_windows {
	store_minutes_fn fn;
	void *ctx;
	size_t k;
	int64_t w;      /* the open window's start; INT64_MIN: none */
	struct codec_minute m;
	int rc;
};

static int windows_emit(struct to_windows *tw)
{
	int rc = 0;

	if (tw->w != INT64_MIN)
		rc = tw->fn(tw->ctx, tw->k, tw->w, &tw->m);
	tw->w = INT64_MIN;
	memset(&tw->m, 0, sizeof(tw->m));
	return rc;
}

static int window_minute(void *ctx, size_t k, int64_t t_us, const struct codec_minute *m)
{
	struct to_windows *tw = ctx;
	int64_t w = floor_div(t_us, SAMPLES_WIN_US) * SAMPLES_WIN_US;

	if ((w != tw->w || k != tw->k) && (tw->rc = windows_emit(tw)) != 0)
		return tw->rc;
	tw->k = k;
	tw->w = w;
	codec_minute_merge(&tw->m, m);
	return 0;
}

/* The windows of [from, to) (whole windows) from the minutes. */
static int windows_from_minutes(struct store_reader *r, const char *meter, const unsigned *qty,
				size_t nq, int64_t from, int64_t to, bool raw,
				store_minutes_fn fn, void *ctx, char **cause)
{
	struct to_windows tw = { fn, ctx, 0, INT64_MIN, { 0 }, 0 };

	if (store_reader_minutes_many(r, meter, qty, nq, from, to, raw, window_minute, &tw,
				      cause) < 0)
		return -1;
	if (tw.rc == 0)
		windows_emit(&tw);
	return 0;
}

/* A window to out[k] (the hours' vectors of store_reader_windows_many). */
static int window_keep(void *ctx, size_t k, int64_t t_us, const struct codec_minute *m)
{
	struct mvec *out = ctx;

	mvec_push(&out[k], t_us)->m = *m;
	return 0;
}

/* The hours of [h0, h0 + nh hours) of meter whose blocks are all in their
 * rows (row -1 counts them and sums their ids: compared with the blocks
 * the index has now): ok[h]. An hour without blocks is ok. */
static int hours_trusted(struct store_reader *r, int64_t meter, int64_t h0, size_t nh, bool *ok,
			 char **cause)
{
	int64_t *cnt = util_calloc(nh, sizeof(*cnt)), *sum = util_calloc(nh, sizeof(*sum));
	int64_t h1 = h0 + (int64_t)nh * CODEC_HOUR_US;
	sqlite3_stmt *s = NULL;
	size_t h;
	int rc;

	rc = sqlite3_prepare_v2(r->db, "SELECT id, t0_us FROM blocks INDEXED BY blocks_meter_t0"
				" WHERE meter_id = ?1 AND t0_us >= ?2 AND t0_us < ?3", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, meter);
		sqlite3_bind_int64(s, 2, h0);
		sqlite3_bind_int64(s, 3, h1);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			h = (size_t)((sqlite3_column_int64(s, 1) - h0) / CODEC_HOUR_US);
			cnt[h]++;
			sum[h] += sqlite3_column_int64(s, 0);
		}
		sqlite3_finalize(s);
	}
	for (h = 0; h < nh; h++)
		ok[h] = cnt[h] == 0;
	if (rc == SQLITE_DONE)
		rc = sqlite3_prepare_v2(r->db, "SELECT h0_us, n, idsum FROM hours WHERE meter_id = ?1"
					" AND qty = -1 AND h0_us >= ?2 AND h0_us < ?3", -1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, meter);
		sqlite3_bind_int64(s, 2, h0);
		sqlite3_bind_int64(s, 3, h1);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
			int64_t t = sqlite3_column_int64(s, 0);

			if (t < h0 || t >= h1 || (t - h0) % CODEC_HOUR_US != 0)
				continue;
			h = (size_t)((t - h0) / CODEC_HOUR_US);
			ok[h] = cnt[h] == sqlite3_column_int64(s, 1) &&
				sum[h] == sqlite3_column_int64(s, 2);
		}
		sqlite3_finalize(s);
	}
	free(cnt);
	free(sum);
	if (rc != SQLITE_DONE) {
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	return 0;
}

/* The windows in [from, to) of quantity qty's rows of the trusted hours, to out. */
static int hours_windows(struct store_reader *r, int64_t meter, unsigned qty, int64_t h0,
			 size_t nh, const bool *ok, int64_t from, int64_t to, struct mvec *out,
			 char **cause)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(r->db, "SELECT h0_us, data FROM hours WHERE meter_id = ?1"
				" AND qty = ?2 AND h0_us >= ?3 AND h0_us < ?4", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	sqlite3_bind_int64(s, 1, meter);
	sqlite3_bind_int64(s, 2, qty);
	sqlite3_bind_int64(s, 3, h0);
	sqlite3_bind_int64(s, 4, h0 + (int64_t)nh * CODEC_HOUR_US);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct codec_minute w[CODEC_HOUR_SLOTS];
		int64_t t = sqlite3_column_int64(s, 0);
		size_t h = (size_t)((t - h0) / CODEC_HOUR_US);

		if ((t - h0) % CODEC_HOUR_US != 0 || !ok[h])
			continue;
		if (codec_hour_decode(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1),
				      t, w) < 0) {
			set_cause(cause, "%s: an hour of meter %" PRId64 " is damaged", r->path,
				  meter);
			sqlite3_finalize(s);
			return -1;
		}
		for (int k = 0; k < CODEC_HOUR_SLOTS; k++) {
			int64_t wt = t + k * SAMPLES_WIN_US;

			if (w[k].n > 0 && wt >= from && wt < to)
				mvec_push(out, wt)->m = w[k];
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		set_cause(cause, "%s: %s", r->path, sqlite3_errmsg(r->db));
		return -1;
	}
	return 0;
}

int store_reader_windows_many(struct store_reader *r, const char *meter, const unsigned *qty,
			      size_t nq, int64_t from_us, int64_t to_us, bool raw,
			      store_minutes_fn fn, void *ctx, char **cause)
{
	int64_t from = floor_div(from_us, SAMPLES_WIN_US) * SAMPLES_WIN_US;
	int64_t to = -floor_div(-to_us, SAMPLES_WIN_US) * SAMPLES_WIN_US, id = 0;
	int64_t h0 = floor_div(from, CODEC_HOUR_US) * CODEC_HOUR_US;
	int64_t qset[QTY__COUNT];
	struct samples_scan *sc = NULL;
	struct mvec *ru = NULL, *sa = NULL;
	size_t k, h, nh, nset = 0;
	int idx[QTY__COUNT], rc = 0, got;
	char *err = NULL;
	bool *ok = NULL;

	if (from >= to)
		return 0;
	if (raw || r->version < 9)
		return windows_from_minutes(r, meter, qty, nq, from, to, raw, fn, ctx, cause);
	nset = qty_index(qty, nq, idx, qset);
	if (nset == 0)
		return 0;
	if ((got = reader_meter_id(r, meter, &id, cause)) <= 0)
		return got; /* an unknown meter: no windows */
	nh = (size_t)((to - h0 + CODEC_HOUR_US - 1) / CODEC_HOUR_US);
	ok = util_calloc(nh, sizeof(*ok));
	ru = util_calloc(nq, sizeof(*ru));
	sa = util_calloc(nq, sizeof(*sa));
	if (hours_trusted(r, id, h0, nh, ok, cause) < 0)
		rc = -1;
	for (k = 0; k < nq && rc == 0; k++)
		if (qty[k] < QTY__COUNT && idx[qty[k]] == (int)k &&
		    hours_windows(r, id, qty[k], h0, nh, ok, from, to, &ru[k], cause) < 0)
			rc = -1;
	/* the hours not trusted (blocks pruned or not yet merged): from the minutes */
	for (h = 0; h < nh && rc == 0;) {
		size_t e = h;
		int64_t a, b;

		if (ok[h]) {
			h++;
			continue;
		}
		while (e < nh && !ok[e])
			e++;
		a = h0 + (int64_t)h * CODEC_HOUR_US;
		b = h0 + (int64_t)e * CODEC_HOUR_US;
		if (windows_from_minutes(r, meter, qty, nq, a > from ? a : from, b < to ? b : to,
					 false, window_keep, ru, cause) < 0)
			rc = -1;
		h = e;
	}
	/* the trusted hours' samples outside blocks: poll rows, old rows */
	if (rc == 0)
		sc = samples_scan_open_set(r->db, from, to - 1, qset, nset, id, SAMPLES_BLOCKS_NONE,
					   &err);
	if (sc != NULL && scan_aggregate(r, sc, idx, SAMPLES_WIN_US, h0, ok, sa, cause) < 0)
		rc = -1;
	else if (rc == 0 && sc == NULL && err != NULL) {
		set_cause(cause, "%s: %s", r->path, err);
		free(err);
		rc = -1;
	}
	free(ok);
	return merge_out(ru, sa, nq, rc, fn, ctx);
}

int store_reader_comm_after(struct store_reader *r, int64_t after, store_comm_fn fn, void *ctx,
			    char **cause)
{
	static const char sql[] =
	    "SELECT c.seq, c.t_us, c.session_id, m.name, c.status, c.error"
	    " FROM comm_changes c LEFT JOIN meters m ON m.id = c.meter_id"
	    " WHERE c.seq > ?1 ORDER BY c.seq";
	sqlite3_stmt *s;

	if (r->version < 4)
		return 0;
	s = prepare_after(r, sql, after, cause);
	return s != NULL ? comm_rows(r, s, fn, ctx, cause) : -1;
}

int store_reader_alarm_after(struct store_reader *r, int64_t after, store_alarm_fn fn, void *ctx,
			     char **cause)
{
	sqlite3_stmt *s;

	if (r->version < 2)
		return 0;
	s = prepare_after(r, "SELECT " ALARM_COLUMNS " FROM alarm_events WHERE seq > ?1 ORDER BY seq",
			  after, cause);
	return s != NULL ? alarm_rows(r, s, fn, ctx, cause) : -1;
}

int store_reader_status(struct store_reader *r, const char *key, int64_t *t_us, char **text,
			char **cause)
{
	sqlite3_stmt *s;
	int rc, found = 0;

	*t_us = 0;
	*text = NULL;
	if (r->version < 5)
		return 0;
	if (sqlite3_prepare_v2(r->db, "SELECT t_us, value FROM recorder_status WHERE key = ?1", -1,
			       &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*t_us = sqlite3_column_int64(s, 0);
		*text = util_strdup(col_text(s, 1, ""));
		found = 1;
		rc = SQLITE_DONE;
	}
	if (rows_end(r, s, rc, cause) < 0) {
		free(*text);
		*text = NULL;
		return -1;
	}
	return found;
}

#define REQUEST_COLUMNS                                                                       \
	"id, t_us, console, operator, action, alarm, meter, note, dur_ms, done_us, result,"   \
	" event_id"

int store_reader_requests(struct store_reader *r, int64_t after, bool pending_only,
			  store_request_fn fn, void *ctx, char **cause)
{
	sqlite3_stmt *s;
	int rc;

	static const char pending_sql[] = "SELECT " REQUEST_COLUMNS " FROM alarm_requests"
					  " WHERE id > ?1 AND done_us IS NULL ORDER BY id";
	static const char all_sql[] = "SELECT " REQUEST_COLUMNS " FROM alarm_requests"
				      " WHERE id > ?1 ORDER BY id";

	if (r->version < 5)
		return 0;
	s = kept_prepare(r, pending_only ? pending_sql : all_sql, cause);
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_request q;

		q.id = sqlite3_column_int64(s, 0);
		q.t_us = sqlite3_column_int64(s, 1);
		q.console = col_text(s, 2, "");
		q.operator_name = col_text(s, 3, "");
		q.action = col_text(s, 4, "");
		q.alarm = col_text(s, 5, "");
		q.meter = col_text(s, 6, "");
		q.note = col_text(s, 7, "");
		q.dur_ms = sqlite3_column_int64(s, 8);
		q.done_us = sqlite3_column_int64(s, 9);
		q.result = sqlite3_column_type(s, 10) == SQLITE_NULL ? NULL : col_text(s, 10, "");
		q.event_id = col_text(s, 11, "");
		if (fn(ctx, &q) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return kept_end(r, s, rc, cause);
}

int store_request_add(const char *path, const struct store_request *q, int64_t *id,
		      char **cause)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t version = 0;
	int rc;

	*id = 0;
	pthread_once(&sqlite_once, sqlite_setup);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		set_cause(cause, "cannot open %s for writing: %s", path,
			  db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto out;
	}
	/* The recorder's writer holds the file for one commit at a time. */
	sqlite3_busy_timeout(db, 5000);
	if (query_int(db, "PRAGMA user_version", &version) != SQLITE_OK || version < 5) {
		set_cause(cause, "%s: the recorder's buffer is at schema %lld, before requests"
			  " (schema 5): restart the recorder with this version", path,
			  (long long)version);
		rc = SQLITE_ERROR;
		goto out;
	}
	rc = sqlite3_prepare_v2(db,
				"INSERT INTO alarm_requests(t_us, console, operator, action, alarm,"
				" meter, note, dur_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
				-1, &s, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, q->t_us);
		bind_text_or_null(s, 2, q->console);
		bind_text_or_null(s, 3, q->operator_name != NULL ? q->operator_name : "");
		bind_text_or_null(s, 4, q->action);
		bind_text_or_null(s, 5, q->alarm);
		sqlite3_bind_text(s, 6, q->meter != NULL ? q->meter : "", -1, SQLITE_STATIC);
		bind_text_or_null(s, 7, q->note);
		sqlite3_bind_int64(s, 8, q->dur_ms);
		rc = sqlite3_step(s);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	if (rc != SQLITE_OK)
		set_cause(cause, "%s: %s", path, sqlite3_errmsg(db));
	else
		*id = sqlite3_last_insert_rowid(db);
out:
	sqlite3_finalize(s);
	sqlite3_close_v2(db);
	return rc == SQLITE_OK ? 0 : -1;
}

const char *store_reader_console_id(struct store_reader *r)
{
	sqlite3_stmt *s;

	if (r->console_id[0] != '\0' || r->version < 2)
		return r->console_id;
	if (sqlite3_prepare_v2(r->db, "SELECT value FROM identity WHERE key = 'console_id'", -1,
			       &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL)
			util_strlcpy(r->console_id, (const char *)sqlite3_column_text(s, 0),
				     sizeof(r->console_id));
		sqlite3_finalize(s);
	}
	return r->console_id;
}

/* ---- forecasts (schema 6) ---- */

void store_put_forecast(struct store *st, const struct store_forecast *f)
{
	size_t arrays = f->n * (sizeof(int64_t) + 5 * sizeof(double));
	size_t len = arrays + slen(f->meter) + slen(f->method);
	struct qforecast *q = util_malloc(sizeof(*q) + len + sizeof(double));
	/* The arrays first (buf is aligned for them), then the strings. */
	char *p = q->buf;
	uint64_t nlost = 0;
	double **dst[5] = { &q->f.point, &q->f.lo80, &q->f.hi80, &q->f.lo95, &q->f.hi95 };
	const double *src[5] = { f->point, f->lo80, f->hi80, f->lo95, f->hi95 };
	size_t k;

	_Static_assert(offsetof(struct qforecast, buf) % _Alignof(double) == 0, "qforecast buf");
	q->node.arrived = util_mono_us();
	q->f = *f;
	q->f.t_us = (int64_t *)(void *)p;
	memcpy(p, f->t_us, f->n * sizeof(int64_t));
	p += f->n * sizeof(int64_t);
	for (k = 0; k < 5; k++) {
		*dst[k] = (double *)(void *)p;
		memcpy(p, src[k], f->n * sizeof(double));
		p += f->n * sizeof(double);
	}
	q->f.meter = (char *)scopy(&p, f->meter != NULL ? f->meter : "");
	q->f.method = (char *)scopy(&p, f->method != NULL ? f->method : "");

	pthread_mutex_lock(&st->lock);
	if (st->forecasts.n >= STORE_FORECASTS_MAX) {
		nlost = ++st->forecasts_dropped;
	} else {
		fifo_push(&st->forecasts, &q->node);
		pthread_cond_signal(&st->wake);
		q = NULL;
	}
	pthread_mutex_unlock(&st->lock);
	free(q);
	if (nlost > 0 && (nlost & (nlost - 1)) == 0)
		log_warn("store: %s: forecast queue full, %" PRIu64 " forecasts dropped", st->path,
			 nlost);
}

static int insert_forecast(struct store *st, const struct store_forecast *f)
{
	sqlite3_stmt *s = st->ins_forecast;
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; i < f->n && rc == SQLITE_OK; i++) {
		sqlite3_bind_int64(s, 1, f->made_us);
		sqlite3_bind_text(s, 2, f->meter, -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, f->method, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 4, f->t_us[i]);
		sqlite3_bind_int64(s, 5, f->step_us / 1000000);
		bind_double_or_null(s, 6, f->point[i]);
		bind_double_or_null(s, 7, f->lo80[i]);
		bind_double_or_null(s, 8, f->hi80[i]);
		bind_double_or_null(s, 9, f->lo95[i]);
		bind_double_or_null(s, 10, f->hi95[i]);
		sqlite3_bind_int64(s, 11, f->took_us);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_clear_bindings(s);
	return rc;
}

void store_forecast_free(struct store_forecast *f)
{
	free(f->meter);
	free(f->method);
	free(f->t_us);
	free(f->point);
	free(f->lo80);
	free(f->hi80);
	free(f->lo95);
	free(f->hi95);
	memset(f, 0, sizeof(*f));
}

/* The rows of s (t_us, step_s, forecast, lower80, upper80, lower95, upper95) into *out. */
static int forecast_rows(struct store_reader *r, sqlite3_stmt *s, struct store_forecast *out,
			 char **cause)
{
	size_t cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 256;
			out->t_us = util_reallocarray(out->t_us, cap, sizeof(int64_t));
			out->point = util_reallocarray(out->point, cap, sizeof(double));
			out->lo80 = util_reallocarray(out->lo80, cap, sizeof(double));
			out->hi80 = util_reallocarray(out->hi80, cap, sizeof(double));
			out->lo95 = util_reallocarray(out->lo95, cap, sizeof(double));
			out->hi95 = util_reallocarray(out->hi95, cap, sizeof(double));
		}
		out->t_us[out->n] = sqlite3_column_int64(s, 0);
		out->step_us = sqlite3_column_int64(s, 1) * 1000000;
		out->point[out->n] = col_double(s, 2);
		out->lo80[out->n] = col_double(s, 3);
		out->hi80[out->n] = col_double(s, 4);
		out->lo95[out->n] = col_double(s, 5);
		out->hi95[out->n] = col_double(s, 6);
		out->n++;
	}
	return rows_end(r, s, rc, cause);
}

int store_reader_forecast_at(struct store_reader *r, const char *meter, int64_t t_us,
			     struct store_forecast *out, char **cause)
{
	sqlite3_stmt *s;
	int64_t made;

	memset(out, 0, sizeof(*out));
	if (r->version < 6)
		return 0;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT made_us, method, took_us FROM forecasts WHERE meter = ?1 AND"
			       " made_us <= ?2 ORDER BY made_us DESC, seq DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	sqlite3_bind_text(s, 1, meter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, t_us);
	if (sqlite3_step(s) != SQLITE_ROW) {
		int rc = rows_end(r, s, SQLITE_DONE, cause);

		return rc < 0 ? -1 : 0;
	}
	made = sqlite3_column_int64(s, 0);
	out->made_us = made;
	out->method = util_strdup(col_text(s, 1, ""));
	out->took_us = sqlite3_column_int64(s, 2);
	out->meter = util_strdup(meter);
	sqlite3_finalize(s);
	/* Of one run a meter has one forecast; should two share made_us, the
	 * newest (by seq) is the one: its rows are those of the same method
	 * made last, taken as the newest row for each interval. */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT t_us, step_s, forecast, lower80, upper80, lower95, upper95,"
			       " max(seq) FROM forecasts WHERE meter = ?1 AND made_us = ?2"
			       " GROUP BY t_us ORDER BY t_us",
			       -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		store_forecast_free(out);
		return -1;
	}
	sqlite3_bind_text(s, 1, meter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, made);
	if (forecast_rows(r, s, out, cause) < 0) {
		store_forecast_free(out);
		return -1;
	}
	return 1;
}

int store_reader_forecast_past(struct store_reader *r, const char *meter, int64_t from_us,
			       int64_t to_us, struct store_forecast *out, char **cause)
{
	sqlite3_stmt *s;

	memset(out, 0, sizeof(*out));
	out->meter = util_strdup(meter);
	out->method = util_strdup("");
	if (r->version < 6)
		return 0;
	/* SQLite takes the bare columns from the row of max(): for each
	 * interval, the newest forecast made before its end (a run forecasts
	 * from the interval running when it is made, with no data of it). */
	if (sqlite3_prepare_v2(r->db,
			       "SELECT t_us, step_s, forecast, lower80, upper80, lower95, upper95,"
			       " max(made_us) FROM forecasts INDEXED BY"
			       " forecasts_meter_t WHERE meter = ?1 AND t_us >= ?2 AND t_us < ?3"
			       " AND made_us < t_us + step_s * 1000000 GROUP BY t_us ORDER BY t_us",
			       -1, &s, NULL) != SQLITE_OK) {
		reader_fail(r, cause);
		return -1;
	}
	sqlite3_bind_text(s, 1, meter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, from_us);
	sqlite3_bind_int64(s, 3, to_us);
	return forecast_rows(r, s, out, cause);
}
