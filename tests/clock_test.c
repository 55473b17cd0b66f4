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

	/* the realtime clock read between two monotonic instants falls
	 * between their conversions (give or take the offset's precision,
	 * 1 ms here: under emulation a reading can be preempted) */
	for (int i = 0; i < 1000; i++) {
		uint64_t m1 = now_mono_ns(), r, m2;

		clock_gettime(CLOCK_REALTIME, &ts);
		m2 = now_mono_ns();
		r = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
		d = (int64_t)(r - mono_to_real_ns(m1));
		if (d < -1000000 || (int64_t)(mono_to_real_ns(m2) - r) < -1000000) {
			complain(&wall, "CLOCK_REALTIME %llu is not between %llu and %llu",
				 (unsigned long long)r,
				 (unsigned long long)mono_to_real_ns(m1),
				 (unsigned long long)mono_to_real_ns(m2));
			break;
		}
	}
	return report("same_instant_same_time", &same) | report("wall_clock_time", &wall);
}
