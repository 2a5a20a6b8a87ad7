// SPDX-License-Identifier: MIT
/*
 * follow: the buffer as a source (include/phasor/follow.h). Its thread owns
 * a read-only store reader and pushes what the recorder wrote on the hub
 * queue; everything shared with the hub thread (the recorder's status and
 * links, the requests to send) is under one mutex and copied out.
 *
 *   recorder --writes--> buffer <--reads every FOLLOW_MS-- follow thread
 *                          ^                                   | push
 *   alarm_requests <-------+--- store_request_add ---------- queue --> hub
 */
#include "phasor/follow.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "phasor/fileids.h"
#include "phasor/log.h"
#include "phasor/reclock.h"
#include "phasor/status.h"
#include "phasor/util.h"

#define CHUNK 512                /* samples per message */
#define ROWS_PER_PASS 50000      /* samples read per query */
#define PUSH_WAIT_MS 200
#define REOPEN_MS 1000
#define FOLLOW_RECENT_US (120LL * 1000000) /* every quantity from this far back */
#define MAX_PENDING 256          /* requests not yet written */
#define MAX_WATCHED 256          /* requests written, outcome not seen yet */
#define MAX_FILE_ID 1000000      /* meters / quantities ids mapped at most */

struct pending {
	struct store_request q;
	char *buf;                   /* the strings of q */
};

struct follow {
	struct source base;
	const struct config *cfg;
	struct queue *q;
	struct follow_opts o;
	char *console;
	pthread_t thread;
	bool started;
	atomic_bool stop;

	/* follow thread only */
	struct store_reader *r;
	dev_t dev;                   /* the file r opened */
	ino_t ino;
	int64_t samples_after, comm_after, alarms_after;
	bool caught_up;              /* the first pass (the last hour) is done */
	struct sample chunk[CHUNK];
	size_t nchunk;
	bool chunk_history;
	struct fileids ids;          /* the file's meter and quantity ids */
	int64_t rows;                /* rows of the current query */
	bool reloaded;
	int64_t watched[MAX_WATCHED];/* ids of our requests waiting for their outcome */
	size_t nwatched;
	uint64_t pushed_dropped;

	pthread_mutex_t lock;
	/* under lock */
	bool recorder_up;
	char recorder[160];
	int64_t recorder_since_us;
	int64_t heartbeat_us;
	struct hub_status said;      /* store, sync, hub as the recorder said */
	struct source_link *links;   /* the recorder's links, then ours */
	size_t nlinks, links_cap;
	bool loading;
	struct pending pend[MAX_PENDING];
	size_t npend;
};

/* ---- pushing ---- */

static bool push(struct follow *f, struct source_msg *m)
{
	while (!atomic_load(&f->stop)) {
		if (queue_push(f->q, m, PUSH_WAIT_MS) == 0)
			return true;
	}
	free(m);
	return false;
}

static void flush_chunk(struct follow *f)
{
	struct source_msg *m;

	if (f->nchunk == 0)
		return;
	m = source_msg_samples(&f->base, f->nchunk);
	if (f->chunk_history)
		m->kind = MSG_HISTORY;
	memcpy(source_msg_sample_array(m), f->chunk, f->nchunk * sizeof(f->chunk[0]));
	f->nchunk = 0;
	push(f, m);
}

/* (Re)load the file's meter and quantity ids (a recorder started with
 * another configuration adds rows). */
static bool load_ids(struct follow *f)
{
	char *cause = NULL;

	if (fileids_load(&f->ids, f->r, &cause) < 0) {
		log_warn("follow: %s", cause);
		free(cause);
		return false;
	}
	return true;
}

static int on_raw(void *ctx, const struct store_raw_row *r)
{
	struct follow *f = ctx;
	long mi = fileids_meter(&f->ids, r->meter_id);
	int q = fileids_qty(&f->ids, r->qty_id);

	f->rows++;
	if ((mi == -2 || q == -2) && !f->reloaded) {
		/* an id this map has not seen: load again, once per pass */
		f->reloaded = true;
		load_ids(f);
		q = fileids_qty(&f->ids, r->qty_id);
	}
	f->samples_after = r->seq;
	if ((f->chunk_history && !fileids_plotted_qty(q)) ||
	    !fileids_sample(&f->ids, r, &f->chunk[f->nchunk]) ||
	    (f->chunk[f->nchunk].meter >= f->cfg->nmeters && r->seq <= f->o.machines_after))
		return atomic_load(&f->stop) ? 1 : 0;
	if (++f->nchunk == CHUNK)
		flush_chunk(f);
	return atomic_load(&f->stop) ? 1 : 0;
}

/*
 * Samples after f->samples_after up to to_seq (INT64_MAX: all there is),
 * of the plotted quantities only while chunk_history; false on error.
 */
static bool read_samples(struct follow *f, int64_t to_seq)
{
	char *cause = NULL;

	f->reloaded = false;
	while (!atomic_load(&f->stop) && f->samples_after < to_seq) {
		int64_t before = f->samples_after;

		f->rows = 0;
		if (store_reader_raw_after(f->r, before, to_seq, ROWS_PER_PASS, f->ids.plotted,
					   f->chunk_history ? f->ids.nplotted : 0, on_raw, f,
					   &cause) < 0) {
			log_warn("follow: %s", cause);
			free(cause);
			return false;
		}
		flush_chunk(f);
		if (f->rows < ROWS_PER_PASS) {
			/* the whole range is read (the rows left out by the
			 * quantity filter included) */
			if (to_seq != INT64_MAX)
				f->samples_after = to_seq;
			break;
		}
	}
	return true;
}

static int on_comm(void *ctx, const struct store_comm_row *r)
{
	struct follow *f = ctx;
	long mi = fileids_meter_named(&f->ids, r->meter);
	struct meter_comm c;

	f->comm_after = r->seq;
	if (mi < 0)
		return 0;
	fileids_comm(r, &c);
	push(f, source_msg_status(&f->base, (int)mi, &c));
	return atomic_load(&f->stop) ? 1 : 0;
}

static size_t slen(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 1;
}

static void put_str(char **p, const char *s)
{
	size_t n = slen(s);

	memcpy(*p, s != NULL ? s : "", n);
	*p += n;
}

/* A journal row as a message: its numbers in a header, its strings after. */
struct row_head {
	int64_t seq, t_us, raised_us, until_us;
	double value, limit;
};

#define ROW_STRINGS 10

static int on_alarm(void *ctx, const struct store_alarm_event *e)
{
	struct follow *f = ctx;
	const char *str[ROW_STRINGS] = { e->id, e->origin, e->alarm, e->meter, e->quantity,
					 e->priority, e->event, e->state, e->operator_name, e->note };
	size_t len = sizeof(struct row_head), i;
	struct source_msg *m;
	struct row_head h = { e->seq, e->t_us, e->raised_us, e->until_us, e->value, e->limit };
	char *p;

	f->alarms_after = e->seq;
	for (i = 0; i < ROW_STRINGS; i++)
		len += slen(str[i]);
	m = util_malloc(sizeof(*m) + len);
	memset(m, 0, sizeof(*m));
	m->kind = MSG_ALARM_ROW;
	m->source = &f->base;
	m->meter = -1;
	m->t_us = e->t_us;
	memcpy(m->data, &h, sizeof(h));
	p = (char *)m->data + sizeof(h);
	for (i = 0; i < ROW_STRINGS; i++)
		put_str(&p, str[i]);
	push(f, m);
	return atomic_load(&f->stop) ? 1 : 0;
}

void follow_alarm_row(const struct source_msg *m, struct store_alarm_event *out)
{
	struct row_head h;
	const char *p = (const char *)m->data + sizeof(h);
	const char **str[ROW_STRINGS] = { &out->id, &out->origin, &out->alarm, &out->meter,
					  &out->quantity, &out->priority, &out->event, &out->state,
					  &out->operator_name, &out->note };
	size_t i;

	memcpy(&h, m->data, sizeof(h));
	memset(out, 0, sizeof(*out));
	out->seq = h.seq;
	out->t_us = h.t_us;
	out->raised_us = h.raised_us;
	out->until_us = h.until_us;
	out->value = h.value;
	out->limit = h.limit;
	for (i = 0; i < ROW_STRINGS; i++) {
		*str[i] = p;
		p += strlen(p) + 1;
	}
}

/* ---- the recorder ---- */

static void check_recorder(struct follow *f, int64_t now)
{
	char who[160] = "", *cause = NULL, *text = NULL;
	int held = reclock_probe(f->cfg->store.path, who, sizeof(who), &cause);
	int64_t t_us = 0;
	struct hub_status said;
	char err[160];
	int got;

	if (held < 0) {
		util_strlcpy(who, cause, sizeof(who));
		free(cause);
		cause = NULL;
	} else if (held == 0) {
		util_strlcpy(who, "no recorder runs on this buffer", sizeof(who));
	}
	got = f->r != NULL ? store_reader_status(f->r, "recorder", &t_us, &text, &cause) : 0;
	if (got < 0) {
		free(cause);
		cause = NULL;
	}
	pthread_mutex_lock(&f->lock);
	if ((held == 1) != f->recorder_up || f->recorder_since_us == 0) {
		f->recorder_up = held == 1;
		f->recorder_since_us = now;
		log_info("follow: %s: %s", f->cfg->store.path,
			 held == 1 ? who : "the recorder is gone");
	}
	util_strlcpy(f->recorder, who, sizeof(f->recorder));
	if (got == 1) {
		memset(&said, 0, sizeof(said));
		if (status_decode(text, &said, &f->links, &f->links_cap, err, sizeof(err)) == 0) {
			f->heartbeat_us = t_us;
			f->nlinks = said.nlinks;
			f->said = said;
		}
	}
	pthread_mutex_unlock(&f->lock);
	free(text);
}

/* ---- requests ---- */

static void outcome(struct follow *f, const struct store_request *q)
{
	bool refused = q->result != NULL && q->result[0] != '\0';
	struct source_msg *m;

	m = source_msg_event(&f->base, -1, q->done_us, refused ? "request-refused" : "request-done",
			     "%s of %s%s%s%s%s", q->action, q->alarm, q->meter[0] ? " on " : "",
			     q->meter, refused ? ": " : "", refused ? q->result : "");
	push(f, m);
}

static int on_request(void *ctx, const struct store_request *q)
{
	struct follow *f = ctx;
	size_t i;

	if (q->result == NULL)
		return 0;
	for (i = 0; i < f->nwatched; i++)
		if (f->watched[i] == q->id) {
			outcome(f, q);
			f->watched[i] = f->watched[--f->nwatched];
			break;
		}
	return 0;
}

static void send_requests(struct follow *f)
{
	struct pending p[MAX_PENDING];
	size_t n, i;

	pthread_mutex_lock(&f->lock);
	n = f->npend;
	memcpy(p, f->pend, n * sizeof(p[0]));
	f->npend = 0;
	pthread_mutex_unlock(&f->lock);
	for (i = 0; i < n; i++) {
		char *cause = NULL;
		int64_t id;

		if (store_request_add(f->cfg->store.path, &p[i].q, &id, &cause) < 0) {
			push(f, source_msg_event(&f->base, -1, util_now_us(), "request-refused",
						 "%s of %s: not sent: %s", p[i].q.action,
						 p[i].q.alarm, cause));
			free(cause);
		} else if (f->nwatched < MAX_WATCHED) {
			f->watched[f->nwatched++] = id;
		}
		free(p[i].buf);
	}
	if (f->nwatched > 0 && f->r != NULL) {
		int64_t low = f->watched[0];
		char *cause = NULL;

		for (i = 1; i < f->nwatched; i++)
			if (f->watched[i] < low)
				low = f->watched[i];
		if (store_reader_requests(f->r, low - 1, false, on_request, f, &cause) < 0)
			free(cause);
	}
}

void follow_request(struct source *s, const struct store_request *q)
{
	struct follow *f = (struct follow *)s;
	const char *str[] = { q->console, q->operator_name, q->action, q->alarm, q->meter, q->note };
	size_t len = 0, i;
	struct pending p;
	char *w;

	for (i = 0; i < UTIL_ARRAY_LEN(str); i++)
		len += slen(str[i]);
	p.q = *q;
	p.buf = w = util_malloc(len);
	{
		const char **dst[] = { &p.q.console, &p.q.operator_name, &p.q.action,
				       &p.q.alarm,   &p.q.meter,	 &p.q.note };

		for (i = 0; i < UTIL_ARRAY_LEN(dst); i++) {
			*dst[i] = w;
			put_str(&w, str[i]);
		}
	}
	pthread_mutex_lock(&f->lock);
	if (f->npend < MAX_PENDING) {
		f->pend[f->npend++] = p;
		p.buf = NULL;
	}
	pthread_mutex_unlock(&f->lock);
	free(p.buf);
}

/* ---- the thread ---- */

static bool open_reader(struct follow *f)
{
	char *cause = NULL;

	if (f->r != NULL)
		return true;
	{
		struct stat sb;

		if (stat(f->cfg->store.path, &sb) == 0) {
			f->dev = sb.st_dev;
			f->ino = sb.st_ino;
		}
	}
	f->r = store_reader_open(f->cfg->store.path, &cause);
	if (f->r == NULL) {
		pthread_mutex_lock(&f->lock);
		util_strlcpy(f->recorder, cause, sizeof(f->recorder));
		pthread_mutex_unlock(&f->lock);
		free(cause);
		return false;
	}
	fileids_free(&f->ids);
	return load_ids(f);
}

/*
 * The recorder made a new file (a damaged buffer moved aside, a file
 * removed by hand): the open reader still reads the old one.
 */
static bool replaced(const struct follow *f)
{
	struct stat sb;

	return stat(f->cfg->store.path, &sb) < 0 || sb.st_dev != f->dev || sb.st_ino != f->ino;
}

static void set_loading(struct follow *f, bool on)
{
	pthread_mutex_lock(&f->lock);
	f->loading = on;
	pthread_mutex_unlock(&f->lock);
}

/* Embedded: the last hour before this start, plotted quantities only. */
static void run_history(struct follow *f)
{
	struct store_seqs seqs;
	char *cause = NULL;
	int64_t t0 = util_mono_us();

	if (!open_reader(f))
		return;
	if (store_reader_last_seqs(f->r, &seqs, &cause) < 0 ||
	    store_reader_seq_since(f->r, util_now_us() - FOLLOW_HISTORY_US, &f->samples_after,
				   &cause) < 0) {
		log_warn("follow: history: %s", cause);
		free(cause);
		return;
	}
	f->chunk_history = true;
	read_samples(f, seqs.samples);
	log_info("follow: %s: the last hour before this start read in %lld ms",
		 f->cfg->store.path, (long long)((util_mono_us() - t0) / 1000));
}

/* Each meter's comm state now, from its newest comm change. */
static void comm_now(struct follow *f, int64_t now)
{
	size_t i;

	for (i = 0; i < f->cfg->nmeters && !atomic_load(&f->stop); i++) {
		struct store_comm_state cs;
		struct store_comm_row row;
		char *cause = NULL;

		if (store_reader_comm_at(f->r, f->cfg->meters[i].name, now, &cs, &cause) < 0) {
			free(cause);
			continue;
		}
		row.seq = f->comm_after;
		row.t_us = cs.since_us;
		row.session = cs.session;
		row.meter = f->cfg->meters[i].name;
		row.status = cs.status;
		row.error = cs.error;
		on_comm(f, &row);
	}
}

static void run_attached(struct follow *f)
{
	bool primed = false;

	while (!atomic_load(&f->stop)) {
		int64_t now = util_now_us(), t0 = util_mono_us(), spent;

		if (f->r != NULL && replaced(f)) {
			log_info("follow: %s is a new file: reading it from the start",
				 f->cfg->store.path);
			store_reader_close(f->r);
			f->r = NULL;
			primed = false;
			f->o.alarms_after = 0; /* the new file's journal from its start */
		}
		if (!open_reader(f)) {
			check_recorder(f, now);
			util_sleep_ms(REOPEN_MS);
			continue;
		}
		if (!primed) {
			struct store_seqs seqs;
			char *cause = NULL;
			int64_t recent;

			if (store_reader_last_seqs(f->r, &seqs, &cause) < 0 ||
			    store_reader_seq_since(f->r, now - FOLLOW_HISTORY_US, &f->samples_after,
						   &cause) < 0) {
				log_warn("follow: %s", cause);
				free(cause);
				store_reader_close(f->r);
				f->r = NULL;
				util_sleep_ms(REOPEN_MS);
				continue;
			}
			if (store_reader_seq_since(f->r, now - FOLLOW_RECENT_US, &recent, &cause) < 0) {
				log_warn("follow: %s", cause);
				free(cause);
				recent = f->samples_after;
			}
			f->comm_after = seqs.comm;
			if (f->o.alarms_after >= 0)
				f->alarms_after = f->o.alarms_after;
			check_recorder(f, now);
			comm_now(f, now);
			/* The last hour first, the views filling as it comes: of the
			 * plotted quantities only, but for the last minutes, which
			 * give every quantity its latest value and the counters
			 * their start. */
			f->chunk_history = true;
			read_samples(f, recent);
			f->chunk_history = false;
			read_samples(f, seqs.samples);
			set_loading(f, false);
			log_info("follow: %s: the last hour read (samples up to seq %lld) in %lld ms",
				 f->cfg->store.path, (long long)f->samples_after,
				 (long long)((util_mono_us() - t0) / 1000));
			primed = true;
		}
		check_recorder(f, now);
		read_samples(f, INT64_MAX);
		{
			char *cause = NULL;

			if (store_reader_comm_after(f->r, f->comm_after, on_comm, f, &cause) < 0 ||
			    store_reader_alarm_after(f->r, f->alarms_after, on_alarm, f, &cause) < 0) {
				log_warn("follow: %s", cause);
				free(cause);
			}
		}
		send_requests(f);
		spent = (util_mono_us() - t0) / 1000;
		if (spent < FOLLOW_MS)
			util_sleep_ms(FOLLOW_MS - spent);
	}
}

static void *follow_main(void *arg)
{
	struct follow *f = arg;

	util_thread_name("follow");

	if (f->o.attached)
		run_attached(f);
	else
		run_history(f);
	set_loading(f, false);
	if (f->r != NULL) {
		store_reader_close(f->r);
		f->r = NULL;
	}
	return NULL;
}

/* ---- the KPI's day before this start (kpi.h), from the buffer ---- */

/*
 * The reader and the file's meter names by id: the day is read on the
 * primary key without a join (store_reader_raw_window), in windows of the
 * KPI's choosing, and the rows are named here.
 */
struct day {
	struct store_reader *r;
	char **names;                /* by the file's meters.id; NULL: none */
	size_t nnames;
};

static int day_name(void *ctx, int64_t id, const char *name)
{
	struct day *d = ctx;
	size_t i;

	if (id < 0 || id >= MAX_FILE_ID)
		return 0;
	if ((size_t)id >= d->nnames) {
		d->names = util_reallocarray(d->names, (size_t)id + 1, sizeof(*d->names));
		for (i = d->nnames; i <= (size_t)id; i++)
			d->names[i] = NULL;
		d->nnames = (size_t)id + 1;
	}
	free(d->names[id]);
	d->names[id] = util_strdup(name);
	return 0;
}

static void day_close(void *h)
{
	struct day *d = h;
	size_t i;

	if (d == NULL)
		return;
	store_reader_close(d->r);
	for (i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	free(d);
}

static void *day_open(const char *path, char **cause)
{
	struct day *d = util_calloc(1, sizeof(*d));

	d->r = store_reader_open(path, cause);
	if (d->r == NULL || store_reader_ids(d->r, false, day_name, d, cause) < 0) {
		day_close(d);
		return NULL;
	}
	return d;
}

struct day_ctx {
	const struct day *d;
	kpi_day_fn fn;
	void *ctx;
};

static int day_row(void *ctx, const struct store_raw_row *r)
{
	const struct day_ctx *c = ctx;
	struct kpi_day_row row = { r->t_us, NULL, r->value, r->quality, r->meter_id };

	if (r->meter_id < 0 || (size_t)r->meter_id >= c->d->nnames ||
	    (row.meter = c->d->names[r->meter_id]) == NULL)
		return 0;
	return c->fn(c->ctx, &row);
}

static int day_rows(void *h, unsigned qty, int64_t from_us, int64_t to_us, kpi_day_fn fn,
		    void *ctx, char **cause)
{
	struct day *d = h;
	struct day_ctx c = { d, fn, ctx };

	/* a buffer's quantity ids are the enum qty_id (store.c refuses a file
	 * whose ids mean something else) */
	return store_reader_raw_window(d->r, from_us, to_us, (int64_t)qty, day_row, &c, cause);
}

const struct kpi_day_ops follow_kpi_day_ops = {
	.open = day_open,
	.rows = day_rows,
	.close = day_close,
};

/* ---- source ops ---- */

struct source *follow_new(const struct config *cfg, struct queue *q, const struct follow_opts *o)
{
	struct follow *f = util_calloc(1, sizeof(*f));

	f->base.ops = &source_follow_ops;
	f->cfg = cfg;
	fileids_init(&f->ids, cfg);
	f->q = q;
	f->o = *o;
	f->console = util_strdup(o->console != NULL ? o->console : "console");
	f->o.console = f->console;
	f->alarms_after = o->alarms_after;
	f->loading = true;
	atomic_init(&f->stop, false);
	pthread_mutex_init(&f->lock, NULL);
	util_strlcpy(f->recorder, "looking for the recorder", sizeof(f->recorder));
	return &f->base;
}

static int follow_start(struct source *s, char **cause)
{
	struct follow *f = (struct follow *)s;
	int err;

	if (f->cfg->store.path == NULL) {
		*cause = util_strdup("follow: no buffer");
		return -1;
	}
	err = pthread_create(&f->thread, NULL, follow_main, f);
	if (err != 0) {
		*cause = util_printf("follow: cannot start its thread: %s", strerror(err));
		return -1;
	}
	f->started = true;
	return 0;
}

static void follow_stop(struct source *s)
{
	struct follow *f = (struct follow *)s;

	if (!f->started)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	f->started = false;
}

static size_t follow_links(struct source *s, struct source_link *out, size_t max)
{
	struct follow *f = (struct follow *)s;
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->o.attached ? f->nlinks : 0;
	if (n > 0 && max > 0)
		memcpy(out, f->links, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&f->lock);
	return n;
}

bool follow_loading(struct source *s)
{
	struct follow *f = (struct follow *)s;
	bool on;

	pthread_mutex_lock(&f->lock);
	on = f->loading;
	pthread_mutex_unlock(&f->lock);
	return on;
}

void follow_status(struct source *s, struct hub_status *out)
{
	struct follow *f = (struct follow *)s;

	pthread_mutex_lock(&f->lock);
	out->recorder_up = f->recorder_up;
	util_strlcpy(out->recorder, f->recorder, sizeof(out->recorder));
	out->recorder_since_us = f->recorder_since_us;
	out->heartbeat_us = f->heartbeat_us;
	out->history_loading = f->loading;
	if (f->o.attached) {
		out->has_store = f->said.has_store;
		out->store = f->said.store;
		out->store_replaced = f->said.store_replaced;
		out->has_sync = f->said.has_sync;
		out->sync = f->said.sync;
		out->hub = f->said.hub;
		out->throttled = f->said.throttled;
	}
	pthread_mutex_unlock(&f->lock);
}

static void follow_destroy(struct source *s)
{
	struct follow *f = (struct follow *)s;
	size_t i;

	follow_stop(s);
	for (i = 0; i < f->npend; i++)
		free(f->pend[i].buf);
	pthread_mutex_destroy(&f->lock);
	fileids_free(&f->ids);
	free(f->links);
	free(f->console);
	free(f);
}

const struct source_ops source_follow_ops = {
	.name = "buffer",
	.create = NULL,
	.start = follow_start,
	.stop = follow_stop,
	.decode = NULL,
	.tick = NULL,
	.links = follow_links,
	.destroy = follow_destroy,
};
