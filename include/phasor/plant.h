/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_PLANT_H
#define PHASOR_PLANT_H
/*
 * plant: the console's read model. Everything the views and the frame
 * (header, banner, status bar) show comes from one struct plant: the
 * configuration, the live state, the alarm engine and its history, the
 * site figures, where the data comes from (struct hub_status) and the
 * instant shown (now_us). Views never ask the hub, the store, the sync or
 * the clock; a feed fills the plant and the views read it.
 *
 * Today the feed is the hub, embedded or attached (ui.c fills the plant
 * before each frame and each batch of keys); a replay of a recorded buffer
 * fills the same structure with now_us at its time cursor.
 *
 * Operator actions on alarms go through ops->act (the feed decides: the
 * engine at once, or a request to the recorder); without ops (the unit
 * tests) plant_act() acts on the engine itself. UI thread only.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/config.h"
#include "phasor/hub.h"
#include "phasor/kpi.h"
#include "phasor/live.h"
#include "phasor/trend.h"

struct alarm_engine;
struct histjob;
struct machines;
struct alarm_event;

/* What a feed does for the console; ctx is struct plant.ctx. */
struct plant_ops {
	/* An operator action on alarm instance inst ("ack" "shelve" "unshelve"
	 * "note"), as hub_alarm_action(): 0 done or sent (*sent), -1 with err. */
	int (*act)(void *ctx, size_t inst, const char *action, const char *op, const char *note,
		   int64_t dur_ms, int64_t now_us, bool *sent, char *err, size_t errsz);
	/* The newest events of instance inst (-1: all), newest first, at most
	 * max; pointers valid until the feed next changes the plant. */
	size_t (*history)(void *ctx, long inst, const struct alarm_event **out, size_t max);
	/* Regenerate the load forecasts now, as hub_forecast_now(). */
	int (*forecast)(void *ctx, const char *op, int64_t now_us, bool *sent, char *err,
			size_t errsz);
};

/* The outcome of the newest operator request the feed sent (attached). */
struct plant_outcome {
	uint64_t seq;             /* moves on each new outcome; 0: none yet */
	char text[200];           /* "ack of pf-low on m1 refused: ..." */
	bool refused;
	int64_t at_us;            /* when it came back */
};

/* A recording session, for a replay's list (S). */
struct plant_session {
	int64_t id, start_us;
	int64_t end_us;               /* 0: never closed (killed) */
	char host[64], mode[16];
};

/* A replay's time cursor, for the playback bar (replay.h); on false: live. */
struct plant_replay {
	bool on;
	bool frozen;                  /* a live console frozen (Z): L returns */
	bool playing;
	double speed;                 /* 1, 2, 10, 60, 600, 3600 */
	int64_t first_us, last_us;    /* the recording's first and last sample */
	int64_t session;              /* the session whose configuration is shown */
	bool behind;                  /* reading has not kept up with the cursor */
	char notice[96];              /* the last thing a key said ("no alarm event after") */
	uint64_t state_gen;           /* moves on each rebuild of the state (a seek) */
	const struct plant_session *sessions; /* oldest first (the feed's, valid while it runs) */
	size_t nsessions;
};

struct plant {
	const struct config *cfg;
	const struct live *live;
	struct alarm_engine *alarms;  /* NULL: no alarms (no acquisition) */
	const struct kpi *kpi;        /* NULL: no site figures */
	const struct trend_set *trends; /* the forecasts of view 4 (trend.h); NULL: none */
	const struct machines *machines; /* view 7's figures (machines.h); NULL: none */
	/* Where the data comes from; has_status false: nowhere (the views say
	 * so: no sources, no buffer). links point into the feed, valid until
	 * it next fills the plant. */
	bool has_status;
	struct hub_status status;
	bool buffer_replaced;         /* status.store_replaced (a damaged buffer moved aside) */
	uint64_t raises_high;         /* local raises of critical and high alarms (the bell) */
	struct plant_outcome outcome;
	int64_t now_us;               /* the instant shown: the wall clock, or a replay's cursor */
	struct plant_replay replay;
	/* View 6's worker on the buffer (histjob.h: a request, a result when
	 * ready); NULL: none (no buffer, the unit tests). */
	struct histjob *history;
	const struct plant_ops *ops;  /* NULL: actions on the engine, no history */
	void *ctx;
};

/*
 * An operator action through the feed (ops->act), or on p->alarms itself
 * when there is no feed. *sent is true when it went to a recorder. 0 done,
 * -1 with err when refused.
 */
int plant_act(const struct plant *p, size_t inst, const char *action, const char *op,
	      const char *note, int64_t dur_ms, bool *sent, char *err, size_t errsz);

/* The newest alarm events of inst (-1: all), newest first; 0 without a feed. */
size_t plant_history(const struct plant *p, long inst, const struct alarm_event **out,
		     size_t max);

/*
 * A link (a Modbus endpoint, the broker) as the console reads it. The
 * source's own state says whether the connection is open; an open
 * connection over which none of its meters answers (every one of them
 * stale or down: a frozen server keeps its TCP connection, a frozen broker
 * its session until the keepalive runs out) is not "up" but "degraded". A
 * link that failed and is trying again is "down" from its first failure.
 */
enum plant_link_state {
	PLANT_LINK_IDLE,        /* "idle": not started */
	PLANT_LINK_CONNECTING,  /* "connecting": the first connection */
	PLANT_LINK_UP,          /* "up": connected, and a meter answers (or none said yet) */
	PLANT_LINK_DEGRADED,    /* "degraded": connected, no meter answers */
	PLANT_LINK_DOWN,        /* "down": not connected, or retrying after a failure */
};

struct plant_link {
	enum plant_link_state state;
	const char *word;             /* "up", "degraded", ... (static) */
	int64_t since_us;             /* in this state since (0: unknown); degraded: the
				       * last data from any of its meters */
	size_t nmeters;               /* of the configuration it serves */
	size_t answering;             /* of which ok */
};

/* How the console reads link l (one of p->status.links). */
void plant_link(const struct plant *p, const struct source_link *l, struct plant_link *out);
/* Of links[0..n) (p->status.links), how many are up and how many degraded,
 * as plant_link reads each, in one pass over the meters. */
void plant_links_count(const struct plant *p, const struct source_link *links, size_t n,
		       size_t *up, size_t *degraded);

/* True when meter cm of the configuration is served by link l. */
bool plant_link_serves(const struct source_link *l, const struct config_meter *cm);

/*
 * The meter's communication state as of p->now_us: its source's, except
 * that data older than its staleness limit makes an "ok" meter "stale".
 */
enum comm_status plant_meter_comm(const struct plant *p, const struct live_meter *m);

/* Regenerate the forecasts through the feed: 0 (*sent: asked of the
 * recorder), -1 with err (no feed, no buffer). */
int plant_forecast_now(const struct plant *p, const char *op, bool *sent, char *err,
		       size_t errsz);

/* The words for the buffer's and the central database's states. */
const char *plant_buffer_state(const struct plant *p);
const char *plant_db_state(const struct plant *p);

#endif
