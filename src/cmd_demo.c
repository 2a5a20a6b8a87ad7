// SPDX-License-Identifier: MIT
/*
 * cmd_demo: `phasor --demo`. Starts the built-in simulated plant (demo.c)
 * and runs phasor's real acquisition on it into a per-user buffer. Until
 * the ncurses console exists this prints a plain live table of the meters
 * every two seconds (ASCII only, no escape sequences), computed from the
 * live state and the analysis exactly as the console will.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/analysis.h"
#include "phasor/cmd.h"
#include "phasor/demo.h"
#include "phasor/hub.h"
#include "phasor/log.h"
#include "phasor/util.h"

#define REPORT_MS 2000

struct table_ctx {
	const struct demo *demo;
	const struct config *cfg;
};

/* A number in 8 columns with the given decimals, "-" when unknown. */
static void print_num(double v, int decimals)
{
	if (isnan(v))
		printf("%8s", "-");
	else
		printf("%8.*f", decimals, v);
}

static void print_table(void *arg, struct hub *h)
{
	struct table_ctx *ctx = arg;
	struct live *l = hub_live(h);
	int64_t now = util_now_us();
	char when[32];
	size_t i;

	util_format_time_ms(now, when, sizeof(when));
	printf("\n%s  %s  (Ctrl-C stops)%s%s\n", ctx->cfg->site.name, when,
	       ctx->demo->note[0] ? "\nnote: " : "", ctx->demo->note);
	printf("%-18s %-7s %8s %8s %-10s %8s %8s %8s %-7s\n", "meter", "comm", "P kW", "PF",
	       "PF tier", "V L-N", "I unb%", "THD-V%", "risk");
	for (i = 0; i < live_count(l); i++) {
		const struct live_meter *m = live_meter_const(l, i);
		struct analysis_input in;
		struct analysis_params par;
		struct analysis_result r;
		char name[19];
		double v = NAN;
		bool stale = live_meter_stale(m, now);

		live_analysis_input(m, now, &in);
		live_analysis_params(m, ctx->cfg, &par);
		analysis_compute(&in, &par, &r);
		if (!isnan(in.v_ln[0]) && !isnan(in.v_ln[1]) && !isnan(in.v_ln[2]))
			v = (in.v_ln[0] + in.v_ln[1] + in.v_ln[2]) / 3;
		util_sanitize(name, sizeof(name), m->cfg->name);
		printf("%-18s %-7s ", name,
		       stale && m->comm.status == COMM_OK ? "stale" : source_comm_name(m->comm.status));
		print_num(r.p_total / 1000.0, 1);
		printf(" ");
		print_num(r.pf_total, 3);
		printf(" %-10s ", analysis_pf_tier_name(r.tier_total));
		print_num(v, 1);
		printf(" ");
		print_num(r.i_unb_nema, 1);
		printf(" ");
		print_num(in.thd_v[0], 1);
		printf(" %-7s\n", analysis_risk_level_name(r.risk));
	}
	fflush(stdout);
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "demo", no_argument, NULL, 'D' },
		{ "for", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct record_opts ro = { .mode = "demo", .for_ms = -1, .report_ms = REPORT_MS };
	struct table_ctx ctx;
	struct demo *d;
	char *cause = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			break;
		case 'f':
			if (util_parse_duration_ms(optarg, &ro.for_ms) < 0) {
				fprintf(stderr, "phasor --demo: --for: '%s' is not a duration\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			puts("usage: phasor --demo [--for SECONDS]\n"
			     "Start a simulated plant (Modbus meters, and MQTT meters when mosquitto\n"
			     "is installed) and run phasor's acquisition on it.");
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	printf("phasor demo: starting the simulated plant...\n");
	fflush(stdout);
	d = demo_start(NULL, &cause);
	if (d == NULL) {
		fprintf(stderr, "phasor --demo: %s\n", cause);
		free(cause);
		return EXIT_RUNTIME;
	}
	if (d->cfg->log.path != NULL)
		log_open(d->cfg->log.path);
	printf("phasor demo: simulator on 127.0.0.1:%d%s, buffer %s, log %s\n", d->modbus_port,
	       d->mqtt_port ? ", private mosquitto for the MQTT meters" : "",
	       d->cfg->store.path, d->cfg->log.path ? d->cfg->log.path : "stderr");
	ctx.demo = d;
	ctx.cfg = d->cfg;
	ro.report = print_table;
	ro.report_ctx = &ctx;
	rc = record_run(d->cfg, &ro);
	log_close();
	demo_stop(d);
	return rc;
}
