// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The live view's state (top.h, top_state.h): the view opened and closed
 * on the terminal, stderr held while it is up and shown in the status
 * line, the kept alerts, and the rows of each read (rates, class shares,
 * marks), filtered and sorted. Its keys are top_keys.c's, its drawing
 * top_draw.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classes.h"
#include "top_state.h"
#include "util.h"

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

/* Clear the bits of a after plen (in the 128-bit space). */
void top_mask_addr(uint8_t a[16], unsigned int plen)
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

void top_set_msg(struct top *t, const char *fmt, ...)
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
	top_set_msg(t, "%.*s", (int)len, line);
}

void top_drain_stderr(struct top *t)
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

/* The screen, with the latest line of stderr in the status line. */
void top_redraw(struct top *t)
{
	top_drain_stderr(t);
	top_draw(t);
}

static void release_stderr(struct top *t)
{
	if (t->err_rd < 0)
		return;
	top_drain_stderr(t);
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

void top_push_alert(struct top *t, uint64_t seq, const uint8_t dst[16],
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

void top_alerts_total_set(struct top *t, uint64_t total)
{
	t->alerts_total = total;
}

static void alerts_from_log(struct top *t, const struct alert_log *log)
{
	char line[EVIDENCE_LINE_MAX];
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
		top_push_alert(t, seq, a->dst, line);
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
void top_select_rows(struct top *t)
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
	unsigned int p4 = 96 + (v->agg4 ? v->agg4 : PM_AGG4_NONE);
	unsigned int p6 = v->agg6 ? v->agg6 : PM_AGG6_NONE;
	__u64 cls[PM_NCLASS];

	if (reserve_rows(t, d->n))
		return -ENOMEM;
	memset(t->mark, 0, d->n);
	for (size_t i = 0; i < t->nalerts; i++) {
		struct pm_dest_key k = top_alert_at(t, i)->dst;
		long idx;

		top_mask_addr(k.addr, addr_is_v4(k.addr) ? p4 : p6);
		idx = dest_table_find(d, &k);
		if (idx >= 0)
			t->mark[idx] = 1;
	}
	t->v6 = false;
	for (size_t i = 0; i < d->n; i++) {
		const struct pm_dest *now = &d->vals[i];
		const struct pm_dest *was = dest_table_prev(prev, &d->keys[i], i);
		struct row *r = &t->rows[i];

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
		r->via = dest_via_mask(now->flags);
		r->alert = now->violations || t->mark[i];
		t->v6 |= !addr_is_v4(r->key.addr);
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
	t->fmt.agg4 = PM_AGG4_NONE;
	t->fmt.agg6 = PM_AGG6_NONE;
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
	top_redraw(t);
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
		top_redraw(t);		/* the clock and uptime move on */
		return;
	}
	t->fmt.agg4 = v->agg4 ? v->agg4 : PM_AGG4_NONE;
	t->fmt.agg6 = v->agg6 ? v->agg6 : PM_AGG6_NONE;
	t->secs = (v->taken_ns - prev_ns) / 1e9;
	if (t->secs <= 0)
		prev = NULL;
	if (build_rows(t, v, prev)) {
		top_set_msg(t, "out of memory for %zu rows", v->dests->n);
		top_redraw(t);
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
	top_select_rows(t);
	strip_update(&t->strip, t->nvis ? &t->rows[t->vis[t->scroll]].key : NULL,
		     v->dests, prev);
	top_redraw(t);
}
