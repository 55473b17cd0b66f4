/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The run folder: where a watch keeps what must not be claimable by other
 * local users, its control socket and its interface locks.
 *
 * It is /run/protomix (or $PROTOMIX_RUNDIR, e.g. a systemd unit's
 * RuntimeDirectory), mode 0700, so only its owner and root can create,
 * bind or connect in it. Abstract unix names, which protomix used before,
 * belong to anyone in the network namespace: an unprivileged user could
 * bind them first and stop every watch from starting.
 *
 * The folder is trusted only when it is a real folder not writable by
 * group or others, owned by us or by root, or (for root) by another user
 * but inside a folder only root can write (/run: the owner was given it
 * by root, as systemd's RuntimeDirectory= does for a service user).
 * Everything inside is reached relative to its descriptor, never through
 * a symlink.
 *
 *   ctl.PID                 a watch's control socket (SOCK_STREAM)
 *   if.NETNS.IFINDEX        an interface lock (flock; holds the pid;
 *                           removed by its holder as it lets go)
 */
#ifndef PM_RUNDIR_H
#define PM_RUNDIR_H

#include <stdbool.h>
#include <stdint.h>

#define RUNDIR_DEFAULT	"/run/protomix"
#define RUNDIR_ENV	"PROTOMIX_RUNDIR"

/* The run folder's path ($PROTOMIX_RUNDIR or /run/protomix). */
const char *rundir_path(void);

/* A descriptor of the run folder (O_DIRECTORY|O_CLOEXEC), created (0700)
 * if create and missing. -errno if it cannot be used; unless quiet, the
 * reason is reported in one line (-EPERM: exists but is not to be
 * trusted). Cached: the same descriptor for the whole process. */
int rundir_fd(bool create, bool quiet);

/* The inode number of our network namespace (/proc/self/ns/net): names
 * of per-namespace objects in the run folder carry it. */
uint64_t netns_id(void);

/* Take the lock NAME in the run folder (flock, not blocking) and write
 * our pid into it. The fd to keep, -EADDRINUSE if a live process holds
 * it (*holder: its pid, or 0 if unknown), or -errno (reported). */
int rundir_lock(const char *name, int *holder);
/* Let go of a lock rundir_lock gave, removing its file (nothing is left
 * in the run folder by a watch that exits). */
void rundir_unlock(const char *name, int fd);

#endif
