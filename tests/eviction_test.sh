#!/usr/bin/env bash
# A full per-destination map: the coldest destinations are evicted, a
# counter says how many, and the per-class totals stay exact.
# `watch --max-dests 64`, then 200 distinct destinations, 2 frames each.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root eviction
need_cmds eviction ip jq
SENDFRAMES=$PWD/tests/build/sendframes
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail eviction "run make && make tests"; exit 1; }

lab_up "pmt-$$-ev" || { fail lab_up "cannot build the lab"; exit 1; }
GW_MAC=$(lab_mac gw gw-ws)
SNAP=$LAB_DIR/snap.json
N=200 MAX=64

# Frames to 10.98.x.y go nowhere further: no ICMP errors on egress.
lab_exec gw ip route add blackhole 10.98.0.0/16

pm_start ev watch --max-dests "$MAX" -o "$SNAP" gw-ws
pm_wait_attached ev || { fail eviction_attach "$(cat "$(pm_errfile ev)")"; exit 1; }
for ((i = 0; i < N; i++)); do
	lab_exec ws "$SENDFRAMES" ws0 esp4 2 --dst-mac "$GW_MAC" \
		--dst "10.98.$((i / 250)).$((i % 250 + 1))" || fail "send_$i" "sendframes failed"
done
sleep 0.3
pm_stop ev
assert_eq watch_status 0 $?

dests=$(jq '.destinations | length' "$SNAP")
assert_eq stats_dests "$dests" "$(jq .stats.dests "$SNAP")"
if [ "$dests" -le "$MAX" ] && [ "$dests" -gt 0 ]; then
	pass dests_within_map
else
	fail dests_within_map "$dests destinations in a map of $MAX"
fi
assert_eq max_dests "$MAX" "$(jq .stats.max_dests "$SNAP")"
assert_eq new_dests "$N" "$(jq .stats.new_dests "$SNAP")"
assert_eq evicted_dests "$((N - dests))" "$(jq .stats.evicted_dests "$SNAP")"
assert_eq dest_update_fail 0 "$(jq .stats.dest_update_fail "$SNAP")"
# Nothing lost from the totals: every frame is in the per-class counters.
assert_eq esp_packets_total "$((2 * N))" "$(jq .stats.packets.esp "$SNAP")"
assert_eq esp_bytes_total "$((2 * N * 100))" "$(jq .stats.bytes.esp "$SNAP")"
# The survivors are the most recent destinations, each with exact counts.
bad=$(jq -r '.destinations[] | select(.packets.esp != 2 or .bytes.esp != 200) | .addr' "$SNAP")
assert_eq survivors_exact "" "$bad"
last="10.98.$(((N - 1) / 250)).$(((N - 1) % 250 + 1))"
assert_eq newest_kept "$last" "$(jq -r --arg a "$last" '.destinations[] | select(.addr == $a) | .addr' "$SNAP")"
assert_eq oldest_evicted "" "$(jq -r '.destinations[] | select(.addr == "10.98.0.1") | .addr' "$SNAP")"

no_leftovers "pmt-$$-ev"
