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
 *   requests all carry transaction id 0). A meter that keeps failing is
 *   polled less often (1, 2, 4 ... 30 periods) so a dead unit behind a
 *   gateway does not eat the time of the others;
 * - an exception response counts; "illegal data address" on a coalesced
 *   read splits it into single-value reads for good (the device has a hole
 *   there);
 * - a bad reply (another unit id, a wrong MBAP length, function code or
 *   byte count) fails the meter's poll, counts as an error and closes the
 *   connection, like a connection error: what else is in the stream cannot
 *   be trusted. Reconnection uses exponential backoff with jitter written
 *   here (0.5 s doubling to 30 s; the first retry at once), not libmodbus'
 *   error recovery (which does not recover from a broken pipe in Debian's
 *   version);
 * - if every meter of an endpoint times out three polls in a row, the
 *   connection is reopened (a half-dead TCP connection otherwise stays).
 * Status per meter: ok after a poll with at least one good read; stale
 * after a failed poll while the last good data is under three periods old;
 * down after that, or while the endpoint is unreachable.
 *
 * Locking: each endpoint's link statistics are guarded by its mutex (read
 * by links() from the hub thread); everything else belongs to the thread.
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
#include "phasor/util.h"

#define RECONNECT_MIN_MS 500
#define RECONNECT_MAX_MS 30000
#define FAIL_BACKOFF_MAX 30      /* periods */
#define REOPEN_AFTER_TIMEOUTS 3  /* consecutive all-meter timeouts */
#define PUSH_TIMEOUT_MS 1000

struct mb_meter {
	int index;                       /* config index */
	const struct config_meter *cfg;
	struct regmap_plan plan;
	int64_t next_due_us;             /* monotonic */
	int backoff;                     /* periods between polls while failing */
	int failures;                    /* consecutive failed polls */
	int timeouts_in_row;
	struct meter_comm comm;
	bool comm_sent;
};

struct source_modbus;

struct mb_endpoint {
	struct source_modbus *src;
	char host[256];
	char port[8];
	modbus_t *ctx;
	bool connected;
	pthread_t thread;
	bool thread_started;
	struct mb_meter *meters;
	size_t nmeters;
	int64_t next_connect_us;         /* monotonic */
	int64_t reconnect_ms;
	unsigned rng;
	uint16_t regs[MODBUS_MAX_READ_REGISTERS];
	pthread_mutex_t lock;            /* guards link */
	struct source_link link;
};

struct source_modbus {
	struct source base;
	struct queue *q;
	struct mb_endpoint *eps;
	size_t neps;
	atomic_bool stopping;
	pthread_mutex_t wait_lock;
	pthread_cond_t wake;
	atomic_uint_fast64_t dropped;
};

/* ---- helpers ---- */

static void ep_set_link(struct mb_endpoint *ep, enum link_state st, const char *err)
{
	pthread_mutex_lock(&ep->lock);
	if (ep->link.state != st)
		ep->link.since_us = util_now_us();
	ep->link.state = st;
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

static void push(struct mb_endpoint *ep, struct source_msg *m)
{
	struct source_modbus *s = ep->src;

	/* Wait a while rather than drop: the hub drains fast unless stopped. */
	while (queue_push(s->q, m, PUSH_TIMEOUT_MS) < 0) {
		if (atomic_load(&s->stopping)) {
			free(m);
			atomic_fetch_add(&s->dropped, 1);
			pthread_mutex_lock(&ep->lock);
			ep->link.dropped++;
			pthread_mutex_unlock(&ep->lock);
			return;
		}
	}
}

static void event(struct mb_endpoint *ep, int meter, const char *what, const char *text)
{
	push(ep, source_msg_event(&ep->src->base, meter, util_now_us(), what, "%s", text));
}

/* Sleep until mono deadline_us or until stop; returns false when stopping. */
static bool wait_until(struct source_modbus *s, int64_t deadline_us)
{
	struct timespec ts;

	pthread_mutex_lock(&s->wait_lock);
	while (!atomic_load(&s->stopping) && util_mono_us() < deadline_us) {
		ts.tv_sec = (time_t)(deadline_us / 1000000);
		ts.tv_nsec = (long)(deadline_us % 1000000) * 1000;
		if (pthread_cond_timedwait(&s->wake, &s->wait_lock, &ts) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&s->wait_lock);
	return !atomic_load(&s->stopping);
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

static int64_t jitter(struct mb_endpoint *ep, int64_t ms)
{
	/* +-20 % so endpoints that failed together do not retry in lockstep */
	int64_t span = ms / 5;

	if (span <= 0)
		return ms;
	return ms - span + (int64_t)(rand_r(&ep->rng) % (unsigned)(2 * span + 1));
}

static void schedule_reconnect(struct mb_endpoint *ep)
{
	ep->next_connect_us = util_mono_us() + jitter(ep, ep->reconnect_ms) * 1000;
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
		bool changed = m->comm.status != COMM_DOWN || strcmp(m->comm.error, err) != 0;
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

/*
 * Send read rd to m's unit and take its reply into ep->regs. libmodbus
 * frames both ways (modbus_send_raw_request, modbus_receive_confirmation),
 * but its own read functions accept a reply from another unit id or with a
 * wrong MBAP length, so the whole reply goes through regmap_check_reply()
 * here. *err: an errno code (exceptions as MODBUS_ENOBASE + code); why: the
 * reason of a bad reply or a lost connection.
 */
static enum read_result read_regs(struct mb_endpoint *ep, const struct mb_meter *m,
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

	if (modbus_send_raw_request(ep->ctx, req, (int)sizeof(req)) < 0) {
		*err = errno;
		snprintf(why, why_size, "%s", modbus_strerror(errno));
		return RD_LOST;
	}
	len = modbus_receive_confirmation(ep->ctx, rsp);
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
	switch (regmap_check_reply(rsp, (size_t)len, 0, unit, rd->function, rd->count, ep->regs,
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

static enum poll_result poll_meter(struct mb_endpoint *ep, struct mb_meter *m)
{
	struct regmap_plan *plan = &m->plan;
	struct source_msg *msg;
	struct sample *out;
	size_t nout = 0, i, k, good_reads = 0, failed_reads = 0;
	int64_t t0 = util_mono_us(), t_us;
	bool timed_out = false, lost = false;
	char lost_why[232] = "";

	modbus_set_response_timeout(ep->ctx, (uint32_t)(m->cfg->timeout_ms / 1000),
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
		r = read_regs(ep, m, rd, &e, why, sizeof(why));
		if (r == RD_OK) {
			good_reads++;
			for (k = 0; k < rd->nvalues; k++) {
				const struct profile_reg *reg =
				    &m->cfg->profile->regs[plan->order[rd->first + k]];
				struct sample *s = &out[nout++];
				double v;

				s->quality = (uint8_t)regmap_decode(
				    reg, &ep->regs[reg->address - rd->address], &v);
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
			snprintf(lost_why, sizeof(lost_why), "%s", why);
		} else {
			if (r == RD_EXCEPTION)
				snprintf(why, sizeof(why), "%s", modbus_strerror(e));
			meter_set_error(m, "%s", why);
			log_debug("modbus: meter %s: bad reply: %s", m->cfg->name, why);
			snprintf(lost_why, sizeof(lost_why), "closed after a bad reply to meter %s: %s",
				 m->cfg->name, why);
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

	m->comm.latency_us = (int32_t)(util_mono_us() - t0);
	pthread_mutex_lock(&ep->lock);
	ep->link.latency_us = m->comm.latency_us;
	pthread_mutex_unlock(&ep->lock);

	m->timeouts_in_row = timed_out ? m->timeouts_in_row + 1 : 0;
	if (lost) {
		ep_lost(ep, lost_why);
		return POLL_CONN_LOST;
	}
	if (timed_out && !ep_reopen(ep))
		return POLL_CONN_LOST;
	if (good_reads == 0)
		return POLL_FAILED;
	return failed_reads > 0 ? POLL_PARTIAL : POLL_OK;
}

static void after_poll(struct mb_endpoint *ep, struct mb_meter *m, enum poll_result r)
{
	int64_t now_us = util_now_us();
	int64_t period_us = (int64_t)m->cfg->poll_ms * 1000;
	enum comm_status before = m->comm.status;

	if (r == POLL_OK || r == POLL_PARTIAL) {
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

	/* Keep the phase of the schedule; never burst to catch up. */
	m->next_due_us += period_us * m->backoff;
	if (m->next_due_us < util_mono_us())
		m->next_due_us = util_mono_us() + period_us * (m->backoff - 1);
}

static bool all_timing_out(const struct mb_endpoint *ep)
{
	size_t i;

	for (i = 0; i < ep->nmeters; i++)
		if (ep->meters[i].timeouts_in_row < REOPEN_AFTER_TIMEOUTS)
			return false;
	return true;
}

static void *ep_thread(void *arg)
{
	struct mb_endpoint *ep = arg;
	struct source_modbus *s = ep->src;
	size_t i;

	while (!atomic_load(&s->stopping)) {
		struct mb_meter *next = NULL;

		if (!ep->connected) {
			if (!wait_until(s, ep->next_connect_us))
				break;
			if (!ep_connect(ep))
				continue;
		}
		for (i = 0; i < ep->nmeters; i++)
			if (next == NULL || ep->meters[i].next_due_us < next->next_due_us)
				next = &ep->meters[i];
		if (!wait_until(s, next->next_due_us))
			break;
		after_poll(ep, next, poll_meter(ep, next));
		if (ep->connected && ep->nmeters > 0 && all_timing_out(ep)) {
			ep_lost(ep, "every unit timed out: reopening the connection");
			for (i = 0; i < ep->nmeters; i++)
				ep->meters[i].timeouts_in_row = 0;
			schedule_reconnect(ep);
		}
	}
	ep_close(ep);
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

static struct source *mb_create(const struct config *cfg, struct queue *q, char **cause)
{
	struct source_modbus *s;
	size_t i, n = 0;
	pthread_condattr_t ca;

	*cause = NULL;
	for (i = 0; i < cfg->nmeters; i++)
		if (cfg->meters[i].driver == DRIVER_MODBUS)
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
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	s->eps = util_calloc(n, sizeof(*s->eps));

	for (i = 0; i < cfg->nmeters; i++) {
		const struct config_meter *cm = &cfg->meters[i];
		struct mb_endpoint *ep;
		struct mb_meter *m;

		if (cm->driver != DRIVER_MODBUS)
			continue;
		ep = find_endpoint(s, cm->host, cm->port);
		if (ep == NULL) {
			ep = &s->eps[s->neps++];
			ep->src = s;
			util_strlcpy(ep->host, cm->host, sizeof(ep->host));
			snprintf(ep->port, sizeof(ep->port), "%d", cm->port);
			pthread_mutex_init(&ep->lock, NULL);
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
		m->comm.latency_us = -1;
		if (regmap_plan(cm->profile->regs, cm->profile->nregs, cm->profile->max_registers,
				cm->profile->max_gap, &m->plan) < 0) {
			*cause = util_printf("meter %s: profile %s has a value wider than its "
					     "max_registers (%d)",
					     cm->name, cm->profile->name, cm->profile->max_registers);
			mb_destroy(&s->base);
			return NULL;
		}
		ep->link.nmeters = ep->nmeters;
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
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->wait_lock);
	for (i = 0; i < s->neps; i++) {
		if (s->eps[i].thread_started) {
			pthread_join(s->eps[i].thread, NULL);
			s->eps[i].thread_started = false;
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
		pthread_mutex_destroy(&ep->lock);
	}
	free(s->eps);
	pthread_cond_destroy(&s->wake);
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
