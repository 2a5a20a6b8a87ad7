// SPDX-License-Identifier: MIT
/*
 * bench_store: samples per second into the local buffer through the store
 * (writer thread, queue, batched transactions, poll rows), against the
 * minimal SQLite insert of the bare tuples (16 rows per statement, no
 * index, the same pragmas and transaction size), alternately in each
 * round, the order swapped every round, the ratio taken within each round
 * (docs/performance.md, "Method"). The CPU pressure is logged per round.
 *
 *   bench_store [SAMPLES] [ROUNDS]
 *   prints "store_median peer_median ratio_min ratio_median ratio_max"
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

	/* polls of 30 samples, one time each (meter m 997 us after m - 1),
	 * values as a float32 register gives them */
	for (i = 0; i < n; i++) {
		s[i].t_us = t0 + (int64_t)(i / (METERS * 30)) * 1000000 +
			    (int64_t)((i / 30) % METERS) * 997;
		s[i].meter = (uint32_t)((i / 30) % METERS);
		s[i].qty = (uint16_t)(i % 30);
		s[i].value = util_f32_decimal((float)(230.0 + (double)(i % 1000) * 0.01));
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

/*
 * The peer: the bare tuple (t_us, meter, qty, value) into a table of its
 * own, no seq, no index, 16 rows per INSERT, transactions of BATCH
 * samples, the store's pragmas: the least SQLite does for these samples.
 */
#define MULTI 16

static double run_peer(struct config *c, const struct sample *s, size_t n)
{
	char *path = util_printf("%s.peer", c->store.path), *sql;
	sqlite3 *db;
	sqlite3_stmt *ins, *one;
	int64_t t0, t1;
	size_t i, k;

	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sqlite3_exec(db,
		     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		     "CREATE TABLE t(t_us INTEGER NOT NULL, meter INTEGER NOT NULL,"
		     " qty INTEGER NOT NULL, value REAL)",
		     NULL, NULL, NULL);
	sql = util_strdup("INSERT INTO t VALUES (?, ?, ?, ?)");
	for (k = 1; k < MULTI; k++) {
		char *more = util_printf("%s, (?, ?, ?, ?)", sql);

		free(sql);
		sql = more;
	}
	if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?, ?, ?, ?)", -1, &one, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_store: peer prepare: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	free(sql);
	t0 = util_mono_us();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	for (i = 0; i < n;) {
		sqlite3_stmt *st = n - i >= MULTI ? ins : one;
		size_t rows = st == ins ? MULTI : 1;

		if (i > 0 && i % BATCH < rows)
			sqlite3_exec(db, "COMMIT; BEGIN", NULL, NULL, NULL);
		for (k = 0; k < rows; k++, i++) {
			sqlite3_bind_int64(st, (int)(4 * k + 1), s[i].t_us);
			sqlite3_bind_int64(st, (int)(4 * k + 2), (sqlite3_int64)s[i].meter + 1);
			sqlite3_bind_int(st, (int)(4 * k + 3), s[i].qty);
			sqlite3_bind_double(st, (int)(4 * k + 4), s[i].value);
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_store: peer insert: %s\n", sqlite3_errmsg(db));
			exit(1);
		}
		sqlite3_reset(st);
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	t1 = util_mono_us();
	sqlite3_finalize(ins);
	sqlite3_finalize(one);
	sqlite3_close(db);
	unlink(path);
	free(path);
	{
		char *wal = util_printf("%s.peer-wal", c->store.path);

		unlink(wal);
		free(wal);
	}
	return (double)n / ((double)(t1 - t0) / 1e6);
}

/* The "some" total of /proc/pressure/cpu (us a task waited), or -1. */
static double pressure_total(void)
{
	FILE *f = fopen("/proc/pressure/cpu", "r");
	double avg10, avg60, avg300, total = -1;

	if (f != NULL) {
		if (fscanf(f, "some avg10=%lf avg60=%lf avg300=%lf total=%lf", &avg10, &avg60,
			   &avg300, &total) != 4)
			total = -1;
		fclose(f);
	}
	return total;
}

/* The share (%) of 2 s, nothing of the benchmark's running, in which a
 * task waited for a core: the load of others (avg10 would still hold the
 * previous round's own); -1 without PSI. As bench/run.sh's psi(). */
static double cpu_pressure(void)
{
	double a = pressure_total(), b;

	sleep(2);
	b = pressure_total();
	return a < 0 || b < 0 ? -1 : (b - a) / 2e4;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 1000000;
	int rounds = argc > 2 ? atoi(argv[2]) : 3, r;
	char dir[] = "/tmp/phasor-bench-store.XXXXXX";
	struct sample *s = make_samples(n);
	struct config *c;
	double st[64], pe[64], ra[64];

	if (rounds < 1 || rounds > 64 || mkdtemp(dir) == NULL)
		return 1;
	c = make_config(dir);
	/* alternately, the order swapped every round; the ratio within each */
	for (r = 0; r < rounds; r++) {
		double psi = cpu_pressure();

		if (r % 2 == 0) {
			pe[r] = run_peer(c, s, n);
			st[r] = run_store(c, s, n);
		} else {
			st[r] = run_store(c, s, n);
			pe[r] = run_peer(c, s, n);
		}
		ra[r] = st[r] / pe[r];
		fprintf(stderr, "round %d (%s first): store %.0f/s, peer %.0f/s, ratio %.3f; cpu pressure %.2f %% (the 2 s before)%s\n",
			r + 1, r % 2 == 0 ? "peer" : "store", st[r], pe[r], ra[r], psi,
			psi > 10 ? " HEAVY PRESSURE" : "");
	}
	qsort(st, (size_t)rounds, sizeof(double), cmp_double);
	qsort(pe, (size_t)rounds, sizeof(double), cmp_double);
	qsort(ra, (size_t)rounds, sizeof(double), cmp_double);
	/* medians, then the ratio's min, median and max */
	printf("%.0f %.0f %.3f %.3f %.3f\n", st[rounds / 2], pe[rounds / 2], ra[0], ra[rounds / 2],
	       ra[rounds - 1]);
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
