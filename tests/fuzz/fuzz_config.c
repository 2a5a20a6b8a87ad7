// SPDX-License-Identifier: MIT
/*
 * fuzz_config: the INI configuration (src/model/config.c with the shared
 * reader src/base/inifile.c) from a memory buffer, config_load_string(),
 * as `phasor check-config` and every command read it. Profiles are the
 * shipped ones ($PHASOR_PROFILES is the source tree's conf/profiles). A
 * configuration that loads is also summarised (check-config's output) and
 * its operators and meters looked up; one that fails has messages.
 */
#include "phasor/config.h"
#include "phasor/diag.h"
#include "fuzz.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("PHASOR_PROFILES", fuzz_path("conf/profiles"), 1);
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct diag d = { 0 };
	struct config *c = config_load_string(text, "fuzz.ini", &d);

	if (c != NULL) {
		size_t i;

		if (d.n != 0)
			abort(); /* loaded, yet errors */
		config_print_summary(c, devnull);
		(void)config_operator(c, "root");
		for (i = 0; i < c->nmeters; i++)
			if (config_meter_index(c, c->meters[i].name) != (int)i ||
			    c->meters[i].profile == NULL)
				abort();
		config_free(c);
	} else if (d.n == 0) {
		abort(); /* refused without a message */
	}
	diag_clear(&d);
	free(text);
	return 0;
}
