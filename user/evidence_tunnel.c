// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The IPsec, tunnel and carrier parts of the evidence line (see
 * evidence.h): ESP, IKE and its NAT traversal on UDP 4500, AH; VXLAN,
 * Geneve, GRE and GTP-U; MPLS and PPPoE under Ethernet. Each prints what
 * tcpdump 4.99 prints for it and hands the inner packet back to
 * evidence.c's printers (ether, ip4, ip6, demux).
 * GTP-U is decoded in words of our own (ev_gtpu(); docs/alerts.md, "The
 * evidence line", says which). evidence_dec.h holds what this file
 * shares with evidence.c.
 */
#include <stdbool.h>
#include <stdint.h>
#include "evidence_dec.h"

/* ---- IPsec ---------------------------------------------------------- */

void ev_esp(struct out *o, struct cur c, uint32_t length)
{
	if (!have(&c, c.p, 8))
		return cut(o, "esp");
	out(o, "ESP(spi=0x%08x,seq=0x%x), length %u", be32(c.p), be32(c.p + 4),
	    length);
}

/* IKE: tcpdump decodes its payloads; the line stops at "isakmp:". */
void ev_isakmp(struct out *o, struct cur c)
{
	if (!have(&c, c.p, 28))
		return cut(o, "isakmp");
	out(o, "isakmp:");
	stop(o);
}

/* UDP port 4500 (RFC 3948): keepalive, IKE behind the non-ESP marker, or
 * ESP. */
void ev_natt(struct out *o, struct cur c, uint32_t length)
{
	if (length == 1 && have(&c, c.p, 1) && c.p[0] == 0xff)
		return out(o, "isakmp-nat-keep-alive");
	if (length < 4 || !have(&c, c.p, 4))
		return cut(o, "isakmp_rfc3948");
	if (be32(c.p) == 0) {
		out(o, "NONESP-encap: ");
		c.p += 4;
		return ev_isakmp(o, c);
	}
	out(o, "UDP-encap: ");
	ev_esp(o, c, length);
}

/* AH: its fields and ICV, then the protocol it protects. */
void ev_ah(struct out *o, const struct ipctx *ip, struct cur c, uint32_t length)
{
	uint32_t hl, i;

	if (!have(&c, c.p, 2))
		return cut(o, "ah");
	hl = (c.p[1] + 2u) * 4;
	if (hl < 12)
		return stop(o);
	out(o, "AH(");
	if (!have(&c, c.p, 8))
		return cut(o, "ah");
	out(o, "spi=0x%08x", be32(c.p + 4));
	if (!have(&c, c.p, 12))
		return cut(o, "ah");
	out(o, ",seq=0x%x", be32(c.p + 8));
	if (hl > 12)
		out(o, ",icv=0x");
	for (i = 12; i < hl; i++) {
		if (!have(&c, c.p, i + 1))
			return cut(o, "ah");
		out(o, "%02x", c.p[i]);
	}
	out(o, "): ");
	if (length < hl)
		return stop(o);
	ev_demux(o, ip, c.p[0], (struct cur){ c.p + hl, c.end }, length - hl);
}

/* ---- tunnels --------------------------------------------------------- */

/* VXLAN (UDP 4789). tcpdump ends its line after the VNI and prints the
 * inner frame on the next; the evidence joins the two with ": ". */
void ev_vxlan(struct out *o, struct cur c, uint32_t length)
{
	uint8_t flags;

	if (!have(&c, c.p, 1))
		return cut(o, "vxlan");
	flags = c.p[0];
	out(o, "VXLAN, flags [%s] (0x%02x), ", flags & 0x08 ? "I" : ".", flags);
	if (!have(&c, c.p, 8))
		return cut(o, "vxlan");
	out(o, "vni %u: ", be32(c.p + 4) >> 8);
	c.p += 8;
	ev_ether(o, c, length >= 8 ? length - 8 : 0, false);
}

/* The inner packet of a tunnel, by its ethertype. */
static void by_ethertype(struct out *o, uint16_t type, struct cur c, uint32_t length)
{
	switch (type) {
	case 0x0800:
		return ev_ip4(o, c, length);
	case 0x86dd:
		return ev_ip6(o, c, length);
	case 0x6558:
		return ev_ether(o, c, length, false);
	default:
		return stop(o);
	}
}

/* Geneve (UDP 6081). */
void ev_geneve(struct out *o, struct cur c, uint32_t length)
{
	uint32_t opts;

	out(o, "Geneve");
	if (!have(&c, c.p, 8))
		return cut(o, "geneve");
	if (c.p[0] >> 6 || c.p[1])
		return stop(o);		/* another version, or flags O, C */
	out(o, ", Flags [none], vni 0x%x", be32(c.p + 4) >> 8);
	opts = (c.p[0] & 0x3f) * 4u;
	if (length < opts + 8)
		return out(o, " truncated-geneve - %u bytes missing", opts + 8 - length);
	if (!have(&c, c.p, 8 + opts))
		return cut(o, "geneve");
	if (opts)
		out(o, ", options [%u bytes]", opts);
	out(o, ": ");
	by_ethertype(o, be16(c.p + 2), (struct cur){ c.p + 8 + opts, c.end },
		     length - 8 - opts);
}

/* GRE version 0 (RFC 2784, 2890): checksum, key and sequence number. */
void ev_gre(struct out *o, struct cur c, uint32_t length)
{
	const uint8_t *p = c.p;
	uint32_t len = length;
	uint16_t flags, proto;

	if (!have(&c, p, 2))
		return cut(o, "gre");
	flags = be16(p);
	out(o, "GREv%u", flags & 7);
	if (flags & 7 || flags & 0x4000)
		return stop(o);		/* PPTP's GRE, or source routes */
	if (len < 4 || !have(&c, p, 4))
		return cut(o, "gre");
	proto = be16(p + 2);
	p += 4;
	len -= 4;
	if (flags & 0x8000) {		/* checksum, then the offset */
		if (len < 4 || !have(&c, p, 4))
			return cut(o, "gre");
		out(o, ", off 0x%x", be16(p + 2));
		p += 4;
		len -= 4;
	}
	if (flags & 0x2000) {
		if (len < 4 || !have(&c, p, 4))
			return cut(o, "gre");
		out(o, ", key=0x%x", be32(p));
		p += 4;
		len -= 4;
	}
	if (flags & 0x1000) {
		if (len < 4 || !have(&c, p, 4))
			return cut(o, "gre");
		out(o, ", seq %u", be32(p));
		p += 4;
		len -= 4;
	}
	out(o, ", length %u: ", length);
	by_ethertype(o, proto, (struct cur){ p, c.end }, len);
}

/* GTPv1-U message types (3GPP TS 29.281, 6.1) other than G-PDU (255). */
static const char *gtpu_type(uint8_t type)
{
	switch (type) {
	case 1:
		return "echo request";
	case 2:
		return "echo response";
	case 26:
		return "error indication";
	case 31:
		return "supported extension headers notification";
	case 253:
		return "tunnel status";
	case 254:
		return "end marker";
	default:
		return NULL;
	}
}

/* The GTP-U extension headers followed before the line gives up. */
#define GTPU_EXT_MAX	8

/* The length of a GTPv1-U header at c.p, its optional fields and
 * extension headers included; 0 when the capture or length cut it (the
 * mark is printed), -1 when the chain is malformed (a length of 0, or
 * more than GTPU_EXT_MAX headers). */
static int gtpu_hlen(struct out *o, const struct cur *c, uint32_t length)
{
	const uint8_t *p = c->p;
	uint32_t hl = 12;
	uint8_t next;

	if (!(p[0] & 0x07))		/* none of E, S, PN: 8 bytes */
		return 8;
	if (length < hl || !have(c, p, hl)) {
		cut(o, "gtp");
		return 0;
	}
	next = p[0] & 0x04 ? p[11] : 0;	/* the type is there with E only */
	for (int i = 0; next; i++) {
		uint32_t el;

		if (i == GTPU_EXT_MAX)
			return -1;
		if (length < hl + 1 || !have(c, p, hl + 1)) {
			cut(o, "gtp");
			return 0;
		}
		el = p[hl] * 4u;	/* 4-byte units, length and next type in */
		if (!el)
			return -1;
		if (length < hl + el || !have(c, p, hl + el)) {
			cut(o, "gtp");
			return 0;
		}
		next = p[hl + el - 1];
		hl += el;
	}
	return (int)hl;
}

/* GTPv1-U (UDP 2152). tcpdump 4.99 has no printer for it and prints
 * "UDP, length N": every word from "GTPv1-U" on is ours, chosen to read
 * like VXLAN's. A G-PDU goes on with ": " and its IP packet. false when
 * the payload is no GTPv1-U header (tcpdump's own line then). */
bool ev_gtpu(struct out *o, struct cur c, uint32_t length)
{
	const char *name;
	int hl;

	if (!have(&c, c.p, 1) || !length || c.p[0] >> 4 != 3)
		return false;		/* not version 1 with PT 1 */
	o->ours = true;
	out(o, "GTPv1-U");
	if (length < 8 || !have(&c, c.p, 8)) {
		cut(o, "gtp");
		return true;
	}
	out(o, ", teid 0x%x", be32(c.p + 4));
	if (c.p[1] != 0xff) {
		name = gtpu_type(c.p[1]);
		if (name)
			out(o, ", %s", name);
		else
			out(o, ", type %u", c.p[1]);
		return true;
	}
	hl = gtpu_hlen(o, &c, length);
	if (hl <= 0 || length == (uint32_t)hl)
		return true;		/* cut, malformed, or no packet */
	c.p += hl;
	length -= hl;
	if (!have(&c, c.p, 1)) {
		cut(o, "gtp");
		return true;
	}
	if (c.p[0] >> 4 == 4) {
		out(o, ": ");
		ev_ip4(o, c, length);
	} else if (c.p[0] >> 4 == 6) {
		out(o, ": ");
		ev_ip6(o, c, length);
	}
	return true;
}

/* ---- carriers -------------------------------------------------------- */

void ev_mpls(struct out *o, struct cur c, uint32_t length)
{
	uint32_t e, label;

	out(o, "MPLS");
	do {
		if (!have(&c, c.p, 4) || length < 4)
			return cut(o, "mpls");
		e = be32(c.p);
		label = e >> 12;
		out(o, " (label %u, tc %u%s, ttl %u)", label, (e >> 9) & 7,
		    e & 0x100 ? ", [S]" : "", e & 0xff);
		c.p += 4;
		length -= 4;
	} while (!(e & 0x100));
	/* label 0: IPv4 explicit null, 2: IPv6's; else the version nibble */
	if (label == 0 || (label != 2 && have(&c, c.p, 1) && c.p[0] >> 4 == 4)) {
		out(o, " ");
		return ev_ip4(o, c, length);
	}
	if (label == 2 || (have(&c, c.p, 1) && c.p[0] >> 4 == 6)) {
		out(o, " ");
		return ev_ip6(o, c, length);
	}
	stop(o);
}

/* PPPoE session data, then PPP carrying IPv4 or IPv6. */
void ev_pppoe(struct out *o, struct cur c, uint32_t length)
{
	uint32_t plen;
	uint16_t proto;

	if (!have(&c, c.p, 6) || length < 6)
		return cut(o, "pppoe");
	if (c.p[0] != 0x11 || c.p[1] != 0)
		return stop(o);		/* another version, or discovery */
	out(o, "PPPoE ");
	plen = be16(c.p + 4);
	length -= 6;
	if (plen > length) {
		out(o, " [len %u > %u!]", plen, length);
		plen = length;
	}
	if (be16(c.p + 2))
		out(o, " [ses 0x%x]", be16(c.p + 2));
	out(o, " ");
	c.p += 6;
	if (!have(&c, c.p, 2))
		return stop(o);
	if (c.p[0] == 0xff && c.p[1] == 0x03)
		return stop(o);		/* address and control: rare here */
	if (plen < 2 || c.p[0] & 1)
		return stop(o);
	proto = be16(c.p);
	c.p += 2;
	if (proto == 0x0021)
		return ev_ip4(o, c, plen - 2);
	if (proto == 0x0057)
		return ev_ip6(o, c, plen - 2);
	stop(o);
}
