/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Alerts: what the kernel sampled into the ring buffer (unexpected_protocol,
 * protocol_shift), and one_way_ipsec found by scanning the IPsec pairs.
 * Printed as tcpdump-like lines or JSON, and kept (the latest ones) for
 * snapshots, with the evidence frame.
 */
#ifndef PM_ALERTS_H
#define PM_ALERTS_H

#include <stdbool.h>
#include <stdio.h>
#include <net/if.h>
#include <json-c/json.h>
#include "evidence.h"
#include "protomix.h"

struct alert {
	uint64_t real_ns;		/* wall clock */
	uint8_t kind, class, hook;
	uint8_t tunnel;			/* pm_event.tunnel: the tunnel class it
					 * came inside, or PM_TUN_NONE (a
					 * zeroed alert's 0, tcp, is no tunnel:
					 * read it with tunnel_class()) */
	char iface[IF_NAMESIZE];
	uint32_t ifindex;		/* of iface, where it was seen */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t spi, seq, len;
	uint32_t expected;		/* class mask; 0: none stated */
	uint32_t wire_len;
	uint16_t cap_len;
	uint8_t frame[PM_SNAP_LEN];
};

struct alert_log {
	struct alert *ring;		/* the latest `cap` alerts */
	size_t cap, n, next;
	uint64_t total[PM_NKIND];	/* every alert raised, by kind */
};

const char *kind_name(unsigned int k);

int alert_log_init(struct alert_log *log, size_t cap);
void alert_log_free(struct alert_log *log);
void alert_log_add(struct alert_log *log, const struct alert *a);
/* i-th oldest kept alert, i < log->n */
const struct alert *alert_log_get(const struct alert_log *log, size_t i);

/* From a ring-buffer record; ifname resolves the interface. */
void alert_from_event(struct alert *a, const struct pm_event *ev);

/* tcpdump's line for the packet: "IP 10.10.1.10 > 10.20.0.80:
 * ESP(spi=0xd7ca145d,seq=0x3de0a5), length 100". */
char *alert_evidence(const struct alert *a, char *buf, size_t len);
void alert_print(FILE *out, bool json, const struct alert *a);
/* The alert object of docs/alerts.md ("via": the tunnel's class, only
 * when it came inside one). */
json_object *alert_json(const struct alert *a);
/* The line `watch` prints for an alert, without its newline, in buf
 * (cut to len; "" if memory runs out). */
void alert_line(const struct alert *a, char *buf, size_t len);
/* The alerts of a log have sequence numbers: 1 for the first alert ever
 * raised. The number of the i-th kept alert (i < log->n). */
uint64_t alert_log_seq(const struct alert_log *log, size_t i);

/* one_way_ipsec: ESP (or esp_udp, or wireguard) from A to B within the
 * last window, for at least a window, and no ESP, esp_udp, wireguard or
 * IKE from B to A within it. Raised once per pair until traffic comes back. */
struct oneway {
	struct pm_pair_key *raised;	/* sorted */
	size_t n;
};

typedef void (*alert_fn)(const struct alert *a, void *ctx);
/* Scan the pairs map as of `now` (CLOCK_MONOTONIC ns); call fn for each
 * pair that became one-way. */
int oneway_scan(int pairs_fd, uint64_t now, uint64_t window_ns,
		struct oneway *ow, alert_fn fn, void *ctx);
void oneway_free(struct oneway *ow);

#endif
