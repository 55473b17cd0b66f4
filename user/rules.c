// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "classes.h"
#include "protomix.h"
#include "rules.h"
#include "snapdoc.h"
#include "snapshot.h"
#include "util.h"

#define MAX_RULES 65536	/* the trie's size in bpf/protomix.bpf.c */

static int rule_error(const char *origin, int line, const char *text,
		      const char *fmt, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), fmt, what);
	if (line)
		pm_err("%s:%d: invalid rule '%s': %s", origin, line, text, msg);
	else
		pm_err("invalid rule '%s': %s", text, msg);
	return EXIT_USAGE;
}

/* "10.20.0.0/16" or "10.20.0.80" (a host) into the 128-bit space. */
static const char *parse_prefix(const char *s, struct rule *r)
{
	char buf[64], *slash;
	uint8_t a4[4];
	uint64_t plen;
	bool v4;
	int max;

	if (strlen(s) >= sizeof(buf))
		return "prefix too long";
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	if (inet_pton(AF_INET, buf, a4) == 1) {
		v4 = true;
		memset(r->addr, 0, 10);
		r->addr[10] = r->addr[11] = 0xff;
		memcpy(r->addr + 12, a4, 4);
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		v4 = false;
	} else {
		return "not an IPv4 or IPv6 prefix";
	}
	max = v4 ? 32 : 128;
	if (!slash)
		plen = max;
	else if (!parse_u64(slash + 1, 0, 1000, &plen))
		return "prefix length is not a number";
	else if (plen > (uint64_t)max)
		return v4 ? "prefix length out of range (0-32 for IPv4)" :
			    "prefix length out of range (0-128 for IPv6)";
	r->plen = plen + (v4 ? 96 : 0);
	for (uint32_t bit = r->plen; bit < 128; bit++)
		if (r->addr[bit / 8] & (0x80 >> (bit % 8)))
			return "host bits set after the prefix length";
	return NULL;
}

int ruleset_add(struct ruleset *rs, const char *text, const char *origin,
		int line)
{
	char copy[1024], *eq, *tok, *save;
	const char *err;
	struct rule r = { .origin = origin, .line = line };
	int c;

	if (strlen(text) >= sizeof(copy))
		return rule_error(origin, line, "...", "%s", "rule too long");
	strcpy(copy, text);
	eq = strchr(copy, '=');
	if (!eq)
		return rule_error(origin, line, text, "%s",
				  "expected PREFIX=CLASS[,CLASS...]");
	*eq = 0;
	err = parse_prefix(copy, &r);
	if (err)
		return rule_error(origin, line, text, "%s", err);
	snprintf(r.prefix, sizeof(r.prefix), "%s", copy);
	if (!eq[1])
		return rule_error(origin, line, text, "%s", "no class after '='");
	for (tok = eq + 1; tok; tok = save) {
		save = strchr(tok, ',');
		if (save)
			*save++ = 0;
		if (!*tok)
			return rule_error(origin, line, text, "%s",
					  "an empty class name (two commas, or one at an end)");
		c = class_from_name(tok);
		if (c < 0)
			return rule_error(origin, line, text,
					  "unknown class '%s' (see protomix classes)", tok);
		r.allowed |= 1u << c;
	}
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].plen == r.plen && !memcmp(rs->v[i].addr, r.addr, 16))
			return rule_error(origin, line, text,
					  "prefix %s has a rule already", rs->v[i].prefix);
	if (rs->n == MAX_RULES)
		return rule_error(origin, line, text, "%s", "more than 65536 rules");
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 16;
		struct rule *v = realloc(rs->v, cap * sizeof(*v));

		if (!v) {
			pm_err("out of memory");
			return EXIT_RUNTIME;
		}
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = r;
	return 0;
}

int ruleset_load_file(struct ruleset *rs, const char *path)
{
	char *line = NULL, *s, *e;
	size_t cap = 0, before = rs->n;
	int lineno = 0, rc = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		pm_err("%s: cannot read the rules file: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if ((s = strchr(line, '#')))
			*s = 0;
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		for (e = s + strlen(s); e > s && strchr(" \t\r\n", e[-1]); e--)
			;
		*e = 0;
		if (!*s)
			continue;
		rc = ruleset_add(rs, s, path, lineno);
		if (rc)
			break;
	}
	if (!rc && ferror(f)) {
		pm_err("%s: cannot read the rules file: %s", path, strerror(errno));
		rc = EXIT_USAGE;
	}
	if (!rc && rs->n == before) {
		pm_err("%s: the rules file has no rules", path);
		rc = EXIT_USAGE;
	}
	free(line);
	fclose(f);
	return rc;
}

void ruleset_free(struct ruleset *rs)
{
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

int ruleset_build(const struct ruleset *cli, const char *file,
		  struct ruleset *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; cli && i < cli->n; i++) {
		const struct rule *r = &cli->v[i];
		char text[160], cls[128];

		snprintf(text, sizeof(text), "%s=%s", r->prefix,
			 classes_text(r->allowed, cls, sizeof(cls)));
		if (ruleset_add(out, text, r->origin, r->line))
			goto fail;
	}
	if (file && ruleset_load_file(out, file))
		goto fail;
	return 0;
fail:
	ruleset_free(out);
	return EXIT_USAGE;
}

static bool rule_covers(const struct rule *r, const uint8_t addr[16])
{
	uint32_t full = r->plen / 8, rest = r->plen % 8;

	if (memcmp(r->addr, addr, full))
		return false;
	return !rest || ((r->addr[full] ^ addr[full]) & (0xff00 >> rest)) == 0;
}

const struct rule *ruleset_match(const struct ruleset *rs, const uint8_t addr[16])
{
	const struct rule *best = NULL;

	for (size_t i = 0; i < rs->n; i++)
		if (rule_covers(&rs->v[i], addr) &&
		    (!best || rs->v[i].plen > best->plen))
			best = &rs->v[i];
	return best;
}

static void rule_key(const struct rule *r, struct pm_rule_key *k)
{
	k->prefixlen = r->plen;
	memcpy(k->addr, r->addr, 16);
}

int ruleset_sync(int fd, const struct ruleset *old, const struct ruleset *now)
{
	struct pm_rule_key k;
	struct pm_rule v;
	bool kept;

	for (size_t i = 0; i < now->n; i++) {
		rule_key(&now->v[i], &k);
		v = (struct pm_rule){ .allowed = now->v[i].allowed, .id = i + 1 };
		if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; old && i < old->n; i++) {
		kept = false;
		for (size_t j = 0; j < now->n && !kept; j++)
			kept = old->v[i].plen == now->v[j].plen &&
			       !memcmp(old->v[i].addr, now->v[j].addr, 16);
		if (kept)
			continue;
		rule_key(&old->v[i], &k);
		if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

char *classes_text(uint32_t mask, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int c = 0; c < PM_NCLASS && n < len; c++)
		if (mask & (1u << c))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      class_name(c));
	return buf;
}

json_object *classes_json(uint32_t mask)
{
	json_object *a = json_object_new_array();

	for (int c = 0; c < PM_NCLASS; c++)
		if (mask & (1u << c))
			json_object_array_add(a, json_object_new_string(class_name(c)));
	return a;
}

int baseline_load(struct baseline *b, const char *path)
{
	struct snap_doc doc;
	const uint64_t *p;
	uint32_t flags;
	int rc;

	memset(b, 0, sizeof(*b));
	/* checked as diff checks it (snapdoc.h); a prefix counts for its
	 * address, the key the kernel uses with --aggregate */
	if ((rc = snap_doc_read(path, &doc)))
		return rc;
	b->addr = calloc(doc.n ? doc.n : 1, sizeof(*b->addr));
	b->flags = calloc(doc.n ? doc.n : 1, sizeof(*b->flags));
	if (!b->addr || !b->flags) {
		pm_err("%s: out of memory", path);
		snap_doc_free(&doc);
		baseline_free(b);
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < doc.n; i++) {
		p = doc.d[i].packets;
		flags = 0;
		if (p[PM_C_TCP])
			flags |= PM_D_BASE_TCP;
		if (p[PM_C_ESP] || p[PM_C_AH] || p[PM_C_ESP_UDP] || p[PM_C_IKE])
			flags |= PM_D_BASE_IPSEC;
		if (!flags)
			continue;
		memcpy(b->addr[b->n], doc.d[i].key, sizeof(b->addr[b->n]));
		b->flags[b->n++] = flags;
	}
	snap_doc_free(&doc);
	return 0;
}

int baseline_fill(int fd, const struct baseline *b)
{
	for (size_t i = 0; i < b->n; i++)
		if (bpf_map_update_elem(fd, b->addr[i], &b->flags[i], BPF_ANY))
			return -errno;
	return 0;
}

void baseline_free(struct baseline *b)
{
	free(b->addr);
	free(b->flags);
	memset(b, 0, sizeof(*b));
}
