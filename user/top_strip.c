// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The mix-over-time strip of the live view (top_strip.h). */
#include <curses.h>
#include <string.h>
#include "classes.h"
#include "top_strip.h"

/* Bar heights, lowest to highest: ASCII, whatever the locale. */
static const char levels[] = " ._-=+*#";
#define NLEVELS ((int)sizeof(levels) - 1)

void strip_update(struct top_strip *s, const struct pm_dest_key *key,
		  const struct dest_table *cur, const struct dest_table *prev)
{
	const struct pm_dest *was = NULL;
	__u64 cls[PM_NCLASS];
	uint64_t bytes, pkts = 0, best = 0;
	uint32_t pos;
	long i;
	int top = STRIP_IDLE;

	if (!key) {
		s->have_key = false;
		return;
	}
	if (!s->have_key || memcmp(&s->key, key, sizeof(*key))) {
		s->key = *key;
		s->have_key = true;
		s->n = 0;
	}
	i = dest_table_find(cur, key);
	if (i >= 0) {
		was = dest_table_prev(prev, key, (size_t)i);
		pkts = dest_delta(&cur->vals[i], was, cls, &bytes);
		for (int c = 0; c < PM_NCLASS && pkts; c++)
			if (cls[c] > best) {
				best = cls[c];
				top = c;
			}
	}
	pos = s->n % STRIP_LEN;
	s->pkts[pos] = pkts > UINT32_MAX ? UINT32_MAX : pkts;
	s->top_class[pos] = top;
	s->n++;
}

/* One letter per class, for the line under the bars. */
static char class_letter(int c)
{
	switch (c) {
	case PM_C_TCP: return 't';
	case PM_C_UDP: return 'u';
	case PM_C_ICMP: case PM_C_ICMP6: return 'i';
	case PM_C_ESP: return 'E';
	case PM_C_AH: return 'A';
	case PM_C_ESP_UDP: return 'N';
	case PM_C_IKE: return 'k';
	case PM_C_WIREGUARD: return 'W';
	case PM_C_VXLAN: return 'x';
	case PM_C_GENEVE: return 'v';
	case PM_C_GTP_U: return 'p';
	case STRIP_IDLE: return ' ';
	default: return 'o';
	}
}

/* The encrypted classes: what a TCP destination must not turn to. */
static bool class_alarms(int c)
{
	return c < PM_NCLASS && (class_encrypted_mask() & 1u << c);
}

void strip_draw(const struct top_strip *s, int y, int cols, const char *addr,
		unsigned int alert_attr)
{
	uint64_t shown = s->n < STRIP_LEN ? s->n : STRIP_LEN, max = 1;
	int width = cols - 1, x0;
	char title[256];

	if (shown > (uint64_t)width)
		shown = width;
	for (uint64_t k = s->n - shown; k < s->n; k++)
		if (s->pkts[k % STRIP_LEN] > max)
			max = s->pkts[k % STRIP_LEN];
	snprintf(title, sizeof(title),
		 " MIX OVER TIME  %s: packets per refresh (peak %llu), busiest class "
		 "t tcp u udp i icmp E esp A ah N esp_udp k ike W wireguard "
		 "x vxlan v geneve p gtp_u o other  g closes",
		 s->have_key ? addr : "(no row)", (unsigned long long)max);
	move(y, 0);
	attron(A_REVERSE);
	hline(' ', cols);
	mvaddnstr(y, 0, title, cols);
	attroff(A_REVERSE);
	/* newest at the right edge */
	x0 = width - (int)shown;
	for (uint64_t k = s->n - shown, x = x0; k < s->n; k++, x++) {
		uint32_t v = s->pkts[k % STRIP_LEN];
		int c = s->top_class[k % STRIP_LEN];
		int lv = v ? 1 + (int)((uint64_t)(NLEVELS - 2) * v / max) : 0;
		unsigned int attr = class_alarms(c) ? alert_attr : A_NORMAL;

		attron(attr);
		mvaddch(y + 1, x, levels[lv]);
		mvaddch(y + 2, x, class_letter(c));
		attroff(attr);
	}
}
