/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Evidence in tcpdump's words: the captured bytes of a frame decoded into
 * the line `tcpdump -n` (4.99, no -e, no -v) prints for it, carriers
 * (VLAN, MPLS, PPPoE) and tunnels (GRE, IP-in-IP, VXLAN, Geneve) on every
 * level. docs/alerts.md lists what is decoded and where the line stops
 * short of tcpdump's.
 */
#ifndef PM_EVIDENCE_H
#define PM_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

/* Room for a line decoded from at most PM_SNAP_LEN bytes (a longer
 * line is cut), and for the alert line around it (time, interface,
 * direction, kind and expected classes). */
#define EVIDENCE_MAX		640
#define EVIDENCE_LINE_MAX	(EVIDENCE_MAX + 256)

enum evidence_end {
	EVIDENCE_NONE = 0,	/* not an Ethernet frame this decodes: buf "" */
	EVIDENCE_FULL,		/* buf is tcpdump's whole line */
	EVIDENCE_PREFIX,	/* buf is the beginning of tcpdump's line: the
				 * rest is a printer the decoder leaves out */
};

/* Decode the cap_len bytes of an Ethernet frame of wire_len bytes on the
 * wire (cap_len < wire_len: a cut capture, printed as tcpdump prints
 * one, "[|esp]" and the like) into buf (cut to len, always terminated).
 * Where tcpdump prints a tunnel's inner packet on a line of its own
 * (VXLAN), the line goes on after ": ". TCP sequence numbers are
 * absolute, as tcpdump prints the first packet of a connection. */
enum evidence_end evidence_line(const uint8_t *frame, size_t cap_len,
				uint32_t wire_len, char *buf, size_t len);

#endif
