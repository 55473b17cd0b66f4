// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pmbench: dispatch, stats-hold and tap-hold (the shared helpers: common.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "bench.h"
#include "tapcost.skel.h"

/* Keep BPF run-time statistics (run_time_ns, run_cnt) on for as long as
 * this process lives: BPF_ENABLE_STATS hands out a file descriptor and
 * the kernel turns the statistics off again when the last one closes, so
 * they go off whatever ends the bench, SIGKILL included (and this process
 * dies with its parent). kernel.bpf_stats_enabled reads 1 meanwhile and
 * is never written. Prints "ready" once they are on. */
static int cmd_stats_hold(void)
{
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 0;	/* the parent is gone already */
	fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		bench_err("cannot enable BPF statistics: %s", strerror(errno));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();	/* until a signal ends us; the kernel closes fd */
}

/* Time the kernel spends in tpacket_rcv (bench/bpf/tapcost.bpf.c) for as
 * long as this process lives: prints "ready" once attached, and on
 * SIGINT or SIGTERM one JSON line {"tpacket_rcv_s":..,"calls":..}, then
 * detaches (also if its parent dies first). */
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_tap_hold(void)
{
	struct bench_tapcost *t;
	unsigned long long ns = 0, n = 0;
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		return 0;
	t = bench_tapcost__open_and_load();
	if (!t || bench_tapcost__attach(t)) {
		bench_err("cannot trace tpacket_rcv: %s", strerror(errno));
		bench_tapcost__destroy(t);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	for (int c = 0; c < 1024; c++) {
		ns += t->bss->total_ns[c];
		n += t->bss->calls[c];
	}
	bench_tapcost__destroy(t);
	printf("{\"tpacket_rcv_s\":%.4f,\"calls\":%llu}\n", ns / 1e9, n);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pmbench xdp|live|poll|pcap|rules|stats-hold|tap-hold|jitlines|layout [OPTIONS] (see bench/bench.h)\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "xdp"))
		return cmd_xdp(argc - 1, argv + 1);
	if (!strcmp(cmd, "live"))
		return cmd_live(argc - 1, argv + 1);
	if (!strcmp(cmd, "poll"))
		return cmd_poll(argc - 1, argv + 1);
	if (!strcmp(cmd, "pcap"))
		return cmd_pcap(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "stats-hold"))
		return cmd_stats_hold();
	if (!strcmp(cmd, "tap-hold"))
		return cmd_tap_hold();
	if (!strcmp(cmd, "jitlines"))
		return cmd_jitlines(argc - 1, argv + 1);
	if (!strcmp(cmd, "layout"))
		return cmd_layout(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
