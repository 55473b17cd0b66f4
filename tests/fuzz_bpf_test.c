// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_bpf_test: random and mutated frames through pm_xdp and
 * pm_tc_ingress with BPF_PROG_TEST_RUN.
 *
 * Frames: the cases of tests/frames.c, each mutated one to four times
 * (bit flips in the headers, interesting bytes and 16-bit values written
 * over header fields and length fields, truncation, bytes added, inserted
 * or removed, VLAN tags added or removed, two cases spliced), and random
 * bytes behind an IPv4, IPv6, VLAN or random ethertype. Lengths from 0 to
 * 4000 bytes.
 *
 * What must hold, for every frame:
 *   - XDP returns XDP_PASS and tc TC_ACT_UNSPEC, the frame unchanged;
 *     BPF_PROG_TEST_RUN refuses (EINVAL) exactly the frames it documents
 *     (XDP and tc: under 14 bytes; tc: an IPv4/IPv6 ethertype without the
 *     fixed IP header, or more than one page of linear data);
 * and over the run, per hook:
 *   - frames == the runs, and sum(class_packets) + sum(reason) == frames
 *     (gso_segs is 0 here: one packet per frame);
 *   - --decap: the packets of the tunnel classes == inner_packets +
 *     sum(inner_reason);
 *   - XDP and tc reach the same classes, bytes and reasons for the frames
 *     both ran;
 *   - per batch, the destinations' counters (read and deleted in one
 *     batch) hold at least the class counters, and their packets add up
 *     to the class counters' and inner_packets (a tunnel's inner packet
 *     counts under its own destination and class), with no destination
 *     lost;
 *   - every ring-buffer event is well formed.
 *
 * Usage: fuzz_bpf_test [-n FRAMES] [-s SEED] [-v]
 *   default 2000000 frames, seed 1 (about 12 s on a 2-CPU VM; a long run:
 *   fuzz_bpf_test -n 50000000 -s 7, about 5 minutes).
 * One line per check: PASS name | FAIL name: why | SKIP name: why.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "protomix.h"
#include "protomix.skel.h"
#include "classes.h"
#include "frames.h"
#include "maps.h"

#define ETH_HLEN	14
#define TC_ACT_UNSPEC	(-1)
#define MAX_LEN		4000
#define PROBE_MAX	70000
#define REPLAY_XDP_LINEAR 3520	/* what XDP's test run puts in one buffer */
#define BATCH		65536		/* frames between destination checks */
#define MAX_DESTS	(4 * BATCH)	/* never full within a batch */
#define NSTAT		PM_STATS_NCOUNTERS

static bool verbose;
static int failed;
static uint64_t rng;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static uint32_t rnd_n(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed++;
}

/* ---- frames ------------------------------------------------------- */

static const uint8_t bytes8[] = {
	0, 1, 2, 4, 5, 6, 8, 0x0f, 0x11, 0x29, 0x2b, 0x2c, 0x2f, 0x32, 0x33,
	0x3a, 0x3b, 0x3c, 0x40, 0x45, 0x46, 0x4f, 0x50, 0x60, 0x7f, 0x80,
	0x81, 0x84, 0x86, 0x88, 0xa8, 0xdd, 0xf0, 0xfe, 0xff,
};
static const uint16_t values16[] = {
	0, 1, 4, 7, 8, 9, 12, 20, 40, 60, 500, 4500, 0x0800, 0x86dd, 0x8100,
	0x88a8, 0x2000, 0x1fff, 0x3fff, 0x7fff, 0x8000, 0xfff8, 0xffff,
};

static size_t header_pos(size_t len)
{
	size_t h = len < 96 ? len : 96;

	return rnd_n(4) ? rnd_n(h ? h : 1) : rnd_n(len ? len : 1);
}

/* One mutation of f (length *len, room for MAX_LEN). */
static void mutate(uint8_t *f, size_t *len)
{
	size_t pos, n;
	uint16_t v;

	switch (rnd_n(10)) {
	case 0:
	case 1:		/* bit flips */
		n = 1 + rnd_n(8);
		for (size_t i = 0; i < n && *len; i++) {
			pos = header_pos(*len);
			f[pos] ^= 1u << rnd_n(8);
		}
		break;
	case 2:		/* an interesting byte over a header byte */
		if (*len)
			f[header_pos(*len)] = bytes8[rnd_n(sizeof(bytes8))];
		break;
	case 3:		/* an interesting 16-bit value over a header field */
		if (*len >= 2) {
			pos = header_pos(*len - 1);
			v = values16[rnd_n(sizeof(values16) / sizeof(values16[0]))];
			if (rnd_n(4) == 0)
				v = *len - pos + rnd_n(16) - 8;	/* a length near the truth */
			f[pos] = v >> 8;
			f[pos + 1] = v & 0xff;
		}
		break;
	case 4:		/* truncate */
		*len = rnd_n(*len + 1);
		break;
	case 5:		/* grow: random or zero bytes at the end */
		n = rnd_n(rnd_n(8) ? 64 : MAX_LEN);
		if (*len + n > MAX_LEN)
			n = MAX_LEN - *len;
		for (size_t i = 0; i < n; i++)
			f[*len + i] = rnd_n(2) ? 0 : rnd();
		*len += n;
		break;
	case 6:		/* insert 1-8 bytes in the headers */
		n = 1 + rnd_n(8);
		if (*len + n > MAX_LEN)
			break;
		pos = header_pos(*len);
		memmove(f + pos + n, f + pos, *len - pos);
		for (size_t i = 0; i < n; i++)
			f[pos + i] = rnd();
		*len += n;
		break;
	case 7:		/* remove 1-8 bytes from the headers */
		n = 1 + rnd_n(8);
		pos = header_pos(*len);
		if (pos + n > *len)
			break;
		memmove(f + pos, f + pos + n, *len - pos - n);
		*len -= n;
		break;
	case 8:		/* add a VLAN tag, or remove the outer one */
		if (*len >= ETH_HLEN && rnd_n(2) && *len + 4 <= MAX_LEN) {
			memmove(f + 16, f + 12, *len - 12);
			v = rnd_n(2) ? 0x8100 : 0x88a8;
			f[12] = v >> 8;
			f[13] = v & 0xff;
			f[14] = rnd_n(16);
			f[15] = rnd();
			*len += 4;
		} else if (*len >= ETH_HLEN + 4 &&
			   ((f[12] == 0x81 && f[13] == 0) || (f[12] == 0x88 && f[13] == 0xa8))) {
			memmove(f + 12, f + 16, *len - 16);
			*len -= 4;
		}
		break;
	case 9:		/* splice: keep the headers, the tail of another case */
		{
			uint8_t other[FRAME_MAX_LEN];
			int olen = frame_case_build(&frame_cases[rnd_n(frame_ncases)],
						    NULL, other, sizeof(other));

			pos = header_pos(*len);
			if (olen > 0 && (size_t)olen > pos && pos + (olen - pos) <= MAX_LEN) {
				memcpy(f + pos, other + pos, olen - pos);
				*len = olen;
			}
		}
		break;
	}
}

/* The next frame: a mutated case most of the time, random bytes else. */
static size_t next_frame(uint8_t *f)
{
	static const uint16_t types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8 };
	size_t len;
	int n;

	if (rnd_n(5) == 0) {
		len = rnd_n(rnd_n(16) ? 200 : MAX_LEN);
		for (size_t i = 0; i < len; i++)
			f[i] = rnd();
		if (len >= ETH_HLEN && rnd_n(4)) {
			uint16_t t = types[rnd_n(4)];

			f[12] = t >> 8;
			f[13] = t & 0xff;
			if (len > ETH_HLEN && t == 0x0800)
				f[14] = 0x45 + rnd_n(2) * rnd_n(11);
			else if (len > ETH_HLEN && t == 0x86dd)
				f[14] = 0x60;
		}
		return len;
	}
	do {
		n = frame_case_build(&frame_cases[rnd_n(frame_ncases)], NULL, f, MAX_LEN);
	} while (n < 0);
	len = n;
	for (int i = 1 + rnd_n(4); i > 0; i--)
		mutate(f, &len);
	return len;
}

/* ---- running ------------------------------------------------------ */

struct env {
	struct protomix *skel;
	int xdp_fd, tc_fd, stats_fd;
	struct dest_maps dm;	/* the destination table, writable */
	struct dest_table tab;
	int ncpus;
	struct pm_stats *percpu;
	size_t tc_max;		/* the longest frame tc's test run takes */
	uint64_t events, bad_events;
	char bad_event[160];
};

static int read_stats(struct env *e, __u32 hook, __u64 sum[NSTAT])
{
	memset(sum, 0, NSTAT * sizeof(__u64));
	if (bpf_map_lookup_elem(e->stats_fd, &hook, e->percpu))
		return -errno;
	for (int cpu = 0; cpu < e->ncpus; cpu++) {
		const __u64 *v = (const __u64 *)&e->percpu[cpu];

		for (size_t i = 0; i < NSTAT; i++)
			sum[i] += v[i];
	}
	return 0;
}

/* 0, -EINVAL if the kernel refused the frame, other -errno; *retval. */
static int run(int fd, bool tc, const uint8_t *f, size_t len, int *retval,
	       bool *changed)
{
	static uint8_t out[PROBE_MAX + 256];
	struct __sk_buff skb = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int err;

	if (tc) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return err;
	*retval = (int)o.retval;
	*changed = o.data_size_out != len || memcmp(out, f, len);
	return 0;
}

static bool tc_refuses(const struct env *e, const uint8_t *f, size_t len)
{
	uint16_t type;

	if (len < ETH_HLEN || len > e->tc_max)
		return true;
	type = f[12] << 8 | f[13];
	return (type == 0x0800 && len < ETH_HLEN + 20) ||
	       (type == 0x86dd && len < ETH_HLEN + 40);
}

/* The longest non-IP frame tc's test run takes. */
static size_t probe_tc_max(struct env *e)
{
	static uint8_t f[PROBE_MAX];
	size_t lo = ETH_HLEN, hi = sizeof(f);
	bool changed;
	int rv;

	memset(f, 0, sizeof(f));
	f[12] = 0x88;
	f[13] = 0xb5;
	while (lo + 1 < hi) {
		size_t mid = (lo + hi) / 2;

		if (run(e->tc_fd, true, f, mid, &rv, &changed) == 0)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct env *e = ctx;
	const struct pm_event *ev = data;

	e->events++;
	if (size < sizeof(*ev) || ev->cap_len > PM_SNAP_LEN || ev->class >= PM_NCLASS ||
	    ev->kind >= PM_NKIND || ev->hook >= PM_NHOOK ||
	    ev->cap_len > ev->wire_len) {
		if (!e->bad_events++)
			snprintf(e->bad_event, sizeof(e->bad_event),
				 "size %zu cap_len %u wire_len %u class %u kind %u hook %u",
				 size, ev->cap_len, ev->wire_len, ev->class, ev->kind,
				 ev->hook);
	}
	return 0;
}

/* Read every destination, add up their counters, empty the table (no
 * program runs meanwhile). Returns the entries read, or -errno. */
static long drain_dests(struct env *e, __u64 pkts[PM_NCLASS], __u64 bytes[PM_NCLASS])
{
	int err = dests_read(&e->dm, &e->tab);

	if (err)
		return err;
	memset(pkts, 0, PM_NCLASS * sizeof(__u64));
	memset(bytes, 0, PM_NCLASS * sizeof(__u64));
	for (size_t i = 0; i < e->tab.n; i++)
		for (int c = 0; c < PM_NCLASS; c++) {
			pkts[c] += e->tab.vals[i].packets[c];
			bytes[c] += e->tab.vals[i].bytes[c];
		}
	dests_clear(&e->dm);
	return (long)e->tab.n;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

#define FIELD_IDX(f)	(offsetof(struct pm_stats, f) / sizeof(__u64))

int main(int argc, char **argv)
{
	static uint8_t frame[MAX_LEN + 64];
	__u64 x0[NSTAT], t0[NSTAT], x1[NSTAT], t1[NSTAT], xb[NSTAT], xa[NSTAT];
	__u64 only_xdp[NSTAT] = { 0 }, only_tc[NSTAT] = { 0 };	/* not compared */
	__u64 bx0[NSTAT], bt0[NSTAT];	/* at the start of a batch */
	uint64_t frames = 2000000, seed = 1, xdp_runs = 0, tc_runs = 0, nslots;
	uint64_t xdp_refused = 0, tc_refused = 0, dest_batches = 0, bad_verdict = 0;
	uint64_t dests_failed = 0;
	struct env e = { 0 };
	struct ring_buffer *rb = NULL;
	char why[256] = "";
	bool changed;
	double t_start, secs;
	int c, err, rv;

	while ((c = getopt(argc, argv, "n:s:v")) != -1) {
		switch (c) {
		case 'n': frames = strtoull(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'v': verbose = true; break;
		default:
			fprintf(stderr, "usage: fuzz_bpf_test [-n FRAMES] [-s SEED] [-v]\n");
			return 2;
		}
	}
	rng = seed * 2654435761u + 88172645463325252ull;

	if (geteuid() != 0) {
		printf("SKIP fuzz_bpf: needs root for BPF_PROG_TEST_RUN\n");
		return 0;
	}
	libbpf_set_print(libbpf_print);
	e.skel = protomix__open();
	if (!e.skel) {
		printf("FAIL fuzz_bpf: opening the skeleton: %s\n", strerror(errno));
		return 1;
	}
	nslots = dest_maps_size(e.skel, MAX_DESTS, seed ^ 0x70726f746f6d6978ull);
	if ((err = protomix__load(e.skel))) {
		printf("FAIL fuzz_bpf: loading the programs: %s (-v for the verifier log)\n",
		       strerror(-err));
		protomix__destroy(e.skel);
		return 1;
	}
	e.xdp_fd = bpf_program__fd(e.skel->progs.pm_xdp);
	e.tc_fd = bpf_program__fd(e.skel->progs.pm_tc_ingress);
	e.stats_fd = bpf_map__fd(e.skel->maps.stats);
	if (dest_maps_open_skel(&e.dm, e.skel, true) ||
	    dest_table_init(&e.tab, nslots)) {
		printf("FAIL fuzz_bpf: cannot map the destination table\n");
		return 1;
	}
	e.ncpus = libbpf_num_possible_cpus();
	e.percpu = calloc(e.ncpus > 0 ? e.ncpus : 1, sizeof(*e.percpu));
	rb = ring_buffer__new(bpf_map__fd(e.skel->maps.events), on_event, &e, NULL);
	if (!e.percpu || !rb) {
		printf("FAIL fuzz_bpf: setting up: %s\n", strerror(errno));
		return 1;
	}
	e.tc_max = probe_tc_max(&e);
	if (drain_dests(&e, (__u64[PM_NCLASS]){ 0 }, (__u64[PM_NCLASS]){ 0 }) < 0 ||
	    read_stats(&e, PM_HOOK_XDP, x0) || read_stats(&e, PM_HOOK_TC_INGRESS, t0)) {
		printf("FAIL fuzz_bpf: reading the maps: %s\n", strerror(errno));
		return 1;
	}
	memcpy(bx0, x0, sizeof(bx0));
	memcpy(bt0, t0, sizeof(bt0));

	t_start = now_s();
	for (uint64_t i = 0; i < frames; i++) {
		size_t len = next_frame(frame);
		/* Compared hook to hook: frames both run whole. For the others
		 * each hook's part is read apart and left out. */
		bool cmp = !tc_refuses(&e, frame, len) && len <= REPLAY_XDP_LINEAR;
		__u64 tb[NSTAT], ta[NSTAT];

		if (!cmp) {
			read_stats(&e, PM_HOOK_XDP, xb);
			read_stats(&e, PM_HOOK_TC_INGRESS, tb);
		}
		err = run(e.tc_fd, true, frame, len, &rv, &changed);
		if (err) {
			tc_refused++;
			if (err != -EINVAL || !tc_refuses(&e, frame, len))
				snprintf(why, sizeof(why), "tc: frame %llu (%zu bytes): %s",
					 (unsigned long long)i, len, strerror(-err));
		} else {
			tc_runs++;
			if (tc_refuses(&e, frame, len))
				snprintf(why, sizeof(why), "tc: frame %llu (%zu bytes) ran, expected EINVAL",
					 (unsigned long long)i, len);
			if (rv != TC_ACT_UNSPEC || changed)
				snprintf(why, sizeof(why), "tc: frame %llu (%zu bytes): returned %d%s",
					 (unsigned long long)i, len, rv, changed ? ", frame changed" : "");
		}
		err = run(e.xdp_fd, false, frame, len, &rv, &changed);
		if (err) {
			xdp_refused++;
			if (err != -EINVAL || len >= ETH_HLEN)
				snprintf(why, sizeof(why), "xdp: frame %llu (%zu bytes): %s",
					 (unsigned long long)i, len, strerror(-err));
		} else {
			xdp_runs++;
			if (len < ETH_HLEN)
				snprintf(why, sizeof(why), "xdp: frame %llu (%zu bytes) ran, expected EINVAL",
					 (unsigned long long)i, len);
			if (rv != XDP_PASS || changed)
				snprintf(why, sizeof(why), "xdp: frame %llu (%zu bytes): returned %d%s",
					 (unsigned long long)i, len, rv, changed ? ", frame changed" : "");
		}
		if (!cmp) {
			read_stats(&e, PM_HOOK_XDP, xa);
			read_stats(&e, PM_HOOK_TC_INGRESS, ta);
			for (size_t k = 0; k < NSTAT; k++) {
				only_xdp[k] += xa[k] - xb[k];
				only_tc[k] += ta[k] - tb[k];
			}
		}
		if (why[0] && !bad_verdict++) {
			fail("fuzz_bpf/verdicts", "%s; the frame: ", why);
			for (size_t k = 0; k < len && k < 96; k++)
				printf("%02x", frame[k]);
			printf("\n");
		}
		why[0] = 0;

		/* Every BATCH frames: the destinations against the counters. */
		if ((i + 1) % BATCH == 0 || i + 1 == frames) {
			__u64 pk[PM_NCLASS], by[PM_NCLASS];
			long n;

			ring_buffer__consume(rb);
			read_stats(&e, PM_HOOK_XDP, x1);
			read_stats(&e, PM_HOOK_TC_INGRESS, t1);
			size_t ip = FIELD_IDX(inner_packets);
			__u64 inner = x1[ip] - bx0[ip] + t1[ip] - bt0[ip];
			__u64 dest_total = 0, class_total = 0;

			n = drain_dests(&e, pk, by);
			dest_batches++;
			for (int k = 0; k < PM_NCLASS && n >= 0; k++) {
				size_t p = FIELD_IDX(class_packets[k]), b = FIELD_IDX(class_bytes[k]);
				__u64 wp = x1[p] - bx0[p] + t1[p] - bt0[p];
				__u64 wb = x1[b] - bx0[b] + t1[b] - bt0[b];

				dest_total += pk[k];
				class_total += wp;
				if (pk[k] < wp || by[k] < wb) {
					n = -1;
					snprintf(why, sizeof(why),
						 "%s: destinations hold %llu packets %llu bytes, the stats %llu %llu",
						 class_name(k), (unsigned long long)pk[k],
						 (unsigned long long)by[k], (unsigned long long)wp,
						 (unsigned long long)wb);
				}
			}
			if (n >= 0 && dest_total != class_total + inner) {
				snprintf(why, sizeof(why),
					 "destinations hold %llu packets, the classes %llu and inner_packets %llu",
					 (unsigned long long)dest_total, (unsigned long long)class_total,
					 (unsigned long long)inner);
				n = -1;
			}
			size_t nd = FIELD_IDX(new_dests);
			if (n >= 0 && (__u64)n != x1[nd] - bx0[nd] + t1[nd] - bt0[nd]) {
				snprintf(why, sizeof(why), "%ld destinations read, %llu inserted", n,
					 (unsigned long long)(x1[nd] - bx0[nd] + t1[nd] - bt0[nd]));
				n = -1;
			}
			if (n < 0) {
				if (!dests_failed++)
					fail("fuzz_bpf/dests", "batch %llu: %s",
					     (unsigned long long)dest_batches, why);
				why[0] = 0;
			}
			memcpy(bx0, x1, sizeof(bx0));
			memcpy(bt0, t1, sizeof(bt0));
		}
	}
	secs = now_s() - t_start;
	ring_buffer__consume(rb);

	if (!bad_verdict)
		printf("PASS fuzz_bpf/verdicts\n");
	read_stats(&e, PM_HOOK_XDP, x1);
	read_stats(&e, PM_HOOK_TC_INGRESS, t1);

	/* Per hook: every frame ends in exactly one class or reason. */
	const __u64 runs[2] = { xdp_runs, tc_runs };
	const __u64 *a[2] = { x1, t1 }, *b[2] = { x0, t0 };
	const char *names[2] = { "fuzz_bpf/xdp_accounting", "fuzz_bpf/tc_accounting" };

	for (int h = 0; h < 2; h++) {
		__u64 fr = a[h][FIELD_IDX(frames)] - b[h][FIELD_IDX(frames)], sum = 0;

		for (int k = 0; k < PM_NCLASS; k++)
			sum += a[h][FIELD_IDX(class_packets[k])] - b[h][FIELD_IDX(class_packets[k])];
		for (int k = 0; k < PM_NREASON; k++)
			sum += a[h][FIELD_IDX(reason[k])] - b[h][FIELD_IDX(reason[k])];
		__u64 tun = 0, inner = a[h][FIELD_IDX(inner_packets)] - b[h][FIELD_IDX(inner_packets)];

		for (int k = 0; k < PM_NCLASS; k++)
			if (PM_TUNNEL_CLASSES >> k & 1)
				tun += a[h][FIELD_IDX(class_packets[k])] - b[h][FIELD_IDX(class_packets[k])];
		for (int k = 0; k < PM_NREASON; k++)
			inner += a[h][FIELD_IDX(inner_reason[k])] - b[h][FIELD_IDX(inner_reason[k])];
		if (fr != runs[h] || sum != fr)
			fail(names[h], "%llu runs, frames %llu, classes + reasons %llu",
			     (unsigned long long)runs[h], (unsigned long long)fr,
			     (unsigned long long)sum);
		else if (tun != inner)
			fail(names[h], "tunnel classes %llu packets, inner_packets + inner reasons %llu",
			     (unsigned long long)tun, (unsigned long long)inner);
		else
			printf("PASS %s\n", names[h]);
	}

	/* XDP and tc agree on the frames both ran. */
	why[0] = 0;
	for (int k = 0; k < PM_NCLASS; k++) {
		size_t p = FIELD_IDX(class_packets[k]), by = FIELD_IDX(class_bytes[k]);

		if (x1[p] - x0[p] - only_xdp[p] != t1[p] - t0[p] - only_tc[p] ||
		    x1[by] - x0[by] - only_xdp[by] != t1[by] - t0[by] - only_tc[by])
			snprintf(why, sizeof(why), "%s: xdp %llu packets %llu bytes, tc %llu %llu",
				 class_name(k),
				 (unsigned long long)(x1[p] - x0[p] - only_xdp[p]),
				 (unsigned long long)(x1[by] - x0[by] - only_xdp[by]),
				 (unsigned long long)(t1[p] - t0[p] - only_tc[p]),
				 (unsigned long long)(t1[by] - t0[by] - only_tc[by]));
	}
	for (int k = 0; k < PM_NREASON; k++) {
		size_t r = FIELD_IDX(reason[k]);

		if (x1[r] - x0[r] - only_xdp[r] != t1[r] - t0[r] - only_tc[r])
			snprintf(why, sizeof(why), "%s: xdp %llu, tc %llu", reason_name(k),
				 (unsigned long long)(x1[r] - x0[r] - only_xdp[r]),
				 (unsigned long long)(t1[r] - t0[r] - only_tc[r]));
	}
	if (why[0])
		fail("fuzz_bpf/xdp_equals_tc", "%s", why);
	else
		printf("PASS fuzz_bpf/xdp_equals_tc\n");

	if (!dest_batches)
		printf("SKIP fuzz_bpf/dests: no frames\n");
	else if (!dests_failed)
		printf("PASS fuzz_bpf/dests\n");
	if (e.bad_events)
		fail("fuzz_bpf/events", "%llu of %llu malformed, e.g. %s",
		     (unsigned long long)e.bad_events, (unsigned long long)e.events,
		     e.bad_event);
	else
		printf("PASS fuzz_bpf/events\n");

	printf("# %llu frames (seed %llu) in %.1f s, %.0f frames/s: xdp ran %llu (refused %llu), "
	       "tc ran %llu (refused %llu, tc takes up to %zu bytes); %llu destination batches, %llu events\n",
	       (unsigned long long)frames, (unsigned long long)seed, secs, frames / secs,
	       (unsigned long long)xdp_runs, (unsigned long long)xdp_refused,
	       (unsigned long long)tc_runs, (unsigned long long)tc_refused, e.tc_max,
	       (unsigned long long)dest_batches, (unsigned long long)e.events);
	printf("# xdp classes:");
	for (int k = 0; k < PM_NCLASS; k++)
		printf(" %s %llu", class_name(k),
		       (unsigned long long)(x1[FIELD_IDX(class_packets[k])] - x0[FIELD_IDX(class_packets[k])]));
	printf("\n# xdp reasons:");
	for (int k = 0; k < PM_NREASON; k++)
		printf(" %s %llu", reason_name(k),
		       (unsigned long long)(x1[FIELD_IDX(reason[k])] - x0[FIELD_IDX(reason[k])]));
	printf("\n");

	ring_buffer__free(rb);
	free(e.percpu);
	protomix__destroy(e.skel);
	return failed ? 1 : 0;
}
