/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The state of the live view (top.h), shared by its three files only:
 * top_view.c (rows, alerts, held stderr) and top_keys.c (the keys)
 * change it, top_draw.c draws it. Nothing else includes this.
 */
#ifndef PM_TOP_STATE_H
#define PM_TOP_STATE_H

#include <curses.h>
#include "observer.h"
#include "top.h"
#include "top_strip.h"

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

struct row {
	struct pm_dest_key key;
	uint64_t pkts, bytes;		/* in the interval */
	uint64_t violations;
	uint16_t share[NSHARE];		/* tenths of a percent */
	bool alert;			/* violations, or a kept alert for it */
	bool idle;			/* nothing in the interval: shares of all */
	uint32_t via;			/* tunnels it was seen inside (class mask) */
};

struct talert {
	uint64_t seq;
	struct pm_dest_key dst;
	char line[EVIDENCE_LINE_MAX];	/* as `watch` prints it */
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
	struct top_strip strip;		/* 'g': the top row's mix over time */

	char msg[256];			/* status message ... */
	uint64_t msg_ns;		/* ... set then */

	/* stderr while the view is up */
	int saved_err, err_rd;
	char held[HELD_MAX];
	size_t nheld, held_dropped;
	char partial[256];		/* a line not finished yet */
	size_t npartial;
};

/* Draw the whole screen from t (top_draw.c). */
void top_draw(struct top *t);

/* top_view.c, for top_keys.c. */

/* The status line's message, from now on for MSG_NS. */
void top_set_msg(struct top *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Clear the bits of a after plen (in the 128-bit space). */
void top_mask_addr(uint8_t a[16], unsigned int plen);
/* What was written to stderr since, held (its last line the message). */
void top_drain_stderr(struct top *t);
/* The screen, with the latest line of stderr in the status line. */
void top_redraw(struct top *t);
/* Filter and sort the rows of the last read into vis. */
void top_select_rows(struct top *t);

/* The i-th kept alert, oldest first (i < t->nalerts). */
static inline const struct talert *top_alert_at(const struct top *t, size_t i)
{
	return &t->alerts[(t->alerts_first + i) % ALERTS_KEPT];
}

#endif
