// SPDX-License-Identifier: MIT
/*
 * profile: loads a meter model's map (conf/profiles/NAME.ini, format in
 * docs/profiles.md) and validates all of it, reporting every problem as
 * file:line in a struct diag.
 *
 * Loading is two passes. inifile reads the file into its sections and keys
 * with their lines, reporting what is wrong with the text itself (overlong
 * lines, lines without '=', ...). The second pass, here, knows the driver
 * and the [profile] defaults whatever the key order, and checks each
 * section against them.
 */
#include "phasor/profile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "phasor/inifile.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define PROFILE_FILE_MAX (1024 * 1024)

/* ---- enums ------------------------------------------------------------ */

static const char *const type_names[] = {
	[REG_INT16] = "int16", [REG_UINT16] = "uint16",
	[REG_INT32] = "int32", [REG_UINT32] = "uint32",
	[REG_INT64] = "int64", [REG_UINT64] = "uint64",
	[REG_FLOAT32] = "float32", [REG_FLOAT64] = "float64",
	NULL
};

static const char *const order_names[] = {
	[WO_ABCD] = "ABCD", [WO_CDAB] = "CDAB", [WO_BADC] = "BADC", [WO_DCBA] = "DCBA",
	NULL
};

int profile_type_words(enum reg_type t)
{
	switch (t) {
	case REG_INT16:
	case REG_UINT16:
		return 1;
	case REG_INT32:
	case REG_UINT32:
	case REG_FLOAT32:
		return 2;
	case REG_INT64:
	case REG_UINT64:
	case REG_FLOAT64:
		return 4;
	}
	return 1;
}

int profile_type_parse(const char *s)
{
	int i;

	for (i = 0; type_names[i] != NULL; i++)
		if (strcmp(s, type_names[i]) == 0)
			return i;
	return -1;
}

const char *profile_type_name(enum reg_type t)
{
	return (unsigned)t < UTIL_ARRAY_LEN(type_names) - 1 ? type_names[t] : "?";
}

int profile_order_parse(const char *s)
{
	int i;

	/* "abcd" is as clear as "ABCD" */
	for (i = 0; order_names[i] != NULL; i++)
		if (util_strcasecmp(s, order_names[i]) == 0)
			return i;
	return -1;
}

const char *profile_order_name(enum word_order o)
{
	return (unsigned)o < UTIL_ARRAY_LEN(order_names) - 1 ? order_names[o] : "?";
}

/* A file's text in a message: sanitized and short. */
static const char *shown(char *buf, size_t size, const char *s)
{
	return util_sanitize(buf, size, s);
}

#define SHOWN(s) shown((char[96]){ 0 }, 96, (s))

/* ---- validation ------------------------------------------------------- */

enum key_scope { FOR_ANY, FOR_MODBUS, FOR_MQTT };

struct key_def {
	const char *name;
	enum key_scope scope;
};

static const struct key_def profile_keys[] = {
	{ "driver", FOR_ANY }, { "vendor", FOR_ANY }, { "model", FOR_ANY },
	{ "utility", FOR_ANY }, { "pulse_value", FOR_ANY },
	{ "max_registers", FOR_MODBUS }, { "max_gap", FOR_MODBUS },
	{ "function", FOR_MODBUS }, { "type", FOR_MODBUS },
	{ "word_order", FOR_MODBUS }, { "scale", FOR_MODBUS },
	{ "format", FOR_MQTT }, { "containers", FOR_MQTT },
};
static const char *const profile_key_names[] = {
	"driver", "vendor", "model", "max_registers", "max_gap", "function", "type",
	"word_order", "scale", "format", "containers", "utility", "pulse_value", NULL
};
static const char *const value_key_names[] = {
	"address", "function", "type", "word_order", "scale", "sentinel", "unit", NULL
};
static const char *const field_key_names[] = { "quantity", "phases", "scale", "unit", NULL };
static const char *const section_kinds[] = { "profile", "value", "field", NULL };
static const char *const driver_names[] = { "modbus", "mqtt", "sparkplug", NULL };
static const char *const format_names[] = { "json", "plain", NULL };

struct ctx {
	const char *file;
	struct diag *d;
	int driver;           /* enum profile_driver, or -1 when unknown */
	/* [profile] defaults for the values */
	int function;
	enum reg_type type;
	enum word_order order;
	double scale;
	int max_registers;        /* 0 until known */
	int qty_line[QTY__COUNT]; /* where each quantity was first mapped */
	int pulses_line;          /* where pulses were */
	size_t errors_before;     /* d->n when this file started */
};

static const char *driver_label(int driver)
{
	return driver == PROFILE_MODBUS ? "modbus" : driver == PROFILE_SPARKPLUG ? "sparkplug" : "mqtt";
}

/* "unknown WHAT 'word' (did you mean 'x'?)" */
static void unknown(struct ctx *c, int line, const char *what, const char *word,
		    const char *const *candidates)
{
	const char *near = util_closest(word, candidates);

	if (near != NULL)
		diag_add(c->d, c->file, line, "unknown %s '%s' (did you mean '%s'?)", what,
			 SHOWN(word), near);
	else
		diag_add(c->d, c->file, line, "unknown %s '%s'", what, SHOWN(word));
}

/* Where quantity q (or PROFILE_PULSES) was first mapped, and its name. */
static int *qty_slot(struct ctx *c, int q)
{
	return q == PROFILE_PULSES ? &c->pulses_line : &c->qty_line[q];
}

static const char *qty_label(int q)
{
	return q == PROFILE_PULSES ? "pulses" : qty_name((unsigned)q);
}

/*
 * A value's or field's unit = key: its factor joins *scale and its offset
 * is set, so that raw x scale + offset is in the contract's unit. -1 after
 * a diagnostic.
 */
static int apply_unit(struct ctx *c, const struct inifile_kv *kv, int q, double *scale,
		      double *offset)
{
	double factor, off;
	int rc;

	if (q == PROFILE_PULSES) {
		diag_add(c->d, c->file, kv->line,
			 "pulses have no unit: the meter's pulse_value says what a pulse is");
		return -1;
	}
	rc = utility_unit(kv->value, (unsigned)q, &factor, &off);
	if (rc == 0) {
		*scale *= factor;
		*offset = off;
		return 0;
	}
	if (rc == -2 || utility_units_for((unsigned)q)[0] != '\0')
		diag_add(c->d, c->file, kv->line, "unit '%s' is not one for %s (%s: %s)",
			 SHOWN(kv->value), qty_name((unsigned)q), qty_unit((unsigned)q),
			 utility_units_for((unsigned)q));
	else
		diag_add(c->d, c->file, kv->line, "unknown unit '%s'", SHOWN(kv->value));
	return -1;
}

/* A quantity name (or pulses: PROFILE_PULSES), or -1 after a diagnostic. */
static int parse_qty(struct ctx *c, int line, const char *s)
{
	int q = qty_lookup(s);

	if (strcmp(s, "pulses") == 0)
		return PROFILE_PULSES;
	if (q < 0) {
		const char *names[QTY__COUNT + 1];
		unsigned i;

		for (i = 0; i < QTY__COUNT; i++)
			names[i] = qty_name(i);
		names[QTY__COUNT] = NULL;
		unknown(c, line, "quantity", s, names);
	}
	return q;
}

/*
 * An integer as profiles write them: decimal (leading zeros are decimal,
 * never octal: "010" is 10) or hexadecimal with 0x. 0 or -1.
 */
static int parse_integer(const char *s, long long *out)
{
	const char *digits = s + (s[0] == '-' || s[0] == '+');
	bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
	char *end;
	long long v;

	if (s[0] == '\0' || isspace((unsigned char)s[0]) ||
	    !isxdigit((unsigned char)digits[hex ? 2 : 0]))
		return -1;
	errno = 0;
	v = strtoll(s, &end, hex ? 16 : 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int parse_int_key(struct ctx *c, const struct inifile_kv *kv, long min, long max, long *out)
{
	long long v;

	if (parse_integer(kv->value, &v) < 0 || v < -0x7fffffffLL || v > 0x7fffffffLL) {
		diag_add(c->d, c->file, kv->line, "bad number '%s' for %s", SHOWN(kv->value),
			 kv->key);
		return -1;
	}
	if (v < min || v > max) {
		diag_add(c->d, c->file, kv->line, "%s %lld out of range %ld..%ld", kv->key, v, min,
			 max);
		return -1;
	}
	*out = (long)v;
	return 0;
}

static int parse_scale(struct ctx *c, const struct inifile_kv *kv, double *out)
{
	double v;

	if (util_parse_double(kv->value, &v) < 0) {
		diag_add(c->d, c->file, kv->line, "bad number '%s' for scale", SHOWN(kv->value));
		return -1;
	}
	if (!isfinite(v) || v == 0) {
		diag_add(c->d, c->file, kv->line, "scale must be a finite non-zero number");
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_function(struct ctx *c, const struct inifile_kv *kv, int *out)
{
	long long v;

	if (parse_integer(kv->value, &v) < 0) {
		diag_add(c->d, c->file, kv->line, "bad number '%s' for function",
			 SHOWN(kv->value));
		return -1;
	}
	if (v != 3 && v != 4) {
		diag_add(c->d, c->file, kv->line,
			 "function must be 3 (holding registers) or 4 (input registers), not %lld", v);
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_type(struct ctx *c, const struct inifile_kv *kv, enum reg_type *out)
{
	int t = profile_type_parse(kv->value);

	if (t < 0) {
		unknown(c, kv->line, "type", kv->value, type_names);
		return -1;
	}
	*out = (enum reg_type)t;
	return 0;
}

static int parse_order(struct ctx *c, const struct inifile_kv *kv, enum word_order *out)
{
	int o = profile_order_parse(kv->value);

	if (o < 0) {
		unknown(c, kv->line, "word_order", kv->value, order_names);
		return -1;
	}
	*out = (enum word_order)o;
	return 0;
}

/* Warn about a key given twice in a section; returns true for a repeat. */
static bool repeated(struct ctx *c, const struct inifile_section *sec, size_t k)
{
	const struct inifile_kv *first = inifile_repeated(sec, k);

	if (first != NULL)
		diag_add(c->d, c->file, sec->kvs[k].line, "duplicate key '%s' (first at line %d)",
			 SHOWN(sec->kvs[k].key), first->line);
	return first != NULL;
}

/* Split a comma separated list in place into at most max trimmed items;
 * returns the count, or max + 1 when there are more. Empty items count. */
static size_t split_list(char *s, char **items, size_t max)
{
	size_t n = 0;
	char *p = s;

	for (;;) {
		char *comma = strchr(p, ',');

		if (comma != NULL)
			*comma = '\0';
		if (n == max)
			return max + 1;
		items[n++] = util_trim(p);
		if (comma == NULL)
			return n;
		p = comma + 1;
	}
}

static void check_profile_section(struct ctx *c, const struct inifile_section *sec, struct profile *p,
				  bool *have_max_registers)
{
	size_t k;

	for (k = 0; k < sec->nkvs; k++) {
		const struct inifile_kv *kv = &sec->kvs[k];
		const struct key_def *def = NULL;
		size_t j;
		long v;

		if (repeated(c, sec, k))
			continue;
		for (j = 0; j < UTIL_ARRAY_LEN(profile_keys); j++)
			if (strcmp(kv->key, profile_keys[j].name) == 0)
				def = &profile_keys[j];
		if (def == NULL) {
			unknown(c, kv->line, "key", kv->key, profile_key_names);
			continue;
		}
		if (c->driver >= 0 && def->scope != FOR_ANY &&
		    ((def->scope == FOR_MODBUS) != (c->driver == PROFILE_MODBUS) ||
		     c->driver == PROFILE_SPARKPLUG)) {
			diag_add(c->d, c->file, kv->line,
				 "'%s' is for %s profiles; this profile has driver = %s", kv->key,
				 def->scope == FOR_MODBUS ? "Modbus" : "MQTT", driver_label(c->driver));
			continue;
		}
		if (strcmp(kv->key, "driver") == 0) {
			continue; /* read before */
		} else if (strcmp(kv->key, "vendor") == 0) {
			free(p->vendor);
			p->vendor = util_strdup(kv->value);
		} else if (strcmp(kv->key, "model") == 0) {
			free(p->model);
			p->model = util_strdup(kv->value);
		} else if (strcmp(kv->key, "utility") == 0) {
			int u = utility_parse(kv->value);

			if (u < 0) {
				unknown(c, kv->line, "utility", kv->value, utility_names());
			} else {
				p->utility = u;
				p->utility_set = true;
			}
		} else if (strcmp(kv->key, "pulse_value") == 0) {
			char why[160];

			if (utility_parse_pulse(kv->value, &p->pulse_qty, &p->pulse_si, why,
						sizeof(why)) < 0)
				diag_add(c->d, c->file, kv->line, "pulse_value '%s': %s",
					 SHOWN(kv->value), why);
			else
				p->pulse_line = kv->line;
		} else if (strcmp(kv->key, "max_registers") == 0) {
			*have_max_registers = true;
			if (parse_int_key(c, kv, 1, 125, &v) == 0)
				p->max_registers = c->max_registers = (int)v;
		} else if (strcmp(kv->key, "max_gap") == 0) {
			if (parse_int_key(c, kv, 0, 125, &v) == 0)
				p->max_gap = (int)v;
		} else if (strcmp(kv->key, "function") == 0) {
			parse_function(c, kv, &c->function);
		} else if (strcmp(kv->key, "type") == 0) {
			parse_type(c, kv, &c->type);
		} else if (strcmp(kv->key, "word_order") == 0) {
			parse_order(c, kv, &c->order);
		} else if (strcmp(kv->key, "scale") == 0) {
			parse_scale(c, kv, &c->scale);
		} else if (strcmp(kv->key, "format") == 0) {
			if (strcmp(kv->value, "json") == 0)
				p->format = PAYLOAD_JSON;
			else if (strcmp(kv->value, "plain") == 0)
				p->format = PAYLOAD_PLAIN;
			else
				unknown(c, kv->line, "format", kv->value, format_names);
		} else if (strcmp(kv->key, "containers") == 0 && p->format == PAYLOAD_PLAIN) {
			diag_add(c->d, c->file, kv->line, "containers needs format = json");
		} else if (strcmp(kv->key, "containers") == 0) {
			char *copy = util_strdup(kv->value), *items[16];
			size_t n = split_list(copy, items, UTIL_ARRAY_LEN(items)), i;

			if (n > UTIL_ARRAY_LEN(items)) {
				diag_add(c->d, c->file, kv->line, "at most %zu containers",
					 UTIL_ARRAY_LEN(items));
				n = 0;
			}
			for (i = 0; i < n; i++) {
				if (items[i][0] == '\0' || strstr(items[i], "..") != NULL ||
				    items[i][0] == '.' || items[i][strlen(items[i]) - 1] == '.') {
					diag_add(c->d, c->file, kv->line, "bad container path '%s'",
						 SHOWN(items[i]));
					continue;
				}
				p->containers = util_reallocarray(p->containers, p->ncontainers + 1,
								  sizeof(*p->containers));
				p->containers[p->ncontainers++] = util_strdup(items[i]);
			}
			free(copy);
		}
	}
}

/* Parse a sentinel list for a value of type t into r. */
static void parse_sentinels(struct ctx *c, const struct inifile_kv *kv, struct profile_reg *r)
{
	char *copy = util_strdup(kv->value), *items[PROFILE_MAX_SENTINELS];
	size_t n = split_list(copy, items, PROFILE_MAX_SENTINELS), i;
	int bits = 16 * profile_type_words(r->type);
	uint64_t mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

	if (n > PROFILE_MAX_SENTINELS) {
		diag_add(c->d, c->file, kv->line, "at most %d sentinels", PROFILE_MAX_SENTINELS);
		free(copy);
		return;
	}
	for (i = 0; i < n; i++) {
		const char *s = items[i];
		char *end;
		uint64_t u;

		int base = s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;

		errno = 0;
		if (s[0] == '-') {
			/* a negative number: its two's complement in the value's width */
			long long v = strtoll(s, &end, 10);

			u = (uint64_t)v & mask;
			if (*end == '\0' && errno == 0 && bits < 64 &&
			    v < -(long long)(UINT64_C(1) << (bits - 1)))
				errno = ERANGE;
		} else {
			u = strtoull(s, &end, base);
			if (*end == '\0' && errno == 0 && (u & ~mask) != 0)
				errno = ERANGE;
		}
		if (!isdigit((unsigned char)s[s[0] == '-']) || *end != '\0' ||
		    (errno != 0 && errno != ERANGE)) {
			diag_add(c->d, c->file, kv->line, "bad number '%s' for sentinel", SHOWN(s));
			continue;
		}
		if (errno == ERANGE) {
			diag_add(c->d, c->file, kv->line, "sentinel %s does not fit in %s", SHOWN(s),
				 profile_type_name(r->type));
			continue;
		}
		r->sentinel[r->nsentinels++] = u;
	}
	free(copy);
}

static void check_value_section(struct ctx *c, const struct inifile_section *sec, struct profile *p)
{
	struct profile_reg r;
	const struct inifile_kv *addr_kv = NULL, *sentinel_kv = NULL, *unit_kv = NULL;
	int q = -1;
	size_t k;
	long v;

	memset(&r, 0, sizeof(r));
	r.function = (uint8_t)c->function;
	r.type = c->type;
	r.order = c->order;
	r.scale = c->scale;
	r.line = sec->line;

	if (sec->arg[0] == '\0') {
		diag_add(c->d, c->file, sec->line,
			 "[value] needs a quantity name, e.g. [value v_l1n]");
	} else {
		q = parse_qty(c, sec->line, sec->arg);
		if (q != -1 && *qty_slot(c, q) != 0) {
			diag_add(c->d, c->file, sec->line, "duplicate quantity %s (first at line %d)",
				 qty_label(q), *qty_slot(c, q));
			q = -1;
		} else if (q != -1) {
			*qty_slot(c, q) = sec->line;
		}
	}

	for (k = 0; k < sec->nkvs; k++) {
		const struct inifile_kv *kv = &sec->kvs[k];
		int fn;

		if (repeated(c, sec, k))
			continue;
		if (strcmp(kv->key, "address") == 0) {
			addr_kv = kv;
			if (parse_int_key(c, kv, 0, 65535, &v) == 0)
				r.address = (uint16_t)v;
			else
				q = -1;
		} else if (strcmp(kv->key, "function") == 0) {
			if (parse_function(c, kv, &fn) == 0)
				r.function = (uint8_t)fn;
		} else if (strcmp(kv->key, "type") == 0) {
			parse_type(c, kv, &r.type);
		} else if (strcmp(kv->key, "word_order") == 0) {
			parse_order(c, kv, &r.order);
		} else if (strcmp(kv->key, "scale") == 0) {
			parse_scale(c, kv, &r.scale);
		} else if (strcmp(kv->key, "sentinel") == 0) {
			sentinel_kv = kv; /* needs the final type */
		} else if (strcmp(kv->key, "unit") == 0) {
			unit_kv = kv; /* needs the final scale */
		} else {
			unknown(c, kv->line, "key", kv->key, value_key_names);
		}
	}
	if (addr_kv == NULL) {
		diag_add(c->d, c->file, sec->line, "[value %s] has no address", SHOWN(sec->arg));
		q = -1;
	} else if (q != -1 && (long)r.address + profile_type_words(r.type) - 1 > 65535) {
		diag_add(c->d, c->file, addr_kv->line,
			 "%s at address %u would pass register 65535", profile_type_name(r.type),
			 (unsigned)r.address);
		q = -1;
	} else if (q != -1 && c->max_registers > 0 &&
		   profile_type_words(r.type) > c->max_registers) {
		diag_add(c->d, c->file, sec->line, "%s takes %d registers, more than max_registers (%d)",
			 profile_type_name(r.type), profile_type_words(r.type), c->max_registers);
		q = -1;
	}
	if (sentinel_kv != NULL)
		parse_sentinels(c, sentinel_kv, &r);
	if (unit_kv != NULL && q != -1 && apply_unit(c, unit_kv, q, &r.scale, &r.offset) < 0)
		q = -1;
	if (q == -1)
		return;
	if (q == PROFILE_PULSES)
		p->pulses = true;
	r.qty = q;
	p->regs = util_reallocarray(p->regs, p->nregs + 1, sizeof(*p->regs));
	p->regs[p->nregs++] = r;
}

/* A Sparkplug metric name: any text without control characters (names
 * like "Voltage L1" or "Node Control/Rebirth" hold spaces and slashes). */
static bool good_metric(const char *s)
{
	return s[0] != '\0' && !util_has_control(s);
}

static bool good_path(const char *s, enum payload_format f)
{
	size_t n = strlen(s);

	if (n == 0 || strpbrk(s, " \t") != NULL)
		return false;
	if (f == PAYLOAD_JSON)
		return s[0] != '.' && s[n - 1] != '.' && strstr(s, "..") == NULL;
	return s[0] != '/' && s[n - 1] != '/' && strstr(s, "//") == NULL;
}

/* Record quantity q of a field; false (after a diagnostic) when another
 * field has it already. A field may name the same quantity for its number
 * and its first array element (Tasmota's Voltage). */
static bool claim_qty(struct ctx *c, int q, int line, const struct profile_field *f)
{
	int *slot = qty_slot(c, q);

	if (*slot != 0 && *slot != f->line) {
		diag_add(c->d, c->file, line, "duplicate quantity %s (first at line %d)",
			 qty_label(q), *slot);
		return false;
	}
	/* the field's section line marks it as its own */
	*slot = f->line;
	return true;
}

static void check_field_section(struct ctx *c, const struct inifile_section *sec, struct profile *p)
{
	struct profile_field f;
	const struct inifile_kv *unit_kv = NULL;
	bool ok = true, have = false;
	size_t k;

	memset(&f, 0, sizeof(f));
	f.qty = -1;
	f.phase_qty[0] = f.phase_qty[1] = f.phase_qty[2] = -1;
	f.scale = 1;
	f.line = sec->line;

	if (sec->arg[0] == '\0') {
		diag_add(c->d, c->file, sec->line,
			 "[field] needs a path, e.g. [field ENERGY.Power] or [field emeter/0/power]");
		ok = false;
	} else if (p->driver == PROFILE_SPARKPLUG ? !good_metric(sec->arg)
						  : !good_path(sec->arg, p->format)) {
		diag_add(c->d, c->file, sec->line, "bad %s '%s'",
			 p->driver == PROFILE_SPARKPLUG ? "metric name"
			 : p->format == PAYLOAD_JSON	? "JSON path"
							: "topic path",
			 SHOWN(sec->arg));
		ok = false;
	} else {
		size_t i;

		for (i = 0; i < p->nfields; i++)
			if (strcmp(p->fields[i].path, sec->arg) == 0) {
				diag_add(c->d, c->file, sec->line,
					 "duplicate section [field %s] (first at line %d)",
					 SHOWN(sec->arg), p->fields[i].line);
				ok = false;
			}
	}

	for (k = 0; k < sec->nkvs; k++) {
		const struct inifile_kv *kv = &sec->kvs[k];

		if (repeated(c, sec, k))
			continue;
		if (strcmp(kv->key, "quantity") == 0) {
			int q = parse_qty(c, kv->line, kv->value);

			have = true;
			if (q == -1 || !claim_qty(c, q, kv->line, &f))
				ok = false;
			else
				f.qty = q;
		} else if (strcmp(kv->key, "phases") == 0) {
			char *copy = util_strdup(kv->value), *items[3];
			size_t n = split_list(copy, items, 3), i;

			have = true;
			if (p->driver == PROFILE_SPARKPLUG) {
				diag_add(c->d, c->file, kv->line,
					 "phases is for JSON arrays; a Sparkplug metric is one value "
					 "(use quantity)");
				ok = false;
			} else if (p->format == PAYLOAD_PLAIN) {
				diag_add(c->d, c->file, kv->line,
					 "phases needs format = json (a plain payload is one number)");
				ok = false;
			} else if (n != 3) {
				diag_add(c->d, c->file, kv->line,
					 "phases needs 3 quantities (L1, L2, L3), got %s",
					 n > 3 ? "more" : n == 2 ? "2" : "1");
				ok = false;
			} else {
				for (i = 0; i < 3; i++) {
					int q = parse_qty(c, kv->line, items[i]);

					if (q == PROFILE_PULSES) {
						diag_add(c->d, c->file, kv->line,
							 "pulses is one count, not a phase");
						ok = false;
					} else if (q >= 0 && i > 0 &&
					    (q == f.phase_qty[0] || q == f.phase_qty[1])) {
						diag_add(c->d, c->file, kv->line,
							 "phases names %s twice", qty_name((unsigned)q));
						ok = false;
					} else if (q < 0 || !claim_qty(c, q, kv->line, &f)) {
						ok = false;
					} else {
						f.phase_qty[i] = q;
					}
				}
			}
			free(copy);
		} else if (strcmp(kv->key, "scale") == 0) {
			if (parse_scale(c, kv, &f.scale) < 0)
				ok = false;
		} else if (strcmp(kv->key, "unit") == 0) {
			unit_kv = kv; /* needs the final scale and quantity */
		} else {
			unknown(c, kv->line, "key", kv->key, field_key_names);
		}
	}
	if (!have) {
		diag_add(c->d, c->file, sec->line, "[field %s] needs quantity or phases",
			 SHOWN(sec->arg));
		ok = false;
	}
	if (ok && unit_kv != NULL &&
	    apply_unit(c, unit_kv, f.qty != -1 ? f.qty : f.phase_qty[0], &f.scale, &f.offset) < 0)
		ok = false;
	if (ok && f.qty == PROFILE_PULSES)
		p->pulses = true;
	if (!ok)
		return;
	f.path = util_strdup(sec->arg);
	p->fields = util_reallocarray(p->fields, p->nfields + 1, sizeof(*p->fields));
	p->fields[p->nfields++] = f;
}

static void validate(struct ctx *c, const struct inifile *doc, struct profile *p)
{
	const struct inifile_section *prof = NULL;
	const struct inifile_kv *driver_kv = NULL;
	bool have_max_registers = false;
	size_t i, k;

	/* the [profile] section, and its driver and format, come first */
	for (i = 0; i < doc->nsections; i++) {
		const struct inifile_section *sec = &doc->sections[i];

		if (strcmp(sec->kind, "profile") != 0)
			continue;
		if (prof != NULL) {
			diag_add(c->d, c->file, sec->line,
				 "duplicate section [profile] (first at line %d)", prof->line);
			continue;
		}
		prof = sec;
		if (sec->arg[0] != '\0')
			diag_add(c->d, c->file, sec->line, "[profile] takes no name");
	}
	if (prof == NULL) {
		diag_add(c->d, c->file, 0, "missing [profile] section");
	} else {
		for (k = 0; k < prof->nkvs; k++) {
			const struct inifile_kv *kv = &prof->kvs[k];

			if (strcmp(kv->key, "driver") == 0 && driver_kv == NULL) {
				driver_kv = kv;
				if (strcmp(kv->value, "modbus") == 0)
					c->driver = PROFILE_MODBUS;
				else if (strcmp(kv->value, "mqtt") == 0)
					c->driver = PROFILE_MQTT;
				else if (strcmp(kv->value, "sparkplug") == 0)
					c->driver = PROFILE_SPARKPLUG;
				else
					unknown(c, kv->line, "driver", kv->value, driver_names);
			}
		}
		if (driver_kv == NULL)
			diag_add(c->d, c->file, prof->line, "missing driver (modbus, mqtt or sparkplug)");
		if (c->driver >= 0)
			p->driver = (enum profile_driver)c->driver;
		/* format first: field paths are checked against it */
		for (k = 0; c->driver == PROFILE_MQTT && k < prof->nkvs; k++)
			if (strcmp(prof->kvs[k].key, "format") == 0 &&
			    strcmp(prof->kvs[k].value, "plain") == 0)
				p->format = PAYLOAD_PLAIN;
		check_profile_section(c, prof, p, &have_max_registers);
		if (c->driver == PROFILE_MODBUS && !have_max_registers)
			diag_add(c->d, c->file, prof->line,
				 "missing max_registers (registers per request, 1..125)");
	}

	for (i = 0; i < doc->nsections; i++) {
		const struct inifile_section *sec = &doc->sections[i];

		if (strcmp(sec->kind, "profile") == 0)
			continue;
		if (strcmp(sec->kind, "value") == 0) {
			if (c->driver == PROFILE_MQTT || c->driver == PROFILE_SPARKPLUG) {
				diag_add(c->d, c->file, sec->line,
					 "[value] sections are for Modbus profiles; this one has driver = %s (use [field %s])",
					 driver_label(c->driver),
					 c->driver == PROFILE_SPARKPLUG ? "METRIC" : "PATH");
				continue;
			}
			check_value_section(c, sec, p);
		} else if (strcmp(sec->kind, "field") == 0) {
			if (c->driver == PROFILE_MODBUS) {
				diag_add(c->d, c->file, sec->line,
					 "[field] sections are for MQTT profiles; this one has driver = modbus (use [value QUANTITY])");
				continue;
			}
			check_field_section(c, sec, p);
		} else {
			const char *near = util_closest(sec->kind, section_kinds);
			char full[160];

			snprintf(full, sizeof(full), "%s%s%s", sec->kind, sec->arg[0] ? " " : "",
				 sec->arg);
			if (near != NULL)
				diag_add(c->d, c->file, sec->line,
					 "unknown section [%s] (did you mean [%s%s%s]?)", SHOWN(full),
					 near, sec->arg[0] ? " " : "", SHOWN(sec->arg));
			else
				diag_add(c->d, c->file, sec->line,
					 "unknown section [%s] (expected [profile], [value QUANTITY] or [field PATH])",
					 SHOWN(full));
		}
	}
	if (p->pulse_line != 0 && !p->pulses)
		diag_add(c->d, c->file, p->pulse_line,
			 "pulse_value, but no value counts pulses ([value pulses] or quantity = pulses)");
	/* only when nothing else is wrong: otherwise it is just noise */
	if (prof != NULL && c->driver == PROFILE_MODBUS && p->nregs == 0 &&
	    c->d->n == c->errors_before)
		diag_add(c->d, c->file, prof->line, "no [value] section: the profile maps nothing");
	if (prof != NULL && (c->driver == PROFILE_MQTT || c->driver == PROFILE_SPARKPLUG) &&
	    p->nfields == 0 &&
	    c->d->n == c->errors_before)
		diag_add(c->d, c->file, prof->line, "no [field] section: the profile maps nothing");
}

static char *name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
		n -= 4;
	return util_strndup(base, n);
}

struct profile *profile_load(const char *path, const char *name, struct diag *d)
{
	static const struct inifile_opts opts = {
		.max_line = PROFILE_MAX_LINE,
		.section_hint = "add [profile], [value QUANTITY] or [field PATH]",
	};
	struct inifile *doc;
	struct ctx c;
	struct profile *p;
	size_t before = d->n;

	doc = inifile_load(path, PROFILE_FILE_MAX, &opts, d, NULL);
	if (doc == NULL)
		return NULL;

	memset(&c, 0, sizeof(c));
	c.file = path;
	c.d = d;
	c.driver = -1;
	c.function = 3;
	c.type = REG_FLOAT32;
	c.order = WO_ABCD;
	c.scale = 1;
	c.errors_before = before;

	p = util_calloc(1, sizeof(*p));
	p->name = name != NULL ? util_strdup(name) : name_from_path(path);
	p->path = util_strdup(path);
	p->format = PAYLOAD_JSON;
	validate(&c, doc, p);
	inifile_free(doc);
	if (d->n != before) {
		profile_free(p);
		return NULL;
	}
	return p;
}

void profile_free(struct profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	free(p->name);
	free(p->path);
	free(p->vendor);
	free(p->model);
	free(p->regs);
	for (i = 0; i < p->ncontainers; i++)
		free(p->containers[i]);
	free(p->containers);
	for (i = 0; i < p->nfields; i++)
		free(p->fields[i].path);
	free(p->fields);
	free(p);
}

struct profile *profile_with_pulses(const struct profile *p, unsigned qty, double si)
{
	struct profile *c = util_calloc(1, sizeof(*c));
	size_t i;

	*c = *p;
	c->name = util_strdup(p->name);
	c->path = util_strdup(p->path);
	c->vendor = p->vendor != NULL ? util_strdup(p->vendor) : NULL;
	c->model = p->model != NULL ? util_strdup(p->model) : NULL;
	c->regs = p->nregs ? util_calloc(p->nregs, sizeof(*c->regs)) : NULL;
	for (i = 0; i < p->nregs; i++) {
		c->regs[i] = p->regs[i];
		if (c->regs[i].qty == PROFILE_PULSES) {
			c->regs[i].qty = (int)qty;
			c->regs[i].scale *= si;
		}
	}
	c->containers = p->ncontainers ? util_calloc(p->ncontainers, sizeof(char *)) : NULL;
	for (i = 0; i < p->ncontainers; i++)
		c->containers[i] = util_strdup(p->containers[i]);
	c->fields = p->nfields ? util_calloc(p->nfields, sizeof(*c->fields)) : NULL;
	for (i = 0; i < p->nfields; i++) {
		c->fields[i] = p->fields[i];
		c->fields[i].path = util_strdup(p->fields[i].path);
		if (c->fields[i].qty == PROFILE_PULSES) {
			c->fields[i].qty = (int)qty;
			c->fields[i].scale *= si;
		}
	}
	c->pulses = false;
	return c;
}

bool profile_maps(const struct profile *p, int qty)
{
	size_t i;
	int k;

	for (i = 0; i < p->nregs; i++)
		if (p->regs[i].qty == qty)
			return true;
	for (i = 0; i < p->nfields; i++) {
		if (p->fields[i].qty == qty)
			return true;
		for (k = 0; k < 3; k++)
			if (p->fields[i].phase_qty[k] == qty)
				return true;
	}
	return false;
}

/* ---- search path ------------------------------------------------------- */

static const char *const shipped[] = {
	"pac3200", "sdm630", "iem3000", "umg96rm",
	"shelly-pro3em", "shelly-3em", "tasmota",
	"gas-meter", "water-meter", "air-flow", "pulse-counter", "utility-json",
	"tasmota-counter", NULL
};

const char *const *profile_known_names(void)
{
	return shipped;
}

bool profile_shipped(const char *name)
{
	size_t i;

	for (i = 0; shipped[i] != NULL; i++)
		if (strcmp(shipped[i], name) == 0)
			return true;
	return false;
}

const char *profile_suggest(const char *name)
{
	const char *near = util_closest(name, shipped);

	return near != NULL && strcmp(near, name) != 0 ? near : NULL;
}

int profile_find(const char *name, char *buf, size_t size)
{
	return util_find_ini("PHASOR_PROFILES", "conf/profiles", "profiles", name, buf, size);
}
