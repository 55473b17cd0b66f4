# shellcheck shell=bash
# The incident lab (docs/README.md, "The incident"), in network namespaces,
# for end-to-end tests.
#
#   $PREFIX-ws  workstation    ws0    10.10.1.10/24  2001:db8:10::10/64
#                                 |  (veth)
#   $PREFIX-gw  gateway        gw-ws  10.10.1.1/24   2001:db8:10::1/64
#               (forwarding)   gw-lb  10.20.0.1/24   2001:db8:20::1/64
#                                 |  (veth)
#   $PREFIX-lb  load balancer  lb0    10.20.0.80/24  2001:db8:20::80/64
#
# Every MAC is fixed and every neighbour entry static, so nothing in the lab
# speaks ARP or ND. Link-local addresses, DAD and router solicitations are
# off (addr_gen_mode=1, nodad, router_solicitations=0, accept_ra=0). What is
# left is the MLDv2 report for each static address's solicited-node group,
# sent at link up and once more; with mldv2_unsolicited_report_interval=0
# the repeat follows within milliseconds, so both are over before lab_up
# returns. (multicast off does not stop them; nothing short of IFF_NOARP,
# which breaks neighbour entries, does.) After lab_up the gateway's
# interfaces see exactly the frames a test sends: checked with tcpdump on all
# four veths for 4 s, and by the lifecycle test's snapshot of zero frames.
#
# Use:
#   . tests/lib/lab.sh
#   skip_unless_root mytest
#   lab_up pmt-$$-my          # also traps EXIT INT TERM to clean up
#   pm_start w1 watch -o "$LAB_DIR/s.json" gw-ws
#   pm_wait_attached w1 gw-ws || ...
#   lab_exec ws ping -c 5 10.20.0.80
#   lab_bg srv lb iperf3 -s -1   # a background command; lab_bg_stop srv
#   wait_for "$(pm_errfile w1)" 'reloaded' 5   # until a line appears
#   lab_scrape_until "$URL" "$LAB_DIR/m" '^protomix_frames_total [1-9]'
#   pm_stop w1; rc=$?         # SIGINT, wait, exit status
#   no_leftovers pmt-$$-my    # checks, then tears the lab down
#
# Tests print one line per check: PASS name / FAIL name: why / SKIP name: why.

LAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PROTOMIX=${PROTOMIX:-$LAB_ROOT/build/protomix}

LAB_WS4=10.10.1.10 LAB_GW_WS4=10.10.1.1 LAB_GW_LB4=10.20.0.1 LAB_LB4=10.20.0.80
LAB_WS6=2001:db8:10::10 LAB_GW_WS6=2001:db8:10::1
LAB_GW_LB6=2001:db8:20::1 LAB_LB6=2001:db8:20::80
LAB_MAC_WS0=02:00:0a:0a:01:0a LAB_MAC_GW_WS=02:00:0a:0a:01:01
LAB_MAC_GW_LB=02:00:0a:14:00:01 LAB_MAC_LB0=02:00:0a:14:00:50

# Debian's python3 starts in a fifth of the time of a pyenv shim
LAB_PYTHON=python3
[ -x /usr/bin/python3 ] && LAB_PYTHON=/usr/bin/python3

LAB_PREFIX=""		# set by lab_up
LAB_DIR=""		# scratch folder of this lab (protomix output, snapshots)
declare -A PM_PIDS=()	# pm_start NAME -> pid
PM_LAST=""
declare -A LAB_BG_PIDS=()	# lab_bg NAME -> pid

# --- output protocol -------------------------------------------------------

_lab_oneline() { local v=$1; v=${v//$'\n'/\\n}; printf '%s' "$v"; }
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $(_lab_oneline "${*:2}")"; return 1; }
skip() { echo "SKIP $1: $(_lab_oneline "${*:2}")"; }

# assert_eq NAME EXPECTED ACTUAL
assert_eq()
{
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "expected '$2', got '$3'"
	fi
}

# skip_unless_root NAME: print SKIP and exit 0 unless this can build a lab.
skip_unless_root()
{
	if [ "$(id -u)" -ne 0 ]; then
		skip "$1" "needs root (network namespaces, BPF)"
		exit 0
	fi
}

# need_cmds NAME CMD...: print SKIP and exit 0 if a tool is missing.
need_cmds()
{
	local name=$1 c missing=()

	shift
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		skip "$name" "missing ${missing[*]} (see tests/lib/lab.sh; apt-get install the package)"
		exit 0
	fi
}

# --- the lab ---------------------------------------------------------------

# lab_ns ws|gw|lb: the namespace's name
lab_ns()
{
	case $1 in
	ws | gw | lb) echo "$LAB_PREFIX-$1" ;;
	*) echo "lab_ns: '$1' is not ws, gw or lb" >&2; return 2 ;;
	esac
}

# lab_exec ws|gw|lb CMD...: run CMD in that namespace
lab_exec()
{
	local ns

	ns=$(lab_ns "$1") || return
	shift
	ip netns exec "$ns" "$@"
}

# lab_mac ws|gw|lb|NAMESPACE IFACE
lab_mac()
{
	local ns=$1

	case $ns in ws | gw | lb) ns=$(lab_ns "$ns") ;; esac
	ip netns exec "$ns" cat "/sys/class/net/$2/address"
}

_lab_sysctl()	# NS KEY VALUE
{
	ip netns exec "$1" sh -c "echo $3 > /proc/sys/${2//.//}"
}

# lab_up PREFIX: build the lab; on any exit (EXIT INT TERM) lab_cleanup runs.
lab_up()
{
	local p=$1

	if [ -z "$p" ]; then
		echo "lab_up: no prefix" >&2
		return 2
	fi
	if ip netns list | grep -q "^$p-\(ws\|gw\|lb\)\b"; then
		echo "lab_up: namespaces $p-* already exist" >&2
		return 1
	fi
	LAB_PREFIX=$p
	LAB_DIR=$(mktemp -d "/tmp/$p.XXXXXX")
	chmod 0755 "$LAB_DIR"
	trap lab_cleanup EXIT
	trap 'lab_cleanup; trap - EXIT; exit 130' INT
	trap 'lab_cleanup; trap - EXIT; exit 143' TERM

	if ! _lab_build; then
		echo "lab_up: cannot build the lab $p" >&2
		lab_down
		return 1
	fi
}

_lab_build()
{
	local ws=$LAB_PREFIX-ws gw=$LAB_PREFIX-gw lb=$LAB_PREFIX-lb ns c k

	for ns in "$ws" "$gw" "$lb"; do
		ip netns add "$ns" || return 1
		# Before any veth exists, so "default" applies to them all:
		# no link-local address, no DAD, no router solicitation, no
		# RA, and the MLD reports of the static addresses' solicited-
		# node groups (one at link up, one retransmission) a jiffy
		# apart instead of seconds.
		for c in all default; do
			for k in accept_dad=0 dad_transmits=0 router_solicitations=0 \
				accept_ra=0 addr_gen_mode=1 \
				mldv1_unsolicited_report_interval=0 \
				mldv2_unsolicited_report_interval=0; do
				_lab_sysctl "$ns" "net.ipv6.conf.$c.${k%=*}" "${k#*=}" || return 1
			done
			_lab_sysctl "$ns" "net.ipv4.conf.$c.rp_filter" 0 || return 1
		done
	done
	_lab_sysctl "$gw" net.ipv4.ip_forward 1 || return 1
	_lab_sysctl "$gw" net.ipv6.conf.all.forwarding 1 || return 1

	# veths are made inside the namespaces: the host's interfaces are
	# never touched, not even by name. `ip -batch` stops at the first
	# error.
	ip -n "$ws" -batch - <<-EOF || return 1
		link set lo up
		link add ws0 address $LAB_MAC_WS0 type veth peer name gw-ws address $LAB_MAC_GW_WS netns $gw
		addr add $LAB_WS4/24 dev ws0
		addr add $LAB_WS6/64 dev ws0 nodad
		neigh add $LAB_GW_WS4 lladdr $LAB_MAC_GW_WS dev ws0 nud permanent
		neigh add $LAB_GW_WS6 lladdr $LAB_MAC_GW_WS dev ws0 nud permanent
	EOF
	ip -n "$gw" -batch - <<-EOF || return 1
		link set lo up
		link add gw-lb address $LAB_MAC_GW_LB type veth peer name lb0 address $LAB_MAC_LB0 netns $lb
		addr add $LAB_GW_WS4/24 dev gw-ws
		addr add $LAB_GW_WS6/64 dev gw-ws nodad
		addr add $LAB_GW_LB4/24 dev gw-lb
		addr add $LAB_GW_LB6/64 dev gw-lb nodad
		neigh add $LAB_WS4 lladdr $LAB_MAC_WS0 dev gw-ws nud permanent
		neigh add $LAB_WS6 lladdr $LAB_MAC_WS0 dev gw-ws nud permanent
		neigh add $LAB_LB4 lladdr $LAB_MAC_LB0 dev gw-lb nud permanent
		neigh add $LAB_LB6 lladdr $LAB_MAC_LB0 dev gw-lb nud permanent
	EOF
	ip -n "$lb" -batch - <<-EOF || return 1
		link set lo up
		addr add $LAB_LB4/24 dev lb0
		addr add $LAB_LB6/64 dev lb0 nodad
		neigh add $LAB_GW_LB4 lladdr $LAB_MAC_GW_LB dev lb0 nud permanent
		neigh add $LAB_GW_LB6 lladdr $LAB_MAC_GW_LB dev lb0 nud permanent
		link set lb0 up
		route add 10.10.0.0/16 via $LAB_GW_LB4 dev lb0
		route add 2001:db8:10::/48 via $LAB_GW_LB6 dev lb0
	EOF
	ip -n "$gw" -batch - <<-EOF || return 1
		link set gw-ws up
		link set gw-lb up
	EOF
	ip -n "$ws" -batch - <<-EOF || return 1
		link set ws0 up
		route add 10.20.0.0/16 via $LAB_GW_WS4 dev ws0
		route add 2001:db8:20::/48 via $LAB_GW_WS6 dev ws0
	EOF
	# The MLD reports of link up are over well within this.
	sleep 0.2
}

# lab_down: remove the lab (idempotent). Kills nothing: see lab_cleanup.
lab_down()
{
	local r

	[ -n "$LAB_PREFIX" ] || return 0
	for r in ws gw lb; do
		if [ -e "/run/netns/$LAB_PREFIX-$r" ]; then
			ip netns del "$LAB_PREFIX-$r" 2>/dev/null
		fi
	done
	return 0
}

# lab_cleanup: kill every protomix pm_start started and every command
# lab_bg started, remove the lab and its scratch folder. Runs from the
# traps lab_up sets.
lab_cleanup()
{
	local name pid

	for name in "${!PM_PIDS[@]}"; do
		pid=${PM_PIDS[$name]}
		{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
		unset "PM_PIDS[$name]"
	done
	for name in "${!LAB_BG_PIDS[@]}"; do
		pid=${LAB_BG_PIDS[$name]}
		{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
		unset "LAB_BG_PIDS[$name]"
	done
	lab_down
	if [ -n "$LAB_DIR" ] && [ -d "$LAB_DIR" ]; then
		rm -rf "$LAB_DIR"
	fi
	LAB_DIR=""
}

# lab_bg NAME ws|gw|lb CMD...: run CMD in that namespace in the background
# (a server, say); stdout in $LAB_DIR/NAME.out, stderr in $LAB_DIR/NAME.err.
# lab_cleanup kills it if it is still running then.
lab_bg()
{
	local name=$1 ns

	ns=$(lab_ns "$2") || return
	shift 2
	ip netns exec "$ns" "$@" >"$LAB_DIR/$name.out" 2>"$LAB_DIR/$name.err" </dev/null &
	LAB_BG_PIDS[$name]=$!	# ip netns exec execs: this is CMD's pid
}

# lab_bg_stop NAME [SIGNAL] [TIMEOUT]: send SIGNAL (default TERM) if it is
# still running, wait for it (SIGKILL after TIMEOUT seconds, default 5);
# return its exit status (128+N if a signal killed it).
lab_bg_stop()
{
	local name=$1 sig=${2:-TERM} t=${3:-5} pid rc i

	pid=${LAB_BG_PIDS[$name]:-}
	[ -n "$pid" ] || return 127
	{
		_pm_alive "$pid" && kill -s "$sig" "$pid"
		for ((i = 0; i < t * 20; i++)); do
			_pm_alive "$pid" || break
			sleep 0.05
		done
		_pm_alive "$pid" && kill -KILL "$pid"
		wait "$pid"
		rc=$?
	} 2>/dev/null
	unset "LAB_BG_PIDS[$name]"
	return $rc
}

# wait_for FILE REGEX [SECONDS]: until grep -E finds REGEX in FILE (a file
# that is not there yet is no error), every 0.05 s, SECONDS (5) at most;
# 0 if it did
wait_for()
{
	local i

	for ((i = 0; i < ${3:-5} * 20; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# lab_pace_ms: what starting protomix costs on this machine, in ms: the
# slowest of 3 runs of `protomix classes` (no BPF, no file). 20-30 ms
# natively; near 2 s under emulation (QEMU/TCG at load 12). Tests whose
# bounds are times scale them by it, so that a slow machine passes where
# the behaviour is right and a stall (seconds) still fails.
lab_pace_ms()
{
	local t0 t1 ms max=0

	for _ in 1 2 3; do
		t0=$EPOCHREALTIME
		"$PROTOMIX" classes >/dev/null 2>&1
		t1=$EPOCHREALTIME
		ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
		[ "$ms" -gt "$max" ] && max=$ms
	done
	echo "$max"
}

# wait_listen u|t PORT: until something listens on PORT (UDP or TCP) in
# the gateway, 5 s at most; 0 if it does
wait_listen()
{
	local i

	for ((i = 0; i < 100; i++)); do
		lab_exec gw ss -Hln"$1" "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	return 1
}

# lab_nfcapd NAME PORT DIR [ARGS...]: nfdump's nfcapd as an IPFIX
# collector on 127.0.0.1:PORT (UDP) in the gateway, storing into DIR
# (lab_bg NAME; lab_bg_stop NAME ends it); 0 once it listens
lab_nfcapd()
{
	local name=$1 port=$2 dir=$3

	shift 3
	lab_bg "$name" gw nfcapd -b 127.0.0.1 -p "$port" -w "$dir" -t 3600 "$@"
	wait_listen u "$port"
}

# lab_fetch URL FILE: GET URL from inside the gateway namespace (no curl:
# python's urllib); the body in FILE, the HTTP status on stdout (0: no
# answer).
# lab_snmp NODE PROTO FIELD: a counter of NODE's /proc/net/snmp, e.g.
# lab_snmp gw Udp RcvbufErrors (empty if the kernel has no such counter)
lab_snmp()
{
	lab_exec "$1" awk -v p="$2:" -v f="$3" '$1 == p && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
		$1 == p && (f in c) { print $c[f] }' /proc/net/snmp
}

lab_fetch()
{
	lab_exec gw "$LAB_PYTHON" - "$1" "$2" <<'EOF'
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
except Exception as e:
    code, body = 0, str(e).encode()
open(sys.argv[2], "wb").write(body)
print(code)
EOF
}

# lab_scrape_until URL FILE REGEX [SECONDS]: lab_fetch URL into FILE every
# 0.2 s until it answers 200 with a line that grep -E finds REGEX in,
# SECONDS (5) at most (a watch reads its maps every interval); the last
# HTTP status on stdout; 0 if it got there
lab_scrape_until()
{
	local i code=0

	for ((i = 0; i < ${4:-5} * 5; i++)); do
		code=$(lab_fetch "$1" "$2")
		[ "$code" = 200 ] && grep -qE -- "$3" "$2" && { echo "$code"; return 0; }
		sleep 0.2
	done
	echo "$code"
	return 1
}

# --- what is attached ------------------------------------------------------

# _lab_tcx_ids IFACE: "ingress ID" / "egress ID" lines for the tcx programs
# on IFACE in the current namespace (bpftool 7.1 and iproute2 6.1 do not
# show tcx). Prints nothing where the kernel has no tcx.
_lab_tcx_ids()
{
	"$LAB_PYTHON" - "$1" <<'EOF'
import ctypes, platform, socket, struct, sys
NR_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "ppc64le": 361,
          "s390x": 351, "armv7l": 386}[platform.machine()]
BPF_PROG_QUERY, TCX_INGRESS, TCX_EGRESS = 16, 46, 47
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ifindex = socket.if_nametoindex(sys.argv[1])
for name, at in (("ingress", TCX_INGRESS), ("egress", TCX_EGRESS)):
    ids = (ctypes.c_uint32 * 64)()
    # union bpf_attr.query: target_ifindex, attach_type, query_flags,
    # attach_flags, prog_ids, prog_cnt, pad, prog_attach_flags, link_ids,
    # link_attach_flags, revision
    attr = ctypes.create_string_buffer(struct.pack(
        "=IIIIQI4xQQQQ", ifindex, at, 0, 0, ctypes.addressof(ids), 64,
        0, 0, 0, 0))
    if libc.syscall(NR_BPF, BPF_PROG_QUERY, attr, len(attr.raw)) < 0:
        continue    # EINVAL: no tcx in this kernel
    cnt = struct.unpack_from("=I", attr.raw, 24)[0]
    for i in range(min(cnt, 64)):
        print(name, ids[i])
EOF
}

_lab_prog_name() { bpftool prog show id "$1" -j 2>/dev/null | jq -r '.name // "?"'; }

# lab_attached ws|gw|lb IFACE: one word per BPF hook on IFACE, sorted, e.g.
# "tc_clsact/ingress:pm_tc_ingress tcx_egress:pm_tc_egress xdp:pm_xdp"; a
# clsact qdisc shows as "qdisc:clsact". Empty: nothing attached.
# XDP from `ip link` and `bpftool net`, classic tc filters from `bpftool
# net`, tcx from BPF_PROG_QUERY (bpftool 7.1 and iproute2 6.1 do not show
# tcx; a newer bpftool's tcx entries are skipped), the qdisc from `tc`.
lab_attached()
{
	local ns id kind out=()

	ns=$(lab_ns "$1") || return
	id=$(ip -n "$ns" -j -d link show dev "$2" | jq -r '.[0].xdp.prog.id // empty')
	[ -n "$id" ] && out+=("xdp:$(_lab_prog_name "$id")")
	while read -r kind id; do
		[ -n "$id" ] && out+=("$kind:$(_lab_prog_name "$id")")
	done < <(ip netns exec "$ns" bpftool -j net show dev "$2" |
		 jq -r '.[0] | (.xdp[]? | "xdp \(.id)"), (.tc[]? | select(.kind | startswith("tcx") | not) | "tc_\(.kind) \(.id)")')
	while read -r kind id; do
		[ -n "$id" ] && out+=("tcx_$kind:$(_lab_prog_name "$id")")
	done < <(ip netns exec "$ns" bash -c "LAB_PYTHON=$LAB_PYTHON; $(declare -f _lab_tcx_ids); _lab_tcx_ids $2")
	tc -n "$ns" qdisc show dev "$2" | grep -q '^qdisc clsact' && out+=("qdisc:clsact")
	[ ${#out[@]} -gt 0 ] && printf '%s\n' "${out[@]}" | sort -u | paste -sd' '
	return 0
}

# lab_has_tcx: true on a kernel with tcx links (6.6 and later), where
# `watch` attaches at tc through tcx; before, through classic clsact
# filters (and the clsact qdisc they need). PROTOMIX_TC_CLASSIC=1 makes
# protomix take the classic way on any kernel (tests/classic_tc_test.sh),
# and the tests expect it.
lab_has_tcx()
{
	local v major minor

	[ -n "${PROTOMIX_TC_CLASSIC:-}" ] && return 1
	v=$(uname -r)
	major=${v%%.*} v=${v#*.} minor=${v%%[!0-9]*}
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "${minor:-0}" -ge 6 ]; }
}

# lab_tc_hooks: what lab_attached shows for a watch's tc hooks on this
# kernel; lab_xdp_hooks: the same with --hook xdp (tc egress only).
lab_tc_hooks()
{
	if lab_has_tcx; then
		echo "tcx_egress:pm_tc_egress tcx_ingress:pm_tc_ingress"
	else
		echo "qdisc:clsact tc_clsact/egress:pm_tc_egress tc_clsact/ingress:pm_tc_ingress"
	fi
}
lab_xdp_hooks()
{
	if lab_has_tcx; then
		echo "tcx_egress:pm_tc_egress xdp:pm_xdp"
	else
		echo "qdisc:clsact tc_clsact/egress:pm_tc_egress xdp:pm_xdp"
	fi
}

# lab_words WORD...: the words sorted, each once, as lab_attached lists them
lab_words() { printf '%s\n' "$@" | sort -u | paste -sd' '; }

# lab_xdp_id ws|gw|lb IFACE: id of the XDP program on IFACE, or nothing
lab_xdp_id()
{
	ip -n "$(lab_ns "$1")" -j -d link show dev "$2" | jq -r '.[0].xdp.prog.id // empty'
}

# --- protomix in the gateway ---------------------------------------------

# pm_start NAME ARGS...: build/protomix ARGS in the gateway namespace, in the
# background; stdout in $(pm_out NAME), stderr in $(pm_errfile NAME).
pm_start()
{
	local name=$1

	shift
	# made here, so pm_wait_attached never looks before they exist
	: >"$LAB_DIR/$name.out"
	: >"$LAB_DIR/$name.err"
	ip netns exec "$(lab_ns gw)" "$PROTOMIX" "$@" \
		>"$LAB_DIR/$name.out" 2>"$LAB_DIR/$name.err" </dev/null &
	PM_PIDS[$name]=$!	# ip netns exec execs: this is protomix's pid
	PM_LAST=$name
}

pm_out() { echo "$LAB_DIR/${1:-$PM_LAST}.out"; }
pm_errfile() { echo "$LAB_DIR/${1:-$PM_LAST}.err"; }

_pm_alive()	# PID: running (not a zombie)
{
	local s

	s=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$s" ] && [ "$s" != Z ] && [ "$s" != X ]
}

_pm_said_watching()	# ERRFILE [IFACE...]
{
	local err=$1 f

	shift
	[ $# -eq 0 ] && { grep -q '^protomix: watching ' "$err"; return; }
	for f in "$@"; do
		grep -q "^protomix: watching $f (" "$err" || return 1
	done
}

# pm_wait_attached [NAME] [IFACE...]: wait (10 s at most) until protomix
# says "protomix: watching IFACE (...)" for each IFACE (any, if none given).
# 1 if it exited or timed out first (and its stderr goes to ours).
pm_wait_attached()
{
	local name=${1:-$PM_LAST} pid err i

	[ $# -gt 0 ] && shift
	pid=${PM_PIDS[$name]:-}
	err=$LAB_DIR/$name.err
	for ((i = 0; i < 200; i++)); do
		_pm_said_watching "$err" "$@" && return 0
		if [ -z "$pid" ] || ! _pm_alive "$pid"; then
			break
		fi
		sleep 0.05
	done
	_pm_said_watching "$err" "$@" && return 0
	echo "pm_wait_attached $name: not attached; its stderr: $(cat "$err")" >&2
	return 1
}

# pm_wait [NAME] [TIMEOUT]: wait for protomix to exit (SIGKILL after
# TIMEOUT seconds, default 10); return its exit status.
pm_wait()
{
	local name=${1:-$PM_LAST} t=${2:-10} pid rc i

	pid=${PM_PIDS[$name]:-}
	[ -n "$pid" ] || return 127
	# bash reports a child killed by a signal ("Killed") on stderr at
	# its next command: keep that out of the test's output.
	{
		for ((i = 0; i < t * 20; i++)); do
			_pm_alive "$pid" || break
			sleep 0.05
		done
		if _pm_alive "$pid"; then
			echo "pm_wait $name: still running after ${t}s, killing it" >&3
			kill -KILL "$pid"
		fi
		wait "$pid"
		rc=$?
	} 3>&2 2>/dev/null
	unset "PM_PIDS[$name]"
	return $rc
}

# pm_stop [NAME] [SIGNAL]: send SIGNAL (default INT), wait, return the
# exit status (128+N if the signal killed it).
pm_stop()
{
	local name=${1:-$PM_LAST} sig=${2:-INT} pid

	pid=${PM_PIDS[$name]:-}
	[ -n "$pid" ] || return 127
	kill -s "$sig" "$pid" 2>/dev/null
	pm_wait "$name"
}

# --- helpers the lab tests share ---------------------------------------------

SENDFRAMES=${SENDFRAMES:-$LAB_ROOT/tests/build/sendframes}

# send_ws CASE COUNT [OPTIONS]: frames from the workstation to the gateway
send_ws()
{
	lab_exec ws "$SENDFRAMES" ws0 "$1" "$2" --dst-mac "$LAB_MAC_GW_WS" \
		--src-mac "$LAB_MAC_WS0" "${@:3}" ||
		fail "send_ws_$1" "sendframes ws0 $* failed"
}

# send_lb CASE COUNT [OPTIONS]: frames from the load balancer to the gateway
send_lb()
{
	lab_exec lb "$SENDFRAMES" lb0 "$1" "$2" --dst-mac "$LAB_MAC_GW_LB" \
		--src-mac "$LAB_MAC_LB0" "${@:3}" ||
		fail "send_lb_$1" "sendframes lb0 $* failed"
}

# start NAME ARGS...: pm_start and wait for the attach; FAIL NAME_attach
start()
{
	local name=$1

	pm_start "$@"
	pm_wait_attached "$name" 2>/dev/null && return 0
	fail "${name}_attach" "protomix ${*:2}: $(cat "$(pm_errfile "$name")")"
	pm_stop "$name" KILL
	return 1
}

# stop NAME: SIGINT, wait, check exit status 0 and that nothing is left on
# the gateway's gw-ws
stop()
{
	pm_stop "$1"
	assert_eq "${1}_exit_status" 0 "$?"
	assert_eq "${1}_detached" "" "$(lab_attached gw gw-ws)"
}

# --- the end ---------------------------------------------------------------

# no_leftovers PREFIX: nothing attached on any veth of the lab (checked
# before teardown), then the lab removed: no namespace PREFIX-*, no
# protomix of ours running, nothing pinned under /sys/fs/bpf/protomix.
no_leftovers()
{
	local p=$1 bad=() r ifc a name
	local LAB_PREFIX=$p	# lab_attached and lab_cleanup act on this lab

	for r in ws:ws0 gw:gw-ws gw:gw-lb lb:lb0; do
		[ -e "/run/netns/$p-${r%%:*}" ] || continue
		a=$(lab_attached "${r%%:*}" "${r#*:}")
		[ -n "$a" ] && bad+=("${r#*:}: $a")
	done
	for name in "${!PM_PIDS[@]}"; do
		_pm_alive "${PM_PIDS[$name]}" && bad+=("protomix '$name' still running")
	done
	lab_cleanup
	ifc=$(ip netns list | grep "^$p-" | paste -sd' ')
	[ -n "$ifc" ] && bad+=("namespaces left: $ifc")
	a=$(find /sys/fs/bpf/protomix -mindepth 1 2>/dev/null | paste -sd' ')
	[ -n "$a" ] && bad+=("pinned: $a")
	if [ ${#bad[@]} -eq 0 ]; then
		pass no_leftovers
	else
		fail no_leftovers "$(printf '%s; ' "${bad[@]}")"
	fi
}
