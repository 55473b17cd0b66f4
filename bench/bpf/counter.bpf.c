// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The least a counting XDP program does: one per-CPU array lookup and two
 * plain increments (frames and bytes), then XDP_PASS. It sits between the
 * bare program and the observer in `make bench`: what the observer costs
 * beyond this is its parsing and its per-destination accounting.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct bench_count {
	__u64 frames;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_count);
} counts SEC(".maps");

SEC("xdp")
int bench_counter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bench_count *c;
	__u32 key = 0;

	c = bpf_map_lookup_elem(&counts, &key);
	if (c) {
		c->frames++;
		c->bytes += data_end - data;
	}
	return XDP_PASS;
}
