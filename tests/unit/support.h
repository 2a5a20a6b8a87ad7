/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_TEST_SUPPORT_H
#define PHASOR_TEST_SUPPORT_H
/*
 * Shared by the unit tests: where the source tree is (for the shipped
 * profiles and the data files). The Makefile passes its own directory as
 * PHASOR_TEST_SRCDIR when it builds a test; $PHASOR_SRCDIR overrides it
 * (a moved tree). Tests then run from any working directory. And the end
 * of a run whose files are in a temporary directory.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

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

/* mkdtemp(tmpl) for a run's files, or a message. 0 or -1. */
static inline int test_tmpdir_make(char *tmpl)
{
	if (mkdtemp(tmpl) != NULL)
		return 0;
	perror("mkdtemp");
	return -1;
}

/* The files of a run: see test_tmpdir_done. */
static inline int test_rm_entry(const char *path, const struct stat *sb, int flag,
				struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * The end of a run whose files are under dir: removed when every test
 * passed (rc 0), kept and named otherwise. Returns rc.
 */
static inline int test_tmpdir_done(const char *dir, int rc)
{
	if (rc == 0)
		nftw(dir, test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "test files kept in %s\n", dir);
	return rc;
}

#endif
