// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * pmbench rules [--rounds N] SAME CLASSES PREFIXES: the parts of loading and
 * reloading a rules file, in this process, into a fresh LPM trie made like
 * the watch's (bpf/protomix.bpf.c: 65,536 entries, BPF_F_NO_PREALLOC):
 *
 *   read       ruleset_build of SAME: reading, parsing, the duplicate check
 *   fill       ruleset_sync into the empty trie (the start of a watch)
 *   load       read + fill
 *   reload_*   ruleset_build of the file + a new trie filled with it (a
 *              SIGHUP, as user/observer.c does it): SAME again, CLASSES
 *              (the same prefixes, other classes), PREFIXES (other
 *              prefixes)
 *
 * One JSON object on stdout: the median and spread of each, in ms.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "bench.h"
#include "protomix.h"
#include "rules.h"
#include "util.h"

#define RULES_ROUNDS_MAX 20
enum { P_READ, P_FILL, P_LOAD, P_SAME, P_CLASSES, P_PREFIXES, P_N };
static const char *part_name[P_N] = { "read", "fill", "load", "reload_same",
				      "reload_classes", "reload_prefixes" };

static int new_trie(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, o, .map_flags = BPF_F_NO_PREALLOC);
	int fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "pmb_rules",
				sizeof(struct pm_rule_key), sizeof(struct pm_rule),
				RULES_MAX, &o);

	if (fd < 0)
		bench_err("cannot create an LPM trie: %s", strerror(errno));
	return fd;
}

/* A reload of path as the watch does it (user/observer.c rules_install):
 * the file read, a new trie filled with its rules (then put in the rules
 * slot in one update; the old trie is freed by the kernel). */
static int reload(int fd, struct ruleset *in, const char *path, double *ms)
{
	struct ruleset now;
	double t0 = mono_s();
	int err, nfd;

	(void)fd;
	(void)in;
	if (ruleset_build(NULL, path, &now))
		return -1;
	nfd = new_trie();
	if (nfd < 0) {
		ruleset_free(&now);
		return -1;
	}
	err = ruleset_sync(nfd, NULL, &now);
	*ms = (mono_s() - t0) * 1e3;
	close(nfd);
	ruleset_free(&now);
	if (err) {
		bench_err("ruleset_sync: %s", strerror(-err));
		return -1;
	}
	return 0;
}

int cmd_rules(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rounds", required_argument, NULL, 'n' },
		{}
	};
	double ms[P_N][RULES_ROUNDS_MAX], v[RULES_ROUNDS_MAX], t0;
	int rounds = 5, opt, fd = -1;
	struct ruleset rs;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: pmbench rules [--rounds N] SAME CLASSES PREFIXES\n");
			return 2;
		}
		rounds = arg_u64("--rounds", optarg, 1, RULES_ROUNDS_MAX);
	}
	if (argc - optind != 3) {
		fprintf(stderr, "usage: pmbench rules [--rounds N] SAME CLASSES PREFIXES\n");
		return 2;
	}
	for (int r = 0; r < rounds; r++) {
		t0 = mono_s();
		if (ruleset_build(NULL, argv[optind], &rs))
			return 1;
		ms[P_READ][r] = (mono_s() - t0) * 1e3;
		if ((fd = new_trie()) < 0)
			goto fail;
		t0 = mono_s();
		if (ruleset_sync(fd, NULL, &rs)) {
			bench_err("ruleset_sync: %s", strerror(errno));
			goto fail;
		}
		ms[P_FILL][r] = (mono_s() - t0) * 1e3;
		ms[P_LOAD][r] = ms[P_READ][r] + ms[P_FILL][r];
		for (int p = P_SAME; p < P_N; p++)
			if (reload(fd, &rs, argv[optind + p - P_SAME], &ms[p][r]))
				goto fail;
		close(fd);
		ruleset_free(&rs);
		bench_say("rules round %d: read %.1f fill %.1f reload same %.1f classes %.1f prefixes %.1f ms",
			  r + 1, ms[P_READ][r], ms[P_FILL][r], ms[P_SAME][r],
			  ms[P_CLASSES][r], ms[P_PREFIXES][r]);
	}
	printf("{");
	for (int p = 0; p < P_N; p++) {
		double med;

		memcpy(v, ms[p], rounds * sizeof(double));
		med = median(v, rounds);	/* sorts v */
		printf("%s\"%s\":{\"median\":%.1f,\"min\":%.1f,\"max\":%.1f,\"rounds\":[",
		       p ? "," : "", part_name[p], med, v[0], v[rounds - 1]);
		for (int r = 0; r < rounds; r++)
			printf("%s%.1f", r ? "," : "", ms[p][r]);
		printf("]}");
	}
	printf("}\n");
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	ruleset_free(&rs);
	return 1;
}
