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
# Traffic, lab and method as bench/history.sh (tests/manydests.c, one TCP
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

say() { printf '%s\n' "$*" >&2; }
if [ "$(id -u)" -ne 0 ]; then
	say "bench/history.sh: needs root (namespaces, BPF)"
	exit 0
fi
. "$ROOT/tests/lib/lab.sh"
[ -x "$PROTOMIX" ] || { say "bench/history.sh: $PROTOMIX missing: run make"; exit 1; }
MANYDESTS=$ROOT/tests/build/manydests
if [ ! -x "$MANYDESTS" ] || [ tests/manydests.c -nt "$MANYDESTS" ]; then
	mkdir -p tests/build
	${CC:-cc} -O2 -Wall -Wextra -Werror tests/manydests.c -o "$MANYDESTS" ||
		{ say "bench/history.sh: cannot build tests/manydests.c"; exit 1; }
fi

lab_up "pmb-$$-hist" >/dev/null || { say "bench/history.sh: cannot build the lab"; exit 1; }
lab_exec gw ip route add blackhole 10.64.0.0/10
FILLER=""
stop_filler() {
	if [ -n "$FILLER" ]; then
		{ kill "$FILLER"; wait "$FILLER"; } 2>/dev/null
		FILLER=""
	fi
}
trap 'stop_filler; lab_cleanup' EXIT

# every destination, over and over, until stopped
fill_forever() {
	while :; do
		ip netns exec "$(lab_ns ws)" "$MANYDESTS" ws0 "$N" --dst-mac "$LAB_MAC_GW_WS" \
			--src-mac "$LAB_MAC_WS0" --base 10.64.0.0 || break
	done
}

cpu_pct() {	# PID SECONDS
	local hz a b
	hz=$(getconf CLK_TCK)
	a=$(awk '{print $14 + $15}' "/proc/$1/stat")
	sleep "$2"
	b=$(awk '{print $14 + $15}' "/proc/$1/stat")
	awk -v d=$((b - a)) -v hz="$hz" -v s="$2" 'BEGIN { printf "%.1f\n", 100 * d / hz / s }'
}

run() {	# TAG ARGS...: the watch's CPU over SECS with every destination busy
	local tag=$1 pid pct dests
	shift
	pm_start "$tag" watch -i 1 --max-dests $((2 * N)) "$@" gw-ws
	pm_wait_attached "$tag" 2>/dev/null || { say "bench/history.sh: watch did not start"; return 1; }
	fill_forever & FILLER=$!
	sleep 3		# the map full, every interval with N destinations
	pid=${PM_PIDS[$tag]}
	pct=$(cpu_pct "$pid" "$SECS")
	dests=$(lab_exec gw "$PROTOMIX" status --json | jq '.[0].maps.dests.entries')
	stop_filler
	pm_stop "$tag" >/dev/null
	echo "$pct $dests"
}

plain=() withh=() diff=()
for ((r = 0; r < ROUNDS; r++)); do
	read -r p d < <(run off$r --history-dests 0) || break
	read -r x _ < <(run on$r) || break
	plain+=("$p") withh+=("$x")
	diff+=("$(awk -v a="$x" -v b="$p" 'BEGIN { printf "%.1f", a - b }')")
	say "  round $((r + 1)): history off $p%, on $x% (dests $d)"
done

stat() {	# median and spread of the arguments
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "null null null"; exit }
		printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
read -r pm pmin pmax < <(stat "${plain[@]}")
read -r xm xmin xmax < <(stat "${withh[@]}")
read -r dm dmin dmax < <(stat "${diff[@]}")
verdict=$(awk -v d="$dm" -v b=$BUDGET 'BEGIN { print (d != "null" && d < b) ? "ok" : "MISS" }')
say "  history with $N destinations busy: +$dm% of one CPU (spread $dmin-$dmax; watch $pm% -> $xm%), budget $BUDGET%: $verdict"
mkdir -p build
cat >"$OUT" <<EOF
{"dests": $N, "rounds": ${#diff[@]}, "seconds": $SECS,
 "watch_nohist_cpu_pct_100k": $pm, "watch_nohist_cpu_pct_100k_spread": [$pmin, $pmax],
 "watch_hist_cpu_pct_100k": $xm, "watch_hist_cpu_pct_100k_spread": [$xmin, $xmax],
 "history_cpu_pct": $dm, "history_cpu_pct_spread": [$dmin, $dmax],
 "budget_pct": $BUDGET}
EOF
echo "history_cpu_pct $dm"
