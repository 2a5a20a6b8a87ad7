/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_HUB_H
#define PHASOR_HUB_H
/*
 * hub: the heart of a running phasor (record or console). It owns the
 * queue between the sources and its thread, the sources, the live state and
 * the store writer. Its owner (the record loop, or the console's UI loop)
 * polls hub_fd() with its other fds and calls hub_dispatch() when it is
 * readable and hub_tick() a few times a second; the hub then decodes raw
 * messages, updates the live state, and hands samples and events to the
 * store. Nothing here blocks on I/O.
 *
 *   pollers / MQTT callback --push--> queue --eventfd--> hub_dispatch
 *        (source threads)                          (owner thread)
 *                                      live state <--+--> store queue --> writer thread
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/config.h"
#include "phasor/live.h"
#include "phasor/source.h"
#include "phasor/store.h"
#include "phasor/sync.h"

struct hub;

struct hub_opts {
	const char *mode;        /* session mode: "record", "console" */
	bool no_store;           /* run without the local buffer (tests) */
	size_t queue_capacity;   /* messages; 0: default 65536 */
	/*
	 * A recorder holds the buffer (reclock.h): poll nothing, write
	 * nothing; follow the buffer (samples, comm changes, the alarm
	 * journal, the recorder's status) and send operator actions to the
	 * recorder as requests (hub_alarm_action).
	 */
	bool attached;
	/* record: say what this process does in the buffer every second
	 * (recorder_status), for the attached consoles. */
	bool publish_status;
	/* Load the last hour of the plotted series from the buffer at start
	 * (off this thread) and the alarm journal's last 24 h. */
	bool history;
};

/* A hub for cfg (borrowed; must outlive the hub). NULL with *cause. */
struct hub *hub_new(const struct config *cfg, const struct hub_opts *opts, char **cause);

/* Open the store, begin the session, start the writer and the sources. */
int hub_start(struct hub *h, char **cause);

/* Readable (POLLIN) when messages wait. */
int hub_fd(const struct hub *h);

/* Process everything queued. Returns the number of messages handled. */
size_t hub_dispatch(struct hub *h);

/*
 * The last dispatch stopped because the store is behind (backpressure).
 * The owner should then not wait on hub_fd() (it stays readable) but call
 * hub_dispatch() again after a short sleep (~10 ms).
 */
bool hub_throttled(const struct hub *h);

/* Periodic work (staleness, statistics). Call at least every 250 ms. */
void hub_tick(struct hub *h, int64_t now_us);

/*
 * Stop the sources (nothing new arrives), process what is still queued,
 * then flush the store and close the session. Safe to call twice.
 */
void hub_stop(struct hub *h);
void hub_free(struct hub *h);

struct live *hub_live(struct hub *h);
/* The [machine NAME]s' figures (machines.h); NULL when there are none. */
struct machines;
const struct machines *hub_machines(const struct hub *h);
struct store *hub_store(struct hub *h);  /* NULL when no_store */
/* The sync worker (started when [sync] is configured and a store is open),
 * or NULL. */
struct sync *hub_sync(struct hub *h);

/*
 * The alarm engine (after hub_start; NULL before). The owner thread calls
 * its operator actions (alarm_ack ...); events go to the journal and, with
 * [mqtt] alarm_topic, to the other consoles.
 */
struct alarm_engine *hub_alarms(struct hub *h);
/*
 * The newest alarm events of instance inst (-1: of every instance), newest
 * first, from an in-memory ring of the last HUB_ALARM_HISTORY events (the
 * journal in the buffer has them all). Pointers valid until the next
 * dispatch or tick. Returns the count.
 */
#define HUB_ALARM_HISTORY 4096
struct alarm_event;
size_t hub_alarm_history(const struct hub *h, long inst, const struct alarm_event **out,
			 size_t max);
/* Local raises of critical and high alarms so far (the console's bell). */
uint64_t hub_alarm_raises_high(const struct hub *h);
/*
 * Alarm events worth showing at once rather than at the next refresh:
 * another console's actions and raises of critical and high alarms (a
 * counter; the console redraws when it moves).
 */
uint64_t hub_alarm_urgent(const struct hub *h);


/*
 * Every link of every source (each Modbus endpoint, the broker), however
 * many: *out is set to a hub-owned snapshot and the count is returned. The
 * snapshot is taken by hub_new, hub_start, each hub_tick and hub_stop (after
 * the sources stopped: the links as they ended), so it is at most one tick
 * old; it stays valid until the next of those calls or hub_free. The caller
 * neither frees nor keeps it.
 */
size_t hub_links(const struct hub *h, const struct source_link **out);

struct hub_stats {
	uint64_t messages;       /* handled by dispatch */
	uint64_t samples;        /* samples handed to live/store */
	size_t queue_depth, queue_high_water;
	uint64_t queue_dropped;  /* messages the queue refused, summed over every link */
	uint64_t throttled;      /* dispatches cut short by backpressure */
};
void hub_get_stats(struct hub *h, struct hub_stats *out);

/*
 * What the console shows of where its data comes from: the mode, the
 * links, the buffer and the sync of the process that acquires (this one,
 * or the recorder it is attached to, as the recorder last said), the hub
 * queue. Views and the status bar read this rather than the store or the
 * sync. links points into the hub (valid as hub_links's snapshot).
 */
enum hub_mode { HUB_EMBEDDED, HUB_ATTACHED, HUB_REPLAY };
struct hub_status {
	enum hub_mode mode;
	/* attached only */
	bool recorder_up;         /* a recorder holds the buffer's lock */
	char recorder[160];       /* who: "pid 12 record on host", or why there is none */
	int64_t recorder_since_us;/* recorder_up last changed */
	int64_t heartbeat_us;     /* the recorder's last status row; 0: none yet */
	bool history_loading;     /* the last hour is still being read */
	/* the acquiring process's */
	const struct source_link *links;
	size_t nlinks;
	bool has_store;
	struct store_stats store;
	bool store_replaced;      /* a damaged buffer was moved aside at its start */
	bool has_sync;
	struct sync_stats sync;
	struct hub_stats hub;
	bool throttled;
};
void hub_status(struct hub *h, struct hub_status *out);
/* The follow feed is still reading the last hour (cheap, any time). */
bool hub_history_loading(struct hub *h);

/*
 * An operator action on alarm instance inst (the engine's index): done at
 * once by this hub's alarm engine (embedded), or sent to the recorder as a
 * request (attached; applied by the recorder, which journals it, and seen
 * here when its journal row comes back). action: "ack" "shelve" "unshelve"
 * "note". 0 done or sent (*sent true when sent), -1 with err when refused.
 */
int hub_alarm_action(struct hub *h, size_t inst, const char *action, const char *op,
		     const char *note, int64_t dur_ms, int64_t now_us, bool *sent, char *err,
		     size_t errsz);
/*
 * The outcome of the newest request sent, once the recorder has decided
 * (attached): *seq moves on each; text "ack of pf-low on m1 refused: ...".
 * false when nothing new since *seq.
 */
bool hub_request_outcome(struct hub *h, uint64_t *seq, char *text, size_t size, bool *refused);

/*
 * The newest forecast trend set (fcjob.h; NULL when there is no buffer or
 * none built yet): valid until the next call. Owner thread.
 */
struct trend_set;
const struct trend_set *hub_trends(struct hub *h);
/*
 * Regenerate the forecasts now: this hub's worker (embedded), or a request
 * to the recorder (attached, *sent), which makes and stores them. 0, or -1
 * with err.
 */
int hub_forecast_now(struct hub *h, const char *op, int64_t now_us, bool *sent, char *err,
		     size_t errsz);

#endif
