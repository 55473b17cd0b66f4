#!/usr/bin/env bash
# watch --ipfix: the transport rules of RFC 7011 (section 8.4 and 10),
# against collectors in the lab:
#  - UDP template refresh: with --ipfix-template-interval 1 a collector
#    receives a template set at the start and then one every 1 s (never
#    sooner, at most a few report intervals later), counted by libfixbuf's
#    ipfixDump in what it received; a watch at the default (60 s) sends
#    one in the same time;
#  - nfcapd restarted on UDP (just after a template refresh, so that no
#    datagram is refused meanwhile: a refusal brings the templates too):
#    after the next refresh it decodes the records again, with the exact
#    totals of the snapshot for the traffic sent after the restart, and
#    nothing from before;
#  - a TCP collector that accepts and never reads: the watch's report
#    loop stays on time (no interval longer than 1.5 times the longest of
#    a watch without it, at the same time under the same load, and 1.5
#    times the nominal one at least), ipfix_dropped_records grows, the
#    full queue is said once on stderr, and the records made (what
#    nfcapd, a second collector of the same watch, received) = sent +
#    dropped + still queued; once the collector reads, the queue empties
#    and that is said once too. Some 700,000 records fill the 32 MiB
#    queue: about a minute, several on a busy machine;
#  - a watch stopped while records are queued for a TCP collector that
#    never reads: at exit they get a second to go, then are counted as
#    dropped before the exit snapshot (-o) is taken, so there records
#    made (what nfcapd, the second collector, received) = sent + dropped
#    exactly, none left queued.
# The sequence numbers of a TCP reconnect are checked in tests/ipfix_test.sh
# (kill_k2_first_seq). Collectors listen on 127.0.0.1 in the gateway.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root ipfix_transport
need_cmds ipfix_transport ip jq nfcapd nfdump ipfixDump || exit 0
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail ipfix_transport "run make && make tests"; exit 1; }
MANYDESTS=$LAB_ROOT/tests/build/manydests
if [ ! -x "$MANYDESTS" ] || [ tests/manydests.c -nt "$MANYDESTS" ]; then
	mkdir -p tests/build
	${CC:-cc} -O2 -Wall -Wextra -Werror tests/manydests.c -o "$MANYDESTS" ||
		{ fail ipfix_transport "cannot build tests/manydests.c"; exit 1; }
fi

lab_up "pmt-$$-ipxt" || { fail lab_up "cannot build the lab"; exit 1; }
# no answer from these: exactly the frames sent, nothing back
lab_exec gw ip route add blackhole 10.21.0.0/16
lab_exec gw ip route add blackhole 10.64.0.0/10
FILLERS=()	# manydests loops
stop_filler() {
	local p
	for p in "${FILLERS[@]}"; do
		{ kill "$p"; wait "$p"; } 2>/dev/null
	done
	FILLERS=()
}
trap 'stop_filler; lab_cleanup' EXIT

# Collectors of our own, in python:
#   udp PORT FILE LOG  every datagram appended to FILE (an IPFIX file),
#                      and per datagram "MONOTONIC-SECONDS SEQUENCE
#                      TEMPLATE-SETS" (set ID 2) to LOG
#   stall PORT         accepts one TCP connection and does not read (a
#                      tiny receive buffer) until SIGUSR1, then reads all
COLL=$LAB_DIR/collector.py
cat >"$COLL" <<'EOF'
import socket, struct, sys, time
mode, port = sys.argv[1], int(sys.argv[2])
if mode == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    with open(sys.argv[3], "wb") as f, open(sys.argv[4], "w") as log:
        while True:
            d = s.recv(65535)
            t = time.monotonic()
            f.write(d)
            f.flush()
            sets, off = 0, 16
            while off + 4 <= len(d):
                sid, slen = struct.unpack_from("!HH", d, off)
                sets += sid == 2
                if slen < 4:
                    break
                off += slen
            log.write("%.6f %d %d\n" % (t, struct.unpack_from("!I", d, 8)[0], sets))
            log.flush()
else:
    import signal
    drain = []
    signal.signal(signal.SIGUSR1, lambda *_: drain.append(1))
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(("127.0.0.1", port))
    s.listen(1)
    c, _ = s.accept()
    while not drain:
        time.sleep(0.05)
    while c.recv(1 << 20):
        pass
EOF

# the status of our watch NAME (others may run in the namespace)
status_of() {	# NAME
	lab_exec gw "$PROTOMIX" status --json |
		jq -c --argjson p "${PM_PIDS[$1]}" '.[] | select(.pid == $p)'
}
# what nfcapd stored, per destination and IP protocol: "ADDR PROTO
# PACKETS BYTES", sorted (as tests/ipfix_test.sh)
nf_by_proto() {	# DIR ADDR-REGEX
	nfdump -q -N -R "$1" -A dstip,proto -o "fmt:%da %pr %pkt %byt" 2>/dev/null |
		awk '$3 > 0 {print $1, $2, $3, $4}' | grep -E "^($2)" | sort
}
snap_by_proto() {	# SNAPSHOT ADDR-REGEX
	jq -r --arg re "$2" '
	  def proto: {"tcp":6,"udp":17,"esp_udp":17,"ike":17,"esp":50,"ah":51}[.];
	  [.destinations[] | select(.addr | test($re)) | . as $d
	   | .packets | keys[] | {a: $d.addr, p: proto, n: $d.packets[.], b: $d.bytes[.]}]
	  | group_by([.a, .p])[] | "\(.[0].a) \(.[0].p) \(map(.n) | add) \(map(.b) | add)"' "$1" | sort
}
# the largest report interval of a --json watch's output, in seconds
max_interval() { jq -s '[.[] | select(.type == "report") | .interval] | max' "$1"; }

# --- UDP template refresh: every 1 s, against the default 60 s --------------
TI=1 IV=0.25	# template interval, report interval
lab_bg s1 gw "$LAB_PYTHON" "$COLL" udp 9997 "$LAB_DIR/s1.ipfix" "$LAB_DIR/s1.log"
lab_bg s60 gw "$LAB_PYTHON" "$COLL" udp 9996 "$LAB_DIR/s60.ipfix" "$LAB_DIR/s60.log"
wait_listen u 9997 && wait_listen u 9996 || fail refresh_sinks "the sinks do not listen"
start r1 watch -i $IV --ipfix 127.0.0.1:9997 --ipfix-template-interval $TI gw-ws || exit 1
start r60 watch -i $IV --ipfix 127.0.0.1:9996 gw-lb || exit 1
send_ws tcp4 3 --dst 10.21.0.1
send_lb tcp4 3 --dst 10.21.0.2
sleep 4.5
stop r1
pm_stop r60
assert_eq r60_exit_status 0 "$?"
lab_bg_stop s1
lab_bg_stop s60
# ipfixDump, the decoder: the template sets the collector received
tsets() { ipfixDump -t -i "$1" 2>/dev/null | grep -c '^\*\*\* Msg Stats: [0-9]* Template Records'; }
n1=$(tsets "$LAB_DIR/s1.ipfix") n60=$(tsets "$LAB_DIR/s60.ipfix")
assert_eq refresh_dump_agrees "$(awk '{ n += $3 } END { print n + 0 }' "$LAB_DIR/s1.log")" "$n1"
# from the first template set to the last datagram, D seconds: a set
# every TI at the earliest, TI + 3 report intervals at the latest
read -r span lo hi mingap < <(awk -v ti=$TI -v iv=$IV '
	$3 > 0 { if (t0 == "") t0 = $1; else if (min == "" || $1 - last < min) min = $1 - last; last = $1 }
	{ end = $1 }
	END { d = end - t0; printf "%.3f %d %d %.3f\n", d, 1 + int(d / (ti + 3 * iv)), 1 + int(d / ti), min }' \
	"$LAB_DIR/s1.log")
if [ "$n1" -ge "$lo" ] && [ "$n1" -le "$hi" ] && [ "$lo" -ge 3 ]; then
	pass refresh_count
else
	fail refresh_count "$n1 template sets in ${span}s, expected $lo to $hi"
fi
assert_eq refresh_never_sooner 1 "$(awk -v g="$mingap" -v ti=$TI 'BEGIN { print (g >= ti - 0.05) }')"
assert_eq refresh_default_once 1 "$n60"
assert_eq refresh_default_data_no_templates "0" \
	"$(awk 'NR > 1 { n += $3 } END { print (NR > 1 ? n : "no data") }' "$LAB_DIR/s60.log")"

# --- nfcapd restarted: decodes again after the next refresh ------------------
TI=2 IV=0.5
mkdir -p "$LAB_DIR/nfa" "$LAB_DIR/nfb"
lab_nfcapd nfa 9995 "$LAB_DIR/nfa" || fail restart_nfcapd "nfcapd does not listen"
start n watch --json -i $IV -o "$LAB_DIR/n.json" --ipfix 127.0.0.1:9995 \
	--ipfix-template-interval $TI gw-ws || exit 1
send_ws tcp4 4 --dst 10.21.5.1		# before the restart
sleep 1.5
# times the templates went out (status); wait until it passes N (10 s)
tmpl_sent() { status_of n | jq '.ipfix[0].templates_sent'; }
tmpl_after() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(tmpl_sent)" -gt "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
t0=$(tmpl_sent)
tmpl_after "$t0" || fail restart_refresh0 "no template refresh in 10 s"
lab_bg_stop nfa KILL			# gone, and at once a new one
lab_nfcapd nfb 9995 "$LAB_DIR/nfb" || fail restart_nfcapd2 "nfcapd does not listen"
t1=$(tmpl_sent)
tmpl_after "$t1" || fail restart_refresh "no template refresh in 10 s"
send_ws tcp4 7 --dst 10.21.5.2
send_ws esp4 5 --dst 10.21.5.3
send_ws tcp6 3 --dst 2001:db8:21::5
sleep 1.5
stop n
lab_bg_stop nfb
re='10\.21\.5\.[23]$|2001:db8:21::5$'
want=$(snap_by_proto "$LAB_DIR/n.json" "$re")
assert_eq restart_snapshot "10.21.5.2 6 7 504 10.21.5.3 50 5 500" \
	"$(grep -v : <<<"$want" | paste -sd' ')"
assert_eq restart_nfdump_totals "$want" "$(nf_by_proto "$LAB_DIR/nfb" '10\.21\.5\.|2001:db8:21:')"
# a datagram sent while no collector listened may be refused (a slow
# machine, e.g. 6.12 under QEMU, leaves a gap between the kill and the new
# nfcapd): then the watch said so once and, the refresh having come with
# the interval, that it answers again
assert_eq restart_refused_then_answering \
	"$(grep -c 'Connection refused' "$(pm_errfile n)")" \
	"$(grep -c 'answering again' "$(pm_errfile n)")"

# --- a TCP collector that never reads -----------------------------------------
# The watch on gw-ws exports to it and to nfcapd; at the same time a
# reference watch on gw-lb, with the same load (manydests on each link)
# and two collectors that take everything at once (UDP ports nobody
# listens on: refused, dropped), gives this machine's pace right now.
N=${IPFIX_SLOW_DESTS:-50000} IV=0.5
fill_forever() {	# ws|lb IFACE GW-MAC SRC-MAC: until SIGTERM, which stops the pass too
	local pass=""
	trap '[ -n "$pass" ] && kill "$pass" 2>/dev/null; exit 0' TERM
	while :; do
		ip netns exec "$(lab_ns "$1")" "$MANYDESTS" "$2" "$N" --dst-mac "$3" \
			--src-mac "$4" --base 10.64.0.0 & pass=$!
		wait "$pass" || break
	done
}
# UDP datagrams the gateway's sockets could not take (its namespace's
# /proc/net/snmp, Udp: RcvbufErrors)
udp_rcvbuf_errors() { lab_snmp gw Udp RcvbufErrors; }
# nfcapd_got_all NAME MADE GOT: nfcapd decoded all MADE records, unless
# its socket overflowed since overflow0 (the kernel counts it: a machine
# too slow for nfcapd, e.g. under emulation), then NAME is skipped
nfcapd_got_all()
{
	local overflow

	overflow=$(( $(udp_rcvbuf_errors) - overflow0 ))
	if [ "$overflow" -gt 0 ]; then
		skip "$1" "nfcapd's socket overflowed $overflow datagrams (got $3 of $2 records): this machine is too slow for the collector"
	else
		assert_eq "$1" "$2" "$3"
	fi
}
overflow0=$(udp_rcvbuf_errors)
mkdir -p "$LAB_DIR/nfs"
lab_nfcapd nfs 9994 "$LAB_DIR/nfs" -B 16000000 || fail slow_nfcapd "nfcapd does not listen"
lab_bg stall gw "$LAB_PYTHON" "$COLL" stall 4744
wait_listen t 4744 || fail slow_listener "the listener does not listen"
start ref watch --json --top 1 -i $IV --max-dests $((2 * N)) \
	--ipfix 127.0.0.1:9993 --ipfix 127.0.0.1:9992 gw-lb || exit 1
start s watch --json --top 1 -i $IV --max-dests $((2 * N)) \
	--ipfix 127.0.0.1:4744/tcp --ipfix 127.0.0.1:9994/udp gw-ws || exit 1
fill_forever ws ws0 "$LAB_MAC_GW_WS" "$LAB_MAC_WS0" & FILLERS+=($!)
fill_forever lb lb0 "$LAB_MAC_GW_LB" "$LAB_MAC_LB0" & FILLERS+=($!)
full=0
for ((i = 0; i < 2400; i++)); do	# 240 s at most (a busy machine)
	grep -q '4744/tcp: not reading fast enough' "$(pm_errfile s)" && { full=1; break; }
	sleep 0.1
done
assert_eq slow_queue_full 1 "$full"
sleep 1
d1=$(status_of s | jq '.stats.ipfix_dropped_records')
sleep 1.5
d2=$(status_of s | jq '.stats.ipfix_dropped_records')
stop_filler
sleep $(awk -v iv=$IV 'BEGIN { print 3 * iv }')	# no counter moves: nothing more made
ST=$(status_of s)
kill -USR1 "${LAB_BG_PIDS[stall]}"	# now it reads
caught=0
for ((i = 0; i < 200; i++)); do		# 20 s at most
	grep -q '4744/tcp: caught up' "$(pm_errfile s)" && { caught=1; break; }
	sleep 0.1
done
ST2=$(status_of s)
stop s
pm_stop ref
assert_eq ref_exit_status 0 "$?"
ref_max=$(max_interval "$(pm_out ref)")
lab_bg_stop stall
lab_bg_stop nfs
assert_eq slow_dropped_grows 1 "$(( ${d1:-0} > 0 && ${d2:-0} > ${d1:-0} ))"
assert_eq slow_said_once 1 "$(grep -c 'not reading fast enough' "$(pm_errfile s)")"
assert_eq slow_caught_up_once "1 1" "$caught $(grep -c 'caught up' "$(pm_errfile s)")"
assert_eq slow_queue_emptied "0 0" "$(jq -r '.ipfix[] | select(.collector | endswith("/tcp")) | "\(.queued_records) \(.queued_bytes)"' <<<"$ST2")"
assert_eq slow_no_other_word "" \
	"$(grep -v -e '^protomix: watching' -e 'not reading fast enough' -e 'caught up$' "$(pm_errfile s)")"
limit=$(awk -v r="${ref_max:-0}" -v iv=$IV 'BEGIN { l = 1.5 * (r > iv ? r : iv); printf "%.3f", l }')
got=$(max_interval "$(pm_out s)")
assert_eq slow_on_time 1 "$(awk -v g="${got:-99}" -v l="$limit" 'BEGIN { print (g <= l) }')"
echo "# slow collector: longest report interval ${got}s (limit ${limit}s; the reference watch meanwhile ${ref_max}s)"
tcp=$(jq -c '.ipfix[] | select(.collector | endswith("/tcp"))' <<<"$ST")
udp=$(jq -c '.ipfix[] | select(.collector | endswith("/udp"))' <<<"$ST")
got=$(nfdump -q -R "$LAB_DIR/nfs" -o "fmt:%pkt" 2>/dev/null | awk '$1 > 0' | wc -l)
# every record made went to both collectors: what the UDP one was sent
made=$(jq '.sent_records + .dropped_records' <<<"$udp")
assert_eq slow_udp_none_dropped 0 "$(jq '.dropped_records' <<<"$udp")"
nfcapd_got_all slow_nfcapd_got_all "$made" "$got"
assert_eq slow_records_add_up "$made" "$(jq '.sent_records + .dropped_records + .queued_records' <<<"$tcp")"
assert_eq slow_then_sent_all "$made" \
	"$(jq '.ipfix[] | select(.collector | endswith("/tcp")) | .sent_records + .dropped_records' <<<"$ST2")"
assert_eq slow_dropped_is_stat "$(jq '.dropped_records' <<<"$tcp")" "$(jq '.stats.ipfix_dropped_records' <<<"$ST")"

# --- stopped with records queued: dropped, counted in the exit snapshot --------
mkdir -p "$LAB_DIR/nfq"
overflow0=$(udp_rcvbuf_errors)
lab_nfcapd nfq 9991 "$LAB_DIR/nfq" -B 16000000 || fail exitq_nfcapd "nfcapd does not listen"
lab_bg stallq gw "$LAB_PYTHON" "$COLL" stall 4745
wait_listen t 4745 || fail exitq_listener "the listener does not listen"
start q watch --json --top 1 -i $IV --max-dests $((2 * N)) -o "$LAB_DIR/q.json" \
	--ipfix 127.0.0.1:4745/tcp --ipfix 127.0.0.1:9991/udp gw-ws || exit 1
fill_forever ws ws0 "$LAB_MAC_GW_WS" "$LAB_MAC_WS0" & FILLERS+=($!)
queued=0
for ((i = 0; i < 1200; i++)); do	# the socket's buffers full: 120 s at most
	queued=$(status_of q | jq '.ipfix[] | select(.collector | endswith("/tcp")) | .queued_records')
	[ "${queued:-0}" -gt 0 ] && break
	sleep 0.1
done
stop_filler
sleep $(awk -v iv=$IV 'BEGIN { print 3 * iv }')	# no counter moves: nothing more made
ST=$(status_of q)
t0=$(date +%s%N)
stop q
echo "# stopped with records queued: the watch exited in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
lab_bg_stop stallq
lab_bg_stop nfq
tcp=$(jq -c '.ipfix[] | select(.collector | endswith("/tcp"))' <<<"$ST")
udp=$(jq -c '.ipfix[] | select(.collector | endswith("/udp"))' <<<"$ST")
got=$(nfdump -q -R "$LAB_DIR/nfq" -o "fmt:%pkt" 2>/dev/null | awk '$1 > 0' | wc -l)
# every record made went to the UDP collector at once (UDP never queues)
made=$(jq '.sent_records' <<<"$udp")
assert_eq exitq_queued_at_stop 1 "$(jq '.queued_records > 0' <<<"$tcp" | grep -c true)"
assert_eq exitq_udp_none_dropped 0 "$(jq '.dropped_records' <<<"$udp")"
nfcapd_got_all exitq_nfcapd_got_all "$made" "$got"	# 6.12 under emulation: 47,936 of 50,000
# both collectors were given every record: the exit snapshot's sent +
# dropped, summed over the two, is twice what was made: nothing queued
assert_eq exitq_snapshot_adds_up "$((2 * made))" \
	"$(jq '.stats.ipfix_sent_records + .stats.ipfix_dropped_records' "$LAB_DIR/q.json")"
assert_eq exitq_made_nonzero 1 "$(( made > 0 ))"
no_leftovers "pmt-$$-ipxt"
