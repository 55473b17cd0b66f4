/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * IPFIX export (RFC 7011) of `watch --ipfix HOST:PORT[/udp|/tcp]`: every
 * interval one mix record per destination and class whose counters moved,
 * and one alert record per alert, to at most IPFIX_MAX_COLLECTORS
 * collectors. libfixbuf encodes (templates, records, sequence numbers per
 * observation domain) into a message buffer; the transport is ours and
 * never blocks the watch: UDP datagrams sent or dropped, TCP through a
 * non-blocking connect and a bounded queue, reconnected with backoff.
 * Whatever cannot be sent is counted (ipfix_dropped_records), never waited
 * for.
 *
 * Enterprise-specific elements under PROTOMIX_PEN; their description for
 * collectors is packaging/protomix-ipfix.xml (ipfixDump --element-file).
 */
#ifndef PM_IPFIX_H
#define PM_IPFIX_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>
#include "alerts.h"
#include "ipfix_target.h"
#include "maps.h"
#include "snapshot.h"

/* PLACEHOLDER Private Enterprise Number: 32473 is the documentation PEN of
 * RFC 5612, not protomix's own; replace it once one is registered (and in
 * packaging/protomix-ipfix.xml). */
#define PROTOMIX_PEN		32473

/* Templates go again on UDP every --ipfix-template-interval seconds
 * (RFC 7011 8.4; its default and range), and at every TCP (re)connect. */
#define IPFIX_TEMPLATE_SECS	60
#define IPFIX_TEMPLATE_SECS_MIN	1
#define IPFIX_TEMPLATE_SECS_MAX	86400
/* UDP messages at most this long (libfixbuf's message size): inside a
 * 1500-byte MTU with IP and UDP headers. */
#define IPFIX_UDP_MSG		1420
#define IPFIX_TCP_MSG		32768
/* At exit, the longest ipfix_finish waits for TCP queues to go out. */
#define IPFIX_FINISH_MS		1000

struct ipfix;

struct ipfix_cfg {
	const struct ipfix_target *targets;
	int ntargets;
	uint32_t domain;		/* observation domain id */
	uint32_t template_secs;		/* UDP template refresh; 0: default */
	uint8_t agg4, agg6;		/* --aggregate; 32 and 128: per address */
};

/* NULL, with the reason on stderr. Sockets are opened (TCP connects
 * start) here; nothing waits. */
struct ipfix *ipfix_open(const struct ipfix_cfg *cfg);
/* Send what can go without waiting (bounded), then close everything. */
void ipfix_close(struct ipfix *x);
/* An fd that is readable when the exporter has work (socket readiness,
 * reconnect timer): give it to the event loop, call ipfix_run then. */
int ipfix_fd(const struct ipfix *x);
void ipfix_run(struct ipfix *x);

/* The interval from start_ns to v->taken_ns (CLOCK_MONOTONIC): one record
 * per destination of v->dests and class whose counters moved since prev
 * (the previous read, indexed; NULL or empty: since first seen). */
void ipfix_export_mix(struct ipfix *x, const struct pm_view *v,
		      const struct dest_table *prev, uint64_t start_ns);
void ipfix_export_alert(struct ipfix *x, const struct alert *a);

/* At exit, before the last counts are taken: what is queued for TCP
 * collectors gets IPFIX_FINISH_MS to go out (non-blocking writes, as the
 * sockets take them; a pending connect may finish), then what is left is
 * dropped (counted). After it nothing is queued: made = sent + dropped. */
void ipfix_finish(struct ipfix *x);

/* Records handed to a collector's socket, summed over collectors. */
uint64_t ipfix_sent(const struct ipfix *x);
/* Records not delivered to a collector, summed over collectors. */
uint64_t ipfix_dropped(const struct ipfix *x);
/* Per collector: target, transport state, records sent, dropped and
 * queued (TCP: made = sent + dropped + queued), times the templates went
 * out. */
json_object *ipfix_status_json(const struct ipfix *x);

#endif
