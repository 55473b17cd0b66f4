#!/usr/bin/env bash
# --aggregate V4LEN[,V6LEN]: counted per prefix in the kernel; snapshot
# addresses read like 10.20.0.0/24; rules, alerts and one-way pairs keep
# working (alerts carry the packet's own addresses).
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root aggregate
need_cmds aggregate ip jq
SENDFRAMES=$PWD/tests/build/sendframes
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail aggregate "run make && make tests"; exit 1; }

lab_up "pmt-$$-ag" || { fail lab_up "cannot build the lab"; exit 1; }
GW_MAC=$(lab_mac gw gw-ws)
SNAP=$LAB_DIR/snap.json
send() { lab_exec ws "$SENDFRAMES" ws0 "$1" "$2" --dst-mac "$GW_MAC" --dst "$3" || fail "send_$1" "sendframes failed"; }
lab_exec gw ip route add blackhole 10.21.0.0/16
lab_exec gw ip -6 route add blackhole 2001:db8:21::/48

pm_start ag watch --json --aggregate 24,64 -e 10.21.1.0/24=tcp -o "$SNAP" gw-ws
pm_wait_attached ag || { fail aggregate_attach "$(cat "$(pm_errfile ag)")"; exit 1; }
send tcp4 3 10.21.0.80
send tcp4 4 10.21.0.81
send esp4 5 10.21.0.200
send tcp4 6 10.21.1.7
send esp4 2 10.21.1.9		# breaks 10.21.1.0/24=tcp
send tcp6 7 2001:db8:21::80
send tcp6 8 2001:db8:21::1:2
send esp6 9 2001:db8:21:0:ffff::1
send tcp6 1 2001:db8:21:1::5
sleep 0.3
pm_stop ag
assert_eq watch_status 0 $?

d() { jq -c --arg a "$1" '.destinations[] | select(.addr == $a) | .packets' "$SNAP"; }
assert_eq v4_prefix_0 '{"tcp":7,"esp":5}' "$(d 10.21.0.0/24)"
assert_eq v4_prefix_1 '{"tcp":6,"esp":2}' "$(d 10.21.1.0/24)"
assert_eq v6_prefix_0 '{"tcp":15,"esp":9}' "$(d 2001:db8:21::/64)"
assert_eq v6_prefix_1 '{"tcp":1}' "$(d 2001:db8:21:1::/64)"
assert_eq no_single_addresses "" \
	"$(jq -r '.destinations[] | select(.addr | test("/") | not) | .addr' "$SNAP" | grep -E '^10\.21\.|^2001:db8:21:' )"
assert_eq rule_expected '["tcp"]' \
	"$(jq -c '.destinations[] | select(.addr == "10.21.1.0/24") | .expected' "$SNAP")"
assert_eq rule_violations 2 \
	"$(jq '.destinations[] | select(.addr == "10.21.1.0/24") | .violations' "$SNAP")"
assert_eq alert_own_address '10.21.1.9' \
	"$(jq -r 'select(.type == "alert" and .kind == "unexpected_protocol") | .dst' "$(pm_out ag)" | sort -u)"
# learned per prefix too: 10.21.0.0/24 and 2001:db8:21::/64 had tcp, then esp
assert_eq shift_per_prefix '10.21.0.200 2001:db8:21:0:ffff::1' \
	"$(jq -r 'select(.type == "alert" and .kind == "protocol_shift") | .dst' "$(pm_out ag)" | sort -u | paste -sd' ')"

# a baseline can be such a snapshot
pm_start ag2 watch --aggregate 24,64 --baseline "$SNAP" -d 0.5 gw-ws
pm_wait ag2
assert_eq baseline_from_aggregated 0 $?
no_leftovers "pmt-$$-ag"
