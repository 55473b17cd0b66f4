// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix detach [IFACE...]`: what a killed run left attached, removed
 * (attach.c's detach_one), on the interfaces no live watch holds. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include "attach.h"
#include "cli.h"
#include "commands.h"
#include "rundir.h"
#include "util.h"

static void detach_usage(FILE *f)
{
	fprintf(f,
"usage: protomix detach [IFACE...]\n"
"Remove protomix hooks that a killed run left on IFACE (default: every\n"
"interface in this network namespace). Interfaces a running watch holds\n"
"are left alone.\n");
}

int cmd_detach(int argc, char **argv)
{
	struct if_nameindex *all, *i;
	struct pm_iface ifc;
	int rc = 0, r;

	pm_libbpf_quiet();
	if (argc > 1) {
		for (int a = 1; a < argc; a++) {
			if (cli_is_help(argv[a])) {
				detach_usage(stdout);
				return EXIT_OK;
			}
		}
		for (int a = 1; a < argc; a++) {
			if (argv[a][0] == '-') {
				pm_err("detach: unknown option '%s' (usage: protomix detach [IFACE...])",
				       argv[a]);
				return EXIT_USAGE;
			}
			if (iface_init(&ifc, argv[a]))
				return EXIT_USAGE;
		}
		for (int a = 1; a < argc; a++) {
			iface_init(&ifc, argv[a]);
			r = detach_one(ifc.name, ifc.ifindex);
			rc = rc ? rc : r;
		}
		return rc;
	}
	all = if_nameindex();
	if (!all) {
		pm_err("cannot list interfaces: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	for (i = all; i->if_index; i++) {
		char lock_name[48];
		int holder;

		r = iface_lock(i->if_index, &holder, lock_name, sizeof(lock_name));
		if (r == -EADDRINUSE)
			continue;	/* a live watch: not ours to touch */
		if (r < 0) {	/* no run folder: reported once */
			rc = EXIT_RUNTIME;
			break;
		}
		rundir_unlock(lock_name, r);
		r = detach_one(i->if_name, i->if_index);
		rc = rc ? rc : r;
	}
	if_freenameindex(all);
	return rc;
}
