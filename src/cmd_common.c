// SPDX-License-Identifier: MIT
/*
 * cmd_common: the command line the readers of a buffer (`phasor export`,
 * `phasor alarms`) share: --db, --from/--to, --format, --help, and for
 * export --meter/--quantity, with the same messages for every problem.
 * Every echoed argument is sanitized. Also the start the long-running
 * commands (`phasor record`, `phasor sync`) share: configuration, --db,
 * the log.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/log.h"
#include "phasor/util.h"

static int bad_time(const char *cmd, const char *opt, const char *value, void (*usage)(FILE *))
{
	char safe[256];

	fprintf(stderr, "phasor %s: %s: not a TIME: '%s'\n", cmd, opt,
		util_sanitize(safe, sizeof(safe), value));
	usage(stderr);
	return EXIT_USAGE;
}

int cmd_reader_args(const char *cmd, int argc, char **argv, bool filters, void (*usage)(FILE *),
		    struct cmd_reader_args *a)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "meter", required_argument, NULL, 'm' },
		{ "quantity", required_argument, NULL, 'q' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL;
	int64_t now = util_now_us();
	char safe[256];
	int c;

	memset(a, 0, sizeof(*a));
	a->from_us = INT64_MIN;
	a->to_us = INT64_MAX;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (!filters && (c == 'm' || c == 'q')) {
			fprintf(stderr, "phasor %s: unknown option '--%s'\n", cmd,
				c == 'm' ? "meter" : "quantity");
			usage(stderr);
			return EXIT_USAGE;
		}
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 'm':
			a->meter = optarg;
			break;
		case 'q':
			a->quantity = optarg;
			break;
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "csv") == 0 || strcmp(optarg, "jsonl") == 0) {
				a->jsonl = optarg[0] == 'j';
				break;
			}
			fprintf(stderr, "phasor %s: unknown format '%s' (csv, jsonl)\n", cmd,
				util_sanitize(safe, sizeof(safe), optarg));
			usage(stderr);
			return EXIT_USAGE;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			util_sanitize(safe, sizeof(safe), argv[optind - 1]);
			if (c == ':')
				fprintf(stderr, "phasor %s: option '%s' needs a value\n", cmd, safe);
			else
				fprintf(stderr, "phasor %s: unknown option '%s'\n", cmd, safe);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "phasor %s: unexpected argument '%s'\n", cmd,
			util_sanitize(safe, sizeof(safe), argv[optind]));
		usage(stderr);
		return EXIT_USAGE;
	}
	if (a->db == NULL) {
		fprintf(stderr, "phasor %s: --db FILE is required\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (from != NULL && util_parse_time(from, now, &a->from_us) < 0)
		return bad_time(cmd, "--from", from, usage);
	if (to != NULL && util_parse_time(to, now, &a->to_us) < 0)
		return bad_time(cmd, "--to", to, usage);
	if (a->from_us > a->to_us) {
		fprintf(stderr, "phasor %s: --from is after --to\n", cmd);
		return EXIT_USAGE;
	}
	return -1;
}

struct config *cmd_start(const char *cmd, const char *config_path, const char *db,
			 const char *log_path, int verbosity, int *status)
{
	struct config *cfg = cmd_load_config(config_path);

	if (cfg == NULL) {
		*status = EXIT_USAGE;
		return NULL;
	}
	if (db != NULL) {
		free(cfg->store.path);
		cfg->store.path = util_strdup(db);
	}
	if (log_path == NULL)
		log_path = cfg->log.path;
	if (log_path != NULL && log_open(log_path) < 0) {
		fprintf(stderr, "phasor %s: cannot open log %s: %s\n", cmd, log_path,
			strerror(errno));
		config_free(cfg);
		*status = EXIT_RUNTIME;
		return NULL;
	}
	log_set_level(verbosity > 0 ? LOG_DEBUG
		      : verbosity < 0 ? LOG_WARN
				      : (enum log_level)cfg->log.level);
	return cfg;
}
