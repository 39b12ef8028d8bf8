// SPDX-License-Identifier: GPL-2.0-or-later
#include <stdio.h>
#include <string.h>

#include "probebench/cmd.h"
#include "probebench/version.h"

/*
 * A subcommand exists when its src/cmd_NAME.c is linked in; the weak references let main()
 * list only the ones that are there.
 */
#pragma weak cmd_list
#pragma weak cmd_check
#pragma weak cmd_run
#pragma weak cmd_restore
#pragma weak cmd_daemon
#pragma weak cmd_compare
#pragma weak cmd_placement
#pragma weak cmd_report

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
    {"list", cmd_list, "show PCI functions, the devices below them, drivers and NUMA nodes"},
    {"check", cmd_check, "show what this machine allows the tool to measure"},
    {"run", cmd_run, "unbind and rebind devices, measure every probe"},
    {"restore", cmd_restore, "rebind whatever an interrupted run left in the journal"},
    {"daemon", cmd_daemon, "run planned measurements as a service with an HTTP API"},
    {"compare", cmd_compare, "compare two runs metric by metric"},
    {"placement", cmd_placement, "show where the memory of a device's users lives"},
    {"report", cmd_report, "write an HTML report of runs and a comparison"},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: probebench COMMAND [OPTIONS...]\n\n"
		   "Measures driver probes: unbinds and rebinds devices through sysfs and records\n"
		   "how long each probe took, on which CPU, task and NUMA node.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].fn)
			fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nprobebench COMMAND --help shows a command's options.\n"
		   "  -h, --help     show this help\n  -V, --version  show the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return PB_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return PB_EXIT_OK;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("probebench %s\n", PB_VERSION);
		return PB_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].fn && !strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "probebench: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return PB_EXIT_USAGE;
}
