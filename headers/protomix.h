/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The ABI shared by the BPF programs (bpf/) and the loader (user/).
 * Every struct that crosses the boundary is defined here, once, with
 * fixed-width fields and explicit padding.
 */
#ifndef PROTOMIX_H
#define PROTOMIX_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Protocol classes (DESIGN.md). The order is the ABI: it indexes the
 * per-class arrays below. Names live in user/classes.c. */
enum pm_class {
	PM_C_TCP = 0,
	PM_C_UDP,
	PM_C_ICMP,
	PM_C_ICMP6,
	PM_C_SCTP,
	PM_C_ESP,
	PM_C_AH,
	PM_C_ESP_UDP,
	PM_C_IKE,
	PM_C_GRE,
	PM_C_IPIP,
	PM_C_IPV6_ENCAP,
	PM_C_OTHER,
	PM_NCLASS,
};

/* Why a frame was not counted under a destination. Every frame ends in
 * exactly one class or exactly one of these reasons, so
 * sum(class_packets) + sum(reason) == frames. */
enum pm_reason {
	PM_R_NON_IP = 0,	/* a well-formed frame that carries no IPv4/IPv6 */
	PM_R_ETH_TRUNC,		/* shorter than an Ethernet header */
	PM_R_VLAN_TRUNC,	/* a VLAN tag cut short */
	PM_R_VLAN_DEPTH,	/* more than two VLAN tags */
	PM_R_IP4_TRUNC,		/* IPv4 header (with options) cut short */
	PM_R_IP4_BAD_HDR,	/* version != 4 or ihl < 5 */
	PM_R_IP6_TRUNC,		/* IPv6 fixed header cut short */
	PM_R_IP6_BAD_HDR,	/* version != 6 */
	PM_R_IP6_EXT_TRUNC,	/* an extension header cut short */
	PM_R_IP6_EXT_DEPTH,	/* more than PM_MAX_IP6_EXT extension headers */
	PM_R_L4_TRUNC,		/* TCP/UDP/ESP/AH header cut short */
	PM_R_L4_BAD_HDR,	/* TCP doff < 5, UDP length < 8, AH length too small */
	PM_NREASON,
};

enum pm_hook {
	PM_HOOK_XDP = 0,	/* ingress, XDP */
	PM_HOOK_TC_INGRESS,
	PM_HOOK_TC_EGRESS,
	PM_NHOOK,
};

#define PM_MAX_VLAN	2
#define PM_MAX_IP6_EXT	8

/* Per-destination map key: the IPv6 address, or the IPv4 address mapped
 * into IPv6 (::ffff:a.b.c.d). */
struct pm_dest_key {
	__u8 addr[16];
};

/* Per-destination value. One shared copy per destination (not per CPU):
 * counters are updated with atomic adds, so memory does not grow with
 * the number of CPUs. */
struct pm_dest {
	__u64 packets[PM_NCLASS];
	__u64 bytes[PM_NCLASS];
	__u64 first_seen;	/* bpf_ktime_get_coarse_ns() at insert */
	__u64 last_seen;	/* bpf_ktime_get_coarse_ns() at last packet */
};

/* Per-CPU, one entry per hook (enum pm_hook). */
struct pm_stats {
	__u64 frames;			/* every frame the hook saw */
	__u64 class_packets[PM_NCLASS];	/* wire packets (GSO segments) */
	__u64 class_bytes[PM_NCLASS];
	__u64 reason[PM_NREASON];	/* frames not counted per destination */
	__u64 vlan_frames;		/* frames that carried 1 or 2 tags */
	__u64 new_dests;		/* destinations inserted into the map */
	__u64 dest_update_fail;		/* insert failed: counted in stats only */
	__u64 gso_frames;		/* tc: frames that stood for > 1 packet */
};

#endif /* PROTOMIX_H */
