/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_CSV_H
#define PHASOR_CSV_H
/*
 * csv: what the CSV outputs of the contract share (`phasor export`,
 * `phasor alarms`): fields sanitized and quoted per RFC 4180, doubles in
 * the shortest form that reads back as the same value.
 */
#include <stddef.h>
#include <stdio.h>

/* One field: sanitized, quoted when it holds a comma, a quote or a newline. */
void csv_field(FILE *out, const char *s);
#define CSV_FIELD_MAX 1024 /* a field's sanitized text is cut to this, NUL included */
/* The same into out (size >= 2 * CSV_FIELD_MAX + 1, else ""): out. */
char *csv_field_to(char *out, size_t size, const char *s);
/* The shortest of %.15g, %.16g, %.17g that reads back as exactly v; "nan", "inf".
 * size >= 32 for the fast path (one conversion). */
void csv_double(double v, char *buf, size_t size);
/* The same the plain way (three conversions and reads): the reference of the tests. */
void csv_double_ref(double v, char *buf, size_t size);

/*
 * Split one line (no line end) into fields in place, RFC 4180 quoting
 * ("a ""b""" is a "b"); at most max fields are stored, the count is
 * returned (it may exceed max). -1 on an unterminated quote or text after
 * a closing quote.
 */
long csv_split(char *line, char **fields, size_t max);

#endif
