// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The baseline of every per-packet figure in `make bench`: an XDP program
 * that does nothing but let the frame through. What BPF_PROG_TEST_RUN
 * reports for it is the cost of the test loop and the program call; the
 * observer's cost is read as its excess over this.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int bench_bare(struct xdp_md *ctx)
{
	return XDP_PASS;
}
