/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_THEME_H
#define PHASOR_THEME_H
/*
 * theme: colour themes (themes/NAME.ini) mapping the console's semantic
 * roles to colours and attributes, for 8, 16 and 256-colour terminals, and
 * the attributes used without colour (NO_COLOR, --no-color, a monochrome
 * terminal). The file format is in docs/themes.md.
 * Colour never carries meaning alone: every state also has a word or a
 * symbol, so a theme only makes states faster to see.
 */
#include <stdbool.h>
#include <stddef.h>
#include "phasor/diag.h"

enum theme_role {
	ROLE_NORMAL,       /* body text */
	ROLE_MUTED,        /* labels, units, secondary text */
	ROLE_ACCENT,       /* titles, the active tab, key hints */
	ROLE_HEADER,       /* the top line and table headers */
	ROLE_STATUS,       /* the status bar */
	ROLE_SELECTION,    /* the selected row */
	ROLE_OK,           /* communication ok, values in band, PF excellent/good */
	ROLE_WARNING,      /* acceptable PF, stale-soon, minor risks */
	ROLE_ALARM,        /* poor PF, out of band, major risks, link down */
	ROLE_CRITICAL,     /* critical PF/risks, meter down */
	ROLE_STALE,        /* data older than three periods: dimmed everywhere */
	ROLE_GAUGE_FILL,   /* the filled part of a gauge */
	ROLE_GAUGE_EMPTY,  /* the empty part */
	ROLE_GAUGE_BAND,   /* the nominal band drawn on the gauge */
	ROLE_GAUGE_LIMIT,  /* limit markers on the gauge */
	ROLE_CHART,        /* sparklines and trend charts */
	ROLE__COUNT
};

/* "normal", "muted", ... as written in theme files. */
const char *theme_role_name(enum theme_role r);

/* A colour: -1 terminal default, 0..7 the ANSI colours, 8..15 bright, up to 255. */
struct theme_style {
	short fg, bg;
	unsigned attrs;    /* THEME_BOLD | THEME_DIM | ... */
};

enum { THEME_BOLD = 1, THEME_DIM = 2, THEME_UNDERLINE = 4, THEME_REVERSE = 8, THEME_ITALIC = 16 };

struct theme {
	char *name;
	char *description; /* "" when the file has none */
	/* [colors]: for terminals with 8 or 16 colours (bright colours map to
	 * bold + the base colour on 8-colour terminals). */
	struct theme_style color[ROLE__COUNT];
	/* [colors-256]: used when the terminal has 256 colours; roles not given
	 * there fall back to [colors]. */
	struct theme_style color256[ROLE__COUNT];
	bool has256[ROLE__COUNT];
	/* [mono]: attributes without colour (fg/bg ignored). */
	struct theme_style mono[ROLE__COUNT];
};

/*
 * Load a theme by name (looked up as NAME.ini in $PHASOR_THEMES, themes/ of
 * the source tree, BIN/../share/phasor/themes, PREFIX/share/phasor/themes)
 * or by path (contains '/'). Every error goes to d as file:line: message
 * (unknown role with a suggestion, bad colour, unknown attribute...); NULL
 * when there was one. Free with theme_free().
 */
struct theme *theme_load(const char *name_or_path, struct diag *d);
void theme_free(struct theme *t);

/* The shipped theme names (NULL-terminated, static). */
const char *const *theme_names(void);

/*
 * After ncurses is started: with color true (and has_colors()), start_color,
 * use_default_colors and one colour pair per role, picking [colors-256]
 * when COLORS >= 256; with color false, nothing (no colour escape is ever
 * sent). Returns 0, or -1 when colour was asked but the terminal has none
 * (the caller then runs without colour). t NULL: the built-in default
 * (the dark theme). A theme without any colour (mono) starts no colour
 * either. Call again after a theme change.
 */
int theme_apply(const struct theme *t, bool color);

/*
 * The ncurses attributes (colour pair included when colour is on) of a role;
 * a role whose colours are both the terminal's default has no pair. 0 before
 * the first theme_apply().
 */
unsigned long theme_attr(enum theme_role r);

#endif
