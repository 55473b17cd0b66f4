// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "classes.h"
#include "control.h"
#include "observer.h"
#include "top.h"
#include "util.h"

#define MIN_COLS	72	/* an IPv4 row in full */
#define MIN_LINES	12	/* header, a few rows, an alert, the status */
#define HEADER_LINES	4
#define ALERTS_KEPT	OBSERVER_ALERTS_KEPT	/* as many as a watch keeps */
#define MSG_NS		(5 * 1000000000ull)	/* a status message stays 5 s */
#define HELD_MAX	16384	/* bytes of held stderr written out at close */
#define FILTER_MAX	64

/* The columns, in the order s steps through them. */
enum col { C_ADDR, C_PPS, C_BPS, C_TCP, C_UDP, C_ICMP, C_ESP, C_OTHER,
	   C_VIOL, NCOL };
#define NSHARE (C_OTHER - C_TCP + 1)

static const struct {
	const char *name;
	int width;			/* C_ADDR: from the data */
} cols[NCOL] = {
	[C_ADDR]  = { "ADDRESS", 0 },
	[C_PPS]   = { "PKT/S", 7 },
	[C_BPS]   = { "BIT/S", 7 },
	[C_TCP]   = { "TCP%", 5 },
	[C_UDP]   = { "UDP%", 5 },
	[C_ICMP]  = { "ICMP%", 5 },
	[C_ESP]   = { "ESP%", 5 },
	[C_OTHER] = { "OTHER%", 6 },
	[C_VIOL]  = { "VIOL", 6 },
};

/* The share column a class counts in; the rest fold into OTHER. */
static int share_of(int c)
{
	switch (c) {
	case PM_C_TCP: return C_TCP - C_TCP;
	case PM_C_UDP: return C_UDP - C_TCP;
	case PM_C_ICMP: return C_ICMP - C_TCP;
	case PM_C_ESP: return C_ESP - C_TCP;
	default: return C_OTHER - C_TCP;
	}
}

struct row {
	struct pm_dest_key key;
	uint64_t pkts, bytes;		/* in the interval */
	uint64_t violations;
	uint16_t share[NSHARE];		/* tenths of a percent */
	bool alert;			/* violations, or a kept alert for it */
	bool idle;			/* nothing in the interval: shares of all */
};

struct talert {
	uint64_t seq;
	struct pm_dest_key dst;
	char line[320];			/* as `watch` prints it */
};

struct top {
	struct top_info info;
	char host[64];
	SCREEN *scr;
	bool color;

	/* the last read; rows[i] is the i-th destination of the table */
	struct row *rows;
	uint8_t *mark;			/* rows[i] has a kept alert */
	size_t nrows, cap;
	uint32_t *vis;			/* the rows shown: filtered, sorted */
	size_t nvis;
	bool v6;			/* some row is IPv6: wider addresses */
	bool have_read, have_rates;
	uint64_t taken_ns;
	double secs;			/* of the interval the rates cover */
	struct pm_view fmt;		/* agg4/agg6, for fmt_dest */
	struct pm_stats total, stats_prev;
	uint64_t stats_prev_ns, max_dests, ndests;
	double pps, bps;		/* all destinations, from the stats */

	/* alerts: the latest ALERTS_KEPT, oldest first from alerts_first */
	struct talert *alerts;
	size_t nalerts, alerts_first;
	uint64_t alerts_seq;		/* the newest one's number */
	uint64_t alerts_total;		/* raised since the watch started */
	uint64_t shown_seq;		/* paused: alerts up to this one */

	/* what the user chose */
	enum col sort;
	bool alerts_only, paused, help;
	bool filtering;			/* typing a filter */
	char input[FILTER_MAX + 1];
	char filter_text[FILTER_MAX + 1];	/* "" = none */
	struct pm_dest_key filter;
	unsigned int filter_plen;	/* in the 128-bit space */
	size_t scroll;
	int list_h;			/* rows that fit, at the last draw */

	char msg[256];			/* status message ... */
	uint64_t msg_ns;		/* ... set then */

	/* stderr while the view is up */
	int saved_err, err_rd;
	char held[HELD_MAX];
	size_t nheld, held_dropped;
	char partial[256];		/* a line not finished yet */
	size_t npartial;
};

static bool is_v4(const uint8_t a[16])
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, pfx, sizeof(pfx));
}

/* Clear the bits of a after plen (in the 128-bit space). */
static void mask_addr(uint8_t a[16], unsigned int plen)
{
	for (unsigned int bit = plen; bit < 128; bit++)
		a[bit / 8] &= ~(0x80 >> (bit % 8));
}

static bool in_prefix(const uint8_t a[16], const uint8_t p[16], unsigned int plen)
{
	unsigned int full = plen / 8, rest = plen % 8;

	if (memcmp(a, p, full))
		return false;
	return !rest || !((a[full] ^ p[full]) & (0xff << (8 - rest)));
}

static void set_msg(struct top *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_msg(struct top *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_ns = now_mono_ns();
}

/* --- stderr, held while the view is up ---------------------------------- */

static void hold_stderr(struct top *t)
{
	int p[2];

	t->saved_err = t->err_rd = -1;
	fflush(stderr);
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return;
	t->saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (t->saved_err < 0 || dup2(p[1], STDERR_FILENO) < 0) {
		if (t->saved_err >= 0)
			close(t->saved_err);
		t->saved_err = -1;
		close(p[0]);
		close(p[1]);
		return;
	}
	close(p[1]);
	t->err_rd = p[0];
}

/* One whole line written to stderr: keep it for later, show it now. */
static void held_line(struct top *t, const char *line, size_t len)
{
	while (t->nheld + len + 1 > sizeof(t->held) && t->nheld) {
		char *nl = memchr(t->held, '\n', t->nheld);
		size_t cut = nl ? (size_t)(nl - t->held) + 1 : t->nheld;

		memmove(t->held, t->held + cut, t->nheld - cut);
		t->nheld -= cut;
		t->held_dropped++;
	}
	if (len + 1 <= sizeof(t->held)) {
		memcpy(t->held + t->nheld, line, len);
		t->held[t->nheld + len] = '\n';
		t->nheld += len + 1;
	}
	set_msg(t, "%.*s", (int)len, line);
}

static void drain_stderr(struct top *t)
{
	char buf[4096];
	ssize_t n;

	if (t->err_rd < 0)
		return;
	fflush(stderr);
	while ((n = read(t->err_rd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				held_line(t, t->partial, t->npartial);
				t->npartial = 0;
			} else if (t->npartial < sizeof(t->partial)) {
				t->partial[t->npartial++] = buf[i];
			}
		}
	}
}

static void release_stderr(struct top *t)
{
	if (t->err_rd < 0)
		return;
	drain_stderr(t);
	if (t->npartial)
		held_line(t, t->partial, t->npartial);
	dup2(t->saved_err, STDERR_FILENO);
	close(t->saved_err);
	close(t->err_rd);
	t->err_rd = t->saved_err = -1;
	if (t->held_dropped)
		fprintf(stderr, "protomix: (%zu earlier lines of stderr dropped)\n",
			t->held_dropped);
	fwrite(t->held, 1, t->nheld, stderr);
	fflush(stderr);
}

/* --- alerts ------------------------------------------------------------- */

uint64_t alert_log_seq(const struct alert_log *log, size_t i)
{
	uint64_t raised = 0;

	for (int k = 0; k < PM_NKIND; k++)
		raised += log->total[k];
	return raised - log->n + 1 + i;
}

/* The line `watch` prints for an alert, without its newline. */
static void alert_line(const struct alert *a, char *buf, size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	buf[0] = 0;
	if (!f)
		return;
	alert_print(f, false, a);
	fclose(f);
	if (text)
		snprintf(buf, len, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

json_object *top_alerts_json(const struct alert_log *log, const char *since)
{
	json_object *o, *arr, *tot, *a;
	uint64_t after, raised = 0;
	char line[320];

	if (!parse_u64(since, 0, UINT64_MAX, &after))
		return NULL;
	for (int k = 0; k < PM_NKIND; k++)
		raised += log->total[k];
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("alerts"));
	json_object_object_add(o, "next", json_object_new_uint64(raised));
	tot = json_object_new_object();
	for (int k = 0; k < PM_NKIND; k++)
		json_object_object_add(tot, kind_name(k),
				       json_object_new_uint64(log->total[k]));
	json_object_object_add(o, "total", tot);
	arr = json_object_new_array();
	for (size_t i = 0; i < log->n; i++) {
		uint64_t seq = alert_log_seq(log, i);

		if (seq <= after)
			continue;
		a = alert_json(alert_log_get(log, i));
		alert_line(alert_log_get(log, i), line, sizeof(line));
		json_object_object_add(a, "seq", json_object_new_uint64(seq));
		json_object_object_add(a, "line", json_object_new_string(line));
		json_object_array_add(arr, a);
	}
	json_object_object_add(o, "alerts", arr);
	return o;
}

static void push_alert(struct top *t, uint64_t seq, const uint8_t dst[16],
		       const char *line)
{
	struct talert *a;

	if (seq <= t->alerts_seq)
		return;
	if (t->nalerts < ALERTS_KEPT) {
		a = &t->alerts[(t->alerts_first + t->nalerts++) % ALERTS_KEPT];
	} else {
		a = &t->alerts[t->alerts_first];
		t->alerts_first = (t->alerts_first + 1) % ALERTS_KEPT;
	}
	a->seq = seq;
	memcpy(a->dst.addr, dst, 16);
	snprintf(a->line, sizeof(a->line), "%s", line);
	t->alerts_seq = seq;
}

static const struct talert *alert_at(const struct top *t, size_t i)
{
	return &t->alerts[(t->alerts_first + i) % ALERTS_KEPT];
}

static void alerts_from_log(struct top *t, const struct alert_log *log)
{
	char line[320];
	size_t i = 0;

	t->alerts_total = 0;
	for (int k = 0; k < PM_NKIND; k++)
		t->alerts_total += log->total[k];
	if (log->n > ALERTS_KEPT)
		i = log->n - ALERTS_KEPT;
	for (; i < log->n; i++) {
		const struct alert *a = alert_log_get(log, i);
		uint64_t seq = alert_log_seq(log, i);

		if (seq <= t->alerts_seq)
			continue;
		alert_line(a, line, sizeof(line));
		push_alert(t, seq, a->dst, line);
	}
}

/* --- rows ---------------------------------------------------------------- */

static int reserve_rows(struct top *t, size_t n)
{
	size_t cap = t->cap ? t->cap : 64;
	struct row *rows;
	uint8_t *mark;
	uint32_t *vis;

	if (n <= t->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	rows = realloc(t->rows, cap * sizeof(*rows));
	if (rows)
		t->rows = rows;
	mark = realloc(t->mark, cap * sizeof(*mark));
	if (mark)
		t->mark = mark;
	vis = realloc(t->vis, cap * sizeof(*vis));
	if (vis)
		t->vis = vis;
	if (!rows || !mark || !vis)
		return -ENOMEM;
	t->cap = cap;
	return 0;
}

static int cmp_desc(uint64_t a, uint64_t b)
{
	return a == b ? 0 : a > b ? -1 : 1;
}

/* The chosen column, then the address: a total order, so rows whose
 * values tie keep their places from one refresh to the next. */
static int cmp_vis(const void *pa, const void *pb, void *ctx)
{
	const struct top *t = ctx;
	const struct row *a = &t->rows[*(const uint32_t *)pa];
	const struct row *b = &t->rows[*(const uint32_t *)pb];
	int c = 0;

	switch (t->sort) {
	case C_ADDR:
		break;
	case C_PPS:
		c = cmp_desc(a->pkts, b->pkts);
		break;
	case C_BPS:
		c = cmp_desc(a->bytes, b->bytes);
		break;
	case C_VIOL:
		c = cmp_desc(a->alert, b->alert);
		if (!c)
			c = cmp_desc(a->violations, b->violations);
		break;
	default:
		c = cmp_desc(a->share[t->sort - C_TCP], b->share[t->sort - C_TCP]);
		break;
	}
	return c ? c : memcmp(&a->key, &b->key, sizeof(a->key));
}

/* Filter and sort the rows of the last read into vis. */
static void select_rows(struct top *t)
{
	t->nvis = 0;
	if (!t->nrows)
		return;
	for (size_t i = 0; i < t->nrows; i++) {
		const struct row *r = &t->rows[i];

		if (t->alerts_only && !r->alert)
			continue;
		if (t->filter_text[0] &&
		    !in_prefix(r->key.addr, t->filter.addr, t->filter_plen))
			continue;
		t->vis[t->nvis++] = i;
	}
	qsort_r(t->vis, t->nvis, sizeof(*t->vis), cmp_vis, t);
}

static void shares(struct row *r, const __u64 *cls)
{
	uint64_t sum[NSHARE] = {}, all = 0;

	for (int c = 0; c < PM_NCLASS; c++) {
		sum[share_of(c)] += cls[c];
		all += cls[c];
	}
	for (int s = 0; s < NSHARE; s++)
		r->share[s] = all ? (sum[s] * 1000 + all / 2) / all : 0;
}

/* Rows from the table just read: per-class packets since prev (a
 * destination evicted and back, or new, counts from zero); none without
 * a prev. */
static int build_rows(struct top *t, const struct pm_view *v,
		      const struct dest_table *prev)
{
	const struct dest_table *d = v->dests;
	unsigned int p4 = 96 + (v->agg4 ? v->agg4 : 32), p6 = v->agg6 ? v->agg6 : 128;
	__u64 cls[PM_NCLASS];

	if (reserve_rows(t, d->n))
		return -ENOMEM;
	memset(t->mark, 0, d->n);
	for (size_t i = 0; i < t->nalerts; i++) {
		struct pm_dest_key k = alert_at(t, i)->dst;
		long idx;

		mask_addr(k.addr, is_v4(k.addr) ? p4 : p6);
		idx = dest_table_find(d, &k);
		if (idx >= 0)
			t->mark[idx] = 1;
	}
	t->v6 = false;
	for (size_t i = 0; i < d->n; i++) {
		const struct pm_dest *now = &d->vals[i], *was = NULL;
		struct row *r = &t->rows[i];
		long p = prev ? dest_table_find(prev, &d->keys[i]) : -1;

		if (p >= 0)
			was = &prev->vals[p];
		r->key = d->keys[i];
		if (prev) {
			r->pkts = dest_delta(now, was, cls, &r->bytes);
		} else {	/* the first read: no rate yet */
			memset(cls, 0, sizeof(cls[0]) * PM_NCLASS);
			r->pkts = r->bytes = 0;
		}
		r->idle = !r->pkts;
		shares(r, r->idle ? now->packets : cls);
		r->violations = now->violations;
		r->alert = now->violations || t->mark[i];
		t->v6 |= !is_v4(r->key.addr);
	}
	t->nrows = d->n;
	return 0;
}

static uint64_t stats_packets(const struct pm_stats *s)
{
	uint64_t n = 0;

	for (int c = 0; c < PM_NCLASS; c++)
		n += s->class_packets[c];
	return n;
}

static uint64_t stats_bytes(const struct pm_stats *s)
{
	uint64_t n = 0;

	for (int c = 0; c < PM_NCLASS; c++)
		n += s->class_bytes[c];
	return n;
}

/* --- drawing ------------------------------------------------------------- */

static int addr_width(const struct top *t)
{
	bool agg = t->fmt.agg4 < 32 || t->fmt.agg6 < 128;
	int w = t->v6 ? 39 : 15;

	if (agg)
		w += t->v6 ? 4 : 3;
	if (w > COLS - 57)
		w = COLS - 57;
	return w < 7 ? 7 : w;
}

static int col_x(const struct top *t, enum col c)
{
	int x = 2 + addr_width(t);

	if (c == C_ADDR)
		return 2;
	for (int i = C_PPS; i < (int)c; i++)
		x += 1 + cols[i].width;
	return x + 1;
}

static int col_w(const struct top *t, enum col c)
{
	return c == C_ADDR ? addr_width(t) : cols[c].width;
}

/* Text at (y, x), cut at the right edge. */
static void put(int y, int x, const char *s)
{
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	mvaddnstr(y, x, s, COLS - x);
}

static char *fmt_uptime(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ull;

	if (s >= 86400)
		snprintf(buf, len, "%llud%02lluh%02llum", (unsigned long long)(s / 86400),
			 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60));
	else
		snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
			 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
	return buf;
}

static void draw_header(struct top *t)
{
	char line[1024], up[32], a[16], b[16], clock[16], unseen[96];
	const struct pm_stats *s = &t->total;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	snprintf(line, sizeof(line), "%s on %s, pid %d, up %s, refresh %gs%s",
		 t->info.title, t->host, (int)t->info.pid,
		 fmt_uptime(now_mono_ns() - t->info.started_ns, up, sizeof(up)),
		 t->info.interval, t->paused ? "  [PAUSED]" : "");
	attron(A_BOLD);
	put(0, 0, line);
	attroff(A_BOLD);
	if (COLS > (int)strlen(line) + 10)
		put(0, COLS - (int)strlen(clock), clock);
	snprintf(line, sizeof(line), "interfaces %s", t->info.ifaces);
	put(1, 0, line);
	if (t->have_rates)
		snprintf(line, sizeof(line), "traffic %s pkt/s %s bit/s",
			 fmt_si(t->pps, a, sizeof(a)), fmt_si(t->bps, b, sizeof(b)));
	else
		snprintf(line, sizeof(line), "traffic - pkt/s - bit/s");
	snprintf(line + strlen(line), sizeof(line) - strlen(line),
		 "  destinations %llu/%llu  evicted %llu  alerts %llu",
		 (unsigned long long)t->ndests, (unsigned long long)t->max_dests,
		 (unsigned long long)(s->new_dests > t->ndests ? s->new_dests - t->ndests : 0),
		 (unsigned long long)t->alerts_total);
	put(2, 0, line);
	snprintf(line, sizeof(line),
		 "parser malformed %llu non-ip %llu%s  ring buffer sampled %llu suppressed %llu drops %llu",
		 (unsigned long long)stats_malformed(s),
		 (unsigned long long)s->reason[PM_R_NON_IP],
		 stats_unseen_text(s, unseen, sizeof(unseen)),
		 (unsigned long long)s->sampled, (unsigned long long)s->suppressed,
		 (unsigned long long)s->ringbuf_drops);
	put(3, 0, line);
}

static void draw_row(struct top *t, int y, const struct row *r)
{
	char addr[64], a[16], b[16], v[16], sh[NSHARE][8], line[512];
	int w = addr_width(t), len;
	attr_t attr = A_NORMAL;

	fmt_dest(&t->fmt, &r->key, addr, sizeof(addr));
	len = strlen(addr);
	if (len > w) {			/* cut, and say so */
		addr[w - 1] = '~';
		addr[w] = 0;
	}
	for (int s = 0; s < NSHARE; s++)
		snprintf(sh[s], sizeof(sh[s]), "%u", (r->share[s] + 5) / 10);
	snprintf(line, sizeof(line), "%c %-*s %7s %7s %5s %5s %5s %5s %6s %6s",
		 r->alert ? '!' : ' ', w, addr,
		 fmt_si(t->have_rates ? r->pkts / t->secs : 0, a, sizeof(a)),
		 fmt_si(t->have_rates ? r->bytes * 8 / t->secs : 0, b, sizeof(b)),
		 sh[0], sh[1], sh[2], sh[3], sh[4],
		 fmt_si(r->violations, v, sizeof(v)));
	if (r->alert)
		attr = A_BOLD | (t->color ? COLOR_PAIR(1) : A_NORMAL);
	else if (r->idle)
		attr = A_DIM;
	attron(attr);
	put(y, 0, line);
	attroff(attr);
}

static void draw_list(struct top *t, int y0, int h)
{
	char line[512];
	int x;

	move(y0, 0);
	attron(A_REVERSE);
	hline(' ', COLS);
	for (int c = 0; c < NCOL; c++) {
		x = col_x(t, c);
		if (c == C_ADDR)
			snprintf(line, sizeof(line), "%-*s", col_w(t, c), cols[c].name);
		else
			snprintf(line, sizeof(line), "%*s", col_w(t, c), cols[c].name);
		if (c == (int)t->sort)
			attron(A_BOLD | A_UNDERLINE);
		put(y0, x, line);
		if (c == (int)t->sort)
			attroff(A_BOLD | A_UNDERLINE);
	}
	attroff(A_REVERSE);

	t->list_h = h;
	if (t->scroll + h > t->nvis)
		t->scroll = t->nvis > (size_t)h ? t->nvis - h : 0;
	for (int i = 0; i < h && t->scroll + i < t->nvis; i++)
		draw_row(t, y0 + 1 + i, &t->rows[t->vis[t->scroll + i]]);
	if (!t->nvis) {
		const char *why = !t->have_read ? "(waiting for the first read)" :
				  !t->nrows ? "(no destinations yet)" :
				  "(no destination matches: / or a to change the filter)";

		attron(A_DIM);
		put(y0 + 1, 2, why);
		attroff(A_DIM);
	}
}

/* The latest alerts (up to shown_seq when paused), newest at the bottom. */
static void draw_alerts(struct top *t, int y0, int h)
{
	char title[128];
	size_t end = t->nalerts, shown;

	while (t->paused && end && alert_at(t, end - 1)->seq > t->shown_seq)
		end--;
	shown = end < (size_t)h ? end : (size_t)h;
	if (!end)
		snprintf(title, sizeof(title), " ALERTS  none");
	else
		snprintf(title, sizeof(title), " ALERTS  %llu raised; the latest %zu:",
			 (unsigned long long)t->alerts_total, shown);
	move(y0, 0);
	attron(A_REVERSE);
	hline(' ', COLS);
	put(y0, 0, title);
	attroff(A_REVERSE);
	for (size_t i = 0; i < shown; i++)
		put(y0 + 1 + i, 0, alert_at(t, end - shown + i)->line);
}

static void draw_status(struct top *t)
{
	char right[256], left[320], filt[FILTER_MAX + 16] = "";
	int y = LINES - 1, rl;
	size_t first = t->nvis ? t->scroll + 1 : 0;
	size_t last = t->scroll + t->list_h < t->nvis ? t->scroll + t->list_h : t->nvis;

	if (t->filter_text[0])
		snprintf(filt, sizeof(filt), "filter %s  ", t->filter_text);
	snprintf(right, sizeof(right), "%s%s%ssort %s  rows %zu-%zu/%zu",
		 t->paused ? "PAUSED  " : "", t->alerts_only ? "alerts only  " : "",
		 filt, cols[t->sort].name, first, last, t->nvis);
	if (t->filtering)
		snprintf(left, sizeof(left), "filter (address or prefix; empty: none): %s",
			 t->input);
	else if (t->msg[0] && now_mono_ns() - t->msg_ns < MSG_NS)
		snprintf(left, sizeof(left), "%s", t->msg);
	else
		snprintf(left, sizeof(left), "h help  q quit");
	move(y, 0);
	attron(A_REVERSE);
	hline(' ', COLS);
	rl = strlen(right);
	if (t->filtering || rl + 2 > COLS) {
		mvaddnstr(y, 0, left, COLS - 1);
	} else {
		mvaddnstr(y, 0, left, COLS - rl - 2);
		mvaddnstr(y, COLS - rl - 1, right, rl);
	}
	attroff(A_REVERSE);
	if (t->filtering) {
		int x = strlen(left);

		move(y, x < COLS - 1 ? x : COLS - 1);
	}
}

static const char *help_text[] = {
	"protomix: keys",
	"",
	"  q           quit",
	"  s / S       sort by the next / previous column",
	"  a           only the destinations with alerts (again: all)",
	"  /           filter by address or prefix, e.g. 10.20.0.0/16",
	"              (Enter applies, Esc cancels, empty clears)",
	"  p           pause the display (counting goes on)",
	"  e           export a snapshot: protomix-YYYYMMDD-HHMMSS.json here",
	"  h ?         this help; any key closes it",
	"  arrows, PgUp, PgDn, Home, End   scroll",
	"",
	"Rates are per refresh, from counter deltas. Shares are of the",
	"interval's packets; of all packets for an idle destination (dim).",
	"OTHER% folds every class but tcp, udp, icmp and esp. ! marks a",
	"destination with violations (VIOL) or a kept alert.",
};

static void draw_help(void)
{
	int n = sizeof(help_text) / sizeof(help_text[0]), w = 0, h, y0, x0;

	for (int i = 0; i < n; i++)
		if ((int)strlen(help_text[i]) > w)
			w = strlen(help_text[i]);
	w += 4;
	h = n + 2;
	if (w > COLS)
		w = COLS;
	if (h > LINES)
		h = LINES;
	y0 = (LINES - h) / 2;
	x0 = (COLS - w) / 2;
	for (int y = 0; y < h; y++) {
		move(y0 + y, x0);
		hline(' ', w);
	}
	attron(A_BOLD);
	mvaddch(y0, x0, '+');
	mvhline(y0, x0 + 1, '-', w - 2);
	mvaddch(y0, x0 + w - 1, '+');
	mvaddch(y0 + h - 1, x0, '+');
	mvhline(y0 + h - 1, x0 + 1, '-', w - 2);
	mvaddch(y0 + h - 1, x0 + w - 1, '+');
	mvvline(y0 + 1, x0, '|', h - 2);
	mvvline(y0 + 1, x0 + w - 1, '|', h - 2);
	attroff(A_BOLD);
	for (int i = 0; i < n && i < h - 2; i++)
		mvaddnstr(y0 + 1 + i, x0 + 2, help_text[i], w - 4);
}

static void draw_small(void)
{
	char need[64];

	snprintf(need, sizeof(need), "%dx%d, need %dx%d", COLS, LINES, MIN_COLS,
		 MIN_LINES);
	put(0, 0, "terminal too small");
	put(1, 0, need);
	put(2, 0, "q quits");
}

static void draw(struct top *t)
{
	int list_h, pane_h, pane_y;

	drain_stderr(t);
	erase();
	if (LINES < MIN_LINES || COLS < MIN_COLS) {
		draw_small();
		refresh();
		return;
	}
	curs_set(t->filtering ? 1 : 0);
	draw_header(t);
	/* the alert pane: a quarter of the screen at most, 1 to 8 lines */
	pane_h = t->nalerts ? (LINES - HEADER_LINES) / 4 : 0;
	if (pane_h > 8)
		pane_h = 8;
	if (t->nalerts && pane_h < 1)
		pane_h = 1;
	if ((size_t)pane_h > t->nalerts)
		pane_h = t->nalerts;
	pane_y = LINES - 2 - pane_h;
	list_h = pane_y - HEADER_LINES - 1;
	draw_list(t, HEADER_LINES, list_h);
	draw_alerts(t, pane_y, pane_h);
	draw_status(t);
	if (t->help)
		draw_help();
	refresh();
}

/* --- the view ------------------------------------------------------------ */

bool top_possible(void)
{
	/* in the terminal's foreground: a background job (`watch ... &`)
	 * keeps printing lines instead of being stopped by SIGTTIN */
	return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
	       tcgetpgrp(STDIN_FILENO) == getpgrp();
}

struct top *top_open(const struct top_info *info)
{
	const char *term = getenv("TERM");
	struct top *t = calloc(1, sizeof(*t));

	if (t)
		t->alerts = calloc(ALERTS_KEPT, sizeof(*t->alerts));
	if (!t || !t->alerts) {
		pm_err("out of memory for the terminal view");
		free(t);
		return NULL;
	}
	t->info = *info;
	t->sort = C_PPS;
	t->fmt.agg4 = 32;
	t->fmt.agg6 = 128;
	gethostname(t->host, sizeof(t->host) - 1);
	if (!term || !*term) {
		pm_err("no terminal view: TERM is not set; printing lines instead");
		goto fail;
	}
	hold_stderr(t);
	t->scr = newterm(NULL, stdout, stdin);
	if (!t->scr) {
		release_stderr(t);
		pm_err("no terminal view: the terminal type '%s' is unknown here; printing lines instead",
		       term);
		goto fail;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		t->color = true;
	}
	draw(t);
	return t;
fail:
	free(t->alerts);
	free(t);
	return NULL;
}

void top_close(struct top *t)
{
	if (!t)
		return;
	if (t->scr) {
		curs_set(1);
		endwin();
		delscreen(t->scr);
	}
	fflush(stdout);
	release_stderr(t);
	free(t->rows);
	free(t->mark);
	free(t->vis);
	free(t->alerts);
	free(t);
}

void top_refresh(struct top *t, const struct pm_view *v,
		 const struct dest_table *prev, uint64_t prev_ns)
{
	if (v->alerts)
		alerts_from_log(t, v->alerts);
	if (t->paused) {
		draw(t);		/* the clock and uptime move on */
		return;
	}
	t->fmt.agg4 = v->agg4 ? v->agg4 : 32;
	t->fmt.agg6 = v->agg6 ? v->agg6 : 128;
	t->secs = (v->taken_ns - prev_ns) / 1e9;
	if (t->secs <= 0)
		prev = NULL;
	if (build_rows(t, v, prev)) {
		set_msg(t, "out of memory for %zu rows", v->dests->n);
		draw(t);
		return;
	}
	t->have_read = true;
	t->have_rates = prev != NULL;
	t->taken_ns = v->taken_ns;
	t->ndests = v->dests->n;
	t->max_dests = v->max_dests;
	/* the totals since our last look at the stats; without one, since
	 * prev_ns (the watch's start, when they were zero) */
	if (prev) {
		static const struct pm_stats zero;
		const struct pm_stats *was = t->stats_prev_ns ? &t->stats_prev : &zero;
		double secs = (v->taken_ns - (t->stats_prev_ns ? t->stats_prev_ns : prev_ns)) / 1e9;

		t->pps = (stats_packets(&v->total) - stats_packets(was)) / secs;
		t->bps = (stats_bytes(&v->total) - stats_bytes(was)) * 8 / secs;
	}
	t->total = v->total;
	t->stats_prev = v->total;
	t->stats_prev_ns = v->taken_ns;
	select_rows(t);
	draw(t);
}

/* "10.20.0.0/16", "2001:db8::/48" or an address. NULL, or what is wrong. */
static const char *parse_filter(const char *s, struct pm_dest_key *k,
				unsigned int *plen)
{
	char buf[FILTER_MAX + 1], *slash;
	uint64_t len;
	bool v4;

	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = 0;
	if (!parse_addr(buf, k->addr))
		return "not an IPv4 or IPv6 address or prefix";
	v4 = is_v4(k->addr);
	if (!slash)
		len = v4 ? 32 : 128;
	else if (!parse_u64(slash, 0, v4 ? 32 : 128, &len))
		return v4 ? "prefix length out of range (0-32 for IPv4)" :
			    "prefix length out of range (0-128 for IPv6)";
	*plen = len + (v4 ? 96 : 0);
	mask_addr(k->addr, *plen);
	return NULL;
}

static void apply_filter(struct top *t)
{
	struct pm_dest_key k;
	unsigned int plen;
	const char *err;

	if (!t->input[0]) {
		t->filter_text[0] = 0;
		set_msg(t, "filter cleared");
	} else if ((err = parse_filter(t->input, &k, &plen))) {
		set_msg(t, "invalid filter '%s': %s", t->input, err);
		return;
	} else {
		t->filter = k;
		t->filter_plen = plen;
		snprintf(t->filter_text, sizeof(t->filter_text), "%s", t->input);
	}
	t->scroll = 0;
	select_rows(t);
}

static void filter_key(struct top *t, int ch)
{
	size_t n = strlen(t->input);

	switch (ch) {
	case 27:			/* Esc */
		t->filtering = false;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->filtering = false;
		apply_filter(t);
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (n)
			t->input[n - 1] = 0;
		break;
	case 21:			/* ^U */
		t->input[0] = 0;
		break;
	default:
		if (ch >= 0x20 && ch < 0x7f && n < FILTER_MAX) {
			t->input[n] = ch;
			t->input[n + 1] = 0;
		}
		break;
	}
}

static int write_json(FILE *f, void *ctx)
{
	const char *s = json_object_to_json_string_ext(
		ctx, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	return fputs(s, f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
}

/* 'e': the snapshot into the current folder, under a name of now. */
static void export_snapshot(struct top *t)
{
	char name[64], base[48];
	time_t now = time(NULL);
	json_object *o, *dests;
	struct stat st;
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(base, sizeof(base), "protomix-%Y%m%d-%H%M%S", &tm);
	snprintf(name, sizeof(name), "%s.json", base);
	/* lstat: a dangling symlink of that name is taken too */
	for (int i = 2; lstat(name, &st) == 0 && i < 100; i++)
		snprintf(name, sizeof(name), "%s-%d.json", base, i);
	set_msg(t, "exporting a snapshot to %s ...", name);
	draw(t);
	o = t->info.snapshot ? t->info.snapshot(t->info.ctx) : NULL;
	if (o) {
		json_object_object_del(o, "evidence");	/* for --pcap only */
		if (write_output(name, write_json, o) == 0) {
			dests = json_object_object_get(o, "destinations");
			set_msg(t, "snapshot written to %s (%zu destinations)", name,
				json_object_array_length(dests));
		}
		json_object_put(o);
	}
	drain_stderr(t);	/* a failure's reason, if one was given */
	if (!strncmp(t->msg, "exporting", 9))
		set_msg(t, "export to %s failed", name);
}

static void scroll_by(struct top *t, long n)
{
	if (n < 0 && (size_t)-n > t->scroll)
		t->scroll = 0;
	else
		t->scroll += n;	/* the upper bound is kept by draw_list */
}

/* The terminal went away (hangup): nothing more to read or show. */
static bool stdin_gone(void)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

bool top_keys(struct top *t)
{
	bool any = false;
	int ch;

	if (stdin_gone())
		return true;
	while ((ch = getch()) != ERR) {
		any = true;
		if (ch == KEY_RESIZE) {
			top_resize(t);
			continue;
		}
		if (t->filtering) {
			filter_key(t, ch);
			continue;
		}
		if (t->help) {		/* any key closes it */
			t->help = false;
			if (ch != 'q')
				continue;
		}
		switch (ch) {
		case 'q':
		case 'Q':
			return true;
		case 's':
			t->sort = (t->sort + 1) % NCOL;
			t->scroll = 0;
			select_rows(t);
			break;
		case 'S':
			t->sort = (t->sort + NCOL - 1) % NCOL;
			t->scroll = 0;
			select_rows(t);
			break;
		case 'a':
			t->alerts_only = !t->alerts_only;
			t->scroll = 0;
			select_rows(t);
			break;
		case '/':
			t->filtering = true;
			snprintf(t->input, sizeof(t->input), "%s", t->filter_text);
			break;
		case 'p':
			t->paused = !t->paused;
			t->shown_seq = t->alerts_seq;
			set_msg(t, t->paused ? "paused: p resumes" : "resumed");
			break;
		case 'e':
			export_snapshot(t);
			break;
		case 'h':
		case '?':
			t->help = true;
			break;
		case KEY_UP:
			scroll_by(t, -1);
			break;
		case KEY_DOWN:
			scroll_by(t, 1);
			break;
		case KEY_PPAGE:
			scroll_by(t, -(long)(t->list_h > 1 ? t->list_h - 1 : 1));
			break;
		case KEY_NPAGE:
			scroll_by(t, t->list_h > 1 ? t->list_h - 1 : 1);
			break;
		case KEY_HOME:
			t->scroll = 0;
			break;
		case KEY_END:
			t->scroll = t->nvis;
			break;
		case 12:		/* ^L */
			clearok(curscr, TRUE);
			break;
		default:
			break;
		}
	}
	if (any)
		draw(t);
	return false;
}

void top_resize(struct top *t)
{
	struct winsize ws;

	if (!t)
		return;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col)
		resize_term(ws.ws_row, ws.ws_col);
	clearok(curscr, TRUE);
	draw(t);
}

/* --- `protomix top` ------------------------------------------------------ */

struct top_cli {
	pid_t pid;
	double interval;
	int stats_fd, table_fd[DM_NMAPS];
	struct dest_maps dm;
	struct dest_table tab[2];
	int cur;
	bool have_prev;
	uint64_t prev_ns;
	struct pm_view view;
	uint64_t alerts_next;		/* the newest alert we have */
	struct top *top;
};

static void top_usage(FILE *f)
{
	fprintf(f,
"usage: protomix top [--pid PID] [-i SEC]\n"
"The live view of the protomix watch running in this network namespace:\n"
"every destination with its rates and class shares, the counters, and the\n"
"latest alerts with their evidence. `h` in the view lists the keys.\n"
"\n"
"  -i, --interval SEC   refresh period (default 1; 0.1 to 86400)\n"
"      --pid PID        the watch to attach to when several run\n"
"  -h, --help           this text\n");
}

/* The watch's stats map, as `protomix watch` made it (dest_maps_open
 * checks the destination table's arrays). */
static bool map_is(int fd, __u32 key_size, __u32 value_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.key_size == key_size && info.value_size == value_size;
}

/* A read-only fd for the map when the kernel gives one; else a copy. */
static int map_fd_rdonly(struct bpf_map *map)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, opts, .open_flags = BPF_F_RDONLY);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_map__fd(map), ro;

	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ro = bpf_map_get_fd_by_id_opts(info.id, &opts);
		if (ro >= 0)
			return ro;
	}
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

json_object *top_maps_json(json_object *status, const struct observer *ob,
			   struct ctl_fds *fds)
{
	json_object *agg = json_object_new_array();
	/* The destination table is read in place (mmap), which the kernel
	 * allows only through a descriptor open for writing; top maps it
	 * read-only. fds: the stats, then the table's arrays in DM_* order. */
	int s = map_fd_rdonly(ob->skel->maps.stats);

	if (s < 0)
		goto fail;
	fds->fd[fds->n++] = s;
	for (int i = 0; i < DM_NMAPS; i++) {
		int d = fcntl(ob->dm.fd[i], F_DUPFD_CLOEXEC, 3);

		if (d < 0)
			goto fail;
		fds->fd[fds->n++] = d;
	}
	json_object_object_add(status, "type", json_object_new_string("maps"));
	json_object_array_add(agg, json_object_new_int(ob->agg4));
	json_object_array_add(agg, json_object_new_int(ob->agg6));
	json_object_object_add(status, "aggregate", agg);
	return status;
fail:
	while (fds->n > 0)
		close(fds->fd[--fds->n]);
	json_object_put(agg);
	json_object_put(status);
	return NULL;
}

/* "gw-ws (tc_ingress,tc_egress)  lan1 (...)" from the "interfaces" of a
 * status answer. */
static void ifaces_text(json_object *ifs, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < json_object_array_length(ifs) && n < len; i++) {
		json_object *ifc = json_object_array_get_idx(ifs, i), *hooks;

		n += snprintf(buf + n, len - n, "%s%s (", i ? "  " : "",
			      json_object_get_string(json_object_object_get(ifc, "name")));
		hooks = json_object_object_get(ifc, "hooks");
		for (size_t h = 0; h < json_object_array_length(hooks) && n < len; h++)
			n += snprintf(buf + n, len - n, "%s%s", h ? "," : "",
				      json_object_get_string(json_object_array_get_idx(hooks, h)));
		if (n < len)
			n += snprintf(buf + n, len - n, ")");
	}
}

static bool watch_alive(pid_t pid)
{
	pid_t pids[CTL_MAX_INSTANCES];
	int n = ctl_find(pids, CTL_MAX_INSTANCES);

	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return n < 0;			/* cannot tell: assume so */
}

/* The alerts newer than those we have. */
static void pull_alerts(struct top_cli *c)
{
	json_object *o, *arr, *tot, *a;
	char req[48];
	uint8_t dst[16];

	snprintf(req, sizeof(req), "alerts %llu", (unsigned long long)c->alerts_next);
	o = ctl_request(c->pid, req);
	if (!o)
		return;			/* said on stderr: the status line */
	arr = json_object_object_get(o, "alerts");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		a = json_object_array_get_idx(arr, i);
		if (!parse_addr(json_object_get_string(json_object_object_get(a, "dst")), dst))
			continue;
		push_alert(c->top, json_object_get_uint64(json_object_object_get(a, "seq")),
			   dst, json_object_get_string(json_object_object_get(a, "line")));
	}
	c->alerts_next = json_object_get_uint64(json_object_object_get(o, "next"));
	c->top->alerts_total = 0;
	tot = json_object_object_get(o, "total");
	json_object_object_foreach(tot, k, n) {
		(void)k;
		c->top->alerts_total += json_object_get_uint64(n);
	}
	json_object_put(o);
}

/* One refresh: the maps, then the alerts. 1 when the watch has gone. */
static int top_cli_read(struct top_cli *c)
{
	struct dest_table *t = &c->tab[c->cur];
	int err;

	if (!watch_alive(c->pid))
		return 1;
	c->view.taken_ns = now_mono_ns();
	err = dests_read(&c->dm, t);
	if (!err)
		err = stats_read(c->stats_fd, c->view.hooks, &c->view.total);
	if (err) {
		pm_err("cannot read the maps of the watch with pid %d: %s",
		       (int)c->pid, strerror(-err));
		return 0;
	}
	dest_table_index(t);
	c->view.dests = t;
	pull_alerts(c);
	top_refresh(c->top, &c->view, c->have_prev ? &c->tab[!c->cur] : NULL,
		    c->prev_ns);
	c->prev_ns = c->view.taken_ns;
	c->have_prev = true;
	c->cur = !c->cur;
	return 0;
}

/* 'e' in `top`: the snapshot from the watch. */
static json_object *cli_snapshot(void *ctx)
{
	struct top_cli *c = ctx;

	return ctl_request(c->pid, "snapshot");
}

/* One epoll over the keys, the signals (SIGWINCH among them) and the
 * refresh timer. */
static int top_cli_loop(struct top_cli *c, const struct top_info *info)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	int sfd = -1, tfd = -1, ep = -1, rc = EXIT_RUNTIME, n;
	bool stop = false, gone = false;
	sigset_t mask;

	loop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_after(c->interval, true);
	if (tfd < 0)
		errno = -tfd;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0) {
		pm_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = STDIN_FILENO;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev)) {
		pm_err("cannot wait for keys on stdin: %s", strerror(errno));
		goto out;
	}
	c->top = top_open(info);
	if (!c->top)
		goto out;
	rc = 0;
	gone = top_cli_read(c) == 1;
	stop = gone;
	while (!stop) {
		n = epoll_wait(ep, evs, 4, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pm_err("epoll_wait: %s", strerror(errno));
			rc = EXIT_RUNTIME;
			break;
		}
		for (int i = 0; i < n && !stop; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGWINCH)
					top_resize(c->top);
				else
					stop = true;
			} else if (fd == tfd) {
				uint64_t x;

				if (read(tfd, &x, sizeof(x)) < 0)
					continue;
				gone = top_cli_read(c) == 1;
				stop = gone;
			} else if (fd == STDIN_FILENO) {
				stop = top_keys(c->top);
			}
		}
	}
out:
	top_close(c->top);
	c->top = NULL;
	if (gone)
		fprintf(stderr, "protomix: the watch with pid %d has ended\n", (int)c->pid);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return rc;
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct top_cli c = { .interval = 1, .stats_fd = -1,
			  .table_fd = { -1, -1, -1, -1 } };
	struct top_info info = { .title = "protomix top", .snapshot = cli_snapshot,
				 .ctx = &c };
	struct ctl_fds fds = {};
	json_object *reply = NULL, *agg;
	pid_t want = 0;
	__u32 max = 0;
	uint64_t v;
	char esc[PM_ESC_LEN(64)];
	int ch, rc = EXIT_RUNTIME;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (!parse_seconds(optarg, &c.interval) ||
			    c.interval < PM_INTERVAL_MIN) {
				pm_err("invalid --interval '%s': seconds from %g (the minimum) to %d, e.g. 1 or 0.5",
				       pm_esc(optarg, esc, sizeof(esc)), PM_INTERVAL_MIN,
				       PM_SECONDS_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'P':
			if (!parse_u64(optarg, 1, 1u << 22, &v)) {
				pm_err("invalid --pid '%s'", pm_esc(optarg, esc, sizeof(esc)));
				return EXIT_USAGE;
			}
			want = v;
			break;
		case 'h':
			top_usage(stdout);
			return 0;
		case ':':
			pm_err("option '%s' needs a value (see protomix top --help)",
			       pm_esc(argv[optind - 1], esc, sizeof(esc)));
			return EXIT_USAGE;
		default:
			pm_err("unknown option '%s' (see protomix top --help)",
			       pm_esc(argv[optind - 1], esc, sizeof(esc)));
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pm_err("top: unexpected argument '%s' (see protomix top --help)",
		       pm_esc(argv[optind], esc, sizeof(esc)));
		return EXIT_USAGE;
	}
	rc = ctl_pick(want, &c.pid);
	if (rc)
		return -rc;
	if (!top_possible()) {
		pm_err("top needs a terminal on stdin and stdout (for a one-off read: protomix snapshot)");
		return EXIT_USAGE;
	}
	reply = ctl_request_fds(c.pid, "maps", &fds);
	if (!reply)
		return EXIT_RUNTIME;
	rc = EXIT_RUNTIME;
	if (fds.n != 1 + DM_NMAPS ||
	    !map_is(fds.fd[0], sizeof(__u32), sizeof(struct pm_stats)) ||
	    dest_maps_open(&c.dm, &fds.fd[1], false)) {
		pm_err("the protomix watch with pid %d did not hand over its maps (a different protomix version?)",
		       (int)c.pid);
		goto out;
	}
	c.stats_fd = fds.fd[0];
	for (int i = 0; i < DM_NMAPS; i++)
		c.table_fd[i] = fds.fd[1 + i];
	fds.n = 0;
	max = c.dm.nslots;
	if (dest_table_init(&c.tab[0], max) || dest_table_init(&c.tab[1], max)) {
		pm_err("out of memory for %u destinations", max);
		goto out;
	}
	info.pid = c.pid;
	info.interval = c.interval;
	info.started_ns = now_mono_ns() - (uint64_t)(json_object_get_double(
		json_object_object_get(reply, "uptime_s")) * 1e9);
	ifaces_text(json_object_object_get(reply, "interfaces"), info.ifaces,
		    sizeof(info.ifaces));
	agg = json_object_object_get(reply, "aggregate");
	c.view.agg4 = json_object_get_int(json_object_array_get_idx(agg, 0));
	c.view.agg6 = json_object_get_int(json_object_array_get_idx(agg, 1));
	c.view.max_dests = max;
	c.view.started_ns = info.started_ns;
	rc = top_cli_loop(&c, &info);
out:
	for (int i = 0; i < fds.n; i++)
		close(fds.fd[i]);
	if (c.stats_fd >= 0)
		close(c.stats_fd);
	dest_maps_close(&c.dm);
	for (int i = 0; i < DM_NMAPS; i++)
		if (c.table_fd[i] >= 0)
			close(c.table_fd[i]);
	dest_table_free(&c.tab[0]);
	dest_table_free(&c.tab[1]);
	json_object_put(reply);
	return rc;
}
