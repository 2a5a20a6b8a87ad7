// SPDX-License-Identifier: MIT
/*
 * fuzz_codec: the buffer's packed forms (src/store/codec.c) as a damaged or
 * hostile file would hold them: a block blob (its columns chosen by the
 * first 8 bytes as a mask), a rollup and an hour of windows. A damaged blob
 * is refused (-1), never read outside; a block that decodes is encoded
 * again and must decode to the same bits, and its columns decoded in part
 * must equal the same columns decoded with all the others.
 */
#include "phasor/codec.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static uint64_t bits(double d)
{
	uint64_t b;

	memcpy(&b, &d, sizeof(b));
	return b;
}

static void check_block(const uint8_t *data, size_t size, uint64_t mask)
{
	struct codec_block all = { 0 }, some = { 0 }, again = { 0 };
	uint8_t *blob = NULL;
	size_t len;

	if (codec_block_decode(data, size, -1, &all) == 0) {
		/* the whole decodes: any part must, to the same bits */
		if (codec_block_decode_mask(data, size, mask, &some) != 0)
			abort();
		for (size_t i = 0; i < all.n; i++)
			for (size_t c = 0; c < all.ncol && c < 64; c++)
				if (((mask >> c) & 1) &&
				    (bits(all.v[i * all.ncol + c]) != bits(some.v[i * all.ncol + c]) ||
				     all.q[i * all.ncol + c] != some.q[i * all.ncol + c]))
					abort();
		len = codec_block_encode(&all, &blob);
		if (codec_block_decode(blob, len, -1, &again) != 0 || again.n != all.n)
			abort();
		for (size_t i = 0; i < all.n; i++) {
			if (again.t[i] != all.t[i] || again.seq[i] != all.seq[i])
				abort();
			for (size_t c = 0; c < all.ncol; c++)
				if (bits(again.v[i * all.ncol + c]) != bits(all.v[i * all.ncol + c]) ||
				    again.q[i * all.ncol + c] != all.q[i * all.ncol + c])
					abort();
		}
		free(blob);
	}
	codec_block_free(&all);
	codec_block_free(&some);
	codec_block_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct codec_rollup_entry e[64];
	struct codec_minute w[CODEC_HOUR_SLOTS];
	uint64_t mask = ~(uint64_t)0;

	if (size >= 8) {
		memcpy(&mask, data, sizeof(mask));
		check_block(data + 8, size - 8, mask);
	}
	check_block(data, size, ~(uint64_t)0);
	(void)codec_rollup_decode(data, size, INT64_C(1796000000000000), -1, e, 64);
	(void)codec_rollup_decode(data, size, INT64_C(1796000000000000), 3, e, 64);
	(void)codec_hour_decode(data, size, INT64_C(1796000000000000), w);
	return 0;
}
