#!/usr/bin/env bash
# The path of kernels without tcx links (before 6.6), forced here with
# PROTOMIX_TC_CLASSIC=1: tc programs go in as classic clsact filters with
# protomix's handle and priority. They count exactly; a clean exit removes
# them and the clsact qdisc protomix created; a SIGKILL leaves them, and
# the next watch (or `protomix detach`) removes them; a qdisc that was
# there before is left in place.
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

# SIGKILL leaves the filters; the next watch removes them and says so
pm_start c2 watch gw-ws
pm_wait_attached c2 || { fail c2_attach "$(cat "$(pm_errfile c2)")"; exit 1; }
pm_stop c2 KILL
assert_eq sigkill_leaves_filters "$CLASSIC" "$(lab_attached gw gw-ws)"
pm_start c3 watch -o "$LAB_DIR/c3.json" gw-ws
pm_wait_attached c3 || { fail c3_attach "$(cat "$(pm_errfile c3)")"; exit 1; }
assert_eq stale_removed_said 2 "$(grep -c 'removed a tc .* filter left by a killed protomix run' "$(pm_errfile c3)")"
assert_eq one_set_of_filters "$CLASSIC" "$(lab_attached gw gw-ws)"
send 3
sleep 0.2
pm_stop c3
assert_eq counted_once 3 "$(esp_of "$LAB_DIR/c3.json")"

# `protomix detach` removes what a killed run left; not a live watch's
pm_start c4 watch gw-ws
pm_wait_attached c4 || { fail c4_attach "$(cat "$(pm_errfile c4)")"; exit 1; }
lab_exec gw "$PROTOMIX" detach gw-ws >/dev/null 2>"$LAB_DIR/d1.err"
assert_eq detach_refuses_live 1 $?
assert_eq live_untouched "$CLASSIC" "$(lab_attached gw gw-ws)"
pm_stop c4 KILL
out=$(lab_exec gw "$PROTOMIX" detach gw-ws)
assert_eq detach_status 0 $?
assert_eq detach_says "gw-ws: removed 2 protomix hooks" "$out"
# the clsact qdisc of a killed run stays: protomix cannot know it made it
assert_eq detach_leaves_qdisc "qdisc:clsact" "$(lab_attached gw gw-ws)"

# a clsact qdisc that was there before is left in place
pm_start c5 watch gw-ws
pm_wait_attached c5 || { fail c5_attach "$(cat "$(pm_errfile c5)")"; exit 1; }
pm_stop c5
assert_eq preexisting_qdisc_kept "qdisc:clsact" "$(lab_attached gw gw-ws)"
tc -n "$GW" qdisc del dev gw-ws clsact

no_leftovers "pmt-$$-ct"
