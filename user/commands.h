/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The subcommands of protomix, dispatched by main.c's command table. Each
 * takes the arguments from its own name on (argv[0] is "watch", say) and
 * returns the process's exit status: EXIT_OK, EXIT_RUNTIME or EXIT_USAGE
 * (util.h). Where each lives:
 *   watch     watch.c       load, attach, observe, report, answer clients
 *   snapshot  cmd_snapshot.c  a snapshot as json/md/csv/html/svg, evidence as pcap
 *   top       top_client.c  the live view of a running watch
 *   status    cmd_status.c  the running watches
 *   replay    replay.c      the classifier over a capture
 *   diff      diff.c        two snapshots compared
 *   detach    cmd_detach.c  what a killed run left attached, removed
 *   classes   cmd_classes.c the protocol classes and their definitions
 *   check     probe.c       the kernel features protomix needs
 */
#ifndef PM_COMMANDS_H
#define PM_COMMANDS_H

#include <stdio.h>

int cmd_watch(int argc, char **argv);
void watch_usage(FILE *f);
int cmd_snapshot(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_replay(int argc, char **argv);
void replay_usage(FILE *f);
int cmd_diff(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_classes(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
