/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the libFuzzer targets share: protomix's error lines go to
 * /dev/null (libFuzzer and the sanitizers keep the real stderr), and an
 * input can be handed to a function that wants a path, through a memfd.
 */
#ifndef PM_FUZZ_H
#define PM_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Every pm_err() writes to `stderr`: point it at /dev/null. libFuzzer
 * took its own copy of stderr before LLVMFuzzerInitialize runs. */
static inline void fuzz_quiet(void)
{
	FILE *null = fopen("/dev/null", "w");

	if (null)
		stderr = null;
}

/* The input as a file: "/proc/self/fd/N" of a memfd holding it. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	return path;
}

#endif
