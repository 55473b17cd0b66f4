/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The loaded observer, whoever drives it: the BPF skeleton with its maps
 * sized and its rules and baseline in place, the ring buffer of sampled
 * violations turned into alerts, and the alerts kept for snapshots.
 * `watch` attaches its programs to interfaces; `replay` runs them over a
 * capture with BPF_PROG_TEST_RUN.
 */
#ifndef PM_OBSERVER_H
#define PM_OBSERVER_H

#include <json-c/json.h>
#include "protomix.h"
#include "alerts.h"
#include "baseline.h"
#include "maps.h"
#include "rules.h"
#include "snapshot.h"

#define OBSERVER_ALERTS_KEPT 1024	/* the latest alerts, for snapshots */
#define OBSERVER_MAX_DESTS PM_DEST_SLOTS_DEFAULT	/* --max-dests default */
#define OBSERVER_SAMPLE_RATE 5		/* --sample-rate default */
#define OBSERVER_ONEWAY_WINDOW 5.0	/* --oneway-window default */

/* The options watch and replay share: expectations, sampling, the one-way
 * window, the map's size, aggregation. Their long options, for a
 * getopt_long table; the short ones are "e:E:". */
struct observer_opts {
	struct ruleset cli_rules;	/* --expect */
	const char *expect_file;	/* --expect-file */
	const char *baseline;		/* --baseline */
	uint64_t max_dests;
	uint64_t sample_rate;
	double oneway_window;		/* seconds */
	uint8_t agg4, agg6;		/* --aggregate; 0: per address */
	bool no_decap;			/* --no-decap (--decap: the default) */
};

enum { OO_BASELINE = 0x200, OO_SAMPLE_RATE, OO_ONEWAY_WINDOW, OO_MAX_DESTS,
       OO_AGGREGATE, OO_DECAP, OO_NO_DECAP };
#define OBSERVER_LONG_OPTIONS						\
	{ "expect", required_argument, NULL, 'e' },			\
	{ "expect-file", required_argument, NULL, 'E' },		\
	{ "baseline", required_argument, NULL, OO_BASELINE },		\
	{ "sample-rate", required_argument, NULL, OO_SAMPLE_RATE },	\
	{ "oneway-window", required_argument, NULL, OO_ONEWAY_WINDOW },	\
	{ "max-dests", required_argument, NULL, OO_MAX_DESTS },		\
	{ "aggregate", required_argument, NULL, OO_AGGREGATE },		\
	{ "decap", no_argument, NULL, OO_DECAP },			\
	{ "no-decap", no_argument, NULL, OO_NO_DECAP }

void observer_opts_init(struct observer_opts *o);
/* One option of OBSERVER_LONG_OPTIONS: 0 taken, 1 not one of them,
 * EXIT_USAGE for a bad value (reported). */
int observer_opt(struct observer_opts *o, int c, const char *arg);
void observer_opts_free(struct observer_opts *o);

struct observer_cfg {
	uint64_t max_dests;
	uint64_t sample_rate;		/* samples per destination per second */
	const struct baseline *base;	/* or NULL */
	bool replay;			/* time comes from skel->bss->replay_now */
	uint8_t agg4, agg6;		/* --aggregate; 0 = per address */
	bool no_decap;			/* --no-decap: tunnels counted outside only */
	alert_fn on_alert;		/* after the alert is kept; or NULL */
	void *ctx;
};

struct protomix;		/* the skeleton: only observer.c, maps.c (the
				 * table's sizes) and replay.c (the programs'
				 * clock) include it */
struct pm_progs;
struct bpf_object;

struct observer {
	struct protomix *skel;
	struct ring_buffer *rb;
	struct ruleset rules;		/* in force */
	int rules_fd;			/* their trie, in the rules slot */
	struct alert_log alerts;
	struct dest_maps dm;		/* the destination table, mapped */
	uint64_t max_dests;		/* its slots: --max-dests rounded up */
	uint8_t agg4, agg6;		/* PM_AGG4_NONE, PM_AGG6_NONE: per address */
	size_t nbase;
	alert_fn on_alert;
	void *ctx;
};

/* Open, size, load, fill the rules (taken over: *rules is emptied) and
 * the baseline. 0, or the exit status with the error reported. */
int observer_open(struct observer *ob, const struct observer_cfg *cfg,
		  struct ruleset *rules);
void observer_close(struct observer *ob);

/* Put `now` in force (taken over on success) and make every destination
 * look its rule up again. 0 or -errno. */
int observer_set_rules(struct observer *ob, struct ruleset *now);
uint32_t observer_rules_gen(const struct observer *ob);

/* Turn what the ring buffer holds into alerts. */
void observer_poll(struct observer *ob);

/* Read every destination into t and the counters into v (v->dests = t,
 * v->rules, v->alerts set too). 0 or -errno (reported). */
int observer_read(struct observer *ob, struct dest_table *t, struct pm_view *v);

/* One pair of IPsec directions became one-way: keep and pass on. */
void observer_alert(struct observer *ob, const struct alert *a);

/* The loaded programs to attach (attach.h): pm_xdp, pm_tc_ingress,
 * pm_tc_egress. */
void observer_progs(const struct observer *ob, struct pm_progs *progs);
/* The fds of the pairs map (for oneway_scan) and the stats map. */
int observer_pairs_fd(const struct observer *ob);
int observer_stats_fd(const struct observer *ob);
/* The BPF object, for pinning its maps (pin.h). */
struct bpf_object *observer_bpf_object(const struct observer *ob);
/* The "maps" of a status answer: for each of dests, pairs, rules,
 * baseline, stats, events its max_entries and memlock_bytes, and the
 * entries of those that count them (ndests destinations, nbase baseline
 * entries). */
json_object *observer_maps_json(const struct observer *ob, uint64_t ndests,
				uint64_t nbase);

#endif
