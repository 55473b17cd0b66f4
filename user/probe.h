/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel features protomix's BPF programs need, probed at start-up
 * with small programs and maps of our own (nothing is attached, nothing
 * is left): a kernel that lacks one is named in one line, with the
 * version that brought it, instead of a libbpf or verifier error.
 */
#ifndef PM_PROBE_H
#define PM_PROBE_H

/* Before the skeleton loads (observer_open): 0 when every required
 * feature is there; else one line on stderr naming the first one missing
 * (or why nothing could be probed: permissions, no bpf()) and
 * EXIT_RUNTIME. Optional features (tcx) are only reported with -v. */
int probe_require(void);

/* `protomix check`: every feature, yes or no, with the kernel version
 * that brought it. Exit status 0 when every required one is there, 1
 * when one is missing or nothing could be probed, 2 for bad usage. */
int cmd_check(int argc, char **argv);

#endif
