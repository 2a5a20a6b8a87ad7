// SPDX-License-Identifier: MIT
/*
 * csv: fields and numbers of the contract's CSV outputs (see
 * include/phasor/csv.h). Field values are user or network data: sanitized
 * before they are written.
 */
#include "phasor/csv.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"

void csv_double_ref(double v, char *buf, size_t size)
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

/*
 * What printf's %.{p}g writes for the p significant digits dig[] ('0'-'9',
 * rounded already) of a number whose first digit has the decimal exponent
 * x: style e when x < -4 or x >= p, else style f, trailing zeros removed
 * (and the point when nothing follows it). out has room for 32.
 */
static void put_g(char *out, bool neg, const char *dig, int p, int x)
{
	int n = p, i;
	char *o = out;

	while (n > 1 && dig[n - 1] == '0')
		n--;
	if (neg)
		*o++ = '-';
	if (x < -4 || x >= p) {
		*o++ = dig[0];
		if (n > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)n - 1);
			o += n - 1;
		}
		/* callers keep |x| < 100: two digits */
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		i = x < 0 ? -x : x;
		*o++ = (char)('0' + i / 10 % 10);
		*o++ = (char)('0' + i % 10);
		*o = '\0';
		return;
	}
	if (x >= 0) {
		memcpy(o, dig, (size_t)x + 1);
		o += x + 1;
		if (n > x + 1) {
			*o++ = '.';
			memcpy(o, dig + x + 1, (size_t)(n - x - 1));
			o += n - x - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (i = 0; i < -x - 1; i++)
			*o++ = '0';
		memcpy(o, dig, (size_t)n);
		o += n;
	}
	*o = '\0';
}

/*
 * csv_double_ref's answer with one conversion instead of up to three and
 * no strtod in most cases: the 17 digits of v (%.16e, correctly rounded,
 * always read back as v) give the 15- and 16-digit candidates by decimal
 * rounding, exact unless the digits dropped are a tie ("5", "50": then
 * printf decides for that precision). A candidate c is d17 + k units of
 * the 17th digit (u), and |d17 - v| <= u / 2, so c - v lies within
 * (k -+ 1/2) u: it reads back as v when that is inside v's rounding
 * interval (half the gap to the next double each side), not when it is
 * outside, and strtod says when the margin cannot. Zero, subnormals and
 * exponents outside [-6, 38] (where u is not within an ulp) go the
 * reference's way. test_csv compares the two on millions of values.
 */
void csv_double(double v, char *buf, size_t size)
{
	static const double p10[23] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
					1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
					1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	char e[40], d17[18], c[18], cand[40];
	double a = fabs(v), u, hi, lo;
	int64_t D = 0;
	bool neg;
	int x, i, n;

	if (!isnormal(v) || size < 32) {
		csv_double_ref(v, buf, size);
		return;
	}
	snprintf(e, sizeof(e), "%.16e", v);
	neg = e[0] == '-';
	{
		const char *p = e + neg;

		d17[0] = p[0];
		memcpy(d17 + 1, p + 2, 16);
		d17[17] = '\0';
		x = atoi(p + 19);
	}
	if (x < -6 || x > 38) {
		csv_double_ref(v, buf, size);
		return;
	}
	for (i = 0; i < 17; i++)
		D = D * 10 + (d17[i] - '0');
	u = x >= 16 ? p10[x - 16] : 1.0 / p10[16 - x];
	hi = (nextafter(a, INFINITY) - a) / 2;
	lo = (a - nextafter(a, 0)) / 2;
	for (n = 15; n <= 16; n++) {
		int cmp = d17[n] - '5', xn = x;
		int64_t C = 0, k;
		double h, far, near;

		for (i = n + 1; i < 17 && cmp == 0; i++)
			cmp = d17[i] != '0';
		if (cmp == 0) { /* a tie in the digits: printf rounds */
			snprintf(cand, sizeof(cand), "%.*g", n, v);
			if (strtod(cand, NULL) == v) {
				util_strlcpy(buf, cand, size);
				return;
			}
			continue;
		}
		memcpy(c, d17, (size_t)n);
		if (cmp > 0) { /* up, with the carry */
			for (i = n - 1; i >= 0 && c[i] == '9'; i--)
				c[i] = '0';
			if (i >= 0) {
				c[i]++;
			} else {
				c[0] = '1';
				xn = x + 1;
			}
		}
		for (i = 0; i < n; i++)
			C = C * 10 + (c[i] - '0');
		for (i = n; i < 17; i++)
			C *= 10;
		if (xn != x)
			C *= 10; /* 10^17: one digit more than D's */
		k = C - D;
		h = k >= 0 ? hi : lo;
		k = k >= 0 ? k : -k;
		far = ((double)k + 0.5) * u * (1 + 1e-15);
		near = ((double)k - 0.5) * u * (1 - 1e-15);
		if (k == 0 || far < h) {
			put_g(cand, neg, c, n, xn);
			util_strlcpy(buf, cand, size);
			return;
		}
		if (near > h)
			continue; /* cannot read back as v */
		put_g(cand, neg, c, n, xn);
		if (strtod(cand, NULL) == v) {
			util_strlcpy(buf, cand, size);
			return;
		}
	}
	put_g(cand, neg, d17, 17, x);
	util_strlcpy(buf, cand, size);
}

char *csv_field_to(char *out, size_t size, const char *s)
{
	char safe[CSV_FIELD_MAX];
	size_t o = 0;
	const char *p;

	util_sanitize(safe, sizeof(safe), s != NULL ? s : "");
	if (strpbrk(safe, ",\"\r\n") == NULL) {
		util_strlcpy(out, safe, size);
		return out;
	}
	/* quoted, quotes doubled: at most 2 * (CSV_FIELD_MAX - 1) + 3 */
	if (size < 2 * sizeof(safe) + 1) {
		util_strlcpy(out, "", size);
		return out;
	}
	out[o++] = '"';
	for (p = safe; *p != '\0'; p++) {
		if (*p == '"')
			out[o++] = '"';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void csv_field(FILE *out, const char *s)
{
	char f[2 * CSV_FIELD_MAX + 1];

	fputs(csv_field_to(f, sizeof(f), s), out);
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
