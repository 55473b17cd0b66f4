// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <microhttpd.h>
#include "classes.h"
#include "metrics.h"
#include "util.h"

#define METRICS_PATH		"/metrics"
/* What one client can hold. Every limit is the server's, not the
 * client's good will: a connection is accepted only under both counts
 * (over the per-address one it is closed at once), idles at most
 * CONN_TIMEOUT seconds, and has REQUEST_DEADLINE seconds for a request
 * and its whole response (Prometheus's default scrape_timeout: a scrape
 * slower than that has failed anyway), so neither a slowloris nor a
 * reader that never reads keeps a place. */
#define METRICS_CONN_LIMIT	32	/* concurrent HTTP connections */
#define METRICS_PER_IP_LIMIT	8	/* of them from one client address */
#define METRICS_CONN_TIMEOUT	5	/* seconds without progress */
#define METRICS_REQUEST_DEADLINE 10	/* seconds for a request and its answer */
#define METRICS_BACKLOG		64	/* listen(2): waiting for a place */
#define METRICS_CONN_MEMORY	(16 * 1024)	/* a connection's buffers */
#define CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"
#define NO_ROW			UINT32_MAX

/* An exported destination: its key, and where it is in this scrape's
 * table (NO_ROW: no longer in the map). */
struct entry {
	struct pm_dest_key k;
	uint32_t row;
	uint64_t pkts;
};

/* A destination not exported yet, competing for a free place. */
struct cand {
	uint32_t row;
	uint64_t pkts;
};

/* A connection MHD has, from its start to its close (on_connection): the
 * socket (MHD's), and when its current request began. */
struct conn {
	struct conn *prev, *next;
	int fd;
	uint64_t since_ns;	/* accepted, or the last request answered */
	bool cut;		/* over the deadline: shut down */
};

struct metrics {
	struct MHD_Daemon *d;
	int ep;			/* MHD's epoll fd and tfd: metrics_fd() */
	int tfd;		/* the next thing due without a socket event */
	bool closed;		/* a connection closed in this MHD_run */
	struct conn *conns;	/* every open connection */
	/* The exposition of one read of the maps, shared by every scrape
	 * of it (MHD counts the references): built at most once per read
	 * whatever the number of scrapers, and one copy in memory. */
	struct MHD_Response *resp;
	uint64_t resp_taken_ns;
	const struct dest_table *resp_dests;
	uint64_t resp_alerts[PM_NKIND];
	const struct pm_view *v;
	size_t top;
	struct entry *set;	/* the exported destinations, at most top */
	size_t nset;
	uint32_t *slots;	/* key -> set index + 1, open addressing */
	size_t mask;
	struct cand *heap;	/* the busiest others: a min-heap of top */
	size_t nheap;
};

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

static void write_exposition(FILE *f, struct metrics *m)
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

/* --- HTTP ------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The exposition of the view as it is now: the one built for this read
 * of the maps (and these alert counts), or a new one. NULL if out of
 * memory. The response stays ours; MHD_queue_response takes its own
 * reference. */
static struct MHD_Response *exposition(struct metrics *m)
{
	const struct pm_view *v = m->v;
	uint64_t alerts[PM_NKIND] = {};
	struct MHD_Response *r;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if (v->alerts)
		memcpy(alerts, v->alerts->total, sizeof(alerts));
	if (m->resp && m->resp_taken_ns == v->taken_ns && m->resp_dests == v->dests &&
	    !memcmp(m->resp_alerts, alerts, sizeof(alerts)))
		return m->resp;
	f = open_memstream(&body, &len);
	if (!f)
		return NULL;
	write_exposition(f, m);
	if (fclose(f)) {
		free(body);
		return NULL;
	}
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	if (m->resp)		/* scrapes still sending it keep it alive */
		MHD_destroy_response(m->resp);
	m->resp = r;
	m->resp_taken_ns = v->taken_ns;
	m->resp_dests = v->dests;
	memcpy(m->resp_alerts, alerts, sizeof(alerts));
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *r;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	if (strcmp(url, METRICS_PATH))
		return reply(c, MHD_HTTP_NOT_FOUND, "not found: protomix serves " METRICS_PATH "\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD\n");
	/* The headers are in; answer at the next call: a response queued
	 * at the first one closes the connection (no keep-alive). */
	if (!*req_cls) {
		*req_cls = m;
		return MHD_YES;
	}
	if (!m->v->dests)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not attached yet\n");
	r = exposition(m);
	if (!r)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return MHD_queue_response(c, MHD_HTTP_OK, r);
}

/* A request answered (or given up): the connection's next request has a
 * deadline of its own. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *k;

	(void)cls;
	(void)req_cls;
	(void)toe;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && (k = ci->socket_context) && !k->cut)
		k->since_ns = now_mono_ns();
}

/* Every connection MHD accepts, until it is closed. */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct metrics *m = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *k = *ctx;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k = calloc(1, sizeof(*k));
		if (!k || !ci) {	/* untracked: MHD's idle timeout only */
			free(k);
			return;
		}
		*k = (struct conn){ .fd = ci->connect_fd, .since_ns = now_mono_ns(),
				    .next = m->conns };
		if (m->conns)
			m->conns->prev = k;
		m->conns = k;
		*ctx = k;
		return;
	}
	/* MHD_CONNECTION_NOTIFY_CLOSED */
	m->closed = true;
	if (!k)
		return;
	if (k->prev)
		k->prev->next = k->next;
	else
		m->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
	*ctx = NULL;
}

/* libmicrohttpd's messages, like libbpf's: only with -v. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	pm_dbg("metrics: %s", buf);
}

/* Wake the loop when something is due without a socket event: MHD's
 * own work (pending data, an idle connection's timeout), a connection's
 * deadline, or, right away, another MHD_run after a connection closed:
 * at its limit MHD takes the listening socket out of its epoll set and
 * puts it back only at the start of a run, so without one the backlog
 * would wait for an event that never comes. Disarmed if nothing is. */
static void arm_timeout(struct metrics *m)
{
	uint64_t now = now_mono_ns(), wait = UINT64_MAX, due;
	struct itimerspec its = {};
	MHD_UNSIGNED_LONG_LONG ms;

	if (m->closed)
		wait = 0;
	if (MHD_get_timeout(m->d, &ms) == MHD_YES && ms < wait / 1000000ull)
		wait = ms * 1000000ull;
	for (struct conn *k = m->conns; k; k = k->next) {
		if (k->cut)
			continue;
		due = k->since_ns + METRICS_REQUEST_DEADLINE * 1000000000ull;
		due = due > now ? due - now : 0;
		if (due < wait)
			wait = due;
	}
	if (wait != UINT64_MAX) {
		its.it_value.tv_sec = wait / 1000000000ull;
		its.it_value.tv_nsec = wait % 1000000000ull;
		if (!wait)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(m->tfd, 0, &its, NULL);
}

/* A connection past its deadline: shut its socket down (the socket stays
 * MHD's; MHD sees the hang-up at once and closes it as usual). */
static void cut_overdue(struct metrics *m)
{
	uint64_t now = now_mono_ns();

	for (struct conn *k = m->conns; k; k = k->next) {
		if (k->cut || now - k->since_ns < METRICS_REQUEST_DEADLINE * 1000000000ull)
			continue;
		pm_dbg("metrics: a connection took over %d s: closing it",
		       METRICS_REQUEST_DEADLINE);
		shutdown(k->fd, SHUT_RDWR);
		k->cut = true;
	}
}

static int listen_on(const struct metrics_addr *a)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
	int fd, one = 1, zero = 0, err;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a restart may bind while the last run's connections linger in
	 * TIME_WAIT; a port someone listens on stays refused */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] means every address, IPv4 too */
	if (a->ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) || listen(fd, METRICS_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

struct metrics *metrics_open(const struct metrics_addr *a, size_t top,
			     const struct pm_view *v)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const union MHD_DaemonInfo *info;
	struct metrics *m;
	size_t nslots = 1;
	int fd;

	while (nslots < 2 * top)
		nslots <<= 1;
	m = calloc(1, sizeof(*m));
	if (!m) {
		pm_err("out of memory");
		return NULL;
	}
	*m = (struct metrics){ .ep = -1, .tfd = -1, .v = v, .top = top,
			       .set = calloc(top, sizeof(*m->set)),
			       .heap = calloc(top, sizeof(*m->heap)),
			       .slots = calloc(nslots, sizeof(*m->slots)),
			       .mask = nslots - 1 };
	if (!m->set || !m->heap || !m->slots) {
		pm_err("out of memory for --metrics-top %zu", top);
		metrics_close(m);
		return NULL;
	}
	fd = listen_on(a);
	if (fd < 0) {
		pm_err("cannot serve metrics on %s: %s", a->text, strerror(-fd));
		metrics_close(m);
		return NULL;
	}
	/* No MHD_USE_INTERNAL_POLLING_THREAD: MHD_run from our loop. MHD
	 * owns fd from here on and closes it when stopped (and maybe when
	 * it fails to start: then fd is left alone, the watch exits). */
	m->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				on_request, m,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_CONN_TIMEOUT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
				MHD_OPTION_END);
	if (!m->d) {
		pm_err("cannot serve metrics on %s: libmicrohttpd did not start (-v says why)",
		       a->text);
		metrics_close(m);
		return NULL;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!info || m->ep < 0 || m->tfd < 0 ||
	    epoll_ctl(m->ep, EPOLL_CTL_ADD, info->epoll_fd, &ev) ||
	    epoll_ctl(m->ep, EPOLL_CTL_ADD, m->tfd, &ev)) {
		pm_err("cannot serve metrics on %s: %s", a->text,
		       info ? strerror(errno) : "libmicrohttpd has no epoll fd");
		metrics_close(m);
		return NULL;
	}
	arm_timeout(m);
	fprintf(stderr, "protomix: metrics on http://%s%s\n", a->text, METRICS_PATH);
	return m;
}

int metrics_fd(const struct metrics *m)
{
	return m->ep;
}

void metrics_serve(struct metrics *m)
{
	uint64_t expirations;

	if (read(m->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pm_dbg("metrics: timerfd: %s", strerror(errno));
	cut_overdue(m);
	m->closed = false;
	MHD_run(m->d);
	arm_timeout(m);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);	/* closes every connection */
	if (m->resp)
		MHD_destroy_response(m->resp);
	if (m->ep >= 0)
		close(m->ep);
	if (m->tfd >= 0)
		close(m->tfd);
	free(m->set);
	free(m->heap);
	free(m->slots);
	free(m);
}
