/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_CMD_H
#define PHASOR_CMD_H
#include <stdint.h>
#include <stdio.h>
/*
 * cmd: the subcommands of the phasor binary, one file each (cmd_*.c).
 * Each takes the arguments after the command name (argv[0] is the command)
 * and returns the exit status of the contract: 0 success, 1 runtime
 * failure, 2 bad usage or bad configuration.
 */

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

int cmd_record(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_alarms(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_sync(int argc, char **argv);

/*
 * The acquisition loop of `phasor record`:
 * runs a hub on cfg until SIGINT/SIGTERM or for_ms, then drains and
 * flushes. Returns an exit status.
 */
struct config;
struct record_opts {
	const char *mode;          /* session mode and log prefix: "record", "demo" */
	int64_t for_ms;            /* -1: until a signal */
	int64_t stats_ms;          /* summary log period, 0: none */
};
int record_run(struct config *cfg, const struct record_opts *o);

/*
 * Shared by the commands: load the configuration named by -c (or the
 * default search), printing every error to stderr. NULL when it fails (the
 * caller exits 2).
 */
struct config *cmd_load_config(const char *path);

/*
 * For the buffer readers' getopt_long loops (cmd_common.c). Each prints
 * "phasor CMD: ..." and the usage to stderr and returns EXIT_USAGE, or 0
 * when all is well: an option problem (c ':' missing value, else unknown);
 * operands left over or no --db; --from/--to not a TIME or reversed (the
 * bounds are set only when given).
 */
int cmd_usage_error(const char *cmd, int c, char **argv, int optind_now, void (*usage)(FILE *));
int cmd_check_args(const char *cmd, int argc, char **argv, int optind_now, const char *db,
		   void (*usage)(FILE *));
/* --format: 0 csv, 1 jsonl, -1 (after printing) anything else. */
int cmd_format(const char *cmd, const char *arg, void (*usage)(FILE *));
int cmd_time_range(const char *cmd, const char *from, const char *to, int64_t *from_us,
		   int64_t *to_us, void (*usage)(FILE *));

#endif
