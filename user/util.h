/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small helpers every command uses: errors, verbosity, clocks, address
 * formatting and atomic file writes. */
#ifndef PM_UTIL_H
#define PM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <signal.h>
#include <time.h>

/*
 * The error convention of user/:
 * - a command (cmd_*, commands.h) and what parses its options returns
 *   the process's exit status: EXIT_OK, EXIT_RUNTIME or EXIT_USAGE, with
 *   the error already reported on stderr (one line, pm_err);
 * - a library function returns 0 or -errno (a count or an fd when it
 *   has one to give, >= 0), and says in its contract whether it reported
 *   the error itself;
 * - a predicate returns bool; a constructor returns NULL on failure.
 * Where a function of the loader returns an exit status (observer_open,
 * ruleset_build, ctl_pick, ...), its contract says so.
 */
/* Exit statuses (docs/README.md, "Conventions"). */
#define EXIT_OK		0
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

extern int pm_verbose;

/* One line on stderr, prefixed "protomix: ". */
void pm_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like pm_err, only with -v. */
void pm_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route libbpf's messages through pm_dbg (silent unless -v). */
void pm_libbpf_quiet(void);

uint64_t now_mono_ns(void);
/* Wall-clock nanoseconds for a CLOCK_MONOTONIC(_COARSE) value. */
uint64_t mono_to_real_ns(uint64_t mono_ns);
/* "2026-11-27T11:51:03.852511Z" into buf (at least 32 bytes). */
char *fmt_time(uint64_t real_ns, char *buf, size_t len);

/* A 16-byte key address (IPv4 mapped as ::ffff:a.b.c.d) as text. */
char *fmt_addr(const uint8_t addr[16], char *buf, size_t len);
/* The key address is an IPv4 one (mapped: ::ffff:a.b.c.d). */
bool addr_is_v4(const uint8_t addr[16]);
/* Parse "10.20.0.80" or "2001:db8::1" into the 16-byte form. */
bool parse_addr(const char *s, uint8_t addr[16]);

/* "Busiest first", the order of every list of destinations: -1 if a
 * count of a goes before b's (it is larger), 1 if after, 0 on a tie (the
 * caller then orders by address). */
static inline int cmp_busier(uint64_t a, uint64_t b)
{
	return a == b ? 0 : a > b ? -1 : 1;
}

/* Parse a non-negative decimal integer in [min, max]. */
bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* The longest period any option takes, in seconds: a day. */
#define PM_SECONDS_MAX	86400
/* The shortest --interval of watch and top, in seconds. */
#define PM_INTERVAL_MIN	0.1
/* Parse seconds: "1", "0.5": a finite number > 0 and at most
 * PM_SECONDS_MAX (nan, inf, 0, negatives and more than a day fail). */
bool parse_seconds(const char *s, double *out);

/* Input quoted in a message, made safe for a terminal or a log: every
 * byte outside printable ASCII as \xNN, a backslash as \\. Into buf (len
 * >= 4); cut with "..." when it does not fit. Returns buf. */
char *pm_esc(const char *s, char *buf, size_t len);
/* Room for the escape of n bytes of input. */
#define PM_ESC_LEN(n)	(4 * (n) + 4)

/* The signals a command's event loop takes through a signalfd: SIGINT,
 * SIGTERM, SIGHUP and SIGWINCH. */
void loop_signals(sigset_t *mask);
/* A CLOCK_MONOTONIC timerfd firing after secs (and every secs if
 * periodic). The fd, or -errno. */
int timerfd_after(double secs, bool periodic);

/* A process with this pid exists (ours to signal or not). */
bool pid_alive(long pid);

/* Human units: 1234567 -> "1.2M". */
char *fmt_si(double v, char *buf, size_t len);

/* The files a user names: written (write_output) and read (input_open). */
#include "files.h"

#endif
