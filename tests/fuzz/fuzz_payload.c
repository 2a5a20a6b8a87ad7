// SPDX-License-Identifier: MIT
/*
 * fuzz_payload: MQTT payload decoding (src/model/payload.c) under every
 * MQTT profile: the shipped Shelly Pro 3EM (JSON with containers), Shelly
 * 3EM (plain, topic suffixes) and Tasmota (JSON, 3-phase arrays), and a
 * generic JSON profile (tests/fuzz/generic-json.ini). Input: one byte
 * choosing the profile, the topic up to the first newline, then the
 * payload. The topic also goes through the filter functions (as a filter
 * and as a topic).
 */
#include <math.h>

#include "phasor/diag.h"
#include "phasor/payload.h"
#include "phasor/profile.h"
#include "fuzz.h"

static struct profile *profiles[4];
static size_t nprofiles;

static void load(const char *rel, const char *name)
{
	struct diag d = { 0 };
	struct profile *p = profile_load(fuzz_path(rel), name, &d);

	if (p == NULL) {
		diag_print(&d, stderr);
		abort();
	}
	diag_clear(&d);
	profiles[nprofiles++] = p;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	load("conf/profiles/shelly-pro3em.ini", "shelly-pro3em");
	load("conf/profiles/shelly-3em.ini", "shelly-3em");
	load("conf/profiles/tasmota.ini", "tasmota");
	load("tests/fuzz/generic-json.ini", "generic-json");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct profile *p;
	const uint8_t *nl;
	char *topic, err[128];
	struct sample out[64];
	size_t tlen, n = 99, i;
	enum payload_status st;

	if (size < 1)
		return 0;
	p = profiles[data[0] % nprofiles];
	data++;
	size--;
	nl = memchr(data, '\n', size);
	tlen = nl != NULL ? (size_t)(nl - data) : 0;
	topic = fuzz_string(data, tlen);
	if (nl != NULL) {
		data += tlen + 1;
		size -= tlen + 1;
	}
	/* The payload as MQTT gives it: len bytes, not terminated. */
	{
		uint8_t *copy = malloc(size > 0 ? size : 1);

		if (copy == NULL)
			abort();
		memcpy(copy, data, size);
		st = payload_decode(p, topic, (const char *)copy, size, 7, 1000, out,
				    UTIL_ARRAY_LEN(out), &n, err, sizeof(err));
		free(copy);
	}
	if (st >= PAYLOAD__COUNT || payload_status_name(st) == NULL)
		abort();
	if (st != PAYLOAD_OK && n != 0)
		abort(); /* nothing stored on a reject */
	if (n > UTIL_ARRAY_LEN(out))
		abort();
	for (i = 0; i < n && st == PAYLOAD_OK; i++)
		if (out[i].meter != 7 || out[i].t_us != 1000)
			abort();
	if (st != PAYLOAD_OK) {
		/* The reason is terminated and safe for a terminal. */
		if (memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		for (i = 0; err[i] != '\0'; i++)
			if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
				abort();
	}
	/* The topic as a filter and as a topic. */
	(void)payload_filter_valid(topic);
	(void)payload_filter_unshared(topic);
	(void)payload_topic_matches(topic, "a/b/c");
	(void)payload_topic_matches("+/#", topic);
	(void)payload_topic_matches(topic, topic);
	free(topic);
	return 0;
}
