// SPDX-License-Identifier: MIT
/*
 * view_machines: the [machine NAME]s (key 7, shown only when the
 * configuration has machines; docs/operator-guide.md, "Machines"). First
 * each machine's state now and since when, the power its meters draw and
 * whether it is consuming while stopped; then, for the current shift and
 * for today, occupancy (run, wait and stop as shares of the time the
 * state was known), pieces, the energy its meters took, energy per piece
 * and the energy taken while not producing (wait + stop), where the
 * savings are. The figures are the feed's (machines.h) through the plant:
 * the acquiring hub's, an attached console's (the recorder's stored states
 * and pieces), a replay's at its cursor; without them the view says so.
 * The lines are built first and scrolled with the list widget.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/fmt.h"
#include "phasor/machines.h"
#include "phasor/util.h"
#include "phasor/view.h"

#define NAME_MIN 7
#define NAME_MAX 20

static enum theme_role state_role(int s)
{
	switch (s) {
	case MACHINE_RUN:
		return ROLE_OK;
	case MACHINE_WAIT:
		return ROLE_WARNING;
	case MACHINE_STOP:
		return ROLE_ALARM;
	default:
		return ROLE_STALE;
	}
}

static int name_width(const struct config *cfg)
{
	int w = NAME_MIN;
	size_t k;

	for (k = 0; k < cfg->nmachines; k++) {
		int n = draw_width(cfg->machines[k].name);

		if (n > w)
			w = n;
	}
	return w > NAME_MAX ? NAME_MAX : w;
}

/* A name cut to nw columns and padded (ASCII names: the usual case;
 * others are cut by bytes at a character boundary by draw). */
static void name_seg(struct view_line *l, const char *name, int nw)
{
	view_seg(l, ROLE_NORMAL, "%-*.*s ", nw, nw, name);
}

static void now_block(const struct plant *p, struct view_lines *ls, int nw)
{
	const struct config *cfg = p->cfg;
	struct view_line *l = view_lines_add(ls, 1);
	size_t k;

	view_seg(l, ROLE_HEADER, "%-*s %-8s %-6s %8s  %s", nw, "Machine", "State", "Since",
		 "Power kW", "Note");
	for (k = 0; k < cfg->nmachines; k++) {
		const struct config_machine *m = &cfg->machines[k];
		const struct machine_track *t = machines_track(p->machines, k);
		char since[16], kw[16];

		l = view_lines_add(ls, 1);
		name_seg(l, m->name, nw);
		view_seg(l, state_role(t->state), "%-8s ", config_machine_state_name(t->state));
		view_hhmm(t->since_us, since, sizeof(since));
		view_seg(l, ROLE_NORMAL, "%-6s %8s  ", since, view_kw(t->power_w, kw, sizeof(kw)));
		if (machines_consuming_stopped(p->machines, k, p->now_us))
			view_seg(l, ROLE_ALARM, "consuming while stopped (over %s kW)",
				 view_fixed(m->stopped_power / 1000, 1, kw, sizeof(kw)));
		else if (t->malformed > 0)
			view_seg(l, ROLE_WARNING, "%llu message(s) refused",
				 (unsigned long long)t->malformed);
	}
}

static void span_block(const struct plant *p, struct view_lines *ls, int nw, bool shift)
{
	const struct config *cfg = p->cfg;
	struct view_line *l;
	char from[16];
	size_t k;

	view_lines_add(ls, 0);
	l = view_lines_add(ls, 1);
	view_hhmm(shift ? machines_track(p->machines, 0)->shift.from_us
			: machines_track(p->machines, 0)->day.from_us,
		  from, sizeof(from));
	view_seg(l, ROLE_ACCENT, "%s since %s", shift ? "This shift" : "Today", from);
	l = view_lines_add(ls, 1);
	view_seg(l, ROLE_HEADER, "%-*s %5s %5s %5s %7s %9s %9s %9s", nw, "", "Run%", "Wait%",
		 "Stop%", "Pieces", "Energy", "Per piece", "Idle");
	for (k = 0; k < cfg->nmachines; k++) {
		const struct machine_track *t = machines_track(p->machines, k);
		const struct machine_span *sp = shift ? &t->shift : &t->day;
		char run[16], wait[16], stop[16], e[16], epp[16], idle[16];
		double idle_wh = machine_span_idle_energy(sp);

		l = view_lines_add(ls, 1);
		name_seg(l, cfg->machines[k].name, nw);
		view_seg(l, ROLE_NORMAL, "%5s %5s %5s %7.0f %9s %9s ",
			 view_fixed(100 * machine_span_share(sp, MACHINE_RUN), 1, run, sizeof(run)),
			 view_fixed(100 * machine_span_share(sp, MACHINE_WAIT), 1, wait,
				    sizeof(wait)),
			 view_fixed(100 * machine_span_share(sp, MACHINE_STOP), 1, stop,
				    sizeof(stop)),
			 sp->pieces, fmt_energy(machine_span_energy(sp), e, sizeof(e)),
			 sp->pieces > 0 ? fmt_energy(machine_span_energy_per_piece(sp), epp,
						     sizeof(epp))
					: "-");
		view_seg(l, idle_wh > 0 ? ROLE_WARNING : ROLE_NORMAL, "%9s",
			 fmt_energy(idle_wh, idle, sizeof(idle)));
	}
}

static void machines_draw(struct ui *ui, void *state)
{
	struct view_machines_state *st = state;
	const struct plant *p = ui->plant;
	struct view_lines ls = { 0 };
	int nw;
	struct view_line *l;

	l = view_lines_add(&ls, 0);
	view_seg(l, ROLE_ACCENT, "Machines");
	if (p->cfg->nmachines == 0 || machines_count(p->machines) == 0) {
		view_seg(l, ROLE_MUTED, p->cfg->nmachines == 0
					    ? "  none configured ([machine NAME], docs/configuration.md)"
					    : "  no figures: this feed has none");
	} else {
		nw = name_width(p->cfg);
		view_seg(l, ROLE_MUTED, "  run / wait / stop, pieces, energy per piece");
		view_lines_add(&ls, 0);
		now_block(p, &ls, nw);
		if (p->cfg->site.nshifts > 0)
			span_block(p, &ls, nw, true);
		span_block(p, &ls, nw, false);
		view_lines_add(&ls, 0);
		l = view_lines_add(&ls, 1);
		view_seg(l, ROLE_MUTED, "Shares of the time the state was known; Idle: energy "
					"while waiting or stopped.");
	}
	view_lines_scrolled(ui->body, &st->list, &ls);
	view_lines_free(&ls);
}

static int machines_key(struct ui *ui, void *state, int ch)
{
	(void)ui;
	return listw_scroll_key(&((struct view_machines_state *)state)->list, ch);
}

static void *machines_init(const struct plant *p)
{
	struct view_machines_state *st = util_calloc(1, sizeof(*st));

	(void)p;
	listw_init(&st->list, 0);
	return st;
}

static void machines_free_state(void *state)
{
	free(state);
}

static void machines_enter(void *state)
{
	listw_top(&((struct view_machines_state *)state)->list);
}

const struct view_ops view_machines_ops = {
	.name = "Machines",
	.hotkey = '7',
	.init = machines_init,
	.free = machines_free_state,
	.enter = machines_enter,
	.draw = machines_draw,
	.key = machines_key,
	.help = view_scroll_help,
};
