/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_UI_H
#define PHASOR_UI_H
/*
 * ui: the operator console. One thread owns ncurses, the hub and the live
 * state: ui_run() polls the terminal, the hub's queue and a signalfd,
 * dispatches data, handles keys, and redraws only when something changed,
 * at most once per refresh interval for data (at once for keys), sending
 * only what changed (wnoutrefresh/doupdate). Views are const tables of
 * functions (struct view_ops) drawing into the area between the header and
 * the status bar.
 *
 *   +-- header: site, tabs 1..5, banner ------------------------------+
 *   | view area (struct ui.body)                                       |
 *   +-- status bar: clock, site, sources, buffer, key hints -----------+
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/config.h"
#include "phasor/draw.h"
#include "phasor/hub.h"
#include "phasor/kpi.h"
#include "phasor/live.h"
#include "phasor/theme.h"

#define UI_MIN_COLS 80
#define UI_MIN_ROWS 24

enum ui_view { VIEW_OVERVIEW, VIEW_METER, VIEW_ALARMS, VIEW_TRENDS, VIEW_SOURCES, VIEW__COUNT };

/* What a key handler asks of the loop (as htop's HandlerResult). */
enum {
	UI_IGNORED = 0,       /* not mine: the loop tries its global keys */
	UI_HANDLED = 1 << 0,  /* consumed */
	UI_REDRAW = 1 << 1,   /* and the screen must be redrawn */
	UI_QUIT = 1 << 2
};

/* Overview columns the operator can sort by. */
enum ui_sort { SORT_CONFIG, SORT_NAME, SORT_STATUS, SORT_POWER, SORT_PF, SORT_UNBALANCE, SORT_AGE, SORT__COUNT };

struct ui {
	/* ---- set up by ui_run; views read these ---- */
	const struct config *cfg;
	struct hub *hub;
	struct live *live;
	struct kpi *kpi;
	struct alarm_engine *alarm_engine; /* the hub's (hub_alarms), NULL without alarms */
	const struct theme *theme;
	bool ascii;               /* pure ASCII output */
	bool color;               /* colour escapes in use */
	bool read_only;           /* no action that changes state */
	const char *note;         /* a notice for the status bar (e.g. the demo's), may be NULL */
	int64_t now_us;           /* wall clock of the frame being drawn */
	int rows, cols;           /* terminal size */
	int refresh_ms;           /* data redraw interval */
	WINDOW *body;             /* the view's area */

	/* ---- navigation, shared by views (they may change these) ---- */
	enum ui_view view;
	size_t meter;             /* selected meter: overview row, meter view subject */
	enum ui_sort sort;
	bool sort_desc;
	char filter[64];          /* overview filter ("" none): substring of name/description */
	bool filter_editing;      /* '/' typed: keys go to the filter */
	int scroll;               /* first visible row of the current list */
	bool help;                /* the help overlay is shown */
	/* ---- alarms ---- */
	char operator_name[64];   /* who acts: the login name, or its [operators] mapping */
	struct ui_alarm_view {
		long sel;             /* selected instance, -1: none */
		bool show_all;        /* also normal (with history), shelved, suppressed, out of service */
		bool details;         /* the details panel of the selection */
		bool perf;            /* the EEMUA 191 performance panel instead of the list */
		char filter[64];
		bool filter_editing;
		int prompt;           /* enum in view_alarms.c: 0 none */
		char input[256];      /* the prompt's text */
		char message[200];    /* feedback of the last action */
		bool message_error;
		int64_t message_us;
	} alarms;
	uint64_t bell_seen;       /* hub_alarm_raises_high already rung for */
};

struct view_ops {
	const char *name;         /* "Overview" */
	char hotkey;              /* '1'..'5' */
	/* Draw into ui->body (already erased). */
	void (*draw)(struct ui *ui);
	/* A key the view may handle first; UI_* flags. */
	int (*key)(struct ui *ui, int ch);
	/* Help overlay lines for this view ("key  what it does"), NULL-terminated. */
	const char *const *help;
};

extern const struct view_ops view_overview_ops;
extern const struct view_ops view_meter_ops;
extern const struct view_ops view_alarms_ops;
extern const struct view_ops view_trends_ops;
extern const struct view_ops view_sources_ops;

struct ui_opts {
	const char *theme;        /* name or path; NULL: "dark" */
	bool no_color;            /* --no-color (NO_COLOR is read by ui_run too) */
	bool ascii;               /* --ascii (LANG=C is detected by ui_run too) */
	bool read_only;
	long frames;              /* exit after this many redraws; 0: never */
	const char *note;
};

/*
 * Run the console on cfg until the operator quits, SIGINT/SIGTERM, or
 * opts->frames redraws. Owns the terminal for the duration and restores it
 * on every exit path (util_fail too). Returns an exit status.
 */
int ui_run(struct config *cfg, const struct ui_opts *opts);

/* ---- helpers for views ---- */

/* Meter indices in overview order (sort and filter applied); returns count. */
size_t ui_visible_meters(struct ui *ui, size_t *out, size_t max);

/* The comm state to show for a meter: its source's, or stale when its
 * newest data is older than three periods (never shown as if live). */
enum comm_status ui_meter_comm(const struct ui *ui, const struct live_meter *m);

/* Role for a PF tier, a comm state, a risk level. */
enum theme_role ui_role_tier(enum pf_tier t);
enum theme_role ui_role_comm(enum comm_status s);
enum theme_role ui_role_risk(enum risk_level l);

#endif
