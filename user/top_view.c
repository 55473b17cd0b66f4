// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
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

/* The screen, with the latest line of stderr in the status line. */
static void redraw(struct top *t)
{
	drain_stderr(t);
	top_draw(t);
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
	unsigned int p4 = 96 + (v->agg4 ? v->agg4 : PM_AGG4_NONE);
	unsigned int p6 = v->agg6 ? v->agg6 : PM_AGG6_NONE;
	__u64 cls[PM_NCLASS];

	if (reserve_rows(t, d->n))
		return -ENOMEM;
	memset(t->mark, 0, d->n);
	for (size_t i = 0; i < t->nalerts; i++) {
		struct pm_dest_key k = top_alert_at(t, i)->dst;
		long idx;

		mask_addr(k.addr, addr_is_v4(k.addr) ? p4 : p6);
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
	redraw(t);
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
		redraw(t);		/* the clock and uptime move on */
		return;
	}
	t->fmt.agg4 = v->agg4 ? v->agg4 : PM_AGG4_NONE;
	t->fmt.agg6 = v->agg6 ? v->agg6 : PM_AGG6_NONE;
	t->secs = (v->taken_ns - prev_ns) / 1e9;
	if (t->secs <= 0)
		prev = NULL;
	if (build_rows(t, v, prev)) {
		set_msg(t, "out of memory for %zu rows", v->dests->n);
		redraw(t);
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
	strip_update(&t->strip, t->nvis ? &t->rows[t->vis[t->scroll]].key : NULL,
		     v->dests, prev);
	redraw(t);
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
	v4 = addr_is_v4(k->addr);
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
	redraw(t);
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
		case 'g':
			t->strip.open = !t->strip.open;
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
		redraw(t);
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
	redraw(t);
}
