// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What tcpdump costs the kernel outside its own process time: the time
 * spent in tpacket_rcv(), which copies each packet (up to the snap
 * length) into a packet socket's mmap ring and wakes the reader. It runs
 * in softirq context on the CPU the packet is on, so it is charged to
 * whatever task that CPU was running (or to ksoftirqd), never to tcpdump.
 * fentry and fexit take a timestamp each; the sum and the count are
 * kept per CPU (a softirq does not nest in itself on one CPU).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define MAX_CPUS 1024

__u64 started[MAX_CPUS];
__u64 total_ns[MAX_CPUS];
__u64 calls[MAX_CPUS];

SEC("fentry/tpacket_rcv")
int tap_enter(void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();

	if (cpu < MAX_CPUS)
		started[cpu] = bpf_ktime_get_ns();
	return 0;
}

SEC("fexit/tpacket_rcv")
int tap_exit(void *ctx)
{
	__u32 cpu = bpf_get_smp_processor_id();

	if (cpu < MAX_CPUS && started[cpu]) {
		total_ns[cpu] += bpf_ktime_get_ns() - started[cpu];
		calls[cpu]++;
		started[cpu] = 0;
	}
	return 0;
}
