/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_DIAG_H
#define PHASOR_DIAG_H
/*
 * diag: a list of "file:line: message" diagnostics. Parsers of files
 * (configuration, profiles, themes) append every error they find instead of
 * stopping at the first, so the user fixes them all in one go.
 */
#include <stddef.h>
#include "phasor/util.h"

struct diag {
	char **lines; /* owned: each "file:line: message" */
	size_t n;
	size_t cap;
};

/* Zero-initialise; a zeroed struct diag is also valid. */
void diag_init(struct diag *d);
/* Append "file:line: message" (line <= 0 gives "file: message"). */
void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...)
    UTIL_PRINTF(4, 5);
/* Print every line followed by '\n' to the stream. */
void diag_print(const struct diag *d, void *stream /* FILE * */);
/* Free the lines; the struct can be reused. */
void diag_clear(struct diag *d);

#endif
