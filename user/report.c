// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "classes.h"
#include "report.h"
#include "util.h"

struct row {
	uint32_t idx;
	uint64_t pkts, bytes;
	__u64 cls[PM_NCLASS];
};

/* Busiest first; ties by address, so rows keep their order. */
static int cmp_rows(const void *a, const void *b, void *ctx)
{
	const struct dest_table *t = ctx;
	const struct row *x = a, *y = b;

	if (x->pkts != y->pkts)
		return x->pkts > y->pkts ? -1 : 1;
	return memcmp(&t->keys[x->idx], &t->keys[y->idx],
		      sizeof(struct pm_dest_key));
}

/* The top rows seen so far, a heap whose root is the least busy of them
 * (cmp_rows: the last in report order): a pass over N destinations for
 * the top K costs N log K and K rows of memory, not a sort of N. */
struct top_heap {
	struct row *r;
	size_t n, cap;
	const struct dest_table *t;
};

static bool heap_before(const struct top_heap *h, size_t a, size_t b)
{
	/* a sits above b: a comes after b in report order */
	return cmp_rows(&h->r[a], &h->r[b], (void *)h->t) > 0;
}

static void heap_swap(struct top_heap *h, size_t a, size_t b)
{
	struct row x = h->r[a];

	h->r[a] = h->r[b];
	h->r[b] = x;
}

static void heap_down(struct top_heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < h->n && heap_before(h, l, m))
			m = l;
		if (l + 1 < h->n && heap_before(h, l + 1, m))
			m = l + 1;
		if (m == i)
			return;
		heap_swap(h, i, m);
		i = m;
	}
}

/* Keep r if it is among the cap busiest so far. */
static void heap_offer(struct top_heap *h, const struct row *r)
{
	size_t i;

	if (h->n < h->cap) {
		h->r[i = h->n++] = *r;
		while (i && heap_before(h, i, (i - 1) / 2)) {
			heap_swap(h, i, (i - 1) / 2);
			i = (i - 1) / 2;
		}
		return;
	}
	if (cmp_rows(r, &h->r[0], (void *)h->t) >= 0)
		return;		/* not before the least busy kept */
	h->r[0] = *r;
	heap_down(h, 0);
}

static void mix_text(const struct row *r, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int c = 0; c < PM_NCLASS && n < len; c++) {
		if (!r->cls[c])
			continue;
		n += snprintf(buf + n, len - n, "%s%s %.0f%%", n ? " " : "",
			      class_name(c), 100.0 * r->cls[c] / r->pkts);
	}
}

void report_interval(FILE *out, bool json, int top, double secs,
		     const struct pm_view *v, const struct dest_table *prev)
{
	const struct dest_table *t = v->dests;
	size_t cap = (size_t)top < t->n ? (size_t)top : t->n;
	struct top_heap heap = { .r = calloc(cap ? cap : 1, sizeof(struct row)),
				 .cap = cap, .t = t };
	struct row *rows = heap.r, r;
	uint64_t all_pkts = 0, all_bytes = 0;
	size_t nrows;
	char tbuf[40], addr[64], a[16], b[16], mix[256], unseen[96], inner[320];
	char via[96];

	if (!rows)
		return;
	for (uint32_t i = 0; i < t->n; i++) {
		r.idx = i;
		r.pkts = dest_delta(&t->vals[i], dest_table_prev(prev, &t->keys[i], i),
				    r.cls, &r.bytes);
		all_pkts += r.pkts;
		all_bytes += r.bytes;
		if (r.pkts)
			heap_offer(&heap, &r);
	}
	nrows = heap.n;
	qsort_r(rows, nrows, sizeof(*rows), cmp_rows, (void *)t);
	fmt_time(mono_to_real_ns(v->taken_ns), tbuf, sizeof(tbuf));

	if (json) {
		json_object *o = json_object_new_object(), *arr, *d;

		json_object_object_add(o, "type", json_object_new_string("report"));
		json_object_object_add(o, "time", json_object_new_string(tbuf));
		json_object_object_add(o, "interval", json_object_new_double(secs));
		json_object_object_add(o, "pps", json_object_new_double(all_pkts / secs));
		json_object_object_add(o, "bps", json_object_new_double(all_bytes * 8 / secs));
		arr = json_object_new_array();
		for (size_t i = 0; i < nrows; i++) {
			d = json_object_new_object();
			json_object_object_add(d, "addr", json_object_new_string(
				fmt_dest(v, &t->keys[rows[i].idx], addr, sizeof(addr))));
			json_object_object_add(d, "pps", json_object_new_double(rows[i].pkts / secs));
			json_object_object_add(d, "bps", json_object_new_double(rows[i].bytes * 8 / secs));
			json_object *pk = json_object_new_object();
			for (int c = 0; c < PM_NCLASS; c++)
				if (rows[i].cls[c])
					json_object_object_add(pk, class_name(c),
						json_object_new_uint64(rows[i].cls[c]));
			json_object_object_add(d, "packets", pk);
			if (dest_via_mask(t->vals[rows[i].idx].flags))
				json_object_object_add(d, "via", classes_json(
					dest_via_mask(t->vals[rows[i].idx].flags)));
			json_object_array_add(arr, d);
		}
		json_object_object_add(o, "top", arr);
		json_object_object_add(o, "stats", stats_json(v));
		fprintf(out, "%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		fprintf(out, "%s  %s pkt/s  %sb/s  dests %zu/%llu  evicted %llu  malformed %llu  non-ip %llu%s%s\n",
			tbuf, fmt_si(all_pkts / secs, a, sizeof(a)),
			fmt_si(all_bytes * 8 / secs, b, sizeof(b)), t->n,
			(unsigned long long)v->max_dests,
			(unsigned long long)view_evicted(v),
			(unsigned long long)stats_malformed(&v->total),
			(unsigned long long)v->total.reason[PM_R_NON_IP],
			stats_unseen_text(&v->total, unseen, sizeof(unseen)),
			stats_inner_text(&v->total, inner, sizeof(inner)));
		if (nrows)
			fprintf(out, "  %-39s %9s %9s  %s\n", "DESTINATION",
				"PKT/S", "BIT/S", "MIX");
		for (size_t i = 0; i < nrows; i++) {
			mix_text(&rows[i], mix, sizeof(mix));
			fprintf(out, "  %-39s %9s %9s  %s%s\n",
				fmt_dest(v, &t->keys[rows[i].idx], addr, sizeof(addr)),
				fmt_si(rows[i].pkts / secs, a, sizeof(a)),
				fmt_si(rows[i].bytes * 8 / secs, b, sizeof(b)), mix,
				via_text(dest_via_mask(t->vals[rows[i].idx].flags),
					 via, sizeof(via)));
		}
	}
	fflush(out);
	free(rows);
}
