// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classes.h"
#include "client.h"
#include "control.h"
#include "export.h"
#include "util.h"

enum fmt { FMT_JSON, FMT_MD, FMT_CSV };

struct snap_out {
	json_object *snap;
	enum fmt fmt;
};

static int write_snap(FILE *f, void *ctx)
{
	struct snap_out *o = ctx;

	switch (o->fmt) {
	case FMT_MD:
		return export_md(f, o->snap);
	case FMT_CSV:
		return export_csv(f, o->snap);
	default:
		fputs(json_object_to_json_string_ext(o->snap, JSON_C_TO_STRING_PRETTY |
						     JSON_C_TO_STRING_NOSLASHESCAPE), f);
		fputc('\n', f);
		return ferror(f) ? -EIO : 0;
	}
}

static void snapshot_usage(FILE *f)
{
	fprintf(f,
"usage: protomix snapshot [-f json|md|csv] [-o FILE] [--pcap FILE] [--pid PID]\n"
"Read the maps and recent alerts of the watch running in this network\n"
"namespace, without stopping it.\n"
"\n"
"  -f, --format FMT   json (the snapshot of DESIGN.md, default), md (a report\n"
"                     for a ticket) or csv (one row per destination and class)\n"
"  -o, --output FILE  write to FILE (atomically, mode 0600) instead of stdout;\n"
"                     - is stdout; a device or FIFO is written as a stream;\n"
"                     a symbolic link or a folder is refused\n"
"      --pcap FILE    also write the alerts' evidence frames as a pcap (the same)\n"
"      --pid PID      the watch to read when several run\n");
}

/* --pid */
static int parse_pid(const char *s, pid_t *pid)
{
	uint64_t v;

	if (!parse_u64(s, 1, 1u << 22, &v)) {
		pm_err("invalid --pid '%s'", s);
		return EXIT_USAGE;
	}
	*pid = v;
	return 0;
}

static int copy_answer(FILE *f, void *ctx)
{
	return ctl_stream_copy(ctx, f);
}

/* The JSON snapshot as the watch writes it for us (indented, without the
 * evidence): passed on as it comes, so a table of a million destinations
 * costs the client neither a document tree nor the document's size. */
static int snapshot_passed_on(pid_t pid, const char *out)
{
	struct ctl_stream st;
	int rc;

	if (ctl_stream_open(pid, "snapshot pretty", &st))
		return EXIT_RUNTIME;
	rc = output_status(write_output(out ? out : "-", copy_answer, &st));
	ctl_stream_close(&st);
	return rc;
}

int cmd_snapshot(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *out = NULL, *pcap = NULL;
	struct snap_out o = { .fmt = FMT_JSON };
	json_object *reply, *evidence = NULL;
	pid_t want = 0, pid;
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "json"))
				o.fmt = FMT_JSON;
			else if (!strcmp(optarg, "md"))
				o.fmt = FMT_MD;
			else if (!strcmp(optarg, "csv"))
				o.fmt = FMT_CSV;
			else {
				pm_err("invalid --format '%s': json, md or csv", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			pcap = optarg;
			break;
		case 'P':
			if (parse_pid(optarg, &want))
				return EXIT_USAGE;
			break;
		case 'h':
			snapshot_usage(stdout);
			return 0;
		case ':':
			pm_err("option '%s' needs a value (see protomix snapshot --help)",
			       argv[optind - 1]);
			return EXIT_USAGE;
		default:
			pm_err("unknown option '%s' (see protomix snapshot --help)",
			       argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pm_err("snapshot: unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	/* a symlink, a folder, ... refused before the watch is asked */
	if ((out && (rc = output_check(out))) || (pcap && (rc = output_check(pcap))))
		return rc;
	rc = ctl_pick(want, &pid);
	if (rc)
		return -rc;
	if (o.fmt == FMT_JSON && !pcap)
		return snapshot_passed_on(pid, out);
	reply = ctl_request(pid, "snapshot");
	if (!reply)
		return EXIT_RUNTIME;
	/* The evidence goes to the pcap, not into the snapshot. */
	if (json_object_object_get_ex(reply, "evidence", &evidence))
		json_object_get(evidence);
	json_object_object_del(reply, "evidence");

	o.snap = reply;
	/* no -o, "-" or /dev/stdout: standard output */
	rc = output_status(write_output(out ? out : "-", write_snap, &o));
	if (!rc && pcap) {
		json_object_object_add(reply, "evidence", evidence);
		evidence = NULL;
		rc = output_status(export_pcap(pcap, reply));
	}
	json_object_put(evidence);
	json_object_put(reply);
	return rc;
}

static uint64_t jget(json_object *o, const char *path)
{
	json_object *v = o;
	char key[64];
	const char *p = path, *dot;

	while (v && *p) {
		dot = strchr(p, '.');
		snprintf(key, sizeof(key), "%.*s", dot ? (int)(dot - p) : (int)strlen(p), p);
		if (!json_object_object_get_ex(v, key, &v))
			return 0;
		p = dot ? dot + 1 : p + strlen(p);
	}
	return v ? json_object_get_uint64(v) : 0;
}

/* A string field, or "" (a reply from another version may lack it). */
static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static json_object *jarr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

/* " macsec N, mpls_other N,": the well-formed frames with no IP packet
 * to count besides non_ip, those not 0. Returns buf. */
static char *unseen_text(json_object *stats, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int r = 0; r < PM_NREASON && n < len; r++)
		if (r != PM_R_NON_IP && !reason_is_malformed(r) &&
		    jget(stats, reason_name(r)))
			n += snprintf(buf + n, len - n, " %s %llu,", reason_name(r),
				      (unsigned long long)jget(stats, reason_name(r)));
	return buf;
}

static void print_status(json_object *s)
{
	json_object *ifs = jarr(s, "interfaces"), *ifc, *hooks, *maps, *stats, *up;
	size_t nifs = ifs ? json_object_array_length(ifs) : 0, nhooks;
	char a[16], b[16], c[128];

	if (!json_object_object_get_ex(s, "maps", &maps))
		maps = NULL;
	if (!json_object_object_get_ex(s, "stats", &stats))
		stats = NULL;
	if (!json_object_object_get_ex(s, "uptime_s", &up))
		up = NULL;
	printf("protomix watch, pid %llu, up %.0f s (since %s)\n",
	       (unsigned long long)jget(s, "pid"),
	       up ? json_object_get_double(up) : 0.0, jstr(s, "started_at"));
	for (size_t i = 0; i < nifs; i++) {
		ifc = json_object_array_get_idx(ifs, i);
		hooks = jarr(ifc, "hooks");
		nhooks = hooks ? json_object_array_length(hooks) : 0;
		printf("  interface %-16s hooks", jstr(ifc, "name"));
		for (size_t h = 0; h < nhooks; h++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(hooks, h)));
		printf("\n");
	}
	printf("  destinations %llu of %llu (%s bytes of kernel memory), evicted %llu\n",
	       (unsigned long long)jget(maps, "dests.entries"),
	       (unsigned long long)jget(maps, "dests.max_entries"),
	       fmt_si(jget(maps, "dests.memlock_bytes"), a, sizeof(a)),
	       (unsigned long long)jget(stats, "evicted_dests"));
	printf("  rules %llu, baseline destinations %llu\n",
	       (unsigned long long)jget(maps, "rules.entries"),
	       (unsigned long long)jget(maps, "baseline.entries"));
	printf("  frames %s: non-IP %llu,%s malformed %llu\n",
	       fmt_si(jget(stats, "frames"), b, sizeof(b)),
	       (unsigned long long)jget(stats, "non_ip"),
	       unseen_text(stats, c, sizeof(c)),
	       (unsigned long long)jget(stats, "malformed_total"));
	printf("  alerts: unexpected_protocol %llu, protocol_shift %llu, one_way_ipsec %llu\n",
	       (unsigned long long)jget(stats, "alerts.unexpected_protocol"),
	       (unsigned long long)jget(stats, "alerts.protocol_shift"),
	       (unsigned long long)jget(stats, "alerts.one_way_ipsec"));
	printf("  samples %llu, suppressed %llu, ring buffer drops %llu\n",
	       (unsigned long long)jget(stats, "sampled"),
	       (unsigned long long)jget(stats, "suppressed"),
	       (unsigned long long)jget(stats, "ringbuf_drops"));
	if (*jstr(s, "pinned"))
		printf("  maps pinned under %s\n", jstr(s, "pinned"));
}

int cmd_status(int argc, char **argv)
{
	pid_t pids[CTL_MAX_INSTANCES];
	bool json = false;
	json_object *s, *all;
	int n, rc = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: protomix status [--json]\n"
			       "The protomix watches running in this network namespace: interfaces\n"
			       "and hooks, uptime, map fill and memory, parser, eviction and ring\n"
			       "buffer counters.\n");
			return 0;
		} else {
			pm_err("status: unexpected argument '%s' (see protomix status --help)",
			       argv[i]);
			return EXIT_USAGE;
		}
	}
	n = ctl_find(pids, CTL_MAX_INSTANCES);
	if (n < 0) {
		pm_err("cannot list unix sockets: %s", strerror(-n));
		return EXIT_RUNTIME;
	}
	if (n == 0) {
		pm_err("no protomix watch is running in this network namespace");
		return EXIT_RUNTIME;
	}
	all = json_object_new_array();
	for (int i = 0; i < n; i++) {
		s = ctl_request(pids[i], "status");
		if (!s) {
			rc = EXIT_RUNTIME;
			continue;
		}
		if (json)
			json_object_array_add(all, s);
		else {
			print_status(s);
			json_object_put(s);
		}
	}
	if (json)
		printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(all);
	return rc;
}
