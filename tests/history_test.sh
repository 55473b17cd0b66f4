#!/usr/bin/env bash
# The mix over time (issue 18), on the lab incident of tests/lib/lab.sh:
# TCP to 10.20.0.80 first, then ESP to it, under a watch at -i 0.5.
#
#  1. The history in the snapshot: written by the watch at exit (-o) and
#     by the forked child that answers `protomix snapshot`: schema
#     protomix.snapshot/3, 10.20.0.80 alerted, its packets per class
#     exactly what was sent (300 tcp, 400 esp), each burst in at most two
#     consecutive intervals, the first ESP interval within one interval of
#     the first ESP frame sent, the first protocol_shift after it.
#  2. -f html: HTML that xmllint's HTML parser takes (libxml2 2.9's parser
#     knows HTML 4 and names each SVG element "invalid"; nothing else may
#     be said) and that is well-formed XML; self-contained (no script, no
#     src/href, no url(), no address but the SVG namespace).
#     -f svg --dest: well-formed XML, one chart.
#  3. Rendered by headless chromium: in the chart, the ESP colour right of
#     the alert line and nowhere left of it by more than one interval, the
#     TCP colour left of it only (pixels of the screenshot, tests/lib/
#     chart_pixels.py). SKIP if chromium is not there.
#  4. Bad input: --dest not in the history (exit 2), -f svg without --dest
#     (2), --dest without -f svg (2), an unwritable path (1): one line on
#     stderr, no file.
#  5. Older snapshots: tests/fixtures/diff_old.json (protomix.snapshot/1)
#     read by diff against the new one, by watch --baseline (the incident
#     ran with it), by replay --baseline, and rendered as html (saying it
#     has no history).
#  6. --history-dests 0: no "history"; bad --history-* values: exit 2.
#  7. The live view (watch on a terminal, in tmux): 'g' opens the strip of
#     the top row's mix over time, TCP refreshes then ESP ones in that
#     order; 'g' again closes it.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh
skip_unless_root history
need_cmds history jq xmllint

OLD=$LAB_ROOT/tests/fixtures/diff_old.json
INTERVAL=0.5
NTCP=300 NESP=400
lab_up "pmt-$$-hist" || { fail history_lab "cannot build the lab"; exit 1; }
# the frames die on the gateway: gw-ws sees exactly what is sent
lab_exec gw ip route add blackhole 10.20.0.80/32
GW=$(lab_ns gw)
snap() { ip netns exec "$GW" "$PROTOMIX" snapshot "$@"; }

# --- the incident --------------------------------------------------------
start w1 watch -i "$INTERVAL" --oneway-window 2 --baseline "$OLD" \
	-o "$LAB_DIR/exit.json" gw-ws || exit 1
sleep 0.6
send_ws tcp4 "$NTCP"
sleep 1.6
T_ESP=$(date +%s.%N)	# just before the first ESP frame leaves
send_ws esp4 "$NESP"
sleep 1.6
snap -o "$LAB_DIR/live.json"; rc_json=$?
snap -f html -o "$LAB_DIR/live.html"; rc_html=$?
snap -f svg --dest 10.20.0.80 -o "$LAB_DIR/live.svg"; rc_svg=$?
snap --pcap "$LAB_DIR/ev.pcap" -o /dev/null
assert_eq history_snapshot_rcs "0 0 0" "$rc_json $rc_html $rc_svg"

# --- 4. bad input (the watch still running) --------------------------------
bad() {	# NAME WANT_RC ARGS...: exit status, one line on stderr
	local name=$1 want=$2 err rc
	shift 2
	err=$(snap "$@" 2>&1 >/dev/null); rc=$?
	assert_eq "$name" "rc=$want lines=1" "rc=$rc lines=$(printf '%s\n' "$err" | grep -c .)"
}
bad history_bad_dest 2 -f svg --dest 10.9.9.9 -o "$LAB_DIR/no.svg"
bad history_svg_no_dest 2 -f svg -o "$LAB_DIR/no.svg"
bad history_dest_not_svg 2 -f html --dest 10.20.0.80 -o "$LAB_DIR/no.html"
bad history_unwritable 1 -f html -o "$LAB_DIR/missing/dir/x.html"
assert_eq history_bad_no_file "" "$(ls "$LAB_DIR"/no.* 2>/dev/null)"
# the memory: 2 x 32 slots x 900 cells (per class a 32-bit packet count
# and a 64-bit byte count, the packets padded to 8 bytes), the interval
# times (900 x 16) and the heap (32 x 16), plus the slot headers and the
# pending alerts (under 32 KiB)
ncls=$("$PROTOMIX" classes | sed -n '2,/^$/p' | grep -c '^  [a-z]')
cell=$(( (4 * ncls + 7) / 8 * 8 + 8 * ncls ))
hmin=$(( 2 * 32 * 900 * cell + 900 * 16 + 32 * 16 ))
hb=$(ip netns exec "$GW" "$PROTOMIX" status --json | jq '.[0].history_bytes')
if [ "${hb:-0}" -ge "$hmin" ] 2>/dev/null && [ "$hb" -lt $((hmin + 32768)) ]; then
	pass history_status_bytes
else
	fail history_status_bytes "history_bytes $hb, not $hmin ($ncls classes, cells of $cell bytes) + less than 32 KiB"
fi
stop w1

# --- 1. the history --------------------------------------------------------
# the series of 10.20.0.80 in FILE: "alerted tcp_sum esp_sum tcp_ivals esp_ivals"
series() {
	jq -r '.history.dests[] | select(.addr == "10.20.0.80") |
		[.alerted, (.packets.tcp // [] | add // 0), (.packets.esp // [] | add // 0),
		 ([.packets.tcp // [] | to_entries[] | select(.value > 0) | .key + .from] | join(",")),
		 ([.packets.esp // [] | to_entries[] | select(.value > 0) | .key + .from] | join(","))]
		| map(tostring) | join(" ")' "$1" 2>&1
}
consecutive() {	# "3,4" or "5": at most two, one after the other
	awk -v s="$1" 'BEGIN { n = split(s, a, ","); exit !(n == 1 && a[1] != "" || n == 2 && a[2] == a[1] + 1) }'
}
for f in exit live; do
	F=$LAB_DIR/$f.json
	assert_eq "history_${f}_schema" protomix.snapshot/3 "$(jq -r .schema "$F" 2>&1)"
	read -r alerted tcp esp tcp_iv esp_iv <<<"$(series "$F")"
	assert_eq "history_${f}_counts" "true $NTCP $NESP" "$alerted $tcp $esp"
	if consecutive "$tcp_iv" && consecutive "$esp_iv" &&
	   [ "${tcp_iv##*,}" -lt "${esp_iv%%,*}" ]; then
		pass "history_${f}_intervals"
	else
		fail "history_${f}_intervals" "tcp in intervals '$tcp_iv', esp in '$esp_iv'"
	fi
done
F=$LAB_DIR/exit.json
# the first ESP interval holds the first ESP frame: the kernel's time of
# it (the protocol_shift alert's) falls in that interval, or within one
# interval before it (read at the interval's end); and it was sent before.
# The sender's clock is not the measure: under emulation a frame can reach
# the program more than an interval after it was sent.
when=$("$LAB_PYTHON" - "$F" "$T_ESP" "$INTERVAL" <<'EOF'
import datetime, json, sys
doc, sent, ival = json.load(open(sys.argv[1])), float(sys.argv[2]), float(sys.argv[3])
h = doc["history"]
d = [x for x in h["dests"] if x["addr"] == "10.20.0.80"][0]
def epoch(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
t0 = epoch(h["start"])
k = d["from"] + next(i for i, v in enumerate(d["packets"]["esp"]) if v)
start = t0 + h["starts_ms"][k] / 1000
end = start + h["lens_ms"][k] / 1000
shift = epoch(d["first_alerts"]["protocol_shift"])
ok = sent <= shift and start - ival <= shift <= end
print("ok" if ok else f"sent {sent:.3f}, interval {k} {start:.3f}-{end:.3f}, alert {shift:.3f}")
EOF
)
assert_eq history_first_esp_interval ok "$when"
assert_eq history_interval_s "0.5" "$(jq -r .history.interval_s "$F")"

# --- 2. html and svg -------------------------------------------------------
H=$LAB_DIR/live.html
svg_tags='svg|g|rect|line|text|title|style|path|polyline'
other=$(xmllint --html --noout "$H" 2>&1 | grep 'parser error' |
	grep -Ev "Tag ($svg_tags) invalid")
rc=$(xmllint --html --noout "$H" >/dev/null 2>&1; echo $?)
assert_eq history_html_xmllint_html "rc=0 other=" "rc=$rc other=$other"
assert_eq history_html_xml "" "$(xmllint --noout "$H" 2>&1)"
assert_eq history_svg_xml "" "$(xmllint --noout "$LAB_DIR/live.svg" 2>&1)"
assert_eq history_svg_one_chart "1 1" \
	"$(grep -c '<svg ' "$LAB_DIR/live.svg") $(grep -c '10.20.0.80: packets/s by class' "$LAB_DIR/live.svg")"
fetches=$(grep -oiE '<script|src=|href=|url\(|https?://[^"]*' "$H" | grep -v '^http://www.w3.org/2000/svg$' | sort -u | paste -sd' ')
assert_eq history_html_self_contained "" "$fetches"
assert_eq history_html_evidence 5 \
	"$(grep -cE '^[0-9T:.-]+Z gw-ws ingress IP 10\.10\.1\.10 &gt; 10\.20\.0\.80: ESP\(spi=0xd7ca145d,seq=0x[0-9a-f]+\), length 80 \[protocol_shift: expected tcp\]$' "$H")"
assert_eq history_html_marked 1 "$(grep -c '>protocol_shift [0-9:.]*</text>' "$H")"

# --- 3. in a browser -------------------------------------------------------
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	skip history_screenshot "chromium is not installed (tools/install-deps.sh installs it)"
else
	ud=$(mktemp -d)
	timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --disable-sync \
		--no-first-run --user-data-dir="$ud" --screenshot="$LAB_DIR/shot.png" \
		--window-size=1100,1400 "file://$H" >"$LAB_DIR/chromium.log" 2>&1
	rm -rf "$ud"
	if [ ! -s "$LAB_DIR/shot.png" ]; then
		skip history_screenshot "chromium wrote no screenshot: $(tail -1 "$LAB_DIR/chromium.log")"
	else
		px=$("$LAB_PYTHON" tests/lib/chart_pixels.py "$LAB_DIR/shot.png" 2>&1)
		eval "$(tr ' ' '\n' <<<"$px" | grep -E '^[a-z_0-9]+=-?[0-9]+$')"
		# one interval in pixels: the plot's width times an interval's
		# share of the window, rounded up, and a pixel of edge
		ivpx=$(jq -r --argjson w $((${ax1:--1} - ${ax0:-0} + 1)) \
			'.history | $w * (.lens_ms | max) / (.starts_ms[-1] + .lens_ms[-1]) | floor + 2' \
			"$LAB_DIR/live.json")
		if [ "${mark_x:--1}" -ge 0 ] && [ "${esp_n:-0}" -gt 0 ] && [ "${tcp_n:-0}" -gt 0 ] &&
		   [ "$esp_max" -gt "$mark_x" ] && [ "$esp_min" -ge $((mark_x - ivpx)) ] &&
		   [ "$tcp_max" -lt "$mark_x" ]; then
			pass history_screenshot
		else
			fail history_screenshot "$px (one interval: $ivpx px)"
		fi
	fi
fi

# --- 5. older snapshots ----------------------------------------------------
assert_eq history_diff_old "0" "$("$PROTOMIX" diff "$OLD" "$F" >/dev/null 2>&1; echo $?)"
# the incident's watch ran with --baseline OLD: it started, and flagged
assert_eq history_baseline_old "true" "$(jq '.stats.alerts.protocol_shift > 0' "$F" 2>&1)"
rc=$("$PROTOMIX" replay --baseline "$OLD" "$LAB_DIR/ev.pcap" >/dev/null 2>&1; echo $?)
assert_eq history_replay_baseline_old 0 "$rc"
"$PROTOMIX" snapshot --input "$OLD" -f html -o "$LAB_DIR/old.html"; rc=$?
assert_eq history_html_of_old "rc=0 1" "rc=$rc $(grep -c 'has no history' "$LAB_DIR/old.html" 2>&1)"
"$PROTOMIX" snapshot --input "$F" -f svg --dest 10.20.0.80 -o "$LAB_DIR/exit.svg"; rc=$?
assert_eq history_svg_of_file "rc=0" "rc=$rc$(xmllint --noout "$LAB_DIR/exit.svg" 2>&1)"

# --- 6. the options --------------------------------------------------------
start w2 watch -i "$INTERVAL" -d 1 --history-dests 0 -o "$LAB_DIR/off.json" gw-ws &&
	pm_wait w2 >/dev/null
assert_eq history_off "false" "$(jq 'has("history")' "$LAB_DIR/off.json" 2>&1)"
for v in "--history-dests 4097" "--history-intervals x" "--history-intervals -1"; do
	# shellcheck disable=SC2086
	err=$(ip netns exec "$GW" "$PROTOMIX" watch $v gw-ws 2>&1 >/dev/null); rc=$?
	assert_eq "history_opt_${v%% *}_${v##* }" "rc=2 lines=1" \
		"rc=$rc lines=$(printf '%s\n' "$err" | grep -c .)"
done

# --- 7. the strip of the live view -----------------------------------------
if ! command -v tmux >/dev/null 2>&1; then
	skip history_top_strip "tmux is missing"
else
	TMUX_SOCK=$LAB_DIR/tmux.sock
	tm() { tmux -S "$TMUX_SOCK" "$@"; }
	trap 'tm kill-server 2>/dev/null; lab_cleanup' EXIT
	screen() { tm capture-pane -p -t view; }
	wait_screen() {	# REGEX: within 5 s
		local i
		for ((i = 0; i < 100; i++)); do
			screen | grep -qE -- "$1" && return 0
			sleep 0.05
		done
		return 1
	}
	tm new-session -d -s view -x 150 -y 40 -c "$LAB_DIR" \
		"ip netns exec $GW $PROTOMIX watch -i $INTERVAL gw-ws; echo \$? > $LAB_DIR/view.rc; exec sleep 600"
	if wait_screen '^ +ADDRESS'; then
		send_ws tcp4 50
		sleep 1.2
		send_ws esp4 50
		sleep 1.2
		tm send-keys -t view g
		if wait_screen 'MIX OVER TIME  10\.20\.0\.80' &&
		   wait_screen '^ *t[ t]*E+ *$'; then
			pass history_top_strip
		else
			fail history_top_strip "$(screen)"
		fi
		tm send-keys -t view g
		sleep 0.5
		assert_eq history_top_strip_closes 0 "$(screen | grep -c 'MIX OVER TIME')"
		tm send-keys -t view q
		for ((i = 0; i < 100; i++)); do [ -s "$LAB_DIR/view.rc" ] && break; sleep 0.05; done
		assert_eq history_top_exit 0 "$(cat "$LAB_DIR/view.rc" 2>&1)"
	else
		fail history_top_strip "the view did not come up: $(screen)"
	fi
	tm kill-server 2>/dev/null
fi

no_leftovers "pmt-$$-hist"
