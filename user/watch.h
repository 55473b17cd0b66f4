/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `protomix watch`: load, attach, observe, report; detach on exit. */
#ifndef PM_WATCH_H
#define PM_WATCH_H

int cmd_watch(int argc, char **argv);
void watch_usage(FILE *f);

#endif
