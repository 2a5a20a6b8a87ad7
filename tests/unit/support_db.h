/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_TEST_SUPPORT_DB_H
#define PHASOR_TEST_SUPPORT_DB_H
/*
 * Shared by the unit tests of the buffer (test_store, test_store_sync):
 * checks through a separate SQLite connection. Include after <cmocka.h>
 * (failures are cmocka's fail_msg).
 */
#include <stdint.h>

#include <sqlite3.h>

#include "phasor/samples_vtab.h"

/* The samples module on every connection the test opens (samples_vtab.h). */
__attribute__((constructor)) static void support_db_vtab(void)
{
	samples_vtab_auto();
}

/* The integer a query returns on a separate connection (-1 on error). */
static inline int64_t db_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail_msg("open %s: %s", path, sqlite3_errmsg(db));
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

#endif
