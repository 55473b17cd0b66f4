/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `watch --metrics ADDR:PORT`: the counters of a watch in Prometheus's
 * text exposition format (0.0.4) on http://ADDR:PORT/metrics, served by
 * libmicrohttpd without a thread of its own: its epoll fd sits in the
 * watch's event loop and requests are answered from there, in the
 * watch's thread, so they read the watch's data without locks.
 *
 * A scrape reports the latest interval's read of the maps (the struct
 * pm_view the watch fills every --interval), never the maps themselves:
 * a scrape costs one pass over the table already in memory, whatever
 * the number of scrapers, and says what the text and JSON reports say.
 * Alert counts are current (they are counted as the ring buffer is
 * read).
 *
 * Per-destination series are bounded: at most --metrics-top destinations
 * are exported; once exported, a destination stays while it is in the
 * map, and a free place goes to the busiest destination not exported
 * (by packets). Everything else is summed, per class, in dst="other"
 * (the totals of every hook minus the exported destinations).
 *
 * A scrape never holds the watch: one read of the maps gives one
 * exposition, built at the first scrape of it and shared by every other
 * (one copy in memory, however many scrapers), and it is sent without
 * blocking as the client reads. What a client can hold is bounded (see
 * metrics.c): 32 connections, 8 from one address (more are closed at
 * once), 5 s without progress, 10 s for a request and its answer, a
 * backlog of 64; a full house recovers as soon as a place is free.
 */
#ifndef PM_METRICS_H
#define PM_METRICS_H

#include <stddef.h>
#include <sys/socket.h>
#include "snapshot.h"

#define METRICS_TOP_DEFAULT	100
#define METRICS_TOP_MAX		100000

/* Where to listen, from "ADDR:PORT". */
struct metrics_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];			/* "127.0.0.1:9100", "[::1]:9100" */
};

/* Parse "ADDR:PORT", "[IPV6]:PORT" or ":PORT" (127.0.0.1). ADDR is
 * numeric (or localhost); PORT 1-65535. 0, or EXIT_USAGE with the
 * error reported. */
int metrics_parse_addr(const char *s, struct metrics_addr *a);

struct metrics;

/* Bind and listen (before anything is attached: a port in use fails
 * here), and serve v, which the watch keeps up to date. NULL with the
 * error reported. */
struct metrics *metrics_open(const struct metrics_addr *a, size_t top,
			     const struct pm_view *v);
/* Readable when metrics_serve has work: add it to the event loop. */
int metrics_fd(const struct metrics *m);
/* Accept, read, answer, time out: whatever is due, without blocking. */
void metrics_serve(struct metrics *m);
/* Stop serving; NULL is fine. */
void metrics_close(struct metrics *m);

#endif
