// SPDX-License-Identifier: MIT
/*
 * source_mqtt: the MQTT source. One paho MQTTAsync client per process
 * subscribes to the topic filters of every meter with driver = mqtt; its
 * message callback only copies topic and payload into a MSG_RAW on the hub
 * queue, and the hub thread decodes it later (ops->decode, payload.c) for
 * each meter whose filter matches the topic. Meters with driver = sparkplug
 * share the connection: it subscribes to spBv1.0/GROUP/# for their groups,
 * and their messages go to the Sparkplug B host state (sparkplug.c), whose
 * rebirth requests are published here (docs/sparkplug.md).
 *
 * Reconnection is ours, not paho's automaticReconnect: a failed connect or
 * a lost connection marks the link down and schedules the next attempt
 * (0.5 s doubling to 30 s, jittered downwards by up to a quarter), which
 * ops->tick starts from the hub thread (MQTTAsync_connect only queues the
 * request). tick also ages every meter: unknown, ok, stale after three
 * expected periods without a message, down after ten or while the broker
 * is unreachable. The rules are in docs/mqtt.md.
 *
 * Threads and locks:
 * - paho's threads run the callbacks (message, connect success/failure,
 *   connection lost, subscribe and disconnect results);
 * - the hub thread runs create/start/decode/tick/links/stop/destroy.
 * Two mutexes. cb_mu is held by every callback for its whole body and by
 * stop() when it sets `stopped`; every push on the hub queue happens under
 * it with `stopped` false, which is how stop() guarantees that nothing is
 * pushed after it returns. When the hub queue is full the message callback
 * waits for room (100 ms at a time, giving up only when stop() has set
 * `stopping` or the queue is closed, both counted as dropped): paho's
 * receive thread, and through TCP the broker, are held back and nothing is
 * lost on our side. mu guards the link state and counters shared by
 * both sides (state, error, times, backoff, received/accepted/rejected/
 * dropped, stopping, the disconnect flag and its condition variable). Lock
 * order: cb_mu before mu. The hub thread never calls into paho while
 * holding either (paho may hold its own mutex while it runs a callback).
 * Meter state (struct mq_meter) belongs to the hub thread alone.
 */
#include "phasor/source.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "phasor/intake.h"
#include "phasor/log.h"
#include "phasor/payload.h"
#include "phasor/sparkplug.h"
#include "phasor/util.h"

#define BACKOFF_MIN_US 500000LL
#define BACKOFF_MAX_US 30000000LL
#define PUSH_TIMEOUT_MS 100
#define STOP_TIMEOUT_MS 2000
#define WARN_EVERY_US 60000000LL
#define REFRESH_EVERY_US 1000000LL
#define DEFAULT_PERIOD_MS 10000
#define STALE_PERIODS 3
#define DOWN_PERIODS 10

struct mq_meter {
	int index;                    /* in cfg->meters */
	char *name;
	const struct profile *profile;
	char **filters;
	size_t nfilters;
	int64_t period_us;
	struct meter_comm comm;
	bool dirty;                   /* changed since the last status sent */
	int64_t sent_us;              /* when the last status was sent */
	int64_t warned_us;            /* last reject warning */
	bool sparkplug;               /* driver = sparkplug: fed by s->sp */
	const char *dead;             /* sparkplug: "NDEATH"/"DDEATH" since its death, else NULL */
};

struct mq_source {
	struct source base;           /* first: the hub sees a struct source */
	struct queue *q;

	/* settings, fixed after create */
	char *uri, *client_id, *username, *password, *ca_file, *cert_file, *key_file;
	bool tls;
	int qos, keepalive_s;
	bool clean_session;
	bool v5;                      /* MQTT 5 (else 3.1.1), fixed at create */
	char **subs;
	int *subqos;
	size_t nsubs;
	struct mq_meter *meters;
	size_t nmeters;
	struct sample *buf;           /* decode output, hub thread */
	size_t bufcap;
	int64_t unknown_warned_us;    /* hub thread */
	char *alarm_prefix;           /* "<alarm_topic>/": shared alarm messages; NULL: off */
	struct sparkplug *sp;         /* the Sparkplug B host state (hub thread); NULL: none */
	uint64_t rebirths;            /* rebirth requests published (hub thread) */
	char *state_topic;            /* the Sparkplug host STATE topic; NULL: no STATE */
	char *will;                   /* its offline payload of the current connection */
	int64_t state_ms;             /* the timestamp of the current CONNECT (its will's) */

	MQTTAsync client;
	bool created;
	struct intake *intake;        /* borrowed from the hub; NULL: no journal */

	pthread_mutex_t cb_mu;        /* see the top comment */
	bool stopped;

	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool stopping, disconnected;
	enum link_state state;
	char error[160];
	char reported[160];           /* last error sent as an "error" event */
	int64_t since_us;             /* wall clock of the last state change */
	int64_t up_us;                /* wall clock of the last connect, 0: never */
	bool failed;                  /* a connect failed or the link was lost */
	char tls_error[128];          /* OpenSSL's reason during this attempt */
	struct tls_trace {            /* what paho's trace told of this attempt */
		char verify[96];      /* "SSL certificate verification: X", X not OK */
		char host[96];        /* the host name X509_check_host refused */
		char alert[64];       /* a fatal alert read from the broker */
		bool cert_requested;  /* the broker asked for a client certificate */
	} trace;
	int64_t backoff_us;
	int64_t retry_at_mono;
	uint64_t reconnects;
	uint64_t received, accepted, rejected[8], alarm_msgs, undecoded, dropped;
	uint64_t bad_topics;          /* topics with an embedded NUL, refused */
	bool sp_online;               /* subscribed: ask unborn Sparkplug nodes for a birth */
	uint64_t rng;
};

static struct mq_source *to_mq(struct source *s)
{
	return (struct mq_source *)(void *)s;
}

/* ---- helpers ------------------------------------------------------------ */

static void copy_sanitized(char *dst, size_t size, const char *fmt, ...) UTIL_PRINTF(3, 4);

static void copy_sanitized(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	util_vsanitizef(dst, size, fmt, ap);
	va_end(ap);
}

/* paho's message and our reading of its code, as one sanitized text. */
static void failure_join(const char *message, const char *what, int code, char *buf,
			 size_t size)
{
	if (message != NULL && what != NULL)
		copy_sanitized(buf, size, "%s (%s)", message, what);
	else if (message != NULL)
		copy_sanitized(buf, size, "%s", message);
	else if (what != NULL)
		copy_sanitized(buf, size, "%s", what);
	else
		copy_sanitized(buf, size, "error %d", code);
}

/* Why a connect or subscribe failed, from paho's answer. */
static void failure_text(const MQTTAsync_failureData *r, char *buf, size_t size)
{
	static const char *const connack[] = {
		NULL, "unacceptable protocol version", "client identifier rejected",
		"server unavailable", "bad user name or password", "not authorized"
	};
	const char *what = NULL;

	if (r == NULL) {
		util_strlcpy(buf, "failed", size);
		return;
	}
	if (r->code > 0 && (size_t)r->code < UTIL_ARRAY_LEN(connack))
		what = connack[r->code];
	else if (r->code < 0)
		what = MQTTAsync_strerror(r->code);
	failure_join(r->message, what, r->code, buf, size);
}

/* The same for an MQTT 5 answer (a reason code instead of a CONNACK code). */
static void failure_text5(const MQTTAsync_failureData5 *r, char *buf, size_t size)
{
	const char *what = NULL;

	if (r == NULL) {
		util_strlcpy(buf, "failed", size);
		return;
	}
	if (r->reasonCode != MQTTREASONCODE_SUCCESS)
		what = MQTTReasonCode_toString(r->reasonCode);
	else if (r->code < 0)
		what = MQTTAsync_strerror(r->code);
	else if (r->code == 1)
		/* a 3.1.1 broker's CONNACK to an MQTT 5 CONNECT */
		what = "unacceptable protocol version";
	failure_join(r->message, what, r->code, buf, size);
}

/* Next delay, with mu held: the current backoff less up to a quarter. */
static void schedule_retry(struct mq_source *s)
{
	int64_t d = s->backoff_us;

	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	d -= (int64_t)(s->rng % (uint64_t)(d / 4 + 1));
	s->retry_at_mono = util_mono_us() + d;
	s->backoff_us = s->backoff_us * 2 > BACKOFF_MAX_US ? BACKOFF_MAX_US : s->backoff_us * 2;
}

/* Push an event from a paho thread; cb_mu held, stopped false. */
static void push_event(struct mq_source *s, const char *what, const char *fmt, ...)
	UTIL_PRINTF(3, 4);

static void push_event(struct mq_source *s, const char *what, const char *fmt, ...)
{
	char text[232];
	struct source_msg *m;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	m = source_msg_event(&s->base, -1, util_now_us(), what, "%s", text);
	if (queue_push(s->q, m, PUSH_TIMEOUT_MS) != 0) {
		free(m);
		pthread_mutex_lock(&s->mu);
		s->dropped++;
		pthread_mutex_unlock(&s->mu);
	}
}

/* ---- paho callbacks (paho's threads) ------------------------------------ */

/* The broker's answer to our subscriptions: granted[i] >= 0x80 is a refusal. */
static void subscribed(struct mq_source *s, const int *granted, size_t n)
{
	size_t i, refused = 0;
	const char *first = NULL;

	pthread_mutex_lock(&s->cb_mu);
	if (s->stopped)
		goto out;
	for (i = 0; i < s->nsubs && i < n; i++) {
		if (granted[i] >= 0x80) {
			refused++;
			if (first == NULL)
				first = s->subs[i];
		}
	}
	if (refused > 0) {
		char text[160];

		copy_sanitized(text, sizeof(text), "broker refused %zu subscription(s), first %s",
			       refused, first);
		pthread_mutex_lock(&s->mu);
		util_strlcpy(s->error, text, sizeof(s->error));
		pthread_mutex_unlock(&s->mu);
		log_error("mqtt %s: %s", s->uri, text);
		push_event(s, "error", "%s", text);
	} else {
		log_info("mqtt %s: subscribed to %zu filter(s)", s->uri, s->nsubs);
		pthread_mutex_lock(&s->mu);
		s->sp_online = s->sp != NULL;
		pthread_mutex_unlock(&s->mu);
	}
out:
	pthread_mutex_unlock(&s->cb_mu);
}

static void on_subscribe_ok(void *ctx, MQTTAsync_successData *r)
{
	struct mq_source *s = ctx;
	int *granted = util_calloc(s->nsubs ? s->nsubs : 1, sizeof(*granted));
	size_t i;

	for (i = 0; i < s->nsubs && r != NULL; i++)
		granted[i] = s->nsubs == 1 ? r->alt.qos
					   : (r->alt.qosList != NULL ? r->alt.qosList[i] : 0);
	subscribed(s, granted, s->nsubs);
	free(granted);
}

static void on_subscribe_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	struct mq_source *s = ctx;
	int *granted = util_calloc(s->nsubs ? s->nsubs : 1, sizeof(*granted));
	size_t i;

	for (i = 0; i < s->nsubs && r != NULL; i++)
		granted[i] = (int)(r->alt.sub.reasonCodeCount > 1 && r->alt.sub.reasonCodes != NULL
					   ? r->alt.sub.reasonCodes[i]
					   : r->reasonCode);
	subscribed(s, granted, s->nsubs);
	free(granted);
}

static void subscribe_failed(struct mq_source *s, const char *why)
{
	char text[160];

	pthread_mutex_lock(&s->cb_mu);
	if (!s->stopped) {
		snprintf(text, sizeof(text), "subscribe failed: %s", why);
		pthread_mutex_lock(&s->mu);
		util_strlcpy(s->error, text, sizeof(s->error));
		pthread_mutex_unlock(&s->mu);
		log_error("mqtt %s: %s", s->uri, text);
		push_event(s, "error", "%s", text);
	}
	pthread_mutex_unlock(&s->cb_mu);
}

static void on_subscribe_fail(void *ctx, MQTTAsync_failureData *r)
{
	char why[128];

	failure_text(r, why, sizeof(why));
	subscribe_failed(ctx, why);
}

static void on_subscribe_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	char why[128];

	failure_text5(r, why, sizeof(why));
	subscribe_failed(ctx, why);
}

static void subscribe(struct mq_source *s)
{
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	int rc;

	if (s->nsubs == 0)
		return;
	if (s->v5) {
		ro.onSuccess5 = on_subscribe_ok5;
		ro.onFailure5 = on_subscribe_fail5;
	} else {
		ro.onSuccess = on_subscribe_ok;
		ro.onFailure = on_subscribe_fail;
	}
	ro.context = s;
	rc = MQTTAsync_subscribeMany(s->client, (int)s->nsubs, s->subs, s->subqos, &ro);
	if (rc != MQTTASYNC_SUCCESS) {
		char text[160];

		copy_sanitized(text, sizeof(text), "subscribe failed: %s", MQTTAsync_strerror(rc));
		pthread_mutex_lock(&s->mu);
		util_strlcpy(s->error, text, sizeof(s->error));
		pthread_mutex_unlock(&s->mu);
		log_error("mqtt %s: %s", s->uri, text);
		push_event(s, "error", "%s", text);
	}
}

/*
 * The Sparkplug 3.0 host birth (online) or death (offline) on the STATE
 * topic, retained at QoS 1, stamped with the CONNECT's time like the will
 * registered with it (docs/sparkplug.md, "Host application STATE").
 */
static void publish_state(struct mq_source *s, bool online)
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	char *payload = sparkplug_state_payload(online, s->state_ms);
	int rc;

	m.payload = payload;
	m.payloadlen = (int)strlen(payload);
	m.qos = 1;
	m.retained = 1;
	rc = MQTTAsync_sendMessage(s->client, s->state_topic, &m, NULL);
	if (rc == MQTTASYNC_SUCCESS)
		log_info("sparkplug: host %s on %s", online ? "online" : "offline", s->state_topic);
	else
		log_warn("sparkplug: cannot publish the host state on %s: %s", s->state_topic,
			 MQTTAsync_strerror(rc));
	free(payload);
}

static void connected(struct mq_source *s)
{
	bool stopping;

	pthread_mutex_lock(&s->cb_mu);
	pthread_mutex_lock(&s->mu);
	stopping = s->stopping || s->stopped;
	if (!stopping) {
		s->state = LINK_UP;
		s->since_us = s->up_us = util_now_us();
		s->error[0] = '\0';
		s->reported[0] = '\0';
		s->backoff_us = BACKOFF_MIN_US;
	}
	pthread_mutex_unlock(&s->mu);
	if (s->tls)
		MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
	if (!stopping) {
		log_info("mqtt %s: connected", s->uri);
		if (s->state_topic != NULL)
			publish_state(s, true);
		subscribe(s);
		push_event(s, "connect", "connected to %s", s->uri);
	}
	pthread_mutex_unlock(&s->cb_mu);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	connected(ctx);
}

static void on_connect_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	connected(ctx);
}

/*
 * Why a TLS connect failed, with mu held: OpenSSL's reason (from the error
 * callback) and what paho's trace said of this attempt, in that order of
 * trust. Leaves why alone when neither says anything.
 */
static void tls_why(struct mq_source *s, char *why, size_t whysz)
{
	const struct tls_trace *t = &s->trace;

	if (s->tls_error[0] != '\0' && t->verify[0] != '\0')
		copy_sanitized(why, whysz, "TLS: %s: %s", s->tls_error, t->verify);
	else if (s->tls_error[0] != '\0')
		copy_sanitized(why, whysz, "TLS: %s", s->tls_error);
	else if (t->verify[0] != '\0')
		copy_sanitized(why, whysz, "TLS: certificate verify failed: %s", t->verify);
	else if (t->host[0] != '\0')
		copy_sanitized(why, whysz,
			       "TLS: certificate verify failed: hostname mismatch (the broker's "
			       "certificate is not for %s)",
			       t->host);
	else if (t->cert_requested && s->cert_file == NULL)
		/* The broker's alert (TLS 1.3 certificate_required, which
		 * OpenSSL 3.0 names "unknown") often comes after paho has
		 * failed to send CONNECT on the closed connection. */
		copy_sanitized(why, whysz,
			       "TLS: the broker requires a client certificate ([mqtt] cert_file, "
			       "key_file)");
	else if (t->cert_requested && t->alert[0] != '\0' && strcmp(t->alert, "unknown") != 0)
		copy_sanitized(why, whysz, "TLS: the broker refused the client certificate (alert %s)",
			       t->alert);
	else if (t->cert_requested)
		copy_sanitized(why, whysz,
			       "TLS: the broker closed the connection after the handshake: does it "
			       "trust the client certificate?");
	else if (t->alert[0] != '\0')
		copy_sanitized(why, whysz, "TLS: the broker sent alert %s", t->alert);
}

/*
 * A connect failed; transport: below MQTT (TCP or TLS), not the broker's
 * CONNACK, so that TLS may know better why.
 */
static void connect_failed(struct mq_source *s, bool transport, char *why, size_t whysz)
{
	bool report = false;

	pthread_mutex_lock(&s->cb_mu);
	pthread_mutex_lock(&s->mu);
	if (s->tls && transport)
		tls_why(s, why, whysz);
	if (!s->stopping && !s->stopped) {
		source_link_move(&s->state, &s->since_us, LINK_DOWN, util_now_us());
		util_strlcpy(s->error, why, sizeof(s->error));
		s->failed = true;
		schedule_retry(s);
		/* one event per distinct failure, not one per attempt */
		report = strcmp(s->reported, why) != 0;
		if (report)
			util_strlcpy(s->reported, why, sizeof(s->reported));
	}
	pthread_mutex_unlock(&s->mu);
	if (report) {
		log_warn("mqtt %s: connect failed: %s", s->uri, why);
		push_event(s, "error", "connect to %s failed: %s", s->uri, why);
	} else {
		log_debug("mqtt %s: connect failed: %s", s->uri, why);
	}
	pthread_mutex_unlock(&s->cb_mu);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
	char why[160];

	failure_text(r, why, sizeof(why));
	connect_failed(ctx, r == NULL || r->code < 0, why, sizeof(why));
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	char why[160];

	failure_text5(r, why, sizeof(why));
	/* A broker that knows only 3.1.1 answers an MQTT 5 CONNECT so: say the fix. */
	if (r != NULL && (r->code == 1 || r->reasonCode == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION))
		util_strlcpy(why, "broker refuses MQTT 5; set [mqtt] protocol = 3.1.1", sizeof(why));
	connect_failed(ctx, r == NULL || (r->code < 0 && r->reasonCode == MQTTREASONCODE_SUCCESS),
		       why, sizeof(why));
}

static void on_connection_lost(void *ctx, char *cause)
{
	struct mq_source *s = ctx;
	char why[160];
	bool report = false;

	copy_sanitized(why, sizeof(why), "%s",
		       cause != NULL && cause[0] != '\0' ? cause : "connection lost");
	pthread_mutex_lock(&s->cb_mu);
	pthread_mutex_lock(&s->mu);
	if (!s->stopping && !s->stopped) {
		s->state = LINK_DOWN;
		s->since_us = util_now_us();
		util_strlcpy(s->error, why, sizeof(s->error));
		s->failed = true;
		s->backoff_us = BACKOFF_MIN_US;
		schedule_retry(s);
		util_strlcpy(s->reported, why, sizeof(s->reported));
		report = true;
	}
	pthread_mutex_unlock(&s->mu);
	if (report) {
		log_warn("mqtt %s: %s", s->uri, why);
		push_event(s, "disconnect", "connection to %s lost: %s", s->uri, why);
	}
	pthread_mutex_unlock(&s->cb_mu);
}

/*
 * paho (1.3, MQTTAsync) calls this from its receive thread and sends the
 * QoS 1 PUBACK only after it returns, whatever it returns: so the message
 * goes into the intake journal first (src/acquisition/intake.c), and is then handed to
 * the hub. Once the broker forgets it, it is in the journal; the store
 * saves, with the samples, how far the journal is committed.
 */
static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *msg)
{
	struct mq_source *s = ctx;
	size_t tlen = topic_len > 0 ? (size_t)topic_len : strlen(topic);
	size_t plen = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	int64_t now = util_now_us();
	struct source_msg *m;
	uint64_t seq = 0;
	bool warned = false, nul, large, dup = false;

	/* paho gives a length when the topic holds a NUL: never route a cut topic. */
	nul = memchr(topic, '\0', tlen) != NULL;
	large = plen > PAYLOAD_MAX_BYTES;
	pthread_mutex_lock(&s->cb_mu);
	if (!nul && !large && s->intake != NULL) {
		dup = msg->dup && intake_duplicate(s->intake, msg->msgid, topic, tlen, msg->payload,
						   plen);
		if (!dup)
			seq = intake_append(s->intake, now, topic, tlen, msg->payload, plen, msg->msgid,
					    (unsigned)msg->qos,
					    (msg->dup ? INTAKE_DUP : 0u) |
						    (msg->retained ? INTAKE_RETAINED : 0u));
	}
	pthread_mutex_lock(&s->mu);
	s->received++;
	if (nul) {
		s->bad_topics++;
		s->rejected[PAYLOAD_MALFORMED]++;
	} else if (large) {
		s->rejected[PAYLOAD_TOO_LARGE]++;
	} else if (s->stopped && !dup) {
		s->dropped++;
		s->undecoded++;
	}
	pthread_mutex_unlock(&s->mu);
	if (nul) {
		char shown[128];

		util_sanitize(shown, sizeof(shown), topic);
		log_warn("mqtt %s: message on a topic with a NUL byte refused (%s...)", s->uri,
			 shown);
	}
	if (s->stopped || nul || large || dup)
		goto consumed;

	m = source_msg_raw(&s->base, topic, tlen, msg->payload, plen, now);
	m->u.raw.intake = seq;
	for (;;) {
		int64_t t0 = util_mono_us();
		bool stopping, closed;

		if (queue_push(s->q, m, PUSH_TIMEOUT_MS) == 0)
			break;
		/*
		 * The hub queue is full. Wait for room, holding paho's
		 * receive thread (and through TCP the broker) back, rather
		 * than returning 0: paho 1.3 redelivers a refused message
		 * only when the socket next turns readable, one per packet,
		 * so a backlog there never drains under steady traffic.
		 * A push refused at once means the queue is closed. A message
		 * given up here is still in the journal (decoded at the next
		 * start).
		 */
		closed = util_mono_us() - t0 < PUSH_TIMEOUT_MS * 1000 / 2;
		pthread_mutex_lock(&s->mu);
		stopping = s->stopping;
		if (stopping || closed) {
			s->dropped++;
			s->undecoded++;
		}
		pthread_mutex_unlock(&s->mu);
		if (stopping || closed) {
			free(m);
			break;
		}
		if (!warned) {
			log_warn("mqtt %s: hub queue full, holding messages back", s->uri);
			warned = true;
		}
	}
consumed:
	pthread_mutex_unlock(&s->cb_mu);
	MQTTAsync_freeMessage(&msg);
	MQTTAsync_free(topic);
	return 1;
}

static void on_disconnect_ok(void *ctx, MQTTAsync_successData *r)
{
	struct mq_source *s = ctx;

	(void)r;
	pthread_mutex_lock(&s->mu);
	s->disconnected = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->mu);
}

static void on_disconnect_fail(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	on_disconnect_ok(ctx, NULL);
}

static void on_disconnect_ok5(void *ctx, MQTTAsync_successData5 *r)
{
	(void)r;
	on_disconnect_ok(ctx, NULL);
}

static void on_disconnect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
	(void)r;
	on_disconnect_ok(ctx, NULL);
}

/* ---- connecting --------------------------------------------------------- */

/*
 * OpenSSL's error lines during a TLS connect (paho's thread). Keeps the
 * reason of the first, e.g. "certificate verify failed", so the link's
 * error says more than "TCP/TLS connect failure". A line reads
 * "<thread>:error:<code>:<library>:<function>:<reason>:<file>:<line>:".
 */
static int on_tls_error(const char *str, size_t len, void *ctx)
{
	struct mq_source *s = ctx;
	char line[256], *p = line, *reason = NULL;
	int field = 0;

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, str, len);
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	for (; *p != '\0'; p++)
		if (*p == ':' && ++field == 5) {
			reason = p + 1;
			reason[strcspn(reason, ":")] = '\0';
			break;
		}
	pthread_mutex_lock(&s->mu);
	if (s->tls_error[0] == '\0')
		util_sanitize(s->tls_error, sizeof(s->tls_error),
			      reason != NULL && *reason != '\0' ? reason : line);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/*
 * paho checks the host name after the handshake and says so only in its
 * trace ("X509_check_host for hostname H failed"), as it does the verify
 * result and the alerts the broker sends (a broker that wants a client
 * certificate answers a connection without one with a fatal alert after
 * the handshake, which OpenSSL's error queue does not see). So a TLS
 * client has paho's trace at TRACE_PROTOCOL while it connects (back to
 * TRACE_ERROR once connected: the protocol level formats a line per
 * packet) and keeps those few facts of the attempt for tls_why(). The
 * trace callback is global to the process; trace_src is the one TLS
 * client it reports to (one MQTT client per process). Lock order:
 * trace_mu, then the source's mu; trace_mu is never taken with either of
 * the source's locks held.
 */
static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static struct mq_source *trace_src;

/* The text after prefix in line, up to stop (NULL: the end), into dst. */
static bool trace_field(const char *line, const char *prefix, const char *stop, char *dst,
			size_t size)
{
	const char *p = strstr(line, prefix), *e;
	char raw[128];
	size_t n;

	if (p == NULL)
		return false;
	p += strlen(prefix);
	e = stop != NULL ? strstr(p, stop) : NULL;
	n = e != NULL ? (size_t)(e - p) : strlen(p);
	if (n >= sizeof(raw))
		n = sizeof(raw) - 1;
	memcpy(raw, p, n);
	raw[n] = '\0';
	util_sanitize(dst, size, raw);
	return true;
}

static void on_trace(enum MQTTASYNC_TRACE_LEVELS level, char *line)
{
	struct tls_trace *t;
	char verify[96];

	(void)level;
	if (line == NULL)
		return;
	pthread_mutex_lock(&trace_mu);
	if (trace_src == NULL)
		goto out;
	pthread_mutex_lock(&trace_src->mu);
	t = &trace_src->trace;
	if (trace_field(line, "SSL certificate verification: ", NULL, verify, sizeof(verify)) &&
	    strcmp(verify, "X509_V_OK") != 0 && t->verify[0] == '\0')
		util_strlcpy(t->verify, verify, sizeof(t->verify));
	else if (t->host[0] == '\0')
		trace_field(line, "X509_check_host for hostname ", " failed", t->host, sizeof(t->host));
	if (strstr(line, "read server certificate request") != NULL)
		t->cert_requested = true;
	if (t->alert[0] == '\0')
		trace_field(line, "SSL alert read:fatal:", NULL, t->alert, sizeof(t->alert));
	pthread_mutex_unlock(&trace_src->mu);
out:
	pthread_mutex_unlock(&trace_mu);
}

static void trace_attach(struct mq_source *s)
{
	pthread_mutex_lock(&trace_mu);
	trace_src = s;
	pthread_mutex_unlock(&trace_mu);
	MQTTAsync_setTraceCallback(on_trace);
	MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
}

static void trace_detach(struct mq_source *s)
{
	pthread_mutex_lock(&trace_mu);
	if (trace_src == s)
		trace_src = NULL;
	pthread_mutex_unlock(&trace_mu);
	MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_ERROR);
}

/*
 * The largest packet an MQTT 5 broker may send us: payloads up to
 * PAYLOAD_MAX_BYTES with a topic and properties of up to 4 KiB. The broker
 * drops a larger message instead of sending it (MQTT 5, 3.1.2.11.4), so
 * paho never reads it whole into memory.
 */
#define MAX_PACKET_BYTES (PAYLOAD_MAX_BYTES + 4096)

/* Ask paho to connect (asynchronous). MQTTASYNC_SUCCESS or its error. */
static int connect_start(struct mq_source *s)
{
	MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
	MQTTAsync_connectOptions o5 = MQTTAsync_connectOptions_initializer5;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	MQTTProperties props = MQTTProperties_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	int rc;

	if (s->state_topic != NULL) {
		/* The Sparkplug host's death, sent by the broker if this
		 * connection is lost; its birth (connected()) has the same time. */
		s->state_ms = util_now_us() / 1000;
		free(s->will);
		s->will = sparkplug_state_payload(false, s->state_ms);
		will.topicName = s->state_topic;
		will.message = s->will;
		will.retained = 1;
		will.qos = 1;
	}
	if (s->v5) {
		MQTTProperty p;

		o = o5;
		/* A persistent session (clean_session = false with a fixed
		 * client_id) lets the broker keep QoS 1/2 messages while we are
		 * away; in MQTT 5 that is clean start off and a session that
		 * does not expire. */
		o.cleanstart = s->clean_session ? 1 : 0;
		o.onSuccess5 = on_connect_ok5;
		o.onFailure5 = on_connect_fail5;
		memset(&p, 0, sizeof(p));
		p.identifier = MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE;
		p.value.integer4 = MAX_PACKET_BYTES;
		MQTTProperties_add(&props, &p);
		if (!s->clean_session) {
			memset(&p, 0, sizeof(p));
			p.identifier = MQTTPROPERTY_CODE_SESSION_EXPIRY_INTERVAL;
			p.value.integer4 = 0xFFFFFFFFu;
			MQTTProperties_add(&props, &p);
		}
		o.connectProperties = &props;
	} else {
		o.cleansession = s->clean_session ? 1 : 0;
		o.onSuccess = on_connect_ok;
		o.onFailure = on_connect_fail;
	}
	o.keepAliveInterval = s->keepalive_s;
	o.connectTimeout = 10;
	o.automaticReconnect = 0;
	o.username = s->username;
	o.password = s->password;
	o.context = s;
	if (s->state_topic != NULL)
		o.will = &will;
	if (s->tls) {
		ssl.trustStore = s->ca_file;     /* NULL: the system's CAs */
		ssl.keyStore = s->cert_file;     /* NULL: no client certificate */
		ssl.privateKey = s->key_file;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;                  /* and the host name */
		ssl.ssl_error_cb = on_tls_error;
		ssl.ssl_error_context = s;
		o.ssl = &ssl;
		pthread_mutex_lock(&s->mu);
		s->tls_error[0] = '\0';
		memset(&s->trace, 0, sizeof(s->trace));
		pthread_mutex_unlock(&s->mu);
		MQTTAsync_setTraceLevel(MQTTASYNC_TRACE_PROTOCOL);
	}
	rc = MQTTAsync_connect(s->client, &o);
	MQTTProperties_free(&props);  /* paho keeps its own copy */
	return rc;
}

/* ---- ops ---------------------------------------------------------------- */

static bool has_string(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void mq_free(struct mq_source *s)
{
	size_t i, k;

	for (i = 0; i < s->nmeters; i++) {
		for (k = 0; k < s->meters[i].nfilters; k++)
			free(s->meters[i].filters[k]);
		free(s->meters[i].filters);
		free(s->meters[i].name);
	}
	free(s->meters);
	sparkplug_free(s->sp);
	for (i = 0; i < s->nsubs; i++)
		free(s->subs[i]);
	free(s->subs);
	free(s->subqos);
	free(s->buf);
	free(s->uri);
	free(s->alarm_prefix);
	free(s->client_id);
	free(s->state_topic);
	free(s->will);
	free(s->username);
	if (s->password != NULL)
		memset(s->password, 0, strlen(s->password));
	free(s->password);
	free(s->ca_file);
	free(s->cert_file);
	free(s->key_file);
	pthread_mutex_destroy(&s->cb_mu);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cond);
	free(s);
}

static void meter_init(struct mq_meter *m, const struct config_meter *cm, int index)
{
	m->index = index;
	m->name = util_strdup(cm->name);
	m->profile = cm->profile;
	m->period_us = (int64_t)(cm->poll_ms > 0 ? cm->poll_ms : DEFAULT_PERIOD_MS) * 1000;
	m->comm.status = COMM_UNKNOWN;
	m->comm.latency_us = -1;
}

static void add_sub(struct mq_source *s, char *sub, int qos)
{
	s->subs = util_reallocarray(s->subs, s->nsubs + 1, sizeof(*s->subs));
	s->subqos = util_reallocarray(s->subqos, s->nsubs + 1, sizeof(*s->subqos));
	s->subs[s->nsubs] = sub;
	s->subqos[s->nsubs++] = qos;
}

/* A sparkplug meter: its slot in s->meters is its id for s->sp. */
static void add_sparkplug_meter(struct mq_source *s, const struct config_meter *cm, int index)
{
	struct mq_meter *m = &s->meters[s->nmeters];

	meter_init(m, cm, index);
	m->sparkplug = true;
	if (s->sp == NULL)
		s->sp = sparkplug_new();
	sparkplug_add_meter(s->sp, (int)s->nmeters, (uint32_t)index, cm->sp_group, cm->sp_node,
			    cm->sp_device, cm->profile);
	s->nmeters++;
}

/*
 * spBv1.0/GROUP/# for each group, never through a share group: a host
 * checks every node's sequence, which a share of the messages would break.
 */
static void subscribe_sparkplug(struct mq_source *s)
{
	const char *const *groups;
	size_t i, n;

	groups = sparkplug_groups(s->sp, &n);
	for (i = 0; i < n; i++) {
		char *sub = util_printf("spBv1.0/%s/#", groups[i]);

		if (has_string(s->subs, s->nsubs, sub))
			free(sub);
		else
			add_sub(s, sub, s->qos);
	}
}

static struct source *mq_create(const struct config *cfg, struct queue *q, char **cause)
{
	struct mq_source *s;
	pthread_condattr_t ca;
	size_t i, k, n = 0, nmach = 0;
	const char *uri = cfg->mqtt.uri;

	*cause = NULL;
	for (i = 0; i < cfg->nmeters; i++)
		if (cfg->meters[i].driver == DRIVER_MQTT || cfg->meters[i].driver == DRIVER_SPARKPLUG)
			n++;
	/* Without MQTT meters the client still runs to share alarms. */
	for (i = 0; i < cfg->nmachines; i++)
		nmach += cfg->machines[i].topic != NULL;
	if (n == 0 && nmach == 0 &&
	    !(cfg->mqtt.enabled && cfg->mqtt.alarm_topic != NULL &&
	      cfg->mqtt.alarm_topic[0] != '\0'))
		return NULL;
	if (uri == NULL || uri[0] == '\0') {
		*cause = util_strdup("MQTT meters need [mqtt] uri");
		return NULL;
	}
	if (strncmp(uri, "tcp://", 6) != 0 && strncmp(uri, "ssl://", 6) != 0 &&
	    strncmp(uri, "mqtt://", 7) != 0 && strncmp(uri, "mqtts://", 8) != 0) {
		char shown[96];

		*cause = util_printf("[mqtt] uri %s: expected tcp://HOST:PORT or ssl://HOST:PORT",
				     util_sanitize(shown, sizeof(shown), uri));
		return NULL;
	}
	if (cfg->mqtt.share_group != NULL && strpbrk(cfg->mqtt.share_group, "/+#") != NULL) {
		char shown[64];

		*cause = util_printf("[mqtt] share_group '%s' may not hold '/', '+' or '#'",
				     util_sanitize(shown, sizeof(shown), cfg->mqtt.share_group));
		return NULL;
	}
	for (i = 0; i < cfg->nmeters; i++) {
		const struct config_meter *cm = &cfg->meters[i];

		if (cm->driver == DRIVER_SPARKPLUG &&
		    (cm->profile == NULL || cm->profile->driver != PROFILE_SPARKPLUG ||
		     cm->sp_group == NULL || cm->sp_node == NULL)) {
			*cause = util_printf("meter %s: needs a sparkplug profile, group and node",
					     cm->name);
			return NULL;
		}
		if (cm->driver != DRIVER_MQTT)
			continue;
		if (cm->profile == NULL || cm->profile->driver != PROFILE_MQTT) {
			*cause = util_printf("meter %s: no MQTT profile", cm->name);
			return NULL;
		}
		if (cm->ntopics == 0) {
			*cause = util_printf("meter %s: no topic", cm->name);
			return NULL;
		}
		for (k = 0; k < cm->ntopics; k++)
			if (!payload_filter_valid(cm->topics[k])) {
				char shown[128];

				*cause = util_printf("meter %s: invalid topic filter '%s'", cm->name,
						     util_sanitize(shown, sizeof(shown),
								   cm->topics[k]));
				return NULL;
			}
	}

	s = util_calloc(1, sizeof(*s));
	s->base.ops = &source_mqtt_ops;
	s->q = q;
	s->uri = util_strdup(uri);
	s->tls = strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0;
	if (cfg->mqtt.client_id != NULL && cfg->mqtt.client_id[0] != '\0') {
		s->client_id = util_strdup(cfg->mqtt.client_id);
	} else {
		char host[64] = "host";

		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		s->client_id = util_printf("phasor-%s-%ld", host, (long)getpid());
	}
	s->username = cfg->mqtt.username != NULL ? util_strdup(cfg->mqtt.username) : NULL;
	if (cfg->mqtt.sp_host_id != NULL)
		s->state_topic = sparkplug_state_topic(cfg->mqtt.sp_host_id);
	s->password = cfg->mqtt.password != NULL ? util_strdup(cfg->mqtt.password) : NULL;
	s->ca_file = cfg->mqtt.ca_file != NULL ? util_strdup(cfg->mqtt.ca_file) : NULL;
	s->cert_file = cfg->mqtt.cert_file != NULL ? util_strdup(cfg->mqtt.cert_file) : NULL;
	s->key_file = cfg->mqtt.key_file != NULL ? util_strdup(cfg->mqtt.key_file) : NULL;
	s->qos = cfg->mqtt.qos < 0 ? 0 : cfg->mqtt.qos > 2 ? 2 : cfg->mqtt.qos;
	s->keepalive_s = cfg->mqtt.keepalive_s > 0 ? cfg->mqtt.keepalive_s : 30;
	s->clean_session = cfg->mqtt.clean_session;
	s->v5 = cfg->mqtt.protocol != 4;

	s->meters = util_calloc(n ? n : 1, sizeof(*s->meters));
	if (cfg->mqtt.alarm_topic != NULL && cfg->mqtt.alarm_topic[0] != '\0') {
		/* Never through a share group: every console needs every event. */
		s->alarm_prefix = util_printf("%s/", cfg->mqtt.alarm_topic);
		add_sub(s, util_printf("%s/#", cfg->mqtt.alarm_topic), 1);
	}
	for (i = 0; i < cfg->nmeters; i++) {
		const struct config_meter *cm = &cfg->meters[i];
		struct mq_meter *m;
		size_t need;

		if (cm->driver == DRIVER_SPARKPLUG) {
			add_sparkplug_meter(s, cm, (int)i);
			continue;
		}
		if (cm->driver != DRIVER_MQTT)
			continue;
		m = &s->meters[s->nmeters++];
		meter_init(m, cm, (int)i);
		m->filters = util_calloc(cm->ntopics, sizeof(*m->filters));
		for (k = 0; k < cm->ntopics; k++) {
			const char *f = cm->topics[k];
			char *sub;

			m->filters[m->nfilters++] = util_strdup(f);
			if (cfg->mqtt.share_group != NULL && cfg->mqtt.share_group[0] != '\0' &&
			    strncmp(f, "$share/", 7) != 0)
				sub = util_printf("$share/%s/%s", cfg->mqtt.share_group, f);
			else
				sub = util_strdup(f);
			if (has_string(s->subs, s->nsubs, sub)) {
				free(sub);
				continue;
			}
			add_sub(s, sub, s->qos);
		}
		/* a field gives at most three samples */
		need = m->profile->nfields * 3;
		if (need > s->bufcap)
			s->bufcap = need;
	}
	for (i = 0; i < cfg->nmachines; i++) {
		const char *f = cfg->machines[i].topic;
		char *sub;

		if (f == NULL)
			continue; /* a modbus machine */
		if (cfg->mqtt.share_group != NULL && cfg->mqtt.share_group[0] != '\0')
			sub = util_printf("$share/%s/%s", cfg->mqtt.share_group, f);
		else
			sub = util_strdup(f);
		if (has_string(s->subs, s->nsubs, sub))
			free(sub);
		else
			add_sub(s, sub, s->qos);
	}
	if (s->sp != NULL)
		subscribe_sparkplug(s);
	if (s->bufcap == 0)
		s->bufcap = 1;
	s->buf = util_calloc(s->bufcap, sizeof(*s->buf));

	pthread_mutex_init(&s->cb_mu, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->state = LINK_IDLE;
	s->since_us = util_now_us();
	s->backoff_us = BACKOFF_MIN_US;
	s->rng = (uint64_t)util_mono_us() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s;
	if (s->rng == 0)
		s->rng = 0x9e3779b97f4a7c15ULL;
	return &s->base;
}

static int mq_start(struct source *src, char **cause)
{
	struct mq_source *s = to_mq(src);
	MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
	char shown[96];
	int rc;

	*cause = NULL;
	co.MQTTVersion = s->v5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
	rc = MQTTAsync_createWithOptions(&s->client, s->uri, s->client_id,
					 MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTASYNC_SUCCESS) {
		*cause = util_printf("MQTT client for %s: %s", util_sanitize(shown, sizeof(shown), s->uri),
				     MQTTAsync_strerror(rc));
		return -1;
	}
	s->created = true;
	if (s->tls)
		trace_attach(s);
	rc = MQTTAsync_setCallbacks(s->client, s, on_connection_lost, on_message, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		*cause = util_printf("MQTT callbacks: %s", MQTTAsync_strerror(rc));
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	s->state = LINK_CONNECTING;
	s->since_us = util_now_us();
	pthread_mutex_unlock(&s->mu);
	log_info("mqtt %s: connecting as %s, %zu subscription(s)", s->uri, s->client_id, s->nsubs);
	rc = connect_start(s);
	if (rc != MQTTASYNC_SUCCESS) {
		pthread_mutex_lock(&s->mu);
		s->state = LINK_DOWN;
		copy_sanitized(s->error, sizeof(s->error), "%s", MQTTAsync_strerror(rc));
		pthread_mutex_unlock(&s->mu);
		*cause = util_printf("MQTT connect to %s: %s", util_sanitize(shown, sizeof(shown), s->uri),
				     MQTTAsync_strerror(rc));
		return -1;
	}
	return 0;
}

static void mq_stop(struct source *src)
{
	struct mq_source *s = to_mq(src);
	bool was_up;

	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	s->stopping = true;
	was_up = s->state == LINK_UP;
	pthread_mutex_unlock(&s->mu);

	if (s->created && MQTTAsync_isConnected(s->client)) {
		MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;

		/* A clean stop: the host's death now, as the will would have
		 * said it; the disconnect waits for it to be delivered. */
		if (s->state_topic != NULL)
			publish_state(s, false);
		d.timeout = STOP_TIMEOUT_MS;
		if (s->v5) {
			d.onSuccess5 = on_disconnect_ok5;
			d.onFailure5 = on_disconnect_fail5;
		} else {
			d.onSuccess = on_disconnect_ok;
			d.onFailure = on_disconnect_fail;
		}
		d.context = s;
		if (MQTTAsync_disconnect(s->client, &d) == MQTTASYNC_SUCCESS) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += STOP_TIMEOUT_MS / 1000 + 1;
			pthread_mutex_lock(&s->mu);
			while (!s->disconnected)
				if (pthread_cond_timedwait(&s->cond, &s->mu, &ts) == ETIMEDOUT)
					break;
			pthread_mutex_unlock(&s->mu);
		}
	}

	pthread_mutex_lock(&s->cb_mu);
	if (was_up) {
		struct source_msg *m = source_msg_event(&s->base, -1, util_now_us(), "disconnect",
							"disconnected from %s (stop)", s->uri);

		/* the hub thread is the consumer: never wait here */
		if (queue_push(s->q, m, 0) != 0) {
			free(m);
			pthread_mutex_lock(&s->mu);
			s->dropped++;
			pthread_mutex_unlock(&s->mu);
		}
	}
	s->stopped = true;
	pthread_mutex_unlock(&s->cb_mu);

	pthread_mutex_lock(&s->mu);
	s->state = LINK_IDLE;
	s->since_us = util_now_us();
	pthread_mutex_unlock(&s->mu);
	log_info("mqtt %s: stopped", s->uri);
}

static bool meter_matches(const struct mq_meter *m, const char *topic)
{
	size_t k;

	for (k = 0; k < m->nfilters; k++)
		if (payload_topic_matches(m->filters[k], topic))
			return true;
	return false;
}

static void send_status(struct mq_meter *m, const struct source_sink *sink, int64_t now_us)
{
	m->dirty = false;
	m->sent_us = now_us;
	if (sink != NULL && sink->status != NULL)
		sink->status(sink->ctx, m->index, &m->comm);
}

static int publish_bytes(struct mq_source *s, const char *topic, const void *payload, size_t len,
			 int qos, bool retained);

/* A meter had a good message at t_us (hub thread). */
static void meter_good(struct mq_meter *m, int64_t t_us, bool up, const struct source_sink *sink)
{
	m->comm.messages++;
	if (t_us > m->comm.last_good_us)
		m->comm.last_good_us = t_us;
	m->dirty = true;
	if (up && m->comm.status != COMM_OK) {
		m->comm.status = COMM_OK;
		m->comm.error[0] = '\0';
		send_status(m, sink, util_now_us());
	}
}

/* What the Sparkplug host state asks while it decodes one message. */
struct sp_call {
	struct mq_source *s;
	int64_t t_us;                 /* the message's time of receipt */
	const struct source_sink *sink;
	bool up;
};

static void sp_samples(void *ctx, int id, const struct sample *smp, size_t n)
{
	struct sp_call *c = ctx;

	if (c->sink != NULL && c->sink->samples != NULL)
		c->sink->samples(c->sink->ctx, smp, n);
	meter_good(&c->s->meters[id], c->t_us, c->up, c->sink);
}

static void sp_state(void *ctx, int id, bool alive, const char *why)
{
	struct sp_call *c = ctx;
	struct mq_meter *m = &c->s->meters[id];

	if (alive) {
		m->dead = NULL;
		meter_good(m, c->t_us, c->up, c->sink);
		return;
	}
	m->dead = why;
	m->comm.last_error_us = c->t_us;
	if (m->comm.status != COMM_DOWN || strcmp(m->comm.error, why) != 0) {
		m->comm.status = COMM_DOWN;
		util_strlcpy(m->comm.error, why, sizeof(m->comm.error));
		send_status(m, c->sink, util_now_us());
	}
}

static void sp_event(void *ctx, const char *what, const char *text)
{
	struct sp_call *c = ctx;

	log_warn("sparkplug: %s", text);
	if (c->sink != NULL && c->sink->event != NULL)
		c->sink->event(c->sink->ctx, -1, c->t_us, what, text);
}

static void sp_rebirth(void *ctx, const char *topic)
{
	struct sp_call *c = ctx;
	size_t len;
	uint8_t *buf = sparkplug_rebirth_payload(util_now_us(), &len);
	char shown[128];

	/* QoS 0, not retained: the specification's NCMD */
	if (publish_bytes(c->s, topic, buf, len, 0, false) == 0) {
		c->s->rebirths++;
		log_info("sparkplug: rebirth requested on %s",
			 util_sanitize(shown, sizeof(shown), topic));
	} else {
		log_warn("sparkplug: cannot publish the rebirth request on %s",
			 util_sanitize(shown, sizeof(shown), topic));
	}
	free(buf);
}

static const struct sparkplug_out *sp_out(struct sp_call *call, struct sparkplug_out *out)
{
	out->ctx = call;
	out->samples = sp_samples;
	out->state = sp_state;
	out->event = sp_event;
	out->rebirth = sp_rebirth;
	return out;
}

/* A message in the spBv1.0 namespace, for the sparkplug meters. */
static void sp_decode(struct mq_source *s, const struct source_msg *msg, bool up,
		      const struct source_sink *sink)
{
	struct sp_call call = { .s = s, .t_us = msg->t_us, .sink = sink, .up = up };
	struct sparkplug_out out;
	enum payload_status st;
	char err[160], shown[128];

	st = sparkplug_decode(s->sp, source_msg_raw_topic(msg), source_msg_raw_payload(msg),
			      msg->u.raw.len, msg->t_us, msg->u.raw.replayed, sp_out(&call, &out),
			      err, sizeof(err));
	if (st != PAYLOAD_OK && st != PAYLOAD_UNKNOWN_TOPIC) {
		util_sanitize(shown, sizeof(shown), source_msg_raw_topic(msg));
		if (msg->t_us - s->unknown_warned_us >= WARN_EVERY_US) {
			s->unknown_warned_us = msg->t_us;
			log_warn("sparkplug: message on %s rejected: %s: %s", shown,
				 payload_status_name(st), err);
		} else {
			log_debug("sparkplug: message on %s rejected: %s: %s", shown,
				  payload_status_name(st), err);
		}
	} else if (err[0] != '\0') {
		/* used, with a remark: a stale NDEATH, some unknown aliases */
		log_debug("sparkplug: message on %s: %s",
			  util_sanitize(shown, sizeof(shown), source_msg_raw_topic(msg)), err);
	}
	if (msg->u.raw.replayed)
		return;
	pthread_mutex_lock(&s->mu);
	if (st == PAYLOAD_OK)
		s->accepted++;
	else
		s->rejected[st]++;
	pthread_mutex_unlock(&s->mu);
}

static void mq_decode(struct source *src, const struct source_msg *msg,
		      const struct source_sink *sink)
{
	struct mq_source *s = to_mq(src);
	const char *topic, *payload;
	enum payload_status first_fail = PAYLOAD_OK;
	size_t i, matched = 0;
	bool ok = false, up;
	char shown[128];

	if (msg->kind != MSG_RAW)
		return;
	topic = source_msg_raw_topic(msg);
	payload = source_msg_raw_payload(msg);
	if (s->alarm_prefix != NULL && strncmp(topic, s->alarm_prefix, strlen(s->alarm_prefix)) == 0) {
		/* Another console's alarm event (or our own coming back). */
		if (!msg->u.raw.replayed) {
			pthread_mutex_lock(&s->mu);
			s->alarm_msgs++;
			pthread_mutex_unlock(&s->mu);
		}
		if (sink != NULL && sink->alarm != NULL)
			sink->alarm(sink->ctx, topic, payload, msg->u.raw.len, msg->t_us);
		return;
	}
	pthread_mutex_lock(&s->mu);
	up = s->state == LINK_UP;
	pthread_mutex_unlock(&s->mu);
	if (s->sp != NULL && sparkplug_topic(topic)) {
		sp_decode(s, msg, up, sink);
		return;
	}

	if (sink != NULL && sink->machine != NULL) {
		int st = sink->machine(sink->ctx, topic, payload, msg->u.raw.len, msg->t_us);

		if (st >= 0) {
			matched++;
			if (st == PAYLOAD_OK)
				ok = true;
			else
				first_fail = (enum payload_status)st;
		}
	}
	for (i = 0; i < s->nmeters; i++) {
		struct mq_meter *m = &s->meters[i];
		enum payload_status st;
		char err[128];
		size_t n = 0;

		if (!meter_matches(m, topic))
			continue;
		matched++;
		st = payload_decode(m->profile, topic, payload, msg->u.raw.len, (uint32_t)m->index,
				    msg->t_us, s->buf, s->bufcap, &n, err, sizeof(err));
		if (st == PAYLOAD_OK) {
			ok = true;
			if (n > 0 && sink != NULL && sink->samples != NULL)
				sink->samples(sink->ctx, s->buf, n);
			meter_good(m, msg->t_us, up, sink);
			continue;
		}
		if (first_fail == PAYLOAD_OK)
			first_fail = st;
		m->comm.rejected++;
		m->comm.last_error_us = msg->t_us;
		copy_sanitized(m->comm.error, sizeof(m->comm.error), "%s: %s",
			       payload_status_name(st), err);
		m->dirty = true;
		util_sanitize(shown, sizeof(shown), topic);
		if (msg->t_us - m->warned_us >= WARN_EVERY_US) {
			m->warned_us = msg->t_us;
			log_warn("mqtt meter %s: message on %s rejected: %s: %s (further rejects "
				 "logged at debug level for a minute)",
				 m->name, shown, payload_status_name(st), err);
		} else {
			log_debug("mqtt meter %s: message on %s rejected: %s: %s", m->name, shown,
				  payload_status_name(st), err);
		}
	}

	pthread_mutex_lock(&s->mu);
	if (msg->u.raw.replayed)
		; /* counted by the intake journal (decoded again), not received here */
	else if (matched == 0)
		s->rejected[PAYLOAD_UNKNOWN_TOPIC]++;
	else if (ok)
		s->accepted++;
	else
		s->rejected[first_fail]++;
	pthread_mutex_unlock(&s->mu);

	if (matched == 0) {
		util_sanitize(shown, sizeof(shown), topic);
		if (msg->t_us - s->unknown_warned_us >= WARN_EVERY_US) {
			s->unknown_warned_us = msg->t_us;
			log_warn("mqtt %s: message on %s matches no meter", s->uri, shown);
		} else {
			log_debug("mqtt %s: message on %s matches no meter", s->uri, shown);
		}
	}
}

/* A meter's state from the broker's and its last message's. */
static enum comm_status meter_eval(const struct mq_meter *m, enum link_state link,
				   bool failed, const char *link_err, int64_t up_us,
				   int64_t now_us, char *err, size_t errlen)
{
	int64_t age;

	err[0] = '\0';
	if (link != LINK_UP) {
		if (!failed)
			return COMM_UNKNOWN;  /* the first connect is under way */
		copy_sanitized(err, errlen, "broker: %s", link_err[0] != '\0' ? link_err : "down");
		return COMM_DOWN;
	}
	if (m->dead != NULL) {
		/* a Sparkplug death certificate: down until the next birth */
		util_strlcpy(err, m->dead, errlen);
		return COMM_DOWN;
	}
	if (m->comm.last_good_us == 0) {
		if (now_us - up_us > DOWN_PERIODS * m->period_us) {
			util_strlcpy(err, "no message", errlen);
			return COMM_DOWN;
		}
		return COMM_UNKNOWN;
	}
	age = now_us - m->comm.last_good_us;
	if (age > STALE_PERIODS * m->period_us)
		snprintf(err, errlen, "no message for %lld s", (long long)(age / 1000000));
	if (age > DOWN_PERIODS * m->period_us)
		return COMM_DOWN;
	if (age > STALE_PERIODS * m->period_us)
		return COMM_STALE;
	return COMM_OK;
}

static void mq_tick(struct source *src, int64_t now_us, const struct source_sink *sink)
{
	struct mq_source *s = to_mq(src);
	enum link_state link;
	char link_err[160];
	int64_t up_us;
	bool failed, retry = false, online;
	size_t i;

	pthread_mutex_lock(&s->mu);
	if (s->state == LINK_DOWN && !s->stopping && s->created &&
	    util_mono_us() >= s->retry_at_mono) {
		source_link_move(&s->state, &s->since_us, LINK_CONNECTING, util_now_us());
		s->reconnects++;
		retry = true;
	}
	pthread_mutex_unlock(&s->mu);

	if (retry) {
		int rc;

		log_debug("mqtt %s: reconnecting", s->uri);
		rc = connect_start(s);
		if (rc != MQTTASYNC_SUCCESS) {
			char why[160];

			copy_sanitized(why, sizeof(why), "connect: %s", MQTTAsync_strerror(rc));
			pthread_mutex_lock(&s->mu);
			if (s->state == LINK_CONNECTING) {
				source_link_move(&s->state, &s->since_us, LINK_DOWN, util_now_us());
				util_strlcpy(s->error, why, sizeof(s->error));
				schedule_retry(s);
			}
			pthread_mutex_unlock(&s->mu);
			log_warn("mqtt %s: %s", s->uri, why);
			if (sink != NULL && sink->event != NULL)
				sink->event(sink->ctx, -1, util_now_us(), "error", why);
		}
	}

	pthread_mutex_lock(&s->mu);
	online = s->sp_online && s->state == LINK_UP && !s->stopping;
	s->sp_online = false;
	link = s->stopping ? LINK_DOWN : s->state;
	failed = s->failed || s->stopping;
	util_strlcpy(link_err, s->stopping ? "stopped" : s->error, sizeof(link_err));
	up_us = s->up_us;
	pthread_mutex_unlock(&s->mu);

	if (online) {
		/* Births published before we listened are lost to us: ask. */
		struct sp_call call = { .s = s, .t_us = now_us, .sink = sink, .up = true };
		struct sparkplug_out out;

		sparkplug_online(s->sp, now_us, sp_out(&call, &out));
	}

	for (i = 0; i < s->nmeters; i++) {
		struct mq_meter *m = &s->meters[i];
		char err[160];
		enum comm_status st = meter_eval(m, link, failed, link_err, up_us, now_us, err,
						 sizeof(err));

		if (st != m->comm.status) {
			m->comm.status = st;
			util_strlcpy(m->comm.error, err, sizeof(m->comm.error));
			if (st == COMM_STALE || st == COMM_DOWN)
				m->comm.last_error_us = now_us;
			send_status(m, sink, now_us);
			continue;
		}
		/* same state: refresh counters and the error text at most once a
		 * second */
		if (err[0] != '\0' && strcmp(err, m->comm.error) != 0) {
			util_strlcpy(m->comm.error, err, sizeof(m->comm.error));
			m->dirty = true;
		}
		if (m->dirty && now_us - m->sent_us >= REFRESH_EVERY_US)
			send_status(m, sink, now_us);
	}
}

static size_t mq_links(struct source *src, struct source_link *out, size_t max)
{
	struct mq_source *s = to_mq(src);
	struct source_link *l;
	size_t i;

	if (max < 1 || out == NULL)
		return 1;
	l = &out[0];
	memset(l, 0, sizeof(*l));
	util_sanitize(l->name, sizeof(l->name), s->uri);
	l->driver = "mqtt";
	l->nmeters = s->nmeters;
	l->latency_us = -1;
	pthread_mutex_lock(&s->mu);
	l->state = s->state;
	util_strlcpy(l->error, s->error, sizeof(l->error));
	l->since_us = s->since_us;
	l->reconnects = s->reconnects;
	l->received = s->received;
	l->accepted = s->accepted;
	l->alarm_msgs = s->alarm_msgs;
	l->undecoded = s->undecoded;
	for (i = 0; i < UTIL_ARRAY_LEN(l->rejected); i++)
		l->rejected[i] = s->rejected[i];
	l->dropped = s->dropped;
	pthread_mutex_unlock(&s->mu);
	l->journal_slot = -1;
	if (s->intake != NULL) {
		struct intake_stats is;

		intake_get_stats(s->intake, &is);
		l->journal_slot = is.slot;
		l->journaled = is.appended;
		l->replayed = is.replayed;
		l->duplicates = is.duplicates;
		l->journal_errors = is.errors;
	}
	return 1;
}

static void mq_destroy(struct source *src)
{
	struct mq_source *s = to_mq(src);

	if (s == NULL)
		return;
	mq_stop(src);
	if (s->created)
		MQTTAsync_destroy(&s->client);
	trace_detach(s);
	/* a callback that was running when paho let go of the client has left
	 * both locks before these return */
	pthread_mutex_lock(&s->cb_mu);
	pthread_mutex_unlock(&s->cb_mu);
	pthread_mutex_lock(&s->mu);
	pthread_mutex_unlock(&s->mu);
	mq_free(s);
}

void source_mqtt_set_intake(struct source *src, struct intake *in)
{
	if (src == NULL || src->ops != &source_mqtt_ops)
		return;
	to_mq(src)->intake = in;
}

int source_mqtt_publish(struct source *src, const char *topic, const char *payload, int qos,
			bool retained)
{
	if (src == NULL || src->ops != &source_mqtt_ops)
		return -1;
	return publish_bytes(to_mq(src), topic, payload, strlen(payload), qos, retained);
}

static int publish_bytes(struct mq_source *s, const char *topic, const void *payload, size_t len,
			 int qos, bool retained)
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	int rc;

	if (!s->created || s->stopping || !MQTTAsync_isConnected(s->client))
		return -1;
	m.payload = (void *)(uintptr_t)payload;
	m.payloadlen = (int)len;
	m.qos = qos;
	m.retained = retained;
	/* Queued by paho and sent from its thread: never waits on the network. */
	rc = MQTTAsync_sendMessage(s->client, topic, &m, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		log_debug("mqtt %s: publish on %s: %s", s->uri, topic, MQTTAsync_strerror(rc));
		return -1;
	}
	return 0;
}

const struct source_ops source_mqtt_ops = {
	.name = "mqtt",
	.create = mq_create,
	.start = mq_start,
	.stop = mq_stop,
	.decode = mq_decode,
	.tick = mq_tick,
	.links = mq_links,
	.destroy = mq_destroy,
};
