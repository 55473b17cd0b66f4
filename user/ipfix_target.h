/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The collectors of `watch --ipfix HOST:PORT[/udp|/tcp]` (ipfix_target.c):
 * a target parsed and resolved, the default observation domain. ipfix.h
 * includes it. */
#ifndef PM_IPFIX_TARGET_H
#define PM_IPFIX_TARGET_H

#include <stdbool.h>
#include <stdint.h>

/* --ipfix may be given this many times at most. */
#define IPFIX_MAX_COLLECTORS	2

struct ipfix_target {
	char host[256];		/* as given, without brackets */
	char port[8];
	bool tcp;
	char text[280];		/* HOST:PORT/proto, for messages */
};

/* Parse one --ipfix value (HOST:PORT, [V6ADDR]:PORT, optional /udp or
 * /tcp) and resolve HOST. 0, or EXIT_USAGE with one line on stderr. */
int ipfix_parse_target(const char *arg, struct ipfix_target *t);
/* --ipfix-domain's default: a hash of the host name. */
uint32_t ipfix_default_domain(void);

#endif
