// SPDX-License-Identifier: MIT
/*
 * bench_replay: the replay feed and the what-if on a buffer made by
 * gen_buffer (issue 12 item 7). Prints markdown table rows.
 *
 *   bench_replay DB SEEKS
 *
 * - seek: the state at SEEKS instants spread over the recording (each one a
 *   rebuild: the last hour of the plotted series, every quantity of the
 *   last two minutes, comm states, the journal), through the same
 *   functions `phasor replay` runs before it draws; wall time each (the
 *   frame's drawing is not included: 2-5 ms at 120x40, docs/performance.md).
 * - play at 3600x: ticks of 250 ms of wall time each, the process's CPU
 *   time per tick against the tick, and how far the cursor got against how
 *   far 3600x asks (the feed reads at most 200,000 samples a tick).
 * - what-if: the recording's configuration evaluated on the last 6 hours
 *   against a plain scan of the same samples (store_reader_raw_window, every
 *   quantity: what any reader of them pays), alternately, 3 rounds, the
 *   ratio within each round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/config.h"
#include "phasor/plant.h"
#include "phasor/replay.h"
#include "phasor/store.h"
#include "phasor/util.h"
#include "phasor/whatif.h"

static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int count_row(void *ctx, const struct store_raw_row *r)
{
	(void)r;
	(*(uint64_t *)ctx)++;
	return 0;
}

int main(int argc, char **argv)
{
	struct replay_opts o = { .from_us = INT64_MIN };
	struct replay *rp;
	struct config *cfg;
	struct plant p;
	char *cause = NULL;
	int64_t *took, t0, first, last, c0, ratios[3];
	long seeks;
	int i, round;

	if (argc != 3 || util_parse_long(argv[2], 1, 10000, &seeks) < 0) {
		fprintf(stderr, "usage: bench_replay DB SEEKS\n");
		return 2;
	}
	o.db = argv[1];
	t0 = util_mono_us();
	rp = replay_open(&o, &cause);
	cfg = rp != NULL ? replay_take_config(rp, &cause) : NULL;
	if (cfg == NULL || replay_start(rp, cfg, &cause) < 0) {
		fprintf(stderr, "bench_replay: %s\n", cause);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	replay_fill(rp, &p);
	first = p.replay.first_us;
	last = p.replay.last_us;
	fprintf(stderr, "replay: opened and at the start in %.1f ms (%.1f days, %zu meters)\n",
		(double)(util_mono_us() - t0) / 1000, (double)(last - first) / 86400e6,
		cfg->nmeters);

	/* seeks, back and forth over the recording (never within an hour of
	 * the last: every one rebuilds) */
	took = util_calloc((size_t)seeks, sizeof(*took));
	for (i = 0; i < seeks; i++) {
		int64_t at = first + (last - first) / 2 +
			     (i % 2 ? 1 : -1) * (last - first) / 2 * (seeks - i) / (seeks + 1);

		t0 = util_mono_us();
		replay_seek(rp, at);
		took[i] = util_mono_us() - t0;
	}
	qsort(took, (size_t)seeks, sizeof(*took), cmp_i64);
	printf("| Replay seek to any instant of %.0f days x %zu meters (%ld seeks, each a rebuild) "
	       "| median %.1f ms, 95th %.1f ms, max %.1f ms | | | target < 100 ms to a complete frame "
	       "(+ the frame: 2-5 ms) |\n",
	       (double)(last - first) / 86400e6, cfg->nmeters, seeks,
	       (double)took[seeks / 2] / 1000, (double)took[seeks * 95 / 100] / 1000,
	       (double)took[seeks - 1] / 1000);
	free(took);

	/* play at 3600x from 3 days before the end (or the start) */
	replay_seek(rp, last - 3 * 86400000000LL > first ? last - 3 * 86400000000LL : first);
	replay_act(rp, REPLAY_PLAY_PAUSE);
	for (i = 0; i < 5; i++)
		replay_act(rp, REPLAY_FASTER);
	{
		int64_t mono = 1000000, start = replay_cursor(rp), cstart;
		int ticks = 40;

		replay_tick(rp, mono);
		cstart = cpu_us();
		for (i = 0; i < ticks; i++) {
			mono += 250000;
			replay_tick(rp, mono);
		}
		c0 = cpu_us() - cstart;
		printf("| Replay playing at 3600x, %d ticks of 250 ms | CPU %.0f ms per tick (%.2f of a "
		       "core) | | | the cursor moved %.0f s of recording per second (3600 asked%s) |\n",
		       ticks, (double)c0 / ticks / 1000, (double)c0 / ticks / 250000.0,
		       (double)(replay_cursor(rp) - start) / 1e6 / (ticks * 0.25),
		       replay_cursor(rp) - start < (int64_t)ticks * 250000 * 3600 * 95 / 100
			       ? "; the feed reads at most 200,000 samples a tick"
			       : "");
	}

	/* what-if against a plain scan, alternately */
	{
		int64_t from = last - 6 * 3600000000LL > first ? last - 6 * 3600000000LL : first;
		struct store_reader *r = store_reader_open(o.db, &cause);
		uint64_t rows = 0, samples = 0;
		int64_t tw = 0, ts = 0;

		if (r == NULL) {
			fprintf(stderr, "bench_replay: %s\n", cause);
			return 1;
		}
		for (round = 0; round < 3; round++) {
			int side;

			for (side = 0; side < 2; side++) {
				bool scan = (side == 0) == (round % 2 == 0);
				struct whatif_result wr;

				t0 = util_mono_us();
				if (scan) {
					rows = 0;
					if (store_reader_raw_window(r, from, last + 1, -1, count_row, &rows,
								    &cause) < 0)
						return 1;
					ts = util_mono_us() - t0;
				} else {
					if (whatif_run(o.db, cfg, from, last + 1, &wr, &cause) < 0) {
						fprintf(stderr, "bench_replay: %s\n", cause);
						return 1;
					}
					samples = wr.samples;
					whatif_free(&wr);
					tw = util_mono_us() - t0;
				}
			}
			ratios[round] = ts * 1000 / (tw > 0 ? tw : 1);
			fprintf(stderr, "what-if round %d: %.2f s for %llu samples; scan %.2f s for %llu"
					" rows; ratio %.3f\n",
				round + 1, (double)tw / 1e6, (unsigned long long)samples,
				(double)ts / 1e6, (unsigned long long)rows, (double)ratios[round] / 1000);
		}
		qsort(ratios, 3, sizeof(ratios[0]), cmp_i64);
		printf("| What-if, the recording's alarms on its last 6 h (%llu samples, %zu meters) | "
		       "%.0f samples/s (last round) | a plain scan of the same samples: %.0f rows/s | "
		       "**%.3f** (median of 3, alternated) | |\n",
		       (unsigned long long)samples, cfg->nmeters, (double)samples / ((double)tw / 1e6),
		       (double)rows / ((double)ts / 1e6), (double)ratios[1] / 1000);
		store_reader_close(r);
	}
	replay_free(rp);
	config_free(cfg);
	return 0;
}
