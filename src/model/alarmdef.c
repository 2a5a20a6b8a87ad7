// SPDX-License-Identifier: MIT
/*
 * alarmdef: names of the alarm vocabulary and the built-in definitions
 * (include/phasor/alarmdef.h).
 */
#include "phasor/alarmdef.h"

#include <fnmatch.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/config.h"
#include "phasor/qty.h"
#include "phasor/util.h"

/* ---- names ------------------------------------------------------------ */

static const char *const state_names[ALARM_STATE__COUNT + 1] = {
	[ALARM_NORMAL] = "normal",	   [ALARM_UNACK] = "unack",
	[ALARM_ACK] = "ack",		   [ALARM_RTN_UNACK] = "rtn_unack",
	[ALARM_SHELVED] = "shelved",	   [ALARM_SUPPRESSED] = "suppressed",
	[ALARM_OOS] = "out_of_service",	   [ALARM_STATE__COUNT] = NULL,
};
static const char *const prio_names[PRIO__COUNT + 1] = {
	"critical", "high", "medium", "low", "diagnostic", NULL,
};
static const char *const limit_names[] = { "high", "high-high", "low", "low-low", NULL };
static const char *const event_names[AEV__COUNT + 1] = {
	"raise", "clear", "ack", "shelve", "unshelve", "suppress", "unsuppress", "note", NULL,
};
static const char *const measure_names[AM__COUNT + 1] = {
	[AM_QTY] = "", /* a quantity: its own name */
	[AM_PF] = "pf",
	[AM_TAN_PHI] = "tan_phi",
	[AM_V_UNBALANCE] = "v_unbalance",
	[AM_I_UNBALANCE] = "i_unbalance",
	[AM_VOLTAGE] = "voltage",
	[AM_VOLTAGE_LL] = "voltage_ll",
	[AM_THD_V] = "thd_v",
	[AM_THD_I] = "thd_i",
	[AM_FREQUENCY] = "frequency",
	[AM_OVERLOAD] = "overload",
	[AM_COMM] = "comm",
	[AM_STALE] = "stale",
	[AM_FORECAST_EXCESS] = "forecast_excess",
	[AM_NIGHT_FLOW] = "night_flow",
	[AM__COUNT] = NULL,
};

static int find_name(const char *const *names, size_t n, const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *alarm_state_name(enum alarm_state s)
{
	return (unsigned)s < ALARM_STATE__COUNT ? state_names[s] : "?";
}

int alarm_state_parse(const char *name)
{
	return find_name(state_names, ALARM_STATE__COUNT, name);
}

const char *alarm_priority_name(enum alarm_priority p)
{
	return (unsigned)p < PRIO__COUNT ? prio_names[p] : "?";
}

int alarm_priority_parse(const char *name)
{
	return find_name(prio_names, PRIO__COUNT, name);
}

const char *alarm_limit_name(enum alarm_limit l)
{
	return (unsigned)l <= LIMIT_LOW_LOW ? limit_names[l] : "?";
}

int alarm_limit_parse(const char *name)
{
	return find_name(limit_names, 4, name);
}

bool alarm_limit_is_high(enum alarm_limit l)
{
	return l == LIMIT_HIGH || l == LIMIT_HIGH_HIGH;
}

const char *alarm_event_name(enum alarm_event_kind k)
{
	return (unsigned)k < AEV__COUNT ? event_names[k] : "?";
}

int alarm_event_parse(const char *name)
{
	return find_name(event_names, AEV__COUNT, name);
}

const char *alarm_measure_name(enum alarm_measure m)
{
	return (unsigned)m < AM__COUNT && m != AM_QTY ? measure_names[m] : "";
}

int alarm_measure_parse(const char *name, unsigned *qty)
{
	int i, q;

	if (name == NULL || name[0] == '\0')
		return -1;
	i = find_name(measure_names, AM__COUNT, name);
	if (i > 0)
		return i;
	q = qty_lookup(name);
	if (q < 0)
		return -1;
	if (qty != NULL)
		*qty = (unsigned)q;
	return AM_QTY;
}

const char *alarm_measure_unit(enum alarm_measure m, unsigned qty)
{
	switch (m) {
	case AM_QTY:
		return qty < QTY__COUNT ? qty_unit(qty) : "";
	case AM_V_UNBALANCE:
	case AM_I_UNBALANCE:
	case AM_THD_V:
	case AM_THD_I:
	case AM_OVERLOAD:
		return "%";
	case AM_VOLTAGE:
	case AM_VOLTAGE_LL:
		return "V";
	case AM_FREQUENCY:
		return "Hz";
	case AM_FORECAST_EXCESS:
		return "intervals";
	case AM_NIGHT_FLOW:
		return "m3/h";
	default:
		return "";
	}
}

/* ---- definitions ------------------------------------------------------ */

/*
 * The built-in set. The L-L limits are percentages of the nominal L-L
 * voltage (nominal L-N x sqrt 3) chosen so that they are exactly the
 * seed's 380 and 420 V at 230 V nominal: 100 x 380 / (230 sqrt 3) =
 * 95.389 % and 100 x 420 / (230 sqrt 3) = 105.430 %; at another nominal
 * they scale as the analysis scales them (380 x nominal / 230).
 * Deadbands are in the measure's unit (V, Hz, %, PF).
 */
struct builtin {
	const char *name;
	enum alarm_measure measure;
	enum alarm_limit type;
	double limit;           /* NaN: computed (the L-L percentages) */
	double ll_volts;        /* for those: the volts at 230 V nominal */
	bool pct;
	enum alarm_priority prio;
	double deadband;
	int64_t on_ms, off_ms;
	const char *message, *action;
};

static const struct builtin builtins[] = {
	{ "overload", AM_OVERLOAD, LIMIT_HIGH, 100, 0, false, PRIO_CRITICAL, 5, 5000, 10000,
	  "Overload: active power above the meter's max_power",
	  "Shed non-essential loads; check load distribution; call electrical maintenance" },
	{ "phase-loss", AM_VOLTAGE, LIMIT_LOW_LOW, 50, 0, true, PRIO_CRITICAL, 10, 2000, 5000,
	  "Phase loss: a phase voltage below 50 % of nominal",
	  "Check fuses and circuit breakers; check the connections of the missing phase; "
	  "stop three-phase motors to prevent damage" },
	{ "current-unbalance", AM_I_UNBALANCE, LIMIT_HIGH, 15, 0, false, PRIO_CRITICAL, 2, 10000,
	  10000, "Current unbalance above 15 %",
	  "Redistribute single-phase loads; check fuses and connections of each phase; "
	  "check three-phase motors for faults" },
	{ "low-pf", AM_PF, LIMIT_LOW, 0.85, 0, false, PRIO_HIGH, 0.02, 10000, 10000,
	  "Power factor below 0.85",
	  "Check capacitor banks; schedule preventive maintenance; watch reactive consumption" },
	{ "voltage-low", AM_VOLTAGE_LL, LIMIT_LOW, NAN, 380, true, PRIO_HIGH, 4, 5000, 5000,
	  "Low voltage: a phase-to-phase voltage below 380 V (at 230 V nominal)",
	  "Check electrical connections; check transformers; call the energy supplier" },
	{ "voltage-high", AM_VOLTAGE_LL, LIMIT_HIGH, NAN, 420, true, PRIO_HIGH, 4, 5000, 5000,
	  "High voltage: a phase-to-phase voltage above 420 V (at 230 V nominal)",
	  "Check transformer tap setting; check capacitor banks for over-compensation; "
	  "call the energy supplier" },
	{ "thd-v", AM_THD_V, LIMIT_HIGH, 8, 0, false, PRIO_MEDIUM, 0.5, 10000, 10000,
	  "Voltage THD above 8 % (EN 50160)",
	  "Identify non-linear loads (drives, UPS, rectifiers); check harmonic filters; "
	  "check capacitor banks for resonance" },
	{ "frequency-low", AM_FREQUENCY, LIMIT_LOW, 99, 0, true, PRIO_MEDIUM, 0.05, 5000, 5000,
	  "Frequency below nominal - 1 % (EN 50160)",
	  "Check the supply source (grid or generator); check generator speed control; "
	  "call the energy supplier" },
	{ "frequency-high", AM_FREQUENCY, LIMIT_HIGH, 101, 0, true, PRIO_MEDIUM, 0.05, 5000, 5000,
	  "Frequency above nominal + 1 % (EN 50160)",
	  "Check the supply source (grid or generator); check generator speed control; "
	  "call the energy supplier" },
	{ "voltage-unbalance", AM_V_UNBALANCE, LIMIT_HIGH, 2, 0, false, PRIO_LOW, 0.2, 10000,
	  10000, "Voltage unbalance above 2 % (EN 50160)",
	  "Redistribute single-phase loads; check the supply with the energy supplier" },
	{ "comm", AM_COMM, LIMIT_HIGH, NAN, 0, false, PRIO_HIGH, 0, 10000, 5000,
	  "Communication lost: the meter does not answer",
	  "Check the meter's power supply, network cable and address; see the sources view (5)" },
	{ "stale", AM_STALE, LIMIT_HIGH, NAN, 0, false, PRIO_LOW, 0, 5000, 0,
	  "Stale data: nothing new for three periods",
	  "Check that the device still publishes; see the sources view (5)" },
};

size_t alarm_defaults(struct alarm_def **out)
{
	size_t n = UTIL_ARRAY_LEN(builtins), i;
	struct alarm_def *d = util_calloc(n, sizeof(*d));

	for (i = 0; i < n; i++) {
		const struct builtin *b = &builtins[i];

		d[i].name = util_strdup(b->name);
		d[i].meters = util_calloc(2, sizeof(char *));
		d[i].meters[0] = util_strdup("*");
		d[i].measure = b->measure;
		d[i].qty = 0;
		d[i].quantity = util_strdup(measure_names[b->measure]);
		d[i].type = b->type;
		if (b->ll_volts > 0)
			d[i].limit = 100.0 * b->ll_volts / (230.0 * sqrt(3.0));
		else
			d[i].limit = isnan(b->limit) ? 0.0 : b->limit;
		d[i].limit_pct = b->pct;
		d[i].priority = b->prio;
		d[i].deadband = b->deadband;
		d[i].on_delay_ms = b->on_ms;
		d[i].off_delay_ms = b->off_ms;
		d[i].realarm_ms = 0;
		d[i].shelve_max_ms = ALARM_SHELVE_MAX_DEFAULT_MS;
		d[i].message = util_strdup(b->message);
		d[i].action = util_strdup(b->action);
		d[i].ack_note = false;
		d[i].enabled = true;
		d[i].builtin = true;
		d[i].line = 0;
	}
	*out = d;
	return n;
}

void alarm_def_machine(const struct config_machine *m, struct alarm_def *d)
{
	memset(d, 0, sizeof(*d));
	d->name = util_strdup(ALARM_MACHINE_STOPPED);
	d->meters = util_calloc(2, sizeof(char *));
	d->meters[0] = util_strdup(m->name);
	d->measure = AM_QTY;
	d->qty = QTY_P_TOTAL;
	d->quantity = util_strdup("p_total");
	d->type = LIMIT_HIGH;
	d->limit = m->stopped_power;
	d->priority = PRIO_MEDIUM;
	d->on_delay_ms = m->stopped_after_ms;
	d->shelve_max_ms = ALARM_SHELVE_MAX_DEFAULT_MS;
	if (m->stopped_after_ms % 60000 == 0)
		d->message = util_printf("Consuming while stopped: over %g kW for %lld min",
					 m->stopped_power / 1000,
					 (long long)(m->stopped_after_ms / 60000));
	else
		d->message = util_printf("Consuming while stopped: over %g kW for %g s",
					 m->stopped_power / 1000,
					 (double)m->stopped_after_ms / 1000);
	d->action = util_strdup("Switch off what the machine does not need while stopped "
				"(hydraulics, heaters, compressed air, fans); check the "
				"machine's standby settings");
	d->enabled = true;
	d->builtin = true;
}

void alarm_def_clear(struct alarm_def *d)
{
	size_t i;

	if (d == NULL)
		return;
	free(d->name);
	for (i = 0; d->meters != NULL && d->meters[i] != NULL; i++)
		free(d->meters[i]);
	free(d->meters);
	free(d->quantity);
	free(d->message);
	free(d->action);
	memset(d, 0, sizeof(*d));
}

void alarm_defs_free(struct alarm_def *defs, size_t n)
{
	size_t i;

	if (defs == NULL)
		return;
	for (i = 0; i < n; i++)
		alarm_def_clear(&defs[i]);
	free(defs);
}

bool alarm_def_matches(const struct alarm_def *d, const char *meter)
{
	size_t i;

	if (d == NULL || d->meters == NULL || meter == NULL)
		return false;
	for (i = 0; d->meters[i] != NULL; i++)
		if (fnmatch(d->meters[i], meter, 0) == 0)
			return true;
	return false;
}

int alarm_window_minutes(const struct alarm_def *d)
{
	int n = d->window_end_min - d->window_start_min;

	return n > 0 ? n : n + 1440;
}

char *alarm_window_text(const struct alarm_def *d, char *buf, size_t size)
{
	int end = d->window_end_min == 0 ? 1440 : d->window_end_min;

	snprintf(buf, size, "%02d:%02d-%02d:%02d", d->window_start_min / 60,
		 d->window_start_min % 60, end / 60, end % 60);
	return buf;
}
