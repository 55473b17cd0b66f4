// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_pcap: reading a capture as `protomix replay` does
 * (user/replay_capture.c), without BPF: libpcap over the input
 * (capture_fopen, capture_next), every frame turned into an Ethernet
 * frame; and the input itself as one frame of every link type replay
 * takes (replay_to_eth).
 *
 * Every frame must come out within bounds: at most REPLAY_RUN_MAX bytes,
 * no more than the capture holds of it, no more captured than on the
 * wire, and an Ethernet header unless the link-layer one was cut short.
 */
#include <string.h>
#include "fuzz.h"
#include "replay.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void check(const struct replay_frame *fr)
{
	if (fr->len > REPLAY_RUN_MAX || fr->len > fr->cap_len ||
	    fr->cap_len > fr->wire_len)
		abort();
	if (fr->link_trunc ? fr->len != 0 : fr->len < ETH_HDR_LEN)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL,
	 * DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP (Linux values) */
	static const int dlts[] = { 1, 12, 228, 229, 113, 276, 0, 108 };
	static struct replay_frame fr;
	struct capture c;
	FILE *f;

	for (size_t i = 0; i < sizeof(dlts) / sizeof(dlts[0]); i++) {
		if (!replay_dlt_supported(dlts[i]))
			abort();
		if (replay_to_eth(dlts[i], data, size, size + (size & 7), &fr))
			abort();
		check(&fr);
	}
	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	if (capture_fopen(&c, f, "fuzz"))
		return 0;	/* closed the stream */
	while (capture_next(&c, &fr) > 0)
		check(&fr);
	capture_close(&c);
	return 0;
}
