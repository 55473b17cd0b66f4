// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix classes`: the protocol classes and the parse-failure reasons,
 * with their definitions (classes.c). */
#include <stdio.h>
#include "classes.h"
#include "cli.h"
#include "commands.h"
#include "util.h"

static void classes_usage(FILE *f)
{
	fprintf(f,
"usage: protomix classes\n"
"The protocol classes counted per destination, with their definitions,\n"
"and the reasons a frame is counted as not IP or malformed.\n");
}

int cmd_classes(int argc, char **argv)
{
	if (argc > 1 && cli_is_help(argv[1])) {
		classes_usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1) {
		pm_err("classes: takes no arguments (see protomix classes --help)");
		return EXIT_USAGE;
	}
	printf("Protocol classes (counted per destination):\n");
	for (int c = 0; c < PM_NCLASS; c++)
		printf("  %-11s %s\n", class_name(c), class_desc(c));
	printf("\nTunnel classes: esp ah esp_udp gre ipip ipv6_encap\n");
	printf("IPsec classes:  esp ah esp_udp ike\n");
	printf("\nNot counted per destination, counted in stats by reason:\n");
	for (int r = 0; r < PM_NREASON; r++)
		printf("  %-13s %s\n", reason_name(r), reason_desc(r));
	return 0;
}
