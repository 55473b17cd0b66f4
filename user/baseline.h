/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * --baseline: what a snapshot taken earlier says was normal, read with
 * the snapshot reader (snapdoc.h) and put in the kernel's baseline map.
 */
#ifndef PM_BASELINE_H
#define PM_BASELINE_H

#include <stddef.h>
#include <stdint.h>
#include "protomix.h"

/* Learned expectations from a snapshot (--baseline): a PM_D_BASE_* flag
 * word per destination that had TCP or an IPsec class. */
struct baseline {
	uint8_t (*addr)[16];
	uint32_t *flags;
	size_t n;
};

/* 0, or EXIT_USAGE with the file and the problem named. */
int baseline_load(struct baseline *b, const char *path);
/* Into the kernel's baseline map. 0 or -errno. */
int baseline_fill(int map_fd, const struct baseline *b);
void baseline_free(struct baseline *b);

#endif
