// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_export: what `protomix snapshot -f md|csv` and `protomix diff` read
 * from a snapshot (user/export.c), which promises to take any json_object
 * without crashing: a key missing or of the wrong type reads as empty.
 * The input is parsed as JSON (json-c), and any object is exported.
 */
#include <string.h>
#include "fuzz.h"
#include "export.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	devnull = fopen("/dev/null", "w");
	return devnull ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;

	if (!tok)
		return 0;
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (!o)
		return 0;
	export_md(devnull, o);
	export_csv(devnull, o);
	json_object_put(o);
	return 0;
}
