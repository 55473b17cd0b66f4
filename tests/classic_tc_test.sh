#!/usr/bin/env bash
# The path of kernels without tcx links (before 6.6), forced here with
# PROTOMIX_TC_CLASSIC=1: tc programs go in as classic clsact filters with
# protomix's handle and priority. They count exactly; a clean exit removes
# them and the clsact qdisc protomix created; a SIGKILL leaves them, and
# the next watch (or `protomix detach`) removes them, and the qdisc too
# when the killed run had created it (handle 0x504e says so) and nothing
# else is on it; a qdisc that was there before is left in place with its
# filters, and so is one protomix created where someone else added a
# filter meanwhile. Bad usage or a refused watch creates no qdisc.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root classic_tc
need_cmds classic_tc ip tc jq bpftool
SENDFRAMES=$PWD/tests/build/sendframes
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail classic_tc "run make && make tests"; exit 1; }

lab_up "pmt-$$-ct" || { fail lab_up "cannot build the lab"; exit 1; }
GW=$(lab_ns gw)
CLASSIC="qdisc:clsact tc_clsact/egress:pm_tc_egress tc_clsact/ingress:pm_tc_ingress"
export PROTOMIX_TC_CLASSIC=1
send() { lab_exec ws "$SENDFRAMES" ws0 esp4 "$1" --dst-mac "$LAB_MAC_GW_WS"; }
esp_of() { jq '[.destinations[] | select(.addr == "10.20.0.80") | .packets.esp] | add // 0' "$1"; }
lab_exec gw ip route add blackhole 10.20.0.80/32

# counts exactly, and a clean exit leaves the interface as it was
pm_start c1 watch -o "$LAB_DIR/c1.json" gw-ws
pm_wait_attached c1 || { fail c1_attach "$(cat "$(pm_errfile c1)")"; exit 1; }
assert_eq classic_attached "$CLASSIC" "$(lab_attached gw gw-ws)"
send 5
sleep 0.2
pm_stop c1
assert_eq classic_exit_status 0 $?
assert_eq classic_counts 5 "$(esp_of "$LAB_DIR/c1.json")"
assert_eq classic_clean_exit "" "$(lab_attached gw gw-ws)"

# the filter's handle: 0x504e where protomix created the qdisc, 0x504d
# where it found one; "ingress egress" handles, e.g. "0x504e 0x504e"
handles()
{
	local d h out=()

	for d in ingress egress; do
		h=$(tc -n "$GW" filter show dev gw-ws "$d" |
		    sed -n 's/.* pref 20557 bpf .*handle \(0x[0-9a-f]*\) .*/\1/p' | paste -sd,)
		out+=("${h:--}")
	done
	echo "${out[*]}"
}
# someone else's filter: u32 at priority 9 on the egress side
FOREIGN="filter protocol all pref 9 u32"
foreign_add() { tc -n "$GW" filter add dev gw-ws egress prio 9 protocol all u32 match u32 0 0; }
foreign() { tc -n "$GW" filter show dev gw-ws egress | grep -c "^$FOREIGN chain 0 fh 800::800"; }
foreign_del() { tc -n "$GW" filter del dev gw-ws egress prio 9; }
# the lines that say what a watch removed at its start
said() { grep -c "$1" "$(pm_errfile "$2")"; }

# SIGKILL leaves the filters and the qdisc protomix created, marked so;
# the next watch removes them and says so, and its exit leaves nothing
pm_start c2 watch gw-ws
pm_wait_attached c2 || { fail c2_attach "$(cat "$(pm_errfile c2)")"; exit 1; }
assert_eq created_marked "0x504e 0x504e" "$(handles)"
pm_stop c2 KILL
assert_eq sigkill_leaves_filters "$CLASSIC" "$(lab_attached gw gw-ws)"
pm_start c3 watch -o "$LAB_DIR/c3.json" gw-ws
pm_wait_attached c3 || { fail c3_attach "$(cat "$(pm_errfile c3)")"; exit 1; }
assert_eq stale_removed_said 2 "$(said 'removed a tc .* filter left by a killed protomix run' c3)"
assert_eq stale_qdisc_removed_said 1 "$(said 'removed the clsact qdisc that run had created' c3)"
assert_eq one_set_of_filters "$CLASSIC" "$(lab_attached gw gw-ws)"
assert_eq recreated_marked "0x504e 0x504e" "$(handles)"
send 3
sleep 0.2
pm_stop c3
assert_eq counted_once 3 "$(esp_of "$LAB_DIR/c3.json")"
assert_eq after_kill_exit_no_qdisc "" "$(lab_attached gw gw-ws)"

# `protomix detach` removes what a killed run left, its qdisc too; not a
# live watch's
pm_start c4 watch gw-ws
pm_wait_attached c4 || { fail c4_attach "$(cat "$(pm_errfile c4)")"; exit 1; }
lab_exec gw "$PROTOMIX" detach gw-ws >/dev/null 2>"$LAB_DIR/d1.err"
assert_eq detach_refuses_live 1 $?
assert_eq live_untouched "$CLASSIC" "$(lab_attached gw gw-ws)"
pm_stop c4 KILL
out=$(lab_exec gw "$PROTOMIX" detach gw-ws)
assert_eq detach_status 0 $?
assert_eq detach_says "gw-ws: removed 2 protomix hooks|gw-ws: removed the clsact qdisc protomix had created" \
	"$(echo "$out" | paste -sd'|')"
assert_eq detach_removes_qdisc "" "$(lab_attached gw gw-ws)"
out=$(lab_exec gw "$PROTOMIX" detach gw-ws)
assert_eq detach_again_nothing "0 " "$? $out"

# a clsact qdisc that was there before, with a filter of its own, is left
# in place with that filter: on a clean exit, and after a SIGKILL (next
# watch, then detach)
tc -n "$GW" qdisc add dev gw-ws clsact
foreign_add
pm_start c5 watch gw-ws
pm_wait_attached c5 || { fail c5_attach "$(cat "$(pm_errfile c5)")"; exit 1; }
assert_eq found_marked "0x504d 0x504d" "$(handles)"
pm_stop c5
assert_eq preexisting_qdisc_kept "qdisc:clsact" "$(lab_attached gw gw-ws)"
assert_eq preexisting_filter_kept 1 "$(foreign)"
pm_start c6 watch gw-ws
pm_wait_attached c6 || { fail c6_attach "$(cat "$(pm_errfile c6)")"; exit 1; }
pm_stop c6 KILL
pm_start c7 watch gw-ws
pm_wait_attached c7 || { fail c7_attach "$(cat "$(pm_errfile c7)")"; exit 1; }
assert_eq preexisting_stale_said "2 0" "$(said 'left by a killed protomix run' c7) $(said 'clsact qdisc' c7)"
pm_stop c7 KILL
out=$(lab_exec gw "$PROTOMIX" detach gw-ws)
assert_eq preexisting_detach_says "gw-ws: removed 2 protomix hooks" "$out"
assert_eq preexisting_kept_after_kill "qdisc:clsact 1" "$(lab_attached gw gw-ws) $(foreign)"
# without the filter, a qdisc protomix did not create still stays
foreign_del
pm_start c8 watch gw-ws
pm_wait_attached c8 || { fail c8_attach "$(cat "$(pm_errfile c8)")"; exit 1; }
pm_stop c8
assert_eq preexisting_empty_kept "qdisc:clsact" "$(lab_attached gw gw-ws)"
tc -n "$GW" qdisc del dev gw-ws clsact

# a qdisc protomix created, where someone else added a filter meanwhile,
# stays with that filter: on a clean exit, and after a SIGKILL
pm_start c9 watch gw-ws
pm_wait_attached c9 || { fail c9_attach "$(cat "$(pm_errfile c9)")"; exit 1; }
foreign_add
pm_stop c9
assert_eq exit_keeps_shared_qdisc "qdisc:clsact 1" "$(lab_attached gw gw-ws) $(foreign)"
foreign_del
tc -n "$GW" qdisc del dev gw-ws clsact
pm_start c10 watch gw-ws
pm_wait_attached c10 || { fail c10_attach "$(cat "$(pm_errfile c10)")"; exit 1; }
pm_stop c10 KILL
foreign_add
pm_start c11 watch gw-ws
pm_wait_attached c11 || { fail c11_attach "$(cat "$(pm_errfile c11)")"; exit 1; }
assert_eq shared_stale_said "2 0" "$(said 'left by a killed protomix run' c11) $(said 'clsact qdisc' c11)"
assert_eq shared_now_found "0x504d 0x504d" "$(handles)"
pm_stop c11
assert_eq kill_keeps_shared_qdisc "qdisc:clsact 1" "$(lab_attached gw gw-ws) $(foreign)"
foreign_del
tc -n "$GW" qdisc del dev gw-ws clsact

# bad usage and a refused watch create no qdisc
for bad in "option:--bogus gw-ws" "twice:gw-ws gw-ws" \
	   "snapshot_dir:-o /nonexistent/s.json gw-ws" "hook:--hook nope gw-ws" \
	   "rule:-e 10.0.0.0/8=nope gw-ws" "unknown_iface:gw-ws nosuchif"; do
	# shellcheck disable=SC2086
	timeout 20 ip netns exec "$GW" "$PROTOMIX" watch ${bad#*:} >/dev/null 2>&1 </dev/null
	rc=$?
	assert_eq "bad_${bad%%:*}_no_qdisc" "2 " "$rc $(lab_attached gw gw-ws)"
done
pm_start c12 watch gw-ws
pm_wait_attached c12 || { fail c12_attach "$(cat "$(pm_errfile c12)")"; exit 1; }
# gw-lb attaches first, then gw-ws is refused: gw-lb is left as it was
timeout 20 ip netns exec "$GW" "$PROTOMIX" watch gw-lb gw-ws >/dev/null \
	2>"$LAB_DIR/refused.err" </dev/null
assert_eq refused_status 1 $?
assert_eq refused_said 1 "$(grep -c 'gw-ws: already watched by another protomix' "$LAB_DIR/refused.err")"
assert_eq refused_other_left_clean "" "$(lab_attached gw gw-lb)"
assert_eq refused_live_untouched "$CLASSIC 0x504e 0x504e" "$(lab_attached gw gw-ws) $(handles)"
pm_stop c12
assert_eq refused_then_exit_clean "" "$(lab_attached gw gw-ws)"

no_leftovers "pmt-$$-ct"
