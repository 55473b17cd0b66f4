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
#     macsec, pppoe_other and mpls_other, in the snapshot and the metrics.
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

# scrape_until FILE: GET /metrics into FILE until protomix_macsec_total
# says 5 (the watch reads the maps every interval), 5 s at most
scrape_until()
{
	lab_scrape_until "http://127.0.0.1:$MPORT/metrics" "$1" '^protomix_macsec_total 5$' >/dev/null
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
	local h=$1 n so s m ih

	[ "$h" = xdp ] && ih=xdp || ih=tc_ingress
	n=$h
	so=$(pm_out "$n") s=$LAB_DIR/$n.json m=$LAB_DIR/$n.metrics
	start "$n" watch --hook "$h" --json -i 0.2 -o "$s" --metrics "127.0.0.1:$MPORT" gw-ws || return

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
	scrape_until "$m"
	stop "$n"

	assert_eq "$h/mpls_shift_alerts" 3 "$(nalerts "$so" '.dst == "10.20.0.120"')"
	assert_eq "$h/mpls_shift_fields" "$(shift_alert 10.20.0.120)" \
		"$(alerts "$so" '.dst == "10.20.0.120"' | head -1 | jq -c "$FIELDS" 2>&1)"
	assert_eq "$h/mpls_shift_dest" \
		'{"packets":{"tcp":2,"wireguard":3},"violations":3,"expected":["tcp"]}' \
		"$(dest "$s" 10.20.0.120)"
	assert_eq "$h/pppoe_shift_alerts" 3 "$(nalerts "$so" '.dst == "10.20.0.121"')"
	assert_eq "$h/pppoe_shift_fields" "$(shift_alert 10.20.0.121)" \
		"$(alerts "$so" '.dst == "10.20.0.121"' | head -1 | jq -c "$FIELDS" 2>&1)"
	assert_eq "$h/ip_shift_dest" \
		'{"packets":{"tcp":2,"wireguard":1},"violations":1,"expected":["tcp"]}' \
		"$(dest "$s" 10.20.0.122)"
	assert_eq "$h/wg_only_no_alert" 0 "$(nalerts "$so" '.dst == "10.20.0.123"')"
	assert_eq "$h/wg_only_dest" '{"packets":{"wireguard":3},"violations":0}' \
		"$(dest "$s" 10.20.0.123 | jq -c '{packets, violations}')"
	assert_eq "$h/alert_total" 7 "$(nalerts "$so")"
	# the ingress hook's counts (the gateway may send frames of its own,
	# as ARP or ICMP errors, out of gw-ws: tc_egress)
	assert_eq "$h/stats" \
		'{"macsec":5,"pppoe_other":5,"mpls_other":6,"non_ip":0,"mpls_depth":2,"frames":34,"vlan_frames":1,"shift":7}' \
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

run tc
run xdp

no_leftovers "$P"
