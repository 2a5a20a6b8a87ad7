/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_REPORT_DRAW_H
#define PHASOR_REPORT_DRAW_H
/*
 * report_draw: the pages of `phasor report` drawn with cairo from the
 * model and its tables: one drawing, two surfaces. PDF: A4 portrait
 * (595 x 842 pt), vector, every page in one file, with its title, creator
 * ("phasor VERSION") and creation date (made_us) set; nothing else in it
 * depends on the clock, so two runs differ only there. PNG: one image a
 * page at 150 dpi (1240 x 1754 px), the same drawing scaled. Text in
 * DejaVu Sans (fontconfig) with cairo's toy text API; charts in black,
 * greys, hatching and dashes (readable in black and white).
 */
#include "phasor/report.h"
#include "phasor/report_tables.h"

#define REPORT_PNG_DPI 150
#define REPORT_PNG_W 1240
#define REPORT_PNG_H 1754

/* The PDF at path. The page count, or -1 with *cause. */
int report_draw_pdf(const char *path, const struct report *r, const struct report_doc *d,
		    const struct report_tables *t, char **cause);
/*
 * One PNG a page, page n (from 1) at path(ctx, n). The page count, or -1
 * with *cause (the pages written so far are the caller's to remove: it
 * named them).
 */
int report_draw_png(const char *(*path)(void *ctx, int page), void *ctx, const struct report *r,
		    const struct report_doc *d, const struct report_tables *t, char **cause);

#endif
