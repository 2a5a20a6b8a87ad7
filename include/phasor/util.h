/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_UTIL_H
#define PHASOR_UTIL_H
/*
 * util: allocation that cannot fail silently, strings from the network made
 * safe for a terminal, parsing of durations, powers and times, clocks.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UTIL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define UTIL_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define UTIL_NORETURN __attribute__((noreturn))

/*
 * Out of memory ends the program through util_fail(), which first calls the
 * hook set here (the console restores the terminal there).
 */
void util_set_fail_hook(void (*hook)(void));
UTIL_NORETURN void util_fail(const char *fmt, ...) UTIL_PRINTF(1, 2);

/* malloc/calloc/realloc/strdup that never return NULL (util_fail instead). */
void *util_malloc(size_t n);
void *util_calloc(size_t n, size_t size);
void *util_realloc(void *p, size_t n);
void *util_reallocarray(void *p, size_t n, size_t size);
char *util_strdup(const char *s);
char *util_strndup(const char *s, size_t n);
/* A newly allocated formatted string; the caller frees it. */
char *util_printf(const char *fmt, ...) UTIL_PRINTF(1, 2);
char *util_vprintf(const char *fmt, va_list ap) UTIL_PRINTF(1, 0);

/* Copy at most size-1 bytes and terminate; returns strlen(src). */
size_t util_strlcpy(char *dst, const char *src, size_t size);
/*
 * ASCII-only case folding and comparison: configuration words, units and
 * names compare the same whatever LC_CTYPE says (under a Turkish locale the
 * C library's tolower('I') is not 'i').
 */
int util_tolower(int c);
int util_strcasecmp(const char *a, const char *b);
int util_strncasecmp(const char *a, const char *b, size_t n);

/* Whether s holds a control character (below 0x20, or DEL). */
bool util_has_control(const char *s);

/*
 * Copy src into dst (size bytes, always terminated) replacing every control
 * character (C0, DEL, C1 and the ESC of escape sequences) by '?', and invalid
 * UTF-8 by '?'. Network and device strings go through this before they are
 * shown or logged. Returns dst.
 */
char *util_sanitize(char *dst, size_t size, const char *src);
/* The same for a formatted text (at most 511 bytes of it before sanitizing). */
char *util_vsanitizef(char *dst, size_t size, const char *fmt, va_list ap) UTIL_PRINTF(3, 0);
char *util_sanitizef(char *dst, size_t size, const char *fmt, ...) UTIL_PRINTF(3, 4);

/* Strip leading and trailing white space in place; returns s. */
char *util_trim(char *s);

/* Levenshtein distance, for "did you mean" suggestions. */
size_t util_edit_distance(const char *a, const char *b);

/*
 * The closest of the candidates (NULL-terminated) to word, or NULL when none
 * is close enough to be a plausible typo.
 */
const char *util_closest(const char *word, const char *const *candidates);

/* Strict number parsers: the whole string must be the number. 0 or -1. */
int util_parse_long(const char *s, long min, long max, long *out);
int util_parse_double(const char *s, double *out);

/*
 * Durations: "250ms", "10s", "5m", "2h", "30d", "1w", or a bare number of
 * seconds. Result in milliseconds. 0 or -1.
 */
int util_parse_duration_ms(const char *s, int64_t *out_ms);

/* Powers: "50kW", "1.2MW", "800W", "50 kW" or a bare number of watts. */
int util_parse_power_w(const char *s, double *out_w);
/* A size in bytes: "2GB", "500MB", "1.5 GiB", "4096": 0 or -1. */
int util_parse_size(const char *s, uint64_t *out);

/* Wall clock in UTC microseconds since the epoch. */
int64_t util_now_us(void);
/* Monotonic clock in microseconds (for intervals and timeouts). */
int64_t util_mono_us(void);

/* Format t_us as "2026-11-22T14:03:05.123Z" (buf at least 32 bytes). */
char *util_format_time_ms(int64_t t_us, char *buf, size_t size);

/*
 * Parse a TIME of the contract: ISO 8601 UTC ("2026-11-22T14:00:00Z",
 * optional fraction and numeric offset), local ("2026-11-22 15:00",
 * "2026-11-22T15:00:00", "2026-11-22"), or relative to now_us ("-2h",
 * "-30m", "-7d", "now"), or "today" / "yesterday" (local midnight). 0 or -1.
 */
int util_parse_time(const char *s, int64_t now_us, int64_t *out_us);

/* Read a whole file (at most max bytes); NULL and errno on error. */
char *util_read_file(const char *path, size_t max, size_t *len_out);

/* Sleep for ms milliseconds, restarting after signals. */
void util_sleep_ms(int64_t ms);
/* Names the calling thread (top -H, ps -L, perf, gdb): at most 15
 * characters are kept. */
void util_thread_name(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The double of a float32's shortest decimal: the fewest digits (6 to 9)
 * that read back as f, read as a double (230.1f gives 230.1, not
 * 230.100006103515625). Infinities, NaN and zeros: (double)f. _ref is the
 * same by snprintf and strtof/strtod (the tests compare the two);
 * util_f32_decimal computes it without formatting where it can decide
 * exactly, else asks _ref. Both are pure functions of f's bits, so a
 * decimal stored as f's 32 bits (codec.h) comes back bit for bit.
 */
double util_f32_decimal(float f);
double util_f32_decimal_ref(float f);

/* mkdir -p of the directory part of path (not the last component); new
 * directories are 0770 less the umask (never others'). */
int util_mkdir_parent(const char *path);

/* The directory holding the running executable (static buffer), or NULL. */
const char *util_exe_dir(void);

/*
 * Find NAME.ini for a kind of shipped file (profiles, themes), in order:
 * the directories of the environment variable env (colon separated); the
 * source tree's src_dir when the binary runs from its build tree (found by
 * walking up from the binary to a directory holding include/phasor/util.h);
 * BIN/../share/phasor/share_dir beside an installed (possibly relocated)
 * binary; PREFIX/share/phasor/share_dir. name must be a plain name (no '/',
 * not starting with '.'). Writes the path into buf and returns 0, or -1.
 */
int util_find_ini(const char *env, const char *src_dir, const char *share_dir, const char *name,
		  char *buf, size_t size);

#endif
