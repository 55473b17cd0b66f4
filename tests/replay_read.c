// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * replay_read: how `protomix replay` reads captures (user/replay_capture.c),
 * without BPF. The first file is an Ethernet capture; every other one must
 * hold the same frames in another link type or format: each of its frames,
 * once turned into Ethernet (capture_next), equals the next matching frame
 * of the reference from the ethertype on, with the same captured and wire
 * lengths; only frames its link type cannot carry may be missing. When no
 * frame is missing, the timestamps must be equal too.
 *
 *   replay_read REF.pcap OTHER... (called by tests/replay_test.sh)
 *
 * One line per file: PASS replay/read/NAME | FAIL replay/read/NAME: why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "replay.h"

struct frames {
	struct replay_frame *v;
	size_t n;
};

static int load(const char *path, struct frames *out, char *why, size_t len)
{
	struct capture c;
	size_t cap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (capture_open(&c, path)) {
		snprintf(why, len, "%s", c.err);
		return -1;
	}
	for (;;) {
		if (out->n == cap) {
			cap = cap ? 2 * cap : 64;
			out->v = realloc(out->v, cap * sizeof(*out->v));
			if (!out->v)
				abort();
		}
		rc = capture_next(&c, &out->v[out->n]);
		if (rc <= 0)
			break;
		out->n++;
	}
	if (rc < 0)
		snprintf(why, len, "%s", c.err);
	capture_close(&c);
	return rc;
}

static bool same(const struct replay_frame *a, const struct replay_frame *b)
{
	if (a->link_trunc || b->link_trunc)
		return a->link_trunc == b->link_trunc && a->cap_len == b->cap_len;
	return a->len == b->len && a->cap_len == b->cap_len &&
	       a->wire_len == b->wire_len &&
	       !memcmp(a->data + 12, b->data + 12, a->len - 12);
}

int main(int argc, char **argv)
{
	struct frames ref, other;
	char why[1024];
	int failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: replay_read REF.pcap OTHER...\n");
		return 2;
	}
	if (load(argv[1], &ref, why, sizeof(why))) {
		printf("FAIL replay/read: %s: %s\n", argv[1], why);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
		size_t r = 0, o = 0;

		why[0] = 0;
		if (load(argv[i], &other, why, sizeof(why))) {
			printf("FAIL replay/read/%s: %s\n", name, why);
			failed = 1;
			continue;
		}
		for (; o < other.n; o++, r++) {
			while (r < ref.n && !same(&ref.v[r], &other.v[o]))
				r++;
			if (r == ref.n) {
				snprintf(why, sizeof(why), "frame %zu (%u bytes) is not in the reference",
					 o + 1, other.v[o].len);
				break;
			}
			if (other.n == ref.n && ref.v[r].ts_ns != other.v[o].ts_ns) {
				snprintf(why, sizeof(why), "frame %zu: time %llu, want %llu", o + 1,
					 (unsigned long long)other.v[o].ts_ns,
					 (unsigned long long)ref.v[r].ts_ns);
				break;
			}
		}
		if (why[0] || !other.n) {
			printf("FAIL replay/read/%s: %s\n", name, why[0] ? why : "no frames");
			failed = 1;
		} else {
			printf("PASS replay/read/%s\n", name);
			printf("# %s: %zu of the %zu frames\n", name, other.n, ref.n);
		}
		free(other.v);
	}
	free(ref.v);
	return failed;
}
