#!/usr/bin/env bash
# Run every test and print one summary line: "N passed, N failed, N skipped".
#
# A test is an executable tests/build/*_test (C) or a script tests/*_test.sh.
# Each prints one line per check:
#   PASS name
#   FAIL name: why
#   SKIP name: why it cannot run here
# A test that exits non-zero without printing FAIL counts as one failure.
# Usage: tests/run.sh [PATTERN]   (runs the tests whose file name matches)
set -u
cd "$(dirname "$0")/.."
pattern=${1:-}
passed=0 failed=0 skipped=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

tests=()
for t in tests/build/*_test tests/*_test.sh; do
	[ -e "$t" ] || continue
	[ -n "$pattern" ] && [[ "$t" != *$pattern* ]] && continue
	tests+=("$t")
done

for t in "${tests[@]}"; do
	echo "== $t"
	start=$(date +%s)
	"./$t" >"$log" 2>&1 </dev/null
	rc=$?
	cat "$log"
	p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $t: exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	echo "-- $t: $p passed, $f failed, $s skipped ($(( $(date +%s) - start ))s)"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
