// SPDX-License-Identifier: MIT
/*
 * cmd_sim: `phasor sim`, the meter simulator. A libmodbus TCP server answers
 * for unit ids 1..N, each with its own register image built from a Modbus
 * profile and re-encoded from the simulated plant (simmodel) once per
 * simulated second; optionally it publishes each meter as a Shelly Pro 3EM
 * over MQTT (paho MQTTAsync) and writes every value it serves to a CSV
 * journal, so tests can compare what a reader got with what was served.
 *
 * One thread does everything but the MQTT library's own I/O: a select()
 * loop over the listening socket, the clients, a signalfd for SIGINT and
 * SIGTERM, and timers for the model's ticks and the MQTT publications.
 * Requests are checked here before libmodbus builds the answer from the
 * unit's modbus_mapping_t: an unknown unit gets "gateway target failed to
 * respond", a register the profile does not serve "illegal data address"
 * (a read across a hole is refused, as real devices do), more registers
 * than the profile's maximum "illegal data value", anything but a read of
 * the profile's function codes "illegal function". A unit under a timeout
 * fault reads the request and never answers; under a wrong-unit fault its
 * replies carry another unit id (unit + 5), under a bad-length fault an MBAP
 * length 50 bytes larger than what follows, and under a late fault each
 * reply is held back until the next request on the same connection (which
 * then reads it as its own answer).
 */
#include "phasor/cmd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <cjson/cJSON.h>
#include <modbus.h>

#include "phasor/diag.h"
#include "phasor/log.h"
#include "phasor/profile.h"
#include "phasor/qty.h"
#include "phasor/regmap.h"
#include "phasor/simmodel.h"
#include "phasor/util.h"
#include "phasor/utility.h"

#define SIM_MAX_CLIENTS 64
#define SIM_MAX_FAULTS 64
#define UNIT_MAX 247

/*
 * Devices that serve the same map on FC 03 and FC 04 (BRIEF: PAC3200 "FC 03
 * or 04", UMG 96RM "FC 03/04"); other profiles are served on the function
 * codes they list only.
 */
static const char *const dual_fc_profiles[] = { "pac3200", "umg96rm", NULL };

/* ---- options -------------------------------------------------------------- */

#define SIM_MAX_PV 8
#define SIM_PV_PEAK_W 250e3

struct opts {
	const char *modbus;     /* HOST:PORT as given */
	char host[256];         /* split, brackets of [v6] removed */
	char port[8];
	const char *mqtt;       /* URI or NULL */
	const char *mqtt_ca;    /* TLS: CA file, client certificate and key, or NULL */
	const char *mqtt_cert;
	const char *mqtt_key;
	const char *profile;
	const char *journal;
	const char *prefix;
	size_t meters;
	size_t max_clients;     /* Modbus clients served at once */
	uint64_t seed;
	int64_t start_us;
	double speed;
	int64_t for_ms;         /* < 0: run until a signal */
	int64_t period_ms;
	struct sim_fault faults[SIM_MAX_FAULTS];
	char *fault_specs[SIM_MAX_FAULTS];
	size_t nfaults;
	bool list;
	int utility;            /* --utility, enum utility; -1: the profile's */
	unsigned pv_unit[SIM_MAX_PV]; /* --pv: PV feeders (unit, peak W) */
	double pv_peak[SIM_MAX_PV];
	size_t npv;
	bool incomer;           /* --incomer: unit 1 carries the PV feeders */
	bool prefix_set;        /* --mqtt-prefix given */
	long machines;          /* --machines: machines published over MQTT, 0..2 */
};

static void usage(FILE *out)
{
	fputs("usage: phasor sim [--modbus HOST:PORT] [--mqtt URI] [--meters N] [--profile NAME]\n"
	      "                  [--fault KIND[:UNIT][@SECONDS[+DURATION]]]... [--seed N]\n"
	      "                  [--journal FILE] [--start TIME] [--speed X] [--for SECONDS]\n"
	      "                  [--mqtt-prefix P] [--mqtt-period DURATION] [--max-clients N] [--list]\n"
	      "                  [--mqtt-ca FILE] [--mqtt-cert FILE --mqtt-key FILE]\n"
	      "\n"
	      "Simulated plant of N three-phase meters (unit 1 main LV board, 2 oven, 3 furnace,\n"
	      "4 compressor, 5 paint line, then machine tools) served over Modbus TCP.\n"
	      "\n"
	      "  --modbus HOST:PORT   listen there (default 127.0.0.1:5020; port 0: any free port)\n"
	      "  --mqtt URI           also publish each meter as a Shelly Pro 3EM (tcp://host:1883,\n"
	      "                       ssl://host:8883 for TLS)\n"
	      "  --mqtt-ca FILE       TLS: the broker's certificate must verify against these CA\n"
	      "                       certificates (PEM; default the system's) and name the host\n"
	      "  --mqtt-cert FILE     TLS: client certificate (PEM), with --mqtt-key\n"
	      "  --mqtt-key FILE      TLS: its private key (PEM, not encrypted)\n"
	      "  --mqtt-prefix P      topic prefix, unit appended (default shellypro3em-sim)\n"
	      "  --mqtt-period D      publication period (default 1s)\n"
	      "  --machines N         with --mqtt, also publish N machines (0..2) on\n"
	      "                       sim/machine<K>/state: {\"state\":\"run\",\"count\":N}\n"
	      "  --meters N           unit ids 1..N (default 5, at most 247)\n"
	      "  --profile NAME       Modbus register map (default pac3200)\n"
	      "  --fault SPEC         inject a fault, SECONDS in simulated time after start:\n"
	      "                       undervoltage overvoltage phase-loss overload low-pf\n"
	      "                       unbalance thd timeout nan wrong-unit bad-length late\n"
	      "                       (e.g. timeout:2@10+30)\n"
	      "  --seed N             random seed (default 1)\n"
	      "  --journal FILE       CSV of every value served: t_us,source,unit,quantity,value\n"
	      "  --start TIME         simulated wall clock at start (default now)\n"
	      "  --speed X            simulated seconds per real second (default 1)\n"
	      "  --for SECONDS        exit after that many real seconds\n"
	      "  --max-clients N      Modbus clients served at once, others closed at accept\n"
	      "                       (default and at most 64; 1: a gateway that takes one)\n"
	      "  --utility KIND       the meters are utility meters: gas, water, air, heat\n"
	      "                       (default: the profile's utility =; water for a pulse\n"
	      "                       counter, whose pulses are 10 l, or 1 kWh for heat)\n"
	      "                       faults leak (flow at night) and wrap (counters wrap\n"
	      "                       about SECONDS after start) are for these\n"
	      "  --pv UNIT[:PEAK]     that unit is a photovoltaic feeder (default peak 250kW):\n"
	      "                       nothing at night, the sun's day with passing clouds;\n"
	      "                       the main board does not carry it (repeatable)\n"
	      "  --incomer            unit 1 is the grid incomer: it carries the PV feeders\n"
	      "                       (their production less the loads goes out: e_exp)\n"
	      "  --list               print the meters and exit\n",
	      out);
}

/* Bad usage: one clear line and exit status 2. */
static int bad(const char *fmt, ...) UTIL_PRINTF(1, 2);
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("phasor sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(see phasor sim --help)\n", stderr);
	return EXIT_USAGE;
}

enum {
	OPT_MODBUS = 256, OPT_MQTT, OPT_METERS, OPT_PROFILE, OPT_FAULT, OPT_SEED,
	OPT_JOURNAL, OPT_START, OPT_SPEED, OPT_FOR, OPT_PREFIX, OPT_PERIOD, OPT_LIST,
	OPT_MAX_CLIENTS, OPT_MQTT_CA, OPT_MQTT_CERT, OPT_MQTT_KEY, OPT_UTILITY, OPT_PV,
	OPT_MACHINES, OPT_INCOMER,
};

static const struct cmd_option sim_opts[] = {
	{ "modbus", true, OPT_MODBUS },
	{ "mqtt", true, OPT_MQTT },
	{ "meters", true, OPT_METERS },
	{ "profile", true, OPT_PROFILE },
	{ "fault", true, OPT_FAULT },
	{ "seed", true, OPT_SEED },
	{ "journal", true, OPT_JOURNAL },
	{ "start", true, OPT_START },
	{ "speed", true, OPT_SPEED },
	{ "for", true, OPT_FOR },
	{ "mqtt-prefix", true, OPT_PREFIX },
	{ "mqtt-period", true, OPT_PERIOD },
	{ "list", false, OPT_LIST },
	{ "max-clients", true, OPT_MAX_CLIENTS },
	{ "mqtt-ca", true, OPT_MQTT_CA },
	{ "mqtt-cert", true, OPT_MQTT_CERT },
	{ "mqtt-key", true, OPT_MQTT_KEY },
	{ "utility", true, OPT_UTILITY },
	{ "pv", true, OPT_PV },
	{ "machines", true, OPT_MACHINES },
	{ "incomer", false, OPT_INCOMER },
	{ NULL, false, 0 },
};

static void free_opts(struct opts *o)
{
	size_t i;

	for (i = 0; i < o->nfaults; i++)
		free(o->fault_specs[i]);
}

static int split_host_port(struct opts *o)
{
	const char *colon = strrchr(o->modbus, ':');
	size_t hlen;
	long p;

	if (colon == NULL || util_parse_long(colon + 1, 0, 65535, &p) < 0)
		return -1;
	hlen = (size_t)(colon - o->modbus);
	if (hlen == 0 || hlen >= sizeof(o->host))
		return -1;
	memcpy(o->host, o->modbus, hlen);
	o->host[hlen] = '\0';
	if (o->host[0] == '[' && hlen > 2 && o->host[hlen - 1] == ']') { /* [::1] */
		memmove(o->host, o->host + 1, hlen - 2);
		o->host[hlen - 2] = '\0';
	}
	snprintf(o->port, sizeof(o->port), "%ld", p);
	return 0;
}

/* One option (cmd_parse's callback): 0, or EXIT_USAGE (message printed). */
static int sim_option(void *ctx, int id, const char *arg)
{
	struct opts *o = ctx;
	char safe[256];
	long l;

	if (arg != NULL)
		util_sanitize(safe, sizeof(safe), arg);
	switch (id) {
	case OPT_MODBUS:
		o->modbus = arg;
		break;
	case OPT_MQTT:
		o->mqtt = arg;
		break;
	case OPT_MQTT_CA:
	case OPT_MQTT_CERT:
	case OPT_MQTT_KEY:
		if (access(arg, R_OK) < 0)
			return bad("--%s '%s': cannot read it: %s",
				   id == OPT_MQTT_CA ? "mqtt-ca" : id == OPT_MQTT_CERT ? "mqtt-cert"
											: "mqtt-key",
				   safe, strerror(errno));
		*(id == OPT_MQTT_CA ? &o->mqtt_ca : id == OPT_MQTT_CERT ? &o->mqtt_cert
									 : &o->mqtt_key) = arg;
		break;
	case OPT_METERS:
		if (util_parse_long(arg, 1, UNIT_MAX, &l) < 0)
			return bad("--meters '%s': a number of meters 1..%d", safe, UNIT_MAX);
		o->meters = (size_t)l;
		break;
	case OPT_PROFILE:
		o->profile = arg;
		break;
	case OPT_FAULT: {
		char *cause = NULL;

		if (o->nfaults == SIM_MAX_FAULTS)
			return bad("at most %d faults", SIM_MAX_FAULTS);
		if (simmodel_parse_fault(arg, &o->faults[o->nfaults], &cause) < 0) {
			int rc = bad("%s", cause);

			free(cause);
			return rc;
		}
		o->fault_specs[o->nfaults++] = util_strdup(safe);
		break;
	}
	case OPT_SEED: {
		char *end;

		errno = 0;
		o->seed = strtoull(arg, &end, 0);
		if (*arg == '\0' || *arg == '-' || *end != '\0' || errno != 0)
			return bad("--seed '%s': a non-negative integer", safe);
		break;
	}
	case OPT_JOURNAL:
		o->journal = arg;
		break;
	case OPT_MAX_CLIENTS:
		if (util_parse_long(arg, 1, SIM_MAX_CLIENTS, &l) < 0)
			return bad("--max-clients '%s': a number of clients 1..%d", safe,
				   SIM_MAX_CLIENTS);
		o->max_clients = (size_t)l;
		break;
	case OPT_START:
		if (util_parse_time(arg, util_now_us(), &o->start_us) < 0)
			return bad("--start '%s': a time like 2026-11-23T08:00:00Z, "
				   "'2026-11-23 08:00' (local) or -2h", safe);
		break;
	case OPT_SPEED:
		if (util_parse_double(arg, &o->speed) < 0 || !(o->speed > 0) || o->speed > 1e6)
			return bad("--speed '%s': simulated seconds per real second, above 0", safe);
		break;
	case OPT_FOR:
		if (util_parse_duration_ms(arg, &o->for_ms) < 0)
			return bad("--for '%s': seconds, or a duration like 30s, 5m", safe);
		break;
	case OPT_PREFIX:
		if (*arg == '\0' || strpbrk(arg, "+#") != NULL)
			return bad("--mqtt-prefix '%s': a topic level without + or #", safe);
		o->prefix = arg;
		o->prefix_set = true;
		break;
	case OPT_PERIOD:
		if (util_parse_duration_ms(arg, &o->period_ms) < 0 || o->period_ms < 10)
			return bad("--mqtt-period '%s': a duration of at least 10ms", safe);
		break;
	case OPT_LIST:
		o->list = true;
		break;
	case OPT_PV: {
		char unit[16];
		const char *colon = strchr(arg, ':');
		size_t ulen = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
		double peak = SIM_PV_PEAK_W;

		if (o->npv == SIM_MAX_PV)
			return bad("at most %d --pv", SIM_MAX_PV);
		if (ulen == 0 || ulen >= sizeof(unit))
			return bad("--pv '%s': UNIT[:PEAK], e.g. 8 or 8:250kW", safe);
		memcpy(unit, arg, ulen);
		unit[ulen] = '\0';
		if (util_parse_long(unit, 1, UNIT_MAX, &l) < 0)
			return bad("--pv '%s': a unit 1..%d", safe, UNIT_MAX);
		if (l == 1)
			return bad("--pv '%s': unit 1 is the main board", safe);
		if (colon != NULL && (util_parse_power_w(colon + 1, &peak) < 0 || !(peak > 0)))
			return bad("--pv '%s': a peak power like 250kW", safe);
		o->pv_unit[o->npv] = (unsigned)l;
		o->pv_peak[o->npv++] = peak;
		break;
	}
	case OPT_INCOMER:
		o->incomer = true;
		break;
	case OPT_MACHINES:
		if (util_parse_long(arg, 0, SIMMODEL_MACHINES, &o->machines) < 0)
			return bad("--machines '%s': 0, 1 or 2", safe);
		break;
	case OPT_UTILITY:
		o->utility = utility_parse(arg);
		if (o->utility < 0) {
			const char *near = util_closest(arg, utility_names());

			return bad("--utility '%s': gas, water, air, heat or electricity%s%s%s", safe,
				   near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		}
		break;
	}
	return 0;
}

/* 0 parsed, 1 --help printed, 2 bad usage (message printed). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	const struct cmd_spec spec = {
		.name = "sim", .options = sim_opts, .option = sim_option, .ctx = o,
		.usage = usage, .hint = true,
	};
	struct cmd_args a;
	char safe[256];
	int rc;

	*o = (struct opts){
		.modbus = "127.0.0.1:5020", .profile = "pac3200", .prefix = "shellypro3em-sim",
		.meters = 5, .max_clients = SIM_MAX_CLIENTS, .seed = 1, .start_us = util_now_us(), .speed = 1.0, .for_ms = -1,
		.period_ms = 1000, .utility = -1,
	};
	rc = cmd_parse(&spec, argc, argv, &a);
	if (rc >= 0)
		return rc == EXIT_OK ? 1 : 2;
	if (split_host_port(o) < 0) {
		util_sanitize(safe, sizeof(safe), o->modbus);
		return bad("--modbus '%s': HOST:PORT (port 0..65535)", safe);
	}
	for (size_t i = 0; i < o->nfaults; i++)
		if (o->faults[i].unit > o->meters)
			return bad("fault '%s': unit %u, but the plant has %zu meters (--meters)",
				   o->fault_specs[i], o->faults[i].unit, o->meters);
	for (size_t i = 0; i < o->npv; i++)
		if (o->pv_unit[i] > o->meters)
			return bad("--pv: unit %u, but the plant has %zu meters (--meters)",
				   o->pv_unit[i], o->meters);
	if ((o->mqtt_cert == NULL) != (o->mqtt_key == NULL))
		return bad("--mqtt-cert and --mqtt-key go together");
	if ((o->mqtt_ca != NULL || o->mqtt_cert != NULL) &&
	    (o->mqtt == NULL ||
	     (strncmp(o->mqtt, "ssl://", 6) != 0 && strncmp(o->mqtt, "mqtts://", 8) != 0)))
		return bad("--mqtt-ca, --mqtt-cert and --mqtt-key need --mqtt ssl://HOST:PORT "
			   "(or mqtts://)");
	return 0;
}

/* ---- register space ------------------------------------------------------- */

enum cover { COV_NONE, COV_HEAD, COV_BODY, COV_GAP };

/* The registers of one function code the device serves. */
struct space {
	bool served;
	int start, count;      /* [start, start + count) */
	uint8_t *cover;        /* enum cover per register */
};

/* Build the space of function fn (3 or 4) from the profile's values. */
static void space_build(struct space *sp, const struct profile *p, int fn)
{
	int lo = 65536, hi = -1, prev_end = -1, a;
	size_t i;

	for (i = 0; i < p->nregs; i++) {
		const struct profile_reg *r = &p->regs[i];

		if (r->function != fn)
			continue;
		lo = r->address < lo ? r->address : lo;
		a = r->address + profile_type_words(r->type);
		hi = a > hi ? a : hi;
	}
	if (hi < 0)
		return;
	sp->served = true;
	sp->start = lo;
	sp->count = hi - lo;
	sp->cover = util_calloc((size_t)sp->count, 1);
	for (i = 0; i < p->nregs; i++) {
		const struct profile_reg *r = &p->regs[i];
		int k, w = profile_type_words(r->type);

		if (r->function != fn)
			continue;
		/* Values may overlap: a value's first register stays a place
		 * where a read may start. */
		sp->cover[r->address - lo] = COV_HEAD;
		for (k = 1; k < w; k++)
			if (sp->cover[r->address - lo + k] != COV_HEAD)
				sp->cover[r->address - lo + k] = COV_BODY;
	}
	/* Holes of at most max_gap registers between values exist on the
	 * device (the profile lets a read span them): serve them as zeros. */
	for (a = 0; a < sp->count; a++) {
		if (sp->cover[a] != COV_NONE) {
			if (prev_end >= 0 && a - prev_end > 0 && a - prev_end <= p->max_gap)
				memset(sp->cover + prev_end, COV_GAP, (size_t)(a - prev_end));
			while (a + 1 < sp->count && sp->cover[a + 1] != COV_NONE)
				a++;
			prev_end = a + 1;
		}
	}
}

/* May [addr, addr + nb) be read: served, starting and ending on value edges? */
static bool space_covers(const struct space *sp, int addr, int nb)
{
	int a;

	if (!sp->served || addr < sp->start || addr + nb > sp->start + sp->count)
		return false;
	if (sp->cover[addr - sp->start] == COV_BODY)
		return false;
	for (a = addr; a < addr + nb; a++)
		if (sp->cover[a - sp->start] == COV_NONE)
			return false;
	return addr + nb == sp->start + sp->count ||
	       sp->cover[addr + nb - sp->start] != COV_BODY;
}

/* ---- MQTT ----------------------------------------------------------------- */

enum { MQ_DOWN, MQ_CONNECTING, MQ_UP };

struct mqtt {
	MQTTAsync client;
	char uri[256];          /* sanitized, for the log */
	atomic_int state;
	atomic_bool disconnected;
	int64_t next_try_mono;
	int64_t backoff_ms;
	unsigned long skipped;   /* publications skipped since the broker went away */
	bool ever_up;            /* main thread: a publication round went out once */
	bool tls;                /* ssl:// or mqtts:// */
	const char *ca, *cert, *key; /* from the options, may be NULL */
};

/* OpenSSL's words when a TLS connect fails (paho's thread): to the log. */
static int mq_on_tls_error(const char *str, size_t len, void *ctx)
{
	struct mqtt *mq = ctx;
	char raw[256], msg[256];

	if (len >= sizeof(raw))
		len = sizeof(raw) - 1;
	memcpy(raw, str, len);
	raw[len] = '\0';
	raw[strcspn(raw, "\n")] = '\0';
	util_sanitize(msg, sizeof(msg), raw);
	log_warn("mqtt: %s: TLS: %s", mq->uri, msg);
	return 0;
}

static void mq_on_connect(void *ctx, MQTTAsync_successData *resp)
{
	struct mqtt *mq = ctx;

	(void)resp;
	atomic_store(&mq->state, MQ_UP);
	log_info("mqtt: connected to %s", mq->uri);
}

static void mq_on_connect_failure(void *ctx, MQTTAsync_failureData *resp)
{
	struct mqtt *mq = ctx;
	char msg[128] = "";

	if (resp != NULL && resp->message != NULL)
		util_sanitize(msg, sizeof(msg), resp->message);
	atomic_store(&mq->state, MQ_DOWN);
	log_warn("mqtt: cannot connect to %s (code %d%s%s); retrying", mq->uri,
		 resp != NULL ? resp->code : 0, msg[0] ? ": " : "", msg);
}

static void mq_on_lost(void *ctx, char *cause)
{
	struct mqtt *mq = ctx;
	char msg[128] = "";

	if (cause != NULL)
		util_sanitize(msg, sizeof(msg), cause);
	atomic_store(&mq->state, MQ_DOWN);
	log_warn("mqtt: connection to %s lost%s%s; still simulating, reconnecting", mq->uri,
		 msg[0] ? ": " : "", msg);
}

static int mq_on_message(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
	(void)ctx;
	(void)len;
	MQTTAsync_freeMessage(&m);
	MQTTAsync_free(topic);
	return 1;
}

static void mq_on_disconnect(void *ctx, MQTTAsync_successData *resp)
{
	struct mqtt *mq = ctx;

	(void)resp;
	atomic_store(&mq->disconnected, true);
}

static void mq_on_disconnect_failure(void *ctx, MQTTAsync_failureData *resp)
{
	struct mqtt *mq = ctx;

	(void)resp;
	atomic_store(&mq->disconnected, true);
}

static int mq_create(struct mqtt *mq, const struct opts *o)
{
	const char *uri = o->mqtt;
	char id[64];
	int rc;

	util_sanitize(mq->uri, sizeof(mq->uri), uri);
	snprintf(id, sizeof(id), "phasor-sim-%ld", (long)getpid());
	rc = MQTTAsync_create(&mq->client, uri, id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
	if (rc != MQTTASYNC_SUCCESS) {
		mq->client = NULL;
		return -1;
	}
	MQTTAsync_setCallbacks(mq->client, mq, mq_on_lost, mq_on_message, NULL);
	atomic_store(&mq->state, MQ_DOWN);
	mq->backoff_ms = 1000;
	mq->tls = strncmp(uri, "ssl://", 6) == 0 || strncmp(uri, "mqtts://", 8) == 0;
	mq->ca = o->mqtt_ca;
	mq->cert = o->mqtt_cert;
	mq->key = o->mqtt_key;
	return 0;
}

/* Start a connection attempt when down and the back-off has passed. */
static void mq_poll(struct mqtt *mq, int64_t now)
{
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
	int state = atomic_load(&mq->state);

	if (state == MQ_UP)
		mq->backoff_ms = 1000; /* the next loss retries at once, then 1 s... */
	if (state != MQ_DOWN || now < mq->next_try_mono)
		return;
	co.keepAliveInterval = 20;
	co.cleansession = 1;
	co.connectTimeout = 5;
	co.onSuccess = mq_on_connect;
	co.onFailure = mq_on_connect_failure;
	co.context = mq;
	if (mq->tls) {
		ssl.trustStore = mq->ca;
		ssl.keyStore = mq->cert;
		ssl.privateKey = mq->key;
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		ssl.ssl_error_cb = mq_on_tls_error;
		ssl.ssl_error_context = mq;
		co.ssl = &ssl;
	}
	atomic_store(&mq->state, MQ_CONNECTING);
	if (MQTTAsync_connect(mq->client, &co) != MQTTASYNC_SUCCESS)
		atomic_store(&mq->state, MQ_DOWN);
	mq->next_try_mono = now + mq->backoff_ms * 1000;
	mq->backoff_ms = mq->backoff_ms * 2 > 30000 ? 30000 : mq->backoff_ms * 2;
}

static void mq_destroy(struct mqtt *mq)
{
	if (mq->client == NULL)
		return;
	if (MQTTAsync_isConnected(mq->client)) {
		MQTTAsync_disconnectOptions dopts = MQTTAsync_disconnectOptions_initializer;
		int i;

		dopts.timeout = 1000;
		dopts.onSuccess = mq_on_disconnect;
		dopts.onFailure = mq_on_disconnect_failure;
		dopts.context = mq;
		if (MQTTAsync_disconnect(mq->client, &dopts) == MQTTASYNC_SUCCESS)
			for (i = 0; i < 150 && !atomic_load(&mq->disconnected); i++)
				util_sleep_ms(10);
		log_info("mqtt: disconnected from %s", mq->uri);
	}
	MQTTAsync_destroy(&mq->client);
}

/* ---- the simulator -------------------------------------------------------- */

struct sim {
	struct opts *o;
	struct profile *prof;
	struct simmodel *model;
	size_t n;
	struct space sp[2];       /* FC 3, FC 4 */
	bool mirror;              /* the FC 3 map is served on FC 4 too */
	modbus_mapping_t **maps;  /* per unit */
	bool *fault_was;          /* per fault: active at the previous tick */
	bool *timed_out;          /* per unit, at the last tick */
	modbus_t *ctx;
	int listen_fd;
	int clients[SIM_MAX_CLIENTS];
	/* per client: the reply a late fault holds back until its next request */
	uint8_t late_frame[SIM_MAX_CLIENTS][MODBUS_TCP_MAX_ADU_LENGTH];
	size_t late_len[SIM_MAX_CLIENTS];
	size_t nclients;
	size_t max_clients;     /* at most SIM_MAX_CLIENTS */
	int sigfd;
	FILE *journal;
	struct mqtt mq;
	bool use_mqtt;
	int64_t tick;             /* simulated seconds at the last tick */
	int utility;              /* enum utility of the plant */
};

/* What a pulse of a simulated pulse counter is: 10 l, or 1 kWh. */
#define SIM_PULSE_M3 0.01
#define SIM_PULSE_WH 1000.0

/* The quantity and size (m3 or Wh) of the simulated pulses. */
static unsigned pulse_qty(const struct sim *s)
{
	return utility_counts_volume((enum utility)s->utility) ? QTY_VOLUME : QTY_E_IMP;
}

static double pulse_size(const struct sim *s)
{
	return pulse_qty(s) == QTY_VOLUME ? SIM_PULSE_M3 : SIM_PULSE_WH;
}

static bool is_unsigned(enum reg_type t)
{
	return t == REG_UINT16 || t == REG_UINT32 || t == REG_UINT64;
}

/* A counter register that wraps: an unsigned integer holding a counter
 * or pulses. */
static bool wraps(const struct profile_reg *r)
{
	return is_unsigned(r->type) &&
	       (r->qty == PROFILE_PULSES || qty_info((unsigned)r->qty)->counter);
}

/* The quantity a register serves (pulses: the volume or energy counted) and
 * the contract units one raw step of it is worth. */
static unsigned served_qty(const struct sim *s, const struct profile_reg *r, double *step)
{
	if (r->qty == PROFILE_PULSES) {
		*step = r->scale * pulse_size(s);
		return pulse_qty(s);
	}
	*step = r->scale;
	return (unsigned)r->qty;
}

/* The raw value of register r for SI values v: a counter wraps at the
 * register's width, as a device's does. */
static double raw_of(const struct sim *s, const struct profile_reg *r, const double *v)
{
	double step, raw;
	unsigned q = served_qty(s, r, &step);

	raw = (v[q] - r->offset) / step;
	if (wraps(r) && isfinite(raw))
		raw = fmod(floor(raw), ldexp(1.0, 16 * profile_type_words(r->type)));
	return raw;
}

static uint16_t *image(const struct sim *s, size_t u, int fi, int addr)
{
	modbus_mapping_t *mp = s->maps[u];

	return fi == 0 ? &mp->tab_registers[addr - s->sp[0].start]
		       : &mp->tab_input_registers[addr - s->sp[1].start];
}

static bool is_float(enum reg_type t)
{
	return t == REG_FLOAT32 || t == REG_FLOAT64;
}

/* Encode unit u's model values into its register images. */
static void encode_unit(struct sim *s, size_t u)
{
	const double *v = simmodel_values(s->model, u);
	size_t i;

	for (i = 0; i < s->prof->nregs; i++) {
		const struct profile_reg *r = &s->prof->regs[i];
		int fi = r->function == 4 ? 1 : 0, w = profile_type_words(r->type);
		uint16_t words[4];
		double x = raw_of(s, r, v);

		if (isnan(x) && !is_float(r->type)) {
			/* An integer register cannot hold NaN: the device's
			 * "no value" pattern, or the last value. */
			if (r->nsentinels == 0)
				continue;
			regmap_encode(regmap_raw_value(r->sentinel[0], r->type), r->type, r->order,
				      words);
		} else {
			regmap_encode(x, r->type, r->order, words);
		}
		memcpy(image(s, u, fi, r->address), words, (size_t)w * sizeof(uint16_t));
		if (s->mirror)
			memcpy(image(s, u, 1, r->address), words, (size_t)w * sizeof(uint16_t));
	}
}

/* One journal line per value of unit u, as a reader decodes it. */
static void journal_unit(struct sim *s, size_t u, int64_t t_us)
{
	size_t i;

	for (i = 0; i < s->prof->nregs; i++) {
		const struct profile_reg *r = &s->prof->regs[i];
		double x;

		regmap_decode(r, image(s, u, r->function == 4 ? 1 : 0, r->address), &x);
		fprintf(s->journal, "%lld,modbus,%zu,%s,%.17g\n", (long long)t_us, u + 1,
			r->qty == PROFILE_PULSES ? "pulses" : qty_name((unsigned)r->qty), x);
	}
}

static void log_faults(struct sim *s)
{
	size_t k, i;

	for (k = 0; k < s->o->nfaults; k++) {
		const struct sim_fault *f = &s->o->faults[k];
		bool now = false;

		for (i = 0; i < s->n && !now; i++)
			if (f->unit == 0 || f->unit == i + 1)
				now = simmodel_fault_active(s->model, i, f->kind);
		if (now != s->fault_was[k])
			log_info("fault %s %s (simulated t = %lld s)", s->o->fault_specs[k],
				 now ? "started" : "ended", (long long)s->tick);
		s->fault_was[k] = now;
	}
}

/* The model's tick: advance, re-encode, journal. */
static void tick(struct sim *s, int64_t sim_s)
{
	int64_t t_us = util_now_us();
	size_t u;

	simmodel_advance(s->model, (double)sim_s);
	s->tick = sim_s;
	for (u = 0; u < s->n; u++) {
		s->timed_out[u] = simmodel_fault_active(s->model, u, SIM_FAULT_TIMEOUT);
		encode_unit(s, u);
		if (s->journal != NULL && !s->timed_out[u])
			journal_unit(s, u, t_us);
	}
	log_faults(s);
	if (s->journal != NULL)
		fflush(s->journal);
}

/* ---- Shelly Pro 3EM over MQTT --------------------------------------------- */

struct shelly_field {
	const char *key;
	int qty;                /* -1: the sum of the phase currents */
	bool journal;           /* b_freq, c_freq repeat a_freq */
};

static const struct shelly_field em_fields[] = {
	{ "a_current", QTY_I_L1, true }, { "a_voltage", QTY_V_L1N, true },
	{ "a_act_power", QTY_P_L1, true }, { "a_aprt_power", QTY_S_L1, true },
	{ "a_pf", QTY_PF_L1, true }, { "a_freq", QTY_FREQ, true },
	{ "b_current", QTY_I_L2, true }, { "b_voltage", QTY_V_L2N, true },
	{ "b_act_power", QTY_P_L2, true }, { "b_aprt_power", QTY_S_L2, true },
	{ "b_pf", QTY_PF_L2, true }, { "b_freq", QTY_FREQ, false },
	{ "c_current", QTY_I_L3, true }, { "c_voltage", QTY_V_L3N, true },
	{ "c_act_power", QTY_P_L3, true }, { "c_aprt_power", QTY_S_L3, true },
	{ "c_pf", QTY_PF_L3, true }, { "c_freq", QTY_FREQ, false },
	{ "n_current", QTY_I_N, true }, { "total_current", -1, false },
	{ "total_act_power", QTY_P_TOTAL, true }, { "total_aprt_power", QTY_S_TOTAL, true },
	{ NULL, 0, false },
};

static const struct shelly_field emdata_fields[] = {
	{ "a_total_act_energy", QTY_E_IMP_L1, true },
	{ "a_total_act_ret_energy", QTY_E_EXP_L1, true },
	{ "b_total_act_energy", QTY_E_IMP_L2, true },
	{ "b_total_act_ret_energy", QTY_E_EXP_L2, true },
	{ "c_total_act_energy", QTY_E_IMP_L3, true },
	{ "c_total_act_ret_energy", QTY_E_EXP_L3, true },
	{ "total_act", QTY_E_IMP, true },
	{ "total_act_ret", QTY_E_EXP, true },
	{ NULL, 0, false },
};

/* A utility meter as the utility-json profile reads it. */
static const struct shelly_field utility_fields[] = {
	{ "flow", QTY_FLOW, true }, { "volume", QTY_VOLUME, true },
	{ "pressure", QTY_PRESSURE, true }, { "temperature", QTY_TEMP, true },
	{ NULL, 0, false },
};

/* Publish one status object; journal each value as published. */
static void publish_status(struct sim *s, size_t u, const char *component,
			   const struct shelly_field *fields, int64_t t_us)
{
	const double *v = simmodel_values(s->model, u);
	MQTTAsync_message msg = MQTTAsync_message_initializer;
	cJSON *obj = cJSON_CreateObject();
	char topic[512], text[64];
	double published[32];
	char *payload;
	size_t i;
	int rc;

	cJSON_AddNumberToObject(obj, "id", 0);
	for (i = 0; fields[i].key != NULL; i++) {
		double x = fields[i].qty >= 0 ? v[fields[i].qty]
					      : v[QTY_I_L1] + v[QTY_I_L2] + v[QTY_I_L3];

		if (!isfinite(x)) {
			cJSON_AddNullToObject(obj, fields[i].key);
			published[i] = NAN;
			continue;
		}
		/* Shelly prints three decimals. */
		snprintf(text, sizeof(text), "%.3f", x);
		if (strcmp(text, "-0.000") == 0)
			strcpy(text, "0.000");
		cJSON_AddRawToObject(obj, fields[i].key, text);
		published[i] = strtod(text, NULL);
	}
	payload = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (payload == NULL)
		util_fail("out of memory");
	snprintf(topic, sizeof(topic), "%s%zu/status/%s", s->o->prefix, u + 1, component);
	msg.payload = payload;
	msg.payloadlen = (int)strlen(payload);
	msg.qos = 1;
	msg.retained = 0;
	rc = MQTTAsync_sendMessage(s->mq.client, topic, &msg, NULL);
	cJSON_free(payload);
	if (rc != MQTTASYNC_SUCCESS) {
		if (s->mq.skipped++ == 0)
			log_warn("mqtt: cannot publish (code %d); publications skipped until the "
				 "broker is back", rc);
		return;
	}
	if (s->journal == NULL)
		return;
	for (i = 0; fields[i].key != NULL; i++)
		if (fields[i].journal)
			fprintf(s->journal, "%lld,mqtt,%zu,%s,%.17g\n", (long long)t_us, u + 1,
				qty_name((unsigned)fields[i].qty), published[i]);
}

/* The simulated machines' states and piece counters (simmodel_machine). */
static void publish_machines(struct sim *s)
{
	long k;

	for (k = 0; k < s->o->machines; k++) {
		static const char *const word[] = { "run", "wait", "stop" };
		MQTTAsync_message msg = MQTTAsync_message_initializer;
		uint64_t pieces;
		int st = simmodel_machine((size_t)k, s->tick, &pieces);
		char topic[64], payload[96];

		if (st < 0)
			continue;
		snprintf(topic, sizeof(topic), "sim/machine%ld/state", k + 1);
		snprintf(payload, sizeof(payload), "{\"state\":\"%s\",\"count\":%llu}", word[st],
			 (unsigned long long)pieces);
		msg.payload = payload;
		msg.payloadlen = (int)strlen(payload);
		msg.qos = 1;
		msg.retained = 1;
		if (MQTTAsync_sendMessage(s->mq.client, topic, &msg, NULL) != MQTTASYNC_SUCCESS)
			s->mq.skipped++;
	}
}

static void publish_all(struct sim *s)
{
	int64_t t_us = util_now_us();
	size_t u;

	if (atomic_load(&s->mq.state) != MQ_UP) {
		/* Before the first connection there is nothing to report. */
		if (s->mq.ever_up && s->mq.skipped++ == 0)
			log_warn("mqtt: not connected; publications skipped until the broker is "
				 "back");
		return;
	}
	s->mq.ever_up = true;
	if (s->mq.skipped > 0) {
		log_info("mqtt: publishing again (%lu skipped)", s->mq.skipped);
		s->mq.skipped = 0;
	}
	for (u = 0; u < s->n; u++) {
		if (s->timed_out[u])
			continue; /* a silent meter publishes nothing either */
		if (s->utility != UTILITY_ELECTRICITY) {
			publish_status(s, u, "utility", utility_fields, t_us);
			continue;
		}
		publish_status(s, u, "em:0", em_fields, t_us);
		publish_status(s, u, "emdata:0", emdata_fields, t_us);
	}
	publish_machines(s);
	if (s->journal != NULL)
		fflush(s->journal);
}

/* ---- Modbus server -------------------------------------------------------- */

static void describe_peer(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
			port = ntohs(in->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
			port = ntohs(in6->sin6_port);
		}
	}
	snprintf(buf, size, "%s:%d", host, port);
}

static void accept_client(struct sim *s)
{
	char peer[80];
	int fd = modbus_tcp_pi_accept(s->ctx, &s->listen_fd);

	if (fd < 0) {
		log_warn("modbus: accept: %s", modbus_strerror(errno));
		return;
	}
	describe_peer(fd, peer, sizeof(peer));
	if (s->nclients >= s->max_clients || fd >= FD_SETSIZE) {
		log_warn("modbus: client %s refused: %d clients already", peer, (int)s->nclients);
		close(fd);
		return;
	}
	s->late_len[s->nclients] = 0;
	s->clients[s->nclients++] = fd;
	log_info("modbus: client %s connected (%zu connected)", peer, s->nclients);
}

static void drop_client(struct sim *s, size_t i)
{
	char peer[80];

	describe_peer(s->clients[i], peer, sizeof(peer));
	close(s->clients[i]);
	s->clients[i] = s->clients[--s->nclients];
	s->late_len[i] = s->late_len[s->nclients];
	memcpy(s->late_frame[i], s->late_frame[s->nclients], s->late_len[i]);
	log_info("modbus: client %s disconnected (%zu connected)", peer, s->nclients);
}

/* The unit id a wrong-unit fault answers unit u with: u + 5, in 1..247. */
static unsigned other_unit(unsigned u)
{
	return (u - 1 + 5) % UNIT_MAX + 1;
}

/*
 * The answer to the read in req (nb registers at addr, image fi of unit u)
 * written here rather than by libmodbus, for the faults libmodbus cannot
 * produce: the MBAP length claims extra bytes more than follow (bad-length),
 * or the frame is held back (late). The unit id is req's. Returns its size.
 */
#define BAD_LENGTH_EXTRA 50

static size_t build_read_reply(struct sim *s, const uint8_t *req, unsigned u, int fi, int addr,
			       int nb, unsigned extra, uint8_t *frame)
{
	const uint16_t *regs = image(s, u - 1, fi, addr);
	size_t len = 9 + 2 * (size_t)nb, k;
	unsigned mbap = (unsigned)(len - 6) + extra;

	frame[0] = req[0]; /* transaction id */
	frame[1] = req[1];
	frame[2] = 0;      /* protocol id */
	frame[3] = 0;
	frame[4] = (uint8_t)(mbap >> 8);
	frame[5] = (uint8_t)mbap;
	frame[6] = req[6]; /* unit id */
	frame[7] = req[7]; /* function */
	frame[8] = (uint8_t)(2 * nb);
	for (k = 0; k < (size_t)nb; k++) {
		frame[9 + 2 * k] = (uint8_t)(regs[k] >> 8);
		frame[10 + 2 * k] = (uint8_t)regs[k];
	}
	return len;
}

static void send_frame(struct sim *s, const uint8_t *frame, size_t len)
{
	if (send(modbus_get_socket(s->ctx), frame, len, MSG_NOSIGNAL) != (ssize_t)len)
		log_debug("modbus: cannot send: %s", strerror(errno));
}

/* Check a request and answer it (or not, for a unit that times out). */
static void handle_request(struct sim *s, size_t ci, const uint8_t *req_in, int len)
{
	int hl = modbus_get_header_length(s->ctx);
	unsigned unit = req_in[hl - 1];
	int fn = req_in[hl], addr, nb, fi;
	uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];

	/* A reply held back by a late fault goes out when the next request
	 * comes, whatever it asks: the client reads it as that one's answer. */
	if (s->late_len[ci] > 0) {
		send_frame(s, s->late_frame[ci], s->late_len[ci]);
		s->late_len[ci] = 0;
	}
	if (unit < 1 || unit > s->n) {
		log_debug("modbus: request for unknown unit %u", unit);
		modbus_reply_exception(s->ctx, req_in, MODBUS_EXCEPTION_GATEWAY_TARGET);
		return;
	}
	if (s->timed_out[unit - 1])
		return; /* the fault: read and never answer */
	/* libmodbus answers with the request's unit id: under a wrong-unit
	 * fault it is given the request with another one. */
	memcpy(req, req_in, (size_t)len);
	if (simmodel_fault_active(s->model, unit - 1, SIM_FAULT_WRONG_UNIT))
		req[hl - 1] = (uint8_t)other_unit(unit);
	fi = fn == MODBUS_FC_READ_INPUT_REGISTERS ? 1 : 0;
	if ((fn != MODBUS_FC_READ_HOLDING_REGISTERS && fn != MODBUS_FC_READ_INPUT_REGISTERS) ||
	    !s->sp[fi].served || len < hl + 5) {
		log_debug("modbus: unit %u: function %d refused", unit, fn);
		modbus_reply_exception(s->ctx, req, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
		return;
	}
	addr = (req[hl + 1] << 8) | req[hl + 2];
	nb = (req[hl + 3] << 8) | req[hl + 4];
	if (nb < 1 || nb > MODBUS_MAX_READ_REGISTERS || nb > s->prof->max_registers) {
		log_debug("modbus: unit %u: %d registers refused (max %d)", unit, nb,
			  s->prof->max_registers);
		modbus_reply_exception(s->ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
		return;
	}
	if (!space_covers(&s->sp[fi], addr, nb)) {
		log_debug("modbus: unit %u: FC %d %d+%d is not served", unit, fn, addr, nb);
		modbus_reply_exception(s->ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
		return;
	}
	if (simmodel_fault_active(s->model, unit - 1, SIM_FAULT_LATE)) {
		s->late_len[ci] = build_read_reply(s, req, unit, fi, addr, nb, 0, s->late_frame[ci]);
		return;
	}
	if (simmodel_fault_active(s->model, unit - 1, SIM_FAULT_BAD_LENGTH)) {
		uint8_t frame[MODBUS_TCP_MAX_ADU_LENGTH];

		send_frame(s, frame,
			   build_read_reply(s, req, unit, fi, addr, nb, BAD_LENGTH_EXTRA, frame));
		return;
	}
	modbus_reply(s->ctx, req, len, s->maps[unit - 1]);
}

static void serve_client(struct sim *s, size_t i)
{
	uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
	int len;

	modbus_set_socket(s->ctx, s->clients[i]);
	len = modbus_receive(s->ctx, req);
	if (len < 0) {
		drop_client(s, i);
		return;
	}
	if (len > 0)
		handle_request(s, i, req, len);
}

/* Listen on HOST:PORT; prints the listening line. 0, or -1 (logged). */
static int listen_modbus(struct sim *s)
{
	char shown[300], bound[INET6_ADDRSTRLEN + 2] = "?";
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int bport = 0;

	util_sanitize(shown, sizeof(shown), s->o->modbus);
	s->ctx = modbus_new_tcp_pi(s->o->host, s->o->port);
	if (s->ctx == NULL) {
		log_error("modbus: %s: %s", shown, modbus_strerror(errno));
		return -1;
	}
	s->listen_fd = modbus_tcp_pi_listen(s->ctx, 16);
	if (s->listen_fd < 0) {
		log_error("modbus: cannot listen on %s: %s", shown, modbus_strerror(errno));
		return -1;
	}
	/* A request is read once select() says it is there: do not wait long
	 * for the rest of one that stalls. */
	modbus_set_indication_timeout(s->ctx, 1, 0);
	if (getsockname(s->listen_fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, bound,
				  sizeof(bound));
			bport = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			char b6[INET6_ADDRSTRLEN];

			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, b6, sizeof(b6));
			snprintf(bound, sizeof(bound), "[%s]", b6);
			bport = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
	}
	fprintf(stderr, "phasor sim: modbus listening on %s:%d\n", bound, bport);
	fflush(stderr);
	return 0;
}

/* ---- set-up and the loop ---------------------------------------------------- */

static int load_profile(struct sim *s)
{
	char path[4096], safe[128];
	struct diag d;

	diag_init(&d);
	util_sanitize(safe, sizeof(safe), s->o->profile);
	if (profile_find(s->o->profile, path, sizeof(path)) < 0) {
		const char *near = profile_suggest(s->o->profile);

		if (near != NULL)
			fprintf(stderr, "phasor sim: unknown profile '%s' (did you mean '%s'?)\n",
				safe, near);
		else
			fprintf(stderr, "phasor sim: %s profile '%s' (searched " PROFILE_SEARCHED
				")%s\n", profile_shipped(s->o->profile) ? "no" : "unknown", safe,
				profile_shipped(s->o->profile) ? ": is phasor installed?" : "");
		return EXIT_USAGE;
	}
	s->prof = profile_load(path, s->o->profile, &d);
	if (s->prof == NULL) {
		diag_print(&d, stderr);
		diag_clear(&d);
		return EXIT_USAGE;
	}
	diag_clear(&d);
	if (s->prof->driver != PROFILE_MODBUS || s->prof->nregs == 0) {
		fprintf(stderr, "phasor sim: profile '%s' is not a Modbus profile\n", safe);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void build_images(struct sim *s)
{
	size_t u, i;

	space_build(&s->sp[0], s->prof, 3);
	space_build(&s->sp[1], s->prof, 4);
	for (i = 0; dual_fc_profiles[i] != NULL; i++)
		if (strcmp(s->prof->name, dual_fc_profiles[i]) == 0 && s->sp[0].served &&
		    !s->sp[1].served)
			s->mirror = true;
	if (s->mirror) {
		s->sp[1] = s->sp[0];
		s->sp[1].cover = util_malloc((size_t)s->sp[0].count);
		memcpy(s->sp[1].cover, s->sp[0].cover, (size_t)s->sp[0].count);
	}
	s->maps = util_calloc(s->n, sizeof(*s->maps));
	for (u = 0; u < s->n; u++) {
		s->maps[u] = modbus_mapping_new_start_address(
			0, 0, 0, 0, (unsigned)s->sp[0].start, (unsigned)s->sp[0].count,
			(unsigned)s->sp[1].start, (unsigned)s->sp[1].count);
		if (s->maps[u] == NULL)
			util_fail("out of memory");
	}
}

/* The plant's utility: --utility, else the profile's, else water for a
 * pulse counter (10 l pulses). */
static int plant_utility(const struct sim *s)
{
	if (s->o->utility >= 0)
		return s->o->utility;
	if (s->prof->utility_set)
		return s->prof->utility;
	return s->prof->pulses ? UTILITY_WATER : UTILITY_ELECTRICITY;
}

/*
 * wrap faults: each covered unit's first wrapping counter register starts
 * where today's flow (or power) takes it past the register's last value
 * about SECONDS after start, so that a reader sees the counter wrap.
 */
static void preset_wraps(struct sim *s)
{
	size_t k, u, i;

	for (k = 0; k < s->o->nfaults; k++) {
		const struct sim_fault *f = &s->o->faults[k];

		if (f->kind != SIM_FAULT_WRAP)
			continue;
		for (u = 0; u < s->n; u++) {
			const double *v = simmodel_values(s->model, u);
			const struct profile_reg *r = NULL;
			double step, top, rate;
			unsigned q;

			if (f->unit != 0 && f->unit != u + 1)
				continue;
			for (i = 0; i < s->prof->nregs && r == NULL; i++)
				if (wraps(&s->prof->regs[i]))
					r = &s->prof->regs[i];
			if (r == NULL)
				continue;
			q = served_qty(s, r, &step);
			top = ldexp(1.0, 16 * profile_type_words(r->type)) * step;
			rate = q == QTY_VOLUME ? v[QTY_FLOW] / 3600.0 : fmax(v[QTY_P_TOTAL], 0) / 3600.0;
			if (!(rate > 0))
				rate = 0;
			simmodel_preset_counter(s->model, u, q, fmax(0.0, top - step - rate * f->start_s));
			log_info("fault %s: unit %zu's %s starts at %.17g, wraps at %.17g", s->o->fault_specs[k],
				 u + 1, qty_name(q), simmodel_values(s->model, u)[q], top);
		}
	}
}

/* --list: the electrical plant, and the utility meters' rated flow when
 * the plant is one (utility: enum utility). */
static void list_meters(const struct opts *o, int utility)
{
	struct simmodel *m = simmodel_new(o->meters, o->seed, o->start_us);
	size_t i;

	simmodel_set_utility(m, utility);
	for (i = 0; i < o->npv; i++)
		simmodel_set_pv(m, o->pv_unit[i] - 1, o->pv_peak[i]);
	simmodel_set_incomer(m, o->incomer);
	printf("%-4s  %-11s  %9s  %s\n", "unit", "kind", "rated", "description");
	for (i = 0; i < o->meters; i++) {
		enum sim_load l = simmodel_load(m, i);

		printf("%-4zu  %-11s  %6.0f kW  %s", i + 1, simmodel_load_name(l),
		       simmodel_rated_power(m, i) / 1000.0, simmodel_load_description(l));
		if (utility != UTILITY_ELECTRICITY)
			printf("; %s meter, rated flow %.0f m3/h", utility_name((enum utility)utility),
			       simmodel_rated_flow(m, i));
		putchar('\n');
	}
	simmodel_free(m);
}

static int open_signals(struct sim *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);
	return s->sigfd < 0 ? -1 : 0;
}

static int run(struct sim *s)
{
	const int64_t mono0 = util_mono_us();
	const int64_t end = s->o->for_ms >= 0 ? mono0 + s->o->for_ms * 1000 : INT64_MAX;
	int64_t next_pub = mono0;

	for (;;) {
		int64_t now = util_mono_us(), due, next_tick, wake;
		struct timeval tv;
		fd_set rd;
		int maxfd, rc;
		size_t i;

		if (now >= end) {
			log_info("stopping after --for");
			return EXIT_OK;
		}
		due = (int64_t)floor((double)(now - mono0) * s->o->speed / 1e6);
		if (due > s->tick)
			tick(s, due);
		if (s->use_mqtt) {
			mq_poll(&s->mq, now);
			if (now >= next_pub) {
				publish_all(s);
				next_pub += s->o->period_ms * 1000;
				if (next_pub <= now)
					next_pub = now + s->o->period_ms * 1000;
			}
		}

		next_tick = mono0 + (int64_t)ceil((double)(s->tick + 1) * 1e6 / s->o->speed);
		wake = next_tick < end ? next_tick : end;
		if (s->use_mqtt) {
			wake = next_pub < wake ? next_pub : wake;
			if (atomic_load(&s->mq.state) == MQ_DOWN && s->mq.next_try_mono < wake)
				wake = s->mq.next_try_mono;
		}
		now = util_mono_us();
		wake = wake > now ? wake - now : 0;
		tv.tv_sec = (time_t)(wake / 1000000);
		tv.tv_usec = (suseconds_t)(wake % 1000000);

		FD_ZERO(&rd);
		FD_SET(s->sigfd, &rd);
		FD_SET(s->listen_fd, &rd);
		maxfd = s->sigfd > s->listen_fd ? s->sigfd : s->listen_fd;
		for (i = 0; i < s->nclients; i++) {
			FD_SET(s->clients[i], &rd);
			maxfd = s->clients[i] > maxfd ? s->clients[i] : maxfd;
		}
		rc = select(maxfd + 1, &rd, NULL, NULL, &tv);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			log_error("select: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		if (rc == 0)
			continue;
		if (FD_ISSET(s->sigfd, &rd)) {
			struct signalfd_siginfo si;

			if (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				log_info("%s: stopping", strsignal((int)si.ssi_signo));
			return EXIT_OK;
		}
		/* Clients first (from the end: drop_client moves the last one). */
		for (i = s->nclients; i-- > 0;)
			if (FD_ISSET(s->clients[i], &rd))
				serve_client(s, i);
		if (FD_ISSET(s->listen_fd, &rd))
			accept_client(s);
	}
}

static void sim_free(struct sim *s)
{
	size_t u;

	if (s->use_mqtt)
		mq_destroy(&s->mq);
	while (s->nclients > 0)
		drop_client(s, s->nclients - 1);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->ctx != NULL) {
		modbus_set_socket(s->ctx, -1);
		modbus_free(s->ctx);
	}
	if (s->maps != NULL)
		for (u = 0; u < s->n; u++)
			modbus_mapping_free(s->maps[u]);
	free(s->maps);
	free(s->sp[0].cover);
	free(s->sp[1].cover);
	free(s->fault_was);
	free(s->timed_out);
	if (s->journal != NULL)
		fclose(s->journal);
	if (s->sigfd >= 0)
		close(s->sigfd);
	simmodel_free(s->model);
	profile_free(s->prof);
}

int cmd_sim(int argc, char **argv)
{
	struct opts o;
	struct sim s = { .listen_fd = -1, .sigfd = -1 };
	int rc;
	size_t i;

	rc = parse_opts(argc, argv, &o);
	if (rc != 0) {
		free_opts(&o);
		return rc == 1 ? EXIT_OK : EXIT_USAGE;
	}
	s.o = &o;
	s.n = o.meters;
	s.max_clients = o.max_clients;
	rc = load_profile(&s);
	if (rc != EXIT_OK)
		goto out;
	if (o.list) {
		list_meters(&o, plant_utility(&s));
		goto out;
	}
	/* Before any thread exists (paho's inherit the blocked signals). */
	if (open_signals(&s) < 0) {
		log_error("signals: %s", strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (o.mqtt != NULL) {
		if (mq_create(&s.mq, &o) < 0) {
			char safe[256];

			util_sanitize(safe, sizeof(safe), o.mqtt);
			fprintf(stderr, "phasor sim: --mqtt '%s': not a broker URI "
				"(tcp://host:1883, ssl://host:8883)\n", safe);
			rc = EXIT_USAGE;
			goto out;
		}
		s.use_mqtt = true;
	}
	if (o.journal != NULL) {
		s.journal = fopen(o.journal, "w");
		if (s.journal == NULL) {
			char safe[256];

			util_sanitize(safe, sizeof(safe), o.journal);
			log_error("cannot write the journal %s: %s", safe, strerror(errno));
			rc = EXIT_RUNTIME;
			goto out;
		}
		fputs("t_us,source,unit,quantity,value\n", s.journal);
	}

	s.model = simmodel_new(s.n, o.seed, o.start_us);
	s.utility = plant_utility(&s);
	simmodel_set_utility(s.model, s.utility);
	for (i = 0; i < o.npv; i++)
		simmodel_set_pv(s.model, o.pv_unit[i] - 1, o.pv_peak[i]);
	simmodel_set_incomer(s.model, o.incomer);
	if (s.utility != UTILITY_ELECTRICITY && !o.prefix_set)
		o.prefix = "utility-sim";
	for (i = 0; i < o.nfaults; i++)
		simmodel_add_fault(s.model, &o.faults[i]);
	preset_wraps(&s);
	s.fault_was = util_calloc(o.nfaults ? o.nfaults : 1, sizeof(*s.fault_was));
	s.timed_out = util_calloc(s.n, sizeof(*s.timed_out));
	build_images(&s);

	if (listen_modbus(&s) < 0) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	{
		char start[32];

		util_format_time_ms(o.start_us, start, sizeof(start));
		log_info("sim: %zu meters%s%s, profile %s (FC %s), seed %llu, simulated start %s, "
			 "speed %g", s.n, s.utility != UTILITY_ELECTRICITY ? ", utility " : "",
			 s.utility != UTILITY_ELECTRICITY ? utility_name((enum utility)s.utility) : "",
			 s.prof->name,
			 s.sp[0].served && s.sp[1].served ? "3 and 4" : s.sp[0].served ? "3" : "4",
			 (unsigned long long)o.seed, start, o.speed);
	}
	for (i = 0; i < o.nfaults; i++)
		log_info("fault %s planned", o.fault_specs[i]);
	tick(&s, 0);
	if (s.use_mqtt)
		log_info("mqtt: publishing to %s as %sN/status/%s every %lld ms", s.mq.uri,
			 o.prefix, s.utility != UTILITY_ELECTRICITY ? "utility" : "em:0",
			 (long long)o.period_ms);
	rc = run(&s);
out:
	sim_free(&s);
	free_opts(&o);
	return rc;
}
