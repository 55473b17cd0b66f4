#!/usr/bin/env bash
# The cost of IPFIX export (issue 14): the CPU of a watch whose 100,000
# destinations all receive traffic every interval, with `--ipfix` to a UDP
# collector and without, side by side in the same rounds, against a budget
# of 20% of one CPU for the export.
#
#   watch_cpu_pct_100k        the watch alone (-i 1, lines to /dev/null)
#   watch_ipfix_cpu_pct_100k  the same with --ipfix 127.0.0.1:PORT/udp
#   ipfix_cpu_pct_100k        the difference: what the export costs
#   ipfix_records_per_s       mix records the collector received per second
#
# Traffic, lab and method: bench/watch_cpu.sh (tests/manydests.c, one TCP
# frame to each of 100,000 blackholed addresses, again and again). The
# collector is a UDP sink (python; its CPU is not the watch's); the records
# are counted by the watch's status (sent_records of the collector).
# Figures only: a MISS is printed, never an exit status. Writes
# build/bench-ipfix.json.
#
# Environment: BENCH_QUICK=1 for 1 round (default 3); IPFIX_DESTS=N,
# IPFIX_SECS=S (default 100000 and 8).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT=$ROOT/build/bench-ipfix.json
ROUNDS=${IPFIX_ROUNDS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 1 || echo 3)}
N=${IPFIX_DESTS:-100000} SECS=${IPFIX_SECS:-8}
BUDGET=20

WC_NAME=bench/ipfix.sh WC_TAG=ipfix
. "$ROOT/bench/watch_cpu.sh"

watch_cpu_setup
case $? in 0) ;; 2) exit 0 ;; *) exit 1 ;; esac
# the UDP collector: a sink
lab_bg sink gw "$LAB_PYTHON" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 4739))
while True:
    s.recv(65535)
'
watch_cpu_rounds "watch" "" "with --ipfix" "--ipfix 127.0.0.1:4739/udp"
lab_bg_stop sink >/dev/null

read -r pm pmin pmax < <(watch_cpu_stat "${WC_OFF[@]}")
read -r xm xmin xmax < <(watch_cpu_stat "${WC_ON[@]}")
read -r dm dmin dmax < <(watch_cpu_stat "${WC_DIFF[@]}")
read -r rm _ _ < <(watch_cpu_stat "${WC_RECS[@]}")
verdict=$(awk -v d="$dm" -v b=$BUDGET 'BEGIN { print (d != "null" && d < b) ? "ok" : "MISS" }')
say "  ipfix export with $N destinations busy: +$dm% of one CPU (spread $dmin-$dmax; watch $pm% -> $xm%), $rm records/s, budget $BUDGET%: $verdict"
mkdir -p build
cat >"$OUT" <<EOF
{"dests": $N, "rounds": ${#WC_DIFF[@]}, "seconds": $SECS,
 "watch_cpu_pct_100k": $pm, "watch_cpu_pct_100k_spread": [$pmin, $pmax],
 "watch_ipfix_cpu_pct_100k": $xm, "watch_ipfix_cpu_pct_100k_spread": [$xmin, $xmax],
 "ipfix_cpu_pct_100k": $dm, "ipfix_cpu_pct_100k_spread": [$dmin, $dmax],
 "ipfix_records_per_s": $rm, "budget_pct": $BUDGET}
EOF
echo "ipfix_cpu_pct_100k $dm"
