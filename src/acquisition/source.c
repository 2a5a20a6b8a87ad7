// SPDX-License-Identifier: MIT
/*
 * source: what every source shares: building the messages its threads put
 * on the hub queue, and the names of the states. The sources themselves are
 * source_modbus.c and source_mqtt.c.
 */
#include "phasor/source.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"

const char *source_comm_name(enum comm_status s)
{
	switch (s) {
	case COMM_OK:
		return "ok";
	case COMM_STALE:
		return "stale";
	case COMM_DOWN:
		return "down";
	case COMM_UNKNOWN:
		break;
	}
	return "unknown";
}

void source_link_move(enum link_state *state, int64_t *since_us, enum link_state to,
		      int64_t now_us)
{
	bool retrying = (*state == LINK_CONNECTING || *state == LINK_DOWN) &&
			(to == LINK_CONNECTING || to == LINK_DOWN);

	if (*state != to && (!retrying || *since_us == 0))
		*since_us = now_us;
	*state = to;
}

const char *source_link_name(enum link_state s)
{
	switch (s) {
	case LINK_CONNECTING:
		return "connecting";
	case LINK_UP:
		return "up";
	case LINK_DOWN:
		return "down";
	case LINK_IDLE:
		break;
	}
	return "idle";
}

static struct source_msg *msg_alloc(struct source *src, enum msg_kind kind, int meter,
				    size_t extra)
{
	struct source_msg *m = util_malloc(sizeof(*m) + extra);

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->source = src;
	m->meter = meter;
	return m;
}

struct source_msg *source_msg_samples(struct source *src, size_t n)
{
	struct source_msg *m = msg_alloc(src, MSG_SAMPLES, -1, n * sizeof(struct sample));

	m->u.samples.n = n;
	return m;
}

struct source_msg *source_msg_raw(struct source *src, const char *topic, size_t topic_len,
				  const void *payload, size_t len, int64_t t_us)
{
	struct source_msg *m = msg_alloc(src, MSG_RAW, -1, topic_len + len + 2);

	m->t_us = t_us;
	m->u.raw.topic_len = topic_len;
	m->u.raw.len = len;
	memcpy(m->data, topic, topic_len);
	m->data[topic_len] = '\0';
	if (len > 0)
		memcpy(m->data + topic_len + 1, payload, len);
	m->data[topic_len + 1 + len] = '\0';
	return m;
}

struct source_msg *source_msg_status(struct source *src, int meter, const struct meter_comm *c)
{
	struct source_msg *m = msg_alloc(src, MSG_STATUS, meter, 0);

	m->t_us = util_now_us();
	m->u.status = *c;
	return m;
}

struct source_msg *source_msg_event(struct source *src, int meter, int64_t t_us,
				    const char *what, const char *fmt, ...)
{
	struct source_msg *m = msg_alloc(src, MSG_EVENT, meter, 0);
	char raw[sizeof(m->u.event.text)];
	va_list ap;

	m->t_us = t_us;
	util_strlcpy(m->u.event.what, what, sizeof(m->u.event.what));
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	util_sanitize(m->u.event.text, sizeof(m->u.event.text), raw);
	return m;
}
