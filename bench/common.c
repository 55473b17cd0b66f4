// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pmbench: what its commands share (bench.h): messages, medians, clocks,
 * option numbers, CPU pinning, frames. Apart from pmbench.c so that the
 * commands do not depend on the file that dispatches to them. */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"
#include "frames.h"

void bench_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pmbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void bench_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t arg_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		bench_err("invalid %s '%s': a number from %llu to %llu", opt, s,
			  (unsigned long long)min, (unsigned long long)max);
		exit(2);
	}
	return v;
}

int pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int bench_frame(const char *name, const uint8_t *dst_mac, uint8_t *buf, size_t cap)
{
	const struct frame_case *c = frame_case_find(name);
	struct frame_addrs a = {};
	int len;

	if (!c) {
		bench_err("no frame case '%s' in tests/frames.c", name);
		return -1;
	}
	if (dst_mac) {
		a.has_dst_mac = true;
		memcpy(a.dst_mac, dst_mac, 6);
	}
	len = frame_case_build(c, &a, buf, cap);
	if (len < 0)
		bench_err("cannot build frame case '%s'", name);
	return len;
}
