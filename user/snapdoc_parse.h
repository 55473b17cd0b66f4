/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the snapshot reader (snapdoc.h): what its four files share.
 * snapdoc_json.c is the streaming JSON layer (the cursor over a buffer or
 * a file, strings, numbers, objects and arrays walked member by member,
 * any value skipped); snapdoc_fields.c checks one field against the
 * schema and names where it stands in messages; snapdoc_dests.c reads
 * "destinations" into the document and its hash; snapdoc.c reads the
 * document itself. Each calls only those named before it. Nothing
 * outside these four files includes it.
 */
#ifndef PM_SNAPDOC_PARSE_H
#define PM_SNAPDOC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapdoc.h"

#define SNAP_BUF	(256 * 1024)

/* ---- snapdoc_json.c: the reader ------------------------------------ */

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

void rd_err(struct rd *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool rd_refill(struct rd *r);

/* The next byte, or -1 at the end (or after an error). */
static inline int peek(struct rd *r)
{
	if (r->p == r->end && !rd_refill(r))
		return -1;
	return *r->p;
}

void rd_syntax(struct rd *r, const char *what);

/* Skips white space; the next byte or -1. */
static inline int ws(struct rd *r)
{
	int c;

	while ((c = peek(r)) == ' ' || c == '\n' || c == '\r' || c == '\t')
		r->p++;
	return c;
}

bool rd_expect(struct rd *r, int want, const char *what);
bool rd_string(struct rd *r, char *out, size_t cap, size_t *len);
bool rd_number(struct rd *r, uint64_t *u, bool *count, bool *big);
const char *rd_type_at(struct rd *r);

typedef bool (*member_fn)(struct rd *r, const char *key, bool longkey, void *ctx);
typedef bool (*elem_fn)(struct rd *r, size_t i, void *ctx);

bool rd_members(struct rd *r, member_fn member, void *ctx);
bool rd_skip_member(struct rd *r, const char *key, bool longkey, void *ctx);
bool rd_enter(struct rd *r);
bool rd_skip_value(struct rd *r);
bool rd_elements(struct rd *r, elem_fn each, void *ctx);

/* ---- snapdoc_fields.c: the schema's fields ------------------------- */

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

char *rd_quote(const char *s, size_t len, char *buf, size_t cap);
const char *rd_where_text(const struct where *w, char *buf, size_t cap);

#define W(w) rd_where_text((w), (char[256]){ 0 }, 256)

bool rd_kept_string(struct rd *r, char *out, size_t *len, const struct where *w);
bool rd_count(struct rd *r, uint64_t *v, const struct where *w);
bool rd_open_array(struct rd *r, const struct where *w);
bool rd_open_object(struct rd *r, const struct where *w);
bool rd_once(struct rd *r, unsigned int *seen, unsigned int bit, const struct where *w);

/* ---- snapdoc_dests.c: the destinations ----------------------------- */

const char *rd_dest_text(const struct snap_doc *doc, const struct snap_dest *d);
bool rd_dest_elem(struct rd *r, size_t i, void *ctx);

#endif
