// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Start-up probe of the kernel features the BPF programs need (probe.h).
 * Each feature is asked of the kernel itself, the way the programs use
 * it: libbpf's probes where libbpf has one (map types, helpers), a small
 * program of our own where it has none (atomics, global functions with
 * pointer arguments). Every probe program and map is closed at once;
 * nothing is attached. The programs are XDP programs, like pm_xdp.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "probe.h"
#include "util.h"

/* Linux UAPI values that Debian 12's headers (6.1) do not have yet. */
#define PROBE_BPF_TCX_INGRESS	46	/* enum bpf_attach_type, 6.6 */

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* The instructions of the probe programs (as the kernel's filter.h
 * writes them). */
#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define MOV64_IMM(d, i)		INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s)		INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define ADD64_IMM(d, i)		INSN(BPF_ALU64 | BPF_ADD | BPF_K, d, 0, 0, i)
#define ST_DW(d, o, i)		INSN(BPF_ST | BPF_MEM | BPF_DW, d, 0, o, i)
#define LDX_W(d, s, o)		INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define ATOMIC_DW(op, d, s, o)	INSN(BPF_STX | BPF_ATOMIC | BPF_DW, d, s, o, op)
#define JEQ_IMM(d, i, o)	INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define CALL_LOCAL(o)		INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, o)
#define EXIT()			INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

#define XDP_PASS_	2

/* An XDP program: a file descriptor (closed by the caller), or -errno. */
static int load_xdp(const struct bpf_insn *insns, size_t n,
		    const struct bpf_prog_load_opts *opts)
{
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "pm_probe", "Dual BSD/GPL",
			       insns, n, opts);

	return fd < 0 ? -errno : fd;
}

/* 1 when the program loads, 0 when the kernel refuses it. */
static int loads(const struct bpf_insn *insns, size_t n,
		 const struct bpf_prog_load_opts *opts)
{
	int fd = load_xdp(insns, n, opts);

	if (fd < 0) {
		pm_dbg("probe program refused: %s", strerror(-fd));
		return 0;
	}
	close(fd);
	return 1;
}

static int helper(enum bpf_func_id id)
{
	return libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, id, NULL) == 1;
}

static int has_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

static int has_ringbuf(void)
{
	return libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
}

/* An array created BPF_F_MMAPABLE and mapped shared, as the destination
 * table is (user/maps.c). */
static int has_mmapable(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_MMAPABLE);
	long page = sysconf(_SC_PAGESIZE);
	void *mem;
	int fd, ok = 0;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pm_probe", 4, 8, 1, &o);
	if (fd < 0)
		return 0;
	mem = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem != MAP_FAILED) {
		ok = 1;
		munmap(mem, page);
	}
	close(fd);
	return ok;
}

/* Fetch-and-add, -or, -and, -xor and compare-and-exchange on a stack
 * word: what __sync_fetch_and_* and __sync_val_compare_and_swap compile
 * to with -mcpu=v3. Before 5.12 only the plain add (BPF_XADD) exists. */
static int has_atomics(void)
{
	const struct bpf_insn p[] = {
		ST_DW(BPF_REG_10, -8, 0),
		MOV64_IMM(BPF_REG_1, 1),
		ATOMIC_DW(BPF_ADD | BPF_FETCH, BPF_REG_10, BPF_REG_1, -8),
		ATOMIC_DW(BPF_OR | BPF_FETCH, BPF_REG_10, BPF_REG_1, -8),
		ATOMIC_DW(BPF_AND | BPF_FETCH, BPF_REG_10, BPF_REG_1, -8),
		ATOMIC_DW(BPF_XOR | BPF_FETCH, BPF_REG_10, BPF_REG_1, -8),
		MOV64_IMM(BPF_REG_0, 0),
		ATOMIC_DW(BPF_CMPXCHG, BPF_REG_10, BPF_REG_1, -8),
		MOV64_IMM(BPF_REG_0, XDP_PASS_),
		EXIT(),
	};

	return loads(p, ARRAY_LEN(p), NULL);
}

/* BTF for global_ptr: struct s { int x; }; int sub(struct s *p) global,
 * int main(void *ctx). Type ids in *main_id and *sub_id. */
static struct btf *global_ptr_btf(int *main_id, int *sub_id)
{
	struct btf *btf = btf__new_empty();
	int int_id, s_id, ptr_id, vptr_id, proto;

	if (!btf)
		return NULL;
	int_id = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	s_id = btf__add_struct(btf, "pm_probe_s", 4);
	if (int_id < 0 || s_id < 0 || btf__add_field(btf, "x", int_id, 0, 0))
		goto fail;
	ptr_id = btf__add_ptr(btf, s_id);
	vptr_id = btf__add_ptr(btf, 0);
	proto = btf__add_func_proto(btf, int_id);
	if (ptr_id < 0 || vptr_id < 0 || proto < 0 ||
	    btf__add_func_param(btf, "p", ptr_id))
		goto fail;
	*sub_id = btf__add_func(btf, "pm_probe_sub", BTF_FUNC_GLOBAL, proto);
	proto = btf__add_func_proto(btf, int_id);
	if (*sub_id < 0 || proto < 0 || btf__add_func_param(btf, "ctx", vptr_id))
		goto fail;
	*main_id = btf__add_func(btf, "pm_probe_main", BTF_FUNC_GLOBAL, proto);
	if (*main_id < 0 || btf__load_into_kernel(btf))
		goto fail;
	return btf;
fail:
	btf__free(btf);
	return NULL;
}

/* A global function (verified on its own, as dest_insert and parse_skb
 * are) taking a pointer to a struct on the caller's stack. Before 5.12 a
 * global function takes the context and scalars only. */
static int has_global_ptr(void)
{
	enum { SUB = 6 };	/* the subprogram's first instruction */
	const struct bpf_insn p[] = {
		ST_DW(BPF_REG_10, -8, 0),
		MOV64_REG(BPF_REG_1, BPF_REG_10),
		ADD64_IMM(BPF_REG_1, -8),
		CALL_LOCAL(SUB - 4),
		MOV64_IMM(BPF_REG_0, XDP_PASS_),
		EXIT(),
		/* SUB: return p ? p->x : 0 */
		MOV64_IMM(BPF_REG_0, 0),
		JEQ_IMM(BPF_REG_1, 0, 1),
		LDX_W(BPF_REG_0, BPF_REG_1, 0),
		EXIT(),
	};
	struct bpf_func_info fi[2] = { { .insn_off = 0 }, { .insn_off = SUB } };
	int main_id = 0, sub_id = 0, ok;
	struct btf *btf = global_ptr_btf(&main_id, &sub_id);
	LIBBPF_OPTS(bpf_prog_load_opts, o, .func_info = fi, .func_info_cnt = 2,
		    .func_info_rec_size = sizeof(fi[0]));

	if (!btf)
		return 0;
	fi[0].type_id = main_id;
	fi[1].type_id = sub_id;
	o.prog_btf_fd = btf__fd(btf);
	ok = loads(p, ARRAY_LEN(p), &o);
	btf__free(btf);
	return ok;
}

static int has_coarse_clock(void)
{
	return helper(BPF_FUNC_ktime_get_coarse_ns);
}

static int has_jiffies64(void)
{
	return helper(BPF_FUNC_jiffies64);
}

/* tcx: a query of the loopback's tcx ingress (nothing attached, nothing
 * changed) succeeds from 6.6; before, the attach type is unknown. */
static int has_tcx(void)
{
	unsigned int lo = if_nametoindex("lo");
	__u32 flags = 0, cnt = 0;

	return !bpf_prog_query(lo ? (int)lo : 1, PROBE_BPF_TCX_INGRESS, 0,
			       &flags, NULL, &cnt);
}

struct feature {
	const char *name;	/* short, for PROTOMIX_PROBE_MISSING */
	const char *what;
	const char *since;	/* the Linux version that brought it */
	bool optional;		/* protomix does without it */
	int (*has)(void);	/* 1 yes, 0 no */
};

static const struct feature features[] = {
	{ "btf", "kernel BTF (/sys/kernel/btf/vmlinux), for CO-RE", "5.4", false, has_btf },
	{ "mmapable", "mmapable BPF arrays (BPF_F_MMAPABLE)", "5.5", false, has_mmapable },
	{ "jiffies64", "bpf_jiffies64 helper", "5.6", false, has_jiffies64 },
	{ "ringbuf", "BPF ring buffer (BPF_MAP_TYPE_RINGBUF)", "5.8", false, has_ringbuf },
	{ "coarse_ns", "bpf_ktime_get_coarse_ns helper", "5.11", false, has_coarse_clock },
	{ "atomics", "fetch-and-add/or/and/xor and cmpxchg atomics", "5.12", false, has_atomics },
	{ "global_ptr", "global functions with pointer arguments", "5.12", false, has_global_ptr },
	{ "tcx", "tcx links (before: classic clsact tc filters)", "6.6", true, has_tcx },
};

/* "5.12" as 5012, to compare versions. */
static int version_code(const char *v)
{
	int major = 0, minor = 0;

	sscanf(v, "%d.%d", &major, &minor);
	return major * 1000 + minor;
}

/* The oldest kernel with every required feature. */
static const char *floor_version(void)
{
	const char *v = "0.0";

	for (size_t i = 0; i < ARRAY_LEN(features); i++)
		if (!features[i].optional &&
		    version_code(features[i].since) > version_code(v))
			v = features[i].since;
	return v;
}

/* PROTOMIX_PROBE_MISSING=NAME: tests only, the message path of a missing
 * feature on a kernel that has it (the probe itself is not run). */
static int probe_one(const struct feature *f)
{
	const char *pretend = getenv("PROTOMIX_PROBE_MISSING");

	if (pretend && !strcmp(pretend, f->name))
		return 0;
	return f->has();
}

/* Whether bpf() takes a program at all: 0, or the exit status with the
 * reason reported (no BPF, no permission), since every probe would then
 * answer "no" for the wrong reason. */
static int probe_base(void)
{
	const struct bpf_insn p[] = { MOV64_IMM(BPF_REG_0, XDP_PASS_), EXIT() };
	int fd = load_xdp(p, ARRAY_LEN(p), NULL);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (fd == -EPERM || fd == -EACCES)
		pm_err("permission denied loading a BPF program: run as root, or with "
		       "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON");
	else if (fd == -ENOSYS)
		pm_err("this kernel has no BPF support (bpf() returned ENOSYS)");
	else
		pm_err("cannot load a minimal XDP program: %s", strerror(-fd));
	return EXIT_RUNTIME;
}

static const char *kernel_release(struct utsname *u)
{
	return uname(u) ? "?" : u->release;
}

int probe_require(void)
{
	struct utsname u;
	int rc = probe_base();

	if (rc)
		return rc;
	for (size_t i = 0; i < ARRAY_LEN(features); i++) {
		const struct feature *f = &features[i];

		if (probe_one(f))
			continue;
		if (f->optional) {
			pm_dbg("this kernel has no %s (Linux %s): doing without",
			       f->what, f->since);
			continue;
		}
		pm_err("this kernel (%s) has no %s, which came with Linux %s: "
		       "protomix needs Linux %s or later (`protomix check` lists what it needs)",
		       kernel_release(&u), f->what, f->since, floor_version());
		return EXIT_RUNTIME;
	}
	return 0;
}

static void check_usage(FILE *f)
{
	fprintf(f,
"usage: protomix check\n"
"Probe the kernel for every BPF feature protomix uses: one line each,\n"
"  yes|no  NAME  WHAT  Linux VERSION (the version that brought it)\n"
"Optional features are marked so; protomix does without them.\n"
"Exit status: 0 every required feature is there, 1 one is missing (or\n"
"nothing could be probed: permissions), 2 bad usage.\n");
}

int cmd_check(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, missing = 0;
	struct utsname u;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		if (c == 'h') {
			check_usage(stdout);
			return 0;
		}
		pm_err("check: unknown option '%s' (see protomix check --help)",
		       argv[optind - 1]);
		return EXIT_USAGE;
	}
	if (optind < argc) {
		pm_err("check: takes no arguments (see protomix check --help)");
		return EXIT_USAGE;
	}
	pm_libbpf_quiet();
	if (probe_base())
		return EXIT_RUNTIME;
	printf("kernel %s\n", kernel_release(&u));
	for (size_t i = 0; i < ARRAY_LEN(features); i++) {
		const struct feature *f = &features[i];
		bool yes = probe_one(f);

		printf("%-3s  %-10s  %-48s  Linux %s%s\n", yes ? "yes" : "no",
		       f->name, f->what, f->since, f->optional ? " (optional)" : "");
		missing += !yes && !f->optional;
	}
	if (missing)
		printf("%d required feature%s missing: protomix needs Linux %s or later\n",
		       missing, missing > 1 ? "s" : "", floor_version());
	else
		printf("every required feature is there (protomix needs Linux %s or later)\n",
		       floor_version());
	return missing ? EXIT_RUNTIME : 0;
}
