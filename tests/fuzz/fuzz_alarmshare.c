// SPDX-License-Identifier: MIT
/*
 * fuzz_alarmshare: the alarm-sharing messages other consoles publish
 * (src/plant/alarmshare.c, alarmshare_decode). The input is the MQTT
 * payload. A message that decodes is encoded again and must decode to the
 * same event (what this console forwards is what it read); every string
 * is sanitized; the state topic built from its names has exactly the
 * levels P/state/METER/ALARM.
 */
#include <math.h>

#include "phasor/alarm.h"
#include "phasor/alarmshare.h"
#include "fuzz.h"

static void check_clean(const char *s, size_t max)
{
	size_t i;

	if (memchr(s, '\0', max) == NULL)
		abort();
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

/*
 * cJSON prints a double with 15 significant digits when they read back
 * within DBL_EPSILON of it (relative), else 17: a value, a limit or a time
 * comes back equal to about 2 ulps, exactly when 15 digits hold it. Times
 * (int64 microseconds) are exact below 2^52 (the year 2112). An infinite
 * value or limit goes out as null and comes back NaN.
 */
static int same_double(double sent, double back)
{
	/* An infinite value or limit is sent as null (alarmshare_encode). */
	return (isnan(sent) && isnan(back)) || (isinf(sent) && isnan(back)) || sent == back ||
	       fabs(sent - back) <= fabs(sent) * 4.5e-16;
}

static int same_time(int64_t a, int64_t b) /* sent, back */
{
	return a == b ||
	       (fabs((double)a) >= 4503599627370496.0 && same_double((double)a, (double)b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alarm_event ev, again;
	struct alarmshare_names names, names2;
	char err[128], *json, *topic, *p;
	uint8_t *copy = malloc(size > 0 ? size : 1);
	int slashes = 0;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	if (alarmshare_decode((const char *)copy, size, &ev, &names, err, sizeof(err)) != 0) {
		check_clean(err, sizeof(err));
		free(copy);
		return 0;
	}
	free(copy);
	check_clean(ev.id, sizeof(ev.id));
	check_clean(ev.origin, sizeof(ev.origin));
	check_clean(ev.operator_name, sizeof(ev.operator_name));
	check_clean(ev.note, sizeof(ev.note));
	check_clean(names.alarm, sizeof(names.alarm));
	check_clean(names.meter, sizeof(names.meter));
	check_clean(names.quantity, sizeof(names.quantity));

	json = alarmshare_encode(&ev);
	if (json == NULL)
		abort();
	if (alarmshare_decode(json, strlen(json), &again, &names2, err, sizeof(err)) != 0) {
		fprintf(stderr, "re-encoded event refused: %s\n%s\n", err, json);
		abort();
	}
	if (again.kind != ev.kind || again.priority != ev.priority || again.state != ev.state ||
	    !same_time(ev.t_us, again.t_us) || !same_time(ev.raised_us, again.raised_us) ||
	    !same_time(ev.until_us, again.until_us) || !same_double(ev.value, again.value) ||
	    !same_double(ev.limit, again.limit) || strcmp(again.id, ev.id) != 0 ||
	    strcmp(again.origin, ev.origin) != 0 || strcmp(again.note, ev.note) != 0 ||
	    strcmp(again.operator_name, ev.operator_name) != 0 ||
	    strcmp(names2.alarm, names.alarm) != 0 || strcmp(names2.meter, names.meter) != 0 ||
	    strcmp(names2.quantity, names.quantity) != 0) {
		fprintf(stderr, "round trip changed the event:\n%s\n", json);
		abort();
	}
	free(json);

	topic = alarmshare_state_topic("phasor/alarms", ev.origin, ev.meter, ev.alarm);
	for (p = topic; *p != '\0'; p++) {
		if (*p == '+' || *p == '#')
			abort();
		slashes += *p == '/';
	}
	if (slashes != 5)
		abort();
	{
		/* the origin read back from the topic is the event's, as a level,
		 * and the event's own id passes the check only if it is the
		 * origin's */
		char o[sizeof(ev.origin)];
		size_t n = strlen(ev.origin);

		if (alarmshare_topic_origin("phasor/alarms", topic, o, sizeof(o)) != 0)
			abort();
		if ((alarmshare_check_origin(&ev, o) == 0) !=
		    (strncmp(ev.id, ev.origin, n) == 0 && ev.id[n] == ':'))
			abort();
	}
	free(topic);
	(void)alarmshare_is_operator_event(ev.kind);
	return 0;
}
