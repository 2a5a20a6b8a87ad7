// SPDX-License-Identifier: MIT
/*
 * fuzz_sparkplug: the Sparkplug B host (src/acquisition/sparkplug.c) on a
 * run of messages: births, data, deaths and their protobuf payloads, so
 * that aliases, sequence checks and deaths are reached in every order.
 * Input: messages one after the other, each a byte choosing the topic
 * (node or device, message type), a length byte and that many payload
 * bytes. A fresh host state per input, with two meters on node G/N1 (its
 * own metrics and device D1) read through an in-memory profile.
 */
#include "phasor/payload.h"
#include "phasor/profile.h"
#include "phasor/sparkplug.h"
#include "fuzz.h"

static struct profile_field fields[] = {
	{ .path = (char *)"Power", .qty = QTY_P_TOTAL, .phase_qty = { -1, -1, -1 }, .scale = 1000 },
	{ .path = (char *)"Voltage L1", .qty = QTY_V_L1N, .phase_qty = { -1, -1, -1 }, .scale = 1 },
};
static struct profile prof = { .name = (char *)"fuzz", .driver = PROFILE_SPARKPLUG,
			       .fields = fields, .nfields = 2 };

static const char *const topics[] = {
	"spBv1.0/G/NBIRTH/N1",	  "spBv1.0/G/NDATA/N1",	   "spBv1.0/G/NDEATH/N1",
	"spBv1.0/G/DBIRTH/N1/D1", "spBv1.0/G/DDATA/N1/D1", "spBv1.0/G/DDEATH/N1/D1",
	"spBv1.0/G/DDATA/N1/D2",  "spBv1.0/G/NCMD/N1",	   "spBv1.0/G/NDATA/N2",
	"spBv1.0/G/NDATA",
};

static size_t count;

static void on_samples(void *ctx, int id, const struct sample *s, size_t n)
{
	(void)ctx;
	(void)id;
	count += n + (s[0].value != s[0].value);
}

static void on_state(void *ctx, int id, bool alive, const char *why)
{
	(void)ctx;
	count += (size_t)id + alive + (why != NULL ? strlen(why) : 0);
}

static void on_event(void *ctx, const char *what, const char *text)
{
	(void)ctx;
	count += strlen(what) + strlen(text);
}

static void on_rebirth(void *ctx, const char *topic)
{
	size_t len;
	uint8_t *p = sparkplug_rebirth_payload(1, &len);

	(void)ctx;
	count += strlen(topic) + len;
	free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sparkplug_out out = {
		.samples = on_samples, .state = on_state, .event = on_event, .rebirth = on_rebirth,
	};
	struct sparkplug *sp = sparkplug_new();
	int64_t t = 1796000000000000LL;
	char err[160];

	sparkplug_add_meter(sp, 0, 0, "G", "N1", NULL, &prof);
	sparkplug_add_meter(sp, 1, 1, "G", "N1", "D1", &prof);
	while (size >= 2) {
		const char *topic = topics[data[0] % (sizeof(topics) / sizeof(topics[0]))];
		size_t len = data[1];
		uint8_t *copy;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		/* its own buffer, so that ASan sees any read past the payload */
		copy = malloc(len ? len : 1);
		memcpy(copy, data, len);
		sparkplug_decode(sp, topic, copy, len, t, false, &out, err, sizeof(err));
		free(copy);
		data += len;
		size -= len;
		t += 1000000;
	}
	sparkplug_free(sp);
	return 0;
}
