// SPDX-License-Identifier: MIT
/*
 * payload: turns one MQTT message into samples for one meter, following the
 * meter's MQTT profile, and matches MQTT topic filters. Pure functions: no
 * I/O, no globals (cJSON's global error pointer is not used; the parse end
 * comes back through cJSON_ParseWithLengthOpts), so any thread may call
 * them; source_mqtt.c calls them from the hub thread.
 *
 * A message is all or nothing: when one mapped field holds something that
 * is not a number the whole message is refused (PAYLOAD_NON_NUMERIC) rather
 * than stored in part, so a device that starts sending garbage shows up in
 * the reject counters instead of as a meter with half its values frozen.
 * Error texts name the field and the JSON type, never payload bytes.
 * The rules are written out in docs/mqtt.md.
 */
#include "phasor/payload.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "phasor/csv.h"
#include "phasor/util.h"

/* Longest plain payload taken as a number (after trimming). */
#define PLAIN_MAX 64

const char *payload_status_name(enum payload_status s)
{
	switch (s) {
	case PAYLOAD_OK:
		return "ok";
	case PAYLOAD_TOO_LARGE:
		return "too_large";
	case PAYLOAD_MALFORMED:
		return "malformed";
	case PAYLOAD_NON_NUMERIC:
		return "non_numeric";
	case PAYLOAD_UNKNOWN_TOPIC:
		return "unknown_topic";
	case PAYLOAD_NO_FIELD:
		return "no_field";
	case PAYLOAD_NO_BIRTH:
		return "no_birth";
	case PAYLOAD__COUNT:
		break;
	}
	return "?";
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) UTIL_PRINTF(3, 4);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	char raw[256];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* field paths come from a profile file, not the network, but a
	 * message may end up on a terminal: sanitize anyway */
	util_sanitize(err, errlen, raw);
}

/* ---- numbers ------------------------------------------------------------ */

/*
 * The length of the plain decimal number at the start of s: an optional
 * sign, digits with an optional point and fraction (at least one digit in
 * all), an optional exponent; 0 when s does not start with one. strtod
 * alone would also take "0x1F" (31), "inf", "nan(...)" and "infinity".
 */
static size_t decimal_len(const char *s)
{
	const char *p = s;
	size_t digits = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; isdigit((unsigned char)*p); p++)
		digits++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			digits++;
	if (digits == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		const char *e = p + 1;

		if (*e == '+' || *e == '-')
			e++;
		if (isdigit((unsigned char)*e)) {
			while (isdigit((unsigned char)*e))
				e++;
			p = e;
		}
	}
	return (size_t)(p - s);
}

/*
 * A string holding a plain finite decimal number, all of it (white space
 * around it allowed): 0 and the value, or -1. strtod reads it with the
 * process's LC_NUMERIC, which main() keeps at "C".
 */
static int numeric_string(const char *s, double *v)
{
	char *end;
	size_t n;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	n = decimal_len(s);
	if (n == 0)
		return -1;
	/* strtod must read exactly that number: under a decimal-comma
	 * LC_NUMERIC it would stop at the point, and the value is refused
	 * rather than truncated */
	*v = strtod(s, &end);
	if (end != s + n)
		return -1;
	for (; isspace((unsigned char)*end); end++)
		;
	if (*end != '\0' || !isfinite(*v))
		return -1;
	return 0;
}

/* 10^-18 .. 10^18 as doubles: what strtod gives for "0.001", "1000" or "1e3". */
static const double pow10_tab[] = {
	1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7,
	1e-6,  1e-5,  1e-4,  1e-3,  1e-2,  1e-1,  1e0,   1e1,   1e2,   1e3,  1e4,  1e5,
	1e6,   1e7,   1e8,   1e9,   1e10,  1e11,  1e12,  1e13,  1e14,  1e15, 1e16, 1e17,
	1e18,
};
#define POW10_MIN (-18)

double payload_scale(double v, double scale)
{
	double mag = fabs(scale), r;
	char buf[48], out[64];
	const char *ex;
	size_t i;
	int prec, e = 0;
	bool found = false;

	for (i = 0; i < UTIL_ARRAY_LEN(pow10_tab) && !found; i++)
		if (mag == pow10_tab[i]) {
			e = (int)i + POW10_MIN;
			found = true;
		}
	if (!found || e == 0 || v == 0 || !isfinite(v))
		return v * scale;
	/* The shortest of 15..17 significant digits that reads back as v: the
	 * decimal the device sent (1.001), not the binary double's expansion
	 * (1.000999999999999889865875957184471189975738525390625). */
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	ex = strchr(buf, 'e');
	if (ex == NULL)
		return v * scale;
	/* The same digits with the exponent moved: 1.001e+00 kWh is 1.001e3
	 * Wh, read back as the double nearest to 1001. */
	snprintf(out, sizeof(out), "%.*se%ld", (int)(ex - buf), buf, strtol(ex + 1, NULL, 10) + e);
	r = strtod(out, NULL);
	return scale < 0 ? -r : r;
}

/* ---- decoding ----------------------------------------------------------- */

/* Where decoded samples go; counts what did not fit. */
struct out {
	struct sample *s;
	size_t cap, n;
	uint32_t meter;
	int64_t t_us;
};

static void emit(struct out *o, int qty, double value, double scale, double offset, bool null)
{
	struct sample *s;

	if (qty < 0 || o->n >= o->cap)
		return;
	s = &o->s[o->n++];
	memset(s, 0, sizeof(*s));
	s->t_us = o->t_us;
	s->meter = o->meter;
	s->qty = (uint16_t)qty;
	s->value = null ? NAN : payload_scale(value, scale);
	if (offset != 0) /* degF, K; never 0 + -0 */
		s->value += offset;
	s->quality = null ? QUALITY_BAD : (uint8_t)qty_quality((unsigned)qty, s->value);
}

static const char *json_type_name(const cJSON *j)
{
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsObject(j))
		return "an object";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsNull(j))
		return "null";
	if (cJSON_IsNumber(j))
		return "a number";
	return "not a value";
}

/*
 * One scalar: a number, null (NaN, bad) or a numeric string. 0 with the
 * value and *null, or -1 (not numeric).
 */
static int scalar(const cJSON *j, double *v, bool *null)
{
	*null = false;
	if (cJSON_IsNumber(j)) {
		*v = j->valuedouble;
		return 0;
	}
	if (cJSON_IsNull(j)) {
		*v = NAN;
		*null = true;
		return 0;
	}
	if (cJSON_IsString(j))
		return numeric_string(j->valuestring, v);
	return -1;
}

/* Follow a dotted path ("ENERGY.Power", "params.em:0") from obj. */
static const cJSON *lookup(const cJSON *obj, const char *path)
{
	const char *p = path;

	while (obj != NULL) {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		char key[256];
		const cJSON *child;

		if (!cJSON_IsObject(obj) || len == 0 || len >= sizeof(key))
			return NULL;
		memcpy(key, p, len);
		key[len] = '\0';
		child = cJSON_GetObjectItemCaseSensitive(obj, key);
		if (dot == NULL)
			return child;
		obj = child;
		p = dot + 1;
	}
	return NULL;
}

static bool has_phases(const struct profile_field *f)
{
	return f->phase_qty[0] >= 0 && f->phase_qty[1] >= 0 && f->phase_qty[2] >= 0;
}

/*
 * Store one field's value j into o. 0, or -1 with err set when the value is
 * not numeric (nothing of the message will be kept then).
 */
static int decode_field(const struct profile_field *f, const cJSON *j, struct out *o,
			char *err, size_t errlen)
{
	double v;
	bool null;

	if (cJSON_IsArray(j)) {
		int len = cJSON_GetArraySize(j);

		if (has_phases(f)) {
			double vals[3];
			bool nulls[3];
			int i;

			if (len != 3) {
				set_err(err, errlen, "field %s is an array of %d, expected 3",
					f->path, len);
				return -1;
			}
			for (i = 0; i < 3; i++)
				if (scalar(cJSON_GetArrayItem(j, i), &vals[i], &nulls[i]) < 0) {
					set_err(err, errlen, "field %s[%d] is %s", f->path, i,
						json_type_name(cJSON_GetArrayItem(j, i)));
					return -1;
				}
			for (i = 0; i < 3; i++)
				emit(o, f->phase_qty[i], vals[i], f->scale, f->offset, nulls[i]);
			return 0;
		}
		/* one quantity, an array: its first element (Tasmota with one
		 * channel configured as an array) */
		if (len < 1) {
			set_err(err, errlen, "field %s is an empty array", f->path);
			return -1;
		}
		if (scalar(cJSON_GetArrayItem(j, 0), &v, &null) < 0) {
			set_err(err, errlen, "field %s[0] is %s", f->path,
				json_type_name(cJSON_GetArrayItem(j, 0)));
			return -1;
		}
		emit(o, f->qty, v, f->scale, f->offset, null);
		return 0;
	}
	if (scalar(j, &v, &null) < 0) {
		if (cJSON_IsString(j))
			set_err(err, errlen, "field %s is a string", f->path);
		else
			set_err(err, errlen, "field %s is %s", f->path, json_type_name(j));
		return -1;
	}
	/* a single value for a field mapped only to phases is phase 1 (a
	 * single-channel device) */
	emit(o, f->qty >= 0 ? f->qty : f->phase_qty[0], v, f->scale, f->offset, null);
	return 0;
}

/* The parsed payload as a JSON object (cJSON_Delete it), or
 * PAYLOAD_MALFORMED with err. */
static enum payload_status parse_object(const char *payload, size_t len, cJSON **out,
					char *err, size_t errlen)
{
	const char *end = NULL;
	cJSON *root;

	*out = NULL;
	root = cJSON_ParseWithLengthOpts(payload, len, &end, 0);
	if (root == NULL) {
		size_t at = end != NULL && end >= payload ? (size_t)(end - payload) : 0;

		set_err(err, errlen, "JSON parse error at byte %zu", at);
		return PAYLOAD_MALFORMED;
	}
	/* what follows the value may only be white space (or NULs) */
	for (; end != NULL && end < payload + len; end++)
		if (!isspace((unsigned char)*end) && *end != '\0') {
			set_err(err, errlen, "trailing data after JSON at byte %zu",
				(size_t)(end - payload));
			cJSON_Delete(root);
			return PAYLOAD_MALFORMED;
		}
	if (!cJSON_IsObject(root)) {
		set_err(err, errlen, "payload is %s, not a JSON object", json_type_name(root));
		cJSON_Delete(root);
		return PAYLOAD_MALFORMED;
	}
	*out = root;
	return PAYLOAD_OK;
}

static enum payload_status decode_json_text(const struct profile *p, const char *payload,
					    size_t len, struct out *o, char *err, size_t errlen)
{
	const cJSON *objs[1 + 16];
	size_t nobjs = 0, i, found = 0;
	cJSON *root;
	enum payload_status st;

	st = parse_object(payload, len, &root, err, errlen);
	if (st != PAYLOAD_OK)
		return st;

	objs[nobjs++] = root;
	for (i = 0; i < p->ncontainers && nobjs < UTIL_ARRAY_LEN(objs); i++) {
		const cJSON *c = lookup(root, p->containers[i]);

		if (cJSON_IsObject(c))
			objs[nobjs++] = c;
	}

	for (i = 0; i < p->nfields; i++) {
		const struct profile_field *f = &p->fields[i];
		const cJSON *j = NULL;
		size_t k;

		for (k = 0; k < nobjs && j == NULL; k++)
			j = lookup(objs[k], f->path);
		if (j == NULL)
			continue;
		found++;
		if (decode_field(f, j, o, err, errlen) < 0) {
			st = PAYLOAD_NON_NUMERIC;
			break;
		}
	}
	cJSON_Delete(root);
	if (st != PAYLOAD_OK)
		return st;
	if (found == 0) {
		set_err(err, errlen, "no mapped field in the payload");
		return PAYLOAD_NO_FIELD;
	}
	return PAYLOAD_OK;
}

/*
 * cJSON decodes the escape \u0000 into a NUL inside the string, where a C
 * string stops: "207\u0000garbage" would read as "207", and a key
 * "a_voltage\u0000x" as "a_voltage". A copy of the payload with each such
 * escape turned into \u0001 (a control character, which no number and no
 * field path holds) keeps that string whole, so it is refused as not a
 * number and the key matches no field. NULL when the payload has no
 * \u0000 escape (then it is parsed as it is); else the copy, to free.
 */
static char *escaped_nul_to_soh(const char *payload, size_t len)
{
	char *copy = NULL;
	size_t i;

	if (memchr(payload, '\\', len) == NULL)
		return NULL;
	for (i = 0; i + 1 < len; i++) {
		if (payload[i] != '\\')
			continue;
		/* an escape is a backslash and the character after it: "\\u0000"
		 * is a backslash followed by the text u0000 */
		if (i + 5 < len && memcmp(payload + i + 1, "u0000", 5) == 0) {
			if (copy == NULL) {
				copy = util_malloc(len);
				memcpy(copy, payload, len);
			}
			copy[i + 5] = '1';
		}
		i++;
	}
	return copy;
}

static enum payload_status decode_json(const struct profile *p, const char *payload,
				       size_t len, struct out *o, char *err, size_t errlen)
{
	char *copy;
	enum payload_status st;

	if (len == 0) {
		set_err(err, errlen, "empty payload");
		return PAYLOAD_MALFORMED;
	}
	copy = escaped_nul_to_soh(payload, len);
	st = decode_json_text(p, copy != NULL ? copy : payload, len, o, err, errlen);
	free(copy);
	return st;
}

int payload_machine_state(const struct config_machine *m, const char *text)
{
	size_t k, i;

	for (k = 0; k < 3; k++)
		for (i = 0; m->state_values[k] != NULL && m->state_values[k][i] != NULL; i++)
			if (strcmp(m->state_values[k][i], text) == 0)
				return (int)k;
	return MACHINE__COUNT;
}

/* The state a JSON value means for m: MACHINE__COUNT when none. */
static int machine_state_of(const struct config_machine *m, const cJSON *j)
{
	char text[64];

	if (cJSON_IsString(j) && j->valuestring != NULL)
		snprintf(text, sizeof(text), "%s", j->valuestring);
	else if (cJSON_IsNumber(j))
		csv_double(j->valuedouble, text, sizeof(text));
	else if (cJSON_IsBool(j))
		snprintf(text, sizeof(text), "%s", cJSON_IsTrue(j) ? "true" : "false");
	else
		return MACHINE__COUNT;
	return payload_machine_state(m, text);
}

static enum payload_status decode_machine_root(const struct config_machine *m,
					       const cJSON *root, struct payload_machine *out,
					       char *err, size_t errlen)
{
	const cJSON *js = lookup(root, m->state_field);
	const cJSON *jp = m->pieces_field != NULL ? lookup(root, m->pieces_field) : NULL;

	if (js == NULL && jp == NULL) {
		set_err(err, errlen, "no state field %s%s%s", m->state_field,
			m->pieces_field != NULL ? " nor pieces field " : "",
			m->pieces_field != NULL ? m->pieces_field : "");
		return PAYLOAD_NO_FIELD;
	}
	if (js != NULL) {
		out->state = machine_state_of(m, js);
		if (out->state == MACHINE__COUNT) {
			/* the value itself is not echoed: it came from the network */
			set_err(err, errlen, "field %s holds %s that is no state of the machine",
				m->state_field,
				cJSON_IsString(js) ? "a string" : json_type_name(js));
			return PAYLOAD_MALFORMED;
		}
	}
	if (jp != NULL) {
		bool null;

		if (scalar(jp, &out->pieces, &null) < 0 || null || !isfinite(out->pieces) ||
		    out->pieces < 0) {
			set_err(err, errlen, "field %s is not a count of pieces", m->pieces_field);
			return PAYLOAD_NON_NUMERIC;
		}
		out->has_pieces = true;
	}
	return PAYLOAD_OK;
}

enum payload_status payload_decode_machine(const struct config_machine *m, const char *payload,
					   size_t len, struct payload_machine *out, char *err,
					   size_t errlen)
{
	char *copy;
	cJSON *root;
	enum payload_status st;

	out->state = MACHINE_UNKNOWN;
	out->has_pieces = false;
	out->pieces = 0;
	if (len > PAYLOAD_MAX_BYTES) {
		set_err(err, errlen, "payload of %zu bytes, over %d", len, PAYLOAD_MAX_BYTES);
		return PAYLOAD_TOO_LARGE;
	}
	if (len == 0) {
		set_err(err, errlen, "empty payload");
		return PAYLOAD_MALFORMED;
	}
	copy = escaped_nul_to_soh(payload, len);
	st = parse_object(copy != NULL ? copy : payload, len, &root, err, errlen);
	if (st == PAYLOAD_OK) {
		st = decode_machine_root(m, root, out, err, errlen);
		cJSON_Delete(root);
	}
	free(copy);
	if (st != PAYLOAD_OK) {
		out->state = MACHINE_UNKNOWN;
		out->has_pieces = false;
	}
	return st;
}

/* Is suffix the end of topic at a level boundary? */
static bool topic_has_suffix(const char *topic, const char *suffix)
{
	size_t tl = strlen(topic), sl = strlen(suffix);

	if (sl == 0 || sl > tl || strcmp(topic + tl - sl, suffix) != 0)
		return false;
	return sl == tl || topic[tl - sl - 1] == '/';
}

static enum payload_status decode_plain(const struct profile *p, const char *topic,
					const char *payload, size_t len, struct out *o,
					char *err, size_t errlen)
{
	const struct profile_field *f = NULL;
	char buf[PLAIN_MAX + 1], *end;
	size_t i, best = 0;
	double v;

	/* the longest matching suffix wins ("emeter/0/power" over "power") */
	for (i = 0; i < p->nfields; i++) {
		const struct profile_field *c = &p->fields[i];
		size_t l = strlen(c->path);

		if (c->qty >= 0 && l > best && topic_has_suffix(topic, c->path)) {
			f = c;
			best = l;
		}
	}
	if (f == NULL) {
		set_err(err, errlen, "no field of the profile matches the topic");
		return PAYLOAD_NO_FIELD;
	}

	while (len > 0 && (isspace((unsigned char)*payload) || *payload == '\0')) {
		payload++;
		len--;
	}
	while (len > 0 && (isspace((unsigned char)payload[len - 1]) || payload[len - 1] == '\0'))
		len--;
	if (len == 0) {
		set_err(err, errlen, "empty payload");
		return PAYLOAD_MALFORMED;
	}
	if (len > PLAIN_MAX || memchr(payload, '\0', len) != NULL) {
		set_err(err, errlen, "payload is not a number");
		return PAYLOAD_MALFORMED;
	}
	memcpy(buf, payload, len);
	buf[len] = '\0';

	if (util_strcasecmp(buf, "nan") == 0 || util_strcasecmp(buf, "-nan") == 0 ||
	    util_strcasecmp(buf, "null") == 0) {
		emit(o, f->qty, NAN, f->scale, f->offset, true);
		return PAYLOAD_OK;
	}
	/* all of it a plain decimal number, read up to its end (see
	 * numeric_string) */
	v = strtod(buf, &end);
	if (decimal_len(buf) != len || end != buf + len) {
		set_err(err, errlen, "payload is not a number");
		return PAYLOAD_MALFORMED;
	}
	/* a number too large for a double (1e999) stays as read, infinite,
	 * with quality bad (qty_quality) */
	emit(o, f->qty, v, f->scale, f->offset, false);
	return PAYLOAD_OK;
}

enum payload_status payload_decode(const struct profile *p, const char *topic,
				   const char *payload, size_t len, uint32_t meter,
				   int64_t t_us, struct sample *out, size_t cap, size_t *n,
				   char *err, size_t errlen)
{
	struct out o = { .s = out, .cap = out != NULL ? cap : 0, .meter = meter, .t_us = t_us };
	enum payload_status st;

	*n = 0;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > PAYLOAD_MAX_BYTES) {
		set_err(err, errlen, "payload of %zu bytes, over %d", len, PAYLOAD_MAX_BYTES);
		return PAYLOAD_TOO_LARGE;
	}
	if (payload == NULL)
		len = 0;
	if (p->format == PAYLOAD_PLAIN)
		st = decode_plain(p, topic != NULL ? topic : "", payload, len, &o, err, errlen);
	else
		st = decode_json(p, payload, len, &o, err, errlen);
	if (st == PAYLOAD_OK)
		*n = o.n;
	return st;
}

/* ---- topic filters ------------------------------------------------------ */

const char *payload_filter_unshared(const char *filter)
{
	const char *slash;

	if (strncmp(filter, "$share/", 7) != 0)
		return filter;
	slash = strchr(filter + 7, '/');
	return slash != NULL ? slash + 1 : filter;
}

bool payload_topic_matches(const char *filter, const char *topic)
{
	const char *f = payload_filter_unshared(filter), *t = topic;

	/* $SYS/... and other $-topics are for explicit subscriptions only */
	if (t[0] == '$' && (f[0] == '+' || f[0] == '#'))
		return false;
	for (;;) {
		size_t fl = strcspn(f, "/"), tl = strcspn(t, "/");

		if (fl == 1 && f[0] == '#')
			return true;
		if (!(fl == 1 && f[0] == '+') && (fl != tl || memcmp(f, t, fl) != 0))
			return false;
		f += fl;
		t += tl;
		if (*f == '\0')
			return *t == '\0';
		if (*t == '\0')
			/* "a/#" also matches "a" */
			return strcmp(f, "/#") == 0;
		f++;
		t++;
	}
}

/* Levels of a (non-shared) filter: '#' alone and last, '+' alone. */
static bool levels_valid(const char *f)
{
	if (*f == '\0')
		return false;
	for (;;) {
		size_t l = strcspn(f, "/");

		if (memchr(f, '#', l) != NULL && (l != 1 || f[1] != '\0'))
			return false;
		if (memchr(f, '+', l) != NULL && l != 1)
			return false;
		if (f[l] == '\0')
			return true;
		f += l + 1;
	}
}

bool payload_filter_valid(const char *filter)
{
	if (filter == NULL || filter[0] == '\0' || strlen(filter) > 65535)
		return false;
	if (strncmp(filter, "$share/", 7) == 0) {
		const char *group = filter + 7, *slash = strchr(group, '/');

		if (slash == NULL || slash == group || strcspn(group, "+#") < (size_t)(slash - group))
			return false;
		return levels_valid(slash + 1);
	}
	return levels_valid(filter);
}
