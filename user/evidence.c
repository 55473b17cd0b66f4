// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpdump's line for a captured frame (see evidence.h).
 *
 * Each printer below prints what the printer of the same name in tcpdump
 * 4.99 prints without -e and -v, in the same order, so that a frame cut
 * short stops where tcpdump stops, with its " [|proto]" mark. Where
 * tcpdump goes on into a printer this file does not have (DNS, IKE's
 * payloads, ...), the line stops and is marked a prefix. docs/alerts.md
 * ("The evidence line") lists both, and tests/evidence_test.sh holds the
 * lines to tcpdump's. GTP-U, which tcpdump leaves at "UDP, length N", is
 * decoded in words of our own (ev_gtpu(); the same section says which).
 *
 * The IPsec, tunnel and carrier printers (ESP, IKE, AH, VXLAN, Geneve,
 * GRE, GTP-U, MPLS, PPPoE) are in evidence_tunnel.c; evidence_dec.h holds
 * what the two files share (the line being written, the cursor, the
 * helpers). The printers one file calls in the other carry an ev_
 * prefix (ev_ip4 is tcpdump's ip printer), global symbols as they are.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include "evidence.h"
#include "evidence_dec.h"

static const char *addr(const struct ipctx *ip, const uint8_t *a, char *buf)
{
	return inet_ntop(ip->v6 ? AF_INET6 : AF_INET, a, buf, INET6_ADDRSTRLEN);
}

/* "SRC > DST" of the IP header, then sep. */
static void addrs(struct out *o, const struct ipctx *ip, const char *sep)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	out(o, "%s > %s%s", addr(ip, ip->src, s), addr(ip, ip->dst, d), sep);
}

/* "SRC.SPORT > DST.DPORT: ", or "SPORT > DPORT: " when the IP header
 * does not name proto itself (AH or extension headers between). */
static void ports(struct out *o, const struct ipctx *ip, uint8_t proto,
		  uint16_t sport, uint16_t dport)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	if (ip->nxt == proto)
		out(o, "%s.%u > %s.%u: ", addr(ip, ip->src, s), sport,
		    addr(ip, ip->dst, d), dport);
	else
		out(o, "%u > %u: ", sport, dport);
}

/* ---- transports -------------------------------------------------------- */

/* UDP ports tcpdump 4.99 hands to a printer this file does not have: the
 * line stops after the ports (all ports under 1024 but 443 and 500, and
 * these). 443: no QUIC without -T quic. */
static bool udp_printer_port(uint16_t port)
{
	static const uint16_t high[] = {
		1589, 1645, 1646, 1701, 1812, 1813, 1985, 2103, 2104, 3456,
		3503, 3784, 3785, 4341, 4342, 4567, 4754, 4784, 4790, 5060,
		5246, 5247, 5353, 5355, 5359, 6343, 6635, 6696, 6697, 8231,
		8472, 12222, 12223, 17754, 30490,
	};

	if (port == 443 || port == 500)
		return false;
	if (port < 1024 || (port >= 7000 && port <= 7009))
		return true;
	for (size_t i = 0; i < sizeof(high) / sizeof(high[0]); i++)
		if (high[i] == port)
			return true;
	return false;
}

static void udp(struct out *o, const struct ipctx *ip, struct cur c, uint32_t length)
{
	uint16_t sport, dport;
	uint32_t ulen;

	if (!have(&c, c.p, 4)) {
		if (ip->nxt == 17)	/* no ports: the addresses alone */
			addrs(o, ip, ": ");
		return cut(o, "udp");
	}
	sport = be16(c.p);
	dport = be16(c.p + 2);
	if (length < 8) {
		ports(o, ip, 17, sport, dport);
		return out(o, "truncated-udp %u", length);
	}
	if (!have(&c, c.p, 6)) {
		ports(o, ip, 17, sport, dport);
		return cut(o, "udp");
	}
	ulen = be16(c.p + 4);
	if (ulen < 8) {
		ports(o, ip, 17, sport, dport);
		return out(o, "truncated-udplength %u", ulen);
	}
	ulen -= 8;
	length -= 8;
	if (ulen < length)
		length = ulen;
	c.p += 8;
	ports(o, ip, 17, sport, dport);
	if (c.p > c.end)
		return cut(o, "udp");
	if (udp_printer_port(sport) || udp_printer_port(dport))
		return stop(o);
	if (sport == 500 || dport == 500)
		return ev_isakmp(o, c);
	if (sport == 4500 || dport == 4500)
		return ev_natt(o, c, length);
	if (sport == 4789 || dport == 4789)
		return ev_vxlan(o, c, length);
	if (sport == 6081 || dport == 6081)
		return ev_geneve(o, c, length);
	if ((sport == 2152 || dport == 2152) && ev_gtpu(o, c, length))
		return;
	if (ulen > length && !ip->more_frags)
		out(o, "UDP, bad length %u > %u", ulen, length);
	else
		out(o, "UDP, length %u", ulen);
}

/* TCP ports tcpdump 4.99 hands a segment's data to (besides HTTP's):
 * every port under 1024 but 443 (TLS is not printed), and these. */
static bool tcp_printer_port(uint16_t port)
{
	static const uint16_t high[] = {
		1723, 2049, 3128, 5060, 6379, 6633, 6653, 8554, 10288,
	};

	if (port < 1024 && port != 443)
		return true;
	for (size_t i = 0; i < sizeof(high) / sizeof(high[0]); i++)
		if (high[i] == port)
			return true;
	return false;
}

static bool http_port(uint16_t port)
{
	return port == 80 || port == 8080 || port == 3128;
}

/* tcpdump's LENCHECK for l bytes of an option's data at p: past the
 * header's length a bad option (the line stops), past the capture its
 * mark, followed by ">" after the first option. */
static bool opt_data(struct out *o, const struct cur *c, const uint8_t *p,
		     uint32_t l, uint32_t hlen, char ch)
{
	if (l > hlen) {
		stop(o);
		return false;
	}
	if (!have(c, p, l)) {
		cut(o, "tcp");
		if (ch)
			out(o, ">");
		return false;
	}
	return true;
}

/* The options of a TCP header, "options [...]"; false when the line
 * stopped (cut, or an option this file does not print). */
static bool tcp_options(struct out *o, struct cur c, const uint8_t *p,
			uint32_t hlen, bool has_ack, uint32_t ack)
{
	char ch = 0;

	out(o, ", options [");
	while (hlen > 0) {
		uint32_t len = 1, datalen = 0;
		uint8_t opt;

		if (ch)
			out(o, "%c", ch);
		if (!have(&c, p, 1) || (p[0] > 1 && !have(&c, p, 2))) {
			cut(o, "tcp");	/* no kind, or no length */
			return false;
		}
		opt = *p++;
		if (opt > 1) {
			len = *p++;
			if (len < 2 || len > hlen) {
				stop(o);	/* "[bad opt]" */
				return false;
			}
			hlen--;
		}
		hlen--;
		switch (opt) {
		case 0:
			out(o, "eol");
			break;
		case 1:
			out(o, "nop");
			break;
		case 2:
			out(o, "mss");
			datalen = 2;
			if (!opt_data(o, &c, p, datalen, hlen, ch))
				return false;
			out(o, " %u", be16(p));
			break;
		case 3:
			out(o, "wscale");
			datalen = 1;
			if (!opt_data(o, &c, p, datalen, hlen, ch))
				return false;
			out(o, " %u", p[0]);
			break;
		case 4:
			out(o, "sackOK");
			break;
		case 5:
			out(o, "sack");
			datalen = len - 2;
			if (datalen % 8) {
				out(o, " invalid sack");
				break;
			}
			out(o, " %u ", datalen / 8);
			for (uint32_t i = 0; i < datalen; i += 8) {
				uint32_t s, e;

				if (!opt_data(o, &c, p, i + 8, hlen, ch))
					return false;
				s = be32(p + i);
				e = be32(p + i + 4);
				if (has_ack) {	/* relative, as to the first packet */
					s -= ack - 1;
					e -= ack - 1;
				}
				out(o, "{%u:%u}", s, e);
			}
			break;
		case 8:
			out(o, "TS");
			datalen = 8;
			if (!opt_data(o, &c, p, datalen, hlen, ch))
				return false;
			out(o, " val %u ecr %u", be32(p), be32(p + 4));
			break;
		default:
			stop(o);
			return false;
		}
		p += datalen;
		hlen -= datalen;
		datalen += opt > 1 ? 2 : 1;
		if (datalen != len)
			out(o, "[len %u]", len);
		ch = ',';
		if (opt == 0)
			break;
	}
	out(o, "]");
	return true;
}

static void tcp(struct out *o, const struct ipctx *ip, struct cur c, uint32_t length)
{
	static const char fl[] = "FSRP.UEW";
	uint16_t sport, dport;
	uint32_t hlen, seq, ack;
	char flags[9];
	size_t n = 0;
	uint8_t f;

	if (!have(&c, c.p, 4)) {
		addrs(o, ip, ":");
		return cut(o, "tcp");
	}
	sport = be16(c.p);
	dport = be16(c.p + 2);
	ports(o, ip, 6, sport, dport);
	if (!have(&c, c.p, 20))
		return cut(o, "tcp");
	hlen = (c.p[12] >> 4) * 4u;
	if (hlen < 20)
		return out(o, " tcp %u [bad hdr length %u - too short, < 20]",
			   length - hlen, hlen);
	seq = be32(c.p + 4);
	ack = be32(c.p + 8);
	f = c.p[13];
	for (int i = 0; i < 8; i++)
		if (f & 1 << i)
			flags[n++] = fl[i];
	flags[n] = 0;
	out(o, "Flags [%s]", n ? flags : "none");
	if (hlen > length)
		return out(o, " [bad hdr length %u - too long, > %u]", hlen, length);
	length -= hlen;
	if (length > 0 || f & 0x07) {
		out(o, ", seq %u", seq);
		if (length > 0)
			out(o, ":%u", seq + length);
	}
	if (f & 0x10)
		out(o, ", ack %u", ack);
	out(o, ", win %u", be16(c.p + 14));
	if (f & 0x20)
		out(o, ", urg %u", be16(c.p + 18));
	if (hlen > 20 && !tcp_options(o, c, c.p + 20, hlen - 20, f & 0x10, ack))
		return;
	out(o, ", length %u", length);
	if (!length)
		return;
	c.p += hlen;
	if (http_port(sport) || http_port(dport)) {
		/* tcpdump says HTTP, and quotes a request or response line */
		if (!have(&c, c.p, 1))
			return stop(o);
		out(o, ": HTTP");
		if (c.p[0] > 0x20 && c.p[0] < 0x7f)
			stop(o);
		return;
	}
	if (tcp_printer_port(sport) || tcp_printer_port(dport))
		stop(o);
}

/* ---- ICMP ---------------------------------------------------------------- */

static void icmp(struct out *o, struct cur c, uint32_t length)
{
	if (c.p < c.end && c.p[0] != 0 && c.p[0] != 8)
		return stop(o);		/* tcpdump reads what the type quotes */
	if (!have(&c, c.p, 8))
		return cut(o, "icmp");
	out(o, "ICMP echo %s, id %u, seq %u, length %u",
	    c.p[0] == 8 ? "request" : "reply", be16(c.p + 4), be16(c.p + 6), length);
}

static void icmp6(struct out *o, struct cur c, uint32_t length)
{
	if (!have(&c, c.p, 8))
		return stop(o);
	out(o, "ICMP6, ");
	if (c.p[0] != 128 && c.p[0] != 129)
		return stop(o);
	out(o, "echo %s, id %u, seq %u, length %u",
	    c.p[0] == 128 ? "request" : "reply", be16(c.p + 4), be16(c.p + 6), length);
}

/* ---- IP ---------------------------------------------------------------- */

/* IP protocols tcpdump 4.99 has a printer for that this file has not:
 * the line stops at them. Any other unknown one is "ip-proto-N LEN". */
static bool ip_printer_proto(uint8_t nh)
{
	static const uint8_t known[] = {
		2, 8, 9, 33, 46, 55, 77, 88, 89, 94, 103, 108, 112, 113, 115, 132,
	};

	for (size_t i = 0; i < sizeof(known); i++)
		if (known[i] == nh)
			return true;
	return false;
}

/* What follows an IP header (or AH), by its protocol number. */
void ev_demux(struct out *o, const struct ipctx *ip, uint8_t nh,
	      struct cur c, uint32_t length)
{
	switch (nh) {
	case 1:
		return icmp(o, c, length);
	case 4:
		return ev_ip4(o, c, length);
	case 6:
		return tcp(o, ip, c, length);
	case 17:
		return udp(o, ip, c, length);
	case 41:
		return ev_ip6(o, c, length);
	case 47:
		return ev_gre(o, c, length);
	case 50:
		return ev_esp(o, c, length);
	case 51:
		return ev_ah(o, ip, c, length);
	case 58:
		return icmp6(o, c, length);
	case 132:	/* SCTP: the chunks are tcpdump's */
		if (!have(&c, c.p, 12))
			return cut(o, "sctp");
		ports(o, ip, 132, be16(c.p), be16(c.p + 2));
		out(o, "sctp");
		return stop(o);
	default:
		if (ip_printer_proto(nh))
			return stop(o);
		out(o, " ip-proto-%u %u", nh, length);
	}
}

static bool has_ports(uint8_t nh)
{
	return nh == 6 || nh == 17 || nh == 33 || nh == 132;
}

void ev_ip4(struct out *o, struct cur c, uint32_t length)
{
	const uint8_t *h = c.p;
	struct ipctx ip = { .v6 = false };
	uint32_t hlen, len;
	uint16_t off;

	if (!have(&c, h, 1))
		return cut(o, "ip");
	if (h[0] >> 4 != 4)
		return stop(o);
	out(o, "IP ");
	if (!have(&c, h, 20))
		return cut(o, "ip");
	if (length < 20)
		return out(o, "truncated-ip %u", length);
	hlen = (h[0] & 0xf) * 4u;
	if (hlen < 20)
		return out(o, "bad-hlen %u", hlen);
	len = be16(h + 2);
	if (length < len)
		out(o, "truncated-ip - %u bytes missing! ", len - length);
	if (len < hlen)
		return stop(o);		/* bad-len, or a BIG TCP guess */
	if (have(&c, h, len))
		c.end = h + len;	/* the padding is not the packet's */
	ip.src = h + 12;
	ip.dst = h + 16;
	ip.nxt = h[9];
	off = be16(h + 6);
	ip.more_frags = off & 0x2000;
	if (off & 0x1fff) {
		addrs(o, &ip, ":");
		return out(o, " ip-proto-%u", ip.nxt);
	}
	if (!has_ports(ip.nxt))
		addrs(o, &ip, ": ");
	if (!have(&c, h, hlen))
		return stop(o);
	ev_demux(o, &ip, ip.nxt, (struct cur){ h + hlen, c.end }, len - hlen);
}

void ev_ip6(struct out *o, struct cur c, uint32_t length)
{
	const uint8_t *h = c.p, *p;
	struct ipctx ip = { .v6 = true };
	uint32_t len, rem;
	uint8_t nh;

	if (!have(&c, h, 40))
		return cut(o, "ip6");
	if (length < 40)
		return out(o, "truncated-ip6 %u", length);
	out(o, "IP6 ");
	if (h[0] >> 4 != 6)
		return stop(o);
	len = be16(h + 4) + 40u;	/* Payload Length 0: the header alone */
	if (be16(h + 4) && length < len)
		out(o, "truncated-ip6 - %u bytes missing!", len - length);
	if (have(&c, h, len))
		c.end = h + len;
	ip.src = h + 8;
	ip.dst = h + 24;
	ip.nxt = nh = h[6];
	p = h + 40;
	rem = len - 40;
	if (!has_ports(nh))
		addrs(o, &ip, ": ");
	for (int i = 0; i < 16; i++) {
		uint32_t hl;

		switch (nh) {
		case 0:		/* hop-by-hop options */
		case 60:	/* destination options */
			if (!have(&c, p, 2))
				return cut(o, nh ? "dstopt" : "hbhopt");
			hl = (p[1] + 1u) * 8;
			if (!have(&c, p, hl))
				return cut(o, nh ? "dstopt" : "hbhopt");
			out(o, nh ? "DSTOPT " : "HBH ");
			break;
		case 44:	/* fragment */
			if (!have(&c, p, 8))
				return cut(o, "frag6");
			hl = 8;
			if (rem < hl)
				return cut(o, "ip6");
			out(o, "frag (%u|%u)", be16(p + 2) & 0xfff8, rem - 8);
			if (be16(p + 2) & 0xfff8)
				return;		/* no header of the next level */
			out(o, " ");
			break;
		default:
			return ev_demux(o, &ip, nh, (struct cur){ p, c.end }, rem);
		case 43:	/* routing: tcpdump decodes each type */
			return stop(o);
		}
		if (rem < hl)
			return cut(o, "ip6");
		nh = p[0];
		p += hl;
		rem -= hl;
	}
	stop(o);
}

/* ---- link ---------------------------------------------------------------- */

/* An Ethernet frame: the VLAN tags are silent without -e. top: the
 * frame itself (an ethertype not decoded makes no line), not one inside
 * a tunnel. */
void ev_ether(struct out *o, struct cur c, uint32_t length, bool top)
{
	uint16_t type;

	if (!have(&c, c.p, 14) || length < 14)
		return cut(o, "ether");
	type = be16(c.p + 12);
	c.p += 14;
	length -= 14;
	while (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
		if (!have(&c, c.p, 4) || length < 4)
			return cut(o, "vlan");
		type = be16(c.p + 2);
		c.p += 4;
		length -= 4;
	}
	switch (type) {
	case 0x0800:
		return ev_ip4(o, c, length);
	case 0x86dd:
		return ev_ip6(o, c, length);
	case 0x8847:
	case 0x8848:
		return ev_mpls(o, c, length);
	case 0x8864:
		return ev_pppoe(o, c, length);
	default:
		if (top)
			o->pos = 0;
		return stop(o);
	}
}

enum evidence_end evidence_line(const uint8_t *frame, size_t cap_len,
				uint32_t wire_len, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };

	if (!len)
		return EVIDENCE_NONE;
	buf[0] = 0;
	if (cap_len > wire_len)
		cap_len = wire_len;
	ev_ether(&o, (struct cur){ frame, frame + cap_len }, wire_len, true);
	buf[o.pos] = 0;
	if (!o.pos)
		return EVIDENCE_NONE;
	if (o.prefix)
		while (o.pos && buf[o.pos - 1] == ' ')
			buf[--o.pos] = 0;
	if (o.ours)
		return EVIDENCE_EXTENDED;
	return o.prefix ? EVIDENCE_PREFIX : EVIDENCE_FULL;
}
