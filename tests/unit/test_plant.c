// SPDX-License-Identifier: MIT
/*
 * Unit tests of the console's read model (plant.c): how a link reads
 * with its meters (a connection over which no meter answers is
 * "degraded", not "up"; a link that retries is "down" since its first
 * failure), which meters a link serves, a meter's comm state as of the
 * plant's instant; and source_link_move(), which keeps "down for"
 * counting from the first failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "phasor/live.h"
#include "phasor/plant.h"
#include "phasor/source.h"
#include "phasor/util.h"

#define S INT64_C(1000000)
#define T0 (INT64_C(1800000000) * S)

enum { M_A, M_B, M_C, M_MQ, NMETERS };

struct fixture {
	struct config_meter meters[NMETERS];
	struct config cfg;
	struct live *live;
	struct plant plant;
	struct source_link mb, mq;
};

static int setup(void **state)
{
	struct fixture *f = util_calloc(1, sizeof(*f));
	static const char *const names[NMETERS] = { "a", "b", "c", "mq" };
	size_t i;

	for (i = 0; i < NMETERS; i++) {
		f->meters[i].name = (char *)names[i];
		f->meters[i].driver = i == M_MQ ? DRIVER_MQTT : DRIVER_MODBUS;
		f->meters[i].host = i == M_MQ ? NULL : (char *)(i == M_C ? "10.0.0.2" : "10.0.0.1");
		f->meters[i].port = 502;
		f->meters[i].poll_ms = i == M_MQ ? 10000 : 1000;
	}
	f->cfg.meters = f->meters;
	f->cfg.nmeters = NMETERS;
	f->live = live_new(&f->cfg, NULL, NULL);
	f->plant.cfg = &f->cfg;
	f->plant.live = f->live;
	f->plant.now_us = T0;
	util_strlcpy(f->mb.name, "10.0.0.1:502", sizeof(f->mb.name));
	f->mb.driver = "modbus";
	f->mb.state = LINK_UP;
	f->mb.since_us = T0 - 600 * S;
	util_strlcpy(f->mq.name, "tcp://127.0.0.1:1883", sizeof(f->mq.name));
	f->mq.driver = "mqtt";
	f->mq.state = LINK_UP;
	f->mq.since_us = T0 - 600 * S;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	live_free(f->live);
	free(f);
	return 0;
}

/* Meter i's comm as its source said it, its last good data at last_good. */
static void comm(struct fixture *f, size_t i, enum comm_status st, int64_t last_good)
{
	struct meter_comm c;

	memset(&c, 0, sizeof(c));
	c.status = st;
	c.last_good_us = last_good;
	c.latency_us = -1;
	live_set_comm(f->live, i, &c);
	live_meter(f->live, i)->last_sample_us = last_good;
}

static void test_serves(void **state)
{
	struct fixture *f = *state;

	assert_true(plant_link_serves(&f->mb, &f->meters[M_A]));
	assert_true(plant_link_serves(&f->mb, &f->meters[M_B]));
	assert_false(plant_link_serves(&f->mb, &f->meters[M_C]));  /* another host */
	assert_false(plant_link_serves(&f->mb, &f->meters[M_MQ]));
	assert_true(plant_link_serves(&f->mq, &f->meters[M_MQ]));
	assert_false(plant_link_serves(&f->mq, &f->meters[M_A]));
	/* "HOST:PORT" exactly: not a prefix of the host or of the port */
	{
		struct config_meter m = f->meters[M_A];
		static const struct {
			const char *host;
			int port;
			bool serves;
		} c[] = {
			{ "10.0.0.1", 502, true },  { "10.0.0.1", 50, false },
			{ "10.0.0.1", 5020, false }, { "10.0.0.12", 502, false },
			{ "10.0.0.", 502, false },  { "10.0.0.1", 0, false },
		};

		for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
			m.host = (char *)c[i].host;
			m.port = c[i].port;
			assert_int_equal(plant_link_serves(&f->mb, &m), c[i].serves);
		}
		util_strlcpy(f->mb.name, "10.0.0.1:0502", sizeof(f->mb.name));
		m.host = (char *)"10.0.0.1";
		m.port = 502;
		assert_false(plant_link_serves(&f->mb, &m)); /* not what %d writes */
		util_strlcpy(f->mb.name, "10.0.0.1:502", sizeof(f->mb.name));
	}
}

/* Connected, every meter of the link down: degraded, since the last data. */
static void test_degraded(void **state)
{
	struct fixture *f = *state;
	struct plant_link pl;

	/* nothing said yet: up (the first polls are under way) */
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_UP);
	assert_string_equal(pl.word, "up");
	assert_int_equal(pl.nmeters, 2);

	comm(f, M_A, COMM_OK, T0 - 1 * S);
	comm(f, M_B, COMM_DOWN, T0 - 90 * S);
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_UP);
	assert_int_equal(pl.answering, 1);
	assert_true(pl.since_us == T0 - 600 * S);

	/* a frozen server: the connection stays, nothing answers */
	comm(f, M_A, COMM_DOWN, T0 - 40 * S);
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_DEGRADED);
	assert_string_equal(pl.word, "degraded");
	assert_int_equal(pl.answering, 0);
	assert_true(pl.since_us == T0 - 40 * S);

	/* stale counts as not answering too */
	comm(f, M_A, COMM_STALE, T0 - 4 * S);
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_DEGRADED);

	/* "ok" from the source but its data too old: stale, as the views say */
	comm(f, M_A, COMM_OK, T0 - 10 * S);
	assert_int_equal(plant_meter_comm(&f->plant, live_meter_const(f->live, M_A)), COMM_STALE);
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_DEGRADED);

	/* a frozen broker: its session up, its meters down */
	comm(f, M_MQ, COMM_DOWN, T0 - 70 * S);
	plant_link(&f->plant, &f->mq, &pl);
	assert_int_equal(pl.state, PLANT_LINK_DEGRADED);
	assert_int_equal(pl.nmeters, 1);
	comm(f, M_MQ, COMM_OK, T0 - 2 * S);
	plant_link(&f->plant, &f->mq, &pl);
	assert_int_equal(pl.state, PLANT_LINK_UP);
}

/* The status bar's count of links up and degraded, in one pass over the
 * meters, agrees with plant_link of each link; meters of one endpoint need
 * not be listed together (a, c, b: the guess misses, the search goes on). */
static void test_links_count(void **state)
{
	struct fixture *f = *state;
	struct source_link links[3];
	size_t up, degraded;

	links[0] = f->mb;
	links[1] = f->mb;
	util_strlcpy(links[1].name, "10.0.0.2:502", sizeof(links[1].name));
	links[2] = f->mq;
	f->meters[M_B].host = (char *)"10.0.0.1";
	f->meters[M_C].host = (char *)"10.0.0.2";
	plant_links_count(&f->plant, links, 3, &up, &degraded);
	assert_int_equal(up, 3); /* nothing said yet */
	assert_int_equal(degraded, 0);

	comm(f, M_A, COMM_DOWN, T0 - 40 * S);
	comm(f, M_B, COMM_OK, T0 - 1 * S);
	comm(f, M_C, COMM_DOWN, T0 - 40 * S);  /* 10.0.0.2: its only meter down */
	comm(f, M_MQ, COMM_STALE, T0 - 40 * S); /* the broker's only meter */
	plant_links_count(&f->plant, links, 3, &up, &degraded);
	assert_int_equal(up, 1);
	assert_int_equal(degraded, 2);

	comm(f, M_B, COMM_DOWN, T0 - 30 * S); /* 10.0.0.1 degraded too */
	links[2].state = LINK_DOWN;             /* the broker gone */
	plant_links_count(&f->plant, links, 3, &up, &degraded);
	assert_int_equal(up, 0);
	assert_int_equal(degraded, 2);
	{
		struct plant_link pl;
		size_t k, u = 0, d = 0;

		for (k = 0; k < 3; k++) {
			plant_link(&f->plant, &links[k], &pl);
			u += pl.state == PLANT_LINK_UP;
			d += pl.state == PLANT_LINK_DEGRADED;
		}
		assert_int_equal(u, up);
		assert_int_equal(d, degraded);
	}
	plant_links_count(&f->plant, links, 0, &up, &degraded);
	assert_int_equal(up + degraded, 0);
}

/* A link retrying after a failure reads "down", not "connecting". */
static void test_retrying_is_down(void **state)
{
	struct fixture *f = *state;
	struct plant_link pl;

	f->mb.state = LINK_CONNECTING;
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_CONNECTING);  /* the first connection */
	util_strlcpy(f->mb.error, "connect: Connection refused", sizeof(f->mb.error));
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_DOWN);
	assert_string_equal(pl.word, "down");
	f->mb.state = LINK_DOWN;
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_DOWN);
	f->mb.state = LINK_IDLE;
	plant_link(&f->plant, &f->mb, &pl);
	assert_int_equal(pl.state, PLANT_LINK_IDLE);
}

/* "down for" from the first failure: retries do not move since. */
static void test_link_move(void **state)
{
	enum link_state st = LINK_IDLE;
	int64_t since = 0;

	(void)state;
	source_link_move(&st, &since, LINK_CONNECTING, 100);
	assert_int_equal(st, LINK_CONNECTING);
	assert_true(since == 100);
	source_link_move(&st, &since, LINK_UP, 200);
	assert_true(since == 200);
	source_link_move(&st, &since, LINK_DOWN, 300);   /* the first failure */
	assert_true(since == 300);
	source_link_move(&st, &since, LINK_CONNECTING, 400);
	source_link_move(&st, &since, LINK_DOWN, 500);
	source_link_move(&st, &since, LINK_CONNECTING, 900);
	assert_int_equal(st, LINK_CONNECTING);
	assert_true(since == 300);
	source_link_move(&st, &since, LINK_UP, 1000);
	assert_true(since == 1000);
	source_link_move(&st, &since, LINK_UP, 1100);    /* no change */
	assert_true(since == 1000);
	source_link_move(&st, &since, LINK_IDLE, 1200);  /* stopped */
	assert_true(since == 1200);
	/* a link never timed (since 0) gets a time even between retries */
	st = LINK_DOWN;
	since = 0;
	source_link_move(&st, &since, LINK_CONNECTING, 1300);
	assert_true(since == 1300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_serves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_degraded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retrying_is_down, setup, teardown),
		cmocka_unit_test(test_link_move),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
