// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot reader's checks of one field against the schema
 * (snapdoc_parse.h): where a field stands ("destinations[3].packets.esp"),
 * built only when a message names it, and text quoted for messages; a
 * kept string (at most SNAP_MAX_STR bytes, no NUL), a count (an integer
 * 0 to 2^64-1), the object or array that must stand at the cursor, a
 * member given once. What snapdoc_dests.c and snapdoc.c check their
 * fields with, over snapdoc_json.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "snapdoc_parse.h"
#include "util.h"

/* ---- the schema ---------------------------------------------------- */

/* s (len bytes, maybe with NULs) quoted for a message: printable ASCII as
 * is, the rest as \xNN, at most 64 bytes shown. */
char *rd_quote(const char *s, size_t len, char *buf, size_t cap)
{
	size_t n = 0;

	buf[n++] = '"';
	for (size_t i = 0; i < len && n + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 64) {
			n += (size_t)snprintf(buf + n, cap - n, "...");
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, cap - n, "\\x%02x", c);
	}
	buf[n++] = '"';
	buf[n] = 0;
	return buf;
}

const char *rd_where_text(const struct where *w, char *buf, size_t cap)
{
	size_t n = (size_t)snprintf(buf, cap, "%s", w->top);
	char q[96];

	if (w->i && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, "[%zu]", w->i - 1);
	if (w->field && n < cap)
		n += (size_t)snprintf(buf + n, cap - n, ".%s", w->field);
	if (w->key && n < cap) {
		if (!w->longkey && *w->key &&
		    strspn(w->key, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(w->key))
			n += (size_t)snprintf(buf + n, cap - n, ".%s", w->key);
		else
			n += (size_t)snprintf(buf + n, cap - n, ".%s%s",
					      rd_quote(w->key, strlen(w->key), q, sizeof(q)),
					      w->longkey ? "..." : "");
	}
	if (w->j && n < cap)
		snprintf(buf + n, cap - n, "[%zu]", w->j - 1);
	return buf;
}

/* A kept string: at most SNAP_MAX_STR bytes, no NUL. out holds
 * SNAP_MAX_STR + 1 bytes; path names the field in messages. */
bool rd_kept_string(struct rd *r, char *out, size_t *len, const struct where *w)
{
	const char *t = rd_type_at(r);

	if (strcmp(t, "a string")) {
		if (r->status)
			return false;
		rd_err(r, EXIT_USAGE, "%s: %s, not a string", W(w), t);
		return false;
	}
	if (!rd_string(r, out, SNAP_MAX_STR, len))
		return false;
	if (*len > SNAP_MAX_STR) {
		rd_err(r, EXIT_USAGE, "%s: a string of %zu bytes, over %d", W(w), *len,
		       SNAP_MAX_STR);
		return false;
	}
	out[*len] = 0;
	if (strlen(out) != *len) {
		rd_err(r, EXIT_USAGE, "%s: a string with a NUL byte", W(w));
		return false;
	}
	return true;
}

/* A count: digits only, 0 .. 2^64-1. */
bool rd_count(struct rd *r, uint64_t *v, const struct where *w)
{
	const char *t = rd_type_at(r);
	bool cnt, big;

	if (strcmp(t, "a number")) {
		if (!r->status)
			rd_err(r, EXIT_USAGE, "%s: %s, not a count (an integer 0 to 2^64-1)", W(w), t);
		return false;
	}
	if (!rd_number(r, v, &cnt, &big))
		return false;
	if (big) {
		rd_err(r, EXIT_USAGE, "%s: over 2^64-1, not a count", W(w));
		return false;
	}
	if (!cnt) {
		rd_err(r, EXIT_USAGE, "%s: negative or not an integer, not a count "
		       "(an integer 0 to 2^64-1)", W(w));
		return false;
	}
	return true;
}

/* Step into the array or object (kind: "an array", "an object") that
 * must stand here. */
static bool open_kind(struct rd *r, const struct where *w, const char *kind)
{
	const char *t = rd_type_at(r);

	if (strcmp(t, kind)) {
		if (!r->status)
			rd_err(r, EXIT_USAGE, "%s: %s, not %s", W(w), t, kind);
		return false;
	}
	r->p++;
	return rd_enter(r);
}

bool rd_open_array(struct rd *r, const struct where *w)
{
	return open_kind(r, w, "an array");
}

bool rd_open_object(struct rd *r, const struct where *w)
{
	return open_kind(r, w, "an object");
}

/* A member seen twice: bit in *seen. */
bool rd_once(struct rd *r, unsigned int *seen, unsigned int bit, const struct where *w)
{
	if (*seen & bit) {
		rd_err(r, EXIT_USAGE, "%s: given twice", W(w));
		return false;
	}
	*seen |= bit;
	return true;
}
