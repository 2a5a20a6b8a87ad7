/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_QTY_H
#define PHASOR_QTY_H
/*
 * qty: the measured quantities of the contract (names, SI units, plausible
 * ranges) and the sample, the unit of data that flows from the sources to
 * the live state and the local buffer.
 */
#include <stdbool.h>
#include <stdint.h>

/* The order is the order of the contract's table; names are in qty.c. */
enum qty_id {
	QTY_V_L1N, QTY_V_L2N, QTY_V_L3N,
	QTY_V_L12, QTY_V_L23, QTY_V_L31,
	QTY_I_L1, QTY_I_L2, QTY_I_L3, QTY_I_N,
	QTY_P_L1, QTY_P_L2, QTY_P_L3, QTY_P_TOTAL,
	QTY_Q_L1, QTY_Q_L2, QTY_Q_L3, QTY_Q_TOTAL,
	QTY_S_L1, QTY_S_L2, QTY_S_L3, QTY_S_TOTAL,
	QTY_PF_L1, QTY_PF_L2, QTY_PF_L3, QTY_PF_TOTAL,
	QTY_THD_V_L1, QTY_THD_V_L2, QTY_THD_V_L3,
	QTY_THD_I_L1, QTY_THD_I_L2, QTY_THD_I_L3,
	QTY_FREQ,
	QTY_E_IMP, QTY_E_EXP, QTY_EQ_IMP, QTY_EQ_EXP,
	QTY_FLOW, QTY_VOLUME, QTY_TEMP, QTY_PRESSURE, QTY_VIBRATION,
	/* Additions beyond the contract's table: per-phase energy counters
	 * (Shelly Gen1, Tasmota and Janitza report them). */
	QTY_E_IMP_L1, QTY_E_IMP_L2, QTY_E_IMP_L3,
	QTY_E_EXP_L1, QTY_E_EXP_L2, QTY_E_EXP_L3,
	/* Machines ([machine NAME], docs/machines.md): the state (0 run, 1
	 * wait, 2 stop) and the piece count. */
	QTY_MACHINE_STATE, QTY_PIECES,
	QTY__COUNT
};

enum quality { QUALITY_GOOD = 0, QUALITY_BAD = 1 };

/*
 * One measurement. time is UTC microseconds; meter is the index of the meter
 * in the configuration (struct config.meters); value is kept as read even
 * when quality is bad (NaN stays NaN, a sentinel stays the sentinel).
 */
struct sample {
	int64_t t_us;
	double value;
	uint32_t meter;
	uint16_t qty;     /* enum qty_id */
	uint8_t quality;  /* enum quality */
	uint8_t reserved;
};

struct qty_info {
	const char *name;  /* contract name, e.g. "v_l1n" */
	const char *unit;  /* SI unit, e.g. "V" */
	double min, max;   /* plausible range; outside it the sample is bad */
	bool counter;      /* a monotonic energy or volume counter */
};

/* Info for id (id < QTY__COUNT). */
const struct qty_info *qty_info(unsigned id);
static inline const char *qty_name(unsigned id) { return qty_info(id)->name; }
static inline const char *qty_unit(unsigned id) { return qty_info(id)->unit; }
/* The id of a contract name, or -1. */
int qty_lookup(const char *name);
/* Quality for a decoded value: bad when NaN, infinite or out of range. */
enum quality qty_quality(unsigned id, double value);
/* "good" / "bad" */
const char *qty_quality_name(unsigned q);

#endif
