// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The frame builder and the table of named cases (see frames.h).
 *
 * Each case states what bpf/parse.bpf.h and docs/classes.md's class table make
 * of it. Byte counts are written as sums of header sizes so they can be
 * checked by eye: IP header, extension headers, L4 header, payload.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "frames.h"
#include "classes.h"

#define ETH_HLEN	14
#define VLAN_HLEN	4
#define IP4_HLEN	20
#define IP6_HLEN	40
#define TCP_HLEN	20
#define UDP_HLEN	8
#define ICMP_HLEN	8
#define SCTP_HLEN	12
#define ESP_HLEN	8	/* spi, seq */
#define AH_LEN		24	/* 12 bytes and a 12-byte ICV (HMAC-SHA1-96) */
#define GRE_HLEN	4
#define EXT_LEN		8	/* the shortest IPv6 extension header */
#define MPLS_LSE_LEN	4	/* a label stack entry */
#define MPLS_CW_LEN	4	/* a pseudowire control word */
#define PPPOE_HLEN	8	/* session header (6) and PPP protocol (2) */
#define MPLS_LABEL0	16	/* the first label not reserved (RFC 3032) */
#define VXLAN_HLEN	8
#define GENEVE_HLEN	8
#define GTP_HLEN	8	/* and 4 optional bytes with E, S or PN */
#define GTP_EXT_LEN	4	/* a PDU session container (TS 38.415) */
#define PORT_VXLAN	4789
#define PORT_GENEVE	6081
#define PORT_GTPU	2152

/* ---- checksums ---------------------------------------------------- */

static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (n)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = (v >> 16) & 0xff;
	p[2] = (v >> 8) & 0xff;
	p[3] = v & 0xff;
}

/* Internet checksum of an L4 segment with the IPv4 or IPv6 pseudo-header. */
static uint16_t l4_csum(bool v6, const uint8_t *src, const uint8_t *dst,
			uint8_t proto, const uint8_t *seg, size_t len)
{
	size_t alen = v6 ? 16 : 4;
	uint32_t sum = 0;

	sum = sum16(sum, src, alen);
	sum = sum16(sum, dst, alen);
	sum += proto;
	sum += (uint32_t)len & 0xffff;
	sum += (uint32_t)len >> 16;
	return fold(sum16(sum, seg, len));
}

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t crc = ~0u;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = crc & 1 ? (crc >> 1) ^ 0x82f63b78 : crc >> 1;
	}
	return ~crc;
}

/* ---- the builder -------------------------------------------------- */

static uint8_t l4_proto(const struct frame_spec *s)
{
	switch (s->l4) {
	case FRAME_L4_TCP:		return 6;
	case FRAME_L4_UDP:
	case FRAME_L4_VXLAN:
	case FRAME_L4_GENEVE:
	case FRAME_L4_GTPU:		return 17;
	case FRAME_L4_ICMP:		return 1;
	case FRAME_L4_ICMP6:		return 58;
	case FRAME_L4_SCTP:		return 132;
	case FRAME_L4_ESP:		return 50;
	case FRAME_L4_GRE:		return 47;
	case FRAME_L4_IPIP:		return 4;
	case FRAME_L4_IPV6_ENCAP:	return 41;
	case FRAME_L4_RAW:
	default:			return s->proto;
	}
}

static long put_payload(const struct frame_spec *s, uint8_t *p, size_t cap)
{
	if (s->payload_len > cap)
		return -1;
	if (s->payload)
		memcpy(p, s->payload, s->payload_len);
	else
		for (size_t i = 0; i < s->payload_len; i++)
			p[i] = 0xa0 + i % 32;	/* never zero */
	return (long)s->payload_len;
}

static long build_ip(const struct frame_spec *s, uint8_t *p, size_t cap);

/* What a tunnel carries: spec.inner's Ethernet frame (eth) or IP packet;
 * without an inner, the payload. */
static long build_inner(const struct frame_spec *s, bool eth, uint8_t *p,
			size_t cap)
{
	if (!s->inner)
		return put_payload(s, p, cap);
	if (eth)
		return frame_build(s->inner, p, cap);
	return build_ip(s->inner, p, cap);
}

/* The protocol field of GRE and Geneve: tun_proto, else by the inner. */
static uint16_t tun_proto(const struct frame_spec *s)
{
	if (s->tun_proto)
		return s->tun_proto;
	if (s->inner_eth)
		return 0x6558;
	return s->inner && s->inner->l3 == FRAME_L3_IPV6 ? 0x86dd : 0x0800;
}

/* GRE with its optional words (checksum 0 and reserved, key, sequence). */
static long build_gre(const struct frame_spec *s, uint8_t *p, size_t cap)
{
	uint16_t f = s->gre_flags;
	size_t hl = GRE_HLEN;
	long n;

	hl += (f & 0x8000 ? 4 : 0) + (f & 0x2000 ? 4 : 0) + (f & 0x1000 ? 4 : 0);
	if (hl > cap)
		return -1;
	memset(p, 0, hl);
	put16(p, f);
	put16(p + 2, tun_proto(s));
	if (f & 0x2000)
		put32(p + hl - (f & 0x1000 ? 8 : 4), 0x00010064);	/* key */
	if (f & 0x1000)
		put32(p + hl - 4, 7);					/* sequence */
	n = build_inner(s, s->inner_eth, p + hl, cap - hl);
	return n < 0 ? -1 : (long)hl + n;
}

/* A UDP tunnel's header and what it carries, after the UDP header. */
static long build_udp_tun(const struct frame_spec *s, uint8_t *p, size_t cap)
{
	size_t hl, opt;
	long n;

	switch (s->l4) {
	case FRAME_L4_VXLAN:
		if (VXLAN_HLEN > cap)
			return -1;
		memset(p, 0, VXLAN_HLEN);
		p[0] = s->vxlan_no_i ? 0 : 0x08;
		put32(p + 4, 100 << 8);			/* VNI 100 */
		n = build_inner(s, true, p + VXLAN_HLEN, cap - VXLAN_HLEN);
		return n < 0 ? -1 : VXLAN_HLEN + n;
	case FRAME_L4_GENEVE:
		hl = GENEVE_HLEN + s->tun_opt_words * 4;
		if (hl > cap || s->tun_opt_words > 63)
			return -1;
		memset(p, 0, hl);
		p[0] = s->tun_ver << 6 | s->tun_opt_words;
		put16(p + 2, tun_proto(s));
		put32(p + 4, 100 << 8);			/* VNI 100 */
		for (size_t i = GENEVE_HLEN; i < hl; i++)
			p[i] = 0x40 + i;		/* options, unread */
		n = build_inner(s, s->inner_eth, p + hl, cap - hl);
		return n < 0 ? -1 : (long)hl + n;
	case FRAME_L4_GTPU:
		opt = s->gtp_flags || s->gtp_next ? 4 : 0;
		hl = GTP_HLEN + opt + s->gtp_next * GTP_EXT_LEN;
		if (hl > cap)
			return -1;
		memset(p, 0, hl);
		p[0] = 0x30 | (s->gtp_flags & 0x03) | (s->gtp_next ? 0x04 : 0);
		p[1] = s->gtp_type ? s->gtp_type : 0xff;
		put32(p + 4, 0x1a2b3c4d);		/* TEID */
		if (opt)
			p[GTP_HLEN + 3] = s->gtp_next ? 0x85 : 0;
		for (int i = 0; i < s->gtp_next; i++) {
			uint8_t *e = p + GTP_HLEN + opt + i * GTP_EXT_LEN;

			e[0] = i == 0 && s->gtp_ext_len0 ? 0 : 1;
			e[1] = 0x10;			/* UL PDU session info */
			e[2] = 9;			/* QFI */
			e[3] = i + 1 < s->gtp_next ? 0x85 : 0;
		}
		n = build_inner(s, false, p + hl, cap - hl);
		if (n < 0)
			return -1;
		put16(p + 2, hl - GTP_HLEN + n);	/* after the 8 bytes */
		return hl + n;
	default:
		return -1;
	}
}

/* The transport (or tunnel) header and what follows it. */
static long build_l4(const struct frame_spec *s, bool v6, const uint8_t *src,
		     const uint8_t *dst, uint8_t *p, size_t cap)
{
	size_t hl = 0;
	long n;

	switch (s->l4) {
	case FRAME_L4_TCP: {
		uint8_t doff = s->tcp_doff ? s->tcp_doff : 5;

		hl = (doff < 5 ? 5 : doff) * 4;
		if (hl > cap)
			return -1;
		memset(p, 0, hl);
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, 0x1c2d3e4f);	/* seq */
		put32(p + 8, 0x0a0b0c0d);	/* ack */
		p[12] = doff << 4;
		p[13] = 0x18;			/* PSH, ACK */
		put16(p + 14, 64240);
		memset(p + 20, 1, hl - 20);	/* NOP options */
		n = put_payload(s, p + hl, cap - hl);
		if (n < 0)
			return -1;
		put16(p + 16, l4_csum(v6, src, dst, 6, p, hl + n));
		return hl + n;
	}
	case FRAME_L4_UDP:
	case FRAME_L4_VXLAN:
	case FRAME_L4_GENEVE:
	case FRAME_L4_GTPU: {
		uint16_t sport = s->sport, dport = s->dport;
		size_t len;
		bool real_len;

		if (s->l4 != FRAME_L4_UDP && !sport)
			sport = s->l4 == FRAME_L4_GTPU ? PORT_GTPU : 49152;
		if (s->l4 != FRAME_L4_UDP && !dport)
			dport = s->l4 == FRAME_L4_VXLAN ? PORT_VXLAN :
				s->l4 == FRAME_L4_GENEVE ? PORT_GENEVE : PORT_GTPU;
		hl = UDP_HLEN + (s->udp_esp ? ESP_HLEN : 0);
		if (hl > cap)
			return -1;
		put16(p, sport);
		put16(p + 2, dport);
		put16(p + 6, 0);
		if (s->udp_esp) {
			put32(p + 8, s->spi);
			put32(p + 12, s->seq);
		}
		if (s->l4 == FRAME_L4_UDP)
			n = put_payload(s, p + hl, cap - hl);
		else
			n = build_udp_tun(s, p + hl, cap - hl);
		if (n < 0)
			return -1;
		len = hl + n;
		real_len = !s->udp_len || s->udp_len == len;
		put16(p + 4, s->udp_len ? s->udp_len : len);
		/* IPv4 may leave it out: a fragment's, or a lying length's.
		 * IPv6 may not: sum what is there. */
		if (v6 || (real_len && !s->ip4_mf))
			put16(p + 6, l4_csum(v6, src, dst, 17, p, len));
		return len;
	}
	case FRAME_L4_ICMP:
	case FRAME_L4_ICMP6:
		hl = ICMP_HLEN;
		if (hl > cap)
			return -1;
		p[0] = s->l4 == FRAME_L4_ICMP ? 8 : 128;	/* echo request */
		p[1] = 0;
		put16(p + 2, 0);
		put16(p + 4, 0x4d58);				/* id */
		put16(p + 6, 1);				/* seq */
		n = put_payload(s, p + hl, cap - hl);
		if (n < 0)
			return -1;
		if (s->l4 == FRAME_L4_ICMP)
			put16(p + 2, fold(sum16(0, p, hl + n)));
		else
			put16(p + 2, l4_csum(true, src, dst, 58, p, hl + n));
		return hl + n;
	case FRAME_L4_SCTP: {
		uint32_t crc;

		hl = SCTP_HLEN;
		if (hl > cap)
			return -1;
		put16(p, s->sport);
		put16(p + 2, s->dport);
		put32(p + 4, 0x1a2b3c4d);	/* verification tag */
		put32(p + 8, 0);
		n = put_payload(s, p + hl, cap - hl);
		if (n < 0)
			return -1;
		crc = crc32c(p, hl + n);	/* stored little-endian */
		p[8] = crc & 0xff;
		p[9] = (crc >> 8) & 0xff;
		p[10] = (crc >> 16) & 0xff;
		p[11] = crc >> 24;
		return hl + n;
	}
	case FRAME_L4_ESP:
		hl = ESP_HLEN;
		if (hl > cap)
			return -1;
		put32(p, s->spi);
		put32(p + 4, s->seq);
		break;
	case FRAME_L4_GRE:
		return build_gre(s, p, cap);
	case FRAME_L4_IPIP:
	case FRAME_L4_IPV6_ENCAP:
		if (!s->inner || s->inner->l3 != (s->l4 == FRAME_L4_IPIP ?
						  FRAME_L3_IPV4 : FRAME_L3_IPV6))
			return -1;
		return build_ip(s->inner, p, cap);
	case FRAME_L4_RAW:
		break;
	}
	n = put_payload(s, p + hl, cap - hl);
	return n < 0 ? -1 : (long)hl + n;
}

/* The extension headers, then the transport. *first is the protocol of
 * the first header written. After a non-first fragment (IPv4: nonfirst;
 * IPv6: a fragment header with an offset) comes the payload only. */
static long build_upper(const struct frame_spec *s, bool v6, bool nonfirst,
			const uint8_t *src, const uint8_t *dst, uint8_t *p,
			size_t cap, uint8_t *first)
{
	uint8_t final = l4_proto(s);
	size_t off = 0;
	long n;

	if (s->next > FRAME_MAX_EXT)
		return -1;
	*first = s->next ? s->ext[0].type : final;
	for (int i = 0; i < s->next && !nonfirst; i++) {
		const struct frame_ext *e = &s->ext[i];
		uint8_t nh = i + 1 < s->next ? s->ext[i + 1].type : final;
		uint8_t *h = p + off;
		size_t len;

		switch (e->type) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
			if (!v6)
				return -1;
			len = (e->len8 + 1) * 8;
			if (off + len > cap)
				return -1;
			memset(h, 0, len);
			h[0] = nh;
			h[1] = e->len8;
			if (e->type == 43) {
				h[2] = 253;	/* routing type: RFC 4727 experiment */
				h[3] = 0;	/* segments left */
			} else {
				h[2] = 1;	/* PadN over the rest */
				h[3] = len - 4;
			}
			break;
		case 44:	/* fragment */
			if (!v6)
				return -1;
			len = EXT_LEN;
			if (off + len > cap)
				return -1;
			h[0] = nh;
			h[1] = 0;
			put16(h + 2, e->frag_off << 3 | (e->more ? 1 : 0));
			put32(h + 4, 0x5eed0001);
			if (e->frag_off)
				nonfirst = true;
			break;
		case 51:	/* AH */
			len = AH_LEN;
			if (off + len > cap)
				return -1;
			h[0] = nh;
			h[1] = e->ah_len_zero ? 0 : AH_LEN / 4 - 2;
			put16(h + 2, 0);
			put32(h + 4, e->spi);
			put32(h + 8, e->seq);
			for (int k = 12; k < AH_LEN; k++)
				h[k] = 0x30 + k;	/* ICV */
			break;
		default:
			return -1;
		}
		off += len;
	}
	if (nonfirst)
		n = put_payload(s, p + off, cap - off);
	else
		n = build_l4(s, v6, src, dst, p + off, cap - off);
	return n < 0 ? -1 : (long)off + n;
}

/* From the IP header on. */
static long build_ip(const struct frame_spec *s, uint8_t *p, size_t cap)
{
	uint8_t first;
	size_t hl;
	long n;

	switch (s->l3) {
	case FRAME_L3_IPV4: {
		uint8_t ihl = s->ip4_ihl ? s->ip4_ihl : 5;
		uint8_t ver = s->ip4_version ? s->ip4_version : 4;

		hl = (ihl < 5 ? 5 : ihl) * 4;
		if (hl > cap)
			return -1;
		memset(p, 0, hl);
		p[0] = ver << 4 | (ihl & 0xf);
		put16(p + 4, 0x3de0);		/* identification */
		put16(p + 6, (s->ip4_mf ? 0x2000 : 0) | (s->ip4_frag_off & 0x1fff));
		p[8] = 64;			/* TTL */
		memcpy(p + 12, s->src4, 4);
		memcpy(p + 16, s->dst4, 4);
		if (hl > IP4_HLEN) {		/* NOPs, then end of options */
			memset(p + IP4_HLEN, 1, hl - IP4_HLEN - 1);
			p[hl - 1] = 0;
		}
		n = build_upper(s, false, s->ip4_frag_off != 0, s->src4,
				s->dst4, p + hl, cap - hl, &first);
		if (n < 0 || hl + n > 0xffff)
			return -1;
		p[9] = first;
		put16(p + 2, hl + n);
		put16(p + 10, fold(sum16(0, p, hl)));
		return hl + n;
	}
	case FRAME_L3_IPV6: {
		uint8_t ver = s->ip6_version ? s->ip6_version : 6;

		hl = IP6_HLEN;
		if (hl > cap)
			return -1;
		memset(p, 0, hl);
		p[0] = ver << 4;
		p[7] = 64;			/* hop limit */
		memcpy(p + 8, s->src6, 16);
		memcpy(p + 24, s->dst6, 16);
		n = build_upper(s, true, false, s->src6, s->dst6, p + hl,
				cap - hl, &first);
		if (n < 0 || n > 0xffff)
			return -1;
		p[6] = first;
		put16(p + 4, s->ip6_plen_zero ? 0 : n);
		return hl + n;
	}
	default:
		return -1;
	}
}

size_t frame_l3_offset(const struct frame_spec *s)
{
	size_t off = ETH_HLEN + s->nvlan * VLAN_HLEN;

	if (s->carrier == FRAME_CARRIER_MPLS)
		off += s->nmpls * MPLS_LSE_LEN + (s->mpls_cw ? MPLS_CW_LEN : 0);
	else if (s->carrier == FRAME_CARRIER_PPPOE)
		off += PPPOE_HLEN;
	return off;
}

/* The ethertype after the VLAN tags. */
static uint16_t frame_ethertype(const struct frame_spec *s)
{
	switch (s->carrier) {
	case FRAME_CARRIER_MPLS:	return s->mpls_mc ? 0x8848 : 0x8847;
	case FRAME_CARRIER_PPPOE:	return 0x8864;
	default:			break;
	}
	switch (s->l3) {
	case FRAME_L3_IPV4:	return 0x0800;
	case FRAME_L3_IPV6:	return 0x86dd;
	default:		return s->ethertype;
	}
}

/* The carrier's header at p, for a packet of len bytes after it. */
static void build_carrier(const struct frame_spec *s, uint8_t *p, size_t len)
{
	uint16_t proto = s->ppp_proto;

	if (s->carrier == FRAME_CARRIER_MPLS) {
		for (int i = 0; i < s->nmpls; i++) {
			bool bos = i + 1 == s->nmpls && !s->mpls_no_bos;

			/* label, traffic class 0, S, TTL 64 */
			put32(p + i * MPLS_LSE_LEN,
			      (uint32_t)(MPLS_LABEL0 + i) << 12 | (bos ? 1u << 8 : 0) | 64);
		}
		if (s->mpls_cw)
			put32(p + s->nmpls * MPLS_LSE_LEN, 0);
		return;
	}
	if (!proto)
		proto = s->l3 == FRAME_L3_IPV6 ? 0x0057 : 0x0021;
	p[0] = s->pppoe_ver_type ? s->pppoe_ver_type : 0x11;
	p[1] = s->pppoe_code;
	put16(p + 2, 0x2a01);			/* session id */
	put16(p + 4, s->pppoe_len_short ? 1 : len + 2);
	put16(p + 6, proto);
}

int frame_build(const struct frame_spec *s, uint8_t *buf, size_t cap)
{
	size_t off = 2 * 6, l3 = frame_l3_offset(s);
	long n;

	if (s->nvlan > FRAME_MAX_VLAN || s->nmpls > FRAME_MAX_MPLS ||
	    (s->carrier == FRAME_CARRIER_MPLS && !s->nmpls) || cap < l3)
		return -1;
	memcpy(buf, s->dst_mac, 6);
	memcpy(buf + 6, s->src_mac, 6);
	for (int i = 0; i < s->nvlan; i++) {
		put16(buf + off, s->vlan[i].tpid);
		put16(buf + off + 2, s->vlan[i].tci);
		off += VLAN_HLEN;
	}
	put16(buf + off, frame_ethertype(s));
	off = l3;

	if (s->l3 == FRAME_L3_NONE)
		n = put_payload(s, buf + off, cap - off);
	else
		n = build_ip(s, buf + off, cap - off);
	if (n < 0)
		return -1;
	if (s->carrier != FRAME_CARRIER_NONE)
		build_carrier(s, buf + ETH_HLEN + s->nvlan * VLAN_HLEN, n);
	off += n;
	if (s->truncate_to && s->truncate_to < off)
		off = s->truncate_to;
	if (s->pad_to > off) {
		if (s->pad_to > cap)
			return -1;
		memset(buf + off, 0, s->pad_to - off);
		off = s->pad_to;
	}
	return (int)off;
}

/* ---- the cases ---------------------------------------------------- */

#define MAC_GW		{ 0x02, 0x00, 0x5e, 0x00, 0x00, 0x80 }
#define MAC_WKS		{ 0x02, 0x00, 0x5e, 0x00, 0x01, 0x10 }
#define WKS4		{ 10, 10, 1, 10 }
#define LB4		{ 10, 20, 0, 80 }
/* 2001:db8:10::10 and 2001:db8:20::80 */
#define WKS6		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 }
#define LB6		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 }

#define ETH		.dst_mac = MAC_GW, .src_mac = MAC_WKS
#define V4		ETH, .l3 = FRAME_L3_IPV4, .src4 = WKS4, .dst4 = LB4
#define V6		ETH, .l3 = FRAME_L3_IPV6, .src6 = WKS6, .dst6 = LB6
#define VLAN(id)	{ .tpid = 0x8100, .tci = (id) }
#define SVLAN(id)	{ .tpid = 0x88a8, .tci = (id) }

/* The incident's ESP packet: 100 bytes of IP, this SPI and sequence. */
#define INC_SPI		0xd7ca145d
#define INC_SEQ		0x3de0a5
#define ESP_PAYLOAD	72	/* 20 + 8 + 72 = 100 */
#define NATT_SPI	0xc0ffee01
#define NATT_SEQ	42
#define AH_SPI		0x0a4a0001
#define AH_SEQ		7

#define TCP80(plen)	.l4 = FRAME_L4_TCP, .sport = 49152, .dport = 80, .payload_len = (plen)
#define ESP(plen)	.l4 = FRAME_L4_ESP, .spi = INC_SPI, .seq = INC_SEQ, .payload_len = (plen)
#define NATT_P(sp, dp, plen) .l4 = FRAME_L4_UDP, .sport = (sp), .dport = (dp), \
			.udp_esp = true, .spi = NATT_SPI, .seq = NATT_SEQ, .payload_len = (plen)
#define NATT(plen)	NATT_P(4500, 4500, plen)
#define EXT(t)		{ .type = (t) }
#define AH_EXT		{ .type = 51, .spi = AH_SPI, .seq = AH_SEQ }

#define CLASS(c)	.class = PM_C_##c, .reason = -1
#define REASON(r)	.class = -1, .reason = PM_R_##r

/* A minimal IKEv2 IKE_SA_INIT header (RFC 7296), no payloads: 28 bytes. */
static const uint8_t ike_hdr[28] = {
	0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81,	/* initiator SPI */
	0, 0, 0, 0, 0, 0, 0, 0,				/* responder SPI */
	0, 0x20, 34, 0x08,				/* next, 2.0, SA_INIT, I */
	0, 0, 0, 0,					/* message id */
	0, 0, 0, 28,					/* length */
};

/* The same behind the 4-byte non-ESP marker (RFC 3948). */
static const uint8_t ike_marked[32] = {
	0, 0, 0, 0,
	0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0x20, 34, 0x08,
	0, 0, 0, 0,
	0, 0, 0, 28,
};

static const uint8_t natt_keepalive[1] = { 0xff };

/* An SCTP DATA chunk with 4 bytes of user data: 20 bytes. */
static const uint8_t sctp_data[20] = {
	0, 0x03, 0, 20,			/* DATA, B and E, length */
	0, 0, 0, 1,			/* TSN */
	0, 0, 0, 0,			/* stream 0, sequence 0 */
	0, 0, 0, 0,			/* payload protocol */
	'p', 'm', 'i', 'x',
};

/* An ARP request, 10.10.1.10 asking for 10.20.0.80. */
static const uint8_t arp_req[28] = {
	0, 1, 0x08, 0, 6, 4, 0, 1,
	0x02, 0x00, 0x5e, 0x00, 0x01, 0x10, 10, 10, 1, 10,
	0, 0, 0, 0, 0, 0, 10, 20, 0, 80,
};

/* The rest of a fragmented datagram that looks like a UDP header to
 * 4500 and an ESP SPI: a parser that reads ports in a non-first fragment
 * says esp_udp instead of udp. */
static const uint8_t frag_tail[64] = {
	0x11, 0x94, 0x11, 0x94, 0x00, 0x40, 0x00, 0x00,
	0xc0, 0xff, 0xee, 0x01, 0x00, 0x00, 0x00, 0x2a,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

/* Inner packets of the tunnels (TEST-NET-1 to TEST-NET-2, and
 * 2001:db8:ffff::1 to ::2): a ping with 16 bytes of data. */
#define INNER4_LEN	(IP4_HLEN + ICMP_HLEN + 16)
#define INNER6_LEN	(IP6_HLEN + ICMP_HLEN + 16)
static const struct frame_spec inner4 = {
	.l3 = FRAME_L3_IPV4, .src4 = { 192, 0, 2, 1 }, .dst4 = { 198, 51, 100, 1 },
	.l4 = FRAME_L4_ICMP, .payload_len = 16,
};
static const struct frame_spec inner6 = {
	.l3 = FRAME_L3_IPV6,
	.src6 = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 },
	.l4 = FRAME_L4_ICMP6, .payload_len = 16,
};

/* Carriers: an MPLS label stack of n labels, a PPPoE session. */
#define MPLS(n)		.carrier = FRAME_CARRIER_MPLS, .nmpls = (n)
#define PPPOE		.carrier = FRAME_CARRIER_PPPOE
#define MPLS_LEN(n)	((n) * 4)
#define PPPOE_LEN	PPPOE_HLEN

/* WireGuard messages (type, three zero bytes, the rest left zero): each
 * of the lengths the class wants, and some it does not. */
#define WG_PORT		51820
static const uint8_t wg_init[148] = { 1 };
static const uint8_t wg_resp[92] = { 2 };
static const uint8_t wg_cookie[64] = { 3 };
static const uint8_t wg_data[96] = { 4 };	/* 16 + 80 (64 + 16 tag) */
static const uint8_t wg_keepalive[32] = { 4 };	/* the shortest: no data */
static const uint8_t wg_init_short[147] = { 1 };
static const uint8_t wg_data_odd[40] = { 4 };	/* 40 - 16 = 24: not x16 */
static const uint8_t wg_data_short[16] = { 4 };
static const uint8_t wg_reserved[32] = { 4, 0, 1 };
static const uint8_t wg_type5[32] = { 5 };
#define WG_P(sp, dp, msg) .l4 = FRAME_L4_UDP, .sport = (sp), .dport = (dp), \
			.payload = (msg), .payload_len = sizeof(msg)
#define WG(msg)		WG_P(WG_PORT, WG_PORT, msg)

/* A PPP LCP Configure-Request with no options (RFC 1661). */
static const uint8_t lcp_req[4] = { 1, 1, 0, 4 };

/* What follows a MACsec SecTAG, as far as a parser is concerned: the
 * TCI/AN, short length, packet number and the encrypted rest. */
static const uint8_t macsec_tag[24] = { 0x2c, 0, 0, 0, 0, 1 };


/* ---- tunnels (--decap) ---- */

/* Inside the tunnels, the incident again in an overlay: the workstation
 * 10.97.1.10 and the load balancer 10.97.0.80 (2001:db8:97::10, ::80);
 * the outer header joins the tunnel's ends, the cases' own addresses. */
#define OV_WKS4		{ 10, 97, 1, 10 }
#define OV_LB4		{ 10, 97, 0, 80 }
#define OV_WKS6		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0x97, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 }
#define OV_LB6		{ 0x20, 0x01, 0x0d, 0xb8, 0, 0x97, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 }
#define OV4		.l3 = FRAME_L3_IPV4, .src4 = OV_WKS4, .dst4 = OV_LB4
#define OV6		.l3 = FRAME_L3_IPV6, .src6 = OV_WKS6, .dst6 = OV_LB6
#define OV_ETH		.dst_mac = { 0x02, 0x00, 0x5e, 0x00, 0x02, 0x80 }, \
			.src_mac = { 0x02, 0x00, 0x5e, 0x00, 0x02, 0x10 }

static const struct frame_spec ov_tcp4 = { OV4, TCP80(32) };
static const struct frame_spec ov_esp4 = { OV4, ESP(ESP_PAYLOAD) };
static const struct frame_spec ov_tcp6 = { OV6, TCP80(32) };
static const struct frame_spec ov_esp6 = { OV6, ESP(ESP_PAYLOAD) };
static const struct frame_spec ov_bad4 = { OV4, TCP80(32), .ip4_version = 6 };
static const struct frame_spec ove_tcp4 = { OV_ETH, OV4, TCP80(32) };
static const struct frame_spec ove_esp4 = { OV_ETH, OV4, ESP(ESP_PAYLOAD) };
static const struct frame_spec ove_tcp6 = { OV_ETH, OV6, TCP80(32) };
static const struct frame_spec ove_esp6 = { OV_ETH, OV6, ESP(ESP_PAYLOAD) };
static const struct frame_spec ove_wg4 = { OV_ETH, OV4, WG(wg_data) };
static const struct frame_spec ove_vlan_tcp4 = {
	OV_ETH, OV4, TCP80(32), .nvlan = 1, .vlan = { VLAN(10) } };
static const struct frame_spec ove_qinq_esp4 = {
	OV_ETH, OV4, ESP(ESP_PAYLOAD), .nvlan = 2, .vlan = { SVLAN(20), VLAN(10) } };
static const struct frame_spec ove_vlan3_tcp4 = {
	OV_ETH, OV4, TCP80(32), .nvlan = 3, .vlan = { SVLAN(30), SVLAN(20), VLAN(10) } };
static const struct frame_spec ove_arp = {
	OV_ETH, .ethertype = 0x0806, .payload = arp_req, .payload_len = sizeof(arp_req) };
/* a VXLAN packet inside a tunnel: counted as vxlan, not looked into */
static const struct frame_spec ov_vxlan4 = {
	OV4, .l4 = FRAME_L4_VXLAN, .inner = &ove_tcp4 };
/* GTP version 0 on port 2152 (flags 0x1e): not GTPv1, so udp */
static const uint8_t gtp_v0[20] = { 0x1e, 0xff };

/* Bytes of the inner packets, from their IP header on */
#define OV_TCP4_LEN	(IP4_HLEN + TCP_HLEN + 32)
#define OV_TCP6_LEN	(IP6_HLEN + TCP_HLEN + 32)
#define OV_ESP4_LEN	(IP4_HLEN + ESP_HLEN + ESP_PAYLOAD)
#define OV_ESP6_LEN	(IP6_HLEN + ESP_HLEN + ESP_PAYLOAD)
#define OV_WG4_LEN	(IP4_HLEN + UDP_HLEN + 96)
/* ... and what comes before them, from the outer IP header on */
#define VX4		(IP4_HLEN + UDP_HLEN + VXLAN_HLEN + ETH_HLEN)
#define VX6		(IP6_HLEN + UDP_HLEN + VXLAN_HLEN + ETH_HLEN)
#define GN4		(IP4_HLEN + UDP_HLEN + GENEVE_HLEN)
#define GT4		(IP4_HLEN + UDP_HLEN + GTP_HLEN)
#define GT6		(IP6_HLEN + UDP_HLEN + GTP_HLEN)
#define HDR4_UDP	(IP4_HLEN + UDP_HLEN)
#define HDR6_UDP	(IP6_HLEN + UDP_HLEN)

#define TUN(t)		.l4 = FRAME_L4_##t
#define INNER(c, b)	.decap = true, .inner_class = PM_C_##c, .inner_reason = -1, \
			.inner_bytes = (b)
#define IREASON(r)	.decap = true, .inner_class = -1, .inner_reason = PM_R_##r
#define CUT(n)		.truncate_to = ETH_HLEN + (n)	/* n bytes from the IP header */

const struct frame_case frame_cases[] = {
	/* ---- well-formed: one class each ---- */
	{ "tcp4", "TCP to port 80",
	  { V4, TCP80(32) }, CLASS(TCP),
	  .bytes = IP4_HLEN + TCP_HLEN + 32, .hdr_len = IP4_HLEN + TCP_HLEN },
	{ "tcp4_padded", "a bare TCP segment padded to the 60-byte Ethernet minimum",
	  { V4, TCP80(0), .pad_to = 60 }, CLASS(TCP),
	  .bytes = IP4_HLEN + TCP_HLEN, .hdr_len = IP4_HLEN + TCP_HLEN },
	{ "tcp4_opts", "TCP with 12 bytes of options (doff 8)",
	  { V4, TCP80(32), .tcp_doff = 8 }, CLASS(TCP),
	  .bytes = IP4_HLEN + 32 + 32, .hdr_len = IP4_HLEN + 32 },
	{ "tcp6", "TCP over IPv6",
	  { V6, TCP80(32) }, CLASS(TCP),
	  .bytes = IP6_HLEN + TCP_HLEN + 32, .hdr_len = IP6_HLEN + TCP_HLEN },
	{ "tcp6_plen0", "TCP over IPv6 with Payload Length 0 (BIG TCP, jumbogram)",
	  { V6, TCP80(32), .ip6_plen_zero = true }, CLASS(TCP),
	  .bytes = IP6_HLEN + TCP_HLEN + 32, .hdr_len = IP6_HLEN + TCP_HLEN },
	{ "udp4", "UDP to port 33434",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 40000, .dport = 33434, .payload_len = 24 },
	  CLASS(UDP), .bytes = IP4_HLEN + UDP_HLEN + 24, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "udp6", "UDP over IPv6 to port 33434",
	  { V6, .l4 = FRAME_L4_UDP, .sport = 40000, .dport = 33434, .payload_len = 24 },
	  CLASS(UDP), .bytes = IP6_HLEN + UDP_HLEN + 24, .hdr_len = IP6_HLEN + UDP_HLEN },
	{ "icmp4", "ping",
	  { V4, .l4 = FRAME_L4_ICMP, .payload_len = 56 }, CLASS(ICMP),
	  .bytes = IP4_HLEN + ICMP_HLEN + 56, .hdr_len = IP4_HLEN },
	{ "icmp6", "ping over IPv6",
	  { V6, .l4 = FRAME_L4_ICMP6, .payload_len = 56 }, CLASS(ICMP6),
	  .bytes = IP6_HLEN + ICMP_HLEN + 56, .hdr_len = IP6_HLEN },
	{ "sctp4", "SCTP DATA chunk",
	  { V4, .l4 = FRAME_L4_SCTP, .sport = 40000, .dport = 40001,
	    .payload = sctp_data, .payload_len = sizeof(sctp_data) }, CLASS(SCTP),
	  .bytes = IP4_HLEN + SCTP_HLEN + 20, .hdr_len = IP4_HLEN },
	{ "esp4", "ESP, the incident's packet (length 100)",
	  { V4, ESP(ESP_PAYLOAD) }, CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP4_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP4_HLEN },
	{ "esp6", "ESP over IPv6",
	  { V6, ESP(ESP_PAYLOAD) }, CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP6_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP6_HLEN },
	{ "esp6_ext", "hop-by-hop, destination options, then ESP",
	  { V6, ESP(ESP_PAYLOAD), .next = 2, .ext = { EXT(0), EXT(60) } },
	  CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP6_HLEN + 2 * EXT_LEN + ESP_HLEN + ESP_PAYLOAD,
	  .hdr_len = IP6_HLEN + 2 * EXT_LEN },
	{ "rt_esp6", "a 24-byte routing header, then ESP",
	  { V6, ESP(ESP_PAYLOAD), .next = 1, .ext = { { .type = 43, .len8 = 2 } } },
	  CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP6_HLEN + 24 + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP6_HLEN + 24 },
	{ "ah4", "AH protecting TCP",
	  { V4, TCP80(32), .next = 1, .ext = { AH_EXT } },
	  CLASS(AH), .spi = AH_SPI, .seq = AH_SEQ,
	  .bytes = IP4_HLEN + AH_LEN + TCP_HLEN + 32, .hdr_len = IP4_HLEN },
	{ "ah6_chain", "hop-by-hop, AH, destination options, then TCP",
	  { V6, TCP80(32), .next = 3, .ext = { EXT(0), AH_EXT, EXT(60) } },
	  CLASS(AH), .spi = AH_SPI, .seq = AH_SEQ,
	  .bytes = IP6_HLEN + EXT_LEN + AH_LEN + EXT_LEN + TCP_HLEN + 32,
	  .hdr_len = IP6_HLEN + EXT_LEN },
	{ "esp_udp4", "ESP in UDP 4500 (NAT-T)",
	  { V4, NATT(64) }, CLASS(ESP_UDP), .spi = NATT_SPI, .seq = NATT_SEQ,
	  .bytes = IP4_HLEN + UDP_HLEN + ESP_HLEN + 64, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "esp_udp6", "ESP in UDP 4500 over IPv6",
	  { V6, NATT(64) }, CLASS(ESP_UDP), .spi = NATT_SPI, .seq = NATT_SEQ,
	  .bytes = IP6_HLEN + UDP_HLEN + ESP_HLEN + 64, .hdr_len = IP6_HLEN + UDP_HLEN },
	{ "esp_udp4_sport", "ESP in UDP from port 4500 to a high port",
	  { V4, NATT_P(4500, 33000, 64) }, CLASS(ESP_UDP), .spi = NATT_SPI, .seq = NATT_SEQ,
	  .bytes = IP4_HLEN + UDP_HLEN + ESP_HLEN + 64, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "ike500", "IKEv2 on port 500",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 500, .dport = 500,
	    .payload = ike_hdr, .payload_len = sizeof(ike_hdr) }, CLASS(IKE),
	  .bytes = IP4_HLEN + UDP_HLEN + 28, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "ike500_4500", "port 500 to 4500 with an ESP-like payload: 500 wins",
	  { V4, NATT_P(500, 4500, 64) }, CLASS(IKE),
	  .bytes = IP4_HLEN + UDP_HLEN + ESP_HLEN + 64, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "ike4500_marker", "IKEv2 on port 4500 behind the non-ESP marker",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 4500, .dport = 4500,
	    .payload = ike_marked, .payload_len = sizeof(ike_marked) }, CLASS(IKE),
	  .bytes = IP4_HLEN + UDP_HLEN + 32, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "natt_keepalive", "NAT keepalive: one byte 0xff on port 4500",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 4500, .dport = 4500,
	    .payload = natt_keepalive, .payload_len = 1 }, CLASS(IKE),
	  .bytes = IP4_HLEN + UDP_HLEN + 1, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "natt_short3", "port 4500 with 3 payload bytes: under 4, so ike",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 4500, .dport = 4500,
	    .payload = frag_tail + 8, .payload_len = 3 }, CLASS(IKE),
	  .bytes = IP4_HLEN + UDP_HLEN + 3, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "gre4", "GRE carrying IPv4",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &inner4 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + INNER4_LEN, .hdr_len = IP4_HLEN,
	  INNER(ICMP, INNER4_LEN) },
	{ "ipip4", "IPv4 in IPv4",
	  { V4, .l4 = FRAME_L4_IPIP, .inner = &inner4 }, CLASS(IPIP),
	  .bytes = IP4_HLEN + INNER4_LEN, .hdr_len = IP4_HLEN,
	  INNER(ICMP, INNER4_LEN) },
	{ "ipip6", "IPv4 in IPv6 (next header 4)",
	  { V6, .l4 = FRAME_L4_IPIP, .inner = &inner4 }, CLASS(IPIP),
	  .bytes = IP6_HLEN + INNER4_LEN, .hdr_len = IP6_HLEN,
	  INNER(ICMP, INNER4_LEN) },
	{ "ipv6_encap4", "IPv6 in IPv4 (protocol 41)",
	  { V4, .l4 = FRAME_L4_IPV6_ENCAP, .inner = &inner6 }, CLASS(IPV6_ENCAP),
	  .bytes = IP4_HLEN + INNER6_LEN, .hdr_len = IP4_HLEN,
	  INNER(ICMP6, INNER6_LEN) },
	{ "other4", "IP protocol 99",
	  { V4, .l4 = FRAME_L4_RAW, .proto = 99, .payload_len = 32 }, CLASS(OTHER),
	  .bytes = IP4_HLEN + 32, .hdr_len = IP4_HLEN },
	{ "esp4_vlan", "ESP behind an 802.1Q tag",
	  { V4, ESP(ESP_PAYLOAD), .nvlan = 1, .vlan = { VLAN(100) } },
	  CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP4_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP4_HLEN, .vlans = 1 },
	{ "esp4_qinq", "ESP behind 802.1ad and 802.1Q tags",
	  { V4, ESP(ESP_PAYLOAD), .nvlan = 2, .vlan = { SVLAN(200), VLAN(100) } },
	  CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP4_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP4_HLEN, .vlans = 2 },
	{ "tcp6_vlan", "TCP over IPv6 behind an 802.1Q tag",
	  { V6, TCP80(32), .nvlan = 1, .vlan = { VLAN(100) } }, CLASS(TCP),
	  .bytes = IP6_HLEN + TCP_HLEN + 32, .hdr_len = IP6_HLEN + TCP_HLEN, .vlans = 1 },
	{ "frag4_first_udp4500", "first fragment of an ESP-in-UDP datagram",
	  { V4, NATT(64), .ip4_mf = true, .udp_len = 1480 },
	  CLASS(ESP_UDP), .spi = NATT_SPI, .seq = NATT_SEQ,
	  .bytes = IP4_HLEN + UDP_HLEN + ESP_HLEN + 64, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "frag4_nonfirst_udp", "non-first fragment of a UDP 4500 datagram: no ports",
	  { V4, .l4 = FRAME_L4_UDP, .ip4_frag_off = 185,
	    .payload = frag_tail, .payload_len = sizeof(frag_tail) }, CLASS(UDP),
	  .bytes = IP4_HLEN + 64, .hdr_len = IP4_HLEN },
	{ "frag6_first_udp4500", "first fragment (IPv6) of an ESP-in-UDP datagram",
	  { V6, NATT(64), .udp_len = 1480, .next = 1,
	    .ext = { { .type = 44, .more = true } } },
	  CLASS(ESP_UDP), .spi = NATT_SPI, .seq = NATT_SEQ,
	  .bytes = IP6_HLEN + EXT_LEN + UDP_HLEN + ESP_HLEN + 64,
	  .hdr_len = IP6_HLEN + EXT_LEN + UDP_HLEN },
	{ "frag6_nonfirst_udp", "non-first fragment (IPv6) of a UDP 4500 datagram",
	  { V6, .l4 = FRAME_L4_UDP, .payload = frag_tail, .payload_len = sizeof(frag_tail),
	    .next = 1, .ext = { { .type = 44, .frag_off = 185 } } }, CLASS(UDP),
	  .bytes = IP6_HLEN + EXT_LEN + 64, .hdr_len = IP6_HLEN + EXT_LEN },
	{ "ip4_options_esp", "IPv4 with 12 bytes of options (ihl 8), then ESP",
	  { V4, ESP(ESP_PAYLOAD), .ip4_ihl = 8 }, CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = 32 + ESP_HLEN + ESP_PAYLOAD, .hdr_len = 32 },
	{ "hop_dst_tcp6", "hop-by-hop, destination options, then TCP",
	  { V6, TCP80(32), .next = 2, .ext = { EXT(0), EXT(60) } }, CLASS(TCP),
	  .bytes = IP6_HLEN + 2 * EXT_LEN + TCP_HLEN + 32,
	  .hdr_len = IP6_HLEN + 2 * EXT_LEN + TCP_HLEN },
	{ "ip6_ext8_tcp", "eight extension headers (the most walked), then TCP",
	  { V6, TCP80(32), .next = 8,
	    .ext = { EXT(60), EXT(60), EXT(60), EXT(60), EXT(60), EXT(60), EXT(60), EXT(60) } },
	  CLASS(TCP), .bytes = IP6_HLEN + 8 * EXT_LEN + TCP_HLEN + 32,
	  .hdr_len = IP6_HLEN + 8 * EXT_LEN + TCP_HLEN },

	/* ---- carriers: the IP packet inside counts ---- */
	{ "mpls_tcp4", "one MPLS label, then TCP over IPv4",
	  { V4, TCP80(32), MPLS(1) }, CLASS(TCP),
	  .bytes = IP4_HLEN + TCP_HLEN + 32, .hdr_len = IP4_HLEN + TCP_HLEN },
	{ "mpls2_tcp6", "two MPLS labels, then TCP over IPv6",
	  { V6, TCP80(32), MPLS(2) }, CLASS(TCP),
	  .bytes = IP6_HLEN + TCP_HLEN + 32, .hdr_len = IP6_HLEN + TCP_HLEN },
	{ "mpls8_esp4", "eight MPLS labels (the most walked), then ESP",
	  { V4, ESP(ESP_PAYLOAD), MPLS(8) }, CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP4_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP4_HLEN },
	{ "mpls_mc_udp6", "multicast MPLS (0x8848), then UDP over IPv6",
	  { V6, .l4 = FRAME_L4_UDP, .sport = 40000, .dport = 33434, .payload_len = 24,
	    MPLS(1), .mpls_mc = true }, CLASS(UDP),
	  .bytes = IP6_HLEN + UDP_HLEN + 24, .hdr_len = IP6_HLEN + UDP_HLEN },
	{ "vlan_mpls_esp4", "an 802.1Q tag, three MPLS labels, then ESP",
	  { V4, ESP(ESP_PAYLOAD), .nvlan = 1, .vlan = { VLAN(100) }, MPLS(3) },
	  CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP4_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP4_HLEN, .vlans = 1 },
	{ "qinq_mpls8_tcp6", "802.1ad and 802.1Q tags, eight MPLS labels, then TCP over IPv6",
	  { V6, TCP80(32), .nvlan = 2, .vlan = { SVLAN(200), VLAN(100) }, MPLS(8) },
	  CLASS(TCP), .bytes = IP6_HLEN + TCP_HLEN + 32,
	  .hdr_len = IP6_HLEN + TCP_HLEN, .vlans = 2 },
	{ "mpls_natt4", "one MPLS label, then ESP in UDP 4500",
	  { V4, NATT(64), MPLS(1) }, CLASS(ESP_UDP), .spi = NATT_SPI, .seq = NATT_SEQ,
	  .bytes = IP4_HLEN + UDP_HLEN + ESP_HLEN + 64, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "pppoe_tcp4", "a PPPoE session, then TCP over IPv4 (PPP 0x0021)",
	  { V4, TCP80(32), PPPOE }, CLASS(TCP),
	  .bytes = IP4_HLEN + TCP_HLEN + 32, .hdr_len = IP4_HLEN + TCP_HLEN },
	{ "pppoe_esp6", "a PPPoE session, then ESP over IPv6 (PPP 0x0057)",
	  { V6, ESP(ESP_PAYLOAD), PPPOE }, CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP6_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP6_HLEN },
	{ "vlan_pppoe_esp4", "an 802.1Q tag, a PPPoE session, then ESP",
	  { V4, ESP(ESP_PAYLOAD), .nvlan = 1, .vlan = { VLAN(100) }, PPPOE },
	  CLASS(ESP), .spi = INC_SPI, .seq = INC_SEQ,
	  .bytes = IP4_HLEN + ESP_HLEN + ESP_PAYLOAD, .hdr_len = IP4_HLEN, .vlans = 1 },
	{ "qinq_pppoe_tcp6", "802.1ad and 802.1Q tags, a PPPoE session, then TCP over IPv6",
	  { V6, TCP80(32), .nvlan = 2, .vlan = { SVLAN(200), VLAN(100) }, PPPOE },
	  CLASS(TCP), .bytes = IP6_HLEN + TCP_HLEN + 32,
	  .hdr_len = IP6_HLEN + TCP_HLEN, .vlans = 2 },

	/* ---- wireguard: by header and length, whatever the port ---- */
	{ "wg_init4", "WireGuard handshake initiation (148 bytes)",
	  { V4, WG(wg_init) }, CLASS(WIREGUARD),
	  .bytes = IP4_HLEN + UDP_HLEN + 148, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_resp6", "WireGuard handshake response (92 bytes) over IPv6",
	  { V6, WG(wg_resp) }, CLASS(WIREGUARD),
	  .bytes = IP6_HLEN + UDP_HLEN + 92, .hdr_len = IP6_HLEN + UDP_HLEN },
	{ "wg_cookie4", "WireGuard cookie reply (64 bytes)",
	  { V4, WG(wg_cookie) }, CLASS(WIREGUARD),
	  .bytes = IP4_HLEN + UDP_HLEN + 64, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_data4", "WireGuard transport data (96 bytes) to port 443",
	  { V4, WG_P(WG_PORT, 443, wg_data) }, CLASS(WIREGUARD),
	  .bytes = IP4_HLEN + UDP_HLEN + 96, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_keepalive6", "WireGuard keepalive: transport data of 32 bytes, over IPv6",
	  { V6, WG(wg_keepalive) }, CLASS(WIREGUARD),
	  .bytes = IP6_HLEN + UDP_HLEN + 32, .hdr_len = IP6_HLEN + UDP_HLEN },
	{ "mpls_wg_data4", "one MPLS label, then WireGuard transport data",
	  { V4, WG(wg_data), MPLS(1) }, CLASS(WIREGUARD),
	  .bytes = IP4_HLEN + UDP_HLEN + 96, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_init_short", "a WireGuard initiation one byte short (147): udp",
	  { V4, WG(wg_init_short) }, CLASS(UDP),
	  .bytes = IP4_HLEN + UDP_HLEN + 147, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_data_odd", "WireGuard transport data of 40 bytes (24 past the header): udp",
	  { V4, WG(wg_data_odd) }, CLASS(UDP),
	  .bytes = IP4_HLEN + UDP_HLEN + 40, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_data_short", "WireGuard transport data of 16 bytes: udp",
	  { V4, WG(wg_data_short) }, CLASS(UDP),
	  .bytes = IP4_HLEN + UDP_HLEN + 16, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_reserved", "a WireGuard keepalive with a reserved byte not zero: udp",
	  { V4, WG(wg_reserved) }, CLASS(UDP),
	  .bytes = IP4_HLEN + UDP_HLEN + 32, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_type5", "message type 5 with a WireGuard length: udp",
	  { V4, WG(wg_type5) }, CLASS(UDP),
	  .bytes = IP4_HLEN + UDP_HLEN + 32, .hdr_len = IP4_HLEN + UDP_HLEN },
	{ "wg_port4500", "a WireGuard message from port 4500: the port decides, esp_udp",
	  { V4, WG_P(4500, WG_PORT, wg_data) }, CLASS(ESP_UDP), .spi = 0x04000000,
	  .bytes = IP4_HLEN + UDP_HLEN + 96, .hdr_len = IP4_HLEN + UDP_HLEN },

	/* ---- carriers: no IP inside, or malformed: one reason each ---- */
	{ "mpls_cw_ip4", "MPLS, a pseudowire control word, then IPv4",
	  { V4, TCP80(32), MPLS(1), .mpls_cw = true }, REASON(MPLS_OTHER) },
	{ "mpls_eth_pw", "MPLS carrying an Ethernet frame (no control word)",
	  { ETH, MPLS(2), .payload = arp_req, .payload_len = sizeof(arp_req) },
	  REASON(MPLS_OTHER) },
	{ "mpls_depth9", "nine MPLS labels",
	  { V4, TCP80(32), MPLS(9) }, REASON(MPLS_DEPTH) },
	{ "mpls_trunc", "an MPLS label cut after 2 bytes",
	  { V4, TCP80(32), MPLS(2), .truncate_to = ETH_HLEN + 6 }, REASON(MPLS_TRUNC) },
	{ "mpls_no_bos", "three labels, none the bottom of the stack, then the frame ends",
	  { ETH, MPLS(3), .mpls_no_bos = true }, REASON(MPLS_TRUNC) },
	{ "mpls_empty", "one label, the bottom of the stack, then nothing",
	  { ETH, MPLS(1) }, REASON(MPLS_TRUNC) },
	{ "mpls_ip4_trunc", "MPLS, then an IPv4 header cut after 12 bytes",
	  { V4, TCP80(32), MPLS(1), .truncate_to = ETH_HLEN + 4 + 12 }, REASON(IP4_TRUNC) },
	{ "vlan_mpls_trunc", "an 802.1Q tag, then an MPLS label cut after 3 bytes",
	  { V4, TCP80(32), .nvlan = 1, .vlan = { VLAN(100) }, MPLS(1),
	    .truncate_to = ETH_HLEN + VLAN_HLEN + 3 }, REASON(MPLS_TRUNC), .vlans = 1 },
	{ "pppoe_lcp", "a PPPoE session carrying LCP (0xc021)",
	  { ETH, PPPOE, .ppp_proto = 0xc021, .payload = lcp_req,
	    .payload_len = sizeof(lcp_req) }, REASON(PPPOE_OTHER) },
	{ "pppoe_trunc", "a PPPoE session header cut after 5 bytes",
	  { V4, TCP80(32), PPPOE, .truncate_to = ETH_HLEN + 5 }, REASON(PPPOE_TRUNC) },
	{ "pppoe_bad_ver", "PPPoE version 2",
	  { V4, TCP80(32), PPPOE, .pppoe_ver_type = 0x21 }, REASON(PPPOE_BAD_HDR) },
	{ "pppoe_bad_code", "a PADI code (0x09) behind the session ethertype",
	  { V4, TCP80(32), PPPOE, .pppoe_code = 0x09 }, REASON(PPPOE_BAD_HDR) },
	{ "pppoe_len_short", "PPPoE length 1: no room for the PPP protocol",
	  { V4, TCP80(32), PPPOE, .pppoe_len_short = true }, REASON(PPPOE_BAD_HDR) },
	{ "pppoe_ip6_bad_version", "PPPoE, PPP IPv6, then version 4",
	  { V6, TCP80(32), PPPOE, .ip6_version = 4 }, REASON(IP6_BAD_HDR) },
	{ "pppoe_discovery", "a PPPoE discovery frame (0x8863): non_ip",
	  { ETH, .ethertype = 0x8863, .payload = lcp_req, .payload_len = sizeof(lcp_req) },
	  REASON(NON_IP) },
	{ "macsec", "a MACsec frame (0x88e5)",
	  { ETH, .ethertype = 0x88e5, .payload = macsec_tag, .payload_len = sizeof(macsec_tag) },
	  REASON(MACSEC) },
	{ "vlan_macsec", "an 802.1Q tag, then MACsec",
	  { ETH, .nvlan = 1, .vlan = { VLAN(100) }, .ethertype = 0x88e5,
	    .payload = macsec_tag, .payload_len = sizeof(macsec_tag) },
	  REASON(MACSEC), .vlans = 1 },

	/* ---- tunnels: the outer class, and the packet inside (--decap) ---- */
	{ "vxlan_tcp4", "VXLAN (IPv4) carrying TCP over IPv4",
	  { V4, TUN(VXLAN), .inner = &ove_tcp4 }, CLASS(VXLAN),
	  .bytes = VX4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, INNER(TCP, OV_TCP4_LEN) },
	{ "vxlan_esp4", "VXLAN (IPv4) carrying the incident's ESP",
	  { V4, TUN(VXLAN), .inner = &ove_esp4 }, CLASS(VXLAN),
	  .bytes = VX4 + OV_ESP4_LEN, .hdr_len = HDR4_UDP, INNER(ESP, OV_ESP4_LEN) },
	{ "vxlan_tcp6", "VXLAN (IPv4) carrying TCP over IPv6",
	  { V4, TUN(VXLAN), .inner = &ove_tcp6 }, CLASS(VXLAN),
	  .bytes = VX4 + OV_TCP6_LEN, .hdr_len = HDR4_UDP, INNER(TCP, OV_TCP6_LEN) },
	{ "vxlan6_esp6", "VXLAN over IPv6 carrying ESP over IPv6 (132 bytes of headers)",
	  { V6, TUN(VXLAN), .inner = &ove_esp6 }, CLASS(VXLAN),
	  .bytes = VX6 + OV_ESP6_LEN, .hdr_len = HDR6_UDP, INNER(ESP, OV_ESP6_LEN) },
	{ "vxlan6_tcp4", "VXLAN over IPv6 carrying TCP over IPv4",
	  { V6, TUN(VXLAN), .inner = &ove_tcp4 }, CLASS(VXLAN),
	  .bytes = VX6 + OV_TCP4_LEN, .hdr_len = HDR6_UDP, INNER(TCP, OV_TCP4_LEN) },
	{ "vxlan_vlan_tcp4", "VXLAN carrying an 802.1Q-tagged frame, TCP inside",
	  { V4, TUN(VXLAN), .inner = &ove_vlan_tcp4 }, CLASS(VXLAN),
	  .bytes = VX4 + VLAN_HLEN + OV_TCP4_LEN, .hdr_len = HDR4_UDP,
	  INNER(TCP, OV_TCP4_LEN) },
	{ "vxlan_qinq_esp4", "VXLAN carrying a QinQ-tagged frame, ESP inside",
	  { V4, TUN(VXLAN), .inner = &ove_qinq_esp4 }, CLASS(VXLAN),
	  .bytes = VX4 + 2 * VLAN_HLEN + OV_ESP4_LEN, .hdr_len = HDR4_UDP,
	  INNER(ESP, OV_ESP4_LEN) },
	{ "vlan_vxlan_esp4", "an 802.1Q tag, then VXLAN carrying ESP",
	  { V4, TUN(VXLAN), .inner = &ove_esp4, .nvlan = 1, .vlan = { VLAN(100) } },
	  CLASS(VXLAN), .bytes = VX4 + OV_ESP4_LEN, .hdr_len = HDR4_UDP, .vlans = 1,
	  INNER(ESP, OV_ESP4_LEN) },
	{ "mpls_vxlan_tcp4", "an MPLS label, then VXLAN carrying TCP",
	  { V4, TUN(VXLAN), .inner = &ove_tcp4, MPLS(1) }, CLASS(VXLAN),
	  .bytes = VX4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, INNER(TCP, OV_TCP4_LEN) },
	{ "vxlan_wg4", "VXLAN carrying WireGuard transport data",
	  { V4, TUN(VXLAN), .inner = &ove_wg4 }, CLASS(VXLAN),
	  .bytes = VX4 + OV_WG4_LEN, .hdr_len = HDR4_UDP, INNER(WIREGUARD, OV_WG4_LEN) },
	{ "vxlan_sport4789", "UDP from port 4789 to 40000: not VXLAN (the destination port decides)",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 4789, .dport = 40000, .payload_len = 24 },
	  CLASS(UDP), .bytes = HDR4_UDP + 24, .hdr_len = HDR4_UDP },
	{ "geneve_eth_tcp4", "Geneve carrying an Ethernet frame (0x6558), TCP inside",
	  { V4, TUN(GENEVE), .inner = &ove_tcp4, .inner_eth = true }, CLASS(GENEVE),
	  .bytes = GN4 + ETH_HLEN + OV_TCP4_LEN, .hdr_len = HDR4_UDP,
	  INNER(TCP, OV_TCP4_LEN) },
	{ "geneve_opts_esp4", "Geneve with 8 bytes of options carrying IPv4 ESP (0x0800)",
	  { V4, TUN(GENEVE), .inner = &ov_esp4, .tun_opt_words = 2 }, CLASS(GENEVE),
	  .bytes = GN4 + 8 + OV_ESP4_LEN, .hdr_len = HDR4_UDP, INNER(ESP, OV_ESP4_LEN) },
	{ "geneve6_tcp6", "Geneve over IPv6 carrying IPv6 TCP (0x86dd)",
	  { V6, TUN(GENEVE), .inner = &ov_tcp6 }, CLASS(GENEVE),
	  .bytes = IP6_HLEN + UDP_HLEN + GENEVE_HLEN + OV_TCP6_LEN, .hdr_len = HDR6_UDP,
	  INNER(TCP, OV_TCP6_LEN) },
	{ "gtpu_esp4", "GTP-U G-PDU carrying the incident's ESP",
	  { V4, TUN(GTPU), .inner = &ov_esp4 }, CLASS(GTP_U),
	  .bytes = GT4 + OV_ESP4_LEN, .hdr_len = HDR4_UDP, INNER(ESP, OV_ESP4_LEN) },
	{ "gtpu_tcp4", "GTP-U G-PDU carrying TCP over IPv4",
	  { V4, TUN(GTPU), .inner = &ov_tcp4 }, CLASS(GTP_U),
	  .bytes = GT4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, INNER(TCP, OV_TCP4_LEN) },
	{ "gtpu_tcp6", "GTP-U carrying TCP over IPv6",
	  { V4, TUN(GTPU), .inner = &ov_tcp6 }, CLASS(GTP_U),
	  .bytes = GT4 + OV_TCP6_LEN, .hdr_len = HDR4_UDP, INNER(TCP, OV_TCP6_LEN) },
	{ "gtpu6_esp6", "GTP-U over IPv6 carrying ESP over IPv6",
	  { V6, TUN(GTPU), .inner = &ov_esp6 }, CLASS(GTP_U),
	  .bytes = GT6 + OV_ESP6_LEN, .hdr_len = HDR6_UDP, INNER(ESP, OV_ESP6_LEN) },
	{ "gtpu_seq_tcp4", "GTP-U with a sequence number (S) carrying TCP",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, .gtp_flags = 0x02 }, CLASS(GTP_U),
	  .bytes = GT4 + 4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, INNER(TCP, OV_TCP4_LEN) },
	{ "gtpu_ext_esp4", "GTP-U with a PDU session container extension carrying ESP",
	  { V4, TUN(GTPU), .inner = &ov_esp4, .gtp_next = 1 }, CLASS(GTP_U),
	  .bytes = GT4 + 4 + 4 + OV_ESP4_LEN, .hdr_len = HDR4_UDP,
	  INNER(ESP, OV_ESP4_LEN) },
	{ "gtpu_ext4_tcp4", "GTP-U with four extension headers (the most walked)",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, .gtp_next = 4 }, CLASS(GTP_U),
	  .bytes = GT4 + 4 + 16 + OV_TCP4_LEN, .hdr_len = HDR4_UDP,
	  INNER(TCP, OV_TCP4_LEN) },
	{ "gtpu_from_port", "GTP-U from port 2152 to 40000 (either port)",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, .dport = 40000 }, CLASS(GTP_U),
	  .bytes = GT4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, INNER(TCP, OV_TCP4_LEN) },
	{ "gtp_v0_2152", "GTP version 0 on port 2152: udp",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 2152, .dport = 2152,
	    .payload = gtp_v0, .payload_len = sizeof(gtp_v0) }, CLASS(UDP),
	  .bytes = HDR4_UDP + sizeof(gtp_v0), .hdr_len = HDR4_UDP },
	{ "gtp_empty_2152", "UDP port 2152 without a payload: udp",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 2152, .dport = 2152 }, CLASS(UDP),
	  .bytes = HDR4_UDP, .hdr_len = HDR4_UDP },
	{ "gre6_tcp6", "GRE over IPv6 carrying TCP over IPv6",
	  { V6, .l4 = FRAME_L4_GRE, .inner = &ov_tcp6 }, CLASS(GRE),
	  .bytes = IP6_HLEN + GRE_HLEN + OV_TCP6_LEN, .hdr_len = IP6_HLEN,
	  INNER(TCP, OV_TCP6_LEN) },
	{ "gre_cks_esp4", "GRE with checksum, key and sequence words carrying ESP",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ov_esp4, .gre_flags = 0xb000 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + 12 + OV_ESP4_LEN, .hdr_len = IP4_HLEN,
	  INNER(ESP, OV_ESP4_LEN) },
	{ "gre_key_tcp4", "GRE with a key carrying TCP",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ov_tcp4, .gre_flags = 0x2000 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + 4 + OV_TCP4_LEN, .hdr_len = IP4_HLEN,
	  INNER(TCP, OV_TCP4_LEN) },
	{ "gre_teb_tcp4", "GRE transparent Ethernet bridging (0x6558) carrying TCP",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ove_tcp4, .inner_eth = true }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + ETH_HLEN + OV_TCP4_LEN, .hdr_len = IP4_HLEN,
	  INNER(TCP, OV_TCP4_LEN) },
	{ "gre_teb_vlan_tcp4", "GRE bridging an 802.1Q-tagged frame with a key",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ove_vlan_tcp4, .inner_eth = true,
	    .gre_flags = 0x2000 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + 4 + ETH_HLEN + VLAN_HLEN + OV_TCP4_LEN,
	  .hdr_len = IP4_HLEN, INNER(TCP, OV_TCP4_LEN) },
	{ "gre_vxlan4", "GRE carrying a VXLAN packet: counted as vxlan inside, not deeper",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ov_vxlan4 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + VX4 + OV_TCP4_LEN, .hdr_len = IP4_HLEN,
	  INNER(VXLAN, VX4 + OV_TCP4_LEN) },
	{ "ipip_esp4", "IPv4 in IPv4 carrying the incident's ESP",
	  { V4, .l4 = FRAME_L4_IPIP, .inner = &ov_esp4 }, CLASS(IPIP),
	  .bytes = IP4_HLEN + OV_ESP4_LEN, .hdr_len = IP4_HLEN, INNER(ESP, OV_ESP4_LEN) },
	{ "ipv6_encap6", "IPv6 in IPv6 carrying TCP",
	  { V6, .l4 = FRAME_L4_IPV6_ENCAP, .inner = &ov_tcp6 }, CLASS(IPV6_ENCAP),
	  .bytes = IP6_HLEN + OV_TCP6_LEN, .hdr_len = IP6_HLEN, INNER(TCP, OV_TCP6_LEN) },

	/* ---- tunnels: nothing to count inside, one inner reason each ---- */
	{ "vxlan_no_i", "VXLAN without the I flag",
	  { V4, TUN(VXLAN), .inner = &ove_tcp4, .vxlan_no_i = true }, CLASS(VXLAN),
	  .bytes = VX4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, IREASON(TUN_BAD_HDR) },
	{ "vxlan_arp", "VXLAN carrying ARP",
	  { V4, TUN(VXLAN), .inner = &ove_arp }, CLASS(VXLAN),
	  .bytes = VX4 + sizeof(arp_req), .hdr_len = HDR4_UDP, IREASON(NON_IP) },
	{ "vxlan_vlan3", "VXLAN carrying a frame with three VLAN tags",
	  { V4, TUN(VXLAN), .inner = &ove_vlan3_tcp4 }, CLASS(VXLAN),
	  .bytes = VX4 + 3 * VLAN_HLEN + OV_TCP4_LEN, .hdr_len = HDR4_UDP,
	  IREASON(VLAN_DEPTH) },
	{ "vxlan_cut_hdr", "VXLAN cut 4 bytes into its header",
	  { V4, TUN(VXLAN), .inner = &ove_tcp4, CUT(HDR4_UDP + 4) }, CLASS(VXLAN),
	  .bytes = HDR4_UDP + 4, .hdr_len = HDR4_UDP, IREASON(TUN_TRUNC) },
	{ "vxlan_cut_eth", "VXLAN, then the inner Ethernet header cut after 10 bytes",
	  { V4, TUN(VXLAN), .inner = &ove_tcp4, CUT(HDR4_UDP + VXLAN_HLEN + 10) },
	  CLASS(VXLAN), .bytes = HDR4_UDP + VXLAN_HLEN + 10, .hdr_len = HDR4_UDP,
	  IREASON(ETH_TRUNC) },
	{ "vxlan_cut_vlan", "VXLAN, then the inner VLAN tag cut after 2 bytes",
	  { V4, TUN(VXLAN), .inner = &ove_vlan_tcp4, CUT(VX4 + 2) }, CLASS(VXLAN),
	  .bytes = VX4 + 2, .hdr_len = HDR4_UDP, IREASON(VLAN_TRUNC) },
	{ "vxlan_cut_ip4", "VXLAN, then the inner IPv4 header cut after 12 bytes",
	  { V4, TUN(VXLAN), .inner = &ove_tcp4, CUT(VX4 + 12) }, CLASS(VXLAN),
	  .bytes = VX4 + 12, .hdr_len = HDR4_UDP, IREASON(IP4_TRUNC) },
	{ "vxlan_cut_ip6", "VXLAN, then the inner IPv6 header cut after 30 bytes",
	  { V4, TUN(VXLAN), .inner = &ove_tcp6, CUT(VX4 + 30) }, CLASS(VXLAN),
	  .bytes = VX4 + 30, .hdr_len = HDR4_UDP, IREASON(IP6_TRUNC) },
	{ "vxlan_cut_tcp", "VXLAN, then the inner TCP header cut after 10 bytes",
	  { V4, TUN(VXLAN), .inner = &ove_tcp4, CUT(VX4 + IP4_HLEN + 10) }, CLASS(VXLAN),
	  .bytes = VX4 + IP4_HLEN + 10, .hdr_len = HDR4_UDP, IREASON(L4_TRUNC) },
	{ "vxlan_cut_esp", "VXLAN, then the inner ESP header cut after 4 bytes",
	  { V4, TUN(VXLAN), .inner = &ove_esp4, CUT(VX4 + IP4_HLEN + 4) }, CLASS(VXLAN),
	  .bytes = VX4 + IP4_HLEN + 4, .hdr_len = HDR4_UDP, IREASON(L4_TRUNC) },
	{ "geneve_ver1", "Geneve version 1",
	  { V4, TUN(GENEVE), .inner = &ov_tcp4, .tun_ver = 1 }, CLASS(GENEVE),
	  .bytes = GN4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, IREASON(TUN_BAD_HDR) },
	{ "geneve_other", "Geneve carrying protocol 0x8847 (MPLS)",
	  { V4, TUN(GENEVE), .inner = &ov_tcp4, .tun_proto = 0x8847 }, CLASS(GENEVE),
	  .bytes = GN4 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, IREASON(TUN_OTHER) },
	{ "geneve_cut_hdr", "Geneve cut 6 bytes into its header",
	  { V4, TUN(GENEVE), .inner = &ov_tcp4, CUT(HDR4_UDP + 6) }, CLASS(GENEVE),
	  .bytes = HDR4_UDP + 6, .hdr_len = HDR4_UDP, IREASON(TUN_TRUNC) },
	{ "geneve_cut_opts", "Geneve with 16 bytes of options, cut 8 bytes into them",
	  { V4, TUN(GENEVE), .inner = &ov_tcp4, .tun_opt_words = 4, CUT(GN4 + 8) },
	  CLASS(GENEVE), .bytes = GN4 + 8, .hdr_len = HDR4_UDP, IREASON(TUN_TRUNC) },
	{ "gtpu_echo", "GTP-U echo request (type 1): no user packet",
	  { V4, TUN(GTPU), .gtp_type = 1, .gtp_flags = 0x02 }, CLASS(GTP_U),
	  .bytes = GT4 + 4, .hdr_len = HDR4_UDP, IREASON(TUN_OTHER) },
	{ "gtpu_not_ip", "a GTP-U G-PDU whose payload is neither IPv4 nor IPv6",
	  { V4, TUN(GTPU), .payload_len = 20 }, CLASS(GTP_U),
	  .bytes = GT4 + 20, .hdr_len = HDR4_UDP, IREASON(TUN_OTHER) },
	{ "gtpu_ext_len0", "a GTP-U extension header of length 0",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, .gtp_next = 1, .gtp_ext_len0 = true },
	  CLASS(GTP_U), .bytes = GT4 + 8 + OV_TCP4_LEN, .hdr_len = HDR4_UDP,
	  IREASON(TUN_BAD_HDR) },
	{ "gtpu_ext5", "five GTP-U extension headers: more than are walked",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, .gtp_next = 5 }, CLASS(GTP_U),
	  .bytes = GT4 + 4 + 20 + OV_TCP4_LEN, .hdr_len = HDR4_UDP, IREASON(TUN_OTHER) },
	{ "gtpu_cut_hdr", "GTP-U cut 5 bytes into its header",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, CUT(HDR4_UDP + 5) }, CLASS(GTP_U),
	  .bytes = HDR4_UDP + 5, .hdr_len = HDR4_UDP, IREASON(TUN_TRUNC) },
	{ "gtpu_cut_opt", "GTP-U with S set, cut 2 bytes into the optional fields",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, .gtp_flags = 0x02, CUT(GT4 + 2) },
	  CLASS(GTP_U), .bytes = GT4 + 2, .hdr_len = HDR4_UDP, IREASON(TUN_TRUNC) },
	{ "gtpu_cut_ext", "GTP-U cut 2 bytes into its extension header",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, .gtp_next = 1, CUT(GT4 + 4 + 2) },
	  CLASS(GTP_U), .bytes = GT4 + 4 + 2, .hdr_len = HDR4_UDP, IREASON(TUN_TRUNC) },
	{ "gtpu_cut_inner", "a GTP-U G-PDU that ends with its header",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, CUT(GT4) }, CLASS(GTP_U),
	  .bytes = GT4, .hdr_len = HDR4_UDP, IREASON(TUN_TRUNC) },
	{ "gtpu_cut_ip4", "GTP-U, then the inner IPv4 header cut after 12 bytes",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, CUT(GT4 + 12) }, CLASS(GTP_U),
	  .bytes = GT4 + 12, .hdr_len = HDR4_UDP, IREASON(IP4_TRUNC) },
	{ "gre_v1_pptp", "GRE version 1 (PPTP) carrying PPP",
	  { V4, .l4 = FRAME_L4_GRE, .gre_flags = 0x3001, .tun_proto = 0x880b,
	    .payload_len = 16 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + 8 + 16, .hdr_len = IP4_HLEN, IREASON(TUN_OTHER) },
	{ "gre_routing", "GRE with the routing bit",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ov_tcp4, .gre_flags = 0x4000 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + OV_TCP4_LEN, .hdr_len = IP4_HLEN,
	  IREASON(TUN_BAD_HDR) },
	{ "gre_ver2", "GRE version 2",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ov_tcp4, .gre_flags = 0x0002 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + OV_TCP4_LEN, .hdr_len = IP4_HLEN,
	  IREASON(TUN_BAD_HDR) },
	{ "gre_erspan", "GRE carrying ERSPAN (0x88be)",
	  { V4, .l4 = FRAME_L4_GRE, .tun_proto = 0x88be, .payload_len = 24 }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + 24, .hdr_len = IP4_HLEN, IREASON(TUN_OTHER) },
	{ "gre_cut_hdr", "GRE cut 2 bytes into its header",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ov_tcp4, CUT(IP4_HLEN + 2) }, CLASS(GRE),
	  .bytes = IP4_HLEN + 2, .hdr_len = IP4_HLEN, IREASON(TUN_TRUNC) },
	{ "gre_cut_opts", "GRE with C, K and S, cut 8 bytes into its optional words",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ov_tcp4, .gre_flags = 0xb000,
	    CUT(IP4_HLEN + GRE_HLEN + 8) }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + 8, .hdr_len = IP4_HLEN, IREASON(TUN_TRUNC) },
	{ "gre_teb_cut_eth", "GRE bridging Ethernet, cut 6 bytes into the inner Ethernet",
	  { V4, .l4 = FRAME_L4_GRE, .inner = &ove_tcp4, .inner_eth = true,
	    CUT(IP4_HLEN + GRE_HLEN + 6) }, CLASS(GRE),
	  .bytes = IP4_HLEN + GRE_HLEN + 6, .hdr_len = IP4_HLEN, IREASON(ETH_TRUNC) },
	{ "gre_frag_nonfirst", "a non-first fragment of a GRE packet: no GRE header",
	  { V4, .l4 = FRAME_L4_GRE, .ip4_frag_off = 185, .payload_len = 32 }, CLASS(GRE),
	  .bytes = IP4_HLEN + 32, .hdr_len = IP4_HLEN, IREASON(TUN_TRUNC) },
	{ "ipip_cut_ip4", "IPv4 in IPv4, the inner header cut after 10 bytes",
	  { V4, .l4 = FRAME_L4_IPIP, .inner = &ov_tcp4, CUT(IP4_HLEN + 10) }, CLASS(IPIP),
	  .bytes = IP4_HLEN + 10, .hdr_len = IP4_HLEN, IREASON(IP4_TRUNC) },
	{ "ipip_bad_ver", "protocol 4 carrying a packet of version 6",
	  { V4, .l4 = FRAME_L4_IPIP, .inner = &ov_bad4 }, CLASS(IPIP),
	  .bytes = IP4_HLEN + OV_TCP4_LEN, .hdr_len = IP4_HLEN, IREASON(IP4_BAD_HDR) },
	{ "ipv6_encap_cut", "IPv6 in IPv4, the inner header cut after 20 bytes",
	  { V4, .l4 = FRAME_L4_IPV6_ENCAP, .inner = &ov_tcp6, CUT(IP4_HLEN + 20) },
	  CLASS(IPV6_ENCAP), .bytes = IP4_HLEN + 20, .hdr_len = IP4_HLEN,
	  IREASON(IP6_TRUNC) },

	/* ---- malformed or not IP: one reason each ---- */
	{ "non_ip_arp", "an ARP request",
	  { ETH, .ethertype = 0x0806, .payload = arp_req, .payload_len = sizeof(arp_req) },
	  REASON(NON_IP) },
	{ "eth_trunc", "10 bytes: shorter than an Ethernet header",
	  { V4, TCP80(32), .truncate_to = 10 }, REASON(ETH_TRUNC) },
	{ "vlan_trunc", "an 802.1Q tag cut after 2 bytes",
	  { V4, TCP80(32), .nvlan = 1, .vlan = { VLAN(100) },
	    .truncate_to = ETH_HLEN + 2 }, REASON(VLAN_TRUNC) },
	{ "qinq_trunc", "the inner of two tags cut after 2 bytes",
	  { V4, TCP80(32), .nvlan = 2, .vlan = { SVLAN(200), VLAN(100) },
	    .truncate_to = ETH_HLEN + VLAN_HLEN + 2 }, REASON(VLAN_TRUNC), .vlans = 1 },
	{ "vlan_depth3", "three VLAN tags",
	  { V4, ESP(ESP_PAYLOAD), .nvlan = 3, .vlan = { SVLAN(300), SVLAN(200), VLAN(100) } },
	  REASON(VLAN_DEPTH), .vlans = 2 },
	{ "ip4_trunc", "IPv4 header cut after 12 bytes",
	  { V4, TCP80(32), .truncate_to = ETH_HLEN + 12 }, REASON(IP4_TRUNC) },
	{ "ip4_opts_trunc", "IPv4 header with options (ihl 8) cut after 24 bytes",
	  { V4, ESP(ESP_PAYLOAD), .ip4_ihl = 8, .truncate_to = ETH_HLEN + 24 },
	  REASON(IP4_TRUNC) },
	{ "ip4_bad_ihl", "IPv4 ihl 4",
	  { V4, TCP80(32), .ip4_ihl = 4 }, REASON(IP4_BAD_HDR) },
	{ "ip4_bad_version", "version 6 behind ethertype IPv4",
	  { V4, TCP80(32), .ip4_version = 6 }, REASON(IP4_BAD_HDR) },
	{ "ip6_trunc", "IPv6 header cut after 30 bytes",
	  { V6, TCP80(32), .truncate_to = ETH_HLEN + 30 }, REASON(IP6_TRUNC) },
	{ "ip6_bad_version", "version 4 behind ethertype IPv6",
	  { V6, TCP80(32), .ip6_version = 4 }, REASON(IP6_BAD_HDR) },
	{ "ip6_ext_trunc", "a 16-byte hop-by-hop header cut after 10 bytes",
	  { V6, TCP80(32), .next = 1, .ext = { { .type = 0, .len8 = 1 } },
	    .truncate_to = ETH_HLEN + IP6_HLEN + 10 }, REASON(IP6_EXT_TRUNC) },
	{ "ip6_frag_trunc", "a fragment header cut after 6 bytes",
	  { V6, TCP80(32), .next = 1, .ext = { EXT(44) },
	    .truncate_to = ETH_HLEN + IP6_HLEN + 6 }, REASON(IP6_EXT_TRUNC) },
	{ "ip6_ext_depth9", "nine extension headers",
	  { V6, TCP80(32), .next = 9,
	    .ext = { EXT(0), EXT(60), EXT(60), EXT(60), EXT(60), EXT(60), EXT(60),
		     EXT(60), EXT(60) } }, REASON(IP6_EXT_DEPTH) },
	{ "tcp_trunc", "TCP header cut after 10 bytes",
	  { V4, TCP80(32), .truncate_to = ETH_HLEN + IP4_HLEN + 10 }, REASON(L4_TRUNC) },
	{ "tcp_bad_doff", "TCP doff 4",
	  { V4, TCP80(32), .tcp_doff = 4 }, REASON(L4_BAD_HDR) },
	{ "tcp_opts_trunc", "TCP doff 10 cut after 24 bytes",
	  { V4, TCP80(0), .tcp_doff = 10, .truncate_to = ETH_HLEN + IP4_HLEN + 24 },
	  REASON(L4_TRUNC) },
	{ "udp_trunc", "UDP header cut after 6 bytes",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 40000, .dport = 33434, .payload_len = 24,
	    .truncate_to = ETH_HLEN + IP4_HLEN + 6 }, REASON(L4_TRUNC) },
	{ "udp_bad_len", "UDP length 4",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 40000, .dport = 33434, .payload_len = 24,
	    .udp_len = 4 }, REASON(L4_BAD_HDR) },
	{ "esp_trunc", "ESP cut after 6 bytes",
	  { V4, ESP(ESP_PAYLOAD), .truncate_to = ETH_HLEN + IP4_HLEN + 6 },
	  REASON(L4_TRUNC) },
	{ "esp6_trunc", "ESP over IPv6 cut after 4 bytes",
	  { V6, ESP(ESP_PAYLOAD), .truncate_to = ETH_HLEN + IP6_HLEN + 4 },
	  REASON(L4_TRUNC) },
	{ "esp_udp_trunc", "UDP 4500 with 6 payload bytes: an SPI, no sequence",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 4500, .dport = 4500,
	    .payload = frag_tail + 8, .payload_len = 6 }, REASON(L4_TRUNC) },
	{ "esp_udp_spi_only", "UDP 4500 with 4 payload bytes: an SPI, no sequence",
	  { V4, .l4 = FRAME_L4_UDP, .sport = 4500, .dport = 4500,
	    .payload = frag_tail + 8, .payload_len = 4 }, REASON(L4_TRUNC) },
	{ "esp_udp_spi_trunc", "ESP in UDP cut 2 bytes into the SPI",
	  { V4, NATT(64), .truncate_to = ETH_HLEN + IP4_HLEN + UDP_HLEN + 2 },
	  REASON(L4_TRUNC) },
	{ "wg_cut", "WireGuard transport data cut 2 bytes into the message: not a guess",
	  { V4, WG(wg_data), CUT(HDR4_UDP + 2) }, REASON(L4_TRUNC) },
	{ "gtp_cut_2152", "UDP port 2152 whose payload the frame does not hold",
	  { V4, TUN(GTPU), .inner = &ov_tcp4, CUT(HDR4_UDP) }, REASON(L4_TRUNC) },
	{ "ah_trunc", "AH cut after 8 bytes",
	  { V4, TCP80(32), .next = 1, .ext = { AH_EXT },
	    .truncate_to = ETH_HLEN + IP4_HLEN + 8 }, REASON(L4_TRUNC) },
	{ "ah_bad_len", "AH payload length 0 (8 bytes)",
	  { V4, TCP80(32), .next = 1,
	    .ext = { { .type = 51, .spi = AH_SPI, .seq = AH_SEQ, .ah_len_zero = true } } },
	  REASON(L4_BAD_HDR) },
};

const size_t frame_ncases = sizeof(frame_cases) / sizeof(frame_cases[0]);

const struct frame_case *frame_case_find(const char *name)
{
	for (size_t i = 0; i < frame_ncases; i++)
		if (strcmp(frame_cases[i].name, name) == 0)
			return &frame_cases[i];
	return NULL;
}

static void aim(struct frame_spec *s, const struct frame_addrs *a)
{
	if (!a)
		return;
	if (a->has_dst_mac)
		memcpy(s->dst_mac, a->dst_mac, 6);
	if (a->has_src_mac)
		memcpy(s->src_mac, a->src_mac, 6);
	if (s->l3 == FRAME_L3_IPV4) {
		if (a->has_src4)
			memcpy(s->src4, a->src4, 4);
		if (a->has_dst4)
			memcpy(s->dst4, a->dst4, 4);
	} else if (s->l3 == FRAME_L3_IPV6) {
		if (a->has_src6)
			memcpy(s->src6, a->src6, 16);
		if (a->has_dst6)
			memcpy(s->dst6, a->dst6, 16);
	}
}

/* The inner packet of s aimed by a's inner_dst*, into *in. */
static void aim_inner(struct frame_spec *s, const struct frame_addrs *a,
		      struct frame_spec *in)
{
	if (!a || !s->inner)
		return;
	*in = *s->inner;
	if (in->l3 == FRAME_L3_IPV4 && a->has_inner_dst4)
		memcpy(in->dst4, a->inner_dst4, 4);
	else if (in->l3 == FRAME_L3_IPV6 && a->has_inner_dst6)
		memcpy(in->dst6, a->inner_dst6, 16);
	s->inner = in;
}

int frame_case_build(const struct frame_case *c, const struct frame_addrs *addrs,
		     uint8_t *buf, size_t cap)
{
	struct frame_spec s = c->spec, in;

	aim(&s, addrs);
	aim_inner(&s, addrs, &in);
	return frame_build(&s, buf, cap);
}

/* The map key of the spec's destination. */
static void dst_key(const struct frame_spec *s, uint8_t key[16])
{
	memset(key, 0, 16);
	if (s->l3 == FRAME_L3_IPV4) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, s->dst4, 4);
	} else {
		memcpy(key, s->dst6, 16);
	}
}

bool frame_case_dst(const struct frame_case *c, const struct frame_addrs *addrs,
		    uint8_t key[16])
{
	struct frame_spec s = c->spec;

	if (c->class < 0)
		return false;
	aim(&s, addrs);
	dst_key(&s, key);
	return true;
}

bool frame_case_inner_dst(const struct frame_case *c, const struct frame_addrs *addrs,
			  uint8_t key[16])
{
	struct frame_spec s = c->spec, in;

	if (!c->decap || c->inner_class < 0 || !s.inner)
		return false;
	aim_inner(&s, addrs, &in);
	dst_key(s.inner, key);
	return true;
}

const char *frame_case_outcome(const struct frame_case *c)
{
	return c->class >= 0 ? class_name(c->class) : reason_name(c->reason);
}

int frame_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = b[i];
	return 0;
}
