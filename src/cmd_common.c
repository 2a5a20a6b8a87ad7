// SPDX-License-Identifier: MIT
/*
 * cmd_common: what the readers of a buffer (`phasor export`, `phasor
 * alarms`) share on their command lines: the messages for option problems
 * and the --from/--to range. Every echoed argument is sanitized.
 */
#include <stdio.h>
#include <string.h>

#include "phasor/cmd.h"
#include "phasor/util.h"

int cmd_usage_error(const char *cmd, int c, char **argv, int optind_now, void (*usage)(FILE *))
{
	char safe[256];

	util_sanitize(safe, sizeof(safe), argv[optind_now - 1]);
	if (c == ':')
		fprintf(stderr, "phasor %s: option '%s' needs a value\n", cmd, safe);
	else
		fprintf(stderr, "phasor %s: unknown option '%s'\n", cmd, safe);
	usage(stderr);
	return EXIT_USAGE;
}

int cmd_check_args(const char *cmd, int argc, char **argv, int optind_now, const char *db,
		   void (*usage)(FILE *))
{
	char safe[256];

	if (optind_now < argc) {
		fprintf(stderr, "phasor %s: unexpected argument '%s'\n", cmd,
			util_sanitize(safe, sizeof(safe), argv[optind_now]));
		usage(stderr);
		return EXIT_USAGE;
	}
	if (db == NULL) {
		fprintf(stderr, "phasor %s: --db FILE is required\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_time_range(const char *cmd, const char *from, const char *to, int64_t *from_us,
		   int64_t *to_us, void (*usage)(FILE *))
{
	int64_t now = util_now_us();
	char safe[256];

	if (from != NULL && util_parse_time(from, now, from_us) < 0) {
		fprintf(stderr, "phasor %s: --from: not a TIME: '%s'\n", cmd,
			util_sanitize(safe, sizeof(safe), from));
		usage(stderr);
		return EXIT_USAGE;
	}
	if (to != NULL && util_parse_time(to, now, to_us) < 0) {
		fprintf(stderr, "phasor %s: --to: not a TIME: '%s'\n", cmd,
			util_sanitize(safe, sizeof(safe), to));
		usage(stderr);
		return EXIT_USAGE;
	}
	if (*from_us > *to_us) {
		fprintf(stderr, "phasor %s: --from is after --to\n", cmd);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_format(const char *cmd, const char *arg, void (*usage)(FILE *))
{
	char safe[256];

	if (strcmp(arg, "csv") == 0)
		return 0;
	if (strcmp(arg, "jsonl") == 0)
		return 1;
	fprintf(stderr, "phasor %s: unknown format '%s' (csv, jsonl)\n", cmd,
		util_sanitize(safe, sizeof(safe), arg));
	usage(stderr);
	return -1;
}
