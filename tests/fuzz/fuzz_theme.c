// SPDX-License-Identifier: MIT
/*
 * fuzz_theme: colour themes (src/console/theme.c; themes/NAME.ini,
 * docs/themes.md). The input is the file, loaded by path with
 * theme_load(); no terminal is needed (theme_apply, which needs ncurses
 * started, is not called). Every colour of a theme that loads is in the
 * range ncurses takes.
 */
#include "phasor/diag.h"
#include "phasor/theme.h"
#include "fuzz.h"

static void check_style(const struct theme_style *s)
{
	if (s->fg < -1 || s->fg > 255 || s->bg < -1 || s->bg > 255 || s->attrs > 31)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file_write("theme.ini", data, size);
	struct diag d = { 0 };
	struct theme *t = theme_load(path, &d);

	if (t != NULL) {
		int r;

		if (d.n != 0 || t->description == NULL)
			abort();
		for (r = 0; r < ROLE__COUNT; r++) {
			check_style(&t->color[r]);
			check_style(&t->color256[r]);
			check_style(&t->mono[r]);
		}
		theme_free(t);
	} else if (d.n == 0) {
		abort();
	}
	diag_clear(&d);
	return 0;
}
