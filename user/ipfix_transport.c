// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The IPFIX exporter's transport (ipfix_coll.h): UDP datagrams sent or
 * dropped, TCP through a non-blocking connect and a bounded queue,
 * reconnected with backoff; what the collector is told on stderr. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ipfix_coll.h"
#include "util.h"

/* --- transport --------------------------------------------------------------- */

static void set_events(struct coll *c, uint32_t ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = c };

	if (c->fd < 0 || ev == c->events)
		return;
	if (!c->events)
		epoll_ctl(c->x->ep, EPOLL_CTL_ADD, c->fd, &e);
	else if (!ev)
		epoll_ctl(c->x->ep, EPOLL_CTL_DEL, c->fd, NULL);
	else
		epoll_ctl(c->x->ep, EPOLL_CTL_MOD, c->fd, &e);
	c->events = ev;
}

static void say_down(struct coll *c, const char *why)
{
	if (c->said_down)
		return;
	c->said_down = true;
	fprintf(stderr, "protomix: IPFIX collector %s: %s; records are dropped (counted) until it %s\n",
		c->t.text, why, c->t.tcp ? "reconnects" : "answers again");
}

static void say_up(struct coll *c)
{
	if (!c->said_down)
		return;
	c->said_down = false;
	fprintf(stderr, "protomix: IPFIX collector %s: %s\n", c->t.text,
		c->t.tcp ? "connected again" : "answering again");
}

/* TCP: the queue is full, records are dropped: said once, until the
 * collector has taken all of it. */
static void say_slow(struct coll *c)
{
	if (c->said_slow)
		return;
	c->said_slow = true;
	fprintf(stderr, "protomix: IPFIX collector %s: not reading fast enough (its %u MiB queue is full); records are dropped (counted) until it catches up\n",
		c->t.text, IPFIX_TCP_QUEUE >> 20);
}

static void say_caught_up(struct coll *c)
{
	if (!c->said_slow)
		return;
	c->said_slow = false;
	fprintf(stderr, "protomix: IPFIX collector %s: caught up\n", c->t.text);
}

void queue_drop_all(struct coll *c)
{
	for (size_t i = 0; i < c->qm_n; i++)
		c->dropped += c->qm[(c->qm_head + i) % QMSG_MAX].records;
	c->qm_head = c->qm_n = c->qm_sent = 0;
	c->qhead = c->qlen = 0;
}

void tcp_down(struct coll *c, const char *why)
{
	char buf[160];

	queue_drop_all(c);
	set_events(c, 0);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = C_DOWN;
	c->backoff_ns = c->backoff_ns ? c->backoff_ns * 2 : 1000000000ull;
	if (c->backoff_ns > 60000000000ull)
		c->backoff_ns = 60000000000ull;
	c->next_try_ns = now_mono_ns() + c->backoff_ns;
	snprintf(buf, sizeof(buf), "%s", why);
	say_down(c, buf);
}

/* Send from the head of the queue until it is empty or the socket full. */
void tcp_flush(struct coll *c)
{
	while (c->state == C_UP && c->qm_n) {
		struct qmsg *m = &c->qm[c->qm_head];
		ssize_t n = send(c->fd, c->q + c->qhead, m->len - c->qm_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			tcp_down(c, strerror(errno));
			return;
		}
		c->qhead += n;
		c->qlen -= n;
		c->qm_sent += n;
		if (c->qm_sent == m->len) {
			c->sent += m->records;
			c->qm_sent = 0;
			c->qm_head = (c->qm_head + 1) % QMSG_MAX;
			c->qm_n--;
		}
	}
	if (!c->qlen) {
		c->qhead = 0;
		if (c->state == C_UP)
			say_caught_up(c);
	}
	if (c->state == C_UP)
		set_events(c, EPOLLIN | (c->qm_n ? EPOLLOUT : 0));
}

void tcp_connect(struct coll *c)
{
	int fd;

	queue_drop_all(c);
	c->said_slow = false;	/* a queue of its own too */
	fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tcp_down(c, strerror(errno));
		return;
	}
	c->fd = fd;
	c->events = 0;
	if (connect(fd, (struct sockaddr *)&c->addr, c->alen) && errno != EINPROGRESS) {
		tcp_down(c, strerror(errno));
		return;
	}
	c->state = C_CONNECTING;
	set_events(c, EPOLLOUT);
}

/* TCP: room for LEN more bytes at the queue's tail? Bytes already sent
 * from its head are reused (the queue moved down) once they are a quarter
 * of it: a collector that takes a little at a time costs a few bytes
 * moved per byte queued, never a full queue moved per message. */
static bool queue_room(struct coll *c, size_t len)
{
	if (c->qm_n == QMSG_MAX || c->qlen + len > IPFIX_TCP_QUEUE)
		return false;
	if (c->qhead + c->qlen + len <= IPFIX_TCP_QUEUE)
		return true;
	if (c->qhead < IPFIX_TCP_QUEUE / 4)
		return false;
	memmove(c->q, c->q + c->qhead, c->qlen);
	c->qhead = 0;
	return true;
}

void coll_send(struct coll *c, const uint8_t *m, size_t len, uint32_t records)
{
	if (!len)
		return;
	if (!c->t.tcp) {
		/* A connected UDP socket reports the collector's ICMP errors
		 * at a later send, which then sends nothing: counted. */
		if (send(c->fd, m, len, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)len) {
			c->sent += records;
			c->round_sent = true;
		} else {
			c->dropped += records;
			c->round_failed = true;
			if (errno != EAGAIN && errno != ENOBUFS && errno != EINTR) {
				/* a collector restarted knows no templates */
				c->tmpl_due = true;
				say_down(c, strerror(errno));
			}
		}
		return;
	}
	if (c->state == C_DOWN) {
		c->dropped += records;
		return;
	}
	if (!queue_room(c, len)) {
		c->dropped += records;
		say_slow(c);
		return;
	}
	memcpy(c->q + c->qhead + c->qlen, m, len);
	c->qlen += len;
	c->qm[(c->qm_head + c->qm_n) % QMSG_MAX] = (struct qmsg){ len, records };
	c->qm_n++;
	tcp_flush(c);
}

/* UDP, at the start of an interval: the collector's ICMP errors for the
 * last interval's messages have come back by now, or it took them. */
void udp_round(struct coll *c)
{
	int err = 0;
	socklen_t sl = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err) {
		c->tmpl_due = true;
		say_down(c, strerror(err));
	} else if (c->round_sent && !c->round_failed) {
		say_up(c);
	}
	c->round_sent = c->round_failed = false;
}

void coll_event(struct coll *c, uint32_t ev)
{
	char b[256];
	int err = 0;
	socklen_t sl = sizeof(err);
	ssize_t n;

	if (c->state == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) || err) {
			tcp_down(c, strerror(err ? err : errno));
			return;
		}
		c->state = C_UP;
		c->backoff_ns = 0;
		say_up(c);
		tcp_flush(c);
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		n = recv(c->fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			tcp_down(c, n == 0 ? "connection closed" : strerror(errno));
			return;
		}
	}
	if (ev & EPOLLOUT)
		tcp_flush(c);
}
