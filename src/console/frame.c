// SPDX-License-Identifier: MIT
/*
 * frame: what surrounds the console's views (frame.h). A header line (" phasor ",
 * the site, the tabs 1..6, READ-ONLY), the alarm banner, the view's window
 * (struct ui.body) and the status bar (clock, the recorder when attached,
 * links, buffer, central database, a notice, the key hints); the help
 * overlay is a window on top. Below 80x24 a "terminal too small" screen
 * replaces it all.
 *
 * Like the views it reads only the plant (plant.h): the instant shown,
 * the alarm engine, the status of where the data comes from. Each frame
 * erases and redraws the windows into ncurses' virtual screen and ends with
 * wnoutrefresh + doupdate, so only the cells that changed reach the
 * terminal. UI thread only.
 */
#include "phasor/frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/alarm.h"
#include "phasor/fmt.h"
#include "phasor/util.h"
#include "phasor/view.h"

/* An attached console's recorder writes its status every second. */
#define FRAME_RECORDER_SILENT_US 3000000

struct frame {
	const struct view_ops *const *views;
	WINDOW *header, *banner, *status, *help;
	bool too_small;
	uint64_t bell_seen;       /* plant.raises_high already rung for */
};

struct frame *frame_new(const struct view_ops *const *views, uint64_t bell_seen)
{
	struct frame *fr = util_calloc(1, sizeof(*fr));

	fr->views = views;
	fr->bell_seen = bell_seen;
	return fr;
}

/* Delete the header, banner, status bar and body windows. */
static void drop_windows(struct frame *fr, struct ui *ui)
{
	if (fr->header != NULL)
		delwin(fr->header);
	if (fr->status != NULL)
		delwin(fr->status);
	if (fr->banner != NULL)
		delwin(fr->banner);
	if (ui->body != NULL)
		delwin(ui->body);
	fr->header = fr->status = fr->banner = ui->body = NULL;
}

void frame_free(struct frame *fr, struct ui *ui)
{
	if (fr == NULL)
		return;
	if (fr->help != NULL)
		delwin(fr->help);
	drop_windows(fr, ui);
	free(fr);
}

bool frame_too_small(const struct frame *fr)
{
	return fr->too_small;
}

/* ---- layout ---- */

void frame_layout(struct frame *fr, struct ui *ui)
{
	drop_windows(fr, ui);
	getmaxyx(stdscr, ui->rows, ui->cols);
	fr->too_small = ui->rows < UI_MIN_ROWS || ui->cols < UI_MIN_COLS;
	if (fr->too_small)
		return;
	fr->header = newwin(1, ui->cols, 0, 0);
	fr->banner = newwin(1, ui->cols, 1, 0);
	ui->body = newwin(ui->rows - 3, ui->cols, 2, 0);
	fr->status = newwin(1, ui->cols, ui->rows - 1, 0);
	if (fr->header == NULL || fr->banner == NULL || ui->body == NULL ||
	    fr->status == NULL)
		util_fail("cannot create the console's windows");
	leaveok(fr->header, TRUE);
	leaveok(fr->banner, TRUE);
	leaveok(ui->body, TRUE);
	leaveok(fr->status, TRUE);
}

/* ---- the frame's parts ---- */

/* A tab: "[3 Alarms]" when on; " 3 Alarms " (level 0), "3 Alarms" (1), "3" (2). */
static void tab_text(const struct frame *fr, int i, bool on, int level, char *buf, size_t size)
{
	if (on)
		snprintf(buf, size, "[%c %s]", fr->views[i]->hotkey, fr->views[i]->name);
	else if (level == 0)
		snprintf(buf, size, " %c %s ", fr->views[i]->hotkey, fr->views[i]->name);
	else if (level == 1)
		snprintf(buf, size, "%c %s", fr->views[i]->hotkey, fr->views[i]->name);
	else
		snprintf(buf, size, "%c", fr->views[i]->hotkey);
}

/* The tabs' width at a level (separated by a space from level 1 on). */
static int tabs_width(const struct frame *fr, const struct ui *ui, int level)
{
	char tab[32];
	int i, n = 0;

	for (i = 0; i < VIEW__COUNT; i++) {
		if (!ui_view_shown(ui, (enum ui_view)i))
			continue;
		tab_text(fr, i, (enum ui_view)i == ui->view, level, tab, sizeof(tab));
		n += draw_width(tab) + (level > 0 && i > 0);
	}
	return n;
}

static void draw_header(struct frame *fr, struct ui *ui)
{
	WINDOW *w = fr->header;
	const char *site = ui->plant->cfg->site.name;
	int x = 0, i, level, site_w = draw_width(site), room;

	wbkgdset(w, ' ' | draw_attr(ROLE_HEADER));
	werase(w);
	if (site_w > ui->cols / 3)
		site_w = ui->cols / 3;
	/* The tabs as wide as they fit beside the site's name: spaced, then
	 * packed (the name cut to fit, 10 columns at least), then numbers
	 * beside the view's own name. */
	for (level = 0; level < 2; level++) {
		room = ui->cols - 8 - 2 - tabs_width(fr, ui, level);
		if (room >= site_w || (level == 1 && room >= 10))
			break;
	}
	if (level == 2)
		room = ui->cols - 8 - 2 - tabs_width(fr, ui, level);
	if (room < site_w)
		site_w = room > 0 ? room : 0;
	x += draw_text(w, 0, x, 12, ROLE_HEADER, " phasor ");
	x += draw_text(w, 0, x, site_w, ROLE_ACCENT, site);
	x += 2;
	for (i = 0; i < VIEW__COUNT && x < ui->cols; i++) {
		char tab[32];
		bool on = (enum ui_view)i == ui->view;

		if (!ui_view_shown(ui, (enum ui_view)i))
			continue;
		if (level > 0 && i > 0)
			x++;
		tab_text(fr, i, on, level, tab, sizeof(tab));
		x += draw_text(w, 0, x, ui->cols - x, on ? ROLE_ACCENT : ROLE_HEADER, tab);
	}
	if (ui->read_only && x + 12 < ui->cols)
		draw_text_right(w, 0, x, ui->cols - x - 1, ROLE_WARNING, "READ-ONLY");
}

/*
 * The alarm banner, on every view: unacknowledged alarms by priority and
 * the newest of the highest priority, or a quiet line when all is well.
 */
static void draw_banner(struct frame *fr, struct ui *ui)
{
	static const char *const word[PRIO__COUNT] = { "crit", "high", "med", "low", "diag" };
	WINDOW *w = fr->banner;
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
static void ring_bell(struct frame *fr, struct ui *ui)
{
	uint64_t raised = ui->plant->raises_high;

	if (raised > fr->bell_seen) {
		fr->bell_seen = raised;
		if (ui->plant->cfg->console.bell)
			beep();
	}
}

/* The right end of the status bar: the refresh interval once + or - changed it, the keys. */
static const char *status_keys(const struct ui *ui)
{
	static char buf[128];
	char every[24] = "";

	if (ui->refresh_changed) {
		if (ui->refresh_ms < 1000)
			snprintf(every, sizeof(every), "refresh %dms ", ui->refresh_ms);
		else
			snprintf(every, sizeof(every), "refresh %ds ", ui->refresh_ms / 1000);
	}
	snprintf(buf, sizeof(buf), "%s%s%s%.24s%s?:help q:quit ", every,
		 ui->read_only ? "read-only " : "",
		 !ui->auth || ui->read_only ? "" : ui->signed_in[0] ? "op " : "I:sign in ",
		 ui->auth && !ui->read_only ? ui->signed_in : "",
		 ui->auth && !ui->read_only && ui->signed_in[0] ? " " : "");
	return buf;
}

/*
 * An attached console's first word: whether the recorder it follows is
 * there (its lock held) and speaking (a status row in the last few
 * seconds). Returns false when there is nothing of it to show beyond.
 */
static bool draw_recorder(struct frame *fr, struct ui *ui, int *x)
{
	const struct plant *p = ui->plant;
	int64_t now = p->now_us;
	WINDOW *w = fr->status;
	char buf[96], a[16];

	if (p->status.mode != HUB_ATTACHED) {
		/* This console acquires and writes the buffer itself (no
		 * recorder ran when it started): quitting it stops recording. */
		if (p->has_status && p->status.has_store)
			*x += draw_text(w, 0, *x, ui->cols - *x, ROLE_STATUS, " recording ");
		return true;
	}
	if (!p->status.recorder_up) {
		fmt_age(now - p->status.recorder_since_us, a, sizeof(a));
		snprintf(buf, sizeof(buf), " RECORDER GONE %s ", p->status.recorder_since_us > 0 ? a : "");
		*x += draw_text(w, 0, *x, ui->cols - *x, ROLE_CRITICAL, buf);
		return false;
	}
	if (p->status.heartbeat_us == 0 || now - p->status.heartbeat_us > FRAME_RECORDER_SILENT_US) {
		fmt_age(now - p->status.heartbeat_us, a, sizeof(a));
		snprintf(buf, sizeof(buf), " recorder silent %s ", p->status.heartbeat_us > 0 ? a : "");
		*x += draw_text(w, 0, *x, ui->cols - *x, ROLE_ALARM, buf);
		return false;
	}
	*x += draw_text(w, 0, *x, ui->cols - *x, ROLE_STATUS,
			p->status.history_loading ? " attached (loading) " : " attached ");
	return true;
}

/*
 * A replay's status bar is its playback bar: REPLAY, the cursor's local
 * date and time, playing or paused and the speed, the position in the
 * recording, and the last thing a playback key said.
 */
static void draw_replay_bar(struct frame *fr, struct ui *ui)
{
	WINDOW *w = fr->status;
	const struct plant_replay *rp = &ui->plant->replay;
	time_t now = (time_t)(ui->plant->now_us / 1000000);
	int64_t span = rp->last_us - rp->first_us;
	double at = span > 0 ? (double)(ui->plant->now_us - rp->first_us) / (double)span : 1;
	char when[32], buf[160], bar[17];
	const char *keys = rp->frozen ? " L:live [ ] { } Space ? q " : " Space [ ] { } < > n ? q ";
	struct tm tm;
	int x = 0, i, cells = (int)sizeof(bar) - 1;

	wbkgdset(w, ' ' | draw_attr(ROLE_STATUS));
	werase(w);
	localtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	x += draw_text(w, 0, x, ui->cols - x, ROLE_ACCENT, rp->frozen ? " FROZEN " : " REPLAY ");
	snprintf(buf, sizeof(buf), " %s %s %gx%s ", when, rp->playing ? "playing" : "paused",
		 rp->speed, rp->behind ? " (reading)" : "");
	x += draw_text(w, 0, x, ui->cols - x, rp->behind ? ROLE_WARNING : ROLE_STATUS, buf);
	if (ui->goto_on) {
		/* g: the time being typed, and why the last Enter did not go */
		snprintf(buf, sizeof(buf), " go to: %s_ ", ui->goto_input);
		x += draw_text(w, 0, x, ui->cols - x, ROLE_SELECTION, buf);
		snprintf(buf, sizeof(buf), " %s ",
			 ui->goto_error[0] ? ui->goto_error : "Enter, Esc; '2026-12-06 03:40', -10m, +1h");
		draw_text(w, 0, x, ui->cols - x, ui->goto_error[0] ? ROLE_WARNING : ROLE_MUTED, buf);
		return;
	}
	/* the position, unless a key's notice needs the room */
	if (rp->notice[0] == '\0' && ui->cols - x - (int)strlen(keys) >= cells + 7) {
		for (i = 0; i < cells; i++)
			bar[i] = i < (int)(at * cells + 0.5) ? '=' : '-';
		bar[cells] = '\0';
		snprintf(buf, sizeof(buf), "%s %3.0f %% ", bar, at * 100);
		x += draw_text(w, 0, x, ui->cols - x, ROLE_STATUS, buf);
	} else if (rp->notice[0] == '\0' && ui->cols - x - (int)strlen(keys) >= 6) {
		snprintf(buf, sizeof(buf), "%3.0f %% ", at * 100);
		x += draw_text(w, 0, x, ui->cols - x, ROLE_STATUS, buf);
	}
	if (rp->notice[0] != '\0') {
		snprintf(buf, sizeof(buf), " %s ", rp->notice);
		x += draw_text(w, 0, x, ui->cols - x - (int)strlen(keys), ROLE_WARNING, buf);
	}
	draw_text_right(w, 0, x, ui->cols - x, ROLE_STATUS, keys);
}

static void draw_status(struct frame *fr, struct ui *ui)
{
	WINDOW *w = fr->status;
	const struct plant *p = ui->plant;
	const struct source_link *links = p->status.links;
	size_t n = p->status.nlinks, up = 0, degraded = 0;
	bool has_store = p->status.has_store, has_sync = p->status.has_sync;
	char clock[16], buf[160];
	time_t now = (time_t)(p->now_us / 1000000);
	struct tm tm;
	int x = 0;
	enum theme_role r;

	if (p->replay.on) {
		draw_replay_bar(fr, ui);
		return;
	}
	wbkgdset(w, ' ' | draw_attr(ROLE_STATUS));
	werase(w);
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), " %H:%M:%S ", &tm);
	x += draw_text(w, 0, x, 10, ROLE_STATUS, clock);
	if (ui->signin_msg[0] != '\0' && !ui->signin_on) {
		/* [auth]: what the sign-in did, until the next key, in the room
		 * of the links and the buffer */
		snprintf(buf, sizeof(buf), " %s ", ui->signin_msg);
		x += draw_text(w, 0, x, ui->cols - x - (int)strlen(status_keys(ui)), ROLE_WARNING,
			       buf);
		draw_text_right(w, 0, x, ui->cols - x, ROLE_STATUS, status_keys(ui));
		return;
	}
	if (!draw_recorder(fr, ui, &x))
		has_store = has_sync = false, n = 0;

	/* Up: connected and a meter answers; "degraded": connected, no meter
	 * answers (plant_link), counted apart so it is not read as up. */
	plant_links_count(p, links, n, &up, &degraded);
	r = up == n ? ROLE_STATUS : up == 0 ? ROLE_CRITICAL : ROLE_ALARM;
	if (degraded > 0)
		snprintf(buf, sizeof(buf), " %s %zu/%zu up, %zu degraded ",
			 n == 1 ? "link" : "links", up, n, degraded);
	else
		snprintf(buf, sizeof(buf), " %s %zu/%zu up ", n == 1 ? "link" : "links", up, n);
	if (p->status.mode != HUB_ATTACHED || p->status.recorder_up)
		x += draw_text(w, 0, x, ui->cols - x, r, buf);

	if (has_store) {
		/* A damaged buffer was moved aside at start: said until exit. */
		bool replaced = p->buffer_replaced, ok = p->status.store.state == STORE_OK;
		uint64_t dropped = p->status.store.dropped;
		size_t queued = p->status.store.queued;

		char conv[32] = "";

		if (p->status.store.migrating && p->status.store.migrate_total > 0) {
			double done = (double)p->status.store.migrate_done /
				      (double)p->status.store.migrate_total;

			snprintf(conv, sizeof(conv), " (converting %.0f %%)",
				 100 * (done > 1 ? 1 : done));
		}
		if (ok && dropped == 0)
			snprintf(buf, sizeof(buf), " buffer ok%s%s%s ",
				 queued > 10000 ? " (catching up)" : "", conv,
				 replaced ? " (new file: damaged one moved aside)" : "");
		else
			snprintf(buf, sizeof(buf), " buffer %s: %zu queued, %llu dropped ",
				 plant_buffer_state(p), queued, (unsigned long long)dropped);
		x += draw_text(w, 0, x, ui->cols - x,
			       !ok ? ROLE_CRITICAL : dropped > 0 || replaced ? ROLE_ALARM : ROLE_STATUS,
			       buf);
	}
	if (has_sync) {
		/* " db ok 0 " / " db down 12k 5m " / " db ok 0, 2 quarantined ":
		 * connection, backlog, oldest, quarantined rows. */
		char cnt[16], a[16] = "";
		int64_t oldest = p->status.sync.oldest_unsynced_us, backlog = p->status.sync.backlog;
		bool connected = p->status.sync.connected;
		long long quarantined = (long long)p->status.sync.quarantined;

		if (backlog < 10000)
			snprintf(cnt, sizeof(cnt), "%lld", (long long)(backlog > 0 ? backlog : 0));
		else if (backlog < 10000000)
			snprintf(cnt, sizeof(cnt), "%lldk", (long long)(backlog / 1000));
		else
			snprintf(cnt, sizeof(cnt), "%lldM", (long long)(backlog / 1000000));
		if (oldest > 0 && p->now_us - oldest > 60000000)
			fmt_age(p->now_us - oldest, a, sizeof(a));
		snprintf(buf, sizeof(buf), " db %s %s%s%s ", connected ? "ok" : "down", cnt,
			 a[0] ? " " : "", a);
		/* Rows the server refused wait in the local quarantine (phasor
		 * sync --quarantine): "db ok" alone would hide them. Spelled out
		 * when it fits before the keys, else "q647". */
		if (quarantined > 0) {
			size_t len = strlen(buf) - 1;
			int room = ui->cols - x - (int)strlen(status_keys(ui));

			snprintf(buf + len, sizeof(buf) - len, ", %lld quarantined ", quarantined);
			if ((int)strlen(buf) > room)
				snprintf(buf + len, sizeof(buf) - len, " q%lld ", quarantined);
		}
		x += draw_text(w, 0, x, ui->cols - x,
			       !connected || quarantined > 0 ? ROLE_ALARM : ROLE_STATUS, buf);
	}
	if (ui->note != NULL && ui->note[0] != '\0' && x < ui->cols - 30)
		x += draw_text(w, 0, x, ui->cols - x - 24, ROLE_WARNING, ui->note);
	draw_text_right(w, 0, x, ui->cols - x, ROLE_STATUS, status_keys(ui));
}

static const char *const global_help[] = {
	"1 2 3 4 5 6 overview, meter, alarms, trends, sources, history",
	"Tab S-Tab   next / previous view",
	"+ -         refresh interval slower / faster",
	"Ctrl-L      repaint the whole screen",
	"F1 ?        this help (any key closes it, q and Esc too)",
	"q F10       quit (asks first if this console records)",
	"Z           (live) freeze: scroll back over the buffer; L: live",
	"I           ([auth]) sign in to act, or sign out",
	NULL,
};

/* The help's window, h x w in the middle, erased and boxed: false when none. */
static bool open_overlay(struct frame *fr, const struct ui *ui, int h, int w)
{
	if (fr->help != NULL)
		delwin(fr->help);
	fr->help = newwin(h, w, (ui->rows - h) / 2, (ui->cols - w) / 2);
	if (fr->help == NULL)
		return false;
	wbkgdset(fr->help, ' ' | draw_attr(ROLE_NORMAL));
	werase(fr->help);
	if (draw_is_ascii())
		wborder(fr->help, '|', '|', '-', '-', '+', '+', '+', '+');
	else
		box(fr->help, 0, 0);
	return true;
}

static const char *const replay_help[] = {
	"Space       play / pause (REPLAY bar: cursor, speed, position)",
	"> <         faster / slower: 1x 2x 10x 60x 600x 3600x",
	". ,         one poll forward / back",
	"] [  } {    one minute, one hour forward / back",
	"Home End    the recording's start, end",
	"n N         next / previous alarm event, in the alarm view",
	"g           go to a time (typed: '2026-12-06 03:40', -10m, +1h)",
	"S           the recording's sessions: Enter goes to one's start",
	"L Z         (a live console frozen with Z) back to live",
	"            (in a replay these keys come before the views')",
	NULL,
};

static void draw_help(struct frame *fr, struct ui *ui)
{
	const char *const *vh = fr->views[ui->view]->help;
	const char *const *rh = ui->plant->replay.on ? replay_help : NULL;
	int lines = 0, width = 66, h, w, y, i;
	char title[64];

	for (i = 0; global_help[i] != NULL; i++)
		lines++;
	for (i = 0; rh != NULL && rh[i] != NULL; i++)
		lines++;
	for (i = 0; vh != NULL && vh[i] != NULL; i++)
		lines++;
	h = lines + 6 + (rh != NULL);
	if (h > ui->rows - 2)
		h = ui->rows - 2;
	w = width < ui->cols - 4 ? width : ui->cols - 4;
	if (!open_overlay(fr, ui, h, w))
		return;
	snprintf(title, sizeof(title), " Help: %s ", fr->views[ui->view]->name);
	draw_text(fr->help, 0, 2, w - 4, ROLE_ACCENT, title);
	y = 1;
	for (i = 0; global_help[i] != NULL && y < h - 1; i++)
		draw_text(fr->help, y++, 2, w - 4, ROLE_NORMAL, global_help[i]);
	if (rh != NULL && y < h - 1) {
		y++;
		for (i = 0; rh[i] != NULL && y < h - 1; i++)
			draw_text(fr->help, y++, 2, w - 4, ROLE_NORMAL, rh[i]);
	}
	if (vh != NULL && y < h - 1) {
		y++;
		for (i = 0; vh[i] != NULL && y < h - 1; i++)
			draw_text(fr->help, y++, 2, w - 4, ROLE_NORMAL, vh[i]);
	}
}

/* A replay's session list (S): id, start, end, host, mode; Enter goes there. */
static void draw_sessions(struct frame *fr, struct ui *ui)
{
	const struct plant_replay *rp = &ui->plant->replay;
	int h = (int)rp->nsessions + 4, w = 72, y, first = 0, rows;
	size_t i;

	if (h > ui->rows - 2)
		h = ui->rows - 2;
	if (w > ui->cols - 2)
		w = ui->cols - 2;
	if (!open_overlay(fr, ui, h, w))
		return;
	draw_text(fr->help, 0, 2, w - 4, ROLE_ACCENT, " Sessions: Enter goes to its start, Esc closes ");
	rows = h - 3;
	if ((int)ui->session_sel >= rows)
		first = (int)ui->session_sel - rows + 1;
	draw_text(fr->help, 1, 2, w - 4, ROLE_MUTED,
		  "  #  start (local)        end                  host           mode");
	for (y = 2, i = (size_t)first; i < rp->nsessions && y < h - 1; i++, y++) {
		const struct plant_session *x = &rp->sessions[i];
		char a[32], b[32], line[128];
		time_t t = (time_t)(x->start_us / 1000000);
		struct tm tm;

		localtime_r(&t, &tm);
		strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm);
		if (x->end_us > 0) {
			t = (time_t)(x->end_us / 1000000);
			localtime_r(&t, &tm);
			strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S", &tm);
		} else {
			snprintf(b, sizeof(b), "(not closed)");
		}
		snprintf(line, sizeof(line), "%3lld  %-19s  %-19s  %-13.13s  %s", (long long)x->id,
			 a, b, x->host, x->mode);
		draw_text(fr->help, y, 2, w - 4, i == ui->session_sel ? ROLE_SELECTION : ROLE_NORMAL,
			  line);
	}
}

/* [auth]: the sign-in box (ui.c takes its keys): the name, the PIN as stars. */
static void draw_signin(struct frame *fr, struct ui *ui)
{
	int w = ui->cols < 56 ? ui->cols : 56, h = 7;
	char line[96], stars[64];
	size_t n = strlen(ui->signin_pin), i;

	if (!open_overlay(fr, ui, h, w))
		return;
	for (i = 0; i < n && i + 1 < sizeof(stars); i++)
		stars[i] = '*';
	stars[i] = '\0';
	draw_text(fr->help, 0, 2, w - 4, ROLE_ACCENT, " Sign in to act ");
	snprintf(line, sizeof(line), "Name: %s%s", ui->signin_name, ui->signin_stage == 0 ? "_" : "");
	draw_text(fr->help, 1, 2, w - 4, ui->signin_stage == 0 ? ROLE_SELECTION : ROLE_NORMAL, line);
	snprintf(line, sizeof(line), "PIN:  %s%s", stars, ui->signin_stage == 1 ? "_" : "");
	draw_text(fr->help, 2, 2, w - 4, ui->signin_stage == 1 ? ROLE_SELECTION : ROLE_NORMAL, line);
	draw_text(fr->help, 3, 2, w - 4, ROLE_WARNING, ui->signin_msg);
	draw_text(fr->help, 5, 2, w - 4, ROLE_MUTED, "Enter: next, sign in   Esc: cancel");
	touchwin(fr->help);
	wnoutrefresh(fr->help);
}

/* The console's own y/n question (ui->question), in a box over the middle. */
static void draw_question(struct frame *fr, struct ui *ui)
{
	int w = draw_width(ui->question) + 6, h = 3;

	if (w > ui->cols)
		w = ui->cols;
	if (!open_overlay(fr, ui, h, w))
		return;
	draw_text(fr->help, 1, 3, w - 6, ROLE_ALARM, ui->question);
	touchwin(fr->help);
	wnoutrefresh(fr->help);
}

static void draw_too_small(const struct ui *ui)
{
	char msg[96];
	int y = ui->rows / 2;

	erase();
	snprintf(msg, sizeof(msg), "terminal too small: %dx%d, phasor needs %dx%d", ui->cols,
		 ui->rows, UI_MIN_COLS, UI_MIN_ROWS);
	draw_text(stdscr, y > 0 ? y - 1 : 0, 0, ui->cols, ROLE_ALARM, msg);
	draw_text(stdscr, y, 0, ui->cols, ui->question != NULL ? ROLE_ALARM : ROLE_MUTED,
		  ui->question != NULL ? ui->question : "enlarge the window, or q to quit");
	wnoutrefresh(stdscr);
}


void frame_draw(struct frame *fr, struct ui *ui)
{
	if (fr->too_small) {
		draw_too_small(ui);
		doupdate();
		return;
	}
	draw_header(fr, ui);
	draw_banner(fr, ui);
	ring_bell(fr, ui);
	werase(ui->body);
	fr->views[ui->view]->draw(ui, ui->view_state[ui->view]);
	draw_status(fr, ui);
	wnoutrefresh(fr->header);
	wnoutrefresh(fr->banner);
	wnoutrefresh(ui->body);
	wnoutrefresh(fr->status);
	if (ui->help) {
		draw_help(fr, ui);
		if (fr->help != NULL) {
			touchwin(fr->help);
			wnoutrefresh(fr->help);
		}
	}
	if (ui->sessions_on && ui->plant->replay.on) {
		draw_sessions(fr, ui);
		if (fr->help != NULL) {
			touchwin(fr->help);
			wnoutrefresh(fr->help);
		}
	}
	if (ui->signin_on)
		draw_signin(fr, ui);
	if (ui->question != NULL)
		draw_question(fr, ui);
	doupdate();
}

