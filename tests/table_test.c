// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * table_test: the destination table (headers/protomix.h, struct
 * pm_bucket) under the real pm_xdp, with exact counts.
 *
 * BPF_PROG_TEST_RUN repeats one frame; bench_tail (bench/bpf/gen.bpf.c)
 * rewrites its IPv4 destination on every repetition (base, base + 1, ...
 * wrapping after dst_count) and tail-calls pm_xdp, so one run shows the
 * observer many destinations. Each generator instance has its own
 * dst_next, so two threads each get their own.
 *
 *   table/concurrent_inserts
 *	Two threads pinned to two CPUs, each with its own generator, both
 *	over the same D destinations in the same order, K times each. The
 *	first pass goes one destination at a time, both CPUs sending it at
 *	the same moment (a spin line between the runs; see struct start
 *	for why not one run), so both miss it and race to insert it:
 *	dest_insert's lock on the first bucket (PM_B_LOCK) must make one of
 *	them insert it and the other find it. The other K - 1 passes run
 *	in one go on each CPU at once (the counters under contention).
 *	Per round, with the table emptied in between and nothing running:
 *	no key twice, D entries, every destination there with exactly
 *	2 * K TCP packets and 2 * K * (IP length) bytes; new_dests == D
 *	summed over the CPUs, dest_update_fail == 0; each CPU ran exactly
 *	D * K frames (so both ran, on the CPU they were pinned to). Over
 *	the rounds both CPUs must have won some of the races, else the
 *	lock was never contended and a pass would prove nothing. A
 *	duplicate, a lost packet or a failed insert fails the check,
 *	naming addresses.
 *
 *   table/main_class
 *	pm_xdp itself, a table of 64 slots: 3 ESP, 5 TCP, then 2 ESP
 *	frames to 10.79.0.1, and 4 TCP then 1 ESP to 10.79.0.2. A
 *	destination's first class is its main class, counted in its
 *	header's line (headers/protomix.h: the lines a packet touches);
 *	any other class in dest_counts. Checked in the arrays themselves
 *	(10.79.0.1: main esp, 5 packets in the header, 5 tcp in
 *	dest_counts, nothing under esp there; 10.79.0.2 the other way
 *	round) and as dests_read puts them together (exact packets and
 *	bytes per class, flags without the header's own bits).
 *
 *   table/tag_collision
 *	pm_xdp itself, a table of 64 slots (8 buckets): two addresses found
 *	by search under the table's seed whose two buckets are one and the
 *	same bucket, the same for both, with the same 16-bit tag. So the
 *	second sits in the way after the first's, and a lookup of it meets
 *	a matching tag whose key is not its own first (find_way must go on
 *	to the next matching way, not stop, nor insert it again). 3 TCP to
 *	the first, 2 to the second, 1 to the first, 4 to the second: both
 *	in that bucket with that tag, exactly 2 entries, 4 and 6 packets
 *	(and their bytes), new_dests == 2.
 *
 *   table/placement
 *	pm_xdp itself, a table of 4096 slots (512 buckets): 10.81.0.0,
 *	10.81.0.1, ... sent once each in order, as many as go in before
 *	the first one whose two buckets are both full (worked out here
 *	beforehand under the seed, at most 3600). Each must sit where the
 *	insert rule puts it (headers/protomix.h, PM_FIRST_FREE), replayed
 *	here on its own: its first bucket while that has 4 free ways, else
 *	the emptier of the two, the first on a tie; the lowest free way.
 *	Every key in that bucket and way, new_dests == the count.
 *
 *   table/eviction_exact
 *	One thread, a table of 64 slots, 1000 destinations sent once each
 *	in order: every one is new (new_dests == 1000, no failed insert),
 *	the stats count 1000 TCP packets and their bytes, the table is
 *	full, 64 entries (an eviction hands a slot over: it neither adds
 *	nor loses one), each with exactly one packet, no key twice, and
 *	the last destination sent is there.
 *
 *   table/find_at
 *	After eviction_exact, the 64 entries read twice with dests_read:
 *	dest_table_find_at (how the interval reports match a destination
 *	with the read before) finds each key of the second read at its own
 *	index in the first, gives the same index as dest_table_find when
 *	pointed at the wrong index, and -1 for a key not there.
 *
 * One line per check: PASS name | FAIL name: why | SKIP name: why.
 * Usage: table_test [-v]   (-v: libbpf's messages, per-round figures)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "protomix.h"
#include "protomix.skel.h"
#include "gen.skel.h"
#include "classes.h"
#include "frames.h"
#include "maps.h"
#include "util.h"
#include "check.h"

#define ETH_HLEN	14
#define SEED		0x70726f746f6d6978ull

#define CONC_SLOTS	4096
#define CONC_BASE	0x0a4d0000u	/* 10.77.0.0 */
#define CONC_DESTS	1000		/* D */
#define CONC_PASSES	200		/* K: each thread sends each one K times */
#define CONC_ROUNDS	5

#define EVICT_SLOTS	64
#define EVICT_BASE	0x0a4e0000u	/* 10.78.0.0 */
#define EVICT_DESTS	1000

static bool verbose;
static int failed;

/* A check collects its complaints; the first few are printed. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *addr_str(uint32_t v4, char *buf, size_t len)
{
	uint32_t be = htonl(v4);

	inet_ntop(AF_INET, &be, buf, len);
	return buf;
}

/* The offset of k from base when k is ::ffff:(base + i), i < n; else -1. */
static long key_index(const struct pm_dest_key *k, uint32_t base, uint32_t n)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	uint32_t be;

	if (memcmp(k->addr, v4mapped, 12))
		return -1;
	memcpy(&be, k->addr + 12, 4);
	if (ntohl(be) - base >= n)
		return -1;
	return ntohl(be) - base;
}

/* ---- the programs ------------------------------------------------- */

/* One loaded observer and its table, mapped writable. */
struct table {
	struct protomix *skel;
	struct dest_maps dm;
	struct dest_table tab;
	bool mapped;
};

struct env {
	struct table big, small;
	struct bench_gen *gen[2];
	__u8 frame[FRAME_MAX_LEN];
	int len;
	__u32 ip_len;			/* bytes counted per frame */
	int ncpus;			/* possible CPUs: per-CPU values */
};

static int table_open(struct table *t, uint64_t slots, char *why, size_t whylen)
{
	uint64_t ns;
	int err;

	t->skel = protomix__open();
	if (!t->skel) {
		snprintf(why, whylen, "opening the skeleton: %s", strerror(errno));
		return -1;
	}
	ns = dest_maps_size(t->skel, slots, SEED);
	err = protomix__load(t->skel);
	if (err) {
		snprintf(why, whylen, "loading the programs: %s (-v shows the verifier log)",
			 strerror(-err));
		return -1;
	}
	err = dest_maps_open_skel(&t->dm, t->skel, true);
	if (err) {
		snprintf(why, whylen, "mapping the destination table: %s", strerror(-err));
		return -1;
	}
	t->mapped = true;
	/* room for every slot: dests_read never stops short */
	if (dest_table_init(&t->tab, ns)) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

static void table_close(struct table *t)
{
	if (t->mapped)
		dest_maps_close(&t->dm);
	dest_table_free(&t->tab);
	protomix__destroy(t->skel);
}

/* Point a generator at t's pm_xdp and start it at base + 0. */
static int gen_aim(struct bench_gen *g, struct table *t, uint32_t base, uint32_t count)
{
	int fd = bpf_program__fd(t->skel->progs.pm_xdp);
	__u32 k = 0;

	if (bpf_map_update_elem(bpf_map__fd(g->maps.target), &k, &fd, 0))
		return -errno;
	g->bss->dst_base = base;
	g->bss->dst_count = count;
	g->bss->dst_next = 0;
	return 0;
}

/* The XDP hook's stats, one value per possible CPU. */
static int stats_get(struct table *t, struct pm_stats *percpu)
{
	__u32 hook = PM_HOOK_XDP;

	if (bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.stats), &hook, percpu))
		return -errno;
	return 0;
}

/* after - before, of one CPU (cpu >= 0) or summed over all (cpu < 0). */
static void stats_delta(const struct env *env, const struct pm_stats *before,
			const struct pm_stats *after, int cpu, struct pm_stats *d)
{
	__u64 *dv = (__u64 *)d;

	memset(d, 0, sizeof(*d));
	for (int c = 0; c < env->ncpus; c++) {
		const __u64 *b = (const __u64 *)&before[c], *a = (const __u64 *)&after[c];

		if (cpu >= 0 && c != cpu)
			continue;
		for (size_t i = 0; i < PM_STATS_NCOUNTERS; i++)
			dv[i] += a[i] - b[i];
	}
}

/* The stats moved by exactly `frames` TCP frames of env's frame. */
static void check_tcp_frames(struct check *ck, const char *who, const struct env *env,
			     const struct pm_stats *d, __u64 frames)
{
	if (d->frames != frames)
		complain(ck, "%s: %llu frames, want %llu", who,
			 (unsigned long long)d->frames, (unsigned long long)frames);
	for (int c = 0; c < PM_NCLASS; c++) {
		__u64 wp = c == PM_C_TCP ? frames : 0;
		__u64 wb = wp * env->ip_len;

		if (d->class_packets[c] != wp || d->class_bytes[c] != wb)
			complain(ck, "%s: %s %llu packets %llu bytes, want %llu %llu",
				 who, class_name(c), (unsigned long long)d->class_packets[c],
				 (unsigned long long)d->class_bytes[c],
				 (unsigned long long)wp, (unsigned long long)wb);
	}
}

/* Entries that are wrong in one way: how many, and the first few. */
struct tally {
	size_t n;
	char eg[200];
	size_t len;
};

static void tally(struct tally *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tally(struct tally *t, const char *fmt, ...)
{
	va_list ap;

	if (t->n++ < 3 && t->len < sizeof(t->eg)) {
		if (t->len)
			t->len += snprintf(t->eg + t->len, sizeof(t->eg) - t->len, ", ");
		if (t->len < sizeof(t->eg)) {
			va_start(ap, fmt);
			t->len += vsnprintf(t->eg + t->len, sizeof(t->eg) - t->len, fmt, ap);
			va_end(ap);
		}
	}
}

static void tally_report(struct check *ck, const char *pfx, const struct tally *t,
			 const char *what)
{
	if (t->n)
		complain(ck, "%s%zu %s (%s%s)", pfx, t->n, what, t->eg,
			 t->n > 3 ? ", ..." : "");
}

/* What is wrong with a table's entries. */
struct faults {
	struct tally dup;	/* keys held more than once */
	struct tally foreign;	/* keys never sent */
	struct tally counts;	/* entries with other counts than sent */
};

/*
 * Read t's table and look at every entry: its key one of base .. base +
 * n - 1, held once, with exactly `packets` TCP packets of the frame's
 * bytes and nothing else. seen[i] (n of them) gets how many entries hold
 * base + i. Returns the entries read.
 */
static size_t read_entries(struct faults *f, struct env *env, struct table *t,
			   uint32_t base, uint32_t n, __u64 packets, uint32_t *seen)
{
	char a[INET_ADDRSTRLEN], k6[INET6_ADDRSTRLEN];

	memset(f, 0, sizeof(*f));
	memset(seen, 0, n * sizeof(*seen));
	dests_read(&t->dm, &t->tab);
	for (size_t e = 0; e < t->tab.n; e++) {
		const struct pm_dest_key *k = &t->tab.keys[e];
		const struct pm_dest *d = &t->tab.vals[e];
		long i = key_index(k, base, n);

		if (i < 0) {
			tally(&f->foreign, "%s", inet_ntop(AF_INET6, k->addr, k6, sizeof(k6)));
			continue;
		}
		addr_str(base + i, a, sizeof(a));
		if (++seen[i] == 2)	/* name a duplicate once */
			tally(&f->dup, "%s", a);
		for (int c = 0; c < PM_NCLASS; c++) {
			__u64 wp = c == PM_C_TCP ? packets : 0;
			__u64 wb = wp * env->ip_len;

			if (d->packets[c] != wp || d->bytes[c] != wb) {
				tally(&f->counts, "%s %s %llu packets %llu bytes",
				      a, class_name(c), (unsigned long long)d->packets[c],
				      (unsigned long long)d->bytes[c]);
				break;
			}
		}
	}
	return t->tab.n;
}

/* ---- table/concurrent_inserts ------------------------------------- */

/*
 * The two workers of a round. They are released together once both
 * exist (or told to give up when the second could not start), then meet
 * at a line before every run: a spin, not a futex, so that both leave it
 * within a cache miss of each other.
 *
 * Why a line before every destination's first packet: a run with repeat
 * > 1 swaps pm_xdp into the kernel's XDP dispatcher, under a mutex and
 * an RCU grace period, so two such runs started together begin to run
 * milliseconds apart, and the first inserts all D destinations before
 * the second has started. Runs of one repetition do not touch the
 * dispatcher: the first pass goes one destination at a time, both CPUs
 * sending it at the same moment, so both miss it and race to insert it.
 * The K - 1 passes after it go in one run each (the counters under
 * contention; the table no longer changes).
 */
struct start {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int state;		/* 0: wait, 1: go, -1: give up */
	int count, gen;		/* the line: arrived, and passed so far */
	int abort;		/* a worker failed: the other stops too */
};

/* Wait at the line for the other worker; false when it gave up. */
static bool line_up(struct start *s)
{
	int gen = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&s->count, 1, __ATOMIC_ACQ_REL) == 2) {
		__atomic_store_n(&s->count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&s->gen, gen + 1, __ATOMIC_RELEASE);
		return true;
	}
	while (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) == gen)
		if (__atomic_load_n(&s->abort, __ATOMIC_RELAXED))
			return false;
	return true;
}

struct worker {
	struct env *env;
	struct bench_gen *gen;
	struct start *start;
	/* results */
	int err;		/* of the first run that failed */
	__u32 retval;		/* of that run, or of the last one */
	int cpu;		/* where the runs ended */
	double t0, t1;		/* the first pass's first run, the last run's end */
};

static int run_once(struct worker *w, __u32 repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = w->env->frame, .data_size_in = w->env->len,
		    .repeat = repeat);

	w->err = bpf_prog_test_run_opts(bpf_program__fd(w->gen->progs.bench_tail), &o);
	w->retval = o.retval;
	return w->err ? -1 : w->retval != XDP_PASS ? -1 : 0;
}

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct start *s = w->start;
	int state;

	pthread_mutex_lock(&s->lock);
	while (!(state = s->state))
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
	if (state < 0)
		return NULL;

	if (!line_up(s))
		goto gave_up;
	w->t0 = now_s();
	for (int i = 0; i < CONC_DESTS; i++) {
		if (i && !line_up(s))
			goto gave_up;
		if (run_once(w, 1))
			goto fail;
	}
	if (!line_up(s))
		goto gave_up;
	if (run_once(w, CONC_DESTS * (CONC_PASSES - 1)))
		goto fail;
	w->t1 = now_s();
	goto out;
gave_up:
	w->err = -ECANCELED;	/* the other one failed */
	goto out;
fail:
	__atomic_store_n(&s->abort, 1, __ATOMIC_RELAXED);
out:
	w->cpu = sched_getcpu();
	return NULL;
}

/* The first two CPUs this process may run on, or -1. */
static int two_cpus(int cpus[2])
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n == 2 ? 0 : -1;
}

/* One thread per CPU, each running its generator once; start them
 * together, join them. 0, or -errno when a thread could not start. */
static int run_pair(struct env *env, const int cpus[2], struct worker w[2])
{
	struct start s = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	pthread_t th[2];
	int err = 0, n;

	for (n = 0; n < 2; n++) {
		pthread_attr_t attr;
		cpu_set_t set;

		w[n] = (struct worker){
			.env = env, .gen = env->gen[n], .start = &s,
			.err = -ECANCELED,
		};
		CPU_ZERO(&set);
		CPU_SET(cpus[n], &set);
		pthread_attr_init(&attr);
		err = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		if (!err)
			err = pthread_create(&th[n], &attr, worker_run, &w[n]);
		pthread_attr_destroy(&attr);
		if (err)
			break;
	}
	pthread_mutex_lock(&s.lock);
	s.state = n == 2 ? 1 : -1;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return -err;
}

/* What one round must leave: see the top of the file. */
static void check_round(struct check *ck, const char *pfx, struct env *env,
			const int cpus[2], const struct worker w[2],
			const struct pm_stats *before, const struct pm_stats *after,
			uint32_t *seen)
{
	struct table *t = &env->big;
	struct tally missing = { 0 };
	char a[INET_ADDRSTRLEN], who[48], what[96];
	struct faults f;
	struct pm_stats d;
	size_t n;

	/* The table: D keys, each once, with both threads' K packets. */
	read_entries(&f, env, t, CONC_BASE, CONC_DESTS, 2 * CONC_PASSES, seen);
	tally_report(ck, pfx, &f.dup, "destinations in the table more than once "
		     "(duplicate inserts)");
	tally_report(ck, pfx, &f.foreign, "keys never sent");
	for (uint32_t i = 0; i < CONC_DESTS; i++)
		if (!seen[i])
			tally(&missing, "%s", addr_str(CONC_BASE + i, a, sizeof(a)));
	tally_report(ck, pfx, &missing, "destinations not in the table");
	if ((n = dests_count(&t->dm)) != CONC_DESTS)
		complain(ck, "%s%zu entries, want %u", pfx, n, CONC_DESTS);

	/* Every destination inserted once, every packet counted under it. */
	stats_delta(env, before, after, -1, &d);
	if (d.new_dests != CONC_DESTS)
		complain(ck, "%snew_dests %llu, want %u", pfx,
			 (unsigned long long)d.new_dests, CONC_DESTS);
	if (d.dest_update_fail)
		complain(ck, "%sdest_update_fail %llu, want 0", pfx,
			 (unsigned long long)d.dest_update_fail);
	snprintf(what, sizeof(what), "entries without %u tcp packets and %llu bytes",
		 2 * CONC_PASSES, 2ull * CONC_PASSES * env->ip_len);
	tally_report(ck, pfx, &f.counts, what);

	/* The runs: whole, each on its own CPU, at the same time. */
	for (int i = 0; i < 2; i++) {
		if (w[i].err)
			complain(ck, "%sBPF_PROG_TEST_RUN on CPU %d: %s", pfx,
				 cpus[i], strerror(-w[i].err));
		else if (w[i].retval != XDP_PASS)
			complain(ck, "%sCPU %d: returned %u, want XDP_PASS",
				 pfx, cpus[i], w[i].retval);
		if (w[i].cpu != cpus[i])
			complain(ck, "%sthe thread pinned to CPU %d ended on CPU %d",
				 pfx, cpus[i], w[i].cpu);
		/* D * K repetitions bring dst_next back to 0 */
		if (env->gen[i]->bss->dst_next != 0)
			complain(ck, "%sgenerator %d stopped at index %u, want 0",
				 pfx, i, env->gen[i]->bss->dst_next);
		snprintf(who, sizeof(who), "%sCPU %d", pfx, cpus[i]);
		stats_delta(env, before, after, cpus[i], &d);
		check_tcp_frames(ck, who, env, &d, (__u64)CONC_DESTS * CONC_PASSES);
	}
}

static void test_concurrent_inserts(struct env *env)
{
	const char *name = "table/concurrent_inserts";
	struct pm_stats *before = calloc(env->ncpus, sizeof(*before));
	struct pm_stats *after = calloc(env->ncpus, sizeof(*after));
	uint32_t *seen = calloc(CONC_DESTS, sizeof(*seen));
	struct table *t = &env->big;
	struct check ck = { .n = 0 };
	__u64 inserted[2] = { 0, 0 };	/* new_dests per CPU, all rounds */
	int cpus[2], err, r;

	if (two_cpus(cpus)) {
		printf("SKIP %s: needs two CPUs to run on (%ld online)\n", name,
		       sysconf(_SC_NPROCESSORS_ONLN));
		goto out;
	}
	/* tools/kernels/guest-run.sh says so: under QEMU's TCG, the kernel
	 * patching its XDP dispatcher (a run with repeat > 1) while the other
	 * CPU runs through it kills the guest (6.12: "Oops: int3" in
	 * bpf_dispatcher_xdp_func, 3 runs of 3): the emulator does not see
	 * the code one CPU changes under another in time. */
	if (getenv("PROTOMIX_TEST_EMULATED")) {
		printf("SKIP %s: the CPUs are emulated (%s): the kernel's patching of its XDP dispatcher under a running CPU oopses the emulated guest\n",
		       name, getenv("PROTOMIX_TEST_EMULATED"));
		goto out;
	}
	if (!before || !after || !seen) {
		complain(&ck, "out of memory");
		goto done;
	}
	for (r = 1; r <= CONC_ROUNDS && !ck.n; r++) {
		struct pm_stats d[2];
		struct worker w[2];
		char pfx[32];

		snprintf(pfx, sizeof(pfx), "round %d: ", r);
		/* nothing runs: empty the table, restart both generators */
		dests_clear(&t->dm);
		for (int i = 0; i < 2; i++)
			if ((err = gen_aim(env->gen[i], t, CONC_BASE, CONC_DESTS))) {
				complain(&ck, "%ssetting the tail-call target: %s",
					 pfx, strerror(-err));
				goto done;
			}
		if ((err = stats_get(t, before)) ||
		    (err = run_pair(env, cpus, w)) ||
		    (err = stats_get(t, after))) {
			complain(&ck, "%s%s", pfx, strerror(-err));
			goto done;
		}
		check_round(&ck, pfx, env, cpus, w, before, after, seen);

		for (int i = 0; i < 2; i++) {
			stats_delta(env, before, after, cpus[i], &d[i]);
			inserted[i] += d[i].new_dests;
		}
		if (verbose)
			fprintf(stderr, "table_test: round %d: inserted by CPU %d: %llu, "
				"CPU %d: %llu; runs %.1f and %.1f ms, started %.1f us apart\n",
				r, cpus[0], (unsigned long long)d[0].new_dests,
				cpus[1], (unsigned long long)d[1].new_dests,
				(w[0].t1 - w[0].t0) * 1e3, (w[1].t1 - w[1].t0) * 1e3,
				(w[1].t0 - w[0].t0) * 1e6);
	}
	/* Both CPUs won some of the races: else the lock was never contended
	 * and a pass proves nothing. */
	if (!ck.n && (!inserted[0] || !inserted[1]))
		complain(&ck, "CPU %d inserted every destination in %d rounds: "
			 "the two CPUs never raced", inserted[0] ? cpus[0] : cpus[1],
			 CONC_ROUNDS);
done:
	failed += report(name, &ck);
out:
	free(before);
	free(after);
	free(seen);
}

/* ---- table/main_class --------------------------------------------- */

/* Run pm_xdp of t over the case `name` aimed at dst4, `repeat` times. */
static int send_case(struct table *t, const char *name, const uint8_t dst4[4],
		     __u32 repeat, uint32_t *bytes, char *why, size_t whylen)
{
	const struct frame_case *c = frame_case_find(name);
	struct frame_addrs a = { .has_dst4 = true };
	__u8 frame[FRAME_MAX_LEN];
	int len, err;

	if (!c) {
		snprintf(why, whylen, "no frame case %s", name);
		return -1;
	}
	memcpy(a.dst4, dst4, 4);
	len = frame_case_build(c, &a, frame, sizeof(frame));
	if (len < 0) {
		snprintf(why, whylen, "cannot build %s", name);
		return -1;
	}
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = repeat);
	err = bpf_prog_test_run_opts(bpf_program__fd(t->skel->progs.pm_xdp), &o);
	if (err || o.retval != XDP_PASS) {
		snprintf(why, whylen, "running %s: %s, returned %u", name,
			 err ? strerror(-err) : "ok", o.retval);
		return -1;
	}
	*bytes = c->bytes;
	return 0;
}

/* The slot whose header holds key, or -1. */
static long slot_of(const struct table *t, const struct pm_dest_key *key)
{
	for (uint32_t s = 0; s < t->dm.nslots; s++)
		if (!memcmp(&t->dm.hdr[s].key, key, sizeof(*key)))
			return s;
	return -1;
}

struct main_want {
	uint8_t dst4[4];
	int main, other;	/* classes */
	__u64 main_packets, other_packets;
};

static void check_main_class(struct check *ck, struct table *t, const struct main_want *w,
			     uint32_t main_bytes, uint32_t other_bytes)
{
	char a[INET_ADDRSTRLEN];
	const struct pm_dest_hdr *h;
	const struct pm_dest_count *o, *m;
	struct pm_dest_key key = { .addr = { [10] = 0xff, [11] = 0xff } };
	const struct pm_dest *d;
	long s, e;

	memcpy(key.addr + 12, w->dst4, 4);
	s = slot_of(t, &key);
	inet_ntop(AF_INET, w->dst4, a, sizeof(a));
	if (s < 0) {
		complain(ck, "%s: not in the table", a);
		return;
	}
	h = &t->dm.hdr[s];
	m = &t->dm.counts[(size_t)w->main * t->dm.nslots + s];
	o = &t->dm.counts[(size_t)w->other * t->dm.nslots + s];
	if ((h->flags & PM_H_MAIN_MASK) != PM_H_MAIN(w->main))
		complain(ck, "%s: main class field %u, want %s (%u)", a,
			 (h->flags & PM_H_MAIN_MASK) >> PM_H_MAIN_SHIFT,
			 class_name(w->main), PM_H_MAIN(w->main) >> PM_H_MAIN_SHIFT);
	if (h->packets != w->main_packets || h->bytes != w->main_packets * main_bytes)
		complain(ck, "%s: header %llu packets %llu bytes, want %llu %llu", a,
			 (unsigned long long)h->packets, (unsigned long long)h->bytes,
			 (unsigned long long)w->main_packets,
			 (unsigned long long)w->main_packets * main_bytes);
	if (m->packets || m->bytes)
		complain(ck, "%s: %s in dest_counts too (%llu packets)", a,
			 class_name(w->main), (unsigned long long)m->packets);
	if (o->packets != w->other_packets || o->bytes != w->other_packets * other_bytes)
		complain(ck, "%s: %s in dest_counts %llu packets %llu bytes, want %llu %llu",
			 a, class_name(w->other), (unsigned long long)o->packets,
			 (unsigned long long)o->bytes, (unsigned long long)w->other_packets,
			 (unsigned long long)w->other_packets * other_bytes);

	/* as userspace reads it */
	dests_read(&t->dm, &t->tab);
	dest_table_index(&t->tab);
	e = dest_table_find(&t->tab, &key);
	if (e < 0) {
		complain(ck, "%s: not read by dests_read", a);
		return;
	}
	d = &t->tab.vals[e];
	for (int c = 0; c < PM_NCLASS; c++) {
		__u64 wp = c == w->main ? w->main_packets :
			   c == w->other ? w->other_packets : 0;
		__u64 wb = c == w->main ? wp * main_bytes : wp * other_bytes;

		if (d->packets[c] != wp || d->bytes[c] != wb)
			complain(ck, "%s read: %s %llu packets %llu bytes, want %llu %llu",
				 a, class_name(c), (unsigned long long)d->packets[c],
				 (unsigned long long)d->bytes[c],
				 (unsigned long long)wp, (unsigned long long)wb);
	}
	if (d->flags & PM_H_MASK)
		complain(ck, "%s read: flags 0x%x carry the header's own bits", a, d->flags);
}

static void test_main_class(struct env *env)
{
	const char *name = "table/main_class";
	struct main_want w1 = { { 10, 79, 0, 1 }, PM_C_ESP, PM_C_TCP, 5, 5 };
	struct main_want w2 = { { 10, 79, 0, 2 }, PM_C_TCP, PM_C_ESP, 4, 1 };
	struct table *t = &env->small;
	struct check ck = { .n = 0 };
	uint32_t esp = 0, tcp = 0;
	char why[160];

	dests_clear(&t->dm);
	if (send_case(t, "esp4", w1.dst4, 3, &esp, why, sizeof(why)) ||
	    send_case(t, "tcp4", w1.dst4, 5, &tcp, why, sizeof(why)) ||
	    send_case(t, "esp4", w1.dst4, 2, &esp, why, sizeof(why)) ||
	    send_case(t, "tcp4", w2.dst4, 4, &tcp, why, sizeof(why)) ||
	    send_case(t, "esp4", w2.dst4, 1, &esp, why, sizeof(why))) {
		complain(&ck, "%s", why);
		goto done;
	}
	check_main_class(&ck, t, &w1, esp, tcp);
	check_main_class(&ck, t, &w2, tcp, esp);
done:
	failed += report(name, &ck);
}

/* ---- table/tag_collision ------------------------------------------ */

static struct pm_dest_key v4_key(uint32_t v4)
{
	struct pm_dest_key k;

	addr_from_v4(k.addr, v4);
	return k;
}

/* Two IPv4 addresses from 10.0.0.0/8 whose two buckets (among n) are all
 * one bucket, with the same tag: 0, or -1 when the /8 holds none. */
static int find_colliding(uint32_t n, uint32_t out[2], uint32_t *bucket, __u16 *tag)
{
	for (uint32_t a = 0x0a000001u; a < 0x0a000100u; a++) {
		struct pm_dest_key ka = v4_key(a);
		__u32 a1, a2;
		__u16 ta = pm_dest_hash(&ka, SEED, n, &a1, &a2);

		if (a1 != a2)
			continue;
		for (uint32_t b = a + 1; b < 0x0b000000u; b++) {
			struct pm_dest_key kb = v4_key(b);
			__u32 b1, b2;

			if (pm_dest_hash(&kb, SEED, n, &b1, &b2) == ta &&
			    b1 == a1 && b2 == a1) {
				out[0] = a;
				out[1] = b;
				*bucket = a1;
				*tag = ta;
				return 0;
			}
		}
	}
	return -1;
}

static void test_tag_collision(struct env *env)
{
	const char *name = "table/tag_collision";
	static const __u32 sends[4] = { 3, 2, 1, 4 };	/* a, b, a, b */
	struct pm_stats *before = calloc(env->ncpus, sizeof(*before));
	struct pm_stats *after = calloc(env->ncpus, sizeof(*after));
	struct table *t = &env->small;
	struct check ck = { .n = 0 };
	char a[2][INET_ADDRSTRLEN], why[160];
	uint32_t addr[2], bucket, bytes = 0;
	const struct pm_bucket *bk;
	struct pm_stats d;
	__u16 tag;
	int err;

	if (!before || !after) {
		complain(&ck, "out of memory");
		goto done;
	}
	if (find_colliding(t->dm.nbuckets, addr, &bucket, &tag)) {
		complain(&ck, "no two addresses of 10.0.0.0/8 collide under the seed");
		goto done;
	}
	addr_str(addr[0], a[0], sizeof(a[0]));
	addr_str(addr[1], a[1], sizeof(a[1]));
	dests_clear(&t->dm);
	if ((err = stats_get(t, before))) {
		complain(&ck, "reading the stats: %s", strerror(-err));
		goto done;
	}
	for (int i = 0; i < 4; i++) {
		uint32_t be = htonl(addr[i & 1]);

		if (send_case(t, "tcp4", (const uint8_t *)&be, sends[i], &bytes,
			      why, sizeof(why))) {
			complain(&ck, "%s", why);
			goto done;
		}
	}
	if ((err = stats_get(t, after))) {
		complain(&ck, "reading the stats: %s", strerror(-err));
		goto done;
	}

	/* Both in the one bucket, ways 0 and 1, with the same tag. */
	bk = &t->dm.index[bucket];
	for (int w = 0; w < 2; w++) {
		struct pm_dest_key k = v4_key(addr[w]);

		if (!(bk->state & 1ull << w) || bk->tags[w] != tag ||
		    memcmp(&t->dm.hdr[bk->slots[w]].key, &k, sizeof(k)))
			complain(&ck, "%s: not in way %d of bucket %u with tag 0x%04x",
				 a[w], w, bucket, tag);
	}
	if ((bk->state & PM_B_VALID) != 3)
		complain(&ck, "bucket %u: valid ways 0x%llx, want 0x3", bucket,
			 (unsigned long long)(bk->state & PM_B_VALID));
	if (dests_count(&t->dm) != 2)
		complain(&ck, "%zu entries, want 2", dests_count(&t->dm));

	/* Exact counts, as userspace reads them. */
	dests_read(&t->dm, &t->tab);
	dest_table_index(&t->tab);
	for (int w = 0; w < 2; w++) {
		struct pm_dest_key k = v4_key(addr[w]);
		__u64 want = sends[w] + sends[w + 2];
		long e = dest_table_find(&t->tab, &k);

		if (e < 0) {
			complain(&ck, "%s: not read by dests_read", a[w]);
			continue;
		}
		if (t->tab.vals[e].packets[PM_C_TCP] != want ||
		    t->tab.vals[e].bytes[PM_C_TCP] != want * bytes)
			complain(&ck, "%s: %llu tcp packets %llu bytes, want %llu %llu",
				 a[w], (unsigned long long)t->tab.vals[e].packets[PM_C_TCP],
				 (unsigned long long)t->tab.vals[e].bytes[PM_C_TCP],
				 (unsigned long long)want, (unsigned long long)(want * bytes));
	}
	stats_delta(env, before, after, -1, &d);
	if (d.new_dests != 2)
		complain(&ck, "new_dests %llu, want 2", (unsigned long long)d.new_dests);
	if (d.dest_update_fail)
		complain(&ck, "dest_update_fail %llu, want 0",
			 (unsigned long long)d.dest_update_fail);
	if (verbose)
		fprintf(stderr, "table_test: %s and %s: bucket %u, tag 0x%04x\n",
			a[0], a[1], bucket, tag);
done:
	failed += report(name, &ck);
	free(before);
	free(after);
}

/* ---- table/placement ---------------------------------------------- */

#define PLACE_BASE	0x0a510000u	/* 10.81.0.0 */
#define PLACE_MAX	3600

static void test_placement(struct env *env)
{
	const char *name = "table/placement";
	struct pm_stats *before = calloc(env->ncpus, sizeof(*before));
	struct pm_stats *after = calloc(env->ncpus, sizeof(*after));
	struct table *t = &env->big;
	uint32_t nb = t->dm.nbuckets, n = 0, second = 0, *where = NULL;
	uint8_t *fill = calloc(nb, 1);
	struct bench_gen *g = env->gen[0];
	struct check ck = { .n = 0 };
	char a[INET_ADDRSTRLEN];
	struct pm_stats d;
	int err;

	where = calloc(PLACE_MAX, sizeof(*where));
	if (!before || !after || !fill || !where) {
		complain(&ck, "out of memory");
		goto done;
	}
	/* The rule, replayed: where each key goes, until one finds both its
	 * buckets full. */
	for (n = 0; n < PLACE_MAX; n++) {
		struct pm_dest_key k = v4_key(PLACE_BASE + n);
		__u32 b1, b2, b;

		pm_dest_hash(&k, SEED, nb, &b1, &b2);
		b = b1;
		if (PM_WAYS - fill[b1] < PM_WAYS / 2 && fill[b2] < fill[b1])
			b = b2;
		if (fill[b] == PM_WAYS)
			break;
		where[n] = b * PM_WAYS + fill[b]++;
		second += b != b1;
	}

	dests_clear(&t->dm);
	if ((err = gen_aim(g, t, PLACE_BASE, n)) || (err = stats_get(t, before))) {
		complain(&ck, "setting up: %s", strerror(-err));
		goto done;
	}
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = env->frame,
		    .data_size_in = env->len, .repeat = n);
	err = bpf_prog_test_run_opts(bpf_program__fd(g->progs.bench_tail), &o);
	if (err || o.retval != XDP_PASS) {
		complain(&ck, "BPF_PROG_TEST_RUN: %s, returned %u",
			 err ? strerror(-err) : "ok", o.retval);
		goto done;
	}
	if ((err = stats_get(t, after))) {
		complain(&ck, "reading the stats: %s", strerror(-err));
		goto done;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct pm_dest_key k = v4_key(PLACE_BASE + i);
		const struct pm_bucket *bk = &t->dm.index[where[i] / PM_WAYS];
		uint32_t w = where[i] % PM_WAYS;

		if (!(bk->state & 1ull << w) || bk->slots[w] >= t->dm.nslots ||
		    memcmp(&t->dm.hdr[bk->slots[w]].key, &k, sizeof(k)))
			complain(&ck, "%s: not in bucket %u way %u",
				 addr_str(PLACE_BASE + i, a, sizeof(a)),
				 where[i] / PM_WAYS, w);
	}
	if (dests_count(&t->dm) != n)
		complain(&ck, "%zu entries, want %u", dests_count(&t->dm), n);
	stats_delta(env, before, after, -1, &d);
	if (d.new_dests != n)
		complain(&ck, "new_dests %llu, want %u", (unsigned long long)d.new_dests, n);
	if (verbose)
		fprintf(stderr, "table_test: placement: %u keys (%.0f%% of the slots), "
			"%u in their second bucket (%.1f%%)\n", n,
			100.0 * n / t->dm.nslots, second, 100.0 * second / n);
done:
	failed += report(name, &ck);
	free(before);
	free(after);
	free(fill);
	free(where);
}

/* ---- table/eviction_exact ----------------------------------------- */

static void test_eviction_exact(struct env *env)
{
	const char *name = "table/eviction_exact";
	struct pm_stats *before = calloc(env->ncpus, sizeof(*before));
	struct pm_stats *after = calloc(env->ncpus, sizeof(*after));
	uint32_t *seen = calloc(EVICT_DESTS, sizeof(*seen));
	struct table *t = &env->small;
	struct bench_gen *g = env->gen[0];
	struct check ck = { .n = 0 };
	char a[INET_ADDRSTRLEN], what[96];
	struct pm_stats d;
	struct faults f;
	size_t n, cnt;
	int err;

	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = env->frame, .data_size_in = env->len,
		    .repeat = EVICT_DESTS);

	if (!before || !after || !seen) {
		complain(&ck, "out of memory");
		goto done;
	}
	dests_clear(&t->dm);
	if ((err = gen_aim(g, t, EVICT_BASE, EVICT_DESTS)) ||
	    (err = stats_get(t, before))) {
		complain(&ck, "setting up: %s", strerror(-err));
		goto done;
	}
	err = bpf_prog_test_run_opts(bpf_program__fd(g->progs.bench_tail), &o);
	if (err) {
		complain(&ck, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		goto done;
	}
	if (o.retval != XDP_PASS)
		complain(&ck, "returned %u, want XDP_PASS", o.retval);
	if ((err = stats_get(t, after))) {
		complain(&ck, "reading the stats: %s", strerror(-err));
		goto done;
	}

	/* The table: full, every survivor sent once, the last one there. A
	 * table of 64 slots is full long before 1000 destinations (each of
	 * its 8 buckets is one of the two of many of them), and an eviction
	 * only hands a slot over: fewer entries would be a slot lost. */
	cnt = dests_count(&t->dm);
	n = read_entries(&f, env, t, EVICT_BASE, EVICT_DESTS, 1, seen);
	if (cnt != EVICT_SLOTS)
		complain(&ck, "%zu entries in a table of %u slots, want it full",
			 cnt, EVICT_SLOTS);
	if (n != cnt)
		complain(&ck, "%zu entries counted, %zu read", cnt, n);
	tally_report(&ck, "", &f.dup, "destinations in the table more than once");
	tally_report(&ck, "", &f.foreign, "keys never sent");
	snprintf(what, sizeof(what), "entries without 1 tcp packet and %u bytes",
		 env->ip_len);
	tally_report(&ck, "", &f.counts, what);
	if (!seen[EVICT_DESTS - 1])
		complain(&ck, "the last destination sent, %s, is not in the table",
			 addr_str(EVICT_BASE + EVICT_DESTS - 1, a, sizeof(a)));

	/* Every destination new, inserted (evicting), every packet counted. */
	stats_delta(env, before, after, -1, &d);
	check_tcp_frames(&ck, "stats", env, &d, EVICT_DESTS);
	if (d.new_dests != EVICT_DESTS)
		complain(&ck, "new_dests %llu, want %u", (unsigned long long)d.new_dests,
			 EVICT_DESTS);
	if (d.dest_update_fail)
		complain(&ck, "dest_update_fail %llu, want 0",
			 (unsigned long long)d.dest_update_fail);
	if (verbose)
		fprintf(stderr, "table_test: eviction: %zu entries, %llu evicted\n",
			cnt, (unsigned long long)(d.new_dests - cnt));
done:
	failed += report(name, &ck);
	free(before);
	free(after);
	free(seen);
}

/* ---- table/find_at ------------------------------------------------ */

static void test_find_at(struct env *env)
{
	const char *name = "table/find_at";
	struct table *t = &env->small;
	struct dest_table prev = { 0 };
	struct check ck = { .n = 0 };
	struct pm_dest_key none = v4_key(0x0a4f0000u);	/* 10.79.0.0: not sent */
	char a[INET6_ADDRSTRLEN];

	if (dest_table_init(&prev, t->dm.nslots)) {
		complain(&ck, "out of memory");
		goto done;
	}
	dests_read(&t->dm, &prev);
	dest_table_index(&prev);
	dests_read(&t->dm, &t->tab);
	if (prev.n != EVICT_SLOTS || t->tab.n != prev.n)
		complain(&ck, "read %zu and %zu entries, want %u twice", prev.n,
			 t->tab.n, EVICT_SLOTS);
	for (size_t i = 0; i < t->tab.n; i++) {
		const struct pm_dest_key *k = &t->tab.keys[i];
		long want = dest_table_find(&prev, k);

		inet_ntop(AF_INET6, k->addr, a, sizeof(a));
		if (dest_table_find_at(&prev, k, i) != (long)i || want != (long)i)
			complain(&ck, "%s: at %ld and %ld in the first read, want %zu",
				 a, dest_table_find_at(&prev, k, i), want, i);
		if (dest_table_find_at(&prev, k, (i + 1) % prev.n) != want ||
		    dest_table_find_at(&prev, k, prev.n + 5) != want)
			complain(&ck, "%s: pointed elsewhere, not found at %ld", a, want);
	}
	if (dest_table_find_at(&prev, &none, 0) != -1)
		complain(&ck, "10.79.0.0, never sent, found");
done:
	failed += report(name, &ck);
	dest_table_free(&prev);
}

/* ---- main --------------------------------------------------------- */

int main(int argc, char **argv)
{
	const struct frame_case *c = frame_case_find("tcp4");
	struct env env = { .len = -1 };
	char why[256];
	int ret = 1;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = true;
		argc--, argv++;
	}
	if (argc > 1) {
		fprintf(stderr, "usage: table_test [-v]\n");
		return 2;
	}
	libbpf_set_print(libbpf_print);

	if (geteuid() != 0) {
		printf("SKIP table: needs root for BPF_PROG_TEST_RUN\n");
		return 0;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1) {
		printf("SKIP table: this kernel cannot load XDP programs\n");
		return 0;
	}

	/* Untagged Ethernet + IPv4 TCP, as bench_tail needs. */
	if (c)
		env.len = frame_case_build(c, NULL, env.frame, sizeof(env.frame));
	if (!c || env.len < ETH_HLEN + 20 || c->class != PM_C_TCP) {
		printf("FAIL table: cannot build the tcp4 frame\n");
		return 1;
	}
	env.ip_len = env.frame[ETH_HLEN + 2] << 8 | env.frame[ETH_HLEN + 3];
	if (env.ip_len != c->bytes) {
		printf("FAIL table: the tcp4 frame's IP length is %u, the case says %u\n",
		       env.ip_len, c->bytes);
		return 1;
	}

	env.ncpus = libbpf_num_possible_cpus();
	if (env.ncpus <= 0) {
		printf("FAIL table: cannot count the possible CPUs\n");
		return 1;
	}
	if (table_open(&env.big, CONC_SLOTS, why, sizeof(why)) ||
	    table_open(&env.small, EVICT_SLOTS, why, sizeof(why))) {
		printf("FAIL table: %s\n", why);
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		env.gen[i] = bench_gen__open_and_load();
		if (!env.gen[i]) {
			printf("FAIL table: loading bench/bpf/gen.bpf.c: %s\n",
			       strerror(errno));
			goto out;
		}
	}

	test_concurrent_inserts(&env);
	test_main_class(&env);
	test_tag_collision(&env);
	test_placement(&env);
	test_eviction_exact(&env);
	test_find_at(&env);
	ret = failed ? 1 : 0;
out:
	for (int i = 0; i < 2; i++)
		bench_gen__destroy(env.gen[i]);
	table_close(&env.small);
	table_close(&env.big);
	return ret;
}
