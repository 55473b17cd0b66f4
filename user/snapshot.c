// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "classes.h"
#include "snapdoc.h"
#include "snapshot.h"
#include "util.h"

char *fmt_dest(const struct pm_view *v, const struct pm_dest_key *k,
	       char *buf, size_t len)
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	bool v4 = !memcmp(k->addr, v4mapped, sizeof(v4mapped));
	unsigned int plen = v4 ? v->agg4 : v->agg6;

	fmt_addr(k->addr, buf, len);
	if (plen && plen < (v4 ? 32u : 128u))
		snprintf(buf + strlen(buf), len - strlen(buf), "/%u", plen);
	return buf;
}

uint64_t view_evicted(const struct pm_view *v)
{
	return v->total.new_dests > v->dests->n ?
	       v->total.new_dests - v->dests->n : 0;
}

static json_object *jtime(uint64_t mono_ns)
{
	char buf[40];

	return json_object_new_string(fmt_time(mono_to_real_ns(mono_ns), buf,
					       sizeof(buf)));
}

static json_object *class_counts(const __u64 *counts)
{
	json_object *o = json_object_new_object();

	for (int c = 0; c < PM_NCLASS; c++)
		if (counts[c])
			json_object_object_add(o, class_name(c),
					       json_object_new_uint64(counts[c]));
	return o;
}

static json_object *hook_stats(const struct pm_stats *s)
{
	json_object *o = json_object_new_object(), *mal;

	json_object_object_add(o, "frames", json_object_new_uint64(s->frames));
	json_object_object_add(o, "packets", class_counts(s->class_packets));
	json_object_object_add(o, "bytes", class_counts(s->class_bytes));
	json_object_object_add(o, "non_ip",
			       json_object_new_uint64(s->reason[PM_R_NON_IP]));
	mal = json_object_new_object();
	for (int r = 0; r < PM_NREASON; r++)
		if (r != PM_R_NON_IP)
			json_object_object_add(mal, reason_name(r),
					       json_object_new_uint64(s->reason[r]));
	json_object_object_add(o, "malformed", mal);
	json_object_object_add(o, "vlan_frames",
			       json_object_new_uint64(s->vlan_frames));
	json_object_object_add(o, "gso_frames",
			       json_object_new_uint64(s->gso_frames));
	return o;
}

json_object *stats_json(const struct pm_view *v)
{
	json_object *o = hook_stats(&v->total), *hooks, *kinds;

	json_object_object_add(o, "malformed_total",
			       json_object_new_uint64(stats_malformed(&v->total)));
	json_object_object_add(o, "dests", json_object_new_uint64(v->dests->n));
	json_object_object_add(o, "max_dests", json_object_new_uint64(v->max_dests));
	json_object_object_add(o, "new_dests",
			       json_object_new_uint64(v->total.new_dests));
	json_object_object_add(o, "evicted_dests",
			       json_object_new_uint64(view_evicted(v)));
	json_object_object_add(o, "dest_update_fail",
			       json_object_new_uint64(v->total.dest_update_fail));
	kinds = json_object_new_object();
	for (int k = 0; k < PM_NKIND; k++)
		json_object_object_add(kinds, kind_name(k), json_object_new_uint64(
			v->alerts ? v->alerts->total[k] : 0));
	json_object_object_add(o, "alerts", kinds);
	kinds = json_object_new_object();
	for (int k = 0; k < PM_NKIND; k++)
		if (k != PM_K_ONE_WAY)
			json_object_object_add(kinds, kind_name(k),
				json_object_new_uint64(v->total.violations[k]));
	json_object_object_add(o, "violations", kinds);
	json_object_object_add(o, "sampled", json_object_new_uint64(v->total.sampled));
	json_object_object_add(o, "suppressed", json_object_new_uint64(v->total.suppressed));
	json_object_object_add(o, "ringbuf_drops", json_object_new_uint64(v->total.ringbuf_drops));
	json_object_object_add(o, "pair_update_fail", json_object_new_uint64(v->total.pair_update_fail));
	hooks = json_object_new_object();
	for (int h = 0; h < PM_NHOOK; h++)
		if (v->hooks[h].frames)
			json_object_object_add(hooks, hook_name(h),
					       hook_stats(&v->hooks[h]));
	json_object_object_add(o, "hooks", hooks);
	return o;
}

/* What the destination was expected to receive: its declared rule's
 * classes (cached by the kernel for the current rules generation, else
 * matched here), or tcp if it was learned to be a TCP destination that
 * turned IPsec. */
static uint32_t dest_expected(const struct pm_view *v, const struct pm_dest_key *k,
			      const struct pm_dest *d)
{
	const struct rule *r;

	if (v->rules && v->rules->n) {
		if (d->rules_gen == v->rules_gen && d->rule_id &&
		    d->rule_id <= v->rules->n)
			return ~d->denied & PM_ALL_CLASSES;
		r = ruleset_match(v->rules, k->addr);
		if (r)
			return r->allowed;
	}
	return d->flags & PM_D_SHIFTED ? 1u << PM_C_TCP : 0;
}

json_object *dest_json(const struct pm_view *v, const struct pm_dest_key *k,
		       const struct pm_dest *d)
{
	json_object *o = json_object_new_object();
	char addr[64];

	json_object_object_add(o, "addr", json_object_new_string(
				       fmt_dest(v, k, addr, sizeof(addr))));
	json_object_object_add(o, "packets", class_counts(d->packets));
	json_object_object_add(o, "bytes", class_counts(d->bytes));
	json_object_object_add(o, "first_seen", jtime(d->first_seen));
	json_object_object_add(o, "last_seen", jtime(d->last_seen));
	json_object_object_add(o, "expected", classes_json(dest_expected(v, k, d)));
	json_object_object_add(o, "violations", json_object_new_uint64(d->violations));
	return o;
}

struct order {
	const struct dest_table *t;
	uint64_t *pkts;
};

static int cmp_pkts_desc(const void *a, const void *b, void *ctx)
{
	const struct order *o = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (o->pkts[i] != o->pkts[j])
		return o->pkts[i] > o->pkts[j] ? -1 : 1;
	return memcmp(&o->t->keys[i], &o->t->keys[j], sizeof(struct pm_dest_key));
}

json_object *snapshot_json(const struct pm_view *v)
{
	json_object *o = json_object_new_object(), *ifs, *arr, *hooks;
	const struct dest_table *t = v->dests;
	struct order ord = { .t = t };
	uint32_t *idx;
	struct utsname un;
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	uname(&un);
	json_object_object_add(o, "schema",
			       json_object_new_string("protomix.snapshot/1"));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "taken_at", jtime(v->taken_ns));
	json_object_object_add(o, "started_at", jtime(v->started_ns));
	json_object_object_add(o, "kernel", json_object_new_string(un.release));

	ifs = json_object_new_array();
	for (int i = 0; i < v->nifaces; i++) {
		const struct pm_iface *ifc = &v->ifaces[i];
		json_object *io = json_object_new_object();
		unsigned int ids[PM_IFACE_MAXHOOKS];
		int nh = iface_hook_ids(ifc, ids);

		json_object_object_add(io, "name", json_object_new_string(ifc->name));
		json_object_object_add(io, "ifindex", json_object_new_int(ifc->ifindex));
		hooks = json_object_new_array();
		for (int h = 0; h < nh; h++)
			json_object_array_add(hooks, json_object_new_string(
						      hook_name(ids[h])));
		json_object_object_add(io, "hooks", hooks);
		json_object_array_add(ifs, io);
	}
	json_object_object_add(o, "interfaces", ifs);

	/* Busiest first; ties by address, so the order is stable. */
	arr = json_object_new_array_ext(t->n);
	idx = calloc(t->n ? t->n : 1, sizeof(*idx));
	ord.pkts = calloc(t->n ? t->n : 1, sizeof(*ord.pkts));
	if (idx && ord.pkts) {
		for (uint32_t i = 0; i < t->n; i++) {
			idx[i] = i;
			ord.pkts[i] = dest_total_packets(&t->vals[i]);
		}
		qsort_r(idx, t->n, sizeof(*idx), cmp_pkts_desc, &ord);
		for (size_t i = 0; i < t->n; i++)
			json_object_array_add(arr, dest_json(v, &t->keys[idx[i]],
							     &t->vals[idx[i]]));
	}
	free(idx);
	free(ord.pkts);
	json_object_object_add(o, "destinations", arr);
	arr = json_object_new_array();
	for (size_t i = 0; v->alerts && i < v->alerts->n; i++)
		json_object_array_add(arr, alert_json(alert_log_get(v->alerts, i)));
	json_object_object_add(o, "alerts", arr);
	json_object_object_add(o, "stats", stats_json(v));
	return o;
}

json_object *evidence_json(const struct alert_log *log)
{
	json_object *arr = json_object_new_array(), *o;
	static const char hex[] = "0123456789abcdef";
	char buf[2 * PM_SNAP_LEN + 1];

	for (size_t i = 0; log && i < log->n; i++) {
		const struct alert *a = alert_log_get(log, i);

		for (int b = 0; b < a->cap_len; b++) {
			buf[2 * b] = hex[a->frame[b] >> 4];
			buf[2 * b + 1] = hex[a->frame[b] & 15];
		}
		buf[2 * a->cap_len] = 0;
		o = json_object_new_object();
		json_object_object_add(o, "ts_ns", json_object_new_uint64(a->real_ns));
		json_object_object_add(o, "wire_len", json_object_new_uint64(a->wire_len));
		json_object_object_add(o, "frame", json_object_new_string(buf));
		json_object_array_add(arr, o);
	}
	return arr;
}

static int write_json(FILE *f, void *ctx)
{
	const char *s = json_object_to_json_string_ext(
		ctx, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

	return fputs(s, f) < 0 || fputc('\n', f) < 0 ? -EIO : 0;
}

int snapshot_write(const char *path, const struct pm_view *v)
{
	json_object *o = snapshot_json(v);
	int err = write_output(path, write_json, o);

	json_object_put(o);
	return err;
}

json_object *snapshot_read(const char *path)
{
	struct json_tokener *tok;
	struct snap_doc doc;
	json_object *o = NULL;
	char *text = NULL;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd, status;

	/* a regular file of at most SNAP_MAX_BYTES (snapdoc.h), whole */
	fd = snap_open(path, &status);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (len == cap) {
			/* up to one byte over the limit, to see it is over */
			size_t want = cap ? cap * 2 : 65536;
			char *t;

			if (cap > SNAP_MAX_BYTES) {
				pm_err("%s: over the %llu-byte limit of a snapshot", path,
				       SNAP_MAX_BYTES);
				goto out;
			}
			if (want > SNAP_MAX_BYTES + 1)
				want = SNAP_MAX_BYTES + 1;
			if (!(t = realloc(text, want))) {
				pm_err("%s: out of memory", path);
				goto out;
			}
			text = t;
			cap = want;
		}
		n = read(fd, text + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pm_err("%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	/* checked as diff and --baseline check it, then parsed */
	if (snap_doc_parse(path, text, len, &doc))
		goto out;
	snap_doc_free(&doc);
	tok = json_tokener_new();
	if (tok) {
		o = json_tokener_parse_ex(tok, text, (int)len);
		if (!o)
			pm_err("%s: not JSON (%s)", path,
			       json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
	}
out:
	close(fd);
	free(text);
	return o;
}
