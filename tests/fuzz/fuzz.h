/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_FUZZ_H
#define PHASOR_FUZZ_H
/*
 * Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c, one per parser of
 * outside input; docs/testing.md): the fuzzer's bytes as a C string, as a
 * file for the parsers that read one, and where the source tree is (the
 * shipped profiles). Built by `make fuzz-bins` with clang and
 * -fsanitize=fuzzer,address,undefined; run by tests/fuzz/run.sh.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PHASOR_TEST_SRCDIR
#error "build the harnesses with make fuzz-bins: it defines PHASOR_TEST_SRCDIR"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* "<source tree>/<rel>" ($PHASOR_SRCDIR overrides the tree) in a static buffer. */
static inline const char *fuzz_path(const char *rel)
{
	static char buf[4096];
	const char *env = getenv("PHASOR_SRCDIR");

	snprintf(buf, sizeof(buf), "%s/%s", env != NULL && env[0] != '\0' ? env : PHASOR_TEST_SRCDIR,
		 rel);
	return buf;
}

/* data[0..size) as a new NUL-terminated string (it may hold NUL bytes too). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A file of this process under $TMPDIR (or /tmp) named NAME (the parsers
 * that take a path see NAME's extension), made once; fuzz_file_write puts
 * the bytes of one input in it. Removed at exit.
 */
static char fuzz_file_name[4096];

static inline void fuzz_file_remove(void)
{
	if (fuzz_file_name[0] != '\0')
		unlink(fuzz_file_name);
}

static inline const char *fuzz_file_write(const char *name, const uint8_t *data, size_t size)
{
	int fd;

	if (fuzz_file_name[0] == '\0') {
		const char *tmp = getenv("TMPDIR");

		snprintf(fuzz_file_name, sizeof(fuzz_file_name), "%s/phasor-fuzz-%ld-%s",
			 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", (long)getpid(), name);
		atexit(fuzz_file_remove);
	}
	fd = open(fuzz_file_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0) {
		perror(fuzz_file_name);
		abort();
	}
	return fuzz_file_name;
}

#endif
