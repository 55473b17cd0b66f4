// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * protomix: classify every packet and count, per destination address,
 * the packets and bytes of each protocol class it receives.
 *
 * Three entry points share one parser and one accounting function:
 * XDP on ingress, tc on ingress (when XDP is not wanted or taken) and tc
 * on egress. None of them ever changes a verdict.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "protomix.h"
#include "parse.bpf.h"

#define TC_ACT_UNSPEC	(-1)	/* tc and tcx: go on as if we were not here */

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 262144);	/* --max-dests sets it before load */
	__type(key, struct pm_dest_key);
	__type(value, struct pm_dest);
} dests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PM_NHOOK);
	__type(key, __u32);
	__type(value, struct pm_stats);
} stats SEC(".maps");

/* Find the destination's entry, inserting it on first sight. An LRU map
 * evicts its coldest entries to make room; userspace counts evictions as
 * new_dests minus the entries in the map. */
static __always_inline struct pm_dest *dest_entry(struct pm_dest_key *key,
						  struct pm_stats *st, __u64 now)
{
	struct pm_dest *d, init = {};

	d = bpf_map_lookup_elem(&dests, key);
	if (d)
		return d;
	init.first_seen = now;
	if (bpf_map_update_elem(&dests, key, &init, BPF_NOEXIST) == 0)
		st->new_dests++;
	d = bpf_map_lookup_elem(&dests, key);	/* EEXIST: another CPU won */
	if (!d)
		st->dest_update_fail++;
	return d;
}

/* Account one frame. segs is the number of wire packets it stands for
 * (gso_segs at tc, 1 at XDP); len is the frame's length. */
static __always_inline void account(void *data, void *data_end, __u32 hook,
				    __u8 stripped_vlans, __u32 segs, __u64 len)
{
	struct pkt_info pi = {};
	struct pm_stats *st;
	struct pm_dest *d;
	__u64 now, bytes;
	__u32 cls;
	int reason;

	st = bpf_map_lookup_elem(&stats, &hook);
	if (!st)
		return;
	st->frames++;

	reason = parse_frame(data, data_end, stripped_vlans, &pi);
	if (pi.vlans || stripped_vlans)
		st->vlan_frames++;
	if (reason >= 0) {
		if (reason < PM_NREASON)
			st->reason[reason]++;
		return;
	}

	/* Bytes from the IP header on, as the IP header states them when
	 * the frame holds that much (Ethernet padding is not counted). */
	bytes = len - pi.l3_off;
	if (pi.ip_len && pi.ip_len < bytes)
		bytes = pi.ip_len;
	if (segs > 1) {
		/* A GRO/GSO packet: every segment repeats the headers. */
		st->gso_frames++;
		bytes += (__u64)(segs - 1) * (pi.hdr_len - pi.l3_off);
	} else {
		segs = 1;
	}
	cls = pi.class;
	if (cls >= PM_NCLASS)
		return;
	st->class_packets[cls] += segs;
	st->class_bytes[cls] += bytes;

	now = bpf_ktime_get_coarse_ns();
	d = dest_entry(&pi.dst, st, now);
	if (!d)
		return;
	/* Keep the verifier's bound on cls across the calls above. */
	asm volatile("%0 &= 0xf" : "+r"(cls));
	if (cls >= PM_NCLASS)
		return;
	__sync_fetch_and_add(&d->packets[cls], segs);
	__sync_fetch_and_add(&d->bytes[cls], bytes);
	if (d->last_seen != now)
		d->last_seen = now;
}

SEC("xdp")
int pm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	account(data, data_end, PM_HOOK_XDP, 0, 1, data_end - data);
	return XDP_PASS;
}

/* tc sees the skb: the outer VLAN tag may already sit in vlan_tci, a GRO
 * packet stands for gso_segs wire packets, and only the linear part is
 * directly readable (pull the headers in when they are not). */
static __always_inline void account_skb(struct __sk_buff *skb, __u32 hook)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 want = skb->len < 128 ? skb->len : 128;

	if (data + want > data_end) {
		bpf_skb_pull_data(skb, want);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}
	account(data, data_end, hook, skb->vlan_present ? 1 : 0,
		skb->gso_segs, skb->len);
}

SEC("tc")
int pm_tc_ingress(struct __sk_buff *skb)
{
	account_skb(skb, PM_HOOK_TC_INGRESS);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int pm_tc_egress(struct __sk_buff *skb)
{
	account_skb(skb, PM_HOOK_TC_EGRESS);
	return TC_ACT_UNSPEC;
}
