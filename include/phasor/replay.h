/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_REPLAY_H
#define PHASOR_REPLAY_H
/*
 * replay: a recorded buffer as the console's feed (`phasor replay`). It
 * owns a read-only store reader, its own live state and alarm engine, and
 * a time cursor; the console's plant is filled from them with now_us at
 * the cursor, so every view shows the plant as it was then: the newest
 * value at or before the cursor per quantity, the last hour of the plotted
 * series, the comm states of the stored comm changes, the alarm states,
 * acknowledgements and shelvings of the journal. It never writes and
 * never connects to anything. UI thread only (its reads are bounded per
 * step; docs/architecture.md).
 *
 * Moving the cursor forward applies what was recorded in between;
 * backward (or far forward) rebuilds the state at the new instant (seek).
 */
#include <stdbool.h>
#include <stdint.h>

#include "phasor/config.h"

struct plant;
struct replay;

struct replay_opts {
	const char *db;
	int64_t from_us;          /* the cursor's start; INT64_MIN: the recording's */
	double speed;             /* playing at this speed; 0: paused at 1x */
	int64_t session;          /* the session whose configuration is used; 0: the
				   * one at the start (the newest before it) */
	bool trends;              /* view 4 at the cursor: the series up to it and the
				   * forecast current then (fcjob.h, a thread of its own) */
};

/* Open the buffer and read its sessions. NULL with *cause (caller frees). */
struct replay *replay_open(const struct replay_opts *o, char **cause);
void replay_free(struct replay *rp);

/*
 * The configuration of the session replayed (as it was stored with the
 * session): the meters, alarms and site the views show. NULL with *cause
 * when the session has none that this binary can read.
 */
struct config *replay_take_config(struct replay *rp, char **cause);

/* Set up the state at the start on cfg (kept, must outlive). 0, or -1. */
int replay_start(struct replay *rp, const struct config *cfg, char **cause);

/* Move the cursor by the wall time since the last call, when playing. */
void replay_tick(struct replay *rp, int64_t mono_us);

/* The plant as it was at the cursor. */
void replay_fill(struct replay *rp, struct plant *p);

/* What the playback keys ask (the console maps its keys to these). */
enum replay_action {
	REPLAY_PLAY_PAUSE,        /* Space */
	REPLAY_FASTER,            /* > : 1x 2x 10x 60x 600x 3600x */
	REPLAY_SLOWER,            /* < */
	REPLAY_STEP_FWD,          /* . : one poll */
	REPLAY_STEP_BACK,         /* , */
	REPLAY_MINUTE_FWD,        /* ] */
	REPLAY_MINUTE_BACK,       /* [ */
	REPLAY_HOUR_FWD,          /* } */
	REPLAY_HOUR_BACK,         /* { */
	REPLAY_START,             /* Home: the recording's start */
	REPLAY_END,               /* End: its end */
	REPLAY_NEXT_ALARM,        /* n: the next alarm event (raise, ack, clear ...) */
	REPLAY_PREV_ALARM,        /* N */
};
void replay_act(struct replay *rp, enum replay_action a);
/* To a typed time (g: any TIME form; relative ones from the cursor): 0, or
 * -1 with err. */
int replay_goto(struct replay *rp, const char *text, char *err, size_t errsz);
/* To session id's start (S); its configuration differs: said in the notice. */
void replay_to_session(struct replay *rp, int64_t id);

/* A live console frozen (Z): the bar says so; End goes on to the newest sample. */
void replay_mark_frozen(struct replay *rp);

/* Cursor moves for tests and the keys: to t_us (clamped to the recording). */
void replay_seek(struct replay *rp, int64_t t_us);
/* The buffer replayed. */
const char *replay_path(const struct replay *rp);
int64_t replay_cursor(const struct replay *rp);

#endif
