// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One read of a watch as the outputs show it (view.h). */
#include <stdio.h>
#include <string.h>
#include "util.h"
#include "view.h"

char *fmt_dest(const struct pm_view *v, const struct pm_dest_key *k,
	       char *buf, size_t len)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	bool v4 = !memcmp(k->addr, v4mapped, sizeof(v4mapped));
	unsigned int plen = v4 ? v->agg4 : v->agg6;

	fmt_addr(k->addr, buf, len);
	if (plen && plen < (v4 ? 32u : 128u))
		snprintf(buf + strlen(buf), len - strlen(buf), "/%u", plen);
	return buf;
}

uint64_t view_evicted(const struct pm_view *v)
{
	return v->total.new_dests > v->dests->n ?
	       v->total.new_dests - v->dests->n : 0;
}
