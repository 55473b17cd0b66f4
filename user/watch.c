// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "commands.h"
#include "alerts.h"
#include "answers.h"
#include "attach.h"
#include "classes.h"
#include "control.h"
#include "history.h"
#include "ipfix.h"
#include "maps.h"
#include "metrics.h"
#include "observer.h"
#include "pin.h"
#include "report.h"
#include "rules.h"
#include "snapshot.h"
#include "top.h"
#include "util.h"

#define MAX_IFACES		64
/* Snapshots written by child processes at once; more are told "busy". */
#define WATCH_MAX_CHILDREN	4

struct watch_opts {
	double interval;	/* seconds */
	double duration;	/* seconds; 0 = until a signal */
	const char *snapshot;
	bool json;
	bool alerts_only;	/* no periodic report */
	int top;
	enum hook_mode hook;
	struct observer_opts ob;	/* rules, sampling, map, aggregation */
	const char *metrics;		/* --metrics ADDR:PORT, or NULL */
	struct metrics_addr metrics_addr;
	uint64_t metrics_top;
	struct ipfix_target ipfix[IPFIX_MAX_COLLECTORS];	/* --ipfix */
	int nipfix;
	uint32_t ipfix_domain;
	bool ipfix_domain_set;
	uint64_t ipfix_template_secs;	/* 0: not given */
	struct history_opts hist;	/* --history-dests, --history-intervals */
};

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

static int parse_opts(int argc, char **argv, struct watch_opts *o)
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
static int check_writable(const char *path)
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

struct watch;
#define MAX_LOOP_SRCS 16
typedef void (*loop_fn)(struct watch *w, int fd);
struct loop_src {
	int fd;
	loop_fn fn;
};

struct watch {
	struct watch_opts o;
	struct observer ob;
	struct pm_iface ifaces[MAX_IFACES];
	int nifaces;
	struct dest_table tab[2];	/* current and previous read */
	int cur;
	struct pm_view view;
	uint64_t last_read_ns;
	struct baseline base;
	struct oneway oneway;
	bool reader_gone;		/* stdout's reader left: stop */
	struct top *top;		/* the full-screen view, or NULL: lines */
	struct ctl_server *ctl;		/* protomix snapshot/status/top */
	pid_t answering[WATCH_MAX_CHILDREN];	/* children writing snapshots */
	int nanswering;
	int ep;				/* the event loop */
	struct metrics *metrics;	/* --metrics, or NULL */
	struct ipfix *ipfix;		/* --ipfix, or NULL */
	struct history *hist;		/* the mix over time, or NULL: off */
	int nl_fd;			/* link changes */
	struct loop_src src[MAX_LOOP_SRCS];
	int nsrc;
	bool stop;			/* a handler ended the watch ... */
	int rc;				/* ... with this exit status */
	char pin_dir[128];		/* where the maps are pinned, or "" */
};

/* The rules of --expect followed by those of --expect-file. */
static int build_rules(const struct watch_opts *o, struct ruleset *rs)
{
	return ruleset_build(&o->ob.cli_rules, o->ob.expect_file, rs);
}

/* Every alert, sampled by the kernel or found by the pairs scan. */
static void print_alert(const struct alert *a, void *ctx)
{
	struct watch *w = ctx;

	history_alert(w->hist, a);
	if (w->ipfix)
		ipfix_export_alert(w->ipfix, a);
	if (w->top)
		return;		/* kept in the log: the view shows it */
	alert_print(stdout, w->o.json, a);
	if (ferror(stdout))
		w->reader_gone = true;
}

static void oneway_alert(const struct alert *a, void *ctx)
{
	observer_alert(&((struct watch *)ctx)->ob, a);
}

/* SIGHUP: reread the rules file; on a bad file keep the rules in force. */
static void reload_rules(struct watch *w)
{
	struct ruleset now;
	int err;

	if (!w->o.ob.expect_file) {
		pm_err("SIGHUP: no --expect-file to reread");
		return;
	}
	if (build_rules(&w->o, &now)) {
		pm_err("SIGHUP: %s not reloaded; the previous rules stay in force",
		       w->o.ob.expect_file);
		return;
	}
	err = observer_set_rules(&w->ob, &now);
	if (err) {
		pm_err("SIGHUP: cannot update the rules map: %s", strerror(-err));
		ruleset_free(&now);
		return;
	}
	fprintf(stderr, "protomix: reloaded %zu rule%s from %s\n", w->ob.rules.n,
		w->ob.rules.n == 1 ? "" : "s", w->o.ob.expect_file);
}

static int watch_read(struct watch *w)
{
	if (w->ipfix) {
		w->view.ipfix = true;
		w->view.ipfix_dropped = ipfix_dropped(w->ipfix);
		w->view.ipfix_sent = ipfix_sent(w->ipfix);
	}
	return observer_read(&w->ob, &w->tab[w->cur], &w->view);
}

static int watch_tick(struct watch *w)
{
	struct dest_table *prev = &w->tab[!w->cur];
	uint64_t then = w->last_read_ns;
	double secs;

	if (watch_read(w))
		return -1;
	secs = (w->view.taken_ns - then) / 1e9;
	dest_table_index(&w->tab[w->cur]);
	history_record(w->hist, &w->view, prev, then);
	if (w->top)
		top_refresh(w->top, &w->view, prev, then);
	else if (!w->o.alerts_only)
		report_interval(stdout, w->o.json, w->o.top,
				secs > 0 ? secs : w->o.interval, &w->view, prev);
	if (w->ipfix)
		ipfix_export_mix(w->ipfix, &w->view, prev, then);
	if (ferror(stdout)) {
		w->reader_gone = true;	/* stop and clean up */
		return 0;
	}
	if (oneway_scan(observer_pairs_fd(&w->ob), now_mono_ns(),
			(uint64_t)(w->o.ob.oneway_window * 1e9), &w->oneway,
			oneway_alert, w))
		pm_err("cannot scan the IPsec pairs: out of memory");
	w->cur = !w->cur;
	w->last_read_ns = w->view.taken_ns;
	return 0;
}

static json_object *status_json(struct watch *w)
{
	json_object *o = json_object_new_object(), *ifs, *m, *hooks;
	unsigned int ids[PM_IFACE_MAXHOOKS];
	char buf[40];
	int nh;

	json_object_object_add(o, "type", json_object_new_string("status"));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "started_at", json_object_new_string(
		fmt_time(mono_to_real_ns(w->view.started_ns), buf, sizeof(buf))));
	json_object_object_add(o, "uptime_s", json_object_new_double(
		(now_mono_ns() - w->view.started_ns) / 1e9));
	ifs = json_object_new_array();
	for (int i = 0; i < w->nifaces; i++) {
		m = json_object_new_object();
		json_object_object_add(m, "name", json_object_new_string(w->ifaces[i].name));
		json_object_object_add(m, "ifindex", json_object_new_int(w->ifaces[i].ifindex));
		hooks = json_object_new_array();
		nh = iface_hook_ids(&w->ifaces[i], ids);
		for (int h = 0; h < nh; h++)
			json_object_array_add(hooks, json_object_new_string(
				hook_name(ids[h])));
		json_object_object_add(m, "hooks", hooks);
		json_object_array_add(ifs, m);
	}
	json_object_object_add(o, "interfaces", ifs);
	json_object_object_add(o, "maps", observer_maps_json(&w->ob, w->view.dests->n,
							      w->base.n));
	json_object_object_add(o, "pinned", json_object_new_string(w->pin_dir));
	json_object_object_add(o, "stats", stats_json(&w->view));
	if (w->ipfix)
		json_object_object_add(o, "ipfix", ipfix_status_json(w->ipfix));
	if (w->hist)
		json_object_object_add(o, "history_bytes", json_object_new_uint64(
			history_mem_bytes(&w->o.hist)));
	return o;
}

/* Children that wrote their snapshot: reaped (every tick and at exit). */
static void reap_answering(struct watch *w)
{
	for (int i = 0; i < w->nanswering;) {
		if (waitpid(w->answering[i], NULL, WNOHANG) == w->answering[i])
			w->answering[i] = w->answering[--w->nanswering];
		else
			i++;
	}
}

/* A snapshot is written by a child process, straight to the client: the
 * watch goes on counting, reporting and answering meanwhile, whatever the
 * table's size or the client's speed, and copy-on-write keeps its memory
 * as it was. The child reads the maps itself (their state now) and ends
 * with the write, or after SNAPSHOT_CHILD_SECS, or with the watch. */
#define SNAPSHOT_CHILD_SECS 60
static json_object *answer_in_child(struct watch *w, struct ctl_req *req,
				    bool pretty)
{
	pid_t parent = getpid(), pid;
	json_object *o;
	sigset_t all;
	FILE *f;
	int flags;

	reap_answering(w);
	if (w->nanswering == WATCH_MAX_CHILDREN) {
		o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string(
			"busy: snapshots in progress, try again"));
		return o;
	}
	pid = fork();
	if (pid < 0) {
		o = json_object_new_object();
		json_object_object_add(o, "error", json_object_new_string(strerror(errno)));
		return o;
	}
	if (pid > 0) {
		w->answering[w->nanswering++] = pid;
		req->taken = true;
		return NULL;
	}
	/* the child: write, and nothing else (no stdio of the watch's, no
	 * detaching: _exit) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	signal(SIGALRM, SIG_DFL);
	alarm(SNAPSHOT_CHILD_SECS);
	flags = fcntl(req->fd, F_GETFL);
	fcntl(req->fd, F_SETFL, flags & ~O_NONBLOCK);
	signal(SIGPIPE, SIG_IGN);	/* a client gone: EPIPE, then exit */
	f = fdopen(req->fd, "w");
	if (!f || watch_read(w))
		_exit(1);
	/* "snapshot pretty": as `protomix snapshot` prints it, passed on
	 * unparsed; "snapshot": one line with the evidence, for --pcap, md,
	 * csv and top */
	_exit(snapshot_stream(f, &w->view, pretty ? NULL : &w->ob.alerts,
			      JSON_C_TO_STRING_NOSLASHESCAPE |
			      (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN)) ? 1 : 0);
}

/* A request from `protomix snapshot`, `status` or `top`. */
static json_object *on_request(struct ctl_req *req, void *ctx)
{
	struct watch *w = ctx;

	observer_poll(&w->ob);		/* alerts up to now */
	if (!strncmp(req->line, "alerts ", 7))
		return top_alerts_json(&w->ob.alerts, req->line + 7);
	if (!strcmp(req->line, "maps"))
		return top_maps_json(status_json(w), &w->ob, &req->fds);
	if (!strcmp(req->line, "snapshot"))
		return answer_in_child(w, req, false);
	if (!strcmp(req->line, "snapshot pretty"))
		return answer_in_child(w, req, true);
	if (watch_read(w))
		return NULL;
	if (!strcmp(req->line, "status"))
		return status_json(w);
	return NULL;
}

/* The event loop: one epoll over every source, each with its handler. A
 * handler that ends the watch sets w->stop and w->rc. */
static void on_signal(struct watch *w, int fd)
{
	struct signalfd_siginfo si;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		reload_rules(w);
		return;
	}
	if (si.ssi_signo == SIGWINCH) {
		top_resize(w->top);
		return;
	}
	pm_dbg("signal %u: stopping", si.ssi_signo);
	w->stop = true;
	w->rc = 0;
}

static void on_duration(struct watch *w, int fd)
{
	(void)fd;
	w->stop = true;
	w->rc = 0;
}

static void on_interval(struct watch *w, int fd)
{
	uint64_t expirations;

	if (read(fd, &expirations, sizeof(expirations)) < 0)
		return;
	reap_answering(w);
	if (watch_tick(w)) {
		w->stop = true;
		w->rc = EXIT_RUNTIME;
	}
}

static void on_ringbuf(struct watch *w, int fd)
{
	(void)fd;
	observer_poll(&w->ob);
}

static void on_control(struct watch *w, int fd)
{
	(void)fd;
	ctl_server_run(w->ctl);
}

/* An interface went away or came back. A removed interface takes our
 * links with it; when one of that name appears again, attach again. Down
 * and up need nothing: the links stay. */
static void on_link_change(void *ctx, int ifindex, const char *name, bool removed)
{
	struct watch *w = ctx;
	struct pm_progs progs;
	char hooks[64];

	observer_progs(&w->ob, &progs);

	for (int i = 0; i < w->nifaces; i++) {
		struct pm_iface *ifc = &w->ifaces[i];

		if (removed && !ifc->gone && ifc->ifindex == ifindex) {
			iface_detach(ifc);
			ifc->gone = true;
			fprintf(stderr, "protomix: %s was removed; waiting for it to come back\n",
				ifc->name);
		} else if (!removed && ifc->gone && !strcmp(ifc->name, name)) {
			ifc->ifindex = ifindex;
			if (iface_attach(ifc, &progs, w->o.hook))
				continue;	/* reported; try again at its next change */
			ifc->gone = false;
			fprintf(stderr, "protomix: watching %s (%s%s) again\n", ifc->name,
				iface_hooks(ifc, hooks, sizeof(hooks)), iface_note(ifc));
		}
	}
}

static void on_netlink(struct watch *w, int fd)
{
	link_monitor_read(fd, on_link_change, w);
}

static void on_metrics(struct watch *w, int fd)
{
	(void)fd;
	metrics_serve(w->metrics);
}

static void on_ipfix(struct watch *w, int fd)
{
	(void)fd;
	ipfix_run(w->ipfix);
}

static void on_keys(struct watch *w, int fd)
{
	(void)fd;
	if (top_keys(w->top)) {
		w->stop = true;
		w->rc = 0;
	}
}

/* 'e' in the view: a snapshot of now, as `protomix snapshot` has it. */
static json_object *view_snapshot(void *ctx)
{
	struct watch *w = ctx;

	observer_poll(&w->ob);
	return watch_read(w) ? NULL : snapshot_json(&w->view);
}

/* On a terminal and without --json, the full-screen view instead of the
 * lines (unless the terminal cannot have it: the reason is on stderr). */
static void open_view(struct watch *w)
{
	struct top_info info = { .title = "protomix watch", .pid = getpid(),
				 .started_ns = w->view.started_ns,
				 .interval = w->o.interval,
				 .snapshot = view_snapshot, .ctx = w };
	size_t n = 0;
	char hooks[64];

	if (w->o.json || w->o.alerts_only || !top_possible())
		return;
	for (int i = 0; i < w->nifaces && n < sizeof(info.ifaces); i++)
		n += snprintf(info.ifaces + n, sizeof(info.ifaces) - n, "%s%s (%s)",
			      i ? "  " : "", w->ifaces[i].name,
			      iface_hooks(&w->ifaces[i], hooks, sizeof(hooks)));
	w->top = top_open(&info);
}

/* Add fd (readable) to the loop; 0 or -errno. The fd stays the caller's. */
static int watch_add_fd(struct watch *w, int fd, loop_fn fn)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct loop_src *src;

	if (fd < 0)
		return -EBADF;
	if (w->nsrc == MAX_LOOP_SRCS)
		return -ENOSPC;
	src = &w->src[w->nsrc];
	*src = (struct loop_src){ .fd = fd, .fn = fn };
	ev.data.ptr = src;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	w->nsrc++;
	return 0;
}

static int run_loop(struct watch *w)
{
	struct epoll_event evs[MAX_LOOP_SRCS];
	int sfd, tfd, dfd = -1, n, err;
	sigset_t mask;

	loop_signals(&mask);	/* blocked since cmd_watch's start */
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_after(w->o.interval, true);
	w->ep = epoll_create1(EPOLL_CLOEXEC);
	w->rc = EXIT_RUNTIME;
	err = w->ep < 0 ? -errno : tfd < 0 ? tfd : 0;
	if (!err)
		err = watch_add_fd(w, sfd, on_signal);
	if (!err)
		err = watch_add_fd(w, tfd, on_interval);
	if (!err)
		err = watch_add_fd(w, ring_buffer__epoll_fd(w->ob.rb), on_ringbuf);
	if (!err)
		err = watch_add_fd(w, ctl_server_fd(w->ctl), on_control);
	if (!err && w->metrics)
		err = watch_add_fd(w, metrics_fd(w->metrics), on_metrics);
	if (!err && w->ipfix)
		err = watch_add_fd(w, ipfix_fd(w->ipfix), on_ipfix);
	if (!err)
		err = watch_add_fd(w, w->nl_fd, on_netlink);
	if (!err && w->o.duration > 0) {
		dfd = timerfd_after(w->o.duration, false);
		err = watch_add_fd(w, dfd, on_duration);
	}
	if (!err) {
		open_view(w);
		if (w->top)	/* keys */
			err = watch_add_fd(w, STDIN_FILENO, on_keys);
	}
	if (err) {
		pm_err("cannot set up the event loop: %s", strerror(-err));
		goto out;
	}

	while (!w->stop) {
		n = epoll_wait(w->ep, evs, MAX_LOOP_SRCS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pm_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n && !w->stop; i++) {
			struct loop_src *src = evs[i].data.ptr;

			src->fn(w, src->fd);
			if (w->reader_gone) {
				w->stop = true;
				w->rc = 0;
			}
		}
	}
out:
	top_close(w->top);	/* the terminal as it was, on every path */
	w->top = NULL;
	if (w->ep >= 0)
		close(w->ep);
	w->ep = -1;
	w->nsrc = 0;
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	return w->rc;
}

int cmd_watch(int argc, char **argv)
{
	struct watch *w;
	struct pm_progs progs;
	struct ruleset rules = {};
	struct observer_cfg cfg;
	sigset_t mask;
	char hooks[64];
	int rc, i, err;

	w = calloc(1, sizeof(*w));
	if (!w) {
		pm_err("out of memory");
		return EXIT_RUNTIME;
	}
	w->ep = w->nl_fd = -1;
	rc = parse_opts(argc, argv, &w->o);
	if (rc == CLI_HELP_SHOWN) {
		rc = EXIT_OK;
		goto out_free;
	}
	if (rc)
		goto out_free;
	for (i = optind; i < argc; i++) {
		rc = iface_init(&w->ifaces[w->nifaces], argv[i]);
		if (rc)
			goto out_free;
		for (int j = 0; j < w->nifaces; j++)
			if (w->ifaces[j].ifindex == w->ifaces[w->nifaces].ifindex) {
				pm_err("interface '%s' given twice", argv[i]);
				rc = EXIT_USAGE;
				goto out_free;
			}
		w->nifaces++;
	}
	if (w->o.snapshot && (rc = check_writable(w->o.snapshot)))
		goto out_free;
	if ((rc = build_rules(&w->o, &rules)))
		goto out_free;
	/* Listen before anything is loaded: a port in use attaches nothing.
	 * Requests are answered from the loop only, with the view set up. */
	if (w->o.metrics && !(w->metrics = metrics_open(&w->o.metrics_addr,
							w->o.metrics_top, &w->view))) {
		rc = EXIT_RUNTIME;
		goto out_free;
	}
	if (w->o.ob.baseline && (rc = baseline_load(&w->base, w->o.ob.baseline)))
		goto out_free;
	if (w->o.nipfix) {
		struct ipfix_cfg icfg = { .targets = w->o.ipfix, .ntargets = w->o.nipfix,
					  .domain = w->o.ipfix_domain,
					  .template_secs = w->o.ipfix_template_secs,
					  .agg4 = w->o.ob.agg4, .agg6 = w->o.ob.agg6 };

		if (!(w->ipfix = ipfix_open(&icfg))) {
			rc = EXIT_RUNTIME;
			goto out_free;
		}
	}

	/* Signals arrive through signalfd from here on; SIGPIPE becomes
	 * EPIPE on write, so a closed reader ends the watch cleanly. */
	loop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	cfg = (struct observer_cfg){ .max_dests = w->o.ob.max_dests,
				     .agg4 = w->o.ob.agg4, .agg6 = w->o.ob.agg6,
				     .no_decap = w->o.ob.no_decap,
				     .sample_rate = w->o.ob.sample_rate,
				     .base = &w->base, .on_alert = print_alert,
				     .ctx = w };
	rc = observer_open(&w->ob, &cfg, &rules);
	if (rc)
		goto out_free;
	if (w->o.ob.expect_file)
		fprintf(stderr, "protomix: loaded %zu rule%s from %s\n", w->ob.rules.n,
			w->ob.rules.n == 1 ? "" : "s", w->o.ob.expect_file);
	rc = EXIT_RUNTIME;
	w->hist = history_open(&w->o.hist, w->o.interval, w->o.ob.agg4,
			       w->o.ob.agg6, &err);
	if (err) {
		pm_err("out of memory for the history (%llu bytes)",
		       (unsigned long long)history_mem_bytes(&w->o.hist));
		goto out_close;
	}
	if (dest_table_init(&w->tab[0], w->o.ob.max_dests) ||
	    dest_table_init(&w->tab[1], w->o.ob.max_dests)) {
		pm_err("out of memory for %llu destinations",
		       (unsigned long long)w->o.ob.max_dests);
		goto out_close;
	}
	w->ctl = ctl_server_open(on_request, w);
	if (!w->ctl)
		goto out_close;
	/* Pins are for bpftool users; without them (no right to write
	 * under /sys/fs/bpf, say) the watch works all the same. */
	if (pin_maps(observer_bpf_object(&w->ob), w->pin_dir, sizeof(w->pin_dir)))
		fprintf(stderr, "protomix: going on without pinned maps\n");
	/* before attaching: a link removed meanwhile is not missed */
	w->nl_fd = link_monitor_open();
	if (w->nl_fd < 0) {
		pm_err("cannot follow interface changes (rtnetlink): %s",
		       strerror(-w->nl_fd));
		goto out_close;
	}

	observer_progs(&w->ob, &progs);
	for (i = 0; i < w->nifaces; i++) {
		if (iface_attach(&w->ifaces[i], &progs, w->o.hook))
			goto out_detach;
		fprintf(stderr, "protomix: watching %s (%s%s)\n", w->ifaces[i].name,
			iface_hooks(&w->ifaces[i], hooks, sizeof(hooks)),
			iface_note(&w->ifaces[i]));
	}

	w->view.started_ns = w->last_read_ns = now_mono_ns();
	w->view.ifaces = w->ifaces;
	w->view.nifaces = w->nifaces;
	w->view.max_dests = w->o.ob.max_dests;
	w->view.dests = &w->tab[0];
	w->view.history = w->hist;

	rc = run_loop(w);
	observer_poll(&w->ob);	/* the last samples, for the snapshot */
	/* the collectors get the interval cut short too */
	if (w->ipfix && !watch_read(w)) {
		dest_table_index(&w->tab[w->cur]);
		ipfix_export_mix(w->ipfix, &w->view, &w->tab[!w->cur], w->last_read_ns);
	}
	if (w->ipfix)	/* before the snapshot's counts: nothing left queued */
		ipfix_finish(w->ipfix);

	if (w->o.snapshot) {
		if (watch_read(w) || snapshot_write(w->o.snapshot, &w->view))
			rc = EXIT_RUNTIME;
	}
out_detach:
	for (i = 0; i < w->nifaces; i++)
		iface_detach(&w->ifaces[i]);
out_close:
	unpin_maps(observer_bpf_object(&w->ob), w->pin_dir);
	if (w->nl_fd >= 0)
		close(w->nl_fd);
	ctl_server_close(w->ctl);
	for (i = 0; i < w->nanswering; i++)	/* a snapshot cut short */
		kill(w->answering[i], SIGKILL);
	for (i = 0; i < w->nanswering; i++)
		waitpid(w->answering[i], NULL, 0);
	dest_table_free(&w->tab[0]);
	dest_table_free(&w->tab[1]);
	history_close(w->hist);
	observer_close(&w->ob);
out_free:
	metrics_close(w->metrics);
	ipfix_close(w->ipfix);
	ruleset_free(&rules);
	observer_opts_free(&w->o.ob);
	baseline_free(&w->base);
	oneway_free(&w->oneway);
	free(w);
	return rc;
}
