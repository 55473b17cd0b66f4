// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One read of a watch as the outputs show it (view.h). */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "view.h"

char *fmt_dest(const struct pm_view *v, const struct pm_dest_key *k,
	       char *buf, size_t len)
{
	bool v4 = addr_is_v4(k->addr);
	unsigned int plen = v4 ? v->agg4 : v->agg6;

	fmt_addr(k->addr, buf, len);
	if (plen && plen < (v4 ? 32u : 128u))
		snprintf(buf + strlen(buf), len - strlen(buf), "/%u", plen);
	return buf;
}

uint64_t view_evicted(const struct pm_view *v)
{
	return v->total.new_dests > v->dests->n ?
	       v->total.new_dests - v->dests->n : 0;
}

/* The destinations in the document's order, busiest first, ties by
 * address (so the order is stable): indexes into the table, or NULL. */
struct order {
	const struct dest_table *t;
	uint64_t *pkts;
};

static int cmp_pkts_desc(const void *a, const void *b, void *ctx)
{
	const struct order *o = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct pm_dest_key *ka, *kb;
	uint64_t x, y;

	if (o->pkts[i] != o->pkts[j])
		return cmp_busier(o->pkts[i], o->pkts[j]);
	/* memcmp of the keys: their bytes as two big-endian words */
	ka = &o->t->keys[i];
	kb = &o->t->keys[j];
	x = be64toh(ka->w[0]);
	y = be64toh(kb->w[0]);
	if (x == y) {
		x = be64toh(ka->w[1]);
		y = be64toh(kb->w[1]);
	}
	return x < y ? -1 : x > y;
}

uint32_t *dest_busiest_first(const struct dest_table *t)
{
	struct order ord = { .t = t };
	uint32_t *idx = calloc(t->n ? t->n : 1, sizeof(*idx));

	ord.pkts = calloc(t->n ? t->n : 1, sizeof(*ord.pkts));
	if (!idx || !ord.pkts) {
		free(idx);
		free(ord.pkts);
		return NULL;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		idx[i] = i;
		ord.pkts[i] = dest_total_packets(&t->vals[i]);
	}
	qsort_r(idx, t->n, sizeof(*idx), cmp_pkts_desc, &ord);
	free(ord.pkts);
	return idx;
}
