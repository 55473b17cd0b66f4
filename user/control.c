// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "control.h"
#include "util.h"

#define CTL_PREFIX "protomix/ctl/"

static socklen_t ctl_addr(pid_t pid, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	/* sun_path[0] = 0: the abstract namespace */
	return offsetof(struct sockaddr_un, sun_path) + 1 +
	       snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1,
			CTL_PREFIX "%d", (int)pid);
}

int ctl_listen(void)
{
	struct sockaddr_un sa;
	socklen_t len = ctl_addr(getpid(), &sa);
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) || listen(fd, 8)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static void set_timeouts(int fd, int secs)
{
	struct timeval tv = { .tv_sec = secs };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		/* MSG_NOSIGNAL: a peer that went away is an error, not a
		 * SIGPIPE that kills us */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/* The first byte of the answer with the descriptors attached. */
static int send_fds(int fd, const char *buf, const struct ctl_fds *fds)
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
	ssize_t n;

	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * fds->n);
	memcpy(CMSG_DATA(cm), fds->fd, sizeof(int) * fds->n);
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -errno;
}

static void close_fds(struct ctl_fds *fds)
{
	for (int i = 0; i < fds->n; i++)
		close(fds->fd[i]);
	fds->n = 0;
}

void ctl_serve(int lfd, ctl_handler fn, void *ctx)
{
	struct ctl_fds fds = {};
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char req[64];
	size_t n = 0;
	ssize_t r;
	json_object *answer;
	const char *text;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	set_timeouts(fd, 2);
	/* Read the request even from a client we refuse: closing with
	 * unread data would reset the connection and lose the refusal. */
	while (n < sizeof(req) - 1) {
		r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			break;
		n += r;
		if (memchr(req, '\n', n))
			break;
	}
	req[n] = 0;
	req[strcspn(req, "\r\n")] = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
	    (cred.uid != 0 && cred.uid != getuid())) {
		write_all(fd, "{\"error\":\"permission denied\"}\n", 30);
		shutdown(fd, SHUT_WR);
		close(fd);
		return;
	}
	answer = fn(req, &fds, ctx);
	if (!answer) {
		close_fds(&fds);
		answer = json_object_new_object();
		json_object_object_add(answer, "error",
				       json_object_new_string("unknown request"));
	}
	text = json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	set_timeouts(fd, 10);
	if (!fds.n || !send_fds(fd, text, &fds)) {
		if (fds.n)
			text++;		/* the first byte went with the fds */
		write_all(fd, text, strlen(text));
		write_all(fd, "\n", 1);
	}
	close_fds(&fds);
	json_object_put(answer);
	close(fd);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int ctl_find(pid_t *pids, int max)
{
	char line[512], *at;
	int n = 0, pid;
	FILE *f;

	/* /proc/net/unix lists the sockets of our network namespace;
	 * abstract names show with a leading '@'. */
	f = fopen("/proc/net/unix", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		at = strstr(line, " @" CTL_PREFIX);
		if (!at || sscanf(at + 2 + strlen(CTL_PREFIX), "%d", &pid) != 1)
			continue;
		/* a listening socket appears once; connections would repeat */
		bool seen = false;
		for (int i = 0; i < n; i++)
			seen |= pids[i] == pid;
		if (!seen)
			pids[n++] = pid;
	}
	fclose(f);
	qsort(pids, n, sizeof(*pids), cmp_pid);
	return n;
}

int ctl_pick(pid_t want, pid_t *pid)
{
	pid_t pids[CTL_MAX_INSTANCES];
	int n = ctl_find(pids, CTL_MAX_INSTANCES);

	if (n < 0) {
		pm_err("cannot list unix sockets: %s", strerror(-n));
		return -EXIT_RUNTIME;
	}
	for (int i = 0; want && i < n; i++)
		if (pids[i] == want) {
			*pid = want;
			return 0;
		}
	if (want) {
		pm_err("no protomix watch with pid %d in this network namespace",
		       (int)want);
		return -EXIT_RUNTIME;
	}
	if (n == 0) {
		pm_err("no protomix watch is running in this network namespace (start one with `protomix watch IFACE`)");
		return -EXIT_RUNTIME;
	}
	if (n > 1) {
		char list[256] = "";
		size_t len = 0;

		for (int i = 0; i < n && len < sizeof(list); i++)
			len += snprintf(list + len, sizeof(list) - len, "%s%d",
					i ? ", " : "", (int)pids[i]);
		pm_err("%d protomix watches are running (pids %s): choose one with --pid",
		       n, list);
		return -EXIT_USAGE;
	}
	*pid = pids[0];
	return 0;
}

/* Keep the descriptors a message carried (up to CTL_MAX_FDS; the
 * rest closed). */
static void take_fds(struct msghdr *msg, struct ctl_fds *fds)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		int n, *in;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		in = (int *)CMSG_DATA(cm);
		for (int i = 0; i < n; i++) {
			if (fds->n < CTL_MAX_FDS)
				fds->fd[fds->n++] = in[i];
			else
				close(in[i]);
		}
	}
}

/* A watch run as a service user holds CAP_BPF (it loaded the programs);
 * a process that merely took a watch's socket name does not. */
static bool has_cap_bpf(pid_t pid)
{
	unsigned long long caps = 0;
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps & (1ull << 39);	/* CAP_BPF */
}

json_object *ctl_request_fds(pid_t pid, const char *request, struct ctl_fds *fds)
{
	struct sockaddr_un sa;
	socklen_t len = ctl_addr(pid, &sa);
	struct ctl_fds got = {};
	json_object *o, *err;
	char *buf = NULL;
	size_t size = 0, cap = 0;
	ssize_t n;
	int fd;

	if (fds)
		fds->n = 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len)) {
		pm_err("cannot reach the protomix watch with pid %d: %s",
		       (int)pid, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	/* Anyone in the namespace can bind an abstract name: talk only to
	 * the process the name says, run by root or by us. */
	{
		struct ucred cred;
		socklen_t clen = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
		    cred.pid != pid ||
		    (cred.uid != 0 && cred.uid != getuid() && !has_cap_bpf(pid))) {
			pm_err("the socket of pid %d is not a protomix watch to trust (held by pid %d, uid %d)",
			       (int)pid, (int)cred.pid, (int)cred.uid);
			close(fd);
			return NULL;
		}
	}
	set_timeouts(fd, 30);
	if (write_all(fd, request, strlen(request)) || write_all(fd, "\n", 1))
		goto io_error;
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
			struct cmsghdr align;
		} u;
		struct iovec iov;
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = u.buf,
				      .msg_controllen = sizeof(u.buf) };

		if (cap - size < 65536) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 1 << 20);

			if (!nb)
				goto io_error;
			buf = nb;
		}
		iov = (struct iovec){ .iov_base = buf + size,
				      .iov_len = cap - size - 1 };
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto io_error;
		take_fds(&msg, &got);
		if (n == 0)
			break;
		size += n;
	}
	close(fd);
	if (!buf)
		goto bad;
	buf[size] = 0;
	o = json_tokener_parse(buf);
	free(buf);
	if (!o)
		goto bad;
	if (json_object_object_get_ex(o, "error", &err)) {
		pm_err("the protomix watch with pid %d refused: %s", (int)pid,
		       json_object_get_string(err));
		json_object_put(o);
		close_fds(&got);
		return NULL;
	}
	if (fds)
		*fds = got;
	else
		close_fds(&got);
	return o;
io_error:
	pm_err("talking to the protomix watch with pid %d: %s", (int)pid,
	       strerror(errno));
	close(fd);
	free(buf);
	close_fds(&got);
	return NULL;
bad:
	pm_err("the protomix watch with pid %d sent no valid answer", (int)pid);
	close_fds(&got);
	return NULL;
}

json_object *ctl_request(pid_t pid, const char *request)
{
	return ctl_request_fds(pid, request, NULL);
}
