// SPDX-License-Identifier: MIT
/*
 * Unit tests of fmt.c: one table of values and the text operators must see,
 * with every tier boundary on both sides (the rounded value decides the
 * tier: 999.96 W is "1.00 kW"), and the same numbers under a comma locale.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/fmt.h"
#include "phasor/qty.h"

enum kind { K_SI, K_QTY, K_BARE, K_ENERGY, K_PCT, K_AGE, K_MONEY };

struct row {
	enum kind kind;
	unsigned qty;      /* K_QTY, K_BARE */
	const char *unit;  /* K_SI unit, K_MONEY currency */
	double v;
	int64_t us;        /* K_AGE */
	const char *want;
};

#define SI(v, u, w) { K_SI, 0, u, v, 0, w }
#define Q(q, v, w) { K_QTY, q, NULL, v, 0, w }
#define B(q, v, w) { K_BARE, q, NULL, v, 0, w }
#define E(v, w) { K_ENERGY, 0, NULL, v, 0, w }
#define P(v, w) { K_PCT, 0, NULL, v, 0, w }
#define AGE(us, w) { K_AGE, 0, NULL, 0, us, w }
#define M(v, c, w) { K_MONEY, 0, c, v, 0, w }

static const struct row rows[] = {
	/* Power: the rounded value decides the tier. */
	SI(0, "W", "0 W"),
	SI(950, "W", "950 W"),
	SI(999.4, "W", "999 W"),
	SI(999.5, "W", "1.00 kW"),
	SI(999.96, "W", "1.00 kW"),
	SI(1000, "W", "1.00 kW"),
	SI(9870, "W", "9.87 kW"),
	SI(9994.9, "W", "9.99 kW"),
	SI(9995, "W", "10.0 kW"),
	SI(10000, "W", "10.0 kW"),
	SI(512300, "W", "512.3 kW"),
	SI(999949, "W", "999.9 kW"),
	SI(999950, "W", "1.00 MW"),
	SI(1250000, "W", "1.25 MW"),
	SI(9995000, "W", "10.0 MW"),
	SI(12300000, "W", "12.3 MW"),
	SI(-951, "W", "-951 W"),
	SI(-0.4, "W", "0 W"),            /* rounds to zero: no sign */
	SI(-12345, "var", "-12.3 kvar"),
	SI(45000, "VA", "45.0 kVA"),
	SI(2.5e9, "W", "2.50 GW"),
	SI(1.5e12, "W", "1.50 TW"),
	SI(950, NULL, "950"),
	SI(1500, "", "1.50 k"),
	SI(NAN, "W", "-"),
	SI(INFINITY, "W", "inf"),
	SI(-INFINITY, "W", "-inf"),
	/* Per quantity. */
	Q(QTY_P_TOTAL, 512300, "512.3 kW"),
	Q(QTY_Q_L1, -950, "-950 var"),
	Q(QTY_S_TOTAL, 1250000, "1.25 MVA"),
	Q(QTY_V_L1N, 230.14, "230.1 V"),
	Q(QTY_V_L12, 399.96, "400.0 V"),
	Q(QTY_V_L1N, 0, "0.0 V"),
	Q(QTY_V_L12, 999.94, "999.9 V"),
	Q(QTY_V_L12, 999.96, "1.00 kV"),
	Q(QTY_V_L12, 20010, "20.01 kV"),
	Q(QTY_V_L12, 110000, "110.0 kV"),
	Q(QTY_I_L1, 4.031, "4.03 A"),
	Q(QTY_I_L1, 9.994, "9.99 A"),
	Q(QTY_I_L1, 9.996, "10.0 A"),
	Q(QTY_I_L2, 45.6, "45.6 A"),
	Q(QTY_I_L2, 999.94, "999.9 A"),
	Q(QTY_I_L2, 999.96, "1000 A"),
	Q(QTY_I_N, 1234.4, "1234 A"),
	Q(QTY_I_L3, -4.5, "-4.50 A"),
	Q(QTY_PF_TOTAL, 0.871, "0.871"),
	Q(QTY_PF_L1, -0.99, "-0.990"),
	Q(QTY_PF_L2, 1.0, "1.000"),
	Q(QTY_PF_L3, -0.0001, "0.000"),
	Q(QTY_THD_V_L1, 2.44, "2.4 %"),
	Q(QTY_THD_I_L1, 99.96, "100 %"),
	Q(QTY_THD_I_L2, 104.2, "104 %"),
	Q(QTY_FREQ, 50.014, "50.01 Hz"),
	Q(QTY_FREQ, 49.995, "50.00 Hz"),
	Q(QTY_E_IMP, 850, "850 Wh"),
	Q(QTY_E_IMP, 4213000, "4213 kWh"),
	Q(QTY_EQ_IMP, 12400, "12.4 kvarh"),
	Q(QTY_E_EXP_L2, 3.4e9, "3.40 GWh"),
	Q(QTY_TEMP, 21.54, "21.5 degC"),
	Q(QTY_TEMP, -5.06, "-5.1 degC"),
	Q(QTY_FLOW, 12.345, "12.3 m3/h"),
	Q(QTY_PRESSURE, 2.5, "2.50 bar"),
	Q(QTY_VOLUME, 123456.7, "123457 m3"),
	Q(QTY_VIBRATION, 0.456, "0.46 mm/s"),
	Q(QTY_V_L1N, NAN, "-"),
	Q(QTY_PF_L1, INFINITY, "inf"),
	Q(QTY__COUNT, 3.14159, "3.14"),     /* unknown id: no unit */
	/* Bare: no unit, the prefix stays. */
	B(QTY_V_L1N, 230.14, "230.1"),
	B(QTY_P_L1, 512300, "512.3 k"),
	B(QTY_P_L1, 950, "950"),
	B(QTY_I_L1, 4.031, "4.03"),
	B(QTY_PF_L1, 0.871, "0.871"),
	B(QTY_THD_V_L1, 2.44, "2.4"),
	B(QTY_FREQ, 50.01, "50.01"),
	B(QTY_TEMP, 21.5, "21.5"),
	B(QTY_E_IMP, 12400, "12.4 k"),
	B(QTY_FREQ, NAN, "-"),
	/* Energy. */
	E(0, "0 Wh"),
	E(850, "850 Wh"),
	E(999.5, "1.00 kWh"),
	E(9870, "9.87 kWh"),
	E(9995, "10.0 kWh"),
	E(12400, "12.4 kWh"),
	E(999949, "999.9 kWh"),
	E(999950, "1000 kWh"),
	E(4213000, "4213 kWh"),
	E(9999499, "9999 kWh"),
	E(9999500, "10.0 MWh"),
	E(12500000, "12.5 MWh"),
	E(999.95e6, "1.00 GWh"),
	E(3.4e9, "3.40 GWh"),
	E(123.4e9, "123.4 GWh"),
	E(-850, "-850 Wh"),
	E(1e30, "1000000000000000000 TWh"), /* beyond integer precision */
	E(NAN, "-"),
	E(-INFINITY, "-inf"),
	/* Percentages. */
	P(2.44, "2.4 %"),
	P(0, "0.0 %"),
	P(99.94, "99.9 %"),
	P(99.95, "100 %"),
	P(104.4, "104 %"),
	P(-3.25, "-3.3 %"),
	P(NAN, "-"),
	/* Ages: truncated. */
	AGE(-1, "never"),
	AGE(INT64_MIN, "never"),
	AGE(0, "0.0s"),
	AGE(400000, "0.4s"),
	AGE(999999, "0.9s"),
	AGE(1000000, "1s"),
	AGE(12000000, "12s"),
	AGE(59999999, "59s"),
	AGE(60000000, "1m"),
	AGE(180000000, "3m"),
	AGE(3599999999, "59m"),
	AGE(3600000000, "1h00"),
	AGE(7500000000, "2h05"),
	AGE(86399999999, "23h59"),
	AGE(86400000000, "1d"),
	AGE(4 * 86400000000 + 5, "4d"),
	AGE(INT64_MAX, "106751991d"),
	/* Money. */
	M(632.4, "EUR", "632.40 EUR"),
	M(632.4, NULL, "632.40"),
	M(0.004, "EUR", "0.00 EUR"),
	M(-12.5, "CHF", "-12.50 CHF"),
	M(1234567.891, "EUR", "1234567.89 EUR"),
	M(NAN, "EUR", "-"),
};

static const char *run(const struct row *r, char *buf, size_t size)
{
	switch (r->kind) {
	case K_SI:
		return fmt_si(r->v, r->unit, buf, size);
	case K_QTY:
		return fmt_qty(r->qty, r->v, buf, size);
	case K_BARE:
		return fmt_qty_bare(r->qty, r->v, buf, size);
	case K_ENERGY:
		return fmt_energy(r->v, buf, size);
	case K_PCT:
		return fmt_pct(r->v, buf, size);
	case K_AGE:
		return fmt_age(r->us, buf, size);
	case K_MONEY:
		return fmt_money(r->v, r->unit, buf, size);
	}
	return NULL;
}

/* Every row; returns the number of mismatches (each printed). */
static int run_table(const char *label)
{
	char buf[64];
	int bad = 0;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *got;

		memset(buf, 'Z', sizeof(buf));
		got = run(&rows[i], buf, sizeof(buf));
		if (got != buf || strcmp(buf, rows[i].want) != 0) {
			fprintf(stderr, "%s row %zu: got '%s' want '%s'\n", label, i, buf,
				rows[i].want);
			bad++;
		}
	}
	return bad;
}

static void test_table(void **state)
{
	(void)state;
	assert_true(sizeof(rows) / sizeof(rows[0]) >= 60);
	assert_int_equal(run_table("C"), 0);
}

/* The buffer is always terminated, never overrun, and the function returns it. */
static void test_small_buffers(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'Z', sizeof(buf));
	assert_ptr_equal(fmt_si(512300, "W", buf, 5), buf);
	assert_string_equal(buf, "512.");
	assert_int_equal(buf[5], 'Z');
	fmt_age(7500000000, buf, 3);
	assert_string_equal(buf, "2h");
	fmt_money(632.4, "EUR", buf, 1);
	assert_string_equal(buf, "");
	memset(buf, 'Z', sizeof(buf));
	fmt_qty(QTY_V_L1N, 230.1, buf, 0); /* size 0: untouched */
	assert_int_equal(buf[0], 'Z');
	fmt_energy(NAN, buf, 1);
	assert_string_equal(buf, "");
}

/* A locale whose decimal separator is a comma, or NULL when none is installed. */
static const char *comma_locale(void)
{
	static const char *const names[] = {
		"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8",
		"it_IT.UTF-8", "es_ES.UTF-8", "pt_BR.UTF-8", "ru_RU.UTF-8", "de_DE", "fr_FR",
	};
	static char found[128];
	FILE *p;
	char line[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (setlocale(LC_NUMERIC, names[i]) != NULL &&
		    strcmp(localeconv()->decimal_point, ",") == 0)
			return names[i];
	}
	/* Anything else installed (locale -a) with a comma. */
	p = popen("locale -a 2>/dev/null", "r");
	if (p == NULL)
		return NULL;
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (setlocale(LC_NUMERIC, line) != NULL &&
		    strcmp(localeconv()->decimal_point, ",") == 0) {
			snprintf(found, sizeof(found), "%s", line);
			pclose(p);
			return found;
		}
	}
	pclose(p);
	return NULL;
}

static void test_comma_locale(void **state)
{
	const char *name;
	char buf[64];

	(void)state;
	name = comma_locale();
	if (name == NULL) {
		setlocale(LC_NUMERIC, "C");
		fprintf(stderr, "test_comma_locale: no locale with a decimal comma installed "
				"(locale -a); skipped\n");
		skip();
	}
	/* The locale is really in effect: printf itself writes a comma. */
	snprintf(buf, sizeof(buf), "%.1f", 1.5);
	assert_string_equal(buf, "1,5");
	assert_int_equal(run_table(name), 0);
	setlocale(LC_NUMERIC, "C");
}

/* ---- values that agree with their words (fmt_against) ---- */

struct side_row {
	int qty;           /* -1: fmt_against with decimals */
	int decimals;
	double v, at;
	bool high;
	const char *want;
};

static const struct side_row side_rows[] = {
	/* PF against "below 0.85" (the low-pf alarm, the poor tier) */
	{ -1, 3, 0.8496, 0.85, false, "0.849" },   /* nearest would be 0.850 */
	{ -1, 3, 0.84951, 0.85, false, "0.849" },
	{ -1, 3, 0.84999999, 0.85, false, "0.849" },
	{ -1, 3, 0.85, 0.85, false, "0.850" },      /* at the limit: not below */
	{ -1, 3, 0.8504, 0.85, false, "0.850" },
	{ -1, 3, 0.8494, 0.85, false, "0.849" },    /* far enough: nearest */
	{ -1, 3, 0.8449, 0.85, false, "0.845" },
	{ -1, 2, 0.8496, 0.85, false, "0.84" },     /* two decimals: 0.85 would lie */
	{ -1, 2, 0.851, 0.85, false, "0.85" },
	/* a negative (exporting) value against a negative limit */
	{ -1, 3, -0.8496, -0.85, true, "-0.849" },
	{ -1, 3, -0.8504, -0.85, true, "-0.850" },
	/* THD against "over 8 %" (equality within) */
	{ -1, 1, 8.04, 8.0, true, "8.1" },
	{ -1, 1, 8.0, 8.0, true, "8.0" },
	{ -1, 1, 7.96, 8.0, true, "8.0" },
	{ -1, 1, 8.2, 8.0, true, "8.2" },
	/* voltages against the band (1 decimal in V) */
	{ QTY_V_L1N, 0, 206.96, 207.0, false, "206.9 V" },
	{ QTY_V_L1N, 0, 207.04, 207.0, false, "207.0 V" },
	{ QTY_V_L1N, 0, 253.04, 253.0, true, "253.1 V" },
	{ QTY_V_L1N, 0, 252.96, 253.0, true, "253.0 V" },
	/* power against max_power, in the tier fmt_qty picks */
	{ QTY_P_TOTAL, 0, 50004.0, 50000.0, true, "50.1 kW" },
	{ QTY_P_TOTAL, 0, 49996.0, 50000.0, true, "50.0 kW" },
	/* frequency against 50 Hz +-1 % */
	{ QTY_FREQ, 0, 49.4996, 49.5, false, "49.49 Hz" },
	{ QTY_FREQ, 0, 50.5004, 50.5, true, "50.51 Hz" },
	/* unknown stays unknown */
	{ -1, 3, NAN, 0.85, false, "-" },
	{ QTY_FREQ, 0, NAN, 50.5, true, "-" },
};

static void test_against(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(side_rows) / sizeof(side_rows[0]); i++) {
		const struct side_row *r = &side_rows[i];
		struct fmt_limit lim = { r->at, r->high };
		char buf[64];

		if (r->qty < 0)
			fmt_against(r->v, &lim, 1, r->decimals, buf, sizeof(buf));
		else
			fmt_qty_against((unsigned)r->qty, r->v, &lim, 1, buf, sizeof(buf));
		if (strcmp(buf, r->want) != 0)
			fail_msg("row %zu: %.17g against %g: \"%s\", want \"%s\"", i, r->v, r->at,
				 buf, r->want);
	}
}

/* The digits read back on the value's side of the limit, for every value near it. */
static void test_against_sweep(void **state)
{
	static const struct fmt_limit lims[] = {
		{ 0.85, false }, { 0.95, false }, { 0.9, true }, { 8.0, true }, { 0.4, true },
	};
	size_t i;
	int k, d;

	(void)state;
	for (i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
		for (d = 0; d <= 3; d++)
			for (k = -3000; k <= 3000; k++) {
				double v = lims[i].at + k * 1e-6, shown;
				bool beyond = lims[i].high ? v > lims[i].at : v < lims[i].at;
				char buf[64];

				fmt_against(v, &lims[i], 1, d, buf, sizeof(buf));
				shown = strtod(buf, NULL);
				if ((lims[i].high ? shown > lims[i].at : shown < lims[i].at) != beyond)
					fail_msg("%.17g against %g (%d decimals) printed %s", v,
						 lims[i].at, d, buf);
				/* never more than one unit from the nearest */
				if (fabs(shown - v) > pow(10.0, -d) + 1e-12)
					fail_msg("%.17g printed %s", v, buf);
			}
	/* one ulp below: not printed as the limit */
	{
		struct fmt_limit lim = { 0.85, false };
		char buf[32];

		fmt_against(nextafter(0.85, 0.0), &lim, 1, 3, buf, sizeof(buf));
		assert_string_equal(buf, "0.849");
	}
	/* no limit: fmt_qty's own text */
	{
		char a[32], b[32];

		assert_string_equal(fmt_qty_against(QTY_V_L1N, 230.04, NULL, 0, a, sizeof(a)),
				    fmt_qty(QTY_V_L1N, 230.04, b, sizeof(b)));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_comma_locale),
		cmocka_unit_test(test_against),
		cmocka_unit_test(test_against_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
