// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Destinations on demand, for `make bench`. BPF_PROG_TEST_RUN repeats one
 * frame; these programs rewrite its IPv4 destination on every repetition
 * (base, base + 1, ... wrapping after ndest, or never when ndest is 0; or
 * scattered: base + (i * stride) % ndest) and fix the header checksum, so one run of a million repetitions can show
 * the observer a million destinations.
 *
 *   bench_tail  rewrite, then tail-call the program in target[0] (pm_xdp,
 *               or the bare program to measure what the rewrite and the
 *               tail call cost by themselves)
 *   bench_gen   rewrite, then XDP_TX: in live-frame mode the frame leaves
 *               through the interface the run names (a veth), so the peer
 *               receives a stream of distinct destinations
 *
 * The frame must be untagged Ethernet + IPv4. The counter is a plain
 * global: the bench runs one generator per program instance.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_HLEN 14

/* Set by pmbench; read on every run, so they can change between runs. */
__u32 dst_base;		/* host order */
__u32 dst_count;	/* destinations to cycle through; 0: never wrap */
__u32 dst_next;		/* the index the next frame gets */
__u32 dst_stride;	/* 0: in order; else index i is base + (i * stride)
			 * % count, every one of them once a cycle when
			 * stride and count have no common factor */

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

/* RFC 1624 incremental update of the IPv4 header checksum for a new
 * 32-bit field; works on the words as stored (byte order does not matter
 * to a one's complement sum). */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16)~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __always_inline void next_dst(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u32 i = dst_next, n = dst_count, s = dst_stride, to;

	if ((void *)(ip + 1) > data_end)
		return;
	dst_next = (n && i + 1 >= n) ? 0 : i + 1;
	if (s && n)
		i = (__u32)((__u64)i * s % n);
	to = bpf_htonl(dst_base + i);
	ip->check = csum_replace4(ip->check, ip->daddr, to);
	ip->daddr = to;
}

SEC("xdp")
int bench_tail(struct xdp_md *ctx)
{
	next_dst(ctx);
	bpf_tail_call(ctx, &target, 0);
	return XDP_PASS;
}

SEC("xdp")
int bench_gen(struct xdp_md *ctx)
{
	next_dst(ctx);
	return XDP_TX;
}
