// SPDX-License-Identifier: MIT
/*
 * cmd_alarms: `phasor alarms`, the alarm journal of a local buffer, oldest
 * first, as the contract's CSV (time,alarm,meter,quantity,priority,event,
 * state,value,limit,operator,note) or JSON lines. A read-only reader: it
 * works while a console or a recorder writes the same file.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/csv.h"
#include "phasor/store.h"
#include "phasor/util.h"
#include "phasor/whatif.h"

enum format { FORMAT_CSV, FORMAT_JSONL };

struct alarms_ctx {
	FILE *out;
	enum format format;
	uint64_t rows;
	int write_errno;          /* errno of the first failed write; 0: none */
};

static void usage(FILE *out)
{
	fputs("usage: phasor alarms --db FILE [--from TIME] [--to TIME] [--format csv|jsonl]\n"
	      "\n"
	      "Print the alarm journal of a local buffer, oldest first: every raise, clear,\n"
	      "acknowledgement (with the operator and the note), shelve, unshelve,\n"
	      "suppression and note.\n"
	      "  --db FILE        the buffer ([store] path of the configuration)\n"
	      "  --from TIME      from this time, inclusive\n"
	      "  --to TIME        up to this time, exclusive\n"
	      "  --format F       csv (default): time,alarm,meter,quantity,priority,event,state,\n"
	      "                   value,limit,operator,note\n"
	      "                   jsonl: one JSON object per line (with ids and origins)\n"
	      "TIME: 2026-11-22T14:00:00Z, '2026-11-22 15:00' (local), -2h, -30m, -7d, now,\n"
	      "      today, yesterday (local midnight)\n"
	      "Other definitions on the recorded values: phasor alarms --what-if --help\n",
	      out);
}

static void put_number(FILE *out, double v)
{
	char buf[40];

	/* An empty field, not "nan": the event has no value (an ack). */
	if (isnan(v))
		return;
	csv_double(v, buf, sizeof(buf));
	fputs(buf, out);
}

static int on_csv(struct alarms_ctx *x, const struct store_alarm_event *e)
{
	char when[40];

	util_format_time_ms(e->t_us, when, sizeof(when));
	fputs(when, x->out);
	putc(',', x->out);
	csv_field(x->out, e->alarm);
	putc(',', x->out);
	csv_field(x->out, e->meter);
	putc(',', x->out);
	csv_field(x->out, e->quantity);
	putc(',', x->out);
	csv_field(x->out, e->priority);
	putc(',', x->out);
	csv_field(x->out, e->event);
	putc(',', x->out);
	csv_field(x->out, e->state);
	putc(',', x->out);
	put_number(x->out, e->value);
	putc(',', x->out);
	put_number(x->out, e->limit);
	putc(',', x->out);
	csv_field(x->out, e->operator_name);
	putc(',', x->out);
	csv_field(x->out, e->note);
	putc('\n', x->out);
	return 0;
}

static void add_string(cJSON *o, const char *key, const char *v)
{
	char safe[1024];

	cJSON_AddStringToObject(o, key, util_sanitize(safe, sizeof(safe), v != NULL ? v : ""));
}

static int on_jsonl(struct alarms_ctx *x, const struct store_alarm_event *e)
{
	cJSON *o = cJSON_CreateObject();
	char when[40], *text;

	if (o == NULL)
		util_fail("out of memory");
	util_format_time_ms(e->t_us, when, sizeof(when));
	cJSON_AddStringToObject(o, "time", when);
	add_string(o, "alarm", e->alarm);
	add_string(o, "meter", e->meter);
	add_string(o, "quantity", e->quantity);
	add_string(o, "priority", e->priority);
	add_string(o, "event", e->event);
	add_string(o, "state", e->state);
	if (isnan(e->value) || isinf(e->value))
		cJSON_AddNullToObject(o, "value");
	else
		cJSON_AddNumberToObject(o, "value", e->value);
	if (isnan(e->limit) || isinf(e->limit))
		cJSON_AddNullToObject(o, "limit");
	else
		cJSON_AddNumberToObject(o, "limit", e->limit);
	add_string(o, "operator", e->operator_name);
	add_string(o, "note", e->note);
	add_string(o, "id", e->id);
	add_string(o, "origin", e->origin);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		util_fail("out of memory");
	fputs(text, x->out);
	putc('\n', x->out);
	cJSON_free(text);
	return 0;
}

static int on_row(void *ctx, const struct store_alarm_event *e)
{
	struct alarms_ctx *x = ctx;

	x->rows++;
	if (x->format == FORMAT_CSV)
		on_csv(x, e);
	else
		on_jsonl(x, e);
	if (ferror(x->out)) {
		x->write_errno = errno;
		return 1;
	}
	return 0;
}

/* ---- --what-if ---- */

static void whatif_usage(FILE *out)
{
	fputs("usage: phasor alarms --what-if -c NEW.ini --db FILE [--from TIME] [--to TIME]\n"
	      "\n"
	      "Evaluate NEW.ini's alarm definitions on what the buffer recorded (its samples\n"
	      "and comm changes, in time order, as the recorder's engine would have) and\n"
	      "print, per definition, what they would have raised beside what the recorded\n"
	      "journal had: CSV alarm,priority,recorded_raises,what_if_raises,\n"
	      "recorded_standing,what_if_standing,recorded_chattering,what_if_chattering,\n"
	      "recorded_peak_per_10min,what_if_peak_per_10min, then a row '(all)'. The\n"
	      "EEMUA 191 figures of both sides (average and peak raises per 10 minutes,\n"
	      "floods) go to stderr. An empty what_if field: NEW.ini has no such definition.\n"
	      "  -c, --config NEW.ini  the definitions to try (its meters named as recorded)\n"
	      "  --db FILE        the buffer\n"
	      "  --from TIME, --to TIME  the range (default: the whole recording)\n",
	      out);
}

enum { WOPT_WHAT_IF = 256, WOPT_FROM, WOPT_TO };

struct whatif_args {
	const char *from, *to;
};

static int whatif_option(void *ctx, int id, const char *arg)
{
	struct whatif_args *w = ctx;

	if (id == WOPT_FROM)
		w->from = arg;
	else if (id == WOPT_TO)
		w->to = arg;
	return 0;
}

/* The recorded figure, then the new one (empty: NEW.ini has no such definition). */
static void put_pair(FILE *out, const struct whatif_def *d, const unsigned v[2])
{
	fprintf(out, ",%u,", v[WHATIF_RECORDED]);
	if (d == NULL || d->defined[WHATIF_NEW])
		fprintf(out, "%u", v[WHATIF_NEW]);
}

static int cmd_alarms_whatif(int argc, char **argv)
{
	static const struct cmd_option opts[] = {
		{ "what-if", false, WOPT_WHAT_IF },
		{ "from", true, WOPT_FROM },
		{ "to", true, WOPT_TO },
		{ NULL, false, 0 },
	};
	struct whatif_args w = { NULL, NULL };
	const struct cmd_spec spec = {
		.name = "alarms",
		.common = CMD_OPT_CONFIG | CMD_OPT_DB,
		.options = opts,
		.option = whatif_option,
		.ctx = &w,
		.usage = whatif_usage,
	};
	struct whatif_result r;
	struct cmd_args a;
	struct config *cfg;
	int64_t now = util_now_us(), from = INT64_MIN, to = INT64_MAX, t0;
	char *cause = NULL, a1[40], a2[40];
	size_t i;
	int rc = cmd_parse(&spec, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (a.config == NULL || a.db == NULL) {
		fprintf(stderr, "phasor alarms: --what-if needs -c NEW.ini and --db FILE\n");
		whatif_usage(stderr);
		return EXIT_USAGE;
	}
	if (w.from != NULL && util_parse_time(w.from, now, &from) < 0) {
		fprintf(stderr, "phasor alarms: --from: '%s' is not a time\n", w.from);
		return EXIT_USAGE;
	}
	if (w.to != NULL && util_parse_time(w.to, now, &to) < 0) {
		fprintf(stderr, "phasor alarms: --to: '%s' is not a time\n", w.to);
		return EXIT_USAGE;
	}
	cfg = cmd_load_config(a.config);
	if (cfg == NULL)
		return EXIT_USAGE;
	if (cfg->site.timezone != NULL) {
		setenv("TZ", cfg->site.timezone, 1);
		tzset();
	}
	t0 = util_mono_us();
	if (whatif_run(a.db, cfg, from, to, &r, &cause) < 0) {
		fprintf(stderr, "phasor alarms: %s\n", cause);
		free(cause);
		config_free(cfg);
		return EXIT_RUNTIME;
	}
	signal(SIGPIPE, SIG_IGN);
	fputs("alarm,priority,recorded_raises,what_if_raises,recorded_standing,what_if_standing,"
	      "recorded_chattering,what_if_chattering,recorded_peak_per_10min,"
	      "what_if_peak_per_10min\n",
	      stdout);
	for (i = 0; i < r.ndefs; i++) {
		const struct whatif_def *d = &r.defs[i];

		csv_field(stdout, d->alarm);
		putc(',', stdout);
		csv_field(stdout, d->priority);
		put_pair(stdout, d, d->raises);
		put_pair(stdout, d, d->standing);
		put_pair(stdout, d, d->chattering);
		put_pair(stdout, d, d->peak10);
		putc('\n', stdout);
	}
	{
		unsigned st[2] = { 0, 0 }, ch[2] = { 0, 0 };
		int side;

		for (i = 0; i < r.ndefs; i++)
			for (side = 0; side < 2; side++) {
				st[side] += r.defs[i].standing[side];
				ch[side] += r.defs[i].chattering[side];
			}
		fputs("(all),", stdout);
		put_pair(stdout, NULL, r.raises);
		put_pair(stdout, NULL, st);
		put_pair(stdout, NULL, ch);
		put_pair(stdout, NULL, r.peak10);
		putc('\n', stdout);
	}
	util_format_time_ms(r.from_us, a1, sizeof(a1));
	util_format_time_ms(r.to_us, a2, sizeof(a2));
	fprintf(stderr,
		"what-if: %s to %s, %llu samples, %llu evaluations in %.2f s\n"
		"  recorded: %u raises, %.2f per 10 min on average (EEMUA 191: <= 1), peak %u, "
		"%u flood(s)\n"
		"  what-if:  %u raises, %.2f per 10 min on average, peak %u, %u flood(s)\n",
		a1, a2, (unsigned long long)r.samples, (unsigned long long)r.evaluations,
		(double)(util_mono_us() - t0) / 1e6, r.raises[0], r.avg10[0], r.peak10[0],
		r.floods[0], r.raises[1], r.avg10[1], r.peak10[1], r.floods[1]);
	whatif_free(&r);
	config_free(cfg);
	return cmd_output_done(stdout, 0, "alarms");
}

int cmd_alarms(int argc, char **argv)
{
	struct alarms_ctx x = { stdout, FORMAT_CSV, 0, 0 };
	struct cmd_reader_args args;
	struct store_reader *r;
	char *cause = NULL;
	int status, i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--what-if") == 0)
			return cmd_alarms_whatif(argc, argv);
	status = cmd_reader_args("alarms", argc, argv, false, usage, &args);

	if (status >= 0)
		return status;
	status = EXIT_OK;
	x.format = args.jsonl ? FORMAT_JSONL : FORMAT_CSV;
	r = store_reader_open(args.db, &cause);
	if (r == NULL) {
		fprintf(stderr, "phasor alarms: %s\n", cause);
		free(cause);
		return EXIT_RUNTIME;
	}
	signal(SIGPIPE, SIG_IGN); /* EPIPE instead: cmd_output_done */
	if (x.format == FORMAT_CSV)
		fputs("time,alarm,meter,quantity,priority,event,state,value,limit,operator,note\n",
		      x.out);
	if (store_reader_alarm_events(r, args.from_us, args.to_us, on_row, &x, &cause) < 0) {
		fprintf(stderr, "phasor alarms: %s\n", cause);
		free(cause);
		status = EXIT_RUNTIME;
	}
	store_reader_close(r);
	if (cmd_output_done(x.out, x.write_errno, "alarms") != EXIT_OK)
		status = EXIT_RUNTIME;
	return status;
}
