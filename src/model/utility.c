// SPDX-License-Identifier: MIT
/*
 * utility: meters beyond electricity. The kinds of utility a meter counts,
 * the table of units a profile may read a value in (converted to the
 * contract's unit when the profile is loaded: the factor joins the scale,
 * the offset is added after it), pulse and calorific values from the
 * configuration, and the gas energy the hub derives from a gas meter's
 * volume so that the site's energy adds up (docs/configuration.md).
 */
#include "phasor/utility.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/util.h"

static const char *const names[UTILITY__COUNT + 1] = {
	[UTILITY_ELECTRICITY] = "electricity", [UTILITY_GAS] = "gas",
	[UTILITY_WATER] = "water",	       [UTILITY_AIR] = "air",
	[UTILITY_HEAT] = "heat",	       [UTILITY__COUNT] = NULL,
};

const char *utility_name(enum utility u)
{
	return (unsigned)u < UTILITY__COUNT ? names[u] : "?";
}

int utility_parse(const char *s)
{
	int i;

	for (i = 0; i < UTILITY__COUNT; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *const *utility_names(void)
{
	return names;
}

bool utility_counts_volume(enum utility u)
{
	return u == UTILITY_GAS || u == UTILITY_WATER || u == UTILITY_AIR;
}

/* ---- units ------------------------------------------------------------------ */

struct unit_row {
	const char *name;
	const char *si;     /* the contract unit it converts to */
	double factor, offset;
};

/* Normal cubic metres (Nm3, at the meter's reference conditions) are stored
 * as m3: the contract has one volume unit, and the profile says which. */
static const struct unit_row units[] = {
	{ "m3/h", "m3/h", 1, 0 },	  { "Nm3/h", "m3/h", 1, 0 },
	{ "m3/min", "m3/h", 60, 0 },	  { "Nm3/min", "m3/h", 60, 0 },
	{ "l/h", "m3/h", 0.001, 0 },	  { "l/min", "m3/h", 0.06, 0 },
	{ "l/s", "m3/h", 3.6, 0 },	  { "cfm", "m3/h", 1.6990107955, 0 },
	{ "m3", "m3", 1, 0 },		  { "Nm3", "m3", 1, 0 },
	{ "l", "m3", 0.001, 0 },	  { "hl", "m3", 0.1, 0 },
	{ "ft3", "m3", 0.028316846592, 0 },
	{ "bar", "bar", 1, 0 },		  { "mbar", "bar", 0.001, 0 },
	{ "Pa", "bar", 1e-5, 0 },	  { "hPa", "bar", 0.001, 0 },
	{ "kPa", "bar", 0.01, 0 },	  { "MPa", "bar", 10, 0 },
	{ "psi", "bar", 0.0689475729316836, 0 },
	{ "degC", "degC", 1, 0 },	  { "K", "degC", 1, -273.15 },
	{ "degF", "degC", 5.0 / 9.0, -32.0 * 5.0 / 9.0 },
	{ "Wh", "Wh", 1, 0 },		  { "kWh", "Wh", 1000, 0 },
	{ "MWh", "Wh", 1e6, 0 },	  { "varh", "varh", 1, 0 },
	{ "kvarh", "varh", 1000, 0 },	  { "W", "W", 1, 0 },
	{ "kW", "W", 1000, 0 },		  { "MW", "W", 1e6, 0 },
	{ "var", "var", 1, 0 },		  { "kvar", "var", 1000, 0 },
	{ "VA", "VA", 1, 0 },		  { "kVA", "VA", 1000, 0 },
	{ "V", "V", 1, 0 },		  { "kV", "V", 1000, 0 },
	{ "A", "A", 1, 0 },		  { "mA", "A", 0.001, 0 },
	{ "Hz", "Hz", 1, 0 },		  { "%", "%", 1, 0 },
	{ "mm/s", "mm/s", 1, 0 },
};

int utility_unit(const char *unit, unsigned qty, double *factor, double *offset)
{
	const char *si = qty_unit(qty);
	bool known = false;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(units); i++) {
		if (strcmp(units[i].name, unit) != 0)
			continue;
		known = true;
		if (strcmp(units[i].si, si) == 0) {
			*factor = units[i].factor;
			*offset = units[i].offset;
			return 0;
		}
	}
	return known ? -2 : -1;
}

const char *utility_units_for(unsigned qty)
{
	static char buf[160];
	const char *si = qty_unit(qty);
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < UTIL_ARRAY_LEN(units); i++)
		if (strcmp(units[i].si, si) == 0 && len + strlen(units[i].name) + 3 < sizeof(buf))
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						len ? ", " : "", units[i].name);
	return buf;
}

/* "10 l" -> number 10 and unit "l"; -1 when not a number and a word. */
static int split_number_unit(const char *s, double *num, char *unit, size_t size)
{
	char digits[64];
	size_t i = 0, n;

	while (s[i] != '\0' && (isdigit((unsigned char)s[i]) || strchr(".eE+-", s[i]) != NULL))
		i++;
	if (i == 0 || i >= sizeof(digits))
		return -1;
	memcpy(digits, s, i);
	digits[i] = '\0';
	if (util_parse_double(digits, num) < 0)
		return -1;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	n = strlen(s + i);
	while (n > 0 && (s[i + n - 1] == ' ' || s[i + n - 1] == '\t'))
		n--;
	if (n >= size)
		return -1;
	memcpy(unit, s + i, n);
	unit[n] = '\0';
	return 0;
}

int utility_parse_pulse(const char *s, unsigned *qty, double *si, char *why, size_t why_size)
{
	static const unsigned kinds[] = { QTY_VOLUME, QTY_E_IMP };
	double num, factor, offset;
	char unit[32];
	size_t k;

	if (split_number_unit(s, &num, unit, sizeof(unit)) < 0 || unit[0] == '\0') {
		snprintf(why, why_size, "a number and a unit, e.g. 10 l, 0.01 m3, 1 kWh");
		return -1;
	}
	if (!isfinite(num) || !(num > 0)) {
		snprintf(why, why_size, "must be greater than 0");
		return -1;
	}
	for (k = 0; k < UTIL_ARRAY_LEN(kinds); k++)
		if (utility_unit(unit, kinds[k], &factor, &offset) == 0) {
			char buf[32];

			/* 15 digits: 10 l is 0.01 m3, not 0.010000000000000002 */
			snprintf(buf, sizeof(buf), "%.15g", num * factor);
			*qty = kinds[k];
			*si = strtod(buf, NULL);
			return 0;
		}
	snprintf(why, why_size, "unknown unit '%.24s' (a volume: %s; an energy: %s)", unit,
		 "l, hl, m3, Nm3, ft3", "Wh, kWh, MWh");
	return -1;
}

int utility_parse_calorific(const char *s, double *kwh_per_m3, char *why, size_t why_size)
{
	double num;
	char unit[32];

	if (split_number_unit(s, &num, unit, sizeof(unit)) < 0) {
		snprintf(why, why_size, "a number in kWh/m3, e.g. 10.5 or 37.8 MJ/m3");
		return -1;
	}
	if (strcmp(unit, "MJ/m3") == 0) {
		num /= 3.6;
	} else if (unit[0] != '\0' && strcmp(unit, "kWh/m3") != 0) {
		snprintf(why, why_size, "unknown unit '%.24s' (kWh/m3 or MJ/m3)", unit);
		return -1;
	}
	if (!isfinite(num) || num < 0.1 || num > 100) {
		snprintf(why, why_size, "out of range 0.1..100 kWh/m3");
		return -1;
	}
	*kwh_per_m3 = num;
	return 0;
}

/* ---- gas energy ------------------------------------------------------------- */

size_t utility_derive_energy(const struct sample *in, size_t n, const double *cv_kwh,
			     size_t nmeters, struct sample *out, size_t max)
{
	size_t i, k = 0;

	for (i = 0; i < n && k < max; i++) {
		const struct sample *s = &in[i];
		double cv;

		if (s->qty != QTY_VOLUME || s->meter >= nmeters)
			continue;
		cv = cv_kwh[s->meter];
		if (!(cv > 0))
			continue;
		out[k] = *s;
		out[k].qty = QTY_E_IMP;
		out[k].value = s->value * cv * 1000.0;
		k++;
	}
	return k;
}

/* ---- counter wraps ------------------------------------------------------------ */

bool utility_counter_wrapped(double a, double b, double span)
{
	if (!(span > 0) || !(b < a) || b < 0 || a > span)
		return false;
	return (span - a) + b <= UTILITY_WRAP_FRACTION * span;
}

double utility_counter_rise(double a, double b, double span)
{
	double d = b - a;

	if (utility_counter_wrapped(a, b, span))
		return b + span - a;
	return d < -UTILITY_RESET_FRACTION * fabs(a) ? 0 : d;
}
