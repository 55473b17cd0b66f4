/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A snapshot as a report a person opens: one self-contained HTML file
 * (inline CSS and SVG; no script, no font, no image or style fetched from
 * anywhere), and the chart of one destination as an SVG file alone.
 *
 * The chart: the destination's packets per second by class over the
 * snapshot's "history" window (one column per interval, stacked in the
 * order of `protomix classes`, each class in a fixed colour, the IPsec
 * classes and wireguard in warning colours), the first alert of each
 * kind a vertical line (HTML_MARK_COLOR) labelled with its kind and time,
 * the time axis in UTC. A count tells how many packets an interval had,
 * not when within it they came: the change shows within one interval.
 *
 * The snapshot is any json_object: a missing or mistyped key reads as
 * empty (export.h's tolerant readers), never as a crash.
 */
#ifndef PM_HTML_H
#define PM_HTML_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

#define HTML_CHART_W	880	/* px, the whole chart */
#define HTML_CHART_H	300
#define HTML_MARK_COLOR	"#6a00a8"	/* alert lines: used for nothing else */
#define HTML_TOP	20	/* busiest destinations listed */
#define HTML_GROUP_LINES 5	/* evidence lines per alert group */
#define HTML_GROUPS	50	/* alert groups listed */

/* A class's colour ("#rrggbb"); grey for a name not known. */
const char *html_class_color(const char *cls);

/* The report: host, kernel, window, interfaces; the alerts grouped by
 * kind, destination and class with their first evidence lines
 * (evidence: the "evidence" array of a watch's reply, aligned with
 * "alerts", or NULL); a chart per alerted destination of the history
 * (or a line saying the snapshot has none); the HTML_TOP busiest
 * destinations with their mix; the counters. 0 or -EIO. */
int export_html(FILE *f, json_object *snap, json_object *evidence);

/* The chart of dest (as written in the history's "addr") alone, an SVG
 * document. 0, -EIO, or -ENOENT if dest has no history in snap (nothing
 * written). */
int export_svg(FILE *f, json_object *snap, const char *dest);

/* The history entry of dest in snap, or NULL. */
json_object *html_history_dest(json_object *snap, const char *dest);

#endif
