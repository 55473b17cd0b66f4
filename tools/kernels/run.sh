#!/usr/bin/env bash
# tools/kernels/run.sh [-k KERNEL]... [-t MINUTES] [PATTERN]
#
# Run the test suite (tests/run.sh [PATTERN]) on Debian 12's own kernels,
# each booted in QEMU (TCG: no KVM needed) with this machine's root shared
# read-only over 9p under a tmpfs overlay: the binaries built here, the
# guest kernel's modules in /lib/modules. Prints every check prefixed with
# the kernel ("PASS 6.1.0-57-amd64/name"), one "KVER: N passed, N failed,
# N skipped" per kernel and a total line; exits 1 if anything failed.
#   -k KERNEL   6.1, 6.12 or linux-image-VERSION-amd64 (fetch.sh); repeatable,
#               default: 6.1 and 6.12
#   -t MINUTES  the most one kernel's run may take (default 150: the whole
#               suite takes about two hours a kernel under emulation)
#   PATTERN     tests/run.sh's: the tests whose file name matches *PATTERN*;
#               several with '@(lifecycle|counts|alerts)'
# The packages, initramfs and logs stay in build/kernels/ (out/KVER/:
# console.log is the serial console, run.log the suite's output).
set -u
cd "$(dirname "$0")/../.."
here=tools/kernels
kernels=() minutes=150
while getopts k:t: o; do
	case $o in
	k) kernels+=("$OPTARG") ;;
	t) minutes=$OPTARG ;;
	*) echo "usage: $0 [-k KERNEL]... [-t MINUTES] [PATTERN]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
pattern=${1:-}
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
case "$pattern" in *[!A-Za-z0-9_.@\(\)\|*-]*)
	echo "run.sh: PATTERN '$pattern': letters, digits and _ . - @ ( | ) * only" >&2; exit 2 ;;
esac
case "$minutes" in ''|*[!0-9]*|0)
	echo "run.sh: -t '$minutes': a number of minutes" >&2; exit 2 ;;
esac
for tool in qemu-system-x86_64 busybox depmod xz; do
	command -v "$tool" >/dev/null || [ -x "/bin/$tool" ] || {
		echo "run.sh: $tool missing: run tools/install-deps.sh" >&2; exit 1; }
done
[ -x build/protomix ] || { echo "run.sh: build first (make all tests)" >&2; exit 1; }

tree=$(pwd -P)
cache=build/kernels
total_p=0 total_f=0 total_s=0
for k in "${kernels[@]}"; do
	kdir=$("$here/fetch.sh" "$k" "$cache") || { total_f=$((total_f + 1)); echo "FAIL $k/fetch: cannot fetch the kernel"; continue; }
	kdir=$(cd "$kdir" && pwd -P)
	kver=$(ls "$kdir/lib/modules" | head -n 1)
	out=$cache/out/$kver
	rm -rf "$out"
	mkdir -p "$out"
	initrd=$cache/initrd-$kver.gz
	if [ ! -e "$initrd" ] || [ "$here/initramfs.sh" -nt "$initrd" ] ||
	   [ "$here/guest-init.sh" -nt "$initrd" ]; then
		"$here/initramfs.sh" "$kdir" "$initrd" || {
			total_f=$((total_f + 1)); echo "FAIL $kver/initramfs: cannot build it"; continue; }
	fi
	cat >"$out/job.env" <<-JOB
	PM_TREE='$tree'
	PM_KDIR='$kdir'
	PM_KVER='$kver'
	PM_PATTERN='$pattern'
	PM_TIMEOUT=$((minutes * 60 - 120))
	JOB
	echo "== kernel $kver (${kdir##*/}, QEMU TCG, -smp 2 -m 4G)${pattern:+, tests matching $pattern}"
	start=$(date +%s)
	timeout -k 10 $((minutes * 60)) qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m 4G -machine q35 \
		-kernel "$kdir/boot/vmlinuz-$kver" -initrd "$initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4 rdinit=/init" \
		-display none -monitor none -serial "file:$out/console.log" \
		-no-reboot -nic none \
		-fsdev "local,id=pmroot,path=/,security_model=none,readonly=on,multidevs=remap" \
		-device virtio-9p-pci,fsdev=pmroot,mount_tag=pmroot \
		-fsdev "local,id=pmout,path=$out,security_model=none,multidevs=remap" \
		-device virtio-9p-pci,fsdev=pmout,mount_tag=pmout \
		>"$out/qemu.log" 2>&1
	qrc=$?
	secs=$(( $(date +%s) - start ))
	if [ ! -e "$out/rc" ]; then
		why="the guest did not finish"
		[ $qrc -eq 124 ] && why="timed out after $minutes min"
		[ -e "$out/init-failed" ] && why="guest init: $(cat "$out/init-failed")"
		echo "FAIL $kver/boot: $why (qemu status $qrc; see $out/console.log)"
		tail -n 5 "$out/console.log" 2>/dev/null | sed 's/^/   /'
		total_f=$((total_f + 1))
		[ -e "$out/run.log" ] && sed -n 's/^\(PASS\|FAIL\|SKIP\) /\1 '"$kver"'\//p' "$out/run.log"
		continue
	fi
	sed -e 's/^\(PASS\|FAIL\|SKIP\) /\1 '"$kver"'\//' \
	    -e '/^[0-9]* passed, [0-9]* failed, [0-9]* skipped$/d' "$out/run.log"
	p=$(grep -c '^PASS ' "$out/run.log") f=$(grep -c '^FAIL ' "$out/run.log") s=$(grep -c '^SKIP ' "$out/run.log")
	if [ "$(cat "$out/rc")" -eq 124 ]; then
		# cut short: the tests it did not reach are failures too
		echo "FAIL $kver/suite: timed out after $minutes min (the last test begun: $(grep '^== ' "$out/run.log" | tail -n 1 | cut -c4-))"
		f=$((f + 1))
	elif [ "$(cat "$out/rc")" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $kver/suite: tests/run.sh exited with status $(cat "$out/rc")"
		f=1
	fi
	echo "$kver: $p passed, $f failed, $s skipped (suite $(cat "$out/seconds")s, boot to power-off ${secs}s)"
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
done
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" -eq 0 ] && [ "$total_p" -gt 0 ]
