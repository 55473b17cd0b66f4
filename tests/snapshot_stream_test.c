// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * snapshot_stream (user/snapshot_stream.c) against snapshot_json
 * (user/snapshot.c): for the same view, the streamed document must be
 * byte for byte what json-c prints of snapshot_json's object (plus
 * "evidence" as a watch answers `protomix snapshot`), with every json-c
 * flag combination, over generated tables full of corner cases
 * (tests/snapgen.c): IPv6 of every shape, aggregated prefixes, zero and
 * UINT64_MAX counts, every class, ties, times across days, rule
 * verdicts, and alerts and evidence with odd bytes. Also:
 * snapshot_write's file, a write error, an empty view.
 * Output: PASS name / FAIL name: why (see tests/run.sh).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "snapgen.h"
#include "snapshot.h"
#include "util.h"

static int failures;

static const struct { const char *name; int flags; } styles[] = {
	{ "socket", JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE },
	{ "file", JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE },
	{ "plain", JSON_C_TO_STRING_PLAIN },
	{ "pretty", JSON_C_TO_STRING_PRETTY },
	{ "spaced", JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE },
	{ "tab", JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB },
	{ "pretty_spaced", JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED },
};

/* What json-c prints of snapshot_json (and evidence_json), and a newline,
 * as control.c and snapshot_write have it. */
static char *old_text(const struct pm_view *v, const struct alert_log *ev,
		      int flags, size_t *len)
{
	json_object *o = snapshot_json(v);
	char *s;

	if (ev)
		json_object_object_add(o, "evidence", evidence_json(ev));
	if (asprintf(&s, "%s\n", json_object_to_json_string_ext(o, flags)) < 0)
		s = NULL;
	*len = s ? strlen(s) : 0;
	json_object_put(o);
	return s;
}

static char *new_text(const struct pm_view *v, const struct alert_log *ev,
		      int flags, size_t *len, int *err)
{
	char *s = NULL;
	FILE *f = open_memstream(&s, len);

	*err = f ? snapshot_stream(f, v, ev, flags) : -errno;
	if (f)
		fclose(f);
	return s;
}

/* Up to 40 bytes of s around byte i, on one line (\n as "\\n"). */
static const char *excerpt(const char *s, size_t len, size_t i, char *buf)
{
	size_t from = i > 20 ? i - 20 : 0, n = 0;

	for (size_t k = from; k < len && k < from + 40; k++) {
		unsigned char c = s[k];

		if (c < ' ' || c == 0x7f)
			n += sprintf(buf + n, "\\x%02x", c);
		else
			buf[n++] = c;
	}
	buf[n] = 0;
	return buf;
}

static void compare(struct check *ck, const char *a, size_t alen,
		    const char *b, size_t blen)
{
	char ea[256], eb[256];
	size_t i = 0;

	if (!a || !b) {
		complain(ck, "no text");
		return;
	}
	while (i < alen && i < blen && a[i] == b[i])
		i++;
	if (i == alen && i == blen)
		return;
	complain(ck, "lengths %zu (snapshot_json) and %zu (stream), first difference at byte %zu: "
		 "\"%s\" vs \"%s\"", alen, blen, i, excerpt(a, alen, i, ea),
		 excerpt(b, blen, i, eb));
}

/* Both ways, every style, with and without the evidence. */
static void same(const char *what, const struct pm_view *v,
		 const struct alert_log *ev)
{
	char name[128];

	for (size_t s = 0; s < sizeof(styles) / sizeof(styles[0]); s++) {
		for (int with = 0; with < 2; with++) {
			struct check ck = { 0 };
			size_t alen, blen;
			int err;
			char *a = old_text(v, with ? ev : NULL, styles[s].flags, &alen);
			char *b = new_text(v, with ? ev : NULL, styles[s].flags, &blen, &err);

			if (err)
				complain(&ck, "snapshot_stream: %s", strerror(-err));
			compare(&ck, a, alen, b, blen);
			snprintf(name, sizeof(name), "stream_equals_json_%s_%s%s", what,
				 styles[s].name, with ? "_evidence" : "");
			failures += report(name, &ck);
			free(a);
			free(b);
		}
	}
}

/* Alerts of every kind and class, odd interface names, frames of every
 * byte value and length; more than the log keeps (it wraps). */
static void fill_alerts(struct alert_log *log)
{
	static const char *names[] = { "eth0", "we\"ird", "back\\slash", "tab\there",
				       "ctl\x01\x1f\x7f", "utf8-\xc3\xa9", "sl/ash", "" };
	uint64_t s = 12345;

	for (int i = 0; i < 150; i++) {
		struct alert a;

		memset(&a, 0, sizeof(a));
		a.real_ns = 1700000000000000000ull + snapgen_rand(&s) % 1000000000000000ull;
		a.kind = i % (PM_NKIND + 1);	/* one beyond: "?" */
		a.class = i % (PM_NCLASS + 1);
		a.hook = i % PM_NHOOK;
		snprintf(a.iface, sizeof(a.iface), "%s", names[i % 8]);
		memset(a.src, 0, 16);
		memset(a.dst, 0, 16);
		if (i % 2) {
			a.src[10] = a.src[11] = a.dst[10] = a.dst[11] = 0xff;
			a.src[12] = 10, a.src[15] = i;
			a.dst[12] = 10, a.dst[13] = 20, a.dst[15] = 80;
		} else {
			a.src[0] = 0x20, a.src[1] = 0x01, a.src[15] = i;
			a.dst[0] = 0xfe, a.dst[1] = 0x80, a.dst[15] = 1;
		}
		a.sport = snapgen_rand(&s);
		a.dport = i % 3 ? 500 : 4500;
		a.spi = snapgen_rand(&s);
		a.seq = i % 4 ? snapgen_rand(&s) : 0xffffffffu;
		a.len = i % 5 ? snapgen_rand(&s) % 65536 : 0;
		a.expected = i % 6 ? (uint32_t)snapgen_rand(&s) & PM_ALL_CLASSES : 0;
		a.wire_len = snapgen_rand(&s) % 10000;
		a.cap_len = i % 9 == 0 ? 0 : i % 9 == 1 ? PM_SNAP_LEN : snapgen_rand(&s) % PM_SNAP_LEN;
		for (int b = 0; b < PM_SNAP_LEN; b++)
			a.frame[b] = (uint8_t)(i * 7 + b);
		alert_log_add(log, &a);
	}
}

int main(void)
{
	static struct pm_iface ifaces[4] = {
		{ .name = "gw-ws", .ifindex = 2, .ingress_hook = PM_HOOK_TC_INGRESS },
		{ .name = "x\"y\\z/\x02", .ifindex = 2147483647, .ingress_hook = PM_HOOK_XDP },
		{ .name = "", .ifindex = -1, .ingress_hook = 7 },
		{ .name = "v\xc3\xa9th", .ifindex = 0, .ingress_hook = PM_HOOK_TC_EGRESS },
	};
	struct dest_table t, empty;
	struct ruleset rules = { 0 };
	struct alert_log log;
	struct pm_view v = { 0 };
	char path[] = "/tmp/pm-snapstream-XXXXXX";
	int fd;

	signal(SIGPIPE, SIG_IGN);
	if (dest_table_init(&t, 20000) || dest_table_init(&empty, 1) ||
	    alert_log_init(&log, 64) ||
	    ruleset_add(&rules, "10.0.0.0/8=tcp,icmp", "--expect", 0) ||
	    ruleset_add(&rules, "2001:db8::/32=esp,ike,esp_udp", "--expect", 0) ||
	    ruleset_add(&rules, "0.0.0.0/0=udp", "--expect", 0)) {
		printf("FAIL snapshot_stream_setup: out of memory or bad rule\n");
		return 1;
	}
	fill_alerts(&log);

	/* the empty view: no destinations, interfaces, alerts, rules */
	v.started_ns = 1000;
	v.taken_ns = 5000000000ull;
	v.dests = &empty;
	v.real_off_ns = 1700000000123456789ull;
	same("empty", &v, NULL);

	/* corner cases, rules (generation 3), alerts, interfaces */
	snapgen_fill(&t, 5000, 42, true);
	v.ifaces = ifaces;
	v.nifaces = 4;
	v.dests = &t;
	v.rules = &rules;
	v.rules_gen = 3;
	v.alerts = &log;
	v.max_dests = 262144;
	v.hooks[PM_HOOK_XDP].frames = 5;
	v.hooks[PM_HOOK_TC_EGRESS].frames = UINT64_MAX;
	v.hooks[PM_HOOK_TC_EGRESS].class_packets[PM_C_ESP] = 3;
	v.total.frames = 99;
	v.total.class_bytes[PM_C_OTHER] = 1;
	v.total.new_dests = 7000;
	v.total.reason[PM_R_NON_IP] = 4;
	v.total.violations[PM_K_SHIFT] = 8;
	same("odd", &v, &log);

	/* aggregated prefixes ("/" escaped without NOSLASHESCAPE) */
	v.agg4 = 24;
	v.agg6 = 64;
	same("aggregate", &v, &log);
	v.agg4 = 32;
	v.agg6 = 56;
	same("aggregate_v6", &v, &log);
	v.agg4 = v.agg6 = 0;

	/* 20,000 ordinary destinations: many buffer flushes */
	snapgen_fill(&t, 20000, 7, false);
	v.rules = NULL;
	same("20k", &v, &log);

	/* a TZ of leap seconds: gmtime's days are not 86400 plain seconds,
	 * the stream's cache of days must give way to fmt_time */
	if (access("/usr/share/zoneinfo/right/UTC", R_OK) == 0) {
		char *tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

		setenv("TZ", "right/UTC", 1);
		tzset();
		snapgen_fill(&t, 5000, 43, true);
		same("leap_seconds_tz", &v, &log);
		if (tz)
			setenv("TZ", tz, 1);
		else
			unsetenv("TZ");
		tzset();
		free(tz);
	} else {
		printf("SKIP stream_equals_json_leap_seconds_tz: no /usr/share/zoneinfo/right/UTC\n");
	}

	/* no clock offset given: one read for every time of the document */
	{
		struct check ck = { 0 };
		struct pm_view nv = v;
		size_t blen;
		int err;
		char *b;
		json_object *o, *d, *first;

		nv.real_off_ns = 0;
		snapgen_fill(&t, 100, 9, false);
		b = new_text(&nv, NULL, styles[0].flags, &blen, &err);
		o = b ? json_tokener_parse(b) : NULL;
		if (err || !o)
			complain(&ck, "no document (%s)", strerror(-err));
		else if (!json_object_object_get_ex(o, "destinations", &d) ||
			 json_object_array_length(d) != 100)
			complain(&ck, "not 100 destinations");
		else {
			/* the busiest is first; its first_seen as fmt_time has it
			 * with the clocks read now (within a second) */
			first = json_object_array_get_idx(d, 0);
			if (!json_object_object_get_ex(first, "first_seen", &first) ||
			    strlen(json_object_get_string(first)) != 27)
				complain(&ck, "first_seen: %s", json_object_get_string(first));
		}
		json_object_put(o);
		free(b);
		failures += report("stream_reads_clocks_once", &ck);
	}

	/* a write error: ENOSPC from /dev/full, returned, not reported */
	{
		struct check ck = { 0 };
		FILE *f = fopen("/dev/full", "w");
		int err = f ? snapshot_stream(f, &v, &log, styles[1].flags) : 0;

		if (!f)
			complain(&ck, "/dev/full: %s", strerror(errno));
		else if (err != -ENOSPC)
			complain(&ck, "returned %d, expected -ENOSPC (%d)", err, -ENOSPC);
		if (f)
			fclose(f);
		failures += report("stream_write_error_enospc", &ck);
	}

	/* snapshot_write (watch -o): the old file's bytes, mode 0600 */
	snapgen_fill(&t, 3000, 11, true);
	v.rules = &rules;
	fd = mkstemp(path);
	if (fd >= 0) {
		struct check ck = { 0 };
		struct stat st;
		size_t alen, blen = 0;
		char *a = old_text(&v, NULL, styles[1].flags, &alen), *b = NULL;
		FILE *f;

		close(fd);
		if (snapshot_write(path, &v))
			complain(&ck, "snapshot_write failed");
		f = fopen(path, "r");
		if (f) {
			b = malloc(alen + 2);
			blen = b ? fread(b, 1, alen + 1, f) : 0;
			fclose(f);
		}
		compare(&ck, a, alen, b, blen);
		if (stat(path, &st) || (st.st_mode & 0777) != 0600)
			complain(&ck, "mode %o, expected 600", st.st_mode & 0777);
		unlink(path);
		free(a);
		free(b);
		failures += report("snapshot_write_equals_json", &ck);
	} else {
		printf("FAIL snapshot_write_equals_json: mkstemp: %s\n", strerror(errno));
		failures++;
	}

	dest_table_free(&t);
	dest_table_free(&empty);
	alert_log_free(&log);
	ruleset_free(&rules);
	return failures ? 1 : 0;
}
