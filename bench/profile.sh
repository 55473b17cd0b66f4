#!/usr/bin/env bash
# bench/profile.sh [--hook tc|xdp] [SECONDS]: where protomix's BPF programs
# spend their time, by line of C, under iperf3 through the lab gateway.
# bench/profile.sh --live [--dests N] [SECONDS]: the same under live frames
# (part 2 of make bench) to N destinations (default 131072) in turn.
#
# Starts the lab of tests/lib/lab.sh (its own namespaces, removed on every
# way out), `protomix watch [--hook xdp] gw-ws`, iperf3 ws -> lb for
# SECONDS (default 8) under `perf record -a -e cpu-clock`; with --live, a
# namespace of its own holding a veth pair gen0/rx0, `protomix watch
# --hook xdp rx0`, and `pmbench live` sending 1.5 million frames per
# SECOND from gen0 (CPU 1) to N destinations in turn. Then it maps every
# sample whose address lies in the watch's programs to the line of source
# its JIT'd code comes from (`pmbench jitlines`: the programs' jited line
# info and BTF, so no disassembler is needed). Prints the lines with the
# most samples, their share of the samples in protomix's programs, and
# that total against all samples. Needs root, perf, iperf3, python3;
# build first (make all bench-build). A figure, not a check: exit 0 when
# it measured, 1 when it could not.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PM=$ROOT/build/protomix PMB=$ROOT/build/bench/pmbench
USAGE="usage: bench/profile.sh [--hook tc|xdp] [SECONDS] | --live [--dests N] [SECONDS]"
hook=() secs=8 live=0 dests=131072
while [ $# -gt 0 ]; do
	case $1 in
	--hook) [ "${2:-}" = xdp ] && hook=(--hook xdp); [ "${2:-}" = tc ] || [ "${2:-}" = xdp ] ||
		{ echo "profile.sh: --hook tc or xdp" >&2; exit 2; }; shift 2 ;;
	--live) live=1; shift ;;
	--dests) case ${2:-} in
		 "" | *[!0-9]*) echo "profile.sh: --dests takes a number of destinations" >&2; exit 2 ;;
		 esac
		 [ "$2" -ge 1 ] && [ "$2" -le 4194304 ] ||
			{ echo "profile.sh: --dests from 1 to 4194304" >&2; exit 2; }
		 dests=$2; shift 2 ;;
	*[!0-9]* | "") echo "$USAGE" >&2; exit 2 ;;
	*) secs=$1; shift ;;
	esac
done
[ "$secs" -ge 1 ] && [ "$secs" -le 600 ] || { echo "profile.sh: SECONDS from 1 to 600" >&2; exit 2; }
[ "$live" = 1 ] && [ ${#hook[@]} -gt 0 ] && { echo "profile.sh: --live is XDP already; no --hook" >&2; exit 2; }
need="perf python3 jq"
[ "$live" = 1 ] || need="$need iperf3"
for c in $need; do
	command -v "$c" >/dev/null || { echo "profile.sh: $c missing" >&2; exit 1; }
done
[ -x "$PM" ] && [ -x "$PMB" ] || { echo "profile.sh: build first (make all bench-build)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/pmprof.XXXXXX)
# shellcheck source=../tests/lib/lab.sh
. "$ROOT/tests/lib/lab.sh"
# shellcheck source=live_pair.sh
. "$ROOT/bench/live_pair.sh"
W="" S="" NS=""
cleanup() { [ -n "$W" ] && kill -INT "$W" 2>/dev/null && wait "$W" 2>/dev/null
	    [ -n "$S" ] && kill "$S" 2>/dev/null
	    [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	    [ "$live" = 1 ] || lab_cleanup; rm -rf "$WORK"; }
if [ "$live" = 1 ]; then
	NS=pmprof-live$$
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	live_pair_up "$NS" || exit 1
	ip netns exec "$NS" "$PM" watch --hook xdp -i 1 rx0 >"$WORK/watch.out" 2>"$WORK/watch.err" </dev/null &
else
	lab_up "pprof$$" || { rm -rf "$WORK"; exit 1; }
	trap cleanup EXIT		# after lab_up, which sets its own
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ip netns exec "$(lab_ns gw)" "$PM" watch "${hook[@]}" -i 1 gw-ws >"$WORK/watch.out" 2>"$WORK/watch.err" </dev/null &
fi
W=$!
wait_for "$WORK/watch.err" '^protomix: watching' 60 ||
	{ echo "profile.sh: the watch did not start: $(head -c 300 "$WORK/watch.err")" >&2; exit 1; }
if [ "$live" = 1 ]; then
	perf record -a -F 2999 -e cpu-clock -q -o "$WORK/perf.data" -- \
		ip netns exec "$NS" "$PMB" live --gen gen0 --rx rx0 --attach none --cpu 1 \
		--rounds 1 --dests "$dests" --frames $((secs * 1500000)) >"$WORK/live.out" 2>"$WORK/live.err" ||
		{ echo "profile.sh: perf record or pmbench live failed: $(tail -n 2 "$WORK/live.err")" >&2; exit 1; }
	what="live frames, $dests destination(s) in turn: $(jq -r '.rounds[0] // "no" | tostring' "$WORK/live.out" 2>/dev/null) Mpps"
else
	ip netns exec "$(lab_ns lb)" iperf3 -s >/dev/null 2>&1 </dev/null &
	S=$!
	sleep 0.5
	perf record -a -F 2999 -e cpu-clock -q -o "$WORK/perf.data" -- \
		ip netns exec "$(lab_ns ws)" iperf3 -c "$LAB_LB4" -t "$secs" >"$WORK/iperf.out" 2>&1 ||
		{ echo "profile.sh: perf record or iperf3 failed: $(tail -n 2 "$WORK/iperf.out")" >&2; exit 1; }
	what="iperf3 ws -> lb for $secs s: $(awk '/receiver/ { print $7, $8 }' "$WORK/iperf.out")"
fi
# the watch's own programs: the ids its descriptors hold
ids=$(awk '/^prog_id:/ { print $2 }' /proc/"$W"/fdinfo/* 2>/dev/null | sort -un)
[ -n "$ids" ] || { echo "profile.sh: no BPF program found in the watch" >&2; exit 1; }
# shellcheck disable=SC2086
"$PMB" jitlines $ids >"$WORK/lines" || exit 1
perf script -i "$WORK/perf.data" -F ip 2>/dev/null >"$WORK/ips"
if [ "$live" = 1 ]; then
	echo "# protomix watch --hook xdp rx0, $what"
else
	echo "# protomix watch ${hook[*]:-(tc)} gw-ws, $what"
fi
# live: the frames sent, for the programs' time per frame
frames=0
[ "$live" = 1 ] && frames=$((secs * 1500000))
python3 - "$WORK/lines" "$WORK/ips" "$frames" <<'PY'
import bisect, collections, sys
lines = []
for l in open(sys.argv[1]):
    a, _, rest = l.rstrip('\n').partition(' ')
    lines.append((int(a, 16), rest))
lines.sort()
addrs = [a for a, _ in lines]
lo, hi = addrs[0], addrs[-1]	# the last function's <end>
count, total, ours = collections.Counter(), 0, 0
for ip in open(sys.argv[2]):
    ip = ip.strip()
    if not ip:
        continue
    total += 1
    v = int(ip, 16)
    if not lo <= v < hi:
        continue
    what = lines[bisect.bisect_right(addrs, v) - 1][1]
    if what == "<end>":	# between two functions: not ours
        continue
    ours += 1
    count[what] += 1
print("# %d of %d samples (%.2f%%) in protomix's programs" % (ours, total, 100.0 * ours / max(total, 1)))
frames = int(sys.argv[3])
if frames:	# a sample stands for 1/2999 s of one CPU
    print("# about %.0f ns of the programs per frame (%d frames)" % (ours / 2999.0 / frames * 1e9, frames))
for what, n in count.most_common(20):
    print("%5d %5.1f%%  %s" % (n, 100.0 * n / max(ours, 1), what[:110]))
PY
