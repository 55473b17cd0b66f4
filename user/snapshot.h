/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The snapshot JSON of DESIGN.md ("protomix.snapshot/1"), built with
 * json-c from what a watch reads out of the kernel. */
#ifndef PM_SNAPSHOT_H
#define PM_SNAPSHOT_H

#include <json-c/json.h>
#include "alerts.h"
#include "attach.h"
#include "maps.h"
#include "rules.h"

struct pm_view {
	uint64_t started_ns;		/* CLOCK_MONOTONIC */
	uint64_t taken_ns;		/* CLOCK_MONOTONIC */
	const struct pm_iface *ifaces;
	int nifaces;
	const struct dest_table *dests;	/* read at taken_ns */
	struct pm_stats hooks[PM_NHOOK];
	struct pm_stats total;
	uint64_t max_dests;
	const struct ruleset *rules;	/* declared expectations */
	uint32_t rules_gen;		/* the kernel's current generation */
	const struct alert_log *alerts;
	uint8_t agg4, agg6;		/* --aggregate; 32 and 128: per address */
};

/* A destination as text: the address, or "prefix/len" with --aggregate. */
char *fmt_dest(const struct pm_view *v, const struct pm_dest_key *k,
	       char *buf, size_t len);

/* Evicted destinations: inserted, no longer in the map. */
uint64_t view_evicted(const struct pm_view *v);

json_object *stats_json(const struct pm_view *v);
json_object *dest_json(const struct pm_view *v, const struct pm_dest_key *k,
		       const struct pm_dest *d);
json_object *snapshot_json(const struct pm_view *v);
/* The evidence of the kept alerts, aligned with snapshot_json's "alerts":
 * [{"ts_ns","wire_len","frame":"hex"}]. Travels with a snapshot from a
 * watch to `protomix snapshot --pcap`, never into a snapshot file. */
json_object *evidence_json(const struct alert_log *log);

/* Atomically, mode 0600. 0 or -errno (reported). */
int snapshot_write(const char *path, const struct pm_view *v);

/* Read and check a snapshot file (schema protomix.snapshot/1). NULL, with
 * the file and the problem named on stderr, if it is not one. */
json_object *snapshot_read(const char *path);

#endif
