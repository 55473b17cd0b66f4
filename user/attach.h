/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Attaching the observer to interfaces, and leaving them as they were.
 *
 * Ingress is XDP (a bpf_link) or tc; egress is tc. tc programs go through
 * tcx links (kernel 6.6+) where the kernel has them, so a process that
 * dies, even by SIGKILL, leaves nothing attached; on older kernels they
 * are classic clsact filters with protomix's own handle and priority, and
 * the next run (or `protomix detach`) removes what a killed run left.
 * The filter's handle also says whether protomix created the clsact
 * qdisc (PM_TC_HANDLE_OWN) or found it (PM_TC_HANDLE), which survives a
 * SIGKILL: a qdisc protomix created goes with its filters, unless someone
 * else's filter is on it by then.
 *
 * A loopback device gets its ingress hook only: every packet it sends
 * comes back in through its ingress, so an egress hook would count each
 * packet twice.
 *
 * Each watched interface is locked by a file in the run folder (rundir.h)
 * named after the network namespace and the ifindex, held with flock: the
 * lock goes with the process, so a second instance on the same interface
 * is refused and a stale filter is known to be stale; no other local
 * user can create it.
 */
#ifndef PM_ATTACH_H
#define PM_ATTACH_H

#include <stdbool.h>
#include <net/if.h>
#include <bpf/libbpf.h>

enum hook_mode {
	HOOK_AUTO = 0,	/* tc ingress: see README, "Choosing the hook" */
	HOOK_XDP,
	HOOK_TC,
};

/* classic tc filter identity, used only where tcx is missing: the
 * handle is PM_TC_HANDLE_OWN when protomix created the clsact qdisc */
#define PM_TC_HANDLE		0x504d
#define PM_TC_HANDLE_OWN	0x504e
#define PM_TC_PRIO		0x504d

#define PM_IFACE_MAXHOOKS	2

struct pm_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	int ingress_hook;		/* enum pm_hook */
	struct bpf_link *xdp_link;
	int tcx_fd[2];			/* ingress, egress; -1 if none */
	bool legacy_tc[2];		/* classic filter attached */
	bool created_clsact;		/* we made the qdisc: remove it */
	bool loopback;			/* IFF_LOOPBACK: ingress hook only */
	int lock_fd;
	char lock_name[48];		/* its file in the run folder */
	bool gone;			/* removed; re-attached if it comes back */
};

struct pm_progs {
	struct bpf_program *xdp;
	struct bpf_program *tc_ingress;
	struct bpf_program *tc_egress;
};

/* Resolve IFACE; 0, or EXIT_USAGE with the error reported. */
int iface_init(struct pm_iface *ifc, const char *name);
/* Lock and attach; 0, or EXIT_RUNTIME with the error reported and
 * nothing left attached on this interface. */
int iface_attach(struct pm_iface *ifc, const struct pm_progs *progs,
		 enum hook_mode mode);
void iface_detach(struct pm_iface *ifc);
/* The hooks attached (enum pm_hook), ingress first; their number. */
int iface_hook_ids(const struct pm_iface *ifc, unsigned int ids[PM_IFACE_MAXHOOKS]);
/* "xdp,tc_egress"; "tc_ingress" on a loopback device */
const char *iface_hooks(const struct pm_iface *ifc, char *buf, size_t len);
/* What to add after the hooks when attaching: "" or, on a loopback
 * device, "; loopback: egress not hooked, each packet counted once". */
const char *iface_note(const struct pm_iface *ifc);

/* Interfaces that come and go: a rtnetlink socket subscribed to link
 * changes. link_monitor_read calls fn for every link that appeared (or
 * changed) and every link that was removed. */
typedef void (*link_fn)(void *ctx, int ifindex, const char *name, bool removed);
int link_monitor_open(void);
void link_monitor_read(int fd, link_fn fn, void *ctx);

/* The lock of a running watch on an interface: a file in the run folder
 * (rundir.h), named after the network namespace and the ifindex, held
 * with flock, so it goes with the process, even killed. Only root and
 * the watch's user can create it: unlike the abstract socket name of
 * earlier versions, no other local user can take it first. Returns the
 * fd, -EADDRINUSE if a live process holds it (*holder: its pid), or
 * -errno (reported). */
int iface_lock(int ifindex, int *holder, char *name, size_t len);
/* Remove the protomix hooks (tc filters, the XDP program, a clsact
 * qdisc it created) that a killed run left on one interface, unless a
 * live watch holds it; say on stdout what was removed. 0, or the exit
 * status with the error reported. */
int detach_one(const char *name, int ifindex);

#endif
