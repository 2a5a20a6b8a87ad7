/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_PROFILE_H
#define PHASOR_PROFILE_H
/*
 * profile: a meter model's map, loaded from conf/profiles/NAME.ini.
 *
 * A Modbus profile lists, per quantity, where the value lives (function
 * code, PDU address), how it is encoded (type, word order), a scale to SI and
 * optional vendor sentinels; plus the device's maximum registers per request
 * and how many unmapped registers a read may span. An MQTT profile maps JSON
 * fields (or, for plain payloads, topic suffixes) to quantities with a scale;
 * a Sparkplug B profile maps metric names the same way (struct
 * profile_field, path = the metric's name, qty, scale).
 * The file format is documented in docs/profiles.md.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/diag.h"

enum profile_driver { PROFILE_MODBUS, PROFILE_MQTT, PROFILE_SPARKPLUG };

enum reg_type {
	REG_INT16, REG_UINT16, REG_INT32, REG_UINT32,
	REG_INT64, REG_UINT64, REG_FLOAT32, REG_FLOAT64
};

/*
 * Byte order of a multi-register value, named by where the most significant
 * byte "A" lands: ABCD big-endian words high word first (Modbus' usual),
 * CDAB low word first, BADC bytes swapped in each word, DCBA little-endian.
 * For 64-bit values the same rule extends to four words (ABCD = words 0..3
 * high first, CDAB = words 3..0, ...). For 16-bit values ABCD = CDAB and
 * BADC = DCBA (byte swap).
 */
enum word_order { WO_ABCD, WO_CDAB, WO_BADC, WO_DCBA };

#define PROFILE_MAX_SENTINELS 4

/*
 * The quantity of a pulse counter's value ([value pulses], quantity =
 * pulses): a count, stored as volume or e_imp once the meter's pulse_value
 * says what a pulse is (profile_with_pulses). Never stored as such.
 */
#define PROFILE_PULSES (-2)

/* The longest line of a profile file, without its line end (comment lines
 * may be longer). */
#define PROFILE_MAX_LINE 200

struct profile_reg {
	int qty;               /* enum qty_id, or PROFILE_PULSES */
	uint8_t function;      /* 3 (holding) or 4 (input) */
	uint16_t address;      /* PDU address of the first register */
	enum reg_type type;
	enum word_order order;
	double scale;          /* SI value = raw * scale + offset (scale includes
				* the factor of the value's unit =) */
	double offset;         /* 0 but for unit = degF or K */
	uint64_t sentinel[PROFILE_MAX_SENTINELS]; /* raw bit patterns meaning "no value" */
	unsigned nsentinels;
	int line;              /* line of its section, for messages */
};

enum payload_format { PAYLOAD_JSON, PAYLOAD_PLAIN };

struct profile_field {
	/*
	 * JSON: a dotted path from the payload object (or a container), e.g.
	 * "a_voltage" or "ENERGY.Power". PLAIN: a topic suffix, e.g.
	 * "emeter/0/power", matched against the end of the message topic.
	 */
	char *path;
	int qty;               /* quantity when the field is a number, or -1 */
	int phase_qty[3];      /* quantities when it is a 3-element array, or -1 */
	double scale;          /* as a register's, unit = included */
	double offset;
	int line;
};

struct profile {
	char *name;            /* "pac3200" */
	char *path;            /* the file it came from */
	char *vendor, *model;  /* may be NULL */
	enum profile_driver driver;
	int utility;           /* enum utility: [profile] utility, default electricity */
	bool utility_set;      /* the profile said so */
	bool pulses;           /* a value or field counts pulses (PROFILE_PULSES) */
	/* [profile] pulse_value: the default for its meters; pulse_line 0: none */
	unsigned pulse_qty;    /* QTY_VOLUME or QTY_E_IMP */
	double pulse_si;       /* m3 or Wh per pulse */
	int pulse_line;

	/* Modbus */
	int max_registers;     /* per request, 1..125 */
	int max_gap;           /* unmapped registers a read may span (0: none) */
	struct profile_reg *regs;
	size_t nregs;

	/* MQTT */
	enum payload_format format;
	char **containers;     /* extra JSON objects to look into, e.g. "params.em:0" */
	size_t ncontainers;
	struct profile_field *fields;
	size_t nfields;
};

/*
 * Load and validate a profile file. Every error goes to d as file:line and
 * the function returns NULL when there was at least one; otherwise a new
 * profile the caller frees with profile_free().
 */
struct profile *profile_load(const char *path, const char *name, struct diag *d);
void profile_free(struct profile *p);

/*
 * A copy of p (which counts pulses) where each pulse count is stored as
 * qty (QTY_VOLUME or QTY_E_IMP) with si contract units per pulse (its scale
 * multiplied by si). The caller frees it with profile_free().
 */
struct profile *profile_with_pulses(const struct profile *p, unsigned qty, double si);
/* Does p map quantity qty (a register, a field's number or an element)? */
bool profile_maps(const struct profile *p, int qty);

/*
 * Find NAME.ini along the profile search path: the directories of
 * $PHASOR_PROFILES (colon separated), conf/profiles/ of the source tree when
 * running from the build tree, then ../share/phasor/profiles beside the
 * binary (an installed, possibly relocated tree), then the compiled-in
 * PREFIX/share/phasor/profiles. Writes the
 * path into buf and returns 0, or -1 when not found.
 */
int profile_find(const char *name, char *buf, size_t size);

/* The names of the shipped profiles found on the search path (NULL-ended,
 * static strings): for "unknown profile" suggestions. */
const char *const *profile_known_names(void);
/* The shipped name closest to name, NULL when none is close or name is one
 * of them (it was then not found where profiles are searched). */
const char *profile_suggest(const char *name);
/* name is one of the profiles phasor ships. */
bool profile_shipped(const char *name);
/* Where profile_find searches, for messages. */
#define PROFILE_SEARCHED \
	"$PHASOR_PROFILES, conf/profiles, " PHASOR_PREFIX "/share/phasor/profiles"

/* Number of registers of a type (1, 2 or 4). */
int profile_type_words(enum reg_type t);
/* Parsers and names for the enums: -1 when unknown. */
int profile_type_parse(const char *s);
const char *profile_type_name(enum reg_type t);
int profile_order_parse(const char *s);
const char *profile_order_name(enum word_order o);

#endif
