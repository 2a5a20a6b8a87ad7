/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_MACHINES_H
#define PHASOR_MACHINES_H
/*
 * machines: the hub's [machine NAME]s (docs/machines.md). One
 * struct machine_track each (machine.h), fed in the hub thread with the
 * machines' MQTT messages and, at each hub tick, the feeding meters'
 * energy counters and power from the live state and the local day's and
 * shift's starts. A message becomes at most two samples for the buffer,
 * of the machine as a unit after the meters (unit nmeters + k): its state
 * (quantity machine_state, 0 run, 1 wait, 2 stop, stored when it changes)
 * and its pieces (quantity pieces, the count, stored when it moves).
 */
#include <stddef.h>
#include <stdint.h>
#include "phasor/config.h"
#include "phasor/live.h"
#include "phasor/machine.h"
#include "phasor/payload.h"
#include "phasor/qty.h"
#include "phasor/store.h"

struct machines;

/* The machines of cfg (borrowed; outlives them), their spans starting at
 * now_us's local day and shift. NULL when cfg has none. Free with
 * machines_free. */
struct machines *machines_new(const struct config *cfg, int64_t now_us);
void machines_free(struct machines *ms);

size_t machines_count(const struct machines *ms);
const struct machine_track *machines_track(const struct machines *ms, size_t k);

/* The machine whose topic is topic, or -1. */
long machines_find_topic(const struct machines *ms, const char *topic);

/*
 * Machine k's message at t_us: decoded (payload_decode_machine) and fed
 * to its track; the samples to store in out (room for 2), *n of them.
 * Returns the decode's status (the message counts as malformed when not
 * PAYLOAD_OK), err the reason.
 */
enum payload_status machines_message(struct machines *ms, size_t k, const char *payload,
				     size_t len, int64_t t_us, struct sample *out, size_t *n,
				     char *err, size_t errlen);

/*
 * Samples a Modbus machine's poll made (unit nmeters + k: the state
 * register's code as machine_state, the pieces register as pieces, raw):
 * each fed to its machine as machines_message does, the code mapped by
 * the machine's run, wait and stop values (an unmapped code or a bad value
 * counts as malformed); the samples to store in out (cap), returns how
 * many. Samples of meters are skipped.
 */
size_t machines_polled(struct machines *ms, const struct sample *in, size_t nin,
		       struct sample *out, size_t cap);

/* Time, spans, staleness, energy and power at now_us, from live. */
void machines_tick(struct machines *ms, const struct live *live, int64_t now_us);

/*
 * Fed by what was stored rather than by the machines themselves (an
 * attached console, a replay): no staleness, since a report that repeats
 * the state is not stored (the state holds from one stored change to the
 * next, and is unknown between sessions: machines_edge).
 */
void machines_follow_store(struct machines *ms);

/*
 * Samples as the buffer holds them (units nmeters + k: machine_state 0
 * run, 1 wait, 2 stop; pieces the count), fed to the machines' tracks;
 * other units' samples are skipped. Nothing is stored.
 */
void machines_stored(struct machines *ms, const struct sample *s, size_t n);

/* A recording session ended (start false) or began (true) at t_us:
 * every machine's state unknown from then; a start takes the bases again
 * (machine_track_rebase). */
void machines_edge(struct machines *ms, int64_t t_us, bool start);

/* One stored point of the machines' past (machines_seed). */
enum machines_point_kind {
	MACHINES_END,    /* a session ended (every machine) */
	MACHINES_START,  /* a session began (every machine) */
	MACHINES_STATE,  /* machine's stored state (0 run, 1 wait, 2 stop) */
	MACHINES_PIECES, /* machine's stored count */
	MACHINES_ENERGY, /* its feeding meter's energy: a running sum in Wh */
};
struct machines_point {
	int64_t t_us;
	int kind;                 /* enum machines_point_kind */
	size_t machine;
	size_t meter;             /* ENERGY: the index in the machine's meters */
	double value;
	size_t order;             /* ties of time and kind in the order given */
};

/*
 * Rebuild every machine's figures at now_us from points (sorted here;
 * those after now_us are left out), applied through the same track
 * functions as live reports and ticks: the same points give the same
 * occupancy, pieces and energy. Afterwards the feeding meters' bases are
 * taken again from the next live counters.
 */
void machines_seed(struct machines *ms, struct machines_point *p, size_t n, int64_t now_us);

/*
 * machines_seed from the buffer: the machines' stored states and pieces
 * from a day before the current shift's or day's start (the state and the
 * counter then), their feeding meters' energy since that start from the
 * per-minute rollups (store_reader_minutes: each minute's first and last
 * value), but from every sample in the minutes where a state changed (the
 * energy before the change to the state before it, as live), and the
 * sessions' ends and starts; samples with a seq above max_seq are left
 * out (an attached console follows them). 0, or -1 with *cause (the
 * figures then start at now_us).
 */
int machines_load(struct machines *ms, struct store_reader *r, int64_t now_us, int64_t max_seq,
		  char **cause);

/* Is machine k consuming while stopped (stopped_power for stopped_after)? */
bool machines_consuming_stopped(const struct machines *ms, size_t k, int64_t now_us);

#endif
