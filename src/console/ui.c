// SPDX-License-Identifier: MIT
/*
 * ui: the operator console's loop and wiring.
 *
 * DESIGN
 * One thread (this one) owns ncurses, the hub and the live state. ui_run()
 * polls three things: the terminal (keys), the hub's queue (data, through
 * its eventfd) and a signalfd (SIGINT/SIGTERM to quit, SIGWINCH to resize).
 * Nothing it does blocks on I/O: the hub only touches memory, the store
 * writer and the sources run in their own threads.
 *
 * The hub is the console's feed: embedded (it acquires) or attached (it
 * follows a recorder through the buffer). Before each frame and each batch
 * of keys ui_run fills the plant (plant.h) from it: the live state, the
 * alarm engine, the status of links, buffer and sync, the instant shown.
 * The frame (frame.c) and the views (view_*.c, each with its own state from
 * its init) read only that; their operator actions come back through the
 * plant's ops to the hub.
 *
 * Redraws: a key redraws at once; data and the passing of time (ages,
 * staleness, the clock) redraw at most once per refresh interval.
 */
#include "phasor/ui.h"

#include <errno.h>
#include <langinfo.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "phasor/alarm.h"
#include "phasor/follow.h"
#include "phasor/frame.h"
#include "phasor/histjob.h"
#include "phasor/hub.h"
#include "phasor/keys.h"
#include "phasor/kpi.h"
#include "phasor/log.h"
#include "phasor/loop.h"
#include "phasor/operators.h"
#include "phasor/reclock.h"
#include "phasor/replay.h"
#include "phasor/util.h"
#include "phasor/view.h"

#define TICK_MS 250
#define UI_LOCK_WAIT_MS 150
#define THROTTLE_MS 10
#define KEY_CTRL_L 12
#define EMPTY_READS_GONE 8 /* this many: the terminal hung up */
#define FOLLOWED_REDRAW_MS 100 /* attached: new rows redraw this soon after a frame */

/* Refresh intervals offered by '+' and '-'. */
static const int refresh_steps[] = { 250, 500, 1000, 2000, 5000, 10000, 30000 };

static bool curses_on;

/* Render times, for `make bench` ($PHASOR_STATS_FILE). */
static struct {
	long frames;
	int64_t total_us, max_us;
	long max_frame;     /* which frame (1: the first) took max_us */
	long over_2ms;      /* frames longer than 2 ms */
	/* the UI thread's CPU time in frames (without the time another
	 * process had the core: what the drawing itself costs) */
	int64_t cpu_total_us, cpu_max_us;
} render;

static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Restores the terminal before util_fail() prints and aborts. */
static void restore_terminal(void)
{
	if (curses_on) {
		endwin();
		curses_on = false;
	}
}

/* ---- the plant, from the hub ---- */

static int hub_act(void *ctx, size_t inst, const char *action, const char *op, const char *note,
		   int64_t dur_ms, int64_t now_us, bool *sent, char *err, size_t errsz)
{
	return hub_alarm_action(ctx, inst, action, op, note, dur_ms, now_us, sent, err, errsz);
}

static size_t hub_history(void *ctx, long inst, const struct alarm_event **out, size_t max)
{
	return hub_alarm_history(ctx, inst, out, max);
}

static int hub_fc(void *ctx, const char *op, int64_t now_us, bool *sent, char *err, size_t errsz)
{
	return hub_forecast_now(ctx, op, now_us, sent, err, errsz);
}

static const struct plant_ops hub_plant_ops = {
	.act = hub_act,
	.history = hub_history,
	.forecast = hub_fc,
};

/* The plant as the hub has it now; the instant shown is the wall clock. */
static void plant_from_hub(struct plant *p, struct hub *h)
{
	p->live = hub_live(h);
	p->alarms = hub_alarms(h);
	p->has_status = true;
	hub_status(h, &p->status);
	p->buffer_replaced = p->status.store_replaced;
	p->raises_high = hub_alarm_raises_high(h);
	p->trends = hub_trends(h);
	p->machines = hub_machines(h);
	p->now_us = util_now_us();
	p->ops = &hub_plant_ops;
	p->ctx = h;
}

/* What the recorder made of this console's last request (attached): kept
 * in the plant with when it came, for the alarm view to show. */
static void plant_take_outcome(struct plant *p, struct hub *h)
{
	if (hub_request_outcome(h, &p->outcome.seq, p->outcome.text, sizeof(p->outcome.text),
				&p->outcome.refused))
		p->outcome.at_us = util_now_us();
}

/* The operator: the login name (or $USER), through [operators]. */
static void set_operator(struct ui *ui)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *login = pw != NULL && pw->pw_name != NULL ? pw->pw_name : getenv("USER");

	if (login == NULL || login[0] == '\0')
		login = "operator";
	util_sanitize(ui->operator_name, sizeof(ui->operator_name),
		      config_operator(ui->plant->cfg, login));
}

/* ---- who acts: [auth] (the sign-in box) ---- */

#define SIGNIN_TRIES 5                 /* wrong tries in a row, then ... */
#define SIGNIN_LOCK_US 60000000LL      /* ... no try for a minute */

static void sign_out(struct ui *ui, const char *why)
{
	if (ui->signed_in[0] != '\0')
		log_info("console: %s signed out (%s)", ui->signed_in, why);
	ui->signed_in[0] = '\0';
	set_operator(ui);
}

/* Signed in and active: no longer after [auth] idle without a key. */
static bool signed_active(struct ui *ui)
{
	int64_t idle = ui->plant->cfg->auth.idle_ms * 1000;

	if (ui->signed_in[0] == '\0')
		return false;
	if (util_mono_us() - ui->active_us > idle) {
		char d[32];

		sign_out(ui, "idle");
		if (idle >= 60000000)
			snprintf(d, sizeof(d), "%lld min", (long long)(idle / 60000000));
		else
			snprintf(d, sizeof(d), "%lld s", (long long)(idle / 1000000));
		snprintf(ui->signin_msg, sizeof(ui->signin_msg), "signed out after %s without a key", d);
		return false;
	}
	return true;
}

static void open_signin(struct ui *ui)
{
	ui->signin_on = true;
	ui->signin_stage = 0;
	ui->signin_name[0] = ui->signin_pin[0] = '\0';
}

bool ui_may_act(struct ui *ui)
{
	if (!ui->auth || signed_active(ui))
		return true;
	open_signin(ui);
	return false;
}

static void try_signin(struct ui *ui)
{
	int64_t now = util_mono_us();
	char who[64];

	util_sanitize(who, sizeof(who), ui->signin_name);
	if (now < ui->signin_locked_us) {
		snprintf(ui->signin_msg, sizeof(ui->signin_msg), "too many wrong tries: wait %lld s",
			 (long long)((ui->signin_locked_us - now) / 1000000 + 1));
		log_warn("console: sign-in as '%s' refused: locked after %d wrong tries", who,
			 SIGNIN_TRIES);
		ui->signin_stage = 0;
		ui->signin_name[0] = '\0';
	} else if (operators_verify(ui->plant->cfg->auth.ops, ui->signin_name, ui->signin_pin) ==
		   0) {
		util_strlcpy(ui->signed_in, ui->signin_name, sizeof(ui->signed_in));
		util_sanitize(ui->operator_name, sizeof(ui->operator_name), ui->signin_name);
		ui->active_us = now;
		ui->signin_fails = 0;
		ui->signin_on = false;
		snprintf(ui->signin_msg, sizeof(ui->signin_msg), "signed in as %s: press the key again",
			 who);
		log_info("console: %s signed in", who);
	} else {
		ui->signin_fails++;
		log_warn("console: sign-in as '%s' refused: wrong name or PIN (%d in a row)", who,
			 ui->signin_fails);
		if (ui->signin_fails >= SIGNIN_TRIES) {
			ui->signin_locked_us = now + SIGNIN_LOCK_US;
			ui->signin_fails = 0;
			snprintf(ui->signin_msg, sizeof(ui->signin_msg),
				 "%d wrong tries: no sign-in for %lld s", SIGNIN_TRIES,
				 (long long)(SIGNIN_LOCK_US / 1000000));
		} else {
			snprintf(ui->signin_msg, sizeof(ui->signin_msg), "wrong name or PIN");
		}
		ui->signin_stage = 0; /* from the name again */
		ui->signin_name[0] = '\0';
	}
	/* the PIN never stays in memory longer than its check */
	memset(ui->signin_pin, 0, sizeof(ui->signin_pin));
}

/* The sign-in box takes every key while open: the name, then the PIN. */
static int signin_key(struct ui *ui, int ch)
{
	char *buf = ui->signin_stage == 0 ? ui->signin_name : ui->signin_pin;
	size_t len = strlen(buf), cap = ui->signin_stage == 0 ? sizeof(ui->signin_name)
							    : sizeof(ui->signin_pin);

	if (ch == KEYS_ESC) {
		ui->signin_on = false;
		memset(ui->signin_pin, 0, sizeof(ui->signin_pin));
		ui->signin_msg[0] = '\0';
	} else if (view_is_enter(ch)) {
		if (ui->signin_stage == 0 && len > 0)
			ui->signin_stage = 1;
		else if (ui->signin_stage == 1)
			try_signin(ui);
	} else if (view_is_backspace(ch)) {
		if (len > 0)
			buf[len - 1] = '\0';
	} else if (ch >= 32 && ch < 127 && len + 1 < cap) {
		buf[len] = (char)ch;
		buf[len + 1] = '\0';
	}
	return UI_HANDLED | UI_REDRAW;
}

static const struct view_ops *const views[VIEW__COUNT] = {
	[VIEW_OVERVIEW] = &view_overview_ops, [VIEW_METER] = &view_meter_ops,
	[VIEW_ALARMS] = &view_alarms_ops,     [VIEW_TRENDS] = &view_trends_ops,
	[VIEW_SOURCES] = &view_sources_ops,   [VIEW_HISTORY] = &view_history_ops,
	[VIEW_MACHINES] = &view_machines_ops,
};

/* What the loop's callbacks of ui_run share. */
struct ui_loop {
	struct ui *ui;
	struct hub *hub;      /* the feed: a hub (embedded, attached) ... */
	struct replay *replay;/* ... or a recording (NULL: none) */
	struct plant *plant;  /* ui->plant, filled from the feed */
	struct kpi *kpi;      /* the live feed's site figures (NULL in a replay) */
	struct kpi *replay_kpi; /* the replay's or the frozen view's, per rebuild */
	uint64_t replay_gen;
	struct histjob *history; /* view 6's worker on the buffer (every feed) */
	struct frame *frame;
	struct keys keys;    /* escape sequences being decoded */
	bool wide;           /* characters may be multibyte (MB_CUR_MAX > 1): wget_wch */
	int empty_reads;     /* wake-ups in a row with nothing to read */
	bool redraw_now;     /* a key, a resize, an urgent alarm: redraw now */
	bool refresh_due;    /* the refresh interval has passed */
};

/* One frame, timed from the first computation to doupdate's return. */
/* The plant as the feed has it now. */
static void plant_fill(struct ui_loop *u)
{
	if (u->replay != NULL)
		replay_fill(u->replay, u->plant);
	else
		plant_from_hub(u->plant, u->hub);
	u->plant->history = u->history;
}

static void redraw(struct ui_loop *u)
{
	int64_t t0 = util_mono_us(), c0 = thread_cpu_us(), dt, dc;

	plant_fill(u);
	if (u->replay != NULL) {
		/* The site figures of the instant shown come from its own live
		 * state, started afresh at each rebuild: the live console's KPI
		 * (its counters, today's energy) is left as it was. */
		if (u->replay_kpi == NULL || u->plant->replay.state_gen != u->replay_gen) {
			/* today from the cursor's local midnight, read from the
			 * recording up to the cursor (a worker, as at a start) */
			kpi_free(u->replay_kpi);
			u->replay_kpi = kpi_new_day_at(u->plant->cfg, &follow_kpi_day_ops,
						       replay_path(u->replay), u->plant->now_us);
			u->replay_gen = u->plant->replay.state_gen;
		}
		kpi_update(u->replay_kpi, (struct live *)u->plant->live, u->plant->now_us);
		u->plant->kpi = u->replay_kpi;
	} else {
		kpi_update(u->kpi, (struct live *)u->plant->live, u->plant->now_us);
		u->plant->kpi = u->kpi;
	}
	frame_draw(u->frame, u->ui);
	dt = util_mono_us() - t0;
	dc = thread_cpu_us() - c0;
	render.cpu_total_us += dc;
	if (dc > render.cpu_max_us)
		render.cpu_max_us = dc;
	render.frames++;
	render.total_us += dt;
	if (dt > render.max_us) {
		render.max_us = dt;
		render.max_frame = render.frames;
	}
	render.over_2ms += dt > 2000;
	if (dt > 16000) /* a frame an operator could see stutter */
		log_info("console: frame %ld took %lld ms", render.frames, (long long)dt / 1000);
}

static void write_stats(void)
{
	const char *path = getenv("PHASOR_STATS_FILE");
	long n = render.frames > 0 ? render.frames : 1;
	FILE *f;

	log_info("console: %ld frames, render mean %lld us, max %lld us (frame %ld), %ld over 2 ms; "
		 "CPU mean %lld us, max %lld us",
		 render.frames, (long long)(render.total_us / n), (long long)render.max_us,
		 render.max_frame, render.over_2ms, (long long)(render.cpu_total_us / n),
		 (long long)render.cpu_max_us);
	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "frames=%ld render_mean_us=%lld render_max_us=%lld render_max_frame=%ld "
		   "render_over_2ms=%ld render_cpu_mean_us=%lld render_cpu_max_us=%lld\n",
		render.frames, (long long)(render.total_us / n), (long long)render.max_us,
		render.max_frame, render.over_2ms, (long long)(render.cpu_total_us / n),
		(long long)render.cpu_max_us);
	fclose(f);
}

/* ---- keys ---- */

bool ui_view_shown(const struct ui *ui, enum ui_view v)
{
	return v != VIEW_MACHINES || ui->plant->cfg->nmachines > 0;
}

/* The shown view step views after the current one (Tab: 1, Shift-Tab:
 * VIEW__COUNT - 1). */
static enum ui_view next_view(const struct ui *ui, unsigned step)
{
	unsigned v = ui->view, i;

	for (i = 0; i < VIEW__COUNT; i++) {
		v = (v + step) % VIEW__COUNT;
		if (ui_view_shown(ui, (enum ui_view)v))
			break;
	}
	return (enum ui_view)v;
}

/* To view v, back at its top (as its tab or hotkey does). */
static void switch_view(struct ui *ui, enum ui_view v)
{
	ui->view = v;
	if (views[v]->enter != NULL && ui->view_state[v] != NULL)
		views[v]->enter(ui->view_state[v]);
}

/*
 * The question asked before quitting, or NULL when quitting loses nothing:
 * a console that acquires (embedded: it polls the meters, and records when
 * it has a buffer) stops doing so when it quits; one attached to a
 * recorder only stops showing.
 */
static const char *quit_question(const struct ui *ui)
{
	const struct plant *p = ui->plant;

	if (!p->has_status || p->status.mode != HUB_EMBEDDED)
		return NULL;
	return p->status.has_store ? "Quit and stop recording? y/n"
				   : "Quit and stop polling the meters? y/n";
}

/* q, F10: quit, or ask first. */
static int ask_quit(struct ui *ui)
{
	ui->question = quit_question(ui);
	return ui->question != NULL ? UI_HANDLED | UI_REDRAW : UI_QUIT;
}

/* The answer to the question: y quits, any other key keeps the console. */
static int answer(struct ui *ui, int ch)
{
	if (ch == KEY_RESIZE)
		return UI_HANDLED | UI_REDRAW;
	ui->question = NULL;
	return ch == 'y' || ch == 'Y' ? UI_QUIT : UI_HANDLED | UI_REDRAW;
}

static int global_key(struct ui *ui, int ch)
{
	size_t i;

	if (ui->help) {
		/* Any key closes the help, and does nothing else: q there must
		 * not quit the console that polls the plant. */
		ui->help = false;
		return UI_HANDLED | UI_REDRAW;
	}
	switch (ch) {
	case 'q':
	case KEY_F(10):
		return ask_quit(ui);
	case '?':
	case KEY_F(1):
		ui->help = true;
		return UI_HANDLED | UI_REDRAW;
	case '\t':
		switch_view(ui, next_view(ui, 1));
		return UI_HANDLED | UI_REDRAW;
	case KEY_BTAB:
		switch_view(ui, next_view(ui, VIEW__COUNT - 1));
		return UI_HANDLED | UI_REDRAW;
	case '+':
	case '-':
		for (i = 0; i < UTIL_ARRAY_LEN(refresh_steps); i++)
			if (refresh_steps[i] >= ui->refresh_ms)
				break;
		if (ch == '+' && i + 1 < UTIL_ARRAY_LEN(refresh_steps))
			i++;
		else if (ch == '-' && i > 0)
			i--;
		ui->refresh_ms = refresh_steps[i < UTIL_ARRAY_LEN(refresh_steps) ? i : 0];
		ui->refresh_changed = true;
		return UI_HANDLED | UI_REDRAW;
	case KEY_CTRL_L:
		clearok(curscr, TRUE);
		return UI_HANDLED | UI_REDRAW;
	default:
		break;
	}
	for (i = 0; i < VIEW__COUNT; i++) {
		if (ch == views[i]->hotkey && ui_view_shown(ui, (enum ui_view)i)) {
			switch_view(ui, (enum ui_view)i);
			return UI_HANDLED | UI_REDRAW;
		}
	}
	/* Home, End, the other function keys: a view's, or nothing. */
	return UI_IGNORED;
}

/* A replay's playback keys (before the views'): -1 when ch is not one. */
static int replay_action_of(int ch)
{
	switch (ch) {
	case ' ':
		return REPLAY_PLAY_PAUSE;
	case '>':
		return REPLAY_FASTER;
	case '<':
		return REPLAY_SLOWER;
	case '.':
		return REPLAY_STEP_FWD;
	case ',':
		return REPLAY_STEP_BACK;
	case ']':
		return REPLAY_MINUTE_FWD;
	case '[':
		return REPLAY_MINUTE_BACK;
	case '}':
		return REPLAY_HOUR_FWD;
	case '{':
		return REPLAY_HOUR_BACK;
	case 'n':
		return REPLAY_NEXT_ALARM;
	case 'N':
		return REPLAY_PREV_ALARM;
	case KEY_HOME:
		return REPLAY_START;
	case KEY_END:
		return REPLAY_END;
	default:
		return -1;
	}
}

/* The replay's g (a time typed) and S (the session list) take every key while open. */
static int replay_prompt_key(struct ui_loop *u, int ch)
{
	struct ui *ui = u->ui;
	const struct plant_replay *pr = &u->plant->replay;
	size_t len = strlen(ui->goto_input);

	if (ui->sessions_on) {
		if ((ch == KEY_UP || ch == 'k') && ui->session_sel > 0)
			ui->session_sel--;
		else if ((ch == KEY_DOWN || ch == 'j') && ui->session_sel + 1 < pr->nsessions)
			ui->session_sel++;
		else if (view_is_enter(ch) && ui->session_sel < pr->nsessions) {
			ui->sessions_on = false;
			replay_to_session(u->replay, pr->sessions[ui->session_sel].id);
		} else if (ch == KEYS_ESC || ch == 'q' || ch == 'S')
			ui->sessions_on = false;
		return UI_HANDLED | UI_REDRAW;
	}
	if (view_is_enter(ch)) {
		if (replay_goto(u->replay, ui->goto_input, ui->goto_error, sizeof(ui->goto_error)) == 0)
			ui->goto_on = false;
	} else if (ch == KEYS_ESC) {
		ui->goto_on = false;
	} else if (view_is_backspace(ch)) {
		if (len > 0)
			ui->goto_input[len - 1] = '\0';
		ui->goto_error[0] = '\0';
	} else if (ch >= 32 && ch < 127 && len + 1 < sizeof(ui->goto_input)) {
		ui->goto_input[len] = (char)ch;
		ui->goto_input[len + 1] = '\0';
		ui->goto_error[0] = '\0';
	}
	return UI_HANDLED | UI_REDRAW;
}

/*
 * Z on a live console: the screen stops at this instant and the replay
 * keys move back over the buffer (a replay feed on the console's own
 * configuration), while the hub goes on acquiring and recording; L (or Z
 * again) returns to live.
 */
static int freeze_key(struct ui_loop *u, int ch)
{
	struct replay_opts o = { .db = u->plant->cfg->store.path, .from_us = INT64_MIN,
				 .trends = true };
	struct replay *rp;
	char *cause = NULL;

	if (u->replay != NULL) {
		replay_free(u->replay);
		u->replay = NULL;
		kpi_free(u->replay_kpi);
		u->replay_kpi = NULL;
		u->plant->replay.on = false;
		u->ui->goto_on = u->ui->sessions_on = false;
		return UI_HANDLED | UI_REDRAW;
	}
	if (ch == 'L')
		return UI_HANDLED;
	rp = o.db != NULL ? replay_open(&o, &cause) : NULL;
	if (rp != NULL && replay_start(rp, u->plant->cfg, &cause) == 0) {
		replay_act(rp, REPLAY_END);
		replay_mark_frozen(rp);
		u->replay = rp;
	} else {
		log_warn("console: cannot freeze: %s", cause != NULL ? cause : "no buffer");
		replay_free(rp);
	}
	free(cause);
	return UI_HANDLED | UI_REDRAW;
}

static int handle_key(struct ui_loop *u, int ch)
{
	struct ui *ui = u->ui;
	int r, a;

	if (ui->question != NULL)
		return answer(ui, ch);
	if (ch == KEY_RESIZE)
		return UI_HANDLED | UI_REDRAW;
	if (ui->signin_on)
		return signin_key(ui, ch);
	ui->signin_msg[0] = '\0'; /* said once, until the next key */
	if (ui->auth && signed_active(ui))
		ui->active_us = util_mono_us();
	if (ui->auth && ch == 'I' && !ui->help && !ui->plant->replay.on) {
		/* I: sign in, or out when someone is */
		if (ui->signed_in[0] != '\0') {
			sign_out(ui, "I");
			snprintf(ui->signin_msg, sizeof(ui->signin_msg), "signed out");
		} else {
			open_signin(ui);
		}
		return UI_HANDLED | UI_REDRAW;
	}
	if (frame_too_small(u->frame))
		return ch == 'q' || ch == KEY_F(10) ? ask_quit(ui) : UI_IGNORED;
	if (u->replay != NULL && (ui->goto_on || ui->sessions_on))
		return replay_prompt_key(u, ch);
	if (u->hub != NULL && !ui->help && (ch == 'Z' || ch == 'L'))
		return freeze_key(u, ch);
	if (u->hub != NULL && u->replay != NULL && (ch == 'q' || ch == KEY_F(10))) {
		/* quitting a frozen console: live again first, then as live asks */
		freeze_key(u, 'L');
		plant_fill(u);
	}
	if (u->replay != NULL && !ui->help && (ch == 'g' || ch == 'S')) {
		const struct plant_replay *pr = &u->plant->replay;
		size_t i;

		if (ch == 'g') {
			ui->goto_on = true;
			ui->goto_input[0] = ui->goto_error[0] = '\0';
		} else {
			ui->sessions_on = true;
			ui->session_sel = 0;
			for (i = 0; i < pr->nsessions; i++)
				if (pr->sessions[i].start_us <= u->plant->now_us)
					ui->session_sel = i;
		}
		return UI_HANDLED | UI_REDRAW;
	}
	if (u->replay != NULL && !ui->help && (a = replay_action_of(ch)) >= 0) {
		replay_act(u->replay, (enum replay_action)a);
		if (a == REPLAY_NEXT_ALARM || a == REPLAY_PREV_ALARM)
			switch_view(ui, VIEW_ALARMS);
		return UI_HANDLED | UI_REDRAW;
	}
	if (!ui->help && views[ui->view]->key != NULL) {
		r = views[ui->view]->key(ui, ui->view_state[ui->view], ch);
		if (r != UI_IGNORED)
			return r;
	}
	return global_key(ui, ch);
}

/* ---- setup ---- */

static bool want_color(const struct ui_opts *o)
{
	const char *nc = getenv("NO_COLOR");

	/* https://no-color.org: present and not empty means no colour. */
	return !o->no_color && !(nc != NULL && nc[0] != '\0');
}

static bool want_ascii(const struct ui_opts *o)
{
	const char *cs = nl_langinfo(CODESET);

	return o->ascii || cs == NULL || strcmp(cs, "UTF-8") != 0;
}

static void resize_from_tty(struct ui_loop *u)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	frame_layout(u->frame, u->ui);
	clearok(curscr, TRUE);
}

static void on_signal(struct loop *l, int signo, void *ctx)
{
	struct ui_loop *u = ctx;

	if (signo == SIGWINCH) {
		resize_from_tty(u);
		u->redraw_now = true;
	} else {
		/* SIGHUP too: the terminal (an SSH session, a tmux server)
		 * went away. */
		loop_stop(l);
	}
}

static void on_hub(struct loop *l, int fd, short revents, void *ctx)
{
	struct ui_loop *u = ctx;

	(void)l;
	(void)fd;
	if (revents & POLLIN)
		hub_dispatch(u->hub);
}

/* One decoded key: handled, and what the loop must do next. */
static void dispatch(struct ui_loop *u, struct loop *l, int ch)
{
	int r = handle_key(u, ch);

	if (ch == KEY_RESIZE)
		frame_layout(u->frame, u->ui);
	if (r & UI_QUIT)
		loop_stop(l);
	if (r & (UI_REDRAW | UI_HANDLED))
		u->redraw_now = true;
}

/*
 * The next key from the terminal, keys.h's way, -1 when there is none.
 * In a multibyte locale (UTF-8) characters come whole from wget_wch;
 * where characters are bytes (LANG=C) wget_wch would refuse every byte
 * above 127 (swallowing it), so wgetch gives the byte, which is no key.
 */
static int read_key(bool wide, bool *got)
{
	wint_t wc;
	int rc;

	if (!wide) {
		rc = wgetch(stdscr);
		*got = rc != ERR;
		return rc == ERR ? -1 : rc;
	}
	rc = wget_wch(stdscr, &wc);
	*got = rc != ERR;
	return keys_from_wch(rc, (unsigned)wc);
}

static void on_keys(struct loop *l, int fd, short revents, void *ctx)
{
	struct ui_loop *u = ctx;
	int reads = 0, avail = 0, out[2], n, i, key;
	bool got;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	/* Keys act on the plant as it is now (an action's time is now_us). */
	plant_fill(u);
	/* Characters (any UTF-8 text) and key codes; escape sequences that
	 * ncurses did not decode go through the decoder (keys.h), whole. */
	while (key = read_key(u->wide, &got), got) {
		reads++;
		n = keys_feed(&u->keys, key, util_mono_us() / 1000, out);
		for (i = 0; i < n && !loop_stopped(l); i++)
			dispatch(u, l, out[i]);
	}
	if (keys_idle(&u->keys, out) == 1 && !loop_stopped(l))
		dispatch(u, l, out[0]);
	/* A hung-up terminal reports POLLHUP, or POLLIN with nothing to read,
	 * again and again: without leaving here the loop would spin. Once is
	 * not enough to tell: an invalid byte (a Latin-1 terminal in a UTF-8
	 * locale) is read and refused by ncurses, which leaves nothing too. */
	if (reads > 0 || ioctl(fd, FIONREAD, &avail) != 0 || avail > 0)
		u->empty_reads = 0;
	else
		u->empty_reads++;
	if ((revents & (POLLHUP | POLLERR)) || u->empty_reads >= EMPTY_READS_GONE) {
		log_info("console: the terminal went away");
		loop_stop(l);
	}
}

static void on_tick(struct loop *l, int id, void *ctx)
{
	struct ui_loop *u = ctx;

	(void)l;
	(void)id;
	/* the frame follows the cursor at each refresh */
	if (u->replay != NULL)
		replay_tick(u->replay, util_mono_us());
	/* a frozen live console goes on acquiring */
	if (u->hub != NULL)
		hub_tick(u->hub, util_now_us());
}

/* Time moves ages and staleness even without new data. */
static void on_refresh(struct loop *l, int id, void *ctx)
{
	struct ui_loop *u = ctx;

	(void)l;
	(void)id;
	u->refresh_due = true;
}

int ui_run(struct config *cfg, const struct ui_opts *opts)
{
	struct ui ui;
	struct plant plant;
	struct frame *frame = NULL;
	struct theme *theme = NULL;
	struct diag d;
	struct hub *hub = NULL;
	struct kpi *kpi = NULL;
	SCREEN *screen = NULL;
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	struct loop *lp = NULL;
	struct ui_loop u = { .ui = &ui, .plant = &plant, .redraw_now = true };
	char *cause = NULL;
	int rc = EXIT_FAILURE, refresh_timer, lock_fd = -1;
	bool attached = false;
	long frames = 0;
	uint64_t urgent_seen = 0, samples_seen = 0;
	int64_t frame_at_us = 0;
	bool followed_due = false, history_seen = true;
	int v;

	memset(&ui, 0, sizeof(ui));
	memset(&plant, 0, sizeof(plant));
	memset(&render, 0, sizeof(render));
	keys_init(&u.keys);
	u.wide = MB_CUR_MAX > 1;
	diag_init(&d);

	/* Local times are the plant's. */
	if (cfg->site.timezone != NULL) {
		setenv("TZ", cfg->site.timezone, 1);
		tzset();
	}
	/* The locale is main()'s: the user's, except LC_NUMERIC "C". */
	ui.ascii = want_ascii(opts);
	ui.color = want_color(opts);
	ui.read_only = opts->read_only;
	ui.note = opts->note;
	plant.cfg = cfg;
	ui.plant = &plant;
	ui.refresh_ms = cfg->console.refresh_ms > 0 ? cfg->console.refresh_ms : 1000;

	theme = theme_load(opts->theme != NULL		? opts->theme
			   : cfg->console.theme != NULL ? cfg->console.theme
							: "dark",
			   &d);
	if (theme == NULL) {
		diag_print(&d, stderr);
		diag_clear(&d);
		return 2;
	}
	ui.theme = theme;

	/* The log never goes to the screen. */
	if (cfg->log.path != NULL) {
		if (log_open(cfg->log.path) < 0) {
			fprintf(stderr, "phasor: cannot open log %s: %s\n", cfg->log.path,
				strerror(errno));
			goto out;
		}
		log_set_level((enum log_level)cfg->log.level);
	} else {
		log_silence();
	}

	/* Signals come through the loop's signalfd; threads started below
	 * inherit the blocked mask, so the loop is the only one to see them. */
	signal(SIGPIPE, SIG_IGN);
	lp = loop_new(signals, (int)UTIL_ARRAY_LEN(signals), on_signal, &u, &cause);
	if (lp == NULL) {
		fprintf(stderr, "phasor: %s\n", cause);
		goto out;
	}

	/* A recorder holds the buffer: attach to it. Else this console
	 * acquires, and holds the lock so that consoles opened next attach
	 * to it and a recorder started next says so instead of polling
	 * twice. A console probing the lock holds it for a moment: a free
	 * lock is taken after UI_LOCK_WAIT_MS at most. */
	if (opts->replay != NULL) {
		/* a recording: no lock, no hub */
	} else if (cfg->store.path != NULL) {
		char who[160] = "";
		int got = reclock_take(cfg->store.path, "console", UI_LOCK_WAIT_MS, &lock_fd, who,
				       sizeof(who), &cause);

		if (got < 0) {
			/* the buffer's own open says best what is wrong */
			log_warn("%s", cause);
			free(cause);
			cause = NULL;
		}
		attached = got == 0;
		if (attached)
			log_info("console: attached to %s on %s", who, cfg->store.path);
	}
	if (opts->replay != NULL) {
		u.replay = opts->replay;
	} else {
		hub = hub_new(cfg,
			      &(struct hub_opts){ .mode = "console",
						  .attached = attached,
						  .history = !attached,
						  .publish_status = !attached },
			      &cause);
		if (hub == NULL || hub_start(hub, &cause) < 0) {
			fprintf(stderr, "phasor: cannot start: %s\n", cause != NULL ? cause : "?");
			goto out;
		}
		u.hub = hub;
		kpi = kpi_new_day(cfg, &follow_kpi_day_ops);
	}
	/* every feed's buffer: a recording's is its --db */
	u.history = cfg->store.path != NULL ? histjob_new(cfg) : NULL;
	plant_fill(&u);
	set_operator(&ui);
	ui.auth = cfg->auth.operators != NULL;
	plant.kpi = kpi;
	u.kpi = kpi;
	for (v = 0; v < VIEW__COUNT; v++)
		if (views[v]->init != NULL)
			ui.view_state[v] = views[v]->init(&plant);

	screen = newterm(NULL, stdout, stdin);
	if (screen == NULL) {
		fprintf(stderr, "phasor: cannot use the terminal (TERM=%s)\n",
			getenv("TERM") != NULL ? getenv("TERM") : "");
		goto out;
	}
	curses_on = true;
	util_set_fail_hook(restore_terminal);
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	if (ui.color && theme_apply(theme, true) < 0)
		ui.color = false;
	if (!ui.color)
		theme_apply(theme, false);
	draw_setup(theme, ui.color, ui.ascii);
	/* Alarms restored from the journal do not ring again. */
	frame = frame_new(views, plant.raises_high);
	u.frame = frame;
	frame_layout(frame, &ui);
	log_info("console: %zu meter(s), %dx%d, %s, %s", cfg->nmeters, ui.cols, ui.rows,
		 ui.ascii ? "ascii" : "utf-8", ui.color ? "colour" : "no colour");

	loop_add_fd(lp, STDIN_FILENO, POLLIN, on_keys, &u);
	if (hub != NULL)
		loop_add_fd(lp, hub_fd(hub), POLLIN, on_hub, &u);
	loop_add_timer(lp, 0, TICK_MS, on_tick, &u);
	refresh_timer = loop_add_timer(lp, 0, 0, on_refresh, &u);
	while (!loop_stopped(lp)) {
		bool throttled = hub != NULL && hub_throttled(hub);
		int timeout = u.redraw_now ? 0 : -1;

		/* While throttled the hub's fd stays readable: not polled, and
		 * the hub dispatches every THROTTLE_MS instead. */
		if (hub != NULL)
			loop_fd_events(lp, hub_fd(hub), throttled ? 0 : POLLIN);
		if (throttled && (timeout < 0 || timeout > THROTTLE_MS))
			timeout = THROTTLE_MS;
		if (loop_run_once(lp, timeout) < 0)
			break;
		if (throttled)
			hub_dispatch(hub);
		/* Another console's action, a new critical or high alarm: now,
		 * not at the next refresh. */
		if (hub != NULL && hub_alarm_urgent(hub) != urgent_seen) {
			urgent_seen = hub_alarm_urgent(hub);
			u.redraw_now = true;
		}
		/* View 6's figures, read by its worker: shown once there. */
		if (histjob_ready(u.history) && ui.view == VIEW_HISTORY)
			u.redraw_now = true;
		/* What the recorder made of this console's last request. */
		if (hub != NULL)
			plant_take_outcome(&plant, hub);
		/* Attached, new samples come a recorder commit at a time: shown
		 * then (at most FOLLOWED_REDRAW_MS after the last frame), not at
		 * the next refresh; so does the end of a load. */
		if (hub != NULL && !followed_due &&
		    (attached || history_seen || kpi_day_pending(kpi))) {
			bool loading = hub_history_loading(hub), due;

			/* The last hour and today's energy come from worker
			 * threads: shown once read, not a refresh later. */
			due = (history_seen && !loading) || kpi_day_ready(kpi);
			history_seen = loading;
			if (attached) {
				struct hub_stats hs;

				hub_get_stats(hub, &hs);
				due = due || hs.samples != samples_seen;
				samples_seen = hs.samples;
			}
			if (due) {
				int64_t since = (util_mono_us() - frame_at_us) / 1000;

				followed_due = true;
				loop_timer_reset(lp, refresh_timer,
						 since < FOLLOWED_REDRAW_MS ? FOLLOWED_REDRAW_MS - since : 0);
			}
		}
		if (!loop_stopped(lp) && (u.redraw_now || u.refresh_due)) {
			redraw(&u);
			u.redraw_now = false;
			u.refresh_due = false;
			followed_due = false;
			frame_at_us = util_mono_us();
			loop_timer_reset(lp, refresh_timer, ui.refresh_ms);
			frames++;
			if (opts->frames > 0 && frames >= opts->frames)
				loop_stop(lp);
		}
	}
	rc = 0;
	write_stats();

out:
	if (curses_on) {
		frame_free(frame, &ui);
		endwin();
		curses_on = false;
	}
	if (screen != NULL)
		delscreen(screen);
	util_set_fail_hook(NULL);
	free(cause);
	for (v = 0; v < VIEW__COUNT; v++)
		if (ui.view_state[v] != NULL && views[v]->free != NULL)
			views[v]->free(ui.view_state[v]);
	if (hub != NULL && u.replay != NULL)
		replay_free(u.replay); /* a frozen live console's */
	kpi_free(u.replay_kpi);
	histjob_free(u.history);
	if (hub != NULL)
		hub_stop(hub);
	kpi_free(kpi);
	hub_free(hub);
	reclock_release(lock_fd);
	loop_free(lp);
	theme_free(theme);
	diag_clear(&d);
	return rc;
}
