#!/usr/bin/env bash
# The incident, reproduced in network namespaces: a workstation reaches a
# load balancer through a gateway watched by protomix. First ping and TCP
# to port 80 work; then the WAN "encrypts at one end" and the load
# balancer receives ESP. protomix flags it, with tcpdump-style evidence,
# and writes a snapshot. Needs root; leaves nothing behind.
set -u
cd "$(dirname "$0")/.."
PROTOMIX=$PWD/build/protomix
SENDFRAMES=$PWD/tests/build/sendframes
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (network namespaces and BPF)" >&2
	exit 2
fi
for f in "$PROTOMIX" "$SENDFRAMES"; do
	[ -x "$f" ] || { echo "demo: $f is missing: run make && make tests" >&2; exit 2; }
done
# shellcheck source=tests/lib/lab.sh
source tests/lib/lab.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

lab_up "pmdemo$$" || exit 1
SNAP=$PWD/build/demo-incident.json	# kept after the demo
GW_MAC=$(lab_mac gw gw-ws)

say "lab: workstation 10.10.1.10 -- gateway (protomix on gw-ws) -- load balancer 10.20.0.80"
pm_start demo watch --oneway-window 2 -o "$SNAP" gw-ws
pm_wait_attached demo || exit 1
tail -n +1 -f "$(pm_out demo)" >&2 &
TAILPID=$!
trap 'kill $TAILPID 2>/dev/null; lab_cleanup' EXIT

say "before: the workstation pings the load balancer and opens its web port (TCP 80)"
lab_exec lb iperf3 -s -p 80 -1 -D >/dev/null 2>&1
sleep 0.3
lab_exec ws ping -c 3 -i 0.3 -q 10.20.0.80 | grep -E "packets transmitted" >&2
lab_exec ws iperf3 -c 10.20.0.80 -p 80 -n 64K >/dev/null 2>&1 &&
	echo "TCP to 10.20.0.80:80: works" >&2
sleep 1.5

say "the WAN switches on IPsec at one end: the workstation's packets arrive as ESP"
for i in 0 1 2 3 4 5; do
	# numbered as an IPsec peer numbers them: 0x3de0a5, 0x3de0a6, ...
	lab_exec ws "$SENDFRAMES" ws0 esp4 40 --dst-mac "$GW_MAC" \
		--seq-start $((0x3de0a5 + 40 * i)) --seq-step 1
	sleep 0.5
done
lab_exec ws ping -c 2 -i 0.3 -q 10.20.0.80 | grep -E "packets transmitted" >&2
sleep 2.5

pm_stop demo
sleep 0.2
kill $TAILPID 2>/dev/null

say "snapshot for the ticket ($SNAP), the load balancer's entry:"
jq -c '.destinations[] | select(.addr == "10.20.0.80") | {addr, packets, expected, violations}' "$SNAP" >&2
jq -c '.stats.alerts' "$SNAP" >&2
say "what protomix found:"
jq -r '.alerts | group_by([.kind, .src, .dst, .class, .spi])[] |
	"\(length) x \(.[0].kind): \(.[0].src) > \(.[0].dst) \(.[0].class) spi=\(.[0].spi // "-") seq \(.[0].seq // "-") .. \(.[-1].seq // "-")"' "$SNAP" >&2
say "for the ticket: protomix snapshot -f md (while it runs), or the JSON above"

