// SPDX-License-Identifier: MIT
/*
 * cmd_sync: `phasor sync -c FILE [--once]`, forward the local buffer to the
 * PostgreSQL database of [sync] (docs/sync.md). Without --once it runs
 * passes every [sync] interval until SIGINT/SIGTERM (the worker thread;
 * the main thread waits for the signals on a loop, loop.c). --quarantine
 * lists the rows the server refused (CSV, the export), --retry sends them
 * again.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/log.h"
#include "phasor/loop.h"
#include "phasor/store.h"
#include "phasor/sync.h"
#include "phasor/util.h"

static void usage(FILE *out)
{
	fputs("usage: phasor sync [-c FILE] [--once] [--db FILE] [--log FILE] [-v|-q]\n"
	      "       phasor sync [-c FILE] --quarantine | --retry | --status\n"
	      "Forward the local buffer to the PostgreSQL database of [sync], exactly once.\n"
	      "  -c, --config FILE   configuration (default: $PHASOR_CONFIG, then\n"
	      "                      $XDG_CONFIG_HOME/phasor/phasor.ini, /etc/phasor/phasor.ini)\n"
	      "      --once          forward what is buffered now, prune, and exit\n"
	      "                      (exit 1 when the server cannot be reached)\n"
	      "      --db FILE       buffer file, overriding [store] path\n"
	      "      --quarantine    list the rows the server refused (CSV) and exit\n"
	      "      --retry         send the quarantined rows again and exit\n"
	      "      --status        print the sync state (backlog, watermarks, console id)\n"
	      "                      and exit\n"
	      "      --log FILE      log to FILE instead of [log] path or stderr\n"
	      "  -v, --verbose       debug log level\n"
	      "  -q, --quiet         warnings and errors only\n",
	      out);
}

static void csv_field(FILE *out, const char *s)
{
	char safe[1024];
	const char *p;

	util_sanitize(safe, sizeof(safe), s != NULL ? s : "");
	if (strpbrk(safe, ",\"\r\n") == NULL) {
		fputs(safe, out);
		return;
	}
	fputc('"', out);
	for (p = safe; *p != '\0'; p++) {
		if (*p == '"')
			fputc('"', out);
		fputc(*p, out);
	}
	fputc('"', out);
}

static int print_row(void *ctx, const struct store_sync_quarantine_row *r)
{
	FILE *out = ctx;
	char t[32], f[32], l[32], v[40];

	if (isnan(r->value))
		util_strlcpy(v, "nan", sizeof(v));
	else
		snprintf(v, sizeof(v), "%.17g", r->value);
	fprintf(out, "%s,%" PRId64 ",%s,", r->kind, r->seq, util_format_time_ms(r->t_us, t, sizeof(t)));
	csv_field(out, r->meter);
	fputc(',', out);
	csv_field(out, r->quantity);
	fprintf(out, ",%s,%s,", v, strcmp(r->kind, "sample") == 0 ? (r->quality ? "bad" : "good") : "");
	csv_field(out, r->sqlstate);
	fputc(',', out);
	csv_field(out, r->error);
	fprintf(out, ",%s,%s,%d\n", util_format_time_ms(r->first_us, f, sizeof(f)),
		util_format_time_ms(r->last_us, l, sizeof(l)), r->attempts);
	return 0;
}

static void print_status(struct sync *s, FILE *out)
{
	struct sync_stats st;
	char t[32];

	sync_get_stats(s, &st);
	fprintf(out,
		"state %s\nbacklog %" PRId64 "\nalarm_backlog %" PRId64 "\nforecast_backlog %" PRId64
		"\noldest_unsynced %s\nwatermark %" PRId64 "\nquarantined %" PRId64
		"\nforwarded %" PRIu64 "\nquota_dropped %" PRIu64 "\npruned %" PRIu64 "\n",
		sync_state_name(st.state), st.backlog, st.alarm_backlog, st.forecast_backlog,
		st.oldest_unsynced_us ? util_format_time_ms(st.oldest_unsynced_us, t, sizeof(t))
				      : "-",
		st.watermark, st.quarantined, st.forwarded, st.quota_dropped, st.pruned);
	fprintf(out, "console %s\nlast_seq %" PRId64 "\n", st.console_id, st.last_seq);
	if (st.central_watermark >= 0)
		fprintf(out, "central_watermark %" PRId64 "\n", st.central_watermark);
	else
		fputs("central_watermark -\n", out);
	fprintf(out, "restored %" PRId64 "\n", st.restored);
	/* As last read from the server: --status does not connect. */
	if (sync_central_check(st.central_watermark, st.watermark, st.last_seq) ==
	    SYNC_CENTRAL_FOREIGN)
		fprintf(out,
			"warning central high-water mark %" PRId64 " is above this buffer's newest"
			" sample seq %" PRId64 ": restored from a backup, or a second buffer with"
			" console id %s? (its rows are forwarded all the same)\n",
			st.central_watermark, st.last_seq, st.console_id);
	if (st.restored > 0)
		fprintf(out,
			"warning %" PRId64 " samples at or below the central high-water mark were"
			" not in the central database (a restored or copied buffer, or a second"
			" buffer with console id %s); they were forwarded\n",
			st.restored, st.console_id);
	if (st.error[0])
		fprintf(out, "error %s\n", st.error);
}

static void on_signal(struct loop *l, int signo, void *ctx)
{
	(void)ctx;
	log_info("sync: %s received, stopping", signo == SIGINT ? "SIGINT" : "SIGTERM");
	loop_stop(l);
}

/* Until SIGINT/SIGTERM: the worker thread runs the passes, this thread
 * waits for the signals on a loop (loop.c). */
static int run_loop(struct sync *s)
{
	static const int signals[] = { SIGINT, SIGTERM };
	struct loop *l;
	char *cause = NULL;
	int rc = EXIT_OK;

	l = loop_new(signals, (int)UTIL_ARRAY_LEN(signals), on_signal, NULL, &cause);
	if (l == NULL) {
		log_error("%s", cause);
		free(cause);
		return EXIT_RUNTIME;
	}
	if (sync_start(s, &cause) < 0) {
		log_error("%s", cause);
		free(cause);
		loop_free(l);
		return EXIT_RUNTIME;
	}
	if (loop_run(l) < 0)
		log_error("poll: %s", strerror(errno));
	sync_stop(s);
	loop_free(l);
	return rc;
}

enum { OPT_ONCE = 256, OPT_QUARANTINE, OPT_RETRY, OPT_STATUS };

static int sync_option(void *ctx, int id, const char *arg)
{
	bool *mode = ctx; /* once, list, retry, status */

	(void)arg;
	mode[id - OPT_ONCE] = true;
	return 0;
}

int cmd_sync(int argc, char **argv)
{
	static const struct cmd_option opts[] = {
		{ "once", false, OPT_ONCE },
		{ "quarantine", false, OPT_QUARANTINE },
		{ "retry", false, OPT_RETRY },
		{ "status", false, OPT_STATUS },
		{ NULL, false, 0 },
	};
	bool mode[4] = { false, false, false, false };
	const struct cmd_spec spec = {
		.name = "sync",
		.common = CMD_OPT_CONFIG | CMD_OPT_DB | CMD_OPT_LOG | CMD_OPT_VERBOSITY,
		.options = opts,
		.option = sync_option,
		.ctx = mode,
		.usage = usage,
	};
	struct cmd_args a;
	bool once, list, retry, status;
	int rc = EXIT_RUNTIME;
	struct config *cfg;
	struct store *st;
	struct sync *s = NULL;
	struct stat sb;
	char *cause = NULL;

	rc = cmd_parse(&spec, argc, argv, &a);
	if (rc >= 0)
		return rc;
	rc = EXIT_RUNTIME;
	once = mode[0];
	list = mode[1];
	retry = mode[2];
	status = mode[3];
	if ((int)once + (int)list + (int)retry + (int)status > 1) {
		fputs("phasor sync: --once, --quarantine, --retry and --status exclude each other\n",
		      stderr);
		return EXIT_USAGE;
	}
	cfg = cmd_start("sync", a.config, a.db, a.log, a.verbosity, &rc);
	if (cfg == NULL)
		return rc;
	if (!cfg->sync.enabled && !list && !status) {
		fprintf(stderr, "phasor sync: %s has no [sync] section: nothing to forward to\n",
			cfg->path != NULL ? cfg->path : "the configuration");
		config_free(cfg);
		log_close();
		return EXIT_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	if (stat(cfg->store.path, &sb) < 0) {
		fprintf(stderr, "phasor sync: cannot open %s: %s\n", cfg->store.path,
			strerror(errno));
		goto out;
	}
	/* Migrate the buffer to this binary's schema (the recorder may be an
	 * older phasor; the migration is safe while it runs). */
	st = store_open(cfg->store.path, 1000, 1, 0, &cause);
	if (st == NULL) {
		fprintf(stderr, "phasor sync: %s\n", cause);
		goto out;
	}
	store_close(st);
	s = sync_new(cfg, cfg->store.path, &cause);
	if (s == NULL) {
		fprintf(stderr, "phasor sync: %s\n", cause);
		goto out;
	}
	if (list) {
		fputs("kind,seq,time,meter,quantity,value,quality,sqlstate,error,first_failed,"
		      "last_failed,attempts\n",
		      stdout);
		if (sync_quarantine_list(s, print_row, stdout, &cause) < 0) {
			fprintf(stderr, "phasor sync: %s\n", cause);
			goto out;
		}
		rc = fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_RUNTIME;
	} else if (retry) {
		int64_t taken, left;

		if (sync_quarantine_retry(s, &taken, &left, &cause) < 0) {
			fprintf(stderr, "phasor sync: %s\n", cause);
			goto out;
		}
		printf("quarantine: %" PRId64 " rows taken by the server, %" PRId64 " still refused\n",
		       taken, left);
		rc = EXIT_OK;
	} else if (status) {
		print_status(s, stdout);
		rc = EXIT_OK;
	} else if (once) {
		struct sync_stats ss;

		if (sync_once(s, &cause) < 0) {
			fprintf(stderr, "phasor sync: %s\n", cause);
			sync_get_stats(s, &ss);
		} else {
			rc = EXIT_OK;
		}
		sync_get_stats(s, &ss);
		log_info("sync: forwarded %" PRIu64 " samples, %" PRIu64 " alarm events and %" PRIu64
			 " forecast rows, backlog %" PRId64 ", quarantined %" PRId64,
			 ss.forwarded, ss.alarms_forwarded, ss.forecasts_forwarded, ss.backlog,
			 ss.quarantined);
	} else {
		rc = run_loop(s);
	}
out:
	free(cause);
	sync_free(s);
	config_free(cfg);
	log_close();
	return rc;
}
