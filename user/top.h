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
 *   lookups; "alerts SEQ" brings the alerts newer than the ones it has.
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

/* The alerts of a log have sequence numbers: 1 for the first alert ever
 * raised. The number of the i-th kept alert (i < log->n). */
uint64_t alert_log_seq(const struct alert_log *log, size_t i);
/* The watch's answer to "alerts SINCE": {"type":"alerts","next":SEQ,
 * "total":{kind:n},"alerts":[alert objects with "seq" and "line", the
 * text evidence line]} for the kept alerts numbered above SINCE. NULL if
 * SINCE is not a number. */
json_object *top_alerts_json(const struct alert_log *log, const char *since);

/* The watch's answer to "maps": status (a status answer, taken over)
 * with "type":"maps" and "aggregate":[V4LEN,V6LEN], and read-only fds of
 * the dests and stats maps (where the kernel allows; else copies) added
 * to *fds. NULL if they cannot be had. */
struct observer;
struct ctl_fds;
json_object *top_maps_json(json_object *status, const struct observer *ob,
			   struct ctl_fds *fds);

/* `protomix top [--pid PID] [-i SEC]` */
int cmd_top(int argc, char **argv);

#endif
