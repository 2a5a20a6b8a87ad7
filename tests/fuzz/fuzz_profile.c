// SPDX-License-Identifier: MIT
/*
 * fuzz_profile: meter profiles (src/model/profile.c; conf/profiles/NAME.ini,
 * docs/profiles.md). The input is the file, loaded with profile_load(). A
 * profile that loads is then used as the acquisition uses it: a Modbus
 * profile is planned (regmap_plan) and each value decoded from zero
 * registers; an MQTT profile decodes a payload mentioning its fields.
 */
#include "phasor/diag.h"
#include "phasor/payload.h"
#include "phasor/profile.h"
#include "phasor/regmap.h"
#include "fuzz.h"

static void use_modbus(const struct profile *p)
{
	struct regmap_plan pl;
	uint16_t zero[4] = { 0 };
	size_t i;
	double v;

	if (p->max_registers < 1 || p->max_registers > 125)
		abort();
	if (regmap_plan(p->regs, p->nregs, p->max_registers, p->max_gap, &pl) != 0)
		abort(); /* the loader lets no value wider than the device's limit through */
	regmap_plan_free(&pl);
	for (i = 0; i < p->nregs; i++)
		(void)regmap_decode(&p->regs[i], zero, &v);
}

static void use_mqtt(const struct profile *p)
{
	struct sample out[64];
	char err[128], payload[512], topic[300];
	size_t i, n;

	for (i = 0; i < p->nfields; i++) {
		if (p->format == PAYLOAD_PLAIN) {
			snprintf(topic, sizeof(topic), "dev/%s", p->fields[i].path);
			snprintf(payload, sizeof(payload), "230.5");
		} else {
			snprintf(topic, sizeof(topic), "dev/x");
			snprintf(payload, sizeof(payload), "{\"%s\": 1.5}", p->fields[i].path);
		}
		(void)payload_decode(p, topic, payload, strlen(payload), 1, 1, out,
				     UTIL_ARRAY_LEN(out), &n, err, sizeof(err));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file_write("profile.ini", data, size);
	struct diag d = { 0 };
	struct profile *p = profile_load(path, "fuzz", &d);

	if (p != NULL) {
		if (d.n != 0)
			abort();
		if (p->driver == PROFILE_MODBUS)
			use_modbus(p);
		else
			use_mqtt(p);
		profile_free(p);
	} else if (d.n == 0) {
		abort();
	}
	diag_clear(&d);
	return 0;
}
