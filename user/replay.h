/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `protomix replay`: the observer's own BPF program (pm_xdp) run over
 * every frame of a capture with BPF_PROG_TEST_RUN, on the capture's clock,
 * and the report a watch would have made.
 *
 * Reading the capture is apart from running it, so that it can be tested
 * (and fuzzed) without BPF: libpcap reads pcap and pcapng files, and each
 * frame is turned into the Ethernet frame the classifier takes:
 *
 *   Ethernet (DLT_EN10MB)          as it is
 *   raw IP (DLT_RAW, DLT_IPV4,     a 14-byte Ethernet header is put in
 *     DLT_IPV6)                    front, ethertype IPv4 or IPv6 (DLT_RAW:
 *                                  by the version nibble; neither 4 nor 6
 *                                  reads as IPv4, so a bad header is
 *                                  ip4_bad_hdr)
 *   Linux cooked (DLT_LINUX_SLL,   the 16- or 20-byte cooked header is
 *     DLT_LINUX_SLL2)              replaced by an Ethernet header: its
 *                                  protocol field becomes the ethertype
 *                                  (a VLAN tag libpcap put back after it
 *                                  stays), its 6-byte address the source
 *   BSD loopback (DLT_NULL,        the 4-byte address family becomes
 *     DLT_LOOP)                    ethertype IPv4 or IPv6 (other: 0, non_ip)
 *
 * A frame whose link-layer header is cut short (an Ethernet frame under
 * 14 bytes, a cooked one under 16 or 20) cannot be run: BPF_PROG_TEST_RUN
 * takes no frame under 14 bytes. replay counts it itself, under eth_trunc,
 * as pm_xdp would have. Only the first REPLAY_RUN_MAX bytes of a frame are
 * run (XDP sees no more in one buffer); what a frame had beyond that, or
 * beyond the capture's snaplen, is not seen: its packet counts, its bytes
 * count what the classifier saw (the JSON's "replay" object says how many
 * frames and bytes that was).
 */
#ifndef PM_REPLAY_H
#define PM_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The most bytes of one frame given to pm_xdp: a page less XDP's headroom
 * and tailroom (x86-64, kernel 6.x), the linear part BPF_PROG_TEST_RUN
 * hands an XDP program. */
#define REPLAY_RUN_MAX	3520
#define ETH_HDR_LEN	14

/* A frame ready for the classifier. */
struct replay_frame {
	uint64_t ts_ns;		/* wall clock, from the capture */
	uint32_t wire_len;	/* its length on the wire, as Ethernet */
	uint32_t cap_len;	/* what the capture holds of it, as Ethernet */
	uint32_t len;		/* bytes in data: cap_len, at most REPLAY_RUN_MAX */
	bool link_trunc;	/* link-layer header cut short: not runnable */
	uint8_t data[REPLAY_RUN_MAX];
};

/* True for the link types replay reads (the table above). */
bool replay_dlt_supported(int dlt);
/* "EN10MB", "RAW", "LINUX_SLL2", ... or "DLT n". */
const char *replay_dlt_name(int dlt, char *buf, size_t len);

/* Turn one frame of link type dlt (caplen bytes captured of wire_len)
 * into an Ethernet frame in fr (ts_ns is left alone). Returns 0, or -1
 * when dlt is not supported. A link-layer header cut short sets
 * fr->link_trunc and fr->len = 0. */
int replay_to_eth(int dlt, const uint8_t *pkt, uint32_t caplen,
		  uint32_t wire_len, struct replay_frame *fr);

/* A capture being read. */
struct pcap;
struct capture {
	struct pcap *pcap;	/* libpcap's pcap_t */
	const char *name;	/* as given, for messages */
	int dlt;
	uint64_t frames;	/* read so far */
	char err[768];	/* the last problem */
};

/* Open a pcap or pcapng file ("-": stdin) with nanosecond timestamps.
 * 0, or -1 with c->err saying why ("empty file (0 bytes): ...", "not a
 * pcap or pcapng capture (...)", "unsupported link type ..."). */
int capture_open(struct capture *c, const char *path);
/* The same over an open stream (taken over: capture_close closes it). */
int capture_fopen(struct capture *c, FILE *f, const char *name);
/* The next frame: 1, 0 at the end, -1 with c->err saying what is wrong
 * (a truncated or corrupt record); the frames before it are good. */
int capture_next(struct capture *c, struct replay_frame *fr);
void capture_close(struct capture *c);

/* `protomix replay [OPTIONS] FILE`. Text: the alert lines as watch prints
 * them (iface "replay"), then what was read, the counters and the busiest
 * destinations with their class mix. --json: the protomix.snapshot/3
 * document, one top-level member and one destination per line, with
 *   "interfaces": [{"name": FILE, "ifindex": 0, "hooks": ["xdp"]}],
 *   "started_at"/"taken_at": the earliest/latest frame's time, and
 *   "replay": {"file", "linktype", "frames", "first_frame", "last_frame",
 *              "link_trunc_frames", "cut_frames", "unseen_bytes", "run_max"}.
 * Exit 0; 1 runtime failure; 2 bad usage or bad capture (a capture bad
 * after some frames: the report of those, then the error). cmd_replay is
 * declared in commands.h. */

#endif
