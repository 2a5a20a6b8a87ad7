// SPDX-License-Identifier: MIT
/*
 * cmd_console: `phasor [-c FILE] [--theme NAME] [--no-color] [--ascii]
 * [--read-only] [--frames N]` and `phasor --demo`: the operator console,
 * on a configuration or on the built-in simulated plant (demo.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "phasor/cmd.h"
#include "phasor/config.h"
#include "phasor/demo.h"
#include "phasor/ui.h"
#include "phasor/util.h"

void cmd_console_usage(FILE *out)
{
	fputs("usage: phasor [-c FILE] [--theme NAME] [--no-color] [--ascii] [--read-only]\n"
	      "              [--frames N]\n"
	      "       phasor --demo [options above]\n"
	      "The operator console. Keys: ? or F1 for help, q to quit (a console that\n"
	      "records asks first).\n"
	      "  -c, --config FILE  configuration (default: $PHASOR_CONFIG,\n"
	      "                     $XDG_CONFIG_HOME/phasor/phasor.ini, /etc/phasor/phasor.ini)\n"
	      "      --demo         a built-in simulated plant; no config, no service needed\n"
	      "      --theme NAME   dark, light, high-contrast, mono, colorblind, or a file\n"
	      "      --no-color     no colour (also when NO_COLOR is set; also --no-colour)\n"
	      "      --ascii        ASCII only (also when the locale is not UTF-8, e.g. LANG=C)\n"
	      "      --read-only    no action that changes state\n"
	      "      --frames N     exit after N redraws (for tests and sanitizer runs)\n"
	      "Other commands: phasor --help; each one's options: phasor COMMAND --help\n",
	      out);
}

enum { OPT_DEMO = 256, OPT_READ_ONLY };

struct console_args {
	struct ui_opts uo;
	bool demo;
};

static int console_option(void *ctx, int id, const char *arg)
{
	struct console_args *ca = ctx;
	int rc = cmd_display_option("phasor", &ca->uo, id, arg);

	if (rc >= 0)
		return rc;
	if (id == OPT_DEMO)
		ca->demo = true;
	else if (id == OPT_READ_ONLY)
		ca->uo.read_only = true;
	return 0;
}

int cmd_console(int argc, char **argv)
{
	static const struct cmd_option opts[] = {
		{ "demo", false, OPT_DEMO },
		CMD_DISPLAY_OPTIONS,
		{ "read-only", false, OPT_READ_ONLY },
		{ NULL, false, 0 },
	};
	struct console_args ca = { .demo = false };
	const struct cmd_spec spec = {
		.name = NULL, /* "phasor: ..." */
		.common = CMD_OPT_CONFIG,
		.options = opts,
		.option = console_option,
		.ctx = &ca,
		.usage = cmd_console_usage,
	};
	struct ui_opts uo;
	struct cmd_args a;
	const char *config_path;
	bool demo;
	struct config *cfg = NULL;
	struct demo *d = NULL;
	char *cause = NULL;
	int rc;

	rc = cmd_parse(&spec, argc, argv, &a);
	if (rc >= 0)
		return rc;
	uo = ca.uo;
	demo = ca.demo;
	config_path = a.config;
	if (demo && config_path != NULL) {
		fprintf(stderr, "phasor: --demo runs its own plant; it takes no -c\n");
		return EXIT_USAGE;
	}

	/* Everything that can be refused is refused before anything starts
	 * (the demo's plant, the hub). */
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		fprintf(stderr, "phasor: the console needs a terminal (its %s is not one);"
				" for headless acquisition use phasor record, for data phasor"
				" export\n",
			!isatty(STDOUT_FILENO) ? "output" : "input");
		return EXIT_USAGE;
	}
	if (cmd_theme_check(uo.theme) != 0)
		return EXIT_USAGE;
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
	if (d != NULL) {
		/* The demo's recording stays: say where, to replay or export it. */
		fprintf(stderr, "phasor --demo: the recording is in %s (phasor export --db %s)\n",
			cfg->store.path, cfg->store.path);
		demo_stop(d);
	} else {
		config_free(cfg);
	}
	return rc;
}
