/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_DEMO_H
#define PHASOR_DEMO_H
/*
 * demo: the built-in simulated plant behind `phasor --demo`. Starts
 * `phasor sim` (this same binary) on a free loopback port with a handful of
 * realistic meters, two more for a gas meter and a compressed-air meter, a
 * private mosquitto for two MQTT meters when the broker is installed, and builds the configuration that points phasor's real
 * sources at them, with a per-user buffer file. Nothing here is a shortcut:
 * the hub then polls and subscribes exactly as it would in a plant.
 * Children run in their own session with their output in a private
 * directory, and die with the parent (PR_SET_PDEATHSIG).
 */
#include <stdbool.h>
#include <sys/types.h>

#include "phasor/config.h"

struct demo {
	char *dir;            /* private runtime directory, removed by demo_stop */
	struct config *cfg;   /* the generated configuration (owned) */
	pid_t sim_pid;
	pid_t broker_pid;     /* 0 when mosquitto is not installed */
	int modbus_port;
	int mqtt_port;        /* 0 without a broker */
	/* utility meters: one `phasor sim` each (demo.c's utility_sims);
	 * pid 0 when it did not start */
	pid_t util_pid[2];
	int util_port[2];
	char note[200];       /* for the status bar, e.g. why MQTT meters are absent */
};

/*
 * Start the plant; returns NULL with *cause (caller frees) when the
 * simulator cannot start. state_dir overrides where the buffer goes (NULL:
 * $XDG_STATE_HOME/phasor, else ~/.local/state/phasor).
 */
struct demo *demo_start(const char *state_dir, char **cause);

/* Stop the children, remove the runtime directory, free. */
void demo_stop(struct demo *d);

#endif
