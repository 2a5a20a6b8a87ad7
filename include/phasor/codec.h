/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_CODEC_H
#define PHASOR_CODEC_H
/*
 * codec: the two packed forms of samples in the buffer (docs/buffer.md,
 * "Samples: polls and blocks"). Pure: no I/O, no SQLite.
 *
 * - A poll: the values of one read of one meter (one time), in the order
 *   of its shape (the list of quantity ids, kept elsewhere). A flags byte
 *   (1: some value is bad, a quality bitmap follows; 2: widths mixed, a
 *   width bitmap follows, 1 = float64; 4: every value float64; 8: a
 *   decimal bitmap follows, 1 = this float32 is read as its shortest
 *   decimal; 16: every float32 is), then the values little-endian: float32
 *   where the double goes through a float bit for bit (decided on the bits:
 *   NaN payloads, -0.0 and denormals decide themselves), or where it is a
 *   float32's shortest decimal (util_f32_decimal: what a float32 register
 *   or a JSON number of up to 6 digits gives), else float64.
 * - A block: the polls of one meter, one shape, one session in one closed
 *   window, Gorilla-style: varints (polls, columns, each stream's byte
 *   length), then the time-and-seq stream (first t_us and seq raw, then
 *   delta-of-delta, zigzag, in buckets of 0, 7, 10, 14, 20 or 64 bits) and
 *   one stream per column (the count of bad samples and the gaps between
 *   them, then the values XORed with the previous one: as doubles, or, when
 *   every value of the column is a float32 or every one a float32's
 *   shortest decimal, as those floats' 32 bits, said by a negative number
 *   (-1, -2) before the count; a stream without it is of doubles, as
 *   blocks were written before 2026-12-07). Since 2026-12-07 a column may
 *   instead hold residuals: -(3 + mode) (3 doubles, 4 floats, 5 decimals),
 *   the predictor (0 the previous value, 1 the line through the two
 *   previous ones, 2-6 a relation with other columns of the poll: 2 a x b,
 *   3 a / b, 4 sqrt(a^2 - b^2), 5 sqrt(a^2 + b^2 + ab), 6 a + b + c) and
 *   its columns' indexes, the bad count and gaps, the Rice parameter k in
 *   6 bits, then per value the zigzagged difference of the value's and
 *   the prediction's order-keeping integers (a quotient of 24 or more:
 *   24 one bits and the difference raw). The writer keeps, per column, the
 *   cheapest of these and the XOR. Streams are
 *   byte-aligned and listed in the header, so a reader decodes the time
 *   stream and only the columns it needs.
 *
 * Every value comes back bit for bit, quality as stored. The decoders
 * check what they read against the blob's length: a damaged blob gives -1,
 * never a read outside it.
 */
#include <stddef.h>
#include <stdint.h>

#define CODEC_POLL_MAX 64 /* values in one poll (and columns in one block) */

/* Bytes pack may write for n values, at most. */
#define CODEC_POLL_SIZE_MAX(n) (1 + 3 * (((size_t)(n) + 7) / 8) + 8 * (size_t)(n))

/* Pack n (1..CODEC_POLL_MAX) values and qualities into out; its length. */
size_t codec_poll_pack(const double *v, const uint8_t *q, unsigned n, uint8_t *out);
/*
 * Unpack a poll of n values: all of them (want < 0) or only value want
 * (the others untouched). 0, or -1 when len does not match n.
 */
int codec_poll_unpack(const uint8_t *in, size_t len, unsigned n, int want, double *v,
		      uint8_t *q);

/* A block in memory: n polls of ncol values, v and q row-major (n x ncol). */
struct codec_block {
	size_t n, ncol;
	int64_t *t, *seq; /* each poll's time and the seq of its first sample */
	double *v;
	uint8_t *q;
};

/* Encode b (n >= 1, ncol 1..CODEC_POLL_MAX) into *out (malloc'd); its length. */
size_t codec_block_encode(const struct codec_block *b, uint8_t **out);
/*
 * The same, knowing the quantity of each column (qty[0..ncol), enum
 * qty_id): the columns a relation between quantities predicts better than
 * their past (S = V I, ...) are stored as residuals from it.
 */
size_t codec_block_encode_qty(const struct codec_block *b, const uint8_t *qty, uint8_t **out);
/*
 * Decode into b (its arrays reallocated here; start from a zeroed block):
 * the times and seqs, and every column (want < 0) or only column want
 * (the others' values NaN and quality bad). 0, or -1 for a damaged blob.
 */
int codec_block_decode(const uint8_t *in, size_t len, int want, struct codec_block *b);
/* The same with the columns of mask (bit c: column c) decoded, the others not. */
int codec_block_decode_mask(const uint8_t *in, size_t len, uint64_t mask, struct codec_block *b);
void codec_block_free(struct codec_block *b);

/*
 * Rollups: one row per block (docs/buffer.md, "Rollups"), each minute of
 * each quantity of the block's polls aggregated. A minute is aligned on the
 * epoch (t_us / CODEC_MINUTE_US); a 5-minute window holds five.
 */
#define CODEC_MINUTE_US 60000000LL
/* Counter drops follow utility_counter_rise() (utility.h): larger than
 * UTILITY_RESET_FRACTION of the value, a reset or a restart of the meter,
 * bridged, nothing counted across it. */

struct codec_minute {
	uint32_t n, good;          /* samples; good ones (quality good, finite value) */
	double min, max, sum;      /* of the good values (sum / good is the mean) */
	double first, last;        /* the first and last good value ... */
	int64_t first_us, last_us; /* ... and their times */
	double rise;               /* the rises from one good value to the next (counters) */
};

/* The rise of a counter from a to b: b - a, or 0 for a reset. */
double codec_rise(double a, double b);
/* One sample into m (zeroed to start), in time order; good: its quality is good. */
void codec_minute_add(struct codec_minute *m, int64_t t_us, double v, int good);
/*
 * b's samples into a, both of one minute and quantity: counts, min, max
 * and sum exactly; first, last and the rise in the order of their times
 * (the bridge between them counted when one ends before the other begins).
 */
void codec_minute_merge(struct codec_minute *a, const struct codec_minute *b);

struct codec_rollup_entry {
	uint8_t qty;    /* enum qty_id */
	uint8_t minute; /* 0..4: the minute of the window */
	struct codec_minute m;
};
#define CODEC_ROLLUP_MAX (5 * 256) /* entries one rollup may hold */

/*
 * Encode n entries (sorted by qty, then minute; n >= 1) of the window that
 * starts at w0_us into *out (malloc'd); its length. A directory (varint
 * count, then per quantity its id and its section's byte length) so that a
 * reader decodes one quantity only, then per quantity a section: a mask of
 * its minutes (bit m: minute m), and per minute varints n and good, then
 * when good: a flags byte (bits 0-5: min, max, first, last, sum, rise
 * stored as float64, else float32 bit for bit; bit 6: rise present, else
 * 0; bit 7: a second byte follows, its bits 0-3 saying which of min, max,
 * first and last are float32s read back as their shortest decimal, since
 * 2026-12-07), the values, and the first and last times as varint
 * microseconds after the minute's start.
 */
size_t codec_rollup_encode(const struct codec_rollup_entry *e, size_t n, int64_t w0_us,
			   uint8_t **out);
/*
 * Decode into e (room for max): every entry (qty < 0) or those of one
 * quantity. The count, or -1 for a damaged blob or more than max.
 */
int codec_rollup_decode(const uint8_t *in, size_t len, int64_t w0_us, int qty,
			struct codec_rollup_entry *e, size_t max);

/*
 * Hours of windows (docs/buffer.md, "Windows"): one quantity of one meter
 * over an hour (h0_us aligned on CODEC_HOUR_US), its twelve 5-minute
 * windows (CODEC_WINDOW_US, aligned as the blocks) aggregated as minutes
 * are. Encoded as a varint mask of the windows present (w[k].n > 0), then
 * each as a rollup's minute (its first and last times after the window's
 * start). Deflated when shorter (since 2026-12-07): the mask 1 << 15 (no
 * hour has a window 15), the raw length, the zlib stream; a rollup
 * likewise, with 0 (no quantity) for its count.
 */
#define CODEC_WINDOW_US 300000000LL
#define CODEC_HOUR_US 3600000000LL
#define CODEC_HOUR_SLOTS 12
size_t codec_hour_encode(const struct codec_minute w[CODEC_HOUR_SLOTS], int64_t h0_us,
			 uint8_t **out);
/* Into w (absent windows zeroed): 0, or -1 for a damaged blob. */
int codec_hour_decode(const uint8_t *in, size_t len, int64_t h0_us,
		      struct codec_minute w[CODEC_HOUR_SLOTS]);

#endif
