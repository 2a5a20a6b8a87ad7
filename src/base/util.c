// SPDX-License-Identifier: MIT
/*
 * util: the small things every module needs. Allocation dies through one
 * function (util_fail) that restores the terminal first; strings that came
 * from the network are made safe for a terminal here; durations, powers and
 * times of the contract are parsed here so every command reads them alike.
 */
#include "phasor/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void (*fail_hook)(void);

void util_set_fail_hook(void (*hook)(void))
{
	fail_hook = hook;
}

void util_fail(const char *fmt, ...)
{
	va_list ap;

	if (fail_hook != NULL) {
		void (*hook)(void) = fail_hook;
		fail_hook = NULL; /* no recursion if the hook fails */
		hook();
	}
	fputs("phasor: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *util_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		util_fail("out of memory (%zu bytes)", n);
	return p;
}

void *util_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		util_fail("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *util_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		util_fail("out of memory (%zu bytes)", n);
	return q;
}

void *util_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		util_fail("allocation overflow (%zu x %zu)", n, size);
	return util_realloc(p, n * size);
}

char *util_strdup(const char *s)
{
	return util_strndup(s, strlen(s));
}

char *util_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = util_malloc(len + 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *util_vprintf(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		util_fail("out of memory (formatting)");
	return s;
}

char *util_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = util_vprintf(fmt, ap);
	va_end(ap);
	return s;
}

int util_tolower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

int util_strncasecmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int ca = util_tolower((unsigned char)a[i]), cb = util_tolower((unsigned char)b[i]);

		if (ca != cb || ca == '\0')
			return ca - cb;
	}
	return 0;
}

int util_strcasecmp(const char *a, const char *b)
{
	return util_strncasecmp(a, b, (size_t)-1);
}

size_t util_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

/* Length of a valid UTF-8 sequence starting at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n, i;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	/* C1 controls (U+0080..U+009F) act like ESC sequences on some terminals. */
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	/* Bidi overrides and isolates could reorder what the operator reads. */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

char *util_vsanitizef(char *dst, size_t size, const char *fmt, va_list ap)
{
	char raw[512];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	return util_sanitize(dst, size, raw);
}

char *util_sanitizef(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_vsanitizef(dst, size, fmt, ap);
	va_end(ap);
	return dst;
}

char *util_sanitize(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (size == 0)
		return dst;
	while (*s != '\0' && o + 1 < size) {
		size_t n;

		if (*s < 0x20 || *s == 0x7f) {
			dst[o++] = '?';
			s++;
			continue;
		}
		n = utf8_len(s);
		if (n == 0) {
			dst[o++] = '?';
			s++;
			continue;
		}
		if (o + n >= size)
			break; /* never cut a character in half */
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
	return dst;
}

char *util_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* Optimal string alignment distance: Levenshtein plus adjacent
 * transpositions ("prot" -> "port" is one edit), case-insensitive. */
size_t util_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, result;
	size_t *d;

	if (la > 256 || lb > 256)
		return SIZE_MAX;
	d = util_calloc((la + 1) * (lb + 1), sizeof(*d));
#define D(x, y) d[(x) * (lb + 1) + (y)]
	for (i = 0; i <= la; i++)
		D(i, 0) = i;
	for (j = 0; j <= lb; j++)
		D(0, j) = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			int ca = util_tolower((unsigned char)a[i - 1]);
			int cb = util_tolower((unsigned char)b[j - 1]);
			size_t best = D(i - 1, j - 1) + (ca == cb ? 0 : 1);

			if (D(i - 1, j) + 1 < best)
				best = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < best)
				best = D(i, j - 1) + 1;
			if (i > 1 && j > 1 && ca == util_tolower((unsigned char)b[j - 2]) &&
			    util_tolower((unsigned char)a[i - 2]) == cb && D(i - 2, j - 2) + 1 < best)
				best = D(i - 2, j - 2) + 1;
			D(i, j) = best;
		}
	}
	result = D(la, lb);
#undef D
	free(d);
	return result;
}

const char *util_closest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, len = strlen(word);
	size_t i;

	for (i = 0; candidates[i] != NULL; i++) {
		size_t d = util_edit_distance(word, candidates[i]);

		/* "timeout" for "timeout_ms": a truncated key is a typo too. */
		if (len >= 3 && util_strncasecmp(word, candidates[i], len) == 0)
			d = 1;
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	/* A plausible typo: at most a third of the word changed (at least 1,
	 * at most 3 edits). */
	{
		size_t limit = len / 3;
		if (limit < 1)
			limit = 1;
		if (limit > 3)
			limit = 3;
		if (best_d > limit)
			return NULL;
	}
	return best;
}

int util_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int util_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
		return -1;
	if (*end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Split "12.5kW" into number and unit; unit points into s (may be ""). */
static int split_number(const char *s, double *num, const char **unit)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	errno = 0;
	*num = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(*num))
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	*unit = end;
	return 0;
}

int util_parse_duration_ms(const char *s, int64_t *out_ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {
		{ "", 1000.0 },	       { "ms", 1.0 },	       { "s", 1000.0 },
		{ "sec", 1000.0 },     { "m", 60000.0 },       { "min", 60000.0 },
		{ "h", 3600000.0 },    { "d", 86400000.0 },    { "w", 604800000.0 },
	};
	double num;
	const char *unit;
	size_t i;

	if (s == NULL || split_number(s, &num, &unit) < 0 || num < 0)
		return -1;
	for (i = 0; i < UTIL_ARRAY_LEN(units); i++) {
		if (strcmp(unit, units[i].unit) == 0) {
			double ms = num * units[i].ms;
			if (ms > 9.2e18)
				return -1;
			*out_ms = (int64_t)llround(ms);
			return 0;
		}
	}
	return -1;
}

int util_parse_power_w(const char *s, double *out_w)
{
	static const struct {
		const char *unit;
		double w;
	} units[] = {
		{ "", 1.0 }, { "W", 1.0 }, { "kW", 1e3 }, { "MW", 1e6 },
	};
	double num;
	const char *unit;
	size_t i;

	if (s == NULL || split_number(s, &num, &unit) < 0)
		return -1;
	for (i = 0; i < UTIL_ARRAY_LEN(units); i++) {
		if (util_strcasecmp(unit, units[i].unit) == 0 &&
		    (unit[0] == '\0' || unit[strlen(unit) - 1] == 'W' ||
		     unit[strlen(unit) - 1] == 'w')) {
			*out_w = num * units[i].w;
			return 0;
		}
	}
	return -1;
}

int64_t util_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

char *util_format_time_ms(int64_t t_us, char *buf, size_t size)
{
	int64_t sec = t_us / 1000000;
	int64_t rem = t_us % 1000000;
	time_t tt;
	struct tm tm;

	if (rem < 0) {
		rem += 1000000;
		sec -= 1;
	}
	tt = (time_t)sec;
	if (gmtime_r(&tt, &tm) == NULL) {
		util_strlcpy(buf, "?", size);
		return buf;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(rem / 1000));
	return buf;
}

/* Parse exactly n digits at *p into *out; advance *p. */
static int digits(const char **p, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int parse_absolute(const char *s, int64_t *out_us)
{
	const char *p = s;
	struct tm tm;
	int year, mon, day, hour = 0, min = 0, sec = 0;
	int64_t frac_us = 0;
	bool utc = false, has_offset = false;
	int offset_s = 0;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (digits(&p, 4, &year) < 0 || *p++ != '-' || digits(&p, 2, &mon) < 0 ||
	    *p++ != '-' || digits(&p, 2, &day) < 0)
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (digits(&p, 2, &hour) < 0 || *p++ != ':' || digits(&p, 2, &min) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec) < 0)
				return -1;
			if (*p == '.' || *p == ',') {
				int64_t scale = 100000;
				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				while (isdigit((unsigned char)*p)) {
					frac_us += (*p - '0') * scale;
					scale /= 10;
					p++;
				}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			utc = true;
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh, om = 0;
			p++;
			if (digits(&p, 2, &oh) < 0)
				return -1;
			if (*p == ':')
				p++;
			if (isdigit((unsigned char)*p) && digits(&p, 2, &om) < 0)
				return -1;
			has_offset = true;
			offset_s = sign * (oh * 3600 + om * 60);
		}
	}
	if (*p != '\0')
		return -1;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	if (utc || has_offset) {
		t = timegm(&tm);
		t -= offset_s;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	if (t == (time_t)-1 && !(year == 1969 && mon == 12 && day == 31))
		return -1;
	*out_us = (int64_t)t * 1000000 + frac_us;
	return 0;
}

int util_parse_time(const char *s, int64_t now_us, int64_t *out_us)
{
	int64_t ms;

	if (s == NULL)
		return -1;
	if (strcmp(s, "now") == 0) {
		*out_us = now_us;
		return 0;
	}
	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		/* local midnight (process time zone), of today or the day before:
		 * mktime normalises day 0 and finds the offset of that midnight */
		time_t t = (time_t)(now_us / 1000000);
		struct tm tm;

		if (now_us < 0 && now_us % 1000000 != 0)
			t--;
		if (localtime_r(&t, &tm) == NULL)
			return -1;
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		if (s[0] == 'y')
			tm.tm_mday--;
		tm.tm_isdst = -1;
		t = mktime(&tm);
		if (t == (time_t)-1)
			return -1;
		*out_us = (int64_t)t * 1000000;
		return 0;
	}
	if (s[0] == '-' || s[0] == '+') {
		int64_t d_us, t_us;

		/* A duration that overflows microseconds, or now plus it, is no TIME. */
		if (util_parse_duration_ms(s + 1, &ms) < 0 || __builtin_mul_overflow(ms, 1000, &d_us) ||
		    (s[0] == '-' ? __builtin_sub_overflow(now_us, d_us, &t_us)
				 : __builtin_add_overflow(now_us, d_us, &t_us)))
			return -1;
		*out_us = t_us;
		return 0;
	}
	return parse_absolute(s, out_us);
}

char *util_read_file(const char *path, size_t max, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		size_t n;
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			buf = util_realloc(buf, cap + 1);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (len > max) {
			free(buf);
			fclose(f);
			errno = EFBIG;
			return NULL;
		}
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;
		free(buf);
		fclose(f);
		errno = e;
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (len_out != NULL)
		*len_out = len;
	return buf;
}

void util_sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

double util_f32_decimal_ref(float f)
{
	char buf[32];
	int prec;

	if (!isfinite(f) || f == 0.0f)
		return (double)f;
	/* LC_NUMERIC is "C" in every phasor process (main.c). */
	for (prec = 6; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
		if (strtof(buf, NULL) == f)
			return strtod(buf, NULL);
	}
	return (double)f;
}

/* 10^0 .. 10^22: every one exact in a double */
static const double pow10_exact[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,	1e6,  1e7,
				      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
				      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };

/* x * y when the product is exact; false otherwise (fma gives the error) */
static bool exact_mul(double x, double y, double *out)
{
	double r = x * y;

	if (fma(x, y, -r) != 0.0)
		return false;
	*out = r;
	return true;
}

/* Is a >= 10^e, exactly? (a >= 1e-12, -12 <= e <= 22) */
static bool at_least_pow10(double a, int e)
{
	double x;

	if (e >= 0)
		return a >= pow10_exact[e];
	if (!exact_mul(a, pow10_exact[-e], &x))
		return log10(a) >= e; /* not reached for a float32 in range */
	return x >= 1.0;
}

/*
 * p digits of a (a float32's magnitude, 10^p <= a < 1e18) when they read
 * back as it: a's digits above the point, so found in integers. a, its
 * rounding interval's ends lo and hi (midpoints with its neighbours) are
 * multiples of 2^-(25-b) for a in [2^(b-1), 2^b): scaled by that they are
 * integers, and a / 10^j (j = e + 1 - p > 0) is rounded half to even, as
 * printf does, by integer division. *out is then q * 10^j, the double
 * strtod gives for those digits.
 */
static bool int_digits(double a, double lo, double hi, int j, bool even, double *out)
{
	uint64_t sc = 1, x, l, h, d = 1, q, r, c;
	int b;

	(void)frexp(a, &b);
	if (b < 25)
		sc = (uint64_t)1 << (25 - b);
	x = (uint64_t)(a * (double)sc);
	l = (uint64_t)(lo * (double)sc);
	h = (uint64_t)(hi * (double)sc);
	while (j-- > 0)
		d *= 10;
	q = x / (d * sc);
	r = x % (d * sc);
	if (2 * r > d * sc || (2 * r == d * sc && (q & 1u) != 0))
		q++;
	c = q * d * sc;
	if (!((c > l && c < h) || ((c == l || c == h) && even)))
		return false;
	*out = (double)(q * d);
	return true;
}

/*
 * The same double as util_f32_decimal_ref, without formatting: for
 * each precision p, f's p significant digits m (f * 10^k rounded half to
 * even, as printf does, the product exact; for digits above the point,
 * int_digits) read back as f when m / 10^k lies within f's rounding
 * interval (its midpoints with the neighbouring floats, scaled by 10^k
 * exactly; on a midpoint, when f's last bit is even, as strtof rounds),
 * and m / 10^k is then the double strtod gives for those digits (both
 * exact, the division correctly rounded). Outside [1e-12, 1e18), or when
 * a product is not exact, the reference itself. A poll of a 36-value
 * float32 meter made 100 to 150 snprintf and strto* calls;
 * tests/unit/test_regmap.c compares the two over millions of floats.
 */
double util_f32_decimal(float f)
{
	double a, lo, hi, lo_s, hi_s, prod, m, r;
	uint32_t bits;
	bool even;
	int e, p, k;

	if (!isfinite(f) || f == 0.0f)
		return (double)f;
	a = fabs((double)f);
	if (a < 1e-12 || a >= 1e18)
		return util_f32_decimal_ref(f);
	memcpy(&bits, &f, sizeof(bits));
	even = (bits & 1u) == 0;
	/* floor(log10(a)) from the binary exponent (no log10 per value): a is
	 * in [2^(b-1), 2^b), so this is it or one less; the loops settle it */
	(void)frexp(a, &e);
	e = (int)floor((double)(e - 1) * 0.30102999566398120);
	while (e > -12 && !at_least_pow10(a, e))
		e--;
	while (e < 17 && at_least_pow10(a, e + 1))
		e++;
	lo = (a + (double)nextafterf((float)a, 0.0f)) / 2;
	hi = (a + (double)nextafterf((float)a, INFINITY)) / 2;
	for (p = 6; p <= 9; p++) {
		k = p - 1 - e;
		if (k < 0) {
			if (int_digits(a, lo, hi, -k, even, &r))
				return f < 0 ? -r : r;
			continue;
		}
		if (k > 22 || !exact_mul(a, pow10_exact[k], &prod) ||
		    !exact_mul(lo, pow10_exact[k], &lo_s) || !exact_mul(hi, pow10_exact[k], &hi_s))
			return util_f32_decimal_ref(f);
		m = nearbyint(prod); /* half to even, the default rounding mode */
		if ((m > lo_s && m < hi_s) || ((m == lo_s || m == hi_s) && even)) {
			r = m / pow10_exact[k];
			return f < 0 ? -r : r;
		}
	}
	return util_f32_decimal_ref(f);
}

void util_thread_name(const char *fmt, ...)
{
	char name[16]; /* the kernel keeps 15 characters */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	(void)pthread_setname_np(pthread_self(), name);
}

int util_mkdir_parent(const char *path)
{
	char *dir = util_strdup(path), *p;
	int rc = 0, saved = 0;

	p = strrchr(dir, '/');
	if (p == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	/* Create each level; the first real failure (not "exists") wins. */
	for (p = dir + 1;; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		/* 0770 less the umask: the buffer's and the log's directories
		 * are the operators' group's, never others'. */
		if (mkdir(dir, 0770) < 0 && errno != EEXIST && rc == 0) {
			rc = -1;
			saved = errno;
		}
		if (last)
			break;
		*p = '/';
	}
	free(dir);
	if (rc < 0)
		errno = saved;
	return rc;
}

const char *util_exe_dir(void)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash == NULL)
		return NULL;
	*slash = '\0';
	return buf;
}

static bool is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir (dlen bytes) / name.ini into buf if that file exists. */
static int try_ini(const char *dir, size_t dlen, const char *name, char *buf, size_t size)
{
	int n;

	if (dlen == 0)
		return -1;
	n = snprintf(buf, size, "%.*s/%s.ini", (int)dlen, dir, name);
	return n >= 0 && (size_t)n < size && is_regular(buf) ? 0 : -1;
}

int util_find_ini(const char *env, const char *src_dir, const char *share_dir, const char *name,
		  char *buf, size_t size)
{
	static const char *const ups[] = { "/..", "/../..", "/../../.." };
	const char *dirs = env != NULL ? getenv(env) : NULL, *exe;
	char path[4200];
	size_t i;

	if (name == NULL || name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL ||
	    size == 0)
		return -1;
	while (dirs != NULL) {
		size_t n = strcspn(dirs, ":");

		if (try_ini(dirs, n, name, buf, size) == 0)
			return 0;
		dirs = dirs[n] == '\0' ? NULL : dirs + n + 1;
	}
	exe = util_exe_dir();
	if (exe != NULL) {
		/* build/phasor, build/san/phasor, build/tests/x: the source tree */
		for (i = 0; i < UTIL_ARRAY_LEN(ups); i++) {
			snprintf(path, sizeof(path), "%s%s/include/phasor/util.h", exe, ups[i]);
			if (!is_regular(path))
				continue;
			snprintf(path, sizeof(path), "%s%s/%s", exe, ups[i], src_dir);
			if (try_ini(path, strlen(path), name, buf, size) == 0)
				return 0;
		}
		snprintf(path, sizeof(path), "%s/../share/phasor/%s", exe, share_dir);
		if (try_ini(path, strlen(path), name, buf, size) == 0)
			return 0;
	}
	snprintf(path, sizeof(path), "%s/share/phasor/%s", PHASOR_PREFIX, share_dir);
	if (try_ini(path, strlen(path), name, buf, size) == 0)
		return 0;
	buf[0] = '\0';
	return -1;
}

int util_parse_size(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = {
		{ "", 1 },	      { "b", 1 },	  { "k", 1e3 },	     { "kb", 1e3 },
		{ "kib", 1024.0 },    { "m", 1e6 },	  { "mb", 1e6 },     { "mib", 1048576.0 },
		{ "g", 1e9 },	      { "gb", 1e9 },	  { "gib", 1073741824.0 },
		{ "t", 1e12 },	      { "tb", 1e12 },	  { "tib", 1099511627776.0 },
	};
	char num[64], suf[16];
	const char *p = s;
	double v;
	size_t i, n = 0, k = 0;

	if (s == NULL)
		return -1;
	while (*p == ' ')
		p++;
	while ((*p >= '0' && *p <= '9') || *p == '.') {
		if (n + 1 >= sizeof(num))
			return -1;
		num[n++] = *p++;
	}
	num[n] = '\0';
	while (*p == ' ')
		p++;
	while (*p != '\0' && *p != ' ') {
		if (k + 1 >= sizeof(suf))
			return -1;
		suf[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		p++;
	}
	suf[k] = '\0';
	while (*p == ' ')
		p++;
	if (n == 0 || *p != '\0' || util_parse_double(num, &v) < 0 || v < 0)
		return -1;
	for (i = 0; i < UTIL_ARRAY_LEN(units); i++)
		if (strcmp(suf, units[i].suffix) == 0) {
			double b = v * units[i].mult;

			if (b > 9.0e18)
				return -1;
			*out = (uint64_t)llround(b);
			return 0;
		}
	return -1;
}

bool util_has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}
