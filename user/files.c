// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The files a user names (util.h, "files.c"): outputs, the stdout that
 * keeps its errors, inputs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util.h"

/* ---- output files ------------------------------------------------- */

/* Where the bytes of a FILE made by sink_open go: a descriptor, and the
 * first error write(2) gave (stdio's own flags lose errno). */
struct sink {
	int fd;
	int err;
};

static ssize_t sink_write(void *c, const char *buf, size_t n)
{
	struct sink *s = c;
	size_t done = 0;
	ssize_t r;

	while (!s->err && done < n) {
		r = write(s->fd, buf + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			s->err = r < 0 ? errno : EIO;
		else
			done += r;
	}
	if (s->err)
		errno = s->err;
	return done;	/* short: stdio sets the stream's error flag */
}

/* The descriptor stays open: its owner closes it (and checks close). */
static int sink_close(void *c)
{
	(void)c;
	return 0;
}

static FILE *sink_open(struct sink *s)
{
	static const cookie_io_functions_t io = { .write = sink_write,
						  .close = sink_close };

	return fopencookie(s, "w", io);
}

/* cb into a FILE on fd; 0 or -errno, the write error first: a full disk is
 * ENOSPC, not the EIO a callback says when it sees ferror(). fsync only
 * for a file (a device or a pipe has nothing to sync, /dev/null says
 * EINVAL). fd stays open. */
static int sink_run(int fd, bool sync, write_cb cb, void *ctx)
{
	struct sink s = { .fd = fd };
	FILE *f = sink_open(&s);
	int err, ferr = 0;

	if (!f)
		return -errno;
	err = cb(f, ctx);
	if (fflush(f))
		ferr = errno;
	if (ferror(f) && !ferr)
		ferr = EIO;
	fclose(f);	/* flushed already: this only frees it */
	if (s.err)
		return -s.err;
	if (err)
		return err;
	if (ferr)
		return -ferr;
	if (sync && fsync(fd))
		return -errno;
	return 0;
}

/* stdout itself, when it is not a terminal */
static struct sink stdout_sink = { .fd = STDOUT_FILENO };
static bool stdout_sunk;

void stdout_keep_errors(void)
{
	FILE *f;

	if (isatty(STDOUT_FILENO))
		return;
	f = sink_open(&stdout_sink);
	if (!f)
		return;
	stdout = f;
	stdout_sunk = true;
}

int stdout_close(void)
{
	int err = 0;

	errno = 0;
	if (fflush(stdout))
		err = errno ? errno : EIO;
	else if (ferror(stdout))
		err = EIO;
	if (stdout_sunk && stdout_sink.err)
		err = stdout_sink.err;	/* the first write's own */
	if (fclose(stdout) && !err && errno != EBADF)
		err = errno ? errno : EIO;
	/* (the sink leaves the descriptor to us; EBADF with nothing
	 * written: stdout was closed and stayed unused) */
	if (stdout_sunk && close(STDOUT_FILENO) && !err && errno != EBADF)
		err = errno;
	return err;
}

/* "-", /dev/stdout and /dev/stderr (and /dev/fd/1, /dev/fd/2) are the
 * process's own descriptors, not paths: 1, 2, or -1 for a path. */
static int output_std_fd(const char *path)
{
	if (!strcmp(path, "-") || !strcmp(path, "/dev/stdout") ||
	    !strcmp(path, "/dev/fd/1"))
		return STDOUT_FILENO;
	if (!strcmp(path, "/dev/stderr") || !strcmp(path, "/dev/fd/2"))
		return STDERR_FILENO;
	return -1;
}

static void say_symlink(const char *path)
{
	pm_err("%s: is a symbolic link: not followed (give the path of the file itself)",
	       path);
}

/* What lstat found at an output path: 0 (write it), or PM_OUT_REFUSED
 * with one line on stderr. A FIFO or socket is another process's reader:
 * it must be ours or root's (anybody can make one in /tmp and read what
 * we write); a device node only root can make. */
static int output_type_ok(const char *path, const struct stat *st)
{
	if (S_ISLNK(st->st_mode)) {
		say_symlink(path);
		return PM_OUT_REFUSED;
	}
	if (S_ISDIR(st->st_mode)) {
		pm_err("%s: is a folder: give a file name", path);
		return PM_OUT_REFUSED;
	}
	if ((S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode)) &&
	    st->st_uid != geteuid() && st->st_uid != 0) {
		pm_err("%s: is a %s of another user (uid %u): not written", path,
		       S_ISFIFO(st->st_mode) ? "FIFO" : "socket", (unsigned int)st->st_uid);
		return PM_OUT_REFUSED;
	}
	if (S_ISREG(st->st_mode) || S_ISCHR(st->st_mode) ||
	    S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode))
		return 0;
	pm_err("%s: is a %s: not written", path,
	       S_ISBLK(st->st_mode) ? "block device" : "special file");
	return PM_OUT_REFUSED;
}

bool output_is_std(const char *path)
{
	return output_std_fd(path) >= 0;
}

int output_status(int err)
{
	if (!err)
		return EXIT_OK;
	if (err == PM_OUT_REFUSED)
		return EXIT_USAGE;
	return EXIT_RUNTIME;
}

int output_check(const char *path)
{
	struct stat st;

	if (output_std_fd(path) >= 0)
		return 0;
	if (!*path) {
		pm_err("an empty file name");
		return EXIT_USAGE;
	}
	if (lstat(path, &st))
		return 0;	/* missing (or unreachable): the write says why */
	return output_status(output_type_ok(path, &st));
}

/* Standard output or error: what stdio holds first, then the content. A
 * reader that went away (EPIPE) is not an error. */
static int write_std(int fd, write_cb cb, void *ctx)
{
	FILE *std = fd == STDOUT_FILENO ? stdout : stderr;
	const char *name = fd == STDOUT_FILENO ? "standard output" : "standard error";
	int err = 0;

	if (fflush(std))
		err = -errno;
	if (!err)
		err = sink_run(fd, false, cb, ctx);
	if (!err || err == -EPIPE)
		return 0;
	if (err != PM_OUT_REPORTED)
		pm_err("writing %s: %s", name, strerror(-err));
	return err;
}

/* An existing device, FIFO or socket: opened as it is (no O_CREAT, no
 * O_TRUNC), and only if it is still the node lstat saw. */
static int write_stream(const char *path, const struct stat *st,
			write_cb cb, void *ctx)
{
	struct stat now;
	int fd, err;

	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		err = -errno;
		if (err == -ELOOP) {	/* became a symlink meanwhile */
			say_symlink(path);
			return PM_OUT_REFUSED;
		}
		pm_err("%s: cannot write: %s", path, strerror(-err));
		return err;
	}
	if (fstat(fd, &now) || now.st_dev != st->st_dev || now.st_ino != st->st_ino ||
	    (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		close(fd);
		pm_err("%s: changed while being opened: not written", path);
		return -EAGAIN;
	}
	err = sink_run(fd, false, cb, ctx);
	if (close(fd) && !err)
		err = -errno;
	if (err && err != PM_OUT_REPORTED)
		pm_err("%s: cannot write: %s", path, strerror(-err));
	return err;
}

/* Missing or a regular file: a temporary file of our own in the same
 * folder (O_EXCL|O_NOFOLLOW, mode 0600), then rename, which replaces the
 * directory entry whatever it became meanwhile and never follows it. */
static int write_atomic(const char *path, write_cb cb, void *ctx)
{
	const char *slash = strrchr(path, '/');
	char tmp[PATH_MAX];
	int fd, err, n;

	if (slash)
		n = snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX",
			     (int)(slash - path), path, slash + 1);
	else
		n = snprintf(tmp, sizeof(tmp), ".%s.XXXXXX", path);
	if (n < 0 || n >= (int)sizeof(tmp)) {
		pm_err("%s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* O_RDWR|O_CREAT|O_EXCL, mode 0600, by mkostemp */
	fd = mkostemp(tmp, O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		pm_err("%s: cannot write: %s", path, strerror(-err));
		return err;
	}
	err = sink_run(fd, true, cb, ctx);
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (!err)
		return 0;
	unlink(tmp);
	if (err == -EISDIR) {	/* a folder appeared there meanwhile */
		pm_err("%s: is a folder: give a file name", path);
		return PM_OUT_REFUSED;
	}
	if (err != PM_OUT_REPORTED)
		pm_err("%s: cannot write: %s", path, strerror(-err));
	return err;
}

int write_output(const char *path, write_cb cb, void *ctx)
{
	int fd = output_std_fd(path), err;
	struct stat st;

	if (fd >= 0)
		return write_std(fd, cb, ctx);
	if (!*path) {
		pm_err("an empty file name");
		return -ENOENT;
	}
	if (lstat(path, &st)) {
		if (errno != ENOENT) {
			err = -errno;
			pm_err("%s: cannot write: %s", path, strerror(-err));
			return err;
		}
		return write_atomic(path, cb, ctx);
	}
	err = output_type_ok(path, &st);
	if (err)
		return err;
	if (S_ISREG(st.st_mode))
		return write_atomic(path, cb, ctx);
	return write_stream(path, &st, cb, ctx);
}

/* ---- a FILE for a library that closes the FILE it is given ---------- */

static ssize_t noclose_write(void *c, const char *buf, size_t n)
{
	return fwrite(buf, 1, n, c);
}

static int noclose_close(void *c)
{
	(void)c;
	return 0;
}

FILE *fwrap_noclose(FILE *f)
{
	static const cookie_io_functions_t io = { .write = noclose_write,
						  .close = noclose_close };

	return fopencookie(f, "w", io);
}

/* --- input files -------------------------------------------------------------- */

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:	return "a folder";
	case S_IFIFO:	return "a FIFO";
	case S_IFCHR:	return "a character device";
	case S_IFBLK:	return "a block device";
	case S_IFSOCK:	return "a socket";
	default:	return "not a regular file";
	}
}

/* "16 MiB", "1 GiB" */
static const char *fmt_limit(uint64_t max, char *buf, size_t len)
{
	if (max >= (1ull << 30) && !(max & ((1ull << 30) - 1)))
		snprintf(buf, len, "%llu GiB", (unsigned long long)(max >> 30));
	else if (max >= (1ull << 20) && !(max & ((1ull << 20) - 1)))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(max >> 20));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)max);
	return buf;
}

static bool input_ok(const char *path, const char *what, const struct stat *st,
		     uint64_t max)
{
	char lim[32];

	if (!S_ISREG(st->st_mode)) {
		pm_err("%s: the %s is %s, not a regular file", path, what,
		       file_kind(st->st_mode));
		return false;
	}
	if ((uint64_t)st->st_size > max) {
		pm_err("%s: the %s has %llu bytes, more than the limit of %llu (%s)",
		       path, what, (unsigned long long)st->st_size,
		       (unsigned long long)max, fmt_limit(max, lim, sizeof(lim)));
		return false;
	}
	return true;
}

int input_open(const char *path, const char *what, uint64_t max, uint64_t *size)
{
	struct stat st, st2;
	char proc[64];
	int pfd, fd;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0 || fstat(pfd, &st)) {
		pm_err("%s: cannot read the %s: %s", path, what, strerror(errno));
		if (pfd >= 0)
			close(pfd);
		return -1;
	}
	if (!input_ok(path, what, &st, max)) {
		close(pfd);
		return -1;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)	/* no /proc: by name */
		fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	close(pfd);
	if (fd < 0) {
		pm_err("%s: cannot read the %s: %s", path, what, strerror(errno));
		return -1;
	}
	/* the very file judged, still a regular one */
	if (fstat(fd, &st2) || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino ||
	    !input_ok(path, what, &st2, max)) {
		if (st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
			pm_err("%s: the %s changed while being opened", path, what);
		close(fd);
		return -1;
	}
	*size = st2.st_size;
	return fd;
}

char *input_read(int fd, const char *path, const char *what, uint64_t size,
		 uint64_t max, size_t *len)
{
	size_t cap = size + 1, n = 0;	/* + 1: to see that it grew */
	char *buf = malloc(cap + 1), *more;
	ssize_t got;

	if (!buf) {
		pm_err("%s: out of memory for the %s", path, what);
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			cap = cap * 2 > max ? max + 1 : cap * 2;
			more = realloc(buf, cap + 1);
			if (!more) {
				pm_err("%s: out of memory for the %s", path, what);
				free(buf);
				return NULL;
			}
			buf = more;
		}
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			pm_err("%s: cannot read the %s: %s", path, what, strerror(errno));
			free(buf);
			return NULL;
		}
		if (!got)
			break;
		n += got;
	}
	if (n > max) {
		pm_err("%s: the %s grew past the limit of %llu bytes while being read",
		       path, what, (unsigned long long)max);
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}
