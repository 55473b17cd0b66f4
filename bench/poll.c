// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmbench poll: what watch pays every interval to read the destination
 * table, and what the table costs in kernel memory per destination.
 *
 *   pmbench poll [--sizes N,N,...] [--rounds N] [--mem-dests N]
 *
 * For each size N: an observer loaded as watch loads it (user/observer.c)
 * with max_entries = max(262144, N + N/2) (watch's default, or room for N
 * with a margin: two thirds full), filled from userspace with N distinct
 * destinations (dests_put(), as the program would insert them; the few
 * that find both their buckets full, where the program would evict one,
 * are left out and counted: under the insert rule of headers/protomix.h
 * some do before two thirds full), then read with
 * dests_read() (a pass over the mapped arrays, user/maps.c) into a table
 * allocated once, and every entry's packets and bytes summed. One read is
 * not timed (it touches the table's pages; watch reuses its table every
 * interval); the figure is the median of --rounds timed reads.
 *
 * Memory: map_memlock() of the four arrays of the destination table of an
 * observer with --max-dests = --mem-dests, divided by that number. Arrays
 * are preallocated: the figure holds for an empty table as for a full
 * one, and no part of it is per CPU.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "observer.h"
#include "protomix.skel.h"
#include "util.h"

#define MAX_SIZES	8
#define MAX_ROUNDS	20
#define WATCH_DEFAULT	262144
#define FILL_BASE	0x0a000000u	/* 10.0.0.0 */

static int open_observer(struct observer *ob, uint64_t max_dests)
{
	struct observer_cfg cfg = { .max_dests = max_dests, .sample_rate = 5 };
	struct ruleset rs = {};

	return observer_open(ob, &cfg, &rs) ? -1 : 0;
}

static void fill_key(struct pm_dest_key *k, uint64_t i)
{
	addr_from_v4(k->addr, FILL_BASE + (uint32_t)i);
}

struct size_result {
	uint64_t n, max_entries, read_n, full;
	double fill_s, ms[MAX_ROUNDS], med_ms, lo_ms, hi_ms;
	uint64_t sum_packets;
};

static int one_size(struct size_result *res, int rounds)
{
	struct observer ob;
	struct dest_maps rw;
	struct dest_table t;
	struct pm_dest val = {};
	struct pm_dest_key k;
	double t0, v[MAX_ROUNDS];
	uint64_t n = res->n;
	int rc = -1, err;

	res->max_entries = n + n / 2 > WATCH_DEFAULT ? n + n / 2 : WATCH_DEFAULT;
	if (open_observer(&ob, res->max_entries))
		return -1;
	if (dest_table_init(&t, res->max_entries)) {
		bench_err("out of memory for %lu destinations", (unsigned long)n);
		observer_close(&ob);
		return -1;
	}
	if (dest_maps_open_skel(&rw, ob.skel, true)) {
		bench_err("cannot map the destination table");
		goto out;
	}
	t0 = mono_s();
	for (uint64_t i = 0; i < n; i++) {
		fill_key(&k, i);
		val.packets[PM_C_TCP] = 1;
		val.bytes[PM_C_TCP] = 100;
		err = dests_put(&rw, ob.skel->rodata->cfg_seed, &k, &val);
		if (err == -ENOSPC) {
			res->full++;	/* the program would evict one */
			continue;
		}
		if (err) {
			bench_err("destination %lu of %lu: %s", (unsigned long)i,
				  (unsigned long)n, strerror(-err));
			dest_maps_close(&rw);
			goto out;
		}
	}
	dest_maps_close(&rw);
	res->fill_s = mono_s() - t0;

	for (int r = -1; r < rounds; r++) {
		uint64_t packets = 0, bytes = 0;

		t0 = mono_s();
		err = dests_read(&ob.dm, &t);
		for (size_t i = 0; !err && i < t.n; i++) {
			packets += dest_total_packets(&t.vals[i]);
			bytes += dest_total_bytes(&t.vals[i]);
		}
		if (err) {
			bench_err("dests_read: %s", strerror(-err));
			goto out;
		}
		if (r >= 0)
			res->ms[r] = (mono_s() - t0) * 1e3;
		res->read_n = t.n;
		res->sum_packets = packets;
		(void)bytes;
	}
	memcpy(v, res->ms, rounds * sizeof(double));
	res->med_ms = median(v, rounds);	/* sorts v */
	res->lo_ms = v[0];
	res->hi_ms = v[rounds - 1];
	rc = 0;
out:
	dest_table_free(&t);
	observer_close(&ob);
	return rc;
}

static void usage_exit(void)
{
	fprintf(stderr, "usage: pmbench poll [--sizes N,N,...] [--rounds N] [--mem-dests N]\n");
	exit(2);
}

int cmd_poll(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "mem-dests", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct size_result res[MAX_SIZES] = {};
	uint64_t mem_dests = 1000000, memlock, stats_mem, nb;
	const char *sizes = "10000,100000,1000000";
	int nsizes = 0, rounds = 3, opt;
	struct observer ob;
	char *copy, *tok, *save;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 's': sizes = optarg; break;
		case 'n': rounds = arg_u64("--rounds", optarg, 1, MAX_ROUNDS); break;
		case 'm': mem_dests = arg_u64("--mem-dests", optarg, 1, 100000000); break;
		default: usage_exit();
		}
	}
	if (optind != argc)
		usage_exit();
	copy = strdup(sizes);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (nsizes == MAX_SIZES)
			usage_exit();
		res[nsizes++].n = arg_u64("--sizes", tok, 1, 16000000);
	}
	free(copy);
	pm_libbpf_quiet();

	for (int i = 0; i < nsizes; i++) {
		char full[96] = "";

		if (one_size(&res[i], rounds))
			return 1;
		if (res[i].full)
			snprintf(full, sizeof(full), " (%lu found both buckets full: "
				 "left out)", (unsigned long)res[i].full);
		bench_say("  poll %8lu destinations (max_entries %lu): filled in %.2f s, "
			  "read %lu and summed in %.1f ms (median of %d; %.1f-%.1f)%s%s",
			  (unsigned long)res[i].n, (unsigned long)res[i].max_entries,
			  res[i].fill_s, (unsigned long)res[i].read_n, res[i].med_ms, rounds,
			  res[i].lo_ms, res[i].hi_ms, full,
			  res[i].read_n == res[i].n - res[i].full &&
			  res[i].sum_packets == res[i].read_n ? "" :
			  "  (MISMATCH: not every destination read back)");
	}

	if (open_observer(&ob, mem_dests))
		return 1;
	memlock = dest_maps_memlock(&ob.dm);
	stats_mem = map_memlock(bpf_map__fd(ob.skel->maps.stats));
	nb = ob.dm.nbuckets;
	observer_close(&ob);
	bench_say("  memory: destination table for %lu destinations: memlock %lu bytes = %.1f "
		  "bytes per destination; stats map (per CPU, %d CPUs): %lu bytes in all",
		  (unsigned long)mem_dests, (unsigned long)memlock,
		  (double)memlock / mem_dests, libbpf_num_possible_cpus(),
		  (unsigned long)stats_mem);
	/* four arrays, preallocated: a 64-byte bucket per PM_WAYS slots; per
	 * slot a header, a counter pair per class and the cold part;
	 * nothing per CPU */
	bench_say("          = %lu buckets x %zu B + %lu slots x (%zu B header + %d x %zu B "
		  "counters + %zu B cold) + the maps themselves, page-rounded; nothing per CPU",
		  (unsigned long)nb, sizeof(struct pm_bucket), (unsigned long)nb * PM_WAYS,
		  sizeof(struct pm_dest_hdr), PM_NCLASS, sizeof(struct pm_dest_count),
		  sizeof(struct pm_dest_cold));

	printf("{\"poll_ms\":{");
	for (int i = 0; i < nsizes; i++)
		printf("%s\"%lu\":%.2f", i ? "," : "", (unsigned long)res[i].n,
		       res[i].read_n == res[i].n - res[i].full &&
		       res[i].sum_packets == res[i].read_n ? res[i].med_ms : -1.0);
	printf("},\"poll_detail\":[");
	for (int i = 0; i < nsizes; i++)
		printf("%s{\"dests\":%lu,\"max_entries\":%lu,\"read\":%lu,\"full\":%lu,"
		       "\"fill_s\":%.3f,\"read_ms\":%.2f}", i ? "," : "", (unsigned long)res[i].n,
		       (unsigned long)res[i].max_entries, (unsigned long)res[i].read_n,
		       (unsigned long)res[i].full, res[i].fill_s, res[i].med_ms);
	printf("],\"map_bytes_per_dest\":%.1f,\"map_memlock\":{\"dests\":%lu,"
	       "\"dests_max_entries\":%lu,\"stats\":%lu,\"cpus\":%d}}\n",
	       (double)memlock / mem_dests, (unsigned long)memlock,
	       (unsigned long)mem_dests, (unsigned long)stats_mem,
	       libbpf_num_possible_cpus());
	return 0;
}
