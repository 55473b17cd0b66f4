// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot reader's JSON layer (snapdoc_parse.h): a cursor over a
 * buffer refilled from the file (or over a document in memory), with
 * the first error kept and reported once, naming the byte; strings
 * (escapes decoded, kept up to a cap), numbers (counts told apart),
 * literals, objects and arrays walked member by member or element by
 * element, and any value skipped, checked for syntax only, no deeper
 * than SNAP_MAX_DEPTH. It knows nothing of the schema.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "snapdoc_parse.h"
#include "util.h"

/* ---- the reader ---------------------------------------------------- */

void rd_err(struct rd *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (r->status)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pm_err("%s: %s", r->name, msg);
	r->status = status;
}

static uint64_t rd_pos(const struct rd *r)
{
	return r->fd < 0 ? (uint64_t)(r->p - (r->end - r->off)) :
	       r->off + (uint64_t)(r->p - r->buf);
}

bool rd_refill(struct rd *r)
{
	ssize_t n;

	if (r->fd < 0 || r->status)
		return false;
	r->off += (uint64_t)(r->end - r->buf);
	for (;;) {
		n = read(r->fd, r->buf, SNAP_BUF);
		if (n >= 0 || errno != EINTR)
			break;
	}
	if (n < 0) {
		rd_err(r, EXIT_USAGE, "cannot read the snapshot: %s", strerror(errno));
		n = 0;
	}
	r->p = r->buf;
	r->end = r->buf + n;
	if (r->off + (uint64_t)n > SNAP_MAX_BYTES) {
		rd_err(r, EXIT_USAGE, "the snapshot grew past the limit of %llu bytes while being read",
		       SNAP_MAX_BYTES);
		r->end = r->p;
		return false;
	}
	return n > 0;
}

void rd_syntax(struct rd *r, const char *what)
{
	int c = r->p < r->end ? *r->p : -1;

	if (c < 0)
		rd_err(r, EXIT_USAGE, "not JSON (unexpected end of file at byte %" PRIu64 ")",
		       rd_pos(r));
	else if (c >= 0x21 && c < 0x7f)
		rd_err(r, EXIT_USAGE, "not JSON (%s, found '%c' at byte %" PRIu64 ")",
		       what, c, rd_pos(r));
	else
		rd_err(r, EXIT_USAGE, "not JSON (%s, found byte 0x%02x at byte %" PRIu64 ")",
		       what, c, rd_pos(r));
}

bool rd_expect(struct rd *r, int want, const char *what)
{
	if (ws(r) != want) {
		rd_syntax(r, what);
		return false;
	}
	r->p++;
	return true;
}

static int hex4(struct rd *r)
{
	int v = 0, c;

	for (int i = 0; i < 4; i++) {
		c = peek(r);
		if (c >= '0' && c <= '9')
			v = v * 16 + c - '0';
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + c - 'A' + 10;
		else {
			rd_syntax(r, "bad \\u escape");
			return -1;
		}
		r->p++;
	}
	return v;
}

static void put(char *out, size_t cap, size_t *len, int c)
{
	if (out && *len < cap)
		out[*len] = (char)c;
	(*len)++;
}

/* A string at the cursor (after white space): decoded into out (up to cap
 * bytes, not terminated) if out; its decoded length in *len. false on a
 * syntax error (reported). */
bool rd_string(struct rd *r, char *out, size_t cap, size_t *len)
{
	int c;

	*len = 0;
	if (!rd_expect(r, '"', "a string expected"))
		return false;
	for (;;) {
		/* the plain run of the buffer at once */
		const unsigned char *q = r->p;

		while (q < r->end && *q != '"' && *q != '\\' && *q >= 0x20)
			q++;
		if (out && *len < cap) {
			size_t k = (size_t)(q - r->p) < cap - *len ?
				   (size_t)(q - r->p) : cap - *len;

			memcpy(out + *len, r->p, k);
		}
		*len += (size_t)(q - r->p);
		r->p = q;
		c = peek(r);
		if (c == '"') {
			r->p++;
			return true;
		}
		if (c < 0x20) {
			rd_syntax(r, c < 0 ? "unterminated string" : "control character in a string");
			return false;
		}
		if (c != '\\')
			continue;
		r->p++;
		c = peek(r);
		switch (c) {
		case '"': case '\\': case '/':
			break;
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': {
			int u, lo;

			r->p++;
			if ((u = hex4(r)) < 0)
				return false;
			if (u >= 0xd800 && u < 0xdc00) {
				if (peek(r) != '\\' || (r->p++, peek(r) != 'u')) {
					rd_syntax(r, "lone surrogate in a \\u escape");
					return false;
				}
				r->p++;
				if ((lo = hex4(r)) < 0)
					return false;
				if (lo < 0xdc00 || lo > 0xdfff) {
					rd_syntax(r, "lone surrogate in a \\u escape");
					return false;
				}
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xdc00 && u < 0xe000) {
				rd_syntax(r, "lone surrogate in a \\u escape");
				return false;
			}
			if (u < 0x80) {
				put(out, cap, len, u);
			} else if (u < 0x800) {
				put(out, cap, len, 0xc0 | u >> 6);
				put(out, cap, len, 0x80 | (u & 0x3f));
			} else if (u < 0x10000) {
				put(out, cap, len, 0xe0 | u >> 12);
				put(out, cap, len, 0x80 | ((u >> 6) & 0x3f));
				put(out, cap, len, 0x80 | (u & 0x3f));
			} else {
				put(out, cap, len, 0xf0 | u >> 18);
				put(out, cap, len, 0x80 | ((u >> 12) & 0x3f));
				put(out, cap, len, 0x80 | ((u >> 6) & 0x3f));
				put(out, cap, len, 0x80 | (u & 0x3f));
			}
			continue;
		}
		default:
			rd_syntax(r, "bad escape in a string");
			return false;
		}
		r->p++;
		put(out, cap, len, c);
	}
}

/* One or more digits at the cursor, skipped (a fraction, an exponent). */
static bool digits(struct rd *r)
{
	int c = peek(r);

	if (c < '0' || c > '9') {
		rd_syntax(r, "a digit expected");
		return false;
	}
	while ((c = peek(r)) >= '0' && c <= '9')
		r->p++;
	return true;
}

/* A number at the cursor. *u is its value and *count true if it is a
 * count (digits only, at most 2^64-1); *big if digits only but larger. */
bool rd_number(struct rd *r, uint64_t *u, bool *count, bool *big)
{
	int c = peek(r);
	bool digits_only = true, over = false;
	uint64_t v = 0;

	if (c == '-') {
		digits_only = false;
		r->p++;
		c = peek(r);
	}
	if (c < '0' || c > '9') {
		rd_syntax(r, "a digit expected");
		return false;
	}
	if (c == '0') {
		r->p++;
		c = peek(r);
	} else {
		while (c >= '0' && c <= '9') {
			if (v > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
				over = true;
			v = v * 10 + (uint64_t)(c - '0');
			r->p++;
			c = peek(r);
		}
	}
	if (c == '.') {
		digits_only = false;
		r->p++;
		if (!digits(r))
			return false;
		c = peek(r);
	}
	if (c == 'e' || c == 'E') {
		digits_only = false;
		r->p++;
		c = peek(r);
		if (c == '+' || c == '-')
			r->p++;
		if (!digits(r))
			return false;
	}
	*u = v;
	*count = digits_only && !over;
	*big = digits_only && over;
	return true;
}

static bool literal(struct rd *r, const char *word)
{
	for (const char *w = word; *w; w++) {
		if (peek(r) != *w) {
			rd_syntax(r, "a value expected");
			return false;
		}
		r->p++;
	}
	return true;
}

const char *rd_type_at(struct rd *r)
{
	switch (ws(r)) {
	case '"': return "a string";
	case '{': return "an object";
	case '[': return "an array";
	case 't': case 'f': return "a boolean";
	case 'n': return "null";
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9': return "a number";
	default: return "nothing";
	}
}

/* Members of an object, after its '{': calls member(key) for each, with
 * the cursor on the value; member must consume it. Keys over 63 bytes
 * reach member truncated, with *long set (none is known). */
bool rd_members(struct rd *r, member_fn member, void *ctx)
{
	char key[64];
	size_t len;

	if (ws(r) == '}') {
		r->p++;
		return true;
	}
	for (;;) {
		if (!rd_string(r, key, sizeof(key) - 1, &len))
			return false;
		key[len < sizeof(key) - 1 ? len : sizeof(key) - 1] = 0;
		if (!rd_expect(r, ':', "':' expected"))
			return false;
		if (!member(r, key, len >= sizeof(key) - 1 || strlen(key) != len, ctx))
			return false;
		if (ws(r) == ',') {
			r->p++;
			continue;
		}
		return rd_expect(r, '}', "',' or '}' expected");
	}
}

bool rd_skip_member(struct rd *r, const char *key, bool longkey, void *ctx)
{
	(void)key;
	(void)longkey;
	(void)ctx;
	return rd_skip_value(r);
}

bool rd_enter(struct rd *r)
{
	if (++r->depth > SNAP_MAX_DEPTH) {
		rd_err(r, EXIT_USAGE, "nested deeper than %d levels at byte %" PRIu64,
		       SNAP_MAX_DEPTH, rd_pos(r) - 1);
		return false;
	}
	return true;
}

/* Any JSON value, checked for syntax only. */
bool rd_skip_value(struct rd *r)
{
	uint64_t u;
	bool cnt, big, ok;
	size_t len;

	switch (ws(r)) {
	case '"':
		return rd_string(r, NULL, 0, &len);
	case '{':
		r->p++;
		if (!rd_enter(r))
			return false;
		ok = rd_members(r, rd_skip_member, NULL);
		r->depth--;
		return ok;
	case '[':
		r->p++;
		if (!rd_enter(r))
			return false;
		if (ws(r) == ']') {
			r->p++;
			r->depth--;
			return true;
		}
		do {
			if (!rd_skip_value(r))
				return false;
		} while (ws(r) == ',' && (r->p++, true));
		r->depth--;
		return rd_expect(r, ']', "',' or ']' expected");
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	default:
		return rd_number(r, &u, &cnt, &big);
	}
}

/* Elements of an array after its '[': each(index) consumes one. */
bool rd_elements(struct rd *r, elem_fn each, void *ctx)
{
	size_t i = 0;

	if (ws(r) == ']') {
		r->p++;
		r->depth--;
		return true;
	}
	for (;;) {
		if (!each(r, i++, ctx))
			return false;
		if (ws(r) == ',') {
			r->p++;
			continue;
		}
		if (!rd_expect(r, ']', "',' or ']' expected"))
			return false;
		r->depth--;
		return true;
	}
}
