// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot reader's destinations (snapdoc_parse.h): each element of
 * "destinations" checked (its address or prefix, at most once per
 * document; its packets and bytes per class, adding up to at most
 * 2^64-1; expected, violations, first and last seen, via) and kept in
 * the document, its address as text, in a hash of the addresses that
 * snap_doc_find looks up (snapdoc.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "classes.h"
#include "snapdoc_parse.h"
#include "util.h"

/* ---- destinations ---------------------------------------------------- */

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

const char *rd_dest_text(const struct snap_doc *doc, const struct snap_dest *d)
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
	if (!rd_count(r, &v, w))
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

	if (!rd_kept_string(r, s, &len, w))
		return false;
	if (class_from_name(s) < 0) {
		rd_err(r, EXIT_USAGE, "%s: %s is not a class", W(w), rd_quote(s, len, q, sizeof(q)));
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

	if (!rd_kept_string(r, s, &len, w))
		return false;
	c = class_from_name(s);
	if (c < 0 || !class_is_decap(c)) {
		rd_err(r, EXIT_USAGE, "%s: %s is not a tunnel class (gre, ipip, "
		       "ipv6_encap, vxlan, geneve, gtp_u)", W(w),
		       rd_quote(s, len, q, sizeof(q)));
		return false;
	}
	if (x->d->via & 1u << c) {
		rd_err(r, EXIT_USAGE, "%s: %s given twice", W(w), rd_quote(s, len, q, sizeof(q)));
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
		return rd_skip_value(r);
	if (!strcmp(key, "addr")) {
		const struct snap_dest *dup;

		if (!rd_once(r, &x->seen, D_ADDR, w) || !rd_kept_string(r, s, &len, w))
			return false;
		if (!parse_dest_addr(s, x->d->key, &x->d->plen)) {
			rd_err(r, EXIT_USAGE, "%s: %s is not an address or prefix", W(w),
			       rd_quote(s, len, q, sizeof(q)));
			return false;
		}
		x->h = hash_key(x->d->key, x->d->plen);
		x->slot = hash_slot(doc, x->d->key, x->d->plen, x->h);
		if (doc->hash[x->slot] != HASH_EMPTY) {
			dup = &doc->d[(uint32_t)doc->hash[x->slot]];
			rd_err(r, EXIT_USAGE, "%s: %s again (destinations[%zu])", W(w),
			       rd_quote(s, len, q, sizeof(q)), (size_t)(dup - doc->d));
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
		if (!rd_once(r, &x->seen, x->packets ? D_PACKETS : D_BYTES, w) ||
		    !rd_open_object(r, w))
			return false;
		ok = rd_members(r, class_member, x);
		r->depth--;
		return ok;
	}
	if (!strcmp(key, "first_seen") || !strcmp(key, "last_seen")) {
		return rd_once(r, &x->seen, key[0] == 'f' ? D_FIRST : D_LAST, w) &&
		       rd_kept_string(r, s, &len, w);
	}
	if (!strcmp(key, "expected")) {
		return rd_once(r, &x->seen, D_EXPECTED, w) && rd_open_array(r, w) &&
		       rd_elements(r, expected_elem, x);
	}
	if (!strcmp(key, "violations"))
		return rd_once(r, &x->seen, D_VIOL, w) && rd_count(r, &v, w);
	if (!strcmp(key, "via")) {
		return rd_once(r, &x->seen, D_VIA, w) && rd_open_array(r, w) &&
		       rd_elements(r, via_elem, x);
	}
	return rd_skip_value(r);
}

bool rd_dest_elem(struct rd *r, size_t i, void *ctx)
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
	if (!rd_open_object(r, w))
		return false;
	ok = rd_members(r, dest_member, &x);
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
