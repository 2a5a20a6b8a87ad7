// SPDX-License-Identifier: MIT
/*
 * cmd_console: `phasor [-c FILE] [--theme NAME] [--no-color] [--ascii]
 * [--read-only] [--frames N]` and `phasor --demo`: the operator console,
 * on a configuration or on the built-in simulated plant (demo.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/demo.h"
#include "phasor/ui.h"
#include "phasor/util.h"

static void usage(FILE *out)
{
	fputs("usage: phasor [-c FILE] [--theme NAME] [--no-color] [--ascii] [--read-only]\n"
	      "              [--frames N]\n"
	      "       phasor --demo [options above]\n"
	      "The operator console. Keys: ? or F1 for help, q to quit.\n"
	      "  -c, --config FILE  configuration (default: $PHASOR_CONFIG,\n"
	      "                     $XDG_CONFIG_HOME/phasor/phasor.ini, /etc/phasor/phasor.ini)\n"
	      "      --demo         a built-in simulated plant; no config, no service needed\n"
	      "      --theme NAME   dark, light, high-contrast, mono, colorblind, or a file\n"
	      "      --no-color     no colour (also when NO_COLOR is set)\n"
	      "      --ascii        ASCII only (also when the locale is not UTF-8, e.g. LANG=C)\n"
	      "      --read-only    no action that changes state\n"
	      "      --frames N     exit after N redraws (for tests and sanitizer runs)\n"
	      "Other commands: phasor record|check-config|sim|export --help\n",
	      out);
}

int cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "demo", no_argument, NULL, 'D' },
		{ "theme", required_argument, NULL, 't' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "no-colour", no_argument, NULL, 'C' },
		{ "ascii", no_argument, NULL, 'A' },
		{ "read-only", no_argument, NULL, 'R' },
		{ "frames", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ui_opts uo = { 0 };
	const char *config_path = NULL;
	bool demo = false;
	struct config *cfg = NULL;
	struct demo *d = NULL;
	char *cause = NULL;
	long frames;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'D':
			demo = true;
			break;
		case 't':
			uo.theme = optarg;
			break;
		case 'C':
			uo.no_color = true;
			break;
		case 'A':
			uo.ascii = true;
			break;
		case 'R':
			uo.read_only = true;
			break;
		case 'F':
			if (util_parse_long(optarg, 1, 1000000000L, &frames) < 0) {
				fprintf(stderr, "phasor: --frames: '%s' is not a positive count\n",
					optarg);
				return EXIT_USAGE;
			}
			uo.frames = frames;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "phasor: unknown command or argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (demo && config_path != NULL) {
		fprintf(stderr, "phasor: --demo runs its own plant; it takes no -c\n");
		return EXIT_USAGE;
	}

	if (demo) {
		fprintf(stderr, "phasor: starting the simulated plant...\n");
		d = demo_start(NULL, &cause);
		if (d == NULL) {
			fprintf(stderr, "phasor --demo: %s\n", cause);
			free(cause);
			return EXIT_RUNTIME;
		}
		cfg = d->cfg;
		uo.note = d->note[0] != '\0' ? d->note : NULL;
	} else {
		cfg = cmd_load_config(config_path);
		if (cfg == NULL)
			return EXIT_USAGE;
	}
	rc = ui_run(cfg, &uo);
	if (d != NULL)
		demo_stop(d);
	else
		config_free(cfg);
	return rc;
}
