// SPDX-License-Identifier: MIT
/*
 * sparkplug: the host application's side of Sparkplug B, without I/O.
 *
 * Only the nodes some meter reads are tracked (sparkplug_add_meter); each
 * keeps whether its NBIRTH was seen, the sequence number expected next
 * (0..255, wrapping; the NBIRTH resets it), the bdSeq of its birth (an
 * NDEATH with another bdSeq is a late will of an earlier session and is
 * ignored), and the aliases its NBIRTH and its devices' DBIRTHs defined:
 * alias -> (device, metric name, data type). DATA messages name their
 * metrics by alias or by name. A gap in the sequence, a message of a node
 * not born, or an alias no birth defined asks the node for a rebirth (at
 * most once per SPARKPLUG_REBIRTH_EVERY_US); the caller publishes it. The
 * metrics the meters' profiles map become samples: integer, floating and
 * Boolean values as doubles, scaled (payload_scale), stamped with the
 * metric's timestamp (else the payload's, else the time of receipt);
 * is_null gives NaN with quality bad. Everything here runs in the hub
 * thread; rules and choices: docs/sparkplug.md.
 */
#include "phasor/sparkplug.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "sparkplug_b.pb-c.h"

#include "phasor/util.h"

typedef Phasor__Sparkplug__Payload Payload;
typedef Phasor__Sparkplug__Payload__Metric Metric;

#define NS "spBv1.0/"
#define SEQ_UNKNOWN (-1)

enum sp_type { T_NBIRTH, T_NDEATH, T_NDATA, T_DBIRTH, T_DDEATH, T_DDATA, T_OTHER };

struct sp_meter {
	int id;
	uint32_t meter;
	char *device;                 /* NULL: the node's own metrics */
	const struct profile *prof;
};

struct sp_alias {
	uint64_t alias;
	char *device;                 /* NULL: a node metric */
	char *name;
	uint32_t datatype;
};

struct sp_node {
	char *group, *node;
	struct sp_meter *meters;
	size_t nmeters;
	bool born;
	int expected;                 /* next seq, SEQ_UNKNOWN before a birth */
	bool has_bdseq;
	uint64_t bdseq;
	struct sp_alias *aliases;
	size_t naliases;
	int64_t rebirth_us;           /* last rebirth request, 0: never */
};

struct sparkplug {
	struct sp_node *nodes;
	size_t nnodes;
	char **groups;
	size_t ngroups;
	struct sample *buf;           /* decode output */
	size_t bufcap;
};

/* A topic cut into its levels (pointers into a copy the caller owns). */
struct sp_topic {
	enum sp_type type;
	const char *group, *node, *device; /* device NULL for node messages */
};

struct sparkplug *sparkplug_new(void)
{
	return util_calloc(1, sizeof(struct sparkplug));
}

static void drop_aliases(struct sp_node *n, bool all, const char *device)
{
	size_t i, k = 0;

	for (i = 0; i < n->naliases; i++) {
		struct sp_alias *a = &n->aliases[i];
		bool drop = all || (a->device != NULL && device != NULL &&
				    strcmp(a->device, device) == 0);

		if (drop) {
			free(a->device);
			free(a->name);
		} else {
			n->aliases[k++] = *a;
		}
	}
	n->naliases = k;
}

void sparkplug_free(struct sparkplug *sp)
{
	size_t i, k;

	if (sp == NULL)
		return;
	for (i = 0; i < sp->nnodes; i++) {
		struct sp_node *n = &sp->nodes[i];

		for (k = 0; k < n->nmeters; k++)
			free(n->meters[k].device);
		free(n->meters);
		drop_aliases(n, true, NULL);
		free(n->aliases);
		free(n->group);
		free(n->node);
	}
	free(sp->nodes);
	for (i = 0; i < sp->ngroups; i++)
		free(sp->groups[i]);
	free(sp->groups);
	free(sp->buf);
	free(sp);
}

static struct sp_node *find_node(struct sparkplug *sp, const char *group, const char *node)
{
	size_t i;

	for (i = 0; i < sp->nnodes; i++)
		if (strcmp(sp->nodes[i].group, group) == 0 && strcmp(sp->nodes[i].node, node) == 0)
			return &sp->nodes[i];
	return NULL;
}

void sparkplug_add_meter(struct sparkplug *sp, int id, uint32_t meter, const char *group,
			 const char *node, const char *device, const struct profile *prof)
{
	struct sp_node *n = find_node(sp, group, node);
	struct sp_meter *m;
	size_t i;

	if (n == NULL) {
		sp->nodes = util_reallocarray(sp->nodes, sp->nnodes + 1, sizeof(*sp->nodes));
		n = &sp->nodes[sp->nnodes++];
		memset(n, 0, sizeof(*n));
		n->group = util_strdup(group);
		n->node = util_strdup(node);
		n->expected = SEQ_UNKNOWN;
	}
	n->meters = util_reallocarray(n->meters, n->nmeters + 1, sizeof(*n->meters));
	m = &n->meters[n->nmeters++];
	m->id = id;
	m->meter = meter;
	m->device = device != NULL ? util_strdup(device) : NULL;
	m->prof = prof;
	for (i = 0; i < sp->ngroups; i++)
		if (strcmp(sp->groups[i], group) == 0)
			return;
	sp->groups = util_reallocarray(sp->groups, sp->ngroups + 1, sizeof(*sp->groups));
	sp->groups[sp->ngroups++] = util_strdup(group);
}

const char *const *sparkplug_groups(const struct sparkplug *sp, size_t *n)
{
	*n = sp->ngroups;
	return (const char *const *)sp->groups;
}

bool sparkplug_topic(const char *topic)
{
	return strncmp(topic, NS, strlen(NS)) == 0;
}

/* Cut copy (a writable copy of the topic) into its levels; -1 when it is
 * not a Sparkplug B topic of a node or device. */
static int parse_topic(char *copy, struct sp_topic *t)
{
	static const struct {
		const char *name;
		enum sp_type type;
		bool device;
	} types[] = {
		{ "NBIRTH", T_NBIRTH, false }, { "NDEATH", T_NDEATH, false },
		{ "NDATA", T_NDATA, false },   { "NCMD", T_OTHER, false },
		{ "DBIRTH", T_DBIRTH, true },  { "DDEATH", T_DDEATH, true },
		{ "DDATA", T_DDATA, true },    { "DCMD", T_OTHER, true },
	};
	char *lv[6], *p = copy + strlen(NS);
	size_t n = 0, i;

	if (strncmp(copy, NS, strlen(NS)) != 0)
		return -1;
	while (n < UTIL_ARRAY_LEN(lv)) {
		lv[n++] = p;
		p = strchr(p, '/');
		if (p == NULL)
			break;
		*p++ = '\0';
	}
	if (p != NULL)
		return -1; /* too many levels */
	memset(t, 0, sizeof(*t));
	if (n >= 1 && strcmp(lv[0], "STATE") == 0) {
		t->type = T_OTHER;
		return 0;
	}
	if (n < 3)
		return -1;
	for (i = 0; i < UTIL_ARRAY_LEN(types); i++) {
		if (strcmp(lv[1], types[i].name) != 0)
			continue;
		if (n != (types[i].device ? 4u : 3u))
			return -1;
		t->type = types[i].type;
		t->group = lv[0];
		t->node = lv[2];
		t->device = types[i].device ? lv[3] : NULL;
		for (n = 0; n < (types[i].device ? 4u : 3u); n++)
			if (lv[n][0] == '\0')
				return -1;
		return 0;
	}
	return -1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) UTIL_PRINTF(3, 4);

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	util_vsanitizef(err, errlen, fmt, ap);
	va_end(ap);
}

static void event(const struct sparkplug_out *out, const char *what, const char *fmt, ...)
	UTIL_PRINTF(3, 4);

static void event(const struct sparkplug_out *out, const char *what, const char *fmt, ...)
{
	char text[232];
	va_list ap;

	if (out == NULL || out->event == NULL)
		return;
	va_start(ap, fmt);
	util_vsanitizef(text, sizeof(text), fmt, ap);
	va_end(ap);
	out->event(out->ctx, what, text);
}

/*
 * Ask the node for a rebirth unless it was asked lately. The request made
 * when the host comes online (once per subscription) neither waits for nor
 * starts that delay: a gap found a second later still asks.
 */
static void ask_rebirth(struct sp_node *n, int64_t t_us, bool replayed, bool online,
			const struct sparkplug_out *out, const char *why)
{
	char *topic;

	if (replayed || (!online && n->rebirth_us != 0 &&
			 t_us - n->rebirth_us < SPARKPLUG_REBIRTH_EVERY_US && t_us >= n->rebirth_us))
		return;
	if (!online)
		n->rebirth_us = t_us;
	event(out, "rebirth", "asked %s/%s for a rebirth: %s", n->group, n->node, why);
	if (out == NULL || out->rebirth == NULL)
		return;
	topic = util_printf(NS "%s/NCMD/%s", n->group, n->node);
	out->rebirth(out->ctx, topic);
	free(topic);
}

void sparkplug_online(struct sparkplug *sp, int64_t t_us, const struct sparkplug_out *out)
{
	size_t i;

	for (i = 0; i < sp->nnodes; i++)
		if (!sp->nodes[i].born)
			ask_rebirth(&sp->nodes[i], t_us, false, true, out,
				    "no birth certificate seen since the host came online");
}

static const struct sp_alias *find_alias(const struct sp_node *n, uint64_t alias)
{
	size_t i;

	for (i = 0; i < n->naliases; i++)
		if (n->aliases[i].alias == alias)
			return &n->aliases[i];
	return NULL;
}

/* Record the aliases a birth defines (device NULL: NBIRTH). */
static void learn_aliases(struct sp_node *n, const Payload *pl, const char *device)
{
	size_t i;

	for (i = 0; i < pl->n_metrics; i++) {
		const Metric *m = pl->metrics[i];
		struct sp_alias *a;

		if (m == NULL || !m->has_alias || m->name == NULL)
			continue;
		/* a later definition of the same alias replaces the earlier one */
		a = (struct sp_alias *)find_alias(n, m->alias);
		if (a != NULL) {
			free(a->device);
			free(a->name);
		} else {
			n->aliases = util_reallocarray(n->aliases, n->naliases + 1,
						       sizeof(*n->aliases));
			a = &n->aliases[n->naliases++];
		}
		a->alias = m->alias;
		a->device = device != NULL ? util_strdup(device) : NULL;
		a->name = util_strdup(m->name);
		a->datatype = m->has_datatype ? m->datatype : 0;
	}
}

/* The metric's value as a double; false when it has none phasor reads. */
static bool metric_value(const Metric *m, uint32_t datatype, double *v)
{
	switch (m->value_case) {
	case PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_INT_VALUE:
		switch (datatype) {
		case SP_INT8:
			*v = (int8_t)(uint8_t)m->int_value;
			break;
		case SP_INT16:
			*v = (int16_t)(uint16_t)m->int_value;
			break;
		case SP_INT32:
			*v = (int32_t)m->int_value;
			break;
		default:
			*v = m->int_value;
			break;
		}
		return true;
	case PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE:
		*v = datatype == SP_INT64 ? (double)(int64_t)m->long_value : (double)m->long_value;
		return true;
	case PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_FLOAT_VALUE:
		*v = m->float_value;
		return true;
	case PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE:
		*v = m->double_value;
		return true;
	case PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE:
		*v = m->boolean_value ? 1 : 0;
		return true;
	default:
		return false;
	}
}

/* ms since the epoch as us; 0 when absent or out of range. */
static int64_t ms_to_us(bool has, uint64_t ms)
{
	if (!has || ms == 0 || ms > (uint64_t)(INT64_MAX / 1000))
		return 0;
	return (int64_t)ms * 1000;
}

static void push_sample(struct sparkplug *sp, size_t *n, int64_t t, uint32_t meter, int qty,
			double value, double scale, bool null)
{
	struct sample *s;

	if (*n == sp->bufcap) {
		sp->bufcap = sp->bufcap ? sp->bufcap * 2 : 32;
		sp->buf = util_reallocarray(sp->buf, sp->bufcap, sizeof(*sp->buf));
	}
	s = &sp->buf[(*n)++];
	memset(s, 0, sizeof(*s));
	s->t_us = t;
	s->meter = meter;
	s->qty = (uint16_t)qty;
	s->value = null ? NAN : payload_scale(value, scale);
	s->quality = null ? QUALITY_BAD : (uint8_t)qty_quality((unsigned)qty, s->value);
}

static const struct profile_field *mapped(const struct profile *prof, const char *name)
{
	size_t i;

	for (i = 0; prof != NULL && i < prof->nfields; i++)
		if (prof->fields[i].qty >= 0 && strcmp(prof->fields[i].path, name) == 0)
			return &prof->fields[i];
	return NULL;
}

static bool same_device(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* How many metrics of pl name only an alias no birth of device defined. */
static size_t unknown_aliases(const struct sp_node *n, const Payload *pl, const char *device)
{
	size_t i, unknown = 0;

	for (i = 0; i < pl->n_metrics; i++) {
		const Metric *m = pl->metrics[i];
		const struct sp_alias *a;

		if (m == NULL || m->name != NULL || !m->has_alias)
			continue;
		a = find_alias(n, m->alias);
		if (a == NULL || !same_device(a->device, device))
			unknown++;
	}
	return unknown;
}

/* Does a meter read device (NULL: the node's metrics)? */
static bool device_read(const struct sp_node *n, const char *device)
{
	size_t k;

	for (k = 0; k < n->nmeters; k++)
		if (same_device(n->meters[k].device, device))
			return true;
	return false;
}

/* The metrics of pl for device (NULL: the node) as samples of the meters
 * that map them. */
static void metrics_to_samples(struct sparkplug *sp, struct sp_node *n, const Payload *pl,
			       const char *device, int64_t t_us, const struct sparkplug_out *out)
{
	int64_t t_pl = ms_to_us(pl->has_timestamp, pl->timestamp);
	size_t i, k;

	for (k = 0; k < n->nmeters; k++) {
		const struct sp_meter *mt = &n->meters[k];
		size_t ns = 0;

		if (!same_device(mt->device, device))
			continue;
		for (i = 0; i < pl->n_metrics; i++) {
			const Metric *m = pl->metrics[i];
			const struct sp_alias *a = NULL;
			const struct profile_field *f;
			const char *name;
			uint32_t dt;
			int64_t t;
			double v = 0;
			bool null;

			if (m == NULL || (m->name == NULL && !m->has_alias))
				continue; /* neither named nor aliased: nothing to map */
			if (m->name == NULL) {
				a = find_alias(n, m->alias);
				if (a == NULL || !same_device(a->device, device))
					continue; /* counted by unknown_aliases */
			}
			name = m->name != NULL ? m->name : a->name;
			f = mapped(mt->prof, name);
			if (f == NULL)
				continue;
			if (a == NULL && m->has_alias)
				a = find_alias(n, m->alias);
			dt = m->has_datatype ? m->datatype : a != NULL ? a->datatype : 0;
			null = m->has_is_null && m->is_null;
			if (!null && !metric_value(m, dt, &v))
				continue; /* a string, bytes, a dataset...: not a number */
			t = ms_to_us(m->has_timestamp, m->timestamp);
			if (t == 0)
				t = t_pl != 0 ? t_pl : t_us;
			push_sample(sp, &ns, t, mt->meter, f->qty, v, f->scale, null);
		}
		if (ns > 0 && out != NULL && out->samples != NULL)
			out->samples(out->ctx, mt->id, sp->buf, ns);
	}
}

/* Tell the state of the meters of device (all: every meter of the node). */
static void meters_state(const struct sp_node *n, bool all, const char *device, bool alive,
			 const char *why, const struct sparkplug_out *out)
{
	size_t k;

	if (out == NULL || out->state == NULL)
		return;
	for (k = 0; k < n->nmeters; k++)
		if (all || same_device(n->meters[k].device, device))
			out->state(out->ctx, n->meters[k].id, alive, why);
}

static bool bdseq_of(const Payload *pl, uint64_t *v)
{
	size_t i;

	for (i = 0; i < pl->n_metrics; i++) {
		const Metric *m = pl->metrics[i];

		if (m != NULL && m->name != NULL && strcmp(m->name, "bdSeq") == 0 &&
		    m->value_case == PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE) {
			*v = m->long_value;
			return true;
		}
	}
	return false;
}

/* The sequence number of a message after the NBIRTH: a gap asks for a rebirth. */
static void check_seq(struct sp_node *n, const Payload *pl, int64_t t_us, bool replayed,
		      const struct sparkplug_out *out)
{
	int got;

	if (!pl->has_seq)
		return;
	got = (int)(pl->seq & 0xff);
	if (pl->seq <= 255 && n->expected != SEQ_UNKNOWN && got != n->expected && !replayed) {
		char why[64];

		event(out, "seq_gap", "%s/%s: sequence gap: expected %d, got %d (data may be lost)",
		      n->group, n->node, n->expected, got);
		snprintf(why, sizeof(why), "sequence gap (expected %d, got %d)", n->expected, got);
		ask_rebirth(n, t_us, replayed, false, out, why);
	}
	n->expected = (got + 1) & 0xff;
}

enum payload_status sparkplug_decode(struct sparkplug *sp, const char *topic, const void *payload,
				     size_t len, int64_t t_us, bool replayed,
				     const struct sparkplug_out *out, char *err, size_t errlen)
{
	enum payload_status st = PAYLOAD_OK;
	char *copy = util_strdup(topic);
	struct sp_topic t;
	struct sp_node *n;
	Payload *pl = NULL;
	size_t unknown;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (parse_topic(copy, &t) < 0) {
		set_err(err, errlen, "not a Sparkplug B node or device topic");
		st = PAYLOAD_MALFORMED;
		goto out;
	}
	if (t.type == T_OTHER) {
		st = PAYLOAD_UNKNOWN_TOPIC; /* commands and host states: not data */
		goto out;
	}
	n = find_node(sp, t.group, t.node);
	if (n == NULL) {
		set_err(err, errlen, "no meter reads node %s/%s", t.group, t.node);
		st = PAYLOAD_UNKNOWN_TOPIC;
		goto out;
	}
	pl = phasor__sparkplug__payload__unpack(NULL, len, payload);
	if (pl == NULL) {
		set_err(err, errlen, "not a Sparkplug B payload (protobuf)");
		st = PAYLOAD_MALFORMED;
		goto out;
	}

	switch (t.type) {
	case T_NBIRTH:
		n->born = true;
		n->expected = pl->has_seq ? (int)((pl->seq + 1) & 0xff) : SEQ_UNKNOWN;
		n->has_bdseq = bdseq_of(pl, &n->bdseq);
		drop_aliases(n, true, NULL);
		learn_aliases(n, pl, NULL);
		meters_state(n, false, NULL, true, NULL, out);
		metrics_to_samples(sp, n, pl, NULL, t_us, out);
		break;
	case T_NDEATH: {
		uint64_t bd;

		if (n->born && n->has_bdseq && bdseq_of(pl, &bd) && bd != n->bdseq) {
			set_err(err, errlen, "NDEATH of an earlier session (bdSeq %llu, born with %llu)",
				(unsigned long long)bd, (unsigned long long)n->bdseq);
			break; /* the will of a connection the node has replaced */
		}
		n->born = false;
		n->expected = SEQ_UNKNOWN;
		drop_aliases(n, true, NULL);
		meters_state(n, true, NULL, false, "NDEATH", out);
		break;
	}
	case T_DBIRTH:
	case T_DDEATH:
	case T_NDATA:
	case T_DDATA:
		if (!n->born) {
			set_err(err, errlen, "%s/%s sent data before its NBIRTH", t.group, t.node);
			ask_rebirth(n, t_us, replayed, false, out, "data before a birth certificate");
			st = PAYLOAD_NO_BIRTH;
			break;
		}
		check_seq(n, pl, t_us, replayed, out);
		if (t.type == T_DDEATH) {
			meters_state(n, false, t.device, false, "DDEATH", out);
			break;
		}
		if (t.type == T_DBIRTH) {
			drop_aliases(n, false, t.device);
			learn_aliases(n, pl, t.device);
			meters_state(n, false, t.device, true, NULL, out);
		}
		if (!device_read(n, t.device)) {
			st = PAYLOAD_UNKNOWN_TOPIC; /* another device of a node we read */
			break;
		}
		metrics_to_samples(sp, n, pl, t.device, t_us, out);
		unknown = unknown_aliases(n, pl, t.device);
		if (unknown > 0) {
			set_err(err, errlen, "%zu metric(s) by an alias no birth defined", unknown);
			ask_rebirth(n, t_us, replayed, false, out, "an alias no birth certificate defined");
			if (unknown == pl->n_metrics)
				st = PAYLOAD_NO_BIRTH;
		}
		break;
	case T_OTHER:
		break;
	}
out:
	if (pl != NULL)
		phasor__sparkplug__payload__free_unpacked(pl, NULL);
	free(copy);
	return st;
}

uint8_t *sparkplug_rebirth_payload(int64_t t_us, size_t *len)
{
	Payload pl = PHASOR__SPARKPLUG__PAYLOAD__INIT;
	Metric m = PHASOR__SPARKPLUG__PAYLOAD__METRIC__INIT;
	Metric *ms[1] = { &m };
	uint8_t *buf;

	pl.has_timestamp = true;
	pl.timestamp = t_us > 0 ? (uint64_t)(t_us / 1000) : 0;
	pl.n_metrics = 1;
	pl.metrics = ms;
	m.name = (char *)(uintptr_t)"Node Control/Rebirth";
	m.has_timestamp = true;
	m.timestamp = pl.timestamp;
	m.has_datatype = true;
	m.datatype = SP_BOOLEAN;
	m.value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE;
	m.boolean_value = true;
	*len = phasor__sparkplug__payload__get_packed_size(&pl);
	buf = util_malloc(*len ? *len : 1);
	phasor__sparkplug__payload__pack(&pl, buf);
	return buf;
}

char *sparkplug_state_topic(const char *host_id)
{
	return util_printf(NS "STATE/%s", host_id);
}

char *sparkplug_state_payload(bool online, int64_t t_ms)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *out;

	if (o == NULL)
		util_fail("out of memory");
	cJSON_AddBoolToObject(o, "online", online);
	/* a double holds every millisecond up to 2^53: 285,000 years */
	cJSON_AddNumberToObject(o, "timestamp", (double)t_ms);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL)
		util_fail("out of memory");
	out = util_strdup(text);
	cJSON_free(text);
	return out;
}
