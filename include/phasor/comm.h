/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_COMM_H
#define PHASOR_COMM_H
/*
 * comm: a meter's communication state, as data. Shared by the sources
 * that report it, the live state that keeps it, the alarm engine that
 * alarms on it and the buffer that stores its changes (comm_changes:
 * the numbers are the file's and never change). No code, no dependency.
 */
#include <stdint.h>

enum comm_status { COMM_UNKNOWN, COMM_OK, COMM_STALE, COMM_DOWN };

/* A meter's communication state, as its source sees it. */
struct meter_comm {
	enum comm_status status;
	char error[160];          /* last error, sanitized; "" when none */
	int64_t last_good_us;     /* wall clock of the last good poll or message; 0: never */
	int64_t last_error_us;    /* 0: never */
	int32_t latency_us;       /* last poll's round trip (modbus); -1: n/a */
	int32_t stale_grace_ms;   /* how much later than three periods its data may
				   * come without being stale: the delay a sibling's
				   * timeout on a shared Modbus endpoint adds; 0: none */
	uint64_t polls;           /* modbus: poll cycles attempted */
	uint64_t timeouts;        /* modbus: requests that timed out */
	uint64_t exceptions;      /* modbus: exception responses */
	uint64_t errors;          /* modbus: other failures (connection, bad data) */
	uint64_t messages;        /* mqtt: messages accepted for this meter */
	uint64_t rejected;        /* mqtt: messages rejected for this meter */
};

#endif
