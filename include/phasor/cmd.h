/* SPDX-License-Identifier: MIT */
#ifndef PHASOR_CMD_H
#define PHASOR_CMD_H
/*
 * cmd: the subcommands of the phasor binary, one file each (cmd_*.c).
 * Each takes the arguments after the command name (argv[0] is the command)
 * and returns the exit status of the contract: 0 success, 1 runtime
 * failure, 2 bad usage or bad configuration.
 */

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

int cmd_record(int argc, char **argv);
int cmd_check_config(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_export(int argc, char **argv);

/*
 * Shared by the commands: load the configuration named by -c (or the
 * default search), printing every error to stderr. NULL when it fails (the
 * caller exits 2).
 */
struct config;
struct config *cmd_load_config(const char *path);

#endif
