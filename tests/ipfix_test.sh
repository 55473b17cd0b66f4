#!/usr/bin/env bash
# watch --ipfix: IPFIX (RFC 7011) export to real collectors inside the lab.
#  - bad values: one line naming --ipfix / --ipfix-domain, exit 2;
#  - UDP to nfdump's nfcapd: `nfdump -r` shows the destinations,
#    protocols and exact packet and byte totals of the snapshot of the same
#    run (tcp4, esp4, esp_udp, IPv6), then the same under --aggregate;
#    the exporting interface (input/output): gw-ws's ifindex for a watch
#    of gw-ws alone (tc ingress and egress), 0 for one of gw-ws and gw-lb
#    (the destination table does not split counts by interface);
#  - TCP to a plain listener that writes the stream to a file (an IPFIX
#    file): ipfixDump with packaging/protomix-ipfix.xml decodes the
#    enterprise elements and the alert records (kind, SPI, sequence, the
#    evidence line the watch printed), and the interfaces: mix records
#    gw-ws's ifindex as ingressInterface and egressInterface, alert
#    records (frames that came in on gw-ws) as ingressInterface only;
#  - tunnels (tests/lib/tunnel_frames.py, --decap): records of the classes
#    vxlan, gtp_u (protocol 17) and gre for the outer destinations, and of
#    the inner destinations' own classes, with exact packet totals;
#  - a TCP collector killed and started again: the watch counts on, says
#    so once, reconnects (templates first, in a transport session of its
#    own: the first message's sequence number is 0 again), and the records
#    the collectors got plus ipfix_dropped_records are exactly the records
#    of the reports.
# tests/ipfix_transport_test.sh checks the template refresh on UDP and a
# TCP collector that does not read.
# Collectors listen on 127.0.0.1 inside the gateway's namespace.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

ELEMENTS=$PWD/packaging/protomix-ipfix.xml

# --- options (no root needed) ----------------------------------------------
bad() {	# NAME EXPECTED-IN-MESSAGE ARGS...
	local name=$1 want=$2 out rc
	shift 2
	out=$("$PROTOMIX" watch "$@" lo 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
	   [[ $out == "protomix: "*"$want"* ]]; then
		pass "$name"
	else
		fail "$name" "exit $rc, said: $out"
	fi
}
bad opt_no_port "invalid --ipfix '127.0.0.1'" --ipfix 127.0.0.1
bad opt_port_zero "invalid --ipfix '127.0.0.1:0'" --ipfix 127.0.0.1:0
bad opt_port_big "invalid --ipfix '127.0.0.1:65536'" --ipfix 127.0.0.1:65536
bad opt_transport "invalid --ipfix '127.0.0.1:4739/sctp': the transport is /udp or /tcp" --ipfix 127.0.0.1:4739/sctp
bad opt_v6_brackets "invalid --ipfix '::1:4739'" --ipfix ::1:4739
bad opt_host "invalid --ipfix 'no-such-host.invalid:4739': cannot resolve" --ipfix no-such-host.invalid:4739
bad opt_three "invalid --ipfix '127.0.0.1:3': at most 2 collectors" \
	--ipfix 127.0.0.1:1 --ipfix '[::1]:2/tcp' --ipfix 127.0.0.1:3
bad opt_domain "invalid --ipfix-domain '4294967296'" --ipfix 127.0.0.1:4739 --ipfix-domain 4294967296
bad opt_domain_alone "--ipfix-domain needs --ipfix" --ipfix-domain 7
bad opt_tmpl_zero "invalid --ipfix-template-interval '0': whole seconds from 1 to 86400" \
	--ipfix 127.0.0.1:4739 --ipfix-template-interval 0
bad opt_tmpl_big "invalid --ipfix-template-interval '86401'" --ipfix 127.0.0.1:4739 --ipfix-template-interval 86401
bad opt_tmpl_fraction "invalid --ipfix-template-interval '0.5'" --ipfix 127.0.0.1:4739 --ipfix-template-interval 0.5
bad opt_tmpl_alone "--ipfix-template-interval needs --ipfix" --ipfix-template-interval 30

skip_unless_root ipfix
need_cmds ipfix ip jq nfcapd nfdump ipfixDump || exit 0
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail ipfix "run make && make tests"; exit 1; }

lab_up "pmt-$$-ipfix" || { fail lab_up "cannot build the lab"; exit 1; }
# no answer from these: exactly the frames sent, nothing back
lab_exec gw ip route add blackhole 10.21.0.0/16
lab_exec gw ip -6 route add blackhole 2001:db8:21::/48

# a TCP collector: the stream into a file (the IPFIX file format)
tcp_collector() {	# NAME PORT FILE
	lab_bg "$1" gw "$LAB_PYTHON" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
s.settimeout(60)
c, _ = s.accept()
with open(sys.argv[2], "wb") as f:
    while True:
        d = c.recv(65536)
        if not d:
            break
        f.write(d)
        f.flush()
' "$2" "$3"
}
# what the destinations of the snapshot received, per IP protocol (the
# class's): "ADDR PROTO PACKETS BYTES", sorted; a prefix without its length
snap_by_proto() {	# SNAPSHOT ADDR-REGEX
	jq -r --arg re "$2" '
	  def proto: {"tcp":6,"udp":17,"esp_udp":17,"ike":17,"esp":50,"ah":51,
	               "icmp":1,"icmp6":58,"gre":47}[.];
	  [.destinations[] | select(.addr | test($re)) | . as $d
	   | .packets | keys[] | {a: ($d.addr | sub("/.*"; "")), p: proto,
	                          n: $d.packets[.], b: $d.bytes[.]}]
	  | group_by([.a, .p])[] | "\(.[0].a) \(.[0].p) \(map(.n) | add) \(map(.b) | add)"' "$1" | sort
}
# The same from what nfcapd stored (-N: protocols as numbers). The alert
# records have addresses too: nfdump shows them as flows of 0 packets.
nf_by_proto() {	# DIR ADDR-REGEX
	nfdump -q -N -R "$1" -A dstip,proto -o "fmt:%da %pr %pkt %byt" 2>/dev/null |
		awk '$3 > 0 {print $1, $2, $3, $4}' | grep -E "^($2)" | sort
}

# --- UDP to nfcapd: per address, then per prefix ----------------------------
run_udp() {	# TAG WATCH-OPTIONS...
	local tag=$1 dir=$LAB_DIR/nf-$1
	shift
	mkdir -p "$dir"
	lab_nfcapd "nf$tag" 9995 "$dir" || { fail "${tag}_nfcapd" "nfcapd does not listen"; return 1; }
	start "u$tag" watch --json -o "$LAB_DIR/u$tag.json" --ipfix 127.0.0.1:9995/udp \
		--ipfix-domain 77 "$@" gw-ws || return 1
	send_ws tcp4 7 --dst 10.21.0.80
	send_ws esp4 5 --dst 10.21.0.80
	send_ws esp_udp4 4 --dst 10.21.0.81
	send_ws tcp6 3 --dst 2001:db8:21::80
	send_ws esp6 2 --dst 2001:db8:21::1:5
	sleep 1.3
	send_ws tcp4 11 --dst 10.21.0.80	# a second interval
	sleep 0.3
	stop "u$tag"
	lab_bg_stop "nf$tag"	# writes its file
	# input and output interface of the records with packets
	nfdump -q -N -R "$dir" -o "fmt:%pkt %in %out" 2>/dev/null |
		awk '$1 > 0 {print $2, $3}' | sort -u >"$LAB_DIR/ifaces-$tag"
	# the destinations of this run only (the blackholed prefixes)
	local re='10\.21\.|2001:db8:21:'
	local want got
	want=$(snap_by_proto "$LAB_DIR/u$tag.json" "$re")
	got=$(nf_by_proto "$dir" "$re")
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		pass "${tag}_nfdump_totals"
	else
		fail "${tag}_nfdump_totals" "snapshot: $want; nfdump: $got"
	fi
}
WS_IFINDEX=$(ip -n "$(lab_ns gw)" -j link show gw-ws | jq '.[0].ifindex')
run_udp udp
assert_eq udp_nfdump_interfaces "$WS_IFINDEX $WS_IFINDEX" "$(cat "$LAB_DIR/ifaces-udp")"
# by hand, what the lab sent (sendframes' frames: tcp4 72 bytes of IP
# packet, esp4 100, ...): the snapshot above is the reference, this pins it
assert_eq udp_snapshot_tcp4 "10.21.0.80 6 18 1296" \
	"$(snap_by_proto "$LAB_DIR/uudp.json" '10\.21\.0\.80' | grep ' 6 ')"
run_udp agg --aggregate 24,64 gw-lb	# and gw-ws: two interfaces
assert_eq agg_two_ifaces_interfaces "0 0" "$(cat "$LAB_DIR/ifaces-agg")"
assert_eq agg_prefixes "10.21.0.0 2001:db8:21:: " \
	"$(nf_by_proto "$LAB_DIR/nf-agg" '10\.21\.|2001:db8:21:' | awk '{print $1}' | sort -u | tr '\n' ' ')"
assert_eq agg_prefix_lengths "24 64 " \
	"$(nfdump -q -N -R "$LAB_DIR/nf-agg" -o "fmt:%dmk" 2>/dev/null | awk '$1 > 0 {print $1}' | sort -un | tr '\n' ' ')"

# --- TCP to a file: the enterprise elements and the alerts -------------------
tcp_collector tc 4740 "$LAB_DIR/tcp.ipfix"
wait_listen t 4740 || fail tcp_listener "the listener does not listen"
start t watch --json --top 100 -o "$LAB_DIR/t.json" --ipfix 127.0.0.1:4740/tcp \
	-e 10.21.1.0/24=tcp gw-ws || exit 1
send_ws tcp4 6 --dst 10.21.0.90
sleep 1.2
send_ws esp4 3 --dst 10.21.0.90	# protocol_shift
send_ws udp4 2 --dst 10.21.1.9	# unexpected_protocol
sleep 1.3
stop t
lab_bg_stop tc
DUMP=$LAB_DIR/tcp.dump
ipfixDump -e "$ELEMENTS" -i "$LAB_DIR/tcp.ipfix" >"$DUMP" 2>"$DUMP.err"
assert_eq tcp_dump_clean "" "$(grep -E 'WARN|Missing|alien' "$DUMP.err" "$DUMP")"
# the values of an element in the dump (or in what comes on stdin)
fieldin() { grep -E "^\s+\([0-9/]+\)\s+$1 :" | sed -E 's/^[^:]*: (\(len: [0-9]+\) )?//'; }
field() { fieldin "$1" <"$DUMP"; }
assert_eq tcp_alert_kinds "protocol_shift unexpected_protocol " \
	"$(field protomixAlertKind | sort -u | tr '\n' ' ')"
assert_eq tcp_alert_spi "$((0xd7ca145d))" "$(field IPSecSPI | sort -u)"
want_seq=$(jq -r 'select(.type == "alert" and .kind == "protocol_shift") | .seq' "$(pm_out t)" | sort -u)
assert_eq tcp_alert_seq "$((0x3de0a5))" "$(field protomixIpsecSequenceNumber | sort -u)"
assert_eq tcp_alert_seq_is_the_watchs "$((0x3de0a5))" "$(( want_seq ))"
assert_eq tcp_alert_evidence \
	"IP 10.10.1.10 > 10.21.0.90: ESP(spi=0xd7ca145d,seq=0x3de0a5), length 80" \
	"$(field protomixEvidence | grep ESP | sort -u)"
assert_eq tcp_alert_interface "gw-ws" "$(field interfaceName | sort -u)"
# per kind of record (the first element of each: flowStartMilliseconds
# or observationTimeMilliseconds), the interface elements' values
assert_eq tcp_interfaces \
	"alert egressInterface 0|alert ingressInterface $WS_IFINDEX|mix egressInterface $WS_IFINDEX|mix ingressInterface $WS_IFINDEX" \
	"$(awk '/^[[:space:]]+\([0-9\/]+\)[[:space:]]+flowStartMilliseconds :/ { t = "mix" }
		/^[[:space:]]+\([0-9\/]+\)[[:space:]]+observationTimeMilliseconds :/ { t = "alert" }
		/^[[:space:]]+\([0-9\/]+\)[[:space:]]+(ingress|egress)Interface :/ { print t, $2, $NF }' "$DUMP" |
		sort -u | paste -sd'|')"
assert_eq tcp_alert_expected "tcp" \
	"$(grep -A3 'protomixAlertKind : (len: 19) unexpected_protocol' "$DUMP" | fieldin protomixExpectedClasses | sort -u)"
assert_eq tcp_expected_of_rule "tcp" \
	"$(grep -B8 -A12 'destinationIPv4Address : 10.21.1.9' "$DUMP" | sed -n 's/.*protomixExpectedClasses : (len: [0-9]*) //p' | sort -u | head -1)"
assert_eq tcp_class_names "esp tcp udp " "$(field protomixClassName | sort -u | tr '\n' ' ')"
sum() { local t=0 v; while read -r v; do t=$((t + v)); done; echo "$t"; }
assert_eq tcp_violations "$(jq '[.destinations[].violations] | add' "$LAB_DIR/t.json")" \
	"$(field protomixViolationDeltaCount | sum)"
# the default observation domain: FNV-1a of the host name
h=2166136261 name=$(lab_exec gw hostname)
for ((i = 0; i < ${#name}; i++)); do
	printf -v c '%d' "'${name:i:1}"
	h=$(( ((h ^ c) * 16777619) & 0xffffffff ))
done
assert_eq tcp_domain_default "observation domain id: $h" \
	"$(grep -o 'observation domain id: [0-9]*' "$DUMP" | sort -u)"

# --- tunnels (--decap): the new classes and the inner destinations ------------
# tests/lib/tunnel_frames.py's 15 frames: VXLAN (9), GTP-U (3) and GRE (1)
# to their outer destinations, TCP and ESP inside them to 10.20.0.80 and
# 10.30.0.5, TCP to 10.20.0.81
lab_exec gw ip route add blackhole 192.0.2.0/24
lab_exec gw ip route add blackhole 10.30.0.0/24
lab_exec gw ip route add blackhole 10.20.0.81/32
tcp_collector tu 4743 "$LAB_DIR/tun.ipfix"
wait_listen t 4743 || fail tun_listener "the listener does not listen"
start tun watch --json -o "$LAB_DIR/tun.json" --ipfix 127.0.0.1:4743/tcp gw-ws || exit 1
lab_exec ws "$LAB_PYTHON" "$LAB_ROOT/tests/lib/tunnel_frames.py" send ws0 \
	"$LAB_MAC_GW_WS" "$LAB_MAC_WS0" || fail tun_send "tunnel_frames.py send failed"
sleep 1.3
stop tun
lab_bg_stop tu
ipfixDump -e "$ELEMENTS" -i "$LAB_DIR/tun.ipfix" >"$LAB_DIR/tun.dump" 2>"$LAB_DIR/tun.err"
assert_eq tun_dump_clean "" "$(grep -E 'WARN|Missing|alien' "$LAB_DIR/tun.err" "$LAB_DIR/tun.dump")"
# per mix record: destination, class, protocol, packets; summed per
# destination and class
assert_eq tun_records "10.20.0.80 esp 50 3|10.20.0.80 tcp 6 6|10.20.0.81 tcp 6 2|10.30.0.5 tcp 6 2|192.0.2.2 vxlan 17 9|192.0.2.4 gtp_u 17 3|192.0.2.6 gre 47 1" \
	"$(awk '/^[[:space:]]+\([0-9\/]+\)[[:space:]]+packetDeltaCount :/ { p = $NF }
		/^[[:space:]]+\([0-9\/]+\)[[:space:]]+protomixClassName :/ { c = $NF }
		/^[[:space:]]+\([0-9\/]+\)[[:space:]]+destinationIPv4Address :/ { a = $NF }
		/^[[:space:]]+\([0-9\/]+\)[[:space:]]+protocolIdentifier :/ { if (p != "") n[a " " c " " $NF] += p; p = "" }
		/^[[:space:]]+\([0-9\/]+\)[[:space:]]+observationTimeMilliseconds :/ { p = "" }
		END { for (k in n) print k, n[k] }' "$LAB_DIR/tun.dump" | sort -V | paste -sd'|')"

# --- a TCP collector killed and started again ---------------------------------
tcp_collector k1 4741 "$LAB_DIR/k1.ipfix"
wait_listen t 4741 || fail kill_listener "the listener does not listen"
start k watch --json --top 100 -o "$LAB_DIR/k.json" --ipfix 127.0.0.1:4741/tcp gw-ws || exit 1
send_ws tcp4 4 --dst 10.21.2.1
sleep 1.5
lab_bg_stop k1 KILL			# the collector dies
sleep 1.2
send_ws tcp4 5 --dst 10.21.2.2		# counted, not delivered
sleep 1.5
tcp_collector k2 4741 "$LAB_DIR/k2.ipfix"	# back
wait_listen t 4741 || fail kill_listener2 "the listener does not listen"
for ((i = 0; i < 100; i++)); do		# reconnected (backoff: 1, 2, 4 s)
	grep -q "4741/tcp: connected again" "$(pm_errfile k)" && break
	sleep 0.1
done
send_ws tcp4 6 --dst 10.21.2.3
sleep 1.5
STATUS=$(lab_exec gw "$PROTOMIX" status --json)
stop k
lab_bg_stop k2
records() { ipfixDump -e "$ELEMENTS" -i "$1" 2>/dev/null | sed -n 's/.* \([0-9]*\) Data Records.*/\1/p' | tail -1; }
r1=$(records "$LAB_DIR/k1.ipfix") r2=$(records "$LAB_DIR/k2.ipfix")
made=$(jq -s '[.[] | select(.type == "report") | .top[] | .packets | length] | add' "$(pm_out k)")
dropped=$(jq '[.. | objects | .ipfix_dropped_records? // empty] | first' <<<"$STATUS")
assert_eq kill_said_once 1 "$(grep -c '4741/tcp: connection closed' "$(pm_errfile k)")"
assert_eq kill_reconnected 1 "$(grep -c '4741/tcp: connected again' "$(pm_errfile k)")"
assert_eq kill_k2_templates_first "" "$(ipfixDump -e "$ELEMENTS" -i "$LAB_DIR/k2.ipfix" 2>&1 >/dev/null | grep -i missing)"
# the IPFIX message header's sequence number (bytes 8-11) of each first
# message: the new transport session counts from 0 (RFC 7011 3.1), not on
# from the records of the first
first_seq() { od -An -tu4 --endian=big -j8 -N4 "$1" | tr -d ' '; }
assert_eq kill_k1_first_seq 0 "$(first_seq "$LAB_DIR/k1.ipfix")"
assert_eq kill_k2_first_seq 0 "$(first_seq "$LAB_DIR/k2.ipfix")"
assert_eq kill_dropped_nonzero 1 "$(( ${dropped:-0} > 0 ))"
assert_eq kill_counted_on "4 5 6" \
	"$(jq -r '[.destinations[] | select(.addr | test("^10\\.21\\.2\\.")) | .packets.tcp] | sort | map(tostring) | join(" ")' "$LAB_DIR/k.json")"
assert_eq kill_records_add_up "$made" "$(( ${r1:-0} + ${r2:-0} + ${dropped:-0} ))"

# --- a UDP collector that is not there: refused, counted, said once ----------
start d watch --json --top 100 -i 0.3 -o "$LAB_DIR/d.json" --ipfix 127.0.0.1:4742 gw-ws || exit 1
for n in 3 4 5; do
	send_ws tcp4 "$n" --dst 10.21.3.1
	sleep 0.7
done
STATUS=$(lab_exec gw "$PROTOMIX" status --json)
stop d
assert_eq down_counted_on 12 "$(jq '.destinations[] | select(.addr == "10.21.3.1") | .packets.tcp' "$LAB_DIR/d.json")"
assert_eq down_said_once 1 "$(grep -c '^protomix: IPFIX collector 127.0.0.1:4742/udp: Connection refused; records are dropped' "$(pm_errfile d)")"
dropped=$(jq '[.. | objects | .ipfix_dropped_records? // empty] | first' <<<"$STATUS")
assert_eq down_dropped_some 1 "$(( ${dropped:-0} > 0 ))"
# the snapshot's stats say it too (taken at exit: at least as many)
assert_eq down_dropped_in_snapshot true \
	"$(jq --argjson d "${dropped:-0}" '.stats.ipfix_dropped_records >= $d and $d > 0' "$LAB_DIR/d.json")"
no_leftovers "pmt-$$-ipfix"
