#!/usr/bin/env bash
# bench/diff.sh: `protomix diff` of two snapshots of 1,000,000 destinations
# each, and `--baseline` loading of one (through `protomix replay` over an
# empty capture). Called by bench/run.sh; alone: bench/diff.sh [DESTS].
#
# The snapshots are generated here (awk), in the layout `watch -o` writes
# (json-c's pretty print): IPv4 and some IPv6 addresses, 2 to 4 classes
# per destination with packets and bytes, times, expectations. NEW drops
# the first 5% of OLD's destinations and adds as many; of those in both,
# one in ten changes its mix (ESP appears), the rest grow by a third with
# the same mix.
#
# Figures (3 rounds each; /usr/bin/time -v): seconds and peak RSS of
# `protomix diff OLD NEW` (text; goal < 5 s and < 1 GB: PASS/MISS; its
# CPU seconds are printed too, as other work on the machine stretches the
# wall-clock time), of
# `--json` (one round), of `replay --baseline OLD` (the reader plus the
# program load). Printed on stderr, and as JSON in build/bench-diff.json.
# A slow result is a figure, never an exit status.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
PM=$ROOT/build/protomix
N=${1:-1000000}
ROUNDS=${DIFF_ROUNDS:-3}
OUT=$ROOT/build/bench-diff.json
say() { printf '%s\n' "$*" >&2; }

[ -x "$PM" ] || { say "diff bench: $PM missing (make)"; exit 1; }
[ -x /usr/bin/time ] || { say "diff bench: /usr/bin/time missing (apt-get install time)"; exit 1; }
WORK=$(mktemp -d "/tmp/pmbdiff-$$.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'rm -rf "$WORK"; trap - EXIT; exit 130' INT
trap 'rm -rf "$WORK"; trap - EXIT; exit 143' TERM

# gen SIDE N FILE: a protomix.snapshot/1 document; SIDE old or new
gen()
{
	awk -v side="$1" -v n="$2" 'BEGIN {
		split("tcp udp icmp esp gre icmp6 ike", cls, " ")
		first = side == "old" ? 0 : int(n / 20)
		printf "{\n  \"schema\":\"protomix.snapshot/1\",\n  \"host\":\"bench\",\n"
		printf "  \"taken_at\":\"2026-11-27T%s:00:00.000000Z\",\n", side == "old" ? "11" : "12"
		printf "  \"started_at\":\"2026-11-27T10:00:00.000000Z\",\n  \"kernel\":\"6.18.0\",\n"
		printf "  \"interfaces\":[\n    {\n      \"name\":\"lan0\",\n      \"ifindex\":3,\n"
		printf "      \"hooks\":[\n        \"tc_ingress\",\n        \"tc_egress\"\n      ]\n    }\n  ],\n"
		printf "  \"destinations\":[\n"
		for (id = first; id < first + n; id++) {
			if (id % 8 == 7)
				addr = sprintf("2001:db8:%x::%x", int(id / 65536), id % 65536)
			else
				addr = sprintf("%d.%d.%d.%d", 10 + int(id / 16777216), int(id / 65536) % 256,
					       int(id / 256) % 256, id % 256)
			k = 2 + id % 3
			changed = side == "new" && id % 10 == 0
			pk = ""; by = ""
			for (c = 1; c <= k; c++) {
				v = (id * 7919 + c * 104729) % 100000 + 1
				if (side == "new")
					v = v + int(v / 3)
				name = cls[(id + c) % 7 + 1]
				if (changed && name == "esp")
					continue
				pk = pk sprintf("%s        \"%s\":%d", pk == "" ? "" : ",\n", name, v)
				by = by sprintf("%s        \"%s\":%d", by == "" ? "" : ",\n", name, v * 120)
			}
			if (changed) {
				pk = pk sprintf(",\n        \"esp\":%d", 50000 + id % 1000)
				by = by sprintf(",\n        \"esp\":%d", (50000 + id % 1000) * 100)
			}
			printf "    {\n      \"addr\":\"%s\",\n      \"packets\":{\n%s\n      },\n", addr, pk
			printf "      \"bytes\":{\n%s\n      },\n", by
			printf "      \"first_seen\":\"2026-11-27T10:%02d:%02d.%06dZ\",\n", id % 60, id % 59, id % 1000000
			printf "      \"last_seen\":\"2026-11-27T10:59:%02d.%06dZ\",\n", id % 60, id % 999999
			printf "      \"expected\":[\n%s      ],\n", id % 5 == 0 ? "        \"tcp\",\n        \"icmp\"\n" : ""
			printf "      \"violations\":%d\n    }%s\n", id % 5 == 0 ? id % 7 : 0, id < first + n - 1 ? "," : ""
		}
		printf "  ],\n  \"alerts\":[\n  ],\n  \"stats\":{\n    \"frames\":123456789\n  }\n}\n"
	}' >"$3"
}

# timed FILE CMD...: runs CMD under /usr/bin/time -v; prints "SECONDS KB RC"
timed()
{
	local f=$1

	shift
	/usr/bin/time -v "$@" >"$WORK/stdout" 2>"$f"
	local rc=$?
	awk -v rc="$rc" '/Elapsed \(wall clock\)/ { n = split($NF, t, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + t[i] }
		/Maximum resident set size/ { kb = $NF }
		/User time \(seconds\)|System time \(seconds\)/ { cpu += $NF }
		END { printf "%.2f %d %d %.2f\n", s, kb, rc, cpu }' "$f"
}

say "== diff: two snapshots of $N destinations (generating)"
t0=$(date +%s.%N)
gen old "$N" "$WORK/old.json" & gen new "$N" "$WORK/new.json" & wait
t1=$(date +%s.%N)
SIZE=$(stat -c %s "$WORK/old.json")
say "  generated in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s: OLD $SIZE bytes ($(awk -v s="$SIZE" -v n="$N" 'BEGIN { printf "%.0f", s / n }') per destination), NEW $(stat -c %s "$WORK/new.json") bytes"

secs=() rss=()
for ((r = 1; r <= ROUNDS; r++)); do
	read -r s kb rc cpu < <(timed "$WORK/time.txt" "$PM" diff "$WORK/old.json" "$WORK/new.json")
	if [ "$rc" -ne 0 ]; then
		say "  diff failed (exit $rc): $(grep -m1 protomix "$WORK/time.txt")"
		break
	fi
	secs+=("$s") rss+=("$kb")
	say "  round $r: $s s (CPU $cpu s; the load average is $(cut -d' ' -f1 /proc/loadavg)), peak RSS $((kb / 1024)) MB   ($(tail -1 "$WORK/stdout" | cut -d'(' -f1))"
done
read -r js jkb jrc _ < <(timed "$WORK/time.txt" "$PM" diff --json "$WORK/old.json" "$WORK/new.json")
[ "$jrc" -eq 0 ] || js=null jkb=0
say "  --json: $js s, peak RSS $((jkb / 1024)) MB"

# --baseline: replay over a capture with no frame, so the time is the
# reader's and the program load's (as root: BPF_PROG_TEST_RUN)
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' >"$WORK/empty.pcap"
bsecs=() brss=()
if [ "$(id -u)" -eq 0 ]; then
	for ((r = 1; r <= ROUNDS; r++)); do
		read -r s kb rc _ < <(timed "$WORK/time.txt" "$PM" replay --baseline "$WORK/old.json" "$WORK/empty.pcap")
		[ "$rc" -eq 0 ] || { say "  replay --baseline failed (exit $rc): $(grep -m1 protomix "$WORK/time.txt")"; break; }
		bsecs+=("$s") brss+=("$kb")
	done
	read -r s0 kb0 rc0 _ < <(timed "$WORK/time.txt" "$PM" replay "$WORK/empty.pcap")
	say "  replay --baseline OLD: ${bsecs[*]:-n/a} s, peak RSS $(printf '%s ' "${brss[@]/%/}" | awk '{ for (i = 1; i <= NF; i++) printf "%d ", $i / 1024 }')MB (without --baseline: $s0 s, $((kb0 / 1024)) MB)"
else
	say "  replay --baseline: skipped (needs root)"
fi

med()	# VALUES...: the median
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "null";
		else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ms=$(med "${secs[@]}") mk=$(med "${rss[@]}")
verdict=MISS
[ "$ms" != null ] && awk -v s="$ms" -v k="$mk" 'BEGIN { exit !(s < 5 && k * 1024 < 1e9) }' && verdict=PASS
say "  diff of $N destinations: median $ms s (rounds ${secs[*]}), peak RSS $((${mk/null/0} / 1024)) MB (rounds $(for k in "${rss[@]}"; do printf '%d ' $((k / 1024)); done)MB): $verdict (goal < 5 s and < 1 GB)"
mkdir -p "$(dirname "$OUT")"
printf '{"dests":%s,"snapshot_bytes":%s,"diff_s":[%s],"diff_rss_kb":[%s],"diff_json_s":%s,"diff_json_rss_kb":%s,"baseline_s":[%s],"baseline_rss_kb":[%s],"verdict":"%s"}\n' \
	"$N" "$SIZE" "$(IFS=,; echo "${secs[*]}")" "$(IFS=,; echo "${rss[*]}")" "$js" "$jkb" \
	"$(IFS=,; echo "${bsecs[*]}")" "$(IFS=,; echo "${brss[*]}")" "$verdict" >"$OUT"
exit 0
