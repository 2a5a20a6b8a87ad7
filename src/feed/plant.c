// SPDX-License-Identifier: MIT
/*
 * plant: the few functions of the console's read model (plant.h). The
 * struct itself is plain data filled by a feed; these only route an
 * operator action and a history question to the feed, or to the engine
 * when there is none, and name the states of the status figures, so the
 * views need no store or sync header function.
 */
#include "phasor/plant.h"

#include <stdio.h>
#include <string.h>

#include "phasor/alarm.h"
#include "phasor/store.h"
#include "phasor/sync.h"

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
