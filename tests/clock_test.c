// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* user/util.c's clocks: an instant on the monotonic clock (as the kernel
 * stamps first_seen, last_seen and alerts) turns into the same wall-clock
 * time however often it is converted, so that every output of a watch (a
 * snapshot, its csv export, the next snapshot) agrees to the nanosecond;
 * and that time is the wall clock's. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include "check.h"
#include "util.h"

int main(void)
{
	struct check same = {}, wall = {};
	uint64_t m = now_mono_ns(), first = mono_to_real_ns(m), v;
	struct timespec ts;
	int64_t d;
	int differ = 0;

	/* 100,000 conversions over some milliseconds: a fresh offset per
	 * call differs by the jitter between two clock readings */
	for (int i = 0; i < 100000; i++) {
		v = mono_to_real_ns(m);
		if (v != first && !differ++)
			complain(&same, "call %d: %llu, the first call %llu (%+lld ns)",
				 i, (unsigned long long)v, (unsigned long long)first,
				 (long long)(v - first));
	}
	if (differ)
		complain(&same, "%d of 100000 conversions of one instant differ", differ);

	m = now_mono_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	d = (int64_t)((uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec) -
	    (int64_t)mono_to_real_ns(m);
	if (d < 0 || d > 1000000)
		complain(&wall, "now converted is %lld ns from CLOCK_REALTIME", (long long)-d);
	return report("same_instant_same_time", &same) | report("wall_clock_time", &wall);
}
