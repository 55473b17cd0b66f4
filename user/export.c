// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* A snapshot as Markdown, CSV and pcap (export.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include "alerts.h"
#include "classes.h"
#include "export.h"
#include "util.h"

/* The keys of an object of counts, in class order (names point into o). */
static size_t class_keys(json_object *o, const char ***out)
{
	const char **keys;
	size_t n = 0;

	*out = NULL;
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_length(o))
		return 0;
	keys = calloc(json_object_object_length(o), sizeof(*keys));
	if (!keys)
		return 0;
	json_object_object_foreach(o, k, v) {
		(void)v;
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), snap_cmp_class);
	*out = keys;
	return n;
}

/* The destinations, busiest first, ties by address. */
struct dest {
	json_object *o;
	const char *addr;
	uint64_t packets, bytes;
};

static int cmp_dest(const void *a, const void *b)
{
	const struct dest *x = a, *y = b;

	return cmp_busier(x->packets, y->packets) ?: snap_cmp_addr(x->addr, y->addr);
}

static size_t dests_sorted(json_object *snap, struct dest **out)
{
	json_object *arr = snap_get(snap, "destinations", json_type_array);
	size_t n = arr ? json_object_array_length(arr) : 0, m = 0;
	struct dest *d;

	*out = NULL;
	d = calloc(n ? n : 1, sizeof(*d));
	if (!d)
		return 0;
	for (size_t i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(o, json_type_object))
			continue;
		d[m].o = o;
		d[m].addr = snap_str(o, "addr");
		d[m].packets = snap_sum(snap_get(o, "packets", json_type_object));
		d[m].bytes = snap_sum(snap_get(o, "bytes", json_type_object));
		m++;
	}
	qsort(d, m, sizeof(*d), cmp_dest);
	*out = d;
	return m;
}

/* A JSON array of strings joined by sep ("" if none). */
static char *join_strings(json_object *arr, const char *sep, char *buf, size_t len)
{
	size_t n = arr ? json_object_array_length(arr) : 0, off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_string))
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? sep : "",
				json_object_get_string(v));
	}
	return buf;
}

/* " (via vxlan,gtp_u)" for a destination with "via", else "" (via_text's
 * words, from the document). */
static char *via_suffix(json_object *d, char *buf, size_t len)
{
	char names[128];

	join_strings(snap_get(d, "via", json_type_array), ",", names, sizeof(names));
	if (*names)
		snprintf(buf, len, " (via %s)", names);
	else if (len)
		buf[0] = 0;
	return buf;
}

static bool in_strings(json_object *arr, const char *s)
{
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (json_object_is_type(v, json_type_string) &&
		    !strcmp(json_object_get_string(v), s))
			return true;
	}
	return false;
}

/* "2026-11-27T11:51:03.852511Z" -> ns since the epoch; false if not. */
static bool parse_time(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t frac = 0, scale = 1000000000;

	if (!p)
		return false;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
	time_t secs;

	if (strcmp(p, "Z"))
		return false;
	secs = timegm(&tm);
	/* years 1970 to 2262: what fits in int64 nanoseconds */
	if (secs < 0 || secs > INT64_MAX / 1000000000 - 1)
		return false;
	*ns = (int64_t)secs * 1000000000 + frac;
	return true;
}

/* "1h 2m 3s", "2m 0s", "12.5s" */
static char *fmt_duration(int64_t ns, char *buf, size_t len)
{
	int64_t s = ns / 1000000000;

	if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m %" PRId64 "s",
			 s / 3600, s / 60 % 60, s % 60);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
	return buf;
}

/* ---- Markdown ------------------------------------------------------ */

/* Text in a table cell: '|' escaped, line breaks as spaces. */
static void md_cell(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

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
	char line[320];		/* tcpdump-style, without the time */
	const char *time, *kind, *iface, *dir, *src, *dst, *class;
	const char *via;	/* the tunnel it came inside, or "" */
	char expected[128];
	bool has_spi;
	uint32_t spi, seq;
};

/* tcpdump's line for an alert (alert_evidence), with the ports taken from
 * "sport"/"dport" or else from the evidence frame. Without ports for a
 * class that has them, or without addresses, the line leaves out what it
 * does not know. */
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
	if (snap_get(a, "sport", json_type_int) && snap_get(a, "dport", json_type_int)) {
		al.sport = (uint16_t)snap_u64(a, "sport");
		al.dport = (uint16_t)snap_u64(a, "dport");
		have_ports = true;
	} else if (!*it->via &&	/* a tunnel's frame starts with the outer ports */
		   (n = unhex(snap_str(ev, "frame"), frame, sizeof(frame))) > 0) {
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

bool snap_parse_time(const char *s, int64_t *ns)
{
	return parse_time(s, ns);
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

static void md_alerts(FILE *f, json_object *snap)
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

/* "esp 95.2%, tcp 4.8%": classes by share, largest first. */
struct share {
	const char *name;
	uint64_t n;
};

static int cmp_share(const void *a, const void *b)
{
	const struct share *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return snap_cmp_class(&x->name, &y->name);
}

static void md_mix(FILE *f, json_object *packets, uint64_t total)
{
	const char **keys;
	size_t n = class_keys(packets, &keys), m = 0;
	struct share *s = calloc(n ? n : 1, sizeof(*s));
	char pct[16];

	if (!s) {
		free(keys);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		s[m].name = keys[i];
		s[m].n = snap_u64(packets, keys[i]);
		if (s[m].n)
			m++;
	}
	qsort(s, m, sizeof(*s), cmp_share);
	for (size_t i = 0; i < m; i++) {
		fputs(i ? ", " : "", f);
		md_cell(f, s[i].name);
		fprintf(f, " %s", snap_fmt_share(s[i].n, total, pct, sizeof(pct)));
	}
	if (!m)
		fputs("-", f);
	free(keys);
	free(s);
}

static void md_dests(FILE *f, const struct dest *d, size_t n)
{
	char exp[256], via[160];
	size_t shown = n < EXPORT_MD_TOP ? n : EXPORT_MD_TOP;
	uint64_t rest = 0;

	fprintf(f, "## Top destinations\n\n");
	if (!n) {
		fputs("No destinations.\n\n", f);
		return;
	}
	if (shown < n)
		fprintf(f, "The %zu busiest of %zu destinations", shown, n);
	else
		fprintf(f, "%s %zu destination%s, busiest first", n == 1 ? "The" : "All",
			n, n == 1 ? "" : "s");
	fputs(" (packets received; the mix is the share of each class in its "
	      "packets; \"via\": seen inside those tunnels).\n\n", f);
	fputs("| # | Destination | Packets | Bytes | Class mix | Expected | Violations |\n"
	      "|--:|---|--:|--:|---|---|--:|\n", f);
	for (size_t i = 0; i < shown; i++) {
		fprintf(f, "| %zu | ", i + 1);
		md_cell(f, d[i].addr);
		md_cell(f, via_suffix(d[i].o, via, sizeof(via)));
		fprintf(f, " | %" PRIu64 " | %" PRIu64 " | ", d[i].packets, d[i].bytes);
		md_mix(f, snap_get(d[i].o, "packets", json_type_object), d[i].packets);
		fputs(" | ", f);
		join_strings(snap_get(d[i].o, "expected", json_type_array), ", ",
			     exp, sizeof(exp));
		md_cell(f, *exp ? exp : "-");
		fprintf(f, " | %" PRIu64 " |\n", snap_u64(d[i].o, "violations"));
	}
	for (size_t i = shown; i < n; i++)
		rest += d[i].packets;
	if (n > shown)
		fprintf(f, "\n%zu more destinations with %" PRIu64 " packets "
			"(`protomix snapshot -f csv` lists them all).\n", n - shown,
			rest);
	fputc('\n', f);
}

/* What a destination received outside its expected classes: "esp 20
 * (28.6%)". Returns the packets outside. */
static uint64_t md_outside(FILE *f, const struct dest *d, json_object *exp)
{
	json_object *packets = snap_get(d->o, "packets", json_type_object);
	const char **keys;
	size_t n = class_keys(packets, &keys);
	uint64_t out = 0, v;
	char pct[16];
	int shown = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_strings(exp, keys[i]) || !(v = snap_u64(packets, keys[i])))
			continue;
		out += v;
		if (f) {
			fputs(shown++ ? ", " : "", f);
			md_cell(f, keys[i]);
			fprintf(f, " %" PRIu64 " (%s)", v,
				snap_fmt_share(v, d->packets, pct, sizeof(pct)));
		}
	}
	if (f && !shown)
		fputs("-", f);
	free(keys);
	return out;
}

static bool dest_has_exp(const struct dest *d)
{
	json_object *exp = snap_get(d->o, "expected", json_type_array);

	return exp && json_object_array_length(exp);
}

static int cmp_exp_dest(const void *a, const void *b)
{
	const struct dest *x = *(const struct dest *const *)a;
	const struct dest *y = *(const struct dest *const *)b;
	uint64_t vx = snap_u64(x->o, "violations"), vy = snap_u64(y->o, "violations");

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return cmp_dest(x, y);
}

static void md_expectations(FILE *f, const struct dest *d, size_t n)
{
	const struct dest **e = calloc(n ? n : 1, sizeof(*e));
	size_t ne = 0;
	char exp[256];

	fputs("## Expectations\n\n", f);
	if (!e)
		return;
	for (size_t i = 0; i < n; i++)
		if (dest_has_exp(&d[i]))
			e[ne++] = &d[i];
	if (!ne) {
		fputs("No destination had an expectation (declared with --expect "
		      "or learned).\n\n", f);
		free(e);
		return;
	}
	qsort(e, ne, sizeof(*e), cmp_exp_dest);
	fprintf(f, "%zu destination%s with an expectation, most violations "
		"first%s.\n\n", ne, ne == 1 ? "" : "s",
		ne > 50 ? " (the first 50)" : "");
	fputs("| Destination | Expected | Received outside the expectation (packets) | Violations |\n"
	      "|---|---|---|--:|\n", f);
	for (size_t i = 0; i < ne && i < 50; i++) {
		json_object *ex = snap_get(e[i]->o, "expected", json_type_array);

		fputs("| ", f);
		md_cell(f, e[i]->addr);
		fputs(" | ", f);
		md_cell(f, join_strings(ex, ", ", exp, sizeof(exp)));
		fputs(" | ", f);
		md_outside(f, e[i], ex);
		fprintf(f, " | %" PRIu64 " |\n", snap_u64(e[i]->o, "violations"));
	}
	fputc('\n', f);
	free(e);
}

/* "tcp 50, esp 20" for an object of counts (zeros left out). */
static void md_counts(FILE *f, json_object *o, bool class_order)
{
	const char **keys = NULL;
	size_t n = 0;
	int shown = 0;

	if (class_order) {
		n = class_keys(o, &keys);
	} else if (json_object_is_type(o, json_type_object)) {
		keys = calloc(json_object_object_length(o) + 1, sizeof(*keys));
		if (keys) {
			json_object_object_foreach(o, k, v) {
				(void)v;
				keys[n++] = k;
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v = snap_u64(o, keys[i]);

		if (!v)
			continue;
		fputs(shown++ ? ", " : "", f);
		md_cell(f, keys[i]);
		fprintf(f, " %" PRIu64, v);
	}
	if (!shown)
		fputs("0", f);
	free(keys);
}

static void md_row(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "| %s | %" PRIu64 " |\n", name, v);
}

static void md_counters(FILE *f, json_object *snap)
{
	json_object *st = snap_get(snap, "stats", json_type_object);
	json_object *mal = snap_get(st, "malformed", json_type_object);
	json_object *hooks = snap_get(st, "hooks", json_type_object);
	uint64_t malformed = snap_get(st, "malformed_total", json_type_int) ?
			     snap_u64(st, "malformed_total") : snap_sum(mal);
	uint64_t evicted = snap_u64(st, "evicted_dests");
	uint64_t drops = snap_u64(st, "ringbuf_drops");
	uint64_t fails = snap_u64(st, "dest_update_fail") +
			 snap_u64(st, "pair_update_fail");

	fputs("## Counters\n\n", f);
	fputs("| Counter | Value |\n|---|--:|\n", f);
	md_row(f, "frames seen", snap_u64(st, "frames"));
	fputs("| packets by class | ", f);
	md_counts(f, snap_get(st, "packets", json_type_object), true);
	fputs(" |\n| bytes by class | ", f);
	md_counts(f, snap_get(st, "bytes", json_type_object), true);
	fputs(" |\n", f);
	md_row(f, "non-IP frames", snap_u64(st, "non_ip"));
	if (snap_get(st, "macsec", json_type_int))	/* since issue 13 */
		md_row(f, "MACsec frames", snap_u64(st, "macsec"));
	if (snap_get(st, "mpls_other", json_type_int))
		md_row(f, "MPLS frames without IP", snap_u64(st, "mpls_other"));
	if (snap_get(st, "pppoe_other", json_type_int))
		md_row(f, "PPPoE frames without IP", snap_u64(st, "pppoe_other"));
	md_row(f, "malformed frames", malformed);
	if (json_object_is_type(mal, json_type_object)) {
		json_object_object_foreach(mal, reason, v) {
			if (!snap_u64_of(v))
				continue;
			fputs("| malformed: ", f);
			md_cell(f, reason);
			fprintf(f, " | %" PRIu64 " |\n", snap_u64_of(v));
		}
	}
	if (snap_get(st, "inner_packets", json_type_int)) {	/* schema 3 */
		json_object *inner = snap_get(st, "inner_reason", json_type_object);

		md_row(f, "packets inside tunnels, counted", snap_u64(st, "inner_packets"));
		if (json_object_is_type(inner, json_type_object)) {
			json_object_object_foreach(inner, reason, v) {
				if (!snap_u64_of(v))
					continue;
				fputs("| inside tunnels, not counted: ", f);
				md_cell(f, reason);
				fprintf(f, " | %" PRIu64 " |\n", snap_u64_of(v));
			}
		}
	}
	md_row(f, "VLAN-tagged frames", snap_u64(st, "vlan_frames"));
	md_row(f, "GSO frames", snap_u64(st, "gso_frames"));
	fprintf(f, "| destinations tracked | %" PRIu64 " of %" PRIu64 " |\n",
		snap_u64(st, "dests"), snap_u64(st, "max_dests"));
	md_row(f, "destinations seen", snap_u64(st, "new_dests"));
	md_row(f, "destinations evicted", evicted);
	md_row(f, "destination update failures", snap_u64(st, "dest_update_fail"));
	fputs("| alerts by kind | ", f);
	md_counts(f, snap_get(st, "alerts", json_type_object), false);
	fputs(" |\n| violations by kind | ", f);
	md_counts(f, snap_get(st, "violations", json_type_object), false);
	fputs(" |\n", f);
	md_row(f, "evidence samples", snap_u64(st, "sampled"));
	md_row(f, "samples suppressed (rate limit)", snap_u64(st, "suppressed"));
	md_row(f, "ring buffer drops", drops);
	md_row(f, "pair update failures", snap_u64(st, "pair_update_fail"));
	if (json_object_is_type(hooks, json_type_object)) {
		json_object_object_foreach(hooks, h, hs) {
			fputs("| frames at ", f);
			md_cell(f, h);
			fprintf(f, " | %" PRIu64 " |\n", snap_u64(hs, "frames"));
		}
	}
	fputc('\n', f);
	if (evicted)
		fprintf(f, "> %" PRIu64 " destination%s evicted (the map was "
			"full): the per-destination counts leave %s out; the "
			"totals by class above are complete.\n\n", evicted,
			evicted == 1 ? " was" : "s were", evicted == 1 ? "it" : "them");
	if (drops)
		fprintf(f, "> %" PRIu64 " evidence sample%s lost (ring buffer "
			"full): the alerts above are incomplete.\n\n", drops,
			drops == 1 ? " was" : "s were");
	if (fails)
		fprintf(f, "> %" PRIu64 " map update%s failed: some packets are in "
			"the totals only.\n\n", fails, fails == 1 ? "" : "s");
}

static void md_header(FILE *f, json_object *snap, const struct dest *d, size_t n)
{
	json_object *ifs = snap_get(snap, "interfaces", json_type_array);
	const char *host = snap_str(snap, "host");
	const char *from = snap_str(snap, "started_at"), *to = snap_str(snap, "taken_at");
	size_t nifs = ifs ? json_object_array_length(ifs) : 0;
	int64_t t0, t1;
	char dur[48], hooks[128];

	fprintf(f, "# protomix report: %s\n\n", *host ? host : "unknown host");
	fprintf(f, "- **Host:** %s\n", *host ? host : "-");
	fprintf(f, "- **Kernel:** %s\n", *snap_str(snap, "kernel") ?
		snap_str(snap, "kernel") : "-");
	fprintf(f, "- **Window:** %s to %s", *from ? from : "?", *to ? to : "?");
	if (parse_time(from, &t0) && parse_time(to, &t1) && t1 >= t0)
		fprintf(f, " (%s)", fmt_duration(t1 - t0, dur, sizeof(dur)));
	fputs("\n- **Interfaces:** ", f);
	for (size_t i = 0; i < nifs; i++) {
		json_object *io = json_object_array_get_idx(ifs, i);

		fprintf(f, "%s%s (%s)", i ? "; " : "", snap_str(io, "name"),
			join_strings(snap_get(io, "hooks", json_type_array), ", ",
				     hooks, sizeof(hooks)));
	}
	fputs(nifs ? "\n" : "-\n", f);
	fprintf(f, "- **Schema:** %s\n\n", *snap_str(snap, "schema") ?
		snap_str(snap, "schema") : "-");

	/* The finding first: who received what it should not have. */
	fputs("## Summary\n\n", f);
	{
		json_object *alerts = snap_get(snap, "alerts", json_type_array);
		json_object *kinds = snap_get(snap_get(snap, "stats", json_type_object),
					      "alerts", json_type_object);
		size_t na = alerts ? json_object_array_length(alerts) : 0;
		int said = 0;

		for (size_t i = 0; i < n; i++) {
			json_object *ex = snap_get(d[i].o, "expected", json_type_array);
			char exp[256];

			if (!dest_has_exp(&d[i]) || !md_outside(NULL, &d[i], ex))
				continue;
			if (said++ == 10) {
				fputs("- ... (see Expectations)\n", f);
				break;
			}
			fprintf(f, "- **%s** expected %s, received ", d[i].addr,
				join_strings(ex, ", ", exp, sizeof(exp)));
			md_outside(f, &d[i], ex);
			fputc('\n', f);
		}
		if (!said)
			fputs("- No destination received a class outside its "
			      "expectation.\n", f);
		fprintf(f, "- %zu destination%s; %zu alert%s in this snapshot",
			n, n == 1 ? "" : "s", na, na == 1 ? "" : "s");
		if (snap_sum(kinds)) {
			fputs(" (raised in all: ", f);
			md_counts(f, kinds, false);
			fputs(")", f);
		}
		fputs(".\n\n", f);
	}
}

int export_md(FILE *f, json_object *snap)
{
	struct dest *d;
	size_t n = dests_sorted(snap, &d);

	md_header(f, snap, d, n);
	md_alerts(f, snap);
	md_dests(f, d, n);
	md_expectations(f, d, n);
	md_counters(f, snap);
	free(d);
	return ferror(f) ? -EIO : 0;
}

/* ---- CSV ----------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int export_csv(FILE *f, json_object *snap)
{
	struct dest *d;
	size_t n = dests_sorted(snap, &d);
	char exp[512], via[160];

	fputs("addr,class,packets,bytes,first_seen,last_seen,expected,violations,via\n", f);
	for (size_t i = 0; i < n; i++) {
		json_object *packets = snap_get(d[i].o, "packets", json_type_object);
		json_object *bytes = snap_get(d[i].o, "bytes", json_type_object);
		const char **keys;
		size_t nk = class_keys(packets, &keys);

		join_strings(snap_get(d[i].o, "expected", json_type_array), ";",
			     exp, sizeof(exp));
		join_strings(snap_get(d[i].o, "via", json_type_array), ";",
			     via, sizeof(via));
		for (size_t k = 0; k < nk; k++) {
			uint64_t p = snap_u64(packets, keys[k]);

			if (!p)
				continue;
			csv_field(f, d[i].addr);
			fputc(',', f);
			csv_field(f, keys[k]);
			fprintf(f, ",%" PRIu64 ",%" PRIu64 ",", p, snap_u64(bytes, keys[k]));
			csv_field(f, snap_str(d[i].o, "first_seen"));
			fputc(',', f);
			csv_field(f, snap_str(d[i].o, "last_seen"));
			fputc(',', f);
			csv_field(f, exp);
			fprintf(f, ",%" PRIu64 ",", snap_u64(d[i].o, "violations"));
			csv_field(f, via);
			fputc('\n', f);
		}
		free(keys);
	}
	free(d);
	return ferror(f) ? -EIO : 0;
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
