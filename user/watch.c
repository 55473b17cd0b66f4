// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * protomix watch: load, attach, observe, report. The watch's state
 * (watch_state.h), its alerts and ticks, the event loop with a handler
 * per source, the control requests' dispatch (on_request) and
 * cmd_watch, which sets it all up and takes it down. The command line is
 * in watch_opts.c, the answers to `snapshot` and `status` requests in
 * watch_requests.c.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/signalfd.h>
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
#include "watch_opts.h"
#include "watch_state.h"

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

int watch_read(struct watch *w)
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

/* A request from `protomix snapshot`, `status` or `top`. */
static json_object *on_request(struct ctl_req *req, void *ctx)
{
	struct watch *w = ctx;

	observer_poll(&w->ob);		/* alerts up to now */
	if (!strncmp(req->line, "alerts ", 7))
		return top_alerts_json(&w->ob.alerts, req->line + 7);
	if (!strcmp(req->line, "maps " DM_LAYOUT))
		return top_maps_json(watch_status_json(w), &w->ob, &req->fds);
	if (!strncmp(req->line, "maps", 4))
		return ctl_error_json("this watch's destination table has layout " DM_LAYOUT
				      ": run the top of the same protomix version");
	if (!strcmp(req->line, "snapshot"))
		return watch_answer_in_child(w, req, false);
	if (!strcmp(req->line, "snapshot pretty"))
		return watch_answer_in_child(w, req, true);
	if (watch_read(w))
		return NULL;
	if (!strcmp(req->line, "status"))
		return watch_status_json(w);
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
	watch_reap_answering(w);
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
	rc = watch_parse_opts(argc, argv, &w->o);
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
	if (w->o.snapshot && (rc = watch_check_writable(w->o.snapshot)))
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
