// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmbench jitlines ID: where a loaded BPF program's machine code comes
 * from, one line per line of source the compiler recorded:
 *     ADDRESS FILE:LINE SOURCE-TEXT
 * ADDRESS is the kernel address of the JIT'd code the line begins at (the
 * program's jited line info, functions and subprograms included), FILE
 * and SOURCE-TEXT come from the program's BTF line info. bench/profile.sh
 * maps perf's sample addresses to these lines: a profile of the programs
 * by line of C, where bpftool cannot disassemble (built without libbfd).
 * Where each function's code ends, a line "ADDRESS <end>": an address
 * from there to the next line's is not the program's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "bench.h"

static const char *base_name(const char *path)
{
	const char *b = path ? strrchr(path, '/') : NULL;

	return b ? b + 1 : path ? path : "?";
}

/* Print the lines of the program with id `id`; 0, or 1 on a failure. */
static int print_lines(__u32 id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), n, nf;
	struct bpf_line_info *li = NULL;
	struct btf *btf = NULL;
	__u64 *jli = NULL, *ksyms = NULL;
	__u32 *flens = NULL;
	int fd, rc = 1;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		bench_err("program %u: %s", id, strerror(errno));
		return 1;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		bench_err("program %u: no information: %s", id, strerror(errno));
		goto out;
	}
	n = info.nr_line_info < info.nr_jited_line_info ? info.nr_line_info
							 : info.nr_jited_line_info;
	if (!n || info.line_info_rec_size < sizeof(*li)) {
		bench_err("program %u has no line information (no BTF, or not JIT'd)", id);
		goto out;
	}
	nf = info.nr_jited_ksyms < info.nr_jited_func_lens ? info.nr_jited_ksyms
							    : info.nr_jited_func_lens;
	li = calloc(n, info.line_info_rec_size);
	jli = calloc(n, sizeof(*jli));
	ksyms = calloc(nf + 1, sizeof(*ksyms));
	flens = calloc(nf + 1, sizeof(*flens));
	if (!li || !jli || !ksyms || !flens) {
		bench_err("out of memory");
		goto out;
	}
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf) {
		bench_err("program %u: its BTF: %s", id, strerror(errno));
		goto out;
	}
	{
		struct bpf_prog_info q = {
			.nr_line_info = n,
			.line_info_rec_size = info.line_info_rec_size,
			.line_info = (__u64)(unsigned long)li,
			.nr_jited_line_info = n,
			.jited_line_info_rec_size = sizeof(*jli),
			.jited_line_info = (__u64)(unsigned long)jli,
			.nr_jited_ksyms = nf,
			.jited_ksyms = (__u64)(unsigned long)ksyms,
			.nr_jited_func_lens = nf,
			.jited_func_lens = (__u64)(unsigned long)flens,
		};

		len = sizeof(q);
		if (bpf_obj_get_info_by_fd(fd, &q, &len)) {
			bench_err("program %u: its line information: %s", id, strerror(errno));
			goto out;
		}
	}
	for (__u32 i = 0; i < n; i++) {
		const struct bpf_line_info *l =
			(const void *)((const char *)li + (size_t)i * info.line_info_rec_size);
		const char *text = btf__name_by_offset(btf, l->line_off);

		printf("%llx %s:%u %s\n", (unsigned long long)jli[i],
		       base_name(btf__name_by_offset(btf, l->file_name_off)),
		       BPF_LINE_INFO_LINE_NUM(l->line_col), text ? text : "");
	}
	for (__u32 i = 0; i < nf; i++)
		printf("%llx <end>\n", (unsigned long long)(ksyms[i] + flens[i]));
	rc = 0;
out:
	btf__free(btf);
	free(ksyms);
	free(flens);
	free(jli);
	free(li);
	close(fd);
	return rc;
}

int cmd_jitlines(int argc, char **argv)
{
	int rc = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout, "usage: pmbench jitlines PROG_ID...\n");
		return argc < 2 ? 2 : 0;
	}
	for (int i = 1; i < argc; i++)
		rc |= print_lines((__u32)arg_u64("PROG_ID", argv[i], 1, UINT32_MAX));
	return rc;
}
