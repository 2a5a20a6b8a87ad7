// SPDX-License-Identifier: MIT
/*
 * config: reads the INI configuration of the contract and validates all of
 * it before anything starts.
 *
 * inifile reads the text into sections and key/value pairs with their
 * lines and reports its lexical errors; everything else is here. The
 * sections are first matched to the known kinds (repeated keys dropped but
 * for topic), then validated section by section into struct config, which
 * loads each meter's profile and does the checks that span sections
 * (duplicate devices, MQTT meters without a broker). Every problem, the
 * lexical ones too, is collected with its line and reported at the end,
 * sorted by line, so one run shows them all. Topic filters are checked with payload_filter_valid(). Secrets are
 * only ever read from *_file keys, through config_read_secret(), which
 * refuses files others can read. [alarm NAME] sections are read last, once
 * every meter is known, so that a meters pattern matching none is an error
 * (a typo would otherwise watch nothing, silently).
 */
#include "phasor/config.h"

#include <ctype.h>
#include <math.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "phasor/inifile.h"
#include "phasor/log.h"
#include "phasor/payload.h"
#include "phasor/qty.h"
#include "phasor/regmap.h"
#include "phasor/operators.h"
#include "phasor/tlsfile.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define CONFIG_MAX_BYTES (16 * 1024 * 1024)
#define CONFIG_MAX_LINE 8192
#define SECRET_MAX_BYTES (64 * 1024)
#define METER_NAME_MAX 64

/* ---- sections: the document's, as ours ---------------------------------- */

enum sect_kind {
	S_SITE, S_STORE, S_LOG, S_MQTT, S_SYNC, S_CONSOLE, S_OPERATORS, S_METER, S_ALARM,
	S_FORECAST, S_AUTH, S_MACHINE, S__COUNT,
	S_IGNORED
};

static const char *const sect_names[S__COUNT + 1] = { /* NULL-ended */
	[S_SITE] = "site", [S_STORE] = "store", [S_LOG] = "log",
	[S_MQTT] = "mqtt", [S_SYNC] = "sync",	[S_CONSOLE] = "console",
	[S_OPERATORS] = "operators", [S_METER] = "meter", [S_ALARM] = "alarm",
	[S_FORECAST] = "forecast", [S_AUTH] = "auth", [S_MACHINE] = "machine",
};

/* Sections that take a name: "[meter NAME]", "[alarm NAME]". */
static bool named_kind(size_t k)
{
	return k == S_METER || k == S_ALARM || k == S_MACHINE;
}

struct sect {
	enum sect_kind kind; /* S_IGNORED: bad or unknown header, keys dropped */
	char *title;         /* "[site]", "[meter x]": for messages */
	char *meter_name;    /* S_METER, S_ALARM and S_MACHINE: the NAME */
	int line;
	/* copies of the document's pairs without the repeated keys (but
	 * topic); their strings belong to the document */
	struct inifile_kv *kvs;
	size_t nkvs;
};

struct err {
	int line; /* 0: about the whole file, printed last */
	size_t seq;
	char *msg;
};

struct parse {
	const char *name;    /* file name used in messages */
	char *base;          /* directory for relative paths (NULL: as given) */
	struct inifile *doc; /* NULL: the file could not be read */
	struct sect *sects;
	size_t nsects;
	struct err *errs;
	size_t nerrs;
};

static void perr(struct parse *p, int line, const char *fmt, ...) UTIL_PRINTF(3, 4);

static void perr(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *raw, *msg;
	size_t len;

	va_start(ap, fmt);
	raw = util_vprintf(fmt, ap);
	va_end(ap);
	/* Values from the file are echoed back: keep the terminal safe. The
	 * sanitized text is never longer than the raw one. */
	len = strlen(raw);
	msg = util_malloc(len + 1);
	util_sanitize(msg, len + 1, raw);
	free(raw);
	p->errs = util_reallocarray(p->errs, p->nerrs + 1, sizeof(*p->errs));
	p->errs[p->nerrs].line = line;
	p->errs[p->nerrs].seq = p->nerrs;
	p->errs[p->nerrs].msg = msg;
	p->nerrs++;
}

static int err_cmp(const void *a, const void *b)
{
	const struct err *x = a, *y = b;
	/* Whole-file errors (line 0) go last. */
	unsigned lx = x->line > 0 ? (unsigned)x->line : UINT_MAX;
	unsigned ly = y->line > 0 ? (unsigned)y->line : UINT_MAX;

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct inifile_kv *sect_find(struct sect *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nkvs; i++)
		if (strcmp(s->kvs[i].key, key) == 0)
			return &s->kvs[i];
	return NULL;
}

/* A section of the document as one of ours: "[kind]" or "[meter NAME]". */
static void add_sect(struct parse *p, const struct inifile_section *in)
{
	const char *word = in->kind, *rest = in->arg;
	struct sect s;
	size_t i, k;

	memset(&s, 0, sizeof(s));
	s.kind = S_IGNORED;
	s.line = in->line;
	for (i = 0; i < S__COUNT; i++)
		if (strcmp(word, sect_names[i]) == 0)
			break;
	if (i == S__COUNT) {
		const char *sugg = util_closest(word, sect_names);
		char *shown = *rest ? util_printf("%s %s", word, rest) : util_strdup(word);
		if (sugg == NULL)
			perr(p, s.line,
			     "unknown section [%s] (known: [site], [store], [log], [mqtt], [sync], "
			     "[console], [operators], [forecast], [meter NAME], [alarm NAME], "
			     "[machine NAME])",
			     shown);
		else if (strcmp(sugg, "meter") == 0 || strcmp(sugg, "alarm") == 0 ||
			 strcmp(sugg, "machine") == 0)
			perr(p, s.line, "unknown section [%s]; did you mean [%s NAME]?", shown, sugg);
		else
			perr(p, s.line, "unknown section [%s]; did you mean [%s]?", shown, sugg);
		free(shown);
	} else if (named_kind(i) && *rest == '\0') {
		perr(p, s.line, "a%s %s section needs a name: [%s NAME]", i == S_ALARM ? "n" : "",
		     word, word);
	} else if (!named_kind(i) && *rest != '\0') {
		perr(p, s.line, "section [%s] takes no name (found [%s %s])", word, word, rest);
	} else {
		s.kind = (enum sect_kind)i;
		if (named_kind(i)) {
			s.meter_name = util_strdup(rest);
			s.title = util_printf("[%s %s]", word, rest);
		} else {
			s.title = util_printf("[%s]", word);
		}
	}
	/* the keys of a section we do not know are not checked */
	for (k = 0; s.kind != S_IGNORED && k < in->nkvs; k++) {
		const struct inifile_kv *kv = &in->kvs[k], *first = inifile_repeated(in, k);

		if (first != NULL && strcmp(kv->key, "topic") != 0) {
			perr(p, kv->line, "duplicate key '%s' (first at line %d)", kv->key,
			     first->line);
			continue;
		}
		s.kvs = util_reallocarray(s.kvs, s.nkvs + 1, sizeof(*s.kvs));
		s.kvs[s.nkvs++] = *kv;
	}
	p->sects = util_reallocarray(p->sects, p->nsects + 1, sizeof(*p->sects));
	p->sects[p->nsects++] = s;
}

/* ---- value helpers ---------------------------------------------------- */

static bool has_value(struct parse *p, const struct inifile_kv *kv)
{
	if (kv->value[0] != '\0')
		return true;
	perr(p, kv->line, "%s: no value", kv->key);
	return false;
}

static void set_str(struct parse *p, const struct inifile_kv *kv, char **out)
{
	if (!has_value(p, kv))
		return;
	free(*out);
	*out = util_strdup(kv->value);
}

/* Decimal, or hexadecimal with 0x: "0502" is 502, not octal. */
static int parse_integer(const char *s, long *out)
{
	const char *d = s + (s[0] == '-' || s[0] == '+');

	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
		return util_parse_long(s, LONG_MIN, LONG_MAX, out);
	while (d[0] == '0' && isdigit((unsigned char)d[1]))
		d++;
	if (d != s + (s[0] == '-' || s[0] == '+')) {
		char *copy = util_printf("%s%s", s[0] == '-' ? "-" : "", d);
		int rc = util_parse_long(copy, LONG_MIN, LONG_MAX, out);
		free(copy);
		return rc;
	}
	return util_parse_long(s, LONG_MIN, LONG_MAX, out);
}

static bool get_long(struct parse *p, const struct inifile_kv *kv, long min, long max, long *out)
{
	long v;

	if (!has_value(p, kv))
		return false;
	if (parse_integer(kv->value, &v) < 0 || v < min || v > max) {
		if (strcmp(kv->key, "port") == 0)
			perr(p, kv->line, "port: %s is not a port (%ld..%ld)", kv->value, min, max);
		else if (parse_integer(kv->value, &v) == 0)
			perr(p, kv->line, "%s: %s is out of range (%ld..%ld)", kv->key, kv->value,
			     min, max);
		else
			perr(p, kv->line, "%s: %s is not an integer (%ld..%ld)", kv->key,
			     kv->value, min, max);
		return false;
	}
	*out = v;
	return true;
}

static void get_int(struct parse *p, const struct inifile_kv *kv, int min, int max, int *out)
{
	long v;

	if (get_long(p, kv, min, max, &v))
		*out = (int)v;
}

static void get_double(struct parse *p, const struct inifile_kv *kv, double min, double max,
		       double *out)
{
	double v;

	if (!has_value(p, kv))
		return;
	if (util_parse_double(kv->value, &v) < 0 || v != v) {
		perr(p, kv->line, "%s: %s is not a number (%g..%g)", kv->key, kv->value, min, max);
		return;
	}
	if (v < min || v > max) {
		perr(p, kv->line, "%s: %s is out of range (%g..%g)", kv->key, kv->value, min, max);
		return;
	}
	*out = v;
}

/* Durations: the range is given as text for the message ("1s..1h"). */
static bool get_duration(struct parse *p, const struct inifile_kv *kv, int64_t min_ms, int64_t max_ms,
			 const char *range, int64_t *out)
{
	int64_t ms;

	if (!has_value(p, kv))
		return false;
	if (util_parse_duration_ms(kv->value, &ms) < 0) {
		perr(p, kv->line, "%s: %s is not a duration (%s; e.g. 500ms, 10s, 5m, 2h, 30d)",
		     kv->key, kv->value, range);
		return false;
	}
	if (ms < min_ms || ms > max_ms) {
		perr(p, kv->line, "%s: %s is out of range (%s)", kv->key, kv->value, range);
		return false;
	}
	*out = ms;
	return true;
}

static void get_bool(struct parse *p, const struct inifile_kv *kv, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	if (!has_value(p, kv))
		return;
	for (i = 0; i < UTIL_ARRAY_LEN(yes); i++) {
		if (util_strcasecmp(kv->value, yes[i]) == 0) {
			*out = true;
			return;
		}
		if (util_strcasecmp(kv->value, no[i]) == 0) {
			*out = false;
			return;
		}
	}
	perr(p, kv->line, "%s: %s is not a boolean (true, false, yes, no, on, off, 1, 0)",
	     kv->key, kv->value);
}

static char *home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	if (h != NULL && h[0] == '/')
		return util_strdup(h);
	pw = getpwuid(getuid());
	if (pw != NULL && pw->pw_dir != NULL && pw->pw_dir[0] == '/')
		return util_strdup(pw->pw_dir);
	return NULL;
}

/* A path from the file: "~/" is the home directory, a relative path is
 * relative to the configuration file's directory. */
static char *resolve_path(const struct parse *p, const char *v)
{
	if (v[0] == '~' && v[1] == '/') {
		char *home = home_dir();
		if (home != NULL) {
			char *r = util_printf("%s%s", home, v + 1);
			free(home);
			return r;
		}
	}
	if (v[0] == '/' || p->base == NULL)
		return util_strdup(v);
	return util_printf("%s/%s", p->base, v);
}

static void set_path(struct parse *p, const struct inifile_kv *kv, char **out)
{
	if (!has_value(p, kv))
		return;
	free(*out);
	*out = resolve_path(p, kv->value);
}

static void set_secret(struct parse *p, const struct inifile_kv *kv, char **out)
{
	char *path, *cause = NULL, *secret;

	if (!has_value(p, kv))
		return;
	path = resolve_path(p, kv->value);
	secret = config_read_secret(path, &cause);
	if (secret == NULL) {
		perr(p, kv->line, "%s: %s", kv->key, cause);
		free(cause);
	} else if (secret[0] == '\0') {
		perr(p, kv->line, "%s: %s is empty", kv->key, path);
		free(secret);
	} else {
		if (*out != NULL) {
			explicit_bzero(*out, strlen(*out));
			free(*out);
		}
		*out = secret;
	}
	free(path);
}

/* NULL when only the owner may read or write path (mode), else why not. */
static char *private_mode_problem(const char *path, mode_t mode)
{
	const char *how = (mode & 044) ? "readable" : (mode & 022) ? "writable" : "accessible";

	if ((mode & 077) == 0)
		return NULL;
	return util_printf("%s is %s by group or others (mode %04o); chmod 600 it", path, how,
			   (unsigned)(mode & 07777));
}

/*
 * A PEM file key (ca_file, cert_file, key_file): resolved, readable and
 * checked by check (tlsfile.c, NULL: none); the path goes to *out.
 * private: the file is a secret (a key), refused when group or others may
 * read it, like password_file.
 */
static void set_pem(struct parse *p, const struct inifile_kv *kv, char *(*check)(const char *),
		    bool private, char **out)
{
	struct stat st;
	char *path, *why = NULL;

	if (!has_value(p, kv))
		return;
	path = resolve_path(p, kv->value);
	if (stat(path, &st) < 0 || access(path, R_OK) < 0)
		perr(p, kv->line, "%s: cannot read %s: %s", kv->key, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		perr(p, kv->line, "%s: %s is not a regular file", kv->key, path);
	else if (private && (why = private_mode_problem(path, st.st_mode)) != NULL)
		perr(p, kv->line, "%s: %s", kv->key, why);
	else if (check != NULL && (why = check(path)) != NULL)
		perr(p, kv->line, "%s: %s", kv->key, why);
	else {
		free(*out);
		*out = path;
		path = NULL;
	}
	free(why);
	free(path);
}

static void unknown_key(struct parse *p, const struct sect *s, const struct inifile_kv *kv,
			const char *const *keys)
{
	const char *sugg = util_closest(kv->key, keys);

	if (sugg != NULL)
		perr(p, kv->line, "unknown key '%s' in %s; did you mean '%s'?", kv->key, s->title,
		     sugg);
	else
		perr(p, kv->line, "unknown key '%s' in %s", kv->key, s->title);
}

static void missing_key(struct parse *p, const struct sect *s, const char *key, const char *why)
{
	perr(p, s->line, "missing key '%s' in %s%s", key, s->title, why);
}

/* No '/', '+', '#' (MQTT topic levels and wildcards). */
static bool mqtt_level_safe(const char *s)
{
	return strpbrk(s, "/+#") == NULL;
}

/* "tcp://HOST:PORT" (or ssl, mqtt, mqtts); NULL when fine, else why not. */
static const char *uri_problem(const char *uri)
{
	static const char *const schemes[] = { "tcp://", "ssl://", "mqtt://", "mqtts://" };
	const char *h = NULL, *port;
	size_t i;
	long v;

	for (i = 0; i < UTIL_ARRAY_LEN(schemes); i++)
		if (strncmp(uri, schemes[i], strlen(schemes[i])) == 0)
			h = uri + strlen(schemes[i]);
	if (h == NULL)
		return "the scheme must be tcp://, ssl://, mqtt:// or mqtts://";
	if (*h == '[') {
		const char *close = strchr(h, ']');
		if (close == NULL || close == h + 1)
			return "bad IPv6 address (tcp://[ADDRESS]:PORT)";
		for (i = 1; h + i < close; i++)
			if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
				return "bad IPv6 address (tcp://[ADDRESS]:PORT)";
		port = close + 1;
	} else {
		port = h;
		while (*port != '\0' && *port != ':' && *port != '/') {
			if (!isalnum((unsigned char)*port) && *port != '-' && *port != '.' &&
			    *port != '_')
				return "bad character in the host name";
			port++;
		}
		if (port == h)
			return "no host";
	}
	if (*port != ':')
		return "no port (e.g. tcp://HOST:1883, ssl://HOST:8883)";
	if (util_parse_long(port + 1, 1, 65535, &v) < 0 || !isdigit((unsigned char)port[1]))
		return "the port must be a number in 1..65535 with nothing after it";
	return NULL;
}

static bool host_valid(const char *h)
{
	if (strlen(h) > 253)
		return false;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && strchr("-._:[]%", *h) == NULL)
			return false;
	return true;
}

/* ---- validation, one kind of section at a time ------------------------ */

static const char *const site_keys[] = { "name",	   "timezone",	  "target_pf",
					 "nominal_frequency", "price_per_kwh", "currency",
					 "co2_per_kwh",	   "contract_power", "shifts", "calorific_value",
					 "price_gas",	   "price_heat",     NULL };

/* [site] price_UTILITY: the key's utility, or -1. */
static int price_key(const char *key)
{
	static const struct {
		const char *key;
		int utility;
	} keys[] = { { "price_gas", UTILITY_GAS }, { "price_heat", UTILITY_HEAT } };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(keys); i++)
		if (strcmp(key, keys[i].key) == 0)
			return keys[i].utility;
	return -1;
}

/*
 * [site] shifts = 06:00, 14:00, 22:00: HH:MM local start times, strictly
 * ascending within the day, 1..CONFIG_SHIFTS_MAX of them. 0, or -1 with a
 * message in why.
 */
static int parse_shifts(const char *v, int *out, size_t *n, char *why, size_t whysz)
{
	const char *s = v;

	*n = 0;
	for (;;) {
		int h, m, used = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2 || used != 5 || !isdigit((unsigned char)s[0]) ||
		    !isdigit((unsigned char)s[3]) || h > 23 || m > 59 || h < 0 || m < 0) {
			snprintf(why, whysz, "'%.*s' is not a time of day (HH:MM, e.g. 06:00)",
				 (int)strcspn(s, ","), s);
			return -1;
		}
		if (*n == CONFIG_SHIFTS_MAX) {
			snprintf(why, whysz, "more than %d shifts", CONFIG_SHIFTS_MAX);
			return -1;
		}
		if (*n > 0 && h * 60 + m <= out[*n - 1]) {
			snprintf(why, whysz, "%.5s is not after the shift before it (start times in "
				 "order within the day, e.g. 06:00, 14:00, 22:00)", s);
			return -1;
		}
		out[(*n)++] = h * 60 + m;
		s += used;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			return 0;
		if (*s != ',') {
			snprintf(why, whysz, "'%s': times are separated by commas", s);
			return -1;
		}
		s++;
	}
}

bool config_timezone_known(const char *tz)
{
	struct stat st;
	char *path;
	bool ok;

	if (tz[0] == ':')
		tz++;
	if (strcmp(tz, "UTC") == 0 || strstr(tz, "..") != NULL)
		return strcmp(tz, "UTC") == 0;
	if (stat("/usr/share/zoneinfo", &st) < 0)
		return true; /* no tzdata to check against */
	path = util_printf("/usr/share/zoneinfo/%s", tz);
	ok = tz[0] != '/' && stat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	/* POSIX TZ strings ("CET-1CEST,M3.5.0,M10.5.0/3") carry digits. */
	if (!ok && strpbrk(tz, "0123456789") != NULL && strchr(tz, ' ') == NULL)
		ok = true;
	return ok;
}

/* calorific_value = 10.5 (kWh/m3, or 37.8 MJ/m3) */
static void get_calorific(struct parse *p, const struct inifile_kv *kv, double *out)
{
	char why[160];

	if (!has_value(p, kv))
		return;
	if (utility_parse_calorific(kv->value, out, why, sizeof(why)) < 0)
		perr(p, kv->line, "calorific_value: %s: %s", kv->value, why);
}

static void do_site(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		if (strcmp(kv->key, "name") == 0) {
			set_str(p, kv, &c->site.name);
		} else if (strcmp(kv->key, "timezone") == 0) {
			if (!has_value(p, kv))
				continue;
			if (!config_timezone_known(kv->value))
				perr(p, kv->line,
				     "timezone: %s is not a known time zone (e.g. Europe/Paris, UTC)",
				     kv->value);
			else
				set_str(p, kv, &c->site.timezone);
		} else if (strcmp(kv->key, "target_pf") == 0) {
			get_double(p, kv, 0.5, 1.0, &c->site.target_pf);
		} else if (strcmp(kv->key, "nominal_frequency") == 0) {
			get_double(p, kv, 40, 70, &c->site.nominal_freq);
		} else if (strcmp(kv->key, "price_per_kwh") == 0) {
			get_double(p, kv, 0, 1000, &c->site.price_per_kwh);
		} else if (price_key(kv->key) >= 0) {
			get_double(p, kv, 0, 1000, &c->site.price[price_key(kv->key)]);
		} else if (strcmp(kv->key, "co2_per_kwh") == 0) {
			get_double(p, kv, 0, 10, &c->site.co2_per_kwh);
		} else if (strcmp(kv->key, "contract_power") == 0) {
			double w;

			if (!has_value(p, kv))
				continue;
			if (util_parse_power_w(kv->value, &w) < 0)
				perr(p, kv->line,
				     "contract_power: %s is not a power (e.g. 250kW, 1.2MW)", kv->value);
			else if (!(w > 0))
				perr(p, kv->line, "contract_power: %s must be greater than 0", kv->value);
			else
				c->site.contract_power = w;
		} else if (strcmp(kv->key, "calorific_value") == 0) {
			get_calorific(p, kv, &c->site.calorific_value);
		} else if (strcmp(kv->key, "shifts") == 0) {
			char why[160];

			if (!has_value(p, kv))
				continue;
			if (parse_shifts(kv->value, c->site.shift_min, &c->site.nshifts, why,
					 sizeof(why)) < 0) {
				c->site.nshifts = 0;
				perr(p, kv->line, "shifts: %s", why);
			}
		} else if (strcmp(kv->key, "currency") == 0) {
			if (!has_value(p, kv))
				continue;
			if (strlen(kv->value) > 8 || strspn(kv->value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
							     "abcdefghijklmnopqrstuvwxyz$") !=
							  strlen(kv->value))
				perr(p, kv->line,
				     "currency: '%s' is not a currency code (letters, e.g. EUR)",
				     kv->value);
			else
				set_str(p, kv, &c->site.currency);
		} else {
			unknown_key(p, s, kv, site_keys);
		}
	}
}

/* ---- [forecast] ---------------------------------------------------------- */

static const char *const forecast_keys[] = { "interval", "history", "holidays", NULL };

/* Days since 1970-01-01 of YYYY-MM-DD (a real date), or -1 with *day unset. */
static int parse_date_day(const char *s, int32_t *day)
{
	int y, m, d, n = 0;
	struct tm tm;
	time_t t;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    s[4] != '-' || s[7] != '-' || !isdigit((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[8]))
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm); /* no time zone involved: a calendar date */
	if (tm.tm_mday != d || tm.tm_mon != m - 1 || m < 1 || m > 12)
		return -1;
	*day = (int32_t)(t / 86400);
	return 0;
}

static void do_forecast(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		if (strcmp(kv->key, "interval") == 0) {
			int64_t ms;

			if (!get_duration(p, kv, 60000, 86400000, "1m..1d", &ms))
				continue;
			if (ms % 60000 != 0 || 86400000 % ms != 0)
				perr(p, kv->line,
				     "interval: %s does not divide a day into whole minutes "
				     "(e.g. 10m, 15m, 30m, 1h)",
				     kv->value);
			else
				c->forecast.interval_ms = ms;
		} else if (strcmp(kv->key, "history") == 0) {
			get_duration(p, kv, 86400000, 366LL * 86400000, "1d..366d",
				     &c->forecast.history_ms);
		} else if (strcmp(kv->key, "holidays") == 0) {
			char *copy = util_strdup(kv->value), *save = NULL, *tok;

			free(c->forecast.holidays);
			c->forecast.holidays = NULL;
			c->forecast.nholidays = 0;
			for (tok = strtok_r(copy, ",", &save); tok != NULL;
			     tok = strtok_r(NULL, ",", &save)) {
				char *d = util_trim(tok);
				int32_t day;

				if (*d == '\0')
					continue;
				if (parse_date_day(d, &day) < 0) {
					perr(p, kv->line,
					     "holidays: '%s' is not a date (YYYY-MM-DD, e.g. 2026-12-25)",
					     d);
					continue;
				}
				c->forecast.holidays =
					util_reallocarray(c->forecast.holidays,
							  c->forecast.nholidays + 1, sizeof(int32_t));
				c->forecast.holidays[c->forecast.nholidays++] = day;
			}
			free(copy);
		} else {
			unknown_key(p, s, kv, forecast_keys);
		}
	}
}

static const char *const store_keys[] = { "path",	      "retention", "queue_max", "batch_rows",
					  "commit_interval", "quota",	   NULL };

static void do_store(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;
	int64_t ms;
	long v;

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		if (strcmp(kv->key, "path") == 0) {
			set_path(p, kv, &c->store.path);
		} else if (strcmp(kv->key, "retention") == 0) {
			get_duration(p, kv, 0, INT64_MAX / 2, "0 or more", &c->store.retention_ms);
		} else if (strcmp(kv->key, "queue_max") == 0) {
			if (get_long(p, kv, 1000, 100000000, &v))
				c->store.queue_max = (size_t)v;
		} else if (strcmp(kv->key, "batch_rows") == 0) {
			get_int(p, kv, 1, 1000000, &c->store.batch_rows);
		} else if (strcmp(kv->key, "commit_interval") == 0) {
			if (get_duration(p, kv, 10, 60000, "10ms..60s", &ms))
				c->store.commit_ms = (int)ms;
		} else if (strcmp(kv->key, "quota") == 0) {
			uint64_t bytes;

			if (!has_value(p, kv))
				continue;
			if (strcmp(kv->value, "none") == 0)
				c->store.quota_bytes = 0;
			else if (util_parse_size(kv->value, &bytes) < 0 || bytes < 1000000)
				perr(p, kv->line,
				     "quota: '%s' is not a size of at least 1MB (e.g. 2GB, 500MB)"
				     " or none",
				     kv->value);
			else
				c->store.quota_bytes = bytes;
		} else {
			unknown_key(p, s, kv, store_keys);
		}
	}
}

static const char *const log_keys[] = { "path", "level", NULL };

static void do_log(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		if (strcmp(kv->key, "path") == 0) {
			set_path(p, kv, &c->log.path);
		} else if (strcmp(kv->key, "level") == 0) {
			int lvl;
			if (!has_value(p, kv))
				continue;
			lvl = log_level_parse(kv->value);
			if (lvl < 0)
				perr(p, kv->line, "level: %s is not a log level (error, warn, info, debug)",
				     kv->value);
			else
				c->log.level = lvl;
		} else {
			unknown_key(p, s, kv, log_keys);
		}
	}
}

static const char *const mqtt_keys[] = { "uri",	     "client_id",   "username",
					 "password_file", "ca_file",     "cert_file",
					 "key_file",	     "qos",	    "keepalive",
					 "share_group",   "clean_session", "alarm_topic",
					 "protocol",	     "sparkplug_host_id", NULL };

/* ssl:// or mqtts:// */
static bool uri_is_tls(const char *uri)
{
	return uri != NULL && (strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0);
}

/* cert_file and key_file go together, with TLS, and the key is the certificate's. */
static void check_client_cert(struct parse *p, struct sect *s, struct config *c)
{
	const struct inifile_kv *cert = sect_find(s, "cert_file"), *key = sect_find(s, "key_file");
	char *why;

	if (cert == NULL && key == NULL)
		return;
	if (cert == NULL || key == NULL) {
		perr(p, (cert != NULL ? cert : key)->line,
		     "%s without %s: a client certificate needs both (PEM files)",
		     cert != NULL ? "cert_file" : "key_file", cert != NULL ? "key_file" : "cert_file");
		return;
	}
	if (c->mqtt.uri != NULL && !uri_is_tls(c->mqtt.uri))
		perr(p, cert->line,
		     "cert_file: the uri %s is not TLS; a client certificate needs ssl:// or mqtts://",
		     c->mqtt.uri);
	if (c->mqtt.cert_file == NULL || c->mqtt.key_file == NULL)
		return; /* already reported */
	why = tlsfile_check_key(c->mqtt.key_file, c->mqtt.cert_file);
	if (why != NULL)
		perr(p, key->line, "key_file: %s", why);
	free(why);
}

static char *check_key_alone(const char *path)
{
	return tlsfile_check_key(path, NULL);
}

static void do_mqtt(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;
	int64_t ms;

	c->mqtt.enabled = true;
	c->mqtt.line = s->line;
	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		if (strcmp(kv->key, "uri") == 0) {
			const char *why;
			if (!has_value(p, kv))
				continue;
			why = uri_problem(kv->value);
			if (why != NULL)
				perr(p, kv->line, "uri: %s is not an MQTT broker URI: %s", kv->value, why);
			else
				set_str(p, kv, &c->mqtt.uri);
		} else if (strcmp(kv->key, "client_id") == 0) {
			if (!has_value(p, kv))
				continue;
			if (util_has_control(kv->value))
				perr(p, kv->line, "client_id: control characters are not allowed");
			else
				set_str(p, kv, &c->mqtt.client_id);
		} else if (strcmp(kv->key, "username") == 0) {
			set_str(p, kv, &c->mqtt.username);
		} else if (strcmp(kv->key, "password_file") == 0) {
			set_secret(p, kv, &c->mqtt.password);
		} else if (strcmp(kv->key, "ca_file") == 0) {
			set_pem(p, kv, tlsfile_check_ca, false, &c->mqtt.ca_file);
		} else if (strcmp(kv->key, "cert_file") == 0) {
			set_pem(p, kv, tlsfile_check_cert, false, &c->mqtt.cert_file);
		} else if (strcmp(kv->key, "key_file") == 0) {
			set_pem(p, kv, check_key_alone, true, &c->mqtt.key_file);
		} else if (strcmp(kv->key, "qos") == 0) {
			get_int(p, kv, 0, 2, &c->mqtt.qos);
		} else if (strcmp(kv->key, "keepalive") == 0) {
			if (get_duration(p, kv, 1000, 3600000, "1s..1h", &ms))
				c->mqtt.keepalive_s = (int)((ms + 999) / 1000);
		} else if (strcmp(kv->key, "share_group") == 0) {
			if (!has_value(p, kv))
				continue;
			if (!mqtt_level_safe(kv->value) || util_has_control(kv->value))
				perr(p, kv->line, "share_group: %s must not contain '/', '+' or '#'",
				     kv->value);
			else
				set_str(p, kv, &c->mqtt.share_group);
		} else if (strcmp(kv->key, "clean_session") == 0) {
			get_bool(p, kv, &c->mqtt.clean_session);
		} else if (strcmp(kv->key, "protocol") == 0) {
			if (strcmp(kv->value, "5") == 0)
				c->mqtt.protocol = 5;
			else if (strcmp(kv->value, "3.1.1") == 0)
				c->mqtt.protocol = 4;
			else
				perr(p, kv->line, "protocol: '%s': expected 5 or 3.1.1", kv->value);
		} else if (strcmp(kv->key, "sparkplug_host_id") == 0) {
			/* Empty: no STATE (the default). One topic level. */
			if (!mqtt_level_safe(kv->value) || util_has_control(kv->value) ||
			    kv->value[0] == '$')
				perr(p, kv->line,
				     "sparkplug_host_id: %s must be one topic level (no '/', '+', '#', "
				     "leading '$')",
				     kv->value);
			else if (kv->value[0] != '\0')
				set_str(p, kv, &c->mqtt.sp_host_id);
		} else if (strcmp(kv->key, "alarm_topic") == 0) {
			/* Empty: alarms are not shared. */
			if (strpbrk(kv->value, "+#") != NULL || util_has_control(kv->value) ||
			    kv->value[0] == '/' || strncmp(kv->value, "$", 1) == 0 ||
			    (kv->value[0] != '\0' && kv->value[strlen(kv->value) - 1] == '/'))
				perr(p, kv->line,
				     "alarm_topic: %s is not a topic prefix (no '+', '#', leading '$'"
				     " or '/', or trailing '/')",
				     kv->value);
			else {
				free(c->mqtt.alarm_topic);
				c->mqtt.alarm_topic = util_strdup(kv->value);
			}
		} else {
			unknown_key(p, s, kv, mqtt_keys);
		}
	}
	if (sect_find(s, "uri") == NULL)
		missing_key(p, s, "uri", " (e.g. uri = tcp://127.0.0.1:1883)");
	check_client_cert(p, s, c);
}

static const char *const sync_keys[] = { "postgres", "password_file", "ca_file", "interval",
					 NULL };

static void do_sync(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;

	c->sync.enabled = true;
	c->sync.line = s->line;
	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		if (strcmp(kv->key, "postgres") == 0)
			set_str(p, kv, &c->sync.postgres);
		else if (strcmp(kv->key, "password_file") == 0)
			set_secret(p, kv, &c->sync.password);
		else if (strcmp(kv->key, "ca_file") == 0)
			set_pem(p, kv, tlsfile_check_ca, false, &c->sync.ca_file);
		else if (strcmp(kv->key, "interval") == 0)
			get_duration(p, kv, 100, 86400000, "100ms..1d", &c->sync.interval_ms);
		else
			unknown_key(p, s, kv, sync_keys);
	}
	if (sect_find(s, "postgres") == NULL)
		missing_key(p, s, "postgres", " (a libpq connection string)");
}

static const char *const console_keys[] = { "theme", "refresh", "bell", NULL };

static void do_console(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];

		if (strcmp(kv->key, "theme") == 0) {
			if (!has_value(p, kv))
				continue;
			if (strchr(kv->value, '/') == NULL &&
			    strspn(kv->value, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
				strlen(kv->value))
				perr(p, kv->line,
				     "theme: '%s' is not a theme name (lower-case letters, digits, '-') "
				     "or a path",
				     kv->value);
			else
				set_str(p, kv, &c->console.theme);
		} else if (strcmp(kv->key, "refresh") == 0) {
			int64_t ms;

			if (get_duration(p, kv, 100, 60000, "100ms..60s", &ms))
				c->console.refresh_ms = (int)ms;
		} else if (strcmp(kv->key, "bell") == 0) {
			get_bool(p, kv, &c->console.bell);
		} else {
			unknown_key(p, s, kv, console_keys);
		}
	}
}

static const char *const auth_keys[] = { "operators", "idle", NULL };

/* [auth]: who may act at a console (operators.h), signed in for idle at most. */
static void do_auth(struct parse *p, struct sect *s, struct config *c)
{
	size_t i;

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];

		if (strcmp(kv->key, "operators") == 0) {
			struct diag d;
			char *path;

			if (!has_value(p, kv))
				continue;
			path = resolve_path(p, kv->value);
			diag_init(&d);
			operators_free(c->auth.ops);
			c->auth.ops = operators_load(path, &d);
			for (size_t k = 0; k < d.n; k++)
				perr(p, kv->line, "operators: %s", d.lines[k]);
			diag_clear(&d);
			free(c->auth.operators);
			c->auth.operators = path;
		} else if (strcmp(kv->key, "idle") == 0) {
			get_duration(p, kv, 1000, 86400000, "1s..24h", &c->auth.idle_ms);
		} else {
			unknown_key(p, s, kv, auth_keys);
		}
	}
}

/* [operators] login = Display Name: any login, checked for terminal safety. */
static void do_operators(struct parse *p, struct sect *s, struct config *c)
{
	size_t i, n = 0;

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];

		if (!has_value(p, kv))
			continue;
		if (util_has_control(kv->key) || util_has_control(kv->value)) {
			perr(p, kv->line, "%s: control characters are not allowed", kv->key);
			continue;
		}
		if (strlen(kv->value) >= ALARM_OPERATOR_LEN) {
			perr(p, kv->line, "%s: the name is longer than %d bytes", kv->key,
			     ALARM_OPERATOR_LEN - 1);
			continue;
		}
		c->operators = util_reallocarray(c->operators, 2 * n + 3, sizeof(char *));
		c->operators[2 * n] = util_strdup(kv->key);
		c->operators[2 * n + 1] = util_strdup(kv->value);
		c->operators[2 * n + 2] = NULL;
		n++;
	}
}

/* ---- meters and profiles ---------------------------------------------- */

double config_calorific(const struct config *c, const struct config_meter *m)
{
	if (m->utility != UTILITY_GAS)
		return NAN;
	return isnan(m->calorific_value) ? c->site.calorific_value : m->calorific_value;
}

double config_counter_span(const struct config *c, const struct config_meter *m, unsigned qty)
{
	const struct profile *p = m != NULL ? m->profile : NULL;
	size_t i;

	if (p == NULL || p->driver != PROFILE_MODBUS)
		return 0;
	if (qty == QTY_E_IMP && config_derives_energy(c, m))
		return config_counter_span(c, m, QTY_VOLUME) * config_calorific(c, m) * 1000.0;
	for (i = 0; i < p->nregs; i++) {
		const struct profile_reg *r = &p->regs[i];

		if (r->qty != (int)qty || r->offset != 0)
			continue;
		if (r->type == REG_UINT16 || r->type == REG_UINT32)
			return ldexp(fabs(r->scale), 16 * profile_type_words(r->type));
		return 0;
	}
	return 0;
}

bool config_derives_energy(const struct config *c, const struct config_meter *m)
{
	return config_calorific(c, m) > 0 && m->profile != NULL &&
	       profile_maps(m->profile, QTY_VOLUME) && !profile_maps(m->profile, QTY_E_IMP);
}

static const char *const meter_keys[] = { "driver",  "profile",	 "description",	    "host",
					  "port",    "unit",	 "poll_ms",	    "timeout_ms",
					  "topic",   "nominal_voltage", "max_power",	    "aggregate",
					  "group",   "node",	 "device",	    "utility",
					  "pulse_value", "calorific_value", "parent",	    "role",
					  "grid",    NULL };

/* A profile name asked for, loaded or not (so failures are reported once). */
struct prof_use {
	char *name;
	struct profile *prof; /* NULL: unknown or failed */
	int line;             /* where it was first asked for */
};

struct meter_ctx {
	struct prof_use *uses;
	size_t nuses;
};

static const struct profile *get_profile(struct parse *p, struct meter_ctx *mc,
					 struct config *c, const struct inifile_kv *kv)
{
	char path[PATH_MAX];
	struct diag d;
	struct prof_use *u;
	size_t i;

	for (i = 0; i < mc->nuses; i++) {
		if (strcmp(mc->uses[i].name, kv->value) != 0)
			continue;
		if (mc->uses[i].prof == NULL)
			perr(p, kv->line, "profile: %s could not be used (see line %d)", kv->value,
			     mc->uses[i].line);
		return mc->uses[i].prof;
	}
	mc->uses = util_reallocarray(mc->uses, mc->nuses + 1, sizeof(*mc->uses));
	u = &mc->uses[mc->nuses++];
	u->name = util_strdup(kv->value);
	u->prof = NULL;
	u->line = kv->line;

	if (kv->value[0] == '.' || strchr(kv->value, '/') != NULL || util_has_control(kv->value) ||
	    profile_find(kv->value, path, sizeof(path)) < 0) {
		const char *sugg = profile_suggest(kv->value);

		if (sugg != NULL)
			perr(p, kv->line, "profile: unknown profile '%s'; did you mean '%s'?",
			     kv->value, sugg);
		else if (profile_shipped(kv->value))
			perr(p, kv->line,
			     "profile: '%s' is shipped with phasor but was not found (searched "
			     PROFILE_SEARCHED "): is phasor installed?",
			     kv->value);
		else
			perr(p, kv->line,
			     "profile: unknown profile '%s' (searched " PROFILE_SEARCHED ")",
			     kv->value);
		return NULL;
	}
	diag_init(&d);
	u->prof = profile_load(path, kv->value, &d);
	if (u->prof == NULL) {
		if (d.n == 0)
			perr(p, kv->line, "profile: %s (%s) could not be loaded", kv->value, path);
		for (i = 0; i < d.n; i++)
			perr(p, kv->line, "profile %s: %s", kv->value, d.lines[i]);
	} else {
		c->profiles = util_reallocarray(c->profiles, c->nprofiles + 1,
						sizeof(*c->profiles));
		c->profiles[c->nprofiles++] = u->prof;
	}
	diag_clear(&d);
	return u->prof;
}

static const char *meter_name_problem(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	char clean[METER_NAME_MAX * 4 + 1];

	if (strlen(name) > METER_NAME_MAX)
		return "longer than 64 bytes";
	if (strpbrk(name, "/+#") != NULL)
		return "'/', '+' and '#' are not allowed";
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s == 0x7f)
			return "control characters are not allowed";
	util_sanitize(clean, sizeof(clean), name);
	if (strcmp(clean, name) != 0)
		return "not valid UTF-8, or holds a C1 control or bidirectional override "
		       "character";
	return NULL;
}

static void meter_free_fields(struct config_meter *m)
{
	size_t i;

	free(m->name);
	free(m->profile_name);
	free(m->description);
	free(m->host);
	free(m->sp_group);
	free(m->sp_node);
	free(m->sp_device);
	free(m->parent_name);
	for (i = 0; i < m->ntopics; i++)
		free(m->topics[i]);
	free(m->topics);
}

/* Is a key only meaningful for one driver? */
static bool modbus_only(const char *k)
{
	return strcmp(k, "host") == 0 || strcmp(k, "port") == 0 || strcmp(k, "unit") == 0 ||
	       strcmp(k, "timeout_ms") == 0;
}

static bool sparkplug_only(const char *k)
{
	return strcmp(k, "group") == 0 || strcmp(k, "node") == 0 || strcmp(k, "device") == 0;
}

/* Is key k of a meter with driver d one that driver does not use? */
static bool foreign_key(enum meter_driver d, const char *k)
{
	switch (d) {
	case DRIVER_MODBUS:
		return strcmp(k, "topic") == 0 || sparkplug_only(k);
	case DRIVER_MQTT:
		return modbus_only(k) || sparkplug_only(k);
	case DRIVER_SPARKPLUG:
		return modbus_only(k) || strcmp(k, "topic") == 0;
	}
	return false;
}

/*
 * A Sparkplug group, node or device id: the specification forbids '/', '+'
 * and '#' (they are topic levels and wildcards); no control characters.
 */
static void get_sp_id(struct parse *p, const struct inifile_kv *kv, char **dst)
{
	if (!has_value(p, kv))
		return;
	if (strpbrk(kv->value, "/+#") != NULL || util_has_control(kv->value))
		perr(p, kv->line,
		     "%s: %s is not a Sparkplug id ('/', '+', '#' and control characters are "
		     "not allowed)",
		     kv->key, kv->value);
	else
		set_str(p, kv, dst);
}

/*
 * A meter's utility, pulses and calorific value, once its profile is
 * known: the default utility is the profile's; a profile that counts pulses
 * needs a pulse_value (the meter's or the profile's) of a unit that fits the
 * utility, and the meter then gets its own copy of the profile with the
 * pulses resolved (owned by c->profiles).
 */
static void meter_utility(struct parse *p, struct config *c, struct config_meter *m, int line,
			  const struct inifile_kv *utility_kv, const struct inifile_kv *pulse_kv,
			  const struct inifile_kv *cv_kv)
{
	const struct profile *prof = m->profile;
	int pline = pulse_kv != NULL ? pulse_kv->line : line;

	if (m->utility < 0)
		m->utility = prof != NULL ? prof->utility : UTILITY_ELECTRICITY;
	if (cv_kv != NULL && m->utility != UTILITY_GAS)
		perr(p, cv_kv->line,
		     "calorific_value is for gas meters; meter %s has utility = %s%s", m->name,
		     utility_name((enum utility)m->utility),
		     utility_kv == NULL ? " (its profile's: set utility = gas)" : "");
	if (prof == NULL)
		return;
	if (!prof->pulses) {
		if (pulse_kv != NULL)
			perr(p, pulse_kv->line,
			     "pulse_value: profile %s counts no pulses (its values are in units "
			     "already)",
			     prof->name);
		m->pulse_si = 0;
		m->pulse_qty = 0;
		return;
	}
	if (pulse_kv == NULL && prof->pulse_line != 0) {
		m->pulse_qty = prof->pulse_qty;
		m->pulse_si = prof->pulse_si;
	}
	if (!(m->pulse_si > 0)) {
		if (pulse_kv == NULL)
			perr(p, line,
			     "meter %s: profile %s counts pulses: add pulse_value (what one pulse "
			     "is, e.g. pulse_value = 10 l, 0.01 m3, 1 kWh)",
			     m->name, prof->name);
		return;
	}
	if ((m->pulse_qty == QTY_VOLUME) != utility_counts_volume((enum utility)m->utility)) {
		perr(p, pline, "pulse_value: a pulse of %s is %s, but meter %s has utility = %s%s",
		     m->pulse_qty == QTY_VOLUME ? "volume" : "energy",
		     m->pulse_qty == QTY_VOLUME ? "a volume" : "an energy", m->name,
		     utility_name((enum utility)m->utility),
		     m->pulse_qty == QTY_VOLUME ? " (set utility = gas, water or air)"
						: " (set utility = electricity or heat)");
		return;
	}
	if (profile_maps(prof, (int)m->pulse_qty)) {
		perr(p, pline, "pulse_value: profile %s maps %s already", prof->name,
		     qty_name(m->pulse_qty));
		return;
	}
	c->profiles = util_reallocarray(c->profiles, c->nprofiles + 1, sizeof(*c->profiles));
	c->profiles[c->nprofiles] = profile_with_pulses(prof, m->pulse_qty, m->pulse_si);
	m->profile = c->profiles[c->nprofiles++];
}

static const char *const role_names[] = { "consumption", "production", NULL };

const char *config_role_name(int role)
{
	return role >= 0 && role <= METER_PRODUCTION ? role_names[role] : "?";
}

static void get_role(struct parse *p, const struct inifile_kv *kv, int *out)
{
	const char *sugg;
	int i;

	if (!has_value(p, kv))
		return;
	for (i = 0; role_names[i] != NULL; i++)
		if (strcmp(kv->value, role_names[i]) == 0) {
			*out = i;
			return;
		}
	sugg = util_closest(kv->value, role_names);
	perr(p, kv->line, "role: %s is not a role (consumption, production)%s%s%s", kv->value,
	     sugg ? "; did you mean '" : "", sugg ? sugg : "", sugg ? "'?" : "");
}

static void do_meter(struct parse *p, struct sect *s, struct config *c, struct meter_ctx *mc,
		     bool keep)
{
	struct config_meter m;
	const struct inifile_kv *driver_kv = NULL, *profile_kv = NULL, *utility_kv = NULL;
	const struct inifile_kv *pulse_kv = NULL, *cv_kv = NULL;
	bool driver_ok = false;
	const char *why;
	size_t i;

	memset(&m, 0, sizeof(m));
	m.name = util_strdup(s->meter_name);
	m.port = 502;
	m.unit = 1;
	m.timeout_ms = 1000;
	m.poll_ms = -1;
	m.nominal_voltage = 230;
	m.max_power = NAN;      /* no overload limit unless given */
	m.utility = -1;         /* the profile's */
	m.calorific_value = NAN;
	m.line = s->line;

	why = meter_name_problem(s->meter_name);
	if (why != NULL)
		perr(p, s->line, "bad meter name '%s': %s", s->meter_name, why);

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		if (strcmp(kv->key, "driver") == 0) {
			driver_kv = kv;
			if (!has_value(p, kv))
				continue;
			if (strcmp(kv->value, "modbus") == 0) {
				m.driver = DRIVER_MODBUS;
				driver_ok = true;
			} else if (strcmp(kv->value, "mqtt") == 0) {
				m.driver = DRIVER_MQTT;
				driver_ok = true;
			} else if (strcmp(kv->value, "sparkplug") == 0) {
				m.driver = DRIVER_SPARKPLUG;
				driver_ok = true;
			} else {
				static const char *const drivers[] = { "modbus", "mqtt", "sparkplug",
								       NULL };
				const char *sugg = util_closest(kv->value, drivers);
				if (sugg != NULL)
					perr(p, kv->line,
					     "driver: %s is not a driver (modbus, mqtt, sparkplug); did you "
					     "mean '%s'?",
					     kv->value, sugg);
				else
					perr(p, kv->line,
					     "driver: %s is not a driver (modbus, mqtt, sparkplug)",
					     kv->value);
			}
		} else if (strcmp(kv->key, "profile") == 0) {
			profile_kv = kv;
			if (has_value(p, kv))
				m.profile_name = util_strdup(kv->value);
		} else if (strcmp(kv->key, "description") == 0) {
			set_str(p, kv, &m.description);
		} else if (strcmp(kv->key, "host") == 0) {
			if (!has_value(p, kv))
				continue;
			if (!host_valid(kv->value))
				perr(p, kv->line, "host: %s is not a host name or IP address",
				     kv->value);
			else
				set_str(p, kv, &m.host);
		} else if (strcmp(kv->key, "port") == 0) {
			get_int(p, kv, 1, 65535, &m.port);
		} else if (strcmp(kv->key, "unit") == 0) {
			get_int(p, kv, 0, 255, &m.unit);
		} else if (strcmp(kv->key, "poll_ms") == 0) {
			get_int(p, kv, 50, 3600000, &m.poll_ms);
		} else if (strcmp(kv->key, "timeout_ms") == 0) {
			get_int(p, kv, 10, 60000, &m.timeout_ms);
		} else if (strcmp(kv->key, "topic") == 0) {
			size_t j;
			if (!has_value(p, kv))
				continue;
			if (!payload_filter_valid(kv->value) || util_has_control(kv->value)) {
				perr(p, kv->line,
				     "topic: %s is not a valid MQTT topic filter ('+' and '#' must "
				     "be whole levels, '#' only last)",
				     kv->value);
				continue;
			}
			for (j = 0; j < m.ntopics; j++)
				if (strcmp(m.topics[j], kv->value) == 0)
					break;
			if (j < m.ntopics) {
				perr(p, kv->line, "topic: %s is listed twice", kv->value);
				continue;
			}
			m.topics = util_reallocarray(m.topics, m.ntopics + 1, sizeof(*m.topics));
			m.topics[m.ntopics++] = util_strdup(kv->value);
		} else if (strcmp(kv->key, "nominal_voltage") == 0) {
			get_double(p, kv, 50, 1000, &m.nominal_voltage);
		} else if (strcmp(kv->key, "max_power") == 0) {
			double w;
			if (!has_value(p, kv))
				continue;
			if (util_parse_power_w(kv->value, &w) < 0)
				perr(p, kv->line, "max_power: %s is not a power (e.g. 50kW, 800W, 1.2MW)",
				     kv->value);
			else if (!(w > 0))
				perr(p, kv->line, "max_power: %s must be greater than 0", kv->value);
			else
				m.max_power = w;
		} else if (strcmp(kv->key, "aggregate") == 0) {
			get_bool(p, kv, &m.aggregate);
		} else if (strcmp(kv->key, "group") == 0) {
			get_sp_id(p, kv, &m.sp_group);
		} else if (strcmp(kv->key, "node") == 0) {
			get_sp_id(p, kv, &m.sp_node);
		} else if (strcmp(kv->key, "device") == 0) {
			get_sp_id(p, kv, &m.sp_device);
		} else if (strcmp(kv->key, "utility") == 0) {
			int u;

			if (!has_value(p, kv))
				continue;
			u = utility_parse(kv->value);
			if (u < 0) {
				const char *sugg = util_closest(kv->value, utility_names());

				perr(p, kv->line,
				     "utility: %s is not a utility (electricity, gas, water, air, "
				     "heat)%s%s%s",
				     kv->value, sugg ? "; did you mean '" : "", sugg ? sugg : "",
				     sugg ? "'?" : "");
			} else {
				m.utility = u;
				utility_kv = kv;
			}
		} else if (strcmp(kv->key, "pulse_value") == 0) {
			char pwhy[160];

			if (!has_value(p, kv))
				continue;
			if (utility_parse_pulse(kv->value, &m.pulse_qty, &m.pulse_si, pwhy,
						sizeof(pwhy)) < 0)
				perr(p, kv->line, "pulse_value: %s: %s", kv->value, pwhy);
			pulse_kv = kv; /* given, even when wrong (pulse_si 0) */
		} else if (strcmp(kv->key, "calorific_value") == 0) {
			get_calorific(p, kv, &m.calorific_value);
			cv_kv = kv;
		} else if (strcmp(kv->key, "parent") == 0) {
			if (has_value(p, kv))
				set_str(p, kv, &m.parent_name);
			m.parent_line = kv->line;
		} else if (strcmp(kv->key, "role") == 0) {
			get_role(p, kv, &m.role);
		} else if (strcmp(kv->key, "grid") == 0) {
			get_bool(p, kv, &m.grid);
			m.grid_line = kv->line;
		} else {
			unknown_key(p, s, kv, meter_keys);
		}
	}

	if (driver_kv == NULL)
		missing_key(p, s, "driver", " (modbus, mqtt or sparkplug)");
	if (profile_kv == NULL)
		missing_key(p, s, "profile", "");
	if (driver_ok) {
		for (i = 0; i < s->nkvs; i++) {
			const char *k = s->kvs[i].key;
			if (foreign_key(m.driver, k))
				perr(p, s->kvs[i].line, "%s is not used by %s meters", k,
				     config_driver_name(m.driver));
		}
		if (m.driver == DRIVER_MODBUS && sect_find(s, "host") == NULL)
			missing_key(p, s, "host", " (required for modbus meters)");
		if (m.driver == DRIVER_MQTT && sect_find(s, "topic") == NULL)
			missing_key(p, s, "topic", " (required for mqtt meters)");
		if (m.driver == DRIVER_SPARKPLUG && sect_find(s, "group") == NULL)
			missing_key(p, s, "group", " (required for sparkplug meters)");
		if (m.driver == DRIVER_SPARKPLUG && sect_find(s, "node") == NULL)
			missing_key(p, s, "node", " (required for sparkplug meters)");
		if (m.driver != DRIVER_MODBUS && !c->mqtt.enabled)
			perr(p, driver_kv->line,
			     "meter %s uses driver %s but there is no [mqtt] section", m.name,
			     config_driver_name(m.driver));
		if (m.poll_ms < 0)
			m.poll_ms = m.driver == DRIVER_MODBUS ? 1000 : 10000;
	}
	if (m.poll_ms < 0)
		m.poll_ms = 1000;

	if (m.profile_name != NULL) {
		m.profile = get_profile(p, mc, c, profile_kv);
		if (m.profile != NULL && driver_ok) {
			static const char *const prof_drivers[] = { "modbus", "mqtt", "sparkplug" };
			/* enum meter_driver and enum profile_driver list the same drivers */
			if ((int)m.profile->driver != (int)m.driver)
				perr(p, profile_kv->line,
				     "profile %s is a %s profile but meter %s uses driver %s",
				     m.profile_name, prof_drivers[m.profile->driver], m.name,
				     config_driver_name(m.driver));
		}
	}
	meter_utility(p, c, &m, s->line, utility_kv, pulse_kv, cv_kv);

	if (!keep) {
		meter_free_fields(&m);
		return;
	}
	c->meters = util_reallocarray(c->meters, c->nmeters + 1, sizeof(*c->meters));
	c->meters[c->nmeters++] = m;
}

/* A parent = naming no meter: the closest name suggested. */
static void unknown_parent(struct parse *p, const struct config *c, const struct config_meter *m)
{
	const char **names = util_calloc(c->nmeters + 1, sizeof(*names));
	const char *sugg;
	size_t i;

	for (i = 0; i < c->nmeters; i++)
		names[i] = c->meters[i].name;
	sugg = util_closest(m->parent_name, names);
	perr(p, m->parent_line, "parent: no meter is called %s%s%s%s", m->parent_name,
	     sugg ? "; did you mean '" : "", sugg ? sugg : "", sugg ? "'?" : "");
	free(names);
}

/* The cycle that meter i's parents lead back to i by, "a -> b -> a". */
static void report_cycle(struct parse *p, const struct config *c, size_t on)
{
	char buf[512];
	size_t len = 0, j = on, i = on, steps = 0;

	/* from its earliest meter in the file */
	do {
		j = (size_t)config_parent(&c->meters[j]);
		if (j < i)
			i = j;
	} while (j != on && ++steps < c->nmeters);
	j = i;
	steps = 0;
	buf[0] = '\0';
	do {
		len += (size_t)snprintf(buf + len, len < sizeof(buf) ? sizeof(buf) - len : 0,
					"%s -> ", c->meters[j].name);
		j = (size_t)config_parent(&c->meters[j]);
	} while (j != i && ++steps < c->nmeters && len < sizeof(buf));
	if (len < sizeof(buf))
		snprintf(buf + len, sizeof(buf) - len, "%s", c->meters[i].name);
	perr(p, c->meters[i].parent_line, "parent: meter %s is its own ancestor (%s)",
	     c->meters[i].name, buf);
}

/*
 * grid = true, once the tree is known: a consumption root measuring
 * electricity whose profile has an export counter (e_exp), at the grid
 * key's line.
 */
static void check_grid(struct parse *p, const struct config *c)
{
	size_t i;

	for (i = 0; i < c->nmeters; i++) {
		const struct config_meter *m = &c->meters[i];

		if (!m->grid)
			continue;
		if (m->role != METER_CONSUMPTION || config_parent(m) >= 0)
			perr(p, m->grid_line,
			     "grid: meter %s is %s: the grid connection is a consumption meter "
			     "without a parent",
			     m->name, m->role != METER_CONSUMPTION ? "a production meter" : "a feeder");
		else if (m->utility != UTILITY_ELECTRICITY)
			perr(p, m->grid_line, "grid: meter %s measures %s, not electricity", m->name,
			     utility_name((enum utility)m->utility));
		else if (m->profile != NULL && !profile_maps(m->profile, QTY_E_EXP))
			perr(p, m->grid_line,
			     "grid: profile %s of meter %s has no export counter (e_exp)",
			     m->profile->name, m->name);
	}
}

/*
 * The meter tree, once every meter is known: each parent = names a meter
 * of the same utility and role, and no meter is its own ancestor (each
 * cycle reported once, at the parent key of its first meter in the file).
 * Sets parent, nchildren and depth.
 */
static void link_tree(struct parse *p, struct config *c)
{
	/* 0: not seen; 1: on the path being walked; 2: done */
	unsigned char *mark = util_calloc(c->nmeters + 1, 1);
	size_t i, j;
	bool bad = false;

	for (i = 0; i < c->nmeters; i++) {
		struct config_meter *m = &c->meters[i];
		int k;

		if (m->parent_name == NULL)
			continue;
		k = config_meter_index(c, m->parent_name);
		if (k < 0) {
			unknown_parent(p, c, m);
			bad = true;
			continue;
		}
		m->parent_plus1 = k + 1;
		if (c->meters[k].utility != m->utility)
			perr(p, m->parent_line,
			     "parent: meter %s measures %s but its parent %s measures %s (a tree "
			     "holds one utility)",
			     m->name, utility_name((enum utility)m->utility), c->meters[k].name,
			     utility_name((enum utility)c->meters[k].utility));
		if (c->meters[k].role != m->role)
			perr(p, m->parent_line,
			     "parent: meter %s has role = %s but its parent %s has role = %s (a "
			     "feeder is of its parent's role)",
			     m->name, config_role_name(m->role), c->meters[k].name,
			     config_role_name(c->meters[k].role));
	}
	for (i = 0; i < c->nmeters; i++) {
		/* walk up from i until a meter already done or a root */
		for (j = i; mark[j] == 0; j = (size_t)config_parent(&c->meters[j])) {
			mark[j] = 1;
			if (config_parent(&c->meters[j]) < 0)
				break;
		}
		if (mark[j] == 1 && config_parent(&c->meters[j]) >= 0) {
			report_cycle(p, c, j);
			bad = true;
		}
		for (j = i; mark[j] == 1; j = (size_t)config_parent(&c->meters[j])) {
			mark[j] = 2;
			if (config_parent(&c->meters[j]) < 0)
				break;
		}
	}
	free(mark);
	if (!bad)
		config_tree_derive(c);
}

void config_tree_derive(struct config *c)
{
	size_t i;

	for (i = 0; i < c->nmeters; i++)
		c->meters[i].nchildren = 0;
	for (i = 0; i < c->nmeters; i++) {
		int d = 0, k;

		for (k = config_parent(&c->meters[i]); k >= 0 && (size_t)d < c->nmeters;
		     k = config_parent(&c->meters[k]))
			d++;
		c->meters[i].depth = d;
		if (config_parent(&c->meters[i]) >= 0)
			c->meters[config_parent(&c->meters[i])].nchildren++;
	}
}

/*
 * The duplicate checks sort references instead of comparing every pair, so
 * that a file of tens of thousands of meters loads in n log n. The index
 * breaks ties: the first of a run of equal keys is the earliest in the file.
 */
struct key_ref {
	const char *name;   /* meter name, or Modbus host */
	int port, unit;     /* 0 for names */
	size_t idx;
};

static int name_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Two modbus meters on the same host:port and unit would fight over it. */
static int device_ref_cmp(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = util_strcasecmp(x->name, y->name);

	if (c != 0)
		return c;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->unit != y->unit)
		return x->unit < y->unit ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/*
 * first[refs[k].idx] = the idx of the first ref equal to refs[k] under cmp
 * (ties on idx aside); refs are sorted on return.
 */
static void first_of_equal(struct key_ref *refs, size_t n,
			   int (*cmp)(const void *, const void *), size_t *first)
{
	size_t i, g;

	qsort(refs, n, sizeof(*refs), cmp);
	for (i = 0; i < n; i = g) {
		struct key_ref head = refs[i];

		for (g = i + 1; g < n; g++) {
			struct key_ref r = refs[g];

			r.idx = head.idx; /* equal but for the position? */
			if (cmp(&r, &head) != 0)
				break;
			first[refs[g].idx] = head.idx;
		}
	}
}

/*
 * first[i]: the first section of kind (S_METER or S_ALARM) with section i's
 * name (i itself when it is the first). The caller frees it.
 */
static size_t *first_named_sections(const struct parse *p, enum sect_kind kind)
{
	size_t n = 0, i, *first = util_calloc(p->nsects + 1, sizeof(*first));
	struct key_ref *refs = util_calloc(p->nsects + 1, sizeof(*refs));

	for (i = 0; i < p->nsects; i++) {
		first[i] = i;
		if (p->sects[i].kind == kind)
			refs[n++] = (struct key_ref){ .name = p->sects[i].meter_name, .idx = i };
	}
	first_of_equal(refs, n, name_ref_cmp, first);
	free(refs);
	return first;
}

static void check_devices(struct parse *p, struct config *c)
{
	size_t n = 0, i, *first = util_calloc(c->nmeters + 1, sizeof(*first));
	struct key_ref *refs = util_calloc(c->nmeters + 1, sizeof(*refs));

	for (i = 0; i < c->nmeters; i++) {
		const struct config_meter *m = &c->meters[i];

		first[i] = i;
		if (m->driver == DRIVER_MODBUS && m->host != NULL)
			refs[n++] = (struct key_ref){ m->host, m->port, m->unit, i };
	}
	first_of_equal(refs, n, device_ref_cmp, first);
	for (i = 0; i < c->nmeters; i++) {
		const struct config_meter *a = &c->meters[first[i]], *b = &c->meters[i];

		if (first[i] != i)
			perr(p, b->line,
			     "duplicate device: meter %s polls %s:%d unit %d like meter %s "
			     "(line %d)",
			     b->name, b->host, b->port, b->unit, a->name, a->line);
	}
	free(refs);
	free(first);
}

/* ---- alarms ------------------------------------------------------------- */

static const char *const alarm_keys[] = { "meters",   "quantity",  "type",	 "limit",
					  "priority", "deadband",  "on_delay",	 "off_delay",
					  "realarm",  "shelve_max", "message",	 "action",
					  "ack_note", "enabled",   "window",	 NULL };

/* "HH:MM" (00:00..24:00) at s: minutes after midnight, or -1. */
static int parse_hhmm(const char *s, size_t len)
{
	int h, m, used = 0;

	if (len != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]) ||
	    sscanf(s, "%2d:%2d%n", &h, &m, &used) != 2 || used != 5 || m > 59 ||
	    h * 60 + m > 1440)
		return -1;
	return h * 60 + m;
}

/* night_flow's window = HH:MM-HH:MM (site time; across midnight when the
 * end is earlier; 00:00-24:00 the whole day). */
static void get_window(struct parse *p, const struct inifile_kv *kv, struct alarm_def *d)
{
	const char *v = kv->value, *dash;
	int a = -1, b = -1;

	if (!has_value(p, kv))
		return;
	dash = strchr(v, '-');
	if (dash != NULL) {
		char *x = util_strndup(v, (size_t)(dash - v)), *y = util_strdup(dash + 1);
		char *tx = util_trim(x), *ty = util_trim(y);

		a = parse_hhmm(tx, strlen(tx));
		b = parse_hhmm(ty, strlen(ty));
		free(x);
		free(y);
	}
	if (a < 0 || b < 0 || a == 1440 || a == b || (a == 0 && b == 0))
		perr(p, kv->line,
		     "window: '%s' is not a window of the day (HH:MM-HH:MM, e.g. 01:00-05:00, "
		     "23:00-05:00 across midnight, 00:00-24:00 the whole day)",
		     v);
	else if (a == 0 && b == 1440)
		d->window_start_min = 0, d->window_end_min = 1440;
	else
		d->window_start_min = a, d->window_end_min = b == 1440 ? 0 : b;
}

/* The measures and quantities, for suggestions (static, NULL-terminated). */
static const char *const *measure_candidates(void)
{
	static const char *names[AM__COUNT + QTY__COUNT + 1];
	size_t n = 0, i;

	if (names[0] == NULL) {
		for (i = 1; i < AM__COUNT; i++)
			names[n++] = alarm_measure_name((enum alarm_measure)i);
		for (i = 0; i < QTY__COUNT; i++)
			names[n++] = qty_name((unsigned)i);
		names[n] = NULL;
	}
	return names;
}

/* A value among names (NULL-terminated), with a suggestion when close. */
static int get_enum(struct parse *p, const struct inifile_kv *kv, const char *const *names,
		    int (*parse)(const char *), const char *what, const char *list)
{
	const char *sugg;
	int v;

	if (!has_value(p, kv))
		return -1;
	v = parse(kv->value);
	if (v >= 0)
		return v;
	sugg = util_closest(kv->value, names);
	if (sugg != NULL)
		perr(p, kv->line, "%s: %s is not %s (%s); did you mean '%s'?", kv->key, kv->value,
		     what, list, sugg);
	else
		perr(p, kv->line, "%s: %s is not %s (%s)", kv->key, kv->value, what, list);
	return -1;
}

static const char *const limit_type_names[] = { "high", "high-high", "low", "low-low", NULL };
static const char *const priority_names[] = { "critical", "high", "medium", "low",
					      "diagnostic", NULL };

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* A list key (meters = a, b*, c; run = RUN, 1): its items trimmed, none
 * empty, NULL-terminated; NULL with an error naming what an item is. */
static char **parse_list(struct parse *p, const struct inifile_kv *kv, const char *item,
			 const char *how)
{
	char *copy = util_strdup(kv->value), *tok, *save = NULL;
	char **list = NULL;
	size_t n = 0;
	bool bad = copy[0] == ',' || copy[strlen(copy) - 1] == ',' ||
		   strstr(kv->value, ",,") != NULL;

	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		tok = util_trim(tok);
		if (*tok == '\0') {
			bad = true;
			continue;
		}
		list = util_reallocarray(list, n + 2, sizeof(*list));
		list[n++] = util_strdup(tok);
		list[n] = NULL;
	}
	free(copy);
	if (bad || n == 0) {
		perr(p, kv->line, "%s: an empty %s in the list '%s' (%s)", kv->key, item, kv->value,
		     how);
		free_strv(list);
		return NULL;
	}
	return list;
}

/* The pattern list of meters = a, b*, c. */
static char **parse_meter_list(struct parse *p, const struct inifile_kv *kv)
{
	return parse_list(p, kv, "name", "names or globs, separated by commas");
}

/* Every pattern must match a meter: a typo would silently watch nothing. */
static void check_patterns(struct parse *p, const struct config *c, const struct alarm_def *d,
			   const struct inifile_kv *kv)
{
	const char **names;
	size_t i, j;

	if (c->nmeters == 0)
		return;
	names = util_calloc(c->nmeters + 1, sizeof(*names));
	for (j = 0; j < c->nmeters; j++)
		names[j] = c->meters[j].name;
	for (i = 0; d->meters[i] != NULL; i++) {
		struct alarm_def one = { .meters = (char *[]){ d->meters[i], NULL } };
		const char *sugg;

		for (j = 0; j < c->nmeters; j++)
			if (alarm_def_matches(&one, c->meters[j].name))
				break;
		if (j < c->nmeters)
			continue;
		sugg = strpbrk(d->meters[i], "*?[") == NULL ? util_closest(d->meters[i], names)
							    : NULL;
		if (sugg != NULL)
			perr(p, kv->line, "meters: '%s' matches no meter; did you mean '%s'?",
			     d->meters[i], sugg);
		else
			perr(p, kv->line, "meters: '%s' matches no meter", d->meters[i]);
	}
	free(names);
}

/*
 * A night_flow definition must watch a gas, water or air meter (the others
 * get no instance) and its on-delay must fit in its window, or it could
 * never raise.
 */
static void check_night(struct parse *p, const struct config *c, const struct alarm_def *d,
			const struct inifile_kv *meters_kv, struct sect *s)
{
	const struct inifile_kv *od = sect_find(s, "on_delay");
	size_t j;
	bool any = false;

	for (j = 0; d->meters != NULL && j < c->nmeters; j++)
		if (alarm_def_matches(d, c->meters[j].name) &&
		    utility_counts_volume((enum utility)c->meters[j].utility))
			any = true;
	if (!any && d->meters != NULL && meters_kv != NULL && c->nmeters > 0)
		perr(p, meters_kv->line,
		     "meters: %s matches no gas, water or air meter: night_flow watches a utility "
		     "meter's flow",
		     meters_kv->value);
	if (d->on_delay_ms >= alarm_window_minutes(d) * INT64_C(60000))
		perr(p, od != NULL ? od->line : s->line,
		     "on_delay: %lld min is not shorter than the window (%d min): the alarm "
		     "could never raise",
		     (long long)(d->on_delay_ms / 60000), alarm_window_minutes(d));
}

/* "p_total high (> 50000 W)", "voltage low-low (< 50 % of nominal)". */
static char *default_message(const struct alarm_def *d)
{
	const char *unit = alarm_measure_unit(d->measure, d->qty);

	if (d->measure == AM_COMM)
		return util_strdup("Communication lost");
	if (d->measure == AM_STALE)
		return util_strdup("Stale data");
	if (d->measure == AM_FORECAST_EXCESS)
		return util_printf("Consumption nobody expected: outside the forecast's 95 %% band "
				   "for %g intervals",
				   d->limit);
	if (d->measure == AM_NIGHT_FLOW) {
		char w[16];

		return util_printf("Flow at night (a leak?): above %g m3/h for %lld min of %s",
				   d->limit, (long long)(d->on_delay_ms / 60000),
				   alarm_window_text(d, w, sizeof(w)));
	}
	if (d->limit_pct)
		return util_printf("%s %s (%s %g %% of nominal)", d->quantity,
				   alarm_limit_name(d->type),
				   alarm_limit_is_high(d->type) ? ">" : "<", d->limit);
	return util_printf("%s %s (%s %g%s%s)", d->quantity, alarm_limit_name(d->type),
			   alarm_limit_is_high(d->type) ? ">" : "<", d->limit, *unit ? " " : "",
			   unit);
}

static void do_alarm(struct parse *p, struct sect *s, struct config *c, bool keep)
{
	struct alarm_def d;
	const struct inifile_kv *meters_kv = NULL, *limit_kv = NULL, *qty_kv = NULL;
	const struct inifile_kv *type_kv = NULL;
	bool qty_ok = false, flag, night;
	const char *why;
	int v;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.name = util_strdup(s->meter_name);
	d.priority = PRIO_MEDIUM;
	d.shelve_max_ms = 8 * 3600 * INT64_C(1000);
	d.enabled = true;
	d.line = s->line;
	d.limit = NAN;

	why = meter_name_problem(s->meter_name);
	if (why != NULL)
		perr(p, s->line, "bad alarm name '%s': %s", s->meter_name, why);

	/* the quantity first: what the other keys mean depends on it */
	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		const char *sugg;

		if (strcmp(kv->key, "quantity") != 0)
			continue;
		qty_kv = kv;
		if (!has_value(p, kv))
			break;
		v = alarm_measure_parse(kv->value, &d.qty);
		if (v >= 0) {
			d.measure = (enum alarm_measure)v;
			d.quantity = util_strdup(kv->value);
			qty_ok = true;
			/* consumption nobody expected: a diagnostic unless said otherwise */
			if (d.measure == AM_FORECAST_EXCESS)
				d.priority = PRIO_DIAGNOSTIC;
			if (d.measure == AM_NIGHT_FLOW) {
				/* a flow that never stops at night: the defaults
				 * make "any flow for an hour of 01:00-05:00" */
				d.type = LIMIT_HIGH;
				d.limit = 0;
				d.on_delay_ms = ALARM_NIGHT_ON_DELAY_MS;
				d.window_start_min = ALARM_NIGHT_START_MIN;
				d.window_end_min = ALARM_NIGHT_END_MIN;
			}
			break;
		}
		sugg = util_closest(kv->value, measure_candidates());
		if (sugg != NULL)
			perr(p, kv->line, "quantity: %s is not a measure or quantity; did you mean "
					  "'%s'?",
			     kv->value, sugg);
		else
			perr(p, kv->line,
			     "quantity: %s is not a measure (pf, tan_phi, v_unbalance, i_unbalance, "
			     "voltage, voltage_ll, thd_v, thd_i, frequency, overload, comm, stale, "
			     "forecast_excess, night_flow) or a quantity (v_l1n, p_total, ...)",
			     kv->value);
		break;
	}
	flag = qty_ok && (d.measure == AM_COMM || d.measure == AM_STALE);

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];
		const char *k = kv->key;

		if (strcmp(k, "quantity") == 0) {
			continue;
		} else if (strcmp(k, "meters") == 0) {
			meters_kv = kv;
			if (has_value(p, kv))
				d.meters = parse_meter_list(p, kv);
		} else if (strcmp(k, "type") == 0) {
			type_kv = kv;
			if (flag) {
				perr(p, kv->line, "type is not used by %s alarms", d.quantity);
				continue;
			}
			v = get_enum(p, kv, limit_type_names, alarm_limit_parse, "a limit type",
				     "high, high-high, low, low-low");
			if (v >= 0 && qty_ok && d.measure == AM_NIGHT_FLOW && v != LIMIT_HIGH)
				perr(p, kv->line,
				     "type: %s: night_flow raises on a flow that stays above its "
				     "limit (type = high)",
				     kv->value);
			else if (v >= 0)
				d.type = (enum alarm_limit)v;
		} else if (strcmp(k, "limit") == 0) {
			char *num;
			size_t len;
			double x;

			limit_kv = kv;
			if (flag) {
				perr(p, kv->line, "limit is not used by %s alarms", d.quantity);
				continue;
			}
			if (!has_value(p, kv))
				continue;
			len = strlen(kv->value);
			d.limit_pct = kv->value[len - 1] == '%';
			num = util_strndup(kv->value, d.limit_pct ? len - 1 : len);
			if (util_parse_double(util_trim(num), &x) < 0 || !isfinite(x)) {
				perr(p, kv->line, "limit: %s is not a number (e.g. 0.85, 250, 90%%)",
				     kv->value);
			} else if (d.limit_pct && qty_ok && d.measure != AM_VOLTAGE &&
				   d.measure != AM_VOLTAGE_LL && d.measure != AM_FREQUENCY) {
				perr(p, kv->line,
				     "limit: %s: a percentage of nominal is only for voltage, "
				     "voltage_ll and frequency",
				     kv->value);
			} else if (d.limit_pct && !(x > 0 && x <= 1000)) {
				perr(p, kv->line, "limit: %s is out of range (0..1000%%)", kv->value);
			} else if (qty_ok && d.measure == AM_PF && !(x >= 0 && x <= 1)) {
				perr(p, kv->line, "limit: %s is out of range for pf (0..1)", kv->value);
			} else if (qty_ok && d.measure == AM_NIGHT_FLOW && (d.limit_pct || x < 0)) {
				perr(p, kv->line,
				     "limit: %s: night_flow's limit is a flow in m3/h, 0 or more",
				     kv->value);
			} else if (qty_ok && d.measure == AM_FORECAST_EXCESS &&
				   (d.limit_pct || x != floor(x) || x < 1 || x > 96 * 7)) {
				perr(p, kv->line,
				     "limit: %s: forecast_excess counts intervals in a row (1..672)",
				     kv->value);
			} else {
				d.limit = x;
			}
			free(num);
		} else if (strcmp(k, "priority") == 0) {
			v = get_enum(p, kv, priority_names, alarm_priority_parse, "a priority",
				     "critical, high, medium, low, diagnostic");
			if (v >= 0)
				d.priority = (enum alarm_priority)v;
		} else if (strcmp(k, "deadband") == 0) {
			double x;

			if (!has_value(p, kv))
				continue;
			if (util_parse_double(kv->value, &x) < 0 || !isfinite(x))
				perr(p, kv->line, "deadband: %s is not a number", kv->value);
			else if (x < 0)
				perr(p, kv->line, "deadband: %s must not be negative", kv->value);
			else
				d.deadband = x;
		} else if (strcmp(k, "on_delay") == 0) {
			get_duration(p, kv, 0, 86400000, "0..1d", &d.on_delay_ms);
		} else if (strcmp(k, "off_delay") == 0) {
			get_duration(p, kv, 0, 86400000, "0..1d", &d.off_delay_ms);
		} else if (strcmp(k, "realarm") == 0) {
			get_duration(p, kv, 0, 7 * 86400000LL, "0 (never)..7d", &d.realarm_ms);
		} else if (strcmp(k, "shelve_max") == 0) {
			get_duration(p, kv, 60000, 7 * 86400000LL, "1m..7d", &d.shelve_max_ms);
		} else if (strcmp(k, "message") == 0 || strcmp(k, "action") == 0) {
			char **dst = k[0] == 'm' ? &d.message : &d.action;

			if (!has_value(p, kv))
				continue;
			if (util_has_control(kv->value))
				perr(p, kv->line, "%s: control characters are not allowed", k);
			else
				set_str(p, kv, dst);
		} else if (strcmp(k, "ack_note") == 0) {
			get_bool(p, kv, &d.ack_note);
		} else if (strcmp(k, "enabled") == 0) {
			get_bool(p, kv, &d.enabled);
		} else if (strcmp(k, "window") == 0) {
			if (qty_ok && d.measure != AM_NIGHT_FLOW)
				perr(p, kv->line, "window is only for night_flow alarms");
			else
				get_window(p, kv, &d);
		} else {
			unknown_key(p, s, kv, alarm_keys);
		}
	}

	if (meters_kv == NULL)
		missing_key(p, s, "meters", " (meter names or globs, e.g. meters = *)");
	if (qty_kv == NULL)
		missing_key(p, s, "quantity", " (e.g. quantity = pf)");
	night = qty_ok && d.measure == AM_NIGHT_FLOW;
	if (qty_ok && !flag && !night && type_kv == NULL)
		missing_key(p, s, "type", " (high, high-high, low or low-low)");
	if (qty_ok && !flag && !night && limit_kv == NULL)
		missing_key(p, s, "limit", "");
	if (d.meters != NULL && meters_kv != NULL)
		check_patterns(p, c, &d, meters_kv);
	if (night)
		check_night(p, c, &d, meters_kv, s);
	if (qty_ok && flag)
		d.limit = 0;

	if (!keep || !qty_ok || d.meters == NULL || isnan(d.limit)) {
		alarm_def_clear(&d);
		return;
	}
	if (d.message == NULL)
		d.message = default_message(&d);
	c->alarms = util_reallocarray(c->alarms, c->nalarms + 1, sizeof(*c->alarms));
	c->alarms[c->nalarms++] = d;
}

/* ---- [machine NAME] ---------------------------------------------------- */

static const char *const machine_keys[] = {
	"meters",	  "description",     "driver",	      "topic",	     "state_field",
	"run",		  "wait",	     "stop",	      "pieces_field", "pieces",
	"stopped_power",  "stopped_after",   "period",	      "host",	     "port",
	"unit",		  "poll_ms",	     "timeout_ms",    "state_register",
	"pieces_register", "register_function", NULL
};

/* The keys only one machine driver uses. */
static bool machine_mqtt_only(const char *k)
{
	return strcmp(k, "topic") == 0 || strcmp(k, "state_field") == 0 ||
	       strcmp(k, "pieces_field") == 0 || strcmp(k, "period") == 0;
}

static bool machine_modbus_only(const char *k)
{
	return modbus_only(k) || strcmp(k, "poll_ms") == 0 || strcmp(k, "state_register") == 0 ||
	       strcmp(k, "pieces_register") == 0 || strcmp(k, "register_function") == 0;
}

/* A modbus machine's registers, as it is read. */
struct machine_mb {
	struct config_meter poll;  /* host, port, unit, poll_ms, timeout_ms */
	int state_reg, pieces_reg; /* -1: none */
	int function;              /* 3 or 4 */
};

/* A modbus machine's key: true when it was one. */
static bool machine_modbus_key(struct parse *p, const struct inifile_kv *kv,
			       struct machine_mb *mb)
{
	if (strcmp(kv->key, "host") == 0) {
		if (!has_value(p, kv))
			return true;
		if (!host_valid(kv->value))
			perr(p, kv->line, "host: %s is not a host name or IP address", kv->value);
		else
			set_str(p, kv, &mb->poll.host);
	} else if (strcmp(kv->key, "port") == 0) {
		get_int(p, kv, 1, 65535, &mb->poll.port);
	} else if (strcmp(kv->key, "unit") == 0) {
		get_int(p, kv, 0, 255, &mb->poll.unit);
	} else if (strcmp(kv->key, "poll_ms") == 0) {
		get_int(p, kv, 50, 3600000, &mb->poll.poll_ms);
	} else if (strcmp(kv->key, "timeout_ms") == 0) {
		get_int(p, kv, 10, 60000, &mb->poll.timeout_ms);
	} else if (strcmp(kv->key, "state_register") == 0) {
		get_int(p, kv, 0, 65535, &mb->state_reg);
	} else if (strcmp(kv->key, "pieces_register") == 0) {
		get_int(p, kv, 0, 65534, &mb->pieces_reg);
	} else if (strcmp(kv->key, "register_function") == 0) {
		get_int(p, kv, 3, 4, &mb->function);
	} else {
		return false;
	}
	return true;
}

/* The meter a modbus machine is polled as: its profile reads the state
 * and pieces registers raw. */
static struct config_meter *machine_poll_meter(const struct config_machine *m,
					       struct machine_mb *mb)
{
	struct config_meter *cm = util_calloc(1, sizeof(*cm));
	struct profile *pr = util_calloc(1, sizeof(*pr));
	size_t n = 0;

	*cm = mb->poll;
	mb->poll.host = NULL; /* moved */
	cm->name = util_strdup(m->name);
	cm->driver = DRIVER_MODBUS;
	cm->nominal_voltage = 230;
	cm->max_power = NAN;
	cm->calorific_value = NAN;
	cm->line = m->line;
	pr->name = util_printf("machine %s", m->name);
	pr->driver = PROFILE_MODBUS;
	pr->max_registers = 125;
	pr->regs = util_calloc(2, sizeof(*pr->regs));
	if (mb->state_reg >= 0)
		pr->regs[n++] = (struct profile_reg){ .qty = QTY_MACHINE_STATE,
						      .function = (uint8_t)mb->function,
						      .address = (uint16_t)mb->state_reg,
						      .type = REG_UINT16, .order = WO_ABCD,
						      .scale = 1, .line = m->line };
	if (mb->pieces_reg >= 0)
		pr->regs[n++] = (struct profile_reg){ .qty = QTY_PIECES,
						      .function = (uint8_t)mb->function,
						      .address = (uint16_t)mb->pieces_reg,
						      .type = REG_UINT32, .order = WO_ABCD,
						      .scale = 1, .line = m->line };
	pr->nregs = n;
	cm->profile = pr;
	return cm;
}

static const char *const machine_state_names[MACHINE__COUNT] = { "run", "wait", "stop",
								 "unknown" };

const char *config_machine_state_name(enum machine_state s)
{
	return (unsigned)s < MACHINE__COUNT ? machine_state_names[s] : "unknown";
}

static void machine_free_fields(struct config_machine *m)
{
	size_t k;

	free(m->name);
	free(m->description);
	free(m->topic);
	free(m->state_field);
	free(m->pieces_field);
	for (k = 0; k < 3; k++)
		free_strv(m->state_values[k]);
	if (m->poll != NULL) {
		profile_free((struct profile *)m->poll->profile);
		meter_free_fields(m->poll);
		free(m->poll);
	}
}

/* A machine's meters: each the name of a [meter NAME] (no globs: the
 * machine's energy must not change when a meter is added). */
static void machine_meters(struct parse *p, const struct config *c, struct config_machine *m,
			   const struct inifile_kv *kv)
{
	const char **names = util_calloc(c->nmeters + 1, sizeof(*names));
	char *copy = util_strdup(kv->value), *tok, *save = NULL;
	size_t j;

	for (j = 0; j < c->nmeters; j++)
		names[j] = c->meters[j].name;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		int idx;
		const char *sugg;

		tok = util_trim(tok);
		if (*tok == '\0')
			continue;
		idx = config_meter_index(c, tok);
		if (idx < 0) {
			sugg = util_closest(tok, names);
			if (sugg != NULL)
				perr(p, kv->line, "meters: no meter '%s'; did you mean '%s'?", tok,
				     sugg);
			else
				perr(p, kv->line, "meters: no meter '%s'", tok);
			continue;
		}
		for (j = 0; j < m->nmeters; j++)
			if (m->meters[j] == (size_t)idx)
				break;
		if (j < m->nmeters) {
			perr(p, kv->line, "meters: '%s' is listed twice", tok);
			continue;
		}
		if (m->nmeters == CONFIG_MACHINE_METERS_MAX) {
			perr(p, kv->line, "meters: more than %d meters", CONFIG_MACHINE_METERS_MAX);
			break;
		}
		m->meters[m->nmeters++] = (size_t)idx;
	}
	if (m->nmeters == 0 && strspn(kv->value, ", \t") == strlen(kv->value))
		perr(p, kv->line, "meters: no meter given (names separated by commas)");
	free(copy);
	free(names);
}

/* A value may mean one state only: "1" both run and stop is a typo. */
static void check_values_distinct(struct parse *p, const struct sect *s,
				  const struct config_machine *m)
{
	size_t a, b, i, j;

	for (a = 0; a < 3; a++)
		for (b = a + 1; b < 3; b++)
			for (i = 0; m->state_values[a][i] != NULL; i++)
				for (j = 0; m->state_values[b][j] != NULL; j++)
					if (strcmp(m->state_values[a][i], m->state_values[b][j]) == 0)
						perr(p, s->line,
						     "%s: the value '%s' means both %s and %s",
						     s->title, m->state_values[a][i],
						     machine_state_names[a], machine_state_names[b]);
}

static void do_machine(struct parse *p, struct sect *s, struct config *c, bool keep)
{
	struct config_machine m;
	const struct inifile_kv *meters_kv = NULL, *topic_kv = NULL;
	struct machine_mb mb = { .poll = { .port = 502, .unit = 1, .poll_ms = 1000,
					   .timeout_ms = 1000 },
				 .state_reg = -1, .pieces_reg = -1, .function = 3 };
	bool modbus = false;
	const char *why;
	size_t i, k;

	/* the driver first: it decides which keys belong */
	for (i = 0; i < s->nkvs; i++)
		if (strcmp(s->kvs[i].key, "driver") == 0 && strcmp(s->kvs[i].value, "modbus") == 0)
			modbus = true;
	memset(&m, 0, sizeof(m));
	m.name = util_strdup(s->meter_name);
	m.stopped_power = NAN;
	m.stopped_after_ms = 10 * 60 * 1000;
	m.period_ms = 60 * 1000;
	m.line = s->line;

	why = meter_name_problem(s->meter_name);
	if (why != NULL)
		perr(p, s->line, "bad machine name '%s': %s", s->meter_name, why);
	if (config_meter_index(c, s->meter_name) >= 0)
		perr(p, s->line, "machine '%s' has the name of a meter (names are shared by "
				 "meters and machines)",
		     s->meter_name);

	for (i = 0; i < s->nkvs; i++) {
		struct inifile_kv *kv = &s->kvs[i];

		if ((modbus && machine_mqtt_only(kv->key)) ||
		    (!modbus && machine_modbus_only(kv->key))) {
			perr(p, kv->line, "%s: not a key of a machine with driver = %s", kv->key,
			     modbus ? "modbus" : "mqtt");
			continue;
		}
		if (modbus && machine_modbus_key(p, kv, &mb))
			continue;
		if (strcmp(kv->key, "meters") == 0) {
			meters_kv = kv;
			if (has_value(p, kv))
				machine_meters(p, c, &m, kv);
		} else if (strcmp(kv->key, "description") == 0) {
			set_str(p, kv, &m.description);
		} else if (strcmp(kv->key, "driver") == 0) {
			if (!has_value(p, kv))
				continue;
			if (strcmp(kv->value, "sparkplug") == 0)
				perr(p, kv->line,
				     "driver: %s is not supported for machines yet (mqtt, modbus)",
				     kv->value);
			else if (strcmp(kv->value, "mqtt") != 0 && strcmp(kv->value, "modbus") != 0)
				perr(p, kv->line, "driver: %s is not a machine driver (mqtt, modbus)",
				     kv->value);
		} else if (strcmp(kv->key, "topic") == 0) {
			if (topic_kv != NULL) {
				perr(p, kv->line, "duplicate key 'topic' (first at line %d)",
				     topic_kv->line);
				continue;
			}
			topic_kv = kv;
			if (!has_value(p, kv))
				continue;
			if (strpbrk(kv->value, "+#") != NULL || kv->value[0] == '$' ||
			    !payload_filter_valid(kv->value) || util_has_control(kv->value))
				perr(p, kv->line,
				     "topic: '%s' is not an MQTT topic (one machine's topic, no "
				     "wildcard, not $share/ or $SYS)",
				     kv->value);
			else
				set_str(p, kv, &m.topic);
		} else if (strcmp(kv->key, "state_field") == 0) {
			set_str(p, kv, &m.state_field);
		} else if (strcmp(kv->key, "pieces_field") == 0) {
			set_str(p, kv, &m.pieces_field);
		} else if (strcmp(kv->key, "run") == 0 || strcmp(kv->key, "wait") == 0 ||
			   strcmp(kv->key, "stop") == 0) {
			k = kv->key[0] == 'r' ? MACHINE_RUN : kv->key[0] == 'w' ? MACHINE_WAIT
									   : MACHINE_STOP;
			if (has_value(p, kv))
				m.state_values[k] =
				    parse_list(p, kv, "value", "values separated by commas");
		} else if (strcmp(kv->key, "pieces") == 0) {
			if (!has_value(p, kv))
				continue;
			if (strcmp(kv->value, "increment") == 0)
				m.pieces_increment = true;
			else if (strcmp(kv->value, "counter") != 0)
				perr(p, kv->line, "pieces: %s is not counter or increment",
				     kv->value);
		} else if (strcmp(kv->key, "stopped_power") == 0) {
			double w;

			if (!has_value(p, kv))
				continue;
			if (util_parse_power_w(kv->value, &w) < 0)
				perr(p, kv->line,
				     "stopped_power: %s is not a power (e.g. 2kW, 800W)", kv->value);
			else if (!(w > 0))
				perr(p, kv->line, "stopped_power: %s must be greater than 0",
				     kv->value);
			else
				m.stopped_power = w;
		} else if (strcmp(kv->key, "stopped_after") == 0) {
			get_duration(p, kv, 1000, INT64_C(24) * 3600 * 1000, "1s to 24h",
				     &m.stopped_after_ms);
		} else if (strcmp(kv->key, "period") == 0) {
			get_duration(p, kv, 100, INT64_C(24) * 3600 * 1000, "100ms to 24h",
				     &m.period_ms);
		} else {
			unknown_key(p, s, kv, machine_keys);
		}
	}
	if (meters_kv == NULL)
		missing_key(p, s, "meters", " (the meters that feed the machine)");
	if (modbus) {
		if (mb.poll.host == NULL)
			missing_key(p, s, "host", " (the machine's Modbus TCP device)");
		if (sect_find(s, "state_register") == NULL && sect_find(s, "pieces_register") == NULL)
			missing_key(p, s, "state_register",
				    " (or pieces_register: what to read of the machine)");
		m.period_ms = mb.poll.poll_ms;
		m.poll = machine_poll_meter(&m, &mb);
	} else if (topic_kv == NULL) {
		missing_key(p, s, "topic", " (where the machine publishes its state)");
	} else if (!c->mqtt.enabled) {
		perr(p, topic_kv->line, "topic: machines need an [mqtt] section");
	}
	free(mb.poll.host);
	if (m.state_field == NULL)
		m.state_field = util_strdup("state");
	/* defaults: the words, or for registers the codes 1 run, 2 wait, 0 stop */
	for (k = 0; k < 3; k++)
		if (m.state_values[k] == NULL) {
			static const char *const codes[3] = { "1", "2", "0" };

			m.state_values[k] = util_calloc(2, sizeof(char *));
			m.state_values[k][0] =
			    util_strdup(modbus ? codes[k] : machine_state_names[k]);
		}
	check_values_distinct(p, s, &m);
	if (!keep) {
		machine_free_fields(&m);
		return;
	}
	c->machines = util_reallocarray(c->machines, c->nmachines + 1, sizeof(*c->machines));
	c->machines[c->nmachines++] = m;
}

int config_machine_index(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nmachines; i++)
		if (strcmp(c->machines[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- defaults ----------------------------------------------------------- */

static char *default_store_path(void)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	char *home, *r;

	if (xdg != NULL && xdg[0] == '/')
		return util_printf("%s/phasor/buffer.db", xdg);
	home = home_dir();
	if (home == NULL)
		return util_strdup("buffer.db");
	r = util_printf("%s/.local/state/phasor/buffer.db", home);
	free(home);
	return r;
}

static char *default_client_id(void)
{
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) < 0)
		util_strlcpy(host, "host", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (!isalnum((unsigned char)host[i]) && host[i] != '-' && host[i] != '.' &&
		    host[i] != '_')
			host[i] = '_';
	return util_printf("phasor-%s-%ld", host, (long)getpid());
}

static void set_defaults(struct config *c)
{
	int u;

	c->site.target_pf = 0.95;
	c->site.nominal_freq = 50;
	c->site.price_per_kwh = NAN;
	for (u = 0; u < UTILITY__COUNT; u++)
		c->site.price[u] = NAN;
	c->site.co2_per_kwh = NAN;
	c->site.contract_power = NAN;
	c->site.calorific_value = NAN;
	c->forecast.interval_ms = 15 * 60000;
	c->forecast.history_ms = 56LL * 86400000;
	c->console.refresh_ms = 1000;
	c->console.bell = true;
	c->auth.idle_ms = 15 * 60000;
	c->store.retention_ms = 30LL * 86400 * 1000;
	c->store.queue_max = 1000000;
	c->store.batch_rows = 5000;
	c->store.commit_ms = 1000;
	c->log.level = LOG_INFO;
	c->mqtt.qos = 1;
	c->mqtt.keepalive_s = 30;
	c->mqtt.clean_session = true;
	c->mqtt.protocol = 5;
	c->mqtt.alarm_topic = util_strdup("phasor/alarms");
	c->sync.interval_ms = 10000;
}

static void fill_defaults(struct config *c)
{
	if (c->site.name == NULL)
		c->site.name = util_strdup("phasor");
	if (c->store.path == NULL)
		c->store.path = default_store_path();
	if (c->mqtt.enabled && c->mqtt.client_id == NULL)
		c->mqtt.client_id = default_client_id();
}

/* ---- loading ------------------------------------------------------------ */

static void parse_free(struct parse *p)
{
	size_t i;

	for (i = 0; i < p->nsects; i++) {
		free(p->sects[i].kvs);
		free(p->sects[i].title);
		free(p->sects[i].meter_name);
	}
	free(p->sects);
	inifile_free(p->doc); /* wipes the values */
	for (i = 0; i < p->nerrs; i++)
		free(p->errs[i].msg);
	free(p->errs);
	free(p->base);
}

/* inifile's lexical errors join ours, to be sorted by line with them. */
static void lexical_error(void *user, int line, const char *msg)
{
	perr(user, line, "%s", msg);
}

static void parse_init(struct parse *p, struct inifile_opts *opts, const char *name,
		       const char *base)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->base = base != NULL ? util_strdup(base) : NULL;
	memset(opts, 0, sizeof(*opts));
	opts->max_line = CONFIG_MAX_LINE;
	opts->section_hint = "add [site], [meter NAME], ...";
	opts->on_error = lexical_error;
	opts->user = p;
}

/*
 * Validate p->doc into a new config that takes text (NULL with the
 * document: the file could not be read). Every error of p goes to d,
 * sorted by line; NULL when there was any.
 */
/* Every section of a named kind, the duplicates' keys checked but not kept. */
static void do_named(struct parse *p, struct config *c, enum sect_kind kind,
		     void (*fn)(struct parse *, struct sect *, struct config *, bool))
{
	size_t *first = first_named_sections(p, kind), i, j;

	for (i = 0; i < p->nsects; i++) {
		struct sect *s = &p->sects[i];
		if (s->kind != kind)
			continue;
		j = first[i];
		if (j < i)
			perr(p, s->line, "duplicate %s '%s' (first at line %d)", sect_names[kind],
			     s->meter_name, p->sects[j].line);
		fn(p, s, c, j == i);
	}
	free(first);
}

static struct config *load(struct parse *p, char *text, struct diag *d)
{
	struct config *c;
	struct meter_ctx mc = { NULL, 0 };
	long first[S__COUNT];
	size_t i, j, *first_meter;

	if (p->doc == NULL) {
		c = NULL;
		goto out;
	}
	c = util_calloc(1, sizeof(*c));
	c->path = util_strdup(p->name);
	c->text = text;
	text = NULL;
	set_defaults(c);

	for (i = 0; i < p->doc->nsections; i++)
		add_sect(p, &p->doc->sections[i]);
	for (i = 0; i < S__COUNT; i++)
		first[i] = -1;
	first_meter = first_named_sections(p, S_METER);
	/* [mqtt] first: meters need to know whether it exists. */
	for (i = 0; i < p->nsects; i++)
		if (p->sects[i].kind == S_MQTT)
			c->mqtt.enabled = true;
	for (i = 0; i < p->nsects; i++) {
		struct sect *s = &p->sects[i];
		if (s->kind == S_IGNORED || s->kind == S_ALARM || s->kind == S_MACHINE)
			continue;
		if (s->kind == S_METER) {
			j = first_meter[i];
			if (j < i)
				perr(p, s->line, "duplicate meter '%s' (first at line %d)",
				     s->meter_name, p->sects[j].line);
			/* A duplicate's keys are still checked, but it is not kept. */
			do_meter(p, s, c, &mc, j == i);
			continue;
		}
		if (first[s->kind] >= 0) {
			perr(p, s->line, "duplicate section %s (first at line %d)", s->title,
			     p->sects[first[s->kind]].line);
			continue;
		}
		first[s->kind] = (long)i;
		switch (s->kind) {
		case S_SITE:
			do_site(p, s, c);
			break;
		case S_STORE:
			do_store(p, s, c);
			break;
		case S_LOG:
			do_log(p, s, c);
			break;
		case S_MQTT:
			do_mqtt(p, s, c);
			break;
		case S_SYNC:
			do_sync(p, s, c);
			break;
		case S_CONSOLE:
			do_console(p, s, c);
			break;
		case S_OPERATORS:
			do_operators(p, s, c);
			break;
		case S_FORECAST:
			do_forecast(p, s, c);
			break;
		case S_AUTH:
			do_auth(p, s, c);
			break;
		default:
			break;
		}
	}
	free(first_meter);
	link_tree(p, c);
	check_grid(p, c);
	/* Alarms and machines once every meter is known: their meters must
	 * match one. */
	do_named(p, c, S_ALARM, do_alarm);
	do_named(p, c, S_MACHINE, do_machine);
	if (c->nmeters == 0)
		perr(p, 0, "no [meter NAME] section");
	check_devices(p, c);
	fill_defaults(c);

	for (i = 0; i < mc.nuses; i++)
		free(mc.uses[i].name);
	free(mc.uses);

	if (p->nerrs > 0) {
		config_free(c);
		c = NULL;
	}
out:
	if (p->nerrs > 0)
		qsort(p->errs, p->nerrs, sizeof(*p->errs), err_cmp);
	for (i = 0; i < p->nerrs; i++)
		diag_add(d, p->name, p->errs[i].line, "%s", p->errs[i].msg);
	parse_free(p);
	free(text);
	return c;
}

/* The absolute directory of path (for relative paths in the file). */
static char *dir_of(const char *path)
{
	char *dir = util_strdup(path), *slash = strrchr(dir, '/'), *r;
	char cwd[PATH_MAX];

	if (slash == dir) {
		dir[1] = '\0';
		return dir;
	}
	if (slash != NULL)
		*slash = '\0';
	if (slash != NULL && dir[0] == '/')
		return dir;
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		if (slash == NULL) {
			free(dir);
			return NULL;
		}
		return dir;
	}
	r = slash != NULL ? util_printf("%s/%s", cwd, dir) : util_strdup(cwd);
	free(dir);
	return r;
}

struct config *config_load(const char *path, struct diag *d)
{
	struct parse p;
	struct inifile_opts opts;
	char *text, *base;
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		diag_add(d, path, 0, "is a directory, not a configuration file");
		return NULL;
	}
	base = dir_of(path);
	parse_init(&p, &opts, path, base);
	free(base);
	p.doc = inifile_load(path, CONFIG_MAX_BYTES, &opts, NULL, &text);
	return load(&p, text, d);
}

struct config *config_load_string(const char *text, const char *name, struct diag *d)
{
	struct parse p;
	struct inifile_opts opts;
	char *base = strchr(name, '/') != NULL ? dir_of(name) : NULL;

	parse_init(&p, &opts, name, base);
	free(base);
	p.doc = inifile_parse(text, strlen(text), name, &opts, NULL);
	return load(&p, util_strdup(text), d);
}

void config_free(struct config *c)
{
	size_t i;

	if (c == NULL)
		return;
	operators_free(c->auth.ops);
	free(c->auth.operators);
	free(c->path);
	free(c->text);
	free(c->site.name);
	free(c->site.timezone);
	free(c->forecast.holidays);
	free(c->site.currency);
	free(c->console.theme);
	free(c->store.path);
	free(c->log.path);
	free(c->mqtt.uri);
	free(c->mqtt.client_id);
	free(c->mqtt.username);
	if (c->mqtt.password != NULL) {
		explicit_bzero(c->mqtt.password, strlen(c->mqtt.password));
		free(c->mqtt.password);
	}
	free(c->mqtt.ca_file);
	free(c->mqtt.cert_file);
	free(c->mqtt.key_file);
	free(c->mqtt.share_group);
	free(c->mqtt.sp_host_id);
	free(c->mqtt.alarm_topic);
	free(c->sync.postgres);
	free(c->sync.ca_file);
	if (c->sync.password != NULL) {
		explicit_bzero(c->sync.password, strlen(c->sync.password));
		free(c->sync.password);
	}
	for (i = 0; i < c->nmeters; i++)
		meter_free_fields(&c->meters[i]);
	free(c->meters);
	for (i = 0; i < c->nmachines; i++)
		machine_free_fields(&c->machines[i]);
	free(c->machines);
	alarm_defs_free(c->alarms, c->nalarms);
	for (i = 0; c->operators != NULL && c->operators[i] != NULL; i++)
		free(c->operators[i]);
	free(c->operators);
	for (i = 0; i < c->nprofiles; i++)
		profile_free(c->profiles[i]);
	free(c->profiles);
	free(c);
}

/* ---- default path ------------------------------------------------------- */

static char cand_buf[3][PATH_MAX];
static size_t ncand;

static void candidates(void)
{
	const char *env = getenv("PHASOR_CONFIG");
	const char *xdg = getenv("XDG_CONFIG_HOME");

	ncand = 0;
	if (env != NULL && env[0] != '\0')
		util_strlcpy(cand_buf[ncand++], env, PATH_MAX);
	if (xdg != NULL && xdg[0] == '/') {
		snprintf(cand_buf[ncand++], PATH_MAX, "%s/phasor/phasor.ini", xdg);
	} else {
		char *home = home_dir();
		if (home != NULL)
			snprintf(cand_buf[ncand++], PATH_MAX, "%s/.config/phasor/phasor.ini", home);
		free(home);
	}
	util_strlcpy(cand_buf[ncand++], "/etc/phasor/phasor.ini", PATH_MAX);
}

const char *config_default_path(void)
{
	size_t i;

	candidates();
	for (i = 0; i < ncand; i++)
		if (access(cand_buf[i], F_OK) == 0)
			return cand_buf[i];
	return NULL;
}

const char *config_default_candidates(void)
{
	static char buf[3 * PATH_MAX + 8];
	size_t i;

	candidates();
	buf[0] = '\0';
	for (i = 0; i < ncand; i++) {
		if (i > 0)
			strncat(buf, ", ", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, cand_buf[i], sizeof(buf) - strlen(buf) - 1);
	}
	return buf;
}

/* ---- queries ------------------------------------------------------------ */

const char *config_operator(const struct config *c, const char *login)
{
	size_t i;

	if (login == NULL)
		return "";
	for (i = 0; c != NULL && c->operators != NULL && c->operators[i] != NULL; i += 2)
		if (strcmp(c->operators[i], login) == 0)
			return c->operators[i + 1];
	return login;
}

int config_meter_index(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nmeters; i++)
		if (strcmp(c->meters[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Is some consumption root an aggregate (then only those count)? */
static bool root_aggregate(const struct config *c)
{
	size_t i;

	for (i = 0; i < c->nmeters; i++)
		if (c->meters[i].aggregate && config_parent(&c->meters[i]) < 0 &&
		    c->meters[i].role == METER_CONSUMPTION)
			return true;
	return false;
}

bool config_in_site(const struct config *c, size_t i)
{
	const struct config_meter *m = &c->meters[i];

	if (config_parent(m) >= 0 || m->role != METER_CONSUMPTION)
		return false;
	return m->aggregate || m->utility == UTILITY_GAS || !root_aggregate(c);
}

bool config_in_production(const struct config *c, size_t i)
{
	return c->meters[i].role == METER_PRODUCTION && config_parent(&c->meters[i]) < 0;
}

bool config_has_tree(const struct config *c)
{
	size_t i;

	for (i = 0; c != NULL && i < c->nmeters; i++)
		if (config_parent(&c->meters[i]) >= 0)
			return true;
	return false;
}

bool config_has_grid(const struct config *c)
{
	size_t i;

	for (i = 0; c != NULL && i < c->nmeters; i++)
		if (c->meters[i].grid && config_in_site(c, i))
			return true;
	return false;
}

double config_price(const struct config *c, int utility)
{
	if (c == NULL || utility < 0 || utility >= UTILITY__COUNT)
		return NAN;
	if (utility == UTILITY_ELECTRICITY)
		return c->site.price_per_kwh;
	if (utility == UTILITY_GAS && isnan(c->site.price[UTILITY_GAS]))
		return c->site.price_per_kwh;
	return c->site.price[utility];
}

bool config_has_production(const struct config *c)
{
	size_t i;

	for (i = 0; c != NULL && i < c->nmeters; i++)
		if (c->meters[i].role == METER_PRODUCTION)
			return true;
	return false;
}

const char *config_driver_name(enum meter_driver d)
{
	return d == DRIVER_MQTT ? "mqtt" : d == DRIVER_SPARKPLUG ? "sparkplug" : "modbus";
}

/* ---- secrets ------------------------------------------------------------ */

char *config_read_secret(const char *path, char **cause)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd;

	*cause = NULL;
	/* O_NONBLOCK: a FIFO must not hang us before the regular-file check. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*cause = util_printf("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		*cause = util_printf("cannot stat %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*cause = util_printf("%s is not a regular file", path);
		goto out;
	}
	if ((*cause = private_mode_problem(path, st.st_mode)) != NULL)
		goto out;
	if (st.st_size > SECRET_MAX_BYTES) {
		*cause = util_printf("%s is larger than %d bytes", path, SECRET_MAX_BYTES);
		goto out;
	}
	buf = util_malloc((size_t)st.st_size + 1);
	for (;;) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*cause = util_printf("cannot read %s: %s", path, strerror(errno));
			explicit_bzero(buf, len);
			free(buf);
			buf = NULL;
			goto out;
		}
		if (n == 0 || (len += (size_t)n) == (size_t)st.st_size)
			break;
	}
	buf[len] = '\0';
	/* The secret goes on as a C string: a NUL would silently cut it. */
	{
		const char *nul = memchr(buf, '\0', len);

		if (nul != NULL) {
			*cause = util_printf("%s holds a NUL byte (byte %zu), which would cut "
					     "the secret short",
					     path, (size_t)(nul - buf) + 1);
			explicit_bzero(buf, len);
			free(buf);
			buf = NULL;
			goto out;
		}
	}
	if (len > 0 && buf[len - 1] == '\n') {
		buf[--len] = '\0';
		if (len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
	}
out:
	close(fd);
	return buf;
}

/* ---- summary ------------------------------------------------------------ */

static const char *san(char *buf, size_t size, const char *s)
{
	return util_sanitize(buf, size, s != NULL ? s : "");
}

/* "30d", "1s", "250ms": the largest unit that divides ms. */
static char *fmt_duration(char *buf, size_t size, int64_t ms)
{
	static const struct {
		int64_t ms;
		const char *unit;
	} units[] = { { 604800000, "w" }, { 86400000, "d" }, { 3600000, "h" },
		      { 60000, "m" },	  { 1000, "s" },     { 1, "ms" } };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(units); i++) {
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, size, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
			return buf;
		}
	}
	snprintf(buf, size, "%lldms", (long long)ms);
	return buf;
}

static void print_duration(FILE *f, int64_t ms)
{
	char buf[32];

	fputs(fmt_duration(buf, sizeof(buf), ms), f);
}

/* The conninfo with any password replaced by "***". */
static void print_conninfo(FILE *f, const char *ci)
{
	char buf[1024];
	const char *pw = strstr(ci, "password=");
	const char *at, *colon, *auth = strstr(ci, "//");

	auth = auth != NULL ? auth + 2 : ci;
	if (pw != NULL && (pw == ci || isspace((unsigned char)pw[-1]))) {
		const char *end = pw + 9;
		if (*end == '\'') {
			end++;
			while (*end != '\0' && *end != '\'')
				end += (*end == '\\' && end[1] != '\0') ? 2 : 1;
			if (*end == '\'')
				end++;
		} else {
			while (*end != '\0' && !isspace((unsigned char)*end))
				end++;
		}
		snprintf(buf, sizeof(buf), "%.*spassword=***%s", (int)(pw - ci), ci, end);
	} else if ((strncmp(ci, "postgres://", 11) == 0 || strncmp(ci, "postgresql://", 13) == 0) &&
		   (at = strchr(ci, '@')) != NULL &&
		   (colon = memchr(auth, ':', (size_t)(at - auth))) != NULL) {
		/* postgresql://user:secret@host/db */
		snprintf(buf, sizeof(buf), "%.*s:***%s", (int)(colon - ci), ci, at);
	} else {
		util_strlcpy(buf, ci, sizeof(buf));
	}
	{
		char clean[1024];
		fputs(san(clean, sizeof(clean), buf), f);
	}
}

/* "alarms: built-in set (N definitions)", or one line per definition. */
static void print_alarms(FILE *f, const struct config *c)
{
	char a[512], b[512];
	size_t i, j;

	if (c->nalarms == 0) {
		struct alarm_def *defs;
		size_t n = alarm_defaults(&defs);

		fprintf(f, "alarms: built-in set (%zu definitions)\n", n);
		alarm_defs_free(defs, n);
		return;
	}
	fprintf(f, "alarms (%zu):\n", c->nalarms);
	for (i = 0; i < c->nalarms; i++) {
		const struct alarm_def *d = &c->alarms[i];

		fprintf(f, "  %s: %s", san(a, sizeof(a), d->name), san(b, sizeof(b), d->quantity));
		if (d->measure != AM_COMM && d->measure != AM_STALE)
		{
			const char *unit = d->limit_pct ? "%" : alarm_measure_unit(d->measure, d->qty);
			fprintf(f, " %s %g%s%s", alarm_limit_name(d->type), d->limit,
				*unit != '\0' && *unit != '%' ? " " : "", unit);
		}
		fprintf(f, ", %s, meters ", alarm_priority_name(d->priority));
		for (j = 0; d->meters[j] != NULL; j++)
			fprintf(f, "%s%s", j ? "," : "", san(a, sizeof(a), d->meters[j]));
		if (d->measure == AM_NIGHT_FLOW)
			fprintf(f, ", window %s", alarm_window_text(d, b, sizeof(b)));
		if (d->deadband > 0)
			fprintf(f, ", deadband %g", d->deadband);
		if (d->on_delay_ms > 0) {
			fputs(", on-delay ", f);
			print_duration(f, d->on_delay_ms);
		}
		if (d->off_delay_ms > 0) {
			fputs(", off-delay ", f);
			print_duration(f, d->off_delay_ms);
		}
		if (d->realarm_ms > 0) {
			fputs(", re-alarm ", f);
			print_duration(f, d->realarm_ms);
		}
		if (d->ack_note)
			fputs(", ack needs a note", f);
		if (!d->enabled)
			fputs(", out of service", f);
		fputc('\n', f);
	}
}

/* Is c->profiles[i] a meter's copy of one listed before it (pulses)? */
static bool profile_listed_before(const struct config *c, size_t i)
{
	size_t k;

	for (k = 0; k < i; k++)
		if (strcmp(c->profiles[k]->path, c->profiles[i]->path) == 0)
			return true;
	return false;
}

/* "machine NAME: meters a, b; topic T (state S, pieces P); alarm ..." */
static void print_machines(FILE *f, const struct config *c)
{
	char a[256], b[256];
	size_t i, j;

	if (c->nmachines == 0)
		return;
	fprintf(f, "\nmachines (%zu):\n", c->nmachines);
	for (i = 0; i < c->nmachines; i++) {
		const struct config_machine *m = &c->machines[i];

		fprintf(f, "  machine %s: meters ", san(a, sizeof(a), m->name));
		for (j = 0; j < m->nmeters; j++)
			fprintf(f, "%s%s", j ? ", " : "",
				san(a, sizeof(a), c->meters[m->meters[j]].name));
		if (m->poll != NULL) {
			const struct profile *pr = m->poll->profile;

			fprintf(f, "; modbus %s:%d unit %d every ", san(a, sizeof(a), m->poll->host),
				m->poll->port, m->poll->unit);
			print_duration(f, m->poll->poll_ms);
			for (j = 0; j < pr->nregs; j++)
				fprintf(f, "%s %d", pr->regs[j].qty == QTY_PIECES ? ", pieces at"
										  : ", state at",
					pr->regs[j].address);
		} else {
			fprintf(f, "; topic %s (state %s", san(a, sizeof(a), m->topic),
				san(b, sizeof(b), m->state_field));
			if (m->pieces_field != NULL)
				fprintf(f, ", pieces %s as %s", san(a, sizeof(a), m->pieces_field),
					m->pieces_increment ? "increments" : "a counter");
			fputc(')', f);
		}
		if (!isnan(m->stopped_power)) {
			fprintf(f, "; %s over %g kW for ", ALARM_MACHINE_STOPPED,
				m->stopped_power / 1000);
			print_duration(f, m->stopped_after_ms);
		}
		fputc('\n', f);
	}
}

void config_print_summary(const struct config *c, void *stream)
{
	FILE *f = stream;
	char a[512], b[512];
	size_t i, j, ntopics = 0;
	int wname = 4, wprof = 7, wdrv = 6;

	fprintf(f, "configuration: %s\n", san(a, sizeof(a), c->path));
	fprintf(f, "site: %s (timezone %s, target PF %.2f, %g Hz)\n", san(a, sizeof(a), c->site.name),
		c->site.timezone ? san(b, sizeof(b), c->site.timezone) : "system default",
		c->site.target_pf, c->site.nominal_freq);
	fprintf(f, "store: %s (retention ", san(a, sizeof(a), c->store.path));
	print_duration(f, c->store.retention_ms);
	fprintf(f, ", queue %zu samples, commit every %d rows or ", c->store.queue_max,
		c->store.batch_rows);
	print_duration(f, c->store.commit_ms);
	if (c->store.quota_bytes > 0)
		fprintf(f, ", quota %llu MB", (unsigned long long)(c->store.quota_bytes / 1000000));
	fputs(")\n", f);
	fprintf(f, "log: %s, level %s\n", c->log.path ? san(a, sizeof(a), c->log.path) : "stderr",
		c->log.level == LOG_ERROR  ? "error"
		: c->log.level == LOG_WARN ? "warn"
		: c->log.level == LOG_DEBUG ? "debug"
					   : "info");
	if (c->mqtt.enabled) {
		fprintf(f, "mqtt: %s client %s qos %d keepalive %ds%s%s", san(a, sizeof(a), c->mqtt.uri),
			san(b, sizeof(b), c->mqtt.client_id), c->mqtt.qos, c->mqtt.keepalive_s,
			c->mqtt.clean_session ? "" : " persistent-session",
			c->mqtt.protocol == 4 ? " MQTT 3.1.1" : "");
		if (c->mqtt.username != NULL)
			fprintf(f, " user %s%s", san(a, sizeof(a), c->mqtt.username),
				c->mqtt.password ? " (password set)" : "");
		if (c->mqtt.ca_file != NULL)
			fprintf(f, " ca %s", san(a, sizeof(a), c->mqtt.ca_file));
		if (c->mqtt.cert_file != NULL)
			fprintf(f, " cert %s", san(a, sizeof(a), c->mqtt.cert_file));
		if (c->mqtt.share_group != NULL)
			fprintf(f, " share-group %s", san(a, sizeof(a), c->mqtt.share_group));
		if (c->mqtt.sp_host_id != NULL)
			fprintf(f, " sparkplug-host %s", san(a, sizeof(a), c->mqtt.sp_host_id));
		if (c->mqtt.alarm_topic != NULL && c->mqtt.alarm_topic[0] != '\0')
			fprintf(f, " alarms %s/#", san(a, sizeof(a), c->mqtt.alarm_topic));
		fputc('\n', f);
	} else {
		fputs("mqtt: not configured\n", f);
	}
	if (c->sync.enabled) {
		fputs("sync: postgres ", f);
		print_conninfo(f, c->sync.postgres ? c->sync.postgres : "");
		fputs(" every ", f);
		print_duration(f, c->sync.interval_ms);
		if (c->sync.ca_file != NULL)
			fprintf(f, " ca %s", san(a, sizeof(a), c->sync.ca_file));
		fprintf(f, "%s\n", c->sync.password ? " (password set)" : "");
	} else {
		fputs("sync: not configured\n", f);
	}
	fprintf(f, "console: bell %s\n", c->console.bell ? "on" : "off");
	if (c->operators != NULL) {
		size_t n = 0;
		while (c->operators[2 * n] != NULL)
			n++;
		fprintf(f, "operators: %zu named\n", n);
	}
	if (c->auth.operators != NULL) {
		fprintf(f, "auth: %zu people in %s, signed in for ", operators_count(c->auth.ops),
			san(a, sizeof(a), c->auth.operators));
		print_duration(f, c->auth.idle_ms);
		fputs(" without a key\n", f);
	} else {
		fputs("auth: none (the login acts)\n", f);
	}
	print_alarms(f, c);

	for (i = 0; i < c->nmeters; i++) {
		int n = (int)strlen(c->meters[i].name);
		int np = c->meters[i].profile_name ? (int)strlen(c->meters[i].profile_name) : 0;
		wname = n > wname ? n : wname;
		wprof = np > wprof ? np : wprof;
		ntopics += c->meters[i].ntopics;
		if (c->meters[i].driver == DRIVER_SPARKPLUG) {
			wdrv = 9; /* "sparkplug" */
			ntopics++;
		}
	}
	fprintf(f, "\nmeters (%zu):\n", c->nmeters);
	fprintf(f, "  %-*s  %-*s  %-*s  %-6s  %s\n", wname, "NAME", wdrv, "DRIVER", wprof,
		"PROFILE", "POLL", "SOURCE");
	for (i = 0; i < c->nmeters; i++) {
		const struct config_meter *m = &c->meters[i];
		char poll[32];
		fmt_duration(poll, sizeof(poll), m->poll_ms);
		fprintf(f, "  %-*s  %-*s  %-*s  %-6s  ", wname, san(a, sizeof(a), m->name), wdrv,
			config_driver_name(m->driver), wprof,
			san(b, sizeof(b), m->profile_name), poll);
		if (m->driver == DRIVER_MODBUS) {
			struct regmap_plan plan;
			fprintf(f, "%s:%d unit %d", san(a, sizeof(a), m->host), m->port, m->unit);
			if (m->profile != NULL &&
			    regmap_plan(m->profile->regs, m->profile->nregs, m->profile->max_registers,
					m->profile->max_gap, &plan) == 0) {
				fprintf(f, ", %zu read%s per poll", plan.nreads,
					plan.nreads == 1 ? "" : "s");
				regmap_plan_free(&plan);
			}
		} else if (m->driver == DRIVER_SPARKPLUG) {
			fprintf(f, "spBv1.0/%s/+/%s", san(a, sizeof(a), m->sp_group),
				san(b, sizeof(b), m->sp_node));
			if (m->sp_device != NULL)
				fprintf(f, "/%s", san(a, sizeof(a), m->sp_device));
		} else {
			for (j = 0; j < m->ntopics; j++)
				fprintf(f, "%s%s", j ? " " : "", san(a, sizeof(a), m->topics[j]));
		}
		if (m->utility != UTILITY_ELECTRICITY)
			fprintf(f, "  %s", utility_name((enum utility)m->utility));
		if (m->pulse_si > 0)
			fprintf(f, ", %.15g %s per pulse", m->pulse_si, qty_unit(m->pulse_qty));
		if (config_derives_energy(c, m))
			fprintf(f, ", energy from volume at %.15g kWh/m3", config_calorific(c, m));
		if (config_parent(m) >= 0)
			fprintf(f, "  under %s", san(a, sizeof(a), c->meters[config_parent(m)].name));
		if (m->role == METER_PRODUCTION)
			fputs("  production", f);
		if (m->grid)
			fputs("  grid connection", f);
		if (m->description != NULL)
			fprintf(f, "  (%s)", san(a, sizeof(a), m->description));
		fputc('\n', f);
	}
	print_machines(f, c);

	for (i = 0, j = 0; i < c->nprofiles; i++)
		j += !profile_listed_before(c, i);
	fprintf(f, "\nprofiles (%zu):\n", j);
	for (i = 0; i < c->nprofiles; i++) {
		const struct profile *pr = c->profiles[i];
		char *real;

		if (profile_listed_before(c, i))
			continue; /* a meter's copy with its pulses resolved */
		real = realpath(pr->path, NULL); /* no "build/../.." */
		fprintf(f, "  %-*s  %-*s  %s", wprof, san(a, sizeof(a), pr->name), wdrv,
			pr->driver == PROFILE_MODBUS	? "modbus"
			: pr->driver == PROFILE_MQTT ? "mqtt"
						     : "sparkplug",
			san(b, sizeof(b), real != NULL ? real : pr->path));
		free(real);
		if (pr->driver == PROFILE_MODBUS)
			fprintf(f, "  (%zu values)", pr->nregs);
		else
			fprintf(f, "  (%zu fields)", pr->nfields);
		fputc('\n', f);
	}

	for (i = 0; i < c->nmachines; i++)
		ntopics += c->machines[i].topic != NULL;
	fprintf(f, "\ntopics subscribed (%zu):\n", ntopics);
	for (i = 0; i < c->nmeters; i++) {
		const struct config_meter *m = &c->meters[i];
		for (j = 0; j < m->ntopics; j++) {
			if (c->mqtt.share_group != NULL && strncmp(m->topics[j], "$share/", 7) != 0)
				fprintf(f, "  $share/%s/%s", san(a, sizeof(a), c->mqtt.share_group),
					san(b, sizeof(b), m->topics[j]));
			else
				fprintf(f, "  %s", san(a, sizeof(a), m->topics[j]));
			fprintf(f, "  -> %s\n", san(a, sizeof(a), m->name));
		}
		if (m->driver == DRIVER_SPARKPLUG)
			fprintf(f, "  spBv1.0/%s/#  -> %s\n", san(a, sizeof(a), m->sp_group),
				san(b, sizeof(b), m->name));
	}
	for (i = 0; i < c->nmachines; i++) {
		const char *t = c->machines[i].topic;

		if (t == NULL)
			continue;
		if (c->mqtt.share_group != NULL)
			fprintf(f, "  $share/%s/%s", san(a, sizeof(a), c->mqtt.share_group),
				san(b, sizeof(b), t));
		else
			fprintf(f, "  %s", san(a, sizeof(a), t));
		fprintf(f, "  -> machine %s\n", san(a, sizeof(a), c->machines[i].name));
	}
}
