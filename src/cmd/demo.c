// SPDX-License-Identifier: MIT
/*
 * demo: the simulated plant of `phasor --demo`. It forks this binary as
 * `phasor sim` on a free loopback port (and a private mosquitto when the
 * broker is installed, for two meters that arrive over MQTT; and one more
 * `phasor sim` per utility meter: gas, compressed air), waits until
 * they listen, and writes the configuration (a meter tree: the main board
 * is every feeder's parent; and a PV feeder, role = production) that points phasor's real
 * Modbus and MQTT sources at them. The children's output goes to files in a
 * private runtime directory, never to the terminal.
 */
#include "phasor/demo.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "phasor/log.h"
#include "phasor/simmodel.h"
#include "phasor/util.h"

#define DEMO_SEED 42
#define MODBUS_METERS 5
#define MQTT_METERS 2
/* The rooftop PV feeder: the simulator's unit after the MQTT meters. */
#define PV_UNIT (MODBUS_METERS + MQTT_METERS + 1)
#define PV_NAME "pv-roof"
#define PV_PEAK "250kW"

/* Names an operator would give these feeders; the load kinds are unit 1..7's. */
static const char *const meter_names[MODBUS_METERS + MQTT_METERS] = {
	"tgbt-main", "oven-cataphoresis", "furnace-foundry", "compressor-air",
	"paint-line", "press-3", "hvac-roof",
};

/* The utility meters: one simulator each (a simulator serves one profile). */
static const struct {
	const char *name, *profile, *description;
} utility_sims[2] = {
	{ "gas-boiler-house", "gas-meter", "Gas meter of the boiler house (heating, paint ovens)" },
	{ "air-main", "air-flow", "Compressed-air main after the compressor room" },
};

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool port_open(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Wait up to ms for port to accept connections while pid lives. */
static bool wait_listening(pid_t pid, int port, int ms)
{
	int waited;

	for (waited = 0; waited < ms; waited += 50) {
		int st;

		if (port_open(port))
			return true;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return false;
		util_sleep_ms(50);
	}
	return false;
}

static pid_t spawn(const char *path, char *const argv[], const char *log_path)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* Child: own session (no terminal signals), dies with the parent. */
	setsid();
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	{
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (null >= 0)
			dup2(null, STDIN_FILENO);
	}
	execv(path, argv);
	_exit(127);
}

static const char *find_mosquitto(void)
{
	static const char *const candidates[] = { "/usr/sbin/mosquitto", "/usr/bin/mosquitto",
						  "/usr/local/sbin/mosquitto",
						  "/usr/local/bin/mosquitto" };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(candidates); i++)
		if (access(candidates[i], X_OK) == 0)
			return candidates[i];
	return NULL;
}

static void stop_child(pid_t pid)
{
	int i, st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (i = 0; i < 40; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		util_sleep_ms(50);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

static char *state_path(const char *state_dir)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (state_dir != NULL)
		return util_printf("%s/demo.db", state_dir);
	if (xdg != NULL && xdg[0] == '/')
		return util_printf("%s/phasor/demo.db", xdg);
	if (home == NULL) {
		struct passwd *pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : "/tmp";
	}
	return util_printf("%s/.local/state/phasor/demo.db", home);
}

static char *build_config(const struct demo *d, const char *db)
{
	struct simmodel *m = simmodel_new(PV_UNIT, DEMO_SEED, util_now_us());
	size_t cap = 8192, len = 0, i, n = d->mqtt_port ? MODBUS_METERS + MQTT_METERS
							: MODBUS_METERS;
	char *text = util_malloc(cap);

	simmodel_set_pv(m, PV_UNIT - 1, 250e3); /* the main board's rating without it */

#define ADD(...)                                                                        \
	do {                                                                            \
		int w_ = snprintf(text + len, cap - len, __VA_ARGS__);                  \
		if (w_ < 0 || (size_t)w_ >= cap - len)                                  \
			util_fail("demo: configuration too long");                     \
		len += (size_t)w_;                                                      \
	} while (0)

	ADD("; generated by phasor --demo\n[site]\nname = Demo plant\n"
	    "price_per_kwh = 0.15\nprice_gas = 0.08\ncurrency = EUR\nco2_per_kwh = 0.052\n"
	    "calorific_value = 10.5\n\n");
	ADD("[store]\npath = %s\ncommit_interval = 1s\n\n", db);
	ADD("[log]\npath = %s/phasor.log\n\n", d->dir);
	if (d->mqtt_port)
		ADD("[mqtt]\nuri = tcp://127.0.0.1:%d\nclient_id = phasor-demo-%d\nqos = 1\n\n",
		    d->mqtt_port, (int)getpid());
	for (i = 0; i < n; i++) {
		enum sim_load load = simmodel_load(m, i);

		ADD("[meter %s]\ndescription = %s\n", meter_names[i],
		    simmodel_load_description(load));
		if (i < MODBUS_METERS)
			ADD("driver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = %d\n"
			    "unit = %zu\npoll_ms = 1000\ntimeout_ms = 500\n",
			    d->modbus_port, i + 1);
		else
			ADD("driver = mqtt\nprofile = shelly-pro3em\n"
			    "topic = shellypro3em-sim%zu/status/+\npoll_ms = 2000\n",
			    i + 1);
		/* Rated power with headroom: the demo plant runs normally. */
		ADD("max_power = %.0fkW\n", simmodel_rated_power(m, i) * 1.1 / 1000.0);
		/* The main board measures the whole workshop: the feeders'
		 * parent (what they do not meter is its remainder). */
		ADD("%s\n", load == SIM_LOAD_MAIN_BOARD ? "aggregate = true\n"
							: "parent = tgbt-main\n");
	}
	ADD("[meter " PV_NAME "]\ndescription = Rooftop PV, " PV_PEAK " peak (production)\n"
	    "driver = modbus\nprofile = pac3200\nhost = 127.0.0.1\nport = %d\nunit = %d\n"
	    "poll_ms = 1000\ntimeout_ms = 500\nrole = production\n\n",
	    d->modbus_port, PV_UNIT);
	for (i = 0; i < UTIL_ARRAY_LEN(utility_sims); i++)
		if (d->util_pid[i] > 0)
			ADD("[meter %s]\ndescription = %s\ndriver = modbus\nprofile = %s\n"
			    "host = 127.0.0.1\nport = %d\nunit = 1\npoll_ms = 1000\n"
			    "timeout_ms = 500\n\n",
			    utility_sims[i].name, utility_sims[i].description,
			    utility_sims[i].profile, d->util_port[i]);
	/* The simulator's two machines (simmodel_machine): the press line on
	 * press-3, the cataphoresis line on its oven, which keeps heating
	 * when the line stops (consuming while stopped). */
	if (d->mqtt_port)
		ADD("[machine %s]\ndescription = Press line 3\nmeters = press-3\n"
		    "topic = sim/machine1/state\npieces_field = count\nperiod = 10s\n\n"
		    "[machine %s]\ndescription = Cataphoresis line (racks)\n"
		    "meters = oven-cataphoresis\ntopic = sim/machine2/state\n"
		    "pieces_field = count\nperiod = 10s\nstopped_power = 2kW\n"
		    "stopped_after = 5m\n\n",
		    simmodel_machine_name(0), simmodel_machine_name(1));
#undef ADD
	simmodel_free(m);
	return text;
}

/* A simulator per utility meter; one that does not start leaves its meter
 * out (and says so), the demo goes on. */
static void start_utility_sims(struct demo *d, const char *exe, char *seed_arg)
{
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(utility_sims); i++) {
		char port_arg[64], *log_path = util_printf("%s/sim-%s.log", d->dir,
							  utility_sims[i].profile);

		d->util_port[i] = free_port();
		snprintf(port_arg, sizeof(port_arg), "127.0.0.1:%d", d->util_port[i]);
		d->util_pid[i] = d->util_port[i] <= 0 ? -1 :
			spawn(exe, (char *const[]){ (char *)"phasor", (char *)"sim",
						    (char *)"--modbus", port_arg,
						    (char *)"--meters", (char *)"1",
						    (char *)"--seed", seed_arg,
						    (char *)"--profile", (char *)utility_sims[i].profile,
						    NULL },
			      log_path);
		if (d->util_pid[i] < 0 || !wait_listening(d->util_pid[i], d->util_port[i], 10000)) {
			stop_child(d->util_pid[i]);
			d->util_pid[i] = 0;
			snprintf(d->note, sizeof(d->note), "the %s simulator did not start (see %s)",
				 utility_sims[i].profile, log_path);
		}
		free(log_path);
	}
}

struct demo *demo_start(const char *state_dir, char **cause)
{
	struct demo *d = util_calloc(1, sizeof(*d));
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	const char *exe_dir = util_exe_dir();
	const char *mosquitto = find_mosquitto();
	char *exe = NULL, *tmpl, *db = NULL, *text = NULL, *log_path = NULL;
	char port_arg[64], mqtt_arg[64], meters_arg[16], seed_arg[16], pv_arg[32];
	struct diag dg;

	*cause = NULL;
	diag_init(&dg);
	tmpl = util_printf("%s/phasor-demo.XXXXXX",
			   runtime != NULL && runtime[0] == '/' ? runtime : "/tmp");
	if (mkdtemp(tmpl) == NULL) {
		*cause = util_printf("cannot create %s: %s", tmpl, strerror(errno));
		free(tmpl);
		goto fail;
	}
	d->dir = tmpl;
	if (exe_dir == NULL) {
		*cause = util_strdup("cannot find the phasor binary (/proc/self/exe)");
		goto fail;
	}
	exe = util_printf("%s/phasor", exe_dir);

	if (mosquitto != NULL) {
		char *conf = util_printf("%s/mosquitto.conf", d->dir);
		FILE *f = fopen(conf, "w");
		struct passwd *pw = getpwuid(getuid());

		d->mqtt_port = free_port();
		if (f != NULL && d->mqtt_port > 0) {
			fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\n"
				   "persistence false\nuser %s\n",
				d->mqtt_port, pw != NULL ? pw->pw_name : "nobody");
			fclose(f);
			log_path = util_printf("%s/mosquitto.log", d->dir);
			d->broker_pid = spawn(mosquitto, (char *const[]){ (char *)"mosquitto", (char *)"-c", conf, NULL },
					      log_path);
			free(log_path);
			log_path = NULL;
			if (d->broker_pid < 0 || !wait_listening(d->broker_pid, d->mqtt_port, 5000)) {
				stop_child(d->broker_pid);
				d->broker_pid = 0;
				d->mqtt_port = 0;
				snprintf(d->note, sizeof(d->note),
					 "mosquitto did not start (see %s/mosquitto.log): no MQTT meters",
					 d->dir);
			}
		} else {
			if (f != NULL)
				fclose(f);
			d->mqtt_port = 0;
			snprintf(d->note, sizeof(d->note), "cannot set up mosquitto: no MQTT meters");
		}
		free(conf);
	} else {
		snprintf(d->note, sizeof(d->note),
			 "mosquitto is not installed: running without the MQTT meters");
	}

	d->modbus_port = free_port();
	if (d->modbus_port <= 0) {
		*cause = util_strdup("no free loopback port for the simulator");
		goto fail;
	}
	snprintf(port_arg, sizeof(port_arg), "127.0.0.1:%d", d->modbus_port);
	snprintf(mqtt_arg, sizeof(mqtt_arg), "tcp://127.0.0.1:%d", d->mqtt_port);
	snprintf(meters_arg, sizeof(meters_arg), "%d", PV_UNIT);
	snprintf(pv_arg, sizeof(pv_arg), "%d:" PV_PEAK, PV_UNIT);
	snprintf(seed_arg, sizeof(seed_arg), "%d", DEMO_SEED);
	log_path = util_printf("%s/sim.log", d->dir);
	if (d->mqtt_port)
		d->sim_pid = spawn(exe, (char *const[]){ (char *)"phasor", (char *)"sim",
							 (char *)"--modbus", port_arg,
							 (char *)"--meters", meters_arg,
							 (char *)"--seed", seed_arg,
							 (char *)"--mqtt", mqtt_arg,
							 (char *)"--mqtt-period", (char *)"2s",
							 (char *)"--pv", pv_arg,
							 (char *)"--machines", (char *)"2",
							 NULL },
				   log_path);
	else
		d->sim_pid = spawn(exe, (char *const[]){ (char *)"phasor", (char *)"sim",
							 (char *)"--modbus", port_arg,
							 (char *)"--meters", meters_arg,
							 (char *)"--seed", seed_arg,
							 (char *)"--pv", pv_arg, NULL },
				   log_path);
	if (d->sim_pid < 0 || !wait_listening(d->sim_pid, d->modbus_port, 10000)) {
		*cause = util_printf("the simulator did not start (see %s)", log_path);
		goto fail;
	}
	start_utility_sims(d, exe, seed_arg);

	db = state_path(state_dir);
	if (util_mkdir_parent(db) < 0) {
		*cause = util_printf("cannot create the directory of %s: %s", db, strerror(errno));
		goto fail;
	}
	text = build_config(d, db);
	{
		char *name = util_printf("%s/demo.ini", d->dir);
		FILE *f = fopen(name, "w");

		/* Kept beside the logs so the operator can see what the demo runs. */
		if (f != NULL) {
			fputs(text, f);
			fclose(f);
		}
		d->cfg = config_load_string(text, name, &dg);
		free(name);
	}
	if (d->cfg == NULL) {
		*cause = util_printf("demo configuration rejected: %s",
				     dg.n > 0 ? dg.lines[0] : "?");
		goto fail;
	}
	free(exe);
	free(db);
	free(text);
	free(log_path);
	diag_clear(&dg);
	return d;

fail:
	free(exe);
	free(db);
	free(text);
	free(log_path);
	diag_clear(&dg);
	demo_stop(d);
	return NULL;
}

static void remove_dir(const char *dir)
{
	static const char *const files[] = { "sim.log", "mosquitto.log", "mosquitto.conf",
					     "demo.ini", "phasor.log", "sim-gas-meter.log",
					     "sim-air-flow.log" };
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(files); i++) {
		char *p = util_printf("%s/%s", dir, files[i]);
		unlink(p);
		free(p);
	}
	rmdir(dir);
}

void demo_stop(struct demo *d)
{
	if (d == NULL)
		return;
	stop_child(d->sim_pid);
	stop_child(d->util_pid[0]);
	stop_child(d->util_pid[1]);
	stop_child(d->broker_pid);
	if (d->dir != NULL)
		remove_dir(d->dir);
	config_free(d->cfg);
	free(d->dir);
	free(d);
}
