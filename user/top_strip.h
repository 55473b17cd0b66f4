/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The mix-over-time strip of the live view (`protomix top`, `watch` on a
 * terminal): for one destination, the one at the top of the list, its
 * packets per class in each of the last STRIP_LEN refreshes, drawn as
 * STRIP_LINES lines: a title, a bar per refresh (its height the packets
 * relative to the busiest refresh shown, in ASCII levels), and under each
 * bar the letter of the class that had most of its packets (the encrypted
 * classes, ESP, AH, esp_udp and WireGuard, in the alert colour). The strip starts empty when the top row
 * becomes another destination. Fixed size, no allocation.
 */
#ifndef PM_TOP_STRIP_H
#define PM_TOP_STRIP_H

#include <stdbool.h>
#include <stdint.h>
#include "maps.h"

#define STRIP_LEN	256	/* refreshes kept (a wide terminal shows them all) */
#define STRIP_LINES	3

struct top_strip {
	bool open;			/* shown ('g' toggles) */
	bool have_key;
	struct pm_dest_key key;		/* the destination followed */
	uint64_t n;			/* refreshes recorded for it */
	uint32_t pkts[STRIP_LEN];	/* ring: total packets per refresh */
	uint8_t top_class[STRIP_LEN];	/* its busiest class, or STRIP_IDLE */
};
#define STRIP_IDLE	0xff

/* A refresh: key (NULL: no row) read in cur; prev the read before it
 * (indexed, or NULL). Restarts the strip if key is another one. */
void strip_update(struct top_strip *s, const struct pm_dest_key *key,
		  const struct dest_table *cur, const struct dest_table *prev);

/* Draw at lines y .. y + STRIP_LINES - 1 of the screen, cols wide; the
 * address as text in addr; alert_attr: the curses attribute for the
 * IPsec classes. */
void strip_draw(const struct top_strip *s, int y, int cols, const char *addr,
		unsigned int alert_attr);

#endif
