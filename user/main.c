// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* protomix: parse the command line and dispatch. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "probe.h"
#include "util.h"

#define PROTOMIX_VERSION "0.1.0"

/* Each subcommand: its name, its function (commands.h) and its lines in
 * `protomix --help`. `protomix CMD --help` is the command's own. */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static const struct command commands[] = {
	{ "watch", cmd_watch,
	  "  watch [OPTIONS] IFACE...   attach, observe, report; detach on exit\n" },
	{ "snapshot", cmd_snapshot,
	  "  snapshot [-f json|md|csv|html|svg] [-o FILE] [--pcap FILE]\n"
	  "                             read a running watch: counts, alerts, evidence\n" },
	{ "top", cmd_top,
	  "  top [--pid PID] [-i SEC]   live full-screen view of a running watch\n" },
	{ "status", cmd_status,
	  "  status [--json]            running watches, hooks, maps, counters\n" },
	{ "replay", cmd_replay,
	  "  replay [--json] [OPTIONS] FILE.pcap\n"
	  "                             the same BPF classifier over a capture\n" },
	{ "diff", cmd_diff,
	  "  diff [--json] OLD NEW      what changed between two snapshots\n" },
	{ "detach", cmd_detach,
	  "  detach [IFACE...]          remove what a killed run left attached\n" },
	{ "classes", cmd_classes,
	  "  classes                    the protocol classes and their definitions\n" },
	{ "check", cmd_check,
	  "  check                      the kernel features protomix needs: yes or no\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f,
"usage: protomix COMMAND [ARGS]\n"
"An in-kernel observer: counts, per destination address, the protocol\n"
"classes it receives (tcp, udp, icmp, esp, ah, esp_udp, ike, gre, ...).\n"
"\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fputs(commands[i].help, f);
	fprintf(f,
"  version                    print the version\n"
"\n"
"`protomix COMMAND --help` for a command's options.\n"
"Exit status: 0 success, 1 runtime failure, 2 bad usage.\n");
}

static int run(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		pm_err("no command given: watch, snapshot, top, status, replay, diff, detach, classes or check (see protomix --help)");
		return EXIT_USAGE;
	}
	if (cli_is_help(cmd) || !strcmp(cmd, "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("protomix %s\n", PROTOMIX_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	pm_err("unknown command '%s' (see protomix --help)", cmd);
	return EXIT_USAGE;
}

/* Whatever a command printed is only out once stdout is flushed and
 * closed: a full disk or a closed descriptor is a failure (exit 1), a
 * reader that went away (EPIPE) is not. */
static int finish_stdout(int rc)
{
	int err = stdout_close();

	if (err && err != EPIPE) {
		pm_err("writing standard output: %s", strerror(err));
		if (!rc)
			rc = EXIT_RUNTIME;
	}
	return rc;
}

int main(int argc, char **argv)
{
	/* a closed pipe is EPIPE on write, not a silent death */
	signal(SIGPIPE, SIG_IGN);
	stdout_keep_errors();
	return finish_stdout(run(argc, argv));
}
