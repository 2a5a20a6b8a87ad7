// SPDX-License-Identifier: MIT
/*
 * samples_vtab: polls, blocks and the rows of samples_v6 as one samples
 * table (include/phasor/samples_vtab.h; the layout in docs/buffer.md).
 *
 * A scan is a merge of three ordered sources, by (t_us, seq) or by seq:
 * the poll rows (one SQL statement on polls' indexes), the old table's
 * rows while a migration runs, and the blocks, each decoded when the merge
 * reaches its first key (t0_us or seq_lo: no poll of it comes earlier)
 * and kept in a heap by its next poll until it is used up. The merge
 * yields whole polls; their samples are then cut to the constraints.
 * Every constraint is also checked again by SQLite (omit is never set), so
 * the pushed-down bounds only have to be wide enough.
 */
#ifdef SAMPLES_VTAB_EXTENSION
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT1
#else
#include <sqlite3.h>
#endif

#include "phasor/samples_vtab.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/codec.h"
#include "phasor/qty.h"
#include "phasor/util.h"

enum { C_SEQ, C_T, C_METER, C_QTY, C_VALUE, C_QUALITY, C_SESSION };

/* idxNum bits: which arguments xFilter gets, in this order, and the plan. */
enum {
	F_SEQ_EQ = 1 << 0,
	F_SEQ_LO = 1 << 1,
	F_SEQ_LO_GT = 1 << 2,
	F_SEQ_HI = 1 << 3,
	F_SEQ_HI_LT = 1 << 4,
	F_T_LO = 1 << 5,
	F_T_LO_GT = 1 << 6,
	F_T_HI = 1 << 7,
	F_T_HI_LT = 1 << 8,
	F_T_EQ = 1 << 9,
	F_METER = 1 << 10,
	F_QTY = 1 << 11,
	F_QTY_IN = 1 << 12,
	F_TIME_ORDER = 1 << 13,
};

#define QSET_MAX 64

struct shape {
	int64_t id;
	unsigned n;
	uint8_t qty[CODEC_POLL_MAX];
};

struct vtab {
	sqlite3_vtab base;
	sqlite3 *db;
	struct shape *shapes;
	size_t nshapes;
};

struct key {
	int64_t a, b;
};

/* A decoded block waiting in the merge. */
struct ablock {
	struct codec_block b;
	int64_t meter, session;
	const struct shape *shape;
	size_t *order; /* its polls in the plan's order */
	size_t next;
	int want;      /* the one column asked for, -1 all */
	struct key key; /* of poll order[next] */
};

struct cursor {
	sqlite3_vtab_cursor base;
	bool time_order, eof;
	/* the constraints, inclusive; the meter and quantities wanted */
	int64_t seq_lo, seq_hi, t_lo, t_hi, meter;
	bool by_meter;
	int blocks_mode; /* SAMPLES_BLOCKS_ALL, _UNROLLED, _NONE (samples_scan_open_ex) */
	int64_t qset[QSET_MAX];
	size_t nq; /* 0: every quantity */
	/* sources */
	sqlite3_stmt *polls, *legacy, *blocks;
	bool polls_row, legacy_row, blocks_row;
	struct ablock **heap;
	size_t nheap, capheap;
	/* the current poll */
	int64_t t, seq, pmeter, session;
	unsigned n, k;
	uint8_t qty[CODEC_POLL_MAX];
	double v[CODEC_POLL_MAX];
	uint8_t q[CODEC_POLL_MAX];
	int only;      /* the one sample of the poll asked for, -1: look at each */
	char err[160];
};

/* ---- shapes ---- */

static int shapes_load(struct vtab *vt)
{
	sqlite3_stmt *s;
	int rc;

	free(vt->shapes);
	vt->shapes = NULL;
	vt->nshapes = 0;
	rc = sqlite3_prepare_v2(vt->db, "SELECT id, qty FROM shapes ORDER BY id", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int len = sqlite3_column_bytes(s, 1);
		const void *b = sqlite3_column_blob(s, 1);
		struct shape *sh;

		if (len <= 0 || len > CODEC_POLL_MAX || b == NULL)
			continue;
		vt->shapes = util_reallocarray(vt->shapes, vt->nshapes + 1, sizeof(*vt->shapes));
		sh = &vt->shapes[vt->nshapes++];
		sh->id = sqlite3_column_int64(s, 0);
		sh->n = (unsigned)len;
		memcpy(sh->qty, b, (size_t)len);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static const struct shape *shape_find(struct vtab *vt, int64_t id)
{
	size_t lo = 0, hi = vt->nshapes;

	for (int pass = 0; pass < 2; pass++) {
		lo = 0;
		hi = vt->nshapes;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (vt->shapes[mid].id == id)
				return &vt->shapes[mid];
			if (vt->shapes[mid].id < id)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (pass == 0 && shapes_load(vt) != SQLITE_OK)
			return NULL;
	}
	return NULL;
}

/* The one column of sh that the quantity filter wants, -1 for all, -2 none. */
static int shape_want(const struct cursor *c, const struct shape *sh)
{
	int want = -2;

	if (c->nq == 0)
		return -1;
	for (unsigned i = 0; i < sh->n; i++)
		for (size_t j = 0; j < c->nq; j++)
			if (sh->qty[i] == c->qset[j]) {
				if (want != -2)
					return -1;
				want = (int)i;
			}
	return want;
}

/* The columns of sh the quantity filter wants, as a mask (all without one). */
static uint64_t shape_mask(const struct cursor *c, const struct shape *sh)
{
	uint64_t m = 0;

	if (c->nq == 0)
		return ~(uint64_t)0;
	for (unsigned i = 0; i < sh->n; i++)
		for (size_t j = 0; j < c->nq; j++)
			if (sh->qty[i] == c->qset[j])
				m |= (uint64_t)1 << i;
	return m;
}

/* ---- keys and the block heap ---- */

static bool key_lt(struct key x, struct key y)
{
	return x.a < y.a || (x.a == y.a && x.b < y.b);
}

static struct key block_key(const struct cursor *c, const struct ablock *a)
{
	(void)c;
	return a->key;
}

/* a->key from its next poll (the heap compares it for every poll) */
static void ablock_rekey(const struct cursor *c, struct ablock *a)
{
	size_t i = a->order[a->next];

	a->key = c->time_order ? (struct key){ a->b.t[i], a->b.seq[i] }
			       : (struct key){ a->b.seq[i], 0 };
}

static void heap_swap(struct cursor *c, size_t i, size_t j)
{
	struct ablock *x = c->heap[i];

	c->heap[i] = c->heap[j];
	c->heap[j] = x;
}

static void heap_down(struct cursor *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->nheap && key_lt(block_key(c, c->heap[l]), block_key(c, c->heap[m])))
			m = l;
		if (r < c->nheap && key_lt(block_key(c, c->heap[r]), block_key(c, c->heap[m])))
			m = r;
		if (m == i)
			return;
		heap_swap(c, i, m);
		i = m;
	}
}

static void heap_push(struct cursor *c, struct ablock *a)
{
	size_t i;

	if (c->nheap == c->capheap) {
		c->capheap = c->capheap ? c->capheap * 2 : 16;
		c->heap = util_reallocarray(c->heap, c->capheap, sizeof(*c->heap));
	}
	i = c->nheap++;
	c->heap[i] = a;
	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (!key_lt(block_key(c, c->heap[i]), block_key(c, c->heap[p])))
			break;
		heap_swap(c, i, p);
		i = p;
	}
}

static void ablock_free(struct ablock *a)
{
	codec_block_free(&a->b);
	free(a->order);
	free(a);
}

/* qsort context: C11 has no qsort_r. One block sorts at a time per thread. */
static _Thread_local const struct codec_block *sort_block;
static _Thread_local bool sort_time;

static int cmp_order(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const struct codec_block *b = sort_block;
	struct key a = { sort_time ? b->t[i] : b->seq[i], sort_time ? b->seq[i] : 0 };
	struct key d = { sort_time ? b->t[j] : b->seq[j], sort_time ? b->seq[j] : 0 };

	return key_lt(a, d) ? -1 : key_lt(d, a) ? 1 : 0;
}

/* ---- sources ---- */

static void close_sources(struct cursor *c)
{
	sqlite3_finalize(c->polls);
	sqlite3_finalize(c->legacy);
	sqlite3_finalize(c->blocks);
	c->polls = c->legacy = c->blocks = NULL;
	c->polls_row = c->legacy_row = c->blocks_row = false;
	for (size_t i = 0; i < c->nheap; i++)
		ablock_free(c->heap[i]);
	c->nheap = 0;
}

static int step(struct cursor *c, sqlite3_stmt *s, bool *row)
{
	int rc = sqlite3_step(s);

	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return SQLITE_OK;
	/* SQLite's own words: a reader says "is damaged (database disk image
	 * is malformed)" as for any table */
	snprintf(c->err, sizeof(c->err), "%s", sqlite3_errmsg(((struct vtab *)c->base.pVtab)->db));
	return rc;
}

static int64_t sub_clamp(int64_t x, int64_t d)
{
	return x < INT64_MIN + d ? INT64_MIN : x - d;
}

static int prepare_source(struct cursor *c, const char *sql, sqlite3_stmt **out, bool optional)
{
	struct vtab *vt = (struct vtab *)c->base.pVtab;
	int rc = sqlite3_prepare_v2(vt->db, sql, -1, out, NULL);

	if (rc != SQLITE_OK) {
		*out = NULL;
		if (optional)
			return SQLITE_OK; /* samples_v6 is gone: the migration is over */
		snprintf(c->err, sizeof(c->err), "samples: %s", sqlite3_errmsg(vt->db));
	}
	return rc;
}

/*
 * How far below its last seq a block may start: the widest block made
 * (meta blocks.span, kept by the closer), SAMPLES_SPAN_MAX when unknown.
 * One window's worth of seqs in practice, so that a read from seq S looks
 * at the blocks of about one window before S, not of hours.
 */
static int64_t block_span(struct cursor *c)
{
	struct vtab *vt = (struct vtab *)c->base.pVtab;
	sqlite3_stmt *s;
	int64_t span = SAMPLES_SPAN_MAX;

	if (sqlite3_prepare_v2(vt->db, "SELECT value FROM meta WHERE key = 'blocks.span'", -1, &s,
			       NULL) != SQLITE_OK)
		return span;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) >= 0 &&
	    sqlite3_column_int64(s, 0) < span)
		span = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return span;
}

static int open_sources(struct cursor *c)
{
	char sql[400];
	const char *m = c->by_meter ? " AND meter_id = ?3" : "";
	bool one_qty = c->nq == 1;
	int rc;

	if (c->time_order)
		snprintf(sql, sizeof(sql),
			 "SELECT first_seq, t_us, meter_id, shape_id, session_id, n, data FROM polls"
			 " WHERE t_us >= ?1 AND t_us <= ?2%s ORDER BY t_us, first_seq", m);
	else
		snprintf(sql, sizeof(sql),
			 "SELECT first_seq, t_us, meter_id, shape_id, session_id, n, data FROM polls"
			 " WHERE first_seq >= ?1 AND first_seq <= ?2%s ORDER BY first_seq", m);
	rc = prepare_source(c, sql, &c->polls, false);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(c->polls, 1,
			   c->time_order ? c->t_lo : sub_clamp(c->seq_lo, CODEC_POLL_MAX - 1));
	sqlite3_bind_int64(c->polls, 2, c->time_order ? c->t_hi : c->seq_hi);
	sqlite3_bind_int64(c->polls, 3, c->meter);

	snprintf(sql, sizeof(sql),
		 "SELECT seq, t_us, meter_id, qty_id, value, quality, session_id FROM samples_v6"
		 " WHERE %s >= ?1 AND %s <= ?2%s%s ORDER BY %s",
		 c->time_order ? "t_us" : "seq", c->time_order ? "t_us" : "seq", m,
		 one_qty ? " AND qty_id = ?4" : "", c->time_order ? "t_us, seq" : "seq");
	rc = prepare_source(c, sql, &c->legacy, true);
	if (rc != SQLITE_OK)
		return rc;
	if (c->legacy != NULL) {
		sqlite3_bind_int64(c->legacy, 1, c->time_order ? c->t_lo : c->seq_lo);
		sqlite3_bind_int64(c->legacy, 2, c->time_order ? c->t_hi : c->seq_hi);
		sqlite3_bind_int64(c->legacy, 3, c->meter);
		sqlite3_bind_int64(c->legacy, 4, one_qty ? c->qset[0] : 0);
	}

	if (c->time_order)
		snprintf(sql, sizeof(sql),
			 "SELECT t0_us, meter_id, shape_id, session_id, data FROM blocks"
			 " WHERE t0_us >= ?1 AND t0_us <= ?2 AND t1_us >= ?5%s%s ORDER BY t0_us", m,
			 c->blocks_mode == SAMPLES_BLOCKS_UNROLLED
				 ? " AND NOT EXISTS (SELECT 1 FROM rollups r WHERE r.id = blocks.id)"
			 : c->blocks_mode == SAMPLES_BLOCKS_NONE ? " AND 0"
								 : "");
	else
		snprintf(sql, sizeof(sql),
			 "SELECT seq_lo, meter_id, shape_id, session_id, data FROM blocks"
			 " WHERE seq_lo >= ?1 AND seq_lo <= ?2 AND seq_hi >= ?5%s ORDER BY seq_lo",
			 m);
	rc = prepare_source(c, sql, &c->blocks, false);
	if (rc != SQLITE_OK)
		return rc;
	if (c->time_order) {
		sqlite3_bind_int64(c->blocks, 1, sub_clamp(c->t_lo, SAMPLES_WIN_US));
		sqlite3_bind_int64(c->blocks, 2, c->t_hi);
		sqlite3_bind_int64(c->blocks, 5, c->t_lo);
	} else {
		sqlite3_bind_int64(c->blocks, 1, sub_clamp(c->seq_lo, block_span(c)));
		sqlite3_bind_int64(c->blocks, 2, c->seq_hi);
		sqlite3_bind_int64(c->blocks, 5, c->seq_lo);
	}
	sqlite3_bind_int64(c->blocks, 3, c->meter);

	rc = step(c, c->polls, &c->polls_row);
	if (rc == SQLITE_OK && c->legacy != NULL)
		rc = step(c, c->legacy, &c->legacy_row);
	if (rc == SQLITE_OK)
		rc = step(c, c->blocks, &c->blocks_row);
	return rc;
}

static struct key polls_key(const struct cursor *c)
{
	int64_t seq = sqlite3_column_int64(c->polls, 0), t = sqlite3_column_int64(c->polls, 1);

	return c->time_order ? (struct key){ t, seq } : (struct key){ seq, 0 };
}

static struct key legacy_key(const struct cursor *c)
{
	int64_t seq = sqlite3_column_int64(c->legacy, 0), t = sqlite3_column_int64(c->legacy, 1);

	return c->time_order ? (struct key){ t, seq } : (struct key){ seq, 0 };
}

/* Decode the block of the blocks statement's row into the heap. */
static int open_block(struct cursor *c)
{
	struct vtab *vt = (struct vtab *)c->base.pVtab;
	const struct shape *sh = shape_find(vt, sqlite3_column_int64(c->blocks, 2));
	const uint8_t *data = sqlite3_column_blob(c->blocks, 4);
	int len = sqlite3_column_bytes(c->blocks, 4), want;
	struct ablock *a;
	bool sorted;

	if (sh == NULL || data == NULL) {
		snprintf(c->err, sizeof(c->err), "samples: a block names shape %lld, not stored",
			 (long long)sqlite3_column_int64(c->blocks, 2));
		return SQLITE_CORRUPT;
	}
	want = shape_want(c, sh);
	if (want == -2)
		return SQLITE_OK;
	a = util_calloc(1, sizeof(*a));
	if (!c->time_order) {
		/* By seq the blocks of one window overlap (every meter's): decode
		 * the columns only of one that holds a seq asked for. */
		bool hit = false;

		if (codec_block_decode(data, (size_t)len, CODEC_POLL_MAX, &a->b) == 0)
			for (size_t i = 0; i < a->b.n && !hit; i++)
				hit = a->b.seq[i] <= c->seq_hi &&
				      a->b.seq[i] + (int64_t)a->b.ncol - 1 >= c->seq_lo;
		else
			hit = true; /* damaged: said below */
		if (!hit) {
			ablock_free(a);
			return SQLITE_OK;
		}
	}
	/* only the columns asked for: one, some (the others stay NaN, and
	 * wanted() passes only the quantities asked for), or all */
	if (codec_block_decode_mask(data, (size_t)len,
				    want >= 0 ? (uint64_t)1 << want : shape_mask(c, sh), &a->b) < 0 ||
	    a->b.ncol != sh->n) {
		ablock_free(a);
		snprintf(c->err, sizeof(c->err), "samples: a block of meter %lld is damaged",
			 (long long)sqlite3_column_int64(c->blocks, 1));
		return SQLITE_CORRUPT;
	}
	a->meter = sqlite3_column_int64(c->blocks, 1);
	a->session = sqlite3_column_int64(c->blocks, 3);
	a->shape = sh;
	a->order = util_reallocarray(NULL, a->b.n, sizeof(*a->order));
	sorted = true;
	for (size_t i = 0; i < a->b.n; i++) {
		a->order[i] = i;
		if (i > 0 && sorted) {
			const struct codec_block *b = &a->b;

			sorted = c->time_order ? b->t[i - 1] < b->t[i] ||
						     (b->t[i - 1] == b->t[i] && b->seq[i - 1] < b->seq[i])
					       : b->seq[i - 1] < b->seq[i];
		}
	}
	/* the closer writes them in (t_us, seq) order: sorting is the rare case */
	if (!sorted) {
		sort_block = &a->b;
		sort_time = c->time_order;
		qsort(a->order, a->b.n, sizeof(*a->order), cmp_order);
	}
	a->want = want;
	ablock_rekey(c, a);
	heap_push(c, a);
	return SQLITE_OK;
}

/* The next poll into the cursor's current poll; eof when none. */
static int next_poll(struct cursor *c)
{
	struct vtab *vt = (struct vtab *)c->base.pVtab;
	int rc;

	for (;;) {
		struct key best = { INT64_MAX, INT64_MAX }, k;
		int src = -1;

		if (c->polls_row && key_lt(k = polls_key(c), best)) {
			best = k;
			src = 0;
		}
		if (c->legacy_row && key_lt(k = legacy_key(c), best)) {
			best = k;
			src = 1;
		}
		if (c->nheap > 0 && key_lt(k = block_key(c, c->heap[0]), best)) {
			best = k;
			src = 2;
		}
		/* A block whose first key is at or before the best so far may
		 * hold an earlier poll: open it first. */
		if (c->blocks_row && (src < 0 || sqlite3_column_int64(c->blocks, 0) <= best.a)) {
			rc = open_block(c);
			if (rc == SQLITE_OK)
				rc = step(c, c->blocks, &c->blocks_row);
			if (rc != SQLITE_OK)
				return rc;
			continue;
		}
		if (src < 0 || (c->time_order ? best.a > c->t_hi : best.a > c->seq_hi)) {
			c->eof = true;
			return SQLITE_OK;
		}
		c->k = 0;
		if (src == 0) {
			const struct shape *sh = shape_find(vt, sqlite3_column_int64(c->polls, 3));
			const uint8_t *data = sqlite3_column_blob(c->polls, 6);
			int len = sqlite3_column_bytes(c->polls, 6), want;

			if (sh == NULL || data == NULL) {
				snprintf(c->err, sizeof(c->err), "samples: poll %lld names shape %lld,"
					 " not stored", (long long)sqlite3_column_int64(c->polls, 0),
					 (long long)sqlite3_column_int64(c->polls, 3));
				return SQLITE_CORRUPT;
			}
			c->seq = sqlite3_column_int64(c->polls, 0);
			c->t = sqlite3_column_int64(c->polls, 1);
			c->pmeter = sqlite3_column_int64(c->polls, 2);
			c->session = sqlite3_column_int64(c->polls, 4);
			c->n = sh->n;
			want = shape_want(c, sh);
			if (want != -2) {
				memcpy(c->qty, sh->qty, sh->n);
				if (codec_poll_unpack(data, (size_t)len, sh->n, want, c->v, c->q) < 0) {
					snprintf(c->err, sizeof(c->err), "samples: poll %lld is damaged",
						 (long long)c->seq);
					return SQLITE_CORRUPT;
				}
			}
			c->only = want >= 0 ? want : -1;
			rc = step(c, c->polls, &c->polls_row);
			if (rc != SQLITE_OK)
				return rc;
			if (want == -2)
				continue;
		} else if (src == 1) {
			c->seq = sqlite3_column_int64(c->legacy, 0);
			c->t = sqlite3_column_int64(c->legacy, 1);
			c->pmeter = sqlite3_column_int64(c->legacy, 2);
			c->n = 1;
			c->qty[0] = (uint8_t)sqlite3_column_int(c->legacy, 3);
			c->v[0] = sqlite3_column_type(c->legacy, 4) == SQLITE_NULL
					  ? NAN
					  : sqlite3_column_double(c->legacy, 4);
			c->q[0] = (uint8_t)sqlite3_column_int(c->legacy, 5);
			c->session = sqlite3_column_int64(c->legacy, 6);
			c->only = -1;
			rc = step(c, c->legacy, &c->legacy_row);
			if (rc != SQLITE_OK)
				return rc;
		} else {
			struct ablock *a = c->heap[0];
			size_t i = a->order[a->next++], nc = a->b.ncol;

			c->seq = a->b.seq[i];
			c->t = a->b.t[i];
			c->pmeter = a->meter;
			c->session = a->session;
			c->n = (unsigned)nc;
			c->only = a->want;
			if (a->want >= 0) {
				size_t w = (size_t)a->want;

				c->qty[w] = a->shape->qty[w];
				c->v[w] = a->b.v[i * nc + w];
				c->q[w] = a->b.q[i * nc + w];
			} else {
				memcpy(c->qty, a->shape->qty, nc);
				memcpy(c->v, a->b.v + i * nc, nc * sizeof(double));
				memcpy(c->q, a->b.q + i * nc, nc);
			}
			if (a->next == a->b.n) {
				c->heap[0] = c->heap[--c->nheap];
				ablock_free(a);
			} else {
				ablock_rekey(c, a);
			}
			if (c->nheap > 0)
				heap_down(c, 0);
		}
		return SQLITE_OK;
	}
}

/* Does sample k of the current poll pass the constraints? */
static bool wanted(const struct cursor *c, unsigned k)
{
	int64_t seq = c->seq + k;

	if (seq < c->seq_lo || seq > c->seq_hi || c->t < c->t_lo || c->t > c->t_hi)
		return false;
	if (c->by_meter && c->pmeter != c->meter)
		return false;
	if (c->nq > 0) {
		for (size_t j = 0; j < c->nq; j++)
			if (c->qty[k] == c->qset[j])
				return true;
		return false;
	}
	return true;
}

/* Move to the next wanted sample, from sample k of the current poll on. */
static int settle(struct cursor *c)
{
	for (;;) {
		while (c->k < c->n) {
			if (c->only >= 0 && c->k != (unsigned)c->only) {
				/* one column decoded: straight to it, or past the poll */
				c->k = c->k < (unsigned)c->only ? (unsigned)c->only : c->n;
				continue;
			}
			if (wanted(c, c->k))
				return SQLITE_OK;
			c->k++;
		}
		if (c->eof)
			return SQLITE_OK;
		{
			int rc = next_poll(c);

			if (rc != SQLITE_OK)
				return rc;
		}
		if (c->eof) {
			c->n = 0;
			return SQLITE_OK;
		}
	}
}

/* ---- the module ---- */

static int x_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
		     sqlite3_vtab **out, char **err)
{
	struct vtab *vt;
	int rc;

	(void)aux;
	(void)argc;
	(void)argv;
	rc = sqlite3_declare_vtab(db, "CREATE TABLE x(seq INTEGER, t_us INTEGER, meter_id INTEGER,"
				      " qty_id INTEGER, value, quality INTEGER, session_id INTEGER)");
	if (rc != SQLITE_OK) {
		*err = sqlite3_mprintf("samples: %s", sqlite3_errmsg(db));
		return rc;
	}
	vt = util_calloc(1, sizeof(*vt));
	vt->db = db;
	*out = &vt->base;
	return SQLITE_OK;
}

static int x_disconnect(sqlite3_vtab *tab)
{
	struct vtab *vt = (struct vtab *)tab;

	free(vt->shapes);
	free(vt);
	return SQLITE_OK;
}

static int x_best_index(sqlite3_vtab *tab, sqlite3_index_info *info)
{
	enum { S_SEQ_EQ, S_SEQ_LO, S_SEQ_HI, S_T_LO, S_T_HI, S_T_EQ, S_METER, S_QTY, S_N };
	int slot[S_N], flags = 0, argi = 0;
	double cost;
	bool time_order;

	(void)tab;
	for (int s = 0; s < S_N; s++)
		slot[s] = -1;
	for (int i = 0; i < info->nConstraint; i++) {
		const struct sqlite3_index_constraint *c = &info->aConstraint[i];
		int op = c->op, s = -1, f = 0;

		if (!c->usable)
			continue;
		if (c->iColumn == C_SEQ || c->iColumn == C_T) {
			bool seq = c->iColumn == C_SEQ;

			if (op == SQLITE_INDEX_CONSTRAINT_EQ) {
				s = seq ? S_SEQ_EQ : S_T_EQ;
				f = seq ? F_SEQ_EQ : F_T_EQ;
			} else if (op == SQLITE_INDEX_CONSTRAINT_GT || op == SQLITE_INDEX_CONSTRAINT_GE) {
				s = seq ? S_SEQ_LO : S_T_LO;
				f = (seq ? F_SEQ_LO : F_T_LO) |
				    (op == SQLITE_INDEX_CONSTRAINT_GT ? (seq ? F_SEQ_LO_GT : F_T_LO_GT)
								      : 0);
			} else if (op == SQLITE_INDEX_CONSTRAINT_LT || op == SQLITE_INDEX_CONSTRAINT_LE) {
				s = seq ? S_SEQ_HI : S_T_HI;
				f = (seq ? F_SEQ_HI : F_T_HI) |
				    (op == SQLITE_INDEX_CONSTRAINT_LT ? (seq ? F_SEQ_HI_LT : F_T_HI_LT)
								      : 0);
			}
		} else if (c->iColumn == C_METER && op == SQLITE_INDEX_CONSTRAINT_EQ &&
			   !sqlite3_vtab_in(info, i, -1)) {
			s = S_METER;
			f = F_METER;
		} else if (c->iColumn == C_QTY && op == SQLITE_INDEX_CONSTRAINT_EQ) {
			s = S_QTY;
			f = F_QTY;
			if (sqlite3_vtab_in(info, i, -1)) {
				sqlite3_vtab_in(info, i, 1); /* all values in one xFilter */
				f |= F_QTY_IN;
			}
		}
		if (s < 0 || slot[s] >= 0)
			continue;
		slot[s] = i;
		flags |= f;
	}
	for (int s = 0; s < S_N; s++)
		if (slot[s] >= 0)
			info->aConstraintUsage[slot[s]].argvIndex = ++argi;

	/* The plan: by seq when seq is bounded on both sides or only seq is,
	 * by time when the time is. */
	if (flags & F_SEQ_EQ)
		time_order = false;
	else if ((flags & F_SEQ_LO) && (flags & F_SEQ_HI))
		time_order = false;
	else if (flags & (F_T_LO | F_T_HI | F_T_EQ))
		time_order = true;
	else if (flags & (F_SEQ_LO | F_SEQ_HI))
		time_order = false;
	else
		time_order = info->nOrderBy > 0 && info->aOrderBy[0].iColumn == C_T;
	if (time_order)
		flags |= F_TIME_ORDER;

	if (flags & F_SEQ_EQ) {
		info->orderByConsumed = 1;
	} else if (!time_order) {
		info->orderByConsumed = info->nOrderBy == 1 && info->aOrderBy[0].iColumn == C_SEQ &&
					!info->aOrderBy[0].desc;
	} else {
		info->orderByConsumed =
		    info->nOrderBy >= 1 && info->nOrderBy <= 2 &&
		    info->aOrderBy[0].iColumn == C_T && !info->aOrderBy[0].desc &&
		    (info->nOrderBy == 1 ||
		     (info->aOrderBy[1].iColumn == C_SEQ && !info->aOrderBy[1].desc));
	}

	if (flags & F_SEQ_EQ)
		cost = 10;
	else if ((flags & F_SEQ_LO) && (flags & F_SEQ_HI))
		cost = 1e3;
	else if (flags & F_T_EQ)
		cost = 1e3;
	else if ((flags & F_T_LO) && (flags & F_T_HI))
		cost = 1e4;
	else if (flags & (F_SEQ_LO | F_T_LO))
		cost = 1e5;
	else
		cost = 1e7;
	if (flags & F_METER)
		cost /= 10;
	if (flags & F_QTY)
		cost /= 4;
	info->estimatedCost = cost;
	info->estimatedRows = (sqlite3_int64)cost;
	if (flags & F_SEQ_EQ)
		info->idxFlags = SQLITE_INDEX_SCAN_UNIQUE;
	info->idxNum = flags;
	return SQLITE_OK;
}

static int x_open(sqlite3_vtab *tab, sqlite3_vtab_cursor **out)
{
	struct cursor *c = util_calloc(1, sizeof(*c));

	(void)tab;
	*out = &c->base;
	return SQLITE_OK;
}

static int x_close(sqlite3_vtab_cursor *cur)
{
	struct cursor *c = (struct cursor *)cur;

	close_sources(c);
	free(c->heap);
	free(c);
	return SQLITE_OK;
}

/*
 * An integer bound from v, rounded outwards (up: ceil for a lower bound is
 * not needed, SQLite checks again). false: NULL, nothing can match.
 */
static bool arg_bound(sqlite3_value *v, bool lower, int64_t *out)
{
	switch (sqlite3_value_numeric_type(v)) {
	case SQLITE_INTEGER:
		*out = sqlite3_value_int64(v);
		return true;
	case SQLITE_FLOAT: {
		double d = lower ? floor(sqlite3_value_double(v)) : ceil(sqlite3_value_double(v));

		if (isnan(d))
			return false;
		*out = d <= -9.2e18 ? INT64_MIN : d >= 9.2e18 ? INT64_MAX : (int64_t)d;
		return true;
	}
	case SQLITE_NULL:
		return false;
	default: /* text or blob: compares above every number; no bound */
		*out = lower ? INT64_MIN : INT64_MAX;
		return true;
	}
}

static int x_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
		    sqlite3_value **argv)
{
	struct cursor *c = (struct cursor *)cur;
	int a = 0, rc;
	bool empty = false;
	int64_t x;

	(void)idxstr;
	(void)argc;
	close_sources(c);
	c->time_order = (idx & F_TIME_ORDER) != 0;
	c->eof = false;
	c->n = c->k = 0;
	c->seq_lo = c->t_lo = INT64_MIN;
	c->seq_hi = c->t_hi = INT64_MAX;
	c->by_meter = false;
	c->nq = 0;
	c->err[0] = '\0';
	if (idx & F_SEQ_EQ) {
		empty |= !arg_bound(argv[a], true, &c->seq_lo) ||
			 !arg_bound(argv[a], false, &c->seq_hi);
		a++;
	}
	if (idx & F_SEQ_LO) {
		bool gt = (idx & F_SEQ_LO_GT) &&
			  sqlite3_value_numeric_type(argv[a]) == SQLITE_INTEGER;

		if (!arg_bound(argv[a++], true, &x) || (gt && x == INT64_MAX))
			empty = true;
		else if (x + gt > c->seq_lo)
			c->seq_lo = x + gt;
	}
	if (idx & F_SEQ_HI) {
		if (!arg_bound(argv[a++], false, &x))
			empty = true;
		else if (x < c->seq_hi)
			c->seq_hi = x;
	}
	if (idx & F_T_LO) {
		if (!arg_bound(argv[a++], true, &x))
			empty = true;
		else if (x > c->t_lo)
			c->t_lo = x;
	}
	if (idx & F_T_HI) {
		if (!arg_bound(argv[a++], false, &x))
			empty = true;
		else if (x < c->t_hi)
			c->t_hi = x;
	}
	if (idx & F_T_EQ) {
		int64_t lo, hi;

		if (!arg_bound(argv[a], true, &lo) || !arg_bound(argv[a], false, &hi)) {
			empty = true;
		} else {
			c->t_lo = lo > c->t_lo ? lo : c->t_lo;
			c->t_hi = hi < c->t_hi ? hi : c->t_hi;
		}
		a++;
	}
	if (idx & F_METER) {
		if (sqlite3_value_numeric_type(argv[a]) != SQLITE_INTEGER) {
			empty |= sqlite3_value_type(argv[a]) == SQLITE_NULL;
		} else {
			c->by_meter = true;
			c->meter = sqlite3_value_int64(argv[a]);
		}
		a++;
	}
	if (idx & F_QTY) {
		bool any = false, other = false;

		if (idx & F_QTY_IN) {
			sqlite3_value *v;

			for (rc = sqlite3_vtab_in_first(argv[a], &v); rc == SQLITE_OK && v != NULL;
			     rc = sqlite3_vtab_in_next(argv[a], &v)) {
				if (sqlite3_value_numeric_type(v) != SQLITE_INTEGER) {
					other |= sqlite3_value_type(v) != SQLITE_NULL;
					continue;
				}
				any = true;
				if (c->nq < QSET_MAX)
					c->qset[c->nq++] = sqlite3_value_int64(v);
				else
					other = true;
			}
		} else if (sqlite3_value_numeric_type(argv[a]) == SQLITE_INTEGER) {
			any = true;
			c->qset[c->nq++] = sqlite3_value_int64(argv[a]);
		} else {
			other = sqlite3_value_type(argv[a]) != SQLITE_NULL;
		}
		if (other)
			c->nq = 0; /* a value that is no integer: no filter here */
		else if (!any)
			empty = true;
		a++;
	}
	if (empty || c->seq_lo > c->seq_hi || c->t_lo > c->t_hi) {
		c->eof = true;
		return SQLITE_OK;
	}
	rc = open_sources(c);
	if (rc == SQLITE_OK)
		rc = settle(c);
	if (rc != SQLITE_OK) {
		sqlite3_free(cur->pVtab->zErrMsg);
		cur->pVtab->zErrMsg = sqlite3_mprintf("%s", c->err[0] ? c->err : "samples: error");
	}
	return rc;
}

static int x_next(sqlite3_vtab_cursor *cur)
{
	struct cursor *c = (struct cursor *)cur;
	int rc;

	c->k++;
	rc = settle(c);
	if (rc != SQLITE_OK) {
		sqlite3_free(cur->pVtab->zErrMsg);
		cur->pVtab->zErrMsg = sqlite3_mprintf("%s", c->err[0] ? c->err : "samples: error");
	}
	return rc;
}

static int x_eof(sqlite3_vtab_cursor *cur)
{
	const struct cursor *c = (const struct cursor *)cur;

	return c->k >= c->n;
}

static int x_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
	const struct cursor *c = (const struct cursor *)cur;
	unsigned k = c->k;

	switch (col) {
	case C_SEQ:
		sqlite3_result_int64(ctx, c->seq + k);
		break;
	case C_T:
		sqlite3_result_int64(ctx, c->t);
		break;
	case C_METER:
		sqlite3_result_int64(ctx, c->pmeter);
		break;
	case C_QTY:
		sqlite3_result_int(ctx, c->qty[k]);
		break;
	case C_VALUE:
		if (isnan(c->v[k]))
			sqlite3_result_null(ctx);
		else
			sqlite3_result_double(ctx, c->v[k]);
		break;
	case C_QUALITY:
		sqlite3_result_int(ctx, c->q[k]);
		break;
	case C_SESSION:
		if (c->session > 0)
			sqlite3_result_int64(ctx, c->session);
		else
			sqlite3_result_null(ctx);
		break;
	default:
		sqlite3_result_null(ctx);
	}
	return SQLITE_OK;
}

static int x_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *out)
{
	const struct cursor *c = (const struct cursor *)cur;

	*out = c->seq + c->k;
	return SQLITE_OK;
}

/* The shape of one quantity, made when new. */
static int one_shape(sqlite3 *db, uint8_t qty, int64_t *id)
{
	sqlite3_stmt *s;
	int rc;

	rc = sqlite3_prepare_v2(db, "INSERT INTO shapes(qty) VALUES(?1) ON CONFLICT(qty) DO NOTHING",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_blob(s, 1, &qty, 1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return rc;
	rc = sqlite3_prepare_v2(db, "SELECT id FROM shapes WHERE qty = ?1", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_blob(s, 1, &qty, 1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? SQLITE_OK : SQLITE_ERROR;
}

/* INSERT only: each row becomes a poll of one sample (test fixtures). */
static int x_update(sqlite3_vtab *tab, int argc, sqlite3_value **argv, sqlite3_int64 *rowid)
{
	struct vtab *vt = (struct vtab *)tab;
	sqlite3_stmt *s;
	int64_t seq, shape = 0;
	double v;
	uint8_t q, blob[CODEC_POLL_SIZE_MAX(1)], qty;
	size_t len;
	int rc;

	if (argc == 1 || sqlite3_value_type(argv[0]) != SQLITE_NULL) {
		sqlite3_free(tab->zErrMsg);
		tab->zErrMsg = sqlite3_mprintf("samples: rows are only added (the store prunes)");
		return SQLITE_READONLY;
	}
	if (sqlite3_value_numeric_type(argv[2 + C_QTY]) != SQLITE_INTEGER ||
	    sqlite3_value_int64(argv[2 + C_QTY]) < 0 || sqlite3_value_int64(argv[2 + C_QTY]) > 254 ||
	    sqlite3_value_type(argv[2 + C_T]) == SQLITE_NULL ||
	    sqlite3_value_type(argv[2 + C_METER]) == SQLITE_NULL) {
		sqlite3_free(tab->zErrMsg);
		tab->zErrMsg = sqlite3_mprintf("samples: t_us, meter_id and qty_id (0..254) needed");
		return SQLITE_CONSTRAINT;
	}
	qty = (uint8_t)sqlite3_value_int64(argv[2 + C_QTY]);
	rc = one_shape(vt->db, qty, &shape);
	if (rc != SQLITE_OK)
		return rc;
	if (sqlite3_value_type(argv[2 + C_SEQ]) == SQLITE_NULL) {
		rc = sqlite3_prepare_v2(vt->db,
					"SELECT max(coalesce((SELECT max(first_seq + n - 1) FROM polls),"
					" 0), coalesce((SELECT max(seq_hi) FROM blocks), 0))",
					-1, &s, NULL);
		if (rc != SQLITE_OK)
			return rc;
		seq = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) + 1 : 1;
		sqlite3_finalize(s);
	} else {
		seq = sqlite3_value_int64(argv[2 + C_SEQ]);
	}
	v = sqlite3_value_type(argv[2 + C_VALUE]) == SQLITE_NULL
		    ? NAN
		    : sqlite3_value_double(argv[2 + C_VALUE]);
	q = (uint8_t)sqlite3_value_int(argv[2 + C_QUALITY]);
	len = codec_poll_pack(&v, &q, 1, blob);
	rc = sqlite3_prepare_v2(vt->db,
				"INSERT INTO polls(first_seq, t_us, meter_id, shape_id, session_id, n,"
				" data) VALUES(?1, ?2, ?3, ?4, ?5, 1, ?6)",
				-1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_value(s, 2, argv[2 + C_T]);
	sqlite3_bind_value(s, 3, argv[2 + C_METER]);
	sqlite3_bind_int64(s, 4, shape);
	sqlite3_bind_value(s, 5, argv[2 + C_SESSION]);
	sqlite3_bind_blob(s, 6, blob, (int)len, SQLITE_TRANSIENT);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		sqlite3_free(tab->zErrMsg);
		tab->zErrMsg = sqlite3_mprintf("samples: %s", sqlite3_errmsg(vt->db));
	}
	sqlite3_finalize(s);
	*rowid = seq;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static const sqlite3_module samples_module = {
	.iVersion = 1,
	.xCreate = NULL, /* eponymous only */
	.xConnect = x_connect,
	.xBestIndex = x_best_index,
	.xDisconnect = x_disconnect,
	.xDestroy = x_disconnect,
	.xOpen = x_open,
	.xClose = x_close,
	.xFilter = x_filter,
	.xNext = x_next,
	.xEof = x_eof,
	.xColumn = x_column,
	.xRowid = x_rowid,
	.xUpdate = x_update,
};

/* ---- the same scan from C (samples_vtab.h) ---- */

struct samples_scan {
	struct vtab vt;
	struct cursor c;
	bool started;
};

struct samples_scan *samples_scan_open(sqlite3 *db, int64_t from_us, int64_t to_us,
				       int64_t qty, char **err)
{
	return samples_scan_open_ex(db, from_us, to_us, qty, -1, SAMPLES_BLOCKS_ALL, err);
}

struct samples_scan *samples_scan_open_ex(sqlite3 *db, int64_t from_us, int64_t to_us,
					  int64_t qty, int64_t meter, int blocks, char **err)
{
	return samples_scan_open_set(db, from_us, to_us, &qty, qty >= 0 ? 1 : 0, meter, blocks,
				     err);
}

struct samples_scan *samples_scan_open_set(sqlite3 *db, int64_t from_us, int64_t to_us,
					   const int64_t *qty, size_t nq, int64_t meter,
					   int blocks, char **err)
{
	struct samples_scan *sc = util_calloc(1, sizeof(*sc));
	struct cursor *c = &sc->c;
	int rc;

	c->by_meter = meter >= 0;
	c->meter = meter;
	c->blocks_mode = blocks;
	sc->vt.db = db;
	c->base.pVtab = &sc->vt.base;
	c->time_order = true;
	c->seq_lo = INT64_MIN;
	c->seq_hi = INT64_MAX;
	c->t_lo = from_us;
	c->t_hi = to_us;
	for (size_t i = 0; i < nq && c->nq < QSET_MAX; i++)
		if (qty[i] >= 0)
			c->qset[c->nq++] = qty[i];
	rc = open_sources(c);
	if (rc == SQLITE_OK)
		rc = settle(c);
	if (rc != SQLITE_OK) {
		*err = util_strdup(c->err[0] ? c->err : sqlite3_errstr(rc));
		samples_scan_close(sc);
		return NULL;
	}
	return sc;
}

int samples_scan_next(struct samples_scan *sc, struct samples_row *row, char **err)
{
	struct cursor *c = &sc->c;

	if (sc->started) {
		int rc;

		c->k++;
		rc = settle(c);
		if (rc != SQLITE_OK) {
			*err = util_strdup(c->err[0] ? c->err : sqlite3_errstr(rc));
			return -1;
		}
	}
	sc->started = true;
	if (c->k >= c->n)
		return 0;
	row->seq = c->seq + c->k;
	row->t_us = c->t;
	row->meter_id = c->pmeter;
	row->qty_id = c->qty[c->k];
	row->value = c->v[c->k];
	row->quality = c->q[c->k];
	row->session_id = c->session;
	return 1;
}

void samples_scan_close(struct samples_scan *sc)
{
	if (sc == NULL)
		return;
	close_sources(&sc->c);
	free(sc->c.heap);
	free(sc->vt.shapes);
	free(sc);
}

/* ---- seqs without a scan ---- */

static int one_int(sqlite3 *db, const char *sql, int64_t arg, int64_t *out, bool *found)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	*found = false;
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, arg);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
		*out = sqlite3_column_int64(s, 0);
		*found = true;
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int samples_vtab_has_legacy(sqlite3 *db)
{
	int64_t x;
	bool found;

	if (one_int(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'samples_v6'",
		    0, &x, &found) != SQLITE_OK)
		return -1;
	return found;
}

/*
 * The highest (want_max) or lowest non-zero answer of sql[0], sql[1] and,
 * while samples_v6 exists, sql[2], each run with ?1 = arg; 0 when none.
 */
static int extreme_seq(sqlite3 *db, const char *const sql[3], int64_t arg, bool want_max,
		       int64_t *out)
{
	int legacy = samples_vtab_has_legacy(db);

	*out = 0;
	if (legacy < 0)
		return SQLITE_ERROR;
	for (size_t i = 0; i < (legacy ? 3u : 2u); i++) {
		int64_t x;
		bool found;
		int rc = one_int(db, sql[i], arg, &x, &found);

		if (rc != SQLITE_OK)
			return rc;
		if (found && (*out == 0 || (want_max ? x > *out : x < *out)))
			*out = x;
	}
	return SQLITE_OK;
}

int samples_vtab_max_seq(sqlite3 *db, int64_t *out)
{
	static const char *const sql[3] = {
		/* polls never interleave: the last poll holds the highest seq */
		"SELECT first_seq + n - 1 FROM polls ORDER BY first_seq DESC LIMIT 1",
		"SELECT max(seq_hi) FROM blocks",
		"SELECT max(seq) FROM samples_v6",
	};

	return extreme_seq(db, sql, 0, true, out);
}

int samples_vtab_next_seq(sqlite3 *db, int64_t after, int64_t *out)
{
	static const char *const sql[3] = {
		"SELECT min(first_seq) FROM polls WHERE first_seq > ?1",
		"SELECT min(seq_lo) FROM blocks WHERE seq_lo > ?1",
		"SELECT min(seq) FROM samples_v6 WHERE seq > ?1",
	};

	return extreme_seq(db, sql, after, false, out);
}

int samples_vtab_register(sqlite3 *db)
{
	return sqlite3_create_module_v2(db, "samples", &samples_module, NULL, NULL);
}

#ifndef SAMPLES_VTAB_EXTENSION
static int auto_entry(sqlite3 *db, char **err, const void *api)
{
	(void)err;
	(void)api;
	return samples_vtab_register(db);
}

int samples_vtab_auto(void)
{
	/* sqlite3_auto_extension takes the entry point as void (*)(void). */
	union {
		int (*fn)(sqlite3 *, char **, const void *);
		void (*plain)(void);
	} u = { auto_entry };

	return sqlite3_auto_extension(u.plain);
}
#endif

#ifdef SAMPLES_VTAB_EXTENSION
int sqlite3_phasorsamples_init(sqlite3 *db, char **err, const sqlite3_api_routines *api);

int sqlite3_phasorsamples_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)
{
	SQLITE_EXTENSION_INIT2(api);
	(void)err;
	return samples_vtab_register(db);
}
#endif
