// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* protomix: parse the command line and dispatch. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "attach.h"
#include "classes.h"
#include "client.h"
#include "diff.h"
#include "probe.h"
#include "replay.h"
#include "top.h"
#include "util.h"
#include "watch.h"

#define PROTOMIX_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
"usage: protomix COMMAND [ARGS]\n"
"An in-kernel observer: counts, per destination address, the protocol\n"
"classes it receives (tcp, udp, icmp, esp, ah, esp_udp, ike, gre, ...).\n"
"\n"
"  watch [OPTIONS] IFACE...   attach, observe, report; detach on exit\n"
"  snapshot [-f json|md|csv] [-o FILE] [--pcap FILE]\n"
"                             read a running watch: counts, alerts, evidence\n"
"  top [--pid PID] [-i SEC]   live full-screen view of a running watch\n"
"  status [--json]            running watches, hooks, maps, counters\n"
"  replay [--json] [OPTIONS] FILE.pcap\n"
"                             the same BPF classifier over a capture\n"
"  diff [--json] OLD NEW      what changed between two snapshots\n"
"  detach [IFACE...]          remove what a killed run left attached\n"
"  classes                    the protocol classes and their definitions\n"
"  check                      the kernel features protomix needs: yes or no\n"
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
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("protomix %s\n", PROTOMIX_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "watch"))
		return cmd_watch(argc - 1, argv + 1);
	if (!strcmp(cmd, "detach")) {
		if (argc > 2 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
			printf("usage: protomix detach [IFACE...]\n"
			       "Remove protomix hooks that a killed run left on IFACE (default: every\n"
			       "interface in this network namespace). Interfaces a running watch holds\n"
			       "are left alone.\n");
			return 0;
		}
		return cmd_detach(argc - 1, argv + 1);
	}
	if (!strcmp(cmd, "snapshot"))
		return cmd_snapshot(argc - 1, argv + 1);
	if (!strcmp(cmd, "status"))
		return cmd_status(argc - 1, argv + 1);
	if (!strcmp(cmd, "top"))
		return cmd_top(argc - 1, argv + 1);
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(cmd, "diff"))
		return cmd_diff(argc - 1, argv + 1);
	if (!strcmp(cmd, "classes"))
		return cmd_classes(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
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
