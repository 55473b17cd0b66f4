// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <getopt.h>
#include <string.h>
#include "cli.h"
#include "util.h"

int cli_opt_error(const char *cmd, int c, char **argv)
{
	char esc[PM_ESC_LEN(64)];

	pm_esc(argv[optind - 1], esc, sizeof(esc));
	if (c == ':')
		pm_err("option '%s' needs a value (see protomix %s --help)", esc, cmd);
	else
		pm_err("unknown option '%s' (see protomix %s --help)", esc, cmd);
	return EXIT_USAGE;
}

int cli_parse_pid(const char *s, pid_t *pid)
{
	char esc[PM_ESC_LEN(64)];
	uint64_t v;

	if (!parse_u64(s, 1, PM_PID_MAX, &v)) {
		pm_err("invalid --pid '%s'", pm_esc(s, esc, sizeof(esc)));
		return EXIT_USAGE;
	}
	*pid = v;
	return 0;
}

int cli_parse_interval(const char *s, double *secs)
{
	char esc[PM_ESC_LEN(64)];

	if (parse_seconds(s, secs) && *secs >= PM_INTERVAL_MIN)
		return 0;
	pm_err("invalid --interval '%s': seconds from %g (the minimum) to %d, e.g. 1 or 0.5",
	       pm_esc(s, esc, sizeof(esc)), PM_INTERVAL_MIN, PM_SECONDS_MAX);
	return EXIT_USAGE;
}

bool cli_is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}
