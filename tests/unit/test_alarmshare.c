// SPDX-License-Identifier: MIT
/*
 * Unit tests of alarmshare.c: an alarm event survives the trip through
 * JSON field for field (NaN as null, big microsecond times exactly), every
 * malformed payload is refused with a reason, hostile strings come out
 * sanitized, and topic levels never carry MQTT wildcards or separators.
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

#include "phasor/alarm.h"
#include "phasor/alarmshare.h"
#include "phasor/util.h"

static void test_roundtrip(void **state)
{
	struct alarm_event ev, back;
	struct alarmshare_names names;
	char err[128], *json;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.kind = AEV_SHELVE;
	ev.t_us = 1795000000123456LL;
	util_strlcpy(ev.id, "plc-1-0a1b2c3d:18a2b.7", sizeof(ev.id));
	util_strlcpy(ev.origin, "plc-1-0a1b2c3d", sizeof(ev.origin));
	ev.alarm = "low-pf";
	ev.meter = "oven \"A\", line 2";
	ev.quantity = "pf";
	ev.priority = PRIO_HIGH;
	ev.state = ALARM_SHELVED;
	ev.value = 0.8125;
	ev.limit = NAN;
	util_strlcpy(ev.operator_name, "Marie Curie", sizeof(ev.operator_name));
	util_strlcpy(ev.note, "bank 2 out; électricien appelé", sizeof(ev.note));
	ev.raised_us = 1794999999000001LL;
	ev.until_us = 1795003600123456LL;

	json = alarmshare_encode(&ev);
	assert_non_null(strstr(json, "\"limit\":null"));
	assert_int_equal(alarmshare_decode(json, strlen(json), &back, &names, err, sizeof(err)), 0);
	free(json);
	assert_int_equal(back.kind, AEV_SHELVE);
	assert_true(back.t_us == ev.t_us);
	assert_string_equal(back.id, ev.id);
	assert_string_equal(back.origin, ev.origin);
	assert_string_equal(back.alarm, "low-pf");
	assert_string_equal(back.meter, "oven \"A\", line 2");
	assert_string_equal(back.quantity, "pf");
	assert_int_equal(back.priority, PRIO_HIGH);
	assert_int_equal(back.state, ALARM_SHELVED);
	assert_true(back.value == 0.8125);
	assert_true(isnan(back.limit));
	assert_string_equal(back.operator_name, "Marie Curie");
	assert_string_equal(back.note, "bank 2 out; électricien appelé");
	assert_true(back.raised_us == ev.raised_us);
	assert_true(back.until_us == ev.until_us);
	assert_false(back.remote);
}

static void test_malformed(void **state)
{
	static const struct {
		const char *json, *why;
	} cases[] = {
		{ "", "not a JSON object" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"id\":\"x\"", "not a JSON object" },
		/* fuzz_alarmshare: text after the object was ignored */
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1}va",
		  "not a JSON object" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1}{\"id\":\"j\"}",
		  "not a JSON object" },
		{ "{\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1}",
		  "missing id, origin, event, alarm, meter or priority" },
		{ "{\"id\":\"\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1}",
		  "missing id, origin, event, alarm, meter or priority" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":\"soon\"}",
		  "t_us, value, limit, raised_us or until_us is not a number" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\"}",
		  "t_us, value, limit, raised_us or until_us is not a number" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1,\"value\":\"1\"}",
		  "t_us, value, limit, raised_us or until_us is not a number" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"explode\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1}",
		  "unknown event, priority or state" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"urgent\",\"t_us\":1}",
		  "unknown event, priority or state" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"state\":\"panic\",\"t_us\":1}",
		  "unknown event, priority or state" },
		{ "{\"id\":7,\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1}",
		  "missing id, origin, event, alarm, meter or priority" },
		/* fuzz_alarmshare (tests/fuzz): times past int64 microseconds were
		 * an undefined conversion, now refused */
		{ "{\"id\":\"console,a:17\",\"origin\":\"cons\u00e9le-a\",\"t_us\":179500000000000000000,"
		  "\"event\":\"ack\",\"alarm\":\"overl d\",\"meter\":\"tgbt-1\",\"priority\":\"critical\","
		  "\"raised_us\":1794999990000000,\"until_us\":0}",
		  "t_us, raised_us or until_us is out of range" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"shelve\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1,\"until_us\":1e300}",
		  "t_us, raised_us or until_us is out of range" },
		{ "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\",\"meter\":\"m\","
		  "\"priority\":\"high\",\"t_us\":1,\"raised_us\":-9.3e18}",
		  "t_us, raised_us or until_us is out of range" },
		/* a t_us under 1 µs was taken as 0, which the re-encoded event is refused for */
		{ "{\"id\":\"g\",\"origin\":\"c\",\"t_us\":0.024095576030431004,\"event\":\"note\","
		  "\"alarm\":\"\xff\",\"meter\":\"\",\"priority\":\"low\"}",
		  "t_us, value, limit, raised_us or until_us is not a number" },
	};
	struct alarm_event ev;
	struct alarmshare_names names;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(alarmshare_decode(cases[i].json, strlen(cases[i].json), &ev, &names,
						   err, sizeof(err)),
				 -1);
		assert_string_equal(err, cases[i].why);
	}
	/* White space (a newline from mosquitto_pub -l) after the object is fine. */
	{
		static const char ok[] = "{\"id\":\"i\",\"origin\":\"o\",\"event\":\"ack\",\"alarm\":\"a\","
					 "\"meter\":\"m\",\"priority\":\"high\",\"t_us\":1} \r\n";

		assert_int_equal(alarmshare_decode(ok, strlen(ok), &ev, &names, err, sizeof(err)), 0);
		assert_string_equal(ev.id, "i");
	}
}

static void test_sanitized(void **state)
{
	static const char json[] =
	    "{\"id\":\"i\\u001b[2J\",\"origin\":\"o\",\"event\":\"note\",\"alarm\":\"a\\u0007\","
	    "\"meter\":\"m\\u001b]0;pwned\\u0007\",\"priority\":\"low\",\"t_us\":5,"
	    "\"operator\":\"eve\\r\\n\",\"note\":\"\\u009b31m red\"}";
	struct alarm_event ev;
	struct alarmshare_names names;
	char err[128];
	const char *fields[6];
	size_t i;

	(void)state;
	assert_int_equal(alarmshare_decode(json, strlen(json), &ev, &names, err, sizeof(err)), 0);
	fields[0] = ev.id;
	fields[1] = ev.alarm;
	fields[2] = ev.meter;
	fields[3] = ev.operator_name;
	fields[4] = ev.note;
	fields[5] = ev.origin;
	for (i = 0; i < 6; i++) {
		const unsigned char *p;

		for (p = (const unsigned char *)fields[i]; *p != '\0'; p++) {
			assert_true(*p >= 0x20 && *p != 0x7f);
			/* no C1 control (U+0080..U+009F is C2 80..C2 9F in UTF-8) */
			if (*p == 0xc2)
				assert_false(p[1] >= 0x80 && p[1] <= 0x9f);
		}
	}
	assert_string_equal(ev.operator_name, "eve??");
}

static void test_topics(void **state)
{
	char *t;

	(void)state;
	t = alarmshare_events_topic("phasor/alarms", "pc-1a2b");
	assert_string_equal(t, "phasor/alarms/events/pc-1a2b");
	free(t);
	t = alarmshare_state_topic("plant/a", "pc/x", "line/2+#", "low#pf");
	assert_string_equal(t, "plant/a/state/pc_x/line_2__/low_pf");
	free(t);
	t = alarmshare_state_topic("p", "pc", "", "comm");
	assert_string_equal(t, "p/state/pc/_/comm");
	free(t);
	/* an empty alarm name (a NUL in a remote payload) is a level too:
	 * found by fuzz_alarmshare */
	t = alarmshare_state_topic("p", "pc", "m1", "");
	assert_string_equal(t, "p/state/pc/m1/_");
	free(t);
	assert_true(alarmshare_is_operator_event(AEV_ACK));
	assert_true(alarmshare_is_operator_event(AEV_SHELVE));
	assert_true(alarmshare_is_operator_event(AEV_UNSHELVE));
	assert_true(alarmshare_is_operator_event(AEV_NOTE));
	assert_false(alarmshare_is_operator_event(AEV_RAISE));
	assert_false(alarmshare_is_operator_event(AEV_CLEAR));
	assert_false(alarmshare_is_operator_event(AEV_SUPPRESS));
	assert_false(alarmshare_is_operator_event(AEV_UNSUPPRESS));
}

/*
 * The origin comes from the topic (what a broker's ACL can guard): the
 * topic's level is read back from either form and nothing else; an event
 * whose origin or id names another console than its topic's is refused.
 */
static void test_topic_origin(void **state)
{
	char o[32];
	struct alarm_event ev;

	(void)state;
	assert_int_equal(alarmshare_topic_origin("phasor/alarms", "phasor/alarms/events/pc-1", o,
						 sizeof(o)), 0);
	assert_string_equal(o, "pc-1");
	assert_int_equal(alarmshare_topic_origin("p/a", "p/a/state/pc-2/m1/voltage-low", o,
						 sizeof(o)), 0);
	assert_string_equal(o, "pc-2");
	/* not of the form: the old topics, missing or extra levels, another prefix */
	assert_int_equal(alarmshare_topic_origin("p", "p/events", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "p/events/", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "p/events/a/b", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "p/state/m1/voltage-low", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "p/state/pc//a", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "p/state/pc/m/a/x", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "px/events/pc", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "p/other/pc", o, sizeof(o)), -1);
	assert_int_equal(alarmshare_topic_origin("p", "p/events/a-very-long-origin-name-of-more-than-32",
						 o, sizeof(o)), -1);

	memset(&ev, 0, sizeof(ev));
	util_strlcpy(ev.origin, "pc-1", sizeof(ev.origin));
	util_strlcpy(ev.id, "pc-1:abc.3", sizeof(ev.id));
	assert_int_equal(alarmshare_check_origin(&ev, "pc-1"), 0);
	assert_int_equal(alarmshare_check_origin(&ev, "pc-2"), -1);
	util_strlcpy(ev.id, "pc-2:abc.3", sizeof(ev.id)); /* another's id */
	assert_int_equal(alarmshare_check_origin(&ev, "pc-1"), -1);
	util_strlcpy(ev.id, "pc-10:abc.3", sizeof(ev.id)); /* a prefix is not enough */
	assert_int_equal(alarmshare_check_origin(&ev, "pc-1"), -1);
	util_strlcpy(ev.origin, "pc/1", sizeof(ev.origin)); /* as a topic level */
	util_strlcpy(ev.id, "pc/1:x.1", sizeof(ev.id));
	assert_int_equal(alarmshare_check_origin(&ev, "pc_1"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_sanitized),
		cmocka_unit_test(test_topics),
		cmocka_unit_test(test_topic_origin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
