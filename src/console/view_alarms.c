// SPDX-License-Identifier: MIT
/*
 * view_alarms: the alarm list (key 3), keyboard-driven.
 *
 * Rows are the engine's alarm instances that need attention (unacknowledged,
 * acknowledged and still active, returned to normal unacknowledged), sorted
 * by state, then priority, then newest first; `c` also shows the normal
 * ones that have raised before, and the shelved, suppressed and out of
 * service ones. Every state is shown three ways: a symbol, a word and the
 * priority's colour, so it reads the same without colour and in ASCII.
 *
 * Actions (refused on a --read-only console): a acknowledge (asks for a note
 * when the definition wants one), A acknowledge every visible alarm (y/n,
 * then a note, optional unless one of them needs one), s shelve (a
 * duration from a short menu, capped by the definition's shelve_max, then
 * a reason: the journal's note says how long, until when and why), u
 * unshelve, n note; Enter opens the details (value and limit at raise and
 * now, first and last time, count, action, history), m the alarm's meter
 * in the meter view. Prompts take every key until Enter or Esc, any UTF-8
 * text, and show how much room is left; what does not fit is refused,
 * never cut.
 *
 * The operator's place: the selection is an alarm (its instance), not a
 * row, so re-sorting never moves it to another alarm; an action applies to
 * the alarm selected when its key was pressed (a prompt keeps it, A keeps
 * the list it counted). After a, s, u, n the cursor keeps its row: once
 * the alarm acted on leaves it (at once here, or when the recorder has
 * applied the action), the alarm that followed it is selected, which has
 * taken that row. An alarm that leaves the list gives its row to the next.
 *
 * UI thread only; everything comes from the plant (its alarm engine, its
 * history, its instant now_us), nothing blocks. The selection, the panels,
 * the prompt and the feedback are this view's state; the scroll and the
 * filter are its list widget.
 */
#include "phasor/ui.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "phasor/alarm.h"
#include "phasor/keys.h"
#include "phasor/util.h"
#include "phasor/view.h"

enum prompt {
	P_NONE,
	P_ACK_NOTE,        /* the note an acknowledgement needs */
	P_NOTE,            /* n */
	P_SHELVE,          /* s: the duration */
	P_SHELVE_REASON,   /* s: then why */
	P_ACK_ALL,         /* A: y/n */
	P_ACK_ALL_NOTE     /* A: then a note (optional unless one of them needs it) */
};

static const struct {
	const char *label;
	int64_t ms;
} shelve_choices[] = {
	{ "15 min", 15LL * 60 * 1000 },
	{ "1 h", 3600LL * 1000 },
	{ "4 h", 4 * 3600LL * 1000 },
	{ "8 h", 8 * 3600LL * 1000 },
	{ "one-shot (until it clears)", 0 },
};

#define MESSAGE_US 8000000 /* feedback stays this long */
/* After an action the place is kept when the alarm leaves its row within
 * this (plant time): at once here, or when the recorder has applied it. */
#define ACTED_US 10000000
#define NOTE_MAX (ALARM_NOTE_LEN - 1)

/* ---- words, symbols, roles ---- */

static int state_rank(enum alarm_state s)
{
	switch (s) {
	case ALARM_UNACK: return 0;
	case ALARM_RTN_UNACK: return 1;
	case ALARM_ACK: return 2;
	case ALARM_SHELVED: return 3;
	case ALARM_SUPPRESSED: return 4;
	case ALARM_OOS: return 5;
	default: return 6;
	}
}

static const char *state_word(enum alarm_state s)
{
	switch (s) {
	case ALARM_UNACK: return "UNACK";
	case ALARM_ACK: return "ACKED";
	case ALARM_RTN_UNACK: return "RTN";
	case ALARM_SHELVED: return "SHELVED";
	case ALARM_SUPPRESSED: return "SUPPR";
	case ALARM_OOS: return "OOS";
	default: return "normal";
	}
}

static enum draw_symbol state_symbol(enum alarm_state s)
{
	switch (s) {
	case ALARM_UNACK: return SYM_ALARM;
	case ALARM_ACK: return SYM_WARNING;
	case ALARM_RTN_UNACK: return SYM_DOWN_ARROW;
	case ALARM_SHELVED:
	case ALARM_SUPPRESSED: return SYM_STALE;
	case ALARM_OOS: return SYM_DOWN;
	default: return SYM_OK;
	}
}

static const char *prio_word(enum alarm_priority p)
{
	static const char *const w[PRIO__COUNT] = { "CRIT", "HIGH", "MED", "LOW", "DIAG" };

	return (unsigned)p < PRIO__COUNT ? w[p] : "?";
}

static enum theme_role row_role(const struct alarm_inst *a)
{
	if (a->state == ALARM_UNACK || a->state == ALARM_ACK || a->state == ALARM_RTN_UNACK)
		return view_prio_role(a->def->priority);
	return ROLE_MUTED;
}

static char *hhmmss(int64_t t_us, char *buf, size_t size)
{
	time_t t = (time_t)(t_us / 1000000);
	struct tm tm;

	if (t_us <= 0 || localtime_r(&t, &tm) == NULL)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

/* A value in its measure's unit, with a sensible precision; a measured
 * value (judged) is printed on the same side of the alarm's limit as it
 * is (fmt_against: never "0.850" beside "below 0.85"). */
static char *value_text(const struct alarm_inst *a, double v, bool judged, char *buf,
			size_t size)
{
	const struct fmt_limit lim = { a->limit, alarm_limit_is_high(a->def->type) };
	const char *unit = alarm_measure_unit(a->def->measure, a->def->qty);
	char num[32];
	int prec;

	if (a->def->measure == AM_COMM || a->def->measure == AM_STALE) {
		snprintf(buf, size, "%s", isnan(v) ? "-" : v > 0 ? "yes" : "no");
		return buf;
	}
	if (isnan(v)) {
		snprintf(buf, size, "-");
		return buf;
	}
	if (a->def->measure == AM_PF || a->def->measure == AM_TAN_PHI)
		prec = 3;
	else
		prec = fabs(v) >= 1000 ? 0 : fabs(v) >= 10 ? 1 : 2;
	if (judged && !isnan(a->limit))
		fmt_against(v, &lim, 1, prec, num, sizeof(num));
	else
		view_fixed(v, prec, num, sizeof(num));
	snprintf(buf, size, "%s%s%s", num, unit[0] ? " " : "", unit);
	return buf;
}

/* ---- the list ---- */

static bool listed(const struct view_alarms_state *st, const struct alarm_inst *a)
{
	const struct listw *l = &st->list;

	switch (a->state) {
	case ALARM_UNACK:
	case ALARM_ACK:
	case ALARM_RTN_UNACK:
		break;
	case ALARM_NORMAL:
		if (!st->show_all || a->count == 0)
			return false;
		break;
	default:
		if (!st->show_all)
			return false;
		break;
	}
	return listw_matches(l, a->meter_name) || listw_matches(l, a->def->name) ||
	       listw_matches(l, a->def->message) ||
	       listw_matches(l, alarm_priority_name(a->def->priority)) ||
	       listw_matches(l, alarm_state_name(a->state));
}

static int cmp_inst(const void *x, const void *y, void *arg)
{
	const struct alarm_engine *e = arg;
	const struct alarm_inst *a = alarm_get(e, *(const size_t *)x);
	const struct alarm_inst *b = alarm_get(e, *(const size_t *)y);
	int ra = state_rank(a->state), rb = state_rank(b->state);
	int64_t ta = a->raised_us ? a->raised_us : a->last_us;
	int64_t tb = b->raised_us ? b->raised_us : b->last_us;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (a->def->priority != b->def->priority)
		return a->def->priority < b->def->priority ? -1 : 1;
	if (ta != tb)
		return ta > tb ? -1 : 1; /* newest first */
	return *(const size_t *)x < *(const size_t *)y ? -1 : 1;
}

/* The listed instances in display order (caller frees); returns the count. */
static size_t visible(const struct ui *ui, struct view_alarms_state *st, size_t **out)
{
	const struct alarm_engine *e = view_alarm_engine(ui);
	size_t n = e != NULL ? alarm_count(e) : 0, i, k = 0;
	size_t *v = util_calloc(n ? n : 1, sizeof(*v));

	for (i = 0; i < n; i++)
		if (listed(st, alarm_get(e, i)))
			v[k++] = i;
	qsort_r(v, k, sizeof(*v), cmp_inst, (void *)e);
	*out = v;
	return k;
}

static long position(const size_t *v, size_t n, long sel)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((long)v[i] == sel)
			return (long)i;
	return -1;
}

/* Rows for the list: the body minus the title, the header and the footer
 * lines, and the details panel when open. */
static int list_rows(const struct ui *ui, int details_h)
{
	int h = getmaxy(ui->body) - 3 - details_h;

	return h < 1 ? 1 : h;
}

/* The details panel: what the list of n rows leaves, at least half the body, at most 18 rows. */
static int details_height(const struct ui *ui, struct view_alarms_state *st, size_t n)
{
	int h = getmaxy(ui->body), d;

	if (!st->details || st->sel < 0)
		return 0;
	d = h - 3 - (n < 2 ? 2 : (int)(n < 100 ? n : 100));
	if (d > 18)
		d = 18;
	if (d < h / 2)
		d = h / 2;
	return d;
}

static void set_message(struct ui *ui, struct view_alarms_state *st, bool error, const char *fmt,
			...) UTIL_PRINTF(4, 5);

static void set_message(struct ui *ui, struct view_alarms_state *st, bool error, const char *fmt,
			...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->message, sizeof(st->message), fmt, ap);
	va_end(ap);
	st->message_error = error;
	st->message_us = ui->plant->now_us;
}

/* ---- drawing ---- */

static void draw_title(struct ui *ui, struct view_alarms_state *st, size_t shown)
{
	WINDOW *w = ui->body;
	int cols = getmaxx(w), x = 0;
	const struct alarm_engine *e = view_alarm_engine(ui);
	struct alarm_counts c;
	unsigned unack = 0, active = 0;
	int p;

	memset(&c, 0, sizeof(c));
	if (e != NULL)
		alarm_counts(e, &c);
	for (p = 0; p < PRIO__COUNT; p++) {
		unack += c.unack[p];
		active += c.active[p];
	}
	x += draw_text(w, 0, x, cols, ROLE_ACCENT, "Alarms ");
	x += draw_textf(w, 0, x, cols - x, unack ? ROLE_ALARM : ROLE_MUTED, "%u %s", unack,
			cols >= 100 ? "unacknowledged" : "unack");
	x += draw_textf(w, 0, x, cols - x, ROLE_MUTED, ", %u active, %u shelved, %u suppressed",
			active, c.shelved, c.suppressed);
	if (c.oos > 0)
		x += draw_textf(w, 0, x, cols - x, ROLE_MUTED, ", %u out of service", c.oos);
	if (st->list.filter_editing || st->list.filter[0] != '\0')
		x += draw_textf(w, 0, x, cols - x, ROLE_ACCENT, "  /%s%s", st->list.filter,
				st->list.filter_editing ? "_" : "");
	draw_text_right(w, 0, x, cols - x, ROLE_MUTED,
			st->show_all ? " all (c)" : " needing attention (c)");
	(void)shown;
}

struct cols {
	int sym, state, prio, time, meter, text, value, limit;
	int action;               /* wall screens: the recommended action; 0: none */
};

static struct cols layout_cols(int width)
{
	/* 80 columns: HH:MM and narrow numbers leave the message ~27 columns. */
	struct cols c = { 2, 8, 5, 6, 14, 0, 9, 9, 0 };

	if (width >= 100) {
		c.time = 9;
		c.value = 11;
		c.limit = 11;
	}
	if (width >= 120) {
		c.meter = 20;
		c.value = 13;
		c.limit = 13;
	}
	c.text = width - (c.sym + c.state + c.prio + c.time + c.meter + c.value + c.limit) - 1;
	if (c.text < 10)
		c.text = 10;
	/* Wide screens: the message needs ~60 columns; the rest shows what to do. */
	if (c.text > 100) {
		c.action = c.text - 60;
		c.text = 60;
	}
	return c;
}

static void draw_header_row(struct ui *ui, int y, const struct cols *c)
{
	WINDOW *w = ui->body;
	int x = 0;

	x += c->sym;
	draw_text(w, y, x, c->state, ROLE_HEADER, "STATE");
	x += c->state;
	draw_text(w, y, x, c->prio, ROLE_HEADER, "PRIO");
	x += c->prio;
	draw_text(w, y, x, c->time, ROLE_HEADER, "SINCE");
	x += c->time;
	draw_text(w, y, x, c->meter, ROLE_HEADER, "METER");
	x += c->meter;
	draw_text(w, y, x, c->text, ROLE_HEADER, "ALARM");
	x += c->text;
	draw_text_right(w, y, x, c->value - 1, ROLE_HEADER, "VALUE");
	x += c->value;
	draw_text_right(w, y, x, c->limit - 1, ROLE_HEADER, "LIMIT");
	x += c->limit;
	if (c->action > 0)
		draw_text(w, y, x + 1, c->action - 1, ROLE_HEADER, "ACTION");
}

static void draw_row(struct ui *ui, int y, const struct cols *c, size_t i, bool selected)
{
	WINDOW *w = ui->body;
	const struct alarm_inst *a = alarm_get(view_alarm_engine(ui), i);
	enum theme_role r = row_role(a);
	char t[16], v[40], text[200];
	int x = 0;

	if (selected)
		draw_text(w, y, 0, 1, ROLE_SELECTION, draw_symbol(SYM_SELECT));
	draw_text(w, y, 1, 1, r, draw_symbol(state_symbol(a->state)));
	x = c->sym;
	draw_text(w, y, x, c->state - 1, r, state_word(a->state));
	x += c->state;
	draw_text(w, y, x, c->prio - 1, view_prio_role(a->def->priority), prio_word(a->def->priority));
	x += c->prio;
	hhmmss(a->raised_us ? a->raised_us : a->since_us, t, sizeof(t));
	if (c->time < 9)
		t[5] = '\0'; /* HH:MM */
	draw_text(w, y, x, c->time - 1, r, t);
	x += c->time;
	draw_text(w, y, x, c->meter - 1, selected ? ROLE_SELECTION : ROLE_NORMAL, a->meter_name);
	x += c->meter;
	snprintf(text, sizeof(text), "%s%s", a->def->message ? a->def->message : a->def->name,
		 a->chattering ? " (chattering)" : "");
	draw_text(w, y, x, c->text - 1, r, text);
	x += c->text;
	draw_text_right(w, y, x, c->value - 1, r, value_text(a, a->value, true, v, sizeof(v)));
	x += c->value;
	draw_text_right(w, y, x, c->limit - 1, ROLE_MUTED, value_text(a, a->limit, false, v, sizeof(v)));
	x += c->limit;
	if (c->action > 0 && a->def->action != NULL)
		draw_text(w, y, x + 1, c->action - 1, ROLE_MUTED, a->def->action);
}

static void draw_details(struct ui *ui, struct view_alarms_state *st, int y0, int h)
{
	WINDOW *w = ui->body;
	const struct alarm_engine *e = view_alarm_engine(ui);
	const struct alarm_inst *a;
	const struct alarm_event *hist[64];
	int cols = getmaxx(w), y = y0, k;
	size_t n, i;
	char t1[16], t2[16], v1[40], v2[40], v3[40], line[400];

	if (e == NULL || st->sel < 0 || (size_t)st->sel >= alarm_count(e))
		return;
	a = alarm_get(e, (size_t)st->sel);
	draw_rule(w, y++, 0, cols, ROLE_MUTED);
	snprintf(line, sizeof(line), "%s on %s: priority %s, watches %s; %s since %s",
		 a->def->name, a->meter_name, alarm_priority_name(a->def->priority),
		 a->def->measure == AM_QTY ? a->def->quantity : alarm_measure_name(a->def->measure),
		 alarm_state_name(a->state), hhmmss(a->since_us, t1, sizeof(t1)));
	draw_text(w, y++, 1, cols - 2, row_role(a), line);
	if (y < y0 + h && a->def->message != NULL)
		y += view_paragraph(w, y, 1, cols - 2, 2, ROLE_NORMAL, a->def->message);
	if (y < y0 + h && a->def->action != NULL && a->def->action[0] != '\0') {
		snprintf(line, sizeof(line), "Action: %s", a->def->action);
		y += view_paragraph(w, y, 1, cols - 2, 2, ROLE_ACCENT, line);
	}
	if (y < y0 + h) {
		snprintf(line, sizeof(line), "At raise %s, limit %s (%s%s); now %s",
			 value_text(a, a->raise_value, true, v1, sizeof(v1)),
			 value_text(a, a->limit, false, v2, sizeof(v2)), alarm_limit_name(a->def->type),
			 a->def->deadband > 0 ? ", with deadband" : "",
			 value_text(a, a->value, true, v3, sizeof(v3)));
		draw_text(w, y++, 1, cols - 2, ROLE_NORMAL, line);
	}
	if (y < y0 + h) {
		snprintf(line, sizeof(line), "First raised %s, last event %s, raised %u time%s%s%s",
			 hhmmss(a->first_us, t1, sizeof(t1)), hhmmss(a->last_us, t2, sizeof(t2)),
			 a->count, a->count == 1 ? "" : "s", a->chattering ? ", CHATTERING" : "",
			 a->def->ack_note ? "; acknowledging needs a note" : "");
		draw_text(w, y++, 1, cols - 2, ROLE_NORMAL, line);
	}
	if (y < y0 + h && a->state == ALARM_SHELVED) {
		snprintf(line, sizeof(line), "Shelved %s",
			 a->shelved_until_us ? "until " : "until it clears (one-shot)");
		if (a->shelved_until_us)
			hhmmss(a->shelved_until_us, line + strlen(line), sizeof(line) - strlen(line));
		draw_text(w, y++, 1, cols - 2, ROLE_MUTED, line);
	}
	if (y < y0 + h && (a->operator_name[0] != '\0' || a->note[0] != '\0')) {
		snprintf(line, sizeof(line), "Last operator: %s%s%s",
			 a->operator_name[0] ? a->operator_name : "-", a->note[0] ? "; note: " : "",
			 a->note);
		draw_text(w, y++, 1, cols - 2, ROLE_NORMAL, line);
	}
	if (y >= y0 + h)
		return;
	draw_text(w, y++, 1, cols - 2, ROLE_MUTED, "History (newest first):");
	n = plant_history(ui->plant, st->sel, hist, UTIL_ARRAY_LEN(hist));
	if (n == 0 && y < y0 + h)
		draw_text(w, y++, 3, cols - 4, ROLE_MUTED, "no event in the last 24 h");
	for (i = 0, k = y; i < n && k < y0 + h; i++, k++) {
		const struct alarm_event *ev = hist[i];

		snprintf(line, sizeof(line), "%s %-9s -> %-10s %s%s%s%s%s", hhmmss(ev->t_us, t1, sizeof(t1)),
			 alarm_event_name(ev->kind), alarm_state_name(ev->state),
			 ev->operator_name[0] ? "by " : "", ev->operator_name,
			 ev->remote ? " (other console)" : "", ev->note[0] ? ": " : "", ev->note);
		draw_text(w, k, 3, cols - 4, ROLE_NORMAL, line);
	}
}

/* The alarm instance i of the engine, NULL when there is none such. */
static const struct alarm_inst *inst_at(const struct ui *ui, long i)
{
	const struct alarm_engine *e = view_alarm_engine(ui);

	if (e == NULL || i < 0 || (size_t)i >= alarm_count(e))
		return NULL;
	return alarm_get(e, (size_t)i);
}

static const char *shelve_label(int64_t ms)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(shelve_choices); i++)
		if (shelve_choices[i].ms == ms)
			return shelve_choices[i].label;
	return "?";
}

/* The most bytes the open prompt takes. */
static size_t input_max(const struct view_alarms_state *st)
{
	return st->prompt == P_SHELVE_REASON ? ALARM_SHELVE_REASON_LEN : NOTE_MAX;
}

/*
 * A text prompt: what it asks, how much of its room is used ("12/255",
 * "full" when a character was refused), then the end of the text that
 * fits with the cursor after it (display columns, wcwidth), then the keys
 * when there is room for them.
 */
static void draw_entry(WINDOW *w, int y, int cols, const struct view_alarms_state *st,
		       const char *label)
{
	static const char hint[] = "   Enter: done, Esc: cancel";
	char head[320];
	int x, room;

	snprintf(head, sizeof(head), "%s [%zu/%zu%s]: ", label, strlen(st->input), input_max(st),
		 st->input_full ? " full" : "");
	x = draw_text(w, y, 0, cols, st->input_full ? ROLE_ALARM : ROLE_ACCENT, head);
	room = cols - x - 1; /* the cursor's column */
	if (room < 1)
		return;
	if (st->input_error != NULL) {
		/* why Enter did not end it, where the keys are said otherwise */
		x += draw_text(w, y, x, room, ROLE_NORMAL, listw_edit_tail(st->input, room / 2));
		x += draw_text(w, y, x, 1, ROLE_ACCENT, "_");
		draw_textf(w, y, x, cols - x, ROLE_ALARM, "   %s", st->input_error);
		return;
	}
	if (draw_width(st->input) + (int)strlen(hint) <= room) {
		x += draw_text(w, y, x, room, ROLE_NORMAL, st->input);
		x += draw_text(w, y, x, 1, ROLE_ACCENT, "_");
		draw_text(w, y, x, cols - x, ROLE_MUTED, hint);
		return;
	}
	x += draw_text(w, y, x, room, ROLE_NORMAL, listw_edit_tail(st->input, room));
	draw_text(w, y, x, 1, ROLE_ACCENT, "_");
}

static void draw_footer(struct ui *ui, struct view_alarms_state *st, int y)
{
	WINDOW *w = ui->body;
	int cols = getmaxx(w);
	const struct alarm_inst *t = inst_at(ui, st->target);
	char label[240];
	size_t i;

	switch ((enum prompt)st->prompt) {
	case P_ACK_NOTE:
	case P_NOTE:
	case P_SHELVE_REASON:
		snprintf(label, sizeof(label), "%s %s/%s%s%s%s",
			 st->prompt == P_NOTE	      ? "Note on"
			 : st->prompt == P_ACK_NOTE ? "Note to acknowledge"
						    : "Why shelve",
			 t != NULL ? t->def->name : "?", t != NULL ? t->meter_name : "?",
			 st->prompt == P_SHELVE_REASON ? " for " : "",
			 st->prompt == P_SHELVE_REASON ? shelve_label(st->shelve_ms) : "",
			 st->prompt == P_ACK_NOTE ? " (required)" : "");
		draw_entry(w, y, cols, st, label);
		return;
	case P_ACK_ALL_NOTE: {
		bool required = false;

		for (i = 0; i < st->ntargets; i++)
			if ((t = inst_at(ui, (long)st->targets[i])) != NULL && t->def->ack_note)
				required = true;
		snprintf(label, sizeof(label), "Note for the %zu acknowledgement%s (%s)", st->ntargets,
			 st->ntargets == 1 ? "" : "s", required ? "required" : "optional");
		draw_entry(w, y, cols, st, label);
		return;
	}
	case P_SHELVE: {
		int x = draw_textf(w, y, 0, cols, ROLE_ACCENT, "Shelve %s/%s for:",
				   t != NULL ? t->def->name : "?", t != NULL ? t->meter_name : "?");

		for (i = 0; i < UTIL_ARRAY_LEN(shelve_choices); i++)
			x += draw_textf(w, y, x, cols - x, ROLE_ACCENT, " %zu) %s", i + 1,
					shelve_choices[i].label);
		draw_text(w, y, x, cols - x, ROLE_MUTED, "  Esc: cancel");
		return;
	}
	case P_ACK_ALL:
		draw_textf(w, y, 0, cols, ROLE_ACCENT,
			   "Acknowledge the %zu visible unacknowledged alarm%s? y/n", st->ntargets,
			   st->ntargets == 1 ? "" : "s");
		return;
	case P_NONE:
		break;
	}
	if (st->message[0] != '\0' && ui->plant->now_us - st->message_us < MESSAGE_US) {
		draw_text(w, y, 0, cols, st->message_error ? ROLE_ALARM : ROLE_OK,
			  st->message);
		return;
	}
	draw_text(w, y, 0, cols, ROLE_MUTED,
		  ui->read_only ? "read-only console: Enter details, m meter, / filter, c all, p perf"
				: "a ack  A all  s shelve  u unshelve  n note  Enter details  m meter"
				  "  / filter  c all  p perf");
}

/*
 * The alarm system's own performance, as EEMUA 191 measures it: raises per
 * 10 minutes (about 1 is manageable for one operator, 10 or more is a
 * flood), the last 24 hours as a sparkline, standing and chattering alarms,
 * the priority mix of the raises (aim: about 5 % critical and high, 15 %
 * medium, 80 % low) and the ten most frequent alarms. Counted since this
 * console started.
 */
static void draw_perf(struct ui *ui)
{
	WINDOW *w = ui->body;
	const struct alarm_engine *e = view_alarm_engine(ui);
	int rows = getmaxy(w), cols = getmaxx(w), y = 0, x;
	struct alarm_perf pf;
	double series[ALARM_PERF_BUCKETS];
	unsigned total = 0, k;
	char num[32], line[320];
	int p;

	alarm_perf(e, ui->plant->now_us, &pf);
	for (k = 0; k < ALARM_PERF_BUCKETS; k++)
		series[k] = (double)pf.per10[k];
	for (p = 0; p < PRIO__COUNT; p++)
		total += pf.by_priority[p];
	draw_text(w, y++, 0, cols, ROLE_ACCENT,
		  "Alarm performance (EEMUA 191), last 24 h   p: back to the list");
	x = draw_text(w, y, 0, cols, ROLE_NORMAL, "Raises in the last 10 min: ");
	x += draw_textf(w, y, x, cols - x, pf.flood_now ? ROLE_CRITICAL : ROLE_NORMAL, "%u%s",
			pf.last10, pf.flood_now ? " FLOOD" : "");
	x += draw_textf(w, y, x, cols - x, ROLE_NORMAL, "   average %s   peak %u",
			view_fixed(pf.avg_per10, 1, num, sizeof(num)), pf.peak_per10);
	y++;
	draw_text(w, y++, 0, cols, ROLE_MUTED,
		  "  (about 1 per 10 min per operator is manageable; 10 or more is a flood)");
	x = draw_text(w, y, 0, cols, ROLE_NORMAL, "Last 24 h, per 10 min: ");
	draw_sparkline(w, y, x, cols - x - 1 < ALARM_PERF_BUCKETS ? cols - x - 1 : ALARM_PERF_BUCKETS,
		       series, ALARM_PERF_BUCKETS, 0, NAN, ROLE_CHART);
	y++;
	x = draw_textf(w, y, 0, cols, pf.floods ? ROLE_ALARM : ROLE_NORMAL,
		       "Floods (>= %d in 10 min): %u", ALARM_FLOOD_THRESHOLD, pf.floods);
	x += draw_textf(w, y, x, cols - x, ROLE_NORMAL, "   active %u", pf.active);
	x += draw_textf(w, y, x, cols - x, pf.standing ? ROLE_ALARM : ROLE_NORMAL,
			"   standing (>24 h) %u", pf.standing);
	draw_textf(w, y, x, cols - x, pf.chattering ? ROLE_WARNING : ROLE_NORMAL,
		   "   chattering %u", pf.chattering);
	y++;
	x = draw_text(w, y, 0, cols, ROLE_NORMAL, "Priority mix of raises:");
	for (p = 0; p < PRIO__COUNT; p++) {
		if (p == PRIO_DIAGNOSTIC && pf.by_priority[p] == 0)
			continue;
		x += draw_textf(w, y, x, cols - x, view_prio_role(p), " %s %s%%",
				alarm_priority_name((enum alarm_priority)p),
				view_fixed(total ? 100.0 * pf.by_priority[p] / total : 0, 0, num,
					   sizeof(num)));
	}
	y++;
	draw_text(w, y++, 0, cols, ROLE_MUTED, "  (aim: about 5 % critical and high, 15 % medium, 80 % low)");
	if (y < rows)
		draw_text(w, y++, 0, cols, ROLE_HEADER, "Most frequent    RAISES  METER           ALARM");
	if (pf.ntop == 0 && y < rows)
		draw_text(w, y++, 2, cols - 2, ROLE_OK, "no alarm has raised in the last 24 h");
	for (k = 0; k < pf.ntop && y < rows; k++) {
		const struct alarm_inst *a = alarm_get(e, pf.top[k]);

		snprintf(line, sizeof(line), "%2u.           %6u  %-15.15s %s%s", k + 1, a->count,
			 a->meter_name, a->def->name, a->chattering ? "  (chattering)" : "");
		draw_text(w, y++, 0, cols, a->chattering ? ROLE_WARNING : ROLE_NORMAL, line);
	}
}

/* What the feed made of this console's last request, once (attached). */
static void take_outcome(struct ui *ui, struct view_alarms_state *st)
{
	const struct plant_outcome *o = &ui->plant->outcome;

	if (o->seq == st->outcome_seen)
		return;
	st->outcome_seen = o->seq;
	util_strlcpy(st->message, o->text, sizeof(st->message));
	st->message_error = o->refused;
	st->message_us = o->at_us;
}

/*
 * The selection on a listed row, by identity, whatever the list did since
 * the last draw (the plant re-sorts it, alarms come and go). After an
 * action, once the alarm acted on has left its row, the alarm that
 * followed it is selected: it has taken that row (st->acted). A selection
 * that left the list goes to the alarm now on its row, never to the top.
 * Returns the selection's row, -1 when the list is empty.
 */
static long keep_place(const struct ui *ui, struct view_alarms_state *st, const size_t *v,
		       size_t n)
{
	long pos;

	if (st->acted >= 0 && inst_at(ui, st->acted) != NULL &&
	    (int)inst_at(ui, st->acted)->state != st->acted_state) {
		/* The action is applied (here at once, attached when the
		 * recorder has): if its alarm left its row, the next one takes
		 * the row and the cursor. Other alarms moving the list before
		 * that do not count: only this alarm's change does. */
		long now = position(v, n, st->acted), next = position(v, n, st->acted_next);

		if (now != st->acted_row) {
			if (next >= 0)
				st->sel = st->acted_next;
			else if (n > 0)
				st->sel = (long)v[st->acted_row < (long)n ? st->acted_row : (long)n - 1];
		}
		st->acted = -1;
	} else if (st->acted >= 0 && ui->plant->now_us - st->acted_us > ACTED_US) {
		st->acted = -1; /* never applied (refused by the recorder, a note): nothing moves */
	}
	pos = position(v, n, st->sel);
	if (pos < 0 && n > 0) {
		pos = st->sel_row >= 0 && st->sel_row < (long)n ? st->sel_row : (long)n - 1;
		if (st->sel_row < 0)
			pos = 0;
		st->sel = (long)v[pos];
	} else if (n == 0) {
		st->sel = -1;
	}
	st->sel_row = pos;
	return pos;
}

static void alarms_draw(struct ui *ui, void *state)
{
	struct view_alarms_state *st = state;
	WINDOW *w = ui->body;
	const struct alarm_engine *e = view_alarm_engine(ui);
	int rows = getmaxy(w), cols = getmaxx(w), dh, page, y, k;
	struct cols c = layout_cols(cols);
	size_t *v, n;
	long pos;

	if (e == NULL) {
		draw_text(w, 0, 0, cols, ROLE_MUTED, "Alarms: not running (no acquisition).");
		return;
	}
	take_outcome(ui, st);
	if (st->perf) {
		draw_perf(ui);
		return;
	}
	n = visible(ui, st, &v);
	pos = keep_place(ui, st, v, n);
	dh = details_height(ui, st, n);
	page = list_rows(ui, dh);
	if (pos >= 0)
		listw_follow(&st->list, (int)pos, page);
	listw_clamp(&st->list, (int)n, page);
	draw_title(ui, st, n);
	draw_header_row(ui, 1, &c);
	y = 2;
	if (n == 0)
		draw_text(w, y, 2, cols - 2, ROLE_OK,
			  st->list.filter[0] ? "no alarm matches the filter"
			  : st->show_all ? "no alarm has raised since the journal began"
						: "no alarm needs attention");
	for (k = st->list.scroll; k < (int)n && y < 2 + page; k++, y++)
		draw_row(ui, y, &c, v[k], (long)v[k] == st->sel);
	if (dh > 0)
		draw_details(ui, st, rows - 1 - dh, dh);
	draw_footer(ui, st, rows - 1);
	free(v);
}

/* ---- actions ---- */

static const struct alarm_inst *selected(struct ui *ui, struct view_alarms_state *st)
{
	return inst_at(ui, st->sel);
}

/*
 * An operator action on instance i, through the plant's feed (which sends
 * it to the recorder when this console is attached: *sent), or on the
 * engine itself when there is no feed (the unit tests).
 */
static int act(struct ui *ui, size_t i, const char *action, const char *note, int64_t dur_ms,
	       bool *sent, char *err, size_t errsz)
{
	return plant_act(ui->plant, i, action, ui->operator_name, note, dur_ms, sent, err, errsz);
}

static void report(struct ui *ui, struct view_alarms_state *st, int rc, bool sent,
		   const char *err, const char *what, const struct alarm_inst *a)
{
	if (rc == 0 && sent)
		set_message(ui, st, false, "%s: %s on %s: sent to the recorder", what, a->def->name,
			    a->meter_name);
	else if (rc == 0)
		set_message(ui, st, false, "%s: %s on %s", what, a->def->name, a->meter_name);
	else
		set_message(ui, st, true, "%s on %s: %s", a->def->name, a->meter_name, err);
}

/*
 * Remember the place before an action on instance i: its row and the alarm
 * after it (before it when it is the last) in the list as the operator
 * sees it now; keep_place moves there once i leaves its row.
 */
static void mark_place(struct ui *ui, struct view_alarms_state *st, long i)
{
	size_t *v, n = visible(ui, st, &v);
	long pos = position(v, n, i);

	st->acted = -1;
	if (pos >= 0) {
		st->acted = i;
		st->acted_state = (int)inst_at(ui, i)->state;
		st->acted_row = pos;
		st->acted_next = pos + 1 < (long)n ? (long)v[pos + 1] : pos > 0 ? (long)v[pos - 1] : -1;
		st->acted_us = ui->plant->now_us;
	}
	free(v);
}

/* One action on instance i (the selection when its key was pressed), and what became of it. */
static void act_on(struct ui *ui, struct view_alarms_state *st, long i, const char *action,
		   const char *note, int64_t dur_ms, const char *what)
{
	const struct alarm_inst *a = inst_at(ui, i);
	char err[160] = "";
	bool sent = false;
	int rc;

	if (a == NULL) {
		set_message(ui, st, true, "that alarm is gone: nothing done");
		return;
	}
	mark_place(ui, st, i);
	rc = act(ui, (size_t)i, action, note, dur_ms, &sent, err, sizeof(err));
	if (rc != 0)
		st->acted = -1; /* refused: nothing moves */
	report(ui, st, rc, sent, err, what, a);
}

static bool needs_ack(const struct alarm_inst *a)
{
	return a->state == ALARM_UNACK || a->state == ALARM_RTN_UNACK;
}

/* A: the alarms listed and unacknowledged now, kept for the prompts that follow. */
static size_t take_targets(struct ui *ui, struct view_alarms_state *st)
{
	struct alarm_engine *e = view_alarm_engine(ui);
	size_t *v, n = visible(ui, st, &v), i, k = 0;

	for (i = 0; i < n; i++)
		if (needs_ack(alarm_get(e, v[i])))
			v[k++] = v[i];
	free(st->targets);
	st->targets = v;
	st->ntargets = k;
	return k;
}

static void drop_targets(struct view_alarms_state *st)
{
	free(st->targets);
	st->targets = NULL;
	st->ntargets = 0;
}

/* A, y and the note: every alarm listed when A was pressed that still needs it. */
static void do_ack_all(struct ui *ui, struct view_alarms_state *st, const char *note)
{
	struct alarm_engine *e = view_alarm_engine(ui);
	size_t i, done = 0, failed = 0;
	bool sent = false;
	char err[160] = "";

	for (i = 0; i < st->ntargets; i++) {
		if (!needs_ack(alarm_get(e, st->targets[i])))
			continue; /* acknowledged meanwhile (another console) */
		if (act(ui, st->targets[i], "ack", note, 0, &sent, err, sizeof(err)) == 0)
			done++;
		else
			failed++;
	}
	drop_targets(st);
	if (failed > 0)
		set_message(ui, st, true, "acknowledged %zu alarm%s, %zu refused (%s)", done,
			    done == 1 ? "" : "s", failed, err);
	else
		set_message(ui, st, false, "acknowledged %zu alarm%s%s", done, done == 1 ? "" : "s",
			    sent ? ": sent to the recorder" : "");
}

/* Open text prompt p on instance i. */
static void open_entry(struct view_alarms_state *st, enum prompt p, long i)
{
	st->prompt = p;
	st->target = i;
	st->input[0] = '\0';
	st->input_full = false;
	st->input_error = NULL;
}

static bool is_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/* Enter in a text prompt: the action, or why not yet (the prompt stays). */
static void entry_done(struct ui *ui, struct view_alarms_state *st)
{
	enum prompt p = (enum prompt)st->prompt;
	const struct alarm_inst *t = inst_at(ui, st->target);
	bool blank = is_blank(st->input);
	size_t i;

	switch (p) {
	case P_ACK_NOTE:
	case P_NOTE:
		if (blank && (p == P_NOTE || (t != NULL && t->def->ack_note))) {
			st->input_error = "a note is required";
			return;
		}
		st->prompt = P_NONE;
		if (p == P_NOTE)
			act_on(ui, st, st->target, "note", st->input, 0, "note added");
		else
			act_on(ui, st, st->target, "ack", st->input, 0, "acknowledged");
		return;
	case P_SHELVE_REASON:
		if (blank) {
			st->input_error = "a reason is required";
			return;
		}
		st->prompt = P_NONE;
		act_on(ui, st, st->target, "shelve", st->input, st->shelve_ms, "shelved");
		return;
	case P_ACK_ALL_NOTE:
		for (i = 0; blank && i < st->ntargets; i++) {
			t = inst_at(ui, (long)st->targets[i]);
			if (t != NULL && needs_ack(t) && t->def->ack_note) {
				st->input_error = "one of them needs a note";
				return;
			}
		}
		st->prompt = P_NONE;
		do_ack_all(ui, st, st->input);
		return;
	default:
		st->prompt = P_NONE;
		return;
	}
}

static int prompt_key(struct ui *ui, struct view_alarms_state *st, int ch)
{
	enum prompt p = (enum prompt)st->prompt;
	int r;

	if (ch == KEY_RESIZE)
		return UI_IGNORED;
	if (p == P_SHELVE) {
		if (ch >= '1' && ch < '1' + (int)UTIL_ARRAY_LEN(shelve_choices)) {
			st->shelve_ms = shelve_choices[ch - '1'].ms;
			open_entry(st, P_SHELVE_REASON, st->target);
		} else if (ch == KEYS_ESC || ch == 'q') {
			st->prompt = P_NONE;
		}
		return UI_HANDLED | UI_REDRAW;
	}
	if (p == P_ACK_ALL) {
		if (ch == 'y' || ch == 'Y') {
			open_entry(st, P_ACK_ALL_NOTE, -1);
		} else {
			st->prompt = P_NONE;
			drop_targets(st);
			set_message(ui, st, false, "nothing acknowledged");
		}
		return UI_HANDLED | UI_REDRAW;
	}
	r = listw_edit(st->input, input_max(st) + 1, ch);
	st->input_full = r == LISTW_EDIT_FULL;
	st->input_error = NULL;
	if (r == LISTW_EDIT_CANCEL) {
		st->prompt = P_NONE;
		drop_targets(st);
	} else if (r == LISTW_EDIT_DONE) {
		entry_done(ui, st);
	}
	return UI_HANDLED | UI_REDRAW;
}

static int filter_key(struct view_alarms_state *st, int ch)
{
	if (ch == KEY_RESIZE)
		return UI_IGNORED;
	listw_filter_key(&st->list, ch);
	st->list.scroll = 0;
	return UI_HANDLED | UI_REDRAW;
}

static int move_sel(struct ui *ui, struct view_alarms_state *st, int ch)
{
	size_t *v, n = visible(ui, st, &v);
	long pos = keep_place(ui, st, v, n);
	int page = list_rows(ui, details_height(ui, st, n));

	st->acted = -1; /* the operator chose: nothing else moves the selection */
	if (n == 0) {
		free(v);
		return UI_HANDLED;
	}
	pos = listw_move(ch, pos, n, page);
	st->sel = (long)v[pos];
	st->sel_row = pos;
	free(v);
	return UI_HANDLED | UI_REDRAW;
}

static bool refuse_read_only(struct ui *ui, struct view_alarms_state *st)
{
	if (!ui->read_only)
		return false;
	set_message(ui, st, true,
		    ui->plant->replay.on ? "a replay changes nothing: it shows what was recorded"
					 : "read-only console: alarm states cannot be changed here");
	return true;
}

/* m: the selected alarm's meter in the meter view. */
static int open_meter(struct ui *ui, struct view_alarms_state *st)
{
	const struct alarm_inst *a = selected(ui, st);

	if (a == NULL || a->meter >= ui->plant->cfg->nmeters)
		return UI_HANDLED;
	ui->meter = a->meter;
	ui->view = VIEW_METER;
	return UI_HANDLED | UI_REDRAW;
}

static int alarms_key(struct ui *ui, void *state, int ch)
{
	struct view_alarms_state *st = state;
	const struct alarm_inst *a;

	if (view_alarm_engine(ui) == NULL)
		return UI_IGNORED;
	take_outcome(ui, st);
	if (st->prompt != P_NONE)
		return prompt_key(ui, st, ch);
	if (st->list.filter_editing)
		return filter_key(st, ch);
	if (listw_is_move(ch))
		return move_sel(ui, st, ch);
	if (view_is_enter(ch)) {
		st->details = !st->details;
		return UI_HANDLED | UI_REDRAW;
	}
	switch (ch) {
	case KEYS_ESC:
		if (st->details) {
			st->details = false;
			return UI_HANDLED | UI_REDRAW;
		}
		if (st->list.filter[0] != '\0') {
			st->list.filter[0] = '\0';
			return UI_HANDLED | UI_REDRAW;
		}
		return UI_IGNORED;
	case '/':
		st->list.filter_editing = true;
		return UI_HANDLED | UI_REDRAW;
	case 'p':
		st->perf = !st->perf;
		return UI_HANDLED | UI_REDRAW;
	case 'c':
		st->show_all = !st->show_all;
		st->list.scroll = 0;
		return UI_HANDLED | UI_REDRAW;
	case 'm':
		return open_meter(ui, st);
	case 'a':
		if (refuse_read_only(ui, st) || !ui_may_act(ui))
			return UI_HANDLED | UI_REDRAW;
		a = selected(ui, st);
		if (a == NULL)
			return UI_HANDLED;
		if (a->def->ack_note && needs_ack(a))
			open_entry(st, P_ACK_NOTE, st->sel);
		else
			act_on(ui, st, st->sel, "ack", "", 0, "acknowledged");
		return UI_HANDLED | UI_REDRAW;
	case 'A':
		if (refuse_read_only(ui, st) || !ui_may_act(ui))
			return UI_HANDLED | UI_REDRAW;
		if (take_targets(ui, st) == 0) {
			drop_targets(st);
			set_message(ui, st, false, "no visible alarm to acknowledge");
		} else {
			st->prompt = P_ACK_ALL;
		}
		return UI_HANDLED | UI_REDRAW;
	case 's':
		if (refuse_read_only(ui, st) || !ui_may_act(ui))
			return UI_HANDLED | UI_REDRAW;
		if (selected(ui, st) != NULL) {
			st->prompt = P_SHELVE;
			st->target = st->sel;
		}
		return UI_HANDLED | UI_REDRAW;
	case 'u':
		if (refuse_read_only(ui, st) || !ui_may_act(ui))
			return UI_HANDLED | UI_REDRAW;
		if (selected(ui, st) != NULL)
			act_on(ui, st, st->sel, "unshelve", "", 0, "unshelved");
		return UI_HANDLED | UI_REDRAW;
	case 'n':
		if (refuse_read_only(ui, st) || !ui_may_act(ui))
			return UI_HANDLED | UI_REDRAW;
		if (selected(ui, st) != NULL)
			open_entry(st, P_NOTE, st->sel);
		return UI_HANDLED | UI_REDRAW;
	default:
		return UI_IGNORED;
	}
}

static void *alarms_init(const struct plant *p)
{
	struct view_alarms_state *st = util_calloc(1, sizeof(*st));

	(void)p;
	listw_init(&st->list, 0);
	st->sel = 0;
	st->sel_row = -1;
	st->target = -1;
	st->acted = -1;
	st->acted_next = -1;
	return st;
}

static void alarms_free(void *state)
{
	struct view_alarms_state *st = state;

	if (st != NULL)
		free(st->targets);
	free(state);
}

static void alarms_enter(void *state)
{
	listw_top(&((struct view_alarms_state *)state)->list);
}

static const char *const alarms_help[] = {
	"Up Down j k  select; PgUp PgDn; Home End: first / last",
	"a           acknowledge (asks for a note if needed)",
	"A           acknowledge every visible alarm (y/n, note)",
	"s  u        shelve (how long, why) / unshelve",
	"n           add a note to the selected alarm",
	"Enter       details and history (Esc closes)",
	"m           the alarm's meter (view 2)",
	"/           filter: meter, alarm, priority, state",
	"c           also normal, shelved, suppressed alarms",
	"p           alarm performance (EEMUA 191) / list",
	"UNACK  ACKED  RTN (cleared, not acknowledged)",
	"SHELVED  SUPPR(essed)  OOS (out of service)",
	NULL,
};

const struct view_ops view_alarms_ops = {
	.name = "Alarms",
	.hotkey = '3',
	.init = alarms_init,
	.free = alarms_free,
	.enter = alarms_enter,
	.draw = alarms_draw,
	.key = alarms_key,
	.help = alarms_help,
};
