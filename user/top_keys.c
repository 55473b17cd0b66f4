// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The live view's keys (top_keys, top.h): sorting, the alerts-only and
 * pause toggles, the destination filter typed after '/' (an address or
 * prefix), the mix strip, scrolling, help, 'e' (a snapshot written to the
 * current folder) and a resized terminal. They change the state of
 * top_state.h through top_view.c's helpers and redraw.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "top_state.h"
#include "util.h"

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
	top_mask_addr(k->addr, *plen);
	return NULL;
}

static void apply_filter(struct top *t)
{
	struct pm_dest_key k;
	unsigned int plen;
	const char *err;

	if (!t->input[0]) {
		t->filter_text[0] = 0;
		top_set_msg(t, "filter cleared");
	} else if ((err = parse_filter(t->input, &k, &plen))) {
		top_set_msg(t, "invalid filter '%s': %s", t->input, err);
		return;
	} else {
		t->filter = k;
		t->filter_plen = plen;
		snprintf(t->filter_text, sizeof(t->filter_text), "%s", t->input);
	}
	t->scroll = 0;
	top_select_rows(t);
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
	top_set_msg(t, "exporting a snapshot to %s ...", name);
	top_redraw(t);
	o = t->info.snapshot ? t->info.snapshot(t->info.ctx) : NULL;
	if (o) {
		json_object_object_del(o, "evidence");	/* for --pcap only */
		if (write_output(name, write_json, o) == 0) {
			dests = json_object_object_get(o, "destinations");
			top_set_msg(t, "snapshot written to %s (%zu destinations)", name,
				    json_object_array_length(dests));
		}
		json_object_put(o);
	}
	top_drain_stderr(t);	/* a failure's reason, if one was given */
	if (!strncmp(t->msg, "exporting", 9))
		top_set_msg(t, "export to %s failed", name);
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
			top_select_rows(t);
			break;
		case 'S':
			t->sort = (t->sort + NCOL - 1) % NCOL;
			t->scroll = 0;
			top_select_rows(t);
			break;
		case 'a':
			t->alerts_only = !t->alerts_only;
			t->scroll = 0;
			top_select_rows(t);
			break;
		case '/':
			t->filtering = true;
			snprintf(t->input, sizeof(t->input), "%s", t->filter_text);
			break;
		case 'p':
			t->paused = !t->paused;
			t->shown_seq = t->alerts_seq;
			top_set_msg(t, t->paused ? "paused: p resumes" : "resumed");
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
		top_redraw(t);
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
	top_redraw(t);
}
