// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The snapshot document (snapshot.h, docs/snapshot.md): built with
 * json-c from a view (its stats, destinations, interfaces, alerts and
 * history; snapshot_build, shared through snapshot_build.h with
 * snapshot_stream.c, which streams the same text and writes it to a
 * file), the evidence of the kept alerts, and a snapshot file read back
 * whole.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "classes.h"
#include "history.h"
#include "snapdoc.h"
#include "snapshot.h"
#include "snapshot_build.h"
#include "util.h"

/* Wall-clock time of a CLOCK_MONOTONIC time of the view. */
static uint64_t view_real_ns(const struct pm_view *v, uint64_t mono_ns)
{
	return v->real_off_ns ? v->real_off_ns + mono_ns : mono_to_real_ns(mono_ns);
}

static json_object *jtime(const struct pm_view *v, uint64_t mono_ns)
{
	char buf[40];

	return json_object_new_string(fmt_time(view_real_ns(v, mono_ns), buf,
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
	/* well-formed frames with no IP packet to count (non_ip, macsec,
	 * mpls_other, pppoe_other): a key each; the malformed in one object */
	for (int r = 0; r < PM_NREASON; r++)
		if (!reason_is_malformed(r) && !reason_is_inner_only(r))
			json_object_object_add(o, reason_name(r),
					       json_object_new_uint64(s->reason[r]));
	mal = json_object_new_object();
	for (int r = 0; r < PM_NREASON; r++)
		if (reason_is_malformed(r) && !reason_is_inner_only(r))
			json_object_object_add(mal, reason_name(r),
					       json_object_new_uint64(s->reason[r]));
	json_object_object_add(o, "malformed", mal);
	json_object_object_add(o, "vlan_frames",
			       json_object_new_uint64(s->vlan_frames));
	json_object_object_add(o, "gso_frames",
			       json_object_new_uint64(s->gso_frames));
	/* the packets inside tunnels (--decap): counted under their own
	 * destination, or not for one reason (every reason, 0 included) */
	json_object_object_add(o, "inner_packets",
			       json_object_new_uint64(s->inner_packets));
	mal = json_object_new_object();
	for (int r = 0; r < PM_NREASON; r++)
		json_object_object_add(mal, reason_name(r),
				       json_object_new_uint64(s->inner_reason[r]));
	json_object_object_add(o, "inner_reason", mal);
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
	if (v->ipfix) {
		json_object_object_add(o, "ipfix_dropped_records",
				       json_object_new_uint64(v->ipfix_dropped));
		json_object_object_add(o, "ipfix_sent_records",
				       json_object_new_uint64(v->ipfix_sent));
	}
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
uint32_t dest_expected(const struct pm_view *v, const struct pm_dest_key *k,
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
	json_object_object_add(o, "first_seen", jtime(v, d->first_seen));
	json_object_object_add(o, "last_seen", jtime(v, d->last_seen));
	json_object_object_add(o, "expected", classes_json(dest_expected(v, k, d)));
	json_object_object_add(o, "violations", json_object_new_uint64(d->violations));
	if (dest_via_mask(d->flags))
		json_object_object_add(o, "via", classes_json(dest_via_mask(d->flags)));
	return o;
}

/* The document with its members in their order; "destinations" and
 * "alerts" filled only if `all` (snapshot_stream writes them itself).
 * v has its real_off_ns set. */
json_object *snapshot_build(const struct pm_view *v, bool all)
{
	json_object *o = json_object_new_object(), *ifs, *arr, *hooks;
	const struct dest_table *t = v->dests;
	uint32_t *idx;
	struct utsname un;
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	uname(&un);
	json_object_object_add(o, "schema",
			       json_object_new_string(SNAP_SCHEMA));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "taken_at", jtime(v, v->taken_ns));
	json_object_object_add(o, "started_at", jtime(v, v->started_ns));
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

	arr = json_object_new_array_ext(all ? t->n : 0);
	idx = all ? dest_busiest_first(t) : NULL;
	for (size_t i = 0; idx && i < t->n; i++)
		json_object_array_add(arr, dest_json(v, &t->keys[idx[i]],
						     &t->vals[idx[i]]));
	free(idx);
	json_object_object_add(o, "destinations", arr);
	arr = json_object_new_array();
	for (size_t i = 0; all && v->alerts && i < v->alerts->n; i++)
		json_object_array_add(arr, alert_json(alert_log_get(v->alerts, i)));
	json_object_object_add(o, "alerts", arr);
	json_object_object_add(o, "stats", stats_json(v));
	if (v->history)
		json_object_object_add(o, "history", history_json(v->history, v));
	return o;
}

json_object *snapshot_json(const struct pm_view *v)
{
	struct pm_view one = *v;

	if (!one.real_off_ns)
		one.real_off_ns = mono_to_real_ns(0);
	return snapshot_build(&one, true);
}

json_object *evidence_one_json(const struct alert *a)
{
	static const char hex[] = "0123456789abcdef";
	char buf[2 * PM_SNAP_LEN + 1];
	json_object *o;
	int len = a->cap_len <= PM_SNAP_LEN ? a->cap_len : PM_SNAP_LEN;

	for (int b = 0; b < len; b++) {
		buf[2 * b] = hex[a->frame[b] >> 4];
		buf[2 * b + 1] = hex[a->frame[b] & 15];
	}
	buf[2 * len] = 0;
	o = json_object_new_object();
	json_object_object_add(o, "ts_ns", json_object_new_uint64(a->real_ns));
	json_object_object_add(o, "wire_len", json_object_new_uint64(a->wire_len));
	json_object_object_add(o, "frame", json_object_new_string(buf));
	return o;
}

json_object *evidence_json(const struct alert_log *log)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; log && i < log->n; i++)
		json_object_array_add(arr, evidence_one_json(alert_log_get(log, i)));
	return arr;
}

json_object *snapshot_read(const char *path)
{
	struct json_tokener *tok;
	struct snap_doc doc;
	json_object *o = NULL;
	char *text = NULL;
	size_t len;
	uint64_t size;
	int fd;

	/* a regular file of at most SNAP_MAX_BYTES (snapdoc.h), whole */
	fd = input_open(path, "snapshot", SNAP_MAX_BYTES, &size);
	if (fd < 0)
		return NULL;
	text = input_read(fd, path, "snapshot", size, SNAP_MAX_BYTES, &len);
	if (!text)
		goto out;
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
