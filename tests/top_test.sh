#!/usr/bin/env bash
# The full-screen view (user/top_view.c, top_keys.c, top_draw.c,
# top_client.c) on a real terminal: tmux panes running
# protomix inside the gateway namespace of the lab of tests/lib/lab.sh.
# - `protomix watch` on a terminal shows the view: the ESP destination of
#   a broken `-e 10.20.0.0/16=tcp` flagged with its evidence line; help,
#   sort, alerts-only, filter (and a bad one), pause, export, a terminal
#   too small; q ends the watch (exit 0, nothing attached, the terminal
#   restored), so does SIGTERM; what goes to stderr meanwhile shows in
#   the status line and on the terminal afterwards.
# - `protomix top` attaches to a watch that has no terminal (its maps
#   passed over the control socket) and shows its destinations and
#   alerts; it ends when the watch ends; with no watch: one line, exit 1;
#   destinations seen inside tunnels (tests/lib/tunnel_frames.py) are
#   marked "(via gre,vxlan)" after their row, and the parser line counts
#   the packets inside tunnels.
# The checks are on the text tmux captures (exact lines, or regexes that
# leave out only the clock).
#
# `tests/top_test.sh --cpu` instead measures CPU time with 100,000
# destinations (tests/manydests.c fills the map; TOP_CPU_DESTS=N for
# another number) at a 1 s refresh, over 10 s (TOP_CPU_SECS), in % of one
# CPU: "top_cpu_pct" (`protomix top` attached to a watch without a
# terminal), "watch_lines_cpu_pct" (that watch alone, printing lines),
# "watch_lines_with_top_cpu_pct" (the same with top attached) and
# "watch_view_cpu_pct" (a watch showing the view itself). No PASS/FAIL:
# figures for `make bench`.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

CPU_MODE=0
[ "${1:-}" = "--cpu" ] && CPU_MODE=1

skip_unless_root top
need_cmds top ip tmux jq
SENDFRAMES=$LAB_ROOT/tests/build/sendframes
if [ ! -x "$PROTOMIX" ] || [ ! -x "$SENDFRAMES" ]; then
	fail top "$PROTOMIX or $SENDFRAMES not built (run make && make tests)"
	exit 1
fi

P=pmt-$$-top
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW=$(lab_ns gw)
TMUX_SOCK=$LAB_DIR/tmux.sock
# tmux first, then the lab (lab_up's traps only know the lab)
trap 'tm kill-server 2>/dev/null; lab_cleanup' EXIT
trap 'tm kill-server 2>/dev/null; lab_cleanup; trap - EXIT; exit 130' INT
trap 'tm kill-server 2>/dev/null; lab_cleanup; trap - EXIT; exit 143' TERM

# The server lives as long as the test: killing the last session would
# end it while the next one starts.
tmux -S "$TMUX_SOCK" new-session -d -s keep "exec sleep 100000"

# The test destinations go nowhere further: no replies, no ICMP errors on
# gw-ws's egress, so the rows are exactly those the test sends.
lab_exec gw ip route add blackhole 10.20.9.0/24

# What the frame builder puts in esp4 (tests/frames.c).
EVIDENCE='gw-ws ingress IP 10\.10\.1\.10 > 10\.20\.9\.80: ESP\(spi=0xd7ca145d,seq=0x3de0a5\), length 80 \[unexpected_protocol: expected tcp\]'
CLOCK='[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}'

# --- helpers ---------------------------------------------------------------

tm() { tmux -S "$TMUX_SOCK" "$@"; }

# pane NAME CMD: a detached 150x40 terminal running CMD (in $LAB_DIR, as
# the current folder); when CMD ends, its exit status goes to
# $LAB_DIR/NAME.rc and the pane stays, for what it shows then.
pane()
{
	local name=$1

	rm -f "$LAB_DIR/$name.rc"
	tm new-session -d -s "$name" -x 150 -y 40 -c "$LAB_DIR" \
		"$2; echo \$? > $LAB_DIR/$name.rc; exec sleep 600"
}

screen_of() { tm capture-pane -p -t "$1"; }

# wait_screen PANE REGEX [SECONDS]: until a line of the pane matches
wait_screen()
{
	local i

	for ((i = 0; i < ${3:-5} * 20; i++)); do
		screen_of "$1" | grep -qE -- "$2" && return 0
		sleep 0.05
	done
	return 1
}

# gone_screen PANE REGEX [SECONDS]: until no line matches
gone_screen()
{
	local i

	for ((i = 0; i < ${3:-5} * 20; i++)); do
		screen_of "$1" | grep -qE -- "$2" || return 0
		sleep 0.05
	done
	return 1
}

# check_screen NAME PANE REGEX: PASS if a line matches (waiting up to 5 s)
check_screen()
{
	if wait_screen "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "no line matching '$3' in: $(screen_of "$2")"
	fi
}

# line_no PANE REGEX: the number of the first matching line, or 0
line_no() { screen_of "$1" | grep -nE -- "$2" | head -1 | cut -d: -f1 | grep . || echo 0; }

# rows PANE: the destination rows shown, their addresses in order
rows() { screen_of "$1" | sed -nE 's/^[! ] ([0-9a-f.:]+) +[0-9.]+[kMGTP]? .*/\1/p' | paste -sd' '; }

keys() { tm send-keys -t "$@"; }

# rc_of PANE [SECONDS]: the exit status of its command, once it ended
rc_of()
{
	local i

	for ((i = 0; i < ${2:-10} * 20; i++)); do
		[ -s "$LAB_DIR/$1.rc" ] && { cat "$LAB_DIR/$1.rc"; return; }
		sleep 0.05
	done
	echo "still running"
}

# restored PANE: the terminal as it was: main screen, cursor shown
restored() { tm display -p -t "$1" '#{alternate_on} #{cursor_flag}'; }

send_ws()
{
	lab_exec ws "$SENDFRAMES" ws0 "$1" "$2" --dst-mac "$LAB_MAC_GW_WS" \
		--src-mac "$LAB_MAC_WS0" --dst "$3" || fail "send_$1" "sendframes failed"
}

# The traffic of the incident: TCP to two destinations, then one ESP
# packet to one of them, under a rule that says tcp.
incident()
{
	send_ws tcp4 3 10.20.9.80
	send_ws tcp4 2 10.20.9.9
	send_ws esp4 1 10.20.9.80
}

# Both rows once idle: the shares of all their packets, VIOL, the flag.
ROW80='^! 10\.20\.9\.80 +0 +0 +75 +0 +0 +25 +0 +1$'
ROW9='^  10\.20\.9\.9 +0 +0 +100 +0 +0 +0 +0 +0$'

attached() { lab_attached gw gw-ws; }

# --- CPU mode ----------------------------------------------------------------

# cpu_pcts SECONDS PID...: the CPU time each PID used over the same
# SECONDS, in % of one CPU, one figure per line
cpu_pcts()
{
	local secs=$1 hz pid a=() b=() i

	shift
	hz=$(getconf CLK_TCK)
	for pid in "$@"; do a+=("$(awk '{print $14 + $15}' "/proc/$pid/stat")"); done
	sleep "$secs"
	for pid in "$@"; do b+=("$(awk '{print $14 + $15}' "/proc/$pid/stat")"); done
	for i in "${!a[@]}"; do
		awk -v d=$((b[i] - a[i])) -v hz="$hz" -v s="$secs" \
			'BEGIN { printf "%.1f\n", 100 * d / hz / s }'
	done
}

# fill N: N destinations (10.64.0.0 up) into the watch's map
fill()
{
	lab_exec ws "$MANYDESTS" ws0 "$1" --dst-mac "$LAB_MAC_GW_WS" \
		--src-mac "$LAB_MAC_WS0" --base 10.64.0.0
}

# dests_now: how many destinations the running watch has
dests_now() { lab_exec gw "$PROTOMIX" status --json | jq '.[0].maps.dests.entries'; }

if [ "$CPU_MODE" = 1 ]; then
	N=${TOP_CPU_DESTS:-100000} SECS=${TOP_CPU_SECS:-10}
	MANYDESTS=$LAB_ROOT/tests/build/manydests
	if [ ! -x "$MANYDESTS" ] || [ tests/manydests.c -nt "$MANYDESTS" ]; then
		mkdir -p tests/build
		${CC:-cc} -O2 -Wall -Wextra -Werror tests/manydests.c -o "$MANYDESTS" ||
			{ fail top_cpu "cannot build tests/manydests.c"; exit 1; }
	fi
	lab_exec gw ip route add blackhole 10.64.0.0/10

	# a watch without a terminal (lines), then `protomix top` on it
	pm_start cpu watch -i 1 --max-dests $((2 * N)) gw-ws
	pm_wait_attached cpu || { fail top_cpu "watch did not start"; exit 1; }
	start=$(date +%s.%N)
	fill "$N" || { fail top_cpu "manydests failed"; exit 1; }
	echo "fill_secs $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
	sleep 1.5
	echo "destinations $(dests_now)"
	echo "watch_lines_cpu_pct $(cpu_pcts "$SECS" "${PM_PIDS[cpu]}")"
	pane cpu "ip netns exec $GW $PROTOMIX top -i 1"
	wait_screen cpu '^protomix top on ' 10 || { fail top_cpu "top did not start: $(screen_of cpu)"; exit 1; }
	sleep 3
	TOP_PID=$(pgrep -f "^$PROTOMIX top -i 1\$" | head -1)
	cpu_pcts "$SECS" "$TOP_PID" "${PM_PIDS[cpu]}" | paste -sd' ' | {
		read -r t w
		echo "top_cpu_pct $t"
		echo "watch_lines_with_top_cpu_pct $w"
	}
	screen_of cpu | head -8
	keys cpu q
	rc_of cpu >/dev/null
	pm_stop cpu

	# a watch showing the view itself
	pane wv "ip netns exec $GW $PROTOMIX watch -i 1 --max-dests $((2 * N)) gw-ws"
	wait_screen wv '^protomix watch on ' 10 || { fail top_cpu "watch did not start: $(screen_of wv)"; exit 1; }
	fill "$N" || { fail top_cpu "manydests failed"; exit 1; }
	sleep 3
	WV_PID=$(pgrep -f "^$PROTOMIX watch -i 1 --max-dests" | head -1)
	echo "watch_view_cpu_pct $(cpu_pcts "$SECS" "$WV_PID")"
	keys wv q
	rc_of wv >/dev/null
	tm kill-server 2>/dev/null
	lab_cleanup
	exit 0
fi

# --- top with no watch: one line, exit 1, the terminal never taken ----------

out=$(lab_exec gw "$PROTOMIX" top 2>&1 </dev/null)
assert_eq top_no_watch_status 1 "$?"
NO_WATCH='protomix: no protomix watch is running in this network namespace (start one with `protomix watch IFACE`)'
assert_eq top_no_watch_message "$NO_WATCH" "$out"
pane nw "ip netns exec $GW $PROTOMIX top"
assert_eq top_no_watch_tty_status 1 "$(rc_of nw)"
assert_eq top_no_watch_tty_screen "$NO_WATCH" "$(screen_of nw | sed '/^$/d')"
tm kill-session -t nw

# --- watch on a terminal: the view ---------------------------------------------

pane v "ip netns exec $GW $PROTOMIX watch -i 0.5 -e 10.20.0.0/16=tcp gw-ws"
if ! wait_screen v '^protomix watch on ' 10; then
	fail view_shown "no view: $(screen_of v)"
	exit 1
fi
pass view_shown
if [ -n "$(attached)" ]; then pass view_attached; else fail view_attached "nothing on gw-ws"; fi
check_screen view_interfaces v '^interfaces gw-ws \(tc_ingress,tc_egress\)$'
check_screen view_columns v '^  ADDRESS +PKT/S +BIT/S +TCP% +UDP% +ICMP% +ESP% +OTHER% +VIOL$'

incident
check_screen view_esp_dest_flagged v "$ROW80"
check_screen view_tcp_dest v "$ROW9"
check_screen view_evidence v "^$CLOCK $EVIDENCE\$"
check_screen view_alert_pane v '^ ALERTS  1 raised; the latest 1:$'
check_screen view_header_counts v 'destinations 2/262144  evicted 0  alerts 1$'
check_screen view_header_ring v '^parser malformed 0 non-ip 0  ring buffer sampled 1 suppressed 0 drops 0$'
# equal rates (0): by address
assert_eq view_sort_pps_ties "10.20.9.9 10.20.9.80" "$(rows v)"
check_screen view_status v ' sort PKT/S  rows 1-2/2$'

# help, and any key closes it
keys v h
check_screen help_shown v '^ +\| protomix: keys +\|$'
check_screen help_keys v '^ +\|   s / S       sort by the next / previous column +\|$'
keys v x
if gone_screen v 'protomix: keys'; then pass help_closed; else fail help_closed "$(screen_of v)"; fi

# sort: s steps PKT/S -> BIT/S -> TCP% -> UDP% -> ICMP% -> ESP%
keys v s
check_screen sort_next v ' sort BIT/S  rows 1-2/2$'
keys v s s s s
check_screen sort_esp v ' sort ESP%  rows 1-2/2$'
assert_eq sort_esp_order "10.20.9.80 10.20.9.9" "$(rows v)"
keys v S S S S S
check_screen sort_back v ' sort PKT/S  rows 1-2/2$'
assert_eq sort_back_order "10.20.9.9 10.20.9.80" "$(rows v)"

# alerts only
keys v a
check_screen alerts_only v ' alerts only  sort PKT/S  rows 1-1/1$'
assert_eq alerts_only_rows "10.20.9.80" "$(rows v)"
keys v a
check_screen alerts_all v ' sort PKT/S  rows 1-2/2$'

# filter: an address, a prefix, bad ones, none
keys v / ; keys v -l 10.20.9.9 ; keys v Enter
check_screen filter_addr v ' filter 10\.20\.9\.9  sort PKT/S  rows 1-1/1$'
assert_eq filter_addr_rows "10.20.9.9" "$(rows v)"
keys v / ; keys v C-u ; keys v -l 10.20.9.0/25 ; keys v Enter
check_screen filter_prefix v ' filter 10\.20\.9\.0/25  sort PKT/S  rows 1-2/2$'
keys v / ; keys v C-u ; keys v -l bogus ; keys v Enter
check_screen filter_invalid v "^invalid filter 'bogus': not an IPv4 or IPv6 address or prefix +filter 10\.20\.9\.0/25  sort PKT/S  rows 1-2/2\$"
keys v / ; keys v C-u ; keys v -l 10.20.9.0/33 ; keys v Enter
check_screen filter_bad_len v "^invalid filter '10\.20\.9\.0/33': prefix length out of range \(0-32 for IPv4\) "
keys v / ; keys v C-u ; keys v Enter
check_screen filter_cleared v '^filter cleared +sort PKT/S  rows 1-2/2$'

# pause
keys v p
check_screen pause_on v '^protomix watch on .*\[PAUSED\]'
check_screen pause_status v ' PAUSED  sort PKT/S  rows 1-2/2$'
keys v p
if gone_screen v 'PAUSED'; then pass pause_off; else fail pause_off "$(screen_of v)"; fi

# export: a snapshot in the current folder, its name on screen
keys v e
if wait_screen v '^snapshot written to protomix-[0-9]{8}-[0-9]{6}\.json \(2 destinations\)'; then
	name=$(screen_of v | sed -nE 's/^snapshot written to (protomix-[0-9-]+\.json) .*/\1/p')
	pass export_shown
	f=$LAB_DIR/$name
	assert_eq export_schema protomix.snapshot/3 "$(jq -r .schema "$f" 2>&1)"
	assert_eq export_dest '{"tcp":3,"esp":1} 1' \
		"$(jq -c '.destinations[] | select(.addr == "10.20.9.80") | .packets, .violations' "$f" 2>&1 | paste -sd' ')"
	assert_eq export_no_evidence false "$(jq 'has("evidence")' "$f" 2>&1)"
	assert_eq export_mode 600 "$(stat -c %a "$f")"
else
	fail export_shown "$(screen_of v)"
fi

# scrolling: more destinations than rows on screen (40 more, to .100-.139)
for ((i = 100; i < 140; i++)); do send_ws tcp4 1 "10.20.9.$i"; done
if wait_screen v ' sort PKT/S  rows 1-[0-9]+/42$'; then
	h=$(screen_of v | sed -nE 's/.* rows 1-([0-9]+)\/42$/\1/p')
	pass scroll_rows
	keys v Down
	check_screen scroll_down v " rows 2-$((h + 1))/42\$"
	keys v End
	check_screen scroll_end v " rows $((43 - h))-42/42\$"
	keys v Home
	check_screen scroll_home v " rows 1-$h/42\$"
	# a page is the rows shown less one; never past the last row
	pg=$((h - 1 < 42 - h ? h - 1 : 42 - h))
	keys v NPage
	check_screen scroll_pgdn v " rows $((pg + 1))-$((pg + h))/42\$"
	keys v PPage
	check_screen scroll_pgup v " rows 1-$h/42\$"
else
	fail scroll_rows "$(screen_of v)"
fi

# a terminal too small, and back
tm resize-window -t v -x 20 -y 5
check_screen tiny_message v '^terminal too small$'
check_screen tiny_size v '^20x5, need 72x12$'
tm resize-window -t v -x 150 -y 40
check_screen tiny_back v "$ROW80"

# stderr while the view is up: in the status line, and kept for later
kill -HUP "$(lab_exec gw "$PROTOMIX" status --json | jq '.[0].pid')"
check_screen stderr_in_status v '^protomix: SIGHUP: no --expect-file to reread '

# q: the watch ends, detaches, gives the terminal back
keys v q
assert_eq quit_status 0 "$(rc_of v)"
assert_eq quit_restored "0 1" "$(restored v)"
assert_eq quit_detached "" "$(attached)"
assert_eq quit_screen "protomix: watching gw-ws (tc_ingress,tc_egress)
protomix: SIGHUP: no --expect-file to reread" "$(screen_of v | sed '/^$/d')"
tm kill-session -t v

# --- SIGTERM while the view is up; --aggregate rows --------------------------------

pane t "ip netns exec $GW $PROTOMIX watch -i 0.5 --aggregate 24 -e 10.20.0.0/16=tcp gw-ws"
if wait_screen t '^protomix watch on ' 10; then
	incident
	check_screen aggregate_row t '^! 10\.20\.9\.0/24 +0 +0 +83 +0 +0 +17 +0 +1$'
	pid=$(lab_exec gw "$PROTOMIX" status --json | jq '.[0].pid')
	kill -TERM "$pid"
	assert_eq sigterm_status 0 "$(rc_of t)"
	assert_eq sigterm_restored "0 1" "$(restored t)"
	assert_eq sigterm_detached "" "$(attached)"
else
	fail sigterm_view "no view: $(screen_of t)"
fi
tm kill-session -t t

# --- on a terminal but --json, or a terminal curses does not know: lines --------

pane j "ip netns exec $GW $PROTOMIX watch --json -i 0.3 -d 1 gw-ws"
assert_eq json_tty_status 0 "$(rc_of j)"
check_screen json_tty_lines j '^\{"type":"report",'
assert_eq json_tty_no_view "" "$(screen_of j | grep -E '^protomix watch on ')"
tm kill-session -t j
pane u "TERM=pm-unknown ip netns exec $GW $PROTOMIX watch -i 0.3 -d 1 gw-ws"
assert_eq unknown_term_status 0 "$(rc_of u)"
check_screen unknown_term_message u "^protomix: no terminal view: the terminal type 'pm-unknown' is unknown here; printing lines instead\$"
check_screen unknown_term_lines u '^[0-9T:.-]+Z  0 pkt/s  0b/s  dests 0/262144 '
tm kill-session -t u

# --- protomix top, attached to a watch without a terminal ----------------------

pm_start w watch -i 0.5 -e 10.20.0.0/16=tcp gw-ws
# (pm_wait_attached greps its stderr file, which the background job creates)
for ((i = 0; i < 100; i++)); do [ -e "$(pm_errfile w)" ] && break; sleep 0.01; done
if pm_wait_attached w; then
	incident
	pane a "ip netns exec $GW $PROTOMIX top -i 0.5"
	check_screen top_shown a "^protomix top on .*, pid ${PM_PIDS[w]}, "
	check_screen top_interfaces a '^interfaces gw-ws \(tc_ingress,tc_egress\)$'
	check_screen top_esp_dest_flagged a "$ROW80"
	check_screen top_tcp_dest a "$ROW9"
	check_screen top_evidence a "^$CLOCK $EVIDENCE\$"
	check_screen top_header_counts a 'destinations 2/262144  evicted 0  alerts 1$'
	# new traffic shows as a rate, a new alert in the pane
	send_ws esp4 1 10.20.9.9
	check_screen top_new_alert a '^ ALERTS  2 raised; the latest 2:$'
	check_screen top_new_flag a '^! 10\.20\.9\.9 +0 +0 +67 +0 +0 +33 +0 +1$'
	keys a e
	if wait_screen a '^snapshot written to protomix-[0-9-]+\.json \(2 destinations\)'; then
		name=$(screen_of a | sed -nE 's/^snapshot written to (protomix-[0-9-]+\.json) .*/\1/p')
		assert_eq top_export "protomix.snapshot/3 false" \
			"$(jq -r '.schema, has("evidence")' "$LAB_DIR/$name" 2>&1 | paste -sd' ')"
	else
		fail top_export "$(screen_of a)"
	fi
	# tunnels (--decap): the inner destinations marked after their row,
	# the packets inside tunnels on the parser line
	lab_exec gw ip route add blackhole 192.0.2.0/24
	lab_exec gw ip route add blackhole 10.20.0.81/32
	lab_exec ws "$LAB_PYTHON" "$LAB_ROOT/tests/lib/tunnel_frames.py" send ws0 \
		"$LAB_MAC_GW_WS" "$LAB_MAC_WS0" || fail top_tunnel_send "tunnel_frames.py send failed"
	check_screen top_row_via a '^! 10\.20\.0\.80 +[0-9].* \(via gre,vxlan\)$'
	check_screen top_row_via_gtp_u a '^  10\.30\.0\.5 +[0-9].* \(via gtp_u\)$'
	check_screen top_row_outer_unmarked a '^  192\.0\.2\.2 +[0-9.]+[kMG]? +[0-9.]+[kMG]? +0 +0 +0 +0 +100 +0$'
	check_screen top_header_inner a '^parser malformed 0 non-ip 0 inner 11 \(not counted: tun_bad_hdr 1, tun_other 1\)  ring buffer '
	keys a q
	assert_eq top_quit_status 0 "$(rc_of a)"
	assert_eq top_quit_restored "0 1" "$(restored a)"
	if _pm_alive "${PM_PIDS[w]}"; then pass top_watch_goes_on; else fail top_watch_goes_on "the watch ended"; fi
	tm kill-session -t a
	# a top of another table layout (the first one asked plain "maps"):
	# refused, in words
	assert_eq top_other_layout_refused \
		"{\"error\":\"this watch's destination table has layout 2: run the top of the same protomix version\"}" \
		"$(lab_exec gw "$LAB_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"maps\n")
print(s.makefile().readline().strip())
' "${PROTOMIX_RUNDIR:-/run/protomix}/ctl.${PM_PIDS[w]}" 2>&1)"

	# the watch ends: so does top, saying so
	pane b "ip netns exec $GW $PROTOMIX top -i 0.5"
	check_screen top_again b '^protomix top on '
	wpid=${PM_PIDS[w]}
	pm_stop w
	assert_eq watch_status 0 "$?"
	assert_eq top_watch_ended_status 0 "$(rc_of b)"
	assert_eq top_watch_ended_screen "protomix: the watch with pid $wpid has ended" \
		"$(screen_of b | sed '/^$/d')"
	tm kill-session -t b
	grep -q '^  10\.20\.9\.80 ' "$(pm_out w)" && pass watch_lines_kept ||
		fail watch_lines_kept "no report lines in $(pm_out w)"
else
	fail top_watch_attach "$(cat "$(pm_errfile w)")"
fi

tm kill-server 2>/dev/null
assert_eq tmux_gone "" "$(tm list-sessions 2>/dev/null)"
no_leftovers "$P"
