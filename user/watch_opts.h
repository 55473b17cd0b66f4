/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The command line of `protomix watch` (watch_opts.c): the options as
 * parsed, their checks against each other, the usage text (watch_usage,
 * declared in commands.h) and the check of the snapshot's target before
 * anything is attached. watch.c keeps the parsed options in its state.
 */
#ifndef PM_WATCH_OPTS_H
#define PM_WATCH_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include "attach.h"
#include "history.h"
#include "ipfix.h"
#include "metrics.h"
#include "observer.h"

#define MAX_IFACES		64

struct watch_opts {
	double interval;	/* seconds */
	double duration;	/* seconds; 0 = until a signal */
	const char *snapshot;
	bool json;
	bool alerts_only;	/* no periodic report */
	int top;
	enum hook_mode hook;
	struct observer_opts ob;	/* rules, sampling, map, aggregation */
	const char *metrics;		/* --metrics ADDR:PORT, or NULL */
	struct metrics_addr metrics_addr;
	uint64_t metrics_top;
	struct ipfix_target ipfix[IPFIX_MAX_COLLECTORS];	/* --ipfix */
	int nipfix;
	uint32_t ipfix_domain;
	bool ipfix_domain_set;
	uint64_t ipfix_template_secs;	/* 0: not given */
	struct history_opts hist;	/* --history-dests, --history-intervals */
};

/* Parse argv (argv[0] is "watch") into o: 0 with optind at the first
 * interface, CLI_HELP_SHOWN after -h, or EXIT_USAGE (the reason on
 * stderr). */
int watch_parse_opts(int argc, char **argv, struct watch_opts *o);

/* 0 when the snapshot can be written to path, else EXIT_USAGE (the
 * reason on stderr); see its definition for what is refused. */
int watch_check_writable(const char *path);

#endif
