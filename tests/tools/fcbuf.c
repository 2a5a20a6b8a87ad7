// SPDX-License-Identifier: MIT
/*
 * fcbuf: writes a local buffer (through the store API, as the recorder
 * does) with DAYS days of a known weekly load for the forecast tests:
 * meter "a" has only an e_imp counter (a sample a minute, reset to 0 at
 * noon on day 20), meter "b" only p_total samples (half of a's load). The
 * power is constant within each 15-minute interval, so the mean power per
 * interval is exactly the load of its start (the same function as
 * tests/integration/test_forecast.sh). With END (Unix seconds, or "now"),
 * the data ends there instead of DAYS after 2026-09-07 (the load keeps
 * its weekly pattern: Monday to Friday are working days).
 *
 *   fcbuf FILE.db DAYS [END]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/config.h"
#include "phasor/qty.h"
#include "phasor/store.h"
#include "tool_store.h"

#define T0 INT64_C(1788739200) /* 2026-09-07T00:00:00Z, a Monday */

static double load(int64_t t)
{
	int64_t q = t - t % 900; /* the interval's start */
	int d = (int)((q - T0) / 86400 % 7);
	double h = (double)(q % 86400) / 3600, v;

	v = 40000 + 5000 * cos(2 * M_PI * (h - 3) / 24);
	if (d < 5 && h >= 8 && h < 20)
		v += 60000 + 10000 * sin(M_PI * (h - 8) / 12);
	if (d >= 5 && h >= 8 && h < 12)
		v += 15000;
	return v;
}

int main(int argc, char **argv)
{
	static const char ini[] = "[meter a]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n"
				  "[meter b]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n"
				  "unit = 2\n";
	struct config *cfg;
	struct store *st;
	struct sample *s;
	long days;
	int64_t t, n, i = 0, start = T0;
	double wh = 5e6;

	if ((argc != 3 && argc != 4) || (days = atol(argv[2])) < 1) {
		fprintf(stderr, "usage: fcbuf FILE.db DAYS [END]\n");
		return 2;
	}
	if (argc == 4) {
		int64_t end = strcmp(argv[3], "now") == 0 ? (int64_t)time(NULL) : atoll(argv[3]);

		start = end - end % 60 - days * 86400;
	}
	st = tool_store_open("fcbuf", ini, argv[1], &cfg);
	if (st == NULL)
		return 1;
	n = days * 1440;
	s = calloc((size_t)n * 2, sizeof(*s));
	for (t = start; t < start + days * 86400; t += 60) {
		if (t == start + 20 * 86400 + 12 * 3600)
			wh = 0; /* the counter is reset */
		s[i++] = (struct sample){ t * 1000000, wh, 0, QTY_E_IMP, QUALITY_GOOD, 0 };
		s[i++] = (struct sample){ t * 1000000, load(t) / 2, 1, QTY_P_TOTAL, QUALITY_GOOD, 0 };
		wh += load(t) * 60 / 3600;
	}
	store_put_samples(st, s, (size_t)i);
	free(s);
	return tool_store_close("fcbuf", st, cfg);
}
