/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_SPARKPLUG_H
#define PHASOR_SPARKPLUG_H
/*
 * sparkplug: the Eclipse Sparkplug B host side, as a state machine with no
 * I/O: topics spBv1.0/GROUP/TYPE/NODE[/DEVICE], protobuf payloads
 * (proto/sparkplug_b.proto, protobuf-c), birth certificates and their
 * aliases, sequence numbers, death certificates, and the mapping of metrics
 * to meters through Sparkplug profiles. source_mqtt.c feeds it the
 * messages of its broker connection in the hub thread and does what it
 * asks (samples, meter states, events, the NCMD rebirth requests it
 * publishes). The rules are in docs/sparkplug.md.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/payload.h"
#include "phasor/profile.h"
#include "phasor/qty.h"

/* At most one rebirth request per node this often. */
#define SPARKPLUG_REBIRTH_EVERY_US 5000000LL

/* What a decoded message asks of the caller. Every callback may be NULL. */
struct sparkplug_out {
	void *ctx;
	/* samples for the meter registered as id (s[i].meter = its meter) */
	void (*samples)(void *ctx, int id, const struct sample *s, size_t n);
	/* the meter's node or device was born (alive) or died (why: "NDEATH",
	 * "DDEATH") */
	void (*state)(void *ctx, int id, bool alive, const char *why);
	/* an event for the buffer (what: "seq_gap", "rebirth"); text sanitized */
	void (*event)(void *ctx, const char *what, const char *text);
	/* publish a rebirth request (sparkplug_rebirth_payload) on topic
	 * spBv1.0/GROUP/NCMD/NODE */
	void (*rebirth)(void *ctx, const char *topic);
};

struct sparkplug;

/* A new host state with no meter; free with sparkplug_free(). */
struct sparkplug *sparkplug_new(void);
void sparkplug_free(struct sparkplug *sp);

/*
 * Register a meter: the metrics of group/node (device NULL: the node's own
 * metrics, else that device's) that prof (a PROFILE_SPARKPLUG profile,
 * borrowed) maps become samples of meter, reported to out as id. The
 * strings are copied.
 */
void sparkplug_add_meter(struct sparkplug *sp, int id, uint32_t meter, const char *group,
			 const char *node, const char *device, const struct profile *prof);

/* The distinct groups of the registered meters, for the subscriptions
 * (spBv1.0/GROUP/#): *n of them, borrowed. */
const char *const *sparkplug_groups(const struct sparkplug *sp, size_t *n);

/* Does topic belong to the Sparkplug B namespace (spBv1.0/...)? */
bool sparkplug_topic(const char *topic);

/*
 * Decode one message received at t_us (UTC us) on topic. replayed: decoded
 * again from the intake journal at start: the aliases and states follow,
 * but no sequence check, event or rebirth request is made. Returns
 * PAYLOAD_OK when it was used, PAYLOAD_UNKNOWN_TOPIC for a node no meter
 * reads, commands and STATE messages, PAYLOAD_MALFORMED for a payload
 * that is not a Sparkplug B protobuf (or a topic out of the namespace's
 * shape), PAYLOAD_NO_BIRTH for data of a node or device whose birth
 * certificate has not been seen (a rebirth is then requested); err then
 * holds a short sanitized reason.
 */
enum payload_status sparkplug_decode(struct sparkplug *sp, const char *topic, const void *payload,
				     size_t len, int64_t t_us, bool replayed,
				     const struct sparkplug_out *out, char *err, size_t errlen);

/*
 * The host is subscribed (at start, after a reconnection): ask every node
 * whose NBIRTH it has not seen for a rebirth (rate-limited as the others),
 * since births published before it listened are lost to it.
 */
void sparkplug_online(struct sparkplug *sp, int64_t t_us, const struct sparkplug_out *out);

/*
 * The NCMD payload asking a node for a rebirth: metric "Node
 * Control/Rebirth", Boolean true, stamped t_us. Returns a new buffer of
 * *len bytes (caller frees).
 */
uint8_t *sparkplug_rebirth_payload(int64_t t_us, size_t *len);

/*
 * The Sparkplug 3.0 host application STATE: its topic,
 * "spBv1.0/STATE/<host_id>", and its payload, the JSON
 * {"online":true|false,"timestamp":<t_ms>}. New strings (caller frees).
 * The birth (online) and the will (offline) of one connection carry the
 * same timestamp: that of its CONNECT.
 */
char *sparkplug_state_topic(const char *host_id);
char *sparkplug_state_payload(bool online, int64_t t_ms);

/* The Sparkplug B data types phasor reads (the specification's numbers). */
enum sparkplug_datatype {
	SP_INT8 = 1, SP_INT16 = 2, SP_INT32 = 3, SP_INT64 = 4,
	SP_UINT8 = 5, SP_UINT16 = 6, SP_UINT32 = 7, SP_UINT64 = 8,
	SP_FLOAT = 9, SP_DOUBLE = 10, SP_BOOLEAN = 11, SP_STRING = 12, SP_DATETIME = 13
};

#endif
