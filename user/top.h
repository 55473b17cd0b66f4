/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The live view of a watch, full screen (ncurses), in the manner of top
 * and iftop: a header with the traffic, parser, eviction and ring-buffer
 * counters; one row per destination with its rates (from counter deltas
 * between two reads) and class shares, in a stable order; the evidence
 * lines of the latest alerts; keys to sort, filter, pause, export, scroll.
 *
 * Two drivers, neither of which blocks:
 * - `protomix watch` on a terminal: its event loop calls top_refresh()
 *   on each interval with the tables it has just read, top_keys() when
 *   stdin is readable and top_resize() on SIGWINCH (from its signalfd).
 * - `protomix top` (cmd_top) attaches to a running watch: the "maps"
 *   request hands it the fds of the watch's dests and stats maps
 *   (SCM_RIGHTS, see control.h), which it reads itself with batch
 *   lookups; "alerts SEQ" brings the alerts newer than the ones it has
 *   (top_client.c; the watch answers in answers.c).
 *
 * top_view.c holds the view's state (top_state.h), top_keys.c its keys,
 * top_draw.c draws it.
 *
 * While the view is up, stderr is held: a line written there shows in the
 * status line, and top_close() writes them all out after the terminal is
 * restored.
 */
#ifndef PM_TOP_H
#define PM_TOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "alerts.h"
#include "maps.h"
#include "snapshot.h"

struct top;

/* What does not change during a run. */
struct top_info {
	const char *title;		/* "protomix watch", "protomix top" */
	pid_t pid;			/* of the watch */
	char ifaces[512];		/* "gw-ws (tc_ingress,tc_egress) ..." */
	uint64_t started_ns;		/* the watch's start, CLOCK_MONOTONIC */
	double interval;		/* refresh period, seconds */
	/* 'e': the snapshot to export, or NULL with the error on stderr */
	json_object *(*snapshot)(void *ctx);
	void *ctx;
};

/* Both stdin and stdout are terminals, and we are in its foreground. */
bool top_possible(void);

/* Take over the terminal and draw. NULL, with the reason on stderr and
 * the terminal untouched, if it cannot (an unknown TERM, say). */
struct top *top_open(const struct top_info *info);
/* Give the terminal back as it was, then write out what stderr got
 * meanwhile. NULL is fine. */
void top_close(struct top *t);

/* A new read. v: the destinations (indexed with dest_table_index), the
 * stats and, if v->alerts is set, the alert log; prev: the table read
 * one interval earlier at prev_ns (indexed), or NULL if there is none. */
void top_refresh(struct top *t, const struct pm_view *v,
		 const struct dest_table *prev, uint64_t prev_ns);
/* stdin is readable: handle the keys. true when the user quits. */
bool top_keys(struct top *t);
/* SIGWINCH: take the terminal's new size and redraw. */
void top_resize(struct top *t);

/* An alert the view did not get from an alert log (`protomix top`: from
 * the watch's "alerts" answer): its number (alert_log_seq), destination
 * and evidence line. Older than the newest one shown: ignored. */
void top_push_alert(struct top *t, uint64_t seq, const uint8_t dst[16],
		    const char *line);
/* The alerts raised since the watch started, for the header. */
void top_alerts_total_set(struct top *t, uint64_t total);

#endif
