/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One read of a watch (or a replay): the destinations, the counters, the
 * rules and alerts, and how addresses are shown. The outputs take it:
 * the snapshot (snapshot.h), the report, the live view, the metrics, the
 * IPFIX export.
 */
#ifndef PM_VIEW_H
#define PM_VIEW_H

#include <stdbool.h>
#include <stdint.h>
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
	/* CLOCK_REALTIME - CLOCK_MONOTONIC for the snapshot's times; 0: the
	 * clocks are read once per snapshot (one offset for all its times). */
	uint64_t real_off_ns;
	bool ipfix;			/* --ipfix: the stats say ... */
	uint64_t ipfix_dropped;		/* ... the records dropped so far, */
	uint64_t ipfix_sent;		/* ... and sent */
	const struct history *history;	/* the mix over time, or NULL */
};

/* A destination as text: the address, or "prefix/len" with --aggregate. */
char *fmt_dest(const struct pm_view *v, const struct pm_dest_key *k,
	       char *buf, size_t len);

/* Evicted destinations: inserted, no longer in the map. */
uint64_t view_evicted(const struct pm_view *v);

/* The destinations of t busiest first (packets of all classes), ties by
 * key (memcmp order): the snapshot's order, and replay's. An array of
 * t->n indexes into t (free it), or NULL if memory runs out (not
 * reported). */
uint32_t *dest_busiest_first(const struct dest_table *t);

#endif
