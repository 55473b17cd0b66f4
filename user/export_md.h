/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the Markdown report (export.h): what export.c (the report, its
 * destinations and counters) and evidence.c (its alerts section, the
 * alert lines, the evidence as pcap) call across. Nothing else includes
 * it.
 */
#ifndef PM_EXPORT_MD_H
#define PM_EXPORT_MD_H

#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

/* export.c */

/* Text in a table cell: '|' escaped, line breaks as spaces. */
void md_cell(FILE *f, const char *s);

/* evidence.c */

/* The report's alerts: grouped by flow in a table, then each group's
 * evidence lines (at most EXPORT_MD_GROUPS groups, EXPORT_MD_LINES
 * distinct lines each). */
void md_alerts(FILE *f, json_object *snap);

#endif
