/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reaching a running watch from another process: `protomix snapshot`,
 * `status` and `top` talk to it over an abstract unix socket named
 * "protomix/ctl/PID". Abstract sockets belong to the network namespace,
 * not to a filesystem, so this works between two `ip netns exec` calls
 * (each has its own mount namespace) and vanishes with the process.
 * Only root or the watch's own user may connect.
 *
 * The protocol: the client sends one request line ("snapshot", "status",
 * "maps", "alerts SEQ"), the watch answers with one JSON document and
 * closes. An answer may carry file descriptors (SCM_RIGHTS, with its
 * first bytes): "maps" passes the dests and stats maps to `protomix top`,
 * which then reads them itself with batch lookups instead of receiving
 * every destination as JSON.
 */
#ifndef PM_CONTROL_H
#define PM_CONTROL_H

#include <sys/types.h>
#include <json-c/json.h>

#define CTL_MAX_INSTANCES 64
#define CTL_MAX_FDS 8

/* Descriptors that travel with an answer. */
struct ctl_fds {
	int fd[CTL_MAX_FDS];
	int n;
};

/* The watch's side: a listening socket in the event loop. */
int ctl_listen(void);
/* Build the answer to a request line; NULL for an unknown request. The
 * handler may add descriptors to *fds (at most CTL_MAX_FDS): they go
 * with the answer and are closed after it, sent or not. */
typedef json_object *(*ctl_handler)(const char *request, struct ctl_fds *fds,
				    void *ctx);
/* Accept one client on the listening fd and answer it. */
void ctl_serve(int listen_fd, ctl_handler fn, void *ctx);

/* The client's side: the pids of the watches in this network namespace,
 * sorted. Returns how many (at most max), or -errno. */
int ctl_find(pid_t *pids, int max);
/* Pick the one watch to talk to: --pid, or the only one. On failure the
 * error is reported and the exit status returned (negated). */
int ctl_pick(pid_t want, pid_t *pid);
/* Send a request and parse the answer. NULL with the error reported. */
json_object *ctl_request(pid_t pid, const char *request);
/* The same, keeping the descriptors that came with the answer in *fds
 * (close-on-exec; the caller closes them). On failure *fds is empty. */
json_object *ctl_request_fds(pid_t pid, const char *request, struct ctl_fds *fds);

#endif
