/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Small helpers every command uses: errors, verbosity, clocks, address
 * formatting (util.c); the files a user names, written atomically or as
 * streams, and read after a look at what they are (files.c). */
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
/* The key address of the IPv4 address v4 (host order): ::ffff:a.b.c.d. */
void addr_from_v4(uint8_t addr[16], uint32_t v4);
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

/* --- files.c: the files a user names, written and read -------------- */

/* Write what a command was given a file name for (-o, --pcap, top's
 * export); write_cb writes the content into f (and may return -errno).
 *  - "-" and /dev/stdout (/dev/fd/1) are standard output, /dev/stderr
 *    (/dev/fd/2) standard error: written there (a reader gone is no error);
 *  - missing, or a regular file: atomically, a temporary file in the same
 *    folder (O_EXCL|O_NOFOLLOW, mode 0600), then rename; on any failure the
 *    temporary file is removed and nothing is left at path;
 *  - an existing character device, FIFO or socket: opened as it is
 *    (O_WRONLY|O_NOFOLLOW, never created, truncated or replaced) and
 *    written as a stream;
 *  - a symbolic link (never followed, never replaced), a folder, a block
 *    device, a FIFO or socket of another user (but root): refused.
 * Returns 0, PM_OUT_REFUSED, or -errno, with one line on stderr naming
 * path and the reason (the write's own errno: ENOSPC on a full disk);
 * output_status() turns it into an exit status. */
#define PM_OUT_REFUSED	(-4096)	/* not an errno */
/* What a write_cb returns when what it wrote from failed (not the
 * output), with the error already reported: nothing is left, nothing
 * more is said. */
#define PM_OUT_REPORTED	(-4097)
typedef int (*write_cb)(FILE *f, void *ctx);
int write_output(const char *path, write_cb cb, void *ctx);
/* write_output's result as an exit status: 0, EXIT_USAGE for a refused
 * target (PM_OUT_REFUSED), EXIT_RUNTIME for any other failure. */
int output_status(int err);
/* The refusals of write_output before anything is done (a command checks
 * its outputs before it starts): 0, or EXIT_USAGE with one line on
 * stderr. A missing file or folder is left to the write. */
int output_check(const char *path);
/* Make stdout a stream that keeps the errno of its first failed write
 * (stdio drops what it could not write, and with it the reason, so a
 * later flush would only see the error flag). Not on a terminal, where
 * the live view hands stdout's descriptor to curses. First thing in main. */
void stdout_keep_errors(void);
/* Flush and close stdout: 0, or the errno of the first write that failed
 * (EPIPE: the reader went away). */
int stdout_close(void);
/* "-", /dev/stdout, /dev/stderr: a descriptor of ours, not a path. */
bool output_is_std(const char *path);
/* A stream that writes into f and whose fclose leaves f open, for a
 * library that closes the FILE it is given (pcap_dump_close). NULL and
 * errno on failure. */
FILE *fwrap_noclose(FILE *f);

/* --- util.c ------------------------------------------------------------ */

/* The signals a command's event loop takes through a signalfd: SIGINT,
 * SIGTERM, SIGHUP and SIGWINCH. */
void loop_signals(sigset_t *mask);
/* A CLOCK_MONOTONIC timerfd firing after secs (and every secs if
 * periodic). The fd, or -errno. */
int timerfd_after(double secs, bool periodic);

/* --- files.c ----------------------------------------------------------- */

/* A file the user names for protomix to read (a rules file, a snapshot),
 * which another user may have made: a regular file (a symlink to one is
 * followed) of at most max bytes. It is judged through an O_PATH
 * descriptor, which opens nothing (a FIFO does not block, a device is not
 * opened), then that very inode is opened for reading. The fd and its
 * size in *size, or -1 with one line on stderr naming path and what the
 * file is for: "rules.conf: the rules file is a FIFO, not a regular
 * file". */
int input_open(const char *path, const char *what, uint64_t max, uint64_t *size);
/* The whole of an input_open'ed file of size bytes, NUL-terminated; one
 * that grew past max meanwhile is refused, not read on. NULL with the
 * reason on stderr. */
char *input_read(int fd, const char *path, const char *what, uint64_t size,
		 uint64_t max, size_t *len);

/* --- util.c ------------------------------------------------------------ */

/* A process with this pid exists (ours to signal or not). */
bool pid_alive(long pid);

/* Human units: 1234567 -> "1.2M". */
char *fmt_si(double v, char *buf, size_t len);

#endif
