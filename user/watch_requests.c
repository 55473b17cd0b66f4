// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The watch's answers to the control requests `status` and `snapshot`
 * (on_request, in watch.c, takes every request; answers.c has `alerts
 * SEQ` and `maps`): the status as JSON, and a snapshot written by a child
 * process straight to the client, with the reaping of those children.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "classes.h"
#include "snapshot.h"
#include "util.h"
#include "watch_state.h"

json_object *watch_status_json(struct watch *w)
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
void watch_reap_answering(struct watch *w)
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
json_object *watch_answer_in_child(struct watch *w, struct ctl_req *req,
				   bool pretty)
{
	pid_t parent = getpid(), pid;
	sigset_t all;
	FILE *f;
	int flags;

	watch_reap_answering(w);
	if (w->nanswering == WATCH_MAX_CHILDREN) {
		return ctl_error_json("busy: snapshots in progress, try again");
	}
	pid = fork();
	if (pid < 0) {
		return ctl_error_json(strerror(errno));
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
