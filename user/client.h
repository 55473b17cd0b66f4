/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The commands that read a running watch: `protomix snapshot` and
 * `protomix status` (see control.h for how they reach it). */
#ifndef PM_CLIENT_H
#define PM_CLIENT_H

int cmd_snapshot(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif
