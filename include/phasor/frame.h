/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_FRAME_H
#define PHASOR_FRAME_H
/*
 * frame: the console's frame around the views: header (site, tabs), alarm
 * banner, status bar (clock, links, buffer, central database, key hints),
 * the help overlay, the "terminal too small" screen, and the bell on a new
 * critical or high alarm. It reads the plant only (ui->plant). UI thread
 * only.
 */
#include <stdbool.h>
#include <stdint.h>

#include "phasor/ui.h"

struct frame;

/*
 * A frame for the views table views[VIEW__COUNT] (borrowed: must outlive
 * the frame); the bell rings for raises beyond bell_seen (the alarms
 * restored from the journal do not ring again). Free with frame_free.
 */
struct frame *frame_new(const struct view_ops *const *views, uint64_t bell_seen);

/* Delete the frame's windows and ui->body (set to NULL), then the frame. NULL is fine. */
void frame_free(struct frame *fr, struct ui *ui);

/* (Re)create the windows for the terminal's size: ui->rows, ui->cols, ui->body. */
void frame_layout(struct frame *fr, struct ui *ui);

/* The terminal is below UI_MIN_COLS x UI_MIN_ROWS (only q works). */
bool frame_too_small(const struct frame *fr);

/* Draw a whole frame, the current view inside, and send it (doupdate). */
void frame_draw(struct frame *fr, struct ui *ui);

#endif
