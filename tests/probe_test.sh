#!/usr/bin/env bash
# The start-up probe of the kernel's BPF features (user/probe.c),
# `protomix check`, and `make static` (build/protomix-static).
#
# Real here: every feature line is this kernel's own answer to the probe
# (all present on 6.18; tcx absent before 6.6, checked against uname -r,
# so the same test checks 6.1 under `make test-kernels`); the refusal of a
# process without capabilities; the static binary's libraries, its check
# and a watch counting frames in the lab.
# NOT real: a required feature missing. This kernel has every one, so
# PROTOMIX_PROBE_MISSING=NAME (for tests only) makes the probe treat NAME as
# absent: that tests the message, the exit status and that nothing is
# attached, not the probe of that feature itself.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root probe
need_cmds probe jq bpftool ldd setpriv "$LAB_PYTHON"
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail probe "run make && make tests"; exit 1; }
unset PROTOMIX_PROBE_MISSING PROTOMIX_TC_CLASSIC

# The features in the order check lists them, with the version of each.
FEATURES="btf:5.4 mmapable:5.5 jiffies64:5.6 ringbuf:5.8 coarse_ns:5.11 atomics:5.12 global_ptr:5.12 tcx:6.6"
OPTIONAL="tcx"
FLOOR=5.12
FEATURE_RE='^(yes|no) +[a-z0-9_]+ +[^ ].* +Linux [0-9]+\.[0-9]+( \(optional\))?$'
ATOMICS_WHAT="fetch-and-add/or/and/xor and cmpxchg atomics"

out=$("$PROTOMIX" check 2>"$LAB_DIR/check.err"); rc=$?
assert_eq check_exit_status 0 "$rc"
assert_eq check_stderr "" "$(cat "$LAB_DIR/check.err")"
assert_eq check_kernel_line "kernel $(uname -r)" "$(sed -n 1p <<<"$out")"
lines=$(sed '1d;$d' <<<"$out")
assert_eq check_format "" "$(grep -Ev "$FEATURE_RE" <<<"$lines")"
# the version is the word after "Linux"
got=$(sed -E 's/^(yes|no) +([a-z0-9_]+) .* Linux ([0-9.]+).*/\2:\3/' <<<"$lines" | paste -sd' ')
assert_eq check_features_versions "$FEATURES" "$got"
assert_eq check_optional "$OPTIONAL" \
	"$(grep ' (optional)$' <<<"$lines" | awk '{ print $2 }' | paste -sd' ')"
assert_eq check_required_present "" \
	"$(grep -v ' (optional)$' <<<"$lines" | grep -v '^yes ' | awk '{ print $2 }' | paste -sd' ')"
if lab_has_tcx; then want=yes; else want=no; fi
assert_eq check_tcx_as_kernel "$want" "$(awk '$2 == "tcx" { print $1 }' <<<"$lines")"
assert_eq check_summary "every required feature is there (protomix needs Linux $FLOOR or later)" \
	"$(tail -n1 <<<"$out")"

# usage
"$PROTOMIX" check --help >/dev/null 2>&1
assert_eq check_help 0 $?
err=$("$PROTOMIX" check extra 2>&1 >/dev/null); rc=$?
assert_eq check_extra_arg "2 1" "$rc $(wc -l <<<"$err")"

# without capabilities: said so, not a missing feature
err=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$PROTOMIX" check 2>&1 >/dev/null); rc=$?
assert_eq check_unprivileged \
	"1 protomix: permission denied loading a BPF program: run as root, or with CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON" \
	"$rc $err"

# the message path of a missing feature (simulated: see the top)
out=$(PROTOMIX_PROBE_MISSING=atomics "$PROTOMIX" check 2>/dev/null); rc=$?
assert_eq missing_check_exit 1 "$rc"
assert_eq missing_check_line "no" "$(awk '$2 == "atomics" { print $1 }' <<<"$out")"
assert_eq missing_check_summary "1 required feature missing: protomix needs Linux $FLOOR or later" \
	"$(tail -n1 <<<"$out")"
MISSING_MSG="protomix: this kernel ($(uname -r)) has no $ATOMICS_WHAT, which came with Linux 5.12: protomix needs Linux $FLOOR or later (\`protomix check\` lists what it needs)"

lab_up "pmt-$$-pr" || { fail lab_up "cannot build the lab"; exit 1; }
lab_exec gw ip route add blackhole 10.20.0.80/32
esp_of() { jq '[.destinations[] | select(.addr == "10.20.0.80") | .packets.esp] | add // 0' "$1"; }

PROTOMIX_PROBE_MISSING=atomics pm_start m1 watch -o "$LAB_DIR/m1.json" gw-ws
pm_wait m1
assert_eq missing_watch_exit 1 $?
assert_eq missing_watch_message "$MISSING_MSG" "$(cat "$(pm_errfile m1)")"
assert_eq missing_watch_nothing_attached "" "$(lab_attached gw gw-ws)"

# replay: a one-frame capture (pcap, Ethernet, an IPv4 TCP frame)
PCAP=$LAB_DIR/one.pcap
"$LAB_PYTHON" - "$PCAP" <<'EOF'
import struct, sys
frame = bytes(12) + b'\x08\x00' + bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0,
        10, 10, 1, 10, 10, 20, 0, 80]) + bytes(20)
with open(sys.argv[1], 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack('<IIII', 1, 0, len(frame), len(frame)) + frame)
EOF
err=$(PROTOMIX_PROBE_MISSING=atomics "$PROTOMIX" replay "$PCAP" 2>&1 >/dev/null); rc=$?
assert_eq missing_replay "1 $MISSING_MSG" "$rc $err"
"$PROTOMIX" replay "$PCAP" >/dev/null 2>"$LAB_DIR/replay.err"
assert_eq replay_runs "0 " "$? $(cat "$LAB_DIR/replay.err")"

# make static: libbpf, libelf, zlib, json-c, libfixbuf and glib linked in
STATIC=$LAB_ROOT/build/protomix-static
make -s -C "$LAB_ROOT" static >"$LAB_DIR/make.out" 2>&1
assert_eq static_builds "0" "$?"
if [ -x "$STATIC" ]; then
	assert_eq static_no_shared_libbpf_libelf_libz_jsonc_fixbuf_glib "" \
		"$(ldd "$STATIC" | grep -E 'lib(bpf|elf|z|json-c|fixbuf|glib-2\.0)\.so' | awk '{ print $1 }' | paste -sd' ')"
	assert_eq static_check_same "$("$PROTOMIX" check 2>&1; echo "rc $?")" \
		"$("$STATIC" check 2>&1; echo "rc $?")"
	PROTOMIX=$STATIC
	# an IPFIX collector in the gateway: libfixbuf and glib, linked in, work
	lab_bg col gw "$LAB_PYTHON" -c '
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 47390)); s.settimeout(15)
print("ipfix_version", struct.unpack("!H", s.recv(65535)[:2])[0], flush=True)'
	sleep 0.3
	pm_start s1 watch -o "$LAB_DIR/s1.json" --ipfix 127.0.0.1:47390/udp gw-ws
	if pm_wait_attached s1 gw-ws 2>/dev/null; then
		assert_eq static_attached "$(lab_tc_hooks)" "$(lab_attached gw gw-ws)"
		send_ws esp4 5
		sleep 0.2
		pm_stop s1
		assert_eq static_exit_status 0 $?
		assert_eq static_counts 5 "$(esp_of "$LAB_DIR/s1.json")"
		assert_eq static_detached "" "$(lab_attached gw gw-ws)"
		lab_bg_stop col
		assert_eq static_ipfix_message "ipfix_version 10" "$(cat "$LAB_DIR/col.out")"
	else
		fail static_attach "$(cat "$(pm_errfile s1)")"
		pm_stop s1 KILL
		lab_bg_stop col
	fi
fi
no_leftovers "$LAB_PREFIX"
