/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The files a user names for protomix: an output written atomically or
 * as a stream (-o, --pcap, top's export), an input judged before it is
 * read (a rules file, a snapshot). util.h includes it. */
#ifndef PM_FILES_H
#define PM_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

#endif
