/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Declared expectations: PREFIX=CLASS[,CLASS...] rules from --expect and
 * --expect-file, checked against the classes in the kernel through an LPM
 * trie (longest prefix wins).
 */
#ifndef PM_RULES_H
#define PM_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "protomix.h"

struct rule {
	uint8_t addr[16];	/* IPv4 mapped into IPv6 */
	uint32_t plen;		/* in the 128-bit space (IPv4: + 96) */
	uint32_t allowed;	/* bit per enum pm_class */
	char prefix[64];	/* as written */
	const char *origin;	/* "--expect" or the file's path */
	int line;		/* in the file; 0 for --expect */
};

/* The most rules in force: the size of the kernel's trie. */
#define RULES_MAX	PM_RULES_MAX
/* The largest rules file read, in bytes: 16 MiB, room for RULES_MAX rules
 * of 256 bytes each with their comments. A larger file is refused. */
#define RULES_FILE_MAX	(16u << 20)

struct ruleset {
	struct rule *v;
	size_t n, cap;
	/* an index of v by prefix (open addressing; a slot holds a hash
	 * tag and index + 1, 0 is empty): duplicates, matching and syncing
	 * in constant time per rule */
	uint64_t *slot;
	size_t nslot;			/* a power of two, > 2 n */
	uint64_t plens[3];		/* the prefix lengths present, bit per length */
};

/* Parse "10.20.0.0/16=tcp,icmp" and add it. 0, or EXIT_USAGE with the
 * rule (and file and line) named on stderr. */
int ruleset_add(struct ruleset *rs, const char *text, const char *origin,
		int line);
/* One rule per line, # comments, blank lines ignored. An empty or
 * unreadable file is an error, and so is anything but a regular file (a
 * symlink to one is followed), a file larger than RULES_FILE_MAX and a
 * NUL byte. 0 or EXIT_USAGE. */
int ruleset_load_file(struct ruleset *rs, const char *path);
void ruleset_free(struct ruleset *rs);
/* The rules in force for a run: those of `cli` (--expect, as parsed by
 * ruleset_add) followed by those of `file` (--expect-file; NULL for none)
 * into *out, which need not be initialised. 0, or EXIT_USAGE with the
 * rule, file or line named on stderr and *out left empty. */
int ruleset_build(const struct ruleset *cli, const char *file,
		  struct ruleset *out);

/* The longest matching rule for an address, or NULL. */
const struct rule *ruleset_match(const struct ruleset *rs, const uint8_t addr[16]);

/* Make the kernel's trie hold exactly `now` (rule ids = index + 1):
 * first remove what only `old` had, then write what is new or changed
 * (a rule of `old` with the same prefix, classes and id is left alone).
 * 0 or -errno. */
int ruleset_sync(int map_fd, const struct ruleset *old, const struct ruleset *now);

#endif
