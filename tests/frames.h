/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A small Ethernet frame builder for the tests, and a table of named
 * cases, each with the outcome the parser (bpf/parse.bpf.h) must reach.
 *
 * The BPF unit test runs every case through the programs; sendframes
 * sends them out of an interface for the end-to-end tests. Addresses are
 * the incident's (10.10.1.10 -> 10.20.0.80) and 2001:db8::/32; a caller
 * can aim a case elsewhere with struct frame_addrs.
 */
#ifndef PM_TESTS_FRAMES_H
#define PM_TESTS_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_MAX_VLAN	3	/* one more than the parser takes */
#define FRAME_MAX_MPLS	9	/* one more than the parser takes */
#define FRAME_MAX_EXT	12	/* IPv6 extension headers (IPv4: AH only) */
#define FRAME_MAX_LEN	2048	/* every case fits */

enum frame_l3 {
	FRAME_L3_NONE = 0,	/* no IP: spec.ethertype, then the payload */
	FRAME_L3_IPV4,
	FRAME_L3_IPV6,
};

enum frame_l4 {
	FRAME_L4_RAW = 0,	/* IP protocol spec.proto, then the payload */
	FRAME_L4_TCP,
	FRAME_L4_UDP,		/* payload after the UDP header; see udp_esp */
	FRAME_L4_ICMP,		/* echo request */
	FRAME_L4_ICMP6,		/* echo request */
	FRAME_L4_SCTP,
	FRAME_L4_ESP,		/* spi, seq, then the payload */
	FRAME_L4_GRE,		/* GRE (RFC 2784) carrying spec.inner: its IP
				 * packet, or with inner_eth its Ethernet
				 * frame (0x6558); gre_flags */
	FRAME_L4_IPIP,		/* spec.inner, an IPv4 packet (protocol 4) */
	FRAME_L4_IPV6_ENCAP,	/* spec.inner, an IPv6 packet (protocol 41) */
	/* UDP tunnels: sport (0: 49152), dport (0: the tunnel's port), the
	 * tunnel's header, then spec.inner (or, without one, the payload) */
	FRAME_L4_VXLAN,		/* port 4789, VXLAN, spec.inner's Ethernet frame */
	FRAME_L4_GENEVE,	/* port 6081, Geneve with tun_opt_words of
				 * options, spec.inner's IP packet or with
				 * inner_eth its Ethernet frame */
	FRAME_L4_GTPU,		/* port 2152 (both), GTP-U, spec.inner's IP
				 * packet */
};

struct frame_vlan {
	uint16_t tpid;		/* 0x8100 or 0x88a8 */
	uint16_t tci;		/* priority and VLAN id */
};

/* A header between the IP header and the transport header. IPv6: hop-by-
 * hop (0), routing (43), fragment (44), destination options (60) or AH
 * (51). IPv4: AH only. */
struct frame_ext {
	uint8_t type;
	uint8_t len8;		/* 0, 43, 60: Hdr Ext Len, the header is
				 * (len8 + 1) * 8 bytes long */
	uint16_t frag_off;	/* 44: fragment offset, 8-byte units */
	bool more;		/* 44: the M flag */
	bool ah_len_zero;	/* 51: write Payload Len 0 (malformed) */
	uint32_t spi, seq;	/* 51 */
};

/* A carrier between the VLAN tags and the IP packet (or, with
 * FRAME_L3_NONE, the payload). */
enum frame_carrier {
	FRAME_CARRIER_NONE = 0,
	FRAME_CARRIER_MPLS,	/* ethertype 0x8847 (mpls_mc: 0x8848), nmpls
				 * labels, the last with the bottom-of-stack
				 * bit (unless mpls_no_bos) */
	FRAME_CARRIER_PPPOE,	/* ethertype 0x8864, a PPPoE session header and
				 * the PPP protocol */
};

struct frame_spec {
	uint8_t dst_mac[6], src_mac[6];
	uint8_t nvlan;
	struct frame_vlan vlan[FRAME_MAX_VLAN];
	uint16_t ethertype;	/* FRAME_L3_NONE without a carrier only */
	enum frame_l3 l3;

	enum frame_carrier carrier;
	/* MPLS */
	uint8_t nmpls;		/* labels, 1 .. FRAME_MAX_MPLS */
	bool mpls_mc;		/* ethertype 0x8848 (multicast) */
	bool mpls_no_bos;	/* no label has the bottom-of-stack bit */
	bool mpls_cw;		/* a pseudowire control word (4 zero bytes)
				 * after the stack */
	/* PPPoE */
	uint16_t ppp_proto;	/* 0: 0x0021 for IPv4, 0x0057 for IPv6 */
	uint8_t pppoe_ver_type;	/* 0: 0x11 */
	uint8_t pppoe_code;	/* 0: session data */
	bool pppoe_len_short;	/* PPPoE length 1: under the PPP protocol */

	/* IPv4 */
	uint8_t src4[4], dst4[4];
	uint8_t ip4_ihl;	/* header length field; 0: 5. Above 5 adds
				 * NOP options; below 5 still writes 20 bytes */
	uint8_t ip4_version;	/* 0: 4 */
	uint16_t ip4_frag_off;	/* 8-byte units */
	bool ip4_mf;

	/* IPv6 */
	uint8_t src6[16], dst6[16];
	uint8_t ip6_version;	/* 0: 6 */
	bool ip6_plen_zero;	/* Payload Length 0, as a jumbogram or a
				 * BIG TCP packet has it */

	uint8_t next;		/* extension headers in ext[] */
	struct frame_ext ext[FRAME_MAX_EXT];

	enum frame_l4 l4;
	uint8_t proto;		/* FRAME_L4_RAW: the IP protocol number */
	uint16_t sport, dport;	/* TCP, UDP, SCTP */
	uint8_t tcp_doff;	/* 0: 5. Above 5 adds NOP options; below 5
				 * still writes 20 bytes */
	uint16_t udp_len;	/* 0: the real length */
	bool udp_esp;		/* UDP: spi and seq before the payload (NAT-T) */
	uint32_t spi, seq;	/* ESP, udp_esp */
	const struct frame_spec *inner;	/* GRE, IPIP, IPV6_ENCAP: from its
					 * IP header on; the UDP tunnels: see
					 * enum frame_l4 */
	/* Tunnel headers */
	bool inner_eth;		/* GRE, Geneve: the inner is an Ethernet frame */
	uint16_t tun_proto;	/* GRE, Geneve: the protocol field (0: 0x0800,
				 * 0x86dd or 0x6558 by the inner) */
	uint16_t gre_flags;	/* C 0x8000, R 0x4000, K 0x2000, S 0x1000 (each
				 * adds its 4-byte word; R writes none),
				 * version in the low 3 bits */
	bool vxlan_no_i;	/* VXLAN flags 0 instead of 0x08 (I) */
	uint8_t tun_ver;	/* Geneve: version (2 bits) */
	uint8_t tun_opt_words;	/* Geneve: options, in 4-byte words */
	uint8_t gtp_flags;	/* GTP-U: S 0x02, PN 0x01 (E is set by gtp_next) */
	uint8_t gtp_type;	/* GTP-U message type (0: 0xff, G-PDU) */
	uint8_t gtp_next;	/* GTP-U: extension headers of 4 bytes (PDU
				 * session container, 0x85) */
	bool gtp_ext_len0;	/* ... the first with length 0 (malformed) */

	const uint8_t *payload;	/* NULL: a pattern of payload_len bytes */
	size_t payload_len;
	size_t truncate_to;	/* 0: the whole frame */
	size_t pad_to;		/* zero padding after the packet up to this
				 * frame length, as a NIC pads short frames */
};

/* The offset of the IP header (or the payload, FRAME_L3_NONE) in the
 * frame spec builds: Ethernet, the VLAN tags and the carrier. */
size_t frame_l3_offset(const struct frame_spec *spec);

/* Builds the frame into buf. Returns its length, or -1 if it does not
 * fit in cap or the spec makes no sense. The IPv4 header checksum and
 * the TCP, UDP, ICMP, ICMPv6 and SCTP checksums are correct, computed
 * before truncate_to cuts the frame. Exceptions: a non-first fragment has
 * no L4 header; UDP over IPv4 has checksum 0 when the datagram is longer
 * than the frame (ip4_mf, udp_len), and over IPv6 it sums what is there. */
int frame_build(const struct frame_spec *spec, uint8_t *buf, size_t cap);

/* What the parser must make of a case. */
struct frame_case {
	const char *name;	/* lower_snake */
	const char *what;	/* one line */
	struct frame_spec spec;
	int class;		/* enum pm_class, or -1 */
	int reason;		/* enum pm_reason, or -1 */
	uint32_t spi, seq;	/* esp, ah, esp_udp */
	uint32_t bytes;		/* counted per frame: from the IP header on;
				 * 0 for a reason */
	uint32_t hdr_len;	/* class cases: the IP header and, for TCP
				 * and UDP, the L4 header (what a GSO
				 * segment repeats); 0 otherwise */
	uint8_t vlans;		/* tags the parser reads (vlan_frames) */
	/* Tunnel classes (--decap): the packet inside, exactly one of */
	bool decap;		/* set for every case of a tunnel class */
	int inner_class;	/* enum pm_class, counted under the inner
				 * destination (spec.inner's), or -1 */
	int inner_reason;	/* stats inner_reason, or -1 */
	uint32_t inner_bytes;	/* from the inner IP header on */
};

extern const struct frame_case frame_cases[];
extern const size_t frame_ncases;

const struct frame_case *frame_case_find(const char *name);

/* Where to aim a case. NULL or unset fields keep the case's own. An
 * IPv4 address replaces only the addresses of IPv4 cases, an IPv6 one
 * only those of IPv6 cases; the inner packet of a tunnel is kept, but
 * for inner_dst4/inner_dst6, which aim it the same way. */
struct frame_addrs {
	bool has_dst_mac, has_src_mac;
	uint8_t dst_mac[6], src_mac[6];
	bool has_src4, has_dst4, has_src6, has_dst6;
	uint8_t src4[4], dst4[4], src6[16], dst6[16];
	bool has_inner_dst4, has_inner_dst6;
	uint8_t inner_dst4[4], inner_dst6[16];
};

/* Builds a case, aimed by addrs (may be NULL). Returns as frame_build. */
int frame_case_build(const struct frame_case *c, const struct frame_addrs *addrs,
		     uint8_t *buf, size_t cap);

/* The destination the case counts under, as the dests map keys it (IPv4
 * mapped to ::ffff:a.b.c.d). Returns false for a case that counts under
 * no destination (a reason). */
bool frame_case_dst(const struct frame_case *c, const struct frame_addrs *addrs,
		    uint8_t key[16]);

/* The inner destination a tunnel case counts under (spec.inner's
 * destination, aimed by addrs, which may be NULL; mapped as
 * frame_case_dst). false: none. */
bool frame_case_inner_dst(const struct frame_case *c, const struct frame_addrs *addrs,
			  uint8_t key[16]);

/* The class or reason name of the expected outcome. */
const char *frame_case_outcome(const struct frame_case *c);

/* Parses "aa:bb:cc:dd:ee:ff". Returns 0 or -1. */
int frame_parse_mac(const char *s, uint8_t mac[6]);

#endif /* PM_TESTS_FRAMES_H */
