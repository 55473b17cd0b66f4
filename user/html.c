// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A snapshot as an HTML report and SVG charts (html.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "classes.h"
#include "evidence.h"
#include "export.h"
#include "html.h"

/* ---- text ---------------------------------------------------------- */

/* s with &, <, >, " escaped for element text and attribute values. */
static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			/* control characters have no place in XML 1.0 */
			fputc((unsigned char)*s < 0x20 && *s != '\t' ? '?' : *s, f);
		}
	}
}

/* "12:38:19" (UTC) of ns since the epoch; with ms if `ms`. */
static char *hms(int64_t ns, bool ms, char *buf, size_t len)
{
	time_t secs = ns / 1000000000;
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%H:%M:%S", &tm);
	if (ms)
		snprintf(buf + n, len - n, ".%03d", (int)(ns % 1000000000 / 1000000));
	return buf;
}

/* ---- colours ------------------------------------------------------- */

static const struct { const char *cls, *color; } colors[] = {
	{ "tcp", "#4e79a7" },	{ "udp", "#59a14f" },	{ "icmp", "#76b7b2" },
	{ "icmp6", "#4b9b94" },	{ "sctp", "#b07aa1" },	{ "ike", "#edc948" },
	{ "gre", "#9c755f" },	{ "ipip", "#bab0ac" },	{ "ipv6_encap", "#79706e" },
	{ "other", "#c9c9c9" },	{ "vxlan", "#a0cbe8" },	{ "geneve", "#8cd17d" },
	{ "gtp_u", "#f1ce63" },
	/* warning colours: what a TCP service should never receive */
	{ "esp", "#d62728" },	{ "ah", "#ff7f0e" },	{ "esp_udp", "#c2185b" },
	{ "wireguard", "#8c1a00" },
};
#define COLOR_UNKNOWN "#999999"

const char *html_class_color(const char *cls)
{
	for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
		if (!strcmp(colors[i].cls, cls))
			return colors[i].color;
	return COLOR_UNKNOWN;
}

static bool class_warns(const char *cls)
{
	return !strcmp(cls, "esp") || !strcmp(cls, "ah") || !strcmp(cls, "esp_udp") ||
	       !strcmp(cls, "wireguard");
}

/* ---- the chart ----------------------------------------------------- */

#define PAD_L	64
#define PAD_R	150
#define PAD_T	58
#define PAD_B	40
#define PLOT_W	(HTML_CHART_W - PAD_L - PAD_R)
#define PLOT_H	(HTML_CHART_H - PAD_T - PAD_B)
#define MAX_SERIES 32
#define MAX_TICKS 8

struct chart {
	json_object *dest;		/* the history entry */
	json_object *starts, *lens;	/* the history's, per interval */
	size_t nint, from;		/* intervals in all; first of dest */
	double total_ms;		/* the window: first start to last end */
	double interval_ms;		/* configured, for lengths not given */
	int64_t start_ns;		/* wall clock of the window's start */
	const char *cls[MAX_SERIES];	/* the classes, in class order */
	json_object *series[MAX_SERIES];
	size_t ncls;
	double ymax;			/* packets/s at the top */
};

static double arr_num(json_object *a, size_t i)
{
	json_object *v = a ? json_object_array_get_idx(a, i) : NULL;

	return v && (json_object_is_type(v, json_type_int) ||
		     json_object_is_type(v, json_type_double)) ?
	       json_object_get_double(v) : 0;
}

static double ival_len(const struct chart *c, size_t k)
{
	double l = arr_num(c->lens, k);

	return l > 0 ? l : c->interval_ms;
}

static double x_of(const struct chart *c, double ms)
{
	double x = ms / c->total_ms * PLOT_W;

	return PAD_L + (x < 0 ? 0 : x > PLOT_W ? PLOT_W : x);
}

static double y_of(const struct chart *c, double pps)
{
	return PAD_T + PLOT_H - pps / c->ymax * PLOT_H;
}

/* 1, 2 or 5 times a power of ten, at least v. */
static double nice(double v)
{
	double p = 1, m;

	while (p * 10 <= v)
		p *= 10;
	while (p > v)
		p /= 10;
	m = v / p;

	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static double pps_at(const struct chart *c, size_t s, size_t k)
{
	return arr_num(c->series[s], k - c->from) / (ival_len(c, k) / 1000);
}

static bool chart_init(struct chart *c, json_object *hist, json_object *dest)
{
	json_object *pk = snap_get(dest, "packets", json_type_object);
	int64_t t0;
	double top = 0;

	memset(c, 0, sizeof(*c));
	c->dest = dest;
	c->starts = snap_get(hist, "starts_ms", json_type_array);
	c->lens = snap_get(hist, "lens_ms", json_type_array);
	c->nint = c->starts ? json_object_array_length(c->starts) : 0;
	c->from = snap_u64(dest, "from");
	c->interval_ms = 1000 * json_object_get_double(
		snap_get(hist, "interval_s", json_type_double) ?:
		snap_get(hist, "interval_s", json_type_int));
	if (c->interval_ms <= 0)
		c->interval_ms = 1000;
	if (!snap_parse_time(snap_str(hist, "start"), &t0))
		t0 = 0;
	c->start_ns = t0;
	if (c->nint)
		c->total_ms = arr_num(c->starts, c->nint - 1) + ival_len(c, c->nint - 1);
	if (c->total_ms <= 0)
		c->total_ms = c->interval_ms;
	if (json_object_is_type(pk, json_type_object)) {
		json_object_object_foreach(pk, k, v) {
			if (c->ncls < MAX_SERIES && json_object_is_type(v, json_type_array))
				c->cls[c->ncls++] = k;
		}
		qsort(c->cls, c->ncls, sizeof(c->cls[0]), snap_cmp_class);
		for (size_t s = 0; s < c->ncls; s++)
			c->series[s] = snap_get(pk, c->cls[s], json_type_array);
	}
	for (size_t k = c->from; k < c->nint; k++) {
		double sum = 0;

		for (size_t s = 0; s < c->ncls; s++)
			sum += pps_at(c, s, k);
		if (sum > top)
			top = sum;
	}
	c->ymax = nice(top > 0 ? top : 1);
	return true;
}

static void svg_axes(FILE *f, const struct chart *c)
{
	static const int steps[] = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900,
				     1800, 3600, 7200, 21600, 43200, 86400 };
	double total_s = c->total_ms / 1000, step = steps[0], first;
	int64_t step_ns;
	char buf[32];

	/* packets/s: five lines */
	for (int i = 0; i <= 4; i++) {
		double v = c->ymax * i / 4, y = y_of(c, v);

		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
			PAD_L, y, PAD_L + PLOT_W, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"ax\">%g</text>\n",
			PAD_L - 6, y + 4, v);
	}
	fprintf(f, "<text x=\"14\" y=\"%d\" class=\"ax\" transform=\"rotate(-90 14 %d)\" "
		"text-anchor=\"middle\">packets/s</text>\n",
		PAD_T + PLOT_H / 2, PAD_T + PLOT_H / 2);
	/* time: at most MAX_TICKS ticks on whole multiples of a step */
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		step = steps[i];
		if (total_s / step <= MAX_TICKS)
			break;
	}
	step_ns = (int64_t)step * 1000000000;
	first = (double)((c->start_ns + step_ns - 1) / step_ns * step_ns) / 1e9;
	for (double t = first; t <= c->start_ns / 1e9 + total_s; t += step) {
		double x = x_of(c, (t - c->start_ns / 1e9) * 1000);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#555\"/>\n",
			x, PAD_T + PLOT_H, x, PAD_T + PLOT_H + 5);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"ax\">%s</text>\n",
			x, PAD_T + PLOT_H + 18, hms((int64_t)(t * 1e9), false, buf, sizeof(buf)));
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" class=\"ax\">UTC</text>\n",
		PAD_L + PLOT_W, PAD_T + PLOT_H + 34);
}

/* The time axis' line, over the columns and the alert lines. */
static void svg_baseline(FILE *f)
{
	fprintf(f, "<line x1=\"%d\" y1=\"%d.5\" x2=\"%d\" y2=\"%d.5\" stroke=\"#555\" "
		"shape-rendering=\"crispEdges\"/>\n",
		PAD_L, PAD_T + PLOT_H, PAD_L + PLOT_W, PAD_T + PLOT_H);
}

/* One column per interval, the classes stacked. */
static void svg_bars(FILE *f, const struct chart *c)
{
	fputs("<g shape-rendering=\"crispEdges\">\n", f);
	for (size_t k = c->from; k < c->nint; k++) {
		double x0 = x_of(c, arr_num(c->starts, k));
		double x1 = x_of(c, arr_num(c->starts, k) + ival_len(c, k));
		double base = 0;

		for (size_t s = 0; s < c->ncls; s++) {
			double v = pps_at(c, s, k), ytop, ybot;

			if (v <= 0)
				continue;
			ybot = y_of(c, base);
			base += v;
			ytop = y_of(c, base);
			fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
				"fill=\"%s\"><title>%s %.0f packets/s</title></rect>\n",
				x0, ytop, x1 - x0, ybot - ytop,
				html_class_color(c->cls[s]), c->cls[s], v);
		}
	}
	fputs("</g>\n", f);
}

/* The first alert of each kind: a line and its label, stacked above the
 * plot so labels never overlap. */
static void svg_marks(FILE *f, const struct chart *c)
{
	json_object *fa = snap_get(c->dest, "first_alerts", json_type_object);
	int row = 0;
	char buf[32];

	if (!fa)
		return;
	json_object_object_foreach(fa, kind, v) {
		int64_t ns;
		double x;
		bool right;

		if (!json_object_is_type(v, json_type_string) ||
		    !snap_parse_time(json_object_get_string(v), &ns))
			continue;
		x = x_of(c, (ns - c->start_ns) / 1e6);
		x = (double)(int)x + 0.5;	/* a whole pixel column */
		right = x > PAD_L + PLOT_W * 0.6;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"2\" shape-rendering=\"crispEdges\" class=\"mark\"/>\n",
			x, PAD_T - 14 - 14 * row, x, PAD_T + PLOT_H + 5, HTML_MARK_COLOR);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" class=\"mk\">",
			right ? x - 4 : x + 4, PAD_T - 16 - 14 * row, right ? "end" : "start");
		esc(f, kind);
		fprintf(f, " %s</text>\n", hms(ns, true, buf, sizeof(buf)));
		row++;
	}
}

static void svg_legend(FILE *f, const struct chart *c)
{
	int x = PAD_L + PLOT_W + 16;

	for (size_t s = 0; s < c->ncls; s++) {
		int y = PAD_T + 4 + 18 * (int)(c->ncls - 1 - s);

		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n",
			x, y, html_class_color(c->cls[s]));
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"%s\">", x + 18, y + 11,
			class_warns(c->cls[s]) ? "lw" : "lg");
		esc(f, c->cls[s]);
		fputs("</text>\n", f);
	}
}

static void svg_chart(FILE *f, json_object *hist, json_object *dest)
{
	struct chart c;

	chart_init(&c, hist, dest);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		HTML_CHART_W, HTML_CHART_H, HTML_CHART_W, HTML_CHART_H);
	fputs("<title>", f);
	esc(f, snap_str(dest, "addr"));
	fputs(": packets per second by class</title>\n", f);
	fputs("<style>.ax{fill:#333;font-size:11px}.mk{fill:" HTML_MARK_COLOR
	      ";font-size:11px;font-weight:bold}.lg{fill:#222}.lw{fill:#b00000;"
	      "font-weight:bold}.tt{fill:#111;font-size:14px;font-weight:bold}</style>\n", f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		HTML_CHART_W, HTML_CHART_H);
	fprintf(f, "<text x=\"%d\" y=\"16\" class=\"tt\">", PAD_L);
	esc(f, snap_str(dest, "addr"));
	fputs(": packets/s by class</text>\n", f);
	svg_axes(f, &c);
	svg_bars(f, &c);
	svg_marks(f, &c);
	svg_baseline(f);
	svg_legend(f, &c);
	fputs("</svg>\n", f);
}

json_object *html_history_dest(json_object *snap, const char *dest)
{
	json_object *ds = snap_get(snap_get(snap, "history", json_type_object),
				   "dests", json_type_array);
	size_t n = ds ? json_object_array_length(ds) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(ds, i);

		if (!strcmp(snap_str(d, "addr"), dest))
			return d;
	}
	return NULL;
}

int export_svg(FILE *f, json_object *snap, const char *dest)
{
	json_object *d = html_history_dest(snap, dest);

	if (!d)
		return -ENOENT;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	svg_chart(f, snap_get(snap, "history", json_type_object), d);
	return ferror(f) ? -EIO : 0;
}

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
			esc(f, snap_str(snap, "started_at"));
			fputs(" to ", f);
			esc(f, snap_str(snap, "taken_at"));
		} else if (r == 3) {
			for (size_t i = 0; i < nifs; i++) {
				json_object *io = json_object_array_get_idx(ifs, i);
				json_object *h = snap_get(io, "hooks", json_type_array);

				fputs(i ? "; " : "", f);
				esc(f, snap_str(io, "name"));
				fputs(" (", f);
				for (size_t k = 0; h && k < json_object_array_length(h); k++) {
					fputs(k ? ", " : "", f);
					esc(f, json_object_get_string(json_object_array_get_idx(h, k)));
				}
				fputs(")", f);
			}
		} else {
			esc(f, *rows[r][1] ? rows[r][1] : "-");
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
			esc(f, json_object_get_string(json_object_array_get_idx(v, k)));
		}
		fputc(')', f);
	} else if (*one) {
		fputs(" (via ", f);
		esc(f, one);
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
		esc(f, g[i].kind);
		fputs("</td><td>", f);
		esc(f, g[i].dst);
		html_via(f, g[i].a);
		fputs("</td><td>", f);
		esc(f, g[i].class);
		fprintf(f, "</td><td class=\"n\">%zu</td><td>", g[i].n);
		esc(f, g[i].t_first);
		fputs("</td><td>", f);
		esc(f, g[i].t_last);
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
			esc(f, snap_str(a, "time"));
			fputc(' ', f);
			esc(f, snap_str(a, "iface"));
			fputc(' ', f);
			esc(f, snap_str(a, "dir"));
			fputc(' ', f);
			esc(f, export_alert_line(a, ev, line, sizeof(line)));
			fputs(" [", f);
			esc(f, g[i].kind);
			for (size_t e = 0; ex && e < json_object_array_length(ex); e++) {
				fputs(e ? "," : ": expected ", f);
				esc(f, json_object_get_string(json_object_array_get_idx(ex, e)));
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
		svg_chart(f, hist, d);
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
			class_warns(names[i]) ? " class=\"warn\"" : "");
		esc(f, names[i]);
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
		esc(f, snap_str(d, "addr"));
		html_via(f, d);
		fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
			"</td><td>", total, snap_sum(snap_get(d, "bytes", json_type_object)));
		html_mix(f, pk, total);
		fputs("</td><td>", f);
		for (size_t e = 0; ex && e < json_object_array_length(ex); e++) {
			fputs(e ? ", " : "", f);
			esc(f, json_object_get_string(json_object_array_get_idx(ex, e)));
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
		esc(f, names[i]);
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
	esc(f, *host ? host : "unknown host");
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
	fputs("<h1>protomix report: ", f);
	esc(f, *host ? host : "unknown host");
	fputs("</h1>\n", f);
	html_facts(f, snap);
	html_alerts(f, snap, evidence);
	html_charts(f, snap);
	html_top(f, snap);
	html_counters(f, snap);
	fputs("</body>\n</html>\n", f);
	return ferror(f) ? -EIO : 0;
}
