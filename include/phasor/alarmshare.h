/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_ALARMSHARE_H
#define PHASOR_ALARMSHARE_H
/*
 * alarmshare: alarm events on MQTT, so that consoles on one broker share
 * acknowledgements. Under the prefix P ([mqtt] alarm_topic, default
 * "phasor/alarms"):
 *
 *   P/events/ORIGIN              every event of the console ORIGIN (QoS 1,
 *                                not retained)
 *   P/state/ORIGIN/METER/ALARM   its last operator event (ack, shelve,
 *                                unshelve, note) on that alarm, retained, so
 *                                a console that starts or reconnects catches up
 *
 * ORIGIN is the console's id (the buffer's), so a broker's ACL can let
 * each console publish only under its own (docs/deployment.md); a console
 * refuses an event whose origin (and id) is not the one of the topic it
 * came on.
 *
 * The payload is one JSON object (cJSON) with the journal's fields: id,
 * origin, t_us, event, alarm, meter, quantity, priority, state, value,
 * limit, operator, note, raised_us, until_us. Ids make every event apply
 * once (alarm_apply_remote); a console ignores its own origin.
 */
#include <stddef.h>
#include "phasor/alarm.h"

struct alarmshare_names {
	char alarm[128];
	char meter[128];
	char quantity[64];
};

/* ev as JSON (a new string). */
char *alarmshare_encode(const struct alarm_event *ev);

/*
 * Parse a payload into ev; its alarm/meter/quantity point into names.
 * Strings are sanitized (network input). 0, or -1 with err set (malformed
 * JSON, missing or wrongly typed field, unknown event or priority).
 */
int alarmshare_decode(const char *json, size_t len, struct alarm_event *ev,
		      struct alarmshare_names *names, char *err, size_t errsz);

/* "P/events/ORIGIN" and "P/state/ORIGIN/METER/ALARM" ('/', '+', '#' in
 * names become '_'). New strings. */
char *alarmshare_events_topic(const char *prefix, const char *origin);
char *alarmshare_state_topic(const char *prefix, const char *origin, const char *meter,
			     const char *alarm);
/* The ORIGIN level of a topic of either form into out; -1 when topic is
 * neither (another level count, an empty level, not under prefix). */
int alarmshare_topic_origin(const char *prefix, const char *topic, char *out, size_t size);
/* 0 when ev's origin (as a topic level) is topic_origin and its id is the
 * origin's ("ORIGIN:..."), else -1: an event that claims another console. */
int alarmshare_check_origin(const struct alarm_event *ev, const char *topic_origin);

/* Operator events are the ones other consoles apply (and the retained ones). */
int alarmshare_is_operator_event(enum alarm_event_kind k);

#endif
