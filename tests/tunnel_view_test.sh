#!/usr/bin/env bash
# tunnel_view_test: what users see of tunnels (--decap, issue 13 point 2),
# with the traffic of tests/lib/tunnel_frames.py (VXLAN carrying TCP then
# ESP to 10.20.0.80, GRE carrying TCP to it, GTP-U carrying TCP to
# 10.30.0.5, a VXLAN without the I flag, a GTP-U echo, plain TCP to
# 10.20.0.81; 15 frames) and the rule 10.20.0.0/16=tcp.
#  1. replay (BPF_PROG_TEST_RUN, no interface): the snapshot/3 marks the
#     inner destinations with "via" (class order), counts the outer ones
#     under vxlan, gre, gtp_u; stats inner_packets 11 and inner_reason
#     tun_bad_hdr 1, tun_other 1 (the frames' sums unchanged); the alerts
#     on the ESP inside VXLAN say "via":"vxlan"; the text report marks the
#     rows and says "inner 11 (not counted: ...)"; --no-decap: no via, no
#     inner counts. That snapshot through snapshot --input: md, csv and
#     html mark the destinations and the alert group; diff reads it.
#  2. a watch in the lab (root): the same frames sent into gw-ws; its
#     metrics (protomix_inner_packets_total, protomix_inner_reason_total),
#     `status` (text and --json), the watch's report lines and its
#     snapshot say the same; so do the text report's rows and header.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

FRAMES=tests/lib/tunnel_frames.py
skip_unless_root tunnel_view || exit 0
need_cmds tunnel_view jq || exit 0
[ -x "$PROTOMIX" ] || { fail tunnel_view "$PROTOMIX not built (run make)"; exit 1; }
TMP=$(mktemp -d "/tmp/pmtun$$.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# what a snapshot says, one line each
dests() { jq -r '.destinations[] | "\(.addr) \(.packets | to_entries | map("\(.key)=\(.value)") | join(",")) via=\(.via // [] | join(","))"' "$1"; }
inner() { jq -r '.stats | "inner=\(.inner_packets) \(.inner_reason | to_entries | map(select(.value > 0) | "\(.key)=\(.value)") | join(" "))"' "$1"; }
WANT_DESTS="10.20.0.80 tcp=6,esp=3 via=gre,vxlan
192.0.2.2 vxlan=9 via=
192.0.2.4 gtp_u=3 via=
10.20.0.81 tcp=2 via=
10.30.0.5 tcp=2 via=gtp_u
192.0.2.6 gre=1 via="
WANT_INNER="inner=11 tun_bad_hdr=1 tun_other=1"

# --- 1: replay -----------------------------------------------------------------

"$LAB_PYTHON" "$FRAMES" pcap "$TMP/t.pcap" || { fail tunnel_pcap "cannot write the capture"; exit 1; }
S=$TMP/r.json
"$PROTOMIX" replay --json -e 10.20.0.0/16=tcp "$TMP/t.pcap" >"$S" 2>"$TMP/r.err"
assert_eq replay_status "0 protomix.snapshot/3" "$? $(jq -r .schema "$S" 2>&1)"
assert_eq replay_dests "$WANT_DESTS" "$(dests "$S")"
assert_eq replay_inner "$WANT_INNER" "$(inner "$S")"
# the frames' own sums: every frame once, outer classes only
assert_eq replay_frames "frames=15 tcp=2 gre=1 vxlan=9 gtp_u=3 malformed=0" \
	"$(jq -r '.stats | "frames=\(.frames) \(.packets | to_entries | map("\(.key)=\(.value)") | join(" ")) malformed=\(.malformed_total)"' "$S")"
assert_eq replay_hook_inner "xdp inner=11 tun_bad_hdr=1 tun_other=1" \
	"$(jq -r '.stats.hooks | to_entries[] | "\(.key) inner=\(.value.inner_packets) \(.value.inner_reason | to_entries | map(select(.value > 0) | "\(.key)=\(.value)") | join(" "))"' "$S")"
# not in the frames' lists: the tun_* reasons are the inner packet's
assert_eq replay_tun_not_outer "" \
	"$(jq -r '.stats | (keys[], (.malformed | keys[])) | select(startswith("tun_"))' "$S")"
assert_eq replay_alerts_via "3 unexpected_protocol 10.20.0.80 esp vxlan" \
	"$(jq -r '.alerts | "\(length) \(map("\(.kind) \(.dst) \(.class) \(.via)") | unique | join("|"))"' "$S")"

"$PROTOMIX" replay -e 10.20.0.0/16=tcp "$TMP/t.pcap" >"$TMP/r.txt" 2>&1
assert_eq replay_text_inner "  inner 11 (not counted: tun_bad_hdr 1, tun_other 1)" \
	"$(grep -E '^ +inner ' "$TMP/r.txt")"
assert_eq replay_text_via "10.20.0.80 tcp 67% esp 33% (via gre,vxlan)|10.30.0.5 tcp 100% (via gtp_u)" \
	"$(grep -F '(via ' "$TMP/r.txt" | awk '{ $2 = $3 = ""; print }' | tr -s ' ' | paste -sd'|')"

N=$TMP/n.json
"$PROTOMIX" replay --json --no-decap -e 10.20.0.0/16=tcp "$TMP/t.pcap" >"$N" 2>"$TMP/n.err"
assert_eq no_decap_dests "192.0.2.2 vxlan=9 via=
192.0.2.4 gtp_u=3 via=
10.20.0.81 tcp=2 via=
192.0.2.6 gre=1 via=" "$(dests "$N")"
assert_eq no_decap_inner "inner=0 " "$(inner "$N")"
assert_eq no_decap_alerts 0 "$(jq '.alerts | length' "$N")"

# the snapshot in the other formats
"$PROTOMIX" snapshot --input "$S" -f md -o "$TMP/r.md"
assert_eq md_status 0 "$?"
assert_eq md_dest_via "| 1 | 10.20.0.80 (via gre,vxlan) | 9 | 420 | tcp 66.7%, esp 33.3% | tcp | 3 |" \
	"$(grep -F '| 10.20.0.80 (via' "$TMP/r.md")"
assert_eq md_dest_via_gtp 1 "$(grep -cF '| 10.30.0.5 (via gtp_u) | 2 |' "$TMP/r.md")"
assert_eq md_alert_group_via 1 \
	"$(grep -cE '^\| 1 \| unexpected_protocol \| esp 10\.10\.1\.10 > 10\.20\.0\.80 \(via vxlan\) \| 0xd7ca145d \| 0x1 - 0x3 \| tcp \| replay ingress \| 3 \|' "$TMP/r.md")"
assert_eq md_inner_counters "| packets inside tunnels, counted | 11 |
| inside tunnels, not counted: tun_bad_hdr | 1 |
| inside tunnels, not counted: tun_other | 1 |" "$(grep -F 'inside tunnels' "$TMP/r.md")"
"$PROTOMIX" snapshot --input "$S" -f csv -o "$TMP/r.csv"
assert_eq csv_via "addr,class,packets,bytes,expected,violations,via
10.20.0.80,tcp,6,240,tcp,3,gre;vxlan
10.20.0.80,esp,3,180,tcp,3,gre;vxlan
192.0.2.2,vxlan,9,870,,0,
192.0.2.4,gtp_u,3,188,,0,
10.20.0.81,tcp,2,80,tcp,0,
10.30.0.5,tcp,2,80,,0,gtp_u
192.0.2.6,gre,1,64,,0," "$(cut -d, -f1-4,7- "$TMP/r.csv")"	# the times left out
"$PROTOMIX" snapshot --input "$S" -f html -o "$TMP/r.html"
assert_eq html_status 0 "$?"
assert_eq html_dest_via 2 "$(grep -cE '<tr><td>10\.(20\.0\.80 \(via gre,vxlan\)|30\.0\.5 \(via gtp_u\))</td>' "$TMP/r.html")"
assert_eq html_alert_via 1 "$(grep -cF '<td>10.20.0.80 (via vxlan)</td><td>esp</td><td class="n">3</td>' "$TMP/r.html")"
assert_eq html_inner "1 1" "$(grep -cF '<tr><th>packets inside tunnels, counted</th><td class="n">11</td></tr>' "$TMP/r.html") $(grep -cF '<tr><th>inside tunnels, not counted</th><td>tun_bad_hdr 1, tun_other 1</td></tr>' "$TMP/r.html")"
# the older and the newer snapshot compared: 10.20.0.80 appeared (decap),
# marked with its tunnels
out=$("$PROTOMIX" diff "$N" "$S" 2>&1)
assert_eq diff_reads_via "0 10.20.0.80 (via gre,vxlan): appeared, 9 packets (tcp 66.7%, esp 33.3%)" \
	"$? $(grep -F '10.20.0.80 ' <<<"$out")"

# --- 2: a watch in the lab -------------------------------------------------------

P=pmt-$$-tun
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW=$(lab_ns gw)
# nowhere further: no ICMP errors on gw-ws's egress
lab_exec gw ip route add blackhole 192.0.2.0/24
lab_exec gw ip route add blackhole 10.30.0.0/24
lab_exec gw ip route add blackhole 10.20.0.81/32
MPORT=9471
M=$LAB_DIR/m.prom
W=$LAB_DIR/w.json
start w watch --json -i 0.2 -o "$W" -e 10.20.0.0/16=tcp --metrics "127.0.0.1:$MPORT" gw-ws ||
	{ no_leftovers "$P"; exit 1; }
lab_exec ws "$LAB_PYTHON" "$LAB_ROOT/$FRAMES" send ws0 "$LAB_MAC_GW_WS" "$LAB_MAC_WS0" ||
	fail tunnel_send "tunnel_frames.py send failed"
# scrape GET /metrics into $M; value SERIES: its value there
scrape() { lab_exec gw "$LAB_PYTHON" -c "
import sys, urllib.request
open('$M', 'wb').write(urllib.request.urlopen('http://127.0.0.1:$MPORT/metrics', timeout=5).read())" 2>/dev/null; }
value() { awk -v s="$1" 'index($0, s " ") == 1 { print $2 }' "$M"; }
for ((i = 0; i < 50; i++)); do
	scrape && [ "$(value protomix_inner_packets_total)" = 11 ] &&
		[ "$(value 'protomix_alerts_total{kind="unexpected_protocol"}')" = 3 ] && break
	sleep 0.2
done
assert_eq metrics_inner "inner=11 tun_bad_hdr=1 tun_other=1 l4_trunc=0 reasons=22" \
	"inner=$(value protomix_inner_packets_total) tun_bad_hdr=$(value 'protomix_inner_reason_total{reason="tun_bad_hdr"}') tun_other=$(value 'protomix_inner_reason_total{reason="tun_other"}') l4_trunc=$(value 'protomix_inner_reason_total{reason="l4_trunc"}') reasons=$(grep -c '^protomix_inner_reason_total{' "$M")"
assert_eq metrics_classes "vxlan=9 gtp_u=3 gre=1 inner_tcp=6 inner_esp=3" \
	"vxlan=$(value 'protomix_packets_total{dst="192.0.2.2",class="vxlan"}') gtp_u=$(value 'protomix_packets_total{dst="192.0.2.4",class="gtp_u"}') gre=$(value 'protomix_packets_total{dst="192.0.2.6",class="gre"}') inner_tcp=$(value 'protomix_packets_total{dst="10.20.0.80",class="tcp"}') inner_esp=$(value 'protomix_packets_total{dst="10.20.0.80",class="esp"}')"
assert_eq metrics_no_tun_malformed 0 "$(grep -c '^protomix_malformed_total{reason="tun_' "$M")"

out=$(lab_exec gw "$PROTOMIX" status 2>&1)
assert_eq status_inner "  inside tunnels: 11 packets counted under their destination, 2 not (tun_bad_hdr 1, tun_other 1)" \
	"$(grep -F 'inside tunnels' <<<"$out")"
out=$(lab_exec gw "$PROTOMIX" status --json 2>&1)
assert_eq status_json_inner "inner=11 tun_bad_hdr=1 tun_other=1" \
	"$(jq -r '.[0].stats | "inner=\(.inner_packets) \(.inner_reason | to_entries | map(select(.value > 0) | "\(.key)=\(.value)") | join(" "))"' <<<"$out")"
stop w
# the report lines (watch --json): the last one with the inner counts,
# and a row of 10.20.0.80 with its tunnels
O=$(pm_out w)
assert_eq watch_report_inner "inner_packets=11 tun_other=1" \
	"$(jq -r 'select(.type == "report") | "inner_packets=\(.stats.inner_packets) tun_other=\(.stats.inner_reason.tun_other)"' "$O" | tail -1)"
assert_eq watch_report_via "gre,vxlan" \
	"$(jq -r 'select(.type == "report") | .top[] | select(.addr == "10.20.0.80") | .via // [] | join(",")' "$O" | grep . | tail -1)"
assert_eq watch_alerts_via "3 vxlan" \
	"$(jq -r 'select(.type == "alert") | .via' "$O" | sort | uniq -c | awk '{ print $1, $2 }')"
assert_eq watch_snapshot_dests "$WANT_DESTS" "$(dests "$W")"
assert_eq watch_snapshot_inner "$WANT_INNER" "$(inner "$W")"

# the text report: rows marked, the header line's inner counts
start t watch -i 0.3 gw-ws || { no_leftovers "$P"; exit 1; }
lab_exec ws "$LAB_PYTHON" "$LAB_ROOT/$FRAMES" send ws0 "$LAB_MAC_GW_WS" "$LAB_MAC_WS0" ||
	fail tunnel_send_text "tunnel_frames.py send failed"
for ((i = 0; i < 50; i++)); do
	grep -q ' inner 11 (not counted: tun_bad_hdr 1, tun_other 1)$' "$(pm_out t)" && break
	sleep 0.2
done
stop t
O=$(pm_out t)
assert_eq text_header_inner 1 \
	"$(tail -n +2 "$O" | grep -E '^[0-9T:.-]+Z .* non-ip 0 inner 11 \(not counted: tun_bad_hdr 1, tun_other 1\)$' | tail -1 | wc -l)"
# (the rows of every interval with packets: the mix may be split)
assert_eq text_rows_via "10.20.0.80 (via gre,vxlan)|10.30.0.5 (via gtp_u)" \
	"$(grep -E '^  10\.(20\.0\.80|30\.0\.5) ' "$O" | sed -nE 's/^  ([0-9.]+) .*( \(via [a-z_,]+\))$/\1\2/p' | sort -u | paste -sd'|')"
assert_eq text_outer_unmarked "" "$(grep -E '^  192\.0\.2\.[0-9]+ .*via' "$O")"
no_leftovers "$P"
exit 0
