// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The IPFIX exporter (see ipfix.h): libfixbuf's side of each collector,
 * its session, templates and the messages records are appended to, the
 * setup and teardown of the collectors, the exporter's event loop, the
 * end of a watch (what is queued, sent within IPFIX_FINISH_MS) and the
 * counts and status. The records themselves, their elements and layout,
 * are built in ipfix_records.c; the transport is ipfix_transport.c.
 * ipfix_coll.h holds what the three share.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <fixbuf/public.h>
#include "classes.h"
#include "ipfix.h"
#include "ipfix_coll.h"
#include "rules.h"
#include "util.h"

static const uint32_t ext_flags[T_NEXT] = {
	[T_MIX4] = F_V4, [T_MIX6] = F_V6, [T_AL4] = F_V4,
	[T_AL4_SPI] = F_V4 | F_SPI, [T_AL6] = F_V6, [T_AL6_SPI] = F_V6 | F_SPI,
};

/* --- encoding ---------------------------------------------------------------- */

static bool fb_fail(struct coll *c, const char *what, GError *err)
{
	pm_err("IPFIX %s: %s: %s", c->t.text, what, err ? err->message : "failed");
	g_clear_error(&err);
	return false;
}

static uint16_t add_tmpl(struct coll *c, fbInfoElementSpec_t *spec, uint32_t flags,
			 bool internal)
{
	fbTemplate_t *tmpl = fbTemplateAlloc(c->x->model);
	GError *err = NULL;
	uint16_t tid;

	if (!fbTemplateAppendSpecArray(tmpl, spec, flags, &err)) {
		fbTemplateFreeUnused(tmpl);
		fb_fail(c, "template", err);
		return 0;
	}
	tid = fbSessionAddTemplate(c->session, internal, FB_TID_AUTO, tmpl, &err);
	if (!tid) {
		fbTemplateFreeUnused(tmpl);
		fb_fail(c, "template", err);
	}
	return tid;
}

/* The message built so far, out to the transport. */
bool coll_emit(struct coll *c)
{
	GError *err = NULL;
	size_t len;

	if (!c->msg_open)
		return true;
	if (!fBufEmit(c->fbuf, &err))
		return fb_fail(c, "emit", err);
	len = fbExporterGetMsgLen(c->exp);
	coll_send(c, c->msg, len, c->in_msg);
	c->in_msg = 0;
	c->msg_open = false;
	return true;
}

bool coll_set_tmpl(struct coll *c, uint16_t itid, uint16_t etid)
{
	GError *err = NULL;

	if (!c->fbuf)
		return false;
	if (c->cur_itid != itid) {
		if (!fBufSetInternalTemplate(c->fbuf, itid, &err))
			return fb_fail(c, "internal template", err);
		c->cur_itid = itid;
	}
	if (c->cur_etid != etid) {
		if (!fBufSetExportTemplate(c->fbuf, etid, &err))
			return fb_fail(c, "export template", err);
		c->cur_etid = etid;
	}
	return true;
}

static bool templates(struct coll *c)
{
	GError *err = NULL;

	if (!coll_emit(c))
		return false;
	/* libfixbuf answers "end of message" once to a manual buffer whose
	 * last set was data: then the templates go into a message of their
	 * own */
	for (int i = 0; !fbSessionExportTemplates(c->session, &err); i++) {
		if (i == 2 || !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			return fb_fail(c, "templates", err);
		g_clear_error(&err);
		if (!coll_emit(c))
			return false;
	}
	c->msg_open = true;
	c->tmpl_ns = now_mono_ns();
	c->tmpl_due = false;
	c->tmpl_sent++;
	return coll_emit(c);
}

/* UDP: templates first if due (at start, every --ipfix-template-interval,
 * after the collector refused a message). */
void coll_templates_if_due(struct coll *c)
{
	if (!c->t.tcp && (c->tmpl_due ||
	    now_mono_ns() - c->tmpl_ns >= c->x->tmpl_every_ns))
		templates(c);
}

/* One record; a full message goes out first. */
bool coll_append(struct coll *c, void *rec, size_t size)
{
	GError *err = NULL;

	if (fBufAppend(c->fbuf, rec, size, &err))
		goto ok;
	if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
		return fb_fail(c, "record", err);
	g_clear_error(&err);
	if (!coll_emit(c))
		return false;
	if (!fBufAppend(c->fbuf, rec, size, &err))
		return fb_fail(c, "record", err);
ok:
	c->in_msg++;
	c->msg_open = true;
	return true;
}

/* --- setup ------------------------------------------------------------------- */

/* The collector's libfixbuf session, with its buffer and exporter. */
static void session_free(struct coll *c)
{
	if (c->fbuf)
		fBufFree(c->fbuf);	/* with its session and exporter */
	else if (c->session)
		fbSessionFree(c->session);
	c->fbuf = NULL;
	c->session = NULL;
	c->exp = NULL;
}

/* A fresh libfixbuf session in place of the collector's (sequence numbers
 * from 0), its templates, and a message buffer writing into c->msg.
 * Records in a message not yet emitted are dropped (counted). 0, or -1
 * with the reason on stderr. */
static int session_new(struct coll *c)
{
	struct ipfix *x = c->x;

	c->dropped += c->in_msg;
	session_free(c);
	c->in_msg = 0;
	c->msg_open = false;
	c->cur_itid = c->cur_etid = 0;
	c->session = fbSessionAlloc(x->model);
	fbSessionSetDomain(c->session, x->domain);
	c->itid_mix = add_tmpl(c, ipfix_mix_spec, F_ALL, true);
	c->itid_alert = add_tmpl(c, ipfix_alert_spec, F_ALL, true);
	for (int i = 0; i < T_NEXT; i++) {
		uint32_t f = ext_flags[i];

		if (i <= T_MIX6 && (i == T_MIX4 ? x->agg4 < PM_AGG4_NONE : x->agg6 < PM_AGG6_NONE))
			f |= F_AGG;
		c->etid[i] = add_tmpl(c, i <= T_MIX6 ? ipfix_mix_spec : ipfix_alert_spec,
				      f, false);
		if (!c->etid[i])
			return -1;
	}
	if (!c->itid_mix || !c->itid_alert)
		return -1;
	c->exp = fbExporterAllocBuffer(c->msg, c->msgsize);
	c->fbuf = fBufAllocForExport(c->session, c->exp);
	fBufSetAutomaticMode(c->fbuf, FALSE);
	return coll_set_tmpl(c, c->itid_mix, c->etid[T_MIX4]) ? 0 : -1;
}

/* TCP: a new transport session: a libfixbuf session of its own (the
 * first is made at open), so its sequence numbers start at 0 (RFC 7011
 * 3.1: per transport session and observation domain), and the templates
 * first. */
static void coll_connect(struct coll *c)
{
	if (c->connects++ && session_new(c)) {
		c->said_slow = false;	/* as tcp_connect would */
		tcp_down(c, "cannot start an IPFIX session");
		return;
	}
	tcp_connect(c);
	if (c->state == C_CONNECTING)
		templates(c);
}

static int coll_open(struct ipfix *x, struct coll *c, const struct ipfix_target *t)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = t->tcp ? SOCK_STREAM : SOCK_DGRAM,
				  .ai_flags = AI_NUMERICSERV }, *ai = NULL;

	c->x = x;
	c->t = *t;
	c->fd = -1;
	if (getaddrinfo(t->host, t->port, &hints, &ai) || !ai) {
		pm_err("IPFIX %s: cannot resolve the host", t->text);
		return -1;
	}
	memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
	c->alen = ai->ai_addrlen;
	freeaddrinfo(ai);

	c->msgsize = t->tcp ? IPFIX_TCP_MSG : IPFIX_UDP_MSG;
	c->msg = malloc(c->msgsize);
	if (t->tcp) {
		c->q = malloc(IPFIX_TCP_QUEUE);
		c->qm = calloc(QMSG_MAX, sizeof(*c->qm));
	}
	if (!c->msg || (t->tcp && (!c->q || !c->qm))) {
		pm_err("IPFIX %s: out of memory", t->text);
		return -1;
	}
	if (session_new(c))
		return -1;

	if (t->tcp) {
		coll_connect(c);
		return 0;
	}
	c->fd = socket(c->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&c->addr, c->alen)) {
		pm_err("IPFIX %s: cannot open a UDP socket: %s", t->text, strerror(errno));
		return -1;
	}
	c->state = C_UP;	/* errors come back at send */
	c->tmpl_due = true;
	return 0;
}

struct ipfix *ipfix_open(const struct ipfix_cfg *cfg)
{
	struct ipfix *x = calloc(1, sizeof(*x));
	struct epoll_event e = { .events = EPOLLIN };

	if (!x) {
		pm_err("out of memory");
		return NULL;
	}
	x->ep = x->tfd = -1;
	x->domain = cfg->domain;
	x->tmpl_every_ns = (cfg->template_secs ? cfg->template_secs :
			    IPFIX_TEMPLATE_SECS) * 1000000000ull;
	x->agg4 = cfg->agg4 ? cfg->agg4 : PM_AGG4_NONE;
	x->agg6 = cfg->agg6 ? cfg->agg6 : PM_AGG6_NONE;
	x->model = fbInfoModelAlloc();
	fbInfoModelAddElementArray(x->model, pm_elements);
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	x->tfd = timerfd_after(1, true);	/* reconnects */
	if (x->ep < 0 || x->tfd < 0 ||
	    epoll_ctl(x->ep, EPOLL_CTL_ADD, x->tfd, &e)) {
		pm_err("IPFIX: cannot set up its event loop: %s", strerror(errno));
		ipfix_close(x);
		return NULL;
	}
	for (int i = 0; i < cfg->ntargets; i++) {
		x->n++;
		if (coll_open(x, &x->c[i], &cfg->targets[i])) {
			ipfix_close(x);
			return NULL;
		}
	}
	return x;
}

void ipfix_close(struct ipfix *x)
{
	if (!x)
		return;
	for (int i = 0; i < x->n; i++) {
		struct coll *c = &x->c[i];

		/* what the socket takes now; the rest is dropped */
		if (c->fbuf)
			coll_emit(c);
		if (c->t.tcp)
			tcp_flush(c);
		if (c->fd >= 0)
			close(c->fd);
		session_free(c);
		free(c->msg);
		free(c->q);
		free(c->qm);
	}
	if (x->ep >= 0)
		close(x->ep);
	if (x->tfd >= 0)
		close(x->tfd);
	if (x->model)
		fbInfoModelFree(x->model);
	free(x);
}

int ipfix_fd(const struct ipfix *x)
{
	return x->ep;
}

void ipfix_run(struct ipfix *x)
{
	struct epoll_event evs[IPFIX_MAX_COLLECTORS + 1];
	uint64_t now, exp;
	int n = epoll_wait(x->ep, evs, IPFIX_MAX_COLLECTORS + 1, 0);

	for (int i = 0; i < n; i++) {
		if (evs[i].data.ptr)
			coll_event(evs[i].data.ptr, evs[i].events);
		else if (read(x->tfd, &exp, sizeof(exp)) < 0)
			continue;
	}
	now = now_mono_ns();
	for (int i = 0; i < x->n; i++) {
		struct coll *c = &x->c[i];

		if (c->t.tcp && c->state == C_DOWN && now >= c->next_try_ns)
			coll_connect(c);
	}
}

/* The TCP collectors with something queued, ready for poll: their number. */
static int pending_fds(struct ipfix *x, struct pollfd *pf, struct coll **of)
{
	int n = 0;

	for (int i = 0; i < x->n; i++) {
		struct coll *c = &x->c[i];

		if (!c->t.tcp || c->state == C_DOWN || !c->qm_n)
			continue;
		pf[n] = (struct pollfd){ .fd = c->fd, .events = POLLOUT };
		of[n++] = c;
	}
	return n;
}

void ipfix_finish(struct ipfix *x)
{
	uint64_t end = now_mono_ns() + IPFIX_FINISH_MS * 1000000ull, now;
	struct pollfd pf[IPFIX_MAX_COLLECTORS];
	struct coll *of[IPFIX_MAX_COLLECTORS];
	int n;

	for (int i = 0; i < x->n; i++)
		coll_emit(&x->c[i]);
	while ((n = pending_fds(x, pf, of)) && (now = now_mono_ns()) < end) {
		if (poll(pf, n, (end - now + 999999) / 1000000) <= 0)
			break;
		for (int i = 0; i < n; i++)
			if (pf[i].revents)
				coll_event(of[i], (pf[i].revents & POLLOUT ? EPOLLOUT : 0) |
					   (pf[i].revents & (POLLERR | POLLHUP) ? EPOLLERR : 0));
	}
	for (int i = 0; i < x->n; i++)
		if (x->c[i].t.tcp)
			queue_drop_all(&x->c[i]);
}

uint64_t ipfix_sent(const struct ipfix *x)
{
	uint64_t n = 0;

	for (int i = 0; x && i < x->n; i++)
		n += x->c[i].sent;
	return n;
}

uint64_t ipfix_dropped(const struct ipfix *x)
{
	uint64_t n = 0;

	for (int i = 0; x && i < x->n; i++)
		n += x->c[i].dropped;
	return n;
}

/* TCP: records in the queue, not yet sent nor dropped. */
static uint64_t queued_records(const struct coll *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->qm_n; i++)
		n += c->qm[(c->qm_head + i) % QMSG_MAX].records;
	return n;
}

json_object *ipfix_status_json(const struct ipfix *x)
{
	static const char *states[] = { "down", "connecting", "up" };
	json_object *arr = json_object_new_array();

	for (int i = 0; x && i < x->n; i++) {
		const struct coll *c = &x->c[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "collector", json_object_new_string(c->t.text));
		json_object_object_add(o, "state", json_object_new_string(
			c->t.tcp ? states[c->state] : c->said_down ? "unreachable" : "sending"));
		json_object_object_add(o, "domain", json_object_new_uint64(x->domain));
		json_object_object_add(o, "sent_records", json_object_new_uint64(c->sent));
		json_object_object_add(o, "dropped_records", json_object_new_uint64(c->dropped));
		json_object_object_add(o, "templates_sent", json_object_new_uint64(c->tmpl_sent));
		json_object_object_add(o, "queued_records", json_object_new_uint64(queued_records(c)));
		json_object_object_add(o, "queued_bytes", json_object_new_uint64(c->qlen));
		json_object_array_add(arr, o);
	}
	return arr;
}
