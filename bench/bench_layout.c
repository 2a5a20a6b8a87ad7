// SPDX-License-Identifier: MIT
/*
 * bench_layout: issue 17, candidate sample layouts of the buffer measured
 * side by side on the same samples (docs/performance.md "Buffer layout",
 * design in docs/buffer.md "Planned layout (issue 17)").
 *
 *   bench_layout [--quick] [--demo] [--rounds N]   prints markdown table rows
 *   (--demo: the demo plant only)
 *
 * Two data sets, made with the simulator model (src/sim/simmodel.c) as the
 * recorder would store them: "sim200", 200 PAC3200 meters (36 quantities,
 * float32 registers, float64 energy counters) polled at 1 Hz for an hour
 * (--quick: 10 min), and "demo", the demo plant (5 PAC3200 at 1 Hz, 2
 * Shelly Pro 3EM over MQTT every 2 s: em:0 and emdata:0 messages, values
 * printed with three decimals) for an hour. Both carry special values
 * (NaN payloads, -0.0, infinities, denormals) and a second poll of a meter
 * in the same millisecond as its first.
 *
 * Layouts (each its own file, same pragmas as src/store/store.c: WAL,
 * synchronous NORMAL; transactions of whole polls up to 5,000 samples, the
 * store's default batch_rows; 16 rows per INSERT statement):
 *   a     today's store, through the store API (writer thread, schema 5)
 *   bare  the bare tuple (t_us, meter, qty, value), no seq, no index
 *   b     one row per poll, the values packed in a blob (shape table)
 *   d     b with each blob deflated (zlib)
 *   c     b for the newest minutes, closed 5-minute blocks per (meter,
 *         quantity) compressed Gorilla-style (delta-of-delta times and
 *         seqs, XOR values)
 *   e     b for the newest minutes, closed 5-minute blocks per meter: one
 *         time and seq stream per block, one XOR stream per quantity
 *
 * Measured for each: bytes per sample (file after a checkpoint; file + WAL
 * at their largest during the inserts), insert rate, export of everything
 * in CSV (the bytes hashed, compared with a's), a history query (one
 * quantity of one meter over the whole period) and a bit-exact check of
 * every sample (seq, time, meter, quantity, value bits, quality). Rounds
 * alternate the order; the ratio to a is taken within each round and the
 * median round reported.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "phasor/codec.h"
#include "phasor/config.h"
#include "phasor/csv.h"
#include "phasor/qty.h"
#include "phasor/simmodel.h"
#include "phasor/store.h"
#include "phasor/util.h"

#include "bench_common.h"

#define TX_SAMPLES 5000        /* the store's default batch_rows */
#define MULTI 16               /* rows per INSERT, as the store */
#define WIN_US 300000000LL     /* block window: 5 minutes */
#define MAXQ 64

/* ---- the data set ---- */

struct shape {
	unsigned n;
	uint8_t qty[MAXQ];
};

struct poll {
	int64_t t_us, seq;     /* seq of the first sample; the others follow */
	uint32_t meter;
	uint16_t shape, n;
	size_t off;            /* values at v[off .. off + n) */
};

struct dataset {
	const char *name;
	size_t nmeters, np, nv, cap_p, cap_v;
	char **names;
	struct poll *p;
	double *v;
	uint8_t *q;
	struct shape shapes[4];
	unsigned nshapes;
	size_t *order;         /* poll indexes in (t_us, seq) order */
	int64_t t0, t1;
};

static const char *const pac_names[] = { BENCH_PAC3200_QTY };
/* Shelly Pro 3EM: the 19 em:0 fields and the 8 emdata:0 fields phasor maps. */
static const char *const em_names[] = {
	"i_l1", "v_l1n", "p_l1", "s_l1", "pf_l1", "freq",  "i_l2",    "v_l2n",   "p_l2", "s_l2",
	"pf_l2", "i_l3", "v_l3n", "p_l3", "s_l3",  "pf_l3", "i_n",     "p_total", "s_total",
};
static const char *const emdata_names[] = {
	"e_imp_l1", "e_exp_l1", "e_imp_l2", "e_exp_l2", "e_imp_l3", "e_exp_l3", "e_imp", "e_exp",
};

/* Values no real meter sends but the layout must keep bit for bit. */
static const uint64_t specials[] = {
	0x7ff8000000000000ULL, 0x7ff8000000000123ULL, 0xfff8000000000001ULL,
	0x7ff4000000000000ULL, /* signalling */
	0x8000000000000000ULL, /* -0.0 */
	0x7ff0000000000000ULL, 0xfff0000000000000ULL, 0x0000000000000001ULL,
	0x000fffffffffffffULL, 0x7fefffffffffffffULL, 0x8010000000000000ULL,
	0x3ff0000000000001ULL,
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

static double bits_double(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

static uint64_t double_bits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static unsigned add_shape(struct dataset *ds, const char *const *names, size_t n)
{
	struct shape *s = &ds->shapes[ds->nshapes];
	size_t k;

	s->n = (unsigned)n;
	for (k = 0; k < n; k++) {
		int id = qty_lookup(names[k]);

		if (id < 0 || id > 255)
			util_fail("bench_layout: unknown quantity %s", names[k]);
		s->qty[k] = (uint8_t)id;
	}
	return ds->nshapes++;
}

/* Append a poll; the values are filled by the caller. */
static double *add_poll(struct dataset *ds, int64_t t_us, uint32_t meter, unsigned shape)
{
	const struct shape *s = &ds->shapes[shape];
	struct poll *p;

	if (ds->np == ds->cap_p) {
		ds->cap_p = ds->cap_p ? ds->cap_p * 2 : 4096;
		ds->p = util_realloc(ds->p, ds->cap_p * sizeof(*ds->p));
	}
	if (ds->nv + s->n > ds->cap_v) {
		ds->cap_v = ds->cap_v ? ds->cap_v * 2 : 65536;
		ds->v = util_realloc(ds->v, ds->cap_v * sizeof(*ds->v));
		ds->q = util_realloc(ds->q, ds->cap_v);
	}
	p = &ds->p[ds->np++];
	p->t_us = t_us;
	p->seq = (int64_t)ds->nv + 1;
	p->meter = meter;
	p->shape = (uint16_t)shape;
	p->n = (uint16_t)s->n;
	p->off = ds->nv;
	ds->nv += s->n;
	return ds->v + p->off;
}

static void set_quality(struct dataset *ds, const struct poll *p)
{
	const struct shape *s = &ds->shapes[p->shape];
	unsigned k;

	for (k = 0; k < p->n; k++)
		ds->q[p->off + k] = (uint8_t)qty_quality(s->qty[k], ds->v[p->off + k]);
}

/* Every few minutes one poll of special values and a second poll of a meter. */
static void add_oddities(struct dataset *ds, const struct poll *p, long s, size_t idx)
{
	double *v;
	unsigned k;

	if (s % 300 == 7 && idx == 0) {
		for (k = 0; k < p->n; k++)
			ds->v[p->off + k] = bits_double(specials[(k + (unsigned)s) % 12]);
		set_quality(ds, p);
		/* quality is its own field: a bad value that is finite */
		ds->q[p->off] = QUALITY_BAD;
	}
	if (s % 300 == 8 && idx == 1) {
		/* 250 us later, in the same millisecond */
		struct poll first;

		ds->p[ds->np - 1].t_us -= ds->p[ds->np - 1].t_us % 1000;
		first = ds->p[ds->np - 1];

		v = add_poll(ds, first.t_us + 250, first.meter, first.shape);
		for (k = 0; k < first.n; k++)
			v[k] = ds->v[first.off + k] + 1.0;
		set_quality(ds, &ds->p[ds->np - 1]);
	}
}

static const struct dataset *sort_ds;

static int cmp_order(const void *a, const void *b)
{
	const struct poll *x = &sort_ds->p[*(const size_t *)a], *y = &sort_ds->p[*(const size_t *)b];

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void finish_ds(struct dataset *ds)
{
	size_t i;

	ds->order = util_calloc(ds->np, sizeof(*ds->order));
	ds->t0 = INT64_MAX;
	ds->t1 = INT64_MIN;
	for (i = 0; i < ds->np; i++) {
		ds->order[i] = i;
		if (ds->p[i].t_us < ds->t0)
			ds->t0 = ds->p[i].t_us;
		if (ds->p[i].t_us >= ds->t1)
			ds->t1 = ds->p[i].t_us + 1;
	}
	sort_ds = ds;
	qsort(ds->order, ds->np, sizeof(*ds->order), cmp_order);
}

/* Start on a window boundary, so the blocks of c and e are whole. */
static int64_t start_time(void)
{
	return (util_now_us() / WIN_US - 24 * 12) * WIN_US;
}

/* 200 PAC3200 meters behind one poller: meter i at i * 4.5 ms, jitter 0-1.5 ms. */
static struct dataset *make_sim(size_t meters, long secs)
{
	struct dataset *ds = util_calloc(1, sizeof(*ds));
	int64_t start = start_time();
	struct simmodel *m = simmodel_new(meters, 7, start);
	unsigned sh;
	long s;
	size_t i, k;

	ds->name = "sim200";
	ds->nmeters = meters;
	ds->names = util_calloc(meters, sizeof(char *));
	for (i = 0; i < meters; i++)
		ds->names[i] = util_printf("m%03zu", i + 1);
	sh = add_shape(ds, pac_names, UTIL_ARRAY_LEN(pac_names));
	for (s = 0; s < secs; s++) {
		simmodel_advance(m, (double)s);
		for (i = 0; i < meters; i++) {
			const double *mv = simmodel_values(m, i);
			int64_t t = start + s * 1000000LL + (int64_t)i * 4500 + (int64_t)(rng() % 1500);
			double *v = add_poll(ds, t, (uint32_t)i, sh);
			const struct shape *shp = &ds->shapes[sh];

			for (k = 0; k < shp->n; k++) {
				double x = mv[shp->qty[k]];

				/* float32 registers as the recorder stores them
				 * (their shortest decimal, regmap_float32_value),
				 * float64 energy counters */
				v[k] = k < 32 ? util_f32_decimal((float)x) : x;
			}
			set_quality(ds, &ds->p[ds->np - 1]);
			add_oddities(ds, &ds->p[ds->np - 1], s, i);
		}
	}
	simmodel_free(m);
	finish_ds(ds);
	return ds;
}

static double shelly_text(double x)
{
	char text[64];

	if (!isfinite(x))
		return NAN;
	snprintf(text, sizeof(text), "%.3f", x);
	return strtod(text, NULL);
}

/* The demo plant (src/cmd/demo.c): 5 PAC3200 at 1 s, 2 Shelly Pro 3EM at 2 s. */
static struct dataset *make_demo(long secs)
{
	static const char *const names[] = { "tgbt-1",	   "oven-2",  "furnace-3", "compressor-4",
					     "paint-5",	   "shelly-6", "shelly-7" };
	struct dataset *ds = util_calloc(1, sizeof(*ds));
	int64_t start = start_time();
	struct simmodel *m = simmodel_new(7, 42, start);
	unsigned pac, em, emd;
	long s;
	size_t i, k;

	ds->name = "demo";
	ds->nmeters = 7;
	ds->names = util_calloc(7, sizeof(char *));
	for (i = 0; i < 7; i++)
		ds->names[i] = util_strdup(names[i]);
	pac = add_shape(ds, pac_names, UTIL_ARRAY_LEN(pac_names));
	em = add_shape(ds, em_names, UTIL_ARRAY_LEN(em_names));
	emd = add_shape(ds, emdata_names, UTIL_ARRAY_LEN(emdata_names));
	for (s = 0; s < secs; s++) {
		simmodel_advance(m, (double)s);
		for (i = 0; i < 5; i++) {
			const double *mv = simmodel_values(m, i);
			int64_t t = start + s * 1000000LL + (int64_t)i * 20000 + (int64_t)(rng() % 3000);
			double *v = add_poll(ds, t, (uint32_t)i, pac);

			for (k = 0; k < ds->shapes[pac].n; k++) {
				double x = mv[ds->shapes[pac].qty[k]];

				v[k] = k < 32 ? util_f32_decimal((float)x) : x;
			}
			set_quality(ds, &ds->p[ds->np - 1]);
			add_oddities(ds, &ds->p[ds->np - 1], s, i);
		}
		if (s % 2 != 0)
			continue;
		for (i = 5; i < 7; i++) {
			const double *mv = simmodel_values(m, i);
			int64_t t = start + s * 1000000LL + 300000 + (int64_t)(rng() % 20000);
			double *v = add_poll(ds, t, (uint32_t)i, em);

			for (k = 0; k < ds->shapes[em].n; k++)
				v[k] = shelly_text(mv[ds->shapes[em].qty[k]]);
			set_quality(ds, &ds->p[ds->np - 1]);
			v = add_poll(ds, t + 150 + (int64_t)(rng() % 300), (uint32_t)i, emd);
			for (k = 0; k < ds->shapes[emd].n; k++)
				v[k] = shelly_text(mv[ds->shapes[emd].qty[k]]);
			set_quality(ds, &ds->p[ds->np - 1]);
		}
	}
	simmodel_free(m);
	finish_ds(ds);
	return ds;
}

/* ---- the codec: src/store/codec.c, the store's own (issue 17) ---- */

/* ---- SQLite helpers ---- */

static void fail_db(sqlite3 *db, const char *what)
{
	util_fail("bench_layout: %s: %s", what, sqlite3_errmsg(db));
}

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		util_fail("bench_layout: %s: %s", sql, err ? err : "?");
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_db(db, sql);
	return s;
}

static void step_done(sqlite3 *db, sqlite3_stmt *s)
{
	if (sqlite3_step(s) != SQLITE_DONE)
		fail_db(db, "step");
	sqlite3_reset(s);
}

/* "INSERT INTO t(cols) VALUES(?..), ..." with rows groups of ncol */
static sqlite3_stmt *prep_multi(sqlite3 *db, const char *head, int ncol, int rows)
{
	size_t cap = strlen(head) + (size_t)rows * ((size_t)ncol * 2 + 4) + 16;
	char *sql = util_malloc(cap), *p = sql;
	sqlite3_stmt *s;
	int r, c;

	p += sprintf(p, "%s VALUES", head);
	for (r = 0; r < rows; r++) {
		p += sprintf(p, "%s(", r ? "," : "");
		for (c = 0; c < ncol; c++)
			p += sprintf(p, "%s?", c ? "," : "");
		*p++ = ')';
	}
	*p = '\0';
	s = prep(db, sql);
	free(sql);
	return s;
}

static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static int64_t db_and_wal(const char *path)
{
	char wal[600];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	return file_size(path) + file_size(wal);
}

static void remove_db(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char name[600];
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(suffix); i++) {
		snprintf(name, sizeof(name), "%s%s", path, suffix[i]);
		unlink(name);
	}
}

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK)
		util_fail("bench_layout: cannot open %s", path);
	exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
	return db;
}

/* ---- the layouts ---- */

struct lay;

struct lay_ops {
	const char *key, *what;
	void (*create)(struct lay *l);
	/* polls ds->p[i0 .. i1) in one transaction */
	void (*insert)(struct lay *l, size_t i0, size_t i1);
	void (*finish)(struct lay *l);      /* after the last insert (timed) */
	void (*close_all)(struct lay *l);   /* c, e: every window closed */
	/* rows of [from, to), meter (-1 any), quantity (-1 any), (t_us, seq) order */
	void (*scan)(struct lay *l, int64_t from, int64_t to, int meter, int qty, store_row_fn fn,
		     void *ctx);
};

struct lay {
	const struct lay_ops *ops;
	const struct dataset *ds;
	char path[512];
	sqlite3 *db;
	sqlite3_stmt *ins1, *insm, *ins_blk;
	struct store *st;
	struct config *cfg;
	int64_t peak;          /* file + WAL, largest seen after a commit */
	int64_t closed_win;    /* c, e: windows below this are closed */
	bool per_qty;          /* c: a block per (meter, quantity) */
	int zlevel;            /* d */
	uint8_t *buf;
};

static void note_size(struct lay *l)
{
	int64_t n = db_and_wal(l->path);

	if (n > l->peak)
		l->peak = n;
}

static void tx_begin(struct lay *l)
{
	exec(l->db, "BEGIN IMMEDIATE");
}

static void tx_commit(struct lay *l)
{
	exec(l->db, "COMMIT");
	note_size(l);
}

/* a: today's store, through its API */

static void a_create(struct lay *l)
{
	char *cause = NULL;

	l->cfg = bench_config(l->path, l->ds->names, l->ds->nmeters);
	l->st = store_open(l->path, 4000000, TX_SAMPLES, 1000, &cause);
	if (l->st == NULL || store_register_meters(l->st, l->cfg, &cause) < 0 ||
	    store_begin_session(l->st, l->cfg, "record", &cause) < 0 ||
	    store_start(l->st, &cause) < 0)
		util_fail("bench_layout: store: %s", cause ? cause : "?");
}

static void a_insert(struct lay *l, size_t i0, size_t i1)
{
	const struct dataset *ds = l->ds;
	struct sample s[MAXQ];
	size_t i;
	unsigned k;

	for (i = i0; i < i1; i++) {
		const struct poll *p = &ds->p[i];

		for (k = 0; k < p->n; k++) {
			s[k].t_us = p->t_us;
			s[k].value = ds->v[p->off + k];
			s[k].meter = p->meter;
			s[k].qty = ds->shapes[p->shape].qty[k];
			s[k].quality = ds->q[p->off + k];
			s[k].reserved = 0;
		}
		while (store_congested(l->st))
			usleep(200);
		store_put_samples(l->st, s, p->n);
	}
	/* The polls arrive as in real time: the closer's clock is the newest
	 * poll's (else every window, hours old by the wall clock, would be
	 * closed again and again while it fills, in blocks of a few polls). */
	if (i1 > i0)
		store_debug_close_before(l->st, ds->p[i1 - 1].t_us);
	note_size(l);
}

static void a_finish(struct lay *l)
{
	/* The writer closes old windows into blocks between its batches: until
	 * it has nothing left to close, by the wall clock now. */
	store_debug_close_before(l->st, 0);
	if (store_settle(l->st, 600000) < 0)
		util_fail("bench_layout: the store did not settle");
	store_stop(l->st, 600000);
	note_size(l);
	store_close(l->st);
	l->st = NULL;
	config_free(l->cfg);
	l->cfg = NULL;
	l->db = open_db(l->path);
}

static void a_scan(struct lay *l, int64_t from, int64_t to, int meter, int qty, store_row_fn fn,
		   void *ctx)
{
	char *cause = NULL;
	struct store_reader *r = store_reader_open(l->path, &cause);
	struct store_filter f = { meter >= 0 ? l->ds->names[meter] : NULL,
				  qty >= 0 ? qty_name((unsigned)qty) : NULL, from, to };

	if (r == NULL || store_reader_samples(r, &f, fn, ctx, &cause) < 0)
		util_fail("bench_layout: reader: %s", cause ? cause : "?");
	store_reader_close(r);
}

/* bare: the bare tuple */

static void bare_create(struct lay *l)
{
	l->db = open_db(l->path);
	exec(l->db, "CREATE TABLE bare(t_us INTEGER NOT NULL, meter INTEGER NOT NULL,"
		    " qty INTEGER NOT NULL, value)");
	l->ins1 = prep(l->db, "INSERT INTO bare(t_us, meter, qty, value) VALUES(?, ?, ?, ?)");
	l->insm = prep_multi(l->db, "INSERT INTO bare(t_us, meter, qty, value)", 4, MULTI);
}

static void bare_insert(struct lay *l, size_t i0, size_t i1)
{
	const struct dataset *ds = l->ds;
	size_t i, n = 0, total = 0, done = 0;
	unsigned k;

	for (i = i0; i < i1; i++)
		total += ds->p[i].n;
	tx_begin(l);
	for (i = i0; i < i1; i++) {
		const struct poll *p = &ds->p[i];

		for (k = 0; k < p->n; k++, done++) {
			bool multi = total - (done - n) >= MULTI;
			sqlite3_stmt *s = multi ? l->insm : l->ins1;
			int b = (int)n * 4;
			double v = ds->v[p->off + k];

			sqlite3_bind_int64(s, b + 1, p->t_us);
			sqlite3_bind_int64(s, b + 2, p->meter + 1);
			sqlite3_bind_int(s, b + 3, ds->shapes[p->shape].qty[k]);
			if (isnan(v))
				sqlite3_bind_null(s, b + 4);
			else
				sqlite3_bind_double(s, b + 4, v);
			if (++n == (multi ? MULTI : 1)) {
				step_done(l->db, s);
				n = 0;
			}
		}
	}
	tx_commit(l);
}

/* b, d: a row per poll */

static void polls_schema(struct lay *l)
{
	const struct dataset *ds = l->ds;
	sqlite3_stmt *s;
	size_t i;

	l->db = open_db(l->path);
	exec(l->db, "CREATE TABLE meters(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL);"
		    "CREATE TABLE shapes(id INTEGER PRIMARY KEY, qty BLOB UNIQUE NOT NULL);"
		    "CREATE TABLE polls(first_seq INTEGER PRIMARY KEY, t_us INTEGER NOT NULL,"
		    " meter_id INTEGER NOT NULL, shape_id INTEGER NOT NULL, session_id INTEGER,"
		    " data BLOB NOT NULL);"
		    "CREATE INDEX polls_t_us ON polls(t_us);"
		    "CREATE INDEX polls_meter_t ON polls(meter_id, t_us);");
	s = prep(l->db, "INSERT INTO meters(id, name) VALUES(?, ?)");
	for (i = 0; i < ds->nmeters; i++) {
		sqlite3_bind_int64(s, 1, (int64_t)i + 1);
		sqlite3_bind_text(s, 2, ds->names[i], -1, SQLITE_STATIC);
		step_done(l->db, s);
	}
	sqlite3_finalize(s);
	s = prep(l->db, "INSERT INTO shapes(id, qty) VALUES(?, ?)");
	for (i = 0; i < ds->nshapes; i++) {
		sqlite3_bind_int64(s, 1, (int64_t)i + 1);
		sqlite3_bind_blob(s, 2, ds->shapes[i].qty, (int)ds->shapes[i].n, SQLITE_STATIC);
		step_done(l->db, s);
	}
	sqlite3_finalize(s);
	l->ins1 = prep(l->db, "INSERT INTO polls(first_seq, t_us, meter_id, shape_id, session_id,"
			      " data) VALUES(?, ?, ?, ?, ?, ?)");
	l->insm = prep_multi(l->db, "INSERT INTO polls(first_seq, t_us, meter_id, shape_id, "
				    "session_id, data)", 6, MULTI);
	l->buf = util_malloc(16 + MAXQ * 9 + 64);
}

static void b_create(struct lay *l)
{
	polls_schema(l);
}

static void d_create(struct lay *l)
{
	polls_schema(l);
	l->zlevel = 6;
}

/* The blob of poll p (in l->buf or a deflated copy); *len. d: first byte 0x80 marks zlib. */
static const uint8_t *poll_blob(struct lay *l, const struct poll *p, uint8_t *zbuf, size_t *len)
{
	const struct dataset *ds = l->ds;
	uLongf zlen = 16 + MAXQ * 9 + 64 - 1;

	*len = codec_poll_pack(ds->v + p->off, ds->q + p->off, p->n, l->buf);
	if (l->zlevel == 0)
		return l->buf;
	if (compress2(zbuf + 1, &zlen, l->buf, *len, l->zlevel) == Z_OK && zlen + 1 < *len) {
		zbuf[0] = 0x80;
		*len = zlen + 1;
		return zbuf;
	}
	return l->buf;
}

static void polls_insert(struct lay *l, size_t i0, size_t i1)
{
	const struct dataset *ds = l->ds;
	uint8_t zbuf[MULTI][16 + MAXQ * 9 + 64], raw[MULTI][16 + MAXQ * 9 + 64];
	size_t i, n = 0;

	for (i = i0; i < i1; i++) {
		const struct poll *p = &ds->p[i];
		bool multi = i1 - (i - n) >= MULTI;
		sqlite3_stmt *s = multi ? l->insm : l->ins1;
		int b = (int)n * 6;
		size_t len;
		const uint8_t *blob = poll_blob(l, p, zbuf[n], &len);

		if (blob == l->buf) {
			memcpy(raw[n], l->buf, len);
			blob = raw[n];
		}
		sqlite3_bind_int64(s, b + 1, p->seq);
		sqlite3_bind_int64(s, b + 2, p->t_us);
		sqlite3_bind_int64(s, b + 3, p->meter + 1);
		sqlite3_bind_int(s, b + 4, p->shape + 1);
		sqlite3_bind_int(s, b + 5, 1);
		sqlite3_bind_blob(s, b + 6, blob, (int)len, SQLITE_STATIC);
		if (++n == (multi ? MULTI : 1)) {
			step_done(l->db, s);
			n = 0;
		}
	}
}

static void b_insert(struct lay *l, size_t i0, size_t i1)
{
	tx_begin(l);
	polls_insert(l, i0, i1);
	tx_commit(l);
}

static void no_finish(struct lay *l)
{
	note_size(l);
}

/* A poll row's blob back into values (undoing zlib). */
static void poll_values(const void *blob, size_t len, unsigned n, double *v, uint8_t *q, int want)
{
	const uint8_t *in = blob;
	uint8_t raw[16 + MAXQ * 9 + 64];

	if (len > 0 && in[0] == 0x80) {
		uLongf rlen = sizeof(raw);

		if (uncompress(raw, &rlen, in + 1, len - 1) != Z_OK)
			util_fail("bench_layout: a deflated poll does not inflate");
		in = raw;
		len = rlen;
	}
	if (codec_poll_unpack(in, len, n, want, v, q) < 0)
		util_fail("bench_layout: a poll does not unpack");
}

static void emit_poll(const struct dataset *ds, int64_t seq, int64_t t_us, int meter,
		      unsigned shape, const double *v, const uint8_t *q, int qty, store_row_fn fn,
		      void *ctx)
{
	const struct shape *s = &ds->shapes[shape];
	struct store_row r;
	unsigned k;

	r.t_us = t_us;
	r.meter = ds->names[meter];
	r.session = 1;
	for (k = 0; k < s->n; k++) {
		if (qty >= 0 && s->qty[k] != qty)
			continue;
		r.seq = seq + k;
		r.quantity = qty_name(s->qty[k]);
		r.unit = qty_unit(s->qty[k]);
		r.value = v[k];
		r.quality = q[k];
		fn(ctx, &r);
	}
}

static int shape_col(const struct shape *s, int qty)
{
	unsigned k;

	for (k = 0; k < s->n; k++)
		if (s->qty[k] == qty)
			return (int)k;
	return -1;
}

static void polls_scan(struct lay *l, int64_t from, int64_t to, int meter, int qty,
		       store_row_fn fn, void *ctx)
{
	sqlite3_stmt *s = prep(l->db, meter >= 0
		? "SELECT first_seq, t_us, meter_id, shape_id, data FROM polls"
		  " WHERE meter_id = ?3 AND t_us >= ?1 AND t_us < ?2 ORDER BY t_us, first_seq"
		: "SELECT first_seq, t_us, meter_id, shape_id, data FROM polls"
		  " WHERE t_us >= ?1 AND t_us < ?2 ORDER BY t_us, first_seq");
	double v[MAXQ];
	uint8_t q[MAXQ];
	int rc;

	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	if (meter >= 0)
		sqlite3_bind_int64(s, 3, meter + 1);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		unsigned sh = (unsigned)sqlite3_column_int(s, 3) - 1;
		int want = qty >= 0 ? shape_col(&l->ds->shapes[sh], qty) : -1;

		if (qty >= 0 && want < 0)
			continue;
		poll_values(sqlite3_column_blob(s, 4), (size_t)sqlite3_column_bytes(s, 4),
			    l->ds->shapes[sh].n, v, q, want);
		emit_poll(l->ds, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
			  sqlite3_column_int(s, 2) - 1, sh, v, q, qty, fn, ctx);
	}
	if (rc != SQLITE_DONE)
		fail_db(l->db, "scan");
	sqlite3_finalize(s);
}

/* c, e: closed blocks, the newest windows as poll rows */

static void blocks_create(struct lay *l)
{
	polls_schema(l);
	exec(l->db, "CREATE TABLE blocks(id INTEGER PRIMARY KEY, win INTEGER NOT NULL,"
		    " meter_id INTEGER NOT NULL, qty_id INTEGER NOT NULL, shape_id INTEGER NOT NULL,"
		    " t0_us INTEGER NOT NULL, t1_us INTEGER NOT NULL, seq_lo INTEGER NOT NULL,"
		    " seq_hi INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL);"
		    "CREATE INDEX blocks_win ON blocks(win);"
		    "CREATE INDEX blocks_meter ON blocks(meter_id, qty_id, win);"
		    "CREATE INDEX blocks_seq ON blocks(seq_lo);");
	l->ins_blk = prep(l->db, "INSERT INTO blocks(win, meter_id, qty_id, shape_id, t0_us, t1_us,"
				 " seq_lo, seq_hi, n, data) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	l->closed_win = INT64_MIN;
}

static void c_create(struct lay *l)
{
	blocks_create(l);
	l->per_qty = true;
}

static void e_create(struct lay *l)
{
	blocks_create(l);
}

static int64_t win_of(int64_t t_us)
{
	return t_us >= 0 ? t_us / WIN_US : -((-t_us + WIN_US - 1) / WIN_US);
}

static void put_block(struct lay *l, int64_t win, int meter, int qty, unsigned shape,
		      const struct codec_block *b, int64_t seq_hi)
{
	uint8_t *data;
	/* a block of the whole poll: the codec may use its quantities' relations */
	size_t len = codec_block_encode_qty(b, qty < 0 ? l->ds->shapes[shape].qty : NULL, &data);
	sqlite3_stmt *s = l->ins_blk;

	sqlite3_bind_int64(s, 1, win);
	sqlite3_bind_int64(s, 2, meter + 1);
	sqlite3_bind_int(s, 3, qty);
	sqlite3_bind_int(s, 4, (int)shape + 1);
	sqlite3_bind_int64(s, 5, b->t[0]);
	sqlite3_bind_int64(s, 6, b->t[b->n - 1]);
	sqlite3_bind_int64(s, 7, b->seq[0]);
	sqlite3_bind_int64(s, 8, seq_hi);
	sqlite3_bind_int64(s, 9, (int64_t)(b->n * b->ncol));
	sqlite3_bind_blob(s, 10, data, (int)len, free);
	step_done(l->db, s);
}

/* The polls of one meter and shape in a window, into blocks (one, or one per quantity). */
static void flush_group(struct lay *l, int64_t win, int meter, unsigned shape, struct codec_block *g)
{
	const struct shape *s = &l->ds->shapes[shape];
	int64_t seq_hi = 0;
	size_t i, c;

	if (g->n == 0)
		return;
	for (i = 0; i < g->n; i++)
		if (g->seq[i] + (int64_t)s->n - 1 > seq_hi)
			seq_hi = g->seq[i] + (int64_t)s->n - 1;
	if (!l->per_qty) {
		put_block(l, win, meter, -1, shape, g, seq_hi);
		return;
	}
	for (c = 0; c < g->ncol; c++) {
		struct codec_block one = { g->n, 1, NULL, NULL, NULL, NULL };

		one.t = g->t;
		one.seq = util_calloc(g->n, sizeof(int64_t));
		one.v = util_calloc(g->n, sizeof(double));
		one.q = util_calloc(g->n, 1);
		for (i = 0; i < g->n; i++) {
			one.seq[i] = g->seq[i] + (int64_t)c;
			one.v[i] = g->v[i * g->ncol + c];
			one.q[i] = g->q[i * g->ncol + c];
		}
		put_block(l, win, meter, s->qty[c], shape, &one, seq_hi);
		free(one.seq);
		free(one.v);
		free(one.q);
	}
}

/* Close window win: its poll rows become blocks, in the current transaction. */
static void close_window(struct lay *l, int64_t win)
{
	sqlite3_stmt *s = prep(l->db, "SELECT first_seq, t_us, meter_id, shape_id, data FROM polls"
				      " WHERE t_us >= ?1 AND t_us < ?2"
				      " ORDER BY meter_id, shape_id, t_us, first_seq");
	struct codec_block g = { 0 };
	size_t cap = 0;
	int meter = -1, rc;
	unsigned shape = 0;

	sqlite3_bind_int64(s, 1, win * WIN_US);
	sqlite3_bind_int64(s, 2, (win + 1) * WIN_US);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int m = sqlite3_column_int(s, 2) - 1;
		unsigned sh = (unsigned)sqlite3_column_int(s, 3) - 1;
		unsigned n = l->ds->shapes[sh].n;

		if (m != meter || sh != shape) {
			flush_group(l, win, meter, shape, &g);
			meter = m;
			shape = sh;
			g.n = 0;
			g.ncol = n;
		}
		if (g.n == cap) {
			cap = cap ? cap * 2 : 512;
			g.t = util_realloc(g.t, cap * sizeof(int64_t));
			g.seq = util_realloc(g.seq, cap * sizeof(int64_t));
			g.v = util_realloc(g.v, cap * MAXQ * sizeof(double));
			g.q = util_realloc(g.q, cap * MAXQ);
		}
		g.seq[g.n] = sqlite3_column_int64(s, 0);
		g.t[g.n] = sqlite3_column_int64(s, 1);
		poll_values(sqlite3_column_blob(s, 4), (size_t)sqlite3_column_bytes(s, 4), n,
			    g.v + g.n * n, g.q + g.n * n, -1);
		g.n++;
	}
	if (rc != SQLITE_DONE)
		fail_db(l->db, "close");
	flush_group(l, win, meter, shape, &g);
	sqlite3_finalize(s);
	codec_block_free(&g);
	s = prep(l->db, "DELETE FROM polls WHERE t_us >= ?1 AND t_us < ?2");
	sqlite3_bind_int64(s, 1, win * WIN_US);
	sqlite3_bind_int64(s, 2, (win + 1) * WIN_US);
	step_done(l->db, s);
	sqlite3_finalize(s);
}

/* Windows older than the one before the newest poll's close (5 to 10 min kept as rows). */
static void blocks_insert(struct lay *l, size_t i0, size_t i1)
{
	int64_t upto = win_of(l->ds->p[i1 - 1].t_us) - 1, w;

	tx_begin(l);
	polls_insert(l, i0, i1);
	tx_commit(l);
	if (l->closed_win == INT64_MIN)
		l->closed_win = win_of(l->ds->t0);
	for (w = l->closed_win; w < upto; w++) {
		tx_begin(l);
		close_window(l, w);
		tx_commit(l);
	}
	if (upto > l->closed_win)
		l->closed_win = upto;
}

static void blocks_close_all(struct lay *l)
{
	int64_t w, last = win_of(l->ds->t1 - 1);

	for (w = l->closed_win; w <= last; w++) {
		tx_begin(l);
		close_window(l, w);
		tx_commit(l);
	}
	l->closed_win = last + 1;
}

/* One window's samples: the decoded blocks and the poll rows, as polls. */
struct wpoll {
	int64_t t_us, seq;
	int meter;
	unsigned shape, n;     /* n values at v[off] with quantities qty[off] */
	size_t off;
};

struct wbuf {
	struct wpoll *p;
	size_t np, capp, nv, capv;
	double *v;
	uint8_t *q, *qty;
};

static struct wpoll *wbuf_add(struct wbuf *w, unsigned n)
{
	struct wpoll *p;

	if (w->np == w->capp) {
		w->capp = w->capp ? w->capp * 2 : 4096;
		w->p = util_realloc(w->p, w->capp * sizeof(*w->p));
	}
	if (w->nv + n > w->capv) {
		w->capv = (w->capv + n) * 2;
		w->v = util_realloc(w->v, w->capv * sizeof(double));
		w->q = util_realloc(w->q, w->capv);
		w->qty = util_realloc(w->qty, w->capv);
	}
	p = &w->p[w->np++];
	p->n = n;
	p->off = w->nv;
	w->nv += n;
	return p;
}

static int cmp_wpoll(const void *a, const void *b)
{
	const struct wpoll *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void blocks_scan(struct lay *l, int64_t from, int64_t to, int meter, int qty,
			store_row_fn fn, void *ctx)
{
	const struct dataset *ds = l->ds;
	sqlite3_stmt *bs = prep(l->db, meter >= 0
		? "SELECT meter_id, qty_id, shape_id, data FROM blocks"
		  " WHERE meter_id = ?2 AND qty_id IN (?3, -1) AND win = ?1"
		: "SELECT meter_id, qty_id, shape_id, data FROM blocks WHERE win = ?1");
	sqlite3_stmt *ps = prep(l->db, meter >= 0
		? "SELECT first_seq, t_us, meter_id, shape_id, data FROM polls"
		  " WHERE meter_id = ?3 AND t_us >= ?1 AND t_us < ?2"
		: "SELECT first_seq, t_us, meter_id, shape_id, data FROM polls"
		  " WHERE t_us >= ?1 AND t_us < ?2");
	struct wbuf w = { 0 };
	struct codec_block b = { 0 };
	struct store_row r;
	int64_t win;
	size_t i, k;

	r.session = 1;
	/* the windows the file has, within the range */
	{
		sqlite3_stmt *e = prep(l->db, "SELECT min(w), max(w) FROM (SELECT min(win) AS w FROM"
					      " blocks UNION ALL SELECT max(win) FROM blocks UNION ALL"
					      " SELECT min(t_us) / ?1 FROM polls UNION ALL"
					      " SELECT max(t_us) / ?1 FROM polls)");

		sqlite3_bind_int64(e, 1, WIN_US);
		if (sqlite3_step(e) == SQLITE_ROW && sqlite3_column_type(e, 0) != SQLITE_NULL) {
			if (win_of(from) < sqlite3_column_int64(e, 0))
				from = sqlite3_column_int64(e, 0) * WIN_US;
			if (win_of(to - 1) > sqlite3_column_int64(e, 1))
				to = (sqlite3_column_int64(e, 1) + 1) * WIN_US;
		} else
			to = from;
		sqlite3_finalize(e);
	}
	for (win = win_of(from); from < to && win <= win_of(to - 1); win++) {
		w.np = w.nv = 0;
		sqlite3_bind_int64(bs, 1, win);
		if (meter >= 0) {
			sqlite3_bind_int64(bs, 2, meter + 1);
			sqlite3_bind_int(bs, 3, qty);
		}
		while (sqlite3_step(bs) == SQLITE_ROW) {
			int m = sqlite3_column_int(bs, 0) - 1, bq = sqlite3_column_int(bs, 1);
			unsigned sh = (unsigned)sqlite3_column_int(bs, 2) - 1;
			int want = bq >= 0 || qty < 0 ? -1 : shape_col(&ds->shapes[sh], qty);

			if (bq < 0 && qty >= 0 && want < 0)
				continue;
			if (codec_block_decode(sqlite3_column_blob(bs, 3),
					       (size_t)sqlite3_column_bytes(bs, 3), want, &b) < 0)
				util_fail("bench_layout: a block does not decode");
			for (i = 0; i < b.n; i++) {
				struct wpoll *p = wbuf_add(&w, want >= 0 ? 1 : (unsigned)b.ncol);

				p->t_us = b.t[i];
				p->seq = b.seq[i];
				p->meter = m;
				for (k = 0; k < p->n; k++) {
					size_t c = want >= 0 ? (size_t)want : k;

					w.v[p->off + k] = b.v[i * b.ncol + c];
					w.q[p->off + k] = b.q[i * b.ncol + c];
					w.qty[p->off + k] =
					    bq >= 0 ? (uint8_t)bq : ds->shapes[sh].qty[c];
				}
				if (want > 0)
					p->seq += want;
			}
		}
		sqlite3_reset(bs);
		sqlite3_bind_int64(ps, 1, win * WIN_US > from ? win * WIN_US : from);
		sqlite3_bind_int64(ps, 2, (win + 1) * WIN_US < to ? (win + 1) * WIN_US : to);
		if (meter >= 0)
			sqlite3_bind_int64(ps, 3, meter + 1);
		while (sqlite3_step(ps) == SQLITE_ROW) {
			unsigned sh = (unsigned)sqlite3_column_int(ps, 3) - 1;
			const struct shape *s = &ds->shapes[sh];
			struct wpoll *p = wbuf_add(&w, s->n);

			p->seq = sqlite3_column_int64(ps, 0);
			p->t_us = sqlite3_column_int64(ps, 1);
			p->meter = sqlite3_column_int(ps, 2) - 1;
			poll_values(sqlite3_column_blob(ps, 4), (size_t)sqlite3_column_bytes(ps, 4),
				    s->n, w.v + p->off, w.q + p->off, -1);
			memcpy(w.qty + p->off, s->qty, s->n);
		}
		sqlite3_reset(ps);
		qsort(w.p, w.np, sizeof(*w.p), cmp_wpoll);
		for (i = 0; i < w.np; i++) {
			const struct wpoll *p = &w.p[i];

			if (p->t_us < from || p->t_us >= to)
				continue;
			r.t_us = p->t_us;
			r.meter = ds->names[p->meter];
			for (k = 0; k < p->n; k++) {
				unsigned id = w.qty[p->off + k];

				if (qty >= 0 && (int)id != qty)
					continue;
				r.seq = p->seq + (int64_t)k;
				r.quantity = qty_name(id);
				r.unit = qty_unit(id);
				r.value = w.v[p->off + k];
				r.quality = w.q[p->off + k];
				fn(ctx, &r);
			}
		}
	}
	sqlite3_finalize(bs);
	sqlite3_finalize(ps);
	codec_block_free(&b);
	free(w.p);
	free(w.v);
	free(w.q);
	free(w.qty);
}

static const struct lay_ops layouts[] = {
	{ "a", "the store as built (schema 7: poll rows, blocks closed by its writer)", a_create, a_insert, a_finish, NULL,
	  a_scan },
	{ "bare", "bare tuple (t_us, meter, qty, value), 16-row inserts, no index", bare_create,
	  bare_insert, no_finish, NULL, NULL },
	{ "b", "a row per poll, values packed (float32 where exact)", b_create, b_insert,
	  no_finish, NULL, polls_scan },
	{ "d", "b, each blob deflated (zlib 6)", d_create, b_insert, no_finish, NULL, polls_scan },
	{ "c", "5-min blocks per (meter, quantity), Gorilla; newest as b", c_create, blocks_insert,
	  no_finish, blocks_close_all, blocks_scan },
	{ "e", "5-min blocks per meter, a column per quantity, Gorilla; newest as b", e_create,
	  blocks_insert, no_finish, blocks_close_all, blocks_scan },
};
#define NLAYOUTS UTIL_ARRAY_LEN(layouts)

/* ---- measures ---- */

struct crc_sink {
	uLong crc;
	uint64_t bytes;
};

static ssize_t crc_write(void *cookie, const char *buf, size_t size)
{
	struct crc_sink *k = cookie;

	k->crc = crc32(k->crc, (const Bytef *)buf, (uInt)size);
	k->bytes += size;
	return (ssize_t)size;
}

struct export_ctx {
	FILE *out;
	uint64_t rows;
};

/* The contract's CSV line (docs/buffer.md "phasor export"). */
static int export_row(void *ctx, const struct store_row *r)
{
	struct export_ctx *x = ctx;
	char when[40], value[40];

	util_format_time_ms(r->t_us, when, sizeof(when));
	csv_double(r->value, value, sizeof(value));
	fprintf(x->out, "%s,", when);
	csv_field(x->out, r->meter);
	fputc(',', x->out);
	csv_field(x->out, r->quantity);
	fprintf(x->out, ",%s,", value);
	csv_field(x->out, r->unit);
	fprintf(x->out, ",%s\n", qty_quality_name((unsigned)r->quality));
	x->rows++;
	return 0;
}

static FILE *crc_open(struct crc_sink *k)
{
	cookie_io_functions_t io = { NULL, crc_write, NULL, NULL };
	FILE *f;

	k->crc = crc32(0, NULL, 0);
	k->bytes = 0;
	f = fopencookie(k, "w", io);
	if (f == NULL)
		util_fail("bench_layout: fopencookie: %s", strerror(errno));
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
}

struct verify_ctx {
	const struct dataset *ds;
	size_t at, col;        /* position in ds->order and in its poll */
	uint64_t rows, bad, nan_changed;
	bool report;
};

static int verify_row(void *ctx, const struct store_row *r)
{
	struct verify_ctx *x = ctx;
	const struct dataset *ds = x->ds;
	const struct poll *p;
	double want;
	bool same;

	if (x->at >= ds->np) {
		x->bad++;
		return 0;
	}
	p = &ds->p[ds->order[x->at]];
	want = ds->v[p->off + x->col];
	same = double_bits(want) == double_bits(r->value);
	if (!same && isnan(want) && isnan(r->value)) {
		x->nan_changed++;
		same = true;
	}
	if (!same || r->seq != p->seq + (int64_t)x->col || r->t_us != p->t_us ||
	    strcmp(r->meter, ds->names[p->meter]) != 0 ||
	    strcmp(r->quantity, qty_name(ds->shapes[p->shape].qty[x->col])) != 0 ||
	    r->quality != ds->q[p->off + x->col]) {
		if (x->bad++ < 3 && x->report)
			fprintf(stderr, "  mismatch at seq %" PRId64 " (want %" PRId64 "): t %" PRId64
				" / %" PRId64 ", value %016" PRIx64 " / %016" PRIx64 "\n",
				r->seq, p->seq + (int64_t)x->col, r->t_us, p->t_us,
				double_bits(r->value), double_bits(want));
	}
	x->rows++;
	if (++x->col == p->n) {
		x->col = 0;
		x->at++;
	}
	return 0;
}

struct hist_ctx {
	uint64_t rows;
	double sum;
};

static int hist_row(void *ctx, const struct store_row *r)
{
	struct hist_ctx *h = ctx;

	h->rows++;
	if (r->quality == QUALITY_GOOD)
		h->sum += r->value;
	return 0;
}

struct result {
	double insert_rate, export_rate, hist_ms;
	int64_t bytes, used, peak, closed_bytes, closed_used;
	uLong crc;
	uint64_t crc_bytes, verified, bad, nan_changed, verified_closed, bad_closed;
	uint64_t hist_rows;
};

static int64_t used_bytes(sqlite3 *db)
{
	sqlite3_stmt *s = prep(db, "SELECT (SELECT page_count FROM pragma_page_count) -"
				   " (SELECT freelist_count FROM pragma_freelist_count),"
				   " (SELECT page_size FROM pragma_page_size)");
	int64_t n = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0) * sqlite3_column_int64(s, 1);
	sqlite3_finalize(s);
	return n;
}

static void checkpoint(struct lay *l)
{
	exec(l->db, "PRAGMA wal_checkpoint(TRUNCATE)");
}

static void run_verify(struct lay *l, uint64_t *rows, uint64_t *bad, uint64_t *nan_changed)
{
	struct verify_ctx v = { l->ds, 0, 0, 0, 0, 0, true };

	l->ops->scan(l, INT64_MIN / 2, INT64_MAX / 2, -1, -1, verify_row, &v);
	if (v.at != l->ds->np)
		v.bad += l->ds->np - v.at;
	*rows = v.rows;
	*bad = v.bad;
	if (nan_changed != NULL)
		*nan_changed = v.nan_changed;
}

/* The history meter and quantity: the 18th meter (or the last), p_total. */
static int hist_meter(const struct dataset *ds)
{
	return ds->nmeters > 17 ? 17 : (int)ds->nmeters - 1;
}

static void run_layout(const struct lay_ops *ops, const struct dataset *ds, const char *dir,
		       bool measure_reads, bool verify, struct result *res)
{
	struct lay l;
	size_t i0 = 0, i1, n;
	int64_t t0, t1;

	memset(&l, 0, sizeof(l));
	memset(res, 0, sizeof(*res));
	l.ops = ops;
	l.ds = ds;
	snprintf(l.path, sizeof(l.path), "%s/%s-%s.db", dir, ds->name, ops->key);
	remove_db(l.path);
	ops->create(&l);
	t0 = util_mono_us();
	while (i0 < ds->np) {
		for (i1 = i0, n = 0; i1 < ds->np && n + ds->p[i1].n <= TX_SAMPLES; i1++)
			n += ds->p[i1].n;
		ops->insert(&l, i0, i1);
		i0 = i1;
	}
	ops->finish(&l);
	t1 = util_mono_us();
	res->insert_rate = (double)ds->nv / ((double)(t1 - t0) / 1e6);
	res->peak = l.peak;
	checkpoint(&l);
	res->bytes = file_size(l.path);
	res->used = used_bytes(l.db);
	if (measure_reads && ops->scan != NULL) {
		struct crc_sink k;
		struct export_ctx x = { crc_open(&k), 0 };
		struct hist_ctx h = { 0, 0 };
		int meter = hist_meter(ds), r;

		t0 = util_mono_us();
		fputs("time,meter,quantity,value,unit,quality\n", x.out);
		ops->scan(&l, INT64_MIN / 2, INT64_MAX / 2, -1, -1, export_row, &x);
		fflush(x.out);
		t1 = util_mono_us();
		fclose(x.out);
		res->export_rate = (double)x.rows / ((double)(t1 - t0) / 1e6);
		res->crc = k.crc;
		res->crc_bytes = k.bytes;
		res->hist_ms = 1e30;
		for (r = 0; r < 3; r++) {
			h.rows = 0;
			t0 = util_mono_us();
			ops->scan(&l, ds->t0, ds->t1, meter, QTY_P_TOTAL, hist_row, &h);
			t1 = util_mono_us();
			if ((double)(t1 - t0) / 1e3 < res->hist_ms)
				res->hist_ms = (double)(t1 - t0) / 1e3;
		}
		res->hist_rows = h.rows;
	}
	if (measure_reads && verify && ops->scan != NULL) {
		run_verify(&l, &res->verified, &res->bad, &res->nan_changed);
		if (ops->close_all != NULL) {
			ops->close_all(&l);
			checkpoint(&l);
			res->closed_bytes = file_size(l.path);
			res->closed_used = used_bytes(l.db);
			run_verify(&l, &res->verified_closed, &res->bad_closed, NULL);
		}
	}
	if (l.ins1)
		sqlite3_finalize(l.ins1);
	if (l.insm)
		sqlite3_finalize(l.insm);
	if (l.ins_blk)
		sqlite3_finalize(l.ins_blk);
	sqlite3_close(l.db);
	free(l.buf);
	if (getenv("BENCH_LAYOUT_KEEP") == NULL)
		remove_db(l.path);
}

/* phasor export on today's file: the bench's CSV must be its bytes. */
static int real_export_crc(const char *phasor, const struct dataset *ds, const char *dir,
			   uLong *crc, uint64_t *bytes)
{
	struct lay_ops a = layouts[0];
	struct result r;
	char cmd[1400], path[600], buf[1 << 16];
	FILE *p;
	size_t got;
	int rc;

	setenv("BENCH_LAYOUT_KEEP", "1", 1);
	run_layout(&a, ds, dir, false, false, &r);
	unsetenv("BENCH_LAYOUT_KEEP");
	snprintf(path, sizeof(path), "%s/%s-a.db", dir, ds->name);
	snprintf(cmd, sizeof(cmd), "'%s' export --db '%s'", phasor, path);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	*crc = crc32(0, NULL, 0);
	*bytes = 0;
	while ((got = fread(buf, 1, sizeof(buf), p)) > 0) {
		*crc = crc32(*crc, (const Bytef *)buf, (uInt)got);
		*bytes += got;
	}
	rc = pclose(p);
	remove_db(path);
	return rc == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAXR 9

/* BENCH_LAYOUT_ONLY=a,bare: only those layouts (profiling one); default all. */
static bool wanted_layout(const struct lay_ops *o)
{
	const char *only = getenv("BENCH_LAYOUT_ONLY"), *p;
	size_t n = strlen(o->key);

	if (only == NULL || *only == '\0')
		return true;
	for (p = only; *p != '\0';) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, o->key, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static void bench_dataset(const struct dataset *ds, int rounds, const char *dir,
			  const char *phasor)
{
	static struct result res[MAXR][NLAYOUTS];
	double samples = (double)ds->nv, hours = (double)(ds->t1 - ds->t0) / 3600e6;
	/* 30 days of this plant at this rate, in samples */
	double days30 = samples / hours * 24 * 30;
	size_t li;
	int r;

	fprintf(stderr, "%s: %zu meters, %zu polls, %zu samples over %.2f h\n", ds->name,
		ds->nmeters, ds->np, ds->nv, hours);
	for (r = 0; r < rounds; r++) {
		for (li = 0; li < NLAYOUTS; li++) {
			size_t k = r % 2 ? NLAYOUTS - 1 - li : li;
			struct result *x = &res[r][k];

			if (!wanted_layout(&layouts[k]))
				continue;
			run_layout(&layouts[k], ds, dir, true, r == 0, x);
			fprintf(stderr, "  round %d %-4s insert %9.0f/s, %6.2f B/sample (used %6.2f,"
				" peak with WAL %6.2f), export %8.0f rows/s, history %8.1f ms (%" PRIu64
				" rows), verified %" PRIu64 " bad %" PRIu64 " nan-changed %" PRIu64,
				r + 1, layouts[k].key, x->insert_rate, (double)x->bytes / samples,
				(double)x->used / samples, (double)x->peak / samples, x->export_rate,
				x->hist_ms, x->hist_rows, x->verified, x->bad, x->nan_changed);
			if (layouts[k].close_all != NULL)
				fprintf(stderr, "; all closed %.2f B/sample (used %.2f), verified %"
					PRIu64 " bad %" PRIu64, (double)x->closed_bytes / samples,
					(double)x->closed_used / samples, x->verified_closed,
					x->bad_closed);
			fputc('\n', stderr);
		}
	}
	if (phasor != NULL) {
		uLong crc = 0;
		uint64_t bytes = 0;
		int rc = real_export_crc(phasor, ds, dir, &crc, &bytes);
		bool same = rc == 0 && crc == res[0][0].crc && bytes == res[0][0].crc_bytes;

		fprintf(stderr, "  phasor export: %s, %" PRIu64 " bytes, crc %08lx; bench's a: %"
			PRIu64 " bytes, crc %08lx: %s\n", rc == 0 ? "ok" : "FAILED", bytes, crc,
			res[0][0].crc_bytes, res[0][0].crc, same ? "identical" : "DIFFERENT");
		printf("| %s: `phasor export` of a against the bench's CSV of a | %s (%" PRIu64
		       " bytes) | | | |\n", ds->name, same ? "byte-identical" : "**DIFFERENT**",
		       bytes);
	}
	for (li = 0; li < NLAYOUTS; li++) {
		double ins[MAXR], exp_[MAXR], hist[MAXR], rins[MAXR], rexp[MAXR], rhist[MAXR];
		const struct result *x = &res[0][li];
		char same[64], closed[200] = "";
		bool exact = true, identical = true;

		if (!wanted_layout(&layouts[li]) || !wanted_layout(&layouts[0]))
			continue; /* the table's ratios are against a */

		for (r = 0; r < rounds; r++) {
			const struct result *y = &res[r][li], *ya = &res[r][0];

			ins[r] = y->insert_rate;
			exp_[r] = y->export_rate;
			hist[r] = y->hist_ms;
			rins[r] = y->insert_rate / ya->insert_rate;
			rexp[r] = ya->export_rate > 0 ? y->export_rate / ya->export_rate : 0;
			rhist[r] = y->hist_ms > 0 ? ya->hist_ms / y->hist_ms : 0;
			if (r == 0)
				exact = y->bad == 0 && y->bad_closed == 0 &&
					(li == 0 || y->nan_changed == 0) && y->verified == ds->nv &&
					(layouts[li].close_all == NULL || y->verified_closed == ds->nv);
			identical = identical && y->crc == ya->crc && y->crc_bytes == ya->crc_bytes;
		}
		if (layouts[li].scan == NULL)
			snprintf(same, sizeof(same), "(no reader)");
		else if (li == 0)
			snprintf(same, sizeof(same), "%s", exact ? "exact except NaN payloads:"
								   : "**NOT exact**");
		else
			snprintf(same, sizeof(same), "%s, CSV %s", exact ? "bit-exact" : "**NOT exact**",
				 identical ? "identical to a" : "**differs from a**");
		if (layouts[li].close_all != NULL)
			snprintf(closed, sizeof(closed),
				 "; every window closed: **%.2f B/sample in use** (file %.2f; 30 days:"
				 " %.1f GB)", (double)x->closed_used / samples,
				 (double)x->closed_bytes / samples,
				 (double)x->closed_used / samples * days30 / 1e9);
		printf("| %s %s: %s | %.2f B/sample on disk (peak with WAL %.2f)%s | insert %.0f "
		       "samples/s (%.2f x a) |", ds->name, layouts[li].key, layouts[li].what,
		       (double)x->bytes / samples, (double)x->peak / samples, closed,
		       median(ins, rounds), median(rins, rounds));
		if (layouts[li].scan != NULL)
			printf(" export %.0f rows/s (%.2f x a); history of one quantity %.1f ms/h,"
			       " 30 days %.1f s (%.1f x faster than a) |", median(exp_, rounds),
			       median(rexp, rounds), median(hist, rounds),
			       median(hist, rounds) / hours * 24 * 30 / 1e3, median(rhist, rounds));
		else
			printf(" |");
		if (li == 0)
			printf(" %s %" PRIu64 " NaN samples read back as the default NaN; 30 days: "
			       "%.0f GB |\n", same, x->nan_changed,
			       (double)x->bytes / samples * days30 / 1e9);
		else
			printf(" %s; 30 days: %.1f GB |\n", same,
			       (double)x->bytes / samples * days30 / 1e9);
	}
}

int main(int argc, char **argv)
{
	bool quick = false, demo_only = false;
	int rounds = 3, i;
	char dir[] = "/tmp/phasor-bench-layout.XXXXXX";
	const char *phasor = getenv("PHASOR");
	struct dataset *demo, *sim;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = true;
		else if (strcmp(argv[i], "--demo") == 0)
			demo_only = true;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: bench_layout [--quick] [--demo] [--rounds N]\n");
			return 2;
		}
	}
	if (rounds < 1 || rounds > MAXR)
		rounds = 3;
	if (mkdtemp(dir) == NULL)
		return 1;
	demo = make_demo(3600);
	bench_dataset(demo, rounds, dir, phasor);
	if (demo_only) {
		rmdir(dir);
		return 0;
	}
	sim = make_sim(200, quick ? 600 : 3600);
	bench_dataset(sim, rounds, dir, NULL);
	rmdir(dir);
	return 0;
}
