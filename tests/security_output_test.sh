#!/usr/bin/env bash
# Where protomix writes what it was given a file name for (issue 12: a
# local user must not turn a root watch against the machine), in the lab
# of tests/lib/lab.sh with a watch on the gateway's gw-ws:
#
#  1. `snapshot -o` and `--pcap` onto /dev/null, /dev/full, /dev/stdout
#     and "-", and `watch -d 1 -o /dev/null`: the devices stay character
#     devices with their modes, owners and device numbers (guard_take /
#     guard_check of tests/lib/hostile.sh); /dev/full gives "No space left
#     on device" and exit 1; /dev/stdout and "-" put the JSON on stdout.
#  2. A FIFO as target receives the stream (JSON, pcap) and stays a FIFO.
#  3. A symlink the hostile user planted in a world-writable (1777) folder,
#     to a root-only file, to a name not yet taken or to a folder: refused
#     with exit 2 and one line, never followed nor replaced; the decoy
#     folder is unchanged. Its FIFO, with its reader waiting: refused,
#     nothing read. A folder as target: refused. `watch -o` onto a
#     symlink is refused before anything is attached.
#  4. Standard output on a full disk: every command that prints (status,
#     status --json, classes, snapshot, snapshot -f md, diff, replay,
#     version, --help, watch) exits 1 with "protomix: writing standard
#     output: No space left on device"; a reader that went away is no
#     error (exit 0, nothing on stderr); a closed stdout is EBADF.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh
. tests/lib/hostile.sh

skip_unless_root security_output
need_cmds security_output ip jq setpriv timeout mkfifo stat useradd userdel
if [ ! -x "$PROTOMIX" ]; then
	fail security_output "$PROTOMIX not built (run make)"
	exit 1
fi
if [ ! -x "$SENDFRAMES" ]; then
	fail security_output "$SENDFRAMES not built (run make tests)"
	exit 1
fi
for d in /dev/null /dev/full; do
	if [ ! -c "$d" ]; then
		skip security_output "$d is not a character device on this machine"
		exit 0
	fi
done

P=pmt-$$-so
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
GW=$(lab_ns gw)
# frames to 10.20.0.80 die in the gateway: gw-ws sees exactly what is sent
if ! lab_exec gw ip route add blackhole 10.20.0.80/32 2>"$LAB_DIR/routes.err"; then
	fail blackhole_route "$(cat "$LAB_DIR/routes.err")"
	no_leftovers "$P"
	exit 1
fi
if ! hostile_up; then
	fail hostile_up "cannot create the hostile user"
	no_leftovers "$P"
	exit 1
fi
D=$LAB_DIR/out			# root's own outputs
mkdir -m 0755 "$D"
PUB=$LAB_DIR/public		# a world-writable folder, like /tmp
mkdir "$PUB"
chmod 1777 "$PUB"
DECOY=$(decoy_dir)		# root-only files the links aim at

# --- helpers ---------------------------------------------------------------

lines() { wc -l <"$1" | tr -d ' '; }
bytes() { wc -c <"$1" | tr -d ' '; }
# the destinations of a snapshot, without times (or "invalid JSON")
dests() { jq -S -c '.destinations | map({addr, packets})' "$1" 2>/dev/null || echo "invalid JSON in $1"; }

# run NAME STDOUT ARGS...: protomix ARGS in the gateway namespace, stdout to
# STDOUT (a file, /dev/full, ...); RC, OUT (=STDOUT), ERR (a file)
run()
{
	local name=$1

	OUT=$2 ERR=$LAB_DIR/$name.err
	shift 2
	{ timeout 20 ip netns exec "$GW" "$PROTOMIX" "$@" >"$OUT" 2>"$ERR" </dev/null
	  RC=$?; } 2>/dev/null
}

# cli NAME ARGS...: run with stdout in a file of its own
cli() { local name=$1; shift; run "$name" "$LAB_DIR/$name.out" "$@"; }

# refused NAME WANT_RC WORD PATH ARGS...: exit WANT_RC, one line on stderr
# naming PATH and containing WORD, nothing on stdout
refused()
{
	local name=$1 want=$2 word=$3 path=$4 named=no

	shift 4
	cli "$name" "$@"
	grep -qF -- "$path" "$ERR" && grep -qF -- "$word" "$ERR" && named=yes
	assert_eq "$name" "rc=$want stderr_lines=1 names_path_and_reason=yes stdout=0" \
		"rc=$RC stderr_lines=$(lines "$ERR") names_path_and_reason=$named stdout=$(bytes "$OUT")"
}

# devices_intact NAME: /dev/null and /dev/full as they were (guard); if a
# broken protomix replaced one, it is made again so the machine goes on
devices_intact()
{
	guard_check "$1"
	if [ ! -c /dev/null ]; then
		rm -f /dev/null && mknod -m 0666 /dev/null c 1 3
	fi
	if [ ! -c /dev/full ]; then
		rm -f /dev/full && mknod -m 0666 /dev/full c 1 7
	fi
}

# --- the watch -------------------------------------------------------------

if ! start w1 watch --json -e 10.20.0.0/16=tcp gw-ws; then
	no_leftovers "$P"
	exit 1
fi
send_ws tcp4 3 --dst 10.20.0.80
send_ws esp4 2 --dst 10.20.0.80		# alerts: evidence for --pcap
WANT='[{"addr":"10.20.0.80","packets":{"esp":2,"tcp":3}}]'
for ((i = 0; i < 100; i++)); do		# the watch has read the counts
	cli ready snapshot
	[ "$(dests "$OUT")" == "$WANT" ] && break
	sleep 0.05
done
assert_eq snapshot_counts "$WANT" "$(dests "$OUT")"
cp "$OUT" "$D/old.json"

# --- 1: device nodes -----------------------------------------------------------

guard_take devs /dev/null /dev/full /dev/stdout /dev/stderr

cli dev_null_o snapshot -o /dev/null
assert_eq dev_null_o "rc=0 stderr= stdout=0" "rc=$RC stderr=$(cat "$ERR") stdout=$(bytes "$OUT")"

cli dev_null_pcap snapshot --pcap /dev/null
assert_eq dev_null_pcap "rc=0 stderr= $WANT" "rc=$RC stderr=$(cat "$ERR") $(dests "$OUT")"

cli dev_null_both snapshot -f md -o /dev/null --pcap /dev/null
assert_eq dev_null_both "rc=0 stderr= stdout=0" "rc=$RC stderr=$(cat "$ERR") stdout=$(bytes "$OUT")"

ENOSPC="No space left on device"
for f in json md csv; do
	refused "dev_full_o_$f" 1 "$ENOSPC" /dev/full snapshot -f "$f" -o /dev/full
done
cli dev_full_pcap snapshot -o "$D/with-pcap.json" --pcap /dev/full
assert_eq dev_full_pcap "rc=1 stderr_lines=1 names=yes" \
	"rc=$RC stderr_lines=$(lines "$ERR") names=$(grep -qF "/dev/full: cannot write: $ENOSPC" "$ERR" && echo yes || echo no)"

cli dev_stdout snapshot -o /dev/stdout
assert_eq dev_stdout "rc=0 stderr= $WANT" "rc=$RC stderr=$(cat "$ERR") $(dests "$OUT")"
cli dash snapshot -o -
assert_eq dash_stdout "rc=0 stderr= $WANT" "rc=$RC stderr=$(cat "$ERR") $(dests "$OUT")"
cli dash_csv snapshot -f csv -o -
assert_eq dash_csv "rc=0 stderr= 10.20.0.80,esp,2" \
	"rc=$RC stderr=$(cat "$ERR") $(grep '^10.20.0.80,esp,' "$OUT" | cut -d, -f1-3)"
# "-" on a full stdout: the message of standard output, exit 1
run dash_full /dev/full snapshot -o -
assert_eq dash_full "rc=1 protomix: writing standard output: $ENOSPC" "rc=$RC $(cat "$ERR")"

# watch -o onto devices (gw-lb: w1 holds gw-ws)
run watch_dev_null "$LAB_DIR/watch_dev_null.out" watch -d 1 -o /dev/null gw-lb
assert_eq watch_o_dev_null "rc=0 attached=1" \
	"rc=$RC attached=$(grep -c '^protomix: watching gw-lb' "$ERR")"
run watch_dev_full "$LAB_DIR/watch_dev_full.out" watch -d 1 -o /dev/full gw-lb
assert_eq watch_o_dev_full "rc=1 message=1" \
	"rc=$RC message=$(grep -c "^protomix: /dev/full: cannot write: $ENOSPC\$" "$ERR")"
run watch_stdout "$LAB_DIR/watch_stdout.out" watch -d 1 --alerts-only -o /dev/stdout gw-lb
assert_eq watch_o_dev_stdout "rc=0 protomix.snapshot/3" \
	"rc=$RC $(jq -r .schema "$OUT" 2>&1)"
assert_eq watch_gw_lb_detached "" "$(lab_attached gw gw-lb)"

devices_intact devs

# --- 2: a FIFO -----------------------------------------------------------------

mkfifo -m 0600 "$D/fifo"
timeout 10 cat "$D/fifo" >"$D/fifo.json" &
CAT=$!
cli fifo_o snapshot -o "$D/fifo"
wait "$CAT"
assert_eq fifo_o "rc=0 stderr= $WANT" "rc=$RC stderr=$(cat "$ERR") $(dests "$D/fifo.json")"
timeout 10 cat "$D/fifo" >"$D/fifo.pcap" &
CAT=$!
cli fifo_pcap snapshot -o /dev/null --pcap "$D/fifo"
wait "$CAT"
# the pcap header (nanosecond magic, little-endian), then the 2 frames
assert_eq fifo_pcap "rc=0 stderr= 4d3cb2a1 frames=2" \
	"rc=$RC stderr=$(cat "$ERR") $(od -An -tx1 -N4 "$D/fifo.pcap" | tr -d ' ') frames=$(
	  "$LAB_PYTHON" - "$D/fifo.pcap" <<'EOF'
import struct, sys
b = open(sys.argv[1], "rb").read()
off, n = 24, 0
while off + 16 <= len(b):
    off += 16 + struct.unpack_from("<I", b, off + 8)[0]
    n += 1
print(n if off == len(b) else "truncated")
EOF
	)"
assert_eq fifo_still_fifo "fifo 600" "$(stat -c '%F %a' "$D/fifo")"

# --- 3: the hostile user's symlinks, folders ---------------------------------

guard_take decoy "$DECOY"
as_hostile ln -s "$DECOY/a.conf" "$PUB/snap.json"
as_hostile ln -s "$DECOY/new.conf" "$PUB/dangling.json"
as_hostile ln -s "$DECOY" "$PUB/dir.json"
as_hostile ln -s /dev/null "$PUB/null.json"
as_hostile mkfifo -m 0622 "$PUB/fifo.json"
guard_take links "$PUB"
LINK="symbolic link"
refused link_o 2 "$LINK" "$PUB/snap.json" snapshot -o "$PUB/snap.json"
refused link_o_md 2 "$LINK" "$PUB/snap.json" snapshot -f md -o "$PUB/snap.json"
refused link_pcap 2 "$LINK" "$PUB/snap.json" snapshot --pcap "$PUB/snap.json"
refused link_pcap_after_o 2 "$LINK" "$PUB/snap.json" \
	snapshot -o "$D/never.json" --pcap "$PUB/snap.json"
assert_eq link_pcap_nothing_written "" "$(ls -A "$D" | grep never)"
refused link_dangling 2 "$LINK" "$PUB/dangling.json" snapshot -o "$PUB/dangling.json"
refused link_to_folder 2 "$LINK" "$PUB/dir.json" snapshot -o "$PUB/dir.json"
refused link_to_device 2 "$LINK" "$PUB/null.json" snapshot -o "$PUB/null.json"
# the hostile user's FIFO, its reader waiting: refused, nothing read
as_hostile timeout 20 cat "$PUB/fifo.json" >"$LAB_DIR/stolen" 2>/dev/null &
THIEF=$!
refused fifo_of_other_user 2 "of another user" "$PUB/fifo.json" snapshot -o "$PUB/fifo.json"
refused watch_o_fifo_of_other_user 2 "of another user" "$PUB/fifo.json" \
	watch -d 1 -o "$PUB/fifo.json" gw-lb
{ kill "$THIEF"; wait "$THIEF"; } 2>/dev/null
assert_eq fifo_of_other_user_read_nothing 0 "$(bytes "$LAB_DIR/stolen")"
mkdir -m 0700 "$D/adir"
refused folder_o 2 "folder" "$D/adir" snapshot -o "$D/adir"
refused folder_pcap 2 "folder" "$D/adir" snapshot --pcap "$D/adir"
assert_eq folder_empty "" "$(ls -A "$D/adir")"
# watch: refused before anything is attached
refused watch_o_link 2 "$LINK" "$PUB/snap.json" watch -d 1 -o "$PUB/snap.json" gw-lb
refused watch_o_folder 2 "folder" "$D/adir" watch -d 1 -o "$D/adir" gw-lb
assert_eq watch_refused_nothing_attached "" "$(lab_attached gw gw-lb)"
guard_check decoy
guard_check links
# a name not taken in the public folder: written, root's, mode 0600
cli public_new snapshot -o "$PUB/mine.json"
assert_eq public_new "rc=0 0 600 $WANT" \
	"rc=$RC $(stat -c '%u %a' "$PUB/mine.json") $(dests "$PUB/mine.json")"
# no temporary file left anywhere we wrote
assert_eq no_temp_left "" "$(find "$D" "$PUB" -name '.*.??????' | paste -sd' ')"

# --- 4: standard output on a full disk -------------------------------------------

guard_take devs2 /dev/null /dev/full /dev/stdout /dev/stderr
STDOUT_ENOSPC="protomix: writing standard output: $ENOSPC"
full() # NAME ARGS...: stdout on /dev/full: exit 1, exactly the message
{
	local name=$1

	shift
	run "$name" /dev/full "$@"
	assert_eq "stdout_full_$name" "rc=1 $STDOUT_ENOSPC" "rc=$RC $(cat "$ERR")"
}
cp "$D/old.json" "$D/new.json"
cli pcap_for_replay snapshot -o /dev/null --pcap "$D/ev.pcap"
full status status
full status_json status --json
full classes classes
full snapshot snapshot
full snapshot_md snapshot -f md
full diff diff "$D/old.json" "$D/new.json"
full diff_json diff --json "$D/old.json" "$D/new.json"
full replay replay "$D/ev.pcap"
full replay_json replay --json "$D/ev.pcap"
full version version
full help --help
full snapshot_help snapshot --help
# watch flushes each report: the first fails and ends the watch; the
# reason is the write's (stdio itself keeps only an error flag by then)
run watch_full /dev/full watch -d 5 -i 0.2 gw-lb
assert_eq stdout_full_watch "rc=1 $STDOUT_ENOSPC" \
	"rc=$RC $(grep -v '^protomix: watching gw-lb ' "$ERR")"
assert_eq watch_full_detached "" "$(lab_attached gw gw-lb)"
devices_intact devs2

# the same commands work on a real stdout (the checks above are not vacuous)
cli status_ok status
assert_eq status_ok "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"
cli replay_ok replay "$D/ev.pcap"
assert_eq replay_ok "rc=0 stderr=" "rc=$RC stderr=$(cat "$ERR")"

# a reader that went away: no error
"$PROTOMIX" classes 2>"$LAB_DIR/head.err" | head -1 >"$LAB_DIR/head.out"
assert_eq classes_head "rc=0 stderr= lines=1" \
	"rc=${PIPESTATUS[0]} stderr=$(cat "$LAB_DIR/head.err") lines=$(lines "$LAB_DIR/head.out")"
# the reader is gone before protomix writes a byte
(sleep 0.3; exec "$PROTOMIX" classes 2>"$LAB_DIR/gone.err") | true
assert_eq classes_reader_gone "rc=0 stderr=" "rc=${PIPESTATUS[0]} stderr=$(cat "$LAB_DIR/gone.err")"
(sleep 0.3; exec timeout 20 ip netns exec "$GW" "$PROTOMIX" snapshot -o - 2>"$LAB_DIR/gone2.err") | true
assert_eq snapshot_reader_gone "rc=0 stderr=" "rc=${PIPESTATUS[0]} stderr=$(cat "$LAB_DIR/gone2.err")"
# a closed stdout is a failure too
{ timeout 20 "$PROTOMIX" classes >&- 2>"$LAB_DIR/closed.err"; RC=$?; } 2>/dev/null
assert_eq stdout_closed "rc=1 protomix: writing standard output: Bad file descriptor" \
	"rc=$RC $(cat "$LAB_DIR/closed.err")"

# --- the end -----------------------------------------------------------------------

pm_stop w1
assert_eq w1_exit_status 0 "$?"
no_leftovers "$P"
