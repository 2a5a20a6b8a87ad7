// SPDX-License-Identifier: MIT
/*
 * Unit tests of the console's views, rendered into real ncurses windows
 * without a terminal (newterm on /dev/null) and read back cell by cell.
 *
 * The plant is built by hand: "press-3" is live with PF 0.75 (critical
 * tier) and an hour of power history, "furnace-foundry" reported a minute
 * ago (stale), "compressor-air" is down with an error text holding escape
 * bytes and never sent data. The tests check what an operator relies on:
 * the rows and words of each view, sorting and filtering, the keys, the
 * meter detail's gauges and "-" for unknown values, ASCII-only output, no
 * control byte ever reaching a cell, nothing drawn outside the body, full
 * header labels at 80x24, the wide layout at 200x60, and an empty plant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "phasor/alarm.h"
#include "phasor/analysis.h"
#include "phasor/draw.h"
#include "phasor/hub.h"
#include "phasor/keys.h"
#include "phasor/kpi.h"
#include "phasor/live.h"
#include "phasor/machines.h"
#include "phasor/trend.h"
#include "phasor/ui.h"
#include "phasor/util.h"
#include "phasor/utility.h"
#include "phasor/view.h"

#define S INT64_C(1000000)
#define ROW_MAX 2048

enum { M_PRESS, M_FURNACE, M_COMPRESSOR, NMETERS };

static const char *const bad_error = "broker: refused \x1b[31mRED\x1b[0m end";

struct fixture {
	struct profile prof_mb, prof_mq;
	char *topics[1];
	struct config_meter meters[NMETERS];
	struct config cfg;
	struct live *live;
	struct kpi *kpi;
	struct alarm_engine *alarms;
	struct alarm_event events[64];
	size_t nevents;
	struct plant plant;
	struct ui ui;
	int64_t now;
};

/* In enum ui_view order: the views' states are ui.view_state[VIEW_...]. */
static const struct view_ops *const all_views[] = {
	&view_overview_ops, &view_meter_ops, &view_alarms_ops, &view_trends_ops, &view_sources_ops,
	&view_history_ops, &view_machines_ops,
};

/* The state of view v (its init's, made by build). */
static void *state_of(struct fixture *f, const struct view_ops *v)
{
	size_t i;

	for (i = 0; i < sizeof(all_views) / sizeof(all_views[0]); i++)
		if (all_views[i] == v)
			return f->ui.view_state[i];
	return NULL;
}

static struct view_overview_state *ov(struct fixture *f)
{
	return f->ui.view_state[VIEW_OVERVIEW];
}

static struct view_alarms_state *al(struct fixture *f)
{
	return f->ui.view_state[VIEW_ALARMS];
}

static struct view_sources_state *src(struct fixture *f)
{
	return f->ui.view_state[VIEW_SOURCES];
}

static void on_alarm(void *ctx, const struct alarm_event *ev)
{
	struct fixture *f = ctx;

	if (f->nevents < sizeof(f->events) / sizeof(f->events[0]))
		f->events[f->nevents++] = *ev;
}

static SCREEN *screen;

/* ---- the screen ---- */

static void set_size(struct fixture *f, int rows, int cols)
{
	resize_term(rows, cols);
	werase(stdscr);
	wnoutrefresh(stdscr);
	if (f->ui.body != NULL)
		delwin(f->ui.body);
	f->ui.rows = rows;
	f->ui.cols = cols;
	f->ui.body = newwin(rows - 2, cols, 1, 0);
	assert_non_null(f->ui.body);
}

/* Cell (y, x) of w as UTF-8; *ascii false when it is not 7-bit, *ctrl when a control. */
static void cell_utf8(WINDOW *w, int y, int x, char *out, size_t size, bool *ascii, bool *ctrl)
{
	cchar_t cc;
	wchar_t wch[CCHARW_MAX + 1];
	attr_t attrs;
	short pair;
	mbstate_t st;
	size_t o = 0, k;

	memset(&st, 0, sizeof(st));
	out[0] = '\0';
	assert_int_not_equal(mvwin_wch(w, y, x, &cc), ERR);
	assert_int_not_equal(getcchar(&cc, wch, &attrs, &pair, NULL), ERR);
	for (k = 0; wch[k] != L'\0' && k < CCHARW_MAX; k++) {
		char mb[MB_LEN_MAX];
		size_t n;

		if (wch[k] >= 128)
			*ascii = false;
		if (wch[k] < 32 || wch[k] == 127)
			*ctrl = true;
		n = wcrtomb(mb, wch[k], &st);
		if (n == (size_t)-1 || o + n + 1 > size)
			break;
		memcpy(out + o, mb, n);
		o += n;
	}
	out[o] = '\0';
}

static void row_text(WINDOW *w, int y, char *out, size_t size)
{
	int x, cols = getmaxx(w);
	size_t o = 0;
	bool ascii = true, ctrl = false;

	out[0] = '\0';
	for (x = 0; x < cols; x++) {
		char c[32];
		size_t n;

		cell_utf8(w, y, x, c, sizeof(c), &ascii, &ctrl);
		n = strlen(c);
		if (o + n + 1 >= size)
			break;
		memcpy(out + o, c, n);
		o += n;
	}
	out[o] = '\0';
}

/* The row of the body holding s (from row `from`), or -1. */
static int find_row(const struct fixture *f, const char *s, int from)
{
	char row[ROW_MAX];
	int y;

	for (y = from; y < getmaxy(f->ui.body); y++) {
		row_text(f->ui.body, y, row, sizeof(row));
		if (strstr(row, s) != NULL)
			return y;
	}
	return -1;
}

static bool row_has(const struct fixture *f, int y, const char *s)
{
	char row[ROW_MAX];

	if (y < 0)
		return false;
	row_text(f->ui.body, y, row, sizeof(row));
	return strstr(row, s) != NULL;
}

static void assert_shows(const struct fixture *f, const char *s)
{
	if (find_row(f, s, 0) < 0) {
		char row[ROW_MAX];
		int y;

		for (y = 0; y < getmaxy(f->ui.body); y++) {
			row_text(f->ui.body, y, row, sizeof(row));
			print_message("%2d|%s|\n", y, row);
		}
		fail_msg("\"%s\" not on the screen", s);
	}
}

/* Every cell 7-bit (when ascii), none a control character. */
static void assert_cells(const struct fixture *f, bool want_ascii)
{
	int y, x;

	for (y = 0; y < getmaxy(f->ui.body); y++)
		for (x = 0; x < getmaxx(f->ui.body); x++) {
			char c[32];
			bool ascii = true, ctrl = false;

			cell_utf8(f->ui.body, y, x, c, sizeof(c), &ascii, &ctrl);
			if (ctrl)
				fail_msg("control character in cell %d,%d", y, x);
			if (want_ascii && !ascii)
				fail_msg("non-ASCII cell %d,%d: %s", y, x, c);
		}
}

/* stdscr (everything but the body) is untouched. */
static void assert_stdscr_blank(void)
{
	int y, x;

	for (y = 0; y < getmaxy(stdscr); y++)
		for (x = 0; x < getmaxx(stdscr); x++) {
			char c[32];
			bool ascii = true, ctrl = false;

			cell_utf8(stdscr, y, x, c, sizeof(c), &ascii, &ctrl);
			if (strcmp(c, " ") != 0)
				fail_msg("stdscr written at %d,%d: \"%s\"", y, x, c);
		}
}

/* $VIEWS_DUMP set: print every rendered body (to look at layouts). */
static void dump(const struct fixture *f, const char *name)
{
	char row[ROW_MAX];
	int y;

	if (getenv("VIEWS_DUMP") == NULL)
		return;
	printf("---- %s %dx%d\n", name, f->ui.cols, f->ui.rows);
	for (y = 0; y < getmaxy(f->ui.body); y++) {
		row_text(f->ui.body, y, row, sizeof(row));
		printf("%s|\n", row);
	}
}

static void render(struct fixture *f, const struct view_ops *v)
{
	werase(f->ui.body);
	v->draw(&f->ui, state_of(f, v));
	dump(f, v->name);
}

/* ---- the plant ---- */

static void put(struct fixture *f, uint32_t meter, unsigned qty, int64_t t, double v)
{
	struct sample s = { .t_us = t, .value = v, .meter = meter, .qty = (uint16_t)qty };

	s.quality = (uint8_t)qty_quality(qty, v);
	live_apply(f->live, &s, 1);
}

static void feed_meter(struct fixture *f, uint32_t m, int64_t t, double p, double pf)
{
	static const double v[3] = { 231.0, 229.0, 230.0 }, ll[3] = { 399.0, 397.0, 398.0 };
	static const double thd[3] = { 2.1, 2.3, 2.0 };
	double q = p * sqrt(1.0 / (pf * pf) - 1.0);
	int k;

	for (k = 0; k < 3; k++) {
		put(f, m, QTY_V_L1N + (unsigned)k, t, v[k]);
		put(f, m, QTY_V_L12 + (unsigned)k, t, ll[k]);
		put(f, m, QTY_I_L1 + (unsigned)k, t, p / 3.0 / 230.0 / pf * (1.0 + 0.05 * k));
		put(f, m, QTY_P_L1 + (unsigned)k, t, p / 3.0);
		put(f, m, QTY_Q_L1 + (unsigned)k, t, q / 3.0);
		put(f, m, QTY_PF_L1 + (unsigned)k, t, pf);
		put(f, m, QTY_THD_V_L1 + (unsigned)k, t, thd[k]);
	}
	put(f, m, QTY_P_TOTAL, t, p);
	put(f, m, QTY_Q_TOTAL, t, q);
	put(f, m, QTY_PF_TOTAL, t, pf);
	put(f, m, QTY_FREQ, t, 50.01);
	put(f, m, QTY_E_IMP, t, 1234567.0);
}

static void build(struct fixture *f, size_t nmeters)
{
	struct meter_comm c;
	int64_t k;

	f->now = util_now_us();
	f->prof_mb = (struct profile){ .name = (char *)"pac3200", .driver = PROFILE_MODBUS };
	f->prof_mq = (struct profile){ .name = (char *)"shelly-pro3em", .driver = PROFILE_MQTT };
	f->topics[0] = (char *)"shellies/air/status/em:0";
	f->meters[M_PRESS] = (struct config_meter){
		.name = (char *)"press-3", .driver = DRIVER_MODBUS, .profile_name = (char *)"pac3200",
		.profile = &f->prof_mb, .description = (char *)"Stamping press 3",
		.host = (char *)"10.0.0.21", .port = 502, .unit = 3, .poll_ms = 1000,
		.nominal_voltage = 230, .max_power = 100000 };
	f->meters[M_FURNACE] = (struct config_meter){
		.name = (char *)"furnace-foundry", .driver = DRIVER_MODBUS,
		.profile_name = (char *)"pac3200", .profile = &f->prof_mb,
		.description = (char *)"Induction furnace", .host = (char *)"10.0.0.21", .port = 502,
		.unit = 4, .poll_ms = 1000, .nominal_voltage = 230, .max_power = 200000 };
	f->meters[M_COMPRESSOR] = (struct config_meter){
		.name = (char *)"compressor-air", .driver = DRIVER_MQTT,
		.profile_name = (char *)"shelly-pro3em", .profile = &f->prof_mq,
		.description = (char *)"Air compressor", .topics = f->topics, .ntopics = 1,
		.poll_ms = 10000, .nominal_voltage = 230, .max_power = 50000 };
	f->cfg.site.name = (char *)"test plant";
	f->cfg.site.target_pf = 0.95;
	f->cfg.site.nominal_freq = 50;
	f->cfg.site.price_per_kwh = NAN;
	f->cfg.site.co2_per_kwh = NAN;
	f->cfg.meters = f->meters;
	f->cfg.nmeters = nmeters;
	f->live = live_new(&f->cfg, NULL, NULL);

	if (nmeters == NMETERS) {
		/* press-3: live, PF 0.75, 15 minutes of history */
		for (k = 900; k >= 1; k--)
			put(f, M_PRESS, QTY_P_TOTAL, f->now - k * S,
			    60000.0 + 10000.0 * sin((double)k / 60.0));
		feed_meter(f, M_PRESS, f->now - S / 2, 69000.0, 0.75);
		c = (struct meter_comm){ .status = COMM_OK, .last_good_us = f->now - S / 2,
					 .latency_us = 12000, .polls = 100 };
		live_set_comm(f->live, M_PRESS, &c);

		/* furnace-foundry: its last poll a minute ago */
		feed_meter(f, M_FURNACE, f->now - 60 * S, 150000.0, 0.97);
		c = (struct meter_comm){ .status = COMM_OK, .last_good_us = f->now - 60 * S,
					 .latency_us = 15000, .polls = 40 };
		live_set_comm(f->live, M_FURNACE, &c);

		/* compressor-air: down, an error from the network with escapes */
		c = (struct meter_comm){ .status = COMM_DOWN, .latency_us = -1 };
		util_strlcpy(c.error, bad_error, sizeof(c.error));
		live_set_comm(f->live, M_COMPRESSOR, &c);
	}
	f->kpi = kpi_new(&f->cfg);
	kpi_update(f->kpi, f->live, f->now);
	/* The built-in alarm set: press-3's PF 0.75 raised the low-pf alarm
	 * 5 s ago, compressor-air's comm alarm 4 s ago. */
	f->alarms = alarm_engine_new(&f->cfg, "test", on_alarm, f);
	if (nmeters == NMETERS) {
		long lowpf = alarm_find(f->alarms, "low-pf", "press-3");
		long comm = alarm_find(f->alarms, "comm", "compressor-air");

		assert_true(lowpf >= 0 && comm >= 0);
		alarm_feed(f->alarms, (size_t)lowpf, 0.75, true, f->now - 60 * S);
		alarm_feed(f->alarms, (size_t)lowpf, 0.75, true, f->now - 5 * S);
		/* down from 70 s ago: raised after its 10 s on-delay */
		alarm_feed(f->alarms, (size_t)comm, 1, true, f->now - 70 * S);
		alarm_feed(f->alarms, (size_t)comm, 1, true, f->now - 60 * S);
		alarm_feed(f->alarms, (size_t)comm, 1, true, f->now - 4 * S);
	}
	f->plant.alarms = f->alarms;
	f->plant.cfg = &f->cfg;
	f->plant.live = f->live;
	f->plant.kpi = f->kpi;
	f->plant.now_us = f->now;
	f->ui.plant = &f->plant;
	for (k = 0; k < VIEW__COUNT; k++)
		if (all_views[k]->init != NULL)
			f->ui.view_state[k] = all_views[k]->init(&f->plant);
	f->ui.refresh_ms = 1000;
	f->ui.view = VIEW_OVERVIEW;
	draw_setup(NULL, false, false);
	f->ui.ascii = false;
	set_size(f, 24, 80);
}

static int setup(void **state)
{
	struct fixture *f = util_calloc(1, sizeof(*f));

	build(f, NMETERS);
	*state = f;
	return 0;
}

static int setup_empty(void **state)
{
	struct fixture *f = util_calloc(1, sizeof(*f));

	build(f, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	int v;

	if (f->ui.body != NULL)
		delwin(f->ui.body);
	for (v = 0; v < VIEW__COUNT; v++)
		if (f->ui.view_state[v] != NULL)
			all_views[v]->free(f->ui.view_state[v]);
	kpi_free(f->kpi);
	alarm_engine_free(f->alarms);
	live_free(f->live);
	free(f);
	return 0;
}

/* ---- overview ---- */

static void test_overview_rows(void **state)
{
	struct fixture *f = *state;
	int press, furnace, comp;

	render(f, &view_overview_ops);
	press = find_row(f, "press-3", 4);
	furnace = find_row(f, "furnace-foundry", 4);
	comp = find_row(f, "compressor-air", 4);
	assert_true(press >= 4);
	assert_true(furnace >= 4);
	assert_true(comp >= 4);
	/* config order by default */
	assert_true(press < furnace && furnace < comp);
	/* PF 0.75 is critical: abbreviated at 80 columns */
	assert_true(row_has(f, press, "0.750 crit"));
	assert_true(row_has(f, press, "0.4     4.8 L3"));
	assert_true(row_has(f, press, "ok"));
	assert_true(row_has(f, press, "69.0"));
	/* the stale meter says so, and keeps its last power */
	assert_true(row_has(f, furnace, "stale"));
	assert_true(row_has(f, furnace, "\u25cc150.0"));
	assert_true(row_has(f, furnace, "\u25cc0.97 exc."));   /* 2 decimals to fit the mark */
	assert_false(row_has(f, press, "\u25cc"));
	assert_true(row_has(f, furnace, "1m"));
	/* the down meter: down, no value, never */
	assert_true(row_has(f, comp, "down"));
	assert_true(row_has(f, comp, "never"));
	assert_false(row_has(f, comp, "0.00"));
	/* the selection marker on the first row */
	assert_true(row_has(f, press, ">") || row_has(f, press, "\u25b6"));
	/* site figures and the rule above the table */
	assert_true(row_has(f, 0, "Total"));
	assert_true(row_has(f, 1, "Top:"));
	/* whole percents, printed as such (not "7.0 %" for 6.6 %) */
	assert_true(row_has(f, 1, " %"));
	assert_false(row_has(f, 1, ".0 %"));
}

static void test_overview_headers_80(void **state)
{
	struct fixture *f = *state;
	static const char *const labels[] = { "Meter", "Comm", "kW", "P 15m", "PF", "Vunb%",
					      "Iunb%", "Max", "Age" };
	char row[ROW_MAX];
	size_t i;

	render(f, &view_overview_ops);
	row_text(f->ui.body, 3, row, sizeof(row));
	for (i = 0; i < UTIL_ARRAY_LEN(labels); i++)
		if (strstr(row, labels[i]) == NULL)
			fail_msg("header \"%s\" missing or cut: |%s|", labels[i], row);
	assert_null(strstr(row, "..."));
	assert_null(strstr(row, "\u2026"));
	/* names fit whole at 80 columns */
	assert_true(find_row(f, "furnace-foundry ", 4) >= 0);
	/* not the wide columns */
	assert_null(strstr(row, "Description"));
	assert_null(strstr(row, "Risk"));
	assert_stdscr_blank();
}

static void test_overview_sort(void **state)
{
	struct fixture *f = *state;
	int y;

	/* by name, ascending: the reverse of the configuration here */
	ov(f)->list.sort = SORT_NAME;
	render(f, &view_overview_ops);
	assert_true(row_has(f, 4, "compressor-air"));
	assert_true(row_has(f, 5, "furnace-foundry"));
	assert_true(row_has(f, 6, "press-3"));
	/* the sorted column's header carries the arrow */
	assert_true(row_has(f, 3, "Meter \u2191"));

	/* 'r' reverses */
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'r'), UI_HANDLED | UI_REDRAW);
	render(f, &view_overview_ops);
	assert_true(row_has(f, 4, "press-3"));
	assert_true(row_has(f, 6, "compressor-air"));

	/* '>' moves to the next sort column: status, then power */
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '>');
	assert_int_equal(ov(f)->list.sort, SORT_STATUS);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '>');
	assert_int_equal(ov(f)->list.sort, SORT_POWER);
	render(f, &view_overview_ops);
	/* descending power: the only live power first, unknown last */
	assert_true(row_has(f, 4, "press-3"));
	y = find_row(f, "kW", 3);
	assert_int_equal(y, 3);
	assert_true(row_has(f, 3, "kW \u2193"));
	/* unbalance: by the worse of V and I, both columns say so */
	ov(f)->list.sort = SORT_UNBALANCE;
	render(f, &view_overview_ops);
	assert_true(row_has(f, 3, "Vunb% \u2193"));
	assert_true(row_has(f, 3, "Iunb% \u2193"));
	ov(f)->list.sort = SORT_POWER;
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '<');
	assert_int_equal(ov(f)->list.sort, SORT_STATUS);
	/* wraps around */
	ov(f)->list.sort = SORT_CONFIG;
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '<');
	assert_int_equal(ov(f)->list.sort, SORT__COUNT - 1);
}

static void test_overview_filter(void **state)
{
	struct fixture *f = *state;
	int y;

	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '/'), UI_HANDLED | UI_REDRAW);
	assert_true(ov(f)->list.filter_editing);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'f');
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'u');
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'r');
	assert_string_equal(ov(f)->list.filter, "fur");
	render(f, &view_overview_ops);
	assert_true(find_row(f, "furnace-foundry", 4) >= 0);
	assert_int_equal(find_row(f, "press-3", 4), -1);
	assert_int_equal(find_row(f, "compressor-air", 4), -1);
	/* the filter line at the bottom, with its cursor */
	y = getmaxy(f->ui.body) - 1;
	assert_true(row_has(f, y, "Filter: fur_"));
	assert_true(row_has(f, y, "1 of 3"));
	/* the selection follows to a visible meter */
	assert_int_equal(f->ui.meter, M_FURNACE);

	/* while editing, every key is the filter's: q, digits, j */
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'q'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '1'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_F(5)), UI_HANDLED);
	assert_string_equal(ov(f)->list.filter, "furq1");
	render(f, &view_overview_ops);
	assert_true(find_row(f, "No meter matches", 4) >= 0);
	/* Backspace deletes, Enter keeps */
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_BACKSPACE);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 127);
	assert_string_equal(ov(f)->list.filter, "fur");
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '\n'), UI_HANDLED | UI_REDRAW);
	assert_false(ov(f)->list.filter_editing);
	assert_string_equal(ov(f)->list.filter, "fur");
	render(f, &view_overview_ops);
	assert_true(row_has(f, getmaxy(f->ui.body) - 1, "Filter: fur "));
	/* no longer editing: q is not the view's */
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'q'), UI_IGNORED);

	/* Esc while editing clears and stops */
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '/');
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 27), UI_HANDLED | UI_REDRAW);
	assert_false(ov(f)->list.filter_editing);
	assert_string_equal(ov(f)->list.filter, "");
	render(f, &view_overview_ops);
	assert_true(find_row(f, "press-3", 4) >= 0);
	assert_int_equal(find_row(f, "Filter:", 0), -1);
}

static void test_overview_keys(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->ui.meter, 0);
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_DOWN), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->ui.meter, 1);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'j');
	assert_int_equal(f->ui.meter, 2);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_DOWN);     /* stays on the last */
	assert_int_equal(f->ui.meter, 2);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_HOME);
	assert_int_equal(f->ui.meter, 0);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_END);
	assert_int_equal(f->ui.meter, 2);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'k');
	assert_int_equal(f->ui.meter, 1);
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_PPAGE);
	assert_int_equal(f->ui.meter, 0);
	render(f, &view_overview_ops);
	assert_true(row_has(f, 4, ">") || row_has(f, 4, "\u25b6"));
	/* the selection moves in display order */
	ov(f)->list.sort = SORT_NAME;
	f->ui.meter = M_COMPRESSOR;
	view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_DOWN);
	assert_int_equal(f->ui.meter, M_FURNACE);
	/* Enter opens the meter */
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '\n'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->ui.view, VIEW_METER);
	assert_int_equal(f->ui.meter, M_FURNACE);
	/* a key the view does not use goes to the loop */
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), 'q'), UI_IGNORED);
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '3'), UI_IGNORED);
}

/* ---- meter ---- */

static void test_meter_view(void **state)
{
	struct fixture *f = *state;
	int y;

	f->ui.meter = M_PRESS;
	render(f, &view_meter_ops);
	assert_true(row_has(f, 0, "press-3"));
	assert_true(row_has(f, 0, "10.0.0.21:502 unit 3"));
	assert_true(row_has(f, 1, "ok"));
	assert_true(row_has(f, 1, "poll 12 ms"));
	/* gauges for the three phases, with values and units */
	y = find_row(f, "L1", 2);
	assert_true(y >= 2);
	assert_true(row_has(f, y, "231.0 V"));
	assert_true(find_row(f, "L2", 2) > 0);
	assert_true(find_row(f, "L3", 2) > 0);
	assert_true(find_row(f, "L12", 2) > 0);
	assert_true(find_row(f, "399.0 V", 2) > 0);
	/* PF panel: value, nature, tier word, compensation */
	assert_shows(f, "0.750 ind critical");
	assert_shows(f, "penalty");
	assert_shows(f, "Qc to 0.95: 38.2 kvar (bank 40 kvar)");
	assert_shows(f, "tan phi 0.88 over");
	/* THD-I is unknown: "-", never 0 */
	y = find_row(f, "THD", 2);
	assert_true(y > 0);
	assert_true(row_has(f, y, "2.1 2.3 2.0 %"));
	assert_true(row_has(f, y + 1, "I - - - %"));
	/* the risk panel and the trend */
	assert_shows(f, "Poor power factor");
	assert_shows(f, "Active power, last hour");
	assert_shows(f, "-60m");
	assert_shows(f, "now");
	assert_stdscr_blank();
}

/* A gas meter: no phase gauges, its flow, volume, pressure (mbar under a
 * bar) and temperature instead, the flow's chart, and its flow in the
 * overview's PF column. */
static void test_utility_meter(void **state)
{
	struct fixture *f = *state;
	struct profile_reg regs[4] = {
		{ .qty = QTY_FLOW }, { .qty = QTY_VOLUME }, { .qty = QTY_PRESSURE }, { .qty = QTY_TEMP },
	};
	struct profile gas = { .name = (char *)"gas-meter", .driver = PROFILE_MODBUS,
			       .regs = regs, .nregs = 4 };
	int y;

	f->meters[M_PRESS].utility = UTILITY_GAS;
	f->meters[M_PRESS].profile = &gas;
	put(f, M_PRESS, QTY_FLOW, f->now - S / 2, 131.6);
	put(f, M_PRESS, QTY_VOLUME, f->now - S / 2, 1132726.25);
	put(f, M_PRESS, QTY_PRESSURE, f->now - S / 2, 0.0215);
	put(f, M_PRESS, QTY_TEMP, f->now - S / 2, 9.5);
	f->ui.meter = M_PRESS;
	render(f, &view_meter_ops);
	y = find_row(f, "flow", 2);
	assert_true(y >= 2);
	assert_true(row_has(f, y, "Gas"));
	assert_true(row_has(f, y, "131.6 m3/h"));
	assert_shows(f, "m3");
	assert_shows(f, "21.5 mbar");
	assert_shows(f, "9.5 degC");
	assert_shows(f, "Flow, last hour");
	assert_true(find_row(f, "V L1", 2) < 0);
	assert_true(find_row(f, "PF", 2) < 0);
	render(f, &view_overview_ops);
	y = find_row(f, "Meter", 0);
	assert_true(y >= 0);
	y = find_row(f, "press-3", y);
	assert_true(y >= 0);
	assert_true(row_has(f, y, "131.6 m3/h"));
	f->meters[M_PRESS].utility = UTILITY_ELECTRICITY;
	f->meters[M_PRESS].profile = &f->prof_mb;
}

/* Today's energy says from when it counts and the resets it bridged. */
static void test_today_resets(void **state)
{
	struct fixture *f = *state;
	struct kpi_today td;
	char hhmm[16], want[64];

	/* press-3's counter is at 1234567 Wh since now - 0.5 s */
	put(f, M_PRESS, QTY_E_IMP, f->now + 10 * S, 1234567.0 + 500.0);
	put(f, M_PRESS, QTY_E_IMP, f->now + 20 * S, 5.0); /* reset */
	put(f, M_PRESS, QTY_E_IMP, f->now + 30 * S, 55.0);
	kpi_update(f->kpi, f->live, f->now + 31 * S);
	assert_true(kpi_meter_today(f->kpi, M_PRESS, &td));
	assert_true(td.wh == 550.0);
	assert_int_equal(td.resets, 1);
	view_hhmm(td.since_us, hhmm, sizeof(hhmm));
	set_size(f, 24, 100);
	render(f, &view_overview_ops);
	snprintf(want, sizeof(want), "Today 550 Wh (since %s, 1 reset)", hhmm);
	assert_shows(f, want);
	f->ui.meter = M_PRESS;
	render(f, &view_meter_ops);
	snprintf(want, sizeof(want), "today 550 Wh, partial since %s, 1 reset", hhmm);
	assert_shows(f, want);
}

static void test_meter_unknown_and_stale(void **state)
{
	struct fixture *f = *state;
	int y;

	/* never any data: "-" everywhere, the error shown sanitized */
	f->ui.meter = M_COMPRESSOR;
	render(f, &view_meter_ops);
	assert_true(row_has(f, 1, "down"));
	assert_true(row_has(f, 1, "none yet"));
	assert_true(row_has(f, 1, "refused ?[31mRED"));
	assert_true(row_has(f, 0, "mqtt shellies/air/status/em:0"));
	y = find_row(f, "L1", 2);
	assert_true(y >= 2);
	assert_true(row_has(f, y, " - "));
	assert_false(row_has(f, y, "0.0 V"));
	assert_shows(f, "no data in the last hour");
	assert_cells(f, false);

	/* stale: the last values, said to be not live */
	f->ui.meter = M_FURNACE;
	render(f, &view_meter_ops);
	assert_true(row_has(f, 1, "stale"));
	assert_true(row_has(f, 1, "1m ago"));
	assert_true(row_has(f, 1, "\u25cc not live"));
	assert_true(find_row(f, "231.0 V", 2) > 0);
	/* the power factor panel marks its figures too */
	assert_true(find_row(f, "\u25cc0.970", 2) > 0);
	assert_true(find_row(f, "L1 \u25cc0.970", 2) > 0);
}

static void test_meter_keys(void **state)
{
	struct fixture *f = *state;

	f->ui.view = VIEW_METER;
	f->ui.meter = 0;
	assert_int_equal(view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), KEY_DOWN), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->ui.meter, 1);
	view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), ']');
	assert_int_equal(f->ui.meter, 2);
	view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), ']');        /* wraps */
	assert_int_equal(f->ui.meter, 0);
	view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), KEY_UP);
	assert_int_equal(f->ui.meter, 2);
	view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), '[');
	assert_int_equal(f->ui.meter, 1);
	assert_int_equal(view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), 'q'), UI_IGNORED);
	assert_int_equal(view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), 27), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->ui.view, VIEW_OVERVIEW);
	f->ui.view = VIEW_METER;
	view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), KEY_BACKSPACE);
	assert_int_equal(f->ui.view, VIEW_OVERVIEW);
}

/* ---- every view ---- */

static void test_ascii_and_escapes(void **state)
{
	struct fixture *f = *state;
	size_t v, m;

	for (m = 0; m < NMETERS; m++) {
		f->ui.meter = m;
		draw_setup(NULL, false, true);
		f->ui.ascii = true;
		for (v = 0; v < UTIL_ARRAY_LEN(all_views); v++) {
			render(f, all_views[v]);
			assert_cells(f, true);
			assert_int_equal(find_row(f, "\x1b", 0), -1);
		}
		draw_setup(NULL, false, false);
		f->ui.ascii = false;
		for (v = 0; v < UTIL_ARRAY_LEN(all_views); v++) {
			render(f, all_views[v]);
			assert_cells(f, false);
		}
	}
	assert_stdscr_blank();
}

static void test_ascii_overview(void **state)
{
	struct fixture *f = *state;
	int y;

	draw_setup(NULL, false, true);
	f->ui.ascii = true;
	render(f, &view_overview_ops);
	assert_cells(f, true);
	assert_true(row_has(f, 2, "-----"));
	/* the selected row's meter has an alarm: its mark beside the name */
	assert_true(row_has(f, find_row(f, "press-3", 4), "> *press-3        o ok"));
	y = find_row(f, "furnace-foundry", 4);
	assert_true(row_has(f, y, "~ stale"));
	assert_true(row_has(f, y, "~150.0"));
	assert_true(row_has(f, find_row(f, "compressor-air", 4), "X down"));
	f->ui.meter = M_FURNACE;
	render(f, &view_meter_ops);
	assert_cells(f, true);
	assert_true(row_has(f, 1, "~ stale  data 1m ago ~ not live"));
	draw_setup(NULL, false, false);
	f->ui.ascii = false;
}

/* The furnace live, and the KPI anew (it reads the tree and the roles at
 * its start); tree_of: parent the parent of child (indices) first. */
static void plant_anew(struct fixture *f)
{
	struct meter_comm c = { .status = COMM_OK, .last_good_us = f->now - S / 2, .polls = 40 };

	config_tree_derive(&f->cfg);
	feed_meter(f, M_FURNACE, f->now - S / 2, 150000.0, 0.97);
	live_set_comm(f->live, M_FURNACE, &c);
	kpi_free(f->kpi);
	f->kpi = kpi_new(&f->cfg);
	kpi_update(f->kpi, f->live, f->now);
	f->plant.kpi = f->kpi;
	ov(f)->names_cfg = NULL; /* the widest name, indented, measured again */
}

static void tree_of(struct fixture *f, size_t parent, size_t child)
{
	f->meters[child].parent_plus1 = (int)parent + 1;
	plant_anew(f);
}

/*
 * The tree on the overview: press-3 (69 kW) under furnace-foundry
 * (150 kW): indented with the branch symbol, 46 % of its parent, and the
 * parent's "(unmetered)" row under it, 81.0 kW and 54 %; the remainder is a
 * top consumer; the selection steps over it. Then the other way round:
 * the child reads more than its parent, a remainder of -81.0 flagged.
 */
static void test_overview_tree(void **state)
{
	struct fixture *f = *state;
	struct view_overview_state *st = ov(f);
	int yf, yp, yr;

	tree_of(f, M_FURNACE, M_PRESS);
	draw_setup(NULL, false, true);
	f->ui.ascii = true;
	/* at 80 columns the names keep their room: no share column */
	render(f, &view_overview_ops);
	assert_cells(f, true);
	assert_false(row_has(f, 3, "Shr%"));
	assert_true(find_row(f, "` *press-3 ", 4) > 0);
	set_size(f, 24, 120);
	render(f, &view_overview_ops);
	assert_cells(f, true);
	yf = find_row(f, "furnace-foundry", 4);
	yp = find_row(f, "` *press-3", 4);
	yr = find_row(f, "` (unmetered)", 4);
	assert_true(yf >= 4 && yp == yf + 1 && yr == yp + 1);
	assert_true(find_row(f, "compressor-air", 4) == yr + 1);
	assert_true(row_has(f, 3, "Shr%"));
	assert_true(row_has(f, yp, " 69.0   46"));
	assert_true(row_has(f, yr, " 81.0   54"));
	assert_true(row_has(f, 1, "Top: furnace-foundry unmetered 54 %, press-3 46 %"));
	/* Down from press-3 goes to compressor-air, over the remainder; up
	 * from there comes back to press-3. */
	f->ui.meter = M_PRESS;
	view_overview_ops.key(&f->ui, st, KEY_DOWN);
	assert_int_equal(f->ui.meter, M_COMPRESSOR);
	view_overview_ops.key(&f->ui, st, KEY_UP);
	assert_int_equal(f->ui.meter, M_PRESS);
	/* the meter view says where the meter stands */
	render(f, &view_meter_ops);
	assert_true(row_has(f, 0, "press-3  pac3200  10.0.0.21:502 unit 3  under furnace-foundry"));
	render(f, &view_overview_ops);
	/* the meter view steps through meters only */
	{
		size_t vis[NMETERS];

		assert_int_equal(view_overview_order(&f->ui, vis, NMETERS), NMETERS);
	}

	f->meters[M_PRESS].parent_plus1 = 0;
	tree_of(f, M_PRESS, M_FURNACE);
	render(f, &view_overview_ops);
	yr = find_row(f, "` (unmetered)", 4);
	assert_true(yr > find_row(f, "` furnace-foundry", 4));
	assert_true(row_has(f, yr, "!-81.0"));
	assert_true(row_has(f, yr, "-117"));
	draw_setup(NULL, false, false);
	f->ui.ascii = false;
	render(f, &view_overview_ops);
	assert_true(find_row(f, "\u2514 furnace-foundry", 4) > 0);
	assert_true(row_has(f, find_row(f, "(unmetered)", 4), "\u25b2-81.0"));
}

/*
 * Today's energy beside the power from 120 columns, the remainder's too:
 * furnace-foundry counted 1000 Wh today and press-3 under it 400, so
 * 600 Wh no feeder meters ("0.60" kWh); the other way round, press-3's
 * feeder reads 600 more than its parent: "-0.60", flagged.
 */
static void test_overview_remainder_energy(void **state)
{
	struct fixture *f = *state;
	int y;

	draw_setup(NULL, false, true);
	f->ui.ascii = true;
	set_size(f, 24, 160);
	for (y = 0; y < 2; y++) {
		size_t parent = y == 0 ? M_FURNACE : M_PRESS, child = y == 0 ? M_PRESS : M_FURNACE;
		int yr;

		f->meters[M_PRESS].parent_plus1 = f->meters[M_FURNACE].parent_plus1 = 0;
		tree_of(f, parent, child);
		put(f, M_PRESS, QTY_E_IMP, f->now - S / 4, 1234567.0 + 400.0);
		put(f, M_FURNACE, QTY_E_IMP, f->now - S / 4, 1234567.0 + 1000.0);
		kpi_update(f->kpi, f->live, f->now);
		render(f, &view_overview_ops);
		assert_cells(f, true);
		assert_true(row_has(f, 3, "kWh today"));
		yr = find_row(f, "` (unmetered)", 4);
		assert_true(yr > 4);
		assert_true(row_has(f, find_row(f, "furnace-foundry", 4), " 1.00 "));
		assert_true(row_has(f, find_row(f, "press-3", 4), " 0.40 "));
		assert_true(row_has(f, yr, y == 0 ? " 0.60 " : "!-0.60 "));
		(void)parent;
		(void)child;
	}
	draw_setup(NULL, false, false);
	f->ui.ascii = false;
}

/* A production meter: not in the total nor a consumer; the header's
 * production now and the part of it used on site (press-3's 69 kW of the
 * furnace's 150: 46 %); no energy today yet, so no coverage. */
static void test_overview_production(void **state)
{
	struct fixture *f = *state;
	int y;

	f->meters[M_FURNACE].role = METER_PRODUCTION;
	plant_anew(f);
	draw_setup(NULL, false, true);
	f->ui.ascii = true;
	render(f, &view_overview_ops);
	assert_true(row_has(f, 0, "Total 69.0 kW"));
	y = find_row(f, "Prod ", 0);
	assert_int_equal(y, 1);
	assert_true(row_has(f, 1, "Prod 150.0 kW Cov - Self 46.0 %"));
	assert_true(row_has(f, 1, "Top: press-3 100 %"));
	assert_false(row_has(f, 1, "furnace"));
	draw_setup(NULL, false, false);
	f->ui.ascii = false;
}

static void test_wide(void **state)
{
	struct fixture *f = *state;
	char row[ROW_MAX];
	int y, chart_top, axis;

	set_size(f, 60, 200);
	render(f, &view_overview_ops);
	row_text(f->ui.body, 3, row, sizeof(row));
	assert_non_null(strstr(row, "Description"));
	assert_non_null(strstr(row, "Risk"));
	assert_non_null(strstr(row, "THD-V %"));
	assert_non_null(strstr(row, "Q kvar"));
	y = find_row(f, "press-3", 4);
	assert_true(row_has(f, y, "0.750 critical"));
	assert_true(row_has(f, y, "Stamping press 3"));
	assert_true(row_has(f, y, "major"));
	assert_stdscr_blank();

	f->ui.meter = M_PRESS;
	render(f, &view_meter_ops);
	assert_shows(f, "Power factor");
	assert_shows(f, "Unbalance");
	assert_shows(f, "Power quality");
	assert_shows(f, "Energy");
	assert_shows(f, "Check capacitor banks");
	assert_shows(f, "Voltage L-N");
	/* the chart: at least 15 rows between its title and its time axis */
	chart_top = find_row(f, "Active power, last hour", 2);
	axis = find_row(f, "-60m", chart_top);
	assert_true(chart_top > 0);
	assert_true(axis - chart_top - 1 >= 15);
	assert_true(axis < getmaxy(f->ui.body));
	assert_stdscr_blank();

	/* 120x40: compact panels, wide gauges, a taller chart */
	set_size(f, 40, 120);
	render(f, &view_meter_ops);
	assert_int_equal(find_row(f, "Power factor", 2), -1);
	assert_true(row_has(f, 2, "PF   0.750 ind critical"));
	y = find_row(f, "P L1", 2);
	assert_true(y > 0);
	assert_true(row_has(f, y + 2, "23.0 kW"));
	chart_top = find_row(f, "Active power, last hour", 2);
	axis = find_row(f, "-60m", chart_top);
	assert_true(chart_top > y + 2);
	assert_true(axis - chart_top - 1 >= 15);
	assert_int_equal(axis, getmaxy(f->ui.body) - 1);
	assert_stdscr_blank();

	/* 120x50: expanded; every gauge, the chart keeps 10 rows or more */
	set_size(f, 50, 120);
	render(f, &view_meter_ops);
	assert_shows(f, "Power factor");
	y = find_row(f, "Active power  (rated", 2);
	assert_true(y > 0);
	assert_true(row_has(f, y + 3, "L3"));
	assert_true(row_has(f, y + 3, "23.0 kW"));
	assert_shows(f, "Check capacitor banks");
	chart_top = find_row(f, "Active power, last hour", 2);
	axis = find_row(f, "-60m", chart_top);
	assert_true(axis - chart_top - 1 >= 10);
	assert_int_equal(axis, getmaxy(f->ui.body) - 1);
	assert_stdscr_blank();

	set_size(f, 60, 200);
	render(f, &view_alarms_ops);
	assert_shows(f, "LIMIT");
	assert_shows(f, "unacknowledged");
	/* a wall screen has room for what to do */
	assert_true(row_has(f, 1, "ACTION"));
	assert_true(row_has(f, find_row(f, "press-3", 2), "Check capacitor banks"));
	render(f, &view_trends_ops);
	assert_shows(f, "No forecasts: there is no buffer");
	assert_stdscr_blank();
}

/* A trend set by hand: the site at 120 kW for 14 days against a contract
 * of 100 kW, a stored forecast of 110 kW (band +-10 kW) made before
 * today's midnight (so older than today's data), 100 kW expected of the
 * past week (MAPE 16.7 %); press-3 with too little history. */
static int hour_of(int64_t t_us)
{
	time_t t = (time_t)(t_us / S);
	struct tm tm;

	localtime_r(&t, &tm);
	return tm.tm_hour;
}

static struct trend_set *make_trends(struct fixture *f)
{
	static int64_t ft[3000];
	static double fp[3000], flo[3000], fhi[3000], y[14 * 96];
	const int64_t step = 900 * S;
	struct trend_set *set = util_calloc(1, sizeof(*set));
	struct trend_series act;
	time_t now = (time_t)(f->now / S);
	struct tm tm;
	int64_t day0, day2;
	size_t i, n = 0;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	day0 = (int64_t)mktime(&tm) * S;
	day2 = day0 + 2 * 86400 * S;
	act.step_us = step;
	act.n = 14 * 96;
	act.t0_us = f->now - f->now % step - (int64_t)act.n * step;
	act.y = y;
	for (i = 0; i < act.n; i++)
		y[i] = 120000;
	for (int64_t t = f->now - f->now % step - 7 * 86400 * S; t < day2; t += step, n++) {
		ft[n] = t;
		fp[n] = t >= f->now - f->now % step ? 110000 : 100000;
		flo[n] = fp[n] - 10000;
		fhi[n] = fp[n] + 10000;
	}
	set->n = 2;
	set->t = util_calloc(2, sizeof(*set->t));
	set->contract_w = 100000;
	set->maker = true;
	trend_build(&set->t[0],
		    &(struct trend_input){ .name = "", .now_us = f->now, .day0_us = day0,
					   .day2_us = day2, .actual = &act, .step_us = step,
					   .local_hour = hour_of,
					   .fc_t = ft, .fc_point = fp, .fc_lo80 = flo, .fc_hi80 = fhi,
					   .fc_lo95 = flo, .fc_hi95 = fhi, .fc_n = n,
					   .has_current = true, .method = "dshw",
					   .made_us = day0 - 3600 * S, .took_us = 12500,
					   .contract_w = 100000 });
	trend_build(&set->t[1],
		    &(struct trend_input){ .name = "press-3", .now_us = f->now, .day0_us = day0,
					   .day2_us = day2, .step_us = step, .contract_w = NAN,
					   .message = "too little history: 0.50 days" });
	return set;
}

static void test_trends_view(void **state)
{
	struct fixture *f = *state;
	struct trend_set *set;
	void *st;

	render(f, &view_trends_ops);
	assert_shows(f, "No forecasts: there is no buffer ([store] path) to forecast from.");
	set = make_trends(f);
	f->plant.trends = set;
	set_size(f, 24, 80);
	f->ui.ascii = true;
	draw_setup(NULL, false, true);
	render(f, &view_trends_ops);
	assert_true(row_has(f, 0, "> Site total"));
	assert_true(row_has(f, 0, "1/2 Up/Down"));
	assert_shows(f, "forecast dshw, made ");
	assert_shows(f, " 23:00 (fit 13 ms)");
	assert_shows(f, "! forecast made ");
	assert_shows(f, " 23:00, older than its data (to ");
	assert_shows(f, "* actual  - forecast  : 95 % band  = contract 100.0 kW");
	assert_shows(f, "Peak forecast 110.0 kW at ");
	assert_shows(f, " intervals over the contract, from ");
	assert_shows(f, "Stored forecasts, last 7 days: MAPE 16.7 % (");
	assert_shows(f, "Hours over the contract by hour of day, last 14.0 days: 336.0 h");
	assert_shows(f, "today ");
	assert_shows(f, "tomorrow ");
	assert_cells(f, true);
	assert_stdscr_blank();

	st = state_of(f, &view_trends_ops);
	assert_int_equal(view_trends_ops.key(&f->ui, st, KEY_DOWN), UI_HANDLED | UI_REDRAW);
	render(f, &view_trends_ops);
	assert_true(row_has(f, 0, "> press-3"));
	assert_shows(f, "no forecast: too little history: 0.50 days");
	assert_shows(f, "Peak forecast: -");
	assert_shows(f, "no MAPE yet");
	assert_shows(f, "Hours over capacity: the site's");
	/* the end stays the end; Up goes back */
	view_trends_ops.key(&f->ui, st, KEY_DOWN);
	assert_int_equal(((struct view_trends_state *)st)->sel, 1);
	view_trends_ops.key(&f->ui, st, 'k');
	assert_int_equal(((struct view_trends_state *)st)->sel, 0);
	/* r without a feed: said so */
	assert_int_equal(view_trends_ops.key(&f->ui, st, 'r'), UI_HANDLED | UI_REDRAW);
	render(f, &view_trends_ops);
	assert_shows(f, "not regenerated: no forecasts here (no buffer)");
	f->ui.read_only = true;
	view_trends_ops.key(&f->ui, st, 'r');
	render(f, &view_trends_ops);
	assert_shows(f, "read-only console: the forecasts are not regenerated");
	f->ui.read_only = false;

	/* a wall screen: the same, with room */
	set_size(f, 60, 200);
	render(f, &view_trends_ops);
	assert_shows(f, "Stored forecasts, last 7 days: MAPE 16.7 %");
	assert_shows(f, "Peak forecast 110.0 kW");
	assert_stdscr_blank();
	f->plant.trends = NULL;
	trend_set_free(set);
}

/*
 * View 7 at 80x24, ASCII: press-line fed by press-3, run for 10 minutes
 * (1000 Wh, 10 pieces: 100 Wh a piece), then stopped; the machine tab is
 * there only with machines.
 */
static void test_machines_view(void **state)
{
	struct fixture *f = *state;
	char *runv[] = { (char *)"run", NULL }, *waitv[] = { (char *)"wait", NULL };
	char *stopv[] = { (char *)"stop", NULL };
	struct config_machine m = { .name = (char *)"press-line", .nmeters = 1,
				    .meters = { M_PRESS }, .topic = (char *)"plc/press",
				    .state_field = (char *)"state",
				    .state_values = { runv, waitv, stopv },
				    .pieces_field = (char *)"count", .stopped_power = NAN,
				    .stopped_after_ms = 600000, .period_ms = 3600000 };
	const char *run = "{\"state\":\"run\",\"count\":5}";
	const char *more = "{\"state\":\"run\",\"count\":15}";
	const char *stop = "{\"state\":\"stop\",\"count\":15}";
	struct machines *ms;
	struct sample out[2];
	size_t n;
	char err[128];
	int y;

	assert_false(ui_view_shown(&f->ui, VIEW_MACHINES));
	render(f, &view_machines_ops);
	assert_shows(f, "none configured");
	f->cfg.machines = &m;
	f->cfg.nmachines = 1;
	assert_true(ui_view_shown(&f->ui, VIEW_MACHINES));
	ms = machines_new(&f->cfg, f->now - 700 * S);
	machines_tick(ms, f->live, f->now - 700 * S); /* press-3's counter: the base */
	assert_int_equal(machines_message(ms, 0, run, strlen(run), f->now - 700 * S, out, &n, err,
					  sizeof(err)),
			 PAYLOAD_OK);
	assert_int_equal(n, 2);
	/* 10 pieces and 1000 Wh while it runs; stopped, 500 Wh more */
	assert_int_equal(machines_message(ms, 0, more, strlen(more), f->now - 100 * S, out, &n,
					  err, sizeof(err)),
			 PAYLOAD_OK);
	put(f, M_PRESS, QTY_E_IMP, f->now, 1234567.0 + 1000.0);
	machines_tick(ms, f->live, f->now);
	assert_int_equal(machines_message(ms, 0, stop, strlen(stop), f->now, out, &n, err,
					  sizeof(err)),
			 PAYLOAD_OK);
	put(f, M_PRESS, QTY_E_IMP, f->now + 100 * S, 1234567.0 + 1500.0);
	machines_tick(ms, f->live, f->now + 100 * S);
	f->plant.machines = ms;
	draw_setup(NULL, false, true);
	f->ui.ascii = true;
	render(f, &view_machines_ops);
	assert_cells(f, true);
	y = find_row(f, "press-line", 0);
	assert_true(y > 0);
	assert_true(row_has(f, y, "stop"));
	y = find_row(f, "Today since", 0);
	assert_true(y > 0);
	/* 700 s run, 100 s stop: 87.5 / 0.0 / 12.5 */
	assert_true(row_has(f, y + 2, "press-line  87.5   0.0  12.5      10  1.50 kWh    150 Wh    500 Wh"));
	f->plant.machines = NULL;
	machines_free(ms);
	f->cfg.machines = NULL;
	f->cfg.nmachines = 0;
}

static void test_sources_without_hub(void **state)
{
	struct fixture *f = *state;

	render(f, &view_sources_ops);
	assert_shows(f, "No sources");
	assert_int_equal(view_sources_ops.key(&f->ui, state_of(f, &view_sources_ops), KEY_DOWN), UI_HANDLED);
	assert_int_equal(src(f)->list.scroll, 0);
}

static void test_sources_with_hub(void **state)
{
	struct fixture *f = *state;
	struct hub_opts opts = { .mode = "console", .no_store = true };
	struct hub *hub;
	char *cause = NULL;
	int y, link_mb, link_mq, press, furnace, comp;

	f->cfg.mqtt.enabled = true;
	f->cfg.mqtt.uri = (char *)"tcp://127.0.0.1:1";
	hub = hub_new(&f->cfg, &opts, &cause);
	if (hub == NULL)
		fail_msg("hub_new: %s", cause != NULL ? cause : "?");
	hub_status(hub, &f->plant.status);
	f->plant.has_status = true;

	render(f, &view_sources_ops);
	assert_true(row_has(f, 0, "Sources"));
	assert_true(row_has(f, 0, "0 of 2 links up"));
	link_mb = find_row(f, "10.0.0.21:502", 0);
	link_mq = find_row(f, "tcp://127.0.0.1:1", 0);
	assert_true(link_mb > 0 && link_mq > link_mb);
	assert_true(row_has(f, link_mb, "modbus"));
	assert_true(row_has(f, link_mb, "idle"));
	assert_true(row_has(f, link_mq, "mqtt"));
	/* the first frame has no rate yet */
	assert_true(row_has(f, link_mb + 1, "per s -"));
	/* each meter under its link, with its own state */
	press = find_row(f, "press-3", link_mb);
	furnace = find_row(f, "furnace-foundry", link_mb);
	comp = find_row(f, "compressor-air", link_mq);
	assert_true(press > link_mb && press < link_mq);
	assert_true(furnace > link_mb && furnace < link_mq);
	assert_true(comp > link_mq);
	assert_true(row_has(f, press, "ok"));
	assert_true(row_has(f, press, "polls 100"));
	assert_true(row_has(f, furnace, "stale"));
	assert_true(row_has(f, comp, "down"));
	assert_true(row_has(f, comp, "messages 0"));
	assert_true(row_has(f, comp + 1, "error broker: refused ?[31mRED?[0m end"));
	assert_true(row_has(f, link_mq, "idle for 0"));
	/* no buffer here, so no intake journal: said in the alarm colour */
	assert_true(find_row(f, "no intake journal: messages are acknowledged before", link_mq) >
		    link_mq);
	assert_cells(f, false);
	/* the buffer and the hub queue */
	y = find_row(f, "Buffer", 0);
	assert_true(y > comp);
	assert_true(row_has(f, y, "none"));
	y = find_row(f, "depth 0", y);
	assert_true(y > 0);
	assert_true(find_row(f, "backpressure no", y) > y);

	/* two seconds later the rate is known: no request was made */
	f->plant.now_us += 2 * S;
	render(f, &view_sources_ops);
	assert_true(row_has(f, find_row(f, "10.0.0.21:502", 0) + 1, "per s 0.0"));

	/* a body too short for it all scrolls (the lines fit at 80x24) */
	set_size(f, 14, 80);
	render(f, &view_sources_ops);
	assert_int_equal(find_row(f, "backpressure", 0), -1);
	assert_true(row_has(f, getmaxy(f->ui.body) - 1, "more below"));
	assert_int_equal(view_sources_ops.key(&f->ui, state_of(f, &view_sources_ops), KEY_END), UI_HANDLED | UI_REDRAW);
	render(f, &view_sources_ops);
	assert_true(src(f)->list.scroll > 0);
	assert_true(find_row(f, "backpressure", 0) >= 0);
	assert_int_equal(find_row(f, "more below", 0), -1);
	assert_int_equal(view_sources_ops.key(&f->ui, state_of(f, &view_sources_ops), KEY_DOWN), UI_HANDLED);  /* at the end */
	assert_int_equal(view_sources_ops.key(&f->ui, state_of(f, &view_sources_ops), KEY_UP), UI_HANDLED | UI_REDRAW);
	assert_int_equal(view_sources_ops.key(&f->ui, state_of(f, &view_sources_ops), KEY_HOME), UI_HANDLED | UI_REDRAW);
	assert_int_equal(src(f)->list.scroll, 0);
	assert_int_equal(view_sources_ops.key(&f->ui, state_of(f, &view_sources_ops), 'x'), UI_IGNORED);

	f->plant.has_status = false;
	hub_free(hub);
}

/* More endpoints than the 64 slots callers once passed: every link counted and drawn. */
static void test_sources_many_links(void **state)
{
	enum { NLINKS = 70 };
	struct fixture *f = *state;
	struct hub_opts opts = { .mode = "console", .no_store = true };
	struct config_meter meters[NLINKS];
	char names[NLINKS][16], hosts[NLINKS][16];
	struct config cfg = f->cfg;
	const struct source_link *links;
	struct hub *hub;
	char *cause = NULL;
	size_t i;
	int y;

	for (i = 0; i < NLINKS; i++) {
		snprintf(names[i], sizeof(names[i]), "m%zu", i + 1);
		snprintf(hosts[i], sizeof(hosts[i]), "10.0.1.%zu", i + 1);
		meters[i] = f->meters[M_PRESS];
		meters[i].name = names[i];
		meters[i].host = hosts[i];
	}
	cfg.meters = meters;
	cfg.nmeters = NLINKS;
	hub = hub_new(&cfg, &opts, &cause);
	if (hub == NULL)
		fail_msg("hub_new: %s", cause != NULL ? cause : "?");
	assert_int_equal(hub_links(hub, &links), NLINKS);
	for (i = 0; i < NLINKS; i++) {
		char want[32];

		snprintf(want, sizeof(want), "10.0.1.%zu:502", i + 1);
		assert_string_equal(links[i].name, want);
		assert_int_equal(links[i].nmeters, 1);
	}
	hub_status(hub, &f->plant.status);
	f->plant.has_status = true;

	set_size(f, 400, 100);
	render(f, &view_sources_ops);
	assert_true(row_has(f, 0, "0 of 70 links up"));
	y = find_row(f, "10.0.1.70:502", 0);
	assert_true(y > find_row(f, "10.0.1.64:502", 0));
	assert_true(row_has(f, y + 1, "per s -"));
	assert_int_equal(find_row(f, "more links", 0), -1);
	/* each link has its own rate, the 70th too */
	f->plant.now_us += 2 * S;
	render(f, &view_sources_ops);
	assert_true(row_has(f, find_row(f, "10.0.1.70:502", 0) + 1, "per s 0.0"));

	f->plant.has_status = false;
	hub_free(hub);
}

static void test_empty_plant(void **state)
{
	struct fixture *f = *state;
	size_t v;

	for (v = 0; v < UTIL_ARRAY_LEN(all_views); v++) {
		render(f, all_views[v]);
		assert_cells(f, false);
	}
	render(f, &view_overview_ops);
	assert_shows(f, "No meters are configured.");
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), KEY_DOWN), UI_HANDLED);
	assert_int_equal(view_overview_ops.key(&f->ui, state_of(f, &view_overview_ops), '\n'), UI_HANDLED);
	assert_int_equal(f->ui.view, VIEW_OVERVIEW);
	render(f, &view_meter_ops);
	assert_shows(f, "No meters are configured.");
	assert_int_equal(view_meter_ops.key(&f->ui, state_of(f, &view_meter_ops), KEY_DOWN), UI_HANDLED);
	render(f, &view_alarms_ops);
	assert_shows(f, "no alarm needs attention");
	render(f, &view_trends_ops);
	assert_shows(f, "No forecasts: there is no buffer");
	assert_stdscr_blank();
}


/* ---- alarms ---- */

static int key(struct fixture *f, int ch)
{
	return view_alarms_ops.key(&f->ui, state_of(f, &view_alarms_ops), ch);
}

static void test_alarm_view(void **state)
{
	struct fixture *f = *state;
	int y_pf, y_comm, y;
	long lowpf = alarm_find(f->alarms, "low-pf", "press-3");

	util_strlcpy(f->ui.operator_name, "marie", sizeof(f->ui.operator_name));
	render(f, &view_alarms_ops);
	assert_true(row_has(f, 0, "Alarms 2 unack, 2 active, 0 shelved, 0 suppressed"));
	assert_true(row_has(f, 1, "STATE") && row_has(f, 1, "LIMIT"));
	/* sorted: state, then priority, then newest first: both high, and the
	 * comm alarm raised a minute ago (after its on-delay) */
	y_comm = find_row(f, "compressor-a", 2);
	y_pf = find_row(f, "press-3", 2);
	assert_int_equal(y_pf, 2);
	assert_int_equal(y_comm, 3);
	assert_true(row_has(f, y_pf, "UNACK"));
	assert_true(row_has(f, y_pf, "HIGH"));
	assert_true(row_has(f, y_pf, "Power factor"));
	assert_true(row_has(f, y_pf, "0.750"));
	assert_true(row_has(f, y_pf, "0.850"));
	assert_true(row_has(f, y_comm, "yes"));
	/* the selection starts on the first row */
	assert_true(row_has(f, y_pf, draw_symbol(SYM_SELECT)));
	assert_cells(f, false);
	/* Down and Up move it */
	assert_int_equal(key(f, KEY_DOWN), UI_HANDLED | UI_REDRAW);
	assert_int_equal(al(f)->sel, alarm_find(f->alarms, "comm", "compressor-air"));
	assert_int_equal(key(f, KEY_UP), UI_HANDLED | UI_REDRAW);

	/* a: press-3's alarm acknowledged by marie */
	assert_int_equal(al(f)->sel, lowpf);
	f->nevents = 0;
	assert_int_equal(key(f, 'a'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(alarm_get(f->alarms, (size_t)lowpf)->state, ALARM_ACK);
	assert_int_equal(f->nevents, 1);
	assert_int_equal(f->events[0].kind, AEV_ACK);
	assert_string_equal(f->events[0].operator_name, "marie");
	render(f, &view_alarms_ops);
	y_pf = find_row(f, "press-3", 2);
	assert_int_equal(y_pf, 3); /* acknowledged rows after unacknowledged ones */
	assert_true(row_has(f, y_pf, "ACKED"));
	assert_shows(f, "acknowledged: low-pf on press-3");
	/* the cursor kept its row: on the next alarm, which took it */
	assert_int_equal(al(f)->sel, alarm_find(f->alarms, "comm", "compressor-air"));
	assert_true(row_has(f, 2, draw_symbol(SYM_SELECT)) && row_has(f, 2, "compressor-a"));
	/* a second time on press-3: refused, said why, nothing moves */
	assert_int_equal(key(f, KEY_END), UI_HANDLED | UI_REDRAW);
	assert_int_equal(al(f)->sel, lowpf);
	assert_int_equal(key(f, 'a'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_shows(f, "low-pf on press-3: nothing to acknowledge");
	assert_int_equal(al(f)->sel, lowpf);

	/* Enter: the details */
	assert_int_equal(key(f, '\n'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_shows(f, "low-pf on press-3: priority high, watches pf; ack since");
	assert_shows(f, "Action: ");
	assert_shows(f, "Last operator: marie");
	assert_int_equal(key(f, 27), UI_HANDLED | UI_REDRAW);
	assert_false(al(f)->details);

	/* s, 2, a reason: shelved for an hour; gone from the list until c */
	assert_int_equal(key(f, 's'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_shows(f, "Shelve low-pf/press-3 for: 1) 15 min 2) 1 h 3) 4 h 4) 8 h 5) one");
	assert_int_equal(key(f, '2'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_shows(f, "Why shelve low-pf/press-3 for 1 h [0/192]: _");
	/* no reason: refused, the prompt stays */
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(alarm_get(f->alarms, (size_t)lowpf)->state, ALARM_ACK);
	render(f, &view_alarms_ops);
	assert_shows(f, "Why shelve low-pf/press-3");
	assert_shows(f, "[0/192]: _   a reason is required");
	for (y = 0; "capacitor bank"[y] != '\0'; y++)
		key(f, "capacitor bank"[y]);
	f->nevents = 0;
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(alarm_get(f->alarms, (size_t)lowpf)->state, ALARM_SHELVED);
	assert_int_equal(f->nevents, 1);
	assert_int_equal(f->events[0].kind, AEV_SHELVE);
	assert_true(f->events[0].until_us == f->now + 3600 * S);
	{
		/* the journal's note: how long, until when (UTC), why */
		char want[96], at[16];
		time_t t = (time_t)((f->now + 3600 * S) / S);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(at, sizeof(at), "%H:%M:%SZ", &tm);
		snprintf(want, sizeof(want), "shelved 1 h until %s: capacitor bank", at);
		assert_string_equal(f->events[0].note, want);
	}
	render(f, &view_alarms_ops);
	assert_int_equal(find_row(f, "press-3       Power", 2), -1);
	assert_shows(f, "shelved: low-pf on press-3");
	assert_true(row_has(f, 0, "1 shelved"));
	assert_int_equal(key(f, 'c'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	y = find_row(f, "press-3", 2);
	assert_true(y > 0 && row_has(f, y, "SHELVED"));
	/* u: back (still active, so unacknowledged) */
	al(f)->sel = lowpf;
	assert_int_equal(key(f, 'u'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(alarm_get(f->alarms, (size_t)lowpf)->state, ALARM_UNACK);
	assert_int_equal(key(f, 'c'), UI_HANDLED | UI_REDRAW);

	/* n: a note, typed */
	assert_int_equal(key(f, 'n'), UI_HANDLED | UI_REDRAW);
	key(f, 'o');
	key(f, 'k');
	render(f, &view_alarms_ops);
	assert_shows(f, "Note on low-pf/press-3 [2/255]: ok_");
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	assert_string_equal(alarm_get(f->alarms, (size_t)lowpf)->note, "ok");

	/* / filter */
	assert_int_equal(key(f, '/'), UI_HANDLED | UI_REDRAW);
	key(f, 'c');
	key(f, 'o');
	key(f, 'm');
	key(f, '\r');
	render(f, &view_alarms_ops);
	assert_true(find_row(f, "compressor-a", 2) > 0);
	assert_int_equal(find_row(f, "press-3       Power", 2), -1);
	assert_int_equal(key(f, 27), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_true(find_row(f, "press-3       Power", 2) > 0);

	/* A, y: every visible one */
	assert_int_equal(key(f, 'A'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_shows(f, "Acknowledge the 2 visible unacknowledged alarms? y/n");
	assert_int_equal(key(f, 'y'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_shows(f, "Note for the 2 acknowledgements (optional) [0/255]: _");
	f->nevents = 0;
	key(f, 'o');
	key(f, 'k');
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->nevents, 2);
	assert_string_equal(f->events[0].note, "ok");
	assert_string_equal(f->events[1].note, "ok");
	render(f, &view_alarms_ops);
	assert_shows(f, "acknowledged 2 alarms");
	assert_true(row_has(f, 0, "Alarms 0 unack, 2 active"));

	/* read-only: refused, said so, nothing changes */
	f->ui.read_only = true;
	f->nevents = 0;
	assert_int_equal(key(f, 's'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(al(f)->prompt, 0);
	render(f, &view_alarms_ops);
	assert_shows(f, "read-only console: alarm states cannot be changed here");
	assert_int_equal(f->nevents, 0);
	f->ui.read_only = false;
	assert_int_equal(key(f, 'x'), UI_IGNORED);
}

/* A third alarm: furnace-foundry's low PF, raised 3 s ago (the newest: first row). */
static long raise_furnace(struct fixture *f)
{
	long i = alarm_find(f->alarms, "low-pf", "furnace-foundry");

	assert_true(i >= 0);
	alarm_feed(f->alarms, (size_t)i, 0.70, true, f->now - 60 * S);
	alarm_feed(f->alarms, (size_t)i, 0.70, true, f->now - 3 * S);
	assert_int_equal(alarm_get(f->alarms, (size_t)i)->state, ALARM_UNACK);
	return i;
}

static void type(struct fixture *f, const char *s)
{
	for (; *s != '\0'; s++)
		key(f, (unsigned char)*s);
}

/* The row of the selection mark, -1 when none. */
static int sel_row(struct fixture *f)
{
	int y;

	for (y = 2; y < f->ui.rows - 2; y++)
		if (row_has(f, y, draw_symbol(SYM_SELECT)))
			return y;
	return -1;
}

/*
 * The operator's place (issue 10, 6): after a, s, u or n the cursor keeps
 * its row, where the next alarm now is; the selection follows an alarm,
 * not a row, and an action applies to the alarm selected when its key was
 * pressed, even if the list changed while its prompt was open.
 */
static void test_alarm_keeps_place(void **state)
{
	struct fixture *f = *state;
	long furnace = raise_furnace(f);
	long lowpf = alarm_find(f->alarms, "low-pf", "press-3");
	long comm = alarm_find(f->alarms, "comm", "compressor-air");
	char err[64];

	util_strlcpy(f->ui.operator_name, "marie", sizeof(f->ui.operator_name));
	render(f, &view_alarms_ops);
	/* newest first: furnace, press-3, compressor-air */
	assert_int_equal(find_row(f, "furnace-foun", 2), 2);
	assert_int_equal(find_row(f, "press-3", 2), 3);
	assert_int_equal(find_row(f, "compressor-a", 2), 4);
	assert_int_equal(al(f)->sel, furnace);

	/* a: furnace goes down among the acknowledged; press-3 takes row 2, and the cursor */
	assert_int_equal(key(f, 'a'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_int_equal(find_row(f, "furnace-foun", 2), 4);
	assert_int_equal(al(f)->sel, lowpf);
	assert_int_equal(sel_row(f), 2);

	/* n: the note leaves press-3 where it is; so does the cursor */
	assert_int_equal(key(f, 'n'), UI_HANDLED | UI_REDRAW);
	type(f, "seen");
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_string_equal(alarm_get(f->alarms, (size_t)lowpf)->note, "seen");
	assert_int_equal(al(f)->sel, lowpf);
	assert_int_equal(sel_row(f), 2);

	/* s: press-3 leaves the list; compressor-air, after it, takes its row */
	key(f, 's');
	key(f, '1');
	type(f, "tests");
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(alarm_get(f->alarms, (size_t)lowpf)->state, ALARM_SHELVED);
	render(f, &view_alarms_ops);
	assert_int_equal(al(f)->sel, comm);
	assert_int_equal(sel_row(f), 2);

	/* u, in the full list: press-3 goes back up among the unacknowledged;
	 * the cursor stays on its row, on the alarm that followed it */
	key(f, 'c');
	render(f, &view_alarms_ops);
	al(f)->sel = lowpf;
	render(f, &view_alarms_ops);
	{
		int y = sel_row(f);

		assert_true(y > 2);
		assert_int_equal(key(f, 'u'), UI_HANDLED | UI_REDRAW);
		assert_int_equal(alarm_get(f->alarms, (size_t)lowpf)->state, ALARM_UNACK);
		render(f, &view_alarms_ops);
		assert_true(al(f)->sel != lowpf);
		assert_int_equal(sel_row(f), y);
	}
	key(f, 'c');

	/* A prompt keeps its alarm: n on press-3, then another console
	 * acknowledges it and the list re-sorts under the open prompt */
	render(f, &view_alarms_ops);
	al(f)->sel = lowpf;
	render(f, &view_alarms_ops);
	assert_int_equal(key(f, 'n'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(alarm_ack(f->alarms, (size_t)lowpf, "paul", "", f->now, err, sizeof(err)), 0);
	render(f, &view_alarms_ops);
	type(f, "for press-3");
	f->nevents = 0;
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->nevents, 1);
	assert_int_equal(f->events[0].kind, AEV_NOTE);
	assert_string_equal(f->events[0].meter, "press-3");
	assert_string_equal(f->events[0].note, "for press-3");
	assert_string_equal(alarm_get(f->alarms, (size_t)comm)->note, "");

	/* the selection leaves the list (shelved elsewhere): the alarm now on
	 * its row is selected, not the top one */
	render(f, &view_alarms_ops);
	assert_int_equal(key(f, KEY_END), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	{
		int y = sel_row(f);
		long gone = al(f)->sel;

		assert_true(y > 2);
		assert_int_equal(alarm_shelve(f->alarms, (size_t)gone, "paul", 0, "", f->now, err,
					      sizeof(err)), 0);
		render(f, &view_alarms_ops);
		assert_true(al(f)->sel != gone && al(f)->sel >= 0);
		assert_int_equal(sel_row(f), y - 1); /* it was the last: the new last */
	}

	/* m: the selected alarm's meter in the meter view */
	al(f)->sel = comm;
	assert_int_equal(key(f, '\n'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(key(f, 'm'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->ui.view, VIEW_METER);
	assert_int_equal(f->ui.meter, M_COMPRESSOR);
}

/* A acknowledges what it counted: not an alarm raised while its question was open. */
static void test_alarm_ack_all_counted(void **state)
{
	struct fixture *f = *state;
	long furnace;

	render(f, &view_alarms_ops);
	assert_int_equal(key(f, 'A'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_shows(f, "Acknowledge the 2 visible unacknowledged alarms? y/n");
	furnace = raise_furnace(f);
	render(f, &view_alarms_ops);
	assert_shows(f, "Acknowledge the 2 visible unacknowledged alarms? y/n");
	key(f, 'y');
	f->nevents = 0;
	assert_int_equal(key(f, '\r'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->nevents, 2);
	assert_int_equal(alarm_get(f->alarms, (size_t)furnace)->state, ALARM_UNACK);
	render(f, &view_alarms_ops);
	assert_shows(f, "acknowledged 2 alarms");
	/* n (no) and Esc in the note: nothing acknowledged */
	key(f, 'A');
	assert_int_equal(key(f, 'n'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(alarm_get(f->alarms, (size_t)furnace)->state, ALARM_UNACK);
	key(f, 'A');
	key(f, 'y');
	assert_int_equal(key(f, KEYS_ESC), UI_HANDLED | UI_REDRAW);
	assert_int_equal(al(f)->prompt, 0);
	assert_int_equal(alarm_get(f->alarms, (size_t)furnace)->state, ALARM_UNACK);
}

/* Notes in UTF-8, kept byte for byte; a note that does not fit is refused, not cut. */
static void test_alarm_note_utf8(void **state)
{
	struct fixture *f = *state;
	static const int typed[] = {
		'T', 'e', 'm', 'p', KEYS_CHAR | 0xe9, 'r', 'a', 't', 'u', 'r', 'e', ' ',
		KEYS_CHAR | 0xe9, 'l', 'e', 'v', KEYS_CHAR | 0xe9, 'e', ' ', KEYS_CHAR | 0x2014,
		' ', 'o', 'k',
	};
	long lowpf = alarm_find(f->alarms, "low-pf", "press-3");
	size_t i;
	int foot;

	render(f, &view_alarms_ops);
	assert_int_equal(al(f)->sel, lowpf);
	key(f, 'n');
	for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++)
		key(f, typed[i]);
	render(f, &view_alarms_ops);
	assert_shows(f, "Note on low-pf/press-3 [28/255]: Température élevée — ok_");
	f->nevents = 0;
	key(f, '\r');
	assert_int_equal(f->nevents, 1);
	assert_string_equal(f->events[0].note, "Température élevée — ok");
	/* a new alarm above it right after: the selection stays on press-3 */
	raise_furnace(f);
	render(f, &view_alarms_ops);
	assert_int_equal(al(f)->sel, lowpf);
	assert_int_equal(sel_row(f), 3);

	/* 300 characters into 255 bytes: the last ones refused, and said so */
	key(f, 'n');
	for (i = 0; i < 127; i++)
		key(f, KEYS_CHAR | 0xe9);   /* 254 bytes */
	key(f, KEYS_CHAR | 0xe9);          /* 256: refused whole */
	assert_true(al(f)->input_full);
	assert_int_equal(strlen(al(f)->input), 254);
	key(f, 'x');                        /* 255: fits */
	assert_false(al(f)->input_full);
	key(f, 'y');
	assert_true(al(f)->input_full);
	assert_int_equal(strlen(al(f)->input), 255);
	render(f, &view_alarms_ops);
	foot = getmaxy(f->ui.body) - 1;
	assert_true(row_has(f, foot, "[255/255 full]: "));
	/* the field shows the end of the text, with the cursor, in its row */
	assert_true(row_has(f, foot, "ééx_"));
	f->nevents = 0;
	key(f, '\r');
	assert_int_equal(f->nevents, 1);
	assert_int_equal(strlen(f->events[0].note), 255);
	assert_int_equal(f->events[0].note[254], 'x');
}

static void test_alarm_perf_panel(void **state)
{
	struct fixture *f = *state;
	int y;

	assert_int_equal(key(f, 'p'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_true(row_has(f, 0, "Alarm performance (EEMUA 191)"));
	assert_shows(f, "Raises in the last 10 min: 2   average");
	assert_shows(f, "Floods (>= 10 in 10 min): 0   active 2   standing (>24 h) 0   chattering 0");
	assert_shows(f, "Priority mix of raises: critical 0% high 100% medium 0% low 0%");
	y = find_row(f, "Most frequent", 0);
	assert_true(y > 0);
	assert_true(row_has(f, y + 1, " 1.") && row_has(f, y + 2, " 2."));
	assert_true(find_row(f, "press-3         low-pf", y) > y);
	assert_true(find_row(f, "compressor-air  comm", y) > y);
	assert_cells(f, false);
	assert_int_equal(key(f, 'p'), UI_HANDLED | UI_REDRAW);
	render(f, &view_alarms_ops);
	assert_true(row_has(f, 1, "STATE"));
}

/*
 * Nothing the alarm view does comes from the wall clock: an action is
 * stamped with the plant's instant, its feedback lasts 8 s of the plant's
 * time, and the outcome of a request comes in through the plant (a replay
 * will set another instant than now).
 */
static void test_alarm_plant_time(void **state)
{
	struct fixture *f = *state;
	long lowpf = alarm_find(f->alarms, "low-pf", "press-3");
	int64_t t = f->now + 3600 * S;
	int foot;

	util_strlcpy(f->ui.operator_name, "marie", sizeof(f->ui.operator_name));
	f->plant.now_us = t;
	render(f, &view_alarms_ops);
	assert_int_equal(al(f)->sel, lowpf);
	f->nevents = 0;
	assert_int_equal(key(f, 'a'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(f->nevents, 1);
	assert_int_equal(f->events[0].kind, AEV_ACK);
	assert_true(f->events[0].t_us == t);
	assert_true(alarm_get(f->alarms, (size_t)lowpf)->since_us == t);
	foot = getmaxy(f->ui.body) - 1;
	render(f, &view_alarms_ops);
	assert_true(row_has(f, foot, "acknowledged: low-pf on press-3"));
	/* 7 s of plant time later it is still said, at 9 s it is gone */
	f->plant.now_us = t + 7 * S;
	render(f, &view_alarms_ops);
	assert_true(row_has(f, foot, "acknowledged: low-pf on press-3"));
	f->plant.now_us = t + 9 * S;
	render(f, &view_alarms_ops);
	assert_false(row_has(f, foot, "acknowledged"));
	assert_true(row_has(f, foot, "a ack  A all"));

	/* the recorder's verdict on a request, as the feed put it in the plant */
	f->plant.outcome.seq = 1;
	util_strlcpy(f->plant.outcome.text, "shelve of low-pf on press-3 refused: shelve_max",
		     sizeof(f->plant.outcome.text));
	f->plant.outcome.refused = true;
	f->plant.outcome.at_us = t + 9 * S;
	render(f, &view_alarms_ops);
	assert_true(row_has(f, foot, "shelve of low-pf on press-3 refused: shelve_max"));
	assert_int_equal(al(f)->outcome_seen, 1);
	assert_true(al(f)->message_error);
	f->plant.now_us = t + 18 * S;
	render(f, &view_alarms_ops);
	assert_false(row_has(f, foot, "refused"));
}

/* ---- values that tell the truth (issue 10) ---- */

/* A meter that is down keeps its last figures but no tier or risk from them. */
static void test_down_judges_nothing(void **state)
{
	struct fixture *f = *state;
	struct meter_comm c = { .status = COMM_DOWN, .latency_us = -1, .polls = 40, .timeouts = 3 };
	int y;

	/* furnace-foundry's last values: PF 0.75 (critical), then it went down */
	feed_meter(f, M_FURNACE, f->now - 60 * S, 150000.0, 0.75);
	c.last_good_us = f->now - 60 * S;
	util_strlcpy(c.error, "timeout after 1000 ms", sizeof(c.error));
	live_set_comm(f->live, M_FURNACE, &c);

	set_size(f, 40, 140);  /* with the risk column */
	render(f, &view_overview_ops);
	y = find_row(f, "furnace-foundry", 4);
	assert_true(y >= 4);
	assert_true(row_has(f, y, "down"));
	assert_true(row_has(f, y, "\u25cc150.0"));        /* the last power, marked old */
	assert_true(row_has(f, y, "0.750"));                /* the last PF */
	assert_false(row_has(f, y, "critical"));
	assert_false(row_has(f, y, "crit"));
	assert_false(row_has(f, y, "major"));
	/* the live meter with the same PF still says it */
	assert_true(row_has(f, find_row(f, "press-3", 4), "critical"));

	f->ui.meter = M_FURNACE;
	render(f, &view_meter_ops);
	assert_true(row_has(f, 1, "down"));
	assert_true(row_has(f, 1, "poll -"));    /* its polls time out: no round trip */
	assert_shows(f, "Risk - unknown: the meter is down");
	assert_int_equal(find_row(f, "critical", 0), -1);
	assert_int_equal(find_row(f, "Poor power factor", 0), -1);
	assert_int_equal(find_row(f, " over", 0), -1);
	assert_shows(f, "\u25cc0.750");
}

/* No max_power: no overload, gauges on an observed scale; with one, the overview marks P. */
static void test_overload_needs_max_power(void **state)
{
	struct fixture *f = *state;
	int y;

	/* press-3 draws 69 kW: over a 50 kW max_power */
	f->meters[M_PRESS].max_power = 50000;
	render(f, &view_overview_ops);
	y = find_row(f, "press-3", 4);
	assert_true(row_has(f, y, "\u25b269.0"));
	assert_false(row_has(f, find_row(f, "furnace-foundry", 4), "\u25b2"));
	f->ui.meter = M_PRESS;
	render(f, &view_meter_ops);
	assert_shows(f, "Overload");
	assert_true(find_row(f, "P L1  \u25b2", 0) > 0);  /* 23 kW over 16.7 kW per phase */

	/* without one: no overload limit at all */
	f->meters[M_PRESS].max_power = NAN;
	render(f, &view_overview_ops);
	y = find_row(f, "press-3", 4);
	assert_true(row_has(f, y, "69.0"));
	assert_false(row_has(f, y, "\u25b2"));
	render(f, &view_meter_ops);
	assert_int_equal(find_row(f, "Overload", 0), -1);
	assert_int_equal(find_row(f, "L1  \u25b2", 0), -1);    /* no gauge over a limit */
	set_size(f, 60, 200);
	render(f, &view_meter_ops);
	/* peak 70 kW in the last hour: 23.3 kW per phase, x 1.1 -> 30 kW; 147 A -> 200 A */
	assert_shows(f, "Active power  (scale 0 .. 30.0 kW per phase, no max_power)");
	assert_shows(f, "Current  (scale 0 .. 200.0 A per phase, no max_power)");
	assert_int_equal(find_row(f, "rated", 0), -1);
}

/* The digits shown never contradict the tier, band or check beside them. */
static void test_values_agree(void **state)
{
	struct fixture *f = *state;
	struct meter_comm c = { .status = COMM_OK, .latency_us = 9000, .polls = 10 };
	int y;

	/* press-3 at PF 0.8496 (poor, and below the low-pf alarm's 0.85),
	 * furnace-foundry at 0.8504 (acceptable): nearest rounding prints 0.850 for both */
	feed_meter(f, M_PRESS, f->now - S / 2, 69000.0, 0.8496);
	feed_meter(f, M_FURNACE, f->now - S / 2, 150000.0, 0.8504);
	c.last_good_us = f->now - S / 2;
	live_set_comm(f->live, M_FURNACE, &c);
	/* THD-V 8.04 % (over 8) on L1, 206.96 V on L1 (below the 207 V band) */
	put(f, M_PRESS, QTY_THD_V_L1, f->now - S / 2, 8.04);
	put(f, M_PRESS, QTY_V_L1N, f->now - S / 2, 206.96);

	render(f, &view_overview_ops);
	assert_true(row_has(f, find_row(f, "press-3", 4), "0.849 poor"));
	assert_true(row_has(f, find_row(f, "furnace-foundry", 4), "0.850 acc."));
	set_size(f, 40, 140);
	render(f, &view_overview_ops);
	y = find_row(f, "press-3", 4);
	assert_true(row_has(f, y, "0.849 poor"));
	assert_true(row_has(f, y, "8.1"));       /* THD-V over 8 %, not "8.0" */
	assert_false(row_has(f, y, "8.0 "));

	f->ui.meter = M_PRESS;
	set_size(f, 24, 80);
	render(f, &view_meter_ops);
	assert_shows(f, "0.849 ind poor");
	assert_shows(f, "V 8.1 2.3 2.0 % (max 8) over");
	set_size(f, 60, 200);
	render(f, &view_meter_ops);
	y = find_row(f, "L1  \u25b2 206.9 V", 2);   /* not "207.0 V" next to "low" */
	assert_true(y > 0);
	assert_true(row_has(f, y, "low"));

	/* The alarm list: press-3's low-pf alarm, now at 0.8496, shows 0.849
	 * beside its limit 0.850, never 0.850 */
	{
		long i = alarm_find(f->alarms, "low-pf", "press-3");

		assert_true(i >= 0);
		alarm_feed(f->alarms, (size_t)i, 0.8496, true, f->now - S / 2);
		set_size(f, 24, 80);
		render(f, &view_alarms_ops);
		y = find_row(f, "press-3", 2);
		assert_true(y > 0);
		assert_true(row_has(f, y, "0.849"));
		assert_false(row_has(f, y, "0.850    0.850"));
	}
}

/* ---- history ---- */

/* View 6 without a worker says so; its keys move the range: presets on
 * local midnights, zoom halves and doubles around the cursor, pan keeps
 * the span, c takes any TIME, a bad one is refused. */
static void test_history_keys(void **state)
{
	struct fixture *f = *state;
	struct view_history_state *st = state_of(f, &view_history_ops);
	const struct view_ops *v = &view_history_ops;
	int64_t mid = kpi_local_midnight(f->now), span;
	const char *k;

	render(f, v);
	assert_true(find_row(f, "No history: there is no buffer", 0) >= 0);
	assert_int_equal(st->meter, -1);
	assert_int_equal(st->qty, QTY_P_TOTAL);
	assert_int_equal(v->key(&f->ui, st, 'r'), UI_HANDLED | UI_REDRAW); /* today -> yesterday */
	assert_true(st->to_us == mid && st->from_us == kpi_local_midnight(mid - S));
	v->key(&f->ui, st, 'r');                                            /* 7 days */
	assert_true(st->from_us < mid && st->to_us > f->now);
	span = st->to_us - st->from_us;
	st->ncols = 56;
	st->cursor = 10;
	v->key(&f->ui, st, 'z');
	assert_true(st->to_us - st->from_us == span / 2);
	v->key(&f->ui, st, 'x');
	assert_true(st->to_us - st->from_us == span);
	v->key(&f->ui, st, KEY_NPAGE);
	assert_true(st->to_us - st->from_us == span);
	v->key(&f->ui, st, 'R');                                            /* custom -> 30 days */
	assert_true(st->to_us - st->from_us >= 29 * 86400 * S);
	v->key(&f->ui, st, 'c');
	for (k = "-2h"; *k != '\0'; k++)
		v->key(&f->ui, st, *k);
	v->key(&f->ui, st, '\r');
	v->key(&f->ui, st, '\r'); /* TO: now */
	assert_int_equal(st->prompt, 0);
	assert_true(st->from_us == f->now - 7200 * S && st->to_us == f->now);
	v->key(&f->ui, st, 'c');
	for (k = "soon"; *k != '\0'; k++)
		v->key(&f->ui, st, *k);
	v->key(&f->ui, st, '\r');
	assert_true(st->message_error && strstr(st->message, "not a time: 'soon'") != NULL);
	assert_true(st->from_us == f->now - 7200 * S);
	/* the series: the site, then each meter, and round */
	v->key(&f->ui, st, 'm');
	assert_int_equal(st->meter, 0);
	v->key(&f->ui, st, 'M');
	v->key(&f->ui, st, 'M');
	assert_int_equal(st->meter, NMETERS - 1);
	v->key(&f->ui, st, 'o');
	assert_true(st->overlay >= 0 && st->overlay != st->meter);
	assert_int_equal(v->key(&f->ui, st, 'p'), UI_HANDLED | UI_REDRAW);
	assert_int_equal(st->page, 1);
	assert_int_equal(v->key(&f->ui, st, '!'), UI_IGNORED);
}

static void test_help(void **state)
{
	size_t v;
	int i;

	(void)state;
	for (v = 0; v < UTIL_ARRAY_LEN(all_views); v++) {
		const struct view_ops *o = all_views[v];

		assert_non_null(o->name);
		assert_non_null(o->draw);
		assert_non_null(o->key);
		assert_int_equal(o->hotkey, (char)('1' + v));
		assert_non_null(o->help);
		assert_non_null(o->help[0]);
		for (i = 0; o->help[i] != NULL; i++) {
			/* "key  what it does", within the help window (56 columns) */
			assert_true(strlen(o->help[i]) <= 56);
			assert_non_null(strstr(o->help[i], "  "));
			assert_true(o->help[i][0] != ' ');
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_overview_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_headers_80, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meter_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utility_meter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_today_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meter_unknown_and_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meter_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ascii_and_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ascii_overview, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_production, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overview_remainder_energy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trends_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources_without_hub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_machines_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources_with_hub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sources_many_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_plant, setup_empty, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_keeps_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_ack_all_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_note_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_perf_panel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm_plant_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_judges_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overload_needs_max_power, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_keys, setup, teardown),
		cmocka_unit_test(test_help),
	};
	FILE *out, *in;
	int rc;

	setlocale(LC_ALL, "C.UTF-8");
	setenv("TZ", "UTC", 1);
	out = fopen("/dev/null", "w");
	in = fopen("/dev/null", "r");
	if (out == NULL || in == NULL)
		return 1;
	screen = newterm("xterm-256color", out, in);
	if (screen == NULL) {
		fprintf(stderr, "test_views: newterm failed\n");
		return 1;
	}
	set_term(screen);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	endwin();
	delscreen(screen);
	fclose(out);
	fclose(in);
	return rc;
}
