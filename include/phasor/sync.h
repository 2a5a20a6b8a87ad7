/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_SYNC_H
#define PHASOR_SYNC_H
/*
 * sync: store and forward of the local buffer to PostgreSQL, exactly once
 * (docs/sync.md).
 *
 * One worker thread (inside `phasor` and `phasor record` when [sync] is
 * configured), or the caller's thread (`phasor sync`), owns one libpq
 * connection and its own SQLite connection to the buffer. Every interval
 * it forwards the samples, alarm journal rows and stored forecasts past the
 * local watermarks (meta keys sync.samples_seq, sync.alarms_seq,
 * sync.forecasts_seq), kind after kind, in seq order, in batches:
 * COPY into a temporary staging table, INSERT ... SELECT ... ON CONFLICT DO
 * NOTHING into phasor.samples (unique key (console, seq, time)), the
 * console's high-water seq into phasor.consoles, COMMIT, and only then the
 * local watermark moves. The central high-water mark is never adopted:
 * when it is above the local watermark the rows between are sent again and
 * the server keeps what it has; rows it did not have (a buffer restored
 * from a backup reuses seqs with other times) are forwarded, counted and
 * reported (log warning, journal event, meta sync.restored_samples). A
 * batch the server refuses for a data reason (SQLSTATE class 22 or 23) is
 * bisected; the rows that still fail alone go
 * to the local quarantine (sync_quarantine) with the error, and the others
 * go on. Then it prunes synced samples and forecasts older than [store]
 * retention and, over
 * [store] quota, the oldest rows (unsynced ones last, counted as events).
 *
 * The UI thread reads sync_get_stats() (a snapshot under a mutex) only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/config.h"
#include "phasor/store_sync.h"

struct sync;

enum sync_state {
	SYNC_IDLE,        /* not started or stopped */
	SYNC_CONNECTING,
	SYNC_UP,          /* connected; forwarding or waiting for the next interval */
	SYNC_DOWN,        /* the server cannot be reached or refused us; retrying */
};
/* "idle", "connecting", "ok", "down" */
const char *sync_state_name(enum sync_state s);

struct sync_stats {
	enum sync_state state;
	bool connected;
	char error[200];            /* last error ("" none), sanitized */
	int64_t error_us;           /* when (UTC us), 0: none */
	int64_t since_us;           /* state last changed */
	int64_t backlog;            /* samples not yet forwarded (-1: unknown yet) */
	int64_t alarm_backlog;      /* alarm journal rows not yet forwarded */
	int64_t forecast_backlog;   /* stored forecast rows (intervals) not yet forwarded */
	int64_t oldest_unsynced_us; /* time of the oldest unsynced sample, 0: none */
	double rate;                /* samples forwarded per second, last batch run */
	uint64_t forwarded;         /* samples forwarded by this process (committed) */
	uint64_t alarms_forwarded;
	uint64_t forecasts_forwarded; /* forecast rows */
	int64_t quarantined;        /* rows in the local quarantine */
	uint64_t pruned;            /* synced samples pruned (retention, quota) */
	uint64_t quota_dropped;     /* unsynced samples deleted under the quota */
	int64_t last_sync_us;       /* end of the last successful pass, 0: never */
	int64_t watermark;          /* local sync.samples_seq */
	int64_t last_seq;           /* the newest sample seq this buffer ever had */
	int64_t central_watermark;  /* the central samples high-water mark as last
				     * read (meta sync.central_samples_seq), -1: never */
	int64_t restored;           /* samples the central database did not have although
				     * they were at or below its high-water mark (a buffer
				     * restored from a backup, a copied buffer), forwarded
				     * anyway: meta sync.restored_samples */
	char console_id[96];
};

/*
 * A sync for cfg (borrowed, must outlive it) and the buffer at db_path.
 * The buffer must exist at schema STORE_SCHEMA_VERSION (store_open made
 * it). NULL with *cause.
 */
struct sync *sync_new(const struct config *cfg, const char *db_path, char **cause);

/* Start the worker thread. 0, or -1 with *cause. */
int sync_start(struct sync *s, char **cause);

/*
 * Stop promptly: wakes the thread, aborts a connection attempt or a query
 * in progress (shutdown of the socket) and joins. The batch in flight is
 * not committed, or committed without its watermark: either way it is sent
 * again next time, and the server ignores what it has. Safe to call twice.
 */
void sync_stop(struct sync *s);
void sync_free(struct sync *s);

/*
 * One pass in the caller's thread: connect, migrate the central schema,
 * forward everything buffered when the pass began, prune. 0 when all was
 * forwarded (quarantined rows count as handled), -1 with *cause.
 */
int sync_once(struct sync *s, char **cause);

/* Run passes every interval until sync_stop (from another thread or a
 * signal handler thread) or forever. For `phasor sync` without --once. */
void sync_loop(struct sync *s);

void sync_get_stats(struct sync *s, struct sync_stats *out);

/* ---- quarantine ---- */

/* A row as struct store_sync_quarantine_row (store_sync.h) describes it. */
typedef int (*sync_quarantine_fn)(void *ctx, const struct store_sync_quarantine_row *r);
/* The quarantined rows, in (kind, seq) order. 0 or -1 with *cause. */
int sync_quarantine_list(struct sync *s, sync_quarantine_fn fn, void *ctx, char **cause);
/*
 * Send the quarantined rows again (connects if needed). Rows the server
 * now takes leave the quarantine; the others keep it with the new error.
 * *taken, *left: counts. 0, or -1 with *cause (server unreachable).
 */
int sync_quarantine_retry(struct sync *s, int64_t *taken, int64_t *left, char **cause);

/* ---- pure parts (unit tested) ---- */

/* The UTC day [lo, hi) holding t_us, in us. */
void sync_partition_range(int64_t t_us, int64_t *lo, int64_t *hi);
/* "samples_YYYYMMDD" of the day holding t_us. */
void sync_partition_name(int64_t t_us, char *buf, size_t size);
/* Partitions are made for days from 2000-01-01 to now + 2 days; rows
 * outside find no partition and are quarantined. */
bool sync_partition_allowed(int64_t t_us, int64_t now_us);

/*
 * The libpq keyword/value arrays for a connection: the conninfo (expanded:
 * a key=value string or a URI), then the password (if any, overriding),
 * then ca_file (if any: sslrootcert, and sslmode verify-full unless the
 * conninfo sets a mode), then fallbacks the conninfo does not set itself:
 * connect_timeout 10, keepalives, tcp_user_timeout 30000,
 * application_name "phasor-sync". NULL-terminated arrays in *keys and
 * *vals (free with sync_params_free); -1 with *cause when the conninfo does
 * not parse, or when ca_file meets an sslrootcert of the conninfo or an
 * sslmode (disable, allow, prefer) that would not check the server with it.
 */
int sync_conn_params(const char *conninfo, const char *password, const char *ca_file,
		     const char ***keys, const char ***vals, char **cause);
void sync_params_free(const char **keys, const char **vals);

/*
 * Append s to buf as a COPY text field (backslash escapes for \\, tab,
 * newline, carriage return). Returns the new length (buf grows as needed).
 */
struct sync_buf {
	char *p;
	size_t len, cap;
};
void sync_buf_field(struct sync_buf *b, const char *s);
void sync_buf_str(struct sync_buf *b, const char *s);
/* A double as COPY text: shortest round-trip; Infinity, -Infinity; \N for NaN. */
void sync_buf_double(struct sync_buf *b, double v);

/*
 * What a central high-water mark says about this buffer (it is never
 * adopted): at the local watermark, OK; above it but within what
 * the buffer ever had (last_seq), RESEND: a stop between the central and
 * the local commit, the rows between are sent again and the server keeps
 * what it has; above anything the buffer ever had, FOREIGN: a buffer
 * restored from a backup, a copy, or a forged mark: its next rows reuse
 * seqs the server has (with other times: new rows), said loudly.
 * Below the local watermark, BEHIND: the server lost rows it had
 * acknowledged (a failover to a standby that was behind, a restore of the
 * central database), or the buffer's last rows were quarantined (never
 * central): the caller tells which, and sends the lost ones again.
 */
enum sync_central { SYNC_CENTRAL_OK, SYNC_CENTRAL_RESEND, SYNC_CENTRAL_FOREIGN,
		    SYNC_CENTRAL_BEHIND };
enum sync_central sync_central_check(int64_t central, int64_t wm, int64_t last_seq);

/*
 * SQLSTATE classes 22 (data exception) and 23 (integrity constraint, such
 * as "no partition of relation found for row") are data errors: the row is
 * at fault, not the connection.
 */
bool sync_is_data_error(const char *sqlstate);

/*
 * Bisection of a failing batch: try(ctx, off, n, err) sends rows
 * [off, off+n) and returns 0 (committed), 1 (refused for a data reason,
 * message in err) or -1 (any other failure: stop). Rows refused alone are
 * passed to bad(ctx, off, err). Ranges are tried in order, left first, so
 * what is committed is always a prefix plus quarantined rows. Returns 0
 * when every row is committed or quarantined, -1 on the first other
 * failure (*done then says how many leading rows are handled).
 */
typedef int (*sync_try_fn)(void *ctx, size_t off, size_t n, char *err, size_t errsz);
typedef int (*sync_bad_fn)(void *ctx, size_t off, const char *err);
int sync_bisect(size_t n, sync_try_fn try_fn, sync_bad_fn bad, void *ctx, size_t *done);


#endif
