// SPDX-License-Identifier: MIT
/*
 * fuzz_time: the TIME, duration, power and size arguments and keys of the
 * contract (src/base/util.c), and util_sanitize(), which every network
 * string goes through before a terminal or a log sees it. The input is one
 * string, given to every parser; the local time zone is Europe/Paris (DST
 * gaps and folds). A UTC time from 1970 to 9999 formats with
 * util_format_time_ms() to text that parses back to it (to the ms).
 */
#include <time.h>

#include "phasor/util.h"
#include "fuzz.h"

#define NOW_US INT64_C(1795000000000000) /* 2026-11-18 */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", "Europe/Paris", 1);
	tzset();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[64], *safe;
	int64_t t, again, ms;
	double w, dv;
	uint64_t bytes;
	long l;
	size_t i;

	if (util_parse_time(s, NOW_US, &t) == 0) {
		util_format_time_ms(t, buf, sizeof(buf));
		if (t >= 0 && t < INT64_C(253402300800000000)) {
			if (util_parse_time(buf, NOW_US, &again) != 0 ||
			    again != t - t % 1000) {
				fprintf(stderr, "'%s' formats as '%s', which does not parse back\n",
					s, buf);
				abort();
			}
		}
	}
	(void)util_parse_duration_ms(s, &ms);
	(void)util_parse_power_w(s, &w);
	(void)util_parse_size(s, &bytes);
	(void)util_parse_long(s, -1000, 1000, &l);
	(void)util_parse_double(s, &dv);

	/* Sanitized: terminated, no control byte (C0, DEL; C1 come as UTF-8). */
	for (i = 1; i <= 64; i *= 4) {
		safe = malloc(i);
		if (safe == NULL)
			abort();
		util_sanitize(safe, i, s);
		if (memchr(safe, '\0', i) == NULL)
			abort();
		for (const char *p = safe; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f ||
			    ((unsigned char)p[0] == 0xc2 && (unsigned char)p[1] >= 0x80 &&
			     (unsigned char)p[1] < 0xa0))
				abort();
		free(safe);
	}
	free(s);
	return 0;
}
