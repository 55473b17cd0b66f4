/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What every command's option parsing shares: the error lines of getopt's
 * two failures, --pid, and what -h/--help does (the command's help on
 * stdout, exit status 0, in every command).
 */
#ifndef PM_CLI_H
#define PM_CLI_H

#include <stdbool.h>
#include <sys/types.h>

/* The largest pid Linux hands out (PID_MAX_LIMIT, 4 Mi): --pid's bound. */
#define PM_PID_MAX	(1u << 22)

/* What an option parser returns when -h/--help printed the command's
 * help: the command then ends with EXIT_OK. No exit status is negative. */
#define CLI_HELP_SHOWN	(-1)

/* getopt_long (with opterr = 0 and a leading ':' in its option string)
 * returned ':' or '?' for argv[optind - 1]: "option '-x' needs a value"
 * or "unknown option '-x'", each followed by "(see protomix CMD
 * --help)". Returns EXIT_USAGE. */
int cli_opt_error(const char *cmd, int c, char **argv);

/* --pid: a number from 1 to PM_PID_MAX into *pid. 0, or EXIT_USAGE with
 * the value named. */
int cli_parse_pid(const char *s, pid_t *pid);

/* -i/--interval of watch and top: seconds from PM_INTERVAL_MIN to
 * PM_SECONDS_MAX into *secs. 0, or EXIT_USAGE with the value named. */
int cli_parse_interval(const char *s, double *secs);

/* "-h" or "--help". */
bool cli_is_help(const char *arg);

#endif
