// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * evidence_cases: the frames of tests/evidence_test.sh and protomix's
 * evidence line for each (user/evidence*.c).
 *
 *   evidence_cases OUT.pcap SNAP
 *
 * writes every case into OUT.pcap (link type Ethernet, frame i at time
 * i + 1 seconds), each cut to SNAP bytes if SNAP > 0 (the record keeps the
 * frame's length on the wire; SNAP "alert": PM_SNAP_LEN, what an alert
 * keeps), and prints on stdout one line per frame:
 *
 *   NAME<TAB>eq|prefix|ext<TAB>LINE
 *
 * LINE is evidence_line() for the bytes written; "eq": tcpdump -n must
 * print exactly LINE for the frame, "prefix": LINE must be the beginning
 * of tcpdump's line (docs/alerts.md: where the evidence stops short),
 * "ext": LINE goes on past tcpdump's "UDP, length N" in words of our own
 * (GTP-U), checked against the line evidence_test.sh expects.
 * Every TCP case has a connection of its own (its own destination):
 * tcpdump prints the first packet of a connection with absolute sequence
 * numbers, later ones relative to it.
 * Exit 2 on bad usage, 1 when a frame cannot be built or written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "frames.h"
#include "evidence.h"
#include "protomix.h"

#define BUF_MAX		4096
#define ETH_HLEN	14

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

#define MAC_GW		{ 0x02, 0x00, 0x5e, 0x00, 0x00, 0x80 }
#define MAC_WKS		{ 0x02, 0x00, 0x5e, 0x00, 0x01, 0x10 }
#define ETH		.dst_mac = MAC_GW, .src_mac = MAC_WKS
#define VLAN(id)	{ .tpid = 0x8100, .tci = (id) }
#define SVLAN(id)	{ .tpid = 0x88a8, .tci = (id) }
#define INC_SPI		0xd7ca145d
#define INC_SEQ		0x3de0a5

/* The tunnel endpoints: 192.0.2.1 -> 192.0.2.2, 2001:db8:1::1 -> ::2. */
#define VTEP4		.src4 = { 192, 0, 2, 1 }, .dst4 = { 192, 0, 2, 2 }
#define VTEP6		.src6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 }, \
			.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 }
#define OUTER4		ETH, .l3 = FRAME_L3_IPV4, VTEP4
#define OUTER6		ETH, .l3 = FRAME_L3_IPV6, VTEP6

/* The incident's ESP packet (80 bytes of IP payload), from IP on. */
static const struct frame_spec inner_esp = {
	.l3 = FRAME_L3_IPV4, .src4 = { 10, 10, 1, 10 }, .dst4 = { 10, 20, 0, 80 },
	.l4 = FRAME_L4_ESP, .spi = INC_SPI, .seq = INC_SEQ, .payload_len = 72,
};
static const struct frame_spec inner_esp_eth = {
	ETH, .l3 = FRAME_L3_IPV4, .src4 = { 10, 10, 1, 10 }, .dst4 = { 10, 20, 0, 80 },
	.l4 = FRAME_L4_ESP, .spi = INC_SPI, .seq = INC_SEQ, .payload_len = 72,
};
static const struct frame_spec inner_esp_vlan_eth = {
	ETH, .nvlan = 1, .vlan = { VLAN(300) }, .l3 = FRAME_L3_IPV4,
	.src4 = { 10, 10, 1, 10 }, .dst4 = { 10, 20, 0, 81 },
	.l4 = FRAME_L4_ESP, .spi = INC_SPI, .seq = INC_SEQ, .payload_len = 72,
};
static const struct frame_spec inner_tcp6 = {
	.l3 = FRAME_L3_IPV6,
	.src6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, [15] = 0x10 },
	.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [14] = 0x0a, [15] = 0x80 },
	.l4 = FRAME_L4_TCP, .sport = 49152, .dport = 8080, .payload_len = 16,
};
static const struct frame_spec inner_ping6 = {
	.l3 = FRAME_L3_IPV6,
	.src6 = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1 },
	.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 2 },
	.l4 = FRAME_L4_ICMP6, .payload_len = 16,
};

static const struct frame_spec inner_natt_eth = {
	ETH, .l3 = FRAME_L3_IPV4, .src4 = { 10, 10, 1, 10 }, .dst4 = { 10, 20, 0, 82 },
	.l4 = FRAME_L4_UDP, .sport = 4500, .dport = 4500, .udp_esp = true,
	.spi = 0xc0ffee01, .seq = 42, .payload_len = 64,
};
static const struct frame_spec inner_esp6_eth = {
	ETH, .l3 = FRAME_L3_IPV6,
	.src6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, [15] = 0x10 },
	.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 0x80 },
	.l4 = FRAME_L4_ESP, .spi = INC_SPI, .seq = INC_SEQ, .payload_len = 72,
};
static const struct frame_spec inner_tcp_eth = {
	ETH, .l3 = FRAME_L3_IPV4, .src4 = { 10, 10, 1, 10 }, .dst4 = { 10, 20, 0, 83 },
	.l4 = FRAME_L4_TCP, .sport = 49152, .dport = 443, .payload_len = 16,
};

/* A case: a frame of tests/frames.c (aimed at a destination of its own),
 * a spec of this file, or a tunnel header and an inner packet. */
enum wrap {
	W_NONE = 0,
	W_VXLAN,	/* UDP 4789, VXLAN (vni 100), an inner Ethernet frame */
	W_GENEVE,	/* UDP 6081, Geneve (vni 100), inner Ethernet */
	W_GENEVE_OPT,	/* the same with 8 bytes of options */
	W_GENEVE_IP,	/* Geneve carrying IPv4 (protocol 0x0800) */
	W_GTPU,		/* UDP 2152, GTPv1-U G-PDU (teid 0x1234), an inner IP packet */
	W_GTPU_SEQ,	/* the same with the S flag (sequence 7) */
	W_GTPU_EXT,	/* E flag, a PDU session container (0x85), inner IP */
	W_GTPU_EXT2,	/* E flag, PDU session container, then UDP port (0x40) */
	W_GTPU_ECHO,	/* an echo request (S flag, sequence 1), no packet */
	W_GTPU_END,	/* an end marker (type 254), no packet */
	W_GRE_KEY,	/* GRE with key 0x2a and sequence 5, inner IP */
	W_GRE_CSUM,	/* GRE with checksum, inner IP */
	W_GRE_TEB,	/* GRE carrying Ethernet (0x6558), key 7 */
	W_MPLS0,	/* MPLS label 0 (IPv4 explicit null), an inner IP packet */
};

struct ecase {
	const char *name;
	const char *frame;		/* a case of tests/frames.c, or NULL */
	struct frame_spec spec;		/* outer packet (payload filled by wrap) */
	enum wrap wrap;
	const struct frame_spec *inner;	/* for wrap */
	int short_by;			/* the frame ends this many bytes
					 * before its IP packet does */
	int cap;			/* > 0: the capture keeps at most
					 * this many bytes, whatever SNAP */
};

/* A TCP SYN with the options a Linux client sends: mss, sackOK, TS, nop,
 * wscale (20 + 20 bytes). */
static const uint8_t tcp_syn[40] = {
	0xc0, 0x00, 0x00, 0x50, 0x1c, 0x2d, 0x3e, 0x4f,
	0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0,
	0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
	0x00, 0x01, 0xe2, 0x40, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x03, 0x03, 0x07,
};
/* An ACK with nop, nop, TS and 8 bytes of data. */
static const uint8_t tcp_ts[40] = {
	0xc0, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x10, 0x00,
	0x00, 0x00, 0x20, 0x00, 0x80, 0x10, 0x01, 0xf5,
	0x00, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x0a, 0x00, 0x01, 0xe2, 0x41,
	0x00, 0x00, 0x30, 0x39,
	'p', 'r', 'o', 't', 'o', 'm', 'i', 'x',
};
/* FIN, PSH, URG with urgent pointer 3, RST alone, SYN-ACK with sack. */
static const uint8_t tcp_furg[24] = {
	0xc0, 0x02, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x64,
	0x00, 0x00, 0x00, 0xc8, 0x50, 0x39, 0x10, 0x00,
	0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c', 'd',
};
static const uint8_t tcp_rst[20] = {
	0xc0, 0x03, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x64,
	0x00, 0x00, 0x00, 0x00, 0x50, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
static const uint8_t tcp_sack[32] = {
	0xc0, 0x04, 0x1f, 0x90, 0x00, 0x00, 0x00, 0x64,
	0x00, 0x00, 0x00, 0xc8, 0x80, 0x12, 0x10, 0x00,
	0x00, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x05, 0x0a, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x02, 0x00,
};

/* IKEv2 IKE_SA_INIT request header, no payloads, and IKEv1 main mode. */
static const uint8_t ike2[28] = {
	0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 28,
};
static const uint8_t ike1[28] = {
	0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0x10, 2, 0, 0, 0, 0, 0, 0, 0, 0, 28,
};
static const uint8_t ike2_marked[32] = {
	0, 0, 0, 0,
	0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 28,
};
static const uint8_t keepalive[1] = { 0xff };
static const uint8_t http_get[18] = "GET / HTTP/1.1\r\n\r\n";
static const uint8_t dns_query[12] = { 0x12, 0x34, 1, 0, 0, 1 };
/* ICMP: an echo reply, and a port unreachable quoting the datagram's IP
 * header and 8 bytes (10.20.1.9 -> 10.10.1.10, UDP 53 -> 40000) */
static const uint8_t icmp_reply[16] = { 0, 0, 0xb2, 0xa7, 0x4d, 0x58, 0, 2 };
static const uint8_t icmp_unreach[36] = {
	3, 3, 0, 0, 0, 0, 0, 0,
	0x45, 0, 0, 36, 0, 1, 0, 0, 64, 17, 0, 0, 10, 20, 1, 9, 10, 10, 1, 10,
	0, 53, 0x9c, 0x40, 0, 16, 0, 0,
};
static const uint8_t wg_init[148] = { 1 };
static const uint8_t wg_data[96] = { 4 };
/* GTPv2-C (version 2) and GTP' (PT 0) on port 2152: not GTPv1-U. */
static const uint8_t gtpv2[12] = { 0x48, 1, 0, 8, 0, 0, 0, 1, 0, 0, 1, 0 };
static const uint8_t gtp_prime[8] = { 0x2e, 1, 0, 2, 0, 1, 0, 0 };

#define D4(n)		.src4 = { 10, 10, 1, 10 }, .dst4 = { 10, 20, 1, (n) }
#define S4(n)		ETH, .l3 = FRAME_L3_IPV4, D4(n)
#define S6(n)		ETH, .l3 = FRAME_L3_IPV6, \
			.src6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, [15] = 0x10 }, \
			.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x21, [15] = (n) }
#define RAW_TCP(b)	.l4 = FRAME_L4_RAW, .proto = 6, .payload = (b), .payload_len = sizeof(b)
#define UDPP(sp, dp, b)	.l4 = FRAME_L4_UDP, .sport = (sp), .dport = (dp), \
			.payload = (b), .payload_len = sizeof(b)

static const struct ecase cases[] = {
	/* cases of tests/frames.c */
	{ "tcp4", .frame = "tcp4" }, { "tcp4_padded", .frame = "tcp4_padded" },
	{ "tcp4_opts", .frame = "tcp4_opts" }, { "tcp6", .frame = "tcp6" },
	{ "tcp6_plen0", .frame = "tcp6_plen0" },
	{ "udp4", .frame = "udp4" }, { "udp6", .frame = "udp6" },
	{ "icmp4", .frame = "icmp4" }, { "icmp6", .frame = "icmp6" },
	{ "esp4", .frame = "esp4" }, { "esp6", .frame = "esp6" }, { "esp6_ext", .frame = "esp6_ext" },
	{ "rt_esp6", .frame = "rt_esp6" },
	{ "ah4", .frame = "ah4" }, { "ah6_chain", .frame = "ah6_chain" },
	{ "esp_udp4", .frame = "esp_udp4" }, { "esp_udp6", .frame = "esp_udp6" },
	{ "esp_udp4_sport", .frame = "esp_udp4_sport" },
	{ "ike500", .frame = "ike500" }, { "ike500_4500", .frame = "ike500_4500" },
	{ "ike4500_marker", .frame = "ike4500_marker" }, { "natt_keepalive", .frame = "natt_keepalive" },
	{ "gre4", .frame = "gre4" }, { "ipip4", .frame = "ipip4" }, { "ipip6", .frame = "ipip6" },
	{ "ipv6_encap4", .frame = "ipv6_encap4" }, { "other4", .frame = "other4" },
	{ "sctp4", .frame = "sctp4" },
	{ "esp4_vlan", .frame = "esp4_vlan" }, { "esp4_qinq", .frame = "esp4_qinq" },
	{ "tcp6_vlan", .frame = "tcp6_vlan" },
	{ "frag4_first_udp4500", .frame = "frag4_first_udp4500" },
	{ "frag4_nonfirst_udp", .frame = "frag4_nonfirst_udp" },
	{ "frag6_first_udp4500", .frame = "frag6_first_udp4500" },
	{ "frag6_nonfirst_udp", .frame = "frag6_nonfirst_udp" },
	{ "ip4_options_esp", .frame = "ip4_options_esp" },
	{ "ip6_ext8_tcp", .frame = "ip6_ext8_tcp" },
	{ "mpls_tcp4", .frame = "mpls_tcp4" }, { "mpls2_tcp6", .frame = "mpls2_tcp6" },
	{ "mpls8_esp4", .frame = "mpls8_esp4" }, { "mpls_mc_udp6", .frame = "mpls_mc_udp6" },
	{ "vlan_mpls_esp4", .frame = "vlan_mpls_esp4" }, { "qinq_mpls8_tcp6", .frame = "qinq_mpls8_tcp6" },
	{ "mpls_natt4", .frame = "mpls_natt4" },
	{ "pppoe_tcp4", .frame = "pppoe_tcp4" }, { "pppoe_esp6", .frame = "pppoe_esp6" },
	{ "vlan_pppoe_esp4", .frame = "vlan_pppoe_esp4" }, { "qinq_pppoe_tcp6", .frame = "qinq_pppoe_tcp6" },
	{ "wg_init4", .frame = "wg_init4" }, { "wg_resp6", .frame = "wg_resp6" },
	{ "wg_data4", .frame = "wg_data4" }, { "mpls_wg_data4", .frame = "mpls_wg_data4" },

	/* short on the wire: the IP header says more */
	{ "esp4_short", .frame = "esp4", .short_by = 10 },
	{ "tcp6_short", .frame = "tcp6", .short_by = 12 },
	{ "vxlan4_esp_short", .spec = { OUTER4 }, W_VXLAN, &inner_esp_eth, .short_by = 6 },

	/* TCP flags and options */
	{ "tcp4_syn_opts", .spec = { S4(1), RAW_TCP(tcp_syn) } },
	{ "tcp4_ts", .spec = { S4(2), RAW_TCP(tcp_ts) } },
	{ "tcp4_fin_urg", .spec = { S4(3), RAW_TCP(tcp_furg) } },
	{ "tcp4_rst", .spec = { S4(4), RAW_TCP(tcp_rst) } },
	{ "tcp6_synack_sack", .spec = { S6(5), RAW_TCP(tcp_sack) } },

	{ "tcp4_http_get", .spec = { S4(6), .l4 = FRAME_L4_TCP, .sport = 49160,
				    .dport = 80, .payload = http_get,
				    .payload_len = sizeof(http_get) } },
	{ "udp4_dns", .spec = { S4(7), UDPP(40000, 53, dns_query) } },
	{ "icmp4_reply", .spec = { S4(8), .l4 = FRAME_L4_RAW, .proto = 1,
				   .payload = icmp_reply, .payload_len = sizeof(icmp_reply) } },
	{ "icmp4_unreach", .spec = { S4(9), .l4 = FRAME_L4_RAW, .proto = 1,
				     .payload = icmp_unreach, .payload_len = sizeof(icmp_unreach) } },

	/* IKE */
	{ "ikev1", .spec = { S4(10), UDPP(500, 500, ike1) } },
	{ "ikev2_6", .spec = { S6(11), UDPP(500, 500, ike2) } },
	{ "ike4500_6", .spec = { S6(12), UDPP(4500, 4500, ike2_marked) } },
	{ "natt_keepalive6", .spec = { S6(13), UDPP(4500, 4500, keepalive) } },
	{ "wg_init6", .spec = { S6(14), UDPP(51820, 51820, wg_init) } },
	{ "wg_data_pppoe", .spec = { S4(15), UDPP(51820, 51820, wg_data),
				     .carrier = FRAME_CARRIER_PPPOE } },

	/* tunnels, the incident inside */
	{ "vxlan4_esp", .spec = { OUTER4 }, W_VXLAN, &inner_esp_eth },
	{ "vxlan6_esp", .spec = { OUTER6 }, W_VXLAN, &inner_esp_eth },
	{ "vxlan4_vlan_esp", .spec = { OUTER4, .nvlan = 1, .vlan = { VLAN(100) } },
	  W_VXLAN, &inner_esp_vlan_eth },
	{ "geneve4_esp", .spec = { OUTER4 }, W_GENEVE, &inner_esp_eth },
	{ "geneve6_opt_esp", .spec = { OUTER6 }, W_GENEVE_OPT, &inner_esp_eth },
	{ "geneve4_ip", .spec = { OUTER4 }, W_GENEVE_IP, &inner_esp },
	{ "gtpu4_esp", .spec = { OUTER4 }, W_GTPU, &inner_esp },
	{ "gtpu6_tcp6", .spec = { OUTER6 }, W_GTPU, &inner_tcp6 },
	{ "gtpu4_seq_esp", .spec = { OUTER4 }, W_GTPU_SEQ, &inner_esp },
	{ "gtpu4_ext_ping6", .spec = { OUTER4 }, W_GTPU_EXT, &inner_ping6 },
	{ "gtpu6_ext2_esp", .spec = { OUTER6 }, W_GTPU_EXT2, &inner_esp },
	{ "gtpu4_echo", .spec = { OUTER4 }, W_GTPU_ECHO },
	{ "gtpu6_end_marker", .spec = { OUTER6 }, W_GTPU_END },
	{ "udp2152_gtpv2", .spec = { S4(16), UDPP(2152, 2152, gtpv2) } },
	{ "udp2152_gtp_prime", .spec = { S6(17), UDPP(40000, 2152, gtp_prime) } },
	/* GTP-U cut: in its header (IPv4 outer: GTP-U from byte 42), in the
	 * sequence number, in the extension header, right after the header,
	 * in the inner IP header and in the inner ESP header */
	{ "gtpu4_cut45", .spec = { OUTER4 }, W_GTPU, &inner_esp, .cap = 45 },
	{ "gtpu4_seq_cut52", .spec = { OUTER4 }, W_GTPU_SEQ, &inner_esp, .cap = 52 },
	{ "gtpu4_ext_cut56", .spec = { OUTER4 }, W_GTPU_EXT, &inner_ping6, .cap = 56 },
	{ "gtpu4_cut50", .spec = { OUTER4 }, W_GTPU, &inner_esp, .cap = 50 },
	{ "gtpu4_cut60", .spec = { OUTER4 }, W_GTPU, &inner_esp, .cap = 60 },
	{ "gtpu4_cut74", .spec = { OUTER4 }, W_GTPU, &inner_esp, .cap = 74 },
	{ "gre4_key_seq_esp", .spec = { OUTER4 }, W_GRE_KEY, &inner_esp },
	{ "gre6_key_seq_ping6", .spec = { OUTER6 }, W_GRE_KEY, &inner_ping6 },
	{ "gre4_csum_esp", .spec = { OUTER4 }, W_GRE_CSUM, &inner_esp },
	{ "gre4_teb_esp", .spec = { OUTER4 }, W_GRE_TEB, &inner_esp_eth },
	{ "vxlan4_natt", .spec = { OUTER4 }, W_VXLAN, &inner_natt_eth },
	{ "vxlan4_tcp", .spec = { OUTER4 }, W_VXLAN, &inner_tcp_eth },
	{ "geneve4_esp6", .spec = { OUTER4 }, W_GENEVE, &inner_esp6_eth },
	{ "mpls0_esp4", .spec = { ETH }, W_MPLS0, &inner_esp },
	{ "mpls_vxlan4_esp", .spec = { OUTER4, .carrier = FRAME_CARRIER_MPLS, .nmpls = 2 },
	  W_VXLAN, &inner_esp_eth },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* The tunnel header for c->wrap into hdr; returns its length and sets
 * the UDP port (0: GRE, an IP protocol). */
static size_t tunnel_hdr(const struct ecase *c, uint8_t *hdr, uint16_t *port,
			 uint16_t *gre_proto)
{
	memset(hdr, 0, 32);
	*port = 0;
	switch (c->wrap) {
	case W_VXLAN:
		*port = 4789;
		hdr[0] = 0x08;
		put32(hdr + 4, 100 << 8);
		return 8;
	case W_GENEVE:
	case W_GENEVE_IP:
		*port = 6081;
		put16(hdr + 2, c->wrap == W_GENEVE ? 0x6558 : 0x0800);
		put32(hdr + 4, 100 << 8);
		return 8;
	case W_GENEVE_OPT:
		*port = 6081;
		hdr[0] = 2;	/* 2 words of options */
		put16(hdr + 2, 0x6558);
		put32(hdr + 4, 100 << 8);
		put16(hdr + 8, 0x0104);	/* option class */
		hdr[10] = 0x01;		/* type */
		hdr[11] = 1;		/* 1 word of data */
		put32(hdr + 12, 0xdeadbeef);
		return 16;
	case W_GTPU:
		*port = 2152;
		hdr[0] = 0x30;		/* version 1, PT 1 */
		hdr[1] = 0xff;		/* G-PDU */
		put32(hdr + 4, 0x1234);
		return 8;
	case W_GTPU_SEQ:
		*port = 2152;
		hdr[0] = 0x32;		/* S */
		hdr[1] = 0xff;
		put32(hdr + 4, 0x1234);
		put16(hdr + 8, 7);
		return 12;
	case W_GTPU_EXT:
	case W_GTPU_EXT2:
		*port = 2152;
		hdr[0] = 0x34;		/* E */
		hdr[1] = 0xff;
		put32(hdr + 4, 0x1234);
		hdr[11] = 0x85;		/* PDU session container */
		hdr[12] = 1;		/* 4 bytes */
		hdr[13] = 0x10;		/* uplink */
		hdr[14] = 9;		/* QFI */
		if (c->wrap == W_GTPU_EXT)
			return 16;
		hdr[15] = 0x40;		/* UDP port */
		hdr[16] = 1;
		put16(hdr + 17, 2152);
		return 20;
	case W_GTPU_ECHO:
		*port = 2152;
		hdr[0] = 0x32;		/* S */
		hdr[1] = 1;		/* echo request */
		put16(hdr + 8, 1);
		return 12;
	case W_GTPU_END:
		*port = 2152;
		hdr[0] = 0x30;
		hdr[1] = 254;		/* end marker */
		put32(hdr + 4, 0x1234);
		return 8;
	case W_GRE_KEY:
		put16(hdr, 0x3000);	/* K, S */
		put16(hdr + 2, *gre_proto);
		put32(hdr + 4, 0x2a);
		put32(hdr + 8, 5);
		return 12;
	case W_GRE_CSUM:
		put16(hdr, 0x8000);	/* C */
		put16(hdr + 2, *gre_proto);
		put16(hdr + 4, 0x1234);	/* not checked without -v */
		return 8;
	case W_GRE_TEB:
		put16(hdr, 0x2000);	/* K */
		put16(hdr + 2, 0x6558);
		put32(hdr + 4, 7);
		return 8;
	case W_MPLS0:
		put32(hdr, 1u << 8 | 64);	/* label 0, S, TTL 64 */
		return 4;
	case W_NONE:
		break;
	}
	return 0;
}

/* Builds case c into buf; returns the frame's length or -1. */
static int build(const struct ecase *c, uint8_t *buf, size_t cap)
{
	static uint8_t payload[BUF_MAX];
	struct frame_spec s = c->spec;
	uint16_t port, gre_proto;
	size_t hl;
	int n;

	if (c->frame) {
		const struct frame_case *fc = frame_case_find(c->frame);
		struct frame_addrs a = { .has_dst4 = true, .has_dst6 = true,
			.dst4 = { 10, 20, 0, 0 },
			.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20 } };

		if (!fc)
			return -1;
		/* a destination of its own: 10.20.0.(index + 1) */
		a.dst4[3] = (uint8_t)(c - cases + 1);
		a.dst6[15] = (uint8_t)(c - cases + 1);
		return frame_case_build(fc, &a, buf, cap);
	}
	if (c->wrap == W_NONE)
		return frame_build(&s, buf, cap);
	gre_proto = c->inner && c->inner->l3 == FRAME_L3_IPV6 ? 0x86dd : 0x0800;
	hl = tunnel_hdr(c, payload, &port, &gre_proto);
	if (!c->inner)
		n = 0;		/* a message with no packet */
	else if (c->inner->nvlan || c->inner->dst_mac[0])
		n = frame_build(c->inner, payload + hl, sizeof(payload) - hl);
	else {
		/* an IP packet: build it behind a dummy Ethernet header */
		struct frame_spec in = *c->inner;
		uint8_t tmp[BUF_MAX];

		n = frame_build(&in, tmp, sizeof(tmp));
		if (n < ETH_HLEN)
			return -1;
		n -= ETH_HLEN;
		memcpy(payload + hl, tmp + ETH_HLEN, n);
	}
	if (n < 0)
		return -1;
	if (port == 2152)
		put16(payload + 2, n + hl - 8);	/* GTP length: after 8 bytes */
	s.payload = payload;
	s.payload_len = hl + n;
	if (c->wrap == W_MPLS0) {
		s.l3 = FRAME_L3_NONE;
		s.ethertype = 0x8847;
	} else if (port) {
		s.l4 = FRAME_L4_UDP;
		s.sport = port == 2152 ? 2152 : 49999;
		s.dport = port;
	} else {
		s.l4 = FRAME_L4_RAW;
		s.proto = 47;
	}
	return frame_build(&s, buf, cap);
}

int main(int argc, char **argv)
{
	static uint8_t buf[BUF_MAX];
	pcap_dumper_t *d;
	pcap_t *p;
	long snap;
	char line[1024];
	enum evidence_end end;

	if (argc == 3 && !strcmp(argv[2], "alert"))
		snap = PM_SNAP_LEN;
	else if (argc != 3 || (snap = strtol(argv[2], NULL, 10)) < 0) {
		fprintf(stderr, "usage: evidence_cases OUT.pcap SNAP\n");
		return 2;
	}
	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = p ? pcap_dump_open(p, argv[1]) : NULL;
	if (!d) {
		fprintf(stderr, "evidence_cases: %s: cannot write\n", argv[1]);
		return 1;
	}
	for (size_t i = 0; i < NCASES; i++) {
		struct pcap_pkthdr h = { .ts = { .tv_sec = i + 1 } };
		int n = build(&cases[i], buf, sizeof(buf));

		if (n < 0) {
			fprintf(stderr, "evidence_cases: %s: cannot build\n", cases[i].name);
			return 1;
		}
		n -= cases[i].short_by;
		h.len = n;
		h.caplen = snap && snap < n ? snap : n;
		if (cases[i].cap && cases[i].cap < (int)h.caplen)
			h.caplen = cases[i].cap;
		pcap_dump((u_char *)d, &h, buf);
		end = evidence_line(buf, h.caplen, h.len, line, sizeof(line));
		printf("%s\t%s\t%s\n", cases[i].name, end == EVIDENCE_FULL ? "eq" :
		       end == EVIDENCE_PREFIX ? "prefix" :
		       end == EVIDENCE_EXTENDED ? "ext" : "none", line);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}
