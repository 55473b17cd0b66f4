// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The command line of `protomix watch` (see watch_opts.h): the usage
 * text, the parsing of every option into struct watch_opts with the
 * checks of one option against another, and the check that the
 * snapshot's target (-o) can be written, made before anything is
 * attached. What the options set up is watch.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "util.h"
#include "watch_opts.h"

void watch_usage(FILE *f)
{
	fprintf(f,
"usage: protomix watch [OPTIONS] IFACE...\n"
"Attach to each IFACE (ingress and egress; a loopback device: ingress\n"
"only, which sees every packet it sends), count per destination the\n"
"packets and bytes of each protocol class, report every interval, and\n"
"detach on exit (also on SIGINT and SIGTERM).\n"
"\n"
"  -i, --interval SEC     poll and report period (default 1; 0.1 to 86400)\n"
"  -d, --duration SEC     stop after SEC seconds, at most a day (default:\n"
"                         until a signal)\n"
"  -o, --snapshot FILE    write a JSON snapshot to FILE on exit (mode 0600;\n"
"                         - is stdout; a symbolic link or a folder is refused)\n"
"      --json             JSON Lines on stdout instead of a text table\n"
"      --alerts-only      print the alerts, not the periodic report (for logs)\n"
"  -e, --expect PREFIX=CLASS[,CLASS...]\n"
"                         what PREFIX should receive, e.g. 10.20.0.0/16=tcp\n"
"                         (repeatable; the longest prefix wins)\n"
"  -E, --expect-file FILE one PREFIX=CLASSES per line, # comments; SIGHUP\n"
"                         rereads it (a regular file of at most 16 MiB)\n"
"      --baseline SNAPSHOT.json\n"
"                         what was normal before: its TCP destinations that\n"
"                         had no IPsec raise protocol_shift on IPsec\n"
"      --sample-rate N    alerts sampled per destination per second\n"
"                         (default %d; the counts stay exact)\n"
"      --oneway-window SEC  ESP with nothing back for SEC seconds is\n"
"                         one_way_ipsec (default %g)\n"
"      --max-dests N      size of the per-destination map (default %d)\n"
"      --aggregate V4LEN[,V6LEN]\n"
"                         count per prefix instead of per address, e.g. 24,64\n"
"      --decap            count the packet inside a tunnel (gre, ipip,\n"
"                         ipv6_encap, vxlan, geneve, gtp_u) under its own\n"
"                         destination too (the default)\n"
"      --no-decap         count tunnels under their outer destination only\n"
"      --hook HOOK        ingress hook: auto, xdp or tc (default auto = tc;\n"
"                         xdp falls back to tc if XDP is taken)\n"
"      --top N            destinations per report (default 10)\n"
"      --metrics ADDR:PORT  Prometheus text format on http://ADDR:PORT/metrics\n"
"                         (ADDR: 127.0.0.1 if left out, e.g. :9100)\n"
"      --metrics-top N    destinations with series of their own; the rest\n"
"                         are summed in dst=\"other\" (default %d)\n"
"      --ipfix HOST:PORT[/udp|/tcp]\n"
"                         export IPFIX (RFC 7011) to a collector: every\n"
"                         interval a record per destination and class, and\n"
"                         the alerts (default udp; at most %d collectors)\n"
"      --ipfix-domain N   IPFIX observation domain id (default: a hash of\n"
"                         the host name)\n"
"      --ipfix-template-interval SEC\n"
"                         UDP: templates sent again every SEC seconds\n"
"                         (default %d; %d to %d); TCP sends them at every\n"
"                         (re)connect\n"
HISTORY_USAGE
"  -v, --verbose          libbpf's messages on stderr (-vv: debug)\n"
"  -h, --help             this text\n", OBSERVER_SAMPLE_RATE,
		OBSERVER_ONEWAY_WINDOW, OBSERVER_MAX_DESTS, METRICS_TOP_DEFAULT,
		IPFIX_MAX_COLLECTORS, IPFIX_TEMPLATE_SECS, IPFIX_TEMPLATE_SECS_MIN,
		IPFIX_TEMPLATE_SECS_MAX);
}

int watch_parse_opts(int argc, char **argv, struct watch_opts *o)
{
	enum { O_JSON = 256, O_ALERTS_ONLY, O_HOOK, O_TOP, O_METRICS,
	       O_METRICS_TOP, O_IPFIX, O_IPFIX_DOMAIN, O_IPFIX_TEMPLATE_INTERVAL };
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "snapshot", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, O_JSON },
		{ "alerts-only", no_argument, NULL, O_ALERTS_ONLY },
		{ "hook", required_argument, NULL, O_HOOK },
		{ "top", required_argument, NULL, O_TOP },
		OBSERVER_LONG_OPTIONS,
		HISTORY_LONG_OPTIONS,
		{ "metrics", required_argument, NULL, O_METRICS },
		{ "metrics-top", required_argument, NULL, O_METRICS_TOP },
		{ "ipfix", required_argument, NULL, O_IPFIX },
		{ "ipfix-domain", required_argument, NULL, O_IPFIX_DOMAIN },
		{ "ipfix-template-interval", required_argument, NULL,
		  O_IPFIX_TEMPLATE_INTERVAL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	char esc[PM_ESC_LEN(64)];
	uint64_t v;
	int c, rc;

	*o = (struct watch_opts){ .interval = 1, .top = 10, .hook = HOOK_AUTO };
	observer_opts_init(&o->ob);
	history_opts_init(&o->hist);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:d:o:e:E:vh", longopts, NULL)) != -1) {
		rc = observer_opt(&o->ob, c, optarg);
		if (rc == 0)
			continue;
		if (rc == 1)
			rc = history_opt(&o->hist, c, optarg);
		if (rc == 0)
			continue;
		if (rc != 1)
			return rc;
		switch (c) {
		case O_METRICS:
			if (metrics_parse_addr(optarg, &o->metrics_addr))
				return EXIT_USAGE;
			o->metrics = optarg;
			break;
		case O_METRICS_TOP:
			if (!parse_u64(optarg, 1, METRICS_TOP_MAX, &o->metrics_top)) {
				pm_err("invalid --metrics-top '%s': a number from 1 to %d",
				       pm_esc(optarg, esc, sizeof(esc)), METRICS_TOP_MAX);
				return EXIT_USAGE;
			}
			break;
		case O_IPFIX:
			if (o->nipfix == IPFIX_MAX_COLLECTORS) {
				pm_err("invalid --ipfix '%s': at most %d collectors",
				       pm_esc(optarg, esc, sizeof(esc)), IPFIX_MAX_COLLECTORS);
				return EXIT_USAGE;
			}
			if (ipfix_parse_target(optarg, &o->ipfix[o->nipfix]))
				return EXIT_USAGE;
			o->nipfix++;
			break;
		case O_IPFIX_DOMAIN:
			if (!parse_u64(optarg, 0, UINT32_MAX, &v)) {
				pm_err("invalid --ipfix-domain '%s': a number from 0 to %u",
				       pm_esc(optarg, esc, sizeof(esc)), UINT32_MAX);
				return EXIT_USAGE;
			}
			o->ipfix_domain = v;
			o->ipfix_domain_set = true;
			break;
		case O_IPFIX_TEMPLATE_INTERVAL:
			if (!parse_u64(optarg, IPFIX_TEMPLATE_SECS_MIN,
				       IPFIX_TEMPLATE_SECS_MAX, &o->ipfix_template_secs)) {
				pm_err("invalid --ipfix-template-interval '%s': whole seconds from %d to %d",
				       pm_esc(optarg, esc, sizeof(esc)),
				       IPFIX_TEMPLATE_SECS_MIN, IPFIX_TEMPLATE_SECS_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'i':
			if (cli_parse_interval(optarg, &o->interval))
				return EXIT_USAGE;
			break;
		case 'd':
			if (!parse_seconds(optarg, &o->duration)) {
				pm_err("invalid --duration '%s': seconds > 0, at most %d (a day)",
				       pm_esc(optarg, esc, sizeof(esc)), PM_SECONDS_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			o->snapshot = optarg;
			break;
		case O_JSON:
			o->json = true;
			break;
		case O_ALERTS_ONLY:
			o->alerts_only = true;
			break;
		case O_HOOK:
			if (!strcmp(optarg, "auto"))
				o->hook = HOOK_AUTO;
			else if (!strcmp(optarg, "xdp"))
				o->hook = HOOK_XDP;
			else if (!strcmp(optarg, "tc"))
				o->hook = HOOK_TC;
			else {
				pm_err("invalid --hook '%s': auto, xdp or tc",
				       pm_esc(optarg, esc, sizeof(esc)));
				return EXIT_USAGE;
			}
			break;
		case O_TOP:
			if (!parse_u64(optarg, 1, 100000, &v)) {
				pm_err("invalid --top '%s': a number from 1 to 100000",
				       pm_esc(optarg, esc, sizeof(esc)));
				return EXIT_USAGE;
			}
			o->top = v;
			break;
		case 'v':
			pm_verbose++;
			break;
		case 'h':
			watch_usage(stdout);
			return CLI_HELP_SHOWN;
		default:	/* ':' or '?' */
			return cli_opt_error("watch", c, argv);
		}
	}
	if (o->metrics_top && !o->metrics) {
		pm_err("--metrics-top needs --metrics ADDR:PORT");
		return EXIT_USAGE;
	}
	if (!o->metrics_top)
		o->metrics_top = METRICS_TOP_DEFAULT;
	if (o->ipfix_domain_set && !o->nipfix) {
		pm_err("--ipfix-domain needs --ipfix HOST:PORT");
		return EXIT_USAGE;
	}
	if (o->ipfix_template_secs && !o->nipfix) {
		pm_err("--ipfix-template-interval needs --ipfix HOST:PORT");
		return EXIT_USAGE;
	}
	if (!o->ipfix_domain_set)
		o->ipfix_domain = ipfix_default_domain();
	if (optind >= argc) {
		pm_err("watch: no interface given (usage: protomix watch [OPTIONS] IFACE...)");
		return EXIT_USAGE;
	}
	if (argc - optind > MAX_IFACES) {
		pm_err("watch: at most %d interfaces", MAX_IFACES);
		return EXIT_USAGE;
	}
	return 0;
}

/* The snapshot's target must be one write_output takes, and writable,
 * before we attach anything: a symlink, a folder or a block device is
 * refused; a device, FIFO or socket must be writable itself, a file (or
 * a name not taken) needs its folder writable (a temporary file, then
 * rename). */
int watch_check_writable(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int rc;

	if ((rc = output_check(path)))
		return rc;
	if (output_is_std(path))
		return 0;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (access(path, W_OK)) {
			pm_err("cannot write snapshot '%s': %s", path, strerror(errno));
			return EXIT_USAGE;
		}
		return 0;
	}
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (access(dir, W_OK)) {
		pm_err("cannot write snapshot '%s': %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}
