/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_SOURCE_H
#define PHASOR_SOURCE_H
/*
 * source: the interface of a data source (Modbus pollers, the MQTT client)
 * and the messages sources put on the hub's queue.
 *
 * Threads: a source's own threads (pollers, the MQTT library's callback
 * thread) only build a struct source_msg and push it on the hub queue. Raw
 * messages are turned into samples later by ops->decode in the hub thread,
 * which also calls ops->tick, ops->stats and ops->link. A source is a const
 * table of functions (struct source_ops) plus the implementation's state,
 * whose first member is struct source.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/comm.h"
#include "phasor/config.h"
#include "phasor/qty.h"
#include "phasor/queue.h"

/* "unknown", "ok", "stale", "down" */
const char *source_comm_name(enum comm_status s);

enum msg_kind {
	MSG_SAMPLES,  /* data: struct sample[u.samples.n] */
	MSG_RAW,      /* data: topic '\0' payload '\0'; decoded by source->ops->decode */
	MSG_STATUS,   /* u.status: the meter's comm state changed or was refreshed */
	MSG_EVENT,    /* u.event: connect, disconnect, error... stored in the buffer */
	/* from the buffer (src/feed/follow.c): */
	MSG_HISTORY,  /* data: struct sample[u.samples.n] of the past, for the plotted history only */
	MSG_ALARM_ROW /* data: an alarm journal row the recorder wrote (follow_alarm_row) */
};

struct source;

/*
 * A message on the hub queue; built by msg_* below, freed with free() by
 * the consumer.
 */
struct source_msg {
	enum msg_kind kind;
	struct source *source;
	int32_t meter;            /* meter index, -1: the source as a whole */
	int64_t t_us;             /* when it happened (UTC us) */
	union {
		struct { size_t n; } samples;
		/* intake: its journal seq, 0: none; replayed: decoded again from the
		 * journal at start (received by an earlier run: not counted again) */
		struct { size_t topic_len, len; uint64_t intake; bool replayed; } raw;
		struct meter_comm status;
		struct { char what[24]; char text[232]; } event;
	} u;
	_Alignas(16) unsigned char data[];
};

struct source_msg *source_msg_samples(struct source *src, size_t n);
static inline struct sample *source_msg_sample_array(struct source_msg *m)
{
	return (struct sample *)(void *)m->data;
}
/* Copies topic and payload (payload gets a terminating NUL too). */
struct source_msg *source_msg_raw(struct source *src, const char *topic, size_t topic_len,
				  const void *payload, size_t len, int64_t t_us);
static inline const char *source_msg_raw_topic(const struct source_msg *m)
{
	return (const char *)m->data;
}
static inline const char *source_msg_raw_payload(const struct source_msg *m)
{
	return (const char *)m->data + m->u.raw.topic_len + 1;
}
struct source_msg *source_msg_status(struct source *src, int meter, const struct meter_comm *c);
/* what: "connect", "disconnect", "error", ...; text is sanitized. */
struct source_msg *source_msg_event(struct source *src, int meter, int64_t t_us,
				    const char *what, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* What a source's decode and tick hand back to the hub (hub thread only). */
struct source_sink {
	void *ctx;
	void (*samples)(void *ctx, const struct sample *s, size_t n);
	void (*status)(void *ctx, int meter, const struct meter_comm *c);
	void (*event)(void *ctx, int meter, int64_t t_us, const char *what, const char *text);
	/* A message under [mqtt] alarm_topic (shared alarm events); may be NULL. */
	void (*alarm)(void *ctx, const char *topic, const char *payload, size_t len, int64_t t_us);
	/* A message on a [machine NAME]'s topic: decoded by the sink, which
	 * returns its enum payload_status, or -1 when topic is no machine's.
	 * May be NULL. */
	int (*machine)(void *ctx, const char *topic, const char *payload, size_t len, int64_t t_us);
};

enum link_state { LINK_IDLE, LINK_CONNECTING, LINK_UP, LINK_DOWN };
/* "idle", "connecting", "up", "down" */
const char *source_link_name(enum link_state s);

/*
 * Put a link in state to at now_us: *since_us moves when it comes up, stops
 * being up or leaves idle, not between "connecting" and "down", so that
 * "down for" counts from the first failure, not from the last attempt.
 */
void source_link_move(enum link_state *state, int64_t *since_us, enum link_state to,
		      int64_t now_us);

/* One connection of a source (a Modbus endpoint, the broker). */
struct source_link {
	char name[96];            /* "10.0.0.21:502", "tcp://127.0.0.1:1883" */
	const char *driver;       /* "modbus", "mqtt" */
	enum link_state state;
	char error[160];          /* last error, sanitized */
	int64_t since_us;         /* when state last changed */
	size_t nmeters;
	uint64_t requests, timeouts, exceptions, reconnects; /* modbus */
	int32_t latency_us;       /* modbus: last round trip, -1 n/a */
	/*
	 * mqtt: every message received from the broker ends in one of
	 * accepted, rejected, alarm_msgs, duplicates (a redelivery the intake
	 * journal already had) or undecoded, or is still on the hub queue:
	 * received = accepted + sum(rejected) + alarm_msgs + duplicates +
	 * undecoded + in flight. Messages decoded again from the journal at
	 * start (replayed) were received by an earlier run and count in none.
	 */
	uint64_t received;        /* mqtt: messages from the broker */
	uint64_t accepted;        /* mqtt: decoded into samples */
	uint64_t rejected[8];     /* mqtt: by enum payload_status (index 0 unused) */
	uint64_t alarm_msgs;      /* mqtt: under [mqtt] alarm_topic: alarm sharing, no samples */
	uint64_t undecoded;       /* mqtt: received while stopping, or the queue closed */
	uint64_t dropped;         /* messages the hub queue refused (full) */
	/* mqtt: the intake journal (include/phasor/intake.h); slot -1: none */
	int journal_slot;
	uint64_t journaled, replayed, duplicates, journal_errors;
};

struct source_ops {
	const char *name;
	/*
	 * A source for the meters of cfg that use it, pushing on q. Returns
	 * NULL with *cause NULL when no meter uses this driver, NULL with
	 * *cause set (caller frees) on error.
	 */
	struct source *(*create)(const struct config *cfg, struct queue *q, char **cause);
	/* Start threads/connections. 0, or -1 with *cause. */
	int (*start)(struct source *s, char **cause);
	/* Stop: on return no thread of the source pushes any more. */
	void (*stop)(struct source *s);
	/* Turn a MSG_RAW into samples/status (hub thread). May be NULL. */
	void (*decode)(struct source *s, const struct source_msg *m, const struct source_sink *sink);
	/* Periodic work in the hub thread (staleness of MQTT meters). May be NULL. */
	void (*tick)(struct source *s, int64_t now_us, const struct source_sink *sink);
	/* Copy up to max links' state; returns how many links there are. */
	size_t (*links)(struct source *s, struct source_link *out, size_t max);
	void (*destroy)(struct source *s);
};

struct source {
	const struct source_ops *ops;
};

extern const struct source_ops source_modbus_ops;
extern const struct source_ops source_mqtt_ops;

/*
 * Give the MQTT source the intake journal (include/phasor/intake.h;
 * borrowed, outlives the source's start/stop) before ops->start: every
 * message received is then written to it before paho acknowledges it. No-op
 * when src is not the MQTT source.
 */
struct intake;
void source_mqtt_set_intake(struct source *src, struct intake *in);

/*
 * Publish on the MQTT source's connection (hub thread; paho queues it and
 * sends from its own thread). 0, or -1 when src is not the MQTT source or
 * the broker is not connected.
 */
int source_mqtt_publish(struct source *src, const char *topic, const char *payload, int qos,
			bool retained);

#endif
