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
#define READ_ONCE(x)	(*(volatile typeof(x) *)&(x))
#define barrier()	asm volatile("" ::: "memory")

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader between open and load. */
const volatile __u32 cfg_sample_rate = 5;	/* samples per destination per second */
const volatile bool cfg_replay;		/* time is replay_now, not the clock */
const volatile __u8 cfg_agg4 = 32;	/* --aggregate: count per prefix */
const volatile __u8 cfg_agg6 = 128;
const volatile bool cfg_baseline;	/* the baseline map holds something */

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

/* The destination table (headers/protomix.h, struct pm_bucket): the loader
 * sizes the arrays (cfg_nbuckets buckets of PM_WAYS ways, as many slots
 * as ways) and sets a random cfg_seed. */
const volatile __u32 cfg_nbuckets = 32768;
const volatile __u32 cfg_nslots = 262144;
const volatile __u64 cfg_seed;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_bucket);
} dest_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_dest_hdr);
} dests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 262144 * PM_NCLASS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_dest_count);
} dest_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_dest_cold);
} dest_cold SEC(".maps");

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

/* --baseline: what a destination had before (PM_D_BASE_*), read once when
 * the destination enters the dests map. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);		/* the loader sizes it */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pm_dest_key);
	__type(value, __u32);
} baseline SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pm_pair_key);
	__type(value, struct pm_pair);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/* 1 MiB: about 4,600 samples of 224 bytes, a burst of violations
	 * the reader drains afterwards */
	__uint(max_entries, 1024 * 1024);
} events SEC(".maps");

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
		if (cfg_agg4 >= 32)
			return;
		__builtin_memcpy(&a, &k->addr[12], 4);
		a &= cfg_agg4 ? bpf_htonl(~0u << (32 - cfg_agg4)) : 0;
		__builtin_memcpy(&k->addr[12], &a, 4);
		return;
	}
	if (cfg_agg6 >= 128)
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

static __always_inline struct pm_bucket *bucket_at(__u32 b)
{
	return bpf_map_lookup_elem(&dest_index, &b);
}

static __always_inline struct pm_dest_hdr *hdr_at(__u32 slot)
{
	return bpf_map_lookup_elem(&dests, &slot);
}

static __always_inline struct pm_dest_count *count_at(__u32 slot, __u32 cls)
{
	__u32 i = cls * cfg_nslots + slot;

	return bpf_map_lookup_elem(&dest_counts, &i);
}

static __always_inline struct pm_dest_cold *cold_at(__u32 slot)
{
	return bpf_map_lookup_elem(&dest_cold, &slot);
}

/* The way of bk that holds key, or -1: a tag compare per way, and the
 * entry's key read only where the tag matches. */
static __always_inline int find_way(struct pm_bucket *bk, __u16 tag,
				    const struct pm_dest_key *key)
{
	__u64 valid = READ_ONCE(bk->state) & PM_B_VALID;
	struct pm_dest_hdr *h;

#pragma unroll
	for (int w = 0; w < PM_WAYS; w++) {
		if (!(valid & (1ull << w)) || bk->tags[w] != tag)
			continue;
		h = hdr_at(bk->slots[w]);
		if (h && h->key.w[0] == key->w[0] && h->key.w[1] == key->w[1])
			return w;
	}
	return -1;
}

/* The slot of key in either of its buckets, or -1. */
static __always_inline int find_slot(struct pm_bucket *bk1, struct pm_bucket *bk2,
				     __u16 tag, const struct pm_dest_key *key)
{
	int w = find_way(bk1, tag, key);

	if (w >= 0)
		return bk1->slots[w & (PM_WAYS - 1)];
	w = find_way(bk2, tag, key);
	return w >= 0 ? (int)bk2->slots[w & (PM_WAYS - 1)] : -1;
}

/* Ways neither valid nor busy. */
static __always_inline __u64 free_ways(__u64 state)
{
	return ~(state | state >> PM_B_BUSY_SHIFT) & PM_B_VALID;
}

static __always_inline int lowest_way(__u64 ways)
{
#pragma unroll
	for (int w = 0; w < PM_WAYS; w++)
		if (ways & (1ull << w))
			return w;
	return -1;
}

static __always_inline __u32 nways(__u64 ways)
{
	ways = ways - ((ways >> 1) & 0x55);
	ways = (ways & 0x33) + ((ways >> 2) & 0x33);
	return (ways + (ways >> 4)) & 0x0f;
}

/* Mark a free way of bk busy: the way, or -1 when bk has none. */
static __always_inline int claim_free(struct pm_bucket *bk)
{
	__u64 s, fw;
	int w;

	for (int tries = 0; tries < 8; tries++) {
		s = READ_ONCE(bk->state);
		fw = free_ways(s);
		if (!fw)
			return -1;
		w = lowest_way(fw);
		if (w < 0)
			return -1;
		if (__sync_val_compare_and_swap(&bk->state, s,
						s | 1ull << (w + PM_B_BUSY_SHIFT)) == s)
			return w;
	}
	return -1;
}

/* Both buckets full: take the way, valid and not busy, whose destination
 * was seen least recently, and mark it busy (no longer valid). */
static __always_inline int claim_victim(struct pm_bucket *bk1,
					struct pm_bucket *bk2,
					struct pm_bucket **bk)
{
	__u64 oldest = ~0ull, s;
	struct pm_dest_hdr *h;
	int best = -1;

	for (int i = 0; i < 2 * PM_WAYS; i++) {
		struct pm_bucket *x = i < PM_WAYS ? bk1 : bk2;
		int w = i & (PM_WAYS - 1);

		if (!(READ_ONCE(x->state) & 1ull << w))
			continue;
		h = hdr_at(x->slots[w]);
		if (h && h->last_seen < oldest) {
			oldest = h->last_seen;
			best = i;
		}
	}
	if (best < 0)
		return -1;
	*bk = best < PM_WAYS ? bk1 : bk2;
	best &= PM_WAYS - 1;
	s = READ_ONCE((*bk)->state);
	if (!(s & 1ull << best))
		return -1;
	if (__sync_val_compare_and_swap(&(*bk)->state, s,
					(s & ~(1ull << best)) |
					1ull << (best + PM_B_BUSY_SHIFT)) != s)
		return -1;
	return best;
}

/* An evicted destination's slot, for the next one: zeroed. Only the
 * counters of the classes it saw can be other than zero. */
static __always_inline int clear_slot(__u32 slot, __u32 seen)
{
	struct pm_dest_count *c;
	struct pm_dest_cold *k;

#pragma unroll
	for (int cls = 0; cls < PM_NCLASS; cls++) {
		if (!(seen & 1u << cls))
			continue;
		c = count_at(slot, cls);
		if (!c)
			return -1;
		c->packets = 0;
		c->bytes = 0;
	}
	k = cold_at(slot);
	if (!k)
		return -1;
	__builtin_memset(k, 0, sizeof(*k));
	return 0;
}

/* Give up a way claimed busy: free again. */
static __always_inline void release_way(struct pm_bucket *bk, int w)
{
	__sync_fetch_and_and(&bk->state, ~(1ull << (w + PM_B_BUSY_SHIFT)));
}

/* A destination seen for the first time, with its first bucket locked:
 * its slot, or -1. The way comes from the emptier of its two buckets and
 * the slot from the next never used one; when both buckets are full, the
 * least recently seen of their destinations gives up its way and slot. */
static __always_inline int insert(struct pm_dest_key *key, __u16 tag,
				  __u64 now, struct pm_bucket *bk1,
				  struct pm_bucket *bk2, struct pm_bucket *bk0)
{
	struct pm_bucket *bk = bk1;
	struct pm_dest_hdr *h;
	bool evicted = false;
	__u32 slot, seen, *base;
	int w;

	if (nways(free_ways(READ_ONCE(bk2->state))) >
	    nways(free_ways(READ_ONCE(bk1->state))))
		bk = bk2;
	w = claim_free(bk);
	if (w < 0 && bk != bk2) {
		bk = bk2;
		w = claim_free(bk);
	}
	if (w >= 0) {
		/* as many slots as ways: a free way means a never used slot */
		w &= PM_WAYS - 1;
		slot = __sync_fetch_and_add(&bk0->next, 1);
		if (slot >= cfg_nslots) {
			release_way(bk, w);
			return -1;
		}
	} else {
		w = claim_victim(bk1, bk2, &bk);
		if (w < 0)
			return -1;
		w &= PM_WAYS - 1;
		slot = bk->slots[w];
		evicted = true;
	}
	h = hdr_at(slot);
	if (!h) {
		release_way(bk, w);
		return -1;
	}
	/* first_seen 0 first: a reader skips the slot from here on, so it
	 * never sees the evicted destination with its counters half zeroed */
	seen = h->seen;
	__builtin_memset(h, 0, sizeof(*h));
	barrier();
	if (evicted && clear_slot(slot, seen)) {
		release_way(bk, w);
		return -1;
	}
	barrier();
	h->key = *key;
	h->first_seen = now;
	if (cfg_baseline) {
		/* The key as it stands in the entry, a map value: 6.1's
		 * verifier takes no pointer argument of a global function
		 * (mem, as key is in dest_insert) as a helper's map key. */
		base = bpf_map_lookup_elem(&baseline, &h->key);
		if (base)
			h->flags = *base;
	}
	bk->tags[w] = tag;
	bk->slots[w] = slot;
	/* busy off, valid on, in one atomic step: the entry is readable */
	__sync_fetch_and_xor(&bk->state, 1ull << w | 1ull << (w + PM_B_BUSY_SHIFT));
	return slot;
}

#define SLOT_NEW	(1 << 30)	/* dest_insert: the slot is new */

/* The insert lock of a first bucket. Its holder is another CPU in the
 * middle of an insert (a few hundred ns; programs are not preempted), so
 * waiting for it is short; LOCK_TRIES bounds the wait all the same
 * (tests/table_test: two CPUs inserting the same destinations at once). */
#define LOCK_TRIES	(1 << 20)

struct lock_wait {
	__u32 b;
	__u32 locked;
};

static long try_lock(__u64 i, void *ctx)
{
	struct lock_wait *lw = ctx;
	struct pm_bucket *bk = bucket_at(lw->b);

	if (!bk)
		return 1;
	if (READ_ONCE(bk->state) & PM_B_LOCK)
		return 0;
	if (__sync_fetch_and_or(&bk->state, PM_B_LOCK) & PM_B_LOCK)
		return 0;
	lw->locked = 1;
	return 1;
}

/* The slot of a destination neither of its buckets (b1, b2, its tag:
 * pm_dest_hash) held a moment ago, inserted unless another CPU did it
 * meanwhile: the slot, with SLOT_NEW when we inserted it; -1 when there
 * was no room. One insert per first bucket at a time, so that two CPUs
 * never insert the same destination twice: the other waits a little,
 * then finds the destination the first one inserted. A global function:
 * the verifier checks it once, apart from the per-packet path. */
__noinline int dest_insert(struct pm_dest_key *key, __u64 now, __u32 b1,
			   __u32 b2, __u16 tag)
{
	struct pm_bucket *bk0, *bk1, *bk2;
	struct lock_wait wait = {};
	int slot;

	if (!key)
		return -1;
	bk0 = bucket_at(0);
	bk1 = bucket_at(b1);
	bk2 = bucket_at(b2);
	if (!bk0 || !bk1 || !bk2)
		return -1;
	wait.b = b1;
	bpf_loop(LOCK_TRIES, try_lock, &wait, 0);
	if (!wait.locked)
		return -1;
	/* Inserted while we waited for the lock? */
	slot = find_slot(bk1, bk2, tag, key);
	if (slot < 0 && (slot = insert(key, tag, now, bk1, bk2, bk0)) >= 0)
		slot |= SLOT_NEW;
	__sync_fetch_and_and(&bk1->state, ~PM_B_LOCK);
	return slot;
}

/* Find the destination's slot, inserting it on first sight: the slot, or
 * -1 (counted in stats only). Userspace counts evictions as new_dests
 * minus the destinations in the table. A zeroed entry is valid as it is
 * (denied 0: nothing denied), so another CPU may use it at once. */
static __always_inline int dest_slot(struct pm_dest_key *key,
				     struct pm_stats *st, __u64 now)
{
	struct pm_bucket *bk1, *bk2;
	__u32 b1, b2;
	__u16 tag;
	int slot;

	tag = pm_dest_hash(key, cfg_seed, cfg_nbuckets, &b1, &b2);
	bk1 = bucket_at(b1);
	bk2 = bucket_at(b2);
	if (!bk1 || !bk2) {
		st->dest_update_fail++;
		return -1;
	}
	slot = find_slot(bk1, bk2, tag, key);
	if (slot >= 0)
		return slot;
	slot = dest_insert(key, now, b1, b2, tag);
	if (slot < 0) {
		st->dest_update_fail++;
		return -1;
	}
	if (slot & SLOT_NEW)
		st->new_dests++;
	return slot & ~SLOT_NEW;
}

/* The classes the destination's rule does not allow, cached in its entry
 * for the current rules generation: one trie lookup per destination per
 * change of the rules, not one per packet. */
static __always_inline __u32 denied_classes(struct pm_dest_hdr *d,
					    struct pm_dest_key *key)
{
	struct pm_rule_key rk = { .prefixlen = 128 };
	struct pm_rule *r = NULL;
	__u32 gen = rules_gen, zero = 0;
	void *trie;

	if (d->rules_gen == gen)
		return d->denied;
	__builtin_memcpy(rk.addr, key->addr, sizeof(rk.addr));
	trie = bpf_map_lookup_elem(&rules, &zero);
	if (trie)
		r = bpf_map_lookup_elem(trie, &rk);
	d->denied = r ? ~r->allowed & PM_ALL_CLASSES : 0;
	d->rule_id = r ? r->id : 0;
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
static __always_inline void track_pair(struct pkt_info *pi, struct pm_dest_hdr *d,
				       struct pm_stats *st, __u64 now,
				       __u32 ifindex, __u32 hook)
{
	struct pm_pair_key pk;
	struct pm_pair *p, init = {};
	bool per_addr = cfg_agg4 >= 32 && cfg_agg6 >= 128;

	__u32 src = addr_fold(&pi->src);

	/* d stands for one address only without --aggregate; a source
	 * whose fold equals the last one's (1 in 2^32) waits a tick */
	if (per_addr && d->pair_tick == now && d->pair_src == src)
		return;
	__builtin_memcpy(pk.src, pi->src.addr, 16);
	__builtin_memcpy(pk.dst, pi->dst.addr, 16);
	p = bpf_map_lookup_elem(&pairs, &pk);
	if (!p) {
		init.first_seen = now;
		bpf_map_update_elem(&pairs, &pk, &init, BPF_NOEXIST);
		p = bpf_map_lookup_elem(&pairs, &pk);
		if (!p) {
			st->pair_update_fail++;
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
		p->ifindex = ifindex;
		p->hook = hook;
	}
	if (p->last_seen != now)
		p->last_seen = now;
	d->pair_src = src;
	d->pair_tick = now;
}

/* Send one packet's evidence to userspace, at most cfg_sample_rate per
 * destination per second: a flood costs the ring buffer no more. */
static __always_inline void sample(void *data, void *data_end,
				   struct pkt_info *pi, struct pm_dest_hdr *d,
				   struct pm_dest_cold *k,
				   struct pm_stats *st, __u64 now, __u32 kind,
				   __u32 ifindex, __u32 hook, __u32 wire_len)
{
	struct pm_event *ev;
	__u64 cap;

	if (now - k->win_start >= NSEC_PER_SEC) {
		k->win_start = now;
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
	ev->ifindex = ifindex;
	ev->hook = hook;
	ev->kind = kind;
	ev->class = pi->class;
	__builtin_memcpy(ev->src, pi->src.addr, 16);
	__builtin_memcpy(ev->dst, pi->dst.addr, 16);
	ev->spi = pi->spi;
	ev->seq = pi->seq;
	ev->sport = pi->sport;
	ev->dport = pi->dport;
	ev->len = payload_len(pi);
	ev->allowed = ~d->denied & PM_ALL_CLASSES;
	ev->rule_id = d->rule_id;
	ev->wire_len = wire_len;
	cap = data_end - data;
	if (cap > PM_SNAP_LEN)
		cap = PM_SNAP_LEN;
	ev->cap_len = cap;
	if (bpf_probe_read_kernel(ev->frame, cap, data))
		ev->cap_len = 0;
	bpf_ringbuf_submit(ev, 0);
	st->sampled++;
}

/* Account one parsed frame (reason >= 0: not IP or malformed). segs is the
 * number of wire packets it stands for (gso_segs at tc, 1 at XDP); len is
 * the frame's length. */
static __always_inline void account(struct pm_stats *st, struct pkt_info *pi,
				    int reason, void *data, void *data_end,
				    __u32 hook, __u32 ifindex, __u8 stripped_vlans,
				    __u32 segs, __u64 len)
{
	struct pm_dest_key key;
	struct pm_dest_count *c;
	struct pm_dest_cold *k;
	struct pm_dest_hdr *d;
	__u64 now, bytes;
	__u32 cls, kind;
	int slot;

	st->frames++;
	if (pi->vlans || stripped_vlans)
		st->vlan_frames++;
	if (reason >= 0) {
		if (reason < PM_NREASON)
			st->reason[reason]++;
		return;
	}

	/* Bytes from the IP header on, as the IP header states them when
	 * the frame holds that much (Ethernet padding is not counted). */
	bytes = len - pi->l3_off;
	if (pi->ip_len && pi->ip_len < bytes)
		bytes = pi->ip_len;
	if (segs > 1) {
		/* A GRO/GSO packet: every segment repeats the headers. */
		st->gso_frames++;
		bytes += (__u64)(segs - 1) * (pi->hdr_len - pi->l3_off);
	} else {
		segs = 1;
	}
	cls = pi->class;
	if (cls >= PM_NCLASS)
		return;
	st->class_packets[cls] += segs;
	st->class_bytes[cls] += bytes;

	now = clock_coarse(st);
	key = pi->dst;	/* the evidence keeps the packet's own address */
	aggregate(&key, pi->is_v6);
	slot = dest_slot(&key, st, now);
	if (slot < 0)
		return;
	d = hdr_at(slot);
	if (!d)
		return;
	if (IPSEC_MASK & (1u << cls) && cls != PM_C_AH)
		track_pair(pi, d, st, now, ifindex, hook);

	/* Keep the verifier's bound on cls across the calls above. */
	asm volatile("%0 &= 0xf" : "+r"(cls));
	if (cls >= PM_NCLASS)
		return;
	kind = PM_NKIND;
	if (denied_classes(d, &key) & (1u << cls))
		kind = PM_K_UNEXPECTED;
	else if (!d->rule_id && shifted(d, cls))	/* no rule: learn */
		kind = PM_K_SHIFT;

	c = count_at(slot, cls);
	if (!c)
		return;
	__sync_fetch_and_add(&c->packets, segs);
	__sync_fetch_and_add(&c->bytes, bytes);
	if (!(d->seen & 1u << cls))
		__sync_fetch_and_or(&d->seen, 1u << cls);
	if (d->last_seen != now)
		d->last_seen = now;

	if (kind < PM_NKIND) {
		st->violations[kind] += segs;
		k = cold_at(slot);
		if (!k)
			return;
		__sync_fetch_and_add(&k->violations, segs);
		sample(data, data_end, pi, d, k, st, now, kind, ifindex, hook, len);
	}
}

SEC("xdp")
int pm_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 hook = PM_HOOK_XDP;
	struct pkt_info pi = {};
	struct pm_stats *st;
	int reason;

	st = bpf_map_lookup_elem(&stats, &hook);
	if (!st)
		return XDP_PASS;
	reason = parse_frame(data, data_end, 0, &pi);
	account(st, &pi, reason, data, data_end, hook, ctx->ingress_ifindex, 0,
		1, cfg_replay && replay_len ? replay_len : data_end - data);
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
	struct pkt_info pi;
	struct pm_stats *st;
	int reason;

	st = bpf_map_lookup_elem(&stats, &hook);
	if (!st)
		return;
	reason = parse_skb(skb, stripped, &pi);
	if (reason >= 0 && reason < 32 && (TRUNC_REASONS & (1u << reason)) &&
	    skb->len > skb->data_end - skb->data) {
		bpf_skb_pull_data(skb, skb->len < PULL_LEN ? skb->len : PULL_LEN);
		reason = parse_skb(skb, stripped, &pi);
	}
	account(st, &pi, reason, (void *)(long)skb->data,
		(void *)(long)skb->data_end, hook, skb->ifindex, stripped,
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
