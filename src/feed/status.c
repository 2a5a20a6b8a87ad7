// SPDX-License-Identifier: MIT
/*
 * status: the recorder's status row as JSON (include/phasor/status.h),
 * with cJSON. Every number fits a double exactly (times in microseconds
 * are below 2^53). Unknown keys are ignored and missing ones read as zero,
 * so a console and a recorder of neighbouring versions understand each
 * other; strings are sanitized on the way in.
 */
#include "phasor/status.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"

#define STATUS_VERSION 1

static void num(cJSON *o, const char *key, double v)
{
	cJSON_AddNumberToObject(o, key, v);
}

static double get_num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static void get_str(const cJSON *o, const char *key, char *dst, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	util_sanitize(dst, size, cJSON_IsString(v) && v->valuestring != NULL ? v->valuestring : "");
}

static cJSON *encode_link(const struct source_link *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", l->name);
	cJSON_AddStringToObject(o, "driver", l->driver != NULL ? l->driver : "");
	cJSON_AddStringToObject(o, "state", source_link_name(l->state));
	cJSON_AddStringToObject(o, "error", l->error);
	num(o, "since_us", (double)l->since_us);
	num(o, "meters", (double)l->nmeters);
	num(o, "requests", (double)l->requests);
	num(o, "timeouts", (double)l->timeouts);
	num(o, "exceptions", (double)l->exceptions);
	num(o, "reconnects", (double)l->reconnects);
	num(o, "latency_us", (double)l->latency_us);
	num(o, "received", (double)l->received);
	num(o, "accepted", (double)l->accepted);
	{
		/* by reason: the attached console's counters add up as the recorder's */
		cJSON *rej = cJSON_AddArrayToObject(o, "rejected");
		size_t k;

		for (k = 0; k < UTIL_ARRAY_LEN(l->rejected); k++)
			cJSON_AddItemToArray(rej, cJSON_CreateNumber((double)l->rejected[k]));
	}
	num(o, "alarm_msgs", (double)l->alarm_msgs);
	num(o, "undecoded", (double)l->undecoded);
	num(o, "dropped", (double)l->dropped);
	num(o, "journal_slot", (double)l->journal_slot);
	num(o, "journaled", (double)l->journaled);
	num(o, "replayed", (double)l->replayed);
	num(o, "duplicates", (double)l->duplicates);
	num(o, "journal_errors", (double)l->journal_errors);
	return o;
}

char *status_encode(const struct hub_status *s, long pid)
{
	cJSON *o = cJSON_CreateObject(), *links = cJSON_AddArrayToObject(o, "links"), *x;
	char *json;
	size_t i;

	num(o, "v", STATUS_VERSION);
	num(o, "pid", (double)pid);
	for (i = 0; i < s->nlinks; i++)
		cJSON_AddItemToArray(links, encode_link(&s->links[i]));
	if (s->has_store) {
		x = cJSON_AddObjectToObject(o, "store");
		cJSON_AddStringToObject(x, "state", store_state_name(s->store.state));
		num(x, "state_n", (double)s->store.state);
		cJSON_AddStringToObject(x, "error", s->store.error);
		num(x, "since_us", (double)s->store.since_us);
		num(x, "written", (double)s->store.written);
		num(x, "dropped", (double)s->store.dropped);
		num(x, "events_dropped", (double)s->store.events_dropped);
		num(x, "queued", (double)s->store.queued);
		num(x, "queue_max", (double)s->store.queue_max);
		num(x, "last_commit_us", (double)s->store.last_commit_us);
		cJSON_AddBoolToObject(x, "replaced", s->store_replaced);
		/* an older file being converted to the dense layout (issue 17) */
		cJSON_AddBoolToObject(x, "migrating", s->store.migrating);
		num(x, "migrate_done", (double)s->store.migrate_done);
		num(x, "migrate_total", (double)s->store.migrate_total);
	}
	if (s->has_sync) {
		x = cJSON_AddObjectToObject(o, "sync");
		num(x, "state_n", (double)s->sync.state);
		cJSON_AddBoolToObject(x, "connected", s->sync.connected);
		cJSON_AddStringToObject(x, "error", s->sync.error);
		num(x, "since_us", (double)s->sync.since_us);
		num(x, "backlog", (double)s->sync.backlog);
		num(x, "oldest_unsynced_us", (double)s->sync.oldest_unsynced_us);
		num(x, "rate", s->sync.rate);
		num(x, "forwarded", (double)s->sync.forwarded);
		num(x, "quarantined", (double)s->sync.quarantined);
		num(x, "quota_dropped", (double)s->sync.quota_dropped);
		num(x, "last_sync_us", (double)s->sync.last_sync_us);
	}
	x = cJSON_AddObjectToObject(o, "hub");
	num(x, "messages", (double)s->hub.messages);
	num(x, "samples", (double)s->hub.samples);
	num(x, "queue_depth", (double)s->hub.queue_depth);
	num(x, "queue_high_water", (double)s->hub.queue_high_water);
	num(x, "queue_dropped", (double)s->hub.queue_dropped);
	num(x, "throttled", (double)s->hub.throttled);
	cJSON_AddBoolToObject(x, "throttled_now", s->throttled);
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (json == NULL)
		util_fail("status: out of memory");
	return json;
}

static enum link_state link_state_parse(const char *name)
{
	int i;

	for (i = LINK_IDLE; i <= LINK_DOWN; i++)
		if (strcmp(name, source_link_name((enum link_state)i)) == 0)
			return (enum link_state)i;
	return LINK_DOWN;
}

static void decode_link(const cJSON *o, struct source_link *l)
{
	char state[16], driver[16];

	memset(l, 0, sizeof(*l));
	get_str(o, "name", l->name, sizeof(l->name));
	get_str(o, "driver", driver, sizeof(driver));
	/* source_link.driver is a static name */
	l->driver = strcmp(driver, "modbus") == 0 ? "modbus" : strcmp(driver, "mqtt") == 0 ? "mqtt"
											     : "?";
	get_str(o, "state", state, sizeof(state));
	l->state = link_state_parse(state);
	get_str(o, "error", l->error, sizeof(l->error));
	l->since_us = (int64_t)get_num(o, "since_us");
	l->nmeters = (size_t)get_num(o, "meters");
	l->requests = (uint64_t)get_num(o, "requests");
	l->timeouts = (uint64_t)get_num(o, "timeouts");
	l->exceptions = (uint64_t)get_num(o, "exceptions");
	l->reconnects = (uint64_t)get_num(o, "reconnects");
	l->latency_us = (int32_t)get_num(o, "latency_us");
	l->received = (uint64_t)get_num(o, "received");
	l->accepted = (uint64_t)get_num(o, "accepted");
	{
		const cJSON *rej = cJSON_GetObjectItemCaseSensitive(o, "rejected"), *it;
		size_t k = 0;

		cJSON_ArrayForEach(it, rej)
		{
			if (k >= UTIL_ARRAY_LEN(l->rejected))
				break;
			l->rejected[k++] = cJSON_IsNumber(it) && it->valuedouble > 0
						   ? (uint64_t)it->valuedouble
						   : 0;
		}
	}
	l->alarm_msgs = (uint64_t)get_num(o, "alarm_msgs");
	l->undecoded = (uint64_t)get_num(o, "undecoded");
	l->dropped = (uint64_t)get_num(o, "dropped");
	l->journal_slot = (int)get_num(o, "journal_slot");
	l->journaled = (uint64_t)get_num(o, "journaled");
	l->replayed = (uint64_t)get_num(o, "replayed");
	l->duplicates = (uint64_t)get_num(o, "duplicates");
	l->journal_errors = (uint64_t)get_num(o, "journal_errors");
}

int status_decode(const char *json, struct hub_status *out, struct source_link **links,
		  size_t *cap, char *err, size_t errsz)
{
	cJSON *o = cJSON_Parse(json);
	const cJSON *arr, *x, *it;
	size_t n = 0;

	if (!cJSON_IsObject(o) || get_num(o, "v") < 1) {
		snprintf(err, errsz, "the recorder's status is not a status row");
		cJSON_Delete(o);
		return -1;
	}
	arr = cJSON_GetObjectItemCaseSensitive(o, "links");
	cJSON_ArrayForEach(it, arr)
	{
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 8;
			*links = util_reallocarray(*links, *cap, sizeof(**links));
		}
		decode_link(it, &(*links)[n++]);
	}
	out->links = *links;
	out->nlinks = n;
	x = cJSON_GetObjectItemCaseSensitive(o, "store");
	out->has_store = cJSON_IsObject(x);
	memset(&out->store, 0, sizeof(out->store));
	if (out->has_store) {
		double st = get_num(x, "state_n");

		out->store.state = st >= 0 && st <= STORE_ERROR ? (enum store_state)st : STORE_ERROR;
		get_str(x, "error", out->store.error, sizeof(out->store.error));
		out->store.since_us = (int64_t)get_num(x, "since_us");
		out->store.written = (uint64_t)get_num(x, "written");
		out->store.dropped = (uint64_t)get_num(x, "dropped");
		out->store.events_dropped = (uint64_t)get_num(x, "events_dropped");
		out->store.queued = (size_t)get_num(x, "queued");
		out->store.queue_max = (size_t)get_num(x, "queue_max");
		out->store.last_commit_us = (int64_t)get_num(x, "last_commit_us");
		out->store_replaced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "replaced"));
		out->store.migrating = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "migrating"));
		out->store.migrate_done = (int64_t)get_num(x, "migrate_done");
		out->store.migrate_total = (int64_t)get_num(x, "migrate_total");
	}
	x = cJSON_GetObjectItemCaseSensitive(o, "sync");
	out->has_sync = cJSON_IsObject(x);
	memset(&out->sync, 0, sizeof(out->sync));
	if (out->has_sync) {
		double st = get_num(x, "state_n");

		out->sync.state = st >= 0 && st <= SYNC_DOWN ? (enum sync_state)st : SYNC_DOWN;
		out->sync.connected = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "connected"));
		get_str(x, "error", out->sync.error, sizeof(out->sync.error));
		out->sync.since_us = (int64_t)get_num(x, "since_us");
		out->sync.backlog = (int64_t)get_num(x, "backlog");
		out->sync.oldest_unsynced_us = (int64_t)get_num(x, "oldest_unsynced_us");
		out->sync.rate = get_num(x, "rate");
		out->sync.forwarded = (uint64_t)get_num(x, "forwarded");
		out->sync.quarantined = (int64_t)get_num(x, "quarantined");
		out->sync.quota_dropped = (uint64_t)get_num(x, "quota_dropped");
		out->sync.last_sync_us = (int64_t)get_num(x, "last_sync_us");
	}
	x = cJSON_GetObjectItemCaseSensitive(o, "hub");
	memset(&out->hub, 0, sizeof(out->hub));
	out->hub.messages = (uint64_t)get_num(x, "messages");
	out->hub.samples = (uint64_t)get_num(x, "samples");
	out->hub.queue_depth = (size_t)get_num(x, "queue_depth");
	out->hub.queue_high_water = (size_t)get_num(x, "queue_high_water");
	out->hub.queue_dropped = (uint64_t)get_num(x, "queue_dropped");
	out->hub.throttled = (uint64_t)get_num(x, "throttled");
	out->throttled = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "throttled_now"));
	cJSON_Delete(o);
	return 0;
}
