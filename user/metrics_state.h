/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the metrics endpoint (metrics.h): its limits and struct metrics,
 * shared by metrics.c (the exported destinations and the exposition) and
 * metrics_http.c (the HTTP server). Nothing else includes it.
 */
#ifndef PM_METRICS_STATE_H
#define PM_METRICS_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <microhttpd.h>
#include "view.h"

#define METRICS_PATH		"/metrics"
/* What one client can hold. Every limit is the server's, not the
 * client's good will: a connection is accepted only under both counts
 * (over the per-address one it is closed at once), idles at most
 * CONN_TIMEOUT seconds, and has REQUEST_DEADLINE seconds for a request
 * and its whole response (Prometheus's default scrape_timeout: a scrape
 * slower than that has failed anyway), so neither a slowloris nor a
 * reader that never reads keeps a place. */
#define METRICS_CONN_LIMIT	32	/* concurrent HTTP connections */
#define METRICS_PER_IP_LIMIT	8	/* of them from one client address */
#define METRICS_CONN_TIMEOUT	5	/* seconds without progress */
#define METRICS_REQUEST_DEADLINE 10	/* seconds for a request and its answer */
#define METRICS_BACKLOG		64	/* listen(2): waiting for a place */
#define METRICS_CONN_MEMORY	(16 * 1024)	/* a connection's buffers */
#define CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"
/* An exported destination: its key, and where it is in this scrape's
 * table (NO_ROW: no longer in the map). */
struct entry {
	struct pm_dest_key k;
	uint32_t row;
	uint64_t pkts;
};

/* A destination not exported yet, competing for a free place. */
struct cand {
	uint32_t row;
	uint64_t pkts;
};

/* A connection MHD has, from its start to its close (on_connection): the
 * socket (MHD's), and when its current request began. */
struct conn {
	struct conn *prev, *next;
	int fd;
	uint64_t since_ns;	/* accepted, or the last request answered */
	bool cut;		/* over the deadline: shut down */
};

struct metrics {
	struct MHD_Daemon *d;
	int ep;			/* MHD's epoll fd and tfd: metrics_fd() */
	int tfd;		/* the next thing due without a socket event */
	bool closed;		/* a connection closed in this MHD_run */
	struct conn *conns;	/* every open connection */
	/* The exposition of one read of the maps, shared by every scrape
	 * of it (MHD counts the references): built at most once per read
	 * whatever the number of scrapers, and one copy in memory. */
	struct MHD_Response *resp;
	uint64_t resp_taken_ns;
	const struct dest_table *resp_dests;
	uint64_t resp_alerts[PM_NKIND];
	const struct pm_view *v;
	size_t top;
	struct entry *set;	/* the exported destinations, at most top */
	size_t nset;
	uint32_t *slots;	/* key -> set index + 1, open addressing */
	size_t mask;
	struct cand *heap;	/* the busiest others: a min-heap of top */
	size_t nheap;
};

/* metrics.c: the exposition of m's view, in Prometheus text format. */
void write_exposition(FILE *f, struct metrics *m);

#endif
