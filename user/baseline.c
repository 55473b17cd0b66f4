// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "baseline.h"
#include "classes.h"
#include "snapdoc.h"
#include "util.h"

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
		for (int c = 0; c < PM_NCLASS; c++)
			if (((class_ipsec_mask() | class_encrypted_mask()) & 1u << c) && p[c])
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
