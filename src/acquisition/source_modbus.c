// SPDX-License-Identifier: MIT
/*
 * source_modbus: Modbus TCP meters, polled with libmodbus.
 *
 * DESIGN
 * One thread and one modbus_t per endpoint (host:port), so a dead meter or
 * an unreachable gateway never delays another endpoint. The meters of an
 * endpoint (several unit ids behind a gateway) share its thread; each has
 * its own period (poll_ms), response timeout and read plan (regmap_plan:
 * values coalesced into the fewest requests the profile's max_registers and
 * max_gap allow). The thread sleeps until the next meter is due, polls it,
 * and pushes one MSG_SAMPLES (every value of the poll stamped with the same
 * time, when the poll completed) and one MSG_STATUS on the hub queue. It
 * never touches anything else.
 *
 * Requests go out with modbus_send_raw_request() and replies come back
 * whole from modbus_receive_confirmation(): libmodbus frames them, and
 * regmap_check_reply() checks the MBAP header and the PDU against the
 * request (libmodbus' read functions take a reply from another unit id, or
 * with an MBAP length that does not match, as the answer).
 *
 * Failures:
 * - a timeout aborts the meter's poll (further reads would time out too)
 *   and counts; the connection is then reopened at once, quietly, since a
 *   late reply would otherwise be taken for the next request's (raw
 *   requests all carry transaction id 0);
 * - a unit that times out is demoted at once: the poller stops polling it
 *   and hands it to the endpoint's prober, which polls it on a backoff in
 *   time (1 s doubling to 30 s, +-20 % jitter; never sooner than its own
 *   period) until a poll goes through
 *   without a timeout; then it is promoted back to the poller, at its
 *   period. The prober is a second thread with its own connection to the
 *   endpoint, so a probe blocks nobody; when the endpoint refuses that
 *   second connection, the prober probes over the shared one (holding
 *   conn_lock), costing the others at most one timeout per probe, and tries
 *   its own again a minute later. The second connection is closed while no
 *   unit is demoted. Only the endpoint's first timeout (before demotion)
 *   delays the neighbours; each meter tells the live state, in its comm
 *   state (stale_grace_ms), the longest such delay a sibling's timeout can
 *   add, so that it does not make its data stale;
 * - a meter that keeps failing without timing out (exceptions to every
 *   read) is polled less often (1, 2, 4 ... 30 periods);
 * - an exception response counts; "illegal data address" on a coalesced
 *   read splits it into single-value reads for good (the device has a hole
 *   there);
 * - a bad reply (another unit id, a wrong MBAP length, function code or
 *   byte count) fails the meter's poll, counts as an error and closes the
 *   connection, like a connection error: what else is in the stream cannot
 *   be trusted. Reconnection uses exponential backoff with jitter written
 *   here (0.5 s doubling to 30 s; the first retry at once), not libmodbus'
 *   error recovery (which does not recover from a broken pipe in Debian's
 *   version).
 * Status per meter: ok after a poll with at least one good read; stale
 * after a failed poll while the last good data is under three periods old;
 * down after that, or while the endpoint is unreachable. A neighbour's
 * poll delayed by a sibling's timeout is not a failed poll.
 *
 * Threads and locking: per endpoint, a poller thread and a prober thread.
 * ep->lock guards the link statistics (read by links() from the hub
 * thread). ep->conn_lock is held for every use of the shared connection
 * (ep->ctx, connected, next_connect_us, ep->regs) and the reconnect
 * backoff. ep->plock guards each meter's demoted flag and probe_due_us: a
 * meter belongs to the poller while not demoted and to the prober while
 * demoted (the whole struct: plan, comm, counters); ownership changes hands
 * only under plock. Lock order: conn_lock, then plock, then lock. The kick
 * flags are guarded by the source's wait_lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <modbus.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phasor/log.h"
#include "phasor/regmap.h"
#include "phasor/source.h"
#include "phasor/source_modbus.h"
#include "phasor/util.h"

#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000
#define FAIL_BACKOFF_MAX 30      /* periods */
#define PROBE_MIN_MS 1000        /* a demoted unit's first probe */
#define PROBE_MAX_MS 30000
#define OWN_RETRY_MS 60000       /* a refused second connection: try again */
#define IDLE_WAIT_MS 1000        /* nothing due: look again (or when kicked) */
#define PUSH_TIMEOUT_MS 1000
/* The poller hands its messages to the hub in batches: held at most this
 * long (or this many), so the hub wakes about 40 times a second for 200
 * meters, not twice per poll. */
#define HOLD_US 25000
#define HOLD_MAX 64

struct mb_meter {
	int index;                       /* config index */
	const struct config_meter *cfg;
	struct regmap_plan plan;
	int64_t next_due_us;             /* monotonic; the poller's schedule */
	int backoff;                     /* periods between polls while failing */
	int failures;                    /* consecutive failed polls */
	bool demoted;                    /* under plock: the prober owns the meter */
	int64_t probe_due_us;            /* under plock: monotonic */
	unsigned probes_failed;          /* in a row, since demoted */
	unsigned rng;                    /* the probe jitter; the owner's */
	struct meter_comm comm;
	bool comm_sent;
};

/* The endpoint's second connection and its thread, for demoted units. */
struct mb_probe {
	modbus_t *ctx;                   /* NULL while closed */
	bool answered;                   /* ctx got a reply since it opened */
	bool shared;                     /* own connection refused: use the shared one */
	int64_t own_retry_us;            /* monotonic: when to try it again */
	pthread_t thread;
	bool thread_started;
	bool kick;                       /* under wait_lock: a unit was demoted */
	unsigned rng;
	uint16_t regs[MODBUS_MAX_READ_REGISTERS];
};

struct source_modbus;

struct mb_endpoint {
	struct source_modbus *src;
	char host[256];
	char port[8];
	modbus_t *ctx;                   /* the shared connection: conn_lock */
	bool connected;                  /* conn_lock */
	pthread_t thread;                /* the poller */
	bool thread_started;
	bool kick;                       /* under wait_lock: a unit was promoted */
	struct mb_meter *meters;
	size_t nmeters;
	int64_t next_connect_us;         /* monotonic; conn_lock */
	int64_t reconnect_ms;            /* conn_lock */
	unsigned rng;                    /* conn_lock */
	uint16_t regs[MODBUS_MAX_READ_REGISTERS]; /* conn_lock */
	pthread_mutex_t conn_lock;       /* the shared connection */
	pthread_mutex_t plock;           /* meters' demoted, probe_due_us */
	pthread_cond_t wake;             /* with the source's wait_lock: stop, kicks */
	struct mb_probe probe;
	pthread_mutex_t lock;            /* guards link */
	struct source_link link;
	/* the poller's messages not handed to the hub yet (poller only) */
	struct source_msg *held[HOLD_MAX];
	size_t nheld;
	int64_t held_since_us;           /* monotonic: when the oldest was held */
};

struct source_modbus {
	struct source base;
	struct queue *q;
	struct mb_endpoint *eps;
	size_t neps;
	atomic_bool stopping;
	pthread_mutex_t wait_lock;       /* the endpoints' wake and kick flags */
	atomic_uint_fast64_t dropped;
};

/* ---- helpers ---- */

static void ep_set_link(struct mb_endpoint *ep, enum link_state st, const char *err)
{
	pthread_mutex_lock(&ep->lock);
	source_link_move(&ep->link.state, &ep->link.since_us, st, util_now_us());
	if (err != NULL)
		util_sanitize(ep->link.error, sizeof(ep->link.error), err);
	pthread_mutex_unlock(&ep->lock);
}

static void ep_count(struct mb_endpoint *ep, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&ep->lock);
	*field += n;
	pthread_mutex_unlock(&ep->lock);
}

/* The endpoint whose poller this thread is; NULL in other threads. */
static _Thread_local struct mb_endpoint *poller_of;

/* Hand items[0..n) to the hub in order. */
static void push_now(struct mb_endpoint *ep, struct source_msg **items, size_t n)
{
	struct source_modbus *s = ep->src;
	size_t done = 0, k;

	/* Wait a while rather than drop: the hub drains fast unless stopped. */
	while (done < n) {
		done += queue_push_many(s->q, (void *const *)(items + done), n - done,
					PUSH_TIMEOUT_MS);
		if (done < n && atomic_load(&s->stopping)) {
			for (k = done; k < n; k++)
				free(items[k]);
			atomic_fetch_add(&s->dropped, n - done);
			pthread_mutex_lock(&ep->lock);
			ep->link.dropped += n - done;
			pthread_mutex_unlock(&ep->lock);
			return;
		}
	}
}

/* The poller's held messages to the hub now. */
static void flush_held(struct mb_endpoint *ep)
{
	size_t n = ep->nheld;

	ep->nheld = 0;
	if (n > 0)
		push_now(ep, ep->held, n);
}

/* Flush when the oldest held message would wait past HOLD_US by then. */
static void flush_held_by(struct mb_endpoint *ep, int64_t until_us)
{
	if (ep->nheld > 0 && until_us >= ep->held_since_us + HOLD_US)
		flush_held(ep);
}

/*
 * A message to the hub: the poller holds its own for a batch (in order,
 * one meter's status after its samples as before); any other thread (the
 * prober, a callback) pushes at once. The poller flushes before it hands a
 * meter to the prober, so one meter's messages never overtake each other.
 */
static void push(struct mb_endpoint *ep, struct source_msg *m)
{
	if (poller_of != ep) {
		push_now(ep, &m, 1);
		return;
	}
	if (ep->nheld == 0)
		ep->held_since_us = util_mono_us();
	ep->held[ep->nheld++] = m;
	if (ep->nheld == HOLD_MAX)
		flush_held(ep);
}

static void event(struct mb_endpoint *ep, int meter, const char *what, const char *text)
{
	push(ep, source_msg_event(&ep->src->base, meter, util_now_us(), what, "%s", text));
}

/*
 * Sleep until mono deadline_us, until stop, or (kick not NULL) until *kick
 * is set, which it clears. Returns false when stopping.
 */
static bool wait_until(struct mb_endpoint *ep, int64_t deadline_us, bool *kick)
{
	struct source_modbus *s = ep->src;
	struct timespec ts;

	pthread_mutex_lock(&s->wait_lock);
	while (!atomic_load(&s->stopping) && util_mono_us() < deadline_us &&
	       (kick == NULL || !*kick)) {
		ts.tv_sec = (time_t)(deadline_us / 1000000);
		ts.tv_nsec = (long)(deadline_us % 1000000) * 1000;
		if (pthread_cond_timedwait(&ep->wake, &s->wait_lock, &ts) == ETIMEDOUT)
			break;
	}
	if (kick != NULL)
		*kick = false;
	pthread_mutex_unlock(&s->wait_lock);
	return !atomic_load(&s->stopping);
}

/* Wake ep's thread waiting on flag (the schedule it sleeps on changed). */
static void kick(struct mb_endpoint *ep, bool *flag)
{
	pthread_mutex_lock(&ep->src->wait_lock);
	*flag = true;
	pthread_cond_broadcast(&ep->wake);
	pthread_mutex_unlock(&ep->src->wait_lock);
}

static bool is_demoted(struct mb_endpoint *ep, const struct mb_meter *m)
{
	bool d;

	pthread_mutex_lock(&ep->plock);
	d = m->demoted;
	pthread_mutex_unlock(&ep->plock);
	return d;
}

static bool is_exception(int e)
{
	return e > MODBUS_ENOBASE && e < MODBUS_ENOBASE + MODBUS_EXCEPTION_MAX;
}

static void send_status(struct mb_endpoint *ep, struct mb_meter *m)
{
	push(ep, source_msg_status(&ep->src->base, m->index, &m->comm));
	m->comm_sent = true;
}

static void meter_set_error(struct mb_meter *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void meter_set_error(struct mb_meter *m, const char *fmt, ...)
{
	char raw[sizeof(m->comm.error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	util_sanitize(m->comm.error, sizeof(m->comm.error), raw);
	m->comm.last_error_us = util_now_us();
}

/* A failed poll: stale while the last good data is recent, then down. */
static void meter_failed(struct mb_endpoint *ep, struct mb_meter *m, int64_t now_us)
{
	int64_t period = (int64_t)m->cfg->poll_ms * 1000;
	enum comm_status before = m->comm.status;

	m->failures++;
	if (m->comm.last_good_us != 0 && now_us - m->comm.last_good_us < 3 * period)
		m->comm.status = COMM_STALE;
	else
		m->comm.status = COMM_DOWN;
	/* Back off a meter that keeps failing: 1, 2, 4 ... periods. */
	if (m->failures >= 3 && m->backoff < FAIL_BACKOFF_MAX)
		m->backoff = m->backoff * 2 > FAIL_BACKOFF_MAX ? FAIL_BACKOFF_MAX : m->backoff * 2;
	if (before != m->comm.status && m->comm.status == COMM_DOWN)
		log_warn("modbus: meter %s (%s:%s unit %d) down: %s", m->cfg->name, ep->host,
			 ep->port, m->cfg->unit, m->comm.error);
}

/* ---- connection ---- */

static void ep_close(struct mb_endpoint *ep)
{
	if (ep->ctx != NULL) {
		modbus_close(ep->ctx);
		modbus_free(ep->ctx);
		ep->ctx = NULL;
	}
	ep->connected = false;
}

static int64_t jitter(unsigned *rng, int64_t ms)
{
	/* +-20 % so endpoints that failed together do not retry in lockstep */
	int64_t span = ms / 5;

	if (span <= 0)
		return ms;
	return ms - span + (int64_t)(rand_r(rng) % (unsigned)(2 * span + 1));
}

int64_t source_modbus_probe_delay_ms(unsigned probes_failed, unsigned *rng)
{
	int64_t ms = PROBE_MIN_MS;
	unsigned k;

	for (k = 0; k < probes_failed && ms < PROBE_MAX_MS; k++)
		ms *= 2;
	if (ms > PROBE_MAX_MS)
		ms = PROBE_MAX_MS;
	return jitter(rng, ms);
}

/* A demoted meter's next probe: never sooner than its own period. */
static int64_t probe_delay_ms(struct mb_meter *m)
{
	int64_t ms = source_modbus_probe_delay_ms(m->probes_failed, &m->rng);

	return ms < m->cfg->poll_ms ? m->cfg->poll_ms : ms;
}

static void schedule_reconnect(struct mb_endpoint *ep)
{
	ep->next_connect_us = util_mono_us() + jitter(&ep->rng, ep->reconnect_ms) * 1000;
	ep->reconnect_ms = ep->reconnect_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS
								    : ep->reconnect_ms * 2;
}

static bool ep_connect(struct mb_endpoint *ep)
{
	int timeout_ms = 1000;
	size_t i;
	char err[200];
	bool was_down = ep->link.state == LINK_DOWN;

	for (i = 0; i < ep->nmeters; i++)
		if (ep->meters[i].cfg->timeout_ms > timeout_ms)
			timeout_ms = ep->meters[i].cfg->timeout_ms;
	ep_set_link(ep, LINK_CONNECTING, NULL);
	ep->ctx = modbus_new_tcp_pi(ep->host, ep->port);
	if (ep->ctx == NULL) {
		snprintf(err, sizeof(err), "cannot create context: %s", modbus_strerror(errno));
		goto fail;
	}
	modbus_set_response_timeout(ep->ctx, (uint32_t)(timeout_ms / 1000),
				    (uint32_t)(timeout_ms % 1000) * 1000);
	if (modbus_connect(ep->ctx) < 0) {
		snprintf(err, sizeof(err), "connect: %s", modbus_strerror(errno));
		goto fail;
	}
	ep->connected = true;
	ep->reconnect_ms = RECONNECT_MIN_MS;
	ep_set_link(ep, LINK_UP, "");
	log_info("modbus: connected to %s:%s", ep->host, ep->port);
	event(ep, -1, "connect", "connected");
	return true;

fail:
	ep_close(ep);
	/* Say it once per outage, not at every retry. */
	if (!was_down || strcmp(ep->link.error, err) != 0) {
		log_warn("modbus: %s:%s: %s", ep->host, ep->port, err);
		event(ep, -1, "error", err);
	}
	ep_set_link(ep, LINK_DOWN, err);
	for (i = 0; i < ep->nmeters; i++) {
		struct mb_meter *m = &ep->meters[i];
		bool changed;

		if (is_demoted(ep, m)) /* the prober's: its probes fail on their own */
			continue;
		changed = m->comm.status != COMM_DOWN || strcmp(m->comm.error, err) != 0;
		if (changed || !m->comm_sent) {
			m->comm.status = COMM_DOWN;
			meter_set_error(m, "%s", err);
			send_status(ep, m);
		}
	}
	schedule_reconnect(ep);
	return false;
}

static void ep_lost(struct mb_endpoint *ep, const char *why)
{
	log_warn("modbus: %s:%s: connection lost: %s", ep->host, ep->port, why);
	event(ep, -1, "disconnect", why);
	ep_close(ep);
	pthread_mutex_lock(&ep->lock);
	ep->link.reconnects++;
	pthread_mutex_unlock(&ep->lock);
	ep_set_link(ep, LINK_DOWN, why);
	/* First retry right away: gateways drop idle connections. */
	ep->next_connect_us = util_mono_us();
}

/* ---- polling ---- */

/*
 * Start the connection afresh after a request timed out: a late reply must
 * not be taken for the answer to the next request, and raw requests all
 * carry transaction id 0 (libmodbus 3.1.6), so nothing in the reply would
 * tell. Quiet: counted in the link's reconnects, logged at debug level.
 * False when the endpoint cannot be reached again (then handled as lost).
 */
static bool ep_reopen(struct mb_endpoint *ep)
{
	char why[160];

	modbus_close(ep->ctx);
	if (modbus_connect(ep->ctx) == 0) {
		pthread_mutex_lock(&ep->lock);
		ep->link.reconnects++;
		pthread_mutex_unlock(&ep->lock);
		log_debug("modbus: %s:%s: reconnected after a timeout", ep->host, ep->port);
		return true;
	}
	snprintf(why, sizeof(why), "cannot reconnect after a timeout: %s", modbus_strerror(errno));
	ep_lost(ep, why);
	return false;
}

/* What one request came to. */
enum read_result { RD_OK, RD_TIMEOUT, RD_EXCEPTION, RD_BAD_REPLY, RD_LOST };

/* One connection to the endpoint: the shared one, or the prober's own. */
struct mb_io {
	modbus_t *ctx;
	uint16_t *regs;                  /* MODBUS_MAX_READ_REGISTERS */
};

/*
 * Send read rd to m's unit over io and take its reply into io->regs. libmodbus
 * frames both ways (modbus_send_raw_request, modbus_receive_confirmation),
 * but its own read functions accept a reply from another unit id or with a
 * wrong MBAP length, so the whole reply goes through regmap_check_reply()
 * here. *err: an errno code (exceptions as MODBUS_ENOBASE + code); why: the
 * reason of a bad reply or a lost connection.
 */
static enum read_result read_regs(const struct mb_io *io, const struct mb_meter *m,
				  const struct regmap_read *rd, int *err, char *why,
				  size_t why_size)
{
	const uint8_t unit = (uint8_t)m->cfg->unit;
	uint8_t req[6] = { unit,
			   rd->function,
			   (uint8_t)(rd->address >> 8),
			   (uint8_t)rd->address,
			   (uint8_t)(rd->count >> 8),
			   (uint8_t)rd->count };
	uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
	int len, exc;

	if (modbus_send_raw_request(io->ctx, req, (int)sizeof(req)) < 0) {
		*err = errno;
		snprintf(why, why_size, "%s", modbus_strerror(errno));
		return RD_LOST;
	}
	len = modbus_receive_confirmation(io->ctx, rsp);
	if (len < 0) {
		*err = errno;
		if (errno == ETIMEDOUT || errno == EAGAIN)
			return RD_TIMEOUT;
		if (errno == EMBBADDATA) { /* the only framing error: too long */
			snprintf(why, why_size, "reply longer than a Modbus TCP frame");
			return RD_BAD_REPLY;
		}
		snprintf(why, why_size, "%s", modbus_strerror(errno));
		return RD_LOST;
	}
	switch (regmap_check_reply(rsp, (size_t)len, 0, unit, rd->function, rd->count, io->regs,
				   &exc, why, why_size)) {
	case REGMAP_REPLY_OK:
		return RD_OK;
	case REGMAP_REPLY_EXCEPTION:
		*err = exc < MODBUS_EXCEPTION_MAX ? MODBUS_ENOBASE + exc : EMBBADEXC;
		return RD_EXCEPTION;
	case REGMAP_REPLY_BAD:
		break;
	}
	*err = EMBBADDATA;
	return RD_BAD_REPLY;
}

enum poll_result { POLL_OK, POLL_PARTIAL, POLL_FAILED, POLL_CONN_LOST };

/* What a poll came to; the caller acts on the connection. */
struct poll_outcome {
	enum poll_result r;
	bool timed_out;                  /* a request of the poll timed out */
	char lost_why[232];              /* r == POLL_CONN_LOST: why */
};

/*
 * Poll m over io: the reads of its plan, stopped at the first timeout or
 * broken exchange; the samples pushed in one MSG_SAMPLES. Leaves io as it
 * is: the caller reopens it after a timeout and closes it when lost.
 */
static void poll_meter(struct mb_endpoint *ep, const struct mb_io *io, struct mb_meter *m,
		       struct poll_outcome *po)
{
	struct regmap_plan *plan = &m->plan;
	struct source_msg *msg;
	struct sample *out;
	size_t nout = 0, i, k, good_reads = 0, failed_reads = 0;
	int64_t t0 = util_mono_us(), t_answered = 0, t_us;
	bool timed_out = false, lost = false;

	po->lost_why[0] = '\0';
	modbus_set_response_timeout(io->ctx, (uint32_t)(m->cfg->timeout_ms / 1000),
				    (uint32_t)(m->cfg->timeout_ms % 1000) * 1000);
	m->comm.polls++;
	msg = source_msg_samples(&ep->src->base, plan->norder);
	out = source_msg_sample_array(msg);

	for (i = 0; i < plan->nreads; i++) {
		const struct regmap_read *rd = &plan->reads[i];
		char why[160] = "";
		enum read_result r;
		int e = 0;

		ep_count(ep, &ep->link.requests, 1);
		r = read_regs(io, m, rd, &e, why, sizeof(why));
		if (r == RD_OK || r == RD_EXCEPTION)
			t_answered = util_mono_us();
		if (r == RD_OK) {
			good_reads++;
			for (k = 0; k < rd->nvalues; k++) {
				const struct profile_reg *reg =
				    &m->cfg->profile->regs[plan->order[rd->first + k]];
				struct sample *s = &out[nout++];
				double v;

				s->quality = (uint8_t)regmap_decode(
				    reg, &io->regs[reg->address - rd->address], &v);
				s->value = v;
				s->meter = (uint32_t)m->index;
				s->qty = (uint16_t)reg->qty;
				s->reserved = 0;
			}
			continue;
		}
		failed_reads++;
		if (r == RD_TIMEOUT) {
			m->comm.timeouts++;
			ep_count(ep, &ep->link.timeouts, 1);
			meter_set_error(m, "timeout after %d ms reading %u registers at %u",
					m->cfg->timeout_ms, rd->count, rd->address);
			timed_out = true;
			break;
		}
		if (r == RD_EXCEPTION && is_exception(e)) {
			/* The split reallocates the plan: rd dangles after it. */
			unsigned count = rd->count, address = rd->address;

			m->comm.exceptions++;
			ep_count(ep, &ep->link.exceptions, 1);
			meter_set_error(m, "exception: %s (FC %u, %u registers at %u)",
					modbus_strerror(e), rd->function, rd->count, rd->address);
			if (e == EMBXILADD && rd->nvalues > 1 && regmap_plan_split(plan, i) == 0) {
				log_warn("modbus: meter %s refused a read of %u registers "
					 "at %u; reading its values one by one from now on",
					 m->cfg->name, count, address);
				/* Re-plan changed indices: read the split ones next. */
				i--;
				failed_reads--;
			}
			continue;
		}
		/*
		 * Anything else (a bad reply, an unknown exception code, a
		 * broken connection) drops the connection: whatever else is in
		 * the stream cannot be trusted to belong to the next request.
		 */
		m->comm.errors++;
		if (r == RD_LOST) {
			meter_set_error(m, "%s", why);
			snprintf(po->lost_why, sizeof(po->lost_why), "%s", why);
		} else {
			if (r == RD_EXCEPTION)
				snprintf(why, sizeof(why), "%s", modbus_strerror(e));
			meter_set_error(m, "%s", why);
			log_debug("modbus: meter %s: bad reply: %s", m->cfg->name, why);
			snprintf(po->lost_why, sizeof(po->lost_why),
				 "closed after a bad reply to meter %s: %s", m->cfg->name, why);
		}
		lost = true;
		break;
	}

	t_us = util_now_us();
	for (k = 0; k < nout; k++)
		out[k].t_us = t_us;
	msg->u.samples.n = nout;
	if (nout > 0)
		push(ep, msg);
	else
		free(msg);

	/* Up to the last reply: a timeout is no latency, and a poll nothing
	 * answered has none ("-"), not the previous poll's. */
	m->comm.latency_us = t_answered > 0 ? (int32_t)(t_answered - t0) : -1;
	po->timed_out = timed_out;
	if (lost)
		po->r = POLL_CONN_LOST;
	else if (good_reads == 0)
		po->r = POLL_FAILED;
	else
		po->r = failed_reads > 0 ? POLL_PARTIAL : POLL_OK;
}

/*
 * A poll over the shared connection (conn_lock held, connected); reopens it
 * after a timeout, drops it when lost.
 */
static void poll_shared(struct mb_endpoint *ep, struct mb_meter *m, struct poll_outcome *po)
{
	struct mb_io io = { ep->ctx, ep->regs };

	poll_meter(ep, &io, m, po);
	pthread_mutex_lock(&ep->lock);
	ep->link.latency_us = m->comm.latency_us;
	pthread_mutex_unlock(&ep->lock);
	if (po->r == POLL_CONN_LOST)
		ep_lost(ep, po->lost_why);
	else if (po->timed_out && !ep_reopen(ep))
		po->r = POLL_CONN_LOST;
}

/* The meter's comm state after a poll, sent; true when it answered. */
static bool poll_status(struct mb_endpoint *ep, struct mb_meter *m, enum poll_result r)
{
	int64_t now_us = util_now_us();
	enum comm_status before = m->comm.status;
	bool good = r == POLL_OK || r == POLL_PARTIAL;

	if (good) {
		m->comm.status = COMM_OK;
		m->comm.last_good_us = now_us;
		m->failures = 0;
		m->backoff = 1;
		if (r == POLL_OK)
			m->comm.error[0] = '\0';
		if (before == COMM_DOWN || before == COMM_STALE)
			log_info("modbus: meter %s answers again", m->cfg->name);
	} else {
		meter_failed(ep, m, now_us);
	}
	send_status(ep, m);
	return good;
}

/* ---- demotion and probes ---- */

static void *probe_thread(void *arg);

/*
 * Hand m to the prober after a timeout; false (m stays with the poller, on
 * its period backoff) when the prober thread cannot be started.
 */
static bool demote(struct mb_endpoint *ep, struct mb_meter *m)
{
	struct mb_probe *pr = &ep->probe;
	int64_t delay_ms;
	int rc;

	if (!pr->thread_started) {
		rc = pthread_create(&pr->thread, NULL, probe_thread, ep);
		if (rc != 0) {
			log_warn("modbus: %s:%s: cannot start a prober thread: %s", ep->host,
				 ep->port, strerror(rc));
			return false;
		}
		pr->thread_started = true;
	}
	flush_held(ep); /* the prober's messages of m come after the poller's */
	m->probes_failed = 0;
	delay_ms = probe_delay_ms(m);
	log_info("modbus: meter %s (%s:%s unit %d) timed out: demoted, probed on a backoff "
		 "(1 s doubling to 30 s) until it answers",
		 m->cfg->name, ep->host, ep->port, m->cfg->unit);
	pthread_mutex_lock(&ep->plock);
	m->demoted = true;
	m->probe_due_us = util_mono_us() + delay_ms * 1000;
	pthread_mutex_unlock(&ep->plock);
	kick(ep, &pr->kick);
	return true;
}

/* A probe went through without a timeout: m is the poller's again. */
static void promote(struct mb_endpoint *ep, struct mb_meter *m)
{
	log_info("modbus: meter %s answered its probe: promoted, polled every %d ms again",
		 m->cfg->name, m->cfg->poll_ms);
	m->probes_failed = 0;
	m->next_due_us = util_mono_us() + (int64_t)m->cfg->poll_ms * 1000;
	pthread_mutex_lock(&ep->plock);
	m->demoted = false;
	pthread_mutex_unlock(&ep->plock);
	kick(ep, &ep->kick);
}

/* The demoted meter probed first, its due time in *due_us; NULL: none. */
static struct mb_meter *next_probe(struct mb_endpoint *ep, int64_t *due_us)
{
	struct mb_meter *next = NULL;
	size_t i;

	pthread_mutex_lock(&ep->plock);
	for (i = 0; i < ep->nmeters; i++) {
		struct mb_meter *m = &ep->meters[i];
		if (m->demoted && (next == NULL || m->probe_due_us < next->probe_due_us))
			next = m;
	}
	if (next != NULL)
		*due_us = next->probe_due_us;
	pthread_mutex_unlock(&ep->plock);
	return next;
}

static void probe_close(struct mb_probe *pr)
{
	if (pr->ctx != NULL) {
		modbus_close(pr->ctx);
		modbus_free(pr->ctx);
		pr->ctx = NULL;
	}
}

/* The device will not take a second connection: probe over the shared one. */
static void probe_refused(struct mb_endpoint *ep, const char *why)
{
	struct mb_probe *pr = &ep->probe;

	probe_close(pr);
	pr->shared = true;
	pr->own_retry_us = util_mono_us() + (int64_t)OWN_RETRY_MS * 1000;
	log_info("modbus: %s:%s: no second connection for probes (%s): probing over the "
		 "shared one, one timeout at most per probe",
		 ep->host, ep->port, why);
}

static bool shared_up(struct mb_endpoint *ep)
{
	bool up;

	pthread_mutex_lock(&ep->conn_lock);
	up = ep->connected;
	pthread_mutex_unlock(&ep->conn_lock);
	return up;
}

/*
 * Open the prober's own connection; false when it cannot. Refused (probe
 * over the shared one from now on) only while the shared one is up: with
 * the whole endpoint unreachable, this probe just fails.
 */
static bool probe_open(struct mb_endpoint *ep, const struct mb_meter *m)
{
	struct mb_probe *pr = &ep->probe;
	char why[160];

	pr->ctx = modbus_new_tcp_pi(ep->host, ep->port);
	if (pr->ctx == NULL) {
		snprintf(why, sizeof(why), "cannot create context: %s", modbus_strerror(errno));
		probe_refused(ep, why);
		return false;
	}
	modbus_set_response_timeout(pr->ctx, (uint32_t)(m->cfg->timeout_ms / 1000),
				    (uint32_t)(m->cfg->timeout_ms % 1000) * 1000);
	if (modbus_connect(pr->ctx) < 0) {
		snprintf(why, sizeof(why), "connect: %s", modbus_strerror(errno));
		if (shared_up(ep)) {
			probe_refused(ep, why);
		} else {
			probe_close(pr);
			log_debug("modbus: %s:%s: no connection for probes: %s", ep->host,
				  ep->port, why);
		}
		return false;
	}
	pr->answered = false;
	log_debug("modbus: %s:%s: second connection open for probes", ep->host, ep->port);
	return true;
}

/*
 * Probe demoted meter m: a whole poll, over the prober's own connection
 * when the device takes one (nobody waits for it), else over the shared
 * one (the poller waits, one timeout at most).
 */
static void probe_meter(struct mb_endpoint *ep, struct mb_meter *m, struct poll_outcome *po)
{
	struct mb_probe *pr = &ep->probe;
	bool up;

	if (pr->shared && util_mono_us() >= pr->own_retry_us)
		pr->shared = false;
	if (!pr->shared && pr->ctx == NULL)
		probe_open(ep, m);
	if (pr->ctx != NULL) {
		struct mb_io io = { pr->ctx, pr->regs };

		poll_meter(ep, &io, m, po);
		if (po->r == POLL_OK || po->r == POLL_PARTIAL ||
		    (po->r == POLL_FAILED && !po->timed_out))
			pr->answered = true;
		if (po->r == POLL_CONN_LOST) {
			/* Closed before any reply: a device that takes one client. */
			if (!pr->answered)
				probe_refused(ep, po->lost_why);
			else
				probe_close(pr);
		} else if (po->timed_out) {
			/* As on the shared connection: no late reply for the next request. */
			modbus_close(pr->ctx);
			if (modbus_connect(pr->ctx) < 0)
				probe_close(pr);
		}
		return;
	}
	pthread_mutex_lock(&ep->conn_lock);
	up = ep->connected;
	if (up)
		poll_shared(ep, m, po);
	pthread_mutex_unlock(&ep->conn_lock);
	if (!up) {
		po->r = POLL_CONN_LOST;
		po->timed_out = false;
		meter_set_error(m, "%s:%s unreachable", ep->host, ep->port);
	}
}

static void *probe_thread(void *arg)
{
	struct mb_endpoint *ep = arg;
	struct source_modbus *s = ep->src;
	struct mb_probe *pr = &ep->probe;

	util_thread_name("mb-probe:%s", ep->port);

	while (!atomic_load(&s->stopping)) {
		struct poll_outcome po;
		int64_t due_us = 0, delay_ms;
		struct mb_meter *m = next_probe(ep, &due_us);

		if (m == NULL) {
			/* Nobody demoted: free the device's second connection. */
			probe_close(pr);
			if (!wait_until(ep, util_mono_us() + (int64_t)IDLE_WAIT_MS * 1000, &pr->kick))
				break;
			continue;
		}
		if (due_us > util_mono_us()) {
			/* Until then, or until another demotion comes first. */
			if (!wait_until(ep, due_us, &pr->kick))
				break;
			continue;
		}
		probe_meter(ep, m, &po);
		if (poll_status(ep, m, po.r) && !po.timed_out) {
			promote(ep, m);
			continue;
		}
		m->probes_failed++;
		delay_ms = probe_delay_ms(m);
		pthread_mutex_lock(&ep->plock);
		m->probe_due_us = util_mono_us() + delay_ms * 1000;
		pthread_mutex_unlock(&ep->plock);
	}
	probe_close(pr);
	return NULL;
}

/* ---- the poller ---- */

/* After a poll by the poller (conn_lock held). */
static void after_poll(struct mb_endpoint *ep, struct mb_meter *m, const struct poll_outcome *po)
{
	int64_t period_us = (int64_t)m->cfg->poll_ms * 1000;

	poll_status(ep, m, po->r);
	/* A unit that times out costs the others a timeout at each poll. */
	if (po->timed_out && demote(ep, m))
		return;
	/* Keep the phase of the schedule; never burst to catch up. */
	m->next_due_us += period_us * m->backoff;
	if (m->next_due_us < util_mono_us())
		m->next_due_us = util_mono_us() + period_us * (m->backoff - 1);
}

/* The poller's next meter (demoted ones are the prober's); NULL: none. */
static struct mb_meter *next_due(struct mb_endpoint *ep)
{
	struct mb_meter *next = NULL;
	size_t i;

	pthread_mutex_lock(&ep->plock);
	for (i = 0; i < ep->nmeters; i++) {
		struct mb_meter *m = &ep->meters[i];
		if (!m->demoted && (next == NULL || m->next_due_us < next->next_due_us))
			next = m;
	}
	pthread_mutex_unlock(&ep->plock);
	return next;
}

static void *ep_thread(void *arg)
{
	struct mb_endpoint *ep = arg;
	struct source_modbus *s = ep->src;

	util_thread_name("mb:%s", ep->port);
	poller_of = ep;

	while (!atomic_load(&s->stopping)) {
		struct mb_meter *next;
		struct poll_outcome po;
		int64_t connect_us;
		bool connected;

		pthread_mutex_lock(&ep->conn_lock);
		connected = ep->connected;
		connect_us = ep->next_connect_us;
		pthread_mutex_unlock(&ep->conn_lock);
		if (!connected) {
			flush_held(ep);
			if (!wait_until(ep, connect_us, NULL))
				break;
			pthread_mutex_lock(&ep->conn_lock);
			connected = ep_connect(ep);
			pthread_mutex_unlock(&ep->conn_lock);
			if (!connected)
				continue;
		}
		next = next_due(ep);
		if (next == NULL) {
			/* Every unit demoted: wait for a promotion. */
			flush_held(ep);
			if (!wait_until(ep, util_mono_us() + (int64_t)IDLE_WAIT_MS * 1000, &ep->kick))
				break;
			continue;
		}
		/* polls back to back, or a sleep: the batch goes when due */
		flush_held_by(ep, next->next_due_us > util_mono_us() ? next->next_due_us
								       : util_mono_us());
		if (next->next_due_us > util_mono_us()) {
			/* Until then, or until a promotion (look again). */
			if (!wait_until(ep, next->next_due_us, &ep->kick))
				break;
			continue;
		}
		/* A meter that did not answer last time may take its timeout:
		 * what is held does not wait for it. */
		if (next->comm.status != COMM_OK)
			flush_held(ep);
		pthread_mutex_lock(&ep->conn_lock);
		/* The prober may have lost the shared connection meanwhile. */
		if (ep->connected) {
			poll_shared(ep, next, &po);
			after_poll(ep, next, &po);
		}
		pthread_mutex_unlock(&ep->conn_lock);
	}
	pthread_mutex_lock(&ep->conn_lock);
	ep_close(ep);
	pthread_mutex_unlock(&ep->conn_lock);
	flush_held(ep); /* what the last polls and the close said */
	poller_of = NULL;
	return NULL;
}

/* ---- source_ops ---- */

static struct mb_endpoint *find_endpoint(struct source_modbus *s, const char *host, int port)
{
	size_t i;
	char p[8];

	snprintf(p, sizeof(p), "%d", port);
	for (i = 0; i < s->neps; i++)
		if (strcmp(s->eps[i].host, host) == 0 && strcmp(s->eps[i].port, p) == 0)
			return &s->eps[i];
	return NULL;
}

static void mb_destroy(struct source *base);

/* Unit i's Modbus meter: a meter, or after them a machine polled as one
 * (its own profile: state and pieces registers); NULL when it is not
 * read over Modbus. Its samples and status carry the index i. */
static const struct config_meter *unit_cfg(const struct config *cfg, size_t i)
{
	if (i < cfg->nmeters)
		return cfg->meters[i].driver == DRIVER_MODBUS ? &cfg->meters[i] : NULL;
	return cfg->machines[i - cfg->nmeters].poll;
}

static struct source *mb_create(const struct config *cfg, struct queue *q, char **cause)
{
	struct source_modbus *s;
	size_t i, k, n = 0;
	pthread_condattr_t ca;

	*cause = NULL;
	for (i = 0; i < cfg->nmeters + cfg->nmachines; i++)
		if (unit_cfg(cfg, i) != NULL)
			n++;
	if (n == 0)
		return NULL;

	s = util_calloc(1, sizeof(*s));
	s->base.ops = &source_modbus_ops;
	s->q = q;
	atomic_init(&s->stopping, false);
	atomic_init(&s->dropped, 0);
	pthread_mutex_init(&s->wait_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	s->eps = util_calloc(n, sizeof(*s->eps));

	for (i = 0; i < cfg->nmeters + cfg->nmachines; i++) {
		const struct config_meter *cm = unit_cfg(cfg, i);
		struct mb_endpoint *ep;
		struct mb_meter *m;

		if (cm == NULL)
			continue;
		ep = find_endpoint(s, cm->host, cm->port);
		if (ep == NULL) {
			ep = &s->eps[s->neps++];
			ep->src = s;
			util_strlcpy(ep->host, cm->host, sizeof(ep->host));
			snprintf(ep->port, sizeof(ep->port), "%d", cm->port);
			pthread_mutex_init(&ep->lock, NULL);
			pthread_mutex_init(&ep->conn_lock, NULL);
			pthread_mutex_init(&ep->plock, NULL);
			pthread_cond_init(&ep->wake, &ca);
			snprintf(ep->link.name, sizeof(ep->link.name), "%s:%d", cm->host, cm->port);
			ep->link.driver = "modbus";
			ep->link.latency_us = -1;
			ep->reconnect_ms = RECONNECT_MIN_MS;
			ep->rng = (unsigned)(util_now_us() ^ (int64_t)(uintptr_t)ep);
		}
		ep->meters = util_reallocarray(ep->meters, ep->nmeters + 1, sizeof(*ep->meters));
		m = &ep->meters[ep->nmeters++];
		memset(m, 0, sizeof(*m));
		m->index = (int)i;
		m->cfg = cm;
		m->backoff = 1;
		m->rng = (unsigned)(util_now_us() ^ (int64_t)(uintptr_t)m);
		m->comm.latency_us = -1;
		if (regmap_plan(cm->profile->regs, cm->profile->nregs, cm->profile->max_registers,
				cm->profile->max_gap, &m->plan) < 0) {
			*cause = util_printf("meter %s: profile %s has a value wider than its "
					     "max_registers (%d)",
					     cm->name, cm->profile->name, cm->profile->max_registers);
			pthread_condattr_destroy(&ca);
			mb_destroy(&s->base);
			return NULL;
		}
		ep->link.nmeters = ep->nmeters;
	}
	pthread_condattr_destroy(&ca);
	/*
	 * A sibling's timeout can delay a meter's poll by that timeout (once at
	 * demotion, and at each probe when the device takes one connection
	 * only): the live state does not call its data stale for that.
	 */
	for (i = 0; i < s->neps; i++) {
		struct mb_endpoint *ep = &s->eps[i];
		for (n = 0; n < ep->nmeters; n++)
			for (k = 0; k < ep->nmeters; k++)
				if (k != n && ep->meters[k].cfg->timeout_ms >
						  ep->meters[n].comm.stale_grace_ms)
					ep->meters[n].comm.stale_grace_ms =
					    ep->meters[k].cfg->timeout_ms;
	}
	return &s->base;
}

static int mb_start(struct source *base, char **cause)
{
	struct source_modbus *s = (struct source_modbus *)base;
	size_t i, k;
	int64_t now = util_mono_us();

	for (i = 0; i < s->neps; i++) {
		struct mb_endpoint *ep = &s->eps[i];
		int rc;

		/* Spread the first polls of an endpoint's meters over a period. */
		for (k = 0; k < ep->nmeters; k++)
			ep->meters[k].next_due_us =
			    now + (int64_t)ep->meters[k].cfg->poll_ms * 1000 * (int64_t)k /
				      (int64_t)ep->nmeters;
		ep->next_connect_us = now;
		rc = pthread_create(&ep->thread, NULL, ep_thread, ep);
		if (rc != 0) {
			*cause = util_printf("cannot start a poller thread: %s", strerror(rc));
			return -1;
		}
		ep->thread_started = true;
	}
	log_info("modbus: %zu endpoint(s) started", s->neps);
	return 0;
}

static void mb_stop(struct source *base)
{
	struct source_modbus *s = (struct source_modbus *)base;
	size_t i;

	pthread_mutex_lock(&s->wait_lock);
	atomic_store(&s->stopping, true);
	for (i = 0; i < s->neps; i++)
		pthread_cond_broadcast(&s->eps[i].wake);
	pthread_mutex_unlock(&s->wait_lock);
	for (i = 0; i < s->neps; i++) {
		struct mb_endpoint *ep = &s->eps[i];

		if (ep->thread_started) {
			pthread_join(ep->thread, NULL);
			ep->thread_started = false;
		}
		/* Started by the poller, if ever: joined after it. */
		if (ep->probe.thread_started) {
			pthread_join(ep->probe.thread, NULL);
			ep->probe.thread_started = false;
		}
	}
}

static size_t mb_links(struct source *base, struct source_link *out, size_t max)
{
	struct source_modbus *s = (struct source_modbus *)base;
	size_t i;

	for (i = 0; i < s->neps && i < max; i++) {
		pthread_mutex_lock(&s->eps[i].lock);
		out[i] = s->eps[i].link;
		pthread_mutex_unlock(&s->eps[i].lock);
	}
	return s->neps;
}

static void mb_destroy(struct source *base)
{
	struct source_modbus *s = (struct source_modbus *)base;
	size_t i, k;

	if (s == NULL)
		return;
	mb_stop(base);
	for (i = 0; i < s->neps; i++) {
		struct mb_endpoint *ep = &s->eps[i];
		for (k = 0; k < ep->nmeters; k++)
			regmap_plan_free(&ep->meters[k].plan);
		free(ep->meters);
		ep_close(ep);
		probe_close(&ep->probe);
		pthread_cond_destroy(&ep->wake);
		pthread_mutex_destroy(&ep->plock);
		pthread_mutex_destroy(&ep->conn_lock);
		pthread_mutex_destroy(&ep->lock);
	}
	free(s->eps);
	pthread_mutex_destroy(&s->wait_lock);
	free(s);
}

const struct source_ops source_modbus_ops = {
	.name = "modbus",
	.create = mb_create,
	.start = mb_start,
	.stop = mb_stop,
	.decode = NULL,
	.tick = NULL,
	.links = mb_links,
	.destroy = mb_destroy,
};
