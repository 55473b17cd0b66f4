#!/usr/bin/env bash
# The suite's kernel-sensitive tests on Debian 12's own kernels, each booted
# in QEMU/TCG by tools/kernels/run.sh, when PROTOMIX_KERNELS names them
# (.ci/run sets "6.1 6.12"); skipped otherwise, since emulation takes about
# 15 minutes a kernel. Every check of a guest is one line here, named with
# its kernel ("PASS 6.1.0-57-amd64/lifecycle ..."), so tests/run.sh counts
# them in its summary. `make test-kernels` runs the whole suite instead.
#   PROTOMIX_KERNELS        kernels to boot: 6.1, 6.12 (tools/kernels/fetch.sh)
#   PROTOMIX_KERNEL_TESTS   tests/run.sh pattern for the guests (default below)
#   PROTOMIX_KERNEL_MINUTES the most one kernel may take (default 30)
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib/lab.sh

# The tests whose outcome depends on the kernel: the BPF programs against
# its verifier and helpers, the hooks it offers (tcx or classic clsact),
# attach/detach on every way out, counting real traffic, the alerts' timing
# and the clock conversions. (Every lab test on a kernel without tcx goes
# the classic clsact way, so classic_tc_test adds nothing there.)
# alerts_test (its one-way timing under emulation) takes 10 minutes a
# kernel more: PROTOMIX_KERNEL_TESTS='@(...|alerts)' or make test-kernels.
DEFAULT_TESTS='@(bpf_parse|clock|probe|counts|lifecycle|loopback|reattach)'

if [ -n "${PROTOMIX_TEST_EMULATED:-}" ]; then
	skip kernels "already inside an emulated guest"
	exit 0
fi
if [ -z "${PROTOMIX_KERNELS:-}" ]; then
	skip kernels "set PROTOMIX_KERNELS='6.1 6.12' to boot Debian 12's kernels in QEMU (about 15 min each)"
	exit 0
fi
skip_unless_root kernels || exit 0

args=()
for k in $PROTOMIX_KERNELS; do
	args+=(-k "$k")
done
# run.sh prefixes every check with its kernel and prints a summary per
# kernel and a total; the total is tests/run.sh's to print, so it is renamed.
tools/kernels/run.sh "${args[@]}" -t "${PROTOMIX_KERNEL_MINUTES:-30}" \
	"${PROTOMIX_KERNEL_TESTS:-$DEFAULT_TESTS}" |
	sed -u 's/^\([0-9]* passed, [0-9]* failed, [0-9]* skipped\)$/kernels total: \1/'
exit "${PIPESTATUS[0]}"
