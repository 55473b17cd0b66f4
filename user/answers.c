// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The watch's answers to the control requests of `protomix top`:
 * "alerts SINCE" and "maps" (control.h has the protocol). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "answers.h"
#include "control.h"
#include "classes.h"
#include "observer.h"
#include "util.h"

json_object *top_alerts_json(const struct alert_log *log, const char *since)
{
	json_object *o, *arr, *tot, *a;
	uint64_t after, raised = 0;
	char line[EVIDENCE_LINE_MAX];

	if (!parse_u64(since, 0, UINT64_MAX, &after))
		return NULL;
	for (int k = 0; k < PM_NKIND; k++)
		raised += log->total[k];
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("alerts"));
	json_object_object_add(o, "next", json_object_new_uint64(raised));
	tot = json_object_new_object();
	for (int k = 0; k < PM_NKIND; k++)
		json_object_object_add(tot, kind_name(k),
				       json_object_new_uint64(log->total[k]));
	json_object_object_add(o, "total", tot);
	arr = json_object_new_array();
	for (size_t i = 0; i < log->n; i++) {
		uint64_t seq = alert_log_seq(log, i);

		if (seq <= after)
			continue;
		a = alert_json(alert_log_get(log, i));
		alert_line(alert_log_get(log, i), line, sizeof(line));
		json_object_object_add(a, "seq", json_object_new_uint64(seq));
		json_object_object_add(a, "line", json_object_new_string(line));
		json_object_array_add(arr, a);
	}
	json_object_object_add(o, "alerts", arr);
	return o;
}

/* A read-only fd for the map when the kernel gives one; else a copy. */
static int map_fd_rdonly(int fd)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, opts, .open_flags = BPF_F_RDONLY);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int ro;

	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		ro = bpf_map_get_fd_by_id_opts(info.id, &opts);
		if (ro >= 0)
			return ro;
	}
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

json_object *top_maps_json(json_object *status, const struct observer *ob,
			   struct ctl_fds *fds)
{
	json_object *agg = json_object_new_array();
	/* The destination table is read in place (mmap), which the kernel
	 * allows only through a descriptor open for writing; top maps it
	 * read-only. fds: the stats, then the table's arrays in DM_* order. */
	int s = map_fd_rdonly(observer_stats_fd(ob));

	if (s < 0)
		goto fail;
	fds->fd[fds->n++] = s;
	for (int i = 0; i < DM_NMAPS; i++) {
		int d = fcntl(ob->dm.fd[i], F_DUPFD_CLOEXEC, 3);

		if (d < 0)
			goto fail;
		fds->fd[fds->n++] = d;
	}
	json_object_object_add(status, "type", json_object_new_string("maps"));
	json_object_array_add(agg, json_object_new_int(ob->agg4));
	json_object_array_add(agg, json_object_new_int(ob->agg6));
	json_object_object_add(status, "aggregate", agg);
	return status;
fail:
	while (fds->n > 0)
		close(fds->fd[--fds->n]);
	json_object_put(agg);
	json_object_put(status);
	return NULL;
}
