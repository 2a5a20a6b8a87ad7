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

/* Is machine k consuming while stopped (stopped_power for stopped_after)? */
bool machines_consuming_stopped(const struct machines *ms, size_t k, int64_t now_us);

#endif
