/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the Markdown report (export.h): what export.c (the report, its
 * destinations and counters) and export_alerts.c (its alerts section, the
 * alert lines, the evidence as pcap) share; export.c calls down into
 * export_alerts.c, never the other way. Nothing else includes it.
 */
#ifndef PM_EXPORT_MD_H
#define PM_EXPORT_MD_H

#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

/* Text in a table cell: '|' escaped, line breaks as spaces. */
static inline void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* export_alerts.c */

/* The report's alerts: grouped by flow in a table, then each group's
 * evidence lines (at most EXPORT_MD_GROUPS groups, EXPORT_MD_LINES
 * distinct lines each). */
void md_alerts(FILE *f, json_object *snap);

#endif
