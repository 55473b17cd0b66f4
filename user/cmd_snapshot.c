// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix snapshot`: a running watch's snapshot (control.h has how it
 * is reached) as JSON, Markdown or CSV, with its evidence as a pcap. */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classes.h"
#include "cli.h"
#include "commands.h"
#include "control.h"
#include "export.h"
#include "util.h"

static void snapshot_usage(FILE *f)
{
	fprintf(f,
"usage: protomix snapshot [-f json|md|csv] [-o FILE] [--pcap FILE] [--pid PID]\n"
"Read the maps and recent alerts of the watch running in this network\n"
"namespace, without stopping it.\n"
"\n"
"  -f, --format FMT   json (the snapshot of DESIGN.md, default), md (a report\n"
"                     for a ticket) or csv (one row per destination and class)\n"
"  -o, --output FILE  write to FILE (atomically, mode 0600) instead of stdout;\n"
"                     - is stdout; a device or FIFO is written as a stream;\n"
"                     a symbolic link or a folder is refused\n"
"      --pcap FILE    also write the alerts' evidence frames as a pcap (the same)\n"
"      --pid PID      the watch to read when several run\n");
}

static int copy_answer(FILE *f, void *ctx)
{
	return ctl_stream_copy(ctx, f);
}

/* The JSON snapshot as the watch writes it for us (indented, without the
 * evidence): passed on as it comes, so a table of a million destinations
 * costs the client neither a document tree nor the document's size. */
static int snapshot_passed_on(pid_t pid, const char *out)
{
	struct ctl_stream st;
	int rc;

	if (ctl_stream_open(pid, "snapshot pretty", &st))
		return EXIT_RUNTIME;
	rc = output_status(write_output(out ? out : "-", copy_answer, &st));
	ctl_stream_close(&st);
	return rc;
}

int cmd_snapshot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *out = NULL, *pcap = NULL;
	int fmt = EXPORT_JSON;
	json_object *reply, *evidence = NULL;
	pid_t want = 0, pid;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt = export_fmt_from_name(optarg);
			if (fmt < 0) {
				pm_err("invalid --format '%s': json, md or csv", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pcap = optarg;
			break;
		case 'P':
			if (cli_parse_pid(optarg, &want))
				return EXIT_USAGE;
			break;
		case 'h':
			snapshot_usage(stdout);
			return 0;
		default:	/* ':' or '?' */
			return cli_opt_error("snapshot", c, argv);
		}
	}
	if (optind < argc) {
		pm_err("snapshot: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	/* a symlink, a folder, ... refused before the watch is asked */
	if ((out && (rc = output_check(out))) || (pcap && (rc = output_check(pcap))))
		return rc;
	rc = ctl_pick(want, &pid);
	if (rc)
		return rc;
	if (fmt == EXPORT_JSON && !pcap)
		return snapshot_passed_on(pid, out);
	reply = ctl_request(pid, "snapshot");
	if (!reply)
		return EXIT_RUNTIME;
	/* The evidence goes to the pcap, not into the snapshot. */
	if (json_object_object_get_ex(reply, "evidence", &evidence))
		json_object_get(evidence);
	json_object_object_del(reply, "evidence");

	/* no -o, "-" or /dev/stdout: standard output */
	rc = output_status(export_write(out, fmt, reply));
	if (!rc && pcap) {
		json_object_object_add(reply, "evidence", evidence);
		evidence = NULL;
		rc = output_status(export_pcap(pcap, reply));
	}
	json_object_put(evidence);
	json_object_put(reply);
	return rc;
}
