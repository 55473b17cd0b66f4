// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmbench pcap: a capture for `protomix replay` to chew on.
 *
 *   pmbench pcap FILE [--frames N] [--dests N]
 *
 * N frames of the tcp4 case (tests/frames.c), the IPv4 destination
 * cycling through --dests addresses from 10.128.0.0, one every
 * microsecond; every 16th frame is the esp4 case instead (to 10.20.0.80).
 * The IPv4 header checksum follows the rewrite; the TCP checksum does not
 * (the observer never checks it).
 * Classic pcap, Ethernet link type, microsecond timestamps.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include "bench.h"
#include "frames.h"

#define PCAP_BASE	0x0a800000u	/* 10.128.0.0 */
#define ETH_HLEN	14

struct pcap_hdr {
	uint32_t magic;
	uint16_t major, minor;
	int32_t zone;
	uint32_t sigfigs, snaplen, linktype;
};

struct pcap_rec {
	uint32_t sec, usec, caplen, len;
};

static uint16_t ip_csum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void usage_exit(void)
{
	fprintf(stderr, "usage: pmbench pcap FILE [--frames N] [--dests N]\n");
	exit(2);
}

int cmd_pcap(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "frames", required_argument, NULL, 'f' },
		{ "dests", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct pcap_hdr h = { 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1 };
	uint8_t tcp[FRAME_MAX_LEN], esp[FRAME_MAX_LEN];
	uint64_t frames = 1000000, dests = 131072;
	int tlen, elen, opt;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'f': frames = arg_u64("--frames", optarg, 1, 1000000000); break;
		case 'd': dests = arg_u64("--dests", optarg, 1, 1u << 22); break;
		default: usage_exit();
		}
	}
	if (optind != argc - 1)
		usage_exit();
	tlen = bench_frame("tcp4", NULL, tcp, sizeof(tcp));
	elen = bench_frame("esp4", NULL, esp, sizeof(esp));
	if (tlen < 0 || elen < 0)
		return 1;
	f = fopen(argv[optind], "w");
	if (!f) {
		bench_err("cannot write %s: %s", argv[optind], strerror(errno));
		return 1;
	}
	fwrite(&h, sizeof(h), 1, f);
	for (uint64_t i = 0; i < frames; i++) {
		struct pcap_rec r = { .sec = 1700000000 + i / 1000000, .usec = i % 1000000 };
		const uint8_t *p = tcp;
		uint32_t dst;

		if (i % 16 == 15) {
			p = esp;
			r.caplen = r.len = elen;
		} else {
			dst = htonl(PCAP_BASE + i % dests);
			memcpy(tcp + ETH_HLEN + 16, &dst, 4);
			tcp[ETH_HLEN + 10] = tcp[ETH_HLEN + 11] = 0;
			uint16_t c = ip_csum(tcp + ETH_HLEN, 20);
			tcp[ETH_HLEN + 10] = c >> 8;
			tcp[ETH_HLEN + 11] = c & 0xff;
			r.caplen = r.len = tlen;
		}
		fwrite(&r, sizeof(r), 1, f);
		fwrite(p, r.caplen, 1, f);
	}
	if (fclose(f)) {
		bench_err("cannot write %s: %s", argv[optind], strerror(errno));
		return 1;
	}
	printf("{\"frames\":%lu,\"dests\":%lu}\n", (unsigned long)frames, (unsigned long)dests);
	return 0;
}
