// SPDX-License-Identifier: MIT
/*
 * cmd_check_config: `phasor check-config [-c FILE]`. Loads the configuration
 * exactly as the other commands do (cmd_load_config, shared with them), then
 * prints a summary of what would run: meters, drivers, profiles and the
 * MQTT topics subscribed. Invalid: every error as file:line on stderr, a
 * count, exit 2.
 */
#include <stdio.h>
#include <stdlib.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/diag.h"

struct config *cmd_load_config(const char *path)
{
	struct config *c;
	struct diag d;

	if (path == NULL) {
		path = config_default_path();
		if (path == NULL) {
			fprintf(stderr, "phasor: no configuration file (tried %s); use -c FILE\n",
				config_default_candidates());
			return NULL;
		}
	}
	diag_init(&d);
	c = config_load(path, &d);
	if (c == NULL) {
		diag_print(&d, stderr);
		fprintf(stderr, "phasor: %zu error%s in %s\n", d.n, d.n == 1 ? "" : "s", path);
	}
	diag_clear(&d);
	return c;
}

static void usage(FILE *out)
{
	fputs("usage: phasor check-config [-c FILE]\n"
	      "\n"
	      "Validate the configuration and the profiles it uses. Valid: print a\n"
	      "summary (meters, profiles, MQTT topics) and exit 0. Invalid: print every\n"
	      "error as FILE:LINE: message on stderr and exit 2.\n"
	      "\n"
	      "  -c, --config FILE   the configuration (default: $PHASOR_CONFIG,\n"
	      "                      $XDG_CONFIG_HOME/phasor/phasor.ini, /etc/phasor/phasor.ini)\n"
	      "  -h, --help          this help\n",
	      out);
}

int cmd_check_config(int argc, char **argv)
{
	const struct cmd_spec spec = {
		.name = "check-config", .common = CMD_OPT_CONFIG, .usage = usage,
	};
	struct cmd_args a;
	struct config *c;
	int rc = cmd_parse(&spec, argc, argv, &a);

	if (rc >= 0)
		return rc;
	c = cmd_load_config(a.config);
	if (c == NULL)
		return EXIT_USAGE;
	config_print_summary(c, stdout);
	config_free(c);
	return EXIT_OK;
}
