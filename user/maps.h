/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the kernel maps: every destination in one pass over the
 * destination table (mapped into our memory), and the per-CPU stats
 * summed. */
#ifndef PM_MAPS_H
#define PM_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "protomix.h"

/* All destinations read in one pass; keys[i] goes with vals[i]. */
struct dest_table {
	struct pm_dest_key *keys;
	struct pm_dest *vals;
	size_t n, cap;
	/* address -> index, built by dest_table_index() */
	uint32_t *slots;
	size_t nslots;
};

/* The destination table of a loaded program (headers/protomix.h, struct
 * pm_bucket): its four arrays, mapped read-only (read-write for the tests
 * and benchmarks that fill or empty it). */
enum { DM_INDEX, DM_HDR, DM_COUNTS, DM_COLD, DM_NMAPS };

/* The layout of the table's entries (headers/protomix.h), as top asks a
 * watch for its maps ("maps " DM_LAYOUT): a watch of another layout
 * refuses, since the sizes alone would not tell (2: the main class's
 * counters in the header). */
#define DM_LAYOUT	"2"

struct dest_maps {
	int fd[DM_NMAPS];		/* the caller's */
	struct pm_bucket *index;
	struct pm_dest_hdr *hdr;
	struct pm_dest_count *counts;	/* [cls * nslots + slot] */
	struct pm_dest_cold *cold;
	size_t len[DM_NMAPS];
	uint32_t nbuckets, nslots;
};

struct protomix;

/* Size the table of an opened, not yet loaded skeleton for at least
 * max_dests destinations (rounded up to whole buckets), under seed.
 * Returns the number of slots. */
uint64_t dest_maps_size(struct protomix *skel, uint64_t max_dests, uint64_t seed);
/* Map the four arrays (fds in DM_* order; they stay the caller's), or
 * those of a loaded skeleton. 0 or -errno. */
int dest_maps_open(struct dest_maps *m, const int fd[DM_NMAPS], bool writable);
int dest_maps_open_skel(struct dest_maps *m, struct protomix *skel, bool writable);
void dest_maps_close(struct dest_maps *m);
/* Every destination in the table (up to t->cap). 0 or -errno. */
int dests_read(const struct dest_maps *m, struct dest_table *t);
/* Destinations in the table now. */
size_t dests_count(const struct dest_maps *m);
/* Writable maps only, with no program running: empty the table; put
 * one destination as the program would have (seed: the program's
 * cfg_seed). dests_put: 0, or -ENOSPC when both buckets are full. */
void dests_clear(struct dest_maps *m);
int dests_put(struct dest_maps *m, uint64_t seed, const struct pm_dest_key *k,
	      const struct pm_dest *v);
/* Kernel memory of the table's arrays. */
uint64_t dest_maps_memlock(const struct dest_maps *m);
int dest_table_init(struct dest_table *t, size_t cap);
void dest_table_free(struct dest_table *t);
void dest_table_index(struct dest_table *t);
/* Index of addr in t (after dest_table_index), or -1. */
long dest_table_find(const struct dest_table *t, const struct pm_dest_key *k);
/* The same, looking at index i first: where k is when t and the table k
 * comes from are two reads of one kernel table (dests_read goes in slot
 * order, and a destination keeps its slot until it is evicted), so a pass
 * over one table against the read before costs a compare per
 * destination, not a lookup in memory the caches no longer hold. */
long dest_table_find_at(const struct dest_table *t, const struct pm_dest_key *k,
			size_t i);
/* k's entry in prev, the read before the one whose entry i k is (looked
 * for at i first, as dest_table_find_at), or NULL: not there, or no read
 * before (prev NULL or empty). */
const struct pm_dest *dest_table_prev(const struct dest_table *prev,
				      const struct pm_dest_key *k, size_t i);

uint64_t dest_total_packets(const struct pm_dest *d);

/* What a destination received since `was` (its entry one read earlier,
 * or NULL): packets per class into cls, the packet count returned, the
 * bytes into *bytes. An entry evicted and inserted again (another
 * first_seen) counts from zero. */
uint64_t dest_delta(const struct pm_dest *now, const struct pm_dest *was,
		    __u64 cls[PM_NCLASS], uint64_t *bytes);
uint64_t dest_total_bytes(const struct pm_dest *d);

/* Sum the per-CPU stats: per hook, and all hooks together. */
int stats_read(int map_fd, struct pm_stats hooks[PM_NHOOK],
	       struct pm_stats *total);

/* The kernel memory a map holds ("memlock" of its fdinfo), or 0. */
uint64_t map_memlock(int map_fd);

/* Total frames counted under a malformed reason (reason_is_malformed). */
uint64_t stats_malformed(const struct pm_stats *s);

#endif
