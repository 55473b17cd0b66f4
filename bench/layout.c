// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmbench layout [--rounds N] [--cpu C]: the destination table's lookup
 * in userspace, as the programs do it, under two layouts, to weigh a
 * layout before writing it in BPF (README, Performance: "a compact
 * index"). Not the programs: no packet, no BPF, plain loads and atomics
 * on 4 KB pages (huge pages refused, as BPF maps get none).
 *
 *   today    the table of headers/protomix.h: a 64-byte bucket (state,
 *            16-bit tags, slots) names the slot of the entry's header;
 *            slots handed out in the order keys come
 *   compact  a 16-byte bucket (state, 8-bit tags), four to a line, and
 *            the header at a fixed slot, bucket * PM_WAYS + way: a 512 KB
 *            index that may stay in a cache, the headers spread over the
 *            whole array
 *
 * 131,072 keys (IPv4-mapped, in order) in the default size (32,768
 * buckets, 262,144 slots), each found and its header's two counters
 * added to, 4 times per measure; visited in the order they were inserted
 * (today: slot order, as observer_v4_tcp_131k_dests) and scattered (a
 * random permutation, as observer_v4_tcp_131k_scattered). The layouts
 * alternate in every round; per round the ratio compact / today, median
 * and min-max.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "bench.h"
#include "protomix.h"
#include "util.h"

#define NKEYS	131072
#define NB	PM_DEST_BUCKETS_DEFAULT
#define NS	PM_DEST_SLOTS_DEFAULT
#define PASSES	4
#define SEED	0x5eed0f1a7e5ull

struct cbucket {		/* 16 bytes: four to a cache line */
	__u64 state;		/* valid bits, as pm_bucket's */
	__u8 tags[PM_WAYS];
};

struct layout {
	struct pm_bucket *idx;		/* today */
	struct pm_dest_hdr *hdr;
	struct cbucket *cidx;		/* compact */
	struct pm_dest_hdr *chdr;
};

static void *pages(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, n, MADV_NOHUGEPAGE);
	memset(p, 0, n);	/* every page present before a measure */
	return p;
}

static void unmap(void *p, size_t n)
{
	if (p)
		munmap(p, n);
}

/* The bucket (0 or 1 of the key's two) a new key takes, by the rule of
 * headers/protomix.h (PM_FIRST_FREE); -1 when both are full. */
static int pick(__u64 s1, __u64 s2)
{
	int f1 = PM_WAYS - __builtin_popcountll(s1 & PM_B_VALID);
	int f2 = PM_WAYS - __builtin_popcountll(s2 & PM_B_VALID);
	int i = f1 < PM_FIRST_FREE && f2 > f1;

	if (!(i ? f2 : f1))
		i = !i;
	return (i ? f2 : f1) ? i : -1;
}

static int insert(struct layout *l, const struct pm_dest_key *k, __u32 *next)
{
	__u32 b[2], w;
	__u16 tag = pm_dest_hash(k, SEED, NB, &b[0], &b[1]);
	int i = pick(l->idx[b[0]].state, l->idx[b[1]].state);
	struct pm_bucket *bk;
	struct cbucket *cb;

	if (i < 0)
		return -1;
	bk = &l->idx[b[i]];
	w = __builtin_ctzll(~bk->state & PM_B_VALID);
	bk->tags[w] = tag;
	bk->slots[w] = *next;
	bk->state |= 1ull << w;
	l->hdr[(*next)++].key = *k;

	i = pick(l->cidx[b[0]].state, l->cidx[b[1]].state);
	if (i < 0)
		return -1;
	cb = &l->cidx[b[i]];
	w = __builtin_ctzll(~cb->state & PM_B_VALID);
	cb->tags[w] = (__u8)tag;
	cb->state |= 1ull << w;
	l->chdr[b[i] * PM_WAYS + w].key = *k;
	return 0;
}

static struct pm_dest_hdr *find_today(const struct layout *l, const struct pm_dest_key *k)
{
	__u32 b[2];
	__u16 tag = pm_dest_hash(k, SEED, NB, &b[0], &b[1]);

	for (int i = 0; i < 2; i++) {
		const struct pm_bucket *bk = &l->idx[b[i]];
		__u64 v = __atomic_load_n(&bk->state, __ATOMIC_ACQUIRE);

		for (int w = 0; w < PM_WAYS; w++) {
			struct pm_dest_hdr *h;

			if (!(v & 1ull << w) || bk->tags[w] != tag)
				continue;
			h = &l->hdr[bk->slots[w]];
			if (h->key.w[0] == k->w[0] && h->key.w[1] == k->w[1])
				return h;
		}
	}
	return NULL;
}

static struct pm_dest_hdr *find_compact(const struct layout *l, const struct pm_dest_key *k)
{
	__u32 b[2];
	__u8 tag = (__u8)pm_dest_hash(k, SEED, NB, &b[0], &b[1]);

	for (int i = 0; i < 2; i++) {
		const struct cbucket *cb = &l->cidx[b[i]];
		__u64 v = __atomic_load_n(&cb->state, __ATOMIC_ACQUIRE);

		for (int w = 0; w < PM_WAYS; w++) {
			struct pm_dest_hdr *h;

			if (!(v & 1ull << w) || cb->tags[w] != tag)
				continue;
			h = &l->chdr[b[i] * PM_WAYS + w];
			if (h->key.w[0] == k->w[0] && h->key.w[1] == k->w[1])
				return h;
		}
	}
	return NULL;
}

/* ns per lookup over PASSES passes of keys in order ord; -1 if a key is
 * not found. */
static double measure(const struct layout *l, bool compact,
		      const struct pm_dest_key *keys, const __u32 *ord)
{
	double t0 = mono_s();

	for (int p = 0; p < PASSES; p++) {
		for (__u32 i = 0; i < NKEYS; i++) {
			struct pm_dest_key k = keys[ord[i]];
			struct pm_dest_hdr *h = compact ? find_compact(l, &k)
							: find_today(l, &k);

			if (!h)
				return -1;
			__atomic_fetch_add(&h->packets, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&h->bytes, 64, __ATOMIC_RELAXED);
		}
	}
	return (mono_s() - t0) * 1e9 / ((double)PASSES * NKEYS);
}

static void spread(double *v, int n, double *med, double *lo, double *hi)
{
	*lo = *hi = v[0];
	for (int i = 1; i < n; i++) {
		*lo = v[i] < *lo ? v[i] : *lo;
		*hi = v[i] > *hi ? v[i] : *hi;
	}
	*med = median(v, n);
}

int cmd_layout(int argc, char **argv)
{
	int rounds = 9, cpu = -1;
	struct layout l;
	struct pm_dest_key *keys;
	__u32 *in_order, *scattered, next = 0;
	double *v, t[2][2], m[4][3];
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = (int)arg_u64("--rounds", argv[++i], 1, 200);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = (int)arg_u64("--cpu", argv[++i], 0, 4095);
		else {
			bench_err("layout: unknown argument %s (--rounds N, --cpu C)", argv[i]);
			return 2;
		}
	}
	if (cpu >= 0 && pin_cpu(cpu))
		bench_err("layout: cannot pin to CPU %d, running unpinned", cpu);
	l.idx = pages((size_t)NB * sizeof(*l.idx));
	l.hdr = pages((size_t)NS * sizeof(*l.hdr));
	l.cidx = pages((size_t)NB * sizeof(*l.cidx));
	l.chdr = pages((size_t)NS * sizeof(*l.chdr));
	keys = calloc(NKEYS, sizeof(*keys));
	in_order = calloc(NKEYS, sizeof(*in_order));
	scattered = calloc(NKEYS, sizeof(*scattered));
	v = calloc((size_t)rounds * 4, sizeof(*v));
	if (!l.idx || !l.hdr || !l.cidx || !l.chdr || !keys || !in_order ||
	    !scattered || !v) {
		bench_err("layout: out of memory");
		goto out;
	}
	for (__u32 i = 0; i < NKEYS; i++) {
		addr_from_v4(keys[i].addr, 0x0a000000u + i);
		if (insert(&l, &keys[i], &next)) {
			bench_err("layout: key %u finds both buckets full", i);
			goto out;
		}
		in_order[i] = scattered[i] = i;
	}
	srandom(7);
	for (__u32 i = NKEYS - 1; i > 0; i--) {
		__u32 j = (__u32)random() % (i + 1), x = scattered[i];

		scattered[i] = scattered[j];
		scattered[j] = x;
	}
	for (int r = 0; r < rounds; r++) {
		/* which layout first alternates with the round */
		for (int a = 0; a < 2; a++) {
			bool compact = (a + r) % 2;

			t[compact][0] = measure(&l, compact, keys, in_order);
			t[compact][1] = measure(&l, compact, keys, scattered);
		}
		if (t[0][0] < 0 || t[0][1] < 0 || t[1][0] < 0 || t[1][1] < 0) {
			bench_err("layout: a key was not found");
			goto out;
		}
		v[r] = t[0][0];
		v[rounds + r] = t[0][1];
		v[2 * rounds + r] = t[1][0] / t[0][0];
		v[3 * rounds + r] = t[1][1] / t[0][1];
		bench_say("layout round %d: in order today %.1f compact %.1f ns, "
			  "scattered today %.1f compact %.1f ns", r + 1,
			  t[0][0], t[1][0], t[0][1], t[1][1]);
	}
	for (int i = 0; i < 4; i++)
		spread(v + (size_t)i * rounds, rounds, &m[i][0], &m[i][1], &m[i][2]);
	bench_say("layout: compact / today per round: in order %.0f%% (%.0f-%.0f), "
		  "scattered %.0f%% (%.0f-%.0f), %d rounds; today in order %.1f ns, "
		  "scattered %.1f ns", 100 * m[2][0], 100 * m[2][1], 100 * m[2][2],
		  100 * m[3][0], 100 * m[3][1], 100 * m[3][2], rounds, m[0][0], m[1][0]);
	printf("{\"layout\":{\"rounds\":%d,\"today_in_order_ns\":%.1f,"
	       "\"today_scattered_ns\":%.1f,\"compact_vs_today_in_order\":%.3f,"
	       "\"compact_vs_today_in_order_min\":%.3f,\"compact_vs_today_in_order_max\":%.3f,"
	       "\"compact_vs_today_scattered\":%.3f,\"compact_vs_today_scattered_min\":%.3f,"
	       "\"compact_vs_today_scattered_max\":%.3f}}\n",
	       rounds, m[0][0], m[1][0], m[2][0], m[2][1], m[2][2], m[3][0], m[3][1],
	       m[3][2]);
	rc = 0;
out:
	unmap(l.idx, (size_t)NB * sizeof(*l.idx));
	unmap(l.hdr, (size_t)NS * sizeof(*l.hdr));
	unmap(l.cidx, (size_t)NB * sizeof(*l.cidx));
	unmap(l.chdr, (size_t)NS * sizeof(*l.chdr));
	free(keys);
	free(in_order);
	free(scattered);
	free(v);
	return rc;
}
