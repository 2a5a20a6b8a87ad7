/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_LOG_H
#define PHASOR_LOG_H
/*
 * log: levelled, thread-safe log lines to stderr or a file. The level is
 * checked before anything is formatted. Never used to draw on the console
 * screen: the console points the log at a file (or nowhere) first.
 */
#include <stdbool.h>
#include "phasor/util.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Open path for appending (NULL: stderr). 0, or -1 with errno. */
int log_open(const char *path);
/* Send lines nowhere (the console without a log file). */
void log_silence(void);
void log_set_level(enum log_level level);
/* "error", "warn", "info", "debug" -> level; -1 when unknown. */
int log_level_parse(const char *name);
bool log_enabled(enum log_level level);
void log_close(void);

void log_write(enum log_level level, const char *fmt, ...) UTIL_PRINTF(2, 3);

#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)                                                        \
	do {                                                                 \
		if (log_enabled(LOG_WARN))                                   \
			log_write(LOG_WARN, __VA_ARGS__);                    \
	} while (0)
#define log_info(...)                                                        \
	do {                                                                 \
		if (log_enabled(LOG_INFO))                                   \
			log_write(LOG_INFO, __VA_ARGS__);                    \
	} while (0)
#define log_debug(...)                                                       \
	do {                                                                 \
		if (log_enabled(LOG_DEBUG))                                  \
			log_write(LOG_DEBUG, __VA_ARGS__);                   \
	} while (0)

#endif
