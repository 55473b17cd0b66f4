// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Reading a snapshot file back, checked and streamed (snapdoc.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "classes.h"
#include "snapdoc.h"
#include "util.h"

#define SNAP_BUF	(256 * 1024)

/* ---- opening ------------------------------------------------------- */

int snap_open(const char *path, int *status)
{
	uint64_t size;

	*status = EXIT_USAGE;
	return input_open(path, "snapshot", SNAP_MAX_BYTES, &size);
}

/* ---- the reader ---------------------------------------------------- */

struct rd {
	const char *name;
	int fd;				/* -1: all in memory */
	const unsigned char *p, *end;
	unsigned char *buf;
	uint64_t off;			/* bytes before buf */
	int status;			/* set at the first error */
	struct snap_doc *doc;
	unsigned int depth;
};

static void rd_err(struct rd *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void rd_err(struct rd *r, int status, const char *fmt, ...)
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

static bool refill(struct rd *r)
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

/* The next byte, or -1 at the end (or after an error). */
static inline int peek(struct rd *r)
{
	if (r->p == r->end && !refill(r))
		return -1;
	return *r->p;
}

static void syntax(struct rd *r, const char *what)
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

/* Skips white space; the next byte or -1. */
static inline int ws(struct rd *r)
{
	int c;

	while ((c = peek(r)) == ' ' || c == '\n' || c == '\r' || c == '\t')
		r->p++;
	return c;
}

static bool expect(struct rd *r, int want, const char *what)
{
	if (ws(r) != want) {
		syntax(r, what);
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
			syntax(r, "bad \\u escape");
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
static bool string(struct rd *r, char *out, size_t cap, size_t *len)
{
	int c;

	*len = 0;
	if (!expect(r, '"', "a string expected"))
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
			syntax(r, c < 0 ? "unterminated string" : "control character in a string");
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
					syntax(r, "lone surrogate in a \\u escape");
					return false;
				}
				r->p++;
				if ((lo = hex4(r)) < 0)
					return false;
				if (lo < 0xdc00 || lo > 0xdfff) {
					syntax(r, "lone surrogate in a \\u escape");
					return false;
				}
				u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			} else if (u >= 0xdc00 && u < 0xe000) {
				syntax(r, "lone surrogate in a \\u escape");
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
			syntax(r, "bad escape in a string");
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
		syntax(r, "a digit expected");
		return false;
	}
	while ((c = peek(r)) >= '0' && c <= '9')
		r->p++;
	return true;
}

/* A number at the cursor. *u is its value and *count true if it is a
 * count (digits only, at most 2^64-1); *big if digits only but larger. */
static bool number(struct rd *r, uint64_t *u, bool *count, bool *big)
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
		syntax(r, "a digit expected");
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
			syntax(r, "a value expected");
			return false;
		}
		r->p++;
	}
	return true;
}

static const char *type_at(struct rd *r)
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

static bool skip_value(struct rd *r);

/* Members of an object, after its '{': calls member(key) for each, with
 * the cursor on the value; member must consume it. Keys over 63 bytes
 * reach member truncated, with *long set (none is known). */
typedef bool (*member_fn)(struct rd *r, const char *key, bool longkey, void *ctx);

static bool members(struct rd *r, member_fn member, void *ctx)
{
	char key[64];
	size_t len;

	if (ws(r) == '}') {
		r->p++;
		return true;
	}
	for (;;) {
		if (!string(r, key, sizeof(key) - 1, &len))
			return false;
		key[len < sizeof(key) - 1 ? len : sizeof(key) - 1] = 0;
		if (!expect(r, ':', "':' expected"))
			return false;
		if (!member(r, key, len >= sizeof(key) - 1 || strlen(key) != len, ctx))
			return false;
		if (ws(r) == ',') {
			r->p++;
			continue;
		}
		return expect(r, '}', "',' or '}' expected");
	}
}

static bool skip_member(struct rd *r, const char *key, bool longkey, void *ctx)
{
	(void)key;
	(void)longkey;
	(void)ctx;
	return skip_value(r);
}

static bool enter(struct rd *r)
{
	if (++r->depth > SNAP_MAX_DEPTH) {
		rd_err(r, EXIT_USAGE, "nested deeper than %d levels at byte %" PRIu64,
		       SNAP_MAX_DEPTH, rd_pos(r) - 1);
		return false;
	}
	return true;
}

/* Any JSON value, checked for syntax only. */
static bool skip_value(struct rd *r)
{
	uint64_t u;
	bool cnt, big, ok;
	size_t len;

	switch (ws(r)) {
	case '"':
		return string(r, NULL, 0, &len);
	case '{':
		r->p++;
		if (!enter(r))
			return false;
		ok = members(r, skip_member, NULL);
		r->depth--;
		return ok;
	case '[':
		r->p++;
		if (!enter(r))
			return false;
		if (ws(r) == ']') {
			r->p++;
			r->depth--;
			return true;
		}
		do {
			if (!skip_value(r))
				return false;
		} while (ws(r) == ',' && (r->p++, true));
		r->depth--;
		return expect(r, ']', "',' or ']' expected");
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	default:
		return number(r, &u, &cnt, &big);
	}
}

/* ---- the schema ---------------------------------------------------- */

/* s (len bytes, maybe with NULs) quoted for a message: printable ASCII as
 * is, the rest as \xNN, at most 64 bytes shown. */
static char *quote(const char *s, size_t len, char *buf, size_t cap)
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

/* Where a field is, for messages: built only when one is reported. */
struct where {
	const char *top;	/* "destinations", "schema", ... */
	size_t i;		/* top[i - 1]; 0: none */
	const char *field;	/* .field, or NULL */
	const char *key;	/* .key (quoted unless a plain word), or NULL */
	bool longkey;		/* key was cut */
	size_t j;		/* [j - 1]; 0: none */
};

#define WHERE(...) (&(const struct where){ __VA_ARGS__ })

static const char *where_text(const struct where *w, char *buf, size_t cap)
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
					      quote(w->key, strlen(w->key), q, sizeof(q)),
					      w->longkey ? "..." : "");
	}
	if (w->j && n < cap)
		snprintf(buf + n, cap - n, "[%zu]", w->j - 1);
	return buf;
}

#define W(w) where_text((w), (char[256]){ 0 }, 256)

/* A kept string: at most SNAP_MAX_STR bytes, no NUL. out holds
 * SNAP_MAX_STR + 1 bytes; path names the field in messages. */
static bool kept_string(struct rd *r, char *out, size_t *len, const struct where *w)
{
	const char *t = type_at(r);

	if (strcmp(t, "a string")) {
		if (r->status)
			return false;
		rd_err(r, EXIT_USAGE, "%s: %s, not a string", W(w), t);
		return false;
	}
	if (!string(r, out, SNAP_MAX_STR, len))
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
static bool count(struct rd *r, uint64_t *v, const struct where *w)
{
	const char *t = type_at(r);
	bool cnt, big;

	if (strcmp(t, "a number")) {
		if (!r->status)
			rd_err(r, EXIT_USAGE, "%s: %s, not a count (an integer 0 to 2^64-1)", W(w), t);
		return false;
	}
	if (!number(r, v, &cnt, &big))
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
	const char *t = type_at(r);

	if (strcmp(t, kind)) {
		if (!r->status)
			rd_err(r, EXIT_USAGE, "%s: %s, not %s", W(w), t, kind);
		return false;
	}
	r->p++;
	return enter(r);
}

static bool open_array(struct rd *r, const struct where *w)
{
	return open_kind(r, w, "an array");
}

static bool open_object(struct rd *r, const struct where *w)
{
	return open_kind(r, w, "an object");
}

/* Elements of an array after its '[': each(index) consumes one. */
typedef bool (*elem_fn)(struct rd *r, size_t i, void *ctx);

static bool elements(struct rd *r, elem_fn each, void *ctx)
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
		if (!expect(r, ']', "',' or ']' expected"))
			return false;
		r->depth--;
		return true;
	}
}

/* A member seen twice: bit in *seen. */
static bool once(struct rd *r, unsigned int *seen, unsigned int bit, const struct where *w)
{
	if (*seen & bit) {
		rd_err(r, EXIT_USAGE, "%s: given twice", W(w));
		return false;
	}
	*seen |= bit;
	return true;
}

/* "a.b.c.d", "x:y::z", or either with "/len" (canonical digits). */
static bool parse_dest_addr(const char *s, uint8_t key[16], uint8_t *plen)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long len = 0;
	bool v4;

	if (alen >= sizeof(a))
		return false;
	memcpy(a, s, alen);
	a[alen] = 0;
	if (!parse_addr(a, key))
		return false;
	v4 = !strchr(a, ':');
	if (!slash) {
		*plen = SNAP_NO_PLEN;
		return true;
	}
	s = slash + 1;
	if (!*s || strlen(s) > 3 || (s[0] == '0' && s[1]))
		return false;
	for (const char *q = s; *q; q++) {
		if (*q < '0' || *q > '9')
			return false;
		len = len * 10 + (unsigned long)(*q - '0');
	}
	if (len > (v4 ? 32u : 128u))
		return false;
	*plen = (uint8_t)(v4 ? len + 96 : len);
	return true;
}

/* ---- destinations ---------------------------------------------------- */

static uint64_t hash_key(const uint8_t key[16], uint8_t plen)
{
	uint64_t a, b, h;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	/* murmur3's finaliser over both halves: every bit of the address
	 * reaches the low bits the table uses */
	h = a ^ (b << 32 | b >> 32) * 0x9e3779b97f4a7c15ULL ^ plen;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

static const char *dest_text(const struct snap_doc *doc, const struct snap_dest *d)
{
	/* while reading, addr holds the text's offset */
	return doc->text + (uintptr_t)d->addr;
}

/* The hash: per slot the destination's index in the low 32 bits and the
 * high half of its hash above (so a probe reads a destination only when
 * that matches); HASH_EMPTY where there is none. */
#define HASH_EMPTY	UINT64_MAX

/* Slot of key in the hash (HASH_EMPTY there if absent). */
static size_t hash_slot(const struct snap_doc *doc, const uint8_t key[16],
			uint8_t plen, uint64_t h)
{
	size_t mask = doc->hsize - 1, s = h & mask;
	uint64_t e, tag = h >> 32 << 32;

	while ((e = doc->hash[s]) != HASH_EMPTY) {
		if ((e & ~0xffffffffULL) == tag) {
			const struct snap_dest *d = &doc->d[(uint32_t)e];

			if (d->plen == plen && !memcmp(d->key, key, 16))
				break;
		}
		s = (s + 1) & mask;
	}
	return s;
}

static bool hash_grow(struct snap_doc *doc)
{
	size_t size = doc->hsize ? doc->hsize * 2 : 1024;
	uint64_t *h = malloc(size * sizeof(*h)), k;

	if (!h)
		return false;
	free(doc->hash);
	doc->hash = h;
	doc->hsize = size;
	memset(h, 0xff, size * sizeof(*h));
	for (size_t i = 0; i < doc->n; i++) {
		k = hash_key(doc->d[i].key, doc->d[i].plen);
		h[hash_slot(doc, doc->d[i].key, doc->d[i].plen, k)] = k >> 32 << 32 | i;
	}
	return true;
}

const struct snap_dest *snap_doc_find(const struct snap_doc *doc,
				      const uint8_t key[16], uint8_t plen)
{
	size_t s;

	if (!doc->hsize)
		return NULL;
	s = hash_slot(doc, key, plen, hash_key(key, plen));
	return doc->hash[s] == HASH_EMPTY ? NULL : &doc->d[(uint32_t)doc->hash[s]];
}

struct dctx {
	size_t i;		/* destinations[i] */
	uint64_t h;		/* hash of the address */
	size_t slot;		/* its empty slot in the hash */
	struct snap_dest *d;
	unsigned int seen;
	bool packets;		/* the object being read is packets (not bytes) */
	const char *field;	/* "packets", "bytes" */
	uint32_t classes;	/* seen in that object */
	char path[96];
};

enum {
	D_ADDR = 1, D_PACKETS = 2, D_BYTES = 4, D_FIRST = 8, D_LAST = 16,
	D_EXPECTED = 32, D_VIOL = 64, D_VIA = 128,
};

static bool class_member(struct rd *r, const char *key, bool longkey, void *ctx)
{
	struct dctx *x = ctx;
	int c = longkey ? -1 : class_from_name(key);
	const struct where *w = WHERE(.top = "destinations", .i = x->i + 1,
				      .field = x->field, .key = key, .longkey = longkey);
	uint64_t v;

	if (c < 0) {
		rd_err(r, EXIT_USAGE, "%s: unknown class", W(w));
		return false;
	}
	if (x->classes & 1u << c) {
		rd_err(r, EXIT_USAGE, "%s: given twice", W(w));
		return false;
	}
	x->classes |= 1u << c;
	if (!count(r, &v, w))
		return false;
	if (x->packets) {
		x->d->packets[c] = v;
		if (x->d->total + v < x->d->total) {
			rd_err(r, EXIT_USAGE, "destinations[%zu].packets: the counts add "
			       "up to over 2^64-1", x->i);
			return false;
		}
		x->d->total += v;
	}
	return true;
}

static bool expected_elem(struct rd *r, size_t i, void *ctx)
{
	struct dctx *x = ctx;
	const struct where *w = WHERE(.top = "destinations", .i = x->i + 1,
				      .field = "expected", .j = i + 1);
	char s[SNAP_MAX_STR + 1], q[96];
	size_t len;

	if (!kept_string(r, s, &len, w))
		return false;
	if (class_from_name(s) < 0) {
		rd_err(r, EXIT_USAGE, "%s: %s is not a class", W(w), quote(s, len, q, sizeof(q)));
		return false;
	}
	return true;
}

/* "via": tunnel class names (class_is_decap), each once; the order is
 * not checked (a writer puts them in class order). */
static bool via_elem(struct rd *r, size_t i, void *ctx)
{
	struct dctx *x = ctx;
	const struct where *w = WHERE(.top = "destinations", .i = x->i + 1,
				      .field = "via", .j = i + 1);
	char s[SNAP_MAX_STR + 1], q[96];
	size_t len;
	int c;

	if (!kept_string(r, s, &len, w))
		return false;
	c = class_from_name(s);
	if (c < 0 || !class_is_decap(c)) {
		rd_err(r, EXIT_USAGE, "%s: %s is not a tunnel class (gre, ipip, "
		       "ipv6_encap, vxlan, geneve, gtp_u)", W(w),
		       quote(s, len, q, sizeof(q)));
		return false;
	}
	if (x->d->via & 1u << c) {
		rd_err(r, EXIT_USAGE, "%s: %s given twice", W(w), quote(s, len, q, sizeof(q)));
		return false;
	}
	x->d->via |= 1u << c;
	return true;
}

static bool dest_member(struct rd *r, const char *key, bool longkey, void *ctx)
{
	struct dctx *x = ctx;
	struct snap_doc *doc = r->doc;
	const struct where *w = WHERE(.top = "destinations", .i = x->i + 1, .field = key);
	char s[SNAP_MAX_STR + 1], q[96];
	size_t len;
	uint64_t v;
	bool ok;

	if (longkey)
		return skip_value(r);
	if (!strcmp(key, "addr")) {
		const struct snap_dest *dup;

		if (!once(r, &x->seen, D_ADDR, w) || !kept_string(r, s, &len, w))
			return false;
		if (!parse_dest_addr(s, x->d->key, &x->d->plen)) {
			rd_err(r, EXIT_USAGE, "%s: %s is not an address or prefix", W(w),
			       quote(s, len, q, sizeof(q)));
			return false;
		}
		x->h = hash_key(x->d->key, x->d->plen);
		x->slot = hash_slot(doc, x->d->key, x->d->plen, x->h);
		if (doc->hash[x->slot] != HASH_EMPTY) {
			dup = &doc->d[(uint32_t)doc->hash[x->slot]];
			rd_err(r, EXIT_USAGE, "%s: %s again (destinations[%zu])", W(w),
			       quote(s, len, q, sizeof(q)), (size_t)(dup - doc->d));
			return false;
		}
		if (doc->tlen + len + 1 > doc->tcap) {
			size_t cap = doc->tcap ? doc->tcap * 2 : 65536;
			char *t;

			while (cap < doc->tlen + len + 1)
				cap *= 2;
			if (!(t = realloc(doc->text, cap))) {
				rd_err(r, EXIT_RUNTIME, "out of memory");
				return false;
			}
			doc->text = t;
			doc->tcap = cap;
		}
		memcpy(doc->text + doc->tlen, s, len + 1);
		x->d->addr = (const char *)(uintptr_t)doc->tlen;
		doc->tlen += len + 1;
		return true;
	}
	if (!strcmp(key, "packets") || !strcmp(key, "bytes")) {
		x->packets = key[0] == 'p';
		x->field = x->packets ? "packets" : "bytes";
		x->classes = 0;
		if (!once(r, &x->seen, x->packets ? D_PACKETS : D_BYTES, w) ||
		    !open_object(r, w))
			return false;
		ok = members(r, class_member, x);
		r->depth--;
		return ok;
	}
	if (!strcmp(key, "first_seen") || !strcmp(key, "last_seen")) {
		return once(r, &x->seen, key[0] == 'f' ? D_FIRST : D_LAST, w) &&
		       kept_string(r, s, &len, w);
	}
	if (!strcmp(key, "expected")) {
		return once(r, &x->seen, D_EXPECTED, w) && open_array(r, w) &&
		       elements(r, expected_elem, x);
	}
	if (!strcmp(key, "violations"))
		return once(r, &x->seen, D_VIOL, w) && count(r, &v, w);
	if (!strcmp(key, "via")) {
		return once(r, &x->seen, D_VIA, w) && open_array(r, w) &&
		       elements(r, via_elem, x);
	}
	return skip_value(r);
}

static bool dest_elem(struct rd *r, size_t i, void *ctx)
{
	struct snap_doc *doc = r->doc;
	struct dctx x = { .i = i };
	const struct where *w = WHERE(.top = "destinations", .i = i + 1);
	bool ok;

	(void)ctx;
	if (i >= UINT32_MAX - 1) {
		rd_err(r, EXIT_USAGE, "%s: too many destinations", W(w));
		return false;
	}
	if (doc->n == doc->cap) {
		size_t cap = doc->cap ? doc->cap * 2 : 1024;
		struct snap_dest *d = realloc(doc->d, cap * sizeof(*d));

		if (!d) {
			rd_err(r, EXIT_RUNTIME, "out of memory");
			return false;
		}
		doc->d = d;
		doc->cap = cap;
	}
	if ((doc->n + 1) * 2 > doc->hsize && !hash_grow(doc)) {
		rd_err(r, EXIT_RUNTIME, "out of memory");
		return false;
	}
	x.d = &doc->d[doc->n];
	memset(x.d, 0, sizeof(*x.d));
	if (!open_object(r, w))
		return false;
	ok = members(r, dest_member, &x);
	r->depth--;
	if (!ok)
		return false;
	if (!(x.seen & D_ADDR)) {
		rd_err(r, EXIT_USAGE, "%s: no \"addr\"", W(w));
		return false;
	}
	if (!(x.seen & D_PACKETS)) {
		rd_err(r, EXIT_USAGE, "%s: no \"packets\"", W(w));
		return false;
	}
	doc->hash[x.slot] = x.h >> 32 << 32 | doc->n;
	doc->n++;
	return true;
}

/* ---- the document ---------------------------------------------------- */

enum {
	T_SCHEMA = 1, T_HOST = 2, T_TAKEN = 4, T_STARTED = 8, T_KERNEL = 16,
	T_IFACES = 32, T_DESTS = 64, T_ALERTS = 128, T_STATS = 256, T_HISTORY = 512,
};

struct tctx {
	unsigned int seen;
};

static bool object_elem(struct rd *r, size_t i, void *ctx)
{
	bool ok;

	if (!open_object(r, WHERE(.top = ctx, .i = i + 1)))
		return false;
	ok = members(r, skip_member, NULL);
	r->depth--;
	return ok;
}

/* ---- "history" (schema 2): the mix over time ----------------------- */

/* Where in the history: "history.dests[i].packets.esp[j]". */
struct hctx {
	size_t i;		/* dests index + 1; 0: the history itself */
	const char *field;	/* the member being read */
	const char *key;	/* a class or kind, or NULL */
};

static const char *hist_top(const struct hctx *x)
{
	return x->i ? "history.dests" : "history";
}

static bool count_elem(struct rd *r, size_t j, void *ctx)
{
	const struct hctx *x = ctx;
	uint64_t v;

	return count(r, &v, WHERE(.top = hist_top(x), .i = x->i, .field = x->field,
				  .key = x->key, .j = j + 1));
}

static bool count_array(struct rd *r, struct hctx *x)
{
	return open_array(r, WHERE(.top = hist_top(x), .i = x->i, .field = x->field,
				   .key = x->key)) && elements(r, count_elem, x);
}

/* "packets" and "bytes": class -> [count per interval] */
static bool hist_class(struct rd *r, const char *key, bool longkey, void *ctx)
{
	struct hctx *x = ctx;

	if (longkey || class_from_name(key) < 0) {
		rd_err(r, EXIT_USAGE, "%s: unknown class", W(WHERE(.top = hist_top(x),
		       .i = x->i, .field = x->field, .key = key, .longkey = longkey)));
		return false;
	}
	x->key = key;
	if (!count_array(r, x))
		return false;
	x->key = NULL;
	return true;
}

/* "first_alerts": kind -> time string */
static bool hist_alert(struct rd *r, const char *key, bool longkey, void *ctx)
{
	struct hctx *x = ctx;
	char s[SNAP_MAX_STR + 1];
	size_t len;

	return kept_string(r, s, &len, WHERE(.top = hist_top(x), .i = x->i,
					     .field = x->field, .key = key,
					     .longkey = longkey));
}

static bool hist_object(struct rd *r, struct hctx *x, member_fn each)
{
	bool ok;

	if (!open_object(r, WHERE(.top = hist_top(x), .i = x->i, .field = x->field)))
		return false;
	ok = members(r, each, x);
	r->depth--;
	return ok;
}

static bool hist_dest_member(struct rd *r, const char *key, bool longkey, void *ctx)
{
	struct hctx *x = ctx;
	const struct where *w = WHERE(.top = hist_top(x), .i = x->i, .field = key);
	char s[SNAP_MAX_STR + 1];
	size_t len;
	uint64_t v;

	x->field = key;
	if (longkey)
		return skip_value(r);
	if (!strcmp(key, "addr"))
		return kept_string(r, s, &len, w);
	if (!strcmp(key, "from"))
		return count(r, &v, w);
	if (!strcmp(key, "alerted")) {
		if (strcmp(type_at(r), "a boolean")) {
			rd_err(r, EXIT_USAGE, "%s: %s, not a boolean", W(w), type_at(r));
			return false;
		}
		return skip_value(r);
	}
	if (!strcmp(key, "packets") || !strcmp(key, "bytes"))
		return hist_object(r, x, hist_class);
	if (!strcmp(key, "first_alerts"))
		return hist_object(r, x, hist_alert);
	return skip_value(r);	/* a later version's: skipped */
}

static bool hist_dest_elem(struct rd *r, size_t i, void *ctx)
{
	struct hctx x = { .i = i + 1 };
	bool ok;

	(void)ctx;
	if (!open_object(r, WHERE(.top = "history.dests", .i = i + 1)))
		return false;
	ok = members(r, hist_dest_member, &x);
	r->depth--;
	return ok;
}

static bool hist_member(struct rd *r, const char *key, bool longkey, void *ctx)
{
	struct hctx *x = ctx;
	const struct where *w = WHERE(.top = "history", .field = key);
	char s[SNAP_MAX_STR + 1];
	uint64_t v;
	size_t len;
	bool cnt, big;

	x->field = key;
	if (longkey)
		return skip_value(r);
	if (!strcmp(key, "interval_s")) {
		if (strcmp(type_at(r), "a number")) {
			rd_err(r, EXIT_USAGE, "%s: %s, not a number", W(w), type_at(r));
			return false;
		}
		return number(r, &v, &cnt, &big);
	}
	if (!strcmp(key, "capacity"))
		return count(r, &v, w);
	if (!strcmp(key, "start"))
		return kept_string(r, s, &len, w);
	if (!strcmp(key, "starts_ms") || !strcmp(key, "lens_ms"))
		return count_array(r, x);
	if (!strcmp(key, "dests"))
		return open_array(r, w) && elements(r, hist_dest_elem, NULL);
	return skip_value(r);
}

static bool top_member(struct rd *r, const char *key, bool longkey, void *ctx)
{
	static const struct { const char *key; unsigned int bit; } keys[] = {
		{ "schema", T_SCHEMA }, { "host", T_HOST }, { "taken_at", T_TAKEN },
		{ "started_at", T_STARTED }, { "kernel", T_KERNEL },
		{ "interfaces", T_IFACES }, { "destinations", T_DESTS },
		{ "alerts", T_ALERTS }, { "stats", T_STATS },
		{ "history", T_HISTORY },
	};
	struct tctx *x = ctx;
	struct snap_doc *doc = r->doc;
	char s[SNAP_MAX_STR + 1], q[96];
	unsigned int bit = 0;
	size_t len;
	bool ok;

	for (size_t k = 0; !longkey && k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strcmp(key, keys[k].key))
			bit = keys[k].bit;
	if (!bit)
		return skip_value(r);
	if (!once(r, &x->seen, bit, WHERE(.top = key)))
		return false;
	switch (bit) {
	case T_SCHEMA:
		if (!kept_string(r, s, &len, WHERE(.top = key)))
			return false;
		if (strcmp(s, SNAP_SCHEMA) && strcmp(s, SNAP_SCHEMA_V2) &&
		    strcmp(s, SNAP_SCHEMA_V1)) {
			rd_err(r, EXIT_USAGE, "schema: %s, not \"%s\", \"%s\" or \"%s\"",
			       quote(s, len, q, sizeof(q)), SNAP_SCHEMA, SNAP_SCHEMA_V2,
			       SNAP_SCHEMA_V1);
			return false;
		}
		return true;
	case T_HOST:
	case T_TAKEN:
		if (!kept_string(r, s, &len, WHERE(.top = key)))
			return false;
		free(bit == T_HOST ? doc->host : doc->taken_at);
		if (!(*(bit == T_HOST ? &doc->host : &doc->taken_at) = strdup(s))) {
			rd_err(r, EXIT_RUNTIME, "out of memory");
			return false;
		}
		return true;
	case T_STARTED:
	case T_KERNEL:
		return kept_string(r, s, &len, WHERE(.top = key));
	case T_IFACES:
	case T_ALERTS:
		return open_array(r, WHERE(.top = key)) && elements(r, object_elem, (void *)key);
	case T_DESTS:
		return open_array(r, WHERE(.top = key)) && elements(r, dest_elem, NULL);
	case T_STATS:
	case T_HISTORY:
		if (!open_object(r, WHERE(.top = key)))
			return false;
		ok = members(r, bit == T_HISTORY ? hist_member : skip_member,
			     &(struct hctx){ 0 });
		r->depth--;
		return ok;
	}
	return false;
}

static int parse(struct rd *r)
{
	struct snap_doc *doc = r->doc;
	struct tctx x = { 0 };

	if (ws(r) != '{') {
		if (!r->status) {
			if (peek(r) < 0 || !strcmp(type_at(r), "nothing"))
				syntax(r, "a JSON object expected");
			else
				rd_err(r, EXIT_USAGE, "not a protomix snapshot (%s, not a JSON object)",
				       type_at(r));
		}
		goto bad;
	}
	r->p++;
	r->depth = 1;
	if (!members(r, top_member, &x))
		goto bad;
	if (ws(r) >= 0) {
		syntax(r, "trailing data after the document");
		goto bad;
	}
	if (r->status)
		goto bad;
	if (!(x.seen & T_SCHEMA)) {
		rd_err(r, EXIT_USAGE, "not a protomix snapshot (no schema \"" SNAP_SCHEMA "\")");
		goto bad;
	}
	if (!(x.seen & T_DESTS)) {
		rd_err(r, EXIT_USAGE, "no \"destinations\"");
		goto bad;
	}
	if ((!doc->host && !(doc->host = strdup(""))) ||
	    (!doc->taken_at && !(doc->taken_at = strdup("")))) {
		rd_err(r, EXIT_RUNTIME, "out of memory");
		goto bad;
	}
	for (size_t i = 0; i < doc->n; i++)
		doc->d[i].addr = dest_text(doc, &doc->d[i]);
	return 0;
bad:
	if (!r->status)
		rd_err(r, EXIT_USAGE, "not a protomix snapshot");
	snap_doc_free(doc);
	return r->status;
}

int snap_doc_read(const char *path, struct snap_doc *doc)
{
	struct rd r = { .name = path, .doc = doc };
	int status, rc;

	memset(doc, 0, sizeof(*doc));
	r.fd = snap_open(path, &status);
	if (r.fd < 0)
		return status;
	/* room in the hash for the destinations such a file may hold (one
	 * of watch -o weighs 300-500 bytes), so it is seldom rebuilt */
	{
		struct stat st;

		if (!fstat(r.fd, &st) && st.st_size > 0) {
			size_t want = 1024;

			while (want < (size_t)st.st_size / 256 * 2)
				want *= 2;
			if ((doc->hash = malloc(want * sizeof(*doc->hash)))) {
				memset(doc->hash, 0xff, want * sizeof(*doc->hash));
				doc->hsize = want;
			}
		}
	}
	r.buf = malloc(SNAP_BUF);
	if (!r.buf) {
		pm_err("%s: out of memory", path);
		close(r.fd);
		return EXIT_RUNTIME;
	}
	r.p = r.end = r.buf;
	rc = parse(&r);
	free(r.buf);
	close(r.fd);
	return rc;
}

int snap_doc_parse(const char *name, const void *data, size_t len,
		   struct snap_doc *doc)
{
	struct rd r = { .name = name, .doc = doc, .fd = -1 };

	memset(doc, 0, sizeof(*doc));
	r.p = data;
	r.end = r.p + len;
	r.off = len;
	return parse(&r);
}

void snap_doc_free(struct snap_doc *doc)
{
	free(doc->host);
	free(doc->taken_at);
	free(doc->d);
	free(doc->text);
	free(doc->hash);
	memset(doc, 0, sizeof(*doc));
}

int snap_dest_cmp(const struct snap_dest *a, const struct snap_dest *b)
{
	bool pa = a->plen == SNAP_NO_PLEN, pb = b->plen == SNAP_NO_PLEN;

	if (pa && pb) {
		if (addr_is_v4(a->key) != addr_is_v4(b->key))
			return addr_is_v4(a->key) ? -1 : 1;
		return memcmp(a->key, b->key, 16);
	}
	if (pa != pb)
		return pa ? -1 : 1;
	return strcmp(a->addr, b->addr);
}
