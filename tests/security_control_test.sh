#!/usr/bin/env bash
# A hostile local user against a root watch (issue "Hardening"): the pin
# folder, the control socket, the interface lock. An unprivileged user made
# for the test (tests/lib/hostile.sh) attacks; root's watch must go on,
# answer on time, refuse to follow the attacker's symlinks, and leave
# every file outside protomix's own folders as it was.
#
#  1. Pins: on a bpffs (1777, as mounted) the user makes
#     /sys/fs/bpf/protomix first (0777, a symlink to a folder of root's
#     files inside, named like a killed watch's pins), or makes it a symlink:
#     the watch says the folder is not used, in one line, and goes on
#     without pins; root's files are unchanged and the user's things stay.
#  2. Names: the user binds the abstract names earlier versions used
#     (protomix/ctl/NEXT-PIDS, protomix/if/IFINDEX) and a socket whose path
#     ends in " /run/protomix/ctl.N": a new watch starts, `status` lists the
#     real watches only, `snapshot` needs no --pid, `detach` refuses a
#     watched interface naming the watch's pid. The user cannot create
#     anything in the run folder, nor connect to a watch.
#  3. Stall: 16 connections of the user are refused at connect; 7 silent
#     connections of root (a slow client of the watch's own user) while
#     4,000 ESP violations arrive: every sample delivered (0 ring-buffer
#     drops, 4,000 sampled), reports on time, a snapshot answered at once,
#     the silent ones dropped after the request deadline; 40 at once: the
#     excess refused "busy", the watch unharmed; SIGTERM ends it at once.
#
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh
. tests/lib/hostile.sh

skip_unless_root security_control
need_cmds security_control ip jq setpriv useradd nsenter unshare python3
[ -x "$PROTOMIX" ] && [ -x "$SENDFRAMES" ] || { fail security_control "run make && make tests"; exit 1; }

P="pmt-$$-sc"
lab_up "$P" || { fail lab_up "cannot build the lab"; exit 1; }
hostile_up || { fail hostile_up "cannot create an unprivileged user"; exit 1; }
GW=$(lab_ns gw)
PACE_MS=$(lab_pace_ms)
echo "# starting protomix here: ${PACE_MS} ms (the bounds of time below scale by it)"
RUNDIR=${PROTOMIX_RUNDIR:-/run/protomix}

DECOY=$(decoy_dir)
guard_take outside "$DECOY" /dev/null /dev/full
lines() { wc -l <"$1" | tr -d ' '; }

# cli NAME ARGS...: `protomix ARGS` in the gateway as root; RC, OUT, ERR
cli()
{
	local name=$1

	shift
	OUT=$LAB_DIR/$name.cli.out ERR=$LAB_DIR/$name.cli.err
	{ timeout 20 ip netns exec "$GW" "$PROTOMIX" "$@" >"$OUT" 2>"$ERR" </dev/null
	  RC=$?; } 2>/dev/null
}

# hpy NAME CODE ARGS...: python code as the hostile user in the gateway,
# in the background (lab_bg: killed at the end at the latest)
hpy()
{
	local name=$1 code=$2

	shift 2
	printf '%s\n' "$code" >"$HOSTILE_DIR/$name.py"
	chmod 0644 "$HOSTILE_DIR/$name.py"
	lab_bg "$name" gw setpriv --reuid="$HOSTILE_UID" --regid="$HOSTILE_GID" \
		--clear-groups --inh-caps=-all --bounding-set=-all -- \
		"$LAB_PYTHON" "$HOSTILE_DIR/$name.py" "$@"
}
chmod 0755 "$HOSTILE_DIR"

# --- 1: the pin folder -----------------------------------------------------------

# A mount namespace of the gateway with a bpffs of its own on /sys/fs/bpf
# (mode 1777, as the kernel mounts it), held by a sleeping process.
lab_bg holder gw unshare -m --propagation private sh -c \
	'mount -t bpf bpf /sys/fs/bpf && echo mounted && exec sleep 3600'
H=${LAB_BG_PIDS[holder]}
if ! wait_for "$LAB_DIR/holder.out" '^mounted$' 5 ||
   [ "$(nsenter -t "$H" -m stat -f -c %T /sys/fs/bpf 2>/dev/null)" != bpf_fs ]; then
	skip pins_attacks "cannot mount a bpffs in a private mount namespace: $(cat "$LAB_DIR/holder.err")"
else
	in_h() { nsenter -t "$H" -m -n "$@"; }
	as_h() { nsenter -t "$H" -m -n setpriv --reuid="$HOSTILE_UID" --regid="$HOSTILE_GID" \
			--clear-groups --inh-caps=-all --bounding-set=-all -- "$@"; }
	assert_eq pins_bpffs_mode "1777 root" "$(in_h stat -c '%a %U' /sys/fs/bpf)"

	# pin_watch NAME: a watch in the holder's namespaces for 1.5 s, with
	# -o; sets PW_RC, PW_ERR
	pin_watch()
	{
		PW_ERR=$LAB_DIR/$1.err
		timeout 20 nsenter -t "$H" -m -n "$PROTOMIX" watch -d 1.5 --alerts-only \
			-o "$LAB_DIR/$1.json" gw-ws >/dev/null 2>"$PW_ERR" </dev/null
		PW_RC=$?
	}

	for attack in folder777 symlink_folder root777; do
		in_h rm -rf /sys/fs/bpf/protomix
		case $attack in
		folder777)	# the user's own folder, open to all, a "stale" entry
			as_h mkdir /sys/fs/bpf/protomix
			as_h chmod 0777 /sys/fs/bpf/protomix
			as_h ln -s "$DECOY" /sys/fs/bpf/protomix/999999
			want="protomix: /sys/fs/bpf/protomix is owned by uid $HOSTILE_UID, not by us or root: not used (remove it)" ;;
		symlink_folder)	# the folder itself a symlink to root's files
			as_h ln -s "$DECOY" /sys/fs/bpf/protomix
			want="protomix: /sys/fs/bpf/protomix is not a folder: not used (remove it)" ;;
		root777)	# root's folder left open by hand, the user's link in it
			in_h mkdir -m 0777 /sys/fs/bpf/protomix
			in_h chmod 0777 /sys/fs/bpf/protomix
			as_h ln -s "$DECOY" /sys/fs/bpf/protomix/999999
			want="protomix: /sys/fs/bpf/protomix is writable by group or others (mode 777): not used (remove it)" ;;
		esac
		before=$(in_h find /sys/fs/bpf/protomix -printf '%p %y %U %m %l\n' 2>/dev/null | sort)
		pin_watch "pin_$attack"
		assert_eq "pins_${attack}_watch_ran" 0 "$PW_RC"
		assert_eq "pins_${attack}_said" "yes" \
			"$(grep -qxF "$want" "$PW_ERR" && echo yes || echo "no: $(cat "$PW_ERR")")"
		assert_eq "pins_${attack}_went_on" "yes" \
			"$(grep -qxF "protomix: going on without pinned maps" "$PW_ERR" && echo yes || echo "no: $(cat "$PW_ERR")")"
		assert_eq "pins_${attack}_stderr_lines" 3 "$(lines "$PW_ERR")"
		assert_eq "pins_${attack}_users_things_untouched" "$before" \
			"$(in_h find /sys/fs/bpf/protomix -printf '%p %y %U %m %l\n' 2>/dev/null | sort)"
		assert_eq "pins_${attack}_snapshot_written" 1 \
			"$(jq '.interfaces | length' "$LAB_DIR/pin_$attack.json" 2>&1)"
	done
	in_h rm -rf /sys/fs/bpf/protomix
	lab_bg_stop holder KILL
fi

# --- 2: names --------------------------------------------------------------------

IFX=$(ip -n "$GW" -o link show gw-lb | cut -d: -f1)
pm_start w1 watch -i 0.5 --json gw-ws
pm_wait_attached w1 gw-ws || fail w1_attached "$(cat "$(pm_errfile w1)")"
W1=${PM_PIDS[w1]}
assert_eq rundir_mode "700 root" "$(stat -c '%a %U' "$RUNDIR")"

# the user squats the names of the next 300 pids and of gw-lb's lock, and
# a socket whose path ends like a watch's
mkdir -p "$HOSTILE_DIR/x /run/protomix" 2>/dev/null
chown -R "$HOSTILE_UID" "$HOSTILE_DIR/x /run" 2>/dev/null
hpy squat '
import socket, sys
last = int(open("/proc/sys/kernel/ns_last_pid").read())
keep = []
for pid in range(last + 1, last + 301):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("\0protomix/ctl/%d" % pid)
    s.listen(8)
    keep.append(s)
d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
d.bind("\0protomix/if/" + sys.argv[1])
f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
f.bind(sys.argv[2] + "/x /run/protomix/ctl.4194001")
f.listen(8)
print("squatting", flush=True)
import time
time.sleep(60)
' "$IFX" "$HOSTILE_DIR"
if wait_for "$LAB_DIR/squat.out" '^squatting$' 10; then
	pass squat_ready
else
	fail squat_ready "$(cat "$LAB_DIR/squat.err")"
fi
pm_start w2 watch -i 0.5 --json gw-lb
if pm_wait_attached w2 gw-lb; then
	pass squatted_watch_starts
else
	fail squatted_watch_starts "$(cat "$(pm_errfile w2)")"
fi
W2=${PM_PIDS[w2]}
cli status_two status --json
assert_eq status_lists_real_watches "$W1 $W2" "$(jq -r '[.[].pid] | sort | map(tostring) | join(" ")' "$OUT" 2>&1)"
cli snap_pid1 snapshot --pid "$W1"
assert_eq snapshot_w1 "0 gw-ws" "$RC $(jq -r '.interfaces[0].name' "$OUT" 2>&1)"
cli detach_watched detach gw-lb
assert_eq detach_refused "1 protomix: gw-lb: a running protomix (pid $W2) watches it; stop that process (SIGINT or SIGTERM) instead" \
	"$RC $(cat "$ERR")"
cli second_on_lb watch -d 1 gw-lb
assert_eq second_watch_refused "1 protomix: gw-lb: already watched by another protomix (pid $W2) in this network namespace (see \`protomix status\`)" \
	"$RC $(cat "$ERR")"
pm_stop w2
assert_eq w2_exit 0 "$?"
cli snap_alone snapshot
assert_eq snapshot_needs_no_pid "0 gw-ws" "$RC $(jq -r '.interfaces[0].name' "$OUT" 2>&1)"

# what the user cannot do in the run folder
assert_eq user_cannot_create_in_rundir 1 \
	"$(as_hostile mkdir "$RUNDIR/x" 2>/dev/null; echo $?)"
assert_eq rundir_unchanged_by_user "no" "$([ -e "$RUNDIR/x" ] && echo yes || echo no)"
OUTH=$LAB_DIR/user_snapshot.out
ip netns exec "$GW" setpriv --reuid="$HOSTILE_UID" --regid="$HOSTILE_GID" --clear-groups \
	--inh-caps=-all --bounding-set=-all -- "$PROTOMIX" snapshot >"$OUTH" 2>"$LAB_DIR/user_snapshot.err"
assert_eq user_snapshot_refused "1 0 protomix: the protomix watch with pid $W1: permission denied (only root and the watch's own user may talk to it)" \
	"$? $(wc -c <"$OUTH") $(cat "$LAB_DIR/user_snapshot.err")"
lab_bg_stop squat KILL

# --- 3: stall --------------------------------------------------------------------

# 16 connections of the user: refused by the run folder's mode
hpy conn16 '
import socket, sys
ok = refused = 0
for i in range(16):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sys.argv[1])
        ok += 1
    except PermissionError:
        refused += 1
print("connected %d refused %d" % (ok, refused), flush=True)
' "$RUNDIR/ctl.$W1"
wait_for "$LAB_DIR/conn16.out" '^connected' 10
assert_eq user_connections_refused "connected 0 refused 16" "$(cat "$LAB_DIR/conn16.out")"

# a watch with a sample rate above the flood's, so every violation is a
# sample on the ring buffer
pm_start w3 watch -i 0.5 --json --sample-rate 100000 -e 10.20.0.9/32=tcp gw-lb
pm_wait_attached w3 gw-lb || fail w3_attached "$(cat "$(pm_errfile w3)")"
W3=${PM_PIDS[w3]}
cat >"$LAB_DIR/silent.py" <<'EOF'
import socket, sys, time
n, path = int(sys.argv[1]), sys.argv[2]
socks = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    socks.append(s)
print("holding %d" % n, flush=True)
t0 = time.time()
closed = 0
for s in socks:
    s.settimeout(5)
    try:
        data = s.recv(100)
    except socket.timeout:
        data = None
    if data is not None:
        closed += 1
print("dropped %d after %.1f s" % (closed, time.time() - t0), flush=True)
EOF
lab_bg silent gw "$LAB_PYTHON" "$LAB_DIR/silent.py" 7 "$RUNDIR/ctl.$W3"
wait_for "$LAB_DIR/silent.out" '^holding' 5 || fail silent_holding "$(cat "$LAB_DIR/silent.err")"
t0=$(date +%s%N)
send_lb esp4 4000 --src 10.20.0.80 --dst 10.20.0.9
t1=$(date +%s%N)
cli snap_stall snapshot --pid "$W3"
t2=$(date +%s%N)
ms=$(((t2 - t1) / 1000000))
echo "# snapshot answered in $ms ms with 7 silent clients (flood took $(((t1 - t0) / 1000000)) ms)" >&2
assert_eq snapshot_during_stall 0 "$RC"
# Served behind the silent clients, the snapshot and the reports would
# wait their request deadline (1 s) each: 7 s. The bounds scale with this
# machine's pace, by twice the time the flood took to send (56 ms here,
# 371 ms under emulation, where the watch turns the same 4,000 samples
# into JSON that much slower).
FLOOD_MS=$(((t1 - t0) / 1000000))
if [ "$ms" -lt $((1000 + 2 * FLOOD_MS)) ]; then
	pass snapshot_not_stalled
else
	fail snapshot_not_stalled "$ms ms (bound $((1000 + 2 * FLOOD_MS)) ms)"
fi
wait_for "$LAB_DIR/silent.out" '^dropped' 8
assert_eq silent_dropped "dropped 7" "$(sed -n 's/^\(dropped [0-9]*\).*/\1/p' "$LAB_DIR/silent.out")"
sleep 0.5
cli snap_after snapshot --pid "$W3"
assert_eq flood_counts '{"packets":4000,"violations":4000}' \
	"$(jq -c '.destinations[] | select(.addr == "10.20.0.9") | {packets: .packets.esp, violations}' "$OUT" 2>&1)"
assert_eq flood_every_sample '{"ringbuf_drops":0,"sampled":4000,"suppressed":0}' \
	"$(jq -c '.stats | {ringbuf_drops, sampled, suppressed}' "$OUT" 2>&1)"
assert_eq flood_every_alert 4000 \
	"$(grep -c '"kind":"unexpected_protocol"' "$(pm_out w3)")"
# reports on time: at -i 0.5, no report came more than 1.5 s (and twice
# the flood's time, see above) after the one before, all through the
# attack (a loop that waited for the silent clients would have missed
# reports for seconds)
cp "$(pm_out w3)" "$LAB_DIR/w3.reports"	# the watch goes on writing
late=$(jq -r 'select(.type == "report") | .interval' "$LAB_DIR/w3.reports" 2>/dev/null |
	awk -v max="$(awk -v f="$FLOOD_MS" 'BEGIN { print 1.5 + 2 * f / 1000 }')" '
		$1 > top { top = $1 } $1 > max { n++ }
		END { print n + 0 " of " NR; printf "# longest report interval %.3f s (bound %.3f s)\n", top, max > "/dev/stderr" }')
assert_eq reports_on_time "0 of $(grep -c '"type":"report"' "$LAB_DIR/w3.reports")" "$late"

# 40 connections at once from root: the cap refuses the excess, busy
cat >"$LAB_DIR/many.py" <<'EOF'
import socket, sys
socks, busy = [], 0
for i in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    socks.append(s)
for s in socks:
    s.settimeout(3)
    try:
        if b"busy" in s.recv(100):
            busy += 1
    except (socket.timeout, ConnectionResetError):
        pass
print("busy %d" % busy, flush=True)
EOF
lab_exec gw "$LAB_PYTHON" "$LAB_DIR/many.py" "$RUNDIR/ctl.$W3" >"$LAB_DIR/many.out" 2>&1
assert_eq excess_busy "busy 32" "$(cat "$LAB_DIR/many.out")"
cli snap_after_many snapshot --pid "$W3"
assert_eq served_after_many 0 "$RC"

t0=$(date +%s%N)
pm_stop w3 TERM
assert_eq w3_sigterm_exit 0 "$?"
ms=$((($(date +%s%N) - t0) / 1000000))
# within 1 s more than twice what starting protomix costs here (20-30 ms
# natively, 2 s under emulation): a watch that waited for its clients
# would take their deadlines, seconds more
if [ "$ms" -lt $((1000 + 2 * PACE_MS)) ]; then
	pass sigterm_prompt
else
	fail sigterm_prompt "$ms ms (bound $((1000 + 2 * PACE_MS)) ms)"
fi
pm_stop w1
assert_eq w1_exit 0 "$?"
assert_eq no_socket_left "" "$(ls -A "$RUNDIR" 2>/dev/null | grep '^ctl\.' | grep -E "\.($W1|$W2|$W3)\$")"
# nor a lock: a watch removes its lock files as it lets go of them
NETNS=$(ip netns exec "$GW" stat -L -c %i /proc/self/ns/net)
assert_eq no_lock_left "" "$(ls -A "$RUNDIR" 2>/dev/null | grep "^if\.$NETNS\.")"

guard_check outside
no_leftovers "$P"
