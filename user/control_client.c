// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The client's side of the control socket (control.h): finding the
 * watches, picking one, a request and its answer (with descriptors, or
 * streamed). The watch's side is control.c. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "control.h"
#include "rundir.h"
#include "util.h"

/* --- the client's side ---------------------------------------------------- */

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

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

int ctl_find(pid_t *pids, int max)
{
	char line[512], prefix[128], *path, *end;
	size_t plen;
	int n = 0, off;
	long pid;
	FILE *f;

	/* /proc/net/unix lists the sockets of our network namespace, each
	 * with the path it was bound to (the eighth field, to the end of the
	 * line: it may hold spaces). Ours are RUNDIR/ctl.PID, where nobody
	 * but root and the watches' user can bind. */
	plen = snprintf(prefix, sizeof(prefix), "%s/ctl.", rundir_path());
	f = fopen("/proc/net/unix", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && n < max) {
		off = -1;
		sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %n", &off);
		if (off < 0)
			continue;
		path = line + off;
		path[strcspn(path, "\n")] = 0;
		if (strncmp(path, prefix, plen))
			continue;
		pid = strtol(path + plen, &end, 10);
		if (*end || pid <= 0 || pid > INT_MAX)
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
		return EXIT_RUNTIME;
	}
	for (int i = 0; want && i < n; i++)
		if (pids[i] == want) {
			*pid = want;
			return 0;
		}
	if (want) {
		pm_err("no protomix watch with pid %d in this network namespace",
		       (int)want);
		return EXIT_RUNTIME;
	}
	if (n == 0) {
		pm_err("no protomix watch is running in this network namespace (start one with `protomix watch IFACE`)");
		return EXIT_RUNTIME;
	}
	if (n > 1) {
		char list[256] = "";
		size_t len = 0;

		for (int i = 0; i < n && len < sizeof(list); i++)
			len += snprintf(list + len, sizeof(list) - len, "%s%d",
					i ? ", " : "", (int)pids[i]);
		pm_err("%d protomix watches are running (pids %s): choose one with --pid",
		       n, list);
		return EXIT_USAGE;
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

/* What went wrong in the last request, and whether to say it now:
 * ctl_request_held() keeps it for the caller to decide (top, whose
 * watch may have just ended, says that instead). */
static struct {
	bool hold;
	char msg[512];
} ctl_said;

static void ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void ctl_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctl_said.msg, sizeof(ctl_said.msg), fmt, ap);
	va_end(ap);
	if (!ctl_said.hold)
		pm_err("%s", ctl_said.msg);
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

/* Connect to the watch with this pid, check it is one to trust, send
 * the request line. The fd, or -1 with the error reported. */
static int ctl_connect(pid_t pid, const char *request)
{
	struct sockaddr_un sa;
	socklen_t len = ctl_addr(pid, &sa);
	int fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len)) {
		if (errno == EACCES || errno == EPERM)
			ctl_fail("the protomix watch with pid %d: permission denied (only root and the watch's own user may talk to it)",
			       (int)pid);
		else
			ctl_fail("cannot reach the protomix watch with pid %d: %s",
			       (int)pid, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* The run folder keeps other users out; still, talk only to the
	 * process the name says, run by root, by us, or holding CAP_BPF
	 * (a service user). */
	{
		struct ucred cred;
		socklen_t clen = sizeof(cred);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
		    cred.pid != pid ||
		    (cred.uid != 0 && cred.uid != getuid() && !has_cap_bpf(pid))) {
			ctl_fail("the socket of pid %d is not a protomix watch to trust (held by pid %d, uid %d)",
			       (int)pid, (int)cred.pid, (int)cred.uid);
			close(fd);
			return -1;
		}
	}
	set_timeouts(fd, 30);
	if (write_all(fd, request, strlen(request)) || write_all(fd, "\n", 1)) {
		ctl_fail("talking to the protomix watch with pid %d: %s", (int)pid,
		       strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Send a request and receive the whole answer (NUL-terminated) with the
 * descriptors that came with it. 0, or -1 with the error reported. */
static int ctl_exchange(pid_t pid, const char *request, char **out,
			size_t *out_len, struct ctl_fds *got)
{
	char *buf = NULL;
	size_t size = 0, cap = 0;
	ssize_t n;
	int fd;

	got->n = 0;
	fd = ctl_connect(pid, request);
	if (fd < 0)
		return -1;
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
		take_fds(&msg, got);
		if (n == 0)
			break;
		size += n;
	}
	close(fd);
	if (!buf) {
		ctl_fail("the protomix watch with pid %d sent no answer", (int)pid);
		close_fds(got);
		return -1;
	}
	buf[size] = 0;
	*out = buf;
	*out_len = size;
	return 0;
io_error:
	ctl_fail("talking to the protomix watch with pid %d: %s", (int)pid,
	       strerror(errno));
	close(fd);
	free(buf);
	close_fds(got);
	return -1;
}

/* An answer {"error":...}: reported; true. */
static bool refused(pid_t pid, json_object *o)
{
	json_object *err;

	if (!json_object_object_get_ex(o, "error", &err))
		return false;
	ctl_fail("the protomix watch with pid %d refused: %s", (int)pid,
	       json_object_get_string(err));
	return true;
}

json_object *ctl_request_fds(pid_t pid, const char *request, struct ctl_fds *fds)
{
	struct ctl_fds got = {};
	json_object *o;
	char *buf;
	size_t size;

	if (fds)
		fds->n = 0;
	if (ctl_exchange(pid, request, &buf, &size, &got))
		return NULL;
	o = json_tokener_parse(buf);
	free(buf);
	if (!o) {
		ctl_fail("the protomix watch with pid %d sent no valid answer", (int)pid);
		close_fds(&got);
		return NULL;
	}
	if (refused(pid, o)) {
		json_object_put(o);
		close_fds(&got);
		return NULL;
	}
	if (fds)
		*fds = got;
	else
		close_fds(&got);
	return o;
}

json_object *ctl_request(pid_t pid, const char *request)
{
	return ctl_request_fds(pid, request, NULL);
}

json_object *ctl_request_held(pid_t pid, const char *request, char *why,
			      size_t len)
{
	json_object *o;

	ctl_said.hold = true;
	ctl_said.msg[0] = 0;
	o = ctl_request_fds(pid, request, NULL);
	ctl_said.hold = false;
	if (!o)
		snprintf(why, len, "%s", ctl_said.msg);
	return o;
}

int ctl_stream_open(pid_t pid, const char *request, struct ctl_stream *st)
{
	json_object *o;
	ssize_t n;

	st->pid = pid;
	st->n = 0;
	st->fd = ctl_connect(pid, request);
	if (st->fd < 0)
		return -1;
	/* enough to tell a refusal from an answer */
	while (st->n < 8) {
		n = read(st->fd, st->first + st->n, sizeof(st->first) - 1 - st->n);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		st->n += n;
	}
	st->first[st->n] = 0;
	if (st->n == 0) {
		pm_err("the protomix watch with pid %d sent no answer", (int)pid);
		goto fail;
	}
	if (!strncmp(st->first, "{\"error\"", 8)) {
		/* a refusal is one short line */
		while (st->n < sizeof(st->first) - 1 &&
		       (n = read(st->fd, st->first + st->n,
				 sizeof(st->first) - 1 - st->n)) > 0)
			st->n += n;
		st->first[st->n] = 0;
		o = json_tokener_parse(st->first);
		if (!o || !refused(pid, o))
			pm_err("the protomix watch with pid %d sent no valid answer", (int)pid);
		json_object_put(o);
		goto fail;
	}
	return 0;
fail:
	close(st->fd);
	st->fd = -1;
	return -1;
}

int ctl_stream_copy(struct ctl_stream *st, FILE *f)
{
	char buf[1 << 16], last[2] = "";
	size_t total = st->n;
	ssize_t n;

	if (st->n) {
		fwrite(st->first, 1, st->n, f);
		last[0] = st->n > 1 ? st->first[st->n - 2] : 0;
		last[1] = st->first[st->n - 1];
	}
	for (;;) {
		n = read(st->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pm_err("talking to the protomix watch with pid %d: %s",
			       (int)st->pid, strerror(errno));
			return PM_OUT_REPORTED;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, n, f) != (size_t)n)
			return -EIO;	/* the sink has the reason */
		last[0] = n > 1 ? buf[n - 2] : last[1];
		last[1] = buf[n - 1];
		total += n;
	}
	if (st->first[0] != '{' || last[0] != '}' || last[1] != '\n') {
		pm_err("the protomix watch with pid %d sent no valid answer (cut short after %zu bytes)",
		       (int)st->pid, total);
		return PM_OUT_REPORTED;
	}
	return 0;
}

void ctl_stream_close(struct ctl_stream *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
}
