/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_TOOL_STORE_H
#define PHASOR_TOOL_STORE_H
/*
 * What the buffer-writing test tools (fcbuf, repbuf) share: a
 * configuration from INI text, and a store on a file with its meters
 * registered, a "record" session begun and the writer started, as the
 * recorder does.
 */
#include <stdio.h>

#include "phasor/config.h"
#include "phasor/diag.h"
#include "phasor/store.h"

/* *cfg from ini (named name.ini in messages); the store on path. NULL
 * after saying why on stderr, as "name: ...". */
static inline struct store *tool_store_open(const char *name, const char *ini, const char *path,
					    struct config **cfg)
{
	char file[64], *cause = NULL;
	struct diag d;
	struct store *st;

	snprintf(file, sizeof(file), "%s.ini", name);
	diag_init(&d);
	*cfg = config_load_string(ini, file, &d);
	if (*cfg == NULL) {
		diag_print(&d, stderr);
		diag_clear(&d);
		return NULL;
	}
	st = store_open(path, 10000000, 5000, 1000, &cause);
	if (st == NULL || store_register_meters(st, *cfg, &cause) < 0 ||
	    store_begin_session(st, *cfg, "record", &cause) < 0 || store_start(st, &cause) < 0) {
		fprintf(stderr, "%s: %s\n", name, cause != NULL ? cause : "?");
		return NULL;
	}
	return st;
}

/* Everything committed, the store stopped and closed, cfg freed: the
 * tool's exit status (1 when the flush failed). */
static inline int tool_store_close(const char *name, struct store *st, struct config *cfg)
{
	int rc = 0;

	if (store_flush(st, 60000) < 0) {
		fprintf(stderr, "%s: flush failed\n", name);
		rc = 1;
	}
	store_stop(st, 10000);
	store_close(st);
	config_free(cfg);
	return rc;
}

#endif
