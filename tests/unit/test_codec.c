// SPDX-License-Identifier: MIT
/*
 * The poll and block encodings of the buffer (src/store/codec.c): every
 * value back bit for bit (NaN payloads, infinities, denormals, -0.0),
 * every time and seq back, qualities as stored, and a damaged blob
 * refused without reading outside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/codec.h"
#include "phasor/util.h"
#include "phasor/qty.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t bits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static double from_bits(uint64_t b)
{
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

/* A value of the kinds the buffer must keep: meter-like floats, doubles
 * that no float holds, and the special ones. */
static double any_value(unsigned k)
{
	switch (rng() % 12) {
	case 0:
		return from_bits(0x7ff8000000000000ULL | (rng() & 0xfffffffffULL)); /* NaN payload */
	case 1:
		return (rng() & 1) ? INFINITY : -INFINITY;
	case 2:
		return -0.0;
	case 3:
		return from_bits(rng() & 0x000fffffffffffffULL); /* denormal double */
	case 4:
		return (double)from_bits(0) + 1e-40;             /* a float denormal */
	case 5:
		return from_bits(rng());                         /* any bits at all */
	case 6:
		return 230.0 + (double)(rng() % 1000) / 7.0;     /* needs float64 */
	case 7: /* a float32 register as the recorder stores it: its decimal */
		return util_f32_decimal((float)(230.0 + (double)(rng() % 100000) / 1000.0));
	case 8: /* a float whose decimal is another double (0.1f widened) */
		return (double)(float)((double)(rng() % 1000) / 10.0);
	default:
		return (double)(float)(230.0 + k + (double)(rng() % 100) / 16.0);
	}
}

static void test_poll_roundtrip(void **state)
{
	(void)state;
	for (int round = 0; round < 20000; round++) {
		unsigned n = 1 + (unsigned)(rng() % CODEC_POLL_MAX), k;
		double v[CODEC_POLL_MAX], back[CODEC_POLL_MAX];
		uint8_t q[CODEC_POLL_MAX], qb[CODEC_POLL_MAX], buf[CODEC_POLL_SIZE_MAX(CODEC_POLL_MAX)];
		size_t len;
		int uniform = (int)(rng() % 3);

		for (k = 0; k < n; k++) {
			v[k] = uniform == 0 ? (double)(float)(k * 1.5) : uniform == 1 ? 1.0 / 3.0 * k
									 : any_value(k);
			q[k] = rng() % 5 == 0 ? QUALITY_BAD : QUALITY_GOOD;
		}
		len = codec_poll_pack(v, q, n, buf);
		assert_true(len <= CODEC_POLL_SIZE_MAX(n));
		assert_int_equal(codec_poll_unpack(buf, len, n, -1, back, qb), 0);
		for (k = 0; k < n; k++) {
			assert_int_equal(bits(back[k]), bits(v[k]));
			assert_int_equal(qb[k], q[k]);
		}
		/* one value alone, the others untouched */
		k = (unsigned)(rng() % n);
		memset(back, 0, sizeof(back));
		assert_int_equal(codec_poll_unpack(buf, len, n, (int)k, back, qb), 0);
		assert_int_equal(bits(back[k]), bits(v[k]));
		if (n > 1)
			assert_int_equal(bits(back[(k + 1) % n]), 0);
		/* a wrong length or count is refused */
		assert_int_equal(codec_poll_unpack(buf, len - 1, n, -1, back, qb), -1);
		assert_int_equal(codec_poll_unpack(buf, len, n + 1, -1, back, qb), -1);
	}
}

/* Float values take 4 bytes, a poll of float values 1 + 4n. */
static void test_poll_size(void **state)
{
	double v[36];
	uint8_t q[36] = { 0 }, buf[CODEC_POLL_SIZE_MAX(36)];

	(void)state;
	for (int k = 0; k < 36; k++)
		v[k] = (double)(float)(230.1 + k);
	assert_int_equal(codec_poll_pack(v, q, 36, buf), 1 + 4 * 36);
	/* no float holds 0.1, but it is 0.1f's shortest decimal: 4 bytes, and a
	 * bitmap saying which float32 is read as a decimal */
	v[3] = 0.1;
	q[5] = QUALITY_BAD;
	assert_int_equal(codec_poll_pack(v, q, 36, buf), 1 + 5 + 5 + 4 * 36);
	/* 1/3 is neither: 8 bytes, and the width bitmap */
	v[7] = 1.0 / 3.0;
	assert_int_equal(codec_poll_pack(v, q, 36, buf), 1 + 5 + 5 + 5 + 4 * 35 + 8);
	/* what a float32 meter gives, every value a decimal: no bitmap at all */
	memset(q, 0, sizeof(q));
	for (int k = 0; k < 36; k++)
		v[k] = util_f32_decimal((float)(230.1 + k * 0.3));
	assert_int_equal(codec_poll_pack(v, q, 36, buf), 1 + 4 * 36);
	assert_int_equal(buf[0], 16);
	{
		double back[36];
		uint8_t qb[36];

		assert_int_equal(codec_poll_unpack(buf, 1 + 4 * 36, 36, -1, back, qb), 0);
		for (int k = 0; k < 36; k++)
			assert_int_equal(bits(back[k]), bits(v[k]));
	}
}

/* A block of n polls a second apart, values zero, all good. */
static void regular_block(struct codec_block *b, size_t n, size_t ncol)
{
	b->n = n;
	b->ncol = ncol;
	b->t = calloc(n, sizeof(*b->t));
	b->seq = calloc(n, sizeof(*b->seq));
	b->v = calloc(n * ncol, sizeof(*b->v));
	b->q = calloc(n * ncol, 1);
	for (size_t i = 0; i < n; i++) {
		b->t[i] = 1796000000000000LL + (int64_t)i * 1000000;
		b->seq[i] = 1000 + (int64_t)i * 36 * 200;
	}
}

static void fill_block(struct codec_block *b, size_t n, size_t ncol, int kind)
{
	int64_t t = (int64_t)(rng() % 2000000000000000ULL), seq = (int64_t)(rng() % 1000000000);

	regular_block(b, n, ncol);
	for (size_t i = 0; i < n; i++) {
		/* regular, jittered, repeated, backwards and huge steps */
		switch (rng() % 8) {
		case 0:
			t += 0;
			break;
		case 1:
			t -= (int64_t)(rng() % 5000000);
			break;
		case 2:
			t += (int64_t)(rng() % 100000000000ULL);
			break;
		default:
			t += 1000000 + (int64_t)(rng() % 20000) - 10000;
		}
		seq += rng() % 10 == 0 ? (int64_t)(rng() % 100000) : (int64_t)ncol * 200;
		b->t[i] = t;
		b->seq[i] = seq;
		for (size_t c = 0; c < ncol; c++) {
			double prev = i > 0 ? b->v[(i - 1) * ncol + c] : 230.0;

			double next = prev + (double)(rng() % 2001) / 1000.0 - 1.0;

			b->v[i * ncol + c] =
			    kind == 0	? any_value((unsigned)c)
			    : kind == 1 ? (rng() % 3 ? prev : prev + 0.25)
			    : kind == 2 ? (double)(float)(prev + (double)(rng() % 64) / 64)
			    /* what a float32 meter's column holds: decimals, one
			     * now and then that is also an exact float, and in
			     * kind 4 a stray float widened (not its decimal) */
			    : kind == 4 && rng() % 97 == 0 ? (double)(float)0.1
							   : util_f32_decimal((float)next);
			b->q[i * ncol + c] = rng() % 17 == 0 ? QUALITY_BAD : QUALITY_GOOD;
		}
	}
	if (rng() % 4 == 0) {
		b->t[0] = INT64_MIN + 5;
		b->seq[0] = INT64_MAX - 3;
	}
}

static void free_block(struct codec_block *b)
{
	free(b->t);
	free(b->seq);
	free(b->v);
	free(b->q);
}

static void test_block_roundtrip(void **state)
{
	(void)state;
	for (int round = 0; round < 600; round++) {
		struct codec_block in, out, one;
		size_t n = 1 + (size_t)(rng() % 700), ncol = 1 + (size_t)(rng() % CODEC_POLL_MAX);
		size_t len, want;
		uint8_t *blob = NULL;

		fill_block(&in, n, ncol, round % 5);
		len = codec_block_encode(&in, &blob);
		memset(&out, 0, sizeof(out));
		assert_int_equal(codec_block_decode(blob, len, -1, &out), 0);
		assert_int_equal(out.n, n);
		assert_int_equal(out.ncol, ncol);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(out.t[i], in.t[i]);
			assert_int_equal(out.seq[i], in.seq[i]);
			for (size_t c = 0; c < ncol; c++) {
				assert_int_equal(bits(out.v[i * ncol + c]), bits(in.v[i * ncol + c]));
				assert_int_equal(out.q[i * ncol + c], in.q[i * ncol + c]);
			}
		}
		/* one column alone */
		want = (size_t)(rng() % ncol);
		memset(&one, 0, sizeof(one));
		assert_int_equal(codec_block_decode(blob, len, (int)want, &one), 0);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(bits(one.v[i * ncol + want]), bits(in.v[i * ncol + want]));
			assert_int_equal(one.q[i * ncol + want], in.q[i * ncol + want]);
		}
		/* some columns: those exactly, the others NaN and bad */
		{
			uint64_t mask = rng() | ((uint64_t)rng() << 32);

			assert_int_equal(codec_block_decode_mask(blob, len, mask, &one), 0);
			for (size_t i = 0; i < n; i++)
				for (size_t c = 0; c < ncol; c++) {
					bool on = (mask >> c) & 1;

					if (on) {
						assert_int_equal(bits(one.v[i * ncol + c]),
								 bits(in.v[i * ncol + c]));
						assert_int_equal(one.q[i * ncol + c], in.q[i * ncol + c]);
					} else {
						assert_true(isnan(one.v[i * ncol + c]));
						assert_int_equal(one.q[i * ncol + c], QUALITY_BAD);
					}
				}
		}
		/* cut short: refused, never read past the end (ASan watches) */
		for (size_t cut = 0; cut < len; cut += 1 + len / 13) {
			uint8_t *copy = malloc(cut + 1);

			memcpy(copy, blob, cut);
			assert_int_equal(codec_block_decode(copy, cut, -1, &one), -1);
			free(copy);
		}
		codec_block_free(&out);
		codec_block_free(&one);
		free_block(&in);
		free(blob);
	}
}


/*
 * A three-phase meter's poll as a float32 meter gives it: V, I, PF with
 * noise, S, P, Q, the totals, line voltages and PF total computed from
 * them (each rounded to a float, some a unit of the last place off, as a
 * meter's own arithmetic is), energy counters as doubles; the shape in a
 * random order with a column of something else.
 */
static const uint8_t phys_qty[] = {
	QTY_V_L1N, QTY_V_L2N, QTY_V_L3N, QTY_V_L12, QTY_V_L23, QTY_V_L31, QTY_I_L1,
	QTY_I_L2, QTY_I_L3, QTY_S_L1, QTY_S_L2, QTY_S_L3, QTY_P_L1, QTY_P_L2,
	QTY_P_L3, QTY_Q_L1, QTY_Q_L2, QTY_Q_L3, QTY_PF_L1, QTY_PF_L2, QTY_PF_L3,
	QTY_S_TOTAL, QTY_P_TOTAL, QTY_Q_TOTAL, QTY_PF_TOTAL, QTY_FREQ, QTY_E_IMP_L1,
	QTY_E_IMP_L2, QTY_E_IMP_L3, QTY_E_IMP, QTY_THD_V_L1, QTY_THD_V_L2,
};

static double noise(double amp)
{
	return amp * ((double)(rng() % 20001) / 10000.0 - 1.0);
}

static float ulp_off(double x)
{
	float f = (float)x;

	return rng() % 4 == 0 ? nextafterf(f, rng() % 2 ? INFINITY : -INFINITY) : f;
}

static void phys_block(struct codec_block *b, uint8_t *qty, size_t n, bool oddities)
{
	size_t ncol = UTIL_ARRAY_LEN(phys_qty), perm[UTIL_ARRAY_LEN(phys_qty)];
	double e[3] = { 1.2e6, 2.3e6, 3.1e5 }, v[3] = { 230, 231, 229 }, i3[3] = { 10, 12, 8 };
	double thd = 2.5;

	regular_block(b, n, ncol);
	for (size_t c = 0; c < ncol; c++)
		perm[c] = c;
	for (size_t c = ncol - 1; c > 0; c--) {
		size_t j = (size_t)(rng() % (c + 1)), t = perm[c];

		perm[c] = perm[j];
		perm[j] = t;
	}
	for (size_t c = 0; c < ncol; c++)
		qty[perm[c]] = phys_qty[c];
	for (size_t r = 0; r < n; r++) {
		float f[32];
		double x[UTIL_ARRAY_LEN(phys_qty)], pt = 0, st = 0, qt = 0;

		for (int k = 0; k < 3; k++) {
			double s, p, pf;

			v[k] += noise(0.2);
			i3[k] = fabs(i3[k] + noise(0.3));
			f[k] = (float)v[k];
			f[6 + k] = (float)i3[k];
			pf = 0.85 + noise(0.05);
			f[18 + k] = (float)pf;
			s = (double)f[k] * f[6 + k];
			f[9 + k] = ulp_off(s);
			p = (double)f[9 + k] * f[18 + k];
			f[12 + k] = ulp_off(p);
			f[15 + k] = ulp_off(sqrt(fmax((double)f[9 + k] * f[9 + k] -
						      (double)f[12 + k] * f[12 + k], 0)));
			st += f[9 + k];
			pt += f[12 + k];
			qt += f[15 + k];
			e[k] += p / 3600.0;
		}
		for (int k = 0; k < 3; k++) {
			double a = f[k], c = f[(k + 1) % 3];

			f[3 + k] = ulp_off(sqrt(a * a + c * c + a * c));
		}
		f[21] = ulp_off(st);
		f[22] = ulp_off(pt);
		f[23] = ulp_off(qt);
		f[24] = ulp_off((double)f[22] / f[21]);
		f[25] = (float)(50 + noise(0.02));
		for (int k = 0; k < 25 + 1; k++)
			x[k] = util_f32_decimal(f[k]);
		for (int k = 0; k < 3; k++)
			x[26 + k] = e[k];
		x[29] = e[0] + e[1] + e[2];
		/* the grid's distortion on two phases: one moves as the other */
		thd = fabs(thd + noise(0.05));
		x[30] = util_f32_decimal((float)thd);
		x[31] = util_f32_decimal(ulp_off((double)(float)x[30] * 1.13));
		for (size_t c = 0; c < ncol; c++)
			b->v[r * ncol + perm[c]] = x[c];
		if (oddities && rng() % 11 == 0) {
			/* what no relation predicts: NaN, infinities, denormals,
			 * -0.0, zero, huge, in the operands and the results */
			static const uint64_t odd[] = {
				0x7ff8000000000123ULL, 0xfff0000000000000ULL, 0x8000000000000000ULL,
				0x0000000000000001ULL, 0x7fefffffffffffffULL, 0,
				0x7ff4000000000000ULL, 0x36a0000000000000ULL,
			};
			size_t c = (size_t)(rng() % ncol);

			memcpy(&b->v[r * ncol + c], &odd[rng() % UTIL_ARRAY_LEN(odd)], 8);
		}
		for (size_t c = 0; c < ncol; c++)
			b->q[r * ncol + c] = oddities && rng() % 23 == 0 ? QUALITY_BAD : QUALITY_GOOD;
	}
}

static void assert_block_equal(const struct codec_block *a, const struct codec_block *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->ncol, b->ncol);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->t[i], b->t[i]);
		assert_int_equal(a->seq[i], b->seq[i]);
		for (size_t c = 0; c < a->ncol; c++) {
			assert_int_equal(bits(a->v[i * a->ncol + c]), bits(b->v[i * b->ncol + c]));
			assert_int_equal(a->q[i * a->ncol + c], b->q[i * b->ncol + c]);
		}
	}
}

/* Columns predicted from others: exact alone, with the others, and damaged. */
static void test_block_relations(void **state)
{
	(void)state;
	for (int round = 0; round < 200; round++) {
		struct codec_block in, out = { 0 }, one = { 0 };
		uint8_t qty[UTIL_ARRAY_LEN(phys_qty)], *blob = NULL, *plain = NULL;
		size_t n = 1 + (size_t)(rng() % 400), len, plen, ncol = UTIL_ARRAY_LEN(phys_qty);
		bool odd = round % 2 == 1;

		phys_block(&in, qty, n, odd);
		len = codec_block_encode_qty(&in, qty, &blob);
		plen = codec_block_encode(&in, &plain);
		assert_int_equal(codec_block_decode(blob, len, -1, &out), 0);
		assert_block_equal(&in, &out);
		/* a clean block of a few minutes: the relations pay */
		if (!odd && n >= 100)
			assert_true(len * 10 < plen * 7);
		/* each column alone: exact, every other NaN and bad */
		for (size_t want = 0; want < ncol; want++) {
			assert_int_equal(codec_block_decode(blob, len, (int)want, &one), 0);
			for (size_t i = 0; i < n; i++)
				for (size_t c = 0; c < ncol; c++) {
					double got = one.v[i * ncol + c];

					if (c == want) {
						assert_int_equal(bits(got), bits(in.v[i * ncol + c]));
						assert_int_equal(one.q[i * ncol + c],
								 in.q[i * ncol + c]);
					} else {
						assert_true(isnan(got));
						assert_int_equal(one.q[i * ncol + c], QUALITY_BAD);
					}
				}
		}
		/* flipped bits and cut ends: refused or decoded, never outside */
		for (int k = 0; k < 40; k++) {
			uint8_t *copy = malloc(len);
			size_t cut = k % 4 == 0 ? (size_t)(rng() % len) : len;

			memcpy(copy, blob, len);
			copy[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
			(void)codec_block_decode_mask(copy, cut, rng(), &one);
			free(copy);
		}
		codec_block_free(&out);
		codec_block_free(&one);
		free_block(&in);
		free(blob);
		free(plain);
	}
}

/* MSB-first bits, as the codec writes them, to build a blob by hand. */
struct hbits {
	uint8_t b[64];
	size_t n;
};

static void hput(struct hbits *h, uint64_t v, unsigned w)
{
	while (w-- > 0) {
		if ((v >> w) & 1)
			h->b[h->n / 8] |= (uint8_t)(0x80 >> (h->n % 8));
		h->n++;
	}
}

/* zigzagged z < 128 in the codec's 9-bit bucket */
static void hint(struct hbits *h, int64_t d)
{
	uint64_t z = d < 0 ? ((uint64_t)-d << 1) - 1 : (uint64_t)d << 1;

	if (z == 0) {
		hput(h, 0, 1);
	} else {
		hput(h, 2, 2);
		hput(h, z, 7);
	}
}

/* A column predicted from itself through another is refused, as is one from itself. */
static void test_block_relation_cycle(void **state)
{
	(void)state;
	for (int variant = 0; variant < 3; variant++) {
		struct hbits col[2] = { 0 };
		uint8_t blob[128];
		size_t len = 0, tlen = 16;
		struct codec_block b = { 0 };

		for (int c = 0; c < 2; c++) {
			int64_t other = variant == 2 ? c : 1 - c;

			hint(&col[c], -(3 + 1)); /* residuals, float32 */
			/* variant 0: 0 <- 1 <- 0; 1: 0 <- 1, 1 from its past (fine) */
			hint(&col[c], variant == 1 && c == 1 ? 0 : 2);
			if (!(variant == 1 && c == 1)) {
				hint(&col[c], other);
				hint(&col[c], other);
			}
			hint(&col[c], 0);  /* no bad sample */
			hput(&col[c], 0, 6); /* k */
			hput(&col[c], 0, 1); /* one residual 0 */
		}
		blob[len++] = 1; /* polls */
		blob[len++] = 2; /* columns */
		blob[len++] = (uint8_t)tlen;
		blob[len++] = (uint8_t)((col[0].n + 7) / 8);
		blob[len++] = (uint8_t)((col[1].n + 7) / 8);
		memset(blob + len, 0, tlen);
		len += tlen;
		for (int c = 0; c < 2; c++) {
			memcpy(blob + len, col[c].b, (col[c].n + 7) / 8);
			len += (col[c].n + 7) / 8;
		}
		assert_int_equal(codec_block_decode(blob, len, -1, &b), variant == 1 ? 0 : -1);
		if (variant == 1) {
			/* 1 from +0.0 (its past); 0 = 0 x 0 */
			assert_int_equal(bits(b.v[1]), 0);
			assert_int_equal(bits(b.v[0]), 0);
		}
		codec_block_free(&b);
	}
}

/* Random bytes: refused or decoded, never a crash or a read outside. */
static void test_block_garbage(void **state)
{
	struct codec_block b;

	(void)state;
	memset(&b, 0, sizeof(b));
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rng() % 200);
		uint8_t *buf = malloc(len + 1);

		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng();
		if (len > 2 && round % 2 == 0) {
			buf[0] = (uint8_t)(1 + rng() % 20); /* plausible counts */
			buf[1] = (uint8_t)(1 + rng() % 4);
		}
		(void)codec_block_decode(buf, len, (int)(rng() % 5) - 1, &b);
		free(buf);
	}
	codec_block_free(&b);
}

/* A meter's second-by-second floats: the block is a few bytes a value. */
static void test_block_density(void **state)
{
	struct codec_block b;
	uint8_t *blob = NULL;
	size_t n = 300, ncol = 36, len;

	(void)state;
	regular_block(&b, n, ncol);
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < ncol; c++)
			b.v[i * ncol + c] = c % 2 ? 50.0 : (double)(float)(230.0 + (double)(i % 7) / 8);
	}
	len = codec_block_encode(&b, &blob);
	assert_true(len < n * ncol / 2); /* under half a byte a sample here */
	free(blob);
	free_block(&b);
}

/*
 * A block as the encoder wrote it before float32 columns (2026-12-07): a
 * decimal, a float and a double column all stored as doubles, two bad
 * samples. It decodes as it always did.
 */
static void test_block_old_format(void **state)
{
	static const uint8_t old[] = {
		0x04, 0x03, 0x1e, 0x23, 0x0b, 0x24, 0x00, 0x06, 0x0a, 0x24, 0x18, 0x1e, 0x40, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00,
		0xf4, 0x24, 0x04, 0x1b, 0x1e, 0xcc, 0xf5, 0x80, 0x60, 0xff, 0x01, 0xb3, 0x0c, 0xcc,
		0xcc, 0xcc, 0xcc, 0xce, 0x00, 0x00, 0x0a, 0xaa, 0xaa, 0xaa, 0xaa, 0xab, 0x00, 0x00,
		0x0e, 0x66, 0x66, 0x66, 0x66, 0x66, 0x80, 0x00, 0x3a, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x80, 0x81, 0x40, 0xb0, 0x89, 0xff, 0xe6, 0x03, 0xcb, 0x07, 0x96, 0x16, 0x81, 0x41,
		0xb0, 0xbe, 0xff, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x56, 0x00, 0xc0, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x02, 0x00, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x56, 0x00, 0x15,
		0x55, 0x55, 0x55, 0x55, 0x55, 0x54,
	};
	static const double want[12] = { 230.1, 0.5,  1.0 / 3.0, 230.2, 0.75, 2.0 / 3.0,
					  230.25, 1.5, 1.0,	  229.9, 0.5,  4.0 / 3.0 };
	static const uint8_t wantq[12] = { 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1 };
	struct codec_block b = { 0 }, again = { 0 };
	uint8_t *blob = NULL;
	size_t len;

	(void)state;
	assert_int_equal(codec_block_decode(old, sizeof(old), -1, &b), 0);
	assert_int_equal(b.n, 4);
	assert_int_equal(b.ncol, 3);
	assert_true(b.t[2] == 1700000002000123LL && b.seq[3] == 109);
	for (int k = 0; k < 12; k++) {
		assert_int_equal(bits(b.v[k]), bits(want[k]));
		assert_int_equal(b.q[k], wantq[k]);
	}
	/* written again: the decimal and the float columns now in 32 bits */
	len = codec_block_encode(&b, &blob);
	assert_true(len < sizeof(old));
	assert_int_equal(codec_block_decode(blob, len, -1, &again), 0);
	for (int k = 0; k < 12; k++)
		assert_int_equal(bits(again.v[k]), bits(want[k]));
	free(blob);
	codec_block_free(&b);
	codec_block_free(&again);
}

/* A float32 meter's column (its decimals) costs about half what the same
 * values XORed as doubles did: the doubles' 52-bit mantissas differ all
 * the way down. */
static void test_block_decimal_density(void **state)
{
	struct codec_block b;
	uint8_t *blob = NULL;
	size_t n = 300, ncol = 32, len;
	double v = 230.0;

	(void)state;
	regular_block(&b, n, ncol);
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < ncol; c++) {
			v += (double)(rng() % 2001) / 10000.0 - 0.1; /* noise in the low digits */
			b.v[i * ncol + c] = util_f32_decimal((float)(v + (double)c));
		}
	}
	len = codec_block_encode(&b, &blob);
	/* 32-bit XORs of noisy float32s: under 3.5 bytes a sample (as doubles,
	 * 6 to 7) */
	assert_true(len < n * ncol * 7 / 2);
	{
		struct codec_block back = { 0 };

		assert_int_equal(codec_block_decode(blob, len, -1, &back), 0);
		for (size_t k = 0; k < n * ncol; k++)
			assert_int_equal(bits(back.v[k]), bits(b.v[k]));
		codec_block_free(&back);
	}
	free(blob);
	free_block(&b);
}

static uint64_t bits64(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

/* Every field of a decoded minute (or window) equals the one encoded. */
static void assert_minute_equal(const struct codec_minute *d, const struct codec_minute *w)
{
	assert_int_equal(d->n, w->n);
	assert_int_equal(d->good, w->good);
	if (w->good == 0)
		return;
	assert_int_equal(bits64(d->min), bits64(w->min));
	assert_int_equal(bits64(d->max), bits64(w->max));
	assert_int_equal(bits64(d->first), bits64(w->first));
	assert_int_equal(bits64(d->last), bits64(w->last));
	assert_int_equal(bits64(d->sum), bits64(w->sum));
	assert_int_equal(bits64(d->rise), bits64(w->rise));
	assert_int_equal(d->first_us, w->first_us);
	assert_int_equal(d->last_us, w->last_us);
}

/*
 * Rollup entries come back bit for bit (float32 and float64 values, NaN
 * free, negative zero, a rise or none, bad-only minutes), one quantity
 * alone or all; a minute's aggregates follow the samples (a reset's drop
 * not counted as a rise); every truncation or flipped byte of a blob is
 * refused or decoded within its bounds.
 */
/* A minute of float32 decimals keeps them as floats: fewer bytes, exact. */
static void test_rollup_decimals(void **state)
{
	struct codec_rollup_entry e[2][5], d[5];
	int64_t w0 = 1788739200LL * 1000000;
	size_t len[2];

	(void)state;
	memset(e, 0, sizeof(e));
	for (int kind = 0; kind < 2; kind++)
		for (unsigned m = 0; m < 5; m++) {
			int64_t t0 = w0 + (int64_t)m * CODEC_MINUTE_US;

			e[kind][m].qty = QTY_V_L1N;
			e[kind][m].minute = (uint8_t)m;
			for (int k = 0; k < 60; k++) {
				double x = util_f32_decimal((float)(230.0 + 0.37 * sin(k + m)));

				/* kind 1: the same, a hair off any decimal */
				codec_minute_add(&e[kind][m].m, t0 + k * 1000000LL,
						 kind == 1 ? nextafter(x, 1e9) : x, 1);
			}
		}
	for (int kind = 0; kind < 2; kind++) {
		uint8_t *blob = NULL;

		len[kind] = codec_rollup_encode(e[kind], 5, w0, &blob);
		assert_int_equal(codec_rollup_decode(blob, len[kind], w0, -1, d, 5), 5);
		for (unsigned m = 0; m < 5; m++)
			assert_minute_equal(&d[m].m, &e[kind][m].m);
		free(blob);
	}
	/* 15 bytes a minute before deflating; at least 4 after */
	assert_true(len[0] + 5 * 4 <= len[1]);
}

static void test_rollup_roundtrip(void **state)
{
	struct codec_rollup_entry e[12], d[20];
	int64_t w0 = 1788739200LL * 1000000;
	uint8_t *blob = NULL;
	size_t len, n = 0;

	(void)state;
	memset(e, 0, sizeof(e));
	for (unsigned q = 0; q < 3; q++)
		for (unsigned m = 0; m < 5; m += 1 + q) {
			struct codec_minute *x = &e[n].m;
			int64_t t0 = w0 + (int64_t)m * CODEC_MINUTE_US;

			e[n].qty = (uint8_t)(q * 7 + 1);
			e[n].minute = (uint8_t)m;
			if (q == 2 && m == 3) {
				x->n = 4; /* every sample bad */
			} else {
				codec_minute_add(x, t0 + 5, 230.25 + q, 1);
				codec_minute_add(x, t0 + 1000000, q == 1 ? -0.0 : 1.0 / 3.0, 1);
				codec_minute_add(x, t0 + 2000000, NAN, 1);
				codec_minute_add(x, t0 + 3000000, 99.0, 0);
				codec_minute_add(x, t0 + 59999999, 1e300, 1);
			}
			n++;
		}
	assert_int_equal(n, 10);
	assert_int_equal(e[0].m.n, 5);
	assert_int_equal(e[0].m.good, 3);
	assert_true(e[0].m.min == 1.0 / 3.0 && e[0].m.max == 1e300);
	assert_true(e[0].m.first == 230.25 && e[0].m.last == 1e300);
	/* 230.25 -> 1/3 is a reset (not counted), 1/3 -> 1e300 a rise */
	assert_true(e[0].m.rise == 1e300 - 1.0 / 3.0);
	len = codec_rollup_encode(e, n, w0, &blob);
	assert_int_equal(codec_rollup_decode(blob, len, w0, -1, d, 20), (int)n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(d[i].qty, e[i].qty);
		assert_int_equal(d[i].minute, e[i].minute);
		assert_minute_equal(&d[i].m, &e[i].m);
	}
	/* one quantity: its minutes only */
	assert_int_equal(codec_rollup_decode(blob, len, w0, 8, d, 20), 3);
	assert_int_equal(d[0].qty, 8);
	assert_int_equal(d[2].minute, 4);
	assert_int_equal(codec_rollup_decode(blob, len, w0, 2, d, 20), 0);
	/* too little room */
	assert_int_equal(codec_rollup_decode(blob, len, w0, -1, d, 3), -1);
	/* damage */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(codec_rollup_decode(blob, cut, w0, -1, d, 20), -1);
	for (size_t k = 0; k < len; k++) {
		uint8_t keep = blob[k];

		blob[k] ^= 0xa5;
		assert_true(codec_rollup_decode(blob, len, w0, -1, d, 20) <= 20);
		blob[k] = keep;
	}
	free(blob);
}

/*
 * An hour of windows comes back bit for bit (windows absent, bad-only,
 * a sample at a window's last microsecond), and every truncation or
 * flipped byte is refused or decoded within its twelve windows.
 */
static void test_hour_roundtrip(void **state)
{
	struct codec_minute w[CODEC_HOUR_SLOTS], d[CODEC_HOUR_SLOTS];
	int64_t h0 = 1788739200LL * 1000000;
	uint8_t *blob = NULL;
	size_t len;

	(void)state;
	memset(w, 0, sizeof(w));
	for (unsigned k = 0; k < CODEC_HOUR_SLOTS; k += 1 + k % 3) {
		int64_t t0 = h0 + (int64_t)k * CODEC_WINDOW_US;

		if (k == 4) {
			w[k].n = 30; /* every sample bad */
			continue;
		}
		codec_minute_add(&w[k], t0 + 1, 1000.0 + k, 1);
		codec_minute_add(&w[k], t0 + 150000000, k == 3 ? -0.0 : 1000.5 + k, 1);
		codec_minute_add(&w[k], t0 + CODEC_WINDOW_US - 1, 1001.25 + k, 1);
	}
	len = codec_hour_encode(w, h0, &blob);
	assert_int_equal(codec_hour_decode(blob, len, h0, d), 0);
	for (unsigned k = 0; k < CODEC_HOUR_SLOTS; k++) {
		assert_minute_equal(&d[k], &w[k]);
	}
	assert_int_equal(d[10].last_us, h0 + 11 * CODEC_WINDOW_US - 1);
	assert_int_equal(d[11].n, 0);
	assert_int_equal(d[2].n, 0);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(codec_hour_decode(blob, cut, h0, d), -1);
	for (size_t k = 0; k < len; k++) {
		uint8_t keep = blob[k];

		blob[k] ^= 0x5a;
		if (codec_hour_decode(blob, len, h0, d) == 0)
			for (unsigned j = 0; j < CODEC_HOUR_SLOTS; j++)
				assert_true(d[j].good == 0 ||
					    (d[j].first_us >= h0 + (int64_t)j * CODEC_WINDOW_US &&
					     d[j].last_us < h0 + (int64_t)(j + 1) * CODEC_WINDOW_US));
		blob[k] = keep;
	}
	free(blob);
	/* a full hour of a voltage's windows is deflated (marker 1 << 15) */
	memset(w, 0, sizeof(w));
	for (unsigned k = 0; k < CODEC_HOUR_SLOTS; k++)
		for (int i = 0; i < 300; i++)
			codec_minute_add(&w[k], h0 + (int64_t)k * CODEC_WINDOW_US + i * 1000000LL + 17,
					 util_f32_decimal((float)(230 + 0.3 * sin(i * 0.1 + k))), 1);
	len = codec_hour_encode(w, h0, &blob);
	assert_true(len > 3);
	assert_int_equal(blob[0], 0x80); /* varint 1 << 15 */
	assert_int_equal(blob[1], 0x80);
	assert_int_equal(blob[2], 0x02);
	assert_int_equal(codec_hour_decode(blob, len, h0, d), 0);
	for (unsigned k = 0; k < CODEC_HOUR_SLOTS; k++) {
		assert_int_equal(d[k].n, 300);
		assert_minute_equal(&d[k], &w[k]);
	}
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(codec_hour_decode(blob, cut, h0, d), -1);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_roundtrip),  cmocka_unit_test(test_poll_size),
		cmocka_unit_test(test_block_roundtrip), cmocka_unit_test(test_block_garbage),
		cmocka_unit_test(test_block_density),   cmocka_unit_test(test_rollup_roundtrip),
		cmocka_unit_test(test_hour_roundtrip), cmocka_unit_test(test_block_old_format),
		cmocka_unit_test(test_block_decimal_density),
		cmocka_unit_test(test_block_relations), cmocka_unit_test(test_rollup_decimals),
		cmocka_unit_test(test_block_relation_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
