// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>
#include "check.h"

void complain(struct check *ck, const char *fmt, ...)
{
	va_list ap;

	if (ck->n++ && ck->len < sizeof(ck->why))
		ck->len += snprintf(ck->why + ck->len, sizeof(ck->why) - ck->len, "; ");
	if (ck->len < sizeof(ck->why)) {
		va_start(ap, fmt);
		ck->len += vsnprintf(ck->why + ck->len, sizeof(ck->why) - ck->len, fmt, ap);
		va_end(ap);
	}
}

int report(const char *name, const struct check *ck)
{
	if (ck->n) {
		printf("FAIL %s: %s\n", name, ck->why);
		return 1;
	}
	printf("PASS %s\n", name);
	return 0;
}
