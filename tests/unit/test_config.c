// SPDX-License-Identifier: MIT
/*
 * Unit tests of config.c: a complete valid file gives the expected values,
 * defaults fill the rest, every kind of error gives exactly its
 * "file:line: message", all errors of a file come out in line order,
 * secrets are refused unless private, relative paths follow the file, and
 * the default path search honours the environment. Profiles come from the
 * repository's conf/profiles (absolute path in $PHASOR_PROFILES).
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "phasor/config.h"
#include "phasor/operators.h"
#include "phasor/log.h"
#include "phasor/qty.h"
#include "phasor/util.h"
#include "support_config.h"
#include "support.h"

static char tmpdir[PATH_MAX];
static char profiles_dir[PATH_MAX + 32];

/* ---- helpers ------------------------------------------------------------ */

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *tmp_path(const char *name)
{
	return util_printf("%s/%s", tmpdir, name);
}

/*
 * tmpdir/NAME.pem, a self-signed certificate (a CA, or a client's), and
 * tmpdir/NAME.key its key, mode 0600: made by the openssl command now,
 * never kept in the tree.
 */
static void make_pem(const char *name)
{
	char *cmd = util_printf("cd '%s' && openssl req -x509 -newkey ec "
				"-pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout %s.key "
				"-out %s.pem -days 2 -subj '/CN=%s' >openssl-%s.log 2>&1 && "
				"chmod 600 %s.key",
				tmpdir, name, name, name, name, name);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	char *base;

	(void)state;
	base = util_printf("%s/phasor-test-config.XXXXXX",
			   getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(base));
	util_strlcpy(tmpdir, base, sizeof(tmpdir));
	free(base);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}


/* A valid modbus meter on lines 1..4. */
#define MB "[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.1\n"
/* A valid alarm on lines 5..9 after MB. */
#define AL "[alarm a]\nmeters = *\nquantity = pf\ntype = low\nlimit = 0.85\n"
/* A valid broker on lines 1..2. */
#define BROKER "[mqtt]\nuri = tcp://127.0.0.1:1883\n"

/* ---- the complete valid file -------------------------------------------- */

static void test_complete(void **state)
{
	char *path = tmp_path("phasor.ini"), *pass = tmp_path("mqtt.pass");
	char *pgpass = tmp_path("pg.pass"), *ca = tmp_path("ca.pem");
	char *want;
	struct diag d;
	struct config *c;
	const struct config_meter *m;

	(void)state;
	write_file(pass, "s3cret\n", 0600);
	write_file(pgpass, "pgsecret", 0600);
	make_pem("ca");
	write_file(path,
		   "# every key\n"
		   "[site]\n"
		   "name = Le Mans plant\n"
		   "timezone = UTC\n"
		   "target_pf = 0.93\n"
		   "nominal_frequency = 60\n"
		   "price_per_kwh = 0.1523\n"
		   "currency = EUR\n"
		   "co2_per_kwh = 0.052\n"
		   "\n"
		   "[console]\n"
		   "theme = high-contrast\n"
		   "refresh = 2s\n"
		   "[store]\n"
		   "path = /var/lib/phasor/buffer.db      ; the local SQLite buffer\n"
		   "retention = 7d\n"
		   "queue_max = 20000\n"
		   "batch_rows = 100\n"
		   "commit_interval = 250ms\n"
		   "[log]\n"
		   "path = /var/log/phasor.log\n"
		   "level = debug\n"
		   "[mqtt]\n"
		   "uri = ssl://broker.plant:8883\n"
		   "client_id = phasor-console-1\n"
		   "username = phasor\n"
		   "password_file = mqtt.pass\n"
		   "ca_file = ca.pem\n"
		   "qos = 2\n"
		   "keepalive = 1m\n"
		   "share_group = consoles\n"
		   "clean_session = no\n"
		   "[sync]\n"
		   "postgres = host=db.plant port=5432 dbname=energy user=phasor sslmode=require\n"
		   "password_file = pg.pass\n"
		   "interval = 30s\n"
		   "\n"
		   "[meter tgbt-1]                         ; one section per meter\n"
		   "driver = modbus\n"
		   "profile = pac3200\n"
		   "description = Main LV board\n"
		   "host = 10.0.0.21\n"
		   "port = 1502\n"
		   "unit = 7\n"
		   "poll_ms = 500\n"
		   "timeout_ms = 300\n"
		   "nominal_voltage = 400\n"
		   "max_power = 1.2MW\n"
		   "aggregate = yes\n"
		   "\n"
		   "[meter press-3]\n"
		   "  driver = mqtt\n"
		   "  profile = shelly-pro3em\n"
		   "  topic = shellypro3em-press3/status/em:0\n"
		   "  topic = shellypro3em-press3/status/emdata:0\n"
		   "  topic = $share/g/shellies/+/events/#\n"
		   "  poll_ms = 5000\n",
		   0644);
	diag_init(&d);
	c = config_load(path, &d);
	if (c == NULL)
		diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(d.n, 0);

	assert_string_equal(c->path, path);
	assert_non_null(strstr(c->text, "[meter press-3]"));
	assert_string_equal(c->site.name, "Le Mans plant");
	assert_string_equal(c->site.timezone, "UTC");
	assert_true(c->site.target_pf == 0.93);
	assert_true(c->site.nominal_freq == 60);
	assert_true(c->site.price_per_kwh == 0.1523);
	assert_string_equal(c->site.currency, "EUR");
	assert_true(c->site.co2_per_kwh == 0.052);
	assert_string_equal(c->console.theme, "high-contrast");
	assert_int_equal(c->console.refresh_ms, 2000);
	assert_true(c->meters[0].aggregate);
	assert_false(c->meters[1].aggregate);

	assert_string_equal(c->store.path, "/var/lib/phasor/buffer.db");
	assert_true(c->store.retention_ms == 7LL * 86400000);
	assert_int_equal(c->store.queue_max, 20000);
	assert_int_equal(c->store.batch_rows, 100);
	assert_int_equal(c->store.commit_ms, 250);
	assert_string_equal(c->log.path, "/var/log/phasor.log");
	assert_int_equal(c->log.level, LOG_DEBUG);

	assert_true(c->mqtt.enabled);
	assert_int_equal(c->mqtt.line, 23);
	assert_string_equal(c->mqtt.uri, "ssl://broker.plant:8883");
	assert_string_equal(c->mqtt.client_id, "phasor-console-1");
	assert_string_equal(c->mqtt.username, "phasor");
	assert_string_equal(c->mqtt.password, "s3cret");
	assert_string_equal(c->mqtt.ca_file, ca);
	assert_int_equal(c->mqtt.qos, 2);
	assert_int_equal(c->mqtt.keepalive_s, 60);
	assert_string_equal(c->mqtt.share_group, "consoles");
	assert_false(c->mqtt.clean_session);

	assert_true(c->sync.enabled);
	assert_int_equal(c->sync.line, 33);
	assert_string_equal(c->sync.postgres,
			    "host=db.plant port=5432 dbname=energy user=phasor sslmode=require");
	assert_string_equal(c->sync.password, "pgsecret");
	assert_true(c->sync.interval_ms == 30000);

	assert_int_equal(c->nmeters, 2);
	assert_int_equal(config_meter_index(c, "press-3"), 1);
	assert_int_equal(config_meter_index(c, "nope"), -1);
	m = &c->meters[0];
	assert_string_equal(m->name, "tgbt-1");
	assert_int_equal(m->driver, DRIVER_MODBUS);
	assert_string_equal(m->profile_name, "pac3200");
	assert_non_null(m->profile);
	assert_string_equal(m->profile->name, "pac3200");
	assert_string_equal(m->description, "Main LV board");
	assert_string_equal(m->host, "10.0.0.21");
	assert_int_equal(m->port, 1502);
	assert_int_equal(m->unit, 7);
	assert_int_equal(m->poll_ms, 500);
	assert_int_equal(m->timeout_ms, 300);
	assert_true(m->nominal_voltage == 400);
	assert_true(m->max_power == 1.2e6);
	assert_int_equal(m->line, 38);
	assert_int_equal(m->ntopics, 0);

	m = &c->meters[1];
	assert_string_equal(m->name, "press-3");
	assert_int_equal(m->driver, DRIVER_MQTT);
	assert_non_null(m->profile);
	assert_int_equal(m->profile->driver, PROFILE_MQTT);
	assert_null(m->description);
	assert_int_equal(m->ntopics, 3);
	assert_string_equal(m->topics[0], "shellypro3em-press3/status/em:0");
	assert_string_equal(m->topics[1], "shellypro3em-press3/status/emdata:0");
	assert_string_equal(m->topics[2], "$share/g/shellies/+/events/#");
	assert_int_equal(m->poll_ms, 5000);
	assert_int_equal(m->line, 51);

	assert_int_equal(c->nprofiles, 2);
	assert_ptr_equal(c->meters[0].profile, c->profiles[0]);
	assert_ptr_equal(c->meters[1].profile, c->profiles[1]);

	/* The summary lists meters, profiles with their files, and topics
	 * (with the share group applied, but not twice). */
	{
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		assert_non_null(f);
		config_print_summary(c, f);
		fclose(f);
		assert_non_null(strstr(out, "meters (2):"));
		assert_non_null(strstr(out, "tgbt-1"));
		assert_non_null(strstr(out, "10.0.0.21:1502 unit 7"));
		assert_non_null(strstr(out, "reads per poll"));
		assert_non_null(strstr(out, "profiles (2):"));
		assert_non_null(strstr(out, "pac3200.ini"));
		assert_non_null(strstr(out, "shelly-pro3em.ini"));
		assert_non_null(strstr(out, "topics subscribed (3):"));
		assert_non_null(
			strstr(out, "$share/consoles/shellypro3em-press3/status/em:0  -> press-3"));
		assert_non_null(strstr(out, "  $share/g/shellies/+/events/#  -> press-3"));
		assert_null(strstr(out, "s3cret"));
		assert_null(strstr(out, "pgsecret"));
		want = util_printf("mqtt: ssl://broker.plant:8883 client phasor-console-1 qos 2");
		assert_non_null(strstr(out, want));
		free(want);
		free(out);
	}
	config_free(c);
	diag_clear(&d);
	free(path);
	free(pass);
	free(pgpass);
	free(ca);
}

/* ---- defaults ----------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct diag d;
	struct config *c;
	char *want;

	(void)state;
	setenv("XDG_STATE_HOME", "/state", 1);
	diag_init(&d);
	c = config_load_string(BROKER MB "[meter p]\ndriver = mqtt\nprofile = tasmota\n"
					 "topic = tele/p/SENSOR\n",
			       "t.ini", &d);
	assert_non_null(c);
	assert_string_equal(c->site.name, "phasor");
	assert_null(c->site.timezone);
	assert_true(c->site.target_pf == 0.95);
	assert_true(c->site.nominal_freq == 50);
	assert_true(isnan(c->site.price_per_kwh));
	assert_true(isnan(c->site.co2_per_kwh));
	assert_null(c->site.currency);
	assert_null(c->console.theme);
	assert_int_equal(c->console.refresh_ms, 1000);
	assert_false(c->meters[0].aggregate);
	assert_string_equal(c->store.path, "/state/phasor/buffer.db");
	assert_true(c->store.retention_ms == 30LL * 86400000);
	assert_true(c->store.quota_bytes == 0); /* none by default */
	assert_int_equal(c->store.queue_max, 1000000);
	assert_int_equal(c->store.batch_rows, 5000);
	assert_int_equal(c->store.commit_ms, 1000);
	assert_null(c->log.path);
	assert_int_equal(c->log.level, LOG_INFO);
	want = util_printf("phasor-");
	assert_memory_equal(c->mqtt.client_id, want, strlen(want));
	free(want);
	want = util_printf("-%ld", (long)getpid());
	assert_string_equal(c->mqtt.client_id + strlen(c->mqtt.client_id) - strlen(want), want);
	free(want);
	assert_null(c->mqtt.password);
	assert_null(c->mqtt.share_group);
	assert_int_equal(c->mqtt.qos, 1);
	assert_int_equal(c->mqtt.keepalive_s, 30);
	assert_true(c->mqtt.clean_session);
	assert_false(c->sync.enabled);
	assert_int_equal(c->meters[0].port, 502);
	assert_int_equal(c->meters[0].unit, 1);
	assert_int_equal(c->meters[0].poll_ms, 1000);
	assert_int_equal(c->meters[0].timeout_ms, 1000);
	assert_true(c->meters[0].nominal_voltage == 230);
	assert_true(isnan(c->meters[0].max_power)); /* no overload limit unless given */
	assert_int_equal(c->meters[1].poll_ms, 10000);
	assert_true(c->console.bell);
	assert_int_equal(c->nalarms, 0);
	assert_null(c->alarms);
	assert_null(c->operators);
	assert_string_equal(config_operator(c, "jdoe"), "jdoe");
	assert_string_equal(config_operator(c, NULL), "");
	{
		char *out = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		assert_non_null(f);
		config_print_summary(c, f);
		fclose(f);
		assert_non_null(strstr(out, "\nalarms: built-in set (12 definitions)\n"));
		assert_non_null(strstr(out, "\nconsole: bell on\n"));
		assert_null(strstr(out, "operators:"));
		free(out);
	}
	config_free(c);

	/* Without XDG_STATE_HOME: ~/.local/state. */
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/op", 1);
	c = config_load_string(MB, "t.ini", &d);
	assert_non_null(c);
	assert_string_equal(c->store.path, "/home/op/.local/state/phasor/buffer.db");
	assert_false(c->mqtt.enabled);
	config_free(c);
	diag_clear(&d);
}

/* ---- alarms, operators, bell ------------------------------------------- */

/* [forecast] and [site] contract_power: values and defaults. */
static void test_forecast_keys(void **state)
{
	struct diag d;
	struct config *c;

	(void)state;
	diag_init(&d);
	c = config_load_string("[site]\ncontract_power = 250kW\n[forecast]\ninterval = 30m\n"
			       "history = 4w\nholidays = 2026-12-25, 2027-01-01\n" MB,
			       "t.ini", &d);
	if (c == NULL)
		diag_print(&d, stderr);
	assert_non_null(c);
	assert_true(c->site.contract_power == 250000);
	assert_int_equal(c->forecast.interval_ms, 30 * 60000);
	assert_int_equal(c->forecast.history_ms, 28LL * 86400000);
	assert_int_equal(c->forecast.nholidays, 2);
	assert_int_equal(c->forecast.holidays[0], 20812); /* 2026-12-25 */
	assert_int_equal(c->forecast.holidays[1], 20819);
	config_free(c);
	c = config_load_string(MB, "t.ini", &d);
	assert_non_null(c);
	assert_true(isnan(c->site.contract_power));
	assert_int_equal(c->forecast.interval_ms, 15 * 60000);
	assert_int_equal(c->forecast.history_ms, 56LL * 86400000);
	assert_int_equal(c->forecast.nholidays, 0);
	assert_int_equal(c->site.nshifts, 0);
	config_free(c);
	diag_clear(&d);
}

/* [site] shifts: start times in minutes after local midnight. */
static void test_shifts(void **state)
{
	struct diag d;
	struct config *c;

	(void)state;
	diag_init(&d);
	c = config_load_string("[site]\nshifts = 06:00, 14:00,22:30\n" MB, "t.ini", &d);
	if (c == NULL)
		diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(c->site.nshifts, 3);
	assert_int_equal(c->site.shift_min[0], 360);
	assert_int_equal(c->site.shift_min[1], 840);
	assert_int_equal(c->site.shift_min[2], 1350);
	config_free(c);
	c = config_load_string("[site]\nshifts = 00:00\n" MB, "t.ini", &d);
	assert_non_null(c);
	assert_int_equal(c->site.nshifts, 1);
	assert_int_equal(c->site.shift_min[0], 0);
	config_free(c);
	diag_clear(&d);
}

static void test_alarms(void **state)
{
	static const char text[] =
		"[console]\n"					/* 1 */
		"bell = no\n"
		"[operators]\n"
		"jdoe = Jane Doe\n"
		"rsmith = R. Smith (shift B)\n"		/* 5 */
		"[alarm press-pf]\n"
		"meters = press-*, m1\n"
		"quantity = pf\n"
		"type = low\n"
		"limit = 0.85\n"				/* 10 */
		"priority = high\n"
		"deadband = 0.02\n"
		"on_delay = 30s\n"
		"off_delay = 1m\n"
		"realarm = 2h\n"				/* 15 */
		"shelve_max = 4h\n"
		"message = Poor power factor on the presses\n"
		"action = Check the capacitor bank\n"
		"ack_note = yes\n"
		"[alarm under]\n"				/* 20 */
		"meters = *\n"
		"quantity = voltage\n"
		"type = low-low\n"
		"limit = 90 %\n"
		"enabled = no\n"				/* 25 */
		"[alarm power]\n"
		"meters = m1\n"
		"quantity = p_total\n"
		"type = high-high\n"
		"limit = 250000\n"				/* 30 */
		"[alarm link]\n"
		"meters = *\n"
		"quantity = comm\n"
		"priority = diagnostic\n"
		MB						/* 35 */
		"[meter press-1]\ndriver = modbus\nprofile = sdm630\nhost = 10.0.0.2\n";
	struct diag d;
	struct config *c;
	const struct alarm_def *a;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	if (c == NULL)
		diag_print(&d, stderr);
	assert_non_null(c);
	assert_false(c->console.bell);
	assert_string_equal(config_operator(c, "jdoe"), "Jane Doe");
	assert_string_equal(config_operator(c, "rsmith"), "R. Smith (shift B)");
	assert_string_equal(config_operator(c, "root"), "root");
	assert_string_equal(c->operators[0], "jdoe");
	assert_null(c->operators[4]);

	assert_int_equal(c->nalarms, 4);
	a = &c->alarms[0];
	assert_string_equal(a->name, "press-pf");
	assert_string_equal(a->meters[0], "press-*");
	assert_string_equal(a->meters[1], "m1");
	assert_null(a->meters[2]);
	assert_int_equal(a->measure, AM_PF);
	assert_string_equal(a->quantity, "pf");
	assert_int_equal(a->type, LIMIT_LOW);
	assert_true(a->limit == 0.85);
	assert_false(a->limit_pct);
	assert_int_equal(a->priority, PRIO_HIGH);
	assert_true(a->deadband == 0.02);
	assert_int_equal(a->on_delay_ms, 30000);
	assert_int_equal(a->off_delay_ms, 60000);
	assert_int_equal(a->realarm_ms, 7200000);
	assert_int_equal(a->shelve_max_ms, 4 * 3600000);
	assert_string_equal(a->message, "Poor power factor on the presses");
	assert_string_equal(a->action, "Check the capacitor bank");
	assert_true(a->ack_note);
	assert_true(a->enabled);
	assert_false(a->builtin);
	assert_int_equal(a->line, 6);
	assert_true(alarm_def_matches(a, "press-1"));

	a = &c->alarms[1];
	assert_int_equal(a->measure, AM_VOLTAGE);
	assert_int_equal(a->type, LIMIT_LOW_LOW);
	assert_true(a->limit == 90);
	assert_true(a->limit_pct);
	assert_false(a->enabled);
	/* the defaults */
	assert_int_equal(a->priority, PRIO_MEDIUM);
	assert_true(a->deadband == 0);
	assert_int_equal(a->on_delay_ms, 0);
	assert_int_equal(a->off_delay_ms, 0);
	assert_int_equal(a->realarm_ms, 0);
	assert_int_equal(a->shelve_max_ms, 8 * 3600000);
	assert_false(a->ack_note);
	assert_null(a->action);
	assert_string_equal(a->message, "voltage low-low (< 90 % of nominal)");

	a = &c->alarms[2];
	assert_int_equal(a->measure, AM_QTY);
	assert_int_equal(a->qty, QTY_P_TOTAL);
	assert_int_equal(a->type, LIMIT_HIGH_HIGH);
	assert_string_equal(a->message, "p_total high-high (> 250000 W)");

	a = &c->alarms[3];
	assert_int_equal(a->measure, AM_COMM);
	assert_int_equal(a->priority, PRIO_DIAGNOSTIC);
	assert_string_equal(a->message, "Communication lost");

	f = open_memstream(&out, &len);
	assert_non_null(f);
	config_print_summary(c, f);
	fclose(f);
	assert_non_null(strstr(out, "\nconsole: bell off\n"));
	assert_non_null(strstr(out, "\noperators: 2 named\n"));
	assert_non_null(strstr(out, "\nalarms (4):\n"
				    "  press-pf: pf low 0.85, high, meters press-*,m1, deadband 0.02, "
				    "on-delay 30s, off-delay 1m, re-alarm 2h, ack needs a note\n"
				    "  under: voltage low-low 90%, medium, meters *, out of service\n"
				    "  power: p_total high-high 250000 W, medium, meters m1\n"
				    "  link: comm, diagnostic, meters *\n"));
	assert_null(strstr(out, "built-in"));
	free(out);
	config_free(c);
	diag_clear(&d);
}

/* ---- one error of each kind --------------------------------------------- */

struct error_case {
	const char *what;
	const char *text;
	const char *want[4];
};

static const struct error_case error_cases[] = {
	{ "unknown key with suggestion", MB "pol_ms = 100\n",
	  { "t.ini:5: unknown key 'pol_ms' in [meter m1]; did you mean 'poll_ms'?" } },
	{ "unknown key without suggestion", "[site]\ncolour = red\n" MB,
	  { "t.ini:2: unknown key 'colour' in [site]" } },
	{ "unknown section", "[metre x]\ndriver = modbus\n" MB,
	  { "t.ini:1: unknown section [metre x]; did you mean [meter NAME]?" } },
	{ "unknown section, other kind", "[stroe]\npath = x\n" MB,
	  { "t.ini:1: unknown section [stroe]; did you mean [store]?" } },
	{ "unknown section, no suggestion", "[database]\n" MB,
	  { "t.ini:1: unknown section [database] (known: [site], [store], [log], [mqtt], "
	    "[sync], [console], [operators], [forecast], [meter NAME], [alarm NAME], "
	    "[machine NAME])" } },
	{ "empty meter section", MB "[meter empty]\n",
	  { "t.ini:5: missing key 'driver' in [meter empty] (modbus, mqtt or sparkplug)",
	    "t.ini:5: missing key 'profile' in [meter empty]" } },
	{ "missing host", "[meter a]\ndriver = modbus\nprofile = pac3200\n",
	  { "t.ini:1: missing key 'host' in [meter a] (required for modbus meters)" } },
	{ "missing topic", BROKER "[meter a]\ndriver = mqtt\nprofile = tasmota\n",
	  { "t.ini:3: missing key 'topic' in [meter a] (required for mqtt meters)" } },
	{ "missing uri", "[mqtt]\nqos = 1\n" MB,
	  { "t.ini:1: missing key 'uri' in [mqtt] (e.g. uri = tcp://127.0.0.1:1883)" } },
	{ "missing postgres", MB "[sync]\ninterval = 5s\n",
	  { "t.ini:5: missing key 'postgres' in [sync] (a libpq connection string)" } },
	{ "port 70000", MB "port = 70000\n", { "t.ini:5: port: 70000 is not a port (1..65535)" } },
	{ "port not a number", MB "port = http\n", { "t.ini:5: port: http is not a port (1..65535)" } },
	{ "bad currency", "[site]\ncurrency = E U R\n" MB,
	  { "t.ini:2: currency: 'E U R' is not a currency code (letters, e.g. EUR)" } },
	{ "negative price", "[site]\nprice_per_kwh = -1\n" MB,
	  { "t.ini:2: price_per_kwh: -1 is out of range (0..1000)" } },
	{ "bad per-utility prices", "[site]\nprice_gas = cheap\nprice_heat = 1001\nprice_water = 2\n" MB,
	  { "t.ini:2: price_gas: cheap is not a number (0..1000)",
	    "t.ini:3: price_heat: 1001 is out of range (0..1000)",
	    "t.ini:4: unknown key 'price_water' in [site]" } },
	{ "refresh too fast", "[console]\nrefresh = 5ms\n" MB,
	  { "t.ini:2: refresh: 5ms is out of range (100ms..60s)" } },
	{ "bad theme name", "[console]\ntheme = Dark Blue\n" MB,
	  { "t.ini:2: theme: 'Dark Blue' is not a theme name (lower-case letters, digits, '-') or a path" } },
	{ "bad aggregate", MB "aggregate = maybe\n",
	  { "t.ini:5: aggregate: maybe is not a boolean (true, false, yes, no, on, off, 1, 0)" } },
	{ "poll_ms 0", MB "poll_ms = 0\n", { "t.ini:5: poll_ms: 0 is out of range (50..3600000)" } },
	{ "unit 300", MB "unit = 300\n", { "t.ini:5: unit: 300 is out of range (0..255)" } },
	{ "unit not an integer", MB "unit = 1.5\n",
	  { "t.ini:5: unit: 1.5 is not an integer (0..255)" } },
	{ "empty value", MB "timeout_ms =\n", { "t.ini:5: timeout_ms: no value" } },
	{ "bad duration", "[store]\ncommit_interval = 5 parsecs\n" MB,
	  { "t.ini:2: commit_interval: 5 parsecs is not a duration (10ms..60s; e.g. 500ms, 10s, "
	    "5m, 2h, 30d)" } },
	{ "duration out of range", BROKER "keepalive = 2h\n" MB,
	  { "t.ini:3: keepalive: 2h is out of range (1s..1h)" } },
	{ "bad power", MB "max_power = lots\n",
	  { "t.ini:5: max_power: lots is not a power (e.g. 50kW, 800W, 1.2MW)" } },
	{ "zero power", MB "max_power = 0kW\n", { "t.ini:5: max_power: 0kW must be greater than 0" } },
	{ "target_pf out of range", "[site]\ntarget_pf = 1.2\n" MB,
	  { "t.ini:2: target_pf: 1.2 is out of range (0.5..1)" } },
	{ "bad contract power", "[site]\ncontract_power = much\n" MB,
	  { "t.ini:2: contract_power: much is not a power (e.g. 250kW, 1.2MW)" } },
	{ "shift not a time", "[site]\nshifts = 06:00, 2pm\n" MB,
	  { "t.ini:2: shifts: '2pm' is not a time of day (HH:MM, e.g. 06:00)" } },
	{ "shift hour 24", "[site]\nshifts = 24:00\n" MB,
	  { "t.ini:2: shifts: '24:00' is not a time of day (HH:MM, e.g. 06:00)" } },
	{ "shifts out of order", "[site]\nshifts = 14:00, 06:00\n" MB,
	  { "t.ini:2: shifts: 06:00 is not after the shift before it (start times in order "
	    "within the day, e.g. 06:00, 14:00, 22:00)" } },
	{ "shifts without commas", "[site]\nshifts = 06:00 14:00\n" MB,
	  { "t.ini:2: shifts: '14:00': times are separated by commas" } },
	{ "forecast interval not a divisor", "[forecast]\ninterval = 7m\n" MB,
	  { "t.ini:2: interval: 7m does not divide a day into whole minutes (e.g. 10m, 15m, "
	    "30m, 1h)" } },
	{ "forecast interval too short", "[forecast]\ninterval = 10s\n" MB,
	  { "t.ini:2: interval: 10s is out of range (1m..1d)" } },
	{ "forecast history", "[forecast]\nhistory = 2y\n" MB,
	  { "t.ini:2: history: 2y is not a duration (1d..366d; e.g. 500ms, 10s, 5m, 2h, 30d)" } },
	{ "forecast holidays", "[forecast]\n\nholidays = 2026-12-25, 2026-02-30,Noel\n" MB,
	  { "t.ini:3: holidays: '2026-02-30' is not a date (YYYY-MM-DD, e.g. 2026-12-25)",
	    "t.ini:3: holidays: 'Noel' is not a date (YYYY-MM-DD, e.g. 2026-12-25)" } },
	{ "forecast unknown key", "[forecast]\nintervals = 1d\n" MB,
	  { "t.ini:2: unknown key 'intervals' in [forecast]; did you mean 'interval'?" } },
	{ "bad boolean", BROKER "clean_session = maybe\n" MB,
	  { "t.ini:3: clean_session: maybe is not a boolean (true, false, yes, no, on, off, 1, 0)" } },
	{ "bad log level", "[log]\nlevel = loud\n" MB,
	  { "t.ini:2: level: loud is not a log level (error, warn, info, debug)" } },
	{ "bad driver", "[meter a]\ndriver = modbsu\nprofile = pac3200\nhost = h\n",
	  { "t.ini:2: driver: modbsu is not a driver (modbus, mqtt, sparkplug); did you mean 'modbus'?" } },
	{ "unknown profile", "[meter a]\ndriver = modbus\nprofile = pac320\nhost = h\n",
	  { "t.ini:3: profile: unknown profile 'pac320'; did you mean 'pac3200'?" } },
	{ "driver/profile mismatch", BROKER "[meter x]\ndriver = mqtt\nprofile = sdm630\ntopic = a/b\n",
	  { "t.ini:5: profile sdm630 is a modbus profile but meter x uses driver mqtt" } },
	{ "driver/profile mismatch, other way", "[meter y]\ndriver = modbus\nprofile = tasmota\nhost = h\n",
	  { "t.ini:3: profile tasmota is a mqtt profile but meter y uses driver modbus" } },
	{ "duplicate meter", MB "[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.2\n",
	  { "t.ini:5: duplicate meter 'm1' (first at line 1)" } },
	{ "duplicate key", MB "host = 10.0.0.3\n",
	  { "t.ini:5: duplicate key 'host' (first at line 4)" } },
	{ "duplicate section", "[site]\nname = a\n[site]\nname = b\n" MB,
	  { "t.ini:3: duplicate section [site] (first at line 1)" } },
	{ "duplicate device", MB "[meter m2]\ndriver = modbus\nprofile = sdm630\nhost = 10.0.0.1\n",
	  { "t.ini:5: duplicate device: meter m2 polls 10.0.0.1:502 unit 1 like meter m1 (line 1)" } },
	{ "three meters of one name, devices interleaved (sorted, not compared pairwise)",
	  MB "[meter m2]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.2\n"
	     "[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.3\n"
	     "[meter m3]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.2\n"
	     "[meter m1]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.4\n"
	     "[meter m4]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.0.2\n",
	  { "t.ini:9: duplicate meter 'm1' (first at line 1)",
	    "t.ini:13: duplicate device: meter m3 polls 10.0.0.2:502 unit 1 like meter m2 (line 5)",
	    "t.ini:17: duplicate meter 'm1' (first at line 1)",
	    "t.ini:21: duplicate device: meter m4 polls 10.0.0.2:502 unit 1 like meter m2 (line 5)" } },
	{ "duplicate device, host names differ in case",
	  "[meter a]\ndriver = modbus\nprofile = pac3200\nhost = PLC-1\n"
	  "[meter b]\ndriver = modbus\nprofile = pac3200\nhost = plc-1\n",
	  { "t.ini:5: duplicate device: meter b polls plc-1:502 unit 1 like meter a (line 1)" } },
	{ "same host, other unit is fine",
	  MB "[meter m2]\ndriver = modbus\nprofile = sdm630\nhost = 10.0.0.1\nunit = 2\n", { NULL } },
	{ "bad meter name", "[meter a/b]\ndriver = modbus\nprofile = pac3200\nhost = h\n",
	  { "t.ini:1: bad meter name 'a/b': '/', '+' and '#' are not allowed" } },
	{ "meter name with a bidi override", "[meter ab\xe2\x80\xae" "cd]\ndriver = modbus\nprofile = pac3200\nhost = h\n",
	  { "t.ini:1: bad meter name 'ab???cd': not valid UTF-8, or holds a C1 control or bidirectional override character" } },
	{ "meter name too long",
	  "[meter 12345678901234567890123456789012345678901234567890123456789012345]\n"
	  "driver = modbus\nprofile = pac3200\nhost = h\n",
	  { "t.ini:1: bad meter name "
	    "'12345678901234567890123456789012345678901234567890123456789012345': longer than 64 "
	    "bytes" } },
	{ "meter without a name", "[meter]\n" MB,
	  { "t.ini:1: a meter section needs a name: [meter NAME]" } },
	{ "group on a modbus meter", MB "group = G\n",
	  { "t.ini:5: group is not used by modbus meters" } },
	{ "sparkplug meter: foreign keys, no node, an mqtt profile",
	  BROKER "[meter s]\ndriver = sparkplug\nprofile = tasmota\ngroup = G\nhost = h\n"
		 "device = a/b\n",
	  { "t.ini:3: missing key 'node' in [meter s] (required for sparkplug meters)",
	    "t.ini:5: profile tasmota is a mqtt profile but meter s uses driver sparkplug",
	    "t.ini:7: host is not used by sparkplug meters",
	    "t.ini:8: device: a/b is not a Sparkplug id ('/', '+', '#' and control characters "
	    "are not allowed)" } },
	{ "sparkplug meter without [mqtt]",
	  "[meter p]\ndriver = sparkplug\nprofile = tasmota\ngroup = G\nnode = N\n",
	  { "t.ini:2: meter p uses driver sparkplug but there is no [mqtt] section",
	    "t.ini:3: profile tasmota is a mqtt profile but meter p uses driver sparkplug" } },
	{ "mqtt meter without [mqtt]", "[meter p]\ndriver = mqtt\nprofile = shelly-pro3em\ntopic = a/b\n",
	  { "t.ini:2: meter p uses driver mqtt but there is no [mqtt] section" } },
	{ "bad topic filter", BROKER "[meter p]\ndriver = mqtt\nprofile = tasmota\ntopic = a/#/b\n",
	  { "t.ini:6: topic: a/#/b is not a valid MQTT topic filter ('+' and '#' must be whole "
	    "levels, '#' only last)" } },
	{ "bad topic filter, plus", BROKER "[meter p]\ndriver = mqtt\nprofile = tasmota\ntopic = a/b+\n",
	  { "t.ini:6: topic: a/b+ is not a valid MQTT topic filter ('+' and '#' must be whole "
	    "levels, '#' only last)" } },
	{ "modbus key on an mqtt meter",
	  BROKER "[meter p]\ndriver = mqtt\nprofile = tasmota\ntopic = a/b\nhost = h\n",
	  { "t.ini:7: host is not used by mqtt meters" } },
	{ "mqtt key on a modbus meter", MB "topic = a/b\n",
	  { "t.ini:5: topic is not used by modbus meters" } },
	{ "bad uri scheme", "[mqtt]\nuri = http://h:1883\n" MB,
	  { "t.ini:2: uri: http://h:1883 is not an MQTT broker URI: the scheme must be tcp://, "
	    "ssl://, mqtt:// or mqtts://" } },
	{ "uri without port", "[mqtt]\nuri = tcp://broker\n" MB,
	  { "t.ini:2: uri: tcp://broker is not an MQTT broker URI: no port (e.g. tcp://HOST:1883, "
	    "ssl://HOST:8883)" } },
	{ "uri bad port", "[mqtt]\nuri = tcp://broker:99999\n" MB,
	  { "t.ini:2: uri: tcp://broker:99999 is not an MQTT broker URI: the port must be a "
	    "number in 1..65535 with nothing after it" } },
	{ "share_group with a slash", "[mqtt]\nuri = tcp://h:1\nshare_group = a/b\n" MB,
	  { "t.ini:3: share_group: a/b must not contain '/', '+' or '#'" } },
	{ "alarm_topic with a wildcard", "[mqtt]\nuri = tcp://h:1\nalarm_topic = plant/+/alarms\n" MB,
	  { "t.ini:3: alarm_topic: plant/+/alarms is not a topic prefix (no '+', '#', leading '$'"
	    " or '/', or trailing '/')" } },
	{ "alarm_topic with a trailing slash", "[mqtt]\nuri = tcp://h:1\nalarm_topic = a/\n" MB,
	  { "t.ini:3: alarm_topic: a/ is not a topic prefix (no '+', '#', leading '$' or '/', or"
	    " trailing '/')" } },
	{ "no meter", "[site]\nname = x\n", { "t.ini: no [meter NAME] section" } },
	{ "line without '='", MB "just words\n",
	  { "t.ini:5: expected 'key = value' or '[section]', found: just words" } },
	{ "header without ']'", "[site\nname = x\n" MB,
	  { "t.ini:1: missing ']' in section header" } },
	{ "key outside any section", "name = x\n" MB,
	  { "t.ini:1: key 'name' is outside any section (add [site], [meter NAME], ...)" } },
	{ "section with a name it does not take", "[mqtt broker]\n" MB,
	  { "t.ini:1: section [mqtt] takes no name (found [mqtt broker])" } },
	{ "missing secret file", BROKER "password_file = /nonexistent/phasor.pass\n" MB,
	  { "t.ini:3: password_file: cannot open /nonexistent/phasor.pass: No such file or "
	    "directory" } },
	{ "unreadable ca_file", BROKER "ca_file = /nonexistent/ca.pem\n" MB,
	  { "t.ini:3: ca_file: cannot read /nonexistent/ca.pem: No such file or directory" } },
	{ "timezone", "[site]\ntimezone = Europe/Pariss\n" MB,
	  { "t.ini:2: timezone: Europe/Pariss is not a known time zone (e.g. Europe/Paris, UTC)" } },
	{ "profile name as a path", "[meter a]\ndriver = modbus\nprofile = ../x\nhost = h\n",
	  { "t.ini:3: profile: unknown profile '../x' (searched $PHASOR_PROFILES, conf/profiles, "
	    PHASOR_PREFIX "/share/phasor/profiles)" } },
	{ "port as hexadecimal text is not decimal", MB "port = 0x1G\n",
	  { "t.ini:5: port: 0x1G is not a port (1..65535)" } },
	/* [alarm NAME], [operators], [console] bell */
	{ "alarm: unknown key with suggestion", MB AL "quantiy = pf\n",
	  { "t.ini:10: unknown key 'quantiy' in [alarm a]; did you mean 'quantity'?" } },
	{ "alarm: unknown key without suggestion", MB AL "colour = red\n",
	  { "t.ini:10: unknown key 'colour' in [alarm a]" } },
	{ "alarm section without a name", MB "[alarm]\n",
	  { "t.ini:5: an alarm section needs a name: [alarm NAME]" } },
	{ "alarm section misspelt", MB "[alrm x]\n",
	  { "t.ini:5: unknown section [alrm x]; did you mean [alarm NAME]?" } },
	{ "bad alarm name", MB "[alarm a/b]\nmeters = *\nquantity = comm\n",
	  { "t.ini:5: bad alarm name 'a/b': '/', '+' and '#' are not allowed" } },
	{ "duplicate alarm", MB AL "[alarm a]\nmeters = *\nquantity = comm\n",
	  { "t.ini:10: duplicate alarm 'a' (first at line 5)" } },
	{ "alarm: missing keys", MB "[alarm a]\npriority = low\n",
	  { "t.ini:5: missing key 'meters' in [alarm a] (meter names or globs, e.g. meters = *)",
	    "t.ini:5: missing key 'quantity' in [alarm a] (e.g. quantity = pf)" } },
	{ "alarm: missing type and limit", MB "[alarm a]\nmeters = *\nquantity = pf\n",
	  { "t.ini:5: missing key 'type' in [alarm a] (high, high-high, low or low-low)",
	    "t.ini:5: missing key 'limit' in [alarm a]" } },
	{ "alarm: comm needs no type nor limit", MB "[alarm a]\nmeters = *\nquantity = comm\n",
	  { NULL } },
	{ "alarm: limit on a comm alarm", MB "[alarm a]\nmeters = *\nquantity = comm\nlimit = 1\n",
	  { "t.ini:8: limit is not used by comm alarms" } },
	{ "alarm: type on a stale alarm", MB "[alarm a]\nmeters = *\nquantity = stale\ntype = high\n",
	  { "t.ini:8: type is not used by stale alarms" } },
	{ "alarm: unknown quantity with suggestion", MB "[alarm a]\nmeters = *\nquantity = v_l1\n",
	  { "t.ini:7: quantity: v_l1 is not a measure or quantity; did you mean 'v_l1n'?" } },
	{ "alarm: unknown quantity", MB "[alarm a]\nmeters = *\nquantity = happiness\n",
	  { "t.ini:7: quantity: happiness is not a measure (pf, tan_phi, v_unbalance, "
	    "i_unbalance, voltage, voltage_ll, thd_v, thd_i, frequency, overload, comm, stale, "
	    "forecast_excess, night_flow) or a quantity (v_l1n, p_total, ...)" } },
	{ "alarm: meters matching nothing", MB AL "[alarm b]\nmeters = m1, press-*\nquantity = comm\n",
	  { "t.ini:11: meters: 'press-*' matches no meter" } },
	{ "alarm: meter name typo", MB "[alarm a]\nmeters = m2\nquantity = comm\n",
	  { "t.ini:6: meters: 'm2' matches no meter; did you mean 'm1'?" } },
	{ "alarm: alarm before its meter is fine",
	  "[alarm a]\nmeters = m1\nquantity = comm\n" MB, { NULL } },
	{ "alarm: empty meter in the list", MB "[alarm a]\nmeters = m1,,m1\nquantity = comm\n",
	  { "t.ini:6: meters: an empty name in the list 'm1,,m1' (names or globs, separated by "
	    "commas)" } },
	{ "alarm: trailing comma", MB "[alarm a]\nmeters = m1,\nquantity = comm\n",
	  { "t.ini:6: meters: an empty name in the list 'm1,' (names or globs, separated by "
	    "commas)" } },
	{ "alarm: bad type", MB AL "type = hihg\n",
	  { "t.ini:10: duplicate key 'type' (first at line 8)" } },
	{ "alarm: bad type value", MB "[alarm a]\nmeters = *\nquantity = pf\ntype = hihg\nlimit = 0.8\n",
	  { "t.ini:8: type: hihg is not a limit type (high, high-high, low, low-low); did you mean "
	    "'high'?" } },
	{ "alarm: bad type, no suggestion", MB "[alarm a]\nmeters = *\nquantity = pf\ntype = sideways\nlimit = 0.8\n",
	  { "t.ini:8: type: sideways is not a limit type (high, high-high, low, low-low)" } },
	{ "alarm: bad priority", MB AL "priority = urgent\n",
	  { "t.ini:10: priority: urgent is not a priority (critical, high, medium, low, "
	    "diagnostic)" } },
	{ "alarm: priority typo", MB AL "priority = critcal\n",
	  { "t.ini:10: priority: critcal is not a priority (critical, high, medium, low, "
	    "diagnostic); did you mean 'critical'?" } },
	{ "alarm: negative deadband", MB AL "deadband = -1\n",
	  { "t.ini:10: deadband: -1 must not be negative" } },
	{ "alarm: deadband not a number", MB AL "deadband = wide\n",
	  { "t.ini:10: deadband: wide is not a number" } },
	{ "alarm: limit not a number", MB "[alarm a]\nmeters = *\nquantity = pf\ntype = low\nlimit = low\n",
	  { "t.ini:9: limit: low is not a number (e.g. 0.85, 250, 90%)" } },
	{ "alarm: percentage of a quantity", MB "[alarm a]\nmeters = *\nquantity = p_total\ntype = high\nlimit = 90%\n",
	  { "t.ini:9: limit: 90%: a percentage of nominal is only for voltage, voltage_ll and "
	    "frequency" } },
	{ "alarm: percentage out of range", MB "[alarm a]\nmeters = *\nquantity = voltage\ntype = low\nlimit = -5%\n",
	  { "t.ini:9: limit: -5% is out of range (0..1000%)" } },
	{ "alarm: pf limit out of range", MB "[alarm a]\nmeters = *\nquantity = pf\ntype = low\nlimit = 85\n",
	  { "t.ini:9: limit: 85 is out of range for pf (0..1)" } },
	{ "alarm: bad delay", MB AL "on_delay = soon\n",
	  { "t.ini:10: on_delay: soon is not a duration (0..1d; e.g. 500ms, 10s, 5m, 2h, 30d)" } },
	{ "alarm: delay too long", MB AL "off_delay = 2d\n",
	  { "t.ini:10: off_delay: 2d is out of range (0..1d)" } },
	{ "alarm: shelve_max too short", MB AL "shelve_max = 10s\n",
	  { "t.ini:10: shelve_max: 10s is out of range (1m..7d)" } },
	{ "alarm: bad boolean", MB AL "ack_note = sometimes\n",
	  { "t.ini:10: ack_note: sometimes is not a boolean (true, false, yes, no, on, off, 1, 0)" } },
	{ "alarm: control character in the message", MB AL "message = a\x01b\n",
	  { "t.ini:10: message: control characters are not allowed" } },
	{ "console: bad bell", "[console]\nbell = loud\n" MB,
	  { "t.ini:2: bell: loud is not a boolean (true, false, yes, no, on, off, 1, 0)" } },
	{ "operators: control character", "[operators]\njdoe = J\x1b[2JDoe\n" MB,
	  { "t.ini:2: jdoe: control characters are not allowed" } },
	{ "operators: empty name", "[operators]\njdoe =\n" MB, { "t.ini:2: jdoe: no value" } },
	{ "operators: duplicate login", "[operators]\njdoe = J\njdoe = K\n" MB,
	  { "t.ini:3: duplicate key 'jdoe' (first at line 2)" } },
	{ "operators takes no name", "[operators shift-a]\n" MB,
	  { "t.ini:1: section [operators] takes no name (found [operators shift-a])" } },
	{ "inline comments and indentation are fine",
	  "  [site]   ; comment\n  name = x ; comment\n# whole line\n; whole line\n" MB, { NULL } },
};

static void run_error_cases(const struct error_case *cases, size_t ncases)
{
	size_t i, n;

	for (i = 0; i < ncases; i++) {
		const struct error_case *e = &cases[i];
		for (n = 0; n < UTIL_ARRAY_LEN(e->want) && e->want[n] != NULL; n++)
			;
		fprintf(stderr, "case: %s\n", e->what);
		expect_errors(e->text, e->want, n);
	}
}

/* A modbus meter NAME on 4 lines at 10.0.1.N, then its extra keys. */
#define MTR(name, n) "[meter " name "]\ndriver = modbus\nprofile = pac3200\nhost = 10.0.1." n "\n"

/* The meter tree and the roles: an unknown parent with the closest name,
 * cycles (one report each, from the first meter of the file in it), a
 * utility or role that differs from the parent's, a role that is none. */
static void test_tree_errors(void **state)
{
	static const struct error_case cases[] = {
		{ "unknown parent", MTR("tgbt-main", "1") MTR("press", "2") "parent = tgbt-man\n",
		  { "t.ini:9: parent: no meter is called tgbt-man; did you mean 'tgbt-main'?" } },
		{ "a cycle of two and one of one",
		  MTR("a", "3") "parent = b\n" MTR("b", "4") "parent = a\n" MTR("c", "5") "parent = c\n"
		  MTR("d", "6") "parent = b\n",
		  { "t.ini:5: parent: meter a is its own ancestor (a -> b -> a)",
		    "t.ini:15: parent: meter c is its own ancestor (c -> c)" } },
		{ "a cycle reached from outside it, named from its first meter",
		  MTR("x", "7") "parent = z\n" MTR("y", "8") "parent = x\n" MTR("z", "9") "parent = y\n",
		  { "t.ini:5: parent: meter x is its own ancestor (x -> z -> y -> x)" } },
		{ "role typo", MTR("pv", "10") "role = prodution\n",
		  { "t.ini:5: role: prodution is not a role (consumption, production); did you mean "
		    "'production'?" } },
		{ "production under consumption",
		  MTR("tgbt", "11") MTR("pv", "12") "role = production\nparent = tgbt\n",
		  { "t.ini:10: parent: meter pv has role = production but its parent tgbt has role = "
		    "consumption (a feeder is of its parent's role)" } },
		{ "gas under electricity",
		  MTR("tgbt", "13") "[meter boiler]\ndriver = modbus\nprofile = gas-meter\nhost = 10.0.1.99\n"
		  "parent = tgbt\n",
		  { "t.ini:9: parent: meter boiler measures gas but its parent tgbt measures electricity "
		    "(a tree holds one utility)" } },
		{ "a valid tree", MTR("tgbt", "14") "aggregate = yes\n" MTR("a", "15") "parent = tgbt\n"
		  MTR("a1", "16") "parent = a\n" MTR("pv", "17") "role = production\n", { NULL } },
		{ "grid on a feeder and on production",
		  MTR("tgbt", "30") MTR("a", "31") "parent = tgbt\ngrid = true\n" MTR("pv", "32")
		  "role = production\ngrid = yes\n",
		  { "t.ini:10: grid: meter a is a feeder: the grid connection is a consumption meter "
		    "without a parent",
		    "t.ini:16: grid: meter pv is a production meter: the grid connection is a "
		    "consumption meter without a parent" } },
		{ "grid without an export counter",
		  "[meter boiler]\ndriver = modbus\nprofile = gas-meter\nhost = 10.0.1.33\ngrid = true\n"
		  "[meter w]\ndriver = modbus\nprofile = pulse-counter\nhost = 10.0.1.34\n"
		  "pulse_value = 1 kWh\ngrid = true\n",
		  { "t.ini:5: grid: meter boiler measures gas, not electricity",
		    "t.ini:11: grid: profile pulse-counter of meter w has no export counter (e_exp)" } },
		{ "grid not a boolean", MTR("tgbt", "35") "grid = incomer\n",
		  { "t.ini:5: grid: incomer is not a boolean (true, false, yes, no, on, off, 1, 0)" } },
		{ "a valid grid connection", MTR("tgbt", "36") "grid = true\n" MTR("pv", "37")
		  "role = production\n", { NULL } },
	};

	(void)state;
	run_error_cases(cases, UTIL_ARRAY_LEN(cases));
}

/* What a valid tree gives: parents, depths, children, the site's roots. */
static void test_tree(void **state)
{
	static const char text[] = MTR("tgbt", "18") "aggregate = yes\n" MTR("a", "19") "parent = tgbt\n"
		MTR("a1", "20") "parent = a\n" MTR("b", "21") "parent = tgbt\n" MTR("pv", "22") "role = production\n"
		MTR("office", "23");
	struct diag d;
	struct config *c;

	(void)state;
	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	assert_non_null(c);
	assert_int_equal(config_parent(&c->meters[0]), -1);
	assert_int_equal(config_parent(&c->meters[2]), 1);
	assert_int_equal(c->meters[2].depth, 2);
	assert_int_equal(c->meters[0].nchildren, 2);
	assert_int_equal(c->meters[1].nchildren, 1);
	assert_int_equal(c->meters[4].role, METER_PRODUCTION);
	assert_true(config_has_tree(c));
	assert_true(config_has_production(c));
	/* the aggregate root only (the office is not summed, as before) */
	assert_true(config_in_site(c, 0));
	assert_false(config_in_site(c, 1));
	assert_false(config_in_site(c, 4));
	assert_false(config_in_site(c, 5));
	assert_true(config_in_production(c, 4));
	config_free(c);
	diag_clear(&d);
}

static bool same_double(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* The per-utility prices: gas at price_per_kwh unless it has its own,
 * heat at its own, water and air at none (no energy to price). */
static void test_prices(void **state)
{
	static const struct {
		const char *site;
		double elec, gas, heat;
	} cases[] = {
		{ "[site]\nprice_per_kwh = 0.2\nprice_heat = 0.09\n", 0.2, 0.2, 0.09 },
		{ "[site]\nprice_per_kwh = 0.2\nprice_gas = 0.07\n", 0.2, 0.07, NAN },
		{ "[site]\nprice_gas = 0.07\n", NAN, 0.07, NAN },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char text[512];
		struct diag d;
		struct config *c;

		snprintf(text, sizeof(text), "%s%s", cases[i].site, MB);
		diag_init(&d);
		c = config_load_string(text, "t.ini", &d);
		assert_non_null(c);
		assert_true(same_double(config_price(c, UTILITY_ELECTRICITY), cases[i].elec));
		assert_true(same_double(config_price(c, UTILITY_GAS), cases[i].gas));
		assert_true(same_double(config_price(c, UTILITY_HEAT), cases[i].heat));
		assert_true(isnan(config_price(c, UTILITY_WATER)));
		assert_true(isnan(config_price(c, UTILITY_AIR)));
		config_free(c);
		diag_clear(&d);
	}
}

static void test_errors(void **state)
{
	(void)state;
	run_error_cases(error_cases, UTIL_ARRAY_LEN(error_cases));
}

/* Timezones only checked against tzdata when it is installed. */
static int setup_tz(void **state)
{
	struct stat st;

	(void)state;
	if (stat("/usr/share/zoneinfo/Europe/Paris", &st) < 0)
		fprintf(stderr, "note: no tzdata; the timezone case checks the fallback\n");
	return 0;
}

/* ---- all errors of one file, in line order ------------------------------ */

static void test_all_errors_in_order(void **state)
{
	static const char text[] = "[site]\n"		    /* 1 */
				   "target_pf = 2\n"	    /* 2: range */
				   "[store]\n"		    /* 3 */
				   "retention = later\n"    /* 4: duration */
				   "[meter a]\n"	    /* 5 */
				   "driver = modbus\n"	    /* 6 */
				   "profile = pac3200\n"    /* 7 */
				   "host = 10.0.0.1\n"	    /* 8 */
				   "port = 0\n"		    /* 9: port */
				   "[meter b]\n"	    /* 10 */
				   "driver = modbus\n"	    /* 11 */
				   "profile = sdm631\n"	    /* 12: profile */
				   "host = 10.0.0.2\n"	    /* 13 */
				   "hots = 10.0.0.3\n";	    /* 14: unknown key */
	static const char *const want[] = {
		"t.ini:2: target_pf: 2 is out of range (0.5..1)",
		"t.ini:4: retention: later is not a duration (0 or more; e.g. 500ms, 10s, 5m, 2h, 30d)",
		"t.ini:9: port: 0 is not a port (1..65535)",
		"t.ini:12: profile: unknown profile 'sdm631'; did you mean 'sdm630'?",
		"t.ini:14: unknown key 'hots' in [meter b]; did you mean 'host'?",
	};

	(void)state;
	expect_errors(text, want, UTIL_ARRAY_LEN(want));
}

/* [store] quota: sizes with SI or IEC suffixes, "none"; nonsense refused. */
static void test_store_quota(void **state)
{
	static const struct {
		const char *value;
		unsigned long long bytes; /* 0: none */
		const char *error;        /* NULL: accepted */
	} cases[] = {
		{ "2GB", 2000000000ULL, NULL },
		{ "500MB", 500000000ULL, NULL },
		{ "1.5 GiB", 1610612736ULL, NULL },
		{ "4096000", 4096000ULL, NULL },
		{ "none", 0, NULL },
		{ "2 gb", 2000000000ULL, NULL },
		{ "lots", 0, "t.ini:2: quota: 'lots' is not a size of at least 1MB (e.g. 2GB, 500MB) or none" },
		{ "-1GB", 0, "t.ini:2: quota: '-1GB' is not a size of at least 1MB (e.g. 2GB, 500MB) or none" },
		{ "10kB", 0, "t.ini:2: quota: '10kB' is not a size of at least 1MB (e.g. 2GB, 500MB) or none" },
		{ "2 PB", 0, "t.ini:2: quota: '2 PB' is not a size of at least 1MB (e.g. 2GB, 500MB) or none" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char *text = util_printf("[store]\nquota = %s\n[meter a]\ndriver = modbus\n"
					 "profile = pac3200\nhost = 10.0.0.1\n",
					 cases[i].value);

		if (cases[i].error != NULL) {
			const char *want[] = { cases[i].error };

			expect_errors(text, want, 1);
		} else {
			struct diag d;
			struct config *c;

			diag_init(&d);
			c = config_load_string(text, "t.ini", &d);
			assert_non_null(c);
			assert_true(c->store.quota_bytes == cases[i].bytes);
			{
				/* check-config's summary says it (in MB), or nothing */
				char *sum = NULL, want[48];
				size_t len = 0;
				FILE *f = open_memstream(&sum, &len);

				config_print_summary(c, f);
				fclose(f);
				snprintf(want, sizeof(want), ", quota %llu MB)",
					 cases[i].bytes / 1000000ULL);
				if (cases[i].bytes > 0)
					assert_non_null(strstr(sum, want));
				else
					assert_null(strstr(sum, "quota"));
				free(sum);
			}
			config_free(c);
			diag_clear(&d);
		}
		free(text);
	}
}

/* An [mqtt] section after the meters that use it is fine; only the real
 * error of the meter is reported. */
static void test_mqtt_section_after_meter(void **state)
{
	static const char text[] = "[meter x]\n"	   /* 1 */
				   "driver = mqtt\n"	   /* 2 */
				   "profile = tasmota\n"   /* 3 */
				   "topic = a/+/b\n"	   /* 4 */
				   "unit = 3\n"		   /* 5: not for mqtt */
				   "[mqtt]\n"		   /* 6 */
				   "uri = tcp://h:1\n";	   /* 7 */
	static const char *const want[] = {
		"t.ini:5: unit is not used by mqtt meters",
	};

	(void)state;
	expect_errors(text, want, UTIL_ARRAY_LEN(want));
}

/* ---- long lines and names ----------------------------------------------- */

static void test_long_lines(void **state)
{
	char desc[1001], *text, name[61];
	struct diag d;
	struct config *c;

	(void)state;
	memset(desc, 'd', sizeof(desc) - 1);
	desc[sizeof(desc) - 1] = '\0';
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	/* A 60-byte meter name (inih keeps 50) and a 1000-byte value. */
	text = util_printf("[meter %s]\ndriver = modbus\nprofile = pac3200\nhost = h\n"
			   "description = %s\n",
			   name, desc);
	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	assert_non_null(c);
	assert_string_equal(c->meters[0].name, name);
	assert_string_equal(c->meters[0].description, desc);
	config_free(c);
	free(text);

	/* Beyond the raised limit: reported, with the right line after it. */
	{
		char *huge = util_malloc(10001);
		memset(huge, 'x', 10000);
		huge[10000] = '\0';
		text = util_printf(MB "description = %s\nport = 0\n", huge);
		c = config_load_string(text, "t.ini", &d);
		assert_null(c);
		assert_int_equal(d.n, 2);
		assert_string_equal(d.lines[0],
				    "t.ini:5: line is too long (10014 characters, at most 8192)");
		assert_string_equal(d.lines[1], "t.ini:6: port: 0 is not a port (1..65535)");
		free(huge);
		free(text);
	}

	/* Exactly at the limit is fine; a comment line may be longer. */
	{
		char *fit = util_calloc(8192 - 14 + 1, 1), *comment = util_calloc(10001, 1);
		memset(fit, 'f', 8192 - 14);
		memset(comment, 'c', 10000);
		comment[0] = '#';
		text = util_printf(MB "description = %s\n%s\nport = 1502\n", fit, comment);
		c = config_load_string(text, "t.ini", &d);
		if (c == NULL)
			diag_print(&d, stderr);
		assert_non_null(c);
		assert_string_equal(c->meters[0].description, fit);
		assert_int_equal(c->meters[0].port, 1502);
		config_free(c);
		free(fit);
		free(comment);
		free(text);
	}
	diag_clear(&d);
}

/* ---- the file size limit ------------------------------------------------ */

/* 16 MiB: a 1 MiB comment line loads (it did not under the old 1 MiB limit),
 * one byte over the limit is refused with the size in the message. */
static void test_size_limit(void **state)
{
	enum { LIMIT = 16 * 1024 * 1024 };
	char *path = tmp_path("big.ini"), *want;
	struct diag d;
	struct config *c;
	FILE *f;
	size_t n;

	(void)state;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(MB "#", f);
	for (n = 0; n < 1024 * 1024; n++)
		fputc('c', f);
	fputs("\nport = 1502\n", f);
	assert_int_equal(fclose(f), 0);
	diag_init(&d);
	c = config_load(path, &d);
	if (c == NULL)
		diag_print(&d, stderr);
	assert_non_null(c);
	assert_int_equal(c->meters[0].port, 1502);
	config_free(c);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs(MB, f);
	for (n = strlen(MB); n < (size_t)LIMIT; n++)
		fputc(n % 64 == 63 ? '\n' : '#', f);
	assert_int_equal(fclose(f), 0);
	c = config_load(path, &d); /* exactly at the limit */
	if (c == NULL)
		diag_print(&d, stderr);
	assert_non_null(c);
	config_free(c);
	f = fopen(path, "a");
	assert_non_null(f);
	fputc('\n', f);
	assert_int_equal(fclose(f), 0);
	c = config_load(path, &d);
	assert_null(c);
	assert_int_equal(d.n, 1);
	want = util_printf("%s: cannot read: larger than 16777216 bytes", path);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);
	assert_int_equal(remove(path), 0);
	free(path);
}

/* ---- TLS files ---------------------------------------------------------- */

/*
 * One [mqtt] (and [sync]) text in tmpdir: its errors, none (fmt NULL) or
 * one, "LINE: message" formatted from fmt.
 */
static void expect_tls(const char *mqtt_keys, const char *sync_keys, const char *fmt, ...)
	UTIL_PRINTF(3, 4);
static void expect_tls(const char *mqtt_keys, const char *sync_keys, const char *fmt, ...)
{
	char *cfg = tmp_path("tls.ini"), *text, *want = NULL;
	struct diag d;
	struct config *c;
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		want = util_vprintf(fmt, ap);
		va_end(ap);
	}

	text = util_printf("[mqtt]\nuri = ssl://broker.plant:8883\n%s"
			   "[sync]\npostgres = host=db.plant dbname=energy\n%s" MB,
			   mqtt_keys, sync_keys);
	write_file(cfg, text, 0644);
	diag_init(&d);
	c = config_load(cfg, &d);
	if (want == NULL) {
		if (d.n > 0)
			fprintf(stderr, "unexpected: %s\n", d.lines[0]);
		assert_int_equal(d.n, 0);
		assert_non_null(c);
	} else {
		char *line = util_printf("%s:%s", cfg, want);

		if (d.n != 1 || strcmp(d.lines[0], line) != 0)
			fprintf(stderr, "expected: %s\ngot %zu: %s\n", line, d.n,
				d.n > 0 ? d.lines[0] : "");
		assert_int_equal(d.n, 1);
		assert_string_equal(d.lines[0], line);
		assert_null(c);
		free(line);
	}
	config_free(c);
	diag_clear(&d);
	free(want);
	free(text);
	free(cfg);
}

static void test_tls_files(void **state)
{
	char *cert = tmp_path("client.pem"), *key = tmp_path("client.key");
	char *ca = tmp_path("ca.pem"), *other = tmp_path("other.key"), *enc = tmp_path("enc.key");
	char *junk = tmp_path("junk.pem"), *cmd, *want;
	struct diag d;
	struct config *c;

	(void)state;
	make_pem("ca");
	make_pem("client");
	make_pem("other");
	cmd = util_printf("openssl pkey -in '%s' -aes256 -passout pass:x -out '%s' 2>/dev/null && "
			  "chmod 600 '%s'",
			  key, enc, enc);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	write_file(junk, "not a certificate\n", 0644);

	/* All of it, relative to the file: loaded, paths absolute. */
	cmd = tmp_path("tls.ini");
	write_file(cmd,
		   "[mqtt]\nuri = ssl://broker.plant:8883\nca_file = ca.pem\n"
		   "cert_file = client.pem\nkey_file = client.key\n"
		   "[sync]\npostgres = host=db.plant dbname=energy\nca_file = ca.pem\n" MB,
		   0644);
	diag_init(&d);
	c = config_load(cmd, &d);
	assert_int_equal(d.n, 0);
	assert_non_null(c);
	assert_string_equal(c->mqtt.ca_file, ca);
	assert_string_equal(c->mqtt.cert_file, cert);
	assert_string_equal(c->mqtt.key_file, key);
	assert_string_equal(c->sync.ca_file, ca);
	config_free(c);
	diag_clear(&d);
	free(cmd);

	/* The key readable or writable by others: refused like password_file. */
	{
		static const struct {
			mode_t mode;
			const char *how;
		} modes[] = { { 0640, "readable" }, { 0604, "readable" }, { 0602, "writable" } };
		size_t i;

		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			assert_int_equal(chmod(key, modes[i].mode), 0);
			expect_tls("cert_file = client.pem\nkey_file = client.key\n", "",
				   "4: key_file: %s is %s by group or others (mode %04o); chmod 600 it",
				   key, modes[i].how, (unsigned)modes[i].mode);
		}
	}
	assert_int_equal(chmod(key, 0400), 0);
	expect_tls("cert_file = client.pem\nkey_file = client.key\n", "", NULL);
	assert_int_equal(chmod(key, 0600), 0);

	/* One without the other. */
	expect_tls("cert_file = client.pem\n", "",
		   "3: cert_file without key_file: a client certificate needs both (PEM files)");
	expect_tls("key_file = client.key\n", "",
		   "3: key_file without cert_file: a client certificate needs both (PEM files)");

	/* Not the certificate's key; an encrypted key (OpenSSL would ask on the tty). */
	expect_tls("cert_file = client.pem\nkey_file = other.key\n", "",
		   "4: key_file: %s is not the key of the certificate in %s", other, cert);
	expect_tls("cert_file = client.pem\nkey_file = enc.key\n", "",
		   "4: key_file: %s is encrypted; phasor needs the key without a pass phrase "
		   "(openssl pkey -in KEY -out PLAIN), kept chmod 600",
		   enc);

	/* Files that are no PEM certificate, or none at all. */
	expect_tls("ca_file = junk.pem\n", "",
		   "3: ca_file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", junk);
	expect_tls("ca_file = ca.pem\ncert_file = junk.pem\nkey_file = client.key\n", "",
		   "4: cert_file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", junk);
	expect_tls("", "ca_file = junk.pem\n",
		   "5: ca_file: %s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", junk);
	expect_tls("", "ca_file = none.pem\n",
		   "5: ca_file: cannot read %s/none.pem: No such file or directory", tmpdir);

	/* A client certificate on a plain connection would never be sent. */
	cmd = tmp_path("tls.ini");
	write_file(cmd,
		   "[mqtt]\nuri = tcp://broker.plant:1883\ncert_file = client.pem\n"
		   "key_file = client.key\n" MB,
		   0644);
	diag_init(&d);
	c = config_load(cmd, &d);
	assert_null(c);
	assert_int_equal(d.n, 1);
	want = util_printf("%s:3: cert_file: the uri tcp://broker.plant:1883 is not TLS; a client "
			   "certificate needs ssl:// or mqtts://",
			   cmd);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);
	free(cmd);

	free(cert);
	free(key);
	free(ca);
	free(other);
	free(enc);
	free(junk);
}

/* ---- secrets ------------------------------------------------------------ */

/*
 * [auth]: the operators file loaded with the configuration (its people
 * counted), idle in range; the file's own errors reported at the key's
 * line with the file's path and line; an unknown key named.
 */
static void test_auth(void **state)
{
	char *path = tmp_path("operators"), *bad = tmp_path("operators-bad"), *text, *want;
	struct diag d;
	struct config *c;

	(void)state;
	/* openssl passwd -6 -salt saltsalt 1234 */
	write_file(path, "Jane Doe:$6$saltsalt$/alWecYH7Ry7BmdtYwV3ObFkYwJ96i4zoGSMR09J7xkAoFGB7iw"
			 "oQytRgpR6rkCCVBVNkvTdkdDjhKYVJ8L2T.\n",
		   0640);
	text = util_printf(MB "[auth]\noperators = %s\nidle = 10m\n", path);
	diag_init(&d);
	c = config_load_string(text, "t.ini", &d);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	assert_string_equal(c->auth.operators, path);
	assert_int_equal(operators_count(c->auth.ops), 1);
	assert_int_equal(c->auth.idle_ms, 600000);
	assert_int_equal(operators_verify(c->auth.ops, "Jane Doe", "1234"), 0);
	config_free(c);
	free(text);
	/* without [auth]: nobody signs in, 15 min kept for when it is set */
	c = config_load_string(MB, "t.ini", &d);
	assert_non_null(c);
	assert_null(c->auth.operators);
	assert_int_equal(c->auth.idle_ms, 900000);
	config_free(c);

	write_file(bad, "Jane Doe\n", 0600);
	text = util_printf(MB "[auth]\noperators = %s\nidle = 0s\npin = 1234\n", bad);
	want = util_printf("t.ini:6: operators: %s:1: expected NAME:HASH", bad);
	{
		const char *w[] = { want, "t.ini:7: idle: 0s is out of range (1s..24h)",
				    "t.ini:8: unknown key 'pin' in [auth]" };

		expect_errors(text, w, UTIL_ARRAY_LEN(w));
	}
	free(want);
	free(text);
	free(path);
	free(bad);
}

static void test_secret_modes(void **state)
{
	char *path = tmp_path("s.pass"), *cause = NULL, *s, *want, *cfg, *text;
	struct diag d;
	struct config *c;

	(void)state;
	write_file(path, "pw\n", 0644);
	s = config_read_secret(path, &cause);
	assert_null(s);
	want = util_printf("%s is readable by group or others (mode 0644); chmod 600 it", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);

	assert_int_equal(chmod(path, 0620), 0);
	s = config_read_secret(path, &cause);
	assert_null(s);
	assert_non_null(strstr(cause, "is writable by group or others (mode 0620)"));
	free(cause);

	assert_int_equal(chmod(path, 0600), 0);
	s = config_read_secret(path, &cause);
	assert_non_null(s);
	assert_string_equal(s, "pw");
	free(s);

	/* Only one trailing newline is stripped (CRLF too). */
	write_file(path, "a b\r\n\n", 0600);
	s = config_read_secret(path, &cause);
	assert_string_equal(s, "a b\r\n");
	free(s);
	write_file(path, "x\r\n", 0400);
	s = config_read_secret(path, &cause);
	assert_string_equal(s, "x");
	free(s);

	/* An embedded NUL would cut the secret short: refused. */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		assert_int_equal(fwrite("a\0b\n", 1, 4, f), 4);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(chmod(path, 0600), 0);
	}
	s = config_read_secret(path, &cause);
	assert_null(s);
	want = util_printf("%s holds a NUL byte (byte 2), which would cut the secret short", path);
	assert_string_equal(cause, want);
	free(want);
	free(cause);

	/* Not a regular file. */
	s = config_read_secret(tmpdir, &cause);
	assert_null(s);
	want = util_printf("%s is not a regular file", tmpdir);
	assert_string_equal(cause, want);
	free(want);
	free(cause);

	/* Through the configuration, relative to the file: 0644 refused. */
	write_file(path, "pw\n", 0644);
	cfg = tmp_path("sec.ini");
	write_file(cfg, BROKER "password_file = s.pass\n" MB, 0644);
	diag_init(&d);
	c = config_load(cfg, &d);
	assert_null(c);
	assert_int_equal(d.n, 1);
	want = util_printf("%s:3: password_file: %s is readable by group or others (mode 0644); "
			   "chmod 600 it",
			   cfg, path);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);
	/* 0600 accepted. */
	assert_int_equal(chmod(path, 0600), 0);
	c = config_load(cfg, &d);
	assert_non_null(c);
	assert_string_equal(c->mqtt.password, "pw");
	config_free(c);
	/* Empty secret refused. */
	write_file(path, "\n", 0600);
	c = config_load(cfg, &d);
	assert_null(c);
	want = util_printf("%s:3: password_file: %s is empty", cfg, path);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);
	/* A NUL byte: refused with file:line, [mqtt] and [sync] alike. */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		assert_int_equal(fwrite("pw\0rest\n", 1, 8, f), 8);
		assert_int_equal(fclose(f), 0);
	}
	c = config_load(cfg, &d);
	assert_null(c);
	assert_int_equal(d.n, 1);
	want = util_printf("%s:3: password_file: %s holds a NUL byte (byte 3), which would cut "
			   "the secret short",
			   cfg, path);
	assert_string_equal(d.lines[0], want);
	free(want);
	diag_clear(&d);
	text = util_printf(MB "[sync]\npostgres = dbname=x\npassword_file = %s\n", path);
	c = config_load_string(text, "t.ini", &d);
	assert_null(c);
	want = util_printf("t.ini:7: password_file: %s holds a NUL byte (byte 3), which would cut "
			   "the secret short",
			   path);
	assert_string_equal(d.lines[0], want);
	free(want);
	free(text);
	diag_clear(&d);
	/* [sync] password_file alike. */
	text = util_printf(MB "[sync]\npostgres = dbname=x\npassword_file = %s\n", path);
	write_file(path, "pg\n", 0660);
	c = config_load_string(text, "t.ini", &d);
	assert_null(c);
	want = util_printf("t.ini:7: password_file: %s is readable by group or others (mode 0660); "
			   "chmod 600 it",
			   path);
	assert_string_equal(d.lines[0], want);
	free(want);
	free(text);
	diag_clear(&d);
	free(cfg);
	free(path);
}

/* ---- relative paths ----------------------------------------------------- */

static void test_relative_paths(void **state)
{
	char *sub = tmp_path("etc"), *cfg, *ca, *want, cwd[PATH_MAX];
	struct diag d;
	struct config *c;

	(void)state;
	assert_int_equal(mkdir(sub, 0755), 0);
	cfg = util_printf("%s/phasor.ini", sub);
	ca = util_printf("%s/certs-ca.pem", sub);
	make_pem("certs-ca");
	{
		char *made = tmp_path("certs-ca.pem");

		assert_int_equal(rename(made, ca), 0);
		free(made);
	}
	write_file(cfg,
		   "[store]\npath = data/buffer.db\n[log]\npath = ../log/phasor.log\n"
		   "[mqtt]\nuri = mqtts://h:8883\nca_file = certs-ca.pem\n" MB,
		   0644);
	diag_init(&d);
	c = config_load(cfg, &d);
	assert_non_null(c);
	want = util_printf("%s/data/buffer.db", sub);
	assert_string_equal(c->store.path, want);
	free(want);
	want = util_printf("%s/../log/phasor.log", sub);
	assert_string_equal(c->log.path, want);
	free(want);
	assert_string_equal(c->mqtt.ca_file, ca);
	config_free(c);

	/* A relative configuration path gives absolute results too. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	c = config_load("etc/phasor.ini", &d);
	assert_int_equal(chdir(cwd), 0);
	assert_non_null(c);
	want = util_printf("%s/data/buffer.db", sub);
	assert_string_equal(c->store.path, want);
	free(want);
	assert_string_equal(c->path, "etc/phasor.ini");
	config_free(c);

	/* Absolute stays absolute, ~/ is the home directory. */
	setenv("HOME", "/home/op", 1);
	c = config_load_string("[store]\npath = ~/b.db\n[log]\npath = /var/log/p.log\n" MB, "t.ini",
			       &d);
	assert_non_null(c);
	assert_string_equal(c->store.path, "/home/op/b.db");
	assert_string_equal(c->log.path, "/var/log/p.log");
	config_free(c);

	/* A missing file is one error without a line. */
	c = config_load("/nonexistent/phasor.ini", &d);
	assert_null(c);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0],
			    "/nonexistent/phasor.ini: cannot read: No such file or directory");
	diag_clear(&d);
	free(cfg);
	free(ca);
	free(sub);
}

/* ---- default path ------------------------------------------------------- */

static void test_default_path(void **state)
{
	char *env = tmp_path("env.ini"), *xdg = tmp_path("xdg"), *home = tmp_path("home");
	char *xdgfile, *homefile, *want;
	const char *p;
	struct stat st;
	bool etc = stat("/etc/phasor/phasor.ini", &st) == 0;

	(void)state;
	xdgfile = util_printf("%s/phasor/phasor.ini", xdg);
	homefile = util_printf("%s/.config/phasor/phasor.ini", home);
	write_file(env, MB, 0644);
	assert_int_equal(util_mkdir_parent(xdgfile), 0);
	write_file(xdgfile, MB, 0644);
	assert_int_equal(util_mkdir_parent(homefile), 0);
	write_file(homefile, MB, 0644);

	setenv("PHASOR_CONFIG", env, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("HOME", home, 1);
	p = config_default_path();
	assert_non_null(p);
	assert_string_equal(p, env);
	want = util_printf("%s, %s, /etc/phasor/phasor.ini", env, xdgfile);
	assert_string_equal(config_default_candidates(), want);
	free(want);

	/* $PHASOR_CONFIG names nothing: the next one that exists. */
	setenv("PHASOR_CONFIG", "/nonexistent/x.ini", 1);
	p = config_default_path();
	assert_non_null(p);
	assert_string_equal(p, xdgfile);

	/* No XDG_CONFIG_HOME (or a relative one): ~/.config. */
	unsetenv("PHASOR_CONFIG");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	p = config_default_path();
	assert_non_null(p);
	assert_string_equal(p, homefile);
	unsetenv("XDG_CONFIG_HOME");
	p = config_default_path();
	assert_non_null(p);
	assert_string_equal(p, homefile);
	want = util_printf("%s, /etc/phasor/phasor.ini", homefile);
	assert_string_equal(config_default_candidates(), want);
	free(want);

	/* Nothing left but /etc. */
	assert_int_equal(remove(homefile), 0);
	p = config_default_path();
	if (etc)
		assert_string_equal(p, "/etc/phasor/phasor.ini");
	else
		assert_null(p);

	free(xdgfile);
	free(homefile);
	free(env);
	free(xdg);
	free(home);
}

/* Topic filters: what MQTT accepts, and nothing else. */
static void test_topic_filters(void **state)
{
	static const struct {
		const char *filter;
		bool ok;
	} cases[] = {
		{ "a/b", true },	  { "#", true },	   { "+", true },
		{ "a/+/b", true },	  { "+/#", true },	   { "a//b", true },
		{ "$share/g/a/#", true }, { "a/#/b", false },	   { "a/b#", false },
		{ "a+/b", false },	  { "$share//a", false },  { "$share/g", false },
		{ "$share/g+/a", false }, { "$share/g/", false },  { "a/\x01", false },
	};
	struct diag d;
	size_t i;

	(void)state;
	diag_init(&d);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char *text = util_printf(BROKER "[meter p]\ndriver = mqtt\nprofile = tasmota\n"
						"topic = %s\n",
					 cases[i].filter);
		struct config *c = config_load_string(text, "t.ini", &d);
		if ((c != NULL) != cases[i].ok)
			fprintf(stderr, "filter %s: expected %s\n", cases[i].filter,
				cases[i].ok ? "valid" : "invalid");
		assert_true((c != NULL) == cases[i].ok);
		if (c != NULL)
			assert_string_equal(c->meters[0].topics[0], cases[i].filter);
		else
			assert_int_equal(d.n, 1);
		config_free(c);
		diag_clear(&d);
		free(text);
	}
}

/* Integers are decimal even with leading zeros; 0x is hexadecimal. */
static void test_integer_forms(void **state)
{
	static const struct {
		const char *text;
		int unit;
	} cases[] = { { "010", 10 }, { "0", 0 }, { "0x1F", 31 }, { "255", 255 }, { "00", 0 } };
	struct diag d;
	size_t i;

	(void)state;
	diag_init(&d);
	for (i = 0; i < UTIL_ARRAY_LEN(cases); i++) {
		char *text = util_printf(MB "unit = %s\n", cases[i].text);
		struct config *c = config_load_string(text, "t.ini", &d);
		assert_non_null(c);
		assert_int_equal(c->meters[0].unit, cases[i].unit);
		config_free(c);
		free(text);
	}
	diag_clear(&d);
}

static void test_driver_names(void **state)
{
	(void)state;
	assert_string_equal(config_driver_name(DRIVER_MODBUS), "modbus");
	assert_string_equal(config_driver_name(DRIVER_MQTT), "mqtt");
	assert_string_equal(config_driver_name(DRIVER_SPARKPLUG), "sparkplug");
}

/* ---- main --------------------------------------------------------------- */

/* The repository's conf/profiles. */
static int find_profiles(void)
{
	snprintf(profiles_dir, sizeof(profiles_dir), "%s", test_path("conf/profiles"));
	return access(profiles_dir, R_OK) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_complete, setup, teardown),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test_setup(test_errors, setup_tz),
		cmocka_unit_test(test_alarms),
		cmocka_unit_test(test_forecast_keys),
		cmocka_unit_test(test_shifts),
		cmocka_unit_test(test_all_errors_in_order),
		cmocka_unit_test(test_store_quota),
		cmocka_unit_test(test_mqtt_section_after_meter),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test_setup_teardown(test_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_path, setup, teardown),
		cmocka_unit_test(test_topic_filters),
		cmocka_unit_test(test_integer_forms),
		cmocka_unit_test(test_driver_names),
		cmocka_unit_test(test_tree_errors),
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_prices),
	};

	if (find_profiles() < 0) {
		fprintf(stderr, "test_config: conf/profiles not found above the test binary\n");
		return 1;
	}
	setenv("PHASOR_PROFILES", profiles_dir, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
