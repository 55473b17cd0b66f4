#!/usr/bin/env bash
# `protomix diff` over hand-written snapshots (tests/fixtures/diff_*.json):
# the text and --json output exactly, the 10-point shift threshold on both
# sides (9 points: unchanged, 10 points: shifted), a class that appears
# below the threshold, and bad input (exit 2, one line on stderr, nothing
# on stdout). Needs no root and no kernel.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1

PROTOMIX=${PROTOMIX:-build/protomix}
OLD=tests/fixtures/diff_old.json
NEW=tests/fixtures/diff_new.json

pass() { echo "PASS $1"; }
fail() { local v="${*:2}"; echo "FAIL $1: ${v//$'\n'/\\n}"; }
skip() { echo "SKIP $1: ${*:2}"; }

if [ ! -x "$PROTOMIX" ]; then
	fail diff "$PROTOMIX not built (run make)"
	exit 1
fi
if ! command -v jq >/dev/null; then
	skip diff_json "jq is not installed"
	HAVE_JQ=0
else
	HAVE_JQ=1
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run ARGS...: protomix diff ARGS; sets RC, OUT, ERR (file names)
run()
{
	OUT=$TMP/out ERR=$TMP/err
	"$PROTOMIX" diff "$@" >"$OUT" 2>"$ERR" </dev/null
	RC=$?
}

# check NAME WANT GOT
check()
{
	if [ "$2" == "$3" ]; then
		pass "$1"
	else
		fail "$1" "want '$2', got '$3'"
	fi
}

# --- text -------------------------------------------------------------------

run "$OLD" "$NEW"
want="10.20.0.80: esp appeared (0% -> 95%), tcp 100% -> 5% (packets: esp +19000, tcp +0)
10.20.0.55: udp vanished (50% -> 0%), tcp 50% -> 100% (packets: udp -50, tcp +50)
10.20.0.54: icmp 10% -> 20%, udp 90% -> 80% (packets: icmp +100, udp -100)
10.20.0.9: gre appeared (0% -> 1%) (packets: gre +1)
10.30.0.1: appeared, 120 packets (udp 100%)
10.30.0.2: appeared, 10 packets (icmp 100%)
10.40.0.2: vanished, 50 packets (tcp 100%)
4 changed, 2 appeared, 1 vanished, 3 unchanged ($OLD: gw1 at 2026-11-27T11:00:00.000000Z -> $NEW: gw1 at 2026-11-27T12:00:00.000000Z)"
check diff_text_status 0 "$RC"
check diff_text "$want" "$(cat "$OUT")"
check diff_text_headline_first "10.20.0.80: esp appeared (0% -> 95%), tcp 100% -> 5% (packets: esp +19000, tcp +0)" \
	"$(head -n 1 "$OUT")"
check diff_text_no_stderr "" "$(cat "$ERR")"

run "$OLD" "$OLD"
check diff_same_file "0 0 changed, 0 appeared, 0 vanished, 8 unchanged ($OLD: gw1 at 2026-11-27T11:00:00.000000Z -> $OLD: gw1 at 2026-11-27T11:00:00.000000Z)" \
	"$RC $(cat "$OUT")"

# --- JSON -------------------------------------------------------------------

if [ "$HAVE_JQ" -eq 1 ]; then
	run --json "$OLD" "$NEW"
	J=$TMP/diff.json
	cp "$OUT" "$J"
	jqc() { jq -c "$1" "$J" 2>&1; }
	check diff_json_status 0 "$RC"
	check diff_json_valid '"diff"' "$(jqc .type)"
	check diff_json_sides '[{"file":"'"$OLD"'","host":"gw1","taken_at":"2026-11-27T11:00:00.000000Z"},{"file":"'"$NEW"'","host":"gw1","taken_at":"2026-11-27T12:00:00.000000Z"}]' \
		"$(jqc '[.old, .new]')"
	check diff_json_appeared '[{"addr":"10.30.0.1","packets":{"udp":120}},{"addr":"10.30.0.2","packets":{"icmp":10}}]' \
		"$(jqc .appeared)"
	check diff_json_vanished '[{"addr":"10.40.0.2","packets":{"tcp":50}}]' "$(jqc .vanished)"
	check diff_json_changed_order '["10.20.0.80","10.20.0.55","10.20.0.54","10.20.0.9"]' \
		"$(jqc '[.changed[].addr]')"
	check diff_json_unchanged 3 "$(jqc .unchanged)"
	check diff_json_class_appeared \
		'{"addr":"10.20.0.80","classes_appeared":["esp"],"classes_vanished":[],"shifted":["esp","tcp"],"shares":{"tcp":{"old":1,"new":0.05},"esp":{"old":0,"new":0.95}},"packets_delta":{"tcp":0,"esp":19000}}' \
		"$(jqc '.changed[] | select(.addr == "10.20.0.80")')"
	check diff_json_class_vanished '{"appeared":[],"vanished":["udp"],"delta":{"tcp":50,"udp":-50}}' \
		"$(jqc '.changed[] | select(.addr == "10.20.0.55") | {appeared: .classes_appeared, vanished: .classes_vanished, delta: .packets_delta}')"
	# 90/10 -> 81/19: 9 points, below the threshold
	check diff_json_shift_below 0 \
		"$(jqc '[.changed[] | select(.addr == "10.20.0.53")] | length')"
	# 90/10 -> 80/20: exactly 10 points, reported
	check diff_json_shift_at_threshold '{"shifted":["icmp","udp"],"shares":{"udp":{"old":0.9,"new":0.8},"icmp":{"old":0.1,"new":0.2}}}' \
		"$(jqc '.changed[] | select(.addr == "10.20.0.54") | {shifted, shares}')"
	# gre 0% -> 1%: appeared, but no shift
	check diff_json_appeared_small '{"classes_appeared":["gre"],"shifted":[]}' \
		"$(jqc '.changed[] | select(.addr == "10.20.0.9") | {classes_appeared, shifted}')"
	check diff_json_same_order "$(cat "$J")" \
		"$("$PROTOMIX" diff "$OLD" "$NEW" --json 2>&1)"
fi

# --- destinations seen inside tunnels (--decap): marked "(via ...)" ---------

cat >"$TMP/via_old.json" <<'EOF'
{"schema":"protomix.snapshot/3","host":"gw1","taken_at":"2026-12-02T10:00:00.000000Z","destinations":[
 {"addr":"10.97.0.90","via":["vxlan"],"packets":{"tcp":100}},
 {"addr":"10.97.0.91","via":["gre"],"packets":{"tcp":5}},
 {"addr":"10.20.0.130","packets":{"vxlan":100}}]}
EOF
cat >"$TMP/via_new.json" <<'EOF'
{"schema":"protomix.snapshot/3","host":"gw1","taken_at":"2026-12-02T11:00:00.000000Z","destinations":[
 {"addr":"10.97.0.90","via":["vxlan","geneve"],"packets":{"tcp":100,"esp":900}},
 {"addr":"10.97.0.92","via":["gtp_u"],"packets":{"udp":7}},
 {"addr":"10.20.0.130","packets":{"vxlan":1000}}]}
EOF
check diff_via_text "10.97.0.90 (via vxlan,geneve): esp appeared (0% -> 90%), tcp 100% -> 10% (packets: esp +900, tcp +0)
10.97.0.92 (via gtp_u): appeared, 7 packets (udp 100%)
10.97.0.91 (via gre): vanished, 5 packets (tcp 100%)
1 changed, 1 appeared, 1 vanished, 1 unchanged ($TMP/via_old.json: gw1 at 2026-12-02T10:00:00.000000Z -> $TMP/via_new.json: gw1 at 2026-12-02T11:00:00.000000Z)" \
	"$("$PROTOMIX" diff "$TMP/via_old.json" "$TMP/via_new.json" 2>&1)"
if [ "$HAVE_JQ" = 1 ]; then
	check diff_via_json '[{"addr":"10.97.0.90","via":["vxlan","geneve"]},{"addr":"10.97.0.92","via":["gtp_u"]},{"addr":"10.97.0.91","via":["gre"]}]' \
		"$("$PROTOMIX" diff --json "$TMP/via_old.json" "$TMP/via_new.json" 2>&1 |
			jq -c '[.changed[], .appeared[], .vanished[] | {addr, via}]')"
	check diff_no_via_member '[]' \
		"$("$PROTOMIX" diff --json "$OLD" "$NEW" 2>&1 | jq -c '[.. | objects | select(has("via"))]')"
fi

# --- bad input --------------------------------------------------------------

printf '{"schema":"protomix.snapshot/1","destinations":[' >"$TMP/corrupt.json"
echo '{"a":1}' >"$TMP/foreign.json"

# bad NAME WORD ARGS...: exit 2, no stdout, one stderr line containing WORD
bad()
{
	local name=$1 word=$2

	shift 2
	run "$@"
	if [ "$RC" -ne 2 ]; then
		fail "$name" "exit $RC, want 2 (stderr: $(cat "$ERR"))"
	elif [ -s "$OUT" ]; then
		fail "$name" "wrote to stdout: $(head -c 200 "$OUT")"
	elif [ "$(wc -l <"$ERR")" -ne 1 ]; then
		fail "$name" "want one stderr line, got: $(cat "$ERR")"
	elif ! grep -qF -- "$word" "$ERR"; then
		fail "$name" "stderr does not name '$word': $(cat "$ERR")"
	else
		pass "$name"
	fi
}

bad diff_missing_file "$TMP/missing.json" "$OLD" "$TMP/missing.json"
bad diff_corrupt_json "$TMP/corrupt.json" "$TMP/corrupt.json" "$NEW"
bad diff_foreign_json "$TMP/foreign.json" "$OLD" "$TMP/foreign.json"
bad diff_one_argument "usage" "$OLD"
bad diff_three_arguments "usage" "$OLD" "$NEW" "$NEW"
bad diff_unknown_option "--bogus" --bogus "$OLD" "$NEW"

run --help
if [ "$RC" -eq 0 ] && grep -q "^usage: protomix diff" "$OUT"; then
	pass diff_help
else
	fail diff_help "exit $RC: $(cat "$OUT" "$ERR")"
fi
exit 0
