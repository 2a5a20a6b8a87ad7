/* SPDX-License-Identifier: MIT */
/*
 * bare_modbus: the floor phasor's Modbus polling is compared with (make
 * bench, "Modbus"): one libmodbus connection, units 1..N each read once a
 * second, their polls spread evenly over the second as phasor's poller
 * spreads them, each poll the given reads (the PAC3200 plan: 1+70 and
 * 801+28), every register pair turned into a float and summed so the
 * compiler keeps the work. No decoding beyond that, no queue, no store.
 *
 *   bare_modbus --port P --units N --seconds S --read ADDR:COUNT ...
 *
 * Prints "polls=K cpu_us=C us_per_poll=X" (C: the process's user + system
 * time over the S seconds after a 5 s warm-up) on stdout.
 */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define MAX_READS 8

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

static void sleep_until(int64_t t_us)
{
	int64_t d = t_us - mono_us();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)(d / 1000000);
	ts.tv_nsec = (long)(d % 1000000) * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	int port = 0, units = 200, seconds = 60, nreads = 0, i, u, r;
	int addr[MAX_READS], count[MAX_READS];
	uint16_t regs[125];
	modbus_t *ctx;
	int64_t start, c0 = 0, polls = 0, errors = 0;
	volatile double sink = 0;

	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--units") == 0)
			units = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--read") == 0 && nreads < MAX_READS &&
			 sscanf(argv[i + 1], "%d:%d", &addr[nreads], &count[nreads]) == 2 &&
			 count[nreads] > 0 && count[nreads] <= 125)
			nreads++;
		else {
			fprintf(stderr, "bare_modbus: bad argument %s %s\n", argv[i], argv[i + 1]);
			return 2;
		}
	}
	if (port <= 0 || units <= 0 || nreads == 0) {
		fprintf(stderr, "usage: bare_modbus --port P --units N --seconds S --read A:C ...\n");
		return 2;
	}
	ctx = modbus_new_tcp("127.0.0.1", port);
	if (ctx == NULL || modbus_connect(ctx) < 0) {
		fprintf(stderr, "bare_modbus: connect: %s\n", modbus_strerror(errno));
		return 1;
	}
	modbus_set_response_timeout(ctx, 1, 0);
	start = mono_us();
	for (int sec = 0; sec < seconds + 5; sec++) {
		if (sec == 5) {
			c0 = cpu_us();
			polls = 0;
		}
		for (u = 1; u <= units; u++) {
			sleep_until(start + (int64_t)sec * 1000000 + (int64_t)(u - 1) * 1000000 / units);
			modbus_set_slave(ctx, u);
			for (r = 0; r < nreads; r++) {
				if (modbus_read_registers(ctx, addr[r], count[r], regs) != count[r]) {
					errors++;
					continue;
				}
				for (i = 0; i + 1 < count[r]; i += 2)
					sink += modbus_get_float_abcd(regs + i);
			}
			polls++;
		}
	}
	printf("polls=%lld cpu_us=%lld us_per_poll=%.1f errors=%lld\n", (long long)polls,
	       (long long)(cpu_us() - c0), (double)(cpu_us() - c0) / (double)(polls ? polls : 1),
	       (long long)errors);
	modbus_close(ctx);
	modbus_free(ctx);
	return errors > polls / 10 ? 1 : 0;
}
