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

/*
 * The command table: what `phasor --help` lists and what main dispatches
 * to. Each command parses its own options with cmd_parse (cmd_common.c).
 */
struct command {
	const char *name;
	const char *synopsis;    /* after "phasor NAME ", continuation lines indented */
	const char *summary;     /* NULL: the synopsis says it all */
	int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "record", "-c FILE [--for SECONDS]", "headless: acquire into the local buffer",
	  cmd_record },
	{ "check-config", "-c FILE", "validate the configuration", cmd_check_config },
	{ "sim",
	  "[--modbus HOST:PORT] [--mqtt URI] [--meters N] [--profile NAME]\n"
	  "[--fault KIND[:UNIT][@SECONDS[+DURATION]]]... [--seed N]",
	  "meter simulator (Modbus TCP server, MQTT publisher)", cmd_sim },
	{ "export",
	  "--db FILE [--meter NAME] [--quantity Q] [--from TIME] [--to TIME]\n"
	  "[--every DUR] [--format csv|jsonl]",
	  NULL, cmd_export },
	{ "replay", "--db FILE [--from TIME] [--speed X] [--session N]",
	  "the console on a recorded buffer, with a time cursor", cmd_replay },
	{ "alarms", "--db FILE [--from TIME] [--to TIME]\n[--format csv|jsonl]", "the alarm journal",
	  cmd_alarms },
	{ "alarms", "--what-if -c NEW.ini --db FILE [--from TIME] [--to TIME]",
	  "NEW.ini's alarms on the recorded values, beside the journal", cmd_alarms },
	{ "sync", "-c FILE [--once]", "forward the local buffer to PostgreSQL", cmd_sync },
	{ "forecast",
	  "(--db FILE [--meter NAME] | --csv FILE) [--interval DUR] [--horizon DUR]\n"
	  "[--at TIME] [--tz ZONE] [--backtest DAYS] [--format csv|jsonl]",
	  "day-ahead load forecast", cmd_forecast },
	{ "report",
	  "--db FILE --from TIME --to TIME [--meter NAME]...\n"
	  "-o FILE.pdf|FILE.png [--csv FILE.csv] [-c FILE]",
	  "a printable report of a time range", cmd_report },
};

#define SUMMARY_COL 32

static void usage(FILE *out)
{
	size_t i;

	cmd_console_usage(out);
	fputs("\nCommands:\n", out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];
		const char *p = c->synopsis;
		int indent = (int)strlen(c->name) + 10, col;

		/* "  phasor NAME " then the synopsis, one output line per line. */
		col = fprintf(out, "  phasor %s ", c->name);
		for (;;) {
			size_t len = strcspn(p, "\n");

			col += fprintf(out, "%.*s", (int)len, p);
			if (p[len] == '\0')
				break;
			fprintf(out, "\n%*s", indent, "");
			col = indent;
			p += len + 1;
		}
		/* The summary beside a short synopsis, else on its own line. */
		if (c->summary != NULL && col < SUMMARY_COL - 1 && strchr(c->synopsis, '\n') == NULL)
			fprintf(out, "%*s%s\n", SUMMARY_COL - col, "", c->summary);
		else if (c->summary != NULL)
			fprintf(out, "\n%*s%s\n", SUMMARY_COL, "", c->summary);
		else
			fputc('\n', out);
	}
	fputs("  phasor --help, phasor COMMAND --help, phasor --version\n"
	      "\n"
	      "Exit status: 0 success, 1 runtime failure, 2 bad usage or configuration.\n",
	      out);
}

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
