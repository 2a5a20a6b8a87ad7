// SPDX-License-Identifier: MIT
/*
 * csv: fields and numbers of the contract's CSV outputs (see
 * include/phasor/csv.h). Field values are user or network data: sanitized
 * before they are written.
 */
#include "phasor/csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"

void csv_double(double v, char *buf, size_t size)
{
	int prec;

	if (isnan(v)) {
		util_strlcpy(buf, "nan", size);
		return;
	}
	if (isinf(v)) {
		util_strlcpy(buf, v > 0 ? "inf" : "-inf", size);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

void csv_field(FILE *out, const char *s)
{
	char safe[1024];
	const char *p;

	util_sanitize(safe, sizeof(safe), s != NULL ? s : "");
	if (strpbrk(safe, ",\"\r\n") == NULL) {
		fputs(safe, out);
		return;
	}
	putc('"', out);
	for (p = safe; *p != '\0'; p++) {
		if (*p == '"')
			putc('"', out);
		putc(*p, out);
	}
	putc('"', out);
}

long csv_split(char *line, char **fields, size_t max)
{
	char *r = line, *w;
	size_t n = 0;

	for (;;) {
		char *start = r;

		if (*r == '"') {
			w = start;
			r++;
			for (;;) {
				if (*r == '\0')
					return -1;
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*w++ = *r++;
				}
			}
			if (*r != ',' && *r != '\0')
				return -1;
		} else {
			while (*r != ',' && *r != '\0')
				r++;
			w = r;
		}
		if (n < max)
			fields[n] = start;
		n++;
		if (*r == '\0') {
			*w = '\0';
			break;
		}
		r++;
		*w = '\0';
	}
	return (long)n;
}
