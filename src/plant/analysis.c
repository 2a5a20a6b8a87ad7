// SPDX-License-Identifier: MIT
/*
 * analysis: the electrical analysis of one meter's latest values, as pure
 * functions. The live state hands in a struct analysis_input (NaN where a
 * value is missing, bad or stale) and the views show the struct
 * analysis_result: power factor with its sign, nature and tier, tan phi,
 * the reactive compensation to reach the target PF, voltage and current
 * unbalance (NEMA and IEC), the voltage band, THD and frequency checks and
 * the seed's risk list. Thresholds come from struct analysis_params.
 *
 * Every figure depending on a NaN input is NaN or "unknown" and raises no
 * risk; nothing here divides by zero. The formulas, thresholds and worked
 * examples are in docs/analysis.md.
 */
#include "phasor/analysis.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "phasor/util.h"

/*
 * Meters give PF as float32: 0.9f reads back as 0.89999998, which must
 * still be "good". PF comparisons allow this much below a boundary; it is
 * far below any displayed precision (3 decimals).
 */
#define PF_EPS 1e-6
/* The same tolerance on tan phi (d tan / d pf is about 3.6 at PF 0.95). */
#define TAN_EPS 1e-5

/* The seed's L-L voltage limits are for this L-N nominal voltage. */
#define SEED_NOMINAL_V 230.0

/* Phase loss: one L-N below 50 % of nominal while another is above 80 %. */
#define PHASE_LOSS_LOW 0.5
#define PHASE_LOSS_HIGH 0.8

void analysis_defaults(struct analysis_params *p)
{
	p->nominal_v = 230.0;
	p->nominal_freq = 50.0;
	p->max_power = NAN;     /* no overload limit unless the meter has one */
	p->target_pf = 0.95;
	p->pf_min = 0.85;
	p->tan_phi_max = 0.4;
	p->unbalance_max = 15.0;
	p->thd_v_max = 8.0;
	p->vband_pct = 10.0;
	p->freq_pct = 1.0;
	p->v_ll_min = 380.0;
	p->v_ll_max = 420.0;
}

void analysis_input_clear(struct analysis_input *in)
{
	int k;

	for (k = 0; k < 3; k++) {
		in->v_ln[k] = NAN;
		in->v_ll[k] = NAN;
		in->i[k] = NAN;
		in->p[k] = NAN;
		in->q[k] = NAN;
		in->s[k] = NAN;
		in->pf[k] = NAN;
		in->thd_v[k] = NAN;
		in->thd_i[k] = NAN;
	}
	in->i_n = NAN;
	in->p_total = NAN;
	in->q_total = NAN;
	in->s_total = NAN;
	in->pf_total = NAN;
	in->freq = NAN;
}

/* ---- names ---- */

const char *analysis_pf_tier_name(enum pf_tier t)
{
	switch (t) {
	case PF_EXCELLENT: return "excellent";
	case PF_GOOD: return "good";
	case PF_ACCEPTABLE: return "acceptable";
	case PF_POOR: return "poor";
	case PF_CRITICAL: return "critical";
	case PF_UNKNOWN: break;
	}
	return "unknown";
}

const char *analysis_unbalance_band_name(enum unbalance_band b)
{
	switch (b) {
	case UNB_EXCELLENT: return "excellent";
	case UNB_ACCEPTABLE: return "acceptable";
	case UNB_MODERATE: return "moderate";
	case UNB_SEVERE: return "severe";
	case UNB_UNKNOWN: break;
	}
	return "unknown";
}

const char *analysis_vband_name(enum vband v)
{
	switch (v) {
	case VBAND_OK: return "ok";
	case VBAND_LOW: return "low";
	case VBAND_HIGH: return "high";
	case VBAND_UNKNOWN: break;
	}
	return "unknown";
}

const char *analysis_risk_level_name(enum risk_level l)
{
	switch (l) {
	case RISK_NORMAL: return "normal";
	case RISK_MINOR: return "minor";
	case RISK_MAJOR: return "major";
	case RISK_CRITICAL: return "critical";
	}
	return "unknown";
}

const char *analysis_pf_nature_name(enum pf_nature n)
{
	switch (n) {
	case PF_INDUCTIVE: return "inductive";
	case PF_CAPACITIVE: return "capacitive";
	case PF_NATURE_UNKNOWN: break;
	}
	return "unknown";
}

/* ---- power factor ---- */

/* The tiers' lower edges, best first (analysis_pf_tier). */
static const double pf_edges[] = { 0.95, 0.90, 0.85, 0.80 };

char *analysis_pf_text(double pf, int decimals, char *buf, size_t size)
{
	struct fmt_limit lims[UTIL_ARRAY_LEN(pf_edges)];
	size_t k;
	int n;

	if (isnan(pf) || size < 2)
		return fmt_against(pf, NULL, 0, decimals, buf, size);
	/* |pf| as the tiers read it (with their tolerance), sign apart */
	for (k = 0; k < UTIL_ARRAY_LEN(pf_edges); k++)
		lims[k] = (struct fmt_limit){ pf_edges[k], false };
	n = pf < 0 ? 1 : 0;
	if (n)
		buf[0] = '-';
	fmt_against(fabs(pf) + PF_EPS, lims, UTIL_ARRAY_LEN(lims), decimals, buf + n, size - (size_t)n);
	/* -0.000 reads as 0.000 */
	if (n && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	return buf;
}

enum pf_tier analysis_pf_tier(double pf)
{
	double a;

	if (isnan(pf))
		return PF_UNKNOWN;
	a = fabs(pf) + PF_EPS;
	if (a >= pf_edges[0])
		return PF_EXCELLENT;
	if (a >= pf_edges[1])
		return PF_GOOD;
	if (a >= pf_edges[2])
		return PF_ACCEPTABLE;
	if (a >= pf_edges[3])
		return PF_POOR;
	return PF_CRITICAL;
}

double analysis_pf_penalty(enum pf_tier t)
{
	switch (t) {
	case PF_EXCELLENT:
	case PF_GOOD:
		return 0.0;
	case PF_ACCEPTABLE:
		return 0.02;
	case PF_POOR:
	case PF_CRITICAL:
		return 0.05;
	case PF_UNKNOWN:
		break;
	}
	return NAN;
}

double analysis_pf_from(double p, double q, double s)
{
	double sa, pf;

	if (isnan(p))
		return NAN;
	if (!isnan(s))
		sa = fabs(s);
	else if (!isnan(q))
		sa = hypot(p, q);
	else
		return NAN;
	if (!(sa > 0.0) || isinf(sa) || isinf(p))
		return NAN;
	pf = fabs(p) / sa;
	/* P and S are read at slightly different instants: |P| may exceed S. */
	if (pf > 1.0)
		pf = 1.0;
	return p < 0.0 ? -pf : pf;
}

/*
 * A PF register's value signed by the sign of P (some meters, the PAC3200,
 * give 0..1). Without P (or with P = 0) the meter's own sign is kept.
 */
static double pf_signed(double pf_reg, double p)
{
	double a = fabs(pf_reg);

	if (isnan(pf_reg))
		return NAN;
	if (a > 1.0)
		a = 1.0;
	if (isnan(p) || p == 0.0)
		return pf_reg < 0.0 ? -a : a;
	return p < 0.0 ? -a : a;
}

/* Lagging when P and Q have the same sign, leading when opposite. */
static enum pf_nature pf_nature_of(double p, double q)
{
	if (isnan(p) || isnan(q) || p == 0.0 || q == 0.0)
		return PF_NATURE_UNKNOWN;
	return (p > 0.0) == (q > 0.0) ? PF_INDUCTIVE : PF_CAPACITIVE;
}

double analysis_tan_phi(double pf)
{
	double a;

	if (isnan(pf) || pf == 0.0)
		return NAN;
	a = fabs(pf);
	if (a >= 1.0)
		return 0.0;
	return sqrt(1.0 / (a * a) - 1.0);
}

/* |P| x (tan1 - tan2), 0 when tan1 is already at or below tan2. */
static double q_comp_tan(double p, double tan1, double tan2)
{
	if (isnan(p) || isnan(tan1) || isnan(tan2) || isinf(p) || isinf(tan1))
		return NAN;
	if (tan1 <= tan2 + TAN_EPS)
		return 0.0;
	return fabs(p) * (tan1 - tan2);
}

double analysis_q_comp(double p, double pf1, double pf2)
{
	if (isnan(pf1) || isnan(pf2))
		return NAN;
	if (fabs(pf1) + PF_EPS >= fabs(pf2))
		return isnan(p) ? NAN : 0.0;
	return q_comp_tan(p, analysis_tan_phi(pf1), analysis_tan_phi(pf2));
}

/* Standard capacitor bank sizes, kvar. */
static const double bank_kvar[] = {
	2.5, 5, 7.5, 10, 12.5, 15, 20, 25, 30, 40, 50, 60, 75, 80, 100, 120, 150, 175, 200,
	250, 300, 350, 400, 450, 500, 600, 700, 800, 900, 1000,
};

double analysis_q_bank(double q)
{
	double kvar;
	size_t i;

	if (isnan(q))
		return NAN;
	if (q <= 0.0)
		return 0.0;
	if (isinf(q))
		return q;
	kvar = q / 1000.0;
	for (i = 0; i < sizeof(bank_kvar) / sizeof(bank_kvar[0]); i++)
		if (bank_kvar[i] >= kvar)
			return bank_kvar[i] * 1000.0;
	return ceil(kvar / 100.0) * 100.0 * 1000.0;
}

/* ---- unbalance ---- */

static bool all3(const double x[3])
{
	return !isnan(x[0]) && !isnan(x[1]) && !isnan(x[2]);
}

double analysis_unbalance_nema(const double x[3])
{
	double mean, dev = 0.0;
	int k;

	if (!all3(x))
		return NAN;
	mean = (x[0] + x[1] + x[2]) / 3.0;
	if (!(mean > 0.0) || isinf(mean))
		return NAN;
	for (k = 0; k < 3; k++)
		if (fabs(x[k] - mean) > dev)
			dev = fabs(x[k] - mean);
	return 100.0 * dev / mean;
}

double analysis_unbalance_iec(double u12, double u23, double u31)
{
	double a2, b2, c2, sum2, b, r, u2;

	if (isnan(u12) || isnan(u23) || isnan(u31))
		return NAN;
	a2 = u12 * u12;
	b2 = u23 * u23;
	c2 = u31 * u31;
	sum2 = a2 + b2 + c2;
	if (!(sum2 > 0.0) || isinf(sum2))
		return NAN;
	b = (a2 * a2 + b2 * b2 + c2 * c2) / (sum2 * sum2);
	r = 3.0 - 6.0 * b;
	/* b is 1/3 for a balanced system: rounding can make r slightly negative. */
	if (r < 0.0)
		r = 0.0;
	r = sqrt(r);
	u2 = (1.0 - r) / (1.0 + r);
	if (u2 < 0.0)
		u2 = 0.0;
	return sqrt(u2) * 100.0;
}

/* The bands' upper edges (analysis_unbalance_band). */
static const double unb_edges[] = { 5.0, 10.0, 20.0 };

enum unbalance_band analysis_unbalance_band(double pct)
{
	if (isnan(pct))
		return UNB_UNKNOWN;
	if (pct < unb_edges[0])
		return UNB_EXCELLENT;
	if (pct < unb_edges[1])
		return UNB_ACCEPTABLE;
	if (pct < unb_edges[2])
		return UNB_MODERATE;
	return UNB_SEVERE;
}

size_t analysis_unbalance_limits(const struct analysis_params *par, struct fmt_limit out[4])
{
	size_t k;

	for (k = 0; k < UTIL_ARRAY_LEN(unb_edges); k++)
		out[k] = (struct fmt_limit){ unb_edges[k], false };
	out[k] = (struct fmt_limit){ par->unbalance_max, true };  /* the risk: > max */
	return k + 1;
}

struct fmt_limit analysis_tan_phi_limit(const struct analysis_params *par)
{
	return (struct fmt_limit){ par->tan_phi_max + TAN_EPS, true };
}

/*
 * Index of the largest |x| among three known values (first on ties), or -1
 * when one is unknown or all are zero.
 */
static int argmax_abs3(const double x[3])
{
	int k, best = 0;

	if (!all3(x))
		return -1;
	for (k = 1; k < 3; k++)
		if (fabs(x[k]) > fabs(x[best]))
			best = k;
	return fabs(x[best]) > 0.0 ? best : -1;
}

static void recommend(struct analysis_result *out)
{
	const char *what;
	double pct;
	char where[40] = "";

	out->recommendation[0] = '\0';
	if (isnan(out->v_unb_nema) && isnan(out->i_unb_nema))
		return;
	/* The current figure wins ties: it is what moving loads changes. */
	if (isnan(out->v_unb_nema) || (!isnan(out->i_unb_nema) && out->i_unb_nema >= out->v_unb_nema)) {
		pct = out->i_unb_nema;
		what = "current";
	} else {
		pct = out->v_unb_nema;
		what = out->v_unb_from_ll ? "voltage L-L" : "voltage";
	}
	switch (out->band) {
	case UNB_EXCELLENT:
		snprintf(out->recommendation, sizeof(out->recommendation),
			 "Unbalance %.1f%% (%s, NEMA): excellent, no action", pct, what);
		break;
	case UNB_ACCEPTABLE:
		snprintf(out->recommendation, sizeof(out->recommendation),
			 "Unbalance %.1f%% (%s, NEMA): acceptable, watch", pct, what);
		break;
	case UNB_MODERATE:
		if (out->most_loaded >= 0)
			snprintf(where, sizeof(where), " away from L%d", out->most_loaded + 1);
		snprintf(out->recommendation, sizeof(out->recommendation),
			 "Unbalance %.1f%% (%s, NEMA): moderate, redistribute single-phase loads%s",
			 pct, what, where);
		break;
	case UNB_SEVERE:
		if (out->most_loaded >= 0)
			snprintf(where, sizeof(where), " (L%d most loaded)", out->most_loaded + 1);
		snprintf(out->recommendation, sizeof(out->recommendation),
			 "Unbalance %.1f%% (%s, NEMA): severe, rebalance urgently%s", pct, what,
			 where);
		break;
	case UNB_UNKNOWN:
		break;
	}
}

/* ---- risks ---- */

static const char *const act_overload[] = {
	"Shed non-essential loads", "Check load distribution", "Call electrical maintenance",
	NULL,
};
static const char *const act_poor_pf[] = {
	"Check capacitor banks", "Schedule preventive maintenance", "Watch reactive consumption",
	NULL,
};
static const char *const act_low_voltage[] = {
	"Check electrical connections", "Check transformers", "Call the energy supplier", NULL,
};
static const char *const act_high_voltage[] = {
	"Check transformer tap setting", "Check capacitor banks for over-compensation",
	"Call the energy supplier", NULL,
};
static const char *const act_unbalance[] = {
	"Redistribute single-phase loads", "Check fuses and connections of each phase",
	"Check three-phase motors for faults", NULL,
};
static const char *const act_thd[] = {
	"Identify non-linear loads (drives, UPS, rectifiers)", "Check harmonic filters",
	"Check capacitor banks for resonance", NULL,
};
static const char *const act_frequency[] = {
	"Check the supply source (grid or generator)", "Check generator speed control",
	"Call the energy supplier", NULL,
};
static const char *const act_phase_loss[] = {
	"Check fuses and circuit breakers", "Check the connections of the missing phase",
	"Stop three-phase motors to prevent damage", NULL,
};

static const struct {
	enum risk_level level;
	const char *text;
	const char *const *actions;
} risk_table[RISK__COUNT] = {
	[RISK_OVERLOAD] = { RISK_CRITICAL, "Overload", act_overload },
	[RISK_POOR_PF] = { RISK_MAJOR, "Poor power factor", act_poor_pf },
	[RISK_LOW_VOLTAGE] = { RISK_MAJOR, "Low voltage", act_low_voltage },
	[RISK_HIGH_VOLTAGE] = { RISK_MAJOR, "High voltage", act_high_voltage },
	[RISK_UNBALANCE] = { RISK_CRITICAL, "Unbalance", act_unbalance },
	[RISK_THD] = { RISK_MAJOR, "Voltage THD", act_thd },
	[RISK_FREQUENCY] = { RISK_MAJOR, "Frequency", act_frequency },
	[RISK_PHASE_LOSS] = { RISK_CRITICAL, "Phase loss", act_phase_loss },
};

static void add_risk(struct analysis_result *out, enum risk_kind kind, double value, double limit)
{
	struct analysis_risk *r;

	if (out->nrisks >= RISK__COUNT)
		return;
	r = &out->risks[out->nrisks++];
	r->kind = kind;
	r->level = risk_table[kind].level;
	r->value = value;
	r->limit = limit;
	r->text = risk_table[kind].text;
	r->actions = risk_table[kind].actions;
}

/* Worst first; equal levels keep the order of enum risk_kind (stable). */
static void sort_risks(struct analysis_result *out)
{
	size_t i, j;

	for (i = 1; i < out->nrisks; i++) {
		struct analysis_risk r = out->risks[i];

		for (j = i; j > 0 && out->risks[j - 1].level < r.level; j--)
			out->risks[j] = out->risks[j - 1];
		out->risks[j] = r;
	}
	out->risk = out->nrisks > 0 ? out->risks[0].level : RISK_NORMAL;
}

/* Max (or min) of the known values of x; NaN when none is known. */
static double max_known(const double *x, size_t n)
{
	double m = NAN;
	size_t k;

	for (k = 0; k < n; k++)
		if (!isnan(x[k]) && (isnan(m) || x[k] > m))
			m = x[k];
	return m;
}

static double min_known(const double *x, size_t n)
{
	double m = NAN;
	size_t k;

	for (k = 0; k < n; k++)
		if (!isnan(x[k]) && (isnan(m) || x[k] < m))
			m = x[k];
	return m;
}

static void compute_risks(const struct analysis_input *in, const struct analysis_params *par,
			  struct analysis_result *out)
{
	double scale = par->nominal_v / SEED_NOMINAL_V;
	double v, v_lo, v_hi, unb, fdev, ln_min, ln_max;
	double unb2[2];

	if (!isnan(out->p_total) && par->max_power > 0.0 && out->p_total > par->max_power)
		add_risk(out, RISK_OVERLOAD, out->p_total, par->max_power);

	if (!isnan(out->pf_total) && fabs(out->pf_total) + PF_EPS < par->pf_min)
		add_risk(out, RISK_POOR_PF, fabs(out->pf_total), par->pf_min);

	v_lo = par->v_ll_min * scale;
	v_hi = par->v_ll_max * scale;
	v = min_known(out->v_ll, 3);
	if (!isnan(v) && v < v_lo)
		add_risk(out, RISK_LOW_VOLTAGE, v, v_lo);
	v = max_known(out->v_ll, 3);
	if (!isnan(v) && v > v_hi)
		add_risk(out, RISK_HIGH_VOLTAGE, v, v_hi);

	unb2[0] = out->v_unb_nema;
	unb2[1] = out->i_unb_nema;
	unb = max_known(unb2, 2);
	if (!isnan(unb) && unb > par->unbalance_max)
		add_risk(out, RISK_UNBALANCE, unb, par->unbalance_max);

	v = max_known(in->thd_v, 3);
	if (!isnan(v) && v > par->thd_v_max)
		add_risk(out, RISK_THD, v, par->thd_v_max);

	if (out->freq_ok == 0) {
		fdev = par->nominal_freq * par->freq_pct / 100.0;
		add_risk(out, RISK_FREQUENCY, in->freq,
			 in->freq < par->nominal_freq ? par->nominal_freq - fdev
						      : par->nominal_freq + fdev);
	}

	ln_min = min_known(in->v_ln, 3);
	ln_max = max_known(in->v_ln, 3);
	if (!isnan(ln_min) && par->nominal_v > 0.0 && ln_min < PHASE_LOSS_LOW * par->nominal_v &&
	    ln_max > PHASE_LOSS_HIGH * par->nominal_v)
		add_risk(out, RISK_PHASE_LOSS, ln_min, PHASE_LOSS_LOW * par->nominal_v);

	sort_risks(out);
}

/* ---- the whole analysis ---- */

/* The read total, or the sum of the three phases when all are known. */
static double total_of(double total, const double x[3])
{
	if (!isnan(total))
		return total;
	if (!all3(x))
		return NAN;
	return x[0] + x[1] + x[2];
}

/* PF of one phase or the total: the register's magnitude, or derived. */
static double pf_of(double pf_reg, double p, double q, double s, bool *derived)
{
	double pf;

	*derived = false;
	if (!isnan(pf_reg))
		return pf_signed(pf_reg, p);
	pf = analysis_pf_from(p, q, s);
	*derived = !isnan(pf);
	return pf;
}

static void compute(const struct analysis_input *in, const struct analysis_params *par,
		    struct analysis_result *out, bool words)
{
	double tan2, fdev, vdev;
	int k;

	memset(out, 0, sizeof(*out));

	/* Totals */
	out->p_total = total_of(in->p_total, in->p);
	out->q_total = total_of(in->q_total, in->q);
	out->s_total = total_of(in->s_total, in->s);

	/* Power factor */
	for (k = 0; k < 3; k++) {
		out->pf[k] = pf_of(in->pf[k], in->p[k], in->q[k], in->s[k], &out->pf_derived[k]);
		out->nature[k] = pf_nature_of(in->p[k], in->q[k]);
		out->tier[k] = analysis_pf_tier(out->pf[k]);
	}
	out->pf_total = pf_of(in->pf_total, out->p_total, out->q_total, out->s_total,
			      &out->pf_total_derived);
	out->nature_total = pf_nature_of(out->p_total, out->q_total);
	out->tier_total = analysis_pf_tier(out->pf_total);
	out->penalty_total = analysis_pf_penalty(out->tier_total);

	/* tan phi: Q/P when both are known (the displacement the capacitors
	 * correct), else from the PF. */
	if (!isnan(out->p_total) && !isnan(out->q_total))
		out->tan_phi = out->p_total != 0.0 ? fabs(out->q_total / out->p_total) : NAN;
	else
		out->tan_phi = analysis_tan_phi(out->pf_total);
	out->tan_phi_ok = isnan(out->tan_phi) || out->tan_phi <= par->tan_phi_max + TAN_EPS;

	tan2 = analysis_tan_phi(par->target_pf);
	out->q_comp = q_comp_tan(out->p_total, out->tan_phi, tan2);
	/* A leading load needs capacitive var removed (capacitor steps off),
	 * not a capacitor bank added. */
	out->q_bank = out->nature_total == PF_CAPACITIVE && !isnan(out->q_comp)
			      ? 0.0
			      : analysis_q_bank(out->q_comp);

	/* Line-to-line voltages: as read, else from the two L-N magnitudes
	 * assuming 120 degrees between phases (V x sqrt(3) when balanced). */
	out->v_ll_derived = false;
	for (k = 0; k < 3; k++) {
		double a = in->v_ln[k], b = in->v_ln[(k + 1) % 3];

		out->v_ll[k] = in->v_ll[k];
		if (isnan(out->v_ll[k]) && !isnan(a) && !isnan(b)) {
			out->v_ll[k] = sqrt(a * a + b * b + a * b);
			out->v_ll_derived = true;
		}
	}

	/* Unbalance */
	out->v_unb_nema = analysis_unbalance_nema(in->v_ln);
	out->v_unb_from_ll = false;
	if (isnan(out->v_unb_nema) && !all3(in->v_ln)) {
		out->v_unb_nema = analysis_unbalance_nema(in->v_ll);
		out->v_unb_from_ll = !isnan(out->v_unb_nema);
	}
	{
		double ia[3];

		/* Some meters sign the current with the power flow. */
		for (k = 0; k < 3; k++)
			ia[k] = fabs(in->i[k]);
		out->i_unb_nema = analysis_unbalance_nema(ia);
	}
	out->v_unb_iec = analysis_unbalance_iec(in->v_ll[0], in->v_ll[1], in->v_ll[2]);
	out->most_loaded = argmax_abs3(in->i);
	if (out->most_loaded < 0)
		out->most_loaded = argmax_abs3(in->p);
	{
		double u[2] = { out->v_unb_nema, out->i_unb_nema };

		out->band = analysis_unbalance_band(max_known(u, 2));
	}
	if (words)
		recommend(out);

	/* Voltage band, THD, frequency */
	vdev = par->nominal_v * par->vband_pct / 100.0;
	out->thd_v_known = false;
	for (k = 0; k < 3; k++) {
		double v = in->v_ln[k];

		if (isnan(v) || isnan(par->nominal_v))
			out->vband[k] = VBAND_UNKNOWN;
		else if (v < par->nominal_v - vdev)
			out->vband[k] = VBAND_LOW;
		else if (v > par->nominal_v + vdev)
			out->vband[k] = VBAND_HIGH;
		else
			out->vband[k] = VBAND_OK;
		out->thd_v_ok[k] = isnan(in->thd_v[k]) || in->thd_v[k] <= par->thd_v_max;
		if (!isnan(in->thd_v[k]))
			out->thd_v_known = true;
	}
	fdev = par->nominal_freq * par->freq_pct / 100.0;
	if (isnan(in->freq) || isnan(fdev))
		out->freq_ok = -1;
	else
		out->freq_ok = fabs(in->freq - par->nominal_freq) <= fdev ? 1 : 0;

	compute_risks(in, par, out);
	out->judged = true;
}

void analysis_compute(const struct analysis_input *in, const struct analysis_params *par,
		      struct analysis_result *out)
{
	compute(in, par, out, true);
}

void analysis_compute_figures(const struct analysis_input *in, const struct analysis_params *par,
			      struct analysis_result *out)
{
	compute(in, par, out, false);
}

void analysis_unjudge(struct analysis_result *out)
{
	int k;

	for (k = 0; k < 3; k++) {
		out->tier[k] = PF_UNKNOWN;
		out->vband[k] = VBAND_UNKNOWN;
		out->thd_v_ok[k] = true;
	}
	out->tier_total = PF_UNKNOWN;
	out->penalty_total = NAN;
	out->tan_phi_ok = true;
	out->band = UNB_UNKNOWN;
	out->recommendation[0] = '\0';
	out->thd_v_known = false;
	out->freq_ok = -1;
	out->risk = RISK_NORMAL;
	out->nrisks = 0;
	out->judged = false;
}
