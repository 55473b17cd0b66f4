// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix snapshot`: a running watch's snapshot (control.h has how it
 * is reached), or one written before, as JSON, Markdown, CSV, an HTML
 * page or one destination's SVG chart, with its evidence as a pcap. */
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
#include "formats.h"
#include "html.h"
#include "snapshot.h"
#include "util.h"

static void snapshot_usage(FILE *f)
{
	fprintf(f,
"usage: protomix snapshot [-f json|md|csv|html|svg] [-o FILE] [--pcap FILE]\n"
"                         [--pid PID | --input SNAPSHOT.json] [--dest ADDR]\n"
"Read the maps and recent alerts of the watch running in this network\n"
"namespace, without stopping it.\n"
"\n"
"  -f, --format FMT   json (docs/snapshot.md, the default), md (a report\n"
"                     for a ticket), csv (one row per destination and class),\n"
"                     html (one self-contained page: alerts, evidence and a\n"
"                     chart of the mix over time per alerted destination) or\n"
"                     svg (the chart of --dest alone)\n"
"      --dest ADDR    with -f svg: the destination (as in the snapshot's history)\n"
"      --input FILE   a snapshot written before (watch -o, snapshot -o) instead\n"
"                     of a running watch\n"
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
		{ "dest", required_argument, NULL, 'D' },
		{ "input", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *out = NULL, *pcap = NULL, *input = NULL, *dest = NULL;
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
				pm_err("invalid --format '%s': json, md, csv, html or svg", optarg);
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
		case 'D':
			dest = optarg;
			break;
		case 'I':
			input = optarg;
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
	if ((fmt == EXPORT_SVG) != (dest != NULL)) {
		pm_err(dest ? "--dest goes with -f svg" : "-f svg needs --dest ADDR");
		return EXIT_USAGE;
	}
	if (input && (want || pcap)) {
		pm_err("--input reads a snapshot file: no %s with it", want ? "--pid" : "--pcap");
		return EXIT_USAGE;
	}
	/* a symlink, a folder, ... refused before the watch is asked */
	if ((out && (rc = output_check(out))) || (pcap && (rc = output_check(pcap))))
		return rc;
	if (input) {
		reply = snapshot_read(input);	/* checked; the problem reported */
		if (!reply)
			return EXIT_USAGE;
	} else {
		rc = ctl_pick(want, &pid);
		if (rc)
			return rc;
		if (fmt == EXPORT_JSON && !pcap)
			return snapshot_passed_on(pid, out);
		reply = ctl_request(pid, "snapshot");
		if (!reply)
			return EXIT_RUNTIME;
	}
	if (dest && !html_history_dest(reply, dest)) {
		pm_err("--dest '%s': no history of that destination in the snapshot", dest);
		json_object_put(reply);
		return EXIT_USAGE;
	}
	/* The evidence goes to the pcap (and the html page's alert lines),
	 * not into the snapshot. */
	if (json_object_object_get_ex(reply, "evidence", &evidence))
		json_object_get(evidence);
	if (fmt != EXPORT_HTML)
		json_object_object_del(reply, "evidence");

	/* no -o, "-" or /dev/stdout: standard output */
	rc = output_status(export_write(out, fmt, reply, dest));
	if (!rc && pcap) {
		json_object_object_del(reply, "evidence");	/* html kept it */
		json_object_object_add(reply, "evidence", evidence);
		evidence = NULL;
		rc = output_status(export_pcap(pcap, reply));
	}
	json_object_put(evidence);
	json_object_put(reply);
	return rc;
}
