#!/usr/bin/env bash
# Issue 12, the rules file and the interval: what a local user can hand a
# root `protomix watch` through a rules file it controls, and absurd
# periods. A hostile user (tests/lib/hostile.sh) makes, in its own folder,
# a FIFO, a symlink to /dev/zero, a folder, a socket, a 20 MiB file, a file
# with a NUL byte and one with terminal escapes; root's `protomix watch -E
# FILE gw-ws` (in the lab's gateway namespace) refuses each at once: exit
# 2, one line naming the file and why (the binary bytes escaped as \xNN),
# in under 2 s and a bounded resident size, nothing attached. A symlink to
# a regular file is followed. SIGHUP onto a bad file keeps the rules in
# force (in the kernel's trie too) and the watch answering. 65,536 rules
# load and reload with the exact count (functional; the timing is
# bench/rules.sh). --interval 1e-9, 0.05, nan, inf (watch and top), and
# more than a day for --duration and --oneway-window: exit 2, the message.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh
. tests/lib/hostile.sh

skip_unless_root security_rules
need_cmds security_rules ip tc jq bpftool python3 setpriv useradd timeout mkfifo
if [ ! -x "$PROTOMIX" ]; then
	fail security_rules "$PROTOMIX not built (run make)"
	exit 1
fi
TIME=/usr/bin/time
[ -x "$TIME" ] || TIME=""
MAX_RSS_KB=65536	# a refused file costs protomix no more than this

P=pmt-$$-sr
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW=$(lab_ns gw)
hostile_up || { fail hostile_up "cannot create the hostile user"; exit 1; }
chmod 0755 "$HOSTILE_DIR"	# root reads what the user made there
H=$HOSTILE_DIR

attached() { lab_attached gw gw-ws; }

# A running watch's stderr is not truncated (its offset would stay, and
# leave a hole): mark its length, then read what came after the mark.
mark() { MARK=$(wc -l <"$1"); }
since_mark() { tail -n +$((MARK + 1)) "$1"; }
# wait_new FILE PATTERN [SECONDS]: until a line after the mark matches
wait_new()
{
	local i

	for ((i = 0; i < ${3:-5} * 20; i++)); do
		since_mark "$1" | grep -qE -- "$2" && return 0
		sleep 0.05
	done
	return 1
}

# What starting protomix costs on this machine (tests/lib/lab.sh)
START_MS=$(lab_pace_ms)
FAST_MS=$((2000 + 2 * START_MS))
echo "# starting protomix here: ${START_MS} ms; a refusal must take under ${FAST_MS} ms"

# refused NAME EXPECTED-LINE ARGS...: protomix ARGS in the gateway
# namespace exits 2 within 2 s more than twice what starting it costs
# here, FAST_MS (bounded by timeout 10), its stderr is
# exactly EXPECTED-LINE, its resident size stays under MAX_RSS_KB, and
# nothing is left attached.
refused()
{
	local name=$1 want=$2 o=$LAB_DIR/$1.out e=$LAB_DIR/$1.err m=$LAB_DIR/$1.rss
	local t0 t1 rc ms rss=0 fast=yes small=yes

	shift 2
	: >"$m"
	t0=$EPOCHREALTIME
	if [ -n "$TIME" ]; then
		timeout -s KILL 10 "$TIME" -q -f %M -o "$m" \
			ip netns exec "$GW" "$PROTOMIX" "$@" >"$o" 2>"$e" </dev/null
	else
		timeout -s KILL 10 ip netns exec "$GW" "$PROTOMIX" "$@" >"$o" 2>"$e" </dev/null
	fi
	rc=$?
	t1=$EPOCHREALTIME
	ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')
	[ "$ms" -lt "$FAST_MS" ] || fast="no (${ms} ms, limit ${FAST_MS})"
	rss=$(tail -1 "$m" 2>/dev/null)
	[[ "$rss" =~ ^[0-9]+$ ]] || rss=0
	[ "$rss" -lt "$MAX_RSS_KB" ] || small="no (${rss} kB)"
	assert_eq "$name" "rc=2 stderr=[$want] fast=yes small=yes attached=" \
		"rc=$rc stderr=[$(cat "$e")] fast=$fast small=$small attached=$(attached)"
}

# --- what the hostile user makes ------------------------------------------------

as_hostile sh -c '
	cd "$1" || exit 1
	mkfifo fifo
	ln -s /dev/zero zero
	mkdir folder
	head -c 20971520 /dev/zero | tr "\0" "#" >big
	printf "10.20.0.0/16=tcp\n10.30.0.0/16=tcp\0,esp\n" >nul
	printf "10.20.0.0/16=tcp\n\033]0;owned\007\033[2J\377=tcp\n" >binary
	printf "10.20.0.0/16=tcp\n" >good
	ln -s good link
	python3 -c "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])" sock
' sh "$H"
made=$(cd "$H" && stat -c '%n:%F:%s' fifo zero folder big nul binary sock 2>&1 |
	sed -e 's/:directory:[0-9]*/:directory/' | paste -sd' ')
assert_eq hostile_made_inputs \
	"fifo:fifo:0 zero:symbolic link:9 folder:directory big:regular file:20971520 nul:regular file:39 binary:regular file:37 sock:socket:0" \
	"$made"

# --- refused at start ------------------------------------------------------------

refused rules_fifo "protomix: $H/fifo: the rules file is a FIFO, not a regular file" \
	watch -E "$H/fifo" gw-ws
refused rules_dev_zero "protomix: $H/zero: the rules file is a character device, not a regular file" \
	watch -E "$H/zero" gw-ws
refused rules_folder "protomix: $H/folder: the rules file is a folder, not a regular file" \
	watch -E "$H/folder" gw-ws
refused rules_socket "protomix: $H/sock: the rules file is a socket, not a regular file" \
	watch -E "$H/sock" gw-ws
refused rules_20mib "protomix: $H/big: the rules file has 20971520 bytes, more than the limit of 16777216 (16 MiB)" \
	watch -E "$H/big" gw-ws
refused rules_nul "protomix: $H/nul:2: a NUL byte: not a text file" \
	watch -E "$H/nul" gw-ws
refused rules_binary_escaped \
	"protomix: $H/binary:2: invalid rule '\\x1b]0;owned\\x07\\x1b[2J\\xff=tcp': not an IPv4 or IPv6 prefix" \
	watch -E "$H/binary" gw-ws
refused expect_escaped \
	"protomix: invalid rule '10.20.0.0/16=tcp\\x1b[2J': unknown class 'tcp\\x1b[2J' (see protomix classes)" \
	watch -e $'10.20.0.0/16=tcp\e[2J' gw-ws

# a symlink to a regular file is an ordinary setup: followed
err=$LAB_DIR/link.err
timeout -s KILL 10 ip netns exec "$GW" "$PROTOMIX" watch -d 0.5 --alerts-only -E "$H/link" gw-ws \
	>/dev/null 2>"$err" </dev/null
rc=$?
assert_eq rules_symlink_followed "rc=0 loaded=1" \
	"rc=$rc loaded=$(grep -cxF "protomix: loaded 1 rule from $H/link" "$err")"

# --- SIGHUP onto a bad file keeps the rules -----------------------------------

# rules_in_kernel PID: entries in the rules trie of that watch (its only
# LPM trie, BPF_MAP_TYPE_LPM_TRIE = 11, found through its descriptors)
rules_in_kernel()
{
	local id

	id=$(grep -l '^map_type:[[:space:]]*11$' /proc/"$1"/fdinfo/* 2>/dev/null | head -1 |
	     xargs -r awk '/^map_id:/ { print $2 }')
	[ -n "$id" ] || { echo "no map"; return; }
	bpftool -j map dump id "$id" 2>/dev/null | jq length
}
rules_in_status() { ip netns exec "$GW" "$PROTOMIX" status --json 2>/dev/null | jq '.[0].maps.rules.entries'; }

live=$LAB_DIR/live.rules
printf '10.20.0.0/16=tcp\n10.30.0.0/16=tcp,esp\n' >"$LAB_DIR/two.rules"
printf '10.20.0.0/16=tcp\n10.30.0.0/16=tcp,esp\n10.40.0.0/16=udp\n' >"$LAB_DIR/three.rules"
ln -s "$LAB_DIR/two.rules" "$live"
n=hup
err=$(pm_errfile "$n")
pm_start "$n" watch --alerts-only -E "$live" gw-ws
if pm_wait_attached "$n" gw-ws; then
	pid=${PM_PIDS[$n]}
	assert_eq hup_loaded "1 2 2" \
		"$(grep -cxF "protomix: loaded 2 rules from $live" "$err") $(rules_in_status) $(rules_in_kernel "$pid")"
	declare -A why=(
		[fifo]="$live: the rules file is a FIFO, not a regular file"
		[zero]="$live: the rules file is a character device, not a regular file"
		[big]="$live: the rules file has 20971520 bytes, more than the limit of 16777216 (16 MiB)"
		[nul]="$live:2: a NUL byte: not a text file"
		[binary]="$live:2: invalid rule '\\x1b]0;owned\\x07\\x1b[2J\\xff=tcp': not an IPv4 or IPv6 prefix"
		[folder]="$live: the rules file is a folder, not a regular file"
		[sock]="$live: the rules file is a socket, not a regular file")
	for bad in fifo zero big nul binary folder sock; do
		ln -sfn "$H/$bad" "$live"
		mark "$err"
		t0=$EPOCHREALTIME
		kill -HUP "$pid"
		if ! wait_new "$err" "not reloaded" 5; then
			fail "hup_$bad" "no 'not reloaded' within 5 s: $(since_mark "$err")"
			continue
		fi
		# the watch still answers: a good file is taken at once
		ln -sfn "$LAB_DIR/two.rules" "$live"
		kill -HUP "$pid"
		wait_new "$err" "reloaded 2 rules" 5
		ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
		assert_eq "hup_$bad" \
			"[protomix: ${why[$bad]}] lines=3 kept=2/2 answers=1 fast=yes" \
			"[$(since_mark "$err" | head -1)] lines=$(since_mark "$err" | wc -l) kept=$(rules_in_status)/$(rules_in_kernel "$pid") answers=$(since_mark "$err" | grep -cxF "protomix: reloaded 2 rules from $live") fast=$([ "$ms" -lt 5000 ] && echo yes || echo "no ($ms ms)")"
	done
	# and a bad file does not stick: the next good one is read
	ln -sfn "$LAB_DIR/three.rules" "$live"
	mark "$err"
	kill -HUP "$pid"
	wait_new "$err" "reloaded 3 rules" 5
	assert_eq hup_then_good "1 3 3" \
		"$(since_mark "$err" | grep -cxF "protomix: reloaded 3 rules from $live") $(rules_in_status) $(rules_in_kernel "$pid")"
	pm_stop "$n"
	assert_eq hup_exit 0 "$?"
else
	fail hup_attach "protomix watch -E $live gw-ws: $(cat "$err")"
fi

# --- 65,536 rules ---------------------------------------------------------------

many=$LAB_DIR/many.rules
awk 'BEGIN { print "# 65,536 distinct /24s"
	     for (a = 0; a < 256; a++) for (b = 0; b < 256; b++)
		printf "10.%d.%d.0/24=tcp,icmp  # rule %d\n", a, b, a * 256 + b }' >"$many"
n=many
err=$(pm_errfile "$n")
pm_start "$n" watch --alerts-only -E "$many" gw-ws
if pm_wait_attached "$n" gw-ws; then
	pid=${PM_PIDS[$n]}
	assert_eq many_loaded 1 "$(grep -cxF "protomix: loaded 65536 rules from $many" "$err")"
	kill -HUP "$pid"
	wait_for "$err" "reloaded" 30
	assert_eq many_reloaded "1 65536" \
		"$(grep -cxF "protomix: reloaded 65536 rules from $many" "$err") $(rules_in_kernel "$pid")"
	pm_stop "$n"
else
	fail many_attach "protomix watch -E $many gw-ws: $(cat "$err")"
fi
# one more is one too many; a duplicate names both lines
cp "$many" "$LAB_DIR/over.rules"
echo "10.255.255.255/32=tcp" >>"$LAB_DIR/over.rules"
refused many_over_limit \
	"protomix: $LAB_DIR/over.rules:65538: invalid rule '10.255.255.255/32=tcp': more than 65536 rules" \
	watch -E "$LAB_DIR/over.rules" gw-ws
head -n 1000 "$many" >"$LAB_DIR/dup.rules"
echo "10.1.2.0/24=udp" >>"$LAB_DIR/dup.rules"
refused many_duplicate \
	"protomix: $LAB_DIR/dup.rules:1001: invalid rule '10.1.2.0/24=udp': prefix 10.1.2.0/24 has a rule already ($LAB_DIR/dup.rules:260)" \
	watch -E "$LAB_DIR/dup.rules" gw-ws

# --- periods -------------------------------------------------------------------------

IMSG="seconds from 0.1 (the minimum) to 86400, e.g. 1 or 0.5"
for v in 1e-9 0.05 nan inf; do
	refused "interval_$v" "protomix: invalid --interval '$v': $IMSG" watch --interval "$v" gw-ws
	refused "top_interval_$v" "protomix: invalid --interval '$v': $IMSG" top -i "$v"
done
refused interval_escaped "protomix: invalid --interval '\\x1b[2J': $IMSG" watch -i $'\e[2J' gw-ws
refused duration_over_a_day "protomix: invalid --duration '86401': seconds > 0, at most 86400 (a day)" \
	watch -d 86401 gw-ws
refused duration_nan "protomix: invalid --duration 'nan': seconds > 0, at most 86400 (a day)" \
	watch -d nan gw-ws
refused oneway_window_inf "protomix: invalid --oneway-window 'inf': seconds > 0, at most 86400 (a day)" \
	watch --oneway-window inf gw-ws

# --- nothing left --------------------------------------------------------------------

no_leftovers "$P"
