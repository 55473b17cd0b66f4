/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the snapshot writer (snapshot.h): what snapshot.c (the document
 * built with json-c, read back) and snapshot_stream.c (the same text
 * streamed, the destinations formatted straight into a buffer, written
 * to a file) share: the document's other members, built once for both;
 * snapshot_stream.c calls down into snapshot.c, never the other way.
 * Nothing else includes it.
 */
#ifndef PM_SNAPSHOT_BUILD_H
#define PM_SNAPSHOT_BUILD_H

#include <stdbool.h>
#include <json-c/json.h>
#include "view.h"

json_object *snapshot_build(const struct pm_view *v, bool all);

#endif
