/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_ALARMROW_H
#define PHASOR_ALARMROW_H
/*
 * alarmrow: a row of the alarm journal as plain data, shared by the store
 * that writes and reads it and the alarm engine that restores and mirrors
 * from it (so the engine needs no store). No code, no dependency.
 */
#include <stdint.h>

/*
 * One row of the alarm journal (CONTRACT.md "phasor alarms"). Strings are
 * borrowed by store_put_alarm_event (copied) and by readers (valid during
 * the callback only). value and limit NaN: none (NULL).
 */
struct store_alarm_event {
	int64_t seq;              /* readers only */
	int64_t t_us;
	const char *id;           /* unique: "<origin>:<n>"; a second row with the same id is ignored */
	const char *origin;       /* the console id that made the event */
	const char *alarm;        /* the definition's name */
	const char *meter;        /* "" for none */
	const char *quantity;
	const char *priority;     /* critical high medium low diagnostic */
	const char *event;        /* raise clear ack shelve unshelve suppress unsuppress note */
	const char *state;        /* state after: normal unack ack rtn_unack shelved suppressed out_of_service */
	double value, limit;
	const char *operator_name;/* "" or NULL for the system */
	const char *note;
	int64_t raised_us;        /* start of the occurrence the event belongs to; 0 */
	int64_t until_us;         /* shelve: end of the shelving; 0 */
	/*
	 * Writers only: the alarm_requests id this event answers (0: none);
	 * the writer marks the request done in the transaction that journals
	 * the event. event NULL: no journal row, the request was refused
	 * (note: why). Readers set 0.
	 */
	int64_t request;
};

#endif
