// SPDX-License-Identifier: MIT
/*
 * profile: the shipped profiles load cleanly and match an address table
 * typed independently from the domain brief (tests/data/
 * profile_addresses.txt); bad profiles give exact file:line messages, all
 * of them in one pass; the search path and the enum helpers.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "phasor/diag.h"
#include "phasor/profile.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "support.h"

/* ---- helpers ------------------------------------------------------------------ */

static const char *srcdir(void)
{
	return test_srcdir();
}

static char tmpdir[64];

static int setup_tmp(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/phasor-test-profile-XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown_tmp(void **state)
{
	DIR *dir = opendir(tmpdir);
	struct dirent *e;

	(void)state;
	if (dir != NULL) {
		while ((e = readdir(dir)) != NULL) {
			char *p;

			if (e->d_name[0] == '.')
				continue;
			p = util_printf("%s/%s", tmpdir, e->d_name);
			unlink(p);
			free(p);
		}
		closedir(dir);
	}
	rmdir(tmpdir);
	return 0;
}

/* Write text to tmpdir/name; returns the path (caller frees). */
static char *write_tmp(const char *name, const char *text)
{
	char *path = util_printf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void use_shipped_dir(void)
{
	char *dir = util_printf("%s/conf/profiles", srcdir());

	assert_int_equal(setenv("PHASOR_PROFILES", dir, 1), 0);
	free(dir);
}

/* Load a shipped profile through the search path; zero diagnostics. */
static struct profile *load_shipped(const char *name)
{
	char path[PATH_MAX];
	struct diag d;
	struct profile *p;

	use_shipped_dir();
	if (profile_find(name, path, sizeof(path)) != 0)
		fail_msg("profile %s not found", name);
	diag_init(&d);
	p = profile_load(path, name, &d);
	if (p == NULL || d.n != 0) {
		diag_print(&d, stderr);
		fail_msg("%s: %zu diagnostics", path, d.n);
	}
	diag_clear(&d);
	return p;
}

/* ---- shipped profiles ---------------------------------------------------------- */

static void test_shipped_load_clean(void **state)
{
	const char *const *names = profile_known_names();
	size_t i;

	(void)state;
	for (i = 0; names[i] != NULL; i++) {
		struct profile *p = load_shipped(names[i]);
		char *want = util_printf("%s/conf/profiles/%s.ini", srcdir(), names[i]);

		assert_string_equal(p->name, names[i]);
		assert_string_equal(p->path, want);
		assert_non_null(p->vendor);
		assert_non_null(p->model);
		if (p->driver == PROFILE_MODBUS) {
			assert_true(p->nregs > 0);
			assert_int_equal(p->nfields, 0);
		} else {
			assert_true(p->nfields > 0);
			assert_int_equal(p->nregs, 0);
		}
		free(want);
		profile_free(p);
	}
	assert_int_equal(i, 13);
}

/* Every .ini in conf/profiles is a known name and every known name ships. */
static void test_known_names_match_files(void **state)
{
	const char *const *names = profile_known_names();
	char *dirpath = util_printf("%s/conf/profiles", srcdir());
	DIR *dir = opendir(dirpath);
	struct dirent *e;
	size_t files = 0, i;

	(void)state;
	assert_non_null(dir);
	while ((e = readdir(dir)) != NULL) {
		size_t n = strlen(e->d_name);
		bool known = false;

		if (n < 5 || strcmp(e->d_name + n - 4, ".ini") != 0)
			continue;
		files++;
		for (i = 0; names[i] != NULL; i++)
			if (strlen(names[i]) == n - 4 && strncmp(names[i], e->d_name, n - 4) == 0)
				known = true;
		if (!known)
			fail_msg("%s is not in profile_known_names()", e->d_name);
	}
	closedir(dir);
	free(dirpath);
	for (i = 0; names[i] != NULL; i++)
		;
	assert_int_equal(files, i);
}

static void test_shipped_drivers(void **state)
{
	static const struct {
		const char *name;
		enum profile_driver driver;
		int max_registers, max_gap;
		enum payload_format format;
		const char *containers;
	} want[] = {
		{ "pac3200", PROFILE_MODBUS, 125, 6, 0, NULL },
		{ "sdm630", PROFILE_MODBUS, 50, 0, 0, NULL },
		{ "iem3000", PROFILE_MODBUS, 125, 0, 0, NULL },
		{ "umg96rm", PROFILE_MODBUS, 125, 2, 0, NULL },
		{ "shelly-pro3em", PROFILE_MQTT, 0, 0, PAYLOAD_JSON, "params.em:0,params.emdata:0" },
		{ "shelly-3em", PROFILE_MQTT, 0, 0, PAYLOAD_PLAIN, "" },
		{ "tasmota", PROFILE_MQTT, 0, 0, PAYLOAD_JSON, "" },
		{ "gas-meter", PROFILE_MODBUS, 125, 0, 0, NULL },
		{ "water-meter", PROFILE_MODBUS, 100, 0, 0, NULL },
		{ "air-flow", PROFILE_MODBUS, 125, 0, 0, NULL },
		{ "pulse-counter", PROFILE_MODBUS, 125, 0, 0, NULL },
		{ "utility-json", PROFILE_MQTT, 0, 0, PAYLOAD_JSON, "" },
		{ "tasmota-counter", PROFILE_MQTT, 0, 0, PAYLOAD_JSON, "" },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(want); i++) {
		struct profile *p = load_shipped(want[i].name);

		assert_int_equal(p->driver, want[i].driver);
		if (p->driver == PROFILE_MODBUS) {
			assert_int_equal(p->max_registers, want[i].max_registers);
			assert_int_equal(p->max_gap, want[i].max_gap);
			/* every shipped Modbus map is big-endian, high word
			 * first, but the water meter's (low word first) */
			for (k = 0; k < p->nregs; k++)
				assert_int_equal(p->regs[k].order,
						 strcmp(p->name, "water-meter") == 0 ? WO_CDAB
										 : WO_ABCD);
		} else {
			char joined[128] = "";

			assert_int_equal(p->format, want[i].format);
			for (k = 0; k < p->ncontainers; k++) {
				if (k > 0)
					strcat(joined, ",");
				strcat(joined, p->containers[k]);
			}
			assert_string_equal(joined, want[i].containers);
		}
		profile_free(p);
	}
}

/* Schneider's "not available" patterns are sentinels of every iEM value. */
static void test_iem3000_sentinels(void **state)
{
	struct profile *p = load_shipped("iem3000");
	size_t k;

	(void)state;
	for (k = 0; k < p->nregs; k++) {
		const struct profile_reg *r = &p->regs[k];

		if (r->type == REG_FLOAT32) {
			assert_int_equal(r->nsentinels, 2);
			assert_int_equal(r->sentinel[0], 0x7FC00000);
			assert_int_equal(r->sentinel[1], 0xFFC00000);
		} else {
			assert_int_equal(r->type, REG_INT64);
			assert_int_equal(r->nsentinels, 1);
			assert_true(r->sentinel[0] == UINT64_C(0x8000000000000000));
		}
	}
	profile_free(p);
}

/*
 * The address table. Modbus rows: profile quantity function address type
 * scale. MQTT rows: profile quantity path element scale.
 */
static void test_address_table(void **state)
{
	char *path = util_printf("%s/tests/data/profile_addresses.txt", srcdir());
	FILE *f = fopen(path, "r");
	const char *const *names = profile_known_names();
	struct profile *profs[16] = { 0 };
	/* matched[profile][reg] (Modbus) or matched[profile][field*4 + slot] */
	bool *matched[16] = { 0 };
	char line[256];
	int lineno = 0, rows = 0;
	size_t i, k;

	(void)state;
	assert_non_null(f);
	for (i = 0; names[i] != NULL; i++) {
		profs[i] = load_shipped(names[i]);
		matched[i] = util_calloc(profs[i]->nregs + 4 * profs[i]->nfields + 1, sizeof(bool));
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *tok[7], *save = NULL, *s;
		int n = 0, q;
		struct profile *p = NULL;
		bool *m = NULL;
		double scale;

		lineno++;
		for (s = strtok_r(line, " \t\r\n", &save); s != NULL && n < 7;
		     s = strtok_r(NULL, " \t\r\n", &save))
			tok[n++] = s;
		if (n == 0 || tok[0][0] == '#')
			continue;
		for (i = 0; names[i] != NULL; i++)
			if (strcmp(tok[0], names[i]) == 0) {
				p = profs[i];
				m = matched[i];
			}
		if (p == NULL)
			fail_msg("table line %d: unknown profile %s", lineno, tok[0]);
		q = strcmp(tok[1], "pulses") == 0 ? PROFILE_PULSES : qty_lookup(tok[1]);
		if (q == -1)
			fail_msg("table line %d: unknown quantity %s", lineno, tok[1]);
		rows++;
		if (p->driver == PROFILE_MODBUS) {
			long fc, addr;
			const struct profile_reg *r = NULL;

			assert_int_equal(n, 6);
			assert_int_equal(util_parse_long(tok[2], 3, 4, &fc), 0);
			assert_int_equal(util_parse_long(tok[3], 0, 65535, &addr), 0);
			assert_int_equal(util_parse_double(tok[5], &scale), 0);
			for (k = 0; k < p->nregs; k++)
				if (p->regs[k].qty == q) {
					r = &p->regs[k];
					m[k] = true;
				}
			if (r == NULL)
				fail_msg("table line %d: %s has no %s", lineno, tok[0], tok[1]);
			if (r->function != fc || r->address != addr ||
			    strcmp(profile_type_name(r->type), tok[4]) != 0 || r->scale != scale)
				fail_msg("table line %d: %s %s is fc %u address %u %s scale %g, want fc %ld address %ld %s scale %g",
					 lineno, tok[0], tok[1], r->function, r->address,
					 profile_type_name(r->type), r->scale, fc, addr, tok[4], scale);
		} else {
			const struct profile_field *fld = NULL;
			int slot;

			assert_int_equal(n, 5);
			assert_int_equal(util_parse_double(tok[4], &scale), 0);
			slot = strcmp(tok[3], "-") == 0 ? 3 : atoi(tok[3]);
			assert_true(slot >= 0 && slot <= 3);
			for (k = 0; k < p->nfields; k++)
				if (strcmp(p->fields[k].path, tok[2]) == 0) {
					fld = &p->fields[k];
					m[4 * k + (size_t)slot] = true;
				}
			if (fld == NULL)
				fail_msg("table line %d: %s has no field %s", lineno, tok[0], tok[2]);
			if ((slot == 3 ? fld->qty : fld->phase_qty[slot]) != q || fld->scale != scale)
				fail_msg("table line %d: %s %s %s maps %s scale %g", lineno, tok[0],
					 tok[2], tok[3],
					 (slot == 3 ? fld->qty : fld->phase_qty[slot]) < 0
						 ? "nothing"
						 : qty_name((unsigned)(slot == 3 ? fld->qty : fld->phase_qty[slot])),
					 fld->scale);
		}
	}
	fclose(f);

	/* nothing mapped that the table does not list */
	for (i = 0; names[i] != NULL; i++) {
		const struct profile *p = profs[i];

		for (k = 0; k < p->nregs; k++)
			if (!matched[i][k])
				fail_msg("%s maps %s, not in the table", p->name,
					 qty_name((unsigned)p->regs[k].qty));
		for (k = 0; k < p->nfields; k++) {
			int slot;

			for (slot = 0; slot < 4; slot++) {
				int q = slot == 3 ? p->fields[k].qty : p->fields[k].phase_qty[slot];

				if (q >= 0 && !matched[i][4 * k + (size_t)slot])
					fail_msg("%s field %s slot %d maps %s, not in the table", p->name,
						 p->fields[k].path, slot, qty_name((unsigned)q));
			}
		}
		profile_free(profs[i]);
		free(matched[i]);
	}
	/* the table itself is complete: 36 + 37 + 18 + 35 Modbus, 27 + 18 + 29 MQTT;
	 * utility meters 4 + 3 + 4 + 1 Modbus, 4 + 2 MQTT */
	assert_int_equal(rows, 218);
	free(path);
}

/* ---- bad profiles --------------------------------------------------------------- */

struct bad_case {
	const char *name;
	const char *text;
	const char *want[24]; /* "LINE: message" or ": message" (no line), NULL-ended */
};

static const struct bad_case bad_cases[] = {
	{ "modbus-many",
	  "# bad modbus profile\n"                  /* 1 */
	  "[profile]\n"                             /* 2 */
	  "driver = modbus\n"                       /* 3 */
	  "vendor = Acme\n"                         /* 4 */
	  "max_registers = 126\n"                   /* 5 */
	  "max_gap = -1\n"                          /* 6 */
	  "function = 5\n"                          /* 7 */
	  "type = flaot32\n"                        /* 8 */
	  "word_order = ABCE\n"                     /* 9 */
	  "scale = 0\n"                             /* 10 */
	  "format = json\n"                         /* 11 */
	  "colour = red\n"                          /* 12 */
	  "\n"                                      /* 13 */
	  "[value v_l1n]\n"                         /* 14 */
	  "address = 1x\n"                          /* 15 */
	  "\n"                                      /* 16 */
	  "[value v_l1n]\n"                         /* 17 */
	  "address = 3\n"                           /* 18 */
	  "\n"                                      /* 19 */
	  "[value v_lin]\n"                         /* 20 */
	  "address = 5\n"                           /* 21 */
	  "\n"                                      /* 22 */
	  "[value v_l2n]\n"                         /* 23 */
	  "type = float32\n"                        /* 24 */
	  "\n"                                      /* 25 */
	  "[value v_l3n]\n"                         /* 26 */
	  "address = 70000\n"                       /* 27 */
	  "\n"                                      /* 28 */
	  "[value e_imp]\n"                         /* 29 */
	  "address = 65534\n"                       /* 30 */
	  "type = float64\n"                        /* 31 */
	  "\n"                                      /* 32 */
	  "[value i_l1]\n"                          /* 33 */
	  "adress = 9\n"                            /* 34 */
	  "address = 9\n"                           /* 35 */
	  "address = 11\n"                          /* 36 */
	  "sentinel = 0x1FFFF, 0xFFFF\n"            /* 37 */
	  "type = uint16\n"                         /* 38 */
	  "\n"                                      /* 39 */
	  "[values i_l2]\n"                         /* 40 */
	  "address = 13\n"                          /* 41 */
	  "\n"                                      /* 42 */
	  "[field a_current]\n"                     /* 43 */
	  "quantity = i_l3\n"                       /* 44 */
	  "\n"                                      /* 45 */
	  "[value i_n]\n"                           /* 46 */
	  "address = 20\n"                          /* 47 */
	  "sentinel = 1, 2, 3, 4, 5\n"              /* 48 */
	  "[value p_l1]\n"                          /* 49 */
	  "address = 30\n"                          /* 50 */
	  "function = 1\n"                          /* 51 */
	  "scale = 1e999\n"                         /* 52 */
	  "sentinel = 12, banana\n",                /* 53 */
	  { "5: max_registers 126 out of range 1..125",
	    "6: max_gap -1 out of range 0..125",
	    "7: function must be 3 (holding registers) or 4 (input registers), not 5",
	    "8: unknown type 'flaot32' (did you mean 'float32'?)",
	    "9: unknown word_order 'ABCE' (did you mean 'ABCD'?)",
	    "10: scale must be a finite non-zero number",
	    "11: 'format' is for MQTT profiles; this profile has driver = modbus",
	    "12: unknown key 'colour'",
	    "15: bad number '1x' for address",
	    "17: duplicate quantity v_l1n (first at line 14)",
	    "20: unknown quantity 'v_lin' (did you mean 'v_l1n'?)",
	    "23: [value v_l2n] has no address",
	    "27: address 70000 out of range 0..65535",
	    "30: float64 at address 65534 would pass register 65535",
	    "34: unknown key 'adress' (did you mean 'address'?)",
	    "36: duplicate key 'address' (first at line 35)",
	    "37: sentinel 0x1FFFF does not fit in uint16",
	    "40: unknown section [values i_l2] (did you mean [value i_l2]?)",
	    "43: [field] sections are for MQTT profiles; this one has driver = modbus (use [value QUANTITY])",
	    "48: at most 4 sentinels",
	    "51: function must be 3 (holding registers) or 4 (input registers), not 1",
	    "52: bad number '1e999' for scale",
	    "53: bad number 'banana' for sentinel",
	    NULL } },
	{ "mqtt-many",
	  "[profile]\n"                             /* 1 */
	  "driver = mqtt\n"                         /* 2 */
	  "format = xml\n"                          /* 3 */
	  "max_registers = 10\n"                    /* 4 */
	  "containers = params.em:0, , a..b\n"      /* 5 */
	  "\n"                                      /* 6 */
	  "[field a_voltage]\n"                     /* 7 */
	  "quantity = v_l1n\n"                      /* 8 */
	  "\n"                                      /* 9 */
	  "[field b_voltage]\n"                     /* 10 */
	  "quantity = v_l1n\n"                      /* 11 */
	  "\n"                                      /* 12 */
	  "[field ENERGY.Power]\n"                  /* 13 */
	  "phases = p_l1, p_l2\n"                   /* 14 */
	  "\n"                                      /* 15 */
	  "[field ENERGY.Current]\n"                /* 16 */
	  "phases = i_l1, i_lx, i_l3\n"             /* 17 */
	  "scale = abc\n"                           /* 18 */
	  "\n"                                      /* 19 */
	  "[field c_pf]\n"                          /* 20 */
	  "\n"                                      /* 21 */
	  "[value v_l2n]\n"                         /* 22 */
	  "address = 1\n"                           /* 23 */
	  "\n"                                      /* 24 */
	  "[field a_voltage]\n"                     /* 25 */
	  "quantity = v_l2n\n"                      /* 26 */
	  "units = V\n"                             /* 27 */
	  "[field ENERGY.Voltage]\n"                /* 28 */
	  "phases = v_l3n, v_l3n, i_n\n"            /* 29 */
	  "[field ENERGY..Factor]\n"                /* 30 */
	  "quantity = pf_total\n"                   /* 31 */
	  "[field]\n"                               /* 32 */
	  "quantity = freq\n",                      /* 33 */
	  { "3: unknown format 'xml'",
	    "4: 'max_registers' is for Modbus profiles; this profile has driver = mqtt",
	    "5: bad container path ''",
	    "5: bad container path 'a..b'",
	    "11: duplicate quantity v_l1n (first at line 7)",
	    "14: phases needs 3 quantities (L1, L2, L3), got 2",
	    "17: unknown quantity 'i_lx' (did you mean 'i_l1'?)",
	    "18: bad number 'abc' for scale",
	    "20: [field c_pf] needs quantity or phases",
	    "22: [value] sections are for Modbus profiles; this one has driver = mqtt (use [field PATH])",
	    "25: duplicate section [field a_voltage] (first at line 7)",
	    "27: unknown key 'units' (did you mean 'unit'?)",
	    "29: phases names v_l3n twice",
	    "30: bad JSON path 'ENERGY..Factor'",
	    "32: [field] needs a path, e.g. [field ENERGY.Power] or [field emeter/0/power]",
	    NULL } },
	{ "plain",
	  "[profile]\n"                             /* 1 */
	  "driver = mqtt\n"                         /* 2 */
	  "format = plain\n"                        /* 3 */
	  "containers = a\n"                        /* 4 */
	  "[field emeter/0/power]\n"                /* 5 */
	  "phases = p_l1, p_l2, p_l3\n"             /* 6 */
	  "[field /emeter/1/power]\n"               /* 7 */
	  "quantity = p_l2\n"                       /* 8 */
	  "[field emeter/2/power]\n"                /* 9 */
	  "quantity = p_l3\n"                       /* 10 */
	  "scale = 1\n"                             /* 11 */
	  "driver = mqtt\n",                        /* 12 */
	  { "4: containers needs format = json",
	    "6: phases needs format = json (a plain payload is one number)",
	    "7: bad topic path '/emeter/1/power'",
	    "12: unknown key 'driver'",
	    NULL } },
	{ "structure",
	  "vendor = Nobody\n"                       /* 1 */
	  "[profile\n"                              /* 2 */
	  "driver = modbus\n"                       /* 3: dropped with its header */
	  "[profile]\n"                             /* 4 */
	  "vendor = Acme\n"                         /* 5 */
	  "max_registers = 10\n"                    /* 6 */
	  "this line has no equals sign\n"          /* 7 */
	  "[profile]\n"                             /* 8 */
	  "[value v_l1n]\n"                         /* 9 */
	  "address = 1\n"                           /* 10 */
	  "@LONG@\n"                                /* 11 */
	  "@LONGCOMMENT@\n"                         /* 12: fine */
	  "[profile extra]\n"                       /* 13 */
	  "[value]\n"                               /* 14 */
	  "address = 3\n"                           /* 15 */
	  "[widget]\n",                             /* 16 */
	  { "1: key 'vendor' is outside any section (add [profile], [value QUANTITY] or [field PATH])",
	    "2: missing ']' in section header",
	    "7: expected 'key = value' or '[section]', found: this line has no equals sign",
	    "11: line is too long (@LEN@ characters, at most @MAX@)",
	    "8: duplicate section [profile] (first at line 4)",
	    "13: duplicate section [profile] (first at line 4)",
	    "4: missing driver (modbus, mqtt or sparkplug)",
	    "14: [value] needs a quantity name, e.g. [value v_l1n]",
	    "16: unknown section [widget] (expected [profile], [value QUANTITY] or [field PATH])",
	    NULL } },
	{ "sparkplug",
	  "[profile]\n"                             /* 1 */
	  "driver = sparkplug\n"                    /* 2 */
	  "format = json\n"                         /* 3 */
	  "scale = 10\n"                            /* 4 */
	  "[field Voltage L1]\n"                    /* 5 */
	  "phases = v_l1n, v_l2n, v_l3n\n"          /* 6 */
	  "[value freq]\n"                          /* 7 */
	  "address = 1\n"                           /* 8 */
	  "[field Power]\n"                         /* 9 */
	  "quantity = p_total\n",                   /* 10 */
	  { "3: 'format' is for MQTT profiles; this profile has driver = sparkplug",
	    "4: 'scale' is for Modbus profiles; this profile has driver = sparkplug",
	    "6: phases is for JSON arrays; a Sparkplug metric is one value (use quantity)",
	    "7: [value] sections are for Modbus profiles; this one has driver = sparkplug (use "
	    "[field METRIC])",
	    NULL } },
	{ "header-text",
	  "[profile] modbus\n"
	  "driver = modbus\n"
	  "max_registers = 10\n"
	  "= 5\n"
	  "[value freq]\n"
	  "address = 1\n",
	  { "1: unexpected text after ']': modbus", "4: missing key name before '='", NULL } },
	{ "no-profile",
	  "[value v_l1n]\n"
	  "address = 1\n",
	  { ": missing [profile] section", NULL } },
	{ "bad-driver",
	  "[profile]\n"
	  "driver = modbis\n",
	  { "2: unknown driver 'modbis' (did you mean 'modbus'?)", NULL } },
	{ "no-max-registers",
	  "; comment\n"
	  "[profile]\n"
	  "driver = modbus\n"
	  "[value freq]\n"
	  "address = 55\n",
	  { "2: missing max_registers (registers per request, 1..125)", NULL } },
	{ "empty-modbus",
	  "[profile]\n"
	  "driver = modbus\n"
	  "max_registers = 125\n",
	  { "1: no [value] section: the profile maps nothing", NULL } },
	{ "empty-mqtt",
	  "\n[profile]\n"
	  "driver = mqtt\n",
	  { "2: no [field] section: the profile maps nothing", NULL } },
	{ "empty-file", "", { ": missing [profile] section", NULL } },
	{ "profile-named",
	  "[profile pac]\n"
	  "driver = modbus\n"
	  "max_registers = 1\n"
	  "[value v_l1n]\n"
	  "address = 0\n"
	  "[value v_l2n]\n"
	  "address = 65535\n"
	  "type = uint16\n"
	  "[value v_l3n]\n"
	  "address = 65535\n",
	  { "1: [profile] takes no name",
	    "4: float32 takes 2 registers, more than max_registers (1)",
	    "10: float32 at address 65535 would pass register 65535",
	    NULL } },
};

/* Replace each @KEY@ of s by its value (caller frees). */
static char *expand(const char *s)
{
	int max = PROFILE_MAX_LINE;
	char *longline, *longcomment, *fits, *out;
	char num[32], lim[32];
	size_t cap, n = 0;
	const char *p;

	/* one character more than a profile line may hold: an error */
	longline = util_calloc((size_t)max + 2, 1);
	memcpy(longline, "vendor = ", 9);
	memset(longline + 9, 'x', (size_t)max + 1 - 9);
	/* a comment far longer than that: fine */
	longcomment = util_calloc((size_t)max * 3 + 1, 1);
	longcomment[0] = '#';
	memset(longcomment + 1, 'c', (size_t)max * 3 - 1);
	/* exactly as long as a line may be */
	fits = util_calloc((size_t)max + 1, 1);
	memcpy(fits, "model = ", 8);
	memset(fits + 8, 'm', (size_t)max - 8);
	snprintf(num, sizeof(num), "%d", max + 1);
	snprintf(lim, sizeof(lim), "%d", max);

	cap = strlen(s) + strlen(longline) + strlen(longcomment) + strlen(fits) + 64;
	out = util_malloc(cap);
	for (p = s; *p != '\0';) {
		static const char *const keys[] = { "@LONG@", "@LONGCOMMENT@", "@FIT@", "@LEN@",
						     "@MAX@" };
		const char *vals[] = { longline, longcomment, fits, num, lim };
		size_t k;
		bool done = false;

		for (k = 0; k < UTIL_ARRAY_LEN(keys) && !done; k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0) {
				memcpy(out + n, vals[k], strlen(vals[k]));
				n += strlen(vals[k]);
				p += strlen(keys[k]);
				done = true;
			}
		if (!done)
			out[n++] = *p++;
	}
	out[n] = '\0';
	free(longline);
	free(longcomment);
	free(fits);
	return out;
}

static void test_bad_profiles(void **state)
{
	size_t i, k, kinds = 0;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		char *text = expand(c->text), *file = util_printf("%s.ini", c->name);
		char *path = write_tmp(file, text);
		struct diag d;
		struct profile *p;
		size_t nwant = 0;

		diag_init(&d);
		/* an earlier diagnostic in d must not count against this file */
		diag_add(&d, "other.ini", 1, "earlier");
		p = profile_load(path, c->name, &d);
		assert_null(p);
		while (c->want[nwant] != NULL)
			nwant++;
		kinds += nwant;
		if (d.n != nwant + 1) {
			diag_print(&d, stderr);
			fail_msg("%s: %zu diagnostics, want %zu", c->name, d.n - 1, nwant);
		}
		assert_string_equal(d.lines[0], "other.ini:1: earlier");
		for (k = 0; k < nwant; k++) {
			char *want_msg = expand(c->want[k]);
			char *want = c->want[k][0] == ':' ? util_printf("%s%s", path, want_msg)
							  : util_printf("%s:%s", path, want_msg);

			if (strcmp(d.lines[k + 1], want) != 0)
				fail_msg("%s diagnostic %zu:\n  got  %s\n  want %s", c->name, k,
					 d.lines[k + 1], want);
			free(want);
			free(want_msg);
		}
		diag_clear(&d);
		free(path);
		free(file);
		free(text);
	}
	assert_true(kinds >= 40);
}

static void test_unreadable(void **state)
{
	struct diag d;
	char *path = util_printf("%s/does-not-exist.ini", tmpdir);
	char *want = util_printf("%s: cannot read: %s", path, strerror(ENOENT));

	(void)state;
	diag_init(&d);
	assert_null(profile_load(path, NULL, &d));
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], want);
	diag_clear(&d);
	free(want);
	free(path);
}

/* ---- a good custom profile with every feature ------------------------------------ */

static void test_custom_profile(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF# BOM, CRLF, indented keys, [profile] last\r\n" /* 1 */
		"[value v_l1n]\r\n"                                           /* 2 */
		"  address = 0x10   ; hex, indented, inline comment\r\n"      /* 3 */
		"\r\n"                                                        /* 4 */
		"[value i_l1]\r\n"                                            /* 5 */
		"\taddress = 020\r\n"                                         /* 6: decimal */
		"type = int16\r\n"                                            /* 7 */
		"scale = 0.01\r\n"                                            /* 8 */
		"sentinel = -1, 0x8000, 32767\r\n"                            /* 9 */
		"word_order = badc\r\n"                                       /* 10 */
		"function = 3\r\n"                                            /* 11 */
		"[value e_imp]\r\n"                                           /* 12 */
		"address = 65532\r\n"                                         /* 13 */
		"type = uint64\r\n"                                           /* 14 */
		"sentinel = 0xFFFFFFFFFFFFFFFF\r\n"                           /* 15 */
		"[profile]\r\n"                                               /* 16 */
		"driver = modbus\r\n"                                         /* 17 */
		"max_registers = 60\r\n"                                      /* 18 */
		"type = uint32\r\n"                                           /* 19 */
		"word_order = CDAB\r\n"                                       /* 20 */
		"scale = 0.1\r\n"                                             /* 21 */
		"function = 4 \r\n"                                           /* 22 */
		"vendor = ACME Corp.\r\n"                                     /* 23 */
		"@LONGCOMMENT@\r\n"                                           /* 24 */
		"@FIT@\r\n";                                                  /* 25 */
	char *expanded = expand(text);
	char *path = write_tmp("custom-meter.ini", expanded);
	struct diag d;
	struct profile *p;

	(void)state;
	diag_init(&d);
	p = profile_load(path, NULL, &d);
	if (p == NULL) {
		diag_print(&d, stderr);
		fail_msg("custom profile does not load");
	}
	assert_int_equal(d.n, 0);
	assert_string_equal(p->name, "custom-meter");
	assert_string_equal(p->vendor, "ACME Corp.");
	assert_int_equal(strlen(p->model), PROFILE_MAX_LINE - 8);
	assert_int_equal(p->driver, PROFILE_MODBUS);
	assert_int_equal(p->max_registers, 60);
	assert_int_equal(p->max_gap, 0);
	assert_int_equal(p->nregs, 3);

	/* defaults from [profile], though it comes last */
	assert_int_equal(p->regs[0].qty, QTY_V_L1N);
	assert_int_equal(p->regs[0].address, 16);
	assert_int_equal(p->regs[0].function, 4);
	assert_int_equal(p->regs[0].type, REG_UINT32);
	assert_int_equal(p->regs[0].order, WO_CDAB);
	assert_true(p->regs[0].scale == 0.1);
	assert_int_equal(p->regs[0].nsentinels, 0);
	assert_int_equal(p->regs[0].line, 2);

	/* overrides */
	assert_int_equal(p->regs[1].qty, QTY_I_L1);
	assert_int_equal(p->regs[1].address, 20);
	assert_int_equal(p->regs[1].function, 3);
	assert_int_equal(p->regs[1].type, REG_INT16);
	assert_int_equal(p->regs[1].order, WO_BADC);
	assert_true(p->regs[1].scale == 0.01);
	assert_int_equal(p->regs[1].nsentinels, 3);
	assert_int_equal(p->regs[1].sentinel[0], 0xFFFF); /* -1 as int16 */
	assert_int_equal(p->regs[1].sentinel[1], 0x8000);
	assert_int_equal(p->regs[1].sentinel[2], 0x7FFF);
	assert_int_equal(p->regs[1].line, 5);

	/* the last four registers of the address space */
	assert_int_equal(p->regs[2].address, 65532);
	assert_int_equal(p->regs[2].type, REG_UINT64);
	assert_true(p->regs[2].sentinel[0] == UINT64_MAX);
	assert_int_equal(p->regs[2].line, 12);

	profile_free(p);
	free(path);
	free(expanded);
}

/* Metric names hold spaces and slashes. */
static void test_custom_sparkplug(void **state)
{
	static const char text[] = "[profile]\n"
				   "driver = sparkplug\n"
				   "[field Node Metrics/Voltage L1]\n"
				   "quantity = v_l1n\n"
				   "[field Power]\n"
				   "quantity = p_total\n"
				   "scale = 1000\n";
	char *path = write_tmp("sp.ini", text);
	struct diag d;
	struct profile *p;

	(void)state;
	diag_init(&d);
	p = profile_load(path, "sp", &d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->driver, PROFILE_SPARKPLUG);
	assert_int_equal(p->nfields, 2);
	assert_string_equal(p->fields[0].path, "Node Metrics/Voltage L1");
	assert_int_equal(p->fields[0].qty, QTY_V_L1N);
	assert_int_equal(p->fields[1].qty, QTY_P_TOTAL);
	assert_true(p->fields[1].scale == 1000);
	profile_free(p);
	free(path);
}

static void test_custom_mqtt(void **state)
{
	static const char text[] =
		"[profile]\n"
		"driver = mqtt\n"
		"vendor = Lab\n"
		"containers = params.em:0\n"
		"[field ENERGY.Total]\n"
		"quantity = e_imp\n"
		"phases = e_imp_l1 , e_imp_l2,e_imp_l3\n"
		"scale = 1000\n"
		"[field ENERGY.Voltage]\n"
		"phases = v_l1n, v_l2n, v_l3n\n";
	char *path = write_tmp("lab.ini", text);
	struct diag d;
	struct profile *p;

	(void)state;
	diag_init(&d);
	p = profile_load(path, "lab", &d);
	assert_non_null(p);
	assert_int_equal(d.n, 0);
	assert_int_equal(p->driver, PROFILE_MQTT);
	assert_int_equal(p->format, PAYLOAD_JSON); /* the default */
	assert_null(p->model);
	assert_int_equal(p->ncontainers, 1);
	assert_string_equal(p->containers[0], "params.em:0");
	assert_int_equal(p->nfields, 2);
	assert_string_equal(p->fields[0].path, "ENERGY.Total");
	assert_int_equal(p->fields[0].qty, QTY_E_IMP);
	assert_int_equal(p->fields[0].phase_qty[0], QTY_E_IMP_L1);
	assert_int_equal(p->fields[0].phase_qty[1], QTY_E_IMP_L2);
	assert_int_equal(p->fields[0].phase_qty[2], QTY_E_IMP_L3);
	assert_true(p->fields[0].scale == 1000);
	assert_int_equal(p->fields[0].line, 5);
	assert_int_equal(p->fields[1].qty, -1);
	assert_int_equal(p->fields[1].phase_qty[2], QTY_V_L3N);
	assert_true(p->fields[1].scale == 1);
	profile_free(p);
	free(path);
}

/* ---- search path ---------------------------------------------------------------- */

static void test_find(void **state)
{
	char buf[PATH_MAX], small[8];
	char *shipped = util_printf("%s/conf/profiles", srcdir());
	char *env = util_printf("/nonexistent:%s::%s", tmpdir, shipped);
	char *mine = write_tmp("pac3200.ini", "[profile]\n");
	char *want;

	(void)state;
	/* the first directory that has it wins */
	assert_int_equal(setenv("PHASOR_PROFILES", env, 1), 0);
	assert_int_equal(profile_find("pac3200", buf, sizeof(buf)), 0);
	assert_string_equal(buf, mine);
	want = util_printf("%s/sdm630.ini", shipped);
	assert_int_equal(profile_find("sdm630", buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	free(want);

	/* names, not paths */
	assert_int_equal(profile_find("../profiles/pac3200", buf, sizeof(buf)), -1);
	assert_int_equal(profile_find(".hidden", buf, sizeof(buf)), -1);
	assert_int_equal(profile_find("", buf, sizeof(buf)), -1);
	assert_int_equal(profile_find("no-such-meter", buf, sizeof(buf)), -1);
	/* a buffer too small is "not found", never a truncated path */
	assert_int_equal(profile_find("sdm630", small, sizeof(small)), -1);

	/* without the variable: the source tree above the test binary */
	assert_int_equal(unsetenv("PHASOR_PROFILES"), 0);
	assert_int_equal(profile_find("tasmota", buf, sizeof(buf)), 0);
	{
		char real[PATH_MAX];
		char *expect = util_printf("%s/tasmota.ini", shipped);

		assert_non_null(realpath(buf, real));
		assert_string_equal(real, expect);
		free(expect);
	}
	unlink(mine);
	free(mine);
	free(env);
	free(shipped);
}

/* ---- enums ----------------------------------------------------------------------- */

static void test_enum_names(void **state)
{
	static const char *const types[] = { "int16", "uint16", "int32", "uint32",
					     "int64", "uint64", "float32", "float64" };
	static const char *const orders[] = { "ABCD", "CDAB", "BADC", "DCBA" };
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		assert_int_equal(profile_type_parse(types[i]), i);
		assert_string_equal(profile_type_name((enum reg_type)i), types[i]);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(profile_order_parse(orders[i]), i);
		assert_string_equal(profile_order_name((enum word_order)i), orders[i]);
	}
	assert_int_equal(profile_order_parse("cdab"), WO_CDAB);
	assert_int_equal(profile_type_parse("FLOAT32"), -1);
	assert_int_equal(profile_type_parse("float"), -1);
	assert_int_equal(profile_type_parse(""), -1);
	assert_int_equal(profile_order_parse("ABDC"), -1);
	assert_int_equal(profile_order_parse(""), -1);
	assert_int_equal(profile_type_parse("int16") == REG_INT16, 1);
	assert_int_equal(profile_order_parse("DCBA") == WO_DCBA, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_load_clean),
		cmocka_unit_test(test_known_names_match_files),
		cmocka_unit_test(test_shipped_drivers),
		cmocka_unit_test(test_iem3000_sentinels),
		cmocka_unit_test(test_address_table),
		cmocka_unit_test(test_bad_profiles),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_custom_profile),
		cmocka_unit_test(test_custom_mqtt),
		cmocka_unit_test(test_custom_sparkplug),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_enum_names),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
