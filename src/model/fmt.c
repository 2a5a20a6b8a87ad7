// SPDX-License-Identifier: MIT
/*
 * fmt: numbers as operators read them on the console. Each kind of value
 * has a short table of tiers (a scale with its SI prefix, a number of
 * decimals, and the largest rounded value the tier may show); a value is
 * printed by the first tier whose *rounded* value stays below that tier's
 * limit. The choice of tier is thus made on what would be printed, so the
 * tiers join without a gap or an overlap: 999.4 W is "999 W", 999.5 W and
 * 999.96 W are "1.00 kW", never "1000 W"; 9.996 kW is "10.0 kW".
 *
 * Near a threshold the rounding keeps the value's side (fmt_against): the
 * scaled integer is rounded to nearest unless that crosses a limit, then
 * down or up towards the value's own side.
 *
 * Numbers are built from integers (the value scaled and rounded half away
 * from zero to an integer, then printed as integer part '.' fraction), so
 * the result never depends on LC_NUMERIC: the console calls
 * setlocale(LC_ALL, "") for UTF-8, which may make printf's "%f" write a
 * comma. Values too large for that (beyond 9e15 in the last tier's unit)
 * go through "%.0f", which prints no radix character in any locale.
 */
#include "phasor/fmt.h"

#include <inttypes.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "phasor/qty.h"
#include "phasor/util.h"

struct tier {
	double scale;       /* the value is divided by this */
	int prec;           /* decimals */
	double limit;       /* the rounded scaled value must stay below this */
	const char *prefix; /* SI prefix written before the unit */
};

#define TIERS(t) (t), UTIL_ARRAY_LEN(t)

/* W, var, VA: "950 W", "9.87 kW", "512.3 kW", "1.25 MW", "12.3 MW". */
static const struct tier tiers_si[] = {
	{ 1, 0, 1000, "" },
	{ 1e3, 2, 10, "k" },   { 1e3, 1, 1000, "k" },
	{ 1e6, 2, 10, "M" },   { 1e6, 1, 1000, "M" },
	{ 1e9, 2, 10, "G" },   { 1e9, 1, 1000, "G" },
	{ 1e12, 2, 10, "T" },  { 1e12, 1, INFINITY, "T" },
};

/* Wh, varh: "850 Wh", "9.87 kWh", "12.4 kWh", "4213 kWh", "12.5 MWh", "3.40 GWh". */
static const struct tier tiers_energy[] = {
	{ 1, 0, 1000, "" },
	{ 1e3, 2, 10, "k" },   { 1e3, 1, 1000, "k" },  { 1e3, 0, 10000, "k" },
	{ 1e6, 1, 1000, "M" },
	{ 1e9, 2, 10, "G" },   { 1e9, 1, 1000, "G" },
	{ 1e12, 2, 10, "T" },  { 1e12, 1, INFINITY, "T" },
};

/* Voltages: "230.1 V"; medium and high voltage in kV ("20.00 kV", "110.0 kV"). */
static const struct tier tiers_volt[] = {
	{ 1, 1, 1000, "" },
	{ 1e3, 2, 100, "k" },  { 1e3, 1, 1000, "k" },
	{ 1e6, 2, INFINITY, "M" },
};

/* Currents and other quantities: "4.03 A", "45.6 A", "1234 A". */
static const struct tier tiers_3digit[] = {
	{ 1, 2, 10, "" },
	{ 1, 1, 1000, "" },
	{ 1, 0, INFINITY, "" },
};

/* Percentages: "2.4 %", "104 %". */
static const struct tier tiers_pct[] = {
	{ 1, 1, 100, "" },
	{ 1, 0, INFINITY, "" },
};

static const struct tier tiers_pf[] = { { 1, 3, INFINITY, "" } };
static const struct tier tiers_freq[] = { { 1, 2, INFINITY, "" } };
static const struct tier tiers_temp[] = { { 1, 1, INFINITY, "" } };
static const struct tier tiers_money[] = { { 1, 2, INFINITY, "" } };

static const double pow10_tab[] = { 1, 10, 100, 1000, 10000 };

/* The largest scaled value rounded through integers (exact in a double). */
#define INT_EXACT 9e15

static char *put(char *buf, size_t size, const char *s)
{
	if (size > 0)
		snprintf(buf, size, "%s", s);
	return buf;
}

/* " kW", " W", " k" or "" (nothing when neither prefix nor unit). */
static void suffix(char *out, size_t size, const char *prefix, const char *unit)
{
	if (unit == NULL)
		unit = "";
	if (prefix[0] == '\0' && unit[0] == '\0')
		out[0] = '\0';
	else
		snprintf(out, size, " %s%s", prefix, unit);
}

/*
 * The rule of fmt_against. v: the value; x: |v| scaled so that one unit of
 * the last digit is 1 (|v| * up, or |v| / down when down is not 0).
 * Returns the integer to print: x rounded to nearest, unless the number it
 * reads back as is on the other side of a limit than v, then rounded
 * towards v's side. Sides are compared unscaled, as a reader would (the
 * printed decimal against the limit).
 */
static uint64_t keep_side(double v, double x, double up, double down,
			  const struct fmt_limit *lims, size_t n)
{
	double r = (double)llround(x), sign = v < 0 ? -1.0 : 1.0;
	size_t i;

	for (i = 0; i < n; i++) {
		double at = lims[i].at, shown = sign * (down != 0.0 ? r * down : r / up);
		bool beyond, shown_beyond;

		if (isnan(at))
			continue;
		beyond = lims[i].high ? v > at : v < at;
		shown_beyond = lims[i].high ? shown > at : shown < at;
		if (beyond == shown_beyond)
			continue;
		/* towards v's side: down (in value) when v is below the limit;
		 * one unit further when x itself rounded onto the limit
		 * (v one ulp below it) */
		bool down_v = lims[i].high != beyond;
		double step = (down_v ? -1.0 : 1.0) * sign;

		r = step < 0 ? floor(x) : ceil(x);
		shown = sign * (down != 0.0 ? r * down : r / up);
		if ((lims[i].high ? shown > at : shown < at) != beyond && r + step >= 0.0)
			r += step;
		break;
	}
	return (uint64_t)r;
}

static char *fmt_tiers_lim(double v, const struct tier *t, size_t nt, const char *unit,
			   const struct fmt_limit *lims, size_t nlims, char *buf, size_t size)
{
	char suf[48], frac[8];
	double a;
	size_t i;

	if (size == 0)
		return buf;
	if (isnan(v))
		return put(buf, size, "-");
	if (isinf(v))
		return put(buf, size, v > 0 ? "inf" : "-inf");
	a = fabs(v);
	for (i = 0; i < nt; i++) {
		double p10 = pow10_tab[t[i].prec];
		/* One division by an exact power of ten: correctly rounded. */
		double x = t[i].scale >= p10 ? a / (t[i].scale / p10) : a * (p10 / t[i].scale);
		uint64_t n, ip, fp;
		bool last = i + 1 == nt;

		if (x >= INT_EXACT) {
			if (!last)
				continue;
			/* Beyond integer precision: no decimals, no radix character. */
			suffix(suf, sizeof(suf), t[i].prefix, unit);
			snprintf(buf, size, "%s%.0f%s", v < 0 ? "-" : "", a / t[i].scale, suf);
			return buf;
		}
		n = (uint64_t)llround(x);
		if (!last && (double)n >= t[i].limit * p10)
			continue;
		if (nlims > 0)
			n = t[i].scale >= p10 ? keep_side(v, x, 0.0, t[i].scale / p10, lims, nlims)
					      : keep_side(v, x, p10 / t[i].scale, 0.0, lims, nlims);
		ip = n / (uint64_t)p10;
		fp = n % (uint64_t)p10;
		suffix(suf, sizeof(suf), t[i].prefix, unit);
		/* A value that rounds to zero prints without a sign. */
		frac[0] = '\0';
		if (t[i].prec > 0) {
			int k;

			frac[0] = '.';
			for (k = t[i].prec; k > 0; k--, fp /= 10)
				frac[k] = (char)('0' + fp % 10);
			frac[t[i].prec + 1] = '\0';
		}
		snprintf(buf, size, "%s%" PRIu64 "%s%s", v < 0 && n > 0 ? "-" : "", ip, frac, suf);
		return buf;
	}
	return put(buf, size, "-"); /* not reached: the last tier always prints */
}

static char *fmt_tiers(double v, const struct tier *t, size_t nt, const char *unit, char *buf,
		       size_t size)
{
	return fmt_tiers_lim(v, t, nt, unit, NULL, 0, buf, size);
}

char *fmt_against(double v, const struct fmt_limit *lims, size_t n, int decimals, char *buf,
		  size_t size)
{
	struct tier t = { 1, decimals < 0 ? 0 : decimals > 4 ? 4 : decimals, INFINITY, "" };

	return fmt_tiers_lim(v, &t, 1, NULL, lims, n, buf, size);
}

char *fmt_si(double v, const char *unit, char *buf, size_t size)
{
	return fmt_tiers(v, TIERS(tiers_si), unit, buf, size);
}

static bool is_energy_unit(const char *unit)
{
	return strcmp(unit, "Wh") == 0 || strcmp(unit, "varh") == 0 || strcmp(unit, "VAh") == 0;
}

static bool is_power_unit(const char *unit)
{
	return strcmp(unit, "W") == 0 || strcmp(unit, "var") == 0 || strcmp(unit, "VA") == 0;
}

/* The tiers and the unit shown for a quantity (the unit NULL for none). */
static const struct tier *qty_tiers(unsigned qty, size_t *nt, const char **unit)
{
	const char *u = qty_unit(qty);

	*unit = u;
	if (is_power_unit(u)) {
		*nt = UTIL_ARRAY_LEN(tiers_si);
		return tiers_si;
	}
	if (is_energy_unit(u)) {
		*nt = UTIL_ARRAY_LEN(tiers_energy);
		return tiers_energy;
	}
	if (strcmp(u, "V") == 0) {
		*nt = UTIL_ARRAY_LEN(tiers_volt);
		return tiers_volt;
	}
	if (strcmp(u, "%") == 0) {
		*nt = UTIL_ARRAY_LEN(tiers_pct);
		return tiers_pct;
	}
	if (strcmp(u, "Hz") == 0) {
		*nt = UTIL_ARRAY_LEN(tiers_freq);
		return tiers_freq;
	}
	if (strcmp(u, "degC") == 0) {
		*nt = UTIL_ARRAY_LEN(tiers_temp);
		return tiers_temp;
	}
	if (strcmp(u, "1") == 0) { /* power factor: no unit */
		*unit = NULL;
		*nt = UTIL_ARRAY_LEN(tiers_pf);
		return tiers_pf;
	}
	*nt = UTIL_ARRAY_LEN(tiers_3digit);
	return tiers_3digit;
}

char *fmt_qty(unsigned qty, double v, char *buf, size_t size)
{
	const char *unit;
	size_t nt;
	const struct tier *t = qty_tiers(qty, &nt, &unit);

	return fmt_tiers(v, t, nt, unit, buf, size);
}

char *fmt_qty_against(unsigned qty, double v, const struct fmt_limit *lims, size_t n, char *buf,
		      size_t size)
{
	const char *unit;
	size_t nt;
	const struct tier *t = qty_tiers(qty, &nt, &unit);

	return fmt_tiers_lim(v, t, nt, unit, lims, n, buf, size);
}

char *fmt_qty_bare(unsigned qty, double v, char *buf, size_t size)
{
	const char *unit;
	size_t nt;
	const struct tier *t = qty_tiers(qty, &nt, &unit);

	/* The SI prefix stays ("512.3 k"): the unit alone cannot say it. */
	return fmt_tiers(v, t, nt, NULL, buf, size);
}

char *fmt_energy(double wh, char *buf, size_t size)
{
	return fmt_tiers(wh, TIERS(tiers_energy), "Wh", buf, size);
}

char *fmt_pct(double pct, char *buf, size_t size)
{
	return fmt_tiers(pct, TIERS(tiers_pct), "%", buf, size);
}

char *fmt_age(int64_t us, char *buf, size_t size)
{
	int64_t s;

	if (size == 0)
		return buf;
	if (us < 0)
		return put(buf, size, "never");
	/* Ages are truncated (as clocks are): 59.9 s is still "59s", and a
	 * tier never shows the value where the next one begins. */
	s = us / 1000000;
	if (s < 1)
		snprintf(buf, size, "0.%" PRId64 "s", us / 100000);
	else if (s < 60)
		snprintf(buf, size, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, size, "%" PRId64 "m", s / 60);
	else if (s < 86400)
		snprintf(buf, size, "%" PRId64 "h%02" PRId64, s / 3600, s % 3600 / 60);
	else
		snprintf(buf, size, "%" PRId64 "d", s / 86400);
	return buf;
}

char *fmt_money(double amount, const char *currency, char *buf, size_t size)
{
	return fmt_tiers(amount, TIERS(tiers_money), currency, buf, size);
}
