// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Walk with get_next_key where the kernel has no batch ops for the map. */
static int dests_read_slow(int fd, struct dest_table *t)
{
	struct pm_dest_key k, next;
	void *prev = NULL;

	t->n = 0;
	while (t->n < t->cap && bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(fd, &k, &t->vals[t->n]))
			continue;	/* evicted meanwhile */
		t->keys[t->n++] = k;
	}
	return 0;
}

int dests_read(int fd, struct dest_table *t)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u8 token[sizeof(struct pm_dest_key)];
	void *in = NULL;
	__u32 count;
	int err;

	t->n = 0;
	for (;;) {
		count = t->cap - t->n;
		if (!count)
			break;
		err = bpf_map_lookup_batch(fd, in, token, t->keys + t->n,
					   t->vals + t->n, &count, &opts);
		t->n += count;
		if (err) {
			err = -errno;
			if (err == -ENOENT)
				break;		/* end of the map */
			if (err == -EINVAL || err == -524 /* ENOTSUPP */ ||
			    err == -EOPNOTSUPP)
				return dests_read_slow(fd, t);
			return err;
		}
		in = token;
	}
	return 0;
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
