#!/usr/bin/env bash
# `make bench`: measure protomix against docs/bench.md's budgets, side by side
# in one run; print a table and write build/bench.json.
#
#   1. per-frame cost of pm_xdp, BPF_PROG_TEST_RUN    (pmbench xdp)
#   2. frames per second through a veth pair, live-frame generation,
#      pm_xdp (protomix watch --hook xdp) vs a bare XDP program (pmbench live)
#   3. TCP throughput through the lab's gateway with iperf3: nothing,
#      protomix (tc, the default hook; and xdp), tcpdump -s 128 -w; and the
#      CPU time each observer spent (its process; its kernel work from BPF
#      statistics or tracing, and from perf sampling, which works where
#      the kernel refuses tracing programs)
#   4. reading the destination table at 10k, 100k, 1M destinations; kernel
#      memory per destination                         (pmbench poll)
#   5. hooks for `protomix replay` and `protomix top` (null until they exist)
#   6. big inputs: 65,536 rules (bench/rules.sh), diff of two 1M-destination
#      snapshots (bench/diff.sh), a snapshot of 1M destinations: the writer
#      alone (bench/snapshot/stream.c) and end to end (bench/snapshot_big.sh)
#
# Figures only: a result over budget is printed, never an exit status. The
# benchmarks are not part of `make test`. Everything runs in network
# namespaces this script creates (pmb-PID-*) and removes on every exit
# path; the machine's own interfaces are never touched. BPF run-time
# statistics are switched on only while protomix is measured in part 3,
# through a file descriptor (BPF_ENABLE_STATS) that the kernel closes
# when the holder dies, so they cannot stay on after the bench.
#
# Every A-vs-B figure (observer vs bare XDP, protomix or tcpdump vs
# nothing in iperf3, one hot destination vs spread vs bare on two CPUs) is
# measured in interleaved rounds (A B A B ..., A B C A B C ...) and given
# as the median of the per-round ratios with their min-max: a machine
# whose load changes during the bench moves both sides of a round alike,
# not one run against another. A ratio whose rounds spread over more than
# 10 points (or that has fewer than 2 rounds) is printed "noisy", never
# as a pass. Each ratio carries the load average and the steal time
# (/proc/stat) before and after its part: build/bench.json .ratios.
#
# Environment: BENCH_QUICK=1 for a short smoke run (fewer rounds, 1 s of
# iperf3); BENCH_LIVE_ROUNDS=N, BENCH_IPERF_ROUNDS=N for more (or fewer)
# interleaved rounds; BENCH_ONLY="xdp live iperf poll hooks big" to run some parts only.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PM=$ROOT/build/protomix
PMB=$ROOT/build/bench/pmbench
OUT=$ROOT/build/bench.json
ONLY=${BENCH_ONLY:-xdp live iperf poll hooks}
QUICK=${BENCH_QUICK:-0}
CPU=$(($(nproc) - 1))	# the CPU test runs are pinned to
HZ=$(getconf CLK_TCK)
# shellcheck source=live_pair.sh
. "$ROOT/bench/live_pair.sh"

if [ "$QUICK" = 1 ]; then
	XDP_ARGS=(--rounds 3) LIVE_ROUNDS=2 LIVE_ARGS=(--frames 2000000)
	IPERF_T=1 IPERF_REPS=2 POLL_ARGS=(--rounds 2)
else
	XDP_ARGS=(--rounds 7) LIVE_ROUNDS=5 LIVE_ARGS=(--frames 2000000)
	IPERF_T=5 IPERF_REPS=5 POLL_ARGS=(--rounds 5)
fi
LIVE_ROUNDS=${BENCH_LIVE_ROUNDS:-$LIVE_ROUNDS}
IPERF_REPS=${BENCH_IPERF_ROUNDS:-$IPERF_REPS}
for n in "$LIVE_ROUNDS" "$IPERF_REPS"; do
	[[ $n =~ ^[1-9][0-9]?$ ]] && continue
	printf 'bench: BENCH_LIVE_ROUNDS/BENCH_IPERF_ROUNDS: "%s" is not a number of rounds (1-99)\n' "$n" >&2
	exit 2
done

say() { printf '%s\n' "$*" >&2; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

# --- cleanup: everything this script started or created ------------------

PREFIX=pmb-$$
LIVE_NS=$PREFIX-live
WORK=$(mktemp -d "/tmp/$PREFIX.XXXXXX")
declare -a MY_PIDS=()	# processes to end on exit (ours only, by pid)

bench_cleanup()
{
	local pid

	for pid in "${MY_PIDS[@]}"; do
		{ kill -TERM "$pid" && sleep 0.2 && kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
	done
	MY_PIDS=()
	[ -e "/run/netns/$LIVE_NS" ] && ip netns del "$LIVE_NS" 2>/dev/null
	if [ -n "${LAB_PREFIX:-}" ] && declare -f lab_cleanup >/dev/null; then
		lab_cleanup
	fi
	rm -rf "$WORK"
}
trap bench_cleanup EXIT
trap 'bench_cleanup; trap - EXIT; exit 130' INT
trap 'bench_cleanup; trap - EXIT; exit 143' TERM

forget_pid()	# PID: no longer ours to kill
{
	local i

	for i in "${!MY_PIDS[@]}"; do
		[ "${MY_PIDS[$i]}" = "$1" ] && unset "MY_PIDS[$i]"
	done
	MY_PIDS=("${MY_PIDS[@]}")
}

# stop_pid PID [SIGNAL]: signal, wait (5 s, then SIGKILL), forget.
stop_pid()
{
	local pid=$1 i

	kill -s "${2:-INT}" "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
}

# wait_pid_for FILE PATTERN PID [SECONDS]: until FILE has a line matching
# PATTERN (10 s by default); 1 if PID died or it timed out.
wait_pid_for()
{
	local i

	for ((i = 0; i < ${4:-10} * 20; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# descendant_named PID NAME: the first process called NAME under PID
descendant_named()
{
	local p c

	for c in $(pgrep -P "$1"); do
		[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$2" ] && { echo "$c"; return; }
		p=$(descendant_named "$c" "$2")
		[ -n "$p" ] && { echo "$p"; return; }
	done
}

# --- CPU accounting --------------------------------------------------------

# proc_cpu PID: seconds of CPU the process has used, all its threads (the
# scheduler's runtime in /proc/PID/task/*/schedstat, in ns; its children
# not counted): user and system time of the process itself.
proc_cpu()
{
	cat /proc/"$1"/task/*/schedstat 2>/dev/null |
		awk '{ t += $1 } END { printf "%.4f", t / 1e9 }'
}

# prog_ns PID: "NS CALLS": run_time_ns and run_cnt summed over the BPF
# programs PID holds (their fdinfo; each program once). Needs BPF
# statistics on.
prog_ns()
{
	local f

	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^run_time_ns:' "$f" 2>/dev/null || continue
		awk '/^prog_id:/ { id = $2 } /^run_time_ns:/ { ns = $2 } /^run_cnt:/ { n = $2 }
		     END { print id, ns, n }' "$f"
	done | sort -u -k1,1n | awk '{ t += $2; n += $3 } END { printf "%d %d", t, n }'
}

# tcp_segs: TCP segments sent by the lab's ws and lb together (Tcp:
# OutSegs, which counts a TSO super-packet as the segments it becomes on
# the wire): iperf3's data one way, the ACKs the other, what gw-ws's tc
# programs see as one run per skb.
tcp_segs()
{
	echo $(($(lab_snmp ws Tcp OutSegs) + $(lab_snmp lb Tcp OutSegs)))
}

# sys_busy: seconds of CPU the whole machine spent not idle (all CPUs).
sys_busy()
{
	awk -v hz="$HZ" '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}

STATS_PID=""
stats_on()
{
	[ -n "$STATS_PID" ] && return 0
	coproc HOLD { exec "$PMB" stats-hold; }
	STATS_PID=$HOLD_PID
	MY_PIDS+=("$STATS_PID")
	local line=""
	read -r -t 5 line <&"${HOLD[0]}"
	if [ "$line" != ready ]; then
		say "  note: cannot switch BPF statistics on; protomix's BPF time is not counted"
		stop_pid "$STATS_PID" TERM
		STATS_PID=""
		return 1
	fi
}
stats_off()
{
	[ -n "$STATS_PID" ] || return 0
	stop_pid "$STATS_PID" TERM
	STATS_PID=""
}

# --- JSON pieces ------------------------------------------------------------

# Every part writes its figures to $WORK/*.json; missing ones are null.
jget()	# FILE JQ-FILTER: the value, or null
{
	[ -s "$1" ] || { echo null; return; }
	jq -c "$2 // null" "$1" 2>/dev/null || echo null
}

# --- the machine's load, and ratios over interleaved rounds -----------------

# machine_mark: "LOAD1 LOAD5 LOAD15 STEAL TOTAL": the load average, and
# the steal and total jiffies of every CPU so far (/proc/stat's cpu line:
# user .. steal; guest time is already in user).
machine_mark()
{
	awk -v l="$(cut -d' ' -f1-3 /proc/loadavg)" '/^cpu / {
		t = 0; for (i = 2; i <= 9; i++) t += $i
		print l, $9, t; exit }' /proc/stat
}

# machine_json MARK0 MARK1: the load averages at both marks and the steal
# time between them, in percent of all CPU time (a VM's CPUs taken by the
# host)
machine_json()
{
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ")
		dt = y[5] - x[5]
		st = dt > 0 ? sprintf("%.2f", 100 * (y[4] - x[4]) / dt) : "null"
		printf "{\"load_before\":\"%s %s %s\",\"load_after\":\"%s %s %s\",\"steal_pct\":%s}\n",
		       x[1], x[2], x[3], y[1], y[2], y[3], st }'
}

# ratio_rounds NAME FILE GOAL MARK0: FILE holds one line per round, "A B"
# (each a figure or null); writes $WORK/ratio.NAME.json, {NAME: {...}}:
# the per-round ratios A/B in percent, their median, min and max, the
# rounds that had both figures, noisy (max - min over 10 points, or under
# 2 rounds), the goal (percent, or null), the machine from MARK0 to now.
NOISY_POINTS=10
ratio_rounds()
{
	local name=$1 file=$2 goal=$3 m

	m=$(machine_json "$4" "$(machine_mark)")
	jq -R -s -c --arg name "$name" --argjson goal "$goal" --argjson m "$m" \
		--argjson noisy "$NOISY_POINTS" '
		[split("\n")[] | select(length > 0) | split(" ") | map(tonumber? // null)
		 | if .[0] == null or .[1] == null or .[1] == 0 then null
		   else (10000 * .[0] / .[1] | round / 100) end] as $pr
		| ($pr | map(select(. != null)) | sort) as $v
		| ($v | length) as $n
		| {($name): ({
		    median: (if $n == 0 then null elif $n % 2 == 1 then $v[($n - 1) / 2]
			     else (($v[$n / 2 - 1] + $v[$n / 2]) / 2 * 100 | round / 100) end),
		    min: $v[0], max: $v[-1], rounds: $n,
		    noisy: ($n < 2 or ($v[-1] - $v[0]) > $noisy),
		    goal: $goal, per_round: $pr } + $m)}' "$file" >"$WORK/ratio.$name.json"
	jq -r 'to_entries[] | .key as $k | .value |
		"  ratio \($k): median \(.median // "n/a")% (\(.min // "n/a")-\(.max // "n/a"), \(.rounds) rounds)" +
		(if .noisy then " NOISY" else "" end) +
		"   load \(.load_before) -> \(.load_after), steal \(.steal_pct // "n/a")%"' \
		"$WORK/ratio.$name.json" >&2
}

# === 1. per-frame cost =====================================================

part_xdp()
{
	say "== 1. per-frame cost of pm_xdp (BPF_PROG_TEST_RUN, repeat 1000000)"
	"$PMB" xdp --cpu "$CPU" "${XDP_ARGS[@]}" >"$WORK/xdp.json" || rm -f "$WORK/xdp.json"
}

# === 2. live frames through a veth pair =====================================

# live_observer_round NS WATCH_PID: one measured round with the observer
# attached; a round where rx0 received nothing is null, with what rx0 holds.
live_observer_round()
{
	local ns=$1 wpid=$2 out

	out=$(ip netns exec "$ns" "$PMB" live --gen gen0 --rx rx0 --attach none \
		--cpu "$CPU" --rounds 1 "${LIVE_ARGS[@]}")
	kill -0 "$wpid" 2>/dev/null ||
		say "  protomix watch exited during the round: $(head -c 300 "$WORK/live_watch.err")"
	jq -e '.rounds[0] != null' <<<"$out" >/dev/null 2>&1 ||
		say "  the observer round received nothing; rx0 holds: $(ip -n "$ns" -d link show rx0 |
			grep -o 'prog/xdp id [0-9]*' | head -1)"
	echo "$out" >>"$WORK/live_obs.txt"
}

# live_watch_start IFACE: protomix watch --hook xdp on IFACE in the live
# namespace, a fresh map; WPID is its pid. 1 if it did not attach.
WPID=""
live_watch_start()
{
	# emptied here, not by the redirection below: that happens in the
	# child, maybe after wait_pid_for has read the last round's "watching"
	: >"$WORK/live_watch.err"
	rm -f "$WORK/live_snap.json"
	ip netns exec "$LIVE_NS" "$PM" watch --hook xdp -i 1 -o "$WORK/live_snap.json" "$1" \
		>"$WORK/live_watch.out" 2>"$WORK/live_watch.err" </dev/null &
	WPID=$!
	MY_PIDS+=("$WPID")
	# loading and verifying the programs takes 1-3 s, more on a busy machine
	wait_pid_for "$WORK/live_watch.err" "^protomix: watching $1 (xdp" "$WPID" 60 && return 0
	say "  protomix watch --hook xdp did not attach XDP to $1: $(head -c 300 "$WORK/live_watch.err")"
	return 1
}
# live_watch_stop: stop it; print how many destinations its snapshot holds
live_watch_stop()
{
	stop_pid "$WPID" INT
	WPID=""
	jq '.destinations | length' "$WORK/live_snap.json" 2>/dev/null || echo null
}

# live_2cpu COND: one round of generation on CPUs 0 and 1 at once into rx2
# (two queues); appends pmbench's JSON to live2_COND.txt and prints the
# round's Mpps (null if it did not measure)
live_2cpu()
{
	local attach=none dests=131072 out

	case $1 in
	bare) attach=bare ;;
	hot) dests=1 ;;
	esac
	out=$(ip netns exec "$LIVE_NS" "$PMB" live --gen gen2 --rx rx2 --attach "$attach" \
		--cpus 0,1 --dests "$dests" --rounds 1 "${LIVE_ARGS[@]}")
	echo "$out" >>"$WORK/live2_$1.txt"
	jq -c '.rounds[0] // null' <<<"$out" 2>/dev/null || echo null
}

# live_bare_round: one round of the bare program on rx0; its Mpps or null
live_bare_round()
{
	local out

	out=$(ip netns exec "$LIVE_NS" "$PMB" live --gen gen0 --rx rx0 --attach bare --cpu "$CPU" \
		--rounds 1 "${LIVE_ARGS[@]}")
	echo "$out" >>"$WORK/live_bare.txt"
	jq -c '.rounds[0] // null' <<<"$out" 2>/dev/null || echo null
}

part_live()
{
	local ns=$LIVE_NS n r b o h sp b2 m0 two=1

	say "== 2. frames per second through a veth pair (live-frame generation, XDP on the receiver)"
	say "   rounds: bare XDP program and protomix watch --hook xdp (fresh map each time), which first alternating;"
	say "   then on CPUs 0 and 1 at once: bare, one hot destination, 131072 destinations (watch on rx2)"
	m0=$(machine_mark)
	# gen0/rx0 (bench/live_pair.sh: no IPv6, nothing but the generated
	# frames), and a two-queue pair gen2/rx2 for the two-CPU rounds
	live_pair_up "$ns" || return 1
	ip -n "$ns" -batch - <<-EOF || return 1
		link add gen2 numtxqueues 2 numrxqueues 2 type veth peer name rx2 numtxqueues 2 numrxqueues 2
		link set gen2 up
		link set rx2 up
	EOF
	[ "$(nproc)" -ge 2 ] || { two=0; say "  one CPU: no two-CPU rounds"; }
	: >"$WORK/live_bare.txt"
	: >"$WORK/live_obs.txt"
	: >"$WORK/pairs.live.txt"
	: >"$WORK/pairs.hot_spread.txt"
	: >"$WORK/pairs.hot_bare.txt"
	: >"$WORK/pairs.spread_bare.txt"
	for f in bare hot spread; do : >"$WORK/live2_$f.txt"; done
	for ((r = 1; r <= LIVE_ROUNDS; r++)); do
		# bare first in odd rounds, the observer first in even ones
		((r % 2)) && b=$(live_bare_round)
		o=null
		if live_watch_start rx0; then
			live_observer_round "$ns" "$WPID"
			o=$(tail -1 "$WORK/live_obs.txt" | jq -c '.rounds[0] // null' 2>/dev/null || echo null)
		fi
		n=$(live_watch_stop)
		say "  protomix watch --hook xdp rx0 saw $n distinct destinations"
		((r % 2)) || b=$(live_bare_round)
		echo "$o $b" >>"$WORK/pairs.live.txt"

		[ "$two" = 1 ] || continue
		b2=$(live_2cpu bare)
		h=null sp=null
		if live_watch_start rx2; then
			# which goes first alternates from round to round
			if ((r % 2)); then
				h=$(live_2cpu hot); sp=$(live_2cpu spread)
			else
				sp=$(live_2cpu spread); h=$(live_2cpu hot)
			fi
		fi
		say "  two CPUs, round $r: bare $b2  hot destination $h  spread $sp Mpps ($(live_watch_stop) destinations seen)"
		echo "$h $sp" >>"$WORK/pairs.hot_spread.txt"
		echo "$h $b2" >>"$WORK/pairs.hot_bare.txt"
		echo "$sp $b2" >>"$WORK/pairs.spread_bare.txt"
	done
	echo "{\"observer_dests\":${n:-null}}" >"$WORK/live_snap_n.json"
	# medians over the rounds (a round whose receiver got under half the
	# frames is null: left out)
	for f in live_bare live_obs live2_bare live2_hot live2_spread; do
		jq -s '[.[].rounds[] | select(. != null)] | sort | if length == 0 then null
		       elif length % 2 == 1 then .[length / 2 | floor]
		       else (.[length / 2 - 1] + .[length / 2]) / 2 end' "$WORK/$f.txt" >"$WORK/$f.json"
	done
	jq -s '{bare: [.[0][].rounds[]], observer: [.[1][].rounds[]],
		bare_2cpu: [.[2][].rounds[]], hot_dest_2cpu: [.[3][].rounds[]],
		spread_2cpu: [.[4][].rounds[]]}' \
		<(jq -s . "$WORK/live_bare.txt") <(jq -s . "$WORK/live_obs.txt") \
		<(jq -s . "$WORK/live2_bare.txt") <(jq -s . "$WORK/live2_hot.txt") \
		<(jq -s . "$WORK/live2_spread.txt") >"$WORK/live_detail.json"
	ip netns del "$ns"
	# per-round ratios: each round's pair measured back to back
	ratio_rounds live_observer_vs_bare "$WORK/pairs.live.txt" 80 "$m0"
	if [ "$two" = 1 ]; then
		ratio_rounds live_hot_dest_vs_spread_2cpu "$WORK/pairs.hot_spread.txt" 90 "$m0"
		ratio_rounds live_hot_dest_vs_bare_2cpu "$WORK/pairs.hot_bare.txt" 80 "$m0"
		ratio_rounds live_spread_vs_bare_2cpu "$WORK/pairs.spread_bare.txt" null "$m0"
	fi
	return 0
}

# === 3. TCP through the lab's gateway ======================================

# iperf_once LABEL: one iperf3 run from ws to lb's server; the Gb/s.
iperf_once()
{
	local f=$WORK/iperf.$1.json

	if lab_exec ws iperf3 -c "$LAB_LB4" -t "$IPERF_T" -O 1 -J >"$f" 2>&1 &&
	   jq -e '.end.sum_received.bits_per_second / 1e9' "$f" 2>/dev/null; then
		return 0
	fi
	say "  iperf3 failed: $(jq -r '.error // empty' "$f" 2>/dev/null || head -c 200 "$f")"
	return 1
}

# tap_start / tap_stop: time in tpacket_rcv (tcpdump's kernel side) while
# running; tap_stop prints the seconds, or null.
TAP_PID=""
tap_start()
{
	: >"$WORK/tap.out"
	"$PMB" tap-hold >"$WORK/tap.out" 2>"$WORK/tap.err" </dev/null &
	TAP_PID=$!
	MY_PIDS+=("$TAP_PID")
	wait_pid_for "$WORK/tap.out" '^ready' "$TAP_PID" && return 0
	say "  note: cannot trace tpacket_rcv ($(grep -m1 -o 'pmbench: .*' "$WORK/tap.err");" \
	    "kernel lockdown forbids tracing programs?): tcpdump's kernel time is not counted"
	stop_pid "$TAP_PID" TERM
	TAP_PID=""
	return 1
}
tap_stop()
{
	[ -n "$TAP_PID" ] || { echo null; return; }
	stop_pid "$TAP_PID" INT
	TAP_PID=""
	jq -s 'map(select(type == "object"))[0].tpacket_rcv_s // null' "$WORK/tap.out" 2>/dev/null || echo null
}

# perf_start FILE / perf_stop: sample every CPU (cpu-clock, call graphs)
# while iperf3 runs, in every condition alike; perf_attr FILE REGEX: the
# CPU seconds of the samples with a frame matching REGEX anywhere in their
# call chain (each sample once). Sampling needs no tracing program, so it
# works where the kernel refuses them (lockdown): it is how tcpdump's
# kernel side is measured here, and protomix's BPF time is cross-checked.
PERF_HZ=999
PERF_PID=""
perf_start()
{
	command -v perf >/dev/null || return 1
	perf record -a -g -F "$PERF_HZ" -e cpu-clock -q -o "$1" -- sleep 3600 \
		>/dev/null 2>"$WORK/perf.err" </dev/null &
	PERF_PID=$!
	MY_PIDS+=("$PERF_PID")
	sleep 0.5
	kill -0 "$PERF_PID" 2>/dev/null && return 0
	PERF_PID=""
	return 1
}
perf_stop()
{
	[ -n "$PERF_PID" ] || return 0
	kill -INT "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
	PERF_PID=""
}
perf_attr()
{
	[ -s "$1" ] || { echo null; return; }
	perf script -i "$1" -F ip,sym 2>/dev/null | awk -v re="$2" -v hz="$PERF_HZ" '
		/^$/ { if (n) { h += hit } n = 0; hit = 0; next }
		{ n++; if ($2 ~ re) hit = 1 }
		END { if (n) h += hit; printf "%.4f", h / hz }'
}
# what tcpdump costs in the kernel beyond its process: the tap clones the
# egress packets (dev_queue_xmit_nit) and copies every packet into its ring
# (tpacket_rcv, or packet_rcv without a ring)
TAP_RE='^(tpacket_rcv|packet_rcv|dev_queue_xmit_nit)$'
# protomix's programs and their global functions (each its own symbol)
PM_RE='^bpf_prog_[0-9a-f]+_(pm_xdp|pm_tc_ingress|pm_tc_egress|parse_skb|dest_insert)$'

# measure COND REP: start COND's observer on gw-ws, run iperf3, stop it;
# append "cond rep gbps process_s kernel_s busy_s calls segments" to
# $WORK/iperf.txt. kernel_s: protomix's BPF programs' run time (BPF
# statistics), or the time in tpacket_rcv for tcpdump (null where it
# cannot be traced); 0 for none. REP "sampled": a run with every CPU
# sampled instead; appends "cond sampled_s gbps" to $WORK/iperf_sampled.txt
# (perf_attr: protomix's programs, tcpdump's tap; null without perf).
measure()
{
	local cond=$1 rep=$2 pid="" ready=1 c0=0 c1=0 b0="0 0" b1="0 0" k=0 calls=0 s0 s1 g hook=()
	local t0 t1
	local pf=$WORK/perf.$cond.$rep.data sampled=null

	case $cond in
	protomix | protomix_xdp)
		stats_on
		[ "$cond" = protomix_xdp ] && hook=(--hook xdp)
		: >"$LAB_DIR/w$rep$cond.err"
		pm_start "w$rep$cond" watch "${hook[@]}" -i 1 gw-ws
		pid=${PM_PIDS[w$rep$cond]}
		# lab.sh waits 10 s; loading takes longer on a busy machine
		wait_pid_for "$LAB_DIR/w$rep$cond.err" '^protomix: watching gw-ws' "$pid" 60 || ready=0
		;;
	tcpdump)
		: >"$WORK/tcpdump.err"	# before the child's redirection: see part_live
		ip netns exec "$(lab_ns gw)" tcpdump -i gw-ws -s 128 -w "$LAB_DIR/cap.pcap" -n \
			>"$WORK/tcpdump.out" 2>"$WORK/tcpdump.err" </dev/null &
		pid=$!
		MY_PIDS+=("$pid")
		wait_pid_for "$WORK/tcpdump.err" 'listening on' "$pid" || ready=0
		;;
	esac
	if [ "$ready" = 0 ]; then
		say "  $cond: the observer did not start; skipped"
		[[ $cond == protomix* ]] && { pm_stop "w$rep$cond" >/dev/null 2>&1; stats_off; }
		[ "$cond" = tcpdump ] && stop_pid "$pid" INT
		return 1
	fi
	sleep 0.3
	[ "$cond" = tcpdump ] && tap_start
	if [ "$rep" = sampled ]; then
		perf_start "$pf" || pf=""
	else
		pf=""
	fi
	s0=$(sys_busy)
	t0=$(tcp_segs)
	if [ -n "$pid" ]; then
		c0=$(proc_cpu "$pid")
		[[ $cond == protomix* ]] && b0=$(prog_ns "$pid")
	fi
	g=$(iperf_once "$cond.$rep") || g=null
	s1=$(sys_busy)
	t1=$(tcp_segs)
	perf_stop
	if [ -n "$pf" ]; then
		case $cond in
		protomix*) sampled=$(perf_attr "$pf" "$PM_RE") ;;
		tcpdump) sampled=$(perf_attr "$pf" "$TAP_RE") ;;
		*) sampled=0 ;;
		esac
		rm -f "$pf"
	fi
	if [ -n "$pid" ]; then
		c1=$(proc_cpu "$pid")
		[[ $cond == protomix* ]] && b1=$(prog_ns "$pid")
	fi
	case $cond in
	protomix | protomix_xdp)
		k=$(awk -v a="$b0" -v b="$b1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.4f", (y[1] - x[1]) / 1e9 }')
		calls=$(awk -v a="$b0" -v b="$b1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", y[2] - x[2] }')
		pm_stop "w$rep$cond" >/dev/null 2>&1
		stats_off
		;;
	tcpdump)
		k=$(tap_stop)
		stop_pid "$pid" INT
		;;
	esac
	if [ "$rep" = sampled ]; then
		echo "$cond $sampled $g" >>"$WORK/iperf_sampled.txt"
		say "  $cond (sampled run): $g Gb/s, $sampled s in $([ "$cond" = tcpdump ] && echo "its tap" || echo "its BPF programs") by sampling"
		return 0
	fi
	awk -v c="$cond" -v r="$rep" -v g="$g" -v c0="$c0" -v c1="$c1" -v k="$k" \
	    -v n="$calls" -v s0="$s0" -v s1="$s1" -v segs="$((t1 - t0))" 'BEGIN {
		printf "%s %s %s %.4f %s %.2f %d %d\n", c, r, g, c1 - c0, k, s1 - s0, n, segs
		gs = g == "null" ? g : sprintf("%.2f", g)
		what = ""
		if (c ~ /^protomix/)
			what = sprintf(" (BPF programs, %d runs, %.0f ns each; %d TCP segments, %.1f ns each)",
				       n, n ? k * 1e9 / n : 0, segs, segs ? k * 1e9 / segs : 0)
		else if (c == "tcpdump")
			what = " (tpacket_rcv)"
		printf("  %-13s %6s Gb/s   process CPU %.3f s   kernel %s s%s   system-wide busy %.1f s\n",
		       c, gs, c1 - c0, k, what, s1 - s0) > "/dev/stderr"
	    }' >>"$WORK/iperf.txt"
}

part_iperf()
{
	local rep cond m0 goal

	m0=$(machine_mark)
	say "== 3. TCP through the lab gateway (iperf3 ws -> lb, ${IPERF_T} s + 1 s omitted, observers on gw-ws)"
	say "   rounds of none, protomix, protomix_xdp, tcpdump, the order turned by one each round: a ratio per round"
	for cmd in iperf3 tcpdump jq; do
		command -v "$cmd" >/dev/null || { say "  $cmd missing: skipped"; return 1; }
	done
	# shellcheck source=../tests/lib/lab.sh
	. "$ROOT/tests/lib/lab.sh"
	lab_up "$PREFIX" || return 1
	trap bench_cleanup EXIT		# lab_up set its own: ours calls lab_cleanup
	trap 'bench_cleanup; trap - EXIT; exit 130' INT
	trap 'bench_cleanup; trap - EXIT; exit 143' TERM
	ip netns exec "$(lab_ns lb)" iperf3 -s >/dev/null 2>&1 </dev/null &
	MY_PIDS+=("$!")
	sleep 0.3
	: >"$WORK/iperf.txt"
	# the order turns by one each round (none first, then protomix first,
	# ...): a figure that depends on its place in the round, not on its
	# observer, shows as spread instead of as a ratio
	local conds=(none protomix protomix_xdp tcpdump) i
	for ((rep = 1; rep <= IPERF_REPS; rep++)); do
		for ((i = 0; i < 4; i++)); do
			measure "${conds[(rep - 1 + i) % 4]}" "$rep"
		done
	done
	# One more run each with every CPU sampled (perf costs throughput
	# itself, so these runs give CPU figures only)
	: >"$WORK/iperf_sampled.txt"
	if command -v perf >/dev/null; then
		for cond in protomix protomix_xdp tcpdump; do
			measure "$cond" sampled
		done
	else
		say "  perf missing: no sampled CPU figures"
	fi
	awk 'BEGIN { printf "{" } { printf "%s\"%s\":%s", (NR > 1 ? "," : ""), $1, $2 }
	     END { printf "}\n" }' "$WORK/iperf_sampled.txt" >"$WORK/iperf_sampled.json"
	lab_cleanup
	LAB_PREFIX=""
	# per-round ratios against nothing attached in the same round
	for cond in protomix protomix_xdp tcpdump; do
		awk -v c="$cond" -v reps="$IPERF_REPS" '$2 ~ /^[0-9]+$/ { g[$1 " " $2] = $3 }
			END { for (r = 1; r <= reps; r++) {
				a = g[c " " r]; b = g["none " r]
				print (a == "" ? "null" : a), (b == "" ? "null" : b) } }' \
			"$WORK/iperf.txt" >"$WORK/pairs.iperf_$cond.txt"
		goal=null
		[ "$cond" = protomix ] && goal=95
		ratio_rounds "iperf_${cond}_vs_none" "$WORK/pairs.iperf_$cond.txt" "$goal" "$m0"
	done
	# medians over the repetitions, as JSON
	awk '{ g[$1] = g[$1] " " $3; p[$1] = p[$1] " " $4; b[$1] = b[$1] " " $5; s[$1] = s[$1] " " $6
	       sm[$1] = sm[$1] " " $8
	       if ($7 > 0) ns[$1] = ns[$1] " " ($5 * 1e9 / $7)
	       if ($8 > 0 && $7 > 0) { sg[$1] = sg[$1] " " ($5 * 1e9 / $8); spr[$1] = spr[$1] " " ($8 / $7) } }
	     function med(l,   n, a, i, j, t) {
		n = split(l, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		if (n == 0 || a[1] == "null") return "null"
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	     }
	     END {
		printf "{\"gbps\":{"; sep = ""
		for (c in g) { printf "%s\"%s\":%s", sep, c, med(g[c]); sep = "," }
		printf "},\"proc_s\":{"; sep = ""
		for (c in p) { printf "%s\"%s\":%s", sep, c, med(p[c]); sep = "," }
		printf "},\"kernel_s\":{"; sep = ""
		for (c in b) { printf "%s\"%s\":%s", sep, c, med(b[c]); sep = "," }
		printf "},\"system_busy_s\":{"; sep = ""
		for (c in s) { printf "%s\"%s\":%s", sep, c, med(s[c]); sep = "," }
		printf "},\"bpf_ns_per_run\":{"; sep = ""
		for (c in ns) { printf "%s\"%s\":%.0f", sep, c, med(ns[c]); sep = "," }
		printf "},\"bpf_ns_per_segment\":{"; sep = ""
		for (c in sg) { printf "%s\"%s\":%.1f", sep, c, med(sg[c]); sep = "," }
		printf "},\"segments_per_run\":{"; sep = ""
		for (c in spr) { printf "%s\"%s\":%.1f", sep, c, med(spr[c]); sep = "," }
		printf "}}\n"
	     }' "$WORK/iperf.txt" >"$WORK/iperf.json"
}

# === 4. userspace: reading the map, memory ==================================

part_poll()
{
	say "== 4. reading the destination table (dests_read, in place) and its memory"
	"$PMB" poll "${POLL_ARGS[@]}" >"$WORK/poll.json" || rm -f "$WORK/poll.json"
}

# === 5. hooks for commands other engineers are building =====================

# replay_fps: frames per second of `protomix replay` over a generated
# capture (1M frames, 131072 destinations; pmbench pcap), the whole
# command timed: loading the programs, reading the file, the text report.
# Runs once `protomix replay --help` exits 0; null until then.
part_replay()
{
	local frames=1000000 t0 t1

	if ! "$PM" replay --help >/dev/null 2>&1; then
		say "  replay_fps: null (protomix replay is not built yet)"
		return 0
	fi
	"$PMB" pcap "$WORK/replay.pcap" --frames "$frames" >/dev/null || return 1
	t0=$(date +%s.%N)
	if ! "$PM" replay "$WORK/replay.pcap" >"$WORK/replay.out" 2>"$WORK/replay.err"; then
		say "  replay_fps: null (protomix replay failed: $(head -c 200 "$WORK/replay.err"))"
		return 1
	fi
	t1=$(date +%s.%N)
	awk -v f="$frames" -v a="$t0" -v b="$t1" 'BEGIN { printf "{\"replay_fps\":%.0f}\n", f / (b - a) }' \
		>"$WORK/replay.json"
	say "  replay: $frames frames in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s"
}

# top_cpu_pct: the CPU share of `protomix top` at a 1 s refresh with
# 100,000 destinations in the watch's map, over 10 s: measured by
# tests/top_test.sh --cpu (it builds the lab, fills the map with
# tests/manydests.c, runs top in a tmux pane). Also reported: the watch's
# own CPU with and without top attached, and with the view in the watch.
part_top()
{
	local out

	if ! "$PM" top --help >/dev/null 2>&1; then
		say "  top_cpu_pct: null (protomix top is not built yet)"
		return 0
	fi
	out=$("$ROOT/tests/top_test.sh" --cpu 2>&1)
	if ! grep -q '^top_cpu_pct ' <<<"$out"; then
		say "  top_cpu_pct: null ($(tail -1 <<<"$out"))"
		return 1
	fi
	awk '/^top_cpu_pct / { printf "{\"top_cpu_pct\":%s}\n", $2 }' <<<"$out" >"$WORK/top.json"
	grep -E '_cpu_pct ' <<<"$out" | sed 's/^/  top: /' >&2
}

# === run ====================================================================

if [ "$(id -u)" -ne 0 ]; then
	say "bench: needs root (namespaces, BPF): writing nulls to $OUT"
	ONLY=""
fi
for f in "$PM" "$PMB"; do
	[ -x "$f" ] || { say "bench: $f missing: run make bench"; ONLY=""; }
done

start=$(date +%s)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
MARK0=$(machine_mark)
# the busiest processes (CPU share over their lifetime): what else runs here
busiest() { ps -eo pcpu=,pid=,comm= --sort=-pcpu | head -3 | awk '{ printf "%s%s %s %s%%", (NR > 1 ? ", " : ""), $3, $2, $1 }'; }
BUSY0=$(busiest)
say "bench: load average at the start $LOAD0 (other work on this machine skews every figure)"
say "bench: busiest processes: $BUSY0"
want xdp && { part_xdp || say "  part 1 failed"; }
want live && { part_live || say "  part 2 failed"; }
want iperf && { part_iperf || say "  part 3 failed"; }
want poll && { part_poll || say "  part 4 failed"; }
if want hooks; then
	say "== 5. replay and top"
	part_replay || true
	part_top || true
fi
# 6. big inputs and tables (issue "Hardening"): each writes its own
#    build/bench-*.json and prints PASS/MISS against its target
if want hooks || want big; then
	say "== 6. big tables: rules, diff, snapshots"
	"$ROOT/bench/rules.sh" || say "  rules bench failed (bench/rules.sh)"
	"$ROOT/bench/diff.sh" || say "  diff bench failed (bench/diff.sh)"
	"$ROOT/build/bench/snapshot_stream" --rounds $((QUICK == 1 ? 1 : 3)) \
		>"$ROOT/build/bench-snapshot-stream.json" ||
		say "  snapshot_stream failed (bench/snapshot/stream.c)"
	"$ROOT/bench/snapshot_big.sh" 1000000 $((QUICK == 1 ? 1 : 3)) ||
		say "  snapshot_big failed (bench/snapshot_big.sh)"
	"$ROOT/bench/ipfix.sh" >/dev/null || say "  ipfix bench failed (bench/ipfix.sh)"
	"$ROOT/bench/history.sh" >/dev/null || say "  history bench failed (bench/history.sh)"
fi

# --- build/bench.json --------------------------------------------------------

mkdir -p "$(dirname "$OUT")"
MACHINE=$(machine_json "$MARK0" "$(machine_mark)")
RATIOS=$(cat "$WORK"/ratio.*.json 2>/dev/null | jq -s -c 'add // {}')
[ -n "$RATIOS" ] || RATIOS='{}'
X=$WORK/xdp.json I=$WORK/iperf.json P=$WORK/poll.json
jq -n \
	--argjson xdp "$(jget "$X" .xdp_ns)" \
	--argjson xdp_raw "$(jget "$X" .xdp_raw_ns)" \
	--argjson xdp_viol "$(jget "$X" .xdp_violation)" \
	--argjson live_bare "$(jget "$WORK/live_bare.json" .)" \
	--argjson live_obs "$(jget "$WORK/live_obs.json" .)" \
	--argjson live_d "$(jget "$WORK/live_detail.json" .)" \
	--argjson live_n "$(jget "$WORK/live_snap_n.json" .observer_dests)" \
	--argjson live_b2 "$(jget "$WORK/live2_bare.json" .)" \
	--argjson live_h2 "$(jget "$WORK/live2_hot.json" .)" \
	--argjson live_s2 "$(jget "$WORK/live2_spread.json" .)" \
	--argjson ratios "$RATIOS" --argjson machine "$MACHINE" \
	--argjson noisy_pts "$NOISY_POINTS" \
	--argjson gbps "$(jget "$I" .gbps)" \
	--argjson proc "$(jget "$I" .proc_s)" \
	--argjson kern "$(jget "$I" .kernel_s)" \
	--argjson nsrun "$(jget "$I" .bpf_ns_per_run)" \
	--argjson nsseg "$(jget "$I" .bpf_ns_per_segment)" \
	--argjson segrun "$(jget "$I" .segments_per_run)" \
	--argjson busy "$(jget "$I" .system_busy_s)" \
	--argjson sampled "$(jget "$WORK/iperf_sampled.json" .)" \
	--argjson poll "$(jget "$P" .poll_ms)" \
	--argjson poll_d "$(jget "$P" .poll_detail)" \
	--argjson bpd "$(jget "$P" .map_bytes_per_dest)" \
	--argjson memlock "$(jget "$P" .map_memlock)" \
	--argjson replay "$(jget "$WORK/replay.json" .replay_fps)" \
	--argjson top "$(jget "$WORK/top.json" .top_cpu_pct)" \
	--argjson iperf_t "$IPERF_T" --argjson perf_hz "$PERF_HZ" \
	--arg load0 "$LOAD0" --arg load1 "$(cut -d' ' -f1-3 /proc/loadavg)" \
	--arg busy0 "$BUSY0" --arg busy1 "$(busiest)" \
	--arg kernel "$(uname -r)" --argjson cpus "$(nproc)" \
	--argjson secs "$(($(date +%s) - start))" '
	def xdpkey(k): if $xdp == null then null else $xdp[k] end;
	def sum2(a; b): if a == null or b == null then null else a + b end;
	# per round: an observer case minus bare, measured in the same round
	# the per-round figures (null where a round lacks one side): their
	# median, min, max and count
	def summary(rounds):
	  rounds as $pr | ($pr | map(select(. != null)) | sort) as $v | ($v | length) as $n
	  | { median: (if $n == 0 then null elif $n % 2 == 1 then $v[($n - 1) / 2]
		       else ($v[$n / 2 - 1] + $v[$n / 2]) / 2 end),
	      min: $v[0], max: $v[-1], rounds: $n, per_round: $pr };
	def per_round(a; b; op):
	  [a, b] | transpose | map(if any(. == null) then null else op end);
	def over_rounds(a; b):
	  summary(per_round(a; b; .[0] - .[1]))
	  | . + { noisy: (.rounds < 2 or (.max - .min) > $noisy_pts) };
	def xr(k): $xdp_raw[k] // [];
	# per round: an observer case over observer_v4_tcp of the same round,
	# in percent; goal: at most goal_max
	def pct_rounds(a; b; goal_max):
	  summary(per_round(a; b; if .[1] == 0 then null else 100 * .[0] / .[1] end))
	  | . + { goal_max: goal_max };
	{
	  xdp_ns: {
	    bare: xdpkey("bare"), counter: xdpkey("counter"),
	    observer_v4_tcp: xdpkey("observer_v4_tcp"),
	    observer_v6_ext: xdpkey("observer_v6_ext"),
	    observer_qinq_esp: xdpkey("observer_qinq_esp"),
	    observer_new_dest: xdpkey("observer_new_dest"),
	    observer_rule_violation: xdpkey("observer_rule_violation"),
	    observer_new_dest_full_map: xdpkey("observer_new_dest_full_map"),
	    observer_v4_tcp_131k_dests: xdpkey("observer_v4_tcp_131k_dests"),
	    observer_v4_tcp_nodecap: xdpkey("observer_v4_tcp_nodecap"),
	    observer_vxlan_tcp: xdpkey("observer_vxlan_tcp"),
	    observer_gtpu_esp: xdpkey("observer_gtpu_esp"),
	    observer_mpls_tcp: xdpkey("observer_mpls_tcp"),
	    observer_v4_tcp_131k_scattered: xdpkey("observer_v4_tcp_131k_scattered")
	  },
	  live_mpps: { bare: $live_bare, observer: $live_obs,
	               hot_dest_2cpu: $live_h2, spread_2cpu: $live_s2, bare_2cpu: $live_b2 },
	  ratios: $ratios,
	  xdp_over_bare_ns: (if $xdp_raw == null then null else {
	    observer_v4_tcp: over_rounds(xr("observer_v4_tcp"); xr("bare")),
	    # bare + (tail->pm_xdp - tail->bare) - bare, in each round
	    observer_v4_tcp_131k_dests: (over_rounds(xr("tail_known_cycle"); xr("tail_bare_cycle"))
	                                 + { goal_max: 50 }),
	    observer_v4_tcp_131k_scattered: (over_rounds(xr("tail_known_scattered"); xr("tail_bare_scattered"))
	                                     + { goal_max: 50 })
	  } end),
	  # --decap against --no-decap on plain IPv4 TCP, ns per round (goal <= 2)
	  xdp_decap_over_nodecap_ns: (if $xdp_raw == null then null else
	    over_rounds(xr("observer_v4_tcp"); xr("observer_v4_tcp_nodecap")) + { goal_max: 2 } end),
	  # a tunnel or carrier against plain IPv4 TCP, % per round (goal <= 200)
	  xdp_tunnel_vs_v4_tcp: (if $xdp_raw == null then null else {
	    observer_vxlan_tcp: pct_rounds(xr("observer_vxlan_tcp"); xr("observer_v4_tcp"); 200),
	    observer_gtpu_esp: pct_rounds(xr("observer_gtpu_esp"); xr("observer_v4_tcp"); 200),
	    observer_mpls_tcp: pct_rounds(xr("observer_mpls_tcp"); xr("observer_v4_tcp"); 200)
	  } end),
	  iperf_gbps: { none: $gbps.none, protomix: $gbps.protomix,
	                tcpdump: $gbps.tcpdump, protomix_xdp: $gbps.protomix_xdp },
	  cpu_s: { protomix: sum2($kern.protomix; $proc.protomix),
	           tcpdump: (if $proc.tcpdump == null then null
	                     else $proc.tcpdump + ($kern.tcpdump // $sampled.tcpdump // 0) end),
	           protomix_xdp: sum2($kern.protomix_xdp; $proc.protomix_xdp) },
	  poll_ms: { "10000": $poll["10000"], "100000": $poll["100000"],
	             "1000000": $poll["1000000"] },
	  map_bytes_per_dest: $bpd,
	  replay_fps: $replay,
	  top_cpu_pct: $top,
	  detail: {
	    kernel: $kernel, cpus: $cpus, seconds: $secs,
	    loadavg_start: $load0, loadavg_end: $load1, steal_pct: $machine.steal_pct,
	    busiest_start: $busy0, busiest_end: $busy1,
	    xdp_rounds_ns: $xdp_raw, xdp_violation: $xdp_viol,
	    live: { rounds_mpps: $live_d, dests_generated: 131072,
	            observer_distinct_dests: $live_n,
	            receiver: "pm_xdp via protomix watch --hook xdp rx0" },
	    cpu: { process_s: $proc,
	           kernel_s: $kern,
	           kernel_s_is: "protomix: run_time_ns of its BPF programs; tcpdump: time in tpacket_rcv (fentry/fexit), null where the kernel refuses tracing programs",
	           sampled_s: $sampled,
	           sampled_s_is: "perf record -a -g (cpu-clock, \($perf_hz) Hz): CPU seconds of the samples whose call chain holds protomix'"'"'s BPF programs, or tcpdump'"'"'s tap (tpacket_rcv, packet_rcv, dev_queue_xmit_nit); cpu_s.tcpdump = process + kernel_s, or + sampled_s where kernel_s is null",
	           bpf_ns_per_run: $nsrun,
	           bpf_ns_per_segment: $nsseg, segments_per_run: $segrun,
	           bpf_ns_per_segment_is: "the BPF programs run time over the TCP segments ws and lb sent (Tcp: OutSegs: a TSO super-packet counts as its wire segments), the data one way and the ACKs the other",
	           system_busy_s: $busy, iperf_seconds: $iperf_t },
	    poll: $poll_d, map_memlock: $memlock
	  }
	}' >"$OUT.tmp" && mv "$OUT.tmp" "$OUT"

# --- the table ------------------------------------------------------------------

jq -r --argjson np "$NOISY_POINTS" '
	def f(x; d): if x == null then "n/a" else (x * pow(10; d) | round / pow(10; d) | tostring) end;
	def over(x): if x == null or .xdp_ns.bare == null then "n/a" else f(x - .xdp_ns.bare; 0) end;
	def hot(x): if x == null or .xdp_ns.bare == null then "n/a"
		    elif (x - .xdp_ns.bare) <= 30 and x < 67.2 then "ok" else "MISS" end;
	# the table bigger than the caches: its own goal, per round
	def cold(k): (.xdp_over_bare_ns[k] // {}) as $r
		    | if $r.median == null then "n/a"
		      else "\(if $r.median <= $r.goal_max then "ok" else "MISS" end) (<= \($r.goal_max) over bare, per round: \(f($r.median; 0)), \(f($r.min; 0)) to \(f($r.max; 0)))" end;
	def pct(a; b): if a == null or b == null or b == 0 then "n/a" else f(100 * a / b; 1) + "%" end;
	"",
	"protomix bench  kernel \(.detail.kernel)  \(.detail.cpus) CPUs  \(.detail.seconds) s  load average \(.detail.loadavg_start) -> \(.detail.loadavg_end)  steal \(.detail.steal_pct // "n/a")%",
	"",
	"per frame, BPF_PROG_TEST_RUN (median ns)   total  over bare   budget: <= 30 over bare, < 67.2 total",
	( [["bare XDP_PASS", .xdp_ns.bare, false], ["per-CPU counter", .xdp_ns.counter, false],
	   ["observer IPv4 TCP, known dest", .xdp_ns.observer_v4_tcp, true],
	   ["observer IPv6, 2 ext headers", .xdp_ns.observer_v6_ext, true],
	   ["observer QinQ IPv4 ESP", .xdp_ns.observer_qinq_esp, true],
	   ["observer new destination", .xdp_ns.observer_new_dest, false],
	   ["observer rule violation (suppr.)", .xdp_ns.observer_rule_violation, false],
	   ["  new dest into a full map (evicts)", .xdp_ns.observer_new_dest_full_map, false],
	   ["  IPv4 TCP among 131072 known", .xdp_ns.observer_v4_tcp_131k_dests, "observer_v4_tcp_131k_dests"],
	   ["  the same, scattered", .xdp_ns.observer_v4_tcp_131k_scattered, "observer_v4_tcp_131k_scattered"],
	   ["observer IPv4 TCP, --no-decap", .xdp_ns.observer_v4_tcp_nodecap, false],
	   ["observer VXLAN, IPv4 TCP inside", .xdp_ns.observer_vxlan_tcp, false],
	   ["observer GTP-U, IPv4 ESP inside", .xdp_ns.observer_gtpu_esp, false],
	   ["observer MPLS, IPv4 TCP", .xdp_ns.observer_mpls_tcp, false]][] as $r
	  | "  \($r[0] | .[0:36] | . + " " * (36 - length)) \(f($r[1]; 0) | " " * (6 - length) + .)  \(over($r[1]) | " " * (9 - length) + .)   \(if $r[2] == true then hot($r[1]) elif $r[2] then cold($r[2]) else "" end)"),
	( .xdp_decap_over_nodecap_ns // empty | . as $r
	  | "  --decap over --no-decap, IPv4 TCP: \(f($r.median; 0)) ns per round (\(f($r.min; 0)) to \(f($r.max; 0)), \($r.rounds) rounds)   \(
	      if $r.median == null then "" elif $r.median <= $r.goal_max then "ok" else "MISS" end) (goal <= \($r.goal_max) ns)"),
	( (.xdp_tunnel_vs_v4_tcp // {}) | to_entries[] | .key as $k | .value as $r
	  | "  \($k | . + " " * (20 - length)) vs observer_v4_tcp: \(f($r.median; 1))% per round (\(f($r.min; 1))-\(f($r.max; 1)), \($r.rounds) rounds)   \(
	      if $r.median == null then "" elif $r.median <= $r.goal_max then "ok" else "MISS" end) (goal <= \($r.goal_max)%)"),
	"",
	"live frames through a veth (pm_xdp via watch --hook xdp; \(.detail.live.observer_distinct_dests // "?") destinations seen)",
	"  median: bare XDP \(f(.live_mpps.bare; 3)) Mpps   observer \(f(.live_mpps.observer; 3)) Mpps   (one CPU)",
	"  two CPUs at once: bare XDP \(f(.live_mpps.bare_2cpu; 3))   one hot destination \(f(.live_mpps.hot_dest_2cpu; 3))   131072 destinations \(f(.live_mpps.spread_2cpu; 3)) Mpps",
	"",
	"iperf3 through the gateway (Gb/s, median of \(.detail.cpu.iperf_seconds) s runs)   CPU s: process + kernel [sampled] (system-wide busy)",
	( ["none", "protomix", "protomix_xdp", "tcpdump"][] as $c
	  | "  \($c | . + " " * (13 - length)) \(f(.iperf_gbps[$c]; 2) | " " * (6 - length) + .)  \(pct(.iperf_gbps[$c]; .iperf_gbps.none) | " " * (7 - length) + .)      \(f(.detail.cpu.process_s[$c]; 3)) + \(f(.detail.cpu.kernel_s[$c]; 3)) [\(f(.detail.cpu.sampled_s[$c]; 3))] (\(f(.detail.cpu.system_busy_s[$c]; 1)))"),
	"  kernel: protomix = its BPF programs run time (BPF statistics); tcpdump = time in tpacket_rcv (tracing), n/a where the kernel refuses tracing programs",
	"  sampled: perf record -a -g, the samples inside protomix'"'"'s programs or tcpdump'"'"'s tap (tpacket_rcv, packet_rcv, dev_queue_xmit_nit); stands in for tcpdump'"'"'s kernel time where tracing is refused",
	"  system-wide busy CPU s per GB moved: " + ([["none", "protomix", "protomix_xdp", "tcpdump"][] as $c
	  | "\($c) \(if .iperf_gbps[$c] == null or .detail.cpu.system_busy_s[$c] == null then "n/a"
	             else f(.detail.cpu.system_busy_s[$c] / (.iperf_gbps[$c] * .detail.cpu.iperf_seconds / 8); 3) end)"] | join("  ")),
	"  BPF programs per run (one skb, after GRO/TSO) and per TCP segment on the wire: " + ([["protomix", "protomix_xdp"][] as $c
	  | "\($c) \(f(.detail.cpu.bpf_ns_per_run[$c]; 0)) ns a run, \(f(.detail.cpu.bpf_ns_per_segment[$c]; 1)) ns a segment (\(f(.detail.cpu.segments_per_run[$c]; 1)) segments a run)"] | join("; ")),
	"  goals: protomix (tc) >= 95% of none (see the ratios below); less CPU than tcpdump: protomix \(f(.cpu_s.protomix; 3)) s vs tcpdump \(f(.cpu_s.tcpdump; 3)) s",
	"",
	"ratios, A vs B measured in the same round (median of the per-round ratios, min-max; noisy: spread > \($np) points or < 2 rounds)",
	( (.ratios // {}) | to_entries[] | .key as $k | .value as $r
	  | "  \($k | . + " " * (34 - length)) \(f($r.median; 1) | " " * (6 - length) + .)%  (\(f($r.min; 1))-\(f($r.max; 1)), \($r.rounds) rounds)  \(
	      if $r.noisy then "noisy" elif $r.goal == null then "" elif $r.median >= $r.goal then "ok (goal >= \($r.goal)%)"
	      else "MISS (goal >= \($r.goal)%)" end)   load \($r.load_before) -> \($r.load_after), steal \($r.steal_pct // "n/a")%"),
	( (.xdp_over_bare_ns // {}) | to_entries[] | .key as $k | .value as $r
	  | "  \($k + " over bare (ns)" | . + " " * (34 - length)) \(f($r.median; 0) | " " * (6 - length) + .)   (\(f($r.min; 0))-\(f($r.max; 0)), \($r.rounds) rounds)  \(if $r.noisy then "noisy (> \($np) ns)" else "" end)"),
	"",
	"reading the destination table (dests_read + sum, median ms; goal < 1000 at 1M)",
	"  10k \(f(.poll_ms["10000"]; 1))   100k \(f(.poll_ms["100000"]; 1))   1M \(f(.poll_ms["1000000"]; 1))",
	"kernel memory per destination: \(f(.map_bytes_per_dest; 1)) bytes (destination table memlock at \(.detail.map_memlock.dests_max_entries // "?") entries; not per CPU); stats map \(.detail.map_memlock.stats // "?") bytes for \(.detail.map_memlock.cpus // "?") CPUs",
	"replay_fps \(.replay_fps // "null")   top_cpu_pct \(.top_cpu_pct // "null")",
	""' "$OUT" >&2
say "wrote $OUT"
exit 0
