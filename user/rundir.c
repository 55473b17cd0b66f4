// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rundir.h"
#include "util.h"

static int cached_fd = -1;

const char *rundir_path(void)
{
	const char *p = getenv(RUNDIR_ENV);

	return p && p[0] ? p : RUNDIR_DEFAULT;
}

/* A folder only root can change: owned by root, no write for others. */
static bool root_only(const char *dir)
{
	struct stat st;

	return !lstat(dir, &st) && S_ISDIR(st.st_mode) && st.st_uid == 0 &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH));
}

/* The folder that holds path (path itself is not changed). */
static void parent_of(const char *path, char *buf, size_t len)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(buf, len, "%s", dirname(tmp));
}

/* 0 if the open folder fd is ours to use, or the
 * reason it is not in why. */
static int check_trust(int fd, const char **why)
{
	char real[PATH_MAX], parent[PATH_MAX], link[64];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		*why = "writable by group or others";
		return -EPERM;
	}
	if (st.st_uid == geteuid() || st.st_uid == 0)
		return 0;
	if (geteuid() != 0) {
		*why = "owned by another user";
		return -EPERM;
	}
	/* Root, a folder of another user: trusted if root gave it, i.e. it
	 * sits in a folder only root can write (systemd's RuntimeDirectory=
	 * of a service user, in /run). */
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n <= 0) {
		*why = "cannot be resolved";
		return -EPERM;
	}
	real[n] = 0;
	parent_of(real, parent, sizeof(parent));
	if (!root_only(parent)) {
		*why = "owned by another user, in a folder others can write";
		return -EPERM;
	}
	return 0;
}

int rundir_fd(bool create, bool quiet)
{
	const char *path = rundir_path(), *why = NULL;
	char parent[PATH_MAX];
	struct stat st;
	int fd, err;

	if (cached_fd >= 0)
		return cached_fd;
	if (path[0] != '/') {
		if (!quiet)
			pm_err("%s '%s': not an absolute path", RUNDIR_ENV, path);
		return -EINVAL;
	}
	if (create && mkdir(path, 0700) && errno != EEXIST) {
		err = -errno;
		if (!quiet)
			pm_err("cannot create the run folder %s: %s%s", path,
			       strerror(-err), err == -EACCES ?
			       " (run as root, or set RuntimeDirectory=protomix in the unit)" : "");
		return err;
	}
	/* A symlink is followed only where nobody but root could have
	 * placed it. */
	if (!lstat(path, &st) && S_ISLNK(st.st_mode)) {
		parent_of(path, parent, sizeof(parent));
		if (!root_only(parent)) {
			if (!quiet)
				pm_err("the run folder %s is a symlink in a folder others can write: not used",
				       path);
			return -EPERM;
		}
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (!quiet)
			pm_err("cannot open the run folder %s: %s", path, strerror(-err));
		return err;
	}
	err = check_trust(fd, &why);
	if (err) {
		if (!quiet)
			pm_err("the run folder %s is %s: not used (remove it, or make it root's with mode 0700)",
			       path, why ? why : strerror(-err));
		close(fd);
		return err;
	}
	cached_fd = fd;
	return fd;
}

uint64_t netns_id(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

int rundir_lock(const char *name, int *holder)
{
	struct stat st, at;
	char buf[32];
	ssize_t n;
	int dfd, fd, err, tries;

	*holder = 0;
	dfd = rundir_fd(true, false);
	if (dfd < 0)
		return dfd;
	for (tries = 0; tries < 100; tries++) {
		fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = -errno;
			pm_err("cannot open the lock %s/%s: %s", rundir_path(), name,
			       strerror(-err));
			return err;
		}
		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			pm_err("the lock %s/%s is not a regular file", rundir_path(), name);
			close(fd);
			return -EPERM;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			err = errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = 0;
				*holder = atoi(buf);
			}
			close(fd);
			if (err != -EADDRINUSE)
				pm_err("cannot take the lock %s/%s: %s", rundir_path(),
				       name, strerror(-err));
			return err;
		}
		/* The holder before us removes the file as it lets go: ours
		 * only if the name still leads to the file we locked. */
		if (!fstatat(dfd, name, &at, AT_SYMLINK_NOFOLLOW) &&
		    at.st_dev == st.st_dev && at.st_ino == st.st_ino)
			break;
		close(fd);
	}
	if (tries == 100) {
		pm_err("cannot take the lock %s/%s: it keeps changing", rundir_path(), name);
		return -EAGAIN;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n)
		pm_dbg("cannot write our pid into the lock %s: %s", name,
		       strerror(errno));
	return fd;
}

void rundir_unlock(const char *name, int fd)
{
	int dfd = rundir_fd(false, true);

	if (fd < 0)
		return;
	/* removed while held: whoever opened it meanwhile finds, once it
	 * has the lock, that the name leads elsewhere, and tries again */
	if (dfd >= 0)
		unlinkat(dfd, name, 0);
	close(fd);
}
