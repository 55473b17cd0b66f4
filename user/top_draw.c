// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The live view's screen: header, destination list, alerts, status line
 * and help, drawn from struct top (top_state.h). */
#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "classes.h"
#include "top_state.h"
#include "util.h"

/* The columns, in the order s steps through them. */

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

/* --- drawing ------------------------------------------------------------- */

static int addr_width(const struct top *t)
{
	bool agg = t->fmt.agg4 < PM_AGG4_NONE || t->fmt.agg6 < PM_AGG6_NONE;
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
	char line[1024], up[32], a[16], b[16], clock[16], unseen[96], inner[320];
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
		 "parser malformed %llu non-ip %llu%s%s  ring buffer sampled %llu suppressed %llu drops %llu",
		 (unsigned long long)stats_malformed(s),
		 (unsigned long long)s->reason[PM_R_NON_IP],
		 stats_unseen_text(s, unseen, sizeof(unseen)),
		 stats_inner_text(s, inner, sizeof(inner)),
		 (unsigned long long)s->sampled, (unsigned long long)s->suppressed,
		 (unsigned long long)s->ringbuf_drops);
	put(3, 0, line);
}

static void draw_row(struct top *t, int y, const struct row *r)
{
	char addr[64], a[16], b[16], v[16], sh[NSHARE][8], line[512], via[96];
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
	/* past the last column: cut first on a narrow terminal */
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s",
		 via_text(r->via, via, sizeof(via)));
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

	while (t->paused && end && top_alert_at(t, end - 1)->seq > t->shown_seq)
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
		put(y0 + 1 + i, 0, top_alert_at(t, end - shown + i)->line);
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
	"  g           the mix over time of the top row (again: close)",
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

void top_draw(struct top *t)
{
	int list_h, pane_h, pane_y;

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
	if (t->strip.open && list_h > STRIP_LINES + 1) {
		char addr[64];

		list_h -= STRIP_LINES;
		strip_draw(&t->strip, pane_y - STRIP_LINES, COLS,
			   fmt_dest(&t->fmt, &t->strip.key, addr, sizeof(addr)),
			   A_BOLD | (t->color ? COLOR_PAIR(1) : A_NORMAL));
	}
	draw_list(t, HEADER_LINES, list_h);
	draw_alerts(t, pane_y, pane_h);
	draw_status(t);
	if (t->help)
		draw_help();
	refresh();
}

/* --- the view ------------------------------------------------------------ */
