/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_WHATIF_H
#define PHASOR_WHATIF_H
/*
 * whatif: a configuration's alarm definitions evaluated on what a buffer
 * recorded (`phasor alarms --what-if`), beside what the recorded journal
 * had. The recorded samples and comm changes of the range are applied in
 * time order to a live state, and an alarm engine on that configuration is
 * evaluated every 250 ms of recorded time (the hub's tick; every second
 * across gaps longer than 5 s) at the recorded instants. Both sides are
 * counted by the same rules: raises, instances standing at the end (active
 * for more than 24 h), instances that chattered (5 raises within 60 s),
 * raises per 10 minutes (average over the range, peak) and floods (10
 * minutes with 10 raises or more, all alarms).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/config.h"

enum { WHATIF_RECORDED, WHATIF_NEW };

struct whatif_def {
	char alarm[64];
	char priority[16];        /* the new definition's, else the journal's */
	bool defined[2];          /* in the journal's rows / in the new configuration */
	unsigned raises[2], standing[2], chattering[2], peak10[2];
};

struct whatif_result {
	int64_t from_us, to_us;   /* the range evaluated (the recording's within --from/--to) */
	uint64_t samples, evaluations;
	struct whatif_def *defs;  /* by alarm name */
	size_t ndefs;
	unsigned raises[2], peak10[2], floods[2];
	double avg10[2];          /* raises per 10 minutes over the range */
};

/*
 * Evaluate cfg's alarms on the buffer db in [from_us, to_us) (INT64_MIN /
 * INT64_MAX: the whole recording). 0, or -1 with *cause (caller frees).
 */
int whatif_run(const char *db, const struct config *cfg, int64_t from_us, int64_t to_us,
	       struct whatif_result *out, char **cause);
void whatif_free(struct whatif_result *r);

#endif
