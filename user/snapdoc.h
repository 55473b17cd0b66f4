/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading a snapshot file back (`protomix diff`, `--baseline` of watch and
 * replay): a checked, streaming reader of "protomix.snapshot/3" (or /2, /1) that keeps
 * what those commands use, a few hundred bytes per destination, and never
 * the whole document.
 *
 * The file must be a regular file (a FIFO, a device, a folder or anything
 * else is refused before a byte is read; a symlink is followed and judged
 * by what it names) of at most SNAP_MAX_BYTES. The document is checked
 * against its schema as it is read, and the first field that
 * does not fit is named: "destinations[3].packets.bogus: unknown class".
 *
 *   top level    an object; "schema" (required) = "protomix.snapshot/3",
 *                "protomix.snapshot/2" (older: no "via") or
 *                "protomix.snapshot/1" (no "history" either);
 *                "host", "taken_at", "started_at", "kernel" strings;
 *                "interfaces", "alerts" arrays of objects; "stats" and (schema 2)
 *                "history" objects; "destinations" (required) an array; other keys
 *                (evidence, replay) are skipped, but must be valid JSON
 *   destination  an object; "addr" (required) an address ("10.20.0.80",
 *                "2001:db8::1") or a prefix ("10.20.0.0/24", length 0-32
 *                for IPv4, 0-128 for IPv6), at most once per document;
 *                "packets" (required) and "bytes" objects of class name ->
 *                count; "expected" an array of class names; "violations"
 *                a count; "first_seen", "last_seen" strings; "via" an
 *                array of tunnel class names (gre, ipip, ipv6_encap,
 *                vxlan, geneve, gtp_u), each at most once
 *   count        a JSON integer 0 .. 2^64-1, written as digits (no sign,
 *                fraction or exponent, not a string); a destination's
 *                packets add up to at most 2^64-1
 *
 * A key given twice in one object is refused, and so is nesting deeper
 * than SNAP_MAX_DEPTH and a kept string (host, taken_at, addr, class
 * names) longer than SNAP_MAX_STR bytes.
 */
#ifndef PM_SNAPDOC_H
#define PM_SNAPDOC_H

#include <stddef.h>
#include <stdint.h>
#include "protomix.h"

/* The largest snapshot file read back. A destination weighs about 380
 * bytes in the layout `watch -o` writes with 2 to 4 classes (bench/diff.sh:
 * 380 MB for 1,000,000), and about 60 bytes more per further class: 1 GiB
 * holds 1M destinations with up to 12 classes each, or 2.5M with 3. */
#define SNAP_MAX_BYTES	(1ULL << 30)
#define SNAP_MAX_DEPTH	64
#define SNAP_MAX_STR	1024

/* The schema written now, and the older ones still read: 2 adds the
 * optional top-level "history" (the mix over time, user/history.h), an
 * object; 3 adds a destination's optional "via" (the tunnels its packets
 * came inside, --decap) and the stats' "inner_packets" and
 * "inner_reason". */
#define SNAP_SCHEMA	"protomix.snapshot/3"
#define SNAP_SCHEMA_V2	"protomix.snapshot/2"
#define SNAP_SCHEMA_V1	"protomix.snapshot/1"

#define SNAP_NO_PLEN	0xff	/* a bare address, not a prefix */

struct snap_dest {
	uint64_t packets[PM_NCLASS];
	uint64_t total;		/* of packets */
	uint32_t via;		/* class mask of "via" (0: none) */
	uint8_t key[16];	/* the address (IPv4 mapped into IPv6) */
	uint8_t plen;		/* 0-128 in the 128-bit space, or SNAP_NO_PLEN */
	const char *addr;	/* as written */
};

struct snap_doc {
	char *host;		/* "" if absent */
	char *taken_at;		/* "" if absent */
	struct snap_dest *d;	/* in document order */
	size_t n;
	/* private: addresses as text, and a hash of the destinations */
	char *text;
	size_t tlen, tcap, cap;
	uint64_t *hash;
	size_t hsize;
};

/* Open path for reading back: a regular file of at most SNAP_MAX_BYTES.
 * The descriptor, or -1 with the file and the reason on stderr and
 * *status set to EXIT_USAGE. Never blocks (a FIFO is refused unopened
 * for writers). */
int snap_open(const char *path, int *status);

/* Read and check the snapshot at path into doc. 0; or EXIT_USAGE (bad
 * file or document) or EXIT_RUNTIME (out of memory) with one line on
 * stderr naming path. doc is empty (snap_doc_free-able) on failure. */
int snap_doc_read(const char *path, struct snap_doc *doc);
/* The same over a document in memory (name is used in messages only). */
int snap_doc_parse(const char *name, const void *data, size_t len,
		   struct snap_doc *doc);
void snap_doc_free(struct snap_doc *doc);

/* The destination with that key and plen, or NULL. */
const struct snap_dest *snap_doc_find(const struct snap_doc *doc,
				      const uint8_t key[16], uint8_t plen);

/* The order of `protomix diff`: addresses before prefixes; IPv4 before
 * IPv6, then numeric; prefixes by their text. */
int snap_dest_cmp(const struct snap_dest *a, const struct snap_dest *b);

#endif
