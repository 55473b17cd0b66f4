# shellcheck shell=bash
# The CPU of a watch with and without OPTIONS: what bench/history.sh and
# bench/ipfix.sh share (sourced by them; it runs nothing by itself).
#
# tests/manydests.c sends one TCP frame to each of N addresses (10.64.0.0
# on, blackholed at the gateway, nothing answers), again and again while
# the watch's CPU is measured from /proc/PID/stat, so every destination
# moves in every interval. The watch runs without the options and with
# them, side by side in the same rounds (off, on, off, on, ...), in the lab
# of tests/lib/lab.sh (namespaces of its own, removed on exit); nothing
# touches the machine's interfaces.
#
# The sourcing script sets, before it calls these:
#   WC_NAME   its name in messages ("bench/ipfix.sh") and in the lab's
#   WC_TAG    namespace names ("ipfix")
#   N SECS ROUNDS   destinations, seconds measured per run, rounds
#
#   watch_cpu_setup         root, the binaries, the lab, the exit trap;
#                           returns 2 without root (the caller exits 0),
#                           1 on failure (said)
#   watch_cpu_rounds OFF_SAY "OFF ARGS" ON_SAY "ON ARGS"
#                           ROUNDS rounds; fills the arrays WC_OFF, WC_ON,
#                           WC_DIFF (on - off, CPU percent of one CPU) and
#                           WC_RECS (IPFIX records sent per second in the
#                           "on" run); says each round on stderr, the runs
#                           named OFF_SAY and ON_SAY
#   watch_cpu_stat VALUES...  "median min max" ("null null null" if none)

say() { printf '%s\n' "$*" >&2; }
. "$ROOT/tests/lib/lab.sh"

watch_cpu_setup()
{
	if [ "$(id -u)" -ne 0 ]; then
		say "$WC_NAME: needs root (namespaces, BPF)"
		return 2
	fi
	[ -x "$PROTOMIX" ] || { say "$WC_NAME: $PROTOMIX missing: run make"; return 1; }
	MANYDESTS=$ROOT/tests/build/manydests
	if [ ! -x "$MANYDESTS" ] || [ tests/manydests.c -nt "$MANYDESTS" ]; then
		mkdir -p tests/build
		${CC:-cc} -O2 -Wall -Wextra -Werror tests/manydests.c -o "$MANYDESTS" ||
			{ say "$WC_NAME: cannot build tests/manydests.c"; return 1; }
	fi
	lab_up "pmb-$$-$WC_TAG" >/dev/null || { say "$WC_NAME: cannot build the lab"; return 1; }
	lab_exec gw ip route add blackhole 10.64.0.0/10
	FILLER=""
	trap 'watch_cpu_stop_filler; lab_cleanup' EXIT
}

watch_cpu_stop_filler()
{
	if [ -n "$FILLER" ]; then
		{ kill "$FILLER"; wait "$FILLER"; } 2>/dev/null
		FILLER=""
	fi
}

# every destination, over and over, until stopped
watch_cpu_fill_forever()
{
	while :; do
		ip netns exec "$(lab_ns ws)" "$MANYDESTS" ws0 "$N" --dst-mac "$LAB_MAC_GW_WS" \
			--src-mac "$LAB_MAC_WS0" --base 10.64.0.0 || break
	done
}

watch_cpu_pct()	# PID SECONDS
{
	local hz a b
	hz=$(getconf CLK_TCK)
	a=$(awk '{print $14 + $15}' "/proc/$1/stat")
	sleep "$2"
	b=$(awk '{print $14 + $15}' "/proc/$1/stat")
	awk -v d=$((b - a)) -v hz="$hz" -v s="$2" 'BEGIN { printf "%.1f\n", 100 * d / hz / s }'
}

# the records the watch's IPFIX collectors were sent (0 without --ipfix)
watch_cpu_sent()
{
	lab_exec gw "$PROTOMIX" status --json | jq '[.[0].ipfix[]?.sent_records] | add // 0'
}

# TAG ARGS...: "CPU% records/s dests" of a watch over SECS with every
# destination busy
watch_cpu_run()
{
	local tag=$1 pid pct sent0 sent dests
	shift
	pm_start "$tag" watch -i 1 --max-dests $((2 * N)) "$@" gw-ws
	pm_wait_attached "$tag" 2>/dev/null || { say "$WC_NAME: watch did not start"; return 1; }
	watch_cpu_fill_forever & FILLER=$!
	sleep 3		# the map full, every interval with N destinations
	pid=${PM_PIDS[$tag]}
	sent0=$(watch_cpu_sent)
	pct=$(watch_cpu_pct "$pid" "$SECS")
	sent=$(watch_cpu_sent)
	dests=$(lab_exec gw "$PROTOMIX" status --json | jq '.[0].maps.dests.entries')
	watch_cpu_stop_filler
	pm_stop "$tag" >/dev/null
	echo "$pct $(( (sent - sent0) / SECS )) $dests"
}

watch_cpu_rounds()	# OFF_SAY "OFF ARGS" ON_SAY "ON ARGS" (the ARGS word-split)
{
	local r p x s d recs
	WC_OFF=() WC_ON=() WC_DIFF=() WC_RECS=()
	for ((r = 0; r < ROUNDS; r++)); do
		# shellcheck disable=SC2086
		read -r p _ d < <(watch_cpu_run off$r $2) || break
		# shellcheck disable=SC2086
		read -r x s _ < <(watch_cpu_run on$r $4) || break
		WC_OFF+=("$p") WC_ON+=("$x") WC_RECS+=("$s")
		WC_DIFF+=("$(awk -v a="$x" -v b="$p" 'BEGIN { printf "%.1f", a - b }')")
		recs=""
		[ "$s" = 0 ] || recs="records/s $s, "
		say "  round $((r + 1)): $1 $p%, $3 $x% (${recs}dests $d)"
	done
}

watch_cpu_stat()	# median and spread of the arguments
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "null null null"; exit }
		printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
