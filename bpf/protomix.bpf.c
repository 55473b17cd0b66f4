// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * protomix: classify every packet and count, per destination address,
 * the packets and bytes of each protocol class it receives; sample the
 * packets that break an expectation into a ring buffer.
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
#define NSEC_PER_SEC	1000000000ull

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader between open and load. */
const volatile __u32 cfg_sample_rate = 5;	/* samples per destination per second */
const volatile bool cfg_replay;		/* time is replay_now, not the clock */
const volatile __u8 cfg_agg4 = PM_AGG4_NONE;	/* --aggregate: count per prefix */
const volatile __u8 cfg_agg6 = PM_AGG6_NONE;
/* --decap (the default): a tunnel's inner packet counts under its own
 * destination too; --no-decap: the outer one only. */
const volatile bool cfg_decap = true;

/* `protomix replay`: the capture's time of the frame being run, on the
 * CLOCK_MONOTONIC scale, so windows and rates follow the capture. */
__u64 replay_now;
/* ... and the frame's length on the wire, when replay runs less of it
 * than was captured or sent (0: the length run) */
__u32 replay_len;

/* The coarse clock moves once a tick, with jiffies: read it through the
 * per-CPU cache in st, refreshed when jiffies (inlined by the verifier)
 * has moved, instead of calling the helper for every packet. */
static __always_inline __u64 clock_coarse(struct pm_stats *st)
{
	__u64 j;

	if (cfg_replay)
		return replay_now;
	j = bpf_jiffies64();
	if (st->clock_jiffies != j) {
		st->clock_jiffies = j;
		st->clock_ns = bpf_ktime_get_coarse_ns();
	}
	return st->clock_ns;
}

static __always_inline __u64 clock_fine(void)
{
	return cfg_replay ? replay_now : bpf_ktime_get_ns();
}

/* Bumped by the loader whenever the rules change: a destination whose
 * cached verdict is older looks its rule up again. 0: no rules at all. */
__u32 rules_gen;

#include "dest_table.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PM_NHOOK);
	__type(key, __u32);
	__type(value, struct pm_stats);
} stats SEC(".maps");

/* The rules: a trie in the one slot of an array of maps. A reload fills
 * a new trie and puts it in the slot in one step, so a packet sees the
 * old rules or the new ones, never a mix, and nothing waits for the old
 * trie's entries to be deleted one by one (the kernel frees it). The slot
 * is empty until the loader fills it: then no destination has a rule. */
struct rules_trie {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, PM_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	/* sizes, not types: libbpf 1.1 cannot size an inner map's types */
	__uint(key_size, sizeof(struct pm_rule_key));
	__uint(value_size, sizeof(struct pm_rule));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct rules_trie);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pm_pair_key);
	__type(value, struct pm_pair);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/* 1 MiB: about 3,600 samples of 288 bytes, a burst of violations
	 * the reader drains afterwards */
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

/* One frame on its way through account(): where it came from, its parse,
 * the hook's per-CPU counters, and the coarse time once a destination is
 * looked up. Built by the hook; every step after the parse takes it. */
struct frame {
	void *data, *data_end;	/* the frame: the evidence is copied from here */
	struct pkt_info *pi;	/* its parse */
	struct pm_stats *st;	/* the hook's, this CPU's */
	__u64 len;		/* its length (replay: on the wire) */
	__u64 now;		/* clock_coarse(), set by account() */
	__u32 hook;		/* enum pm_hook */
	__u32 ifindex;
	__u32 segs;		/* wire packets: gso_segs at tc, 1 at XDP */
	__u8 stripped_vlans;	/* tags the driver took out (tc: vlan_tci) */
	__u8 tunnel;		/* pi is the packet inside this tunnel class,
				 * or PM_TUN_NONE */
};

/* The encrypted classes: a TCP destination that turns to one has shifted
 * (WireGuard is held to the same rules as IPsec). */
#define IPSEC_SHIFT_MASK (1u << PM_C_ESP | 1u << PM_C_AH | 1u << PM_C_ESP_UDP | \
			  1u << PM_C_WIREGUARD)
#define IPSEC_MASK	 (IPSEC_SHIFT_MASK | 1u << PM_C_IKE)

/* --aggregate: the destination becomes its prefix. With the defaults the
 * verifier sees constants and drops this code. */
static __always_inline void aggregate(struct pm_dest_key *k, bool v6)
{
	__u64 half;
	__u32 a;

	if (!v6) {
		if (cfg_agg4 >= PM_AGG4_NONE)
			return;
		__builtin_memcpy(&a, &k->addr[12], 4);
		a &= cfg_agg4 ? bpf_htonl(~0u << (32 - cfg_agg4)) : 0;
		__builtin_memcpy(&k->addr[12], &a, 4);
		return;
	}
	if (cfg_agg6 >= PM_AGG6_NONE)
		return;
	if (cfg_agg6 <= 64) {
		__builtin_memset(&k->addr[8], 0, 8);
		__builtin_memcpy(&half, &k->addr[0], 8);
		half &= cfg_agg6 ? bpf_cpu_to_be64(~0ull << (64 - cfg_agg6)) : 0;
		__builtin_memcpy(&k->addr[0], &half, 8);
	} else {
		__builtin_memcpy(&half, &k->addr[8], 8);
		half &= bpf_cpu_to_be64(~0ull << (128 - cfg_agg6));
		__builtin_memcpy(&k->addr[8], &half, 8);
	}
}


/* The classes the destination's rule does not allow, cached in its entry
 * for the current rules generation: one trie lookup per destination per
 * change of the rules, not one per packet. Whether a rule matched is a
 * flag of the header (PM_H_RULE), its id in the cold part. */
static __always_inline __u32 denied_classes(struct pm_dest_hdr *d, __u32 slot,
					    struct pm_dest_key *key)
{
	struct pm_rule_key rk = { .prefixlen = 128 };
	struct pm_rule *r = NULL;
	__u32 gen = rules_gen, zero = 0;
	struct pm_dest_cold *k;
	void *trie;

	if (d->rules_gen == gen)
		return d->denied;
	__builtin_memcpy(rk.addr, key->addr, sizeof(rk.addr));
	trie = bpf_map_lookup_elem(&rules, &zero);
	if (trie)
		r = bpf_map_lookup_elem(trie, &rk);
	d->denied = r ? ~r->allowed & PM_ALL_CLASSES : 0;
	k = cold_at(slot);
	if (k)
		k->rule_id = r ? r->id : 0;
	if (r && !(d->flags & PM_H_RULE))
		__sync_fetch_and_or(&d->flags, PM_H_RULE);
	else if (!r && (d->flags & PM_H_RULE))
		__sync_fetch_and_and(&d->flags, ~PM_H_RULE);
	d->rules_gen = gen;
	return d->denied;
}

/* Learned expectation: a destination that had TCP and no IPsec class and
 * then receives esp, ah, esp_udp or wireguard has shifted; from then on
 * its encrypted packets are violations. Called before this packet is
 * counted. */
static __always_inline bool shifted(struct pm_dest_hdr *d, __u32 cls)
{
	__u32 flags = d->flags;
	bool had_tcp, had_ipsec;

	if (!(IPSEC_SHIFT_MASK & (1u << cls)))
		return false;
	if (flags & PM_D_SHIFTED)
		return true;
	had_tcp = (d->seen & 1u << PM_C_TCP) || (flags & PM_D_BASE_TCP);
	had_ipsec = (d->seen & IPSEC_MASK) || (flags & PM_D_BASE_IPSEC);
	if (!had_tcp || had_ipsec)
		return false;
	__sync_fetch_and_or(&d->flags, PM_D_SHIFTED);
	return true;
}

/* The IP payload length, after the extension headers: tcpdump's "length". */
static __always_inline __u32 payload_len(const struct pkt_info *pi)
{
	__u32 hdrs = pi->l4_off - pi->l3_off;

	return pi->ip_len > hdrs ? pi->ip_len - hdrs : 0;
}

static __always_inline __u32 addr_fold(const struct pm_dest_key *k)
{
	__u64 x = k->w[0] ^ k->w[1];

	return (__u32)x ^ (__u32)(x >> 32);
}

/* Track one direction of an IPsec conversation for one_way_ipsec: once
 * per tick per source and destination is enough to know that it flows. */
static __always_inline void track_pair(struct frame *f, struct pm_dest_hdr *d)
{
	struct pkt_info *pi = f->pi;
	__u64 now = f->now;
	struct pm_pair_key pk;
	struct pm_pair *p, init = {};
	bool per_addr = cfg_agg4 >= PM_AGG4_NONE && cfg_agg6 >= PM_AGG6_NONE;

	__u32 src = addr_fold(&pi->src);

	/* d stands for one address only without --aggregate; a source
	 * whose fold equals the last one's (1 in 2^32) waits a tick */
	if (per_addr && d->pair_tick == (__u32)now && d->pair_src == src)
		return;
	__builtin_memcpy(pk.src, pi->src.addr, 16);
	__builtin_memcpy(pk.dst, pi->dst.addr, 16);
	p = bpf_map_lookup_elem(&pairs, &pk);
	if (!p) {
		init.first_seen = now;
		bpf_map_update_elem(&pairs, &pk, &init, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&pairs, &pk);
		if (!p) {
			f->st->pair_update_fail++;
			return;
		}
	}
	if (pi->class == PM_C_IKE) {
		__sync_fetch_and_add(&p->ike_ticks, 1);
	} else {
		__sync_fetch_and_add(&p->esp_ticks, 1);
		p->spi = pi->spi;
		p->seq = pi->seq;
		p->len = payload_len(pi);
		p->class = pi->class;
		p->ifindex = f->ifindex;
		p->hook = f->hook;
	}
	if (p->last_seen != now)
		p->last_seen = now;
	d->pair_src = src;
	d->pair_tick = (__u32)now;
}

/* Send one packet's evidence to userspace, at most cfg_sample_rate per
 * destination per second: a flood costs the ring buffer no more. */
static __always_inline void sample(struct frame *f, struct pm_dest_hdr *d,
				   struct pm_dest_cold *k, __u32 kind)
{
	struct pkt_info *pi = f->pi;
	struct pm_stats *st = f->st;
	struct pm_event *ev;
	__u64 cap;

	if (f->now - k->win_start >= NSEC_PER_SEC) {
		k->win_start = f->now;
		k->win_samples = 0;
	}
	if (__sync_fetch_and_add(&k->win_samples, 1) >= cfg_sample_rate) {
		st->suppressed++;
		return;
	}
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		st->ringbuf_drops++;
		return;
	}
	ev->ts = clock_fine();
	ev->ifindex = f->ifindex;
	ev->hook = f->hook;
	ev->kind = kind;
	ev->class = pi->class;
	ev->tunnel = f->tunnel;
	__builtin_memcpy(ev->src, pi->src.addr, 16);
	__builtin_memcpy(ev->dst, pi->dst.addr, 16);
	ev->spi = pi->spi;
	ev->seq = pi->seq;
	ev->sport = pi->sport;
	ev->dport = pi->dport;
	ev->len = payload_len(pi);
	ev->allowed = ~d->denied & PM_ALL_CLASSES;
	ev->rule_id = k->rule_id;
	ev->wire_len = f->len;
	cap = f->data_end - f->data;
	if (cap > PM_SNAP_LEN)
		cap = PM_SNAP_LEN;
	ev->cap_len = cap;
	if (bpf_probe_read_kernel(ev->frame, cap, f->data))
		ev->cap_len = 0;
	bpf_ringbuf_submit(ev, 0);
	st->sampled++;
}

/* Count a packet of class cls and bytes under its destination (f->pi's,
 * or its --aggregate prefix): the rules, the learned expectation, the
 * IPsec pairs and the sampling, for the frame's own packet and for the
 * one inside a tunnel alike. tun: f->tunnel, a constant at the frame's
 * own call (PM_TUN_NONE), so that its test costs a plain packet nothing. */
static __always_inline void count_dest(struct frame *f, __u32 cls, __u64 bytes,
				       __u8 tun)
{
	struct pkt_info *pi = f->pi;
	struct pm_stats *st = f->st;
	__u32 kind, segs = f->segs;
	struct pm_dest_key key;
	struct pm_dest_count *c;
	struct pm_dest_cold *k;
	struct pm_dest_hdr *d;
	__u32 via, slot;

	f->now = clock_coarse(st);
	key = pi->dst;	/* the evidence keeps the packet's own address */
	aggregate(&key, pi->is_v6);
	d = dest_slot(&key, cls, st, f->now, &slot);
	if (!d)
		return;
	if (IPSEC_MASK & (1u << cls) && cls != PM_C_AH)
		track_pair(f, d);
	if (tun != PM_TUN_NONE) {
		/* PM_D_VIA(tun), its shift kept in range */
		via = 1u << ((8 + tun - PM_C_GRE) & 0x1f);
		if (!(d->flags & via))
			__sync_fetch_and_or(&d->flags, via);
	}

	/* Keep the verifier's bound on cls across the calls above. */
	asm volatile("%0 &= 0x1f" : "+r"(cls));
	if (cls >= PM_NCLASS)
		return;
	kind = PM_NKIND;
	if (denied_classes(d, slot, &key) & (1u << cls))
		kind = PM_K_UNEXPECTED;
	else if (!(d->flags & PM_H_RULE) && shifted(d, cls))	/* no rule: learn */
		kind = PM_K_SHIFT;

	if ((d->flags & PM_H_MAIN_MASK) == PM_H_MAIN(cls)) {
		/* the main class: in the header's line, read already */
		__sync_fetch_and_add(&d->packets, segs);
		__sync_fetch_and_add(&d->bytes, bytes);
	} else {
		c = count_at(slot, cls);
		if (!c)
			return;
		__sync_fetch_and_add(&c->packets, segs);
		__sync_fetch_and_add(&c->bytes, bytes);
	}
	if (!(d->seen & 1u << cls))
		__sync_fetch_and_or(&d->seen, 1u << cls);
	if (d->last_seen != f->now)
		d->last_seen = f->now;

	if (kind < PM_NKIND) {
		st->violations[kind] += segs;
		k = cold_at(slot);
		if (!k)
			return;
		__sync_fetch_and_add(&k->violations, segs);
		sample(f, d, k, kind);
	}
}

/* Bytes from the IP header on, as the IP header states them when the
 * frame holds that much (Ethernet padding is not counted); a GRO/GSO
 * packet adds the headers every further segment repeats. */
static __always_inline __u64 ip_bytes(const struct frame *f,
				      const struct pkt_info *pi)
{
	__u64 bytes = f->len - pi->l3_off;

	if (pi->ip_len && pi->ip_len < bytes)
		bytes = pi->ip_len;
	if (f->segs > 1)
		bytes += (__u64)(f->segs - 1) * (pi->hdr_len - pi->l3_off);
	return bytes;
}

/* Account one parsed frame (reason >= 0: not IP or malformed). */
static __always_inline void account(struct frame *f, int reason)
{
	struct pkt_info *pi = f->pi;
	struct pm_stats *st = f->st;
	__u64 bytes;
	__u32 cls;

	st->frames++;
	if (pi->vlans || f->stripped_vlans)
		st->vlan_frames++;
	if (reason >= 0) {
		if (reason < PM_NREASON)
			st->reason[reason]++;
		return;
	}

	if (f->segs > 1)
		st->gso_frames++;	/* a GRO/GSO packet */
	else
		f->segs = 1;
	bytes = ip_bytes(f, pi);
	cls = pi->class;
	if (cls >= PM_NCLASS)
		return;
	st->class_packets[cls] += f->segs;
	st->class_bytes[cls] += bytes;
	count_dest(f, cls, bytes, PM_TUN_NONE);
}

/* --decap: the parse of the packet inside a frame that account() counted
 * under a tunnel class (outer), into *pi; -1 or the reason it cannot be
 * counted (parse_tunnel()). A global function per program type, so that
 * the verifier checks the inner parse once on its own, not once per way
 * the outer parse reached it; each has one call site. */
__noinline int tunnel_xdp(struct xdp_md *ctx, const struct pkt_info *outer,
			  struct pkt_info *pi)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;

	if (!outer || !pi)
		return PM_R_TUN_OTHER;
	__builtin_memset(pi, 0, sizeof(*pi));
	return parse_tunnel(data, data_end, outer, pi);
}

__noinline int tunnel_skb(struct __sk_buff *skb, const struct pkt_info *outer,
			  struct pkt_info *pi)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!outer || !pi)
		return PM_R_TUN_OTHER;
	__builtin_memset(pi, 0, sizeof(*pi));
	return parse_tunnel(data, data_end, outer, pi);
}

/* --decap: count the packet inside a tunnel of class tun (its parse:
 * *pi, or reason >= 0), under its own destination and class: the same
 * table, rules, expectations and sampling as a frame's own packet; its
 * evidence is the whole frame, outer headers first. The hook's stats get
 * one of inner_packets or inner_reason per packet; the frame's own class
 * and reason counts are not touched. Bytes: from the inner IP header on,
 * as ip_bytes() counts them. f: account()'s frame, data and data_end
 * read again after the parse. */
static __always_inline void account_inner(struct frame *f, struct pkt_info *pi,
					  __u8 tun, int reason)
{
	struct pm_stats *st = f->st;
	__u32 cls = pi->class;

	if (reason >= 0) {
		if (reason < PM_NREASON)
			st->inner_reason[reason] += f->segs;
		return;
	}
	st->inner_packets += f->segs;
	if (cls >= PM_NCLASS)
		return;
	f->tunnel = tun;
	f->pi = pi;
	count_dest(f, cls, ip_bytes(f, pi), tun);
}

/* Whether account() counted the frame under a tunnel class whose inner
 * packet --decap counts too: the one test a plain packet pays (cfg_decap
 * is a constant to the verifier). A parse that ends in a reason leaves no
 * tunnel class in pi: parse_l4() gives the UDP tunnels their class on
 * success only, and gre, ipip, ipv6_encap are never a reason. */
static __always_inline bool decap_wanted(const struct pkt_info *pi)
{
	return cfg_decap && (PM_TUNNEL_CLASSES >> pi->class & 1);
}

SEC("xdp")
int pm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hook = PM_HOOK_XDP;
	struct pkt_info pi = {}, inner;
	struct frame f = {
		.data = data, .data_end = data_end, .pi = &pi, .hook = hook,
		.ifindex = ctx->ingress_ifindex, .segs = 1, .tunnel = PM_TUN_NONE,
		.len = cfg_replay && replay_len ? replay_len : data_end - data,
	};
	int reason;

	f.st = bpf_map_lookup_elem(&stats, &hook);
	if (!f.st)
		return XDP_PASS;
	reason = parse_frame(data, data_end, 0, &pi);
	account(&f, reason);
	if (decap_wanted(&pi)) {
		reason = tunnel_xdp(ctx, &pi, &inner);
		f.data = (void *)(long)ctx->data;
		f.data_end = (void *)(long)ctx->data_end;
		account_inner(&f, &inner, pi.class, reason);
	}
	return XDP_PASS;
}

#define TRUNC_REASONS (1u << PM_R_ETH_TRUNC | 1u << PM_R_VLAN_TRUNC | \
		       1u << PM_R_IP4_TRUNC | 1u << PM_R_IP6_TRUNC | \
		       1u << PM_R_IP6_EXT_TRUNC | 1u << PM_R_L4_TRUNC | \
		       1u << PM_R_MPLS_TRUNC | 1u << PM_R_PPPOE_TRUNC)
#define PULL_LEN 512

/* tc sees the skb: the outer VLAN tag may already sit in vlan_tci, a GRO
 * packet stands for gso_segs wire packets, and only the linear part is
 * directly readable: when the headers run past it, pull them in (the
 * packet is not changed, only made linear) and parse again. */
/* Parse what the skb's linear part holds. A global function: the verifier
 * checks it once, on its own, so account_skb may call it twice. */
__noinline int parse_skb(struct __sk_buff *skb, __u32 stripped, struct pkt_info *pi)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (!pi)
		return PM_R_NON_IP;
	__builtin_memset(pi, 0, sizeof(*pi));
	return parse_frame(data, data_end, stripped, pi);
}

static __always_inline void account_skb(struct __sk_buff *skb, __u32 hook)
{
	__u8 stripped = skb->vlan_present ? 1 : 0;
	struct pkt_info pi, inner;
	struct frame f;
	int reason;

	f.st = bpf_map_lookup_elem(&stats, &hook);
	if (!f.st)
		return;
	reason = parse_skb(skb, stripped, &pi);
	/* Cut short, or a tunnel whose inner headers --decap reads: pull
	 * in what the linear part may lack. The inner parse sees the first
	 * PULL_LEN bytes at most; inner headers past them end in an inner
	 * *_trunc reason. */
	if (((reason >= 0 && reason < 32 && (TRUNC_REASONS & (1u << reason))) ||
	     decap_wanted(&pi)) &&
	    skb->len > skb->data_end - skb->data) {
		bpf_skb_pull_data(skb, skb->len < PULL_LEN ? skb->len : PULL_LEN);
		reason = parse_skb(skb, stripped, &pi);
	}
	f.data = (void *)(long)skb->data;
	f.data_end = (void *)(long)skb->data_end;
	f.pi = &pi;
	f.len = skb->len;
	f.hook = hook;
	f.ifindex = skb->ifindex;
	f.segs = skb->gso_segs;
	f.stripped_vlans = stripped;
	f.tunnel = PM_TUN_NONE;
	account(&f, reason);
	if (decap_wanted(&pi)) {
		reason = tunnel_skb(skb, &pi, &inner);
		f.data = (void *)(long)skb->data;
		f.data_end = (void *)(long)skb->data_end;
		account_inner(&f, &inner, pi.class, reason);
	}
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
