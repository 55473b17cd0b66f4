/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Where /sys/fs/bpf is a mounted bpffs (real gateways), a watch pins its
 * maps under /sys/fs/bpf/protomix/PID/ so that bpftool can read them, and
 * removes them on exit. Pins that a killed watch left (its pid is gone)
 * are removed by the next one. Inside `ip netns exec` /sys is the
 * namespace's own and usually has no bpffs: then nothing is pinned.
 */
#ifndef PM_PIN_H
#define PM_PIN_H

#include <bpf/libbpf.h>

#define PIN_ROOT "/sys/fs/bpf/protomix"

/* 0 if pinned or nothing to do (no bpffs); -errno on failure (reported). */
int pin_maps(struct bpf_object *obj, char *dir, size_t len);
void unpin_maps(struct bpf_object *obj, const char *dir);

#endif
