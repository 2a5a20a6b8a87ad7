// SPDX-License-Identifier: MIT
/*
 * cmd_report: `phasor report`, a printable report of a time range of a
 * buffer (issue 13, docs/reports.md): read the chosen meters' minutes
 * (the rollups, store_reader_minutes), the alarm journal and the stored
 * forecasts; build the model (plant/report.c) and its tables; draw them
 * to a PDF or PNG pages (report_draw.c) and, with --csv, write the tables
 * as CSV. The site's settings (name, zone, price, CO2, contract power,
 * shifts) come from the newest session's configuration that the range
 * meets, or from -c FILE. Every output is written to NAME.tmp-PID and
 * renamed when complete: a failure leaves no file behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "phasor/cmd.h"
#include "phasor/codec.h"
#include "phasor/config.h"
#include "phasor/diag.h"
#include "phasor/report.h"
#include "phasor/report_draw.h"
#include "phasor/report_tables.h"
#include "phasor/store.h"
#include "phasor/util.h"

#define US INT64_C(1000000)
#define PAGES_MAX 999

enum { OPT_FROM = 256, OPT_TO, OPT_METER, OPT_CSV };

struct report_args {
	const char *from, *to, *out, *csv;
	const char **meters;
	size_t nmeters;
};

static void usage(FILE *out)
{
	fputs("usage: phasor report --db FILE --from TIME --to TIME [--meter NAME]...\n"
	      "                     -o FILE.pdf|FILE.png [--csv FILE.csv] [-c FILE]\n"
	      "\n"
	      "A printable report of a time range of a local buffer: coverage, energy per\n"
	      "day and shift with cost and CO2, the biggest consumers, the load curve and\n"
	      "peak demand against contract_power, the forecast's accuracy, power factor,\n"
	      "power quality, alarms (EEMUA 191), energy outside production hours.\n"
	      "  --db FILE        the buffer ([store] path of the configuration)\n"
	      "  --from TIME      the range's start, inclusive\n"
	      "  --to TIME        the range's end, exclusive\n"
	      "  --meter NAME     only these meters (repeat it); default every meter\n"
	      "  -o FILE.pdf      A4 pages in one PDF\n"
	      "  -o FILE.png      one PNG a page at 150 dpi (1240 x 1754): FILE-1.png, ...\n"
	      "  --csv FILE.csv   the report's tables: table,item,column,value,unit\n"
	      "  -c FILE          the site's settings from FILE, not from the buffer's newest\n"
	      "                   session in the range\n"
	      "SOURCE_DATE_EPOCH (seconds), when set, is the report's creation time.\n"
	      "TIME: 2026-11-22T14:00:00Z, '2026-11-22 15:00' (local), -2h, -30m, -7d, now,\n"
	      "      today, yesterday (local midnight)\n",
	      out);
}

static int on_option(void *ctx, int id, const char *arg)
{
	struct report_args *a = ctx;

	switch (id) {
	case OPT_FROM:
		a->from = arg;
		break;
	case OPT_TO:
		a->to = arg;
		break;
	case OPT_CSV:
		a->csv = arg;
		break;
	case OPT_METER:
		a->meters = util_reallocarray(a->meters, a->nmeters + 1, sizeof(*a->meters));
		a->meters[a->nmeters++] = arg;
		break;
	}
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n > k && util_strcasecmp(s + n - k, tail) == 0;
}

/* ---- reading ---------------------------------------------------------------- */

/* ctx: the meter's REPORT_NSERIES series, k the series. */
static int on_minute(void *ctx, size_t k, int64_t t_us, const struct codec_minute *m)
{
	struct history_series *s = ctx;
	struct history_minute h = { .t_us = t_us, .n = m->n, .good = m->good, .min = m->min,
				    .max = m->max, .sum = m->sum, .first = m->first,
				    .last = m->last, .rise = m->rise };

	history_series_add(&s[k], &h);
	return 0;
}

struct journal {
	struct report_alarm_in *rows;
	size_t n;
};

static const char *copy(const char *s)
{
	return util_strdup(s != NULL ? s : "");
}

static int on_alarm(void *ctx, const struct store_alarm_event *e)
{
	struct journal *j = ctx;
	struct report_alarm_in *a;

	j->rows = util_reallocarray(j->rows, j->n + 1, sizeof(*j->rows));
	a = &j->rows[j->n++];
	a->t_us = e->t_us;
	a->raised_us = e->raised_us;
	a->alarm = copy(e->alarm);
	a->meter = copy(e->meter);
	a->priority = copy(e->priority);
	a->event = copy(e->event);
	a->state = copy(e->state);
	a->operator_name = copy(e->operator_name);
	return 0;
}

static void journal_free(struct journal *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		free((char *)j->rows[i].alarm);
		free((char *)j->rows[i].meter);
		free((char *)j->rows[i].priority);
		free((char *)j->rows[i].event);
		free((char *)j->rows[i].state);
		free((char *)j->rows[i].operator_name);
	}
	free(j->rows);
}

/* The configuration of the newest session that the range meets (started
 * before its end, not ended before its start), else of the newest session
 * that started before its end, else of the buffer's newest session (a
 * buffer written by a tool: samples older than its session). */
struct pick {
	int64_t from_us, to_us;
	char *text;
	int64_t id;
	int rank;                 /* 3 meets, 2 before the end, 1 any; 0 none */
};

static int on_session(void *ctx, const struct store_session *s)
{
	struct pick *p = ctx;
	int rank;

	if (s->config_text == NULL)
		return 0;
	rank = s->start_us >= p->to_us ? 1 : (s->end_us == 0 || s->end_us > p->from_us) ? 3 : 2;
	if (rank < p->rank)
		return 0;
	free(p->text);
	p->text = util_strdup(s->config_text);
	p->id = s->id;
	p->rank = rank;
	return 0;
}

static struct config *site_config(struct store_reader *rd, const char *path, int64_t from_us,
				  int64_t to_us, char **cause)
{
	struct pick p = { from_us, to_us, NULL, 0, 0 };
	struct config *cfg;
	struct diag d;
	char name[64];

	if (path != NULL) {
		cfg = cmd_load_config(path);
		if (cfg == NULL)
			*cause = util_printf("the configuration %s cannot be used", path);
		return cfg;
	}
	if (store_reader_sessions(rd, on_session, &p, cause) < 0)
		return NULL;
	if (p.text == NULL)
		return NULL; /* no session kept one: defaults */
	snprintf(name, sizeof(name), "session %lld", (long long)p.id);
	diag_init(&d);
	cfg = config_load_string(p.text, name, &d);
	if (cfg == NULL)
		*cause = util_printf("the configuration kept with %s cannot be used (%s); give one"
				     " with -c FILE",
				     name, d.n > 0 ? d.lines[0] : "?");
	diag_clear(&d);
	free(p.text);
	return cfg;
}

static const struct config_meter *config_meter(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nmeters; i++)
		if (strcmp(cfg->meters[i].name, name) == 0)
			return &cfg->meters[i];
	return NULL;
}

/*
 * The meter tree among the chosen meters: a meter whose parent (by the
 * configuration) is chosen too is under it; one whose parent is not is a
 * root of the report.
 */
static void link_parents(const struct config *cfg, struct report_meter_in *m, size_t nm)
{
	size_t i, k;

	for (i = 0; i < nm; i++) {
		const struct config_meter *cm = config_meter(cfg, m[i].name);
		int p = cm != NULL ? config_parent(cm) : -1;

		for (k = 0; p >= 0 && k < nm; k++)
			if (k != i && strcmp(m[k].name, cfg->meters[p].name) == 0)
				m[i].parent_plus1 = k + 1;
	}
}

static bool in_list(char **list, const char *name)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

static void unknown_meter(const char *name, const char *db, char **list)
{
	char safe[256];
	const char *close = util_closest(name, (const char *const *)list);
	size_t i;

	fprintf(stderr, "phasor report: no such meter in %s: '%s'", db,
		util_sanitize(safe, sizeof(safe), name));
	if (close != NULL)
		fprintf(stderr, " (did you mean '%s'?)", util_sanitize(safe, sizeof(safe), close));
	fputs("; meters: ", stderr);
	if (list[0] == NULL)
		fputs("(none)", stderr);
	for (i = 0; list[i] != NULL; i++)
		fprintf(stderr, "%s%s", i ? ", " : "", util_sanitize(safe, sizeof(safe), list[i]));
	fputc('\n', stderr);
}

/* ---- writing ------------------------------------------------------------------ */

struct outputs {
	char **tmp, **final;      /* renamed in order when everything is written */
	size_t n;
	char *base;               /* PNG: the name without ".png" */
};

static const char *add_output(struct outputs *o, char *final)
{
	o->tmp = util_reallocarray(o->tmp, o->n + 1, sizeof(char *));
	o->final = util_reallocarray(o->final, o->n + 1, sizeof(char *));
	o->final[o->n] = final;
	o->tmp[o->n] = util_printf("%s.tmp-%ld", final, (long)getpid());
	return o->tmp[o->n++];
}

static const char *png_path(void *ctx, int page)
{
	struct outputs *o = ctx;
	size_t i;
	char *final = util_printf("%s-%d.png", o->base, page);

	for (i = 0; i < o->n; i++)
		if (strcmp(o->final[i], final) == 0) {
			free(final);
			return o->tmp[i];
		}
	return add_output(o, final);
}

/* Can path be created? (the temporary one, created exclusive and removed) */
static int writable(const char *tmp, const char *final)
{
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	char safe[512];

	if (fd < 0) {
		fprintf(stderr, "phasor report: cannot write %s: %s\n",
			util_sanitize(safe, sizeof(safe), final), strerror(errno));
		return -1;
	}
	close(fd);
	unlink(tmp);
	return 0;
}

static void outputs_discard(struct outputs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		unlink(o->tmp[i]);
}

static int outputs_commit(struct outputs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (rename(o->tmp[i], o->final[i]) < 0) {
			fprintf(stderr, "phasor report: renaming %s: %s\n", o->tmp[i], strerror(errno));
			for (; i < o->n; i++)
				unlink(o->tmp[i]);
			return -1;
		}
	return 0;
}

/* The pages after the last of an earlier, longer report of the same name
 * (BASE-N.png from N = pages + 1 on, as long as they follow): removed, so
 * that BASE-*.png is this report. */
static void stale_pages(const char *base, int pages)
{
	for (int k = pages + 1;; k++) {
		char *path = util_printf("%s-%d.png", base, k);
		int gone = unlink(path);

		free(path);
		if (gone < 0)
			break;
	}
}

static void outputs_free(struct outputs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		free(o->tmp[i]);
		free(o->final[i]);
	}
	free(o->tmp);
	free(o->final);
	free(o->base);
}

static int write_csv(const char *tmp, const struct report_tables *t)
{
	FILE *f = fopen(tmp, "w");
	int bad;

	if (f == NULL)
		return -1;
	report_tables_csv(t, f);
	bad = ferror(f);
	if (fclose(f) != 0 || bad)
		return -1;
	return 0;
}

static int64_t made_now(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	long v;

	if (e != NULL && util_parse_long(e, 0, 0x7fffffffL, &v) == 0)
		return (int64_t)v * US;
	return util_now_us();
}

/* ---- the command ----------------------------------------------------------------- */

struct run {
	struct store_reader *rd;
	struct config *cfg;
	char **names;
	struct report_meter_in *m;
	const char **mnames;
	size_t nm;
	struct journal j;
	struct store_forecast fc;
	struct outputs out;
	char *cause;
};

static void run_free(struct run *x)
{
	size_t i, k;

	for (i = 0; i < x->nm; i++)
		for (k = 0; k < REPORT_NSERIES; k++)
			history_series_free(&x->m[i].s[k]);
	free(x->m);
	free(x->mnames);
	journal_free(&x->j);
	store_forecast_free(&x->fc);
	outputs_free(&x->out);
	store_names_free(x->names);
	if (x->cfg != NULL)
		config_free(x->cfg);
	store_reader_close(x->rd);
	free(x->cause);
}

static int fail(struct run *x, int status, const char *what)
{
	fprintf(stderr, "phasor report: %s%s%s\n", what, x->cause ? ": " : "",
		x->cause ? x->cause : "");
	return status;
}

/* The meters: those given (each must be in the file), else every one. */
static int choose_meters(struct run *x, const struct report_args *ra, const char *db)
{
	size_t i, n = 0;

	for (i = 0; i < ra->nmeters; i++)
		if (!in_list(x->names, ra->meters[i])) {
			unknown_meter(ra->meters[i], db, x->names);
			return EXIT_USAGE;
		}
	while (x->names[n] != NULL)
		n++;
	x->m = util_calloc(n ? n : 1, sizeof(*x->m));
	x->mnames = util_calloc(n ? n : 1, sizeof(*x->mnames));
	for (i = 0; i < n; i++) {
		const struct config_meter *cm = config_meter(x->cfg, x->names[i]);
		size_t k;
		bool chosen = ra->nmeters == 0;

		for (k = 0; k < ra->nmeters; k++)
			chosen |= strcmp(ra->meters[k], x->names[i]) == 0;
		if (!chosen)
			continue;
		x->m[x->nm].name = x->names[i];
		x->m[x->nm].aggregate = cm != NULL && cm->aggregate;
		x->m[x->nm].nominal_v = cm != NULL ? cm->nominal_voltage : 230;
		x->m[x->nm].production = cm != NULL && cm->role == METER_PRODUCTION;
		x->m[x->nm].grid = cm != NULL && cm->grid;
		x->m[x->nm].utility = cm != NULL ? cm->utility : UTILITY_ELECTRICITY;
		x->mnames[x->nm] = x->names[i];
		x->nm++;
	}
	link_parents(x->cfg, x->m, x->nm);
	return -1;
}

/* The journal and the stored forecasts of the range. */
static int read_journal(struct run *x, int64_t from_us, int64_t to_us)
{
	if (store_reader_alarm_events(x->rd, from_us, to_us, on_alarm, &x->j, &x->cause) < 0)
		return -1;
	return store_reader_forecast_past(x->rd, "", from_us, to_us, &x->fc, &x->cause);
}

/* Each meter's 5-minute windows from before_us (the buffer's hours of
 * windows: docs/buffer.md, "Windows"), into the report one meter at a time
 * (one meter's windows in memory). */
static int read_meters(struct run *x, const struct report_in *in, struct report *rep)
{
	unsigned qty[REPORT_NSERIES];
	size_t i, k;

	for (k = 0; k < REPORT_NSERIES; k++)
		qty[k] = report_series_qty((unsigned)k);
	for (i = 0; i < x->nm; i++) {
		/* the export counter (the last series) only of a grid connection */
		size_t nq = x->m[i].grid ? REPORT_NSERIES : REPORT_E_EXP;

		if (store_reader_windows_many(x->rd, x->m[i].name, qty, nq, in->before_us,
					      in->to_us, false, on_minute, x->m[i].s, &x->cause) < 0)
			return -1;
		report_add_meter(in, i, &x->m[i], rep);
		for (k = 0; k < REPORT_NSERIES; k++)
			history_series_free(&x->m[i].s[k]);
	}
	return 0;
}

/* The figures are those of the windows starting in [from, to), and a shift
 * that does not start on a window's boundary gets the window across its
 * start counted in the shift before (docs/reports.md): say so. */
static void steps_note(const struct report_in *in)
{
	size_t i;

	if (in->from_us % in->step_us != 0 || in->to_us % in->step_us != 0)
		fprintf(stderr, "phasor report: note: --from or --to is not on a %lld-minute"
				" boundary: the figures are those of the windows starting in the"
				" range\n",
			(long long)(in->step_us / (60 * US)));
	for (i = 0; i < in->nshifts; i++)
		if ((int64_t)in->shift_min[i] * 60 * US % in->step_us != 0)
			fprintf(stderr, "phasor report: note: the shift at %02d:%02d does not start on a"
					" %lld-minute boundary: the window across its start counts in"
					" the shift before\n",
				in->shift_min[i] / 60, in->shift_min[i] % 60,
				(long long)(in->step_us / (60 * US)));
}

int cmd_report(int argc, char **argv)
{
	static const struct cmd_option opts[] = {
		{ "from", true, OPT_FROM }, { "to", true, OPT_TO },   { "meter", true, OPT_METER },
		{ "csv", true, OPT_CSV },
		{ NULL, false, 0 },
	};
	struct report_args ra = { 0 };
	const struct cmd_spec spec = { .name = "report", .common = CMD_OPT_CONFIG | CMD_OPT_DB | CMD_OPT_OUTPUT,
				       .options = opts, .option = on_option, .ctx = &ra,
				       .usage = usage };
	struct run x = { 0 };
	struct cmd_args a;
	struct report_in in;
	struct report rep;
	struct report_doc doc;
	double prices[UTILITY__COUNT];
	size_t *parent1;
	struct report_tables tabs;
	struct report_forecast_in fin;
	int64_t now = util_now_us(), from, to, first, last;
	char safe[512], f1[40], f2[40];
	bool pdf;
	int rc = cmd_parse(&spec, argc, argv, &a), pages;

	if (rc >= 0) {
		free(ra.meters);
		return rc;
	}
	rc = EXIT_USAGE;
	ra.out = a.output;
	if (a.db == NULL || ra.from == NULL || ra.to == NULL || ra.out == NULL) {
		fprintf(stderr, "phasor report: --db, --from, --to and -o are required\n");
		usage(stderr);
		goto out;
	}
	if (util_parse_time(ra.from, now, &from) < 0 || util_parse_time(ra.to, now, &to) < 0) {
		fprintf(stderr, "phasor report: --%s: '%s' is not a time\n",
			util_parse_time(ra.from, now, &from) < 0 ? "from" : "to",
			util_sanitize(safe, sizeof(safe),
				      util_parse_time(ra.from, now, &from) < 0 ? ra.from : ra.to));
		goto out;
	}
	pdf = ends_with(ra.out, ".pdf");
	if (!pdf && !ends_with(ra.out, ".png")) {
		fprintf(stderr, "phasor report: -o %s: unknown output extension (.pdf or .png)\n",
			util_sanitize(safe, sizeof(safe), ra.out));
		goto out;
	}
	if (ra.csv != NULL && !ends_with(ra.csv, ".csv")) {
		fprintf(stderr, "phasor report: --csv %s: unknown output extension (.csv)\n",
			util_sanitize(safe, sizeof(safe), ra.csv));
		goto out;
	}
	if (to <= from) {
		fprintf(stderr, "phasor report: empty range: --to (%s) is not after --from (%s)\n",
			util_format_time_ms(to, f2, sizeof(f2)),
			util_format_time_ms(from, f1, sizeof(f1)));
		goto out;
	}
	x.rd = store_reader_open(a.db, &x.cause);
	if (x.rd == NULL) {
		rc = fail(&x, EXIT_RUNTIME, "cannot read the buffer");
		goto out;
	}
	if (store_reader_time_bounds(x.rd, &first, &last, &x.cause) < 0) {
		rc = fail(&x, EXIT_RUNTIME, "reading the buffer");
		goto out;
	}
	if (first == 0 && last == 0) {
		fprintf(stderr, "phasor report: %s has no samples\n", a.db);
		goto out;
	}
	if (to <= first || from > last) {
		fprintf(stderr, "phasor report: the range %s .. %s is outside the buffer, which"
				" holds %s .. %s\n",
			util_format_time_ms(from, f1, sizeof(f1)), util_format_time_ms(to, f2, sizeof(f2)),
			util_format_time_ms(first, safe, 40), util_format_time_ms(last, safe + 64, 40));
		goto out;
	}
	x.cfg = site_config(x.rd, a.config, from, to, &x.cause);
	if (x.cfg == NULL && x.cause != NULL) {
		rc = fail(&x, EXIT_USAGE, "the site's settings");
		goto out;
	}
	if (x.cfg != NULL && x.cfg->site.timezone != NULL) {
		setenv("TZ", x.cfg->site.timezone, 1);
		tzset();
	}
	x.names = store_reader_meter_names(x.rd, &x.cause);
	if (x.names == NULL) {
		rc = fail(&x, EXIT_RUNTIME, "reading the meters");
		goto out;
	}
	rc = choose_meters(&x, &ra, a.db);
	if (rc >= 0)
		goto out;

	/* the outputs' temporary names, checked before the work */
	if (pdf) {
		add_output(&x.out, util_strdup(ra.out));
		if (writable(x.out.tmp[0], ra.out) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
	} else {
		x.out.base = util_strndup(ra.out, strlen(ra.out) - 4);
		const char *tmp1 = png_path(&x.out, 1);

		if (writable(tmp1, x.out.final[0]) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if (ra.csv != NULL) {
		char *tmp = util_printf("%s.tmp-%ld", ra.csv, (long)getpid());
		int w = writable(tmp, ra.csv);

		free(tmp);
		if (w < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
	}

	if (read_journal(&x, from, to) < 0) {
		rc = fail(&x, EXIT_RUNTIME, "reading the buffer");
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.site = x.cfg != NULL ? x.cfg->site.name : "phasor";
	in.zone = x.cfg != NULL && x.cfg->site.timezone != NULL ? x.cfg->site.timezone
	       : getenv("TZ") != NULL && getenv("TZ")[0] ? getenv("TZ") : "system (TZ unset)";
	in.db = a.db;
	in.from_us = from;
	in.to_us = to;
	in.before_us = from - 3600 * US;
	in.made_us = now; /* minutes after the wall clock are not expected */
	in.step_us = CODEC_WINDOW_US; /* the report works in 5-minute windows */
	in.price_per_kwh = x.cfg != NULL ? x.cfg->site.price_per_kwh : NAN;
	for (int u = 0; u < UTILITY__COUNT; u++)
		prices[u] = config_price(x.cfg, u);
	in.prices = prices;
	in.co2_per_kwh = x.cfg != NULL ? x.cfg->site.co2_per_kwh : NAN;
	in.contract_w = x.cfg != NULL ? x.cfg->site.contract_power : NAN;
	in.nominal_f = x.cfg != NULL ? x.cfg->site.nominal_freq : 50;
	in.currency = x.cfg != NULL ? x.cfg->site.currency : NULL;
	in.shift_min = x.cfg != NULL ? x.cfg->site.shift_min : NULL;
	in.holidays = x.cfg != NULL ? x.cfg->forecast.holidays : NULL;
	in.nholidays = x.cfg != NULL ? x.cfg->forecast.nholidays : 0;
	in.nshifts = x.cfg != NULL ? x.cfg->site.nshifts : 0;
	steps_note(&in);
	in.meters = x.m;
	in.nmeters = x.nm;
	in.alarms = x.j.rows;
	in.nalarms = x.j.n;
	if (x.fc.n > 0) {
		fin = (struct report_forecast_in){ x.fc.n, x.fc.step_us, x.fc.t_us, x.fc.point };
		in.forecast = &fin;
	}
	report_begin(&in, &rep);
	if (read_meters(&x, &in, &rep) < 0) {
		report_free(&rep);
		rc = fail(&x, EXIT_RUNTIME, "reading the buffer");
		goto out;
	}
	report_end(&in, &rep);
	doc = (struct report_doc){ .site = in.site, .zone = in.zone, .db = a.db,
				   .version = PHASOR_VERSION,
				   .currency = in.currency != NULL ? in.currency : "",
				   .made_us = made_now(), .price_per_kwh = in.price_per_kwh,
				   .co2_per_kwh = in.co2_per_kwh, .contract_w = in.contract_w,
				   .meters = x.mnames, .shift_min = in.shift_min,
				   .nshifts = in.nshifts };
	parent1 = util_calloc(x.nm ? x.nm : 1, sizeof(*parent1));
	for (size_t i = 0; i < x.nm; i++)
		parent1[i] = x.m[i].parent_plus1;
	doc.parent1 = parent1;
	report_tables_make(&rep, &doc, &tabs);
	free(parent1);
	doc.parent1 = NULL;
	if (pdf)
		pages = report_draw_pdf(x.out.tmp[0], &rep, &doc, &tabs, &x.cause);
	else
		pages = report_draw_png(png_path, &x.out, &rep, &doc, &tabs, &x.cause);
	if (pages >= 0 && ra.csv != NULL) {
		const char *tmp = add_output(&x.out, util_strdup(ra.csv));

		if (write_csv(tmp, &tabs) < 0) {
			x.cause = util_printf("writing %s: %s", ra.csv, strerror(errno));
			pages = -1;
		}
	}
	report_tables_free(&tabs);
	report_free(&rep);
	if (pages < 0) {
		outputs_discard(&x.out);
		rc = fail(&x, EXIT_RUNTIME, "the report");
		goto out;
	}
	rc = outputs_commit(&x.out) < 0 ? EXIT_RUNTIME : EXIT_OK;
	if (rc == EXIT_OK && !pdf)
		stale_pages(x.out.base, pages);
	if (rc == EXIT_OK)
		fprintf(stderr, "phasor report: %s: %d page%s\n", util_sanitize(safe, sizeof(safe), ra.out),
			pages, pages == 1 ? "" : "s");
out:
	run_free(&x);
	free(ra.meters);
	return rc;
}
