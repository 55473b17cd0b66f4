// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix status`: the watches running in this network namespace, from
 * their "status" answers (control.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "control.h"
#include "util.h"

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

static void print_status(json_object *s)
{
	json_object *ifs = jarr(s, "interfaces"), *ifc, *hooks, *maps, *stats, *up;
	size_t nifs = ifs ? json_object_array_length(ifs) : 0, nhooks;
	char a[16], b[16];

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
	printf("  frames %s: non-IP %llu, malformed %llu\n",
	       fmt_si(jget(stats, "frames"), b, sizeof(b)),
	       (unsigned long long)jget(stats, "non_ip"),
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
