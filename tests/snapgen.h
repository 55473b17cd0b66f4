/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Generated destination tables for the snapshot writers' test
 * (tests/snapshot_stream_test.c) and benchmark (bench/snapshot/). */
#ifndef PM_TEST_SNAPGEN_H
#define PM_TEST_SNAPGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "maps.h"

/* A small deterministic generator (xorshift64*). */
uint64_t snapgen_rand(uint64_t *state);

/* Fill t (initialised with dest_table_init, cap >= n) with n distinct
 * destinations. odd: every corner case in turn (IPv6 of every shape,
 * IPv4-mapped edges, zero counts, every class, UINT64_MAX counts, ties in
 * packets, times 0 and across days, rule verdicts cached or stale,
 * learned shifts, every combination of PM_D_VIA bits); otherwise a gateway's kind of table (mostly IPv4, a
 * few classes each). Times are CLOCK_MONOTONIC ns below 10^15. */
void snapgen_fill(struct dest_table *t, size_t n, uint64_t seed, bool odd);

#endif
