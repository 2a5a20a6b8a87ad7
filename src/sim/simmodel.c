// SPDX-License-Identifier: MIT
/*
 * simmodel: the simulated workshop behind `phasor sim` and `phasor --demo`.
 *
 * Each meter has a load kind (main LV board, cataphoresis oven, induction
 * furnace, air compressor, paint line, machine tools) with a small state
 * machine driven by the shift pattern of the plant (three shifts on
 * weekdays, low weekends, breaks). A step has two halves:
 *
 *  - evolve: the random part. The plant stream (common voltage deviation,
 *    frequency, background voltage THD) and every meter's own stream
 *    (xoshiro256** seeded by splitmix64 from the seed and the unit) move the
 *    state on by dt <= 1 s and leave the model's per-phase P and Q. Every
 *    step draws the same numbers whatever the faults, so the plant after a
 *    fault has ended is the plant that never had it (counters aside), and a
 *    meter never depends on how many others exist;
 *  - compute: deterministic. Faults are applied on top of the model, then V,
 *    I, S, PF, line-to-line voltages (vector differences of the three L-N
 *    magnitudes at 120 degrees), the neutral current and the counters are
 *    derived. The main board sums the others' per-phase P and Q after their
 *    faults (what its feeders really carry) plus a base of its own.
 *
 * simmodel_values() gives what a meter reports: the physical values, frozen
 * while a timeout fault is active, with v_l1n and p_total NaN under a nan
 * fault. No I/O, no global state, no rand().
 */
#include "phasor/simmodel.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/util.h"
#include "phasor/utility.h"

#define V_NOM 230.0
#define F_NOM 50.0
#define UNIT_MAX 247
#define THD_V_BG 1.8 /* % background voltage distortion of the plant */

/* ---- random streams ------------------------------------------------------ */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed;
	uint64_t mix = splitmix64(&x) ^ (stream * 0xD1B54A32D192ED03ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&mix);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double rng_range(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * rng_uniform(r);
}

/* Standard normal (Box-Muller, one value per call: simple and stateless). */
static double rng_normal(struct rng *r)
{
	double u1 = 1.0 - rng_uniform(r); /* (0, 1] */
	double u2 = rng_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static double clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/*
 * Ornstein-Uhlenbeck step: mean-reverting noise with time constant tau and
 * stationary standard deviation sigma, around 0.
 */
static void ou_step(double *x, double tau, double sigma, double dt, struct rng *r)
{
	*x += -*x * dt / tau + sigma * sqrt(2.0 * dt / tau) * rng_normal(r);
}

/* ---- the plant ------------------------------------------------------------ */

enum { ST_OFF, ST_A, ST_B, ST_C, ST_D };

struct meter {
	enum sim_load load;
	unsigned unit;
	unsigned variant;       /* machine variant: CNC, press, welder, grinder */
	double rated;           /* W */
	struct rng rng;

	double act;             /* smoothed production activity 0..1 */
	double pf_drift, pf_sigma;
	double u[3];            /* slow per-phase load spread */
	double ph_pf[3];        /* fixed per-phase PF offsets */
	double ph_thd[3];       /* fixed per-phase THD factors */
	int sp_phase;           /* a single-phase load: phase, share, time left */
	double sp_frac, sp_left;
	double v_loc[3];        /* local per-phase voltage deviation */
	double wob;             /* process wobble */

	int state;              /* kind-specific state machine */
	double timer, x, y;

	/* the model of this step, before faults */
	double p[3], q[3];      /* W, var per phase */
	double thd_v, thd_i;    /* % */
	double nz[4];           /* uniform draws the faults use */

	/* counters */
	double e_imp, e_exp, eq_imp, eq_exp, e_imp_l[3], e_exp_l[3];

	/* utility meter (simmodel_set_utility): own stream, state, counter */
	struct rng urng;
	double flow_rated;      /* m3/h at full production */
	double uflow;           /* m3/h before faults */
	double unoise;          /* slow demand noise */
	double upress;          /* bar (air: the receiver's pressure) */
	bool uloaded;           /* air: the compressor is loaded */
	double utemp;           /* degC */
	double volume;          /* m3 */

	double phys[QTY__COUNT]; /* after faults */
	double out[QTY__COUNT];  /* what the meter reports */
};

struct simmodel {
	size_t n;
	int64_t start_us;
	double tz_off_s;        /* local time offset at start */
	double t;               /* elapsed seconds */
	struct rng prng;        /* plant stream */
	double v_dev, f_dev, thd_bg;
	struct meter *meters;
	struct sim_fault *faults;
	size_t nfaults, capfaults;
	int utility;            /* enum utility; 0: electricity only */
	bool incomer;           /* the main board carries the PV (simmodel_set_incomer) */
};

/* ---- names ---------------------------------------------------------------- */

static const char *const fault_names[SIM_FAULT__COUNT + 1] = {
	[SIM_FAULT_UNDERVOLTAGE] = "undervoltage",
	[SIM_FAULT_OVERVOLTAGE] = "overvoltage",
	[SIM_FAULT_PHASE_LOSS] = "phase-loss",
	[SIM_FAULT_OVERLOAD] = "overload",
	[SIM_FAULT_LOW_PF] = "low-pf",
	[SIM_FAULT_UNBALANCE] = "unbalance",
	[SIM_FAULT_THD] = "thd",
	[SIM_FAULT_TIMEOUT] = "timeout",
	[SIM_FAULT_NAN] = "nan",
	[SIM_FAULT_WRONG_UNIT] = "wrong-unit",
	[SIM_FAULT_BAD_LENGTH] = "bad-length",
	[SIM_FAULT_LATE] = "late",
	[SIM_FAULT_LEAK] = "leak",
	[SIM_FAULT_WRAP] = "wrap",
	[SIM_FAULT__COUNT] = NULL,
};

const char *simmodel_fault_name(enum sim_fault_kind k)
{
	return (unsigned)k < SIM_FAULT__COUNT ? fault_names[k] : "?";
}

static const struct {
	const char *name, *description;
} load_names[SIM_LOAD__COUNT] = {
	[SIM_LOAD_MAIN_BOARD] = { "main-board", "Main LV board (the whole workshop)" },
	[SIM_LOAD_OVEN] = { "oven", "Cataphoresis oven (resistive heaters, thermostat)" },
	[SIM_LOAD_FURNACE] = { "furnace", "Induction foundry furnace (melt cycles, harmonics)" },
	[SIM_LOAD_COMPRESSOR] = { "compressor", "Air compressor (motor starts, load/unload)" },
	[SIM_LOAD_PAINT_LINE] = { "paint-line", "Paint line (fans and pumps on drives)" },
	[SIM_LOAD_MACHINE] = { "machine", "Machine tool" },
	[SIM_LOAD_PV] = { "pv", "Photovoltaic feeder (rooftop, production)" },
};

const char *simmodel_load_name(enum sim_load l)
{
	return (unsigned)l < SIM_LOAD__COUNT ? load_names[l].name : "?";
}

const char *simmodel_load_description(enum sim_load l)
{
	return (unsigned)l < SIM_LOAD__COUNT ? load_names[l].description : "?";
}

/* ---- fault specs ---------------------------------------------------------- */

static int parse_seconds(const char *s, const char *what, const char *spec, double *out,
			 char **cause)
{
	int64_t ms;

	while (*s == ' ')
		s++;
	if (*s == '-') {
		*cause = util_printf("fault '%s': negative %s '%s'", spec, what, s);
		return -1;
	}
	if (util_parse_duration_ms(s, &ms) < 0) {
		*cause = util_printf("fault '%s': bad %s '%s' (seconds, or a duration "
				     "like 30s, 5m)", spec, what, s);
		return -1;
	}
	*out = (double)ms / 1000.0;
	return 0;
}

int simmodel_parse_fault(const char *spec, struct sim_fault *out, char **cause)
{
	char buf[128], safe[128];
	char *kind, *unit = NULL, *at = NULL, *dur = NULL;
	struct sim_fault f = { .unit = 0, .start_s = 0, .duration_s = -1 };
	size_t i;

	*cause = NULL;
	if (spec == NULL || *spec == '\0') {
		*cause = util_strdup("empty fault (KIND[:UNIT][@SECONDS[+DURATION]])");
		return -1;
	}
	util_sanitize(safe, sizeof(safe), spec);
	if (strlen(spec) >= sizeof(buf)) {
		*cause = util_printf("fault '%s': too long", safe);
		return -1;
	}
	util_strlcpy(buf, spec, sizeof(buf));
	kind = buf;
	at = strchr(buf, '@');
	if (at != NULL) {
		*at++ = '\0';
		dur = strchr(at, '+');
		if (dur != NULL)
			*dur++ = '\0';
	}
	unit = strchr(buf, ':');
	if (unit != NULL)
		*unit++ = '\0';

	for (i = 0; i < SIM_FAULT__COUNT; i++)
		if (strcmp(kind, fault_names[i]) == 0)
			break;
	if (i == SIM_FAULT__COUNT) {
		const char *near = util_closest(kind, fault_names);
		char k[64];

		util_sanitize(k, sizeof(k), kind);
		*cause = util_printf("fault '%s': unknown kind '%s'%s%s%s (kinds: undervoltage, "
				     "overvoltage, phase-loss, overload, low-pf, unbalance, thd, "
				     "timeout, nan, wrong-unit, bad-length, late, leak, wrap)", safe, k, near ? " (did you mean '" : "",
				     near ? near : "", near ? "'?)" : "");
		return -1;
	}
	f.kind = (enum sim_fault_kind)i;

	if (unit != NULL) {
		long u;

		if (util_parse_long(unit, 0, 1000000, &u) < 0) {
			*cause = util_printf("fault '%s': bad unit (a number 1..%d)", safe, UNIT_MAX);
			return -1;
		}
		if (u < 1 || u > UNIT_MAX) {
			*cause = util_printf("fault '%s': unit %ld out of range 1..%d", safe, u,
					     UNIT_MAX);
			return -1;
		}
		f.unit = (unsigned)u;
	}
	if (at != NULL && parse_seconds(at, "start", safe, &f.start_s, cause) < 0)
		return -1;
	if (dur != NULL) {
		if (parse_seconds(dur, "duration", safe, &f.duration_s, cause) < 0)
			return -1;
		if (f.duration_s <= 0) {
			*cause = util_printf("fault '%s': the duration must be positive", safe);
			return -1;
		}
	}
	*out = f;
	return 0;
}

/* ---- time and shifts ------------------------------------------------------ */

/*
 * Target production activity at local time ls (seconds since the epoch in
 * local time). Weekdays run three shifts: 06-14 (1.0), 14-22 (0.9), 22-06
 * (0.55); a night shift belongs to the day it starts, so Friday night runs
 * and Sunday night does not. Weekends 0.15. Each shift has a meal break and
 * a short break.
 */
static double shift_level(double ls)
{
	double day = floor(ls / 86400.0);
	double h = (ls - day * 86400.0) / 3600.0;
	double pday = h < 6.0 ? day - 1.0 : day;
	long dow = (((long)pday + 3) % 7 + 7) % 7; /* 0 = Monday (1970-01-01 was a Thursday) */
	double level;

	if (dow >= 5)
		return 0.15;
	if (h >= 6.0 && h < 14.0)
		level = 1.0;
	else if (h >= 14.0 && h < 22.0)
		level = 0.9;
	else
		level = 0.55;
	if ((h >= 10.0 && h < 10.0 + 1.0 / 3.0) || (h >= 18.0 && h < 18.0 + 1.0 / 3.0) ||
	    (h >= 2.0 && h < 2.0 + 1.0 / 3.0))
		level *= 0.55;
	else if ((h >= 12.5 && h < 12.5 + 1.0 / 6.0) || (h >= 20.5 && h < 20.5 + 1.0 / 6.0) ||
		 (h >= 4.5 && h < 4.5 + 1.0 / 6.0))
		level *= 0.7;
	return level;
}

static double local_s(const struct simmodel *m)
{
	return (double)(m->start_us / 1000000) + m->tz_off_s + m->t;
}

/* ---- faults --------------------------------------------------------------- */

static unsigned active_mask(const struct simmodel *m, size_t i)
{
	unsigned mask = 0;
	size_t k;

	for (k = 0; k < m->nfaults; k++) {
		const struct sim_fault *f = &m->faults[k];

		if (f->unit != 0 && f->unit != i + 1)
			continue;
		if (m->t < f->start_s)
			continue;
		if (f->duration_s >= 0 && m->t >= f->start_s + f->duration_s)
			continue;
		mask |= 1u << f->kind;
	}
	return mask;
}

bool simmodel_fault_active(const struct simmodel *m, size_t i, enum sim_fault_kind k)
{
	if (i >= m->n || (unsigned)k >= SIM_FAULT__COUNT)
		return false;
	return (active_mask(m, i) >> k) & 1u;
}

/* Utility meters (below) and the compute half, used before they are defined. */
static void evolve_utility(struct simmodel *m, struct meter *me, size_t i, double dt);
static void compute_all(struct simmodel *m, double dt);

/* ---- evolve: the random half of a step ------------------------------------ */

/* Spread P_total over the phases with the meter's weights and PF. */
static void split_phases(struct meter *me, double ptot, double pf, const double extra[3])
{
	double w[3], sum = 0;
	int k;

	for (k = 0; k < 3; k++) {
		w[k] = 1.0 + me->u[k] + extra[k] + (k == me->sp_phase ? me->sp_frac : 0.0);
		sum += w[k];
	}
	for (k = 0; k < 3; k++) {
		double pfk = clamp(pf + me->ph_pf[k], 0.2, 0.9999);

		me->p[k] = ptot * w[k] / sum;
		me->q[k] = me->p[k] * sqrt(1.0 / (pfk * pfk) - 1.0);
	}
}

/* Combine components (P, displacement PF) into P and an overall PF. */
struct comp {
	double p, q;
};

static void comp_add(struct comp *c, double p, double pf)
{
	c->p += p;
	c->q += p * sqrt(1.0 / (pf * pf) - 1.0);
}

static double comp_pf(const struct comp *c)
{
	double s = hypot(c->p, c->q);

	return s > 0 ? c->p / s : 1.0;
}

static void evolve_oven(struct meter *me, double dt, struct comp *c, double *thd_i)
{
	bool on = me->act > 0.3;
	double setpoint = on ? 185.0 : 20.0;
	double heat = 0, fans, loss;
	double *temp = &me->x;

	if (me->state == ST_A && *temp >= setpoint + 2.0)
		me->state = ST_OFF;
	else if (me->state == ST_OFF && on && *temp <= setpoint - 2.0)
		me->state = ST_A;
	if (me->state == ST_A)
		heat = me->rated * 0.93 * (1.0 + 0.004 * rng_normal(&me->rng));
	fans = on ? 6000.0 * (1.0 + 0.3 * me->wob) : (*temp > 60.0 ? 2500.0 : 400.0);
	/* Heat loss 0.23 kW/K to the hall and 25 kW into the parts at full
	 * production; 2.34 MJ/K of steel and air: cycles of a few minutes. */
	loss = 230.0 * (*temp - 20.0) + (on ? 25000.0 * me->act : 0.0);
	*temp += (heat - loss) * dt / 2.34e6;
	comp_add(c, heat, 0.9999);
	comp_add(c, fans, 0.97);
	*thd_i = (heat * 3.0 + fans * 28.0) / (heat + fans);
}

static void evolve_furnace(struct meter *me, double dt, struct comp *c, double *thd_i,
			   double *thd_v_own)
{
	struct rng *r = &me->rng;
	double aux = 9000.0 + 3000.0 * me->act, conv = 0;
	double ramp;

	me->timer -= dt;
	if (me->timer <= 0) {
		switch (me->state) {
		case ST_A: /* charging done: melt, when the shift allows */
			if (me->act >= 0.3) {
				me->state = ST_B;
				me->timer = rng_range(r, 35, 50) * 60.0;
				me->x = 0;
				me->y = rng_range(r, 0.9, 0.98);
			} else {
				me->timer = 60.0;
			}
			break;
		case ST_B:
			me->state = ST_C; /* superheat / hold */
			me->timer = rng_range(r, 6, 12) * 60.0;
			me->y = rng_range(r, 0.35, 0.45);
			break;
		case ST_C:
			me->state = ST_D; /* tap */
			me->timer = rng_range(r, 4, 8) * 60.0;
			break;
		default:
			me->state = ST_A; /* charge: slower when fewer people */
			me->timer = rng_range(r, 8, 12) * 60.0 / clamp(me->act, 0.3, 1.0);
			break;
		}
	}
	switch (me->state) {
	case ST_B:
		me->x += dt;
		ramp = clamp(me->x / 180.0, 0.05, 1.0);
		conv = me->rated * me->y * ramp * (1.0 + 0.015 * me->wob / 0.02);
		conv = clamp(conv, 0, me->rated * 0.985 - aux);
		break;
	case ST_C:
		conv = me->rated * me->y * (1.0 + 0.5 * me->wob);
		break;
	case ST_D:
		conv = 6000.0;
		break;
	default:
		break;
	}
	comp_add(c, conv, 0.955);
	comp_add(c, aux, 0.82);
	*thd_i = clamp(15.0 + 15.0 * (1.0 - c->p / me->rated), 15.0, 30.0);
	*thd_v_own = 1.4 + 2.6 * c->p / me->rated;
}

/* The compressor's apparent power at rated load (PF 0.87, efficiency 0.94). */
static double compressor_s_rated(const struct meter *me)
{
	return me->rated / 0.87 / 0.94 * 0.95;
}

static void evolve_compressor(struct meter *me, double dt, struct comp *c, double *thd_i)
{
	struct rng *r = &me->rng;
	double *press = &me->x;
	/* Free air delivery of 1/60 bar/s of the receiver when loaded; the
	 * shop draws 15..85 % of it. */
	double demand = (0.15 + 0.7 * me->act) * (1.0 + 2.0 * me->wob) / 60.0;
	double noise = 0.01 * rng_normal(r);

	me->timer += dt;
	switch (me->state) {
	case ST_OFF:
		if (*press <= 6.5) {
			me->state = ST_A;
			me->timer = 0;
			me->y = rng_range(r, 3, 5); /* start time */
		}
		break;
	case ST_A:
		if (me->timer >= me->y) {
			me->state = ST_B;
			me->timer = 0;
		}
		break;
	case ST_B:
		if (*press >= 7.5) {
			me->state = ST_C;
			me->timer = 0;
		}
		break;
	case ST_C:
		if (*press <= 6.5) {
			me->state = ST_B;
			me->timer = 0;
		} else if (me->timer >= 120.0) {
			me->state = ST_OFF; /* unloaded too long: stop the motor */
			me->timer = 0;
		}
		break;
	default:
		break;
	}
	*press += ((me->state == ST_B ? 1.0 / 60.0 : 0.0) - demand) * dt;
	*press = clamp(*press, 4.0, 8.0);

	*thd_i = 5.0 + 1.5 * me->wob / 0.02;
	switch (me->state) {
	case ST_A: {
		/* Direct-on-line start: about 6x the rated current, decaying,
		 * at a low PF that rises as the motor speeds up. */
		double frac = clamp(me->timer / me->y, 0, 1);
		double s = compressor_s_rated(me) * (6.0 - 4.5 * frac);
		double pf = 0.2 + 0.4 * frac;

		comp_add(c, s * pf, pf);
		*thd_i = 2.0;
		break;
	}
	case ST_B:
		comp_add(c, me->rated * 0.95 * (1.0 + noise), 0.87);
		break;
	case ST_C:
		comp_add(c, me->rated * 0.30 * (1.0 + noise), 0.805);
		break;
	default:
		comp_add(c, 180.0, 0.9); /* controller, dryer fan off */
		*thd_i = 12.0;
		break;
	}
}

static void evolve_paint(struct meter *me, struct comp *c, double *thd_i, double *thd_v_own)
{
	double load = clamp((0.22 + 0.6 * me->act) * (1.0 + 2.0 * me->wob), 0.1, 0.97);

	comp_add(c, me->rated * load, 0.9);
	*thd_i = 20.0 + 20.0 * (1.0 - load);
	*thd_v_own = 0.5 + 1.5 * load;
}

/* Machines: on/off with the shift, then the variant's own cycle. */
static void evolve_machine(struct meter *me, double dt, struct comp *c, double *thd_i,
			   double extra[3])
{
	struct rng *r = &me->rng;
	double on_draw = rng_uniform(r), d1 = rng_uniform(r), d2 = rng_uniform(r);
	double rated = me->rated;

	/* y counts down the current run/stop period. */
	me->y -= dt;
	if (me->y <= 0) {
		me->state = on_draw < me->act ? ST_A : ST_OFF;
		me->y = 600.0 + 1800.0 * d1;
		me->timer = 0;
	}
	if (me->state == ST_OFF) {
		comp_add(c, rated * 0.03, 0.85);
		*thd_i = 12.0;
		return;
	}
	me->timer -= dt;
	switch (me->variant) {
	case 0: /* CNC machining centre: cut, tool change, part change */
		if (me->timer <= 0) {
			if (me->x >= 0.4 && d1 < 0.25) { /* part change */
				me->x = 0.12;
				me->timer = 20.0 + 70.0 * d2;
			} else if (me->x >= 0.4) {     /* tool change */
				me->x = 0.2;
				me->timer = 5.0 + 10.0 * d2;
			} else {                       /* cut */
				me->x = 0.45 + 0.4 * d2;
				me->timer = 60.0 + 240.0 * d1;
			}
		}
		comp_add(c, rated * me->x * (1.0 + me->wob), 0.87);
		*thd_i = 18.0 + 7.0 * (1.0 - me->x);
		break;
	case 1: /* press: a flywheel and a stroke every 4-8 s */
		if (me->timer <= 0)
			me->timer = 4.0 + 4.0 * d2;
		comp_add(c, rated * (me->timer <= 1.5 ? 0.9 : 0.3), 0.85);
		*thd_i = 8.0;
		break;
	case 2: /* welding robot: welds on L1-L2, moves in between */
		if (me->timer <= 0) {
			me->x = me->x > 0.5 ? 0.15 : 0.7;
			me->timer = me->x > 0.5 ? 5.0 + 15.0 * d2 : 3.0 + 7.0 * d2;
		}
		if (me->x > 0.5) {
			extra[0] += 0.06;
			extra[1] += 0.06;
		}
		comp_add(c, rated * me->x, me->x > 0.5 ? 0.9 : 0.85);
		*thd_i = 25.0;
		break;
	default: /* grinder / conveyor: steady */
		comp_add(c, rated * clamp(0.62 + 2.0 * me->wob, 0.4, 0.8), 0.86);
		*thd_i = 10.0;
		break;
	}
}

double simmodel_pv_clear_sky(double ls)
{
	double day = floor(ls / 86400.0);
	double h = (ls - day * 86400.0) / 3600.0;
	/* day of the year from 1970-01-01 (close enough: 365.25 days) */
	double doy = fmod(day, 365.25);
	double season = cos(2.0 * M_PI * (doy - 172.0) / 365.25); /* 1 midsummer, -1 midwinter */
	double len = 12.0 + 4.0 * season;                           /* 8 to 16 hours */
	double x = (h - (13.0 - len / 2.0)) / len;                  /* 0 sunrise .. 1 sunset */
	double height = 0.65 + 0.35 * season;                       /* winter sun is low */

	if (x <= 0.0 || x >= 1.0)
		return 0.0;
	return height * pow(sin(M_PI * x), 1.3);
}

/*
 * A PV feeder: the clear sky times the clouds. x is a slow haze (0 clear
 * .. 0.5 overcast, half-hour time constant); a cloud passes now and then
 * (y seconds left) and takes 40 to 80 % for its while.
 */
static void evolve_pv(struct simmodel *m, struct meter *me, double dt, struct comp *c,
		      double *thd_i)
{
	struct rng *r = &me->rng;
	double d0 = rng_uniform(r), d1 = rng_uniform(r), d2 = rng_uniform(r);
	double sky = simmodel_pv_clear_sky(local_s(m)), cloud;

	ou_step(&me->x, 1800.0, 0.15, dt, r);
	me->x = clamp(me->x, 0.0, 0.5);
	if (me->y > 0) {
		me->y -= dt;
	} else if (d0 < dt / 900.0) {
		me->y = 60.0 + 240.0 * d1;
		me->timer = 0.4 + 0.4 * d2;
	}
	cloud = (1.0 - me->x) * (me->y > 0 ? 1.0 - me->timer : 1.0);
	comp_add(c, me->rated * sky * cloud, 0.99);
	*thd_i = sky > 0 ? 4.0 : 0.0;
}

static void evolve_meter(struct simmodel *m, struct meter *me, double dt)
{
	struct rng *r = &me->rng;
	struct comp c = { 0, 0 };
	double extra[3] = { 0, 0, 0 };
	double thd_i = 5.0, thd_v_own = 0.3;
	double target = shift_level(local_s(m));
	int k;

	/* Faults never change what is drawn: they act in compute() only. */
	me->act += (target - me->act) * fmin(1.0, dt / 300.0);
	ou_step(&me->pf_drift, 3.0 * 3600.0, me->pf_sigma, dt, r);
	for (k = 0; k < 3; k++) {
		ou_step(&me->u[k], 1200.0, 0.012, dt, r);
		me->u[k] = clamp(me->u[k], -0.03, 0.03);
		ou_step(&me->v_loc[k], 60.0, 0.0015, dt, r);
		me->v_loc[k] = clamp(me->v_loc[k], -0.004, 0.004);
	}
	ou_step(&me->wob, 120.0, 0.02, dt, r);
	me->wob = clamp(me->wob, -0.06, 0.06);
	{
		double d0 = rng_uniform(r), d1 = rng_uniform(r), d2 = rng_uniform(r);
		double d3 = rng_uniform(r);

		/* A single-phase load (welder, heater, lighting circuit) comes
		 * and goes: a few percent, sometimes more. */
		me->sp_left -= dt;
		if (me->sp_left <= 0) {
			me->sp_frac = 0;
			if (d0 < dt / 1800.0) {
				me->sp_phase = (int)(d1 * 3.0) % 3;
				me->sp_frac = d3 < 0.15 ? 0.12 + 0.06 * d2 : 0.03 + 0.09 * d2;
				me->sp_left = 60.0 + 1740.0 * d3;
			}
		}
	}
	for (k = 0; k < 4; k++)
		me->nz[k] = rng_uniform(r);

	switch (me->load) {
	case SIM_LOAD_MAIN_BOARD: {
		/* Lighting, HVAC, offices and small unmetered machines; the
		 * metered feeders are added in compute(). */
		double base = 150000.0 * (0.3 + 0.7 * me->act) * (1.0 + me->wob);

		comp_add(&c, base, 0.9);
		thd_i = 8.0;
		break;
	}
	case SIM_LOAD_OVEN:
		evolve_oven(me, dt, &c, &thd_i);
		break;
	case SIM_LOAD_FURNACE:
		evolve_furnace(me, dt, &c, &thd_i, &thd_v_own);
		break;
	case SIM_LOAD_COMPRESSOR:
		evolve_compressor(me, dt, &c, &thd_i);
		break;
	case SIM_LOAD_PAINT_LINE:
		evolve_paint(me, &c, &thd_i, &thd_v_own);
		break;
	case SIM_LOAD_PV:
		evolve_pv(m, me, dt, &c, &thd_i);
		break;
	default:
		evolve_machine(me, dt, &c, &thd_i, extra);
		break;
	}
	split_phases(me, c.p, comp_pf(&c) + me->pf_drift, extra);
	me->thd_i = thd_i * (1.0 + me->wob);
	me->thd_v = THD_V_BG + m->thd_bg + thd_v_own;
	if (me->load == SIM_LOAD_FURNACE) {
		/* 15-30 % and 3-6 % once the per-phase spread is applied. */
		me->thd_i = clamp(me->thd_i, 15.7, 28.8);
		me->thd_v = clamp(me->thd_v, 3.07, 5.88);
	}
	if (m->utility != UTILITY_ELECTRICITY)
		evolve_utility(m, me, (size_t)(me - m->meters), dt);
}

/* ---- utility meters ------------------------------------------------------- */

#define AIR_P_LOW 6.5   /* bar: the compressor loads below, unloads above high */
#define AIR_P_HIGH 7.5

/* Outdoor temperature (degC) at local time ls: 0 at 04:00, 8 at 16:00. */
static double outdoor_temp(double ls)
{
	double h = fmod(ls, 86400.0) / 3600.0;

	return 4.0 - 4.0 * cos(2.0 * M_PI * (h - 4.0) / 24.0);
}

/* Production demand 0..1 from the smoothed activity: 0 on weekends. */
static double demand(const struct meter *me)
{
	return clamp((me->act - 0.2) / 0.8, 0.0, 1.0);
}

/* The leak a leak fault adds, m3/h. */
static double leak_flow(const struct simmodel *m, const struct meter *me)
{
	return fmax(0.5, (m->utility == UTILITY_AIR ? 0.10 : 0.06) * me->flow_rated);
}

static void evolve_utility(struct simmodel *m, struct meter *me, size_t i, double dt)
{
	double d = demand(me), ls = local_s(m), tout = outdoor_temp(ls);

	ou_step(&me->unoise, 300.0, 0.08, dt, &me->urng);
	me->unoise = clamp(me->unoise, -0.25, 0.25);
	switch (m->utility) {
	case UTILITY_GAS: {
		/* space heating (colder: more) and process burners */
		double heat = clamp((17.0 - tout) / 17.0, 0.0, 1.0);

		me->uflow = me->flow_rated * d * (0.35 + 0.65 * heat) * (1.0 + me->unoise);
		me->utemp = 6.0 + 0.5 * tout;
		me->upress = 0.0215 - 0.002 * me->uflow / me->flow_rated;
		break;
	}
	case UTILITY_AIR: {
		/* The receiver's pressure: filled by the compressor while
		 * loaded, drained by the consumption (a leak drains it too, so
		 * the compressor cycles at night). */
		double cons = me->flow_rated * d * (0.75 + me->unoise), rate;

		if (simmodel_fault_active(m, i, SIM_FAULT_LEAK))
			cons += leak_flow(m, me);
		rate = ((me->uloaded ? 1.25 * me->flow_rated : 0.0) - cons) / me->flow_rated / 60.0;
		me->upress += rate * dt;
		if (me->upress <= AIR_P_LOW)
			me->uloaded = true;
		else if (me->upress >= AIR_P_HIGH)
			me->uloaded = false;
		me->upress = clamp(me->upress, AIR_P_LOW - 0.3, AIR_P_HIGH + 0.1);
		me->uflow = me->flow_rated * d * (0.75 + me->unoise);
		me->utemp += ((me->uloaded ? 32.0 : 26.0) - me->utemp) * fmin(1.0, dt / 120.0);
		break;
	}
	default: /* water, heat: the shifts' use */
		me->uflow = me->flow_rated * d * (1.0 + me->unoise);
		me->utemp = m->utility == UTILITY_HEAT ? 70.0 - 8.0 * d : 12.0;
		me->upress = (m->utility == UTILITY_HEAT ? 2.5 : 4.2) -
			     0.6 * me->uflow / me->flow_rated;
		break;
	}
	if (me->uflow < 0)
		me->uflow = 0;
}

/* The utility values after faults (before the counter is integrated). */
static void compute_utility(struct simmodel *m, struct meter *me, unsigned mask)
{
	double *v = me->phys;

	v[QTY_FLOW] = me->uflow;
	if ((mask >> SIM_FAULT_LEAK) & 1u)
		v[QTY_FLOW] += leak_flow(m, me);
	v[QTY_TEMP] = me->utemp;
	v[QTY_PRESSURE] = me->upress;
}

void simmodel_set_utility(struct simmodel *m, int utility)
{
	size_t i;

	if (utility <= UTILITY_ELECTRICITY || utility >= UTILITY__COUNT)
		return;
	m->utility = utility;
	for (i = 0; i < m->n; i++) {
		struct meter *me = &m->meters[i];
		struct rng *r = &me->urng;
		double base = utility == UTILITY_GAS ? 60.0 : utility == UTILITY_AIR ? 600.0 : 20.0;

		rng_seed(r, UINT64_C(0x5DEECE66D) ^ (uint64_t)i, me->unit + 1000);
		me->flow_rated = floor(base * (i == 0 ? 3.0 : rng_range(r, 0.5, 1.5)));
		me->upress = rng_range(r, AIR_P_LOW, AIR_P_HIGH);
		me->uloaded = rng_uniform(r) < 0.5;
		me->utemp = 28.0;
		/* 3 000 to 30 000 hours at 35 % of the rated flow */
		me->volume = floor(rng_range(r, 3000, 30000) * me->flow_rated * 0.35);
		evolve_utility(m, me, i, 0.0);
	}
	compute_all(m, 0.0);
}

int simmodel_utility(const struct simmodel *m)
{
	return m->utility;
}

void simmodel_preset_counter(struct simmodel *m, size_t i, unsigned qty, double value)
{
	if (i >= m->n)
		return;
	if (qty == QTY_VOLUME)
		m->meters[i].volume = value;
	else if (qty == QTY_E_IMP)
		m->meters[i].e_imp = value;
	compute_all(m, 0.0);
}

double simmodel_rated_flow(const struct simmodel *m, size_t i)
{
	return i < m->n ? m->meters[i].flow_rated : 0.0;
}

static void evolve_plant(struct simmodel *m, double dt)
{
	struct rng *r = &m->prng;

	ou_step(&m->v_dev, 600.0, 0.004, dt, r);
	m->v_dev = clamp(m->v_dev, -0.01, 0.01);
	ou_step(&m->f_dev, 30.0, 0.015, dt, r);
	m->f_dev = clamp(m->f_dev, -0.045, 0.045);
	ou_step(&m->thd_bg, 1800.0, 0.25, dt, r);
	m->thd_bg = clamp(m->thd_bg, -0.6, 0.6);
}

/* ---- compute: the deterministic half -------------------------------------- */

#define HAS(mask, k) (((mask) >> (k)) & 1u)

static void compute_meter(struct simmodel *m, size_t i)
{
	struct meter *me = &m->meters[i];
	unsigned mask = active_mask(m, i);
	double *v = me->phys;
	double p[3], q[3], s[3], vl[3], thd_i[3];
	double ptot = 0, s_pre;
	double in_re = 0, in_im = 0;
	int k;

	for (k = 0; k < 3; k++) {
		p[k] = me->p[k];
		q[k] = me->q[k];
		thd_i[k] = me->thd_i * me->ph_thd[k];
	}
	if (me->load == SIM_LOAD_MAIN_BOARD) {
		/* The feeders' currents weighted by their harmonic content. */
		double sw[3], st[3];
		size_t j;

		for (k = 0; k < 3; k++) {
			sw[k] = hypot(p[k], q[k]);
			st[k] = sw[k] * thd_i[k];
		}
		for (j = 1; j < m->n; j++) {
			const double *o = m->meters[j].phys;

			if (m->meters[j].load == SIM_LOAD_PV) {
				/* production is its own root, unless the main
				 * board is the grid incomer: then it feeds in */
				for (k = 0; m->incomer && k < 3; k++) {
					p[k] -= o[QTY_P_L1 + k];
					q[k] -= o[QTY_Q_L1 + k];
				}
				continue;
			}

			for (k = 0; k < 3; k++) {
				p[k] += o[QTY_P_L1 + k];
				q[k] += o[QTY_Q_L1 + k];
				sw[k] += o[QTY_S_L1 + k];
				st[k] += o[QTY_S_L1 + k] * o[QTY_THD_I_L1 + k];
			}
		}
		for (k = 0; k < 3; k++)
			thd_i[k] = sw[k] > 0 ? st[k] / sw[k] : 0;
	}

	/* The supply as the model has it: common deviation, local noise and
	 * the drop of this feeder under load (1.2 % at rated load). */
	for (k = 0; k < 3; k++) {
		s_pre = hypot(p[k], q[k]);
		vl[k] = V_NOM * (1.0 + m->v_dev + me->v_loc[k] - 0.012 * s_pre / (me->rated / 3.0));
		vl[k] = clamp(vl[k], V_NOM * 0.98, V_NOM * 1.02);
		ptot += p[k];
	}

	if (HAS(mask, SIM_FAULT_OVERLOAD)) {
		double f = fmax(3.0, 1.2 * me->rated / fmax(ptot, 1.0));

		for (k = 0; k < 3; k++) {
			if (ptot < 1.0)
				p[k] = 1.0 / 3.0, q[k] = 0.5 / 3.0;
			p[k] *= f;
			q[k] *= f;
		}
	}
	if (HAS(mask, SIM_FAULT_LOW_PF))
		for (k = 0; k < 3; k++) {
			double pfk = 0.70 + 0.02 * (me->nz[k] - 0.5);

			q[k] = fabs(p[k]) * sqrt(1.0 / (pfk * pfk) - 1.0);
		}
	if (HAS(mask, SIM_FAULT_UNDERVOLTAGE) || HAS(mask, SIM_FAULT_OVERVOLTAGE)) {
		double lvl = HAS(mask, SIM_FAULT_UNDERVOLTAGE) ? 0.85 : 1.12;

		for (k = 0; k < 3; k++)
			vl[k] = V_NOM * (lvl + (vl[k] / V_NOM - 1.0) * 0.25);
	}
	if (HAS(mask, SIM_FAULT_UNBALANCE)) {
		p[0] *= 2.0, q[0] *= 2.0;
		p[1] *= 0.5, q[1] *= 0.5;
		vl[0] *= 0.97;
		vl[1] *= 1.03;
	}
	if (HAS(mask, SIM_FAULT_PHASE_LOSS)) {
		p[2] = q[2] = 0;
		vl[2] = 0.2 + 0.6 * me->nz[3]; /* what the meter picks up */
	}

	v[QTY_P_TOTAL] = v[QTY_Q_TOTAL] = v[QTY_S_TOTAL] = 0;
	for (k = 0; k < 3; k++) {
		double ang = -2.0 * M_PI / 3.0 * k, phi, ik;

		s[k] = hypot(p[k], q[k]);
		ik = vl[k] > 1.0 ? s[k] / vl[k] : 0.0;
		v[QTY_V_L1N + k] = vl[k];
		v[QTY_I_L1 + k] = ik;
		v[QTY_P_L1 + k] = p[k];
		v[QTY_Q_L1 + k] = q[k];
		v[QTY_S_L1 + k] = s[k];
		v[QTY_PF_L1 + k] = s[k] > 0 ? p[k] / s[k] : 1.0;
		v[QTY_P_TOTAL] += p[k];
		v[QTY_Q_TOTAL] += q[k];
		v[QTY_S_TOTAL] += s[k];
		/* Neutral: the vector sum of the phase currents, each lagging
		 * its voltage by phi. */
		phi = atan2(q[k], p[k]);
		in_re += ik * cos(ang - phi);
		in_im += ik * sin(ang - phi);
		v[QTY_THD_V_L1 + k] = me->thd_v * (0.5 + 0.5 * me->ph_thd[k]);
		v[QTY_THD_I_L1 + k] = thd_i[k];
		if (HAS(mask, SIM_FAULT_THD)) {
			v[QTY_THD_V_L1 + k] = 12.0 + 0.6 * (me->nz[k] - 0.5);
			v[QTY_THD_I_L1 + k] = 45.0 + 3.0 * (me->nz[(k + 1) % 4] - 0.5);
		}
	}
	if (HAS(mask, SIM_FAULT_PHASE_LOSS))
		v[QTY_THD_V_L3] = v[QTY_THD_I_L3] = 0;
	v[QTY_I_N] = hypot(in_re, in_im);
	v[QTY_PF_TOTAL] = v[QTY_S_TOTAL] > 0 ? v[QTY_P_TOTAL] / v[QTY_S_TOTAL] : 1.0;
	/* |Va - Vb| with Va, Vb 120 degrees apart: a^2 + b^2 + ab. */
	for (k = 0; k < 3; k++) {
		double a = vl[k], b = vl[(k + 1) % 3];

		v[QTY_V_L12 + k] = sqrt(a * a + b * b + a * b);
	}
	v[QTY_FREQ] = F_NOM + m->f_dev;
	v[QTY_FLOW] = v[QTY_VOLUME] = v[QTY_TEMP] = v[QTY_PRESSURE] = v[QTY_VIBRATION] = NAN;
	if (m->utility != UTILITY_ELECTRICITY)
		compute_utility(m, me, mask);
}

static void write_counters(struct meter *me)
{
	int k;

	me->phys[QTY_E_IMP] = me->e_imp;
	me->phys[QTY_E_EXP] = me->e_exp;
	me->phys[QTY_EQ_IMP] = me->eq_imp;
	me->phys[QTY_EQ_EXP] = me->eq_exp;
	for (k = 0; k < 3; k++) {
		me->phys[QTY_E_IMP_L1 + k] = me->e_imp_l[k];
		me->phys[QTY_E_EXP_L1 + k] = me->e_exp_l[k];
	}
	if (me->flow_rated > 0)
		me->phys[QTY_VOLUME] = me->volume;
}

static void integrate(struct meter *me, double dt)
{
	const double *v = me->phys;
	double h = dt / 3600.0;
	int k;

	me->e_imp += fmax(v[QTY_P_TOTAL], 0) * h;
	me->e_exp += fmax(-v[QTY_P_TOTAL], 0) * h;
	me->eq_imp += fmax(v[QTY_Q_TOTAL], 0) * h;
	me->eq_exp += fmax(-v[QTY_Q_TOTAL], 0) * h;
	if (me->flow_rated > 0)
		me->volume += v[QTY_FLOW] * h;
	for (k = 0; k < 3; k++) {
		me->e_imp_l[k] += fmax(v[QTY_P_L1 + k], 0) * h;
		me->e_exp_l[k] += fmax(-v[QTY_P_L1 + k], 0) * h;
	}
}

static void publish(struct simmodel *m, size_t i)
{
	struct meter *me = &m->meters[i];
	unsigned mask = active_mask(m, i);

	if (HAS(mask, SIM_FAULT_TIMEOUT))
		return; /* the meter is silent: what a client saw last stays */
	memcpy(me->out, me->phys, sizeof(me->out));
	if (HAS(mask, SIM_FAULT_NAN)) {
		me->out[QTY_V_L1N] = NAN;
		me->out[QTY_P_TOTAL] = NAN;
		me->out[QTY_FLOW] = NAN;
	}
}

/* Compute every meter (feeders before the main board that sums them). */
static void compute_all(struct simmodel *m, double dt)
{
	size_t i;

	for (i = m->n; i-- > 0;) {
		struct meter *me = &m->meters[i];

		compute_meter(m, i);
		if (dt > 0)
			integrate(me, dt);
		write_counters(me);
	}
	for (i = 0; i < m->n; i++) {
		uint64_t pieces;

		/* a profile mapping machine_state and pieces reads unit i as
		 * machine (i % 2) (simmodel_machine): a PLC over Modbus */
		m->meters[i].phys[QTY_MACHINE_STATE] =
		    simmodel_machine(i % SIMMODEL_MACHINES, (int64_t)m->t, &pieces);
		m->meters[i].phys[QTY_PIECES] = (double)pieces;
		publish(m, i);
	}
}

static void step(struct simmodel *m, double dt)
{
	size_t i;

	m->t += dt;
	evolve_plant(m, dt);
	for (i = 0; i < m->n; i++)
		evolve_meter(m, &m->meters[i], dt);
	compute_all(m, dt);
}

void simmodel_advance(struct simmodel *m, double elapsed_s)
{
	while (m->t < elapsed_s) {
		double next = fmin(m->t + 1.0, elapsed_s);
		double dt = next - m->t;

		step(m, dt);
		m->t = next; /* exact, whatever the rounding of the sum */
	}
}

/* ---- set-up --------------------------------------------------------------- */

static enum sim_load load_of_unit(unsigned unit)
{
	switch (unit) {
	case 1: return SIM_LOAD_MAIN_BOARD;
	case 2: return SIM_LOAD_OVEN;
	case 3: return SIM_LOAD_FURNACE;
	case 4: return SIM_LOAD_COMPRESSOR;
	case 5: return SIM_LOAD_PAINT_LINE;
	default: return SIM_LOAD_MACHINE;
	}
}

static void init_meter(struct simmodel *m, struct meter *me, unsigned unit, uint64_t seed)
{
	struct rng *r = &me->rng;
	double hours, share[3], ssum = 0;
	int k;

	me->unit = unit;
	me->load = load_of_unit(unit);
	rng_seed(r, seed, unit);
	switch (me->load) {
	case SIM_LOAD_MAIN_BOARD: me->rated = 1000e3; me->pf_sigma = 0.02; break;
	case SIM_LOAD_OVEN: me->rated = 120e3; me->pf_sigma = 0.0; break;
	case SIM_LOAD_FURNACE: me->rated = 400e3; me->pf_sigma = 0.008; break;
	case SIM_LOAD_COMPRESSOR: me->rated = 75e3; me->pf_sigma = 0.006; break;
	case SIM_LOAD_PAINT_LINE: me->rated = 150e3; me->pf_sigma = 0.012; break;
	default:
		me->variant = (unit - 6) % 4;
		me->rated = 5e3 * floor(rng_range(r, 4, 12.999));
		me->pf_sigma = 0.01;
		break;
	}
	me->act = shift_level(local_s(m));
	me->pf_drift = me->pf_sigma * rng_normal(r);
	for (k = 0; k < 3; k++) {
		me->u[k] = clamp(0.012 * rng_normal(r), -0.03, 0.03);
		me->ph_pf[k] = me->load == SIM_LOAD_OVEN ? 0 : rng_range(r, -0.006, 0.006);
		me->ph_thd[k] = rng_range(r, 0.96, 1.04);
		me->v_loc[k] = rng_range(r, -0.002, 0.002);
	}
	me->sp_phase = -1;

	/* Kind state: somewhere plausible in its cycle. */
	switch (me->load) {
	case SIM_LOAD_OVEN:
		me->x = me->act > 0.3 ? rng_range(r, 183, 187) : rng_range(r, 25, 60);
		me->state = rng_uniform(r) < 0.5 ? ST_A : ST_OFF;
		break;
	case SIM_LOAD_FURNACE:
		me->state = ST_A;
		me->timer = rng_range(r, 0, 600);
		break;
	case SIM_LOAD_COMPRESSOR:
		me->x = rng_range(r, 6.6, 7.4);
		me->state = rng_uniform(r) < 0.5 ? ST_B : ST_C;
		break;
	case SIM_LOAD_MACHINE:
		me->y = rng_range(r, 0, 600);
		me->state = rng_uniform(r) < me->act ? ST_A : ST_OFF;
		break;
	default:
		break;
	}

	/* Counters from a plausible past: 3 000 to 30 000 hours at 45 %. */
	hours = rng_range(r, 3000, 30000);
	for (k = 0; k < 3; k++) {
		share[k] = rng_range(r, 0.98, 1.02);
		ssum += share[k];
	}
	for (k = 0; k < 3; k++) {
		me->e_imp_l[k] = floor(hours * me->rated * 0.45 * share[k] / ssum);
		me->e_imp += me->e_imp_l[k];
	}
	me->eq_imp = floor(me->e_imp * rng_range(r, 0.3, 0.6));
}

struct simmodel *simmodel_new(size_t n, uint64_t seed, int64_t sim_start_us)
{
	struct simmodel *m = util_calloc(1, sizeof(*m));
	time_t t0 = (time_t)(sim_start_us / 1000000);
	struct tm tm;
	size_t i;

	m->n = n;
	m->start_us = sim_start_us;
	/* Shifts follow local time; the offset at start holds for the run. */
	if (localtime_r(&t0, &tm) != NULL)
		m->tz_off_s = (double)tm.tm_gmtoff;
	rng_seed(&m->prng, seed, 0);
	m->f_dev = 0.015 * rng_normal(&m->prng);
	m->v_dev = clamp(0.004 * rng_normal(&m->prng), -0.01, 0.01);
	m->thd_bg = clamp(0.25 * rng_normal(&m->prng), -0.6, 0.6);
	m->meters = util_calloc(n ? n : 1, sizeof(*m->meters));
	for (i = 0; i < n; i++)
		init_meter(m, &m->meters[i], (unsigned)(i + 1), seed);
	/* The main board carries the machines too. */
	for (i = 5; i < n; i++)
		m->meters[0].rated += m->meters[i].rated;
	/* The values at elapsed 0: a step of zero length. */
	for (i = 0; i < n; i++)
		evolve_meter(m, &m->meters[i], 0.0);
	compute_all(m, 0.0);
	return m;
}

void simmodel_free(struct simmodel *m)
{
	if (m == NULL)
		return;
	free(m->meters);
	free(m->faults);
	free(m);
}

void simmodel_add_fault(struct simmodel *m, const struct sim_fault *f)
{
	if ((unsigned)f->kind >= SIM_FAULT__COUNT)
		return;
	if (m->nfaults == m->capfaults) {
		m->capfaults = m->capfaults ? 2 * m->capfaults : 4;
		m->faults = util_reallocarray(m->faults, m->capfaults, sizeof(*m->faults));
	}
	m->faults[m->nfaults++] = *f;
	/* Show it now when it is already due (no random draw: the trajectory
	 * stays the same). */
	compute_all(m, 0.0);
}

const double *simmodel_values(const struct simmodel *m, size_t i)
{
	return i < m->n ? m->meters[i].out : NULL;
}

enum sim_load simmodel_load(const struct simmodel *m, size_t i)
{
	return i < m->n ? m->meters[i].load : SIM_LOAD_MACHINE;
}

void simmodel_set_incomer(struct simmodel *m, bool on)
{
	m->incomer = on;
	compute_all(m, 0.0);
}

void simmodel_set_pv(struct simmodel *m, size_t i, double peak_w)
{
	struct meter *me;

	if (i >= m->n)
		return;
	me = &m->meters[i];
	if (i >= 5 && me->load != SIM_LOAD_PV)
		m->meters[0].rated -= me->rated;
	me->load = SIM_LOAD_PV;
	me->rated = peak_w;
	me->pf_sigma = 0.0;
	me->pf_drift = 0.0;
	me->x = 0.1;
	me->y = 0.0;
	evolve_meter(m, me, 0.0);
	compute_all(m, 0.0);
}

double simmodel_rated_power(const struct simmodel *m, size_t i)
{
	return i < m->n ? m->meters[i].rated : 0.0;
}

/* A machine's cycle: run, then wait, then stop, a piece every piece_s while
 * it runs. */
static const struct {
	const char *name;
	int64_t run_s, wait_s, stop_s, piece_s;
} machines[SIMMODEL_MACHINES] = {
	{ "press-line", 360, 120, 120, 20 },
	{ "cataphoresis-line", 420, 120, 360, 60 },
};

int simmodel_machine(size_t k, int64_t elapsed_s, uint64_t *pieces)
{
	int64_t cycle, n, phase, per;

	*pieces = 0;
	if (k >= SIMMODEL_MACHINES)
		return -1;
	if (elapsed_s < 0)
		elapsed_s = 0;
	cycle = machines[k].run_s + machines[k].wait_s + machines[k].stop_s;
	n = elapsed_s / cycle;
	phase = elapsed_s % cycle;
	per = machines[k].run_s / machines[k].piece_s;
	*pieces = (uint64_t)(n * per + (phase < machines[k].run_s ? phase : machines[k].run_s) /
					       machines[k].piece_s);
	if (phase < machines[k].run_s)
		return 0;
	return phase < machines[k].run_s + machines[k].wait_s ? 1 : 2;
}

const char *simmodel_machine_name(size_t k)
{
	return k < SIMMODEL_MACHINES ? machines[k].name : NULL;
}
