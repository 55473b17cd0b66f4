/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One parser for every hook: it works over (data, data_end), so the XDP
 * program, the tc programs and BPF_PROG_TEST_RUN all run the same code.
 *
 * Each step reads through a header cursor, checks the header fits before
 * touching it, and returns the next protocol. The result is either a
 * protocol class (with the destination, the header length, and for ESP
 * and AH the SPI and sequence number) or a reason the frame was not
 * classified (enum pm_reason).
 *
 * Carriers are peeled: behind Ethernet and up to two VLAN tags, an MPLS
 * label stack (up to PM_MAX_MPLS labels) or a PPPoE session header leads
 * to the IP packet, which is then parsed as if it were the frame's own.
 *
 * Tunnels are not peeled by parse_frame(): the frame counts under the
 * tunnel's class (gre, ipip, ipv6_encap, vxlan, geneve, gtp_u), and
 * parse_tunnel() then reads the packet it carries, one level deep, for
 * --decap to count under its own destination.
 */
#ifndef PARSE_BPF_H
#define PARSE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "protomix.h"

/* UAPI constants that vmlinux.h does not carry (it has no #defines). */
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define ETH_P_MPLS_UC	0x8847
#define ETH_P_MPLS_MC	0x8848
#define ETH_P_PPP_DISC	0x8863	/* PPPoE discovery: stays non_ip */
#define ETH_P_PPP_SES	0x8864
#define ETH_P_MACSEC	0x88E5
#define PPP_IP		0x0021
#define PPP_IPV6	0x0057
#define PPPOE_VER_TYPE	0x11	/* version 1, type 1 (RFC 2516) */
#define PPPOE_CODE_SESS	0x00
#define IP_MF		0x2000
#define IP_OFFSET	0x1FFF

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_ICMPV6_		58
#define IPPROTO_DSTOPTS_	60

#define PORT_IKE	500
#define PORT_NATT	4500
#define PORT_VXLAN	4789	/* RFC 7348: the destination port */
#define PORT_GENEVE	6081	/* RFC 8926: the destination port */
#define PORT_GTPU	2152	/* 3GPP TS 29.281: either port */
#define ETH_P_TEB	0x6558	/* transparent Ethernet bridging */

/* WireGuard's messages (the protocol's whitepaper, section 5.4): a type
 * byte, three zero bytes, and a fixed UDP payload length per type; transport
 * data is a 16-byte header and a multiple of 16 bytes (padded plaintext and
 * its 16-byte tag), 32 at least. */
#define WG_HANDSHAKE_INIT	1
#define WG_HANDSHAKE_RESP	2
#define WG_COOKIE_REPLY		3
#define WG_TRANSPORT_DATA	4
#define WG_INIT_LEN		148
#define WG_RESP_LEN		92
#define WG_COOKIE_LEN		64
#define WG_DATA_MIN_LEN		32
#define WG_DATA_ALIGN		16

struct hdr_cursor {
	void *pos;
};

struct pkt_info {
	struct pm_dest_key dst;
	struct pm_dest_key src;
	__u32 spi;		/* ESP/AH/esp_udp, host order; 0 if none */
	__u16 sport, dport;	/* TCP/UDP, host order */
	__u32 seq;
	__u16 l3_off;		/* offset of the IP header in the frame */
	__u16 ip_len;		/* IPv4 total length, IPv6 payload length + 40 */
	__u16 l4_off;		/* end of the IP header and its extensions */
	__u16 hdr_len;		/* end of the TCP/UDP header, else of the IP
				 * header: what each GSO segment repeats */
	__u8 class;		/* enum pm_class */
	__u8 l4proto;		/* IP protocol / final next header */
	__u8 is_v6;
	__u8 vlans;		/* tags parsed in the frame */
	__u8 nonfirst;		/* a non-first fragment: no L4 header */
};

/* Returns the class of an IP protocol number, before looking at ports. */
static __always_inline __u8 proto_class(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:	return PM_C_TCP;
	case IPPROTO_UDP:	return PM_C_UDP;
	case IPPROTO_ICMP:	return PM_C_ICMP;
	case IPPROTO_ICMPV6_:	return PM_C_ICMP6;
	case IPPROTO_SCTP:	return PM_C_SCTP;
	case IPPROTO_ESP:	return PM_C_ESP;
	case IPPROTO_AH:	return PM_C_AH;
	case IPPROTO_GRE:	return PM_C_GRE;
	case IPPROTO_IPIP:	return PM_C_IPIP;
	case IPPROTO_IPV6:	return PM_C_IPV6_ENCAP;
	default:		return PM_C_OTHER;
	}
}

/* Ethernet and up to PM_MAX_VLAN tags, minus those the kernel already
 * stripped into skb metadata (tc). Returns the ethertype in network
 * order, or 0 with *reason set. */
static __always_inline __be16 parse_eth(struct hdr_cursor *nh, void *data_end,
					 __u8 stripped, struct pkt_info *pi,
					 int *reason)
{
	struct ethhdr *eth = nh->pos;
	struct vlan_hdr *vh;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > data_end) {
		*reason = PM_R_ETH_TRUNC;
		return 0;
	}
	nh->pos = eth + 1;
	proto = eth->h_proto;

#pragma unroll
	for (i = 0; i < PM_MAX_VLAN + 1; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			return proto;
		if (i + stripped >= PM_MAX_VLAN) {
			*reason = PM_R_VLAN_DEPTH;
			return 0;
		}
		vh = nh->pos;
		if ((void *)(vh + 1) > data_end) {
			*reason = PM_R_VLAN_TRUNC;
			return 0;
		}
		nh->pos = vh + 1;
		proto = vh->h_vlan_encapsulated_proto;
		pi->vlans++;
	}
	return proto;	/* not reached: the loop returns */
}

/* The longest carrier: Ethernet, PM_MAX_VLAN tags and PM_MAX_MPLS labels
 * (54 bytes), under a mask of low bits. */
#define CARRIER_OFF_MASK	0x3f
_Static_assert(14 + PM_MAX_VLAN * 4 + PM_MAX_MPLS * 4 <= CARRIER_OFF_MASK,
	       "CARRIER_OFF_MASK holds the longest carrier");

/* The verifier follows each carrier path with its own constant packet
 * offset (3 tag counts times 8 label depths, and PPPoE) and would walk the
 * IP and transport parsers once per offset. Past a carrier, the offset is
 * turned into one it cannot tell apart on any path (0-63, adding and taking
 * away a packet byte it cannot know), so the walks after it are pruned.
 * The value is unchanged. */
static __always_inline void *carrier_merge(void *data, void *pos, __u8 noise)
{
	__u64 off = pos - data;

	asm volatile("%0 += %1; %0 -= %1; %0 &= %2"
		     : "+r"(off) : "r"((__u64)noise), "i"(CARRIER_OFF_MASK));
	return data + off;
}

/* An MPLS label stack entry (RFC 3032): label 20 bits, traffic class 3,
 * bottom of stack 1, TTL 8; network order. */
#define MPLS_BOS_BYTE	2	/* the byte holding the S bit */
#define MPLS_BOS_BIT	0x01

/* What comes after a header that names no protocol (MPLS, GTP-U): IP by
 * the version nibble of its first byte. Its ethertype in network order,
 * or 0 with *reason = other. */
static __always_inline __be16 ip_by_version(__u8 first, int *reason, int other)
{
	switch (first >> 4) {
	case 4:
		return bpf_htons(ETH_P_IP);
	case 6:
		return bpf_htons(ETH_P_IPV6);
	default:
		*reason = other;
		return 0;
	}
}

/* An MPLS label stack of up to PM_MAX_MPLS labels. What follows the
 * bottom of the stack carries no type (RFC 4182): its first nibble says,
 * 4 for IPv4 and 6 for IPv6; anything else (0 is a pseudowire control
 * word, RFC 4385) is mpls_other. Returns the ethertype of the IP inside,
 * in network order, or 0 with *reason set. */
static __always_inline __be16 parse_mpls(struct hdr_cursor *nh, void *data_end,
					  int *reason)
{
	__u8 *lse, *ip;
	int i;

#pragma unroll
	for (i = 0; i < PM_MAX_MPLS; i++) {
		lse = nh->pos;
		if ((void *)(lse + sizeof(__be32)) > data_end) {
			*reason = PM_R_MPLS_TRUNC;
			return 0;
		}
		nh->pos = lse + sizeof(__be32);
		if (lse[MPLS_BOS_BYTE] & MPLS_BOS_BIT)
			break;
	}
	if (i == PM_MAX_MPLS) {
		*reason = PM_R_MPLS_DEPTH;
		return 0;
	}
	ip = nh->pos;
	if ((void *)(ip + 1) > data_end) {
		*reason = PM_R_MPLS_TRUNC;
		return 0;
	}
	return ip_by_version(*ip, reason, PM_R_MPLS_OTHER);
}

struct pppoe_ses_hdr {	/* RFC 2516 section 4, then PPP's protocol field */
	__u8 ver_type;
	__u8 code;
	__be16 session;
	__be16 length;	/* of the PPPoE payload: the PPP frame */
	__be16 ppp_proto;
};

/* A PPPoE session header and the PPP protocol. Returns the ethertype of
 * the IP inside, in network order, or 0 with *reason set. */
static __always_inline __be16 parse_pppoe(struct hdr_cursor *nh, void *data_end,
					   int *reason)
{
	struct pppoe_ses_hdr *ph = nh->pos;

	if ((void *)(ph + 1) > data_end) {
		*reason = PM_R_PPPOE_TRUNC;
		return 0;
	}
	if (ph->ver_type != PPPOE_VER_TYPE || ph->code != PPPOE_CODE_SESS ||
	    bpf_ntohs(ph->length) < sizeof(ph->ppp_proto)) {
		*reason = PM_R_PPPOE_BAD_HDR;
		return 0;
	}
	nh->pos = ph + 1;
	if (ph->ppp_proto == bpf_htons(PPP_IP))
		return bpf_htons(ETH_P_IP);
	if (ph->ppp_proto == bpf_htons(PPP_IPV6))
		return bpf_htons(ETH_P_IPV6);
	*reason = PM_R_PPPOE_OTHER;
	return 0;
}

/* After the VLAN tags, an ethertype that is not IP: the carriers peeled
 * (MPLS, PPPoE session), or the reason the frame ends here. Returns the
 * ethertype of the IP inside, or 0 with *reason set. */
static __always_inline __be16 parse_carrier(struct hdr_cursor *nh, void *data,
					     void *data_end, __be16 proto,
					     int *reason)
{
	/* Read the carrier through a pointer of its own, so that its bounds
	 * checks leave the frame pointer's known range as the VLAN tags left
	 * it: the paths meet the plain ones again after carrier_merge. */
	nh->pos = carrier_merge(data, nh->pos, *(__u8 *)data);
	switch (proto) {
	case bpf_htons(ETH_P_MPLS_UC):
	case bpf_htons(ETH_P_MPLS_MC):
		return parse_mpls(nh, data_end, reason);
	case bpf_htons(ETH_P_PPP_SES):
		return parse_pppoe(nh, data_end, reason);
	case bpf_htons(ETH_P_MACSEC):
		*reason = PM_R_MACSEC;
		return 0;
	default:
		*reason = PM_R_NON_IP;
		return 0;
	}
}

/* ::ffff:a.b.c.d in two word stores: bytes 8-11 are 00 00 ff ff, 12-15
 * the address as it sits in the packet. */
static __always_inline void addr4_key(struct pm_dest_key *k, __be32 a)
{
	k->w[0] = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	k->w[1] = (__u64)a << 32 | 0xffff0000ull;
#else
	k->w[1] = 0x0000ffff00000000ull | a;
#endif
}

/* IPv4 with options and fragments. Returns the IP protocol, or -1. The
 * caller learns from *nonfirst whether L4 headers are there at all. */
static __always_inline int parse_ipv4(struct hdr_cursor *nh, void *data_end,
				      struct pkt_info *pi, bool *nonfirst,
				      int *reason)
{
	struct iphdr *iph = nh->pos;
	__u32 hlen;

	if ((void *)(iph + 1) > data_end) {
		*reason = PM_R_IP4_TRUNC;
		return -1;
	}
	if (iph->version != 4 || iph->ihl < 5) {
		*reason = PM_R_IP4_BAD_HDR;
		return -1;
	}
	hlen = iph->ihl * 4;
	if (nh->pos + hlen > data_end) {
		*reason = PM_R_IP4_TRUNC;
		return -1;
	}
	pi->ip_len = bpf_ntohs(iph->tot_len);
	addr4_key(&pi->dst, iph->daddr);
	addr4_key(&pi->src, iph->saddr);
	*nonfirst = (iph->frag_off & bpf_htons(IP_OFFSET)) != 0;
	nh->pos += hlen;
	return iph->protocol;
}

/* IPv6 and its extension header chain: hop-by-hop, routing, fragment and
 * destination options, at most PM_MAX_IP6_EXT of them. AH anywhere in the
 * chain ends the walk (class ah). Returns the final next header, or -1. */
static __always_inline int parse_ipv6(struct hdr_cursor *nh, void *data_end,
				      struct pkt_info *pi, bool *nonfirst,
				      int *reason)
{
	struct ipv6hdr *ip6h = nh->pos;
	struct ipv6_opt_hdr *eh;
	struct frag_hdr *fh;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6h + 1) > data_end) {
		*reason = PM_R_IP6_TRUNC;
		return -1;
	}
	if (ip6h->version != 6) {
		*reason = PM_R_IP6_BAD_HDR;
		return -1;
	}
	__builtin_memcpy(pi->dst.addr, &ip6h->daddr, 16);
	__builtin_memcpy(pi->src.addr, &ip6h->saddr, 16);
	pi->is_v6 = 1;
	/* payload length 0: a jumbogram or a BIG TCP GSO packet; the frame
	 * says how long it is */
	pi->ip_len = ip6h->payload_len ?
		     bpf_ntohs(ip6h->payload_len) + sizeof(*ip6h) : 0;
	nh->pos = ip6h + 1;
	nexthdr = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < PM_MAX_IP6_EXT + 1; i++) {
		switch (nexthdr) {
		case IPPROTO_HOPOPTS_:
		case IPPROTO_ROUTING_:
		case IPPROTO_DSTOPTS_:
			break;
		case IPPROTO_FRAGMENT_:
			break;
		default:
			return nexthdr;	/* AH included: the caller reads it */
		}
		if (i == PM_MAX_IP6_EXT) {
			*reason = PM_R_IP6_EXT_DEPTH;
			return -1;
		}
		if (nexthdr == IPPROTO_FRAGMENT_) {
			fh = nh->pos;
			if ((void *)(fh + 1) > data_end) {
				*reason = PM_R_IP6_EXT_TRUNC;
				return -1;
			}
			nh->pos = fh + 1;
			nexthdr = fh->nexthdr;
			/* frag_off: offset in the top 13 bits, low 3 flags */
			if (fh->frag_off & bpf_htons(0xFFF8)) {
				*nonfirst = true;
				return nexthdr;
			}
			continue;
		}
		eh = nh->pos;
		if ((void *)(eh + 1) > data_end) {
			*reason = PM_R_IP6_EXT_TRUNC;
			return -1;
		}
		if (nh->pos + (eh->hdrlen + 1) * 8 > data_end) {
			*reason = PM_R_IP6_EXT_TRUNC;
			return -1;
		}
		nexthdr = eh->nexthdr;
		nh->pos += (eh->hdrlen + 1) * 8;
	}
	return -1;	/* not reached */
}

struct ipsec_hdr {	/* the SPI and sequence number of ESP, or ESP in UDP */
	__be32 spi;
	__be32 seq;
};

struct ah_hdr {
	__u8 nexthdr;
	__u8 hdrlen;	/* in 4-byte units, minus 2 */
	__be16 reserved;
	__be32 spi;
	__be32 seq;
};

/* Whether a UDP payload of plen bytes at pos is a WireGuard message: by
 * its header and its length, whatever the ports. */
static __always_inline bool is_wireguard(void *pos, void *data_end, __u16 plen)
{
	__u8 *m = pos;

	if ((void *)(m + sizeof(__u32)) > data_end)
		return false;
	if (m[1] | m[2] | m[3])
		return false;
	switch (m[0]) {
	case WG_HANDSHAKE_INIT:
		return plen == WG_INIT_LEN;
	case WG_HANDSHAKE_RESP:
		return plen == WG_RESP_LEN;
	case WG_COOKIE_REPLY:
		return plen == WG_COOKIE_LEN;
	case WG_TRANSPORT_DATA:
		return plen >= WG_DATA_MIN_LEN && !(plen & (WG_DATA_ALIGN - 1));
	default:
		return false;
	}
}

/* GTPv1 (3GPP TS 29.060, 29.281): version 1 in the top 3 bits of the
 * first byte, then the protocol type bit (1: GTP, 0: GTP'). */
#define GTP_V1_PT_MASK	0xf0
#define GTP_V1_PT	0x30

/* UDP that neither port 500 nor 4500 decides, with a payload of plen
 * bytes (the UDP length's) at nh->pos: vxlan and geneve by their
 * destination port, gtp_u by either port and a GTPv1 header, wireguard by
 * its header, else udp. A payload byte the check needs that the UDP
 * length promises but the frame does not hold (at tc: not in the skb's
 * linear part, which is then pulled in) is l4_trunc, never a guess.
 * Returns -1 with the class set, or a reason. */
static __always_inline int udp_payload_class(struct hdr_cursor *nh,
					     void *data_end,
					     struct pkt_info *pi, __u16 plen)
{
	__u8 *m = nh->pos;

	if (pi->dport == PORT_VXLAN) {
		pi->class = PM_C_VXLAN;
		return -1;
	}
	if (pi->dport == PORT_GENEVE) {
		pi->class = PM_C_GENEVE;
		return -1;
	}
	if (plen && (pi->sport == PORT_GTPU || pi->dport == PORT_GTPU)) {
		if ((void *)(m + 1) > data_end)
			return PM_R_L4_TRUNC;
		if ((*m & GTP_V1_PT_MASK) == GTP_V1_PT) {
			pi->class = PM_C_GTP_U;
			return -1;
		}
	}
	if (plen >= sizeof(__u32) && (void *)(m + sizeof(__u32)) > data_end)
		return PM_R_L4_TRUNC;
	pi->class = is_wireguard(m, data_end, plen) ? PM_C_WIREGUARD : PM_C_UDP;
	return -1;
}

/* UDP: ike, esp_udp (NAT-T, RFC 3948), then the tunnels by their ports,
 * wireguard or plain udp. Ports 500 and 4500 decide first; WireGuard is
 * known by its header, not its port. */
static __always_inline int parse_udp(struct hdr_cursor *nh, void *data_end,
				     struct pkt_info *pi)
{
	struct udphdr *uh = nh->pos;
	struct ipsec_hdr *ih;
	__u16 sport, dport, ulen;

	if ((void *)(uh + 1) > data_end)
		return PM_R_L4_TRUNC;
	ulen = bpf_ntohs(uh->len);
	if (ulen < sizeof(*uh))
		return PM_R_L4_BAD_HDR;
	nh->pos = uh + 1;
	sport = bpf_ntohs(uh->source);
	dport = bpf_ntohs(uh->dest);
	pi->sport = sport;
	pi->dport = dport;

	if (sport == PORT_IKE || dport == PORT_IKE) {
		pi->class = PM_C_IKE;
		return -1;
	}
	if (sport != PORT_NATT && dport != PORT_NATT)
		return udp_payload_class(nh, data_end, pi, ulen - sizeof(*uh));
	/* Port 4500: a payload under 4 bytes is a NAT keepalive, a zero
	 * first word is the non-ESP marker of IKE; anything else is ESP. */
	if (ulen - sizeof(*uh) < 4) {
		pi->class = PM_C_IKE;
		return -1;
	}
	ih = nh->pos;
	if ((void *)&ih->spi + sizeof(ih->spi) > data_end)
		return PM_R_L4_TRUNC;
	if (ih->spi == 0) {
		pi->class = PM_C_IKE;
		return -1;
	}
	if ((void *)(ih + 1) > data_end)
		return PM_R_L4_TRUNC;
	pi->class = PM_C_ESP_UDP;
	pi->spi = bpf_ntohl(ih->spi);
	pi->seq = bpf_ntohl(ih->seq);
	return -1;
}

/* The transport (or tunnel) header. Returns -1 when the class is set, or
 * a reason. A non-first fragment has no header: it counts under its IP
 * protocol. */
static __always_inline int parse_l4(struct hdr_cursor *nh, void *data_end,
				    __u8 proto, bool nonfirst,
				    struct pkt_info *pi)
{
	struct tcphdr *th;
	struct ipsec_hdr *eh;
	struct ah_hdr *ah;

	pi->l4proto = proto;
	pi->class = proto_class(proto);
	pi->nonfirst = nonfirst;
	if (nonfirst)
		return -1;

	switch (proto) {
	case IPPROTO_TCP:
		th = nh->pos;
		if ((void *)(th + 1) > data_end)
			return PM_R_L4_TRUNC;
		if (th->doff < 5)
			return PM_R_L4_BAD_HDR;
		if (nh->pos + th->doff * 4 > data_end)
			return PM_R_L4_TRUNC;
		pi->sport = bpf_ntohs(th->source);
		pi->dport = bpf_ntohs(th->dest);
		nh->pos += th->doff * 4;
		return -1;
	case IPPROTO_UDP:
		return parse_udp(nh, data_end, pi);
	case IPPROTO_ESP:
		eh = nh->pos;
		if ((void *)(eh + 1) > data_end)
			return PM_R_L4_TRUNC;
		pi->spi = bpf_ntohl(eh->spi);
		pi->seq = bpf_ntohl(eh->seq);
		return -1;
	case IPPROTO_AH:
		ah = nh->pos;
		if ((void *)(ah + 1) > data_end)
			return PM_R_L4_TRUNC;
		if (ah->hdrlen < 1)	/* 12 bytes at least: (1 + 2) * 4 */
			return PM_R_L4_BAD_HDR;
		pi->spi = bpf_ntohl(ah->spi);
		pi->seq = bpf_ntohl(ah->seq);
		return -1;
	default:
		return -1;
	}
}

/* The IP packet at nh->pos (eth_type: IPv4 or IPv6, network order) and
 * its transport header. Returns -1 with pi filled in (l3_off, l4_off,
 * hdr_len, the class, addresses, SPI/seq), or a reason. */
static __always_inline int parse_ip(struct hdr_cursor *nh, void *data,
				    void *data_end, __be16 eth_type,
				    struct pkt_info *pi)
{
	bool nonfirst = false;
	int reason = PM_R_NON_IP;
	int proto;

	pi->l3_off = nh->pos - data;
	if (eth_type == bpf_htons(ETH_P_IP))
		proto = parse_ipv4(nh, data_end, pi, &nonfirst, &reason);
	else
		proto = parse_ipv6(nh, data_end, pi, &nonfirst, &reason);
	if (proto < 0)
		return reason;
	pi->l4_off = nh->pos - data;

	reason = parse_l4(nh, data_end, proto, nonfirst, pi);
	if (reason >= 0)
		return reason;
	pi->hdr_len = nh->pos - data;
	return -1;
}

/* Parse one frame. Returns -1 with pi filled in (class, addresses,
 * l3_off, hdr_len, SPI/seq), or a reason (enum pm_reason). */
static __always_inline int parse_frame(void *data, void *data_end,
				       __u8 stripped_vlans, struct pkt_info *pi)
{
	struct hdr_cursor nh = { .pos = data };
	int reason = PM_R_NON_IP;
	__be16 eth_type;

	eth_type = parse_eth(&nh, data_end, stripped_vlans, pi, &reason);
	if (!eth_type)
		return reason;
	if (eth_type != bpf_htons(ETH_P_IP) && eth_type != bpf_htons(ETH_P_IPV6)) {
		eth_type = parse_carrier(&nh, data, data_end, eth_type, &reason);
		if (!eth_type)
			return reason;
	}
	/* the first byte of the Ethernet header, read already */
	nh.pos = carrier_merge(data, nh.pos, *(__u8 *)data);
	return parse_ip(&nh, data, data_end, eth_type, pi);
}

/* ---- tunnels: the packet inside, one level deep (--decap) ---------- */

/* Where a tunnel's header and the IP header inside may start: past
 * byte 4095 of the frame (IPv6 extensions, Geneve options or GTP-U
 * extensions of kilobytes before them), tun_trunc. Low bits, as a mask. */
#define TUN_OFF_MASK	0xfff

/* The tunnel's offset, made one the verifier cannot tell apart on any
 * path (as carrier_merge does), so that the inner parse is walked once,
 * not once per outer header layout. The value is unchanged. */
static __always_inline void *tunnel_merge(void *data, __u32 off, __u8 noise)
{
	__u64 o = off;

	asm volatile("%0 += %1; %0 -= %1; %0 &= %2"
		     : "+r"(o) : "r"((__u64)noise), "i"(TUN_OFF_MASK));
	return data + o;
}

struct vxlan_hdr_ {	/* RFC 7348 section 5 */
	__u8 flags;	/* 0x08: I, the VNI is valid */
	__u8 reserved1[3];
	__u8 vni[3];
	__u8 reserved2;
};
#define VXLAN_FLAG_I	0x08

struct geneve_hdr_ {	/* RFC 8926 section 3.4 */
	__u8 ver_optlen;	/* version (2 bits), options length (6 bits,
				 * in 4-byte words) */
	__u8 flags;		/* O, C */
	__be16 proto;		/* an ethertype; 0x6558: Ethernet */
	__u8 vni[3];
	__u8 reserved;
};
#define GENEVE_VER_SHIFT	6
#define GENEVE_OPTLEN_MASK	0x3f

struct gtpu_hdr {	/* 3GPP TS 29.281 section 5.1 */
	__u8 flags;		/* version 3, PT 1, spare 1, E S PN */
	__u8 type;		/* message type; 0xff: G-PDU (user data) */
	__be16 length;
	__be32 teid;
};
#define GTP_FLAGS_OPT	0x07	/* E, S or PN: the 4 optional bytes follow */
#define GTP_FLAG_E	0x04	/* extension headers follow */
#define GTP_OPT_LEN	4	/* sequence (2), N-PDU (1), next extension (1) */
#define GTP_TYPE_GPDU	0xff

struct gre_base_hdr_ {	/* RFC 2784, RFC 2890; version 1: RFC 2637 */
	__be16 flags;
	__be16 proto;
};
#define GRE_F_CSUM	0x8000	/* C: checksum and reserved, 4 bytes */
#define GRE_F_ROUTING	0x4000	/* R: routing (RFC 1701), not handled */
#define GRE_F_KEY	0x2000	/* K: 4 bytes */
#define GRE_F_SEQ	0x1000	/* S: 4 bytes */
#define GRE_VERSION	0x0007
#define GRE_V1_PPTP	1

/* What a tunnel header that names its payload by ethertype (Geneve,
 * GRE) may carry: Ethernet (0x6558), IPv4 or IPv6, returned as it is;
 * anything else is tun_other (0). */
static __always_inline __be16 tun_inner_proto(__be16 proto, int *reason)
{
	switch (proto) {
	case bpf_htons(ETH_P_TEB):
	case bpf_htons(ETH_P_IP):
	case bpf_htons(ETH_P_IPV6):
		return proto;
	default:
		*reason = PM_R_TUN_OTHER;
		return 0;
	}
}

/* What a tunnel header says it carries: an ethertype (IPv4, IPv6, or
 * ETH_P_TEB for an Ethernet frame), in network order, or 0 with *reason
 * set. Each reads from nh->pos and leaves it after the header. */

static __always_inline __be16 tun_vxlan(struct hdr_cursor *nh, void *data_end,
					int *reason)
{
	struct vxlan_hdr_ *vh = nh->pos;

	if ((void *)(vh + 1) > data_end) {
		*reason = PM_R_TUN_TRUNC;
		return 0;
	}
	if (!(vh->flags & VXLAN_FLAG_I)) {
		*reason = PM_R_TUN_BAD_HDR;
		return 0;
	}
	nh->pos = vh + 1;
	return bpf_htons(ETH_P_TEB);
}

static __always_inline __be16 tun_geneve(struct hdr_cursor *nh, void *data_end,
					 int *reason)
{
	struct geneve_hdr_ *gh = nh->pos;
	__u32 optlen;

	if ((void *)(gh + 1) > data_end) {
		*reason = PM_R_TUN_TRUNC;
		return 0;
	}
	if (gh->ver_optlen >> GENEVE_VER_SHIFT) {
		*reason = PM_R_TUN_BAD_HDR;
		return 0;
	}
	optlen = (gh->ver_optlen & GENEVE_OPTLEN_MASK) * 4;
	if ((void *)(gh + 1) + optlen > data_end) {
		*reason = PM_R_TUN_TRUNC;
		return 0;
	}
	nh->pos = (void *)(gh + 1) + optlen;
	return tun_inner_proto(gh->proto, reason);
}

/* GTP-U: the 8-byte header, the 4 optional bytes when E, S or PN is set,
 * and with E the extension headers, up to PM_MAX_GTP_EXT of them (each
 * its length in 4-byte words first, its next type last; length 0:
 * tun_bad_hdr; a longer chain: tun_other). Only a G-PDU carries a user
 * packet: any other message type (echo, end marker, error indication) is
 * tun_other. The packet's first nibble says IPv4 or IPv6, else tun_other. */
static __always_inline __be16 tun_gtpu(struct hdr_cursor *nh, void *data_end,
				       int *reason)
{
	struct gtpu_hdr *gh = nh->pos;
	__u8 *p, next = 0;
	__u64 len;	/* 64 bits: 6.1's verifier loses a 32-bit len - 1 */
	int i;

	*reason = PM_R_TUN_TRUNC;
	if ((void *)(gh + 1) > data_end)
		return 0;
	if (gh->type != GTP_TYPE_GPDU) {
		*reason = PM_R_TUN_OTHER;
		return 0;
	}
	p = (void *)(gh + 1);
	if (gh->flags & GTP_FLAGS_OPT) {
		if ((void *)(p + GTP_OPT_LEN) > data_end)
			return 0;
		if (gh->flags & GTP_FLAG_E)	/* the next extension's type */
			next = p[GTP_OPT_LEN - 1];
		p += GTP_OPT_LEN;
	}
	for (i = 0; i < PM_MAX_GTP_EXT; i++) {	/* a bounded loop */
		if (!next)
			break;
		if ((void *)(p + 1) > data_end)
			return 0;
		len = *p * 4;
		if (!len) {
			*reason = PM_R_TUN_BAD_HDR;
			return 0;
		}
		p += len;
		/* the pointer checked is the one read through: the
		 * compiler may not compute it again, unknown to the
		 * verifier */
		asm volatile("" : "+r"(p));
		if ((void *)p > data_end)
			return 0;
		next = p[-1];	/* its last byte: the next type */
	}
	if (next) {
		*reason = PM_R_TUN_OTHER;
		return 0;
	}
	nh->pos = p;
	if ((void *)(p + 1) > data_end)
		return 0;
	return ip_by_version(*p, reason, PM_R_TUN_OTHER);
}

/* GRE version 0 with its checksum, key and sequence words; version 1
 * (PPTP, carrying PPP) is tun_other, any other version or the routing bit
 * tun_bad_hdr. */
static __always_inline __be16 tun_gre(struct hdr_cursor *nh, void *data_end,
				      int *reason)
{
	struct gre_base_hdr_ *gh = nh->pos;
	__u16 flags;
	__u32 len;

	if ((void *)(gh + 1) > data_end) {
		*reason = PM_R_TUN_TRUNC;
		return 0;
	}
	flags = bpf_ntohs(gh->flags);
	if ((flags & GRE_VERSION) == GRE_V1_PPTP) {
		*reason = PM_R_TUN_OTHER;
		return 0;
	}
	if ((flags & GRE_VERSION) || (flags & GRE_F_ROUTING)) {
		*reason = PM_R_TUN_BAD_HDR;
		return 0;
	}
	len = sizeof(*gh) + (flags & GRE_F_CSUM ? 4 : 0) +
	      (flags & GRE_F_KEY ? 4 : 0) + (flags & GRE_F_SEQ ? 4 : 0);
	if (nh->pos + len > data_end) {
		*reason = PM_R_TUN_TRUNC;
		return 0;
	}
	nh->pos += len;
	return tun_inner_proto(gh->proto, reason);
}

/* The packet inside a frame that parse_frame() counted under a tunnel
 * class (outer), one level deep: the tunnel's header, an Ethernet frame
 * with up to PM_MAX_VLAN tags when it carries one, then the IP packet
 * and its transport header, parsed as parse_frame() does (a tunnel class
 * inside is counted as such, not looked into). A non-first fragment of
 * the outer packet holds no tunnel header: tun_trunc. Returns -1 with pi
 * filled in (offsets from the frame's first byte), or a reason. */
static __always_inline int parse_tunnel(void *data, void *data_end,
					const struct pkt_info *outer,
					struct pkt_info *pi)
{
	struct hdr_cursor nh;
	int reason = PM_R_NON_IP;
	__u32 off = outer->l4_off;
	__be16 type;
	__u8 noise;

	if (outer->nonfirst)
		return PM_R_TUN_TRUNC;
	if (outer->l4proto == IPPROTO_UDP)
		off += sizeof(struct udphdr);
	if (off > TUN_OFF_MASK || data + 1 > data_end)
		return PM_R_TUN_TRUNC;
	noise = *(__u8 *)data;	/* a byte the verifier cannot know */
	nh.pos = tunnel_merge(data, off, noise);

	switch (outer->class) {
	case PM_C_IPIP:
		type = bpf_htons(ETH_P_IP);
		break;
	case PM_C_IPV6_ENCAP:
		type = bpf_htons(ETH_P_IPV6);
		break;
	case PM_C_GRE:
		type = tun_gre(&nh, data_end, &reason);
		break;
	case PM_C_VXLAN:
		type = tun_vxlan(&nh, data_end, &reason);
		break;
	case PM_C_GENEVE:
		type = tun_geneve(&nh, data_end, &reason);
		break;
	case PM_C_GTP_U:
		type = tun_gtpu(&nh, data_end, &reason);
		break;
	default:
		return PM_R_TUN_OTHER;
	}
	if (!type)
		return reason;
	if (type == bpf_htons(ETH_P_TEB)) {
		type = parse_eth(&nh, data_end, 0, pi, &reason);
		if (!type)
			return reason;
		if (type != bpf_htons(ETH_P_IP) && type != bpf_htons(ETH_P_IPV6))
			return PM_R_NON_IP;
	}
	off = nh.pos - data;
	if (off > TUN_OFF_MASK)
		return PM_R_TUN_TRUNC;
	nh.pos = tunnel_merge(data, off, noise);
	return parse_ip(&nh, data, data_end, type, pi);
}

#endif /* PARSE_BPF_H */
