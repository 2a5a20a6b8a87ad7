// SPDX-License-Identifier: MIT
/*
 * theme: the console's colours. A theme file (themes/NAME.ini, format in
 * docs/themes.md) maps each semantic role (normal text, ok, alarm, the
 * selected row...) to a style for 8/16-colour terminals ([colors]), an
 * optional one for 256-colour terminals ([colors-256]) and the attributes
 * used without colour ([mono]). What a file leaves out keeps the built-in
 * default, which is the dark theme (so a user theme may change one role).
 *
 * Loading reads the file through inifile and reports every problem as
 * file:line, sorted by line, before giving up. Applying runs in the thread
 * that owns ncurses: it turns the chosen styles into colour pairs (one per
 * role, pair role + 1) and remembers each role's attributes for
 * theme_attr(). Without colour nothing colour-related is ever sent to the
 * terminal: no start_color(), no pairs, only the [mono] attributes.
 */
#include "phasor/theme.h"

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "phasor/inifile.h"
#include "phasor/util.h"

#define THEME_FILE_MAX (64 * 1024)

/* ---- names ------------------------------------------------------------ */

static const char *const role_names[ROLE__COUNT + 1] = {
	[ROLE_NORMAL] = "normal",	  [ROLE_MUTED] = "muted",
	[ROLE_ACCENT] = "accent",	  [ROLE_HEADER] = "header",
	[ROLE_STATUS] = "status",	  [ROLE_SELECTION] = "selection",
	[ROLE_OK] = "ok",		  [ROLE_WARNING] = "warning",
	[ROLE_ALARM] = "alarm",		  [ROLE_CRITICAL] = "critical",
	[ROLE_STALE] = "stale",		  [ROLE_GAUGE_FILL] = "gauge-fill",
	[ROLE_GAUGE_EMPTY] = "gauge-empty", [ROLE_GAUGE_BAND] = "gauge-band",
	[ROLE_GAUGE_LIMIT] = "gauge-limit", [ROLE_CHART] = "chart",
	[ROLE__COUNT] = NULL,
};

const char *theme_role_name(enum theme_role r)
{
	return (unsigned)r < ROLE__COUNT ? role_names[r] : "?";
}

static const char *const shipped[] = { "dark", "light", "high-contrast", "mono", "colorblind",
				       NULL };

const char *const *theme_names(void)
{
	return shipped;
}

struct named {
	const char *name;
	int value;
};

/* Colours as written in files; -1 is the terminal's default. */
static const struct named colour_names[] = {
	{ "default", -1 },	   { "black", 0 },	    { "red", 1 },
	{ "green", 2 },		   { "yellow", 3 },	    { "blue", 4 },
	{ "magenta", 5 },	   { "cyan", 6 },	    { "white", 7 },
	{ "bright-black", 8 },	   { "gray", 8 },	    { "grey", 8 },
	{ "bright-red", 9 },	   { "bright-green", 10 },  { "bright-yellow", 11 },
	{ "bright-blue", 12 },	   { "bright-magenta", 13 }, { "bright-cyan", 14 },
	{ "bright-white", 15 },
};

static const struct named attr_names[] = {
	{ "bold", THEME_BOLD },		  { "dim", THEME_DIM },
	{ "underline", THEME_UNDERLINE }, { "reverse", THEME_REVERSE },
	{ "italic", THEME_ITALIC },	  { "normal", 0 },
};

/* The names of colours and/or attributes, for suggestions (NULL-terminated). */
#define WORDS_MAX (UTIL_ARRAY_LEN(colour_names) + UTIL_ARRAY_LEN(attr_names) + 1)

static const char *const *words(const char **buf, bool colours, bool attrs)
{
	size_t i, n = 0;

	for (i = 0; colours && i < UTIL_ARRAY_LEN(colour_names); i++)
		buf[n++] = colour_names[i].name;
	for (i = 0; attrs && i < UTIL_ARRAY_LEN(attr_names); i++)
		buf[n++] = attr_names[i].name;
	buf[n] = NULL;
	return buf;
}

static int lookup(const struct named *tab, size_t n, const char *word, int *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (util_strcasecmp(word, tab[i].name) == 0) {
			*out = tab[i].value;
			return 0;
		}
	return -1;
}

/* ---- the built-in default: the dark theme ---------------------------------- */

/* Shorthands for the tables below (and only for them). */
#define DEF (-1)
#define S(f, b, a) { .fg = (f), .bg = (b), .attrs = (a) }
#define A(a) { .fg = DEF, .bg = DEF, .attrs = (a) }
enum { BLACK, RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, WHITE, BR_BLACK, BR_WHITE = 15 };
enum { B = THEME_BOLD, D = THEME_DIM, U = THEME_UNDERLINE, R = THEME_REVERSE };

/* Keep equal to themes/dark.ini (test_theme checks). */
static const struct theme_style def_color[ROLE__COUNT] = {
	[ROLE_NORMAL] = S(DEF, DEF, 0),
	[ROLE_MUTED] = S(BR_BLACK, DEF, 0),
	[ROLE_ACCENT] = S(CYAN, DEF, B),
	[ROLE_HEADER] = S(BR_WHITE, BLUE, B),
	[ROLE_STATUS] = S(DEF, DEF, R),
	[ROLE_SELECTION] = S(BLACK, CYAN, 0),
	[ROLE_OK] = S(GREEN, DEF, 0),
	[ROLE_WARNING] = S(YELLOW, DEF, B),
	[ROLE_ALARM] = S(RED, DEF, B),
	[ROLE_CRITICAL] = S(BR_WHITE, RED, B),
	[ROLE_STALE] = S(BR_BLACK, DEF, D),
	[ROLE_GAUGE_FILL] = S(CYAN, DEF, 0),
	[ROLE_GAUGE_EMPTY] = S(BR_BLACK, DEF, 0),
	[ROLE_GAUGE_BAND] = S(GREEN, DEF, 0),
	[ROLE_GAUGE_LIMIT] = S(RED, DEF, B),
	[ROLE_CHART] = S(CYAN, DEF, 0),
};

static const struct theme_style def_color256[ROLE__COUNT] = {
	[ROLE_MUTED] = S(245, DEF, 0),
	[ROLE_ACCENT] = S(80, DEF, B),
	[ROLE_HEADER] = S(255, 24, B),
	[ROLE_STATUS] = S(DEF, DEF, R),
	[ROLE_SELECTION] = S(16, 117, 0),
	[ROLE_OK] = S(71, DEF, 0),
	[ROLE_WARNING] = S(220, DEF, B),
	[ROLE_ALARM] = S(203, DEF, B),
	[ROLE_CRITICAL] = S(231, 160, B),
	[ROLE_STALE] = S(241, DEF, 0),
	[ROLE_GAUGE_FILL] = S(74, DEF, 0),
	[ROLE_GAUGE_EMPTY] = S(238, DEF, 0),
	[ROLE_GAUGE_BAND] = S(71, DEF, 0),
	[ROLE_GAUGE_LIMIT] = S(203, DEF, B),
	[ROLE_CHART] = S(80, DEF, 0),
};

/* The roles def_color256 gives (normal uses [colors]). */
static const bool def_has256[ROLE__COUNT] = {
	[ROLE_MUTED] = true,	   [ROLE_ACCENT] = true,      [ROLE_HEADER] = true,
	[ROLE_STATUS] = true,	   [ROLE_SELECTION] = true,   [ROLE_OK] = true,
	[ROLE_WARNING] = true,	   [ROLE_ALARM] = true,	      [ROLE_CRITICAL] = true,
	[ROLE_STALE] = true,	   [ROLE_GAUGE_FILL] = true,  [ROLE_GAUGE_EMPTY] = true,
	[ROLE_GAUGE_BAND] = true,  [ROLE_GAUGE_LIMIT] = true, [ROLE_CHART] = true,
};

static const struct theme_style def_mono[ROLE__COUNT] = {
	[ROLE_NORMAL] = A(0),
	[ROLE_MUTED] = A(0),
	[ROLE_ACCENT] = A(B),
	[ROLE_HEADER] = A(B | U),
	[ROLE_STATUS] = A(R),
	[ROLE_SELECTION] = A(R),
	[ROLE_OK] = A(0),
	[ROLE_WARNING] = A(B),
	[ROLE_ALARM] = A(B | U),
	[ROLE_CRITICAL] = A(R | B),
	[ROLE_STALE] = A(D),
	[ROLE_GAUGE_FILL] = A(0),
	[ROLE_GAUGE_EMPTY] = A(D),
	[ROLE_GAUGE_BAND] = A(U),
	[ROLE_GAUGE_LIMIT] = A(B),
	[ROLE_CHART] = A(0),
};

#undef DEF
#undef S
#undef A

static void set_defaults(struct theme *t)
{
	size_t r;

	memcpy(t->color, def_color, sizeof(t->color));
	memcpy(t->color256, def_color256, sizeof(t->color256));
	memcpy(t->has256, def_has256, sizeof(t->has256));
	memcpy(t->mono, def_mono, sizeof(t->mono));
	/* designated initialisers leave 0 (black) where -1 (default) is meant */
	for (r = 0; r < ROLE__COUNT; r++)
		if (!def_has256[r])
			t->color256[r] = (struct theme_style){ -1, -1, 0 };
}

/* ---- messages, sorted by line ------------------------------------------- */

struct msg {
	int line;
	size_t seq;
	char *text;
};

enum sect_kind { SECT_THEME, SECT_COLORS, SECT_COLORS256, SECT_MONO, SECT__COUNT };

static const char *const sect_names[SECT__COUNT + 1] = { "theme", "colors", "colors-256", "mono",
							 NULL };

struct ctx {
	const char *file;
	struct msg *msgs;
	size_t nmsgs, cap;
	struct theme *t;
	int sect_line[SECT__COUNT];             /* first header of each kind, 0 none */
	int role_line[SECT__COUNT][ROLE__COUNT]; /* where each role was set, 0 not */
};

static void err(struct ctx *c, int line, const char *fmt, ...) UTIL_PRINTF(3, 4);

static void err(struct ctx *c, int line, const char *fmt, ...)
{
	va_list ap;

	if (c->nmsgs == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->msgs = util_reallocarray(c->msgs, c->cap, sizeof(*c->msgs));
	}
	va_start(ap, fmt);
	c->msgs[c->nmsgs].text = util_vprintf(fmt, ap);
	va_end(ap);
	c->msgs[c->nmsgs].line = line;
	c->msgs[c->nmsgs].seq = c->nmsgs;
	c->nmsgs++;
}

static void lexical_error(void *user, int line, const char *msg)
{
	err(user, line, "%s", msg);
}

static int msg_cmp(const void *a, const void *b)
{
	const struct msg *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the messages to d in line order; returns how many there were. */
static size_t flush_msgs(struct ctx *c, struct diag *d)
{
	size_t i, n = c->nmsgs;

	if (n > 1)
		qsort(c->msgs, n, sizeof(*c->msgs), msg_cmp);
	for (i = 0; i < c->nmsgs; i++) {
		if (d != NULL)
			diag_add(d, c->file, c->msgs[i].line, "%s", c->msgs[i].text);
		free(c->msgs[i].text);
	}
	free(c->msgs);
	c->msgs = NULL;
	c->nmsgs = c->cap = 0;
	return n;
}

/* A file's text in a message: sanitized and short. */
static const char *shown(char *buf, size_t size, const char *s)
{
	return util_sanitize(buf, size, s);
}

#define SHOWN(s) shown((char[64]){ 0 }, 64, (s))

/* " (did you mean 'x'?)" or "" */
static const char *hint(char *buf, size_t size, const char *word, const char *const *cands,
			const char *open, const char *close)
{
	const char *near = util_closest(word, cands);

	if (near == NULL)
		buf[0] = '\0';
	else
		snprintf(buf, size, " (did you mean %s%s%s?)", open, near, close);
	return buf;
}

#define HINT(w, c) hint((char[64]){ 0 }, 64, (w), (c), "'", "'")

/* ---- styles ------------------------------------------------------------ */

/* Decimal digits, maybe signed ("010" is ten, "0x10" is no number). */
static bool is_number(const char *w)
{
	if (*w == '-' || *w == '+')
		w++;
	return *w != '\0' && strspn(w, "0123456789") == strlen(w);
}

/* A colour word or number: 0 and *out, 1 not a colour word at all, -1 after
 * a message (a number out of range). */
static int parse_colour(struct ctx *c, int line, const char *role, enum sect_kind k,
			const char *w, short *out)
{
	int v;

	if (lookup(colour_names, UTIL_ARRAY_LEN(colour_names), w, &v) == 0) {
		*out = (short)v;
		return 0;
	}
	if (is_number(w)) {
		long n = strtol(w, NULL, 10);
		long max = k == SECT_COLORS ? 15 : 255;

		/* a huge number saturates at LONG_MAX: out of range too */
		if (n < 0 || n > max) {
			if (k == SECT_COLORS)
				err(c, line,
				    "%s: colour %s out of range 0..15 in [colors] (16..255 go in "
				    "[colors-256])",
				    role, SHOWN(w));
			else
				err(c, line, "%s: colour %s out of range 0..255", role, SHOWN(w));
			return -1;
		}
		*out = (short)n;
		return 0;
	}
	return 1;
}

static bool is_colour_word(const char *w)
{
	int v;

	return lookup(colour_names, UTIL_ARRAY_LEN(colour_names), w, &v) == 0 || is_number(w);
}

/*
 * "FG [on BG] [ATTR]..." (FG may be left out: the default colour), or in
 * [mono] "ATTR...". One message for the first problem; 0 or -1.
 */
static int parse_style(struct ctx *c, const struct inifile_kv *kv, const char *role,
		       enum sect_kind k, struct theme_style *out)
{
	char *copy = util_strdup(kv->value), *save = NULL, *w;
	const char *cands[WORDS_MAX];
	struct theme_style st = { -1, -1, 0 };
	int rc = -1, pos = 0;
	bool attrs_seen = false, colour_seen = false, bg_seen = false;

	w = strtok_r(copy, " \t", &save);
	if (w == NULL) {
		if (k == SECT_MONO)
			err(c, kv->line, "%s: no value (attributes, or 'normal' for none)", role);
		else
			err(c, kv->line, "%s: no value (write FG [on BG] [ATTR]...)", role);
		goto out;
	}
	for (; w != NULL; w = strtok_r(NULL, " \t", &save), pos++) {
		int a;

		if (k == SECT_MONO && (is_colour_word(w) || util_strcasecmp(w, "on") == 0)) {
			err(c, kv->line,
			    "%s: '%s' is a colour word; [mono] takes attributes only (bold, dim, "
			    "underline, reverse, italic, normal)",
			    role, SHOWN(w));
			goto out;
		}
		if (util_strcasecmp(w, "on") == 0) {
			const char *bg = strtok_r(NULL, " \t", &save);
			int r;

			if (attrs_seen) {
				err(c, kv->line,
				    "%s: 'on' after the attributes (write FG [on BG] [ATTR]...)", role);
				goto out;
			}
			if (bg_seen) {
				err(c, kv->line, "%s: 'on' twice", role);
				goto out;
			}
			if (bg == NULL || util_strcasecmp(bg, "on") == 0 ||
			    lookup(attr_names, UTIL_ARRAY_LEN(attr_names), bg, &a) == 0) {
				err(c, kv->line, "%s: 'on' without a colour", role);
				goto out;
			}
			r = parse_colour(c, kv->line, role, k, bg, &st.bg);
			if (r < 0)
				goto out;
			if (r > 0) {
				err(c, kv->line, "%s: unknown colour '%s'%s", role, SHOWN(bg),
				    HINT(bg, words(cands, true, false)));
				goto out;
			}
			colour_seen = bg_seen = true;
			pos++;
			continue;
		}
		if (lookup(attr_names, UTIL_ARRAY_LEN(attr_names), w, &a) == 0) {
			st.attrs |= (unsigned)a;
			attrs_seen = true;
			continue;
		}
		if (pos == 0 && k != SECT_MONO) {
			int r = parse_colour(c, kv->line, role, k, w, &st.fg);

			if (r < 0)
				goto out;
			if (r > 0) {
				err(c, kv->line, "%s: unknown colour or attribute '%s'%s", role,
				    SHOWN(w), HINT(w, words(cands, true, true)));
				goto out;
			}
			colour_seen = true;
			continue;
		}
		if (is_colour_word(w)) {
			if (colour_seen && !attrs_seen && !bg_seen)
				err(c, kv->line, "%s: a second colour '%s' needs 'on' (FG on BG)", role,
				    SHOWN(w));
			else
				err(c, kv->line,
				    "%s: colour '%s' out of place (write FG [on BG] [ATTR]...)", role,
				    SHOWN(w));
			goto out;
		}
		err(c, kv->line, "%s: unknown attribute '%s'%s", role, SHOWN(w),
		    HINT(w, words(cands, false, true)));
		goto out;
	}
	*out = st;
	rc = 0;
out:
	free(copy);
	return rc;
}

/* ---- sections ---------------------------------------------------------- */

static int role_lookup(const char *name)
{
	int r;

	for (r = 0; r < ROLE__COUNT; r++)
		if (strcmp(name, role_names[r]) == 0)
			return r;
	return -1;
}

static void do_theme(struct ctx *c, const struct inifile_section *s, bool *named)
{
	static const char *const keys[] = { "name", "description", NULL };
	size_t i;

	for (i = 0; i < s->nkvs; i++) {
		const struct inifile_kv *kv = &s->kvs[i];
		const struct inifile_kv *first = inifile_repeated(s, i);
		char buf[256];
		char **dst;

		if (strcmp(kv->key, "name") == 0) {
			dst = &c->t->name;
		} else if (strcmp(kv->key, "description") == 0) {
			dst = &c->t->description;
		} else {
			const char *near = util_closest(kv->key, keys);

			if (near != NULL)
				err(c, kv->line, "unknown key '%s' in [theme] (did you mean '%s'?)",
				    SHOWN(kv->key), near);
			else
				err(c, kv->line, "unknown key '%s' in [theme] (keys: name, description)",
				    SHOWN(kv->key));
			continue;
		}
		if (first != NULL) {
			err(c, kv->line, "duplicate key '%s' (first at line %d)", kv->key, first->line);
			continue;
		}
		if (dst == &c->t->name) {
			*named = true; /* given, even when empty: one message is enough */
			if (kv->value[0] == '\0') {
				err(c, kv->line, "name: no value");
				continue;
			}
		}
		free(*dst);
		*dst = util_strdup(util_sanitize(buf, sizeof(buf), kv->value));
	}
}

static void do_styles(struct ctx *c, const struct inifile_section *s, enum sect_kind k)
{
	size_t i;

	for (i = 0; i < s->nkvs; i++) {
		const struct inifile_kv *kv = &s->kvs[i];
		int r = role_lookup(kv->key);
		struct theme_style st;

		if (r < 0) {
			const char *near = util_closest(kv->key, role_names);

			if (near != NULL)
				err(c, kv->line, "unknown role '%s' (did you mean '%s'?)", SHOWN(kv->key),
				    near);
			else
				err(c, kv->line,
				    "unknown role '%s' (roles: normal, muted, accent, header, status, "
				    "selection, ok, warning, alarm, critical, stale, gauge-fill, "
				    "gauge-empty, gauge-band, gauge-limit, chart)",
				    SHOWN(kv->key));
			continue;
		}
		if (c->role_line[k][r] != 0) {
			err(c, kv->line, "duplicate role '%s' in [%s] (first at line %d)", kv->key,
			    sect_names[k], c->role_line[k][r]);
			continue;
		}
		c->role_line[k][r] = kv->line;
		if (parse_style(c, kv, role_names[r], k, &st) != 0)
			continue;
		switch (k) {
		case SECT_COLORS:
			c->t->color[r] = st;
			break;
		case SECT_COLORS256:
			c->t->color256[r] = st;
			c->t->has256[r] = true;
			break;
		case SECT_MONO:
			c->t->mono[r] = (struct theme_style){ -1, -1, st.attrs };
			break;
		default:
			break;
		}
	}
}

static void do_doc(struct ctx *c, const struct inifile *doc)
{
	bool named = false;
	size_t i;
	int r;

	for (i = 0; i < doc->nsections; i++) {
		const struct inifile_section *s = &doc->sections[i];
		int k;

		for (k = 0; k < SECT__COUNT; k++)
			if (strcmp(s->kind, sect_names[k]) == 0)
				break;
		if (k == SECT__COUNT) {
			const char *near = util_closest(s->kind, sect_names);

			if (near != NULL)
				err(c, s->line, "unknown section [%s] (did you mean [%s]?)",
				    SHOWN(s->kind), near);
			else
				err(c, s->line,
				    "unknown section [%s] (sections: [theme], [colors], [colors-256], "
				    "[mono])",
				    SHOWN(s->kind));
			continue;
		}
		if (s->arg[0] != '\0')
			err(c, s->line, "section [%s] takes no name ('%s')", sect_names[k],
			    SHOWN(s->arg));
		if (c->sect_line[k] != 0)
			err(c, s->line, "section [%s] repeated (first at line %d)", sect_names[k],
			    c->sect_line[k]);
		else
			c->sect_line[k] = s->line;
		/* a repeated section is still checked: its keys count as the first's */
		if (k == SECT_THEME)
			do_theme(c, s, &named);
		else
			do_styles(c, s, k);
	}
	if (c->sect_line[SECT_THEME] == 0)
		err(c, 0, "no [theme] section (it gives the theme's name = ...)");
	else if (!named)
		err(c, c->sect_line[SECT_THEME], "[theme] has no name (add name = ...)");
	/* A role given in [colors] but not in [colors-256] uses its [colors]
	 * style on 256-colour terminals too, not the built-in 256 one. */
	for (r = 0; r < ROLE__COUNT; r++)
		if (c->role_line[SECT_COLORS][r] != 0 && c->role_line[SECT_COLORS256][r] == 0)
			c->t->has256[r] = false;
}

/* ---- finding and loading ------------------------------------------------ */

/* NAME.ini on the search path (see theme.h); 0 and the path in buf, or -1. */
static int theme_find(const char *name, char *buf, size_t size)
{
	return util_find_ini("PHASOR_THEMES", "themes", "themes", name, buf, size);
}

static void unknown_theme(const char *name, struct diag *d)
{
	char safe[64];
	const char *near = util_closest(name, shipped);
	size_t len = strlen(name);

	util_sanitize(safe, sizeof(safe), name);
	if (near != NULL && strcmp(near, name) == 0)
		/* a shipped name, not installed where it is looked for */
		diag_add(d, "theme", 0,
			 "theme '%s' not found (searched $PHASOR_THEMES, themes/, %s/share/phasor/themes):"
			 " is phasor installed?",
			 safe, PHASOR_PREFIX);
	else if (near != NULL)
		diag_add(d, "theme", 0,
			 "unknown theme '%s' (did you mean '%s'?); shipped: dark, light, "
			 "high-contrast, mono, colorblind",
			 safe, near);
	else if (len > 4 && strcmp(name + len - 4, ".ini") == 0)
		diag_add(d, "theme", 0,
			 "unknown theme '%s'; to load a file give its path (./%s); shipped: dark, "
			 "light, high-contrast, mono, colorblind",
			 safe, safe);
	else
		diag_add(d, "theme", 0,
			 "unknown theme '%s' (searched $PHASOR_THEMES, themes/, %s/share/phasor/themes); "
			 "shipped: dark, light, high-contrast, mono, colorblind",
			 safe, PHASOR_PREFIX);
}

struct theme *theme_load(const char *name_or_path, struct diag *d)
{
	char path[4096];
	struct inifile_opts opts = { 0 };
	struct inifile *doc;
	struct ctx c;
	struct theme *t;

	if (name_or_path == NULL || name_or_path[0] == '\0') {
		diag_add(d, "theme", 0, "no theme name given");
		return NULL;
	}
	if (strchr(name_or_path, '/') != NULL) {
		util_strlcpy(path, name_or_path, sizeof(path));
	} else if (theme_find(name_or_path, path, sizeof(path)) != 0) {
		unknown_theme(name_or_path, d);
		return NULL;
	}

	memset(&c, 0, sizeof(c));
	c.file = path;
	opts.on_error = lexical_error;
	opts.user = &c;
	opts.section_hint = "add [theme], [colors], [colors-256] or [mono]";
	doc = inifile_load(path, THEME_FILE_MAX, &opts, NULL, NULL);
	t = util_calloc(1, sizeof(*t));
	set_defaults(t);
	c.t = t;
	if (doc != NULL)
		do_doc(&c, doc);
	inifile_free(doc);
	if (flush_msgs(&c, d) != 0 || doc == NULL) {
		theme_free(t);
		return NULL;
	}
	if (t->description == NULL)
		t->description = util_strdup("");
	return t;
}

void theme_free(struct theme *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->description);
	free(t);
}

/* ---- applying ------------------------------------------------------------ */

static unsigned long role_attr[ROLE__COUNT];

static attr_t curses_attrs(unsigned a)
{
	attr_t r = A_NORMAL;

	if (a & THEME_BOLD)
		r |= A_BOLD;
	if (a & THEME_DIM)
		r |= A_DIM;
	if (a & THEME_UNDERLINE)
		r |= A_UNDERLINE;
	if (a & THEME_REVERSE)
		r |= A_REVERSE;
	if (a & THEME_ITALIC)
		r |= A_ITALIC;
	return r;
}

/*
 * A colour the terminal can show. Below 16 colours a bright colour becomes
 * its base colour, made bold when it is the foreground (bold is bright on
 * most such terminals) - except bright black (grey), which as bold black is
 * invisible on a dark background wherever bold is not also bright: it
 * becomes the default colour, dimmed.
 */
static short fit_colour(short c, bool fg, attr_t *extra)
{
	if (c < 0)
		return -1;
	if (c >= COLORS && c >= 8 && c < 16) {
		if (!fg)
			return (short)(c - 8);
		if (c == 8) {
			*extra |= A_DIM;
			return -1;
		}
		*extra |= A_BOLD;
		return (short)(c - 8);
	}
	return c < COLORS ? c : -1;
}

int theme_apply(const struct theme *t, bool color)
{
	struct theme fallback;
	const struct theme_style *pick[ROLE__COUNT];
	bool any_colour = false, default_ok;
	int r;

	if (t == NULL) {
		memset(&fallback, 0, sizeof(fallback));
		set_defaults(&fallback);
		t = &fallback;
	}
	for (r = 0; r < ROLE__COUNT; r++)
		role_attr[r] = curses_attrs(t->mono[r].attrs);
	if (!color)
		return 0;
	if (!has_colors())
		return -1;

	/* [colors-256] only where the terminal has them and the role has one */
	for (r = 0; r < ROLE__COUNT; r++) {
		pick[r] = t->has256[r] && tigetnum("colors") >= 256 ? &t->color256[r] : &t->color[r];
		if (pick[r]->fg != -1 || pick[r]->bg != -1)
			any_colour = true;
	}
	/* A theme without colours (mono) sends no colour escape either. */
	if (!any_colour) {
		for (r = 0; r < ROLE__COUNT; r++)
			role_attr[r] = curses_attrs(pick[r]->attrs);
		return 0;
	}
	if (start_color() == ERR)
		return -1;
	default_ok = use_default_colors() == OK;
	for (r = 0; r < ROLE__COUNT; r++) {
		attr_t a = curses_attrs(pick[r]->attrs);
		short fg = fit_colour(pick[r]->fg, true, &a);
		short bg = fit_colour(pick[r]->bg, false, &a);

		if ((fg == -1 && bg == -1) || r + 1 >= COLOR_PAIRS) {
			/* pair 0 is the terminal's own colours */
			role_attr[r] = a;
			continue;
		}
		if (!default_ok) {
			fg = fg == -1 ? COLOR_WHITE : fg;
			bg = bg == -1 ? COLOR_BLACK : bg;
		}
		if (init_pair((short)(r + 1), fg, bg) == ERR) {
			role_attr[r] = a;
			continue;
		}
		role_attr[r] = COLOR_PAIR(r + 1) | a;
	}
	return 0;
}

unsigned long theme_attr(enum theme_role r)
{
	return (unsigned)r < ROLE__COUNT ? role_attr[r] : 0;
}
