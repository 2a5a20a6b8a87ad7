// SPDX-License-Identifier: MIT
/*
 * view_sources: where the data comes from and where it goes (key 5). One
 * block per link of every source (a Modbus endpoint, the MQTT broker): its
 * state and since when, the last error, poll latency, message rate and
 * counters (rejections by reason), then the meters it serves with their own
 * comm state and counters. Below, the local buffer (store state, queue,
 * written, dropped, last commit, file) and the hub's queue with whether
 * backpressure is holding the sources back.
 *
 * The message rate is computed from the counters of an earlier frame, kept
 * here per link (the UI thread is the only caller); the first frame shows
 * "-". The content is built as lines first and scrolled with ui->scroll
 * when it does not fit. With no hub (tests, a replay) it says so.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/fmt.h"
#include "phasor/payload.h"
#include "phasor/store.h"
#include "phasor/sync.h"
#include "phasor/util.h"
#include "phasor/view.h"

#define RATE_MIN_US 1000000     /* recompute a rate at most once a second */
#define BACKPRESSURE_HOLD_US 3000000

/*
 * Counters of an earlier frame, per link index, as many as there are links
 * (grown by rates_fit; kept for the life of the process, as views have no
 * free hook).
 */
static struct rate {
	char name[96];
	uint64_t count;
	int64_t t_us;           /* 0: none yet */
	double per_s;           /* NaN until two frames were seen */
} *rates;
static size_t nrates;

static struct {
	uint64_t throttled;
	int64_t grew_us;        /* when throttled last grew */
} bp;

/* The last draw's size, for the scrolling keys. */
static int last_total, last_page = 1;

static void rates_fit(size_t n)
{
	if (n <= nrates)
		return;
	rates = util_reallocarray(rates, n, sizeof(*rates));
	memset(rates + nrates, 0, (n - nrates) * sizeof(*rates));
	nrates = n;
}

/* Link i's requests (Modbus) or messages (MQTT) per second; i < nrates. */
static double link_rate(size_t i, const struct source_link *l, int64_t now_us)
{
	struct rate *r = &rates[i];
	uint64_t count = strcmp(l->driver, "mqtt") == 0 ? l->received : l->requests;

	if (strcmp(r->name, l->name) != 0 || r->t_us == 0 || count < r->count ||
	    now_us < r->t_us) {
		util_strlcpy(r->name, l->name, sizeof(r->name));
		r->count = count;
		r->t_us = now_us;
		r->per_s = NAN;
	} else if (now_us - r->t_us >= RATE_MIN_US) {
		r->per_s = (double)(count - r->count) * 1e6 / (double)(now_us - r->t_us);
		r->count = count;
		r->t_us = now_us;
	}
	return r->per_s;
}

static enum draw_symbol link_symbol(enum link_state s)
{
	switch (s) {
	case LINK_UP: return SYM_OK;
	case LINK_CONNECTING: return SYM_WARNING;
	case LINK_DOWN: return SYM_DOWN;
	case LINK_IDLE: break;
	}
	return SYM_UNKNOWN;
}

static enum theme_role link_role(enum link_state s)
{
	switch (s) {
	case LINK_UP: return ROLE_OK;
	case LINK_CONNECTING: return ROLE_WARNING;
	case LINK_DOWN: return ROLE_CRITICAL;
	case LINK_IDLE: break;
	}
	return ROLE_MUTED;
}

static const char *u64(uint64_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%llu", (unsigned long long)v);
	return buf;
}

/* "label value" with the value in role r. */
static void kv(struct view_line *l, const char *label, enum theme_role r, const char *value)
{
	view_seg(l, ROLE_MUTED, "%s%s ", l->n > 0 ? "  " : "", label);
	view_seg(l, r, "%s", value);
}

/* Time since t_us, never negative (clocks of other threads may be ahead). */
static const char *age(const struct ui *ui, int64_t t_us, char *buf, size_t size)
{
	return fmt_age(ui->now_us > t_us ? ui->now_us - t_us : 0, buf, size);
}

static bool serves(const struct config_meter *cm, const struct source_link *l)
{
	char ep[128];

	if (strcmp(l->driver, "mqtt") == 0)
		return cm->driver == DRIVER_MQTT;
	if (cm->driver != DRIVER_MODBUS || cm->host == NULL)
		return false;
	snprintf(ep, sizeof(ep), "%s:%d", cm->host, cm->port);
	return strcmp(ep, l->name) == 0;
}

static void meter_line(struct ui *ui, struct view_lines *ls, size_t i, bool modbus, int namew)
{
	const struct live_meter *m = live_meter_const(ui->live, i);
	const struct meter_comm *mc;
	enum comm_status cs;
	struct view_line *l;
	char a[32];

	if (m == NULL)
		return;
	mc = &m->comm;
	cs = ui_meter_comm(ui, m);
	l = view_lines_add(ls, 4);
	view_seg(l, ui_role_comm(cs), "%s ", draw_symbol(view_comm_symbol(cs)));
	view_seg(l, ROLE_NORMAL, "%-*s", namew, m->cfg->name);
	view_seg(l, ui_role_comm(cs), " %-7s", source_comm_name(cs));
	if (modbus) {
		view_seg(l, ROLE_MUTED, "polls ");
		view_seg(l, ROLE_NORMAL, "%s", u64(mc->polls, a, sizeof(a)));
		kv(l, "timeouts", mc->timeouts > 0 ? ROLE_WARNING : ROLE_NORMAL,
		   u64(mc->timeouts, a, sizeof(a)));
		kv(l, "exceptions", mc->exceptions > 0 ? ROLE_WARNING : ROLE_NORMAL,
		   u64(mc->exceptions, a, sizeof(a)));
		kv(l, "errors", mc->errors > 0 ? ROLE_WARNING : ROLE_NORMAL,
		   u64(mc->errors, a, sizeof(a)));
	} else {
		view_seg(l, ROLE_MUTED, "messages ");
		view_seg(l, ROLE_NORMAL, "%s", u64(mc->messages, a, sizeof(a)));
		kv(l, "rejected", mc->rejected > 0 ? ROLE_WARNING : ROLE_NORMAL,
		   u64(mc->rejected, a, sizeof(a)));
	}
	if (mc->error[0] != '\0') {
		/* its own line: an error is what maintenance came to read */
		l = view_lines_add(ls, 6);
		view_seg(l, ROLE_MUTED, "error ");
		view_seg(l, cs == COMM_OK ? ROLE_MUTED : ROLE_ALARM, "%s", mc->error);
		if (mc->last_error_us > 0) {
			view_seg(l, ROLE_MUTED, " (%s ago)", age(ui, mc->last_error_us, a, sizeof(a)));
		}
	}
}

static void link_block(struct ui *ui, struct view_lines *ls, size_t idx, const struct source_link *lk)
{
	bool modbus = strcmp(lk->driver, "mqtt") != 0;
	double rate = link_rate(idx, lk, ui->now_us);
	struct view_line *l;
	char a[48];
	size_t i, k, nserved = 0;
	int namew = 8;

	l = view_lines_add(ls, 0);
	view_seg(l, link_role(lk->state), "%s ", draw_symbol(link_symbol(lk->state)));
	view_seg(l, ROLE_ACCENT, "%s", lk->name);
	view_seg(l, ROLE_MUTED, "  %s  ", lk->driver);
	view_seg(l, link_role(lk->state), "%s", source_link_name(lk->state));
	if (lk->since_us > 0) {
		view_seg(l, ROLE_MUTED, " for ");
		view_seg(l, ROLE_NORMAL, "%s", age(ui, lk->since_us, a, sizeof(a)));
	}
	if (modbus && lk->latency_us >= 0) {
		view_seg(l, ROLE_MUTED, "  latency ");
		view_seg(l, ROLE_NORMAL, "%s", view_ms(lk->latency_us, a, sizeof(a)));
	}

	l = view_lines_add(ls, 2);
	if (modbus) {
		kv(l, "requests", ROLE_NORMAL, u64(lk->requests, a, sizeof(a)));
		kv(l, "per s", ROLE_NORMAL, view_fixed(rate, 1, a, sizeof(a)));
		kv(l, "timeouts", lk->timeouts > 0 ? ROLE_WARNING : ROLE_NORMAL,
		   u64(lk->timeouts, a, sizeof(a)));
		kv(l, "exceptions", lk->exceptions > 0 ? ROLE_WARNING : ROLE_NORMAL,
		   u64(lk->exceptions, a, sizeof(a)));
	} else {
		uint64_t rej = 0;

		for (k = 1; k < UTIL_ARRAY_LEN(lk->rejected); k++)
			rej += lk->rejected[k];
		kv(l, "received", ROLE_NORMAL, u64(lk->received, a, sizeof(a)));
		kv(l, "per s", ROLE_NORMAL, view_fixed(rate, 1, a, sizeof(a)));
		kv(l, "accepted", ROLE_NORMAL, u64(lk->accepted, a, sizeof(a)));
		kv(l, "rejected", rej > 0 ? ROLE_WARNING : ROLE_NORMAL, u64(rej, a, sizeof(a)));
		if (rej > 0) {
			bool first = true;

			view_seg(l, ROLE_MUTED, " (");
			for (k = 1; k < UTIL_ARRAY_LEN(lk->rejected) && k < PAYLOAD__COUNT; k++) {
				if (lk->rejected[k] == 0)
					continue;
				view_seg(l, ROLE_MUTED, "%s%s %llu", first ? "" : ", ",
					 payload_status_name((enum payload_status)k),
					 (unsigned long long)lk->rejected[k]);
				first = false;
			}
			view_seg(l, ROLE_MUTED, ")");
		}
	}
	kv(l, "reconnects", ROLE_NORMAL, u64(lk->reconnects, a, sizeof(a)));
	kv(l, "dropped", lk->dropped > 0 ? ROLE_ALARM : ROLE_NORMAL, u64(lk->dropped, a, sizeof(a)));
	if (strcmp(lk->driver, "mqtt") == 0) {
		/* The intake journal (docs/mqtt.md, "What survives a kill -9"). */
		l = view_lines_add(ls, 2);
		if (lk->journal_slot < 0) {
			view_seg(l, ROLE_ALARM, "no intake journal: messages are acknowledged before"
						" they are stored");
		} else {
			view_seg(l, ROLE_MUTED, "journal ");
			view_seg(l, ROLE_NORMAL, "slot %d", lk->journal_slot);
			kv(l, "written", ROLE_NORMAL, u64(lk->journaled, a, sizeof(a)));
			kv(l, "decoded again", ROLE_NORMAL, u64(lk->replayed, a, sizeof(a)));
			kv(l, "redeliveries skipped", ROLE_NORMAL, u64(lk->duplicates, a, sizeof(a)));
			kv(l, "errors", lk->journal_errors > 0 ? ROLE_ALARM : ROLE_NORMAL,
			   u64(lk->journal_errors, a, sizeof(a)));
		}
	}

	if (lk->error[0] != '\0') {
		l = view_lines_add(ls, 2);
		view_seg(l, ROLE_MUTED, "last error ");
		view_seg(l, lk->state == LINK_UP ? ROLE_MUTED : ROLE_ALARM, "%s", lk->error);
	}

	for (i = 0; ui->cfg != NULL && i < ui->cfg->nmeters; i++) {
		int wd = (int)strlen(ui->cfg->meters[i].name);

		if (serves(&ui->cfg->meters[i], lk) && wd > namew)
			namew = wd < 24 ? wd : 24;
	}
	for (i = 0; ui->cfg != NULL && i < ui->cfg->nmeters; i++)
		if (serves(&ui->cfg->meters[i], lk)) {
			meter_line(ui, ls, i, modbus, namew);
			nserved++;
		}
	if (nserved == 0) {
		l = view_lines_add(ls, 4);
		view_seg(l, ROLE_MUTED, "no meter of this configuration");
	}
	view_lines_add(ls, 0);
}

/* The sync to the central database (issue 5): state, backlog, rate. */
static void sync_block(struct ui *ui, const struct hub_status *hs, struct view_lines *ls)
{
	struct view_line *l;
	struct sync_stats ys;
	char a[48];

	view_lines_add(ls, 0);
	l = view_lines_add(ls, 0);
	view_seg(l, ROLE_ACCENT, "Central database");
	if (!hs->has_sync) {
		view_seg(l, ROLE_MUTED, hs->mode == HUB_ATTACHED && !hs->recorder_up
						? "  unknown: the recorder is gone"
						: "  not configured: no [sync], rows stay in the buffer");
		return;
	}
	ys = hs->sync;
	view_seg(l, ROLE_NORMAL, "  ");
	view_seg(l, ys.connected ? ROLE_OK : ROLE_CRITICAL, "%s %s",
		 draw_symbol(ys.connected ? SYM_OK : SYM_DOWN),
		 ys.connected ? "connected" : sync_state_name(ys.state));
	if (ys.since_us > 0) {
		view_seg(l, ROLE_MUTED, " for ");
		view_seg(l, ROLE_NORMAL, "%s", age(ui, ys.since_us, a, sizeof(a)));
	}
	l = view_lines_add(ls, 2);
	if (ys.backlog >= 0)
		snprintf(a, sizeof(a), "%lld rows", (long long)ys.backlog);
	else
		util_strlcpy(a, "?", sizeof(a));
	kv(l, "backlog", ys.backlog > 0 && !ys.connected ? ROLE_ALARM : ROLE_NORMAL, a);
	kv(l, "oldest unsynced", ROLE_NORMAL,
	   ys.oldest_unsynced_us > 0 ? age(ui, ys.oldest_unsynced_us, a, sizeof(a)) : "-");
	snprintf(a, sizeof(a), "%.0f rows/s", ys.rate);
	kv(l, "rate", ROLE_NORMAL, a);
	l = view_lines_add(ls, 2);
	kv(l, "forwarded", ROLE_NORMAL, u64(ys.forwarded, a, sizeof(a)));
	kv(l, "quarantined", ys.quarantined > 0 ? ROLE_ALARM : ROLE_NORMAL,
	   u64((uint64_t)(ys.quarantined > 0 ? ys.quarantined : 0), a, sizeof(a)));
	if (ys.quota_dropped > 0)
		kv(l, "deleted under quota", ROLE_ALARM, u64(ys.quota_dropped, a, sizeof(a)));
	kv(l, "last sync", ROLE_NORMAL,
	   ys.last_sync_us > 0 ? age(ui, ys.last_sync_us, a, sizeof(a)) : "never");
	if (ys.last_sync_us > 0)
		view_seg(l, ROLE_MUTED, " ago");
	if (ys.error[0] != '\0') {
		l = view_lines_add(ls, 2);
		kv(l, "last error", ROLE_ALARM, ys.error);
	}
}

static void buffer_block(struct ui *ui, struct view_lines *ls)
{
	struct view_line *l;
	struct store_stats ss;
	struct hub_status st;
	struct hub_stats hs;
	char a[48], b[48];
	bool active;

	hub_status(ui->hub, &st);
	if (st.mode == HUB_ATTACHED) {
		l = view_lines_add(ls, 0);
		view_seg(l, ROLE_ACCENT, "Recorder");
		view_seg(l, ROLE_NORMAL, "  ");
		view_seg(l, st.recorder_up ? ROLE_OK : ROLE_CRITICAL, "%s %s",
			 draw_symbol(st.recorder_up ? SYM_OK : SYM_DOWN),
			 st.recorder_up ? "running" : "gone");
		if (st.recorder_since_us > 0) {
			view_seg(l, ROLE_MUTED, " for ");
			view_seg(l, ROLE_NORMAL, "%s", age(ui, st.recorder_since_us, a, sizeof(a)));
		}
		l = view_lines_add(ls, 2);
		kv(l, "who", st.recorder_up ? ROLE_NORMAL : ROLE_ALARM, st.recorder);
		kv(l, "last status", ROLE_NORMAL,
		   st.heartbeat_us > 0 ? age(ui, st.heartbeat_us, a, sizeof(a)) : "never");
		if (st.heartbeat_us > 0)
			view_seg(l, ROLE_MUTED, " ago");
		l = view_lines_add(ls, 2);
		view_seg(l, ROLE_MUTED,
			 "this console polls nothing: it follows the recorder's buffer%s",
			 st.history_loading ? " (reading the last hour)" : "");
		view_lines_add(ls, 0);
	}
	l = view_lines_add(ls, 0);
	view_seg(l, ROLE_ACCENT, "Buffer");
	if (!st.has_store) {
		view_seg(l, ROLE_MUTED, st.mode == HUB_ATTACHED
					    ? "  as the recorder last said: unknown"
					    : "  none: this session records nothing");
	} else {
		ss = st.store;
		view_seg(l, ROLE_NORMAL, "  ");
		view_seg(l, ss.state == STORE_OK ? ROLE_OK : ROLE_CRITICAL, "%s %s",
			 draw_symbol(ss.state == STORE_OK ? SYM_OK : SYM_DOWN),
			 store_state_name(ss.state));
		if (ss.since_us > 0) {
			view_seg(l, ROLE_MUTED, " for ");
			view_seg(l, ROLE_NORMAL, "%s", age(ui, ss.since_us, a, sizeof(a)));
		}
		if (ss.error[0] != '\0') {
			view_seg(l, ROLE_MUTED, "  error ");
			view_seg(l, ROLE_ALARM, "%s", ss.error);
		}
		l = view_lines_add(ls, 2);
		snprintf(b, sizeof(b), "%zu / %zu", ss.queued, ss.queue_max);
		kv(l, "queued", ROLE_NORMAL, b);
		kv(l, "written", ROLE_NORMAL, u64(ss.written, a, sizeof(a)));
		kv(l, "dropped", ss.dropped > 0 ? ROLE_ALARM : ROLE_NORMAL,
		   u64(ss.dropped, a, sizeof(a)));
		if (ss.events_dropped > 0)
			kv(l, "events dropped", ROLE_ALARM, u64(ss.events_dropped, a, sizeof(a)));
		kv(l, "last commit", ROLE_NORMAL,
		   ss.last_commit_us > 0 ? age(ui, ss.last_commit_us, a, sizeof(a)) : "never");
		if (ss.last_commit_us > 0)
			view_seg(l, ROLE_MUTED, " ago");
	}
	l = view_lines_add(ls, 2);
	kv(l, "file", ROLE_NORMAL,
	   ui->cfg != NULL && ui->cfg->store.path != NULL ? ui->cfg->store.path : "-");
	sync_block(ui, &st, ls);

	hs = st.hub;
	if (hs.throttled > bp.throttled)
		bp.grew_us = ui->now_us;
	bp.throttled = hs.throttled;
	active = st.throttled ||
		 (bp.grew_us > 0 && ui->now_us - bp.grew_us < BACKPRESSURE_HOLD_US);
	view_lines_add(ls, 0);
	l = view_lines_add(ls, 0);
	view_seg(l, ROLE_ACCENT, "Hub queue");
	l = view_lines_add(ls, 2);
	kv(l, "depth", ROLE_NORMAL, u64(hs.queue_depth, a, sizeof(a)));
	kv(l, "high water", ROLE_NORMAL, u64(hs.queue_high_water, a, sizeof(a)));
	kv(l, "messages", ROLE_NORMAL, u64(hs.messages, a, sizeof(a)));
	kv(l, "samples", ROLE_NORMAL, u64(hs.samples, a, sizeof(a)));
	kv(l, "dropped", hs.queue_dropped > 0 ? ROLE_ALARM : ROLE_NORMAL,
	   u64(hs.queue_dropped, a, sizeof(a)));
	l = view_lines_add(ls, 2);
	kv(l, "backpressure", active ? ROLE_WARNING : ROLE_OK,
	   active ? "active: the buffer is behind, sources are held back" : "no");
	snprintf(b, sizeof(b), "%llu", (unsigned long long)hs.throttled);
	kv(l, "throttled dispatches", ROLE_NORMAL, b);
}

static void sources_draw(struct ui *ui)
{
	WINDOW *w = ui->body;
	int rows = getmaxy(w), width = getmaxx(w), y;
	struct view_lines ls = { 0 };
	const struct source_link *links;
	size_t n, i;

	if (ui->hub == NULL) {
		draw_text(w, 0, 0, width, ROLE_ACCENT, "Sources");
		draw_text(w, 2, 0, width, ROLE_MUTED,
			  "No sources: this console is not connected to any meter.");
		last_total = 0;
		return;
	}
	{
		struct hub_status st;

		hub_status(ui->hub, &st);
		links = st.links;
		n = st.nlinks;
	}
	rates_fit(n);
	{
		struct view_line *l = view_lines_add(&ls, 0);
		size_t up = 0;

		for (i = 0; i < n; i++)
			up += links[i].state == LINK_UP;
		view_seg(l, ROLE_ACCENT, "Sources");
		view_seg(l, up == n ? ROLE_OK : ROLE_ALARM, "  %zu of %zu link%s up", up, n,
			 n == 1 ? "" : "s");
		view_lines_add(&ls, 0);
	}
	if (n == 0) {
		struct view_line *l = view_lines_add(&ls, 0);

		view_seg(l, ROLE_MUTED, "No sources: no meter is configured.");
		view_lines_add(&ls, 0);
	}
	for (i = 0; i < n; i++)
		link_block(ui, &ls, i, &links[i]);
	buffer_block(ui, &ls);

	last_total = (int)ls.n;
	last_page = rows;
	view_scroll_clamp(ui, last_total, rows);
	for (y = 0; y < rows && (size_t)(ui->scroll + y) < ls.n; y++)
		view_line_draw(w, y, 0, width, &ls.v[ui->scroll + y]);
	if ((size_t)(ui->scroll + rows) < ls.n)
		draw_text_right(w, rows - 1, 0, width, ROLE_MUTED, " more below (Down, PgDn) ");
	view_lines_free(&ls);
}

static int sources_key(struct ui *ui, int ch)
{
	return view_scroll_key(ui, ch, last_total, last_page);
}

static const char *const sources_help[] = {
	"Up Down     scroll a line (also k j)",
	"PgUp PgDn   scroll a page",
	"Home End    top / bottom",
	NULL,
};

const struct view_ops view_sources_ops = {
	.name = "Sources",
	.hotkey = '5',
	.draw = sources_draw,
	.key = sources_key,
	.help = sources_help,
};
