// SPDX-License-Identifier: MIT
/*
 * Unit tests of the alarm engine, on a fake clock: the ISA-18.2 transition
 * table (one row per state x action: state after, event made, operator
 * refusals with their messages), deadband and on/off delays at exact
 * microsecond boundaries, re-alarm, chattering, events of other consoles
 * (ids applied once, the grace rule of acks, own events ignored), restore
 * from journal rows, the built-in set evaluated on a real live state
 * (overload, comm loss suppressing value alarms, the L-L limits), the
 * EEMUA 191 figures, the banner counts and the per-meter priority.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/alarm.h"
#include "phasor/config.h"
#include "phasor/diag.h"
#include "phasor/live.h"
#include "phasor/store.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define MS INT64_C(1000)
#define S INT64_C(1000000)
/* 2023-11-14T22:13:20Z: in the past, so live never finds it in the future. */
#define T0 (INT64_C(1700000000) * S)

#define assert_close(a, b)                                                                  \
	do {                                                                                \
		double a_ = (a), b_ = (b);                                                  \
		if (!(fabs(a_ - b_) <= 1e-9 * (fabs(b_) > 1 ? fabs(b_) : 1)))               \
			fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                \
	} while (0)

/* ---- fixture: a hand-made configuration and an event recorder ---------- */

#define MAX_EV 256

struct rec {
	struct alarm_event ev[MAX_EV];
	size_t n;      /* recorded (at most MAX_EV) */
	size_t total;  /* seen */
};

static void on_event(void *ctx, const struct alarm_event *ev)
{
	struct rec *r = ctx;

	if (r->n < MAX_EV)
		r->ev[r->n++] = *ev;
	r->total++;
}

static void rec_clear(struct rec *r)
{
	r->n = 0;
	r->total = 0;
}

static char *all_meters[] = { (char *)"*", NULL };

static struct alarm_def def_hi(void)
{
	struct alarm_def d = {
		.name = (char *)"hi",
		.meters = all_meters,
		.measure = AM_QTY,
		.qty = QTY_P_TOTAL,
		.quantity = (char *)"p_total",
		.type = LIMIT_HIGH,
		.limit = 100,
		.priority = PRIO_HIGH,
		.realarm_ms = 60000,
		.shelve_max_ms = 8 * 3600 * 1000,
		.message = (char *)"too high",
		.action = (char *)"lower it",
		.enabled = true,
		.line = 3,
	};
	return d;
}

struct fx {
	struct config_meter meters[3];
	struct alarm_def defs[4];
	struct config cfg;
	struct rec rec;
	struct alarm_engine *e;
};

static void fx_init(struct fx *f, size_t nmeters, size_t ndefs)
{
	static const char *const names[] = { "m1", "m2", "m3" };
	size_t i;

	for (i = 0; i < nmeters; i++)
		f->meters[i] = (struct config_meter){ .name = (char *)names[i],
						      .driver = DRIVER_MODBUS,
						      .poll_ms = 1000,
						      .nominal_voltage = 230,
						      .max_power = 50000 };
	f->cfg.meters = f->meters;
	f->cfg.nmeters = nmeters;
	f->cfg.site.nominal_freq = 50;
	f->cfg.site.target_pf = 0.95;
	f->cfg.alarms = ndefs > 0 ? f->defs : NULL;
	f->cfg.nalarms = ndefs;
	rec_clear(&f->rec);
}

static void fx_start(struct fx *f, const char *origin)
{
	f->e = alarm_engine_new(&f->cfg, origin, on_event, &f->rec);
}

static struct fx *fx_new(size_t nmeters)
{
	struct fx *f = util_calloc(1, sizeof(*f));

	f->defs[0] = def_hi();
	fx_init(f, nmeters, 1);
	return f;
}

static void fx_free(struct fx *f)
{
	alarm_engine_free(f->e);
	free(f);
}

static const struct alarm_event *last(const struct fx *f)
{
	return f->rec.n > 0 ? &f->rec.ev[f->rec.n - 1] : NULL;
}

/* ---- (a) the transition table ----------------------------------------- */

enum setup {
	SU_NORMAL, SU_UNACK, SU_ACK, SU_RTN_UNACK,
	SU_SHELVED_ACTIVE, SU_SHELVED_INACTIVE, SU_ONESHOT_ACTIVE, SU_ONESHOT_INACTIVE,
	SU_SUPPRESSED, SU_SUPPRESSED_ACTIVE, SU_OOS,
};
enum action {
	A_ACTIVE, A_INACTIVE, A_ACK, A_SHELVE, A_ONESHOT, A_UNSHELVE, A_SUPPRESS, A_UNSUPPRESS,
	A_EXPIRE, A_REALARM, A_NOTE,
};
#define NONE (-1)

struct trow {
	enum setup setup;
	enum action action;
	enum alarm_state want;
	int event;          /* enum alarm_event_kind or NONE */
	const char *err;    /* NULL: the action succeeds (operator actions) */
};

static const struct trow table[] = {
	/* normal */
	{ SU_NORMAL, A_ACTIVE, ALARM_UNACK, AEV_RAISE, NULL },
	{ SU_NORMAL, A_INACTIVE, ALARM_NORMAL, NONE, NULL },
	{ SU_NORMAL, A_ACK, ALARM_NORMAL, NONE, "nothing to acknowledge" },
	{ SU_NORMAL, A_SHELVE, ALARM_SHELVED, AEV_SHELVE, NULL },
	{ SU_NORMAL, A_ONESHOT, ALARM_SHELVED, AEV_SHELVE, NULL },
	{ SU_NORMAL, A_UNSHELVE, ALARM_NORMAL, NONE, "not shelved" },
	{ SU_NORMAL, A_SUPPRESS, ALARM_SUPPRESSED, AEV_SUPPRESS, NULL },
	{ SU_NORMAL, A_UNSUPPRESS, ALARM_NORMAL, NONE, NULL },
	{ SU_NORMAL, A_REALARM, ALARM_UNACK, AEV_RAISE, NULL },
	{ SU_NORMAL, A_NOTE, ALARM_NORMAL, AEV_NOTE, NULL },
	/* unack */
	{ SU_UNACK, A_ACTIVE, ALARM_UNACK, NONE, NULL },
	{ SU_UNACK, A_INACTIVE, ALARM_RTN_UNACK, AEV_CLEAR, NULL },
	{ SU_UNACK, A_ACK, ALARM_ACK, AEV_ACK, NULL },
	{ SU_UNACK, A_SHELVE, ALARM_SHELVED, AEV_SHELVE, NULL },
	{ SU_UNACK, A_ONESHOT, ALARM_SHELVED, AEV_SHELVE, NULL },
	{ SU_UNACK, A_UNSHELVE, ALARM_UNACK, NONE, "not shelved" },
	{ SU_UNACK, A_SUPPRESS, ALARM_SUPPRESSED, AEV_SUPPRESS, NULL },
	{ SU_UNACK, A_UNSUPPRESS, ALARM_UNACK, NONE, NULL },
	{ SU_UNACK, A_REALARM, ALARM_UNACK, NONE, NULL },
	{ SU_UNACK, A_NOTE, ALARM_UNACK, AEV_NOTE, NULL },
	/* ack */
	{ SU_ACK, A_ACTIVE, ALARM_ACK, NONE, NULL },
	{ SU_ACK, A_INACTIVE, ALARM_NORMAL, AEV_CLEAR, NULL },
	{ SU_ACK, A_ACK, ALARM_ACK, NONE, "nothing to acknowledge" },
	{ SU_ACK, A_SHELVE, ALARM_SHELVED, AEV_SHELVE, NULL },
	{ SU_ACK, A_UNSHELVE, ALARM_ACK, NONE, "not shelved" },
	{ SU_ACK, A_SUPPRESS, ALARM_SUPPRESSED, AEV_SUPPRESS, NULL },
	{ SU_ACK, A_REALARM, ALARM_UNACK, AEV_RAISE, NULL },
	{ SU_ACK, A_NOTE, ALARM_ACK, AEV_NOTE, NULL },
	/* returned to normal, unacknowledged */
	{ SU_RTN_UNACK, A_ACTIVE, ALARM_UNACK, AEV_RAISE, NULL },
	{ SU_RTN_UNACK, A_INACTIVE, ALARM_RTN_UNACK, NONE, NULL },
	{ SU_RTN_UNACK, A_ACK, ALARM_NORMAL, AEV_ACK, NULL },
	{ SU_RTN_UNACK, A_SHELVE, ALARM_SHELVED, AEV_SHELVE, NULL },
	{ SU_RTN_UNACK, A_SUPPRESS, ALARM_SUPPRESSED, AEV_SUPPRESS, NULL },
	{ SU_RTN_UNACK, A_NOTE, ALARM_RTN_UNACK, AEV_NOTE, NULL },
	/* shelved (timed), the condition active or not */
	{ SU_SHELVED_ACTIVE, A_ACTIVE, ALARM_SHELVED, NONE, NULL },
	{ SU_SHELVED_ACTIVE, A_INACTIVE, ALARM_SHELVED, NONE, NULL },
	{ SU_SHELVED_ACTIVE, A_ACK, ALARM_SHELVED, NONE, "nothing to acknowledge" },
	{ SU_SHELVED_ACTIVE, A_SHELVE, ALARM_SHELVED, AEV_SHELVE, NULL },
	{ SU_SHELVED_ACTIVE, A_UNSHELVE, ALARM_UNACK, AEV_UNSHELVE, NULL },
	{ SU_SHELVED_ACTIVE, A_EXPIRE, ALARM_UNACK, AEV_UNSHELVE, NULL },
	{ SU_SHELVED_ACTIVE, A_SUPPRESS, ALARM_SUPPRESSED, AEV_SUPPRESS, NULL },
	{ SU_SHELVED_ACTIVE, A_REALARM, ALARM_SHELVED, NONE, NULL },
	{ SU_SHELVED_ACTIVE, A_NOTE, ALARM_SHELVED, AEV_NOTE, NULL },
	{ SU_SHELVED_INACTIVE, A_ACTIVE, ALARM_SHELVED, NONE, NULL },
	{ SU_SHELVED_INACTIVE, A_UNSHELVE, ALARM_NORMAL, AEV_UNSHELVE, NULL },
	{ SU_SHELVED_INACTIVE, A_EXPIRE, ALARM_NORMAL, AEV_UNSHELVE, NULL },
	/* one-shot shelving: over when the condition clears */
	{ SU_ONESHOT_ACTIVE, A_ACTIVE, ALARM_SHELVED, NONE, NULL },
	{ SU_ONESHOT_ACTIVE, A_INACTIVE, ALARM_NORMAL, AEV_UNSHELVE, NULL },
	{ SU_ONESHOT_ACTIVE, A_EXPIRE, ALARM_SHELVED, NONE, NULL },
	{ SU_ONESHOT_ACTIVE, A_UNSHELVE, ALARM_UNACK, AEV_UNSHELVE, NULL },
	{ SU_ONESHOT_INACTIVE, A_ACTIVE, ALARM_SHELVED, NONE, NULL },
	{ SU_ONESHOT_INACTIVE, A_INACTIVE, ALARM_SHELVED, NONE, NULL },
	/* suppressed by design */
	{ SU_SUPPRESSED, A_ACTIVE, ALARM_SUPPRESSED, NONE, NULL },
	{ SU_SUPPRESSED, A_INACTIVE, ALARM_SUPPRESSED, NONE, NULL },
	{ SU_SUPPRESSED, A_ACK, ALARM_SUPPRESSED, NONE, "nothing to acknowledge" },
	{ SU_SUPPRESSED, A_SHELVE, ALARM_SUPPRESSED, NONE,
	  "suppressed by design (its meter is down)" },
	{ SU_SUPPRESSED, A_UNSHELVE, ALARM_SUPPRESSED, NONE, "not shelved" },
	{ SU_SUPPRESSED, A_SUPPRESS, ALARM_SUPPRESSED, NONE, NULL },
	{ SU_SUPPRESSED, A_UNSUPPRESS, ALARM_NORMAL, AEV_UNSUPPRESS, NULL },
	{ SU_SUPPRESSED_ACTIVE, A_UNSUPPRESS, ALARM_NORMAL, AEV_UNSUPPRESS, NULL },
	{ SU_SUPPRESSED_ACTIVE, A_REALARM, ALARM_SUPPRESSED, NONE, NULL },
	{ SU_SUPPRESSED, A_NOTE, ALARM_SUPPRESSED, AEV_NOTE, NULL },
	/* out of service: tracked silently, operator actions refused */
	{ SU_OOS, A_ACTIVE, ALARM_OOS, NONE, NULL },
	{ SU_OOS, A_INACTIVE, ALARM_OOS, NONE, NULL },
	{ SU_OOS, A_ACK, ALARM_OOS, NONE, "out of service" },
	{ SU_OOS, A_SHELVE, ALARM_OOS, NONE, "out of service" },
	{ SU_OOS, A_ONESHOT, ALARM_OOS, NONE, "out of service" },
	{ SU_OOS, A_UNSHELVE, ALARM_OOS, NONE, "out of service" },
	{ SU_OOS, A_SUPPRESS, ALARM_OOS, NONE, NULL },
	{ SU_OOS, A_UNSUPPRESS, ALARM_OOS, NONE, NULL },
	{ SU_OOS, A_EXPIRE, ALARM_OOS, NONE, NULL },
	{ SU_OOS, A_NOTE, ALARM_OOS, NONE, "out of service" },
};

#define HI 150.0
#define LO 50.0

static void setup_state(struct fx *f, enum setup su)
{
	struct alarm_engine *e = f->e;
	char err[64];

	switch (su) {
	case SU_NORMAL:
	case SU_OOS:
		break;
	case SU_UNACK:
		alarm_feed(e, 0, HI, true, T0);
		break;
	case SU_ACK:
		alarm_feed(e, 0, HI, true, T0);
		assert_int_equal(alarm_ack(e, 0, "bob", "", T0 + 1 * S, err, sizeof(err)), 0);
		break;
	case SU_RTN_UNACK:
		alarm_feed(e, 0, HI, true, T0);
		alarm_feed(e, 0, LO, true, T0 + 1 * S);
		break;
	case SU_SHELVED_ACTIVE:
	case SU_ONESHOT_ACTIVE:
		alarm_feed(e, 0, HI, true, T0);
		assert_int_equal(alarm_shelve(e, 0, "bob", su == SU_ONESHOT_ACTIVE ? 0 : 3600 * 1000,
					      "", T0 + 1 * S, err, sizeof(err)),
				 0);
		break;
	case SU_SHELVED_INACTIVE:
	case SU_ONESHOT_INACTIVE:
		alarm_feed(e, 0, LO, true, T0);
		assert_int_equal(alarm_shelve(e, 0, "bob",
					      su == SU_ONESHOT_INACTIVE ? 0 : 3600 * 1000, "",
					      T0 + 1 * S, err, sizeof(err)),
				 0);
		break;
	case SU_SUPPRESSED:
		alarm_feed(e, 0, LO, true, T0);
		alarm_suppress(e, 0, true, T0 + 1 * S);
		break;
	case SU_SUPPRESSED_ACTIVE:
		alarm_feed(e, 0, HI, true, T0);
		alarm_suppress(e, 0, true, T0 + 1 * S);
		break;
	}
}

static int do_action(struct fx *f, enum action a, char *err, size_t errsz)
{
	struct alarm_engine *e = f->e;
	const int64_t ta = T0 + 10 * S;
	double cur = alarm_get(e, 0)->active ? HI : LO;

	switch (a) {
	case A_ACTIVE:
		alarm_feed(e, 0, HI, true, ta);
		return 0;
	case A_INACTIVE:
		alarm_feed(e, 0, LO, true, ta);
		return 0;
	case A_ACK:
		return alarm_ack(e, 0, "alice", "", ta, err, errsz);
	case A_SHELVE:
		return alarm_shelve(e, 0, "alice", 1800 * 1000, "maintenance", ta, err, errsz);
	case A_ONESHOT:
		return alarm_shelve(e, 0, "alice", 0, "", ta, err, errsz);
	case A_UNSHELVE:
		return alarm_unshelve(e, 0, "alice", ta, err, errsz);
	case A_SUPPRESS:
		alarm_suppress(e, 0, true, ta);
		return 0;
	case A_UNSUPPRESS:
		alarm_suppress(e, 0, false, ta);
		return 0;
	case A_EXPIRE:
		/* two hours later, the condition as it was */
		alarm_feed(e, 0, cur, true, T0 + 7200 * S);
		return 0;
	case A_REALARM:
		/* 100 s later, still (or now) beyond: re-alarm after 60 s */
		alarm_feed(e, 0, HI, true, T0 + 100 * S);
		return 0;
	case A_NOTE:
		return alarm_note(e, 0, "alice", "looked at it", ta, err, errsz);
	}
	return 0;
}

static bool is_operator_action(enum action a)
{
	return a == A_ACK || a == A_SHELVE || a == A_ONESHOT || a == A_UNSHELVE || a == A_NOTE;
}

static void test_transition_table(void **state)
{
	size_t r;

	(void)state;
	for (r = 0; r < UTIL_ARRAY_LEN(table); r++) {
		const struct trow *t = &table[r];
		struct fx *f = fx_new(1);
		char err[128] = "";
		size_t before;
		int rc;

		f->defs[0].enabled = t->setup != SU_OOS;
		fx_start(f, "c1");
		setup_state(f, t->setup);
		before = f->rec.n;
		rc = do_action(f, t->action, err, sizeof(err));
		if (t->err != NULL) {
			if (rc != -1 || strcmp(err, t->err) != 0)
				fail_msg("row %zu: rc %d err '%s', expected -1 '%s'", r, rc, err,
					 t->err);
		} else if (rc != 0) {
			fail_msg("row %zu: refused: %s", r, err);
		}
		if (alarm_get(f->e, 0)->state != t->want)
			fail_msg("row %zu: state %s, expected %s", r,
				 alarm_state_name(alarm_get(f->e, 0)->state),
				 alarm_state_name(t->want));
		if (t->event == NONE) {
			if (f->rec.n != before)
				fail_msg("row %zu: unexpected event %s", r,
					 alarm_event_name(last(f)->kind));
		} else {
			const struct alarm_event *ev = last(f);
			if (f->rec.n != before + 1)
				fail_msg("row %zu: %zu events, expected 1 (%s)", r, f->rec.n - before,
					 alarm_event_name((enum alarm_event_kind)t->event));
			assert_int_equal(ev->kind, t->event);
			assert_int_equal(ev->state, t->want);
			assert_string_equal(ev->alarm, "hi");
			assert_string_equal(ev->meter, "m1");
			assert_string_equal(ev->quantity, "p_total");
			assert_int_equal(ev->priority, PRIO_HIGH);
			assert_string_equal(ev->origin, "c1");
			assert_false(ev->remote);
			assert_int_equal(strncmp(ev->id, "c1:", 3), 0);
			assert_string_equal(ev->operator_name,
					    is_operator_action(t->action) ? "alice" : "");
		}
		fx_free(f);
	}
}

/* Event details: value, limit, raised_us, until_us, ids, notes. */
static void test_event_fields(void **state)
{
	struct fx *f = fx_new(1);
	struct alarm_engine *e;
	char err[128];
	const struct alarm_event *ev;
	size_t i, j;

	(void)state;
	f->defs[0].ack_note = true;
	f->defs[0].shelve_max_ms = 3600 * 1000;
	fx_start(f, "console-7");
	e = f->e;
	alarm_feed(e, 0, 123.5, true, T0);
	ev = last(f);
	assert_int_equal(ev->kind, AEV_RAISE);
	assert_int_equal(ev->t_us, T0);
	assert_true(ev->value == 123.5);
	assert_true(ev->limit == 100);
	assert_int_equal(ev->raised_us, T0);
	assert_int_equal(ev->until_us, 0);
	assert_string_equal(ev->id, "console-7:60a24181e4000.1");
	assert_true(alarm_get(e, 0)->raise_value == 123.5);
	assert_int_equal(alarm_get(e, 0)->count, 1);
	assert_int_equal(alarm_get(e, 0)->first_us, T0);

	/* a note is required to acknowledge */
	assert_int_equal(alarm_ack(e, 0, "alice", "", T0 + S, err, sizeof(err)), -1);
	assert_string_equal(err, "a note is required");
	assert_int_equal(alarm_ack(e, 0, "alice", "  ", T0 + S, err, sizeof(err)), -1);
	assert_int_equal(alarm_ack(e, 0, "alice", NULL, T0 + S, err, sizeof(err)), -1);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(alarm_ack(e, 0, "alice", "breaker\x1b[2J reset", T0 + S, err,
				   sizeof(err)),
			 0);
	ev = last(f);
	assert_int_equal(ev->kind, AEV_ACK);
	assert_string_equal(ev->note, "breaker?[2J reset");
	assert_string_equal(ev->operator_name, "alice");
	assert_int_equal(ev->raised_us, T0);
	assert_string_equal(ev->id, "console-7:60a24181e4000.2");
	assert_string_equal(alarm_get(e, 0)->operator_name, "alice");
	assert_string_equal(alarm_get(e, 0)->note, "breaker?[2J reset");

	/* shelving beyond the maximum is capped, not refused */
	assert_int_equal(alarm_shelve(e, 0, "bob", 5 * 3600 * 1000, "", T0 + 2 * S, err,
				      sizeof(err)),
			 0);
	ev = last(f);
	assert_int_equal(ev->until_us, T0 + 2 * S + 3600 * S);
	assert_int_equal(alarm_get(e, 0)->shelved_until_us, T0 + 2 * S + 3600 * S);
	/* the journal's note says how long, until when (UTC), and that it was capped */
	assert_string_equal(ev->note, "shelved 1 h (the most allowed) until 23:13:22Z");
	assert_int_equal(alarm_shelve(e, 0, "bob", -1, "", T0 + 3 * S, err, sizeof(err)), -1);
	assert_string_equal(err, "the duration must not be negative");
	assert_int_equal(alarm_note(e, 0, "bob", "", T0 + 3 * S, err, sizeof(err)), -1);
	assert_string_equal(err, "a note is required");
	/* expiry: one second before, nothing; at the end, unshelve by the system */
	alarm_feed(e, 0, 130, true, T0 + 2 * S + 3600 * S - 1);
	assert_int_equal(last(f)->kind, AEV_SHELVE);
	alarm_feed(e, 0, 130, true, T0 + 2 * S + 3600 * S);
	ev = last(f);
	assert_int_equal(ev->kind, AEV_UNSHELVE);
	assert_int_equal(ev->state, ALARM_UNACK);
	assert_string_equal(ev->operator_name, "");
	assert_true(ev->value == 130);

	/* shelving notes: duration, expiry, reason (UTF-8 kept as typed) */
	assert_int_equal(alarm_shelve(e, 0, "bob", 45 * 60 * 1000, "étuve en révision",
				      T0 + 2 * S + 3600 * S, err, sizeof(err)),
			 0);
	assert_string_equal(last(f)->note, "shelved 45 min until 23:58:22Z: étuve en révision");
	assert_int_equal(alarm_unshelve(e, 0, "bob", T0 + 7200 * S, err, sizeof(err)), 0);
	assert_int_equal(alarm_shelve(e, 0, "bob", 15 * 60 * 1000, "filter", T0 + 7200 * S, err,
				      sizeof(err)),
			 0);
	assert_true(strstr(last(f)->note, "shelved 15 min until ") == last(f)->note);
	assert_true(strstr(last(f)->note, "Z: filter") != NULL);
	assert_int_equal(alarm_unshelve(e, 0, "bob", T0 + 7201 * S, err, sizeof(err)), 0);
	assert_int_equal(alarm_shelve(e, 0, "bob", 0, "until the repair", T0 + 7202 * S, err,
				      sizeof(err)),
			 0);
	assert_string_equal(last(f)->note, "shelved until it clears: until the repair");
	assert_int_equal(last(f)->until_us, 0);
	assert_int_equal(alarm_unshelve(e, 0, "bob", T0 + 7203 * S, err, sizeof(err)), 0);

	/* ids are unique */
	for (i = 0; i < f->rec.n; i++)
		for (j = i + 1; j < f->rec.n; j++)
			assert_string_not_equal(f->rec.ev[i].id, f->rec.ev[j].id);
	assert_int_equal(alarm_ack(e, 7, "bob", "x", T0, err, sizeof(err)), -1);
	assert_string_equal(err, "no such alarm");
	fx_free(f);
}

/* Unsuppressed while still beyond: normal, then raised again after its on-delay. */
static void test_unsuppress_reraises(void **state)
{
	struct fx *f = fx_new(1);

	(void)state;
	f->defs[0].on_delay_ms = 2000;
	fx_start(f, "c1");
	alarm_feed(f->e, 0, HI, true, T0);
	alarm_feed(f->e, 0, HI, true, T0 + 2 * S);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_UNACK);
	alarm_suppress(f->e, 0, true, T0 + 3 * S);
	alarm_feed(f->e, 0, HI, true, T0 + 4 * S);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_SUPPRESSED);
	alarm_suppress(f->e, 0, false, T0 + 5 * S);
	assert_int_equal(last(f)->kind, AEV_UNSUPPRESS);
	assert_int_equal(last(f)->state, ALARM_NORMAL);
	assert_false(alarm_get(f->e, 0)->active);
	alarm_feed(f->e, 0, HI, true, T0 + 5 * S);
	alarm_feed(f->e, 0, HI, true, T0 + 7 * S - 1);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_NORMAL);
	alarm_feed(f->e, 0, HI, true, T0 + 7 * S);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_UNACK);
	assert_int_equal(last(f)->kind, AEV_RAISE);
	assert_int_equal(last(f)->raised_us, T0 + 7 * S);
	assert_int_equal(f->rec.n, 4); /* raise, suppress, unsuppress, raise */
	fx_free(f);
}

/* ---- (b) deadband and delays ------------------------------------------ */

static void test_delays_deadband(void **state)
{
	struct fx *f = fx_new(1);
	struct alarm_engine *e;
	const struct alarm_inst *in;
	int64_t t;

	(void)state;
	f->defs[0].deadband = 5;
	f->defs[0].on_delay_ms = 2000;
	f->defs[0].off_delay_ms = 3000;
	fx_start(f, "c1");
	e = f->e;
	in = alarm_get(e, 0);

	/* exactly at the limit is not beyond */
	alarm_feed(e, 0, 100, true, T0);
	assert_int_equal(in->beyond_since_us, 0);
	/* beyond at T0 + 1 s: raises at T0 + 3 s, not a microsecond earlier */
	alarm_feed(e, 0, 101, true, T0 + 1 * S);
	alarm_feed(e, 0, 102, true, T0 + 3 * S - 1);
	assert_int_equal(f->rec.n, 0);
	assert_false(in->active);
	alarm_feed(e, 0, 103, true, T0 + 3 * S);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(last(f)->kind, AEV_RAISE);
	assert_true(last(f)->value == 103);
	assert_int_equal(in->raised_us, T0 + 3 * S);

	/* within the deadband (95 < v <= 100): not within, no off-delay */
	alarm_feed(e, 0, 96, true, T0 + 10 * S);
	alarm_feed(e, 0, 95.5, true, T0 + 20 * S);
	assert_int_equal(in->within_since_us, 0);
	assert_true(in->active);
	/* at limit - deadband: within; clears 3 s later exactly */
	alarm_feed(e, 0, 95, true, T0 + 30 * S);
	alarm_feed(e, 0, 90, true, T0 + 33 * S - 1);
	assert_true(in->active);
	assert_int_equal(f->rec.n, 1);
	alarm_feed(e, 0, 90, true, T0 + 33 * S);
	assert_false(in->active);
	assert_int_equal(last(f)->kind, AEV_CLEAR);
	assert_int_equal(in->state, ALARM_RTN_UNACK);

	/* an excursion shorter than the on-delay does not raise; the timer restarts */
	t = T0 + 100 * S;
	alarm_feed(e, 0, 150, true, t);
	alarm_feed(e, 0, 99, true, t + 1 * S);
	alarm_feed(e, 0, 150, true, t + 1500 * MS);
	alarm_feed(e, 0, 150, true, t + 3 * S);
	assert_false(in->active);
	alarm_feed(e, 0, 150, true, t + 3500 * MS);
	assert_true(in->active);
	assert_int_equal(last(f)->kind, AEV_RAISE);
	assert_int_equal(in->state, ALARM_UNACK);

	/* unknown values neither clear nor raise, and restart the off-delay */
	t += 10 * S;
	alarm_feed(e, 0, 0, false, t);
	alarm_feed(e, 0, NAN, true, t + 100 * S);
	assert_true(in->active);
	assert_true(isnan(in->value));
	alarm_feed(e, 0, 50, true, t + 101 * S);
	alarm_feed(e, 0, 0, false, t + 102 * S);
	alarm_feed(e, 0, 50, true, t + 103 * S);
	alarm_feed(e, 0, 50, true, t + 105 * S);
	assert_true(in->active);
	alarm_feed(e, 0, 50, true, t + 106 * S);
	assert_false(in->active);
	fx_free(f);

	/* a low limit with a deadband, no delays */
	f = fx_new(1);
	f->defs[0].type = LIMIT_LOW_LOW;
	f->defs[0].limit = 10;
	f->defs[0].deadband = 1;
	fx_start(f, "c1");
	in = alarm_get(f->e, 0);
	alarm_feed(f->e, 0, 10, true, T0);
	assert_false(in->active);
	alarm_feed(f->e, 0, 9.9, true, T0 + S);
	assert_true(in->active);
	assert_int_equal(last(f)->kind, AEV_RAISE);
	alarm_feed(f->e, 0, 10.5, true, T0 + 2 * S);
	assert_true(in->active);
	alarm_feed(f->e, 0, 11, true, T0 + 3 * S);
	assert_false(in->active);
	assert_int_equal(last(f)->kind, AEV_CLEAR);
	assert_int_equal(f->rec.n, 2);
	fx_free(f);
}

/* ---- (c) re-alarm ------------------------------------------------------- */

static void test_realarm(void **state)
{
	struct fx *f = fx_new(1);
	struct alarm_engine *e;
	char err[64];

	(void)state;
	fx_start(f, "c1");
	e = f->e;
	alarm_feed(e, 0, HI, true, T0);
	assert_int_equal(alarm_ack(e, 0, "alice", NULL, T0 + 1 * S, err, sizeof(err)), 0);
	alarm_feed(e, 0, HI, true, T0 + 61 * S - 1);
	assert_int_equal(alarm_get(e, 0)->state, ALARM_ACK);
	assert_int_equal(f->rec.n, 2);
	alarm_feed(e, 0, HI, true, T0 + 61 * S);
	assert_int_equal(alarm_get(e, 0)->state, ALARM_UNACK);
	assert_int_equal(last(f)->kind, AEV_RAISE);
	assert_int_equal(last(f)->raised_us, T0); /* the same occurrence */
	assert_int_equal(alarm_get(e, 0)->count, 2);
	/* acknowledged again: the next re-alarm 60 s after that */
	assert_int_equal(alarm_ack(e, 0, "alice", NULL, T0 + 70 * S, err, sizeof(err)), 0);
	alarm_feed(e, 0, HI, true, T0 + 129 * S);
	assert_int_equal(alarm_get(e, 0)->state, ALARM_ACK);
	alarm_feed(e, 0, HI, true, T0 + 130 * S);
	assert_int_equal(alarm_get(e, 0)->state, ALARM_UNACK);
	assert_int_equal(alarm_get(e, 0)->count, 3);
	fx_free(f);

	/* realarm 0: never */
	f = fx_new(1);
	f->defs[0].realarm_ms = 0;
	fx_start(f, "c1");
	alarm_feed(f->e, 0, HI, true, T0);
	assert_int_equal(alarm_ack(f->e, 0, "alice", NULL, T0 + 1 * S, err, sizeof(err)), 0);
	alarm_feed(f->e, 0, HI, true, T0 + 86400 * S);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_ACK);
	assert_int_equal(f->rec.n, 2);
	fx_free(f);
}

/* ---- (d) chattering ----------------------------------------------------- */

static void toggle(struct fx *f, size_t i, int64_t t)
{
	alarm_feed(f->e, i, HI, true, t);
	alarm_feed(f->e, i, LO, true, t + 1 * S);
}

static void test_chattering(void **state)
{
	struct fx *f = fx_new(1);
	const struct alarm_inst *in;
	int k;

	(void)state;
	fx_start(f, "c1");
	in = alarm_get(f->e, 0);
	/* four raises within a minute: not yet */
	for (k = 0; k < 4; k++)
		toggle(f, 0, T0 + k * 10 * S);
	assert_false(in->chattering);
	/* the fifth at 60 s after the first: chattering */
	toggle(f, 0, T0 + 60 * S);
	assert_true(in->chattering);
	assert_int_equal(in->count, 5);
	/* a whole minute without a raise ends it */
	alarm_feed(f->e, 0, LO, true, T0 + 120 * S);
	assert_true(in->chattering);
	alarm_feed(f->e, 0, LO, true, T0 + 120 * S + 1);
	assert_false(in->chattering);
	fx_free(f);

	/* five raises over more than a minute: not chattering */
	f = fx_new(1);
	fx_start(f, "c1");
	in = alarm_get(f->e, 0);
	for (k = 0; k < 5; k++)
		toggle(f, 0, T0 + k * 15 * S + (k == 4 ? 1 : 0));
	assert_false(in->chattering);
	fx_free(f);
}

/* ---- (e) other consoles ------------------------------------------------ */

/*
 * A console started after another acknowledged a standing alarm: the
 * retained ack arrives before the condition has raised here; the first
 * raise in the console's first minute is then acknowledged at once. Not a
 * later raise, not after the first minute, not an occurrence that began
 * after theirs.
 */
static void test_remote_join(void **state)
{
	struct fx *b = fx_new(3);
	struct alarm_event ack;
	const struct alarm_inst *in;

	(void)state;
	fx_start(b, "B");
	memset(&ack, 0, sizeof(ack));
	ack.kind = AEV_ACK;
	ack.t_us = T0 - 50 * S;
	ack.raised_us = T0 - 100 * S;
	ack.alarm = "hi";
	ack.meter = "m1";
	ack.priority = PRIO_HIGH;
	ack.state = ALARM_ACK;
	ack.remote = true;
	snprintf(ack.origin, sizeof(ack.origin), "A");
	snprintf(ack.id, sizeof(ack.id), "A:j.1");
	snprintf(ack.operator_name, sizeof(ack.operator_name), "alice");
	alarm_feed(b->e, 0, LO, true, T0); /* the engine starts at T0, m1 normal */
	assert_int_equal(alarm_apply_remote(b->e, &ack, T0 + 1 * S), 0);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_NORMAL);
	rec_clear(&b->rec);
	alarm_feed(b->e, 0, HI, true, T0 + 5 * S);
	in = alarm_get(b->e, 0);
	assert_int_equal(in->state, ALARM_ACK);
	assert_string_equal(in->operator_name, "alice");
	assert_int_equal(b->rec.n, 2);
	assert_int_equal(b->rec.ev[0].kind, AEV_RAISE);
	assert_int_equal(b->rec.ev[1].kind, AEV_ACK);
	assert_true(b->rec.ev[1].remote);
	assert_string_equal(b->rec.ev[1].id, "A:j.1");
	/* used once: the next occurrence is a new one */
	alarm_feed(b->e, 0, LO, true, T0 + 6 * S);
	alarm_feed(b->e, 0, HI, true, T0 + 7 * S);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_UNACK);

	/* m2: their occurrence began after ours could have: not the same */
	ack.meter = "m2";
	ack.raised_us = T0 + 20 * S;
	ack.t_us = T0 + 21 * S;
	snprintf(ack.id, sizeof(ack.id), "A:j.2");
	assert_int_equal(alarm_apply_remote(b->e, &ack, T0 + 2 * S), 0);
	alarm_feed(b->e, 1, HI, true, T0 + 10 * S);
	assert_int_equal(alarm_get(b->e, 1)->state, ALARM_UNACK);

	/* m3: the raise comes after the first minute */
	ack.meter = "m3";
	ack.raised_us = T0 - 100 * S;
	ack.t_us = T0 - 50 * S;
	snprintf(ack.id, sizeof(ack.id), "A:j.3");
	assert_int_equal(alarm_apply_remote(b->e, &ack, T0 + 3 * S), 0);
	alarm_feed(b->e, 2, HI, true, T0 + ALARM_JOIN_US + 1);
	assert_int_equal(alarm_get(b->e, 2)->state, ALARM_UNACK);
	fx_free(b);
}

/* Another console's actions get the checks a local action gets (issue 16 item 3). */
static void test_remote_checks(void **state)
{
	struct fx *b = fx_new(1);
	struct alarm_event ev;

	(void)state;
	b->defs[0].ack_note = true;
	b->defs[0].shelve_max_ms = 3600 * 1000;
	fx_start(b, "B");
	alarm_feed(b->e, 0, HI, true, T0);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_UNACK);
	memset(&ev, 0, sizeof(ev));
	ev.alarm = "hi";
	ev.meter = "m1";
	ev.priority = PRIO_HIGH;
	ev.remote = true;
	snprintf(ev.origin, sizeof(ev.origin), "A");
	snprintf(ev.operator_name, sizeof(ev.operator_name), "mallory");
	/* an ack without the note this definition requires */
	ev.kind = AEV_ACK;
	ev.state = ALARM_ACK;
	ev.t_us = T0 + 1 * S;
	snprintf(ev.id, sizeof(ev.id), "A:c.1");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), -1);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_UNACK);
	/* a time an hour ahead of this console's clock */
	snprintf(ev.note, sizeof(ev.note), "seen");
	ev.t_us = T0 + 3600 * S;
	snprintf(ev.id, sizeof(ev.id), "A:c.2");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), -1);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_UNACK);
	/* shelved for 168 h (shelve_max 1 h), until the year 293,000, ending before it starts */
	ev.kind = AEV_SHELVE;
	ev.state = ALARM_SHELVED;
	ev.t_us = T0 + 1 * S;
	ev.until_us = ev.t_us + 168 * 3600 * S;
	snprintf(ev.id, sizeof(ev.id), "A:c.3");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), -1);
	ev.until_us = 9000000000000000000LL;
	snprintf(ev.id, sizeof(ev.id), "A:c.4");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), -1);
	ev.until_us = ev.t_us - 1;
	snprintf(ev.id, sizeof(ev.id), "A:c.5");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), -1);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_UNACK);
	/* within the rules: applied */
	ev.until_us = ev.t_us + 3600 * S;
	snprintf(ev.id, sizeof(ev.id), "A:c.6");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), 1);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_SHELVED);
	ev.kind = AEV_UNSHELVE;
	ev.until_us = 0;
	snprintf(ev.id, sizeof(ev.id), "A:c.7");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 3 * S), 1);
	ev.kind = AEV_ACK;
	ev.state = ALARM_ACK;
	ev.t_us = T0 + 4 * S;
	snprintf(ev.id, sizeof(ev.id), "A:c.8");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 4 * S + 200 * MS), 1);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_ACK);
	assert_string_equal(alarm_get(b->e, 0)->operator_name, "mallory");
	fx_free(b);
}

static void test_remote(void **state)
{
	struct fx *a = fx_new(2), *b = fx_new(2);
	struct alarm_event ack, ev;
	char err[64];
	int k;

	(void)state;
	fx_start(a, "A");
	fx_start(b, "B");
	alarm_feed(a->e, 1, HI, true, T0);
	alarm_feed(b->e, 1, HI, true, T0 + 300 * MS);
	assert_int_equal(alarm_ack(a->e, 1, "alice", "seen", T0 + 1 * S, err, sizeof(err)), 0);
	ack = *last(a);
	ack.remote = true;
	rec_clear(&b->rec);
	assert_int_equal(alarm_apply_remote(b->e, &ack, T0 + 1200 * MS), 1);
	assert_int_equal(alarm_get(b->e, 1)->state, ALARM_ACK);
	assert_int_equal(b->rec.n, 1);
	assert_true(b->rec.ev[0].remote);
	assert_int_equal(b->rec.ev[0].kind, AEV_ACK);
	assert_string_equal(b->rec.ev[0].id, ack.id);
	assert_string_equal(b->rec.ev[0].origin, "A");
	assert_string_equal(b->rec.ev[0].operator_name, "alice");
	assert_string_equal(b->rec.ev[0].note, "seen");
	assert_string_equal(b->rec.ev[0].meter, "m2");
	assert_int_equal(b->rec.ev[0].inst, 1);
	assert_int_equal(b->rec.ev[0].state, ALARM_ACK);
	assert_int_equal(b->rec.ev[0].raised_us, T0); /* theirs */
	assert_string_equal(alarm_get(b->e, 1)->operator_name, "alice");
	/* the same id again (a retained message): ignored */
	assert_int_equal(alarm_apply_remote(b->e, &ack, T0 + 2 * S), 0);
	assert_int_equal(b->rec.n, 1);
	/* our own event coming back: ignored, by id and by origin */
	assert_int_equal(alarm_apply_remote(a->e, &ack, T0 + 2 * S), 0);
	ev = ack;
	snprintf(ev.id, sizeof(ev.id), "A:other.1");
	assert_int_equal(alarm_apply_remote(a->e, &ev, T0 + 2 * S), 0);
	/* unknown alarm or meter */
	ev = ack;
	snprintf(ev.id, sizeof(ev.id), "A:x.1");
	ev.meter = "nowhere";
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), 0);
	/* raise, clear, suppress of others are not applied */
	ev = ack;
	ev.kind = AEV_RAISE;
	snprintf(ev.id, sizeof(ev.id), "A:x.2");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 2 * S), 0);
	assert_int_equal(b->rec.n, 1);

	/* the grace rule: an ack covers occurrences raised before t + 2 s */
	alarm_feed(b->e, 0, HI, true, T0 + 12 * S);
	ev = ack;
	ev.inst = 0;
	ev.meter = "m1";
	ev.t_us = T0 + 10 * S;
	snprintf(ev.id, sizeof(ev.id), "A:g.1");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 13 * S), 0);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_UNACK);
	ev.t_us = T0 + 10 * S + 1;
	snprintf(ev.id, sizeof(ev.id), "A:g.2");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 13 * S), 1);
	assert_int_equal(alarm_get(b->e, 0)->state, ALARM_ACK);
	/* nothing to acknowledge: ignored */
	snprintf(ev.id, sizeof(ev.id), "A:g.3");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 13 * S), 0);

	/* shelve, note, unshelve */
	ev = ack;
	ev.kind = AEV_SHELVE;
	ev.until_us = T0 + 3600 * S;
	snprintf(ev.id, sizeof(ev.id), "A:s.1");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 20 * S), 1);
	assert_int_equal(alarm_get(b->e, 1)->state, ALARM_SHELVED);
	assert_int_equal(alarm_get(b->e, 1)->shelved_until_us, T0 + 3600 * S);
	assert_int_equal(last(b)->until_us, T0 + 3600 * S);
	ev.kind = AEV_NOTE;
	snprintf(ev.note, sizeof(ev.note), "called maintenance");
	snprintf(ev.id, sizeof(ev.id), "A:s.2");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 21 * S), 1);
	assert_string_equal(alarm_get(b->e, 1)->note, "called maintenance");
	assert_int_equal(last(b)->state, ALARM_SHELVED);
	ev.kind = AEV_UNSHELVE;
	snprintf(ev.id, sizeof(ev.id), "A:s.3");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 22 * S), 1);
	assert_int_equal(alarm_get(b->e, 1)->state, ALARM_UNACK); /* still active here */

	/* the set of seen ids is bounded: FIFO eviction after 65536 */
	ev.kind = AEV_NOTE;
	rec_clear(&b->rec);
	for (k = 0; k < 65536; k++) {
		snprintf(ev.id, sizeof(ev.id), "A:n.%d", k);
		assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 30 * S), 1);
	}
	snprintf(ev.id, sizeof(ev.id), "A:n.%d", 65535);
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 30 * S), 0);
	snprintf(ev.id, sizeof(ev.id), "A:n.%d", 60000);
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 30 * S), 0);
	/* the oldest were evicted */
	snprintf(ev.id, sizeof(ev.id), "A:s.1");
	assert_int_equal(alarm_apply_remote(b->e, &ev, T0 + 30 * S), 1);
	assert_int_equal(b->rec.total, 65537);
	fx_free(a);
	fx_free(b);
}

/* ---- (f) restore ---------------------------------------------------------- */

static struct store_alarm_event row(const char *alarm, const char *meter, const char *state,
				    int64_t t, int64_t raised, int64_t until)
{
	struct store_alarm_event r = {
		.t_us = t, .id = "old:1.1", .origin = "old", .alarm = alarm, .meter = meter,
		.quantity = "p_total", .priority = "high", .event = "ack", .state = state,
		.value = 140, .limit = 100, .operator_name = "carol", .note = "restored",
		.raised_us = raised, .until_us = until,
	};
	return r;
}

static void test_restore(void **state)
{
	struct fx *f = fx_new(3);
	struct store_alarm_event r;
	struct alarm_event ev;
	const struct alarm_inst *in;
	char err[64];

	(void)state;
	fx_start(f, "c1");
	r = row("hi", "m1", "ack", T0 - 50 * S, T0 - 100 * S, 0);
	alarm_restore(f->e, &r);
	r = row("hi", "m2", "shelved", T0 - 50 * S, T0 - 100 * S, T0 + 3600 * S);
	r.id = "old:1.2";
	alarm_restore(f->e, &r);
	r = row("hi", "m3", "rtn_unack", T0 - 50 * S, T0 - 100 * S, 0);
	r.id = "old:1.3";
	alarm_restore(f->e, &r);
	r = row("nope", "m3", "unack", T0, T0, 0);
	alarm_restore(f->e, &r);
	r = row("hi", "gone", "unack", T0, T0, 0);
	alarm_restore(f->e, &r);
	assert_int_equal(f->rec.n, 0);

	in = alarm_get(f->e, 0);
	assert_int_equal(in->state, ALARM_ACK);
	assert_true(in->active);
	assert_int_equal(in->raised_us, T0 - 100 * S);
	assert_int_equal(in->since_us, T0 - 50 * S);
	assert_string_equal(in->operator_name, "carol");
	assert_string_equal(in->note, "restored");
	/* gone while we were away: clears */
	alarm_feed(f->e, 0, LO, true, T0);
	assert_int_equal(last(f)->kind, AEV_CLEAR);
	assert_int_equal(last(f)->raised_us, T0 - 100 * S);
	assert_int_equal(in->state, ALARM_NORMAL);

	in = alarm_get(f->e, 1);
	assert_int_equal(in->state, ALARM_SHELVED);
	assert_int_equal(in->shelved_until_us, T0 + 3600 * S);
	alarm_feed(f->e, 1, LO, true, T0 + 3600 * S);
	assert_int_equal(last(f)->kind, AEV_UNSHELVE);
	assert_int_equal(in->state, ALARM_NORMAL);

	in = alarm_get(f->e, 2);
	assert_int_equal(in->state, ALARM_RTN_UNACK);
	assert_false(in->active);
	assert_int_equal(alarm_ack(f->e, 2, "dave", NULL, T0, err, sizeof(err)), 0);
	assert_int_equal(in->state, ALARM_NORMAL);
	assert_int_equal(last(f)->raised_us, T0 - 100 * S);

	/* the restored ids are known: their retained copies are not applied */
	memset(&ev, 0, sizeof(ev));
	ev.kind = AEV_NOTE;
	ev.t_us = T0; /* (an event without a time is refused) */
	snprintf(ev.id, sizeof(ev.id), "old:1.2");
	snprintf(ev.origin, sizeof(ev.origin), "old");
	snprintf(ev.note, sizeof(ev.note), "x");
	ev.alarm = "hi";
	ev.meter = "m2";
	assert_int_equal(alarm_apply_remote(f->e, &ev, T0), 0);
	snprintf(ev.id, sizeof(ev.id), "old:1.9");
	assert_int_equal(alarm_apply_remote(f->e, &ev, T0), 1);
	fx_free(f);

	/* a disabled definition stays out of service */
	f = fx_new(1);
	f->defs[0].enabled = false;
	fx_start(f, "c1");
	r = row("hi", "m1", "unack", T0, T0, 0);
	alarm_restore(f->e, &r);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_OOS);
	fx_free(f);
}

/* ---- (g) the built-in set on a real live state ------------------------- */

static struct sample smp(uint32_t meter, unsigned qty, int64_t t, double v)
{
	struct sample s = { .t_us = t, .value = v, .meter = meter, .qty = (uint16_t)qty };

	s.quality = (uint8_t)qty_quality(qty, v);
	return s;
}

/* A three-phase meter at p_total W with power factor pf, vln volts L-N. */
static void feed_meter_v(struct live *l, uint32_t m, int64_t t, double p_total, double pf,
			 double vln)
{
	struct sample s[16];
	size_t n = 0;
	unsigned k;

	for (k = 0; k < 3; k++) {
		s[n++] = smp(m, QTY_V_L1N + k, t, vln);
		s[n++] = smp(m, QTY_V_L12 + k, t, vln * 398 / 230);
		s[n++] = smp(m, QTY_I_L1 + k, t, p_total / 3 / vln / pf);
		s[n++] = smp(m, QTY_THD_V_L1 + k, t, 2 + k);
	}
	s[n++] = smp(m, QTY_P_TOTAL, t, p_total);
	s[n++] = smp(m, QTY_S_TOTAL, t, p_total / pf);
	s[n++] = smp(m, QTY_PF_TOTAL, t, pf);
	s[n++] = smp(m, QTY_FREQ, t, 50.02);
	live_apply(l, s, n);
}

static void feed_meter(struct live *l, uint32_t m, int64_t t, double p_total, double pf)
{
	feed_meter_v(l, m, t, p_total, pf, 230);
}

static size_t count_kind(const struct rec *r, enum alarm_event_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->ev[i].kind == k;
	return n;
}

/*
 * A recorder started before the device listens: the meter flaps unknown,
 * down, ok, down ... every 50 ms for half a second, then stays up. No comm
 * alarm (its on-delay), no suppress or unsuppress row (suppression follows
 * the comm alarm), no event at all.
 */
static void test_comm_flap(void **state)
{
	struct fx *f = util_calloc(1, sizeof(*f));
	struct live *l;
	struct meter_comm comm = { .status = COMM_UNKNOWN };
	int64_t t;
	int k = 0;

	(void)state;
	fx_init(f, 1, 0);
	fx_start(f, "c1");
	l = live_new(&f->cfg, NULL, NULL);
	for (t = T0; t < T0 + 500 * MS; t += 50 * MS, k++) {
		comm.status = k % 2 ? COMM_OK : COMM_DOWN;
		live_set_comm(l, 0, &comm);
		if (comm.status == COMM_OK)
			feed_meter(l, 0, t, 10000, 0.98);
		alarm_evaluate(f->e, l, &f->cfg, t);
	}
	comm.status = COMM_OK;
	live_set_comm(l, 0, &comm);
	for (; t < T0 + 20 * S; t += 250 * MS) {
		feed_meter(l, 0, t, 10000, 0.98);
		alarm_evaluate(f->e, l, &f->cfg, t);
	}
	assert_int_equal(f->rec.n, 0);
	/* a real outage still raises it, after 10 s, and suppresses the rest */
	comm.status = COMM_DOWN;
	live_set_comm(l, 0, &comm);
	for (; t < T0 + 31 * S; t += 250 * MS)
		alarm_evaluate(f->e, l, &f->cfg, t);
	assert_int_equal(count_kind(&f->rec, AEV_RAISE), 1);
	assert_string_equal(f->rec.ev[0].alarm, "comm");
	assert_true(f->rec.ev[0].t_us >= T0 + 30 * S && f->rec.ev[0].t_us < T0 + 31 * S);
	assert_int_equal(count_kind(&f->rec, AEV_SUPPRESS), 11);
	live_free(l);
	fx_free(f);
}

/* The configuration of night_flow: its defaults and its errors. */
static void test_night_flow_config(void **state)
{
	static const char meters[] =
		"[meter g1]\ndriver = modbus\nprofile = gas-meter\nhost = 127.0.0.1\n"
		"[meter e1]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.2\n";
	static const struct {
		const char *alarm, *error;
	} bad[] = {
		{ "meters = *\nquantity = night_flow\nwindow = 25:00-05:00\n",
		  "t.ini:12: window: '25:00-05:00' is not a window of the day (HH:MM-HH:MM, e.g. "
		  "01:00-05:00, 23:00-05:00 across midnight, 00:00-24:00 the whole day)" },
		{ "meters = *\nquantity = night_flow\nwindow = 03:00-03:00\n",
		  "t.ini:12: window: '03:00-03:00' is not a window of the day (HH:MM-HH:MM, e.g. "
		  "01:00-05:00, 23:00-05:00 across midnight, 00:00-24:00 the whole day)" },
		{ "meters = *\nquantity = night_flow\ntype = low\n",
		  "t.ini:12: type: low: night_flow raises on a flow that stays above its limit "
		  "(type = high)" },
		{ "meters = *\nquantity = night_flow\nlimit = -1\n",
		  "t.ini:12: limit: -1: night_flow's limit is a flow in m3/h, 0 or more" },
		{ "meters = *\nquantity = night_flow\non_delay = 4h\n",
		  "t.ini:12: on_delay: 240 min is not shorter than the window (240 min): the alarm "
		  "could never raise" },
		{ "meters = e1\nquantity = night_flow\n",
		  "t.ini:10: meters: e1 matches no gas, water or air meter: night_flow watches a "
		  "utility meter's flow" },
		{ "meters = *\nquantity = pf\ntype = low\nlimit = 0.8\nwindow = 01:00-05:00\n",
		  "t.ini:14: window is only for night_flow alarms" },
	};
	struct config *cfg;
	struct diag d;
	char ini[1024];
	size_t i;

	(void)state;
	snprintf(ini, sizeof(ini), "%s[alarm leak]\nmeters = *\nquantity = night_flow\n", meters);
	diag_init(&d);
	cfg = config_load_string(ini, "t.ini", &d);
	if (cfg == NULL)
		fail_msg("%s", d.n > 0 ? d.lines[0] : "?");
	assert_int_equal(cfg->nalarms, 1);
	assert_int_equal(cfg->alarms[0].measure, AM_NIGHT_FLOW);
	assert_int_equal(cfg->alarms[0].type, LIMIT_HIGH);
	assert_true(cfg->alarms[0].limit == 0);
	assert_int_equal(cfg->alarms[0].window_start_min, 60);
	assert_int_equal(cfg->alarms[0].window_end_min, 300);
	assert_true(cfg->alarms[0].on_delay_ms == 3600 * 1000);
	assert_int_equal(cfg->alarms[0].priority, PRIO_MEDIUM);
	assert_string_equal(cfg->alarms[0].message,
			    "Flow at night (a leak?): above 0 m3/h for 60 min of 01:00-05:00");
	config_free(cfg);
	diag_clear(&d);
	snprintf(ini, sizeof(ini),
		 "%s[alarm leak]\nmeters = g*\nquantity = night_flow\nlimit = 0.5\n"
		 "window = 23:30-24:00\non_delay = 10m\n",
		 meters);
	diag_init(&d);
	cfg = config_load_string(ini, "t.ini", &d);
	assert_non_null(cfg);
	assert_int_equal(cfg->alarms[0].window_start_min, 23 * 60 + 30);
	assert_int_equal(alarm_window_minutes(&cfg->alarms[0]), 30);
	assert_string_equal(cfg->alarms[0].message,
			    "Flow at night (a leak?): above 0.5 m3/h for 10 min of 23:30-24:00");
	config_free(cfg);
	diag_clear(&d);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(ini, sizeof(ini), "%s[alarm leak]\n%s", meters, bad[i].alarm);
		diag_init(&d);
		cfg = config_load_string(ini, "t.ini", &d);
		assert_null(cfg);
		assert_int_equal(d.n, 1);
		assert_string_equal(d.lines[0], bad[i].error);
		diag_clear(&d);
	}
}

/* Flow samples of meter 0 and an evaluation every minute of [from, to). */
static void night_run(struct fx *f, struct live *l, int64_t from, int64_t to, double flow)
{
	int64_t t;

	for (t = from; t < to; t += 60 * S) {
		struct sample x = smp(0, QTY_FLOW, t, flow);

		live_apply(l, &x, 1);
		alarm_evaluate(f->e, l, &f->cfg, t);
	}
}

/*
 * Night flow (a leak): a gas meter whose lowest flow over 01:00-05:00 (UTC
 * here) stays above 0.5 m3/h for the on-delay (1 h) raises, with the
 * lowest flow in its note; acknowledged, it clears once the flow drops
 * below (and does not raise again that night, the lowest being below now);
 * the next night raises again; shelved, it comes back unacknowledged at the
 * shelving's end; by day a flow above the limit holds it, a flow of 0
 * clears it. An electricity meter gets no instance.
 */
static void test_night_flow(void **state)
{
	/* 2023-11-15T00:00:00Z */
	const int64_t day = INT64_C(1700006400) * S, h = 3600 * S;
	struct fx *f = util_calloc(1, sizeof(*f));
	struct live *l;
	char err[128];
	const char *tz = getenv("TZ");
	char *old_tz = tz != NULL ? util_strdup(tz) : NULL;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	fx_init(f, 2, 1);
	f->meters[0].utility = UTILITY_GAS;
	f->meters[1].utility = UTILITY_ELECTRICITY;
	f->defs[0] = def_hi();
	f->defs[0].name = (char *)"leak";
	f->defs[0].measure = AM_NIGHT_FLOW;
	f->defs[0].quantity = (char *)"night_flow";
	f->defs[0].limit = 0.5;
	f->defs[0].realarm_ms = 0;
	f->defs[0].on_delay_ms = 3600 * 1000;
	f->defs[0].window_start_min = 60;
	f->defs[0].window_end_min = 300;
	fx_start(f, "c1");
	assert_int_equal(alarm_count(f->e), 1); /* not on the electricity meter */
	l = live_new(&f->cfg, NULL, NULL);

	/* the evening's use, then a leak all night: raised after an hour of it */
	night_run(f, l, day + h / 2, day + h, 3.0);
	assert_true(isnan(alarm_get(f->e, 0)->value));
	night_run(f, l, day + h, day + 2 * h, 0.8);
	assert_int_equal(f->rec.n, 0);
	assert_close(alarm_get(f->e, 0)->value, 0.8);
	night_run(f, l, day + 2 * h, day + 2 * h + 60 * S, 0.8);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(last(f)->kind, AEV_RAISE);
	assert_true(last(f)->t_us == day + 2 * h);
	assert_string_equal(last(f)->quantity, "night_flow");
	assert_close(last(f)->value, 0.8);
	assert_close(last(f)->limit, 0.5);
	assert_string_equal(last(f)->note, "lowest flow 0.8 m3/h since 01:00 (limit 0.5 m3/h)");
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_UNACK);
	assert_int_equal(alarm_ack(f->e, 0, "alice", "", day + 2 * h + 2 * 60 * S, err,
				   sizeof(err)),
			 0);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_ACK);
	/* the flow stops at 02:30: cleared; back at 02:31, not again tonight */
	night_run(f, l, day + 2 * h + 3 * 60 * S, day + 2 * h + 30 * 60 * S, 0.8);
	night_run(f, l, day + 2 * h + 30 * 60 * S, day + 2 * h + 31 * 60 * S, 0.2);
	assert_int_equal(last(f)->kind, AEV_CLEAR);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_NORMAL);
	rec_clear(&f->rec);
	night_run(f, l, day + 2 * h + 31 * 60 * S, day + 24 * h + h, 0.8);
	assert_int_equal(f->rec.n, 0);
	/* the next night: raised again at 02:00, then shelved for an hour */
	night_run(f, l, day + 25 * h, day + 26 * h + 60 * S, 0.8);
	assert_int_equal(f->rec.n, 1);
	assert_true(last(f)->kind == AEV_RAISE && last(f)->t_us == day + 26 * h);
	assert_int_equal(alarm_shelve(f->e, 0, "bob", 3600 * 1000, "valve being replaced",
				      day + 26 * h + 60 * S, err, sizeof(err)),
			 0);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_SHELVED);
	night_run(f, l, day + 26 * h + 60 * S, day + 27 * h + 2 * 60 * S, 0.8);
	assert_int_equal(last(f)->kind, AEV_UNSHELVE);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_UNACK);
	/* by day: a flow above the limit holds it, none clears it */
	rec_clear(&f->rec);
	night_run(f, l, day + 29 * h, day + 34 * h, 4.0);
	assert_int_equal(f->rec.n, 0);
	assert_true(alarm_get(f->e, 0)->active);
	night_run(f, l, day + 34 * h, day + 34 * h + 60 * S, 0.0);
	assert_int_equal(last(f)->kind, AEV_CLEAR);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_RTN_UNACK);
	live_free(l);
	fx_free(f);
	if (old_tz != NULL)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old_tz);
}

/*
 * Consumption nobody expected (forecast_excess): raised when the actual
 * stays outside the forecast's 95 % band for limit completed intervals,
 * with the expected and actual kW and the energy in excess in the raise's
 * note, journaled like any alarm (the event's value the run, its limit
 * N); unknown (no raise, no clear) without a forecast or with too little
 * history; cleared when an interval is back within. The configuration
 * makes it a diagnostic by default and counts its limit in intervals.
 */
static void test_forecast_excess(void **state)
{
	static const char ini[] =
		"[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n"
		"[alarm unexpected]\nmeters = *\nquantity = forecast_excess\ntype = high\n"
		"limit = 4\n";
	struct fx *f = util_calloc(1, sizeof(*f));
	struct alarm_forecast_obs o = { .valid = true, .expected_w = 40000, .actual_w = 62000,
					.lo95_w = 35000, .hi95_w = 45000 };
	struct config *cfg;
	struct diag d;
	struct live *l;
	int64_t t = T0;
	int run;

	(void)state;
	diag_init(&d);
	cfg = config_load_string(ini, "t.ini", &d);
	assert_non_null(cfg);
	assert_int_equal(cfg->nalarms, 1);
	assert_int_equal(cfg->alarms[0].measure, AM_FORECAST_EXCESS);
	assert_int_equal(cfg->alarms[0].priority, PRIO_DIAGNOSTIC);
	assert_string_equal(cfg->alarms[0].message,
			    "Consumption nobody expected: outside the forecast's 95 % band for 4 "
			    "intervals");
	config_free(cfg);
	diag_clear(&d);
	diag_init(&d);
	cfg = config_load_string("[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = h\n"
				 "[alarm u]\nmeters = *\nquantity = forecast_excess\n"
				 "type = high\nlimit = 2.5\n",
				 "t.ini", &d);
	assert_null(cfg);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], "t.ini:9: limit: 2.5: forecast_excess counts intervals in"
					" a row (1..672)");
	diag_clear(&d);

	fx_init(f, 1, 1);
	f->defs[0] = def_hi();
	f->defs[0].name = (char *)"unexpected";
	f->defs[0].measure = AM_FORECAST_EXCESS;
	f->defs[0].quantity = (char *)"forecast_excess";
	f->defs[0].limit = 4;
	f->defs[0].priority = PRIO_DIAGNOSTIC;
	f->defs[0].realarm_ms = 0;
	fx_start(f, "c1");
	l = live_new(&f->cfg, NULL, NULL);
	/* no observation yet, then too little history: nothing */
	alarm_evaluate(f->e, l, &f->cfg, t);
	o.valid = false;
	o.run = 9;
	alarm_forecast_obs(f->e, 0, &o);
	alarm_evaluate(f->e, l, &f->cfg, t += S);
	assert_int_equal(f->rec.n, 0);
	assert_true(isnan(alarm_get(f->e, 0)->value));
	/* 1, 2, 3 intervals outside: not yet; the fourth raises */
	o.valid = true;
	for (run = 1; run <= 3; run++) {
		o.run = run;
		o.excess_wh = 5500.0 * run;
		alarm_forecast_obs(f->e, 0, &o);
		alarm_evaluate(f->e, l, &f->cfg, t += 900 * S);
	}
	assert_int_equal(f->rec.n, 0);
	o.run = 4;
	o.excess_wh = 22000;
	alarm_forecast_obs(f->e, 0, &o);
	alarm_evaluate(f->e, l, &f->cfg, t += 900 * S);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(last(f)->kind, AEV_RAISE);
	assert_string_equal(last(f)->alarm, "unexpected");
	assert_string_equal(last(f)->meter, "m1");
	assert_string_equal(last(f)->quantity, "forecast_excess");
	assert_int_equal(last(f)->priority, PRIO_DIAGNOSTIC);
	assert_true(last(f)->value == 4 && last(f)->limit == 4);
	assert_string_equal(last(f)->note, "actual 62.0 kW, expected 40.0 kW (95 % band 35.0-45.0 kW);"
					   " 22.0 kWh more than expected over the last 4 intervals");
	/* unknown (the forecast missing for an interval): stays raised */
	o.valid = false;
	alarm_forecast_obs(f->e, 0, &o);
	alarm_evaluate(f->e, l, &f->cfg, t += 900 * S);
	assert_int_equal(f->rec.n, 1);
	assert_true(alarm_get(f->e, 0)->active);
	/* back within the band: cleared */
	o.valid = true;
	o.run = 0;
	o.actual_w = 41000;
	o.excess_wh = 0;
	alarm_forecast_obs(f->e, 0, &o);
	alarm_evaluate(f->e, l, &f->cfg, t += 900 * S);
	assert_int_equal(f->rec.n, 2);
	assert_int_equal(last(f)->kind, AEV_CLEAR);
	assert_int_equal(alarm_get(f->e, 0)->state, ALARM_RTN_UNACK);
	live_free(l);
	fx_free(f);
}

static void test_builtin_live(void **state)
{
	struct fx *f = util_calloc(1, sizeof(*f));
	struct live *l;
	struct meter_comm comm = { .status = COMM_OK };
	struct alarm_counts c;
	long ov, pf, vlo, vhi, cm, st;
	int64_t t;

	(void)state;
	fx_init(f, 2, 0); /* no definitions: the built-in set */
	f->meters[1].nominal_voltage = 127;
	fx_start(f, "c1");
	assert_int_equal(alarm_count(f->e), 12 * 2);
	ov = alarm_find(f->e, "overload", "m1");
	pf = alarm_find(f->e, "low-pf", "m1");
	vlo = alarm_find(f->e, "voltage-low", "m1");
	vhi = alarm_find(f->e, "voltage-high", "m1");
	cm = alarm_find(f->e, "comm", "m1");
	st = alarm_find(f->e, "stale", "m1");
	assert_true(ov >= 0 && pf >= 0 && vlo >= 0 && vhi >= 0 && cm >= 0 && st >= 0);
	assert_int_equal(alarm_find(f->e, "overload", "m9"), -1);
	/* the seed's 380..420 V at 230 V nominal, scaled at 127 V */
	assert_close(alarm_get(f->e, (size_t)vlo)->limit, 380);
	assert_close(alarm_get(f->e, (size_t)vhi)->limit, 420);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "voltage-low", "m2"))->limit,
		     380.0 * 127 / 230);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "phase-loss", "m1"))->limit, 115);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "frequency-low", "m1"))->limit,
		     49.5);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "frequency-high", "m1"))->limit,
		     50.5);
	assert_true(alarm_get(f->e, (size_t)ov)->limit == 100);
	assert_true(isnan(alarm_get(f->e, (size_t)cm)->limit));

	l = live_new(&f->cfg, NULL, NULL);
	live_set_comm(l, 0, &comm);
	live_set_comm(l, 1, &comm);
	/* the BRIEF example: 200 kW at PF 0.75 on a 50 kW meter */
	for (t = T0; t <= T0 + 10 * S; t += 250 * MS) {
		feed_meter(l, 0, t, 200000, 0.75);
		feed_meter_v(l, 1, t, 10000, 0.98, 127);
		alarm_evaluate(f->e, l, &f->cfg, t);
		if (t == T0 + 5 * S - 250 * MS)
			assert_int_equal(f->rec.n, 0); /* the overload's 5 s on-delay */
		if (t == T0 + 5 * S) {
			assert_int_equal(f->rec.n, 1);
			assert_int_equal(f->rec.ev[0].kind, AEV_RAISE);
			assert_string_equal(f->rec.ev[0].alarm, "overload");
			assert_string_equal(f->rec.ev[0].meter, "m1");
			assert_string_equal(f->rec.ev[0].quantity, "overload");
			assert_int_equal(f->rec.ev[0].priority, PRIO_CRITICAL);
			assert_close(f->rec.ev[0].value, 400);
			assert_close(f->rec.ev[0].limit, 100);
		}
	}
	/* and the PF after its 10 s */
	assert_int_equal(f->rec.n, 2);
	assert_string_equal(f->rec.ev[1].alarm, "low-pf");
	assert_int_equal(f->rec.ev[1].priority, PRIO_HIGH);
	assert_close(f->rec.ev[1].value, 0.75);
	assert_close(f->rec.ev[1].limit, 0.85);
	/* the measures */
	assert_close(alarm_get(f->e, (size_t)vlo)->value, 398);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "thd-v", "m1"))->value, 4);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "frequency-low", "m1"))->value,
		     50.02);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "overload", "m2"))->value, 20);
	assert_close(alarm_get(f->e, (size_t)alarm_find(f->e, "voltage-unbalance", "m1"))->value, 0);
	assert_close(alarm_get(f->e, (size_t)st)->value, 0);
	assert_close(alarm_get(f->e, (size_t)cm)->value, 0);
	assert_int_equal(alarm_meter_priority(f->e, 0), PRIO_CRITICAL);
	assert_int_equal(alarm_meter_priority(f->e, 1), -1);

	/* m1 goes down: after the comm alarm's 10 s on-delay, one comm alarm
	 * and every other alarm of m1 suppressed; nothing before */
	rec_clear(&f->rec);
	comm.status = COMM_DOWN;
	live_set_comm(l, 0, &comm);
	for (t = T0 + 11 * S; t < T0 + 21 * S; t += S) {
		feed_meter_v(l, 1, t, 10000, 0.98, 127);
		alarm_evaluate(f->e, l, &f->cfg, t);
	}
	assert_int_equal(f->rec.n, 0);
	t = T0 + 21 * S;
	feed_meter_v(l, 1, t, 10000, 0.98, 127);
	alarm_evaluate(f->e, l, &f->cfg, t);
	assert_int_equal(count_kind(&f->rec, AEV_RAISE), 1);
	assert_string_equal(f->rec.ev[0].alarm, "comm");
	assert_string_equal(f->rec.ev[0].meter, "m1");
	assert_int_equal(f->rec.ev[0].priority, PRIO_HIGH);
	assert_true(f->rec.ev[0].value == 1);
	assert_int_equal(count_kind(&f->rec, AEV_SUPPRESS), 11);
	assert_int_equal(f->rec.n, 12);
	alarm_counts(f->e, &c);
	assert_int_equal(c.suppressed, 11);
	assert_int_equal(c.unack[PRIO_HIGH], 1);
	assert_int_equal(c.unack[PRIO_CRITICAL], 0);
	assert_int_equal(c.newest, cm);
	assert_int_equal(alarm_meter_priority(f->e, 0), PRIO_HIGH);
	/* staying down, data going stale: nothing new */
	for (t = T0 + 22 * S; t <= T0 + 70 * S; t += S) {
		feed_meter_v(l, 1, t, 10000, 0.98, 127);
		alarm_evaluate(f->e, l, &f->cfg, t);
	}
	assert_int_equal(f->rec.n, 12);
	assert_int_equal(alarm_get(f->e, (size_t)st)->state, ALARM_SUPPRESSED);

	/* back: value alarms released at once, the comm alarm clears after its 5 s
	 * off-delay, the stale one is released then; the overload comes back after
	 * its on-delay */
	rec_clear(&f->rec);
	comm.status = COMM_OK;
	live_set_comm(l, 0, &comm);
	for (t = T0 + 61 * S; t <= T0 + 72 * S; t += 250 * MS) {
		feed_meter(l, 0, t, 200000, 0.75);
		feed_meter_v(l, 1, t, 10000, 0.98, 127);
		alarm_evaluate(f->e, l, &f->cfg, t);
		if (t == T0 + 61 * S)
			assert_int_equal(count_kind(&f->rec, AEV_UNSUPPRESS), 10);
		if (t == T0 + 66 * S - 250 * MS)
			assert_int_equal(count_kind(&f->rec, AEV_CLEAR), 0);
	}
	assert_int_equal(count_kind(&f->rec, AEV_UNSUPPRESS), 11);
	assert_int_equal(count_kind(&f->rec, AEV_CLEAR), 1);
	assert_int_equal(alarm_get(f->e, (size_t)cm)->state, ALARM_RTN_UNACK);
	assert_int_equal(alarm_get(f->e, (size_t)st)->state, ALARM_NORMAL);
	assert_int_equal(alarm_get(f->e, (size_t)ov)->state, ALARM_UNACK);
	assert_int_equal(alarm_get(f->e, (size_t)ov)->raised_us, T0 + 66 * S);
	assert_int_equal(count_kind(&f->rec, AEV_RAISE), 2); /* overload at 66 s, low-pf at 71 s */
	assert_int_equal(alarm_get(f->e, (size_t)pf)->raised_us, T0 + 71 * S);

	/* an idle feeder: its PF means nothing, the low-pf alarm clears */
	rec_clear(&f->rec);
	for (t = T0 + 80 * S; t <= T0 + 100 * S; t += 250 * MS) {
		feed_meter(l, 0, t, 100, 0.2);
		alarm_evaluate(f->e, l, &f->cfg, t);
	}
	assert_int_equal(alarm_get(f->e, (size_t)pf)->state, ALARM_RTN_UNACK);
	assert_true(isnan(alarm_get(f->e, (size_t)pf)->value));

	/* a meter that stops sending: stale, after three periods and 5 s */
	rec_clear(&f->rec);
	for (t = T0 + 101 * S; t <= T0 + 110 * S; t += 250 * MS)
		alarm_evaluate(f->e, l, &f->cfg, t);
	assert_int_equal(alarm_get(f->e, (size_t)st)->state, ALARM_UNACK);
	/* last sample at 100 s: stale from 103.25 s (older than 3 s), raised 5 s later */
	assert_int_equal(alarm_get(f->e, (size_t)st)->raised_us, T0 + 108 * S + 250 * MS);
	live_free(l);
	fx_free(f);
}

/* ---- (h) EEMUA 191 figures ---------------------------------------------- */

/*
 * Journal rows this engine did not make: history at start (counts, EEMUA
 * buckets, the event for the console's list; the state untouched) and an
 * attached console's mirror (the state as the recorder's row says).
 */
static void test_journal_rows(void **state)
{
	struct fx *f = fx_new(2);
	struct store_alarm_event r;
	struct alarm_event ev;
	struct alarm_perf p;
	const struct alarm_inst *in;

	(void)state;
	fx_start(f, "console");
	/* history: three raises of hi on m1 in the last day, one clear */
	r = row("hi", "m1", "unack", T0 - 7200 * S, T0 - 7200 * S, 0);
	r.event = "raise";
	r.id = "rec:1.1";
	assert_true(alarm_journal_row(f->e, &r, false, &ev));
	assert_int_equal(ev.kind, AEV_RAISE);
	assert_int_equal(ev.inst, 0);
	assert_string_equal(ev.meter, "m1");
	assert_string_equal(ev.origin, "old");
	assert_true(ev.remote);
	assert_close(ev.value, 140);
	r.event = "clear";
	r.state = "rtn_unack";
	r.id = "rec:1.2";
	r.t_us = T0 - 7000 * S;
	assert_true(alarm_journal_row(f->e, &r, false, &ev));
	r.event = "raise";
	r.state = "unack";
	r.id = "rec:1.3";
	r.t_us = r.raised_us = T0 - 600 * S;
	assert_true(alarm_journal_row(f->e, &r, false, &ev));
	r.id = "rec:1.4";
	r.t_us = r.raised_us = T0 - 300 * S;
	assert_true(alarm_journal_row(f->e, &r, false, &ev));
	in = alarm_get(f->e, 0);
	assert_int_equal(in->count, 3);
	assert_int_equal(in->first_us, T0 - 7200 * S);
	assert_int_equal(in->last_us, T0 - 300 * S);
	assert_int_equal(in->state, ALARM_NORMAL); /* history does not set states */
	assert_int_equal(f->rec.n, 0);            /* and makes no event */
	alarm_perf_since(f->e, T0 - 3 * 3600 * S);
	alarm_perf(f->e, T0, &p);
	assert_int_equal(p.by_priority[PRIO_HIGH], 3);
	assert_int_equal(p.last10, 2);
	assert_int_equal(p.ntop, 1);
	assert_int_equal(p.top[0], 0);
	/* averaged over the 3 h recorded (19 buckets of 10 min), not one */
	assert_true(p.avg_per10 > 0.1 && p.avg_per10 < 0.2);
	/* a row this engine knows nothing of changes nothing */
	r.alarm = "nope";
	assert_false(alarm_journal_row(f->e, &r, false, &ev));
	r = row("hi", "m9", "unack", T0, T0, 0);
	assert_false(alarm_journal_row(f->e, &r, true, &ev));
	r = row("hi", "m1", "nonsense", T0, T0, 0);
	assert_false(alarm_journal_row(f->e, &r, true, &ev));

	/* mirror: the recorder's ack of m2's alarm */
	r = row("hi", "m2", "unack", T0 - 20 * S, T0 - 20 * S, 0);
	r.event = "raise";
	r.id = "rec:2.1";
	r.value = 150;
	assert_true(alarm_journal_row(f->e, &r, true, &ev));
	in = alarm_get(f->e, 1);
	assert_int_equal(in->state, ALARM_UNACK);
	assert_int_equal(in->count, 1);
	assert_close(in->value, 150);
	r.event = "ack";
	r.state = "ack";
	r.id = "rec:2.2";
	r.t_us = T0 - 10 * S;
	assert_true(alarm_journal_row(f->e, &r, true, &ev));
	assert_int_equal(in->state, ALARM_ACK);
	assert_string_equal(in->operator_name, "carol");
	assert_int_equal(in->count, 1);
	assert_int_equal(ev.kind, AEV_ACK);
	assert_string_equal(ev.operator_name, "carol");
	assert_int_equal(f->rec.n, 0);
	fx_free(f);
}

static void test_perf(void **state)
{
	struct fx *f = fx_new(3);
	struct alarm_perf p;
	const int64_t b0 = (T0 / (600 * S) + 1) * 600 * S; /* a bucket boundary */
	int k;

	(void)state;
	fx_start(f, "c1");
	/* nothing yet */
	alarm_perf(f->e, b0, &p);
	assert_int_equal(p.ntop, 0);
	assert_int_equal(p.peak_per10, 0);
	assert_true(p.avg_per10 == 0);

	/* 12 raises of m1 in the first bucket (a flood), 3 of m2 in the next,
	 * 1 of m3 in the third, which is now */
	for (k = 0; k < 12; k++)
		toggle(f, 0, b0 + k * 10 * S);
	for (k = 0; k < 3; k++)
		toggle(f, 1, b0 + 600 * S + k * 100 * S);
	alarm_feed(f->e, 2, HI, true, b0 + 1200 * S);
	alarm_perf(f->e, b0 + 1200 * S + 10 * S, &p);
	assert_int_equal(p.per10[ALARM_PERF_BUCKETS - 1], 1);
	assert_int_equal(p.per10[ALARM_PERF_BUCKETS - 2], 3);
	assert_int_equal(p.per10[ALARM_PERF_BUCKETS - 3], 12);
	assert_int_equal(p.per10[ALARM_PERF_BUCKETS - 4], 0);
	/* the rolling last 10 min (whole minutes, 10 to 11): m3 now and m2's
	 * three raises, 610, 510 and 410 s ago; not m1's flood, 1000 s ago */
	assert_int_equal(p.last10, 4);
	assert_int_equal(p.peak_per10, 12);
	assert_int_equal(p.floods, 1);
	assert_false(p.flood_now);
	assert_close(p.avg_per10, 16.0 / 3);
	assert_int_equal(p.by_priority[PRIO_HIGH], 16);
	assert_int_equal(p.active, 1);
	assert_int_equal(p.standing, 0);
	assert_int_equal(p.ntop, 3);
	assert_int_equal(p.top[0], 0);
	assert_int_equal(p.top[1], 1);
	assert_int_equal(p.top[2], 2);
	/* m1's last five raises were within a minute, but that was long ago */
	assert_int_equal(p.chattering, 0);
	assert_true(alarm_get(f->e, 0)->chattering); /* not decayed: not fed since */

	/* a day later: the buckets are gone, m3 is standing */
	alarm_perf(f->e, b0 + 1200 * S + 24 * 3600 * S + 1, &p);
	assert_int_equal(p.per10[ALARM_PERF_BUCKETS - 1], 0);
	assert_int_equal(p.peak_per10, 0);
	assert_int_equal(p.floods, 0);
	assert_int_equal(p.active, 1);
	assert_int_equal(p.standing, 1);
	assert_close(p.avg_per10, 0);
	alarm_perf(f->e, b0 + 1200 * S + 24 * 3600 * S, &p);
	assert_int_equal(p.standing, 0);

	/* a flood now */
	for (k = 0; k < 10; k++)
		toggle(f, 1, b0 + 1210 * S + k * 2 * S);
	alarm_perf(f->e, b0 + 1240 * S, &p);
	assert_true(p.flood_now);
	assert_int_equal(p.per10[ALARM_PERF_BUCKETS - 1], 11);
	assert_int_equal(p.last10, 14); /* and m2's three, 440 to 640 s ago */
	assert_int_equal(p.chattering, 1);
	assert_int_equal(p.top[0], 1); /* 13 */
	assert_int_equal(p.top[1], 0); /* 12 */
	/* just after the next bucket boundary the flood is still the last 10 min */
	alarm_perf(f->e, b0 + 1800 * S + 5 * S, &p);
	assert_int_equal(p.per10[ALARM_PERF_BUCKETS - 1], 0);
	assert_int_equal(p.last10, 11);
	assert_true(p.flood_now);
	/* and gone 11 minutes after */
	alarm_perf(f->e, b0 + 1240 * S + 660 * S, &p);
	assert_int_equal(p.last10, 0);
	assert_false(p.flood_now);
	fx_free(f);

	/* top ten of twelve instances, ties in instance order */
	f = util_calloc(1, sizeof(*f));
	for (k = 0; k < 4; k++) {
		f->defs[k] = def_hi();
	}
	f->defs[1].name = (char *)"b";
	f->defs[2].name = (char *)"c";
	f->defs[3].name = (char *)"d";
	fx_init(f, 3, 4);
	fx_start(f, "c1");
	assert_int_equal(alarm_count(f->e), 12);
	for (k = 0; k < 12; k++) {
		int r;
		for (r = 0; r <= k % 5; r++)
			toggle(f, (size_t)k, T0 + k * 100 * S + r * 2 * S);
	}
	alarm_perf(f->e, T0 + 2000 * S, &p);
	assert_int_equal(p.ntop, 10);
	{
		/* counts: k%5+1 = 1 2 3 4 5 1 2 3 4 5 1 2 */
		static const size_t want[10] = { 4, 9, 3, 8, 2, 7, 1, 6, 11, 0 };
		for (k = 0; k < 10; k++)
			assert_int_equal(p.top[k], want[k]);
	}
	fx_free(f);
}

/* ---- (i) banner counts and per-meter priority --------------------------- */

static void test_counts(void **state)
{
	struct fx *f = util_calloc(1, sizeof(*f));
	struct alarm_counts c;
	char err[64];

	(void)state;
	f->defs[0] = def_hi();
	f->defs[0].name = (char *)"crit";
	f->defs[0].priority = PRIO_CRITICAL;
	f->defs[1] = def_hi();
	f->defs[1].name = (char *)"low";
	f->defs[1].priority = PRIO_LOW;
	f->defs[2] = def_hi();
	f->defs[2].name = (char *)"off";
	f->defs[2].enabled = false;
	fx_init(f, 2, 3);
	fx_start(f, "c1");
	/* instances: crit m1 (0), crit m2 (1), low m1 (2), low m2 (3), off m1, off m2 */
	assert_int_equal(alarm_count(f->e), 6);
	alarm_counts(f->e, &c);
	assert_int_equal(c.newest, -1);
	assert_int_equal(c.oos, 2);
	assert_int_equal(alarm_meter_priority(f->e, 0), -1);
	assert_int_equal(alarm_meter_priority(f->e, 7), -1);

	alarm_feed(f->e, 3, HI, true, T0);          /* low m2: unack */
	alarm_feed(f->e, 2, HI, true, T0 + 1 * S);  /* low m1: unack, newer */
	alarm_counts(f->e, &c);
	assert_int_equal(c.unack[PRIO_LOW], 2);
	assert_int_equal(c.active[PRIO_LOW], 2);
	assert_int_equal(c.newest, 2);
	alarm_feed(f->e, 1, HI, true, T0 + 2 * S);  /* crit m2 */
	alarm_feed(f->e, 0, HI, true, T0 + 3 * S);  /* crit m1, newest */
	alarm_ack(f->e, 0, "alice", NULL, T0 + 4 * S, err, sizeof(err));
	alarm_feed(f->e, 1, LO, true, T0 + 5 * S);  /* crit m2: rtn_unack */
	alarm_shelve(f->e, 3, "alice", 0, NULL, T0 + 6 * S, err, sizeof(err));
	alarm_suppress(f->e, 2, true, T0 + 7 * S);
	alarm_counts(f->e, &c);
	assert_int_equal(c.unack[PRIO_CRITICAL], 1);  /* rtn_unack m2 */
	assert_int_equal(c.active[PRIO_CRITICAL], 1); /* ack m1 */
	assert_int_equal(c.unack[PRIO_LOW], 0);
	assert_int_equal(c.active[PRIO_LOW], 0);
	assert_int_equal(c.shelved, 1);
	assert_int_equal(c.suppressed, 1);
	assert_int_equal(c.oos, 2);
	assert_int_equal(c.newest, 1);
	assert_int_equal(alarm_meter_priority(f->e, 0), PRIO_CRITICAL); /* ack */
	assert_int_equal(alarm_meter_priority(f->e, 1), PRIO_CRITICAL); /* rtn_unack */
	alarm_ack(f->e, 1, "alice", NULL, T0 + 8 * S, err, sizeof(err));
	assert_int_equal(alarm_meter_priority(f->e, 1), -1); /* shelved low does not count */
	alarm_counts(f->e, &c);
	assert_int_equal(c.newest, -1);
	fx_free(f);
}

static bool counts_equal(const struct alarm_counts *a, const struct alarm_counts *b)
{
	int p;

	for (p = 0; p < PRIO__COUNT; p++)
		if (a->unack[p] != b->unack[p] || a->active[p] != b->active[p])
			return false;
	return a->shelved == b->shelved && a->suppressed == b->suppressed && a->oos == b->oos &&
	       a->newest == b->newest;
}

/* The banner's counts are kept between changes (alarm_counts): after every
 * step of a random walk of feeds, acks, shelves, unshelves, suppressions,
 * notes and restored journal rows, the kept figures equal a fresh count. */
static void test_counts_kept(void **state)
{
	static const char *const states[] = { "unack", "ack", "rtn_unack", "shelved", "normal" };
	static const char *const names[] = { "crit", "low", "hi" };
	struct fx *f = util_calloc(1, sizeof(*f));
	struct alarm_counts kept, fresh;
	uint32_t x = 12345;
	int64_t now = T0;
	char err[64];
	int step, changed = 0;

	(void)state;
	f->defs[0] = def_hi();
	f->defs[0].name = (char *)names[0];
	f->defs[0].priority = PRIO_CRITICAL;
	f->defs[1] = def_hi();
	f->defs[1].name = (char *)names[1];
	f->defs[1].priority = PRIO_LOW;
	f->defs[2] = def_hi();
	fx_init(f, 3, 3);
	fx_start(f, "c1");
	for (step = 0; step < 4000; step++) {
		size_t i;
		unsigned op;

		x = x * 1103515245u + 12345u;
		i = (x >> 8) % alarm_count(f->e);
		op = (x >> 20) % 8;
		now += (int64_t)((x >> 4) % 7) * 10 * S;
		alarm_counts(f->e, &kept); /* counted before the change */
		switch (op) {
		case 0:
		case 1:
			alarm_feed(f->e, i, op == 0 ? HI : LO, true, now);
			break;
		case 2:
			alarm_ack(f->e, i, "alice", NULL, now, err, sizeof(err));
			break;
		case 3:
			alarm_shelve(f->e, i, "alice", 30000, NULL, now, err, sizeof(err));
			break;
		case 4:
			alarm_unshelve(f->e, i, "alice", now, err, sizeof(err));
			break;
		case 5:
			alarm_suppress(f->e, i, (x & 1) != 0, now);
			break;
		case 6:
			alarm_note(f->e, i, "alice", "looked", now, err, sizeof(err));
			break;
		default: {
			const struct alarm_inst *in = alarm_get(f->e, i);
			struct store_alarm_event r =
			    row(in->def->name, in->meter_name, states[(x >> 3) % 5], now, now - 5 * S,
				now + 60 * S);

			alarm_restore(f->e, &r);
			break;
		}
		}
		alarm_counts_fresh(f->e, &fresh);
		if (!counts_equal(&kept, &fresh))
			changed++;
		alarm_counts(f->e, &kept);
		if (!counts_equal(&kept, &fresh))
			fail_msg("step %d (op %u on %zu): kept counts differ from a fresh count", step,
				 op, i);
	}
	assert_true(changed > 500); /* the walk did change the figures */
	fx_free(f);
}

/* ---- names and definitions ------------------------------------------------ */

static void test_names(void **state)
{
	unsigned q = 999;
	size_t i, n;
	struct alarm_def *defs;

	(void)state;
	for (i = 0; i < ALARM_STATE__COUNT; i++)
		assert_int_equal(alarm_state_parse(alarm_state_name((enum alarm_state)i)), (int)i);
	assert_string_equal(alarm_state_name(ALARM_OOS), "out_of_service");
	assert_string_equal(alarm_state_name(ALARM_RTN_UNACK), "rtn_unack");
	assert_int_equal(alarm_state_parse("bogus"), -1);
	for (i = 0; i < PRIO__COUNT; i++)
		assert_int_equal(alarm_priority_parse(alarm_priority_name((enum alarm_priority)i)),
				 (int)i);
	assert_string_equal(alarm_priority_name(PRIO_DIAGNOSTIC), "diagnostic");
	assert_int_equal(alarm_priority_parse("urgent"), -1);
	assert_string_equal(alarm_limit_name(LIMIT_HIGH_HIGH), "high-high");
	assert_int_equal(alarm_limit_parse("low-low"), LIMIT_LOW_LOW);
	assert_int_equal(alarm_limit_parse("lowlow"), -1);
	assert_true(alarm_limit_is_high(LIMIT_HIGH_HIGH));
	assert_false(alarm_limit_is_high(LIMIT_LOW));
	for (i = 0; i < AEV__COUNT; i++)
		assert_int_equal(alarm_event_parse(alarm_event_name((enum alarm_event_kind)i)), (int)i);
	assert_string_equal(alarm_event_name(AEV_UNSUPPRESS), "unsuppress");
	assert_int_equal(alarm_measure_parse("pf", &q), AM_PF);
	assert_int_equal(q, 999);
	assert_int_equal(alarm_measure_parse("v_l1n", &q), AM_QTY);
	assert_int_equal(q, QTY_V_L1N);
	assert_int_equal(alarm_measure_parse("stale", NULL), AM_STALE);
	assert_int_equal(alarm_measure_parse("volts", &q), -1);
	assert_int_equal(alarm_measure_parse("", &q), -1);
	assert_string_equal(alarm_measure_name(AM_VOLTAGE_LL), "voltage_ll");
	assert_string_equal(alarm_measure_unit(AM_QTY, QTY_P_TOTAL), "W");
	assert_string_equal(alarm_measure_unit(AM_OVERLOAD, 0), "%");
	assert_string_equal(alarm_measure_unit(AM_FREQUENCY, 0), "Hz");
	assert_string_equal(alarm_measure_unit(AM_PF, 0), "");

	n = alarm_defaults(&defs);
	assert_int_equal(n, 12);
	{
		static const struct {
			const char *name, *quantity;
			enum alarm_limit type;
			enum alarm_priority prio;
		} want[] = {
			{ "overload", "overload", LIMIT_HIGH, PRIO_CRITICAL },
			{ "phase-loss", "voltage", LIMIT_LOW_LOW, PRIO_CRITICAL },
			{ "current-unbalance", "i_unbalance", LIMIT_HIGH, PRIO_CRITICAL },
			{ "low-pf", "pf", LIMIT_LOW, PRIO_HIGH },
			{ "voltage-low", "voltage_ll", LIMIT_LOW, PRIO_HIGH },
			{ "voltage-high", "voltage_ll", LIMIT_HIGH, PRIO_HIGH },
			{ "thd-v", "thd_v", LIMIT_HIGH, PRIO_MEDIUM },
			{ "frequency-low", "frequency", LIMIT_LOW, PRIO_MEDIUM },
			{ "frequency-high", "frequency", LIMIT_HIGH, PRIO_MEDIUM },
			{ "voltage-unbalance", "v_unbalance", LIMIT_HIGH, PRIO_LOW },
			{ "comm", "comm", LIMIT_HIGH, PRIO_HIGH },
			{ "stale", "stale", LIMIT_HIGH, PRIO_LOW },
		};
		for (i = 0; i < n; i++) {
			assert_string_equal(defs[i].name, want[i].name);
			assert_string_equal(defs[i].quantity, want[i].quantity);
			assert_int_equal(defs[i].type, want[i].type);
			assert_int_equal(defs[i].priority, want[i].prio);
			assert_true(defs[i].builtin);
			assert_true(defs[i].enabled);
			assert_int_equal(defs[i].shelve_max_ms, 8 * 3600 * 1000);
			assert_non_null(defs[i].message);
			assert_non_null(defs[i].action);
			assert_true(alarm_def_matches(&defs[i], "anything"));
		}
	}
	alarm_defs_free(defs, n);

	{
		char *pats[] = { (char *)"press-*", (char *)"tgbt-1", NULL };
		struct alarm_def d = { .meters = pats };
		assert_true(alarm_def_matches(&d, "press-3"));
		assert_true(alarm_def_matches(&d, "tgbt-1"));
		assert_false(alarm_def_matches(&d, "tgbt-10"));
		assert_false(alarm_def_matches(&d, "press"));
	}
}

/* Cheap enough for 200 meters x 12 definitions at 4 Hz. */
static void test_evaluate_cost(void **state)
{
	struct config_meter *meters = util_calloc(200, sizeof(*meters));
	struct config cfg = { 0 };
	struct alarm_engine *e;
	struct live *l;
	char names[200][16];
	int64_t t, t_start;
	size_t m;

	(void)state;
	for (m = 0; m < 200; m++) {
		snprintf(names[m], sizeof(names[m]), "m%zu", m);
		meters[m] = (struct config_meter){ .name = names[m], .poll_ms = 1000,
						   .nominal_voltage = 230, .max_power = 50000 };
	}
	cfg.meters = meters;
	cfg.nmeters = 200;
	cfg.site.nominal_freq = 50;
	e = alarm_engine_new(&cfg, "c1", NULL, NULL);
	l = live_new(&cfg, NULL, NULL);
	assert_int_equal(alarm_count(e), 2400);
	t_start = util_mono_us();
	for (t = T0; t < T0 + 60 * S; t += 250 * MS) {
		for (m = 0; m < 200; m++)
			feed_meter(l, (uint32_t)m, t, 20000, 0.95);
		alarm_evaluate(e, l, &cfg, t);
	}
	/* 240 evaluations; generous bound for sanitizer builds */
	if (util_mono_us() - t_start > 20 * S)
		fail_msg("too slow: %lld us", (long long)(util_mono_us() - t_start));
	live_free(l);
	alarm_engine_free(e);
	free(meters);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_event_fields),
		cmocka_unit_test(test_unsuppress_reraises),
		cmocka_unit_test(test_delays_deadband),
		cmocka_unit_test(test_realarm),
		cmocka_unit_test(test_chattering),
		cmocka_unit_test(test_remote),
		cmocka_unit_test(test_remote_checks),
		cmocka_unit_test(test_remote_join),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_builtin_live),
		cmocka_unit_test(test_perf),
		cmocka_unit_test(test_journal_rows),
		cmocka_unit_test(test_comm_flap),
		cmocka_unit_test(test_forecast_excess),
		cmocka_unit_test(test_night_flow_config),
		cmocka_unit_test(test_night_flow),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_counts_kept),
		cmocka_unit_test(test_evaluate_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
