// SPDX-License-Identifier: MIT
/*
 * bench_store: samples per second into the local buffer through the store
 * (writer thread, queue, batched transactions), against a bare batched
 * prepared-statement sqlite3 insert of the same rows into the same table
 * with the same indexes and pragmas, measured in the same run, alternating
 * the two several times and keeping each one's best.
 *
 *   bench_store [SAMPLES] [ROUNDS]      prints "store_rate peer_rate ratio"
 */
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phasor/config.h"
#include "phasor/store.h"
#include "phasor/util.h"

#include "bench_common.h"

#define METERS 50
#define BATCH 5000

static struct sample *make_samples(size_t n)
{
	struct sample *s = util_calloc(n, sizeof(*s));
	int64_t t0 = util_now_us();
	size_t i;

	for (i = 0; i < n; i++) {
		s[i].t_us = t0 + (int64_t)(i / (METERS * 30)) * 1000000 + (int64_t)(i % 997);
		s[i].meter = (uint32_t)((i / 30) % METERS);
		s[i].qty = (uint16_t)(i % 30);
		s[i].value = 230.0 + (double)(i % 1000) * 0.01;
		s[i].quality = QUALITY_GOOD;
	}
	return s;
}

static struct config *make_config(char *dir)
{
	char *path = util_printf("%s/store.db", dir);
	struct config *c = bench_config(path, NULL, METERS);

	free(path);
	c->store.queue_max = 100000000;
	c->store.batch_rows = BATCH;
	c->store.commit_ms = 1000;
	return c;
}

static double run_store(struct config *c, const struct sample *s, size_t n)
{
	char *cause = NULL;
	struct store *st;
	int64_t t0, t1;
	size_t off;

	unlink(c->store.path);
	st = store_open(c->store.path, c->store.queue_max, c->store.batch_rows, c->store.commit_ms,
			&cause);
	if (st == NULL || store_register_meters(st, c, &cause) < 0 ||
	    store_begin_session(st, c, "bench", &cause) < 0 || store_start(st, &cause) < 0) {
		fprintf(stderr, "bench_store: %s\n", cause ? cause : "?");
		exit(1);
	}
	t0 = util_mono_us();
	/* As the hub does: one poll's worth at a time. */
	for (off = 0; off < n; off += 30)
		store_put_samples(st, s + off, n - off < 30 ? n - off : 30);
	store_stop(st, 60000);
	t1 = util_mono_us();
	store_close(st);
	return (double)n / ((double)(t1 - t0) / 1e6);
}

/* The peer: same file layout (created by the store), bare inserts. */
static double run_peer(struct config *c, const struct sample *s, size_t n)
{
	char *cause = NULL, *path = util_printf("%s.peer", c->store.path);
	struct store *st;
	sqlite3 *db;
	sqlite3_stmt *ins;
	int64_t t0, t1;
	size_t i;

	unlink(path);
	st = store_open(path, 1000, BATCH, 1000, &cause);
	if (st == NULL || store_register_meters(st, c, &cause) < 0) {
		fprintf(stderr, "bench_store: %s\n", cause ? cause : "?");
		exit(1);
	}
	store_close(st);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO samples(t_us, meter_id, qty_id, value, quality, "
			       "session_id) VALUES (?, ?, ?, ?, ?, 1)",
			       -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_store: peer prepare: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	t0 = util_mono_us();
	for (i = 0; i < n; i++) {
		if (i % BATCH == 0)
			sqlite3_exec(db, i ? "COMMIT; BEGIN" : "BEGIN", NULL, NULL, NULL);
		sqlite3_bind_int64(ins, 1, s[i].t_us);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)s[i].meter + 1);
		sqlite3_bind_int(ins, 3, s[i].qty);
		sqlite3_bind_double(ins, 4, s[i].value);
		sqlite3_bind_int(ins, 5, s[i].quality);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "bench_store: peer insert: %s\n", sqlite3_errmsg(db));
			exit(1);
		}
		sqlite3_reset(ins);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	t1 = util_mono_us();
	sqlite3_finalize(ins);
	sqlite3_close(db);
	unlink(path);
	free(path);
	return (double)n / ((double)(t1 - t0) / 1e6);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, r;
	char dir[] = "/tmp/phasor-bench-store.XXXXXX";
	struct sample *s = make_samples(n);
	struct config *c;
	double best_store = 0, best_peer = 0;

	if (mkdtemp(dir) == NULL)
		return 1;
	c = make_config(dir);
	for (r = 0; r < rounds; r++) {
		double a = run_peer(c, s, n);
		double b = run_store(c, s, n);

		fprintf(stderr, "round %d: store %.0f/s, peer %.0f/s\n", r + 1, b, a);
		if (a > best_peer)
			best_peer = a;
		if (b > best_store)
			best_store = b;
	}
	printf("%.0f %.0f %.3f\n", best_store, best_peer, best_store / best_peer);
	unlink(c->store.path);
	{
		char *wal = util_printf("%s-wal", c->store.path), *shm = util_printf("%s-shm", c->store.path);
		unlink(wal);
		unlink(shm);
		free(wal);
		free(shm);
	}
	rmdir(dir);
	free(s);
	return 0;
}
