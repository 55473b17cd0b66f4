/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `protomix diff [--json] OLD.json NEW.json`: what changed between two
 * snapshots, per destination address.
 *
 *   appeared   destinations only in NEW
 *   vanished   destinations only in OLD
 *   changed    destinations in both where a class appeared (0 packets in
 *              OLD, some in NEW) or vanished, or where a class's share of
 *              the destination's packets moved by at least
 *              DIFF_SHIFT_POINTS percentage points (exactly: |new/Tnew -
 *              old/Told| >= 0.10, computed on integers)
 *
 * Order: changed first, largest shift first (the headline), then appeared
 * and vanished, busiest first; ties by address (numeric, IPv4 first).
 * Within a destination, classes by the size of their shift; for equal
 * shifts, what appeared, vanished, grew, shrank, then the order of
 * `protomix classes`. "shifted" lists every class that moved by at least
 * DIFF_SHIFT_POINTS (appeared and vanished ones too, if they did).
 *
 * Text (one line each, then a summary line):
 *   10.20.0.80: esp appeared (0% -> 95%), tcp 100% -> 5% (packets: esp +1900, tcp +0)
 *   10.30.0.1: appeared, 120 packets (udp 100%)
 *   10.40.0.2: vanished, 50 packets (tcp 100%)
 *   1 changed, 1 appeared, 1 vanished, 4 unchanged (OLD: host at taken_at -> NEW: ...)
 *
 * --json, one document:
 *   {"type":"diff","old":{"file","host","taken_at"},"new":{...},
 *    "changed":[{"addr","classes_appeared":[..],"classes_vanished":[..],
 *                "shifted":[..classes moved >= 10 points..],
 *                "shares":{"tcp":{"old":1,"new":0.05},..},   (every class
 *                        of either side, 4 decimals)
 *                "packets_delta":{"tcp":0,"esp":1900,..}}],   (new - old)
 *    "appeared":[{"addr","packets":{..}}],"vanished":[{"addr","packets":{..}}],
 *    "unchanged":N}
 *
 * Exit status 0 (also when something changed); 2 for bad usage or a file
 * that is not a readable protomix snapshot; 1 if stdout cannot be written.
 * cmd_diff is declared in commands.h.
 */
#ifndef PM_DIFF_H
#define PM_DIFF_H

#define DIFF_SHIFT_POINTS	10

#endif
