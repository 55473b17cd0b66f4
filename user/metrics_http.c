// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The metrics endpoint's HTTP server (metrics.h): libmicrohttpd run from
 * the watch's event loop, its limits per connection and per client, the
 * shared response of one read of the maps. The exposition is metrics.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <microhttpd.h>
#include "metrics.h"
#include "metrics_state.h"
#include "util.h"

/* --- HTTP ------------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     const char *text)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(text), (void *)text,
					    MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The exposition of the view as it is now: the one built for this read
 * of the maps (and these alert counts), or a new one. NULL if out of
 * memory. The response stays ours; MHD_queue_response takes its own
 * reference. */
static struct MHD_Response *exposition(struct metrics *m)
{
	const struct pm_view *v = m->v;
	uint64_t alerts[PM_NKIND] = {};
	struct MHD_Response *r;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if (v->alerts)
		memcpy(alerts, v->alerts->total, sizeof(alerts));
	if (m->resp && m->resp_taken_ns == v->taken_ns && m->resp_dests == v->dests &&
	    !memcmp(m->resp_alerts, alerts, sizeof(alerts)))
		return m->resp;
	f = open_memstream(&body, &len);
	if (!f)
		return NULL;
	write_exposition(f, m);
	if (fclose(f)) {
		free(body);
		return NULL;
	}
	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
	if (m->resp)		/* scrapes still sending it keep it alive */
		MHD_destroy_response(m->resp);
	m->resp = r;
	m->resp_taken_ns = v->taken_ns;
	m->resp_dests = v->dests;
	memcpy(m->resp_alerts, alerts, sizeof(alerts));
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *r;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	if (strcmp(url, METRICS_PATH))
		return reply(c, MHD_HTTP_NOT_FOUND, "not found: protomix serves " METRICS_PATH "\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET or HEAD\n");
	/* The headers are in; answer at the next call: a response queued
	 * at the first one closes the connection (no keep-alive). */
	if (!*req_cls) {
		*req_cls = m;
		return MHD_YES;
	}
	if (!m->v->dests)
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not attached yet\n");
	r = exposition(m);
	if (!r)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return MHD_queue_response(c, MHD_HTTP_OK, r);
}

/* A request answered (or given up): the connection's next request has a
 * deadline of its own. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *k;

	(void)cls;
	(void)req_cls;
	(void)toe;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && (k = ci->socket_context) && !k->cut)
		k->since_ns = now_mono_ns();
}

/* Every connection MHD accepts, until it is closed. */
static void on_connection(void *cls, struct MHD_Connection *c, void **ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct metrics *m = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *k = *ctx;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		k = calloc(1, sizeof(*k));
		if (!k || !ci) {	/* untracked: MHD's idle timeout only */
			free(k);
			return;
		}
		*k = (struct conn){ .fd = ci->connect_fd, .since_ns = now_mono_ns(),
				    .next = m->conns };
		if (m->conns)
			m->conns->prev = k;
		m->conns = k;
		*ctx = k;
		return;
	}
	/* MHD_CONNECTION_NOTIFY_CLOSED */
	m->closed = true;
	if (!k)
		return;
	if (k->prev)
		k->prev->next = k->next;
	else
		m->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
	*ctx = NULL;
}

/* libmicrohttpd's messages, like libbpf's: only with -v. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	pm_dbg("metrics: %s", buf);
}

/* Wake the loop when something is due without a socket event: MHD's
 * own work (pending data, an idle connection's timeout), a connection's
 * deadline, or, right away, another MHD_run after a connection closed:
 * at its limit MHD takes the listening socket out of its epoll set and
 * puts it back only at the start of a run, so without one the backlog
 * would wait for an event that never comes. Disarmed if nothing is. */
static void arm_timeout(struct metrics *m)
{
	uint64_t now = now_mono_ns(), wait = UINT64_MAX, due;
	struct itimerspec its = {};
	MHD_UNSIGNED_LONG_LONG ms;

	if (m->closed)
		wait = 0;
	if (MHD_get_timeout(m->d, &ms) == MHD_YES && ms < wait / 1000000ull)
		wait = ms * 1000000ull;
	for (struct conn *k = m->conns; k; k = k->next) {
		if (k->cut)
			continue;
		due = k->since_ns + METRICS_REQUEST_DEADLINE * 1000000000ull;
		due = due > now ? due - now : 0;
		if (due < wait)
			wait = due;
	}
	if (wait != UINT64_MAX) {
		its.it_value.tv_sec = wait / 1000000000ull;
		its.it_value.tv_nsec = wait % 1000000000ull;
		if (!wait)
			its.it_value.tv_nsec = 1;
	}
	timerfd_settime(m->tfd, 0, &its, NULL);
}

/* A connection past its deadline: shut its socket down (the socket stays
 * MHD's; MHD sees the hang-up at once and closes it as usual). */
static void cut_overdue(struct metrics *m)
{
	uint64_t now = now_mono_ns();

	for (struct conn *k = m->conns; k; k = k->next) {
		if (k->cut || now - k->since_ns < METRICS_REQUEST_DEADLINE * 1000000000ull)
			continue;
		pm_dbg("metrics: a connection took over %d s: closing it",
		       METRICS_REQUEST_DEADLINE);
		shutdown(k->fd, SHUT_RDWR);
		k->cut = true;
	}
}

static int listen_on(const struct metrics_addr *a)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&a->ss;
	int fd, one = 1, zero = 0, err;

	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a restart may bind while the last run's connections linger in
	 * TIME_WAIT; a port someone listens on stays refused */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::] means every address, IPv4 too */
	if (a->ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) || listen(fd, METRICS_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

struct metrics *metrics_open(const struct metrics_addr *a, size_t top,
			     const struct pm_view *v)
{
	struct epoll_event ev = { .events = EPOLLIN };
	const union MHD_DaemonInfo *info;
	struct metrics *m;
	size_t nslots = 1;
	int fd;

	while (nslots < 2 * top)
		nslots <<= 1;
	m = calloc(1, sizeof(*m));
	if (!m) {
		pm_err("out of memory");
		return NULL;
	}
	*m = (struct metrics){ .ep = -1, .tfd = -1, .v = v, .top = top,
			       .set = calloc(top, sizeof(*m->set)),
			       .heap = calloc(top, sizeof(*m->heap)),
			       .slots = calloc(nslots, sizeof(*m->slots)),
			       .mask = nslots - 1 };
	if (!m->set || !m->heap || !m->slots) {
		pm_err("out of memory for --metrics-top %zu", top);
		metrics_close(m);
		return NULL;
	}
	fd = listen_on(a);
	if (fd < 0) {
		pm_err("cannot serve metrics on %s: %s", a->text, strerror(-fd));
		metrics_close(m);
		return NULL;
	}
	/* No MHD_USE_INTERNAL_POLLING_THREAD: MHD_run from our loop. MHD
	 * owns fd from here on and closes it when stopped (and maybe when
	 * it fails to start: then fd is left alone, the watch exits). */
	m->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				on_request, m,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_CONN_TIMEOUT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, m,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, m,
				MHD_OPTION_END);
	if (!m->d) {
		pm_err("cannot serve metrics on %s: libmicrohttpd did not start (-v says why)",
		       a->text);
		metrics_close(m);
		return NULL;
	}
	info = MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_EPOLL_FD);
	m->ep = epoll_create1(EPOLL_CLOEXEC);
	m->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (!info || m->ep < 0 || m->tfd < 0 ||
	    epoll_ctl(m->ep, EPOLL_CTL_ADD, info->epoll_fd, &ev) ||
	    epoll_ctl(m->ep, EPOLL_CTL_ADD, m->tfd, &ev)) {
		pm_err("cannot serve metrics on %s: %s", a->text,
		       info ? strerror(errno) : "libmicrohttpd has no epoll fd");
		metrics_close(m);
		return NULL;
	}
	arm_timeout(m);
	fprintf(stderr, "protomix: metrics on http://%s%s\n", a->text, METRICS_PATH);
	return m;
}

int metrics_fd(const struct metrics *m)
{
	return m->ep;
}

void metrics_serve(struct metrics *m)
{
	uint64_t expirations;

	if (read(m->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		pm_dbg("metrics: timerfd: %s", strerror(errno));
	cut_overdue(m);
	m->closed = false;
	MHD_run(m->d);
	arm_timeout(m);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	if (m->d)
		MHD_stop_daemon(m->d);	/* closes every connection */
	if (m->resp)
		MHD_destroy_response(m->resp);
	if (m->ep >= 0)
		close(m->ep);
	if (m->tfd >= 0)
		close(m->tfd);
	free(m->set);
	free(m->heap);
	free(m->slots);
	free(m);
}
