/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The destination table: a key (struct pm_dest_key) to its slot, the
 * index of its entry in dests, dest_counts and dest_cold. The layout, the
 * lines a packet touches and the bucket state word are described in
 * headers/protomix.h (struct pm_bucket); userspace reads it all in place
 * (user/maps.c). dest_slot() is the one entry point.
 *
 * Invariants:
 *  - a key is in at most one way of its two buckets (pm_dest_hash): every
 *    insert of a key holds its first bucket's PM_B_LOCK and looks again
 *    under it, so two CPUs never insert the same key twice;
 *  - a way is written only while its busy bit is set (claimed with a
 *    compare-and-swap of the state word); busy off and valid on happen in
 *    one atomic step, after the entry is complete: a reader that sees a
 *    valid way sees its tag, slot and key;
 *  - as many slots as ways: a free way means a never used slot (handed
 *    out in order by bucket 0's `next`); when both buckets are full, the
 *    least recently seen of their 16 destinations gives up way and slot;
 *  - an entry's first_seen (in dest_cold) is 0 while it is being
 *    (re)written: readers skip it, so an evicted destination is never
 *    seen half zeroed;
 *  - an entry's main class (PM_H_MAIN, the class of the packet that
 *    inserted it) is set before the way is valid and never changes: a
 *    packet of that class counts in the header, any other class in
 *    dest_counts;
 *  - an insert never fails silently: -1 is counted in dest_update_fail;
 *  - the lock wait is bounded (LOCK_SPINS * LOCK_ROUNDS tries) with plain
 *    bounded loops, not bpf_loop, so the programs load from Linux 5.12.
 */
#ifndef PM_DEST_TABLE_BPF_H
#define PM_DEST_TABLE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "protomix.h"

#define READ_ONCE(x)	(*(volatile typeof(x) *)&(x))
#define barrier()	asm volatile("" ::: "memory")

/* The destination table (headers/protomix.h, struct pm_bucket): the loader
 * sizes the arrays (cfg_nbuckets buckets of PM_WAYS ways, as many slots
 * as ways) and sets a random cfg_seed. */
const volatile __u32 cfg_nbuckets = PM_DEST_BUCKETS_DEFAULT;
const volatile __u32 cfg_nslots = PM_DEST_SLOTS_DEFAULT;
const volatile __u64 cfg_seed;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PM_DEST_BUCKETS_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_bucket);
} dest_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PM_DEST_SLOTS_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_dest_hdr);
} dests SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PM_DEST_SLOTS_DEFAULT * PM_NCLASS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_dest_count);
} dest_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PM_DEST_SLOTS_DEFAULT);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pm_dest_cold);
} dest_cold SEC(".maps");

const volatile bool cfg_baseline;	/* the baseline map holds something */

/* --baseline: what a destination had before (PM_D_BASE_*), read once when
 * the destination enters the dests map. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);		/* the loader sizes it */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pm_dest_key);
	__type(value, __u32);
} baseline SEC(".maps");

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

/* The entry of key in bk, its slot in *slot, or NULL: a tag compare per
 * way, and the entry's key read only where the tag matches (tags of 16
 * bits: a key is read in vain about once in 8192 lookups). */
static __always_inline struct pm_dest_hdr *
find_way(struct pm_bucket *bk, __u16 tag, const struct pm_dest_key *key,
	 __u32 *slot)
{
	__u64 valid = READ_ONCE(bk->state) & PM_B_VALID;
	struct pm_dest_hdr *h;
	__u32 s;

#pragma unroll
	for (int w = 0; w < PM_WAYS; w++) {
		if (!(valid & (1ull << w)) || bk->tags[w] != tag)
			continue;
		s = bk->slots[w];
		h = hdr_at(s);
		if (h && h->key.w[0] == key->w[0] && h->key.w[1] == key->w[1]) {
			*slot = s;
			return h;
		}
	}
	return NULL;
}

/* The entry of key in either of its buckets, its slot in *slot, or
 * NULL. */
static __always_inline struct pm_dest_hdr *
find_slot(struct pm_bucket *bk1, struct pm_bucket *bk2, __u16 tag,
	  const struct pm_dest_key *key, __u32 *slot)
{
	struct pm_dest_hdr *h = find_way(bk1, tag, key, slot);

	return h ? h : find_way(bk2, tag, key, slot);
}

/* Ways in a way mask. */
static __always_inline __u32 nways(__u64 ways)
{
	ways = ways - ((ways >> 1) & 0x55);
	ways = (ways & 0x33) + ((ways >> 2) & 0x33);
	return (ways + (ways >> 4)) & 0x0f;
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

/* An evicted destination's counters, for the next one: zeroed. Only the
 * counters of the classes it saw can be other than zero. */
static __always_inline int clear_counts(__u32 slot, __u32 seen)
{
	struct pm_dest_count *c;

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
	return 0;
}

/* Give up a way claimed busy: free again. */
static __always_inline void release_way(struct pm_bucket *bk, int w)
{
	__sync_fetch_and_and(&bk->state, ~(1ull << (w + PM_B_BUSY_SHIFT)));
}

/* A destination seen for the first time, with its first bucket locked:
 * its slot, or -1. The way comes from its first bucket while that has
 * PM_FIRST_FREE free ways, else from the emptier of its two buckets
 * (headers/protomix.h: why), and the slot from the next never used one;
 * when both buckets are full, the least recently seen of their
 * destinations gives up its way and slot. cls, the class of the packet
 * that inserts it, becomes its main class. */
static __always_inline int insert(struct pm_dest_key *key, __u16 tag,
				  __u64 now, __u32 cls, struct pm_bucket *bk1,
				  struct pm_bucket *bk2, struct pm_bucket *bk0)
{
	struct pm_bucket *bk = bk1;
	struct pm_dest_cold *k;
	struct pm_dest_hdr *h;
	bool evicted = false;
	__u32 slot, seen, flags, *base, free1;
	int w;

	free1 = nways(free_ways(READ_ONCE(bk1->state)));
	if (free1 < PM_FIRST_FREE &&
	    nways(free_ways(READ_ONCE(bk2->state))) > free1)
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
	k = cold_at(slot);
	if (!h || !k) {
		release_way(bk, w);
		return -1;
	}
	/* first_seen 0 first: a reader skips the slot from here on, so it
	 * never sees the evicted destination with its counters half zeroed */
	k->first_seen = 0;
	barrier();
	seen = h->seen;
	__builtin_memset(h, 0, sizeof(*h));
	__builtin_memset(k, 0, sizeof(*k));
	if (evicted && clear_counts(slot, seen)) {
		release_way(bk, w);
		return -1;
	}
	h->key = *key;
	flags = PM_H_MAIN(cls);
	if (cfg_baseline) {
		/* The key as it stands in the entry, a map value: 6.1's
		 * verifier takes no pointer argument of a global function
		 * (mem, as key is in dest_insert) as a helper's map key. */
		base = bpf_map_lookup_elem(&baseline, &h->key);
		if (base)
			flags |= *base & ~PM_H_MASK;
	}
	h->flags = flags;
	barrier();
	k->first_seen = now;
	bk->tags[w] = tag;
	bk->slots[w] = slot;
	/* busy off, valid on, in one atomic step: the entry is readable */
	__sync_fetch_and_xor(&bk->state, 1ull << w | 1ull << (w + PM_B_BUSY_SHIFT));
	return slot;
}

#define SLOT_NEW	(1 << 30)	/* dest_insert: the slot is new */

/* The insert lock of a first bucket. Its holder is another CPU in the
 * middle of an insert (a few hundred ns; programs are not preempted), so
 * waiting for it is short; LOCK_SPINS * LOCK_ROUNDS tries (2^20) bound the
 * wait all the same (tests/table_test: two CPUs inserting the same
 * destinations at once). Bounded loops, not bpf_loop (5.17): the floor
 * stays at 5.12. */
#define LOCK_SPINS	1024	/* tries per lock_spin call */
#define LOCK_ROUNDS	1024	/* lock_spin calls */

/* Up to LOCK_SPINS tries at bucket b's insert lock: 1 taken, 0 not. A
 * global function with a scalar argument: the verifier walks its loop
 * once, on its own, so the caller's loop around it costs the verifier
 * LOCK_SPINS + LOCK_ROUNDS steps, not their product. */
__noinline int lock_spin(__u32 b)
{
	struct pm_bucket *bk = bucket_at(b);

	if (!bk)
		return 0;
	for (int i = 0; i < LOCK_SPINS; i++) {
		if (READ_ONCE(bk->state) & PM_B_LOCK)
			continue;
		if (!(__sync_fetch_and_or(&bk->state, PM_B_LOCK) & PM_B_LOCK))
			return 1;
	}
	return 0;
}

/* The slot of a destination neither of its buckets (b1, b2, its tag:
 * pm_dest_hash; the tag in tag_cls's low 16 bits, the class of the packet
 * above them: a BPF call has five arguments) held a moment ago, inserted
 * unless another CPU did it meanwhile: the slot, with SLOT_NEW when we
 * inserted it; -1 when there was no room. One insert per first bucket at
 * a time, so that two CPUs never insert the same destination twice: the
 * other waits a little, then finds the destination the first one
 * inserted. A global function: the verifier checks it once, apart from
 * the per-packet path. */
__noinline int dest_insert(struct pm_dest_key *key, __u64 now, __u32 b1,
			   __u32 b2, __u32 tag_cls)
{
	__u16 tag = (__u16)tag_cls;
	__u32 cls = tag_cls >> 16;
	struct pm_bucket *bk0, *bk1, *bk2;
	int slot, locked = 0;
	__u32 found;

	if (!key)
		return -1;
	bk0 = bucket_at(0);
	bk1 = bucket_at(b1);
	bk2 = bucket_at(b2);
	if (!bk0 || !bk1 || !bk2)
		return -1;
	for (int r = 0; r < LOCK_ROUNDS && !locked; r++)
		locked = lock_spin(b1);
	if (!locked)
		return -1;
	/* Inserted while we waited for the lock? */
	if (find_slot(bk1, bk2, tag, key, &found))
		slot = found;
	else if ((slot = insert(key, tag, now, cls, bk1, bk2, bk0)) >= 0)
		slot |= SLOT_NEW;
	__sync_fetch_and_and(&bk1->state, ~PM_B_LOCK);
	return slot;
}

/* Find the destination's entry, inserting it on first sight (cls, the
 * packet's class, its main class): its header, its slot in *slot; NULL
 * (counted in stats only) when there is no room. Userspace counts
 * evictions as new_dests minus the destinations in the table. A zeroed
 * entry is valid as it is (denied 0: nothing denied), so another CPU may
 * use it at once. */
static __always_inline struct pm_dest_hdr *
dest_slot(struct pm_dest_key *key, __u32 cls, struct pm_stats *st, __u64 now,
	  __u32 *slot)
{
	struct pm_bucket *bk1, *bk2;
	struct pm_dest_hdr *h;
	__u32 b1, b2;
	__u16 tag;
	int s;

	tag = pm_dest_hash(key, cfg_seed, cfg_nbuckets, &b1, &b2);
	bk1 = bucket_at(b1);
	bk2 = bucket_at(b2);
	if (!bk1 || !bk2) {
		st->dest_update_fail++;
		return NULL;
	}
	h = find_slot(bk1, bk2, tag, key, slot);
	if (h)
		return h;
	s = dest_insert(key, now, b1, b2, cls << 16 | tag);
	if (s < 0) {
		st->dest_update_fail++;
		return NULL;
	}
	if (s & SLOT_NEW)
		st->new_dests++;
	*slot = s & ~SLOT_NEW;
	return hdr_at(*slot);
}
#endif /* PM_DEST_TABLE_BPF_H */
