// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "classes.h"
#include "protomix.h"
#include "rules.h"
#include "snapdoc.h"
#include "snapshot.h"
#include "util.h"

#define RULE_TEXT_MAX	1024	/* a rule's text, with its NUL */

/* "origin:line: invalid rule 'TEXT': why", the text escaped. */
static int rule_error(const char *origin, int line, const char *text,
		      const char *why)
{
	char esc[PM_ESC_LEN(RULE_TEXT_MAX)];

	pm_esc(text, esc, sizeof(esc));
	if (line)
		pm_err("%s:%d: invalid rule '%s': %s", origin, line, esc, why);
	else
		pm_err("invalid rule '%s': %s", esc, why);
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

/* --- the index by prefix --------------------------------------------------- */

/* Keyed with a random seed, so a rules file cannot be written to make
 * every prefix collide. */
static uint64_t hash_seed;

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t prefix_hash(const uint8_t addr[16], uint32_t plen)
{
	uint64_t a, b;

	if (!hash_seed && getrandom(&hash_seed, sizeof(hash_seed), 0) != sizeof(hash_seed))
		hash_seed = now_mono_ns();
	hash_seed |= 1;
	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	return mix64(mix64(hash_seed ^ plen ^ a) ^ b);
}

/* A slot: the hash's upper half, then index + 1 (0: empty). The tag
 * spares reading the rule of every slot a probe passes. */
#define SLOT_IDX(s)	((uint32_t)(s))
#define SLOT_TAG(h)	((h) & 0xffffffff00000000ull)

/* The index in rs->v of the rule for exactly addr/plen, or -1. */
static long ruleset_find(const struct ruleset *rs, const uint8_t addr[16],
			 uint32_t plen)
{
	size_t mask = rs->nslot - 1, i;
	const struct rule *r;
	uint64_t h;

	if (!rs->nslot)
		return -1;
	h = prefix_hash(addr, plen);
	for (i = h & mask; rs->slot[i]; i = (i + 1) & mask) {
		if (SLOT_TAG(rs->slot[i]) != SLOT_TAG(h))
			continue;
		r = &rs->v[SLOT_IDX(rs->slot[i]) - 1];
		if (r->plen == plen && !memcmp(r->addr, addr, 16))
			return SLOT_IDX(rs->slot[i]) - 1;
	}
	return -1;
}

static void slot_put(struct ruleset *rs, size_t idx)
{
	size_t mask = rs->nslot - 1, i;
	uint64_t h = prefix_hash(rs->v[idx].addr, rs->v[idx].plen);

	for (i = h & mask; rs->slot[i]; i = (i + 1) & mask)
		;
	rs->slot[i] = SLOT_TAG(h) | (idx + 1);
}

/* Room in the index for one more rule: at most half full. */
static int index_grow(struct ruleset *rs)
{
	size_t n = rs->nslot ? rs->nslot : 64;
	uint64_t *slot;

	if (2 * (rs->n + 1) <= rs->nslot)
		return 0;
	while (2 * (rs->n + 1) > n)
		n *= 2;
	slot = calloc(n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	free(rs->slot);
	rs->slot = slot;
	rs->nslot = n;
	for (size_t i = 0; i < rs->n; i++)
		slot_put(rs, i);
	return 0;
}

/* --- adding rules ------------------------------------------------------------ */

int ruleset_add(struct ruleset *rs, const char *text, const char *origin,
		int line)
{
	char copy[RULE_TEXT_MAX], *eq, *tok, *save, why[256];
	const char *err;
	struct rule r = { .origin = origin, .line = line };
	long dup;
	int c;

	if (strlen(text) >= sizeof(copy))
		return rule_error(origin, line, "...", "rule too long");
	strcpy(copy, text);
	eq = strchr(copy, '=');
	if (!eq)
		return rule_error(origin, line, text, "expected PREFIX=CLASS[,CLASS...]");
	*eq = 0;
	err = parse_prefix(copy, &r);
	if (err)
		return rule_error(origin, line, text, err);
	snprintf(r.prefix, sizeof(r.prefix), "%s", copy);
	if (!eq[1])
		return rule_error(origin, line, text, "no class after '='");
	for (tok = eq + 1; tok; tok = save) {
		save = strchr(tok, ',');
		if (save)
			*save++ = 0;
		if (!*tok)
			return rule_error(origin, line, text,
					  "an empty class name (two commas, or one at an end)");
		c = class_from_name(tok);
		if (c < 0) {
			char esc[PM_ESC_LEN(64)];

			snprintf(why, sizeof(why), "unknown class '%s' (see protomix classes)",
				 pm_esc(tok, esc, sizeof(esc)));
			return rule_error(origin, line, text, why);
		}
		r.allowed |= 1u << c;
	}
	dup = ruleset_find(rs, r.addr, r.plen);
	if (dup >= 0) {
		const struct rule *d = &rs->v[dup];

		if (d->line)
			snprintf(why, sizeof(why), "prefix %s has a rule already (%s:%d)",
				 d->prefix, d->origin, d->line);
		else
			snprintf(why, sizeof(why), "prefix %s has a rule already (%s)",
				 d->prefix, d->origin);
		return rule_error(origin, line, text, why);
	}
	if (rs->n == RULES_MAX) {
		snprintf(why, sizeof(why), "more than %d rules", RULES_MAX);
		return rule_error(origin, line, text, why);
	}
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
	if (index_grow(rs)) {
		pm_err("out of memory");
		return EXIT_RUNTIME;
	}
	rs->v[rs->n] = r;
	slot_put(rs, rs->n);
	rs->plens[r.plen / 64] |= 1ull << (r.plen % 64);
	rs->n++;
	return 0;
}

/* --- the rules file ----------------------------------------------------------- */

int ruleset_load_file(struct ruleset *rs, const char *path)
{
	size_t len, before = rs->n;
	char *buf, *line, *next, *s, *e;
	int lineno = 0, rc = 0, fd;
	uint64_t size;

	/* a regular file of at most RULES_FILE_MAX bytes: a FIFO, a device
	 * or an endless file is refused before it is read */
	fd = input_open(path, "rules file", RULES_FILE_MAX, &size);
	if (fd < 0)
		return EXIT_USAGE;
	buf = input_read(fd, path, "rules file", size, RULES_FILE_MAX, &len);
	close(fd);
	if (!buf)
		return EXIT_USAGE;
	for (line = buf; line < buf + len; line = next) {
		lineno++;
		e = memchr(line, '\n', buf + len - line);
		next = e ? e + 1 : buf + len;
		if (e)
			*e = 0;
		if (memchr(line, 0, (e ? e : buf + len) - line)) {
			pm_err("%s:%d: a NUL byte: not a text file", path, lineno);
			rc = EXIT_USAGE;
			break;
		}
		if ((s = strchr(line, '#')))
			*s = 0;
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		for (e = s + strlen(s); e > s && strchr(" \t\r", e[-1]); e--)
			;
		*e = 0;
		if (!*s)
			continue;
		rc = ruleset_add(rs, s, path, lineno);
		if (rc)
			break;
	}
	if (!rc && rs->n == before) {
		pm_err("%s: the rules file has no rules", path);
		rc = EXIT_USAGE;
	}
	free(buf);
	return rc;
}

void ruleset_free(struct ruleset *rs)
{
	free(rs->v);
	free(rs->slot);
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

/* The longest match: one look-up in the index per prefix length present,
 * longest first. */
const struct rule *ruleset_match(const struct ruleset *rs, const uint8_t addr[16])
{
	uint8_t masked[16];
	long i;

	for (int plen = 128; plen >= 0; plen--) {
		if (!(rs->plens[plen / 64] & (1ull << (plen % 64))))
			continue;
		memcpy(masked, addr, 16);
		if (plen % 8)
			masked[plen / 8] &= 0xff00 >> (plen % 8);
		if (plen < 128)
			memset(masked + (plen + 7) / 8, 0, 16 - (plen + 7) / 8);
		i = ruleset_find(rs, masked, plen);
		if (i >= 0)
			return &rs->v[i];
	}
	return NULL;
}

static void rule_key(const struct rule *r, struct pm_rule_key *k)
{
	k->prefixlen = r->plen;
	memcpy(k->addr, r->addr, 16);
}

/* Delete (vals NULL) or write n entries: in one batch, or one at a time
 * where the kernel has no batch for the trie or the batch failed midway
 * (a delete of what is not there is no error). 0 or -errno. */
static int map_batch(int fd, struct pm_rule_key *keys, struct pm_rule *vals,
		     size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 count = n;

	if (!n)
		return 0;
	if (vals ? !bpf_map_update_batch(fd, keys, vals, &count, &opts) :
		   !bpf_map_delete_batch(fd, keys, &count, &opts))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (vals && bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY))
			return -errno;
		if (!vals && bpf_map_delete_elem(fd, &keys[i]) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

int ruleset_sync(int fd, const struct ruleset *old, const struct ruleset *now)
{
	size_t n_old = old ? old->n : 0, nk = 0;
	size_t n = (now->n > n_old ? now->n : n_old) + 1;
	struct pm_rule_key *keys = calloc(n, sizeof(*keys));
	struct pm_rule *vals = calloc(n, sizeof(*vals));
	int err = -ENOMEM;
	long j;

	if (!keys || !vals)
		goto out;
	/* Removed first: the trie has room for RULES_MAX entries, not for
	 * the old and the new rules side by side. */
	for (size_t i = 0; old && i < old->n; i++)
		if (ruleset_find(now, old->v[i].addr, old->v[i].plen) < 0)
			rule_key(&old->v[i], &keys[nk++]);
	err = map_batch(fd, keys, NULL, nk);
	if (err)
		goto out;
	nk = 0;
	for (size_t i = 0; i < now->n; i++) {
		j = old ? ruleset_find(old, now->v[i].addr, now->v[i].plen) : -1;
		if (j == (long)i && old->v[j].allowed == now->v[i].allowed)
			continue;	/* in the trie as it is */
		rule_key(&now->v[i], &keys[nk]);
		vals[nk++] = (struct pm_rule){ .allowed = now->v[i].allowed, .id = i + 1 };
	}
	err = map_batch(fd, keys, vals, nk);
out:
	free(keys);
	free(vals);
	return err;
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
		if (p[PM_C_ESP] || p[PM_C_AH] || p[PM_C_ESP_UDP] || p[PM_C_IKE] ||
		    p[PM_C_WIREGUARD])
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
