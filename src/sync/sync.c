// SPDX-License-Identifier: MIT
/*
 * sync: store and forward of the local buffer to PostgreSQL (design in
 * include/phasor/sync.h, algorithm and failure cases in docs/sync.md).
 *
 * The local side goes through store_sync (the store owns every table of
 * its file; this runs no SQL on it): a private connection to the buffer
 * beside the store's writer, for reads of samples and alarm journal rows
 * past the watermarks, and short write transactions for the watermarks,
 * the sync's events, the quarantine and pruning, each waiting at most
 * 200 ms for the write lock and retried, never held for long. The central
 * side is one libpq connection: connection attempts are non-blocking and
 * polled together with a wake pipe, queries are blocking but sync_stop
 * shuts the socket down under a mutex, so a dead server never holds up a
 * stop. TCP keepalives and tcp_user_timeout end a query on a cut network.
 *
 * Exactly once: the batch's rows and the console's high-water seq commit in
 * one PostgreSQL transaction, ON CONFLICT DO NOTHING on (console, seq, time)
 * makes a resend harmless, and the local watermark moves only after the
 * central commit. The local watermark never adopts the central high-water
 * mark: a central mark above it (a stop between the two commits, a buffer
 * restored from a backup, a second buffer with the same console id, a
 * forged mark) only makes the rows between the two be sent again through
 * ON CONFLICT DO NOTHING; rows of a restored buffer that reuse a seq carry
 * another time, so they are new rows, counted and reported loudly.
 */
#include "phasor/sync.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "phasor/log.h"
#include "phasor/qty.h"
#include "phasor/store_sync.h"
#include "phasor/util.h"

#define BATCH_ROWS 50000
#define ALARM_BATCH_ROWS 5000
#define FORECAST_BATCH_ROWS 10000
#define PRUNE_WINDOW 5000          /* seqs per prune transaction */
#define CONNECT_TIMEOUT_S 10           /* when the conninfo sets none */
#define RETRY_MAX_MS 30000
#define DAY_US 86400000000LL
#define Y2000_US 946684800000000LL
#define PG_SCHEMA_VERSION 4
#define PG_LOCK_KEY 1346917202     /* "PHSR" */

/* ---- pure parts ---- */

const char *sync_state_name(enum sync_state s)
{
	switch (s) {
	case SYNC_IDLE:
		return "idle";
	case SYNC_CONNECTING:
		return "connecting";
	case SYNC_UP:
		return "ok";
	case SYNC_DOWN:
		return "down";
	}
	return "?";
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void sync_partition_range(int64_t t_us, int64_t *lo, int64_t *hi)
{
	*lo = floor_div(t_us, DAY_US) * DAY_US;
	*hi = *lo + DAY_US;
}

void sync_partition_name(int64_t t_us, char *buf, size_t size)
{
	time_t t = (time_t)floor_div(t_us, 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, size, "samples_%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

bool sync_partition_allowed(int64_t t_us, int64_t now_us)
{
	int64_t lo, hi;

	sync_partition_range(now_us, &lo, &hi);
	return t_us >= Y2000_US && t_us < hi + 2 * DAY_US;
}

enum sync_central sync_central_check(int64_t central, int64_t wm, int64_t last_seq)
{
	if (central >= 0 && central < wm)
		return SYNC_CENTRAL_BEHIND;
	if (central <= wm)
		return SYNC_CENTRAL_OK;
	return central <= last_seq ? SYNC_CENTRAL_RESEND : SYNC_CENTRAL_FOREIGN;
}

bool sync_is_data_error(const char *sqlstate)
{
	return sqlstate != NULL && strlen(sqlstate) == 5 && sqlstate[0] == '2' &&
	       (sqlstate[1] == '2' || sqlstate[1] == '3');
}

void sync_params_free(const char **keys, const char **vals)
{
	size_t i;

	if (vals != NULL)
		for (i = 0; keys != NULL && keys[i] != NULL; i++)
			free((char *)vals[i]);
	free(keys);
	free(vals);
}

/* The conninfo's value of keyword, NULL when it sets none. */
static const char *conninfo_value(const PQconninfoOption *opts, const char *keyword)
{
	const PQconninfoOption *o;

	for (o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, keyword) == 0 && o->val != NULL && o->val[0] != '\0')
			return o->val;
	return NULL;
}

int sync_conn_params(const char *conninfo, const char *password, const char *ca_file,
		     const char ***keys_out, const char ***vals_out, char **cause)
{
	static const struct {
		const char *key, *dflt;
	} fallbacks[] = {
		{ "connect_timeout", "10" },
		{ "keepalives", "1" },
		{ "keepalives_idle", "10" },
		{ "keepalives_interval", "5" },
		{ "keepalives_count", "3" },
		{ "tcp_user_timeout", "30000" },
		{ "application_name", "phasor-sync" },
	};
	PQconninfoOption *opts;
	char *err = NULL;
	const char **keys, **vals, *mode;
	size_t n = 0, i, max = UTIL_ARRAY_LEN(fallbacks) + 6;

	opts = PQconninfoParse(conninfo != NULL ? conninfo : "", &err);
	if (opts == NULL) {
		*cause = util_printf("[sync] postgres: %s",
				     err != NULL ? util_trim(err) : "cannot parse the connection string");
		PQfreemem(err);
		return -1;
	}
	mode = conninfo_value(opts, "sslmode");
	if (ca_file != NULL && conninfo_value(opts, "sslrootcert") != NULL) {
		*cause = util_strdup("[sync] ca_file and sslrootcert in [sync] postgres name two CA "
				     "files; keep one");
		PQconninfoFree(opts);
		return -1;
	}
	if (ca_file != NULL && mode != NULL &&
	    (strcmp(mode, "disable") == 0 || strcmp(mode, "allow") == 0 ||
	     strcmp(mode, "prefer") == 0)) {
		*cause = util_printf("[sync] ca_file is set but postgres says sslmode=%s, which may "
				     "not check the server against it; use verify-full",
				     mode);
		PQconninfoFree(opts);
		return -1;
	}
	keys = util_calloc(max, sizeof(*keys));
	vals = util_calloc(max, sizeof(*vals));
	/* Expanded by libpq (expand_dbname): a key=value string or a URI. */
	keys[n] = "dbname";
	vals[n++] = util_strdup(conninfo != NULL ? conninfo : "");
	if (password != NULL && password[0] != '\0') {
		keys[n] = "password";
		vals[n++] = util_strdup(password);
	}
	keys[n] = "client_encoding";
	vals[n++] = util_strdup("UTF8");
	if (ca_file != NULL) {
		/* verify-full unless the conninfo chose (require: verify-ca) */
		keys[n] = "sslrootcert";
		vals[n++] = util_strdup(ca_file);
		if (mode == NULL) {
			keys[n] = "sslmode";
			vals[n++] = util_strdup("verify-full");
		}
	}
	for (i = 0; i < UTIL_ARRAY_LEN(fallbacks); i++)
		if (conninfo_value(opts, fallbacks[i].key) == NULL) {
			keys[n] = fallbacks[i].key;
			vals[n++] = util_strdup(fallbacks[i].dflt);
		}
	keys[n] = NULL;
	vals[n] = NULL;
	PQconninfoFree(opts);
	*keys_out = keys;
	*vals_out = vals;
	return 0;
}

static void buf_reserve(struct sync_buf *b, size_t more)
{
	if (b->len + more + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + more + 1)
			cap *= 2;
		b->p = util_realloc(b->p, cap);
		b->cap = cap;
	}
}

void sync_buf_str(struct sync_buf *b, const char *s)
{
	size_t n = strlen(s);

	buf_reserve(b, n);
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

void sync_buf_field(struct sync_buf *b, const char *s)
{
	const char *p;

	if (s == NULL) {
		sync_buf_str(b, "\\N");
		return;
	}
	buf_reserve(b, 2 * strlen(s));
	for (p = s; *p != '\0'; p++) {
		char c = *p, e = 0;

		switch (c) {
		case '\\':
			e = '\\';
			break;
		case '\t':
			e = 't';
			break;
		case '\n':
			e = 'n';
			break;
		case '\r':
			e = 'r';
			break;
		default:
			break;
		}
		if (e != 0) {
			b->p[b->len++] = '\\';
			b->p[b->len++] = e;
		} else {
			b->p[b->len++] = c;
		}
	}
	b->p[b->len] = '\0';
}

void sync_buf_double(struct sync_buf *b, double v)
{
	char tmp[40];
	int prec;

	if (isnan(v)) {
		sync_buf_str(b, "\\N");
		return;
	}
	if (isinf(v)) {
		sync_buf_str(b, v > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* snprintf and strtod follow LC_NUMERIC (main sets it to "C"); a
	 * decimal comma would still be refused by the server: '.' always. */
	for (char *c = tmp; *c != '\0'; c++)
		if (*c == ',')
			*c = '.';
	sync_buf_str(b, tmp);
}

static void buf_int(struct sync_buf *b, int64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	sync_buf_str(b, tmp);
}

/* Rows [off, off+n): 0 done, -1 stopped by an other failure. */
static int bisect(size_t off, size_t n, sync_try_fn try_fn, sync_bad_fn bad, void *ctx,
		  size_t *done, bool known_bad)
{
	char err[512] = "";
	int rc;

	if (n == 0)
		return 0;
	rc = known_bad ? 1 : try_fn(ctx, off, n, err, sizeof(err));
	if (rc == 0) {
		*done = off + n;
		return 0;
	}
	if (rc < 0)
		return -1;
	if (n == 1) {
		if (bad(ctx, off, err) < 0)
			return -1;
		*done = off + 1;
		return 0;
	}
	if (bisect(off, n / 2, try_fn, bad, ctx, done, false) < 0)
		return -1;
	return bisect(off + n / 2, n - n / 2, try_fn, bad, ctx, done, false);
}

int sync_bisect(size_t n, sync_try_fn try_fn, sync_bad_fn bad, void *ctx, size_t *done)
{
	*done = 0;
	return bisect(0, n, try_fn, bad, ctx, done, false);
}


/* ---- the sync ---- */

struct batch {
	enum store_sync_kind kind;
	bool retry;               /* sending quarantined rows again */
	size_t n, cap;
	struct store_sync_sample *s;
	struct store_sync_alarm *a;
	struct store_sync_forecast *f;
	int64_t *seqs;            /* retry: the seqs leaving the quarantine */
	char sqlstate[8];         /* of the last refusal */
};

#define PART_CACHE 64

struct sync {
	const struct config *cfg;
	char *db_path;
	char console_id[96];
	char *host;
	struct store_sync_db *db;
	PGconn *pg;
	const char **keys, **vals;
	char *console_lit;        /* the console id as an SQL literal (per connection) */
	int64_t wm[STORE_SYNC_KINDS];      /* local watermarks (also in meta) */
	int64_t central[STORE_SYNC_KINDS]; /* central high-water marks read at connect */
	bool told[STORE_SYNC_KINDS];       /* restored rows reported loudly on this connection */
	int64_t meta_sig[4];      /* meters and sessions as last uploaded */
	bool meta_sent;
	int64_t parts[PART_CACHE];/* day starts (us) known to have a partition */
	size_t nparts, part_next;
	struct sync_buf buf;
	char err[512];            /* the current pass's failure */
	char sqlstate[8];

	pthread_t thread;
	bool started;
	int wake[2];

	pthread_mutex_t lock;     /* protects what follows */
	int sock;                 /* the connected socket, for sync_stop; -1 */
	bool stopping;
	struct sync_stats st;
};

static bool stopping(struct sync *s)
{
	bool b;

	pthread_mutex_lock(&s->lock);
	b = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return b;
}

static void set_state(struct sync *s, enum sync_state st, const char *error)
{
	pthread_mutex_lock(&s->lock);
	if (s->st.state != st)
		s->st.since_us = util_now_us();
	s->st.state = st;
	s->st.connected = st == SYNC_UP;
	if (error != NULL) {
		util_sanitize(s->st.error, sizeof(s->st.error), error);
		s->st.error_us = error[0] ? util_now_us() : 0;
	}
	pthread_mutex_unlock(&s->lock);
}

static void fail(struct sync *s, const char *fmt, ...) UTIL_PRINTF(2, 3);

/* Remember the failure of this pass (first line only). */
static void fail(struct sync *s, const char *fmt, ...)
{
	va_list ap;
	char *nl;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	while ((nl = strchr(s->err, '\n')) != NULL)
		*nl = ' ';
	for (size_t n = strlen(s->err); n > 0 && s->err[n - 1] == ' '; n--)
		s->err[n - 1] = '\0';
}

/* ---- local (the buffer, through store_sync) ---- */

static bool stop_asked(void *ctx)
{
	return stopping(ctx);
}

/* Begin a write transaction, waiting for the store writer. 0 or -1. */
static int local_begin(struct sync *s)
{
	if (store_sync_begin(s->db) == 0)
		return 0;
	fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
	return -1;
}

static int local_commit(struct sync *s)
{
	if (store_sync_commit(s->db) == 0)
		return 0;
	fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
	store_sync_rollback(s->db);
	return -1;
}

static void local_rollback(struct sync *s)
{
	store_sync_rollback(s->db);
}

/* Move a watermark (never backwards), in its own transaction. */
static int local_set_wm(struct sync *s, enum store_sync_kind k, int64_t seq)
{
	if (seq > s->wm[k])
		s->wm[k] = seq;
	if (local_begin(s) < 0)
		return -1;
	if (store_sync_put_watermark(s->db, k, seq) < 0) {
		fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
		local_rollback(s);
		return -1;
	}
	return local_commit(s);
}

static int local_open(struct sync *s, char **cause)
{
	s->db = store_sync_open(s->db_path, stop_asked, s, cause);
	if (s->db == NULL)
		return -1;
	util_strlcpy(s->console_id, store_sync_console_id(s->db), sizeof(s->console_id));
	for (int k = 0; k < STORE_SYNC_KINDS; k++)
		if (store_sync_watermark(s->db, k, &s->wm[k]) < 0) {
			*cause = util_printf("%s: %s", s->db_path, store_sync_errmsg(s->db));
			return -1;
		}
	s->st.watermark = s->wm[STORE_SYNC_SAMPLE];
	return 0;
}

/* ---- central (PostgreSQL) ---- */

static void pg_close(struct sync *s)
{
	if (s->pg == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->sock = -1;
	pthread_mutex_unlock(&s->lock);
	PQfinish(s->pg);
	s->pg = NULL;
	PQfreemem(s->console_lit);
	s->console_lit = NULL;
	s->nparts = 0;
	s->part_next = 0;
	s->meta_sent = false;
	memset(s->told, 0, sizeof(s->told));
}

/* Wait until fd is ready for ev, or the wake pipe, or ms. 1 ready, 0 timeout, -1 stop. */
static int wait_fd(struct sync *s, int fd, short ev, int ms)
{
	struct pollfd p[2] = { { .fd = fd, .events = ev }, { .fd = s->wake[0], .events = POLLIN } };

	if (poll(p, 2, ms) < 0 && errno != EINTR)
		return -1;
	if (stopping(s))
		return -1;
	return (p[0].revents != 0) ? 1 : 0;
}

static int pg_connect(struct sync *s)
{
	PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
	int64_t deadline = util_mono_us() + (int64_t)(CONNECT_TIMEOUT_S + 5) * 1000000;
	PGconn *c;

	set_state(s, SYNC_CONNECTING, NULL);
	c = PQconnectStartParams(s->keys, s->vals, 1);
	if (c == NULL) {
		fail(s, "out of memory");
		return -1;
	}
	if (PQstatus(c) == CONNECTION_BAD) {
		fail(s, "%s", PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	while (ps != PGRES_POLLING_OK) {
		int r;

		if (ps == PGRES_POLLING_FAILED) {
			fail(s, "%s", PQerrorMessage(c));
			PQfinish(c);
			return -1;
		}
		r = wait_fd(s, PQsocket(c), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, 200);
		if (r < 0) {
			fail(s, "stopped while connecting");
			PQfinish(c);
			return -1;
		}
		if (util_mono_us() > deadline) {
			fail(s, "connection timed out");
			PQfinish(c);
			return -1;
		}
		if (r > 0)
			ps = PQconnectPoll(c);
	}
	pthread_mutex_lock(&s->lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->lock);
		PQfinish(c);
		fail(s, "stopped while connecting");
		return -1;
	}
	s->sock = PQsocket(c);
	pthread_mutex_unlock(&s->lock);
	s->pg = c;
	s->console_lit = PQescapeLiteral(c, s->console_id, strlen(s->console_id));
	if (s->console_lit == NULL) {
		fail(s, "%s", PQerrorMessage(c));
		pg_close(s);
		return -1;
	}
	return 0;
}

/*
 * Check a result: 0 ok, 1 refused for a data reason, -1 anything else
 * (s->err, s->sqlstate set). Clears res.
 */
static int pg_check(struct sync *s, PGresult *res, ExecStatusType want)
{
	const char *state;
	int rc;

	if (res != NULL && PQresultStatus(res) == want) {
		PQclear(res);
		return 0;
	}
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	util_strlcpy(s->sqlstate, state != NULL ? state : "", sizeof(s->sqlstate));
	fail(s, "%s", res != NULL && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res)
								   : PQerrorMessage(s->pg));
	rc = sync_is_data_error(state) && PQstatus(s->pg) == CONNECTION_OK ? 1 : -1;
	PQclear(res);
	return rc;
}

static int pg_exec(struct sync *s, const char *sql)
{
	PGresult *res = PQexec(s->pg, sql);

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	return pg_check(s, res, PGRES_COMMAND_OK);
}

static void pg_rollback(struct sync *s)
{
	if (s->pg != NULL && PQstatus(s->pg) == CONNECTION_OK &&
	    PQtransactionStatus(s->pg) != PQTRANS_IDLE)
		PQclear(PQexec(s->pg, "ROLLBACK"));
}

/* Central schema migrations: step i takes version i to i + 1. */
static const char *const pg_migrations[PG_SCHEMA_VERSION] = {
	"CREATE TABLE phasor.consoles(\n"
	"  console text PRIMARY KEY,\n"
	"  host text,\n"
	"  version text,\n"
	"  first_seen timestamptz NOT NULL DEFAULT now(),\n"
	"  last_sync timestamptz,\n"
	"  samples_seq bigint NOT NULL DEFAULT 0,\n"
	"  alarms_seq bigint NOT NULL DEFAULT 0);\n"
	"CREATE TABLE phasor.meters(\n"
	"  console text NOT NULL,\n"
	"  name text NOT NULL,\n"
	"  driver text, profile text, host text, port integer, unit integer,\n"
	"  topics text, description text,\n"
	"  first_seen timestamptz, last_seen timestamptz,\n"
	"  PRIMARY KEY (console, name));\n"
	"CREATE TABLE phasor.sessions(\n"
	"  console text NOT NULL,\n"
	"  id bigint NOT NULL,\n"
	"  start_time timestamptz, end_time timestamptz,\n"
	"  host text, pid integer, mode text, config_path text, config_digest text,\n"
	"  version text,\n"
	"  PRIMARY KEY (console, id));\n"
	"CREATE TABLE phasor.samples(\n"
	"  time timestamptz NOT NULL,\n"
	"  console text NOT NULL,\n"
	"  meter text NOT NULL,\n"
	"  quantity text NOT NULL,\n"
	"  value double precision,\n"
	"  quality text NOT NULL CHECK (quality IN ('good', 'bad')),\n"
	"  seq bigint NOT NULL,\n"
	"  session bigint,\n"
	"  PRIMARY KEY (console, seq, time)\n"
	") PARTITION BY RANGE (time);\n"
	"CREATE INDEX samples_meter_time ON phasor.samples(meter, quantity, time);\n"
	"CREATE TABLE phasor.alarm_events(\n"
	"  time timestamptz NOT NULL,\n"
	"  console text NOT NULL,\n"
	"  alarm text NOT NULL,\n"
	"  meter text, quantity text, priority text, event text, state text,\n"
	"  value double precision, \"limit\" double precision,\n"
	"  operator text, note text,\n"
	"  id text NOT NULL UNIQUE,\n"
	"  seq bigint,\n"
	"  synced_by text,\n"
	"  raised timestamptz, until timestamptz);\n"
	"CREATE INDEX alarm_events_time ON phasor.alarm_events(time);\n"
	"CREATE FUNCTION phasor.ensure_partition(day date) RETURNS text\n"
	"LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
	"DECLARE\n"
	"  name text := 'samples_' || to_char(day, 'YYYYMMDD');\n"
	"BEGIN\n"
	"  IF day < date '2000-01-01' OR day > (now() AT TIME ZONE 'UTC')::date + 3 THEN\n"
	"    RAISE EXCEPTION 'phasor.ensure_partition: % is out of range', day;\n"
	"  END IF;\n"
	"  PERFORM pg_advisory_xact_lock(1346917202);\n"
	"  IF to_regclass('phasor.' || quote_ident(name)) IS NULL THEN\n"
	"    EXECUTE format('CREATE TABLE phasor.%I PARTITION OF phasor.samples'\n"
	"                   ' FOR VALUES FROM (%L) TO (%L)', name,\n"
	"                   (day::timestamp AT TIME ZONE 'UTC'),\n"
	"                   ((day + 1)::timestamp AT TIME ZONE 'UTC'));\n"
	"  END IF;\n"
	"  RETURN name;\n"
	"END $f$;\n"
	"REVOKE ALL ON FUNCTION phasor.ensure_partition(date) FROM PUBLIC;\n",
	/* 1 -> 2: one role per console (docs/deployment.md). The owner maps
	 * console ids to login roles in console_roles; a mapped role writes
	 * only its own consoles' rows and watermarks: row-level security on
	 * the small tables, a statement-level trigger on samples and
	 * alarm_events (COPY into a table with RLS is refused, and the direct
	 * COPY is the fast path), partitions within a window around now. The
	 * owner (and its members, and superusers) stay unrestricted. */
	"CREATE TABLE phasor.console_roles(\n"
	"  console text PRIMARY KEY,\n"
	"  role name NOT NULL,\n"
	"  added timestamptz NOT NULL DEFAULT now());\n"
	"CREATE INDEX console_roles_role ON phasor.console_roles(role);\n"
	"REVOKE ALL ON phasor.console_roles FROM PUBLIC;\n"
	"CREATE FUNCTION phasor.is_owner() RETURNS boolean\n"
	"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
	"  SELECT pg_has_role(session_user, c.relowner, 'USAGE')\n"
	"  FROM pg_class c WHERE c.oid = 'phasor.samples'::regclass\n"
	"$f$;\n"
	"CREATE FUNCTION phasor.may_write(c text) RETURNS boolean\n"
	"LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
	"  SELECT phasor.is_owner() OR EXISTS (SELECT 1 FROM phasor.console_roles r\n"
	"                                      WHERE r.console = c AND r.role = session_user)\n"
	"$f$;\n"
	"ALTER TABLE phasor.consoles ENABLE ROW LEVEL SECURITY;\n"
	"CREATE POLICY own_rows ON phasor.consoles\n"
	"  USING (phasor.may_write(console)) WITH CHECK (phasor.may_write(console));\n"
	"CREATE POLICY readers ON phasor.consoles FOR SELECT\n"
	"  USING (NOT has_table_privilege('phasor.samples', 'INSERT'));\n"
	"ALTER TABLE phasor.meters ENABLE ROW LEVEL SECURITY;\n"
	"CREATE POLICY own_rows ON phasor.meters\n"
	"  USING (phasor.may_write(console)) WITH CHECK (phasor.may_write(console));\n"
	"CREATE POLICY readers ON phasor.meters FOR SELECT\n"
	"  USING (NOT has_table_privilege('phasor.samples', 'INSERT'));\n"
	"ALTER TABLE phasor.sessions ENABLE ROW LEVEL SECURITY;\n"
	"CREATE POLICY own_rows ON phasor.sessions\n"
	"  USING (phasor.may_write(console)) WITH CHECK (phasor.may_write(console));\n"
	"CREATE POLICY readers ON phasor.sessions FOR SELECT\n"
	"  USING (NOT has_table_privilege('phasor.samples', 'INSERT'));\n"
	/* MATERIALIZED: may_write once per console, not pushed down to once
	 * per row (SECURITY DEFINER functions are not inlined). */
	"CREATE FUNCTION phasor.check_samples() RETURNS trigger\n"
	"LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$\n"
	"DECLARE\n"
	"  bad text;\n"
	"BEGIN\n"
	"  IF phasor.is_owner() THEN\n"
	"    RETURN NULL;\n"
	"  END IF;\n"
	"  WITH d AS MATERIALIZED (SELECT DISTINCT n.console FROM new_rows n)\n"
	"  SELECT d.console INTO bad FROM d\n"
	"   WHERE NOT phasor.may_write(d.console) LIMIT 1;\n"
	"  IF FOUND THEN\n"
	"    RAISE EXCEPTION 'role % may not write samples of console %', session_user, bad\n"
	"      USING ERRCODE = 'insufficient_privilege';\n"
	"  END IF;\n"
	"  RETURN NULL;\n"
	"END $f$;\n"
	"CREATE TRIGGER samples_console AFTER INSERT ON phasor.samples\n"
	"  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT\n"
	"  EXECUTE FUNCTION phasor.check_samples();\n"
	"CREATE FUNCTION phasor.check_alarm_events() RETURNS trigger\n"
	"LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$\n"
	"DECLARE\n"
	"  bad text;\n"
	"BEGIN\n"
	"  IF phasor.is_owner() THEN\n"
	"    RETURN NULL;\n"
	"  END IF;\n"
	"  WITH d AS MATERIALIZED (SELECT DISTINCT n.synced_by FROM new_rows n)\n"
	"  SELECT d.synced_by INTO bad FROM d\n"
	"   WHERE d.synced_by IS NULL OR NOT phasor.may_write(d.synced_by) LIMIT 1;\n"
	"  IF FOUND THEN\n"
	"    RAISE EXCEPTION 'role % may not write alarm events synced by console %',\n"
	"      session_user, coalesce(bad, '(null)') USING ERRCODE = 'insufficient_privilege';\n"
	"  END IF;\n"
	"  RETURN NULL;\n"
	"END $f$;\n"
	"CREATE TRIGGER alarm_events_console AFTER INSERT ON phasor.alarm_events\n"
	"  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT\n"
	"  EXECUTE FUNCTION phasor.check_alarm_events();\n"
	/* Partitions: the owner from 2000-01-01, a console role from 92 days
	 * back (a buffer's retention and a long outage); both up to 3 days
	 * ahead. SQLSTATE 22023: the rows of such a day find no partition and
	 * are quarantined, the sync goes on. */
	"CREATE OR REPLACE FUNCTION phasor.ensure_partition(day date) RETURNS text\n"
	"LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$\n"
	"DECLARE\n"
	"  name text := 'samples_' || to_char(day, 'YYYYMMDD');\n"
	"  today date := (now() AT TIME ZONE 'UTC')::date;\n"
	"  lo date := CASE WHEN phasor.is_owner() THEN date '2000-01-01' ELSE today - 92 END;\n"
	"BEGIN\n"
	"  IF day IS NULL OR day < lo OR day > today + 3 THEN\n"
	"    RAISE EXCEPTION 'phasor.ensure_partition: % is out of range for role % (% to %)',\n"
	"      day, session_user, lo, today + 3 USING ERRCODE = 'invalid_parameter_value';\n"
	"  END IF;\n"
	"  PERFORM pg_advisory_xact_lock(1346917202);\n"
	"  IF to_regclass('phasor.' || quote_ident(name)) IS NULL THEN\n"
	"    EXECUTE format('CREATE TABLE phasor.%I PARTITION OF phasor.samples'\n"
	"                   ' FOR VALUES FROM (%L) TO (%L)', name,\n"
	"                   (day::timestamp AT TIME ZONE 'UTC'),\n"
	"                   ((day + 1)::timestamp AT TIME ZONE 'UTC'));\n"
	"  END IF;\n"
	"  RETURN name;\n"
	"END $f$;\n",
	/* 2 -> 3: the stored load forecasts (issue 11 item 4), one row per
	 * interval as in the buffer. Exactly once by (console, seq); made is
	 * in the key too, as time is in samples', so that a buffer restored
	 * from a backup, whose new forecasts reuse seqs the server has, adds
	 * them as new rows (they were made later) instead of being taken for
	 * resends. A console role writes only its own consoles' forecasts
	 * (the statement trigger, as for samples), and the roles that could
	 * write alarm events and move alarms_seq get the same rights here, so
	 * that an upgrade does not lock the console roles out. */
	"CREATE TABLE phasor.forecasts(\n"
	"  time timestamptz NOT NULL,\n"
	"  console text NOT NULL,\n"
	"  meter text NOT NULL,\n"
	"  made timestamptz NOT NULL,\n"
	"  method text NOT NULL,\n"
	"  interval_s integer NOT NULL,\n"
	"  forecast double precision,\n"
	"  lower80 double precision, upper80 double precision,\n"
	"  lower95 double precision, upper95 double precision,\n"
	"  seq bigint NOT NULL,\n"
	"  took_us bigint,\n"
	"  PRIMARY KEY (console, seq, made));\n"
	"CREATE INDEX forecasts_meter_time ON phasor.forecasts(console, meter, time);\n"
	"ALTER TABLE phasor.consoles ADD COLUMN forecasts_seq bigint NOT NULL DEFAULT 0;\n"
	"CREATE FUNCTION phasor.check_console_rows() RETURNS trigger\n"
	"LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$\n"
	"DECLARE\n"
	"  bad text;\n"
	"BEGIN\n"
	"  IF phasor.is_owner() THEN\n"
	"    RETURN NULL;\n"
	"  END IF;\n"
	"  WITH d AS MATERIALIZED (SELECT DISTINCT n.console FROM new_rows n)\n"
	"  SELECT d.console INTO bad FROM d\n"
	"   WHERE NOT phasor.may_write(d.console) LIMIT 1;\n"
	"  IF FOUND THEN\n"
	"    RAISE EXCEPTION 'role % may not write % of console %', session_user,\n"
	"      TG_TABLE_NAME, bad USING ERRCODE = 'insufficient_privilege';\n"
	"  END IF;\n"
	"  RETURN NULL;\n"
	"END $f$;\n"
	"CREATE TRIGGER forecasts_console AFTER INSERT ON phasor.forecasts\n"
	"  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT\n"
	"  EXECUTE FUNCTION phasor.check_console_rows();\n"
	"DO $g$\n"
	"DECLARE\n"
	"  r record;\n"
	"BEGIN\n"
	"  FOR r IN SELECT DISTINCT a.grantee::regrole::text AS who\n"
	"           FROM pg_class c, aclexplode(c.relacl) a\n"
	"           WHERE c.oid = 'phasor.alarm_events'::regclass AND a.privilege_type = 'INSERT'\n"
	"             AND a.grantee <> 0 AND a.grantee <> c.relowner LOOP\n"
	"    EXECUTE format('GRANT INSERT ON phasor.forecasts TO %s', r.who);\n"
	"  END LOOP;\n"
	"  FOR r IN SELECT DISTINCT a.grantee::regrole::text AS who\n"
	"           FROM pg_attribute t, aclexplode(t.attacl) a\n"
	"           WHERE t.attrelid = 'phasor.consoles'::regclass AND t.attname = 'alarms_seq'\n"
	"             AND a.privilege_type = 'UPDATE' AND a.grantee <> 0 LOOP\n"
	"    EXECUTE format('GRANT UPDATE (forecasts_seq) ON phasor.consoles TO %s', r.who);\n"
	"  END LOOP;\n"
	"END $g$;\n",
	/* 3 -> 4: machines (issue 14 item 4, docs/machines.md). A machine's
	 * state changes and piece counts are samples of the machine (quantities
	 * machine_state and pieces), synced exactly once with the others; this
	 * view reads the states as words. Whoever may read samples may read
	 * it. */
	"CREATE VIEW phasor.machine_states AS\n"
	"  SELECT time, console, meter AS machine,\n"
	"         CASE value WHEN 0 THEN 'run' WHEN 1 THEN 'wait' WHEN 2 THEN 'stop' END AS state,\n"
	"         seq, session\n"
	"    FROM phasor.samples WHERE quantity = 'machine_state';\n"
	"DO $g$\n"
	"DECLARE\n"
	"  r record;\n"
	"BEGIN\n"
	"  FOR r IN SELECT DISTINCT a.grantee::regrole::text AS who\n"
	"           FROM pg_class c, aclexplode(c.relacl) a\n"
	"           WHERE c.oid = 'phasor.samples'::regclass AND a.privilege_type = 'SELECT'\n"
	"             AND a.grantee <> 0 AND a.grantee <> c.relowner LOOP\n"
	"    EXECUTE format('GRANT SELECT ON phasor.machine_states TO %s', r.who);\n"
	"  END LOOP;\n"
	"END $g$;\n",
};

/* Create or migrate the central schema; a role that may not is fine when
 * the schema is already current. */
static int pg_migrate(struct sync *s)
{
	PGresult *res = PQexec(s->pg, "SELECT max(version) FROM phasor.schema_version");
	int64_t v = -1;
	char sql[160];

	if (res != NULL && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
	    !PQgetisnull(res, 0, 0))
		v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (v == PG_SCHEMA_VERSION)
		return 0;
	if (v > PG_SCHEMA_VERSION) {
		fail(s, "the central schema phasor has version %" PRId64
			", newer than this phasor's (%d): use a newer phasor",
		     v, PG_SCHEMA_VERSION);
		return -1;
	}
	if (pg_exec(s, "BEGIN") != 0)
		return -1;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d)", PG_LOCK_KEY);
	if (pg_exec(s, sql) != 0 || pg_exec(s, "CREATE SCHEMA IF NOT EXISTS phasor") != 0 ||
	    pg_exec(s, "CREATE TABLE IF NOT EXISTS phasor.schema_version(version integer NOT NULL,"
		       " migrated timestamptz NOT NULL DEFAULT now())") != 0)
		goto fail;
	res = PQexec(s->pg, "SELECT coalesce(max(version), 0) FROM phasor.schema_version");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_check(s, res, PGRES_TUPLES_OK);
		goto fail;
	}
	v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	for (; v < PG_SCHEMA_VERSION; v++) {
		if (pg_exec(s, pg_migrations[v]) != 0)
			goto fail;
		snprintf(sql, sizeof(sql), "INSERT INTO phasor.schema_version(version) VALUES(%d)",
			 (int)v + 1);
		if (pg_exec(s, sql) != 0)
			goto fail;
		log_info("sync: central schema phasor migrated to version %d", (int)v + 1);
	}
	if (pg_exec(s, "COMMIT") != 0)
		goto fail;
	return 0;
fail: {
	char why[sizeof(s->err)];

	util_strlcpy(why, s->err, sizeof(why));
	pg_rollback(s);
	fail(s, "creating or migrating the central schema phasor: %s", why);
	return -1;
}
}

static int pg_setup(struct sync *s)
{
	PGresult *res;
	const char *p[1];
	char *sql;

	if (pg_exec(s, "SET statement_timeout = '120s'; SET lock_timeout = '30s';"
		       " SET TIME ZONE 'UTC'") != 0)
		return -1;
	if (pg_migrate(s) < 0)
		return -1;
	if (pg_exec(s, "CREATE TEMP TABLE IF NOT EXISTS phasor_stage_samples(seq bigint,"
		       " t_us bigint, meter text, quantity text, value float8, quality text,"
		       " session bigint) ON COMMIT DELETE ROWS;"
		       " CREATE TEMP TABLE IF NOT EXISTS phasor_stage_alarms(seq bigint, t_us bigint,"
		       " id text, origin text, alarm text, meter text, quantity text, priority text,"
		       " event text, state text, value float8, lim float8, operator text, note text,"
		       " raised_us bigint, until_us bigint) ON COMMIT DELETE ROWS;"
		       " CREATE TEMP TABLE IF NOT EXISTS phasor_stage_forecasts(seq bigint,"
		       " made_us bigint, meter text, method text, t_us bigint, step_s integer,"
		       " forecast float8, lower80 float8, upper80 float8, lower95 float8,"
		       " upper95 float8, took_us bigint) ON COMMIT DELETE ROWS") != 0)
		return -1;
	/* Schema 2: a role writes only the consoles the owner gave it. */
	sql = util_printf("SELECT phasor.may_write(%s), session_user", s->console_lit);
	res = PQexec(s->pg, sql);
	free(sql);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		if (pg_check(s, res, PGRES_TUPLES_OK) == 0)
			fail(s, "phasor.may_write: no answer");
		return -1;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		const char *role = PQgetvalue(res, 0, 1);
		char *lit = PQescapeLiteral(s->pg, role, strlen(role));

		fail(s, "console %s is not registered for role %s: as the owner of the schema phasor, run:"
			" INSERT INTO phasor.console_roles(console, role) VALUES (%s, %s); (docs/deployment.md)",
		     s->console_id, role, s->console_lit, lit != NULL ? lit : "?");
		PQfreemem(lit);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	sql = util_printf("INSERT INTO phasor.consoles(console, host, version) VALUES(%s, $1, '%s')"
			  " ON CONFLICT (console) DO UPDATE SET host = excluded.host,"
			  " version = excluded.version",
			  s->console_lit, PHASOR_VERSION);
	p[0] = s->host;
	res = PQexecParams(s->pg, sql, 1, NULL, p, NULL, NULL, 0);
	free(sql);
	if (pg_check(s, res, PGRES_COMMAND_OK) != 0)
		return -1;
	/*
	 * The central high-water marks, read but never adopted: the local
	 * watermark moves only when this buffer's own rows commit centrally.
	 * A mark above it makes the rows between be sent again (the server
	 * keeps what it has); forward() counts what it did not have.
	 */
	sql = util_printf("SELECT samples_seq, alarms_seq, forecasts_seq FROM phasor.consoles"
			  " WHERE console = %s",
			  s->console_lit);
	res = PQexec(s->pg, sql);
	free(sql);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		if (pg_check(s, res, PGRES_TUPLES_OK) == 0)
			fail(s, "console %s: its row of phasor.consoles cannot be read",
			     s->console_id);
		return -1;
	}
	for (int k = 0; k < STORE_SYNC_KINDS; k++)
		s->central[k] = strtoll(PQgetvalue(res, 0, k), NULL, 10);
	PQclear(res);
	int64_t rewind[STORE_SYNC_KINDS];

	for (int k = 0; k < STORE_SYNC_KINDS; k++) {
		int64_t last = 0, quarantined = 0;

		rewind[k] = -1;
		if (store_sync_last_seq(s->db, k, &last) < 0) {
			fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
			return -1;
		}
		switch (sync_central_check(s->central[k], s->wm[k], last)) {
		case SYNC_CENTRAL_OK:
			break;
		case SYNC_CENTRAL_BEHIND:
			/* Quarantined rows move the watermark and never the
			 * central mark: only rows the server once had are lost. */
			if (store_sync_quarantined_between(s->db, k, s->central[k], s->wm[k],
							   &quarantined) < 0) {
				fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
				return -1;
			}
			if (quarantined >= s->wm[k] - s->central[k])
				break;
			log_warn("sync: central %s high-water mark %" PRId64 " is below this buffer's"
				 " watermark %" PRId64 ": the central database lost rows it had"
				 " acknowledged (a failover to a standby that was behind, a restore);"
				 " seqs %" PRId64 " to %" PRId64 " are sent again",
				 store_sync_kind_name(k), s->central[k], s->wm[k], s->central[k] + 1,
				 s->wm[k]);
			rewind[k] = s->central[k];
			break;
		case SYNC_CENTRAL_RESEND:
			log_info("sync: central %s high-water mark %" PRId64 " is above this buffer's"
				 " watermark %" PRId64 ": seqs %" PRId64 " to %" PRId64
				 " are sent again, the central database keeps what it has",
				 store_sync_kind_name(k), s->central[k], s->wm[k], s->wm[k] + 1,
				 s->central[k]);
			break;
		case SYNC_CENTRAL_FOREIGN:
			log_warn("sync: central %s high-water mark %" PRId64 " is above this buffer's"
				 " newest %s seq %" PRId64 " (watermark %" PRId64 "): restored from a"
				 " backup, or a second buffer with console id %s? Its new rows reuse"
				 " seqs the central database has; they are forwarded all the same (the"
				 " key includes the time) and counted",
				 store_sync_kind_name(k), s->central[k], store_sync_kind_name(k), last,
				 s->wm[k], s->console_id);
			break;
		}
	}
	if (local_begin(s) < 0)
		return -1;
	for (int k = 0; k < STORE_SYNC_KINDS; k++) {
		if (rewind[k] < 0)
			continue;
		if (store_sync_rewind_watermark(s->db, k, rewind[k]) < 0) {
			fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
			local_rollback(s);
			return -1;
		}
	}
	if (store_sync_put_central(s->db, s->central[STORE_SYNC_SAMPLE]) < 0) {
		fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
		local_rollback(s);
		return -1;
	}
	if (local_commit(s) < 0)
		return -1;
	for (int k = 0; k < STORE_SYNC_KINDS; k++)
		if (rewind[k] >= 0)
			s->wm[k] = rewind[k];
	pthread_mutex_lock(&s->lock);
	s->st.central_watermark = s->central[STORE_SYNC_SAMPLE];
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* Ask for the partition of the day holding t_us (cached per connection). */
static int ensure_partition(struct sync *s, int64_t t_us)
{
	int64_t lo, hi;
	char sql[96], name[32];
	size_t i;
	int rc;

	sync_partition_range(t_us, &lo, &hi);
	for (i = 0; i < s->nparts; i++)
		if (s->parts[i] == lo)
			return 0;
	sync_partition_name(lo, name, sizeof(name));
	snprintf(sql, sizeof(sql), "SELECT phasor.ensure_partition(date '%.4s-%.2s-%.2s')",
		 name + 8, name + 12, name + 14);
	rc = pg_exec(s, sql);
	if (rc < 0) {
		char why[sizeof(s->err)];

		util_strlcpy(why, s->err, sizeof(why));
		fail(s, "creating partition %s: %s", name, why);
		return -1;
	}
	if (rc > 0) {
		/* Out of this role's window: the day's rows find no partition
		 * (unless one exists) and are quarantined; the rest goes on.
		 * Remembered like a made one: not asked again. */
		log_warn("sync: partition %s not made: %s", name, s->err);
		s->err[0] = '\0';
		s->sqlstate[0] = '\0';
	}
	s->parts[s->part_next] = lo;
	s->part_next = (s->part_next + 1) % PART_CACHE;
	if (s->nparts < PART_CACHE)
		s->nparts++;
	return 0;
}

struct meta_row_ctx {
	struct sync *s;
	const char *sql;
};

/* One row of meters or sessions, as text, into the central table. */
static int put_meta_row(void *vctx, const char *const *col, int n)
{
	struct meta_row_ctx *c = vctx;
	PGresult *res = PQexecParams(c->s->pg, c->sql, n, NULL, col, NULL, NULL, 0);

	return pg_check(c->s, res, PGRES_COMMAND_OK) == 0 ? 0 : -1;
}

/* Upload meters and sessions when they changed (few rows). */
static int upload_meta(struct sync *s)
{
	struct meta_row_ctx c = { .s = s };
	int64_t sig[4];
	char *sql;
	int rc;

	if (store_sync_meta_signature(s->db, sig) < 0) {
		fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
		return -1;
	}
	if (s->meta_sent && memcmp(sig, s->meta_sig, sizeof(sig)) == 0)
		return 0;
	if (pg_exec(s, "BEGIN") != 0)
		return -1;
	sql = util_printf(
	    "INSERT INTO phasor.meters(console, name, driver, profile, host, port, unit, topics,"
	    " description, first_seen, last_seen) VALUES(%s, $1, $2, $3, $4, $5::int, $6::int, $7,"
	    " $8, timestamptz 'epoch' + $9::bigint * interval '1 microsecond',"
	    " timestamptz 'epoch' + $10::bigint * interval '1 microsecond')"
	    " ON CONFLICT (console, name) DO UPDATE SET driver = excluded.driver,"
	    " profile = excluded.profile, host = excluded.host, port = excluded.port,"
	    " unit = excluded.unit, topics = excluded.topics, description = excluded.description,"
	    " last_seen = excluded.last_seen",
	    s->console_lit);
	c.sql = sql;
	rc = store_sync_meters(s->db, put_meta_row, &c) == 0 ? 0 : -1;
	free(sql);
	sql = util_printf(
	    "INSERT INTO phasor.sessions(console, id, start_time, end_time, host, pid, mode,"
	    " config_path, config_digest, version) VALUES(%s, $1::bigint,"
	    " timestamptz 'epoch' + $2::bigint * interval '1 microsecond',"
	    " timestamptz 'epoch' + $3::bigint * interval '1 microsecond', $4, $5::int, $6, $7,"
	    " $8, $9) ON CONFLICT (console, id) DO UPDATE SET end_time = excluded.end_time",
	    s->console_lit);
	c.sql = sql;
	if (rc == 0)
		rc = store_sync_sessions(s->db, put_meta_row, &c) == 0 ? 0 : -1;
	free(sql);
	if (rc == 0 && pg_exec(s, "COMMIT") != 0)
		rc = -1;
	if (rc != 0) {
		pg_rollback(s);
		return -1;
	}
	memcpy(s->meta_sig, sig, sizeof(sig));
	s->meta_sent = true;
	return 0;
}

/* ---- batches ---- */

static void batch_clear(struct batch *b)
{
	size_t i;
	int k;

	if (b->a != NULL)
		for (i = 0; i < b->n; i++)
			for (k = 0; k < 10; k++)
				free(b->a[i].s[k]);
	if (b->f != NULL)
		for (i = 0; i < b->n; i++) {
			free(b->f[i].meter);
			free(b->f[i].method);
		}
	b->n = 0;
}

static void batch_free(struct batch *b)
{
	batch_clear(b);
	free(b->s);
	free(b->a);
	free(b->f);
	free(b->seqs);
}

/*
 * Load rows past the watermark (up to end, at most max), or the
 * quarantined rows of the kind (retry). 0 or -1.
 */
static int batch_load(struct sync *s, struct batch *b, int64_t after, int64_t end, size_t max)
{
	int rc;

	batch_clear(b);
	if (b->cap < max) {
		b->cap = max;
		if (b->kind == STORE_SYNC_SAMPLE)
			b->s = util_reallocarray(b->s, max, sizeof(*b->s));
		else if (b->kind == STORE_SYNC_ALARM)
			b->a = util_reallocarray(b->a, max, sizeof(*b->a));
		else
			b->f = util_reallocarray(b->f, max, sizeof(*b->f));
		if (b->retry)
			b->seqs = util_reallocarray(b->seqs, max, sizeof(*b->seqs));
	}
	if (b->kind == STORE_SYNC_SAMPLE)
		rc = store_sync_load_samples(s->db, b->retry, after, end, max, b->s, &b->n);
	else if (b->kind == STORE_SYNC_ALARM)
		rc = store_sync_load_alarms(s->db, b->retry, after, end, max, b->a, &b->n);
	else
		rc = store_sync_load_forecasts(s->db, b->retry, after, end, max, b->f, &b->n);
	if (rc < 0) {
		fail(s, "buffer %s: reading: %s", s->db_path, store_sync_errmsg(s->db));
		return -1;
	}
	return 0;
}

static int64_t row_seq(const struct batch *b, size_t i)
{
	switch (b->kind) {
	case STORE_SYNC_SAMPLE:
		return b->s[i].seq;
	case STORE_SYNC_ALARM:
		return b->a[i].seq;
	case STORE_SYNC_FORECAST:
		break;
	}
	return b->f[i].seq;
}

/* The row's time: a forecast's is the start of its interval. */
static int64_t row_time(const struct batch *b, size_t i)
{
	switch (b->kind) {
	case STORE_SYNC_SAMPLE:
		return b->s[i].t_us;
	case STORE_SYNC_ALARM:
		return b->a[i].t_us;
	case STORE_SYNC_FORECAST:
		break;
	}
	return b->f[i].t_us;
}

/* A sample's meter, quantity, value and quality, tab-separated (COPY text). */
static void put_sample(struct sync *s, struct sync_buf *o, const struct store_sync_sample *r)
{
	const char *m = store_sync_meter_name(s->db, r->meter_id);
	const char *q = store_sync_quantity_name(s->db, r->qty);
	char alt[32];

	if (m == NULL) {
		snprintf(alt, sizeof(alt), "meter#%" PRId64, r->meter_id);
		m = alt;
	}
	sync_buf_field(o, m);
	sync_buf_str(o, "\t");
	if (q == NULL) {
		snprintf(alt, sizeof(alt), "quantity#%d", r->qty);
		q = alt;
	}
	sync_buf_field(o, q);
	sync_buf_str(o, "\t");
	sync_buf_double(o, r->value);
	sync_buf_str(o, r->quality == QUALITY_GOOD ? "\tgood" : "\tbad");
}

static void put_session(struct sync_buf *o, const struct store_sync_sample *r)
{
	if (r->session > 0)
		buf_int(o, r->session);
	else
		sync_buf_str(o, "\\N");
}

static void copy_text(struct sync *s, struct batch *b, size_t off, size_t n)
{
	struct sync_buf *o = &s->buf;
	size_t i;

	o->len = 0;
	for (i = off; i < off + n; i++) {
		if (b->kind == STORE_SYNC_SAMPLE) {
			const struct store_sync_sample *r = &b->s[i];

			buf_int(o, r->seq);
			sync_buf_str(o, "\t");
			buf_int(o, r->t_us);
			sync_buf_str(o, "\t");
			put_sample(s, o, r);
			sync_buf_str(o, "\t");
			put_session(o, r);
			sync_buf_str(o, "\n");
		} else if (b->kind == STORE_SYNC_FORECAST) {
			const struct store_sync_forecast *r = &b->f[i];

			buf_int(o, r->seq);
			sync_buf_str(o, "\t");
			buf_int(o, r->made_us);
			sync_buf_str(o, "\t");
			sync_buf_field(o, r->meter != NULL ? r->meter : "");
			sync_buf_str(o, "\t");
			sync_buf_field(o, r->method);
			sync_buf_str(o, "\t");
			buf_int(o, r->t_us);
			sync_buf_str(o, "\t");
			buf_int(o, r->step_s);
			for (int k = 0; k < 5; k++) {
				sync_buf_str(o, "\t");
				sync_buf_double(o, r->v[k]);
			}
			sync_buf_str(o, "\t");
			if (r->took_us >= 0)
				buf_int(o, r->took_us);
			else
				sync_buf_str(o, "\\N");
			sync_buf_str(o, "\n");
		} else {
			const struct store_sync_alarm *r = &b->a[i];
			int k;

			buf_int(o, r->seq);
			sync_buf_str(o, "\t");
			buf_int(o, r->t_us);
			for (k = 0; k < 8; k++) {
				sync_buf_str(o, "\t");
				sync_buf_field(o, r->s[k]);
			}
			sync_buf_str(o, "\t");
			sync_buf_double(o, r->value);
			sync_buf_str(o, "\t");
			sync_buf_double(o, r->limit);
			for (k = 8; k < 10; k++) {
				sync_buf_str(o, "\t");
				sync_buf_field(o, r->s[k]);
			}
			sync_buf_str(o, "\t");
			if (r->raised_us != 0)
				buf_int(o, r->raised_us);
			else
				sync_buf_str(o, "\\N");
			sync_buf_str(o, "\t");
			if (r->until_us != 0)
				buf_int(o, r->until_us);
			else
				sync_buf_str(o, "\\N");
			sync_buf_str(o, "\n");
		}
	}
}

/*
 * Samples as rows of phasor.samples itself (time, console, meter, quantity,
 * value, quality, seq, session), for the direct COPY: the time as
 * "YYYY-MM-DD HH:MM:SS.ffffff+00".
 */
static void copy_direct(struct sync *s, struct batch *b, size_t off, size_t n)
{
	struct sync_buf *o = &s->buf;
	char day[64] = "", tbuf[96];
	int64_t day_sec = INT64_MIN;
	size_t i;

	o->len = 0;
	for (i = off; i < off + n; i++) {
		const struct store_sync_sample *r = &b->s[i];
		int64_t sec = r->t_us >= 0 ? r->t_us / 1000000 : -((-r->t_us + 999999) / 1000000);

		/* Rows come in time order, many per second: format each second once. */
		if (sec != day_sec) {
			time_t t = (time_t)sec;
			struct tm tm;

			gmtime_r(&t, &tm);
			snprintf(day, sizeof(day), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900,
				 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
			day_sec = sec;
		}
		snprintf(tbuf, sizeof(tbuf), "%s.%06d+00", day, (int)(r->t_us - sec * 1000000));
		sync_buf_str(o, tbuf);
		sync_buf_str(o, "\t");
		sync_buf_field(o, s->console_id);
		sync_buf_str(o, "\t");
		put_sample(s, o, r);
		sync_buf_str(o, "\t");
		buf_int(o, r->seq);
		sync_buf_str(o, "\t");
		put_session(o, r);
		sync_buf_str(o, "\n");
	}
}

/* COPY the buffer's text into the statement in progress. 0, 1 (data), -1. */
static int copy_in(struct sync *s, const char *sql)
{
	PGresult *res = PQexec(s->pg, sql);
	int rc;

	if ((rc = pg_check(s, res, PGRES_COPY_IN)) != 0)
		return rc;
	if (PQputCopyData(s->pg, s->buf.p, (int)s->buf.len) != 1 ||
	    PQputCopyEnd(s->pg, NULL) != 1) {
		fail(s, "COPY: %s", PQerrorMessage(s->pg));
		return -1;
	}
	rc = 0;
	while ((res = PQgetResult(s->pg)) != NULL)
		if (rc == 0)
			rc = pg_check(s, res, PGRES_COMMAND_OK);
		else
			PQclear(res);
	return rc;
}

/*
 * The fast path for samples sent for the first time: COPY straight into
 * phasor.samples, under a savepoint. A row the server already has (a
 * resend after a crash between the central commit and the local
 * watermark) or any data error fails the whole COPY atomically; the
 * savepoint is then rolled back and the batch goes the safe way (staging
 * table, ON CONFLICT DO NOTHING, bisection). 0 done, 1 take the safe way,
 * -1 connection failure.
 */
static int try_direct(struct sync *s, struct batch *b, size_t off, size_t n)
{
	int rc;

	if (pg_exec(s, "SAVEPOINT phasor_direct") != 0)
		return -1;
	copy_direct(s, b, off, n);
	rc = copy_in(s, "COPY phasor.samples(time, console, meter, quantity, value, quality, seq,"
			" session) FROM STDIN");
	if (rc < 0)
		return -1;
	if (rc > 0) {
		log_debug("sync: direct COPY refused (%s: %s); the staging way", s->sqlstate, s->err);
		if (pg_exec(s, "ROLLBACK TO SAVEPOINT phasor_direct") != 0)
			return -1;
		s->err[0] = '\0';
		s->sqlstate[0] = '\0';
		return 1;
	}
	return 0;
}

struct try_ctx {
	struct sync *s;
	struct batch *b;
	int64_t quarantined;
	int64_t taken;            /* retry: rows taken */
	int64_t inserted;         /* committed rows the server did not have yet */
};

/* Send rows [off, off+n) in one central transaction. 0, 1 (data), -1. */
static int try_rows(void *vctx, size_t off, size_t n, char *err, size_t errsz)
{
	static const char *const copy_sql[STORE_SYNC_KINDS] = {
		"COPY pg_temp.phasor_stage_samples FROM STDIN",
		"COPY pg_temp.phasor_stage_alarms FROM STDIN",
		"COPY pg_temp.phasor_stage_forecasts FROM STDIN",
	};
	static const char *const mark_col[STORE_SYNC_KINDS] = { "samples_seq", "alarms_seq",
								 "forecasts_seq" };
	struct try_ctx *c = vctx;
	struct sync *s = c->s;
	struct batch *b = c->b;
	int64_t last = row_seq(b, off + n - 1), inserted = 0;
	PGresult *res;
	char *sql;
	int rc;

	if (pg_exec(s, "BEGIN") != 0)
		return -1;
	if (b->kind == STORE_SYNC_SAMPLE && !b->retry) {
		rc = try_direct(s, b, off, n);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			inserted = (int64_t)n;
			goto mark;
		}
	}
	copy_text(s, b, off, n);
	if ((rc = copy_in(s, copy_sql[b->kind])) != 0)
		goto fail;
	if (b->kind == STORE_SYNC_SAMPLE)
		sql = util_printf(
		    "INSERT INTO phasor.samples(time, console, meter, quantity, value, quality, seq,"
		    " session) SELECT timestamptz 'epoch' + t_us * interval '1 microsecond', %s,"
		    " meter, quantity, value, quality, seq, session FROM pg_temp.phasor_stage_samples"
		    " ON CONFLICT DO NOTHING",
		    s->console_lit);
	else if (b->kind == STORE_SYNC_FORECAST)
		sql = util_printf(
		    "INSERT INTO phasor.forecasts(time, console, meter, made, method, interval_s,"
		    " forecast, lower80, upper80, lower95, upper95, seq, took_us)"
		    " SELECT timestamptz 'epoch' + t_us * interval '1 microsecond', %s, meter,"
		    " timestamptz 'epoch' + made_us * interval '1 microsecond', method, step_s,"
		    " forecast, lower80, upper80, lower95, upper95, seq, took_us"
		    " FROM pg_temp.phasor_stage_forecasts ON CONFLICT DO NOTHING",
		    s->console_lit);
	else
		sql = util_printf(
		    "INSERT INTO phasor.alarm_events(time, console, alarm, meter, quantity, priority,"
		    " event, state, value, \"limit\", operator, note, id, seq, synced_by, raised,"
		    " until) SELECT timestamptz 'epoch' + t_us * interval '1 microsecond', origin,"
		    " alarm, meter, quantity, priority, event, state, value, lim, operator, note, id,"
		    " seq, %s, timestamptz 'epoch' + raised_us * interval '1 microsecond',"
		    " timestamptz 'epoch' + until_us * interval '1 microsecond'"
		    " FROM pg_temp.phasor_stage_alarms ON CONFLICT DO NOTHING",
		    s->console_lit);
	res = PQexec(s->pg, sql);
	free(sql);
	if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
		inserted = strtoll(PQcmdTuples(res), NULL, 10);
	if ((rc = pg_check(s, res, PGRES_COMMAND_OK)) != 0)
		goto fail;
mark:
	if (!b->retry) {
		/* The high-water mark commits with the rows. */
		sql = util_printf("UPDATE phasor.consoles SET %s = GREATEST(%s, %" PRId64 "),"
				  " last_sync = now() WHERE console = %s",
				  mark_col[b->kind], mark_col[b->kind], last, s->console_lit);
		rc = pg_exec(s, sql);
		free(sql);
		if (rc != 0)
			goto fail;
	}
	if ((rc = pg_exec(s, "COMMIT")) != 0)
		goto fail;
	c->inserted += inserted;
	/* Committed centrally: now, and only now, the local side. */
	if (b->retry) {
		for (size_t i = off; i < off + n; i++)
			b->seqs[i - off] = row_seq(b, i);
		if (local_begin(s) < 0)
			return -1;
		if (store_sync_quarantine_delete(s->db, b->kind, b->seqs, n) < 0) {
			fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
			local_rollback(s);
			return -1;
		}
		if (local_commit(s) < 0)
			return -1;
		c->taken += (int64_t)n;
	} else if (local_set_wm(s, b->kind, last) < 0) {
		/* Not fatal: the central high-water mark has it, and a resend
		 * is ignored. */
		log_warn("sync: %s", s->err);
	}
	pthread_mutex_lock(&s->lock);
	if (b->kind == STORE_SYNC_SAMPLE) {
		s->st.forwarded += n;
		if (!b->retry && s->st.backlog > 0)
			s->st.backlog = s->st.backlog > (int64_t)n ? s->st.backlog - (int64_t)n : 0;
		s->st.watermark = s->wm[STORE_SYNC_SAMPLE];
	} else if (b->kind == STORE_SYNC_ALARM) {
		s->st.alarms_forwarded += n;
		if (!b->retry && s->st.alarm_backlog > 0)
			s->st.alarm_backlog =
			    s->st.alarm_backlog > (int64_t)n ? s->st.alarm_backlog - (int64_t)n : 0;
	} else {
		s->st.forecasts_forwarded += n;
		if (!b->retry && s->st.forecast_backlog > 0)
			s->st.forecast_backlog = s->st.forecast_backlog > (int64_t)n
						     ? s->st.forecast_backlog - (int64_t)n
						     : 0;
	}
	pthread_mutex_unlock(&s->lock);
	return 0;
fail:
	snprintf(err, errsz, "%s", s->err);
	util_strlcpy(b->sqlstate, s->sqlstate, sizeof(b->sqlstate));
	pg_rollback(s);
	return rc > 0 ? 1 : -1;
}

/* A row refused alone: into the quarantine (and past it, the watermark). */
static int bad_row(void *vctx, size_t off, const char *err)
{
	struct try_ctx *c = vctx;
	struct sync *s = c->s;
	struct batch *b = c->b;
	int64_t seq = row_seq(b, off), now = util_now_us();
	char safe[400], *text;
	int rc;

	util_sanitize(safe, sizeof(safe), err);
	if (local_begin(s) < 0)
		return -1;
	rc = store_sync_quarantine_put(s->db, b->kind, seq, row_time(b, off), b->sqlstate, safe,
				       now);
	text = util_printf("%s seq %" PRId64 " quarantined: %s (SQLSTATE %s)",
			   store_sync_kind_name(b->kind), seq, safe, b->sqlstate);
	if (rc == 0 && !b->retry)
		rc = store_sync_put_event(s->db, now, "sync", "quarantine", text) == 0 &&
			     store_sync_put_watermark(s->db, b->kind, seq) == 0
			 ? 0
			 : -1;
	if (rc != 0) {
		fail(s, "buffer %s: quarantine: %s", s->db_path, store_sync_errmsg(s->db));
		local_rollback(s);
		free(text);
		return -1;
	}
	if (local_commit(s) < 0) {
		free(text);
		return -1;
	}
	if (!b->retry) {
		log_warn("sync: %s", text);
		if (seq > s->wm[b->kind])
			s->wm[b->kind] = seq;
	}
	free(text);
	c->quarantined++;
	return 0;
}

/*
 * Rows at or below the central high-water mark that the server did not
 * have: this buffer was restored from a backup or copied (its new rows
 * reuse seqs, with other times), or a second buffer has the same console
 * id. They were forwarded all the same; say it loudly and count it.
 */
static void report_restored(struct sync *s, enum store_sync_kind k, int64_t n, int64_t from,
			    int64_t to)
{
	char *text;

	text = util_printf("%" PRId64 " %s rows with seqs %" PRId64 " to %" PRId64
			   " (at or below the central high-water mark %" PRId64
			   ") were not in the central database: this buffer was restored from"
			   " a backup or copied, or a second buffer has console id %s; they are"
			   " forwarded now, nothing was overwritten",
			   n, store_sync_kind_name(k), from, to, s->central[k], s->console_id);
	/* Loudly once per connection: a mark that stays above (a second
	 * buffer with the same id, a mark set by hand) would otherwise put an
	 * event in the journal every pass. The count always grows. */
	if (!s->told[k])
		log_warn("sync: %s", text);
	else
		log_info("sync: %s", text);
	if (local_begin(s) == 0) {
		if ((s->told[k] ||
		     store_sync_put_event(s->db, util_now_us(), "sync", "restored", text) == 0) &&
		    store_sync_add_restored(s->db, k, n) == 0)
			local_commit(s);
		else
			local_rollback(s);
	}
	s->told[k] = true;
	if (k == STORE_SYNC_SAMPLE) {
		pthread_mutex_lock(&s->lock);
		s->st.restored += n;
		pthread_mutex_unlock(&s->lock);
	}
	free(text);
}

/*
 * Forward everything of kind k up to end. The rows at or below the central
 * high-water mark go first, up to it, so that the ones the server did not
 * have are counted apart (report_restored). 0 or -1 (s->err).
 */
static int forward(struct sync *s, enum store_sync_kind k, int64_t end, bool retry, int64_t *taken,
		   int64_t *quarantined)
{
	struct batch b = { .kind = k, .retry = retry };
	struct try_ctx c = { .s = s, .b = &b };
	static const size_t batch_rows[STORE_SYNC_KINDS] = { BATCH_ROWS, ALARM_BATCH_ROWS,
							     FORECAST_BATCH_ROWS };
	size_t max = batch_rows[k], done, i;
	int64_t after = retry ? 0 : s->wm[k], lim = end, first = after + 1;
	bool overlap = false;
	int rc = 0;

	if (!retry && s->central[k] > after && s->central[k] < end) {
		lim = s->central[k];
		overlap = true;
	} else if (!retry && s->central[k] > after) {
		overlap = true;
	}
	for (;;) {
		if (stopping(s)) {
			fail(s, "stopped");
			rc = -1;
			break;
		}
		if (batch_load(s, &b, after, lim, max) < 0) {
			rc = -1;
			break;
		}
		if (b.n > 0) {
			if (k == STORE_SYNC_SAMPLE) {
				int64_t now = util_now_us();

				for (i = 0; i < b.n; i++)
					if (sync_partition_allowed(b.s[i].t_us, now) &&
					    ensure_partition(s, b.s[i].t_us) < 0) {
						rc = -1;
						break;
					}
				if (rc < 0)
					break;
			}
			if (sync_bisect(b.n, try_rows, bad_row, &c, &done) < 0) {
				rc = -1;
				break;
			}
			after = row_seq(&b, b.n - 1);
		}
		if (b.n == max)
			continue;
		/* This segment is done. */
		if (overlap) {
			if (c.inserted > 0)
				report_restored(s, k, c.inserted, first,
						lim < end ? lim : after);
			else if (after >= first)
				log_info("sync: %s seqs %" PRId64 " to %" PRId64 " sent again: the"
					 " central database had them all",
					 store_sync_kind_name(k), first, lim < end ? lim : after);
			overlap = false;
		}
		if (lim >= end)
			break;
		lim = end;
	}
	if (overlap && c.inserted > 0) /* stopped by a failure: count what went */
		report_restored(s, k, c.inserted, first, after);
	batch_free(&b);
	if (taken != NULL)
		*taken = c.taken;
	if (quarantined != NULL)
		*quarantined = c.quarantined;
	return rc;
}

/* ---- housekeeping: statistics, retention, quota ---- */

static void refresh_stats(struct sync *s)
{
	int64_t backlog = -1, alarms = -1, forecasts = -1, oldest = 0, quarantined = 0, dropped = 0;
	int64_t last = 0;
	int64_t central = -1, restored = 0;

	if (store_sync_backlog(s->db, STORE_SYNC_SAMPLE, s->wm[STORE_SYNC_SAMPLE], &backlog) < 0)
		backlog = -1;
	if (store_sync_backlog(s->db, STORE_SYNC_ALARM, s->wm[STORE_SYNC_ALARM], &alarms) < 0)
		alarms = -1;
	if (store_sync_backlog(s->db, STORE_SYNC_FORECAST, s->wm[STORE_SYNC_FORECAST], &forecasts) <
	    0)
		forecasts = -1;
	store_sync_oldest_unsynced(s->db, s->wm[STORE_SYNC_SAMPLE], &oldest);
	store_sync_quarantine_count(s->db, &quarantined);
	store_sync_quota_dropped(s->db, &dropped);
	store_sync_last_seq(s->db, STORE_SYNC_SAMPLE, &last);
	store_sync_central(s->db, &central);
	store_sync_restored(s->db, STORE_SYNC_SAMPLE, &restored);
	pthread_mutex_lock(&s->lock);
	s->st.last_seq = last;
	s->st.central_watermark = central;
	s->st.restored = restored;
	s->st.backlog = backlog;
	s->st.alarm_backlog = alarms;
	s->st.forecast_backlog = forecasts;
	s->st.oldest_unsynced_us = backlog > 0 ? oldest : 0;
	s->st.quarantined = quarantined;
	s->st.quota_dropped = (uint64_t)dropped;
	s->st.watermark = s->wm[STORE_SYNC_SAMPLE];
	pthread_mutex_unlock(&s->lock);
}

/*
 * Delete the poll rows and blocks starting at a seq in [lo, hi], ending at
 * or below end_max, all older than cutoff, not quarantined, in one short
 * transaction. Unsynced (above the watermark) samples are counted in meta
 * sync.quota_dropped. Returns the samples deleted, -1 on error.
 */
static int64_t prune_window(struct sync *s, int64_t lo, int64_t hi, int64_t end_max,
			    int64_t cutoff, int64_t *tmin, int64_t *tmax)
{
	int64_t unsynced = 0, n;

	if (local_begin(s) < 0)
		return -1;
	n = store_sync_prune_window(s->db, lo, hi, end_max, cutoff, s->wm[STORE_SYNC_SAMPLE],
				    &unsynced, tmin, tmax);
	if (n < 0) {
		fail(s, "buffer %s: pruning: %s", s->db_path, store_sync_errmsg(s->db));
		local_rollback(s);
		return -1;
	}
	if (local_commit(s) < 0)
		return -1;
	pthread_mutex_lock(&s->lock);
	s->st.pruned += (uint64_t)(n - unsynced);
	s->st.quota_dropped += (uint64_t)unsynced;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Stored forecasts with seq in [lo, hi] made before cutoff, not
 * quarantined, in one short transaction. The count, -1 on error. */
static int64_t prune_forecasts(struct sync *s, int64_t lo, int64_t hi, int64_t cutoff)
{
	int64_t n;

	if (local_begin(s) < 0)
		return -1;
	n = store_sync_prune_forecasts(s->db, lo, hi, cutoff);
	if (n < 0) {
		fail(s, "buffer %s: pruning forecasts: %s", s->db_path, store_sync_errmsg(s->db));
		local_rollback(s);
		return -1;
	}
	if (local_commit(s) < 0)
		return -1;
	return n;
}

/*
 * Synced samples and stored forecasts older than retention, oldest first,
 * in small windows, never past the kind's watermark: samples by their
 * time (whole poll rows and blocks), forecasts by when they were made
 * (whole runs). seq order is their age order, so the first window with
 * nothing to prune ends the kind; the next window starts where the next
 * unit does.
 */
static int prune_retention(struct sync *s)
{
	static const enum store_sync_kind kinds[] = { STORE_SYNC_SAMPLE, STORE_SYNC_FORECAST };
	int64_t cutoff = util_now_us() - s->cfg->store.retention_ms * 1000, lo, n, t0 = 0, t1 = 0;

	for (size_t i = 0; i < UTIL_ARRAY_LEN(kinds); i++) {
		enum store_sync_kind k = kinds[i];

		if (store_sync_min_seq(s->db, k, &lo) < 0)
			return -1;
		while (lo > 0 && lo <= s->wm[k] && !stopping(s)) {
			int64_t hi = lo + PRUNE_WINDOW - 1;

			if (hi > s->wm[k])
				hi = s->wm[k];
			if (k == STORE_SYNC_SAMPLE)
				n = prune_window(s, lo, hi, s->wm[k], cutoff, &t0, &t1);
			else
				n = prune_forecasts(s, lo, hi, cutoff);
			if (n < 0)
				return -1;
			if (n == 0)
				break;
			if (store_sync_next_seq(s->db, k, hi, &lo) < 0)
				return -1;
			util_sleep_ms(2); /* let the writer in */
		}
	}
	return 0;
}

/*
 * Over [store] quota: delete the oldest samples, synced ones first, then
 * (only if still over) unsynced ones, counted and journalled.
 */
static int enforce_quota(struct sync *s)
{
	uint64_t quota = s->cfg->store.quota_bytes;
	int64_t target, lo, n, before = 0, t0 = 0, t1 = 0, dropped0 = 0;
	int pass;

	if (quota == 0 || store_sync_used_bytes(s->db) <= (int64_t)quota)
		return 0;
	target = (int64_t)(quota / 10 * 9);
	pthread_mutex_lock(&s->lock);
	dropped0 = (int64_t)s->st.quota_dropped;
	pthread_mutex_unlock(&s->lock);
	for (pass = 0; pass < 2 && store_sync_used_bytes(s->db) > target; pass++) {
		if (store_sync_min_seq(s->db, STORE_SYNC_SAMPLE, &lo) < 0)
			return -1;
		while (lo > 0 && store_sync_used_bytes(s->db) > target && !stopping(s)) {
			int64_t hi = lo + PRUNE_WINDOW - 1, maxseq;

			if (pass == 0) {
				if (lo > s->wm[STORE_SYNC_SAMPLE])
					break;
				if (hi > s->wm[STORE_SYNC_SAMPLE])
					hi = s->wm[STORE_SYNC_SAMPLE];
			}
			n = prune_window(s, lo, hi, pass == 0 ? s->wm[STORE_SYNC_SAMPLE] : INT64_MAX,
					 INT64_MAX, &t0, &t1);
			if (n < 0)
				return -1;
			before += n;
			if (store_sync_max_seq(s->db, STORE_SYNC_SAMPLE, &maxseq) < 0)
				return -1;
			if (hi >= maxseq || store_sync_next_seq(s->db, STORE_SYNC_SAMPLE, hi, &lo) < 0)
				break;
			util_sleep_ms(2);
		}
	}
	pthread_mutex_lock(&s->lock);
	n = (int64_t)s->st.quota_dropped - dropped0;
	pthread_mutex_unlock(&s->lock);
	if (n > 0) {
		char a[32], b[32], q[32], *text;

		snprintf(q, sizeof(q), "%.3g MB", (double)quota / 1e6);
		text = util_printf("%" PRId64 " unsynced samples deleted under [store] quota (%s);"
				   " sample times %s to %s",
				   n, q, util_format_time_ms(t0, a, sizeof(a)),
				   util_format_time_ms(t1, b, sizeof(b)));
		log_error("sync: %s", text);
		if (local_begin(s) == 0) {
			if (store_sync_put_event(s->db, util_now_us(), "store", "quota", text) == 0)
				local_commit(s);
			else
				local_rollback(s);
		}
		free(text);
	}
	log_info("sync: buffer over quota: %" PRId64 " samples pruned", before);
	return 0;
}

/* ---- passes ---- */

static int pass(struct sync *s, bool housekeeping)
{
	int64_t end[STORE_SYNC_KINDS], t0 = util_mono_us(), f0;
	int rc = 0;

	s->err[0] = '\0';
	s->sqlstate[0] = '\0';
	pthread_mutex_lock(&s->lock);
	f0 = (int64_t)s->st.forwarded;
	pthread_mutex_unlock(&s->lock);
	for (int k = 0; rc == 0 && k < STORE_SYNC_KINDS; k++)
		if (store_sync_max_seq(s->db, k, &end[k]) < 0) {
			fail(s, "buffer %s: %s", s->db_path, store_sync_errmsg(s->db));
			rc = -1;
		}
	/* Another sync of this buffer (a console and `phasor sync`) may have
	 * moved the local watermarks: they only move on confirmed commits. */
	for (int k = 0; rc == 0 && k < STORE_SYNC_KINDS; k++) {
		int64_t v = 0;

		if (store_sync_watermark(s->db, k, &v) == 0 && v > s->wm[k])
			s->wm[k] = v;
	}
	if (rc == 0 && s->pg != NULL && PQstatus(s->pg) != CONNECTION_OK)
		pg_close(s);
	if (rc == 0 && s->pg == NULL) {
		if (pg_connect(s) < 0 || pg_setup(s) < 0) {
			rc = -1;
		} else {
			char host[128];

			util_sanitize(host, sizeof(host), PQhost(s->pg) ? PQhost(s->pg) : "?");
			log_info("sync: connected to %s port %s as console %s", host,
				 PQport(s->pg) ? PQport(s->pg) : "?", s->console_id);
		}
	}
	if (rc == 0)
		set_state(s, SYNC_UP, NULL);
	if (rc == 0) {
		int64_t now = util_now_us();

		/* Today's and tomorrow's partitions, ahead of need. */
		if (ensure_partition(s, now) < 0 || ensure_partition(s, now + DAY_US) < 0 ||
		    upload_meta(s) < 0)
			rc = -1;
	}
	/* Samples, then the alarm journal, then the stored forecasts. */
	for (int k = 0; rc == 0 && k < STORE_SYNC_KINDS; k++)
		if (forward(s, k, end[k], false, NULL, NULL) < 0)
			rc = -1;
	if (rc == 0) {
		int64_t dt = util_mono_us() - t0, n;

		pthread_mutex_lock(&s->lock);
		n = (int64_t)s->st.forwarded - f0;
		if (n > 0)
			s->st.rate = dt > 0 ? (double)n * 1e6 / (double)dt : 0;
		s->st.last_sync_us = util_now_us();
		pthread_mutex_unlock(&s->lock);
		set_state(s, SYNC_UP, "");
	} else {
		char why[sizeof(s->err)];

		util_strlcpy(why, s->err, sizeof(why));
		/* Any failure other than a refused row: start again from a new
		 * connection (the server may have restarted, the network may
		 * be cut). Nothing is lost: the watermark did not move. */
		pg_close(s);
		if (!stopping(s)) {
			pthread_mutex_lock(&s->lock);
			bool changed = strcmp(s->st.error, why) != 0 || s->st.state != SYNC_DOWN;
			pthread_mutex_unlock(&s->lock);
			if (changed)
				log_warn("sync: %s; will retry", why);
		}
		set_state(s, SYNC_DOWN, why);
		util_strlcpy(s->err, why, sizeof(s->err));
	}
	if (housekeeping && !stopping(s)) {
		char why[sizeof(s->err)];

		util_strlcpy(why, s->err, sizeof(why));
		if (prune_retention(s) < 0 || enforce_quota(s) < 0)
			log_warn("sync: %s", s->err);
		util_strlcpy(s->err, why, sizeof(s->err));
		refresh_stats(s);
	}
	return rc;
}

/* ---- lifecycle ---- */

struct sync *sync_new(const struct config *cfg, const char *db_path, char **cause)
{
	struct sync *s = util_calloc(1, sizeof(*s));
	char host[256] = "";

	*cause = NULL;
	s->cfg = cfg;
	s->db_path = util_strdup(db_path);
	s->sock = -1;
	s->wake[0] = s->wake[1] = -1;
	s->st.backlog = -1;
	s->st.alarm_backlog = -1;
	s->st.forecast_backlog = -1;
	pthread_mutex_init(&s->lock, NULL);
	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	s->host = util_strdup(host);
	if (pipe(s->wake) < 0) {
		*cause = util_printf("pipe: %s", strerror(errno));
		goto fail;
	}
	if (sync_conn_params(cfg->sync.postgres, cfg->sync.password, cfg->sync.ca_file, &s->keys,
			     &s->vals, cause) < 0)
		goto fail;
	if (local_open(s, cause) < 0)
		goto fail;
	util_strlcpy(s->st.console_id, s->console_id, sizeof(s->st.console_id));
	refresh_stats(s);
	return s;
fail:
	sync_free(s);
	return NULL;
}

static void *sync_main(void *arg)
{
	struct sync *s = arg;

	util_thread_name("sync");

	while (!stopping(s)) {
		int64_t wait_ms = s->cfg->sync.interval_ms;
		int rc = pass(s, true);
		struct pollfd p = { .fd = s->wake[0], .events = POLLIN };

		if (rc < 0 && wait_ms > RETRY_MAX_MS)
			wait_ms = RETRY_MAX_MS;
		if (!stopping(s))
			poll(&p, 1, (int)wait_ms);
	}
	pg_close(s);
	set_state(s, SYNC_IDLE, NULL);
	return NULL;
}

int sync_start(struct sync *s, char **cause)
{
	sigset_t all, old;
	int err;

	*cause = NULL;
	if (s->started) {
		*cause = util_strdup("sync: already started");
		return -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&s->thread, NULL, sync_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		*cause = util_printf("sync: cannot start the thread: %s", strerror(err));
		return -1;
	}
	s->started = true;
	return 0;
}

void sync_stop(struct sync *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	/* A query waiting on a dead server returns at once. */
	if (s->sock >= 0)
		shutdown(s->sock, SHUT_RDWR);
	pthread_mutex_unlock(&s->lock);
	if (s->wake[1] >= 0 && write(s->wake[1], "x", 1) < 0)
		log_debug("sync: wake: %s", strerror(errno));
	if (s->started) {
		pthread_join(s->thread, NULL);
		s->started = false;
		/* The final backlog (for the summary), the thread being gone. */
		refresh_stats(s);
	}
}

void sync_loop(struct sync *s)
{
	sync_main(s);
}

void sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	sync_stop(s);
	pg_close(s);
	store_sync_close(s->db);
	sync_params_free(s->keys, s->vals);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	pthread_mutex_destroy(&s->lock);
	free(s->buf.p);
	free(s->host);
	free(s->db_path);
	free(s);
}

int sync_once(struct sync *s, char **cause)
{
	*cause = NULL;
	if (pass(s, true) < 0) {
		*cause = util_strdup(s->err[0] ? s->err : "failed");
		return -1;
	}
	return 0;
}

void sync_get_stats(struct sync *s, struct sync_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	pthread_mutex_unlock(&s->lock);
}

/* ---- quarantine ---- */

int sync_quarantine_list(struct sync *s, sync_quarantine_fn fn, void *ctx, char **cause)
{
	*cause = NULL;
	if (store_sync_quarantine_list(s->db, fn, ctx) < 0) {
		*cause = util_printf("%s: %s", s->db_path, store_sync_errmsg(s->db));
		return -1;
	}
	return 0;
}

int sync_quarantine_retry(struct sync *s, int64_t *taken, int64_t *left, char **cause)
{
	int64_t t, l;

	*cause = NULL;
	*taken = *left = 0;
	s->err[0] = '\0';
	/* Rows deleted meanwhile (quota) cannot be sent: forget them. */
	if (local_begin(s) == 0) {
		store_sync_quarantine_forget_gone(s->db);
		local_commit(s);
	}
	if (s->pg == NULL && (pg_connect(s) < 0 || pg_setup(s) < 0))
		goto fail;
	for (int k = 0; k < STORE_SYNC_KINDS; k++) {
		t = l = 0;
		if (forward(s, k, INT64_MAX, true, &t, &l) < 0)
			goto fail;
		*taken += t;
		*left += l;
	}
	refresh_stats(s);
	return 0;
fail:
	*cause = util_strdup(s->err[0] ? s->err : "failed");
	pg_close(s);
	return -1;
}
