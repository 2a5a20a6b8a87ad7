/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_UI_H
#define PHASOR_UI_H
/*
 * ui: the operator console. One thread owns ncurses, the feed (today the
 * hub, embedded or attached) and the read model: ui_run() polls the
 * terminal, the hub's queue and a signalfd, dispatches data, fills the
 * plant (plant.h), handles keys, and redraws only when something changed,
 * at most once per refresh interval for data (at once for keys), sending
 * only what changed (wnoutrefresh/doupdate). Views are const tables of
 * functions (struct view_ops) with their own state (init/free), drawing
 * into the area between the header and the status bar (frame.h); they read
 * the plant only.
 *
 *   +-- header: site, tabs 1..6, banner ------------------------------+
 *   | view area (struct ui.body)                                       |
 *   +-- status bar: clock, site, sources, buffer, key hints -----------+
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/config.h"
#include "phasor/draw.h"
#include "phasor/plant.h"
#include "phasor/theme.h"

#define UI_MIN_COLS 80
#define UI_MIN_ROWS 24

enum ui_view {
	VIEW_OVERVIEW, VIEW_METER, VIEW_ALARMS, VIEW_TRENDS, VIEW_SOURCES, VIEW_HISTORY,
	VIEW_MACHINES, /* only with [machine NAME]s (ui_view_shown) */
	VIEW__COUNT
};

/* What a key handler asks of the loop (as htop's HandlerResult). */
enum {
	UI_IGNORED = 0,       /* not mine: the loop tries its global keys */
	UI_HANDLED = 1 << 0,  /* consumed */
	UI_REDRAW = 1 << 1,   /* and the screen must be redrawn */
	UI_QUIT = 1 << 2
};

/* Overview columns the operator can sort by. */
enum ui_sort { SORT_CONFIG, SORT_NAME, SORT_STATUS, SORT_POWER, SORT_PF, SORT_UNBALANCE, SORT_AGE, SORT__COUNT };

/* What the views share; each view's own state is its own (view_ops.init). */
struct ui {
	/* ---- set up by ui_run; views read these ---- */
	const struct plant *plant;  /* everything shown (plant.h), filled by ui_run */
	const struct theme *theme;
	bool ascii;               /* pure ASCII output */
	bool color;               /* colour escapes in use */
	bool read_only;           /* no action that changes state */
	const char *note;         /* a notice for the status bar (e.g. the demo's), may be NULL */
	int rows, cols;           /* terminal size */
	int refresh_ms;           /* data redraw interval */
	bool refresh_changed;     /* changed with + or -: the status bar shows it */
	WINDOW *body;             /* the view's area */

	/* ---- navigation, shared by views (they may change these) ---- */
	enum ui_view view;
	size_t meter;             /* selected meter: overview row, meter view subject */
	bool help;                /* the help overlay is shown */
	/* The console's own y/n question (quit on a console that acquires),
	 * shown over the view; NULL: none. The next key answers it. */
	const char *question;
	char operator_name[64];   /* who acts: the login name, or its [operators] mapping,
				   * or with [auth] the person signed in */
	/* [auth] operators (ui.c takes the keys, frame.c draws the box): acting
	 * needs a name and PIN, valid until [auth] idle without a key */
	bool auth;
	char signed_in[64];       /* the person; "" nobody */
	int64_t active_us;        /* util_mono_us of the last key while signed in */
	bool signin_on;           /* the sign-in box is open */
	int signin_stage;         /* 0: the name being typed, 1: the PIN */
	char signin_name[64], signin_pin[64];
	char signin_msg[128];     /* why the last try failed, or what happened; "" */
	int signin_fails;         /* wrong tries in a row */
	int64_t signin_locked_us; /* util_mono_us until which tries are refused */
	/* A replay's prompts (ui.c takes their keys, frame.c draws them). */
	bool goto_on;             /* g: a time being typed into goto_input */
	char goto_input[64];
	char goto_error[96];      /* why Enter did not go there; "" none */
	bool sessions_on;         /* S: the session list, session_sel selected */
	size_t session_sel;
	/* Each view's state, made by its init and freed by its free (ui_run
	 * does both); views read another's only through its functions
	 * (view_overview_order). */
	void *view_state[VIEW__COUNT];
};

struct view_ops {
	const char *name;         /* "Overview" */
	char hotkey;              /* '1'..'6' */
	/* The view's own state (NULL when it keeps none; init may be NULL). */
	void *(*init)(const struct plant *p);
	void (*free)(void *state);
	/* The operator switched to the view (tab, hotkey): back to its top. May be NULL. */
	void (*enter)(void *state);
	/* Draw into ui->body (already erased). */
	void (*draw)(struct ui *ui, void *state);
	/* A key the view may handle first; UI_* flags. */
	int (*key)(struct ui *ui, void *state, int ch);
	/* Help overlay lines for this view ("key  what it does"), NULL-terminated. */
	const char *const *help;
};

extern const struct view_ops view_overview_ops;
extern const struct view_ops view_meter_ops;
extern const struct view_ops view_alarms_ops;
extern const struct view_ops view_trends_ops;
extern const struct view_ops view_sources_ops;
extern const struct view_ops view_history_ops;
extern const struct view_ops view_machines_ops;

/* Is view v among the tabs: every view, but machines only when the
 * configuration has some. */
bool ui_view_shown(const struct ui *ui, enum ui_view v);

struct ui_opts {
	const char *theme;        /* name or path; NULL: "dark" */
	bool no_color;            /* --no-color (NO_COLOR is read by ui_run too) */
	bool ascii;               /* --ascii (LANG=C is detected by ui_run too) */
	bool read_only;
	long frames;              /* exit after this many redraws; 0: never */
	const char *note;
	/* `phasor replay`: the feed is this recording (started on cfg) instead
	 * of a hub; nothing is polled or written. */
	struct replay *replay;
};

/*
 * Whether an operator action may go ahead: always without [auth]; with it,
 * when someone is signed in and has not been idle longer than [auth]
 * idle. Otherwise opens the sign-in box and returns false: the action is
 * dropped, the operator signs in and presses its key again. Views call it
 * before every action that changes state.
 */
bool ui_may_act(struct ui *ui);

/*
 * Run the console on cfg until the operator quits, SIGINT/SIGTERM, or
 * opts->frames redraws. Owns the terminal for the duration and restores it
 * on every exit path (util_fail too). Returns an exit status.
 */
int ui_run(struct config *cfg, const struct ui_opts *opts);

#endif
