#!/usr/bin/env bash
# A gateway's interfaces come and go: watch keeps counting across down and
# up (the links stay), and when its interface is removed and created again
# it attaches to the new one, without losing the counts so far.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root reattach
need_cmds reattach ip jq
SENDFRAMES=$PWD/tests/build/sendframes
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail reattach "run make && make tests"; exit 1; }

lab_up "pmt-$$-ra" || { fail lab_up "cannot build the lab"; exit 1; }
WS=$(lab_ns ws) GW=$(lab_ns gw)
SNAP=$LAB_DIR/snap.json
send() { lab_exec ws "$SENDFRAMES" ws0 "$1" "$2" --dst-mac "$LAB_MAC_GW_WS" || fail "send_$1_$2" "sendframes failed"; }
esp_count() { lab_exec gw "$PROTOMIX" snapshot | jq '[.destinations[] | select(.addr == "10.20.0.80") | .packets.esp] | add // 0'; }
# wait_err PATTERN: until protomix's stderr says it (5 s at most)
wait_err()
{
	for ((i = 0; i < 100; i++)); do
		grep -q -- "$1" "$(pm_errfile ra)" && return 0
		sleep 0.05
	done
	return 1
}

pm_start ra watch -o "$SNAP" gw-ws
pm_wait_attached ra || { fail reattach_attach "$(cat "$(pm_errfile ra)")"; exit 1; }
send esp4 3
assert_eq counted_first 3 "$(esp_count)"

# down and up: nothing to do, the links stay
ip -n "$GW" link set gw-ws down
ip -n "$GW" link set gw-ws up
ip -n "$WS" link set ws0 up
sleep 0.2
send esp4 4
assert_eq counted_after_down_up 7 "$(esp_count)"

# removed: both ends of the veth go
ip -n "$WS" link del ws0
if wait_err "gw-ws was removed"; then pass removed_said; else fail removed_said "$(cat "$(pm_errfile ra)")"; fi
assert_eq still_running 1 "$(lab_exec gw "$PROTOMIX" status --json | jq length)"

# created again, with a new ifindex
ip -n "$WS" link add ws0 address "$LAB_MAC_WS0" type veth peer name gw-ws \
	address "$LAB_MAC_GW_WS" netns "$GW"
ip -n "$GW" link set gw-ws up
ip -n "$WS" link set ws0 up
if wait_err "watching gw-ws (tc_ingress,tc_egress) again"; then
	pass reattached_said
else
	fail reattached_said "$(cat "$(pm_errfile ra)")"
fi
sleep 0.2
send esp4 5
assert_eq counted_after_recreate 12 "$(esp_count)"
# tcx links from 6.6 on, classic clsact filters before
assert_eq attached_to_new "$(lab_tc_hooks)" "$(lab_attached gw gw-ws)"

pm_stop ra
assert_eq watch_status 0 $?
assert_eq snapshot_esp 12 "$(jq '.destinations[] | select(.addr == "10.20.0.80") | .packets.esp' "$SNAP")"
assert_eq snapshot_ifindex "$(ip -n "$GW" -j link show gw-ws | jq '.[0].ifindex')" \
	"$(jq '.interfaces[0].ifindex' "$SNAP")"
assert_eq detached_at_exit "" "$(lab_attached gw gw-ws)"
no_leftovers "pmt-$$-ra"
