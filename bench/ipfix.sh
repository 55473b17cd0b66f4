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
# tests/manydests.c sends one TCP frame to each of 100,000 addresses
# (blackholed, nothing answers), again and again while the CPU is
# measured, so every destination moves in every interval. The collector is
# a UDP sink that counts records (python; its CPU is not the watch's). In
# the lab of tests/lib/lab.sh (namespaces of its own, removed on exit);
# nothing touches the machine's interfaces. Figures only: a MISS is
# printed, never an exit status. Writes build/bench-ipfix.json.
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

say() { printf '%s\n' "$*" >&2; }
if [ "$(id -u)" -ne 0 ]; then
	say "bench/ipfix.sh: needs root (namespaces, BPF)"
	exit 0
fi
. "$ROOT/tests/lib/lab.sh"
[ -x "$PROTOMIX" ] || { say "bench/ipfix.sh: $PROTOMIX missing: run make"; exit 1; }
MANYDESTS=$ROOT/tests/build/manydests
if [ ! -x "$MANYDESTS" ] || [ tests/manydests.c -nt "$MANYDESTS" ]; then
	mkdir -p tests/build
	${CC:-cc} -O2 -Wall -Wextra -Werror tests/manydests.c -o "$MANYDESTS" ||
		{ say "bench/ipfix.sh: cannot build tests/manydests.c"; exit 1; }
fi

lab_up "pmb-$$-ipfix" >/dev/null || { say "bench/ipfix.sh: cannot build the lab"; exit 1; }
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

# the UDP collector: a sink (records counted by the watch's status:
# sent_records of the collector)
lab_bg sink gw "$LAB_PYTHON" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 4739))
while True:
    s.recv(65535)
'

run() {	# TAG ARGS...: the watch's CPU over SECS with every destination busy
	local tag=$1 pid pct sent
	shift
	pm_start "$tag" watch -i 1 --max-dests $((2 * N)) "$@" gw-ws
	pm_wait_attached "$tag" 2>/dev/null || { say "bench/ipfix.sh: watch did not start"; return 1; }
	fill_forever & FILLER=$!
	sleep 3		# the map full, every interval with N destinations
	pid=${PM_PIDS[$tag]}
	sent0=$(lab_exec gw "$PROTOMIX" status --json | jq '[.[0].ipfix[]?.sent_records] | add // 0')
	pct=$(cpu_pct "$pid" "$SECS")
	sent=$(lab_exec gw "$PROTOMIX" status --json | jq '[.[0].ipfix[]?.sent_records] | add // 0')
	dests=$(lab_exec gw "$PROTOMIX" status --json | jq '.[0].maps.dests.entries')
	stop_filler
	pm_stop "$tag" >/dev/null
	echo "$pct $(( (sent - sent0) / SECS )) $dests"
}

plain=() withx=() diff=() recs=()
for ((r = 0; r < ROUNDS; r++)); do
	read -r p _ d < <(run plain$r) || break
	read -r x s _ < <(run ipfix$r --ipfix 127.0.0.1:4739/udp) || break
	plain+=("$p") withx+=("$x") recs+=("$s")
	diff+=("$(awk -v a="$x" -v b="$p" 'BEGIN { printf "%.1f", a - b }')")
	say "  round $((r + 1)): watch $p%, with --ipfix $x% (records/s $s, dests $d)"
done
lab_bg_stop sink >/dev/null

stat() {	# median and spread of the arguments
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "null null null"; exit }
		printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
read -r pm pmin pmax < <(stat "${plain[@]}")
read -r xm xmin xmax < <(stat "${withx[@]}")
read -r dm dmin dmax < <(stat "${diff[@]}")
read -r rm _ _ < <(stat "${recs[@]}")
verdict=$(awk -v d="$dm" -v b=$BUDGET 'BEGIN { print (d != "null" && d < b) ? "ok" : "MISS" }')
say "  ipfix export with $N destinations busy: +$dm% of one CPU (spread $dmin-$dmax; watch $pm% -> $xm%), $rm records/s, budget $BUDGET%: $verdict"
mkdir -p build
cat >"$OUT" <<EOF
{"dests": $N, "rounds": ${#diff[@]}, "seconds": $SECS,
 "watch_cpu_pct_100k": $pm, "watch_cpu_pct_100k_spread": [$pmin, $pmax],
 "watch_ipfix_cpu_pct_100k": $xm, "watch_ipfix_cpu_pct_100k_spread": [$xmin, $xmax],
 "ipfix_cpu_pct_100k": $dm, "ipfix_cpu_pct_100k_spread": [$dmin, $dmax],
 "ipfix_records_per_s": $rm, "budget_pct": $BUDGET}
EOF
echo "ipfix_cpu_pct_100k $dm"
