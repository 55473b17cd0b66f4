// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * report_test: the watch's interval report (user/report.c) picks the top N
 * destinations of a large read exactly as a full sort would.
 *
 * A read of D destinations, 10.96.0.0 on, whose packets since the read
 * before take few values (many ties, broken by address); the read before
 * holds each of them at the same index, except every 7th, which it lacks
 * (new since), and every 11th, whose entry was inserted again since (its
 * first_seen moved: counted from zero). report_interval prints a JSON
 * line per call; its "top" must be, for each N, the first N of the
 * destinations with packets in the interval sorted by packets (most
 * first), then address, with their exact pps; the line's "pps" is the sum
 * over every destination. The same with the read before shuffled (every
 * destination at another index: found by address, not by place).
 *
 *   report/top_n_exact     N = 1, 10, 100, D - 1, D, D + 5 (more than
 *                          there are: all, in order)
 *   report/top_n_moved     the same against the shuffled read before
 *
 * One line per check: PASS name | FAIL name: why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include "protomix.h"
#include "maps.h"
#include "report.h"
#include "util.h"
#include "view.h"
#include "check.h"

#define D	3000
#define BASE	0x0a600000u	/* 10.96.0.0 */

static int failed;

struct want {
	uint32_t v4;
	uint64_t pkts;
};

static struct pm_dest_key v4_key(uint32_t v4)
{
	struct pm_dest_key k;

	addr_from_v4(k.addr, v4);
	return k;
}

static void put(struct dest_table *t, uint32_t v4, uint64_t pkts, uint64_t first)
{
	struct pm_dest *d = &t->vals[t->n];

	memset(d, 0, sizeof(*d));
	d->key = v4_key(v4);
	d->packets[PM_C_TCP] = pkts;
	d->bytes[PM_C_TCP] = pkts * 100;
	d->seen = 1u << PM_C_TCP;
	d->first_seen = first;
	t->keys[t->n++] = d->key;
}

/* Most packets first, then the lower address (as a key, byte order). */
static int cmp_want(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	if (x->pkts != y->pkts)
		return x->pkts > y->pkts ? -1 : 1;
	return x->v4 < y->v4 ? -1 : x->v4 > y->v4;
}

static void check_top(struct check *ck, const struct pm_view *v,
		      const struct dest_table *prev, const struct want *w, size_t nw,
		      uint64_t all, int top)
{
	char *buf = NULL, a[INET_ADDRSTRLEN];
	size_t len = 0, want_n = (size_t)top < nw ? (size_t)top : nw;
	FILE *f = open_memstream(&buf, &len);
	json_object *o = NULL, *arr, *pps;

	if (!f) {
		complain(ck, "open_memstream failed");
		return;
	}
	report_interval(f, true, top, 1.0, v, prev);
	fclose(f);
	o = json_tokener_parse(buf);
	if (!o || !json_object_object_get_ex(o, "top", &arr) ||
	    !json_object_object_get_ex(o, "pps", &pps)) {
		complain(ck, "top %d: not a report line: %.80s", top, buf ? buf : "");
		goto out;
	}
	if ((uint64_t)json_object_get_double(pps) != all)
		complain(ck, "top %d: pps %.0f, want %llu", top,
			 json_object_get_double(pps), (unsigned long long)all);
	if (json_object_array_length(arr) != want_n) {
		complain(ck, "top %d: %zu rows, want %zu", top,
			 json_object_array_length(arr), want_n);
		goto out;
	}
	for (size_t i = 0; i < want_n; i++) {
		json_object *d = json_object_array_get_idx(arr, i), *ad, *pp;
		uint32_t be = htonl(w[i].v4);

		inet_ntop(AF_INET, &be, a, sizeof(a));
		if (!json_object_object_get_ex(d, "addr", &ad) ||
		    !json_object_object_get_ex(d, "pps", &pp) ||
		    strcmp(json_object_get_string(ad), a) ||
		    (uint64_t)json_object_get_double(pp) != w[i].pkts) {
			complain(ck, "top %d: row %zu is %s at %.0f pps, want %s at %llu",
				 top, i, json_object_get_string(ad),
				 json_object_get_double(pp), a,
				 (unsigned long long)w[i].pkts);
			break;
		}
	}
out:
	json_object_put(o);
	free(buf);
}

static void run(const char *name, bool shuffle)
{
	static const int tops[] = { 1, 10, 100, D - 1, D, D + 5 };
	struct dest_table cur = { 0 }, prev = { 0 };
	struct pm_view v = { .agg4 = 32, .agg6 = 128, .max_dests = 4 * D };
	struct check ck = { .n = 0 };
	struct want *w = calloc(D, sizeof(*w));
	uint32_t *order = calloc(D, sizeof(*order));
	uint64_t all = 0;
	size_t nw = 0;

	if (!w || !order || dest_table_init(&cur, D) || dest_table_init(&prev, D)) {
		complain(&ck, "out of memory");
		goto done;
	}
	for (uint32_t i = 0; i < D; i++)
		order[i] = i;
	if (shuffle) {
		srand(7);
		for (uint32_t i = D - 1; i > 0; i--) {
			uint32_t j = rand() % (i + 1), x = order[i];

			order[i] = order[j];
			order[j] = x;
		}
	}
	/* the read before, in `order`; then the current one in slot order */
	for (uint32_t j = 0; j < D; j++) {
		uint32_t i = order[j];

		if (i % 7 == 3)
			continue;	/* new since */
		put(&prev, BASE + i, 1000 + i % 5, 1 + (i % 11 == 5));
	}
	for (uint32_t i = 0; i < D; i++) {
		uint64_t since = (i * 37) % 13;		/* 0-12: ties, and zeros */
		uint64_t was = 1000 + i % 5;
		bool fresh = i % 7 == 3 || i % 11 == 5;

		/* counted from zero when new or inserted again */
		put(&cur, BASE + i, fresh ? since : was + since, 1);
		if (since) {
			w[nw].v4 = BASE + i;
			w[nw++].pkts = since;
			all += since;
		}
	}
	dest_table_index(&cur);
	dest_table_index(&prev);
	qsort(w, nw, sizeof(*w), cmp_want);
	v.dests = &cur;
	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
		check_top(&ck, &v, &prev, w, nw, all, tops[i]);
done:
	failed += report(name, &ck);
	dest_table_free(&cur);
	dest_table_free(&prev);
	free(w);
	free(order);
}

int main(void)
{
	run("report/top_n_exact", false);
	run("report/top_n_moved", true);
	return failed ? 1 : 0;
}
