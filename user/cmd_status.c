// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix status`: the watches running in this network namespace, from
 * their "status" answers (control.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "classes.h"
#include "cli.h"
#include "commands.h"
#include "control.h"
#include "snapjson.h"
#include "util.h"

/* A non-negative integer at a dotted path ("dests.entries"), or 0. */
static uint64_t snap_u64_at(json_object *o, const char *path)
{
	char key[64];
	const char *dot;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = snap_get(o, key, json_type_object);
		path = dot + 1;
	}
	return o ? snap_u64(o, path) : 0;
}

/* " macsec N, mpls_other N,": the well-formed frames with no IP packet
 * to count besides non_ip, those not 0 (reasons_unseen_text over the
 * answer's stats). Returns buf. */
static char *unseen_text(json_object *stats, char *buf, size_t len)
{
	__u64 reason[PM_NREASON];

	for (int r = 0; r < PM_NREASON; r++)
		reason[r] = snap_u64_at(stats, reason_name(r));
	return reasons_unseen_text(reason, ",", buf, len);
}

/* " (tun_other 2, l4_trunc 1)": why packets inside tunnels were not
 * counted, the reasons not 0; "" if none. Returns buf. */
static char *inner_text(json_object *stats, char *buf, size_t len)
{
	json_object *o = snap_get(stats, "inner_reason", json_type_object);
	size_t n = 0;

	buf[0] = 0;
	for (int r = 0; r < PM_NREASON && n < len; r++)
		if (snap_u64(o, reason_name(r)))
			n += snprintf(buf + n, len - n, "%s%s %llu", n ? ", " : " (",
				      reason_name(r),
				      (unsigned long long)snap_u64(o, reason_name(r)));
	if (n && n < len)
		snprintf(buf + n, len - n, ")");
	return buf;
}

static void print_status(json_object *s)
{
	json_object *ifs = snap_get(s, "interfaces", json_type_array), *ifc, *hooks, *maps, *stats, *up;
	size_t nifs = ifs ? json_object_array_length(ifs) : 0, nhooks;
	char a[16], b[16], c[128];

	if (!json_object_object_get_ex(s, "maps", &maps))
		maps = NULL;
	if (!json_object_object_get_ex(s, "stats", &stats))
		stats = NULL;
	if (!json_object_object_get_ex(s, "uptime_s", &up))
		up = NULL;
	printf("protomix watch, pid %llu, up %.0f s (since %s)\n",
	       (unsigned long long)snap_u64_at(s, "pid"),
	       up ? json_object_get_double(up) : 0.0, snap_str(s, "started_at"));
	for (size_t i = 0; i < nifs; i++) {
		ifc = json_object_array_get_idx(ifs, i);
		hooks = snap_get(ifc, "hooks", json_type_array);
		nhooks = hooks ? json_object_array_length(hooks) : 0;
		printf("  interface %-16s hooks", snap_str(ifc, "name"));
		for (size_t h = 0; h < nhooks; h++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(hooks, h)));
		printf("\n");
	}
	printf("  destinations %llu of %llu (%s bytes of kernel memory), evicted %llu\n",
	       (unsigned long long)snap_u64_at(maps, "dests.entries"),
	       (unsigned long long)snap_u64_at(maps, "dests.max_entries"),
	       fmt_si(snap_u64_at(maps, "dests.memlock_bytes"), a, sizeof(a)),
	       (unsigned long long)snap_u64_at(stats, "evicted_dests"));
	printf("  rules %llu, baseline destinations %llu\n",
	       (unsigned long long)snap_u64_at(maps, "rules.entries"),
	       (unsigned long long)snap_u64_at(maps, "baseline.entries"));
	printf("  frames %s: non-IP %llu,%s malformed %llu\n",
	       fmt_si(snap_u64_at(stats, "frames"), b, sizeof(b)),
	       (unsigned long long)snap_u64_at(stats, "non_ip"),
	       unseen_text(stats, c, sizeof(c)),
	       (unsigned long long)snap_u64_at(stats, "malformed_total"));
	if (snap_get(stats, "inner_packets", json_type_int))
		printf("  inside tunnels: %llu packets counted under their destination, %llu not%s\n",
		       (unsigned long long)snap_u64_at(stats, "inner_packets"),
		       (unsigned long long)snap_sum(snap_get(stats, "inner_reason",
							     json_type_object)),
		       inner_text(stats, c, sizeof(c)));
	printf("  alerts: unexpected_protocol %llu, protocol_shift %llu, one_way_ipsec %llu\n",
	       (unsigned long long)snap_u64_at(stats, "alerts.unexpected_protocol"),
	       (unsigned long long)snap_u64_at(stats, "alerts.protocol_shift"),
	       (unsigned long long)snap_u64_at(stats, "alerts.one_way_ipsec"));
	printf("  samples %llu, suppressed %llu, ring buffer drops %llu\n",
	       (unsigned long long)snap_u64_at(stats, "sampled"),
	       (unsigned long long)snap_u64_at(stats, "suppressed"),
	       (unsigned long long)snap_u64_at(stats, "ringbuf_drops"));
	if (*snap_str(s, "pinned"))
		printf("  maps pinned under %s\n", snap_str(s, "pinned"));
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
		} else if (cli_is_help(argv[i])) {
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
