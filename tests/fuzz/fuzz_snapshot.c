// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_snapshot: the readers of a snapshot file (JSON): snapshot_read
 * (user/snapshot.c) and baseline_load (user/baseline.c, --baseline). A
 * baseline keeps only destinations with a flag, and only known flags.
 */
#include <string.h>
#include "fuzz.h"
#include "baseline.h"
#include "snapshot.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	struct baseline b;
	json_object *snap;

	snap = snapshot_read(path);
	json_object_put(snap);
	if (baseline_load(&b, path) == 0) {
		for (size_t i = 0; i < b.n; i++)
			if (!b.flags[i] || b.flags[i] & ~(PM_D_BASE_TCP | PM_D_BASE_IPSEC))
				abort();
		baseline_free(&b);
	}
	return 0;
}
