// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <string.h>
#include <time.h>
#include "alerts.h"
#include "classes.h"
#include "evidence.h"
#include "rules.h"
#include "util.h"

static const char *kinds[PM_NKIND] = {
	[PM_K_UNEXPECTED] = "unexpected_protocol",
	[PM_K_SHIFT]	  = "protocol_shift",
	[PM_K_ONE_WAY]	  = "one_way_ipsec",
};

const char *kind_name(unsigned int k)
{
	return k < PM_NKIND ? kinds[k] : "?";
}

int alert_log_init(struct alert_log *log, size_t cap)
{
	memset(log, 0, sizeof(*log));
	log->ring = calloc(cap, sizeof(*log->ring));
	log->cap = cap;
	return log->ring ? 0 : -1;
}

void alert_log_free(struct alert_log *log)
{
	free(log->ring);
	memset(log, 0, sizeof(*log));
}

void alert_log_add(struct alert_log *log, const struct alert *a)
{
	if (a->kind < PM_NKIND)
		log->total[a->kind]++;
	log->ring[log->next] = *a;
	log->next = (log->next + 1) % log->cap;
	if (log->n < log->cap)
		log->n++;
}

const struct alert *alert_log_get(const struct alert_log *log, size_t i)
{
	size_t first = (log->next + log->cap - log->n) % log->cap;

	return &log->ring[(first + i) % log->cap];
}

void alert_from_event(struct alert *a, const struct pm_event *ev)
{
	memset(a, 0, sizeof(*a));
	a->real_ns = mono_to_real_ns(ev->ts);
	a->kind = ev->kind;
	a->class = ev->class;
	a->hook = ev->hook;
	a->tunnel = ev->tunnel;
	a->ifindex = ev->ifindex;
	if (!if_indextoname(ev->ifindex, a->iface))
		snprintf(a->iface, sizeof(a->iface), "if%u", ev->ifindex);
	memcpy(a->src, ev->src, 16);
	memcpy(a->dst, ev->dst, 16);
	a->sport = ev->sport;
	a->dport = ev->dport;
	a->spi = ev->spi;
	a->seq = ev->seq;
	a->len = ev->len;
	a->expected = ev->kind == PM_K_UNEXPECTED ? ev->allowed :
		      ev->kind == PM_K_SHIFT ? 1u << PM_C_TCP : 0;
	a->wire_len = ev->wire_len;
	a->cap_len = ev->cap_len <= PM_SNAP_LEN ? ev->cap_len : PM_SNAP_LEN;
	memcpy(a->frame, ev->frame, a->cap_len);
}

/* Without the frame (one_way_ipsec, or a snapshot without its evidence):
 * the line made of the alert's fields. */
static char *alert_fields_line(const struct alert *a, char *buf, size_t len)
{
	char s[64], d[64], sp[8] = "", dp[8] = "";
	const char *ip = addr_is_v4(a->dst) ? "IP" : "IP6";
	bool ports = a->class == PM_C_TCP || a->class == PM_C_UDP ||
		     a->class == PM_C_ESP_UDP || a->class == PM_C_IKE ||
		     a->class == PM_C_WIREGUARD;

	fmt_addr(a->src, s, sizeof(s));
	fmt_addr(a->dst, d, sizeof(d));
	if (ports) {
		snprintf(sp, sizeof(sp), ".%u", a->sport);
		snprintf(dp, sizeof(dp), ".%u", a->dport);
	}
	switch (a->class) {
	case PM_C_ESP:
		snprintf(buf, len, "%s %s > %s: ESP(spi=0x%08x,seq=0x%x), length %u",
			 ip, s, d, a->spi, a->seq, a->len);
		break;
	case PM_C_AH:
		snprintf(buf, len, "%s %s > %s: AH(spi=0x%08x,seq=0x%x), length %u",
			 ip, s, d, a->spi, a->seq, a->len);
		break;
	case PM_C_ESP_UDP:
		snprintf(buf, len, "%s %s%s > %s%s: UDP-encap: ESP(spi=0x%08x,seq=0x%x), length %u",
			 ip, s, sp, d, dp, a->spi, a->seq, a->len);
		break;
	default: {
		/* tcpdump's way: the protocol in capitals */
		char proto[16];
		size_t i;

		for (i = 0; i + 1 < sizeof(proto) && class_name(a->class)[i]; i++)
			proto[i] = toupper((unsigned char)class_name(a->class)[i]);
		proto[i] = 0;
		snprintf(buf, len, "%s %s%s > %s%s: %s, length %u", ip, s, sp, d,
			 dp, proto, a->len);
		break;
	}
	}
	return buf;
}

char *alert_evidence(const struct alert *a, char *buf, size_t len)
{
	uint32_t wire = a->wire_len > a->cap_len ? a->wire_len : a->cap_len;

	if (a->cap_len && evidence_line(a->frame, a->cap_len, wire, buf, len) !=
			  EVIDENCE_NONE)
		return buf;
	return alert_fields_line(a, buf, len);
}

static const char *dir_name(uint8_t hook)
{
	return hook == PM_HOOK_TC_EGRESS ? "egress" : "ingress";
}

json_object *alert_json(const struct alert *a)
{
	json_object *o = json_object_new_object();
	char buf[64];

	json_object_object_add(o, "type", json_object_new_string("alert"));
	json_object_object_add(o, "kind", json_object_new_string(kind_name(a->kind)));
	json_object_object_add(o, "time", json_object_new_string(
				       fmt_time(a->real_ns, buf, sizeof(buf))));
	json_object_object_add(o, "iface", json_object_new_string(a->iface));
	json_object_object_add(o, "dir", json_object_new_string(dir_name(a->hook)));
	json_object_object_add(o, "src", json_object_new_string(
				       fmt_addr(a->src, buf, sizeof(buf))));
	json_object_object_add(o, "dst", json_object_new_string(
				       fmt_addr(a->dst, buf, sizeof(buf))));
	json_object_object_add(o, "class", json_object_new_string(class_name(a->class)));
	if (a->class == PM_C_ESP || a->class == PM_C_AH || a->class == PM_C_ESP_UDP) {
		snprintf(buf, sizeof(buf), "0x%08x", a->spi);
		json_object_object_add(o, "spi", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "0x%x", a->seq);
		json_object_object_add(o, "seq", json_object_new_string(buf));
	}
	json_object_object_add(o, "len", json_object_new_int64(a->len));
	if (a->kind != PM_K_ONE_WAY)
		json_object_object_add(o, "expected", classes_json(a->expected));
	if (tunnel_class(a->tunnel) >= 0)
		json_object_object_add(o, "via", json_object_new_string(
					       class_name(a->tunnel)));
	return o;
}

void alert_print(FILE *out, bool json, const struct alert *a)
{
	char ev[EVIDENCE_MAX], exp[128], t[16];
	time_t secs = a->real_ns / 1000000000ull;
	struct tm tm;

	if (json) {
		json_object *o = alert_json(a);

		fprintf(out, "%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		fflush(out);
		return;
	}
	localtime_r(&secs, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	alert_evidence(a, ev, sizeof(ev));
	if (a->kind == PM_K_ONE_WAY)
		snprintf(exp, sizeof(exp), "nothing came back");
	else
		snprintf(exp, sizeof(exp), "expected %s",
			 classes_text(a->expected, (char[96]){ 0 }, 96));
	fprintf(out, "%s.%06u %s %s %s [%s: %s]\n", t,
		(unsigned int)(a->real_ns % 1000000000ull / 1000), a->iface,
		dir_name(a->hook), ev, kind_name(a->kind), exp);
	fflush(out);
}

static int cmp_pair_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pm_pair_key));
}

struct pair_rec {
	struct pm_pair_key k;
	struct pm_pair v;
};

static int cmp_pair_rec(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pm_pair_key));
}

int oneway_scan(int fd, uint64_t now, uint64_t window_ns, struct oneway *ow,
		alert_fn fn, void *ctx)
{
	struct pm_pair_key k, next, *raised = NULL;
	struct pair_rec *recs = NULL, *tmp, rev, *r;
	size_t n = 0, cap = 0, nraised = 0;
	void *prev = NULL;

	/* The pairs map is small (IPsec conversations only): walk it. */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		k = next;
		prev = &k;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(recs, cap * sizeof(*recs));
			if (!tmp)
				goto nomem;
			recs = tmp;
		}
		if (bpf_map_lookup_elem(fd, &k, &recs[n].v))
			continue;
		recs[n++].k = k;
	}
	qsort(recs, n, sizeof(*recs), cmp_pair_rec);
	raised = calloc(n ? n : 1, sizeof(*raised));
	if (!raised)
		goto nomem;

	for (size_t i = 0; i < n; i++) {
		const struct pm_pair *p = &recs[i].v;
		struct alert a;

		if (!p->esp_ticks || now - p->last_seen > window_ns ||
		    now - p->first_seen < window_ns)
			continue;	/* no ESP lately, or too young to tell */
		memcpy(rev.k.src, recs[i].k.dst, 16);
		memcpy(rev.k.dst, recs[i].k.src, 16);
		r = bsearch(&rev, recs, n, sizeof(*recs), cmp_pair_rec);
		if (r && now - r->v.last_seen <= window_ns)
			continue;	/* B answered within the window */
		raised[nraised++] = recs[i].k;
		if (bsearch(&recs[i].k, ow->raised, ow->n, sizeof(*ow->raised),
			    cmp_pair_key))
			continue;	/* already said */
		memset(&a, 0, sizeof(a));
		a.real_ns = mono_to_real_ns(now);
		a.kind = PM_K_ONE_WAY;
		a.tunnel = PM_TUN_NONE;	/* a pair's state, not a packet's */
		a.class = p->class;
		a.hook = p->hook;
		a.ifindex = p->ifindex;
		if (!if_indextoname(p->ifindex, a.iface))
			snprintf(a.iface, sizeof(a.iface), "if%u", p->ifindex);
		memcpy(a.src, recs[i].k.src, 16);
		memcpy(a.dst, recs[i].k.dst, 16);
		a.spi = p->spi;
		a.seq = p->seq;
		a.len = p->len;
		fn(&a, ctx);
	}
	free(ow->raised);
	ow->raised = raised;	/* sorted: recs was */
	ow->n = nraised;
	free(recs);
	return 0;
nomem:
	free(recs);
	free(raised);
	return -ENOMEM;
}

void oneway_free(struct oneway *ow)
{
	free(ow->raised);
	memset(ow, 0, sizeof(*ow));
}

uint64_t alert_log_seq(const struct alert_log *log, size_t i)
{
	uint64_t raised = 0;

	for (int k = 0; k < PM_NKIND; k++)
		raised += log->total[k];
	return raised - log->n + 1 + i;
}

/* The line `watch` prints for an alert, without its newline. */
void alert_line(const struct alert *a, char *buf, size_t len)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	buf[0] = 0;
	if (!f)
		return;
	alert_print(f, false, a);
	fclose(f);
	if (text)
		snprintf(buf, len, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}
