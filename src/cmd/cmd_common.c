// SPDX-License-Identifier: MIT
/*
 * cmd_common: the shared option parser of every command (cmd_parse: a
 * command gives a table of its own options and the common ones it takes;
 * getopt_long is built from that, the messages are the same everywhere).
 * The command line the readers of a buffer (`phasor export`,
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

#include "phasor/bucket.h"
#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/diag.h"
#include "phasor/log.h"
#include "phasor/theme.h"
#include "phasor/ui.h"
#include "phasor/util.h"

#define CMD_MAX_OPTS 32

/* What follows a usage error: the usage, or where to find it. */
static void after_error(const struct cmd_spec *sp, const char *who)
{
	if (sp->hint)
		fprintf(stderr, "(see %s --help)\n", who);
	else
		sp->usage(stderr);
}

/* getopt_long values of the common options (own ones are >= 256). */
enum { ID_DB = 1, ID_LOG = 2 };

/* One entry of the getopt_long table (and of the "did you mean" names). */
static void add_opt(struct option *lo, const char **names, size_t *n, const char *name,
		    bool has_arg, int val)
{
	if (*n >= CMD_MAX_OPTS)
		return;
	lo[*n] = (struct option){ name, has_arg ? required_argument : no_argument, NULL, val };
	names[(*n)++] = name;
}

/* The argument that held the long option just parsed: argv[optind - 1],
 * or the one before when its value was the next argument. */
static const char *long_given(char **argv)
{
	if (optarg != NULL && optarg == argv[optind - 1] && optind >= 2)
		return argv[optind - 2];
	return argv[optind - 1];
}

/* Is it written out in full ("--name", "--name=value")? */
static bool whole_name(const char *given, const char *name)
{
	size_t len = strlen(name);

	return strncmp(given, "--", 2) == 0 && strncmp(given + 2, name, len) == 0 &&
	       (given[2 + len] == '\0' || given[2 + len] == '=');
}

static bool known_name(const char *word, const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(word, names[i]) == 0)
			return true;
	return false;
}

int cmd_parse(const struct cmd_spec *sp, int argc, char **argv, struct cmd_args *a)
{
	struct option lo[CMD_MAX_OPTS + 1];
	const char *names[CMD_MAX_OPTS + 1];
	char shorts[16] = ":h", who[64], safe[256], word[128];
	size_t n = 0, i;
	int c;

	memset(a, 0, sizeof(*a));
	snprintf(who, sizeof(who), "phasor%s%s", sp->name != NULL ? " " : "",
		 sp->name != NULL ? sp->name : "");
	if (sp->common & CMD_OPT_CONFIG) {
		add_opt(lo, names, &n, "config", true, 'c');
		strcat(shorts, "c:");
	}
	if (sp->common & CMD_OPT_DB)
		add_opt(lo, names, &n, "db", true, ID_DB);
	if (sp->common & CMD_OPT_LOG)
		add_opt(lo, names, &n, "log", true, ID_LOG);
	if (sp->common & CMD_OPT_VERBOSITY) {
		add_opt(lo, names, &n, "verbose", false, 'v');
		add_opt(lo, names, &n, "quiet", false, 'q');
		strcat(shorts, "vq");
	}
	if (sp->common & CMD_OPT_OUTPUT) {
		add_opt(lo, names, &n, "output", true, 'o');
		strcat(shorts, "o:");
	}
	for (i = 0; sp->options != NULL && sp->options[i].name != NULL; i++)
		add_opt(lo, names, &n, sp->options[i].name, sp->options[i].has_arg, sp->options[i].id);
	add_opt(lo, names, &n, "help", false, 'h');
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	names[n] = NULL;

	optind = 0; /* GNU: full re-initialisation (another parse may have run) */
	opterr = 0;
	for (;;) {
		int li = -1;

		c = getopt_long(argc, argv, shorts, lo, &li);
		if (c == -1)
			break;
		/* getopt_long takes any unambiguous prefix ("--for" for
		 * "--format"): a script's typo would silently mean another
		 * option. Only the whole name is accepted. */
		if (li >= 0 && c != '?' && !whole_name(long_given(argv), lo[li].name)) {
			fprintf(stderr, "%s: unknown option '%s' (did you mean '--%s'?)\n", who,
				util_sanitize(safe, sizeof(safe), long_given(argv)), lo[li].name);
			after_error(sp, who);
			return EXIT_USAGE;
		}
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case ID_DB:
			a->db = optarg;
			break;
		case ID_LOG:
			a->log = optarg;
			break;
		case 'o':
			a->output = optarg;
			break;
		case 'v':
			a->verbosity = 1;
			break;
		case 'q':
			a->verbosity = -1;
			break;
		case 'h':
			sp->usage(stdout);
			return EXIT_OK;
		case ':':
			if (strncmp(argv[optind - 1], "--", 2) == 0 &&
			    !known_name(argv[optind - 1] + 2, names)) {
				const char *near = util_closest(argv[optind - 1] + 2, names);

				fprintf(stderr, "%s: unknown option '%s'%s%s%s\n", who,
					util_sanitize(safe, sizeof(safe), argv[optind - 1]),
					near != NULL ? " (did you mean '--" : "", near != NULL ? near : "",
					near != NULL ? "'?)" : "");
				after_error(sp, who);
				return EXIT_USAGE;
			}
			fprintf(stderr, "%s: option '%s' needs a value\n", who,
				util_sanitize(safe, sizeof(safe), argv[optind - 1]));
			after_error(sp, who);
			return EXIT_USAGE;
		case '?': {
			const char *near;

			bool is_long = strncmp(argv[optind - 1], "--", 2) == 0;

			/* A long option: the argument; a short one: optopt (the
			 * argument may be a bundle, "-xv"). */
			if (is_long)
				util_sanitize(safe, sizeof(safe), argv[optind - 1]);
			else
				snprintf(safe, sizeof(safe), "-%c", optopt);
			util_strlcpy(word, safe + strspn(safe, "-"), sizeof(word));
			word[strcspn(word, "=")] = '\0';
			near = is_long ? util_closest(word, names) : NULL;
			if (near != NULL)
				fprintf(stderr, "%s: unknown option '%s' (did you mean '--%s'?)\n", who,
					safe, near);
			else
				fprintf(stderr, "%s: unknown option '%s'\n", who, safe);
			after_error(sp, who);
			return EXIT_USAGE;
		}
		default: {
			int rc = sp->option(sp->ctx, c, optarg);

			if (rc != 0)
				return rc;
			break;
		}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: %s '%s'\n", who,
			sp->name != NULL ? "unexpected argument" : "unknown command or argument",
			util_sanitize(safe, sizeof(safe), argv[optind]));
		after_error(sp, who);
		return EXIT_USAGE;
	}
	return -1;
}

static int bad_time(const char *cmd, const char *opt, const char *value, void (*usage)(FILE *))
{
	char safe[256];

	fprintf(stderr, "phasor %s: %s: not a TIME: '%s'\n", cmd, opt,
		util_sanitize(safe, sizeof(safe), value));
	usage(stderr);
	return EXIT_USAGE;
}

enum { OPT_METER = 256, OPT_QUANTITY, OPT_EVERY, OPT_FROM, OPT_TO, OPT_FORMAT };

struct reader_ctx {
	const char *cmd;
	void (*usage)(FILE *);
	struct cmd_reader_args *a;
	const char *from, *to;
};

static int reader_option(void *ctx, int id, const char *arg)
{
	struct reader_ctx *r = ctx;
	char safe[256];

	switch (id) {
	case OPT_METER:
		r->a->meter = arg;
		break;
	case OPT_QUANTITY:
		r->a->quantity = arg;
		break;
	case OPT_EVERY: {
		int64_t ms;

		if (util_parse_duration_ms(arg, &ms) < 0 || ms > INT64_MAX / 1000 ||
		    !bucket_every_ok(ms * 1000)) {
			fprintf(stderr,
				"phasor %s: --every %s: not a duration that divides a day (1s to 1d:"
				" 1m, 15m, 1h, 1d, ...)\n",
				r->cmd, util_sanitize(safe, sizeof(safe), arg));
			return EXIT_USAGE;
		}
		r->a->every_us = ms * 1000;
		break;
	}
	case OPT_FROM:
		r->from = arg;
		break;
	case OPT_TO:
		r->to = arg;
		break;
	case OPT_FORMAT:
		if (strcmp(arg, "csv") == 0 || strcmp(arg, "jsonl") == 0) {
			r->a->jsonl = arg[0] == 'j';
			break;
		}
		fprintf(stderr, "phasor %s: unknown format '%s' (csv, jsonl)\n", r->cmd,
			util_sanitize(safe, sizeof(safe), arg));
		r->usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_reader_args(const char *cmd, int argc, char **argv, bool filters, void (*usage)(FILE *),
		    struct cmd_reader_args *a)
{
	static const struct cmd_option with_filters[] = {
		{ "meter", true, OPT_METER },
		{ "quantity", true, OPT_QUANTITY },
		{ "every", true, OPT_EVERY },
		{ "from", true, OPT_FROM },
		{ "to", true, OPT_TO },
		{ "format", true, OPT_FORMAT },
		{ NULL, false, 0 },
	};
	struct reader_ctx r = { .cmd = cmd, .usage = usage, .a = a };
	struct cmd_spec spec = {
		.name = cmd,
		.common = CMD_OPT_DB,
		/* Without filters, --meter, --quantity and --every are unknown options. */
		.options = filters ? with_filters : with_filters + 3,
		.option = reader_option,
		.ctx = &r,
		.usage = usage,
	};
	struct cmd_args ca;
	int64_t now = util_now_us();
	int rc;

	memset(a, 0, sizeof(*a));
	a->from_us = INT64_MIN;
	a->to_us = INT64_MAX;
	rc = cmd_parse(&spec, argc, argv, &ca);
	if (rc >= 0)
		return rc;
	a->db = ca.db;
	if (a->db == NULL) {
		fprintf(stderr, "phasor %s: --db FILE is required\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (r.from != NULL && util_parse_time(r.from, now, &a->from_us) < 0)
		return bad_time(cmd, "--from", r.from, usage);
	if (r.to != NULL && util_parse_time(r.to, now, &a->to_us) < 0)
		return bad_time(cmd, "--to", r.to, usage);
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

int cmd_output_done(FILE *out, int write_errno, const char *cmd)
{
	int err = 0;

	errno = 0;
	if (fflush(out) != 0 || ferror(out))
		err = write_errno != 0 ? write_errno : errno != 0 ? errno : EIO;
	if (err == 0 || err == EPIPE)
		return EXIT_OK;
	fprintf(stderr, "phasor %s: writing the output: %s\n", cmd, strerror(err));
	return EXIT_RUNTIME;
}

int cmd_theme_check(const char *theme)
{
	struct diag dg = { 0 };
	struct theme *t;

	if (theme == NULL)
		return 0;
	t = theme_load(theme, &dg);
	if (t == NULL) {
		diag_print(&dg, stderr);
		diag_clear(&dg);
		return EXIT_USAGE;
	}
	theme_free(t);
	return 0;
}

int cmd_display_option(const char *cmd, struct ui_opts *uo, int id, const char *arg)
{
	long frames;

	switch (id) {
	case CMD_DISPLAY_THEME:
		uo->theme = arg;
		return 0;
	case CMD_DISPLAY_NO_COLOR:
		uo->no_color = true;
		return 0;
	case CMD_DISPLAY_ASCII:
		uo->ascii = true;
		return 0;
	case CMD_DISPLAY_FRAMES:
		if (util_parse_long(arg, 1, 1000000000L, &frames) < 0) {
			fprintf(stderr, "%s: --frames: '%s' is not a positive count\n", cmd, arg);
			return EXIT_USAGE;
		}
		uo->frames = frames;
		return 0;
	default:
		return -1;
	}
}
