/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_STORE_H
#define PHASOR_STORE_H
/*
 * store: the local SQLite buffer.
 *
 * Writing: one writer thread owns the write connection. Producers (the hub
 * thread) hand it copies of samples and events through a bounded in-memory
 * queue and never wait on the disk. The writer commits batched transactions
 * with prepared statements, every batch_rows rows and at least every
 * commit_ms. When the disk is full or the file locked the rows stay queued
 * and are retried; past queue_max samples, new samples are dropped and
 * counted (never silently), and the writer resumes by itself when the cause
 * is gone, recording what was dropped as an event.
 *
 * Schema (PRAGMA user_version, migrated forward on open; WAL):
 *   meters(id, name, driver, profile, host, port, unit, topics, ...)
 *   quantities(id, name, unit)
 *   sessions(id, start_us, end_us, host, pid, mode, config_path, config_digest, config_text, version)
 *   samples(seq, t_us, meter_id, qty_id, value, quality, session_id)
 *   events(seq, t_us, session_id, meter_id, source, what, text)
 *   meta(key, value)  -- the seq counters
 *   identity(key, value) -- console_id: this buffer's identity, made once
 *   alarm_events(seq, t_us, id, origin, session_id, alarm, meter, quantity,
 *                priority, event, state, value, limit_value, operator, note,
 *                raised_us, until_us)  -- the alarm journal (issue 4)
 *   sync_quarantine(kind, seq, t_us, sqlstate, error, first_us, last_us,
 *                attempts)  -- rows PostgreSQL refused (the sync, through
 *                src/store/store_sync.c); the sync's watermarks are meta keys sync.samples_seq,
 *                sync.alarms_seq, and sync.quota_dropped counts unsynced
 *                samples deleted under [store] quota
 *   comm_changes(seq, t_us, session_id, meter_id, status, error)  -- every
 *                change of a meter's comm state (schema 4), status an enum
 *                comm_status; "unknown" rows open and close each session
 *   alarm_requests(id, t_us, console, operator, action, alarm, meter, note,
 *                dur_ms, done_us, result, event_id)  -- operator actions of
 *                attached consoles, applied once by the recorder (schema 5)
 *   recorder_status(key, t_us, value)  -- the recorder's status JSON (schema 5)
 *   forecasts(seq, made_us, meter, method, t_us, step_s, forecast, lower80,
 *                upper80, lower95, upper95, took_us)  -- every load forecast
 *                made, one row per interval (schema 6, docs/buffer.md)
 * seq is the local sequence number: every sample is its own row, two
 * samples with the same time are never merged. The writer assigns it from
 * the counter in meta, so it is never reused even after rows are pruned
 * (docs/buffer.md).
 *
 * Reading (export, replay): a separate read-only connection per reader.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/alarmrow.h"
#include "phasor/config.h"
#include "phasor/qty.h"

#define STORE_SCHEMA_VERSION 9

struct store;

enum store_state { STORE_OK, STORE_FULL, STORE_LOCKED, STORE_ERROR };
/* "ok", "disk full", "locked", "error" */
const char *store_state_name(enum store_state s);

struct store_stats {
	enum store_state state;
	char error[160];          /* last error text; "" when none */
	int64_t since_us;         /* when state last changed */
	uint64_t written;         /* samples committed */
	uint64_t events_written;
	uint64_t dropped;         /* samples dropped because the queue was full */
	size_t queued;            /* samples waiting in memory */
	size_t queue_max;
	uint64_t commits;
	int64_t last_commit_us;
	uint64_t events_dropped;  /* events refused because their queue was full */
	uint64_t alarms_written;  /* alarm journal rows committed */
	size_t alarms_queued;
	uint64_t alarms_dropped;  /* refused because their queue was full */
	uint64_t comms_written;   /* comm_changes rows committed (not the session's own) */
	size_t comms_queued;
	uint64_t comms_dropped;   /* refused because their queue was full */
	uint64_t forecasts_written; /* forecasts (each of its intervals a row) committed */
	uint64_t forecasts_dropped; /* refused because their queue was full */
	/* the dense layout (docs/buffer.md, "Samples: polls and blocks") */
	uint64_t blocks_written;  /* blocks the closer made this run */
	uint64_t polls_closed;    /* poll rows it closed into them */
	bool migrating;           /* old rows (schema 6 or older) still being converted */
	int64_t migrate_done, migrate_total; /* samples converted, of about that many */
};

/*
 * Open (creating it and its directory if needed) the buffer at path and
 * migrate it to STORE_SCHEMA_VERSION. Refuses a file whose schema is newer
 * than this binary's, and says which file and the system's reason when it
 * or its directory cannot be written ("Permission denied"). An existing
 * buffer is checked first (PRAGMA quick_check, at most 2 s or
 * $PHASOR_STORE_CHECK_MS): a damaged one is never written to, but moved
 * aside to PATH.corrupt-YYYYmmddTHHMMSSZ (with its -wal and -shm; nothing is
 * deleted) and a new file takes its place, keeping its console id and seq
 * counters when they can be read; that is logged as an error, recorded as
 * a "buffer-replaced" event and told by store_open_notice. Refused when
 * another process has the damaged file open, or SQLite cannot lock it
 * (docs/buffer.md, "A damaged buffer"). Returns NULL with *cause (caller
 * frees) on error.
 */
struct store *store_open(const char *path, size_t queue_max, int batch_rows, int commit_ms,
			 char **cause);

/*
 * "" normally; "damaged buffer moved to PATH.corrupt-..." when store_open
 * replaced a damaged file (for the console and the recorder's summary).
 * Valid until store_close.
 */
const char *store_open_notice(const struct store *st);

/*
 * Record the config's meters (insert or update by name) and remember the
 * config index -> meter id mapping used by store_put_samples. Before
 * store_start. 0, or -1 with *cause.
 */
int store_register_meters(struct store *st, const struct config *cfg, char **cause);

/*
 * Open a recording session (start time, host, pid, mode such as "record" or
 * "console", config path, SHA-256 of the config text, the text itself).
 * Before store_start. 0, or -1 with *cause.
 */
int store_begin_session(struct store *st, const struct config *cfg, const char *mode,
			char **cause);

/* Start the writer thread. 0, or -1 with *cause. */
int store_start(struct store *st, char **cause);

/*
 * Queue copies of n samples (meter = config index) for writing. Never
 * blocks on I/O. Samples beyond queue_max are dropped and counted.
 */
void store_put_samples(struct store *st, const struct sample *s, size_t n);

/*
 * The MQTT intake (include/phasor/intake.h). store_set_intake_slot, before
 * store_start, names the slot whose mark this store keeps (meta key
 * "intake.SLOT") and reads it: 0, or -1 with *cause.
 * store_put_intake (producer thread): queue the n samples decoded from
 * intake record seq (n may be 0), all of them in one call: they are
 * committed together, in the transaction that saves seq as the mark
 * (records are given in seq order). Samples and mark handed over apart
 * could be committed apart, and a kill -9 between the two would make the
 * next start decode the record again and store its samples twice.
 * store_intake_committed (any thread): the saved mark.
 */
int store_set_intake_slot(struct store *st, int slot, char **cause);
void store_put_intake(struct store *st, uint64_t seq, const struct sample *s, size_t n);
uint64_t store_intake_committed(struct store *st);

/* Queue a source event (meter -1: none). Strings are copied. */
void store_put_event(struct store *st, int64_t t_us, int meter, const char *source,
		     const char *what, const char *text);

/*
 * Queue a change of a meter's comm state (meter = config index; status an
 * enum comm_status of source.h, stored as its number: 0 unknown, 1 ok,
 * 2 stale, 3 down; error "" or NULL: none; copied). Never blocks on I/O;
 * written by the writer with the events, in order. Beyond STORE_COMMS_MAX
 * queued rows new ones are dropped and counted (comms_dropped).
 * store_begin_session writes an "unknown" row for every registered meter
 * at the session's start, and store_stop one at its end for every meter
 * whose last status was not unknown (docs/buffer.md, "comm_changes").
 */
#define STORE_COMMS_MAX 100000
void store_put_comm_change(struct store *st, int64_t t_us, int meter, int status,
			   const char *error);

void store_get_stats(struct store *st, struct store_stats *out);

/*
 * The writer is healthy but behind: more than STORE_SOFT_BACKLOG samples
 * (or half of queue_max) wait. Producers should hold back (backpressure)
 * rather than fill the queue up to queue_max, where samples are dropped;
 * dropping is for a disk that refuses writes, not for a busy one.
 */
#define STORE_SOFT_BACKLOG 262144
bool store_congested(struct store *st);

/*
 * Wait until everything queued before the call is committed, or timeout_ms
 * passes (-1: no limit). 0 when flushed, -1 on timeout.
 */
int store_flush(struct store *st, int timeout_ms);

/*
 * Write everything still queued (retrying for up to drain_ms while the disk
 * refuses), close the session (end time), stop the thread. Whatever could
 * not be written is counted in dropped and logged.
 */
void store_stop(struct store *st, int drain_ms);

/* Close the database and free st (after store_stop, or if never started). */
void store_close(struct store *st);

/* The session id opened by store_begin_session (0 if none). */
int64_t store_session_id(const struct store *st);

/*
 * The identity of this buffer: "HOST-XXXXXXXX" (8 random hex digits), made
 * when the file is created and kept in it. Alarm event ids and the central
 * database's unique key (console id, local seq) use it.
 */
const char *store_console_id(const struct store *st);


/*
 * Queue an alarm journal row (copied; never blocks on I/O). Written with
 * the samples, in order; beyond STORE_ALARMS_MAX queued rows new ones are
 * dropped and counted (alarms_dropped).
 */
#define STORE_ALARMS_MAX 1000000
void store_put_alarm_event(struct store *st, const struct store_alarm_event *e);

/* Mark request done as refused (why), in the writer's next transaction. */
void store_put_request_done(struct store *st, int64_t request, const char *why);
/* Mark request done as applied (result ''), with no journal row. */
void store_put_request_applied(struct store *st, int64_t request);

/*
 * A load forecast as stored (schema 6, table forecasts: one row per
 * interval). Every forecast of one run shares made_us. meter "" is the
 * site total. Values in W, NaN for none (stored as NULL).
 */
struct store_forecast {
	int64_t made_us;          /* when it was made */
	char *meter;              /* "" the site */
	char *method;             /* forecast_method_name() */
	int64_t step_us;          /* the interval length */
	int64_t took_us;          /* how long making it took */
	size_t n;
	int64_t *t_us;            /* n interval starts, in order */
	double *point, *lo80, *hi80, *lo95, *hi95;
};
/*
 * Queue a copy of f for writing (never blocks on I/O); written with the
 * next transaction. Beyond STORE_FORECASTS_MAX queued forecasts new ones
 * are dropped and counted (forecasts_dropped).
 */
#define STORE_FORECASTS_MAX 4096
void store_put_forecast(struct store *st, const struct store_forecast *f);
/* Frees the arrays and strings of a forecast a reader filled; zeroes it. */
void store_forecast_free(struct store_forecast *f);

/*
 * The newest status text under key (the recorder's heartbeat: its links,
 * buffer and sync as JSON, docs/buffer.md "recorder_status"), written with
 * the next transaction (at the latest commit_ms after; a newer one given
 * before then replaces it). Copied.
 */
void store_put_status(struct store *st, const char *key, int64_t t_us, const char *text);

/*
 * For tests: change the write connection's PRAGMA max_page_count (the
 * environment variable PHASOR_STORE_MAX_PAGES sets it once, in store_open).
 * Applied by the writer before its next attempt, which happens at once.
 */
void store_debug_set_max_pages(struct store *st, long pages);

/*
 * With the sync configured: close into blocks only poll rows the sync has
 * forwarded (meta sync.samples_seq), so that its normal path reads poll
 * rows only. Without, every poll row older than a window is closed. Set
 * before store_start.
 */
void store_hold_unsynced(struct store *st, bool hold);

/*
 * For tools and benchmarks: store_flush, then wait until the writer's
 * housekeeping (closing old poll rows into blocks, converting an older
 * file) has nothing left to do, starting it now. 0, or -1 after
 * timeout_ms.
 */
int store_settle(struct store *st, int timeout_ms);
/*
 * For generators that write hours of history in seconds (bench/gen_buffer,
 * tests/tools/fcbuf): the closer takes t_us as the time instead of the
 * clock (0: the clock again), so that it closes only the windows the
 * generator has finished, as it does for a recorder writing in real time,
 * instead of closing a window and then making a second block of the polls
 * still coming into it.
 */
void store_debug_close_before(struct store *st, int64_t t_us);

/*
 * For tests: fn(ctx) is called by the writer thread inside each of its
 * transactions, just before COMMIT (sqlite3_commit_hook; nonzero turns the
 * COMMIT into a rollback), without the store's lock held, so it may call
 * store_put_samples. Set before store_start; fn NULL removes it.
 */
void store_debug_on_commit(struct store *st, int (*fn)(void *ctx), void *ctx);

/* ---- reading ---- */

struct store_reader;

struct store_filter {
	const char *meter;        /* exact name or NULL */
	const char *quantity;     /* exact name or NULL */
	int64_t from_us;          /* inclusive; INT64_MIN: no bound */
	int64_t to_us;            /* exclusive; INT64_MAX: no bound */
};

struct store_row {
	int64_t seq;
	int64_t t_us;
	const char *meter;
	const char *quantity;
	const char *unit;
	double value;             /* NaN when stored as NULL (SQLite has no NaN) */
	int quality;              /* enum quality */
	int64_t session;
};

struct store_event_row {
	int64_t seq;
	int64_t t_us;
	int64_t session;
	const char *meter;        /* NULL when none */
	const char *source;
	const char *what;
	const char *text;
};

/* A comm_changes row; strings valid during the callback only. */
struct store_comm_row {
	int64_t seq;
	int64_t t_us;
	int64_t session;          /* 0 when none */
	const char *meter;        /* "" when the meter row is missing */
	int status;               /* enum comm_status (source.h) */
	const char *error;        /* "" when none */
};

/* Called per row; return nonzero to stop. */
typedef int (*store_row_fn)(void *ctx, const struct store_row *r);
typedef int (*store_event_fn)(void *ctx, const struct store_event_row *r);
typedef int (*store_comm_fn)(void *ctx, const struct store_comm_row *r);

/* Open read-only. NULL with *cause when missing, not a buffer, or newer. */
struct store_reader *store_reader_open(const char *path, char **cause);
/* Rows in (t_us, seq) order. 0, or -1 with *cause. */
int store_reader_samples(struct store_reader *r, const struct store_filter *f, store_row_fn fn,
			 void *ctx, char **cause);
int store_reader_events(struct store_reader *r, const struct store_filter *f, store_event_fn fn,
			void *ctx, char **cause);
/*
 * Comm changes matching f (meter, from, to; quantity ignored), in (t_us,
 * seq) order. A file older than schema 4 has none (readers never migrate).
 * 0, or -1 with *cause.
 */
int store_reader_comm_changes(struct store_reader *r, const struct store_filter *f,
			      store_comm_fn fn, void *ctx, char **cause);

/* A meter's comm state at an instant (store_reader_comm_at). */
struct store_comm_state {
	int status;               /* enum comm_status; 0 (unknown) when no row */
	int64_t since_us;         /* the time of the row that set it; 0: none */
	int64_t session;          /* that row's session; 0: none */
	char error[160];          /* that row's error; "" when none */
};

/*
 * The comm state of meter at t_us: the latest change at or before t_us
 * (by time, then seq), which after a session's end is its closing
 * "unknown" row. 1 when a row was found, 0 when there is none (no such
 * meter, nothing recorded before t_us, or a file older than schema 4:
 * out says unknown), -1 with *cause on error.
 */
int store_reader_comm_at(struct store_reader *r, const char *meter, int64_t t_us,
			 struct store_comm_state *out, char **cause);

/*
 * The good samples (quality good, a value) of one meter's quantity with
 * from_us <= t_us < to_us, oldest first, into *out (arrays owned by the
 * caller: store_values_free). 0 (also when the meter or quantity is not in
 * the file: n = 0), or -1 with *cause.
 */
struct store_values {
	int64_t *t_us;
	double *value;
	size_t n;
};
int store_reader_good_values(struct store_reader *r, const char *meter, const char *quantity,
			     int64_t from_us, int64_t to_us, struct store_values *out, char **cause);
/* The same for n meters at once, out[i] for meters[i] (n arrays, free each
 * with store_values_free): one walk of the time index instead of n. */
int store_reader_good_values_many(struct store_reader *r, const char *const *meters, size_t n,
				  const char *quantity, int64_t from_us, int64_t to_us,
				  struct store_values *out, char **cause);
void store_values_free(struct store_values *v);

/* Count of samples matching f, -1 on error. */
int64_t store_reader_count(struct store_reader *r, const struct store_filter *f, char **cause);
/*
 * For each meter, its first good sample of quantity at or after from_us:
 * walks the samples with t_us >= from_us in (t_us, seq) order (the t_us
 * index) and calls fn once per meter, for that meter's first row of the
 * quantity with quality good and a value (rows of meters missing from the
 * meters table are skipped). Stops when fn returns nonzero, when every
 * meter of the file has been reported, or after max_rows rows of any
 * quantity have been examined (max_rows < 0: no limit), which bounds the
 * time spent when a meter has no such row. 0 (also when the quantity is
 * unknown to the file), or -1 with *cause.
 */
int store_reader_first_good(struct store_reader *r, const char *quantity, int64_t from_us,
			    int64_t max_rows, store_row_fn fn, void *ctx, char **cause);
typedef int (*store_alarm_fn)(void *ctx, const struct store_alarm_event *e);
/* Alarm journal rows with from_us <= t_us < to_us, in seq order. 0 or -1 with *cause. */
int store_reader_alarm_events(struct store_reader *r, int64_t from_us, int64_t to_us,
			      store_alarm_fn fn, void *ctx, char **cause);
/*
 * The newest journal row of every (alarm, meter) pair, for restoring alarm
 * states after a restart. 0 or -1 with *cause.
 */
int store_reader_alarm_latest(struct store_reader *r, store_alarm_fn fn, void *ctx,
			      char **cause);
/*
 * Following a buffer another process writes (an attached console). Each
 * table's newest seq (id for requests); 0 where none or the table is newer
 * than the file.
 */
struct store_seqs {
	int64_t samples, comm, alarms, requests, forecasts;
};
int store_reader_last_seqs(struct store_reader *r, struct store_seqs *out, char **cause);
/* The start of the file's first session (0: none). 0 or -1 with *cause. */
int store_reader_first_session(struct store_reader *r, int64_t *t_us, char **cause);
/* A recording session (the sessions table), for a replay. */
struct store_session {
	int64_t id, start_us;
	int64_t end_us;           /* 0: never closed (killed, or still running) */
	const char *host, *mode;  /* "" when unknown */
	const char *config_text;  /* the configuration it ran with; NULL: not kept */
};
typedef int (*store_session_fn)(void *ctx, const struct store_session *s);
/* Every session, oldest first (strings valid during the call). 0 or -1. */
int store_reader_sessions(struct store_reader *r, store_session_fn fn, void *ctx, char **cause);
/*
 * The times of the oldest and the newest sample (0 and 0 when there is
 * none), by the indexes: no walk of the samples. 0 or -1 with *cause.
 */
int store_reader_time_bounds(struct store_reader *r, int64_t *first_us, int64_t *last_us,
			     char **cause);
/* *seq: the seq just before the first sample with t_us >= t_us (the newest
 * seq when there is none), to follow from. 0 or -1 with *cause. */
int store_reader_seq_since(struct store_reader *r, int64_t t_us, int64_t *seq, char **cause);
/* The meters' (quantities == false) or the quantities' (id, name), in id order. */
typedef int (*store_id_fn)(void *ctx, int64_t id, const char *name);
int store_reader_ids(struct store_reader *r, bool quantities, store_id_fn fn, void *ctx,
		     char **cause);
/* A sample as stored: ids, not names (map them with store_reader_ids). */
struct store_raw_row {
	int64_t seq, t_us, meter_id, qty_id;
	double value;             /* NaN when NULL */
	int quality;
};
typedef int (*store_raw_fn)(void *ctx, const struct store_raw_row *r);
/*
 * Samples with after < seq <= to_seq in seq order, at most max, of the
 * quantities qty_ids (the file's ids; nqty 0: all). The fast way to follow
 * a buffer: a primary-key range, no join. 0 or -1 with *cause.
 */
int store_reader_raw_after(struct store_reader *r, int64_t after, int64_t to_seq, int64_t max,
			   const int64_t *qty_ids, size_t nqty, store_raw_fn fn, void *ctx,
			   char **cause);
/*
 * Samples of quantity qty_id (the file's id; < 0: every quantity) with
 * from_us <= t_us < to_us, in (t_us, seq) order, read on the t_us index
 * with no join (names by id: store_reader_ids): every row of the window,
 * whatever order it was written in. Cheaper than store_reader_samples's
 * walk with two joins per row. 0 or -1 with *cause.
 */
int store_reader_raw_window(struct store_reader *r, int64_t from_us, int64_t to_us,
			    int64_t qty_id, store_raw_fn fn, void *ctx, char **cause);
/* The same for the nqty quantities qty_ids[] in one pass, in (t_us, seq)
 * order: each block read once, its columns of those quantities decoded. */
int store_reader_raw_window_set(struct store_reader *r, int64_t from_us, int64_t to_us,
				const int64_t *qty_ids, size_t nqty, store_raw_fn fn, void *ctx,
				char **cause);
/*
 * The minutes of one quantity (enum qty_id) of one meter with from_us <=
 * t < to_us, both taken to whole minutes (from down, to up; minutes are
 * aligned on the epoch), in time order, one call per minute that has
 * samples (t_us: the minute's start): since schema 8 the rollups of the
 * blocks (docs/buffer.md, "Rollups") merged with the minutes of the
 * samples in no block with a rollup (poll rows, old blocks before theirs
 * is made, old rows during a migration). raw: every minute from the
 * samples, which the rollups equal (the tests and the benchmark compare).
 * An unknown meter has no minutes. fn's nonzero stops. 0 or -1 with *cause.
 */
struct codec_minute;
typedef int (*store_minute_fn)(void *ctx, int64_t t_us, const struct codec_minute *m);
int store_reader_minutes(struct store_reader *r, const char *meter, unsigned qty, int64_t from_us,
			 int64_t to_us, bool raw, store_minute_fn fn, void *ctx, char **cause);
/*
 * The same for nq quantities of one meter in one walk of its rollups and
 * samples (each blob decoded once, not once per quantity): fn gets k, the
 * index in qty[] of the minute's quantity; all of quantity 0's minutes in
 * time order, then quantity 1's, ... fn's nonzero stops.
 */
typedef int (*store_minutes_fn)(void *ctx, size_t k, int64_t t_us, const struct codec_minute *m);
int store_reader_minutes_many(struct store_reader *r, const char *meter, const unsigned *qty,
			      size_t nq, int64_t from_us, int64_t to_us, bool raw,
			      store_minutes_fn fn, void *ctx, char **cause);
/*
 * The 5-minute windows (SAMPLES_WIN_US, aligned on the epoch, as the
 * blocks) of nq quantities of one meter with from_us <= t < to_us (taken
 * to whole windows: from down, to up), as store_reader_minutes_many: fn
 * gets k, the window's start and its aggregate (its minutes merged by
 * codec_minute_merge: counts, min, max, sum, first, last and the rise
 * exactly those of its samples; the rise of a counter only, 0 or
 * meaningless for other quantities). For long reads of many quantities (the
 * report): since schema 9 from the per-hour window rows the writer keeps
 * per meter and quantity (docs/buffer.md, "Windows"), the rest from the
 * minutes. raw: from the samples. fn's nonzero stops. 0 or -1 with *cause.
 */
int store_reader_windows_many(struct store_reader *r, const char *meter, const unsigned *qty,
			      size_t nq, int64_t from_us, int64_t to_us, bool raw,
			      store_minutes_fn fn, void *ctx, char **cause);
/* Comm changes / alarm journal rows with seq > after, in seq order. 0 or -1. */
int store_reader_comm_after(struct store_reader *r, int64_t after, store_comm_fn fn, void *ctx,
			    char **cause);
int store_reader_alarm_after(struct store_reader *r, int64_t after, store_alarm_fn fn, void *ctx,
			     char **cause);
/* The status under key: 1 with *t_us and *text (caller frees), 0 none, -1. */
int store_reader_status(struct store_reader *r, const char *key, int64_t *t_us, char **text,
			char **cause);

/* An operator action an attached console asks of the recorder (schema 5). */
struct store_request {
	int64_t id, t_us;
	const char *console;      /* who asked: host:pid */
	const char *operator_name;
	const char *action;       /* ack shelve unshelve note */
	const char *alarm, *meter;/* meter "" for none */
	const char *note;
	int64_t dur_ms;           /* shelve: 0 one-shot */
	int64_t done_us;          /* readers: 0 pending */
	const char *result;       /* readers: NULL pending, "" applied, else why refused */
	const char *event_id;     /* readers: the journal row it made, "" none */
};
typedef int (*store_request_fn)(void *ctx, const struct store_request *q);
/* Requests with id > after (only those not done yet when pending_only), in id order. */
int store_reader_requests(struct store_reader *r, int64_t after, bool pending_only,
			  store_request_fn fn, void *ctx, char **cause);
/*
 * Add a request to the buffer at path (its own short write connection,
 * waiting up to 5 s for the recorder's commit): *id its id. May block:
 * never on the UI thread. 0 or -1 with *cause.
 */
int store_request_add(const char *path, const struct store_request *q, int64_t *id,
		      char **cause);

/*
 * The forecast of meter ("" the site) current at t_us: the one with the
 * newest made_us <= t_us, every interval of it, into *out (owned:
 * store_forecast_free). 1 found, 0 none (also before schema 6), -1 with
 * *cause. A replay at t_us shows it exactly as it was then.
 */
int store_reader_forecast_at(struct store_reader *r, const char *meter, int64_t t_us,
			     struct store_forecast *out, char **cause);
/*
 * What was expected of each interval of meter starting in [from_us,
 * to_us): for every such interval, the values of the newest forecast made
 * before the interval's end (a run forecasts from the interval running
 * when it is made, which its data does not include), in time order (method "", made_us
 * and took_us 0: they differ per row). For measuring the stored
 * forecasts' accuracy. 0 or -1 with *cause.
 */
int store_reader_forecast_past(struct store_reader *r, const char *meter, int64_t from_us,
			       int64_t to_us, struct store_forecast *out, char **cause);

/* The file's console id ("" when the file has none yet), static per reader. */
const char *store_reader_console_id(struct store_reader *r);

/*
 * The names in the file's meters / quantities tables, in id order, as a new
 * NULL-terminated array (free with store_names_free). NULL with *cause on
 * error. Meter names leave the machines out (driver machine, whose samples
 * are states and pieces); unit names are both.
 */
char **store_reader_meter_names(struct store_reader *r, char **cause);
char **store_reader_unit_names(struct store_reader *r, char **cause);
char **store_reader_quantity_names(struct store_reader *r, char **cause);
void store_names_free(char **names);
void store_reader_close(struct store_reader *r);

#endif
