#!/usr/bin/env bash
# Lifecycle of `protomix watch` and `protomix detach` in the lab of
# tests/lib/lab.sh: attach, count real traffic exactly, detach on every way
# out (duration, SIGINT, SIGTERM, SIGKILL), leave another program's XDP
# alone, refuse a second watch and bad input, and leave nothing behind.
# Everything runs inside the lab's namespaces (`ip netns exec`).
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root lifecycle
need_cmds lifecycle ip tc jq bpftool ping setpriv python3 stat
if [ ! -x "$PROTOMIX" ]; then
	fail lifecycle "$PROTOMIX not built (run make)"
	exit 1
fi
XDP_OTHER=tests/build/xdp_other.bpf.o

P=pmt-$$-lc
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW=$(lab_ns gw)
# What a watch attaches on this kernel: tcx links from 6.6 on, classic
# clsact filters before (tests/lib/lab.sh).
TCX=$(lab_tc_hooks)
XDPX=$(lab_xdp_hooks)

# --- helpers ---------------------------------------------------------------

attached() { lab_attached gw gw-ws; }

# jqs FILE FILTER: compact jq output, or "invalid JSON"
jqs() { jq -c "$2" "$1" 2>/dev/null || echo "invalid JSON in $1"; }

# ping5 ADDR: exactly 5 echo requests from the workstation; 0 if 5 replies
ping5() { lab_exec ws ping -c 5 -i 0.05 -W 1 -q "$1" >/dev/null 2>&1; }

# lines FILE: number of lines
lines() { wc -l <"$1" | tr -d ' '; }

# run_fg NAME ARGS...: protomix ARGS in the gateway, in the foreground;
# sets RC, and OUT / ERR to the files of its stdout and stderr.
run_fg()
{
	local name=$1

	shift
	OUT=$LAB_DIR/$name.out ERR=$LAB_DIR/$name.err
	timeout 20 ip netns exec "$GW" "$PROTOMIX" "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# counts NAME SNAPSHOT HOOK: the pings' exact counts in a snapshot taken
# at ingress hook HOOK (xdp or tc_ingress) and tc egress.
counts()
{
	local n=$1 s=$2 h=$3

	assert_eq "${n}_requests" '{"icmp":5}' \
		"$(jqs "$s" '.destinations[] | select(.addr == "10.20.0.80") | .packets')"
	assert_eq "${n}_replies" '{"icmp":5}' \
		"$(jqs "$s" '.destinations[] | select(.addr == "10.10.1.10") | .packets')"
	assert_eq "${n}_no_other_dests" '["10.10.1.10","10.20.0.80"]' \
		"$(jqs "$s" '[.destinations[].addr] | sort')"
	assert_eq "${n}_ingress_hook_frames" 5 "$(jqs "$s" ".stats.hooks.$h.frames")"
	assert_eq "${n}_egress_hook_frames" 5 "$(jqs "$s" '.stats.hooks.tc_egress.frames')"
}

# --- watch --duration --------------------------------------------------------

s=$LAB_DIR/duration.json
t0=$(date +%s%N)
run_fg duration watch --duration 2 -o "$s" gw-ws
t1=$(date +%s%N)
assert_eq duration_exit_status 0 "$RC"
assert_eq duration_stderr "protomix: watching gw-ws (tc_ingress,tc_egress)" "$(cat "$ERR")"
# The whole run: at least the 2 s (loading the programs comes on top, and
# takes seconds under emulation); the watching itself, from attached to
# the exit snapshot's read: 2 s and the last poll.
ms=$(((t1 - t0) / 1000000))
win=$(jq -r '[.started_at, .taken_at] | map(sub("Z$"; "") | split(".") |
	(.[0] + "Z" | fromdateiso8601) * 1000 + (.[1] | .[0:3] | tonumber)) |
	.[1] - .[0]' "$s" 2>/dev/null)
if [ "$ms" -ge 2000 ] && [ "${win:-0}" -ge 2000 ] 2>/dev/null && [ "$win" -lt 3500 ]; then
	pass duration_elapsed
else
	fail duration_elapsed "--duration 2 took ${ms} ms, watching ${win:-?} ms"
fi
assert_eq duration_snapshot_schema '"protomix.snapshot/3"' "$(jqs "$s" .schema)"
assert_eq duration_snapshot_mode 600 "$(stat -c %a "$s" 2>&1)"
assert_eq duration_snapshot_iface '[{"name":"gw-ws","hooks":["tc_ingress","tc_egress"]}]' \
	"$(jqs "$s" '[.interfaces[] | {name, hooks}]')"
# Nothing was sent: the lab is quiet and protomix counts nothing it did
# not see (every exact count below relies on this).
assert_eq duration_quiet_lab '{"frames":0,"dests":[]}' \
	"$(jqs "$s" '{frames: .stats.frames, dests: .destinations}')"
assert_eq duration_detached "" "$(attached)"

# --- SIGINT, SIGTERM ---------------------------------------------------------

for sig in INT TERM; do
	n=sig${sig,,}
	s=$LAB_DIR/$n.json
	start "$n" watch -o "$s" gw-ws || continue
	assert_eq "${n}_attached" "$TCX" "$(attached)"
	pm_stop "$n" "$sig"
	assert_eq "${n}_exit_status" 0 "$?"
	assert_eq "${n}_snapshot" '"protomix.snapshot/3" 600' \
		"$(jqs "$s" .schema) $(stat -c %a "$s" 2>&1)"
	assert_eq "${n}_detached" "" "$(attached)"
done

# --- the reader of stdout goes away ------------------------------------------
# The watch must end (SIGPIPE is EPIPE), detach, and exit 0 quietly: a
# reader that has seen enough (`| head`) is a normal way to stop.

n=closed_reader
timeout 10 ip netns exec "$GW" "$PROTOMIX" watch -i 0.2 gw-ws \
	2>"$LAB_DIR/$n.err" </dev/null | head -1 >/dev/null
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 124 ]; then
	fail "${n}_ends" "still running 10 s after its reader left"
else
	pass "${n}_ends"
	assert_eq "${n}_status" 0 "$rc"
	assert_eq "${n}_quiet" "" "$(grep -v '^protomix: watching' "$LAB_DIR/$n.err")"
fi
assert_eq "${n}_detached" "" "$(attached)"

# --- SIGKILL: the links die with the process ---------------------------------

for hook in tc xdp; do
	n=sigkill_$hook
	start "$n" watch --hook "$hook" gw-ws || continue
	if [ "$hook" = xdp ]; then
		want=$XDPX line="protomix: watching gw-ws (xdp,tc_egress)"
	else
		want=$TCX line="protomix: watching gw-ws (tc_ingress,tc_egress)"
	fi
	assert_eq "${n}_attached" "$want" "$(attached)"
	pm_stop "$n" KILL
	assert_eq "${n}_exit_status" 137 "$?"
	s=$LAB_DIR/$n.next.json
	if lab_has_tcx; then
		assert_eq "${n}_detached" "" "$(attached)"
		run_fg "$n.next" watch --hook "$hook" -d 0.5 -o "$s" gw-ws
		assert_eq "${n}_next_watch" "0 $line" "$RC $(cat "$ERR")"
		assert_eq "${n}_next_detached" "" "$(attached)"
		continue
	fi
	# Classic tc filters (before 6.6) outlive the process, XDP (a link)
	# does not; the next watch removes the filters and the clsact qdisc
	# the killed run made, and says so (tests/classic_tc_test.sh).
	if [ "$hook" = xdp ]; then
		left="qdisc:clsact tc_clsact/egress:pm_tc_egress" stale=1
	else
		left=$want stale=2
	fi
	assert_eq "${n}_filters_left" "$left" "$(attached)"
	run_fg "$n.next" watch --hook "$hook" -d 0.5 -o "$s" gw-ws
	assert_eq "${n}_next_watch" "0 $stale 1 $line" \
		"$RC $(grep -c 'removed a tc .* filter left by a killed protomix run' "$ERR") $(grep -c 'removed the clsact qdisc that run had created' "$ERR") $(grep -v -e 'left by a killed' -e 'that run had created' "$ERR")"
	assert_eq "${n}_next_detached" "" "$(attached)"
done

# --- counting real traffic, XDP and the default hook ------------------------

for hook in xdp default; do
	n=traffic_$hook
	s=$LAB_DIR/$n.json
	if [ "$hook" = xdp ]; then
		start "$n" watch --hook xdp -o "$s" gw-ws || continue
		want=$XDPX hooks='["xdp","tc_egress"]' ing=xdp
	else
		start "$n" watch -o "$s" gw-ws || continue
		want=$TCX hooks='["tc_ingress","tc_egress"]' ing=tc_ingress
	fi
	assert_eq "${n}_attached" "$want" "$(attached)"
	ping5 10.20.0.80
	assert_eq "${n}_ping" 0 "$?"
	pm_stop "$n"
	assert_eq "${n}_exit_status" 0 "$?"
	assert_eq "${n}_hooks" "$hooks" "$(jqs "$s" '.interfaces[0].hooks')"
	counts "$n" "$s" "$ing"
	assert_eq "${n}_detached" "" "$(attached)"
done

# --- another program holds XDP -----------------------------------------------

if [ ! -e "$XDP_OTHER" ]; then
	skip foreign_xdp "$XDP_OTHER not built (make tests, with tests/other.mk included)"
elif ! ip -n "$GW" link set dev gw-ws xdp obj "$XDP_OTHER" sec xdp 2>"$LAB_DIR/other.err"; then
	fail foreign_xdp "cannot attach $XDP_OTHER: $(cat "$LAB_DIR/other.err")"
else
	n=foreign_xdp
	id=$(lab_xdp_id gw gw-ws)
	assert_eq "${n}_setup" "xdp:xdp_other" "$(attached)"
	s=$LAB_DIR/$n.json
	if start "$n" watch --hook xdp -o "$s" gw-ws; then
		if grep -qi "XDP.*held.*\b$id\b" "$(pm_errfile "$n")"; then
			pass "${n}_says_held"
		else
			fail "${n}_says_held" "no word on XDP held by program $id: $(cat "$(pm_errfile "$n")")"
		fi
		assert_eq "${n}_attached" "$(lab_words $TCX xdp:xdp_other)" "$(attached)"
		ping5 10.20.0.80
		assert_eq "${n}_ping" 0 "$?"
		pm_stop "$n"
		assert_eq "${n}_exit_status" 0 "$?"
		assert_eq "${n}_hooks" '["tc_ingress","tc_egress"]' \
			"$(jqs "$s" '.interfaces[0].hooks')"
		counts "$n" "$s" tc_ingress
		assert_eq "${n}_kept" "$id xdp:xdp_other" "$(lab_xdp_id gw gw-ws) $(attached)"
	fi
	# detach with no watch running: the foreign program is not ours
	run_fg "$n.detach" detach gw-ws
	assert_eq "${n}_detach_leaves_it" "0||$id" \
		"$RC|$(cat "$OUT" "$ERR")|$(lab_xdp_id gw gw-ws)"
	ip -n "$GW" link set dev gw-ws xdp off
	assert_eq "${n}_removed" "" "$(attached)"
fi

# --- a second watch on the same interface ------------------------------------

n=second_watch
s=$LAB_DIR/$n.json
if start "$n" watch -o "$s" gw-ws; then
	run_fg "$n.2" watch -d 1 gw-ws
	assert_eq "${n}_refused" "1 1" "$RC $(lines "$ERR")"
	if grep -q "gw-ws" "$ERR"; then
		pass "${n}_names_iface"
	else
		fail "${n}_names_iface" "$(cat "$ERR")"
	fi
	assert_eq "${n}_first_still_attached" "$TCX" "$(attached)"
	ping5 10.20.0.80
	assert_eq "${n}_ping" 0 "$?"
	pm_stop "$n"
	assert_eq "${n}_first_exit_status" 0 "$?"
	counts "$n" "$s" tc_ingress
	assert_eq "${n}_detached" "" "$(attached)"
fi

# --- protomix detach ---------------------------------------------------------

run_fg detach_clean detach gw-ws
assert_eq detach_clean "0||" "$RC|$(cat "$OUT")|$(cat "$ERR")"
run_fg detach_all_clean detach
assert_eq detach_all_clean "0||" "$RC|$(cat "$OUT")|$(cat "$ERR")"

n=detach_watched
s=$LAB_DIR/$n.json
if start "$n" watch -o "$s" gw-ws; then
	run_fg "$n.1" detach gw-ws
	assert_eq "${n}_refused" "1 1" "$RC $(lines "$ERR")"
	if grep -q "gw-ws" "$ERR"; then
		pass "${n}_names_iface"
	else
		fail "${n}_names_iface" "$(cat "$ERR")"
	fi
	# without arguments: every interface but the watched ones
	run_fg "$n.all" detach
	assert_eq "${n}_all_skips_it" "0||" "$RC|$(cat "$OUT")|$(cat "$ERR")"
	assert_eq "${n}_still_attached" "$TCX" "$(attached)"
	ping5 10.20.0.80
	assert_eq "${n}_ping" 0 "$?"
	pm_stop "$n"
	assert_eq "${n}_exit_status" 0 "$?"
	counts "$n" "$s" tc_ingress
	assert_eq "${n}_detached" "" "$(attached)"
fi

# --- what a killed run on a kernel without tcx leaves --------------------------
# Classic clsact filters at protomix's handle/prio 0x504d, made here with tc
# from protomix's own object (its first "tc" program, pm_tc_ingress). Next
# to them, a foreign filter in the same slot on egress (tc_other) that
# neither `detach` nor the next watch may touch.

PM_OBJ=build/protomix.bpf.o
stale() { tc -n "$GW" filter add dev gw-ws "$1" handle 0x504d prio 0x504d bpf da obj "$2" sec tc; }
if [ ! -e "$XDP_OTHER" ] || [ ! -e "$PM_OBJ" ]; then
	skip stale_classic "$XDP_OTHER or $PM_OBJ not built"
elif ! { tc -n "$GW" qdisc add dev gw-ws clsact && stale ingress "$PM_OBJ" &&
	 stale egress "$XDP_OTHER"; } 2>"$LAB_DIR/stale.err"; then
	fail stale_classic "cannot make the filters with tc: $(cat "$LAB_DIR/stale.err")"
else
	n=stale_classic
	foreign="qdisc:clsact tc_clsact/egress:tc_other"
	assert_eq "${n}_setup" "$foreign tc_clsact/ingress:pm_tc_ingress" "$(attached)"
	run_fg "$n.detach" detach gw-ws
	assert_eq "${n}_detach" "0|gw-ws: removed 1 protomix hook|" \
		"$RC|$(cat "$OUT")|$(cat "$ERR")"
	assert_eq "${n}_detach_leaves_foreign" "$foreign" "$(attached)"
	stale ingress "$PM_OBJ" 2>/dev/null
	s=$LAB_DIR/$n.json
	if ! lab_has_tcx; then
		# Before 6.6 the watch's own egress filter goes in that slot:
		# it removes the stale one of ours, then refuses, naming the
		# interface and the hook, and leaves the foreign filter alone
		# and nothing of its own.
		run_fg "$n.watch" watch -d 1 -o "$s" gw-ws
		assert_eq "${n}_watch_refused" "1 removed-stale names-egress" \
			"$RC $(grep -q 'removed a tc ingress filter left by a killed' "$ERR" && echo removed-stale) $(tail -n 1 "$ERR" | grep -q 'gw-ws.*tc egress' && echo names-egress)"
		assert_eq "${n}_watch_leaves_foreign" "$foreign" "$(attached)"
	elif start "$n" watch -o "$s" gw-ws; then
		if grep -q "removed a tc ingress filter" "$(pm_errfile "$n")"; then
			pass "${n}_watch_removes_it"
		else
			fail "${n}_watch_removes_it" "$(cat "$(pm_errfile "$n")")"
		fi
		assert_eq "${n}_watch_attached" "$(lab_words $foreign $TCX)" "$(attached)"
		ping5 10.20.0.80
		assert_eq "${n}_ping" 0 "$?"
		pm_stop "$n"
		assert_eq "${n}_exit_status" 0 "$?"
		counts "$n" "$s" tc_ingress
		assert_eq "${n}_leaves_foreign" "$foreign" "$(attached)"
	fi
	tc -n "$GW" qdisc del dev gw-ws clsact
	assert_eq "${n}_removed" "" "$(attached)"
fi

# --- bad input -----------------------------------------------------------------

# refused NAME RC WORD ARGS...: protomix ARGS exits RC with one line on
# stderr that contains WORD, and leaves nothing attached.
refused()
{
	local name=$1 rc=$2 word=$3 named=no

	shift 3
	run_fg "$name" "$@"
	grep -qiF -- "$word" "$ERR" && named=yes
	assert_eq "$name" "rc=$rc lines=1 names '$word'=yes attached=" \
		"rc=$RC lines=$(lines "$ERR") names '$word'=$named attached=$(attached)"
}

refused bad_unknown_iface 2 nosuch0 watch nosuch0
refused bad_unknown_iface_of_two 2 nosuch0 watch gw-ws nosuch0
refused bad_no_iface 2 interface watch
refused bad_no_iface_with_options 2 interface watch -d 1 -o "$LAB_DIR/x.json"
refused bad_interval_zero 2 interval watch -i 0 gw-ws
refused bad_interval_word 2 interval watch --interval abc gw-ws
refused bad_interval_negative 2 interval watch --interval -1 gw-ws
refused bad_duration 2 duration watch --duration 1x gw-ws
refused bad_max_dests_zero 2 max-dests watch --max-dests 0 gw-ws
refused bad_max_dests_word 2 max-dests watch --max-dests many gw-ws
refused bad_max_dests_huge 2 max-dests watch --max-dests 99999999999999999999 gw-ws
refused bad_hook 2 hook watch --hook tcx gw-ws
refused bad_option 2 --frobnicate watch --frobnicate gw-ws
refused bad_snapshot_path 2 /nonexistent/dir/x.json watch -d 1 -o /nonexistent/dir/x.json gw-ws
refused bad_detach_iface 2 nosuch0 detach nosuch0
refused bad_command 2 frobnicate frobnicate

# Not root: as nobody, in the gateway namespace.
if ! ip netns exec "$GW" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	test -x "$PROTOMIX" 2>/dev/null; then
	skip not_root "user nobody cannot execute $PROTOMIX here"
else
	n=not_root
	OUT=$LAB_DIR/$n.out ERR=$LAB_DIR/$n.err
	timeout 20 ip netns exec "$GW" setpriv --reuid=nobody --regid=nogroup \
		--clear-groups "$PROTOMIX" watch -d 1 gw-ws >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	named=no
	grep -qi permission "$ERR" && named=yes
	assert_eq "$n" "rc=1 lines=1 names 'permission'=yes attached=" \
		"rc=$RC lines=$(lines "$ERR") names 'permission'=$named attached=$(attached)"
fi

# --- nothing left ------------------------------------------------------------

no_leftovers "$P"
