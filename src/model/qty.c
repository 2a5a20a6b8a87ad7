// SPDX-License-Identifier: MIT
/*
 * qty: the table of measured quantities. Names and units are the
 * contract's; the plausible ranges are wide on purpose: they only catch
 * values no meter can mean (a garbage register, a wrong word order), which
 * are then stored with quality bad and kept as read.
 */
#include "phasor/qty.h"

#include <math.h>
#include <string.h>

#define V_MAX 1e6
#define I_MAX 1e6
#define P_MAX 1e10
#define E_MAX 1e17

static const struct qty_info table[QTY__COUNT] = {
	[QTY_V_L1N] = { "v_l1n", "V", 0, V_MAX, false },
	[QTY_V_L2N] = { "v_l2n", "V", 0, V_MAX, false },
	[QTY_V_L3N] = { "v_l3n", "V", 0, V_MAX, false },
	[QTY_V_L12] = { "v_l12", "V", 0, V_MAX, false },
	[QTY_V_L23] = { "v_l23", "V", 0, V_MAX, false },
	[QTY_V_L31] = { "v_l31", "V", 0, V_MAX, false },
	[QTY_I_L1] = { "i_l1", "A", -I_MAX, I_MAX, false },
	[QTY_I_L2] = { "i_l2", "A", -I_MAX, I_MAX, false },
	[QTY_I_L3] = { "i_l3", "A", -I_MAX, I_MAX, false },
	[QTY_I_N] = { "i_n", "A", -I_MAX, I_MAX, false },
	[QTY_P_L1] = { "p_l1", "W", -P_MAX, P_MAX, false },
	[QTY_P_L2] = { "p_l2", "W", -P_MAX, P_MAX, false },
	[QTY_P_L3] = { "p_l3", "W", -P_MAX, P_MAX, false },
	[QTY_P_TOTAL] = { "p_total", "W", -P_MAX, P_MAX, false },
	[QTY_Q_L1] = { "q_l1", "var", -P_MAX, P_MAX, false },
	[QTY_Q_L2] = { "q_l2", "var", -P_MAX, P_MAX, false },
	[QTY_Q_L3] = { "q_l3", "var", -P_MAX, P_MAX, false },
	[QTY_Q_TOTAL] = { "q_total", "var", -P_MAX, P_MAX, false },
	[QTY_S_L1] = { "s_l1", "VA", -P_MAX, P_MAX, false },
	[QTY_S_L2] = { "s_l2", "VA", -P_MAX, P_MAX, false },
	[QTY_S_L3] = { "s_l3", "VA", -P_MAX, P_MAX, false },
	[QTY_S_TOTAL] = { "s_total", "VA", -P_MAX, P_MAX, false },
	[QTY_PF_L1] = { "pf_l1", "1", -1.001, 1.001, false },
	[QTY_PF_L2] = { "pf_l2", "1", -1.001, 1.001, false },
	[QTY_PF_L3] = { "pf_l3", "1", -1.001, 1.001, false },
	[QTY_PF_TOTAL] = { "pf_total", "1", -1.001, 1.001, false },
	[QTY_THD_V_L1] = { "thd_v_l1", "%", 0, 1000, false },
	[QTY_THD_V_L2] = { "thd_v_l2", "%", 0, 1000, false },
	[QTY_THD_V_L3] = { "thd_v_l3", "%", 0, 1000, false },
	[QTY_THD_I_L1] = { "thd_i_l1", "%", 0, 1000, false },
	[QTY_THD_I_L2] = { "thd_i_l2", "%", 0, 1000, false },
	[QTY_THD_I_L3] = { "thd_i_l3", "%", 0, 1000, false },
	[QTY_FREQ] = { "freq", "Hz", 0, 1000, false },
	[QTY_E_IMP] = { "e_imp", "Wh", 0, E_MAX, true },
	[QTY_E_EXP] = { "e_exp", "Wh", 0, E_MAX, true },
	[QTY_EQ_IMP] = { "eq_imp", "varh", 0, E_MAX, true },
	[QTY_EQ_EXP] = { "eq_exp", "varh", 0, E_MAX, true },
	[QTY_FLOW] = { "flow", "m3/h", -1e7, 1e7, false },
	[QTY_VOLUME] = { "volume", "m3", 0, E_MAX, true },
	[QTY_TEMP] = { "temp", "degC", -273.15, 5000, false },
	[QTY_PRESSURE] = { "pressure", "bar", -1.1, 1e5, false },
	[QTY_VIBRATION] = { "vibration", "mm/s", 0, 1e5, false },
	[QTY_E_IMP_L1] = { "e_imp_l1", "Wh", 0, E_MAX, true },
	[QTY_E_IMP_L2] = { "e_imp_l2", "Wh", 0, E_MAX, true },
	[QTY_E_IMP_L3] = { "e_imp_l3", "Wh", 0, E_MAX, true },
	[QTY_E_EXP_L1] = { "e_exp_l1", "Wh", 0, E_MAX, true },
	[QTY_E_EXP_L2] = { "e_exp_l2", "Wh", 0, E_MAX, true },
	[QTY_E_EXP_L3] = { "e_exp_l3", "Wh", 0, E_MAX, true },
	[QTY_MACHINE_STATE] = { "machine_state", "", 0, 2, false },
	[QTY_PIECES] = { "pieces", "", 0, E_MAX, true },
};

static const struct qty_info unknown = { "?", "", -INFINITY, INFINITY, false };

const struct qty_info *qty_info(unsigned id)
{
	return id < QTY__COUNT ? &table[id] : &unknown;
}

int qty_lookup(const char *name)
{
	unsigned i;

	for (i = 0; i < QTY__COUNT; i++)
		if (strcmp(table[i].name, name) == 0)
			return (int)i;
	return -1;
}

enum quality qty_quality(unsigned id, double value)
{
	const struct qty_info *q = qty_info(id);

	if (!isfinite(value) || value < q->min || value > q->max)
		return QUALITY_BAD;
	return QUALITY_GOOD;
}

const char *qty_quality_name(unsigned q)
{
	return q == QUALITY_GOOD ? "good" : "bad";
}
