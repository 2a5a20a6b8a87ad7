/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_PAYLOAD_H
#define PHASOR_PAYLOAD_H
/*
 * payload: pure functions from an MQTT message to samples, driven by an
 * MQTT profile; and MQTT topic filter matching. JSON is parsed with cJSON.
 * No I/O here; source_mqtt.c calls it from the hub's thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/config.h"
#include "phasor/profile.h"
#include "phasor/qty.h"

#define PAYLOAD_MAX_BYTES (64 * 1024)

enum payload_status {
	PAYLOAD_OK = 0,
	PAYLOAD_TOO_LARGE,     /* over PAYLOAD_MAX_BYTES */
	PAYLOAD_MALFORMED,     /* not JSON, not an object, or not a plain number */
	PAYLOAD_NON_NUMERIC,   /* a mapped field holds a string, bool, object... */
	PAYLOAD_UNKNOWN_TOPIC, /* no meter's filter matches the topic */
	PAYLOAD_NO_FIELD,      /* valid, but no field the profile maps */
	PAYLOAD_NO_BIRTH,      /* Sparkplug B data of a node or device before its birth
				* certificate, or only by aliases no birth defined */
	PAYLOAD__COUNT
};

/* "ok", "too_large", "malformed", "non_numeric", "unknown_topic", "no_field",
 * "no_birth" */
const char *payload_status_name(enum payload_status s);

/*
 * Decode one message for one meter. On PAYLOAD_OK, *n samples (all stamped
 * t_us and meter) were written to out (capacity cap; fields beyond it are
 * ignored). On any other status nothing is stored (*n = 0) and err holds a
 * short reason (no payload bytes are copied into it unsanitized).
 *
 * JSON: each field path is looked up in the root object and then in each of
 * the profile's containers; a number gives the field's quantity, a
 * 3-element array of numbers gives the phase quantities (Tasmota), JSON null
 * gives NaN with quality bad, a string holding a plain decimal number
 * ("230.5", " -1e3 "; not "0x1F", "inf", "nan", nor a string with an
 * escaped NUL) is accepted, any other type or string makes the message
 * PAYLOAD_NON_NUMERIC (nothing stored). Values are scaled with
 * payload_scale(); quality comes from qty_quality(). Keys the profile does
 * not map are ignored.
 *
 * PLAIN: the payload is one plain decimal number (or nan/null: NaN, bad);
 * the field is the one whose path is a suffix of the topic at a '/'
 * boundary.
 *
 * Numbers are read with the process's LC_NUMERIC, which main() keeps "C".
 */
enum payload_status payload_decode(const struct profile *p, const char *topic,
				   const char *payload, size_t len, uint32_t meter,
				   int64_t t_us, struct sample *out, size_t cap, size_t *n,
				   char *err, size_t errlen);

/* What one machine message says (docs/machines.md). */
struct payload_machine {
	int state;        /* enum machine_state; MACHINE_UNKNOWN: the message has no state */
	bool has_pieces;
	double pieces;    /* the counter, or the increment (m->pieces_increment) */
};

/*
 * Decode one message of machine m: a JSON object whose m->state_field (a
 * dotted path) holds one of m's state values (a string, a number compared
 * in its shortest form, true/false) and whose m->pieces_field, when m has
 * one, a count (a number >= 0 or a numeric string). Either may be absent,
 * not both (PAYLOAD_NO_FIELD). A state value m does not map is
 * PAYLOAD_MALFORMED, pieces that are no count PAYLOAD_NON_NUMERIC; then
 * out says nothing (state MACHINE_UNKNOWN, no pieces) and err the reason
 * (never the payload's bytes).
 */
/* The state (enum machine_state) text means for m: one of its run, wait
 * or stop values; MACHINE__COUNT when none. */
int payload_machine_state(const struct config_machine *m, const char *text);

enum payload_status payload_decode_machine(const struct config_machine *m, const char *payload,
					   size_t len, struct payload_machine *out, char *err,
					   size_t errlen);

/*
 * v x scale. When scale is a power of ten (10^-18..10^18, either sign:
 * 1000, 0.001, -1) the decimal point of v's shortest round-trip decimal
 * form (15 to 17 significant digits) is moved instead, so that decimals
 * scale exactly: 1.001 x 1000 is 1001 (a binary multiply gives
 * 1000.9999999999999), 230.1 x 0.001 is 0.2301. Other scales multiply.
 * NaN and infinities give v x scale.
 */
double payload_scale(double v, double scale);

/*
 * MQTT topic filter matching ('+' one level, '#' the rest, as the last
 * level). A filter starting with "$share/GROUP/" is matched without that
 * prefix. Topics starting with '$' never match a filter starting with a
 * wildcard.
 */
bool payload_topic_matches(const char *filter, const char *topic);

/* The filter without a "$share/GROUP/" prefix (pointer into filter). */
const char *payload_filter_unshared(const char *filter);

/* Is filter a valid MQTT subscription filter? (for check-config) */
bool payload_filter_valid(const char *filter);

#endif
