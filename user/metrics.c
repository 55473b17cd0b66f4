// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classes.h"
#include "metrics.h"
#include "metrics_state.h"
#include "util.h"

#define NO_ROW			UINT32_MAX

/* --- ADDR:PORT ------------------------------------------------------------ */

static int bad_addr(const char *s, const char *why)
{
	pm_err("invalid --metrics '%s': %s", s, why);
	return EXIT_USAGE;
}

int metrics_parse_addr(const char *arg, struct metrics_addr *a)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
	char host[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN];
	const char *h, *port, *end;
	bool bracket = false;
	uint64_t p;
	size_t n;

	memset(a, 0, sizeof(*a));
	if (arg[0] == '[') {		/* [IPV6]:PORT */
		end = strchr(arg, ']');
		if (!end || end[1] != ':')
			return bad_addr(arg, "an IPv6 address goes in brackets: [ADDR]:PORT, e.g. [::1]:9100");
		h = arg + 1;
		n = end - h;
		port = end + 2;
		bracket = true;
	} else if ((end = strrchr(arg, ':'))) {	/* ADDR:PORT, :PORT */
		h = arg;
		n = end - arg;
		port = end + 1;
	} else {			/* PORT alone */
		if (!parse_u64(arg, 1, 65535, &p))
			return bad_addr(arg, "ADDR:PORT, e.g. 127.0.0.1:9100, [::1]:9100 or :9100");
		h = port = arg;
		n = 0;
	}
	if (!parse_u64(port, 1, 65535, &p))
		return bad_addr(arg, "PORT is a number from 1 to 65535");
	if (n >= sizeof(host))
		return bad_addr(arg, "ADDR is a numeric IPv4 or IPv6 address (or localhost)");
	memcpy(host, h, n);
	host[n] = 0;
	if (!bracket && (!n || !strcmp(host, "localhost")))
		strcpy(host, "127.0.0.1");
	if (!bracket && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(p);
		a->len = sizeof(*in4);
		snprintf(a->text, sizeof(a->text), "%s:%u",
			 inet_ntop(AF_INET, &in4->sin_addr, buf, sizeof(buf)),
			 (unsigned int)p);
	} else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		a->len = sizeof(*in6);
		snprintf(a->text, sizeof(a->text), "[%s]:%u",
			 inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof(buf)),
			 (unsigned int)p);
	} else {
		return bad_addr(arg, "ADDR is a numeric IPv4 or IPv6 address (or localhost)");
	}
	return 0;
}

/* --- the exported destinations ------------------------------------------- */

static size_t key_slot(const struct metrics *m, const struct pm_dest_key *k)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	for (size_t i = 0; i < sizeof(k->addr); i++)
		h = (h ^ k->addr[i]) * 1099511628211ull;
	return h & m->mask;
}

static void set_index(struct metrics *m)
{
	size_t s;

	memset(m->slots, 0, (m->mask + 1) * sizeof(*m->slots));
	for (size_t i = 0; i < m->nset; i++) {
		for (s = key_slot(m, &m->set[i].k); m->slots[s]; s = (s + 1) & m->mask)
			;
		m->slots[s] = i + 1;
	}
}

static long set_find(const struct metrics *m, const struct pm_dest_key *k)
{
	for (size_t s = key_slot(m, k); m->slots[s]; s = (s + 1) & m->mask)
		if (!memcmp(&m->set[m->slots[s] - 1].k, k, sizeof(*k)))
			return m->slots[s] - 1;
	return -1;
}

/* a busier than b: more packets, then the lower address */
static bool busier(const struct dest_table *t, const struct cand *a,
		   const struct cand *b)
{
	if (a->pkts != b->pkts)
		return a->pkts > b->pkts;
	return memcmp(&t->keys[a->row], &t->keys[b->row], sizeof(t->keys[0])) < 0;
}

static void heap_swap(struct cand *h, size_t i, size_t j)
{
	struct cand c = h[i];

	h[i] = h[j];
	h[j] = c;
}

/* Keep the m->top busiest candidates; the root is the least busy. */
static void heap_offer(struct metrics *m, const struct dest_table *t, struct cand c)
{
	struct cand *h = m->heap;
	size_t i, l, least;

	if (m->nheap < m->top) {
		i = m->nheap++;
		h[i] = c;
		while (i && busier(t, &h[(i - 1) / 2], &h[i])) {
			heap_swap(h, i, (i - 1) / 2);
			i = (i - 1) / 2;
		}
		return;
	}
	if (!busier(t, &c, &h[0]))
		return;
	h[0] = c;
	for (i = 0;; i = least) {
		least = i;
		l = 2 * i + 1;
		if (l < m->nheap && busier(t, &h[least], &h[l]))
			least = l;
		if (l + 1 < m->nheap && busier(t, &h[least], &h[l + 1]))
			least = l + 1;
		if (least == i)
			break;
		heap_swap(h, i, least);
	}
}

static int cmp_cand(const void *a, const void *b, void *t)
{
	return busier(t, a, b) ? -1 : busier(t, b, a) ? 1 : 0;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;

	if (a->pkts != b->pkts)
		return a->pkts > b->pkts ? -1 : 1;
	return memcmp(&a->k, &b->k, sizeof(a->k));
}

/* Bring the exported set up to date with the view's table: drop what
 * left the map, give free places to the busiest others, and find every
 * exported destination's row. Busiest first, for the reader. */
static void set_refresh(struct metrics *m)
{
	const struct dest_table *t = m->v->dests;
	size_t i, n;
	long s;

	set_index(m);
	for (i = 0; i < m->nset; i++)
		m->set[i].row = NO_ROW;
	m->nheap = 0;
	for (uint32_t r = 0; r < t->n; r++) {
		struct cand c = { .row = r, .pkts = dest_total_packets(&t->vals[r]) };

		s = set_find(m, &t->keys[r]);
		if (s >= 0) {
			m->set[s].row = r;
			m->set[s].pkts = c.pkts;
		} else {
			heap_offer(m, t, c);
		}
	}
	for (i = n = 0; i < m->nset; i++)
		if (m->set[i].row != NO_ROW)
			m->set[n++] = m->set[i];
	m->nset = n;
	qsort_r(m->heap, m->nheap, sizeof(*m->heap), cmp_cand, (void *)t);
	for (i = 0; i < m->nheap && m->nset < m->top; i++)
		m->set[m->nset++] = (struct entry){ .k = t->keys[m->heap[i].row],
						    .row = m->heap[i].row,
						    .pkts = m->heap[i].pkts };
	qsort(m->set, m->nset, sizeof(*m->set), cmp_entry);
}

/* --- the exposition ------------------------------------------------------- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, "%s%s %" PRIu64 "\n", name, labels, v);
}

static void one(FILE *f, const char *name, const char *type, const char *help,
		uint64_t v)
{
	family(f, name, type, help);
	sample(f, name, "", v);
}

/* protomix_packets_total or protomix_bytes_total: every exported
 * destination with every class, then dst="other". */
static void per_dest(FILE *f, struct metrics *m, bool bytes)
{
	const struct pm_view *v = m->v;
	const char *name = bytes ? "protomix_bytes_total" : "protomix_packets_total";
	const __u64 *total = bytes ? v->total.class_bytes : v->total.class_packets;
	uint64_t other[PM_NCLASS];
	char addr[64], labels[128];

	family(f, name, "counter", bytes ?
	       "Bytes (from the IP header on) received per destination and protocol class; destinations beyond --metrics-top are summed in dst=\"other\"." :
	       "Packets received per destination and protocol class; destinations beyond --metrics-top are summed in dst=\"other\".");
	for (int c = 0; c < PM_NCLASS; c++)
		other[c] = total[c];
	for (size_t i = 0; i < m->nset; i++) {
		const struct pm_dest *d = &v->dests->vals[m->set[i].row];
		const __u64 *cnt = bytes ? d->bytes : d->packets;

		fmt_dest(v, &m->set[i].k, addr, sizeof(addr));
		for (int c = 0; c < PM_NCLASS; c++) {
			snprintf(labels, sizeof(labels), "{dst=\"%s\",class=\"%s\"}",
				 addr, class_name(c));
			sample(f, name, labels, cnt[c]);
			/* the maps are read one after the other: never below 0 */
			other[c] -= cnt[c] < other[c] ? cnt[c] : other[c];
		}
	}
	for (int c = 0; c < PM_NCLASS; c++) {
		snprintf(labels, sizeof(labels), "{dst=\"other\",class=\"%s\"}",
			 class_name(c));
		sample(f, name, labels, other[c]);
	}
}

void write_exposition(FILE *f, struct metrics *m)
{
	const struct pm_view *v = m->v;
	const struct pm_stats *s = &v->total;
	uint64_t read_ns = v->taken_ns ? v->taken_ns : v->started_ns;
	char labels[64];

	set_refresh(m);
	per_dest(f, m, false);
	per_dest(f, m, true);

	family(f, "protomix_alerts_total", "counter",
	       "Alerts raised, by kind (sampled: at most --sample-rate per destination per second).");
	for (int k = 0; k < PM_NKIND; k++) {
		snprintf(labels, sizeof(labels), "{kind=\"%s\"}", kind_name(k));
		sample(f, "protomix_alerts_total", labels,
		       v->alerts ? v->alerts->total[k] : 0);
	}
	family(f, "protomix_violations_total", "counter",
	       "Packets that broke an expectation, by kind (every one, sampled or not).");
	for (int k = 0; k < PM_NKIND; k++) {
		if (k == PM_K_ONE_WAY)	/* a pair's state, not a packet's */
			continue;
		snprintf(labels, sizeof(labels), "{kind=\"%s\"}", kind_name(k));
		sample(f, "protomix_violations_total", labels, s->violations[k]);
	}
	family(f, "protomix_frames_total", "counter", "Frames seen, by hook.");
	for (int h = 0; h < PM_NHOOK; h++) {
		snprintf(labels, sizeof(labels), "{hook=\"%s\"}", hook_name(h));
		sample(f, "protomix_frames_total", labels, v->hooks[h].frames);
	}
	family(f, "protomix_malformed_total", "counter",
	       "Frames not counted under a destination because their headers are cut short or invalid, by reason.");
	for (int r = 0; r < PM_NREASON; r++) {
		if (!reason_is_malformed(r) || reason_is_inner_only(r))
			continue;
		snprintf(labels, sizeof(labels), "{reason=\"%s\"}", reason_name(r));
		sample(f, "protomix_malformed_total", labels, s->reason[r]);
	}
	one(f, "protomix_non_ip_total", "counter",
	    "Well-formed frames that carry neither IPv4 nor IPv6.", s->reason[PM_R_NON_IP]);
	one(f, "protomix_macsec_total", "counter",
	    "MACsec frames (802.1AE): encrypted, no IP header to count.", s->reason[PM_R_MACSEC]);
	one(f, "protomix_mpls_other_total", "counter",
	    "MPLS frames that carry neither IPv4 nor IPv6 (pseudowires).", s->reason[PM_R_MPLS_OTHER]);
	one(f, "protomix_pppoe_other_total", "counter",
	    "PPPoE session frames whose PPP protocol is neither IPv4 nor IPv6.", s->reason[PM_R_PPPOE_OTHER]);
	one(f, "protomix_inner_packets_total", "counter",
	    "Packets inside tunnels (--decap) counted under their own destination too.",
	    s->inner_packets);
	family(f, "protomix_inner_reason_total", "counter",
	       "Packets inside tunnels (--decap) not counted under a destination, by reason.");
	for (int r = 0; r < PM_NREASON; r++) {
		snprintf(labels, sizeof(labels), "{reason=\"%s\"}", reason_name(r));
		sample(f, "protomix_inner_reason_total", labels, s->inner_reason[r]);
	}
	one(f, "protomix_evicted_dests_total", "counter",
	    "Destinations evicted from the full per-destination map (their counts stay in dst=\"other\").",
	    view_evicted(v));
	one(f, "protomix_dest_update_failures_total", "counter",
	    "Packets of a destination that could not be inserted (counted in dst=\"other\" only).",
	    s->dest_update_fail);
	one(f, "protomix_pair_update_failures_total", "counter",
	    "IPsec packets whose direction pair could not be tracked (one_way_ipsec).",
	    s->pair_update_fail);
	one(f, "protomix_dests", "gauge", "Destinations in the per-destination map.",
	    v->dests->n);
	one(f, "protomix_max_dests", "gauge", "Size of the per-destination map (--max-dests).",
	    v->max_dests);
	one(f, "protomix_exported_dests", "gauge",
	    "Destinations with series of their own (at most --metrics-top).", m->nset);
	one(f, "protomix_samples_total", "counter",
	    "Violating packets sampled to the ring buffer as alert evidence.", s->sampled);
	one(f, "protomix_samples_suppressed_total", "counter",
	    "Violating packets not sampled: over the per-destination --sample-rate.",
	    s->suppressed);
	one(f, "protomix_ringbuf_drops_total", "counter",
	    "Samples lost because the ring buffer was full.", s->ringbuf_drops);
	family(f, "protomix_start_time_seconds", "gauge",
	       "When this watch started, in seconds since the epoch.");
	fprintf(f, "protomix_start_time_seconds %.3f\n",
		mono_to_real_ns(v->started_ns) / 1e9);
	family(f, "protomix_read_timestamp_seconds", "gauge",
	       "When the counters above were read from the kernel (every --interval), in seconds since the epoch.");
	fprintf(f, "protomix_read_timestamp_seconds %.3f\n",
		mono_to_real_ns(read_ns) / 1e9);
}
