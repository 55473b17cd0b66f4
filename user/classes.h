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
/* The tunnel classes: esp, ah, esp_udp, gre, ipip, ipv6_encap, wireguard
 * (docs/classes.md, "Class masks"). */
uint32_t class_tunnel_mask(void);
/* The encrypted classes (esp, ah, esp_udp, wireguard): a TCP destination
 * that turns to one raises protocol_shift (bpf/protomix.bpf.c's
 * IPSEC_SHIFT_MASK is the same set). */
uint32_t class_encrypted_mask(void);

const char *reason_name(unsigned int r);
/* Its definition, as `protomix classes` prints it. */
const char *reason_desc(unsigned int r);
/* Whether a reason says the frame was cut short or invalid (malformed),
 * rather than well formed with no IP packet to count (non_ip, macsec,
 * mpls_other, pppoe_other). Inline: maps.c's stats_malformed uses it in
 * test programs that do not link this file. */
static inline bool reason_is_malformed(unsigned int r)
{
	switch (r) {
	case PM_R_NON_IP:
	case PM_R_MPLS_OTHER:
	case PM_R_PPPOE_OTHER:
	case PM_R_MACSEC:
		return false;
	default:
		return r < PM_NREASON;
	}
}

/* " macsec N mpls_other N pppoe_other N": the well-formed frames with no
 * IP packet to count, other than non_ip, that are not 0 ("" if none), for
 * a line that already says non-ip. Returns buf. */
char *stats_unseen_text(const struct pm_stats *s, char *buf, size_t len);
/* The same over counts by reason (a struct pm_stats's reason[], or read
 * from a status answer), each "NAME N" followed by after ("," or ""). */
char *reasons_unseen_text(const __u64 reason[PM_NREASON], const char *after,
			  char *buf, size_t len);
const char *hook_name(unsigned int h);

/* "tcp,icmp" and ["tcp","icmp"] for a class mask. */
char *classes_text(uint32_t mask, char *buf, size_t len);
json_object *classes_json(uint32_t mask);

#endif
