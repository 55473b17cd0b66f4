#!/usr/bin/env bash
# fuzz_test: a short libFuzzer run of each userspace parser target
# (tests/fuzz/*.c, built with clang -fsanitize=fuzzer,address,undefined by
# `make fuzz`): the rules parser, capture reading as replay does it, the
# snapshot readers (snapshot_read, baseline_load), the Markdown/CSV
# export of any JSON object and the evidence decoder (user/evidence*.c). FUZZ_TARGETS="fuzz_rules ..." picks some. Seeds come from tests/build/gen_corpus and a small
# snapshot; each target runs FUZZ_SECS seconds (default 5).
#
# A crash, a leak, a sanitizer report or a failed check is a FAIL; the
# input that did it is kept in tests/build/fuzz/ (crash-*, leak-*, ...).
# SKIP when clang's fuzzer runtime is missing (Debian 12: libclang-rt-14-dev).
#
# A long run (the README's numbers):
#   make fuzz && tests/build/fuzz/fuzz_pcap -max_total_time=3600 -max_len=4096 DIR
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECS:-5}
cc=${FUZZ_CC:-clang}
name=fuzz

if ! command -v "$cc" >/dev/null; then
	echo "SKIP $name: $cc is not installed"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
	>"$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer,address "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null; then
	echo "SKIP $name: $cc has no libFuzzer runtime (install libclang-rt-14-dev)"; exit 0
fi
if ! make -s fuzz >"$tmp/build.log" 2>&1; then
	echo "FAIL $name/build: $(grep -m1 -E 'error|Error' "$tmp/build.log")"; exit 1
fi

# ---- seeds --------------------------------------------------------------
mkdir -p "$tmp/seeds_rules" "$tmp/seeds_pcap" "$tmp/seeds_snapshot" "$tmp/seeds_export" \
	"$tmp/seeds_evidence"
printf '10.20.0.0/16=tcp\n' >"$tmp/seeds_rules/one"
printf '# the load balancers\n10.20.0.0/16=tcp,icmp\n2001:db8:20::/48=tcp\n\n10.20.0.80=esp,ah # tunnel\n' \
	>"$tmp/seeds_rules/file"
printf '::ffff:10.0.0.0/104=udp,ike,esp_udp\n0.0.0.0/0=other\n' >"$tmp/seeds_rules/v6"

gen=tests/build/gen_corpus
seq=(--mode seq --seq tcp4:2 --seq esp4:1 --seq esp6_ext:1 --seq esp4_qinq:1
     --seq frag6_nonfirst_udp:1 --seq esp_udp4:1 --seq ah6_chain:1 --seq eth_trunc:1)
if [ -x $gen ]; then
	for lt in en10mb raw sll sll2 null; do
		$gen "${seq[@]}" --linktype $lt "$tmp/seeds_pcap/$lt.pcap" 2>/dev/null
	done
	$gen "${seq[@]}" --pcapng --odd "$tmp/seeds_pcap/odd.pcapng" 2>/dev/null
	$gen "${seq[@]}" --nsec --swapped "$tmp/seeds_pcap/nsec_swapped.pcap" 2>/dev/null
	$gen "${seq[@]}" --snaplen 40 "$tmp/seeds_pcap/snaplen.pcap" 2>/dev/null
fi
cat >"$tmp/seeds_snapshot/snap.json" <<'EOF'
{"schema":"protomix.snapshot/1","host":"gw","taken_at":"2026-11-27T11:51:08.000000Z",
 "started_at":"2026-11-27T11:51:03.852511Z","kernel":"6.18",
 "interfaces":[{"name":"lan0","ifindex":3,"hooks":["xdp","tc_egress"]}],
 "destinations":[{"addr":"10.20.0.80","packets":{"tcp":50,"esp":20},
   "bytes":{"tcp":2700,"esp":2000},"first_seen":"2026-11-27T11:51:03.852511Z",
   "last_seen":"2026-11-27T11:51:04.000000Z","expected":["tcp"],"violations":20},
  {"addr":"2001:db8:20::80","packets":{"udp":1},"bytes":{"udp":60},"expected":[]}],
 "alerts":[{"type":"alert","kind":"unexpected_protocol","time":"2026-11-27T11:51:03.852511Z",
   "iface":"lan0","dir":"ingress","src":"10.10.1.10","dst":"10.20.0.80","class":"esp",
   "spi":"0xd7ca145d","seq":"0x3de0a5","len":100,"expected":["tcp"]}],
 "stats":{"frames":71,"packets":{"tcp":50,"esp":20,"udp":1},"non_ip":0,"malformed":{}},
 "evidence":[{"ts_ns":1795780263852511000,"wire_len":114,"frame":"02005e00008002005e0001100800"}]}
EOF

cp "$tmp/seeds_snapshot/snap.json" "$tmp/seeds_export/"
# the frames of tests/evidence_test.sh, one file each (a pcap's records)
if [ -x tests/build/evidence_cases ] &&
   tests/build/evidence_cases "$tmp/evidence.pcap" 0 >/dev/null; then
	python3 - "$tmp/evidence.pcap" "$tmp/seeds_evidence" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, i = 24, 0
while off + 16 <= len(d):
    cap = struct.unpack('<I', d[off + 8:off + 12])[0]
    open('%s/%03d' % (sys.argv[2], i), 'wb').write(d[off + 16:off + 16 + cap])
    off, i = off + 16 + cap, i + 1
PY
fi

# inputs that once failed a check, kept: each run tries them first
for d in tests/fuzz/regress/*/; do
	[ -d "$d" ] && mkdir -p "$tmp/seeds_$(basename "$d")" && cp "$d"* "$tmp/seeds_$(basename "$d")/"
done

# ---- runs -----------------------------------------------------------------
rc=0
for t in ${FUZZ_TARGETS:-fuzz_rules fuzz_pcap fuzz_snapshot fuzz_export fuzz_evidence}; do
	bin=tests/build/fuzz/$t
	seeds=$tmp/seeds_${t#fuzz_}
	mkdir -p "$tmp/corpus_$t"
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
		-print_final_stats=1 -artifact_prefix="$tmp/$t-" \
		"$tmp/corpus_$t" "$seeds" >"$tmp/$t.log" 2>&1
	status=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/$t.log" | grep -o '[0-9]*$')
	if [ $status -ne 0 ]; then
		kept=""
		for a in "$tmp/$t-"*; do
			[ -e "$a" ] || continue
			cp "$a" tests/build/fuzz/ && kept="$kept tests/build/fuzz/$(basename "$a")"
		done
		why=$(grep -m1 -E 'ERROR: |runtime error|SUMMARY' "$tmp/$t.log")
		echo "FAIL $name/${t#fuzz_}: exit $status: ${why:-see the log}; input:${kept:- none}"
		rc=1
	else
		echo "PASS $name/${t#fuzz_}"
		echo "# $t: ${runs:-?} inputs in ${secs}s, corpus $(ls "$tmp/corpus_$t" | wc -l) entries"
	fi
done
exit $rc
