/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_INTAKE_H
#define PHASOR_INTAKE_H
/*
 * intake: the MQTT intake journal, an append-only file beside the buffer
 * that every received MQTT message is written to before paho's message
 * callback returns. paho MQTTAsync (1.3, MQTTProtocol_handlePublishes)
 * sends a QoS 1 PUBACK only after that callback has returned, so once the
 * broker forgets a message it is at least in this file (the page cache
 * keeps it through a kill -9 of the process; a power cut is another matter,
 * see docs/mqtt.md). The store records, in the same
 * transaction as the samples, the seq of the newest intake record whose
 * samples are committed (meta key "intake.SLOT"); at the next start the
 * records after it are decoded again. A message the broker redelivers
 * (DUP flag) that the journal already holds is recognised by its packet id
 * and content and skipped. The design is in docs/mqtt.md ("What survives a
 * kill -9").
 *
 * Files: BUFFER-intakeSLOT.0 and BUFFER-intakeSLOT.1, written in turn: the
 * current one grows until it passes INTAKE_ROTATE_BYTES and every record of
 * the other is committed, then the other is emptied and becomes current.
 * A slot is held by one process (flock on its .0 file); a second process
 * on the same buffer takes the next free slot, up to INTAKE_SLOTS.
 *
 * Threads: intake_open and intake_replay run in the owner's thread before
 * the MQTT client starts; intake_append and intake_duplicate in paho's
 * callback thread only. The committed mark is read through the callback
 * given to intake_open, from any thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INTAKE_SLOTS 8
#define INTAKE_ROTATE_BYTES (4u << 20)

/* flags of a record */
#define INTAKE_DUP 1u
#define INTAKE_RETAINED 2u

struct intake;

/* One journaled message; pointers valid during the replay callback only. */
struct intake_rec {
	uint64_t seq;
	int64_t t_us;           /* arrival time, UTC us */
	int msgid;              /* MQTT packet id (0 for QoS 0) */
	unsigned flags;
	unsigned qos;
	const char *topic;      /* NUL-terminated, topic_len bytes */
	size_t topic_len;
	const char *payload;    /* NUL-terminated, len bytes */
	size_t len;
};

struct intake_stats {
	int slot;
	uint64_t appended;      /* records written by this process */
	uint64_t replayed;      /* records decoded again at start */
	uint64_t duplicates;    /* redeliveries recognised and skipped */
	uint64_t errors;        /* appends that failed (the message went on unjournaled) */
	uint64_t torn;          /* incomplete or damaged records found at open */
	uint64_t next_seq;
};

/* The committed mark: every record with seq <= it has its samples in the buffer. */
typedef uint64_t (*intake_committed_fn)(void *ctx);

/*
 * Open the intake of the buffer at buffer_path: take the first free slot,
 * read its files (a damaged or incomplete tail record, as a kill -9 in the
 * middle of a write leaves, is cut off and counted), and get ready to
 * append after the newest record. committed (with ctx) tells which records
 * the store holds. Returns the intake, or NULL with *cause (caller frees)
 * when no slot can be opened.
 */
struct intake *intake_open(const char *buffer_path, intake_committed_fn committed, void *ctx,
			   char **cause);

/* The slot taken (0 .. INTAKE_SLOTS - 1). */
int intake_slot(const struct intake *in);

/*
 * Call fn for every record with seq > after, oldest first. Stops at the
 * first non-zero return of fn and returns it; 0 otherwise.
 */
int intake_replay(struct intake *in, uint64_t after, int (*fn)(void *ctx, const struct intake_rec *r),
		  void *ctx);

/*
 * Write one message (paho's callback thread). Returns its seq (> 0), or 0
 * when the write failed (counted, logged with a rate limit).
 */
uint64_t intake_append(struct intake *in, int64_t t_us, const char *topic, size_t topic_len,
		       const void *payload, size_t len, int msgid, unsigned qos, unsigned flags);

/*
 * A message with the DUP flag: true (and counted) when the newest journaled
 * message with this packet id has the same topic and payload, i.e. the
 * broker redelivers what is already journaled.
 */
bool intake_duplicate(struct intake *in, int msgid, const char *topic, size_t topic_len,
		      const void *payload, size_t len);

void intake_get_stats(struct intake *in, struct intake_stats *out);

/* Close the files and release the slot; the records stay for the next start. */
void intake_close(struct intake *in);

#endif
