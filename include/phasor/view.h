/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_VIEW_H
#define PHASOR_VIEW_H
/*
 * view: what the console's views (view_*.c) share: a meter's snapshot (the
 * comm state to show, whether its data is live, the electrical analysis of
 * its latest values), the symbol and role of a state, and lines made of
 * segments in different roles, drawn one after the other and cut to a
 * width. UI thread only; nothing here blocks.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/analysis.h"
#include "phasor/draw.h"
#include "phasor/listw.h"
#include "phasor/ui.h"

/*
 * A meter as the views show it. When its data is not live (stale, down, or
 * never seen) every value is drawn in ROLE_STALE and the analysis is that
 * of its newest values (as_of_us), so the operator sees the last known
 * state, marked as such, never as if it were live.
 */
struct view_snap {
	const struct live_meter *m;
	size_t index;
	enum comm_status comm;          /* view_meter_comm() */
	bool stale;                     /* values are not live: ROLE_STALE */
	bool never;                     /* no sample ever arrived */
	int64_t as_of_us;               /* the figures' time: now, or the newest sample */
	struct analysis_input in;
	struct analysis_params par;
	struct analysis_result res;
};

/* Fill s for meter index meter; false (s->m NULL) when there is no such meter. */
bool view_snap(const struct ui *ui, size_t meter, struct view_snap *s);
/* The same without the recommendation's words (a row of the overview). */
bool view_snap_figures(const struct ui *ui, size_t meter, struct view_snap *s);

/* The comm state to show for a meter: its source's, or stale when its
 * newest data is older than three periods (never shown as if live). */
enum comm_status view_meter_comm(const struct ui *ui, const struct live_meter *m);

/* Role for a PF tier, a comm state, a risk level. */
enum theme_role view_role_tier(enum pf_tier t);
enum theme_role view_role_comm(enum comm_status s);
enum theme_role view_role_risk(enum risk_level l);

/*
 * Meter indices in the overview's order (its sort and filter applied, read
 * from its state in ui->view_state; configuration order without one);
 * returns the count. The meter view steps through meters in this order.
 */
size_t view_overview_order(const struct ui *ui, size_t *out, size_t max);

/* role, or ROLE_STALE when the snapshot is not live. */
enum theme_role view_role(const struct view_snap *s, enum theme_role role);

/* The symbol of a comm state, of a risk level, of a link state. */
enum draw_symbol view_comm_symbol(enum comm_status c);
enum draw_symbol view_risk_symbol(enum risk_level l);

/* Enter (LF, CR, KEY_ENTER) and Backspace (KEY_BACKSPACE, DEL, BS) for text entry. */
bool view_is_enter(int ch);
bool view_is_backspace(int ch);
/* The console's alarm engine (the plant's); NULL when there is none. */
struct alarm_engine *view_alarm_engine(const struct ui *ui);
/* The role of an alarm priority (enum alarm_priority): critical, alarm, warning, normal, muted. */
enum theme_role view_prio_role(int priority);
/* A PF tier in at most 4 letters: "exc.", "good", "acc.", "poor", "crit", "-". */
const char *view_tier_short(enum pf_tier t);

/*
 * v with prec decimals (0..4), built from integers so that LC_NUMERIC never
 * turns the point into a comma (the console runs with setlocale(LC_ALL,
 * "")); "-" when NaN. Views print every number through this or fmt_*.
 */
char *view_fixed(double v, int prec, char *buf, size_t size);

/* Watts as kW without the unit: "0.95", "12.3", "512.3", "1250"; "-" when NaN. */
char *view_kw(double w, char *buf, size_t size);

/* A round trip in microseconds as "12 ms", "1.4 ms", "<0.1 ms". */
char *view_ms(int32_t us, char *buf, size_t size);

/* "HH:MM" local time. */
char *view_hhmm(int64_t t_us, char *buf, size_t size);

/* A risk's value and limit in the unit of its kind: "62.3 kW, limit 55.0 kW". */
char *view_risk_numbers(const struct analysis_risk *rk, char *buf, size_t size);

/*
 * Text word-wrapped at spaces into at most maxlines lines of width from
 * (y, x) (the last line cut with an ellipsis); returns the lines used.
 */
int view_paragraph(WINDOW *w, int y, int x, int width, int maxlines, enum theme_role r,
		   const char *text);

/* "symbol word" of a comm state in its role; returns columns written. */
int view_draw_comm(WINDOW *w, int y, int x, int width, enum comm_status c);

/* ---- the views' own state ----
 * Made by each view's init, freed by its free; declared here so that the
 * unit tests can look inside. Nothing else touches them. */

struct view_overview_state {
	struct listw list;          /* scroll, filter, sort (enum ui_sort) */
	/* the widest meter name and description of names_cfg (measured once,
	 * not at every frame; -1: not yet) */
	const struct config *names_cfg;
	int names_w[2];
};

struct view_alarms_state {
	struct listw list;          /* scroll, filter (the order is fixed) */
	long sel;                   /* selected instance (its identity), -1: none */
	long sel_row;               /* its row at the last draw: a selection that leaves
				       the list goes to the alarm that takes that row */
	bool show_all;              /* also normal (with history), shelved, suppressed, out of service */
	bool details;               /* the details panel of the selection */
	bool perf;                  /* the EEMUA 191 performance panel instead of the list */
	int prompt;                 /* enum in view_alarms.c: 0 none */
	long target;                /* the alarm an open prompt acts on: the selection
				       when its key was pressed, whatever the list does since */
	size_t *targets;            /* A: the unacknowledged alarms listed when it was pressed */
	size_t ntargets;
	int64_t shelve_ms;          /* s: the duration chosen, while its reason is typed */
	/* After an action, the operator's place: when the alarm acted on
	 * leaves its row (re-sorted, shelved out of the list, now or when
	 * the recorder applies it), the selection goes to the alarm that
	 * followed it, which takes that row. */
	long acted;                 /* the alarm acted on, -1: none pending */
	int acted_state;            /* its state then (enum alarm_state): the action is applied
				       when it changes */
	long acted_row;             /* its row then */
	long acted_next;            /* the alarm after it then (before it, when it was last), -1 */
	int64_t acted_us;           /* when (plant time): the rule holds for a while only */
	char input[256];            /* the prompt's text (UTF-8) */
	bool input_full;            /* the last character typed did not fit: refused */
	const char *input_error;    /* why Enter did not end the prompt ("a reason is required") */
	char message[200];          /* feedback of the last action */
	bool message_error;
	int64_t message_us;
	uint64_t outcome_seen;      /* plant.outcome.seq already shown */
};

struct view_sources_rate;
struct view_sources_state {
	struct listw list;          /* scroll over the lines */
	struct view_sources_rate *rates; /* per link: counters of an earlier frame */
	size_t nrates;
	uint64_t bp_throttled;      /* the hub's throttled dispatches last seen */
	int64_t bp_grew_us;         /* when they last grew */
};

struct view_machines_state {
	struct listw list;          /* scroll over the lines */
};

struct view_trends_state {
	size_t sel;                 /* the series shown: 0 the site, then the meters */
	int64_t asked_us;           /* r pressed at (plant time); 0: not asked */
	char message[200];          /* feedback of r */
	bool message_error;
};

/* View 6: the series, the range, the page, the cursor, the prompt. */
struct view_history_state {
	long meter;                 /* the series: -1 the site, else a meter index */
	long overlay;               /* a second meter drawn over it; -1: none */
	unsigned qty;               /* enum qty_id */
	int range;                  /* enum in view_history.c: a preset, or custom */
	bool anchored;              /* from/to are set (else the preset at the next draw) */
	int64_t from_us, to_us;     /* the range shown */
	int page;                   /* 0 chart, 1 energy, 2 demand, 3 alarms */
	long cursor;                /* the chart's column */
	long scroll;                /* the first line of a table page */
	long lines;                 /* a table page's lines at the last draw */
	long ncols;                 /* columns asked for at the last draw */
	uint64_t asked;             /* the request's number; 0: none */
	int64_t asked_from, asked_to, asked_now;
	long asked_meter, asked_overlay, asked_ncols;
	unsigned asked_qty;
	int prompt;                 /* 0 none, 1 FROM being typed, 2 TO */
	char input[64];
	int64_t typed_from;         /* FROM, while TO is typed */
	char message[1024];         /* the last key's feedback (e: where the file is) */
	bool message_error;
};

/* ---- lines of segments ---- */

#define VIEW_SEGS 16
#define VIEW_SEG_LEN 192

struct view_seg {
	enum theme_role role;
	char text[VIEW_SEG_LEN];
};

struct view_line {
	int n;
	int indent;                     /* columns before the first segment */
	struct view_seg seg[VIEW_SEGS];
};

/* A growing list of lines (free with view_lines_free). */
struct view_lines {
	struct view_line *v;
	size_t n, cap;
};

/* Append a new empty line (indent columns) and return it. */
struct view_line *view_lines_add(struct view_lines *ls, int indent);
void view_lines_free(struct view_lines *ls);

/* Append a segment (segments beyond VIEW_SEGS are dropped). */
void view_seg(struct view_line *l, enum theme_role r, const char *fmt, ...) UTIL_PRINTF(3, 4);

/* Draw the segments in order from x, cut at width; returns columns written. */
int view_line_draw(WINDOW *w, int y, int x, int width, const struct view_line *l);

/* Display width of a line (indent included). */
int view_line_width(const struct view_line *l);

/* The lines in w from list's scroll (clamped to them), with a "more
 * below" mark when they do not all fit. */
void view_lines_scrolled(WINDOW *w, struct listw *list, const struct view_lines *ls);

/* The help lines of a view that only scrolls (NULL-terminated). */
extern const char *const view_scroll_help[];

#endif
