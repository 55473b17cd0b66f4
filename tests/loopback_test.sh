#!/usr/bin/env bash
# A watch on a loopback device counts each packet once: what lo sends
# comes back in through its ingress, so protomix hooks only the ingress of
# a device with IFF_LOOPBACK (the flag, not the name lo) and says so. In a
# fresh network namespace with only lo, N pings of 127.0.0.1 are N echo
# requests and N replies: exactly 2N icmp packets to 127.0.0.1, at tc
# ingress through tcx, as a classic clsact filter (PROTOMIX_TC_CLASSIC=1)
# and at XDP; nothing stays attached afterwards.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root loopback
need_cmds loopback ip tc jq bpftool ping python3
[ -x "$PROTOMIX" ] || { fail loopback "$PROTOMIX not built (run make)"; exit 1; }

# Not the three-namespace lab: one namespace with lo only, named as the
# lab's gateway so pm_start, lab_attached and lab_cleanup work on it.
LAB_PREFIX=pmt-$$-lo
NS=$LAB_PREFIX-gw
LAB_DIR=$(mktemp -d "/tmp/$LAB_PREFIX.XXXXXX")
trap lab_cleanup EXIT
trap 'lab_cleanup; trap - EXIT; exit 130' INT
trap 'lab_cleanup; trap - EXIT; exit 143' TERM
ip netns add "$NS" || { fail netns "cannot add namespace $NS"; exit 1; }
ip -n "$NS" link set lo up

PINGS=7
NOTE="loopback: egress not hooked, each packet counted once"

# pings: exactly $PINGS echo requests to 127.0.0.1; 0 if every reply came
pings() { ip netns exec "$NS" ping -c "$PINGS" -i 0.05 -W 1 -q 127.0.0.1 >/dev/null 2>&1; }
# the destinations of a snapshot, compact
dests() { jq -c '[.destinations[] | {addr, packets}]' "$1" 2>/dev/null || echo "invalid JSON in $1"; }
WANT="[{\"addr\":\"127.0.0.1\",\"packets\":{\"icmp\":$((2 * PINGS))}}]"

# run NAME IFACE HOOKS ATTACHED [WATCH OPTIONS...]: a watch on IFACE, the
# pings, the live and the final snapshot, what was attached, and nothing
# afterwards
run()
{
	local n=$1 ifc=$2 hooks=$3 attached=$4

	shift 4
	pm_start "$n" watch -o "$LAB_DIR/$n.json" "$@" "$ifc"
	if ! pm_wait_attached "$n" "$ifc" 2>/dev/null; then
		fail "${n}_attach" "$(cat "$(pm_errfile "$n")")"
		pm_stop "$n" KILL
		return
	fi
	assert_eq "${n}_says" 1 \
		"$(grep -c "^protomix: watching $ifc ($hooks; $NOTE)\$" "$(pm_errfile "$n")")"
	assert_eq "${n}_attached" "$attached" "$(lab_attached gw "$ifc")"
	assert_eq "${n}_status_hooks" "[\"$hooks\"]" \
		"$(ip netns exec "$NS" "$PROTOMIX" status --json 2>&1 | jq -c '.[0].interfaces[0].hooks' 2>&1)"
	assert_eq "${n}_status_text" 1 \
		"$(ip netns exec "$NS" "$PROTOMIX" status 2>&1 | grep -c "^  interface $ifc  *hooks $hooks\$")"
	pings
	assert_eq "${n}_ping" 0 $?
	sleep 0.2
	ip netns exec "$NS" "$PROTOMIX" snapshot -o "$LAB_DIR/$n-live.json" 2>"$LAB_DIR/$n-live.err"
	assert_eq "${n}_live_snapshot" "$WANT" "$(dests "$LAB_DIR/$n-live.json")"
	pm_stop "$n"
	assert_eq "${n}_exit_status" 0 $?
	assert_eq "${n}_counted_once" "$WANT" "$(dests "$LAB_DIR/$n.json")"
	assert_eq "${n}_frames" "{\"$hooks\":$((2 * PINGS))}" \
		"$(jq -c '.stats.hooks | map_values(.frames)' "$LAB_DIR/$n.json" 2>&1)"
	assert_eq "${n}_snapshot_hooks" "[\"$hooks\"]" \
		"$(jq -c '.interfaces[0].hooks' "$LAB_DIR/$n.json" 2>&1)"
	assert_eq "${n}_detached" "" "$(lab_attached gw "$ifc")"
}

# the default tc hook: tcx from 6.6, a classic filter before (lab_has_tcx)
if lab_has_tcx; then
	TC_LO="tcx_ingress:pm_tc_ingress"
else
	TC_LO="qdisc:clsact tc_clsact/ingress:pm_tc_ingress"
fi
run tcx lo tc_ingress "$TC_LO"
PROTOMIX_TC_CLASSIC=1 run classic lo tc_ingress "qdisc:clsact tc_clsact/ingress:pm_tc_ingress"
run xdp lo xdp "xdp:pm_xdp" --hook xdp

# the flag decides, not the name: lo renamed is still a loopback device
ip -n "$NS" link set lo down
ip -n "$NS" link set lo name loop0
ip -n "$NS" link set loop0 up
run renamed loop0 tc_ingress "$TC_LO"

# nothing left: no hook, no protomix running, no pin, then the namespace
bad=$(lab_attached gw loop0)
for n in "${!PM_PIDS[@]}"; do
	_pm_alive "${PM_PIDS[$n]}" && bad+=" protomix '$n' still running"
done
lab_cleanup
[ -e "/run/netns/$NS" ] && bad+=" namespace $NS left"
p=$(find /sys/fs/bpf/protomix -mindepth 1 2>/dev/null | paste -sd' ')
[ -n "$p" ] && bad+=" pinned: $p"
assert_eq no_leftovers "" "$bad"
