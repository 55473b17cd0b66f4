#!/usr/bin/env bash
# encap_test: carriers and WireGuard in a real watch, in the lab of
# tests/lib/lab.sh. Frames crafted by tests/build/sendframes (cases of
# tests/frames.c) go from the workstation (ws0) to gw-ws, where protomix
# watches (tc ingress, then XDP):
#   - a TCP destination reached over MPLS that turns to WireGuard (over
#     MPLS too) raises protocol_shift, one alert per WireGuard packet;
#   - the same over PPPoE, and with plain IP;
#   - a destination that only ever had WireGuard raises nothing;
#   - MACsec, PPPoE LCP and an MPLS pseudowire count in the stats under
#     macsec, pppoe_other and mpls_other, in the snapshot and the metrics;
#   - tunnels (--decap, the default): a load balancer inside VXLAN, inside
#     GRE and inside GTP-U that gets TCP then ESP raises protocol_shift
#     naming the INNER destination, one alert per ESP packet; the tunnel's
#     far end counts under vxlan, gre, gtp_u, the inner destinations
#     under their own classes; the hook's inner_packets and inner_reason
#     (read from the stats map while the watch runs) are exact, and the
#     outer classes and reasons still add up to the frames;
#   - --no-decap: the same frames count under the outer destinations only.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root encap
need_cmds encap ip jq python3
SENDFRAMES=$LAB_ROOT/tests/build/sendframes
for f in "$PROTOMIX" "$SENDFRAMES"; do
	if [ ! -x "$f" ]; then
		fail encap "$f not built (run make tests)"
		exit 1
	fi
done

P=pmt-$$-en
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }

# IP payload lengths of the cases (tests/frames.c): mpls_wg_data4 and
# wg_data4 are UDP (8) and 96 bytes of WireGuard transport data.
WG_LEN=104

jqs() { jq -c "$2" "$1" 2>/dev/null || echo "invalid JSON in $1"; }
alerts() { jq -c "select(.type == \"alert\")${2:+ | select($2)}" "$1" 2>/dev/null; }
nalerts() { alerts "$@" | wc -l | tr -d ' '; }
dest() { jqs "$1" ".destinations[] | select(.addr == \"$2\") | {packets, violations, expected}"; }
FIELDS='{kind, iface, dir, src, dst, class, spi, len, expected}'
MPORT=9464	# protomix's metrics, in the gateway namespace

# scrape_until FILE: GET /metrics into FILE until one scrape holds all
# of the counts checked (the watch reads the maps every interval, which
# may fall between two sends: macsec 5 and mpls_depth still 0), 5 s at most
scrape_until()
{
	local i

	for ((i = 0; i < 25; i++)); do
		[ "$(lab_fetch "http://127.0.0.1:$MPORT/metrics" "$1")" = 200 ] &&
			grep -q '^protomix_macsec_total 5$' "$1" &&
			grep -q '^protomix_malformed_total{reason="mpls_depth"} 2$' "$1" &&
			grep -q '^protomix_mpls_other_total 6$' "$1" &&
			grep -q '^protomix_pppoe_other_total 5$' "$1" && return 0
		sleep 0.2
	done
	return 1
}

# stats_of HOOK_INDEX: the stats map entry of the watch attached to the
# gateway's gw-ws (pm_xdp there, else its tc ingress program), summed over
# the CPUs, as JSON: read while the watch runs (its maps go with it).
stats_of()
{
	local ns id m

	ns=$(lab_ns gw) || return
	if [ "$1" = 0 ]; then
		id=$(ip -n "$ns" -j -d link show dev gw-ws | jq -r '.[0].xdp.prog.id // empty')
	else
		# tcx (6.6 on), else a classic clsact filter
		id=$(ip netns exec "$ns" bash -c "LAB_PYTHON=$LAB_PYTHON; $(declare -f _lab_tcx_ids); _lab_tcx_ids gw-ws" |
		     awk '$1 == "ingress" { print $2; exit }')
		[ -n "$id" ] || id=$(ip netns exec "$ns" bpftool -j net show dev gw-ws |
			jq -r '[.[0].tc[]? | select(.kind | test("ingress"))][0].id // empty')
	fi
	[ -n "$id" ] || { echo "no program on gw-ws"; return; }
	for m in $(bpftool prog show id "$id" -j | jq -r '.map_ids[]'); do
		[ "$(bpftool map show id "$m" -j | jq -r .name)" = stats ] || continue
		bpftool map lookup id "$m" key "$1" 0 0 0 -j |
			jq -c '[.formatted.values[].value] |
				{frames: (map(.frames) | add),
				 class_packets: ([.[].class_packets] | transpose | map(add)),
				 reason: ([.[].reason] | transpose | map(add)),
				 inner_packets: (map(.inner_packets) | add),
				 inner_reason: ([.[].inner_reason] | transpose | map(add))}'
		return
	done
	echo "no stats map"
}

# tunnels_send: the tunnel frames of the run (the incident inside VXLAN,
# GRE and GTP-U: TCP to an inner load balancer, then ESP), and two
# tunnels with nothing to count inside
tunnels_send()
{
	send_ws vxlan_tcp4 2 --dst 10.20.0.130 --inner-dst 10.97.0.90
	send_ws vxlan_esp4 3 --dst 10.20.0.130 --inner-dst 10.97.0.90
	send_ws gre_key_tcp4 2 --dst 10.20.0.131 --inner-dst 10.97.0.91
	send_ws gre_cks_esp4 3 --dst 10.20.0.131 --inner-dst 10.97.0.91
	send_ws gtpu_tcp4 2 --dst 10.20.0.132 --inner-dst 10.97.0.92
	send_ws gtpu_esp4 3 --dst 10.20.0.132 --inner-dst 10.97.0.92
	send_ws vxlan_no_i 2 --dst 10.20.0.130		# tun_bad_hdr inside
	send_ws gtpu_echo 1 --dst 10.20.0.132		# tun_other inside
}

# esp_shift_alert DST: the first alert for an inner DST
esp_shift_alert()
{
	printf '{"kind":"protocol_shift","iface":"gw-ws","dir":"ingress","src":"10.97.1.10","dst":"%s","class":"esp","spi":"0xd7ca145d","len":80,"expected":["tcp"]}' "$1"
}

# shift_alert DST: what the first alert for DST must say
shift_alert()
{
	printf '{"kind":"protocol_shift","iface":"gw-ws","dir":"ingress","src":"10.10.1.10","dst":"%s","class":"wireguard","spi":null,"len":%d,"expected":["tcp"]}' \
		"$1" "$WG_LEN"
}

# run HOOK: one watch, every check of this test under HOOK/
run()
{
	local h=$1 n so s m ih st

	[ "$h" = xdp ] && ih=xdp || ih=tc_ingress
	n=$h
	so=$(pm_out "$n") s=$LAB_DIR/$n.json m=$LAB_DIR/$n.metrics
	# --oneway-window 3600: the WireGuard bursts here get no answer, and
	# a scan that falls within a burst's length after 5 s (the default
	# window: first seen >= 5 s ago, last <= 5 s ago) would add a
	# one_way_ipsec alert, by luck of timing (6.1 under QEMU, where
	# this run outlasts 5 s). This test counts the protocol_shift ones.
	start "$n" watch --hook "$h" --json -i 0.2 -o "$s" --metrics "127.0.0.1:$MPORT" \
		--oneway-window 3600 gw-ws || return

	send_ws mpls_tcp4 2 --dst 10.20.0.120		# tcp over MPLS ...
	send_ws mpls_wg_data4 3 --dst 10.20.0.120	# ... then WireGuard: shift
	send_ws pppoe_tcp4 2 --dst 10.20.0.121		# the same over PPPoE
	send_ws wg_data4 3 --dst 10.20.0.121
	send_ws tcp4 2 --dst 10.20.0.122		# and over plain IP
	send_ws wg_init4 1 --dst 10.20.0.122
	send_ws mpls_wg_data4 3 --dst 10.20.0.123	# only ever WireGuard
	send_ws macsec 4
	send_ws vlan_macsec 1
	send_ws pppoe_lcp 5
	send_ws mpls_cw_ip4 6
	send_ws mpls_depth9 2				# malformed: 9 labels
	tunnels_send
	scrape_until "$m"
	[ "$h" = xdp ] && st=$(stats_of 0) || st=$(stats_of 1)
	stop "$n"

	local t d n121 ntot
	for t in 90 91 92; do
		d=10.97.0.$t
		assert_eq "$h/inner_shift_alerts_$d" 3 "$(nalerts "$so" ".dst == \"$d\"")"
		assert_eq "$h/inner_shift_fields_$d" "$(esp_shift_alert "$d")" \
			"$(alerts "$so" ".dst == \"$d\"" | head -1 | jq -c "$FIELDS" 2>&1)"
		assert_eq "$h/inner_dest_$d" \
			'{"expected":["tcp"],"packets":{"esp":3,"tcp":2},"violations":3}' \
			"$(dest "$s" "$d" | jq -S -c .)"
	done
	assert_eq "$h/outer_dests" \
		'{"10.20.0.130":{"vxlan":7},"10.20.0.131":{"gre":5},"10.20.0.132":{"gtp_u":6}}' \
		"$(jqs "$s" '[.destinations[] | select(.addr | startswith("10.20.0.13")) |
			{(.addr): .packets}] | add' | jq -S -c .)"
	assert_eq "$h/inner_no_other_dests" '["10.97.0.90","10.97.0.91","10.97.0.92"]' \
		"$(jqs "$s" '[.destinations[].addr | select(startswith("10.97."))] | sort')"
	# 15 inner packets counted, 2 VXLAN without the I flag, 1 GTP echo;
	# the outer frames: 34 of the carriers and WireGuard, 18 tunnels
	assert_eq "$h/inner_stats" \
		'{"frames":52,"inner_packets":15,"tun_bad_hdr":2,"tun_other":1,"inner_reasons":3,"tunnels":18,"outer_sum":52}' \
		"$(jq -c --argjson tb "$TUN_BAD_HDR" --argjson to "$TUN_OTHER" '
			{frames, inner_packets, tun_bad_hdr: .inner_reason[$tb],
			 tun_other: .inner_reason[$to], inner_reasons: (.inner_reason | add),
			 tunnels: (.class_packets[9] + .class_packets[14] + .class_packets[15] +
				   .class_packets[16]),
			 outer_sum: ((.class_packets | add) + (.reason | add))}' <<<"$st" 2>&1)"

	assert_eq "$h/mpls_shift_alerts" 3 "$(nalerts "$so" '.dst == "10.20.0.120"')"
	assert_eq "$h/mpls_shift_fields" "$(shift_alert 10.20.0.120)" \
		"$(alerts "$so" '.dst == "10.20.0.120"' | head -1 | jq -c "$FIELDS" 2>&1)"
	assert_eq "$h/mpls_shift_dest" \
		'{"packets":{"tcp":2,"wireguard":3},"violations":3,"expected":["tcp"]}' \
		"$(dest "$s" 10.20.0.120)"
	# (on a mismatch, the alerts themselves)
	n121=$(nalerts "$so" '.dst == "10.20.0.121"')
	[ "$n121" = 3 ] || n121="$n121: $(alerts "$so" '.dst == "10.20.0.121"' |
		jq -c '{kind, time, iface, dir, src, class}' | paste -sd' ')"
	assert_eq "$h/pppoe_shift_alerts" 3 "$n121"
	assert_eq "$h/pppoe_shift_fields" "$(shift_alert 10.20.0.121)" \
		"$(alerts "$so" '.dst == "10.20.0.121"' | head -1 | jq -c "$FIELDS" 2>&1)"
	assert_eq "$h/ip_shift_dest" \
		'{"packets":{"tcp":2,"wireguard":1},"violations":1,"expected":["tcp"]}' \
		"$(dest "$s" 10.20.0.122)"
	assert_eq "$h/wg_only_no_alert" 0 "$(nalerts "$so" '.dst == "10.20.0.123"')"
	assert_eq "$h/wg_only_dest" '{"packets":{"wireguard":3},"violations":0}' \
		"$(dest "$s" 10.20.0.123 | jq -c '{packets, violations}')"
	ntot=$(nalerts "$so")
	[ "$ntot" = 16 ] || ntot="$ntot: $(alerts "$so" | jq -r .kind | sort | uniq -c | paste -sd' ')"
	assert_eq "$h/alert_total" 16 "$ntot"
	# the ingress hook's counts (the gateway may send frames of its own,
	# as ARP or ICMP errors, out of gw-ws: tc_egress)
	assert_eq "$h/stats" \
		'{"macsec":5,"pppoe_other":5,"mpls_other":6,"non_ip":0,"mpls_depth":2,"frames":52,"vlan_frames":1,"shift":16}' \
		"$(jqs "$s" ".stats | .alerts.protocol_shift as \$sh | .hooks.$ih |
			{macsec, pppoe_other, mpls_other, non_ip, mpls_depth: .malformed.mpls_depth,
			 frames, vlan_frames, shift: \$sh}")"
	assert_eq "$h/frames_add_up" true \
		"$(jqs "$s" ".stats.hooks.$ih | ([.packets[]] | add) + .non_ip + .macsec +
			.mpls_other + .pppoe_other + ([.malformed[]] | add) == .frames")"
	assert_eq "$h/metrics" \
		'macsec=5 mpls_other=6 pppoe_other=5 mpls_depth=2 wireguard=10' \
		"$(awk '$1 == "protomix_macsec_total" { m = $2 }
			$1 == "protomix_mpls_other_total" { o = $2 }
			$1 == "protomix_pppoe_other_total" { p = $2 }
			$1 == "protomix_malformed_total{reason=\"mpls_depth\"}" { d = $2 }
			$1 ~ /^protomix_packets_total\{.*class="wireguard"/ { w += $2 }
			END { printf "macsec=%s mpls_other=%s pppoe_other=%s mpls_depth=%s wireguard=%s",
				m, o, p, d, w }' "$m")"
}

# run_nodecap: the tunnel frames through `watch --no-decap` (tc): the
# outer destinations only, no alert
run_nodecap()
{
	local n=nodecap so s st

	so=$(pm_out "$n") s=$LAB_DIR/$n.json
	start "$n" watch --no-decap --json -i 0.2 -o "$s" gw-ws || return
	tunnels_send
	for ((i = 0; i < 25; i++)); do
		[ "$(tail -n 1 "$so" | jq '.stats.frames // 0' 2>/dev/null)" = 18 ] && break
		sleep 0.2
	done
	st=$(stats_of 1)
	stop "$n"
	# (the gateway's ICMP errors to the workstation, if any, go out of
	# gw-ws: tc egress, not these)
	assert_eq nodecap/dests \
		'{"10.20.0.130":{"vxlan":7},"10.20.0.131":{"gre":5},"10.20.0.132":{"gtp_u":6}}' \
		"$(jqs "$s" '[.destinations[] | select(.addr | startswith("10.20.0.13")) |
			{(.addr): .packets}] | add' | jq -S -c .)"
	assert_eq nodecap/no_inner_dests '[]' \
		"$(jqs "$s" '[.destinations[].addr | select(startswith("10.97."))]')"
	assert_eq nodecap/no_alert 0 "$(nalerts "$so")"
	assert_eq nodecap/inner_stats '{"frames":18,"inner_packets":0,"inner_reasons":0}' \
		"$(jq -c '{frames, inner_packets, inner_reasons: (.inner_reason | add)}' <<<"$st" 2>&1)"
}

# enum pm_reason's indexes of the inner reasons (headers/protomix.h)
TUN_BAD_HDR=$(awk '/^enum pm_reason/ { on = 1; n = 0; next } on && /^\tPM_R_/ {
	if ($1 ~ /^PM_R_TUN_BAD_HDR/) print n; n++ } /^};/ { on = 0 }' headers/protomix.h)
TUN_OTHER=$((TUN_BAD_HDR + 1))

run tc
run xdp
run_nodecap

no_leftovers "$P"
