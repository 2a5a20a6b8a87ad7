// SPDX-License-Identifier: MIT
/*
 * replay: a recorded buffer as the console's feed (replay.h).
 *
 * The state at an instant T (rebuild): the last hour before T of the
 * plotted quantities into the history rings, every quantity of the last
 * two minutes before T as the latest values (what a console started at T
 * would have), each meter's comm state at T, and the alarm journal: rows
 * older than a day before T restore each instance's state (no count),
 * the day's rows are applied as a console attached to the recorder
 * applies them (states, raise counts, EEMUA figures, the history). Moving
 * forward by less than five minutes (or playing) applies the rows in
 * between instead (advance), at most STEP_ROWS samples a step, so a frame
 * never waits for a long read: the cursor then waits for the data
 * ("behind").
 */
#include "phasor/fcjob.h"
#include "phasor/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/alarm.h"
#include "phasor/diag.h"
#include "phasor/fileids.h"
#include "phasor/hub.h"
#include "phasor/live.h"
#include "phasor/machines.h"
#include "phasor/plant.h"
#include "phasor/qty.h"
#include "phasor/store.h"
#include "phasor/util.h"

#define US_S 1000000LL
#define HISTORY_US (3600 * US_S)      /* the plotted series before the cursor */
#define RECENT_US (120 * US_S)        /* every quantity from this far back */
#define ALARM_DAY_US (24 * 3600 * US_S)
#define ADVANCE_US (300 * US_S)       /* a seek forward by more than this rebuilds */
#define STEP_ROWS 200000              /* samples applied per step at most */
#define HIST_RING 4096
#define CHUNK 512

static const double speeds[] = { 1, 2, 10, 60, 600, 3600 };


struct replay {
	char *path;
	struct store_reader *r;
	bool want_trends;
	struct fcjob *fc;             /* view 4 at the cursor (opts.trends); NULL: none */
	struct plant_session *sess;   /* every session, oldest first ... */
	char **sess_config;           /* ... and its configuration text (NULL: none kept) */
	size_t nsess;
	int64_t first_us, last_us;    /* the recording's samples */
	int64_t session;              /* whose configuration */
	const struct config *cfg;
	struct live *live;
	struct alarm_engine *alarms;
	struct machines *machines;    /* view 7 at the cursor; NULL: no machines */
	bool feed_machines;           /* advance(): the machines' samples to their figures */
	int64_t edges_at;             /* sessions' ends and starts applied up to here */
	char origin[96];
	struct alarm_event *hist;     /* ring of the newest journal events applied */
	uint64_t hist_n;
	struct fileids ids;           /* the file's meter and quantity ids */
	int64_t cursor;               /* the instant shown */
	int64_t applied;              /* rows up to this instant are in the state */
	int64_t step_us;              /* one poll: the shortest poll_ms */
	bool playing, behind;
	bool frozen;                  /* a live console's (Z): the recording grows */
	uint64_t state_gen;           /* rebuilds so far */
	size_t speed_i;
	int64_t mono_at;              /* the last tick's monotonic clock; 0: none */
	char notice[96];
	struct sample chunk[CHUNK];
	size_t nchunk;
	bool chunk_history;
	/* advance(): the step being read */
	int64_t step_rows, step_last_t;
	bool step_cut;
};

/* ---- opening ---- */

static int on_session(void *ctx, const struct store_session *s)
{
	struct replay *rp = ctx;
	struct plant_session *x;

	rp->sess = util_reallocarray(rp->sess, rp->nsess + 1, sizeof(*rp->sess));
	rp->sess_config = util_reallocarray(rp->sess_config, rp->nsess + 1,
					    sizeof(*rp->sess_config));
	rp->sess_config[rp->nsess] = s->config_text != NULL ? util_strdup(s->config_text) : NULL;
	x = &rp->sess[rp->nsess++];
	memset(x, 0, sizeof(*x));
	x->id = s->id;
	x->start_us = s->start_us;
	x->end_us = s->end_us;
	util_sanitize(x->host, sizeof(x->host), s->host);
	util_sanitize(x->mode, sizeof(x->mode), s->mode);
	return 0;
}

static size_t speed_index(double speed)
{
	size_t i;

	for (i = 0; i + 1 < UTIL_ARRAY_LEN(speeds); i++)
		if (speeds[i] >= speed)
			break;
	return i;
}

struct replay *replay_open(const struct replay_opts *o, char **cause)
{
	struct replay *rp = util_calloc(1, sizeof(*rp));
	size_t i;

	rp->path = util_strdup(o->db);
	rp->want_trends = o->trends;
	rp->r = store_reader_open(o->db, cause);
	if (rp->r == NULL)
		goto fail;
	if (store_reader_sessions(rp->r, on_session, rp, cause) < 0 ||
	    store_reader_time_bounds(rp->r, &rp->first_us, &rp->last_us, cause) < 0)
		goto fail;
	if (rp->last_us == 0) {
		*cause = util_printf("%s holds no samples: nothing to replay", o->db);
		goto fail;
	}
	rp->cursor = o->from_us == INT64_MIN ? rp->first_us : o->from_us;
	if (rp->cursor < rp->first_us || rp->cursor > rp->last_us) {
		char a[40], b[40];

		util_format_time_ms(rp->first_us, a, sizeof(a));
		util_format_time_ms(rp->last_us, b, sizeof(b));
		*cause = util_printf("--from is outside the recording (%s to %s)", a, b);
		goto fail;
	}
	rp->session = o->session;
	if (rp->session > 0) {
		for (i = 0; i < rp->nsess && rp->sess[i].id != rp->session; i++)
			;
		if (i == rp->nsess) {
			*cause = util_printf("%s has no session %lld (phasor replay --help: sessions"
					     " are listed by S in the replay)",
					     o->db, (long long)rp->session);
			goto fail;
		}
		if (o->from_us == INT64_MIN && rp->sess[i].start_us > rp->cursor)
			rp->cursor = rp->sess[i].start_us;
	} else {
		/* the newest session begun at or before the cursor (else the first) */
		for (i = 0; i < rp->nsess; i++)
			if (rp->sess[i].start_us <= rp->cursor || rp->session == 0)
				rp->session = rp->sess[i].id;
	}
	rp->speed_i = speed_index(o->speed > 0 ? o->speed : 1);
	rp->playing = o->speed > 0;
	return rp;
fail:
	replay_free(rp);
	return NULL;
}

void replay_free(struct replay *rp)
{
	size_t i;

	if (rp == NULL)
		return;
	fcjob_free(rp->fc);
	store_reader_close(rp->r);
	for (i = 0; i < rp->nsess; i++)
		free(rp->sess_config[i]);
	free(rp->sess_config);
	free(rp->sess);
	live_free(rp->live);
	alarm_engine_free(rp->alarms);
	machines_free(rp->machines);
	free(rp->hist);
	fileids_free(&rp->ids);
	free(rp->path);
	free(rp);
}

struct config *replay_take_config(struct replay *rp, char **cause)
{
	struct diag d;
	struct config *cfg;
	char name[64];
	size_t i;

	for (i = 0; i < rp->nsess && rp->sess[i].id != rp->session; i++)
		;
	if (i == rp->nsess || rp->sess_config[i] == NULL) {
		*cause = util_printf("session %lld of %s has no configuration kept with it: give"
				     " the one it ran with, -c FILE",
				     (long long)rp->session, rp->path);
		return NULL;
	}
	snprintf(name, sizeof(name), "session %lld", (long long)rp->session);
	diag_init(&d);
	cfg = config_load_string(rp->sess_config[i], name, &d);
	if (cfg == NULL)
		*cause = util_printf("the configuration kept with %s cannot be used here (%s%s);"
				     " give one with -c FILE",
				     name, d.n > 0 ? d.lines[0] : "?",
				     d.n > 1 ? ", and more" : "");
	diag_clear(&d);
	return cfg;
}

/* ---- applying rows ---- */

static void flush_chunk(struct replay *rp)
{
	if (rp->nchunk == 0)
		return;
	if (rp->chunk_history)
		live_history_add(rp->live, rp->chunk, rp->nchunk);
	else
		live_apply(rp->live, rp->chunk, rp->nchunk);
	rp->nchunk = 0;
}

/* The sessions' ends and starts in (edges_at, to_us] to the machines, in
 * time order (a session never closed ended where the next began). */
static void edges_until(struct replay *rp, int64_t to_us)
{
	size_t i;

	for (i = 0; rp->machines != NULL && i < rp->nsess; i++) {
		int64_t start = rp->sess[i].start_us, end = rp->sess[i].end_us;

		if (end == 0 && i + 1 < rp->nsess)
			end = rp->sess[i + 1].start_us;
		if (start > rp->edges_at && start <= to_us)
			machines_edge(rp->machines, start, true);
		if (end > rp->edges_at && end <= to_us)
			machines_edge(rp->machines, end, false);
	}
	if (to_us > rp->edges_at)
		rp->edges_at = to_us;
}

/* A machine's stored state or count while moving forward: the figures up
 * to its time first (the meters' energy so far to the state before it). */
static void put_machine(struct replay *rp, const struct sample *s)
{
	struct sample m = *s; /* s is the chunk's next slot */

	flush_chunk(rp);
	edges_until(rp, m.t_us);
	machines_tick(rp->machines, rp->live, m.t_us);
	machines_stored(rp->machines, &m, 1);
}

static void put_sample(struct replay *rp, const struct store_raw_row *x)
{
	struct sample *s = &rp->chunk[rp->nchunk];

	if (!fileids_sample(&rp->ids, x, s))
		return;
	if (s->meter >= rp->cfg->nmeters) {
		/* rebuild(): the machines read their past themselves */
		if (rp->feed_machines)
			put_machine(rp, s);
		return;
	}
	if (++rp->nchunk == CHUNK)
		flush_chunk(rp);
}

static int on_raw(void *ctx, const struct store_raw_row *x)
{
	put_sample(ctx, x);
	return 0;
}

/* advance(): stops at a time boundary once STEP_ROWS are applied. */
static int on_step(void *ctx, const struct store_raw_row *x)
{
	struct replay *rp = ctx;

	if (rp->step_rows >= STEP_ROWS && x->t_us != rp->step_last_t) {
		rp->step_cut = true;
		return 1;
	}
	put_sample(rp, x);
	rp->step_rows++;
	rp->step_last_t = x->t_us;
	return 0;
}

static void hist_push(struct replay *rp, const struct alarm_event *ev)
{
	rp->hist[rp->hist_n++ % HIST_RING] = *ev;
}

static int on_alarm_restore(void *ctx, const struct store_alarm_event *e)
{
	struct replay *rp = ctx;

	alarm_restore(rp->alarms, e);
	return 0;
}

static int on_alarm_row(void *ctx, const struct store_alarm_event *e)
{
	struct replay *rp = ctx;
	struct alarm_event ev;

	if (alarm_journal_row(rp->alarms, e, true, &ev))
		hist_push(rp, &ev);
	return 0;
}

static int on_comm(void *ctx, const struct store_comm_row *r)
{
	struct replay *rp = ctx;
	long m = fileids_meter_named(&rp->ids, r->meter);
	struct meter_comm c;

	if (m < 0)
		return 0;
	fileids_comm(r, &c);
	live_set_comm(rp->live, (size_t)m, &c);
	return 0;
}

static void read_failed(struct replay *rp, char *cause)
{
	snprintf(rp->notice, sizeof(rp->notice), "%s", cause != NULL ? cause : "read failed");
	free(cause);
}

static void no_event(void *ctx, const struct alarm_event *ev)
{
	(void)ctx;
	(void)ev;
}

/* The state at t from nothing. */
static void rebuild(struct replay *rp, int64_t t)
{
	const struct config *cfg = rp->cfg;
	char *cause = NULL;
	size_t i;

	rp->state_gen++;
	live_free(rp->live);
	rp->live = live_new(cfg, NULL, NULL);
	alarm_engine_free(rp->alarms);
	rp->alarms = alarm_engine_new(cfg, rp->origin, no_event, rp);
	rp->hist_n = 0;
	rp->nchunk = 0;
	rp->chunk_history = true;
	/* the plotted quantities in one pass: each block read once */
	store_reader_raw_window_set(rp->r, t - HISTORY_US, t - RECENT_US, rp->ids.plotted,
				    rp->ids.nplotted, on_raw, rp, &cause);
	flush_chunk(rp);
	rp->chunk_history = false;
	if (cause == NULL)
		store_reader_raw_window(rp->r, t - RECENT_US, t + 1, -1, on_raw, rp, &cause);
	flush_chunk(rp);
	for (i = 0; i < cfg->nmeters && cause == NULL; i++) {
		struct store_comm_state cs;
		struct store_comm_row row = { 0 };
		struct meter_comm c;

		if (store_reader_comm_at(rp->r, cfg->meters[i].name, t, &cs, &cause) < 0)
			break;
		row.t_us = cs.since_us;
		row.status = cs.status;
		row.error = cs.error;
		fileids_comm(&row, &c);
		live_set_comm(rp->live, i, &c);
	}
	if (cause == NULL &&
	    store_reader_alarm_events(rp->r, INT64_MIN, t - ALARM_DAY_US, on_alarm_restore, rp,
				      &cause) == 0)
		store_reader_alarm_events(rp->r, t - ALARM_DAY_US, t + 1, on_alarm_row, rp, &cause);
	alarm_perf_since(rp->alarms, t - ALARM_DAY_US > rp->first_us ? t - ALARM_DAY_US
								    : rp->first_us);
	/* the machines' day (or shift) up to t, as a recorder restarted at t
	 * would read it back */
	machines_free(rp->machines);
	rp->machines = machines_new(cfg, t);
	machines_follow_store(rp->machines);
	if (cause == NULL)
		machines_load(rp->machines, rp->r, t, INT64_MAX, &cause);
	rp->edges_at = t;
	if (cause != NULL)
		read_failed(rp, cause);
	rp->applied = t;
}

/* The rows of (applied, to], at most STEP_ROWS samples; applied moves on. */
static void advance(struct replay *rp, int64_t to)
{
	struct store_filter f = { NULL, NULL, 0, 0 };
	char *cause = NULL;
	int64_t until = to;

	if (to <= rp->applied)
		return;
	rp->step_rows = 0;
	rp->step_cut = false;
	rp->step_last_t = INT64_MIN;
	rp->feed_machines = true;
	if (store_reader_raw_window(rp->r, rp->applied + 1, to + 1, -1, on_step, rp, &cause) < 0) {
		rp->feed_machines = false;
		read_failed(rp, cause);
		return;
	}
	rp->feed_machines = false;
	flush_chunk(rp);
	if (rp->step_cut)
		until = rp->step_last_t;
	edges_until(rp, until);
	machines_tick(rp->machines, rp->live, until);
	f.from_us = rp->applied + 1;
	f.to_us = until + 1;
	if (store_reader_comm_changes(rp->r, &f, on_comm, rp, &cause) < 0 ||
	    store_reader_alarm_events(rp->r, f.from_us, f.to_us, on_alarm_row, rp, &cause) < 0)
		read_failed(rp, cause);
	rp->applied = until;
}

/* ---- the cursor ---- */

static int64_t clamp(const struct replay *rp, int64_t t)
{
	return t < rp->first_us ? rp->first_us : t > rp->last_us ? rp->last_us : t;
}

void replay_mark_frozen(struct replay *rp)
{
	rp->frozen = true;
}

/* A frozen live console's buffer grows: its end moves on. */
static void refresh_end(struct replay *rp)
{
	int64_t first, last;
	char *cause = NULL;

	if (!rp->frozen)
		return;
	if (store_reader_time_bounds(rp->r, &first, &last, &cause) == 0 && last > rp->last_us)
		rp->last_us = last;
	free(cause);
}

void replay_seek(struct replay *rp, int64_t t_us)
{
	int64_t t = clamp(rp, t_us);

	/* Forward by a few minutes, applying every quantity in between is
	 * cheaper than a rebuild; beyond, a rebuild (the plotted quantities of
	 * an hour and two minutes of all) costs the same for any distance. */
	if (t < rp->applied || t - rp->applied > ADVANCE_US) {
		rebuild(rp, t);
	} else {
		while (rp->applied < t) {
			int64_t before = rp->applied;

			advance(rp, t);
			if (rp->applied == before)
				break; /* a read failed: said in the notice */
		}
	}
	rp->cursor = t;
	rp->behind = false;
	alarm_measure_only(rp->alarms, rp->live, rp->cfg, rp->cursor);
}

const char *replay_path(const struct replay *rp)
{
	return rp->path;
}

int64_t replay_cursor(const struct replay *rp)
{
	return rp->cursor;
}

int replay_start(struct replay *rp, const struct config *cfg, char **cause)
{
	const char *id;
	size_t i;

	rp->cfg = cfg;
	fileids_init(&rp->ids, cfg);
	if (fileids_load(&rp->ids, rp->r, cause) < 0)
		return -1;
	id = store_reader_console_id(rp->r);
	snprintf(rp->origin, sizeof(rp->origin), "%s", id[0] != '\0' ? id : "replay");
	rp->hist = util_calloc(HIST_RING, sizeof(*rp->hist));
	rp->step_us = US_S;
	for (i = 0; i < cfg->nmeters; i++)
		if (cfg->meters[i].poll_ms > 0 && cfg->meters[i].poll_ms * 1000LL < rp->step_us)
			rp->step_us = cfg->meters[i].poll_ms * 1000LL;
	rebuild(rp, rp->cursor);
	alarm_measure_only(rp->alarms, rp->live, rp->cfg, rp->cursor);
	if (rp->want_trends) {
		rp->fc = fcjob_new(cfg, &(struct fcjob_opts){ .path = rp->path, .at_cursor = true });
		fcjob_set_now(rp->fc, rp->cursor);
		if (fcjob_start(rp->fc, cause) < 0) {
			fcjob_free(rp->fc);
			rp->fc = NULL;
			return -1;
		}
	}
	return 0;
}

void replay_tick(struct replay *rp, int64_t mono_us)
{
	int64_t dt = rp->mono_at > 0 ? mono_us - rp->mono_at : 0;

	rp->mono_at = mono_us;
	if (!rp->playing || dt <= 0)
		return;
	/* While behind, the cursor waits for the data rather than run ahead. */
	rp->cursor = clamp(rp, rp->cursor + (int64_t)((double)dt * speeds[rp->speed_i]));
	advance(rp, rp->cursor);
	rp->behind = rp->applied < rp->cursor;
	if (rp->behind)
		rp->cursor = rp->applied;
	if (rp->cursor >= rp->last_us)
		refresh_end(rp);
	if (rp->cursor >= rp->last_us) {
		rp->playing = false;
		snprintf(rp->notice, sizeof(rp->notice), "end of the recording");
	}
	alarm_measure_only(rp->alarms, rp->live, rp->cfg, rp->cursor);
}

/* The first journal row after the cursor (next) or the last before it. */
struct find_alarm {
	int64_t t;
	bool found;
	bool first;               /* stop at the first (next) */
};

static int on_find(void *ctx, const struct store_alarm_event *e)
{
	struct find_alarm *fa = ctx;

	fa->t = e->t_us;
	fa->found = true;
	return fa->first ? 1 : 0;
}

static void to_alarm(struct replay *rp, bool next)
{
	struct find_alarm fa = { 0, false, next };
	char *cause = NULL;
	int rc;

	rc = next ? store_reader_alarm_events(rp->r, rp->cursor + 1, INT64_MAX, on_find, &fa, &cause)
		  : store_reader_alarm_events(rp->r, INT64_MIN, rp->cursor, on_find, &fa, &cause);
	if (rc < 0) {
		read_failed(rp, cause);
		return;
	}
	if (!fa.found) {
		snprintf(rp->notice, sizeof(rp->notice), "no alarm event %s this instant",
			 next ? "after" : "before");
		return;
	}
	rp->playing = false;
	replay_seek(rp, fa.t);
}

void replay_act(struct replay *rp, enum replay_action a)
{
	rp->notice[0] = '\0';
	switch (a) {
	case REPLAY_PLAY_PAUSE:
		rp->playing = !rp->playing && rp->cursor < rp->last_us;
		if (!rp->playing && rp->cursor >= rp->last_us)
			snprintf(rp->notice, sizeof(rp->notice), "end of the recording");
		break;
	case REPLAY_FASTER:
		if (rp->speed_i + 1 < UTIL_ARRAY_LEN(speeds))
			rp->speed_i++;
		break;
	case REPLAY_SLOWER:
		if (rp->speed_i > 0)
			rp->speed_i--;
		break;
	case REPLAY_STEP_FWD:
		replay_seek(rp, rp->cursor + rp->step_us);
		break;
	case REPLAY_STEP_BACK:
		replay_seek(rp, rp->cursor - rp->step_us);
		break;
	case REPLAY_MINUTE_FWD:
		replay_seek(rp, rp->cursor + 60 * US_S);
		break;
	case REPLAY_MINUTE_BACK:
		replay_seek(rp, rp->cursor - 60 * US_S);
		break;
	case REPLAY_HOUR_FWD:
		replay_seek(rp, rp->cursor + 3600 * US_S);
		break;
	case REPLAY_HOUR_BACK:
		replay_seek(rp, rp->cursor - 3600 * US_S);
		break;
	case REPLAY_START:
		replay_seek(rp, rp->first_us);
		break;
	case REPLAY_END:
		refresh_end(rp);
		rp->playing = false;
		replay_seek(rp, rp->last_us);
		break;
	case REPLAY_NEXT_ALARM:
		to_alarm(rp, true);
		break;
	case REPLAY_PREV_ALARM:
		to_alarm(rp, false);
		break;
	}
}

int replay_goto(struct replay *rp, const char *text, char *err, size_t errsz)
{
	int64_t t;

	if (util_parse_time(text, rp->cursor, &t) < 0) {
		snprintf(err, errsz, "not a time (2026-12-06 03:40, -10m, +1h, today)");
		return -1;
	}
	if (t < rp->first_us || t > rp->last_us) {
		snprintf(err, errsz, "outside the recording");
		return -1;
	}
	rp->playing = false;
	rp->notice[0] = '\0';
	replay_seek(rp, t);
	return 0;
}

void replay_to_session(struct replay *rp, int64_t id)
{
	size_t i, shown = rp->nsess;

	for (i = 0; i < rp->nsess; i++)
		if (rp->sess[i].id == rp->session)
			shown = i;
	for (i = 0; i < rp->nsess && rp->sess[i].id != id; i++)
		;
	if (i == rp->nsess)
		return;
	rp->playing = false;
	replay_seek(rp, rp->sess[i].start_us);
	rp->notice[0] = '\0';
	if (shown < rp->nsess && id != rp->session &&
	    (rp->sess_config[i] == NULL || rp->sess_config[shown] == NULL ||
	     strcmp(rp->sess_config[i], rp->sess_config[shown]) != 0))
		snprintf(rp->notice, sizeof(rp->notice),
			 "session %lld ran another configuration: --session %lld shows its own",
			 (long long)id, (long long)id);
}

/* ---- the plant ---- */

static int replay_refuse(void *ctx, size_t inst, const char *action, const char *op,
			 const char *note, int64_t dur_ms, int64_t now_us, bool *sent, char *err,
			 size_t errsz)
{
	(void)ctx;
	(void)inst;
	(void)action;
	(void)op;
	(void)note;
	(void)dur_ms;
	(void)now_us;
	*sent = false;
	snprintf(err, errsz, "a replay changes nothing (it shows what was recorded)");
	return -1;
}

static size_t replay_history(void *ctx, long inst, const struct alarm_event **out, size_t max)
{
	struct replay *rp = ctx;
	uint64_t i, first = rp->hist_n > HIST_RING ? rp->hist_n - HIST_RING : 0;
	size_t n = 0;

	for (i = rp->hist_n; i > first && n < max; i--) {
		const struct alarm_event *e = &rp->hist[(i - 1) % HIST_RING];

		if (inst < 0 || e->inst == (size_t)inst)
			out[n++] = e;
	}
	return n;
}

static int replay_forecast(void *ctx, const char *op, int64_t now_us, bool *sent, char *err,
			   size_t errsz)
{
	(void)ctx;
	(void)op;
	(void)now_us;
	*sent = false;
	snprintf(err, errsz, "a replay makes no forecast");
	return -1;
}

static const struct plant_ops replay_plant_ops = {
	.act = replay_refuse,
	.history = replay_history,
	.forecast = replay_forecast,
};

void replay_fill(struct replay *rp, struct plant *p)
{
	p->live = rp->live;
	p->alarms = rp->alarms;
	p->has_status = true;
	memset(&p->status, 0, sizeof(p->status));
	p->status.mode = HUB_REPLAY;
	p->buffer_replaced = false;
	p->trends = NULL;
	if (rp->fc != NULL) {
		fcjob_set_now(rp->fc, rp->cursor);
		p->trends = fcjob_take(rp->fc);
	}
	p->machines = rp->machines;
	p->now_us = rp->cursor;
	p->ops = &replay_plant_ops;
	p->ctx = rp;
	p->replay.on = true;
	p->replay.frozen = rp->frozen;
	p->replay.state_gen = rp->state_gen;
	p->replay.playing = rp->playing;
	p->replay.speed = speeds[rp->speed_i];
	p->replay.first_us = rp->first_us;
	p->replay.last_us = rp->last_us;
	p->replay.session = rp->session;
	p->replay.behind = rp->behind;
	snprintf(p->replay.notice, sizeof(p->replay.notice), "%s", rp->notice);
	p->replay.sessions = rp->sess;
	p->replay.nsessions = rp->nsess;
}
