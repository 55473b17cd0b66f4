/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Names of the protocol classes, parse-failure reasons and hooks: the
 * words used on the command line, in JSON keys and in table columns. */
#ifndef PM_CLASSES_H
#define PM_CLASSES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "protomix.h"

const char *class_name(unsigned int c);
/* Its definition, as `protomix classes` prints it. */
const char *class_desc(unsigned int c);
/* Returns the class for a name, or -1. */
int class_from_name(const char *name);
/* A bit per IPsec class: esp, ah, esp_udp, ike (docs/classes.md, "Class
 * masks"). */
uint32_t class_ipsec_mask(void);
/* The tunnel classes: esp, ah, esp_udp, gre, ipip, ipv6_encap, wireguard,
 * vxlan, geneve, gtp_u (docs/classes.md, "Class masks"). */
uint32_t class_tunnel_mask(void);
/* The encrypted classes (esp, ah, esp_udp, wireguard): a TCP destination
 * that turns to one raises protocol_shift (bpf/protomix.bpf.c's
 * IPSEC_SHIFT_MASK is the same set). */
uint32_t class_encrypted_mask(void);

const char *reason_name(unsigned int r);
/* Its definition, as `protomix classes` prints it. */
const char *reason_desc(unsigned int r);
/* Whether a reason is one of a packet inside a tunnel only (tun_trunc,
 * tun_bad_hdr, tun_other): counted in pm_stats.inner_reason, never in
 * pm_stats.reason, so left out of the frames' own lists (stats
 * "malformed", metrics, the stats lines). */
static inline bool reason_is_inner_only(unsigned int r)
{
	return r >= PM_R_TUN_TRUNC && r < PM_NREASON;
}

/* Whether a reason says the frame was cut short or invalid (malformed),
 * rather than well formed with no IP packet to count (non_ip, macsec,
 * mpls_other, pppoe_other, and inside a tunnel tun_other). Inline:
 * maps.c's stats_malformed uses it in test programs that do not link
 * this file. */
static inline bool reason_is_malformed(unsigned int r)
{
	switch (r) {
	case PM_R_NON_IP:
	case PM_R_MPLS_OTHER:
	case PM_R_PPPOE_OTHER:
	case PM_R_MACSEC:
	case PM_R_TUN_OTHER:
		return false;
	default:
		return r < PM_NREASON;
	}
}

/* Whether class c is a tunnel whose inner packet --decap counts too
 * (PM_TUNNEL_CLASSES: gre, ipip, ipv6_encap, vxlan, geneve, gtp_u). */
static inline bool class_is_decap(unsigned int c)
{
	return c < PM_NCLASS && (PM_TUNNEL_CLASSES & 1u << c);
}

/* The tunnel classes a destination's flags (PM_D_VIA bits) say its
 * packets came inside, as a class mask. */
static inline uint32_t dest_via_mask(uint32_t flags)
{
	uint32_t mask = 0;

	for (unsigned int c = PM_C_GRE; c < PM_NCLASS; c++)
		if (class_is_decap(c) && (flags & PM_D_VIA(c)))
			mask |= 1u << c;
	return mask;
}

/* The tunnel of an alert or event (pm_event.tunnel) if it names one (a
 * decapsulated tunnel class), else -1 (PM_TUN_NONE, or 0 in a zeroed
 * struct: tcp is no tunnel). */
static inline int tunnel_class(unsigned int tunnel)
{
	return class_is_decap(tunnel) ? (int)tunnel : -1;
}

/* " macsec N mpls_other N pppoe_other N": the well-formed frames with no
 * IP packet to count, other than non_ip, that are not 0 ("" if none), for
 * a line that already says non-ip. Returns buf. */
char *stats_unseen_text(const struct pm_stats *s, char *buf, size_t len);
/* The same over counts by reason (a struct pm_stats's reason[], or read
 * from a status answer), each "NAME N" followed by after ("," or ""). */
char *reasons_unseen_text(const __u64 reason[PM_NREASON], const char *after,
			  char *buf, size_t len);
/* " inner 120 (not counted: tun_other 2, l4_trunc 1)": the packets
 * inside tunnels (--decap), counted under their own destination or not
 * and why, the reasons that are not 0; "" if there were none. For the
 * stats lines of report, top and status. Returns buf. */
char *stats_inner_text(const struct pm_stats *s, char *buf, size_t len);
const char *hook_name(unsigned int h);

/* " (via vxlan,gtp_u)" for a via mask (dest_via_mask), "" for 0: what
 * marks a destination seen inside tunnels in the text views (report, top,
 * md, html). Returns buf. */
char *via_text(uint32_t via, char *buf, size_t len);

/* "tcp,icmp" and ["tcp","icmp"] for a class mask. */
char *classes_text(uint32_t mask, char *buf, size_t len);
json_object *classes_json(uint32_t mask);

#endif
