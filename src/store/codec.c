// SPDX-License-Identifier: MIT
/*
 * codec: poll and block encodings of samples (format in
 * include/phasor/codec.h, the tables that hold them in docs/buffer.md).
 */
#include "phasor/codec.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "phasor/qty.h"
#include "phasor/util.h"
#include "phasor/utility.h"

static uint64_t double_bits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static double bits_double(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

/* ---- value classes ---- */

/* Does d go through a float32 bit for bit? */
static bool fits_float(double d)
{
	return double_bits((double)(float)d) == double_bits(d);
}

/* Is d a float32's shortest decimal (util_f32_decimal), bit for bit? What a
 * float32 register or a JSON number of up to 6 digits gives: stored as the
 * float's 32 bits. */
static bool is_decimal32(double d)
{
	float f = (float)d;

	return isfinite(f) && f != 0.0f && double_bits(util_f32_decimal(f)) == double_bits(d);
}

static uint32_t float_bits(float f)
{
	uint32_t b;

	memcpy(&b, &f, sizeof(b));
	return b;
}

static float bits_float(uint32_t b)
{
	float f;

	memcpy(&f, &b, sizeof(f));
	return f;
}

/* ---- polls ---- */

static bool bit(const uint8_t *m, unsigned k)
{
	return (m[k / 8] >> (k % 8)) & 1;
}

size_t codec_poll_pack(const double *v, const uint8_t *q, unsigned n, uint8_t *out)
{
	uint8_t wide[CODEC_POLL_MAX / 8] = { 0 }, bad[CODEC_POLL_MAX / 8] = { 0 };
	uint8_t dec[CODEC_POLL_MAX / 8] = { 0 };
	unsigned k, nb = (n + 7) / 8, n64 = 0, nbad = 0, ndec = 0, nread = 0;
	size_t o = 1;

	/* ndec: float32 values that must be read as decimals; nread: float32
	 * values that may be (a float like 230.5 is its own decimal), so
	 * when every float32 may, no bitmap is needed */
	for (k = 0; k < n; k++) {
		bool fits = fits_float(v[k]), d = is_decimal32(v[k]);

		if (!fits && d) {
			dec[k / 8] |= (uint8_t)(1u << (k % 8));
			ndec++;
		} else if (!fits) {
			wide[k / 8] |= (uint8_t)(1u << (k % 8));
			n64++;
		}
		nread += d;
		if (q[k] != QUALITY_GOOD) {
			bad[k / 8] |= (uint8_t)(1u << (k % 8));
			nbad++;
		}
	}
	out[0] = (uint8_t)((nbad ? 1 : 0) | (n64 && n64 < n ? 2 : 0) | (n64 == n ? 4 : 0) |
			   (ndec > 0 && nread < n - n64 ? 8 : 0) |
			   (ndec > 0 && nread == n - n64 ? 16 : 0));
	if (nbad) {
		memcpy(out + o, bad, nb);
		o += nb;
	}
	if (out[0] & 2) {
		memcpy(out + o, wide, nb);
		o += nb;
	}
	if (out[0] & 8) {
		memcpy(out + o, dec, nb);
		o += nb;
	}
	for (k = 0; k < n; k++) {
		if ((out[0] & 4) || bit(wide, k)) {
			uint64_t b = double_bits(v[k]);
			unsigned i;

			for (i = 0; i < 8; i++)
				out[o++] = (uint8_t)(b >> (8 * i));
		} else {
			float f = (float)v[k];
			uint32_t b;
			unsigned i;

			memcpy(&b, &f, sizeof(b));
			for (i = 0; i < 4; i++)
				out[o++] = (uint8_t)(b >> (8 * i));
		}
	}
	return o;
}

int codec_poll_unpack(const uint8_t *in, size_t len, unsigned n, int want, double *v,
		      uint8_t *q)
{
	const uint8_t *bad = NULL, *wide = NULL, *dec = NULL;
	unsigned k, nb = (n + 7) / 8;
	size_t o = 1, need;

	if (len < 1 || n == 0 || n > CODEC_POLL_MAX || (in[0] & ~31u) != 0 ||
	    (in[0] & 24) == 24 || ((in[0] & 4) && (in[0] & 24)))
		return -1;
	if (in[0] & 1) {
		bad = in + o;
		o += nb;
	}
	if (in[0] & 2) {
		wide = in + o;
		o += nb;
	}
	if (in[0] & 8) {
		dec = in + o;
		o += nb;
	}
	if (o > len)
		return -1;
	need = o;
	for (k = 0; k < n; k++)
		need += (in[0] & 4) || (wide != NULL && bit(wide, k)) ? 8 : 4;
	if (need != len)
		return -1;
	for (k = 0; k < n; k++) {
		bool w8 = (in[0] & 4) || (wide != NULL && bit(wide, k));

		if (want < 0 || (unsigned)want == k) {
			uint64_t b = 0;
			unsigned i;

			for (i = 0; i < (w8 ? 8u : 4u); i++)
				b |= (uint64_t)in[o + i] << (8 * i);
			if (w8) {
				v[k] = bits_double(b);
			} else {
				float f = bits_float((uint32_t)b);

				v[k] = (in[0] & 16) || (dec != NULL && bit(dec, k)) ? util_f32_decimal(f)
										  : (double)f;
			}
			q[k] = bad != NULL && bit(bad, k) ? QUALITY_BAD : QUALITY_GOOD;
		}
		o += w8 ? 8 : 4;
	}
	return 0;
}

/* ---- bit streams ---- */

struct bw {
	uint8_t *b;
	size_t cap, nbits;
};

static void bw_put(struct bw *w, uint64_t v, unsigned n)
{
	if ((w->nbits + n + 7) / 8 > w->cap) {
		size_t old = w->cap;

		w->cap = w->cap * 2 + 64;
		w->b = util_realloc(w->b, w->cap);
		memset(w->b + old, 0, w->cap - old);
	}
	while (n > 0) {
		unsigned room = 8 - (unsigned)(w->nbits & 7), k = n < room ? n : room;
		unsigned bits = (unsigned)(v >> (n - k)) & ((1u << k) - 1);

		w->b[w->nbits >> 3] |= (uint8_t)(bits << (room - k));
		w->nbits += k;
		n -= k;
	}
}

static void bw_align(struct bw *w)
{
	w->nbits = (w->nbits + 7) & ~(size_t)7;
}

struct br {
	const uint8_t *b;
	size_t end, pos; /* in bits */
	bool over;       /* read past end: the blob is damaged */
};

static uint64_t br_get(struct br *r, unsigned n)
{
	uint64_t v = 0;

	if (r->pos + n > r->end) {
		r->over = true;
		r->pos = r->end;
		return 0;
	}
	while (n > 0) {
		unsigned room = 8 - (unsigned)(r->pos & 7), k = n < room ? n : room;
		unsigned x = r->b[r->pos >> 3];

		v = (v << k) | ((x >> (room - k)) & ((1u << k) - 1));
		r->pos += k;
		n -= k;
	}
	return v;
}

static uint64_t zig(int64_t d)
{
	return d < 0 ? ~((uint64_t)d << 1) : (uint64_t)d << 1;
}

static int64_t unzig(uint64_t z)
{
	return (z & 1) ? (int64_t)~(z >> 1) : (int64_t)(z >> 1);
}

/* 0 | 10+7 | 110+10 | 1110+14 | 11110+20 | 11111+64 bits, zigzag */
static void put_int(struct bw *w, int64_t d)
{
	uint64_t z = zig(d);

	if (z == 0)
		bw_put(w, 0, 1);
	else if (z < (1u << 7))
		bw_put(w, (2ULL << 7) | z, 9);
	else if (z < (1u << 10))
		bw_put(w, (6ULL << 10) | z, 13);
	else if (z < (1u << 14))
		bw_put(w, (14ULL << 14) | z, 18);
	else if (z < (1u << 20))
		bw_put(w, (30ULL << 20) | z, 25);
	else {
		bw_put(w, 31, 5);
		bw_put(w, z, 64);
	}
}

static int64_t get_int(struct br *r)
{
	static const unsigned width[] = { 7, 10, 14, 20, 64 };
	unsigned i = 0;

	if (br_get(r, 1) == 0)
		return 0;
	while (i < 4 && br_get(r, 1) == 1)
		i++;
	return unzig(br_get(r, width[i]));
}

struct xstate {
	uint64_t prev;
	unsigned lead, trail;
	bool window;
};

/*
 * Gorilla XOR of words of width bits (64: doubles; 32: float32 columns,
 * whose XORs have 32 bits where a double's would have 52 of mantissa
 * noise); leading zeros and length in 6 bits each (5 for 32-bit words),
 * the full width as 0.
 */
static void put_xor(struct bw *w, struct xstate *s, uint64_t v, unsigned width)
{
	unsigned lb = width == 64 ? 6 : 5;
	uint64_t x = v ^ s->prev;
	unsigned lead, trail;

	s->prev = v;
	if (x == 0) {
		bw_put(w, 0, 1);
		return;
	}
	lead = (unsigned)__builtin_clzll(x) - (64 - width);
	trail = (unsigned)__builtin_ctzll(x);
	if (s->window && lead >= s->lead && trail >= s->trail) {
		bw_put(w, 2, 2);
		bw_put(w, x >> s->trail, width - s->lead - s->trail);
		return;
	}
	bw_put(w, 3, 2);
	bw_put(w, lead, lb);
	bw_put(w, (width - lead - trail) & (width - 1), lb);
	bw_put(w, x >> trail, width - lead - trail);
	s->lead = lead;
	s->trail = trail;
	s->window = true;
}

static uint64_t get_xor(struct br *r, struct xstate *s, unsigned width)
{
	unsigned lb = width == 64 ? 6 : 5;

	if (br_get(r, 1) == 0)
		return s->prev;
	if (br_get(r, 1) == 1) {
		unsigned lead = (unsigned)br_get(r, lb), len = (unsigned)br_get(r, lb);

		if (len == 0)
			len = width;
		if (lead + len > width) {
			r->over = true;
			return s->prev;
		}
		s->lead = lead;
		s->trail = width - lead - len;
		s->window = true;
	} else if (!s->window) {
		r->over = true;
		return s->prev;
	}
	s->prev ^= br_get(r, width - s->lead - s->trail) << s->trail;
	return s->prev;
}

static void put_varint(struct bw *w, uint64_t v)
{
	do {
		bw_put(w, (v & 0x7f) | (v >= 0x80 ? 0x80 : 0), 8);
		v >>= 7;
	} while (v > 0);
}

static uint64_t get_varint(struct br *r)
{
	uint64_t v = 0;
	unsigned sh = 0, c;

	do {
		c = (unsigned)br_get(r, 8);
		if (sh < 64)
			v |= (uint64_t)(c & 0x7f) << sh;
		sh += 7;
	} while ((c & 0x80) && !r->over && sh < 70);
	if (c & 0x80)
		r->over = true;
	return v;
}

/* ---- blocks ---- */

/*
 * How a column's values are stored: as doubles; as float32 when every one
 * goes through a float bit for bit; as float32 read back as their shortest
 * decimal when every one is that (float32 registers, short JSON numbers).
 */
enum { COL_DOUBLE = 0, COL_FLOAT = 1, COL_DECIMAL = 2 };
/* The same three, their values as residuals from a prediction (below). */
#define COL_RICE 3 /* marker -(COL_RICE + mode) */

static int column_mode(const struct codec_block *b, size_t c)
{
	bool flt = true, dec = true;
	size_t i;

	for (i = 0; i < b->n && (flt || dec); i++) {
		double v = b->v[i * b->ncol + c];

		if (flt && !fits_float(v))
			flt = false;
		if (dec && !is_decimal32(v))
			dec = false;
	}
	return flt ? COL_FLOAT : dec ? COL_DECIMAL : COL_DOUBLE;
}

/*
 * Residual columns. A value is predicted, and what is stored is the
 * difference between the value's bits and the prediction's, both mapped to
 * an order-keeping integer (floats that are close are integers that are
 * close: a value changing by a few units of its last place costs a few
 * bits, where its XOR would cost every bit from the first one that
 * flipped), zigzagged and Rice-coded with one parameter k per column.
 * Predictors: the previous value, the line through the two previous ones
 * (counters), or a relation between quantities of the same poll, which
 * every three-phase meter's values obey to their last bits (S = V I,
 * P = S PF, Q^2 = S^2 - P^2, a line voltage from its two phase voltages
 * 120 degrees apart, a total the sum of its phases, PF = P / S), or a
 * phase that moves as another does (its last value times the other's
 * change: the grid's voltage and its distortion reach every phase). The
 * encoder keeps, per column, whichever costs least of these and the XOR,
 * so values that obey no relation cost what they cost before.
 */
enum { PR_PREV, PR_LINE, PR_MUL, PR_DIV, PR_QUAD, PR_VLL, PR_SUM3, PR_TRACK, PR_COUNT };
static const unsigned pr_args[PR_COUNT] = { 0, 0, 2, 2, 2, 2, 3, 1 };

#define RICE_ESCAPE 24 /* a quotient this long: the value's width raw instead */

struct relation {
	uint8_t qty, op, arg[3];
};

/* Acyclic: V, I, PF are predicted from their past only. */
static const struct relation relations[] = {
	{ QTY_S_L1, PR_MUL, { QTY_V_L1N, QTY_I_L1, 0 } },
	{ QTY_S_L2, PR_MUL, { QTY_V_L2N, QTY_I_L2, 0 } },
	{ QTY_S_L3, PR_MUL, { QTY_V_L3N, QTY_I_L3, 0 } },
	{ QTY_P_L1, PR_MUL, { QTY_S_L1, QTY_PF_L1, 0 } },
	{ QTY_P_L2, PR_MUL, { QTY_S_L2, QTY_PF_L2, 0 } },
	{ QTY_P_L3, PR_MUL, { QTY_S_L3, QTY_PF_L3, 0 } },
	{ QTY_Q_L1, PR_QUAD, { QTY_S_L1, QTY_P_L1, 0 } },
	{ QTY_Q_L2, PR_QUAD, { QTY_S_L2, QTY_P_L2, 0 } },
	{ QTY_Q_L3, PR_QUAD, { QTY_S_L3, QTY_P_L3, 0 } },
	{ QTY_V_L12, PR_VLL, { QTY_V_L1N, QTY_V_L2N, 0 } },
	{ QTY_V_L23, PR_VLL, { QTY_V_L2N, QTY_V_L3N, 0 } },
	{ QTY_V_L31, PR_VLL, { QTY_V_L3N, QTY_V_L1N, 0 } },
	{ QTY_S_TOTAL, PR_SUM3, { QTY_S_L1, QTY_S_L2, QTY_S_L3 } },
	{ QTY_P_TOTAL, PR_SUM3, { QTY_P_L1, QTY_P_L2, QTY_P_L3 } },
	{ QTY_Q_TOTAL, PR_SUM3, { QTY_Q_L1, QTY_Q_L2, QTY_Q_L3 } },
	{ QTY_PF_TOTAL, PR_DIV, { QTY_P_TOTAL, QTY_S_TOTAL, 0 } },
	{ QTY_E_IMP, PR_SUM3, { QTY_E_IMP_L1, QTY_E_IMP_L2, QTY_E_IMP_L3 } },
	{ QTY_E_EXP, PR_SUM3, { QTY_E_EXP_L1, QTY_E_EXP_L2, QTY_E_EXP_L3 } },
	{ QTY_V_L2N, PR_TRACK, { QTY_V_L1N, 0, 0 } },
	{ QTY_V_L3N, PR_TRACK, { QTY_V_L1N, 0, 0 } },
	{ QTY_I_L2, PR_TRACK, { QTY_I_L1, 0, 0 } },
	{ QTY_I_L3, PR_TRACK, { QTY_I_L1, 0, 0 } },
	{ QTY_PF_L2, PR_TRACK, { QTY_PF_L1, 0, 0 } },
	{ QTY_PF_L3, PR_TRACK, { QTY_PF_L1, 0, 0 } },
	{ QTY_THD_V_L2, PR_TRACK, { QTY_THD_V_L1, 0, 0 } },
	{ QTY_THD_V_L3, PR_TRACK, { QTY_THD_V_L1, 0, 0 } },
	{ QTY_THD_I_L2, PR_TRACK, { QTY_THD_I_L1, 0, 0 } },
	{ QTY_THD_I_L3, PR_TRACK, { QTY_THD_I_L1, 0, 0 } },
};

/* An order-keeping integer of a value's bits (width 32 or 64), and back. */
static uint64_t key_of(uint64_t b, unsigned width)
{
	uint64_t sign = (uint64_t)1 << (width - 1), all = width == 64 ? ~(uint64_t)0 : sign * 2 - 1;

	return (b & sign) ? ~b & all : b | sign;
}

static uint64_t bits_of_key(uint64_t k, unsigned width)
{
	uint64_t sign = (uint64_t)1 << (width - 1), all = width == 64 ? ~(uint64_t)0 : sign * 2 - 1;

	return (k & sign) ? k & ~sign : ~k & all;
}

static uint64_t value_bits(double v, unsigned width)
{
	return width == 64 ? double_bits(v) : float_bits((float)v);
}

/*
 * The relation's prediction for row (a poll's values), as the column's
 * bits: computed in double from the operands (as floats for a 32-bit
 * column), each operation correctly rounded (no fused multiply-add: the
 * codec is built with -ffp-contract=off), a NaN made 0 so that every
 * machine predicts the same bits.
 */
static uint64_t relation_bits(int op, const uint8_t *arg, const double *row, unsigned width)
{
	double a = row[arg[0]], b = row[arg[1]], c = op == PR_SUM3 ? row[arg[2]] : 0, r;

	if (width == 32) {
		a = (double)(float)a;
		b = (double)(float)b;
		c = (double)(float)c;
	}
	switch (op) {
	case PR_MUL:
		r = a * b;
		break;
	case PR_DIV:
		r = a / b;
		break;
	case PR_QUAD:
		r = a * a - b * b;
		r = r > 0 ? sqrt(r) : 0;
		break;
	case PR_VLL:
		r = sqrt(fmax(a * a + b * b + a * b, 0));
		break;
	default:
		r = a + b + c;
		break;
	}
	if (isnan(r))
		r = 0;
	return value_bits(r, width);
}

/* A value that moves as another: its last one times the other's change. */
static uint64_t track_bits(double self, double was, double now, unsigned width)
{
	double r;

	if (width == 32) {
		self = (double)(float)self;
		was = (double)(float)was;
		now = (double)(float)now;
	}
	r = self * (now / was);
	if (isnan(r) || isinf(r))
		r = self;
	if (isnan(r))
		r = 0;
	return value_bits(r, width);
}

/* The predicted key of row i of column c. */
static uint64_t predict_key(int op, const uint8_t *arg, const struct codec_block *b, size_t c,
			    size_t i, const uint64_t *keys, unsigned width)
{
	uint64_t zero = key_of(0, width);

	switch (op) {
	case PR_PREV:
		return i > 0 ? keys[i - 1] : zero;
	case PR_LINE:
		return i > 1 ? 2 * keys[i - 1] - keys[i - 2] : i > 0 ? keys[i - 1] : zero;
	case PR_TRACK:
		if (i == 0)
			return zero;
		return key_of(track_bits(b->v[(i - 1) * b->ncol + c], b->v[(i - 1) * b->ncol + arg[0]],
					 b->v[i * b->ncol + arg[0]], width),
			      width);
	default:
		return key_of(relation_bits(op, arg, b->v + i * b->ncol, width), width);
	}
}

static uint64_t zig_w(uint64_t d, unsigned width)
{
	uint64_t all = width == 64 ? ~(uint64_t)0 : ((uint64_t)1 << width) - 1;
	bool neg = (d >> (width - 1)) & 1;

	return (neg ? ~(d << 1) : d << 1) & all;
}

static uint64_t unzig_w(uint64_t z, unsigned width)
{
	uint64_t all = width == 64 ? ~(uint64_t)0 : ((uint64_t)1 << width) - 1;

	return ((z & 1) ? ~(z >> 1) : z >> 1) & all;
}

/* Bits of z[0..n) Rice-coded with parameter k. */
static size_t rice_cost(const uint64_t *z, size_t n, unsigned k, unsigned width)
{
	size_t bits = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t q = z[i] >> k;

		bits += q >= RICE_ESCAPE ? RICE_ESCAPE + width : (size_t)q + 1 + k;
	}
	return bits;
}

/*
 * The cheapest k: tried around the median bit length (the optimum for a
 * geometric law is near log2 of the mean; the median, unlike the mean, is
 * not moved by the odd escape).
 */
static unsigned rice_best(const uint64_t *z, size_t n, unsigned width, size_t *cost)
{
	size_t hist[65] = { 0 }, seen = 0;
	unsigned best = 0, lo, hi, med = 0;

	for (size_t i = 0; i < n; i++)
		hist[z[i] ? 64 - __builtin_clzll(z[i]) : 0]++;
	while (med < 64 && (seen += hist[med]) * 2 < n)
		med++;
	lo = med > 3 ? med - 3 : 0;
	hi = med + 1 < width ? med + 1 : width - 1;
	*cost = SIZE_MAX;
	for (unsigned k = lo; k <= hi; k++) {
		size_t c = rice_cost(z, n, k, width);

		if (c < *cost) {
			*cost = c;
			best = k;
		}
	}
	return best;
}

static void put_rice(struct bw *w, uint64_t z, unsigned k, unsigned width)
{
	uint64_t q = z >> k;

	if (q >= RICE_ESCAPE) {
		bw_put(w, ((uint64_t)1 << RICE_ESCAPE) - 1, RICE_ESCAPE);
		bw_put(w, z, width);
		return;
	}
	bw_put(w, ((uint64_t)1 << (q + 1)) - 2, (unsigned)q + 1);
	if (k > 0)
		bw_put(w, z & (((uint64_t)1 << k) - 1), k);
}

static uint64_t get_rice(struct br *r, unsigned k, unsigned width)
{
	uint64_t q = 0;

	while (q < RICE_ESCAPE && br_get(r, 1) == 1)
		q++;
	if (q == RICE_ESCAPE)
		return br_get(r, width);
	return k > 0 ? (q << k) | br_get(r, k) : q;
}

/* The column of quantity qty in the block's shape, or -1. */
static int shape_col(const uint8_t *qty, size_t ncol, unsigned id)
{
	for (size_t c = 0; c < ncol; c++)
		if (qty[c] == id)
			return (int)c;
	return -1;
}

/* The quality stream's part: the count of bad samples and their gaps. */
static void put_bad(struct bw *w, const struct codec_block *b, size_t c)
{
	size_t nbad = 0, last = 0, i;

	for (i = 0; i < b->n; i++)
		nbad += b->q[i * b->ncol + c] != QUALITY_GOOD;
	put_int(w, (int64_t)nbad);
	for (i = 0; i < b->n; i++)
		if (b->q[i * b->ncol + c] != QUALITY_GOOD) {
			put_int(w, (int64_t)(i - last));
			last = i;
		}
}

static void put_xor_column(struct bw *w, const struct codec_block *b, size_t c, int mode)
{
	struct xstate x = { 0 };

	/* A float32 column says so with a negative count first (a double
	 * column's stream is as it always was). */
	if (mode != COL_DOUBLE)
		put_int(w, -(int64_t)mode);
	put_bad(w, b, c);
	for (size_t i = 0; i < b->n; i++) {
		double v = b->v[i * b->ncol + c];

		if (mode == COL_DOUBLE)
			put_xor(w, &x, double_bits(v), 64);
		else
			put_xor(w, &x, float_bits((float)v), 32);
	}
}

/* Column c's stream as residuals from predictor op (args arg). */
static struct bw residual_column(const struct codec_block *b, size_t c, int mode, int op,
				 const uint8_t *arg, uint64_t *keys, uint64_t *z)
{
	unsigned width = mode == COL_DOUBLE ? 64 : 32, k;
	struct bw w = { 0 };
	size_t cost;

	for (size_t i = 0; i < b->n; i++)
		keys[i] = key_of(value_bits(b->v[i * b->ncol + c], width), width);
	for (size_t i = 0; i < b->n; i++)
		z[i] = zig_w(keys[i] - predict_key(op, arg, b, c, i, keys, width), width);
	k = rice_best(z, b->n, width, &cost);
	put_int(&w, -(int64_t)(COL_RICE + mode));
	put_int(&w, op);
	for (unsigned a = 0; a < pr_args[op]; a++)
		put_int(&w, arg[a]);
	put_bad(&w, b, c);
	bw_put(&w, k, 6);
	for (size_t i = 0; i < b->n; i++)
		put_rice(&w, z[i], k, width);
	return w;
}

/*
 * The next relation from *r on that predicts column c (its columns in
 * arg), or -1 when none is left.
 */
static int column_relation(const struct codec_block *b, const uint8_t *qty, size_t c, size_t *r,
			   uint8_t *arg)
{
	for (; *r < UTIL_ARRAY_LEN(relations); (*r)++) {
		const struct relation *x = &relations[*r];
		size_t a;

		if (x->qty != qty[c])
			continue;
		for (a = 0; a < pr_args[x->op]; a++) {
			int col = shape_col(qty, b->ncol, x->arg[a]);

			if (col < 0)
				break;
			arg[a] = (uint8_t)col;
		}
		if (a == pr_args[x->op]) {
			(*r)++;
			return x->op;
		}
	}
	return -1;
}

static void keep_cheaper(struct bw *best, struct bw w)
{
	if (w.nbits < best->nbits) {
		free(best->b);
		*best = w;
	} else {
		free(w.b);
	}
}

/* Column c's stream: the XOR one, or residuals from the cheapest predictor. */
static struct bw column_stream(const struct codec_block *b, const uint8_t *qty, size_t c)
{
	int mode = column_mode(b, c), op;
	uint8_t arg[3] = { 0, 0, 0 };
	uint64_t *keys = util_reallocarray(NULL, b->n, sizeof(uint64_t));
	uint64_t *z = util_reallocarray(NULL, b->n, sizeof(uint64_t));
	struct bw best = { 0 };
	size_t r = 0;

	put_xor_column(&best, b, c, mode);
	keep_cheaper(&best, residual_column(b, c, mode, PR_PREV, arg, keys, z));
	keep_cheaper(&best, residual_column(b, c, mode, PR_LINE, arg, keys, z));
	while (qty != NULL && (op = column_relation(b, qty, c, &r, arg)) >= 0)
		keep_cheaper(&best, residual_column(b, c, mode, op, arg, keys, z));
	free(keys);
	free(z);
	return best;
}

size_t codec_block_encode(const struct codec_block *b, uint8_t **out)
{
	return codec_block_encode_qty(b, NULL, out);
}

size_t codec_block_encode_qty(const struct codec_block *b, const uint8_t *qty, uint8_t **out)
{
	struct bw h = { 0 }, s[CODEC_POLL_MAX + 1];
	uint64_t dt = 0, ds = 0;
	size_t i, c, len;
	uint8_t *buf;

	memset(s, 0, sizeof(s));
	bw_put(&s[0], (uint64_t)b->t[0], 64);
	bw_put(&s[0], (uint64_t)b->seq[0], 64);
	for (i = 1; i < b->n; i++) {
		uint64_t t1 = (uint64_t)b->t[i] - (uint64_t)b->t[i - 1];
		uint64_t s1 = (uint64_t)b->seq[i] - (uint64_t)b->seq[i - 1];

		put_int(&s[0], (int64_t)(t1 - dt));
		put_int(&s[0], (int64_t)(s1 - ds));
		dt = t1;
		ds = s1;
	}
	for (c = 0; c < b->ncol; c++)
		s[c + 1] = column_stream(b, qty, c);
	put_varint(&h, b->n);
	put_varint(&h, b->ncol);
	len = 0;
	for (c = 0; c <= b->ncol; c++) {
		bw_align(&s[c]);
		put_varint(&h, s[c].nbits / 8);
		len += s[c].nbits / 8;
	}
	len += h.nbits / 8;
	buf = util_malloc(len);
	memcpy(buf, h.b, h.nbits / 8);
	len = h.nbits / 8;
	for (c = 0; c <= b->ncol; c++) {
		if (s[c].nbits > 0)
			memcpy(buf + len, s[c].b, s[c].nbits / 8);
		len += s[c].nbits / 8;
		free(s[c].b);
	}
	free(h.b);
	*out = buf;
	return len;
}

/* What a column's stream starts with: its mode, predictor, the bad count. */
struct colhead {
	int mode;       /* COL_*, + COL_RICE for residuals */
	int op;         /* PR_* (PR_PREV for an XOR column: no arguments) */
	uint8_t arg[3]; /* the columns it is predicted from */
	size_t nbad;
	size_t pos;     /* in bits: where the bad samples' gaps start */
};

static int read_head(struct br *r, size_t ncol, size_t c, struct colhead *h)
{
	int64_t first = get_int(r);

	h->mode = COL_DOUBLE;
	h->op = PR_PREV;
	if (first < 0) {
		if (first < -(COL_RICE + COL_DECIMAL))
			return -1;
		h->mode = (int)-first;
		if (h->mode >= COL_RICE) {
			int64_t op = get_int(r);

			if (op < 0 || op >= PR_COUNT)
				return -1;
			h->op = (int)op;
			for (unsigned a = 0; a < pr_args[op]; a++) {
				int64_t col = get_int(r);

				if (col < 0 || (size_t)col >= ncol || (size_t)col == c)
					return -1;
				h->arg[a] = (uint8_t)col;
			}
		}
		first = get_int(r);
	}
	if (first < 0 || r->over)
		return -1;
	h->nbad = (size_t)first;
	h->pos = r->pos;
	return 0;
}

/* Column c's qualities and values from its stream (r past its head). */
static int decode_column(struct br *r, const struct colhead *h, struct codec_block *b, size_t c,
			 uint64_t *keys)
{
	size_t n = b->n, ncol = b->ncol, i, at = 0;
	int mode = h->mode >= COL_RICE ? h->mode - COL_RICE : h->mode;
	unsigned width = mode == COL_DOUBLE ? 64 : 32, k = 0;
	struct xstate x = { 0 };

	if (h->nbad > n)
		return -1;
	for (i = 0; i < n; i++)
		b->q[i * ncol + c] = QUALITY_GOOD;
	for (i = 0; i < h->nbad; i++) {
		at += (size_t)get_int(r);
		if (at >= n)
			return -1;
		b->q[at * ncol + c] = QUALITY_BAD;
	}
	if (h->mode >= COL_RICE) {
		k = (unsigned)br_get(r, 6);
		if (k >= width)
			return -1;
	}
	for (i = 0; i < n && !r->over; i++) {
		uint64_t bits;

		if (h->mode >= COL_RICE) {
			uint64_t z = get_rice(r, k, width);

			keys[i] = (predict_key(h->op, h->arg, b, c, i, keys, width) +
				   unzig_w(z, width)) &
				  (width == 64 ? ~(uint64_t)0 : 0xffffffffULL);
			bits = bits_of_key(keys[i], width);
		} else {
			bits = get_xor(r, &x, width);
		}
		if (mode == COL_DOUBLE) {
			b->v[i * ncol + c] = bits_double(bits);
		} else {
			float f = bits_float((uint32_t)bits);

			b->v[i * ncol + c] = mode == COL_DECIMAL ? util_f32_decimal(f) : (double)f;
		}
	}
	return r->over ? -1 : 0;
}

int codec_block_decode(const uint8_t *in, size_t len, int want, struct codec_block *b)
{
	return codec_block_decode_mask(in, len,
				       want < 0 ? ~(uint64_t)0
				       : want >= 64 ? 0 /* no column: times and seqs only */
						    : (uint64_t)1 << want,
				       b);
}

int codec_block_decode_mask(const uint8_t *in, size_t len, uint64_t mask, struct codec_block *b)
{
	struct br r = { in, len * 8, 0, false };
	size_t i, c, off[CODEC_POLL_MAX + 2], n, ncol;
	uint64_t dt = 0, ds = 0, done = 0, wanted, *keys;
	struct colhead head[CODEC_POLL_MAX];

	n = (size_t)get_varint(&r);
	ncol = (size_t)get_varint(&r);
	if (r.over || n == 0 || ncol == 0 || ncol > CODEC_POLL_MAX)
		return -1;
	off[0] = 0;
	for (c = 0; c <= ncol; c++) {
		uint64_t l = get_varint(&r);

		if (r.over || l > len)
			return -1;
		off[c + 1] = off[c] + (size_t)l;
	}
	for (c = 0; c <= ncol + 1; c++)
		off[c] += r.pos / 8;
	/* The first poll takes 128 bits of the time stream, each next at least 2. */
	if (off[ncol + 1] != len || off[1] - off[0] < 16 || n - 1 > (off[1] - off[0] - 16) * 4)
		return -1;
	b->n = n;
	b->ncol = ncol;
	b->t = util_reallocarray(b->t, n, sizeof(int64_t));
	b->seq = util_reallocarray(b->seq, n, sizeof(int64_t));
	b->v = util_reallocarray(b->v, n * ncol, sizeof(double));
	b->q = util_reallocarray(b->q, n * ncol, 1);
	r.pos = off[0] * 8;
	r.end = off[1] * 8;
	b->t[0] = (int64_t)br_get(&r, 64);
	b->seq[0] = (int64_t)br_get(&r, 64);
	for (i = 1; i < n; i++) {
		dt += (uint64_t)get_int(&r);
		ds += (uint64_t)get_int(&r);
		b->t[i] = (int64_t)((uint64_t)b->t[i - 1] + dt);
		b->seq[i] = (int64_t)((uint64_t)b->seq[i - 1] + ds);
	}
	if (r.over)
		return -1;
	for (c = 0; c < ncol; c++) {
		r.pos = off[c + 1] * 8;
		r.end = off[c + 2] * 8;
		if (read_head(&r, ncol, c, &head[c]) != 0)
			return -1;
	}
	/* the columns the wanted ones are predicted from are needed too
	 * (and given back as unwanted ones after) */
	mask &= ncol == 64 ? ~(uint64_t)0 : ((uint64_t)1 << ncol) - 1;
	wanted = mask;
	for (size_t pass = 0; pass < ncol; pass++)
		for (c = 0; c < ncol; c++)
			if (mask & ((uint64_t)1 << c))
				for (unsigned a = 0; a < pr_args[head[c].op]; a++)
					mask |= (uint64_t)1 << head[c].arg[a];
	/* each column once those it is predicted from are decoded */
	keys = util_reallocarray(NULL, n, sizeof(uint64_t));
	while (mask != done) {
		uint64_t before = done;

		for (c = 0; c < ncol; c++) {
			uint64_t bit = (uint64_t)1 << c, deps = 0;

			for (unsigned a = 0; a < pr_args[head[c].op]; a++)
				deps |= (uint64_t)1 << head[c].arg[a];
			if (!(mask & bit) || (done & bit) || (deps & ~done))
				continue;
			r.pos = head[c].pos;
			r.end = off[c + 2] * 8;
			if (decode_column(&r, &head[c], b, c, keys) != 0) {
				free(keys);
				return -1;
			}
			done |= bit;
		}
		if (done == before) { /* a cycle: no writer makes one */
			free(keys);
			return -1;
		}
	}
	free(keys);
	for (c = 0; c < ncol; c++)
		if (!(wanted & ((uint64_t)1 << c)))
			for (i = 0; i < n; i++) {
				b->v[i * ncol + c] = bits_double(0x7ff8000000000000ULL);
				b->q[i * ncol + c] = QUALITY_BAD;
			}
	return 0;
}

void codec_block_free(struct codec_block *b)
{
	free(b->t);
	free(b->seq);
	free(b->v);
	free(b->q);
	memset(b, 0, sizeof(*b));
}

/* ---- rollups ---- */

double codec_rise(double a, double b)
{
	/* the span of the counter's register is not known here: no wraps */
	return utility_counter_rise(a, b, 0);
}

void codec_minute_add(struct codec_minute *m, int64_t t_us, double v, int good)
{
	m->n++;
	if (!good || !isfinite(v))
		return;
	if (m->good == 0) {
		m->min = m->max = m->first = v;
		m->first_us = t_us;
		m->sum = 0;
		m->rise = 0;
	} else {
		m->min = v < m->min ? v : m->min;
		m->max = v > m->max ? v : m->max;
		m->rise += codec_rise(m->last, v);
	}
	m->sum += v;
	m->last = v;
	m->last_us = t_us;
	m->good++;
}

void codec_minute_merge(struct codec_minute *a, const struct codec_minute *b)
{
	const struct codec_minute *x, *y;
	struct codec_minute r;

	if (b->good == 0) {
		a->n += b->n;
		return;
	}
	if (a->good == 0) {
		uint32_t n = a->n;

		*a = *b;
		a->n += n;
		return;
	}
	x = b->first_us < a->first_us ? b : a; /* the earlier */
	y = x == a ? b : a;
	r.n = a->n + b->n;
	r.good = a->good + b->good;
	r.min = b->min < a->min ? b->min : a->min;
	r.max = b->max > a->max ? b->max : a->max;
	r.sum = a->sum + b->sum;
	r.first = x->first;
	r.first_us = x->first_us;
	r.last = y->last_us >= x->last_us ? y->last : x->last;
	r.last_us = y->last_us >= x->last_us ? y->last_us : x->last_us;
	r.rise = x->rise + y->rise + (x->last_us <= y->first_us ? codec_rise(x->last, y->first) : 0);
	*a = r;
}

struct wbuf {
	uint8_t *b;
	size_t n, cap;
};

static void wb_need(struct wbuf *w, size_t k)
{
	if (w->n + k > w->cap) {
		w->cap = (w->n + k) * 2;
		w->b = util_realloc(w->b, w->cap);
	}
}

static void wb_varint(struct wbuf *w, uint64_t v)
{
	wb_need(w, 10);
	do {
		w->b[w->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
}

static void wb_value(struct wbuf *w, double d, bool wide)
{
	uint64_t b;
	unsigned i, k = wide ? 8 : 4;

	if (wide) {
		b = double_bits(d);
	} else {
		float f = (float)d;
		uint32_t b32;

		memcpy(&b32, &f, sizeof(b32));
		b = b32;
	}
	wb_need(w, k);
	for (i = 0; i < k; i++)
		w->b[w->n++] = (uint8_t)(b >> (8 * i));
}

/* One minute's aggregates (entry e) after its n and good. */
static void put_minute(struct wbuf *w, const struct codec_minute *m, int64_t t0)
{
	double v[6] = { m->min, m->max, m->first, m->last, m->sum, m->rise };
	unsigned flags = 0, dec = 0, k;

	wb_varint(w, m->n);
	wb_varint(w, m->good);
	if (m->good == 0)
		return;
	/* min, max, first and last are samples: a float32's shortest decimal
	 * (what a float32 register gives) is stored as that float */
	for (k = 0; k < 6; k++)
		if (k < 4 && !fits_float(v[k]) && is_decimal32(v[k]))
			dec |= 1u << k;
		else if (!fits_float(v[k]))
			flags |= 1u << k;
	if (double_bits(m->rise) != 0)
		flags |= 1u << 6;
	if (dec != 0)
		flags |= 1u << 7;
	wb_need(w, 2);
	w->b[w->n++] = (uint8_t)flags;
	if (dec != 0)
		w->b[w->n++] = (uint8_t)dec;
	for (k = 0; k < (flags & (1u << 6) ? 6u : 5u); k++) {
		if (dec & (1u << k))
			wb_value(w, (double)(float)v[k], false);
		else
			wb_value(w, v[k], flags & (1u << k));
	}
	wb_varint(w, (uint64_t)(m->first_us - t0));
	wb_varint(w, (uint64_t)(m->last_us - t0));
}

/*
 * A rollup deflated (zlib) when that is shorter: a 0 (no quantity: never
 * written otherwise), the raw length as a varint, then the zlib stream.
 * A minute's aggregates are floats of similar exponents and times of
 * similar offsets, which deflate takes a third off.
 */
#define ROLLUP_RAW_MAX (1u << 20)
/* An hour's mask no hour has (window 15 of 12): the blob is deflated. */
#define HOUR_DEFLATED (1u << 15)

static size_t deflated(uint8_t **blob, size_t len, uint64_t marker)
{
	uLongf zlen = compressBound((uLong)len);
	struct wbuf w = { 0 };

	if (len > ROLLUP_RAW_MAX)
		return len;
	wb_need(&w, 20 + zlen);
	wb_varint(&w, marker);
	wb_varint(&w, len);
	if (compress2(w.b + w.n, &zlen, *blob, (uLong)len, 6) != Z_OK || w.n + zlen >= len) {
		free(w.b);
		return len;
	}
	free(*blob);
	*blob = w.b;
	return w.n + zlen;
}

size_t codec_rollup_encode(const struct codec_rollup_entry *e, size_t n, int64_t w0_us,
			   uint8_t **out)
{
	struct wbuf w = { 0 }, sec[256];
	uint8_t qs[256];
	size_t i, nq = 0, k;

	/* one section per quantity: a mask of its minutes, then each minute */
	for (i = 0; i < n; i = k) {
		struct wbuf *x = &sec[nq];
		unsigned mask = 0;

		memset(x, 0, sizeof(*x));
		for (k = i; k < n && e[k].qty == e[i].qty; k++)
			mask |= 1u << e[k].minute;
		wb_need(x, 1);
		x->b[x->n++] = (uint8_t)mask;
		for (k = i; k < n && e[k].qty == e[i].qty; k++)
			put_minute(x, &e[k].m, w0_us + (int64_t)e[k].minute * CODEC_MINUTE_US);
		qs[nq++] = e[i].qty;
	}
	/* the directory: count, then (qty, section length) each */
	wb_varint(&w, nq);
	for (i = 0; i < nq; i++) {
		wb_need(&w, 1);
		w.b[w.n++] = qs[i];
		wb_varint(&w, sec[i].n);
	}
	for (i = 0; i < nq; i++) {
		wb_need(&w, sec[i].n);
		memcpy(w.b + w.n, sec[i].b, sec[i].n);
		w.n += sec[i].n;
		free(sec[i].b);
	}
	*out = w.b;
	return deflated(out, w.n, 0);
}

struct rbuf {
	const uint8_t *b;
	size_t n, o;
	bool bad;
};

static uint64_t rb_varint(struct rbuf *r)
{
	uint64_t v = 0;
	unsigned s = 0;

	while (!r->bad) {
		uint8_t c;

		if (r->o >= r->n || s > 63) {
			r->bad = true;
			break;
		}
		c = r->b[r->o++];
		v |= (uint64_t)(c & 0x7f) << s;
		if (!(c & 0x80))
			return v;
		s += 7;
	}
	return 0;
}

static double rb_value(struct rbuf *r, bool wide)
{
	unsigned i, k = wide ? 8 : 4;
	uint64_t b = 0;

	if (r->bad || r->n - r->o < k) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < k; i++)
		b |= (uint64_t)r->b[r->o++] << (8 * i);
	if (!wide) {
		uint32_t b32 = (uint32_t)b;
		float f;

		memcpy(&f, &b32, sizeof(f));
		return (double)f;
	}
	return bits_double(b);
}

static uint8_t rb_byte(struct rbuf *r)
{
	if (r->bad || r->o >= r->n) {
		r->bad = true;
		return 0;
	}
	return r->b[r->o++];
}

/* One minute (or window: span_us) after its section's mask; false when damaged. */
static bool get_span(struct rbuf *r, struct codec_minute *m, int64_t t0, int64_t span_us)
{
	uint64_t nn = rb_varint(r), good = rb_varint(r);

	memset(m, 0, sizeof(*m));
	if (r->bad || nn > UINT32_MAX || good > nn)
		return false;
	m->n = (uint32_t)nn;
	m->good = (uint32_t)good;
	if (good > 0) {
		unsigned flags = rb_byte(r), dec = flags & 0x80 ? rb_byte(r) : 0, k;
		double v[6] = { 0 };
		uint64_t a, b;

		/* decimals among the four samples only, stored as floats */
		if ((dec & ~0x0fu) || (dec & flags) || ((flags & 0x80) && dec == 0))
			return false;
		for (k = 0; k < (flags & (1u << 6) ? 6u : 5u); k++) {
			v[k] = rb_value(r, flags & (1u << k));
			if (dec & (1u << k))
				v[k] = util_f32_decimal((float)v[k]);
		}
		a = rb_varint(r);
		b = rb_varint(r);
		if (r->bad || a >= (uint64_t)span_us || b >= (uint64_t)span_us)
			return false;
		m->min = v[0];
		m->max = v[1];
		m->first = v[2];
		m->last = v[3];
		m->sum = v[4];
		m->rise = v[5];
		m->first_us = t0 + (int64_t)a;
		m->last_us = t0 + (int64_t)b;
	}
	return !r->bad;
}

/* The raw blob of a deflated one (r past its marker), malloc'd; NULL when damaged. */
static uint8_t *inflated(struct rbuf *r, size_t *raw_len)
{
	uint64_t raw = rb_varint(r);
	uLongf got = (uLongf)raw;
	uint8_t *buf;

	if (r->bad || raw == 0 || raw > ROLLUP_RAW_MAX)
		return NULL;
	buf = util_malloc((size_t)raw);
	if (uncompress(buf, &got, r->b + r->o, (uLong)(r->n - r->o)) != Z_OK || got != raw) {
		free(buf);
		return NULL;
	}
	*raw_len = (size_t)raw;
	return buf;
}

int codec_rollup_decode(const uint8_t *in, size_t len, int64_t w0_us, int qty,
			struct codec_rollup_entry *e, size_t max)
{
	struct rbuf r = { in, len, 0, false };
	uint64_t nq = rb_varint(&r), i, at;
	uint8_t qs[256];
	uint64_t lens[256];
	size_t got = 0;

	if (nq == 0) { /* deflated (an empty rollup is never written) */
		size_t raw;
		uint8_t *buf = inflated(&r, &raw);
		int n;

		if (buf == NULL || buf[0] == 0) {
			free(buf);
			return -1;
		}
		n = codec_rollup_decode(buf, raw, w0_us, qty, e, max);
		free(buf);
		return n;
	}
	if (r.bad || nq > 256)
		return -1;
	for (i = 0; i < nq; i++) {
		qs[i] = rb_byte(&r);
		lens[i] = rb_varint(&r);
		if (r.bad || lens[i] > len)
			return -1;
	}
	at = r.o;
	for (i = 0; i < nq; i++) {
		struct rbuf x;
		unsigned mask;

		if (lens[i] > len - at)
			return -1;
		x = (struct rbuf){ in + at, (size_t)lens[i], 0, false };
		at += lens[i];
		if (qty >= 0 && qs[i] != qty)
			continue;
		mask = rb_byte(&x);
		if (x.bad || mask == 0 || mask > 31)
			return -1;
		for (unsigned m = 0; m < 5; m++) {
			if (!(mask & (1u << m)))
				continue;
			if (got == max)
				return -1;
			e[got].qty = qs[i];
			e[got].minute = (uint8_t)m;
			if (!get_span(&x, &e[got].m, w0_us + (int64_t)m * CODEC_MINUTE_US,
				      CODEC_MINUTE_US))
				return -1;
			got++;
		}
		if (x.o != x.n)
			return -1;
	}
	if (at != len)
		return -1;
	return (int)got;
}

/* ---- hours of windows ---- */

size_t codec_hour_encode(const struct codec_minute w[CODEC_HOUR_SLOTS], int64_t h0_us,
			 uint8_t **out)
{
	struct wbuf b = { 0 };
	unsigned mask = 0, k;

	for (k = 0; k < CODEC_HOUR_SLOTS; k++)
		if (w[k].n > 0)
			mask |= 1u << k;
	wb_varint(&b, mask);
	for (k = 0; k < CODEC_HOUR_SLOTS; k++)
		if (mask & (1u << k))
			put_minute(&b, &w[k], h0_us + (int64_t)k * CODEC_WINDOW_US);
	*out = b.b;
	return deflated(out, b.n, HOUR_DEFLATED);
}

static int hour_decode(const uint8_t *in, size_t len, int64_t h0_us,
		       struct codec_minute w[CODEC_HOUR_SLOTS], bool inner);

int codec_hour_decode(const uint8_t *in, size_t len, int64_t h0_us,
		      struct codec_minute w[CODEC_HOUR_SLOTS])
{
	return hour_decode(in, len, h0_us, w, false);
}

/* inner: the blob inflated from a deflated one (never deflated twice) */
static int hour_decode(const uint8_t *in, size_t len, int64_t h0_us,
		       struct codec_minute w[CODEC_HOUR_SLOTS], bool inner)
{
	struct rbuf r = { in, len, 0, false };
	uint64_t mask = rb_varint(&r);
	unsigned k;

	memset(w, 0, CODEC_HOUR_SLOTS * sizeof(*w));
	if (mask == HOUR_DEFLATED && !r.bad && !inner) {
		size_t raw;
		uint8_t *buf = inflated(&r, &raw);
		int rc;

		if (buf == NULL)
			return -1;
		rc = hour_decode(buf, raw, h0_us, w, true);
		free(buf);
		return rc;
	}
	if (r.bad || mask >= (1u << CODEC_HOUR_SLOTS))
		return -1;
	for (k = 0; k < CODEC_HOUR_SLOTS; k++)
		if ((mask & (1u << k)) &&
		    (!get_span(&r, &w[k], h0_us + (int64_t)k * CODEC_WINDOW_US, CODEC_WINDOW_US) ||
		     w[k].n == 0))
			return -1;
	return r.o == r.n ? 0 : -1;
}
