// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The watch's side of the control socket (control.h): the server in
 * the watch's event loop. The client's side is control_client.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include "control.h"
#include "rundir.h"
#include "util.h"

/* Where the watch with this pid listens: RUNDIR/ctl.PID. The length of
 * the address, or 0 if the path does not fit. */
socklen_t ctl_addr(pid_t pid, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/ctl.%d",
		     rundir_path(), (int)pid);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return 0;
	return offsetof(struct sockaddr_un, sun_path) + n + 1;
}

/* The sockets of killed watches: ctl.PID with PID gone. Only sockets, by
 * name, relative to the run folder: nothing else is touched. */
static void remove_stale_sockets(int dfd)
{
	struct dirent *de;
	struct stat st;
	char *end;
	long pid;
	DIR *d;
	int fd = dup(dfd);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "ctl.", 4))
			continue;
		pid = strtol(de->d_name + 4, &end, 10);
		if (*end || pid <= 0 || pid_alive(pid))
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISSOCK(st.st_mode))
			continue;
		if (!unlinkat(dfd, de->d_name, 0))
			pm_dbg("removed the control socket of a killed watch (%s)",
			       de->d_name);
	}
	closedir(d);
}

enum conn_state { CONN_FREE, CONN_READ, CONN_WRITE };

struct ctl_conn {
	enum conn_state state;
	int fd;
	uid_t uid;
	uint64_t deadline_ns;
	char in[CTL_REQUEST_MAX];
	size_t nin;
	char *out;		/* the answer, being written */
	size_t nout, off;
	struct ctl_fds fds;	/* go with the first byte */
};

struct ctl_server {
	int lfd;		/* listening */
	int ep;			/* lfd, every connection, tfd */
	int tfd;		/* deadlines: ticks while a client is open */
	bool ticking;
	int nconn;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler fn;
	void *ctx;
	struct ctl_conn conn[CTL_MAX_CONNS];
};

void close_fds(struct ctl_fds *fds)
{
	for (int i = 0; i < fds->n; i++)
		close(fds->fd[i]);
	fds->n = 0;
}

/* Ticks every 100 ms while any client is open, for the deadlines. */
static void set_ticking(struct ctl_server *s, bool on)
{
	struct itimerspec its = {};

	if (s->ticking == on)
		return;
	if (on)
		its.it_value.tv_nsec = its.it_interval.tv_nsec = 100 * 1000000L;
	timerfd_settime(s->tfd, 0, &its, NULL);
	s->ticking = on;
}

static void conn_close(struct ctl_server *s, struct ctl_conn *c)
{
	if (c->state == CONN_FREE)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	close_fds(&c->fds);
	free(c->out);
	*c = (struct ctl_conn){ .state = CONN_FREE, .fd = -1 };
	if (--s->nconn == 0)
		set_ticking(s, false);
}

json_object *ctl_error_json(const char *why)
{
	json_object *o = json_object_new_object();

	if (o)
		json_object_object_add(o, "error", json_object_new_string(why));
	return o;
}

struct ctl_server *ctl_server_open(ctl_handler fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ctl_server *s;
	struct sockaddr_un sa;
	socklen_t len;
	char name[32];
	int dfd;

	dfd = rundir_fd(true, false);
	if (dfd < 0)
		return NULL;
	len = ctl_addr(getpid(), &sa);
	if (!len) {
		pm_err("the run folder %s is too long a path for a unix socket",
		       rundir_path());
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		pm_err("out of memory");
		return NULL;
	}
	s->fn = fn;
	s->ctx = ctx;
	s->lfd = s->ep = s->tfd = -1;
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		s->conn[i].fd = -1;
	remove_stale_sockets(dfd);
	/* a socket of an earlier process with our pid: not a live one */
	snprintf(name, sizeof(name), "ctl.%d", (int)getpid());
	unlinkat(dfd, name, 0);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, len))
		goto fail;
	snprintf(s->path, sizeof(s->path), "%s", sa.sun_path);
	if (listen(s->lfd, 64))
		goto fail;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->ep < 0 || s->tfd < 0)
		goto fail;
	ev.data.ptr = &s->lfd;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev))
		goto fail;
	ev.data.ptr = &s->tfd;
	if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->tfd, &ev))
		goto fail;
	return s;
fail:
	pm_err("cannot open the control socket %s: %s", sa.sun_path, strerror(errno));
	ctl_server_close(s);
	return NULL;
}

int ctl_server_fd(const struct ctl_server *s)
{
	return s->ep;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		conn_close(s, &s->conn[i]);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->path[0])
		unlink(s->path);
	if (s->ep >= 0)
		close(s->ep);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s);
}

/* Peers we answer: root and the watch's own user. */
static bool peer_trusted(uid_t uid)
{
	return uid == 0 || uid == getuid() || uid == geteuid();
}

static void accept_all(struct ctl_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct ucred cred;
	socklen_t clen;
	struct ctl_conn *c;
	int fd, same;

	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;		/* EAGAIN: all taken; errors: next time */
		clen = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
		    !peer_trusted(cred.uid)) {
			pm_dbg("control: refused a client of uid %d (pid %d)",
			       (int)cred.uid, (int)cred.pid);
			close(fd);	/* before reading anything */
			continue;
		}
		same = 0;
		c = NULL;
		for (int i = 0; i < CTL_MAX_CONNS; i++) {
			if (s->conn[i].state == CONN_FREE)
				c = c ? c : &s->conn[i];
			else if (s->conn[i].uid == cred.uid)
				same++;
		}
		if (!c || same >= CTL_PER_UID) {
			pm_dbg("control: too many clients (uid %d has %d)",
			       (int)cred.uid, same);
			send(fd, "{\"error\":\"busy: too many clients\"}\n", 35,
			     MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		*c = (struct ctl_conn){ .state = CONN_READ, .fd = fd,
					.uid = cred.uid,
					.deadline_ns = now_mono_ns() +
						       CTL_REQUEST_MS * 1000000ull };
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			*c = (struct ctl_conn){ .fd = -1 };
			continue;
		}
		if (s->nconn++ == 0)
			set_ticking(s, true);
	}
}

/* The first byte of the answer with the descriptors attached. */
static ssize_t send_fds(int fd, const char *buf, const struct ctl_fds *fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = u.buf,
			      .msg_controllen = CMSG_SPACE(sizeof(int) * fds->n) };
	struct cmsghdr *cm;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * fds->n);
	memcpy(CMSG_DATA(cm), fds->fd, sizeof(int) * fds->n);
	return sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Write what the socket takes; close when all is written. */
static void conn_write(struct ctl_server *s, struct ctl_conn *c)
{
	ssize_t n;

	while (c->off < c->nout) {
		if (c->fds.n) {
			n = send_fds(c->fd, c->out, &c->fds);
			if (n == 1)
				close_fds(&c->fds);
		} else {
			n = send(c->fd, c->out + c->off, c->nout - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;		/* EPOLLOUT brings us back */
		if (n <= 0) {
			conn_close(s, c);	/* the client went away */
			return;
		}
		c->off += n;
	}
	conn_close(s, c);
}

static void conn_answer(struct ctl_server *s, struct ctl_conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	struct ctl_req req = { .line = c->in, .fd = c->fd };
	json_object *answer;
	const char *text;
	size_t len;

	answer = s->fn(&req, s->ctx);
	if (req.taken) {
		json_object_put(answer);
		close_fds(&req.fds);
		conn_close(s, c);
		return;
	}
	if (!answer) {
		close_fds(&req.fds);
		answer = ctl_error_json("unknown request");
	}
	text = json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	c->out = malloc(len + 1);
	if (!c->out) {
		json_object_put(answer);
		close_fds(&req.fds);
		conn_close(s, c);
		return;
	}
	memcpy(c->out, text, len);
	c->out[len] = '\n';
	c->nout = len + 1;
	c->off = 0;
	c->fds = req.fds;
	json_object_put(answer);
	c->state = CONN_WRITE;
	c->deadline_ns = now_mono_ns() + CTL_ANSWER_MS * 1000000ull;
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	conn_write(s, c);
}

static void conn_read(struct ctl_server *s, struct ctl_conn *c)
{
	char *nl;
	ssize_t n;

	for (;;) {
		n = read(c->fd, c->in + c->nin, sizeof(c->in) - 1 - c->nin);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {		/* gone before a whole request */
			conn_close(s, c);
			return;
		}
		c->nin += n;
		c->in[c->nin] = 0;
		nl = memchr(c->in, '\n', c->nin);
		if (nl) {
			*nl = 0;
			c->in[strcspn(c->in, "\r")] = 0;
			conn_answer(s, c);
			return;
		}
		if (c->nin == sizeof(c->in) - 1) {
			pm_dbg("control: a request line longer than %d bytes",
			       CTL_REQUEST_MAX - 1);
			conn_close(s, c);
			return;
		}
	}
}

static void expire(struct ctl_server *s)
{
	uint64_t now = now_mono_ns(), ticks;

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		if (s->conn[i].state != CONN_FREE && now >= s->conn[i].deadline_ns) {
			pm_dbg("control: a client of uid %d too slow: closed",
			       (int)s->conn[i].uid);
			conn_close(s, &s->conn[i]);
		}
}

void ctl_server_run(struct ctl_server *s)
{
	struct epoll_event evs[CTL_MAX_CONNS + 2];
	int n;

	n = epoll_wait(s->ep, evs, CTL_MAX_CONNS + 2, 0);
	for (int i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;
		struct ctl_conn *c = p;

		if (p == &s->lfd)
			accept_all(s);
		else if (p == &s->tfd)
			expire(s);
		else if (c->state == CONN_READ)
			conn_read(s, c);
		else if (c->state == CONN_WRITE)
			conn_write(s, c);
	}
}
