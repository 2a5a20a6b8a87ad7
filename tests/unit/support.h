/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_TEST_SUPPORT_H
#define PHASOR_TEST_SUPPORT_H
/*
 * Shared by the unit tests: where the source tree is (for the shipped
 * profiles and the data files). The Makefile passes its own directory as
 * PHASOR_TEST_SRCDIR when it builds a test; $PHASOR_SRCDIR overrides it
 * (a moved tree). Tests then run from any working directory.
 */
#include <stdio.h>
#include <stdlib.h>

#ifndef PHASOR_TEST_SRCDIR
#error "build the tests with make: it defines PHASOR_TEST_SRCDIR"
#endif

static inline const char *test_srcdir(void)
{
	const char *env = getenv("PHASOR_SRCDIR");

	return env != NULL && env[0] != '\0' ? env : PHASOR_TEST_SRCDIR;
}

/* "<source tree>/<rel>" in one of four rotating static buffers. */
static inline const char *test_path(const char *rel)
{
	static char bufs[4][4096];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", test_srcdir(), rel);
	return b;
}

#endif
