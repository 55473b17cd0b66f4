// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "util.h"

int pm_verbose;

void pm_err(const char *fmt, ...)
{
	va_list ap;

	fputs("protomix: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void pm_dbg(const char *fmt, ...)
{
	va_list ap;

	if (!pm_verbose)
		return;
	fputs("protomix: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (!pm_verbose || (level == LIBBPF_DEBUG && pm_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void pm_libbpf_quiet(void)
{
	libbpf_set_print(libbpf_print);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t now_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, the realtime clock read between two
 * readings of the monotonic one, taken at their middle: off by at most
 * half the time between them (*width), which a preemption (or an
 * emulated CPU) can make long; the narrowest of three tries. */
static int64_t real_offset_now(uint64_t *width)
{
	int64_t best = 0;

	*width = UINT64_MAX;
	for (int i = 0; i < 3; i++) {
		uint64_t m1 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME),
			 m2 = clock_ns(CLOCK_MONOTONIC);

		if (m2 - m1 < *width) {
			*width = m2 - m1;
			best = (int64_t)(r - m1 - (m2 - m1) / 2);
		}
	}
	return best;
}

/* The offset in use, 0 until first taken. Both clocks are slewed alike, so
 * the offset stays the same until the wall clock is stepped (settimeofday,
 * an NTP step): it is taken once, and again only when a new reading is
 * more than OFFSET_STEP_NS away, beyond its own uncertainty. A process
 * thereby turns an instant into the same wall-clock time in every output
 * (a snapshot and its csv export agree to the microsecond) instead of one
 * that varies with the jitter of each reading. */
#define OFFSET_STEP_NS	1000000
static int64_t real_offset;

uint64_t mono_to_real_ns(uint64_t mono_ns)
{
	uint64_t width;
	int64_t now = real_offset_now(&width), d,
		off = __atomic_load_n(&real_offset, __ATOMIC_RELAXED);

	d = now > off ? now - off : off - now;
	if (!off || (uint64_t)d > OFFSET_STEP_NS + width / 2) {
		off = now;
		__atomic_store_n(&real_offset, off, __ATOMIC_RELAXED);
	}
	return mono_ns + (uint64_t)off;
}

char *fmt_time(uint64_t real_ns, char *buf, size_t len)
{
	time_t secs = real_ns / 1000000000ull;
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06uZ",
		 (unsigned int)(real_ns % 1000000000ull / 1000));
	return buf;
}

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

char *fmt_addr(const uint8_t addr[16], char *buf, size_t len)
{
	if (memcmp(addr, v4mapped, sizeof(v4mapped)) == 0)
		inet_ntop(AF_INET, addr + 12, buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
	return buf;
}

bool addr_is_v4(const uint8_t a[16])
{
	return !memcmp(a, v4mapped, sizeof(v4mapped));
}

void addr_from_v4(uint8_t addr[16], uint32_t v4)
{
	uint32_t be = htonl(v4);

	memcpy(addr, v4mapped, sizeof(v4mapped));
	memcpy(addr + 12, &be, 4);
}

bool parse_addr(const char *s, uint8_t addr[16])
{
	if (inet_pton(AF_INET, s, addr + 12) == 1) {
		memcpy(addr, v4mapped, sizeof(v4mapped));
		return true;
	}
	return inet_pton(AF_INET6, s, addr) == 1;
}

bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || !(v > 0) || v > PM_SECONDS_MAX)
		return false;
	*out = v;
	return true;
}

char *fmt_si(double v, char *buf, size_t len)
{
	static const char units[] = " kMGTP";
	int u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

void loop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGWINCH);	/* the view's resize */
}

int timerfd_after(double secs, bool periodic)
{
	struct itimerspec its = {};
	int fd, err;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	its.it_value.tv_sec = (time_t)secs;
	its.it_value.tv_nsec = (long)((secs - (time_t)secs) * 1e9);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	if (periodic)
		its.it_interval = its.it_value;
	if (timerfd_settime(fd, 0, &its, NULL)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

char *pm_esc(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = *s;
		size_t need = c == '\\' ? 2 : (c < 0x20 || c > 0x7e) ? 4 : 1;

		if (n + need + 4 > len) {	/* "..." and the NUL */
			memcpy(buf + n, "...", 3);
			n += 3;
			break;
		}
		if (need == 1) {
			buf[n++] = c;
		} else if (need == 2) {
			buf[n++] = '\\';
			buf[n++] = '\\';
		} else {
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 15];
		}
	}
	buf[n] = 0;
	return buf;
}

bool pid_alive(long pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}
