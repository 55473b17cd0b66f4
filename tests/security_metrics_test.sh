#!/usr/bin/env bash
# Issue 12: a local user cannot kill or stall `watch --metrics`. A watch in
# the lab's gateway namespace serves /metrics on 127.0.0.1; an unprivileged
# user (tests/lib/hostile.sh), inside the same namespace:
#   idle33     opens 33 idle connections, holds them 3 s, closes them
#   other_ip   holds 40 idle connections from 127.0.0.2 while we scrape
#   flood      opens 1,000 connections in batches of 50 (half of them send
#              half a request), bounded in time
#   slowloris  9 connections from 127.0.0.3 sending a header byte a second:
#              one over the per-address limit (closed at once), eight cut
#              at the 10 s request deadline
#   nonreader  4 clients from 127.0.0.4 that request a ~9 MB /metrics (8000
#              destinations, --metrics-top 10000) and never read: closed
#              by the watch, with the answer cut short
# After each (and during the holds): a real curl (--max-time 3) gets 200
# and the exact series of the traffic sent (tcp 7 and esp 300 to
# 10.20.0.80, 300 protocol_shift violations); the watch's JSON reports
# (-i 0.2) keep coming with no gap over 1 s in every attack's window
# (every bound of time plus twice what starting protomix costs here:
# lab_pace_ms, a few ms natively, seconds under emulation); it
# exits 0 on SIGINT with hostile connections still open, nothing left.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh
. tests/lib/hostile.sh

skip_unless_root security_metrics
need_cmds security_metrics ip tc jq bpftool curl setpriv useradd "$LAB_PYTHON"
if [ ! -x "$PROTOMIX" ] || [ ! -x "$SENDFRAMES" ]; then
	fail security_metrics "$PROTOMIX or $SENDFRAMES not built (run make && make tests)"
	exit 1
fi
MANYDESTS=$LAB_ROOT/tests/build/manydests
if [ ! -x "$MANYDESTS" ] || [ tests/manydests.c -nt "$MANYDESTS" ]; then
	mkdir -p tests/build
	${CC:-cc} -O2 -Wall -Wextra -Werror tests/manydests.c -o "$MANYDESTS" ||
		{ fail security_metrics "cannot build tests/manydests.c"; exit 1; }
fi

P=pmt-$$-sm
lab_up "$P" || { fail lab_up "cannot build the lab $P"; exit 1; }
hostile_up || { fail hostile_up "cannot create the hostile user"; exit 1; }
GW=$(lab_ns gw)
# The bounds of time below (a scrape's 3 s, a report gap of 1 s, the
# 10 s request deadline) get twice what starting protomix costs here
# added: 20-30 ms natively, near 2 s under emulation, where the watch
# builds a 9 MB answer that much slower. A watch stalled by its
# hostile clients still misses them by seconds.
PACE_MS=$(lab_pace_ms)
SLACK=$(awk -v p="$PACE_MS" 'BEGIN { printf "%.2f", 2 * p / 1000 }')
echo "# starting protomix here: ${PACE_MS} ms: ${SLACK} s more on every bound of time"
MPORT=9464
URL=http://127.0.0.1:$MPORT/metrics
NDESTS=8000

# --- helpers ---------------------------------------------------------------

# hostile_py ARGS... (script on stdin): python as the hostile user, in the
# gateway namespace, at most 60 s
hostile_py()
{
	timeout 60 ip netns exec "$GW" setpriv --reuid="$HOSTILE_UID" \
		--regid="$HOSTILE_GID" --clear-groups --inh-caps=-all \
		--bounding-set=-all -- "$LAB_PYTHON" - "$@"
}

value() { awk -v s="$2" 'index($0, s " ") == 1 { print $2 }' "$1"; }

pk() { echo "protomix_packets_total{dst=\"$1\",class=\"$2\"}"; }

# extra FILE: the exported destinations besides the NDESTS of manydests
extra()
{
	sed -n 's/^protomix_packets_total{dst="\([^"]*\)".*/\1/p' "$1" |
		grep -v '^10\.64\.' | sort -u | paste -sd' '
}
# the load balancer's RST to the workstation's 7 TCP segments (gw-ws
# egress), the 300 ESP and 7 TCP to .80, the rest
EXTRA="10.10.1.10 10.20.0.80 other"

# served NAME: a real scrape (curl, 3 s + SLACK at most) answers 200 with the
# exact series of the traffic this test sent
served()
{
	local f=$LAB_DIR/$1.prom code

	: >"$f"
	code=$(ip netns exec "$GW" curl -s --max-time "$(awk -v s="$SLACK" 'BEGIN { print 3 + s }')" -o "$f" -w '%{http_code}' "$URL")
	assert_eq "$1" "code=200 tcp=7 esp=300 shift=300 exported=$((NDESTS + 2)) ($EXTRA)" \
		"code=$code tcp=$(value "$f" "$(pk 10.20.0.80 tcp)") esp=$(value "$f" "$(pk 10.20.0.80 esp)") shift=$(value "$f" 'protomix_violations_total{kind="protocol_shift"}') exported=$(value "$f" protomix_exported_dests) ($(extra "$f"))"
}

now() { date +%s.%N; }
WINDOWS=()	# NAME:T0:T1, checked once the watch has exited (its stdout whole)

# --- the watch, the traffic ------------------------------------------------

# the many destinations are dropped silently by the gateway (no ICMP back)
lab_exec gw ip route add blackhole 10.64.0.0/10
pm_start w watch --json -i 0.2 --metrics "127.0.0.1:$MPORT" --metrics-top 10000 gw-ws
if ! pm_wait_attached w gw-ws 2>/dev/null; then
	fail watch_attach "$(cat "$(pm_errfile w)")"
	exit 1
fi
send_ws tcp4 7
send_ws esp4 300
lab_exec ws "$MANYDESTS" ws0 "$NDESTS" --dst-mac "$LAB_MAC_GW_WS" \
	--src-mac "$LAB_MAC_WS0" --base 10.64.0.0 ||
	fail manydests "manydests ws0 $NDESTS failed"
# until a scrape sees it all (the watch reads the maps every 0.2 s)
for ((i = 0; i < 50; i++)); do
	ip netns exec "$GW" curl -s --max-time 3 -o "$LAB_DIR/first.prom" "$URL" &&
		[ "$(value "$LAB_DIR/first.prom" protomix_exported_dests)" = $((NDESTS + 2)) ] &&
		[ "$(value "$LAB_DIR/first.prom" 'protomix_violations_total{kind="protocol_shift"}')" = 300 ] &&
		break
	sleep 0.2
done
served served_before
SIZE=$(stat -c %s "$LAB_DIR/served_before.prom")
if [ "$SIZE" -gt 4000000 ]; then
	pass metrics_body_large
else
	fail metrics_body_large "only $SIZE bytes: the non-readers would not block"
fi

# --- idle33: 33 idle connections, 3 s, closed --------------------------------

t0=$(now)
out=$(hostile_py <<'EOF'
import socket, time
held = []
for i in range(33):
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", 9464))
        held.append(s)
    except OSError:
        s.close()
time.sleep(3)
for s in held:
    s.close()
print("opened", len(held))
EOF
)
assert_eq idle33_opened "opened 33" "$out"
served idle33_served_after
WINDOWS+=("idle33:$t0:$(now)")

# --- other_ip: one address's idle connections leave room for another ---------

t0=$(now)
: >"$LAB_DIR/other_ip.out"
hostile_py >"$LAB_DIR/other_ip.out" 2>&1 <<'EOF' &
import socket, time
held = []
for i in range(40):
    s = socket.socket()
    s.settimeout(2)
    s.bind(("127.0.0.2", 0))
    try:
        s.connect(("127.0.0.1", 9464))
        held.append(s)
    except OSError:
        s.close()
print("opened", len(held), flush=True)
time.sleep(4)
EOF
hpid=$!
for ((i = 0; i < 40; i++)); do
	grep -q opened "$LAB_DIR/other_ip.out" && break
	sleep 0.1
done
sleep 0.5
served other_ip_served_during
wait "$hpid"
rc=$?
assert_eq other_ip_attacker "opened 40 rc=0" "$(cat "$LAB_DIR/other_ip.out") rc=$rc"
WINDOWS+=("other_ip:$t0:$(now)")

# --- flood: 1,000 connections in batches of 50 --------------------------------

t0=$(now)
out=$(hostile_py <<'EOF'
import socket, time
opened = refused = 0
for batch in range(20):
    held = []
    for i in range(50):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", 9464))
            if i % 2:
                s.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Ag")
            held.append(s)
            opened += 1
        except OSError:
            refused += 1
            s.close()
    time.sleep(0.1)
    for s in held:
        s.close()
print("tried", opened + refused)
EOF
)
rc=$?
assert_eq flood_bounded "tried 1000 rc=0" "$out rc=$rc"
served flood_served_after
WINDOWS+=("flood:$t0:$(now)")

# --- slowloris and non-readers, at the same time ------------------------------

t0=$(now)
hostile_py "$SLACK" >"$LAB_DIR/slowloris.out" 2>&1 <<'EOF' &
import socket, sys, time
slack = float(sys.argv[1])
# nine from one address: the ninth is over the per-address limit
conns = []
for i in range(9):
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", 9464))
    s.setblocking(False)
    conns.append([s, time.monotonic(), None])
    time.sleep(0.05)
line = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 100
sent = 0
end = time.monotonic() + 16 + slack
while time.monotonic() < end and any(c[2] is None for c in conns):
    for c in conns:
        if c[2] is not None:
            continue
        try:
            if c[0].recv(1) == b"":
                c[2] = time.monotonic() - c[1]
                continue
        except BlockingIOError:
            pass
        except OSError:
            c[2] = time.monotonic() - c[1]
            continue
        try:
            c[0].send(line[sent:sent + 1])
        except OSError:
            c[2] = time.monotonic() - c[1]
    sent += 1
    time.sleep(1 if sent > 1 else 0.3)
t = sorted(c[2] if c[2] is not None else 99 for c in conns)
print("at_once=%d cut_at_deadline=%d" % (
    sum(1 for x in t if x < 1 + slack), sum(1 for x in t if 9 <= x <= 13 + slack)))
print("times", " ".join("%.1f" % x for x in t))
EOF
spid=$!
hostile_py >"$LAB_DIR/nonreader.out" 2>&1 <<'EOF' &
import socket, time
conns = []
for i in range(4):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(("127.0.0.4", 0))
    s.settimeout(2)
    s.connect(("127.0.0.1", 9464))
    s.send(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    conns.append(s)
time.sleep(13)                  # never reading
short = eof = 0
for s in conns:
    data = b""
    s.settimeout(2)
    try:
        while True:
            b = s.recv(1 << 20)
            if not b:
                eof += 1
                break
            data += b
    except OSError:
        pass
    head, _, body = data.partition(b"\r\n\r\n")
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
              if l.lower().startswith(b"content-length:")]
    if length and len(body) < length[0]:
        short += 1
print("closed_by_watch=%d cut_short=%d" % (eof, short))
EOF
npid=$!
sleep 3
served hold_served_during_3s
sleep 4
served hold_served_during_7s
wait "$spid"
src=$?
wait "$npid"
nrc=$?
assert_eq slowloris "at_once=1 cut_at_deadline=8 rc=0" \
	"$(head -1 "$LAB_DIR/slowloris.out") rc=$src" ||
	echo "# slowloris: seconds until each was closed: $(tail -1 "$LAB_DIR/slowloris.out")"
assert_eq nonreader "closed_by_watch=4 cut_short=4 rc=0" \
	"$(head -1 "$LAB_DIR/nonreader.out") rc=$nrc"
served hold_served_after
WINDOWS+=("hold:$t0:$(now)")

# --- SIGINT with hostile connections open ---------------------------------------

: >"$LAB_DIR/last.out"
hostile_py >"$LAB_DIR/last.out" 2>&1 <<'EOF' &
import socket, time
held = []
for i in range(8):
    s = socket.socket()
    s.bind(("127.0.0.5", 0))
    s.connect(("127.0.0.1", 9464))
    s.send(b"GET /metrics HTTP/1.1\r\nHo")
    held.append(s)
print("opened", len(held), flush=True)
time.sleep(8)
EOF
lpid=$!
for ((i = 0; i < 40; i++)); do
	grep -q opened "$LAB_DIR/last.out" && break
	sleep 0.1
done
stop w
kill "$lpid" 2>/dev/null
wait "$lpid" 2>/dev/null

# --- the reports kept coming --------------------------------------------------

for win in "${WINDOWS[@]}"; do
	IFS=: read -r name t0 t1 <<<"$win"
	gap=$(jq -r 'select(.type == "report") | .time' "$(pm_out w)" | "$LAB_PYTHON" -c '
import datetime, sys
t0, t1 = float(sys.argv[1]), float(sys.argv[2])
ts = [datetime.datetime.strptime(l.strip(), "%Y-%m-%dT%H:%M:%S.%fZ")
      .replace(tzinfo=datetime.timezone.utc).timestamp() for l in sys.stdin]
ts = [t0] + [t for t in ts if t0 <= t <= t1] + [t1]
print("%.2f %d" % (max(b - a for a, b in zip(ts, ts[1:])), len(ts) - 2))' "$t0" "$t1")
	if awk -v g="${gap% *}" -v s="$SLACK" 'BEGIN { exit !(g <= 1.0 + s) }'; then
		pass "${name}_reports_on_time"
	else
		fail "${name}_reports_on_time" "longest gap between reports ${gap% *} s, bound $(awk -v s="$SLACK" 'BEGIN { print 1 + s }') s (${gap#* } reports in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, -i 0.2)"
	fi
done

no_leftovers "$P"
