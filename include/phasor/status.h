/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_STATUS_H
#define PHASOR_STATUS_H
/*
 * status: the recorder's status row (recorder_status 'recorder' in the
 * buffer, docs/buffer.md) as JSON: its links, buffer, sync and hub
 * figures, written every second by `phasor record` and read by the
 * consoles attached to it. Encoding and decoding only; no I/O.
 */
#include <stddef.h>

#include "phasor/hub.h"

/* The JSON of s (links included), a new string. */
char *status_encode(const struct hub_status *s, long pid);

/*
 * Fill out's acquiring-process fields (links, store, sync, hub) from json;
 * the links go into *links (grown with realloc, *cap its size) and
 * out->links points there. 0, or -1 with err when json is not such a row.
 */
int status_decode(const char *json, struct hub_status *out, struct source_link **links,
		  size_t *cap, char *err, size_t errsz);

#endif
