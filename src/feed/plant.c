// SPDX-License-Identifier: MIT
/*
 * plant: the few functions of the console's read model (plant.h). The
 * struct itself is plain data filled by a feed; these only route an
 * operator action and a history question to the feed, or to the engine
 * when there is none, and name the states of the status figures, so the
 * views need no store or sync header function. plant_link() reads a link
 * with its meters, so that the status bar and the sources view say the
 * same: a connection over which no meter answers is not "up".
 */
#include "phasor/plant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/alarm.h"
#include "phasor/store.h"
#include "phasor/sync.h"
#include "phasor/util.h"

int plant_act(const struct plant *p, size_t inst, const char *action, const char *op,
	      const char *note, int64_t dur_ms, bool *sent, char *err, size_t errsz)
{
	struct alarm_engine *e = p->alarms;
	int64_t now = p->now_us;

	*sent = false;
	if (p->ops != NULL && p->ops->act != NULL)
		return p->ops->act(p->ctx, inst, action, op, note, dur_ms, now, sent, err, errsz);
	if (strcmp(action, "ack") == 0)
		return alarm_ack(e, inst, op, note, now, err, errsz);
	if (strcmp(action, "shelve") == 0)
		return alarm_shelve(e, inst, op, dur_ms, note, now, err, errsz);
	if (strcmp(action, "unshelve") == 0)
		return alarm_unshelve(e, inst, op, now, err, errsz);
	return alarm_note(e, inst, op, note, now, err, errsz);
}

size_t plant_history(const struct plant *p, long inst, const struct alarm_event **out,
		     size_t max)
{
	if (p->ops == NULL || p->ops->history == NULL)
		return 0;
	return p->ops->history(p->ctx, inst, out, max);
}

int plant_forecast_now(const struct plant *p, const char *op, bool *sent, char *err,
		       size_t errsz)
{
	*sent = false;
	if (p->ops == NULL || p->ops->forecast == NULL) {
		snprintf(err, errsz, "no forecasts here (no buffer)");
		return -1;
	}
	return p->ops->forecast(p->ctx, op, p->now_us, sent, err, errsz);
}

const char *plant_buffer_state(const struct plant *p)
{
	return store_state_name(p->status.store.state);
}

const char *plant_db_state(const struct plant *p)
{
	return sync_state_name(p->status.sync.state);
}

enum comm_status plant_meter_comm(const struct plant *p, const struct live_meter *m)
{
	if (m == NULL)
		return COMM_UNKNOWN;
	if (m->comm.status == COMM_OK && live_meter_stale(m, p->now_us))
		return COMM_STALE;
	return m->comm.status;
}

/* Is s the decimal digits of port, as "%d" writes them? */
static bool is_port(const char *s, int port)
{
	char d[12];
	int n = 0;

	if (port < 0)
		return false;
	do {
		d[n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port > 0 && n < (int)sizeof(d));
	while (n > 0)
		if (*s++ != d[--n])
			return false;
	return *s == '\0';
}

/* The link's endpoint is "HOST:PORT" (source_modbus): compared in place,
 * without formatting (the status bar asks it of every meter and link at
 * every frame). */
bool plant_link_serves(const struct source_link *l, const struct config_meter *cm)
{
	size_t hl;

	if (l->driver != NULL && strcmp(l->driver, "mqtt") == 0)
		return cm->driver == DRIVER_MQTT || cm->driver == DRIVER_SPARKPLUG;
	if (cm->driver != DRIVER_MODBUS || cm->host == NULL)
		return false;
	hl = strlen(cm->host);
	return strncmp(l->name, cm->host, hl) == 0 && l->name[hl] == ':' &&
	       is_port(l->name + hl + 1, cm->port);
}

static const char *const link_words[] = {
	[PLANT_LINK_IDLE] = "idle",   [PLANT_LINK_CONNECTING] = "connecting",
	[PLANT_LINK_UP] = "up",       [PLANT_LINK_DEGRADED] = "degraded",
	[PLANT_LINK_DOWN] = "down",
};

/* What a link's meters say: served, answering, silent, the last data. */
struct link_tally {
	size_t nmeters, answering, silent;
	int64_t last_good;
};

static void tally_meter(const struct plant *p, size_t i, struct link_tally *t)
{
	const struct live_meter *m = p->live != NULL ? live_meter_const(p->live, i) : NULL;
	enum comm_status cs = plant_meter_comm(p, m);

	t->nmeters++;
	if (cs == COMM_OK)
		t->answering++;
	else if (cs == COMM_STALE || cs == COMM_DOWN)
		t->silent++;
	if (m != NULL && m->comm.last_good_us > t->last_good)
		t->last_good = m->comm.last_good_us;
}

static void link_read(const struct source_link *l, const struct link_tally *t,
		      struct plant_link *out)
{
	memset(out, 0, sizeof(*out));
	out->nmeters = t->nmeters;
	out->answering = t->answering;
	out->since_us = l->since_us;
	switch (l->state) {
	case LINK_IDLE:
		out->state = PLANT_LINK_IDLE;
		break;
	case LINK_CONNECTING:
		/* A retry after a failure: still down, since the first failure. */
		out->state = l->error[0] != '\0' ? PLANT_LINK_DOWN : PLANT_LINK_CONNECTING;
		break;
	case LINK_UP:
		out->state = PLANT_LINK_UP;
		if (t->nmeters > 0 && t->silent == t->nmeters) {
			out->state = PLANT_LINK_DEGRADED;
			if (t->last_good > out->since_us)
				out->since_us = t->last_good;
		}
		break;
	case LINK_DOWN:
	default:
		out->state = PLANT_LINK_DOWN;
		break;
	}
	out->word = link_words[out->state];
}

void plant_link(const struct plant *p, const struct source_link *l, struct plant_link *out)
{
	const struct config *cfg = p->cfg;
	struct link_tally t = { 0 };
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->nmeters; i++)
		if (plant_link_serves(l, &cfg->meters[i]))
			tally_meter(p, i, &t);
	link_read(l, &t, out);
}

void plant_links_count(const struct plant *p, const struct source_link *links, size_t n,
		       size_t *up, size_t *degraded)
{
	const struct config *cfg = p->cfg;
	struct link_tally *t;
	size_t i, k, guess = 0;

	*up = *degraded = 0;
	if (n == 0)
		return;
	t = util_calloc(n, sizeof(*t));
	/* One pass over the meters: a meter's link is looked for from the
	 * previous meter's (meters of one endpoint are usually listed
	 * together), so 1000 meters on 5 links cost about 1000 compares, not
	 * 5000. A meter is counted under every link that serves it, as
	 * plant_link does. */
	for (i = 0; cfg != NULL && i < cfg->nmeters; i++) {
		const struct config_meter *cm = &cfg->meters[i];

		if (cm->driver == DRIVER_MQTT) {
			for (k = 0; k < n; k++)
				if (plant_link_serves(&links[k], cm))
					tally_meter(p, i, &t[k]);
			continue;
		}
		for (k = 0; k < n; k++) {
			size_t j = (guess + k) % n;

			if (plant_link_serves(&links[j], cm)) {
				tally_meter(p, i, &t[j]);
				guess = j;
				break; /* one endpoint per Modbus meter */
			}
		}
	}
	for (k = 0; k < n; k++) {
		struct plant_link pl;

		link_read(&links[k], &t[k], &pl);
		*up += pl.state == PLANT_LINK_UP;
		*degraded += pl.state == PLANT_LINK_DEGRADED;
	}
	free(t);
}
