#!/usr/bin/env bash
# The service as installed: `make install` lays out the binary, the man
# page, the unit and the configuration; the unit's ExecStart, with its
# configuration file and its capabilities (no root), logs alerts (and
# nothing else) on stdout, for the journal; it survives its interface going
# down and up; SIGTERM (systemctl stop) ends it with status 0 and nothing
# attached; without the capabilities it says what is missing.
# There is no systemd on the test machine: the unit is read, not started.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root service
need_cmds service ip jq setpriv make
SENDFRAMES=$PWD/tests/build/sendframes
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail service "run make && make tests"; exit 1; }

lab_up "pmt-$$-sv" || { fail lab_up "cannot build the lab"; exit 1; }
DEST=$LAB_DIR/root

# --- make install -------------------------------------------------------------
make -s install DESTDIR="$DEST" PREFIX=/usr >"$LAB_DIR/install.log" 2>&1
assert_eq install_status 0 $?
for f in usr/sbin/protomix:755 usr/share/man/man8/protomix.8:644 \
	etc/systemd/system/protomix.service:644 etc/protomix/protomix.conf:644 \
	etc/protomix/rules.conf:644; do
	assert_eq "installed_${f%%:*}" "${f#*:}" "$(stat -c %a "$DEST/${f%%:*}" 2>&1)"
done
UNIT=$DEST/etc/systemd/system/protomix.service
assert_eq unit_execstart '/usr/sbin/protomix watch --alerts-only $OPTIONS $INTERFACES' \
	"$(sed -n 's/^ExecStart=//p' "$UNIT")"
if command -v man >/dev/null; then
	assert_eq man_page_clean "" "$(man --warnings -l "$DEST/usr/share/man/man8/protomix.8" 2>&1 >/dev/null)"
	grep -q -- "--alerts-only" <(man -l "$DEST/usr/share/man/man8/protomix.8" 2>/dev/null) &&
		pass man_page_options || fail man_page_options "no --alerts-only in the man page"
else
	skip man_page_clean "man is not installed"
fi
# A second install keeps an edited configuration.
echo '# edited' >>"$DEST/etc/protomix/protomix.conf"
make -s install DESTDIR="$DEST" PREFIX=/usr >/dev/null 2>&1
assert_eq install_keeps_conf "# edited" "$(tail -1 "$DEST/etc/protomix/protomix.conf")"
# Every option the shipped configuration passes is one watch knows.
( set -a; . "$DEST/etc/protomix/protomix.conf"; set +a
  "$PROTOMIX" watch $OPTIONS --duration 0.1 no-such-iface 2>&1 ) | grep -q "unknown interface 'no-such-iface'" &&
	pass shipped_options_valid || fail shipped_options_valid "the shipped OPTIONS are refused"

# --- the unit's command, with its capabilities, as an unprivileged user -------
caps=$(sed -n 's/^AmbientCapabilities=//p' "$UNIT" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
assert_eq unit_caps "+bpf,+net_admin,+perfmon" "$caps"
install -m 0755 "$PROTOMIX" "$LAB_DIR/protomix"
mkdir -m 0700 "$LAB_DIR/state" && chown nobody "$LAB_DIR/state"
# RuntimeDirectory=protomix: systemd makes /run/protomix, 0700, the
# service user's; here a folder of the same kind stands in for it.
assert_eq unit_runtime_dir "protomix 0700" \
	"$(sed -n 's/^RuntimeDirectory=//p' "$UNIT") $(sed -n 's/^RuntimeDirectoryMode=//p' "$UNIT")"
mkdir -m 0700 "$LAB_DIR/run" && chown nobody "$LAB_DIR/run"
export PROTOMIX_RUNDIR=$LAB_DIR/run
cat >"$LAB_DIR/protomix.conf" <<CONF
INTERFACES="gw-ws"
OPTIONS="--snapshot $LAB_DIR/state/last.json --oneway-window 60"
CONF
# ExecStart as systemd would expand it: $OPTIONS and $INTERFACES split
# on whitespace.
cmd=$(sed -n 's/^ExecStart=//p' "$UNIT" | sed "s|^/usr/sbin/protomix|$LAB_DIR/protomix|")
( set -a; . "$LAB_DIR/protomix.conf"; set +a
  umask 077
  eval "exec ip netns exec $(lab_ns gw) setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=$caps --ambient-caps=$caps $cmd" ) \
	>"$LAB_DIR/svc.out" 2>"$LAB_DIR/svc.err" </dev/null &
SVC=$!
for ((i = 0; i < 100; i++)); do
	grep -q "^protomix: watching gw-ws" "$LAB_DIR/svc.err" && break
	sleep 0.05
done
if grep -q "^protomix: watching gw-ws (tc_ingress,tc_egress)" "$LAB_DIR/svc.err"; then
	pass service_attached
else
	fail service_attached "$(cat "$LAB_DIR/svc.err")"
fi
assert_eq service_user nobody "$(ps -o user= -p "$SVC" | tr -d ' ')"
# root reaches the service's watch in the service user's run folder
assert_eq root_status_of_service "$SVC" "$(ip netns exec "$(lab_ns gw)" "$PROTOMIX" status --json 2>&1 | jq -r '.[0].pid // .pid // empty' 2>&1)"

send() { lab_exec ws "$SENDFRAMES" ws0 "$1" "$2" --dst-mac "$LAB_MAC_GW_WS"; }
send tcp4 3
sleep 1.3			# a report interval passes: nothing printed for it
send esp4 2
ip -n "$(lab_ns gw)" link set gw-ws down
ip -n "$(lab_ns gw)" link set gw-ws up
ip -n "$(lab_ns ws)" link set ws0 up
sleep 0.2
send esp4 1
sleep 0.3
assert_eq journal_alerts_only 3 "$(grep -c '\[protocol_shift: expected tcp\]$' "$LAB_DIR/svc.out")"
assert_eq journal_nothing_else 3 "$(wc -l <"$LAB_DIR/svc.out" | tr -d ' ')"
assert_eq journal_evidence 3 "$(grep -c 'gw-ws ingress IP 10.10.1.10 > 10.20.0.80: ESP(spi=0xd7ca145d,seq=0x3de0a5), length 80' "$LAB_DIR/svc.out")"

kill -TERM "$SVC"
wait "$SVC"
assert_eq service_stop_status 0 $?
assert_eq service_detached "" "$(lab_attached gw gw-ws)"
assert_eq state_snapshot "600 nobody" "$(stat -c '%a %U' "$LAB_DIR/state/last.json" 2>&1)"
assert_eq state_snapshot_counts '{"tcp":3,"esp":3}' \
	"$(jq -c '.destinations[] | select(.addr == "10.20.0.80") | .packets' "$LAB_DIR/state/last.json")"

# --- without the capabilities ---------------------------------------------------
ip netns exec "$(lab_ns gw)" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=+bpf,+net_admin --ambient-caps=+bpf,+net_admin \
	"$LAB_DIR/protomix" watch -d 1 gw-ws >/dev/null 2>"$LAB_DIR/nocap.err" </dev/null
assert_eq no_perfmon_status 1 $?
grep -q "CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON" "$LAB_DIR/nocap.err" &&
	pass no_perfmon_says_what || fail no_perfmon_says_what "$(cat "$LAB_DIR/nocap.err")"
assert_eq no_perfmon_detached "" "$(lab_attached gw gw-ws)"

no_leftovers "pmt-$$-sv"
