// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * bpf_parse_test: every case of tests/frames.c through pm_xdp,
 * pm_tc_ingress and pm_tc_egress with BPF_PROG_TEST_RUN, asserting on
 * the maps exactly: the verdict, the frame unchanged, the hook's stats
 * moved by one frame into the expected class or reason and nothing
 * else, and the destination's entry holding exactly the expected
 * packets and bytes in that class.
 *
 * One line per check: PASS name | FAIL name: why | SKIP name: why.
 * Usage: bpf_parse_test [-v] [CASE...]   (-v: libbpf's messages)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "protomix.h"
#include "protomix.skel.h"
#include "classes.h"
#include "frames.h"
#include "maps.h"
#include "check.h"

#define ETH_HLEN	14
#define TC_ACT_UNSPEC	(-1)
#define TEST_MAX_DESTS	1024	/* the tests need one at a time */

static bool verbose;
static int failed;

struct env {
	bool decap;			/* cfg_decap as loaded */
	struct protomix *skel;
	int stats_fd;
	struct dest_maps dm;		/* the destination table, writable */
	struct dest_table tab;
	int ncpus;
	struct pm_stats *percpu;	/* ncpus values */
};

/* A check collects its complaints; the first few are printed. */
/* libbpf speaks only with -v: the verifier log when a load fails. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return verbose ? vfprintf(stderr, fmt, ap) : 0;
}

/* ---- maps --------------------------------------------------------- */

#define NSTAT PM_STATS_NCOUNTERS

/* The name of the idx-th counter of struct pm_stats. */
static const char *stat_name(size_t idx, char *buf, size_t len)
{
	size_t off = idx * sizeof(__u64);

#define FIELD(f) offsetof(struct pm_stats, f)
#define IN(f, n) (off >= FIELD(f) && off < FIELD(f) + (n) * sizeof(__u64))
	if (off == FIELD(frames))
		return "frames";
	if (IN(class_packets, PM_NCLASS))
		snprintf(buf, len, "class_packets[%s]",
			 class_name((off - FIELD(class_packets)) / sizeof(__u64)));
	else if (IN(class_bytes, PM_NCLASS))
		snprintf(buf, len, "class_bytes[%s]",
			 class_name((off - FIELD(class_bytes)) / sizeof(__u64)));
	else if (IN(reason, PM_NREASON))
		snprintf(buf, len, "reason[%s]",
			 reason_name((off - FIELD(reason)) / sizeof(__u64)));
	else if (off == FIELD(vlan_frames))
		return "vlan_frames";
	else if (off == FIELD(new_dests))
		return "new_dests";
	else if (off == FIELD(dest_update_fail))
		return "dest_update_fail";
	else if (off == FIELD(gso_frames))
		return "gso_frames";
	else if (off == FIELD(inner_packets))
		return "inner_packets";
	else if (IN(inner_reason, PM_NREASON))
		snprintf(buf, len, "inner_reason[%s]",
			 reason_name((off - FIELD(inner_reason)) / sizeof(__u64)));
	else
		snprintf(buf, len, "stats[%zu]", idx);
#undef IN
#undef FIELD
	return buf;
}

/* The hook's counters summed over the CPUs. */
static int read_stats(struct env *env, __u32 hook, __u64 sum[NSTAT])
{
	memset(sum, 0, NSTAT * sizeof(__u64));
	if (bpf_map_lookup_elem(env->stats_fd, &hook, env->percpu))
		return -errno;
	for (int cpu = 0; cpu < env->ncpus; cpu++) {
		const __u64 *v = (const __u64 *)&env->percpu[cpu];

		for (size_t i = 0; i < NSTAT; i++)
			sum[i] += v[i];
	}
	return 0;
}

static int clear_dests(struct env *env)
{
	dests_clear(&env->dm);
	return 0;
}

static const char *key_str(const __u8 *addr, char *buf, size_t len)
{
	static const __u8 v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (memcmp(addr, v4mapped, 12) == 0)
		inet_ntop(AF_INET, addr + 12, buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
	return buf;
}

/* ---- one run ------------------------------------------------------ */

struct run {
	__u32 hook;		/* enum pm_hook */
	__u32 gso_segs;		/* tc: 0 for a plain skb */
	const struct frame_addrs *addrs;	/* aim the case elsewhere */
};

static int prog_fd(struct env *env, __u32 hook)
{
	switch (hook) {
	case PM_HOOK_XDP:	 return bpf_program__fd(env->skel->progs.pm_xdp);
	case PM_HOOK_TC_INGRESS: return bpf_program__fd(env->skel->progs.pm_tc_ingress);
	default:		 return bpf_program__fd(env->skel->progs.pm_tc_egress);
	}
}

/* Runs the frame once: the verdict, and the frame unchanged. */
static void test_run(struct env *env, const struct run *r, const __u8 *frame,
		     int len, struct check *ck)
{
	__u8 out[FRAME_MAX_LEN + 64];
	struct __sk_buff skb = { .gso_segs = r->gso_segs };
	__u32 want = XDP_PASS;
	int err;

	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .repeat = 1);
	if (r->hook != PM_HOOK_XDP) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
		want = (__u32)TC_ACT_UNSPEC;
	}

	err = bpf_prog_test_run_opts(prog_fd(env, r->hook), &o);
	if (err) {
		complain(ck, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		return;
	}
	if (o.retval != want)
		complain(ck, "returned %d, want %d", (int)o.retval, (int)want);
	if (o.data_size_out != (__u32)len || memcmp(out, frame, len))
		complain(ck, "frame changed (%u bytes out of %d)", o.data_size_out, len);
}

/* Frames BPF_PROG_TEST_RUN refuses (EINVAL) before any program runs:
 * shorter than an Ethernet header (XDP and tc), and at tc an untagged
 * IPv4 or IPv6 frame shorter than its fixed IP header. */
static const char *unrunnable(__u32 hook, const __u8 *frame, int len)
{
	__u16 type;

	if (len < ETH_HLEN)
		return "BPF_PROG_TEST_RUN takes no frame shorter than an Ethernet header";
	if (hook == PM_HOOK_XDP)
		return NULL;
	type = frame[12] << 8 | frame[13];
	if (type == 0x0800 && len < ETH_HLEN + 20)
		return "BPF_PROG_TEST_RUN takes no IPv4 skb shorter than an IPv4 header";
	if (type == 0x86dd && len < ETH_HLEN + 40)
		return "BPF_PROG_TEST_RUN takes no IPv6 skb shorter than an IPv6 header";
	return NULL;
}

/* What one destination must hold after the case: packets and bytes in
 * one class, and the tunnels its packets came inside (PM_D_VIA bits). */
struct want_dest {
	bool set;
	__u8 key[16];
	int class;
	__u64 packets, bytes;
	__u32 via;
};

static void check_dest(const struct pm_dest_key *key, const struct pm_dest *d,
		       const struct want_dest *w, struct check *ck)
{
	char b1[64];

	for (int k = 0; k < PM_NCLASS; k++) {
		__u64 wp = k == w->class ? w->packets : 0;
		__u64 wb = k == w->class ? w->bytes : 0;

		if (d->packets[k] != wp || d->bytes[k] != wb)
			complain(ck, "%s: %s %llu packets %llu bytes, want %llu %llu",
				 key_str(key->addr, b1, sizeof(b1)), class_name(k),
				 (unsigned long long)d->packets[k],
				 (unsigned long long)d->bytes[k],
				 (unsigned long long)wp, (unsigned long long)wb);
	}
	if ((d->flags & PM_D_VIA_MASK) != w->via)
		complain(ck, "%s: flags 0x%x, want tunnel bits 0x%x",
			 key_str(key->addr, b1, sizeof(b1)), d->flags, w->via);
	if (!d->first_seen || d->last_seen != d->first_seen)
		complain(ck, "%s: first_seen %llu last_seen %llu",
			 key_str(key->addr, b1, sizeof(b1)),
			 (unsigned long long)d->first_seen,
			 (unsigned long long)d->last_seen);
}

/* Runs a case through one hook and checks the maps: the outer packet as
 * the case says, and with --decap (env->decap) the packet inside a
 * tunnel in the inner counters and under its own destination. */
static void check_case(struct env *env, const struct frame_case *c,
		       const struct run *r, const char *name)
{
	__u64 before[NSTAT], after[NSTAT];
	struct pm_stats want_st = { 0 };
	const __u64 *want = (const __u64 *)&want_st;
	__u8 frame[FRAME_MAX_LEN];
	struct pm_stats *w = &want_st;
	struct check ck = { .n = 0 };
	__u32 segs = r->gso_segs > 1 ? r->gso_segs : 1;
	__u64 bytes = c->bytes + (__u64)(segs - 1) * c->hdr_len;
	struct want_dest wd[2] = { { .set = false } };
	bool decap = env->decap && c->decap;
	int len, err;
	char b1[64];

	len = frame_case_build(c, r->addrs, frame, sizeof(frame));
	if (len < 0) {
		complain(&ck, "frame_build failed");
		failed += report(name, &ck);
		return;
	}
	if ((err = clear_dests(env)) || (err = read_stats(env, r->hook, before))) {
		complain(&ck, "maps: %s", strerror(-err));
		failed += report(name, &ck);
		return;
	}

	test_run(env, r, frame, len, &ck);

	/* The stats moved by this frame and by nothing else. */
	w->frames = 1;
	w->vlan_frames = c->vlans ? 1 : 0;
	if (c->class >= 0) {
		w->class_packets[c->class] = segs;
		w->class_bytes[c->class] = bytes;
		w->new_dests = 1;
		w->gso_frames = segs > 1;
		wd[0] = (struct want_dest){ .set = true, .class = c->class,
					    .packets = segs, .bytes = bytes };
		frame_case_dst(c, r->addrs, wd[0].key);
	} else {
		w->reason[c->reason] = 1;
	}
	if (decap && c->inner_class >= 0) {
		w->inner_packets = segs;
		wd[1] = (struct want_dest){ .set = true, .class = c->inner_class,
					    .packets = segs, .bytes = c->inner_bytes,
					    .via = PM_D_VIA(c->class) };
		frame_case_inner_dst(c, r->addrs, wd[1].key);
		w->new_dests++;
	} else if (decap) {
		w->inner_reason[c->inner_reason] = segs;
	}
	if ((err = read_stats(env, r->hook, after))) {
		complain(&ck, "stats: %s", strerror(-err));
	} else {
		for (size_t i = 0; i < NSTAT; i++)
			if (after[i] - before[i] != want[i])
				complain(&ck, "%s moved by %llu, want %llu",
					 stat_name(i, b1, sizeof(b1)),
					 (unsigned long long)(after[i] - before[i]),
					 (unsigned long long)want[i]);
	}

	/* The destinations' entries: their class only, exactly. */
	dests_read(&env->dm, &env->tab);
	for (size_t e = 0; e < env->tab.n; e++) {
		const struct pm_dest_key key = env->tab.keys[e];
		const struct pm_dest d = env->tab.vals[e];
		int k;

		for (k = 0; k < 2; k++)
			if (wd[k].set && !memcmp(key.addr, wd[k].key, 16))
				break;
		if (k == 2) {
			complain(&ck, "dests has %s", key_str(key.addr, b1, sizeof(b1)));
			continue;
		}
		check_dest(&key, &d, &wd[k], &ck);
		wd[k].set = false;	/* found */
	}
	for (int k = 0; k < 2; k++)
		if (wd[k].set)
			complain(&ck, "dests has no entry for %s",
				 key_str(wd[k].key, b1, sizeof(b1)));
	failed += report(name, &ck);
}

/* The table agrees with the frames it describes. */
static void check_table(const struct frame_case *c)
{
	__u8 frame[FRAME_MAX_LEN];
	struct check ck = { .n = 0 };
	__u8 key[16];
	char name[96];
	int len, l3;

	snprintf(name, sizeof(name), "frames/%s", c->name);
	len = frame_case_build(c, NULL, frame, sizeof(frame));
	l3 = frame_l3_offset(&c->spec);
	if (len < 0)
		complain(&ck, "frame_build failed");
	else if ((c->class < 0) == (c->reason < 0))
		complain(&ck, "wants one of class and reason");
	else if (c->class >= 0 && !c->spec.pad_to &&
		 (len - l3 < 0 || (__u32)(len - l3) != c->bytes))
		complain(&ck, "the table says %u bytes, the frame has %d from the IP header",
			 c->bytes, len - l3);
	else if (c->class < 0 && c->bytes)
		complain(&ck, "a reason counts no bytes");
	else if (c->decap != (c->class >= 0 && (PM_TUNNEL_CLASSES >> c->class & 1)))
		complain(&ck, "a tunnel class wants an inner outcome, no other case one");
	else if (c->decap && (c->inner_class < 0) == (c->inner_reason < 0))
		complain(&ck, "wants one of inner class and inner reason");
	else if (c->decap && c->inner_class >= 0 && !frame_case_inner_dst(c, NULL, key))
		complain(&ck, "an inner class wants an inner packet");
	failed += report(name, &ck);
}

/* Open and load the programs with cfg_decap = decap and map their
 * tables. 0, or 1 with a FAIL line printed. */
static int env_open(struct env *env, bool decap)
{
	int err;

	env->decap = decap;
	env->skel = protomix__open();
	if (!env->skel) {
		printf("FAIL bpf_parse: opening the skeleton: %s\n", strerror(errno));
		return 1;
	}
	env->skel->rodata->cfg_decap = decap;
	dest_maps_size(env->skel, TEST_MAX_DESTS, 0x70726f746f6d6978ull);
	err = protomix__load(env->skel);
	if (err) {
		printf("FAIL bpf_parse: loading the programs: %s (-v shows the verifier log)\n",
		       strerror(-err));
		protomix__destroy(env->skel);
		return 1;
	}
	env->stats_fd = bpf_map__fd(env->skel->maps.stats);
	if (dest_maps_open_skel(&env->dm, env->skel, true) ||
	    dest_table_init(&env->tab, TEST_MAX_DESTS)) {
		printf("FAIL bpf_parse: cannot map the destination table\n");
		protomix__destroy(env->skel);
		return 1;
	}
	env->ncpus = libbpf_num_possible_cpus();
	env->percpu = env->ncpus > 0 ? calloc(env->ncpus, sizeof(*env->percpu)) : NULL;
	if (!env->percpu) {
		printf("FAIL bpf_parse: cannot size the per-CPU stats\n");
		protomix__destroy(env->skel);
		return 1;
	}
	return 0;
}

static void env_close(struct env *env)
{
	free(env->percpu);
	protomix__destroy(env->skel);
}

/* ---- main --------------------------------------------------------- */

static bool wanted(const char *name, int argc, char **argv)
{
	if (argc == 0)
		return true;
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const char *gso_cases[] = { "tcp4", "tcp4_opts", "hop_dst_tcp6" };
	static const __u32 hooks[] = { PM_HOOK_XDP, PM_HOOK_TC_INGRESS, PM_HOOK_TC_EGRESS };
	struct env env = { 0 };
	char name[96];

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = true;
		argc--, argv++;
	}
	argc--, argv++;
	for (int i = 0; i < argc; i++)
		if (!frame_case_find(argv[i])) {
			fprintf(stderr, "bpf_parse_test: unknown case '%s'\n", argv[i]);
			return 2;
		}

	libbpf_set_print(libbpf_print);
	for (size_t i = 0; i < frame_ncases; i++)
		if (wanted(frame_cases[i].name, argc, argv))
			check_table(&frame_cases[i]);

	if (geteuid() != 0) {
		printf("SKIP bpf_parse: needs root for BPF_PROG_TEST_RUN\n");
		return failed ? 1 : 0;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL) != 1 ||
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) != 1) {
		printf("SKIP bpf_parse: this kernel cannot load XDP and tc programs\n");
		return failed ? 1 : 0;
	}

	if (env_open(&env, true))
		return 1;
	for (size_t i = 0; i < frame_ncases; i++) {
		const struct frame_case *c = &frame_cases[i];

		if (!wanted(c->name, argc, argv))
			continue;
		for (size_t h = 0; h < sizeof(hooks) / sizeof(hooks[0]); h++) {
			struct run r = { .hook = hooks[h] };
			__u8 frame[FRAME_MAX_LEN];
			const char *why;
			int len;

			snprintf(name, sizeof(name), "%s/%s", hook_name(r.hook), c->name);
			len = frame_case_build(c, NULL, frame, sizeof(frame));
			if (len >= 0 && (why = unrunnable(r.hook, frame, len))) {
				printf("SKIP %s: %s\n", name, why);
				continue;
			}
			check_case(&env, c, &r, name);
		}
	}

	/* At tc a GSO packet stands for gso_segs wire packets, each with the
	 * headers: len + (segs - 1) * header length. */
	for (size_t i = 0; i < sizeof(gso_cases) / sizeof(gso_cases[0]); i++) {
		const struct frame_case *c = frame_case_find(gso_cases[i]);
		struct run r = { .hook = PM_HOOK_TC_INGRESS, .gso_segs = 4 };

		if (!c || !wanted(c->name, argc, argv))
			continue;
		snprintf(name, sizeof(name), "tc_ingress/%s/gso_segs_4", c->name);
		check_case(&env, c, &r, name);
	}

	/* A case aimed elsewhere (as sendframes --dst does) counts under the
	 * new destination; an IPv4 address leaves the IPv6 cases alone. */
	struct frame_addrs aim = {
		.has_dst_mac = true, .dst_mac = { 0x02, 0, 0x5e, 0, 0, 0x01 },
		.has_src4 = true, .src4 = { 192, 0, 2, 10 },
		.has_dst4 = true, .dst4 = { 192, 0, 2, 80 },
	};
	static const char *aim_cases[] = { "esp4", "esp_udp4", "tcp6" };

	for (size_t i = 0; i < sizeof(aim_cases) / sizeof(aim_cases[0]); i++) {
		const struct frame_case *c = frame_case_find(aim_cases[i]);
		struct run r = { .hook = PM_HOOK_XDP, .addrs = &aim };

		if (!c || !wanted(c->name, argc, argv))
			continue;
		snprintf(name, sizeof(name), "xdp/%s/with_dst_192.0.2.80", c->name);
		check_case(&env, c, &r, name);
	}
	aim = (struct frame_addrs){
		.has_dst6 = true,
		.dst6 = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x99, [15] = 0x80 },
	};
	snprintf(name, sizeof(name), "xdp/esp6/with_dst_2001:db8:99::80");
	if (wanted("esp6", argc, argv)) {
		struct run r = { .hook = PM_HOOK_XDP, .addrs = &aim };

		check_case(&env, frame_case_find("esp6"), &r, name);
	}

	printf("SKIP tc_ingress/vlan_tci: BPF_PROG_TEST_RUN cannot put an outer "
	       "VLAN tag in skb metadata\n");
	env_close(&env);

	/* --no-decap: a tunnel counts under its outer destination only, and
	 * the inner counters stay at zero. */
	if (env_open(&env, false))
		return 1;
	for (size_t i = 0; i < frame_ncases; i++) {
		const struct frame_case *c = &frame_cases[i];

		if (!c->decap || !wanted(c->name, argc, argv))
			continue;
		for (size_t h = 0; h < 2; h++) {
			struct run r = { .hook = hooks[h] };

			snprintf(name, sizeof(name), "%s/%s/no_decap", hook_name(r.hook), c->name);
			check_case(&env, c, &r, name);
		}
	}
	env_close(&env);
	return failed ? 1 : 0;
}
