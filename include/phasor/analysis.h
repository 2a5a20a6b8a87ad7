/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_ANALYSIS_H
#define PHASOR_ANALYSIS_H
/*
 * analysis: the electrical analysis of one meter's latest values. Pure
 * functions, no state: power factor (signed, per phase and total) and its
 * tier, tan phi against the 0.4 grid rule, the reactive compensation needed
 * to reach the target PF, voltage and current unbalance (NEMA/IEEE, and IEC
 * u2 from line-to-line magnitudes), the most loaded phase, a
 * recommendation, the voltage band, THD and frequency checks, and the
 * seed's global risk level with its recommended actions.
 *
 * Conventions: SI units (W, var, VA, V, A, Hz, %). A missing value is NaN
 * and every figure that depends on it is NaN / unknown, never 0. The PF sign
 * follows the sign of P (IEC 61557-12: negative when exporting); whether it
 * is lagging (inductive) or leading (capacitive) comes from the signs of P
 * and Q.
 */
#include <stdbool.h>
#include <stddef.h>

#include "phasor/fmt.h"

enum pf_tier { PF_UNKNOWN, PF_EXCELLENT, PF_GOOD, PF_ACCEPTABLE, PF_POOR, PF_CRITICAL };
enum pf_nature { PF_NATURE_UNKNOWN, PF_INDUCTIVE, PF_CAPACITIVE };
enum unbalance_band { UNB_UNKNOWN, UNB_EXCELLENT, UNB_ACCEPTABLE, UNB_MODERATE, UNB_SEVERE };
enum vband { VBAND_UNKNOWN, VBAND_OK, VBAND_LOW, VBAND_HIGH };
enum risk_level { RISK_NORMAL, RISK_MINOR, RISK_MAJOR, RISK_CRITICAL };
enum risk_kind {
	RISK_OVERLOAD,     /* p_total > max_power (when the meter has one): critical */
	RISK_POOR_PF,      /* |PF total| < 0.85: major */
	RISK_LOW_VOLTAGE,  /* min L-L < 380 V (scaled to nominal): major */
	RISK_HIGH_VOLTAGE, /* max L-L > 420 V (scaled to nominal): major */
	RISK_UNBALANCE,    /* unbalance > 15 %: critical */
	RISK_THD,          /* THD-V > 8 %: major */
	RISK_FREQUENCY,    /* outside nominal +-1 %: major */
	RISK_PHASE_LOSS,   /* a phase voltage below 50 % of nominal: critical */
	RISK__COUNT
};

/* Thresholds, from the seeds; analysis_defaults() fills these. */
struct analysis_params {
	double nominal_v;      /* L-N, V (230) */
	double nominal_freq;   /* Hz (50) */
	double max_power;      /* W; NaN: none, no overload risk */
	double target_pf;      /* 0.95 */
	double pf_min;         /* 0.85: poor-PF risk below */
	double tan_phi_max;    /* 0.4 */
	double unbalance_max;  /* %, 15 */
	double thd_v_max;      /* %, 8 */
	double vband_pct;      /* +-%, 10 (EN 50160) */
	double freq_pct;       /* +-%, 1 */
	double v_ll_min;       /* V, 380 at 230 V nominal (scaled with nominal_v) */
	double v_ll_max;       /* V, 420 at 230 V nominal */
};
void analysis_defaults(struct analysis_params *p);

/* The latest values of a meter; NaN where the meter did not give one. */
struct analysis_input {
	double v_ln[3], v_ll[3];   /* v_ll: L1-L2, L2-L3, L3-L1 */
	double i[3], i_n;
	double p[3], q[3], s[3], pf[3];
	double p_total, q_total, s_total, pf_total;
	double thd_v[3], thd_i[3];
	double freq;
};
/* All fields NaN. */
void analysis_input_clear(struct analysis_input *in);

struct analysis_risk {
	enum risk_kind kind;
	enum risk_level level;
	double value, limit;
	const char *text;                /* static, e.g. "Overload" */
	const char *const *actions;      /* static, NULL-terminated */
};

#define ANALYSIS_REC_LEN 160

struct analysis_result {
	/* Power factor */
	double pf[3], pf_total;          /* signed; NaN unknown */
	bool pf_derived[3], pf_total_derived; /* from P and S, not a PF register */
	enum pf_nature nature[3], nature_total;
	enum pf_tier tier[3], tier_total;
	double penalty_total;            /* tariff penalty share: 0, 0.02, 0.05 */
	double tan_phi;                  /* |Q/P| total, NaN unknown */
	bool tan_phi_ok;                 /* tan_phi <= tan_phi_max */
	double q_comp;                   /* var to reach target PF (0 when reached) */
	double q_bank;                   /* the standard bank size covering it, var */
	double p_total, q_total, s_total;/* as read, or summed from the phases */

	/* Unbalance, % */
	double v_unb_nema;               /* from L-N, or L-L when no L-N */
	bool v_unb_from_ll;
	double i_unb_nema;
	double v_unb_iec;                /* u2 from L-L magnitudes; NaN without them */
	int most_loaded;                 /* 0,1,2 = L1..L3 (by current, else P); -1 */
	enum unbalance_band band;        /* of max(v_unb_nema, i_unb_nema) */
	char recommendation[ANALYSIS_REC_LEN];

	/* Voltage, quality */
	double v_ll[3];                  /* as read, or L-N x sqrt(3) when derived */
	bool v_ll_derived;
	enum vband vband[3];             /* L-N against nominal +-vband_pct */
	bool thd_v_ok[3];                /* NaN THD counts as ok (unknown) */
	bool thd_v_known;
	int freq_ok;                     /* 1 ok, 0 out of band, -1 unknown */

	/* False after analysis_unjudge(): the figures are old, nothing judged */
	bool judged;
	/* Risks, worst first */
	enum risk_level risk;
	struct analysis_risk risks[RISK__COUNT];
	size_t nrisks;
};

void analysis_compute(const struct analysis_input *in, const struct analysis_params *par,
		      struct analysis_result *out);
/*
 * The same without the recommendation's words (left empty): for the
 * alarms at each poll and the overview's rows at each frame, which show
 * none (formatting it was a tenth of their analysis).
 */
void analysis_compute_figures(const struct analysis_input *in, const struct analysis_params *par,
			      struct analysis_result *out);

/*
 * Keep out's figures but judge nothing: every tier, band, check, the
 * recommendation and the risks become unknown, judged false. For a meter
 * that is down: its last values are shown as old, but they say nothing of
 * the present, so no "critical" from them.
 */
void analysis_unjudge(struct analysis_result *out);
/*
 * Numbers that agree with the words beside them (fmt_against): the PF
 * with decimals digits that never contradict its tier (analysis_pf_tier)
 * nor the poor-PF risk ("-" for NaN); the limits the unbalance bands and
 * the unbalance risk judge a percentage against (4 of them); the limit of
 * the tan phi check (par's, with its tolerance).
 */
char *analysis_pf_text(double pf, int decimals, char *buf, size_t size);
size_t analysis_unbalance_limits(const struct analysis_params *par, struct fmt_limit out[4]);
struct fmt_limit analysis_tan_phi_limit(const struct analysis_params *par);
/* Building blocks, exposed for the tests and the views. */
enum pf_tier analysis_pf_tier(double pf);            /* on |pf| */
const char *analysis_pf_tier_name(enum pf_tier t);  /* "excellent", ..., "unknown" */
double analysis_pf_penalty(enum pf_tier t);
/* PF from P and S (or P and Q when S is NaN), signed as above. */
double analysis_pf_from(double p, double q, double s);
/* tan phi = sqrt(1/pf^2 - 1) (on |pf|), NaN when pf is 0 or NaN. */
double analysis_tan_phi(double pf);
/* Qc = |P| x (tan phi1 - tan phi2), 0 when pf1 already reaches pf2. */
double analysis_q_comp(double p, double pf1, double pf2);
/* Smallest standard capacitor bank (var) >= q, NaN when q is NaN. */
double analysis_q_bank(double q);
/* 100 x max|x - mean| / mean; NaN when any is NaN or mean is 0. */
double analysis_unbalance_nema(const double x[3]);
/* IEC u2 (%) from the three L-L magnitudes; NaN when any is NaN. */
double analysis_unbalance_iec(double u12, double u23, double u31);
enum unbalance_band analysis_unbalance_band(double pct);
const char *analysis_unbalance_band_name(enum unbalance_band b);
const char *analysis_vband_name(enum vband v);
const char *analysis_risk_level_name(enum risk_level l);  /* "normal", "minor", "major", "critical" */
const char *analysis_pf_nature_name(enum pf_nature n);    /* "inductive", "capacitive", "unknown" */

#endif
