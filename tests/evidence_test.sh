#!/usr/bin/env bash
# evidence_test: protomix's evidence lines (user/evidence.c) against
# tcpdump's. tests/build/evidence_cases writes the frames of every case
# (carriers, IPsec, IKE, TCP, UDP, ICMP, WireGuard, GRE, IP-in-IP,
# VXLAN, Geneve, GTP-U) into a pcap and prints protomix's line for each;
# `tcpdump -n -r` reads the same pcap. Each line must equal tcpdump's
# ("eq") or, where the decoder stops short (docs/alerts.md), begin it
# ("prefix"). The same frames again, cut to PM_SNAP_LEN bytes as an alert
# keeps them, and cut to 64 and 40 bytes (every header cut somewhere).
# tcpdump prints a VXLAN packet on two lines: they are joined with ": ".
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

# run LABEL SNAP: one check per case, then a count.
run() {
	local label=$1 snap=$2 n=0 bad=0 eq=0 prefix=0
	if ! "$CASES" "$tmp/$label.pcap" "$snap" >"$tmp/$label.ours"; then
		echo "FAIL ${label}_build: evidence_cases failed"
		return
	fi
	# one line per frame: "N.000000 LINE", continuation lines joined
	tcpdump -n -tt -r "$tmp/$label.pcap" 2>/dev/null |
		awk '!/^[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9] / { line = line ": " $0; next }
		     { if (n++) print line; line = $0 } END { if (n) print line }' |
		sed -E 's/^[0-9]+\.[0-9]{6} //' >"$tmp/$label.tcpdump"
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
		*)
			echo "FAIL ${label}_$name: no line (tcpdump '$theirs')"
			bad=$((bad + 1)) ;;
		esac
	done 3<"$tmp/$label.ours" 4<"$tmp/$label.tcpdump"
	if [ "$n" -eq 0 ] || [ "$n" -ne "$(wc -l <"$tmp/$label.tcpdump")" ]; then
		echo "FAIL ${label}_count: $n lines of ours, $(wc -l <"$tmp/$label.tcpdump") of tcpdump's"
	elif [ "$bad" -eq 0 ]; then
		echo "PASS ${label}: $n cases, $eq equal to tcpdump's line, $prefix its prefix"
	fi
}

run full 0
run snap alert		# PM_SNAP_LEN
run cut64 64
run cut40 40
