#!/usr/bin/env bash
# Bad usage of every command: exit 2 and exactly one line on stderr that
# names what is wrong; nothing on stdout. (No BPF, no network: these fail
# before anything is loaded.) And the help of every command: exit 0.
# Output: PASS name / FAIL name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
PM=$PWD/build/protomix
[ -x "$PM" ] || { echo "FAIL cli: $PM not built (make)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo '{"a":1}' >"$tmp/foreign.json"
printf 'not json' >"$tmp/garbage.json"
: >"$tmp/empty.pcap"

# bad NAME WORD ARGS...: exit 2, one stderr line containing WORD, no stdout
bad()
{
	local name=$1 word=$2 rc lines

	shift 2
	"$PM" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	lines=$(wc -l <"$tmp/err" | tr -d ' ')
	if [ "$rc" = 2 ] && [ "$lines" = 1 ] && grep -qF -- "$word" "$tmp/err" && [ ! -s "$tmp/out" ]; then
		echo "PASS $name"
	else
		echo "FAIL $name: protomix $*: exit $rc, $lines stderr lines, stdout $(wc -c <"$tmp/out") bytes: $(head -c 200 "$tmp/err" | tr '\n' '|')"
	fi
}

bad no_command "no command" 
bad unknown_command "'frobnicate'" frobnicate
bad watch_no_iface "no interface" watch
bad watch_unknown_iface "'no-such-if0'" watch no-such-if0
bad watch_unknown_option "'--bogus'" watch --bogus lo
bad watch_missing_value "'-i'" watch -i
bad watch_bad_interval "--interval" watch -i 0 lo
bad watch_bad_hook "--hook" watch --hook ebpf lo
bad watch_bad_max_dests "--max-dests" watch --max-dests 0 lo
bad watch_bad_aggregate "--aggregate" watch --aggregate 33 lo
bad watch_bad_rule "10.0.0.0/33=tcp" watch -e 10.0.0.0/33=tcp lo
bad watch_bad_class "'tcpp'" watch -e 10.0.0.0/8=tcpp lo
bad watch_missing_rules_file "$tmp/none.txt" watch -E "$tmp/none.txt" lo
bad watch_garbage_baseline "garbage.json" watch --baseline "$tmp/garbage.json" lo
bad watch_foreign_baseline "foreign.json" watch --baseline "$tmp/foreign.json" lo
bad watch_unwritable_snapshot "/nonexistent/x.json" watch -o /nonexistent/x.json lo
bad watch_bad_metrics "--metrics" watch --metrics 1.2.3.4.5:9 lo
bad watch_twice "given twice" watch lo lo
bad snapshot_bad_format "--format" snapshot -f xml
bad snapshot_extra "'extra'" snapshot extra
bad snapshot_bad_pid "--pid" snapshot --pid abc
bad status_extra "'--bogus'" status --bogus
bad top_bad_pid "--pid" top --pid abc
bad replay_no_file "no capture file" replay
bad replay_missing_file "none.pcap" replay "$tmp/none.pcap"
bad replay_empty_file "empty.pcap" replay "$tmp/empty.pcap"
bad replay_not_a_capture "garbage.json" replay "$tmp/garbage.json"
bad replay_bad_rule "10.0.0.0/33=tcp" replay -e 10.0.0.0/33=tcp "$tmp/empty.pcap"
bad diff_one_file "two snapshot files" diff "$tmp/foreign.json"
bad diff_foreign "foreign.json" diff "$tmp/foreign.json" "$tmp/foreign.json"
bad diff_garbage "garbage.json" diff "$tmp/garbage.json" "$tmp/garbage.json"
bad detach_unknown_iface "'no-such-if0'" detach no-such-if0
bad detach_option "'--bogus'" detach --bogus
bad classes_extra "no arguments" classes extra

for cmd in "" watch snapshot top status replay diff detach; do
	if "$PM" $cmd --help >"$tmp/out" 2>"$tmp/err" && [ -s "$tmp/out" ] && [ ! -s "$tmp/err" ]; then
		echo "PASS help_${cmd:-main}"
	else
		echo "FAIL help_${cmd:-main}: exit $?, $(head -c 100 "$tmp/err")"
	fi
done
