/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_CONFIG_H
#define PHASOR_CONFIG_H
/*
 * config: the INI configuration of the contract, parsed with inih and
 * validated in full. Every problem is reported as "file:line: message"
 * (unknown keys get the closest known key suggested). Secrets are read from
 * *_file keys; a secret file readable by group or others is refused, as ssh
 * does. The keys are documented in docs/configuration.md.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "phasor/alarmdef.h"
#include "phasor/diag.h"
#include "phasor/profile.h"
#include "phasor/utility.h"

enum meter_driver { DRIVER_MODBUS, DRIVER_MQTT, DRIVER_SPARKPLUG };

/* role =: what a meter's energy is to the site (docs/configuration.md,
 * "Meter tree and production"). */
enum meter_role { METER_CONSUMPTION, METER_PRODUCTION };

struct config_meter {
	char *name;
	enum meter_driver driver;
	char *profile_name;
	const struct profile *profile; /* borrowed from config.profiles */
	char *description;             /* may be NULL */

	/* modbus */
	char *host;
	int port;                      /* default 502 */
	int unit;                      /* 0..255, default 1 */
	int timeout_ms;                /* response timeout, default 1000 */

	/* mqtt: topic filters (wildcards and $share/GROUP/ allowed) */
	char **topics;
	size_t ntopics;

	/* sparkplug (docs/sparkplug.md): the edge node's group and node ids,
	 * and the device id (NULL: the node's own metrics) */
	char *sp_group, *sp_node, *sp_device;

	/* Poll period (modbus) or expected publication period (mqtt,
	 * sparkplug): data older than three periods is stale. Default 1000
	 * (modbus), 10000 (mqtt, sparkplug). */
	int poll_ms;

	double nominal_voltage;        /* L-N volts, default 230 */
	double max_power;              /* W; NaN when not given: no overload limit */
	bool aggregate;                /* measures the sum of others (main board,
					* incomer): the site total, never a consumer */
	int utility;                   /* enum utility: utility =, default the profile's */
	double calorific_value;        /* kWh/m3 of a gas meter; NaN: not given
					* (config_calorific() applies [site]'s) */
	/* pulse_value (or the profile's) when the profile counts pulses:
	 * profile is then the meter's own copy with the pulses resolved */
	unsigned pulse_qty;            /* QTY_VOLUME or QTY_E_IMP; 0 with pulse_si 0 */
	double pulse_si;               /* m3 or Wh per pulse; 0: no pulses */
	/* parent = NAME: the meter this one is a feeder of (the tree of
	 * docs/configuration.md): 1 + its index in config.meters, 0 a root
	 * (so that a zeroed meter is one); read it with config_parent() */
	int parent_plus1;
	char *parent_name;             /* as written; NULL: no parent key */
	int parent_line;
	int nchildren;                 /* meters whose parent this is */
	int depth;                     /* 0 for a root */
	int role;                      /* enum meter_role, default consumption */
	bool grid;                     /* grid = true: the site's connection to the grid
					* (a consumption root: e_imp what it takes, e_exp
					* what it gives back; production behind it) */
	int grid_line;
	int line;                      /* line of the [meter ...] header */
};

/* The index of m's parent in config.meters, -1 for a root. */
static inline int config_parent(const struct config_meter *m)
{
	return m->parent_plus1 - 1;
}

struct operators;

/* A machine's state as its source reports it (docs/machines.md);
 * MACHINE_UNKNOWN: no report yet, or its source is stale. */
enum machine_state { MACHINE_RUN, MACHINE_WAIT, MACHINE_STOP, MACHINE_UNKNOWN, MACHINE__COUNT };

/* "run", "wait", "stop", "unknown" */
const char *config_machine_state_name(enum machine_state s);

#define CONFIG_MACHINE_METERS_MAX 16

/*
 * [machine NAME]: a machine, the meters that feed it and where its state
 * and pieces come from (MQTT JSON, mapped by the keys below).
 */
struct config_machine {
	char *name;
	char *description;             /* may be NULL */
	size_t meters[CONFIG_MACHINE_METERS_MAX]; /* indexes into config.meters */
	size_t nmeters;
	char *topic;                   /* the MQTT topic (no wildcard); NULL for modbus */
	char *state_field;             /* JSON path of the state, default "state" */
	/* per state (run, wait, stop): the values meaning it, NULL-terminated,
	 * compared as text (a JSON number as its shortest form: 1, 2.5);
	 * defaults "run", "wait", "stop" */
	char **state_values[3];
	char *pieces_field;            /* JSON path of the pieces; NULL: none */
	bool pieces_increment;         /* pieces = increment: pieces made since the
					* last message; else a counter (resets detected) */
	double stopped_power;          /* W: "consuming while stopped" above it; NaN: off */
	int64_t stopped_after_ms;      /* for this long in stop, default 10 min */
	int64_t period_ms;             /* expected publication period, default 60 s
					* (modbus: poll_ms): silent for 3 periods, the
					* state is unknown */
	/* driver = modbus: the machine polled as a meter of its endpoint
	 * (host, port, unit, poll_ms, timeout_ms) whose profile (its own)
	 * reads state_register (uint16) as machine_state and pieces_register
	 * (uint32, high word first) as pieces, raw; owned; NULL for mqtt */
	struct config_meter *poll;
	int line;                      /* line of the [machine ...] header */
};

#define CONFIG_SHIFTS_MAX 8

struct config {
	char *path;                    /* the file */
	char *text;                    /* its whole text (for the session record) */

	struct {
		char *name;            /* default "phasor" */
		char *timezone;        /* may be NULL: the system's */
		double target_pf;      /* default 0.95 */
		double nominal_freq;   /* default 50 */
		double price_per_kwh;  /* electricity price per kWh; NaN when not set */
		/* price_gas, price_heat per kWh (index enum utility; the others
		 * unused: electricity's is price_per_kwh); NaN when not set: read
		 * them with config_price() */
		double price[UTILITY__COUNT];
		char *currency;        /* e.g. "EUR", may be NULL */
		double co2_per_kwh;    /* kg CO2 per kWh; NaN when not set */
		double contract_power; /* W, subscribed power; NaN when not set */
		double calorific_value; /* kWh/m3 for gas meters without their own; NaN */
		/* [site] shifts: the shifts' local start times in minutes after
		 * midnight, ascending (each ends where the next starts, the last
		 * at the first's next day); nshifts 0: none configured */
		int shift_min[CONFIG_SHIFTS_MAX];
		size_t nshifts;
	} site;

	/* [forecast] */
	struct {
		int64_t interval_ms;   /* default 15 min; a divisor of a day */
		int64_t history_ms;    /* the data a forecast uses, default 8 weeks */
		int32_t *holidays;     /* local dates, days since 1970-01-01; owned */
		size_t nholidays;
	} forecast;

	struct {
		char *theme;           /* [console] theme (name or path), NULL: "dark" */
		int refresh_ms;        /* [console] refresh, default 1000 */
		bool bell;             /* [console] bell: ring on a new critical/high alarm, default yes */
	} console;
	/* [alarm NAME] sections in file order; none: the engine uses the
	 * built-in set (alarm_defaults). */
	struct alarm_def *alarms;
	size_t nalarms;
	/* [operators] login = Display Name: who acknowledges, as shown and
	 * journaled; NULL-terminated pairs (login, name, login, name, ..., NULL). */
	char **operators;
	/* [auth]: with operators, acting at a console asks for a name and PIN
	 * (operators.h), valid until idle_ms without a key */
	struct {
		char *operators;        /* the file; NULL: no sign-in, the login acts */
		struct operators *ops;  /* its people (NULL when it had errors) */
		int64_t idle_ms;        /* default 15 min */
	} auth;

	struct {
		char *path;            /* default $XDG_STATE_HOME/phasor/buffer.db */
		int64_t retention_ms;  /* default 30 days */
		size_t queue_max;      /* samples held in memory when the disk refuses; default 1000000 */
		int batch_rows;        /* commit every N rows, default 5000 */
		int commit_ms;         /* and at least this often, default 1000 */
		uint64_t quota_bytes;  /* [store] quota: past it the sync prunes oldest first; 0: none */
	} store;

	struct {
		char *path;            /* NULL: stderr */
		int level;             /* enum log_level, default info */
	} log;

	struct {
		bool enabled;          /* [mqtt] present */
		char *uri;             /* tcp://host:port or ssl://host:port */
		char *client_id;       /* default "phasor-<host>-<pid>" */
		char *username;
		char *password;        /* read from password_file, may be NULL */
		char *ca_file;         /* PEM CA certificates for ssl://; NULL: the system's */
		char *cert_file;       /* PEM client certificate, with key_file; may be NULL */
		char *key_file;        /* its unencrypted key, mode 0600 at most */
		int qos;               /* 0..2, default 1 */
		int keepalive_s;       /* default 30 */
		char *share_group;     /* subscribe as $share/GROUP/<filter>, may be NULL */
		bool clean_session;    /* default true */
		int protocol;          /* 5 (default) or 4 (3.1.1): the MQTT protocol level */
		char *alarm_topic;     /* prefix of the shared alarm topics, default "phasor/alarms"; "" off */
		char *sp_host_id;      /* sparkplug_host_id: the Sparkplug 3.0 host STATE; NULL: off */
		int line;
	} mqtt;

	struct {
		bool enabled;          /* [sync] present */
		char *postgres;        /* libpq conninfo */
		char *password;        /* read from password_file, may be NULL */
		char *ca_file;         /* sslrootcert (and verify-full unless postgres sets sslmode) */
		int64_t interval_ms;   /* default 10 s */
		int line;
	} sync;

	struct config_meter *meters;
	size_t nmeters;

	struct config_machine *machines; /* [machine NAME] sections in file order */
	size_t nmachines;

	struct profile **profiles;     /* owned, one per distinct profile used */
	size_t nprofiles;
};

/*
 * Parse and validate path. On success returns a new config (free with
 * config_free()) and d is untouched; on any error returns NULL with every
 * error in d as "file:line: message".
 */
struct config *config_load(const char *path, struct diag *d);

/* Same from a string; name is used in messages in place of the file. */
struct config *config_load_string(const char *text, const char *name, struct diag *d);

void config_free(struct config *c);

/*
 * Is tz a time zone the C library will know: "UTC", a file under
 * /usr/share/zoneinfo (any when there is no tzdata to check), or a POSIX
 * TZ string ("CET-1CEST,M3.5.0,M10.5.0/3")?
 */
bool config_timezone_known(const char *tz);

/*
 * The configuration file to use when -c is absent: $PHASOR_CONFIG,
 * $XDG_CONFIG_HOME/phasor/phasor.ini (or ~/.config/...), then
 * /etc/phasor/phasor.ini; the first that exists. NULL when none does
 * (static buffer otherwise).
 */
const char *config_default_path(void);

/* The paths config_default_path() tries, in order, as "A, B, C" (static
 * buffer): for the "no configuration file (tried ...)" message. */
const char *config_default_candidates(void);

/* The operator name for a login: its [operators] mapping, or login itself. */
const char *config_operator(const struct config *c, const char *login);
/* Index of the machine called name, or -1. */
int config_machine_index(const struct config *c, const char *name);
/* Index of the meter called name, or -1. */
int config_meter_index(const struct config *c, const char *name);

/*
 * Is meter i part of the site's consumption total: a consumption meter
 * without a parent (its feeders are in it already), and, when some such
 * root is an aggregate, only the aggregates and the gas meters (the rule
 * before the tree: an incomer measures the others). Configurations without
 * parent = and role = keep the old totals.
 */
bool config_in_site(const struct config *c, size_t i);
/* The same for production: a production meter without a parent. */
bool config_in_production(const struct config *c, size_t i);
/* Each meter's nchildren and depth from parent_plus1: config_load does it;
 * for configurations built by hand (tests, benchmarks). No cycle check. */
void config_tree_derive(struct config *c);
/* Does any meter have a parent (the overview then shows the tree)? */
bool config_has_tree(const struct config *c);
/* Is there a grid = true meter (then the production's self-consumption
 * is production - export)? */
bool config_has_grid(const struct config *c);
/* The price per kWh of a meter of utility u's energy: [site]
 * price_per_kwh (electricity), price_gas (else price_per_kwh, as before
 * the per-utility prices), price_heat; NaN when not set, and for water
 * and air (no energy). */
double config_price(const struct config *c, int utility);
/* Does any meter have role = production? */
bool config_has_production(const struct config *c);
/* "consumption" / "production" */
const char *config_role_name(int role);

/* The calorific value (kWh/m3) a gas meter's volume becomes energy with:
 * its own, else [site] calorific_value; NaN for other meters or none. */
double config_calorific(const struct config *c, const struct config_meter *m);
/*
 * The span of meter m's counter qty when an unsigned integer register of
 * its Modbus profile holds it (pulses resolved): 2^bits x scale, where it
 * wraps (utility.h); for the e_imp a gas meter derives from its volume,
 * the volume's span x calorific value x 1000. 0 when unknown: a float
 * register, MQTT, no such register.
 */
double config_counter_span(const struct config *c, const struct config_meter *m, unsigned qty);
/* Does the hub derive m's e_imp from its volume: a gas meter with a
 * calorific value whose profile maps volume and no e_imp of its own? */
bool config_derives_energy(const struct config *c, const struct config_meter *m);

/* "modbus" / "mqtt" / "sparkplug" */
const char *config_driver_name(enum meter_driver d);

/* Print the check-config summary (meters, drivers, profiles, topics). */
void config_print_summary(const struct config *c, void *stream /* FILE * */);

/*
 * Read a secret file: refused (NULL, message in *cause, caller frees) when
 * it is readable or writable by group or others, unreadable, or holds a NUL
 * byte (the secret is used as a C string). The trailing
 * newline is stripped. Returns a new string.
 */
char *config_read_secret(const char *path, char **cause);

#endif
