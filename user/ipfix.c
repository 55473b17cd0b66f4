// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
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

/* Enterprise-specific elements (PROTOMIX_PEN, a placeholder): what IANA
 * has no element for. Kept in step with packaging/protomix-ipfix.xml. */
enum {
	PMIE_CLASS = 1,		/* protomixClassName */
	PMIE_VIOLATIONS,	/* protomixViolationDeltaCount */
	PMIE_EXPECTED,		/* protomixExpectedClasses */
	PMIE_KIND,		/* protomixAlertKind */
	PMIE_IPSEC_SEQ,		/* protomixIpsecSequenceNumber */
	PMIE_EVIDENCE,		/* protomixEvidence */
};

static fbInfoElement_t pm_elements[] = {
	FB_IE_INIT_FULL("protomixClassName", PROTOMIX_PEN, PMIE_CLASS,
			FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
	FB_IE_INIT_FULL("protomixViolationDeltaCount", PROTOMIX_PEN, PMIE_VIOLATIONS,
			8, FB_IE_F_ENDIAN | FB_IE_DELTACOUNTER | FB_UNITS_PACKETS,
			0, 0, FB_UINT_64, NULL),
	FB_IE_INIT_FULL("protomixExpectedClasses", PROTOMIX_PEN, PMIE_EXPECTED,
			FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
	FB_IE_INIT_FULL("protomixAlertKind", PROTOMIX_PEN, PMIE_KIND,
			FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
	FB_IE_INIT_FULL("protomixIpsecSequenceNumber", PROTOMIX_PEN, PMIE_IPSEC_SEQ,
			4, FB_IE_F_ENDIAN | FB_IE_IDENTIFIER, 0, 0, FB_UINT_32, NULL),
	FB_IE_INIT_FULL("protomixEvidence", PROTOMIX_PEN, PMIE_EVIDENCE,
			FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0, FB_STRING, NULL),
	FB_IE_NULL
};

/* Spec flags: which external template an element goes into. The internal
 * templates (the structs below, byte for byte) take every element. */
#define F_V4	0x01u
#define F_V6	0x02u
#define F_AGG	0x04u
#define F_SPI	0x08u
#define F_INT	0x10u		/* padding: internal only */
#define F_ALL	UINT32_MAX

/* A mix record in memory: the internal template, no gaps. */
struct mix_rec {
	uint64_t start_ms, end_ms;
	uint64_t packets, octets;
	uint64_t violations;
	fbVarfield_t cls;
	fbVarfield_t expected;
	uint8_t dst6[16];
	uint32_t dst4;
	uint32_t in_if, out_if;	/* ifindex, or 0: see mix_ifaces() */
	uint8_t proto;
	uint8_t plen4, plen6;
	uint8_t pad[1];
};

static fbInfoElementSpec_t mix_spec[] = {
	{ "flowStartMilliseconds", 8, 0 },
	{ "flowEndMilliseconds", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "octetDeltaCount", 8, 0 },
	{ "protomixViolationDeltaCount", 8, 0 },
	{ "protomixClassName", FB_IE_VARLEN, 0 },
	{ "protomixExpectedClasses", FB_IE_VARLEN, 0 },
	{ "destinationIPv6Address", 16, F_V6 },
	{ "destinationIPv4Address", 4, F_V4 },
	{ "ingressInterface", 4, 0 },
	{ "egressInterface", 4, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "destinationIPv4PrefixLength", 1, F_V4 | F_AGG },
	{ "destinationIPv6PrefixLength", 1, F_V6 | F_AGG },
	{ "paddingOctets", 1, F_INT },
	FB_IESPEC_NULL
};

struct alert_rec {
	uint64_t time_ms;
	fbVarfield_t kind, cls, expected, ifname, evidence;
	uint8_t src6[16], dst6[16];
	uint32_t src4, dst4;
	uint32_t spi, seq;
	uint32_t in_if, out_if;	/* the alert's ifindex by its direction; 0 */
	uint16_t sport, dport;
	uint8_t proto;
	uint8_t direction;	/* flowDirection: 0 ingress, 1 egress */
	uint8_t pad[2];
};

static fbInfoElementSpec_t alert_spec[] = {
	{ "observationTimeMilliseconds", 8, 0 },
	{ "protomixAlertKind", FB_IE_VARLEN, 0 },
	{ "protomixClassName", FB_IE_VARLEN, 0 },
	{ "protomixExpectedClasses", FB_IE_VARLEN, 0 },
	{ "interfaceName", FB_IE_VARLEN, 0 },
	{ "protomixEvidence", FB_IE_VARLEN, 0 },
	{ "sourceIPv6Address", 16, F_V6 },
	{ "destinationIPv6Address", 16, F_V6 },
	{ "sourceIPv4Address", 4, F_V4 },
	{ "destinationIPv4Address", 4, F_V4 },
	{ "IPSecSPI", 4, F_SPI },
	{ "protomixIpsecSequenceNumber", 4, F_SPI },
	{ "ingressInterface", 4, 0 },
	{ "egressInterface", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "flowDirection", 1, 0 },
	{ "paddingOctets", 2, F_INT },
	FB_IESPEC_NULL
};

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
static bool emit(struct coll *c)
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

static bool set_tmpl(struct coll *c, uint16_t itid, uint16_t etid)
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

	if (!emit(c))
		return false;
	/* libfixbuf answers "end of message" once to a manual buffer whose
	 * last set was data: then the templates go into a message of their
	 * own */
	for (int i = 0; !fbSessionExportTemplates(c->session, &err); i++) {
		if (i == 2 || !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
			return fb_fail(c, "templates", err);
		g_clear_error(&err);
		if (!emit(c))
			return false;
	}
	c->msg_open = true;
	c->tmpl_ns = now_mono_ns();
	c->tmpl_due = false;
	c->tmpl_sent++;
	return emit(c);
}

/* UDP: templates first if due (at start, every --ipfix-template-interval,
 * after the collector refused a message). */
static void templates_if_due(struct coll *c)
{
	if (!c->t.tcp && (c->tmpl_due ||
	    now_mono_ns() - c->tmpl_ns >= c->x->tmpl_every_ns))
		templates(c);
}

/* One record; a full message goes out first. */
static bool append(struct coll *c, void *rec, size_t size)
{
	GError *err = NULL;

	if (fBufAppend(c->fbuf, rec, size, &err))
		goto ok;
	if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM))
		return fb_fail(c, "record", err);
	g_clear_error(&err);
	if (!emit(c))
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
	c->itid_mix = add_tmpl(c, mix_spec, F_ALL, true);
	c->itid_alert = add_tmpl(c, alert_spec, F_ALL, true);
	for (int i = 0; i < T_NEXT; i++) {
		uint32_t f = ext_flags[i];

		if (i <= T_MIX6 && (i == T_MIX4 ? x->agg4 < PM_AGG4_NONE : x->agg6 < PM_AGG6_NONE))
			f |= F_AGG;
		c->etid[i] = add_tmpl(c, i <= T_MIX6 ? mix_spec : alert_spec, f, false);
		if (!c->etid[i])
			return -1;
	}
	if (!c->itid_mix || !c->itid_alert)
		return -1;
	c->exp = fbExporterAllocBuffer(c->msg, c->msgsize);
	c->fbuf = fBufAllocForExport(c->session, c->exp);
	fBufSetAutomaticMode(c->fbuf, FALSE);
	return set_tmpl(c, c->itid_mix, c->etid[T_MIX4]) ? 0 : -1;
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
			emit(c);
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

/* --- records ------------------------------------------------------------------ */

static const uint8_t proto_of[PM_NCLASS] = {
	[PM_C_TCP] = 6, [PM_C_UDP] = 17, [PM_C_ICMP] = 1, [PM_C_ICMP6] = 58,
	[PM_C_SCTP] = 132, [PM_C_ESP] = 50, [PM_C_AH] = 51, [PM_C_ESP_UDP] = 17,
	[PM_C_IKE] = 17, [PM_C_GRE] = 47, [PM_C_IPIP] = 4, [PM_C_IPV6_ENCAP] = 41,
	[PM_C_OTHER] = 255,	/* any other protocol: the class name says which */
	[PM_C_WIREGUARD] = 17, [PM_C_VXLAN] = 17, [PM_C_GENEVE] = 17,
	[PM_C_GTP_U] = 17,
};
_Static_assert(PM_NCLASS == 17, "a new class needs its protocol in proto_of");

static void varstr(fbVarfield_t *f, const char *s)
{
	f->buf = (uint8_t *)s;
	f->len = strlen(s);
}

static void mix_dest(struct ipfix *x, struct mix_rec *r, const struct pm_view *v,
		     const struct pm_dest_key *k, const struct pm_dest *d,
		     const struct pm_dest *was, bool v4)
{
	__u64 cls[PM_NCLASS];
	uint64_t bytes, viol, left;
	uint32_t expected;
	char exp_text[160];

	if (!dest_delta(d, was, cls, &bytes))
		return;
	if (was && was->first_seen != d->first_seen)
		was = NULL;
	viol = d->violations - (was && d->violations >= was->violations ?
				was->violations : 0);
	expected = dest_expected(v, k, d);
	varstr(&r->expected, classes_text(expected, exp_text, sizeof(exp_text)));
	if (v4)
		memcpy(&r->dst4, k->addr + 12, 4), r->dst4 = ntohl(r->dst4);
	else
		memcpy(r->dst6, k->addr, 16);
	/* The destination's violations go to the records of the classes it
	 * was not expected to receive, at most each one's packets: the sum
	 * over its records is the destination's count. */
	left = viol;
	for (int c = 0; c < PM_NCLASS; c++) {
		uint64_t b;

		if (!cls[c])
			continue;
		b = d->bytes[c] - (was && d->bytes[c] >= was->bytes[c] &&
				   d->packets[c] >= was->packets[c] ? was->bytes[c] : 0);
		r->packets = cls[c];
		r->octets = b;
		r->proto = proto_of[c];
		varstr(&r->cls, class_name(c));
		r->violations = 0;
		if (left && expected && !(expected & 1u << c)) {
			r->violations = left < cls[c] ? left : cls[c];
			left -= r->violations;
		}
		for (int i = 0; i < x->n; i++) {
			struct coll *co = &x->c[i];

			if (co->t.tcp && co->state == C_DOWN) {
				co->dropped++;
				continue;
			}
			append(co, r, sizeof(*r));
		}
	}
}

/* The exporting interface of the mix records: the destination table sums
 * a destination's packets over every hook of every watched interface, it
 * does not split them by interface. So with one interface, its ifindex as
 * ingressInterface (its ingress hook, always attached) and as
 * egressInterface when its egress is hooked too (not on a loopback
 * device); with several, 0 for both: the record's counts are not those of
 * any one of them. */
static void mix_ifaces(const struct pm_view *v, struct mix_rec *r)
{
	unsigned int ids[PM_IFACE_MAXHOOKS];
	int n;

	r->in_if = r->out_if = 0;
	if (v->nifaces != 1)
		return;
	r->in_if = v->ifaces[0].ifindex;
	n = iface_hook_ids(&v->ifaces[0], ids);
	for (int i = 0; i < n; i++)
		if (ids[i] == PM_HOOK_TC_EGRESS)
			r->out_if = v->ifaces[0].ifindex;
}

void ipfix_export_mix(struct ipfix *x, const struct pm_view *v,
		      const struct dest_table *prev, uint64_t start_ns)
{
	const struct dest_table *t = v->dests;
	struct mix_rec r = {};

	r.start_ms = mono_to_real_ns(start_ns) / 1000000;
	r.end_ms = mono_to_real_ns(v->taken_ns) / 1000000;
	r.plen4 = x->agg4;
	r.plen6 = x->agg6;
	mix_ifaces(v, &r);
	for (int i = 0; i < x->n; i++) {
		struct coll *c = &x->c[i];

		if (!c->t.tcp)
			udp_round(c);
		templates_if_due(c);
	}
	/* IPv4 destinations, then IPv6: one template switch per interval */
	for (int fam = 0; fam < 2; fam++) {
		for (int i = 0; i < x->n; i++)
			set_tmpl(&x->c[i], x->c[i].itid_mix,
				 x->c[i].etid[fam ? T_MIX6 : T_MIX4]);
		for (size_t i = 0; i < t->n; i++) {
			long p;

			if (addr_is_v4(t->keys[i].addr) != !fam)
				continue;
			p = prev && prev->n ? dest_table_find(prev, &t->keys[i]) : -1;
			mix_dest(x, &r, v, &t->keys[i], &t->vals[i],
				 p >= 0 ? &prev->vals[p] : NULL, !fam);
		}
	}
	for (int i = 0; i < x->n; i++) {
		struct coll *c = &x->c[i];

		emit(c);
	}
}

void ipfix_export_alert(struct ipfix *x, const struct alert *a)
{
	struct alert_rec r = {};
	char exp_text[160], ev[EVIDENCE_MAX];
	bool v4 = addr_is_v4(a->dst), spi = a->class == PM_C_ESP ||
		  a->class == PM_C_AH || a->class == PM_C_ESP_UDP;
	int t = v4 ? (spi ? T_AL4_SPI : T_AL4) : (spi ? T_AL6_SPI : T_AL6);

	r.time_ms = a->real_ns / 1000000;
	varstr(&r.kind, kind_name(a->kind));
	varstr(&r.cls, class_name(a->class));
	varstr(&r.expected, classes_text(a->expected, exp_text, sizeof(exp_text)));
	varstr(&r.ifname, a->iface);
	varstr(&r.evidence, alert_evidence(a, ev, sizeof(ev)));
	if (v4) {
		memcpy(&r.src4, a->src + 12, 4);
		memcpy(&r.dst4, a->dst + 12, 4);
		r.src4 = ntohl(r.src4);
		r.dst4 = ntohl(r.dst4);
	} else {
		memcpy(r.src6, a->src, 16);
		memcpy(r.dst6, a->dst, 16);
	}
	r.spi = a->spi;
	r.seq = a->seq;
	r.sport = a->sport;
	r.dport = a->dport;
	r.proto = proto_of[a->class < PM_NCLASS ? a->class : PM_C_OTHER];
	r.direction = a->hook == PM_HOOK_TC_EGRESS;
	if (r.direction)
		r.out_if = a->ifindex;
	else
		r.in_if = a->ifindex;
	for (int i = 0; i < x->n; i++) {
		struct coll *c = &x->c[i];

		if (c->t.tcp && c->state == C_DOWN) {
			c->dropped++;
			continue;
		}
		templates_if_due(c);
		if (!set_tmpl(c, c->itid_alert, c->etid[t]) || !append(c, &r, sizeof(r)))
			continue;
		emit(c);
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
		emit(&x->c[i]);
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
