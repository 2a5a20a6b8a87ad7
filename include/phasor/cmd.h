/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_CMD_H
#define PHASOR_CMD_H
#include <stdbool.h>
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
 * The start of `phasor record` and `phasor sync`: the configuration (-c, or
 * the default search; errors printed), --db over [store] path, the log
 * (--log, else [log] path, else stderr) at the level of -v (1), -q (-1) or
 * [log] level (0). NULL with *status EXIT_USAGE (configuration) or
 * EXIT_RUNTIME (log).
 */
struct config *cmd_start(const char *cmd, const char *config_path, const char *db,
			 const char *log_path, int verbosity, int *status);

/*
 * The options the readers of a buffer share (cmd_common.c): --db FILE
 * (required), --from/--to TIME, --format csv|jsonl, --help, and with
 * filters --meter/--quantity. Returns -1 when the command goes on, else its
 * exit status: EXIT_OK after --help, EXIT_USAGE after printing "phasor CMD:
 * ..." and the usage.
 */
struct cmd_reader_args {
	const char *db;
	const char *meter, *quantity;  /* NULL: all (and always without filters) */
	int64_t from_us, to_us;        /* INT64_MIN / INT64_MAX when not given */
	bool jsonl;
};
int cmd_reader_args(const char *cmd, int argc, char **argv, bool filters, void (*usage)(FILE *),
		    struct cmd_reader_args *a);

#endif
