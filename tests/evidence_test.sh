#!/usr/bin/env bash
# evidence_test: protomix's evidence lines (user/evidence*.c) against
# tcpdump's. tests/build/evidence_cases writes the frames of every case
# (carriers, IPsec, IKE, TCP, UDP, ICMP, WireGuard, GRE, IP-in-IP,
# VXLAN, Geneve, GTP-U) into a pcap and prints protomix's line for each;
# `tcpdump -n -r` reads the same pcap. Each line must equal tcpdump's
# ("eq") or, where the decoder stops short (docs/alerts.md), begin it
# ("prefix"). The same frames again, cut to PM_SNAP_LEN bytes as an alert
# keeps them, and cut to 64 and 40 bytes (every header cut somewhere).
# tcpdump prints a VXLAN packet on two lines: they are joined with ": ".
# GTP-U ("ext"): tcpdump 4.99 prints only "UDP, length N" for it, so the
# evidence's own words after the ports (docs/alerts.md) are held to the
# lines written below, and the words before them to tcpdump's.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1

CASES=tests/build/evidence_cases
if ! command -v tcpdump >/dev/null; then
	echo "SKIP evidence: tcpdump not installed (apt-get install tcpdump)"
	exit 0
fi
if [ ! -x "$CASES" ]; then
	echo "FAIL evidence: $CASES not built (run make tests)"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The GTP-U lines: want NAME LINE for every cut, want LABEL_NAME LINE for
# one run (full, snap, cut64, cut40) where the cut changes the line.
declare -A WANT USED
want() { WANT[$1]=$2; }
O4='IP 192.0.2.1.2152 > 192.0.2.2.2152: GTPv1-U'
O6='IP6 2001:db8:1::1.2152 > 2001:db8:1::2.2152: GTPv1-U'
ESP='IP 10.10.1.10 > 10.20.0.80: ESP(spi=0xd7ca145d,seq=0x3de0a5), length 80'
TCP6='IP6 2001:db8:10::10.49152 > 2001:db8:20::a80.8080:'
want gtpu4_esp "$O4, teid 0x1234: $ESP"
want gtpu6_tcp6 "$O6, teid 0x1234: $TCP6 Flags [P.], seq 472727119:472727135, ack 168496141, win 64240, length 16: HTTP"
want gtpu4_seq_esp "$O4, teid 0x1234: $ESP"
want gtpu4_ext_ping6 "$O4, teid 0x1234: IP6 2001:db8:ffff::1 > 2001:db8:ffff::2: ICMP6, echo request, id 19800, seq 1, length 24"
want gtpu6_ext2_esp "$O6, teid 0x1234: $ESP"
want gtpu4_echo "$O4, teid 0x0, echo request"
want gtpu6_end_marker "$O6, teid 0x1234, end marker"
want gtpu4_cut45 "$O4 [|gtp]"
want gtpu4_seq_cut52 "$O4, teid 0x1234 [|gtp]"
want gtpu4_ext_cut56 "$O4, teid 0x1234 [|gtp]"
want gtpu4_cut50 "$O4, teid 0x1234 [|gtp]"
want gtpu4_cut60 "$O4, teid 0x1234: IP  [|ip]"
want gtpu4_cut74 "$O4, teid 0x1234: IP 10.10.1.10 > 10.20.0.80:  [|esp]"
want cut64_gtpu4_esp "$O4, teid 0x1234: IP  [|ip]"
want cut64_gtpu6_tcp6 "$O6 [|gtp]"
want cut64_gtpu4_seq_esp "$O4, teid 0x1234: IP  [|ip]"
want cut64_gtpu4_ext_ping6 "$O4, teid 0x1234:  [|ip6]"
want cut64_gtpu6_ext2_esp "$O6 [|gtp]"
want cut64_gtpu6_end_marker "$O6 [|gtp]"
want cut64_gtpu4_cut74 "$O4, teid 0x1234: IP  [|ip]"

# inner_lines LABEL: tcpdump's line for the IP packet inside each GTP-U
# G-PDU of LABEL.pcap alone (behind an Ethernet header, cut where the
# frame is cut), as "CASE<TAB>LINE" in LABEL.inner: what follows
# "teid 0x...: " in our line. The GTP-U header is read here on its own
# (version 1, PT 1, type 255, E/S/PN's 4 bytes, extension headers).
inner_lines() {
	python3 - "$tmp/$1.pcap" "$tmp/$1.inner.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
out, off = bytearray(d[:24]), 24
while off + 16 <= len(d):
    sec, usec, cap, wire = struct.unpack('<IIII', d[off:off + 16])
    f = d[off + 16:off + 16 + cap]
    off += 16 + cap
    et = f[12] << 8 | f[13]
    if et == 0x0800 and f[23] == 17:
        u = 14 + (f[14] & 15) * 4
    elif et == 0x86dd and f[20] == 17:
        u = 54
    else:
        continue
    g = u + 8
    if len(f) < g + 8 or 2152 not in struct.unpack('>HH', f[u:u + 4]) \
       or f[g] >> 4 != 3 or f[g + 1] != 0xff:
        continue
    hl, nxt = 8, 0
    if f[g] & 7:
        hl, nxt = 12, (f[g + 11] if f[g] & 4 and len(f) > g + 11 else 0)
    while nxt and len(f) > g + hl and f[g + hl]:
        hl += f[g + hl] * 4
        nxt = f[g + hl - 1] if len(f) >= g + hl else 0
    p = f[g + hl:]
    if not p or nxt:
        continue
    e = bytes(12) + (b'\x08\x00' if p[0] >> 4 == 4 else b'\x86\xdd')
    out += struct.pack('<IIII', sec, usec, len(e + p), wire - g - hl + 14) + e + p
open(sys.argv[2], 'wb').write(out)
PY
	tcpdump -n -tt -r "$tmp/$1.inner.pcap" 2>/dev/null |
		sed -E 's/^([0-9]+)\.[0-9]{6} /\1\t/' >"$tmp/$1.inner"
}

# ext LABEL NAME OURS THEIRS N: our line is the one written above,
# tcpdump's "UDP, length N" line without those two words begins it, and
# the inner packet's part (if any) is tcpdump's line for that packet
# alone (case N of LABEL.inner).
ext() {
	local key=$1_$2 head="${4%UDP, length *}" in=
	if [[ $3 =~ teid\ 0x[0-9a-f]+:\ (.*)$ ]]; then
		in=$(awk -F'\t' -v n="$5" '$1 == n { print $2 }' "$tmp/$1.inner")
		[ -n "$in" ] || in="(no line)"
	fi
	[ -n "${WANT[$key]+y}" ] || key=$2
	USED[$key]=1
	if [ -z "${WANT[$key]+y}" ]; then
		echo "FAIL $1_$2: no line written for '$3' (tcpdump '$4')"
	elif [ "$3" != "${WANT[$key]}" ]; then
		echo "FAIL $1_$2: protomix '$3', expected '${WANT[$key]}'"
	elif [ "$head" = "$4" ] || [ "${3#"$head"}" = "$3" ]; then
		echo "FAIL $1_$2: protomix '$3' does not begin with tcpdump's '$head' ('$4')"
	elif [ -n "$in" ] && [ "${BASH_REMATCH[1]}" != "$in" ]; then
		echo "FAIL $1_$2: inner packet '${BASH_REMATCH[1]}', tcpdump '$in'"
	else
		[ -z "$in" ] || INNER=$((INNER + 1))
		return 0
	fi
	return 1
}

# run LABEL SNAP: one check per case, then a count.
run() {
	local label=$1 snap=$2 n=0 bad=0 eq=0 prefix=0 own=0
	INNER=0
	if ! "$CASES" "$tmp/$label.pcap" "$snap" >"$tmp/$label.ours"; then
		echo "FAIL ${label}_build: evidence_cases failed"
		return
	fi
	# one line per frame: "N.000000 LINE", continuation lines joined
	tcpdump -n -tt -r "$tmp/$label.pcap" 2>/dev/null |
		awk '!/^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9] / { line = line ": " $0; next }
		     { if (n++) print line; line = $0 } END { if (n) print line }' |
		sed -E 's/^[0-9]+\.[0-9]{6} //' >"$tmp/$label.tcpdump"
	inner_lines "$label"
	while IFS=$'\t' read -r name mode ours <&3 && IFS= read -r theirs <&4; do
		n=$((n + 1))
		case $mode in
		eq)
			if [ "$ours" = "$theirs" ]; then
				eq=$((eq + 1))
			else
				echo "FAIL ${label}_$name: protomix '$ours', tcpdump '$theirs'"
				bad=$((bad + 1))
			fi ;;
		prefix)
			if [ -n "$ours" ] && [ "${theirs#"$ours"}" != "$theirs" ]; then
				prefix=$((prefix + 1))
			else
				echo "FAIL ${label}_$name: protomix '$ours' (prefix), tcpdump '$theirs'"
				bad=$((bad + 1))
			fi ;;
		ext)
			if ext "$label" "$name" "$ours" "$theirs" "$n"; then
				own=$((own + 1))
			else
				bad=$((bad + 1))
			fi ;;
		*)
			echo "FAIL ${label}_$name: no line (tcpdump '$theirs')"
			bad=$((bad + 1)) ;;
		esac
	done 3<"$tmp/$label.ours" 4<"$tmp/$label.tcpdump"
	if [ "$n" -eq 0 ] || [ "$n" -ne "$(wc -l <"$tmp/$label.tcpdump")" ]; then
		echo "FAIL ${label}_count: $n lines of ours, $(wc -l <"$tmp/$label.tcpdump") of tcpdump's"
	elif [ "$bad" -eq 0 ]; then
		echo "PASS ${label}: $n cases, $eq equal to tcpdump's line, $prefix its prefix, $own GTP-U lines as written ($INNER with tcpdump's line of the packet inside)"
	fi
}

run full 0
run snap alert		# PM_SNAP_LEN
run cut64 64
run cut40 40

# every line written above was some case's
unused=
for key in "${!WANT[@]}"; do
	[ -n "${USED[$key]+y}" ] || unused="$unused $key"
done
if [ -n "$unused" ]; then
	echo "FAIL gtpu_lines: written but no case printed them:$unused"
else
	echo "PASS gtpu_lines: ${#WANT[@]} lines written, each some case's"
fi
