// SPDX-License-Identifier: MIT
/*
 * machine: a machine's occupancy, pieces and energy (include/phasor/
 * machine.h). Time is accounted in one direction only: every call first
 * moves at_us forward to its time, giving the elapsed time to the state
 * held until then, so a span's run + wait + stop + unknown is exactly the
 * time since its start. Energy goes to the state the machine is in when
 * the counter's increase is seen (the meters are polled every second or
 * so: an increase straddling a state change is at most one poll's energy
 * off). The rules are written out in docs/machines.md.
 */
#include "phasor/machine.h"

#include <math.h>
#include <string.h>

static void span_start(struct machine_span *sp, int64_t from_us)
{
	memset(sp, 0, sizeof(*sp));
	sp->from_us = from_us;
}

void machine_track_init(struct machine_track *t, int64_t now_us, int64_t day_from_us,
			int64_t shift_from_us)
{
	memset(t, 0, sizeof(*t));
	t->state = MACHINE_UNKNOWN;
	t->since_us = now_us;
	t->at_us = now_us;
	t->power_w = NAN;
	span_start(&t->day, day_from_us);
	span_start(&t->shift, shift_from_us);
}

/* Give the time up to to_us to the current state. */
static void account(struct machine_track *t, int64_t to_us)
{
	int64_t d = to_us - t->at_us;

	if (d <= 0)
		return;
	t->day.time_us[t->state] += d;
	t->shift.time_us[t->state] += d;
	t->at_us = to_us;
}

static void set_state(struct machine_track *t, int state, int64_t t_us)
{
	t->state = state;
	t->since_us = t_us;
	if (state != MACHINE_STOP)
		t->over_since_us = 0;
}

/* New spans at the boundaries the hub gives that lie before to_us. */
static void roll(struct machine_track *t, int64_t to_us, int64_t day_from_us,
		 int64_t shift_from_us)
{
	if (day_from_us > t->day.from_us && day_from_us <= to_us) {
		account(t, day_from_us);
		span_start(&t->day, day_from_us);
	}
	if (shift_from_us > t->shift.from_us && shift_from_us <= to_us) {
		account(t, shift_from_us);
		span_start(&t->shift, shift_from_us);
	}
}

void machine_track_tick(struct machine_track *t, int64_t now_us, int64_t day_from_us,
			int64_t shift_from_us, int64_t stale_us)
{
	if (stale_us > 0 && t->state != MACHINE_UNKNOWN && t->last_report_us > 0 &&
	    now_us - t->last_report_us >= stale_us) {
		int64_t at = t->last_report_us + stale_us;

		if (at < t->at_us)
			at = t->at_us;
		roll(t, at, day_from_us, shift_from_us);
		account(t, at);
		set_state(t, MACHINE_UNKNOWN, at);
	}
	roll(t, now_us, day_from_us, shift_from_us);
	account(t, now_us);
}

bool machine_track_state(struct machine_track *t, int state, int64_t t_us)
{
	if (state < 0 || state >= MACHINE__COUNT)
		return false;
	if (t_us < t->at_us)
		t_us = t->at_us;
	account(t, t_us);
	t->last_report_us = t_us;
	if (state == t->state)
		return false;
	set_state(t, state, t_us);
	return true;
}

double machine_track_pieces(struct machine_track *t, double value, bool increment, int64_t t_us)
{
	double add;

	if (!isfinite(value) || value < 0)
		return 0;
	if (t_us > t->last_report_us)
		t->last_report_us = t_us;
	if (increment) {
		add = value;
	} else if (!t->have_counter) {
		t->have_counter = true;
		t->counter = value;
		return 0;
	} else if (value < t->counter) {
		/* reset (or rollover, or a replaced controller): counts from 0 */
		t->counter_resets++;
		add = value;
	} else {
		add = value - t->counter;
	}
	if (!increment)
		t->counter = value;
	t->total += add;
	t->day.pieces += add;
	t->shift.pieces += add;
	return add;
}

void machine_track_unknown(struct machine_track *t, int64_t t_us)
{
	if (t_us < t->at_us)
		t_us = t->at_us;
	account(t, t_us);
	if (t->state != MACHINE_UNKNOWN)
		set_state(t, MACHINE_UNKNOWN, t_us);
}

void machine_track_energy_rebase(struct machine_track *t)
{
	memset(t->e_have, 0, sizeof(t->e_have));
}

void machine_track_rebase(struct machine_track *t, bool from_zero)
{
	t->have_counter = from_zero;
	t->counter = 0;
	t->total = 0;
	machine_track_energy_rebase(t);
}

void machine_track_malformed(struct machine_track *t)
{
	t->malformed++;
}

double machine_track_energy(struct machine_track *t, size_t k, double e_wh)
{
	double d;

	if (k >= CONFIG_MACHINE_METERS_MAX || !isfinite(e_wh))
		return 0;
	if (!t->e_have[k] || e_wh < t->e_last[k]) {
		t->e_have[k] = true;
		t->e_last[k] = e_wh;
		return 0;
	}
	d = e_wh - t->e_last[k];
	t->e_last[k] = e_wh;
	t->day.energy_wh[t->state] += d;
	t->shift.energy_wh[t->state] += d;
	return d;
}

void machine_track_power(struct machine_track *t, double power_w, double limit_w, int64_t t_us)
{
	t->power_w = power_w;
	if (t->state == MACHINE_STOP && power_w > limit_w) {
		if (t->over_since_us == 0)
			t->over_since_us = t_us > t->since_us ? t_us : t->since_us;
	} else {
		t->over_since_us = 0;
	}
}

bool machine_consuming_stopped(const struct machine_track *t, int64_t after_us, int64_t now_us)
{
	return t->state == MACHINE_STOP && t->over_since_us > 0 &&
	       now_us - t->over_since_us >= after_us;
}

double machine_span_share(const struct machine_span *sp, int s)
{
	int64_t known = sp->time_us[MACHINE_RUN] + sp->time_us[MACHINE_WAIT] +
			sp->time_us[MACHINE_STOP];

	if (known <= 0 || s < 0 || s >= MACHINE_UNKNOWN)
		return NAN;
	return (double)sp->time_us[s] / (double)known;
}

double machine_span_energy(const struct machine_span *sp)
{
	double e = 0;
	int s;

	for (s = 0; s < MACHINE__COUNT; s++)
		e += sp->energy_wh[s];
	return e;
}

double machine_span_idle_energy(const struct machine_span *sp)
{
	return sp->energy_wh[MACHINE_WAIT] + sp->energy_wh[MACHINE_STOP];
}

double machine_span_energy_per_piece(const struct machine_span *sp)
{
	if (!(sp->pieces > 0))
		return NAN;
	return machine_span_energy(sp) / sp->pieces;
}
