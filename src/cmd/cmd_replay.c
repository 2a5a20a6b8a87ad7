// SPDX-License-Identifier: MIT
/*
 * cmd_replay: `phasor replay --db FILE [--from TIME] [--speed X]
 * [--session N]`: the console on a recorded buffer, with a time cursor
 * (replay.h). The configuration is the one kept with the session (its
 * meters, alarms, site and time zone); -c FILE gives another, for a buffer
 * whose sessions kept none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/replay.h"
#include "phasor/ui.h"
#include "phasor/util.h"

static void usage(FILE *out)
{
	fputs("usage: phasor replay --db FILE [--from TIME] [--speed X] [--session N]\n"
	      "                     [-c FILE] [--theme NAME] [--no-color] [--ascii] [--frames N]\n"
	      "\n"
	      "The console on a recorded buffer, as the plant was at a time cursor: every\n"
	      "view, the alarm states and acknowledgements of the journal. Reads only;\n"
	      "connects to nothing.\n"
	      "  --db FILE        the buffer ([store] path of the configuration)\n"
	      "  --from TIME      where the cursor starts (default: the recording's start)\n"
	      "  --speed X        play at once at 1, 2, 10, 60, 600 or 3600 times real\n"
	      "                   time (default: paused)\n"
	      "  --session N      the session whose configuration is shown (default: the\n"
	      "                   one recording at the cursor's start)\n"
	      "  -c, --config FILE  a configuration instead of the session's own\n"
	      "  --theme NAME, --no-color, --ascii, --frames N: as for the console\n"
	      "Keys: Space play/pause, > < speed, . , one poll, ] [ one minute, } { one\n"
	      "hour, Home End the recording's ends, n N next/previous alarm event.\n"
	      "TIME: 2026-11-22T14:00:00Z, '2026-11-22 15:00' (local), -2h, -30m, -7d, now,\n"
	      "      today, yesterday (local midnight)\n",
	      out);
}

enum { OPT_FROM = 256, OPT_SPEED, OPT_SESSION };

struct replay_args {
	struct replay_opts ro;
	struct ui_opts uo;
	const char *from;
};

static int replay_option(void *ctx, int id, const char *arg)
{
	struct replay_args *ra = ctx;
	long n;
	char *end;
	int rc = cmd_display_option("phasor replay", &ra->uo, id, arg);

	if (rc >= 0)
		return rc;
	switch (id) {
	case OPT_FROM:
		ra->from = arg;
		break;
	case OPT_SPEED:
		ra->ro.speed = strtod(arg, &end);
		if (end == arg || *end != '\0' || !(ra->ro.speed == 1 || ra->ro.speed == 2 ||
						    ra->ro.speed == 10 || ra->ro.speed == 60 ||
						    ra->ro.speed == 600 || ra->ro.speed == 3600)) {
			fprintf(stderr, "phasor replay: --speed: '%s' is not one of 1, 2, 10, 60,"
					" 600, 3600\n",
				arg);
			return EXIT_USAGE;
		}
		break;
	case OPT_SESSION:
		if (util_parse_long(arg, 1, 0x7fffffffL, &n) < 0) {
			fprintf(stderr, "phasor replay: --session: '%s' is not a session number\n",
				arg);
			return EXIT_USAGE;
		}
		ra->ro.session = n;
		break;
	}
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	static const struct cmd_option opts[] = {
		{ "from", true, OPT_FROM },
		{ "speed", true, OPT_SPEED },
		{ "session", true, OPT_SESSION },
		CMD_DISPLAY_OPTIONS,
		{ NULL, false, 0 },
	};
	struct replay_args ra;
	const struct cmd_spec spec = {
		.name = "replay",
		.common = CMD_OPT_DB | CMD_OPT_CONFIG,
		.options = opts,
		.option = replay_option,
		.ctx = &ra,
		.usage = usage,
	};
	struct cmd_args a;
	struct replay *rp = NULL;
	struct config *cfg = NULL;
	char *cause = NULL;
	int rc;

	memset(&ra, 0, sizeof(ra));
	ra.ro.from_us = INT64_MIN;
	rc = cmd_parse(&spec, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (a.db == NULL) {
		fprintf(stderr, "phasor replay: --db FILE is required\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (ra.from != NULL && util_parse_time(ra.from, util_now_us(), &ra.ro.from_us) < 0) {
		fprintf(stderr, "phasor replay: --from: '%s' is not a time\n", ra.from);
		return EXIT_USAGE;
	}
	ra.ro.db = a.db;
	ra.ro.trends = true;
	rp = replay_open(&ra.ro, &cause);
	if (rp == NULL) {
		fprintf(stderr, "phasor replay: %s\n", cause);
		free(cause);
		return EXIT_RUNTIME;
	}
	/* The file first (what is wrong with it matters more), then the terminal. */
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		fprintf(stderr, "phasor replay: the console needs a terminal (its %s is not one);"
				" for the data use phasor export\n",
			!isatty(STDOUT_FILENO) ? "output" : "input");
		replay_free(rp);
		return EXIT_USAGE;
	}
	if (cmd_theme_check(ra.uo.theme) != 0) {
		replay_free(rp);
		return EXIT_USAGE;
	}
	cfg = a.config != NULL ? cmd_load_config(a.config) : replay_take_config(rp, &cause);
	if (cfg == NULL) {
		if (cause != NULL)
			fprintf(stderr, "phasor replay: %s\n", cause);
		free(cause);
		replay_free(rp);
		return EXIT_USAGE;
	}
	/* The session's log is the recorder's file: a replay keeps none (with
	 * -c, that configuration's). It never writes the buffer either. */
	if (a.config == NULL) {
		free(cfg->log.path);
		cfg->log.path = NULL;
	}
	free(cfg->store.path);
	cfg->store.path = util_strdup(a.db);
	if (cfg->site.timezone != NULL) {
		setenv("TZ", cfg->site.timezone, 1);
		tzset();
	}
	if (replay_start(rp, cfg, &cause) < 0) {
		fprintf(stderr, "phasor replay: %s\n", cause);
		free(cause);
		replay_free(rp);
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	ra.uo.replay = rp;
	ra.uo.read_only = true;
	rc = ui_run(cfg, &ra.uo);
	replay_free(rp);
	config_free(cfg);
	return rc;
}
