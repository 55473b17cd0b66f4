/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reaching a running watch from another process: `protomix snapshot`,
 * `status` and `top` talk to it over a unix socket RUNDIR/ctl.PID in the
 * run folder (rundir.h, /run/protomix, mode 0700): only root and the
 * watch's own user can reach it, and no other local user can take its
 * name. `ip netns exec` keeps /run, so this works between two of them;
 * a client lists the watches of its own network namespace from
 * /proc/net/unix. A killed watch's socket file is removed by the next.
 *
 * The watch never waits for a client: connections are non-blocking and
 * kept in the server's own epoll set; a peer that is not root or the
 * watch's user is closed at accept, before anything is read; each user
 * has at most CTL_PER_UID connections open and a request line must come
 * within CTL_REQUEST_MS; an answer that cannot be written within
 * CTL_ANSWER_MS is given up.
 *
 * The protocol: the client sends one request line ("snapshot", "snapshot
 * pretty", "status", "maps LAYOUT", "alerts SEQ"), the watch answers with
 * one JSON document and a newline, and closes; a refusal is {"error":"..."}.
 * "snapshot" carries the evidence and is written in one line; "snapshot
 * pretty" is the snapshot as `protomix snapshot` prints it (indented, no
 * evidence), which the client passes on without parsing it. An answer
 * may carry file descriptors (SCM_RIGHTS, with its first bytes): "maps
 * LAYOUT" (user/maps.h, DM_LAYOUT) passes the dests and stats maps to `protomix top`,
 * which then reads them itself with batch lookups instead of receiving
 * every destination as JSON.
 */
#ifndef PM_CONTROL_H
#define PM_CONTROL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <json-c/json.h>

#define CTL_MAX_INSTANCES 64
#define CTL_MAX_FDS 8

/* Descriptors that travel with an answer. */
struct ctl_fds {
	int fd[CTL_MAX_FDS];
	int n;
};
/* Close every one of them; fds is empty then. */
void close_fds(struct ctl_fds *fds);

#define CTL_MAX_CONNS	32	/* open at once, all users */
#define CTL_PER_UID	8	/* open at once, one user */
#define CTL_REQUEST_MS	1000	/* from accept to the request line */
#define CTL_ANSWER_MS	10000	/* to write an answer */
#define CTL_REQUEST_MAX	256	/* bytes in a request line */

/* A request, as the handler sees it. */
struct ctl_req {
	const char *line;	/* "snapshot", "status", "maps 2", ... */
	int fd;			/* the connection (non-blocking) */
	bool taken;		/* the handler answers on fd itself (e.g. a
				 * child process writes it): the server
				 * closes its copy and forgets the client */
	struct ctl_fds fds;	/* descriptors to send with the answer
				 * (closed after it, sent or not) */
};

/* The answer to a request; NULL for an unknown request (unless taken). */
typedef json_object *(*ctl_handler)(struct ctl_req *req, void *ctx);

/* A refusal, {"error": why}; the client reports why (NULL: out of
 * memory). */
json_object *ctl_error_json(const char *why);

/* Where the watch with this pid listens: RUNDIR/ctl.PID into *sa. The
 * length of the address, or 0 if the path does not fit. Both sides use it
 * (control.c, control_client.c). */
socklen_t ctl_addr(pid_t pid, struct sockaddr_un *sa);

struct ctl_server;
/* The watch's side (control.c): bind RUNDIR/ctl.PID (removing the sockets of killed
 * watches), listen. NULL with the error reported. */
struct ctl_server *ctl_server_open(ctl_handler fn, void *ctx);
/* A descriptor for the event loop: readable when the server has work. */
int ctl_server_fd(const struct ctl_server *s);
/* Do what is ready (accept, read, answer, expire); never blocks. */
void ctl_server_run(struct ctl_server *s);
/* Close every connection and the socket; remove its file. */
void ctl_server_close(struct ctl_server *s);

/* The client's side (control_client.c): the pids of the watches in this network namespace,
 * sorted. Returns how many (at most max), or -errno. */
int ctl_find(pid_t *pids, int max);
/* Pick the one watch to talk to: --pid, or the only one. On failure the
 * error is reported and the exit status returned (EXIT_RUNTIME; EXIT_USAGE
 * when several run and none was chosen). */
int ctl_pick(pid_t want, pid_t *pid);
/* Send a request and parse the answer. NULL with the error reported. */
json_object *ctl_request(pid_t pid, const char *request);
/* The same, keeping the descriptors that came with the answer in *fds
 * (close-on-exec; the caller closes them). On failure *fds is empty. */
json_object *ctl_request_fds(pid_t pid, const char *request, struct ctl_fds *fds);
/* ctl_request, the error not reported but written to why (len bytes),
 * for a caller that may have a better thing to say (the watch ended). */
json_object *ctl_request_held(pid_t pid, const char *request, char *why,
			      size_t len);
/* An answer passed on as the watch writes it (a JSON document and "\n"),
 * unparsed and never whole in memory: "snapshot pretty". */
struct ctl_stream {
	int fd;
	pid_t pid;
	size_t n;		/* bytes in first */
	char first[4096];	/* the answer's first bytes */
};
/* Send the request and read the answer's first bytes: 0, or -1 with the
 * error reported (a refusal, no answer). */
int ctl_stream_open(pid_t pid, const char *request, struct ctl_stream *st);
/* Copy the whole answer to f: 0; PM_OUT_REPORTED (util.h) if it broke or
 * was cut short (reported); -EIO if a write to f failed. */
int ctl_stream_copy(struct ctl_stream *st, FILE *f);
void ctl_stream_close(struct ctl_stream *st);

#endif
