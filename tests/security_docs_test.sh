#!/usr/bin/env bash
# security_docs_test: snapshot documents read back (`protomix diff`,
# `--baseline` of replay) written by a hostile local user. Each bad input
# (a FIFO, a symlink to /dev/zero, a folder, a sparse file past the 1 GiB
# limit, and malformed snapshots) makes root's command exit 2 within 10 s
# with one line on stderr naming the file and the first bad field, and
# nothing on stdout; the hostile user's files are unchanged. Valid
# snapshots (tests/fixtures) still diff as before.
# Output: PASS name / FAIL name: why / SKIP name: why (see tests/run.sh).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh
. tests/lib/hostile.sh

OLD=tests/fixtures/diff_old.json
NEW=tests/fixtures/diff_new.json
skip_unless_root security_docs || exit 0
need_cmds security_docs python3 setpriv useradd timeout jq || exit 0
[ -x "$PROTOMIX" ] || { fail security_docs "$PROTOMIX not built (run make)"; exit 1; }

hostile_up || { fail security_docs "cannot create the hostile user"; exit 1; }
chmod 0755 "$HOSTILE_DIR"
H=$HOSTILE_DIR
TMP=$(mktemp -d "/tmp/pmdocs$$.XXXXXX")
prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
# shellcheck disable=SC2064
trap "rm -rf '$TMP'; ${prev:-:}" EXIT

# --- the hostile user writes its documents ---------------------------------

# mk NAME PYTHON: the fixture OLD, changed by PYTHON (on d), as NAME.json
mk()
{
	as_hostile "$LAB_PYTHON" -c "
import json
d = json.load(open('$OLD'))
$2
open('$H/$1.json', 'w').write(d if isinstance(d, str) else json.dumps(d))
"
}
as_hostile mkfifo "$H/fifo.json"
as_hostile ln -s /dev/zero "$H/zero.json"
as_hostile mkdir "$H/folder.json"
as_hostile truncate -s 1100M "$H/huge.json"
mk count_1e40 "d['destinations'][3]['packets']['tcp'] = 10**40"
mk count_2e64 "d['destinations'][3]['packets']['tcp'] = 2**64"
mk count_neg "d['destinations'][0]['packets']['tcp'] = -5"
mk count_str "d['destinations'][0]['packets']['tcp'] = '1000'"
mk count_frac "d['destinations'][2]['packets']['udp'] = 1.5"
mk count_sum "d['destinations'][3]['packets'] = {'tcp': 2**64 - 1, 'udp': 1}"
mk notalist "d['destinations'] = 'notalist'"
mk bogus_class "d['destinations'][3]['packets']['bogus'] = 1"
mk not_an_ip "d['destinations'][0]['addr'] = 'not-an-ip'"
mk prefix_99 "d['destinations'][0]['addr'] = '10.20.0.0/99'"
mk dup_addr "d['destinations'][4]['addr'] = d['destinations'][1]['addr']"
mk bad_expected "d['destinations'][1]['expected'] = ['tcp', 'bogus']"
mk no_addr "del d['destinations'][5]['addr']"
mk via_not_tunnel "d['destinations'][2]['via'] = ['vxlan', 'tcp']"
mk via_twice "d['destinations'][2]['via'] = ['gtp_u', 'gtp_u']"
mk via_string "d['destinations'][2]['via'] = 'vxlan'"
mk via_number "d['destinations'][2]['via'] = [4789]"
mk schema "d['schema'] = 'protomix.snapshot/9'"
as_hostile "$LAB_PYTHON" -c "
open('$H/deep.json', 'w').write('{\"schema\":\"protomix.snapshot/1\",\"x\":' + '[' * 100000)"
guard_take docs "$H"

# bad NAME WANT CMD...: exit 2 within 10 s, nothing on stdout, one stderr
# line equal to WANT
bad()
{
	local name=$1 want=$2 rc t0 t1

	shift 2
	t0=$(date +%s)
	timeout 10 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	t1=$(date +%s)
	if [ "$rc" -ne 2 ]; then
		fail "$name" "exit $rc after $((t1 - t0)) s, want 2 (stderr: $(head -c 300 "$TMP/err"))"
	elif [ -s "$TMP/out" ]; then
		fail "$name" "wrote to stdout: $(head -c 200 "$TMP/out")"
	else
		assert_eq "$name" "$want" "$(cat "$TMP/err")"
	fi
}

# --- diff and --baseline on each -----------------------------------------

cases=(
	"fifo.json|the snapshot is a FIFO, not a regular file"
	"zero.json|the snapshot is a character device, not a regular file"
	"folder.json|the snapshot is a folder, not a regular file"
	"huge.json|the snapshot has 1153433600 bytes, more than the limit of 1073741824 (1 GiB)"
	"count_1e40.json|destinations[3].packets.tcp: over 2^64-1, not a count"
	"count_2e64.json|destinations[3].packets.tcp: over 2^64-1, not a count"
	"count_neg.json|destinations[0].packets.tcp: negative or not an integer, not a count (an integer 0 to 2^64-1)"
	"count_str.json|destinations[0].packets.tcp: a string, not a count (an integer 0 to 2^64-1)"
	"count_frac.json|destinations[2].packets.udp: negative or not an integer, not a count (an integer 0 to 2^64-1)"
	"count_sum.json|destinations[3].packets: the counts add up to over 2^64-1"
	"notalist.json|destinations: a string, not an array"
	"bogus_class.json|destinations[3].packets.bogus: unknown class"
	"not_an_ip.json|destinations[0].addr: \"not-an-ip\" is not an address or prefix"
	"prefix_99.json|destinations[0].addr: \"10.20.0.0/99\" is not an address or prefix"
	"dup_addr.json|destinations[4].addr: \"10.20.0.53\" again (destinations[1])"
	"bad_expected.json|destinations[1].expected[1]: \"bogus\" is not a class"
	"no_addr.json|destinations[5]: no \"addr\""
	"via_not_tunnel.json|destinations[2].via[1]: \"tcp\" is not a tunnel class (gre, ipip, ipv6_encap, vxlan, geneve, gtp_u)"
	"via_twice.json|destinations[2].via[1]: \"gtp_u\" given twice"
	"via_string.json|destinations[2].via: a string, not an array"
	"via_number.json|destinations[2].via[0]: a number, not a string"
	"schema.json|schema: \"protomix.snapshot/9\", not \"protomix.snapshot/3\", \"protomix.snapshot/2\" or \"protomix.snapshot/1\""
	"deep.json|nested deeper than 64 levels at byte 99"
)
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00\x01\x00\x00\x00' \
	>"$TMP/empty.pcap"
for c in "${cases[@]}"; do
	f=${c%%|*} msg=${c#*|}
	n=${f%.json}
	bad "docs_diff_new_$n" "protomix: $H/$f: $msg" "$PROTOMIX" diff "$OLD" "$H/$f"
	bad "docs_diff_old_$n" "protomix: $H/$f: $msg" "$PROTOMIX" diff --json "$H/$f" "$NEW"
	bad "docs_baseline_$n" "protomix: $H/$f: $msg" "$PROTOMIX" replay --baseline "$H/$f" "$TMP/empty.pcap"
done
guard_check docs

# --- valid snapshots still work ----------------------------------------------

want="10.20.0.80: esp appeared (0% -> 95%), tcp 100% -> 5% (packets: esp +19000, tcp +0)
10.20.0.55: udp vanished (50% -> 0%), tcp 50% -> 100% (packets: udp -50, tcp +50)
10.20.0.54: icmp 10% -> 20%, udp 90% -> 80% (packets: icmp +100, udp -100)
10.20.0.9: gre appeared (0% -> 1%) (packets: gre +1)
10.30.0.1: appeared, 120 packets (udp 100%)
10.30.0.2: appeared, 10 packets (icmp 100%)
10.40.0.2: vanished, 50 packets (tcp 100%)
4 changed, 2 appeared, 1 vanished, 3 unchanged ($OLD: gw1 at 2026-11-27T11:00:00.000000Z -> $NEW: gw1 at 2026-11-27T12:00:00.000000Z)"
assert_eq docs_valid_diff "$want" "$(timeout 10 "$PROTOMIX" diff "$OLD" "$NEW" 2>&1)"
# the largest count there is, alone: accepted
mk count_max "d['destinations'][0]['packets'] = {'tcp': 2**64 - 1}"
assert_eq docs_valid_count_max "0 changed, 0 appeared, 0 vanished, 8 unchanged" \
	"$(timeout 10 "$PROTOMIX" diff "$H/count_max.json" "$H/count_max.json" 2>&1 | cut -d'(' -f1 | sed 's/ $//')"
# schema 3 with "via" (tunnels, --decap): read by diff, --baseline and
# snapshot --input (which marks the destination)
mk via_ok "d['schema'] = 'protomix.snapshot/3'; d['destinations'][2]['via'] = ['vxlan', 'gtp_u']"
assert_eq docs_valid_via_diff "0 changed, 0 appeared, 0 vanished, 8 unchanged" \
	"$(timeout 10 "$PROTOMIX" diff "$OLD" "$H/via_ok.json" 2>&1 | cut -d'(' -f1 | sed 's/ $//')"
out=$(timeout 10 "$PROTOMIX" replay --baseline "$H/via_ok.json" "$TMP/empty.pcap" 2>&1)
assert_eq docs_valid_via_baseline 0 "$?"
addr=$(jq -r '.destinations[2].addr' "$H/via_ok.json")
assert_eq docs_valid_via_input "1" \
	"$(timeout 10 "$PROTOMIX" snapshot --input "$H/via_ok.json" -f md 2>&1 | grep -cF "| $addr (via vxlan,gtp_u) |")"
out=$(timeout 10 "$PROTOMIX" replay --baseline "$OLD" "$TMP/empty.pcap" 2>&1)
assert_eq docs_valid_baseline 0 "$?"
# a prefix snapshot (--aggregate) is a valid baseline
mk prefix "d['destinations'][0]['addr'] = '10.20.0.0/24'; d['destinations'][6]['addr'] = '2001:db8:20::/48'"
out=$(timeout 10 "$PROTOMIX" replay --baseline "$H/prefix.json" "$TMP/empty.pcap" 2>&1)
assert_eq docs_valid_prefix_baseline "0 " "$? $(grep protomix: <<<"$out")"
exit 0
