// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* `protomix top`: the live view (top.h) of a running watch, read from the
 * maps it hands over ("maps") and the alerts it sends ("alerts SEQ"). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cli.h"
#include "commands.h"
#include "control.h"
#include "maps.h"
#include "top.h"
#include "util.h"

struct top_cli {
	pid_t pid;
	double interval;
	int stats_fd, table_fd[DM_NMAPS];
	struct dest_maps dm;
	struct dest_table tab[2];
	int cur;
	bool have_prev;
	uint64_t prev_ns;
	struct pm_view view;
	uint64_t alerts_next;		/* the newest alert we have */
	struct top *top;
};

static void top_usage(FILE *f)
{
	fprintf(f,
"usage: protomix top [--pid PID] [-i SEC]\n"
"The live view of the protomix watch running in this network namespace:\n"
"every destination with its rates and class shares, the counters, and the\n"
"latest alerts with their evidence. `h` in the view lists the keys.\n"
"\n"
"  -i, --interval SEC   refresh period (default 1; 0.1 to 86400)\n"
"      --pid PID        the watch to attach to when several run\n"
"  -h, --help           this text\n");
}

/* The watch's stats map, as `protomix watch` made it (dest_maps_open
 * checks the destination table's arrays). */
static bool map_is(int fd, __u32 key_size, __u32 value_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	return info.key_size == key_size && info.value_size == value_size;
}

/* "gw-ws (tc_ingress,tc_egress)  lan1 (...)" from the "interfaces" of a
 * status answer. */
static void ifaces_text(json_object *ifs, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < json_object_array_length(ifs) && n < len; i++) {
		json_object *ifc = json_object_array_get_idx(ifs, i), *hooks;

		n += snprintf(buf + n, len - n, "%s%s (", i ? "  " : "",
			      json_object_get_string(json_object_object_get(ifc, "name")));
		hooks = json_object_object_get(ifc, "hooks");
		for (size_t h = 0; h < json_object_array_length(hooks) && n < len; h++)
			n += snprintf(buf + n, len - n, "%s%s", h ? "," : "",
				      json_object_get_string(json_object_array_get_idx(hooks, h)));
		if (n < len)
			n += snprintf(buf + n, len - n, ")");
	}
}

static bool watch_alive(pid_t pid)
{
	pid_t pids[CTL_MAX_INSTANCES];
	int n = ctl_find(pids, CTL_MAX_INSTANCES);

	for (int i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return n < 0;			/* cannot tell: assume so */
}

/* The alerts newer than those we have. 1 when the watch has gone
 * meanwhile (the loop says so, once: not also the broken request). */
static int pull_alerts(struct top_cli *c)
{
	json_object *o, *arr, *tot, *a;
	uint64_t total = 0;
	char req[48], why[512];
	uint8_t dst[16];

	snprintf(req, sizeof(req), "alerts %llu", (unsigned long long)c->alerts_next);
	o = ctl_request_held(c->pid, req, why, sizeof(why));
	if (!o) {
		if (!watch_alive(c->pid))
			return 1;
		pm_err("%s", why);	/* on stderr: the status line */
		return 0;
	}
	arr = json_object_object_get(o, "alerts");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		a = json_object_array_get_idx(arr, i);
		if (!parse_addr(json_object_get_string(json_object_object_get(a, "dst")), dst))
			continue;
		top_push_alert(c->top, json_object_get_uint64(json_object_object_get(a, "seq")),
			   dst, json_object_get_string(json_object_object_get(a, "line")));
	}
	c->alerts_next = json_object_get_uint64(json_object_object_get(o, "next"));
	tot = json_object_object_get(o, "total");
	json_object_object_foreach(tot, k, n) {
		(void)k;
		total += json_object_get_uint64(n);
	}
	top_alerts_total_set(c->top, total);
	json_object_put(o);
	return 0;
}

/* One refresh: the maps, then the alerts. 1 when the watch has gone. */
static int top_cli_read(struct top_cli *c)
{
	struct dest_table *t = &c->tab[c->cur];
	int err;

	if (!watch_alive(c->pid))
		return 1;
	c->view.taken_ns = now_mono_ns();
	err = dests_read(&c->dm, t);
	if (!err)
		err = stats_read(c->stats_fd, c->view.hooks, &c->view.total);
	if (err) {
		pm_err("cannot read the maps of the watch with pid %d: %s",
		       (int)c->pid, strerror(-err));
		return 0;
	}
	dest_table_index(t);
	c->view.dests = t;
	if (pull_alerts(c))
		return 1;
	top_refresh(c->top, &c->view, c->have_prev ? &c->tab[!c->cur] : NULL,
		    c->prev_ns);
	c->prev_ns = c->view.taken_ns;
	c->have_prev = true;
	c->cur = !c->cur;
	return 0;
}

/* 'e' in `top`: the snapshot from the watch. */
static json_object *cli_snapshot(void *ctx)
{
	struct top_cli *c = ctx;

	return ctl_request(c->pid, "snapshot");
}

/* One epoll over the keys, the signals (SIGWINCH among them) and the
 * refresh timer. */
static int top_cli_loop(struct top_cli *c, const struct top_info *info)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	int sfd = -1, tfd = -1, ep = -1, rc = EXIT_RUNTIME, n;
	bool stop = false, gone = false;
	sigset_t mask;

	loop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	tfd = timerfd_after(c->interval, true);
	if (tfd < 0)
		errno = -tfd;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0) {
		pm_err("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = STDIN_FILENO;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &ev)) {
		pm_err("cannot wait for keys on stdin: %s", strerror(errno));
		goto out;
	}
	c->top = top_open(info);
	if (!c->top)
		goto out;
	rc = 0;
	gone = top_cli_read(c) == 1;
	stop = gone;
	while (!stop) {
		n = epoll_wait(ep, evs, 4, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pm_err("epoll_wait: %s", strerror(errno));
			rc = EXIT_RUNTIME;
			break;
		}
		for (int i = 0; i < n && !stop; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGWINCH)
					top_resize(c->top);
				else
					stop = true;
			} else if (fd == tfd) {
				uint64_t x;

				if (read(tfd, &x, sizeof(x)) < 0)
					continue;
				gone = top_cli_read(c) == 1;
				stop = gone;
			} else if (fd == STDIN_FILENO) {
				stop = top_keys(c->top);
			}
		}
	}
out:
	top_close(c->top);
	c->top = NULL;
	if (gone)
		fprintf(stderr, "protomix: the watch with pid %d has ended\n", (int)c->pid);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return rc;
}

int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "pid", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct top_cli c = { .interval = 1, .stats_fd = -1,
			  .table_fd = { -1, -1, -1, -1 } };
	struct top_info info = { .title = "protomix top", .snapshot = cli_snapshot,
				 .ctx = &c };
	struct ctl_fds fds = {};
	json_object *reply = NULL, *agg;
	pid_t want = 0;
	__u32 max = 0;
	char esc[PM_ESC_LEN(64)];
	int ch, rc = EXIT_RUNTIME;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (cli_parse_interval(optarg, &c.interval))
				return EXIT_USAGE;
			break;
		case 'P':
			if (cli_parse_pid(optarg, &want))
				return EXIT_USAGE;
			break;
		case 'h':
			top_usage(stdout);
			return 0;
		default:	/* ':' or '?' */
			return cli_opt_error("top", ch, argv);
		}
	}
	if (optind < argc) {
		pm_err("top: unexpected argument '%s' (see protomix top --help)",
		       pm_esc(argv[optind], esc, sizeof(esc)));
		return EXIT_USAGE;
	}
	rc = ctl_pick(want, &c.pid);
	if (rc)
		return rc;
	if (!top_possible()) {
		pm_err("top needs a terminal on stdin and stdout (for a one-off read: protomix snapshot)");
		return EXIT_USAGE;
	}
	reply = ctl_request_fds(c.pid, "maps " DM_LAYOUT, &fds);
	if (!reply)
		return EXIT_RUNTIME;
	rc = EXIT_RUNTIME;
	if (fds.n != 1 + DM_NMAPS ||
	    !map_is(fds.fd[0], sizeof(__u32), sizeof(struct pm_stats)) ||
	    dest_maps_open(&c.dm, &fds.fd[1], false)) {
		pm_err("the protomix watch with pid %d did not hand over its maps (a different protomix version?)",
		       (int)c.pid);
		goto out;
	}
	c.stats_fd = fds.fd[0];
	for (int i = 0; i < DM_NMAPS; i++)
		c.table_fd[i] = fds.fd[1 + i];
	fds.n = 0;
	max = c.dm.nslots;
	if (dest_table_init(&c.tab[0], max) || dest_table_init(&c.tab[1], max)) {
		pm_err("out of memory for %u destinations", max);
		goto out;
	}
	info.pid = c.pid;
	info.interval = c.interval;
	info.started_ns = now_mono_ns() - (uint64_t)(json_object_get_double(
		json_object_object_get(reply, "uptime_s")) * 1e9);
	ifaces_text(json_object_object_get(reply, "interfaces"), info.ifaces,
		    sizeof(info.ifaces));
	agg = json_object_object_get(reply, "aggregate");
	c.view.agg4 = json_object_get_int(json_object_array_get_idx(agg, 0));
	c.view.agg6 = json_object_get_int(json_object_array_get_idx(agg, 1));
	c.view.max_dests = max;
	c.view.started_ns = info.started_ns;
	rc = top_cli_loop(&c, &info);
out:
	for (int i = 0; i < fds.n; i++)
		close(fds.fd[i]);
	if (c.stats_fd >= 0)
		close(c.stats_fd);
	dest_maps_close(&c.dm);
	for (int i = 0; i < DM_NMAPS; i++)
		if (c.table_fd[i] >= 0)
			close(c.table_fd[i]);
	dest_table_free(&c.tab[0]);
	dest_table_free(&c.tab[1]);
	json_object_put(reply);
	return rc;
}
