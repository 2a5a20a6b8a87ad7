// SPDX-License-Identifier: MIT
/*
 * cmd_export: `phasor export`, the samples of a local buffer as CSV (the
 * contract's format) or JSON lines, oldest first. It is a plain read-only
 * reader (store_reader_*), so it works while `phasor record` writes the same
 * file. Values are printed in the shortest form that reads back as the same
 * double; meter names are user data, sanitized and quoted per RFC 4180.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "phasor/bucket.h"
#include "phasor/cmd.h"
#include "phasor/csv.h"
#include "phasor/qty.h"
#include "phasor/store.h"
#include "phasor/util.h"

enum format { FORMAT_CSV, FORMAT_JSONL };

/* A field as written, kept while the next rows have the same text. */
struct field_cache {
	char key[CSV_FIELD_MAX];
	char text[2 * CSV_FIELD_MAX + 1];
	size_t len;
	bool set;
};

struct export_ctx {
	FILE *out;
	struct field_cache meter, quantity, unit;
	int64_t when_ms;          /* the time of when[]; INT64_MIN: none */
	char when[40];
	enum format format;
	uint64_t rows;
	int write_errno;          /* errno of the first failed write; 0: none */
	struct bucket *every;     /* --every: rows go through it; NULL: as stored */
};

static void usage(FILE *out)
{
	fputs("usage: phasor export --db FILE [--meter NAME] [--quantity Q] [--from TIME]\n"
	      "                     [--to TIME] [--every DUR] [--format csv|jsonl]\n"
	      "\n"
	      "Print the samples of a local buffer, oldest first.\n"
	      "  --db FILE        the buffer ([store] path of the configuration)\n"
	      "  --meter NAME     only this meter\n"
	      "  --quantity Q     only this quantity (v_l1n, p_total, e_imp, ...)\n"
	      "  --from TIME      from this time, inclusive\n"
	      "  --to TIME        up to this time, exclusive\n"
	      "  --every DUR      one row per interval (15m, 1h, 1d: divides the local day,\n"
	      "                   from local midnight): the mean of the good samples, or for\n"
	      "                   a counter (e_imp, ...) what it counted in the interval\n"
	      "  --format F       csv (default): time,meter,quantity,value,unit,quality\n"
	      "                   jsonl: one JSON object per line\n"
	      "TIME: 2026-11-22T14:00:00Z, '2026-11-22 15:00' (local), -2h, -30m, -7d, now,\n"
	      "      today, yesterday (local midnight)\n",
	      out);
}

/* The field of s, from the cache when the last row had the same text. */
static const struct field_cache *field(struct field_cache *c, const char *s)
{
	s = s != NULL ? s : "";
	if (!c->set || strncmp(c->key, s, sizeof(c->key)) != 0) {
		util_strlcpy(c->key, s, sizeof(c->key));
		csv_field_to(c->text, sizeof(c->text), s);
		c->len = strlen(c->text);
		c->set = true;
	}
	return c;
}

/* n bytes of s then end at line + o: the new length. */
static size_t put_text(char *line, size_t o, const char *s, size_t n, char end)
{
	memcpy(line + o, s, n);
	line[o + n] = end;
	return o + n + 1;
}

/* Rows of one poll share their time, and of one meter their names: each
 * formatted once, the row written with one fwrite. */
static int put_csv_row(struct export_ctx *x, const struct store_row *r)
{
	const struct field_cache *f[3] = { field(&x->meter, r->meter),
					   field(&x->quantity, r->quantity),
					   field(&x->unit, r->unit) };
	char line[3 * sizeof(x->meter.text) + 128], value[40];
	const char *q = qty_quality_name((unsigned)r->quality);
	int64_t ms = r->t_us >= 0 ? r->t_us / 1000 : -((-r->t_us + 999) / 1000);
	size_t o = 0;

	if (ms != x->when_ms) {
		util_format_time_ms(r->t_us, x->when, sizeof(x->when));
		x->when_ms = ms;
	}
	csv_double(r->value, value, sizeof(value));
	o = put_text(line, o, x->when, strlen(x->when), ',');
	o = put_text(line, o, f[0]->text, f[0]->len, ',');
	o = put_text(line, o, f[1]->text, f[1]->len, ',');
	o = put_text(line, o, value, strlen(value), ',');
	o = put_text(line, o, f[2]->text, f[2]->len, ',');
	o = put_text(line, o, q, strlen(q), '\n');
	fwrite(line, 1, o, x->out);
	return 0;
}

static int put_jsonl_row(struct export_ctx *x, const struct store_row *r)
{
	char when[40], meter[1024], quantity[256], unit[64];
	bool finite = isfinite(r->value);
	cJSON *o = cJSON_CreateObject();
	char *line;

	if (o == NULL)
		util_fail("out of memory");
	util_format_time_ms(r->t_us, when, sizeof(when));
	cJSON_AddStringToObject(o, "time", when);
	cJSON_AddStringToObject(o, "meter", util_sanitize(meter, sizeof(meter), r->meter));
	cJSON_AddStringToObject(o, "quantity",
				util_sanitize(quantity, sizeof(quantity), r->quantity));
	/* JSON has no NaN or infinity: null, and the sample is bad. The
	 * number is printed here: cJSON's own printing only reads back
	 * approximately (0.30000000000000004 becomes 0.3). */
	if (finite) {
		char value[40];

		csv_double(r->value, value, sizeof(value));
		cJSON_AddRawToObject(o, "value", value);
	} else
		cJSON_AddNullToObject(o, "value");
	cJSON_AddStringToObject(o, "unit", util_sanitize(unit, sizeof(unit), r->unit));
	cJSON_AddStringToObject(o, "quality",
				finite ? qty_quality_name((unsigned)r->quality) : "bad");
	line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (line == NULL)
		util_fail("out of memory");
	fputs(line, x->out);
	putc('\n', x->out);
	free(line);
	return 0;
}

static int put_row(struct export_ctx *x, const struct store_row *r)
{
	if (x->format == FORMAT_CSV)
		put_csv_row(x, r);
	else
		put_jsonl_row(x, r);
	x->rows++;
	/* Stop at the first write error (a closed pipe, a full disk). */
	if (ferror(x->out)) {
		x->write_errno = errno;
		return 1;
	}
	return 0;
}

/* An interval row of --every, printed as a sample at the interval's start. */
static int on_interval(void *ctx, const struct bucket_out *o)
{
	struct store_row r = { .t_us = o->t_us,
			       .meter = o->meter,
			       .quantity = qty_name(o->qty),
			       .unit = qty_unit(o->qty),
			       .value = o->value,
			       .quality = o->quality };

	return put_row(ctx, &r);
}

static int on_row(void *ctx, const struct store_row *r)
{
	struct export_ctx *x = ctx;
	int q;

	if (x->every == NULL)
		return put_row(x, r);
	q = qty_lookup(r->quantity);
	return q < 0 ? 0 : bucket_add(x->every, r->meter, (unsigned)q, r->t_us, r->value,
				      r->quality);
}

/*
 * "no such meter in FILE; meters: a, b" on stderr, with a suggestion when
 * one name is close.
 */
static void unknown_name(const char *what, const char *plural, const char *name, const char *db,
			 char **list)
{
	char safe[256];
	const char *close = NULL;
	size_t i;

	if (list != NULL)
		close = util_closest(name, (const char *const *)list);
	fprintf(stderr, "phasor export: no such %s in %s: '%s'", what, db,
		util_sanitize(safe, sizeof(safe), name));
	if (close != NULL)
		fprintf(stderr, " (did you mean '%s'?)", util_sanitize(safe, sizeof(safe), close));
	fprintf(stderr, "; %s: ", plural);
	if (list == NULL || list[0] == NULL)
		fputs("(none)", stderr);
	for (i = 0; list != NULL && list[i] != NULL; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", util_sanitize(safe, sizeof(safe), list[i]));
	fputc('\n', stderr);
}

static bool in_list(char **list, const char *name)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

int cmd_export(int argc, char **argv)
{
	struct store_filter filter = { NULL, NULL, INT64_MIN, INT64_MAX };
	struct export_ctx x = { .out = stdout, .format = FORMAT_CSV, .when_ms = INT64_MIN };
	struct cmd_reader_args args;
	struct store_reader *r = NULL;
	char **list = NULL, *cause = NULL;
	const char *db;
	int status;

	status = cmd_reader_args("export", argc, argv, true, usage, &args);
	if (status >= 0)
		return status;
	status = EXIT_OK;
	db = args.db;
	filter.meter = args.meter;
	filter.quantity = args.quantity;
	filter.from_us = args.from_us;
	filter.to_us = args.to_us;
	x.format = args.jsonl ? FORMAT_JSONL : FORMAT_CSV;
	if (args.every_us > 0)
		x.every = bucket_new(args.every_us, on_interval, &x);

	r = store_reader_open(db, &cause);
	if (r == NULL) {
		fprintf(stderr, "phasor export: %s\n", cause);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (filter.meter != NULL) {
		list = store_reader_unit_names(r, &cause); /* a machine's states too */
		if (list == NULL) {
			fprintf(stderr, "phasor export: %s\n", cause);
			status = EXIT_RUNTIME;
			goto out;
		}
		if (!in_list(list, filter.meter)) {
			unknown_name("meter", "meters", filter.meter, db, list);
			status = EXIT_USAGE;
			goto out;
		}
		store_names_free(list);
		list = NULL;
	}
	if (filter.quantity != NULL) {
		list = store_reader_quantity_names(r, &cause);
		if (list == NULL) {
			fprintf(stderr, "phasor export: %s\n", cause);
			status = EXIT_RUNTIME;
			goto out;
		}
		if (!in_list(list, filter.quantity)) {
			unknown_name("quantity", "quantities", filter.quantity, db, list);
			status = EXIT_USAGE;
			goto out;
		}
		store_names_free(list);
		list = NULL;
	}

	/* A closed pipe is an error to look at (EPIPE), not a death. */
	signal(SIGPIPE, SIG_IGN);
	if (x.format == FORMAT_CSV)
		fputs("time,meter,quantity,value,unit,quality\n", x.out);
	if (!ferror(x.out) && store_reader_samples(r, &filter, on_row, &x, &cause) < 0) {
		fprintf(stderr, "phasor export: %s\n", cause);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (x.every != NULL && x.write_errno == 0)
		bucket_end(x.every);
	status = cmd_output_done(x.out, x.write_errno, "export");
out:
	bucket_free(x.every);
	store_names_free(list);
	free(cause);
	store_reader_close(r);
	return status;
}
