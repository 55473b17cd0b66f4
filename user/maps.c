// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "classes.h"
#include "maps.h"
#include "protomix.skel.h"

int dest_table_init(struct dest_table *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->keys = calloc(cap ? cap : 1, sizeof(*t->keys));
	t->vals = calloc(cap ? cap : 1, sizeof(*t->vals));
	t->nslots = 1;
	while (t->nslots < 2 * cap)
		t->nslots <<= 1;
	t->slots = calloc(t->nslots, sizeof(*t->slots));
	t->cap = cap;
	if (!t->keys || !t->vals || !t->slots) {
		dest_table_free(t);
		return -ENOMEM;
	}
	return 0;
}

void dest_table_free(struct dest_table *t)
{
	free(t->keys);
	free(t->vals);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

static uint32_t dest_nbuckets(uint64_t max_dests)
{
	uint64_t n = (max_dests + PM_WAYS - 1) / PM_WAYS;

	return n ? (uint32_t)n : 1;
}

uint64_t dest_maps_size(struct protomix *skel, uint64_t max_dests, uint64_t seed)
{
	uint32_t nb = dest_nbuckets(max_dests);
	uint32_t ns = nb * PM_WAYS;	/* as many slots as ways */

	bpf_map__set_max_entries(skel->maps.dest_index, nb);
	bpf_map__set_max_entries(skel->maps.dests, ns);
	bpf_map__set_max_entries(skel->maps.dest_counts, ns * PM_NCLASS);
	bpf_map__set_max_entries(skel->maps.dest_cold, ns);
	skel->rodata->cfg_nbuckets = nb;
	skel->rodata->cfg_nslots = ns;
	skel->rodata->cfg_seed = seed;
	return ns;
}

static size_t page_round(size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (len + pg - 1) / pg * pg;
}

static int array_info(int fd, __u32 value_size, __u32 *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != value_size ||
	    !(info.map_flags & BPF_F_MMAPABLE))
		return -EINVAL;
	*max_entries = info.max_entries;
	return 0;
}

int dest_maps_open(struct dest_maps *m, const int fd[DM_NMAPS], bool writable)
{
	static const __u32 vsize[DM_NMAPS] = {
		sizeof(struct pm_bucket), sizeof(struct pm_dest_hdr),
		sizeof(struct pm_dest_count), sizeof(struct pm_dest_cold),
	};
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	void *mem[DM_NMAPS] = { NULL };
	__u32 n[DM_NMAPS];
	int err = 0;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < DM_NMAPS; i++) {
		m->fd[i] = fd[i];
		err = err ?: array_info(fd[i], vsize[i], &n[i]);
	}
	if (err)
		return err;
	if ((uint64_t)n[DM_INDEX] * PM_WAYS != n[DM_HDR] ||
	    (uint64_t)n[DM_HDR] * PM_NCLASS != n[DM_COUNTS] || n[DM_COLD] != n[DM_HDR])
		return -EINVAL;
	for (int i = 0; i < DM_NMAPS; i++) {
		m->len[i] = page_round((size_t)n[i] * vsize[i]);
		mem[i] = mmap(NULL, m->len[i], prot, MAP_SHARED, fd[i], 0);
		if (mem[i] == MAP_FAILED) {
			err = -errno;
			mem[i] = NULL;
			break;
		}
	}
	m->index = mem[DM_INDEX];
	m->hdr = mem[DM_HDR];
	m->counts = mem[DM_COUNTS];
	m->cold = mem[DM_COLD];
	m->nbuckets = n[DM_INDEX];
	m->nslots = n[DM_HDR];
	if (err)
		dest_maps_close(m);
	return err;
}

int dest_maps_open_skel(struct dest_maps *m, struct protomix *skel, bool writable)
{
	int fd[DM_NMAPS] = {
		bpf_map__fd(skel->maps.dest_index), bpf_map__fd(skel->maps.dests),
		bpf_map__fd(skel->maps.dest_counts), bpf_map__fd(skel->maps.dest_cold),
	};

	return dest_maps_open(m, fd, writable);
}

void dest_maps_close(struct dest_maps *m)
{
	void *mem[DM_NMAPS] = { m->index, m->hdr, m->counts, m->cold };

	for (int i = 0; i < DM_NMAPS; i++)
		if (mem[i])
			munmap(mem[i], m->len[i]);
	m->index = NULL;
	m->hdr = NULL;
	m->counts = NULL;
	m->cold = NULL;
}

static uint64_t load_state(const struct pm_bucket *b)
{
	return __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
}

/* Slots are handed out in order and never given back, only reused (an
 * evicted destination's slot goes to the next one): every slot below
 * bucket 0's `next` holds a destination, a never used one is zero. The
 * programs keep running while we read: an entry that changed hands
 * meanwhile (its key or first_seen moved) is skipped, as if it had been
 * evicted just before the read. The main class's counters are in the
 * header, the other classes' in dest_counts (headers/protomix.h), and
 * only the classes of `seen` are read there: the program counts no
 * other (a class's counter is written before its bit in seen, so a
 * class's very first packets may show one read later), and never the
 * main class there. A destination of one class costs the read its
 * header and cold part only, not 17 counter lines. */
int dests_read(const struct dest_maps *m, struct dest_table *t)
{
	uint64_t used = __atomic_load_n(&m->index[0].next, __ATOMIC_ACQUIRE);

	if (used > m->nslots)
		used = m->nslots;
	t->n = 0;
	for (uint32_t s = 0; s < used && t->n < t->cap; s++) {
		const struct pm_dest_hdr *h = &m->hdr[s];
		const struct pm_dest_cold *k = &m->cold[s];
		struct pm_dest *v = &t->vals[t->n];
		uint64_t first = __atomic_load_n(&k->first_seen, __ATOMIC_ACQUIRE);
		struct pm_dest_hdr copy;
		uint32_t main, others;

		if (!first)
			continue;	/* being written */
		copy = *h;
		main = (copy.flags & PM_H_MAIN_MASK) >> PM_H_MAIN_SHIFT;
		others = copy.seen & PM_ALL_CLASSES;
		if (main && main <= PM_NCLASS)
			others &= ~(1u << (main - 1));
		memset(v->packets, 0, sizeof(v->packets));
		memset(v->bytes, 0, sizeof(v->bytes));
		for (uint32_t o = others; o; o &= o - 1) {
			int c = __builtin_ctz(o);
			const struct pm_dest_count *n = &m->counts[(size_t)c * m->nslots + s];

			v->packets[c] = n->packets;
			v->bytes[c] = n->bytes;
		}
		if (main && main <= PM_NCLASS) {
			v->packets[main - 1] = copy.packets;
			v->bytes[main - 1] = copy.bytes;
		}
		v->violations = k->violations;
		v->win_start = k->win_start;
		v->win_samples = k->win_samples;
		v->rule_id = copy.flags & PM_H_RULE ? k->rule_id : 0;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (k->first_seen != first ||
		    memcmp(&h->key, &copy.key, sizeof(copy.key)))
			continue;
		v->key = copy.key;
		v->first_seen = first;
		v->last_seen = copy.last_seen;
		v->flags = copy.flags & ~PM_H_MASK;
		v->rules_gen = copy.rules_gen;
		v->denied = copy.denied;
		v->seen = copy.seen;
		t->keys[t->n++] = copy.key;
	}
	return 0;
}

size_t dests_count(const struct dest_maps *m)
{
	size_t n = 0;

	for (uint32_t b = 0; b < m->nbuckets; b++)
		n += __builtin_popcountll(load_state(&m->index[b]) & PM_B_VALID);
	return n;
}

void dests_clear(struct dest_maps *m)
{
	memset(m->index, 0, (size_t)m->nbuckets * sizeof(*m->index));
	memset(m->hdr, 0, (size_t)m->nslots * sizeof(*m->hdr));
	memset(m->counts, 0, (size_t)m->nslots * PM_NCLASS * sizeof(*m->counts));
	memset(m->cold, 0, (size_t)m->nslots * sizeof(*m->cold));
}

static void dest_write(struct dest_maps *m, uint32_t s, const struct pm_dest_key *k,
		       const struct pm_dest *v)
{
	struct pm_dest_hdr *h = &m->hdr[s];
	uint32_t seen = v->seen & PM_ALL_CLASSES;
	int main = -1;

	/* as the program leaves it: every class with packets in seen, the
	 * lowest of them the main class, its counters in the header */
	for (int c = 0; c < PM_NCLASS; c++) {
		struct pm_dest_count *n = &m->counts[(size_t)c * m->nslots + s];

		if (v->packets[c] || v->bytes[c])
			seen |= 1u << c;
		if (main < 0 && (seen & 1u << c)) {
			main = c;
			n->packets = n->bytes = 0;
			continue;
		}
		n->packets = v->packets[c];
		n->bytes = v->bytes[c];
	}
	m->cold[s].violations = v->violations;
	m->cold[s].win_start = v->win_start;
	m->cold[s].win_samples = v->win_samples;
	m->cold[s].rule_id = v->rule_id;
	m->cold[s].first_seen = v->first_seen ? v->first_seen : 1;
	memset(h, 0, sizeof(*h));
	h->key = *k;
	h->last_seen = v->last_seen;
	h->flags = (v->flags & ~PM_H_MASK) | (v->rule_id ? PM_H_RULE : 0);
	if (main >= 0) {
		h->flags |= PM_H_MAIN(main);
		h->packets = v->packets[main];
		h->bytes = v->bytes[main];
	}
	h->rules_gen = v->rules_gen;
	h->denied = v->denied;
	h->seen = seen;
}

int dests_put(struct dest_maps *m, uint64_t seed, const struct pm_dest_key *k,
	      const struct pm_dest *v)
{
	struct pm_bucket *bk;
	uint64_t fw[2];
	uint32_t b[2], s;
	uint16_t tag;
	int i, w;

	tag = pm_dest_hash(k, seed, m->nbuckets, &b[0], &b[1]);
	for (i = 0; i < 2; i++) {
		bk = &m->index[b[i]];
		for (w = 0; w < PM_WAYS; w++) {
			if ((bk->state & (1ull << w)) &&
			    !memcmp(&m->hdr[bk->slots[w]].key, k, sizeof(*k))) {
				dest_write(m, bk->slots[w], k, v);
				return 0;
			}
		}
		fw[i] = ~bk->state & PM_B_VALID;
	}
	/* the first bucket while it has PM_FIRST_FREE free ways, else the
	 * emptier, the first on a tie, as the program does */
	i = __builtin_popcountll(fw[0]) < PM_FIRST_FREE &&
	    __builtin_popcountll(fw[1]) > __builtin_popcountll(fw[0]);
	if (!fw[i] || m->index[0].next >= m->nslots)
		return -ENOSPC;
	bk = &m->index[b[i]];
	w = __builtin_ctzll(fw[i]);
	s = (uint32_t)m->index[0].next++;
	dest_write(m, s, k, v);
	bk->tags[w] = tag;
	bk->slots[w] = s;
	bk->state |= 1ull << w;
	return 0;
}

uint64_t dest_maps_memlock(const struct dest_maps *m)
{
	uint64_t sum = 0;

	for (int i = 0; i < DM_NMAPS; i++)
		sum += map_memlock(m->fd[i]);
	return sum;
}

static inline uint64_t key_hash(const struct pm_dest_key *k)
{
	uint64_t a, b;

	memcpy(&a, k->addr, 8);
	memcpy(&b, k->addr + 8, 8);
	a ^= b * 0x9E3779B97F4A7C15ull;
	a ^= a >> 29;
	a *= 0xBF58476D1CE4E5B9ull;
	return a ^ (a >> 32);
}

void dest_table_index(struct dest_table *t)
{
	size_t mask = t->nslots - 1, s;

	memset(t->slots, 0, t->nslots * sizeof(*t->slots));
	for (size_t i = 0; i < t->n; i++) {
		for (s = key_hash(&t->keys[i]) & mask; t->slots[s];
		     s = (s + 1) & mask)
			;
		t->slots[s] = i + 1;
	}
}

long dest_table_find(const struct dest_table *t, const struct pm_dest_key *k)
{
	size_t mask = t->nslots - 1, s;

	for (s = key_hash(k) & mask; t->slots[s]; s = (s + 1) & mask)
		if (memcmp(&t->keys[t->slots[s] - 1], k, sizeof(*k)) == 0)
			return t->slots[s] - 1;
	return -1;
}

long dest_table_find_at(const struct dest_table *t, const struct pm_dest_key *k,
			size_t i)
{
	if (i < t->n && memcmp(&t->keys[i], k, sizeof(*k)) == 0)
		return (long)i;
	return dest_table_find(t, k);
}

const struct pm_dest *dest_table_prev(const struct dest_table *prev,
				      const struct pm_dest_key *k, size_t i)
{
	long p = prev && prev->n ? dest_table_find_at(prev, k, i) : -1;

	return p >= 0 ? &prev->vals[p] : NULL;
}

uint64_t dest_total_packets(const struct pm_dest *d)
{
	uint64_t sum = 0;

	for (int c = 0; c < PM_NCLASS; c++)
		sum += d->packets[c];
	return sum;
}

uint64_t dest_delta(const struct pm_dest *now, const struct pm_dest *was,
		    __u64 cls[PM_NCLASS], uint64_t *bytes)
{
	uint64_t pkts = 0;

	if (was && was->first_seen != now->first_seen)
		was = NULL;
	*bytes = 0;
	for (int c = 0; c < PM_NCLASS; c++) {
		uint64_t p = now->packets[c], b = now->bytes[c];

		if (was && p >= was->packets[c] && b >= was->bytes[c]) {
			p -= was->packets[c];
			b -= was->bytes[c];
		}
		cls[c] = p;
		pkts += p;
		*bytes += b;
	}
	return pkts;
}

uint64_t dest_total_bytes(const struct pm_dest *d)
{
	uint64_t sum = 0;

	for (int c = 0; c < PM_NCLASS; c++)
		sum += d->bytes[c];
	return sum;
}

int stats_read(int fd, struct pm_stats hooks[PM_NHOOK], struct pm_stats *total)
{
	int ncpu = libbpf_num_possible_cpus();
	struct pm_stats *percpu;
	__u64 *dst, *src;
	size_t words = PM_STATS_NCOUNTERS;	/* not the clock cache */

	if (ncpu < 0)
		return ncpu;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	memset(total, 0, sizeof(*total));
	for (__u32 h = 0; h < PM_NHOOK; h++) {
		memset(&hooks[h], 0, sizeof(hooks[h]));
		if (bpf_map_lookup_elem(fd, &h, percpu)) {
			int err = -errno;

			free(percpu);
			return err;
		}
		for (int cpu = 0; cpu < ncpu; cpu++) {
			src = (__u64 *)&percpu[cpu];
			dst = (__u64 *)&hooks[h];
			for (size_t w = 0; w < words; w++)
				dst[w] += src[w];
		}
		src = (__u64 *)&hooks[h];
		dst = (__u64 *)total;
		for (size_t w = 0; w < words; w++)
			dst[w] += src[w];
	}
	free(percpu);
	return 0;
}

uint64_t stats_malformed(const struct pm_stats *s)
{
	uint64_t sum = 0;

	for (int r = 0; r < PM_NREASON; r++)
		if (reason_is_malformed(r))
			sum += s->reason[r];
	return sum;
}

uint64_t map_memlock(int fd)
{
	unsigned long long v = 0;
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}
