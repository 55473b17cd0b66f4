#!/usr/bin/env bash
# `protomix snapshot`, `status` and `diff` against a running watch, in the
# lab of tests/lib/lab.sh (issue "Snapshots for incident tickets"):
#
#  1. A watch runs in the gateway namespace; a second `ip netns exec` of
#     the same namespace takes snapshots (JSON on stdout and -o FILE, mode
#     0600) while frames of known counts arrive: exact packets and bytes
#     per destination and class, the alerts (the same as the watch's own
#     --json stream), and the watch keeps counting (more traffic, a new
#     snapshot, exact new totals, consistent with the stats).
#  2. --pcap: tshark reads the evidence frames, one per alert that has a
#     frame (not one_way_ipsec), ESP SPI 0xd7ca145d seq 0x3de0a5, at the
#     alerts' times to the microsecond.
#  3. -f md: the tcpdump-style evidence line and the class mix; -f csv:
#     exactly the expected rows.
#  4. `status` and `status --json` of the watch.
#  5. Two watches in one namespace (gw-ws and gw-lb): snapshot without
#     --pid is refused naming both pids (exit 2), --pid picks each one,
#     status lists both.
#  6. No watch running, or one only in another namespace: exit 1, one line
#     on stderr.
#  7. As user nobody, the watch refuses to answer and keeps running.
#  8. -o and --pcap into a missing folder, an unwritable one (no
#     CAP_DAC_OVERRIDE), a read-only mount and a full filesystem: exit 1,
#     one line on stderr, no file and no temporary file left.
#  9. `protomix diff` of snapshots before and after the ESP burst; corrupt
#     and foreign JSON are refused (exit 2).
# 10. SIGTERM: exit status 0, nothing attached, no control socket left.
# 11. Pins: in a mount namespace of the gateway with a bpffs on
#     /sys/fs/bpf, the maps are pinned under /sys/fs/bpf/protomix/PID
#     (mode 0700) while the watch runs and removed on SIGINT; a SIGKILLed
#     watch's pins are removed by the next watch.
#
# The gateway has blackhole routes for 10.20.0.80/32 and 10.30.0.0/16: the
# frames sent die there without an answer (no ICMP, no forwarding), so
# gw-ws and gw-lb see exactly the frames a test sends.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

skip_unless_root snapshot
need_cmds snapshot ip tc jq bpftool setpriv tshark nsenter unshare stat mount python3
SENDFRAMES=$LAB_ROOT/tests/build/sendframes
if [ ! -x "$PROTOMIX" ]; then
	fail snapshot "$PROTOMIX not built (run make)"
	exit 1
fi
if [ ! -x "$SENDFRAMES" ]; then
	fail snapshot "$SENDFRAMES not built (run make tests)"
	exit 1
fi

P=pmt-$$-sn
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW=$(lab_ns gw) WS=$(lab_ns ws)
if ! { lab_exec gw ip route add blackhole 10.20.0.80/32 &&
       lab_exec gw ip route add blackhole 10.30.0.0/16; } 2>"$LAB_DIR/routes.err"; then
	fail blackhole_routes "$(cat "$LAB_DIR/routes.err")"
	no_leftovers "$P"
	exit 1
fi
OUTD=$LAB_DIR/out		# where the snapshots go (nothing else there)
mkdir -m 0755 "$OUTD"

# What the frame builder puts in the cases (tests/frames.c) and the IP
# length (bytes counted) of each case.
SPI=0xd7ca145d SEQ=0x3de0a5 ESP_LEN=80
TCP4_B=72 UDP4_B=52 ESP4_B=100
ESP4_FRAME=114			# 14 + 100

# --- helpers ---------------------------------------------------------------

# jqs FILE FILTER: compact, sorted jq output, or "invalid JSON"
jqs() { jq -S -c "$2" "$1" 2>/dev/null || echo "invalid JSON in $1"; }
# norm JSON: the same, of a string
norm() { jq -S -c . <<<"$1" 2>/dev/null || echo "invalid JSON: $1"; }
lines() { wc -l <"$1" | tr -d ' '; }
# listing DIR: the names in DIR, sorted, on one line
# shellcheck disable=SC2012	# our own file names
listing() { ls -A "$1" 2>&1 | sort | paste -sd' '; }

# cli NAME NS ARGS...: `protomix ARGS` in namespace NS (a second `ip netns
# exec`, as a user would), in the foreground; RC, OUT, ERR (files).
cli()
{
	local name=$1 ns=$2

	shift 2
	OUT=$LAB_DIR/$name.cli.out ERR=$LAB_DIR/$name.cli.err
	# (bash's own report of a crash, "Aborted" say, kept out of the output)
	{ timeout 20 ip netns exec "$ns" "$PROTOMIX" "$@" >"$OUT" 2>"$ERR" </dev/null
	  RC=$?; } 2>/dev/null
}

# refused NAME WANT_RC WORD NS ARGS...: protomix ARGS exits WANT_RC with one
# line on stderr containing WORD and nothing on stdout.
refused()
{
	local name=$1 want=$2 word=$3 ns=$4 named=no

	shift 4
	cli "$name" "$ns" "$@"
	grep -qF -- "$word" "$ERR" && named=yes
	assert_eq "$name" "rc=$want stderr_lines=1 names \"$word\"=yes stdout=0" \
		"rc=$RC stderr_lines=$(lines "$ERR") names \"$word\"=$named stdout=$(wc -c <"$OUT" | tr -d ' ')"
}

# dests FILE: the destinations of a snapshot, by address, without times
dests() { jqs "$1" '.destinations | map({addr, packets, bytes, expected, violations}) | sort_by(.addr)'; }

# consistent FILE: per class, the destinations' packets and bytes add up to
# the stats; prints "ok" or what differs
consistent()
{
	jq -r '
	  def sums(f): [.destinations[] | f | to_entries[]] | group_by(.key)
	      | map({key: .[0].key, value: (map(.value) | add)}) | from_entries;
	  if (sums(.packets) == (.stats.packets | with_entries(select(.value > 0))))
	     and (sums(.bytes) == (.stats.bytes | with_entries(select(.value > 0))))
	  then "ok" else "destinations \(sums(.packets)) \(sums(.bytes)) vs stats \(.stats.packets) \(.stats.bytes)" end' \
		"$1" 2>&1
}

# alert_us FILE [JQ-CONDITION]: the alerts' times as epoch seconds with 6
# decimals, one a line
alert_us()
{
	jq -r ".alerts[]${2:+ | select($2)} | .time
	       | capture(\"^(?<s>.*)\\\\.(?<us>[0-9]{6})Z\$\")
	       | \"\(.s + \"Z\" | fromdateiso8601).\(.us)\"" "$1" 2>&1
}

# pcap_rows FILE: one line per frame: epoch to the microsecond (truncated),
# SPI, sequence number, source, destination, frame length, captured length
pcap_rows()
{
	tshark -n -r "$1" -T fields -E separator=' ' -e frame.time_epoch \
		-e esp.spi -e esp.sequence -e ip.src -e ip.dst -e frame.len \
		-e frame.cap_len 2>"$LAB_DIR/tshark.err" |
		sed -E 's/^([0-9]+\.[0-9]{6})[0-9]*/\1/'
}

# ctl_socket PID: the watch's control socket in the gateway namespace, if
# any (listening, or its file left in the run folder)
ctl_socket()
{
	local n

	n=$(lab_exec gw grep -c " ${PROTOMIX_RUNDIR:-/run/protomix}/ctl.$1\$" /proc/net/unix)
	[ -e "${PROTOMIX_RUNDIR:-/run/protomix}/ctl.$1" ] && n=$((n + 1))
	echo "$n"
}

# The fields of an ESP alert a test can predict (not its time).
FIELDS='{kind, iface, dir, src, dst, class, spi, seq, len, expected}'
ESP_ALERT=$(norm "{\"kind\":\"unexpected_protocol\",\"iface\":\"gw-ws\",\"dir\":\"ingress\",
	\"src\":\"10.10.1.10\",\"dst\":\"10.20.0.80\",\"class\":\"esp\",\"spi\":\"$SPI\",
	\"seq\":\"$SEQ\",\"len\":$ESP_LEN,\"expected\":[\"tcp\"]}")

# --- 6: no watch running -----------------------------------------------------

NOWATCH="no protomix watch is running in this network namespace"
refused nowatch_snapshot 1 "$NOWATCH" "$GW" snapshot
refused nowatch_snapshot_o 1 "$NOWATCH" "$GW" snapshot -o "$OUTD/none.json"
assert_eq nowatch_no_file "" "$(listing "$OUTD")"
refused nowatch_status 1 "$NOWATCH" "$GW" status
refused nowatch_status_json 1 "$NOWATCH" "$GW" status --json

# --- 1: snapshots of a running watch -----------------------------------------

# --sample-rate: every violation is an alert (exact counts); a one-way
# window longer than the test: no one_way_ipsec here (see 5).
W1=w1
if ! start "$W1" watch --json --sample-rate 1000000 --oneway-window 600 \
	-o "$LAB_DIR/w1-exit.json" -e 10.20.0.0/16=tcp gw-ws; then
	no_leftovers "$P"
	exit 1
fi
W1PID=${PM_PIDS[$W1]}

send_ws tcp4 7 --dst 10.20.0.80
send_ws udp4 11 --dst 10.30.0.5

# before the ESP burst: tcp only at 10.20.0.80, no alert
cli snap0 "$GW" snapshot
cp "$OUT" "$OUTD/before.json"
assert_eq snap_before_status "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
assert_eq snap_before_dests "$(norm "[
	{\"addr\":\"10.20.0.80\",\"packets\":{\"tcp\":7},\"bytes\":{\"tcp\":$((7 * TCP4_B))},\"expected\":[\"tcp\"],\"violations\":0},
	{\"addr\":\"10.30.0.5\",\"packets\":{\"udp\":11},\"bytes\":{\"udp\":$((11 * UDP4_B))},\"expected\":[],\"violations\":0}]")" \
	"$(dests "$OUTD/before.json")"
assert_eq snap_before_no_alerts '[]' "$(jqs "$OUTD/before.json" .alerts)"

send_ws esp4 300 --dst 10.20.0.80

# JSON on stdout
cli snap1 "$GW" snapshot
cp "$OUT" "$OUTD/after.json"
S1=$OUTD/after.json
assert_eq snap1_status "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
assert_eq snap1_schema '"protomix.snapshot/3"' "$(jqs "$S1" .schema)"
assert_eq snap1_interfaces '[{"hooks":["tc_ingress","tc_egress"],"name":"gw-ws"}]' \
	"$(jqs "$S1" '.interfaces | map({name, hooks})')"
assert_eq snap1_no_evidence_key false "$(jqs "$S1" 'has("evidence")')"
D1=$(norm "[
	{\"addr\":\"10.20.0.80\",\"packets\":{\"tcp\":7,\"esp\":300},\"bytes\":{\"tcp\":$((7 * TCP4_B)),\"esp\":$((300 * ESP4_B))},\"expected\":[\"tcp\"],\"violations\":300},
	{\"addr\":\"10.30.0.5\",\"packets\":{\"udp\":11},\"bytes\":{\"udp\":$((11 * UDP4_B))},\"expected\":[],\"violations\":0}]")
assert_eq snap1_dests "$D1" "$(dests "$S1")"
assert_eq snap1_consistent ok "$(consistent "$S1")"
assert_eq snap1_alerts "300 [$ESP_ALERT]" \
	"$(jqs "$S1" '.alerts | length') $(jqs "$S1" "[.alerts[] | $FIELDS] | unique")"
assert_eq snap1_alert_stats '{"alerts":{"one_way_ipsec":0,"protocol_shift":0,"unexpected_protocol":300},"ringbuf_drops":0,"sampled":300,"suppressed":0}' \
	"$(jqs "$S1" '.stats | {alerts, sampled, suppressed, ringbuf_drops}')"
# the first destination seen stays the first (the watch did not restart)
assert_eq snap1_first_seen_kept \
	"$(jqs "$OUTD/before.json" '.destinations[] | select(.addr == "10.20.0.80") | .first_seen')" \
	"$(jqs "$S1" '.destinations[] | select(.addr == "10.20.0.80") | .first_seen')"

# -o FILE: replaces an existing file of mode 0644 with a 0600 one
printf 'old\n' >"$OUTD/s1.json"
chmod 0644 "$OUTD/s1.json"
cli snap1o "$GW" snapshot -o "$OUTD/s1.json"
assert_eq snap1o_status "rc=0 stderr= stdout=" "rc=$RC stderr=$(cat "$ERR") stdout=$(cat "$OUT")"
assert_eq snap1o_mode 600 "$(stat -c %a "$OUTD/s1.json")"
assert_eq snap1o_dests "$D1" "$(dests "$OUTD/s1.json")"
assert_eq snap1o_no_temp "after.json before.json s1.json" "$(listing "$OUTD")"
# -o onto a symbolic link: refused (exit 2, one line), the link and its
# target untouched (tests/security_output_test.sh: a hostile user's link)
printf 'target\n' >"$LAB_DIR/target"
ln -s "$LAB_DIR/target" "$OUTD/link.json"
cli snap1l "$GW" snapshot -o "$OUTD/link.json"
assert_eq snap1o_symlink_refused "rc=2 stderr_lines=1 symbolic link target" \
	"rc=$RC stderr_lines=$(lines "$ERR") $(stat -c '%F' "$OUTD/link.json") $(cat "$LAB_DIR/target")"
rm -f "$OUTD/link.json"

if _pm_alive "$W1PID"; then
	pass snap1_watch_still_running
else
	fail snap1_watch_still_running "the watch exited: $(cat "$(pm_errfile "$W1")")"
fi

# --- 6: another namespace does not see the gateway's watch -------------------

refused other_ns_snapshot 1 "$NOWATCH" "$WS" snapshot
refused other_ns_status 1 "$NOWATCH" "$WS" status
refused other_ns_snapshot_pid 1 "no protomix watch with pid $W1PID in this network namespace" \
	"$WS" snapshot --pid "$W1PID"

# --- 9: diff of before and after the ESP burst --------------------------------

B=$OUTD/before.json
cli diff_text "$GW" diff "$B" "$S1"
assert_eq diff_text "rc=0 stderr=
10.20.0.80: esp appeared (0% -> 97.7%), tcp 100% -> 2.3% (packets: esp +300, tcp +0)
1 changed, 0 appeared, 0 vanished, 1 unchanged" \
	"rc=$RC stderr=$(cat "$ERR")
$(sed -E 's/ \(\/.*\)$//' "$OUT")"
cli diff_json "$GW" diff --json "$B" "$S1"
cp "$OUT" "$LAB_DIR/diff.json"
assert_eq diff_json_status 0 "$RC"
assert_eq diff_json_changed \
	'[{"addr":"10.20.0.80","classes_appeared":["esp"],"classes_vanished":[],"packets_delta":{"esp":300,"tcp":0}}]' \
	"$(jqs "$LAB_DIR/diff.json" '.changed | map({addr, classes_appeared, classes_vanished, packets_delta})')"
assert_eq diff_json_rest '{"appeared":[],"type":"diff","unchanged":1,"vanished":[]}' \
	"$(jqs "$LAB_DIR/diff.json" '{type, appeared, vanished, unchanged}')"

head -c 200 "$S1" >"$LAB_DIR/corrupt.json"
refused diff_corrupt_new 2 "$LAB_DIR/corrupt.json" "$GW" diff "$B" "$LAB_DIR/corrupt.json"
refused diff_corrupt_old 2 "$LAB_DIR/corrupt.json" "$GW" diff --json "$LAB_DIR/corrupt.json" "$S1"
# foreign: protomix's own JSON that is not a snapshot (a report line of
# the watch, the output of status --json), and not JSON at all
grep -m1 '"type":"report"' "$(pm_out "$W1")" >"$LAB_DIR/report.json" ||
	printf '{"type":"report","time":"2026-11-27T11:51:04Z","top":[]}\n' >"$LAB_DIR/report.json"
refused diff_foreign_report 2 "$LAB_DIR/report.json" "$GW" diff "$B" "$LAB_DIR/report.json"
cli status_for_diff "$GW" status --json
cp "$OUT" "$LAB_DIR/status.json"
refused diff_foreign_status 2 "$LAB_DIR/status.json" "$GW" diff --json "$LAB_DIR/status.json" "$S1"
printf 'not JSON\n' >"$LAB_DIR/text.json"
refused diff_text_file 2 "$LAB_DIR/text.json" "$GW" diff "$B" "$LAB_DIR/text.json"
refused diff_missing_file 2 "$LAB_DIR/nosuch.json" "$GW" diff "$B" "$LAB_DIR/nosuch.json"

# --- 1: the watch keeps counting ---------------------------------------------

send_ws tcp4 5 --dst 10.20.0.80
send_ws esp4 40 --dst 10.20.0.80
send_ws udp4 4 --dst 10.30.0.5
send_ws udp4 6 --dst 10.30.0.6

cli snap2 "$GW" snapshot
cp "$OUT" "$OUTD/s2.json"
S2=$OUTD/s2.json
assert_eq snap2_status "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
D2=$(norm "[
	{\"addr\":\"10.20.0.80\",\"packets\":{\"tcp\":12,\"esp\":340},\"bytes\":{\"tcp\":$((12 * TCP4_B)),\"esp\":$((340 * ESP4_B))},\"expected\":[\"tcp\"],\"violations\":340},
	{\"addr\":\"10.30.0.5\",\"packets\":{\"udp\":15},\"bytes\":{\"udp\":$((15 * UDP4_B))},\"expected\":[],\"violations\":0},
	{\"addr\":\"10.30.0.6\",\"packets\":{\"udp\":6},\"bytes\":{\"udp\":$((6 * UDP4_B))},\"expected\":[],\"violations\":0}]")
assert_eq snap2_dests "$D2" "$(dests "$S2")"
assert_eq snap2_consistent ok "$(consistent "$S2")"
assert_eq snap2_stats_packets '{"esp":340,"tcp":12,"udp":21}' "$(jqs "$S2" .stats.packets)"
assert_eq snap2_frames 373 "$(jqs "$S2" .stats.frames)"
assert_eq snap2_alerts "340 [$ESP_ALERT]" \
	"$(jqs "$S2" '.alerts | length') $(jqs "$S2" "[.alerts[] | $FIELDS] | unique")"
# the first 300 alerts are those of the first snapshot
assert_eq snap2_alerts_extend_snap1 "$(jqs "$S1" .alerts)" "$(jqs "$S2" '.alerts[:300]')"
assert_eq snap2_first_seen_kept \
	"$(jqs "$S1" '[.destinations[] | {addr, first_seen}] | sort_by(.addr)')" \
	"$(jqs "$S2" '[.destinations[] | select(.addr != "10.30.0.6") | {addr, first_seen}] | sort_by(.addr)')"

# --- 3: Markdown and CSV -----------------------------------------------------

# no traffic from here on until section 5: the same counts and times
cli md "$GW" snapshot -f md
cp "$OUT" "$LAB_DIR/s.md"
assert_eq md_status "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
T1=$(jq -r '.alerts[0].time' "$S2") TN=$(jq -r '.alerts[-1].time' "$S2")
EV="$T1 IP 10.10.1.10 > 10.20.0.80: ESP(spi=$SPI,seq=$SEQ), length $ESP_LEN  [x340 until $TN]"
if grep -qxF -- "$EV" "$LAB_DIR/s.md"; then
	pass md_evidence_line
else
	fail md_evidence_line "no line '$EV' in: $(grep -F 'ESP(' "$LAB_DIR/s.md")"
fi
# the busiest destination with its packets, bytes and class mix
MIX="| 1 | 10.20.0.80 | 352 | $((12 * TCP4_B + 340 * ESP4_B)) | esp 96.6%, tcp 3.4% | tcp | 340 |"
if grep -qxF -- "$MIX" "$LAB_DIR/s.md"; then
	pass md_class_mix
else
	fail md_class_mix "no line '$MIX' in: $(grep -F '10.20.0.80 |' "$LAB_DIR/s.md")"
fi

cli csv "$GW" snapshot -f csv
cp "$OUT" "$LAB_DIR/s.csv"
assert_eq csv_status "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
times() { jq -r ".destinations[] | select(.addr == \"$1\") | \"\(.first_seen),\(.last_seen)\"" "$S2"; }
assert_eq csv_rows "addr,class,packets,bytes,first_seen,last_seen,expected,violations,via
10.20.0.80,tcp,12,$((12 * TCP4_B)),$(times 10.20.0.80),tcp,340,
10.20.0.80,esp,340,$((340 * ESP4_B)),$(times 10.20.0.80),tcp,340,
10.30.0.5,udp,15,$((15 * UDP4_B)),$(times 10.30.0.5),,0,
10.30.0.6,udp,6,$((6 * UDP4_B)),$(times 10.30.0.6),,0," "$(cat "$LAB_DIR/s.csv")"
cli csvo "$GW" snapshot -f csv -o "$OUTD/s.csv"
assert_eq csv_file "rc=0 600 $(lines "$LAB_DIR/s.csv")" \
	"rc=$RC $(stat -c %a "$OUTD/s.csv" 2>&1) $(lines "$OUTD/s.csv" 2>&1)"
cli mdo "$GW" snapshot -f md -o "$OUTD/s.md"
assert_eq md_file "rc=0 600 1" \
	"rc=$RC $(stat -c %a "$OUTD/s.md" 2>&1) $(grep -cxF -- "$EV" "$OUTD/s.md" 2>&1)"

# --- 2: the evidence as a pcap -----------------------------------------------

cli pcap "$GW" snapshot -o "$OUTD/s3.json" --pcap "$OUTD/e.pcap"
assert_eq pcap_status "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
assert_eq pcap_mode 600 "$(stat -c %a "$OUTD/e.pcap" 2>&1)"
assert_eq pcap_snapshot_no_evidence_key false "$(jqs "$OUTD/s3.json" 'has("evidence")')"
# without --pcap the JSON is the watch's own text passed on, with it the
# client parses the document: the same bytes but for the time taken (and
# the history, the last member, which gains an interval as time goes on)
cli passed_on "$GW" snapshot -o "$OUTD/s3b.json"
nohist() { sed '/^  "history": \?{$/,$d' "$1"; }
assert_eq json_passed_on_same_bytes "rc=0 lines 4, taken_at 2" \
	"rc=$RC lines $(diff <(nohist "$OUTD/s3.json") <(nohist "$OUTD/s3b.json") | wc -l), taken_at $(diff <(nohist "$OUTD/s3.json") <(nohist "$OUTD/s3b.json") | grep -c '"taken_at"')"
rm -f "$OUTD/s3b.json"
pcap_rows "$OUTD/e.pcap" >"$LAB_DIR/pcap.rows"
NEV=$(jq '[.alerts[] | select(.kind != "one_way_ipsec")] | length' "$OUTD/s3.json")
assert_eq pcap_frames "340 340" "$NEV $(lines "$LAB_DIR/pcap.rows")"
# tshark: esp.spi as hex, esp.sequence in decimal
assert_eq pcap_esp_fields "$SPI $((SEQ)) 10.10.1.10 10.20.0.80 $ESP4_FRAME $ESP4_FRAME" \
	"$(cut -d' ' -f2- "$LAB_DIR/pcap.rows" | sort -u | paste -sd'|')"
assert_eq pcap_times_are_alert_times "$(alert_us "$OUTD/s3.json" '.kind != "one_way_ipsec"')" \
	"$(cut -d' ' -f1 "$LAB_DIR/pcap.rows")"

# --- 4: status -------------------------------------------------------------

IFX=$(lab_exec gw cat /sys/class/net/gw-ws/ifindex)
cli status "$GW" status
cp "$OUT" "$LAB_DIR/status.txt"
assert_eq status_rc "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
st_line()
{
	if grep -qE -- "$2" "$LAB_DIR/status.txt"; then
		pass "$1"
	else
		fail "$1" "no line /$2/ in: $(cat "$LAB_DIR/status.txt")"
	fi
}
st_line status_pid "^protomix watch, pid $W1PID, up [0-9]+ s \(since [0-9T:.-]+Z\)\$"
st_line status_interface '^  interface gw-ws +hooks tc_ingress tc_egress$'
st_line status_destinations '^  destinations 3 of 262144 \(.* bytes of kernel memory\), evicted 0$'
st_line status_rules '^  rules 1, baseline destinations 0$'
st_line status_alerts '^  alerts: unexpected_protocol 340, protocol_shift 0, one_way_ipsec 0$'
st_line status_frames '^  frames 373: non-IP 0, malformed 0$'
assert_eq status_not_pinned 0 "$(grep -c 'pinned' "$LAB_DIR/status.txt")"

cli status_json "$GW" status --json
cp "$OUT" "$LAB_DIR/status.json"
assert_eq status_json_rc 0 "$RC"
assert_eq status_json_fields "$(norm "[{\"type\":\"status\",\"pid\":$W1PID,
	\"interfaces\":[{\"name\":\"gw-ws\",\"ifindex\":$IFX,\"hooks\":[\"tc_ingress\",\"tc_egress\"]}],
	\"dests\":{\"entries\":3,\"max_entries\":262144},\"rules\":1,\"baseline\":0,
	\"pinned\":\"\",\"frames\":373,\"packets\":{\"tcp\":12,\"udp\":21,\"esp\":340},
	\"alerts\":{\"unexpected_protocol\":340,\"protocol_shift\":0,\"one_way_ipsec\":0},
	\"sampled\":340,\"ringbuf_drops\":0,\"evicted\":0}]")" \
	"$(jqs "$LAB_DIR/status.json" 'map({type, pid, interfaces,
		dests: (.maps.dests | {entries, max_entries}), rules: .maps.rules.entries,
		baseline: .maps.baseline.entries, pinned, frames: .stats.frames,
		packets: .stats.packets, alerts: .stats.alerts, sampled: .stats.sampled,
		ringbuf_drops: .stats.ringbuf_drops, evicted: .stats.evicted_dests})')"
assert_eq status_json_maps '["baseline","dests","events","pairs","rules","stats"]' \
	"$(jqs "$LAB_DIR/status.json" '.[0].maps | keys')"

# --- 7: as user nobody -------------------------------------------------------

# a copy nobody can run, wherever the tree is
mkdir -m 0755 "$LAB_DIR/bin"
install -m 0755 "$PROTOMIX" "$LAB_DIR/bin/protomix"
for c in snapshot status; do
	OUT=$LAB_DIR/nobody_$c.out ERR=$LAB_DIR/nobody_$c.err
	timeout 20 ip netns exec "$GW" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$LAB_DIR/bin/protomix" "$c" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
	said=no
	grep -qF "permission denied" "$ERR" && said=yes
	got="rc=$RC stderr_lines=$(lines "$ERR") says_permission_denied=$said stdout=$(wc -c <"$OUT" | tr -d ' ')"
	if [ "$got" = "rc=1 stderr_lines=1 says_permission_denied=yes stdout=0" ]; then
		pass "nobody_${c}_refused"
	else
		fail "nobody_${c}_refused" "$got (stderr: $(cat "$ERR"))"
	fi
done
if _pm_alive "$W1PID"; then
	pass nobody_watch_still_running
else
	fail nobody_watch_still_running "the watch exited: $(cat "$(pm_errfile "$W1")")"
fi
cli after_nobody "$GW" snapshot
assert_eq nobody_root_still_served "rc=0 $D2" "rc=$RC $(dests "$OUT")"

# --- 7: a socket of another user that only looks like a watch ----------------

# Any user of the namespace can bind an abstract socket with the name
# watches had before the run folder: it is not looked at. Its answer (here a
# status without most fields) would not crash `protomix status`; the real
# watch is listed, and only it.
cat >"$LAB_DIR/bin/impostor.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0protomix/ctl/" + sys.argv[1])
s.listen(8)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.recv(100)
    c.sendall(b'{"type":"status","pid":' + sys.argv[1].encode() + b'}\n')
    c.close()
EOF
chmod 0644 "$LAB_DIR/bin/impostor.py"
lab_bg impostor gw setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$LAB_PYTHON" "$LAB_DIR/bin/impostor.py" 4194000
if wait_for "$LAB_DIR/impostor.out" '^listening$' 5; then
	cli impostor_status "$GW" status
	assert_eq impostor_status_no_crash "rc<128 lists $W1PID" \
		"rc$([ "$RC" -lt 128 ] && echo '<128' || echo "=$RC") lists $(sed -nE 's/^protomix watch, pid ([0-9]+),.*/\1/p' "$OUT" | grep -x "$W1PID")"
	cli impostor_snapshot_pid "$GW" snapshot --pid "$W1PID"
	assert_eq impostor_snapshot_pid "rc=0 $D2" "rc=$RC $(dests "$OUT")"
else
	fail impostor_listening "$(cat "$LAB_DIR/impostor.err")"
fi
lab_bg_stop impostor KILL

# --- 8: files are safe ---------------------------------------------------------

# file_fails NAME WORD ARGS...: protomix ARGS (in the gateway) fails with
# status 1 and one line on stderr naming WORD
file_fails()
{
	local name=$1 word=$2 named=no

	shift 2
	cli "$name" "$GW" "$@"
	grep -qF -- "$word" "$ERR" && named=yes
	assert_eq "$name" "rc=1 stderr_lines=1 names_file=yes" \
		"rc=$RC stderr_lines=$(lines "$ERR") names_file=$named"
}

# a folder that does not exist: not created, nothing written
file_fails missing_dir_o "$LAB_DIR/nosuch/s.json" snapshot -o "$LAB_DIR/nosuch/s.json"
file_fails missing_dir_pcap "$LAB_DIR/nosuch/e.pcap" snapshot --pcap "$LAB_DIR/nosuch/e.pcap"
assert_eq missing_dir_not_created no "$([ -e "$LAB_DIR/nosuch" ] && echo yes || echo no)"

# an unwritable folder (mode 0555; root without CAP_DAC_OVERRIDE, as a
# hardened service would run)
mkdir -m 0555 "$LAB_DIR/ro"
# shellcheck disable=SC2054	# setpriv's own comma lists
NODAC=(setpriv --inh-caps=-dac_override,-dac_read_search
       --bounding-set=-dac_override,-dac_read_search)
for c in "o s.json" "pcap e.pcap"; do
	opt=${c%% *} f=${c#* }
	[ "$opt" = o ] && opt=-o || opt=--pcap
	OUT=$LAB_DIR/unwritable_$f.out ERR=$LAB_DIR/unwritable_$f.err
	timeout 20 ip netns exec "$GW" "${NODAC[@]}" "$PROTOMIX" snapshot "$opt" "$LAB_DIR/ro/$f" \
		>"$OUT" 2>"$ERR" </dev/null
	RC=$?
	named=no
	grep -qF -- "$LAB_DIR/ro/$f" "$ERR" && named=yes
	assert_eq "unwritable_dir_${c%% *}" "rc=1 stderr_lines=1 names_file=yes left=" \
		"rc=$RC stderr_lines=$(lines "$ERR") names_file=$named left=$(listing "$LAB_DIR/ro")"
done

# in_tmpfs NAME MOUNTOPTS SETUP ARGS...: in a mount namespace of the
# gateway (that of a fresh `ip netns exec`), mount a tmpfs on $LAB_DIR/mnt
# with MOUNTOPTS, run the shell commands SETUP in it, then protomix ARGS;
# prints "rc=N stderr_lines=N names_file=yes|no left=NAMES" (what is left
# in the folder, seen from inside)
mkdir -m 0755 "$LAB_DIR/mnt"
in_tmpfs()
{
	local name=$1 opts=$2 setup=$3 err=$LAB_DIR/$1.err

	shift 3
	# shellcheck disable=SC2016
	timeout 20 ip netns exec "$GW" sh -c '
		d=$1 opts=$2 setup=$3 err=$4; shift 4
		mount -t tmpfs -o "size=1m,mode=0755" tmpfs "$d" || exit 99
		cd "$d" && eval "$setup" && cd / || exit 98
		[ -n "$opts" ] && { mount -o "remount,$opts" "$d" || exit 97; }
		"$@" >/dev/null 2>"$err" </dev/null
		echo "rc=$? left=$(ls -A "$d" | sort | paste -sd" " -)"
	' sh "$LAB_DIR/mnt" "$opts" "$setup" "$err" "$PROTOMIX" "$@" 2>&1
}

# tmpfs_fails NAME FILE MOUNTOPTS SETUP LEFT ARGS...
tmpfs_fails()
{
	local name=$1 file=$2 opts=$3 setup=$4 left=$5 r named=no

	shift 5
	r=$(in_tmpfs "$name" "$opts" "$setup" "$@")
	grep -qF -- "$file" "$LAB_DIR/$name.err" 2>/dev/null && named=yes
	assert_eq "$name" "rc=1 left=$left stderr_lines=1 names_file=yes" \
		"$r stderr_lines=$(lines "$LAB_DIR/$name.err" 2>&1) names_file=$named"
}

M=$LAB_DIR/mnt
# a read-only filesystem
tmpfs_fails readonly_fs_o "$M/s.json" ro 'echo x >keep' keep snapshot -o "$M/s.json"
tmpfs_fails readonly_fs_pcap "$M/e.pcap" ro 'echo x >keep' keep snapshot --pcap "$M/e.pcap"
# a full filesystem: the temporary file is created, writing it fails, it
# must go
FILL='dd if=/dev/zero of=fill bs=4k 2>/dev/null; true'
tmpfs_fails full_fs_o "$M/s.json" "" "$FILL" fill snapshot -o "$M/s.json"
tmpfs_fails full_fs_pcap "$M/e.pcap" "" "$FILL" fill snapshot --pcap "$M/e.pcap"
tmpfs_fails full_fs_csv "$M/s.csv" "" "$FILL" fill snapshot -f csv -o "$M/s.csv"
# the same tmpfs with room: the check itself works
assert_eq tmpfs_with_room_writes "rc=0 left=e.pcap s.json" \
	"$(in_tmpfs tmpfs_room "" 'true' snapshot -o "$M/s.json" --pcap "$M/e.pcap")"

# -o written, then --pcap fails: status 1
file_fails pcap_fails_after_o "$LAB_DIR/nosuch/e.pcap" \
	snapshot -o "$OUTD/s4.json" --pcap "$LAB_DIR/nosuch/e.pcap"

# the watch went on through all that
assert_eq files_watch_still_running "yes" "$(_pm_alive "$W1PID" && echo yes || echo no)"
assert_eq files_no_stray_files "after.json before.json e.pcap s.csv s.md s1.json s2.json s3.json s4.json" \
	"$(listing "$OUTD")"

# --- 5: two watches in the namespace -------------------------------------------

# gw-lb: a rule that makes ESP a violation with evidence, and a one-way
# window of 1 s so that two ESP bursts 1.3 s apart give a one_way_ipsec
# alert (which has no frame: not in the pcap)
W2=w2
if start "$W2" watch --json -i 0.2 --oneway-window 1 --sample-rate 1000000 \
	-e 10.30.0.0/16=udp gw-lb; then
	W2PID=${PM_PIDS[$W2]}
	send_lb esp4 3 --src 10.20.0.80 --dst 10.30.0.9
	t0=$(date +%s%N)

	# meanwhile: snapshot without --pid is refused, status lists both
	first=$((W1PID < W2PID ? W1PID : W2PID)) second=$((W1PID < W2PID ? W2PID : W1PID))
	refused two_snapshot_no_pid 2 "pids $first, $second" "$GW" snapshot
	refused two_snapshot_no_pid_o 2 "pids $first, $second" "$GW" snapshot -o "$OUTD/two.json"
	assert_eq two_no_file no "$([ -e "$OUTD/two.json" ] && echo yes || echo no)"
	cli two_status "$GW" status
	assert_eq two_status "rc=0 $first $second" \
		"rc=$RC $(sed -nE 's/^protomix watch, pid ([0-9]+),.*/\1/p' "$OUT" | paste -sd' ')"
	want="gw-ws gw-lb"
	[ "$W1PID" -lt "$W2PID" ] || want="gw-lb gw-ws"
	assert_eq two_status_ifaces "$want" \
		"$(grep -E '^  interface ' "$OUT" | awk '{print $2}' | paste -sd' ')"
	cli two_status_json "$GW" status --json
	assert_eq two_status_json "$(norm "[{\"pid\":$first},{\"pid\":$second}]")" \
		"$(jqs "$OUT" 'map({pid})')"
	assert_eq two_status_json_ifaces "$(norm "{\"$W1PID\":[\"gw-ws\"],\"$W2PID\":[\"gw-lb\"]}")" \
		"$(jqs "$OUT" 'map({key: (.pid | tostring), value: [.interfaces[].name]}) | from_entries')"
	refused two_snapshot_bad_pid 1 "no protomix watch with pid 4194304" "$GW" \
		snapshot --pid 4194304
	refused two_snapshot_pid_not_number 2 "'abc'" "$GW" snapshot --pid abc

	cli two_w1 "$GW" snapshot --pid "$W1PID"
	assert_eq two_pid_w1 "rc=0 [\"gw-ws\"] $D2" \
		"rc=$RC $(jqs "$OUT" '[.interfaces[].name]') $(dests "$OUT")"

	# the second burst 1.3 s after the first
	now=$(date +%s%N)
	sleep "$(awk -v d=$(((1300000000 - (now - t0)) / 1000000)) 'BEGIN { print (d > 0 ? d : 0) / 1000 }')"
	send_lb esp4 3 --src 10.20.0.80 --dst 10.30.0.9
	if wait_for "$(pm_out "$W2")" '"kind":"one_way_ipsec"' 4; then
		pass two_w2_one_way_raised
	else
		fail two_w2_one_way_raised "no one_way_ipsec alert: $(grep alert "$(pm_out "$W2")")"
	fi
	cli two_w2 "$GW" snapshot --pid "$W2PID" -o "$OUTD/w2.json" --pcap "$OUTD/w2.pcap"
	S=$OUTD/w2.json
	assert_eq two_pid_w2 "rc=0 [\"gw-lb\"]" "rc=$RC $(jqs "$S" '[.interfaces[].name]')"
	assert_eq two_pid_w2_dests "$(norm "[{\"addr\":\"10.30.0.9\",\"packets\":{\"esp\":6},
		\"bytes\":{\"esp\":$((6 * ESP4_B))},\"expected\":[\"udp\"],\"violations\":6}]")" \
		"$(dests "$S")"
	assert_eq two_pid_w2_alerts '{"one_way_ipsec":1,"unexpected_protocol":6}' \
		"$(jqs "$S" '.alerts | group_by(.kind) | map({key: .[0].kind, value: length}) | from_entries')"
	pcap_rows "$OUTD/w2.pcap" >"$LAB_DIR/w2.rows"
	assert_eq two_pid_w2_pcap_frames "6 6" \
		"$(jq '[.alerts[] | select(.kind != "one_way_ipsec")] | length' "$S") $(lines "$LAB_DIR/w2.rows")"
	assert_eq two_pid_w2_pcap_fields "$SPI $((SEQ)) 10.20.0.80 10.30.0.9 $ESP4_FRAME $ESP4_FRAME" \
		"$(cut -d' ' -f2- "$LAB_DIR/w2.rows" | sort -u | paste -sd'|')"
	assert_eq two_pid_w2_pcap_times "$(alert_us "$S" '.kind != "one_way_ipsec"')" \
		"$(cut -d' ' -f1 "$LAB_DIR/w2.rows")"
	# and the first watch saw none of it
	cli two_w1_again "$GW" snapshot --pid "$W1PID"
	assert_eq two_w1_unchanged "rc=0 $D2" "rc=$RC $(dests "$OUT")"

	# --- 10: SIGTERM ---------------------------------------------------------
	pm_stop "$W2" TERM
	assert_eq sigterm_w2_exit_status 0 "$?"
	assert_eq sigterm_w2_detached "" "$(lab_attached gw gw-lb)"
	assert_eq sigterm_w2_no_socket 0 "$(ctl_socket "$W2PID")"
fi

pm_stop "$W1" TERM
assert_eq sigterm_w1_exit_status 0 "$?"
assert_eq sigterm_w1_detached "" "$(lab_attached gw gw-ws)"
assert_eq sigterm_w1_no_socket 0 "$(ctl_socket "$W1PID")"
# its own snapshot on exit agrees with the last one taken from outside,
# and its alert stream is the snapshot's alerts
assert_eq sigterm_w1_exit_snapshot "$D2" "$(dests "$LAB_DIR/w1-exit.json")"
assert_eq w1_alert_stream_is_snapshot "$(jqs "$S2" '[.alerts[]]')" \
	"$(jq -S -c 'select(.type == "alert")' "$(pm_out "$W1")" 2>&1 | jq -S -c -s . 2>&1)"

# nothing running any more
refused after_stop_snapshot 1 "$NOWATCH" "$GW" snapshot
refused after_stop_status 1 "$NOWATCH" "$GW" status
refused after_stop_snapshot_pid 1 "no protomix watch with pid $W1PID" "$GW" snapshot --pid "$W1PID"

# --- 11: pins --------------------------------------------------------------------

# Where /sys/fs/bpf is a bpffs the maps are pinned. On this host it is
# usually not, and `ip netns exec` mounts a fresh /sys anyway: a holder
# process keeps a mount namespace of the gateway with a private bpffs on
# /sys/fs/bpf; the watches and the checks enter it with nsenter. It sleeps
# an hour, not 2 minutes: under emulation this part alone outlasted 120 s
# (6.12: "nsenter: cannot open /proc/PID/ns/net"); it is killed below.
host_fs=$(stat -f -c %T /sys/fs/bpf 2>/dev/null)
echo "# host /sys/fs/bpf: ${host_fs:-absent}" >&2
pins_ok=1
lab_bg holder gw unshare -m --propagation private sh -c \
	'mount -t bpf bpf /sys/fs/bpf && echo mounted && exec sleep 3600'
H=${LAB_BG_PIDS[holder]}
wait_for "$LAB_DIR/holder.out" '^mounted$' 5 || pins_ok=0
if [ "$pins_ok" -eq 0 ] ||
   [ "$(nsenter -t "$H" -m stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	skip pins "cannot mount a bpffs on /sys/fs/bpf in a private mount namespace: $(cat "$LAB_DIR/holder.err")"
	lab_bg_stop holder KILL
else
	# in_h CMD...: CMD in the holder's mount and network namespaces
	in_h() { nsenter -t "$H" -m -n "$@"; }
	# pstart NAME: a watch on gw-ws in the holder's namespaces
	pstart()
	{
		nsenter -t "$H" -m -n "$PROTOMIX" watch -i 0.2 -e 10.20.0.0/16=tcp gw-ws \
			>"$LAB_DIR/$1.out" 2>"$LAB_DIR/$1.err" </dev/null &
		PM_PIDS[$1]=$!		# nsenter execs: this is protomix
		PM_LAST=$1
		pm_wait_attached "$1" gw-ws 2>/dev/null && return 0
		fail "${1}_attach" "$(cat "$LAB_DIR/$1.err")"
		pm_stop "$1" KILL
		return 1
	}
	pinned() { in_h sh -c "cd /sys/fs/bpf/protomix/$1 2>&1 && ls -A | sort | paste -sd' ' -"; }
	MAPS="baseline dest_cold dest_counts dest_index dests events pairs rules stats"
	# pinned_esp_dests DIR: the destinations of the pinned table that
	# received esp, as [{addr, esp, violations}], read with bpftool as
	# headers/protomix.h lays the table out: each valid way of a
	# dest_index bucket names a slot; the slot's key in dests, its esp
	# packets in dests too when esp (class 5) is its main class (bits
	# 16-20 of flags: 6), else at 5 * nslots + slot in dest_counts (the
	# two summed), its violations in dest_cold
	pinned_esp_dests()
	{
		local slots slot ns out=()

		le32() { jq -r '[. % 256, (. / 256 | floor) % 256, (. / 65536 | floor) % 256,
				 (. / 16777216 | floor)] | map(tostring) | join(" ")' <<<"$1"; }
		ns=$(in_h bpftool -j map show pinned "$1/dests" | jq .max_entries) || return 1
		slots=$(in_h bpftool -j map dump pinned "$1/dest_index" | jq -c '.[] | .formatted // . |
			.value as $v | range(8) as $w |
			select(($v.state / pow(2; $w) | floor) % 2 == 1) | $v.slots[$w]') || return 1
		while read -r slot; do
			[ -n "$slot" ] || continue
			out+=("$(jq -n -c \
				--argjson h "$(in_h bpftool -j map lookup pinned "$1/dests" key $(le32 "$slot"))" \
				--argjson c "$(in_h bpftool -j map lookup pinned "$1/dest_counts" key $(le32 $((5 * ns + slot))))" \
				--argjson k "$(in_h bpftool -j map lookup pinned "$1/dest_cold" key $(le32 "$slot"))" \
				'($h | .formatted // . | .value) as $hv |
				 (($c | .formatted // . | .value.packets) +
				  (if ($hv.flags / 65536 | floor) % 32 == 6 then $hv.packets else 0 end)) as $esp |
				 select($esp > 0) |
				 {addr: $hv.key[""].addr, esp: $esp,
				  violations: ($k | .formatted // . | .value.violations)}')")
		done <<<"$slots"
		printf '%s\n' "${out[@]}" | jq -s -c .
	}

	if pstart pin1; then
		Q=${PM_PIDS[pin1]}
		send_ws esp4 3 --dst 10.20.0.80
		assert_eq pin_maps "$MAPS" "$(pinned "$Q")"
		assert_eq pin_dir_modes "700 700" \
			"$(in_h stat -c %a /sys/fs/bpf/protomix /sys/fs/bpf/protomix/"$Q" 2>&1 | paste -sd' ')"
		# the destination in the pinned table, read with bpftool:
		# 10.20.0.80 as an IPv4-mapped address, 3 esp (class 5), 3
		# violations
		assert_eq pin_bpftool_dests '[{"addr":[0,0,0,0,0,0,0,0,0,0,255,255,10,20,0,80],"esp":3,"violations":3}]' \
			"$(pinned_esp_dests "/sys/fs/bpf/protomix/$Q" 2>&1)"
		cli pin_status "$GW" status --json
		assert_eq pin_status_pinned "\"/sys/fs/bpf/protomix/$Q\"" "$(jqs "$OUT" '.[0].pinned')"
		cli pin_status_text "$GW" status
		assert_eq pin_status_text_pinned "  maps pinned under /sys/fs/bpf/protomix/$Q" \
			"$(grep pinned "$OUT")"
		pm_stop pin1 INT
		assert_eq pin_sigint_exit_status 0 "$?"
		assert_eq pin_sigint_removed "" "$(in_h ls -A /sys/fs/bpf/protomix 2>/dev/null)"
		assert_eq pin_sigint_root_removed no \
			"$(in_h test -e /sys/fs/bpf/protomix && echo yes || echo no)"
		assert_eq pin_sigint_detached "" "$(lab_attached gw gw-ws)"
	fi

	if pstart pin2; then
		Q2=${PM_PIDS[pin2]}
		assert_eq pin_kill_pinned "$MAPS" "$(pinned "$Q2")"
		pm_stop pin2 KILL
		# tcx links die with the process; classic filters (before 6.6)
		# stay until the next watch removes them
		if lab_has_tcx; then
			assert_eq pin_kill_detached "" "$(lab_attached gw gw-ws)"
		else
			assert_eq pin_kill_filters_left "$(lab_tc_hooks)" "$(lab_attached gw gw-ws)"
		fi
		assert_eq pin_kill_pins_left "$MAPS" "$(pinned "$Q2")"
		if pstart pin3; then
			Q3=${PM_PIDS[pin3]}
			if grep -qxF "protomix: removed the pins of a killed watch (/sys/fs/bpf/protomix/$Q2)" \
				"$LAB_DIR/pin3.err"; then
				pass pin_stale_removed_said
			else
				fail pin_stale_removed_said "stderr: $(cat "$LAB_DIR/pin3.err")"
			fi
			assert_eq pin_stale_removed "$Q3" "$(in_h ls -A /sys/fs/bpf/protomix 2>&1)"
			assert_eq pin_next_pinned "$MAPS" "$(pinned "$Q3")"
			pm_stop pin3 INT
			assert_eq pin3_exit_status 0 "$?"
			assert_eq pin3_removed no \
				"$(in_h test -e /sys/fs/bpf/protomix && echo yes || echo no)"
		fi
	fi
	lab_bg_stop holder KILL
fi

# --- nothing left ------------------------------------------------------------------

no_leftovers "$P"
