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

/* One line: a label, then the names of the classes in mask. */
static void print_mask(const char *label, uint32_t mask)
{
	printf("%s", label);
	for (int c = 0; c < PM_NCLASS; c++)
		if (mask & 1u << c)
			printf(" %s", class_name(c));
	printf("\n");
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
	print_mask("\nTunnel classes:   ", class_tunnel_mask());
	print_mask("IPsec classes:    ", class_ipsec_mask());
	print_mask("Encrypted classes:", class_encrypted_mask());
	printf("  (protocol_shift: a TCP destination that turns to one; one_way_ipsec: one of them one way)\n");
	print_mask("Decapsulated:     ", PM_TUNNEL_CLASSES);
	printf("  (--decap, the default: the packet inside, one level deep, counts under its own\n"
	       "   destination too, marked \"via\" the tunnel; the tun_* reasons are its own;\n"
	       "   --no-decap: the tunnel's class only)\n");
	printf("\nCarriers seen through: up to 2 VLAN tags (802.1Q, 802.1ad), then an MPLS\n"
	       "label stack (up to 8 labels) or a PPPoE session: the IP packet inside counts.\n");

	printf("\nNot counted per destination, counted in stats by reason:\n");
	for (int r = 0; r < PM_NREASON; r++)
		printf("  %-13s %s\n", reason_name(r), reason_desc(r));
	return 0;
}
