/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The mix over time: per interval of a watch, the per-class packet and
 * byte deltas of the destinations that matter, for the last W intervals.
 *
 * Which destinations: every destination with an alert (a sampled alert
 * of any kind, or violations counted in its entry), up to N of them, and
 * the N busiest of each interval by packets. A tracked destination keeps
 * its slot while it stays among the busiest or has an alert; a slot of a
 * busy one that dropped out is reused by the next newcomer (the one that
 * left the top N longest ago first), and its series starts again.
 *
 * Memory, fixed at history_open and never grown:
 *     2N slots x W cells of 208 bytes (with 17 classes: a 32-bit packet
 *     count, saturating, and a 64-bit byte count per class, padded to 8)
 *   + W x 16 bytes of interval times
 *   + N x 16 bytes of selection scratch, 2N slot headers, and the
 *     HISTORY_PENDING_MAX alerts noted between two intervals (about 16 KB)
 * 32 x 900 (the defaults): 2 x 32 x 900 x 208 = 11,980,800 bytes of
 * cells, 12 MB (11.4 MiB) in all; history_mem_bytes() says it for any N
 * and W, and `protomix status --json` shows it ("history_bytes").
 *
 * Cost per interval: one pass over the destinations read (a lookup of
 * each in the previous read, as the report does), a bounded heap of N.
 */
#ifndef PM_HISTORY_H
#define PM_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "alerts.h"
#include "maps.h"

#define HISTORY_DESTS_DEFAULT		32
#define HISTORY_INTERVALS_DEFAULT	900
#define HISTORY_DESTS_MAX		4096
#define HISTORY_INTERVALS_MAX		86400
/* alerts noted between two intervals, at most (more: dropped; their
 * destinations still enter by their violations count) */
#define HISTORY_PENDING_MAX		256

struct history;
struct pm_view;

/* The options of watch: --history-dests N, --history-intervals W. */
struct history_opts {
	uint32_t dests;		/* N; 0 turns the history off */
	uint32_t intervals;	/* W; 0 turns the history off */
};

#define HISTORY_OPT_DESTS	0x4801
#define HISTORY_OPT_INTERVALS	0x4802
#define HISTORY_LONG_OPTIONS						\
	{ "history-dests", required_argument, NULL, HISTORY_OPT_DESTS },	\
	{ "history-intervals", required_argument, NULL, HISTORY_OPT_INTERVALS }
#define HISTORY_USAGE							\
"      --history-dests N  the busiest N destinations of each interval and\n" \
"                         up to N with alerts keep their mix over time for\n" \
"                         the snapshot's \"history\" (default 32; 0: off)\n" \
"      --history-intervals W  intervals kept (default 900; 0: off)\n"

void history_opts_init(struct history_opts *o);
/* One getopt result: 0 taken, 1 not a history option, EXIT_USAGE on a
 * bad value (reported). */
int history_opt(struct history_opts *o, int c, const char *arg);

/* The memory a history of those options holds (see above); 0 if off. */
uint64_t history_mem_bytes(const struct history_opts *o);

/* A history of a watch reading every interval_s seconds, all its memory
 * allocated now; NULL if off (o->dests or
 * o->intervals 0) or out of memory (*err = -ENOMEM, else 0). agg4/agg6:
 * --aggregate's lengths (0, 32 or 128: per address), to file an alert's
 * address under its destination's key. */
struct history *history_open(const struct history_opts *o, double interval_s,
			     uint8_t agg4, uint8_t agg6, int *err);
void history_close(struct history *h);

/* An alert raised (any kind): its destination is tracked from the next
 * history_record on, and the alert's time kept as the first of its kind
 * for that destination. No allocation; NULL h: nothing. */
void history_alert(struct history *h, const struct alert *a);

/* One interval, from start_ns to v->taken_ns (CLOCK_MONOTONIC): v->dests
 * read at its end and indexed, prev the read at its start (indexed, or
 * empty). No allocation. NULL h: nothing. */
void history_record(struct history *h, const struct pm_view *v,
		    const struct dest_table *prev, uint64_t start_ns);

/* The snapshot's "history" member (docs/snapshot.md, "history"), with v's
 * clocks and address format:
 *   {"interval_s": configured seconds, "capacity": W,
 *    "start": time of the first kept interval's start,
 *    "starts_ms": [each kept interval's start, ms after "start"],
 *    "lens_ms": [each kept interval's length in ms],
 *    "dests": [{"addr", "alerted": bool, "from": first interval index
 *               with data, "first_alerts": {kind: time},
 *               "packets": {class: [count per interval from "from"]},
 *               "bytes": {class: [...]}}]}
 * Classes with no packet in the window are left out. NULL on no memory. */
json_object *history_json(const struct history *h, const struct pm_view *v);

#endif
