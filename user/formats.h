/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The formats of `protomix snapshot -f`, one door for all of them: the
 * JSON document itself, the Markdown report and the CSV (export.h), the
 * HTML page and the SVG chart (html.h).
 */
#ifndef PM_FORMATS_H
#define PM_FORMATS_H

#include <json-c/json.h>

enum export_fmt {
	EXPORT_JSON = 0,
	EXPORT_MD,
	EXPORT_CSV,
	EXPORT_HTML,	/* html.h: the page for a ticket */
	EXPORT_SVG,	/* html.h: one destination's chart */
};

/* "json", "md", "csv", "html", "svg" -> enum export_fmt, or -1. */
int export_fmt_from_name(const char *name);

/* snap in fmt to path by write_output (util.h): a file atomically with
 * mode 0600, a device or FIFO as a stream; stdout if path is NULL or "-".
 * JSON is written as is (pretty): remove "evidence" first if it should not
 * be there; html takes the alerts' evidence lines from it. dest: the
 * destination of EXPORT_SVG's chart (NULL for the other formats). 0, or
 * -errno with a line on stderr naming the file. */
int export_write(const char *path, enum export_fmt fmt, json_object *snap,
		 const char *dest);

#endif
