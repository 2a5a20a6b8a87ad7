/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_TEST_SUPPORT_CONFIG_H
#define PHASOR_TEST_SUPPORT_CONFIG_H
/*
 * Shared by the unit tests of the configuration (test_config,
 * test_utility): a text loaded as "t.ini" gives exactly the errors wanted
 * (none: it loads). Include after cmocka.h and phasor/config.h.
 */
#include <stdio.h>
#include <string.h>

/* Print what came out when it is not what was expected. */
static inline void expect_errors(const char *text, const char *const *want, size_t nwant)
{
	struct diag d;
	struct config *c;
	size_t i;
	bool same;

	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	same = d.n == nwant;
	for (i = 0; same && i < nwant; i++)
		same = strcmp(d.lines[i], want[i]) == 0;
	if (!same) {
		fprintf(stderr, "---- config:\n%s---- expected %zu:\n", text, nwant);
		for (i = 0; i < nwant; i++)
			fprintf(stderr, "  %s\n", want[i]);
		fprintf(stderr, "---- got %zu:\n", d.n);
		for (i = 0; i < d.n; i++)
			fprintf(stderr, "  %s\n", d.lines[i]);
	}
	assert_true(same);
	if (nwant > 0)
		assert_null(c);
	else
		assert_non_null(c);
	config_free(c);
	diag_clear(&d);
}

/* The same with want NULL-terminated. */
static inline void expect_errors_v(const char *text, const char *const *want)
{
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	expect_errors(text, want, n);
}

#endif
