// SPDX-License-Identifier: MIT
/*
 * hub: wires a running phasor together. It owns the bounded queue the
 * sources push on, the sources themselves, the live state and the store
 * writer. The owner thread (record's loop, or the console's UI loop) polls
 * hub_fd() and calls hub_dispatch() and hub_tick(); the hub then turns
 * messages into live-state updates and store writes. All of this runs in
 * the owner thread and never blocks on I/O: the store takes copies into its
 * own queue, and sources do their I/O in their own threads.
 */
#include "phasor/hub.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phasor/alarm.h"
#include "phasor/alarmshare.h"
#include "phasor/fcjob.h"
#include "phasor/follow.h"
#include "phasor/intake.h"
#include "phasor/log.h"
#include "phasor/machines.h"
#include "phasor/status.h"
#include "phasor/sync.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define DEFAULT_QUEUE 65536
#define DISPATCH_BATCH 256
/* Bound one dispatch so a flood never starves the owner's other work. */
#define DISPATCH_MAX 8192
#define STOP_DRAIN_MS 15000
#define HUB_ALARM_UNSENT 1024
#define ALARM_HISTORY_US (24LL * 3600 * 1000000) /* the journal read at start */
#define STATUS_EVERY_US 1000000     /* the recorder's status row */
#define REQUESTS_EVERY_US 200000    /* attached consoles' requests looked for */

static const struct source_ops *const all_sources[] = {
	&source_modbus_ops,
	&source_mqtt_ops,
};

struct hub {
	const struct config *cfg;
	struct hub_opts opts;
	struct queue *q;
	struct source *sources[UTIL_ARRAY_LEN(all_sources) + 1];
	size_t nsources;
	struct live *live;
	struct store *store;
	struct sync *sync;               /* the sync worker, NULL when none */
	struct intake *intake;           /* the MQTT intake journal, NULL when none */
	struct source_sink sink;
	const struct source *current;    /* whose decode/tick is running */
	/* the samples of the intake record being decoded, for store_put_intake */
	bool intake_decoding;
	struct sample *intake_buf;
	size_t intake_n, intake_cap;
	long intake_delay_ms;            /* PHASOR_HUB_INTAKE_DELAY_MS, tests only; 0: none */
	/* gas meters' energy from their volume (utility.h): kWh/m3 per meter,
	 * NULL when no meter has one (or attached: the recorder derived it) */
	double *cv_kwh;
	struct sample *derived;
	size_t derived_cap;
	bool started, stopped;
	bool throttled;                  /* the store is behind: not draining */
	struct hub_stats stats;
	/* every source's links as of the last refresh (hub_links); hub-owned */
	struct source_link *links;
	size_t nlinks, links_cap;
	/* alarms: evaluated in hub_tick, events journaled and shared */
	struct alarm_engine *alarms;
	char origin[96];                 /* this console's id */
	struct source *mqtt;             /* the MQTT source when alarms are shared */
	char *alarm_events_topic;        /* NULL: not shared */
	uint64_t alarm_raises_hi;        /* local raises of critical/high alarms */
	uint64_t alarm_urgent;           /* events worth a redraw at once */
	uint64_t alarm_msgs_bad;         /* shared alarm messages that did not parse */
	int64_t alarm_bad_warned_us;
	struct {
		char *topic, *json;
	} unsent[HUB_ALARM_UNSENT];      /* operator events not published yet */
	size_t nunsent;
	uint64_t alarm_unsent_lost;
	struct alarm_event *alarm_hist;  /* ring of the newest HUB_ALARM_HISTORY events */
	uint64_t alarm_hist_n;           /* events ever put in the ring */
	int64_t alarm_seq;               /* the newest journal row read at start */
	/* the buffer as a source (follow.c): attached, or the history at start */
	struct source *follow;
	/* serving attached consoles (a hub that writes the buffer) */
	struct store_reader *req_reader;
	int64_t req_last;                /* requests applied up to this id */
	int64_t req_current;             /* the request the running action answers */
	int64_t req_at, status_at;       /* util_mono_us of the last look / row */
	/* attached: the outcomes of this console's requests */
	uint64_t outcome_seq;
	bool outcome_refused;
	char outcome[256];
	char console[96];                /* host:pid, who asks */
	struct fcjob *fc;                /* the forecasts (fcjob.h); NULL: none */
	struct machines *machines;       /* [machine NAME]s; NULL: none */
	int64_t machine_warned_us;       /* the last rejected machine message logged */
};

/* ---- what decoded messages turn into ---- */

static void put_event(struct hub *h, int meter, int64_t t_us, const char *source,
		      const char *what, const char *text)
{
	if (h->store != NULL)
		store_put_event(h->store, t_us, meter, source, what, text);
}

static void take_samples(struct hub *h, const struct sample *s, size_t n)
{
	live_apply(h->live, s, n);
	if (h->intake_decoding) {
		/* Held until the record is decoded: they go with its mark. */
		if (h->intake_n + n > h->intake_cap) {
			h->intake_cap = h->intake_n + n > 2 * h->intake_cap ? h->intake_n + n
									  : 2 * h->intake_cap;
			h->intake_buf = util_reallocarray(h->intake_buf, h->intake_cap,
							  sizeof(*h->intake_buf));
		}
		memcpy(h->intake_buf + h->intake_n, s, n * sizeof(*s));
		h->intake_n += n;
	} else if (h->store != NULL) {
		store_put_samples(h->store, s, n);
	}
	h->stats.samples += n;
}

/* A Modbus machine's poll (its unit after the meters): its raw state
 * code and pieces, mapped and stored as its messages are. */
static void machine_poll(struct hub *h, const struct sample *s, size_t n)
{
	struct sample out[8];
	size_t i, m;

	for (i = 0; i < n; i += 4) {
		m = machines_polled(h->machines, s + i, n - i < 4 ? n - i : 4, out, 8);
		if (m > 0)
			take_samples(h, out, m);
	}
}

/* A source's samples, and the gas energy derived from their volumes. */
static void on_samples(void *ctx, const struct sample *s, size_t n)
{
	struct hub *h = ctx;
	size_t k;

	if (h->opts.attached) {
		/* the recorder's samples, the machines' among them as stored */
		take_samples(h, s, n);
		machines_stored(h->machines, s, n);
		return;
	}
	if (n > 0 && s[0].meter >= h->cfg->nmeters) {
		machine_poll(h, s, n); /* a poll is one unit's */
		return;
	}
	take_samples(h, s, n);
	if (h->cv_kwh == NULL)
		return;
	if (n > h->derived_cap) {
		h->derived_cap = n;
		h->derived = util_reallocarray(h->derived, n, sizeof(*h->derived));
	}
	k = utility_derive_energy(s, n, h->cv_kwh, h->cfg->nmeters, h->derived, h->derived_cap);
	if (k > 0)
		take_samples(h, h->derived, k);
}

/* A message on a machine's topic: its state and pieces, stored. */
static int on_machine(void *ctx, const char *topic, const char *payload, size_t len,
		      int64_t t_us)
{
	struct hub *h = ctx;
	long k = machines_find_topic(h->machines, topic);
	struct sample out[2];
	enum payload_status st;
	char err[128];
	size_t n = 0;

	if (k < 0)
		return -1;
	st = machines_message(h->machines, (size_t)k, payload, len, t_us, out, &n, err,
			      sizeof(err));
	if (st != PAYLOAD_OK) {
		const char *name = h->cfg->machines[k].name;

		if (t_us - h->machine_warned_us >= 60 * INT64_C(1000000)) {
			h->machine_warned_us = t_us;
			log_warn("machine %s: message rejected: %s: %s", name,
				 payload_status_name(st), err);
		} else {
			log_debug("machine %s: message rejected: %s: %s", name,
				  payload_status_name(st), err);
		}
	}
	if (n > 0)
		take_samples(h, out, n);
	return (int)st;
}

/* Each machine's consuming-while-stopped instance (after the meters'): its
 * feeding meters' power while it is stopped, 0 while it runs or waits,
 * unknown otherwise; the engine's on-delay is stopped_after. */
static void machine_alarms(struct hub *h, int64_t now_us)
{
	size_t i = alarm_count(h->alarms);

	while (i-- > 0) {
		const struct alarm_inst *in = alarm_get(h->alarms, i);
		const struct machine_track *t;

		if (in->meter < h->cfg->nmeters)
			break;
		t = machines_track(h->machines, in->meter - h->cfg->nmeters);
		if (t == NULL || t->state == MACHINE_UNKNOWN || isnan(t->power_w))
			alarm_feed(h->alarms, i, NAN, false, now_us);
		else
			alarm_feed(h->alarms, i, t->state == MACHINE_STOP ? t->power_w : 0, true,
				   now_us);
	}
}

/* Gas meters with a calorific value whose profile has no e_imp of its own. */
static void derive_setup(struct hub *h)
{
	size_t i;

	for (i = 0; i < h->cfg->nmeters && !h->opts.attached; i++) {
		const struct config_meter *m = &h->cfg->meters[i];

		if (!config_derives_energy(h->cfg, m))
			continue;
		if (h->cv_kwh == NULL)
			h->cv_kwh = util_calloc(h->cfg->nmeters, sizeof(*h->cv_kwh));
		h->cv_kwh[i] = config_calorific(h->cfg, m);
	}
}

static void on_status(void *ctx, int meter, const struct meter_comm *c)
{
	struct hub *h = ctx;
	struct live_meter *m;
	enum comm_status before;

	if (meter < 0 || (size_t)meter >= live_count(h->live))
		return;
	m = live_meter(h->live, (size_t)meter);
	before = m->comm.status;
	live_set_comm(h->live, (size_t)meter, c);
	if (before != c->status) {
		int64_t now = util_now_us();
		char text[256];

		snprintf(text, sizeof(text), "%s -> %s%s%s", source_comm_name(before),
			 source_comm_name(c->status), c->error[0] ? ": " : "", c->error);
		/* The sentence is for the operator; the row for readers. */
		put_event(h, meter, now, config_driver_name(m->cfg->driver), "status", text);
		if (h->store != NULL)
			store_put_comm_change(h->store, now, meter, (int)c->status, c->error);
		if (c->status == COMM_DOWN || before == COMM_DOWN)
			log_info("meter %s: %s", m->cfg->name, text);
	}
}

static void on_event(void *ctx, int meter, int64_t t_us, const char *what, const char *text)
{
	struct hub *h = ctx;

	put_event(h, meter, t_us, h->current != NULL ? h->current->ops->name : "phasor", what,
		  text);
}

static void on_counter_reset(void *ctx, size_t meter, unsigned qty, double before, double after,
			     double span, int64_t t_us)
{
	struct hub *h = ctx;
	const struct config_meter *cm = &h->cfg->meters[meter];
	char text[200];

	if (span > 0) {
		snprintf(text, sizeof(text),
			 "%s wrapped at %.15g %s: from %.15g to %.15g, %.15g counted", qty_name(qty),
			 span, qty_unit(qty), before, after, utility_counter_rise(before, after, span));
		log_info("meter %s: %s", cm->name, text);
		put_event(h, (int)meter, t_us, "live", "counter-wrap", text);
		return;
	}
	snprintf(text, sizeof(text), "%s went from %.17g to %.17g %s (meter reset or rollover)",
		 qty_name(qty), before, after, qty_unit(qty));
	log_warn("meter %s: %s", cm->name, text);
	put_event(h, (int)meter, t_us, "live", "counter-reset", text);
}

/* ---- alarms ---- */

/*
 * Publish an operator event: on the stream, then as the alarm's retained
 * state. 0, or -1 when the broker is not connected.
 */
static int publish_operator(struct hub *h, const char *state_topic, const char *json)
{
	if (source_mqtt_publish(h->mqtt, h->alarm_events_topic, json, 1, false) < 0)
		return -1;
	return source_mqtt_publish(h->mqtt, state_topic, json, 1, true);
}

/*
 * Operator events made while the broker was unreachable wait here (oldest
 * first, at most HUB_ALARM_UNSENT; beyond, the oldest is given up and
 * counted) and go out once it is back: the other consoles then apply them
 * (once: ids), and a console starting later finds them retained.
 */
static void unsent_push(struct hub *h, char *state_topic, char *json)
{
	if (h->nunsent == HUB_ALARM_UNSENT) {
		free(h->unsent[0].topic);
		free(h->unsent[0].json);
		memmove(&h->unsent[0], &h->unsent[1], (HUB_ALARM_UNSENT - 1) * sizeof(h->unsent[0]));
		h->nunsent--;
		h->alarm_unsent_lost++;
	}
	h->unsent[h->nunsent].topic = state_topic;
	h->unsent[h->nunsent].json = json;
	h->nunsent++;
}

static void unsent_flush(struct hub *h)
{
	size_t i = 0;

	while (i < h->nunsent && publish_operator(h, h->unsent[i].topic, h->unsent[i].json) == 0) {
		free(h->unsent[i].topic);
		free(h->unsent[i].json);
		i++;
	}
	if (i > 0) {
		log_info("mqtt: %zu alarm action(s) made while the broker was away sent", i);
		memmove(&h->unsent[0], &h->unsent[i], (h->nunsent - i) * sizeof(h->unsent[0]));
		h->nunsent -= i;
	}
}

static void publish_alarm(struct hub *h, const struct alarm_event *ev)
{
	char *json, *topic;

	if (h->mqtt == NULL || h->alarm_events_topic == NULL)
		return;
	json = alarmshare_encode(ev);
	if (!alarmshare_is_operator_event(ev->kind)) {
		/* Raises and clears: every console makes its own. */
		source_mqtt_publish(h->mqtt, h->alarm_events_topic, json, 1, false);
		free(json);
		return;
	}
	topic = alarmshare_state_topic(h->cfg->mqtt.alarm_topic, h->origin, ev->meter, ev->alarm);
	if (h->nunsent > 0 || publish_operator(h, topic, json) < 0) {
		unsent_push(h, topic, json); /* keeps both */
		return;
	}
	free(topic);
	free(json);
}

static void on_alarm_event(void *ctx, const struct alarm_event *ev)
{
	struct hub *h = ctx;
	struct store_alarm_event row = {
		.t_us = ev->t_us,
		.id = ev->id,
		.origin = ev->origin,
		.alarm = ev->alarm,
		.meter = ev->meter,
		.quantity = ev->quantity,
		.priority = alarm_priority_name(ev->priority),
		.event = alarm_event_name(ev->kind),
		.state = alarm_state_name(ev->state),
		.value = ev->value,
		.limit = ev->limit,
		.operator_name = ev->operator_name,
		.note = ev->note,
		.raised_us = ev->raised_us,
		.until_us = ev->until_us,
	};

	/* the first event of an attached console's request answers it */
	row.request = h->req_current;
	h->req_current = 0;
	if (h->store != NULL)
		store_put_alarm_event(h->store, &row);
	h->alarm_hist[h->alarm_hist_n++ % HUB_ALARM_HISTORY] = *ev;
	if (!ev->remote)
		publish_alarm(h, ev);
	if (!ev->remote && ev->kind == AEV_RAISE && ev->priority <= PRIO_HIGH)
		h->alarm_raises_hi++;
	if (ev->remote || (ev->kind == AEV_RAISE && ev->priority <= PRIO_HIGH))
		h->alarm_urgent++;
	if (ev->priority <= PRIO_HIGH && (ev->kind == AEV_RAISE || ev->kind == AEV_CLEAR))
		log_info("alarm %s %s on %s: %s (value %g, limit %g)", ev->alarm,
			 alarm_event_name(ev->kind), ev->meter, alarm_state_name(ev->state),
			 ev->value, ev->limit);
	else if (ev->operator_name[0] != '\0')
		log_info("alarm %s on %s: %s by %s%s%s%s", ev->alarm, ev->meter,
			 alarm_event_name(ev->kind), ev->operator_name, ev->remote ? " (remote)" : "",
			 ev->note[0] ? ": " : "", ev->note);
}

static void on_alarm_msg(void *ctx, const char *topic, const char *payload, size_t len,
			 int64_t t_us)
{
	struct hub *h = ctx;
	struct alarm_event ev;
	struct alarmshare_names names;
	char err[200], shown[160], from[96];

	if (h->alarms == NULL)
		return;
	/* The origin is the topic's, which the broker's ACL may guard: an
	 * event that claims another console is refused (docs/alarms.md). */
	err[0] = '\0';
	if (alarmshare_topic_origin(h->cfg->mqtt.alarm_topic, topic, from, sizeof(from)) < 0)
		snprintf(err, sizeof(err), "not a topic of alarm events (%s/events/ORIGIN or"
			 " %s/state/ORIGIN/METER/ALARM; an older phasor's?)", h->cfg->mqtt.alarm_topic,
			 h->cfg->mqtt.alarm_topic);
	else if (alarmshare_decode(payload, len, &ev, &names, err, sizeof(err)) == 0 &&
		 alarmshare_check_origin(&ev, from) < 0)
		snprintf(err, sizeof(err), "its origin %.60s is not the topic's %.60s: it claims"
			 " another console", ev.origin, from);
	if (err[0] != '\0') {
		h->alarm_msgs_bad++;
		if (t_us - h->alarm_bad_warned_us >= 60000000) {
			h->alarm_bad_warned_us = t_us;
			log_warn("mqtt: alarm message on %s ignored: %s (%llu so far)",
				 util_sanitize(shown, sizeof(shown), topic), err,
				 (unsigned long long)h->alarm_msgs_bad);
		}
		return;
	}
	if (strcmp(ev.origin, h->origin) == 0)
		return; /* our own, back from the broker */
	ev.remote = true;
	if (alarm_apply_remote(h->alarms, &ev, util_now_us()) < 0) {
		/* an action this console would have refused locally */
		h->alarm_msgs_bad++;
		if (t_us - h->alarm_bad_warned_us >= 60000000) {
			h->alarm_bad_warned_us = t_us;
			log_warn("mqtt: alarm %s of %s on %s from %s refused (a time in the future, an"
				 " ack without the required note, or a shelving beyond shelve_max;"
				 " %llu refused or unreadable so far)",
				 alarm_event_name(ev.kind), ev.alarm, ev.meter, ev.origin,
				 (unsigned long long)h->alarm_msgs_bad);
		}
	}
}

static int restore_row(void *ctx, const struct store_alarm_event *e)
{
	struct hub *h = ctx;

	alarm_restore(h->alarms, e);
	return 0;
}

static void hist_push(struct hub *h, const struct alarm_event *ev)
{
	h->alarm_hist[h->alarm_hist_n++ % HUB_ALARM_HISTORY] = *ev;
}

static int history_row(void *ctx, const struct store_alarm_event *e)
{
	struct hub *h = ctx;
	struct alarm_event ev;

	if (e->seq > h->alarm_seq)
		h->alarm_seq = e->seq;
	if (alarm_journal_row(h->alarms, e, false, &ev))
		hist_push(h, &ev);
	return 0;
}

static int alarm_history_load(struct hub *h, struct store_reader *r, char **cause)
{
	int64_t now = util_now_us(), first = 0;
	struct store_seqs seqs;

	if (store_reader_last_seqs(r, &seqs, cause) < 0)
		return -1;
	h->alarm_seq = seqs.alarms;
	if (store_reader_alarm_events(r, now - ALARM_HISTORY_US, INT64_MAX, history_row, h,
				      cause) < 0)
		return -1;
	/* The EEMUA averages cover what was recorded of the last 24 h. */
	if (store_reader_first_session(r, &first, cause) < 0)
		return -1;
	if (first > 0)
		alarm_perf_since(h->alarms, first > now - ALARM_HISTORY_US ? first
									 : now - ALARM_HISTORY_US);
	return 0;
}

/* The buffer's console id into h->origin; false when it cannot be read. */
static bool buffer_console_id(struct hub *h)
{
	char *cause = NULL;
	struct store_reader *r = store_reader_open(h->cfg->store.path, &cause);
	bool ok = false;

	free(cause);
	if (r != NULL) {
		util_strlcpy(h->origin, store_reader_console_id(r), sizeof(h->origin));
		ok = h->origin[0] != '\0';
		store_reader_close(r);
	}
	return ok;
}

static void alarms_start(struct hub *h)
{
	size_t i;

	if (h->store != NULL) {
		util_strlcpy(h->origin, store_console_id(h->store), sizeof(h->origin));
	} else if (h->opts.attached && buffer_console_id(h)) {
		/* the recorder's: its journal rows are this engine's own */
	} else {
		char host[64] = "phasor";

		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		snprintf(h->origin, sizeof(h->origin), "%s-%ld", host, (long)getpid());
	}
	h->alarm_hist = util_calloc(HUB_ALARM_HISTORY, sizeof(*h->alarm_hist));
	h->alarms = alarm_engine_new(h->cfg, h->origin, on_alarm_event, h);
	/* States survive a restart: the newest journal row of each alarm;
	 * then the last 24 h of the journal for the raise counts, the
	 * history and the EEMUA figures. */
	if (h->store != NULL || h->opts.attached) {
		char *cause = NULL;
		struct store_reader *r = store_reader_open(h->cfg->store.path, &cause);

		if (r == NULL || store_reader_alarm_latest(r, restore_row, h, &cause) < 0 ||
		    ((h->opts.history || h->opts.attached) &&
		     alarm_history_load(h, r, &cause) < 0)) {
			if (r != NULL || !h->opts.attached)
				log_warn("alarms: cannot restore states: %s", cause ? cause : "?");
		}
		free(cause);
		if (r != NULL)
			store_reader_close(r);
	}
	for (i = 0; i < h->nsources; i++)
		if (h->sources[i]->ops == &source_mqtt_ops)
			h->mqtt = h->sources[i];
	if (h->mqtt != NULL && h->cfg->mqtt.alarm_topic != NULL &&
	    h->cfg->mqtt.alarm_topic[0] != '\0')
		h->alarm_events_topic = alarmshare_events_topic(h->cfg->mqtt.alarm_topic, h->origin);
}

/*
 * Today's machine figures from the buffer (machines_load): what was
 * stored before this start, so that a restart continues them and an
 * attached console shows them. Attached, the samples up to the newest
 * seq now; the follow thread brings those after (*seq). A day of one
 * machine's states and its meters' minutes: a few thousand rows.
 */
static void machines_start(struct hub *h, int64_t *seq)
{
	struct store_seqs seqs = { 0 };
	struct store_reader *r;
	char *cause = NULL;
	int64_t t0 = util_mono_us();

	*seq = 0;
	if (h->machines == NULL || h->cfg->store.path == NULL ||
	    (h->store == NULL && !h->opts.attached))
		return;
	r = store_reader_open(h->cfg->store.path, &cause);
	if (r == NULL || (h->opts.attached && store_reader_last_seqs(r, &seqs, &cause) < 0) ||
	    machines_load(h->machines, r, util_now_us(),
			  h->opts.attached ? seqs.samples : INT64_MAX, &cause) < 0) {
		if (r != NULL || !h->opts.attached)
			log_warn("machines: today's figures not read back: %s", cause ? cause : "?");
	} else {
		*seq = seqs.samples;
		log_info("machines: today's figures read back in %lld ms",
			 (long long)((util_mono_us() - t0) / 1000));
	}
	free(cause);
	if (r != NULL)
		store_reader_close(r);
}

/* ---- the MQTT intake journal ---- */

static uint64_t intake_committed(void *ctx)
{
	return store_intake_committed(ctx);
}

static struct source *mqtt_source(struct hub *h)
{
	size_t i;

	for (i = 0; i < h->nsources; i++)
		if (h->sources[i]->ops == &source_mqtt_ops)
			return h->sources[i];
	return NULL;
}

/* Before store_start: open the journal and tell the store its slot. */
static int intake_setup(struct hub *h, char **cause)
{
	char *why = NULL;

	if (mqtt_source(h) == NULL)
		return 0;
	h->intake = intake_open(h->cfg->store.path, intake_committed, h->store, &why);
	if (h->intake == NULL) {
		/* The buffer itself opened: go on, but say what is weaker. */
		log_error("mqtt intake: %s; QoS 1 messages are acknowledged before they are"
			  " stored (a kill -9 may lose the newest)", why ? why : "?");
		free(why);
		return 0;
	}
	if (store_set_intake_slot(h->store, intake_slot(h->intake), cause) < 0)
		return -1;
	return 0;
}

static void handle(struct hub *h, struct source_msg *m);

static int replay_one(void *ctx, const struct intake_rec *r)
{
	struct hub *h = ctx;
	struct source_msg *m = source_msg_raw(mqtt_source(h), r->topic, r->topic_len, r->payload,
					      r->len, r->t_us);

	m->u.raw.intake = r->seq;
	m->u.raw.replayed = true;
	/* The writer keeps up; a long journal must not fill memory. */
	if (store_congested(h->store))
		store_flush(h->store, 5000);
	handle(h, m);
	return 0;
}

/* After the writer and the alarms started, before the MQTT client: decode
 * again what the journal holds beyond the store's mark. */
static void intake_catch_up(struct hub *h)
{
	struct intake_stats st;
	uint64_t after;

	if (h->intake == NULL)
		return;
	after = store_intake_committed(h->store);
	intake_replay(h->intake, after, replay_one, h);
	intake_get_stats(h->intake, &st);
	if (st.replayed > 0)
		log_info("mqtt intake: %llu message(s) received before the last stop and not yet"
			 " stored decoded again (slot %d, after seq %llu)",
			 (unsigned long long)st.replayed, st.slot, (unsigned long long)after);
	source_mqtt_set_intake(mqtt_source(h), h->intake);
}

/* ---- links ---- */

/*
 * Copy every source's links into h->links, growing it to fit: any number
 * of endpoints, each source asked again when its links did not fit. A
 * source's link count is fixed when it is created, so the second ask fits
 * (were it to grow in between, the next refresh would grow the array).
 */
static void links_refresh(struct hub *h)
{
	size_t i, n = 0;

	if (h->links == NULL) {
		h->links_cap = 8;
		h->links = util_calloc(h->links_cap, sizeof(*h->links));
	}
	for (i = 0; i < h->nsources; i++) {
		struct source *s = h->sources[i];
		size_t got = s->ops->links(s, h->links + n, h->links_cap - n);

		if (got > h->links_cap - n) {
			size_t cap = h->links_cap * 2 > n + got ? h->links_cap * 2 : n + got;

			h->links = util_reallocarray(h->links, cap, sizeof(*h->links));
			h->links_cap = cap;
			got = s->ops->links(s, h->links + n, h->links_cap - n);
			if (got > h->links_cap - n)
				got = h->links_cap - n;
		}
		n += got;
	}
	h->nlinks = n;
}

/* ---- lifecycle ---- */

/*
 * Benchmark hook (bench/run.sh BENCH_ONLY=memory), never set in use:
 * PHASOR_BENCH_HISTORY=1 fills every meter's history rings with an hour of
 * synthetic points ending now (total P, Q, PF and the three currents every
 * second), so the memory of an hour's running is measured at start.
 */
static void bench_history_fill(struct hub *h)
{
	static const unsigned qtys[] = { QTY_P_TOTAL, QTY_Q_TOTAL, QTY_PF_TOTAL,
					 QTY_I_L1,    QTY_I_L2,    QTY_I_L3 };
	const char *env = getenv("PHASOR_BENCH_HISTORY");
	const size_t per_meter = (size_t)LIVE_HISTORY_S * UTIL_ARRAY_LEN(qtys);
	int64_t now_s = util_now_us() / 1000000;
	struct sample *s;
	size_t m, k, q, n;

	if (env == NULL || strcmp(env, "1") != 0)
		return;
	s = util_calloc(per_meter, sizeof(*s));
	for (m = 0; m < live_count(h->live); m++) {
		n = 0;
		for (k = 0; k < LIVE_HISTORY_S; k++) {
			for (q = 0; q < UTIL_ARRAY_LEN(qtys); q++) {
				s[n] = (struct sample){
					.t_us = (now_s - LIVE_HISTORY_S + (int64_t)k) * 1000000,
					.value = qtys[q] == QTY_PF_TOTAL ? 0.9 : 1000.0 + (double)(k % 60),
					.meter = (uint32_t)m,
					.qty = (uint16_t)qtys[q],
					.quality = QUALITY_GOOD,
				};
				n++;
			}
		}
		live_history_add(h->live, s, n);
	}
	free(s);
	log_info("hub: PHASOR_BENCH_HISTORY: an hour of history in %zu meters", m);
}


struct hub *hub_new(const struct config *cfg, const struct hub_opts *opts, char **cause)
{
	struct hub *h = util_calloc(1, sizeof(*h));
	const char *delay = getenv("PHASOR_HUB_INTAKE_DELAY_MS");
	size_t i;

	*cause = NULL;
	h->cfg = cfg;
	if (delay != NULL && util_parse_long(delay, 0, 1000, &h->intake_delay_ms) < 0)
		h->intake_delay_ms = 0;
	if (opts != NULL)
		h->opts = *opts;
	if (h->opts.mode == NULL)
		h->opts.mode = "record";
	h->q = queue_new(h->opts.queue_capacity ? h->opts.queue_capacity : DEFAULT_QUEUE);
	h->live = live_new(cfg, on_counter_reset, h);
	derive_setup(h);
	bench_history_fill(h);
	h->sink.ctx = h;
	h->sink.samples = on_samples;
	h->sink.status = on_status;
	h->sink.event = on_event;
	h->sink.alarm = on_alarm_msg;
	h->sink.machine = on_machine;
	/* attached, the machines' figures follow the recorder's samples */
	h->machines = machines_new(cfg, util_now_us());
	if (h->opts.attached)
		machines_follow_store(h->machines);
	{
		char host[64] = "phasor";

		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		snprintf(h->console, sizeof(h->console), "%s:%ld", host, (long)getpid());
	}
	for (i = 0; i < UTIL_ARRAY_LEN(all_sources) && !h->opts.attached; i++) {
		char *why = NULL;
		struct source *s = all_sources[i]->create(cfg, h->q, &why);

		if (s != NULL) {
			h->sources[h->nsources++] = s;
		} else if (why != NULL) {
			*cause = util_printf("%s: %s", all_sources[i]->name, why);
			free(why);
			hub_free(h);
			return NULL;
		}
	}
	links_refresh(h);
	return h;
}

/* The forecast worker: it makes forecasts where this hub writes the
 * buffer, and follows them where it is attached. */
static int fc_start(struct hub *h, char **cause)
{
	struct fcjob_opts o = { .path = h->cfg->store.path, .store = h->store };

	if (h->cfg->store.path == NULL || (h->store == NULL && !h->opts.attached))
		return 0;
	h->fc = fcjob_new(h->cfg, &o);
	return fcjob_start(h->fc, cause);
}

int hub_start(struct hub *h, char **cause)
{
	int64_t machines_seq;
	size_t i;

	*cause = NULL;
	if (h->opts.attached)
		h->opts.no_store = true; /* the recorder writes */
	if (!h->opts.no_store) {
		h->store = store_open(h->cfg->store.path, h->cfg->store.queue_max,
				      h->cfg->store.batch_rows, h->cfg->store.commit_ms, cause);
		if (h->store == NULL)
			return -1;
		store_hold_unsynced(h->store, h->cfg->sync.enabled);
		if (store_register_meters(h->store, h->cfg, cause) < 0 ||
		    store_begin_session(h->store, h->cfg, h->opts.mode, cause) < 0 ||
		    intake_setup(h, cause) < 0 || store_start(h->store, cause) < 0)
			return -1;
		/* From here hub_stop must run to end the session cleanly. */
		h->started = true;
		log_info("buffer %s: session %lld", h->cfg->store.path,
			 (long long)store_session_id(h->store));
		if (h->cfg->sync.enabled) {
			h->sync = sync_new(h->cfg, h->cfg->store.path, cause);
			if (h->sync == NULL || sync_start(h->sync, cause) < 0)
				return -1;
		}
	}
	alarms_start(h);
	machines_start(h, &machines_seq);
	intake_catch_up(h);
	if ((h->opts.attached || (h->opts.history && h->store != NULL)) &&
	    h->cfg->store.path != NULL) {
		struct follow_opts fo = { .attached = h->opts.attached,
					  .alarms_after = h->alarm_seq,
					  .machines_after = machines_seq,
					  .console = h->console };

		h->follow = follow_new(h->cfg, h->q, &fo);
		h->sources[h->nsources++] = h->follow;
	}
	for (i = 0; i < h->nsources; i++) {
		if (h->sources[i]->ops->start(h->sources[i], cause) < 0)
			return -1;
	}
	h->started = true;
	if (fc_start(h, cause) < 0)
		return -1;
	links_refresh(h);
	return 0;
}

int hub_fd(const struct hub *h)
{
	return queue_fd(h->q);
}

bool hub_throttled(const struct hub *h)
{
	return h->throttled;
}

/* Attached: a journal row the recorder wrote. */
static void mirror_row(struct hub *h, const struct source_msg *m)
{
	struct store_alarm_event row;
	struct alarm_event ev;

	if (h->alarms == NULL)
		return;
	follow_alarm_row(m, &row);
	if (!alarm_journal_row(h->alarms, &row, true, &ev))
		return;
	hist_push(h, &ev);
	if (ev.kind == AEV_RAISE && ev.priority <= PRIO_HIGH)
		h->alarm_raises_hi++;
	h->alarm_urgent++;
}

static void request_outcome(struct hub *h, const struct source_msg *m)
{
	bool refused = strcmp(m->u.event.what, "request-refused") == 0;

	if (!refused && strcmp(m->u.event.what, "request-done") != 0)
		return;
	snprintf(h->outcome, sizeof(h->outcome), "%s%s", m->u.event.text,
		 refused ? "" : ": done by the recorder");
	h->outcome_refused = refused;
	h->outcome_seq++;
	h->alarm_urgent++;
}

static void handle(struct hub *h, struct source_msg *m)
{
	switch (m->kind) {
	case MSG_SAMPLES:
		on_samples(h, source_msg_sample_array(m), m->u.samples.n);
		break;
	case MSG_RAW:
		/*
		 * A journaled message's samples reach the store in one call with
		 * its intake seq, so the writer commits them and the mark in one
		 * transaction: a mark put after them could miss the transaction
		 * that commits them, and a kill -9 in between would store them
		 * twice (the next start decodes the record again).
		 */
		h->intake_decoding = m->u.raw.intake != 0 && h->store != NULL;
		h->intake_n = 0;
		if (m->source != NULL && m->source->ops->decode != NULL) {
			h->current = m->source;
			m->source->ops->decode(m->source, m, &h->sink);
			h->current = NULL;
		}
		/* For tests: a slow hub, so a kill -9 often falls here. */
		if (h->intake_decoding && h->intake_delay_ms > 0)
			util_sleep_ms(h->intake_delay_ms);
		if (h->intake_decoding)
			store_put_intake(h->store, m->u.raw.intake, h->intake_buf, h->intake_n);
		h->intake_decoding = false;
		break;
	case MSG_STATUS:
		on_status(h, m->meter, &m->u.status);
		break;
	case MSG_EVENT:
		if (m->source != NULL && m->source == h->follow) {
			request_outcome(h, m);
			break;
		}
		put_event(h, m->meter, m->t_us, m->source != NULL ? m->source->ops->name : "phasor",
			  m->u.event.what, m->u.event.text);
		break;
	case MSG_HISTORY:
		live_history_add(h->live, source_msg_sample_array(m), m->u.samples.n);
		break;
	case MSG_ALARM_ROW:
		mirror_row(h, m);
		break;
	}
	free(m);
}

size_t hub_dispatch(struct hub *h)
{
	void *batch[DISPATCH_BATCH];
	size_t total = 0, n, i;

	h->throttled = false;
	while (total < DISPATCH_MAX) {
		/* Backpressure: leave messages queued (the sources then wait,
		 * and MQTT's broker buffers) until the writer catches up. */
		if (h->store != NULL && !h->stopped && store_congested(h->store)) {
			h->throttled = true;
			h->stats.throttled++;
			break;
		}
		n = queue_pop(h->q, batch, DISPATCH_BATCH);
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			handle(h, batch[i]);
		total += n;
	}
	h->stats.messages += total;
	return total;
}

/* ---- serving attached consoles ---- */

static int apply_request(void *ctx, const struct store_request *q)
{
	struct hub *h = ctx;
	char err[200] = "";
	long inst;
	int rc = -1;

	h->req_last = q->id;
	if (strcmp(q->action, "forecast") == 0) {
		/* marked done by the worker once the new forecasts are committed */
		if (h->fc != NULL)
			fcjob_request(h->fc, q->id);
		else
			store_put_request_done(h->store, q->id, "this recorder makes no forecasts");
		log_info("forecast request %lld from %s by %s", (long long)q->id, q->console,
			 q->operator_name);
		return 0;
	}
	if (h->alarms == NULL) {
		store_put_request_done(h->store, q->id, "this recorder runs no alarms");
		return 0;
	}
	inst = alarm_find(h->alarms, q->alarm, q->meter);
	if (inst < 0) {
		snprintf(err, sizeof(err), "no alarm %s%s%s here", q->alarm, q->meter[0] ? " on " : "",
			 q->meter);
	} else {
		/* the event it makes carries the request: done in its transaction */
		h->req_current = q->id;
		if (strcmp(q->action, "ack") == 0)
			rc = alarm_ack(h->alarms, (size_t)inst, q->operator_name, q->note, util_now_us(),
				       err, sizeof(err));
		else if (strcmp(q->action, "shelve") == 0)
			rc = alarm_shelve(h->alarms, (size_t)inst, q->operator_name, q->dur_ms, q->note,
					  util_now_us(), err, sizeof(err));
		else if (strcmp(q->action, "unshelve") == 0)
			rc = alarm_unshelve(h->alarms, (size_t)inst, q->operator_name, util_now_us(),
					    err, sizeof(err));
		else if (strcmp(q->action, "note") == 0)
			rc = alarm_note(h->alarms, (size_t)inst, q->operator_name, q->note,
					util_now_us(), err, sizeof(err));
		else
			snprintf(err, sizeof(err), "unknown action %s", q->action);
		if (rc == 0 && h->req_current != 0)
			rc = -1, util_strlcpy(err, "the action made no event", sizeof(err));
		h->req_current = 0;
	}
	if (rc < 0)
		store_put_request_done(h->store, q->id, err);
	log_info("alarm request %lld from %s by %s: %s of %s%s%s%s%s", (long long)q->id, q->console,
		 q->operator_name, q->action, q->alarm, q->meter[0] ? " on " : "", q->meter,
		 rc < 0 ? ": refused: " : "", rc < 0 ? err : "");
	return 0;
}

/*
 * Requests of attached consoles not applied yet, oldest first. Each is
 * applied once: the event it makes marks it done in the same transaction,
 * and req_last keeps those still on the writer's queue from coming back.
 */
static void requests_apply(struct hub *h, int64_t now_us)
{
	char *cause = NULL;

	(void)now_us;
	if (h->req_reader == NULL) {
		h->req_reader = store_reader_open(h->cfg->store.path, &cause);
		if (h->req_reader == NULL) {
			free(cause);
			return;
		}
	}
	if (store_reader_requests(h->req_reader, h->req_last, true, apply_request, h, &cause) < 0) {
		log_warn("alarm requests: %s", cause);
		free(cause);
	}
}

static void status_publish(struct hub *h, int64_t now_us)
{
	struct hub_status st;
	char *json;

	hub_status(h, &st);
	json = status_encode(&st, (long)getpid());
	store_put_status(h->store, "recorder", now_us, json);
	free(json);
}

/* What the forecasts say of each meter's newest completed intervals, for
 * the forecast_excess alarms (consumption nobody expected). */
static void fc_alarm_obs(struct hub *h)
{
	const struct trend_set *set = h->fc != NULL ? fcjob_take(h->fc) : NULL;
	size_t m;

	for (m = 0; set != NULL && m < h->cfg->nmeters && m + 1 < set->n; m++) {
		const struct trend *t = &set->t[m + 1];
		struct alarm_forecast_obs o = {
			.valid = t->has_forecast && t->history_days >= ALARM_FORECAST_MIN_DAYS &&
				 isfinite(t->actual_w) && isfinite(t->expected_w),
			.run = t->outside_run,
			.expected_w = t->expected_w,
			.actual_w = t->actual_w,
			.lo95_w = t->lo95_w,
			.hi95_w = t->hi95_w,
			.excess_wh = t->excess_wh,
			.since_us = t->run_since_us,
		};

		alarm_forecast_obs(h->alarms, m, &o);
	}
}

void hub_tick(struct hub *h, int64_t now_us)
{
	size_t i;

	for (i = 0; i < h->nsources; i++)
		if (h->sources[i]->ops->tick != NULL) {
			h->current = h->sources[i];
			h->sources[i]->ops->tick(h->sources[i], now_us, &h->sink);
			h->current = NULL;
		}
	machines_tick(h->machines, h->live, now_us);
	if (h->alarms != NULL && !h->stopped && !h->opts.attached) {
		fc_alarm_obs(h);
		alarm_evaluate(h->alarms, h->live, h->cfg, now_us);
		machine_alarms(h, now_us);
	}
	else if (h->alarms != NULL && !h->stopped)
		alarm_measure_only(h->alarms, h->live, h->cfg, now_us);
	if (h->nunsent > 0 && !h->stopped)
		unsent_flush(h);
	links_refresh(h);
	if (h->store != NULL && !h->stopped) {
		int64_t mono = util_mono_us();

		if (mono - h->req_at >= REQUESTS_EVERY_US) {
			h->req_at = mono;
			requests_apply(h, now_us);
		}
		if (h->opts.publish_status && mono - h->status_at >= STATUS_EVERY_US) {
			h->status_at = mono;
			status_publish(h, now_us);
		}
	}
}

void hub_stop(struct hub *h)
{
	size_t i;

	if (h->stopped)
		return;
	h->stopped = true;
	/* Sources first: once stopped, nothing new is pushed... */
	for (i = 0; i < h->nsources; i++)
		h->sources[i]->ops->stop(h->sources[i]);
	/* ...so draining the queue empties it for good. */
	while (hub_dispatch(h) > 0)
		;
	/* The links as they ended, for the owner's last summary. */
	links_refresh(h);
	/* A run under way ends with its forecasts queued, before the store stops. */
	fcjob_stop(h->fc);
	if (h->store != NULL)
		store_stop(h->store, STOP_DRAIN_MS);
	/* Prompt even on a dead server (the socket is shut down). */
	sync_stop(h->sync);
}

static void free_msg(void *m)
{
	free(m);
}

void hub_free(struct hub *h)
{
	size_t i;

	if (h == NULL)
		return;
	if (h->started)
		hub_stop(h);
	for (i = 0; i < h->nsources; i++)
		h->sources[i]->ops->destroy(h->sources[i]);
	fcjob_free(h->fc);
	sync_free(h->sync);
	intake_close(h->intake);
	if (h->req_reader != NULL)
		store_reader_close(h->req_reader);
	if (h->store != NULL)
		store_close(h->store);
	queue_free(h->q, free_msg);
	alarm_engine_free(h->alarms);
	machines_free(h->machines);
	free(h->alarm_hist);
	free(h->intake_buf);
	free(h->cv_kwh);
	free(h->derived);
	free(h->links);
	if (h->nunsent > 0 || h->alarm_unsent_lost > 0)
		log_warn("mqtt: %zu alarm action(s) never reached the broker, %llu more given up"
			 " while it was away (all are in the journal)",
			 h->nunsent, (unsigned long long)h->alarm_unsent_lost);
	while (h->nunsent > 0) {
		h->nunsent--;
		free(h->unsent[h->nunsent].topic);
		free(h->unsent[h->nunsent].json);
	}
	free(h->alarm_events_topic);
	live_free(h->live);
	free(h);
}

struct live *hub_live(struct hub *h)
{
	return h->live;
}

const struct machines *hub_machines(const struct hub *h)
{
	return h->machines;
}

struct alarm_engine *hub_alarms(struct hub *h)
{
	return h->alarms;
}

size_t hub_alarm_history(const struct hub *h, long inst, const struct alarm_event **out,
			 size_t max)
{
	uint64_t i, first;
	size_t n = 0;

	if (h->alarm_hist == NULL)
		return 0;
	first = h->alarm_hist_n > HUB_ALARM_HISTORY ? h->alarm_hist_n - HUB_ALARM_HISTORY : 0;
	for (i = h->alarm_hist_n; i > first && n < max; i--) {
		const struct alarm_event *e = &h->alarm_hist[(i - 1) % HUB_ALARM_HISTORY];

		if (inst < 0 || e->inst == (size_t)inst)
			out[n++] = e;
	}
	return n;
}

uint64_t hub_alarm_raises_high(const struct hub *h)
{
	return h->alarm_raises_hi;
}

uint64_t hub_alarm_urgent(const struct hub *h)
{
	return h->alarm_urgent;
}

struct store *hub_store(struct hub *h)
{
	return h->store;
}

struct sync *hub_sync(struct hub *h)
{
	return h->sync;
}

size_t hub_links(const struct hub *h, const struct source_link **out)
{
	*out = h->links;
	return h->nlinks;
}

void hub_get_stats(struct hub *h, struct hub_stats *out)
{
	size_t i;

	*out = h->stats;
	out->queue_depth = queue_depth(h->q);
	out->queue_high_water = queue_high_water(h->q);
	out->queue_dropped = 0;
	for (i = 0; i < h->nlinks; i++)
		out->queue_dropped += h->links[i].dropped;
}

bool hub_history_loading(struct hub *h)
{
	return h->follow != NULL && follow_loading(h->follow);
}

void hub_status(struct hub *h, struct hub_status *out)
{
	memset(out, 0, sizeof(*out));
	out->mode = h->opts.attached ? HUB_ATTACHED : HUB_EMBEDDED;
	out->links = h->links;
	out->nlinks = h->nlinks;
	if (h->follow != NULL)
		follow_status(h->follow, out);
	if (h->opts.attached)
		return;
	out->history_loading = h->follow != NULL && out->history_loading;
	if (h->store != NULL) {
		out->has_store = true;
		store_get_stats(h->store, &out->store);
		out->store_replaced = store_open_notice(h->store)[0] != '\0';
	}
	if (h->sync != NULL) {
		out->has_sync = true;
		sync_get_stats(h->sync, &out->sync);
	}
	hub_get_stats(h, &out->hub);
	out->throttled = h->throttled;
}

/* An operator request for the recorder, written by the follow thread. */
static void send_request(struct hub *h, const char *action, const char *alarm, const char *meter,
			 const char *op, const char *note, int64_t dur_ms, int64_t now_us)
{
	struct store_request q;

	memset(&q, 0, sizeof(q));
	q.t_us = now_us;
	q.console = h->console;
	q.operator_name = op != NULL ? op : "";
	q.action = action;
	q.alarm = alarm;
	q.meter = meter;
	q.note = note != NULL ? note : "";
	q.dur_ms = dur_ms;
	follow_request(h->follow, &q);
}

int hub_alarm_action(struct hub *h, size_t inst, const char *action, const char *op,
		     const char *note, int64_t dur_ms, int64_t now_us, bool *sent, char *err,
		     size_t errsz)
{
	const struct alarm_inst *in;

	*sent = false;
	if (h->alarms == NULL || inst >= alarm_count(h->alarms)) {
		snprintf(err, errsz, "no such alarm");
		return -1;
	}
	if (!h->opts.attached) {
		if (strcmp(action, "ack") == 0)
			return alarm_ack(h->alarms, inst, op, note, now_us, err, errsz);
		if (strcmp(action, "shelve") == 0)
			return alarm_shelve(h->alarms, inst, op, dur_ms, note, now_us, err, errsz);
		if (strcmp(action, "unshelve") == 0)
			return alarm_unshelve(h->alarms, inst, op, now_us, err, errsz);
		if (strcmp(action, "note") == 0)
			return alarm_note(h->alarms, inst, op, note, now_us, err, errsz);
		snprintf(err, errsz, "unknown action %s", action);
		return -1;
	}
	/* What can be told here is refused here; the recorder decides the rest. */
	in = alarm_get(h->alarms, inst);
	if (strcmp(action, "ack") == 0) {
		if (in->state != ALARM_UNACK && in->state != ALARM_RTN_UNACK) {
			snprintf(err, errsz, "nothing to acknowledge: %s is %s", in->def->name,
				 alarm_state_name(in->state));
			return -1;
		}
		if (in->def->ack_note && (note == NULL || note[0] == '\0')) {
			snprintf(err, errsz, "%s needs a note to be acknowledged", in->def->name);
			return -1;
		}
	} else if (strcmp(action, "unshelve") == 0 && in->state != ALARM_SHELVED) {
		snprintf(err, errsz, "%s is not shelved", in->def->name);
		return -1;
	}
	if (h->follow == NULL) {
		snprintf(err, errsz, "not following a recorder");
		return -1;
	}
	send_request(h, action, in->def->name, in->meter_name, op, note, dur_ms, now_us);
	*sent = true;
	return 0;
}

bool hub_request_outcome(struct hub *h, uint64_t *seq, char *text, size_t size, bool *refused)
{
	if (h->outcome_seq == *seq)
		return false;
	*seq = h->outcome_seq;
	util_strlcpy(text, h->outcome, size);
	*refused = h->outcome_refused;
	return true;
}

const struct trend_set *hub_trends(struct hub *h)
{
	return h->fc != NULL ? fcjob_take(h->fc) : NULL;
}

int hub_forecast_now(struct hub *h, const char *op, int64_t now_us, bool *sent, char *err,
		     size_t errsz)
{
	*sent = false;
	if (h->fc == NULL) {
		snprintf(err, errsz, "no buffer: no forecasts");
		return -1;
	}
	if (!h->opts.attached) {
		fcjob_request(h->fc, 0);
		return 0;
	}
	if (h->follow == NULL) {
		snprintf(err, errsz, "not following a recorder");
		return -1;
	}
	/* "forecast of the load: done by the recorder" as its outcome */
	send_request(h, "forecast", "the load", "", op, "", 0, now_us);
	fcjob_request(h->fc, 0);
	*sent = true;
	return 0;
}
