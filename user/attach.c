// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/pkt_sched.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/un.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "attach.h"
#include "classes.h"
#include "rundir.h"
#include "util.h"

/* Linux UAPI values that Debian 12's headers (6.1) do not have yet. */
#define PM_BPF_TCX_INGRESS	46
#define PM_BPF_TCX_EGRESS	47

static const char *dir_name[2] = { "ingress", "egress" };

int iface_init(struct pm_iface *ifc, const char *name)
{
	memset(ifc, 0, sizeof(*ifc));
	ifc->tcx_fd[0] = ifc->tcx_fd[1] = -1;
	ifc->lock_fd = -1;
	if (strlen(name) >= IF_NAMESIZE) {
		pm_err("interface name too long: '%s'", name);
		return EXIT_USAGE;
	}
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->ifindex = if_nametoindex(name);
	if (!ifc->ifindex) {
		pm_err("unknown interface '%s' (see `ip link`; inside a namespace run protomix with `ip netns exec`)",
		       name);
		return EXIT_USAGE;
	}
	return 0;
}

/* The lock of a running watch on an interface: a file in the run folder
 * (rundir.h), named after the network namespace and the ifindex, held
 * with flock, so it goes with the process, even killed. Only root and
 * the watch's user can create it: unlike the abstract socket name of
 * earlier versions, no other local user can take it first. Returns the
 * fd, -EADDRINUSE if a live process holds it (*holder: its pid), or
 * -errno (reported). */
int iface_lock(int ifindex, int *holder, char *name, size_t len)
{
	snprintf(name, len, "if.%llu.%d", (unsigned long long)netns_id(), ifindex);
	return rundir_lock(name, holder);
}

static bool prog_is_ours(__u32 prog_id, const char *prefix)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	bool ours = false;
	int fd;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		ours = strncmp(info.name, prefix, strlen(prefix)) == 0;
	close(fd);
	return ours;
}

/* The filters on the clsact qdisc of IFINDEX, ingress and egress, other
 * than protomix's classic filters: their number (0 also if there is no
 * clsact qdisc), or -errno. A netlink dump of each side, every chain. */
static int tc_foreign_filters(int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req;
	struct timeval tv = { .tv_sec = 2 };
	char buf[16384] __attribute__((aligned(4)));
	struct nlmsghdr *nh;
	struct tcmsg *tcm;
	int fd, dir, n = 0, err = 0;
	bool done;
	ssize_t len;
	__u32 prio;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (dir = 0; dir < 2 && !err; dir++) {
		memset(&req, 0, sizeof(req));
		req.nh.nlmsg_len = sizeof(req);
		req.nh.nlmsg_type = RTM_GETTFILTER;
		req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		req.nh.nlmsg_seq = dir + 1;
		req.tc.tcm_family = AF_UNSPEC;
		req.tc.tcm_ifindex = ifindex;
		req.tc.tcm_parent = TC_H_MAKE(TC_H_CLSACT, dir ? TC_H_MIN_EGRESS :
							       TC_H_MIN_INGRESS);
		if (send(fd, &req, sizeof(req), 0) < 0) {
			err = -errno;
			break;
		}
		for (done = false; !done && !err;) {
			len = recv(fd, buf, sizeof(buf), 0);
			if (len <= 0) {
				err = len < 0 ? -errno : -EIO;
				break;
			}
			for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
			     nh = NLMSG_NEXT(nh, len)) {
				if (nh->nlmsg_seq != req.nh.nlmsg_seq)
					continue;
				if (nh->nlmsg_type == NLMSG_DONE) {
					done = true;
					break;
				}
				if (nh->nlmsg_type == NLMSG_ERROR) {
					err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
					err = err ? err : -EIO;
					break;
				}
				if (nh->nlmsg_type != RTM_NEWTFILTER)
					continue;
				/* One message per filter, and one (handle 0)
				 * per priority that holds filters. */
				tcm = NLMSG_DATA(nh);
				prio = TC_H_MAJ(tcm->tcm_info) >> 16;
				if (prio != PM_TC_PRIO ||
				    (tcm->tcm_handle != 0 &&
				     tcm->tcm_handle != PM_TC_HANDLE &&
				     tcm->tcm_handle != PM_TC_HANDLE_OWN))
					n++;
			}
		}
	}
	close(fd);
	return err ? err : n;
}

static const __u32 pm_tc_handles[2] = { PM_TC_HANDLE, PM_TC_HANDLE_OWN };

/* Remove protomix's classic filters on IFINDEX (a killed run's, or our
 * own on the way out), and the clsact qdisc with them if protomix created
 * it (a filter with PM_TC_HANDLE_OWN says so, or `created`) and no other
 * filter is on either side. removed[dir] says which side lost a filter of
 * ours, *qdisc whether the qdisc went. 0, or the first -errno. */
static int tc_release(int ifindex, bool created, bool removed[2], bool *qdisc)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex);
	bool found[2][2] = {}, own = created;
	int dir, h, err, rc = 0;

	removed[0] = removed[1] = *qdisc = false;
	for (dir = 0; dir < 2; dir++)
		for (h = 0; h < 2; h++) {
			LIBBPF_OPTS(bpf_tc_opts, opts, .handle = pm_tc_handles[h],
				    .priority = PM_TC_PRIO);

			hook.attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS;
			if (bpf_tc_query(&hook, &opts))
				continue;	/* none (or no clsact at all) */
			if (!prog_is_ours(opts.prog_id, "pm_tc_"))
				continue;
			found[dir][h] = true;
			own |= pm_tc_handles[h] == PM_TC_HANDLE_OWN;
		}
	/* Ours and empty but for our filters: the qdisc goes, and our
	 * filters with it, in one step (a kill in between leaves neither). */
	if (own && tc_foreign_filters(ifindex) == 0) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		if (bpf_tc_hook_destroy(&hook) == 0) {
			for (dir = 0; dir < 2; dir++)
				removed[dir] = found[dir][0] || found[dir][1];
			*qdisc = true;
			return 0;
		}
	}
	for (dir = 0; dir < 2; dir++)
		for (h = 0; h < 2; h++) {
			LIBBPF_OPTS(bpf_tc_opts, opts, .handle = pm_tc_handles[h],
				    .priority = PM_TC_PRIO);

			if (!found[dir][h])
				continue;
			hook.attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS;
			err = bpf_tc_detach(&hook, &opts);
			if (err)
				rc = rc ? rc : err;
			else
				removed[dir] = true;
		}
	return rc;
}

/* IFF_LOOPBACK: what it sends comes back in through its ingress. */
static bool iface_is_loopback(const char *name)
{
	struct ifreq ifr = {};
	bool lo = false;
	int fd;

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		lo = ifr.ifr_flags & IFF_LOOPBACK;
	close(fd);
	return lo;
}

/* Remove an XDP program of ours attached through netlink (not a link:
 * links go away with their process). */
static int remove_stale_xdp(int ifindex)
{
	__u32 id = 0;
	int err;

	if (bpf_xdp_query_id(ifindex, 0, &id) || !id || !prog_is_ours(id, "pm_xdp"))
		return 0;
	err = bpf_xdp_detach(ifindex, 0, NULL);
	return err ? err : 1;
}

static int attach_tc(struct pm_iface *ifc, struct bpf_program *prog, int dir)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifc->ifindex,
		    .attach_point = dir ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PM_TC_HANDLE,
		    .priority = PM_TC_PRIO);
	int fd, err;

	/* PROTOMIX_TC_CLASSIC=1: what a kernel without tcx gets (tests) */
	fd = getenv("PROTOMIX_TC_CLASSIC") ? (errno = EOPNOTSUPP, -1) :
	     bpf_link_create(bpf_program__fd(prog), ifc->ifindex,
			     dir ? PM_BPF_TCX_EGRESS : PM_BPF_TCX_INGRESS, NULL);
	if (fd >= 0) {
		ifc->tcx_fd[dir] = fd;
		return 0;
	}
	pm_dbg("%s: no tcx link for %s (%s), using a classic tc filter",
	       ifc->name, dir_name[dir], strerror(errno));

	err = bpf_tc_hook_create(&hook);
	if (err == 0)
		ifc->created_clsact = true;
	else if (err != -EEXIST) {
		pm_err("%s: cannot create the clsact qdisc for tc %s: %s",
		       ifc->name, dir_name[dir], strerror(-err));
		return err;
	}
	/* the handle says who made the qdisc, for whoever cleans up after
	 * a SIGKILL (see attach.h) */
	opts.handle = ifc->created_clsact ? PM_TC_HANDLE_OWN : PM_TC_HANDLE;
	opts.prog_fd = bpf_program__fd(prog);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		pm_err("%s: cannot attach at tc %s: %s", ifc->name,
		       dir_name[dir], strerror(-err));
		return err;
	}
	ifc->legacy_tc[dir] = true;
	return 0;
}

int iface_attach(struct pm_iface *ifc, const struct pm_progs *progs,
		 enum hook_mode mode)
{
	bool removed[2], qdisc;
	__u32 xdp_id = 0;
	int dir, err, holder;

	ifc->loopback = iface_is_loopback(ifc->name);
	err = iface_lock(ifc->ifindex, &holder, ifc->lock_name, sizeof(ifc->lock_name));
	if (err == -EADDRINUSE) {
		pm_err("%s: already watched by another protomix (pid %d) in this network namespace (see `protomix status`)",
		       ifc->name, holder);
		return EXIT_RUNTIME;
	}
	if (err < 0) {
		pm_err("%s: cannot take the interface lock", ifc->name);
		return EXIT_RUNTIME;
	}
	ifc->lock_fd = err;

	/* We hold the lock, so any filter of ours is a killed run's. */
	if (tc_release(ifc->ifindex, false, removed, &qdisc))
		fprintf(stderr, "protomix: %s: cannot remove every tc filter a killed protomix run left\n",
			ifc->name);
	for (dir = 0; dir < 2; dir++)
		if (removed[dir])
			fprintf(stderr, "protomix: %s: removed a tc %s filter left by a killed protomix run\n",
				ifc->name, dir_name[dir]);
	if (qdisc)
		fprintf(stderr, "protomix: %s: removed the clsact qdisc that run had created\n",
			ifc->name);
	if (remove_stale_xdp(ifc->ifindex) > 0)
		fprintf(stderr, "protomix: %s: removed an XDP program left by an earlier protomix\n",
			ifc->name);

	ifc->ingress_hook = PM_HOOK_TC_INGRESS;
	if (mode == HOOK_XDP) {
		if (bpf_xdp_query_id(ifc->ifindex, 0, &xdp_id) == 0 && xdp_id) {
			fprintf(stderr, "protomix: %s: XDP is held by program id %u; leaving it attached and counting at tc ingress instead\n",
				ifc->name, xdp_id);
		} else {
			ifc->xdp_link = bpf_program__attach_xdp(progs->xdp,
								ifc->ifindex);
			if (ifc->xdp_link)
				ifc->ingress_hook = PM_HOOK_XDP;
			else
				fprintf(stderr, "protomix: %s: cannot attach XDP (%s); counting at tc ingress instead\n",
					ifc->name, strerror(errno));
		}
	}

	if (ifc->ingress_hook == PM_HOOK_TC_INGRESS &&
	    attach_tc(ifc, progs->tc_ingress, 0))
		goto fail;
	/* loopback: its ingress already sees every packet it sends */
	if (!ifc->loopback && attach_tc(ifc, progs->tc_egress, 1))
		goto fail;
	return 0;
fail:
	iface_detach(ifc);
	return EXIT_RUNTIME;
}

void iface_detach(struct pm_iface *ifc)
{
	bool removed[2], qdisc;
	int dir;

	bpf_link__destroy(ifc->xdp_link);
	ifc->xdp_link = NULL;
	for (dir = 0; dir < 2; dir++) {
		if (ifc->tcx_fd[dir] >= 0)
			close(ifc->tcx_fd[dir]);
		ifc->tcx_fd[dir] = -1;
	}
	/* Only what this run put there: nothing of another watch's (a
	 * refused attach leaves all of these false). The qdisc we made
	 * goes, unless someone else's filter is on it meanwhile. */
	if (ifc->legacy_tc[0] || ifc->legacy_tc[1] || ifc->created_clsact)
		tc_release(ifc->ifindex, ifc->created_clsact, removed, &qdisc);
	ifc->legacy_tc[0] = ifc->legacy_tc[1] = false;
	ifc->created_clsact = false;
	rundir_unlock(ifc->lock_name, ifc->lock_fd);
	ifc->lock_fd = -1;
}

int iface_hook_ids(const struct pm_iface *ifc, unsigned int ids[PM_IFACE_MAXHOOKS])
{
	int n = 0;

	ids[n++] = ifc->ingress_hook;
	if (!ifc->loopback)
		ids[n++] = PM_HOOK_TC_EGRESS;
	return n;
}

const char *iface_hooks(const struct pm_iface *ifc, char *buf, size_t len)
{
	unsigned int ids[PM_IFACE_MAXHOOKS];
	int n = iface_hook_ids(ifc, ids);
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? "," : "",
				hook_name(ids[i]));
	return buf;
}

const char *iface_note(const struct pm_iface *ifc)
{
	return ifc->loopback ?
	       "; loopback: egress not hooked, each packet counted once" : "";
}

int detach_one(const char *name, int ifindex)
{
	int lock, removed = 0, dir, err, rc = 0, holder;
	bool tc_removed[2], qdisc;
	char lock_name[48];

	lock = iface_lock(ifindex, &holder, lock_name, sizeof(lock_name));
	if (lock == -EADDRINUSE) {
		pm_err("%s: a running protomix (pid %d) watches it; stop that process (SIGINT or SIGTERM) instead",
		       name, holder);
		return EXIT_RUNTIME;
	}
	if (lock < 0)
		return EXIT_RUNTIME;
	err = tc_release(ifindex, false, tc_removed, &qdisc);
	if (err) {
		pm_err("%s: cannot remove a protomix tc filter: %s", name,
		       strerror(-err));
		rc = EXIT_RUNTIME;
	}
	for (dir = 0; dir < 2; dir++)
		removed += tc_removed[dir];
	err = remove_stale_xdp(ifindex);
	if (err > 0)
		removed++;
	else if (err < 0) {
		pm_err("%s: cannot remove the XDP program: %s", name, strerror(-err));
		rc = EXIT_RUNTIME;
	}
	rundir_unlock(lock_name, lock);
	if (removed)
		printf("%s: removed %d protomix hook%s\n", name, removed,
		       removed > 1 ? "s" : "");
	if (qdisc)
		printf("%s: removed the clsact qdisc protomix had created\n", name);
	return rc;
}


int link_monitor_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

void link_monitor_read(int fd, link_fn fn, void *ctx)
{
	char buf[16384] __attribute__((aligned(4)));
	struct nlmsghdr *nh;
	struct ifinfomsg *ifi;
	struct rtattr *rta;
	const char *name;
	ssize_t n;
	int len;

	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK)
				continue;
			ifi = NLMSG_DATA(nh);
			name = NULL;
			len = IFLA_PAYLOAD(nh);
			for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
				if (rta->rta_type == IFLA_IFNAME)
					name = RTA_DATA(rta);
			if (name)
				fn(ctx, ifi->ifi_index, name, nh->nlmsg_type == RTM_DELLINK);
		}
	}
}
