/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A snapshot (docs/snapshot.md, "protomix.snapshot/3") as something to hand on:
 * a Markdown report for a ticket, a CSV of the per-destination counts, and
 * a pcap of the evidence frames.
 *
 * The snapshot is any json_object: a key that is missing or of the wrong
 * type reads as empty (no alerts, zero counts), never as a crash.
 *
 * Evidence (the reply of a running watch to `protomix snapshot`): a
 * top-level array "evidence" aligned with "alerts", evidence[i] belonging
 * to alerts[i]:
 *     {"ts_ns": <wall-clock ns>, "wire_len": <frame length>,
 *      "frame": "<hex of the first up to 128 bytes of the Ethernet frame>"}
 * "frame" is "" for an alert without a frame (one_way_ipsec).
 */
#ifndef PM_EXPORT_H
#define PM_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>
#include "snapjson.h"

/* Markdown: host, kernel, time window, interfaces and hooks; the alerts
 * grouped by flow (kind, interface, direction, source, destination, class,
 * SPI, tunnel) in a table, then each group's tcpdump-style evidence lines in a code
 * block, identical lines folded into one with a count and at most
 * EXPORT_MD_LINES distinct lines per group; the EXPORT_MD_TOP busiest
 * destinations with packets, bytes and class mix (an address seen inside
 * tunnels marked "10.20.0.80 (via vxlan)"); the destinations with
 * expectations and what broke them; the counters. 0, or -EIO if writing
 * failed (not reported: the caller knows the file). */
#define EXPORT_MD_TOP	20
#define EXPORT_MD_LINES	10
#define EXPORT_MD_GROUPS 20	/* groups shown with their evidence lines */
int export_md(FILE *f, json_object *snap);

/* CSV, one row per destination and class with packets > 0:
 *     addr,class,packets,bytes,first_seen,last_seen,expected,violations,via
 * addr as in the snapshot; class a class name; first_seen/last_seen,
 * violations and via are the destination's (repeated on each of its rows);
 * expected is its expected classes joined with ';' ("tcp;icmp"), empty if
 * none; via the tunnels it was seen inside, joined the same way ("vxlan"),
 * empty if none. Rows: destinations busiest first (packets of all classes, ties by
 * address), within one destination classes in the order of
 * `protomix classes`. Lines end in "\n"; a field holding a comma, a double
 * quote, CR or LF is quoted as RFC 4180 says ("" for a quote). 0 or -EIO. */
int export_csv(FILE *f, json_object *snap);

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
/* "2026-11-27T11:51:03.852511Z" -> ns since the epoch; false if not. */
bool snap_parse_time(const char *s, int64_t *ns);

#endif
