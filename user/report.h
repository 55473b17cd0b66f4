/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The periodic report of a watch: the busiest destinations of the last
 * interval with their class mix, as a text table or one JSON line. */
#ifndef PM_REPORT_H
#define PM_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include "snapshot.h"

/* prev is the table read one interval earlier (indexed), or empty. */
void report_interval(FILE *out, bool json, int top, double secs,
		     const struct pm_view *now, const struct dest_table *prev);

#endif
