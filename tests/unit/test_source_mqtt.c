// SPDX-License-Identifier: MIT
/*
 * Unit tests of source_mqtt.c against a real, private mosquitto broker on a
 * free loopback port (config in a temporary directory, killed at the end
 * whatever happens: group teardown, and PR_SET_PDEATHSIG if the test dies).
 * Messages are published with mosquitto_pub; the test plays the hub: it
 * pops the queue, calls ops->decode and ops->tick with a recording sink,
 * and checks samples, per-meter status and the link counters exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "phasor/config.h"
#include "phasor/payload.h"
#include "phasor/profile.h"
#include "phasor/queue.h"
#include "phasor/source.h"
#include "phasor/util.h"

#define F(p, q) { .path = (char *)(p), .qty = (q), .phase_qty = { -1, -1, -1 }, .scale = 1 }

static struct profile_field pro3em_fields[] = {
	F("a_current", QTY_I_L1), F("b_current", QTY_I_L2), F("c_current", QTY_I_L3),
	F("n_current", QTY_I_N),
	F("a_voltage", QTY_V_L1N), F("b_voltage", QTY_V_L2N), F("c_voltage", QTY_V_L3N),
	F("a_act_power", QTY_P_L1), F("b_act_power", QTY_P_L2), F("c_act_power", QTY_P_L3),
	F("a_aprt_power", QTY_S_L1), F("b_aprt_power", QTY_S_L2), F("c_aprt_power", QTY_S_L3),
	F("a_pf", QTY_PF_L1), F("b_pf", QTY_PF_L2), F("c_pf", QTY_PF_L3),
	F("a_freq", QTY_FREQ), F("total_act_power", QTY_P_TOTAL),
	F("total_aprt_power", QTY_S_TOTAL), F("total_act", QTY_E_IMP),
	F("total_act_ret", QTY_E_EXP),
};
static char *pro3em_containers[] = { (char *)"params.em:0", (char *)"params.emdata:0" };
static struct profile pro3em = {
	.name = (char *)"shelly-pro3em", .driver = PROFILE_MQTT, .format = PAYLOAD_JSON,
	.containers = pro3em_containers, .ncontainers = 2,
	.fields = pro3em_fields, .nfields = UTIL_ARRAY_LEN(pro3em_fields),
};

static struct profile_field shelly3em_fields[] = {
	F("emeter/0/power", QTY_P_L1), F("emeter/1/power", QTY_P_L2), F("emeter/2/power", QTY_P_L3),
	F("emeter/0/voltage", QTY_V_L1N), F("emeter/1/voltage", QTY_V_L2N),
	F("emeter/2/voltage", QTY_V_L3N),
	F("emeter/0/total", QTY_E_IMP_L1),
};
static struct profile shelly3em = {
	.name = (char *)"shelly-3em", .driver = PROFILE_MQTT, .format = PAYLOAD_PLAIN,
	.fields = shelly3em_fields, .nfields = UTIL_ARRAY_LEN(shelly3em_fields),
};

#define PRO3EM_STATUS                                                         \
	"{\"id\":0,\"a_current\":4.029,\"a_voltage\":236.1,\"a_act_power\":951.2,"  \
	"\"a_aprt_power\":951.9,\"a_pf\":1.00,\"a_freq\":50.0,\"b_current\":4.027," \
	"\"b_voltage\":236.2,\"b_act_power\":-951.1,\"b_aprt_power\":951.8,"         \
	"\"b_pf\":-1.00,\"b_freq\":50.0,\"c_current\":3.03,\"c_voltage\":236.4,"   \
	"\"c_act_power\":715.0,\"c_aprt_power\":716.2,\"c_pf\":0.99,\"c_freq\":49.9," \
	"\"n_current\":null,\"total_current\":11.086,\"total_act_power\":715.1,"    \
	"\"total_aprt_power\":2619.9}"

static const struct {
	int qty;
	double value;
	int quality;
} pro3em_expect[] = {
	{ QTY_I_L1, 4.029, QUALITY_GOOD }, { QTY_I_L2, 4.027, QUALITY_GOOD },
	{ QTY_I_L3, 3.03, QUALITY_GOOD }, { QTY_I_N, NAN, QUALITY_BAD },
	{ QTY_V_L1N, 236.1, QUALITY_GOOD }, { QTY_V_L2N, 236.2, QUALITY_GOOD },
	{ QTY_V_L3N, 236.4, QUALITY_GOOD },
	{ QTY_P_L1, 951.2, QUALITY_GOOD }, { QTY_P_L2, -951.1, QUALITY_GOOD },
	{ QTY_P_L3, 715.0, QUALITY_GOOD },
	{ QTY_S_L1, 951.9, QUALITY_GOOD }, { QTY_S_L2, 951.8, QUALITY_GOOD },
	{ QTY_S_L3, 716.2, QUALITY_GOOD },
	{ QTY_PF_L1, 1.0, QUALITY_GOOD }, { QTY_PF_L2, -1.0, QUALITY_GOOD },
	{ QTY_PF_L3, 0.99, QUALITY_GOOD },
	{ QTY_FREQ, 50.0, QUALITY_GOOD }, { QTY_P_TOTAL, 715.1, QUALITY_GOOD },
	{ QTY_S_TOTAL, 2619.9, QUALITY_GOOD },
};

/* ---- the private broker ------------------------------------------------- */

static struct {
	pid_t pid;
	int port;
	char dir[64], conf[128], log[128];
	bool have;
	pid_t tls_pid;            /* the TLS broker of test_tls */
} B;

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int broker_run(pid_t *out, int port, const char *conf)
{
	pid_t pid;
	int i;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(B.log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		/* never outlive the test, even when it crashes */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	*out = pid;
	for (i = 0; i < 250; i++) {
		int st;

		if (port_open(port))
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			*out = 0;
			return -1;
		}
		util_sleep_ms(20);
	}
	return -1;
}

static void broker_stop(pid_t *pid, int sig)
{
	if (*pid > 0) {
		kill(*pid, sig);
		waitpid(*pid, NULL, 0);
		*pid = 0;
	}
}

static int broker_start(void)
{
	return broker_run(&B.pid, B.port, B.conf);
}

static void broker_kill(int sig)
{
	broker_stop(&B.pid, sig);
}

static int group_setup(void **state)
{
	struct passwd *pw = getpwuid(getuid());
	FILE *f;

	(void)state;
	snprintf(B.dir, sizeof(B.dir), "/tmp/phasor-mqtt-XXXXXX");
	if (mkdtemp(B.dir) == NULL)
		return -1;
	snprintf(B.conf, sizeof(B.conf), "%s/mosquitto.conf", B.dir);
	snprintf(B.log, sizeof(B.log), "%s/mosquitto.log", B.dir);
	B.port = free_port();
	f = fopen(B.conf, "w");
	if (f == NULL || B.port <= 0)
		return -1;
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", B.port);
	if (pw != NULL)
		fprintf(f, "user %s\n", pw->pw_name);
	fclose(f);
	B.have = broker_start() == 0;
	if (!B.have)
		fprintf(stderr, "no mosquitto broker could be started (see %s)\n", B.log);
	return 0;
}

static int group_teardown(void **state)
{
	char path[160];

	static const char *const files[] = {
		"big.json", "tls.conf", "ca.key", "ca.pem", "ca.srl", "srv.key", "srv.csr",
		"srv.pem", "ext.cnf", "other.key", "other.pem", "openssl.log",
	};
	size_t i;

	(void)state;
	broker_kill(SIGTERM);
	broker_stop(&B.tls_pid, SIGTERM);
	unlink(B.conf);
	unlink(B.log);
	for (i = 0; i < UTIL_ARRAY_LEN(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", B.dir, files[i]);
		unlink(path);
	}
	rmdir(B.dir);
	return 0;
}

static void publish(const char *topic, const char *payload)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "mosquitto_pub -h 127.0.0.1 -p %d -q 1 -i phasor-test-pub -t '%s' -m '%s'", B.port,
		 topic, payload);
	assert_int_equal(system(cmd), 0);
}

static void publish_file(const char *topic, const char *path)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
		 "mosquitto_pub -h 127.0.0.1 -p %d -q 1 -i phasor-test-pub -t '%s' -f '%s'", B.port,
		 topic, path);
	assert_int_equal(system(cmd), 0);
}

/* ---- the test hub: a recording sink ------------------------------------ */

#define MAXS 512
#define MAXM 8
#define MAXE 64

static struct {
	struct sample s[MAXS];
	size_t ns;
	struct meter_comm status[MAXM];
	unsigned nstatus[MAXM];
	struct {
		char what[24], text[232];
		struct source *src;
	} ev[MAXE];
	size_t nev;
	size_t nraw;
} R;

static void sink_samples(void *ctx, const struct sample *s, size_t n)
{
	(void)ctx;
	assert_true(R.ns + n <= MAXS);
	memcpy(&R.s[R.ns], s, n * sizeof(*s));
	R.ns += n;
}

static void sink_status(void *ctx, int meter, const struct meter_comm *c)
{
	(void)ctx;
	assert_true(meter >= 0 && meter < MAXM);
	R.status[meter] = *c;
	R.nstatus[meter]++;
}

static void record_event(struct source *src, const char *what, const char *text)
{
	if (R.nev < MAXE) {
		util_strlcpy(R.ev[R.nev].what, what, sizeof(R.ev[R.nev].what));
		util_strlcpy(R.ev[R.nev].text, text, sizeof(R.ev[R.nev].text));
		R.ev[R.nev].src = src;
		R.nev++;
	}
}

static void sink_event(void *ctx, int meter, int64_t t_us, const char *what, const char *text)
{
	(void)ctx;
	(void)meter;
	(void)t_us;
	record_event(NULL, what, text);
}

static const struct source_sink sink = {
	.ctx = NULL, .samples = sink_samples, .status = sink_status, .event = sink_event,
};

static void reset_record(void)
{
	memset(&R, 0, sizeof(R));
}

static size_t count_events(const char *what)
{
	size_t i, n = 0;

	for (i = 0; i < R.nev; i++)
		if (strcmp(R.ev[i].what, what) == 0)
			n++;
	return n;
}

/* Pop and dispatch what is queued (decode raw messages, record events). */
static void pump(struct queue *q)
{
	void *items[64];
	size_t n, i;

	while ((n = queue_pop(q, items, UTIL_ARRAY_LEN(items))) > 0)
		for (i = 0; i < n; i++) {
			struct source_msg *m = items[i];

			if (m->kind == MSG_RAW) {
				R.nraw++;
				m->source->ops->decode(m->source, m, &sink);
			} else if (m->kind == MSG_EVENT) {
				record_event(m->source, m->u.event.what, m->u.event.text);
			}
			free(m);
		}
}

static struct source_link link_of(struct source *s)
{
	struct source_link l;

	assert_int_equal(s->ops->links(s, &l, 1), 1);
	return l;
}

typedef bool (*cond_fn)(struct source *s, const void *arg);

/* Play the hub loop (pump + tick) until cond holds or timeout_ms passes. */
static bool run_until(struct queue *q, struct source **srcs, size_t nsrc, cond_fn cond,
		      const void *arg, int timeout_ms)
{
	int64_t end = util_mono_us() + (int64_t)timeout_ms * 1000;
	size_t i;

	for (;;) {
		struct pollfd pfd = { .fd = queue_fd(q), .events = POLLIN };

		pump(q);
		for (i = 0; i < nsrc; i++)
			srcs[i]->ops->tick(srcs[i], util_now_us(), &sink);
		if (cond(srcs[0], arg))
			return true;
		if (util_mono_us() >= end)
			return false;
		poll(&pfd, 1, 20);
	}
}

static bool link_is(struct source *s, const void *arg)
{
	return link_of(s).state == *(const enum link_state *)arg;
}

static bool received_at_least(struct source *s, const void *arg)
{
	return link_of(s).received >= *(const uint64_t *)arg;
}

static bool raw_at_least(struct source *s, const void *arg)
{
	(void)s;
	return R.nraw >= *(const size_t *)arg;
}

struct ev_want {
	const char *what;
	size_t n;
};

static bool events_seen(struct source *s, const void *arg)
{
	const struct ev_want *w = arg;

	(void)s;
	return count_events(w->what) >= w->n;
}

/* Events are pushed just after the link state changes: wait for them. */
static void wait_events(struct queue *q, struct source *s, const char *what, size_t n)
{
	struct ev_want w = { what, n };

	if (!run_until(q, &s, 1, events_seen, &w, 3000))
		fail_msg("%zu '%s' event(s) seen, expected %zu", count_events(what), what, n);
}

static bool wait_link(struct queue *q, struct source *s, enum link_state st, int ms)
{
	return run_until(q, &s, 1, link_is, &st, ms);
}

/*
 * Subscriptions complete after the link is up: publish a probe on a topic
 * the first meter's filter matches (a NO_FIELD message) until one arrives.
 */
static void probe(struct queue *q, struct source *s, const char *topic)
{
	int i;

	for (i = 0; i < 50; i++) {
		size_t want = R.nraw + 1;

		publish(topic, "{\"uptime\":1}");
		if (run_until(q, &s, 1, raw_at_least, &want, 200)) {
			/* let a late probe arrive before counters are read */
			util_sleep_ms(300);
			pump(q);
			return;
		}
	}
	fail_msg("no probe message came back on %s", topic);
}

static const struct sample *find_sample(uint32_t meter, int qty, size_t from)
{
	const struct sample *found = NULL;
	size_t i;

	for (i = from; i < R.ns; i++)
		if (R.s[i].meter == meter && R.s[i].qty == qty) {
			if (found != NULL)
				fail_msg("meter %u %s twice", meter, qty_name((unsigned)qty));
			found = &R.s[i];
		}
	return found;
}

/* ---- config ------------------------------------------------------------- */

static char uri[64];
static char *topics_pro[] = { (char *)"dev1/status/+" };
static char *topics_em3[] = { (char *)"shellies/x/emeter/+/+" };
static char *topics_quiet[] = { (char *)"quiet/#" };

static void base_config(struct config *c, struct config_meter *m)
{
	memset(c, 0, sizeof(*c));
	memset(m, 0, 4 * sizeof(*m));
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", B.port);
	c->mqtt.enabled = true;
	c->mqtt.uri = uri;
	c->mqtt.client_id = (char *)"phasor-unit-test";
	c->mqtt.qos = 1;
	c->mqtt.keepalive_s = 5;
	c->mqtt.clean_session = true;
	/* meter 1 is a Modbus meter: MQTT meters keep their config index */
	m[0] = (struct config_meter){ .name = (char *)"press-1", .driver = DRIVER_MQTT,
				      .profile = &pro3em, .topics = topics_pro, .ntopics = 1,
				      .poll_ms = 1000 };
	m[1] = (struct config_meter){ .name = (char *)"tgbt-1", .driver = DRIVER_MODBUS,
				      .host = (char *)"127.0.0.1", .port = 502, .poll_ms = 1000 };
	m[2] = (struct config_meter){ .name = (char *)"em3", .driver = DRIVER_MQTT,
				      .profile = &shelly3em, .topics = topics_em3, .ntopics = 1,
				      .poll_ms = 1000 };
	m[3] = (struct config_meter){ .name = (char *)"quiet", .driver = DRIVER_MQTT,
				      .profile = &pro3em, .topics = topics_quiet, .ntopics = 1,
				      .poll_ms = 1000 };
	c->meters = m;
	c->nmeters = 4;
}

/* ---- tests -------------------------------------------------------------- */

static void test_create_errors(void **state)
{
	struct config c;
	struct config_meter m[4];
	struct queue *q = queue_new(16);
	char *cause = (char *)"x";
	char *bad[] = { (char *)"a/#/b" };

	(void)state;
	base_config(&c, m);
	/* no MQTT meter: NULL without a cause */
	c.meters = &m[1];
	c.nmeters = 1;
	assert_null(source_mqtt_ops.create(&c, q, &cause));
	assert_null(cause);

	base_config(&c, m);
	c.mqtt.uri = (char *)"http://127.0.0.1:1883";
	assert_null(source_mqtt_ops.create(&c, q, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "tcp://"));
	free(cause);

	base_config(&c, m);
	m[2].topics = bad;
	assert_null(source_mqtt_ops.create(&c, q, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "meter em3: invalid topic filter"));
	free(cause);

	base_config(&c, m);
	c.mqtt.share_group = (char *)"a/b";
	assert_null(source_mqtt_ops.create(&c, q, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "share_group"));
	free(cause);

	base_config(&c, m);
	m[0].profile = NULL;
	assert_null(source_mqtt_ops.create(&c, q, &cause));
	assert_non_null(cause);
	free(cause);

	queue_free(q, free);
}

static void test_broker_round_trip(void **state)
{
	struct config c;
	struct config_meter m[4];
	struct queue *q = queue_new(256);
	struct source *s;
	struct source_link l0, l;
	char *cause = NULL, big[160];
	int64_t before, after;
	uint64_t want;
	size_t i, base_ns;
	const struct sample *x;
	struct source_msg *inj;
	FILE *f;

	(void)state;
	if (!B.have)
		skip();
	reset_record();
	base_config(&c, m);
	s = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s);
	assert_null(cause);
	l = link_of(s);
	assert_string_equal(l.name, uri);
	assert_string_equal(l.driver, "mqtt");
	assert_int_equal(l.state, LINK_IDLE);
	assert_int_equal(l.nmeters, 3);

	assert_int_equal(s->ops->start(s, &cause), 0);
	assert_true(wait_link(q, s, LINK_UP, 5000));
	wait_events(q, s, "connect", 1);
	assert_int_equal(count_events("connect"), 1);
	probe(q, s, "dev1/status/sys");

	/* from here on, exact deltas */
	l0 = link_of(s);
	assert_int_equal(l0.rejected[PAYLOAD_NO_FIELD], l0.received);
	base_ns = R.ns;
	R.nraw = 0;
	before = util_now_us();
	publish("dev1/status/em:0", PRO3EM_STATUS);
	publish("shellies/x/emeter/1/voltage", "231.5");
	publish("dev1/status/em:0", "{\"a_voltage\":2");
	publish("shellies/x/emeter/0/power", "abc");
	/* too large: counted in the callback, never queued */
	snprintf(big, sizeof(big), "%s/big.json", B.dir);
	f = fopen(big, "w");
	assert_non_null(f);
	for (i = 0; i < PAYLOAD_MAX_BYTES + 100; i++)
		fputc(i == 0 ? '{' : ' ', f);
	fputc('}', f);
	fclose(f);
	publish_file("dev1/status/em:0", big);
	want = l0.received + 5;
	assert_true(run_until(q, &s, 1, received_at_least, &want, 5000));
	{
		size_t four = 4;

		assert_true(run_until(q, &s, 1, raw_at_least, &four, 5000));
	}
	after = util_now_us();

	/* an unknown topic cannot come through the meters' own subscriptions:
	 * inject one the way the callback would have queued it */
	inj = source_msg_raw(s, "other/device/status", 19, "{\"a_voltage\":230}", 17, after);
	s->ops->decode(s, inj, &sink);
	free(inj);

	l = link_of(s);
	assert_int_equal(l.state, LINK_UP);
	assert_int_equal(l.received - l0.received, 5);
	assert_int_equal(l.accepted - l0.accepted, 2);
	assert_int_equal(l.rejected[PAYLOAD_MALFORMED] - l0.rejected[PAYLOAD_MALFORMED], 2);
	assert_int_equal(l.rejected[PAYLOAD_TOO_LARGE] - l0.rejected[PAYLOAD_TOO_LARGE], 1);
	assert_int_equal(l.rejected[PAYLOAD_UNKNOWN_TOPIC] - l0.rejected[PAYLOAD_UNKNOWN_TOPIC], 1);
	assert_int_equal(l.rejected[PAYLOAD_NON_NUMERIC], 0);
	assert_int_equal(l.dropped, 0);

	/* exactly 19 + 1 samples, right meter indexes, values and times */
	assert_int_equal(R.ns - base_ns, UTIL_ARRAY_LEN(pro3em_expect) + 1);
	for (i = 0; i < UTIL_ARRAY_LEN(pro3em_expect); i++) {
		x = find_sample(0, pro3em_expect[i].qty, base_ns);
		assert_non_null(x);
		if (isnan(pro3em_expect[i].value))
			assert_true(isnan(x->value));
		else
			assert_true(fabs(x->value - pro3em_expect[i].value) < 1e-9);
		assert_int_equal(x->quality, pro3em_expect[i].quality);
		assert_true(x->t_us >= before && x->t_us <= after);
	}
	x = find_sample(2, QTY_V_L2N, base_ns);
	assert_non_null(x);
	assert_true(fabs(x->value - 231.5) < 1e-12);
	assert_int_equal(x->quality, QUALITY_GOOD);
	assert_true(x->t_us >= before && x->t_us <= after);

	/* per meter: ok, one accepted and one rejected message each (after a
	 * refresh, at most once a second) */
	s->ops->tick(s, util_now_us() + 1100000, &sink);
	assert_int_equal(R.status[0].status, COMM_OK);
	assert_int_equal(R.status[0].messages, 1);
	assert_int_equal(R.status[0].rejected, 1 + l0.received);  /* the probes */
	assert_non_null(strstr(R.status[0].error, "malformed: JSON parse error at byte"));
	assert_int_equal(R.status[2].status, COMM_OK);
	assert_int_equal(R.status[2].messages, 1);
	assert_int_equal(R.status[2].rejected, 1);
	assert_string_equal(R.status[2].error, "malformed: payload is not a number");
	assert_int_equal(R.nstatus[1], 0);  /* the Modbus meter is not ours */
	/* the quiet meter has had no message yet: unknown */
	assert_int_equal(R.status[3].status, COMM_UNKNOWN);

	/* ageing, on the tick's clock: 3.5 periods stale, 11 down */
	{
		int64_t t0 = util_now_us();
		int64_t last0 = find_sample(0, QTY_V_L1N, 0)->t_us;
		int64_t last2 = find_sample(2, QTY_V_L2N, 0)->t_us;
		char text[64];

		s->ops->tick(s, t0 + 3500000, &sink);
		assert_int_equal(R.status[0].status, COMM_STALE);
		assert_int_equal(R.status[2].status, COMM_STALE);
		snprintf(text, sizeof(text), "no message for %lld s",
			 (long long)((t0 + 3500000 - last2) / 1000000));
		assert_string_equal(R.status[2].error, text);
		s->ops->tick(s, t0 + 11500000, &sink);
		assert_int_equal(R.status[0].status, COMM_DOWN);
		snprintf(text, sizeof(text), "no message for %lld s",
			 (long long)((t0 + 11500000 - last0) / 1000000));
		assert_string_equal(R.status[0].error, text);
		assert_int_equal(R.status[3].status, COMM_DOWN);
		assert_string_equal(R.status[3].error, "no message");
		s->ops->tick(s, t0, &sink);
		assert_int_equal(R.status[0].status, COMM_OK);
		assert_string_equal(R.status[0].error, "");
		assert_int_equal(R.status[3].status, COMM_UNKNOWN);
	}

	/* the broker dies: link down, meters down via tick */
	broker_kill(SIGKILL);
	assert_true(wait_link(q, s, LINK_DOWN, 10000));
	wait_events(q, s, "disconnect", 1);
	s->ops->tick(s, util_now_us(), &sink);
	l = link_of(s);
	assert_true(l.error[0] != '\0');
	for (i = 0; i < 4; i++) {
		if (i == 1)
			continue;
		assert_int_equal(R.status[i].status, COMM_DOWN);
		assert_true(strncmp(R.status[i].error, "broker: ", 8) == 0);
	}
	assert_int_equal(count_events("disconnect"), 1);

	/* let a few attempts fail, then the broker comes back on the same port:
	 * the tick loop reconnects by itself */
	{
		enum link_state never = (enum link_state)99;

		run_until(q, &s, 1, link_is, &never, 1200);
	}
	assert_int_equal(link_of(s).state == LINK_UP, 0);
	assert_true(count_events("error") >= 1);
	assert_int_equal(broker_start(), 0);
	assert_true(wait_link(q, s, LINK_UP, 20000));
	l = link_of(s);
	assert_true(l.reconnects >= 1);
	assert_string_equal(l.error, "");
	wait_events(q, s, "connect", 2);
	assert_int_equal(count_events("connect"), 2);
	probe(q, s, "dev1/status/sys");
	base_ns = R.ns;
	publish("shellies/x/emeter/2/power", "-1500.25");
	{
		size_t want_ns = base_ns + 1;

		for (i = 0; i < 250 && R.ns < want_ns; i++) {
			pump(q);
			s->ops->tick(s, util_now_us(), &sink);
			util_sleep_ms(20);
		}
	}
	x = find_sample(2, QTY_P_L3, base_ns);
	assert_non_null(x);
	assert_true(fabs(x->value + 1500.25) < 1e-12);
	assert_int_equal(R.status[2].status, COMM_OK);

	s->ops->stop(s);
	l = link_of(s);
	assert_int_equal(l.state, LINK_IDLE);
	pump(q);
	assert_true(R.nev > 0);
	assert_string_equal(R.ev[R.nev - 1].what, "disconnect");
	assert_non_null(strstr(R.ev[R.nev - 1].text, "(stop)"));
	/* after stop nothing is pushed any more */
	publish("shellies/x/emeter/2/power", "1");
	util_sleep_ms(300);
	assert_int_equal(queue_depth(q), 0);
	s->ops->destroy(s);
	queue_free(q, free);
}

/*
 * A full queue holds messages back (the callback waits for room): nothing
 * is lost, nothing counted twice, order kept.
 */
static void test_backpressure(void **state)
{
	struct config c;
	struct config_meter m[4];
	struct queue *q = queue_new(2);
	struct source *s;
	struct source_link l0, l;
	char *cause = NULL, payload[32];
	int i;
	size_t base_ns, want;

	(void)state;
	if (!B.have)
		skip();
	reset_record();
	base_config(&c, m);
	c.mqtt.client_id = (char *)"phasor-unit-test-bp";
	s = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s);
	assert_int_equal(s->ops->start(s, &cause), 0);
	assert_true(wait_link(q, s, LINK_UP, 5000));
	probe(q, s, "dev1/status/sys");
	pump(q);
	l0 = link_of(s);
	base_ns = R.ns;
	R.nraw = 0;

	/* six messages into a queue of two that nobody pops for a while */
	for (i = 0; i < 6; i++) {
		snprintf(payload, sizeof(payload), "%d.5", 100 + i);
		publish("shellies/x/emeter/0/power", payload);
	}
	util_sleep_ms(700);
	assert_true(queue_depth(q) <= 2);
	want = 6;
	if (!run_until(q, &s, 1, raw_at_least, &want, 10000)) {
		l = link_of(s);
		fail_msg("%zu of 6 messages came through (received %llu, dropped %llu)", R.nraw,
			 (unsigned long long)(l.received - l0.received),
			 (unsigned long long)l.dropped);
	}
	l = link_of(s);
	assert_int_equal(l.received - l0.received, 6);
	assert_int_equal(l.accepted - l0.accepted, 6);
	assert_int_equal(l.dropped, 0);
	assert_int_equal(R.ns - base_ns, 6);
	/* in order, and each once */
	for (i = 0; i < 6; i++)
		assert_true(fabs(R.s[base_ns + (size_t)i].value - (100.5 + i)) < 1e-12);
	s->ops->stop(s);
	s->ops->destroy(s);
	queue_free(q, free);
}

/*
 * stop() while the callback waits on a full queue: it returns promptly, the
 * held message is counted as dropped, and nothing is pushed afterwards.
 */
static void test_stop_while_full(void **state)
{
	struct config c;
	struct config_meter m[4];
	struct queue *q = queue_new(1);
	struct source *s;
	struct source_link l0, l;
	char *cause = NULL;
	void *item;
	int64_t t0;
	int i;

	(void)state;
	if (!B.have)
		skip();
	reset_record();
	base_config(&c, m);
	c.mqtt.client_id = (char *)"phasor-unit-test-stop";
	s = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s);
	assert_int_equal(s->ops->start(s, &cause), 0);
	assert_true(wait_link(q, s, LINK_UP, 5000));
	probe(q, s, "dev1/status/sys");
	pump(q);
	l0 = link_of(s);
	for (i = 0; i < 3; i++)
		publish("shellies/x/emeter/0/power", "1");
	/* the first fills the queue, the second waits in the callback */
	for (i = 0; i < 250 && link_of(s).received < l0.received + 2; i++)
		util_sleep_ms(20);
	assert_true(link_of(s).received >= l0.received + 2);
	assert_int_equal(queue_depth(q), 1);
	t0 = util_mono_us();
	s->ops->stop(s);
	assert_true(util_mono_us() - t0 < 3500000);
	l = link_of(s);
	assert_int_equal(l.state, LINK_IDLE);
	/* everything received after the probes: one queued, the rest dropped,
	 * and so was stop's "disconnect" event (the queue was full) */
	assert_true(l.received - l0.received >= 2);
	assert_int_equal(l.dropped, l.received - l0.received - 1 + 1);
	assert_int_equal(queue_depth(q), 1);
	assert_int_equal(queue_pop(q, &item, 1), 1);
	assert_int_equal(((struct source_msg *)item)->kind, MSG_RAW);
	free(item);
	publish("shellies/x/emeter/0/power", "2");
	util_sleep_ms(300);
	assert_int_equal(queue_depth(q), 0);
	s->ops->destroy(s);
	queue_free(q, free);
}

/*
 * [mqtt] share_group: two consoles in the same group share the messages
 * (each message goes to one of them), which only happens when both really
 * subscribed as $share/GROUP/filter.
 */
static void test_share_group(void **state)
{
	struct config c;
	struct config_meter m[4];
	struct queue *q = queue_new(256);
	struct source *s[2];
	char *cause = NULL;
	struct source_link la, lb;
	int i;
	uint64_t got = 0;

	(void)state;
	if (!B.have)
		skip();
	reset_record();
	base_config(&c, m);
	c.mqtt.share_group = (char *)"consoles";
	c.mqtt.client_id = (char *)"phasor-unit-test-a";
	s[0] = source_mqtt_ops.create(&c, q, &cause);
	c.mqtt.client_id = (char *)"phasor-unit-test-b";
	s[1] = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s[0]);
	assert_non_null(s[1]);
	assert_int_equal(s[0]->ops->start(s[0], &cause), 0);
	assert_int_equal(s[1]->ops->start(s[1], &cause), 0);
	assert_true(wait_link(q, s[0], LINK_UP, 5000));
	assert_true(wait_link(q, s[1], LINK_UP, 5000));
	/* both subscriptions in place: probes reach each of them */
	for (i = 0; i < 100; i++) {
		la = link_of(s[0]);
		lb = link_of(s[1]);
		if (la.received > 0 && lb.received > 0)
			break;
		publish("dev1/status/sys", "{}");
		run_until(q, s, 2, raw_at_least, &(size_t){ SIZE_MAX }, 100);
	}
	assert_true(la.received > 0 && lb.received > 0);
	util_sleep_ms(300);
	pump(q);
	la = link_of(s[0]);
	lb = link_of(s[1]);
	got = la.received + lb.received;
	for (i = 0; i < 10; i++)
		publish("dev1/status/em:0", "{\"a_voltage\":230}");
	for (i = 0; i < 100; i++) {
		struct source_link a = link_of(s[0]), b = link_of(s[1]);

		if (a.received + b.received >= got + 10)
			break;
		util_sleep_ms(20);
	}
	util_sleep_ms(300);
	pump(q);
	{
		struct source_link a = link_of(s[0]), b = link_of(s[1]);

		/* each message once in the group, not once per console */
		assert_int_equal(a.received + b.received, got + 10);
		assert_int_equal(a.accepted + b.accepted - la.accepted - lb.accepted, 10);
	}
	for (i = 0; i < 2; i++) {
		s[i]->ops->stop(s[i]);
		s[i]->ops->destroy(s[i]);
	}
	pump(q);
	queue_free(q, free);
}

/*
 * TLS: a second broker with a certificate for "localhost" signed by a test
 * CA. The right CA connects; another CA, or a host name the certificate
 * does not name, leaves the link down with the meters down.
 */
static void test_tls(void **state)
{
	struct config c;
	struct config_meter m[4];
	struct queue *q = queue_new(256);
	struct source *s;
	char *cause = NULL;
	char cmd[2048], conf[160], ca[160], other[160], tls_uri[96], ip_uri[96];
	int port = free_port();
	FILE *f;
	struct source_link l;

	(void)state;
	if (!B.have || system("command -v openssl >/dev/null 2>&1") != 0)
		skip();
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && exec >openssl.log 2>&1 && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout ca.key -out ca.pem -days 2 -subj '/CN=phasor test CA' && "
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout srv.key -out srv.csr -subj '/CN=localhost' && "
		 "printf 'subjectAltName=DNS:localhost\\n' > ext.cnf && "
		 "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-out srv.pem -days 2 -extfile ext.cnf && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout other.key -out other.pem -days 2 -subj '/CN=other CA'",
		 B.dir);
	assert_int_equal(system(cmd), 0);
	snprintf(conf, sizeof(conf), "%s/tls.conf", B.dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", B.dir);
	snprintf(other, sizeof(other), "%s/other.pem", B.dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
		   "cafile %s\ncertfile %s/srv.pem\nkeyfile %s/srv.key\n",
		port, ca, B.dir, B.dir);
	if (getpwuid(getuid()) != NULL)
		fprintf(f, "user %s\n", getpwuid(getuid())->pw_name);
	fclose(f);
	assert_int_equal(broker_run(&B.tls_pid, port, conf), 0);
	snprintf(tls_uri, sizeof(tls_uri), "ssl://localhost:%d", port);
	snprintf(ip_uri, sizeof(ip_uri), "ssl://127.0.0.1:%d", port);

	/* the right CA: up, and a message comes through */
	reset_record();
	base_config(&c, m);
	c.mqtt.uri = tls_uri;
	c.mqtt.ca_file = ca;
	c.mqtt.client_id = (char *)"phasor-unit-test-tls";
	s = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s);
	assert_int_equal(s->ops->start(s, &cause), 0);
	assert_true(wait_link(q, s, LINK_UP, 10000));
	{
		int i;
		size_t want;

		for (i = 0; i < 50 && R.ns == 0; i++) {
			snprintf(cmd, sizeof(cmd),
				 "mosquitto_pub -h localhost -p %d --cafile '%s' -q 1 "
				 "-t shellies/x/emeter/0/voltage -m 229.75",
				 port, ca);
			assert_int_equal(system(cmd), 0);
			want = R.nraw + 1;
			run_until(q, &s, 1, raw_at_least, &want, 200);
		}
	}
	assert_true(R.ns >= 1);
	assert_int_equal(R.s[0].meter, 2);
	assert_int_equal(R.s[0].qty, QTY_V_L1N);
	assert_true(fabs(R.s[0].value - 229.75) < 1e-12);
	s->ops->stop(s);
	s->ops->destroy(s);
	pump(q);

	/* a CA that did not sign the server's certificate */
	reset_record();
	c.mqtt.ca_file = other;
	s = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s);
	assert_int_equal(s->ops->start(s, &cause), 0);
	assert_true(wait_link(q, s, LINK_DOWN, 10000));
	wait_events(q, s, "error", 1);
	s->ops->tick(s, util_now_us(), &sink);
	l = link_of(s);
	assert_string_equal(l.error, "TLS: certificate verify failed");
	assert_int_equal(count_events("connect"), 0);
	assert_int_equal(R.status[0].status, COMM_DOWN);
	assert_string_equal(R.status[0].error, "broker: TLS: certificate verify failed");
	assert_true(strncmp(R.status[0].error, "broker: ", 8) == 0);
	s->ops->stop(s);
	s->ops->destroy(s);
	pump(q);

	/* the right CA, but a host name the certificate does not name */
	reset_record();
	c.mqtt.ca_file = ca;
	c.mqtt.uri = ip_uri;
	s = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s);
	assert_int_equal(s->ops->start(s, &cause), 0);
	assert_true(wait_link(q, s, LINK_DOWN, 10000));
	wait_events(q, s, "error", 1);
	assert_int_equal(count_events("connect"), 0);
	/* paho says so only in its trace: the source reads it there */
	l = link_of(s);
	assert_string_equal(l.error, "TLS: certificate verify failed: hostname mismatch (the "
				     "broker's certificate is not for 127.0.0.1)");
	s->ops->stop(s);
	s->ops->destroy(s);
	pump(q);

	broker_stop(&B.tls_pid, SIGTERM);
	queue_free(q, free);
}

/* A broker that is not there: down with an error, meters down, no crash. */
static void test_no_broker(void **state)
{
	struct config c;
	struct config_meter m[4];
	struct queue *q = queue_new(64);
	struct source *s;
	char *cause = NULL;
	char dead[64];
	int port = free_port();

	(void)state;
	reset_record();
	base_config(&c, m);
	snprintf(dead, sizeof(dead), "tcp://127.0.0.1:%d", port);
	c.mqtt.uri = dead;
	s = source_mqtt_ops.create(&c, q, &cause);
	assert_non_null(s);
	assert_int_equal(s->ops->start(s, &cause), 0);
	assert_true(wait_link(q, s, LINK_DOWN, 10000));
	wait_events(q, s, "error", 1);
	/* further attempts fail the same way: no new event */
	run_until(q, &s, 1, link_is, &(enum link_state){ LINK_IDLE }, 1500);
	assert_true(link_of(s).reconnects >= 1);
	assert_int_equal(R.status[0].status, COMM_DOWN);
	assert_true(strncmp(R.status[0].error, "broker: ", 8) == 0);
	assert_int_equal(count_events("error"), 1);
	assert_int_equal(count_events("connect"), 0);
	s->ops->stop(s);
	s->ops->destroy(s);
	pump(q);
	queue_free(q, free);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_broker_round_trip),
		cmocka_unit_test(test_backpressure),
		cmocka_unit_test(test_stop_while_full),
		cmocka_unit_test(test_share_group),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_no_broker),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
