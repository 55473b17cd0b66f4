/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Private to the evidence decoder (evidence.c and evidence_tunnel.c; the
 * public face is evidence.h): the line being written, the cursor over the
 * captured bytes and the IP header a transport is printed under; the
 * helpers both files print with; and the printers each file calls in the
 * other, evidence.c's link, IP and demux printers for a tunnel's inner
 * packet, evidence_tunnel.c's IPsec, tunnel and carrier printers for
 * UDP's ports, IP's protocols and Ethernet's types.
 */
#ifndef PM_EVIDENCE_DEC_H
#define PM_EVIDENCE_DEC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct out {
	char *buf;
	size_t len, pos;
	bool prefix;		/* stopped before tcpdump's end */
	bool ours;		/* words tcpdump does not print (GTP-U) */
};

/* Where the bytes end: the capture, or the end of the IP packet. */
struct cur {
	const uint8_t *p, *end;
};

/* The IP header a transport header is printed under: tcpdump prints
 * addresses with the ports when the header's own protocol field names
 * the transport, and the ports alone behind AH or extension headers. */
struct ipctx {
	bool v6;
	const uint8_t *src, *dst;
	uint8_t nxt;		/* the IP header's protocol / next header */
	bool more_frags;	/* IPv4 MF */
};

/* The helpers both files print with (static: no global symbols). */
static inline void out(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void out(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->pos + 1 >= o->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->pos = o->pos + n < o->len ? o->pos + n : o->len - 1;
}

/* tcpdump's mark for a header the capture cut. */
static inline void cut(struct out *o, const char *proto)
{
	out(o, " [|%s]", proto);
}

/* The line stops here: what follows is tcpdump's and not decoded. */
static inline void stop(struct out *o)
{
	o->prefix = true;
}

static inline bool have(const struct cur *c, const uint8_t *p, size_t n)
{
	return p <= c->end && (size_t)(c->end - p) >= n;
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* evidence.c: the printers a tunnel's inner packet goes back to. */
void ev_ether(struct out *o, struct cur c, uint32_t length, bool top);
void ev_ip4(struct out *o, struct cur c, uint32_t length);
void ev_ip6(struct out *o, struct cur c, uint32_t length);
void ev_demux(struct out *o, const struct ipctx *ip, uint8_t nh,
	      struct cur c, uint32_t length);

/* evidence_tunnel.c: IPsec (IP protocols 50 and 51, UDP 500 and 4500). */
void ev_esp(struct out *o, struct cur c, uint32_t length);
void ev_isakmp(struct out *o, struct cur c);
void ev_natt(struct out *o, struct cur c, uint32_t length);
void ev_ah(struct out *o, const struct ipctx *ip, struct cur c, uint32_t length);

/* evidence_tunnel.c: tunnels (UDP 4789, 6081, 2152; IP protocol 47). */
void ev_vxlan(struct out *o, struct cur c, uint32_t length);
void ev_geneve(struct out *o, struct cur c, uint32_t length);
void ev_gre(struct out *o, struct cur c, uint32_t length);
bool ev_gtpu(struct out *o, struct cur c, uint32_t length);

/* evidence_tunnel.c: carriers (ethertypes 0x8847, 0x8848, 0x8864). */
void ev_mpls(struct out *o, struct cur c, uint32_t length);
void ev_pppoe(struct out *o, struct cur c, uint32_t length);

#endif
