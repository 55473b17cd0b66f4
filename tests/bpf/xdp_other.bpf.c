// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Foreign programs for tests/lifecycle_test.sh: xdp_other stands for
 * "another program already holds XDP on this interface", tc_other for
 * another program's classic tc filter. Both let every frame through and
 * share nothing with protomix: their names do not start with pm_, so
 * protomix must never take them for its own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_other(struct xdp_md *ctx)
{
	return XDP_PASS;
}

#define TC_ACT_UNSPEC	(-1)	/* go on with the next filter */

SEC("tc")
int tc_other(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
