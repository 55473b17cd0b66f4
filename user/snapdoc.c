// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reading a snapshot file back, checked and streamed (snapdoc.h): the
 * document itself. Opening the file, the top-level members (schema,
 * host, taken_at, interfaces, alerts, stats, the history of schema 2 and
 * later) and the checks of the whole; snap_doc_read, snap_doc_parse,
 * snap_doc_free, snap_dest_cmp. The JSON layer is snapdoc_json.c, the
 * checks of one field snapdoc_fields.c, the destinations snapdoc_dests.c
 * (snapdoc_parse.h, what they share).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "classes.h"
#include "snapdoc.h"
#include "snapdoc_parse.h"
#include "util.h"

/* ---- opening ------------------------------------------------------- */

int snap_open(const char *path, int *status)
{
	uint64_t size;

	*status = EXIT_USAGE;
	return input_open(path, "snapshot", SNAP_MAX_BYTES, &size);
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

	if (!rd_open_object(r, WHERE(.top = ctx, .i = i + 1)))
		return false;
	ok = rd_members(r, rd_skip_member, NULL);
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

	return rd_count(r, &v, WHERE(.top = hist_top(x), .i = x->i, .field = x->field,
				     .key = x->key, .j = j + 1));
}

static bool count_array(struct rd *r, struct hctx *x)
{
	return rd_open_array(r, WHERE(.top = hist_top(x), .i = x->i, .field = x->field,
				      .key = x->key)) && rd_elements(r, count_elem, x);
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

	return rd_kept_string(r, s, &len, WHERE(.top = hist_top(x), .i = x->i,
						.field = x->field, .key = key,
						.longkey = longkey));
}

static bool hist_object(struct rd *r, struct hctx *x, member_fn each)
{
	bool ok;

	if (!rd_open_object(r, WHERE(.top = hist_top(x), .i = x->i, .field = x->field)))
		return false;
	ok = rd_members(r, each, x);
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
		return rd_skip_value(r);
	if (!strcmp(key, "addr"))
		return rd_kept_string(r, s, &len, w);
	if (!strcmp(key, "from"))
		return rd_count(r, &v, w);
	if (!strcmp(key, "alerted")) {
		if (strcmp(rd_type_at(r), "a boolean")) {
			rd_err(r, EXIT_USAGE, "%s: %s, not a boolean", W(w), rd_type_at(r));
			return false;
		}
		return rd_skip_value(r);
	}
	if (!strcmp(key, "packets") || !strcmp(key, "bytes"))
		return hist_object(r, x, hist_class);
	if (!strcmp(key, "first_alerts"))
		return hist_object(r, x, hist_alert);
	return rd_skip_value(r);	/* a later version's: skipped */
}

static bool hist_dest_elem(struct rd *r, size_t i, void *ctx)
{
	struct hctx x = { .i = i + 1 };
	bool ok;

	(void)ctx;
	if (!rd_open_object(r, WHERE(.top = "history.dests", .i = i + 1)))
		return false;
	ok = rd_members(r, hist_dest_member, &x);
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
		return rd_skip_value(r);
	if (!strcmp(key, "interval_s")) {
		if (strcmp(rd_type_at(r), "a number")) {
			rd_err(r, EXIT_USAGE, "%s: %s, not a number", W(w), rd_type_at(r));
			return false;
		}
		return rd_number(r, &v, &cnt, &big);
	}
	if (!strcmp(key, "capacity"))
		return rd_count(r, &v, w);
	if (!strcmp(key, "start"))
		return rd_kept_string(r, s, &len, w);
	if (!strcmp(key, "starts_ms") || !strcmp(key, "lens_ms"))
		return count_array(r, x);
	if (!strcmp(key, "dests"))
		return rd_open_array(r, w) && rd_elements(r, hist_dest_elem, NULL);
	return rd_skip_value(r);
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
		return rd_skip_value(r);
	if (!rd_once(r, &x->seen, bit, WHERE(.top = key)))
		return false;
	switch (bit) {
	case T_SCHEMA:
		if (!rd_kept_string(r, s, &len, WHERE(.top = key)))
			return false;
		if (strcmp(s, SNAP_SCHEMA) && strcmp(s, SNAP_SCHEMA_V2) &&
		    strcmp(s, SNAP_SCHEMA_V1)) {
			rd_err(r, EXIT_USAGE, "schema: %s, not \"%s\", \"%s\" or \"%s\"",
			       rd_quote(s, len, q, sizeof(q)), SNAP_SCHEMA, SNAP_SCHEMA_V2,
			       SNAP_SCHEMA_V1);
			return false;
		}
		return true;
	case T_HOST:
	case T_TAKEN:
		if (!rd_kept_string(r, s, &len, WHERE(.top = key)))
			return false;
		free(bit == T_HOST ? doc->host : doc->taken_at);
		if (!(*(bit == T_HOST ? &doc->host : &doc->taken_at) = strdup(s))) {
			rd_err(r, EXIT_RUNTIME, "out of memory");
			return false;
		}
		return true;
	case T_STARTED:
	case T_KERNEL:
		return rd_kept_string(r, s, &len, WHERE(.top = key));
	case T_IFACES:
	case T_ALERTS:
		return rd_open_array(r, WHERE(.top = key)) && rd_elements(r, object_elem, (void *)key);
	case T_DESTS:
		return rd_open_array(r, WHERE(.top = key)) && rd_elements(r, rd_dest_elem, NULL);
	case T_STATS:
	case T_HISTORY:
		if (!rd_open_object(r, WHERE(.top = key)))
			return false;
		ok = rd_members(r, bit == T_HISTORY ? hist_member : rd_skip_member,
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
			if (peek(r) < 0 || !strcmp(rd_type_at(r), "nothing"))
				rd_syntax(r, "a JSON object expected");
			else
				rd_err(r, EXIT_USAGE, "not a protomix snapshot (%s, not a JSON object)",
				       rd_type_at(r));
		}
		goto bad;
	}
	r->p++;
	r->depth = 1;
	if (!rd_members(r, top_member, &x))
		goto bad;
	if (ws(r) >= 0) {
		rd_syntax(r, "trailing data after the document");
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
		doc->d[i].addr = rd_dest_text(doc, &doc->d[i]);
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
