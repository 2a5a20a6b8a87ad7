// SPDX-License-Identifier: MIT
/*
 * repbuf: writes a local buffer (through the store API, as the recorder
 * does) of known energy, peaks, power factor, voltages and alarms for
 * `phasor report`'s test (tests/integration/test_report.sh): three UTC
 * days from Monday 2026-11-30 (and the hour before), a sample a minute of
 * three meters: "press" 24 kW on weekdays 06:00-22:00, else 2.4 kW, Q
 * 0.6 P; "oven" 36 kW (84 kW on Tuesday 10:00-10:15), Q 0.2 P; "incomer"
 * (aggregate) their sum, phase voltages 230 V (v_l3n 195 V on Wednesday
 * 10:00-10:20), THD-V 3 %, 50 Hz. Energy counters count P exactly (whole
 * Wh a minute). The journal: 12 raises of overload (high) on Tuesday
 * 10:00 every 40 s, pf_low (medium) on Monday 08:00 acknowledged after
 * 120 s and left active, 5 raises of v_low (critical) 10 s apart on
 * Wednesday 10:00, thd (low) on Wednesday 12:00 acknowledged after 60 s.
 * Unless "noforecast" is given, a forecast of the site for Monday (96
 * intervals of 15 min, 10 % above the load) is stored.
 *
 *   repbuf FILE.db [noforecast]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/config.h"
#include "phasor/qty.h"
#include "phasor/store.h"
#include "tool_store.h"

#define T0 INT64_C(1795996800) /* 2026-11-30T00:00:00Z, a Monday */
#define US INT64_C(1000000)

static double press_w(int64_t t)
{
	int64_t s = t - T0, h = (s % 86400) / 3600;

	return (s >= 0 && s < 5 * 86400 && h >= 6 && h < 22) ? 24000 : 2400;
}

static double oven_w(int64_t t)
{
	int64_t s = t - T0 - 86400 - 10 * 3600;

	return s >= 0 && s < 900 ? 84000 : 36000;
}

static void put_alarm(struct store *st, int64_t t, int64_t raised, const char *alarm,
		      const char *meter, const char *prio, const char *event, const char *state,
		      const char *op)
{
	static int n;
	char id[32];
	struct store_alarm_event e = { 0 };

	snprintf(id, sizeof(id), "repbuf:%d", ++n);
	e.t_us = t * US;
	e.id = id;
	e.origin = "repbuf";
	e.alarm = alarm;
	e.meter = meter;
	e.quantity = "p_total";
	e.priority = prio;
	e.event = event;
	e.state = state;
	e.value = NAN;
	e.limit = NAN;
	e.operator_name = op;
	e.note = "";
	e.raised_us = raised * US;
	store_put_alarm_event(st, &e);
}

static void journal(struct store *st)
{
	int64_t tue = T0 + 86400, wed = T0 + 2 * 86400;
	int k;

	for (k = 0; k < 12; k++)
		put_alarm(st, tue + 36000 + k * 40, tue + 36000 + k * 40, "overload", "oven", "high",
			  "raise", "unack", "");
	put_alarm(st, tue + 36000 + 900, tue + 36000 + 440, "overload", "oven", "high", "clear",
		  "normal", "");
	put_alarm(st, T0 + 8 * 3600, T0 + 8 * 3600, "pf_low", "press", "medium", "raise", "unack",
		  "");
	put_alarm(st, T0 + 8 * 3600 + 120, T0 + 8 * 3600, "pf_low", "press", "medium", "ack", "ack",
		  "ana");
	for (k = 0; k < 5; k++)
		put_alarm(st, wed + 36000 + k * 10, wed + 36000 + k * 10, "v_low", "incomer",
			  "critical", "raise", "unack", "");
	put_alarm(st, wed + 36000 + 1200, wed + 36000 + 40, "v_low", "incomer", "critical", "clear",
		  "rtn_unack", "");
	put_alarm(st, wed + 43200, wed + 43200, "thd", "incomer", "low", "raise", "unack", "");
	put_alarm(st, wed + 43260, wed + 43200, "thd", "incomer", "low", "ack", "ack", "bob");
	put_alarm(st, wed + 43500, wed + 43200, "thd", "incomer", "low", "clear", "normal", "");
}

static void forecast(struct store *st)
{
	static char site[] = "", method[] = "test";
	struct store_forecast f = { 0 };
	size_t i, n = 96;

	f.made_us = (T0 - 3600) * US;
	f.meter = site;
	f.method = method;
	f.step_us = 900 * US;
	f.n = n;
	f.t_us = calloc(n, sizeof(int64_t));
	f.point = calloc(n, sizeof(double));
	f.lo80 = calloc(n, sizeof(double));
	f.hi80 = calloc(n, sizeof(double));
	f.lo95 = calloc(n, sizeof(double));
	f.hi95 = calloc(n, sizeof(double));
	for (i = 0; i < n; i++) {
		int64_t t = T0 + (int64_t)i * 900;

		f.t_us[i] = t * US;
		f.point[i] = 1.1 * (press_w(t) + oven_w(t));
		f.lo80[i] = f.hi80[i] = f.lo95[i] = f.hi95[i] = NAN;
	}
	store_put_forecast(st, &f);
	free(f.t_us);
	free(f.point);
	free(f.lo80);
	free(f.hi80);
	free(f.lo95);
	free(f.hi95);
}

int main(int argc, char **argv)
{
	static const char ini[] =
		"[site]\nname = Test plant\ntimezone = UTC\nprice_per_kwh = 0.15\ncurrency = EUR\n"
		"co2_per_kwh = 0.06\ncontract_power = 70kW\nshifts = 06:00, 14:00, 22:00\n"
		"[meter incomer]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\n"
		"aggregate = yes\n"
		"[meter press]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nunit = 2\n"
		"[meter oven]\ndriver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nunit = 3\n";
	struct config *cfg;
	struct store *st;
	struct sample *s;
	size_t i = 0, cap;
	int64_t t;
	double wh[3] = { 7e6, 2e6, 3e6 };

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "noforecast") != 0)) {
		fprintf(stderr, "usage: repbuf FILE.db [noforecast]\n");
		return 2;
	}
	st = tool_store_open("repbuf", ini, argv[1], &cfg);
	if (st == NULL)
		return 1;
	cap = (size_t)(3 * 1440 + 60) * 24;
	s = calloc(cap, sizeof(*s));
	for (t = T0 - 3600; t < T0 + 3 * 86400; t += 60) {
		double p[3], q[3];
		uint32_t m;

		p[1] = press_w(t);
		p[2] = oven_w(t);
		p[0] = p[1] + p[2];
		q[1] = 0.6 * p[1];
		q[2] = 0.2 * p[2];
		q[0] = q[1] + q[2];
		for (m = 0; m < 3; m++) {
			int64_t us = t * US;

			s[i++] = (struct sample){ us, wh[m], m, QTY_E_IMP, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, p[m], m, QTY_P_TOTAL, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, q[m], m, QTY_Q_TOTAL, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, p[m] / hypot(p[m], q[m]), m, QTY_PF_TOTAL,
						  QUALITY_GOOD, 0 };
			wh[m] += p[m] / 60; /* whole Wh: P is a multiple of 60 W */
		}
		{
			int64_t w = t - T0 - 2 * 86400 - 36000;
			double v3 = w >= 0 && w < 1200 ? 195 : 230;
			int64_t us = t * US;

			s[i++] = (struct sample){ us, 230, 0, QTY_V_L1N, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, 230, 0, QTY_V_L2N, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, v3, 0, QTY_V_L3N, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, 3, 0, QTY_THD_V_L1, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, 3, 0, QTY_THD_V_L2, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, 3, 0, QTY_THD_V_L3, QUALITY_GOOD, 0 };
			s[i++] = (struct sample){ us, 50, 0, QTY_FREQ, QUALITY_GOOD, 0 };
		}
	}
	store_put_samples(st, s, i);
	journal(st);
	if (argc == 2)
		forecast(st);
	free(s);
	return tool_store_close("repbuf", st, cfg);
}
