// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fuzz_rules: the expectation rules parser (user/rules.c).
 *
 * The input is tried as one --expect argument (ruleset_add) and as an
 * --expect-file (ruleset_load_file). Whatever it accepts must survive a
 * round trip through its own text (ruleset_build re-adds every rule from
 * its prefix and classes) and match itself (ruleset_match of a rule's own
 * address finds a rule at least as long).
 */
#include <string.h>
#include "fuzz.h"
#include "protomix.h"
#include "rules.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

static void check(const struct ruleset *rs)
{
	struct ruleset copy;

	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->v[i], *m = ruleset_match(rs, r->addr);

		if (!r->allowed || r->allowed & ~PM_ALL_CLASSES || r->plen > 128)
			abort();
		if (!m || m->plen < r->plen)
			abort();
	}
	if (ruleset_build(rs, NULL, &copy))
		abort();
	if (copy.n != rs->n)
		abort();
	for (size_t i = 0; i < rs->n; i++)
		if (copy.v[i].plen != rs->v[i].plen || copy.v[i].allowed != rs->v[i].allowed ||
		    memcmp(copy.v[i].addr, rs->v[i].addr, 16))
			abort();
	ruleset_free(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ruleset rs = { 0 };
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	ruleset_add(&rs, text, "--expect", 0);
	free(text);
	ruleset_load_file(&rs, fuzz_file(data, size));
	check(&rs);
	ruleset_free(&rs);
	return 0;
}
