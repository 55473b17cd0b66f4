// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot streamed (snapshot_stream, snapshot_write; snapshot.h):
 * the text json-c would print for snapshot_json's document, written to
 * a file through a buffer of 64 KiB, the destinations formatted here
 * (their times from a cache of the days, class names and keys made once)
 * and prefetched in the document's order, the other members taken from
 * snapshot_build (snapshot_build.h) and printed one at a time, without
 * the whole document in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "classes.h"
#include "snapshot.h"
#include "snapshot_build.h"
#include "util.h"

/* --- The document as a stream ------------------------------------------
 *
 * json-c's printing (json_object_to_json_string_ext), reproduced: a member
 * or element is preceded by "," unless it is its container's first, then
 * by a newline and the indent of its depth (PRETTY: two spaces or, with
 * PRETTY_TAB, a tab per level) or by a space (SPACED without PRETTY); a
 * key is followed by ":" (SPACED: ": "); a container closes with a
 * newline and its own indent (PRETTY, even when empty) or a space
 * (SPACED). Strings are escaped as json-c does. Scalars that are not
 * ours are printed by json-c itself. */
#define JW_BLOCK	65536
#define JW_MAXDEPTH	62
#define JW_AHEAD	8	/* destinations prefetched ahead */

struct jw {
	FILE *f;
	int flags;
	int depth;		/* containers open */
	uint64_t empty;		/* bit per depth: no member yet */
	char *p;
	size_t n, cap;
	int err;		/* first write error, -errno */
	uint64_t real_off;
	/* '"' and fmt_time's date and 'T' of the days met, by day % 64;
	 * plain: a day of 86400 seconds from 00:00:00 */
	struct { uint64_t day; char date[32]; size_t len; bool plain; } tc[64];
	/* '"name":' per class, as written with these flags */
	char ckey[PM_NCLASS][40];
	uint8_t ckeylen[PM_NCLASS];
	char cstr[PM_NCLASS][40];	/* '"name"' */
	uint8_t cstrlen[PM_NCLASS];
};

static void jw_flush(struct jw *j)
{
	if (j->n && !j->err && fwrite(j->p, 1, j->n, j->f) != j->n)
		j->err = errno ? -errno : -EIO;
	j->n = 0;
}

static void jw_put(struct jw *j, const void *s, size_t len)
{
	if (j->cap - j->n < len) {
		jw_flush(j);
		if (len > j->cap) {
			if (!j->err && fwrite(s, 1, len, j->f) != len)
				j->err = errno ? -errno : -EIO;
			return;
		}
	}
	memcpy(j->p + j->n, s, len);
	j->n += len;
}

static inline void jw_ch(struct jw *j, char c)
{
	if (j->n == j->cap)
		jw_flush(j);
	j->p[j->n++] = c;
}

#define JW_LIT(j, s) jw_put(j, s, sizeof(s) - 1)

static void jw_indent(struct jw *j)
{
	static const char sp[] = "                                                                ";
	static const char tab[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";

	jw_ch(j, '\n');
	if (j->flags & JSON_C_TO_STRING_PRETTY_TAB)
		for (int left = j->depth; left > 0; left -= 32)
			jw_put(j, tab, left < 32 ? left : 32);
	else
		for (int left = 2 * j->depth; left > 0; left -= 64)
			jw_put(j, sp, left < 64 ? left : 64);
}

/* Before a member or an element of the innermost container. */
static void jw_sep(struct jw *j)
{
	uint64_t bit = 1ull << j->depth;

	if (!(j->empty & bit))
		jw_ch(j, ',');
	j->empty &= ~bit;
	if (j->flags & JSON_C_TO_STRING_PRETTY)
		jw_indent(j);
	else if (j->flags & JSON_C_TO_STRING_SPACED)
		jw_ch(j, ' ');
}

static void jw_open(struct jw *j, char c)
{
	jw_ch(j, c);
	if (j->depth < JW_MAXDEPTH)
		j->depth++;
	j->empty |= 1ull << j->depth;
}

static void jw_close(struct jw *j, char c)
{
	if (j->depth > 0)
		j->depth--;
	if (j->flags & JSON_C_TO_STRING_PRETTY)
		jw_indent(j);
	else if (j->flags & JSON_C_TO_STRING_SPACED)
		jw_ch(j, ' ');
	jw_ch(j, c);
}

/* A string's text between its quotes, as json-c escapes it. */
static void jw_escaped(struct jw *j, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t from = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];
		char e = 0;

		if (c >= ' ' && c != '"' && c != '\\' &&
		    (c != '/' || (j->flags & JSON_C_TO_STRING_NOSLASHESCAPE)))
			continue;
		jw_put(j, s + from, i - from);
		from = i + 1;
		switch (c) {
		case '\b': e = 'b'; break;
		case '\n': e = 'n'; break;
		case '\r': e = 'r'; break;
		case '\t': e = 't'; break;
		case '\f': e = 'f'; break;
		case '"': e = '"'; break;
		case '\\': e = '\\'; break;
		case '/': e = '/'; break;
		}
		if (e) {
			char esc[2] = { '\\', e };

			jw_put(j, esc, 2);
		} else {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			jw_put(j, u, 6);
		}
	}
	jw_put(j, s + from, len - from);
}

static void jw_str(struct jw *j, const char *s, size_t len)
{
	jw_ch(j, '"');
	jw_escaped(j, s, len);
	jw_ch(j, '"');
}

static void jw_key(struct jw *j, const char *key)
{
	jw_sep(j);
	jw_str(j, key, strlen(key));
	if (j->flags & JSON_C_TO_STRING_SPACED)
		JW_LIT(j, ": ");
	else
		jw_ch(j, ':');
}

static void jw_u64(struct jw *j, uint64_t x)
{
	char buf[24], *p = buf + sizeof(buf);

	do {
		*--p = '0' + x % 10;
		x /= 10;
	} while (x);
	jw_put(j, p, buf + sizeof(buf) - p);
}

/* Any json-c value: containers walked here, scalars printed by json-c. */
static void jw_value(struct jw *j, json_object *o)
{
	const char *s;

	switch (json_object_get_type(o)) {
	case json_type_object:
		jw_open(j, '{');
		json_object_object_foreach(o, key, val) {
			jw_key(j, key);
			jw_value(j, val);
		}
		jw_close(j, '}');
		break;
	case json_type_array:
		jw_open(j, '[');
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			jw_sep(j);
			jw_value(j, json_object_array_get_idx(o, i));
		}
		jw_close(j, ']');
		break;
	default:
		s = json_object_to_json_string_ext(o, j->flags);
		jw_put(j, s, strlen(s));
		break;
	}
}

/* fmt_time's text of a time, quoted. The date comes from a cache of the
 * days, the rest by arithmetic; a day that is not 86400 plain seconds for
 * gmtime (a TZ of leap seconds) is left to fmt_time. */
static void jw_time(struct jw *j, uint64_t mono_ns)
{
	uint64_t real = j->real_off + mono_ns, secs = real / 1000000000ull;
	uint64_t day = secs / 86400;
	unsigned int us = real % 1000000000ull / 1000, sod = secs % 86400;
	int slot = day % 64;
	char buf[64], *p;
	size_t n;

	if (j->tc[slot].day != day || !j->tc[slot].len) {
		char end[40];
		size_t dlen;

		fmt_time(day * 86400 * 1000000000ull, buf, sizeof(buf));
		fmt_time((day * 86400 + 86399) * 1000000000ull, end, sizeof(end));
		n = strlen(buf);
		dlen = n > 17 ? n - 17 : 0;	/* "T00:00:00.000000Z" follows */
		j->tc[slot].day = day;
		j->tc[slot].plain = n < sizeof(j->tc[slot].date) && n == strlen(end) &&
			!strcmp(buf + dlen, "T00:00:00.000000Z") &&
			!memcmp(buf, end, dlen) && !strcmp(end + dlen, "T23:59:59.000000Z");
		j->tc[slot].date[0] = '"';
		memcpy(j->tc[slot].date + 1, buf, dlen + 1 < sizeof(j->tc[slot].date) - 1 ?
		       dlen + 1 : 0);
		j->tc[slot].len = dlen + 2;	/* '"', the date, 'T' */
	}
	if (!j->tc[slot].plain) {
		buf[0] = '"';
		fmt_time(real, buf + 1, sizeof(buf) - 2);
		n = strlen(buf);
		buf[n++] = '"';
		jw_put(j, buf, n);
		return;
	}
	memcpy(buf, j->tc[slot].date, j->tc[slot].len);
	p = buf + j->tc[slot].len;
	p[0] = '0' + sod / 36000;
	p[1] = '0' + sod / 3600 % 10;
	p[2] = ':';
	p[3] = '0' + sod % 3600 / 600;
	p[4] = '0' + sod % 3600 / 60 % 10;
	p[5] = ':';
	p[6] = '0' + sod % 60 / 10;
	p[7] = '0' + sod % 10;
	p[8] = '.';
	for (int i = 14; i >= 9; i--, us /= 10)
		p[i] = '0' + us % 10;
	p[15] = 'Z';
	p[16] = '"';
	jw_put(j, buf, p + 17 - buf);
}

static void jw_counts(struct jw *j, const __u64 *counts)
{
	jw_open(j, '{');
	for (int c = 0; c < PM_NCLASS; c++) {
		if (!counts[c])
			continue;
		jw_sep(j);
		jw_put(j, j->ckey[c], j->ckeylen[c]);
		jw_u64(j, counts[c]);
	}
	jw_close(j, '}');
}

/* An array of the class names of mask, in class order. */
static void jw_classes(struct jw *j, uint32_t mask)
{
	jw_open(j, '[');
	for (int c = 0; c < PM_NCLASS; c++) {
		if (!(mask & (1u << c)))
			continue;
		jw_sep(j);
		jw_put(j, j->cstr[c], j->cstrlen[c]);
	}
	jw_close(j, ']');
}

/* fmt_dest, with IPv4 addresses formatted here (inet_ntop's text). */
static size_t dest_text(const struct pm_view *v, const struct pm_dest_key *k,
			char *buf, size_t len)
{
	char *p = buf;

	if (!addr_is_v4(k->addr) ||
	    (v->agg4 && v->agg4 < PM_AGG4_NONE)) {
		fmt_dest(v, k, buf, len);
		return strlen(buf);
	}
	for (int i = 12; i < 16; i++) {
		unsigned int b = k->addr[i];

		if (b >= 100)
			*p++ = '0' + b / 100;
		if (b >= 10)
			*p++ = '0' + b / 10 % 10;
		*p++ = '0' + b % 10;
		*p++ = i < 15 ? '.' : 0;
	}
	return p - buf - 1;
}

static void jw_dest(struct jw *j, const struct pm_view *v,
		    const struct pm_dest_key *k, const struct pm_dest *d)
{
	uint32_t expected = dest_expected(v, k, d), via = dest_via_mask(d->flags);
	char addr[64];

	jw_sep(j);
	jw_open(j, '{');
	jw_key(j, "addr");
	jw_str(j, addr, dest_text(v, k, addr, sizeof(addr)));
	jw_key(j, "packets");
	jw_counts(j, d->packets);
	jw_key(j, "bytes");
	jw_counts(j, d->bytes);
	jw_key(j, "first_seen");
	jw_time(j, d->first_seen);
	jw_key(j, "last_seen");
	jw_time(j, d->last_seen);
	jw_key(j, "expected");
	jw_classes(j, expected);
	jw_key(j, "violations");
	jw_u64(j, d->violations);
	if (via) {
		jw_key(j, "via");
		jw_classes(j, via);
	}
	jw_close(j, '}');
}

/* The text of a class's name as a string and as a key, with j's flags. */
static void jw_class_texts(struct jw *j)
{
	char *p = j->p;
	size_t n = j->n, cap = j->cap;
	char buf[40];

	for (int c = 0; c < PM_NCLASS; c++) {
		j->p = buf;
		j->n = 0;
		j->cap = sizeof(buf);
		jw_str(j, class_name(c), strlen(class_name(c)));
		memcpy(j->cstr[c], buf, j->n);
		j->cstrlen[c] = j->n;
		if (j->flags & JSON_C_TO_STRING_SPACED)
			JW_LIT(j, ": ");
		else
			jw_ch(j, ':');
		memcpy(j->ckey[c], buf, j->n);
		j->ckeylen[c] = j->n;
	}
	j->p = p;
	j->n = n;
	j->cap = cap;
}

int snapshot_stream(FILE *f, const struct pm_view *v,
		    const struct alert_log *evidence, int flags)
{
	struct jw *j = calloc(1, sizeof(*j));
	struct pm_view one = *v;
	const struct dest_table *t = v->dests;
	uint32_t *idx = NULL;
	json_object *doc = NULL, *o;
	int err;

	if (!one.real_off_ns)
		one.real_off_ns = mono_to_real_ns(0);
	if (j)
		j->p = malloc(JW_BLOCK);
	if (j && j->p)
		idx = dest_busiest_first(t);
	if (idx)
		doc = snapshot_build(&one, false);
	if (!doc) {
		err = -ENOMEM;
		goto out;
	}
	if (!(flags & JSON_C_TO_STRING_PRETTY))
		flags &= ~JSON_C_TO_STRING_PRETTY_TAB;
	j->f = f;
	j->flags = flags;
	j->cap = JW_BLOCK;
	j->real_off = one.real_off_ns;
	/* cannot overflow: a class name is short and plain */
	jw_class_texts(j);

	jw_open(j, '{');
	json_object_object_foreach(doc, key, val) {
		jw_key(j, key);
		if (!strcmp(key, "destinations")) {
			jw_open(j, '[');
			for (size_t i = 0; i < t->n && !j->err; i++) {
				/* in the document's order, the table is read
				 * at random: ask for the entries ahead */
				if (i + JW_AHEAD < t->n) {
					const char *d = (const char *)&t->vals[idx[i + JW_AHEAD]];

					for (size_t b = 0; b < sizeof(struct pm_dest); b += 64)
						__builtin_prefetch(d + b);
					__builtin_prefetch(&t->keys[idx[i + JW_AHEAD]]);
				}
				jw_dest(j, &one, &t->keys[idx[i]], &t->vals[idx[i]]);
			}
			jw_close(j, ']');
		} else if (!strcmp(key, "alerts") && one.alerts) {
			jw_open(j, '[');
			for (size_t i = 0; i < one.alerts->n && !j->err; i++) {
				o = alert_json(alert_log_get(one.alerts, i));
				jw_sep(j);
				jw_value(j, o);
				json_object_put(o);
			}
			jw_close(j, ']');
		} else {
			jw_value(j, val);
		}
		if (j->err)
			break;
	}
	if (evidence && !j->err) {
		jw_key(j, "evidence");
		jw_open(j, '[');
		for (size_t i = 0; i < evidence->n && !j->err; i++) {
			o = evidence_one_json(alert_log_get(evidence, i));
			jw_sep(j);
			jw_value(j, o);
			json_object_put(o);
		}
		jw_close(j, ']');
	}
	jw_close(j, '}');
	jw_ch(j, '\n');
	jw_flush(j);
	err = j->err;
	if (!err && fflush(f))
		err = errno ? -errno : -EIO;
out:
	json_object_put(doc);
	free(idx);
	if (j)
		free(j->p);
	free(j);
	return err;
}

static int write_stream(FILE *f, void *ctx)
{
	return snapshot_stream(f, ctx, NULL, JSON_C_TO_STRING_PRETTY |
			       JSON_C_TO_STRING_NOSLASHESCAPE);
}

int snapshot_write(const char *path, const struct pm_view *v)
{
	return write_output(path, write_stream, (void *)v);
}
