// SPDX-License-Identifier: MIT
/*
 * cmd_record: `phasor record -c FILE [--for SECONDS]`, headless acquisition
 * into the local buffer. The main thread owns the hub: it polls the hub's
 * eventfd and a signalfd, dispatches messages, ticks the sources four times
 * a second and logs a summary every minute. SIGINT/SIGTERM (or --for)
 * stop the sources, drain what was received and flush the buffer before
 * exiting 0.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/hub.h"
#include "phasor/log.h"
#include "phasor/payload.h"
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

static void log_summary(struct hub *h, const char *prefix)
{
	struct hub_stats hs;
	struct store_stats ss;
	const struct source_link *links;
	size_t n, i, up = 0;
	uint64_t rejected = 0, received = 0;
	char sync_part[128] = "", replaced[600] = "";
	size_t k;

	hub_get_stats(h, &hs);
	n = hub_links(h, &links);
	for (i = 0; i < n; i++) {
		if (links[i].state == LINK_UP)
			up++;
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
	log_info("%s: %" PRIu64 " samples, %zu/%zu links up, mqtt %" PRIu64 " received %" PRIu64
		 " rejected, queue %zu (max %zu), buffer %s%s: %" PRIu64 " written, %zu queued, "
		 "%" PRIu64 " dropped%s",
		 prefix, hs.samples, up, n, received, rejected, hs.queue_depth, hs.queue_high_water,
		 store_state_name(ss.state), replaced, ss.written, ss.queued, ss.dropped,
		 sync_part);
}

int record_run(struct config *cfg, const struct record_opts *o)
{
	int rc = EXIT_RUNTIME, sfd = -1;
	struct hub *h = NULL;
	char *cause = NULL;
	sigset_t mask, oldmask;
	int64_t start_us, next_tick_us, next_stats_us;
	bool running = true;

	/* Signals arrive through a signalfd in the poll loop, never in a
	 * handler; threads created later inherit the blocked mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, &oldmask);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		log_error("signalfd: %s", strerror(errno));
		goto out;
	}

	h = hub_new(cfg, &(struct hub_opts){ .mode = o->mode }, &cause);
	if (h == NULL) {
		log_error("cannot start: %s", cause);
		goto out;
	}
	log_info("%s: %zu meter(s) from %s", o->mode, cfg->nmeters, cfg->path);
	if (hub_start(h, &cause) < 0) {
		log_error("cannot start: %s", cause);
		goto out;
	}

	start_us = util_mono_us();
	next_tick_us = start_us;
	next_stats_us = start_us + o->stats_ms * 1000;
	while (running) {
		bool throttled = hub_throttled(h);
		/* A negative fd is ignored by poll: while throttled the hub's
		 * fd stays readable, so wait a little instead. */
		struct pollfd pfd[2] = {
			{ .fd = throttled ? -1 : hub_fd(h), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		int64_t now = util_mono_us();
		int timeout = (int)((next_tick_us - now) / 1000);

		if (timeout < 0)
			timeout = 0;
		if (throttled && timeout > THROTTLE_MS)
			timeout = THROTTLE_MS;
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			goto out;
		}
		if (throttled || (pfd[0].revents & POLLIN))
			hub_dispatch(h);
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					log_summary(h, o->mode);
					continue;
				}
				log_info("%s: %s received, stopping", o->mode,
					 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
				running = false;
			}
		}
		now = util_mono_us();
		if (now >= next_tick_us) {
			hub_tick(h, util_now_us());
			next_tick_us = now + TICK_MS * 1000;
		}
		if (o->stats_ms > 0 && now >= next_stats_us) {
			log_summary(h, o->mode);
			next_stats_us = now + o->stats_ms * 1000;
		}
		if (o->for_ms >= 0 && now - start_us >= o->for_ms * 1000) {
			log_info("%s: --for elapsed, stopping", o->mode);
			running = false;
		}
	}
	hub_stop(h);
	{
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "%s: stopped", o->mode);
		log_summary(h, prefix);
	}
	{
		const struct source_link *links;
		size_t n = hub_links(h, &links), i;

		for (i = 0; i < n; i++)
			log_link(&links[i]);
	}
	if (hub_sync(h) != NULL) {
		struct sync_stats ys;

		sync_get_stats(hub_sync(h), &ys);
		log_info("sync: %s, forwarded %" PRIu64 " samples and %" PRIu64
			 " alarm events, backlog %" PRId64 ", quarantined %" PRId64 "%s%s",
			 sync_state_name(ys.state), ys.forwarded, ys.alarms_forwarded, ys.backlog,
			 ys.quarantined, ys.error[0] ? ", last error: " : "", ys.error);
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
	if (sfd >= 0)
		close(sfd);
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
	return rc;
}

int cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "for", required_argument, NULL, 'f' },
		{ "db", required_argument, NULL, 'd' },
		{ "log", required_argument, NULL, 'l' },
		{ "stats", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *db = NULL, *log_path = NULL;
	struct record_opts ro = { .mode = "record", .for_ms = -1, .stats_ms = 60000 };
	int verbosity = 0, c, rc;
	struct config *cfg;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'f':
			if (util_parse_duration_ms(optarg, &ro.for_ms) < 0) {
				fprintf(stderr, "phasor record: --for: '%s' is not a duration\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			db = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 's':
			if (util_parse_duration_ms(optarg, &ro.stats_ms) < 0) {
				fprintf(stderr, "phasor record: --stats: '%s' is not a duration\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			verbosity = 1;
			break;
		case 'q':
			verbosity = -1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "phasor record: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	cfg = cmd_start("record", config_path, db, log_path, verbosity, &rc);
	if (cfg == NULL)
		return rc;
	rc = record_run(cfg, &ro);
	config_free(cfg);
	log_close();
	return rc;
}
