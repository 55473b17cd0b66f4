#!/usr/bin/env bash
# bench/watch_load.sh [--dests N] [--rounds R] PROTOMIX...: the CPU a watch
# itself takes (its process, userspace and system) while live frames move
# N destinations (default 131072), for one protomix binary or several
# compared round by round (A B A B ...: two builds of the project, say).
#
# Per binary and round, in a namespace of its own (removed on every way
# out) holding a veth pair gen0/rx0: `PROTOMIX watch --hook xdp -i 1 rx0`,
# one pass of `pmbench live` over the N destinations to fill its table,
# then 12 million frames from gen0 (CPU 1) to them in turn while the
# watch's CPU time is read from /proc/PID/stat before and after. Prints
# each round's figure, milliseconds of CPU per second, then per binary
# the median and min-max over the rounds and, for the second binary on,
# the median and min-max of its per-round ratio to the first. A figure,
# not a check: exit 0 when it measured, 1 when it could not, 2 on bad
# arguments. Needs root; build first (make all bench-build).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PMB=$ROOT/build/bench/pmbench
USAGE="usage: bench/watch_load.sh [--dests N] [--rounds R] PROTOMIX..."
dests=131072 rounds=5 bins=()
num() { case $2 in "" | *[!0-9]*) echo "watch_load.sh: $1 takes a number" >&2; exit 2 ;; esac; }
while [ $# -gt 0 ]; do
	case $1 in
	--dests) num --dests "${2:-}"; dests=$2; shift 2
		 [ "$dests" -ge 1 ] && [ "$dests" -le 4194304 ] ||
			{ echo "watch_load.sh: --dests from 1 to 4194304" >&2; exit 2; } ;;
	--rounds) num --rounds "${2:-}"; rounds=$2; shift 2
		  [ "$rounds" -ge 1 ] && [ "$rounds" -le 99 ] ||
			{ echo "watch_load.sh: --rounds from 1 to 99" >&2; exit 2; } ;;
	-*) echo "$USAGE" >&2; exit 2 ;;
	*) [ -x "$1" ] || { echo "watch_load.sh: $1 is not an executable" >&2; exit 2; }
	   bins+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"); shift ;;
	esac
done
[ ${#bins[@]} -ge 1 ] || { echo "$USAGE" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "watch_load.sh: needs root" >&2; exit 1; }
[ -x "$PMB" ] || { echo "watch_load.sh: build first (make all bench-build)" >&2; exit 1; }
command -v jq >/dev/null || { echo "watch_load.sh: jq missing" >&2; exit 1; }

NS=pmload$$ WORK=$(mktemp -d /tmp/pmload.XXXXXX) W=""
cleanup() { [ -n "$W" ] && kill -INT "$W" 2>/dev/null && wait "$W" 2>/dev/null
	    ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# shellcheck source=../tests/lib/lab.sh
. "$ROOT/tests/lib/lab.sh"
# shellcheck source=live_pair.sh
. "$ROOT/bench/live_pair.sh"
live_pair_up "$NS" || exit 1
tck=$(getconf CLK_TCK)

# one_run BINARY: the watch's ms of CPU per second of the measured frames
one_run()
{
	local c0 c1 t0 t1

	: >"$WORK/watch.err"
	ip netns exec "$NS" "$1" watch --hook xdp -i 1 rx0 >/dev/null 2>"$WORK/watch.err" </dev/null &
	W=$!
	wait_for "$WORK/watch.err" '^protomix: watching' 60 ||
		{ echo "watch_load.sh: the watch did not start: $(head -c 300 "$WORK/watch.err")" >&2; return 1; }
	ip netns exec "$NS" "$PMB" live --gen gen0 --rx rx0 --attach none --cpu 1 --rounds 1 \
		--dests "$dests" --frames "$dests" >/dev/null 2>&1
	sleep 1.2	# a report over the filled table
	t0=$(date +%s%N); c0=$(awk '{ print $14 + $15 }' "/proc/$W/stat")
	ip netns exec "$NS" "$PMB" live --gen gen0 --rx rx0 --attach none --cpu 1 --rounds 1 \
		--dests "$dests" --frames 12000000 >/dev/null 2>&1
	c1=$(awk '{ print $14 + $15 }' "/proc/$W/stat"); t1=$(date +%s%N)
	kill -INT "$W"; wait "$W" 2>/dev/null; W=""
	awk -v c="$((c1 - c0))" -v t="$((t1 - t0))" -v hz="$tck" \
		'BEGIN { printf "%.1f\n", c / hz * 1e3 / (t / 1e9) }'
}

for ((r = 1; r <= rounds; r++)); do
	line="round $r:"
	for ((b = 0; b < ${#bins[@]}; b++)); do
		v=$(one_run "${bins[b]}") || exit 1
		echo "$r $b $v" >>"$WORK/figures"
		line="$line  ${bins[b]} $v ms/s"
	done
	echo "$line"
done
echo "# the watch's CPU, ms per second, $dests destinations moving (median, min-max over $rounds rounds)"
for ((b = 0; b < ${#bins[@]}; b++)); do
	jq -R -s -r --argjson b "$b" --arg name "${bins[b]}" '
		def med: sort | if length % 2 == 1 then .[(length - 1) / 2]
			 else (.[length / 2 - 1] + .[length / 2]) / 2 end;
		[split("\n")[] | select(. != "") | split(" ") | map(tonumber)] as $f |
		[$f[] | select(.[1] == $b) | .[2]] as $v |
		[$f[] | select(.[1] == 0) | .[2]] as $base |
		"\($name): \($v | med) (\($v | min)-\($v | max))" +
		(if $b == 0 then "" else
		 ([range($v | length)] | map(100 * $v[.] / $base[.] | round)) as $q |
		 ", \($q | med)% of the first (\($q | min)-\($q | max))" end)
	' "$WORK/figures"
done
