/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_FMT_H
#define PHASOR_FMT_H
/*
 * fmt: numbers for operators: SI prefixes, units and a precision that suits
 * each quantity ("512.3 kW", "230.1 V", "0.871", "2.4 %", "50.01 Hz"), ages
 * ("3s", "2m", "2h05") and energies. Pure functions, ASCII output only (the
 * unit "degC", never a degree sign), every one writes into buf (always
 * terminated) and returns buf. A NaN value prints as "-", infinities as
 * "inf" / "-inf". The precision steps up where the *rounded* value reaches
 * the next range: 999.96 W is "1.00 kW", never "1000 W". The decimal
 * separator is always '.', whatever LC_NUMERIC says.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Power or any W/var/VA value with its unit: "950 W", "12.3 kW", "1.25 MW". */
char *fmt_si(double v, const char *unit, char *buf, size_t size);

/* A quantity's value with its unit and precision (qty: enum qty_id). */
char *fmt_qty(unsigned qty, double v, char *buf, size_t size);

/* The same without the unit (for tables whose header names the unit); an SI
 * prefix stays: "230.1", "512.3 k". */
char *fmt_qty_bare(unsigned qty, double v, char *buf, size_t size);

/*
 * A threshold a value is judged against: high, the value is beyond it
 * when v > at ("over 8 %", equality is within); else when v < at ("below
 * 0.85", equality is within: 0.850 is not below 0.85).
 */
struct fmt_limit {
	double at;
	bool high;
};

/*
 * Values that agree with their words. The digits printed are on the same
 * side of every limit as the value itself, so that a number never
 * contradicts the tier, band or alarm shown beside it: v is rounded to the
 * nearest as usual, unless that would cross a limit (0.8496 against
 * "below 0.85" would print 0.850); then it is rounded towards its own side
 * instead (0.849), one unit of the last digit at most from the nearest.
 * Limits closer together than one unit of the last digit cannot all be
 * kept; the first of lims that is crossed wins.
 */
/* fmt_qty's text (unit, prefix, precision) by that rule; lims may be NULL when n is 0. */
char *fmt_qty_against(unsigned qty, double v, const struct fmt_limit *lims, size_t n, char *buf,
		      size_t size);
/* v with decimals (0..4) decimals and no unit ("0.849"), by that rule. */
char *fmt_against(double v, const struct fmt_limit *lims, size_t n, int decimals, char *buf,
		  size_t size);

/* Energy from Wh: "850 Wh", "12.4 kWh", "4213 kWh" (no decimal from 1000 to
 * 9999 kWh), "12.5 MWh", "3.40 GWh". */
char *fmt_energy(double wh, char *buf, size_t size);

/* A percentage: "2.4 %" (one decimal under 100, none above). */
char *fmt_pct(double pct, char *buf, size_t size);

/* An age or duration, truncated: "0.4s", "12s", "3m", "2h05", "4d", "never" (us < 0). */
char *fmt_age(int64_t us, char *buf, size_t size);

/* Money: "632.40 EUR" (currency may be NULL). */
char *fmt_money(double amount, const char *currency, char *buf, size_t size);

#endif
