/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_SIMMODEL_H
#define PHASOR_SIMMODEL_H
/*
 * simmodel: the simulated plant behind `phasor sim` and `phasor --demo`.
 * Pure computation, no I/O: N three-phase meters whose loads look real
 * (shifts, weekday/weekend, motor starts with inrush, slow PF drift,
 * single-phase loads that unbalance the phases, drive harmonics, energy
 * counters that only grow) plus injected faults. Deterministic: the same
 * seed, start time and sequence of advance() calls give the same values.
 * Every meter draws from its own random stream, so adding meters does not
 * change the others.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/qty.h"

enum sim_load {
	SIM_LOAD_MAIN_BOARD,   /* main LV board: the sum of a workshop */
	SIM_LOAD_OVEN,         /* cataphoresis oven: resistive, thermostat cycling */
	SIM_LOAD_FURNACE,      /* induction foundry furnace: big, harmonics */
	SIM_LOAD_COMPRESSOR,   /* air compressor: motor starts, load/unload */
	SIM_LOAD_PAINT_LINE,   /* paint line: fans and pumps on drives */
	SIM_LOAD_MACHINE,      /* generic machine tool */
	SIM_LOAD_PV,           /* photovoltaic feeder: the sun's day with clouds (simmodel_set_pv) */
	SIM_LOAD__COUNT
};

enum sim_fault_kind {
	SIM_FAULT_UNDERVOLTAGE, SIM_FAULT_OVERVOLTAGE, SIM_FAULT_PHASE_LOSS,
	SIM_FAULT_OVERLOAD, SIM_FAULT_LOW_PF, SIM_FAULT_UNBALANCE, SIM_FAULT_THD,
	SIM_FAULT_TIMEOUT, SIM_FAULT_NAN,
	/* Protocol faults: the simulator's Modbus server acts on them, the
	 * model's values are left alone. */
	SIM_FAULT_WRONG_UNIT,  /* replies carry another unit id */
	SIM_FAULT_BAD_LENGTH,  /* replies' MBAP length field is too large */
	SIM_FAULT_LATE,        /* each reply held back until the next request */
	/* Utility meters (simmodel_set_utility). */
	SIM_FAULT_LEAK,        /* a leak: a flow that never drops to zero, at night too */
	SIM_FAULT_WRAP,        /* the server starts the counter registers so that they
				* wrap about SECONDS after start (set-up only) */
	SIM_FAULT__COUNT
};

struct sim_fault {
	enum sim_fault_kind kind;
	unsigned unit;         /* 1..N, 0: every unit */
	double start_s;        /* seconds after the simulator started */
	double duration_s;     /* < 0: until the end */
};

/*
 * Parse KIND[:UNIT][@SECONDS[+DURATION]] (the contract's form plus an
 * optional duration, e.g. "timeout:3@5+20"). 0, or -1 with *cause.
 */
int simmodel_parse_fault(const char *spec, struct sim_fault *out, char **cause);
const char *simmodel_fault_name(enum sim_fault_kind k);

struct simmodel;

/*
 * A plant of n meters; sim_start_us is the simulated wall-clock time at
 * elapsed 0 (it sets the time of day and weekday the shifts follow).
 */
struct simmodel *simmodel_new(size_t n, uint64_t seed, int64_t sim_start_us);
void simmodel_free(struct simmodel *m);

/* Add a fault (before or while running). */
void simmodel_add_fault(struct simmodel *m, const struct sim_fault *f);

/*
 * Advance to elapsed_s seconds after start in steps of at most one second
 * (elapsed never goes back). Energy counters integrate power over the time.
 */
void simmodel_advance(struct simmodel *m, double elapsed_s);

/*
 * The values of meter i (0-based; unit i+1) in SI units, indexed by
 * enum qty_id; NaN where the meter has no such quantity (flow, temp...)
 * or where a `nan` fault blanks it.
 */
const double *simmodel_values(const struct simmodel *m, size_t i);

/*
 * Make every meter a utility meter of kind utility (enum utility: gas,
 * water, air, heat; electricity: the electrical plant alone, the default),
 * before the first advance. The electrical values stay as they were; flow
 * (m3/h), volume (m3), temp and pressure are added, from a random stream
 * of their own: gas follows the heating (cold nights, production hours),
 * water the shifts, compressed air the compressor's load/unload cycle
 * (pressure 6.5..7.5 bar). Without production (weekends) the flow is 0,
 * but under a leak fault.
 */
void simmodel_set_utility(struct simmodel *m, int utility);
int simmodel_utility(const struct simmodel *m);
/* Set meter i's volume (or, for energy, e_imp) counter to value now: for a
 * wrap to come soon. */
void simmodel_preset_counter(struct simmodel *m, size_t i, unsigned qty, double value);
/* The rated (full production) flow of meter i in m3/h; 0 without utility. */
double simmodel_rated_flow(const struct simmodel *m, size_t i);

/*
 * Make meter i a photovoltaic feeder of peak power peak_w, before the first
 * advance: no power at night, a sun-shaped day (the length of the day and
 * its height follow the date, solar noon at 13:00 local) under clouds that
 * pass (a slow haze and minutes-long dips), its e_imp counting what it
 * produced (the meter is wired so that production reads positive). The
 * main board does not carry it: production is a root of its own.
 */
void simmodel_set_pv(struct simmodel *m, size_t i, double peak_w);
/*
 * Make the main board (unit 1) the site's grid incomer: it carries the PV
 * feeders too, their production taken from the loads' sum (its power goes
 * negative when they produce more than the plant draws, and its e_exp
 * counts what goes out to the grid).
 */
void simmodel_set_incomer(struct simmodel *m, bool on);
/* The clear-sky fraction of peak power at local time ls (seconds since
 * 1970 in local time): 0 at night, 1 at noon of midsummer at most. */
double simmodel_pv_clear_sky(double ls);

/* Is a fault of kind k active on meter i now? */
bool simmodel_fault_active(const struct simmodel *m, size_t i, enum sim_fault_kind k);

/* The load kind of meter i and a name and description for it. */
enum sim_load simmodel_load(const struct simmodel *m, size_t i);
const char *simmodel_load_name(enum sim_load l);        /* "main-board", "oven", ... */
const char *simmodel_load_description(enum sim_load l); /* "Main LV board", ... */
/*
 * Simulated machine k (0 or 1; docs/simulator.md) elapsed_s simulated
 * seconds after the start: its state (0 run, 1 wait, 2 stop) and, in
 * *pieces, the pieces made since the start. Machine 0 (a press line)
 * repeats 10 minutes: 6 min run (a piece every 20 s), 2 min waiting for
 * parts, 2 min stopped (a break); machine 1 (a cataphoresis line)
 * 15 minutes: 7 min run (a rack a minute), 2 min wait, 6 min stop. -1 for
 * another k.
 */
#define SIMMODEL_MACHINES 2
int simmodel_machine(size_t k, int64_t elapsed_s, uint64_t *pieces);
/* Its name ("press-line", "cataphoresis-line"); NULL for another k. */
const char *simmodel_machine_name(size_t k);

/* Rated power of meter i in W (a sensible max_power for its config). */
double simmodel_rated_power(const struct simmodel *m, size_t i);

#endif
