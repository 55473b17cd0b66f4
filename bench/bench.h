/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * pmbench: the C side of `make bench` (bench/run.sh drives it).
 *
 *   pmbench xdp        per-packet cost of pm_xdp and the baselines
 *                      (BPF_PROG_TEST_RUN)                      xdp_cost.c
 *   pmbench live       frames per second through a veth pair, generated
 *                      in live-frame mode                        live.c
 *   pmbench poll       reading the dests map at 10k, 100k, 1M
 *                      destinations; kernel memory per destination poll.c
 *   pmbench pcap       a capture of many destinations for `protomix replay`
 *                      pcap.c
 *   pmbench rules      reading 65,536 rules, filling the trie, reloading
 *                      them (bench/rules.sh)                  rules_cost.c
 *   pmbench stats-hold keep BPF run-time statistics on while it lives
 *   pmbench tap-hold   time the kernel spends in tpacket_rcv (tcpdump's
 *                      ring) while it lives                      pmbench.c
 *   pmbench jitlines   a loaded program's JIT'd addresses by line of
 *                      source (bench/profile.sh)               jitlines.c
 *   pmbench layout     the table's lookup in userspace under today's
 *                      layout and a compact index               layout.c
 *
 * Each command prints what it measured as one JSON object on stdout and
 * a readable account on stderr. Exit 0, 1 on a runtime failure, 2 on bad
 * usage. A slow result is a figure, never a failure.
 */
#ifndef PM_BENCH_H
#define PM_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int cmd_xdp(int argc, char **argv);
int cmd_live(int argc, char **argv);
int cmd_poll(int argc, char **argv);
int cmd_pcap(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_jitlines(int argc, char **argv);
int cmd_layout(int argc, char **argv);

/* What the commands share (common.c). "pmbench: ..." on stderr. */
void bench_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bench_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

double median(double *v, size_t n);	/* sorts v */
double mono_s(void);			/* CLOCK_MONOTONIC in seconds */
/* Parse a decimal in [min, max] or exit 2 naming the option. */
uint64_t arg_u64(const char *opt, const char *s, uint64_t min, uint64_t max);
/* Pin the calling thread to one CPU; -1: leave it. 0 or -errno. */
int pin_cpu(int cpu);

/* A case of tests/frames.c built into buf; its length, or -1 (reported). */
int bench_frame(const char *name, const uint8_t *dst_mac, uint8_t *buf, size_t cap);

#endif
