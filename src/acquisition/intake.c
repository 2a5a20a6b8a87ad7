// SPDX-License-Identifier: MIT
/*
 * intake: the MQTT intake journal (design in include/phasor/intake.h).
 *
 * A file starts with an 8-byte magic; each record is a 32-byte header
 * followed by the topic and the payload:
 *
 *   0 u32 length of the whole record    16 i64 arrival time (UTC us)
 *   4 u32 CRC-32 of bytes 8 .. length   24 u16 packet id, u8 flags, u8 QoS
 *   8 u64 seq                           28 u32 topic length
 *
 * in the machine's byte order (the file never leaves it). A record is
 * written with one write(2); a kill -9 can still cut it short (a signal
 * between two pages), so open checks every record's length and CRC and
 * cuts the file after the last good one. Such a torn record was never
 * acknowledged: paho had not got our callback's answer yet, so the broker
 * sends it again.
 */
#include "phasor/intake.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "phasor/log.h"
#include "phasor/util.h"

#define MAGIC "PHINTK1\n"
#define MAGIC_LEN 8
#define HDR_LEN 32
#define REC_MAX (HDR_LEN + 65535u + (1u << 24))   /* a sanity bound when reading */
#define WARN_EVERY_US 60000000LL
#define MSGIDS 65536

struct ifile {
	char *path;
	int fd;
	uint64_t first_seq, last_seq; /* 0: no record */
	uint64_t size;                /* valid bytes, magic included */
	unsigned char *data;          /* contents read at open, until replayed */
};

struct intake {
	int slot;
	struct ifile f[2];
	int cur;                      /* the file appended to */
	intake_committed_fn committed;
	void *ctx;
	unsigned char *buf;           /* append buffer (paho's thread) */
	size_t bufcap;
	uint64_t *seen;               /* packet id -> content hash of its newest record */
	int64_t warned_us;

	pthread_mutex_t mu;           /* the counters below */
	struct intake_stats st;
};

static uint64_t content_hash(const char *topic, size_t tlen, const void *payload, size_t len)
{
	/* FNV-1a, 64 bits; never 0 (0 marks an unused packet id). */
	const unsigned char *p = (const unsigned char *)topic;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < tlen; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h = (h ^ 0xffu) * 0x100000001b3ULL;
	p = payload;
	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h != 0 ? h : 1;
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t crc_of(const unsigned char *p, size_t n)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/*
 * Parse the record at data[off]; 1 with *r filled and *len its length, 0
 * at the end of the valid part (end of data, or a torn/damaged record).
 */
static int parse(const unsigned char *data, uint64_t size, uint64_t off, struct intake_rec *r,
		 uint32_t *len)
{
	uint32_t n, tlen;

	if (size - off < HDR_LEN)
		return 0;
	n = get32(data + off);
	tlen = get32(data + off + 28);
	if (n < HDR_LEN || n > REC_MAX || n > size - off || tlen > n - HDR_LEN)
		return 0;
	if (crc_of(data + off + 8, n - 8) != get32(data + off + 4))
		return 0;
	r->seq = get64(data + off + 8);
	r->t_us = (int64_t)get64(data + off + 16);
	r->msgid = (int)(data[off + 24] | (unsigned)data[off + 25] << 8);
	r->flags = data[off + 26];
	r->qos = data[off + 27];
	r->topic = (const char *)data + off + HDR_LEN;
	r->topic_len = tlen;
	r->payload = (const char *)data + off + HDR_LEN + tlen;
	r->len = n - HDR_LEN - tlen;
	*len = n;
	return r->seq != 0;
}

static int read_all(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = pread(fd, buf + got, n - got, (off_t)got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t k = write(fd, buf + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		done += (size_t)k;
	}
	return 0;
}

/* Empty f down to its magic. 0, or -1 with errno. */
static int reset_file(struct ifile *f)
{
	if (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0 ||
	    write_all(f->fd, (const unsigned char *)MAGIC, MAGIC_LEN) < 0)
		return -1;
	f->size = MAGIC_LEN;
	f->first_seq = f->last_seq = 0;
	return 0;
}

/* Read f, check its records, cut a torn tail. 0, or -1 with *cause. */
static int load_file(struct intake *in, struct ifile *f, char **cause)
{
	struct stat sb;
	uint64_t off;
	struct intake_rec r;
	uint32_t len;

	if (fstat(f->fd, &sb) < 0) {
		*cause = util_printf("%s: %s", f->path, strerror(errno));
		return -1;
	}
	if (sb.st_size < MAGIC_LEN) {
		if (reset_file(f) < 0) {
			*cause = util_printf("%s: %s", f->path, strerror(errno));
			return -1;
		}
		return 0;
	}
	f->data = util_malloc((size_t)sb.st_size);
	if (read_all(f->fd, f->data, (size_t)sb.st_size) < 0) {
		*cause = util_printf("%s: cannot read: %s", f->path, strerror(errno ? errno : EIO));
		return -1;
	}
	if (memcmp(f->data, MAGIC, MAGIC_LEN) != 0) {
		*cause = util_printf("%s: not a phasor intake journal (move it away)", f->path);
		return -1;
	}
	for (off = MAGIC_LEN; parse(f->data, (uint64_t)sb.st_size, off, &r, &len); off += len) {
		if (f->first_seq == 0)
			f->first_seq = r.seq;
		f->last_seq = r.seq;
	}
	f->size = off;
	if (off < (uint64_t)sb.st_size) {
		in->st.torn++;
		log_warn("mqtt intake %s: %llu bytes after the last complete record cut off (an"
			 " interrupted write; the broker still has that message)",
			 f->path, (unsigned long long)((uint64_t)sb.st_size - off));
		if (ftruncate(f->fd, (off_t)off) < 0) {
			*cause = util_printf("%s: cannot cut the torn tail: %s", f->path,
					     strerror(errno));
			return -1;
		}
	}
	if (lseek(f->fd, (off_t)f->size, SEEK_SET) < 0) {
		*cause = util_printf("%s: %s", f->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Remember the packet ids of f's records, for intake_duplicate. */
static void learn_ids(struct intake *in, const struct ifile *f)
{
	uint64_t off;
	struct intake_rec r;
	uint32_t len;

	if (f->data == NULL)
		return;
	for (off = MAGIC_LEN; off < f->size && parse(f->data, f->size, off, &r, &len); off += len)
		if (r.msgid > 0 && r.msgid < MSGIDS)
			in->seen[r.msgid] = content_hash(r.topic, r.topic_len, r.payload, r.len);
}

static void close_files(struct intake *in)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (in->f[i].fd >= 0)
			close(in->f[i].fd);
		free(in->f[i].path);
		free(in->f[i].data);
	}
}

static void destroy(struct intake *in)
{
	close_files(in);
	free(in->buf);
	free(in->seen);
	pthread_mutex_destroy(&in->mu);
	free(in);
}

/* Try slot k; 1 taken, 0 busy, -1 error with *cause. */
static int take_slot(struct intake *in, const char *buffer_path, int k, char **cause)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct ifile *f = &in->f[i];

		f->path = util_printf("%s-intake%d.%d", buffer_path, k, i);
		/* The buffer's mode (store.c): 0660 less the umask, never others'. */
		f->fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
		if (f->fd < 0) {
			*cause = util_printf("cannot open %s: %s", f->path, strerror(errno));
			return -1;
		}
		if (i == 0 && flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
			if (errno == EWOULDBLOCK)
				return 0;
			*cause = util_printf("cannot lock %s: %s", f->path, strerror(errno));
			return -1;
		}
	}
	return 1;
}

struct intake *intake_open(const char *buffer_path, intake_committed_fn committed, void *ctx,
			   char **cause)
{
	struct intake *in;
	uint64_t done, top;
	int k, i, rc = 0;

	*cause = NULL;
	for (k = 0; k < INTAKE_SLOTS; k++) {
		in = util_calloc(1, sizeof(*in));
		in->f[0].fd = in->f[1].fd = -1;
		pthread_mutex_init(&in->mu, NULL);
		rc = take_slot(in, buffer_path, k, cause);
		if (rc == 1)
			break;
		destroy(in);
		if (rc < 0)
			return NULL;
	}
	if (rc != 1) {
		*cause = util_printf("%s: all %d intake slots are held by other processes",
				     buffer_path, INTAKE_SLOTS);
		return NULL;
	}
	in->slot = k;
	in->st.slot = k;
	in->committed = committed;
	in->ctx = ctx;
	in->seen = util_calloc(MSGIDS, sizeof(*in->seen));
	for (i = 0; i < 2; i++)
		if (load_file(in, &in->f[i], cause) < 0) {
			destroy(in);
			return NULL;
		}
	/* Older file first, so the newer one's packet ids win. */
	in->cur = in->f[1].last_seq > in->f[0].last_seq ? 1 : 0;
	learn_ids(in, &in->f[!in->cur]);
	learn_ids(in, &in->f[in->cur]);
	done = committed != NULL ? committed(ctx) : 0;
	top = in->f[0].last_seq > in->f[1].last_seq ? in->f[0].last_seq : in->f[1].last_seq;
	in->st.next_seq = (top > done ? top : done) + 1;
	return in;
}

int intake_slot(const struct intake *in)
{
	return in->slot;
}

int intake_replay(struct intake *in, uint64_t after,
		  int (*fn)(void *ctx, const struct intake_rec *r), void *ctx)
{
	int order[2] = { !in->cur, in->cur }, i, rc = 0;

	for (i = 0; i < 2 && rc == 0; i++) {
		struct ifile *f = &in->f[order[i]];
		uint64_t off;
		struct intake_rec r;
		uint32_t len;

		if (f->data == NULL || f->last_seq <= after)
			continue;
		for (off = MAGIC_LEN; rc == 0 && parse(f->data, f->size, off, &r, &len); off += len) {
			if (r.seq <= after)
				continue;
			rc = fn(ctx, &r);
			pthread_mutex_lock(&in->mu);
			in->st.replayed++;
			pthread_mutex_unlock(&in->mu);
		}
	}
	for (i = 0; i < 2; i++) {
		free(in->f[i].data);
		in->f[i].data = NULL;
	}
	return rc;
}

/* Switch files when the current one is big and the other fully committed. */
static void maybe_rotate(struct intake *in)
{
	struct ifile *other = &in->f[!in->cur];

	if (in->f[in->cur].size < INTAKE_ROTATE_BYTES)
		return;
	if (other->last_seq != 0 &&
	    (in->committed == NULL || in->committed(in->ctx) < other->last_seq))
		return;
	if (reset_file(other) < 0) {
		log_warn("mqtt intake %s: cannot empty it: %s", other->path, strerror(errno));
		return;
	}
	in->cur = !in->cur;
}

static void put_header(unsigned char *p, uint32_t n, uint64_t seq, int64_t t_us, int msgid,
		       unsigned qos, unsigned flags, uint32_t tlen)
{
	uint64_t t = (uint64_t)t_us;

	memcpy(p, &n, 4);
	memcpy(p + 8, &seq, 8);
	memcpy(p + 16, &t, 8);
	p[24] = (unsigned char)(msgid & 0xff);
	p[25] = (unsigned char)((msgid >> 8) & 0xff);
	p[26] = (unsigned char)flags;
	p[27] = (unsigned char)qos;
	memcpy(p + 28, &tlen, 4);
}

uint64_t intake_append(struct intake *in, int64_t t_us, const char *topic, size_t topic_len,
		       const void *payload, size_t len, int msgid, unsigned qos, unsigned flags)
{
	size_t need = HDR_LEN + topic_len + len;
	struct ifile *f;
	uint64_t seq;
	uint32_t crc;

	if (topic_len > 65535 || need > REC_MAX) {
		pthread_mutex_lock(&in->mu);
		in->st.errors++;
		pthread_mutex_unlock(&in->mu);
		return 0;
	}
	if (need > in->bufcap) {
		in->bufcap = need > 4096 ? need : 4096;
		free(in->buf);
		in->buf = util_malloc(in->bufcap);
	}
	maybe_rotate(in);
	f = &in->f[in->cur];
	seq = in->st.next_seq;
	put_header(in->buf, (uint32_t)need, seq, t_us, msgid, qos, flags, (uint32_t)topic_len);
	memcpy(in->buf + HDR_LEN, topic, topic_len);
	if (len > 0)
		memcpy(in->buf + HDR_LEN + topic_len, payload, len);
	crc = crc_of(in->buf + 8, need - 8);
	memcpy(in->buf + 4, &crc, 4);
	if (write_all(f->fd, in->buf, need) < 0) {
		int e = errno;
		int64_t now = util_now_us();
		bool warn;

		/* Never leave half a record for the next one to follow. */
		if (ftruncate(f->fd, (off_t)f->size) < 0 || lseek(f->fd, (off_t)f->size, SEEK_SET) < 0)
			e = errno;
		pthread_mutex_lock(&in->mu);
		in->st.errors++;
		warn = now - in->warned_us >= WARN_EVERY_US;
		if (warn)
			in->warned_us = now;
		pthread_mutex_unlock(&in->mu);
		if (warn)
			log_warn("mqtt intake %s: cannot write: %s; messages are acknowledged before"
				 " they are stored until it works again", f->path, strerror(e));
		return 0;
	}
	f->size += need;
	if (f->first_seq == 0)
		f->first_seq = seq;
	f->last_seq = seq;
	if (msgid > 0 && msgid < MSGIDS)
		in->seen[msgid] = content_hash(topic, topic_len, payload, len);
	pthread_mutex_lock(&in->mu);
	in->st.next_seq = seq + 1;
	in->st.appended++;
	pthread_mutex_unlock(&in->mu);
	return seq;
}

bool intake_duplicate(struct intake *in, int msgid, const char *topic, size_t topic_len,
		      const void *payload, size_t len)
{
	if (msgid <= 0 || msgid >= MSGIDS || in->seen[msgid] == 0 ||
	    in->seen[msgid] != content_hash(topic, topic_len, payload, len))
		return false;
	pthread_mutex_lock(&in->mu);
	in->st.duplicates++;
	pthread_mutex_unlock(&in->mu);
	return true;
}

void intake_get_stats(struct intake *in, struct intake_stats *out)
{
	pthread_mutex_lock(&in->mu);
	*out = in->st;
	pthread_mutex_unlock(&in->mu);
}

void intake_close(struct intake *in)
{
	if (in == NULL)
		return;
	destroy(in);
}
