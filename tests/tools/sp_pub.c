// SPDX-License-Identifier: MIT
/*
 * sp_pub: a Sparkplug B edge node for tests (paho MQTTAsync + protobuf-c,
 * the payload of proto/sparkplug_b.proto). It connects to the broker with
 * its NDEATH (bdSeq) as the will, subscribes to its NCMD topic, and runs a
 * script, one command a line, from the arguments after the options or
 * from stdin when there is none:
 *
 *   NBIRTH [seq=N] [ts=MS] METRIC...       the sequence restarts at 0
 *   NDATA  [seq=N] [ts=MS] METRIC...
 *   DBIRTH dev=D [seq=N] [ts=MS] METRIC...
 *   DDATA  dev=D [seq=N] [ts=MS] METRIC...
 *   DDEATH dev=D [seq=N]
 *   NDEATH [bdseq=N]                       published by the node itself
 *   RAW TYPE [dev=D] HEX                   any bytes (a malformed payload)
 *   sleep MS
 *   wait-rebirth MS                        wait for an NCMD "Node Control/Rebirth"
 *                                          = true received since the last message
 *                                          sent (exit 3 if none comes)
 *   kill                                   exit at once without DISCONNECT:
 *                                          the broker publishes the will
 *
 * METRIC is a comma list of key=value: name=N (%XX escapes, e.g. %20),
 * alias=A, type=int8|int16|int32|int64|uint8|uint16|uint32|uint64|float|
 * double|boolean|string, value=V, ts=MS, null=1. Without seq= a message
 * carries the next sequence number (0..255, wrapping). Prints "ready" once
 * connected and subscribed, before the script runs. Exit 0 on success,
 * 2 on a bad script, 1 on a broker error.
 *
 *   sp_pub --broker tcp://127.0.0.1:1883 --group G --node N [--bdseq N] [LINE...]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>

#include "sparkplug_b.pb-c.h"

typedef Phasor__Sparkplug__Payload Payload;
typedef Phasor__Sparkplug__Payload__Metric Metric;

static MQTTAsync client;
static const char *group, *node;
static uint64_t bdseq;
static int seq;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int connected;      /* 1 ok, -1 failed */
static int subscribed;
static int rebirths;       /* NCMD rebirth requests received */
static int rebirths_sent;  /* rebirths when the last message was sent */

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sp_pub: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static void set_flag(int *flag, int v)
{
	pthread_mutex_lock(&mu);
	*flag = v;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&mu);
}

/* Wait until *flag is non-zero, ms at most; its value. */
static int wait_flag(int *flag, long ms)
{
	struct timespec ts;
	int v;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&mu);
	while (*flag == 0)
		if (pthread_cond_timedwait(&cond, &mu, &ts) == ETIMEDOUT)
			break;
	v = *flag;
	pthread_mutex_unlock(&mu);
	return v;
}

static int on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
	Payload *pl = phasor__sparkplug__payload__unpack(NULL, (size_t)m->payloadlen, m->payload);
	size_t i;

	(void)ctx;
	(void)tlen;
	for (i = 0; pl != NULL && i < pl->n_metrics; i++) {
		const Metric *mt = pl->metrics[i];

		if (mt->name != NULL && strcmp(mt->name, "Node Control/Rebirth") == 0 &&
		    mt->value_case == PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE &&
		    mt->boolean_value) {
			pthread_mutex_lock(&mu);
			rebirths++;
			pthread_cond_broadcast(&cond);
			pthread_mutex_unlock(&mu);
			printf("rebirth requested on %s\n", topic);
			fflush(stdout);
		}
	}
	if (pl != NULL)
		phasor__sparkplug__payload__free_unpacked(pl, NULL);
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

/* A connect or subscribe answer: ctx is the flag to set. */
static void on_ok(void *ctx, MQTTAsync_successData *r)
{
	(void)r;
	set_flag(ctx, 1);
}

static void on_fail(void *ctx, MQTTAsync_failureData *r)
{
	(void)r;
	set_flag(ctx, -1);
}

static uint8_t *pack(Payload *pl, size_t *len)
{
	uint8_t *buf;

	*len = phasor__sparkplug__payload__get_packed_size(pl);
	buf = malloc(*len ? *len : 1);
	if (buf == NULL)
		die(1, "%s", "out of memory");
	phasor__sparkplug__payload__pack(pl, buf);
	return buf;
}

static void publish(const char *type, const char *device, const void *buf, size_t len)
{
	MQTTAsync_message m = MQTTAsync_message_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	char topic[512];
	int rc;

	if (device != NULL)
		snprintf(topic, sizeof(topic), "spBv1.0/%s/%s/%s/%s", group, type, node, device);
	else
		snprintf(topic, sizeof(topic), "spBv1.0/%s/%s/%s", group, type, node);
	m.payload = (void *)(uintptr_t)buf;
	m.payloadlen = (int)len;
	m.qos = 1;
	pthread_mutex_lock(&mu);
	rebirths_sent = rebirths;
	pthread_mutex_unlock(&mu);
	rc = MQTTAsync_sendMessage(client, topic, &m, &ro);
	if (rc == MQTTASYNC_SUCCESS)
		rc = MQTTAsync_waitForCompletion(client, ro.token, 5000);
	if (rc != MQTTASYNC_SUCCESS)
		die(1, "publish on %s failed", topic);
}

static void unescape(char *s)
{
	char *w = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] != '\0' && s[2] != '\0') {
			char hex[3] = { s[1], s[2], '\0' };

			*w++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static const struct {
	const char *name;
	uint32_t type;
} types[] = {
	{ "int8", 1 },	 { "int16", 2 },   { "int32", 3 },  { "int64", 4 },
	{ "uint8", 5 },	 { "uint16", 6 },  { "uint32", 7 }, { "uint64", 8 },
	{ "float", 9 },	 { "double", 10 }, { "boolean", 11 }, { "string", 12 },
};

/* The value of m from text, by its data type. */
static void set_value(Metric *m, const char *v)
{
	switch (m->datatype) {
	case 1: case 2: case 3:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_INT_VALUE;
		m->int_value = (uint32_t)(int32_t)strtol(v, NULL, 10);
		break;
	case 5: case 6: case 7:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_INT_VALUE;
		m->int_value = (uint32_t)strtoul(v, NULL, 10);
		break;
	case 4:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE;
		m->long_value = (uint64_t)strtoll(v, NULL, 10);
		break;
	case 8:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE;
		m->long_value = strtoull(v, NULL, 10);
		break;
	case 9:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_FLOAT_VALUE;
		m->float_value = strtof(v, NULL);
		break;
	case 11:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE;
		m->boolean_value = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
		break;
	case 12:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_STRING_VALUE;
		m->string_value = (char *)(uintptr_t)v;
		break;
	default:
		m->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE;
		m->double_value = strtod(v, NULL);
		break;
	}
}

/* One METRIC token (modified in place) into m. */
static void parse_metric(char *tok, Metric *m)
{
	char *value = NULL, *kv, *save = NULL;
	size_t i;

	phasor__sparkplug__payload__metric__init(m);
	for (kv = strtok_r(tok, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL)
			die(2, "metric item '%s' is not key=value", kv);
		*eq++ = '\0';
		if (strcmp(kv, "name") == 0) {
			unescape(eq);
			m->name = eq;
		} else if (strcmp(kv, "alias") == 0) {
			m->has_alias = 1;
			m->alias = strtoull(eq, NULL, 10);
		} else if (strcmp(kv, "type") == 0) {
			for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
				if (strcmp(types[i].name, eq) == 0)
					break;
			if (i == sizeof(types) / sizeof(types[0]))
				die(2, "unknown type %s", eq);
			m->has_datatype = 1;
			m->datatype = types[i].type;
		} else if (strcmp(kv, "value") == 0) {
			value = eq;
		} else if (strcmp(kv, "ts") == 0) {
			m->has_timestamp = 1;
			m->timestamp = strtoull(eq, NULL, 10);
		} else if (strcmp(kv, "null") == 0) {
			m->has_is_null = 1;
			m->is_null = strcmp(eq, "1") == 0;
		} else {
			die(2, "unknown metric key %s", kv);
		}
	}
	if (value != NULL)
		set_value(m, value);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void run_raw(char **tok, size_t n)
{
	const char *device = NULL, *hex;
	uint8_t buf[4096];
	size_t i, k = 2, len = 0;

	if (n < 3)
		die(2, "%s", "RAW TYPE [dev=D] HEX");
	if (strncmp(tok[2], "dev=", 4) == 0) {
		device = tok[2] + 4;
		k = 3;
	}
	if (k >= n)
		die(2, "%s", "RAW needs HEX");
	hex = tok[k];
	for (i = 0; hex[i] != '\0' && hex[i + 1] != '\0' && len < sizeof(buf); i += 2) {
		int hi = hexval(hex[i]), lo = hexval(hex[i + 1]);

		if (hi < 0 || lo < 0)
			die(2, "bad hex %s", hex);
		buf[len++] = (uint8_t)(hi * 16 + lo);
	}
	publish(tok[1], device, buf, len);
}

/* A birth, data or death message from its tokens. */
static void run_message(char **tok, size_t n)
{
	Payload pl = PHASOR__SPARKPLUG__PAYLOAD__INIT;
	Metric *ms = calloc(n + 1, sizeof(*ms));
	Metric **mp = calloc(n + 1, sizeof(*mp));
	const char *type = tok[0], *device = NULL;
	bool nbirth = strcmp(type, "NBIRTH") == 0, ndeath = strcmp(type, "NDEATH") == 0;
	bool have_seq = false;
	uint64_t bd = bdseq;
	uint8_t *buf;
	size_t i, len;

	if (ms == NULL || mp == NULL)
		die(1, "%s", "out of memory");
	pl.has_timestamp = 1;
	pl.timestamp = now_ms();
	for (i = 1; i < n; i++) {
		if (strncmp(tok[i], "dev=", 4) == 0) {
			device = tok[i] + 4;
		} else if (strncmp(tok[i], "seq=", 4) == 0) {
			have_seq = true;
			seq = atoi(tok[i] + 4);
		} else if (strncmp(tok[i], "ts=", 3) == 0) {
			pl.timestamp = strtoull(tok[i] + 3, NULL, 10);
		} else if (strncmp(tok[i], "bdseq=", 6) == 0) {
			bd = strtoull(tok[i] + 6, NULL, 10);
		} else {
			parse_metric(tok[i], &ms[pl.n_metrics]);
			mp[pl.n_metrics] = &ms[pl.n_metrics];
			pl.n_metrics++;
		}
	}
	if ((type[0] == 'D') != (device != NULL))
		die(2, "%s: dev= is for device messages only, and needed by them", type);
	if (nbirth && !have_seq)
		seq = 0;
	if (nbirth || ndeath) {
		/* the birth and the death carry the session's bdSeq */
		Metric *b = &ms[pl.n_metrics];

		phasor__sparkplug__payload__metric__init(b);
		b->name = (char *)(uintptr_t)"bdSeq";
		b->has_datatype = 1;
		b->datatype = 8;
		b->value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE;
		b->long_value = bd;
		mp[pl.n_metrics++] = b;
	}
	pl.metrics = mp;
	if (!ndeath) {
		pl.has_seq = 1;
		pl.seq = (uint64_t)(seq & 0xff);
		seq = (seq + 1) & 0xff;
	}
	buf = pack(&pl, &len);
	publish(type, device, buf, len);
	free(buf);
	free(ms);
	free(mp);
}

static void run_line(char *line)
{
	char *tok[256], *save = NULL, *t;
	size_t n = 0;

	for (t = strtok_r(line, " \t\r\n", &save); t != NULL && n < 256;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (n == 0 || tok[0][0] == '#')
		return;
	if (strcmp(tok[0], "sleep") == 0 && n == 2) {
		usleep((useconds_t)atol(tok[1]) * 1000);
	} else if (strcmp(tok[0], "wait-rebirth") == 0 && n == 2) {
		int before = rebirths_sent; /* one asked for since the last message */
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			long left;

			clock_gettime(CLOCK_MONOTONIC, &t1);
			left = atol(tok[1]) - (t1.tv_sec - t0.tv_sec) * 1000 -
			       (t1.tv_nsec - t0.tv_nsec) / 1000000;
			pthread_mutex_lock(&mu);
			n = (size_t)rebirths;
			pthread_mutex_unlock(&mu);
			if ((int)n > before)
				break;
			if (left <= 0) {
				fprintf(stderr, "sp_pub: no rebirth request came\n");
				exit(3);
			}
			usleep(20000);
		}
	} else if (strcmp(tok[0], "kill") == 0) {
		fflush(stdout);
		_exit(0);
	} else if (strcmp(tok[0], "RAW") == 0) {
		run_raw(tok, n);
	} else if (strcmp(tok[0], "NBIRTH") == 0 || strcmp(tok[0], "NDATA") == 0 ||
		   strcmp(tok[0], "NDEATH") == 0 || strcmp(tok[0], "DBIRTH") == 0 ||
		   strcmp(tok[0], "DDATA") == 0 || strcmp(tok[0], "DDEATH") == 0) {
		run_message(tok, n);
	} else {
		die(2, "unknown command %s", tok[0]);
	}
}

int main(int argc, char **argv)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
	MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
	const char *broker = NULL;
	char id[128], topic[512], line[8192];
	Payload death = PHASOR__SPARKPLUG__PAYLOAD__INIT;
	Metric bm = PHASOR__SPARKPLUG__PAYLOAD__METRIC__INIT, *bmp = &bm;
	uint8_t *wbuf;
	size_t wlen;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--broker") == 0 && i + 1 < argc)
			broker = argv[++i];
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			group = argv[++i];
		else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc)
			node = argv[++i];
		else if (strcmp(argv[i], "--bdseq") == 0 && i + 1 < argc)
			bdseq = strtoull(argv[++i], NULL, 10);
		else
			break;
	}
	if (broker == NULL || group == NULL || node == NULL)
		die(2, "%s", "usage: sp_pub --broker URI --group G --node N [--bdseq N] [LINE...]");

	snprintf(id, sizeof(id), "sp_pub-%s-%s-%ld", group, node, (long)getpid());
	if (MQTTAsync_create(&client, broker, id, MQTTCLIENT_PERSISTENCE_NONE, NULL) !=
	    MQTTASYNC_SUCCESS)
		die(1, "cannot create a client for %s", broker);
	MQTTAsync_setCallbacks(client, NULL, NULL, on_message, NULL);

	/* the will: an NDEATH with this session's bdSeq */
	bm.name = (char *)(uintptr_t)"bdSeq";
	bm.has_datatype = 1;
	bm.datatype = 8;
	bm.value_case = PHASOR__SPARKPLUG__PAYLOAD__METRIC__VALUE_LONG_VALUE;
	bm.long_value = bdseq;
	death.has_timestamp = 1;
	death.timestamp = now_ms();
	death.n_metrics = 1;
	death.metrics = &bmp;
	wbuf = pack(&death, &wlen);
	snprintf(topic, sizeof(topic), "spBv1.0/%s/NDEATH/%s", group, node);
	will.topicName = topic;
	will.message = NULL;
	will.payload.data = wbuf;
	will.payload.len = (int)wlen;
	will.qos = 1;
	co.will = &will;
	co.keepAliveInterval = 2;
	co.cleansession = 1;
	co.onSuccess = on_ok;
	co.onFailure = on_fail;
	co.context = &connected;
	if (MQTTAsync_connect(client, &co) != MQTTASYNC_SUCCESS || wait_flag(&connected, 10000) != 1)
		die(1, "cannot connect to %s", broker);

	snprintf(topic, sizeof(topic), "spBv1.0/%s/NCMD/%s", group, node);
	ro.onSuccess = on_ok;
	ro.onFailure = on_fail;
	ro.context = &subscribed;
	if (MQTTAsync_subscribe(client, topic, 1, &ro) != MQTTASYNC_SUCCESS ||
	    wait_flag(&subscribed, 10000) != 1)
		die(1, "cannot subscribe to %s", topic);

	printf("ready\n");
	fflush(stdout);
	if (i < argc) {
		for (; i < argc; i++) {
			snprintf(line, sizeof(line), "%s", argv[i]);
			run_line(line);
		}
	} else {
		while (fgets(line, sizeof(line), stdin) != NULL)
			run_line(line);
	}
	{
		MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;

		d.timeout = 2000;
		MQTTAsync_disconnect(client, &d);
		usleep(200000);
	}
	MQTTAsync_destroy(&client);
	free(wbuf);
	return 0;
}
