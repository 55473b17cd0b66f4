/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private to `protomix watch`: its state, struct watch, which watch.c
 * sets up and runs (the event loop's sources among it), and what
 * watch.c and watch_requests.c, the answers to `snapshot` and `status`
 * requests, call in each other.
 */
#ifndef PM_WATCH_STATE_H
#define PM_WATCH_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>
#include "alerts.h"
#include "attach.h"
#include "baseline.h"
#include "control.h"
#include "history.h"
#include "ipfix.h"
#include "maps.h"
#include "metrics.h"
#include "observer.h"
#include "top.h"
#include "watch_opts.h"

/* Snapshots written by child processes at once; more are told "busy". */
#define WATCH_MAX_CHILDREN	4

struct watch;
#define MAX_LOOP_SRCS 16
typedef void (*loop_fn)(struct watch *w, int fd);
struct loop_src {
	int fd;
	loop_fn fn;
};

struct watch {
	struct watch_opts o;
	struct observer ob;
	struct pm_iface ifaces[MAX_IFACES];
	int nifaces;
	struct dest_table tab[2];	/* current and previous read */
	int cur;
	struct pm_view view;
	uint64_t last_read_ns;
	struct baseline base;
	struct oneway oneway;
	bool reader_gone;		/* stdout's reader left: stop */
	struct top *top;		/* the full-screen view, or NULL: lines */
	struct ctl_server *ctl;		/* protomix snapshot/status/top */
	pid_t answering[WATCH_MAX_CHILDREN];	/* children writing snapshots */
	int nanswering;
	int ep;				/* the event loop */
	struct metrics *metrics;	/* --metrics, or NULL */
	struct ipfix *ipfix;		/* --ipfix, or NULL */
	struct history *hist;		/* the mix over time, or NULL: off */
	int nl_fd;			/* link changes */
	struct loop_src src[MAX_LOOP_SRCS];
	int nsrc;
	bool stop;			/* a handler ended the watch ... */
	int rc;				/* ... with this exit status */
	char pin_dir[128];		/* where the maps are pinned, or "" */
};

/* watch.c: read the maps into w->tab[w->cur] and w->view (the IPFIX
 * counters too); 0 or -errno (reported). */
int watch_read(struct watch *w);

/* watch_requests.c: the answers on_request gives. */

/* The answer to "status": pid, start, interfaces and hooks, maps, pins,
 * counters (and IPFIX, history when on). */
json_object *watch_status_json(struct watch *w);
/* Children that wrote their snapshot: reaped. */
void watch_reap_answering(struct watch *w);
/* "snapshot" (pretty: "snapshot pretty") written by a child process to
 * the client: NULL (req taken), or an error object. */
json_object *watch_answer_in_child(struct watch *w, struct ctl_req *req,
				   bool pretty);

#endif
