// SPDX-License-Identifier: MIT
/*
 * fileids: the buffer's ids mapped to this configuration (fileids.h). Ids
 * beyond MAX_FILE_ID are never mapped (a damaged or hostile file must not
 * make the maps huge).
 */
#include "phasor/fileids.h"

#include <stdlib.h>
#include <string.h>

#include "phasor/qty.h"
#include "phasor/util.h"

#define MAX_FILE_ID 1000000

void fileids_init(struct fileids *m, const struct config *cfg)
{
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
}

void fileids_free(struct fileids *m)
{
	free(m->meter);
	free(m->qty);
	m->meter = m->qty = NULL;
	m->nmeter = m->nqty = 0;
}

/* map with room for index id, new entries -1 (none). */
static long *map_grow(long *map, size_t *n, size_t id)
{
	size_t i;

	if (id < *n)
		return map;
	map = util_reallocarray(map, id + 1, sizeof(*map));
	for (i = *n; i <= id; i++)
		map[i] = -1;
	*n = id + 1;
	return map;
}

long fileids_meter_named(struct fileids *m, const char *name)
{
	size_t i, n = m->cfg->nmeters;

	/* rows come a poll at a time: the last one found is usually next */
	for (i = 0; i < n; i++) {
		size_t k = (m->hint + i) % n;

		if (strcmp(m->cfg->meters[k].name, name) == 0) {
			m->hint = k;
			return (long)k;
		}
	}
	return -1;
}

bool fileids_plotted_qty(int q)
{
	switch (q) {
	case QTY_P_TOTAL:
	case QTY_P_L1:
	case QTY_P_L2:
	case QTY_P_L3:
	case QTY_Q_TOTAL:
	case QTY_PF_TOTAL:
	case QTY_I_L1:
	case QTY_I_L2:
	case QTY_I_L3:
		return true;
	default:
		return false;
	}
}

/* A machine's unit: nmeters + its index (its samples: states and pieces). */
static long machine_named(const struct fileids *m, const char *name)
{
	size_t k;

	for (k = 0; k < m->cfg->nmachines; k++)
		if (strcmp(m->cfg->machines[k].name, name) == 0)
			return (long)(m->cfg->nmeters + k);
	return -1;
}

static int map_meter(void *ctx, int64_t id, const char *name)
{
	struct fileids *m = ctx;

	if (id < 0 || id >= MAX_FILE_ID)
		return 0;
	m->meter = map_grow(m->meter, &m->nmeter, (size_t)id);
	m->meter[id] = fileids_meter_named(m, name);
	if (m->meter[id] < 0)
		m->meter[id] = machine_named(m, name);
	return 0;
}

static int map_qty(void *ctx, int64_t id, const char *name)
{
	struct fileids *m = ctx;
	int q = qty_lookup(name);

	if (id < 0 || id >= MAX_FILE_ID)
		return 0;
	m->qty = map_grow(m->qty, &m->nqty, (size_t)id);
	m->qty[id] = q;
	if (q >= 0 && fileids_plotted_qty(q) && m->nplotted < UTIL_ARRAY_LEN(m->plotted))
		m->plotted[m->nplotted++] = id;
	return 0;
}

int fileids_load(struct fileids *m, struct store_reader *r, char **cause)
{
	m->nplotted = 0;
	if (store_reader_ids(r, false, map_meter, m, cause) < 0 ||
	    store_reader_ids(r, true, map_qty, m, cause) < 0)
		return -1;
	return 0;
}

long fileids_meter(const struct fileids *m, int64_t id)
{
	return id >= 0 && (size_t)id < m->nmeter ? m->meter[id] : -2;
}

int fileids_qty(const struct fileids *m, int64_t id)
{
	return id >= 0 && (size_t)id < m->nqty ? (int)m->qty[id] : -2;
}

bool fileids_sample(const struct fileids *m, const struct store_raw_row *r, struct sample *out)
{
	long mi = fileids_meter(m, r->meter_id);
	int q = fileids_qty(m, r->qty_id);

	if (mi < 0 || q < 0)
		return false;
	out->t_us = r->t_us;
	out->value = r->value;
	out->meter = (uint32_t)mi;
	out->qty = (uint16_t)q;
	out->quality = (uint8_t)r->quality;
	out->reserved = 0;
	return true;
}

void fileids_comm(const struct store_comm_row *r, struct meter_comm *out)
{
	memset(out, 0, sizeof(*out));
	out->status = r->status >= COMM_UNKNOWN && r->status <= COMM_DOWN
			      ? (enum comm_status)r->status
			      : COMM_UNKNOWN;
	util_sanitize(out->error, sizeof(out->error), r->error);
	out->latency_us = -1;
	if (out->status == COMM_OK)
		out->last_good_us = r->t_us;
	else
		out->last_error_us = r->t_us;
}
