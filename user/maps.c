// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "maps.h"

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

uint32_t dest_nbuckets(uint64_t max_dests)
{
	uint64_t n = (max_dests + PM_WAYS - 1) / PM_WAYS;

	return n ? (uint32_t)n : 1;
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

int dest_maps_open(struct dest_maps *m, int index_fd, int dests_fd,
		   bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	__u32 nb, nv;
	void *p;
	int err;

	memset(m, 0, sizeof(*m));
	m->index_fd = index_fd;
	m->dests_fd = dests_fd;
	err = array_info(index_fd, sizeof(struct pm_bucket), &nb);
	if (!err)
		err = array_info(dests_fd, sizeof(struct pm_dest), &nv);
	if (err)
		return err;
	if ((uint64_t)nb * PM_WAYS != nv)
		return -EINVAL;
	m->nbuckets = nb;
	m->index_len = page_round((size_t)nb * sizeof(struct pm_bucket));
	m->vals_len = page_round((size_t)nv * sizeof(struct pm_dest));
	p = mmap(NULL, m->index_len, prot, MAP_SHARED, index_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	m->index = p;
	p = mmap(NULL, m->vals_len, prot, MAP_SHARED, dests_fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		munmap(m->index, m->index_len);
		m->index = NULL;
		return err;
	}
	m->vals = p;
	return 0;
}

void dest_maps_close(struct dest_maps *m)
{
	if (m->index)
		munmap(m->index, m->index_len);
	if (m->vals)
		munmap(m->vals, m->vals_len);
	m->index = NULL;
	m->vals = NULL;
}

static uint64_t load_state(const struct pm_bucket *b)
{
	return __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
}

/* The programs keep running while we read: an entry evicted and taken by
 * another destination meanwhile (its key changed, or its valid bit went)
 * is skipped, as if it had been evicted just before the read. */
int dests_read(const struct dest_maps *m, struct dest_table *t)
{
	t->n = 0;
	for (uint32_t b = 0; b < m->nbuckets; b++) {
		const struct pm_bucket *bk = &m->index[b];
		uint64_t valid = load_state(bk) & PM_B_VALID;

		for (int w = 0; valid && w < PM_WAYS; w++) {
			const struct pm_dest *d = &m->vals[(size_t)b * PM_WAYS + w];
			struct pm_dest *v;

			if (!(valid & (1ull << w)))
				continue;
			if (t->n == t->cap)
				return 0;
			v = &t->vals[t->n];
			*v = *d;
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (!(load_state(bk) & (1ull << w)) ||
			    memcmp(&d->key, &v->key, sizeof(v->key)))
				continue;
			t->keys[t->n++] = v->key;
		}
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
	memset(m->index, 0, (size_t)m->nbuckets * sizeof(struct pm_bucket));
	memset(m->vals, 0, (size_t)m->nbuckets * PM_WAYS * sizeof(struct pm_dest));
}

int dests_put(struct dest_maps *m, uint64_t seed, const struct pm_dest_key *k,
	      const struct pm_dest *v)
{
	struct pm_bucket *bk;
	struct pm_dest *d;
	uint32_t b[2];
	uint64_t fw[2];
	uint16_t tag;
	int i, w;

	tag = pm_dest_hash(k, seed, m->nbuckets, &b[0], &b[1]);
	for (i = 0; i < 2; i++) {
		bk = &m->index[b[i]];
		for (w = 0; w < PM_WAYS; w++) {
			d = &m->vals[(size_t)b[i] * PM_WAYS + w];
			if ((bk->state & (1ull << w)) &&
			    !memcmp(&d->key, k, sizeof(*k))) {
				*d = *v;
				d->key = *k;
				return 0;
			}
		}
		fw[i] = ~bk->state & PM_B_VALID;
	}
	/* the emptier bucket, the first on a tie, as the program does */
	i = __builtin_popcountll(fw[1]) > __builtin_popcountll(fw[0]);
	if (!fw[i])
		return -ENOSPC;
	bk = &m->index[b[i]];
	w = __builtin_ctzll(fw[i]);
	d = &m->vals[(size_t)b[i] * PM_WAYS + w];
	*d = *v;
	d->key = *k;
	bk->tags[w] = tag;
	bk->state |= 1ull << w;
	return 0;
}

uint64_t dest_maps_memlock(const struct dest_maps *m)
{
	return map_memlock(m->index_fd) + map_memlock(m->dests_fd);
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
		if (r != PM_R_NON_IP)
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
