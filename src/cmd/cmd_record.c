// SPDX-License-Identifier: MIT
/*
 * cmd_record: `phasor record -c FILE [--for SECONDS]`, headless acquisition
 * into the local buffer. The main thread owns the hub and runs it on a loop
 * (loop.c): the hub's eventfd and the signals, a timer that ticks the
 * sources four times a second and one that logs a summary every minute. SIGINT/SIGTERM (or --for)
 * stop the sources, drain what was received and flush the buffer before
 * exiting 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/hub.h"
#include "phasor/reclock.h"
#include "phasor/log.h"
#include "phasor/loop.h"
#include "phasor/machines.h"
#include "phasor/payload.h"
#include "phasor/plant.h"
#include "phasor/sync.h"
#include "phasor/util.h"

#define TICK_MS 250
#define THROTTLE_MS 10

static void usage(FILE *out)
{
	fputs("usage: phasor record [-c FILE] [--for SECONDS] [--db FILE] [--log FILE]\n"
	      "                     [--stats SECONDS] [-v|-q]\n"
	      "Acquire from the configured meters into the local buffer until SIGINT/SIGTERM\n"
	      "(or for SECONDS), then flush everything received and exit.\n"
	      "  -c, --config FILE   configuration (default: $PHASOR_CONFIG, then\n"
	      "                      $XDG_CONFIG_HOME/phasor/phasor.ini, /etc/phasor/phasor.ini)\n"
	      "      --for SECONDS   stop after this long (also 10m, 2h)\n"
	      "      --db FILE       buffer file, overriding [store] path\n"
	      "      --log FILE      log to FILE instead of [log] path or stderr\n"
	      "      --stats SECONDS summary log line period (default 60, 0: off)\n"
	      "  -v, --verbose       debug log level\n"
	      "  -q, --quiet         warnings and errors only\n",
	      out);
}

/* One log line per link with its counters (tests and operators read it). */
static void log_link(const struct source_link *l)
{
	char rej[256] = "";
	size_t k, off = 0;
	uint64_t total = 0;

	if (strcmp(l->driver, "mqtt") == 0) {
		for (k = 1; k < PAYLOAD__COUNT && k < UTIL_ARRAY_LEN(l->rejected); k++) {
			total += l->rejected[k];
			off += (size_t)snprintf(rej + off, sizeof(rej) - off, "%s%s %" PRIu64,
						k > 1 ? ", " : "",
						payload_status_name((enum payload_status)k),
						l->rejected[k]);
			if (off >= sizeof(rej))
				break;
		}
		char jr[160] = "";

		if (l->journal_slot >= 0)
			snprintf(jr, sizeof(jr),
				 ", journal slot %d: %" PRIu64 " written, %" PRIu64
				 " decoded again, %" PRIu64 " redeliveries skipped, %" PRIu64 " errors",
				 l->journal_slot, l->journaled, l->replayed, l->duplicates,
				 l->journal_errors);
		else
			snprintf(jr, sizeof(jr), ", no journal");
		log_info("link mqtt %s: %s, received %" PRIu64 ", accepted %" PRIu64
			 ", rejected %" PRIu64 " (%s), dropped %" PRIu64 "%s%s%s",
			 l->name, source_link_name(l->state), l->received, l->accepted, total, rej,
			 l->dropped, jr, l->error[0] ? ", last error: " : "", l->error);
	} else {
		log_info("link %s %s: %s, %zu meter(s), requests %" PRIu64 ", timeouts %" PRIu64
			 ", exceptions %" PRIu64 ", reconnects %" PRIu64 ", latency %d us%s%s",
			 l->driver, l->name, source_link_name(l->state), l->nmeters, l->requests,
			 l->timeouts, l->exceptions, l->reconnects, (int)l->latency_us,
			 l->error[0] ? ", last error: " : "", l->error);
	}
}

/* At exit, each machine's day as the console's view 7 shows it (tests
 * read these lines: a restart continues the day). */
static void log_machines(struct hub *h, const struct config *cfg)
{
	const struct machines *ms = hub_machines(h);
	size_t k;

	for (k = 0; k < machines_count(ms); k++) {
		const struct machine_track *t = machines_track(ms, k);
		const struct machine_span *d = &t->day;
		int64_t known = d->time_us[MACHINE_RUN] + d->time_us[MACHINE_WAIT] +
				d->time_us[MACHINE_STOP];

		log_info("machine %s: %s; today: run %.1f%%, wait %.1f%%, stop %.1f%% of %.1f s"
			 " known, %.1f s unknown, %.0f pieces, %.1f Wh, idle %.1f Wh",
			 cfg->machines[k].name, config_machine_state_name(t->state),
			 known > 0 ? 100 * machine_span_share(d, MACHINE_RUN) : 0,
			 known > 0 ? 100 * machine_span_share(d, MACHINE_WAIT) : 0,
			 known > 0 ? 100 * machine_span_share(d, MACHINE_STOP) : 0,
			 (double)known / 1e6, (double)d->time_us[MACHINE_UNKNOWN] / 1e6, d->pieces,
			 machine_span_energy(d), machine_span_idle_energy(d));
	}
}

static void log_summary(struct hub *h, const struct config *cfg, const char *prefix)
{
	struct plant pl = { .cfg = cfg, .live = hub_live(h), .now_us = util_now_us() };
	size_t degraded = 0;
	struct hub_stats hs;
	struct store_stats ss;
	const struct source_link *links;
	size_t n, i, up = 0;
	uint64_t rejected = 0, received = 0;
	char sync_part[128] = "", replaced[600] = "", degraded_part[48] = "";
	size_t k;

	hub_get_stats(h, &hs);
	n = hub_links(h, &links);
	/* as the console reads it: connected but no meter answering is degraded */
	plant_links_count(&pl, links, n, &up, &degraded);
	for (i = 0; i < n; i++) {
		received += links[i].received;
		for (k = 1; k < UTIL_ARRAY_LEN(links[i].rejected); k++)
			rejected += links[i].rejected[k];
	}
	if (hub_store(h) != NULL) {
		store_get_stats(hub_store(h), &ss);
		/* A damaged buffer moved aside at start: the summaries say so. */
		if (store_open_notice(hub_store(h))[0] != '\0')
			snprintf(replaced, sizeof(replaced), " (new file; %s)",
				 store_open_notice(hub_store(h)));
	} else {
		memset(&ss, 0, sizeof(ss));
	}
	if (hub_sync(h) != NULL) {
		struct sync_stats ys;

		sync_get_stats(hub_sync(h), &ys);
		snprintf(sync_part, sizeof(sync_part), ", sync %s: backlog %" PRId64 ", forwarded %" PRIu64,
			 sync_state_name(ys.state), ys.backlog, ys.forwarded);
	}
	if (degraded > 0)
		snprintf(degraded_part, sizeof(degraded_part), " (%zu degraded)", degraded);
	log_info("%s: %" PRIu64 " samples, %zu/%zu links up%s, mqtt %" PRIu64 " received %" PRIu64
		 " rejected, queue %zu (max %zu), buffer %s%s: %" PRIu64 " written, %zu queued, "
		 "%" PRIu64 " dropped%s",
		 prefix, hs.samples, up, n, degraded_part, received, rejected, hs.queue_depth, hs.queue_high_water,
		 store_state_name(ss.state), replaced, ss.written, ss.queued, ss.dropped,
		 sync_part);
}

/* What the loop's callbacks of record_run share. */
struct record_loop {
	struct hub *h;
	const struct config *cfg;
	const struct record_opts *o;
};

static void on_signal(struct loop *l, int signo, void *ctx)
{
	struct record_loop *r = ctx;

	if (signo == SIGHUP) {
		log_summary(r->h, r->cfg, r->o->mode);
		return;
	}
	log_info("%s: %s received, stopping", r->o->mode, signo == SIGINT ? "SIGINT" : "SIGTERM");
	loop_stop(l);
}

static void on_hub(struct loop *l, int fd, short revents, void *ctx)
{
	struct record_loop *r = ctx;

	(void)l;
	(void)fd;
	if (revents & POLLIN)
		hub_dispatch(r->h);
}

static void on_tick(struct loop *l, int id, void *ctx)
{
	struct record_loop *r = ctx;

	(void)l;
	(void)id;
	hub_tick(r->h, util_now_us());
}

static void on_stats(struct loop *l, int id, void *ctx)
{
	struct record_loop *r = ctx;

	(void)l;
	(void)id;
	log_summary(r->h, r->cfg, r->o->mode);
}

static void on_for(struct loop *l, int id, void *ctx)
{
	struct record_loop *r = ctx;

	(void)id;
	log_info("%s: --for elapsed, stopping", r->o->mode);
	loop_stop(l);
}

int record_run(struct config *cfg, const struct record_opts *o)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	int rc = EXIT_RUNTIME;
	struct hub *h = NULL;
	struct loop *l = NULL;
	struct record_loop r = { .o = o, .cfg = cfg };
	char *cause = NULL;
	int lock_fd = -1;

	/* Signals arrive through the loop's signalfd, never in a handler;
	 * threads created later inherit the blocked mask. */
	signal(SIGPIPE, SIG_IGN);
	l = loop_new(signals, (int)UTIL_ARRAY_LEN(signals), on_signal, &r, &cause);
	if (l == NULL) {
		log_error("%s", cause);
		goto out;
	}

	/* One process acquires for a buffer: a second recorder, or one
	 * next to a console that already polls, would poll every meter twice
	 * and store every sample twice. */
	if (cfg->store.path != NULL) {
		char who[160] = "";
		int got = reclock_take(cfg->store.path, o->mode, RECLOCK_WAIT_MS, &lock_fd, who,
				       sizeof(who), &cause);

		if (got < 0) {
			/* The buffer's own open says best what is wrong with the
			 * directory; if it opens, go on without the lock. */
			log_warn("%s; consoles cannot tell that this recorder runs", cause);
			free(cause);
			cause = NULL;
		}
		if (got == 0) {
			log_error("cannot start: %s is already acquired by %s (its lock %s-recorder.lock"
				  " is held); stop that one first, or open a console, which attaches"
				  " to it", cfg->store.path, who, cfg->store.path);
			goto out;
		}
	}
	/* The forecasts' local days ([site] timezone): set before any thread starts. */
	if (cfg->site.timezone != NULL) {
		setenv("TZ", cfg->site.timezone, 1);
		tzset();
	}
	h = hub_new(cfg, &(struct hub_opts){ .mode = o->mode, .publish_status = true }, &cause);
	if (h == NULL) {
		log_error("cannot start: %s", cause);
		goto out;
	}
	r.h = h;
	log_info("%s: %zu meter(s) from %s", o->mode, cfg->nmeters, cfg->path);
	if (hub_start(h, &cause) < 0) {
		log_error("cannot start: %s", cause);
		goto out;
	}

	loop_add_fd(l, hub_fd(h), POLLIN, on_hub, &r);
	loop_add_timer(l, 0, TICK_MS, on_tick, &r);
	if (o->stats_ms > 0)
		loop_add_timer(l, o->stats_ms, o->stats_ms, on_stats, &r);
	if (o->for_ms >= 0)
		loop_add_timer(l, o->for_ms, 0, on_for, &r);
	while (!loop_stopped(l)) {
		bool throttled = hub_throttled(h);

		/* While throttled the hub's fd stays readable: not polled,
		 * and the hub dispatches every THROTTLE_MS instead. */
		loop_fd_events(l, hub_fd(h), throttled ? 0 : POLLIN);
		if (loop_run_once(l, throttled ? THROTTLE_MS : -1) < 0) {
			log_error("poll: %s", strerror(errno));
			goto out;
		}
		if (throttled)
			hub_dispatch(h);
	}
	hub_stop(h);
	{
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "%s: stopped", o->mode);
		log_summary(h, cfg, prefix);
	}
	{
		const struct source_link *links;
		size_t n = hub_links(h, &links), i;

		for (i = 0; i < n; i++)
			log_link(&links[i]);
	}
	log_machines(h, cfg);
	if (hub_sync(h) != NULL) {
		struct sync_stats ys;

		sync_get_stats(hub_sync(h), &ys);
		log_info("sync: %s, forwarded %" PRIu64 " samples, %" PRIu64
			 " alarm events and %" PRIu64 " forecast rows, backlog %" PRId64
			 ", quarantined %" PRId64 "%s%s",
			 sync_state_name(ys.state), ys.forwarded, ys.alarms_forwarded,
			 ys.forecasts_forwarded, ys.backlog, ys.quarantined,
			 ys.error[0] ? ", last error: " : "", ys.error);
	}
	rc = EXIT_OK;
	if (hub_store(h) != NULL) {
		struct store_stats ss;

		store_get_stats(hub_store(h), &ss);
		if (ss.state != STORE_OK)
			rc = EXIT_RUNTIME;
	}

out:
	free(cause);
	hub_free(h);
	reclock_release(lock_fd); /* after the buffer is closed */
	loop_free(l);
	return rc;
}

enum { OPT_FOR = 256, OPT_STATS };

static int record_option(void *ctx, int id, const char *arg)
{
	struct record_opts *ro = ctx;

	if (util_parse_duration_ms(arg, id == OPT_FOR ? &ro->for_ms : &ro->stats_ms) < 0) {
		fprintf(stderr, "phasor record: %s: '%s' is not a duration\n",
			id == OPT_FOR ? "--for" : "--stats", arg);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct cmd_option opts[] = {
		{ "for", true, OPT_FOR },
		{ "stats", true, OPT_STATS },
		{ NULL, false, 0 },
	};
	struct record_opts ro = { .mode = "record", .for_ms = -1, .stats_ms = 60000 };
	const struct cmd_spec spec = {
		.name = "record",
		.common = CMD_OPT_CONFIG | CMD_OPT_DB | CMD_OPT_LOG | CMD_OPT_VERBOSITY,
		.options = opts,
		.option = record_option,
		.ctx = &ro,
		.usage = usage,
	};
	struct cmd_args a;
	struct config *cfg;
	int rc;

	rc = cmd_parse(&spec, argc, argv, &a);
	if (rc >= 0)
		return rc;
	cfg = cmd_start("record", a.config, a.db, a.log, a.verbosity, &rc);
	if (cfg == NULL)
		return rc;
	rc = record_run(cfg, &ro);
	config_free(cfg);
	log_close();
	return rc;
}
