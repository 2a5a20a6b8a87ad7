// SPDX-License-Identifier: MIT
/*
 * ui: the operator console's loop, frame and global keys.
 *
 * DESIGN
 * One thread (this one) owns ncurses, the hub and the live state. ui_run()
 * polls three things: the terminal (keys), the hub's queue (data, through
 * its eventfd) and a signalfd (SIGINT/SIGTERM to quit, SIGWINCH to resize).
 * Nothing it does blocks on I/O: the hub only touches memory, the store
 * writer and the sources run in their own threads.
 *
 * Redraws: a key redraws at once; data and the passing of time (ages,
 * staleness, the clock) redraw at most once per refresh interval. Each frame
 * erases and redraws the windows into ncurses' virtual screen and ends with
 * wnoutrefresh + doupdate, so only the cells that changed reach the
 * terminal: on a steady plant that is a few numbers and the clock.
 *
 * Frame: a header line (site, tabs), the view's window (struct ui.body) and
 * a status bar (clock, site, sources, buffer, hints); the help overlay is a
 * window on top. Below 80x24 a "terminal too small" screen replaces it all.
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

#include "phasor/alarm.h"
#include "phasor/fmt.h"
#include "phasor/follow.h"
#include "phasor/sync.h"
#include "phasor/log.h"
#include "phasor/loop.h"
#include "phasor/reclock.h"
#include "phasor/util.h"
#include "phasor/view.h"

#define TICK_MS 250
#define UI_LOCK_WAIT_MS 150
/* An attached console's recorder writes its status every second. */
#define UI_RECORDER_SILENT_US 3000000
#define THROTTLE_MS 10
#define KEY_CTRL_L 12
#define KEY_ESCAPE 27

static const struct view_ops *const views[VIEW__COUNT] = {
	[VIEW_OVERVIEW] = &view_overview_ops, [VIEW_METER] = &view_meter_ops,
	[VIEW_ALARMS] = &view_alarms_ops,     [VIEW_TRENDS] = &view_trends_ops,
	[VIEW_SOURCES] = &view_sources_ops,
};

/* Refresh intervals offered by '+' and '-'. */
static const int refresh_steps[] = { 250, 500, 1000, 2000, 5000, 10000, 30000 };

struct frame {
	WINDOW *header, *banner, *status, *help;
	bool too_small;
};

static struct frame frame;
static bool curses_on;

/* Render times, for `make bench` ($PHASOR_STATS_FILE). */
static struct {
	long frames;
	int64_t total_us, max_us;
} render;

/* Restores the terminal before util_fail() prints and aborts. */
static void restore_terminal(void)
{
	if (curses_on) {
		endwin();
		curses_on = false;
	}
}

/* ---- helpers views share ---- */

enum comm_status ui_meter_comm(const struct ui *ui, const struct live_meter *m)
{
	if (m->comm.status == COMM_OK && live_meter_stale(m, ui->now_us))
		return COMM_STALE;
	/* An MQTT meter's source decides; a meter never heard from is unknown. */
	return m->comm.status;
}

enum theme_role ui_role_tier(enum pf_tier t)
{
	switch (t) {
	case PF_EXCELLENT:
	case PF_GOOD:
		return ROLE_OK;
	case PF_ACCEPTABLE:
		return ROLE_WARNING;
	case PF_POOR:
		return ROLE_ALARM;
	case PF_CRITICAL:
		return ROLE_CRITICAL;
	case PF_UNKNOWN:
		break;
	}
	return ROLE_MUTED;
}

enum theme_role ui_role_comm(enum comm_status s)
{
	switch (s) {
	case COMM_OK:
		return ROLE_OK;
	case COMM_STALE:
		return ROLE_STALE;
	case COMM_DOWN:
		return ROLE_CRITICAL;
	case COMM_UNKNOWN:
		break;
	}
	return ROLE_MUTED;
}

enum theme_role ui_role_risk(enum risk_level l)
{
	switch (l) {
	case RISK_NORMAL:
		return ROLE_OK;
	case RISK_MINOR:
		return ROLE_WARNING;
	case RISK_MAJOR:
		return ROLE_ALARM;
	case RISK_CRITICAL:
		return ROLE_CRITICAL;
	}
	return ROLE_MUTED;
}

/* What sorting compares, computed once per meter per call. */
struct sort_row {
	size_t meter;
	double key;
	const char *name;
};

static struct ui *sort_ui;

static double row_key(struct ui *ui, size_t i)
{
	const struct live_meter *m = live_meter_const(ui->live, i);
	struct analysis_input in;
	struct analysis_params par;
	struct analysis_result r;

	switch (ui->sort) {
	case SORT_STATUS: {
		/* worst first when descending: down, stale, unknown, ok */
		static const double rank[] = { [COMM_UNKNOWN] = 1, [COMM_OK] = 0,
					       [COMM_STALE] = 2, [COMM_DOWN] = 3 };
		return rank[ui_meter_comm(ui, m)];
	}
	case SORT_AGE:
		return m->last_sample_us == 0 ? INFINITY : (double)(ui->now_us - m->last_sample_us);
	case SORT_POWER:
	case SORT_PF:
	case SORT_UNBALANCE:
		live_analysis_input(m, ui->now_us, &in);
		live_analysis_params(m, ui->cfg, &par);
		analysis_compute(&in, &par, &r);
		if (ui->sort == SORT_POWER)
			return r.p_total;
		if (ui->sort == SORT_PF)
			return fabs(r.pf_total);
		return fmax(isnan(r.v_unb_nema) ? -1 : r.v_unb_nema,
			    isnan(r.i_unb_nema) ? -1 : r.i_unb_nema);
	case SORT_CONFIG:
	case SORT_NAME:
	case SORT__COUNT:
		break;
	}
	return (double)i;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct sort_row *x = a, *y = b;
	int c = 0;

	if (sort_ui->sort == SORT_NAME) {
		c = util_strcasecmp(x->name, y->name);
	} else {
		/* Unknown (NaN) values always go last, whatever the direction. */
		bool xn = isnan(x->key), yn = isnan(y->key);

		if (xn || yn)
			return xn == yn ? (x->meter > y->meter) - (x->meter < y->meter) : xn ? 1 : -1;
		c = (x->key > y->key) - (x->key < y->key);
	}
	if (sort_ui->sort_desc)
		c = -c;
	if (c == 0)
		c = (x->meter > y->meter) - (x->meter < y->meter);
	return c;
}

static bool matches(const struct config_meter *cm, const char *filter)
{
	if (filter[0] == '\0')
		return true;
	return strcasestr(cm->name, filter) != NULL ||
	       (cm->description != NULL && strcasestr(cm->description, filter) != NULL) ||
	       strcasestr(cm->profile_name, filter) != NULL;
}

size_t ui_visible_meters(struct ui *ui, size_t *out, size_t max)
{
	size_t n = live_count(ui->live), i, k = 0;
	struct sort_row *rows = util_calloc(n ? n : 1, sizeof(*rows));

	for (i = 0; i < n; i++) {
		const struct live_meter *m = live_meter_const(ui->live, i);

		if (!matches(m->cfg, ui->filter))
			continue;
		rows[k].meter = i;
		rows[k].name = m->cfg->name;
		rows[k].key = row_key(ui, i);
		k++;
	}
	if (ui->sort != SORT_CONFIG || ui->sort_desc) {
		sort_ui = ui;
		qsort(rows, k, sizeof(*rows), cmp_rows);
		sort_ui = NULL;
	}
	for (i = 0; i < k && i < max; i++)
		out[i] = rows[i].meter;
	free(rows);
	return k < max ? k : max;
}

/* The operator: the login name (or $USER), through [operators]. */
static void set_operator(struct ui *ui)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *login = pw != NULL && pw->pw_name != NULL ? pw->pw_name : getenv("USER");

	if (login == NULL || login[0] == '\0')
		login = "operator";
	util_sanitize(ui->operator_name, sizeof(ui->operator_name),
		      config_operator(ui->cfg, login));
}

/* ---- layout ---- */

static void layout(struct ui *ui)
{
	if (frame.header != NULL)
		delwin(frame.header);
	if (frame.status != NULL)
		delwin(frame.status);
	if (frame.banner != NULL)
		delwin(frame.banner);
	if (ui->body != NULL)
		delwin(ui->body);
	frame.header = frame.status = frame.banner = ui->body = NULL;
	getmaxyx(stdscr, ui->rows, ui->cols);
	frame.too_small = ui->rows < UI_MIN_ROWS || ui->cols < UI_MIN_COLS;
	if (frame.too_small)
		return;
	frame.header = newwin(1, ui->cols, 0, 0);
	frame.banner = newwin(1, ui->cols, 1, 0);
	ui->body = newwin(ui->rows - 3, ui->cols, 2, 0);
	frame.status = newwin(1, ui->cols, ui->rows - 1, 0);
	if (frame.header == NULL || frame.banner == NULL || ui->body == NULL ||
	    frame.status == NULL)
		util_fail("cannot create the console's windows");
	leaveok(frame.header, TRUE);
	leaveok(frame.banner, TRUE);
	leaveok(ui->body, TRUE);
	leaveok(frame.status, TRUE);
}

/* ---- the frame's parts ---- */

static void draw_header(struct ui *ui)
{
	WINDOW *w = frame.header;
	int x = 0, i;

	wbkgdset(w, ' ' | draw_attr(ROLE_HEADER));
	werase(w);
	x += draw_text(w, 0, x, 12, ROLE_HEADER, " phasor ");
	x += draw_text(w, 0, x, ui->cols / 3, ROLE_ACCENT, ui->cfg->site.name);
	x += 2;
	for (i = 0; i < VIEW__COUNT && x < ui->cols; i++) {
		char tab[32];
		bool on = (enum ui_view)i == ui->view;

		snprintf(tab, sizeof(tab), on ? "[%c %s]" : " %c %s ", views[i]->hotkey, views[i]->name);
		x += draw_text(w, 0, x, ui->cols - x, on ? ROLE_ACCENT : ROLE_HEADER, tab);
	}
	if (ui->read_only && x + 12 < ui->cols)
		draw_text_right(w, 0, x, ui->cols - x - 1, ROLE_WARNING, "READ-ONLY");
}

/*
 * The alarm banner, on every view: unacknowledged alarms by priority and
 * the newest of the highest priority, or a quiet line when all is well.
 */
static void draw_banner(struct ui *ui)
{
	static const char *const word[PRIO__COUNT] = { "crit", "high", "med", "low", "diag" };
	WINDOW *w = frame.banner;
	const struct alarm_engine *e = view_alarm_engine(ui);
	struct alarm_counts c;
	unsigned unack = 0, active = 0;
	int x = 0, p;
	char buf[256];

	wbkgdset(w, ' ' | draw_attr(ROLE_NORMAL));
	werase(w);
	if (e == NULL)
		return;
	alarm_counts(e, &c);
	for (p = 0; p < PRIO__COUNT; p++) {
		unack += c.unack[p];
		active += c.active[p];
	}
	if (unack == 0) {
		snprintf(buf, sizeof(buf), " %s no unacknowledged alarm%s", draw_symbol(SYM_OK),
			 active ? "" : ", none active");
		x += draw_text(w, 0, x, ui->cols, active ? ROLE_WARNING : ROLE_MUTED, buf);
		if (active) {
			snprintf(buf, sizeof(buf), "; %u active (acknowledged)", active);
			draw_text(w, 0, x, ui->cols - x, ROLE_WARNING, buf);
		}
		return;
	}
	for (p = 0; p < PRIO__COUNT; p++)
		if (c.unack[p] > 0)
			break;
	snprintf(buf, sizeof(buf), " %s ALARMS", draw_symbol(SYM_ALARM));
	x += draw_text(w, 0, x, ui->cols, view_prio_role(p), buf);
	for (p = 0; p < PRIO__COUNT && x < ui->cols; p++) {
		if (c.unack[p] == 0 && p > PRIO_LOW)
			continue;
		snprintf(buf, sizeof(buf), " %u %s", c.unack[p], word[p]);
		x += draw_text(w, 0, x, ui->cols - x, c.unack[p] ? view_prio_role(p) : ROLE_MUTED, buf);
	}
	if (c.newest >= 0 && (size_t)c.newest < alarm_count(e) && x + 10 < ui->cols) {
		const struct alarm_inst *a = alarm_get(e, (size_t)c.newest);
		char hm[16];

		snprintf(buf, sizeof(buf), " | %s %s: %s", view_hhmm(a->raised_us, hm, sizeof(hm)),
			 a->meter_name, a->def->message != NULL ? a->def->message : a->def->name);
		x += draw_text(w, 0, x, ui->cols - x - (ui->view == VIEW_ALARMS ? 0 : 8),
			       view_prio_role(a->def->priority), buf);
		if (ui->view != VIEW_ALARMS)
			draw_text_right(w, 0, x, ui->cols - x, ROLE_MUTED, " 3:list ");
	}
}

/* The terminal bell once per new local critical or high alarm. */
static void ring_bell(struct ui *ui)
{
	uint64_t raised = hub_alarm_raises_high(ui->hub);

	if (raised > ui->bell_seen) {
		ui->bell_seen = raised;
		if (ui->cfg->console.bell)
			beep();
	}
}

/* The right end of the status bar. */
static const char *status_keys(const struct ui *ui)
{
	return ui->read_only ? "read-only ?:help q:quit " : "?:help q:quit ";
}

/*
 * An attached console's first word: whether the recorder it follows is
 * there (its lock held) and speaking (a status row in the last few
 * seconds). Returns false when there is nothing of it to show beyond.
 */
static bool draw_recorder(struct ui *ui, const struct hub_status *hs, int *x)
{
	WINDOW *w = frame.status;
	char buf[96], a[16];

	if (hs->mode != HUB_ATTACHED)
		return true;
	if (!hs->recorder_up) {
		fmt_age(ui->now_us - hs->recorder_since_us, a, sizeof(a));
		snprintf(buf, sizeof(buf), " RECORDER GONE %s ", hs->recorder_since_us > 0 ? a : "");
		*x += draw_text(w, 0, *x, ui->cols - *x, ROLE_CRITICAL, buf);
		return false;
	}
	if (hs->heartbeat_us == 0 || ui->now_us - hs->heartbeat_us > UI_RECORDER_SILENT_US) {
		fmt_age(ui->now_us - hs->heartbeat_us, a, sizeof(a));
		snprintf(buf, sizeof(buf), " recorder silent %s ", hs->heartbeat_us > 0 ? a : "");
		*x += draw_text(w, 0, *x, ui->cols - *x, ROLE_ALARM, buf);
		return false;
	}
	*x += draw_text(w, 0, *x, ui->cols - *x, ROLE_STATUS,
			hs->history_loading ? " attached (loading) " : " attached ");
	return true;
}

static void draw_status(struct ui *ui)
{
	WINDOW *w = frame.status;
	struct hub_status hs;
	const struct source_link *links;
	size_t n, i, up = 0;
	struct store_stats ss;
	char clock[16], buf[160];
	time_t now = (time_t)(ui->now_us / 1000000);
	struct tm tm;
	int x = 0;
	enum theme_role r;

	hub_status(ui->hub, &hs);
	links = hs.links;
	n = hs.nlinks;
	wbkgdset(w, ' ' | draw_attr(ROLE_STATUS));
	werase(w);
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), " %H:%M:%S ", &tm);
	x += draw_text(w, 0, x, 10, ROLE_STATUS, clock);
	if (!draw_recorder(ui, &hs, &x))
		hs.has_store = hs.has_sync = false, n = 0;

	for (i = 0; i < n; i++)
		if (links[i].state == LINK_UP)
			up++;
	r = up == n ? ROLE_STATUS : up == 0 ? ROLE_CRITICAL : ROLE_ALARM;
	snprintf(buf, sizeof(buf), " %s %zu/%zu up ", n == 1 ? "link" : "links", up, n);
	if (hs.mode != HUB_ATTACHED || hs.recorder_up)
		x += draw_text(w, 0, x, ui->cols - x, r, buf);

	if (hs.has_store) {
		/* A damaged buffer was moved aside at start: said until exit. */
		bool replaced = hs.store_replaced;

		ss = hs.store;
		if (ss.state == STORE_OK && ss.dropped == 0)
			snprintf(buf, sizeof(buf), " buffer ok%s%s ",
				 ss.queued > 10000 ? " (catching up)" : "",
				 replaced ? " (new file: damaged one moved aside)" : "");
		else
			snprintf(buf, sizeof(buf), " buffer %s: %zu queued, %llu dropped ",
				 store_state_name(ss.state), ss.queued,
				 (unsigned long long)ss.dropped);
		x += draw_text(w, 0, x, ui->cols - x,
			       ss.state != STORE_OK	    ? ROLE_CRITICAL
			       : ss.dropped > 0 || replaced ? ROLE_ALARM
							    : ROLE_STATUS,
			       buf);
	}
	if (hs.has_sync) {
		/* " db ok 0 " / " db down 12k 5m " / " db ok 0, 2 quarantined ":
		 * connection, backlog, oldest, quarantined rows. */
		struct sync_stats ys = hs.sync;
		char cnt[16], a[16] = "";

		if (ys.backlog < 10000)
			snprintf(cnt, sizeof(cnt), "%lld",
				 (long long)(ys.backlog > 0 ? ys.backlog : 0));
		else if (ys.backlog < 10000000)
			snprintf(cnt, sizeof(cnt), "%lldk", (long long)(ys.backlog / 1000));
		else
			snprintf(cnt, sizeof(cnt), "%lldM", (long long)(ys.backlog / 1000000));
		if (ys.oldest_unsynced_us > 0 && ui->now_us - ys.oldest_unsynced_us > 60000000)
			fmt_age(ui->now_us - ys.oldest_unsynced_us, a, sizeof(a));
		snprintf(buf, sizeof(buf), " db %s %s%s%s ", ys.connected ? "ok" : "down", cnt,
			 a[0] ? " " : "", a);
		/* Rows the server refused wait in the local quarantine (phasor
		 * sync --quarantine): "db ok" alone would hide them. Spelled out
		 * when it fits before the keys, else "q647". */
		if (ys.quarantined > 0) {
			size_t len = strlen(buf) - 1;
			int room = ui->cols - x - (int)strlen(status_keys(ui));

			snprintf(buf + len, sizeof(buf) - len, ", %lld quarantined ",
				 (long long)ys.quarantined);
			if ((int)strlen(buf) > room)
				snprintf(buf + len, sizeof(buf) - len, " q%lld ",
					 (long long)ys.quarantined);
		}
		x += draw_text(w, 0, x, ui->cols - x,
			       !ys.connected || ys.quarantined > 0 ? ROLE_ALARM : ROLE_STATUS, buf);
	}
	if (ui->note != NULL && ui->note[0] != '\0' && x < ui->cols - 30)
		x += draw_text(w, 0, x, ui->cols - x - 24, ROLE_WARNING, ui->note);
	draw_text_right(w, 0, x, ui->cols - x, ROLE_STATUS, status_keys(ui));
}

static const char *const global_help[] = {
	"1 2 3 4 5   overview, meter, alarms, trends, sources",
	"Tab S-Tab   next / previous view",
	"+ -         refresh interval slower / faster",
	"Ctrl-L      repaint the whole screen",
	"F1 ?        this help (any key closes it)",
	"q F10       quit",
	NULL,
};

static void draw_help(struct ui *ui)
{
	const char *const *vh = views[ui->view]->help;
	int lines = 0, width = 60, h, w, y, i;
	char title[64];

	for (i = 0; global_help[i] != NULL; i++)
		lines++;
	for (i = 0; vh != NULL && vh[i] != NULL; i++)
		lines++;
	h = lines + 6;
	if (h > ui->rows - 2)
		h = ui->rows - 2;
	w = width < ui->cols - 4 ? width : ui->cols - 4;
	if (frame.help != NULL)
		delwin(frame.help);
	frame.help = newwin(h, w, (ui->rows - h) / 2, (ui->cols - w) / 2);
	if (frame.help == NULL)
		return;
	wbkgdset(frame.help, ' ' | draw_attr(ROLE_NORMAL));
	werase(frame.help);
	if (draw_is_ascii())
		wborder(frame.help, '|', '|', '-', '-', '+', '+', '+', '+');
	else
		box(frame.help, 0, 0);
	snprintf(title, sizeof(title), " Help: %s ", views[ui->view]->name);
	draw_text(frame.help, 0, 2, w - 4, ROLE_ACCENT, title);
	y = 1;
	for (i = 0; global_help[i] != NULL && y < h - 1; i++)
		draw_text(frame.help, y++, 2, w - 4, ROLE_NORMAL, global_help[i]);
	if (vh != NULL && y < h - 1) {
		y++;
		for (i = 0; vh[i] != NULL && y < h - 1; i++)
			draw_text(frame.help, y++, 2, w - 4, ROLE_NORMAL, vh[i]);
	}
}

static void draw_too_small(struct ui *ui)
{
	char msg[96];
	int y = ui->rows / 2;

	erase();
	snprintf(msg, sizeof(msg), "terminal too small: %dx%d, phasor needs %dx%d", ui->cols,
		 ui->rows, UI_MIN_COLS, UI_MIN_ROWS);
	draw_text(stdscr, y > 0 ? y - 1 : 0, 0, ui->cols, ROLE_ALARM, msg);
	draw_text(stdscr, y, 0, ui->cols, ROLE_MUTED, "enlarge the window, or q to quit");
	wnoutrefresh(stdscr);
}

static void redraw_frame(struct ui *ui);

/* One frame, timed from the first computation to doupdate's return. */
static void redraw(struct ui *ui)
{
	int64_t t0 = util_mono_us(), dt;

	redraw_frame(ui);
	dt = util_mono_us() - t0;
	render.frames++;
	render.total_us += dt;
	if (dt > render.max_us)
		render.max_us = dt;
}

static void write_stats(void)
{
	const char *path = getenv("PHASOR_STATS_FILE");
	FILE *f;

	log_info("console: %ld frames, render mean %lld us, max %lld us", render.frames,
		 (long long)(render.frames ? render.total_us / render.frames : 0),
		 (long long)render.max_us);
	if (path == NULL || (f = fopen(path, "w")) == NULL)
		return;
	fprintf(f, "frames=%ld render_mean_us=%lld render_max_us=%lld\n", render.frames,
		(long long)(render.frames ? render.total_us / render.frames : 0),
		(long long)render.max_us);
	fclose(f);
}

static void redraw_frame(struct ui *ui)
{
	ui->now_us = util_now_us();
	kpi_update(ui->kpi, ui->live, ui->now_us);
	if (frame.too_small) {
		draw_too_small(ui);
		doupdate();
		return;
	}
	draw_header(ui);
	draw_banner(ui);
	ring_bell(ui);
	werase(ui->body);
	views[ui->view]->draw(ui);
	draw_status(ui);
	wnoutrefresh(frame.header);
	wnoutrefresh(frame.banner);
	wnoutrefresh(ui->body);
	wnoutrefresh(frame.status);
	if (ui->help) {
		draw_help(ui);
		if (frame.help != NULL) {
			touchwin(frame.help);
			wnoutrefresh(frame.help);
		}
	}
	doupdate();
}

/* ---- keys ---- */

static int global_key(struct ui *ui, int ch)
{
	size_t i;

	if (ui->help) {
		/* Any key closes the help; q still quits. */
		ui->help = false;
		return (ch == 'q' || ch == KEY_F(10)) ? UI_QUIT : UI_HANDLED | UI_REDRAW;
	}
	switch (ch) {
	case 'q':
	case KEY_F(10):
		return UI_QUIT;
	case '?':
	case KEY_F(1):
		ui->help = true;
		return UI_HANDLED | UI_REDRAW;
	case '\t':
		ui->view = (enum ui_view)((ui->view + 1) % VIEW__COUNT);
		ui->scroll = 0;
		return UI_HANDLED | UI_REDRAW;
	case KEY_BTAB:
		ui->view = (enum ui_view)((ui->view + VIEW__COUNT - 1) % VIEW__COUNT);
		ui->scroll = 0;
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
		return UI_HANDLED | UI_REDRAW;
	case KEY_CTRL_L:
		clearok(curscr, TRUE);
		return UI_HANDLED | UI_REDRAW;
	default:
		break;
	}
	for (i = 0; i < VIEW__COUNT; i++) {
		if (ch == views[i]->hotkey) {
			ui->view = (enum ui_view)i;
			ui->scroll = 0;
			return UI_HANDLED | UI_REDRAW;
		}
	}
	return UI_IGNORED;
}

static int handle_key(struct ui *ui, int ch)
{
	int r;

	if (ch == KEY_RESIZE)
		return UI_HANDLED | UI_REDRAW;
	if (frame.too_small)
		return ch == 'q' || ch == KEY_F(10) ? UI_QUIT : UI_IGNORED;
	if (!ui->help && views[ui->view]->key != NULL) {
		r = views[ui->view]->key(ui, ch);
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

static void resize_from_tty(struct ui *ui)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	layout(ui);
	clearok(curscr, TRUE);
}

/* What the loop's callbacks of ui_run share. */
struct ui_loop {
	struct ui *ui;
	struct hub *hub;
	bool redraw_now;     /* a key, a resize, an urgent alarm: redraw now */
	bool refresh_due;    /* the refresh interval has passed */
};

static void on_signal(struct loop *l, int signo, void *ctx)
{
	struct ui_loop *u = ctx;

	if (signo == SIGWINCH) {
		resize_from_tty(u->ui);
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

static void on_keys(struct loop *l, int fd, short revents, void *ctx)
{
	struct ui_loop *u = ctx;
	int keys = 0, avail = 0, ch;

	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	while ((ch = getch()) != ERR) {
		int r = handle_key(u->ui, ch);

		keys++;
		if (ch == KEY_RESIZE)
			layout(u->ui);
		if (r & UI_QUIT)
			loop_stop(l);
		if (r & (UI_REDRAW | UI_HANDLED))
			u->redraw_now = true;
	}
	/* A hung-up terminal reports POLLHUP, often with POLLIN and nothing to
	 * read: without leaving here the loop would spin. */
	if ((revents & (POLLHUP | POLLERR)) ||
	    (keys == 0 && ioctl(fd, FIONREAD, &avail) == 0 && avail == 0)) {
		log_info("console: the terminal went away");
		loop_stop(l);
	}
}

static void on_tick(struct loop *l, int id, void *ctx)
{
	struct ui_loop *u = ctx;

	(void)l;
	(void)id;
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
	struct theme *theme = NULL;
	struct diag d;
	struct hub *hub = NULL;
	struct kpi *kpi = NULL;
	SCREEN *screen = NULL;
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	struct loop *lp = NULL;
	struct ui_loop u = { .ui = &ui, .redraw_now = true };
	char *cause = NULL;
	int rc = EXIT_FAILURE, refresh_timer, lock_fd = -1;
	uint64_t outcome_seen = 0;
	bool attached = false;
	long frames = 0;
	uint64_t urgent_seen = 0;

	memset(&ui, 0, sizeof(ui));
	memset(&frame, 0, sizeof(frame));
	memset(&render, 0, sizeof(render));
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
	ui.cfg = cfg;
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
	if (cfg->store.path != NULL) {
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
	ui.hub = hub;
	ui.live = hub_live(hub);
	ui.alarm_engine = hub_alarms(hub);
	set_operator(&ui);
	/* Alarms restored from the journal do not ring again. */
	ui.bell_seen = hub_alarm_raises_high(hub);
	kpi = kpi_new_day(cfg, &follow_kpi_day_ops);
	ui.kpi = kpi;

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
	layout(&ui);
	log_info("console: %zu meter(s), %dx%d, %s, %s", cfg->nmeters, ui.cols, ui.rows,
		 ui.ascii ? "ascii" : "utf-8", ui.color ? "colour" : "no colour");

	u.hub = hub;
	loop_add_fd(lp, STDIN_FILENO, POLLIN, on_keys, &u);
	loop_add_fd(lp, hub_fd(hub), POLLIN, on_hub, &u);
	loop_add_timer(lp, 0, TICK_MS, on_tick, &u);
	refresh_timer = loop_add_timer(lp, 0, 0, on_refresh, &u);
	while (!loop_stopped(lp)) {
		bool throttled = hub_throttled(hub);
		int timeout = u.redraw_now ? 0 : -1;

		/* While throttled the hub's fd stays readable: not polled, and
		 * the hub dispatches every THROTTLE_MS instead. */
		loop_fd_events(lp, hub_fd(hub), throttled ? 0 : POLLIN);
		if (throttled && (timeout < 0 || timeout > THROTTLE_MS))
			timeout = THROTTLE_MS;
		if (loop_run_once(lp, timeout) < 0)
			break;
		if (throttled)
			hub_dispatch(hub);
		/* Another console's action, a new critical or high alarm: now,
		 * not at the next refresh. */
		if (hub_alarm_urgent(hub) != urgent_seen) {
			urgent_seen = hub_alarm_urgent(hub);
			u.redraw_now = true;
		}
		/* What the recorder made of this console's last request. */
		if (hub_request_outcome(hub, &outcome_seen, ui.alarms.message,
					sizeof(ui.alarms.message), &ui.alarms.message_error))
			ui.alarms.message_us = util_now_us();
		if (!loop_stopped(lp) && (u.redraw_now || u.refresh_due)) {
			redraw(&ui);
			u.redraw_now = false;
			u.refresh_due = false;
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
		if (frame.help != NULL)
			delwin(frame.help);
		if (frame.header != NULL)
			delwin(frame.header);
		if (frame.banner != NULL)
			delwin(frame.banner);
		if (frame.status != NULL)
			delwin(frame.status);
		if (ui.body != NULL)
			delwin(ui.body);
		endwin();
		curses_on = false;
	}
	if (screen != NULL)
		delscreen(screen);
	util_set_fail_hook(NULL);
	free(cause);
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
