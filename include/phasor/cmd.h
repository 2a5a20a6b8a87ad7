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
int cmd_replay(int argc, char **argv);
int cmd_alarms(int argc, char **argv);
int cmd_console(int argc, char **argv);
/* The console's usage with every option (also the head of phasor --help). */
void cmd_console_usage(FILE *out);
int cmd_sync(int argc, char **argv);
int cmd_forecast(int argc, char **argv);
int cmd_report(int argc, char **argv);
/*
 * The CSV input of `phasor forecast --csv`, as the command reads it (for
 * tests/fuzz/fuzz_forecast_csv.c): text (len bytes, NUL-terminated,
 * changed in place) is the file name's contents, made a series on the
 * grid of step_us (0: the data's own step). EXIT_OK with *n intervals from
 * *t0_us every *step_out_us in *y (the caller frees it), or EXIT_USAGE
 * with the command's message on stderr (*y NULL).
 */
int cmd_forecast_csv(const char *name, char *text, size_t len, int64_t step_us, int64_t *t0_us,
		     int64_t *step_out_us, double **y, size_t *n);

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
 * The end of a command's output on out (stdout): flushed. EXIT_OK, also
 * when the reader went away (EPIPE: `phasor export | head` is normal use,
 * said nothing about); otherwise "phasor CMD: writing the output: REASON"
 * on stderr and EXIT_RUNTIME. write_errno: errno of the first failed
 * write, 0 when none was seen. The caller ignores SIGPIPE before writing.
 */
int cmd_output_done(FILE *out, int write_errno, const char *cmd);

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
 * The shared option parser (cmd_common.c): getopt_long built from a
 * command's table, the common options handled once, the same messages for
 * every command ("phasor CMD: unknown option '--x' (did you mean '--y'?)",
 * "option '--db' needs a value", "unexpected argument 'x'", each followed
 * by the usage, or a pointer to --help, on stderr). Echoed arguments are sanitized.
 */
enum {
	CMD_OPT_CONFIG = 1 << 0,    /* -c, --config FILE */
	CMD_OPT_DB = 1 << 1,        /* --db FILE */
	CMD_OPT_LOG = 1 << 2,       /* --log FILE */
	CMD_OPT_VERBOSITY = 1 << 3, /* -v, --verbose; -q, --quiet */
	CMD_OPT_OUTPUT = 1 << 4,    /* -o, --output FILE */
};

/* One option of a command's own: long only; id >= 256, passed back. */
struct cmd_option {
	const char *name;           /* without "--"; NULL ends the table */
	bool has_arg;
	int id;
};

struct cmd_spec {
	const char *name;           /* "record"; NULL: the console ("phasor: ...") */
	unsigned common;            /* CMD_OPT_* */
	const struct cmd_option *options; /* NULL: none */
	/* One of the options above: 0 goes on, else the exit status (the
	 * function printed why). */
	int (*option)(void *ctx, int id, const char *arg);
	void *ctx;
	void (*usage)(FILE *out);   /* for --help (stdout) and after an error */
	bool hint;                  /* after an error "(see phasor CMD --help)", not the usage */
};

struct cmd_args {
	const char *config, *db, *log; /* NULL when not given */
	const char *output;            /* -o (CMD_OPT_OUTPUT); NULL when not given */
	int verbosity;                 /* 1: -v, -1: -q, 0: neither */
};

/*
 * Parses argv (argv[0] is the command) against spec into *a; no operand
 * is accepted. Returns -1 when the command goes on, else its exit status:
 * EXIT_OK after --help, EXIT_USAGE after a message, or what spec->option
 * returned.
 */
int cmd_parse(const struct cmd_spec *spec, int argc, char **argv, struct cmd_args *a);

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
	int64_t every_us;              /* --every (export): 0 when not given */
	bool jsonl;
};
/*
 * The console's display options, shared by `phasor` and `phasor replay`:
 * put CMD_DISPLAY_OPTIONS in the command's option table and pass every id
 * to cmd_display_option first (-1: not one of them, else 0 or EXIT_USAGE
 * after saying why). cmd is "phasor" or "phasor replay", for messages.
 */
enum { CMD_DISPLAY_THEME = 900, CMD_DISPLAY_NO_COLOR, CMD_DISPLAY_ASCII, CMD_DISPLAY_FRAMES };
#define CMD_DISPLAY_OPTIONS                                                                     \
	{ "theme", true, CMD_DISPLAY_THEME }, { "no-color", false, CMD_DISPLAY_NO_COLOR },       \
	    { "no-colour", false, CMD_DISPLAY_NO_COLOR }, { "ascii", false, CMD_DISPLAY_ASCII }, \
	    { "frames", true, CMD_DISPLAY_FRAMES }
struct ui_opts;
int cmd_display_option(const char *cmd, struct ui_opts *uo, int id, const char *arg);
/* A --theme that loads (else its diagnostics on stderr): 0, or EXIT_USAGE. */
int cmd_theme_check(const char *theme);
int cmd_reader_args(const char *cmd, int argc, char **argv, bool filters, void (*usage)(FILE *),
		    struct cmd_reader_args *a);

#endif
