/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The watch's answers to the control requests of `protomix top` (the
 * protocol: control.h). watch.c's request handler calls them; "snapshot"
 * and "status" are answered in watch_requests.c.
 */
#ifndef PM_ANSWERS_H
#define PM_ANSWERS_H

#include <json-c/json.h>
#include "alerts.h"

struct observer;
struct ctl_fds;

/* The watch's answer to "alerts SINCE": {"type":"alerts","next":SEQ,
 * "total":{kind:n},"alerts":[alert objects with "seq" and "line", the
 * text evidence line]} for the kept alerts numbered above SINCE. NULL if
 * SINCE is not a number. */
json_object *top_alerts_json(const struct alert_log *log, const char *since);

/* The watch's answer to "maps LAYOUT": status (a status answer, taken over)
 * with "type":"maps" and "aggregate":[V4LEN,V6LEN], and read-only fds of
 * the dests and stats maps (where the kernel allows; else copies) added
 * to *fds. NULL if they cannot be had. */
json_object *top_maps_json(json_object *status, const struct observer *ob,
			   struct ctl_fds *fds);

#endif
