// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A snapshot as Markdown and CSV (export.h); its alerts and evidence:
 * export_alerts.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "classes.h"
#include "export.h"
#include "export_md.h"
#include "util.h"

/* The keys of an object of counts, in class order (names point into o). */
static size_t class_keys(json_object *o, const char ***out)
{
	const char **keys;
	size_t n = 0;

	*out = NULL;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_length(o))
		return 0;
	keys = calloc(json_object_object_length(o), sizeof(*keys));
	if (!keys)
		return 0;
	json_object_object_foreach(o, k, v) {
		(void)v;
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), snap_cmp_class);
	*out = keys;
	return n;
}

/* The destinations, busiest first, ties by address. */
struct dest {
	json_object *o;
	const char *addr;
	uint64_t packets, bytes;
};

static int cmp_dest(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;

	return cmp_busier(x->packets, y->packets) ?: snap_cmp_addr(x->addr, y->addr);
}

static size_t dests_sorted(json_object *snap, struct dest **out)
{
	json_object *arr = snap_get(snap, "destinations", json_type_array);
	size_t n = arr ? json_object_array_length(arr) : 0, m = 0;
	struct dest *d;

	*out = NULL;
	d = calloc(n ? n : 1, sizeof(*d));
	if (!d)
		return 0;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(o, json_type_object))
			continue;
		d[m].o = o;
		d[m].addr = snap_str(o, "addr");
		d[m].packets = snap_sum(snap_get(o, "packets", json_type_object));
		d[m].bytes = snap_sum(snap_get(o, "bytes", json_type_object));
		m++;
	}
	qsort(d, m, sizeof(*d), cmp_dest);
	*out = d;
	return m;
}

/* " (via vxlan,gtp_u)" for a destination with "via", else "" (via_text's
 * words, from the document). */
static char *via_suffix(json_object *d, char *buf, size_t len)
{
	char names[128];

	join_strings(snap_get(d, "via", json_type_array), ",", names, sizeof(names));
	if (*names)
		snprintf(buf, len, " (via %s)", names);
	else if (len)
		buf[0] = 0;
	return buf;
}

static bool in_strings(json_object *arr, const char *s)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), s))
			return true;
	}
	return false;
}

/* "1h 2m 3s", "2m 0s", "12.5s" */
static char *fmt_duration(int64_t ns, char *buf, size_t len)
{
	int64_t s = ns / 1000000000;

	if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m %" PRId64 "s",
			 s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	return buf;
}

/* ---- Markdown ------------------------------------------------------ */

/* "esp 95.2%, tcp 4.8%": classes by share, largest first. */
struct share {
	const char *name;
	uint64_t n;
};

static int cmp_share(const void *a, const void *b)
{
	const struct share *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return snap_cmp_class(&x->name, &y->name);
}

static void md_mix(FILE *f, json_object *packets, uint64_t total)
{
	const char **keys;
	size_t n = class_keys(packets, &keys), m = 0;
	struct share *s = calloc(n ? n : 1, sizeof(*s));
	char pct[16];

	if (!s) {
		free(keys);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		s[m].name = keys[i];
		s[m].n = snap_u64(packets, keys[i]);
		if (s[m].n)
			m++;
	}
	qsort(s, m, sizeof(*s), cmp_share);
	for (size_t i = 0; i < m; i++) {
		fputs(i ? ", " : "", f);
		md_cell(f, s[i].name);
		fprintf(f, " %s", snap_fmt_share(s[i].n, total, pct, sizeof(pct)));
	}
	if (!m)
		fputs("-", f);
	free(keys);
	free(s);
}

static void md_dests(FILE *f, const struct dest *d, size_t n)
{
	char exp[256], via[160];
	size_t shown = n < EXPORT_MD_TOP ? n : EXPORT_MD_TOP;
	uint64_t rest = 0;

	fprintf(f, "## Top destinations\n\n");
	if (!n) {
		fputs("No destinations.\n\n", f);
		return;
	}
	if (shown < n)
		fprintf(f, "The %zu busiest of %zu destinations", shown, n);
	else
		fprintf(f, "%s %zu destination%s, busiest first", n == 1 ? "The" : "All",
			n, n == 1 ? "" : "s");
	fputs(" (packets received; the mix is the share of each class in its "
	      "packets; \"via\": seen inside those tunnels).\n\n", f);
	fputs("| # | Destination | Packets | Bytes | Class mix | Expected | Violations |\n"
	      "|--:|---|--:|--:|---|---|--:|\n", f);
	for (size_t i = 0; i < shown; i++) {
		fprintf(f, "| %zu | ", i + 1);
		md_cell(f, d[i].addr);
		md_cell(f, via_suffix(d[i].o, via, sizeof(via)));
		fprintf(f, " | %" PRIu64 " | %" PRIu64 " | ", d[i].packets, d[i].bytes);
		md_mix(f, snap_get(d[i].o, "packets", json_type_object), d[i].packets);
		fputs(" | ", f);
		join_strings(snap_get(d[i].o, "expected", json_type_array), ", ",
			     exp, sizeof(exp));
		md_cell(f, *exp ? exp : "-");
		fprintf(f, " | %" PRIu64 " |\n", snap_u64(d[i].o, "violations"));
	}
	for (size_t i = shown; i < n; i++)
		rest += d[i].packets;
	if (n > shown)
		fprintf(f, "\n%zu more destinations with %" PRIu64 " packets "
			"(`protomix snapshot -f csv` lists them all).\n", n - shown,
			rest);
	fputc('\n', f);
}

/* What a destination received outside its expected classes: "esp 20
 * (28.6%)". Returns the packets outside. */
static uint64_t md_outside(FILE *f, const struct dest *d, json_object *exp)
{
	json_object *packets = snap_get(d->o, "packets", json_type_object);
	const char **keys;
	size_t n = class_keys(packets, &keys);
	uint64_t out = 0, v;
	char pct[16];
	int shown = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_strings(exp, keys[i]) || !(v = snap_u64(packets, keys[i])))
			continue;
		out += v;
		if (f) {
			fputs(shown++ ? ", " : "", f);
			md_cell(f, keys[i]);
			fprintf(f, " %" PRIu64 " (%s)", v,
				snap_fmt_share(v, d->packets, pct, sizeof(pct)));
		}
	}
	if (f && !shown)
		fputs("-", f);
	free(keys);
	return out;
}

static bool dest_has_exp(const struct dest *d)
{
	json_object *exp = snap_get(d->o, "expected", json_type_array);

	return exp && json_object_array_length(exp);
}

static int cmp_exp_dest(const void *a, const void *b)
{
	const struct dest *x = *(const struct dest *const *)a;
	const struct dest *y = *(const struct dest *const *)b;
	uint64_t vx = snap_u64(x->o, "violations"), vy = snap_u64(y->o, "violations");

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return cmp_dest(x, y);
}

static void md_expectations(FILE *f, const struct dest *d, size_t n)
{
	const struct dest **e = calloc(n ? n : 1, sizeof(*e));
	size_t ne = 0;
	char exp[256];

	fputs("## Expectations\n\n", f);
	if (!e)
		return;
	for (size_t i = 0; i < n; i++)
		if (dest_has_exp(&d[i]))
			e[ne++] = &d[i];
	if (!ne) {
		fputs("No destination had an expectation (declared with --expect "
		      "or learned).\n\n", f);
		free(e);
		return;
	}
	qsort(e, ne, sizeof(*e), cmp_exp_dest);
	fprintf(f, "%zu destination%s with an expectation, most violations "
		"first%s.\n\n", ne, ne == 1 ? "" : "s",
		ne > 50 ? " (the first 50)" : "");
	fputs("| Destination | Expected | Received outside the expectation (packets) | Violations |\n"
	      "|---|---|---|--:|\n", f);
	for (size_t i = 0; i < ne && i < 50; i++) {
		json_object *ex = snap_get(e[i]->o, "expected", json_type_array);

		fputs("| ", f);
		md_cell(f, e[i]->addr);
		fputs(" | ", f);
		md_cell(f, join_strings(ex, ", ", exp, sizeof(exp)));
		fputs(" | ", f);
		md_outside(f, e[i], ex);
		fprintf(f, " | %" PRIu64 " |\n", snap_u64(e[i]->o, "violations"));
	}
	fputc('\n', f);
	free(e);
}

/* "tcp 50, esp 20" for an object of counts (zeros left out). */
static void md_counts(FILE *f, json_object *o, bool class_order)
{
	const char **keys = NULL;
	size_t n = 0;
	int shown = 0;

	if (class_order) {
		n = class_keys(o, &keys);
	} else if (json_object_is_type(o, json_type_object)) {
		keys = calloc(json_object_object_length(o) + 1, sizeof(*keys));
		if (keys) {
			json_object_object_foreach(o, k, v) {
				(void)v;
				keys[n++] = k;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v = snap_u64(o, keys[i]);

		if (!v)
			continue;
		fputs(shown++ ? ", " : "", f);
		md_cell(f, keys[i]);
		fprintf(f, " %" PRIu64, v);
	}
	if (!shown)
		fputs("0", f);
	free(keys);
}

static void md_row(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "| %s | %" PRIu64 " |\n", name, v);
}

/* One row "| LEAD reason | N |" per reason of an object of counts that
 * is not 0 (a snapshot's malformed or inner_reason). */
static void md_reason_rows(FILE *f, const char *lead, json_object *reasons)
{
	if (!json_object_is_type(reasons, json_type_object))
		return;
	json_object_object_foreach(reasons, reason, v) {
		if (!snap_u64_of(v))
			continue;
		fprintf(f, "| %s", lead);
		md_cell(f, reason);
		fprintf(f, " | %" PRIu64 " |\n", snap_u64_of(v));
	}
}

static void md_counters(FILE *f, json_object *snap)
{
	json_object *st = snap_get(snap, "stats", json_type_object);
	json_object *mal = snap_get(st, "malformed", json_type_object);
	json_object *hooks = snap_get(st, "hooks", json_type_object);
	uint64_t malformed = snap_get(st, "malformed_total", json_type_int) ?
			     snap_u64(st, "malformed_total") : snap_sum(mal);
	uint64_t evicted = snap_u64(st, "evicted_dests");
	uint64_t drops = snap_u64(st, "ringbuf_drops");
	uint64_t fails = snap_u64(st, "dest_update_fail") +
			 snap_u64(st, "pair_update_fail");

	fputs("## Counters\n\n", f);
	fputs("| Counter | Value |\n|---|--:|\n", f);
	md_row(f, "frames seen", snap_u64(st, "frames"));
	fputs("| packets by class | ", f);
	md_counts(f, snap_get(st, "packets", json_type_object), true);
	fputs(" |\n| bytes by class | ", f);
	md_counts(f, snap_get(st, "bytes", json_type_object), true);
	fputs(" |\n", f);
	md_row(f, "non-IP frames", snap_u64(st, "non_ip"));
	if (snap_get(st, "macsec", json_type_int))	/* since issue 13 */
		md_row(f, "MACsec frames", snap_u64(st, "macsec"));
	if (snap_get(st, "mpls_other", json_type_int))
		md_row(f, "MPLS frames without IP", snap_u64(st, "mpls_other"));
	if (snap_get(st, "pppoe_other", json_type_int))
		md_row(f, "PPPoE frames without IP", snap_u64(st, "pppoe_other"));
	md_row(f, "malformed frames", malformed);
	md_reason_rows(f, "malformed: ", mal);
	if (snap_get(st, "inner_packets", json_type_int)) {	/* schema 3 */
		json_object *inner = snap_get(st, "inner_reason", json_type_object);

		md_row(f, "packets inside tunnels, counted", snap_u64(st, "inner_packets"));
		md_reason_rows(f, "inside tunnels, not counted: ", inner);
	}
	md_row(f, "VLAN-tagged frames", snap_u64(st, "vlan_frames"));
	md_row(f, "GSO frames", snap_u64(st, "gso_frames"));
	fprintf(f, "| destinations tracked | %" PRIu64 " of %" PRIu64 " |\n",
		snap_u64(st, "dests"), snap_u64(st, "max_dests"));
	md_row(f, "destinations seen", snap_u64(st, "new_dests"));
	md_row(f, "destinations evicted", evicted);
	md_row(f, "destination update failures", snap_u64(st, "dest_update_fail"));
	fputs("| alerts by kind | ", f);
	md_counts(f, snap_get(st, "alerts", json_type_object), false);
	fputs(" |\n| violations by kind | ", f);
	md_counts(f, snap_get(st, "violations", json_type_object), false);
	fputs(" |\n", f);
	md_row(f, "evidence samples", snap_u64(st, "sampled"));
	md_row(f, "samples suppressed (rate limit)", snap_u64(st, "suppressed"));
	md_row(f, "ring buffer drops", drops);
	md_row(f, "pair update failures", snap_u64(st, "pair_update_fail"));
	if (json_object_is_type(hooks, json_type_object)) {
		json_object_object_foreach(hooks, h, hs) {
			fputs("| frames at ", f);
			md_cell(f, h);
			fprintf(f, " | %" PRIu64 " |\n", snap_u64(hs, "frames"));
		}
	}
	fputc('\n', f);
	if (evicted)
		fprintf(f, "> %" PRIu64 " destination%s evicted (the map was "
			"full): the per-destination counts leave %s out; the "
			"totals by class above are complete.\n\n", evicted,
			evicted == 1 ? " was" : "s were", evicted == 1 ? "it" : "them");
	if (drops)
		fprintf(f, "> %" PRIu64 " evidence sample%s lost (ring buffer "
			"full): the alerts above are incomplete.\n\n", drops,
			drops == 1 ? " was" : "s were");
	if (fails)
		fprintf(f, "> %" PRIu64 " map update%s failed: some packets are in "
			"the totals only.\n\n", fails, fails == 1 ? "" : "s");
}

static void md_header(FILE *f, json_object *snap, const struct dest *d, size_t n)
{
	json_object *ifs = snap_get(snap, "interfaces", json_type_array);
	const char *host = snap_str(snap, "host");
	const char *from = snap_str(snap, "started_at"), *to = snap_str(snap, "taken_at");
	size_t nifs = ifs ? json_object_array_length(ifs) : 0;
	int64_t t0, t1;
	char dur[48], hooks[128];

	fprintf(f, "# protomix report: %s\n\n", *host ? host : "unknown host");
	fprintf(f, "- **Host:** %s\n", *host ? host : "-");
	fprintf(f, "- **Kernel:** %s\n", *snap_str(snap, "kernel") ?
		snap_str(snap, "kernel") : "-");
	fprintf(f, "- **Window:** %s to %s", *from ? from : "?", *to ? to : "?");
	if (snap_parse_time(from, &t0) && snap_parse_time(to, &t1) && t1 >= t0)
		fprintf(f, " (%s)", fmt_duration(t1 - t0, dur, sizeof(dur)));
	fputs("\n- **Interfaces:** ", f);
	for (size_t i = 0; i < nifs; i++) {
		json_object *io = json_object_array_get_idx(ifs, i);

		fprintf(f, "%s%s (%s)", i ? "; " : "", snap_str(io, "name"),
			join_strings(snap_get(io, "hooks", json_type_array), ", ",
				     hooks, sizeof(hooks)));
	}
	fputs(nifs ? "\n" : "-\n", f);
	fprintf(f, "- **Schema:** %s\n\n", *snap_str(snap, "schema") ?
		snap_str(snap, "schema") : "-");

	/* The finding first: who received what it should not have. */
	fputs("## Summary\n\n", f);
	{
		json_object *alerts = snap_get(snap, "alerts", json_type_array);
		json_object *kinds = snap_get(snap_get(snap, "stats", json_type_object),
					      "alerts", json_type_object);
		size_t na = alerts ? json_object_array_length(alerts) : 0;
		int said = 0;

		for (size_t i = 0; i < n; i++) {
			json_object *ex = snap_get(d[i].o, "expected", json_type_array);
			char exp[256];

			if (!dest_has_exp(&d[i]) || !md_outside(NULL, &d[i], ex))
				continue;
			if (said++ == 10) {
				fputs("- ... (see Expectations)\n", f);
				break;
			}
			fprintf(f, "- **%s** expected %s, received ", d[i].addr,
				join_strings(ex, ", ", exp, sizeof(exp)));
			md_outside(f, &d[i], ex);
			fputc('\n', f);
		}
		if (!said)
			fputs("- No destination received a class outside its "
			      "expectation.\n", f);
		fprintf(f, "- %zu destination%s; %zu alert%s in this snapshot",
			n, n == 1 ? "" : "s", na, na == 1 ? "" : "s");
		if (snap_sum(kinds)) {
			fputs(" (raised in all: ", f);
			md_counts(f, kinds, false);
			fputs(")", f);
		}
		fputs(".\n\n", f);
	}
}

int export_md(FILE *f, json_object *snap)
{
	struct dest *d;
	size_t n = dests_sorted(snap, &d);

	md_header(f, snap, d, n);
	md_alerts(f, snap);
	md_dests(f, d, n);
	md_expectations(f, d, n);
	md_counters(f, snap);
	free(d);
	return ferror(f) ? -EIO : 0;
}

/* ---- CSV ----------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int export_csv(FILE *f, json_object *snap)
{
	struct dest *d;
	size_t n = dests_sorted(snap, &d);
	char exp[512], via[160];

	fputs("addr,class,packets,bytes,first_seen,last_seen,expected,violations,via\n", f);
	for (size_t i = 0; i < n; i++) {
		json_object *packets = snap_get(d[i].o, "packets", json_type_object);
		json_object *bytes = snap_get(d[i].o, "bytes", json_type_object);
		const char **keys;
		size_t nk = class_keys(packets, &keys);

		join_strings(snap_get(d[i].o, "expected", json_type_array), ";",
			     exp, sizeof(exp));
		join_strings(snap_get(d[i].o, "via", json_type_array), ";",
			     via, sizeof(via));
		for (size_t k = 0; k < nk; k++) {
			uint64_t p = snap_u64(packets, keys[k]);

			if (!p)
				continue;
			csv_field(f, d[i].addr);
			fputc(',', f);
			csv_field(f, keys[k]);
			fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", p, snap_u64(bytes, keys[k]));
			csv_field(f, snap_str(d[i].o, "first_seen"));
			fputc(',', f);
			csv_field(f, snap_str(d[i].o, "last_seen"));
			fputc(',', f);
			csv_field(f, exp);
			fprintf(f, ",%" PRIu64 ",", snap_u64(d[i].o, "violations"));
			csv_field(f, via);
			fputc('\n', f);
		}
		free(keys);
	}
	free(d);
	return ferror(f) ? -EIO : 0;
}
