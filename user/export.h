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
#include "export_alerts.h"
#include "snapjson.h"

/* Markdown: host, kernel, time window, interfaces and hooks; the alerts
 * grouped by flow (kind, interface, direction, source, destination, class,
 * SPI, tunnel) in a table, then each group's tcpdump-style evidence lines in a code
 * block, identical lines folded into one with a count and at most
 * EXPORT_MD_LINES (export_alerts.h) distinct lines per group; the
 * EXPORT_MD_TOP busiest destinations with packets, bytes and class mix
 * (an address seen inside tunnels marked "10.20.0.80 (via vxlan)");
 * the destinations with expectations and what broke them; the counters. 0, or -EIO if writing
 * failed (not reported: the caller knows the file). */
#define EXPORT_MD_TOP	20
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




#endif
