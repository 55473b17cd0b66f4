#!/usr/bin/env bash
# Exact counts end to end, in the lab of tests/lib/lab.sh, for each ingress
# hook (tc, the default, and xdp):
#
#  1. Crafted frames. Every case of `sendframes --list` (TCP, UDP, ICMP,
#     SCTP, ESP, ESP in UDP, IKE, AH, GRE, IPIP, IPv6 with extension
#     headers, VLAN and QinQ tags, fragments, malformed and non-IP frames)
#     goes out of ws0 to the gateway's gw-ws, case number i to its own
#     destination (10.99.0.i+1, or 2001:db8:99::i+1 in hex) and
#     3 + i times. The snapshot of `protomix watch --hook H` on gw-ws must
#     hold, exactly: per destination, count packets and count * bytes of
#     the case's class and no other class; per reason, the sum of the
#     counts of its cases; and the hook's frames, vlan_frames and per-class
#     totals. A tunnel case's inner packet (--decap, the default) counts
#     under its own destination (the case's, fixed: 198.51.100.1,
#     10.97.0.80, ...; shared by several cases), exactly the sum of its
#     cases' counts and bytes in its class; the destinations' sums are
#     the classes' totals plus those inner packets.
#  2. Real TCP: an iperf3 transfer from ws to lb (10.20.0.80) through the
#     gateway. The workstation's own counters say how many TCP segments
#     went on the wire (Tcp OutSegs + RetransSegs), and ws0's device
#     counters in how many frames (tx_packets, one per GSO packet: veth
#     counts what it is handed) and with how many bytes (tx_bytes, a GSO
#     packet with its headers once);
#     the snapshot must agree exactly. (Not Ip OutTransmits: 6.1's
#     /proc/net/snmp has no such counter, it came in 6.3.)
#
# The gateway has blackhole routes for 10.99.0.0/16 and 2001:db8:99::/64:
# the crafted frames die there without an ICMP error, so gw-ws sends
# nothing back and its tc egress hook stays at zero (checked), which
# makes the totals of the snapshot those of the ingress hook.
#
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh),
# names like tc/esp4_packets.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root counts
need_cmds counts ip jq ss awk
if [ ! -x "$PROTOMIX" ]; then
	fail counts "$PROTOMIX not built (run make)"
	exit 1
fi
SENDFRAMES=$LAB_ROOT/tests/build/sendframes
if [ ! -x "$SENDFRAMES" ]; then
	fail counts "$SENDFRAMES not built (run make tests)"
	exit 1
fi

# The protocol classes (docs/classes.md); any other outcome is a reason.
CLASSES=" tcp udp icmp icmp6 sctp esp ah esp_udp ike gre ipip ipv6_encap other wireguard vxlan geneve gtp_u "
# The reasons of well-formed frames with no IP to count: keys of their own
# in the stats (the others are under "malformed").
UNSEEN=" non_ip macsec mpls_other pppoe_other "

# The cases whose frames carry a VLAN tag the parser reads (frames.c's
# .vlans > 0): they count in vlan_frames. Not vlan_trunc: its only tag
# is cut short, so no tag is read (and at tc it never arrives, below).
declare -A VLAN_CASES=([esp4_vlan]=1 [esp4_qinq]=1 [tcp6_vlan]=1
		       [qinq_trunc]=1 [vlan_depth3]=1 [vlan_mpls_esp4]=1
		       [qinq_mpls8_tcp6]=1 [vlan_pppoe_esp4]=1 [qinq_pppoe_tcp6]=1
		       [vlan_mpls_trunc]=1 [vlan_macsec]=1 [vlan_vxlan_esp4]=1)
# vlan_trunc: see above; the others carry their tags inside a tunnel,
# which vlan_frames does not count.
NOT_VLAN_CASES=" vlan_trunc vxlan_vlan_tcp4 vxlan_qinq_esp4 gre_teb_vlan_tcp4 vxlan_vlan3 vxlan_cut_vlan "

# Cases that cannot reach a hook although they can be sent, and why.
# At tc ingress: __netif_receive_skb_core() moves a frame's outer VLAN tag
# into the skb (skb_vlan_untag) before tc runs, and drops the frame when
# the tag and the ethertype after it are not all there
# (pskb_may_pull(VLAN_HLEN + 2) fails): vlan_trunc (2 bytes of its tag)
# never reaches tc. qinq_trunc does: its outer tag is whole, so the kernel
# strips it and tc sees the inner one cut short (vlan_trunc, with the
# outer tag in vlan_tci). XDP runs before all that and sees both.
# (eth_trunc, 10 bytes, cannot be sent at all: AF_PACKET sends nothing
# shorter than an Ethernet header, and sendframes says so; such a case
# counts 0 at every hook, found out when sending.)
# shellcheck disable=SC2034	# read through a nameref in frames_run
declare -A UNREACHABLE_tc=([vlan_trunc]="dropped by the kernel before tc (skb_vlan_untag)")
# shellcheck disable=SC2034
declare -A UNREACHABLE_xdp=()

P=pmt-$$-cn
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW_MAC=$(lab_mac gw gw-ws)
if ! { lab_exec gw ip route add blackhole 10.99.0.0/16 &&
       lab_exec gw ip -6 route add blackhole 2001:db8:99::/64; } 2>"$LAB_DIR/routes.err"; then
	fail blackhole_routes "$(cat "$LAB_DIR/routes.err")"
	no_leftovers "$P"
	exit 1
fi

# --- the cases ---------------------------------------------------------------

NAMES=() OUTS=() BYTES=() FAMS=() CNTS=() ADDRS=() IOUTS=() IBYTES=() IDSTS=()
while IFS=$'\t' read -r name out bytes fam iout ibytes idst; do
	i=${#NAMES[@]}
	NAMES+=("$name") OUTS+=("$out") BYTES+=("$bytes") FAMS+=("$fam")
	IOUTS+=("$iout") IBYTES+=("$ibytes") IDSTS+=("$idst")
	CNTS+=($((3 + i)))
	case $fam in
	4) ADDRS+=("10.99.$((i / 250)).$((i % 250 + 1))") ;;
	6) ADDRS+=("2001:db8:99::$(printf %x $((i + 1)))") ;;
	*) ADDRS+=("") ;;
	esac
done < <("$SENDFRAMES" --list)
NCASES=${#NAMES[@]}
if [ "$NCASES" -lt 10 ]; then
	fail cases "sendframes --list gave $NCASES cases"
	no_leftovers "$P"
	exit 1
fi

# Every case that looks tagged is in one of the two lists above.
bad=()
for name in "${NAMES[@]}"; do
	case $name in *vlan* | *qinq*)
		[ -n "${VLAN_CASES[$name]:-}" ] || [[ $NOT_VLAN_CASES == *" $name "* ]] ||
			bad+=("$name") ;;
	esac
done
if [ ${#bad[@]} -eq 0 ]; then
	pass vlan_case_table
else
	fail vlan_case_table "cases not in VLAN_CASES nor NOT_VLAN_CASES: ${bad[*]}"
fi

is_class() { [[ $CLASSES == *" $1 "* ]]; }

# --- helpers ---------------------------------------------------------------

# jqs FILE FILTER [jq options]: compact, sorted jq output, or "invalid JSON"
jqs() { local f=$1 q=$2; shift 2; jq -S -c "$@" "$q" "$f" 2>/dev/null || echo "invalid JSON in $f"; }

# start NAME CHECK ARGS...: pm_start NAME ARGS and wait for the attach;
# FAIL CHECK if it does not.
start()
{
	local name=$1 check=$2

	shift 2
	pm_start "$name" "$@"
	pm_wait_attached "$name" gw-ws 2>/dev/null && return 0
	fail "$check" "protomix $*: $(cat "$(pm_errfile "$name")")"
	pm_stop "$name" KILL
	return 1
}

# wait_counted NAME JQ_FILTER N: wait (5 s at most) until the latest JSON
# report of watch NAME says FILTER >= N: the frames sent are counted, the
# watch can be stopped. The assertions tell if it never got there.
wait_counted()
{
	local out v i

	out=$(pm_out "$1")
	for ((i = 0; i < 100; i++)); do
		v=$(tail -n 1 "$out" | jq "$2 // 0" 2>/dev/null)
		[ -n "$v" ] && [ "$v" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

# jobj CLASS=N...: a sorted compact JSON object of the nonzero values
jobj()
{
	local kv

	for kv in "$@"; do
		[ "${kv#*=}" != 0 ] && printf '%s\t%s\n' "${kv%%=*}" "${kv#*=}"
	done | jq -R -s -S -c 'split("\n") | map(select(length > 0) | split("\t") |
		{(.[0]): (.[1] | tonumber)}) | add // {}'
}

# ws_counters: "OutSegs RetransSegs TxFrames TxBytes": the TCP segments
# of the workstation's namespace (IPv4; ws sends only IPv4 TCP meanwhile)
# and what ws0 was handed, frames and bytes with their Ethernet headers.
ws_counters()
{
	local tx

	tx=$(lab_exec ws ip -s -j link show ws0 | jq -r '.[0].stats64.tx | "\(.packets) \(.bytes)"')
	# shellcheck disable=SC2016	# awk's $1, not the shell's
	lab_exec ws awk -v tx="$tx" '
		/^Tcp:/ {
			if (!($1 in hdr)) { hdr[$1] = 1; for (i = 2; i <= NF; i++) col[$1, i] = $i }
			else for (i = 2; i <= NF; i++) v[$1 col[$1, i]] = $i
		}
		END { print v["Tcp:OutSegs"] + 0, v["Tcp:RetransSegs"] + 0, tx }' \
		/proc/net/snmp
}

# --- crafted frames ----------------------------------------------------------

# frames_run HOOK: send every case through `watch --hook HOOK`, check the
# snapshot.
frames_run()
{
	local h=$1 ih n s i name out cnt seen total=0 vlan=0 rc msg p b only
	local iout key
	local -a SEEN=()
	local -A EXP_P=() EXP_B=() EXP_R=() dests=() checked=()
	local -A IN_P=() IN_B=() IN_CLS_P=() IN_CLS_B=()
	local -n unreach=UNREACHABLE_$h

	[ "$h" = xdp ] && ih=xdp || ih=tc_ingress
	n=$h-frames
	s=$LAB_DIR/$n.json
	start "$n" "$h/attach" watch --hook "$h" --json -i 0.1 -o "$s" gw-ws || return

	for ((i = 0; i < NCASES; i++)); do
		name=${NAMES[$i]} out=${OUTS[$i]} cnt=${CNTS[$i]}
		lab_exec ws "$SENDFRAMES" ws0 "$name" "$cnt" --dst-mac "$GW_MAC" \
			${ADDRS[$i]:+--dst "${ADDRS[$i]}"} 2>"$LAB_DIR/send.err"
		rc=$?
		msg=$(cat "$LAB_DIR/send.err")
		if [ "$rc" -eq 1 ] && [[ $msg == *"AF_PACKET will not send it"* ]]; then
			seen=0		# eth_trunc: see above
		elif [ "$rc" -ne 0 ]; then
			fail "$h/${name}_send" "sendframes $name $cnt: status $rc: $msg"
			seen=0
		elif [ -n "${unreach[$name]:-}" ]; then
			seen=0
		else
			seen=$cnt
		fi
		SEEN[i]=$seen
		total=$((total + seen))
		[ -n "${VLAN_CASES[$name]:-}" ] && vlan=$((vlan + seen))
		if is_class "$out"; then
			EXP_P[$out]=$((${EXP_P[$out]:-0} + seen))
			EXP_B[$out]=$((${EXP_B[$out]:-0} + seen * ${BYTES[$i]}))
			[ "$seen" -gt 0 ] && dests[${ADDRS[$i]}]=1
		else
			EXP_R[$out]=$((${EXP_R[$out]:-0} + seen))
		fi
		iout=${IOUTS[$i]}
		if [ "$iout" != - ] && is_class "$iout" && [ "$seen" -gt 0 ]; then
			key="${IDSTS[$i]} $iout"
			IN_P[$key]=$((${IN_P[$key]:-0} + seen))
			IN_B[$key]=$((${IN_B[$key]:-0} + seen * ${IBYTES[$i]}))
			IN_CLS_P[$iout]=$((${IN_CLS_P[$iout]:-0} + seen))
			IN_CLS_B[$iout]=$((${IN_CLS_B[$iout]:-0} + seen * ${IBYTES[$i]}))
			dests[${IDSTS[$i]}]=1
		fi
	done
	wait_counted "$n" ".stats.hooks.$ih.frames" "$total"
	pm_stop "$n"
	assert_eq "$h/exit_status" 0 "$?"
	assert_eq "$h/detached" "" "$(lab_attached gw gw-ws)"

	# Per destination: exactly the case's class, count and bytes.
	for ((i = 0; i < NCASES; i++)); do
		name=${NAMES[$i]} out=${OUTS[$i]} seen=${SEEN[$i]}
		is_class "$out" || continue
		read -r p b only < <(jq -r --arg a "${ADDRS[$i]}" --arg c "$out" '
			[.destinations[] | select(.addr == $a)] as $d |
			"\($d[0].packets[$c] // 0) \($d[0].bytes[$c] // 0) " +
			"\($d | length):\(($d[0].packets // {}) | keys | join(",")):" +
			"\(($d[0].bytes // {}) | keys | join(","))"' "$s" 2>/dev/null ||
			echo "invalid JSON")
		assert_eq "$h/${name}_packets" "$seen" "$p"
		assert_eq "$h/${name}_bytes" "$((seen * BYTES[i]))" "$b"
		if [ "$seen" -gt 0 ]; then
			assert_eq "$h/${name}_only" "1:$out:$out" "$only"
		else
			assert_eq "$h/${name}_only" "0::" "$only"
		fi
	done
	# Per inner destination: the sum of its cases, per class.
	local -A INNER_DSTS=()
	for key in "${!IN_P[@]}"; do INNER_DSTS[${key% *}]=1; done
	for a in "${!INNER_DSTS[@]}"; do
		local kv_ip=() kv_ib=()
		for key in "${!IN_P[@]}"; do
			[ "${key% *}" = "$a" ] || continue
			kv_ip+=("${key#* }=${IN_P[$key]}") kv_ib+=("${key#* }=${IN_B[$key]}")
		done
		assert_eq "$h/inner_${a}_packets" "$(jobj "${kv_ip[@]}")" \
			"$(jqs "$s" "[.destinations[] | select(.addr == \"$a\")][0].packets")"
		assert_eq "$h/inner_${a}_bytes" "$(jobj "${kv_ib[@]}")" \
			"$(jqs "$s" "[.destinations[] | select(.addr == \"$a\")][0].bytes")"
	done
	assert_eq "$h/no_other_dests" \
		"$(printf '%s\n' "${!dests[@]}" | jq -R -s -S -c 'split("\n") | map(select(length > 0)) | sort')" \
		"$(jqs "$s" '[.destinations[].addr] | sort')"

	# Per reason: the sum of the counts of its cases.
	for out in $UNSEEN; do
		assert_eq "$h/$out" "${EXP_R[$out]:-0}" "$(jqs "$s" ".stats.hooks.$ih.$out")"
	done
	for out in $(jq -r ".stats.hooks.$ih.malformed // {} | keys[]" "$s" 2>/dev/null) \
		   "${!EXP_R[@]}"; do
		[[ $UNSEEN == *" $out "* ]] && continue
		[ -n "${checked[$out]:-}" ] && continue
		checked[$out]=1
		assert_eq "$h/malformed_$out" "${EXP_R[$out]:-0}" \
			"$(jqs "$s" ".stats.hooks.$ih.malformed.$out")"
	done

	# The hook's totals.
	assert_eq "$h/frames" "$total" "$(jqs "$s" ".stats.hooks.$ih.frames")"
	assert_eq "$h/vlan_frames" "$vlan" "$(jqs "$s" ".stats.hooks.$ih.vlan_frames")"
	assert_eq "$h/gso_frames" 0 "$(jqs "$s" ".stats.hooks.$ih.gso_frames")"
	local kv_p=() kv_b=() c
	for c in $CLASSES; do
		kv_p+=("$c=${EXP_P[$c]:-0}") kv_b+=("$c=${EXP_B[$c]:-0}")
	done
	assert_eq "$h/class_packets" "$(jobj "${kv_p[@]}")" "$(jqs "$s" ".stats.hooks.$ih.packets")"
	assert_eq "$h/class_bytes" "$(jobj "${kv_b[@]}")" "$(jqs "$s" ".stats.hooks.$ih.bytes")"
	# ... and with the inner packets, the per-destination sums; every
	# frame is in exactly one class or one reason.
	local kv_dp=() kv_db=()
	for c in $CLASSES; do
		kv_dp+=("$c=$((${EXP_P[$c]:-0} + ${IN_CLS_P[$c]:-0}))")
		kv_db+=("$c=$((${EXP_B[$c]:-0} + ${IN_CLS_B[$c]:-0}))")
	done
	assert_eq "$h/dest_packet_sums" "$(jobj "${kv_dp[@]}")" \
		"$(jqs "$s" "[.destinations[].packets | to_entries[]] | group_by(.key) |
			map({(.[0].key): (map(.value) | add)}) | add // {}")"
	assert_eq "$h/dest_byte_sums" "$(jobj "${kv_db[@]}")" \
		"$(jqs "$s" "[.destinations[].bytes | to_entries[]] | group_by(.key) |
			map({(.[0].key): (map(.value) | add)}) | add // {}")"
	assert_eq "$h/frames_add_up" "$total" \
		"$(jqs "$s" ".stats.hooks.$ih | ([.packets[]] | add // 0) + .non_ip +
			.macsec + .mpls_other + .pppoe_other + ([.malformed[]] | add // 0)")"

	# Nothing went back out of gw-ws, so the snapshot's totals are the
	# ingress hook's (stats.malformed, stats.non_ip, ...).
	assert_eq "$h/hooks" "[\"$ih\"]" "$(jqs "$s" '.stats.hooks | keys')"
	assert_eq "$h/totals_are_ingress" \
		"$(jqs "$s" ".stats.hooks.$ih")" \
		"$(jqs "$s" ".stats | {frames, packets, bytes, non_ip, macsec, mpls_other,
			pppoe_other, malformed, vlan_frames, gso_frames, inner_packets,
			inner_reason}")"
}

# --- real TCP ----------------------------------------------------------------

# tcp_run HOOK: an iperf3 transfer from ws to lb through `watch --hook HOOK`.
tcp_run()
{
	local h=$1 ih n s srv i rc o0 r0 t0 b0 o1 r1 t1 b1 segs skbs octets hdr

	if ! command -v iperf3 >/dev/null 2>&1; then
		skip "$h/iperf3" "missing iperf3 (apt-get install iperf3)"
		return
	fi
	[ "$h" = xdp ] && ih=xdp || ih=tc_ingress
	n=$h-tcp
	s=$LAB_DIR/$n.json
	srv=$h-iperf3-server
	lab_bg "$srv" lb iperf3 -s -1 -B "$LAB_LB4" -p 5201
	for ((i = 0; i < 100; i++)); do
		[ -n "$(lab_exec lb ss -ltnH 'sport = :5201')" ] && break
		sleep 0.05
	done
	start "$n" "$h/iperf3_attach" watch --hook "$h" --json -i 0.1 -o "$s" gw-ws || {
		lab_bg_stop "$srv"
		return
	}

	read -r o0 r0 t0 b0 < <(ws_counters)
	timeout 30 ip netns exec "$(lab_ns ws)" iperf3 -c "$LAB_LB4" -p 5201 -n 20M \
		>"$LAB_DIR/$n.client" 2>&1 </dev/null
	rc=$?
	assert_eq "$h/iperf3_client" 0 "$rc"
	# The last segments of the workstation: its final ACK goes out as
	# the socket enters TIME-WAIT. Wait for that, then for protomix to
	# have seen it.
	for ((i = 0; i < 100; i++)); do
		[ -z "$(lab_exec ws ss -tanH state all exclude time-wait)" ] && break
		sleep 0.02
	done
	read -r o1 r1 t1 b1 < <(ws_counters)
	# skbs: the frames ws0 was handed, GSO packets whole; octets: their IP
	# bytes, a GSO packet's headers once. veth counts a frame with its
	# Ethernet header, but one that goes to the peer's XDP (NAPI) path
	# after that header was pulled: without it.
	segs=$((o1 - o0 + r1 - r0)) skbs=$((t1 - t0)) octets=$((b1 - b0))
	[ "$h" = xdp ] || octets=$((octets - 14 * skbs))
	wait_counted "$n" ".stats.hooks.$ih.packets.tcp" "$segs"
	pm_stop "$n"
	assert_eq "$h/iperf3_watch_exit_status" 0 "$?"
	lab_bg_stop "$srv"
	assert_eq "$h/iperf3_server" 0 "$?"

	# Each segment the workstation put on the wire (retransmissions
	# included) is one tcp packet for 10.20.0.80, and nothing else is.
	assert_eq "$h/iperf3_packets" "$segs" \
		"$(jqs "$s" '.destinations[] | select(.addr == "10.20.0.80") | .packets.tcp')"
	assert_eq "$h/iperf3_only" '["tcp"]' \
		"$(jqs "$s" '[.destinations[] | select(.addr == "10.20.0.80") | .packets | keys[]]')"
	# Bytes on the wire: ws0's tx_bytes has a GSO packet's IP and TCP
	# headers once, the wire has them once per segment. The segments that share
	# a GSO packet are data segments, with a 52-byte header (IP 20, TCP
	# 20, timestamps 12: both namespaces' tcp_timestamps is 1, the
	# default, and no SACK blocks go from the sender).
	hdr=52
	[ "$(lab_exec ws cat /proc/sys/net/ipv4/tcp_timestamps)" = 1 ] || hdr=40
	assert_eq "$h/iperf3_bytes" "$((octets + hdr * (segs - skbs)))" \
		"$(jqs "$s" '.destinations[] | select(.addr == "10.20.0.80") | .bytes.tcp')"
	if [ "$h" = tc ]; then
		# At tc the veth hands gw-ws each packet ws0 sent, GSO packets
		# whole (veth has TSO): one frame per IP packet, and GSO
		# packets among them counted by gso_segs.
		assert_eq "$h/iperf3_frames" "$skbs" "$(jqs "$s" ".stats.hooks.$ih.frames")"
		local gso
		gso=$(jqs "$s" ".stats.hooks.$ih.gso_frames")
		if [ "$gso" -gt 0 ] 2>/dev/null && [ "$skbs" -lt "$segs" ]; then
			pass "$h/iperf3_gso_frames"
		else
			fail "$h/iperf3_gso_frames" "gso_frames $gso: no GSO packet seen ($segs segments in $skbs IP packets)"
		fi
	else
		# veth turns GSO off on its peer (ws0) while an XDP program
		# without frags support is attached, so ws segments TCP in
		# software before ws0: XDP sees every wire packet as a frame of
		# its own, and none stands for more than one.
		assert_eq "$h/iperf3_frames" "$segs" "$(jqs "$s" ".stats.hooks.$ih.frames")"
		assert_eq "$h/iperf3_gso_frames" 0 "$(jqs "$s" ".stats.hooks.$ih.gso_frames")"
	fi
}

for hook in tc xdp; do
	frames_run "$hook"
	tcp_run "$hook"
done

no_leftovers "$P"
