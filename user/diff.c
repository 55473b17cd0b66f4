// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix diff`: what changed between two snapshots (diff.h). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "diff.h"
#include "export.h"
#include "classes.h"
#include "snapdoc.h"
#include "util.h"

static void diff_usage(FILE *f)
{
	fprintf(f,
"usage: protomix diff [--json] OLD.json NEW.json\n"
"What changed between two snapshots (protomix watch -o, protomix snapshot):\n"
"destinations that appeared or vanished, classes that appeared or vanished\n"
"at a destination, and shifts of %d percentage points or more in a\n"
"destination's class mix (share of its packets). Largest shift first.\n"
"\n"
"      --json    one JSON document instead of text\n"
"  -h, --help    this text\n", DIFF_SHIFT_POINTS);
}

/* A destination of one snapshot. */
typedef struct snap_dest ddest;

struct side {
	const char *file;
	struct snap_doc doc;
};

static int side_load(struct side *s, const char *file)
{
	s->file = file;
	return snap_doc_read(file, &s->doc);
}

static void side_free(struct side *s)
{
	snap_doc_free(&s->doc);
}

/* One class at a destination in both snapshots. */
struct cls {
	const char *name;
	int cls;		/* enum pm_class */
	uint64_t o, n;		/* packets, old and new */
	double so, sn;		/* shares */
	bool appeared, vanished, shifted;
};

struct change {
	const ddest *o, *n;
	struct cls *c;		/* every class of either side, by shift */
	size_t nc;
	int64_t magnitude;	/* the largest |share change|, 1e-9 units */
};

/* |a/ta - b/tb| >= DIFF_SHIFT_POINTS / 100, on integers (a share of an
 * empty destination is 0). */
static bool shifted(uint64_t a, uint64_t ta, uint64_t b, uint64_t tb)
{
	unsigned __int128 x, y, lhs;

	if (!ta)
		a = 0, ta = 1;
	if (!tb)
		b = 0, tb = 1;
	x = (unsigned __int128)a * tb;
	y = (unsigned __int128)b * ta;
	lhs = (x > y ? x - y : y - x) * 100;
	return lhs >= (unsigned __int128)DIFF_SHIFT_POINTS * ta * tb;
}

/* |share change| in units of 1e-9: equal shifts compare equal whatever
 * the rounding of the doubles (0.9 - 0.8 and 0.2 - 0.1). */
static int64_t delta(const struct cls *c)
{
	double d = c->sn - c->so;

	return (int64_t)((d < 0 ? -d : d) * 1e9 + 0.5);
}

/* For equal shifts: what appeared, what vanished, what grew, what shrank. */
static int rank(const struct cls *c)
{
	return c->appeared ? 0 : c->vanished ? 1 : c->sn >= c->so ? 2 : 3;
}

static int cmp_cls(const void *a, const void *b)
{
	const struct cls *x = a, *y = b;

	if (delta(x) != delta(y))
		return delta(x) > delta(y) ? -1 : 1;
	if (rank(x) != rank(y))
		return rank(x) - rank(y);
	return x->cls - y->cls;
}

static int cmp_cls_order(const void *a, const void *b)
{
	return ((const struct cls *)a)->cls - ((const struct cls *)b)->cls;
}

/* Fills ch for a destination in both: 1 if something changed, 0 if not,
 * -1 if out of memory. */
static int change_of(struct change *ch, const ddest *o, const ddest *n)
{
	bool any = false;

	memset(ch, 0, sizeof(*ch));
	ch->o = o;
	ch->n = n;
	ch->c = calloc(PM_NCLASS, sizeof(*ch->c));
	if (!ch->c)
		return -1;
	for (int k = 0; k < PM_NCLASS; k++) {
		struct cls *c = &ch->c[ch->nc];

		if (!o->packets[k] && !n->packets[k])
			continue;
		ch->nc++;
		c->name = class_name(k);
		c->cls = k;
		c->o = o->packets[k];
		c->n = n->packets[k];
		c->so = o->total ? (double)c->o / (double)o->total : 0;
		c->sn = n->total ? (double)c->n / (double)n->total : 0;
		c->appeared = !c->o && c->n;
		c->vanished = c->o && !c->n;
		c->shifted = shifted(c->n, n->total, c->o, o->total);
		any |= c->appeared || c->vanished || c->shifted;
		if (delta(c) > ch->magnitude)
			ch->magnitude = delta(c);
	}
	if (!any) {
		free(ch->c);
		ch->c = NULL;
		return 0;
	}
	qsort(ch->c, ch->nc, sizeof(*ch->c), cmp_cls);
	return 1;
}

static int cmp_change(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	if (x->magnitude != y->magnitude)
		return x->magnitude > y->magnitude ? -1 : 1;
	return snap_dest_cmp(x->n, y->n);
}

static int cmp_busiest(const void *a, const void *b)
{
	const ddest *x = *(const ddest *const *)a;
	const ddest *y = *(const ddest *const *)b;

	return cmp_busier(x->total, y->total) ?: snap_dest_cmp(x, y);
}

struct diff {
	struct side old, new;
	struct change *changed;
	const ddest **appeared, **vanished;
	size_t nchanged, nappeared, nvanished, nunchanged;
};

/* A hash join: every destination of OLD looked up in NEW; those of NEW
 * not found appeared (addresses are unique in a checked snapshot). */
static int diff_compute(struct diff *df)
{
	const struct snap_doc *o = &df->old.doc, *n = &df->new.doc;
	bool *matched = calloc(n->n ? n->n : 1, sizeof(*matched));

	if (!matched)
		return -ENOMEM;
	df->changed = calloc(o->n ? o->n : 1, sizeof(*df->changed));
	df->appeared = calloc(n->n ? n->n : 1, sizeof(*df->appeared));
	df->vanished = calloc(o->n ? o->n : 1, sizeof(*df->vanished));
	if (!df->changed || !df->appeared || !df->vanished) {
		free(matched);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n; i++) {
		const ddest *od = &o->d[i];
		const ddest *nd = snap_doc_find(n, od->key, od->plen);
		int c;

		if (!nd) {
			df->vanished[df->nvanished++] = od;
			continue;
		}
		matched[nd - n->d] = true;
		c = change_of(&df->changed[df->nchanged], od, nd);
		if (c < 0) {
			free(matched);
			return -ENOMEM;
		}
		if (c)
			df->nchanged++;
		else
			df->nunchanged++;
	}
	for (size_t j = 0; j < n->n; j++)
		if (!matched[j])
			df->appeared[df->nappeared++] = &n->d[j];
	free(matched);
	qsort(df->changed, df->nchanged, sizeof(*df->changed), cmp_change);
	qsort(df->appeared, df->nappeared, sizeof(*df->appeared), cmp_busiest);
	qsort(df->vanished, df->nvanished, sizeof(*df->vanished), cmp_busiest);
	return 0;
}

static void diff_free(struct diff *df)
{
	for (size_t i = 0; i < df->nchanged; i++)
		free(df->changed[i].c);
	free(df->changed);
	free(df->appeared);
	free(df->vanished);
	side_free(&df->old);
	side_free(&df->new);
}

/* ---- text ---------------------------------------------------------- */

static void print_mix(FILE *f, const ddest *d)
{
	struct cls c[PM_NCLASS];
	size_t n = 0;

	memset(c, 0, sizeof(c));
	for (int k = 0; k < PM_NCLASS; k++) {
		if (!d->packets[k])
			continue;
		c[n].name = class_name(k);
		c[n].cls = k;
		c[n].n = d->packets[k];
		c[n++].sn = (double)d->packets[k] / (double)d->total;
	}
	qsort(c, n, sizeof(c[0]), cmp_cls);
	fputs(" (", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s %s", i ? ", " : "", c[i].name,
			snap_fmt_share(c[i].n, d->total, (char[16]){ 0 }, 16));
	fputs(")", f);
}

static void print_change(FILE *f, const struct change *ch)
{
	char a[16], b[16], via[96];
	int said = 0;


	fprintf(f, "%s%s: ", ch->n->addr, via_text(ch->n->via | ch->o->via, via, sizeof(via)));
	for (size_t i = 0; i < ch->nc; i++) {
		const struct cls *c = &ch->c[i];

		snap_fmt_share(c->o, ch->o->total, a, sizeof(a));
		snap_fmt_share(c->n, ch->n->total, b, sizeof(b));
		if (c->appeared)
			fprintf(f, "%s%s appeared (%s -> %s)", said++ ? ", " : "",
				c->name, a, b);
		else if (c->vanished)
			fprintf(f, "%s%s vanished (%s -> %s)", said++ ? ", " : "",
				c->name, a, b);
		else if (c->shifted)
			fprintf(f, "%s%s %s -> %s", said++ ? ", " : "", c->name, a, b);
	}
	said = 0;
	fputs(" (packets:", f);
	for (size_t i = 0; i < ch->nc; i++) {
		const struct cls *c = &ch->c[i];

		if (!c->appeared && !c->vanished && !c->shifted)
			continue;
		fprintf(f, "%s %s %s%" PRIu64, said++ ? "," : "", c->name,
			c->n >= c->o ? "+" : "-", c->n >= c->o ? c->n - c->o : c->o - c->n);
	}
	fputs(")\n", f);
}

static void print_side(FILE *f, const struct side *s)
{
	const char *host = s->doc.host, *at = s->doc.taken_at;

	fprintf(f, "%s: %s at %s", s->file, *host ? host : "?", *at ? at : "?");
}

/* "ADDR (via ...): WHAT, N packets (mix)" for each of n destinations. */
static void print_listed(FILE *f, const ddest *const *d, size_t n,
			 const char *what)
{
	char via[96];

	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s: %s, %" PRIu64 " packets", d[i]->addr,
			via_text(d[i]->via, via, sizeof(via)), what, d[i]->total);
		print_mix(f, d[i]);
		fputc('\n', f);
	}
}

static void diff_text(FILE *f, const struct diff *df)
{
	for (size_t i = 0; i < df->nchanged; i++)
		print_change(f, &df->changed[i]);
	print_listed(f, df->appeared, df->nappeared, "appeared");
	print_listed(f, df->vanished, df->nvanished, "vanished");
	fprintf(f, "%zu changed, %zu appeared, %zu vanished, %zu unchanged (",
		df->nchanged, df->nappeared, df->nvanished, df->nunchanged);
	print_side(f, &df->old);
	fputs(" -> ", f);
	print_side(f, &df->new);
	fputs(")\n", f);
}

/* ---- JSON ---------------------------------------------------------- */

/* A share with 4 decimals, written as such (0.05, not 0.050000000000000003). */
static json_object *jshare(double v)
{
	char buf[32];
	size_t n = snprintf(buf, sizeof(buf), "%.4f", v);

	while (n > 1 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static json_object *jside(const struct side *s)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_object_new_string(s->file));
	json_object_object_add(o, "host", json_object_new_string(s->doc.host));
	json_object_object_add(o, "taken_at",
			       json_object_new_string(s->doc.taken_at));
	return o;
}

/* "via": the tunnels a destination's packets came inside (on either side
 * for a change), as a snapshot gives them; nothing for none. */
static void add_via(json_object *o, uint32_t via)
{
	if (via)
		json_object_object_add(o, "via", classes_json(via));
}

static json_object *jdest(const ddest *d)
{
	json_object *o = json_object_new_object(), *p = json_object_new_object();

	for (int k = 0; k < PM_NCLASS; k++)
		if (d->packets[k])
			json_object_object_add(p, class_name(k),
					       json_object_new_uint64(d->packets[k]));
	json_object_object_add(o, "addr", json_object_new_string(d->addr));
	add_via(o, d->via);
	json_object_object_add(o, "packets", p);
	return o;
}

static json_object *jchange(const struct change *ch)
{
	json_object *o = json_object_new_object();
	json_object *app = json_object_new_array(), *van = json_object_new_array();
	json_object *sh = json_object_new_array(), *shares = json_object_new_object();
	json_object *pd = json_object_new_object();
	struct cls *byname = calloc(ch->nc ? ch->nc : 1, sizeof(*byname));

	for (size_t i = 0; i < ch->nc; i++) {
		const struct cls *c = &ch->c[i];

		if (c->appeared)
			json_object_array_add(app, json_object_new_string(c->name));
		if (c->vanished)
			json_object_array_add(van, json_object_new_string(c->name));
		if (c->shifted)
			json_object_array_add(sh, json_object_new_string(c->name));
	}
	/* shares and deltas in class order, easier to read than by shift */
	if (byname) {
		memcpy(byname, ch->c, ch->nc * sizeof(*byname));
		qsort(byname, ch->nc, sizeof(*byname), cmp_cls_order);
		for (size_t i = 0; i < ch->nc; i++) {
			const struct cls *c = &byname[i];
			json_object *s = json_object_new_object();

			json_object_object_add(s, "old", jshare(c->so));
			json_object_object_add(s, "new", jshare(c->sn));
			json_object_object_add(shares, c->name, s);
			json_object_object_add(pd, c->name, json_object_new_int64(
				(int64_t)c->n - (int64_t)c->o));
		}
	}
	free(byname);
	json_object_object_add(o, "addr", json_object_new_string(ch->n->addr));
	add_via(o, ch->n->via | ch->o->via);
	json_object_object_add(o, "classes_appeared", app);
	json_object_object_add(o, "classes_vanished", van);
	json_object_object_add(o, "shifted", sh);
	json_object_object_add(o, "shares", shares);
	json_object_object_add(o, "packets_delta", pd);
	return o;
}

/* One element of a top-level array, as json-c prints it there with
 * JSON_C_TO_STRING_PRETTY: printed alone, then every line but the first
 * moved in by the 4 spaces of its depth; freed. */
static void put_element(FILE *f, json_object *o, bool first)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	fputs(first ? "\n    " : ",\n    ", f);
	for (const char *nl; (nl = strchr(t, '\n')); t = nl + 1) {
		fwrite(t, 1, nl + 1 - t, f);
		fputs("    ", f);
	}
	fputs(t, f);
	json_object_put(o);
}

/* "KEY":[ ... ] at the top level, one element at a time. */
static void put_array(FILE *f, const char *key, size_t n,
		      json_object *(*elem)(const struct diff *, size_t),
		      const struct diff *df)
{
	fprintf(f, ",\n  \"%s\":[", key);
	for (size_t i = 0; i < n; i++)
		put_element(f, elem(df, i), i == 0);
	fputs("\n  ]", f);
}

static json_object *changed_at(const struct diff *df, size_t i)
{
	return jchange(&df->changed[i]);
}

static json_object *appeared_at(const struct diff *df, size_t i)
{
	return jdest(df->appeared[i]);
}

static json_object *vanished_at(const struct diff *df, size_t i)
{
	return jdest(df->vanished[i]);
}

/* The document json-c prints of {type, old, new, changed, appeared,
 * vanished, unchanged} (PRETTY|NOSLASHESCAPE), byte for byte, written
 * one destination at a time: a diff of a million destinations never holds
 * the whole document in memory. */
static void diff_json(FILE *f, const struct diff *df)
{
	json_object *head = json_object_new_object();
	const char *t;
	size_t len;

	json_object_object_add(head, "type", json_object_new_string("diff"));
	json_object_object_add(head, "old", jside(&df->old));
	json_object_object_add(head, "new", jside(&df->new));
	/* the head without its closing "\n}" */
	t = json_object_to_json_string_ext(head, JSON_C_TO_STRING_PRETTY |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(t);
	fwrite(t, 1, len - 2, f);
	json_object_put(head);
	put_array(f, "changed", df->nchanged, changed_at, df);
	put_array(f, "appeared", df->nappeared, appeared_at, df);
	put_array(f, "vanished", df->nvanished, vanished_at, df);
	fprintf(f, ",\n  \"unchanged\":%zu\n}\n", df->nunchanged);
}

/* ---- the command --------------------------------------------------- */

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct diff df = { 0 };
	bool json = false;
	int c, rc = EXIT_OK;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			diff_usage(stdout);
			return EXIT_OK;
		default:	/* ':' or '?' */
			return cli_opt_error("diff", c, argv);
		}
	}
	if (argc - optind != 2) {
		pm_err("diff: expected two snapshot files, got %d (usage: protomix "
		       "diff [--json] OLD.json NEW.json)", argc - optind);
		return EXIT_USAGE;
	}
	if ((rc = side_load(&df.old, argv[optind])) ||
	    (rc = side_load(&df.new, argv[optind + 1])))
		goto out;
	if (diff_compute(&df)) {
		pm_err("diff: out of memory");
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (json)
		diff_json(stdout, &df);
	else
		diff_text(stdout, &df);
	/* main() flushes stdout and reports a failed write */
out:
	diff_free(&df);
	return rc;
}
