// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Tolerant readers of a snapshot document in memory (snapjson.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "classes.h"
#include "snapjson.h"
#include "util.h"

/* ---- tolerant readers ---------------------------------------------- */

json_object *snap_get(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !v ||
	    !json_object_is_type(v, type))
		return NULL;
	return v;
}

const char *snap_str(json_object *o, const char *key)
{
	json_object *v = snap_get(o, key, json_type_string);

	return v ? json_object_get_string(v) : "";
}

uint64_t snap_u64_of(json_object *v)
{
	double d;

	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) < 0 ? 0 : json_object_get_uint64(v);
	if (json_object_is_type(v, json_type_double)) {
		d = json_object_get_double(v);
		return d >= 0 && d < 1.8e19 ? (uint64_t)d : 0;
	}
	return 0;
}

uint64_t snap_u64(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return 0;
	return snap_u64_of(v);
}

uint64_t snap_sum(json_object *counts)
{
	uint64_t sum = 0;

	if (!json_object_is_type(counts, json_type_object))
		return 0;
	json_object_object_foreach(counts, k, v) {
		(void)k;
		sum += snap_u64_of(v);
	}
	return sum;
}

static int class_rank(const char *name)
{
	int c = class_from_name(name);

	return c < 0 ? PM_NCLASS : c;
}

int snap_cmp_class(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int rx = class_rank(x), ry = class_rank(y);

	return rx != ry ? rx - ry : strcmp(x, y);
}

int snap_cmp_addr(const char *a, const char *b)
{
	uint8_t x[16], y[16];
	bool px = parse_addr(a, x), py = parse_addr(b, y);

	if (px && py) {
		if (addr_is_v4(x) != addr_is_v4(y))
			return addr_is_v4(x) ? -1 : 1;
		return memcmp(x, y, 16);
	}
	if (px != py)
		return px ? -1 : 1;
	return strcmp(a, b);
}

char *snap_fmt_share(uint64_t part, uint64_t total, char *buf, size_t len)
{
	double pct = total ? 100.0 * (double)part / (double)total : 0;

	size_t n;

	if (part && pct < 0.05) {
		snprintf(buf, len, "<0.1%%");
	} else if (part < total && pct >= 99.95) {
		snprintf(buf, len, ">99.9%%");
	} else {
		/* one decimal, none if it is 0: "95%", "4.8%" */
		n = snprintf(buf, len, "%.1f", pct);
		if (n >= len)
			return buf;
		if (n >= 2 && !strcmp(buf + n - 2, ".0"))
			n -= 2;
		snprintf(buf + n, len - n, "%%");
	}
	return buf;
}

bool snap_parse_time(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t frac = 0, scale = 1000000000;

	if (!p)
		return false;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	time_t secs;

	if (strcmp(p, "Z"))
		return false;
	secs = timegm(&tm);
	/* years 1970 to 2262: what fits in int64 nanoseconds */
	if (secs < 0 || secs > INT64_MAX / 1000000000 - 1)
		return false;
	*ns = (int64_t)secs * 1000000000 + frac;
	return true;
}

/* A JSON array of strings joined by sep ("" if none). */
char *join_strings(json_object *arr, const char *sep, char *buf, size_t len)
{
	size_t n = arr ? json_object_array_length(arr) : 0, off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string))
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? sep : "",
				json_object_get_string(v));
	}
	return buf;
}
