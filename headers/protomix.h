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

/* Protocol classes (docs/classes.md). The order is the ABI: it indexes the
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
	PM_C_WIREGUARD,		/* appended: the classes above keep their index */
	PM_C_VXLAN,		/* UDP port 4789 */
	PM_C_GENEVE,		/* UDP port 6081 */
	PM_C_GTP_U,		/* UDP port 2152 with a GTPv1 header */
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
	/* Carriers (bpf/parse.bpf.h): MPLS and PPPoE are peeled, the IP
	 * packet inside counts as if it were the frame's own. */
	PM_R_MPLS_TRUNC,	/* MPLS label stack (or the byte after it) cut short */
	PM_R_MPLS_DEPTH,	/* more than PM_MAX_MPLS labels */
	PM_R_MPLS_OTHER,	/* well-formed MPLS carrying no IPv4/IPv6 (control
				 * word, Ethernet pseudowire, ...) */
	PM_R_PPPOE_TRUNC,	/* PPPoE session or PPP header cut short */
	PM_R_PPPOE_BAD_HDR,	/* PPPoE version/type not 1/1, code not 0, or a
				 * length under the PPP protocol field */
	PM_R_PPPOE_OTHER,	/* well-formed PPPoE session, PPP protocol not
				 * IPv4/IPv6 (LCP, IPCP, ...) */
	PM_R_MACSEC,		/* MACsec (802.1AE): encrypted, no IP to see */
	/* Tunnels (--decap): why the packet inside a tunnel was not counted
	 * under its own destination. Only in pm_stats.inner_reason, with the
	 * reasons above applied to the inner packet. */
	PM_R_TUN_TRUNC,		/* the tunnel's own header cut short (VXLAN,
				 * Geneve with its options, GTP-U with its
				 * extensions, GRE with its optional words) */
	PM_R_TUN_BAD_HDR,	/* VXLAN without the I flag, Geneve version
				 * not 0, GRE version not 0 or routing set */
	PM_R_TUN_OTHER,		/* a well-formed tunnel carrying neither IP
				 * nor Ethernet (GTP-U signalling such as echo,
				 * GRE with PPP or ERSPAN, ...) */
	PM_NREASON,
};

enum pm_hook {
	PM_HOOK_XDP = 0,	/* ingress, XDP */
	PM_HOOK_TC_INGRESS,
	PM_HOOK_TC_EGRESS,
	PM_NHOOK,
};

#define PM_MAX_VLAN	2
#define PM_MAX_MPLS	8	/* labels in a stack */
#define PM_MAX_IP6_EXT	8
#define PM_MAX_GTP_EXT	4	/* GTP-U extension headers walked (--decap) */
/* Bytes of an evidence frame kept per sample: the outer headers and the
 * inner ones of a tunnel, e.g. IPv6 VXLAN carrying IPv6 ESP (132 bytes) */
#define PM_SNAP_LEN	192

#define PM_ALL_CLASSES	((1u << PM_NCLASS) - 1)

/* --aggregate's prefix lengths when it is not given: as long as the
 * address, so every address counts on its own. */
#define PM_AGG4_NONE	32
#define PM_AGG6_NONE	128

/* What an alert says (docs/alerts.md, its "kind"). */
enum pm_kind {
	PM_K_UNEXPECTED = 0,	/* unexpected_protocol: a declared rule broken */
	PM_K_SHIFT,		/* protocol_shift: TCP destination turned IPsec */
	PM_K_ONE_WAY,		/* one_way_ipsec: ESP one way, nothing back */
	PM_NKIND,
};

/* pm_dest.flags */
#define PM_D_SHIFTED	(1u << 0)	/* learned: TCP, then IPsec */
#define PM_D_BASE_TCP	(1u << 1)	/* --baseline: had TCP */
#define PM_D_BASE_IPSEC	(1u << 2)	/* --baseline: had an IPsec class */
/* Bits 8-15: the tunnels this destination's packets came inside
 * (--decap), one bit per tunnel class from PM_C_GRE to PM_C_GTP_U. */
#define PM_D_VIA(cls)	(1u << (8 + (cls) - PM_C_GRE))
#define PM_D_VIA_MASK	0xff00u
/* Bits of pm_dest_hdr.flags only, which user/maps.c takes out of
 * pm_dest.flags: the cached rule has an id (the id is in pm_dest_cold),
 * and the class whose counters are in the header itself, plus one (0:
 * none). */
#define PM_H_RULE	(1u << 3)
#define PM_H_MAIN_SHIFT	16
#define PM_H_MAIN_MASK	(0x1fu << PM_H_MAIN_SHIFT)
#define PM_H_MAIN(cls)	(((cls) + 1u) << PM_H_MAIN_SHIFT)
#define PM_H_MASK	(PM_H_RULE | PM_H_MAIN_MASK)

/* The classes that are tunnels: their packets carry another packet, which
 * --decap counts under its own destination too. */
#define PM_TUNNEL_CLASSES \
	(1u << PM_C_GRE | 1u << PM_C_IPIP | 1u << PM_C_IPV6_ENCAP | \
	 1u << PM_C_VXLAN | 1u << PM_C_GENEVE | 1u << PM_C_GTP_U)
/* pm_event.tunnel when the packet came inside no tunnel */
#define PM_TUN_NONE	0xff

/* Expectation rules: an LPM trie keyed by prefix, at most PM_RULES_MAX
 * of them. IPv4 prefixes are stored mapped into IPv6, with 96 added to
 * their length. */
#define PM_RULES_MAX	65536
struct pm_rule_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct pm_rule {
	__u32 allowed;		/* bit per enum pm_class */
	__u32 id;		/* index into userspace's rule list */
};

/* One direction of an IPsec conversation (src -> dst), for one_way_ipsec.
 * Pairs are by address, not by SPI: each direction has its own SPI. */
struct pm_pair_key {
	__u8 src[16];
	__u8 dst[16];
};

struct pm_pair {
	__u64 first_seen;	/* coarse monotonic ns */
	__u64 last_seen;
	__u64 esp_ticks;	/* clock ticks with esp, esp_udp or wireguard (at least) */
	__u64 ike_ticks;
	__u32 spi, seq;		/* of the latest ESP packet */
	__u32 len;		/* its IP payload length */
	__u32 ifindex;
	__u8 hook;		/* enum pm_hook */
	__u8 class;		/* esp, esp_udp or wireguard, of the latest one */
	__u8 pad[6];
};

/* A sampled packet that broke an expectation: the ring buffer's record,
 * carrying the evidence (the first PM_SNAP_LEN bytes of the frame). */
struct pm_event {
	__u64 ts;		/* bpf_ktime_get_ns() */
	__u32 ifindex;
	__u8 hook;		/* enum pm_hook */
	__u8 kind;		/* enum pm_kind */
	__u8 class;		/* enum pm_class */
	__u8 tunnel;		/* the class of the tunnel it came inside
				 * (addresses, ports, SPI are the inner
				 * packet's), or PM_TUN_NONE */
	__u8 src[16];
	__u8 dst[16];
	__u32 spi, seq;		/* ESP, AH, esp_udp; else 0 */
	__u16 sport, dport;	/* TCP, UDP; else 0 */
	__u32 len;		/* IP payload length (tcpdump's "length") */
	__u32 allowed;		/* the rule's classes (unexpected_protocol) */
	__u32 rule_id;
	__u32 wire_len;		/* the frame's length */
	__u16 cap_len;		/* bytes in frame[] */
	__u8 pad1[2];
	__u8 frame[PM_SNAP_LEN];
};

/* Per-destination map key: the IPv6 address, or the IPv4 address mapped
 * into IPv6 (::ffff:a.b.c.d). */
struct pm_dest_key {
	union {
		__u8 addr[16];
		__u64 w[2];	/* compared as two words */
	};
};

/*
 * The destinations live in a table of our own, made of BPF arrays: the
 * kernel's hash maps cost four out-of-line calls per lookup (measured
 * 29 ns on the project's VM, as much as the whole per-packet budget),
 * an array lookup is inlined by the verifier.
 *
 * dest_index holds buckets of PM_WAYS ways: a state word, and per way a
 * 16-bit tag of its key (bits of its hash) and the slot of its entry. A
 * key may sit in one of two buckets (pm_dest_hash: two choices keep the
 * table nearly full before anything is evicted). A lookup compares tags,
 * then reads the entry of the way whose tag matches.
 *
 * An entry is split by how often it is touched, one array each, indexed
 * by slot: dests (struct pm_dest_hdr, one cache line: the key, what every
 * packet reads, and the counters of the destination's main class, the
 * class of its first packet), dest_counts (struct pm_dest_count, at cls *
 * nslots + slot: the other classes, the packet's class only) and
 * dest_cold (struct pm_dest_cold: when it was inserted, its rule's id,
 * violations and the sampling window, touched by violations and inserts
 * only). Slots are handed out in order (bucket 0's `next` counts them)
 * and an evicted destination's slot is reused, so the entries in use sit
 * together: with 131,072 destinations in the default table, the lines a
 * packet of a main class touches lie in 10 MB (8 MB of headers, 2 MB of
 * buckets), and the CPU's address translation keeps up (4 KB pages: BPF
 * maps get no huge pages). All are BPF_F_MMAPABLE:
 * userspace reads them in place and puts a struct pm_dest together per
 * destination.
 *
 * The lines a packet to a known destination touches (pm_xdp, pm_tc_*):
 *   1. dest_index[b1], its first bucket: read (state, tags, slots)
 *   2. dest_index[b2], its second bucket: read, only when the key sits
 *      there (found in neither way of b1)
 *   3. dests[slot] (struct pm_dest_hdr): read (key, rules_gen, denied,
 *      flags, seen, last_seen); when the packet is of the main class
 *      (most destinations receive one class: a web server TCP), two
 *      atomic adds to its packets and bytes; last_seen written once per
 *      tick per CPU, seen on a class's first packet
 *   4. dest_counts[cls * nslots + slot], for a class other than the main
 *      one only: two atomic adds; the 16 bytes share their line with the
 *      same class of three neighbouring slots
 * So a packet of the main class found in its first bucket touches two
 * lines, another class three, plus per-CPU lines that stay in the CPU's
 * cache (stats: frames, the class's packets and bytes, the clock) and
 * read-only globals. Written on every packet by every CPU that receives
 * the destination: line 3 (main class) or line 4 (another class): that
 * line is what one destination spread by RSS over N CPUs bounces between
 * them, per packet.
 *
 * Bucket state: bit w: way w holds a key (valid); bit 8 + w: way w is
 * being written (busy); PM_B_LOCK: a destination whose first bucket this
 * is, is being inserted (one insert per key at a time: no duplicates).
 */
#define PM_WAYS		8
#define PM_B_VALID	0xffull
#define PM_B_BUSY_SHIFT	8
#define PM_B_LOCK	(1ull << 16)

/* A new key goes into its first bucket while that has PM_FIRST_FREE free
 * ways, else into the emptier of its two (the first on a tie). Line 2
 * above is then rare: a simulation of random keys in the default table
 * (32,768 buckets) puts 9% of them in their second bucket at half full,
 * 18% at 75%, against 31% and 32% when the emptier always wins; the
 * price is 1.2% of inserts finding both buckets full (an eviction) on the
 * way to 90% full, against 0.8%, and next to none below 75%. */
#define PM_FIRST_FREE	(PM_WAYS / 2)

/* The table's size unless the loader sizes it (watch's --max-dests):
 * slots, and buckets of PM_WAYS ways (as many ways as slots). */
#define PM_DEST_SLOTS_DEFAULT	262144
#define PM_DEST_BUCKETS_DEFAULT	(PM_DEST_SLOTS_DEFAULT / PM_WAYS)

struct pm_bucket {		/* 64 bytes: one cache line */
	__u64 state;
	__u16 tags[PM_WAYS];
	__u32 slots[PM_WAYS];	/* the way's entry */
	__u64 next;		/* bucket 0 only: slots handed out so far */
};

struct pm_dest_hdr {		/* 64 bytes: one cache line */
	struct pm_dest_key key;
	__u64 last_seen;	/* coarse monotonic ns at the last packet */
	__u64 packets;		/* the main class's (PM_H_MAIN in flags) */
	__u64 bytes;
	__u32 flags;		/* PM_D_*, PM_H_* */
	__u32 rules_gen;	/* rules generation of the cached verdict */
	__u32 denied;		/* classes the matching rule does not allow:
				 * 0 in a new entry, which allows all */
	__u32 seen;		/* classes ever counted, bit per enum pm_class */
	/* The IPsec pair last tracked for this destination (a fold of its
	 * source address), and when (the low 32 bits of the coarse ns): the
	 * pairs map is updated once per tick per source, not per packet. */
	__u32 pair_src;
	__u32 pair_tick;
};

struct pm_dest_count {
	__u64 packets;
	__u64 bytes;
};

struct pm_dest_cold {
	__u64 first_seen;	/* coarse monotonic ns at insert; 0: unused
				 * or being (re)written */
	__u64 violations;	/* packets that broke an expectation */
	__u64 win_start;	/* sampling window (coarse ns) */
	__u32 win_samples;	/* samples taken in that window */
	__u32 rule_id;		/* the cached rule's (PM_H_RULE); 0: none */
};

_Static_assert(sizeof(struct pm_dest_hdr) == 64, "one cache line");
_Static_assert(PM_NCLASS + 1 <= (PM_H_MAIN_MASK >> PM_H_MAIN_SHIFT),
	       "the main class fits its bits");

/* The two buckets of a key, among n, and its tag, under the loader's
 * random seed. */
static inline __u16 pm_dest_hash(const struct pm_dest_key *k, __u64 seed,
				 __u32 n, __u32 *b1, __u32 *b2)
{
	__u64 h = (k->w[0] ^ seed) * 0x9e3779b97f4a7c15ull;

	h = (h ^ (h >> 32)) + k->w[1];
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 32;
	/* the buckets from the high bits of each half, the tag from the
	 * low bits of the first */
	*b1 = (__u32)(((h & 0xffffffffull) * n) >> 32);
	*b2 = (__u32)(((h >> 32) * n) >> 32);
	return (__u16)h;
}

/* One destination as userspace reads it, put together from its header,
 * its counters and its cold part (user/maps.c). */
struct pm_dest {
	struct pm_dest_key key;
	__u64 packets[PM_NCLASS];
	__u64 bytes[PM_NCLASS];
	__u64 first_seen;	/* coarse monotonic ns at insert */
	__u64 last_seen;	/* coarse monotonic ns at the last packet */
	__u64 violations;	/* packets that broke an expectation */
	__u64 win_start;	/* sampling window (coarse ns) */
	__u32 win_samples;	/* samples taken in that window */
	__u32 flags;		/* PM_D_* */
	__u32 rules_gen;	/* rules generation of the cached verdict */
	__u32 denied;		/* classes the matching rule does not allow */
	__u32 rule_id;		/* 0: no rule */
	__u32 seen;		/* classes ever counted */
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
	__u64 violations[PM_NKIND];	/* packets that broke an expectation */
	__u64 sampled;			/* ... sent to the ring buffer */
	__u64 suppressed;		/* ... over the per-destination rate */
	__u64 ringbuf_drops;		/* ... lost: the ring buffer was full */
	__u64 pair_update_fail;		/* IPsec pair not tracked */
	/* --decap: the packets inside tunnels (one level deep). Every packet
	 * counted under a tunnel class ends in exactly one of these:
	 * counted under its own destination (inner_packets) or not, for
	 * one reason (inner_reason). The frames' own sum above is not
	 * changed by them. */
	__u64 inner_packets;
	__u64 inner_reason[PM_NREASON];
	/* The coarse clock, read once per tick per CPU (bpf_jiffies64() is
	 * inlined; the clock helper is a call). Not a counter. */
	__u64 clock_jiffies;
	__u64 clock_ns;
};

/* The counters of struct pm_stats: the __u64 words before the clock. */
#define PM_STATS_NCOUNTERS \
	(__builtin_offsetof(struct pm_stats, clock_jiffies) / sizeof(__u64))

#endif /* PROTOMIX_H */
