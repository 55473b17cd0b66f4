// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gen_corpus: write captures built with the frame builder of
 * tests/frames.c, for `protomix replay` and its tests.
 *
 *   gen_corpus [OPTIONS] OUT        (OUT "-": stdout)
 *
 * What goes in (--mode):
 *   corpus  (default) every case of tests/frames.c, each also behind one
 *           and two VLAN tags, then random frames up to --frames N (default
 *           5000): random ports and payloads, VLAN/QinQ (and three tags),
 *           IPv6 extension chains (up to 10 headers, AH among them),
 *           first and non-first fragments, IPv4 options, tunnels, other
 *           protocols, non-IP ethertypes; about one in six truncated or
 *           malformed. Every frame has a destination of its own
 *           (10.64.0.0/10, 2001:db8:c0::/48), but one random frame in
 *           five, well formed, goes to one of 128 shared destinations.
 *   cases   every case once, each aimed at a destination of its own, and
 *           a jumbo (9000 bytes) and a GRO-sized (65549 bytes) TCP frame.
 *           --expect FILE writes what the classifier must make of each
 *           frame: "ADDR CLASS" or "- REASON", one line per frame, and
 *           after a tunnel case's line, when --decap counts the packet
 *           inside under its destination, "+ ADDR CLASS" for it.
 *   seq     the items of --seq NAME:COUNT[:rev] in order, with the cases'
 *           own addresses (rev: source and destination swapped).
 *   dests   --frames N TCP frames, each to a destination of its own (as
 *           many distinct destinations as frames: the map's worst case).
 *
 * How it is written:
 *   --linktype T  en10mb (default), raw, ipv4, ipv6, sll, sll2, null, loop.
 *                 Frames the link type cannot carry (VLAN tags or no IP for
 *                 raw IP and loopback; a version nibble that disagrees with
 *                 the ethertype for raw; under 14 bytes) are left out.
 *   --pcapng      pcapng instead of pcap; --odd adds blocks a reader must
 *                 skip or honour (name resolution, statistics, custom and
 *                 unknown blocks, options, a second interface with another
 *                 timestamp resolution)
 *   --nsec        pcap with nanosecond timestamps
 *   --swapped     pcap in the other byte order
 *   --snaplen N   keep N bytes of each frame (the record keeps its length)
 *   --start SEC   time of the first frame (default 1795780263.852511, the
 *                 incident's 2026-11-27T11:51:03.852511Z); --step NS
 *                 between frames (default 1000000)
 *   --seed N      for the random frames (default 1)
 *
 * Prints the number of frames written on stderr. Exit 2 on bad usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "frames.h"
#include "classes.h"
#include "protomix.h"

#define BUF_MAX		70000

enum lt { LT_EN10MB, LT_RAW, LT_IPV4, LT_IPV6, LT_SLL, LT_SLL2, LT_NULL, LT_LOOP };

static const struct {
	const char *name;
	uint32_t linktype;	/* in the file */
} lts[] = {
	[LT_EN10MB] = { "en10mb", 1 }, [LT_RAW] = { "raw", 101 },
	[LT_IPV4] = { "ipv4", 228 }, [LT_IPV6] = { "ipv6", 229 },
	[LT_SLL] = { "sll", 113 }, [LT_SLL2] = { "sll2", 276 },
	[LT_NULL] = { "null", 0 }, [LT_LOOP] = { "loop", 108 },
};

static struct {
	enum lt lt;
	bool pcapng, odd, nsec, swapped;
	uint32_t snaplen;
	uint64_t t, step;	/* ns */
	FILE *out;
	uint64_t written, skipped;
	bool second_if;		/* pcapng --odd: alternate interfaces */
} w = { .t = 1795780263852511000ull, .step = 1000000 };

static uint64_t rng = 1;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static uint32_t rnd_n(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* ---- writing ------------------------------------------------------ */

static void out(const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, w.out) != n) {
		perror("gen_corpus: write");
		exit(1);
	}
}

static void u16(uint16_t v)
{
	uint8_t b[2];

	if (w.swapped) { b[0] = v >> 8; b[1] = v; }
	else { b[0] = v; b[1] = v >> 8; }
	out(b, 2);
}

static void u32(uint32_t v)
{
	uint8_t b[4];

	for (int i = 0; i < 4; i++)
		b[i] = w.swapped ? v >> (24 - 8 * i) : v >> (8 * i);
	out(b, 4);
}

static void pad4(size_t n)
{
	static const uint8_t zero[4];

	out(zero, (4 - n % 4) % 4);
}

static uint32_t round4(size_t n)
{
	return (n + 3) & ~3u;
}

/* A pcapng block with a body made by the caller: type, length, body,
 * length. body_len must be a multiple of 4. */
static void ng_block_start(uint32_t type, uint32_t body_len)
{
	u32(type);
	u32(body_len + 12);
}

static void ng_block_end(uint32_t body_len)
{
	u32(body_len + 12);
}

/* An option: code, length, value padded to 4. */
static void ng_opt(uint16_t code, const void *v, uint16_t len)
{
	u16(code);
	u16(len);
	out(v, len);
	pad4(len);
}

static uint32_t ng_opt_len(uint16_t len)
{
	return 4 + round4(len);
}

static void ng_idb(uint32_t linktype, uint8_t tsresol, const char *name)
{
	uint32_t body = 8 + ng_opt_len(strlen(name)) + ng_opt_len(1) + 4;

	ng_block_start(1, body);
	u16(linktype);
	u16(0);
	u32(262144);
	ng_opt(2, name, strlen(name));		/* if_name */
	ng_opt(9, &tsresol, 1);			/* if_tsresol */
	u32(0);					/* opt_endofopt */
	ng_block_end(body);
}

static void write_header(void)
{
	if (!w.pcapng) {
		u32(w.nsec ? 0xa1b23c4d : 0xa1b2c3d4);
		u16(2);
		u16(4);
		u32(0);
		u32(0);
		u32(w.snaplen ? w.snaplen : 262144);
		u32(lts[w.lt].linktype);
		return;
	}
	/* Section header: byte-order magic, version 1.0, length unknown. */
	const char *app = "protomix gen_corpus";
	uint32_t body = 16 + (w.odd ? ng_opt_len(strlen(app)) + 4 : 0);

	ng_block_start(0x0a0d0d0a, body);
	u32(0x1a2b3c4d);
	u16(1);
	u16(0);
	u32(0xffffffff);
	u32(0xffffffff);
	if (w.odd) {
		ng_opt(4, app, strlen(app));	/* shb_userappl */
		u32(0);
	}
	ng_block_end(body);
	ng_idb(lts[w.lt].linktype, 9, "cap0");	/* nanoseconds */
	if (w.odd) {
		/* Name resolution: 10.20.0.80 is iwww.intranet. */
		static const uint8_t rec[] = { 10, 20, 0, 80, 'i', 'w', 'w', 'w', '.', 'i',
					       'n', 't', 'r', 'a', 'n', 'e', 't', 0 };
		uint32_t nb = 4 + round4(sizeof(rec)) + 4;

		ng_block_start(4, nb);
		u16(1);
		u16(sizeof(rec));
		out(rec, sizeof(rec));
		pad4(sizeof(rec));
		u32(0);				/* nrb_record_end */
		ng_block_end(nb);
		/* A second interface of the same link type, microseconds. */
		ng_idb(lts[w.lt].linktype, 6, "cap1");
		/* A custom block (copiable) and a block type nobody knows. */
		ng_block_start(0x00000bad, 8);
		u32(32473);			/* PEN: the example enterprise */
		u32(0xdeadbeef);
		ng_block_end(8);
		ng_block_start(0x7ead0001, 4);
		u32(0);
		ng_block_end(4);
	}
}

static void write_trailer(void)
{
	if (w.pcapng && w.odd) {
		/* Interface statistics: counts, no options. */
		ng_block_start(5, 12);
		u32(0);
		u32((uint32_t)(w.t >> 32));
		u32((uint32_t)w.t);
		ng_block_end(12);
	}
}

/* One record of len bytes (already in the link type). */
static void write_record(const uint8_t *p, uint32_t len)
{
	uint32_t caplen = w.snaplen && len > w.snaplen ? w.snaplen : len;
	uint64_t t = w.t;

	w.t += w.step;
	w.written++;
	if (!w.pcapng) {
		u32((uint32_t)(t / 1000000000ull));
		u32((uint32_t)(w.nsec ? t % 1000000000ull : t % 1000000000ull / 1000));
		u32(caplen);
		u32(len);
		out(p, caplen);
		return;
	}
	/* Enhanced packet block; with --odd every other one on interface 1
	 * (microseconds) and every fourth with a comment. */
	bool if1 = w.odd && (w.written % 2 == 0);
	bool comment = w.odd && (w.written % 4 == 1);
	const char *text = "gen_corpus";
	uint64_t ts = if1 ? t / 1000 : t;
	uint32_t body = 20 + round4(caplen) +
			(comment ? ng_opt_len(strlen(text)) + 4 : 0);

	ng_block_start(6, body);
	u32(if1 ? 1 : 0);
	u32((uint32_t)(ts >> 32));
	u32((uint32_t)ts);
	u32(caplen);
	u32(len);
	out(p, caplen);
	pad4(caplen);
	if (comment) {
		ng_opt(1, text, strlen(text));
		u32(0);
	}
	ng_block_end(body);
}

/* Put an Ethernet frame into the link type and write it. Returns false
 * if the link type cannot carry it. */
static bool emit(const uint8_t *f, int len)
{
	static uint8_t buf[BUF_MAX + 32];
	uint16_t type;
	uint32_t fam;
	int n;

	if (w.lt == LT_EN10MB) {
		write_record(f, len);
		return true;
	}
	if (len < 14) {
		w.skipped++;
		return false;
	}
	type = f[12] << 8 | f[13];
	switch (w.lt) {
	case LT_RAW:
	case LT_IPV4:
	case LT_IPV6:
	case LT_NULL:
	case LT_LOOP:
		if ((type != 0x0800 && type != 0x86dd) ||
		    (w.lt == LT_IPV4 && type != 0x0800) ||
		    (w.lt == LT_IPV6 && type != 0x86dd) ||
		    (w.lt == LT_RAW && (len == 14 ||
					(f[14] >> 4) != (type == 0x0800 ? 4 : 6)))) {
			w.skipped++;
			return false;
		}
		n = 0;
		if (w.lt == LT_NULL || w.lt == LT_LOOP) {
			fam = type == 0x0800 ? 2 : 30;
			for (int i = 0; i < 4; i++)
				buf[i] = w.lt == LT_LOOP ? fam >> (24 - 8 * i) : fam >> (8 * i);
			n = 4;
		}
		memcpy(buf + n, f + 14, len - 14);
		write_record(buf, n + len - 14);
		return true;
	case LT_SLL:
		memset(buf, 0, 16);
		buf[3] = 1;			/* ARPHRD_ETHER */
		buf[5] = 6;			/* address length */
		memcpy(buf + 6, f + 6, 6);	/* the source MAC */
		buf[14] = f[12];
		buf[15] = f[13];
		memcpy(buf + 16, f + 14, len - 14);
		write_record(buf, len + 2);
		return true;
	case LT_SLL2:
		memset(buf, 0, 20);
		buf[0] = f[12];
		buf[1] = f[13];
		buf[7] = 2;			/* ifindex */
		buf[9] = 1;			/* ARPHRD_ETHER */
		buf[11] = 6;
		memcpy(buf + 12, f + 6, 6);
		memcpy(buf + 20, f + 14, len - 14);
		write_record(buf, len + 6);
		return true;
	default:
		return false;
	}
}

/* ---- addresses ---------------------------------------------------- */

static uint32_t next_dst;

/* The n-th destination of its own: 10.64.0.0/10 or 2001:db8:c0::/48 (and
 * the packet inside a tunnel case: 10.128.0.0/10, 2001:db8:c1::/48). */
static void own_dst(struct frame_addrs *a, uint32_t n)
{
	memset(a, 0, sizeof(*a));
	a->has_dst4 = a->has_dst6 = true;
	a->dst4[0] = 10;
	a->dst4[1] = 64 + (n >> 16 & 63);
	a->dst4[2] = n >> 8;
	a->dst4[3] = n;
	a->dst6[0] = 0x20, a->dst6[1] = 0x01, a->dst6[2] = 0x0d, a->dst6[3] = 0xb8;
	a->dst6[5] = 0xc0;
	a->dst6[12] = n >> 24;
	a->dst6[13] = n >> 16;
	a->dst6[14] = n >> 8;
	a->dst6[15] = n;
	/* a tunnel's inner packet: 10.128.0.0/10, 2001:db8:c1::/48 */
	a->has_inner_dst4 = a->has_inner_dst6 = true;
	memcpy(a->inner_dst4, a->dst4, 4);
	a->inner_dst4[1] += 64;
	memcpy(a->inner_dst6, a->dst6, 16);
	a->inner_dst6[5] = 0xc1;
}

static void addr_text(const struct frame_spec *s, const struct frame_addrs *a,
		      char *buf, size_t len)
{
	if (s->l3 == FRAME_L3_IPV4)
		inet_ntop(AF_INET, a->dst4, buf, len);
	else
		inet_ntop(AF_INET6, a->dst6, buf, len);
}

/* ---- frames ------------------------------------------------------- */

/* A minimal IKEv2 IKE_SA_INIT header (RFC 7296), no payloads: 28 bytes. */
static const uint8_t ike_hdr[28] = {
	0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81,
	0, 0, 0, 0, 0, 0, 0, 0,
	0, 0x20, 34, 0x08,
	0, 0, 0, 0,
	0, 0, 0, 28,
};

/* An ARP request, 10.10.1.10 asking for 10.20.0.80. */
static const uint8_t arp_req[28] = {
	0, 1, 0x08, 0, 6, 4, 0, 1,
	0x02, 0x00, 0x5e, 0x00, 0x01, 0x10, 10, 10, 1, 10,
	0, 0, 0, 0, 0, 0, 10, 20, 0, 80,
};

static const struct frame_spec inner4 = {
	.l3 = FRAME_L3_IPV4, .src4 = { 192, 0, 2, 1 }, .dst4 = { 198, 51, 100, 1 },
	.l4 = FRAME_L4_ICMP, .payload_len = 16,
};
static const struct frame_spec inner6 = {
	.l3 = FRAME_L3_IPV6,
	.src6 = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 1 },
	.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, [15] = 2 },
	.l4 = FRAME_L4_ICMP6, .payload_len = 16,
};

static const uint8_t mac_gw[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x80 };
static const uint8_t mac_wks[6] = { 0x02, 0x00, 0x5e, 0x00, 0x01, 0x10 };

/* Add ntags VLAN tags in front of the case's own (and move a truncation
 * point with them). */
static void add_tags(struct frame_spec *s, int ntags)
{
	for (int i = s->nvlan - 1; i >= 0; i--)
		s->vlan[i + ntags] = s->vlan[i];
	for (int i = 0; i < ntags; i++)
		s->vlan[i] = (struct frame_vlan){ .tpid = i + 1 < ntags ||
			      s->nvlan ? 0x88a8 : 0x8100, .tci = 100 + i };
	s->nvlan += ntags;
	if (s->truncate_to)
		s->truncate_to += 4 * ntags;
}

/* A random frame, cut short or malformed now and then if `bad`; its
 * destination aimed by the caller. */
static void random_spec(struct frame_spec *s, uint8_t *payload, bool bad)
{
	static const uint8_t ext_types[] = { 43, 60, 44, 60, 43 };
	static const uint8_t raw_protos[] = { 99, 59, 253, 254, 114, 61, 63, 68 };
	static const uint16_t non_ip[] = { 0x0806, 0x88b5, 0x88b6 };
	uint32_t r = rnd_n(100);
	bool v6;

	memset(s, 0, sizeof(*s));
	memcpy(s->dst_mac, mac_gw, 6);
	memcpy(s->src_mac, mac_wks, 6);
	r = rnd_n(100);
	s->nvlan = r < 70 ? 0 : r < 85 ? 1 : r < 96 ? 2 : 3;
	for (int i = 0; i < s->nvlan; i++)
		s->vlan[i] = (struct frame_vlan){ .tpid = i + 1 < s->nvlan ? 0x88a8 : 0x8100,
						  .tci = rnd_n(4095) + 1 };
	s->payload_len = rnd_n(4) == 0 ? 0 : rnd_n(200);
	for (size_t i = 0; i < s->payload_len; i++)
		payload[i] = rnd();
	s->payload = payload;
	if (rnd_n(50) == 0) {
		s->l3 = FRAME_L3_NONE;
		s->ethertype = non_ip[rnd_n(sizeof(non_ip) / sizeof(non_ip[0]))];
		if (s->ethertype == 0x0806) {
			s->payload = arp_req;
			s->payload_len = sizeof(arp_req);
		} else if (s->payload_len < 46) {
			s->payload_len = 46;
		}
		return;
	}
	v6 = rnd_n(2);
	s->l3 = v6 ? FRAME_L3_IPV6 : FRAME_L3_IPV4;
	memcpy(s->src4, (uint8_t[]){ 10, 10, 1, 10 }, 4);
	memcpy(s->src6, (uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, [15] = 0x10 }, 16);

	/* What follows the IP header. */
	r = rnd_n(100);
	if (r < 22) {
		s->l4 = FRAME_L4_TCP;
		s->sport = 1024 + rnd_n(64000);
		s->dport = rnd_n(3) ? 80 + rnd_n(2) * 363 : 1024 + rnd_n(64000);
		s->tcp_doff = rnd_n(4) ? 5 : 5 + rnd_n(11);
	} else if (r < 44) {
		s->l4 = FRAME_L4_UDP;
		s->sport = 1024 + rnd_n(64000);
		s->dport = 1024 + rnd_n(64000);
		switch (rnd_n(6)) {
		case 0:		/* IKE on 500 */
			s->sport = s->dport = 500;
			memcpy(payload, ike_hdr, sizeof(ike_hdr));
			s->payload_len = sizeof(ike_hdr);
			break;
		case 1:		/* ESP in UDP, either port */
			if (rnd_n(2))
				s->sport = 4500;
			else
				s->dport = 4500;
			s->udp_esp = true;
			s->spi = rnd() | 1;
			s->seq = rnd();
			break;
		case 2:		/* 4500 with the non-ESP marker, a keepalive, or short */
			s->sport = s->dport = 4500;
			if (rnd_n(2)) {		/* keepalive, or under 4 bytes */
				s->payload_len = rnd_n(4);
				if (s->payload_len)
					payload[0] = 0xff;
			} else {		/* non-ESP marker, then IKE */
				memset(payload, 0, 4);
				memcpy(payload + 4, ike_hdr, sizeof(ike_hdr));
				s->payload_len = 4 + sizeof(ike_hdr);
			}
			break;
		}
	} else if (r < 54) {
		s->l4 = v6 && rnd_n(8) ? FRAME_L4_ICMP6 : FRAME_L4_ICMP;
	} else if (r < 58) {
		size_t n = 1 + rnd_n(40);

		s->l4 = FRAME_L4_SCTP;
		s->sport = 1024 + rnd_n(64000);
		s->dport = 1024 + rnd_n(64000);
		/* A DATA chunk: type, flags B|E, length, TSN, stream, SSN, PPID */
		memset(payload, 0, 16 + n + 3);
		payload[1] = 3;
		payload[2] = (16 + n) >> 8;
		payload[3] = (16 + n) & 0xff;
		payload[7] = 1;
		s->payload_len = (16 + n + 3) & ~(size_t)3;
	} else if (r < 72) {
		s->l4 = FRAME_L4_ESP;
		s->spi = rnd();
		s->seq = rnd();
	} else if (r < 78) {
		s->l4 = FRAME_L4_GRE;
		s->inner = rnd_n(2) ? &inner4 : &inner6;
	} else if (r < 82) {
		s->l4 = FRAME_L4_IPIP;
		s->inner = &inner4;
	} else if (r < 86) {
		s->l4 = FRAME_L4_IPV6_ENCAP;
		s->inner = &inner6;
	} else {
		s->l4 = FRAME_L4_RAW;
		s->proto = raw_protos[rnd_n(sizeof(raw_protos))];
	}

	/* Extension headers, options, fragments. */
	if (v6) {
		int n = rnd_n(2) ? 0 : 1 + rnd_n(rnd_n(4) ? 4 : 10);
		bool frag = false;

		for (int i = 0; i < n; i++) {
			struct frame_ext *e = &s->ext[s->next++];

			e->type = i == 0 && rnd_n(3) == 0 ? 0 : ext_types[rnd_n(sizeof(ext_types))];
			if (e->type == 44) {
				if (frag) {
					e->type = 60;
				} else {
					frag = true;
					e->frag_off = rnd_n(3) == 0 ? 1 + rnd_n(8000) : 0;
					e->more = e->frag_off ? rnd_n(2) : true;
				}
			}
			if (e->type != 44)
				e->len8 = rnd_n(3) ? 0 : rnd_n(4);
			if (rnd_n(12) == 0 && !e->frag_off) {
				e->type = 51;
				e->len8 = 0;
				e->spi = rnd() | 1;
				e->seq = rnd();
			}
			if (e->frag_off)
				break;
		}
	} else {
		if (rnd_n(6) == 0)
			s->ip4_ihl = 6 + rnd_n(10);
		r = rnd_n(10);
		if (r == 0) {
			s->ip4_mf = true;
		} else if (r == 1) {
			s->ip4_frag_off = 1 + rnd_n(8000);
			s->ip4_mf = rnd_n(2);
		}
		if (rnd_n(14) == 0) {
			s->ext[0] = (struct frame_ext){ .type = 51, .spi = rnd() | 1,
							.seq = rnd() };
			s->next = 1;
		}
	}

	/* Malformed or cut short, about one frame in six. */
	switch (bad ? rnd_n(36) : 36) {
	case 0: case 1: case 2:
		s->truncate_to = 1 + rnd_n(14 + 4 * s->nvlan + (v6 ? 120 : 80));
		break;
	case 3:
		if (!v6)
			s->ip4_ihl = rnd_n(5);
		break;
	case 4:
		if (v6)
			s->ip6_version = 1 + rnd_n(5);
		else
			s->ip4_version = 5 + rnd_n(10);
		break;
	case 5:
		if (s->l4 == FRAME_L4_TCP)
			s->tcp_doff = rnd_n(5);
		else if (s->l4 == FRAME_L4_UDP)
			s->udp_len = rnd_n(8);
		break;
	case 6:
		if (s->next && s->ext[s->next - 1].type == 51)
			s->ext[s->next - 1].ah_len_zero = true;
		else
			s->pad_to = 60;
		break;
	}
}

/* One random frame in five goes, well formed, to one of SHARED_DSTS
 * destinations that many frames share (their per-destination counts add
 * up); the others each to a destination of its own. */
#define SHARED_DSTS	128
#define SHARED_BASE	0x300000	/* 10.112.0.0/16, 2001:db8:c0::30:0/112 */

static int build_random(uint8_t *buf, struct frame_spec *s, uint8_t *payload)
{
	bool shared = rnd_n(5) == 0;
	uint32_t n = shared ? SHARED_BASE + rnd_n(SHARED_DSTS) : next_dst;
	struct frame_addrs a;
	int len;

	do {
		random_spec(s, payload, !shared);
		own_dst(&a, n);
		if (s->l3 == FRAME_L3_IPV4)
			memcpy(s->dst4, a.dst4, 4);
		else if (s->l3 == FRAME_L3_IPV6)
			memcpy(s->dst6, a.dst6, 16);
		len = frame_build(s, buf, BUF_MAX);
	} while (len < 0);
	if (!shared)
		next_dst++;
	return len;
}

/* One case aimed at a destination of its own; its expectation to ex. */
static void emit_case(const struct frame_case *c, int ntags, FILE *ex)
{
	static uint8_t buf[BUF_MAX];
	struct frame_case cc = *c;
	struct frame_addrs a;
	char addr[64];
	int len;

	add_tags(&cc.spec, ntags);
	own_dst(&a, next_dst++);
	len = frame_case_build(&cc, &a, buf, sizeof(buf));
	if (len < 0) {
		fprintf(stderr, "gen_corpus: case %s does not build\n", c->name);
		exit(1);
	}
	if (!emit(buf, len) || !ex)
		return;
	/* Two tags more than the parser takes: vlan_depth. */
	if (cc.spec.nvlan > PM_MAX_VLAN && (c->class >= 0 || c->spec.nvlan <= PM_MAX_VLAN)) {
		fprintf(ex, "- %s\n", reason_name(PM_R_VLAN_DEPTH));
		return;
	}
	if (c->class >= 0) {
		uint8_t key[16];

		addr_text(&cc.spec, &a, addr, sizeof(addr));
		fprintf(ex, "%s %s\n", addr, class_name(c->class));
		if (frame_case_inner_dst(&cc, &a, key)) {
			if (cc.spec.inner->l3 == FRAME_L3_IPV4)
				inet_ntop(AF_INET, key + 12, addr, sizeof(addr));
			else
				inet_ntop(AF_INET6, key, addr, sizeof(addr));
			fprintf(ex, "+ %s %s\n", addr, class_name(c->inner_class));
		}
	} else {
		fprintf(ex, "- %s\n", reason_name(c->reason));
	}
}

/* TCP frames longer than one XDP buffer: a jumbo and a GRO-sized one. */
static void emit_big(FILE *ex)
{
	static uint8_t buf[BUF_MAX];
	static const size_t payload[] = { 9000 - 14 - 20 - 20, 65535 - 20 - 20 };
	struct frame_addrs a;
	char addr[64];

	for (size_t i = 0; i < 2; i++) {
		struct frame_spec s = {
			.l3 = FRAME_L3_IPV4, .src4 = { 10, 10, 1, 10 },
			.l4 = FRAME_L4_TCP, .sport = 49152, .dport = 80,
			.payload_len = payload[i],
		};
		int len;

		memcpy(s.dst_mac, mac_gw, 6);
		memcpy(s.src_mac, mac_wks, 6);
		own_dst(&a, next_dst++);
		memcpy(s.dst4, a.dst4, 4);
		len = frame_build(&s, buf, sizeof(buf));
		if (len < 0 || !emit(buf, len) || !ex)
			continue;
		addr_text(&s, &a, addr, sizeof(addr));
		fprintf(ex, "%s tcp\n", addr);
	}
}

static void swap_addrs(struct frame_spec *s)
{
	uint8_t t[16];

	memcpy(t, s->src4, 4);
	memcpy(s->src4, s->dst4, 4);
	memcpy(s->dst4, t, 4);
	memcpy(t, s->src6, 16);
	memcpy(s->src6, s->dst6, 16);
	memcpy(s->dst6, t, 16);
}

static void emit_seq(const char *item)
{
	static uint8_t buf[BUF_MAX];
	char name[64], *p;
	const struct frame_case *c;
	struct frame_spec s;
	unsigned long count = 1;
	bool rev = false;
	int len;

	snprintf(name, sizeof(name), "%s", item);
	if ((p = strchr(name, ':'))) {
		*p++ = 0;
		count = strtoul(p, &p, 10);
		if (*p == ':' && !strcmp(p + 1, "rev"))
			rev = true;
		else if (*p) {
			fprintf(stderr, "gen_corpus: bad --seq item '%s' (NAME:COUNT[:rev])\n", item);
			exit(2);
		}
	}
	c = frame_case_find(name);
	if (!c) {
		fprintf(stderr, "gen_corpus: unknown case '%s'\n", name);
		exit(2);
	}
	s = c->spec;
	if (rev)
		swap_addrs(&s);
	len = frame_build(&s, buf, sizeof(buf));
	for (unsigned long i = 0; i < count && len >= 0; i++)
		emit(buf, len);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gen_corpus [--mode corpus|cases|seq|dests] [--frames N] [--seed N]\n"
		"                  [--linktype en10mb|raw|ipv4|ipv6|sll|sll2|null|loop]\n"
		"                  [--pcapng [--odd]] [--nsec] [--swapped] [--snaplen N]\n"
		"                  [--start SEC[.FRAC]] [--step NS] [--expect FILE]\n"
		"                  [--seq NAME:COUNT[:rev]]... OUT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	enum { O_MODE = 256, O_FRAMES, O_SEED, O_LT, O_PCAPNG, O_ODD, O_NSEC,
	       O_SWAPPED, O_SNAPLEN, O_START, O_STEP, O_EXPECT, O_SEQ };
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, O_MODE },
		{ "frames", required_argument, NULL, O_FRAMES },
		{ "seed", required_argument, NULL, O_SEED },
		{ "linktype", required_argument, NULL, O_LT },
		{ "pcapng", no_argument, NULL, O_PCAPNG },
		{ "odd", no_argument, NULL, O_ODD },
		{ "nsec", no_argument, NULL, O_NSEC },
		{ "swapped", no_argument, NULL, O_SWAPPED },
		{ "snaplen", required_argument, NULL, O_SNAPLEN },
		{ "start", required_argument, NULL, O_START },
		{ "step", required_argument, NULL, O_STEP },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "seq", required_argument, NULL, O_SEQ },
		{}
	};
	const char *mode = "corpus", *expect = NULL, *seqs[256];
	unsigned long frames = 5000;
	int nseq = 0, c;
	FILE *ex = NULL;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_MODE: mode = optarg; break;
		case O_FRAMES: frames = strtoul(optarg, NULL, 10); break;
		case O_SEED: rng = strtoull(optarg, NULL, 10) * 2654435761u + 1; break;
		case O_LT:
			for (c = 0; c < (int)(sizeof(lts) / sizeof(lts[0])); c++)
				if (!strcmp(optarg, lts[c].name))
					break;
			if (c == (int)(sizeof(lts) / sizeof(lts[0])))
				usage();
			w.lt = c;
			break;
		case O_PCAPNG: w.pcapng = true; break;
		case O_ODD: w.odd = true; break;
		case O_NSEC: w.nsec = true; break;
		case O_SWAPPED: w.swapped = true; break;
		case O_SNAPLEN: w.snaplen = strtoul(optarg, NULL, 10); break;
		case O_START: {
			char *end;
			double d = strtod(optarg, &end);
			char *dot = strchr(optarg, '.');
			uint64_t frac = 0;
			int digits = 0;

			if (*end)
				usage();
			if (dot)
				for (char *q = dot + 1; *q && digits < 9; q++, digits++)
					frac = frac * 10 + (*q - '0');
			while (digits++ < 9)
				frac *= 10;
			w.t = (uint64_t)d * 1000000000ull + (dot ? frac : 0);
			break;
		}
		case O_STEP: w.step = strtoull(optarg, NULL, 10); break;
		case O_EXPECT: expect = optarg; break;
		case O_SEQ:
			if (nseq == 256)
				usage();
			seqs[nseq++] = optarg;
			break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();
	w.out = strcmp(argv[optind], "-") ? fopen(argv[optind], "wb") : stdout;
	if (!w.out) {
		fprintf(stderr, "gen_corpus: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (expect && !(ex = fopen(expect, "w"))) {
		fprintf(stderr, "gen_corpus: %s: %s\n", expect, strerror(errno));
		return 1;
	}
	write_header();

	if (!strcmp(mode, "cases")) {
		for (size_t i = 0; i < frame_ncases; i++)
			emit_case(&frame_cases[i], 0, ex);
		emit_big(ex);
	} else if (!strcmp(mode, "corpus")) {
		static uint8_t buf[BUF_MAX], payload[256];
		struct frame_spec s;

		for (int tags = 0; tags <= 2; tags++)
			for (size_t i = 0; i < frame_ncases; i++)
				if (!tags || !frame_cases[i].spec.nvlan)
					emit_case(&frame_cases[i], tags, NULL);
		while (w.written < frames)
			emit(buf, build_random(buf, &s, payload));
	} else if (!strcmp(mode, "seq")) {
		for (int i = 0; i < nseq; i++)
			emit_seq(seqs[i]);
	} else if (!strcmp(mode, "dests")) {
		static uint8_t buf[BUF_MAX];
		struct frame_case tcp = *frame_case_find("tcp4");
		struct frame_addrs a;

		for (unsigned long i = 0; i < frames; i++) {
			own_dst(&a, next_dst++);
			emit(buf, frame_case_build(&tcp, &a, buf, sizeof(buf)));
		}
	} else {
		usage();
	}
	write_trailer();
	if (fflush(w.out) || (w.out != stdout && fclose(w.out))) {
		perror("gen_corpus: write");
		return 1;
	}
	if (ex)
		fclose(ex);
	fprintf(stderr, "gen_corpus: %llu frames written, %llu left out (%s)\n",
		(unsigned long long)w.written, (unsigned long long)w.skipped,
		lts[w.lt].name);
	return 0;
}
