#!/usr/bin/env bash
# replay_test: `protomix replay` over captures written by
# tests/build/gen_corpus (cases of tests/frames.c) and over broken ones
# made by hand. No interface is touched.
#
#   - every case, in every link type replay reads (Ethernet, raw IP, IPv4,
#     IPv6, Linux cooked v1 and v2, BSD loopback), as pcap (micro- and
#     nanoseconds, both byte orders) and pcapng (with odd blocks), counts
#     exactly as the case table says, per destination and per reason;
#   - the capture's clock: times in the report are the frames' own, and
#     sampling and one_way_ipsec follow them;
#   - rules (-e, -E), --baseline, --sample-rate, --oneway-window, --max-dests;
#   - frames longer than one XDP buffer or cut by the snaplen;
#   - bad input: one line on stderr naming the file, exit 2, never a crash.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
export TZ=UTC
PM=build/protomix
GEN=tests/build/gen_corpus
failed=0

pass() { echo "PASS replay/$1"; }
fail() { echo "FAIL replay/$1: $2"; failed=1; }
# check NAME GOT WANT
check() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi; }

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP replay: needs root for BPF_PROG_TEST_RUN"; exit 0
fi
for t in jq; do
	command -v $t >/dev/null || { echo "SKIP replay: $t is not installed (make deps)"; exit 0; }
done
for f in $PM $GEN; do
	[ -x $f ] || { echo "FAIL replay: $f is missing (make tests)"; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# counts FILE.json: "ADDR CLASS N" lines, sorted
counts() { jq -r '.destinations[] | .addr as $a | .packets | to_entries[] | "\($a) \(.key) \(.value)"' "$1" | sort; }
# reasons FILE.json: "REASON N" lines with N > 0, sorted
reasons() { jq -r '.stats | ({non_ip, macsec, mpls_other, pppoe_other} + .malformed) | to_entries[] | select(.value > 0) | "\(.key) \(.value)"' "$1" | sort; }
# want_counts EXPECT: the same from gen_corpus's expectations
# (a "+ ADDR CLASS" line: the packet inside the frame before, --decap)
want_counts() { awk '$1 == "+" { n[$2 " " $3]++ } $1 != "-" && $1 != "+" { n[$1 " " $2]++ }
	END { for (k in n) print k, n[k] }' "$1" | sort; }
want_reasons() { awk '$1 == "-" { n[$2]++ } END { for (k in n) print k, n[k] }' "$1" | sort; }

# replay_json NAME ARGS...: run, JSON into $tmp/NAME.json; 0 if it worked
replay_json()
{
	local name=$1; shift
	if ! $PM replay --json "$@" >"$tmp/$name.json" 2>"$tmp/$name.err"; then
		fail "$name" "exit $?: $(head -1 "$tmp/$name.err")"
		return 1
	fi
	if ! jq -e '.schema == "protomix.snapshot/3"' "$tmp/$name.json" >/dev/null 2>&1; then
		fail "$name" "not a protomix.snapshot/3 document"
		return 1
	fi
}

# cases_in NAME GEN_ARGS...: every case through replay in one format; the
# counts per destination and per reason are the table's.
cases_in()
{
	local name=$1; shift
	$GEN --mode cases --expect "$tmp/$name.exp" "$@" "$tmp/$name.cap" 2>/dev/null ||
		{ fail "$name" "gen_corpus $* failed"; return; }
	replay_json "$name" "$tmp/$name.cap" || return
	local got want
	got=$(counts "$tmp/$name.json"; echo ---; reasons "$tmp/$name.json")
	want=$(want_counts "$tmp/$name.exp"; echo ---; want_reasons "$tmp/$name.exp")
	if [ "$got" == "$want" ]; then
		pass "$name"
	else
		fail "$name" "$(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -4 | tr '\n' ' ')"
	fi
	local frames
	frames=$(grep -vc '^+ ' "$tmp/$name.exp")
	check "$name/frames" "$(jq '[.stats.frames, .replay.frames] | @text' -r "$tmp/$name.json")" "[$frames,$frames]"
}

# ---- the cases in every link type and format -------------------------------
# Read without BPF (tests/build/replay_read): every format holds the
# Ethernet capture's frames. Then through the classifier: Ethernet, raw IP,
# and cooked v2 in a big-endian pcapng with odd blocks.
formats=(raw:--linktype=raw ipv4:--linktype=ipv4 ipv6:--linktype=ipv6 sll:--linktype=sll
	 sll2:--linktype=sll2 null:--linktype=null loop:--linktype=loop nsec:--nsec
	 swapped:--swapped,--nsec pcapng:--pcapng pcapng_odd:--pcapng,--odd
	 pcapng_swapped:--pcapng,--odd,--swapped,--linktype=sll2)
$GEN --mode cases "$tmp/fmt_en10mb.cap" 2>/dev/null
others=()
for f in "${formats[@]}"; do
	IFS=, read -r -a args <<<"${f#*:}"
	$GEN --mode cases "${args[@]}" "$tmp/fmt_${f%%:*}.cap" 2>/dev/null
	others+=("$tmp/fmt_${f%%:*}.cap")
done
# The same frames as Wireshark's editcap writes them (pcapng with its own
# options; nanosecond and "modified" pcap).
if command -v editcap >/dev/null; then
	for f in pcapng nsecpcap modpcap; do
		editcap -F $f "$tmp/fmt_en10mb.cap" "$tmp/editcap_$f.cap" 2>/dev/null &&
			others+=("$tmp/editcap_$f.cap")
	done
else
	echo "SKIP replay/read/editcap: editcap is not installed (make deps)"
fi
tests/build/replay_read "$tmp/fmt_en10mb.cap" "${others[@]}" | sed "s|$tmp/||" || failed=1

cases_in cases_en10mb
cases_in cases_raw --linktype raw
cases_in cases_pcapng_swapped --pcapng --odd --swapped --linktype sll2

j=$tmp/cases_en10mb.json
check cases/link_trunc "$(jq -r '.replay.link_trunc_frames' "$j")" 1
# tcp4_jumbo (9000 bytes) and tcp4_gro (65549): counted once each, run as
# far as one XDP buffer (3520 bytes) reaches, their bytes those of the IP
# header's length (the frame's length on the wire goes to the program).
check cases/jumbo "$(jq -r '[.replay.cut_frames, .replay.unseen_bytes] | @text' "$j")" \
	"[2,$(( (9000 - 3520) + (65549 - 3520) ))]"
check cases/jumbo_bytes "$(jq -c '[.destinations[] | select(.bytes.tcp == 8986 or .bytes.tcp == 65535) | .bytes.tcp] | sort' "$j")" '[8986,65535]'
check cases/interfaces "$(jq -c '.interfaces' "$j")" \
	"[{\"name\":\"$tmp/cases_en10mb.cap\",\"ifindex\":0,\"hooks\":[\"xdp\"]}]"
# Every frame is in exactly one class or reason.
check cases/accounting "$(jq '.stats | ([.packets[]] | add) + .non_ip + .macsec + .mpls_other + .pppoe_other + ([.malformed[]] | add) == .frames' "$j")" true

# stdin
if cat "$tmp/cases_en10mb.cap" | $PM replay --json - >"$tmp/stdin.json" 2>"$tmp/stdin.err"; then
	check stdin "$(counts "$tmp/stdin.json" | md5sum)" "$(counts "$j" | md5sum)"
else
	fail stdin "exit $?: $(head -1 "$tmp/stdin.err")"
fi

# ---- time: the capture's ---------------------------------------------------
# 10 TCP then 100 ESP frames to 10.20.0.80, 1 ms apart, from
# 2026-11-27T11:51:03.852511Z: the ESP is a protocol_shift; 5 samples per
# destination per second of the capture.
$GEN --mode seq --seq tcp4:10 --seq esp4:100 "$tmp/shift.pcap" 2>/dev/null
if replay_json shift "$tmp/shift.pcap"; then
	check time/frames "$(jq -r '[.replay.first_frame, .replay.last_frame, .started_at, .taken_at] | join(" ")' "$tmp/shift.json")" \
		"2026-11-27T11:51:03.852511Z 2026-11-27T11:51:03.961511Z 2026-11-27T11:51:03.852511Z 2026-11-27T11:51:03.961511Z"
	check time/dest "$(jq -r '.destinations[0] | [.addr, .first_seen, .last_seen] | join(" ")' "$tmp/shift.json")" \
		"10.20.0.80 2026-11-27T11:51:03.852511Z 2026-11-27T11:51:03.961511Z"
	check shift/alerts "$(jq -r '[.alerts[] | .kind + " " + .time + " " + .iface] | unique | .[0] + " x" + (length | tostring)' "$tmp/shift.json")" \
		"protocol_shift 2026-11-27T11:51:03.862511Z replay x5"
	check shift/count "$(jq -c '[(.alerts | length), .stats.violations.protocol_shift, .stats.sampled, .stats.suppressed]' "$tmp/shift.json")" \
		"[5,100,5,95]"
fi
# The text report: the alert lines as watch prints them, then the table.
$PM replay "$tmp/shift.pcap" >"$tmp/shift.txt" 2>&1
check text/alert "$(head -1 "$tmp/shift.txt")" \
	"11:51:03.862511 replay ingress IP 10.10.1.10 > 10.20.0.80: ESP(spi=0xd7ca145d,seq=0x3de0a5), length 80 [protocol_shift: expected tcp]"
check text/alerts "$(grep -c '\[protocol_shift' "$tmp/shift.txt")" 5
check text/summary "$(grep -m1 ' frames (' "$tmp/shift.txt")" \
	"$tmp/shift.pcap: 110 frames (EN10MB), 2026-11-27T11:51:03.852511Z to 2026-11-27T11:51:03.961511Z (0.109000 s)"
check text/table "$(grep '^  10.20.0.80 ' "$tmp/shift.txt" | tr -s ' ')" \
	" 10.20.0.80 110 10720 tcp 9% esp 91%"

# Nanoseconds survive: a pcapng with ns timestamps, from .852511999.
$GEN --mode seq --seq tcp4:1 --seq esp4:1 --pcapng --start 1795780263.852511999 \
	--step 1 "$tmp/ns.pcapng" 2>/dev/null
if replay_json ns "$tmp/ns.pcapng"; then
	check time/ns "$(jq -r '[.replay.first_frame, .alerts[0].time, .destinations[0].last_seen] | join(" ")' "$tmp/ns.json")" \
		"2026-11-27T11:51:03.852511Z 2026-11-27T11:51:03.852512Z 2026-11-27T11:51:03.852512Z"
fi

# ---- rules, sampling, baseline, one-way ------------------------------------
# 3000 ESP frames over 3 s of capture against a rule for TCP: 5 samples in
# each second; --sample-rate 2: 2.
$GEN --mode seq --seq esp4:3000 "$tmp/flood.pcap" 2>/dev/null
if replay_json rule -e 10.20.0.0/16=tcp "$tmp/flood.pcap"; then
	check rule/alerts "$(jq -c '[(.alerts | length), .stats.violations.unexpected_protocol, (.alerts[0].expected), .destinations[0].expected]' "$tmp/rule.json")" \
		'[15,3000,["tcp"],["tcp"]]'
fi
if replay_json rate --sample-rate 2 -e 10.20.0.0/16=tcp,icmp "$tmp/flood.pcap"; then
	check rule/sample_rate "$(jq -c '[(.alerts | length), (.alerts[0].expected)]' "$tmp/rate.json")" '[6,["tcp","icmp"]]'
fi
printf '# the load balancers\n10.20.0.0/16=tcp\n10.20.0.80=esp # the tunnel end\n' >"$tmp/rules"
if replay_json rulefile -E "$tmp/rules" "$tmp/flood.pcap"; then
	check rule/file_longest_prefix "$(jq -c '[(.alerts | length), .destinations[0].expected]' "$tmp/rulefile.json")" '[0,["esp"]]'
fi
$PM replay -e 10.20.0.0/33=tcp "$tmp/flood.pcap" >/dev/null 2>"$tmp/badrule.err"
check rule/bad "$? $(cat "$tmp/badrule.err")" \
	"2 protomix: invalid rule '10.20.0.0/33=tcp': prefix length out of range (0-32 for IPv4)"

# --baseline: a snapshot where 10.20.0.80 had TCP makes its first ESP a shift.
$GEN --mode seq --seq tcp4:3 "$tmp/before.pcap" 2>/dev/null
$GEN --mode seq --seq esp4:5 "$tmp/after.pcap" 2>/dev/null
if replay_json before "$tmp/before.pcap" && replay_json after "$tmp/after.pcap" &&
   replay_json baseline --baseline "$tmp/before.json" "$tmp/after.pcap"; then
	check baseline "$(jq '.alerts | length' "$tmp/after.json") $(jq -r '([.alerts[].kind] | unique | join(",")) + " " + (.alerts | length | tostring)' "$tmp/baseline.json")" \
		"0 protocol_shift 5"
fi

# one_way_ipsec: ESP one way for 10 s of capture (1 s apart), nothing back:
# one alert, at the last frame's time. ESP both ways: none.
$GEN --mode seq --seq esp4:11 --step 1000000000 "$tmp/oneway.pcap" 2>/dev/null
both=(); for i in $(seq 11); do both+=(--seq esp4:1 --seq esp4:1:rev); done
$GEN --mode seq "${both[@]}" --step 500000000 "$tmp/twoway.pcap" 2>/dev/null
$PM replay "$tmp/oneway.pcap" >"$tmp/oneway.txt" 2>&1
check oneway "$(grep '\[one_way' "$tmp/oneway.txt")" \
	"11:51:13.852511 replay ingress IP 10.10.1.10 > 10.20.0.80: ESP(spi=0xd7ca145d,seq=0x3de0a5), length 80 [one_way_ipsec: nothing came back]"
if replay_json twoway "$tmp/twoway.pcap"; then
	check twoway "$(jq '[.alerts[] | select(.kind == "one_way_ipsec")] | length' "$tmp/twoway.json")" 0
fi
if replay_json oneway_window --oneway-window 20 "$tmp/oneway.pcap"; then
	check oneway/window "$(jq '.alerts | length' "$tmp/oneway_window.json")" 0
fi

# --max-dests: 100 destinations in a map of 8; the class totals stay exact.
$GEN --mode dests --frames 100 "$tmp/dests.pcap" 2>/dev/null
if replay_json maxdests --max-dests 8 "$tmp/dests.pcap"; then
	check max_dests "$(jq -c '[(.destinations | length), .stats.evicted_dests, .stats.packets.tcp]' "$tmp/maxdests.json")" "[8,92,100]"
fi

# --aggregate: per prefix; the counts add up, the times are the capture's.
# (--no-decap: the packets inside tunnels would add their own prefixes
# and counts that stats.packets does not hold.)
if replay_json aggregate --aggregate 16,48 --no-decap "$tmp/fmt_en10mb.cap"; then
	check aggregate "$(jq -c '[.destinations[] | .addr] | sort' "$tmp/aggregate.json") $(jq '([.destinations[].packets[]] | add) == ([.stats.packets[]] | add)' "$tmp/aggregate.json")" \
		'["10.64.0.0/16","2001:db8:c0::/48"] true'
	check aggregate/times "$(jq -r '.destinations[] | select(.addr == "10.64.0.0/16") | .first_seen' "$tmp/aggregate.json")" \
		"2026-11-27T11:51:03.852511Z"
fi

# ---- cut frames ------------------------------------------------------------
# A snaplen of 54 keeps Ethernet, IPv4 and TCP (20 bytes): the class holds,
# the bytes are the frame's on the wire (72 from the IP header on), 128 not
# run in all.
$GEN --mode seq --seq tcp4:4 --snaplen 54 "$tmp/snap54.pcap" 2>/dev/null
if replay_json snaplen "$tmp/snap54.pcap"; then
	check snaplen "$(jq -c '[.destinations[0].packets.tcp, .destinations[0].bytes.tcp, .replay.cut_frames, .replay.unseen_bytes]' "$tmp/snaplen.json")" \
		"[4,288,4,128]"
fi
# A snaplen of 40 cuts into TCP: l4_trunc, as the classifier sees it.
$GEN --mode seq --seq tcp4:4 --snaplen 40 "$tmp/snap40.pcap" 2>/dev/null
if replay_json snaplen40 "$tmp/snap40.pcap"; then
	check snaplen/cut_header "$(jq -c '[(.destinations | length), .stats.malformed.l4_trunc]' "$tmp/snaplen40.json")" "[0,4]"
fi

# ---- bad input: one line on stderr naming the file, exit 2 ------------------
# bad NAME FILE WANT_STDERR_SUBSTRING [ARGS]
bad()
{
	local name=$1 file=$2 want=$3 out err rc
	$PM replay "${@:4}" "$file" >"$tmp/bad.out" 2>"$tmp/bad.err"
	rc=$?
	err=$(cat "$tmp/bad.err")
	if [ $rc -ne 2 ]; then
		fail "bad/$name" "exit $rc, want 2 ($err)"
	elif [ "$(wc -l <"$tmp/bad.err")" -ne 1 ] || [[ "$err" != "protomix: $file: "*"$want"* ]]; then
		fail "bad/$name" "stderr '$err', want one line 'protomix: $file: ...$want...'"
	else
		pass "bad/$name"
	fi
}
bad missing "$tmp/nothing.pcap" "cannot open: No such file or directory"
: >"$tmp/empty.pcap"
bad empty "$tmp/empty.pcap" "empty file (0 bytes)"
bad directory "$tmp" "is a directory"
head -c 3000 /dev/urandom >"$tmp/garbage.pcap"
printf 'GARBAGE!' | dd of="$tmp/garbage.pcap" conv=notrunc status=none
bad garbage "$tmp/garbage.pcap" "not a pcap or pcapng capture (unknown file format)"
head -c 10 "$tmp/cases_en10mb.cap" >"$tmp/short_header.pcap"
bad short_header "$tmp/short_header.pcap" "not a pcap or pcapng capture (truncated dump file"
# A capture format libpcap does not read (Sun snoop, as editcap writes it).
if command -v editcap >/dev/null && editcap -F snoop "$tmp/fmt_en10mb.cap" "$tmp/snoop.cap" 2>/dev/null; then
	bad snoop "$tmp/snoop.cap" "not a pcap or pcapng capture (unknown file format)"
fi
# A pcapng cut in the middle of a block.
size=$(stat -c %s "$tmp/fmt_pcapng_odd.cap")
head -c $((size - 50)) "$tmp/fmt_pcapng_odd.cap" >"$tmp/cut.pcapng"
bad pcapng_cut "$tmp/cut.pcapng" "; the report covers the"
# IEEE 802.11 (LINKTYPE 105)
{ head -c 20 "$tmp/cases_en10mb.cap"; printf '\x69\x00\x00\x00'; } >"$tmp/wifi.pcap"
bad linktype "$tmp/wifi.pcap" "unsupported link type IEEE802_11 (105)"
# A pcapng whose second interface has another link type.
python3 - "$tmp/twolinks.pcapng" <<'EOF'
import struct, sys
def block(t, body): return struct.pack('<II', t, len(body) + 12) + body + struct.pack('<I', len(body) + 12)
shb = block(0x0a0d0d0a, struct.pack('<IHHq', 0x1a2b3c4d, 1, 0, -1))
idb = lambda lt: block(1, struct.pack('<HHI', lt, 0, 65535))
frame = bytes(14)
epb = lambda i: block(6, struct.pack('<IIIII', i, 0, 0, len(frame), len(frame)) + frame + bytes((4 - len(frame) % 4) % 4))
open(sys.argv[1], 'wb').write(shb + idb(1) + epb(0) + idb(101) + epb(1))
EOF
bad pcapng_two_linktypes "$tmp/twolinks.pcapng" "the report covers the 1 frames before it"
$PM replay x y >/dev/null 2>"$tmp/usage.err"
check usage/two_files "$? $(cat "$tmp/usage.err")" "2 protomix: replay: one capture file at a time ('y' is extra)"
$PM replay >/dev/null 2>"$tmp/usage.err"
check usage/no_file "$?" 2

# Cut in the middle of a frame: the frames before it are reported, then
# the error; exit 2.
size=$(stat -c %s "$tmp/shift.pcap")
head -c $((size - 37)) "$tmp/shift.pcap" >"$tmp/truncated.pcap"
$PM replay --json "$tmp/truncated.pcap" >"$tmp/truncated.json" 2>"$tmp/truncated.err"
check truncated "$? $(jq -c '[.replay.frames, .stats.packets]' "$tmp/truncated.json") $(cat "$tmp/truncated.err")" \
	"2 [109,{\"tcp\":10,\"esp\":99}] protomix: $tmp/truncated.pcap: frame 110: truncated dump file; tried to read 114 captured bytes, only got 77; the report covers the 109 frames before it"
# A record that claims 100 MB.
{ head -c 24 "$tmp/shift.pcap"; printf '\0\0\0\0\0\0\0\0\x00\xe1\xf5\x05\x00\xe1\xf5\x05'; } >"$tmp/huge.pcap"
bad huge_record "$tmp/huge.pcap" "frame 1: invalid packet capture length 100000000"

# A valid capture without frames: an empty report, exit 0.
head -c 24 "$tmp/shift.pcap" >"$tmp/noframes.pcap"
if replay_json noframes "$tmp/noframes.pcap"; then
	check noframes "$(jq -c '[.replay.frames, (.destinations | length), .stats.frames, .replay.first_frame]' "$tmp/noframes.json")" "[0,0,0,null]"
fi
$PM replay "$tmp/noframes.pcap" >"$tmp/noframes.txt" 2>&1
check noframes/text "$(head -1 "$tmp/noframes.txt")" "$tmp/noframes.pcap: no frames (EN10MB)"

# Cooked captures whose header is cut short: eth_trunc, as pm_xdp says of
# an Ethernet frame under 14 bytes.
python3 - "$tmp/sll_short.pcap" <<'EOF'
import struct, sys
hdr = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 113)
rec = lambda data: struct.pack('<IIII', 1795780263, 0, len(data), len(data)) + data
open(sys.argv[1], 'wb').write(hdr + rec(bytes(10)) + rec(bytes(15)) + rec(bytes(16)))
EOF
if replay_json sll_short "$tmp/sll_short.pcap"; then
	check sll_short "$(jq -c '[.replay.link_trunc_frames, .stats.malformed.eth_trunc, .stats.non_ip, .stats.frames]' "$tmp/sll_short.json")" "[2,2,1,3]"
fi

# ---- a bigger corpus: everything adds up, and the speed --------------------
$GEN --frames 100000 --seed 3 "$tmp/big.pcap" 2>/dev/null
start=$(date +%s%N)
# (--no-decap: the destinations then hold exactly stats.packets)
if replay_json big --max-dests 262144 --no-decap "$tmp/big.pcap"; then
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	check big/accounting "$(jq '.stats | ([.packets[]] | add) + .non_ip + .macsec + .mpls_other + .pppoe_other + ([.malformed[]] | add) == .frames and .frames == 100000' "$tmp/big.json")" true
	check big/dests "$(jq '([.destinations[].packets[]] | add) == ([.stats.packets[]] | add) and .stats.evicted_dests == 0' "$tmp/big.json")" true
	echo "# 100000 frames replayed in $ms ms ($(( 100000 * 1000 / (ms ? ms : 1) )) frames/s, with JSON)"
fi
exit $failed
