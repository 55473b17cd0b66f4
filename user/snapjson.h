/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A snapshot document (protomix.snapshot/3, or /2 or /1) in memory, as a json_object:
 * what a running watch hands over, read by export.c, diff.c and `protomix
 * status`. A key that is missing or of the wrong type reads as empty,
 * never as a crash. A snapshot file is read and checked through
 * snapdoc.h; snapshot.c writes the document.
 */
#ifndef PM_SNAPJSON_H
#define PM_SNAPJSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/* Tolerant readers of a snapshot document in memory (what a running watch
 * hands over). A snapshot file is read back through snapdoc.h instead. */
/* o[key] if o is an object and it has that key of that type, else NULL. */
json_object *snap_get(json_object *o, const char *key, json_type type);
/* A string member, or "" */
const char *snap_str(json_object *o, const char *key);
/* A non-negative integer member, or 0 */
uint64_t snap_u64(json_object *o, const char *key);
/* The same for a json value itself (0 if not a non-negative integer). */
uint64_t snap_u64_of(json_object *v);
/* The sum of an object of counts ({"tcp":50,"esp":20} -> 70). */
uint64_t snap_sum(json_object *counts);
/* Order of class names: the order of `protomix classes`, unknown names
 * after the known ones, by name. A qsort comparator of const char *. */
int snap_cmp_class(const void *a, const void *b);
/* part of total as a percentage: "95.2%", "<0.1%", "100%", "0%". */
char *snap_fmt_share(uint64_t part, uint64_t total, char *buf, size_t len);
/* Order of addresses as text: numeric (IPv4 before IPv6), unparsable ones
 * after, by text. */
int snap_cmp_addr(const char *a, const char *b);
/* A snapshot's time, "2026-11-27T11:51:03.852511Z" (fmt_time's form), as
 * ns since the epoch; false if not that form or outside 1970 to 2262. */
bool snap_parse_time(const char *s, int64_t *ns);
/* A JSON array of strings joined by sep into buf ("" if none; what does
 * not fit is cut). Returns buf. */
char *join_strings(json_object *arr, const char *sep, char *buf, size_t len);

#endif
