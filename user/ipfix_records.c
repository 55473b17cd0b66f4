// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The IPFIX records (see ipfix.h): the enterprise elements protomix
 * defines, the two records in memory with the specs of their templates
 * (mix records, a destination's packets and bytes per class in an
 * interval; alert records, one per alert), the IP protocol each class is
 * exported with (proto_of), and the records built from a read of the
 * table or from an alert and appended to every collector's message
 * through ipfix.c's encoder (ipfix_coll.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
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

fbInfoElement_t pm_elements[] = {
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

fbInfoElementSpec_t ipfix_mix_spec[] = {
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

fbInfoElementSpec_t ipfix_alert_spec[] = {
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
			coll_append(co, r, sizeof(*r));
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
		coll_templates_if_due(c);
	}
	/* IPv4 destinations, then IPv6: one template switch per interval */
	for (int fam = 0; fam < 2; fam++) {
		for (int i = 0; i < x->n; i++)
			coll_set_tmpl(&x->c[i], x->c[i].itid_mix,
				      x->c[i].etid[fam ? T_MIX6 : T_MIX4]);
		for (size_t i = 0; i < t->n; i++) {
			if (addr_is_v4(t->keys[i].addr) != !fam)
				continue;
			mix_dest(x, &r, v, &t->keys[i], &t->vals[i],
				 dest_table_prev(prev, &t->keys[i], i), !fam);
		}
	}
	for (int i = 0; i < x->n; i++) {
		struct coll *c = &x->c[i];

		coll_emit(c);
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
		coll_templates_if_due(c);
		if (!coll_set_tmpl(c, c->itid_alert, c->etid[t]) ||
		    !coll_append(c, &r, sizeof(r)))
			continue;
		coll_emit(c);
	}
}
