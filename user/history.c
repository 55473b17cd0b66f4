// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "classes.h"
#include "history.h"
#include "view.h"
#include "util.h"

/* One destination's deltas of one interval. */
struct hist_cell {
	uint32_t packets[PM_NCLASS];	/* saturating at UINT32_MAX */
	uint64_t bytes[PM_NCLASS];
};

#define NO_ALERT	0
struct hist_slot {
	struct pm_dest_key key;
	uint64_t since;			/* first interval (seq) recorded */
	uint64_t last_wanted;		/* last interval it was busy or alerted */
	uint64_t first_alert_ns[PM_NKIND];	/* wall clock; NO_ALERT */
	bool used, alerted;
	struct hist_cell *cells;	/* W of them: interval seq at seq % W */
};

/* A destination among the busiest of this interval (heap entry). */
struct hist_busy {
	uint64_t packets;
	uint32_t idx;			/* in the read */
};

struct history {
	uint32_t ndests, nint, nslots;	/* N, W, 2N */
	uint32_t nalerted;		/* slots held by alerted destinations */
	double interval_s;
	uint8_t agg4, agg6;
	uint64_t seq;			/* intervals recorded so far */
	uint64_t *start_ns, *end_ns;	/* W each, CLOCK_MONOTONIC */
	struct hist_slot *slots;
	struct hist_cell *cells;	/* nslots * W */
	struct hist_busy *busy;		/* N: a min-heap by packets */
	uint32_t nbusy;
	struct { struct pm_dest_key key; uint8_t kind; uint64_t real_ns; }
		pending[HISTORY_PENDING_MAX];
	uint32_t npending;
};

void history_opts_init(struct history_opts *o)
{
	*o = (struct history_opts){ .dests = HISTORY_DESTS_DEFAULT,
				    .intervals = HISTORY_INTERVALS_DEFAULT };
}

int history_opt(struct history_opts *o, int c, const char *arg)
{
	char esc[PM_ESC_LEN(64)];
	uint64_t v;

	if (c == HISTORY_OPT_DESTS) {
		if (!parse_u64(arg, 0, HISTORY_DESTS_MAX, &v)) {
			pm_err("invalid --history-dests '%s': a number from 0 (off) to %d",
			       pm_esc(arg, esc, sizeof(esc)), HISTORY_DESTS_MAX);
			return EXIT_USAGE;
		}
		o->dests = v;
		return 0;
	}
	if (c == HISTORY_OPT_INTERVALS) {
		if (!parse_u64(arg, 0, HISTORY_INTERVALS_MAX, &v)) {
			pm_err("invalid --history-intervals '%s': a number from 0 (off) to %d",
			       pm_esc(arg, esc, sizeof(esc)), HISTORY_INTERVALS_MAX);
			return EXIT_USAGE;
		}
		o->intervals = v;
		return 0;
	}
	return 1;
}

uint64_t history_mem_bytes(const struct history_opts *o)
{
	uint64_t slots = 2ull * o->dests;

	if (!o->dests || !o->intervals)
		return 0;
	return slots * o->intervals * sizeof(struct hist_cell) +
	       o->intervals * 2ull * sizeof(uint64_t) +
	       o->dests * (uint64_t)sizeof(struct hist_busy) +
	       slots * sizeof(struct hist_slot) + sizeof(struct history);
}

struct history *history_open(const struct history_opts *o, double interval_s,
			     uint8_t agg4, uint8_t agg6, int *err)
{
	struct history *h;

	*err = 0;
	if (!o->dests || !o->intervals)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		goto nomem;
	h->ndests = o->dests;
	h->nint = o->intervals;
	h->nslots = 2 * o->dests;
	h->interval_s = interval_s;
	h->agg4 = agg4;
	h->agg6 = agg6;
	h->start_ns = calloc(h->nint, sizeof(*h->start_ns));
	h->end_ns = calloc(h->nint, sizeof(*h->end_ns));
	h->slots = calloc(h->nslots, sizeof(*h->slots));
	h->cells = calloc((size_t)h->nslots * h->nint, sizeof(*h->cells));
	h->busy = calloc(h->ndests, sizeof(*h->busy));
	if (!h->start_ns || !h->end_ns || !h->slots || !h->cells || !h->busy) {
		history_close(h);
		goto nomem;
	}
	for (uint32_t i = 0; i < h->nslots; i++)
		h->slots[i].cells = h->cells + (size_t)i * h->nint;
	return h;
nomem:
	*err = -ENOMEM;
	return NULL;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	free(h->start_ns);
	free(h->end_ns);
	free(h->slots);
	free(h->cells);
	free(h->busy);
	free(h);
}

/* The key an address is counted under with --aggregate (v4: mapped). */
static void agg_key(const struct history *h, const uint8_t addr[16],
		    struct pm_dest_key *k)
{
	bool v4 = addr_is_v4(addr);
	unsigned int plen = v4 ? (h->agg4 ? 96u + h->agg4 : 128u) :
				 (h->agg6 ? h->agg6 : PM_AGG6_NONE);

	memcpy(k->addr, addr, 16);
	for (unsigned int bit = plen; bit < 128; bit++)
		k->addr[bit / 8] &= ~(0x80u >> (bit % 8));
}

void history_alert(struct history *h, const struct alert *a)
{
	if (!h || h->npending == HISTORY_PENDING_MAX || a->kind >= PM_NKIND)
		return;
	agg_key(h, a->dst, &h->pending[h->npending].key);
	h->pending[h->npending].kind = a->kind;
	h->pending[h->npending].real_ns = a->real_ns;
	h->npending++;
}

static struct hist_slot *slot_of(struct history *h, const struct pm_dest_key *k)
{
	for (uint32_t i = 0; i < h->nslots; i++)
		if (h->slots[i].used && h->slots[i].key.w[0] == k->w[0] &&
		    h->slots[i].key.w[1] == k->w[1])
			return &h->slots[i];
	return NULL;
}

/* A free slot, or the one of a busy (not alerted) destination that was
 * wanted longest ago but not in this interval; NULL if none. */
static struct hist_slot *slot_take(struct history *h, const struct pm_dest_key *k)
{
	struct hist_slot *s = NULL;

	for (uint32_t i = 0; i < h->nslots; i++) {
		struct hist_slot *c = &h->slots[i];

		if (!c->used) {
			s = c;
			break;
		}
		if (!c->alerted && c->last_wanted < h->seq &&
		    (!s || c->last_wanted < s->last_wanted))
			s = c;
	}
	if (!s)
		return NULL;
	*s = (struct hist_slot){ .key = *k, .since = h->seq, .last_wanted = h->seq,
				 .used = true, .cells = s->cells };
	return s;
}

/* Mark s as alerted if the alerted quota (N) allows; true if it is. */
static bool slot_alerted(struct history *h, struct hist_slot *s)
{
	if (!s->alerted && h->nalerted < h->ndests) {
		s->alerted = true;
		h->nalerted++;
	}
	s->last_wanted = h->seq;
	return s->alerted;
}

/* A destination with an alert: tracked (and kept) while the quota allows. */
static struct hist_slot *track_alerted(struct history *h, const struct pm_dest_key *k)
{
	struct hist_slot *s = slot_of(h, k);

	if (!s && h->nalerted < h->ndests)
		s = slot_take(h, k);
	if (s)
		slot_alerted(h, s);
	return s;
}

static void busy_sift_down(struct hist_busy *b, uint32_t n, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, m = i;
		struct hist_busy t;

		if (l < n && b[l].packets < b[m].packets)
			m = l;
		if (l + 1 < n && b[l + 1].packets < b[m].packets)
			m = l + 1;
		if (m == i)
			return;
		t = b[i], b[i] = b[m], b[m] = t;
		i = m;
	}
}

/* Offer destination idx with that many packets to the N busiest. */
static void busy_offer(struct history *h, uint32_t idx, uint64_t packets)
{
	struct hist_busy *b = h->busy;

	if (h->nbusy < h->ndests) {
		uint32_t i = h->nbusy++;

		b[i] = (struct hist_busy){ packets, idx };
		while (i && b[(i - 1) / 2].packets > b[i].packets) {
			struct hist_busy t = b[i];

			b[i] = b[(i - 1) / 2];
			b[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
	} else if (packets > b[0].packets) {
		b[0] = (struct hist_busy){ packets, idx };
		busy_sift_down(b, h->nbusy, 0);
	}
}

static uint64_t packets_since(const struct pm_dest *now, const struct pm_dest *was)
{
	uint64_t a = dest_total_packets(now), b;

	if (!was || was->first_seen != now->first_seen)
		return a;
	b = dest_total_packets(was);
	return a >= b ? a - b : a;
}

/* The alerts noted since the last interval: their destinations tracked,
 * their times kept. */
static void take_pending(struct history *h, const struct dest_table *t)
{
	for (uint32_t i = 0; i < h->npending; i++) {
		long cur = dest_table_find(t, &h->pending[i].key);
		struct hist_slot *s = slot_of(h, &h->pending[i].key);
		uint8_t kind = h->pending[i].kind;

		if (!s && cur >= 0)
			s = track_alerted(h, &h->pending[i].key);
		else if (s)
			slot_alerted(h, s);
		if (s && (s->first_alert_ns[kind] == NO_ALERT ||
			  h->pending[i].real_ns < s->first_alert_ns[kind]))
			s->first_alert_ns[kind] = h->pending[i].real_ns;
	}
	h->npending = 0;
}

/* One pass over the read: the busiest N into the heap, destinations with
 * violations tracked as alerted. */
static void select_dests(struct history *h, const struct dest_table *t,
			 const struct dest_table *prev)
{
	h->nbusy = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct pm_dest *d = &t->vals[i];
		uint64_t pkts = packets_since(d, dest_table_prev(prev, &t->keys[i], i));

		if (d->violations && h->nalerted < h->ndests)
			track_alerted(h, &t->keys[i]);
		if (pkts)
			busy_offer(h, i, pkts);
	}
	for (uint32_t b = 0; b < h->nbusy; b++) {
		const struct pm_dest_key *k = &t->keys[h->busy[b].idx];
		struct hist_slot *s = slot_of(h, k);

		if (!s)
			s = slot_take(h, k);
		if (s)
			s->last_wanted = h->seq;
	}
}

/* Every tracked destination's deltas into this interval's cell (as
 * dest_delta counts them: an entry inserted again counts from zero). */
static void write_cells(struct history *h, const struct dest_table *t,
			const struct dest_table *prev)
{
	uint32_t pos = h->seq % h->nint;

	for (uint32_t i = 0; i < h->nslots; i++) {
		struct hist_slot *s = &h->slots[i];
		struct hist_cell *c = &s->cells[pos];
		const struct pm_dest *now, *was;
		long cur;

		if (!s->used)
			continue;
		memset(c, 0, sizeof(*c));
		cur = dest_table_find(t, &s->key);
		if (cur < 0)
			continue;	/* evicted meanwhile: nothing counted */
		now = &t->vals[cur];
		was = dest_table_prev(prev, &s->key, (size_t)cur);
		if (was && was->first_seen != now->first_seen)
			was = NULL;
		for (int k = 0; k < PM_NCLASS; k++) {
			uint64_t p = now->packets[k], b = now->bytes[k];

			if (was && p >= was->packets[k] && b >= was->bytes[k]) {
				p -= was->packets[k];
				b -= was->bytes[k];
			}
			c->packets[k] = p > UINT32_MAX ? UINT32_MAX : p;
			c->bytes[k] = b;
		}
	}
}

void history_record(struct history *h, const struct pm_view *v,
		    const struct dest_table *prev, uint64_t start_ns)
{
	uint32_t pos;

	if (!h)
		return;
	pos = h->seq % h->nint;
	h->start_ns[pos] = start_ns;
	h->end_ns[pos] = v->taken_ns;
	take_pending(h, v->dests);
	select_dests(h, v->dests, prev);
	write_cells(h, v->dests, prev);
	h->seq++;
}

/* ---- the snapshot's "history" -------------------------------------- */

static json_object *jtime_real(uint64_t real_ns)
{
	char buf[40];

	return json_object_new_string(fmt_time(real_ns, buf, sizeof(buf)));
}

static uint64_t real_of(const struct pm_view *v, uint64_t mono_ns)
{
	return v->real_off_ns ? v->real_off_ns + mono_ns : mono_to_real_ns(mono_ns);
}

/* One class's series of slot s from interval first to last (seqs). */
static json_object *series(const struct history *h, const struct hist_slot *s,
			   int cls, bool bytes, uint64_t first, uint64_t last)
{
	json_object *a = json_object_new_array_ext(last - first);

	for (uint64_t q = first; a && q < last; q++) {
		const struct hist_cell *c = &s->cells[q % h->nint];

		json_object_array_add(a, json_object_new_uint64(
			bytes ? c->bytes[cls] : c->packets[cls]));
	}
	return a;
}

static json_object *dest_history(const struct history *h, const struct pm_view *v,
				 const struct hist_slot *s, uint64_t first)
{
	json_object *o = json_object_new_object(), *pk, *by, *fa;
	uint64_t from = s->since > first ? s->since : first;
	char addr[80];

	json_object_object_add(o, "addr", json_object_new_string(
		fmt_dest(v, &s->key, addr, sizeof(addr))));
	json_object_object_add(o, "alerted", json_object_new_boolean(s->alerted));
	json_object_object_add(o, "from", json_object_new_uint64(from - first));
	fa = json_object_new_object();
	for (int k = 0; k < PM_NKIND; k++)
		if (s->first_alert_ns[k] != NO_ALERT)
			json_object_object_add(fa, kind_name(k),
					       jtime_real(s->first_alert_ns[k]));
	json_object_object_add(o, "first_alerts", fa);
	pk = json_object_new_object();
	by = json_object_new_object();
	for (int c = 0; c < PM_NCLASS; c++) {
		bool any = false;

		for (uint64_t q = from; q < h->seq && !any; q++)
			any = s->cells[q % h->nint].packets[c] != 0;
		if (!any)
			continue;
		json_object_object_add(pk, class_name(c), series(h, s, c, false, from, h->seq));
		json_object_object_add(by, class_name(c), series(h, s, c, true, from, h->seq));
	}
	json_object_object_add(o, "packets", pk);
	json_object_object_add(o, "bytes", by);
	return o;
}

json_object *history_json(const struct history *h, const struct pm_view *v)
{
	json_object *o = json_object_new_object(), *st, *ln, *ds;
	uint64_t first = h->seq > h->nint ? h->seq - h->nint : 0;
	uint64_t t0 = h->seq ? h->start_ns[first % h->nint] : v->taken_ns;

	json_object_object_add(o, "interval_s", json_object_new_double(h->interval_s));
	json_object_object_add(o, "capacity", json_object_new_uint64(h->nint));
	json_object_object_add(o, "start", jtime_real(real_of(v, t0)));
	st = json_object_new_array_ext(h->seq - first);
	ln = json_object_new_array_ext(h->seq - first);
	for (uint64_t q = first; q < h->seq; q++) {
		uint32_t p = q % h->nint;

		json_object_array_add(st, json_object_new_uint64(
			(h->start_ns[p] - t0) / 1000000));
		json_object_array_add(ln, json_object_new_uint64(
			(h->end_ns[p] - h->start_ns[p]) / 1000000));
	}
	json_object_object_add(o, "starts_ms", st);
	json_object_object_add(o, "lens_ms", ln);
	ds = json_object_new_array();
	/* alerted first, then the others, each in slot order */
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < h->nslots; i++) {
			const struct hist_slot *s = &h->slots[i];

			if (s->used && s->alerted == !pass && s->since < h->seq)
				json_object_array_add(ds, dest_history(h, v, s, first));
		}
	json_object_object_add(o, "dests", ds);
	return o;
}
