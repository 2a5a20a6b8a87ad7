// SPDX-License-Identifier: MIT
/*
 * Unit tests of sparkplug.c: payloads built here with protobuf-c, decoded
 * against hand-built profiles; what each rule asks of the caller (samples,
 * meter states, events, rebirth requests) is recorded and checked.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sparkplug_b.pb-c.h"

#include "phasor/payload.h"
#include "phasor/profile.h"
#include "phasor/sparkplug.h"
#include "phasor/util.h"

typedef Phasor__Sparkplug__Payload Payload;
typedef Phasor__Sparkplug__Payload__Metric Metric;

#define F(p, q, sc) { .path = (char *)(p), .qty = (q), .phase_qty = { -1, -1, -1 }, .scale = (sc) }

static struct profile_field em_fields[] = {
	F("Voltage L1", QTY_V_L1N, 1), F("Power", QTY_P_TOTAL, 1000), F("Energy", QTY_E_IMP, 1),
	F("Frequency", QTY_FREQ, 1),   F("Current/L1", QTY_I_L1, 1),
};
static struct profile em = { .name = (char *)"em", .driver = PROFILE_SPARKPLUG,
			     .fields = em_fields, .nfields = 5 };
static struct profile_field node_fields[] = { F("Temperature", QTY_TEMP, 1) };
static struct profile nodep = { .name = (char *)"node", .driver = PROFILE_SPARKPLUG,
				.fields = node_fields, .nfields = 1 };

/* ---- what the decoder asked for ---------------------------------------- */

struct rec {
	struct sample s[64];
	int id[64];
	size_t ns;
	int state_id[16];
	bool alive[16];
	char why[16][16];
	size_t nstates;
	char events[8][240];
	size_t nevents;
	char rebirth[8][128];
	size_t nrebirths;
};

static void on_samples(void *ctx, int id, const struct sample *s, size_t n)
{
	struct rec *r = ctx;
	size_t i;

	for (i = 0; i < n && r->ns < 64; i++) {
		r->id[r->ns] = id;
		r->s[r->ns++] = s[i];
	}
}

static void on_state(void *ctx, int id, bool alive, const char *why)
{
	struct rec *r = ctx;

	r->state_id[r->nstates] = id;
	r->alive[r->nstates] = alive;
	snprintf(r->why[r->nstates++], sizeof(r->why[0]), "%s", why != NULL ? why : "");
}

static void on_event(void *ctx, const char *what, const char *text)
{
	struct rec *r = ctx;

	snprintf(r->events[r->nevents++ % 8], sizeof(r->events[0]), "%s: %s", what, text);
}

static void on_rebirth(void *ctx, const char *topic)
{
	struct rec *r = ctx;

	snprintf(r->rebirth[r->nrebirths++ % 8], sizeof(r->rebirth[0]), "%s", topic);
}

static struct rec rec;
static const struct sparkplug_out out = {
	.ctx = &rec, .samples = on_samples, .state = on_state, .event = on_event,
	.rebirth = on_rebirth,
};

/* Meters: 0 EM1 of G/N1, 1 EM2 of G/N1, 2 the node N1, 3 the node N2. */
static struct sparkplug *setup_sp(void)
{
	struct sparkplug *sp = sparkplug_new();

	sparkplug_add_meter(sp, 0, 10, "G", "N1", "EM1", &em);
	sparkplug_add_meter(sp, 1, 11, "G", "N1", "EM2", &em);
	sparkplug_add_meter(sp, 2, 12, "G", "N1", NULL, &nodep);
	sparkplug_add_meter(sp, 3, 13, "G", "N2", NULL, &nodep);
	memset(&rec, 0, sizeof(rec));
	return sp;
}

/* ---- building payloads -------------------------------------------------- */

struct msg {
	Payload pl;
	Metric m[8];
	Metric *mp[8];
};

static void msg_init(struct msg *m, int seq, uint64_t ts)
{
	memset(m, 0, sizeof(*m));
	phasor__sparkplug__payload__init(&m->pl);
	if (seq >= 0) {
		m->pl.has_seq = 1;
		m->pl.seq = (uint64_t)seq;
	}
	if (ts != 0) {
		m->pl.has_timestamp = 1;
		m->pl.timestamp = ts;
	}
	m->pl.metrics = m->mp;
}

/* Add a metric: name may be NULL (by alias only), alias < 0: none, dt 0: none. */
static Metric *add(struct msg *m, const char *name, int alias, uint32_t dt)
{
	Metric *x = &m->m[m->pl.n_metrics];

	phasor__sparkplug__payload__metric__init(x);
	x->name = (char *)(uintptr_t)name;
	if (alias >= 0) {
		x->has_alias = 1;
		x->alias = (uint64_t)alias;
	}
	if (dt != 0) {
		x->has_datatype = 1;
		x->datatype = dt;
	}
	m->mp[m->pl.n_metrics++] = x;
	return x;
}

static Metric *add_double(struct msg *m, const char *name, int alias, double v)
{
	Metric *x = add(m, name, alias, SP_DOUBLE);

	x->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE;
	x->double_value = v;
	return x;
}

static Metric *add_int(struct msg *m, const char *name, int alias, uint32_t dt, uint32_t v)
{
	Metric *x = add(m, name, alias, dt);

	x->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_INT_VALUE;
	x->int_value = v;
	return x;
}

static void add_bdseq(struct msg *m, uint64_t v)
{
	Metric *x = add(m, "bdSeq", -1, SP_UINT64);

	x->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE;
	x->long_value = v;
}

static enum payload_status send_msg(struct sparkplug *sp, const char *topic, struct msg *m,
				    int64_t t_us)
{
	size_t len = phasor__sparkplug__payload__get_packed_size(&m->pl);
	uint8_t *buf = util_malloc(len + 1);
	char err[160];
	enum payload_status st;

	phasor__sparkplug__payload__pack(&m->pl, buf);
	st = sparkplug_decode(sp, topic, buf, len, t_us, false, &out, err, sizeof(err));
	free(buf);
	return st;
}

#define T0 1796000000000ULL /* ms */
#define NOW 1796000100000000LL /* us */

/* NBIRTH (seq 0, bdSeq 3) and DBIRTHs of EM1 (aliases 10..13) and EM2 (20). */
static void births(struct sparkplug *sp)
{
	struct msg m;
	Metric *x;

	msg_init(&m, 0, T0);
	add_double(&m, "Temperature", 1, 21.5);
	add_bdseq(&m, 3);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NBIRTH/N1", &m, NOW), PAYLOAD_OK);
	msg_init(&m, 1, T0);
	add_double(&m, "Voltage L1", 10, 230.5);
	add_int(&m, "Power", 11, SP_INT16, 0xfffe);      /* -2 kW */
	x = add(&m, "Energy", 12, SP_INT64);
	x->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE;
	x->long_value = (uint64_t)-7;
	x = add(&m, "Frequency", 13, SP_FLOAT);
	x->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_FLOAT_VALUE;
	x->float_value = 50.25f;
	assert_int_equal(send_msg(sp, "spBv1.0/G/DBIRTH/N1/EM1", &m, NOW), PAYLOAD_OK);
	msg_init(&m, 2, T0);
	add_double(&m, "Voltage L1", 20, 231);
	assert_int_equal(send_msg(sp, "spBv1.0/G/DBIRTH/N1/EM2", &m, NOW), PAYLOAD_OK);
}

/* ---- tests -------------------------------------------------------------- */

static void test_births(void **state)
{
	struct sparkplug *sp = setup_sp();
	size_t n;

	(void)state;
	births(sp);
	assert_int_equal(rec.ns, 6);
	/* the node's temperature, for meter 2 */
	assert_int_equal(rec.id[0], 2);
	assert_int_equal(rec.s[0].meter, 12);
	assert_int_equal(rec.s[0].qty, QTY_TEMP);
	assert_true(rec.s[0].value == 21.5);
	assert_int_equal(rec.s[0].t_us, (int64_t)T0 * 1000);
	/* EM1: signed types, the scale, a float */
	assert_int_equal(rec.id[1], 0);
	assert_true(rec.s[1].value == 230.5);
	assert_int_equal(rec.s[2].qty, QTY_P_TOTAL);
	assert_true(rec.s[2].value == -2000);
	assert_true(rec.s[3].value == -7);
	assert_true(rec.s[4].value == 50.25);
	assert_int_equal(rec.s[4].quality, QUALITY_GOOD);
	assert_int_equal(rec.id[5], 1);
	/* the node's meter, then each device's, up */
	assert_int_equal(rec.nstates, 3);
	assert_int_equal(rec.state_id[0], 2);
	assert_true(rec.alive[0] && rec.alive[1] && rec.alive[2]);
	assert_int_equal(rec.nevents, 0);
	assert_int_equal(rec.nrebirths, 0);
	assert_int_equal(sparkplug_groups(sp, &n)[0][0], 'G');
	assert_int_equal(n, 1);
	sparkplug_free(sp);
}

static void test_data_by_alias(void **state)
{
	struct sparkplug *sp = setup_sp();
	struct msg m;
	Metric *x;

	(void)state;
	births(sp);
	rec.ns = 0;
	msg_init(&m, 3, T0 + 1000);
	x = add_double(&m, NULL, 10, 232.25);
	x->has_timestamp = 1;
	x->timestamp = T0 + 1500;                       /* the metric's own time */
	add_int(&m, NULL, 11, 0, 0xfffffffd);            /* data type from the birth: int16 -3 */
	x = add(&m, NULL, 13, 0);
	x->has_is_null = 1;
	x->is_null = 1;
	add_double(&m, "Current/L1", -1, 4.5);           /* by name, no alias */
	assert_int_equal(send_msg(sp, "spBv1.0/G/DDATA/N1/EM1", &m, NOW), PAYLOAD_OK);
	assert_int_equal(rec.ns, 4);
	assert_true(rec.s[0].value == 232.25);
	assert_int_equal(rec.s[0].t_us, (int64_t)(T0 + 1500) * 1000);
	assert_true(rec.s[1].value == -3000);
	assert_int_equal(rec.s[1].t_us, (int64_t)(T0 + 1000) * 1000); /* the payload's */
	assert_true(isnan(rec.s[2].value));
	assert_int_equal(rec.s[2].quality, QUALITY_BAD);
	assert_int_equal(rec.s[3].qty, QTY_I_L1);
	/* no timestamp anywhere: the time of receipt */
	rec.ns = 0;
	msg_init(&m, 4, 0);
	add_double(&m, NULL, 20, 229);
	add_double(&m, NULL, -1, 1); /* neither named nor aliased: skipped */
	assert_int_equal(send_msg(sp, "spBv1.0/G/DDATA/N1/EM2", &m, NOW), PAYLOAD_OK);
	assert_int_equal(rec.ns, 1);
	assert_int_equal(rec.s[0].t_us, NOW);
	assert_int_equal(rec.id[0], 1);
	/* EM1's alias is not EM2's: unknown there, a rebirth is asked */
	msg_init(&m, 5, 0);
	add_double(&m, NULL, 10, 1);
	assert_int_equal(send_msg(sp, "spBv1.0/G/DDATA/N1/EM2", &m, NOW), PAYLOAD_NO_BIRTH);
	assert_int_equal(rec.nrebirths, 1);
	assert_string_equal(rec.rebirth[0], "spBv1.0/G/NCMD/N1");
	assert_int_equal(rec.nevents, 1);
	sparkplug_free(sp);
}

static void test_seq(void **state)
{
	struct sparkplug *sp = setup_sp();
	struct msg m;
	int i;

	(void)state;
	births(sp);
	/* 3..255 then 0: no gap */
	for (i = 3; i <= 256; i++) {
		msg_init(&m, i & 0xff, 0);
		add_double(&m, NULL, 1, i);
		assert_int_equal(send_msg(sp, "spBv1.0/G/NDATA/N1", &m, NOW), PAYLOAD_OK);
	}
	assert_int_equal(rec.nevents, 0);
	/* expected 1, got 5: an event and a rebirth */
	msg_init(&m, 5, 0);
	add_double(&m, NULL, 1, 1);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDATA/N1", &m, NOW), PAYLOAD_OK);
	assert_int_equal(rec.nrebirths, 1);
	assert_int_equal(rec.nevents, 2);
	assert_non_null(strstr(rec.events[0], "seq_gap: G/N1: sequence gap: expected 1, got 5"));
	assert_non_null(strstr(rec.events[1], "rebirth: asked G/N1 for a rebirth"));
	/* another gap a second later: its event, no second request yet */
	msg_init(&m, 9, 0);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDATA/N1", &m, NOW + 1000000), PAYLOAD_OK);
	assert_int_equal(rec.nevents, 3);
	assert_int_equal(rec.nrebirths, 1);
	/* past SPARKPLUG_REBIRTH_EVERY_US: asked again */
	msg_init(&m, 20, 0);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDATA/N1", &m, NOW + SPARKPLUG_REBIRTH_EVERY_US),
			 PAYLOAD_OK);
	assert_int_equal(rec.nrebirths, 2);
	/* the NBIRTH resets the sequence */
	msg_init(&m, 0, 0);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NBIRTH/N1", &m, NOW), PAYLOAD_OK);
	msg_init(&m, 1, 0);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDATA/N1", &m, NOW), PAYLOAD_OK);
	assert_int_equal(rec.nevents, 5);
	sparkplug_free(sp);
}

static void test_before_birth(void **state)
{
	struct sparkplug *sp = setup_sp();
	struct msg m;

	(void)state;
	msg_init(&m, 7, 0);
	add_double(&m, "Temperature", -1, 5);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDATA/N2", &m, NOW), PAYLOAD_NO_BIRTH);
	assert_int_equal(rec.ns, 0);
	assert_int_equal(rec.nrebirths, 1);
	assert_string_equal(rec.rebirth[0], "spBv1.0/G/NCMD/N2");
	/* replayed from the journal: nothing asked */
	{
		size_t len = phasor__sparkplug__payload__get_packed_size(&m.pl);
		uint8_t *buf = util_malloc(len);

		phasor__sparkplug__payload__pack(&m.pl, buf);
		assert_int_equal(sparkplug_decode(sp, "spBv1.0/G/NDATA/N2", buf, len,
						  NOW + 10 * SPARKPLUG_REBIRTH_EVERY_US, true, &out,
						  NULL, 0),
				 PAYLOAD_NO_BIRTH);
		free(buf);
	}
	assert_int_equal(rec.nrebirths, 1);
	sparkplug_free(sp);
}

/* Online: every node not born is asked, without holding later requests back. */
static void test_online(void **state)
{
	struct sparkplug *sp = setup_sp();
	struct msg m;

	(void)state;
	msg_init(&m, 0, 0);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NBIRTH/N1", &m, NOW), PAYLOAD_OK);
	sparkplug_online(sp, NOW, &out);
	assert_int_equal(rec.nrebirths, 1);
	assert_string_equal(rec.rebirth[0], "spBv1.0/G/NCMD/N2");
	assert_non_null(strstr(rec.events[0], "since the host came online"));
	msg_init(&m, 3, 0);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDATA/N2", &m, NOW + 1000), PAYLOAD_NO_BIRTH);
	assert_int_equal(rec.nrebirths, 2);
	sparkplug_free(sp);
}

static void test_deaths(void **state)
{
	struct sparkplug *sp = setup_sp();
	struct msg m;

	(void)state;
	births(sp);
	rec.nstates = 0;
	/* DDEATH of EM2: only meter 1 */
	msg_init(&m, 3, 0);
	assert_int_equal(send_msg(sp, "spBv1.0/G/DDEATH/N1/EM2", &m, NOW), PAYLOAD_OK);
	assert_int_equal(rec.nstates, 1);
	assert_int_equal(rec.state_id[0], 1);
	assert_false(rec.alive[0]);
	assert_string_equal(rec.why[0], "DDEATH");
	/* an NDEATH of an earlier session (bdSeq 2, born with 3): ignored */
	msg_init(&m, -1, 0);
	add_bdseq(&m, 2);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDEATH/N1", &m, NOW), PAYLOAD_OK);
	assert_int_equal(rec.nstates, 1);
	/* this session's: every meter of N1 down, N2's untouched */
	msg_init(&m, -1, 0);
	add_bdseq(&m, 3);
	assert_int_equal(send_msg(sp, "spBv1.0/G/NDEATH/N1", &m, NOW), PAYLOAD_OK);
	assert_int_equal(rec.nstates, 4);
	assert_string_equal(rec.why[1], "NDEATH");
	assert_true(rec.state_id[1] == 0 && rec.state_id[2] == 1 && rec.state_id[3] == 2);
	/* the aliases went with it */
	msg_init(&m, 4, 0);
	add_double(&m, NULL, 10, 1);
	assert_int_equal(send_msg(sp, "spBv1.0/G/DDATA/N1/EM1", &m, NOW), PAYLOAD_NO_BIRTH);
	sparkplug_free(sp);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *topic;
		enum payload_status st;
	} topics[] = {
		{ "spBv1.0/G/NDATA", PAYLOAD_MALFORMED },
		{ "spBv1.0/G/DDATA/N1", PAYLOAD_MALFORMED },
		{ "spBv1.0/G/NDATA/N1/EM1", PAYLOAD_MALFORMED },
		{ "spBv1.0/G/XDATA/N1", PAYLOAD_MALFORMED },
		{ "spBv1.0/G/NDATA/N1/a/b/c", PAYLOAD_MALFORMED },
		{ "spBv1.0//NDATA/N1", PAYLOAD_MALFORMED },
		{ "spBv1.0/G/NCMD/N1", PAYLOAD_UNKNOWN_TOPIC },
		{ "spBv1.0/G/DCMD/N1/EM1", PAYLOAD_UNKNOWN_TOPIC },
		{ "spBv1.0/STATE/host1", PAYLOAD_UNKNOWN_TOPIC },
		{ "spBv1.0/G/NDATA/N9", PAYLOAD_UNKNOWN_TOPIC },
		{ "spBv1.0/H/NDATA/N1", PAYLOAD_UNKNOWN_TOPIC },
	};
	static const uint8_t junk[] = { 0xff, 0xff, 0x01, 0x02 };
	struct sparkplug *sp = setup_sp();
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(topics); i++)
		assert_int_equal(sparkplug_decode(sp, topics[i].topic, "", 0, NOW, false, &out, err,
						  sizeof(err)),
				 topics[i].st);
	assert_int_equal(sparkplug_decode(sp, "spBv1.0/G/NBIRTH/N1", junk, sizeof(junk), NOW, false,
					  &out, err, sizeof(err)),
			 PAYLOAD_MALFORMED);
	assert_string_equal(err, "not a Sparkplug B payload (protobuf)");
	/* an error naming the network's text is sanitized */
	assert_int_equal(sparkplug_decode(sp, "spBv1.0/G/NDATA/\x1b[2J", "", 0, NOW, false, &out,
					  err, sizeof(err)),
			 PAYLOAD_UNKNOWN_TOPIC);
	assert_null(strchr(err, '\x1b'));
	assert_true(sparkplug_topic("spBv1.0/G/NDATA/N1"));
	assert_false(sparkplug_topic("spAv1.0/G/NDATA/N1"));
	assert_int_equal(rec.ns + rec.nstates + rec.nrebirths, 0);
	sparkplug_free(sp);
}

/* The host STATE (Sparkplug 3.0): topic and JSON, the timestamp exact in ms. */
static void test_state_payload(void **state)
{
	char *t = sparkplug_state_topic("scada-1"), *on = sparkplug_state_payload(true, 1796662292587),
	     *off = sparkplug_state_payload(false, 1796662292587);

	(void)state;
	assert_string_equal(t, "spBv1.0/STATE/scada-1");
	assert_string_equal(on, "{\"online\":true,\"timestamp\":1796662292587}");
	assert_string_equal(off, "{\"online\":false,\"timestamp\":1796662292587}");
	free(t);
	free(on);
	free(off);
	off = sparkplug_state_payload(false, 0);
	assert_string_equal(off, "{\"online\":false,\"timestamp\":0}");
	free(off);
}

static void test_rebirth_payload(void **state)
{
	size_t len;
	uint8_t *buf = sparkplug_rebirth_payload(NOW, &len);
	Payload *pl = phasor__sparkplug__payload__unpack(NULL, len, buf);

	(void)state;
	assert_non_null(pl);
	assert_int_equal(pl->timestamp, NOW / 1000);
	assert_int_equal(pl->n_metrics, 1);
	assert_string_equal(pl->metrics[0]->name, "Node Control/Rebirth");
	assert_int_equal(pl->metrics[0]->datatype, SP_BOOLEAN);
	assert_int_equal(pl->metrics[0]->value_case,
			 PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE);
	assert_true(pl->metrics[0]->boolean_value);
	phasor__sparkplug__payload__free_unpacked(pl, NULL);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_births),	       cmocka_unit_test(test_data_by_alias),
		cmocka_unit_test(test_seq),	       cmocka_unit_test(test_before_birth),
		cmocka_unit_test(test_deaths),	       cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_rebirth_payload), cmocka_unit_test(test_online),
		cmocka_unit_test(test_state_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
