// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A snapshot's alerts and their evidence (export_alerts.h): each alert's
 * tcpdump-style line, the Markdown report's alerts section, the evidence
 * frames as pcap. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <pcap/pcap.h>
#include "alerts.h"
#include "classes.h"
#include "export_alerts.h"
#include "export_md.h"
#include "snapjson.h"
#include "util.h"

/* Ports from an evidence frame: Ethernet, up to two VLAN tags, IPv4 or
 * IPv6 with its extension headers, then TCP, UDP or SCTP. False if the
 * frame has none there (or is cut short, or is a non-first fragment). */
static bool frame_ports(const uint8_t *p, size_t n, uint16_t *sport, uint16_t *dport)
{
	size_t off = 14;
	unsigned int et, proto, next;

	if (n < 14)
		return false;
	et = p[12] << 8 | p[13];
	for (int i = 0; i < PM_MAX_VLAN && (et == 0x8100 || et == 0x88a8); i++) {
		if (off + 4 > n)
			return false;
		et = p[off + 2] << 8 | p[off + 3];
		off += 4;
	}
	if (et == 0x0800) {
		if (off + 20 > n || (p[off] & 0xf) < 5 ||
		    ((p[off + 6] & 0x1f) << 8 | p[off + 7]))
			return false;
		proto = p[off + 9];
		off += (p[off] & 0xf) * 4;
	} else if (et == 0x86dd) {
		if (off + 40 > n)
			return false;
		proto = p[off + 6];
		off += 40;
		for (int i = 0; i < PM_MAX_IP6_EXT; i++) {
			if (proto != 0 && proto != 43 && proto != 44 &&
			    proto != 60 && proto != 51)
				break;
			if (off + 8 > n)
				return false;
			next = p[off];
			if (proto == 44) {
				if ((p[off + 2] << 8 | p[off + 3]) & 0xfff8)
					return false;
				off += 8;
			} else if (proto == 51) {
				off += (p[off + 1] + 2) * 4;
			} else {
				off += (p[off + 1] + 1) * 8;
			}
			proto = next;
		}
	} else {
		return false;
	}
	if ((proto != 6 && proto != 17 && proto != 132) || off + 4 > n)
		return false;
	*sport = p[off] << 8 | p[off + 1];
	*dport = p[off + 2] << 8 | p[off + 3];
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex text into at most cap bytes. The byte count, or -1 if it is not an
 * even number of hex digits or too long. */
static int unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = hi << 4 | lo;
	}
	return n / 2;
}

/* "0xd7ca145d" (or a number) -> value */
static bool hex_member(json_object *o, const char *key, uint32_t *out)
{
	json_object *v;
	const char *s;
	char *end;
	unsigned long x;

	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !v)
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*out = (uint32_t)json_object_get_int64(v);
		return true;
	}
	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	errno = 0;
	x = strtoul(s, &end, 0);
	if (errno || end == s || *end || x > UINT32_MAX)
		return false;
	*out = x;
	return true;
}

/* One alert, as the report needs it. */
struct item {
	size_t idx;		/* in "alerts" */
	char key[512];		/* what makes a group */
	char line[EVIDENCE_MAX];	/* tcpdump-style, without the time */
	const char *time, *kind, *iface, *dir, *src, *dst, *class;
	const char *via;	/* the tunnel it came inside, or "" */
	char expected[128];
	bool has_spi;
	uint32_t spi, seq;
};

/* tcpdump's line for an alert: decoded from its evidence frame when the
 * snapshot has it (user/evidence.c), else made of the alert's fields
 * (alert_evidence), with the ports taken from "sport"/"dport" or else
 * from the frame. Without ports for a class that has them, or without
 * addresses, the line leaves out what it does not know. */
static void item_line(struct item *it, json_object *a, json_object *ev)
{
	struct alert al = { 0 };
	uint8_t frame[PM_SNAP_LEN * 4];
	bool ports, have_ports = false, addrs;
	const char *ip;
	int c = class_from_name(it->class), n;

	al.class = c < 0 ? PM_C_OTHER : c;
	al.spi = it->spi;
	al.seq = it->seq;
	al.len = (uint32_t)snap_u64(a, "len");
	addrs = parse_addr(it->src, al.src) && parse_addr(it->dst, al.dst);
	ports = c == PM_C_TCP || c == PM_C_UDP || c == PM_C_ESP_UDP || c == PM_C_IKE ||
		c == PM_C_WIREGUARD;
	n = unhex(snap_str(ev, "frame"), frame, sizeof(frame));
	if (n > 0) {
		/* the frame's own line (user/evidence.c) */
		al.cap_len = n < PM_SNAP_LEN ? n : PM_SNAP_LEN;
		memcpy(al.frame, frame, al.cap_len);
		al.wire_len = (uint32_t)snap_u64(ev, "wire_len");
		if (evidence_line(al.frame, al.cap_len, al.wire_len > al.cap_len ?
				  al.wire_len : al.cap_len, it->line,
				  sizeof(it->line)) != EVIDENCE_NONE)
			return;
		al.cap_len = 0;
	}
	if (snap_get(a, "sport", json_type_int) && snap_get(a, "dport", json_type_int)) {
		al.sport = (uint16_t)snap_u64(a, "sport");
		al.dport = (uint16_t)snap_u64(a, "dport");
		have_ports = true;
	} else if (!*it->via && n > 0) {	/* a tunnel's frame starts with the outer ports */
		have_ports = frame_ports(frame, n, &al.sport, &al.dport);
	}
	if (c >= 0 && addrs && (!ports || have_ports)) {
		alert_evidence(&al, it->line, sizeof(it->line));
		return;
	}
	ip = addrs ? (addr_is_v4(al.dst) ? "IP " : "IP6 ") : "";
	if (c == PM_C_ESP || c == PM_C_AH || c == PM_C_ESP_UDP)
		snprintf(it->line, sizeof(it->line),
			 "%s%s > %s: %s%s(spi=0x%08x,seq=0x%x), length %u", ip,
			 it->src, it->dst, c == PM_C_ESP_UDP ? "UDP-encap: " : "",
			 c == PM_C_AH ? "AH" : "ESP", al.spi, al.seq, al.len);
	else
		snprintf(it->line, sizeof(it->line), "%s%s > %s: %s, length %u",
			 ip, it->src, it->dst, it->class, al.len);
}

static void item_fill(struct item *it, size_t idx, json_object *a, json_object *ev)
{
	it->idx = idx;
	it->time = snap_str(a, "time");
	it->kind = snap_str(a, "kind");
	it->iface = snap_str(a, "iface");
	it->dir = snap_str(a, "dir");
	it->src = snap_str(a, "src");
	it->dst = snap_str(a, "dst");
	it->class = snap_str(a, "class");
	it->via = snap_str(a, "via");
	join_strings(snap_get(a, "expected", json_type_array), ", ",
		     it->expected, sizeof(it->expected));
	it->has_spi = hex_member(a, "spi", &it->spi);
	if (!hex_member(a, "seq", &it->seq))
		it->seq = 0;
	item_line(it, a, ev);
	snprintf(it->key, sizeof(it->key), "%s|%s|%s|%s|%s|%s|%08x%c|%s|%s",
		 it->kind, it->iface, it->dir, it->src, it->dst, it->class,
		 it->spi, it->has_spi ? 's' : '-', it->expected, it->via);
}

char *export_alert_line(json_object *alert, json_object *evidence, char *buf,
			size_t len)
{
	struct item it;

	item_fill(&it, 0, alert, evidence);
	snprintf(buf, len, "%s", it.line);
	return buf;
}

static int cmp_item_key(const void *a, const void *b)
{
	const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
	int c = strcmp(x->key, y->key);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int cmp_item_line(const void *a, const void *b)
{
	const struct item *x = *(struct item *const *)a, *y = *(struct item *const *)b;
	int c = strcmp(x->line, y->line);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

struct group {
	struct item **v;	/* in alert order */
	size_t n;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	return (x->v[0]->idx > y->v[0]->idx) - (x->v[0]->idx < y->v[0]->idx);
}

/* A distinct evidence line of a group, and how often it came. */
struct distinct {
	struct item *first, *last;
	size_t count;
};

static int cmp_distinct(const void *a, const void *b)
{
	const struct distinct *x = a, *y = b;

	return (x->first->idx > y->first->idx) - (x->first->idx < y->first->idx);
}

static void md_distinct_line(FILE *f, const struct distinct *d)
{
	fprintf(f, "%s %s", d->first->time, d->first->line);
	if (d->count > 1)
		fprintf(f, "  [x%zu until %s]", d->count, d->last->time);
	fputc('\n', f);
}

/* The group's evidence lines, identical ones folded, at most
 * EXPORT_MD_LINES distinct lines (the first and the last ones). */
static void md_group_lines(FILE *f, const struct group *g)
{
	struct item **by_line = malloc(g->n * sizeof(*by_line));
	struct distinct *d = calloc(g->n, sizeof(*d));
	size_t nd = 0, head = EXPORT_MD_LINES / 2;

	if (!by_line || !d) {
		free(by_line);
		free(d);
		return;
	}
	memcpy(by_line, g->v, g->n * sizeof(*by_line));
	qsort(by_line, g->n, sizeof(*by_line), cmp_item_line);
	for (size_t i = 0; i < g->n; i++) {
		if (nd && !strcmp(d[nd - 1].first->line, by_line[i]->line)) {
			d[nd - 1].last = by_line[i];
			d[nd - 1].count++;
			continue;
		}
		d[nd].first = d[nd].last = by_line[i];
		d[nd++].count = 1;
	}
	qsort(d, nd, sizeof(*d), cmp_distinct);
	fputs("```\n", f);
	for (size_t i = 0; i < nd; i++) {
		if (nd > EXPORT_MD_LINES && i == head) {
			fprintf(f, "[... %zu more distinct lines ...]\n",
				nd - EXPORT_MD_LINES);
			i = nd - (EXPORT_MD_LINES - head) - 1;
			continue;
		}
		md_distinct_line(f, &d[i]);
	}
	fputs("```\n\n", f);
	free(by_line);
	free(d);
}

static void md_group_row(FILE *f, size_t num, const struct group *g)
{
	const struct item *a = g->v[0], *z = g->v[g->n - 1];
	uint32_t lo = a->seq, hi = a->seq;

	for (size_t i = 0; i < g->n; i++) {
		lo = g->v[i]->seq < lo ? g->v[i]->seq : lo;
		hi = g->v[i]->seq > hi ? g->v[i]->seq : hi;
	}
	fprintf(f, "| %zu | ", num);
	md_cell(f, a->kind);
	fputs(" | ", f);
	md_cell(f, a->class);
	fputc(' ', f);
	md_cell(f, a->src);
	fputs(" > ", f);
	md_cell(f, a->dst);
	if (*a->via) {
		fputs(" (via ", f);
		md_cell(f, a->via);
		fputc(')', f);
	}
	if (a->has_spi) {
		fprintf(f, " | 0x%08x | 0x%x", a->spi, lo);
		if (hi != lo)
			fprintf(f, " - 0x%x", hi);
	} else {
		fputs(" | - | -", f);
	}
	fputs(" | ", f);
	md_cell(f, *a->expected ? a->expected : "-");
	fputs(" | ", f);
	md_cell(f, a->iface);
	fputc(' ', f);
	md_cell(f, a->dir);
	fprintf(f, " | %zu | %s | %s |\n", g->n, a->time, z->time);
}

void md_alerts(FILE *f, json_object *snap)
{
	json_object *alerts = snap_get(snap, "alerts", json_type_array);
	json_object *evidence = snap_get(snap, "evidence", json_type_array);
	size_t n = alerts ? json_object_array_length(alerts) : 0, ng = 0;
	struct item *items = NULL, **by_key = NULL;
	struct group *groups = NULL;

	fputs("## Alerts\n\n", f);
	if (!n) {
		fputs("No alerts.\n\n", f);
		return;
	}
	items = calloc(n, sizeof(*items));
	by_key = calloc(n, sizeof(*by_key));
	groups = calloc(n, sizeof(*groups));
	if (!items || !by_key || !groups) {
		fputs("(out of memory listing the alerts)\n\n", f);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *ev = evidence ? json_object_array_get_idx(evidence, i) : NULL;

		item_fill(&items[i], i, json_object_array_get_idx(alerts, i), ev);
		by_key[i] = &items[i];
	}
	qsort(by_key, n, sizeof(*by_key), cmp_item_key);
	for (size_t i = 0; i < n; i++) {
		if (ng && !strcmp(groups[ng - 1].v[0]->key, by_key[i]->key)) {
			groups[ng - 1].n++;
			continue;
		}
		groups[ng].v = &by_key[i];
		groups[ng++].n = 1;
	}
	qsort(groups, ng, sizeof(*groups), cmp_group);

	fprintf(f, "%zu alert%s in %zu group%s (same kind, interface, direction, "
		"source, destination, class, SPI and tunnel), in the order they were "
		"first raised; \"via\": inside that tunnel. Times are UTC.\n\n",
		n, n == 1 ? "" : "s", ng,
		ng == 1 ? "" : "s");
	fputs("| # | Kind | Packet | SPI | Seq | Expected | Seen on | Alerts | First | Last |\n"
	      "|--:|---|---|---|---|---|---|--:|---|---|\n", f);
	for (size_t i = 0; i < ng; i++)
		md_group_row(f, i + 1, &groups[i]);
	fputs("\n### Evidence\n\n", f);
	fputs("tcpdump-style lines, one per alert; identical lines are folded into "
	      "one with a count", f);
	if (evidence)
		fputs(" (`protomix snapshot --pcap FILE` writes the frames)", f);
	fputs(".\n\n", f);
	for (size_t i = 0; i < ng && i < EXPORT_MD_GROUPS; i++) {
		const struct item *a = groups[i].v[0];

		fprintf(f, "%zu. **%s**: %s %s > %s%s%s%s on %s %s", i + 1, a->kind,
			a->class, a->src, a->dst, *a->via ? " (via " : "", a->via,
			*a->via ? ")" : "", a->iface, a->dir);
		if (*a->expected)
			fprintf(f, ", expected %s", a->expected);
		else if (!strcmp(a->kind, "one_way_ipsec"))
			fputs(", nothing came back", f);
		fputs("\n\n", f);
		md_group_lines(f, &groups[i]);
	}
	if (ng > EXPORT_MD_GROUPS)
		fprintf(f, "(%zu more groups: see the table above.)\n\n",
			ng - EXPORT_MD_GROUPS);
out:
	free(items);
	free(by_key);
	free(groups);
}

/* ---- pcap ---------------------------------------------------------- */

#define PCAP_SNAPLEN	65535

static int write_pcap(FILE *f, void *ctx)
{
	json_object *ev = snap_get(ctx, "evidence", json_type_array);
	size_t n = ev ? json_object_array_length(ev) : 0;
	uint8_t *buf = malloc(PCAP_SNAPLEN);
	pcap_dumper_t *dump = NULL;
	pcap_t *p = NULL;
	FILE *g = NULL;
	int err = 0;

	/* The dumper closes its stream: give it one that leaves f open. */
	p = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, PCAP_SNAPLEN,
						 PCAP_TSTAMP_PRECISION_NANO);
	if (!buf || !p) {
		err = -ENOMEM;
		goto out;
	}
	g = fwrap_noclose(f);
	if (!g) {
		err = -errno;
		goto out;
	}
	dump = pcap_dump_fopen(p, g);
	if (!dump) {
		pm_dbg("pcap: %s", pcap_geterr(p));
		fclose(g);
		err = -EIO;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(ev, i);
		struct pcap_pkthdr h = { 0 };
		uint64_t ts = snap_u64(e, "ts_ns"), wire = snap_u64(e, "wire_len");
		int len = unhex(snap_str(e, "frame"), buf, PCAP_SNAPLEN);

		if (len <= 0) {
			if (len < 0)
				pm_dbg("evidence %zu: frame is not hex, left out", i);
			continue;
		}
		h.ts.tv_sec = ts / 1000000000ull;
		h.ts.tv_usec = ts % 1000000000ull;	/* ns: a nanosecond pcap */
		h.caplen = len;
		h.len = wire >= (uint64_t)len && wire <= UINT32_MAX ? wire : (uint64_t)len;
		pcap_dump((u_char *)dump, &h, buf);
	}
	errno = 0;
	if (pcap_dump_flush(dump) || ferror(pcap_dump_file(dump)))
		err = errno ? -errno : -EIO;
	pcap_dump_close(dump);
out:
	if (p)
		pcap_close(p);
	free(buf);
	return err;
}

int export_pcap(const char *path, json_object *snap_with_evidence)
{
	return write_output(path, write_pcap, snap_with_evidence);
}
