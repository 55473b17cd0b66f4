#!/usr/bin/env bash
# The cost of the history (issue 18): the CPU of a watch whose 100,000
# destinations all receive traffic every interval, with the history on
# (the defaults: the busiest 32 and up to 32 alerted destinations, 900
# intervals) and off (--history-dests 0), side by side in the same rounds
# (off, on, off, on, ...).
#
#   watch_nohist_cpu_pct_100k  the watch with the history off (-i 1)
#   watch_hist_cpu_pct_100k    the same with the history on
#   history_cpu_pct            the difference: what the history costs
#
# Traffic, lab and method: bench/watch_cpu.sh (tests/manydests.c, one TCP
# frame to each of 100,000 blackholed addresses, again and again). Figures
# only: a MISS is printed, never an exit status. Writes
# build/bench-history.json.
#
# Environment: BENCH_QUICK=1 for 1 round (default 3); HISTORY_DESTS=N,
# HISTORY_SECS=S (default 100000 and 8).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
OUT=$ROOT/build/bench-history.json
ROUNDS=${HISTORY_ROUNDS:-$([ "${BENCH_QUICK:-0}" = 1 ] && echo 1 || echo 3)}
N=${HISTORY_DESTS:-100000} SECS=${HISTORY_SECS:-8}
BUDGET=5
WC_NAME=bench/history.sh WC_TAG=hist
. "$ROOT/bench/watch_cpu.sh"

watch_cpu_setup
case $? in 0) ;; 2) exit 0 ;; *) exit 1 ;; esac
watch_cpu_rounds "history off" "--history-dests 0" "on" ""

read -r pm pmin pmax < <(watch_cpu_stat "${WC_OFF[@]}")
read -r xm xmin xmax < <(watch_cpu_stat "${WC_ON[@]}")
read -r dm dmin dmax < <(watch_cpu_stat "${WC_DIFF[@]}")
verdict=$(awk -v d="$dm" -v b=$BUDGET 'BEGIN { print (d != "null" && d < b) ? "ok" : "MISS" }')
say "  history with $N destinations busy: +$dm% of one CPU (spread $dmin-$dmax; watch $pm% -> $xm%), budget $BUDGET%: $verdict"
mkdir -p build
cat >"$OUT" <<EOF2
{"dests": $N, "rounds": ${#WC_DIFF[@]}, "seconds": $SECS,
 "watch_nohist_cpu_pct_100k": $pm, "watch_nohist_cpu_pct_100k_spread": [$pmin, $pmax],
 "watch_hist_cpu_pct_100k": $xm, "watch_hist_cpu_pct_100k_spread": [$xmin, $xmax],
 "history_cpu_pct": $dm, "history_cpu_pct_spread": [$dmin, $dmax],
 "budget_pct": $BUDGET}
EOF2
echo "history_cpu_pct $dm"
