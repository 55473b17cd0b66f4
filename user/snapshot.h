/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The snapshot JSON of docs/snapshot.md ("protomix.snapshot/3"; 2 without
 * "via" and the inner stats, 1 also without "history"), built with
 * json-c from what a watch reads out of the kernel. */
#ifndef PM_SNAPSHOT_H
#define PM_SNAPSHOT_H

#include <json-c/json.h>
#include "alerts.h"
#include "attach.h"
#include "maps.h"
#include "rules.h"
#include "view.h"

json_object *stats_json(const struct pm_view *v);

/* What a destination is expected to receive (a class mask): its declared
 * rule's classes, or tcp if it was learned to be a TCP destination that
 * turned IPsec; 0 if nothing is expected. The snapshot's "expected". */
uint32_t dest_expected(const struct pm_view *v, const struct pm_dest_key *k,
		       const struct pm_dest *d);
json_object *dest_json(const struct pm_view *v, const struct pm_dest_key *k,
		       const struct pm_dest *d);
json_object *snapshot_json(const struct pm_view *v);
/* The evidence of the kept alerts, aligned with snapshot_json's "alerts":
 * [{"ts_ns","wire_len","frame":"hex"}]. Travels with a snapshot from a
 * watch to `protomix snapshot --pcap`, never into a snapshot file. */
json_object *evidence_json(const struct alert_log *log);
/* One evidence entry of evidence_json. */
json_object *evidence_one_json(const struct alert *a);

/* What snapshot_json gives, plus an "evidence" member (evidence_json of
 * `evidence`) at the end unless evidence is NULL, written to f as
 * json_object_to_json_string_ext would print it with `flags` (json-c's
 * JSON_C_TO_STRING_PLAIN, _SPACED, _PRETTY, _PRETTY_TAB, _NOSLASHESCAPE),
 * followed by a newline: byte for byte the same text, without the
 * document in memory. The destinations are formatted here straight into
 * a buffer of 64 KiB flushed to f; the other members, small, go through
 * json-c one at a time. Memory: the document's order of the destinations
 * (16 bytes per destination at the peak, while sorting) and that buffer:
 * 15 MB for 1,000,000 destinations. Stops at the first write
 * error. 0, or -errno (-ENOMEM, or that of the write or the final
 * fflush). Reports nothing: the caller knows where f goes. */
int snapshot_stream(FILE *f, const struct pm_view *v,
		    const struct alert_log *evidence, int flags);

/* Atomically, mode 0600. 0 or -errno (reported). */
int snapshot_write(const char *path, const struct pm_view *v);

/* Read and check a snapshot file (schema protomix.snapshot/3, /2 or /1). NULL, with
 * the file and the problem named on stderr, if it is not one. */
json_object *snapshot_read(const char *path);

#endif
