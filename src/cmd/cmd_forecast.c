// SPDX-License-Identifier: MIT
/*
 * cmd_forecast: `phasor forecast`, the day-ahead load forecast of a series
 * read from a CSV file (a `time` and a `value` column: `phasor export`
 * output of one series works) or from a local buffer (a meter's energy
 * counter differences, else its power samples; the site: the sum of the
 * meters). Prints time,forecast,lower,upper for the horizon, or with
 * --backtest the rolling-origin accuracy of each method (CONTRACT.md,
 * "Forecast"). The engine is plant/forecast.c; this file reads, checks and
 * labels the series and prints the result.
 *
 * Time zone: the command is single-threaded. It sets TZ to the zone
 * (--tz, [site] timezone with --db, else UTC) once, before anything else
 * reads the clock or the zone, and labels every interval with
 * localtime_r. The engine never touches TZ, so a caller in a threaded
 * program (the console) labels the same way in its worker, under the
 * process's one zone.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/csv.h"
#include "phasor/fcjob.h"
#include "phasor/forecast.h"
#include "phasor/store.h"
#include "phasor/util.h"

#define US INT64_C(1000000)
#define DAY_US (INT64_C(86400) * US)
#define CSV_MAX_BYTES ((size_t)2 << 30)
#define CSV_MAX_FIELDS 64
#define MAX_INTERVALS ((size_t)20 * 1000 * 1000)
#define MAX_AT_AFTER_DAYS 28
#define DEFAULT_HISTORY_MS (INT64_C(56) * 86400000)

enum {
	OPT_CSV = 256, OPT_METER, OPT_INTERVAL, OPT_HORIZON, OPT_AT, OPT_TZ, OPT_BACKTEST,
	OPT_FORMAT
};

struct opts {
	const char *csv, *meter, *interval, *horizon, *at, *tz, *backtest;
	bool jsonl;
};

/* The series to forecast: y[k] is the mean power over [t0 + k step, +step). */
struct series {
	int64_t t0_us, step_us;
	double *y;
	size_t n;
	const char *what;         /* the file or "buffer FILE meter M", for messages */
};

static void usage(FILE *out)
{
	fputs("usage: phasor forecast (--db FILE [--meter NAME] | --csv FILE) [-c FILE]\n"
	      "                       [--interval DUR] [--horizon DUR] [--at TIME] [--tz ZONE]\n"
	      "                       [--backtest DAYS] [--format csv|jsonl]\n"
	      "\n"
	      "Day-ahead load forecast: time,forecast,lower,upper (W, 95 % interval) for\n"
	      "each interval of the horizon after the data (or after --at).\n"
	      "  --csv FILE       a CSV with 'time' (ISO 8601 or Unix seconds) and 'value'\n"
	      "                   (mean W over the interval starting at time) columns\n"
	      "  --db FILE        a local buffer: the site, or with --meter one meter\n"
	      "  --meter NAME     the meter (its e_imp counter, else its p_total samples)\n"
	      "  -c, --config FILE  [site] timezone, [forecast] interval, history, holidays\n"
	      "  --interval DUR   interval (default: the CSV's own step; [forecast] interval\n"
	      "                   with --db); rows are averaged into intervals\n"
	      "  --horizon DUR    how far ahead (default 1d, at most 7d)\n"
	      "  --at TIME        forecast from TIME (the data after it is ignored)\n"
	      "  --tz ZONE        the wall clock days follow (default: [site] timezone with\n"
	      "                   --db, UTC with --csv)\n"
	      "  --backtest DAYS  print method,mape,days (the rolling-origin day-ahead\n"
	      "                   accuracy over the last DAYS days) instead, chosen first\n"
	      "  --format F       csv (default) or jsonl\n"
	      "TIME: 2026-11-22T14:00:00Z, '2026-11-22 15:00' (local), -2h, -7d, now\n",
	      out);
}

static int option(void *ctx, int id, const char *arg)
{
	struct opts *o = ctx;
	char safe[256];

	switch (id) {
	case OPT_CSV:
		o->csv = arg;
		break;
	case OPT_METER:
		o->meter = arg;
		break;
	case OPT_INTERVAL:
		o->interval = arg;
		break;
	case OPT_HORIZON:
		o->horizon = arg;
		break;
	case OPT_AT:
		o->at = arg;
		break;
	case OPT_TZ:
		o->tz = arg;
		break;
	case OPT_BACKTEST:
		o->backtest = arg;
		break;
	case OPT_FORMAT:
		if (strcmp(arg, "csv") == 0 || strcmp(arg, "jsonl") == 0) {
			o->jsonl = arg[0] == 'j';
			break;
		}
		fprintf(stderr, "phasor forecast: unknown format '%s' (csv, jsonl)\n",
			util_sanitize(safe, sizeof(safe), arg));
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

UTIL_PRINTF(1, 2) static int bad(const char *fmt, ...)
{
	va_list ap;
	char *raw, safe[1024];

	va_start(ap, fmt);
	raw = util_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "phasor forecast: %s\n", util_sanitize(safe, sizeof(safe), raw));
	free(raw);
	return EXIT_USAGE;
}

/* "15m", "1h", "90s", "2d": a duration for messages. */
static const char *dur_text(int64_t us, char *buf, size_t size)
{
	int64_t s = us / US;

	if (s % 86400 == 0)
		snprintf(buf, size, "%" PRId64 "d", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, size, "%" PRId64 "h", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, size, "%" PRId64 "m", s / 60);
	else
		snprintf(buf, size, "%" PRId64 "s", s);
	return buf;
}

static bool step_ok(int64_t step_us)
{
	return step_us >= 60 * US && step_us % US == 0 && DAY_US % step_us == 0;
}

/* ---- CSV input ------------------------------------------------------------ */

struct rows {
	int64_t *t_us;
	double *v;
	long *line;
	size_t n, cap;
};

static void rows_free(struct rows *r)
{
	free(r->t_us);
	free(r->v);
	free(r->line);
}

/* ISO 8601 (as TIME, absolute) or Unix seconds (a fraction allowed). */
static int parse_csv_time(const char *s, int64_t *out)
{
	size_t digits = strspn(s, "0123456789");

	if (digits == 0)
		return -1;
	if (s[digits] == '\0' || (s[digits] == '.' && s[digits + 1 + strspn(s + digits + 1,
									   "0123456789")] == '\0')) {
		double secs;

		if (util_parse_double(s, &secs) < 0 || secs > 1e11)
			return -1;
		*out = (int64_t)llround(secs * 1e6);
		return 0;
	}
	return util_parse_time(s, 0, out);
}

/* The rows of text (len bytes, NUL-terminated, changed in place), the
 * file path's contents; on an error *r is empty. */
static int parse_csv(const char *path, char *text, size_t len, struct rows *r)
{
	char *p, *fields[CSV_MAX_FIELDS];
	long line = 0, nf, tcol = -1, vcol = -1, ncols = 0, i;
	int status = EXIT_OK;

	memset(r, 0, sizeof(*r));
	if (strlen(text) != len) {
		status = bad("%s: not a text file (a NUL byte)", path);
		goto out;
	}
	p = text;
	if (strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	while (*p != '\0') {
		char *end = strchr(p, '\n'), *next;

		if (end != NULL) {
			next = end + 1;
			*end = '\0';
		} else {
			next = p + strlen(p);
		}
		if (end != NULL && end > p && end[-1] == '\r')
			end[-1] = '\0';
		line++;
		if (*util_trim(p) == '\0') {
			p = next;
			continue;
		}
		nf = csv_split(p, fields, CSV_MAX_FIELDS);
		if (nf < 0) {
			status = bad("%s:%ld: unterminated quote", path, line);
			goto out;
		}
		if (ncols == 0) {
			/* The header. */
			ncols = nf;
			for (i = 0; i < nf && i < CSV_MAX_FIELDS; i++) {
				const char *name = util_trim(fields[i]);

				if (util_strcasecmp(name, "time") == 0 && tcol < 0)
					tcol = i;
				else if (util_strcasecmp(name, "value") == 0 && vcol < 0)
					vcol = i;
			}
			if (tcol < 0 || vcol < 0) {
				status = bad("%s:%ld: no '%s' column in the header (it needs 'time' "
					     "and 'value')",
					     path, line, tcol < 0 ? "time" : "value");
				goto out;
			}
		} else {
			int64_t t;
			double v;
			const char *ts, *vs;

			if (nf <= tcol || nf <= vcol) {
				status = bad("%s:%ld: %ld field%s, the header has %ld", path, line, nf,
					     nf == 1 ? "" : "s", ncols);
				goto out;
			}
			ts = util_trim(fields[tcol]);
			vs = util_trim(fields[vcol]);
			if (parse_csv_time(ts, &t) < 0) {
				status = bad("%s:%ld: unparsable time '%s' (ISO 8601, e.g. "
					     "2026-11-22T14:00:00Z, or Unix seconds)",
					     path, line, ts);
				goto out;
			}
			if (*vs == '\0' || util_strcasecmp(vs, "nan") == 0)
				v = NAN; /* a gap, never a zero */
			else if (util_parse_double(vs, &v) < 0 || !isfinite(v)) {
				status = bad("%s:%ld: value '%s' is not a number (W)", path, line, vs);
				goto out;
			}
			if (r->n > 0 && t <= r->t_us[r->n - 1]) {
				char when[40];

				util_format_time_ms(t, when, sizeof(when));
				if (t == r->t_us[r->n - 1])
					status = bad("%s:%ld: duplicate time %s (line %ld has it too; "
						     "several meters or quantities? keep one series)",
						     path, line, when, r->line[r->n - 1]);
				else
					status = bad("%s:%ld: time %s is before the previous row's "
						     "(line %ld): the rows must be sorted, oldest first",
						     path, line, when, r->line[r->n - 1]);
				goto out;
			}
			if (r->n == r->cap) {
				r->cap = r->cap ? r->cap * 2 : 4096;
				r->t_us = util_reallocarray(r->t_us, r->cap, sizeof(*r->t_us));
				r->v = util_reallocarray(r->v, r->cap, sizeof(*r->v));
				r->line = util_reallocarray(r->line, r->cap, sizeof(*r->line));
			}
			r->t_us[r->n] = t;
			r->v[r->n] = v;
			r->line[r->n] = line;
			r->n++;
		}
		p = next;
	}
	if (ncols == 0)
		status = bad("%s: empty (no header with 'time' and 'value')", path);
	else if (r->n < 2)
		status = bad("%s: too little history: %zu row%s", path, r->n, r->n == 1 ? "" : "s");
out:
	if (status != EXIT_OK) {
		rows_free(r);
		memset(r, 0, sizeof(*r));
	}
	return status;
}

static int read_csv(const char *path, struct rows *r)
{
	size_t len;
	char *text = util_read_file(path, CSV_MAX_BYTES, &len);
	int status;

	memset(r, 0, sizeof(*r));
	if (text == NULL) {
		fprintf(stderr, "phasor forecast: cannot read %s: %s\n", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	status = parse_csv(path, text, len, r);
	free(text);
	return status;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The rows as a series. Without step_us (0): the data's own step, the
 * most common time difference, which every difference must be a multiple
 * of (a missing row is a gap). With it: the rows averaged into intervals of
 * the UTC grid of that step.
 */
static int csv_series(const char *path, const struct rows *r, int64_t step_us, struct series *s)
{
	int64_t min_d = INT64_MAX;
	size_t i, *cnt;
	char a[32], b[32];

	for (i = 1; i < r->n; i++)
		if (r->t_us[i] - r->t_us[i - 1] < min_d)
			min_d = r->t_us[i] - r->t_us[i - 1];
	if (step_us == 0) {
		/* The data's step: its most common difference (the rows of a
		 * regular series with a few gaps or one stray time). */
		int64_t *d = util_malloc((r->n - 1) * sizeof(*d));
		size_t run = 0, best = 0;

		for (i = 1; i < r->n; i++)
			d[i - 1] = r->t_us[i] - r->t_us[i - 1];
		qsort(d, r->n - 1, sizeof(*d), cmp_i64);
		for (i = 0; i < r->n - 1; i++) {
			run = i > 0 && d[i] == d[i - 1] ? run + 1 : 1;
			if (run > best) {
				best = run;
				min_d = d[i];
			}
		}
		free(d);
		if (!step_ok(min_d))
			return bad("%s: the data's step (%s, lines %ld-%ld) %s; give --interval "
				   "(e.g. 15m) to average the rows into intervals",
				   path, dur_text(min_d, a, sizeof(a)), r->line[0], r->line[r->n - 1],
				   min_d < 60 * US ? "is under a minute"
						   : "does not divide a day into whole seconds");
		for (i = 1; i < r->n; i++)
			if ((r->t_us[i] - r->t_us[i - 1]) % min_d != 0)
				return bad("%s:%ld: irregular step: %s after line %ld, not a multiple "
					   "of the data's %s step; give --interval to average the "
					   "rows into intervals",
					   path, r->line[i],
					   dur_text(r->t_us[i] - r->t_us[i - 1], a, sizeof(a)),
					   r->line[i - 1], dur_text(min_d, b, sizeof(b)));
		step_us = min_d;
		s->t0_us = r->t_us[0];
	} else {
		if (min_d > step_us)
			return bad("%s: the data's step (%s) is longer than the interval (%s)",
				   path, dur_text(min_d, a, sizeof(a)),
				   dur_text(step_us, b, sizeof(b)));
		s->t0_us = r->t_us[0] - ((r->t_us[0] % step_us) + step_us) % step_us;
	}
	s->step_us = step_us;
	if ((uint64_t)(r->t_us[r->n - 1] - s->t0_us) / (uint64_t)step_us + 1 > MAX_INTERVALS)
		return bad("%s: too many intervals (more than %zu)", path, MAX_INTERVALS);
	s->n = (size_t)((r->t_us[r->n - 1] - s->t0_us) / step_us) + 1;
	s->y = util_calloc(s->n, sizeof(double));
	cnt = util_calloc(s->n, sizeof(size_t));
	for (i = 0; i < r->n; i++) {
		size_t k = (size_t)((r->t_us[i] - s->t0_us) / step_us);

		if (!isnan(r->v[i])) {
			s->y[k] += r->v[i];
			cnt[k]++;
		}
	}
	for (i = 0; i < s->n; i++)
		s->y[i] = cnt[i] ? s->y[i] / (double)cnt[i] : NAN;
	free(cnt);
	s->what = path;
	return EXIT_OK;
}

int cmd_forecast_csv(const char *name, char *text, size_t len, int64_t step_us, int64_t *t0_us,
		     int64_t *step_out_us, double **y, size_t *n)
{
	struct rows r;
	struct series s = { 0 };
	int status = parse_csv(name, text, len, &r);

	*y = NULL;
	*n = 0;
	if (status == EXIT_OK && (status = csv_series(name, &r, step_us, &s)) == EXIT_OK) {
		*t0_us = s.t0_us;
		*step_out_us = s.step_us;
		*y = s.y;
		*n = s.n;
	}
	rows_free(&r);
	return status;
}

/* ---- buffer input --------------------------------------------------------- */

static bool meter_aggregate(const struct config *cfg, const char *name)
{
	size_t i;

	/* an aggregate root (a sub-board's aggregate is not the site) */
	for (i = 0; cfg != NULL && i < cfg->nmeters; i++)
		if (strcmp(cfg->meters[i].name, name) == 0)
			return cfg->meters[i].aggregate && config_parent(&cfg->meters[i]) < 0;
	return false;
}

/* Does a meter of the buffer count in the site's sum when there is no
 * aggregate: a consumption root of the configuration's tree, or any meter
 * the configuration does not know. */
static bool meter_in_sum(const struct config *cfg, const char *name)
{
	int i = cfg != NULL ? config_meter_index(cfg, name) : -1;

	return i < 0 || (config_parent(&cfg->meters[i]) < 0 &&
			 cfg->meters[i].role == METER_CONSUMPTION);
}

/*
 * The buffer's series: one meter, or the site (the configuration's
 * aggregate meter when there is one in the buffer, else the sum of the
 * consumption roots, every meter without a meter tree; an interval
 * missing on one meter is missing on the site).
 */
static int db_series(const char *db, const char *meter, const struct config *cfg, int64_t step_us,
		     int64_t to_us, struct series *out)
{
	struct store_reader *rd;
	char **names = NULL, *cause = NULL, safe[256];
	const char *aggregate = NULL;
	int status = EXIT_OK;
	size_t i, used = 0;

	memset(out, 0, sizeof(*out));
	rd = store_reader_open(db, &cause);
	if (rd == NULL) {
		fprintf(stderr, "phasor forecast: %s\n", cause);
		free(cause);
		return EXIT_RUNTIME;
	}
	names = store_reader_meter_names(rd, &cause);
	if (names == NULL) {
		fprintf(stderr, "phasor forecast: %s\n", cause);
		status = EXIT_RUNTIME;
		goto out;
	}
	if (meter != NULL) {
		for (i = 0; names[i] != NULL && strcmp(names[i], meter) != 0; i++)
			;
		if (names[i] == NULL) {
			const char *close = util_closest(meter, (const char *const *)names);

			status = bad("no such meter in %s: '%s'%s%s%s", db, meter,
				     close ? " (did you mean '" : "", close ? close : "",
				     close ? "'?)" : "");
			goto out;
		}
	} else {
		for (i = 0; names[i] != NULL; i++)
			if (meter_aggregate(cfg, names[i]))
				aggregate = names[i];
	}
	{
		/* the meters wanted, read in one pass of the buffer */
		const char **want = util_calloc(1, sizeof(*want));
		struct trend_series *ms;
		size_t nw = 0, k;

		for (i = 0; names[i] != NULL; i++) {
			if (meter != NULL ? strcmp(names[i], meter) != 0
					  : aggregate != NULL ? names[i] != aggregate
							      : !meter_in_sum(cfg, names[i]))
				continue;
			want = util_reallocarray(want, nw + 1, sizeof(*want));
			want[nw++] = names[i];
		}
		ms = util_calloc(nw > 0 ? nw : 1, sizeof(*ms));
		if (fcjob_meters_series(rd, want, nw, step_us, INT64_MIN, to_us, ms, &cause) < 0) {
			fprintf(stderr, "phasor forecast: %s\n", cause);
			status = EXIT_RUNTIME;
		}
		for (k = 0; k < nw && status == EXIT_OK; k++) {
			if (ms[k].n == 0) {
				if (meter != NULL) {
					status = bad("%s: meter '%s' has too few good e_imp or p_total "
						     "samples",
						     db, util_sanitize(safe, sizeof(safe), meter));
					break;
				}
				continue;
			}
			{
				struct trend_series sum = { out->t0_us, step_us, out->y, out->n };

				fcjob_series_add(&sum, &ms[k]);
				ms[k].y = NULL; /* taken by fcjob_series_add */
				out->t0_us = sum.t0_us;
				out->step_us = step_us;
				out->y = sum.y;
				out->n = sum.n;
			}
			used++;
		}
		for (k = 0; k < nw; k++)
			free(ms[k].y);
		free(ms);
		free(want);
		if (status != EXIT_OK)
			goto out;
	}
	if (used == 0)
		status = bad("%s: no meter with good e_imp or p_total samples", db);
out:
	if (status != EXIT_OK) {
		free(out->y);
		memset(out, 0, sizeof(*out));
	}
	free(cause);
	store_names_free(names);
	store_reader_close(rd);
	return status;
}

/* ---- output --------------------------------------------------------------- */

/* W to 0.1 W, in the shortest form that reads back ("nan" stays). */
static void put_w(FILE *out, double v)
{
	char buf[40];

	csv_double(isfinite(v) ? round(v * 10) / 10 : v, buf, sizeof(buf));
	fputs(buf, out);
}

static void json_w(cJSON *o, const char *key, double v)
{
	char buf[40];

	if (!isfinite(v)) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	csv_double(round(v * 10) / 10, buf, sizeof(buf));
	cJSON_AddRawToObject(o, key, buf);
}

static void json_line(FILE *out, cJSON *o)
{
	char *line = cJSON_PrintUnformatted(o);

	if (line == NULL)
		util_fail("out of memory");
	fputs(line, out);
	putc('\n', out);
	free(line);
	cJSON_Delete(o);
}

static void print_forecast(FILE *out, const struct series *s, const struct forecast_result *r,
			   bool jsonl)
{
	size_t i;

	if (!jsonl)
		fputs("time,forecast,lower,upper\n", out);
	for (i = 0; i < r->horizon && !ferror(out); i++) {
		char when[40];

		util_format_time_ms(s->t0_us + (int64_t)(s->n + i) * s->step_us, when, sizeof(when));
		if (jsonl) {
			cJSON *o = cJSON_CreateObject();

			if (o == NULL)
				util_fail("out of memory");
			cJSON_AddStringToObject(o, "time", when);
			json_w(o, "forecast", r->point[i]);
			json_w(o, "lower", r->lo95[i]);
			json_w(o, "upper", r->hi95[i]);
			json_w(o, "lower80", r->lo80[i]);
			json_w(o, "upper80", r->hi80[i]);
			cJSON_AddStringToObject(o, "method", forecast_method_name(r->method));
			json_line(out, o);
			continue;
		}
		fputs(when, out);
		putc(',', out);
		put_w(out, r->point[i]);
		putc(',', out);
		put_w(out, r->lo95[i]);
		putc(',', out);
		put_w(out, r->hi95[i]);
		putc('\n', out);
	}
}

/* method,mape,days: the chosen method first, then by MAPE. */
static void print_backtest(FILE *out, const struct forecast_result *r, bool jsonl)
{
	int order[FORECAST_METHODS], n = 0, i, j;

	order[n++] = (int)r->method;
	for (i = 0; i < FORECAST_METHODS; i++)
		if (i != (int)r->method && r->score[i].available)
			order[n++] = i;
	for (i = 2; i < n; i++)
		for (j = i; j > 1 && r->score[order[j]].mape < r->score[order[j - 1]].mape; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	if (!jsonl)
		fputs("method,mape,days\n", out);
	for (i = 0; i < n; i++) {
		const struct forecast_score *sc = &r->score[order[i]];
		char mape[40];

		if (isfinite(sc->mape))
			snprintf(mape, sizeof(mape), "%.2f", sc->mape);
		else
			util_strlcpy(mape, "nan", sizeof(mape));
		if (jsonl) {
			cJSON *o = cJSON_CreateObject();

			if (o == NULL)
				util_fail("out of memory");
			cJSON_AddStringToObject(o, "method",
						forecast_method_name((enum forecast_method)order[i]));
			if (isfinite(sc->mape))
				cJSON_AddRawToObject(o, "mape", mape);
			else
				cJSON_AddNullToObject(o, "mape");
			cJSON_AddNumberToObject(o, "days", sc->days);
			cJSON_AddBoolToObject(o, "chosen", i == 0);
			json_line(out, o);
		} else {
			fprintf(out, "%s,%s,%d\n", forecast_method_name((enum forecast_method)order[i]),
				mape, sc->days);
		}
	}
}

/* ---- the command ---------------------------------------------------------- */

static int parse_dur_opt(const char *opt, const char *v, int64_t *us)
{
	int64_t ms;

	if (util_parse_duration_ms(v, &ms) < 0 || ms <= 0)
		return bad("%s: not a duration: '%s' (e.g. 15m, 1h, 1d)", opt, v);
	*us = ms * 1000;
	return EXIT_OK;
}

int cmd_forecast(int argc, char **argv)
{
	static const struct cmd_option options[] = {
		{ "csv", true, OPT_CSV },	    { "meter", true, OPT_METER },
		{ "interval", true, OPT_INTERVAL }, { "horizon", true, OPT_HORIZON },
		{ "at", true, OPT_AT },		    { "tz", true, OPT_TZ },
		{ "backtest", true, OPT_BACKTEST }, { "format", true, OPT_FORMAT },
		{ NULL, false, 0 },
	};
	struct opts o;
	struct cmd_spec spec = {
		.name = "forecast",
		.common = CMD_OPT_CONFIG | CMD_OPT_DB,
		.options = options,
		.option = option,
		.ctx = &o,
		.usage = usage,
	};
	struct cmd_args a;
	struct config *cfg = NULL;
	struct rows rows = { 0 };
	struct series s = { 0 };
	struct forecast_result res;
	struct forecast_cal *cal = NULL;
	struct forecast_input in;
	int64_t step_us = 0, horizon_us = DAY_US, at_us = 0, history_us;
	long backtest = 0;
	const char *zone;
	size_t i, hsteps, S;
	int status;
	char d1[32];

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	status = cmd_parse(&spec, argc, argv, &a);
	if (status >= 0)
		return status;
	if ((o.csv == NULL) == (a.db == NULL)) {
		fprintf(stderr, "phasor forecast: give either --csv FILE or --db FILE\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o.meter != NULL && a.db == NULL)
		return bad("--meter goes with --db");
	if (a.config != NULL || (a.db != NULL && config_default_path() != NULL)) {
		cfg = cmd_load_config(a.config);
		if (cfg == NULL)
			return EXIT_USAGE;
	}
	zone = o.tz != NULL					? o.tz
	       : a.db != NULL && cfg != NULL && cfg->site.timezone ? cfg->site.timezone
								   : "UTC";
	if (!config_timezone_known(zone)) {
		status = bad("--tz: %s is not a known time zone (e.g. Europe/Paris, UTC)", zone);
		goto out;
	}
	/* Once, single-threaded, before any time is parsed or labelled. */
	setenv("TZ", zone, 1);
	tzset();

	if (o.interval != NULL) {
		if ((status = parse_dur_opt("--interval", o.interval, &step_us)) != EXIT_OK)
			goto out;
		if (!step_ok(step_us)) {
			status = bad("--interval: %s does not divide a day into whole minutes or "
				     "seconds (at least 1m; e.g. 10m, 15m, 30m, 1h)",
				     o.interval);
			goto out;
		}
	} else if (a.db != NULL) {
		step_us = (cfg != NULL ? cfg->forecast.interval_ms : 15 * 60000) * 1000;
	}
	if (o.horizon != NULL &&
	    (status = parse_dur_opt("--horizon", o.horizon, &horizon_us)) != EXIT_OK)
		goto out;
	if (horizon_us > 7 * DAY_US) {
		status = bad("--horizon: %s is more than 7d", o.horizon);
		goto out;
	}
	if (o.backtest != NULL && util_parse_long(o.backtest, 1, 366, &backtest) < 0) {
		status = bad("--backtest: '%s' is not a number of days (1..366)", o.backtest);
		goto out;
	}
	if (o.at != NULL && util_parse_time(o.at, util_now_us(), &at_us) < 0) {
		status = bad("--at: not a TIME: '%s'", o.at);
		goto out;
	}
	history_us = (cfg != NULL ? cfg->forecast.history_ms : DEFAULT_HISTORY_MS) * 1000;

	if (o.csv != NULL) {
		if ((status = read_csv(o.csv, &rows)) != EXIT_OK)
			goto out;
		if (o.at != NULL) {
			/* The rows from --at on are the future: ignored. */
			while (rows.n > 0 && rows.t_us[rows.n - 1] >= at_us)
				rows.n--;
			if (rows.n < 2) {
				status = bad("%s: too little history before --at %s", o.csv, o.at);
				goto out;
			}
		}
		if ((status = csv_series(o.csv, &rows, step_us, &s)) != EXIT_OK)
			goto out;
	} else {
		if ((status = db_series(a.db, o.meter, cfg, step_us, o.at ? at_us : INT64_MAX,
					&s)) != EXIT_OK)
			goto out;
		s.what = a.db;
	}
	step_us = s.step_us;
	S = (size_t)(DAY_US / step_us);
	if (S > FORECAST_MAX_SLOTS) {
		status = bad("%s: a step of %s is too fine (1m at the finest)", s.what,
			     dur_text(step_us, d1, sizeof(d1)));
		goto out;
	}
	if (o.at != NULL) {
		/* The origin: --at, up to the next interval start. */
		int64_t rel = at_us - s.t0_us;
		size_t k = (size_t)((rel + step_us - 1) / step_us);

		if (rel <= 0) {
			status = bad("%s: too little history before --at %s", s.what, o.at);
			goto out;
		}
		if (k > s.n + (size_t)MAX_AT_AFTER_DAYS * S) {
			status = bad("--at %s is more than %d days after the data's end", o.at,
				     MAX_AT_AFTER_DAYS);
			goto out;
		}
		if (k < s.n)
			s.n = k;
		else if (k > s.n) {
			s.y = util_reallocarray(s.y, k, sizeof(double));
			for (i = s.n; i < k; i++)
				s.y[i] = NAN;
			s.n = k;
		}
	}
	if (s.n > (size_t)(history_us / step_us)) {
		size_t drop = s.n - (size_t)(history_us / step_us);

		memmove(s.y, s.y + drop, (s.n - drop) * sizeof(double));
		s.n -= drop;
		s.t0_us += (int64_t)drop * step_us;
	}

	hsteps = (size_t)((horizon_us + step_us - 1) / step_us);
	cal = util_malloc((s.n + hsteps) * sizeof(*cal));
	for (i = 0; i < s.n + hsteps; i++) {
		time_t t = (time_t)((s.t0_us + (int64_t)i * step_us) / US);
		struct tm tm;

		localtime_r(&t, &tm);
		cal[i] = forecast_cal_from_tm(&tm, (int)(step_us / US),
					      cfg ? cfg->forecast.holidays : NULL,
					      cfg ? cfg->forecast.nholidays : 0);
	}
	in = (struct forecast_input){ s.y, s.n, cal, hsteps, (int)S, (int)backtest, -1 };
	switch (forecast_run(&in, &res)) {
	case FORECAST_OK:
	case FORECAST_SHORT:
		break;
	case FORECAST_TOO_SHORT:
		status = bad("%s: %s", s.what, res.message);
		goto out;
	default:
		status = bad("%s: %s", s.what, res.message);
		goto out;
	}
	if (res.message[0] != '\0')
		fprintf(stderr, "phasor forecast: note: %s\n", res.message);
	if (backtest > 0 && res.backtest_days < backtest)
		fprintf(stderr,
			"phasor forecast: note: the backtest covers %d day%s (%ld asked): the "
			"history is too short for more\n",
			res.backtest_days, res.backtest_days == 1 ? "" : "s", backtest);
	if (backtest > 0 && res.backtest_days == 0) {
		status = bad("%s: too little history for a backtest (%.1f days)", s.what,
			     res.history_days);
		goto out;
	}

	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	if (backtest > 0)
		print_backtest(stdout, &res, o.jsonl);
	else
		print_forecast(stdout, &s, &res, o.jsonl);
	status = cmd_output_done(stdout, ferror(stdout) ? errno : 0, "forecast");
out:
	forecast_result_free(&res);
	free(cal);
	free(s.y);
	rows_free(&rows);
	config_free(cfg);
	return status;
}
