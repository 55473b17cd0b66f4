// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The IPFIX exporter's options (ipfix_target.h): a --ipfix target parsed and
 * resolved, the default observation domain. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "ipfix_target.h"
#include "util.h"

/* --- options --------------------------------------------------------------- */

int ipfix_parse_target(const char *arg, struct ipfix_target *t)
{
	char esc[PM_ESC_LEN(64)], buf[sizeof(t->host)];
	const char *proto = "udp", *host, *port;
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	char *slash, *colon;
	uint64_t p;
	int rc;

	memset(t, 0, sizeof(*t));
	if (strlen(arg) >= sizeof(buf) - 1)
		goto bad;
	strcpy(buf, arg);
	slash = strrchr(buf, '/');
	if (slash && (!strcmp(slash + 1, "udp") || !strcmp(slash + 1, "tcp"))) {
		proto = slash[1] == 't' ? "tcp" : "udp";
		*slash = 0;
	} else if (slash) {
		pm_err("invalid --ipfix '%s': the transport is /udp or /tcp",
		       pm_esc(arg, esc, sizeof(esc)));
		return EXIT_USAGE;
	}
	colon = strrchr(buf, ':');
	if (!colon)
		goto bad;
	*colon = 0;
	port = colon + 1;
	host = buf;
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (n < 3 || host[n - 1] != ']')
			goto bad;
		buf[n - 1] = 0;
		host++;
	} else if (strchr(host, ':')) {
		goto bad;	/* an IPv6 address goes in brackets */
	}
	if (!*host || !parse_u64(port, 1, 65535, &p))
		goto bad;
	hints.ai_socktype = proto[0] == 't' ? SOCK_STREAM : SOCK_DGRAM;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc || !ai) {
		pm_err("invalid --ipfix '%s': cannot resolve '%s': %s",
		       pm_esc(arg, esc, sizeof(esc)), host, gai_strerror(rc));
		return EXIT_USAGE;
	}
	freeaddrinfo(ai);
	memmove(t->host, host, strlen(host) + 1);
	snprintf(t->port, sizeof(t->port), "%u", (unsigned int)p);
	t->tcp = proto[0] == 't';
	snprintf(t->text, sizeof(t->text), "%s%.255s%s:%.5s/%.3s",
		 strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
		 t->port, proto);
	return 0;
bad:
	pm_err("invalid --ipfix '%s': HOST:PORT[/udp|/tcp], e.g. 192.0.2.7:4739 or [2001:db8::7]:4739/tcp",
	       pm_esc(arg, esc, sizeof(esc)));
	return EXIT_USAGE;
}

uint32_t ipfix_default_domain(void)
{
	char host[256] = "";
	uint32_t h = 2166136261u;	/* FNV-1a */

	gethostname(host, sizeof(host) - 1);
	for (const char *s = host; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h ? h : 1;
}
