// SPDX-License-Identifier: MIT
/*
 * main: the phasor command line. Dispatches to the subcommands (cmd_*.c);
 * without a command, opens the console.
 *
 * Locale: numbers for machines (COPY to PostgreSQL, CSV and JSON, the
 * configuration, profiles, MQTT payloads) always use a decimal point, so
 * LC_NUMERIC stays "C" in every command, whatever LANG, LC_ALL or
 * LC_NUMERIC say. The subcommands never call setlocale (the whole process
 * is in the "C" locale); the console takes the user's locale for what
 * ncursesw needs (LC_CTYPE: UTF-8 and character widths) and then puts
 * LC_NUMERIC back to "C", here, before any thread exists (setlocale is not
 * thread-safe, and --demo starts its simulator before the screen). Its own
 * numbers are built without printf's radix (fmt.c, view_fixed).
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "phasor/cmd.h"

static void usage(FILE *out)
{
	fputs("usage:\n"
	      "  phasor [-c FILE] [--theme NAME] [--no-color] [--ascii] [--read-only] [--frames N]\n"
	      "  phasor --demo [options]       the console on a built-in simulated plant\n"
	      "  phasor record -c FILE [--for SECONDS]\n"
	      "                                headless: acquire into the local buffer\n"
	      "  phasor check-config -c FILE   validate the configuration\n"
	      "  phasor sim [--modbus HOST:PORT] [--mqtt URI] [--meters N] [--profile NAME]\n"
	      "             [--fault KIND[:UNIT][@SECONDS[+DURATION]]]... [--seed N]\n"
	      "                                meter simulator (Modbus TCP server, MQTT publisher)\n"
	      "  phasor export --db FILE [--meter NAME] [--quantity Q] [--from TIME] [--to TIME]\n"
	      "                [--format csv]\n"
	      "  phasor alarms --db FILE [--from TIME] [--to TIME] [--format csv]\n"
	      "                                the alarm journal\n"
	      "  phasor sync -c FILE [--once]  forward the local buffer to PostgreSQL\n"
	      "  phasor --help, phasor COMMAND --help, phasor --version\n"
	      "\n"
	      "Exit status: 0 success, 1 runtime failure, 2 bad usage or configuration.\n",
	      out);
}

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "record", cmd_record },
	{ "check-config", cmd_check_config },
	{ "sim", cmd_sim },
	{ "export", cmd_export },
	{ "alarms", cmd_alarms },
	{ "sync", cmd_sync },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc >= 2) {
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
			usage(stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[1], "--version") == 0) {
			printf("phasor %s\n", PHASOR_VERSION);
			return EXIT_OK;
		}
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				return commands[i].run(argc - 1, argv + 1);
		if (argv[1][0] != '-') {
			fprintf(stderr, "phasor: unknown command '%s'\n", argv[1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");
	return cmd_console(argc, argv);
}
