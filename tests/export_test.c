// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * export.c: the Markdown report, the CSV and the evidence pcap of a
 * snapshot whose alerts carry real frames from the frame builder (esp4
 * with the incident's SPI 0xd7ca145d, ah4, esp_udp4, esp_udp6, and an ESP
 * packet longer than the 128 bytes kept). The pcap is read back with
 * libpcap and with tshark (SKIP if it is not installed).
 * Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
 * EXPORT_TEST_KEEP=1 keeps the outputs (their folder is named on stderr).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include "alerts.h"
#include "classes.h"
#include "export.h"
#include "formats.h"
#include "frames.h"
#include "util.h"

static int failures;
static char dir[64];

static void pass(const char *name)
{
	printf("PASS %s\n", name);
}

static void fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	failures++;
}

static void check(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;
	char why[1024];

	if (ok) {
		pass(name);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fail(name, "%s", why);
}

static char *path_in(const char *name)
{
	static char buf[8][256];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, 256, "%s/%s", dir, name);
	return p;
}

/* The whole file, NUL-terminated; NULL if unreadable. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *s = NULL;
	size_t n = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&s, &n);
	while ((c = fgetc(f)) != EOF)
		fputc(c, m);
	fclose(m);
	fclose(f);
	if (len)
		*len = n;
	return s;
}

static unsigned int file_mode(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_mode & 07777;
}

/* ---- capturing stderr ------------------------------------------------ */

static int saved_stderr = -1;
static char errpath[256];

static void stderr_begin(void)
{
	int fd;

	snprintf(errpath, sizeof(errpath), "%s/../stderr.txt", dir);
	fflush(stderr);
	saved_stderr = dup(2);
	fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
}

/* What was written to stderr since stderr_begin (caller frees). */
static char *stderr_end(void)
{
	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	return slurp(errpath, NULL);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- the snapshot ---------------------------------------------------- */

#define T0_NS	1795780263852511123ull	/* 2026-11-27T11:51:03.852511123Z */

struct sample {
	const char *name;	/* what it stands for, in failures */
	struct alert a;
	char line[256];		/* alert_evidence */
	char time[40];
};

#define NSAMPLES 9
static struct sample samples[NSAMPLES];
static int nsamples;

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

/* An alert for a frame as the watch records it: the frame's addresses,
 * class, SPI and sequence, the first PM_SNAP_LEN bytes. */
static struct sample *add_sample(const char *name, const struct frame_case *c,
				 const struct frame_spec *spec, int kind,
				 uint64_t real_ns)
{
	struct sample *s = &samples[nsamples++];
	struct alert *a = &s->a;
	uint8_t buf[FRAME_MAX_LEN];
	int n = frame_build(spec, buf, sizeof(buf));
	bool v6 = spec->l3 == FRAME_L3_IPV6;

	memset(s, 0, sizeof(*s));
	s->name = name;
	a->real_ns = real_ns;
	a->kind = kind;
	a->class = c->class;
	a->hook = PM_HOOK_TC_INGRESS;
	snprintf(a->iface, sizeof(a->iface), "lan0");
	frame_case_dst(c, NULL, a->dst);
	if (v6) {
		memcpy(a->src, spec->src6, 16);
	} else {
		a->src[10] = a->src[11] = 0xff;
		memcpy(a->src + 12, spec->src4, 4);
	}
	a->sport = spec->sport;
	a->dport = spec->dport;
	a->spi = c->class == PM_C_AH ? spec->ext[spec->next - 1].spi : spec->spi;
	a->seq = c->class == PM_C_AH ? spec->ext[spec->next - 1].seq : spec->seq;
	a->len = n - 14 - (v6 ? 40 : 20);
	a->expected = kind == PM_K_ONE_WAY ? 0 : 1u << PM_C_TCP | 1u << PM_C_ICMP;
	a->wire_len = n;
	a->cap_len = n < PM_SNAP_LEN ? n : PM_SNAP_LEN;
	memcpy(a->frame, buf, a->cap_len);
	alert_evidence(a, s->line, sizeof(s->line));
	fmt_time(real_ns, s->time, sizeof(s->time));
	return s;
}

static json_object *evidence_json(const struct alert *a)
{
	json_object *o = json_object_new_object();
	char h[2 * PM_SNAP_LEN + 1];

	hex(a->frame, a->cap_len, h);
	json_object_object_add(o, "ts_ns", json_object_new_uint64(a->real_ns));
	json_object_object_add(o, "wire_len", json_object_new_uint64(a->wire_len));
	json_object_object_add(o, "frame", json_object_new_string(h));
	return o;
}

static json_object *counts(const char *k1, uint64_t v1, const char *k2, uint64_t v2)
{
	json_object *o = json_object_new_object();

	if (k1)
		json_object_object_add(o, k1, json_object_new_uint64(v1));
	if (k2)
		json_object_object_add(o, k2, json_object_new_uint64(v2));
	return o;
}

static json_object *strings(const char *a, const char *b)
{
	json_object *o = json_object_new_array();

	if (a)
		json_object_array_add(o, json_object_new_string(a));
	if (b)
		json_object_array_add(o, json_object_new_string(b));
	return o;
}

static json_object *dest(const char *addr, json_object *packets, json_object *bytes,
			 json_object *expected, uint64_t violations)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "addr", json_object_new_string(addr));
	json_object_object_add(o, "packets", packets);
	json_object_object_add(o, "bytes", bytes);
	json_object_object_add(o, "first_seen",
			       json_object_new_string("2026-11-27T11:50:00.000001Z"));
	json_object_object_add(o, "last_seen",
			       json_object_new_string("2026-11-27T11:52:00.000002Z"));
	json_object_object_add(o, "expected", expected);
	json_object_object_add(o, "violations", json_object_new_uint64(violations));
	return o;
}

static json_object *base_snapshot(void)
{
	json_object *o = json_object_new_object(), *ifs, *io, *st, *mal, *d;

	json_object_object_add(o, "schema", json_object_new_string("protomix.snapshot/1"));
	json_object_object_add(o, "host", json_object_new_string("gw-test"));
	json_object_object_add(o, "taken_at",
			       json_object_new_string("2026-11-27T11:52:03.500000Z"));
	json_object_object_add(o, "started_at",
			       json_object_new_string("2026-11-27T11:50:00.000000Z"));
	json_object_object_add(o, "kernel", json_object_new_string("6.1.0-test"));
	ifs = json_object_new_array();
	io = json_object_new_object();
	json_object_object_add(io, "name", json_object_new_string("lan0"));
	json_object_object_add(io, "ifindex", json_object_new_int(3));
	json_object_object_add(io, "hooks", strings("tc_ingress", "tc_egress"));
	json_object_array_add(ifs, io);
	json_object_object_add(o, "interfaces", ifs);

	/* Not in order on purpose: the exports sort busiest first. */
	d = json_object_new_array();
	json_object_array_add(d, dest("10.20.0.80", counts("tcp", 50, "esp", 20),
				      counts("tcp", 2700, "esp", 2000),
				      strings("tcp", "icmp"), 20));
	json_object_array_add(d, dest("10.20.0.53", counts("udp", 200, "ike", 0),
				      counts("udp", 30000, NULL, 0),
				      strings(NULL, NULL), 0));
	json_object_array_add(d, dest("2001:db8:20::80", counts("ah", 3, "esp_udp", 2),
				      counts("ah", 300, "esp_udp", 220),
				      strings("tcp", NULL), 5));
	/* seen inside tunnels (--decap, snapshot/3) */
	json_object_object_add(json_object_array_get_idx(d, 0), "via",
			       strings("vxlan", "gtp_u"));
	json_object_object_add(o, "destinations", d);

	st = json_object_new_object();
	json_object_object_add(st, "frames", json_object_new_uint64(300));
	json_object_object_add(st, "packets", counts("tcp", 50, "udp", 200));
	json_object_object_add(st, "non_ip", json_object_new_uint64(4));
	mal = counts("ip4_trunc", 2, "l4_trunc", 0);
	json_object_object_add(st, "malformed", mal);
	json_object_object_add(st, "malformed_total", json_object_new_uint64(2));
	json_object_object_add(st, "dests", json_object_new_uint64(3));
	json_object_object_add(st, "max_dests", json_object_new_uint64(262144));
	json_object_object_add(st, "evicted_dests", json_object_new_uint64(1));
	json_object_object_add(st, "sampled", json_object_new_uint64(7));
	json_object_object_add(st, "suppressed", json_object_new_uint64(11));
	json_object_object_add(st, "ringbuf_drops", json_object_new_uint64(0));
	json_object_object_add(st, "inner_packets", json_object_new_uint64(12));
	json_object_object_add(st, "inner_reason", counts("tun_other", 3, "l4_trunc", 0));
	json_object_object_add(o, "stats", st);
	return o;
}

/* The snapshot of the tests: alerts in order, with their evidence. */
static json_object *build_snapshot(void)
{
	const struct frame_case *esp4 = frame_case_find("esp4");
	const struct frame_case *ah4 = frame_case_find("ah4");
	const struct frame_case *natt4 = frame_case_find("esp_udp4");
	const struct frame_case *natt6 = frame_case_find("esp_udp6");
	json_object *o = base_snapshot(), *alerts, *ev;
	struct frame_spec s;
	uint64_t t = T0_NS;

	if (!esp4 || !ah4 || !natt4 || !natt6) {
		fail("frame_cases", "esp4, ah4, esp_udp4 or esp_udp6 missing");
		exit(1);
	}
	add_sample("esp4", esp4, &esp4->spec, PM_K_UNEXPECTED, t);
	s = esp4->spec;
	s.seq++;
	add_sample("esp4_seq+1", esp4, &s, PM_K_UNEXPECTED, t + 1000001);
	add_sample("esp4_seq+1_again", esp4, &s, PM_K_UNEXPECTED, t + 2000002);
	add_sample("ah4", ah4, &ah4->spec, PM_K_SHIFT, t + 3000003);
	add_sample("esp_udp4", natt4, &natt4->spec, PM_K_UNEXPECTED, t + 4000004);
	add_sample("esp_udp6", natt6, &natt6->spec, PM_K_UNEXPECTED, t + 5000005);
	s = esp4->spec;
	s.seq += 100;
	s.payload_len = 1000;	/* longer than what is kept */
	add_sample("esp4_long", esp4, &s, PM_K_UNEXPECTED, t + 6000006);
	add_sample("one_way", esp4, &esp4->spec, PM_K_ONE_WAY, t + 7000007);
	samples[nsamples - 1].a.cap_len = 0;	/* no frame */
	/* the same packet, inside GTP-U (pm_event.tunnel) */
	add_sample("esp4_via_gtp_u", esp4, &esp4->spec, PM_K_SHIFT, t + 8000008);
	samples[nsamples - 1].a.tunnel = PM_C_GTP_U;

	alerts = json_object_new_array();
	ev = json_object_new_array();
	for (int i = 0; i < nsamples; i++) {
		json_object_array_add(alerts, alert_json(&samples[i].a));
		json_object_array_add(ev, evidence_json(&samples[i].a));
	}
	json_object_object_add(o, "alerts", alerts);
	json_object_object_add(o, "evidence", ev);
	return o;
}

/* ---- Markdown -------------------------------------------------------- */

static void test_md(json_object *snap)
{
	const char *path = path_in("report.md");
	char want[512], *md;
	int err = export_write(path, EXPORT_MD, snap, NULL);
	bool all = true;

	check("md_write", !err, "export_write: %d", err);
	check("md_mode_0600", file_mode(path) == 0600, "mode %o", file_mode(path));
	md = slurp(path, NULL);
	if (!md) {
		fail("md_read", "%s: %s", path, strerror(errno));
		return;
	}
	check("md_title", strstr(md, "# protomix report: gw-test\n") != NULL,
	      "no title line");
	check("md_window", strstr(md, "- **Window:** 2026-11-27T11:50:00.000000Z to "
				  "2026-11-27T11:52:03.500000Z (2m 3s)\n") != NULL,
	      "no window line");
	check("md_interfaces", strstr(md, "- **Interfaces:** lan0 (tc_ingress, tc_egress)\n") != NULL,
	      "no interfaces line");
	/* Every evidence line, with its time, as alert_evidence writes it;
	 * the ports of esp_udp4/6 come from the frames. */
	for (int i = 0; i < nsamples; i++) {
		if (i == 2)
			continue;	/* folded into the line before */
		snprintf(want, sizeof(want), "\n%s %s", samples[i].time, samples[i].line);
		if (!strstr(md, want)) {
			fail("md_evidence_lines", "%s: no line '%s'", samples[i].name, want + 1);
			all = false;
		}
	}
	if (all)
		pass("md_evidence_lines");
	check("md_esp_line", strstr(md, "IP 10.10.1.10 > 10.20.0.80: ESP(spi=0xd7ca145d,"
				    "seq=0x3de0a5), length 80\n") != NULL,
	      "no incident ESP line");
	check("md_natt_ports", strstr(md, "IP 10.10.1.10.4500 > 10.20.0.80.4500: UDP-encap: "
				      "ESP(spi=0xc0ffee01,seq=0x2a)") != NULL,
	      "no esp_udp4 line with its ports");
	snprintf(want, sizeof(want), "\n%s %s  [x2 until %s]\n", samples[1].time,
		 samples[1].line, samples[2].time);
	check("md_identical_folded", strstr(md, want) != NULL, "no line '%s'", want + 1);
	check("md_alert_table", strstr(md, "| 1 | unexpected_protocol | esp 10.10.1.10 > "
				       "10.20.0.80 | 0xd7ca145d | 0x3de0a5 - 0x3de109 | "
				       "tcp, icmp | lan0 ingress | 4 |") != NULL,
	      "no group row for the ESP alerts");
	check("md_dest_table",
	      strstr(md, "| # | Destination | Packets | Bytes | Class mix | Expected | Violations |\n") &&
	      strstr(md, "| 1 | 10.20.0.53 | 200 | 30000 | udp 100% | - | 0 |\n") &&
	      strstr(md, "| 2 | 10.20.0.80 (via vxlan,gtp_u) | 70 | 4700 | tcp 71.4%, esp 28.6% | tcp, icmp | 20 |\n") &&
	      strstr(md, "| 3 | 2001:db8:20::80 | 5 | 520 | ah 60%, esp_udp 40% | tcp | 5 |\n"),
	      "destination table rows missing");
	check("md_expectations",
	      strstr(md, "| 10.20.0.80 | tcp, icmp | esp 20 (28.6%) | 20 |\n") &&
	      strstr(md, "- **10.20.0.80** expected tcp, icmp, received esp 20 (28.6%)\n"),
	      "expectation rows missing");
	check("md_counters",
	      strstr(md, "| malformed: ip4_trunc | 2 |\n") && !strstr(md, "l4_trunc") &&
	      strstr(md, "| destinations evicted | 1 |\n") &&
	      strstr(md, "| samples suppressed (rate limit) | 11 |\n") &&
	      strstr(md, "| non-IP frames | 4 |\n") &&
	      strstr(md, "| packets inside tunnels, counted | 12 |\n") &&
	      strstr(md, "| inside tunnels, not counted: tun_other | 3 |\n") &&
	      !strstr(md, "not counted: l4_trunc"),
	      "counter rows wrong");
	/* an alert inside a tunnel: a group of its own, the tunnel named */
	check("md_alert_via", strstr(md, " | protocol_shift | esp 10.10.1.10 > 10.20.0.80 "
				     "(via gtp_u) | 0xd7ca145d | 0x3de0a5 | tcp, icmp | "
				     "lan0 ingress | 1 |") &&
	      strstr(md, ". **protocol_shift**: esp 10.10.1.10 > 10.20.0.80 (via gtp_u) "
		     "on lan0 ingress, expected tcp, icmp\n"),
	      "no group row or title for the alert via gtp_u");
	free(md);
}

/* 1000 alerts of one flow: 990 with distinct sequence numbers, then one
 * packet 10 times: the report stays short. */
static void test_md_flood(void)
{
	const struct frame_case *esp4 = frame_case_find("esp4");
	json_object *snap = base_snapshot(), *alerts = json_object_new_array();
	struct alert a = { 0 };
	char *md = NULL, want[320], line[256];
	size_t len = 0;
	FILE *f = open_memstream(&md, &len);
	int err;

	a.kind = PM_K_UNEXPECTED;
	a.class = PM_C_ESP;
	a.hook = PM_HOOK_TC_INGRESS;
	strcpy(a.iface, "lan0");
	parse_addr("10.10.1.10", a.src);
	frame_case_dst(esp4, NULL, a.dst);
	a.spi = 0xd7ca145d;
	a.len = 80;
	a.expected = 1u << PM_C_TCP;
	for (int i = 0; i < 1000; i++) {
		a.real_ns = T0_NS + i * 1000ull;
		a.seq = 1 + (i < 990 ? i : 990);
		json_object_array_add(alerts, alert_json(&a));
	}
	json_object_object_add(snap, "alerts", alerts);
	err = export_md(f, snap);
	fclose(f);
	check("md_flood_write", !err, "export_md: %d", err);
	check("md_flood_short", count_lines(md) < 120, "%d lines", count_lines(md));
	check("md_flood_elided", strstr(md, "\n[... 981 more distinct lines ...]\n") != NULL,
	      "no elision line");
	alert_evidence(&a, line, sizeof(line));
	snprintf(want, sizeof(want), "%s  [x10 until ", line);
	check("md_flood_repeat_counted", strstr(md, want) != NULL, "no '%s'", want);
	check("md_flood_one_group", strstr(md, "1000 alerts in 1 group ") != NULL,
	      "alerts not grouped");
	free(md);
	json_object_put(snap);
}

/* A one_way_ipsec alert for ESP in UDP has no frame, so no ports: the
 * line leaves them out rather than print port 0. */
static void test_md_no_ports(void)
{
	json_object *snap = json_tokener_parse(
		"{\"alerts\":[{\"type\":\"alert\",\"kind\":\"one_way_ipsec\","
		"\"time\":\"2026-11-27T11:51:03.852511Z\",\"iface\":\"lan0\","
		"\"dir\":\"ingress\",\"src\":\"10.10.1.10\",\"dst\":\"10.20.0.80\","
		"\"class\":\"esp_udp\",\"spi\":\"0xc0ffee01\",\"seq\":\"0x2a\","
		"\"len\":80}],\"evidence\":[{\"ts_ns\":0,\"wire_len\":0,\"frame\":\"\"}]}");
	char *md = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&md, &len);
	int err = export_md(f, snap);

	fclose(f);
	check("md_no_ports", !err && strstr(md, "\n2026-11-27T11:51:03.852511Z IP "
		"10.10.1.10 > 10.20.0.80: UDP-encap: ESP(spi=0xc0ffee01,seq=0x2a), "
		"length 80\n"), "err %d, no line without ports", err);
	free(md);
	json_object_put(snap);
}

/* ---- CSV ------------------------------------------------------------- */

/* RFC 4180: the fields of one record starting at *p; advances *p past
 * its line end. Returns the field count, or -1 if malformed. */
static int csv_record(const char **p, char fields[][128], int max)
{
	const char *s = *p;
	int n = 0;

	for (;;) {
		size_t k = 0;

		if (n == max)
			return -1;
		if (*s == '"') {
			for (s++;; s++) {
				if (!*s)
					return -1;
				if (*s == '"' && s[1] == '"')
					s++;
				else if (*s == '"')
					break;
				if (k < 127)
					fields[n][k++] = *s;
			}
			s++;
		} else {
			while (*s && *s != ',' && *s != '\n' && *s != '"')
				if (k < 127)
					fields[n][k++] = *s++;
			if (*s == '"')
				return -1;
		}
		fields[n++][k] = '\0';
		if (*s == ',') {
			s++;
			continue;
		}
		if (*s == '\n')
			s++;
		else if (*s)
			return -1;
		*p = s;
		return n;
	}
}

static void test_csv(json_object *snap)
{
	static const char *want[][9] = {
		{ "addr", "class", "packets", "bytes", "first_seen", "last_seen",
		  "expected", "violations", "via" },
		{ "10.20.0.53", "udp", "200", "30000", "2026-11-27T11:50:00.000001Z",
		  "2026-11-27T11:52:00.000002Z", "", "0", "" },
		{ "10.20.0.80", "tcp", "50", "2700", "2026-11-27T11:50:00.000001Z",
		  "2026-11-27T11:52:00.000002Z", "tcp;icmp", "20", "vxlan;gtp_u" },
		{ "10.20.0.80", "esp", "20", "2000", "2026-11-27T11:50:00.000001Z",
		  "2026-11-27T11:52:00.000002Z", "tcp;icmp", "20", "vxlan;gtp_u" },
		{ "2001:db8:20::80", "ah", "3", "300", "2026-11-27T11:50:00.000001Z",
		  "2026-11-27T11:52:00.000002Z", "tcp", "5", "" },
		{ "2001:db8:20::80", "esp_udp", "2", "220", "2026-11-27T11:50:00.000001Z",
		  "2026-11-27T11:52:00.000002Z", "tcp", "5", "" },
	};
	const int nwant = sizeof(want) / sizeof(want[0]);
	const char *path = path_in("dests.csv"), *p;
	char fields[16][128], *csv;
	int err = export_write(path, EXPORT_CSV, snap, NULL), row = 0, n;
	bool ok = true;

	check("csv_write", !err, "export_write: %d", err);
	check("csv_mode_0600", file_mode(path) == 0600, "mode %o", file_mode(path));
	csv = slurp(path, NULL);
	if (!csv) {
		fail("csv_read", "%s: %s", path, strerror(errno));
		return;
	}
	for (p = csv; *p && ok; row++) {
		n = csv_record(&p, fields, 16);
		if (row >= nwant) {
			fail("csv_rows", "row %d too many: %s", row + 1, fields[0]);
			ok = false;
		} else if (n != 9) {
			fail("csv_rows", "row %d: %d fields", row + 1, n);
			ok = false;
		}
		for (int i = 0; ok && i < 9; i++)
			if (strcmp(fields[i], want[row][i])) {
				fail("csv_rows", "row %d field %d: '%s', want '%s'",
				     row + 1, i + 1, fields[i], want[row][i]);
				ok = false;
			}
	}
	if (ok && row != nwant) {
		fail("csv_rows", "%d rows, want %d", row, nwant);
		ok = false;
	}
	if (ok)
		pass("csv_rows");
	free(csv);
}

/* Fields that need quoting, and keys that are missing or of the wrong type. */
static void test_csv_quoting(void)
{
	json_object *snap = json_object_new_object(), *d = json_object_new_array();
	char *csv = NULL, fields[16][128];
	const char *p;
	size_t len = 0;
	FILE *f = open_memstream(&csv, &len);
	int err, n;

	json_object_array_add(d, dest("lab,\"x\"\nnet", counts("tcp", 1, NULL, 0),
				      json_object_new_string("not an object"),
				      strings("tcp", "udp"), 0));
	json_object_array_add(d, json_object_new_int(7));	/* not a destination */
	json_object_object_add(snap, "destinations", d);
	err = export_csv(f, snap);
	fclose(f);
	p = csv;
	csv_record(&p, fields, 16);
	n = csv_record(&p, fields, 16);
	check("csv_quoting", !err && n == 9 && !strcmp(fields[0], "lab,\"x\"\nnet") &&
	      !strcmp(fields[3], "0") && !strcmp(fields[6], "tcp;udp") && !*p &&
	      strstr(csv, "\"lab,\"\"x\"\"\nnet\",tcp,1,0,"),
	      "err %d, %d fields, csv '%s'", err, n, csv);
	free(csv);
	json_object_put(snap);
}

/* ---- pcap ------------------------------------------------------------ */

/* The samples that carry a frame, in order: what the pcap must hold. */
static int framed(int k)
{
	for (int i = 0; i < nsamples; i++)
		if (samples[i].a.cap_len && k-- == 0)
			return i;
	return -1;
}

static void test_pcap_libpcap(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path,
				PCAP_TSTAMP_PRECISION_NANO, errbuf);
	struct pcap_pkthdr *h;
	const u_char *data;
	int n = 0, r;
	bool ok = true;

	if (!p) {
		fail("pcap_libpcap", "%s", errbuf);
		return;
	}
	check("pcap_linktype", pcap_datalink(p) == DLT_EN10MB, "linktype %d",
	      pcap_datalink(p));
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		int i = framed(n++);
		const struct alert *a = i < 0 ? NULL : &samples[i].a;

		if (!a) {
			fail("pcap_libpcap", "frame %d: more frames than alerts", n);
			ok = false;
			break;
		}
		if ((uint64_t)h->ts.tv_sec * 1000000000ull + h->ts.tv_usec != a->real_ns ||
		    h->caplen != a->cap_len || h->len != a->wire_len ||
		    memcmp(data, a->frame, a->cap_len)) {
			fail("pcap_libpcap", "frame %d (%s): ts %ld.%09ld caplen %u len %u",
			     n, samples[i].name, (long)h->ts.tv_sec, (long)h->ts.tv_usec,
			     h->caplen, h->len);
			ok = false;
		}
	}
	if (ok && framed(n) >= 0) {
		fail("pcap_libpcap", "%d frames, want more", n);
		ok = false;
	}
	if (ok)
		pass("pcap_libpcap");
	pcap_close(p);
}

/* The fields of a tshark line separated by single spaces (empty ones too). */
static int split_fields(char *line, char *f[], int max)
{
	int n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ' ') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static bool num_is(const char *s, unsigned long want)
{
	char *end;

	return *s && strtoul(s, &end, 0) == want && !*end;
}

/* tshark's view: time, lengths, SPI and sequence of every frame. */
static void test_pcap_tshark(const char *path)
{
	char cmd[512], line[512], copy[512], when[40], *f[8];
	FILE *p;
	int n = 0, st;
	bool ok = true;

	if (system("command -v tshark >/dev/null 2>&1")) {
		printf("SKIP pcap_tshark: tshark is not installed\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "tshark -n -r '%s' -T fields -E separator=/s "
		 "-e frame.time_epoch -e frame.len -e frame.cap_len -e esp.spi "
		 "-e esp.sequence -e ah.spi -e ah.sequence 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p) {
		fail("pcap_tshark", "popen: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), p)) {
		int i = framed(n++), nf;
		const struct alert *a = i < 0 ? NULL : &samples[i].a;
		int sp = a && a->class == PM_C_AH ? 5 : 3;	/* where SPI is */

		line[strcspn(line, "\n")] = '\0';
		strcpy(copy, line);
		if (!a) {
			fail("pcap_tshark", "frame %d: more frames than alerts: %s", n, line);
			ok = false;
			break;
		}
		snprintf(when, sizeof(when), "%llu.%09llu",
			 (unsigned long long)(a->real_ns / 1000000000ull),
			 (unsigned long long)(a->real_ns % 1000000000ull));
		nf = split_fields(line, f, 8);
		if (nf != 7 || strcmp(f[0], when) || !num_is(f[1], a->wire_len) ||
		    !num_is(f[2], a->cap_len) || !num_is(f[sp], a->spi) ||
		    !num_is(f[sp + 1], a->seq) || *f[sp == 3 ? 5 : 3]) {
			fail("pcap_tshark", "frame %d (%s): '%s', want time %s len %u "
			     "caplen %u %s spi 0x%08x seq %u", n, samples[i].name, copy,
			     when, a->wire_len, a->cap_len, sp == 3 ? "esp" : "ah",
			     a->spi, a->seq);
			ok = false;
		}
	}
	st = pclose(p);
	if (ok && (!WIFEXITED(st) || WEXITSTATUS(st))) {
		fail("pcap_tshark", "tshark exited with %d", WEXITSTATUS(st));
		ok = false;
	}
	if (ok && framed(n) >= 0) {
		fail("pcap_tshark", "%d frames, want more", n);
		ok = false;
	}
	if (ok)
		pass("pcap_tshark");
}

static void test_pcap(json_object *snap)
{
	const char *path = path_in("evidence.pcap"), *empty = path_in("empty.pcap");
	json_object *none = base_snapshot();
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	int err = export_pcap(path, snap);
	size_t len = 0;
	char *bytes;
	pcap_t *p;

	check("pcap_write", !err, "export_pcap: %d", err);
	check("pcap_mode_0600", file_mode(path) == 0600, "mode %o", file_mode(path));
	test_pcap_libpcap(path);
	test_pcap_tshark(path);

	/* No evidence at all: a valid pcap with no frames. */
	err = export_pcap(empty, none);
	bytes = slurp(empty, &len);
	p = pcap_open_offline(empty, errbuf);
	check("pcap_empty", !err && len == 24 && bytes &&
	      !memcmp(bytes, "\x4d\x3c\xb2\xa1", 4) && p &&
	      pcap_next_ex(p, &h, &data) == -2,
	      "err %d, %zu bytes, %s", err, len, p ? "opens" : errbuf);
	if (p)
		pcap_close(p);
	free(bytes);
	json_object_put(none);
}

/* ---- failures -------------------------------------------------------- */

static int entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void test_failures(json_object *snap)
{
	const char *missing = path_in("no/such/folder/evidence.pcap");
	const char *missing_md = path_in("no/such/folder/report.md");
	const char *isdir = path_in("adir");
	char *err_text;
	int before, err;

	stderr_begin();
	err = export_pcap(missing, snap);
	err_text = stderr_end();
	check("pcap_no_folder", err == -ENOENT && access(missing, F_OK) &&
	      access(path_in("no"), F_OK), "err %d", err);
	check("pcap_no_folder_message", err_text && count_lines(err_text) == 1 &&
	      strstr(err_text, missing), "stderr '%s'", err_text ? err_text : "");
	free(err_text);

	stderr_begin();
	err = export_write(missing_md, EXPORT_MD, snap, NULL);
	err_text = stderr_end();
	check("md_no_folder", err == -ENOENT && access(missing_md, F_OK) &&
	      err_text && count_lines(err_text) == 1 && strstr(err_text, missing_md),
	      "err %d, stderr '%s'", err, err_text ? err_text : "");
	free(err_text);

	/* The rename fails (a folder is in the way): the temporary file goes. */
	mkdir(isdir, 0700);
	before = entries(dir);
	stderr_begin();
	err = export_pcap(isdir, snap);
	err_text = stderr_end();
	check("pcap_rename_fails_clean", err < 0 && entries(dir) == before &&
	      entries(isdir) == 0 && err_text && count_lines(err_text) == 1 &&
	      strstr(err_text, isdir), "err %d, %d entries (was %d), stderr '%s'",
	      err, entries(dir), before, err_text ? err_text : "");
	free(err_text);
	rmdir(isdir);
}

/* Keys missing or of the wrong type read as empty. */
static void test_tolerant(void)
{
	static const char *docs[] = {
		"{}",
		"[]",
		"{\"destinations\":\"x\",\"alerts\":{},\"evidence\":7,\"stats\":[],"
		"\"interfaces\":[1,{\"name\":2}],\"host\":5}",
		"{\"destinations\":[{},{\"addr\":1,\"packets\":{\"tcp\":\"x\",\"esp\":-3,"
		"\"udp\":2.5},\"expected\":[1,\"tcp\"]}],\"alerts\":[1,{},{\"src\":\"x\","
		"\"class\":\"esp\",\"spi\":\"zz\"}],\"evidence\":[1,{\"frame\":\"zz\"},"
		"{\"frame\":\"0\",\"ts_ns\":-1},{\"frame\":\"00\",\"wire_len\":\"big\"}],"
		"\"stats\":{\"malformed\":[],\"hooks\":{\"xdp\":3}}}",
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		json_object *o = json_tokener_parse(docs[i]);
		char *buf = NULL, path[300];
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int e1 = export_md(f, o), e2 = export_csv(f, o), e3;

		fclose(f);
		snprintf(path, sizeof(path), "%s/tolerant%zu.pcap", dir, i);
		e3 = export_pcap(path, o);
		if (e1 || e2 || e3 || !len) {
			fail("tolerant", "doc %zu: md %d, csv %d, pcap %d", i, e1, e2, e3);
			ok = false;
		}
		free(buf);
		json_object_put(o);
	}
	if (ok)
		pass("tolerant");
}

int main(void)
{
	char tmpl[] = "/tmp/pm-export-XXXXXX";
	json_object *snap;

	if (!mkdtemp(tmpl)) {
		fail("tmpdir", "%s", strerror(errno));
		return 1;
	}
	/* dir/ holds the outputs only; captured stderr goes next to it */
	snprintf(dir, sizeof(dir), "%s/out", tmpl);
	mkdir(dir, 0700);
	snap = build_snapshot();
	test_md(snap);
	test_md_flood();
	test_md_no_ports();
	test_csv(snap);
	test_csv_quoting();
	test_pcap(snap);
	test_failures(snap);
	test_tolerant();
	json_object_put(snap);
	if (!failures && !getenv("EXPORT_TEST_KEEP")) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
		if (system(cmd))
			fail("cleanup", "%s", tmpl);
	} else {
		fprintf(stderr, "outputs kept in %s\n", dir);
	}
	return failures ? 1 : 0;
}
