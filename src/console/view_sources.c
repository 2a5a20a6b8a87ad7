// SPDX-License-Identifier: MIT
/*
 * view_sources: where the data comes from and where it goes (key 5). One
 * block per link of every source (a Modbus endpoint, the MQTT broker): its
 * state and since when, the last error, poll latency, message rate and
 * counters (MQTT: received = accepted + rejected, by reason, + alarm
 * sharing + redeliveries skipped + not decoded + still queued; each shown
 * so they add up), then the meters it serves with their own
 * comm state and counters. Below, the local buffer (store state, queue,
 * written, dropped, last commit, file) and the hub's queue with whether
 * backpressure is holding the sources back.
 *
 * A link's state is plant_link()'s: "degraded" when it is connected but
 * none of its meters answers, "down" from its first failure while it
 * retries. Everything comes from the plant's status (the links,
 * the buffer, the sync, the hub queue of the process that acquires). The
 * message rate is computed from the counters of an earlier frame, kept per
 * link in the view's state; the first frame shows "-". The content is
 * built as lines first and scrolled with the list widget when it does not
 * fit. With no status (tests, a plant without sources) it says so.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/fmt.h"
#include "phasor/payload.h"
#include "phasor/util.h"
#include "phasor/view.h"

#define RATE_MIN_US 1000000     /* recompute a rate at most once a second */
#define BACKPRESSURE_HOLD_US 3000000

/* Counters of an earlier frame, per link index, as many as there are links
 * (grown by rates_fit). */
struct view_sources_rate {
	char name[96];
	uint64_t count;
	int64_t t_us;           /* 0: none yet */
	double per_s;           /* NaN until two frames were seen */
};

static void rates_fit(struct view_sources_state *st, size_t n)
{
	if (n <= st->nrates)
		return;
	st->rates = util_reallocarray(st->rates, n, sizeof(*st->rates));
	memset(st->rates + st->nrates, 0, (n - st->nrates) * sizeof(*st->rates));
	st->nrates = n;
}

/* Link i's requests (Modbus) or messages (MQTT) per second; i < st->nrates. */
static double link_rate(struct view_sources_state *st, size_t i, const struct source_link *l,
			int64_t now_us)
{
	struct view_sources_rate *r = &st->rates[i];
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

static enum draw_symbol link_symbol(enum plant_link_state s)
{
	switch (s) {
	case PLANT_LINK_UP: return SYM_OK;
	case PLANT_LINK_CONNECTING:
	case PLANT_LINK_DEGRADED: return SYM_WARNING;
	case PLANT_LINK_DOWN: return SYM_DOWN;
	case PLANT_LINK_IDLE: break;
	}
	return SYM_UNKNOWN;
}

static enum theme_role link_role(enum plant_link_state s)
{
	switch (s) {
	case PLANT_LINK_UP: return ROLE_OK;
	case PLANT_LINK_CONNECTING: return ROLE_WARNING;
	case PLANT_LINK_DEGRADED: return ROLE_ALARM;
	case PLANT_LINK_DOWN: return ROLE_CRITICAL;
	case PLANT_LINK_IDLE: break;
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
	int64_t now = ui->plant->now_us;

	return fmt_age(now > t_us ? now - t_us : 0, buf, size);
}

static void meter_line(struct ui *ui, struct view_lines *ls, size_t i, bool modbus, int namew)
{
	const struct live_meter *m = live_meter_const(ui->plant->live, i);
	const struct meter_comm *mc;
	enum comm_status cs;
	struct view_line *l;
	char a[32];

	if (m == NULL)
		return;
	mc = &m->comm;
	cs = view_meter_comm(ui, m);
	l = view_lines_add(ls, 4);
	view_seg(l, view_role_comm(cs), "%s ", draw_symbol(view_comm_symbol(cs)));
	view_seg(l, ROLE_NORMAL, "%-*s", namew, m->cfg->name);
	view_seg(l, view_role_comm(cs), " %-7s", source_comm_name(cs));
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

static void link_block(struct ui *ui, struct view_sources_state *st, struct view_lines *ls,
		       size_t idx, const struct source_link *lk)
{
	const struct config *cfg = ui->plant->cfg;
	bool modbus = strcmp(lk->driver, "mqtt") != 0;
	double rate = link_rate(st, idx, lk, ui->plant->now_us);
	struct plant_link pl;
	struct view_line *l;
	char a[48];
	size_t i, k, nserved = 0;
	int namew = 8;

	plant_link(ui->plant, lk, &pl);
	l = view_lines_add(ls, 0);
	view_seg(l, link_role(pl.state), "%s ", draw_symbol(link_symbol(pl.state)));
	view_seg(l, ROLE_ACCENT, "%s", lk->name);
	view_seg(l, ROLE_MUTED, "  %s  ", lk->driver);
	view_seg(l, link_role(pl.state), "%s", pl.word);
	if (pl.since_us > 0) {
		view_seg(l, ROLE_MUTED, " for ");
		view_seg(l, ROLE_NORMAL, "%s", age(ui, pl.since_us, a, sizeof(a)));
	}
	if (pl.state == PLANT_LINK_DEGRADED)
		view_seg(l, ROLE_ALARM, "  connected, no meter answers");
	else if (pl.state == PLANT_LINK_DOWN && lk->state == LINK_CONNECTING)
		view_seg(l, ROLE_MUTED, "  reconnecting");
	if (modbus) {
		/* "-": the last poll got no reply (a timeout is no latency) */
		view_seg(l, ROLE_MUTED, "  latency ");
		view_seg(l, ROLE_NORMAL, "%s",
			 lk->latency_us >= 0 ? view_ms(lk->latency_us, a, sizeof(a)) : "-");
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
		/* The rest of received (struct source_link): so the figures add up. */
		if (lk->alarm_msgs > 0 ||
		    (cfg != NULL && cfg->mqtt.alarm_topic != NULL && cfg->mqtt.alarm_topic[0] != '\0'))
			kv(l, "alarm sharing", ROLE_NORMAL, u64(lk->alarm_msgs, a, sizeof(a)));
		if (lk->duplicates > 0)
			kv(l, "redeliveries", ROLE_NORMAL, u64(lk->duplicates, a, sizeof(a)));
		if (lk->undecoded > 0)
			kv(l, "not decoded", ROLE_ALARM, u64(lk->undecoded, a, sizeof(a)));
		{
			uint64_t done = lk->accepted + rej + lk->alarm_msgs + lk->duplicates +
					lk->undecoded;

			if (lk->received > done)
				kv(l, "queued", ROLE_NORMAL, u64(lk->received - done, a, sizeof(a)));
		}
		/* the reasons of the rejections, then the connection's counters */
		l = view_lines_add(ls, 2);
		if (rej > 0) {
			bool first = true;

			view_seg(l, ROLE_MUTED, "rejected: ");
			for (k = 1; k < UTIL_ARRAY_LEN(lk->rejected) && k < PAYLOAD__COUNT; k++) {
				if (lk->rejected[k] == 0)
					continue;
				view_seg(l, ROLE_MUTED, "%s%s %llu", first ? "" : ", ",
					 payload_status_name((enum payload_status)k),
					 (unsigned long long)lk->rejected[k]);
				first = false;
			}
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
		view_seg(l, pl.state == PLANT_LINK_UP ? ROLE_MUTED : ROLE_ALARM, "%s", lk->error);
	}

	for (i = 0; cfg != NULL && i < cfg->nmeters; i++) {
		int wd = (int)strlen(cfg->meters[i].name);

		if (plant_link_serves(lk, &cfg->meters[i]) && wd > namew)
			namew = wd < 24 ? wd : 24;
	}
	for (i = 0; cfg != NULL && i < cfg->nmeters; i++)
		if (plant_link_serves(lk, &cfg->meters[i])) {
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
static void db_block(struct ui *ui, struct view_lines *ls)
{
	const struct plant *p = ui->plant;
	struct view_line *l;
	char a[48];

	view_lines_add(ls, 0);
	l = view_lines_add(ls, 0);
	view_seg(l, ROLE_ACCENT, "Central database");
	if (!p->status.has_sync) {
		view_seg(l, ROLE_MUTED, p->status.mode == HUB_ATTACHED && !p->status.recorder_up
						? "  unknown: the recorder is gone"
						: "  not configured: no [sync], rows stay in the buffer");
		return;
	}
	view_seg(l, ROLE_NORMAL, "  ");
	view_seg(l, p->status.sync.connected ? ROLE_OK : ROLE_CRITICAL, "%s %s",
		 draw_symbol(p->status.sync.connected ? SYM_OK : SYM_DOWN),
		 p->status.sync.connected ? "connected" : plant_db_state(p));
	if (p->status.sync.since_us > 0) {
		view_seg(l, ROLE_MUTED, " for ");
		view_seg(l, ROLE_NORMAL, "%s", age(ui, p->status.sync.since_us, a, sizeof(a)));
	}
	l = view_lines_add(ls, 2);
	if (p->status.sync.backlog >= 0)
		snprintf(a, sizeof(a), "%lld rows", (long long)p->status.sync.backlog);
	else
		util_strlcpy(a, "?", sizeof(a));
	kv(l, "backlog",
	   p->status.sync.backlog > 0 && !p->status.sync.connected ? ROLE_ALARM : ROLE_NORMAL, a);
	kv(l, "oldest unsynced", ROLE_NORMAL,
	   p->status.sync.oldest_unsynced_us > 0
		   ? age(ui, p->status.sync.oldest_unsynced_us, a, sizeof(a))
		   : "-");
	snprintf(a, sizeof(a), "%.0f rows/s", p->status.sync.rate);
	kv(l, "rate", ROLE_NORMAL, a);
	l = view_lines_add(ls, 2);
	kv(l, "forwarded", ROLE_NORMAL, u64(p->status.sync.forwarded, a, sizeof(a)));
	kv(l, "quarantined", p->status.sync.quarantined > 0 ? ROLE_ALARM : ROLE_NORMAL,
	   u64((uint64_t)(p->status.sync.quarantined > 0 ? p->status.sync.quarantined : 0), a, sizeof(a)));
	if (p->status.sync.quota_dropped > 0)
		kv(l, "deleted under quota", ROLE_ALARM, u64(p->status.sync.quota_dropped, a, sizeof(a)));
	kv(l, "last sync", ROLE_NORMAL,
	   p->status.sync.last_sync_us > 0 ? age(ui, p->status.sync.last_sync_us, a, sizeof(a)) : "never");
	if (p->status.sync.last_sync_us > 0)
		view_seg(l, ROLE_MUTED, " ago");
	if (p->status.sync.error[0] != '\0') {
		l = view_lines_add(ls, 2);
		kv(l, "last error", ROLE_ALARM, p->status.sync.error);
	}
}

static void buffer_block(struct ui *ui, struct view_sources_state *vs, struct view_lines *ls)
{
	const struct plant *p = ui->plant;
	const struct config *cfg = p->cfg;
	struct view_line *l;
	char a[48], b[48];
	bool active;

	if (p->status.mode == HUB_ATTACHED) {
		l = view_lines_add(ls, 0);
		view_seg(l, ROLE_ACCENT, "Recorder");
		view_seg(l, ROLE_NORMAL, "  ");
		view_seg(l, p->status.recorder_up ? ROLE_OK : ROLE_CRITICAL, "%s %s",
			 draw_symbol(p->status.recorder_up ? SYM_OK : SYM_DOWN),
			 p->status.recorder_up ? "running" : "gone");
		if (p->status.recorder_since_us > 0) {
			view_seg(l, ROLE_MUTED, " for ");
			view_seg(l, ROLE_NORMAL, "%s", age(ui, p->status.recorder_since_us, a, sizeof(a)));
		}
		l = view_lines_add(ls, 2);
		kv(l, "who", p->status.recorder_up ? ROLE_NORMAL : ROLE_ALARM, p->status.recorder);
		kv(l, "last status", ROLE_NORMAL,
		   p->status.heartbeat_us > 0 ? age(ui, p->status.heartbeat_us, a, sizeof(a)) : "never");
		if (p->status.heartbeat_us > 0)
			view_seg(l, ROLE_MUTED, " ago");
		l = view_lines_add(ls, 2);
		view_seg(l, ROLE_MUTED,
			 "this console polls nothing: it follows the recorder's buffer%s",
			 p->status.history_loading ? " (reading the last hour)" : "");
		view_lines_add(ls, 0);
	}
	l = view_lines_add(ls, 0);
	view_seg(l, ROLE_ACCENT, "Buffer");
	if (!p->status.has_store) {
		view_seg(l, ROLE_MUTED, p->status.mode == HUB_ATTACHED
					    ? "  as the recorder last said: unknown"
					    : "  none: this session records nothing");
	} else {
		view_seg(l, ROLE_NORMAL, "  ");
		view_seg(l, p->status.store.state == STORE_OK ? ROLE_OK : ROLE_CRITICAL, "%s %s",
			 draw_symbol(p->status.store.state == STORE_OK ? SYM_OK : SYM_DOWN),
			 plant_buffer_state(p));
		if (p->status.store.since_us > 0) {
			view_seg(l, ROLE_MUTED, " for ");
			view_seg(l, ROLE_NORMAL, "%s", age(ui, p->status.store.since_us, a, sizeof(a)));
		}
		if (p->status.store.error[0] != '\0') {
			view_seg(l, ROLE_MUTED, "  error ");
			view_seg(l, ROLE_ALARM, "%s", p->status.store.error);
		}
		l = view_lines_add(ls, 2);
		snprintf(b, sizeof(b), "%zu / %zu", p->status.store.queued, p->status.store.queue_max);
		kv(l, "queued", ROLE_NORMAL, b);
		kv(l, "written", ROLE_NORMAL, u64(p->status.store.written, a, sizeof(a)));
		kv(l, "dropped", p->status.store.dropped > 0 ? ROLE_ALARM : ROLE_NORMAL,
		   u64(p->status.store.dropped, a, sizeof(a)));
		if (p->status.store.events_dropped > 0)
			kv(l, "events dropped", ROLE_ALARM, u64(p->status.store.events_dropped, a, sizeof(a)));
		kv(l, "last commit", ROLE_NORMAL,
		   p->status.store.last_commit_us > 0
			   ? age(ui, p->status.store.last_commit_us, a, sizeof(a))
			   : "never");
		if (p->status.store.last_commit_us > 0)
			view_seg(l, ROLE_MUTED, " ago");
		if (p->status.store.migrating) {
			char t[96];

			l = view_lines_add(ls, 2);
			snprintf(t, sizeof(t), "%llu of about %llu samples of the old layout",
				 (unsigned long long)p->status.store.migrate_done,
				 (unsigned long long)p->status.store.migrate_total);
			kv(l, "converting", ROLE_WARNING, t);
		}
	}
	l = view_lines_add(ls, 2);
	kv(l, "file", ROLE_NORMAL,
	   cfg != NULL && cfg->store.path != NULL ? cfg->store.path : "-");
	db_block(ui, ls);

	if (p->status.hub.throttled > vs->bp_throttled)
		vs->bp_grew_us = p->now_us;
	vs->bp_throttled = p->status.hub.throttled;
	active = p->status.throttled ||
		 (vs->bp_grew_us > 0 && p->now_us - vs->bp_grew_us < BACKPRESSURE_HOLD_US);
	view_lines_add(ls, 0);
	l = view_lines_add(ls, 0);
	view_seg(l, ROLE_ACCENT, "Hub queue");
	l = view_lines_add(ls, 2);
	kv(l, "depth", ROLE_NORMAL, u64(p->status.hub.queue_depth, a, sizeof(a)));
	kv(l, "high water", ROLE_NORMAL, u64(p->status.hub.queue_high_water, a, sizeof(a)));
	kv(l, "messages", ROLE_NORMAL, u64(p->status.hub.messages, a, sizeof(a)));
	kv(l, "samples", ROLE_NORMAL, u64(p->status.hub.samples, a, sizeof(a)));
	kv(l, "dropped", p->status.hub.queue_dropped > 0 ? ROLE_ALARM : ROLE_NORMAL,
	   u64(p->status.hub.queue_dropped, a, sizeof(a)));
	l = view_lines_add(ls, 2);
	kv(l, "backpressure", active ? ROLE_WARNING : ROLE_OK,
	   active ? "active: the buffer is behind, sources are held back" : "no");
	snprintf(b, sizeof(b), "%llu", (unsigned long long)p->status.hub.throttled);
	kv(l, "throttled dispatches", ROLE_NORMAL, b);
}

static void sources_draw(struct ui *ui, void *state)
{
	struct view_sources_state *st = state;
	const struct plant *p = ui->plant;
	WINDOW *w = ui->body;
	int width = getmaxx(w);
	struct view_lines ls = { 0 };
	const struct source_link *links;
	size_t n, i;

	if (!p->has_status) {
		draw_text(w, 0, 0, width, ROLE_ACCENT, "Sources");
		draw_text(w, 2, 0, width, ROLE_MUTED,
			  "No sources: this console is not connected to any meter.");
		listw_clamp(&st->list, 0, st->list.page);
		return;
	}
	links = p->status.links;
	n = p->status.nlinks;
	rates_fit(st, n);
	{
		struct view_line *l = view_lines_add(&ls, 0);
		size_t up = 0, degraded = 0;

		plant_links_count(p, links, n, &up, &degraded);
		view_seg(l, ROLE_ACCENT, "Sources");
		view_seg(l, up == n ? ROLE_OK : ROLE_ALARM, "  %zu of %zu link%s up", up, n,
			 n == 1 ? "" : "s");
		if (degraded > 0)
			view_seg(l, ROLE_ALARM, ", %zu degraded (connected, no meter answers)", degraded);
		view_lines_add(&ls, 0);
	}
	if (n == 0) {
		struct view_line *l = view_lines_add(&ls, 0);

		view_seg(l, ROLE_MUTED, "No sources: no meter is configured.");
		view_lines_add(&ls, 0);
	}
	for (i = 0; i < n; i++)
		link_block(ui, st, &ls, i, &links[i]);
	buffer_block(ui, st, &ls);

	view_lines_scrolled(w, &st->list, &ls);
	view_lines_free(&ls);
}

static int sources_key(struct ui *ui, void *state, int ch)
{
	(void)ui;
	return listw_scroll_key(&((struct view_sources_state *)state)->list, ch);
}

static void *sources_init(const struct plant *p)
{
	struct view_sources_state *st = util_calloc(1, sizeof(*st));

	(void)p;
	listw_init(&st->list, 0);
	return st;
}

static void sources_free(void *state)
{
	struct view_sources_state *st = state;

	if (st == NULL)
		return;
	free(st->rates);
	free(st);
}

static void sources_enter(void *state)
{
	listw_top(&((struct view_sources_state *)state)->list);
}

const struct view_ops view_sources_ops = {
	.name = "Sources",
	.hotkey = '5',
	.init = sources_init,
	.free = sources_free,
	.enter = sources_enter,
	.draw = sources_draw,
	.key = sources_key,
	.help = view_scroll_help,
};
