// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A destination's chart of its history as SVG (html.h), inline in the
 * HTML report or a document alone (export_svg): the axes, a column per
 * interval with the classes stacked, the first alert of each kind, the
 * legend. With it what the report shares (html_parts.h): the escaping of
 * text for HTML and SVG, and the classes' colours.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "classes.h"
#include "export.h"
#include "html.h"
#include "html_parts.h"

/* ---- text ---------------------------------------------------------- */

/* s with &, <, >, " escaped for element text and attribute values. */
void html_esc(FILE *f, const char *s)
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

bool html_class_warns(const char *cls)
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
		html_esc(f, kind);
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
			html_class_warns(c->cls[s]) ? "lw" : "lg");
		html_esc(f, c->cls[s]);
		fputs("</text>\n", f);
	}
}

void html_svg_chart(FILE *f, json_object *hist, json_object *dest)
{
	struct chart c;

	chart_init(&c, hist, dest);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		HTML_CHART_W, HTML_CHART_H, HTML_CHART_W, HTML_CHART_H);
	fputs("<title>", f);
	html_esc(f, snap_str(dest, "addr"));
	fputs(": packets per second by class</title>\n", f);
	fputs("<style>.ax{fill:#333;font-size:11px}.mk{fill:" HTML_MARK_COLOR
	      ";font-size:11px;font-weight:bold}.lg{fill:#222}.lw{fill:#b00000;"
	      "font-weight:bold}.tt{fill:#111;font-size:14px;font-weight:bold}</style>\n", f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
		HTML_CHART_W, HTML_CHART_H);
	fprintf(f, "<text x=\"%d\" y=\"16\" class=\"tt\">", PAD_L);
	html_esc(f, snap_str(dest, "addr"));
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
	html_svg_chart(f, snap_get(snap, "history", json_type_object), d);
	return ferror(f) ? -EIO : 0;
}
