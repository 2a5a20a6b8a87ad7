// SPDX-License-Identifier: MIT
/*
 * Machines: occupancy and energy per piece on a scripted state sequence
 * (hand-computed shares and Wh), a shift boundary, the piece counter's
 * reset, a silent machine becoming unknown, consuming while stopped, the
 * decoding of machine messages (a state value the machine does not map
 * is malformed), [machine NAME] with its file:line errors, and the
 * figures rebuilt from what was stored (a restart, an attached console, a
 * replay) equal to those fed live.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "phasor/config.h"
#include "phasor/diag.h"
#include "phasor/live.h"
#include "phasor/machine.h"
#include "phasor/machines.h"
#include "phasor/payload.h"
#include "support.h"
#include "support_config.h"

#define S(x) ((int64_t)(x) * 1000000)

/*
 * run 0-600 s, wait 600-900, stop 900-1200, run 1200-1800. Meter 0 goes
 * 1000 -> 1400 (run) -> 1450 (wait) -> 1500 (stop) -> 1800 (run) Wh,
 * meter 1 500 -> 600 (run) and then resets to 10 (no energy). The piece
 * counter goes 100 -> 110, is reset to 3, then 8: 18 pieces.
 */
static void script(struct machine_track *t, int64_t shift2)
{
	machine_track_init(t, 0, 0, 0);
	assert_true(machine_track_state(t, MACHINE_RUN, 0));
	assert_true(machine_track_energy(t, 0, 1000) == 0);
	assert_true(machine_track_energy(t, 1, 500) == 0);
	assert_true(machine_track_pieces(t, 100, false, 0) == 0);

	machine_track_tick(t, S(600), 0, 0, 0);
	assert_true(machine_track_energy(t, 0, 1400) == 400);
	assert_true(machine_track_energy(t, 1, 600) == 100);
	assert_true(machine_track_pieces(t, 110, false, S(600)) == 10);
	assert_true(machine_track_state(t, MACHINE_WAIT, S(600)));
	assert_false(machine_track_state(t, MACHINE_WAIT, S(700))); /* the same state again */

	machine_track_tick(t, S(900), 0, 0, 0);
	assert_true(machine_track_energy(t, 0, 1450) == 50);
	assert_true(machine_track_state(t, MACHINE_STOP, S(900)));

	machine_track_tick(t, S(1200), 0, 0, 0);
	assert_true(machine_track_energy(t, 0, 1500) == 50);
	assert_true(machine_track_pieces(t, 3, false, S(1200)) == 3); /* reset */
	assert_true(machine_track_state(t, MACHINE_RUN, S(1200)));

	machine_track_tick(t, S(1500), 0, shift2, 0);
	machine_track_tick(t, S(1800), 0, shift2, 0);
	assert_true(machine_track_energy(t, 0, 1800) == 300);
	assert_true(machine_track_energy(t, 1, 10) == 0); /* meter reset: base only */
	assert_true(machine_track_pieces(t, 8, false, S(1800)) == 5);
}

static void test_occupancy(void **state)
{
	struct machine_track t;
	const struct machine_span *d = &t.day;

	(void)state;
	script(&t, 0);
	assert_int_equal(t.state, MACHINE_RUN);
	assert_true(t.since_us == S(1200));
	assert_true(d->time_us[MACHINE_RUN] == S(1200));
	assert_true(d->time_us[MACHINE_WAIT] == S(300));
	assert_true(d->time_us[MACHINE_STOP] == S(300));
	assert_true(d->time_us[MACHINE_UNKNOWN] == 0);
	assert_true(machine_span_share(d, MACHINE_RUN) == 2.0 / 3.0);
	assert_true(machine_span_share(d, MACHINE_WAIT) == 1.0 / 6.0);
	assert_true(machine_span_share(d, MACHINE_STOP) == 1.0 / 6.0);
	assert_true(isnan(machine_span_share(d, MACHINE_UNKNOWN)));
	/* without a shift change the shift is the day */
	assert_memory_equal(&t.shift, &t.day, sizeof(t.day));
}

static void test_energy_per_piece(void **state)
{
	struct machine_track t;
	const struct machine_span *d = &t.day;

	(void)state;
	script(&t, 0);
	assert_true(d->energy_wh[MACHINE_RUN] == 800);
	assert_true(d->energy_wh[MACHINE_WAIT] == 50);
	assert_true(d->energy_wh[MACHINE_STOP] == 50);
	assert_true(machine_span_energy(d) == 900);
	assert_true(machine_span_idle_energy(d) == 100);
	assert_true(d->pieces == 18);
	assert_true(t.total == 18);
	assert_int_equal(t.counter_resets, 1);
	assert_true(machine_span_energy_per_piece(d) == 50);
}

static void test_shift_boundary(void **state)
{
	struct machine_track t;
	const struct machine_span *sh = &t.shift;

	(void)state;
	script(&t, S(1500));
	/* the day is the same; the shift that started at 1500 s holds
	 * 300 s of run, the 300 Wh and the 5 pieces seen at 1800 s */
	assert_true(t.day.time_us[MACHINE_RUN] == S(1200));
	assert_true(machine_span_energy(&t.day) == 900);
	assert_true(sh->from_us == S(1500));
	assert_true(sh->time_us[MACHINE_RUN] == S(300));
	assert_true(sh->time_us[MACHINE_WAIT] == 0 && sh->time_us[MACHINE_STOP] == 0);
	assert_true(machine_span_share(sh, MACHINE_RUN) == 1);
	assert_true(machine_span_energy(sh) == 300);
	assert_true(sh->pieces == 5);
	assert_true(machine_span_energy_per_piece(sh) == 60);
	assert_true(machine_span_idle_energy(sh) == 0);
	/* a new day at 1800 s: empty, nothing per piece */
	machine_track_tick(&t, S(1800), S(1800), S(1500), 0);
	assert_true(t.day.from_us == S(1800));
	assert_true(isnan(machine_span_share(&t.day, MACHINE_RUN)));
	assert_true(isnan(machine_span_energy_per_piece(&t.day)));
}

static void test_increment_pieces(void **state)
{
	struct machine_track t;

	(void)state;
	machine_track_init(&t, 0, 0, 0);
	assert_true(machine_track_pieces(&t, 1, true, S(1)) == 1);
	assert_true(machine_track_pieces(&t, 2, true, S(2)) == 2);
	assert_true(machine_track_pieces(&t, -1, true, S(3)) == 0);
	assert_true(machine_track_pieces(&t, NAN, true, S(3)) == 0);
	assert_true(t.day.pieces == 3 && t.total == 3);
	assert_int_equal(t.counter_resets, 0);
}

static void test_stale(void **state)
{
	struct machine_track t;

	(void)state;
	machine_track_init(&t, 0, 0, 0);
	machine_track_state(&t, MACHINE_RUN, S(10));
	machine_track_tick(&t, S(100), 0, 0, S(180));
	assert_int_equal(t.state, MACHINE_RUN);
	machine_track_tick(&t, S(1000), 0, 0, S(180));
	/* silent since 10 s: unknown from 190 s */
	assert_int_equal(t.state, MACHINE_UNKNOWN);
	assert_true(t.since_us == S(190));
	assert_true(t.day.time_us[MACHINE_UNKNOWN] == S(10) + S(810));
	assert_true(t.day.time_us[MACHINE_RUN] == S(180));
	assert_true(machine_span_share(&t.day, MACHINE_RUN) == 1);
	/* a report brings it back */
	assert_true(machine_track_state(&t, MACHINE_STOP, S(1001)));
	assert_true(t.day.time_us[MACHINE_UNKNOWN] == S(821));
}

static void test_consuming_stopped(void **state)
{
	struct machine_track t;

	(void)state;
	machine_track_init(&t, 0, 0, 0);
	machine_track_state(&t, MACHINE_RUN, 0);
	machine_track_power(&t, 5000, 2000, S(50));
	assert_true(t.over_since_us == 0); /* running: consuming is fine */
	machine_track_state(&t, MACHINE_STOP, S(100));
	machine_track_power(&t, 3000, 2000, S(100));
	assert_true(t.over_since_us == S(100));
	machine_track_power(&t, 2500, 2000, S(400));
	assert_false(machine_consuming_stopped(&t, S(600), S(699)));
	assert_true(machine_consuming_stopped(&t, S(600), S(700)));
	machine_track_power(&t, 2000, 2000, S(710)); /* at the limit: not above */
	assert_false(machine_consuming_stopped(&t, S(600), S(710)));
	machine_track_power(&t, 2100, 2000, S(720));
	assert_true(t.over_since_us == S(720));
	machine_track_state(&t, MACHINE_WAIT, S(730));
	assert_true(t.over_since_us == 0);
	assert_false(machine_consuming_stopped(&t, 0, S(2000)));
}

static struct config *load_ok(const char *text)
{
	struct diag d;
	struct config *c;

	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	if (c == NULL)
		fprintf(stderr, "%s\n", d.n ? d.lines[0] : "?");
	assert_non_null(c);
	diag_clear(&d);
	return c;
}

#define BASE                                                                                   \
	"[mqtt]\nuri = tcp://127.0.0.1:1883\n"                                                 \
	"[meter press-1]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.1\n"               \
	"[meter press-1-aux]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.2\n"

static void decode(const struct config_machine *m, const char *json, enum payload_status want,
		   int want_state, double want_pieces)
{
	struct payload_machine out;
	char err[128] = "";
	enum payload_status st = payload_decode_machine(m, json, strlen(json), &out, err,
							 sizeof(err));

	if (st != want)
		fprintf(stderr, "%s: %s (%s)\n", json, payload_status_name(st), err);
	assert_int_equal(st, want);
	assert_int_equal(out.state, want_state);
	if (isnan(want_pieces))
		assert_false(out.has_pieces);
	else
		assert_true(out.has_pieces && out.pieces == want_pieces);
}

static void test_decode(void **state)
{
	struct config *c;
	const struct config_machine *m;

	(void)state;
	c = load_ok(BASE "[machine press]\nmeters = press-1\ntopic = plant/press/state\n"
			 "pieces_field = count\n");
	m = &c->machines[0];
	decode(m, "{\"state\":\"run\",\"count\":12}", PAYLOAD_OK, MACHINE_RUN, 12);
	decode(m, "{\"state\":\"stop\"}", PAYLOAD_OK, MACHINE_STOP, NAN);
	decode(m, "{\"count\":\"13\"}", PAYLOAD_OK, MACHINE_UNKNOWN, 13);
	decode(m, "{\"state\":\"fault\",\"count\":14}", PAYLOAD_MALFORMED, MACHINE_UNKNOWN, NAN);
	decode(m, "{\"state\":\"RUN\"}", PAYLOAD_MALFORMED, MACHINE_UNKNOWN, NAN);
	decode(m, "{\"state\":\"wait\",\"count\":-1}", PAYLOAD_NON_NUMERIC, MACHINE_UNKNOWN, NAN);
	decode(m, "{\"state\":\"wait\",\"count\":\"x\"}", PAYLOAD_NON_NUMERIC, MACHINE_UNKNOWN,
	       NAN);
	decode(m, "{\"other\":1}", PAYLOAD_NO_FIELD, MACHINE_UNKNOWN, NAN);
	decode(m, "[1]", PAYLOAD_MALFORMED, MACHINE_UNKNOWN, NAN);
	decode(m, "{\"state\":\"run\"} x", PAYLOAD_MALFORMED, MACHINE_UNKNOWN, NAN);
	config_free(c);

	/* a PLC's numeric codes under a nested path */
	c = load_ok(BASE "[machine press]\nmeters = press-1, press-1-aux\n"
			 "topic = plc/7\nstate_field = plc.mode\nrun = 1, 4\nwait = 2\nstop = 0, 3\n"
			 "pieces_field = plc.parts\npieces = increment\nstopped_power = 2 kW\n"
			 "stopped_after = 5m\n");
	m = &c->machines[0];
	assert_int_equal(m->nmeters, 2);
	assert_true(m->meters[0] == 0 && m->meters[1] == 1);
	assert_true(m->pieces_increment);
	assert_true(m->stopped_power == 2000);
	assert_true(m->stopped_after_ms == 5 * 60 * 1000);
	decode(m, "{\"plc\":{\"mode\":4,\"parts\":1}}", PAYLOAD_OK, MACHINE_RUN, 1);
	decode(m, "{\"plc\":{\"mode\":3}}", PAYLOAD_OK, MACHINE_STOP, NAN);
	decode(m, "{\"plc\":{\"mode\":\"2\"}}", PAYLOAD_OK, MACHINE_WAIT, NAN);
	decode(m, "{\"plc\":{\"mode\":5}}", PAYLOAD_MALFORMED, MACHINE_UNKNOWN, NAN);
	decode(m, "{\"plc\":{\"mode\":true}}", PAYLOAD_MALFORMED, MACHINE_UNKNOWN, NAN);
	config_free(c);
}

#define expect expect_errors_v

static void test_config_errors(void **state)
{
	(void)state;
	expect(BASE "[machine m]\nmeters = press-1\ntopic = a/b\n", (const char *const[]){ NULL });
	expect(BASE "[machine m]\nmeters = press-1\ntopic = a/b\nstoped_power = 2kW\n",
	       (const char *const[]){ "t.ini:14: unknown key 'stoped_power' in [machine m]; did "
				      "you mean 'stopped_power'?",
				      NULL });
	expect(BASE "[machine m]\ntopic = a/b\n",
	       (const char *const[]){ "t.ini:11: missing key 'meters' in [machine m] (the meters "
				      "that feed the machine)",
				      NULL });
	expect(BASE "[machine m]\nmeters = press-l\n",
	       (const char *const[]){ "t.ini:11: missing key 'topic' in [machine m] (where the "
				      "machine publishes its state)",
				      "t.ini:12: meters: no meter 'press-l'; did you mean 'press-1'?",
				      NULL });
	expect(BASE "[machine m]\nmeters = press-1, press-1\ntopic = a/+\n",
	       (const char *const[]){ "t.ini:12: meters: 'press-1' is listed twice",
				      "t.ini:13: topic: 'a/+' is not an MQTT topic (one machine's "
				      "topic, no wildcard, not $share/ or $SYS)",
				      NULL });
	expect(BASE "[machine m]\nmeters = press-1\ntopic = a/b\nrun = 1, 2\nstop = 2\n",
	       (const char *const[]){ "t.ini:11: [machine m]: the value '2' means both run and "
				      "stop",
				      NULL });
	expect(BASE "[machine press-1]\nmeters = press-1\ntopic = a/b\n",
	       (const char *const[]){ "t.ini:11: machine 'press-1' has the name of a meter (names "
				      "are shared by meters and machines)",
				      NULL });
	expect(BASE "[machine m]\nmeters = press-1\ntopic = a/b\ndriver = sparkplug\n"
		    "stopped_power = much\nstopped_after = 0s\npieces = lots\nwait = ,\n",
	       (const char *const[]){
		   "t.ini:14: driver: sparkplug is not supported for machines yet (mqtt, modbus)",
		   "t.ini:15: stopped_power: much is not a power (e.g. 2kW, 800W)",
		   "t.ini:16: stopped_after: 0s is out of range (1s to 24h)",
		   "t.ini:17: pieces: lots is not counter or increment",
		   "t.ini:18: wait: an empty value in the list ',' (values separated by commas)",
		   NULL });
	/* modbus: the device and what to read; the topic is the other driver's */
	expect(BASE "[machine m]\ndriver = modbus\nmeters = press-1\ntopic = a/b\nport = 0\n",
	       (const char *const[]){
		   "t.ini:11: missing key 'host' in [machine m] (the machine's Modbus TCP device)",
		   "t.ini:11: missing key 'state_register' in [machine m] (or pieces_register: what "
		   "to read of the machine)",
		   "t.ini:14: topic: not a key of a machine with driver = modbus",
		   "t.ini:15: port: 0 is not a port (1..65535)", NULL });
	expect(BASE "[machine m]\nmeters = press-1\ntopic = a/b\nstate_register = 3\n",
	       (const char *const[]){ "t.ini:14: state_register: not a key of a machine with "
				      "driver = mqtt",
				      NULL });
	expect(BASE "[machine m]\ndriver = modbus\nmeters = press-1\nhost = 10.0.0.9\n"
		    "state_register = 70000\nregister_function = 6\n",
	       (const char *const[]){ "t.ini:15: state_register: 70000 is out of range (0..65535)",
				      "t.ini:16: register_function: 6 is out of range (3..4)",
				      NULL });
	expect(BASE "[machine m]\nmeters = press-1\ntopic = a/b\n[machine m]\nmeters = press-1\n"
		    "topic = a/c\n",
	       (const char *const[]){ "t.ini:14: duplicate machine 'm' (first at line 11)", NULL });
	expect("[meter p]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.1\n"
	       "[machine m]\nmeters = p\ntopic = a/b\n",
	       (const char *const[]){ "t.ini:7: topic: machines need an [mqtt] section", NULL });
	expect(BASE "[machin m]\n",
	       (const char *const[]){ "t.ini:11: unknown section [machin m]; did you mean [machine "
				      "NAME]?",
				      NULL });
	expect(BASE "[machine]\n",
	       (const char *const[]){ "t.ini:11: a machine section needs a name: [machine NAME]",
				      NULL });
}

/* 2026-12-07T00:00:00Z */
#define DAY0 INT64_C(1796601600)

/*
 * The hub's side (feed/machines.c) in UTC with three shifts: the spans
 * start at local midnight and at the shift's start, a new shift at 22:00;
 * a message is stored as a state sample when the state changes and a
 * pieces sample when the count moves, as unit nmeters + k.
 */
static void test_machines_feed(void **state)
{
	struct config *c;
	struct machines *ms;
	const struct machine_track *t;
	struct sample out[2];
	char err[128];
	size_t n;
	const char *run = "{\"state\":\"run\",\"count\":3}";
	const char *again = "{\"state\":\"run\",\"count\":3}";
	const char *stop = "{\"state\":\"stop\",\"count\":4}";
	const char *bad = "{\"state\":\"jam\"}";

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	c = load_ok("[site]\nshifts = 06:00, 14:00, 22:00\n" BASE
		    "[machine press]\nmeters = press-1-aux\ntopic = plant/press\n"
		    "pieces_field = count\n");
	ms = machines_new(c, S(DAY0 + 15 * 3600 + 1800)); /* 15:30 */
	assert_int_equal(machines_count(ms), 1);
	assert_int_equal(machines_find_topic(ms, "plant/press"), 0);
	assert_int_equal(machines_find_topic(ms, "plant/other"), -1);
	t = machines_track(ms, 0);
	assert_true(t->day.from_us == S(DAY0));
	assert_true(t->shift.from_us == S(DAY0 + 14 * 3600));

	assert_int_equal(machines_message(ms, 0, run, strlen(run), S(DAY0 + 15 * 3600 + 1800),
					  out, &n, err, sizeof(err)),
			 PAYLOAD_OK);
	assert_int_equal(n, 2);
	assert_int_equal(out[0].meter, 2); /* after the two meters */
	assert_int_equal(out[0].qty, QTY_MACHINE_STATE);
	assert_true(out[0].value == MACHINE_RUN);
	assert_int_equal(out[1].qty, QTY_PIECES);
	assert_true(out[1].value == 3);
	/* the same again: nothing to store */
	assert_int_equal(machines_message(ms, 0, again, strlen(again), S(DAY0 + 16 * 3600), out,
					  &n, err, sizeof(err)),
			 PAYLOAD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(machines_message(ms, 0, bad, strlen(bad), S(DAY0 + 16 * 3600), out, &n,
					  err, sizeof(err)),
			 PAYLOAD_MALFORMED);
	assert_int_equal(n, 0);
	assert_int_equal(t->malformed, 1);
	assert_int_equal(machines_message(ms, 0, stop, strlen(stop), S(DAY0 + 21 * 3600), out, &n,
					  err, sizeof(err)),
			 PAYLOAD_OK);
	assert_int_equal(n, 2);
	assert_true(out[0].value == MACHINE_STOP && out[1].value == 4);
	/* 22:00:05: a new shift, the same day; silent for 3 x 60 s after
	 * 21:00, it became unknown at 21:03 */
	machines_tick(ms, NULL, S(DAY0 + 22 * 3600 + 5));
	assert_true(t->shift.from_us == S(DAY0 + 22 * 3600));
	assert_true(t->day.from_us == S(DAY0));
	assert_int_equal(t->state, MACHINE_UNKNOWN);
	assert_true(t->day.time_us[MACHINE_RUN] == S(5 * 3600 + 1800));
	assert_true(t->day.time_us[MACHINE_STOP] == S(180));
	assert_true(t->shift.time_us[MACHINE_UNKNOWN] == S(5));
	assert_true(t->day.pieces == 1);
	assert_false(machines_consuming_stopped(ms, 0, S(DAY0 + 22 * 3600 + 5)));
	machines_free(ms);
	config_free(c);
}

/* A Modbus machine: its poll meter (unit after the meters, the registers
 * raw), the default codes 1 run, 2 wait, 0 stop, a code it does not map
 * counted as malformed. */
static void test_modbus_machine(void **state)
{
	struct config *c;
	struct machines *ms;
	const struct config_meter *pm;
	struct sample in[2], out[4];
	size_t n;

	(void)state;
	c = load_ok(BASE "[machine plc]\ndriver = modbus\nmeters = press-1\nhost = 10.0.0.9\n"
			 "unit = 7\npoll_ms = 500\nstate_register = 100\npieces_register = 102\n"
			 "register_function = 4\n");
	pm = c->machines[0].poll;
	assert_non_null(pm);
	assert_null(c->machines[0].topic);
	assert_string_equal(pm->host, "10.0.0.9");
	assert_int_equal(pm->port, 502);
	assert_int_equal(pm->unit, 7);
	assert_int_equal(pm->poll_ms, 500);
	assert_true(c->machines[0].period_ms == 500);
	assert_int_equal(pm->profile->nregs, 2);
	assert_int_equal(pm->profile->regs[0].qty, QTY_MACHINE_STATE);
	assert_int_equal(pm->profile->regs[0].address, 100);
	assert_int_equal(pm->profile->regs[0].function, 4);
	assert_int_equal(pm->profile->regs[0].type, REG_UINT16);
	assert_int_equal(pm->profile->regs[1].qty, QTY_PIECES);
	assert_int_equal(pm->profile->regs[1].type, REG_UINT32);

	ms = machines_new(c, S(1000));
	in[0] = (struct sample){ .t_us = S(1000), .value = 1, .meter = 2, .qty = QTY_MACHINE_STATE };
	in[1] = (struct sample){ .t_us = S(1000), .value = 40, .meter = 2, .qty = QTY_PIECES };
	n = machines_polled(ms, in, 2, out, 4);
	assert_int_equal(n, 2);
	assert_true(out[0].qty == QTY_MACHINE_STATE && out[0].value == MACHINE_RUN);
	assert_true(out[1].qty == QTY_PIECES && out[1].value == 40);
	/* the same poll again: nothing new */
	assert_int_equal(machines_polled(ms, in, 2, out, 4), 0);
	in[0].value = 0; /* stop */
	in[1].value = 41;
	in[0].t_us = in[1].t_us = S(1060);
	n = machines_polled(ms, in, 2, out, 4);
	assert_int_equal(n, 2);
	assert_true(out[0].value == MACHINE_STOP && out[1].value == 41);
	in[0].value = 9; /* no state of the machine */
	assert_int_equal(machines_polled(ms, in, 1, out, 4), 0);
	assert_int_equal(machines_track(ms, 0)->malformed, 1);
	assert_int_equal(machines_track(ms, 0)->state, MACHINE_STOP);
	assert_true(machines_track(ms, 0)->day.pieces == 1);
	/* a meter's samples are not the machine's */
	in[0].meter = 0;
	assert_int_equal(machines_polled(ms, in, 1, out, 4), 0);
	machines_free(ms);
	config_free(c);
}

/*
 * The same scripted run fed live (messages, a report every minute, the
 * meter's counter through a live state, a tick every 30 s) and as stored
 * (the samples the messages made, the counter at each tick, the session's
 * start): machines_seed gives the same occupancy, pieces and energy for
 * the shift and the day. 13:50 to 14:20 UTC, shifts at 06:00 and 14:00:
 * run 13:50-13:55, wait -14:00, stop -14:05, run -14:20 (1200 s of run,
 * 300 of wait and 300 of stop today; the shift from 14:00 has 300 s of
 * stop and 900 of run), a piece every two minutes of run. The counter
 * rises 20 Wh a tick: 40 Wh a minute.
 */
#define RESTART_CFG                                                                            \
	"[site]\nshifts = 06:00, 14:00, 22:00\n" BASE                                          \
	"[machine press]\nmeters = press-1\ntopic = plant/press\npieces_field = count\n"

struct script_out {
	struct machines_point p[256];
	size_t n;
};

static void point(struct script_out *o, int64_t t_us, int kind, double v)
{
	assert_true(o->n < UTIL_ARRAY_LEN(o->p));
	o->p[o->n] = (struct machines_point){ .t_us = t_us, .kind = kind, .value = v,
					      .order = o->n };
	o->n++;
}

/* Feeds ms live from t0 (s since DAY0) for dur s; what a recorder would
 * have stored into o. */
static void run_live(struct machines *ms, struct live *live, int64_t t0, int64_t dur,
		     double *energy, double *count, struct script_out *o)
{
	int64_t s;

	for (s = 0; s <= dur; s += 30) {
		int64_t t = S(DAY0 + t0 + s);
		struct sample e = { .t_us = t, .value = *energy, .meter = 0, .qty = QTY_E_IMP,
				    .quality = QUALITY_GOOD };
		struct live_counter c;

		live_apply(live, &e, 1);
		*energy += 20;
		if (s % 60 == 0) {
			struct sample out[2];
			const char *st = s < 300 ? "run" : s < 600 ? "wait" : s < 900 ? "stop" : "run";
			char json[64], err[128];
			size_t n, i;

			if (s % 120 == 0 && (s < 300 || s >= 900))
				*count += 1; /* a piece every 2 minutes of run */
			snprintf(json, sizeof(json), "{\"state\":\"%s\",\"count\":%.0f}", st, *count);
			assert_int_equal(machines_message(ms, 0, json, strlen(json), t, out, &n, err,
							  sizeof(err)),
					 PAYLOAD_OK);
			for (i = 0; i < n; i++)
				point(o, t, out[i].qty == QTY_MACHINE_STATE ? MACHINES_STATE
									   : MACHINES_PIECES,
				      out[i].value);
		}
		machines_tick(ms, live, t);
		assert_true(live_counter(live, 0, QTY_E_IMP, &c));
		point(o, t, MACHINES_ENERGY, c.joined);
	}
}

/* The first run from 13:50 (t0) on a fresh live state, in UTC: *c and
 * *live made, its stored points in o. The machines it fed (free them). */
static struct machines *first_run(struct config **c, struct live **live, int64_t t0,
				  double *energy, double *count, struct script_out *o)
{
	struct machines *ms;

	setenv("TZ", "UTC", 1);
	tzset();
	*c = load_ok(RESTART_CFG);
	*live = live_new(*c, NULL, NULL);
	ms = machines_new(*c, S(DAY0 + t0));
	point(o, S(DAY0 + t0), MACHINES_START, 0); /* the recorder's session */
	run_live(ms, *live, t0, 1800, energy, count, o);
	return ms;
}

static void same_span(const struct machine_span *a, const struct machine_span *b)
{
	int k;

	assert_true(a->from_us == b->from_us);
	for (k = 0; k < MACHINE__COUNT; k++) {
		assert_true(a->time_us[k] == b->time_us[k]);
		assert_true(a->energy_wh[k] == b->energy_wh[k]);
	}
	assert_true(a->pieces == b->pieces);
}

static void test_seed_equals_live(void **state)
{
	struct config *c;
	struct machines *live_ms, *seeded;
	struct live *live;
	struct script_out *o = calloc(1, sizeof(*o));
	const struct machine_track *a, *b;
	double energy = 5000, count = 40;
	int64_t t0 = 13 * 3600 + 50 * 60;

	(void)state;
	live_ms = first_run(&c, &live, t0, &energy, &count, o);

	seeded = machines_new(c, S(DAY0 + t0 + 1800));
	machines_follow_store(seeded);
	machines_seed(seeded, o->p, o->n, S(DAY0 + t0 + 1800));
	a = machines_track(live_ms, 0);
	b = machines_track(seeded, 0);
	assert_int_equal(b->state, a->state);
	assert_true(b->since_us == a->since_us);
	same_span(&a->day, &b->day);
	same_span(&a->shift, &b->shift);
	/* and those are the script's figures */
	assert_true(b->day.from_us == S(DAY0) && b->shift.from_us == S(DAY0 + 14 * 3600));
	assert_true(b->day.time_us[MACHINE_RUN] == S(1200) &&
		    b->day.time_us[MACHINE_WAIT] == S(300) && b->day.time_us[MACHINE_STOP] == S(300));
	assert_true(b->shift.time_us[MACHINE_STOP] == S(300) &&
		    b->shift.time_us[MACHINE_RUN] == S(900));
	assert_true(b->day.pieces == 10); /* 41 (the base) to 51 */
	/* the first counter value is the base: 60 ticks of 20 Wh */
	assert_true(machine_span_energy(&b->day) == 60 * 20);
	assert_true(b->day.energy_wh[MACHINE_WAIT] == 10 * 20 &&
		    b->day.energy_wh[MACHINE_STOP] == 10 * 20);
	machines_free(seeded);
	machines_free(live_ms);
	live_free(live);
	free(o);
	config_free(c);
}

/*
 * A restart: the recorder stopped at 14:20 and started again at 14:30.
 * Seeded from what the first run stored, the figures go on from there:
 * the ten minutes between are unknown (in no share), the piece counter's
 * first value after the restart only sets its base again, and the second
 * run adds to the day's time, pieces and energy instead of starting them
 * from zero.
 */
static void test_seed_restart(void **state)
{
	struct config *c;
	struct machines *first, *second;
	struct live *live;
	struct script_out *o = calloc(1, sizeof(*o)), *o2 = calloc(1, sizeof(*o2));
	const struct machine_track *t;
	double energy = 5000, count = 40;
	int64_t t0 = 13 * 3600 + 50 * 60, t1 = t0 + 1800, t2 = t1 + 600;

	(void)state;
	first = first_run(&c, &live, t0, &energy, &count, o);
	point(o, S(DAY0 + t1), MACHINES_END, 0);
	point(o, S(DAY0 + t2), MACHINES_START, 0);
	machines_free(first);

	/* the restarted recorder: seeded, then fed live as before */
	second = machines_new(c, S(DAY0 + t2));
	machines_seed(second, o->p, o->n, S(DAY0 + t2));
	t = machines_track(second, 0);
	assert_int_equal(t->state, MACHINE_UNKNOWN);
	assert_true(t->since_us == S(DAY0 + t1));
	assert_true(t->day.time_us[MACHINE_RUN] == S(1200));
	assert_true(t->day.time_us[MACHINE_UNKNOWN] == S(600));
	assert_true(t->day.pieces == 10);
	assert_true(t->total == 0 && !t->have_counter);
	energy += 1000; /* the meter went on while nobody recorded */
	count += 5;
	run_live(second, live, t2, 1800, &energy, &count, o2);
	/* the second run as the first; its first count (57, the base) to 67:
	 * 10 more */
	assert_true(t->day.time_us[MACHINE_RUN] == S(2400));
	assert_true(t->day.time_us[MACHINE_WAIT] == S(600));
	assert_true(t->day.time_us[MACHINE_STOP] == S(600));
	assert_true(t->day.time_us[MACHINE_UNKNOWN] == S(600));
	assert_true(t->day.pieces == 20);
	assert_true(machine_span_share(&t->day, MACHINE_RUN) == 2400.0 / 3600.0);
	/* energy: 60 ticks before, 60 after (the restart's first value is a base) */
	assert_true(machine_span_energy(&t->day) == 120 * 20);
	assert_true(machine_span_idle_energy(&t->day) == 40 * 20);
	assert_true(machine_span_energy_per_piece(&t->day) == 120);
	machines_free(second);
	live_free(live);
	free(o);
	free(o2);
	config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_occupancy),	 cmocka_unit_test(test_energy_per_piece),
		cmocka_unit_test(test_shift_boundary),	 cmocka_unit_test(test_increment_pieces),
		cmocka_unit_test(test_stale),		 cmocka_unit_test(test_consuming_stopped),
		cmocka_unit_test(test_decode),		 cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_machines_feed),	 cmocka_unit_test(test_modbus_machine),
		cmocka_unit_test(test_seed_equals_live), cmocka_unit_test(test_seed_restart),
	};

	setenv("PHASOR_PROFILES", test_path("conf/profiles"), 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
