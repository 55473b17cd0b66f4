// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * protomix replay: the classifier over a capture (see replay.h).
 *
 * One BPF_PROG_TEST_RUN of pm_xdp per frame, with cfg_replay set and
 * replay_now the frame's time moved onto the CLOCK_MONOTONIC scale, so
 * first/last seen, the per-destination sampling windows and the
 * one_way_ipsec window all follow the capture. The ring buffer is drained
 * after every frame; every time the report shows is the capture's, to the
 * nanosecond (converted back with the same offset, not the clock's).
 *
 * Reading the capture (pcap or pcapng, each frame turned into an
 * Ethernet frame) is replay_capture.c's; this file runs it through
 * pm_xdp and reports.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "commands.h"
#include "alerts.h"
#include "classes.h"
#include "maps.h"
#include "observer.h"
#include "protomix.skel.h"
#include "replay.h"
#include "rules.h"
#include "snapshot.h"
#include "util.h"

#define DEFAULT_TOP		20
#define REPLAY_IFACE		"replay"	/* alerts' "iface" */

/* ---- the command -------------------------------------------------- */

struct replay_opts {
	bool json;
	uint64_t top;		/* 0: all */
	const char *file;
	struct observer_opts ob;	/* rules, sampling, map, aggregation */
};

struct replay {
	struct replay_opts o;
	struct capture cap;
	struct observer ob;
	struct ring_buffer *rb;	/* our own reader of the events map */
	int prog_fd;
	uint64_t mono_off;	/* wall clock - CLOCK_MONOTONIC */
	uint64_t first_ts, last_ts;	/* wall clock, of the frames run */
	uint64_t frames, link_trunc, cut_frames, unseen_bytes;
	struct dest_table tab;
	struct pm_view view;
	struct baseline base;
	struct oneway oneway;
};

void replay_usage(FILE *f)
{
	fprintf(f,
"usage: protomix replay [OPTIONS] FILE\n"
"Run the observer's BPF classifier (pm_xdp, with BPF_PROG_TEST_RUN) over\n"
"every frame of a pcap or pcapng capture (\"-\": stdin), on the capture's\n"
"clock, and report what `watch` would have: the destinations with their\n"
"class mix, the alerts, and one_way_ipsec as of the last frame. Link\n"
"types: Ethernet, raw IP, Linux cooked (SLL, SLL2), BSD loopback. No\n"
"interface is touched; needs the rights to load BPF programs.\n"
"\n"
"      --json             the snapshot JSON (protomix.snapshot/3) instead\n"
"                         of the text report\n"
"  -e, --expect PREFIX=CLASS[,CLASS...]\n"
"                         what PREFIX should receive (repeatable)\n"
"  -E, --expect-file FILE one PREFIX=CLASSES per line, # comments\n"
"      --baseline SNAPSHOT.json\n"
"                         what was normal before (learned expectations)\n"
"      --sample-rate N    alerts sampled per destination per second of the\n"
"                         capture (default %d)\n"
"      --oneway-window SEC  ESP with nothing back for SEC seconds of the\n"
"                         capture is one_way_ipsec (default %g)\n"
"      --max-dests N      size of the per-destination map (default %d)\n"
"      --aggregate V4LEN[,V6LEN]\n"
"                         count per prefix instead of per address\n"
"      --decap            count the packet inside a tunnel under its own\n"
"                         destination too (the default)\n"
"      --no-decap         count tunnels under their outer destination only\n"
"      --top N            destinations in the text report (default %d; 0: all)\n"
"  -v, --verbose          libbpf's messages on stderr (-vv: debug)\n"
"  -h, --help             this text\n"
"\n"
"Exit status 0; 1 on a runtime failure (the BPF programs cannot be loaded);\n"
"2 on bad usage or a bad capture (missing, empty, not pcap/pcapng, link\n"
"type not supported; truncated or corrupt after some frames: the report\n"
"covers the frames before, then the error).\n",
		OBSERVER_SAMPLE_RATE, OBSERVER_ONEWAY_WINDOW, OBSERVER_MAX_DESTS,
		DEFAULT_TOP);
}

static int parse_opts(int argc, char **argv, struct replay_opts *o)
{
	enum { O_JSON = 256, O_TOP };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "top", required_argument, NULL, O_TOP },
		OBSERVER_LONG_OPTIONS,
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, rc;

	*o = (struct replay_opts){ .top = DEFAULT_TOP };
	observer_opts_init(&o->ob);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":e:E:vh", longopts, NULL)) != -1) {
		rc = observer_opt(&o->ob, c, optarg);
		if (rc == 0)
			continue;
		if (rc != 1)
			return rc;
		switch (c) {
		case O_JSON:
			o->json = true;
			break;
		case O_TOP:
			if (!parse_u64(optarg, 0, 1 << 26, &o->top)) {
				pm_err("invalid --top '%s': a number from 0 (all) to %d",
				       optarg, 1 << 26);
				return EXIT_USAGE;
			}
			break;
		case 'v':
			pm_verbose++;
			break;
		case 'h':
			replay_usage(stdout);
			return CLI_HELP_SHOWN;
		default:	/* ':' or '?' */
			return cli_opt_error("replay", c, argv);
		}
	}
	if (optind >= argc) {
		pm_err("replay: no capture file given (usage: protomix replay [OPTIONS] FILE)");
		return EXIT_USAGE;
	}
	if (argc - optind > 1) {
		pm_err("replay: one capture file at a time ('%s' is extra)", argv[optind + 1]);
		return EXIT_USAGE;
	}
	o->file = argv[optind];
	return 0;
}

/* Wall clock - CLOCK_MONOTONIC. Each reading is low by the time between
 * its two clock reads: keep the best of a few. Every conversion back in
 * this file uses the same offset, so a time survives the round trip
 * exactly (u64 wrap-around included). */
static uint64_t measure_mono_off(void)
{
	uint64_t best = 0;
	struct timespec r, m;

	for (int i = 0; i < 8; i++) {
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &m);
		uint64_t off = ((uint64_t)r.tv_sec * 1000000000ull + r.tv_nsec) -
			       ((uint64_t)m.tv_sec * 1000000000ull + m.tv_nsec);
		if (i == 0 || off > best)
			best = off;
	}
	return best;
}

static uint64_t to_real(const struct replay *r, uint64_t mono)
{
	return mono + r->mono_off;
}

/* An alert from the program or the pairs scan: the capture's time, the
 * capture's "interface"; kept, and printed in text mode. */
static void replay_alert(struct replay *r, struct alert *a, uint64_t mono)
{
	a->real_ns = to_real(r, mono);
	snprintf(a->iface, sizeof(a->iface), "%s", REPLAY_IFACE);
	observer_alert(&r->ob, a);
	if (!r->o.json)
		alert_print(stdout, false, a);
}

static int on_event(void *ctx, void *data, size_t size)
{
	const struct pm_event *ev = data;
	struct alert a;

	if (size < sizeof(*ev))
		return 0;
	alert_from_event(&a, ev);
	replay_alert(ctx, &a, ev->ts);
	return 0;
}

static void on_oneway(const struct alert *a, void *ctx)
{
	struct replay *r = ctx;
	struct alert copy = *a;

	replay_alert(r, &copy, r->last_ts - r->mono_off);
}

/* One frame through pm_xdp at the frame's time. 0 or -errno. */
static int run_frame(struct replay *r, const struct replay_frame *fr)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = fr->data,
		    .data_size_in = fr->len, .repeat = 1);
	int err;

	if (!r->frames || fr->ts_ns < r->first_ts)
		r->first_ts = fr->ts_ns;
	if (!r->frames || fr->ts_ns > r->last_ts)
		r->last_ts = fr->ts_ns;
	r->frames++;
	if (fr->link_trunc) {
		r->link_trunc++;	/* pm_xdp: eth_trunc; counted below */
		return 0;
	}
	if (fr->len < fr->wire_len) {
		r->cut_frames++;
		r->unseen_bytes += fr->wire_len - fr->len;
	}
	r->ob.skel->bss->replay_now = fr->ts_ns - r->mono_off;
	/* bytes count the frame's length on the wire, also when less of it
	 * was captured or can be run */
	r->ob.skel->bss->replay_len = fr->wire_len;
	err = bpf_prog_test_run_opts(r->prog_fd, &topts);
	if (err)
		return err;
	ring_buffer__consume(r->rb);
	return 0;
}

/* Frames the kernel was not given count as pm_xdp counts them. */
static void add_unrun(struct replay *r)
{
	struct pm_stats *s[2] = { &r->view.hooks[PM_HOOK_XDP], &r->view.total };

	for (int i = 0; i < 2; i++) {
		s[i]->frames += r->link_trunc;
		s[i]->reason[PM_R_ETH_TRUNC] += r->link_trunc;
	}
}

static json_object *jtime(const struct replay *r, uint64_t mono)
{
	char buf[40];

	return json_object_new_string(fmt_time(to_real(r, mono), buf, sizeof(buf)));
}

/* The capture stands where a watch lists its interfaces. */
static json_object *interfaces_json(const struct replay *r)
{
	json_object *ifs = json_object_new_array(), *ifc, *hooks;

	ifc = json_object_new_object();
	json_object_object_add(ifc, "name", json_object_new_string(r->o.file));
	json_object_object_add(ifc, "ifindex", json_object_new_int(0));
	hooks = json_object_new_array();
	json_object_array_add(hooks, json_object_new_string(hook_name(PM_HOOK_XDP)));
	json_object_object_add(ifc, "hooks", hooks);
	json_object_array_add(ifs, ifc);
	return ifs;
}

/* What was read and what the classifier did not see. */
static json_object *replay_json(const struct replay *r)
{
	json_object *o = json_object_new_object();
	char buf[64];

	json_object_object_add(o, "file", json_object_new_string(r->o.file));
	json_object_object_add(o, "linktype", json_object_new_string(
		replay_dlt_name(r->cap.dlt, buf, sizeof(buf))));
	json_object_object_add(o, "frames", json_object_new_uint64(r->frames));
	json_object_object_add(o, "first_frame", r->frames ? json_object_new_string(
		fmt_time(r->first_ts, buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "last_frame", r->frames ? json_object_new_string(
		fmt_time(r->last_ts, buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "link_trunc_frames", json_object_new_uint64(r->link_trunc));
	json_object_object_add(o, "cut_frames", json_object_new_uint64(r->cut_frames));
	json_object_object_add(o, "unseen_bytes", json_object_new_uint64(r->unseen_bytes));
	json_object_object_add(o, "run_max", json_object_new_int(REPLAY_RUN_MAX));
	return o;
}

/* The snapshot (protomix.snapshot/3), one top-level member per line and
 * one destination per line: the destinations are written as they are
 * made, so a capture of a million destinations needs no document of a
 * million objects in memory. Every time in it is the capture's. */
static int print_json(struct replay *r)
{
	const struct dest_table *t = &r->tab;
	struct dest_table none = { 0 };
	struct pm_view v = r->view;
	json_object *snap, *d;
	uint32_t *idx;
	bool first = true;

	idx = dest_busiest_first(t);
	if (!idx) {
		pm_err("out of memory");
		return -1;
	}
	v.dests = &none;
	snap = snapshot_json(&v);	/* everything but the destinations */
	json_object_object_add(snap, "taken_at", jtime(r, r->view.taken_ns));
	json_object_object_add(snap, "started_at", jtime(r, r->view.started_ns));
	json_object_object_add(snap, "interfaces", interfaces_json(r));
	json_object_object_add(snap, "stats", stats_json(&r->view));
	json_object_object_add(snap, "replay", replay_json(r));

	printf("{");
	json_object_object_foreach(snap, key, val) {
		printf("%s\n\"%s\": ", first ? "" : ",", key);
		first = false;
		if (strcmp(key, "destinations")) {
			fputs(json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE), stdout);
			continue;
		}
		printf("[");
		for (size_t i = 0; i < t->n; i++) {
			const struct pm_dest *dv = &t->vals[idx[i]];

			d = dest_json(&r->view, &t->keys[idx[i]], dv);
			json_object_object_add(d, "first_seen", jtime(r, dv->first_seen));
			json_object_object_add(d, "last_seen", jtime(r, dv->last_seen));
			printf("%s\n%s", i ? "," : "", json_object_to_json_string_ext(d,
				JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(d);
		}
		printf("%s]", t->n ? "\n" : "");
	}
	printf("\n}\n");
	json_object_put(snap);
	free(idx);
	return 0;
}

static void mix_text(const struct pm_dest *d, uint64_t total, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int c = 0; c < PM_NCLASS && n < len; c++)
		if (d->packets[c])
			n += snprintf(buf + n, len - n, "%s%s %.0f%%", n ? " " : "",
				      class_name(c), 100.0 * d->packets[c] / total);
}

/* The text report: what was read, the counters, the destinations. */
static int print_text(struct replay *r)
{
	const struct dest_table *t = &r->tab;
	const struct pm_stats *s = &r->view.total;
	const struct alert_log *log = &r->ob.alerts;
	char t0[40], t1[40], link[64], addr[64], mix[256], inner[320], via[96];
	uint64_t alerts = 0;
	uint32_t *idx;
	size_t n;

	for (int k = 0; k < PM_NKIND; k++)
		alerts += log->total[k];
	replay_dlt_name(r->cap.dlt, link, sizeof(link));
	if (r->frames)
		printf("%s: %llu frames (%s), %s to %s (%.6f s)\n", r->o.file,
		       (unsigned long long)r->frames, link,
		       fmt_time(r->first_ts, t0, sizeof(t0)),
		       fmt_time(r->last_ts, t1, sizeof(t1)),
		       (r->last_ts - r->first_ts) / 1e9);
	else
		printf("%s: no frames (%s)\n", r->o.file, link);
	printf("  dests %zu/%llu  evicted %llu  malformed %llu  non-ip %llu  alerts %llu (unexpected_protocol %llu, protocol_shift %llu, one_way_ipsec %llu)\n",
	       t->n, (unsigned long long)r->o.ob.max_dests,
	       (unsigned long long)view_evicted(&r->view),
	       (unsigned long long)stats_malformed(s),
	       (unsigned long long)s->reason[PM_R_NON_IP],
	       (unsigned long long)alerts,
	       (unsigned long long)log->total[PM_K_UNEXPECTED],
	       (unsigned long long)log->total[PM_K_SHIFT],
	       (unsigned long long)log->total[PM_K_ONE_WAY]);
	if (s->inner_packets || stats_inner_text(s, inner, sizeof(inner))[0])
		printf(" %s\n", stats_inner_text(s, inner, sizeof(inner)));
	if (r->cut_frames)
		printf("  %llu frames not run whole (the capture's snaplen, or over %d bytes): classified by their first bytes, counted at their length on the wire; %llu bytes not run\n",
		       (unsigned long long)r->cut_frames, REPLAY_RUN_MAX,
		       (unsigned long long)r->unseen_bytes);
	if (!t->n)
		return 0;
	idx = dest_busiest_first(t);
	if (!idx) {
		pm_err("out of memory");
		return -1;
	}
	n = r->o.top && r->o.top < t->n ? r->o.top : t->n;
	printf("  %-39s %12s %14s  %s\n", "DESTINATION", "PACKETS", "BYTES", "MIX");
	for (size_t i = 0; i < n; i++) {
		const struct pm_dest *d = &t->vals[idx[i]];
		uint64_t pkts = dest_total_packets(d);

		mix_text(d, pkts, mix, sizeof(mix));
		printf("  %-39s %12llu %14llu  %s%s\n",
		       fmt_dest(&r->view, &t->keys[idx[i]], addr, sizeof(addr)),
		       (unsigned long long)pkts,
		       (unsigned long long)dest_total_bytes(d), mix,
		       via_text(dest_via_mask(d->flags), via, sizeof(via)));
	}
	if (n < t->n)
		printf("  ... %zu more (--top 0 shows every destination)\n", t->n - n);
	free(idx);
	return 0;
}

int cmd_replay(int argc, char **argv)
{
	struct observer_cfg cfg;
	struct ruleset rules = {};
	struct replay_frame *fr = NULL;
	struct replay *r;
	bool bad_tail = false;
	int rc, err;

	r = calloc(1, sizeof(*r));
	fr = malloc(sizeof(*fr));
	if (!r || !fr) {
		pm_err("out of memory");
		free(r);
		free(fr);
		return EXIT_RUNTIME;
	}
	rc = parse_opts(argc, argv, &r->o);
	if (rc == CLI_HELP_SHOWN) {
		rc = EXIT_OK;
		goto out_free;
	}
	if (rc)
		goto out_free;
	if ((rc = ruleset_build(&r->o.ob.cli_rules, r->o.ob.expect_file, &rules)))
		goto out_free;
	if (r->o.ob.baseline && (rc = baseline_load(&r->base, r->o.ob.baseline)))
		goto out_free;
	/* The file before the BPF programs: a bad one needs no privileges. */
	if (capture_open(&r->cap, r->o.file)) {
		pm_err("%s: %s", r->o.file, r->cap.err);
		rc = EXIT_USAGE;
		goto out_free;
	}

	cfg = (struct observer_cfg){ .max_dests = r->o.ob.max_dests,
				     .sample_rate = r->o.ob.sample_rate,
				     .base = &r->base, .replay = true,
				     .agg4 = r->o.ob.agg4, .agg6 = r->o.ob.agg6,
				     .no_decap = r->o.ob.no_decap };
	rc = observer_open(&r->ob, &cfg, &rules);
	if (rc)
		goto out_cap;
	rc = EXIT_RUNTIME;
	r->prog_fd = bpf_program__fd(r->ob.skel->progs.pm_xdp);
	r->rb = ring_buffer__new(bpf_map__fd(r->ob.skel->maps.events), on_event, r, NULL);
	if (!r->rb) {
		pm_err("cannot open the ring buffer: %s", strerror(errno));
		goto out_close;
	}
	if (dest_table_init(&r->tab, r->o.ob.max_dests)) {
		pm_err("out of memory for %llu destinations",
		       (unsigned long long)r->o.ob.max_dests);
		goto out_close;
	}
	r->mono_off = measure_mono_off();

	while ((err = capture_next(&r->cap, fr)) > 0) {
		err = run_frame(r, fr);
		if (err) {
			pm_err("%s: frame %llu: BPF_PROG_TEST_RUN: %s", r->o.file,
			       (unsigned long long)r->cap.frames, strerror(-err));
			goto out_close;
		}
	}
	bad_tail = err < 0;
	ring_buffer__consume(r->rb);	/* the last samples */
	if (r->frames && oneway_scan(bpf_map__fd(r->ob.skel->maps.pairs),
				     r->last_ts - r->mono_off,
				     (uint64_t)(r->o.ob.oneway_window * 1e9),
				     &r->oneway, on_oneway, r))
		pm_err("cannot scan the IPsec pairs: out of memory");

	if (observer_read(&r->ob, &r->tab, &r->view))
		goto out_close;
	add_unrun(r);
	r->view.started_ns = (r->frames ? r->first_ts : 0) - r->mono_off;
	r->view.taken_ns = (r->frames ? r->last_ts : 0) - r->mono_off;
	if (r->o.json ? print_json(r) : print_text(r))
		goto out_close;
	/* main() flushes stdout and reports a failed write */
	rc = 0;
	if (bad_tail) {
		pm_err("%s: %s; the report covers the %llu frames before it",
		       r->o.file, r->cap.err, (unsigned long long)r->cap.frames);
		rc = EXIT_USAGE;
	}
out_close:
	ring_buffer__free(r->rb);
	dest_table_free(&r->tab);
	observer_close(&r->ob);
out_cap:
	capture_close(&r->cap);
out_free:
	ruleset_free(&rules);
	observer_opts_free(&r->o.ob);
	baseline_free(&r->base);
	oneway_free(&r->oneway);
	free(fr);
	free(r);
	return rc;
}
