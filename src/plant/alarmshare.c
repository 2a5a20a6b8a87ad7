// SPDX-License-Identifier: MIT
/*
 * alarmshare: the JSON form and the topics of shared alarm events (see
 * include/phasor/alarmshare.h for the topic tree). Encoding and decoding
 * only; the hub publishes and applies.
 */
#include "phasor/alarmshare.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "phasor/util.h"

static void add_number_or_null(cJSON *o, const char *key, double v)
{
	if (isnan(v) || isinf(v))
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, v);
}

char *alarmshare_encode(const struct alarm_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *copy;

	if (o == NULL)
		util_fail("out of memory");
	cJSON_AddStringToObject(o, "id", ev->id);
	cJSON_AddStringToObject(o, "origin", ev->origin);
	/* Microseconds fit a double exactly until the year 2255. */
	cJSON_AddNumberToObject(o, "t_us", (double)ev->t_us);
	cJSON_AddStringToObject(o, "event", alarm_event_name(ev->kind));
	cJSON_AddStringToObject(o, "alarm", ev->alarm != NULL ? ev->alarm : "");
	cJSON_AddStringToObject(o, "meter", ev->meter != NULL ? ev->meter : "");
	cJSON_AddStringToObject(o, "quantity", ev->quantity != NULL ? ev->quantity : "");
	cJSON_AddStringToObject(o, "priority", alarm_priority_name(ev->priority));
	cJSON_AddStringToObject(o, "state", alarm_state_name(ev->state));
	add_number_or_null(o, "value", ev->value);
	add_number_or_null(o, "limit", ev->limit);
	cJSON_AddStringToObject(o, "operator", ev->operator_name);
	cJSON_AddStringToObject(o, "note", ev->note);
	cJSON_AddNumberToObject(o, "raised_us", (double)ev->raised_us);
	cJSON_AddNumberToObject(o, "until_us", (double)ev->until_us);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		util_fail("out of memory");
	copy = util_strdup(text);
	cJSON_free(text);
	return copy;
}

static const char *get_string(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : NULL;
}

static int get_number(const cJSON *o, const char *key, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v)) {
		*out = NAN;
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return -1;
	*out = v->valuedouble;
	return 0;
}

/* NaN (none) or a number an int64 holds. */
static bool time_ok(double v)
{
	return isnan(v) || (v >= -9223372036854775808.0 && v < 9223372036854775808.0);
}

int alarmshare_decode(const char *json, size_t len, struct alarm_event *ev,
		      struct alarmshare_names *names, char *err, size_t errsz)
{
	const char *end = NULL;
	cJSON *o = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	const char *id, *origin, *event, *alarm, *meter, *quantity, *priority, *state, *op, *note;
	double t, raised, until;
	int k, pr, stv;

	memset(ev, 0, sizeof(*ev));
	memset(names, 0, sizeof(*names));
	/* One object and nothing after it but white space (as payload.c). */
	for (; o != NULL && end != NULL && end < json + len; end++)
		if (!isspace((unsigned char)*end) && *end != '\0')
			break;
	if (o == NULL || !cJSON_IsObject(o) || (end != NULL && end < json + len)) {
		snprintf(err, errsz, "not a JSON object");
		cJSON_Delete(o);
		return -1;
	}
	id = get_string(o, "id");
	origin = get_string(o, "origin");
	event = get_string(o, "event");
	alarm = get_string(o, "alarm");
	meter = get_string(o, "meter");
	quantity = get_string(o, "quantity");
	priority = get_string(o, "priority");
	state = get_string(o, "state");
	op = get_string(o, "operator");
	note = get_string(o, "note");
	if (id == NULL || origin == NULL || event == NULL || alarm == NULL || meter == NULL ||
	    priority == NULL || id[0] == '\0' || origin[0] == '\0') {
		snprintf(err, errsz, "missing id, origin, event, alarm, meter or priority");
		cJSON_Delete(o);
		return -1;
	}
	/* t_us >= 1 µs: a fraction under it would become the refused 0 (fuzz_alarmshare) */
	if (get_number(o, "t_us", &t) < 0 || isnan(t) || t < 1 ||
	    get_number(o, "value", &ev->value) < 0 || get_number(o, "limit", &ev->limit) < 0 ||
	    get_number(o, "raised_us", &raised) < 0 || get_number(o, "until_us", &until) < 0) {
		snprintf(err, errsz, "t_us, value, limit, raised_us or until_us is not a number");
		cJSON_Delete(o);
		return -1;
	}
	/* Times become int64 microseconds: past that range the conversion
	 * is undefined (fuzz_alarmshare found it). */
	if (!time_ok(t) || !time_ok(raised) || !time_ok(until)) {
		snprintf(err, errsz, "t_us, raised_us or until_us is out of range");
		cJSON_Delete(o);
		return -1;
	}
	k = alarm_event_parse(event);
	pr = alarm_priority_parse(priority);
	stv = state != NULL ? alarm_state_parse(state) : ALARM_NORMAL;
	if (k < 0 || pr < 0 || stv < 0) {
		snprintf(err, errsz, "unknown event, priority or state");
		cJSON_Delete(o);
		return -1;
	}
	ev->kind = (enum alarm_event_kind)k;
	ev->priority = (enum alarm_priority)pr;
	ev->state = (enum alarm_state)stv;
	ev->t_us = (int64_t)t;
	ev->raised_us = isnan(raised) ? 0 : (int64_t)raised;
	ev->until_us = isnan(until) ? 0 : (int64_t)until;
	util_sanitize(ev->id, sizeof(ev->id), id);
	util_sanitize(ev->origin, sizeof(ev->origin), origin);
	util_sanitize(ev->operator_name, sizeof(ev->operator_name), op != NULL ? op : "");
	util_sanitize(ev->note, sizeof(ev->note), note != NULL ? note : "");
	util_sanitize(names->alarm, sizeof(names->alarm), alarm);
	util_sanitize(names->meter, sizeof(names->meter), meter);
	util_sanitize(names->quantity, sizeof(names->quantity), quantity != NULL ? quantity : "");
	ev->alarm = names->alarm;
	ev->meter = names->meter;
	ev->quantity = names->quantity;
	cJSON_Delete(o);
	return 0;
}

static void level(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '/' || *s == '+' || *s == '#')
			*s = '_';
}

char *alarmshare_events_topic(const char *prefix, const char *origin)
{
	char *o = util_strdup(origin != NULL && origin[0] != '\0' ? origin : "_");
	char *t;

	level(o);
	t = util_printf("%s/events/%s", prefix, o);
	free(o);
	return t;
}

char *alarmshare_state_topic(const char *prefix, const char *origin, const char *meter,
			     const char *alarm)
{
	char *o = util_strdup(origin != NULL && origin[0] != '\0' ? origin : "_");
	char *m = util_strdup(meter != NULL && meter[0] != '\0' ? meter : "_");
	char *a = util_strdup(alarm != NULL && alarm[0] != '\0' ? alarm : "_");
	char *t;

	level(o);
	level(m);
	level(a);
	t = util_printf("%s/state/%s/%s/%s", prefix, o, m, a);
	free(o);
	free(m);
	free(a);
	return t;
}

int alarmshare_topic_origin(const char *prefix, const char *topic, char *out, size_t size)
{
	size_t n = strlen(prefix), k, levels = 0;
	const char *rest, *o;

	if (strncmp(topic, prefix, n) != 0 || topic[n] != '/')
		return -1;
	rest = topic + n + 1;
	if (strncmp(rest, "events/", 7) == 0) {
		o = rest + 7;
		levels = 1;
	} else if (strncmp(rest, "state/", 6) == 0) {
		o = rest + 6;
		levels = 3;
	} else {
		return -1;
	}
	/* the origin, then the levels after it: exactly as many, none empty */
	k = strcspn(o, "/");
	if (k == 0 || k >= size)
		return -1;
	memcpy(out, o, k);
	out[k] = '\0';
	for (const char *p = o; levels > 0; levels--) {
		size_t l = strcspn(p, "/");

		if (l == 0)
			return -1;
		p += l;
		if (levels > 1) {
			if (*p != '/')
				return -1;
			p++;
		} else if (*p != '\0') {
			return -1;
		}
	}
	return 0;
}

int alarmshare_check_origin(const struct alarm_event *ev, const char *topic_origin)
{
	char o[sizeof(ev->origin)];
	size_t n = strlen(ev->origin);

	util_strlcpy(o, ev->origin, sizeof(o));
	level(o);
	return strcmp(o, topic_origin) == 0 && strncmp(ev->id, ev->origin, n) == 0 &&
			       ev->id[n] == ':'
		       ? 0
		       : -1;
}

int alarmshare_is_operator_event(enum alarm_event_kind k)
{
	return k == AEV_ACK || k == AEV_SHELVE || k == AEV_UNSHELVE || k == AEV_NOTE;
}
