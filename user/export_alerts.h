/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A snapshot's alerts and their evidence (export_alerts.c), for export.h,
 * which includes it: each alert's tcpdump-style line, the Markdown
 * report's alerts section (export_md.h), the evidence frames as pcap.
 * The evidence array is described in export.h.
 */
#ifndef PM_EXPORT_ALERTS_H
#define PM_EXPORT_ALERTS_H

#include <stddef.h>
#include <json-c/json.h>

/* The Markdown report's alerts: at most EXPORT_MD_GROUPS groups with their
 * evidence lines, EXPORT_MD_LINES distinct lines each. */
#define EXPORT_MD_LINES	10
#define EXPORT_MD_GROUPS 20	/* groups shown with their evidence lines */

/* pcap (nanosecond timestamps, LINKTYPE_ETHERNET) of the evidence frames,
 * in alert order: caplen = the frame's bytes, len = wire_len (at least
 * caplen), time = ts_ns. Entries without a frame (or with a malformed one)
 * are left out; none at all still makes a valid pcap (the header only).
 * Written by write_output (util.h): a file atomically (a temporary file
 * in path's folder, mode 0600, then renamed; nothing is left at path on
 * failure), "-" to stdout, a device or FIFO as a stream, a symlink or a
 * folder refused. 0, or -errno with a line on stderr naming path. */
int export_pcap(const char *path, json_object *snap_with_evidence);

/* tcpdump's line of an alert of "alerts" (evidence: its entry of
 * "evidence", or NULL), as the Markdown report writes it. Returns buf. */
char *export_alert_line(json_object *alert, json_object *evidence, char *buf,
			size_t len);

#endif
