/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One check of a C test: collect every reason it fails, then print one
 * line, "PASS name" or "FAIL name: why" (tests/run.sh counts them). */
#ifndef PM_TEST_CHECK_H
#define PM_TEST_CHECK_H

#include <stddef.h>

struct check {
	char why[512];
	size_t len;
	int n;		/* reasons so far */
};

/* Add a reason; they are joined with "; " while they fit. */
void complain(struct check *ck, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the check's line; 1 when it failed, else 0. */
int report(const char *name, const struct check *ck);

#endif
