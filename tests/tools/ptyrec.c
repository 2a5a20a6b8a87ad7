// SPDX-License-Identifier: MIT
/*
 * ptyrec: run a program in a pseudo-terminal of a given size and measure
 * what it costs a terminal in steady state: bytes written per second and
 * the program's CPU share, after a warm-up. For `make bench`, so the
 * console and its peer (htop) are measured the same way.
 *
 *   ptyrec [--cols N] [--rows N] [--warmup S] [--measure S] [--keys STR]
 *          -- COMMAND ARGS...
 * prints "bytes_per_s=N cpu_pct=X" on stdout. --keys sends STR to the
 * program at start (after the warm-up's first second); --dump FILE keeps
 * the measured bytes; --mem adds " hwm_kib=N rss_kib=N" (VmHWM and VmRSS
 * of the program at the end of the measurement).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of pid in seconds, -1 when gone. */
static double cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* fields after ")": state is 3rd; utime is the 14th field overall */
	for (i = 0; i < 11 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p + 1, "%lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A "VmXXX:" figure of /proc/PID/status in KiB, -1 when unknown. */
static long vm_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, n) == 0 && line[n] == ':') {
			v = atol(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cols", required_argument, NULL, 'c' }, { "rows", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, 'w' }, { "measure", required_argument, NULL, 'm' },
		{ "keys", required_argument, NULL, 'k' }, { "dump", required_argument, NULL, 'd' },
		{ "mem", no_argument, NULL, 'M' },	  { NULL, 0, NULL, 0 },
	};
	struct winsize ws = { .ws_row = 40, .ws_col = 120 };
	double warmup = 5, measure = 20, t0, t_start = 0, cpu0 = 0, cpu1;
	const char *keys = NULL;
	FILE *dump = NULL;
	unsigned long long bytes = 0;
	bool keys_sent = false, measuring = false, mem = false;
	int c, fd, st;
	pid_t pid;
	char buf[65536];

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ws.ws_col = (unsigned short)atoi(optarg);
			break;
		case 'r':
			ws.ws_row = (unsigned short)atoi(optarg);
			break;
		case 'w':
			warmup = atof(optarg);
			break;
		case 'm':
			measure = atof(optarg);
			break;
		case 'k':
			keys = optarg;
			break;
		case 'M':
			mem = true;
			break;
		case 'd':
			dump = fopen(optarg, "wb");
			if (dump == NULL) {
				perror(optarg);
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: ptyrec [options] -- COMMAND ARGS...\n");
		return 2;
	}
	pid = forkpty(&fd, NULL, NULL, &ws);
	if (pid < 0) {
		perror("forkpty");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	t0 = now_s();
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double t = now_s();
		ssize_t n;

		if (!keys_sent && keys != NULL && t - t0 >= 1.0) {
			if (write(fd, keys, strlen(keys)) < 0)
				perror("write keys");
			keys_sent = true;
		}
		if (!measuring && t - t0 >= warmup) {
			measuring = true;
			t_start = t;
			bytes = 0;
			cpu0 = cpu_s(pid);
		}
		if (measuring && t - t_start >= measure)
			break;
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLIN) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (measuring) {
				bytes += (unsigned long long)n;
				if (dump != NULL)
					fwrite(buf, 1, (size_t)n, dump);
			}
		} else if (p.revents & (POLLHUP | POLLERR)) {
			break;
		}
	}
	cpu1 = cpu_s(pid);
	{
		double span = now_s() - t_start;

		if (!measuring || cpu0 < 0 || cpu1 < 0 || span <= 0) {
			fprintf(stderr, "ptyrec: the program ended before the measurement\n");
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return 1;
		}
		printf("bytes_per_s=%.0f cpu_pct=%.2f", (double)bytes / span,
		       100.0 * (cpu1 - cpu0) / span);
		if (mem)
			printf(" hwm_kib=%ld rss_kib=%ld", vm_kib(pid, "VmHWM"), vm_kib(pid, "VmRSS"));
		printf("\n");
		fflush(stdout);
	}
	/* Quit politely (q, and y to the question a console that acquires
	 * asks), then insist; keep draining so the program is never blocked
	 * writing to the terminal meanwhile. */
	if (write(fd, "q", 1) < 0)
		perror("write q");
	usleep(200000);
	if (write(fd, "y", 1) < 0)
		perror("write y");
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (c = 0; c < 50; c++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return 0;
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		usleep(100000);
	}
	kill(pid, SIGTERM);
	usleep(500000);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return 0;
}
