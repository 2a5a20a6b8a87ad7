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

#include <cJSON.h>

#include "phasor/cmd.h"
#include "phasor/csv.h"
#include "phasor/store.h"
#include "phasor/util.h"

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
	      "      today, yesterday (local midnight)\n",
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

int cmd_alarms(int argc, char **argv)
{
	struct alarms_ctx x = { stdout, FORMAT_CSV, 0, 0 };
	struct cmd_reader_args args;
	struct store_reader *r;
	char *cause = NULL;
	int status = cmd_reader_args("alarms", argc, argv, false, usage, &args);

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
