// SPDX-License-Identifier: MIT
/*
 * log: one line per call, "2026-11-22T14:03:05.123Z warn: text", to stderr
 * or an append-only file, serialised by a mutex so lines from the poller
 * threads never interleave. Levels are checked before formatting.
 */
#include "phasor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;      /* NULL: stderr */
static bool log_silent;
static enum log_level log_level = LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

int log_open(const char *path)
{
	FILE *f = NULL;

	if (path != NULL) {
		int fd;

		if (util_mkdir_parent(path) < 0 && errno != EEXIST)
			return -1;
		/* Created 0660 less the umask (fopen would give 0666 less it):
		 * the operators' group may read the log, others never. */
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0660);
		if (fd < 0)
			return -1;
		f = fdopen(fd, "a");
		if (f == NULL) {
			close(fd);
			return -1;
		}
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	log_silent = false;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_silence(void)
{
	pthread_mutex_lock(&log_lock);
	log_silent = true;
	pthread_mutex_unlock(&log_lock);
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

int log_level_parse(const char *name)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(level_names); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "warning") == 0)
		return LOG_WARN;
	return -1;
}

bool log_enabled(enum log_level level)
{
	return level <= log_level;
}

void log_close(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char when[32], text[1024];
	va_list ap;
	FILE *out;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	util_format_time_ms(util_now_us(), when, sizeof(when));
	pthread_mutex_lock(&log_lock);
	if (!log_silent) {
		out = log_file != NULL ? log_file : stderr;
		fprintf(out, "%s %s: %s\n", when, level_names[level], text);
		fflush(out);
	}
	pthread_mutex_unlock(&log_lock);
}
