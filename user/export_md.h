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

/* A JSON array of strings joined by sep into buf ("" if none). Returns
 * buf. */
char *join_strings(json_object *arr, const char *sep, char *buf, size_t len);
/* Text in a table cell: '|' escaped, line breaks as spaces. */
void md_cell(FILE *f, const char *s);

/* evidence.c */

/* The report's alerts: grouped by flow in a table, then each group's
 * evidence lines (at most EXPORT_MD_GROUPS groups, EXPORT_MD_LINES
 * distinct lines each). */
void md_alerts(FILE *f, json_object *snap);

#endif
