// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmbench xdp: what pm_xdp costs per frame, against a bare XDP_PASS
 * program and a minimal per-CPU counter, all measured in the same rounds
 * with BPF_PROG_TEST_RUN (repeat R, the kernel's per-repetition average).
 * Each round measures every case once, in a fixed order; the figure is the
 * median over the rounds.
 *
 *   bare, counter                tcp4 frame
 *   observer_v4_tcp              tcp4 to a destination already in the map
 *   observer_v6_ext              hop_dst_tcp6: hop-by-hop, dest options, TCP
 *   observer_qinq_esp            esp4_qinq: 802.1ad + 802.1Q, IPv4 ESP
 *   observer_rule_violation      esp4 to 10.20.0.80 under 10.20.0.0/16=tcp
 *   observer_v4_tcp_nodecap      tcp4, the observer loaded with --no-decap
 *   observer_vxlan_tcp           vxlan_tcp4: IPv4 TCP inside VXLAN, both
 *                                destinations known
 *   observer_gtpu_esp            gtpu_esp4: IPv4 ESP inside GTP-U
 *   observer_mpls_tcp            mpls_tcp4: one MPLS label, IPv4 TCP
 *   observer_new_dest            see below
 *
 * The observer is the one watch loads (user/observer.c): maps sized by
 * the loader (262144 destinations), sample rate 5, rules in the LPM trie.
 * The tunnel cases and the --no-decap one are measured in the same round
 * as observer_v4_tcp, so the figures that compare them (a tunnel at most
 * 2x plain TCP; --decap at most 2 ns over --no-decap on plain TCP) are
 * per-round differences and ratios (bench/run.sh).
 *
 * A new destination on every repetition. BPF_PROG_TEST_RUN repeats one
 * frame, so bench_tail (bench/bpf/gen.bpf.c) rewrites the IPv4 destination
 * before each repetition and tail-calls pm_xdp: with a map that has room
 * for all of them, each of the R repetitions inserts a destination never
 * seen. The same run with the bare program as tail-call target measures
 * the rewrite and the tail call alone, so
 *     new_dest = bare + (tail->pm_xdp - tail->bare)
 * is the figure comparable to the others. Between rounds the inserted
 * destinations are removed (outside the timing) and the addresses reused.
 * More figures use the same method: a new destination into a full map
 * (every insert evicts the least recently seen of the 16 destinations
 * of its two buckets), and a known destination among 131072 cycled
 * through (the map bigger than the CPU caches, where the single-frame
 * figures are cache-hot), in the order they were inserted, which is the
 * order of their slots (observer_v4_tcp_131k_dests: the CPU's prefetcher
 * brings the entries in ahead of the frames), and scattered, every frame
 * to an entry megabytes from the last one's
 * (observer_v4_tcp_131k_scattered, as on a gateway).
 *
 * The kernel reports whole nanoseconds (time / repeat, truncated).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bench.h"
#include "frames.h"
#include "observer.h"
#include "protomix.skel.h"
#include "util.h"
#include "bare.skel.h"
#include "counter.skel.h"
#include "gen.skel.h"

#define XDP_PASS_	2
#define MAX_ROUNDS	50
#define HOT_DESTS	262144		/* watch's default --max-dests */
#define SMALL_DESTS	65536		/* the full map of the eviction case */
#define CYCLE_DESTS	131072		/* known destinations cycled through */
#define NEW_BASE	0x0a400000u	/* 10.64.0.0: new, deleted each round */
#define EVICT_BASE	0x0a800000u	/* 10.128.0.0: new, never reused */
#define CYCLE_BASE	0x0a600000u	/* 10.96.0.0: known, cycled */
/* The scattered cycle's stride: odd, so every one of the 131072 once a
 * cycle, and about 0.62 of them, so consecutive frames go to entries
 * megabytes apart (inserted in order, their slots are in order). */
#define CYCLE_STRIDE	81007u

enum item {
	I_BARE, I_COUNTER, I_V4_TCP, I_V6_EXT, I_QINQ_ESP, I_VIOLATION,
	I_V4_NODECAP, I_VXLAN_TCP, I_GTPU_ESP, I_MPLS_TCP, I_TAIL_BARE, I_TAIL_NEW, I_TAIL_EVICT, I_TAIL_BARE_CYCLE, I_TAIL_CYCLE,
	I_TAIL_BARE_SCATTER, I_TAIL_SCATTER, NITEM,
};

static const char *const item_name[NITEM] = {
	"bare", "counter", "observer_v4_tcp", "observer_v6_ext",
	"observer_qinq_esp", "observer_rule_violation", "observer_v4_tcp_nodecap",
	"observer_vxlan_tcp", "observer_gtpu_esp", "observer_mpls_tcp", "tail_bare",
	"tail_new_dest", "tail_new_dest_evict", "tail_bare_cycle",
	"tail_known_cycle", "tail_bare_scattered", "tail_known_scattered",
};

struct frame {
	uint8_t buf[FRAME_MAX_LEN];
	int len;
};

struct env {
	int repeat, rounds;
	struct bench_bare *bare;
	struct bench_counter *counter;
	struct bench_gen *gen;
	struct observer hot, rules, fresh, full, nodecap;
	bool hot_open, rules_open, fresh_open, full_open, nodecap_open;
	struct frame tcp4, v6ext, qinq, esp4, vxlan, gtpu, mpls;
	struct pm_dest_key *new_keys;	/* the destinations fresh gets */
	uint32_t evict_next;		/* the next address of the full map */
	double ns[NITEM][MAX_ROUNDS];
};

static int test_run(int prog_fd, const struct frame *f, int repeat, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->buf,
		    .data_size_in = f->len, .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &o)) {
		int err = -errno;

		bench_err("BPF_PROG_TEST_RUN: %s", strerror(-err));
		return err;
	}
	if (o.retval != XDP_PASS_) {
		bench_err("a program returned %u, not XDP_PASS", o.retval);
		return -EINVAL;
	}
	if (ns)
		*ns = o.duration;
	return 0;
}

static int obs_fd(struct observer *ob)
{
	return bpf_program__fd(ob->skel->progs.pm_xdp);
}

/* Point bench_tail at prog_fd and start it at base + next, in order
 * (stride 0) or scattered (gen.bpf.c's dst_stride). */
static int tail_setup(struct env *e, int prog_fd, uint32_t base, uint32_t count,
		      uint32_t next, uint32_t stride)
{
	__u32 k = 0;

	if (bpf_map_update_elem(bpf_map__fd(e->gen->maps.target), &k, &prog_fd, 0)) {
		bench_err("cannot set the tail-call target: %s", strerror(errno));
		return -errno;
	}
	e->gen->bss->dst_base = base;
	e->gen->bss->dst_count = count;
	e->gen->bss->dst_next = next;
	e->gen->bss->dst_stride = stride;
	return 0;
}

static int tail_run(struct env *e, double *ns)
{
	return test_run(bpf_program__fd(e->gen->progs.bench_tail), &e->tcp4,
			e->repeat, ns);
}

static int open_observer(struct observer *ob, uint64_t max_dests, const char *rule,
			 bool no_decap)
{
	struct observer_cfg cfg = { .max_dests = max_dests, .sample_rate = 5,
				    .no_decap = no_decap };
	struct ruleset rs = {};
	int err;

	if (rule && ruleset_add(&rs, rule, "pmbench", 0))
		return -EINVAL;
	err = observer_open(ob, &cfg, &rs);
	ruleset_free(&rs);
	return err ? -EINVAL : 0;
}

/* Empty fresh's destination table (outside the timing, no program
 * running). Returns how many destinations it held. */
static long clear_fresh(struct env *e)
{
	struct dest_maps m;
	long n;

	if (dest_maps_open_skel(&m, e->fresh.skel, true))
		return -1;
	n = (long)dests_count(&m);
	dests_clear(&m);
	dest_maps_close(&m);
	return n;
}

static int one_round(struct env *e, int r)
{
	int bare_fd = bpf_program__fd(e->bare->progs.bench_bare);
	int err = 0;
	long n;

	err = err ?: test_run(bare_fd, &e->tcp4, e->repeat, &e->ns[I_BARE][r]);
	err = err ?: test_run(bpf_program__fd(e->counter->progs.bench_counter),
			      &e->tcp4, e->repeat, &e->ns[I_COUNTER][r]);
	err = err ?: test_run(obs_fd(&e->hot), &e->tcp4, e->repeat, &e->ns[I_V4_TCP][r]);
	err = err ?: test_run(obs_fd(&e->hot), &e->v6ext, e->repeat, &e->ns[I_V6_EXT][r]);
	err = err ?: test_run(obs_fd(&e->hot), &e->qinq, e->repeat, &e->ns[I_QINQ_ESP][r]);
	err = err ?: test_run(obs_fd(&e->rules), &e->esp4, e->repeat, &e->ns[I_VIOLATION][r]);
	if (!err)
		observer_poll(&e->rules);	/* drain the ring buffer */
	err = err ?: test_run(obs_fd(&e->nodecap), &e->tcp4, e->repeat,
			      &e->ns[I_V4_NODECAP][r]);
	err = err ?: test_run(obs_fd(&e->hot), &e->vxlan, e->repeat, &e->ns[I_VXLAN_TCP][r]);
	err = err ?: test_run(obs_fd(&e->hot), &e->gtpu, e->repeat, &e->ns[I_GTPU_ESP][r]);
	err = err ?: test_run(obs_fd(&e->hot), &e->mpls, e->repeat, &e->ns[I_MPLS_TCP][r]);

	/* new destinations: tail->bare, then tail->pm_xdp into room */
	err = err ?: tail_setup(e, bare_fd, NEW_BASE, 0, 0, 0);
	err = err ?: tail_run(e, &e->ns[I_TAIL_BARE][r]);
	err = err ?: tail_setup(e, obs_fd(&e->fresh), NEW_BASE, 0, 0, 0);
	err = err ?: tail_run(e, &e->ns[I_TAIL_NEW][r]);
	if (err)
		return err;
	n = clear_fresh(e);
	if (n != e->repeat)
		bench_say("  note: round %d: %ld of %d new destinations were in the map "
			  "(both buckets of some were full)", r + 1, n, e->repeat);

	/* new destinations into a full map: every insert evicts */
	err = tail_setup(e, obs_fd(&e->full), EVICT_BASE, 0, e->evict_next, 0);
	err = err ?: tail_run(e, &e->ns[I_TAIL_EVICT][r]);
	e->evict_next += e->repeat;

	/* known destinations, 131072 of them in turn */
	err = err ?: tail_setup(e, bare_fd, CYCLE_BASE, CYCLE_DESTS, 0, 0);
	err = err ?: tail_run(e, &e->ns[I_TAIL_BARE_CYCLE][r]);
	err = err ?: tail_setup(e, obs_fd(&e->hot), CYCLE_BASE, CYCLE_DESTS, 0, 0);
	err = err ?: tail_run(e, &e->ns[I_TAIL_CYCLE][r]);

	/* the same, in an order other than their slots' (a gateway's
	 * traffic does not come in the order its destinations arrived) */
	err = err ?: tail_setup(e, bare_fd, CYCLE_BASE, CYCLE_DESTS, 0, CYCLE_STRIDE);
	err = err ?: tail_run(e, &e->ns[I_TAIL_BARE_SCATTER][r]);
	err = err ?: tail_setup(e, obs_fd(&e->hot), CYCLE_BASE, CYCLE_DESTS, 0, CYCLE_STRIDE);
	err = err ?: tail_run(e, &e->ns[I_TAIL_SCATTER][r]);
	return err;
}

static int setup(struct env *e)
{
	int err, hot_fd;
	double ns;

	pm_libbpf_quiet();
	e->bare = bench_bare__open_and_load();
	e->counter = bench_counter__open_and_load();
	e->gen = bench_gen__open_and_load();
	if (!e->bare || !e->counter || !e->gen) {
		bench_err("cannot load the bench programs: %s", strerror(errno));
		return -1;
	}
	if (open_observer(&e->hot, HOT_DESTS, NULL, false))
		return -1;
	e->hot_open = true;
	if (open_observer(&e->nodecap, HOT_DESTS, NULL, true))
		return -1;
	e->nodecap_open = true;
	if (open_observer(&e->rules, HOT_DESTS, "10.20.0.0/16=tcp", false))
		return -1;
	e->rules_open = true;
	/* room for every destination of a round, and a margin: a key has
	 * two buckets of PM_WAYS to choose from, so in a table two thirds
	 * full nearly every new one finds room (a few in a million find both
	 * buckets full under the insert rule of headers/protomix.h, and evict:
	 * the round's note says how many) */
	if (open_observer(&e->fresh, e->repeat + e->repeat / 2 + 4096, NULL, false))
		return -1;
	e->fresh_open = true;
	if (open_observer(&e->full, SMALL_DESTS, NULL, false))
		return -1;
	e->full_open = true;

	e->tcp4.len = bench_frame("tcp4", NULL, e->tcp4.buf, sizeof(e->tcp4.buf));
	e->v6ext.len = bench_frame("hop_dst_tcp6", NULL, e->v6ext.buf, sizeof(e->v6ext.buf));
	e->qinq.len = bench_frame("esp4_qinq", NULL, e->qinq.buf, sizeof(e->qinq.buf));
	e->esp4.len = bench_frame("esp4", NULL, e->esp4.buf, sizeof(e->esp4.buf));
	e->vxlan.len = bench_frame("vxlan_tcp4", NULL, e->vxlan.buf, sizeof(e->vxlan.buf));
	e->gtpu.len = bench_frame("gtpu_esp4", NULL, e->gtpu.buf, sizeof(e->gtpu.buf));
	e->mpls.len = bench_frame("mpls_tcp4", NULL, e->mpls.buf, sizeof(e->mpls.buf));
	if (e->tcp4.len < 0 || e->v6ext.len < 0 || e->qinq.len < 0 || e->esp4.len < 0 ||
	    e->vxlan.len < 0 || e->gtpu.len < 0 || e->mpls.len < 0)
		return -1;

	e->new_keys = calloc(e->repeat, sizeof(*e->new_keys));
	if (!e->new_keys) {
		bench_err("out of memory");
		return -1;
	}
	for (int i = 0; i < e->repeat; i++)
		addr_from_v4(e->new_keys[i].addr, NEW_BASE + i);

	/* Known destinations: the single frames once each, the cycle's
	 * 131072 once each; the full map filled past its size. */
	hot_fd = obs_fd(&e->hot);
	err = test_run(hot_fd, &e->tcp4, 1, NULL);
	err = err ?: test_run(hot_fd, &e->v6ext, 1, NULL);
	err = err ?: test_run(hot_fd, &e->qinq, 1, NULL);
	err = err ?: test_run(hot_fd, &e->vxlan, 1, NULL);
	err = err ?: test_run(hot_fd, &e->gtpu, 1, NULL);
	err = err ?: test_run(hot_fd, &e->mpls, 1, NULL);
	err = err ?: test_run(obs_fd(&e->nodecap), &e->tcp4, 1, NULL);
	err = err ?: test_run(obs_fd(&e->rules), &e->esp4, 1, NULL);
	err = err ?: tail_setup(e, hot_fd, CYCLE_BASE, CYCLE_DESTS, 0, 0);
	err = err ?: test_run(bpf_program__fd(e->gen->progs.bench_tail), &e->tcp4,
			      CYCLE_DESTS, &ns);
	err = err ?: tail_setup(e, obs_fd(&e->full), EVICT_BASE, 0, 0, 0);
	err = err ?: test_run(bpf_program__fd(e->gen->progs.bench_tail), &e->tcp4,
			      2 * SMALL_DESTS, &ns);
	e->evict_next = 2 * SMALL_DESTS;
	if (!err)
		observer_poll(&e->rules);
	return err;
}

static void teardown(struct env *e)
{
	if (e->hot_open)
		observer_close(&e->hot);
	if (e->rules_open)
		observer_close(&e->rules);
	if (e->fresh_open)
		observer_close(&e->fresh);
	if (e->full_open)
		observer_close(&e->full);
	if (e->nodecap_open)
		observer_close(&e->nodecap);
	bench_gen__destroy(e->gen);
	bench_counter__destroy(e->counter);
	bench_bare__destroy(e->bare);
	free(e->new_keys);
}

static void hook_stats(struct observer *ob, struct pm_stats *s)
{
	struct pm_stats hooks[PM_NHOOK], total;

	memset(s, 0, sizeof(*s));
	if (stats_read(bpf_map__fd(ob->skel->maps.stats), hooks, &total) == 0)
		*s = hooks[PM_HOOK_XDP];
}

static void usage_exit(void)
{
	fprintf(stderr, "usage: pmbench xdp [--repeat N] [--rounds N] [--cpu CPU]\n");
	exit(2);
}

int cmd_xdp(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "repeat", required_argument, NULL, 'r' },
		{ "rounds", required_argument, NULL, 'n' },
		{ "cpu", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct env *e = calloc(1, sizeof(*e));
	double med[NITEM], spread[NITEM][2];
	double new_dest, evict, cycle, scatter;
	struct pm_stats sr, sf, sx;
	int cpu = -1, opt, rc = 1;

	if (!e)
		return 1;
	e->repeat = 1000000;
	e->rounds = 5;
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'r': e->repeat = arg_u64("--repeat", optarg, 1000, 100000000); break;
		case 'n': e->rounds = arg_u64("--rounds", optarg, 1, MAX_ROUNDS); break;
		case 'c': cpu = arg_u64("--cpu", optarg, 0, 4095); break;
		default: usage_exit();
		}
	}
	if (optind != argc)
		usage_exit();
	if (pin_cpu(cpu))
		bench_say("  note: cannot pin to CPU %d", cpu);

	if (setup(e))
		goto out;
	for (int r = 0; r < e->rounds; r++)
		if (one_round(e, r))
			goto out;
	for (int i = 0; i < NITEM; i++) {
		double v[MAX_ROUNDS];

		memcpy(v, e->ns[i], e->rounds * sizeof(double));
		med[i] = median(v, e->rounds);
		spread[i][0] = v[0];
		spread[i][1] = v[e->rounds - 1];
	}
	new_dest = med[I_BARE] + med[I_TAIL_NEW] - med[I_TAIL_BARE];
	evict = med[I_BARE] + med[I_TAIL_EVICT] - med[I_TAIL_BARE];
	cycle = med[I_BARE] + med[I_TAIL_CYCLE] - med[I_TAIL_BARE_CYCLE];
	scatter = med[I_BARE] + med[I_TAIL_SCATTER] - med[I_TAIL_BARE_SCATTER];
	hook_stats(&e->rules, &sr);
	hook_stats(&e->fresh, &sf);
	hook_stats(&e->full, &sx);

	bench_say("per-frame cost, BPF_PROG_TEST_RUN, repeat %d, median of %d rounds "
		  "(min-max), whole ns:", e->repeat, e->rounds);
	for (int i = 0; i < NITEM; i++)
		bench_say("  %-26s %6.0f ns  (%.0f-%.0f)", item_name[i], med[i],
			  spread[i][0], spread[i][1]);
	bench_say("  derived: new destination %.0f ns, into a full map %.0f ns, "
		  "known among %d %.0f ns in slot order, %.0f ns scattered "
		  "(bare + tail->pm_xdp - tail->bare)",
		  new_dest, evict, CYCLE_DESTS, cycle, scatter);
	bench_say("  check: %llu destinations inserted into the roomy map, %llu "
		  "insert failures; %llu into the full map",
		  (unsigned long long)sf.new_dests, (unsigned long long)sf.dest_update_fail,
		  (unsigned long long)sx.new_dests);
	bench_say("  rule violations: %llu packets, %llu sampled to the ring buffer, "
		  "%llu suppressed by the rate limit (5 per destination per second), "
		  "%llu ring buffer drops: the figure is the suppressed path",
		  (unsigned long long)sr.violations[PM_K_UNEXPECTED],
		  (unsigned long long)sr.sampled, (unsigned long long)sr.suppressed,
		  (unsigned long long)sr.ringbuf_drops);

	printf("{\"xdp_ns\":{\"bare\":%.0f,\"counter\":%.0f,\"observer_v4_tcp\":%.0f,"
	       "\"observer_v6_ext\":%.0f,\"observer_qinq_esp\":%.0f,"
	       "\"observer_new_dest\":%.0f,\"observer_rule_violation\":%.0f,"
	       "\"observer_new_dest_full_map\":%.0f,\"observer_v4_tcp_131k_dests\":%.0f,"
	       "\"observer_v4_tcp_nodecap\":%.0f,\"observer_vxlan_tcp\":%.0f,"
	       "\"observer_gtpu_esp\":%.0f,\"observer_mpls_tcp\":%.0f,"
	       "\"observer_v4_tcp_131k_scattered\":%.0f},"
	       "\"xdp_raw_ns\":{",
	       med[I_BARE], med[I_COUNTER], med[I_V4_TCP], med[I_V6_EXT],
	       med[I_QINQ_ESP], new_dest, med[I_VIOLATION], evict, cycle,
	       med[I_V4_NODECAP], med[I_VXLAN_TCP], med[I_GTPU_ESP], med[I_MPLS_TCP],
	       scatter);
	for (int i = 0; i < NITEM; i++) {
		printf("%s\"%s\":[", i ? "," : "", item_name[i]);
		for (int r = 0; r < e->rounds; r++)
			printf("%s%.0f", r ? "," : "", e->ns[i][r]);
		printf("]");
	}
	printf("},\"xdp_violation\":{\"packets\":%llu,\"sampled\":%llu,\"suppressed\":%llu,"
	       "\"ringbuf_drops\":%llu},\"xdp_repeat\":%d,\"xdp_rounds\":%d}\n",
	       (unsigned long long)sr.violations[PM_K_UNEXPECTED],
	       (unsigned long long)sr.sampled, (unsigned long long)sr.suppressed,
	       (unsigned long long)sr.ringbuf_drops, e->repeat, e->rounds);
	rc = 0;
out:
	teardown(e);
	free(e);
	return rc;
}
