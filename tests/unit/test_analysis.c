// SPDX-License-Identifier: MIT
/*
 * Unit tests of analysis: the reference cases of
 * tests/data/analysis_reference.txt (inputs and hand-computed outputs, run
 * through analysis_compute), the parser of that file (a malformed line must
 * fail), and tables for the building blocks (bank sizes, tiers, names).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/analysis.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "support.h"

#define REF_FILE "analysis_reference.txt"

/* ---- what a case expects ---- */

enum vtype { V_NUM, V_BOOL, V_INT, V_STR };

struct got {
	enum vtype type;
	double num;
	long i;
	char str[ANALYSIS_REC_LEN + 64];
};

static const char *const risk_kind_names[RISK__COUNT] = {
	[RISK_OVERLOAD] = "overload",       [RISK_POOR_PF] = "poor_pf",
	[RISK_LOW_VOLTAGE] = "low_voltage", [RISK_HIGH_VOLTAGE] = "high_voltage",
	[RISK_UNBALANCE] = "unbalance",     [RISK_THD] = "thd",
	[RISK_FREQUENCY] = "frequency",     [RISK_PHASE_LOSS] = "phase_loss",
};

static int risk_kind_of(const char *name)
{
	int k;

	for (k = 0; k < RISK__COUNT; k++)
		if (strcmp(risk_kind_names[k], name) == 0)
			return k;
	return -1;
}

/* "_l1".."_l3" suffix of key after prefix: 0..2, or -1. */
static int phase_of(const char *key, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(key, prefix, n) != 0 || key[n] != '_' || key[n + 1] != 'l' ||
	    key[n + 2] < '1' || key[n + 2] > '3' || key[n + 3] != '\0')
		return -1;
	return key[n + 2] - '1';
}

static void set_num(struct got *g, double v)
{
	g->type = V_NUM;
	g->num = v;
}

static void set_bool(struct got *g, bool v)
{
	g->type = V_BOOL;
	g->i = v;
}

static void set_str(struct got *g, const char *s)
{
	g->type = V_STR;
	snprintf(g->str, sizeof(g->str), "%s", s);
}

/* The value of output key in r; -1 when the key is unknown. */
static int resolve(const char *key, const struct analysis_result *r, struct got *g)
{
	static const char *const ll_names[3] = { "v_l12", "v_l23", "v_l31" };
	int k;
	size_t j;

	memset(g, 0, sizeof(*g));
	if ((k = phase_of(key, "pf")) >= 0)
		set_num(g, r->pf[k]);
	else if ((k = phase_of(key, "pf_derived")) >= 0)
		set_bool(g, r->pf_derived[k]);
	else if ((k = phase_of(key, "nature")) >= 0)
		set_str(g, analysis_pf_nature_name(r->nature[k]));
	else if ((k = phase_of(key, "tier")) >= 0)
		set_str(g, analysis_pf_tier_name(r->tier[k]));
	else if ((k = phase_of(key, "vband")) >= 0)
		set_str(g, analysis_vband_name(r->vband[k]));
	else if ((k = phase_of(key, "thd_v_ok")) >= 0)
		set_bool(g, r->thd_v_ok[k]);
	else if (strcmp(key, "pf_total") == 0)
		set_num(g, r->pf_total);
	else if (strcmp(key, "pf_total_derived") == 0)
		set_bool(g, r->pf_total_derived);
	else if (strcmp(key, "nature_total") == 0)
		set_str(g, analysis_pf_nature_name(r->nature_total));
	else if (strcmp(key, "tier_total") == 0)
		set_str(g, analysis_pf_tier_name(r->tier_total));
	else if (strcmp(key, "penalty_total") == 0)
		set_num(g, r->penalty_total);
	else if (strcmp(key, "tan_phi") == 0)
		set_num(g, r->tan_phi);
	else if (strcmp(key, "tan_phi_ok") == 0)
		set_bool(g, r->tan_phi_ok);
	else if (strcmp(key, "q_comp") == 0)
		set_num(g, r->q_comp);
	else if (strcmp(key, "q_bank") == 0)
		set_num(g, r->q_bank);
	else if (strcmp(key, "p_total") == 0)
		set_num(g, r->p_total);
	else if (strcmp(key, "q_total") == 0)
		set_num(g, r->q_total);
	else if (strcmp(key, "s_total") == 0)
		set_num(g, r->s_total);
	else if (strcmp(key, "v_unb_nema") == 0)
		set_num(g, r->v_unb_nema);
	else if (strcmp(key, "v_unb_from_ll") == 0)
		set_bool(g, r->v_unb_from_ll);
	else if (strcmp(key, "i_unb_nema") == 0)
		set_num(g, r->i_unb_nema);
	else if (strcmp(key, "v_unb_iec") == 0)
		set_num(g, r->v_unb_iec);
	else if (strcmp(key, "most_loaded") == 0)
		set_str(g, r->most_loaded >= 0 && r->most_loaded < 3
				   ? (const char *[]){ "L1", "L2", "L3" }[r->most_loaded]
				   : (r->most_loaded == -1 ? "none" : "invalid"));
	else if (strcmp(key, "band") == 0)
		set_str(g, analysis_unbalance_band_name(r->band));
	else if (strcmp(key, "recommendation") == 0)
		set_str(g, r->recommendation);
	else if (strcmp(key, "v_ll_derived") == 0)
		set_bool(g, r->v_ll_derived);
	else if (strcmp(key, "thd_v_known") == 0)
		set_bool(g, r->thd_v_known);
	else if (strcmp(key, "freq_ok") == 0) {
		g->type = V_INT;
		g->i = r->freq_ok;
	} else if (strcmp(key, "risk") == 0)
		set_str(g, analysis_risk_level_name(r->risk));
	else if (strcmp(key, "risks") == 0) {
		g->type = V_STR;
		g->str[0] = '\0';
		for (j = 0; j < r->nrisks; j++) {
			const char *n = r->risks[j].kind < RISK__COUNT ? risk_kind_names[r->risks[j].kind]
								       : "invalid";

			if (j > 0)
				strcat(g->str, ",");
			strcat(g->str, n);
		}
		if (r->nrisks == 0)
			strcpy(g->str, "none");
	} else if (strncmp(key, "risk_value.", 11) == 0 || strncmp(key, "risk_limit.", 11) == 0) {
		bool value = key[5] == 'v';

		k = risk_kind_of(key + 11);
		if (k < 0)
			return -1;
		set_num(g, NAN);
		for (j = 0; j < r->nrisks; j++)
			if ((int)r->risks[j].kind == k)
				g->num = value ? r->risks[j].value : r->risks[j].limit;
	} else {
		for (k = 0; k < 3; k++)
			if (strcmp(key, ll_names[k]) == 0) {
				set_num(g, r->v_ll[k]);
				return 0;
			}
		return -1;
	}
	return 0;
}

/* ---- inputs and parameters ---- */

static double *input_field(struct analysis_input *in, const char *name)
{
	int q = qty_lookup(name);

	switch (q) {
	case QTY_V_L1N: case QTY_V_L2N: case QTY_V_L3N: return &in->v_ln[q - QTY_V_L1N];
	case QTY_V_L12: case QTY_V_L23: case QTY_V_L31: return &in->v_ll[q - QTY_V_L12];
	case QTY_I_L1: case QTY_I_L2: case QTY_I_L3: return &in->i[q - QTY_I_L1];
	case QTY_I_N: return &in->i_n;
	case QTY_P_L1: case QTY_P_L2: case QTY_P_L3: return &in->p[q - QTY_P_L1];
	case QTY_P_TOTAL: return &in->p_total;
	case QTY_Q_L1: case QTY_Q_L2: case QTY_Q_L3: return &in->q[q - QTY_Q_L1];
	case QTY_Q_TOTAL: return &in->q_total;
	case QTY_S_L1: case QTY_S_L2: case QTY_S_L3: return &in->s[q - QTY_S_L1];
	case QTY_S_TOTAL: return &in->s_total;
	case QTY_PF_L1: case QTY_PF_L2: case QTY_PF_L3: return &in->pf[q - QTY_PF_L1];
	case QTY_PF_TOTAL: return &in->pf_total;
	case QTY_THD_V_L1: case QTY_THD_V_L2: case QTY_THD_V_L3:
		return &in->thd_v[q - QTY_THD_V_L1];
	case QTY_THD_I_L1: case QTY_THD_I_L2: case QTY_THD_I_L3:
		return &in->thd_i[q - QTY_THD_I_L1];
	case QTY_FREQ: return &in->freq;
	default: return NULL;
	}
}

static double *param_field(struct analysis_params *p, const char *name)
{
	static const struct { const char *name; size_t off; } t[] = {
		{ "nominal_v", offsetof(struct analysis_params, nominal_v) },
		{ "nominal_freq", offsetof(struct analysis_params, nominal_freq) },
		{ "max_power", offsetof(struct analysis_params, max_power) },
		{ "target_pf", offsetof(struct analysis_params, target_pf) },
		{ "pf_min", offsetof(struct analysis_params, pf_min) },
		{ "tan_phi_max", offsetof(struct analysis_params, tan_phi_max) },
		{ "unbalance_max", offsetof(struct analysis_params, unbalance_max) },
		{ "thd_v_max", offsetof(struct analysis_params, thd_v_max) },
		{ "vband_pct", offsetof(struct analysis_params, vband_pct) },
		{ "freq_pct", offsetof(struct analysis_params, freq_pct) },
		{ "v_ll_min", offsetof(struct analysis_params, v_ll_min) },
		{ "v_ll_max", offsetof(struct analysis_params, v_ll_max) },
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(t); i++)
		if (strcmp(t[i].name, name) == 0)
			return (double *)(void *)((char *)p + t[i].off);
	return NULL;
}

/* ---- the reference file ---- */

#define MAX_EXPECT 64

struct expect {
	char key[48];
	struct got want;
	double tol;       /* < 0: default */
	int line;
};

struct refcase {
	char name[64];
	int line;
	struct analysis_input in;
	struct analysis_params par;
	struct expect ex[MAX_EXPECT];
	size_t nex;
};

struct reffile {
	struct refcase *cases;
	size_t ncases;
	char error[256];
};

static void reffile_free(struct reffile *f)
{
	free(f->cases);
	f->cases = NULL;
	f->ncases = 0;
}

static int parse_error(struct reffile *f, const char *name, int line, const char *what)
{
	snprintf(f->error, sizeof(f->error), "%s:%d: %s", name, line, what);
	return -1;
}

/* Next whitespace-separated token of *s (in place), NULL at the end. */
static char *token(char **s)
{
	char *t = *s, *e;

	while (*t == ' ' || *t == '\t')
		t++;
	if (*t == '\0')
		return NULL;
	e = t;
	while (*e != '\0' && *e != ' ' && *e != '\t')
		e++;
	if (*e != '\0')
		*e++ = '\0';
	*s = e;
	return t;
}

static int parse_expect(struct reffile *f, const char *name, int lineno, struct refcase *c,
			char *rest)
{
	struct analysis_result dummy;
	struct expect *e;
	struct got shape;
	char *key, *val, *tol, *extra;

	if (c->nex >= MAX_EXPECT)
		return parse_error(f, name, lineno, "too many expectations in one case");
	e = &c->ex[c->nex];
	memset(e, 0, sizeof(*e));
	e->line = lineno;
	e->tol = -1.0;
	key = token(&rest);
	if (key == NULL)
		return parse_error(f, name, lineno, "expect: missing key");
	memset(&dummy, 0, sizeof(dummy));
	if (resolve(key, &dummy, &shape) != 0)
		return parse_error(f, name, lineno, "expect: unknown output key");
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->want.type = shape.type;

	if (shape.type == V_STR) {
		/* The rest of the line; a recommendation is quoted. */
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest == '"') {
			char *end = strrchr(rest + 1, '"');

			if (end == NULL || end[1] != '\0')
				return parse_error(f, name, lineno, "expect: unterminated string");
			*end = '\0';
			rest++;
		} else if (strcmp(key, "recommendation") == 0) {
			return parse_error(f, name, lineno, "expect: recommendation must be quoted");
		} else {
			val = token(&rest);
			if (val == NULL || token(&rest) != NULL)
				return parse_error(f, name, lineno, "expect: one word expected");
			rest = val;
		}
		snprintf(e->want.str, sizeof(e->want.str), "%s", rest);
		c->nex++;
		return 0;
	}

	val = token(&rest);
	tol = token(&rest);
	extra = token(&rest);
	if (val == NULL || extra != NULL)
		return parse_error(f, name, lineno, "expect: KEY VALUE [TOL]");
	if (shape.type == V_NUM) {
		if (util_parse_double(val, &e->want.num) != 0)
			return parse_error(f, name, lineno, "expect: bad number");
		if (tol != NULL && (util_parse_double(tol, &e->tol) != 0 || !(e->tol >= 0.0)))
			return parse_error(f, name, lineno, "expect: bad tolerance");
	} else {
		long lo = shape.type == V_BOOL ? 0 : -1, hi = 1;

		if (tol != NULL)
			return parse_error(f, name, lineno, "expect: no tolerance on a flag");
		if (util_parse_long(val, lo, hi, &e->want.i) != 0)
			return parse_error(f, name, lineno, "expect: bad flag value");
	}
	c->nex++;
	return 0;
}

/*
 * Parse the reference text (modified in place). 0, or -1 with the first
 * problem in f->error as name:line: message.
 */
static int reffile_parse(struct reffile *f, char *text, const char *name)
{
	struct refcase *c = NULL;
	size_t cap = 0;
	int lineno = 0;
	char *line = text, *next;

	memset(f, 0, sizeof(*f));
	for (; line != NULL; line = next) {
		char *rest, *word, *k, *v;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (strchr(line, '\r') != NULL)
			return parse_error(f, name, lineno, "carriage return");
		rest = line;
		while (*rest == ' ' || *rest == '\t')
			rest++;
		if (*rest == '\0' || *rest == '#')
			continue;
		/* trailing blanks would hide in a quoted string */
		{
			size_t n = strlen(rest);

			while (n > 0 && (rest[n - 1] == ' ' || rest[n - 1] == '\t'))
				rest[--n] = '\0';
		}
		word = token(&rest);
		if (strcmp(word, "case") == 0) {
			k = token(&rest);
			if (c != NULL)
				return parse_error(f, name, lineno, "case inside a case (missing end)");
			if (k == NULL || token(&rest) != NULL)
				return parse_error(f, name, lineno, "case: one name expected");
			if (f->ncases == cap) {
				cap = cap ? 2 * cap : 32;
				f->cases = util_reallocarray(f->cases, cap, sizeof(*f->cases));
			}
			c = &f->cases[f->ncases];
			memset(c, 0, sizeof(*c));
			snprintf(c->name, sizeof(c->name), "%s", k);
			c->line = lineno;
			analysis_input_clear(&c->in);
			analysis_defaults(&c->par);
		} else if (strcmp(word, "end") == 0) {
			if (c == NULL)
				return parse_error(f, name, lineno, "end outside a case");
			if (token(&rest) != NULL)
				return parse_error(f, name, lineno, "end: trailing text");
			if (c->nex == 0)
				return parse_error(f, name, lineno, "case without expectations");
			f->ncases++;
			c = NULL;
		} else if (strcmp(word, "in") == 0 || strcmp(word, "param") == 0) {
			double *dst;

			if (c == NULL)
				return parse_error(f, name, lineno, "in/param outside a case");
			k = token(&rest);
			v = token(&rest);
			if (k == NULL || v == NULL || token(&rest) != NULL)
				return parse_error(f, name, lineno, "in/param: NAME VALUE expected");
			dst = word[0] == 'i' ? input_field(&c->in, k) : param_field(&c->par, k);
			if (dst == NULL)
				return parse_error(f, name, lineno, "unknown input or parameter");
			if (util_parse_double(v, dst) != 0)
				return parse_error(f, name, lineno, "bad number");
		} else if (strcmp(word, "expect") == 0) {
			if (c == NULL)
				return parse_error(f, name, lineno, "expect outside a case");
			if (parse_expect(f, name, lineno, c, rest) != 0)
				return -1;
		} else {
			return parse_error(f, name, lineno, "unknown directive");
		}
	}
	if (c != NULL)
		return parse_error(f, name, lineno, "last case has no end");
	return 0;
}

/* The reference file, from the source tree ($PHASOR_TEST_DATA overrides). */
static char *read_reference(char *path, size_t size)
{
	const char *env = getenv("PHASOR_TEST_DATA");

	snprintf(path, size, "%s/%s", env != NULL ? env : test_path("tests/data"), REF_FILE);
	return util_read_file(path, 1 << 20, NULL);
}

static bool num_close(double got, double want, double tol)
{
	if (isnan(want))
		return isnan(got);
	if (isnan(got))
		return false;
	if (tol < 0.0)
		tol = 1e-9 * fmax(1.0, fabs(want));
	return fabs(got - want) <= tol;
}

/* Checks one case; prints each mismatch. Returns the number of mismatches. */
static int run_case(const struct refcase *c)
{
	struct analysis_result r;
	struct got g;
	size_t i;
	int bad = 0;

	analysis_compute(&c->in, &c->par, &r);
	for (i = 0; i < c->nex; i++) {
		const struct expect *e = &c->ex[i];
		bool ok;

		if (resolve(e->key, &r, &g) != 0) {
			print_error("%s (line %d): key %s vanished\n", c->name, e->line, e->key);
			bad++;
			continue;
		}
		switch (g.type) {
		case V_NUM:
			ok = num_close(g.num, e->want.num, e->tol);
			if (!ok)
				print_error("%s (line %d): %s = %.10g, expected %.10g\n", c->name,
					    e->line, e->key, g.num, e->want.num);
			break;
		case V_BOOL:
		case V_INT:
			ok = g.i == e->want.i;
			if (!ok)
				print_error("%s (line %d): %s = %ld, expected %ld\n", c->name, e->line,
					    e->key, g.i, e->want.i);
			break;
		default:
			ok = strcmp(g.str, e->want.str) == 0;
			if (!ok)
				print_error("%s (line %d): %s = \"%s\", expected \"%s\"\n", c->name,
					    e->line, e->key, g.str, e->want.str);
			break;
		}
		if (!ok)
			bad++;
	}
	return bad;
}

static void test_reference_file(void **state)
{
	struct reffile f;
	char path[600];
	char *text = read_reference(path, sizeof(path));
	size_t i;
	int bad = 0, rc;

	(void)state;
	if (text == NULL)
		fail_msg("cannot read tests/data/%s (set PHASOR_TEST_DATA)", REF_FILE);
	rc = reffile_parse(&f, text, path);
	if (rc != 0) {
		reffile_free(&f);
		free(text);
		fail_msg("%s", f.error);
	}
	/* The brief's list of cases is long: a truncated file must not pass. */
	assert_true(f.ncases >= 50);
	for (i = 0; i < f.ncases; i++)
		bad += run_case(&f.cases[i]);
	reffile_free(&f);
	free(text);
	assert_int_equal(bad, 0);
}

/* Every malformed line is refused with its line number. */
static void test_reference_parser_rejects(void **state)
{
	static const struct {
		const char *text;
		int line;
	} bad[] = {
		{ "case a\nin p_total 1\nexpect pf_total\nend\n", 3 },
		{ "case a\nin p_total x1\nexpect pf_total 1\nend\n", 2 },
		{ "case a\nin p_totl 1\nexpect pf_total 1\nend\n", 2 },
		{ "case a\nparam nominal 1\nexpect pf_total 1\nend\n", 2 },
		{ "case a\nexpect pf_totl 1\nend\n", 2 },
		{ "case a\nexpect pf_total 1 0.1 9\nend\n", 2 },
		{ "case a\nexpect pf_total 1 -1\nend\n", 2 },
		{ "case a\nexpect tan_phi_ok 2\nend\n", 2 },
		{ "case a\nexpect freq_ok yes\nend\n", 2 },
		{ "case a\nexpect recommendation no quotes\nend\n", 2 },
		{ "case a\nexpect recommendation \"open\nend\n", 2 },
		{ "case a\nexpect band severe extra\nend\n", 2 },
		{ "case a\nexpect risk_value.nothing 1\nend\n", 2 },
		{ "case a\nexpect pf_l4 1\nend\n", 2 },
		{ "case a\nend\n", 2 },
		{ "case a\nexpect pf_total 1\n", 3 },
		{ "case a\ncase b\n", 2 },
		{ "in p_total 1\n", 1 },
		{ "expect pf_total 1\n", 1 },
		{ "end\n", 1 },
		{ "case\n", 1 },
		{ "# ok\ncase a\nexpect pf_total 1\nend\nbogus line\n", 5 },
		{ "case a\nin p_total 1 2\nexpect pf_total 1\nend\n", 2 },
		{ "case a\r\nexpect pf_total 1\nend\n", 1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(bad); i++) {
		struct reffile f;
		char *text = util_strdup(bad[i].text);
		char want[32];
		int rc = reffile_parse(&f, text, "t");

		reffile_free(&f);
		free(text);
		if (rc == 0)
			fail_msg("accepted malformed text %zu", i);
		snprintf(want, sizeof(want), "t:%d:", bad[i].line);
		if (strncmp(f.error, want, strlen(want)) != 0)
			fail_msg("text %zu: error \"%s\", expected at line %d", i, f.error, bad[i].line);
	}
	/* and a good one parses */
	{
		struct reffile f;
		char *text = util_strdup("# c\n\ncase a\n in p_total 1\nparam max_power 2\n"
					 "expect recommendation \"x y\"\nexpect pf_total nan 0.1\nend\n");

		assert_int_equal(reffile_parse(&f, text, "t"), 0);
		assert_int_equal(f.ncases, 1);
		assert_int_equal(f.cases[0].nex, 2);
		assert_string_equal(f.cases[0].ex[0].want.str, "x y");
		assert_true(f.cases[0].in.p_total == 1.0);
		assert_true(f.cases[0].par.max_power == 2.0);
		reffile_free(&f);
		free(text);
	}
}

/* ---- building blocks ---- */

static void test_q_bank(void **state)
{
	static const struct { double q, bank; } t[] = {
		{ 0, 0 },          { -5, 0 },          { 1, 2500 },        { 2500, 2500 },
		{ 2500.1, 5000 },  { 7000, 7500 },     { 12000, 12500 },   { 16852.6, 20000 },
		{ 76000, 80000 },  { 80000, 80000 },   { 80001, 100000 },  { 110646.6, 120000 },
		{ 160000, 175000 }, { 176000, 200000 }, { 950000, 1000000 }, { 1000000, 1000000 },
		{ 1000001, 1100000 }, { 1234000, 1300000 }, { 2000000, 2000000 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(t); i++)
		if (analysis_q_bank(t[i].q) != t[i].bank)
			fail_msg("q_bank(%g) = %g, expected %g", t[i].q, analysis_q_bank(t[i].q),
				 t[i].bank);
	assert_true(isnan(analysis_q_bank(NAN)));
}

static void test_building_blocks(void **state)
{
	double x[3];

	(void)state;
	/* q_comp: the BRIEF's example, reached, unknown */
	assert_true(fabs(analysis_q_comp(200000, 0.75, 0.95) - 110646.6) < 0.1);
	assert_true(fabs(analysis_q_comp(-200000, -0.75, 0.95) - 110646.6) < 0.1);
	assert_true(analysis_q_comp(200000, 0.96, 0.95) == 0.0);
	assert_true(analysis_q_comp(200000, 0.95, 0.95) == 0.0);
	assert_true(isnan(analysis_q_comp(NAN, 0.75, 0.95)));
	assert_true(isnan(analysis_q_comp(200000, NAN, 0.95)));
	assert_true(isnan(analysis_q_comp(200000, 0.0, 0.95)));

	/* tan phi */
	assert_true(fabs(analysis_tan_phi(0.8) - 0.75) < 1e-12);
	assert_true(fabs(analysis_tan_phi(-0.8) - 0.75) < 1e-12);
	assert_true(analysis_tan_phi(1.0) == 0.0);
	assert_true(isnan(analysis_tan_phi(0.0)));
	assert_true(isnan(analysis_tan_phi(NAN)));

	/* pf_from: sign of P, S preferred, then P and Q */
	assert_true(fabs(analysis_pf_from(-8, NAN, 10) + 0.8) < 1e-12);
	assert_true(fabs(analysis_pf_from(8, 6, NAN) - 0.8) < 1e-12);
	assert_true(fabs(analysis_pf_from(8, 600, 10) - 0.8) < 1e-12);
	assert_true(isnan(analysis_pf_from(8, NAN, NAN)));
	assert_true(isnan(analysis_pf_from(NAN, 6, 10)));
	assert_true(isnan(analysis_pf_from(0, 0, NAN)));
	assert_true(isnan(analysis_pf_from(5, 0, 0)));

	/* NEMA */
	x[0] = 230; x[1] = 220; x[2] = 240;
	assert_true(fabs(analysis_unbalance_nema(x) - 100.0 * 10 / 230) < 1e-12);
	x[1] = NAN;
	assert_true(isnan(analysis_unbalance_nema(x)));
	x[0] = 0; x[1] = 0; x[2] = 0;
	assert_true(isnan(analysis_unbalance_nema(x)));

	/* IEC */
	assert_true(fabs(analysis_unbalance_iec(400, 390, 410) - 2.88803) < 1e-5);
	assert_true(analysis_unbalance_iec(400, 400, 400) < 1e-6);
	assert_true(isnan(analysis_unbalance_iec(400, NAN, 400)));
	assert_true(isnan(analysis_unbalance_iec(0, 0, 0)));

	/* bands */
	assert_int_equal(analysis_unbalance_band(4.999), UNB_EXCELLENT);
	assert_int_equal(analysis_unbalance_band(5), UNB_ACCEPTABLE);
	assert_int_equal(analysis_unbalance_band(9.999), UNB_ACCEPTABLE);
	assert_int_equal(analysis_unbalance_band(10), UNB_MODERATE);
	assert_int_equal(analysis_unbalance_band(19.99), UNB_MODERATE);
	assert_int_equal(analysis_unbalance_band(20), UNB_SEVERE);
	assert_int_equal(analysis_unbalance_band(NAN), UNB_UNKNOWN);

	/* tiers and penalties */
	assert_int_equal(analysis_pf_tier(-0.95), PF_EXCELLENT);
	assert_int_equal(analysis_pf_tier(0.9499), PF_GOOD);
	assert_int_equal(analysis_pf_tier(0.0), PF_CRITICAL);
	assert_int_equal(analysis_pf_tier(NAN), PF_UNKNOWN);
	assert_true(analysis_pf_penalty(PF_GOOD) == 0.0);
	assert_true(analysis_pf_penalty(PF_ACCEPTABLE) == 0.02);
	assert_true(analysis_pf_penalty(PF_POOR) == 0.05);
	assert_true(analysis_pf_penalty(PF_CRITICAL) == 0.05);
	assert_true(isnan(analysis_pf_penalty(PF_UNKNOWN)));
}

static void test_defaults(void **state)
{
	struct analysis_params p;
	struct analysis_input in;
	const double *d;
	size_t i;

	(void)state;
	analysis_defaults(&p);
	assert_true(p.nominal_v == 230 && p.nominal_freq == 50 && isnan(p.max_power));
	assert_true(p.target_pf == 0.95 && p.pf_min == 0.85 && p.tan_phi_max == 0.4);
	assert_true(p.unbalance_max == 15 && p.thd_v_max == 8 && p.vband_pct == 10);
	assert_true(p.freq_pct == 1 && p.v_ll_min == 380 && p.v_ll_max == 420);

	memset(&in, 0, sizeof(in));
	analysis_input_clear(&in);
	d = (const double *)(const void *)&in;
	for (i = 0; i < sizeof(in) / sizeof(double); i++)
		if (!isnan(d[i]))
			fail_msg("input field %zu not NaN", i);
}

static bool ascii_text(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

/* Every risk comes with a name and at least one action, all plain ASCII. */
static void test_risk_texts(void **state)
{
	struct analysis_input in;
	struct analysis_params par;
	struct analysis_result r;
	bool seen[RISK__COUNT] = { false };
	size_t i, j, n;

	(void)state;
	analysis_defaults(&par);
	par.max_power = 50000;  /* no overload without one */
	analysis_input_clear(&in);
	/* one input raising every kind at once */
	in.p_total = 80000;
	in.pf_total = 0.5;
	in.v_ll[0] = 300;
	in.v_ll[1] = 450;
	in.v_ll[2] = 400;
	in.i[0] = 10;
	in.i[1] = 100;
	in.i[2] = 100;
	in.thd_v[0] = 12;
	in.freq = 48;
	in.v_ln[0] = 230;
	in.v_ln[1] = 230;
	in.v_ln[2] = 20;
	analysis_compute(&in, &par, &r);
	assert_int_equal(r.nrisks, RISK__COUNT);
	assert_int_equal(r.risk, RISK_CRITICAL);
	for (i = 0; i < r.nrisks; i++) {
		assert_true(r.risks[i].kind < RISK__COUNT);
		seen[r.risks[i].kind] = true;
		assert_true(ascii_text(r.risks[i].text));
		if (i > 0)
			assert_true(r.risks[i - 1].level >= r.risks[i].level);
		assert_non_null(r.risks[i].actions);
		for (n = 0; r.risks[i].actions[n] != NULL; n++)
			assert_true(ascii_text(r.risks[i].actions[n]));
		assert_true(n >= 2);
	}
	for (j = 0; j < RISK__COUNT; j++)
		assert_true(seen[j]);
	/* the seed's actions, verbatim */
	for (i = 0; i < r.nrisks; i++)
		if (r.risks[i].kind == RISK_OVERLOAD) {
			assert_string_equal(r.risks[i].actions[0], "Shed non-essential loads");
			assert_string_equal(r.risks[i].actions[1], "Check load distribution");
			assert_string_equal(r.risks[i].actions[2], "Call electrical maintenance");
			assert_null(r.risks[i].actions[3]);
		} else if (r.risks[i].kind == RISK_POOR_PF) {
			assert_string_equal(r.risks[i].actions[0], "Check capacitor banks");
		} else if (r.risks[i].kind == RISK_LOW_VOLTAGE) {
			assert_string_equal(r.risks[i].actions[2], "Call the energy supplier");
		}
	assert_true(ascii_text(r.recommendation));
}

/* analysis_compute_figures: every figure, band and risk of
 * analysis_compute, the recommendation's words left out. */
static void test_figures_only(void **state)
{
	static const double unb_i[][3] = { { 10, 100, 100 }, { 50, 52, 51 }, { 40, 50, 60 }, { 0, 0, 0 } };
	struct analysis_input in;
	struct analysis_params par;
	struct analysis_result full, figs;
	size_t k;

	(void)state;
	analysis_defaults(&par);
	for (k = 0; k < UTIL_ARRAY_LEN(unb_i); k++) {
		analysis_input_clear(&in);
		in.p_total = 20000 + 1000.0 * (double)k;
		in.pf_total = 0.8;
		in.v_ln[0] = in.v_ln[1] = 230;
		in.v_ln[2] = 228 - (double)k;
		in.i[0] = unb_i[k][0];
		in.i[1] = unb_i[k][1];
		in.i[2] = unb_i[k][2];
		analysis_compute(&in, &par, &full);
		analysis_compute_figures(&in, &par, &figs);
		assert_string_equal(figs.recommendation, "");
		if (k < 3)
			assert_true(strncmp(full.recommendation, "Unbalance ", 10) == 0);
		memset(full.recommendation, 0, sizeof(full.recommendation));
		assert_memory_equal(&full, &figs, sizeof(full));
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(analysis_pf_tier_name(PF_EXCELLENT), "excellent");
	assert_string_equal(analysis_pf_tier_name(PF_CRITICAL), "critical");
	assert_string_equal(analysis_pf_tier_name(PF_UNKNOWN), "unknown");
	assert_string_equal(analysis_unbalance_band_name(UNB_MODERATE), "moderate");
	assert_string_equal(analysis_vband_name(VBAND_HIGH), "high");
	assert_string_equal(analysis_risk_level_name(RISK_MINOR), "minor");
	assert_string_equal(analysis_risk_level_name(RISK_NORMAL), "normal");
	assert_string_equal(analysis_pf_nature_name(PF_CAPACITIVE), "capacitive");
	assert_string_equal(analysis_pf_nature_name(PF_NATURE_UNKNOWN), "unknown");
}

/* The PF's digits agree with its tier; a result unjudged keeps its figures only. */
static void test_pf_text_and_unjudge(void **state)
{
	static const struct {
		double pf;
		int decimals;
		const char *want;
	} rows[] = {
		{ 0.8496, 3, "0.849" },            /* poor: not "0.850" */
		{ 0.8504, 3, "0.850" },            /* acceptable */
		{ -0.8496, 3, "-0.849" },          /* exporting, the tier on |pf| */
		{ 0.9499, 3, "0.949" },            /* good: not "0.950" */
		{ (double)0.95f, 3, "0.950" },     /* float32 0.95 is excellent (the tolerance) */
		{ 0.8996, 2, "0.89" },             /* acceptable with two decimals */
		{ 0.7501, 3, "0.750" },
		{ -0.0001, 3, "0.000" },
		{ NAN, 3, "-" },
	};
	struct analysis_params par;
	struct analysis_input in;
	struct analysis_result r;
	struct fmt_limit lims[4];
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		analysis_pf_text(rows[i].pf, rows[i].decimals, buf, sizeof(buf));
		if (strcmp(buf, rows[i].want) != 0)
			fail_msg("pf %.17g: \"%s\", want \"%s\"", rows[i].pf, buf, rows[i].want);
	}
	analysis_defaults(&par);
	assert_int_equal(analysis_unbalance_limits(&par, lims), 4);
	assert_true(lims[3].at == 15.0 && lims[3].high);
	assert_true(lims[0].at == 5.0 && !lims[0].high);
	assert_true(analysis_tan_phi_limit(&par).high);

	/* a meter that is down: last figures kept, nothing judged */
	par.max_power = 50000;
	analysis_input_clear(&in);
	in.p_total = 80000;
	in.pf_total = 0.5;
	in.thd_v[0] = 12;
	in.freq = 48;
	analysis_compute(&in, &par, &r);
	assert_true(r.judged);
	assert_int_equal(r.risk, RISK_CRITICAL);
	assert_int_equal(r.tier_total, PF_CRITICAL);
	analysis_unjudge(&r);
	assert_false(r.judged);
	assert_int_equal(r.nrisks, 0);
	assert_int_equal(r.tier_total, PF_UNKNOWN);
	assert_int_equal(r.freq_ok, -1);
	assert_false(r.thd_v_known);
	assert_int_equal(r.band, UNB_UNKNOWN);
	assert_true(r.p_total == 80000 && r.pf_total == 0.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_file),
		cmocka_unit_test(test_reference_parser_rejects),
		cmocka_unit_test(test_q_bank),
		cmocka_unit_test(test_building_blocks),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_risk_texts),
		cmocka_unit_test(test_figures_only),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pf_text_and_unjudge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
