#!/usr/bin/env bash
# A snapshot of a big table, end to end: a watch with DESTS destinations
# (default 1,000,000) in its table, `protomix snapshot` run ROUNDS times
# against it. Prints, per round, the seconds the client took (to /dev/null
# and to a file), the watch's memory (VmRSS now and VmHWM, its peak) and
# the longest gap between two of its reports (-i 0.5) while the snapshots
# ran; then the medians with PASS/MISS against the issue's targets:
#   snapshot of 1M destinations < 2 s, watch RSS growth < 100 MB, reports
#   on time (no gap over 3 intervals).
# Writes build/bench-snapshot.json. Everything in two network namespaces
# it creates (pmb-PID-s*) and removes on every exit path.
#
#   bench/snapshot_big.sh [DESTS] [ROUNDS]
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PM=$ROOT/build/protomix
MANY=$ROOT/tests/build/manydests
DESTS=${1:-1000000}
ROUNDS=${2:-3}
OUT=$ROOT/build/bench-snapshot.json
P=pmb-$$-s
WORK=$(mktemp -d "/tmp/$P.XXXXXX")
WPID=""

cleanup()
{
	[ -n "$WPID" ] && { kill -KILL "$WPID"; wait "$WPID"; } 2>/dev/null
	ip netns del "$P-tx" 2>/dev/null
	ip netns del "$P-rx" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say() { printf '%s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	say "snapshot_big: needs root"
	exit 0
fi
if [ ! -x "$MANY" ] || [ tests/manydests.c -nt "$MANY" ]; then
	mkdir -p tests/build
	${CC:-cc} -O2 -Wall -Wextra -Werror tests/manydests.c -o "$MANY" || exit 1
fi

ip netns add "$P-tx" && ip netns add "$P-rx" || exit 1
ip -n "$P-tx" link add tx0 type veth peer name rx0 netns "$P-rx"
ip -n "$P-tx" link set tx0 address 02:00:00:00:00:01 up
ip -n "$P-rx" link set rx0 address 02:00:00:00:00:02 up
ip -n "$P-rx" link set lo up

ip netns exec "$P-rx" "$PM" watch --json -i 0.5 --max-dests $((DESTS + DESTS / 4)) rx0 \
	>"$WORK/watch.out" 2>"$WORK/watch.err" </dev/null &
WPID=$!
for ((i = 0; i < 100; i++)); do
	grep -q '^protomix: watching rx0' "$WORK/watch.err" && break
	sleep 0.1
done
grep -q '^protomix: watching rx0' "$WORK/watch.err" || { say "watch: $(cat "$WORK/watch.err")"; exit 1; }

t0=$(date +%s%N)
ip netns exec "$P-tx" "$MANY" tx0 "$DESTS" --dst-mac 02:00:00:00:00:02 --base 10.64.0.0 ||
	{ say "manydests failed"; exit 1; }
say "snapshot_big: $DESTS destinations sent in $((($(date +%s%N) - t0) / 1000000)) ms"
for ((i = 0; i < 100; i++)); do
	n=$(ip netns exec "$P-rx" "$PM" status --json 2>/dev/null | jq '.[0].maps.dests.entries // 0')
	[ "${n:-0}" -ge "$DESTS" ] && break
	sleep 0.2
done
say "snapshot_big: the watch holds ${n:-?} destinations"

rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$WPID/status"; }
rss0=$(rss VmRSS)
hwm0=$(rss VmHWM)
rounds=()
for ((r = 1; r <= ROUNDS; r++)); do
	lines0=$(wc -l <"$WORK/watch.out")
	t0=$(date +%s%N)
	ip netns exec "$P-rx" "$PM" snapshot >/dev/null 2>"$WORK/snap.err" || { say "snapshot: $(cat "$WORK/snap.err")"; exit 1; }
	t1=$(date +%s%N)
	ip netns exec "$P-rx" "$PM" snapshot -o "$WORK/s.json" 2>"$WORK/snap.err" || { say "snapshot -o: $(cat "$WORK/snap.err")"; exit 1; }
	t2=$(date +%s%N)
	sleep 0.6	# the report after the snapshots
	gap=$(tail -n +"$((lines0 + 1))" "$WORK/watch.out" | jq -r 'select(.type == "report") | .interval' |
		sort -g | tail -1)
	got=$(jq '.destinations | length' "$WORK/s.json")
	rounds+=("$(jq -n -c --argjson s "$(((t1 - t0) / 1000000))" --argjson f "$(((t2 - t1) / 1000000))" \
		--argjson rss "$(rss VmRSS)" --argjson hwm "$(rss VmHWM)" --argjson gap "${gap:-null}" \
		--argjson n "$got" --argjson bytes "$(stat -c %s "$WORK/s.json")" \
		'{stdout_ms: $s, file_ms: $f, rss_kb: $rss, hwm_kb: $hwm, max_report_gap_s: $gap, destinations: $n, file_bytes: $bytes}')")
	say "  round $r: ${rounds[-1]}"
	rm -f "$WORK/s.json"
done
printf '%s\n' "${rounds[@]}" | jq -s --argjson rss0 "$rss0" --argjson hwm0 "$hwm0" --argjson dests "$DESTS" '
	def med(f): map(f) | sort | .[length / 2 | floor];
	{ destinations: $dests, rounds: .,
	  stdout_s_median: (med(.stdout_ms) / 1000), file_s_median: (med(.file_ms) / 1000),
	  stdout_s_range: [(map(.stdout_ms) | min / 1000), (map(.stdout_ms) | max / 1000)],
	  watch_rss_before_mb: ($rss0 / 1024), watch_peak_growth_mb: (((map(.hwm_kb) | max) - $hwm0) / 1024),
	  watch_rss_growth_mb: (((map(.rss_kb) | max) - $rss0) / 1024),
	  max_report_gap_s: (map(.max_report_gap_s) | max) }' >"$OUT"
jq -r '"snapshot of \(.destinations) destinations: \(.stdout_s_median) s to stdout (\(.stdout_s_range[0])-\(.stdout_s_range[1])), \(.file_s_median) s to a file   \(if .stdout_s_median < 2 then "PASS" else "MISS" end) (< 2 s)",
	"watch memory: \(.watch_rss_before_mb | floor) MB before, RSS growth \(.watch_rss_growth_mb | floor) MB, peak (VmHWM) growth \(.watch_peak_growth_mb | floor) MB   \(if .watch_peak_growth_mb < 100 then "PASS" else "MISS" end) (< 100 MB)",
	"longest gap between reports at -i 0.5: \(.max_report_gap_s) s   \(if .max_report_gap_s != null and .max_report_gap_s <= 1.5 then "PASS" else "MISS" end) (<= 1.5 s)"' "$OUT" >&2
