// SPDX-License-Identifier: MIT
/*
 * diag: collects "file:line: message" diagnostics so parsers report every
 * problem of a file at once.
 */
#include "phasor/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_add(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg, *full;

	va_start(ap, fmt);
	msg = util_vprintf(fmt, ap);
	va_end(ap);
	if (line > 0)
		full = util_printf("%s:%d: %s", file, line, msg);
	else
		full = util_printf("%s: %s", file, msg);
	free(msg);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->lines = util_reallocarray(d->lines, d->cap, sizeof(*d->lines));
	}
	d->lines[d->n++] = full;
}

void diag_print(const struct diag *d, void *stream)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		fputs(d->lines[i], (FILE *)stream);
		fputc('\n', (FILE *)stream);
	}
}

void diag_clear(struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	diag_init(d);
}
