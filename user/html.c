// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A snapshot as an HTML report (html.h): the page's CSS, the facts of
 * the snapshot, the alerts grouped with their first evidence lines, the
 * charts of the alerted destinations, the busiest destinations with
 * their mix, and the counters. The charts, the escaping of text and the
 * class colours are html_chart.c's (html_parts.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "classes.h"
#include "evidence.h"
#include "export.h"
#include "html.h"
#include "html_parts.h"

/* ---- the report ---------------------------------------------------- */

static const char css[] =
"body{font-family:sans-serif;margin:24px;color:#111;max-width:1100px}"
"h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}"
"table{border-collapse:collapse;margin:8px 0}"
"td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px}"
"td.n{text-align:right}th{background:#f2f2f2}"
"pre{background:#f7f7f7;border:1px solid #ddd;padding:8px;font-size:12px;overflow-x:auto}"
".warn{color:#b00000;font-weight:bold}.note{color:#555;font-size:13px}";

static void html_facts(FILE *f, json_object *snap)
{
	json_object *ifs = snap_get(snap, "interfaces", json_type_array);
	size_t nifs = ifs ? json_object_array_length(ifs) : 0;
	const char *rows[][2] = {
		{ "Host", snap_str(snap, "host") },
		{ "Kernel", snap_str(snap, "kernel") },
		{ "Window", NULL },
		{ "Interfaces", NULL },
		{ "Schema", snap_str(snap, "schema") },
	};

	fputs("<table>\n", f);
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		fprintf(f, "<tr><th>%s</th><td>", rows[r][0]);
		if (r == 2) {
			html_esc(f, snap_str(snap, "started_at"));
			fputs(" to ", f);
			html_esc(f, snap_str(snap, "taken_at"));
		} else if (r == 3) {
			for (size_t i = 0; i < nifs; i++) {
				json_object *io = json_object_array_get_idx(ifs, i);
				json_object *h = snap_get(io, "hooks", json_type_array);

				fputs(i ? "; " : "", f);
				html_esc(f, snap_str(io, "name"));
				fputs(" (", f);
				for (size_t k = 0; h && k < json_object_array_length(h); k++) {
					fputs(k ? ", " : "", f);
					html_esc(f, json_object_get_string(json_object_array_get_idx(h, k)));
				}
				fputs(")", f);
			}
		} else {
			html_esc(f, *rows[r][1] ? rows[r][1] : "-");
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* " (via vxlan)" for an object with "via" (a destination's array of
 * tunnels, or an alert's one tunnel), escaped; nothing without. */
static void html_via(FILE *f, json_object *o)
{
	json_object *v = snap_get(o, "via", json_type_array);
	const char *one = snap_str(o, "via");

	if (v && json_object_array_length(v)) {
		fputs(" (via ", f);
		for (size_t k = 0; k < json_object_array_length(v); k++) {
			fputs(k ? "," : "", f);
			html_esc(f, json_object_get_string(json_object_array_get_idx(v, k)));
		}
		fputc(')', f);
	} else if (*one) {
		fputs(" (via ", f);
		html_esc(f, one);
		fputc(')', f);
	}
}

/* Alerts of one kind, destination, class and tunnel. */
struct agroup {
	const char *kind, *dst, *class, *via;
	json_object *a;			/* the first alert */
	size_t first, n;		/* first alert's index, count */
	const char *t_first, *t_last;
};

static struct agroup *group_alerts(json_object *alerts, size_t *ng)
{
	size_t n = alerts ? json_object_array_length(alerts) : 0, m = 0;
	struct agroup *g = calloc(n ? n : 1, sizeof(*g));

	for (size_t i = 0; g && i < n; i++) {
		json_object *a = json_object_array_get_idx(alerts, i);
		const char *k = snap_str(a, "kind"), *d = snap_str(a, "dst"),
			   *c = snap_str(a, "class"), *v = snap_str(a, "via");
		size_t j;

		for (j = 0; j < m; j++)
			if (!strcmp(g[j].kind, k) && !strcmp(g[j].dst, d) &&
			    !strcmp(g[j].class, c) && !strcmp(g[j].via, v))
				break;
		if (j == m)
			g[m++] = (struct agroup){ .kind = k, .dst = d, .class = c,
						  .via = v, .a = a, .first = i,
						  .t_first = snap_str(a, "time") };
		g[j].n++;
		g[j].t_last = snap_str(a, "time");
	}
	*ng = m;
	return g;
}

static void html_alerts(FILE *f, json_object *snap, json_object *evidence)
{
	json_object *alerts = snap_get(snap, "alerts", json_type_array);
	size_t ng = 0, shown;
	struct agroup *g = group_alerts(alerts, &ng);
	char line[EVIDENCE_MAX];

	fputs("<h2>Alerts</h2>\n", f);
	if (!ng) {
		fputs("<p>No alert in this snapshot.</p>\n", f);
		free(g);
		return;
	}
	shown = ng < HTML_GROUPS ? ng : HTML_GROUPS;
	fputs("<table>\n<tr><th>Kind</th><th>Destination</th><th>Class</th>"
	      "<th>Alerts</th><th>First</th><th>Last</th></tr>\n", f);
	for (size_t i = 0; i < shown; i++) {
		fputs("<tr><td class=\"warn\">", f);
		html_esc(f, g[i].kind);
		fputs("</td><td>", f);
		html_esc(f, g[i].dst);
		html_via(f, g[i].a);
		fputs("</td><td>", f);
		html_esc(f, g[i].class);
		fprintf(f, "</td><td class=\"n\">%zu</td><td>", g[i].n);
		html_esc(f, g[i].t_first);
		fputs("</td><td>", f);
		html_esc(f, g[i].t_last);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (shown < ng)
		fprintf(f, "<p class=\"note\">%zu more groups left out.</p>\n", ng - shown);
	fputs("<p>Evidence, the first packets of each group in tcpdump's words:</p>\n<pre>\n", f);
	for (size_t i = 0; i < shown; i++) {
		size_t lines = 0;

		for (size_t k = g[i].first; k < json_object_array_length(alerts) &&
		     lines < HTML_GROUP_LINES; k++) {
			json_object *a = json_object_array_get_idx(alerts, k);
			json_object *ev = evidence ? json_object_array_get_idx(evidence, k) : NULL;
			json_object *ex = snap_get(a, "expected", json_type_array);

			if (strcmp(snap_str(a, "kind"), g[i].kind) ||
			    strcmp(snap_str(a, "dst"), g[i].dst) ||
			    strcmp(snap_str(a, "class"), g[i].class) ||
			    strcmp(snap_str(a, "via"), g[i].via))
				continue;
			html_esc(f, snap_str(a, "time"));
			fputc(' ', f);
			html_esc(f, snap_str(a, "iface"));
			fputc(' ', f);
			html_esc(f, snap_str(a, "dir"));
			fputc(' ', f);
			html_esc(f, export_alert_line(a, ev, line, sizeof(line)));
			fputs(" [", f);
			html_esc(f, g[i].kind);
			for (size_t e = 0; ex && e < json_object_array_length(ex); e++) {
				fputs(e ? "," : ": expected ", f);
				html_esc(f, json_object_get_string(json_object_array_get_idx(ex, e)));
			}
			fputs("]\n", f);
			lines++;
		}
		if (g[i].n > lines)
			fprintf(f, "  ... %zu more\n", g[i].n - lines);
	}
	fputs("</pre>\n", f);
	free(g);
}

static void html_charts(FILE *f, json_object *snap)
{
	json_object *hist = snap_get(snap, "history", json_type_object);
	json_object *ds = snap_get(hist, "dests", json_type_array);
	size_t n = ds ? json_object_array_length(ds) : 0, shown = 0;

	fputs("<h2>Mix over time</h2>\n", f);
	if (!hist) {
		fputs("<p class=\"note\">This snapshot has no history (written by a "
		      "protomix without one, by replay, or by a watch with "
		      "--history-dests 0).</p>\n", f);
		return;
	}
	fprintf(f, "<p class=\"note\">Packets per second by class, one column per "
		"interval of %g s; the first alert of each kind is the purple line. "
		"A column counts its interval's packets, not when within it they "
		"came.</p>\n", json_object_get_double(snap_get(hist, "interval_s",
							       json_type_double)));
	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(ds, i);
		json_object *al = snap_get(d, "alerted", json_type_boolean);

		if (!al || !json_object_get_boolean(al))
			continue;
		fputs("<div class=\"chart\">\n", f);
		html_svg_chart(f, hist, d);
		fputs("</div>\n", f);
		shown++;
	}
	if (!shown)
		fputs("<p>No destination with an alert in the history.</p>\n", f);
}

static void html_mix(FILE *f, json_object *packets, uint64_t total)
{
	const char *names[MAX_SERIES];
	size_t n = 0;
	char pct[16];

	if (json_object_is_type(packets, json_type_object)) {
		json_object_object_foreach(packets, k, v) {
			if (n < MAX_SERIES && snap_u64_of(v))
				names[n++] = k;
		}
	}
	qsort(names, n, sizeof(names[0]), snap_cmp_class);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s<span%s>", i ? ", " : "",
			html_class_warns(names[i]) ? " class=\"warn\"" : "");
		html_esc(f, names[i]);
		fprintf(f, " %s</span>", snap_fmt_share(snap_u64(packets, names[i]),
							total, pct, sizeof(pct)));
	}
	if (!n)
		fputs("-", f);
}

static void html_top(FILE *f, json_object *snap)
{
	json_object *arr = snap_get(snap, "destinations", json_type_array);
	size_t n = arr ? json_object_array_length(arr) : 0;
	size_t shown = n < HTML_TOP ? n : HTML_TOP;

	fprintf(f, "<h2>Top destinations</h2>\n<p class=\"note\">%zu of %zu, "
		"busiest first; (via ...): seen inside those tunnels.</p>\n", shown, n);
	fputs("<table>\n<tr><th>Destination</th><th>Packets</th><th>Bytes</th>"
	      "<th>Class mix</th><th>Expected</th><th>Violations</th></tr>\n", f);
	/* the document's order is busiest first (snapshot.h) */
	for (size_t i = 0; i < shown; i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		json_object *pk = snap_get(d, "packets", json_type_object);
		json_object *ex = snap_get(d, "expected", json_type_array);
		uint64_t total = snap_sum(pk);

		fputs("<tr><td>", f);
		html_esc(f, snap_str(d, "addr"));
		html_via(f, d);
		fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
			"</td><td>", total, snap_sum(snap_get(d, "bytes", json_type_object)));
		html_mix(f, pk, total);
		fputs("</td><td>", f);
		for (size_t e = 0; ex && e < json_object_array_length(ex); e++) {
			fputs(e ? ", " : "", f);
			html_esc(f, json_object_get_string(json_object_array_get_idx(ex, e)));
		}
		fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
			snap_u64(d, "violations"));
	}
	fputs("</table>\n", f);
}

static void html_counts(FILE *f, json_object *o)
{
	const char *names[MAX_SERIES];
	size_t n = 0;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v) {
			if (n < MAX_SERIES && snap_u64_of(v))
				names[n++] = k;
		}
	}
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		html_esc(f, names[i]);
		fprintf(f, " %" PRIu64, snap_u64(o, names[i]));
	}
	if (!n)
		fputs("-", f);
}

static void html_counters(FILE *f, json_object *snap)
{
	static const struct { const char *key, *label; } plain[] = {
		{ "frames", "frames seen" }, { "non_ip", "non-IP frames" },
		{ "malformed_total", "malformed frames" },
		{ "dests", "destinations tracked" }, { "new_dests", "destinations seen" },
		{ "evicted_dests", "destinations evicted" },
		{ "sampled", "evidence samples" },
		{ "suppressed", "samples suppressed (rate limit)" },
		{ "ringbuf_drops", "ring buffer drops" },
	};
	static const struct { const char *key, *label; } objs[] = {
		{ "packets", "packets by class" }, { "alerts", "alerts by kind" },
		{ "violations", "violations by kind" },
	};
	json_object *st = snap_get(snap, "stats", json_type_object);

	fputs("<h2>Counters</h2>\n<table>\n", f);
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		fprintf(f, "<tr><th>%s</th><td class=\"n\">%" PRIu64 "</td></tr>\n",
			plain[i].label, snap_u64(st, plain[i].key));
	if (snap_get(st, "inner_packets", json_type_int)) {	/* schema 3 */
		fprintf(f, "<tr><th>packets inside tunnels, counted</th>"
			"<td class=\"n\">%" PRIu64 "</td></tr>\n",
			snap_u64(st, "inner_packets"));
		fputs("<tr><th>inside tunnels, not counted</th><td>", f);
		html_counts(f, snap_get(st, "inner_reason", json_type_object));
		fputs("</td></tr>\n", f);
	}
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		fprintf(f, "<tr><th>%s</th><td>", objs[i].label);
		html_counts(f, snap_get(st, objs[i].key, json_type_object));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

int export_html(FILE *f, json_object *snap, json_object *evidence)
{
	const char *host = snap_str(snap, "host");

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n", f);
	fputs("<title>protomix report: ", f);
	html_esc(f, *host ? host : "unknown host");
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	fputs("<h1>protomix report: ", f);
	html_esc(f, *host ? host : "unknown host");
	fputs("</h1>\n", f);
	html_facts(f, snap);
	html_alerts(f, snap, evidence);
	html_charts(f, snap);
	html_top(f, snap);
	html_counters(f, snap);
	fputs("</body>\n</html>\n", f);
	return ferror(f) ? -EIO : 0;
}
