// SPDX-License-Identifier: MIT
/*
 * gen_buffer: a buffer with HOURS of history for the meters of a
 * configuration, written through the store API (the same writer, schema and
 * batches as `phasor record`), for the console's start-up benchmark.
 *
 *   gen_buffer CONFIG HOURS POLL_S      prints "rows bytes seconds"
 *
 * Every meter is polled every POLL_S seconds (meters spread over the
 * period) for the 36 quantities of the PAC3200 map the simulator serves,
 * ending now. Values are plausible and smooth (a load curve per meter);
 * the energy counters integrate the power; the first meter's counters start
 * again from 0 (a meter restart) four hours before the end, so today's
 * energy has a segment to bridge. Each meter's comm state is "ok" at the
 * end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "phasor/config.h"
#include "phasor/diag.h"
#include "phasor/comm.h"
#include "phasor/store.h"
#include "phasor/util.h"

#include "bench_common.h"

static const char *const qty_names[] = { BENCH_PAC3200_QTY };
#define NQ (sizeof(qty_names) / sizeof(qty_names[0]))

struct gm {
	double e_imp, e_exp, eq_imp, eq_exp; /* Wh, varh */
	double base_w;
};

static void poll_values(const struct gm *g, size_t m, double t_s, double *v)
{
	double day = 2 * M_PI * fmod(t_s, 86400.0) / 86400.0;
	double p = g->base_w * (1.0 + 0.35 * sin(day + (double)m) + 0.05 * sin(t_s / 37.0 + (double)m));
	double pf = 0.93 + 0.04 * sin(t_s / 600.0 + (double)m);
	double s = p / pf, q = sqrt(s * s - p * p), u = 230.0 + 2.0 * sin(t_s / 300.0 + (double)m);
	size_t k;

	for (k = 0; k < 3; k++) {
		double share = (k == 0 ? 0.36 : k == 1 ? 0.33 : 0.31);

		v[0 + k] = u + 0.4 * (double)k;
		v[3 + k] = (u + 0.4 * (double)k) * sqrt(3.0);
		v[6 + k] = s * share / u;
		v[9 + k] = s * share;
		v[12 + k] = p * share;
		v[15 + k] = q * share;
		v[18 + k] = pf;
		v[21 + k] = 2.0 + 0.3 * (double)k;
		v[24 + k] = 8.0 + (double)k;
	}
	v[27] = 50.0 + 0.02 * sin(t_s / 60.0);
	v[28] = s;
	v[29] = p;
	v[30] = q;
	v[31] = pf;
	v[32] = g->e_imp;
	v[33] = g->e_exp;
	v[34] = g->eq_imp;
	v[35] = g->eq_exp;
}

int main(int argc, char **argv)
{
	struct config *cfg;
	struct diag d;
	struct store *st;
	struct gm *g;
	struct sample *batch;
	int qid[NQ];
	char *cause = NULL;
	double hours, poll_s;
	int64_t now, start, t0, t, step_us, reset_at;
	long long rows = 0;
	size_t m, k;
	struct stat sb;

	if (argc != 4) {
		fprintf(stderr, "usage: gen_buffer CONFIG HOURS POLL_S\n");
		return 2;
	}
	hours = atof(argv[2]);
	poll_s = atof(argv[3]);
	diag_init(&d);
	cfg = config_load(argv[1], &d);
	if (cfg == NULL || cfg->store.path == NULL || cfg->nmeters == 0 || hours <= 0 ||
	    poll_s <= 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "gen_buffer: need a configuration with [store] path and meters\n");
		return 2;
	}
	for (k = 0; k < NQ; k++) {
		qid[k] = qty_lookup(qty_names[k]);
		if (qid[k] < 0) {
			fprintf(stderr, "gen_buffer: unknown quantity %s\n", qty_names[k]);
			return 2;
		}
	}
	st = store_open(cfg->store.path, 4000000, 20000, 1000, &cause);
	if (st == NULL || store_register_meters(st, cfg, &cause) < 0 ||
	    store_begin_session(st, cfg, "record", &cause) < 0 || store_start(st, &cause) < 0) {
		fprintf(stderr, "gen_buffer: %s\n", cause != NULL ? cause : "?");
		return 1;
	}
	g = util_calloc(cfg->nmeters, sizeof(*g));
	for (m = 0; m < cfg->nmeters; m++) {
		g[m].base_w = 20000.0 + 3000.0 * (double)(m % 17);
		/* below the simulator's counters, which then just go on */
		g[m].e_imp = 1e6 + 1e4 * (double)m;
		g[m].eq_imp = 2e5;
	}
	batch = util_calloc(NQ, sizeof(*batch));
	t0 = util_mono_us();
	now = util_now_us();
	step_us = (int64_t)(poll_s * 1e6);
	start = now - (int64_t)(hours * 3600e6);
	reset_at = now - 4 * 3600000000LL;
	for (t = start; t < now; t += step_us) {
		store_debug_close_before(st, t);
		for (m = 0; m < cfg->nmeters; m++) {
			int64_t ts = t + (int64_t)m * step_us / (int64_t)cfg->nmeters;
			double v[NQ];

			if (ts >= now)
				break;
			if (m == 0 && ts >= reset_at && ts - step_us < reset_at)
				g[m].e_imp = g[m].e_exp = g[m].eq_imp = g[m].eq_exp = 0;
			poll_values(&g[m], m, (double)ts / 1e6, v);
			g[m].e_imp += v[29] * poll_s / 3600.0;
			g[m].eq_imp += v[30] * poll_s / 3600.0;
			for (k = 0; k < NQ; k++) {
				batch[k].t_us = ts;
				batch[k].value = v[k];
				batch[k].meter = (uint32_t)m;
				batch[k].qty = (uint16_t)qid[k];
				batch[k].quality = QUALITY_GOOD;
				batch[k].reserved = 0;
			}
			while (store_congested(st))
				usleep(1000);
			store_put_samples(st, batch, NQ);
			rows += (long long)NQ;
		}
	}
	now = util_now_us();
	for (m = 0; m < cfg->nmeters; m++)
		store_put_comm_change(st, now, (int)m, COMM_OK, "");
	/* as a recorder would leave it: old windows closed into blocks */
	store_debug_close_before(st, 0);
	if (store_settle(st, 600000) < 0)
		fprintf(stderr, "gen_buffer: the store did not settle in 10 min\n");
	store_stop(st, 600000);
	store_close(st);
	if (stat(cfg->store.path, &sb) < 0)
		sb.st_size = 0;
	printf("%lld %lld %.1f\n", rows, (long long)sb.st_size, (double)(util_mono_us() - t0) / 1e6);
	free(batch);
	free(g);
	config_free(cfg);
	diag_clear(&d);
	return 0;
}
