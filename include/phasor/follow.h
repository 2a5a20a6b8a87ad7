/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_FOLLOW_H
#define PHASOR_FOLLOW_H
/*
 * follow: the buffer as a source. One thread with its own read-only
 * connection reads what another process wrote and pushes it on the hub
 * queue like any source, so the hub thread applies it the usual way.
 *
 * - attached (a recorder holds the buffer, reclock.h): the last hour of
 *   samples, then every new sample by seq (MSG_SAMPLES), comm changes
 *   (MSG_STATUS), alarm journal rows (MSG_ALARM_ROW), the recorder's
 *   status row (its links: ops->links; the rest: follow_status), the
 *   recorder's lock (up, gone, back), every FOLLOW_MS. Operator requests
 *   handed to follow_request are written to alarm_requests from this
 *   thread (never the UI's), and their outcomes come back as MSG_EVENT
 *   "request-done" / "request-refused".
 * - history (embedded console): the last hour before this start, of the
 *   plotted quantities only (MSG_HISTORY), then the thread ends.
 */
#include <stdbool.h>
#include <stdint.h>

#include "phasor/hub.h"
#include "phasor/kpi.h"
#include "phasor/source.h"
#include "phasor/store.h"

#define FOLLOW_MS 200
#define FOLLOW_HISTORY_US (3600LL * 1000000)

struct follow_opts {
	bool attached;
	int64_t alarms_after;     /* attached: journal rows already applied (seq) */
	int64_t machines_after;   /* attached: the machines' samples up to this seq
				   * are in the hub's figures already (machines_load) */
	const char *console;      /* attached: who asks (host:pid) */
};

struct source *follow_new(const struct config *cfg, struct queue *q,
			  const struct follow_opts *o);
extern const struct source_ops source_follow_ops;

/* Queue an operator request for the recorder (copied; any thread). */
void follow_request(struct source *s, const struct store_request *q);

/* The recorder fields of out and what it last said (store, sync, hub). */
void follow_status(struct source *s, struct hub_status *out);
/* The last hour is still being read. */
bool follow_loading(struct source *s);

/* The KPI's day before this start read from the buffer (kpi_new_day). */
extern const struct kpi_day_ops follow_kpi_day_ops;

/* The journal row of a MSG_ALARM_ROW (strings point into m). */
void follow_alarm_row(const struct source_msg *m, struct store_alarm_event *out);

#endif
