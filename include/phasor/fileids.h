/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_FILEIDS_H
#define PHASOR_FILEIDS_H
/*
 * fileids: a buffer's meter and quantity ids (its meters and quantities
 * tables) mapped to this configuration's meter indexes and enum qty_id,
 * for the readers that read rows by id without a join (store_reader_raw_*):
 * the follow feed and the replay. Also what both make of a stored comm
 * change. Owned by one thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "phasor/comm.h"
#include "phasor/config.h"
#include "phasor/live.h"
#include "phasor/store.h"

struct fileids {
	const struct config *cfg;
	long *meter;              /* meters.id -> config index (a machine: nmeters + its
				   * index), -1: not configured */
	size_t nmeter;
	long *qty;                /* quantities.id -> enum qty_id, -1: unknown here */
	size_t nqty;
	int64_t plotted[16];      /* the file's ids of the plotted quantities */
	size_t nplotted;
	size_t hint;              /* the last meter found by name */
};

void fileids_init(struct fileids *m, const struct config *cfg);
void fileids_free(struct fileids *m);
/* (Re)read the file's ids (a recorder with another configuration adds rows). 0 or -1. */
int fileids_load(struct fileids *m, struct store_reader *r, char **cause);
/* The config index of the file's meter id (a machine's: nmeters + k; -1:
 * not configured, -2: an id not loaded). */
long fileids_meter(const struct fileids *m, int64_t id);
/* The enum qty_id of the file's quantity id (-1: unknown here, -2: not loaded). */
int fileids_qty(const struct fileids *m, int64_t id);
/* The config index of a meter name, -1 when this configuration has none. */
long fileids_meter_named(struct fileids *m, const char *name);
/* A raw row as a sample of this configuration (a machine's: unit nmeters + k):
 * false when it has no such meter, machine or quantity. */
bool fileids_sample(const struct fileids *m, const struct store_raw_row *r, struct sample *out);
/* What the history rings plot (live.c): P, Q, PF and the currents. */
bool fileids_plotted_qty(int q);
/* A stored comm change as the meter's comm state at its time. */
void fileids_comm(const struct store_comm_row *r, struct meter_comm *out);

#endif
